#pragma once
// Single-precision GEMM for the CPU kernels: packed micro-kernels (AVX2+FMA 6x16 where the CPU
// has it, a portable one elsewhere), picked at run time, with a fused epilogue so Conv/Gemm/MatMul
// write bias + residual + activation in the same pass as the product.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ew::rt {
class ThreadPool;
}

namespace ew::rt::cpu {

/// Process-wide switch for tests and benchmarks: when set, kernels skip their optimized paths
/// (packed GEMM, im2col) at init and run the reference loops, so both can be compared.
bool preferReferenceKernels();
void setPreferReferenceKernels(bool reference);

/// Activation applied by the epilogue (after bias and residual).
enum class Activation { None, Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh };

/// What happens to each output element c[m][n] after the product:
///   c = act(c + bias + residual[m][n])
/// bias is per row (conv output channel) unless biasPerColumn (Gemm's bias over N).
struct Epilogue {
    const float* bias = nullptr;
    bool biasPerColumn = false;
    const float* residual = nullptr; ///< same layout as C (row stride ldr)
    int64_t ldr = 0;
    Activation act = Activation::None;
    float alpha = 0.f; ///< Clip min / LeakyRelu slope / HardSigmoid alpha
    float beta = 0.f;  ///< Clip max / HardSigmoid beta
    bool accumulate = false; ///< add the product to C's current contents (Gemm beta = 1)
};

/// Applies the activation to n floats in place (shared with kernels that fuse elsewhere).
void applyActivation(float* x, int64_t n, const Epilogue& e);

/// A [M, K] matrix packed once into MR-row panels (the constant operand: conv/Gemm weights).
class PackedMatrix {
public:
    /// Packs A (row-major, leading dimension lda) or, with transposed, A^T where `a` holds K x M,
    /// into owned storage (done once, at kernel init).
    static PackedMatrix pack(const float* a, int64_t m, int64_t k, int64_t lda, bool transposed);
    /// Packs into caller storage of packedFloats(m, k) floats (per-run operands; no allocation).
    static PackedMatrix packInto(float* storage, const float* a, int64_t m, int64_t k, int64_t lda,
                                 bool transposed, ThreadPool* pool = nullptr);
    static std::size_t packedFloats(int64_t m, int64_t k);
    PackedMatrix() = default;
    int64_t rows() const { return m_rows; }
    int64_t depth() const { return m_depth; }
    const float* panel(int64_t p) const { return m_ptr + p * m_depth * kPanelRows; }
    bool empty() const { return m_ptr == nullptr; }
    static constexpr int kPanelRows = 6;

private:
    struct Free {
        void operator()(float* p) const;
    };
    std::unique_ptr<float[], Free> m_owned;
    const float* m_ptr = nullptr;
    int64_t m_rows = 0, m_depth = 0;
};

/// A [K, N] matrix packed once into column panels of sgemmColTile() columns, each panel K x 16
/// contiguous (the constant operand when weights are the right-hand side: transposed convs with
/// few output pixels).
class PackedColumns {
public:
    /// b(k, n) = b[k*ldb + n], or b[n*ldb + k] when transposed.
    static PackedColumns pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed);
    PackedColumns() = default;
    int64_t depth() const { return m_depth; }
    int64_t cols() const { return m_cols; }
    const float* panel(int64_t p) const { return m_data.get() + p * m_depth * kPanelCols; }
    bool empty() const { return !m_data; }
    static constexpr int kPanelCols = 16;

private:
    struct Free {
        void operator()(float* p) const;
    };
    std::unique_ptr<float[], Free> m_data;
    int64_t m_depth = 0, m_cols = 0;
};

/// C[M, N] = A (packed) * B (packed columns) + epilogue; no per-call packing at all.
void sgemmPacked(const PackedMatrix& a, const PackedColumns& b, float* c, int64_t ldc, const Epilogue& epi,
                 ThreadPool& pool);

/// Row/column panel sizes of the micro-kernel in use.
int sgemmRowTile();
int sgemmColTile();
/// True when the AVX2+FMA kernels are in use (for benchmark labels and tests).
bool sgemmUsesAvx2();
/// Forces the portable kernel (tests compare both on the same machine).
void sgemmForcePortable(bool portable);

/// C[M, N] = A (packed, M x K) * B (K x N; element (k, n) at b[k*ldb + n], or at b[n*ldb + k] when
/// transB), then the epilogue. C element (m, n) lives at c[m*ldc + n]. Every output element sums
/// over K in the same fixed blocks whatever the tiling, so results are bit-identical for any
/// thread count. B panels are packed into per-thread buffers that grow once and are then reused
/// (steady-state calls allocate nothing).
void sgemm(const PackedMatrix& a, const float* b, int64_t ldb, bool transB, int64_t n, float* c, int64_t ldc,
           const Epilogue& epi, ThreadPool& pool);

} // namespace ew::rt::cpu
