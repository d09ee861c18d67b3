// ai.edgewise.FusedGemm: Y = act(alpha * A' * B' + beta * C), Gemm's inputs and attributes
// (alpha, beta, transA, transB) plus FusedConv's `activation` / `activation_params` (see
// activation.h). The runtime fusion writes it for Gemm, or 2-D MatMul [+ bias Add], followed by
// an activation (core/runtime/fusion.h), so the activation costs no extra pass over memory.
//
// Float32 only. Constant B (weights) is packed once into column panels with alpha folded in, and
// the product runs through the packed SGEMM with the activation in its epilogue (few rows: one
// dot product per output; more: A packed per run into scratch), exactly as Gemm's fast path so
// the result before the activation is bit-identical to Gemm's. A computed B, or a session that
// prefers reference kernels, runs the reference loop: each output summed over k in order, then
// alpha, beta * C and the activation.
#include "activation.h"
#include "kernel_util.h"
#include "sgemm.h"

namespace ew::rt {
namespace cpu {
namespace {

/// Rows at or below which the product runs as dot products (as in Gemm).
constexpr int64_t kFewRows = 4;

float* alignedScratch(std::byte* p) {
    return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}

class FusedGemmKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        EW_TRY(readActivation(n, m_epi));
        m_alpha = n.attrFloat("alpha", 1.f);
        m_beta = n.attrFloat("beta", 1.f);
        m_transA = n.attrInt("transA", 0) != 0;
        m_transB = n.attrInt("transB", 0) != 0;
        const Tensor* b = ctx.constantInput(1);
        if (b && b->rank() == 2 && b->dtype() == DataType::Float && !preferReferenceKernels()) {
            const int64_t K = m_transB ? b->dims()[1] : b->dims()[0], N = m_transB ? b->dims()[0] : b->dims()[1];
            m_panels = PackedColumns::pack(b->data<float>(), K, N, b->dims()[1], m_transB, m_alpha);
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        if (a.dtype() != DataType::Float || b.dtype() != DataType::Float)
            return ctx.error(StatusCode::Unsupported, "A and B must be float32");
        if (a.rank() != 2 || b.rank() != 2)
            return ctx.error(StatusCode::InvalidInput, "A and B must be 2-D, got " + dimsText(a.dims()) + " and " +
                                                           dimsText(b.dims()));
        m_M = m_transA ? a.dims()[1] : a.dims()[0];
        m_K = m_transA ? a.dims()[0] : a.dims()[1];
        const int64_t kb = m_transB ? b.dims()[1] : b.dims()[0];
        m_N = m_transB ? b.dims()[0] : b.dims()[1];
        if (kb != m_K)
            return ctx.error(StatusCode::InvalidInput, "inner dimensions differ: " + dimsText(a.dims()) +
                                                           (m_transA ? "^T" : "") + " x " + dimsText(b.dims()) +
                                                           (m_transB ? "^T" : ""));
        m_cRow = m_cCol = 0;
        if (ctx.hasInput(2)) {
            const Tensor& c = ctx.input(2);
            const int64_t r = static_cast<int64_t>(c.rank());
            const int64_t cm = r >= 2 ? c.dims()[r - 2] : 1, cn = r >= 1 ? c.dims()[r - 1] : 1;
            if (r > 2 || (cm != 1 && cm != m_M) || (cn != 1 && cn != m_N) || c.dtype() != DataType::Float)
                return ctx.error(StatusCode::InvalidInput, "C " + dimsText(c.dims()) + " does not broadcast to [" +
                                                               std::to_string(m_M) + "," + std::to_string(m_N) + "]");
            m_cRow = cm == 1 ? 0 : cn;
            m_cCol = cn == 1 ? 0 : 1;
        }
        std::size_t floats = 0;
        if (!m_panels.empty()) {
            if (m_M > kFewRows) floats = PackedMatrix::packedFloats(m_M, m_K) + 16;
            else if (m_transA) floats = static_cast<std::size_t>(m_M * m_K) + 16;
        }
        ctx.setScratchBytes(floats ? floats * sizeof(float) + 64 : 0);
        ctx.setOutput(0, DataType::Float, {m_M, m_N});
        return {};
    }
    void run(RunContext& ctx) override {
        ThreadPool::InlineScope serial(m_M * m_N * m_K < kMinParallelMacs);
        if (m_panels.empty()) return runReference(ctx);
        const float* A = ctx.input(0).data<float>();
        const float* C = ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr;
        float* Y = ctx.output(0).data<float>();
        const int64_t M = m_M, K = m_K, N = m_N;
        ThreadPool& pool = ctx.pool();
        Epilogue e = m_epi;
        if (C) {
            // C as the epilogue's per-column bias or residual when beta is 1; otherwise beta * C
            // is written into Y first and the product accumulated onto it (as Gemm does).
            if (m_beta == 1.f && m_cRow == 0 && m_cCol == 1) {
                e.bias = C;
                e.biasPerColumn = true;
            } else if (m_beta == 1.f && m_cRow == N && m_cCol == 1) {
                e.residual = C;
                e.ldr = N;
            } else {
                const float beta = m_beta;
                const int64_t cRow = m_cRow, cCol = m_cCol;
                pool.parallelFor(0, M, std::max<int64_t>(1, 4096 / std::max<int64_t>(N, 1)), [&](int64_t r0, int64_t r1) {
                    for (int64_t i = r0; i < r1; ++i)
                        for (int64_t j = 0; j < N; ++j) Y[i * N + j] = beta * C[i * cRow + j * cCol];
                });
                e.accumulate = true;
            }
        }
        float* scratch = alignedScratch(ctx.scratch());
        if (M <= kFewRows) {
            const float* rows = A;
            if (m_transA) {
                for (int64_t i = 0; i < M; ++i)
                    for (int64_t k = 0; k < K; ++k) scratch[i * K + k] = A[k * M + i];
                rows = scratch;
            }
            sgemmRowsPacked(rows, M, K, m_panels, Y, N, e, pool);
            return;
        }
        PackedMatrix pa = PackedMatrix::packInto(scratch, A, M, K, m_transA ? M : K, m_transA, &pool);
        sgemmPacked(pa, m_panels, Y, N, e, pool);
    }

private:
    void runReference(RunContext& ctx) {
        const float* A = ctx.input(0).data<float>();
        const float* B = ctx.input(1).data<float>();
        const float* C = ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr;
        float* Y = ctx.output(0).data<float>();
        const int64_t M = m_M, K = m_K, N = m_N;
        const bool tA = m_transA, tB = m_transB;
        ctx.pool().parallelFor(0, M, 1, [&](int64_t r0, int64_t r1) {
            for (int64_t i = r0; i < r1; ++i) {
                float* y = Y + i * N;
                for (int64_t j = 0; j < N; ++j) {
                    float s = 0.f;
                    for (int64_t k = 0; k < K; ++k)
                        s += (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
                    float v = m_alpha * s;
                    if (C) v += m_beta * C[i * m_cRow + j * m_cCol];
                    y[j] = v;
                }
                applyActivation(y, N, m_epi);
            }
        });
    }

    Epilogue m_epi; ///< the activation only; bias/residual are bound per run
    float m_alpha = 1.f, m_beta = 1.f;
    bool m_transA = false, m_transB = false;
    PackedColumns m_panels; ///< constant B as column panels (alpha folded in); empty: reference loop
    int64_t m_M = 0, m_K = 0, m_N = 0, m_cRow = 0, m_cCol = 0;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeFusedGemm() { return std::make_unique<cpu::FusedGemmKernel>(); }

} // namespace ew::rt
