// MaxPool (with the optional Indices output), AveragePool (count_include_pad, ceil_mode,
// dilations), GlobalAveragePool, GlobalMaxPool; 1 to 3 spatial dims. Threads split the
// (batch, channel) planes.
#include "kernel_util.h"

#include <limits>
#include <vector>

namespace ew::rt {
namespace cpu {
namespace {

struct PoolGeom {
    int64_t planes = 0;
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
    int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
    bool includePad = false;
    bool columnMajor = false; ///< MaxPool storage_order = 1
};

enum class PoolKind { Max, Average };

/// Float 2-D max pooling without indices or dilation: each padded input row is split into
/// `stride` phases (-inf outside the input), so every tap is a contiguous, vectorized max over
/// the output row. Same results as the general loop (max is exact).
void maxPool2dFloat(const PoolGeom& g, const float* X, float* Y, ThreadPool& pool) {
    const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
    const int64_t KH = g.k[1], KW = g.k[2], sh = g.s[1], sw = g.s[2];
    const int64_t paddedW = (OW - 1) * sw + KW;
    const int64_t phaseLen = (paddedW + sw - 1) / sw;
    const float ninf = -std::numeric_limits<float>::infinity();
    pool.parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
        thread_local std::vector<float> buf;
        const std::size_t need = static_cast<std::size_t>(KH * sw * phaseLen + OW);
        if (buf.size() < need) buf.resize(need);
        float* rows = buf.data();
        float* acc = rows + KH * sw * phaseLen;
        for (int64_t pl = b; pl < e; ++pl) {
            const float* x = X + pl * H * W;
            float* y = Y + pl * OH * OW;
            for (int64_t oh = 0; oh < OH; ++oh) {
                for (int64_t o = 0; o < OW; ++o) acc[o] = ninf;
                bool any = false;
                for (int64_t i = 0; i < KH; ++i) {
                    const int64_t ih = oh * sh - g.pb[1] + i;
                    if (ih < 0 || ih >= H) continue;
                    any = true;
                    float* row = rows + i * sw * phaseLen;
                    const float* xr = x + ih * W;
                    for (int64_t p = 0; p < sw; ++p) {
                        float* ph = row + p * phaseLen;
                        int64_t ix = p - g.pb[2];
                        for (int64_t u = 0; u < phaseLen; ++u, ix += sw) ph[u] = (ix >= 0 && ix < W) ? xr[ix] : ninf;
                    }
                    for (int64_t j = 0; j < KW; ++j) {
                        const float* src = row + (j % sw) * phaseLen + j / sw;
                        for (int64_t o = 0; o < OW; ++o) acc[o] = src[o] > acc[o] ? src[o] : acc[o];
                    }
                }
                float* yr = y + oh * OW;
                for (int64_t o = 0; o < OW; ++o) yr[o] = any ? acc[o] : std::numeric_limits<float>::lowest();
            }
        }
    });
}

template <PoolKind Kind, typename T>
void poolRun(const PoolGeom& g, const T* X, T* Y, int64_t* I, ThreadPool& pool) {
    using C = Compute<T>;
    if constexpr (Kind == PoolKind::Max && std::is_same_v<T, float>) {
        if (!I && g.in[0] == 1 && g.k[0] == 1 && g.d[1] == 1 && g.d[2] == 1) {
            maxPool2dFloat(g, X, Y, pool);
            return;
        }
    }
    const int64_t inPlane = g.in[0] * g.in[1] * g.in[2];
    const int64_t outPlane = g.out[0] * g.out[1] * g.out[2];
    pool.parallelFor(0, g.planes, 1, [&](int64_t b, int64_t e) {
        for (int64_t pl = b; pl < e; ++pl) {
            const T* x = X + pl * inPlane;
            T* y = Y + pl * outPlane;
            for (int64_t od = 0; od < g.out[0]; ++od)
                for (int64_t oh = 0; oh < g.out[1]; ++oh)
                    for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                        int64_t start[3] = {od * g.s[0] - g.pb[0], oh * g.s[1] - g.pb[1], ow * g.s[2] - g.pb[2]};
                        C best = std::numeric_limits<C>::lowest();
                        int64_t bestIdx = -1;
                        C sum = C(0);
                        int64_t valid = 0, padded = 1;
                        for (int dim = 0; dim < 3; ++dim) {
                            int64_t cnt = 0;
                            for (int64_t t = 0; t < g.k[dim]; ++t)
                                if (start[dim] + t * g.d[dim] < g.in[dim] + g.pe[dim]) ++cnt;
                            padded *= cnt;
                        }
                        for (int64_t td = 0; td < g.k[0]; ++td) {
                            int64_t id = start[0] + td * g.d[0];
                            if (id < 0 || id >= g.in[0]) continue;
                            for (int64_t th = 0; th < g.k[1]; ++th) {
                                int64_t ih = start[1] + th * g.d[1];
                                if (ih < 0 || ih >= g.in[1]) continue;
                                for (int64_t tw = 0; tw < g.k[2]; ++tw) {
                                    int64_t iw = start[2] + tw * g.d[2];
                                    if (iw < 0 || iw >= g.in[2]) continue;
                                    int64_t idx = (id * g.in[1] + ih) * g.in[2] + iw;
                                    C v = load(x[idx]);
                                    if constexpr (Kind == PoolKind::Max) {
                                        if (v > best || bestIdx < 0) {
                                            best = v;
                                            bestIdx = g.columnMajor ? (iw * g.in[1] + ih) * g.in[0] + id : idx;
                                        }
                                    } else {
                                        sum += v;
                                        ++valid;
                                    }
                                }
                            }
                        }
                        int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
                        if constexpr (Kind == PoolKind::Max) {
                            y[o] = store<T>(best);
                            if (I) I[pl * outPlane + o] = pl * inPlane + bestIdx;
                        } else {
                            int64_t cnt = g.includePad ? padded : valid;
                            y[o] = store<T>(cnt ? sum / static_cast<C>(cnt) : C(0));
                        }
                    }
        }
    });
}

template <PoolKind Kind>
class PoolKernel final : public Kernel {
public:
    explicit PoolKernel(bool global) : m_global(global) {}
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 3 || x.rank() > 5)
            return ctx.error(StatusCode::Unsupported, "input " + dimsText(x.dims()) + " (1 to 3 spatial dims)");
        std::size_t sp = x.rank() - 2;
        std::span<const int64_t> in = std::span<const int64_t>(x.dims()).subspan(2);
        WindowParams win;
        std::vector<int64_t> out;
        if (m_global) {
            win.kernel.assign(in.begin(), in.end());
            win.strides.assign(sp, 1);
            win.dilations.assign(sp, 1);
            win.padBegin.assign(sp, 0);
            win.padEnd.assign(sp, 0);
            out.assign(sp, 1);
        } else {
            EW_TRY(readWindow(ctx.node(), sp, {}, win));
            if (ctx.node().attrInt("storage_order", 0) != 0 && sp != 2 && ctx.hasOutput(1))
                return ctx.error(StatusCode::Unsupported, "storage_order=1 needs 2 spatial dims");
            if (!windowOutput(win, in, out))
                return ctx.error(StatusCode::InvalidInput, "window larger than the padded input " + dimsText(x.dims()));
        }
        PoolGeom g;
        g.planes = x.dims()[0] * x.dims()[1];
        std::size_t off = 3 - sp;
        for (std::size_t i = 0; i < sp; ++i) {
            g.in[off + i] = in[i];
            g.out[off + i] = out[i];
            g.k[off + i] = win.kernel[i];
            g.s[off + i] = win.strides[i];
            g.d[off + i] = win.dilations[i];
            g.pb[off + i] = win.padBegin[i];
            g.pe[off + i] = win.padEnd[i];
        }
        g.includePad = ctx.node().attrInt("count_include_pad", 0) != 0;
        g.columnMajor = ctx.node().attrInt("storage_order", 0) != 0;
        m_geom = g;
        m_outDims = {x.dims()[0], x.dims()[1]};
        m_outDims.insert(m_outDims.end(), out.begin(), out.end());
        m_fn = nullptr;
        auto set = [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const PoolGeom& g, const void* X, void* Y, int64_t* I, ThreadPool& p) {
                poolRun<Kind, T>(g, static_cast<const T*>(X), static_cast<T*>(Y), I, p);
            };
        };
        if constexpr (Kind == PoolKind::Max) dispatch<EW_FLOAT_TYPES, int8_t, uint8_t>(x.dtype(), set);
        else dispatch<EW_FLOAT_TYPES>(x.dtype(), set);
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_outDims);
        ctx.setOutput(1, DataType::Int64, m_outDims);
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(m_geom, ctx.input(0).raw(), ctx.output(0).raw(),
             ctx.hasOutput(1) ? ctx.output(1).data<int64_t>() : nullptr, ctx.pool());
    }

private:
    bool m_global;
    PoolGeom m_geom;
    std::vector<int64_t> m_outDims;
    void (*m_fn)(const PoolGeom&, const void*, void*, int64_t*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

using cpu::PoolKind;
std::unique_ptr<Kernel> makeMaxPool() { return std::make_unique<cpu::PoolKernel<PoolKind::Max>>(false); }
std::unique_ptr<Kernel> makeAveragePool() { return std::make_unique<cpu::PoolKernel<PoolKind::Average>>(false); }
std::unique_ptr<Kernel> makeGlobalAveragePool() { return std::make_unique<cpu::PoolKernel<PoolKind::Average>>(true); }
std::unique_ptr<Kernel> makeGlobalMaxPool() { return std::make_unique<cpu::PoolKernel<PoolKind::Max>>(true); }

} // namespace ew::rt
