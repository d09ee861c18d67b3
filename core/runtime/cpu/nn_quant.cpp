// Linear quantization: QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked along
// `axis`; 8/16/32-bit integers, and from opset 21 int4/uint4 and from 25 int2/uint2, which the
// runtime holds one value per byte), DynamicQuantizeLinear (uint8, range widened to include
// 0), QLinearMatMul, MatMulInteger, ConvInteger and QLinearConv (direct integer convolution,
// 1-3 spatial dims, groups, dilations; padding contributes the zero point, i.e. nothing).
// Rounding is half to even; the float side is computed in float like the ONNX reference, the
// integer accumulation exactly in int64.
#include "int8_kernels.h"
#include "nn_util.h"
#include "sgemm.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

namespace ew::rt {
namespace cpu {
namespace {

using nn::loadF;

#define EW_QUANT_TYPES int8_t, uint8_t, int16_t, uint16_t, int32_t

/// The range of the quantized type `t` (its storage type's for 8 bits and more).
inline std::pair<double, double> quantRange(DataType t) {
    switch (t) {
    case DataType::Int4:
        return {-8, 7};
    case DataType::UInt4:
        return {0, 15};
    case DataType::Int2:
        return {-2, 1};
    case DataType::UInt2:
        return {0, 3};
    case DataType::Int8:
        return {-128, 127};
    case DataType::UInt8:
        return {0, 255};
    case DataType::Int16:
        return {-32768, 32767};
    case DataType::UInt16:
        return {0, 65535};
    default:
        return {std::numeric_limits<int32_t>::lowest(), std::numeric_limits<int32_t>::max()};
    }
}

/// v (already rounded) clamped to [lo, hi] in double, so int32 bounds are exact; NaN gives 0.
template <typename Q> inline Q saturateIn(float v, double lo, double hi) {
    double d = v;
    if (std::isnan(d)) return 0;
    return static_cast<Q>(std::min(std::max(d, lo), hi));
}

template <typename Q> inline Q saturateTo(float v) {
    // v is already rounded; clamp in double so int32 bounds are exact.
    double d = v;
    if (std::isnan(d)) return 0;
    d = std::min<double>(std::max<double>(d, std::numeric_limits<Q>::lowest()),
                         std::numeric_limits<Q>::max());
    return static_cast<Q>(d);
}

/// Integer element i of an 8/16/32-bit integer tensor.
inline int64_t intElem(const Tensor& t, int64_t i) {
    switch (t.dtype()) {
    case DataType::Int8:
    case DataType::Int4:
    case DataType::Int2:
        return t.data<int8_t>()[i];
    case DataType::UInt8:
    case DataType::UInt4:
    case DataType::UInt2:
        return t.data<uint8_t>()[i];
    case DataType::Int16:
        return t.data<int16_t>()[i];
    case DataType::UInt16:
        return t.data<uint16_t>()[i];
    case DataType::Int32:
        return t.data<int32_t>()[i];
    default:
        return t.intAt(i);
    }
}

/// The first opset whose QuantizeLinear / DequantizeLinear take a sub-byte integer type (ONNX
/// added int4/uint4 in 21, int2/uint2 in 25); 0 for the other types.
inline int64_t subByteSince(DataType t) {
    switch (t) {
    case DataType::Int4:
    case DataType::UInt4:
        return 21;
    case DataType::Int2:
    case DataType::UInt2:
        return 25;
    default:
        return 0;
    }
}

/// The sub-byte type refused under `opset` (older than the one that introduced it), if it is.
inline bool subByteTooNew(DataType t, int64_t opset) {
    return subByteSince(t) > opset;
}

/// Which scale/zero-point element applies to x's element (outer, a, inner) where x is viewed as
/// [outer, axisLen, inner]: per tensor, per axis (a) or blocked ((outer, a / block, inner)).
struct ParamLayout {
    int kind = 0; ///< 0 per tensor, 1 per axis, 2 blocked
    int64_t outer = 1, axisLen = 1, inner = 1, block = 0, nBlocks = 1;

    VoidResult make(const PrepareContext& ctx, const Tensor& x, const Tensor& scale,
                    int64_t axisAttr, int64_t blockSize) {
        int64_t r = static_cast<int64_t>(x.rank());
        if (scale.numElements() == 1 && blockSize == 0 && scale.rank() <= 1) {
            kind = 0;
            outer = 1;
            axisLen = 1;
            inner = x.numElements();
            return {};
        }
        int64_t axis = axisAttr;
        if (!normalizeAxis(axis, r))
            return ctx.error(StatusCode::InvalidInput,
                             "axis out of range for " + dimsText(x.dims()));
        std::span<const int64_t> d(x.dims());
        outer = numElementsOf(d.first(static_cast<std::size_t>(axis)));
        axisLen = d[static_cast<std::size_t>(axis)];
        inner = numElementsOf(d.subspan(static_cast<std::size_t>(axis) + 1));
        if (blockSize <= 0) {
            if (scale.rank() != 1 || scale.dims()[0] != axisLen)
                return ctx.error(StatusCode::InvalidInput,
                                 "per-axis scale " + dimsText(scale.dims()) + " must be [" +
                                     std::to_string(axisLen) + "]");
            kind = 1;
            return {};
        }
        kind = 2;
        block = blockSize;
        nBlocks = (axisLen + block - 1) / block;
        std::vector<int64_t> want(x.dims());
        want[static_cast<std::size_t>(axis)] = nBlocks;
        if (scale.dims() != want)
            return ctx.error(StatusCode::InvalidInput, "blocked scale " + dimsText(scale.dims()) +
                                                           " must be " + dimsText(want));
        return {};
    }
    /// The zero point must match the scale element for element: any single value per tensor, else
    /// the scale's shape (equal counts in another shape would pair the wrong elements).
    VoidResult checkZeroPoint(const PrepareContext& ctx, const Tensor& scale, const Tensor& zp,
                              const char* what) const {
        const bool ok = kind == 0 ? zp.numElements() == 1 : zp.dims() == scale.dims();
        if (!ok)
            return ctx.error(StatusCode::InvalidInput, std::string(what) + " " + dimsText(zp.dims()) +
                                                           " must have the scale's shape " +
                                                           dimsText(scale.dims()));
        return {};
    }
    int64_t index(int64_t o, int64_t a, int64_t in) const {
        switch (kind) {
        case 0:
            return 0;
        case 1:
            return a;
        default:
            return (o * nBlocks + a / block) * inner + in;
        }
    }
};

/// y[i] = clamp(round_half_even(x[i] / sc) + z, lo, hi) for n values (NaN -> z), per-tensor
/// float -> 8-bit. Round-half-even by adding and removing 1.5 * 2^23 (exact for |v| < 2^22;
/// larger values saturate anyway): the same float operations as the general loop. GCC leaves the
/// scalar form (NaN select, min/max) unvectorized, at about 3 ns per value (0.4 ms on a 224x224
/// RGB input), so 16 values at a time go through SSE2 (baseline x86-64) with identical results.
template <typename Q>
void quantizeSpan(const float* x, Q* y, int64_t n, float sc, float z, float lo, float hi) {
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128 vs = _mm_set1_ps(sc), vz = _mm_set1_ps(z), nz = _mm_set1_ps(-z);
    const __m128 big = _mm_set1_ps(4194304.f), nbig = _mm_set1_ps(-4194304.f), magic = _mm_set1_ps(12582912.f);
    const __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
    auto one = [&](const float* p) {
        __m128 v = _mm_div_ps(_mm_loadu_ps(p), vs);
        const __m128 nan = _mm_cmpunord_ps(v, v);
        v = _mm_or_ps(_mm_and_ps(nan, nz), _mm_andnot_ps(nan, _mm_min_ps(_mm_max_ps(v, nbig), big)));
        v = _mm_sub_ps(_mm_add_ps(v, magic), magic);
        v = _mm_min_ps(_mm_max_ps(_mm_add_ps(v, vz), vlo), vhi);
        return _mm_cvttps_epi32(v);
    };
    for (; i + 16 <= n; i += 16) {
        const __m128i a = _mm_packs_epi32(one(x + i), one(x + i + 4));
        const __m128i b = _mm_packs_epi32(one(x + i + 8), one(x + i + 12));
        const __m128i q = std::is_same_v<Q, uint8_t> ? _mm_packus_epi16(a, b) : _mm_packs_epi16(a, b);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), q);
    }
#endif
    for (; i < n; ++i) {
        float v = x[i] / sc;
        v = v != v ? -z : std::min(std::max(v, -4194304.f), 4194304.f);
        v = (v + 12582912.f) - 12582912.f;
        v = std::min(std::max(v + z, lo), hi);
        y[i] = static_cast<Q>(static_cast<int32_t>(v));
    }
}

class QuantizeKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 1);
        m_block = ctx.node().attrInt("block_size", 0);
        m_outAttr = static_cast<DataType>(ctx.node().attrInt("output_dtype", 0));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& s = ctx.input(1);
        DataType out = ctx.hasInput(2)                    ? ctx.input(2).dtype()
                       : m_outAttr != DataType::Undefined ? m_outAttr
                                                          : DataType::UInt8;
        if (ctx.hasInput(2) && m_outAttr != DataType::Undefined && m_outAttr != out)
            return ctx.error(StatusCode::InvalidInput, "output_dtype " + typeName(m_outAttr) +
                                                           " differs from y_zero_point's type " +
                                                           typeName(out));
        m_fn = nullptr;
        if (subByteTooNew(out, ctx.opset()))
            return ctx.error(StatusCode::Unsupported, "output type " + typeName(out) +
                                                          " needs opset " +
                                                          std::to_string(subByteSince(out)));
        if (out == DataType::Int4 || out == DataType::Int2)
            m_fn = &QuantizeKernel::runTyped<int8_t>; // held one value per byte
        else if (out == DataType::UInt4 || out == DataType::UInt2)
            m_fn = &QuantizeKernel::runTyped<uint8_t>;
        else
            dispatch<EW_QUANT_TYPES>(out, [&](auto tag) {
                m_fn = &QuantizeKernel::runTyped<typename decltype(tag)::type>;
            });
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported,
                             "output type " + typeName(out) + " is not supported");
        std::tie(m_lo, m_hi) = quantRange(out);
        if (!ir::isFloatingPoint(s.dtype()))
            return ctx.error(StatusCode::InvalidInput, "y_scale must be floating point");
        if (!ir::isFloatingPoint(x.dtype()) && x.dtype() != DataType::Int32)
            return ctx.error(StatusCode::InvalidInput, "x must be float or int32");
        if (auto r = m_layout.make(ctx, x, s, m_axis, m_block); !r) return r;
        if (ctx.hasInput(2))
            if (auto r = m_layout.checkZeroPoint(ctx, s, ctx.input(2), "y_zero_point"); !r) return r;
        ctx.setOutput(0, out, x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename Q> void runTyped(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        const Tensor& s = ctx.input(1);
        const Tensor* zp = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        Q* y = ctx.output(0).data<Q>();
        const ParamLayout& L = m_layout;
        if constexpr (sizeof(Q) == 1) {
            if (L.kind == 0 && x.dtype() == DataType::Float && s.dtype() == DataType::Float && !preferReferenceKernels()) {
                // The common per-tensor float -> 8-bit case, in a loop the compiler vectorizes:
                // the same float operations as below, with round-half-even done by adding and
                // removing 1.5 * 2^23 (exact for |v| < 2^22; larger values saturate anyway).
                const float* xp = x.data<float>();
                const float sc = s.data<float>()[0];
                const float z = zp ? static_cast<float>(intElem(*zp, 0)) : 0.f;
                const float lo = static_cast<float>(m_lo), hi = static_cast<float>(m_hi);
                const int64_t n = x.numElements();
                ctx.pool().parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
                    quantizeSpan<Q>(xp + b, y + b, e - b, sc, z, lo, hi);
                });
                return;
            }
        }
        ctx.pool().parallelFor(
            0, L.outer * L.axisLen, chunkRows(L.inner), [&](int64_t b, int64_t e) {
                for (int64_t oa = b; oa < e; ++oa) {
                    const int64_t o = oa / L.axisLen, a = oa % L.axisLen;
                    for (int64_t in = 0; in < L.inner; ++in) {
                        const int64_t i = oa * L.inner + in, p = L.index(o, a, in);
                        float xv = static_cast<float>(loadF(x, i));
                        float v = std::nearbyint(xv / static_cast<float>(loadF(s, p)));
                        if (zp) v += static_cast<float>(intElem(*zp, p));
                        y[i] = saturateIn<Q>(v, m_lo, m_hi);
                    }
                }
            });
    }

  private:
    int64_t m_axis = 1, m_block = 0;
    DataType m_outAttr = DataType::Undefined;
    double m_lo = 0, m_hi = 0; ///< the output type's range
    ParamLayout m_layout;
    void (QuantizeKernel::*m_fn)(RunContext&) = nullptr;
};

class DequantizeKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 1);
        m_block = ctx.node().attrInt("block_size", 0);
        m_outAttr = static_cast<DataType>(ctx.node().attrInt("output_dtype", 0));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& s = ctx.input(1);
        switch (x.dtype()) {
        case DataType::Int8:
        case DataType::UInt8:
        case DataType::Int16:
        case DataType::UInt16:
        case DataType::Int32:
            break;
        case DataType::Int4:
        case DataType::UInt4:
        case DataType::Int2:
        case DataType::UInt2:
            if (subByteTooNew(x.dtype(), ctx.opset()))
                return ctx.error(StatusCode::Unsupported,
                                 "input type " + typeName(x.dtype()) + " needs opset " +
                                     std::to_string(subByteSince(x.dtype())));
            break;
        default:
            return ctx.error(StatusCode::Unsupported,
                             "input type " + typeName(x.dtype()) + " is not supported");
        }
        if (!ir::isFloatingPoint(s.dtype()))
            return ctx.error(StatusCode::InvalidInput, "x_scale must be floating point");
        if (ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype())
            return ctx.error(StatusCode::InvalidInput, "x_zero_point must have x's type");
        DataType out = m_outAttr != DataType::Undefined ? m_outAttr : s.dtype();
        if (auto r = m_layout.make(ctx, x, s, m_axis, m_block); !r) return r;
        if (ctx.hasInput(2))
            if (auto r = m_layout.checkZeroPoint(ctx, s, ctx.input(2), "x_zero_point"); !r) return r;
        if (!nn::selectFloat<DequantizeKernel>(out, m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "output type " + typeName(out) + " is not supported");
        ctx.setOutput(0, out, x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        const Tensor& s = ctx.input(1);
        const Tensor* zp = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        T* y = ctx.output(0).data<T>();
        const ParamLayout& L = m_layout;
        if constexpr (std::is_same_v<T, float>) {
            const bool u8 = x.dtype() == DataType::UInt8 || x.dtype() == DataType::UInt4 ||
                            x.dtype() == DataType::UInt2;
            const bool s8 = x.dtype() == DataType::Int8 || x.dtype() == DataType::Int4 ||
                            x.dtype() == DataType::Int2;
            if (L.kind == 0 && s.dtype() == DataType::Float && !preferReferenceKernels() && (u8 || s8)) {
                // Per-tensor 8-bit -> float: the same arithmetic in a loop the compiler vectorizes.
                const float sc = s.data<float>()[0];
                const int32_t z = zp ? static_cast<int32_t>(intElem(*zp, 0)) : 0;
                const int64_t n = x.numElements();
                auto go = [&](auto tag) {
                    using Q = typename decltype(tag)::type;
                    const Q* q = x.data<Q>();
                    ctx.pool().parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
                        for (int64_t i = b; i < e; ++i) y[i] = static_cast<float>(static_cast<int32_t>(q[i]) - z) * sc;
                    });
                };
                if (u8) go(TypeTag<uint8_t>{});
                else go(TypeTag<int8_t>{});
                return;
            }
        }
        ctx.pool().parallelFor(
            0, L.outer * L.axisLen, chunkRows(L.inner), [&](int64_t b, int64_t e) {
                for (int64_t oa = b; oa < e; ++oa) {
                    const int64_t o = oa / L.axisLen, a = oa % L.axisLen;
                    for (int64_t in = 0; in < L.inner; ++in) {
                        const int64_t i = oa * L.inner + in, p = L.index(o, a, in);
                        int64_t q = intElem(x, i) - (zp ? intElem(*zp, p) : 0);
                        y[i] = store<T>(static_cast<float>(q) * static_cast<float>(loadF(s, p)));
                    }
                }
            });
    }

  private:
    int64_t m_axis = 1, m_block = 0;
    DataType m_outAttr = DataType::Undefined;
    ParamLayout m_layout;
    void (DequantizeKernel::*m_fn)(RunContext&) = nullptr;
};

class DynamicQuantizeKernel final : public Kernel {
  public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DataType::Float)
            return ctx.error(StatusCode::Unsupported, "x must be float32");
        ctx.setOutput(0, DataType::UInt8, x.dims());
        ctx.setOutput(1, DataType::Float, std::span<const int64_t>());
        ctx.setOutput(2, DataType::UInt8, std::span<const int64_t>());
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& xt = ctx.input(0);
        const float* x = xt.data<float>();
        const int64_t n = xt.numElements();
        float lo = 0, hi = 0;
        for (int64_t i = 0; i < n; ++i) {
            lo = std::min(lo, x[i]);
            hi = std::max(hi, x[i]);
        }
        float scale = (hi - lo) / 255.0f;
        float zpf = scale != 0 ? std::nearbyint(0.0f - lo / scale) : 0.0f;
        uint8_t zp = saturateTo<uint8_t>(zpf);
        uint8_t* y = ctx.output(0).data<uint8_t>();
        for (int64_t i = 0; i < n; ++i)
            y[i] = scale != 0
                       ? saturateTo<uint8_t>(std::nearbyint(x[i] / scale) + static_cast<float>(zp))
                       : zp;
        if (ctx.hasOutput(1)) ctx.output(1).data<float>()[0] = scale;
        if (ctx.hasOutput(2)) ctx.output(2).data<uint8_t>()[0] = zp;
    }
};

/// Numpy matmul batch geometry for [..., M, K] x [..., K, N] (1-D operands promoted and the
/// promoted dim dropped from the output).
struct MatMulGeom {
    int64_t M = 0, K = 0, N = 0, batch = 1;
    std::vector<int64_t> outDims;
    std::vector<int64_t> aOff, bOff; ///< per output batch, element offsets of the A and B matrices

    bool make(std::span<const int64_t> a, std::span<const int64_t> b) {
        if (a.empty() || b.empty()) return false;
        std::vector<int64_t> ad(a.begin(), a.end()), bd(b.begin(), b.end());
        bool aVec = ad.size() == 1, bVec = bd.size() == 1;
        if (aVec) ad = {1, a[0]};
        if (bVec) bd = {b[0], 1};
        M = ad[ad.size() - 2];
        K = ad.back();
        N = bd.back();
        if (bd[bd.size() - 2] != K) return false;
        std::vector<int64_t> ab(ad), bb(bd), ob;
        ab.resize(ab.size() - 2);
        bb.resize(bb.size() - 2);
        if (!broadcastShapes(ab, bb, ob)) return false;
        batch = numElementsOf(ob);
        aOff.assign(static_cast<std::size_t>(batch), 0);
        bOff.assign(static_cast<std::size_t>(batch), 0);
        for (int64_t i = 0; i < batch; ++i) {
            int64_t rem = i, ao = 0, bo = 0, am = M * K, bm = K * N;
            for (std::size_t d = ob.size(); d-- > 0;) {
                int64_t c = rem % ob[d];
                rem /= ob[d];
                int64_t ai = static_cast<int64_t>(d) - static_cast<int64_t>(ob.size() - ab.size());
                int64_t bi = static_cast<int64_t>(d) - static_cast<int64_t>(ob.size() - bb.size());
                if (ai >= 0) {
                    if (ab[ai] != 1) ao += c * am;
                    am *= ab[ai];
                }
                if (bi >= 0) {
                    if (bb[bi] != 1) bo += c * bm;
                    bm *= bb[bi];
                }
            }
            aOff[i] = ao;
            bOff[i] = bo;
        }
        outDims = ob;
        if (!aVec) outDims.push_back(M);
        if (!bVec) outDims.push_back(N);
        return true;
    }
};

inline bool isInt8Like(DataType t) {
    return t == DataType::Int8 || t == DataType::UInt8;
}

/// Zero point that is a scalar or one value per row (`perRow` entries); index for row r.
inline int64_t zpAt(const Tensor* zp, int64_t r) {
    if (!zp) return 0;
    return intElem(*zp, zp->numElements() == 1 ? 0 : r);
}

/// MatMulInteger (int32 output) and QLinearMatMul (requantized output).
template <bool kQLinear> class IntMatMulKernel final : public Kernel {
  public:
    // Input slots.
    static constexpr int kA = 0, kB = kQLinear ? 3 : 1, kAzp = kQLinear ? 2 : 2,
                         kBzp = kQLinear ? 5 : 3;

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(kA);
        const Tensor& b = ctx.input(kB);
        if (!isInt8Like(a.dtype()) || !isInt8Like(b.dtype()))
            return ctx.error(StatusCode::Unsupported, "A and B must be int8 or uint8");
        if (!m_g.make(a.dims(), b.dims()))
            return ctx.error(StatusCode::InvalidInput,
                             "cannot multiply " + dimsText(a.dims()) + " by " + dimsText(b.dims()));
        auto checkZp = [&](int slot, int64_t n, DataType t) -> VoidResult {
            if (!ctx.hasInput(static_cast<std::size_t>(slot))) return {};
            const Tensor& z = ctx.input(static_cast<std::size_t>(slot));
            if (z.dtype() != t || (z.numElements() != 1 && z.numElements() != n))
                return ctx.error(StatusCode::InvalidInput, "zero point must be a scalar or have " +
                                                               std::to_string(n) + " entries");
            return {};
        };
        if (auto r = checkZp(kAzp, m_g.M, a.dtype()); !r) return r;
        if (auto r = checkZp(kBzp, m_g.N, b.dtype()); !r) return r;
        if constexpr (kQLinear) {
            const Tensor& as = ctx.input(1);
            const Tensor& bs = ctx.input(4);
            const Tensor& ys = ctx.input(6);
            if ((as.numElements() != 1 && as.numElements() != m_g.M) ||
                (bs.numElements() != 1 && bs.numElements() != m_g.N) || ys.numElements() != 1)
                return ctx.error(StatusCode::InvalidInput,
                                 "scales must be scalars (or per row of A / column of B)");
            DataType out = ctx.hasInput(7) ? ctx.input(7).dtype() : DataType::UInt8;
            if (!isInt8Like(out))
                return ctx.error(StatusCode::Unsupported,
                                 "output type " + typeName(out) + " is not supported");
            ctx.setOutput(0, out, m_g.outDims);
        } else {
            ctx.setOutput(0, DataType::Int32, m_g.outDims);
        }
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& a = ctx.input(kA);
        const Tensor& b = ctx.input(kB);
        const Tensor* azp = ctx.hasInput(kAzp) ? &ctx.input(kAzp) : nullptr;
        const Tensor* bzp = ctx.hasInput(kBzp) ? &ctx.input(kBzp) : nullptr;
        Tensor& y = ctx.output(0);
        const int64_t M = m_g.M, K = m_g.K, N = m_g.N;
        ctx.pool().parallelFor(0, m_g.batch * M, chunkRows(K * N), [&](int64_t rb, int64_t re) {
            for (int64_t row = rb; row < re; ++row) {
                const int64_t bi = row / M, m = row % M;
                const int64_t ao = m_g.aOff[bi] + m * K, bo = m_g.bOff[bi];
                const int64_t za = zpAt(azp, m);
                for (int64_t n = 0; n < N; ++n) {
                    const int64_t zb = zpAt(bzp, n);
                    int64_t acc = 0;
                    for (int64_t k = 0; k < K; ++k)
                        acc += (intElem(a, ao + k) - za) * (intElem(b, bo + k * N + n) - zb);
                    const int64_t o = row * N + n;
                    if constexpr (kQLinear) {
                        const Tensor& as = ctx.input(1);
                        const Tensor& bs = ctx.input(4);
                        float mult = static_cast<float>(loadF(as, as.numElements() == 1 ? 0 : m)) *
                                     static_cast<float>(loadF(bs, bs.numElements() == 1 ? 0 : n)) /
                                     static_cast<float>(loadF(ctx.input(6), 0));
                        float v =
                            std::nearbyint(static_cast<float>(acc) * mult) +
                            static_cast<float>(ctx.hasInput(7) ? intElem(ctx.input(7), 0) : 0);
                        if (y.dtype() == DataType::Int8)
                            y.data<int8_t>()[o] = saturateTo<int8_t>(v);
                        else
                            y.data<uint8_t>()[o] = saturateTo<uint8_t>(v);
                    } else {
                        y.data<int32_t>()[o] = static_cast<int32_t>(acc);
                    }
                }
            }
        });
    }

  private:
    MatMulGeom m_g;
};

/// ConvInteger (int32 output) and QLinearConv (requantized, optional int32 bias).
template <bool kQLinear> class IntConvKernel final : public Kernel {
  public:
    static constexpr int kX = 0, kW = kQLinear ? 3 : 1, kXzp = 2, kWzp = kQLinear ? 5 : 3;

    VoidResult init(InitContext& ctx) override {
        m_group = ctx.node().attrInt("group", 1);
        if (m_group < 1) return ctx.error(StatusCode::InvalidInput, "group must be >= 1");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(kX);
        const Tensor& w = ctx.input(kW);
        if (!isInt8Like(x.dtype()) || !isInt8Like(w.dtype()))
            return ctx.error(StatusCode::Unsupported, "x and w must be int8 or uint8");
        if (x.rank() < 3 || x.rank() > 5 || w.rank() != x.rank())
            return ctx.error(StatusCode::InvalidInput,
                             "x and w must be [N, C, spatial...] with 1 to 3 spatial dims");
        const std::size_t sp = x.rank() - 2;
        WindowParams wp;
        if (auto r = readWindow(ctx.node(), sp, std::span<const int64_t>(w.dims()).subspan(2), wp);
            !r)
            return r;
        std::vector<int64_t> out;
        if (!windowOutput(wp, std::span<const int64_t>(x.dims()).subspan(2), out))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_M = w.dims()[0];
        if (m_C % m_group || m_M % m_group || w.dims()[1] != m_C / m_group)
            return ctx.error(StatusCode::InvalidInput,
                             "channels do not match group " + std::to_string(m_group));
        for (int i = 0; i < 3; ++i)
            m_in[i] = m_out[i] = m_k[i] = m_s[i] = m_d[i] = 1, m_pb[i] = 0;
        const std::size_t o = 3 - sp;
        for (std::size_t i = 0; i < sp; ++i) {
            m_in[o + i] = x.dims()[2 + i];
            m_out[o + i] = out[i];
            m_k[o + i] = wp.kernel[i];
            m_s[o + i] = wp.strides[i];
            m_d[o + i] = wp.dilations[i];
            m_pb[o + i] = wp.padBegin[i];
        }
        if (ctx.hasInput(kWzp) && ctx.input(kWzp).numElements() != 1 &&
            ctx.input(kWzp).numElements() != m_M)
            return ctx.error(StatusCode::InvalidInput,
                             "w_zero_point must be a scalar or per output channel");
        std::vector<int64_t> dims{m_N, m_M};
        dims.insert(dims.end(), out.begin(), out.end());
        if constexpr (kQLinear) {
            if (ctx.input(4).numElements() != 1 && ctx.input(4).numElements() != m_M)
                return ctx.error(StatusCode::InvalidInput,
                                 "w_scale must be a scalar or per output channel");
            if (ctx.hasInput(8) &&
                (ctx.input(8).dtype() != DataType::Int32 || ctx.input(8).numElements() != m_M))
                return ctx.error(StatusCode::InvalidInput, "B must be int32 [M]");
            DataType outT = ctx.hasInput(7) ? ctx.input(7).dtype() : x.dtype();
            if (!isInt8Like(outT))
                return ctx.error(StatusCode::Unsupported, "output type is not supported");
            ctx.setOutput(0, outT, dims);
        } else {
            ctx.setOutput(0, DataType::Int32, dims);
        }
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(kX);
        const Tensor& w = ctx.input(kW);
        const Tensor* xzp = ctx.hasInput(kXzp) ? &ctx.input(kXzp) : nullptr;
        const Tensor* wzp = ctx.hasInput(kWzp) ? &ctx.input(kWzp) : nullptr;
        Tensor& y = ctx.output(0);
        const int64_t cg = m_C / m_group, mg = m_M / m_group;
        const int64_t inPlane = m_in[0] * m_in[1] * m_in[2],
                      outPlane = m_out[0] * m_out[1] * m_out[2];
        const int64_t kSize = m_k[0] * m_k[1] * m_k[2];
        const int64_t zx = zpAt(xzp, 0);
        ctx.pool().parallelFor(0, m_N * m_M, 1, [&](int64_t b, int64_t e) {
            for (int64_t nm = b; nm < e; ++nm) {
                const int64_t n = nm / m_M, m = nm % m_M, g = m / mg;
                const int64_t zw = zpAt(wzp, m);
                for (int64_t od = 0; od < m_out[0]; ++od)
                    for (int64_t oh = 0; oh < m_out[1]; ++oh)
                        for (int64_t ow = 0; ow < m_out[2]; ++ow) {
                            int64_t acc = 0;
                            for (int64_t c = 0; c < cg; ++c) {
                                const int64_t xBase = (n * m_C + g * cg + c) * inPlane;
                                const int64_t wBase = (m * cg + c) * kSize;
                                for (int64_t kd = 0; kd < m_k[0]; ++kd) {
                                    int64_t id = od * m_s[0] - m_pb[0] + kd * m_d[0];
                                    if (id < 0 || id >= m_in[0]) continue;
                                    for (int64_t kh = 0; kh < m_k[1]; ++kh) {
                                        int64_t ih = oh * m_s[1] - m_pb[1] + kh * m_d[1];
                                        if (ih < 0 || ih >= m_in[1]) continue;
                                        for (int64_t kw = 0; kw < m_k[2]; ++kw) {
                                            int64_t iw = ow * m_s[2] - m_pb[2] + kw * m_d[2];
                                            if (iw < 0 || iw >= m_in[2]) continue;
                                            int64_t xv =
                                                intElem(x, xBase + (id * m_in[1] + ih) * m_in[2] +
                                                               iw) -
                                                zx;
                                            int64_t wv =
                                                intElem(w,
                                                        wBase + (kd * m_k[1] + kh) * m_k[2] + kw) -
                                                zw;
                                            acc += xv * wv;
                                        }
                                    }
                                }
                            }
                            const int64_t o = nm * outPlane + (od * m_out[1] + oh) * m_out[2] + ow;
                            if constexpr (kQLinear) {
                                if (ctx.hasInput(8)) acc += ctx.input(8).data<int32_t>()[m];
                                const Tensor& ws = ctx.input(4);
                                float mult =
                                    static_cast<float>(loadF(ctx.input(1), 0)) *
                                    static_cast<float>(loadF(ws, ws.numElements() == 1 ? 0 : m)) /
                                    static_cast<float>(loadF(ctx.input(6), 0));
                                float v = std::nearbyint(static_cast<float>(acc) * mult) +
                                          static_cast<float>(
                                              ctx.hasInput(7) ? intElem(ctx.input(7), 0) : 0);
                                if (y.dtype() == DataType::Int8)
                                    y.data<int8_t>()[o] = saturateTo<int8_t>(v);
                                else
                                    y.data<uint8_t>()[o] = saturateTo<uint8_t>(v);
                            } else {
                                y.data<int32_t>()[o] = static_cast<int32_t>(acc);
                            }
                        }
            }
        });
    }

  private:
    int64_t m_group = 1;
    int64_t m_N = 0, m_C = 0, m_M = 0;
    int64_t m_in[3] = {1, 1, 1}, m_out[3] = {1, 1, 1}, m_k[3] = {1, 1, 1}, m_s[3] = {1, 1, 1},
            m_d[3] = {1, 1, 1}, m_pb[3] = {0, 0, 0};
};

/// Runs the fast integer kernel of int8_kernels.h when it applies to this node (decided at init
/// from the constant inputs; never when the session prefers reference kernels), else Ref.
template <typename Ref, std::unique_ptr<Kernel> (*Fast)(const InitContext&, bool), bool kQLinear>
class RoutedKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        if (!preferReferenceKernels()) m_impl = Fast(ctx, kQLinear);
        if (!m_impl) m_impl = std::make_unique<Ref>();
        return m_impl->init(ctx);
    }
    VoidResult prepare(PrepareContext& ctx) override { return m_impl->prepare(ctx); }
    void run(RunContext& ctx) override { m_impl->run(ctx); }

  private:
    std::unique_ptr<Kernel> m_impl;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeQuantizeLinear() {
    return std::make_unique<cpu::QuantizeKernel>();
}
std::unique_ptr<Kernel> makeDequantizeLinear() {
    return std::make_unique<cpu::DequantizeKernel>();
}
std::unique_ptr<Kernel> makeDynamicQuantizeLinear() {
    return std::make_unique<cpu::DynamicQuantizeKernel>();
}
std::unique_ptr<Kernel> makeMatMulInteger() {
    return std::make_unique<cpu::RoutedKernel<cpu::IntMatMulKernel<false>, cpu::makeFastIntMatMul, false>>();
}
std::unique_ptr<Kernel> makeQLinearMatMul() {
    return std::make_unique<cpu::RoutedKernel<cpu::IntMatMulKernel<true>, cpu::makeFastIntMatMul, true>>();
}
std::unique_ptr<Kernel> makeConvInteger() {
    return std::make_unique<cpu::RoutedKernel<cpu::IntConvKernel<false>, cpu::makeFastIntConv, false>>();
}
std::unique_ptr<Kernel> makeQLinearConv() {
    return std::make_unique<cpu::RoutedKernel<cpu::IntConvKernel<true>, cpu::makeFastIntConv, true>>();
}

} // namespace ew::rt
