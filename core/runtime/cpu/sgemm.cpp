#include "sgemm.h"

#include "activation.h"
#include "sgemm_micro.h"

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

using MicroKernel = void (*)(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc,
                             bool accumulate, const MicroEpilogue* e, const float* pf, int64_t pfLines);

// Portable micro-kernels (6 and 5 rows): the same packing as the AVX2 ones; GCC vectorizes the
// inner loop. No fused epilogue (the caller applies the scalar one).
template <int R>
void microPortable(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                   const MicroEpilogue*, const float*, int64_t) {
    float acc[R][kNR] = {};
    for (int64_t k = 0; k < kc; ++k) {
        const float* a = ap + k * R;
        const float* b = bp + k * ldb;
        for (int r = 0; r < R; ++r)
            for (int j = 0; j < kNR; ++j) acc[r][j] += a[r] * b[j];
    }
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < kNR; ++j) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

std::atomic<bool> g_forcePortable{false};

bool useAvx2() {
#if defined(__x86_64__) || defined(__i386__)
    return cpuHasAvx2Fma() && !g_forcePortable.load(std::memory_order_relaxed);
#else
    return false;
#endif
}

/// The micro-kernel for panels of 6 rows and of 5 rows.
void microKernels(MicroKernel& six, MicroKernel& five) {
#if defined(__x86_64__) || defined(__i386__)
    if (useAvx2()) {
        six = sgemmMicroAvx2;
        five = sgemmMicro5Avx2;
        return;
    }
#endif
    six = microPortable<6>;
    five = microPortable<5>;
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

struct DenseB {
    const float* b;
    int64_t ldb;
    bool transB;
};

/// Packs B[k0:k0+kc, n0:n0+nc] into kNR-column panels (k-major inside a panel), zero-padding the
/// last panel's missing columns.
void packDenseB(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out) {
    const DenseB& d = *static_cast<const DenseB*>(ctx);
    const float* b = d.b;
    const int64_t ldb = d.ldb;
    for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
        const int64_t w = std::min<int64_t>(kNR, nc - j0);
        float* panel = out + j0 * kc;
        if (!d.transB) {
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
    case Activation::Silu: return v / (1.f + std::exp(-v));
    }
    return v;
}

/// Bias, residual and activation over a rows x cols block of C at c (row stride ldc) whose first
/// row is row m0 of the matrix; colBias points at the bias of the block's first column (per-column
/// bias), res at the block's residual (row stride ldr).
void epilogueBlock(float* c, int64_t ldc, int64_t rows, int64_t cols, int64_t m0, const float* colBias,
                   const float* res, int64_t ldr, const Epilogue& e) {
    for (int64_t r = 0; r < rows; ++r) {
        float* row = c + r * ldc;
        if (e.bias) {
            if (e.biasPerColumn) {
                for (int64_t j = 0; j < cols; ++j) row[j] += colBias[j];
            } else {
                const float bv = e.bias[m0 + r];
                for (int64_t j = 0; j < cols; ++j) row[j] += bv;
            }
        }
        if (res) {
            const float* rr = res + r * ldr;
            for (int64_t j = 0; j < cols; ++j) row[j] += rr[j];
        }
        switch (e.act) {
        case Activation::None: break;
        case Activation::Relu:
            for (int64_t j = 0; j < cols; ++j) row[j] = row[j] > 0.f ? row[j] : 0.f;
            break;
        case Activation::Clip:
            for (int64_t j = 0; j < cols; ++j) row[j] = std::min(std::max(row[j], e.alpha), e.beta);
            break;
        case Activation::Silu: silu(row, row, cols); break;
        case Activation::HardSwish: hardSwish(row, row, cols); break;
        case Activation::HardSigmoid: hardSigmoid(row, row, cols, e.alpha, e.beta); break;
        default:
            for (int64_t j = 0; j < cols; ++j) row[j] = activate(row[j], e);
        }
    }
}

/// The activations the AVX2 micro-kernel applies itself (0: it cannot).
int fusedActivation(Activation a) {
    switch (a) {
    case Activation::None: return 0;
    case Activation::Relu: return 1;
    case Activation::Clip: return 2;
    case Activation::LeakyRelu: return 3;
    case Activation::HardSwish: return 4;
    default: return -1;
    }
}

/// Everything a task needs to compute and store one tile.
struct TileContext {
    MicroKernel kernel6, kernel5;
    bool canFuse; ///< the kernel applies the epilogue itself (full, contiguous tiles)
    bool narrow;  ///< narrow last column panels go to sgemmMicroNarrowAvx2
    int fusedAct;
    int64_t m;
    OutputLayout out;
    const Epilogue* epi;
};

/// One rows x cols tile at (m0, global column jg): C += / = A panel x B panel, then the epilogue
/// when this is the last depth block.
/// Where global column jg of C starts (group offset + column in group), or -1 when the cols
/// columns from it straddle two column groups.
inline int64_t columnOffset(const OutputLayout& o, int64_t jg, int64_t cols) {
    if (o.groupCols == 0) return jg;
    const int64_t g = jg / o.groupCols, jj = jg - g * o.groupCols;
    return jj + cols <= o.groupCols ? g * o.groupStride + jj : -1;
}

/// One tile: rows of panel height h from row m0, cols columns from global column jg (colOff from
/// columnOffset()).
void runTile(const TileContext& tc, int64_t kc, const float* ap, int h, const float* bp, int64_t ldb, int64_t m0,
             int64_t jg, int64_t colOff, int64_t cols, bool accumulate, bool last, float* tile, const float* pf = nullptr,
             int64_t pfLines = 0) {
    const Epilogue& epi = *tc.epi;
    const OutputLayout& o = tc.out;
    const MicroKernel kernel = h == 6 ? tc.kernel6 : tc.kernel5;
    const int64_t rows = std::min<int64_t>(h, tc.m - m0);
    if (colOff >= 0) {
        float* cTile = o.c + colOff + m0 * o.ldc;
        const float* rTile = epi.residual ? epi.residual + colOff + m0 * epi.ldr : nullptr;
        const float* colBias = epi.bias && epi.biasPerColumn ? epi.bias + jg : nullptr;
        if (rows == h && cols == kNR) {
            if (last && tc.canFuse) {
                MicroEpilogue me;
                me.rowBias = epi.bias && !epi.biasPerColumn ? epi.bias + m0 : nullptr;
                me.colBias = colBias;
                me.residual = rTile;
                me.ldr = epi.ldr;
                me.act = tc.fusedAct;
                me.alpha = epi.alpha;
                me.beta = epi.beta;
                kernel(kc, ap, bp, ldb, cTile, o.ldc, accumulate, &me, pf, pfLines);
                return;
            }
            kernel(kc, ap, bp, ldb, cTile, o.ldc, accumulate, nullptr, pf, pfLines);
        } else {
            // Edge tile: compute the tile into a buffer (only 4 or 8 columns when that covers the
            // valid ones), then merge the valid part.
            if (accumulate)
                for (int64_t r = 0; r < rows; ++r) std::memcpy(tile + r * kNR, cTile + r * o.ldc, cols * sizeof(float));
#if defined(__x86_64__) || defined(__i386__)
            if (cols <= 8 && tc.narrow)
                sgemmMicroNarrowAvx2(h, static_cast<int>(cols), kc, ap, bp, ldb, tile, kNR, accumulate);
            else
#endif
                kernel(kc, ap, bp, ldb, tile, kNR, accumulate, nullptr, pf, pfLines);
            for (int64_t r = 0; r < rows; ++r) std::memcpy(cTile + r * o.ldc, tile + r * kNR, cols * sizeof(float));
        }
        if (last) epilogueBlock(cTile, o.ldc, rows, cols, m0, colBias, rTile, epi.ldr, epi);
        return;
    }
    // The tile straddles column groups (two images of a batch): through the buffer, segment by
    // segment.
    auto forSegments = [&](auto&& fn) {
        for (int64_t s = 0; s < cols;) {
            const int64_t j = jg + s, gs = j / o.groupCols, js = j - gs * o.groupCols;
            const int64_t len = std::min(cols - s, o.groupCols - js);
            fn(s, len, gs * o.groupStride + js, j);
            s += len;
        }
    };
    if (accumulate)
        forSegments([&](int64_t s, int64_t len, int64_t off, int64_t) {
            for (int64_t r = 0; r < rows; ++r)
                std::memcpy(tile + r * kNR + s, o.c + off + (m0 + r) * o.ldc, len * sizeof(float));
        });
    kernel(kc, ap, bp, ldb, tile, kNR, accumulate, nullptr, pf, pfLines);
    forSegments([&](int64_t s, int64_t len, int64_t off, int64_t j) {
        float* cSeg = o.c + off + m0 * o.ldc;
        for (int64_t r = 0; r < rows; ++r) std::memcpy(cSeg + r * o.ldc, tile + r * kNR + s, len * sizeof(float));
        if (last)
            epilogueBlock(cSeg, o.ldc, rows, len, m0, epi.bias && epi.biasPerColumn ? epi.bias + j : nullptr,
                          epi.residual ? epi.residual + off + m0 * epi.ldr : nullptr, epi.ldr, epi);
    });
}

/// panels full tiles (rows m0 .. m0+h, all inside the matrix) side by side in C from colOff, the
/// AVX2 kernel with the fused epilogue (tc.canFuse).
/// With tailB, the last tailCols tiles also compute one column each of the narrow last column
/// panel (sgemmMacroAvx2's tail: B values tailB + j + k*tailLdb, C column tailC + j); the caller
/// applies the epilogue to those columns.
void runTiles(const TileContext& tc, int64_t kc, const float* ap, int h, const float* bp, int64_t ldb,
              int64_t bPanelStride, int64_t panels, int64_t m0, int64_t jg, int64_t colOff, bool accumulate, bool last,
              const float* pf, int64_t pfLines, const float* tailB = nullptr, int64_t tailLdb = 0, int tailCols = 0,
              float* tailC = nullptr) {
    const Epilogue& epi = *tc.epi;
    const OutputLayout& o = tc.out;
    MicroEpilogue me;
    if (last) {
        me.rowBias = epi.bias && !epi.biasPerColumn ? epi.bias + m0 : nullptr;
        me.colBias = epi.bias && epi.biasPerColumn ? epi.bias + jg : nullptr;
        me.residual = epi.residual ? epi.residual + colOff + m0 * epi.ldr : nullptr;
        me.ldr = epi.ldr;
        me.act = tc.fusedAct;
        me.alpha = epi.alpha;
        me.beta = epi.beta;
    }
#if defined(__x86_64__) || defined(__i386__)
    sgemmMacroAvx2(h, kc, ap, bp, ldb, bPanelStride, panels, o.c + colOff + m0 * o.ldc, o.ldc, accumulate,
                   last ? &me : nullptr, pf, pfLines, tailB, tailLdb, tailCols, tailC);
#else
    (void)tailB;
    (void)tailLdb;
    (void)tailCols;
    (void)tailC;
#endif
}

TileContext tileContext(int64_t m, const OutputLayout& out, const Epilogue& epi) {
    TileContext tc;
    microKernels(tc.kernel6, tc.kernel5);
    tc.fusedAct = fusedActivation(epi.act);
    tc.canFuse = useAvx2() && tc.fusedAct >= 0;
    tc.narrow = useAvx2();
    tc.m = m;
    tc.out = out;
    tc.epi = &epi;
    return tc;
}

/// Whether the micro-kernels should read the panels of a plain (not transposed) B in place
/// rather than from a packed copy. Measured on Zen 3: a clear gain (8-15%) for few rows (the
/// projection convolutions of inverted-residual blocks: every packed value would be used by only
/// a few tiles) when B's rows are whole cache lines apart and a panel's rows of one depth block do
/// not crowd into a few L1 sets; a loss for many rows (each panel is re-read per row panel) and
/// for rows that straddle cache lines.
bool readBInPlace(const DenseB& d, int64_t m, int64_t k) {
    if (d.transB || !useAvx2() || PackedMatrix::paddedRows(m) > 64) return false;
    if (d.ldb % 16 != 0 || reinterpret_cast<uintptr_t>(d.b) % 64 != 0) return false;
    // Rows ldb floats apart spread over 64 / gcd(lines apart, 64) of L1's 64 sets (8 ways each).
    int64_t g = (d.ldb / 16) % 64, sets = 64;
    if (g != 0) {
        int64_t x = 64;
        while (g) {
            const int64_t t = x % g;
            x = g;
            g = t;
        }
        sets = 64 / x;
    } else {
        sets = 1;
    }
    // Rows a multiple of 1 KB apart (fewer than 4 sets) alias too much even for a few rows.
    return sets >= 4 && std::min(kKC, k) <= 16 * sets;
}

/// dense: B is the plain matrix behind packCtx (packDenseB); when it is not transposed and the
/// AVX2 kernel runs, the micro-kernels read its full 16-column panels in place (row stride ldb)
/// and only a partial last panel is packed: the same arithmetic, without copying B.
void sgemmCore(const PackedMatrix& a, PackPanelsFn pack, const void* packCtx, int64_t n, const OutputLayout& outIn,
               const Epilogue& epi, ThreadPool& pool, const DenseB* dense = nullptr) {
    const int64_t m = a.rows();
    const int64_t k = a.depth();
    if (m == 0 || n == 0) return;
    OutputLayout out = outIn;
    if (out.groupCols <= 0) out.groupCols = n;
    if (k == 0) {
        // No product: C = (accumulate ? C : 0), then the epilogue, group by group.
        for (int64_t j = 0; j < n;) {
            const int64_t g = j / out.groupCols, js = j - g * out.groupCols;
            const int64_t len = std::min(n - j, out.groupCols - js);
            float* cSeg = out.c + g * out.groupStride + js;
            if (!epi.accumulate)
                for (int64_t i = 0; i < m; ++i) std::fill(cSeg + i * out.ldc, cSeg + i * out.ldc + len, 0.f);
            epilogueBlock(cSeg, out.ldc, m, len, 0, epi.bias && epi.biasPerColumn ? epi.bias + j : nullptr,
                          epi.residual ? epi.residual + g * out.groupStride + js : nullptr, epi.ldr, epi);
            j += len;
        }
        return;
    }
    const TileContext tc = tileContext(m, out, epi);
    const int64_t panels = a.panels();

    // Tasks: column blocks of up to kNC columns (whole panels) times row blocks (whole panels of
    // A). One thread: kNC-column blocks, rows unsplit. Several: about three tasks per thread, cut
    // where it costs least: every column block reads all of A (its rows), every row block packs
    // (or reads) all of its columns of B again, so the split minimizes
    //   columnBlocks * M*K + rowBlocks * K*N * (cost of packing one B value).
    // Tiling never changes the per-element summation order (fixed kKC blocks in ascending k), so
    // it may depend on the thread count without changing results.
    const int threads = pool.threads();
    const int64_t colPanels = (n + kNR - 1) / kNR;
    const bool readInPlace = dense && readBInPlace(*dense, m, k);
    int64_t blockPanels = kNC / kNR;
    int64_t panelsPerBlock = panels;
    if (threads > 1) {
        const int64_t want = 3 * int64_t(threads);
        const double packCost = readInPlace ? 1.0 : dense ? 2.0 : 4.0;
        double best = -1;
        for (int64_t rb = 1; rb <= std::min<int64_t>(panels, want); ++rb) {
            const int64_t cbWanted = std::clamp<int64_t>((want + rb - 1) / rb, (colPanels + kNC / kNR - 1) / (kNC / kNR), colPanels);
            const int64_t bpc = (colPanels + cbWanted - 1) / cbWanted, cb = (colPanels + bpc - 1) / bpc;
            const int64_t ppb = (panels + rb - 1) / rb, rbActual = (panels + ppb - 1) / ppb;
            double cost = double(cb) * double(m) * double(k) + double(rbActual) * double(k) * double(n) * packCost;
            if (rbActual * cb < want) cost *= 1.0 + double(want - rbActual * cb) / double(want); // too few tasks
            if (best < 0 || cost < best) {
                best = cost;
                blockPanels = bpc;
                panelsPerBlock = ppb;
            }
        }
    }
    const int64_t ncBlock = blockPanels * kNR;
    const int64_t colBlocks = (n + ncBlock - 1) / ncBlock;
    const int64_t rowBlocks = (panels + panelsPerBlock - 1) / panelsPerBlock;
    const int64_t ncMax = std::min<int64_t>(ncBlock, colPanels * kNR);
    const std::size_t scratchFloats = static_cast<std::size_t>(std::min(kKC, k) * (readInPlace ? kNR : ncMax));

    pool.parallelFor(0, rowBlocks * colBlocks, 1, [&](int64_t t0, int64_t t1) {
        float* bp = threadScratch(scratchFloats);
        alignas(64) float tile[kMR * kNR];
        int64_t colOff[kNC / kNR];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t rb = t / colBlocks, cb = t % colBlocks;
            const int64_t n0 = cb * ncBlock;
            const int64_t nc = std::min(ncBlock, n - n0);
            const int64_t p0 = rb * panelsPerBlock;
            const int64_t p1 = std::min(panels, p0 + panelsPerBlock);
            for (int64_t q = 0; q * kNR < nc; ++q)
                colOff[q] = columnOffset(out, n0 + q * kNR, std::min<int64_t>(kNR, nc - q * kNR));
            // Direct: panels [0, direct) read in place from B, the rest packed into bp.
            const int64_t directPanels = readInPlace ? nc / kNR : 0;
            // A partial last panel of at most 4 columns (7x7 maps: 49 = 3 x 16 + 1) runs down the
            // rows (sgemmTailColumnsAvx2), for up to 8 row panels at a time, right after their full
            // tiles.
            const int64_t tailQ = nc / kNR, tailCols = nc % kNR;
            const bool columnTail = tc.narrow && tailCols > 0 && tailCols <= 4 && colOff[tailQ] >= 0;
            const int64_t ncMain = columnTail ? tailQ * kNR : nc;
            for (int64_t pc = 0; pc < k; pc += kKC) {
                const int64_t kc = std::min(kKC, k - pc);
                const bool accumulate = pc > 0 || epi.accumulate;
                const bool last = pc + kc == k;
                if (directPanels * kNR < nc) pack(packCtx, pc, kc, n0 + directPanels * kNR, nc - directPanels * kNR, bp);
                const float* bDirect = readInPlace ? dense->b + pc * dense->ldb + n0 : nullptr;
                // B panel q: where it starts and its row stride.
                auto bPanel = [&](int64_t q, int64_t& ldb) -> const float* {
                    if (q < directPanels) {
                        ldb = dense->ldb;
                        return bDirect + q * kNR;
                    }
                    ldb = kNR;
                    return bp + (q - directPanels) * kNR * kc;
                };
                // The tail columns of panels [t0, t1) (one height), down the rows.
                auto tailRun = [&](int64_t t0, int64_t t1) {
#if defined(__x86_64__) || defined(__i386__)
                    int64_t ldb;
                    const float* bq = bPanel(tailQ, ldb);
                    const int h = a.panelHeight(t0);
                    const int64_t m0 = a.panelRow(t0);
                    const int64_t rows = std::min<int64_t>(a.panelRow(t1 - 1) + h, m) - m0;
                    float* cTail = out.c + colOff[tailQ] + m0 * out.ldc;
                    sgemmTailColumnsAvx2(static_cast<int>(tailCols), h, t1 - t0, kc, a.panel(t0) + pc * h, h * k, bq, ldb,
                                         cTail, out.ldc, rows, accumulate);
                    if (last)
                        epilogueBlock(cTail, out.ldc, rows, tailCols, m0,
                                      epi.bias && epi.biasPerColumn ? epi.bias + n0 + tailQ * kNR : nullptr,
                                      epi.residual ? epi.residual + colOff[tailQ] + m0 * epi.ldr : nullptr, epi.ldr, epi);
#else
                    (void)t0;
                    (void)t1;
#endif
                };
                int64_t tailFrom = p0; // first panel whose tail columns are not done yet
                bool fuseTail = columnTail && tc.canFuse && tailQ >= tailCols && (directPanels == 0 || directPanels == tailQ);
                for (int64_t q = 0; fuseTail && q <= tailQ; ++q) fuseTail = colOff[q] == colOff[0] + q * kNR;
                for (int64_t p = p0; p < p1; ++p) {
                    const int h = a.panelHeight(p);
                    const float* ap = a.panel(p) + pc * h;
                    // While the first tile of this panel runs, fetch the next panel's slice of A
                    // (constant weights are often cold: read from memory once per run).
                    const float* pf = p + 1 < p1 ? a.panel(p + 1) + pc * a.panelHeight(p + 1) : nullptr;
                    const int64_t pfLines = pf ? (kc * a.panelHeight(p + 1) + 15) / 16 : 0;
                    const int64_t m0 = a.panelRow(p);
                    const bool fullRows = m0 + h <= m;
                    // The tail columns ride along with the last full tiles (one each) when all of
                    // this panel's full tiles go to the kernel in one call: A is read once.
                    if (fuseTail && fullRows) {
                        if (tailFrom < p) tailRun(tailFrom, p);
                        tailFrom = p + 1;
                        int64_t ldb, ldbT;
                        const float* b0 = bPanel(0, ldb);
                        const float* bT = bPanel(tailQ, ldbT);
                        float* cTail = out.c + colOff[tailQ] + m0 * out.ldc;
                        runTiles(tc, kc, ap, h, b0, ldb, directPanels > 0 ? kNR : kNR * kc, tailQ, m0, n0, colOff[0],
                                 accumulate, last, pf, pfLines, bT, ldbT, static_cast<int>(tailCols), cTail);
                        if (last)
                            epilogueBlock(cTail, out.ldc, h, tailCols, m0,
                                          epi.bias && epi.biasPerColumn ? epi.bias + n0 + tailQ * kNR : nullptr,
                                          epi.residual ? epi.residual + colOff[tailQ] + m0 * epi.ldr : nullptr, epi.ldr,
                                          epi);
                        continue;
                    }
                    for (int64_t q = 0; q * kNR < ncMain;) {
                        // Full tiles whose columns follow each other in C (and whose B panels are
                        // laid out alike) go to the AVX2 kernel in one call (fused epilogue); the
                        // rest tile by tile.
                        int64_t q1 = q;
                        if (tc.canFuse && fullRows)
                            while ((q1 + 1) * kNR <= nc && colOff[q1] >= 0 && colOff[q1] == colOff[q] + (q1 - q) * kNR &&
                                   (q1 < directPanels) == (q < directPanels))
                                ++q1;
                        int64_t ldb;
                        const float* bq = bPanel(q, ldb);
                        if (q1 - q >= 2) {
                            runTiles(tc, kc, ap, h, bq, ldb, q < directPanels ? kNR : kNR * kc, q1 - q, m0, n0 + q * kNR,
                                     colOff[q], accumulate, last, q == 0 ? pf : nullptr, q == 0 ? pfLines : 0);
                            q = q1;
                            continue;
                        }
                        runTile(tc, kc, ap, h, bq, ldb, m0, n0 + q * kNR, colOff[q], std::min<int64_t>(kNR, nc - q * kNR),
                                accumulate, last, tile, q == 0 ? pf : nullptr, q == 0 ? pfLines : 0);
                        ++q;
                    }
                    // Tails in groups of up to 8 panels of one height, while their A slices are
                    // still in the cache.
                    if (columnTail && (p + 1 == p1 || p + 1 - tailFrom == 8 || a.panelHeight(p + 1) != h)) {
                        tailRun(tailFrom, p + 1);
                        tailFrom = p + 1;
                    }
                }
            }
        }
    });
}

} // namespace

void applyActivation(float* x, int64_t n, const Epilogue& e) {
    Epilogue onlyAct;
    onlyAct.act = e.act;
    onlyAct.alpha = e.alpha;
    onlyAct.beta = e.beta;
    epilogueBlock(x, n, 1, n, 0, nullptr, nullptr, 0, onlyAct);
}

void PackedMatrix::Free::operator()(float* p) const { std::free(p); }

void PackedMatrix::layout(int64_t m, int64_t& six, int64_t& five) {
    // Five-row panels f with m - 5f a multiple of 6 (f < 6), when m is large enough for them.
    const int64_t f = (6 - m % 6) % 6;
    if (m >= 5 * f) {
        five = f;
        six = (m - 5 * f) / 6;
    } else {
        five = 0;
        six = (m + 5) / 6;
    }
}

std::size_t PackedMatrix::packedFloats(int64_t m, int64_t k) {
    int64_t six, five;
    layout(m, six, five);
    return static_cast<std::size_t>(six * 6 + five * 5) * static_cast<std::size_t>(k);
}

int64_t PackedMatrix::paddedRows(int64_t m) {
    int64_t six, five;
    layout(m, six, five);
    return six * 6 + five * 5;
}

PackedMatrix PackedMatrix::wrap(float* storage, int64_t m, int64_t k) {
    PackedMatrix pm;
    pm.m_ptr = storage;
    pm.m_rows = m;
    pm.m_depth = k;
    layout(m, pm.m_six, pm.m_five);
    return pm;
}

PackedMatrix PackedMatrix::layoutOf(int64_t m, int64_t k) {
    PackedMatrix pm;
    pm.m_rows = m;
    pm.m_depth = k;
    layout(m, pm.m_six, pm.m_five);
    return pm;
}

PackedMatrix PackedMatrix::packInto(float* storage, const float* a, int64_t m, int64_t k, int64_t lda, bool transposed,
                                    ThreadPool* pool) {
    PackedMatrix pm;
    pm.m_ptr = storage;
    pm.m_rows = m;
    pm.m_depth = k;
    layout(m, pm.m_six, pm.m_five);
    auto packPanels = [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            const int h = pm.panelHeight(p);
            const int64_t r0 = pm.panelRow(p);
            float* dst = storage + r0 * k;
            const int64_t rows = std::min<int64_t>(h, m - r0);
            if (!transposed && rows == h) {
                const float* s0 = a + r0 * lda;
                for (int64_t kk = 0; kk < k; ++kk) {
                    float* d = dst + kk * h;
                    for (int r = 0; r < h; ++r) d[r] = s0[r * lda + kk];
                }
                continue;
            }
            if (transposed && rows == h) {
                // A^T's rows hold h consecutive values of every panel row: fixed-width copies.
                const float* s0 = a + r0;
                if (h == 6)
                    for (int64_t kk = 0; kk < k; ++kk) std::memcpy(dst + kk * 6, s0 + kk * lda, 6 * sizeof(float));
                else
                    for (int64_t kk = 0; kk < k; ++kk) std::memcpy(dst + kk * 5, s0 + kk * lda, 5 * sizeof(float));
                continue;
            }
            for (int64_t kk = 0; kk < k; ++kk) {
                float* d = dst + kk * h;
                int r = 0;
                if (!transposed)
                    for (; r < rows; ++r) d[r] = a[(r0 + r) * lda + kk];
                else
                    for (; r < rows; ++r) d[r] = a[kk * lda + r0 + r];
                for (; r < h; ++r) d[r] = 0.f;
            }
        }
    };
    const int64_t panels = pm.panels();
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
int64_t sgemmDepthBlock() { return kKC; }
bool sgemmUsesAvx2() { return useAvx2(); }
void sgemmForcePortable(bool portable) { g_forcePortable.store(portable); }

void sgemm(const PackedMatrix& a, const float* b, int64_t ldb, bool transB, int64_t n, float* c, int64_t ldc,
           const Epilogue& epi, ThreadPool& pool) {
    const DenseB d{b, ldb, transB};
    OutputLayout out;
    out.c = c;
    out.ldc = ldc;
    out.groupCols = n;
    sgemmCore(a, packDenseB, &d, n, out, epi, pool, &d);
}

void sgemmPanels(const PackedMatrix& a, const float* b, int64_t panels, float* c, int64_t ldc, int64_t cPanelStride) {
    const int64_t k = a.depth(), np = a.panels();
    if (k == 0) {
        for (int64_t r = 0; r < PackedMatrix::paddedRows(a.rows()); ++r)
            for (int64_t q = 0; q < panels; ++q) std::fill(c + r * ldc + q * cPanelStride, c + r * ldc + q * cPanelStride + kNR, 0.f);
        return;
    }
    MicroKernel six, five;
    microKernels(six, five);
    [[maybe_unused]] const bool avx2 = useAvx2();
    for (int64_t p = 0; p < np; ++p) {
        const int h = a.panelHeight(p);
        const float* ap = a.panel(p);
        float* cp = c + a.panelRow(p) * ldc;
        // Fetch the next weight panel while the first tile of this one runs (it may come from L3
        // or memory).
        const float* pf = p + 1 < np ? a.panel(p + 1) : nullptr;
        const int64_t pfLines = pf ? (k * a.panelHeight(p + 1) + 15) / 16 : 0;
#if defined(__x86_64__) || defined(__i386__)
        if (avx2 && cPanelStride == kNR) {
            sgemmMacroAvx2(h, k, ap, b, kNR, k * kNR, panels, cp, ldc, false, nullptr, pf, pfLines);
            continue;
        }
#endif
        const MicroKernel kernel = h == 6 ? six : five;
        for (int64_t q = 0; q < panels; ++q)
            kernel(k, ap, b + q * k * kNR, kNR, cp + q * cPanelStride, ldc, false, nullptr, q == 0 ? pf : nullptr,
                   q == 0 ? pfLines : 0);
    }
}

void sgemmImplicit(const PackedMatrix& a, PackPanelsFn pack, const void* packCtx, int64_t n, const OutputLayout& out,
                   const Epilogue& epi, ThreadPool& pool) {
    sgemmCore(a, pack, packCtx, n, out, epi, pool);
}

void PackedColumns::Free::operator()(float* p) const { std::free(p); }

PackedColumns PackedColumns::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed) {
    return pack(b, k, n, ldb, transposed, 1.f);
}

PackedColumns PackedColumns::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool transposed, float scale) {
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
                const float v = col < n ? (transposed ? b[col * ldb + kk] : b[kk * ldb + col]) : 0.f;
                dst[kk * kPanelCols + j] = scale == 1.f ? v : v * scale;
            }
    }
    return pc;
}

void sgemmPacked(const PackedMatrix& a, const PackedColumns& b, float* c, int64_t ldc, const Epilogue& epi,
                 ThreadPool& pool) {
    const int64_t m = a.rows(), k = a.depth(), n = b.cols();
    if (m == 0 || n == 0 || k == 0) return;
    OutputLayout out;
    out.c = c;
    out.ldc = ldc;
    out.groupCols = n;
    const TileContext tc = tileContext(m, out, epi);
    const int64_t rowPanels = a.panels();
    const int64_t colPanels = (n + kNR - 1) / kNR;
    // Tasks own a group of column panels and a group of row panels, about four per thread (rows
    // split only when there are too few column panels): every element sums over K in fixed kKC
    // blocks, so any split gives the same bits.
    const int64_t want = 4 * pool.threads();
    const int64_t panelsPerTask = std::max<int64_t>(1, colPanels / want);
    const int64_t colTasks = (colPanels + panelsPerTask - 1) / panelsPerTask;
    const int64_t rowTasks = pool.threads() > 1 ? std::min(rowPanels, (want + colTasks - 1) / colTasks) : 1;
    const int64_t rowsPerTask = (rowPanels + rowTasks - 1) / rowTasks;
    const int64_t tasks = colTasks * ((rowPanels + rowsPerTask - 1) / rowsPerTask);
    pool.parallelFor(0, tasks, 1, [&](int64_t t0, int64_t t1) {
        alignas(64) float tile[kMR * kNR];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t ct = t % colTasks, rt = t / colTasks;
            const int64_t q0 = ct * panelsPerTask, q1 = std::min(colPanels, q0 + panelsPerTask);
            const int64_t p0 = rt * rowsPerTask, p1 = std::min(rowPanels, p0 + rowsPerTask);
            for (int64_t pc = 0; pc < k; pc += kKC) {
                const int64_t kc = std::min(kKC, k - pc);
                const bool accumulate = pc > 0 || epi.accumulate;
                const bool last = pc + kc == k;
                for (int64_t p = p0; p < p1; ++p) {
                    const int h = a.panelHeight(p);
                    const float* ap = a.panel(p) + pc * h;
                    for (int64_t q = q0; q < q1; ++q) {
                        // The first row panel meets each B slice first: fetch the next one
                        // meanwhile (constant weights streaming from memory).
                        const float* pf = nullptr;
                        if (p == p0) pf = q + 1 < q1 ? b.panel(q + 1) + pc * kNR : pc + kKC < k ? b.panel(q0) + (pc + kKC) * kNR : nullptr;
                        const int64_t pfLines = pf ? (q + 1 < q1 ? kc : std::min(kKC, k - pc - kKC)) : 0;
                        runTile(tc, kc, ap, h, b.panel(q) + pc * kNR, kNR, a.panelRow(p), q * kNR, q * kNR,
                                std::min<int64_t>(kNR, n - q * kNR), accumulate, last, tile, pf, pfLines);
                    }
                }
            }
        }
    });
}

void sgemmRowsPacked(const float* a, int64_t m, int64_t lda, const PackedColumns& b, float* c, int64_t ldc,
                     const Epilogue& epi, ThreadPool& pool) {
    const int64_t k = b.depth(), n = b.cols();
    if (m == 0 || n == 0) return;
    [[maybe_unused]] const bool avx2 = useAvx2();
    const int64_t colPanels = (n + kNR - 1) / kNR;
    // Each output is one dot product over the whole depth in a fixed order; threads take column
    // panels (B streams from memory once, split between them).
    const int64_t chunk = std::max<int64_t>(1, colPanels / (4 * pool.threads()));
    pool.parallelFor(0, colPanels, chunk, [&](int64_t q0, int64_t q1) {
        alignas(64) float tile[4 * kNR];
        for (int64_t q = q0; q < q1; ++q) {
            const float* bp = b.panel(q);
            const int64_t n0 = q * kNR, cols = std::min<int64_t>(kNR, n - n0);
            for (int64_t i0 = 0; i0 < m; i0 += 4) {
                const int rows = static_cast<int>(std::min<int64_t>(4, m - i0));
                const float* ar = a + i0 * lda;
#if defined(__x86_64__) || defined(__i386__)
                if (avx2) {
                    sgemmRowsMicroAvx2(rows, k, ar, lda, bp, tile, kNR);
                } else
#endif
                {
                    for (int r = 0; r < rows; ++r) {
                        float acc[kNR] = {};
                        for (int64_t kk = 0; kk < k; ++kk) {
                            const float av = ar[r * lda + kk];
                            for (int j = 0; j < kNR; ++j) acc[j] += av * bp[kk * kNR + j];
                        }
                        std::memcpy(tile + r * kNR, acc, sizeof(acc));
                    }
                }
                float* cTile = c + i0 * ldc + n0;
                for (int r = 0; r < rows; ++r) {
                    float* row = cTile + r * ldc;
                    if (epi.accumulate)
                        for (int64_t j = 0; j < cols; ++j) row[j] += tile[r * kNR + j];
                    else
                        std::memcpy(row, tile + r * kNR, cols * sizeof(float));
                }
                epilogueBlock(cTile, ldc, rows, cols, i0, epi.bias && epi.biasPerColumn ? epi.bias + n0 : nullptr,
                              epi.residual ? epi.residual + i0 * epi.ldr + n0 : nullptr, epi.ldr, epi);
            }
        }
    });
}

} // namespace ew::rt::cpu
