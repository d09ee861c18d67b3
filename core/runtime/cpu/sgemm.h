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
enum class Activation { None, Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Silu };

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

/// A [M, K] matrix packed once into row panels (the constant operand: conv/Gemm weights). Panels
/// have 6 rows, the last few 5 when that covers M exactly (M = 32 is 6+6+5+5+5+5: no padding
/// rows for the micro-kernel to waste time on); otherwise the last 6-row panel is zero-padded.
/// Inside a panel of h rows, element (r, k) is at panel(p)[k*h + r].
class PackedMatrix {
public:
    /// Packs A (row-major, leading dimension lda) or, with transposed, A^T where `a` holds K x M,
    /// into owned storage (done once, at kernel init).
    static PackedMatrix pack(const float* a, int64_t m, int64_t k, int64_t lda, bool transposed);
    /// Packs into caller storage of packedFloats(m, k) floats (per-run operands; no allocation).
    static PackedMatrix packInto(float* storage, const float* a, int64_t m, int64_t k, int64_t lda,
                                 bool transposed, ThreadPool* pool = nullptr);
    static std::size_t packedFloats(int64_t m, int64_t k);
    /// A view over caller storage of packedFloats(m, k) floats that the caller fills itself:
    /// element (r, k) of panel p at storage[panelRow(p)*depth + k*panelHeight(p) + r], zeros in
    /// the rows past m of a padded last panel.
    static PackedMatrix wrap(float* storage, int64_t m, int64_t k);
    /// The panel layout of an m-row operand without storage: only rows(), depth(), panels(),
    /// panelHeight() and panelRow() are meaningful (for callers that read A in place, panel by
    /// panel, in the micro-kernels' row grouping).
    static PackedMatrix layoutOf(int64_t m, int64_t k);
    /// Rows the micro-kernels compute for an m-row operand (m plus any padding rows).
    static int64_t paddedRows(int64_t m);
    PackedMatrix() = default;
    int64_t rows() const { return m_rows; }
    int64_t depth() const { return m_depth; }
    int64_t panels() const { return m_six + m_five; }
    /// Rows of panel p (6 or 5) and its first row.
    int panelHeight(int64_t p) const { return p < m_six ? 6 : 5; }
    int64_t panelRow(int64_t p) const { return p < m_six ? p * 6 : m_six * 6 + (p - m_six) * 5; }
    const float* panel(int64_t p) const { return m_ptr + panelRow(p) * m_depth; }
    bool empty() const { return m_ptr == nullptr; }
    static constexpr int kPanelRows = 6;

private:
    /// Panel counts for m rows: six-row panels, then five-row ones.
    static void layout(int64_t m, int64_t& six, int64_t& five);
    struct Free {
        void operator()(float* p) const;
    };
    std::unique_ptr<float[], Free> m_owned;
    const float* m_ptr = nullptr;
    int64_t m_rows = 0, m_depth = 0, m_six = 0, m_five = 0;
};

/// A [K, N] matrix packed once into column panels of sgemmColTile() columns, each panel K x 16
/// contiguous (the constant operand when weights are the right-hand side: transposed convs with
/// few output pixels).
class PackedColumns {
public:
    /// b(k, n) = b[k*ldb + n], or b[n*ldb + k] when transposed.
    static PackedColumns pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed);
    /// Same, scaling every element by `scale` (Gemm's alpha folded into constant weights).
    static PackedColumns pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed, float scale);
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

/// Supplies the B operand panel by panel (implicit GEMM: a convolution writes its im2col values
/// straight into the packed layout). pack(ctx, k0, kc, n0, nc, out) writes B's rows [k0, k0+kc) of
/// columns [n0, n0+nc) as ceil(nc/16) panels: panel q holds columns n0+16q .. n0+16q+15, row k of
/// it at out + q*kc*16 + (k-k0)*16, zeros for columns at or past n0+nc. Called from several threads
/// at once (each with its own out); must not allocate.
using PackPanelsFn = void (*)(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out);

/// Where C's elements live: element (m, j) at c + (j / groupCols) * groupStride + m * ldc +
/// j % groupCols. A plain row-major matrix has groupCols = N; a convolution over a batch has
/// columns j = (image b, pixel p) with groupCols = pixels per image and groupStride = the image's
/// output size, so every image lands directly in NCHW. The residual (Epilogue::residual) is laid
/// out the same way with row stride Epilogue::ldr.
struct OutputLayout {
    float* c = nullptr;
    int64_t ldc = 0;
    int64_t groupCols = 0;
    int64_t groupStride = 0;
};

/// C = A (packed) * B (supplied by pack) + epilogue, C written through `out`. Same blocking and
/// summation order as sgemm() (bit-identical for any thread count); tiles that straddle two
/// column groups go through a tile buffer and are scattered. Per-thread B buffers grow once.
void sgemmImplicit(const PackedMatrix& a, PackPanelsFn pack, const void* packCtx, int64_t n, const OutputLayout& out,
                   const Epilogue& epi, ThreadPool& pool);

/// C = A (packed, M x K) x B, single-threaded (callers split the work themselves), B given as
/// `panels` prepacked 16-column panels of the whole depth: panel q at b + q*K*16, row k of it at
/// + k*16 (64-byte aligned). Each output sums over all of K in one pass, in ascending k. C is
/// row-major (leading dimension ldc) with the 16 columns of B panel q at c + q*cPanelStride, and
/// must have room for PackedMatrix::paddedRows(M) rows: the padding rows of a padded last panel
/// are written too (zeros times B). No epilogue.
void sgemmPanels(const PackedMatrix& a, const float* b, int64_t panels, float* c, int64_t ldc, int64_t cPanelStride = 16);

/// The depth block of the K loop: every output element is summed over K in blocks of this many
/// in ascending order, then the blocks are added in order.
int64_t sgemmDepthBlock();

/// y[n] = bias[n] + sum_k x[k] * B(k, n) for rows x of A (M rows, element (i, k) at a[i*lda + k])
/// and B packed as column panels (a Gemm/MatMul with constant weights and few rows: each output
/// is one K-long dot product, summed in the same fixed order whatever the thread split; threads
/// take column panels). C element (i, n) at c[i*ldc + n]; the epilogue's bias is per column.
void sgemmRowsPacked(const float* a, int64_t m, int64_t lda, const PackedColumns& b, float* c, int64_t ldc,
                     const Epilogue& epi, ThreadPool& pool);

/// C[M, N] = A (packed, M x K) * B (K x N; element (k, n) at b[k*ldb + n], or at b[n*ldb + k] when
/// transB), then the epilogue. C element (m, n) lives at c[m*ldc + n]. Every output element sums
/// over K in the same fixed blocks whatever the tiling, so results are bit-identical for any
/// thread count. B panels are packed into per-thread buffers that grow once and are then reused
/// (steady-state calls allocate nothing); with the AVX2 kernel, few rows of A and a plain B whose
/// rows are whole cache lines apart (pointwise convolutions), B's full panels are read in place
/// instead (same arithmetic, same bits).
void sgemm(const PackedMatrix& a, const float* b, int64_t ldb, bool transB, int64_t n, float* c, int64_t ldc,
           const Epilogue& epi, ThreadPool& pool);

} // namespace ew::rt::cpu
