// DeformConv (opset 19, 2-D): a grouped convolution whose kernel taps sample X at learned
// fractional offsets. offset is [N, offset_group * kH * kW * 2, oH, oW] with (dh, dw) pairs per
// tap; the optional mask [N, offset_group * kH * kW, oH, oW] scales each sample. Samples are
// bilinear; corners outside X read zero, and a point at or beyond one pixel outside reads zero.
#include "nn_util.h"

namespace ew::rt {
namespace cpu {
namespace {

class DeformConvKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_group = ctx.node().attrInt("group", 1);
        m_offGroup = ctx.node().attrInt("offset_group", 1);
        if (m_group < 1 || m_offGroup < 1)
            return ctx.error(StatusCode::InvalidInput, "group and offset_group must be >= 1");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        const Tensor& off = ctx.input(2);
        if (x.rank() != 4 || w.rank() != 4)
            return ctx.error(StatusCode::Unsupported,
                             "only 2-D deformable convolution is supported");
        WindowParams wp;
        if (auto r = readWindow(ctx.node(), 2, std::span<const int64_t>(w.dims()).subspan(2), wp);
            !r)
            return r;
        std::vector<int64_t> out;
        if (!windowOutput(wp, std::span<const int64_t>(x.dims()).subspan(2), out))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_H = x.dims()[2];
        m_W = x.dims()[3];
        m_M = w.dims()[0];
        m_kh = wp.kernel[0];
        m_kw = wp.kernel[1];
        if (w.dims()[2] != m_kh || w.dims()[3] != m_kw)
            return ctx.error(StatusCode::InvalidInput, "kernel_shape does not match W");
        m_sh = wp.strides[0];
        m_sw = wp.strides[1];
        m_dh = wp.dilations[0];
        m_dw = wp.dilations[1];
        m_ph = wp.padBegin[0];
        m_pw = wp.padBegin[1];
        m_oh = out[0];
        m_ow = out[1];
        if (m_C % m_group || m_M % m_group || w.dims()[1] != m_C / m_group || m_C % m_offGroup)
            return ctx.error(StatusCode::InvalidInput,
                             "channels do not match group / offset_group");
        const int64_t taps = m_kh * m_kw;
        if (off.dims() != std::vector<int64_t>{m_N, m_offGroup * taps * 2, m_oh, m_ow})
            return ctx.error(
                StatusCode::InvalidInput,
                "offset " + dimsText(off.dims()) + " must be " +
                    dimsText(std::vector<int64_t>{m_N, m_offGroup * taps * 2, m_oh, m_ow}));
        if (ctx.hasInput(3) && ctx.input(3).numElements() != m_M)
            return ctx.error(StatusCode::InvalidInput,
                             "B must have " + std::to_string(m_M) + " elements");
        if (ctx.hasInput(4) &&
            ctx.input(4).dims() != std::vector<int64_t>{m_N, m_offGroup * taps, m_oh, m_ow})
            return ctx.error(StatusCode::InvalidInput,
                             "mask must be [N, offset_group * kH * kW, oH, oW]");
        for (std::size_t i = 1; i < 5; ++i)
            if (ctx.hasInput(i) && ctx.input(i).dtype() != x.dtype())
                return ctx.error(StatusCode::InvalidInput, "all inputs must have X's type");
        if (!nn::selectFloat<DeformConvKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), {m_N, m_M, m_oh, m_ow});
        // Sampled columns per (n, output pixel): [C * kH * kW].
        ctx.setScratchBytes(static_cast<std::size_t>(m_N * m_oh * m_ow * m_C * taps) *
                            sizeof(double));
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* X = ctx.input(0).data<T>();
        const T* Wt = ctx.input(1).data<T>();
        const T* Off = ctx.input(2).data<T>();
        const T* Bias = ctx.hasInput(3) ? ctx.input(3).data<T>() : nullptr;
        const T* Mask = ctx.hasInput(4) ? ctx.input(4).data<T>() : nullptr;
        T* Y = ctx.output(0).data<T>();
        double* cols = reinterpret_cast<double*>(ctx.scratch());
        const int64_t taps = m_kh * m_kw, plane = m_oh * m_ow, cpo = m_C / m_offGroup;
        const int64_t colLen = m_C * taps;
        // Phase 1: sample the deformed columns, one task per (n, output pixel).
        ctx.pool().parallelFor(0, m_N * plane, chunkRows(colLen * 4), [&](int64_t b, int64_t e) {
            for (int64_t np = b; np < e; ++np) {
                const int64_t n = np / plane, p = np % plane, oy = p / m_ow, ox = p % m_ow;
                double* col = cols + np * colLen;
                for (int64_t c = 0; c < m_C; ++c) {
                    const int64_t g = c / cpo;
                    const T* xp = X + (n * m_C + c) * m_H * m_W;
                    for (int64_t k = 0; k < taps; ++k) {
                        const int64_t ki = k / m_kw, kj = k % m_kw;
                        const int64_t oc = ((n * m_offGroup + g) * taps + k) * 2;
                        double dy = load(Off[oc * plane + p]), dx = load(Off[(oc + 1) * plane + p]);
                        double y = static_cast<double>(oy * m_sh - m_ph + ki * m_dh) + dy;
                        double x = static_cast<double>(ox * m_sw - m_pw + kj * m_dw) + dx;
                        double v = bilinear(xp, y, x);
                        if (Mask)
                            v *= static_cast<double>(
                                load(Mask[((n * m_offGroup + g) * taps + k) * plane + p]));
                        col[c * taps + k] = v;
                    }
                }
            }
        });
        // Phase 2: grouped dot products.
        const int64_t cg = m_C / m_group, mg = m_M / m_group;
        ctx.pool().parallelFor(0, m_N * m_M, 1, [&](int64_t b, int64_t e) {
            for (int64_t nm = b; nm < e; ++nm) {
                const int64_t n = nm / m_M, m = nm % m_M, g = m / mg;
                const T* wr = Wt + m * cg * taps;
                const double bias = Bias ? static_cast<double>(load(Bias[m])) : 0.0;
                for (int64_t p = 0; p < plane; ++p) {
                    const double* col = cols + (n * plane + p) * colLen + g * cg * taps;
                    double acc = bias;
                    for (int64_t i = 0; i < cg * taps; ++i)
                        acc += static_cast<double>(load(wr[i])) * col[i];
                    Y[nm * plane + p] = store<T>(acc);
                }
            }
        });
    }

  private:
    template <typename T> double bilinear(const T* xp, double y, double x) const {
        if (y <= -1 || y >= static_cast<double>(m_H) || x <= -1 || x >= static_cast<double>(m_W))
            return 0;
        const double fy = std::floor(y), fx = std::floor(x);
        const int64_t y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
        const double ly = y - fy, lx = x - fx;
        auto px = [&](int64_t yy, int64_t xx) {
            return yy >= 0 && yy < m_H && xx >= 0 && xx < m_W
                       ? static_cast<double>(load(xp[yy * m_W + xx]))
                       : 0.0;
        };
        return (1 - ly) * (1 - lx) * px(y0, x0) + (1 - ly) * lx * px(y0, x0 + 1) +
               ly * (1 - lx) * px(y0 + 1, x0) + ly * lx * px(y0 + 1, x0 + 1);
    }

    int64_t m_group = 1, m_offGroup = 1;
    int64_t m_N = 0, m_C = 0, m_H = 0, m_W = 0, m_M = 0, m_kh = 1, m_kw = 1, m_sh = 1, m_sw = 1,
            m_dh = 1, m_dw = 1;
    int64_t m_ph = 0, m_pw = 0, m_oh = 0, m_ow = 0;
    void (DeformConvKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeDeformConv() {
    return std::make_unique<cpu::DeformConvKernel>();
}

} // namespace ew::rt
