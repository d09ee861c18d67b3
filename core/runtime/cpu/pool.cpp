// MaxPool (with the optional Indices output), AveragePool (count_include_pad, ceil_mode,
// dilations), GlobalAveragePool, GlobalMaxPool; 1 to 3 spatial dims. Threads split the
// (batch, channel) planes.
#include "kernel_util.h"
#include "sgemm.h"

#include <algorithm>
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
    bool fast = true;         ///< false: the reference loop (tests compare both)
};

enum class PoolKind { Max, Average };

/// max(a, b) as the reference loop sees it (NaN in b is skipped).
inline float maxf(float a, float b) { return b > a ? b : a; }

/// Windows that tile the input exactly (kernel == stride, no padding, nothing left over: 2x2
/// stride 2 on even maps): output row r of the [planes * OH] rows reads input rows r*KH ..
/// r*KH + KH-1, which are contiguous across planes, so the whole tensor is one flat loop.
template <int KH, int KW>
void maxPoolTiled(const float* X, float* Y, int64_t rows, int64_t W, int64_t OW, ThreadPool& pool) {
    const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(OW, 1));
    pool.parallelFor(0, rows, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const float* x = X + r * KH * W;
            float* y = Y + r * OW;
            for (int64_t o = 0; o < OW; ++o) {
                float m = x[o * KW];
                for (int i = 0; i < KH; ++i)
                    for (int j = 0; j < KW; ++j) m = maxf(m, x[i * W + o * KW + j]);
                y[o] = m;
            }
        }
    });
}

/// Horizontal taps over a padded row: acc[o] = max_j v[o*SW + j] (SW 0 = runtime stride).
template <int SW>
void horizontalMax(const float* v, int64_t OW, int64_t KW, int64_t sw, float* out) {
    const int64_t s = SW ? SW : sw;
    for (int64_t o = 0; o < OW; ++o) out[o] = v[o * s];
    for (int64_t j = 1; j < KW; ++j)
        for (int64_t o = 0; o < OW; ++o) out[o] = maxf(out[o], v[o * s + j]);
}

/// Float 2-D max pooling without indices or dilation. Exact tilings take maxPoolTiled; otherwise
/// each output row first takes the vertical max of its valid input rows into a row padded with
/// -inf (contiguous, vectorized), then the horizontal taps. Same results as the general loop
/// (max is exact; a window with no valid element gives lowest(), as there).
void maxPool2dFloat(const PoolGeom& g, const float* X, float* Y, ThreadPool& pool) {
    const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
    const int64_t KH = g.k[1], KW = g.k[2], sh = g.s[1], sw = g.s[2];
    const int64_t pt = g.pb[1], pl = g.pb[2];
    if (pt == 0 && pl == 0 && KH == sh && KW == sw && H == OH * sh && W == OW * sw) {
        if (KH == 2 && KW == 2) return maxPoolTiled<2, 2>(X, Y, g.planes * OH, W, OW, pool);
        if (KH == 3 && KW == 3) return maxPoolTiled<3, 3>(X, Y, g.planes * OH, W, OW, pool);
    }
    const float ninf = -std::numeric_limits<float>::infinity();
    const float lowest = std::numeric_limits<float>::lowest();
    const int64_t paddedW = std::max((OW - 1) * sw + KW, pl + W);
    const int64_t outPlane = OH * OW;
    const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(OW, 1));
    pool.parallelFor(0, g.planes * OH, grain, [&](int64_t r0, int64_t r1) {
        thread_local std::vector<float> buf;
        const std::size_t need = static_cast<std::size_t>(paddedW);
        if (buf.size() < need) buf.resize(need);
        float* v = buf.data();
        for (int64_t u = 0; u < pl; ++u) v[u] = ninf;
        for (int64_t u = pl + W; u < paddedW; ++u) v[u] = ninf;
        float* vin = v + pl;
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t plane = r / OH, oh = r % OH;
            const float* x = X + plane * H * W;
            float* y = Y + plane * outPlane + oh * OW;
            const int64_t ih0 = std::max<int64_t>(0, oh * sh - pt), ih1 = std::min(H, oh * sh - pt + KH);
            if (ih0 >= ih1) {
                for (int64_t o = 0; o < OW; ++o) y[o] = lowest;
                continue;
            }
            const float* xr = x + ih0 * W;
            for (int64_t u = 0; u < W; ++u) vin[u] = xr[u];
            for (int64_t ih = ih0 + 1; ih < ih1; ++ih) {
                xr = x + ih * W;
                for (int64_t u = 0; u < W; ++u) vin[u] = maxf(vin[u], xr[u]);
            }
            if (sw == 1)
                horizontalMax<1>(v, OW, KW, sw, y);
            else if (sw == 2)
                horizontalMax<2>(v, OW, KW, sw, y);
            else
                horizontalMax<0>(v, OW, KW, sw, y);
            // Windows over padding only (at the edges) give lowest(), as the general loop does.
            for (int64_t o = 0; o < OW && o * sw + KW - 1 - pl < 0; ++o) y[o] = lowest;
            for (int64_t o = OW - 1; o >= 0 && o * sw - pl > W - 1; --o) y[o] = lowest;
        }
    });
}

/// One window covering the whole plane (GlobalAveragePool / GlobalMaxPool, or a pool whose
/// kernel is the map): a contiguous reduction per plane.
template <PoolKind Kind>
void globalPoolFloat(const PoolGeom& g, const float* X, float* Y, ThreadPool& pool) {
    const int64_t n = g.in[0] * g.in[1] * g.in[2];
    pool.parallelFor(0, g.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t p0, int64_t p1) {
        for (int64_t pl = p0; pl < p1; ++pl) {
            const float* x = X + pl * n;
            if constexpr (Kind == PoolKind::Max) {
                float m = x[0];
                for (int64_t i = 1; i < n; ++i) m = maxf(m, x[i]);
                Y[pl] = m;
            } else {
                // Eight partial sums (vectorizable), combined in a fixed order.
                float part[8] = {};
                int64_t i = 0;
                for (; i + 8 <= n; i += 8)
                    for (int k = 0; k < 8; ++k) part[k] += x[i + k];
                float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                for (; i < n; ++i) sum += x[i];
                Y[pl] = sum / static_cast<float>(n);
            }
        }
    });
}

template <PoolKind Kind, typename T>
void poolRun(const PoolGeom& g, const T* X, T* Y, int64_t* I, ThreadPool& pool) {
    using C = Compute<T>;
    if constexpr (std::is_same_v<T, float>) {
        const bool whole = g.out[0] == 1 && g.out[1] == 1 && g.out[2] == 1 && g.k[0] == g.in[0] &&
                           g.k[1] == g.in[1] && g.k[2] == g.in[2] && g.pb[0] == 0 && g.pb[1] == 0 && g.pb[2] == 0 &&
                           g.pe[0] == 0 && g.pe[1] == 0 && g.pe[2] == 0 && g.d[0] == 1 && g.d[1] == 1 && g.d[2] == 1;
        if (g.fast && !I && whole && g.in[0] * g.in[1] * g.in[2] > 0) {
            globalPoolFloat<Kind>(g, X, Y, pool);
            return;
        }
    }
    if constexpr (Kind == PoolKind::Max && std::is_same_v<T, float>) {
        if (g.fast && !I && g.in[0] == 1 && g.k[0] == 1 && g.d[1] == 1 && g.d[2] == 1) {
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
        g.fast = !preferReferenceKernels();
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
