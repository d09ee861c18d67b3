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
        m_packedB.assign(qPackedBElems(m_N, m_K), 0);
        qPackB(m_packedB.data(), m_K, m_N, [&](int64_t k, int64_t col) {
            const int64_t v = intAt(*b, transB ? col * ld + k : k * ld + col);
            const int64_t z = bzp ? intAt(*bzp, bzp->numElements() == 1 ? 0 : col) : 0;
            return v - z;
        });
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
        m_mult.assign(static_cast<std::size_t>(m_N), 0.f);
        ctx.setOutput(0, m_outType, dims);
        ctx.setScratchBytes(qPackedAElems(m_M, m_K) * sizeof(int16_t) + 64);
        return {};
    }

    void run(RunContext& ctx) override {
        const Tensor& a = ctx.input(0);
        int16_t* ap = reinterpret_cast<int16_t*>((reinterpret_cast<uintptr_t>(ctx.scratch()) + 63) & ~uintptr_t(63));
        const Tensor* azp = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        const int64_t K = m_K;
        auto pack = [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* src = a.data<T>();
            qPackA(ap, m_M, K, [&](int64_t r, int64_t k) {
                const int64_t z = azp ? intAt(*azp, azp->numElements() == 1 ? 0 : r) : 0;
                return static_cast<int64_t>(src[r * K + k]) - z;
            });
        };
        if (a.dtype() == DataType::UInt8) pack(TypeTag<uint8_t>{});
        else pack(TypeTag<int8_t>{});

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
        QGemmArgs g;
        g.a = ap;
        g.m = m_M;
        g.k = K;
        g.n = m_N;
        g.packedB = m_packedB.data();
        g.epi = epi;
        g.out.y = ctx.output(0).raw();
        g.out.ldr = m_N;
        g.out.groupCols = std::max<int64_t>(m_N, 1);
        g.out.groupStride = 0;
        qgemm(g, ctx.pool());
    }

private:
    bool m_qlinear, m_fused;
    int64_t m_K = 0, m_N = 0, m_M = 0;
    float m_actLo = 0.f, m_actHi = 0.f;
    std::vector<int16_t, std::allocator<int16_t>> m_packedB;
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
