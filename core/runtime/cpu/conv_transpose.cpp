// ConvTranspose (N-D up to 3 spatial dims, groups, dilations, pads, output_padding,
// output_shape, auto_pad). Reference scatter: each output channel plane is owned by one task and
// accumulated input channel by input channel, tap by tap, in a fixed order.
#include "kernel_util.h"
#include "sgemm.h"

namespace ew::rt {
namespace cpu {
namespace {

struct Geom {
    int64_t N = 0, C = 0, M = 0, G = 1;
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
    int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
};


template <typename T>
void convTransposeRun(const Geom& g, const T* X, const T* W, const T* B, T* Y, ThreadPool& pool) {
    const int64_t cg = g.C / g.G, mg = g.M / g.G;
    const int64_t inPlane = g.in[0] * g.in[1] * g.in[2];
    const int64_t outPlane = g.out[0] * g.out[1] * g.out[2];
    const int64_t kSize = g.k[0] * g.k[1] * g.k[2];
    pool.parallelFor(0, g.N * g.M, 1, [&](int64_t b, int64_t e) {
        for (int64_t nm = b; nm < e; ++nm) {
            int64_t n = nm / g.M, m = nm % g.M, grp = m / mg, ml = m % mg;
            T* y = Y + nm * outPlane;
            T bias = B ? B[m] : T(0);
            for (int64_t i = 0; i < outPlane; ++i) y[i] = bias;
            for (int64_t c = 0; c < cg; ++c) {
                int64_t ci = grp * cg + c;
                const T* x = X + (n * g.C + ci) * inPlane;
                const T* w = W + (ci * mg + ml) * kSize;
                for (int64_t kd = 0; kd < g.k[0]; ++kd) {
                    int64_t d0, d1;
                    stridedTapRange(g.in[0], g.out[0], g.s[0], g.p[0], kd * g.d[0], d0, d1);
                    for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                        int64_t h0, h1;
                        stridedTapRange(g.in[1], g.out[1], g.s[1], g.p[1], kh * g.d[1], h0, h1);
                        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                            int64_t w0, w1;
                            stridedTapRange(g.in[2], g.out[2], g.s[2], g.p[2], kw * g.d[2], w0, w1);
                            const T wv = w[(kd * g.k[1] + kh) * g.k[2] + kw];
                            for (int64_t id = d0; id < d1; ++id) {
                                int64_t od = id * g.s[0] - g.p[0] + kd * g.d[0];
                                for (int64_t ih = h0; ih < h1; ++ih) {
                                    int64_t oh = ih * g.s[1] - g.p[1] + kh * g.d[1];
                                    T* yr = y + (od * g.out[1] + oh) * g.out[2] - g.p[2] + kw * g.d[2];
                                    const T* xr = x + (id * g.in[1] + ih) * g.in[2];
                                    const int64_t sw = g.s[2];
                                    for (int64_t iw = w0; iw < w1; ++iw) yr[iw * sw] += wv * xr[iw];
                                }
                            }
                        }
                    }
                }
            }
        }
    });
}

/// Fast float 2-D path (group 1): col[M*KH*KW, H*W] = W^T x X with the packed SGEMM (weights
/// packed once), then col2im adds each column into the output; threads split output channels,
/// so every output element is summed in the same order whatever the thread count.
void convTransposeFast(const Geom& g, const PackedMatrix& wt, const float* X, const float* B, float* Y,
                       float* col, ThreadPool& pool) {
    const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
    const int64_t KH = g.k[1], KW = g.k[2];
    const int64_t hw = H * W;
    Epilogue none;
    for (int64_t n = 0; n < g.N; ++n) {
        sgemm(wt, X + n * g.C * hw, hw, false, hw, col, hw, none, pool);
        float* y = Y + n * g.M * OH * OW;
        pool.parallelFor(0, g.M, 1, [&](int64_t m0, int64_t m1) {
            for (int64_t m = m0; m < m1; ++m) {
                float* ym = y + m * OH * OW;
                const float b = B ? B[m] : 0.f;
                for (int64_t i = 0; i < OH * OW; ++i) ym[i] = b;
                for (int64_t i = 0; i < KH; ++i)
                    for (int64_t j = 0; j < KW; ++j) {
                        const float* c = col + ((m * KH + i) * KW + j) * hw;
                        int64_t h0, h1, w0, w1;
                        stridedTapRange(H, OH, g.s[1], g.p[1], i * g.d[1], h0, h1);
                        stridedTapRange(W, OW, g.s[2], g.p[2], j * g.d[2], w0, w1);
                        for (int64_t h = h0; h < h1; ++h) {
                            float* yr = ym + (h * g.s[1] - g.p[1] + i * g.d[1]) * OW - g.p[2] + j * g.d[2];
                            const float* cr = c + h * W;
                            if (g.s[2] == 1)
                                for (int64_t w = w0; w < w1; ++w) yr[w] += cr[w];
                            else
                                for (int64_t w = w0; w < w1; ++w) yr[w * g.s[2]] += cr[w];
                        }
                    }
            }
        });
    }
}

class ConvTransposeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const Tensor* w = ctx.constantInput(1);
        if (w && w->dtype() == DataType::Float && w->rank() == 4 && ctx.node().attrInt("group", 1) == 1 &&
            !preferReferenceKernels()) {
            // W is [C, M, KH, KW]: A = W^T, rows (m, i, j), depth C.
            const int64_t c = w->dims()[0], mkk = w->dims()[1] * w->dims()[2] * w->dims()[3];
            m_packed = PackedMatrix::pack(w->data<float>(), mkk, c, mkk, true);
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        const ir::Node& node = ctx.node();
        if (x.rank() < 3 || x.rank() > 5 || w.rank() != x.rank())
            return ctx.error(StatusCode::Unsupported, "input " + dimsText(x.dims()) + " and weights " +
                                                          dimsText(w.dims()) + " (1 to 3 spatial dims)");
        if (w.dtype() != x.dtype() || (ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype()))
            return ctx.error(StatusCode::InvalidInput, "X, W and B must have the same type");
        std::size_t sp = x.rank() - 2;
        WindowParams win;
        EW_TRY(readWindow(node, sp, std::span<const int64_t>(w.dims()).subspan(2), win));
        Geom g;
        g.N = x.dims()[0];
        g.C = x.dims()[1];
        g.G = node.attrInt("group", 1);
        if (g.G < 1 || g.C % g.G || w.dims()[0] != g.C)
            return ctx.error(StatusCode::InvalidInput, "channels, weights and group do not agree");
        g.M = w.dims()[1] * g.G;
        if (ctx.hasInput(2) && ctx.input(2).numElements() != g.M)
            return ctx.error(StatusCode::InvalidInput, "bias must have " + std::to_string(g.M) + " elements");
        std::vector<int64_t> outPad = node.attrInts("output_padding", std::vector<int64_t>(sp, 0));
        std::vector<int64_t> outShape = node.attrInts("output_shape");
        if (outPad.size() != sp || (!outShape.empty() && outShape.size() != sp))
            return ctx.error(StatusCode::InvalidInput, "output_padding/output_shape do not match the spatial rank");
        std::vector<int64_t> out(sp);
        bool same = win.autoPad == "SAME_UPPER" || win.autoPad == "SAME_LOWER";
        for (std::size_t i = 0; i < sp; ++i) {
            int64_t in = x.dims()[2 + i];
            int64_t ek = (win.kernel[i] - 1) * win.dilations[i] + 1;
            if (!outShape.empty() || same) {
                out[i] = !outShape.empty() ? outShape[i] : in * win.strides[i];
                int64_t total = win.strides[i] * (in - 1) + outPad[i] + ek - out[i];
                if (total < 0) total = 0;
                if (win.autoPad == "SAME_UPPER") {
                    win.padBegin[i] = total / 2;
                    win.padEnd[i] = total - total / 2;
                } else {
                    win.padBegin[i] = total - total / 2;
                    win.padEnd[i] = total / 2;
                }
            } else {
                if (win.autoPad == "VALID") win.padBegin[i] = win.padEnd[i] = 0;
                out[i] = win.strides[i] * (in - 1) + outPad[i] + ek - win.padBegin[i] - win.padEnd[i];
            }
            if (out[i] < 1) return ctx.error(StatusCode::InvalidInput, "output size would be < 1");
        }
        std::size_t off = 3 - sp;
        for (std::size_t i = 0; i < sp; ++i) {
            g.in[off + i] = x.dims()[2 + i];
            g.out[off + i] = out[i];
            g.k[off + i] = win.kernel[i];
            g.s[off + i] = win.strides[i];
            g.d[off + i] = win.dilations[i];
            g.p[off + i] = win.padBegin[i];
        }
        m_geom = g;
        m_outDims = {g.N, g.M};
        m_outDims.insert(m_outDims.end(), out.begin(), out.end());
        m_fast = !m_packed.empty() && x.dtype() == DataType::Float && sp == 2 && g.G == 1;
        if (m_fast) {
            ctx.setScratchBytes(static_cast<std::size_t>(m_packed.rows() * g.in[1] * g.in[2]) * sizeof(float));
            ctx.setOutput(0, x.dtype(), m_outDims);
            return {};
        }
        m_fn = nullptr;
        dispatch<float, double>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const Geom& g, const void* X, const void* W, const void* B, void* Y, ThreadPool& p) {
                convTransposeRun<T>(g, static_cast<const T*>(X), static_cast<const T*>(W),
                                    static_cast<const T*>(B), static_cast<T*>(Y), p);
            };
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_outDims);
        return {};
    }
    void run(RunContext& ctx) override {
        if (m_fast) {
            convTransposeFast(m_geom, m_packed, ctx.input(0).data<float>(),
                              ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr, ctx.output(0).data<float>(),
                              reinterpret_cast<float*>(ctx.scratch()), ctx.pool());
            return;
        }
        m_fn(m_geom, ctx.input(0).raw(), ctx.input(1).raw(), ctx.hasInput(2) ? ctx.input(2).raw() : nullptr,
             ctx.output(0).raw(), ctx.pool());
    }

private:
    PackedMatrix m_packed;
    bool m_fast = false;
    Geom m_geom;
    std::vector<int64_t> m_outDims;
    void (*m_fn)(const Geom&, const void*, const void*, const void*, void*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeConvTranspose() { return std::make_unique<cpu::ConvTransposeKernel>(); }

} // namespace ew::rt
