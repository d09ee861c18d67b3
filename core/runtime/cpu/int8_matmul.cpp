// Fast integer matrix products with constant 2-D weights: QLinearMatMul, MatMulInteger and
// ai.edgewise.QGemm (QLinearMatMul's inputs, an int32 bias as input 8, `transB`, and a fused
// Relu/Clip; written by the QDQ fusion for Gemm and MatMul). Bit-exact against nn_quant.cpp.
//
// The weights B (b - b_zero_point per column) are packed once into 16-column panels; each run
// packs A (a - a_zero_point, all leading dims flattened into rows) into scratch, then the integer
// GEMM requantizes per column (N is the channel: per-column scales and zero points).
#include "int8_gemm.h"
#include "int8_kernels.h"
#include "kernel_util.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {


class FastIntMatMul final : public Kernel {
public:
    FastIntMatMul(bool qlinear, bool fused) : m_qlinear(qlinear), m_fused(fused) {}

    static constexpr std::size_t slotB(bool qlinear) { return qlinear ? 3 : 1; }
    static constexpr std::size_t slotBzp(bool qlinear) { return qlinear ? 5 : 3; }

    static bool applies(const InitContext& ctx, bool qlinear) {
        const Tensor* b = ctx.constantInput(slotB(qlinear));
        if (!b || b->rank() != 2 || !isInt8Like(b->dtype()) || b->dims()[0] > kInt8MaxDepth) return false;
        if (ctx.hasInput(slotBzp(qlinear)) && !ctx.constantInput(slotBzp(qlinear))) return false;
        // Per-row A scales are legal in QLinearMatMul but never written by quantizers: reference.
        if (qlinear && (!ctx.constantInput(1) || ctx.constantInput(1)->numElements() != 1)) return false;
        return true;
    }

    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        const std::size_t sb = slotB(m_qlinear), sbz = slotBzp(m_qlinear);
        const Tensor* b = ctx.constantInput(sb);
        if (!b || b->rank() != 2 || !isInt8Like(b->dtype()))
            return ctx.error(StatusCode::Unsupported, "needs constant 2-D int8/uint8 weights");
        const Tensor* bzp = ctx.hasInput(sbz) ? ctx.constantInput(sbz) : nullptr;
        if (ctx.hasInput(sbz) && !bzp) return ctx.error(StatusCode::Unsupported, "needs a constant weight zero point");
        const bool transB = m_fused && n.attrInt("transB", 0) != 0;
        m_K = transB ? b->dims()[1] : b->dims()[0];
        m_N = transB ? b->dims()[0] : b->dims()[1];
        if (m_K > kInt8MaxDepth) return ctx.error(StatusCode::Unsupported, "reduction too deep for int32 accumulation");
        if (bzp && bzp->numElements() != 1 && bzp->numElements() != m_N)
            return ctx.error(StatusCode::InvalidInput, "zero point must be a scalar or have " + std::to_string(m_N) + " entries");
        if (m_fused) {
            const std::string act = n.attrString("activation", "");
            std::vector<float> p = n.attrFloats("activation_params");
            m_actLo = -std::numeric_limits<float>::infinity();
            m_actHi = std::numeric_limits<float>::infinity();
            if (act == "Relu") {
                m_actLo = 0.f;
            } else if (act == "Clip") {
                if (p.size() != 2) return ctx.error(StatusCode::InvalidInput, "Clip needs activation_params [min, max]");
                m_actLo = p[0];
                m_actHi = p[1];
            } else if (!act.empty()) {
                return ctx.error(StatusCode::Unsupported, "activation '" + act + "' is not supported");
            }
        }
        const int64_t ld = b->dims()[1];
        // Int8 weights of zero point 0 whose depth pairs cannot saturate vpmaddubsw (per column),
        // or any with VNNI: also packed for the u8 x s8 route (uint8 A, int8_gemm.h).
        m_packedB8.clear();
        m_colSum.clear();
        if (b->dtype() == DataType::Int8) {
            bool zeroZp = true;
            for (int64_t j = 0; bzp && j < bzp->numElements() && zeroZp; ++j) zeroZp = intAt(*bzp, j) == 0;
            const int8_t* bd = b->data<int8_t>();
            auto at = [&](int64_t k, int64_t col) { return int64_t(bd[transB ? col * ld + k : k * ld + col]); };
            m_b8NeedsVnni = false;
            const bool exact = zeroZp && qU8S8Exact(m_N, m_K, [&](int64_t col, int64_t k) { return at(k, col); });
            if (exact || (zeroZp && int8UsesVnni())) { // VNNI's vpdpbusd cannot saturate
                m_b8NeedsVnni = !exact;
                m_packedB8.assign(static_cast<std::size_t>((m_N + kQColTile - 1) / kQColTile * qDepthQuads(m_K) * 64), 0);
                qPackB8(m_packedB8.data(), m_K, m_N, at);
                m_colSum.assign(static_cast<std::size_t>(m_N), 0);
                for (int64_t k = 0; k < m_K; ++k)
                    for (int64_t j = 0; j < m_N; ++j) m_colSum[std::size_t(j)] += at(k, j);
            }
        }
        // The int16 pairs: now, or (when the u8 x s8 form exists) only once a run needs them
        // (int8 A, a per-row zero point, the portable kernels; packInt16FromB8).
        m_packedB.clear();
        if (m_packedB8.empty()) {
            m_packedB.assign(qPackedBElems(m_N, m_K), 0);
            qPackB(m_packedB.data(), m_K, m_N, [&](int64_t k, int64_t col) {
                const int64_t v = intAt(*b, transB ? col * ld + k : k * ld + col);
                const int64_t z = bzp ? intAt(*bzp, bzp->numElements() == 1 ? 0 : col) : 0;
                return v - z;
            });
        }
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        if (!isInt8Like(a.dtype())) return ctx.error(StatusCode::Unsupported, "A must be int8 or uint8");
        if (a.rank() < 1 || a.dims().back() != m_K)
            return ctx.error(StatusCode::InvalidInput, "cannot multiply " + dimsText(a.dims()) + " by [" +
                                                           std::to_string(m_K) + "," + std::to_string(m_N) + "]");
        m_M = a.numElements() / std::max<int64_t>(m_K, 1);
        if (m_K == 0) m_M = numElementsOf(std::span<const int64_t>(a.dims()).first(a.rank() - 1));
        std::vector<int64_t> dims(a.dims().begin(), a.dims().end() - 1);
        dims.push_back(m_N);
        const std::size_t azp = 2;
        if (ctx.hasInput(azp)) {
            const Tensor& z = ctx.input(azp);
            if (z.dtype() != a.dtype() || (z.numElements() != 1 && z.numElements() != m_M))
                return ctx.error(StatusCode::InvalidInput, "zero point must be a scalar or have " + std::to_string(m_M) + " entries");
        }
        if (m_qlinear) {
            const Tensor& bs = ctx.input(4);
            if (ctx.input(1).numElements() != 1 || (bs.numElements() != 1 && bs.numElements() != m_N) ||
                ctx.input(6).numElements() != 1)
                return ctx.error(StatusCode::InvalidInput, "scales must be scalars (or per column of B)");
            m_outType = ctx.hasInput(7) ? ctx.input(7).dtype() : DataType::UInt8;
            if (!isInt8Like(m_outType))
                return ctx.error(StatusCode::Unsupported, "output type " + typeName(m_outType) + " is not supported");
            if (m_fused && ctx.hasInput(8) && (ctx.input(8).dtype() != DataType::Int32 || ctx.input(8).numElements() != m_N))
                return ctx.error(StatusCode::InvalidInput, "bias must be int32 [N]");
        } else {
            m_outType = DataType::Int32;
        }
        // u8 x s8 route: uint8 A with one zero point (a per-row one would not fold into a bias).
        m_u8s8 = !m_packedB8.empty() && a.dtype() == DataType::UInt8 &&
                 (!ctx.hasInput(azp) || ctx.input(azp).numElements() == 1);
        // Whole panels of per-column multipliers and biases (the u8 x s8 route reads 16 at a time).
        const std::size_t padded = static_cast<std::size_t>((m_N + kQColTile - 1) / kQColTile * kQColTile);
        m_mult.assign(padded, 0.f);
        m_biasU8.assign(m_u8s8 ? padded : 0, 0);
        if (!u8s8Runs()) packInt16FromB8();
        ctx.setOutput(0, m_outType, dims);
        ctx.setScratchBytes(qPackedAElems(m_M, m_K) * sizeof(int16_t) + 64);
        return {};
    }

    void run(RunContext& ctx) override {
        const Tensor& a = ctx.input(0);
        int16_t* ap = reinterpret_cast<int16_t*>((reinterpret_cast<uintptr_t>(ctx.scratch()) + 63) & ~uintptr_t(63));
        const Tensor* azp = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        const int64_t K = m_K;
        const bool u8s8 = u8s8Runs();
        if (!u8s8) packInt16FromB8(); // no-op unless the kernels changed since prepare
        auto pack = [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* src = a.data<T>();
            qPackA(ap, m_M, K, [&](int64_t r, int64_t k) {
                const int64_t z = azp ? intAt(*azp, azp->numElements() == 1 ? 0 : r) : 0;
                return static_cast<int64_t>(src[r * K + k]) - z;
            });
        };
        if (u8s8) {
            // Raw uint8 rows as depth quads (the scratch's int16 room is at least as large).
            const uint8_t* src = a.data<uint8_t>();
            qPackRows<4>(reinterpret_cast<uint8_t*>(ap), m_M, K, [&](int64_t r, int64_t k) { return src[r * K + k]; });
        } else if (a.dtype() == DataType::UInt8) {
            pack(TypeTag<uint8_t>{});
        } else {
            pack(TypeTag<int8_t>{});
        }

        QEpilogue epi;
        epi.perColumn = true;
        if (m_qlinear) {
            const float as = floatAt(ctx.input(1), 0), ys = floatAt(ctx.input(6), 0);
            const Tensor& bs = ctx.input(4);
            for (int64_t n = 0; n < m_N; ++n)
                m_mult[std::size_t(n)] = as * floatAt(bs, bs.numElements() == 1 ? 0 : n) / ys;
            const float zy = ctx.hasInput(7) ? static_cast<float>(intAt(ctx.input(7), 0)) : 0.f;
            const bool u8 = m_outType == DataType::UInt8;
            epi.out = u8 ? QEpilogue::Out::UInt8 : QEpilogue::Out::Int8;
            epi.zp = zy;
            epi.lo = u8 ? 0.f : -128.f;
            epi.hi = u8 ? 255.f : 127.f;
            if (m_fused) {
                auto q = [&](float v) { return std::nearbyint(v / ys) + zy; };
                if (std::isfinite(m_actLo)) epi.lo = std::max(epi.lo, q(m_actLo));
                if (std::isfinite(m_actHi)) epi.hi = std::min(epi.hi, q(m_actHi));
                if (epi.hi < epi.lo) epi.hi = epi.lo;
                if (ctx.hasInput(8)) epi.bias = ctx.input(8).data<int32_t>();
            }
            epi.mult = m_mult.data();
        } else {
            epi.out = QEpilogue::Out::Int32;
        }
        if (u8s8) {
            // sum (a - za) * b + bias = sum a * b + (bias - za * column sum of b), wrapping int32.
            const int64_t za = azp ? intAt(*azp, 0) : 0;
            for (int64_t j = 0; j < m_N; ++j)
                m_biasU8[std::size_t(j)] = static_cast<int32_t>(static_cast<uint32_t>(
                    (epi.bias ? int64_t(epi.bias[j]) : 0) - za * m_colSum[std::size_t(j)]));
            epi.bias = m_biasU8.data();
        }
        QGemmArgs g;
        g.a = ap;
        g.m = m_M;
        g.k = K;
        g.n = m_N;
        g.packedB = u8s8 ? reinterpret_cast<const int16_t*>(m_packedB8.data()) : m_packedB.data();
        g.u8s8 = u8s8;
        g.aUnsigned = true;
        g.epi = epi;
        g.out.y = ctx.output(0).raw();
        g.out.ldr = m_N;
        g.out.groupCols = std::max<int64_t>(m_N, 1);
        g.out.groupStride = 0;
        qgemm(g, ctx.pool());
    }

private:
    /// The u8 x s8 route runs: the shape allows it and the kernels in use are exact for B.
    bool u8s8Runs() const { return m_u8s8 && int8UsesAvx2() && (!m_b8NeedsVnni || int8UsesVnni()); }

    /// The int16 pairs from the u8 x s8 quads when they were not packed at init (weights of
    /// zero point 0: the same values in the other layout). Once; a no-op otherwise.
    void packInt16FromB8() {
        if (!m_packedB.empty() || m_packedB8.empty()) return;
        const int64_t kq = qDepthQuads(m_K);
        m_packedB.assign(qPackedBElems(m_N, m_K), 0);
        qPackB(m_packedB.data(), m_K, m_N, [&](int64_t k, int64_t col) {
            return int64_t(m_packedB8[std::size_t(col / kQColTile * kq * 64 + (k / 4) * 64 + col % kQColTile * 4 + k % 4)]);
        });
    }

    bool m_qlinear, m_fused;
    int64_t m_K = 0, m_N = 0, m_M = 0;
    float m_actLo = 0.f, m_actHi = 0.f;
    std::vector<int16_t, std::allocator<int16_t>> m_packedB;
    std::vector<int8_t> m_packedB8;  ///< u8 x s8 route: the weights as int8 quads (qPackB8), or empty
    std::vector<int64_t> m_colSum;   ///< u8 x s8 route: per column, the sum of its weights
    bool m_u8s8 = false;             ///< this shape takes the u8 x s8 route (prepare)
    bool m_b8NeedsVnni = false;      ///< m_packedB8 has pairs past vpmaddubsw's limit (exact on VNNI only)
    std::vector<int32_t> m_biasU8;   ///< per run: bias - za * column sum, padded to whole panels
    DataType m_outType = DataType::UInt8;
    std::vector<float> m_mult;
};

} // namespace

std::unique_ptr<Kernel> makeFastIntMatMul(const InitContext& ctx, bool qlinear) {
    if (!FastIntMatMul::applies(ctx, qlinear)) return nullptr;
    return std::make_unique<FastIntMatMul>(qlinear, false);
}

} // namespace cpu

/// ai.edgewise.QGemm: y = requantize(a x B' + bias) with QLinearMatMul's inputs, an int32 bias
/// (input 8, per column), `transB` and a fused Relu/Clip; written by the QDQ fusion, which
/// guarantees constant 2-D weights.
std::unique_ptr<Kernel> makeQGemm() {
    return std::make_unique<cpu::FastIntMatMul>(true, true);
}

} // namespace ew::rt
