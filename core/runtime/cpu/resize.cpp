// Resize: nearest (all nearest_modes) and N-linear interpolation over every dim, with the
// coordinate transformation modes half_pixel, half_pixel_symmetric, pytorch_half_pixel,
// align_corners, asymmetric, tf_half_pixel_for_nearest and tf_crop_and_resize; output size
// from scales or sizes (opset 18: axes, keep_aspect_ratio_policy). Opset 10 follows that
// version's rules (asymmetric coordinates, its own nearest rounding). Per-dim source indices
// and weights are computed in prepare(); run() only gathers.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

class ResizeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_opset10 = ctx.opset() < 11;
        m_mode = n.attrString("mode", "nearest");
        if (m_mode != "nearest" && m_mode != "linear" && m_mode != "cubic")
            return ctx.error(StatusCode::Unsupported, "mode '" + m_mode + "' (nearest, linear and cubic are supported)");
        m_cubicA = n.attrFloat("cubic_coeff_a", -0.75f);
        m_excludeOutside = n.attrInt("exclude_outside", 0) != 0;
        m_antialias = n.attrInt("antialias", 0) != 0;
        m_coord = m_opset10 ? "asymmetric" : n.attrString("coordinate_transformation_mode", "half_pixel");
        m_nearest = m_opset10 ? "opset10" : n.attrString("nearest_mode", "round_prefer_floor");
        m_extrapolation = n.attrFloat("extrapolation_value", 0.f);
        m_axesAttr = n.attrInts("axes");
        m_aspect = n.attrString("keep_aspect_ratio_policy", "stretch");
        for (std::size_t i = 1; i < ctx.numInputs(); ++i)
            if (ctx.hasInput(i) && !ctx.constantInput(i)) m_dataDependent = true;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const int64_t r = static_cast<int64_t>(x.rank());
        if (r > kMaxRank) return ctx.error(StatusCode::Unsupported, "rank too large");
        std::size_t scalesIdx = m_opset10 ? 1 : 2, sizesIdx = 3, roiIdx = 1;
        m_axes.clear();
        for (int64_t a : m_axesAttr) {
            if (!normalizeAxis(a, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
            m_axes.push_back(a);
        }
        if (m_axes.empty())
            for (int64_t d = 0; d < r; ++d) m_axes.push_back(d);
        const std::size_t na = m_axes.size();
        m_scales.assign(static_cast<std::size_t>(r), 1.0);
        m_out.assign(x.dims().begin(), x.dims().end());
        bool haveSizes = !m_opset10 && ctx.hasInput(sizesIdx) && ctx.input(sizesIdx).numElements() > 0;
        bool haveScales = ctx.hasInput(scalesIdx) && ctx.input(scalesIdx).numElements() > 0;
        if (haveSizes == haveScales)
            return ctx.error(StatusCode::InvalidInput, "exactly one of scales and sizes must be given");
        if (haveScales) {
            const Tensor& s = ctx.input(scalesIdx);
            if (static_cast<std::size_t>(s.numElements()) != na)
                return ctx.error(StatusCode::InvalidInput, "scales must have one entry per axis");
            for (std::size_t i = 0; i < na; ++i) {
                double sc = s.doubleAt(static_cast<int64_t>(i));
                if (!(sc > 0)) return ctx.error(StatusCode::InvalidInput, "scales must be positive");
                m_scales[m_axes[i]] = sc;
                m_out[m_axes[i]] = static_cast<int64_t>(std::floor(static_cast<double>(x.dims()[m_axes[i]]) * sc));
            }
        } else {
            const Tensor& s = ctx.input(sizesIdx);
            if (static_cast<std::size_t>(s.numElements()) != na)
                return ctx.error(StatusCode::InvalidInput, "sizes must have one entry per axis");
            double policyScale = m_aspect == "not_larger" ? 1e300 : 0.0;
            for (std::size_t i = 0; i < na; ++i) {
                int64_t want = s.intAt(static_cast<int64_t>(i));
                if (want < 0) return ctx.error(StatusCode::InvalidInput, "negative size");
                double sc = static_cast<double>(want) / static_cast<double>(x.dims()[m_axes[i]]);
                if (m_aspect == "not_larger") policyScale = std::min(policyScale, sc);
                else if (m_aspect == "not_smaller") policyScale = std::max(policyScale, sc);
                m_scales[m_axes[i]] = sc;
                m_out[m_axes[i]] = want;
            }
            if (m_aspect != "stretch")
                for (std::size_t i = 0; i < na; ++i) {
                    m_scales[m_axes[i]] = policyScale;
                    m_out[m_axes[i]] = static_cast<int64_t>(std::round(policyScale * static_cast<double>(x.dims()[m_axes[i]])));
                }
        }
        m_roi.assign(static_cast<std::size_t>(2 * r), 0.0);
        for (int64_t d = 0; d < r; ++d) m_roi[d + r] = 1.0;
        if (m_coord == "tf_crop_and_resize") {
            if (!ctx.hasInput(roiIdx) || static_cast<std::size_t>(ctx.input(roiIdx).numElements()) != 2 * na)
                return ctx.error(StatusCode::InvalidInput, "tf_crop_and_resize needs roi with 2 entries per axis");
            for (std::size_t i = 0; i < na; ++i) {
                m_roi[m_axes[i]] = ctx.input(roiIdx).doubleAt(static_cast<int64_t>(i));
                m_roi[m_axes[i] + r] = ctx.input(roiIdx).doubleAt(static_cast<int64_t>(i + na));
            }
        }
        m_generic = m_mode == "cubic" || (m_antialias && m_mode == "linear");
        if (m_generic) {
            if (!dispatch<EW_FLOAT_TYPES>(x.dtype(), [](auto) {}))
                return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " for mode " + m_mode);
            buildTaps(x);
            ctx.setOutput(0, x.dtype(), m_out);
            return {};
        }
        m_linear = m_mode == "linear";
        if (m_linear ? !ir::isFloatingPoint(x.dtype()) || !dispatch<EW_FLOAT_TYPES>(x.dtype(), [](auto) {})
                     : !isMovable(x.dtype()))
            return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " for mode " + m_mode);
        // Per output coordinate of each dim: source index pair and weights (-1: extrapolate).
        m_start.resize(static_cast<std::size_t>(r));
        m_i0.clear();
        m_i1.clear();
        m_w1.clear();
        for (int64_t d = 0; d < r; ++d) {
            m_start[d] = static_cast<int64_t>(m_i0.size());
            int64_t inLen = x.dims()[d], outLen = m_out[d];
            for (int64_t o = 0; o < outLen; ++o) {
                double xo = original(static_cast<double>(o), m_scales[d], outLen, inLen, m_roi[d], m_roi[d + r]);
                int64_t i0, i1;
                double w1 = 0;
                if (m_coord == "tf_crop_and_resize" && (xo < 0 || xo > static_cast<double>(inLen - 1))) {
                    i0 = i1 = -1;
                } else if (!m_linear) {
                    i0 = i1 = std::clamp<int64_t>(nearest(xo, m_scales[d]), 0, inLen - 1);
                } else {
                    xo = std::clamp(xo, 0.0, static_cast<double>(inLen - 1));
                    i0 = static_cast<int64_t>(std::floor(xo));
                    i1 = std::min(i0 + 1, inLen - 1);
                    w1 = xo - static_cast<double>(i0);
                }
                m_i0.push_back(i0);
                m_i1.push_back(i1);
                m_w1.push_back(w1);
            }
        }
        ctx.setOutput(0, x.dtype(), m_out);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (m_generic) {
            dispatch<EW_FLOAT_TYPES>(x.dtype(), [&](auto tag) { runGeneric<typename decltype(tag)::type>(ctx); });
            return;
        }
        if (m_linear)
            dispatch<EW_FLOAT_TYPES>(x.dtype(), [&](auto tag) { runLinear<typename decltype(tag)::type>(ctx); });
        else
            runNearest(ctx);
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    float m_cubicA = -0.75f;
    bool m_excludeOutside = false, m_antialias = false, m_generic = false;
    std::vector<int64_t> m_tStart, m_tCount, m_tIdx;
    std::vector<double> m_tW;
    // As the ONNX spec (and its reference) define it, the resized length in these formulas is
    // scale * input length as a real number (ORT uses the integer output size instead; the two
    // differ only when that product is not whole).
    double original(double xr, double scale, int64_t outLen, int64_t inLen, double roiStart, double roiEnd) const {
        const double outF = scale * static_cast<double>(inLen);
        if (m_coord == "half_pixel") return (xr + 0.5) / scale - 0.5;
        if (m_coord == "half_pixel_symmetric") {
            double adj = static_cast<double>(outLen) / (scale * static_cast<double>(inLen));
            double center = static_cast<double>(inLen) / 2;
            return center * (1 - adj) + (xr + 0.5) / scale - 0.5;
        }
        if (m_coord == "pytorch_half_pixel") return outF > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
        if (m_coord == "align_corners") return outF == 1 ? 0.0 : xr * static_cast<double>(inLen - 1) / (outF - 1);
        if (m_coord == "tf_half_pixel_for_nearest") return (xr + 0.5) / scale;
        if (m_coord == "tf_crop_and_resize")
            return outLen > 1 ? roiStart * static_cast<double>(inLen - 1) +
                                    xr * (roiEnd - roiStart) * static_cast<double>(inLen - 1) / static_cast<double>(outLen - 1)
                              : 0.5 * (roiStart + roiEnd) * static_cast<double>(inLen - 1);
        return xr / scale; // asymmetric
    }
    /// Separable taps for cubic and antialiased modes, per dim and output coordinate, following
    /// the ONNX reference: the n input positions nearest to the source coordinate x (n even,
    /// left-biased), each weighted by kernel(s * (position - x)) where s = min(scale, 1) with
    /// antialias and 1 without; edge positions are clamped (or, with exclude_outside, dropped
    /// and the rest renormalized); antialiased weights are normalized to sum 1. A tap index of -1
    /// marks a coordinate outside a tf_crop_and_resize roi (the extrapolation value).
    void buildTaps(const Tensor& x) {
        const int64_t r = static_cast<int64_t>(x.rank());
        const bool cubic = m_mode == "cubic";
        const double support = cubic ? 2.0 : 1.0;
        const double A = m_cubicA;
        auto kernel = [&](double t) {
            t = std::abs(t);
            if (!cubic) return std::max(0.0, 1.0 - t);
            if (t <= 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
            if (t < 2) return (((t - 5) * t + 8) * t - 4) * A;
            return 0.0;
        };
        m_tStart.assign(static_cast<std::size_t>(r) + 1, 0);
        m_tCount.assign(static_cast<std::size_t>(r), 0);
        m_tIdx.clear();
        m_tW.clear();
        std::vector<double> w;
        for (int64_t d = 0; d < r; ++d) {
            m_tStart[d] = static_cast<int64_t>(m_tIdx.size());
            const int64_t inLen = x.dims()[d], outLen = m_out[d];
            const bool resized = !(m_scales[d] == 1.0 && outLen == inLen && m_coord != "tf_crop_and_resize");
            if (!resized) {
                // Identity dim: one tap of weight 1.
                m_tCount[d] = 1;
                for (int64_t o = 0; o < outLen; ++o) {
                    m_tIdx.push_back(o);
                    m_tW.push_back(1.0);
                }
                continue;
            }
            const double sc = m_antialias ? std::min(m_scales[d], 1.0) : 1.0;
            const int64_t iStart = static_cast<int64_t>(std::floor(-support / sc)) + 1;
            const int64_t n = 2 - 2 * iStart;
            m_tCount[d] = n;
            for (int64_t o = 0; o < outLen; ++o) {
                const double xo = original(static_cast<double>(o), m_scales[d], outLen, inLen, m_roi[d], m_roi[d + r]);
                const bool outside = m_coord == "tf_crop_and_resize" && (xo < 0 || xo > static_cast<double>(inLen - 1));
                const int64_t base = static_cast<int64_t>(std::ceil(xo)) - n / 2;
                w.assign(static_cast<std::size_t>(n), 0.0);
                double sum = 0;
                for (int64_t k = 0; k < n; ++k) {
                    const int64_t pos = base + k;
                    double wk = kernel(sc * (static_cast<double>(pos) - xo));
                    if (m_excludeOutside && (pos < 0 || pos >= inLen)) wk = 0;
                    w[k] = wk;
                    sum += wk;
                }
                const bool normalize = m_antialias || m_excludeOutside;
                for (int64_t k = 0; k < n; ++k) {
                    const int64_t pos = std::clamp<int64_t>(base + k, 0, inLen - 1);
                    m_tIdx.push_back(outside ? -1 : pos);
                    m_tW.push_back(normalize && sum != 0 ? w[k] / sum : w[k]);
                }
            }
        }
    }
    template <typename T>
    void runGeneric(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        Tensor& out = ctx.output(0);
        const T* X = x.data<T>();
        T* Y = out.data<T>();
        const int64_t r = static_cast<int64_t>(x.rank());
        int64_t inStride[kMaxRank];
        int64_t st = 1;
        for (int64_t d = r - 1; d >= 0; --d) {
            inStride[d] = st;
            st *= x.dims()[d];
        }
        // Rows of the last dim in parallel; each output element sums its taps in a fixed order.
        const int64_t lastLen = m_out[r - 1];
        const int64_t rows = lastLen ? out.numElements() / lastLen : 0;
        ctx.pool().parallelFor(0, rows, 16, [&](int64_t r0, int64_t r1) {
            int64_t idx[kMaxRank], tap[kMaxRank];
            for (int64_t row = r0; row < r1; ++row) {
                int64_t rem = row;
                for (int64_t d = r - 2; d >= 0; --d) {
                    idx[d] = rem % m_out[d];
                    rem /= m_out[d];
                }
                for (int64_t o = 0; o < lastLen; ++o) {
                    idx[r - 1] = o;
                    bool extrapolate = false;
                    for (int64_t d = 0; d < r; ++d)
                        if (m_tIdx[m_tStart[d] + idx[d] * m_tCount[d]] < 0) extrapolate = true;
                    double acc = 0;
                    if (!extrapolate) {
                        for (int64_t d = 0; d < r; ++d) tap[d] = 0;
                        for (;;) {
                            double wgt = 1;
                            int64_t src = 0;
                            for (int64_t d = 0; d < r; ++d) {
                                const int64_t t = m_tStart[d] + idx[d] * m_tCount[d] + tap[d];
                                wgt *= m_tW[t];
                                src += m_tIdx[t] * inStride[d];
                            }
                            if (wgt != 0) acc += wgt * static_cast<double>(load(X[src]));
                            int64_t d = r - 1;
                            for (; d >= 0; --d) {
                                if (++tap[d] < m_tCount[d]) break;
                                tap[d] = 0;
                            }
                            if (d < 0) break;
                        }
                    } else {
                        acc = m_extrapolation;
                    }
                    Y[row * lastLen + o] = store<T>(static_cast<Compute<T>>(acc));
                }
            }
        });
    }
    int64_t nearest(double x, double scale) const {
        double f = std::floor(x);
        if (m_nearest == "floor") return static_cast<int64_t>(f);
        if (m_nearest == "ceil") return static_cast<int64_t>(std::ceil(x));
        if (m_nearest == "opset10") return static_cast<int64_t>(scale < 1.0 ? std::ceil(x) : f);
        if (x - f == 0.5) return static_cast<int64_t>(m_nearest == "round_prefer_ceil" ? f + 1 : f);
        return static_cast<int64_t>(std::round(x));
    }
    /// 4-byte elements, rank >= 2, leading dims copied as they are (N, C): planes in parallel,
    /// each output row gathered through the per-column source index table.
    bool runNearestPlanes(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        Tensor& out = ctx.output(0);
        const int64_t r = static_cast<int64_t>(x.rank());
        if (r < 2 || elementSize(x.dtype()) != 4) return false;
        int64_t planes = 1;
        for (int64_t d = 0; d + 2 < r; ++d) {
            if (m_out[d] != x.dims()[d]) return false;
            for (int64_t o = 0; o < m_out[d]; ++o)
                if (m_i0[m_start[d] + o] != o) return false;
            planes *= m_out[d];
        }
        const int64_t H = x.dims()[r - 2], W = x.dims()[r - 1], OH = m_out[r - 2], OW = m_out[r - 1];
        const int64_t* rowIdx = m_i0.data() + m_start[r - 2];
        const int64_t* colIdx = m_i0.data() + m_start[r - 1];
        for (int64_t o = 0; o < OH; ++o)
            if (rowIdx[o] < 0) return false;
        for (int64_t o = 0; o < OW; ++o)
            if (colIdx[o] < 0) return false;
        const uint32_t* X = reinterpret_cast<const uint32_t*>(x.raw());
        uint32_t* Y = reinterpret_cast<uint32_t*>(out.raw());
        ctx.pool().parallelFor(0, planes, 1, [&](int64_t p0, int64_t p1) {
            for (int64_t p = p0; p < p1; ++p) {
                const uint32_t* xp = X + p * H * W;
                uint32_t* yp = Y + p * OH * OW;
                for (int64_t oh = 0; oh < OH; ++oh) {
                    const uint32_t* xr = xp + rowIdx[oh] * W;
                    uint32_t* yr = yp + oh * OW;
                    if (oh > 0 && rowIdx[oh] == rowIdx[oh - 1]) {
                        std::memcpy(yr, yr - OW, static_cast<std::size_t>(OW) * 4); // repeated source row
                        continue;
                    }
                    for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = xr[colIdx[ow]];
                }
            }
        });
        return true;
    }
    void runNearest(RunContext& ctx) {
        if (runNearestPlanes(ctx)) return;
        const Tensor& x = ctx.input(0);
        Tensor& out = ctx.output(0);
        const std::size_t w = elementSize(x.dtype());
        const int64_t r = static_cast<int64_t>(x.rank());
        int64_t inStride[kMaxRank], idx[kMaxRank] = {};
        int64_t s = 1;
        for (int64_t d = r - 1; d >= 0; --d) {
            inStride[d] = s;
            s *= x.dims()[d];
        }
        std::byte fill[8] = {};
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            T t = store<T>(static_cast<Compute<T>>(m_extrapolation));
            std::memcpy(fill, &t, sizeof(T));
        });
        for (int64_t i = 0; i < out.numElements(); ++i) {
            int64_t src = 0;
            bool inside = true;
            for (int64_t d = 0; d < r; ++d) {
                int64_t k = m_i0[m_start[d] + idx[d]];
                if (k < 0) inside = false;
                src += k * inStride[d];
            }
            std::memcpy(out.raw() + i * w, inside ? x.raw() + src * w : fill, w);
            for (int64_t d = r - 1; d >= 0; --d) {
                if (++idx[d] < m_out[d]) break;
                idx[d] = 0;
            }
        }
    }
    template <typename T>
    void runLinear(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        Tensor& out = ctx.output(0);
        const T* X = x.data<T>();
        T* Y = out.data<T>();
        const int64_t r = static_cast<int64_t>(x.rank());
        int64_t inStride[kMaxRank], idx[kMaxRank] = {};
        int64_t s = 1;
        for (int64_t d = r - 1; d >= 0; --d) {
            inStride[d] = s;
            s *= x.dims()[d];
        }
        for (int64_t i = 0; i < out.numElements(); ++i) {
            bool inside = true;
            for (int64_t d = 0; d < r; ++d)
                if (m_i0[m_start[d] + idx[d]] < 0) inside = false;
            double v = m_extrapolation;
            if (inside) {
                v = 0;
                // Every corner of the 2^r cell; dims without a fractional part contribute one.
                for (int64_t corner = 0; corner < (int64_t(1) << r); ++corner) {
                    double wgt = 1;
                    int64_t src = 0;
                    for (int64_t d = 0; d < r && wgt != 0; ++d) {
                        int64_t c = m_start[d] + idx[d];
                        bool hi = (corner >> (r - 1 - d)) & 1;
                        wgt *= hi ? m_w1[c] : 1 - m_w1[c];
                        src += (hi ? m_i1[c] : m_i0[c]) * inStride[d];
                    }
                    if (wgt != 0) v += wgt * static_cast<double>(load(X[src]));
                }
            }
            Y[i] = store<T>(static_cast<Compute<T>>(v));
            for (int64_t d = r - 1; d >= 0; --d) {
                if (++idx[d] < m_out[d]) break;
                idx[d] = 0;
            }
        }
    }

    bool m_opset10 = false, m_dataDependent = false, m_linear = false;
    std::string m_mode, m_coord, m_nearest, m_aspect;
    float m_extrapolation = 0.f;
    std::vector<int64_t> m_axesAttr, m_axes, m_out, m_start, m_i0, m_i1;
    std::vector<double> m_scales, m_roi, m_w1;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeResize() { return std::make_unique<cpu::ResizeKernel>(); }

} // namespace ew::rt
