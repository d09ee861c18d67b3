// Gemm and MatMul (batched, numpy broadcasting of batch dims, 1-D promotion). Reference: each
// output row is accumulated over k in order with a contiguous inner loop over the row; threads
// split rows. Gemm packs a constant transposed B into K x N once, at init.
//
// Float fast paths (the packed SGEMM, bit-identical for any thread count):
//  - constant B (weights): packed once into 16-column panels (Gemm's alpha folded in). Few rows
//    (M <= 4: matrix-vector-like) run one dot product per output, threads splitting the columns
//    so B streams from memory once; more rows pack A per run into session scratch and run the
//    packed GEMM. Gemm's C goes into the epilogue (bias per column, or a full residual).
//  - B computed at run time: A packed per run (per batch entry for MatMul), B packed by the SGEMM.
#include "kernel_util.h"
#include "sgemm.h"

namespace ew::rt {
namespace cpu {
namespace {

/// out[i, :] = sum_k a(i, k) * B[k, :] for rows [r0, r1); B is K x N row-major.
template <typename T, typename AAt>
void rowsTimesB(int64_t r0, int64_t r1, int64_t K, int64_t N, AAt a, const T* B, T* out) {
    for (int64_t i = r0; i < r1; ++i) {
        T* o = out + i * N;
        for (int64_t j = 0; j < N; ++j) o[j] = T(0);
        for (int64_t k = 0; k < K; ++k) {
            const T av = a(i, k);
            const T* b = B + k * N;
            for (int64_t j = 0; j < N; ++j) o[j] += av * b[j];
        }
    }
}

inline int64_t rowChunk(int64_t K, int64_t N) {
    int64_t work = K * N;
    return work >= 65536 ? 1 : 65536 / (work > 0 ? work : 1);
}

/// Rows at or below which a constant-B product runs as dot products (sgemmRowsPacked) rather
/// than through packed A panels.
constexpr int64_t kFewRows = 4;

/// Worth the packed SGEMM when B is not constant: enough work for the packing to pay off.
bool sgemmWorthIt(int64_t m, int64_t k, int64_t n) { return m >= 3 && n >= 8 && m * k * n >= 16384; }

/// Packed A scratch + the A^T copy for few rows (floats).
std::size_t packedAFloats(int64_t m, int64_t k) { return PackedMatrix::packedFloats(m, k) + 16; }

float* alignedScratch(std::byte* p) {
    return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}

class GemmKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_alpha = n.attrFloat("alpha", 1.f);
        m_beta = n.attrFloat("beta", 1.f);
        m_transA = n.attrInt("transA", 0) != 0;
        m_transB = n.attrInt("transB", 0) != 0;
        m_allowFast = !preferReferenceKernels();
        const Tensor* b = ctx.constantInput(1);
        if (b && b->rank() == 2 && b->dtype() == DataType::Float && !preferReferenceKernels()) {
            // B as 16-column panels of K x N, alpha folded in.
            const int64_t K = m_transB ? b->dims()[1] : b->dims()[0], N = m_transB ? b->dims()[0] : b->dims()[1];
            m_panels = PackedColumns::pack(b->data<float>(), K, N, b->dims()[1], m_transB, m_alpha);
        } else if (b && m_transB && b->rank() == 2 && (b->dtype() == DataType::Float || b->dtype() == DataType::Double)) {
            // Pack once: B^T (N x K) -> K x N so every run streams rows.
            int64_t N = b->dims()[0], K = b->dims()[1];
            m_packed = Tensor::allocate(b->dtype(), {K, N});
            std::size_t es = elementSize(b->dtype());
            for (int64_t k = 0; k < K; ++k)
                for (int64_t j = 0; j < N; ++j)
                    std::memcpy(m_packed.raw() + (k * N + j) * es, b->raw() + (j * K + k) * es, es);
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        if (a.rank() != 2 || b.rank() != 2)
            return ctx.error(StatusCode::InvalidInput, "A and B must be 2-D, got " + dimsText(a.dims()) + " and " +
                                                           dimsText(b.dims()));
        if (a.dtype() != b.dtype()) return ctx.error(StatusCode::InvalidInput, "A and B have different types");
        m_M = m_transA ? a.dims()[1] : a.dims()[0];
        m_K = m_transA ? a.dims()[0] : a.dims()[1];
        int64_t kb = m_transB ? b.dims()[1] : b.dims()[0];
        m_N = m_transB ? b.dims()[0] : b.dims()[1];
        if (kb != m_K)
            return ctx.error(StatusCode::InvalidInput, "inner dimensions differ: " + dimsText(a.dims()) +
                                                           (m_transA ? "^T" : "") + " x " + dimsText(b.dims()) +
                                                           (m_transB ? "^T" : ""));
        m_cRow = m_cCol = 0;
        if (ctx.hasInput(2)) {
            const Tensor& c = ctx.input(2);
            int64_t r = static_cast<int64_t>(c.rank());
            int64_t cm = r >= 2 ? c.dims()[r - 2] : 1, cn = r >= 1 ? c.dims()[r - 1] : 1;
            if (r > 2 || (cm != 1 && cm != m_M) || (cn != 1 && cn != m_N) || c.dtype() != a.dtype())
                return ctx.error(StatusCode::InvalidInput, "C " + dimsText(c.dims()) + " does not broadcast to [" +
                                                               std::to_string(m_M) + "," + std::to_string(m_N) + "]");
            m_cRow = cm == 1 ? 0 : cn;
            m_cCol = cn == 1 ? 0 : 1;
        }
        m_fast = a.dtype() == DataType::Float && m_allowFast && (!m_panels.empty() || sgemmWorthIt(m_M, m_K, m_N));
        if (m_fast) {
            std::size_t floats = 0;
            if (m_panels.empty() || m_M > kFewRows) floats = packedAFloats(m_M, m_K);
            else if (m_transA) floats = static_cast<std::size_t>(m_M * m_K) + 16;
            ctx.setScratchBytes(floats * sizeof(float) + 64);
            ctx.setOutput(0, a.dtype(), {m_M, m_N});
            return {};
        }
        m_fn = nullptr;
        dispatch<float, double, int32_t, int64_t, uint32_t, uint64_t>(a.dtype(), [&](auto tag) {
            m_fn = &GemmKernel::runTyped<typename decltype(tag)::type>;
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(a.dtype()) + " is not supported");
        ctx.setOutput(0, a.dtype(), {m_M, m_N});
        return {};
    }
    void run(RunContext& ctx) override {
        ThreadPool::InlineScope serial(m_M * m_N * m_K < kMinParallelMacs);
        if (m_fast) return runFast(ctx);
        (this->*m_fn)(ctx);
    }

private:
    /// Float through the packed SGEMM: C is the epilogue's per-column bias (a row broadcast over
    /// M, beta 1), its residual (full [M, N], beta 1), or else pre-scaled into Y and accumulated.
    void runFast(RunContext& ctx) {
        const float* A = ctx.input(0).data<float>();
        const float* C = ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr;
        float* Y = ctx.output(0).data<float>();
        const int64_t M = m_M, K = m_K, N = m_N;
        ThreadPool& pool = ctx.pool();
        float* scratch = alignedScratch(ctx.scratch());
        Epilogue e;
        if (C) {
            if (m_beta == 1.f && m_cRow == 0 && m_cCol == 1) {
                e.bias = C;
                e.biasPerColumn = true;
            } else if (m_beta == 1.f && m_cRow == N && m_cCol == 1) {
                e.residual = C;
                e.ldr = N;
            } else {
                const float beta = m_beta;
                pool.parallelFor(0, M, std::max<int64_t>(1, 4096 / std::max<int64_t>(N, 1)), [&](int64_t r0, int64_t r1) {
                    for (int64_t i = r0; i < r1; ++i)
                        for (int64_t j = 0; j < N; ++j) Y[i * N + j] = beta * C[i * m_cRow + j * m_cCol];
                });
                e.accumulate = true;
            }
        }
        if (!m_panels.empty()) {
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
            return;
        }
        // B at run time: alpha on A's packed copy would change rounding per element order; it
        // is applied after instead (rare: alpha != 1 with a computed B).
        PackedMatrix pa = PackedMatrix::packInto(scratch, A, M, K, m_transA ? M : K, m_transA, &pool);
        const float* B = ctx.input(1).data<float>();
        if (m_alpha != 1.f) {
            Epilogue plain;
            sgemm(pa, B, m_transB ? K : N, m_transB, N, Y, N, plain, pool);
            const float alpha = m_alpha;
            for (int64_t i = 0; i < M * N; ++i) Y[i] *= alpha;
            if (C)
                for (int64_t i = 0; i < M; ++i)
                    for (int64_t j = 0; j < N; ++j) Y[i * N + j] += m_beta * C[i * m_cRow + j * m_cCol];
            return;
        }
        sgemm(pa, B, m_transB ? K : N, m_transB, N, Y, N, e, pool);
    }

    template <typename T>
    void runTyped(RunContext& ctx) {
        const T* A = ctx.input(0).data<T>();
        const T* Bm = ctx.input(1).data<T>();
        const T* C = ctx.hasInput(2) ? ctx.input(2).data<T>() : nullptr;
        T* Y = ctx.output(0).data<T>();
        const int64_t M = m_M, K = m_K, N = m_N;
        const bool tA = m_transA;
        const T alpha = static_cast<T>(m_alpha), beta = static_cast<T>(m_beta);
        auto aAt = [&](int64_t i, int64_t k) { return tA ? A[k * M + i] : A[i * K + k]; };
        const T* packed = m_packed.empty() ? nullptr : m_packed.data<T>();
        ctx.pool().parallelFor(0, M, rowChunk(K, N), [&](int64_t r0, int64_t r1) {
            if (!m_transB) rowsTimesB<T>(r0, r1, K, N, aAt, Bm, Y);
            else if (packed) rowsTimesB<T>(r0, r1, K, N, aAt, packed, Y);
            else
                for (int64_t i = r0; i < r1; ++i)
                    for (int64_t j = 0; j < N; ++j) {
                        T s = T(0);
                        for (int64_t k = 0; k < K; ++k) s += aAt(i, k) * Bm[j * K + k];
                        Y[i * N + j] = s;
                    }
            for (int64_t i = r0; i < r1; ++i) {
                T* y = Y + i * N;
                for (int64_t j = 0; j < N; ++j) {
                    T v = alpha == T(1) ? y[j] : static_cast<T>(alpha * y[j]);
                    if (C) v = static_cast<T>(v + beta * C[i * m_cRow + j * m_cCol]);
                    y[j] = v;
                }
            }
        });
    }

    float m_alpha = 1.f, m_beta = 1.f;
    bool m_transA = false, m_transB = false;
    bool m_allowFast = true; ///< the packed paths (off when the session was created for reference kernels)
    bool m_fast = false;
    Tensor m_packed;
    PackedColumns m_panels; ///< constant float B as column panels (alpha folded in)
    int64_t m_M = 0, m_K = 0, m_N = 0, m_cRow = 0, m_cCol = 0;
    void (GemmKernel::*m_fn)(RunContext&) = nullptr;
};

class MatMulKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_allowFast = !preferReferenceKernels();
        const Tensor* b = ctx.constantInput(1);
        if (b && b->rank() == 2 && b->dtype() == DataType::Float && m_allowFast)
            m_panels = PackedColumns::pack(b->data<float>(), b->dims()[0], b->dims()[1], b->dims()[1], false);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        if (a.rank() == 0 || b.rank() == 0) return ctx.error(StatusCode::InvalidInput, "MatMul of a scalar");
        if (a.dtype() != b.dtype()) return ctx.error(StatusCode::InvalidInput, "A and B have different types");
        std::vector<int64_t> ad = a.dims(), bd = b.dims();
        bool aVec = ad.size() == 1, bVec = bd.size() == 1;
        if (aVec) ad.insert(ad.begin(), 1);
        if (bVec) bd.push_back(1);
        m_M = ad[ad.size() - 2];
        m_K = ad.back();
        m_N = bd.back();
        if (bd[bd.size() - 2] != m_K)
            return ctx.error(StatusCode::InvalidInput, "inner dimensions differ: " + dimsText(a.dims()) + " x " +
                                                           dimsText(b.dims()));
        std::span<const int64_t> ab(ad.data(), ad.size() - 2), bb(bd.data(), bd.size() - 2);
        std::vector<int64_t> batch;
        if (!broadcastShapes(ab, bb, batch))
            return ctx.error(StatusCode::InvalidInput, "batch dims of " + dimsText(a.dims()) + " and " +
                                                           dimsText(b.dims()) + " do not broadcast");
        Broadcaster<2> bc;
        if (!bc.make(batch, {ab, bb})) return ctx.error(StatusCode::Unsupported, "rank too large");
        int64_t nb = numElementsOf(batch);
        m_aOff.assign(static_cast<std::size_t>(nb), 0);
        m_bOff.assign(static_cast<std::size_t>(nb), 0);
        bc.forRows(0, bc.outerSize(), [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
            for (int64_t i = 0; i < n; ++i) {
                m_aOff[o + i] = (off[0] + i * st[0]) * m_M * m_K;
                m_bOff[o + i] = (off[1] + i * st[1]) * m_K * m_N;
            }
        });
        m_outDims = batch;
        if (!aVec) m_outDims.push_back(m_M);
        if (!bVec) m_outDims.push_back(m_N);
        m_fn = nullptr;
        dispatch<float, double, int32_t, int64_t, uint32_t, uint64_t>(a.dtype(), [&](auto tag) {
            m_fn = &MatMulKernel::runTyped<typename decltype(tag)::type>;
        });
        m_fast = 0;
        if (a.dtype() == DataType::Float && m_allowFast) {
            const int64_t batches = static_cast<int64_t>(m_aOff.size());
            // Constant 2-D B: A's batch is just more rows (m_aOff is then i * M * K).
            if (!m_panels.empty() && b.rank() == 2) m_fast = 1;
            else if (sgemmWorthIt(m_M, m_K, m_N)) m_fast = 2;
            if (m_fast) {
                const int64_t rows = m_fast == 1 ? batches * m_M : m_M;
                ctx.setScratchBytes((m_fast == 1 && rows <= kFewRows ? 0 : packedAFloats(rows, m_K)) * sizeof(float) + 64);
                ctx.setOutput(0, a.dtype(), m_outDims);
                return {};
            }
        }
        if (a.dtype() == DataType::Float16) {
            // Accumulate in float (scratch), round to half once at the end.
            m_fn = &MatMulKernel::runHalf;
            ctx.setScratchBytes(static_cast<std::size_t>(numElementsOf(m_outDims)) * sizeof(float));
        }
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(a.dtype()) + " is not supported");
        ctx.setOutput(0, a.dtype(), m_outDims);
        return {};
    }
    void run(RunContext& ctx) override {
        ThreadPool::InlineScope serial(static_cast<int64_t>(m_aOff.size()) * m_M * m_N * m_K < kMinParallelMacs);
        if (m_fast) return runFast(ctx);
        (this->*m_fn)(ctx);
    }

private:
    void runFast(RunContext& ctx) {
        const float* A = ctx.input(0).data<float>();
        float* Y = ctx.output(0).data<float>();
        ThreadPool& pool = ctx.pool();
        float* scratch = alignedScratch(ctx.scratch());
        const Epilogue none;
        const int64_t batches = static_cast<int64_t>(m_aOff.size());
        if (m_fast == 1) {
            const int64_t rows = batches * m_M;
            if (rows <= kFewRows) return sgemmRowsPacked(A, rows, m_K, m_panels, Y, m_N, none, pool);
            PackedMatrix pa = PackedMatrix::packInto(scratch, A, rows, m_K, m_K, false, &pool);
            return sgemmPacked(pa, m_panels, Y, m_N, none, pool);
        }
        const float* B = ctx.input(1).data<float>();
        for (int64_t bi = 0; bi < batches; ++bi) {
            PackedMatrix pa = PackedMatrix::packInto(scratch, A + m_aOff[bi], m_M, m_K, m_K, false, &pool);
            sgemm(pa, B + m_bOff[bi], m_N, false, m_N, Y + bi * m_M * m_N, m_N, none, pool);
        }
    }

    void runHalf(RunContext& ctx) {
        const Half* A = ctx.input(0).data<Half>();
        const Half* B = ctx.input(1).data<Half>();
        Half* Y = ctx.output(0).data<Half>();
        float* acc = reinterpret_cast<float*>(ctx.scratch());
        const int64_t M = m_M, K = m_K, N = m_N;
        const int64_t rows = static_cast<int64_t>(m_aOff.size()) * M;
        ctx.pool().parallelFor(0, rows, rowChunk(K, N), [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t bi = r / M, i = r % M;
                const Half* a = A + m_aOff[bi] + i * K;
                const Half* b = B + m_bOff[bi];
                float* o = acc + r * N;
                for (int64_t j = 0; j < N; ++j) o[j] = 0.f;
                for (int64_t k = 0; k < K; ++k) {
                    const float av = load(a[k]);
                    const Half* brow = b + k * N;
                    for (int64_t j = 0; j < N; ++j) o[j] += av * load(brow[j]);
                }
                for (int64_t j = 0; j < N; ++j) Y[r * N + j] = store<Half>(o[j]);
            }
        });
    }

    template <typename T>
    void runTyped(RunContext& ctx) {
        const T* A = ctx.input(0).data<T>();
        const T* B = ctx.input(1).data<T>();
        T* Y = ctx.output(0).data<T>();
        const int64_t M = m_M, K = m_K, N = m_N;
        const int64_t rows = static_cast<int64_t>(m_aOff.size()) * M;
        ctx.pool().parallelFor(0, rows, rowChunk(K, N), [&](int64_t r0, int64_t r1) {
            for (int64_t r = r0; r < r1; ++r) {
                int64_t bi = r / M, i = r % M;
                const T* a = A + m_aOff[bi] + i * K;
                rowsTimesB<T>(0, 1, K, N, [&](int64_t, int64_t k) { return a[k]; }, B + m_bOff[bi], Y + r * N);
            }
        });
    }

    int64_t m_M = 0, m_K = 0, m_N = 0;
    int m_fast = 0; ///< 1: constant B panels, 2: SGEMM per batch entry
    bool m_allowFast = true; ///< the packed paths (off when the session was created for reference kernels)
    PackedColumns m_panels;
    std::vector<int64_t> m_aOff, m_bOff, m_outDims;
    void (MatMulKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeGemm() { return std::make_unique<cpu::GemmKernel>(); }
std::unique_ptr<Kernel> makeMatMul() { return std::make_unique<cpu::MatMulKernel>(); }

} // namespace ew::rt
