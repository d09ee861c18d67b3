#include "sgemm.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ew::rt::cpu {

namespace {

constexpr int kMR = PackedMatrix::kPanelRows; // rows of the micro-tile
constexpr int kNR = 16;                       // columns of the micro-tile
constexpr int64_t kKC = 256;                  // depth block: B micro-panel (kKC x kNR) stays in L1
constexpr int64_t kNC = 256;                  // columns per task: the packed B block lives in L2

using MicroKernel = void (*)(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate);

// Portable micro-kernel: the same packing as the AVX2 one; GCC vectorizes the inner loop.
void microPortable(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate) {
    float acc[kMR][kNR] = {};
    for (int64_t k = 0; k < kc; ++k) {
        const float* a = ap + k * kMR;
        const float* b = bp + k * kNR;
        for (int r = 0; r < kMR; ++r)
            for (int j = 0; j < kNR; ++j) acc[r][j] += a[r] * b[j];
    }
    for (int r = 0; r < kMR; ++r)
        for (int j = 0; j < kNR; ++j) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

} // namespace

// Defined in sgemm_avx2.cpp (compiled with -mavx2 -mfma; only called when the CPU has both).
void sgemmMicroAvx2(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate);

namespace {

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

std::atomic<bool> g_forcePortable{false};

MicroKernel microKernel() {
#if defined(__x86_64__) || defined(__i386__)
    if (cpuHasAvx2Fma() && !g_forcePortable.load(std::memory_order_relaxed)) return sgemmMicroAvx2;
#endif
    return microPortable;
}

void* alignedAlloc(std::size_t floats) {
    std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    return std::aligned_alloc(64, bytes ? bytes : 64);
}

/// Per-thread buffer for packed B blocks: grows once, then reused by every call on that thread.
float* threadScratch(std::size_t floats) {
    struct Buffer {
        float* p = nullptr;
        std::size_t n = 0;
        ~Buffer() { std::free(p); }
    };
    thread_local Buffer buf;
    if (buf.n < floats) {
        std::free(buf.p);
        buf.p = static_cast<float*>(alignedAlloc(floats));
        buf.n = floats;
    }
    return buf.p;
}

/// Packs B[k0:k0+kc, n0:n0+nc] into kNR-column panels (k-major inside a panel), zero-padding the
/// last panel's missing columns.
void packB(const float* b, int64_t ldb, bool transB, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out) {
    for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
        const int64_t w = std::min<int64_t>(kNR, nc - j0);
        float* panel = out + j0 * kc;
        if (!transB) {
            const float* src = b + k0 * ldb + n0 + j0;
            if (w == kNR) {
                for (int64_t k = 0; k < kc; ++k) std::memcpy(panel + k * kNR, src + k * ldb, kNR * sizeof(float));
            } else {
                for (int64_t k = 0; k < kc; ++k) {
                    float* dst = panel + k * kNR;
                    int64_t j = 0;
                    for (; j < w; ++j) dst[j] = src[k * ldb + j];
                    for (; j < kNR; ++j) dst[j] = 0.f;
                }
            }
        } else {
            for (int64_t k = 0; k < kc; ++k) {
                float* dst = panel + k * kNR;
                int64_t j = 0;
                for (; j < w; ++j) dst[j] = b[(n0 + j0 + j) * ldb + k0 + k];
                for (; j < kNR; ++j) dst[j] = 0.f;
            }
        }
    }
}

inline float activate(float v, const Epilogue& e) {
    switch (e.act) {
    case Activation::None: return v;
    case Activation::Relu: return v > 0.f ? v : 0.f;
    case Activation::Clip: return std::min(std::max(v, e.alpha), e.beta);
    case Activation::LeakyRelu: return v >= 0.f ? v : v * e.alpha;
    case Activation::Sigmoid: return 1.f / (1.f + std::exp(-v));
    case Activation::HardSigmoid: return std::min(1.f, std::max(0.f, e.alpha * v + e.beta));
    case Activation::HardSwish: return v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f));
    case Activation::Tanh: return std::tanh(v);
    }
    return v;
}

/// Bias, residual and activation over rows [m0, m1) x columns [n0, n1) of C.
void epilogueTile(float* c, int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1, const Epilogue& e) {
    for (int64_t m = m0; m < m1; ++m) {
        float* row = c + m * ldc;
        if (e.bias) {
            if (e.biasPerColumn) {
                for (int64_t j = n0; j < n1; ++j) row[j] += e.bias[j];
            } else {
                const float bv = e.bias[m];
                for (int64_t j = n0; j < n1; ++j) row[j] += bv;
            }
        }
        if (e.residual) {
            const float* r = e.residual + m * e.ldr;
            for (int64_t j = n0; j < n1; ++j) row[j] += r[j];
        }
        switch (e.act) {
        case Activation::None: break;
        case Activation::Relu:
            for (int64_t j = n0; j < n1; ++j) row[j] = row[j] > 0.f ? row[j] : 0.f;
            break;
        case Activation::Clip:
            for (int64_t j = n0; j < n1; ++j) row[j] = std::min(std::max(row[j], e.alpha), e.beta);
            break;
        default:
            for (int64_t j = n0; j < n1; ++j) row[j] = activate(row[j], e);
        }
    }
}

} // namespace

void applyActivation(float* x, int64_t n, const Epilogue& e) {
    Epilogue onlyAct;
    onlyAct.act = e.act;
    onlyAct.alpha = e.alpha;
    onlyAct.beta = e.beta;
    epilogueTile(x, n, 0, 1, 0, n, onlyAct);
}

void PackedMatrix::Free::operator()(float* p) const { std::free(p); }

std::size_t PackedMatrix::packedFloats(int64_t m, int64_t k) {
    return static_cast<std::size_t>((m + kPanelRows - 1) / kPanelRows) * kPanelRows * static_cast<std::size_t>(k);
}

PackedMatrix PackedMatrix::packInto(float* storage, const float* a, int64_t m, int64_t k, int64_t lda, bool transposed,
                                    ThreadPool* pool) {
    PackedMatrix pm;
    pm.m_ptr = storage;
    pm.m_rows = m;
    pm.m_depth = k;
    const int64_t panels = (m + kPanelRows - 1) / kPanelRows;
    auto packPanels = [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            float* dst = storage + p * k * kPanelRows;
            const int64_t r0 = p * kPanelRows;
            const int64_t rows = std::min<int64_t>(kPanelRows, m - r0);
            for (int64_t kk = 0; kk < k; ++kk) {
                float* d = dst + kk * kPanelRows;
                int r = 0;
                if (!transposed)
                    for (; r < rows; ++r) d[r] = a[(r0 + r) * lda + kk];
                else
                    for (; r < rows; ++r) d[r] = a[kk * lda + r0 + r];
                for (; r < kPanelRows; ++r) d[r] = 0.f;
            }
        }
    };
    if (pool)
        pool->parallelFor(0, panels, 4, packPanels);
    else
        packPanels(0, panels);
    return pm;
}

PackedMatrix PackedMatrix::pack(const float* a, int64_t m, int64_t k, int64_t lda, bool transposed) {
    float* storage = static_cast<float*>(alignedAlloc(packedFloats(m, k)));
    PackedMatrix pm = packInto(storage, a, m, k, lda, transposed);
    pm.m_owned.reset(storage);
    return pm;
}

namespace {
std::atomic<bool> g_preferReference{false};
}
bool preferReferenceKernels() { return g_preferReference.load(std::memory_order_relaxed); }
void setPreferReferenceKernels(bool reference) { g_preferReference.store(reference); }

int sgemmRowTile() { return kMR; }
int sgemmColTile() { return kNR; }
bool sgemmUsesAvx2() { return microKernel() != microPortable; }
void sgemmForcePortable(bool portable) { g_forcePortable.store(portable); }

void sgemm(const PackedMatrix& a, const float* b, int64_t ldb, bool transB, int64_t n, float* c, int64_t ldc,
           const Epilogue& epi, ThreadPool& pool) {
    const int64_t m = a.rows();
    const int64_t k = a.depth();
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (int64_t i = 0; i < m; ++i)
            if (!epi.accumulate) std::fill(c + i * ldc, c + i * ldc + n, 0.f);
        epilogueTile(c, ldc, 0, m, 0, n, epi);
        return;
    }
    const MicroKernel kernel = microKernel();
    const int64_t panels = (m + kMR - 1) / kMR;

    // Tasks: column blocks of kNC, and row blocks when there are too few column blocks to keep
    // every thread busy. Tiling never changes the per-element summation order (fixed kKC blocks
    // in ascending k), so it may depend on the thread count without changing results.
    const int64_t colBlocks = (n + kNC - 1) / kNC;
    const int threads = pool.threads();
    int64_t rowBlocks = 1;
    if (colBlocks < 2 * threads) rowBlocks = std::min<int64_t>(panels, (2 * threads + colBlocks - 1) / colBlocks);
    const int64_t panelsPerBlock = (panels + rowBlocks - 1) / rowBlocks;
    rowBlocks = (panels + panelsPerBlock - 1) / panelsPerBlock;
    const int64_t ncMax = std::min<int64_t>(kNC, (n + kNR - 1) / kNR * kNR);
    const std::size_t scratchFloats = static_cast<std::size_t>(std::min(kKC, k) * ncMax);

    pool.parallelFor(0, rowBlocks * colBlocks, 1, [&](int64_t t0, int64_t t1) {
        float* bp = threadScratch(scratchFloats);
        alignas(64) float tile[kMR * kNR];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t rb = t / colBlocks, cb = t % colBlocks;
            const int64_t n0 = cb * kNC;
            const int64_t nc = std::min(kNC, n - n0);
            const int64_t p0 = rb * panelsPerBlock;
            const int64_t p1 = std::min(panels, p0 + panelsPerBlock);
            for (int64_t pc = 0; pc < k; pc += kKC) {
                const int64_t kc = std::min(kKC, k - pc);
                const bool accumulate = pc > 0 || epi.accumulate;
                const bool last = pc + kc == k;
                packB(b, ldb, transB, pc, kc, n0, nc, bp);
                for (int64_t p = p0; p < p1; ++p) {
                    const float* ap = a.panel(p) + pc * kMR;
                    const int64_t m0 = p * kMR;
                    const int64_t rows = std::min<int64_t>(kMR, m - m0);
                    for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
                        const int64_t cols = std::min<int64_t>(kNR, nc - j0);
                        float* cTile = c + m0 * ldc + n0 + j0;
                        if (rows == kMR && cols == kNR) {
                            kernel(kc, ap, bp + j0 * kc, cTile, ldc, accumulate);
                        } else {
                            // Edge tile: compute the full tile into a buffer, then merge the
                            // valid part.
                            if (accumulate)
                                for (int64_t r = 0; r < rows; ++r)
                                    std::memcpy(tile + r * kNR, cTile + r * ldc, cols * sizeof(float));
                            kernel(kc, ap, bp + j0 * kc, tile, kNR, accumulate);
                            for (int64_t r = 0; r < rows; ++r)
                                std::memcpy(cTile + r * ldc, tile + r * kNR, cols * sizeof(float));
                        }
                        if (last) epilogueTile(c, ldc, m0, m0 + rows, n0 + j0, n0 + j0 + cols, epi);
                    }
                }
            }
        }
    });
}

void PackedColumns::Free::operator()(float* p) const { std::free(p); }

PackedColumns PackedColumns::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed) {
    PackedColumns pc;
    pc.m_depth = k;
    pc.m_cols = n;
    const int64_t panels = (n + kPanelCols - 1) / kPanelCols;
    pc.m_data.reset(static_cast<float*>(alignedAlloc(static_cast<std::size_t>(panels * kPanelCols * k))));
    for (int64_t p = 0; p < panels; ++p) {
        float* dst = pc.m_data.get() + p * k * kPanelCols;
        for (int64_t kk = 0; kk < k; ++kk)
            for (int64_t j = 0; j < kPanelCols; ++j) {
                const int64_t col = p * kPanelCols + j;
                dst[kk * kPanelCols + j] = col < n ? (transposed ? b[col * ldb + kk] : b[kk * ldb + col]) : 0.f;
            }
    }
    return pc;
}

void sgemmPacked(const PackedMatrix& a, const PackedColumns& b, float* c, int64_t ldc, const Epilogue& epi,
                 ThreadPool& pool) {
    const int64_t m = a.rows(), k = a.depth(), n = b.cols();
    if (m == 0 || n == 0 || k == 0) return;
    const MicroKernel kernel = microKernel();
    const int64_t rowPanels = (m + kMR - 1) / kMR;
    const int64_t colPanels = (n + kNR - 1) / kNR;
    // Tasks own a group of column panels (all rows): every element sums over K in fixed kKC
    // blocks, so any split gives the same bits.
    const int64_t panelsPerTask = std::max<int64_t>(1, (colPanels + 2 * pool.threads() - 1) / (2 * pool.threads()));
    const int64_t tasks = (colPanels + panelsPerTask - 1) / panelsPerTask;
    pool.parallelFor(0, tasks, 1, [&](int64_t t0, int64_t t1) {
        alignas(64) float tile[kMR * kNR];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t q0 = t * panelsPerTask, q1 = std::min(colPanels, q0 + panelsPerTask);
            for (int64_t pc = 0; pc < k; pc += kKC) {
                const int64_t kc = std::min(kKC, k - pc);
                const bool accumulate = pc > 0 || epi.accumulate;
                const bool last = pc + kc == k;
                for (int64_t p = 0; p < rowPanels; ++p) {
                    const float* ap = a.panel(p) + pc * kMR;
                    const int64_t m0 = p * kMR;
                    const int64_t rows = std::min<int64_t>(kMR, m - m0);
                    for (int64_t q = q0; q < q1; ++q) {
                        const float* bp = b.panel(q) + pc * kNR;
                        const int64_t n0 = q * kNR;
                        const int64_t cols = std::min<int64_t>(kNR, n - n0);
                        float* cTile = c + m0 * ldc + n0;
                        if (rows == kMR && cols == kNR) {
                            kernel(kc, ap, bp, cTile, ldc, accumulate);
                        } else {
                            if (accumulate)
                                for (int64_t r = 0; r < rows; ++r)
                                    std::memcpy(tile + r * kNR, cTile + r * ldc, cols * sizeof(float));
                            kernel(kc, ap, bp, tile, kNR, accumulate);
                            for (int64_t r = 0; r < rows; ++r)
                                std::memcpy(cTile + r * ldc, tile + r * kNR, cols * sizeof(float));
                        }
                        if (last) epilogueTile(c, ldc, m0, m0 + rows, n0, n0 + cols, epi);
                    }
                }
            }
        }
    });
}

} // namespace ew::rt::cpu
