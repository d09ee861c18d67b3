// Conv (N-D up to 3 spatial dims, groups, dilations, pads, auto_pad), reference: each output
// plane is accumulated channel by channel and tap by tap, the inner loop running along the
// output row (contiguous for stride 1). Every output is summed in the same order whatever the
// thread count; threads split the (batch, output channel) planes.
#include "kernel_util.h"

namespace ew::rt {
namespace cpu {
namespace {

struct ConvGeom {
    int64_t N = 0, C = 0, M = 0, G = 1;
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
    int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
};

/// Fills g's spatial arrays (right-aligned into 3 dims) from the window params.
void fillGeom(ConvGeom& g, const WindowParams& w, std::span<const int64_t> in, std::span<const int64_t> out) {
    std::size_t n = w.kernel.size(), off = 3 - n;
    for (std::size_t i = 0; i < n; ++i) {
        g.in[off + i] = in[i];
        g.out[off + i] = out[i];
        g.k[off + i] = w.kernel[i];
        g.s[off + i] = w.strides[i];
        g.d[off + i] = w.dilations[i];
        g.p[off + i] = w.padBegin[i];
    }
}

/// [lo, hi) of output positions o for which o*s - p + t*d lies in [0, in).
inline void validRange(int64_t outN, int64_t inN, int64_t s, int64_t p, int64_t tap, int64_t& lo, int64_t& hi) {
    int64_t shift = tap - p; // input = o*s + shift
    lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
    hi = inN - shift <= 0 ? 0 : (inN - shift - 1) / s + 1;
    if (hi > outN) hi = outN;
    if (lo > hi) lo = hi;
}

template <typename T>
void convRun(const ConvGeom& g, const T* X, const T* W, const T* B, T* Y, ThreadPool& pool) {
    const int64_t cg = g.C / g.G, mg = g.M / g.G;
    const int64_t inPlane = g.in[0] * g.in[1] * g.in[2];
    const int64_t outPlane = g.out[0] * g.out[1] * g.out[2];
    const int64_t kSize = g.k[0] * g.k[1] * g.k[2];
    pool.parallelFor(0, g.N * g.M, 1, [&](int64_t b, int64_t e) {
        for (int64_t nm = b; nm < e; ++nm) {
            int64_t n = nm / g.M, m = nm % g.M, grp = m / mg;
            T* y = Y + nm * outPlane;
            T bias = B ? B[m] : T(0);
            for (int64_t i = 0; i < outPlane; ++i) y[i] = bias;
            for (int64_t c = 0; c < cg; ++c) {
                const T* x = X + (n * g.C + grp * cg + c) * inPlane;
                const T* w = W + (m * cg + c) * kSize;
                for (int64_t kd = 0; kd < g.k[0]; ++kd) {
                    int64_t d0, d1;
                    validRange(g.out[0], g.in[0], g.s[0], g.p[0], kd * g.d[0], d0, d1);
                    for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                        int64_t h0, h1;
                        validRange(g.out[1], g.in[1], g.s[1], g.p[1], kh * g.d[1], h0, h1);
                        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                            int64_t w0, w1;
                            validRange(g.out[2], g.in[2], g.s[2], g.p[2], kw * g.d[2], w0, w1);
                            const T wv = w[(kd * g.k[1] + kh) * g.k[2] + kw];
                            for (int64_t od = d0; od < d1; ++od) {
                                int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
                                for (int64_t oh = h0; oh < h1; ++oh) {
                                    int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
                                    T* yr = y + (od * g.out[1] + oh) * g.out[2];
                                    const T* xr = x + (id * g.in[1] + ih) * g.in[2] - g.p[2] + kw * g.d[2];
                                    if (g.s[2] == 1) {
                                        for (int64_t ow = w0; ow < w1; ++ow) yr[ow] += wv * xr[ow];
                                    } else {
                                        const int64_t sw = g.s[2];
                                        for (int64_t ow = w0; ow < w1; ++ow) yr[ow] += wv * xr[ow * sw];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    });
}

class ConvKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        if (x.rank() < 3 || x.rank() > 5 || w.rank() != x.rank())
            return ctx.error(StatusCode::Unsupported, "input " + dimsText(x.dims()) + " and weights " +
                                                          dimsText(w.dims()) + " (1 to 3 spatial dims)");
        if (w.dtype() != x.dtype() || (ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype()))
            return ctx.error(StatusCode::InvalidInput, "X, W and B must have the same type");
        std::size_t sp = x.rank() - 2;
        EW_TRY(readWindow(ctx.node(), sp, std::span<const int64_t>(w.dims()).subspan(2), m_win));
        ConvGeom g;
        g.N = x.dims()[0];
        g.C = x.dims()[1];
        g.M = w.dims()[0];
        g.G = ctx.node().attrInt("group", 1);
        if (g.G < 1 || g.C % g.G || g.M % g.G || w.dims()[1] * g.G != g.C)
            return ctx.error(StatusCode::InvalidInput, "channels " + std::to_string(g.C) + ", weights " +
                                                           dimsText(w.dims()) + " and group " + std::to_string(g.G) +
                                                           " do not agree");
        if (ctx.hasInput(2) && ctx.input(2).numElements() != g.M)
            return ctx.error(StatusCode::InvalidInput, "bias must have " + std::to_string(g.M) + " elements");
        std::span<const int64_t> in = std::span<const int64_t>(x.dims()).subspan(2);
        if (!windowOutput(m_win, in, m_outSpatial))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input " + dimsText(x.dims()));
        fillGeom(g, m_win, in, m_outSpatial);
        m_geom = g;
        m_outDims = {g.N, g.M};
        m_outDims.insert(m_outDims.end(), m_outSpatial.begin(), m_outSpatial.end());
        m_fn = nullptr;
        dispatch<float, double>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const ConvGeom& g, const void* X, const void* W, const void* B, void* Y, ThreadPool& p) {
                convRun<T>(g, static_cast<const T*>(X), static_cast<const T*>(W), static_cast<const T*>(B),
                           static_cast<T*>(Y), p);
            };
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_outDims);
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(m_geom, ctx.input(0).raw(), ctx.input(1).raw(), ctx.hasInput(2) ? ctx.input(2).raw() : nullptr,
             ctx.output(0).raw(), ctx.pool());
    }

private:
    WindowParams m_win;
    ConvGeom m_geom;
    std::vector<int64_t> m_outSpatial, m_outDims;
    void (*m_fn)(const ConvGeom&, const void*, const void*, const void*, void*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeConv() { return std::make_unique<cpu::ConvKernel>(); }

} // namespace ew::rt
