// LpPool ((sum |x|^p)^(1/p) over each window; padding adds nothing; 1 to 3 spatial dims,
// dilations and ceil_mode from opset 18) and MaxUnpool (scatter of X into zeros at the flat
// indices I; with an explicit output_shape the indices keep the meaning they have in the default
// unpooled shape and are re-placed at the same coordinates, as the ONNX reference does).
#include "nn_util.h"

namespace ew::rt {
namespace cpu {
namespace {

/// Spatial geometry padded to 3 dims (leading 1s).
struct Geom3 {
    int64_t planes = 0;
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
    int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0};
};

class LpPoolKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_p = ctx.node().attrInt("p", 2);
        if (m_p < 1) return ctx.error(StatusCode::InvalidInput, "p must be >= 1");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 3 || x.rank() > 5)
            return ctx.error(StatusCode::Unsupported,
                             "input " + dimsText(x.dims()) + " must have 1 to 3 spatial dims");
        std::size_t sp = x.rank() - 2;
        WindowParams w;
        if (auto r = readWindow(ctx.node(), sp, {}, w); !r) return r;
        std::vector<int64_t> out;
        std::span<const int64_t> in = std::span<const int64_t>(x.dims()).subspan(2);
        if (!windowOutput(w, in, out))
            return ctx.error(StatusCode::InvalidInput, "window larger than the padded input");
        Geom3 g;
        g.planes = x.dims()[0] * x.dims()[1];
        std::size_t o = 3 - sp;
        for (std::size_t i = 0; i < sp; ++i) {
            g.in[o + i] = in[i];
            g.out[o + i] = out[i];
            g.k[o + i] = w.kernel[i];
            g.s[o + i] = w.strides[i];
            g.d[o + i] = w.dilations[i];
            g.pb[o + i] = w.padBegin[i];
        }
        m_g = g;
        if (!nn::selectFloat<LpPoolKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        std::vector<int64_t> dims{x.dims()[0], x.dims()[1]};
        dims.insert(dims.end(), out.begin(), out.end());
        ctx.setOutput(0, x.dtype(), dims);
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const Geom3& g = m_g;
        const T* X = ctx.input(0).data<T>();
        T* Y = ctx.output(0).data<T>();
        const int64_t inPlane = g.in[0] * g.in[1] * g.in[2],
                      outPlane = g.out[0] * g.out[1] * g.out[2];
        const double p = static_cast<double>(m_p);
        ctx.pool().parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
            for (int64_t pl = b; pl < e; ++pl) {
                const T* x = X + pl * inPlane;
                T* y = Y + pl * outPlane;
                for (int64_t od = 0; od < g.out[0]; ++od)
                    for (int64_t oh = 0; oh < g.out[1]; ++oh)
                        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                            double sum = 0;
                            for (int64_t td = 0; td < g.k[0]; ++td) {
                                int64_t id = od * g.s[0] - g.pb[0] + td * g.d[0];
                                if (id < 0 || id >= g.in[0]) continue;
                                for (int64_t th = 0; th < g.k[1]; ++th) {
                                    int64_t ih = oh * g.s[1] - g.pb[1] + th * g.d[1];
                                    if (ih < 0 || ih >= g.in[1]) continue;
                                    for (int64_t tw = 0; tw < g.k[2]; ++tw) {
                                        int64_t iw = ow * g.s[2] - g.pb[2] + tw * g.d[2];
                                        if (iw < 0 || iw >= g.in[2]) continue;
                                        double v = std::abs(static_cast<double>(
                                            load(x[(id * g.in[1] + ih) * g.in[2] + iw])));
                                        sum += m_p == 1 ? v : m_p == 2 ? v * v : std::pow(v, p);
                                    }
                                }
                            }
                            double r = m_p == 1   ? sum
                                       : m_p == 2 ? std::sqrt(sum)
                                                  : std::pow(sum, 1.0 / p);
                            y[(od * g.out[1] + oh) * g.out[2] + ow] = store<T>(r);
                        }
            }
        });
    }

  private:
    int64_t m_p = 2;
    Geom3 m_g;
    void (LpPoolKernel::*m_fn)(RunContext&) = nullptr;
};

class MaxUnpoolKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_dynamic = ctx.hasInput(2) && !ctx.constantInput(2);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        if (x.rank() < 3)
            return ctx.error(StatusCode::InvalidInput, "input must have spatial dims");
        if (idx.dtype() != DataType::Int64 || idx.dims() != x.dims())
            return ctx.error(StatusCode::InvalidInput, "I must be int64 with X's shape");
        std::size_t sp = x.rank() - 2;
        WindowParams w;
        if (auto r = readWindow(ctx.node(), sp, {}, w); !r) return r;
        m_default.assign(x.dims().begin(), x.dims().end());
        for (std::size_t i = 0; i < sp; ++i)
            m_default[2 + i] =
                (x.dims()[2 + i] - 1) * w.strides[i] + w.kernel[i] - w.padBegin[i] - w.padEnd[i];
        m_out = m_default;
        if (ctx.hasInput(2)) {
            readInts(ctx.input(2), m_out);
            if (m_out.size() != x.rank())
                return ctx.error(StatusCode::InvalidInput,
                                 "output_shape must have " + std::to_string(x.rank()) + " entries");
        }
        for (int64_t d : m_out)
            if (d < 0) return ctx.error(StatusCode::InvalidInput, "negative output dim");
        m_width = elementSize(x.dtype());
        if (!isMovable(x.dtype()))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_out);
        return {};
    }
    bool dataDependentShapes() const override { return m_dynamic; }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const int64_t* I = ctx.input(1).data<int64_t>();
        Tensor& y = ctx.output(0);
        std::memset(y.raw(), 0, y.byteSize());
        const int64_t total = numElementsOf(m_default), outTotal = y.numElements();
        const bool same = m_out == m_default;
        const std::size_t r = m_default.size();
        for (int64_t i = 0; i < x.numElements(); ++i) {
            int64_t flat = I[i];
            if (flat < 0 || flat >= total) continue;
            int64_t dst = flat;
            if (!same) {
                // Coordinates in the default shape, re-placed in the requested one.
                int64_t rem = flat, mul = 1;
                dst = 0;
                bool inside = true;
                for (std::size_t d = r; d-- > 0;) {
                    int64_t c = rem % m_default[d];
                    rem /= m_default[d];
                    if (c >= m_out[d]) inside = false;
                    dst += c * mul;
                    mul *= m_out[d];
                }
                if (!inside) continue;
            }
            if (dst >= outTotal) continue;
            std::memcpy(y.raw() + dst * m_width, x.raw() + i * m_width, m_width);
        }
    }

  private:
    std::vector<int64_t> m_default, m_out;
    std::size_t m_width = 4;
    bool m_dynamic = false;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeLpPool() {
    return std::make_unique<cpu::LpPoolKernel>();
}
std::unique_ptr<Kernel> makeMaxUnpool() {
    return std::make_unique<cpu::MaxUnpoolKernel>();
}

} // namespace ew::rt
