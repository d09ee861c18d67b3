#pragma once
// Internal to the SGEMM and the implicit-GEMM packers: the micro-kernels' plain-data interface,
// shared by the baseline files and the ones compiled with -mavx2 -mfma (no templates, no
// standard-library types: nothing here can be instantiated differently in the two).
#include <cstdint>

namespace ew::rt::cpu {

/// The epilogue a micro-kernel applies while storing a full 6x16 tile of the last depth block:
/// c = act(c + rowBias[r] + colBias[j] + residual[r*ldr + j]), each term only when its pointer is
/// set, in that order (the same order as the scalar epilogue, so both give the same bits).
struct MicroEpilogue {
    const float* rowBias = nullptr; ///< 6 values (one per tile row)
    const float* colBias = nullptr; ///< 16 values (one per tile column)
    const float* residual = nullptr;
    int64_t ldr = 0;
    int act = 0; ///< 0 none, 1 Relu, 2 Clip [alpha, beta], 3 LeakyRelu (slope alpha), 4 HardSwish
    float alpha = 0.f, beta = 0.f;
};

/// 6x16 tile: c = (accumulate ? c : 0) + A panel (kc x 6) * B panel (kc x 16, row k at
/// bp + k*ldb: 16 for a packed panel, the row stride of B when it is read in place), then the
/// epilogue when e is non-null. Meanwhile the pfLines cache lines from pf on are prefetched (an
/// operand a later tile reads for the first time: weights streaming from memory).
void sgemmMicroAvx2(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                    const MicroEpilogue* e, const float* pf, int64_t pfLines);

/// The same for a 5-row panel (A panel kc x 5).
void sgemmMicro5Avx2(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                     const MicroEpilogue* e, const float* pf, int64_t pfLines);

/// Several full tiles side by side: for q < panels, the tile of B panel bp + q*bPanelStride (rows
/// ldb apart) lands at c + q*16 (consecutive columns of C), each with the epilogue (colBias and
/// residual advance by 16 per tile) when e is non-null. h is 6 or 5. The same arithmetic as one
/// call per tile.
/// With tailB, the last tailCols (at most `panels`) tiles also compute one column each of a
/// narrow last column panel in the same pass over A: column j's B values at tailB + j + k*tailLdb,
/// its h rows at tailC + j (rows ldc apart), accumulated like the tiles, no epilogue (the caller
/// applies it). Same per-element arithmetic as sgemmTailColumnsAvx2, at a fraction of its cost:
/// that one reads the A panels again after the tiles have let them leave L1.
void sgemmMacroAvx2(int h, int64_t kc, const float* ap, const float* bp, int64_t ldb, int64_t bPanelStride,
                    int64_t panels, float* c, int64_t ldc, bool accumulate, const MicroEpilogue* e, const float* pf,
                    int64_t pfLines, const float* tailB = nullptr, int64_t tailLdb = 0, int tailCols = 0,
                    float* tailC = nullptr);

/// h (6 or 5) rows x the first 4 (cols <= 4) or 8 (cols <= 8) columns of a B panel, no epilogue:
/// c = (accumulate ? c : 0) + A panel x B's first columns, for the last column panel of a
/// product when it is that narrow. Same per-element arithmetic as sgemmMicroAvx2.
void sgemmMicroNarrowAvx2(int h, int cols, int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c,
                          int64_t ldc, bool accumulate);

/// The last, 1 to 4 columns wide panel of a product for `count` consecutive A panels of height h
/// (6 or 5; panel g's depth slice at ap + g*aStride, [k][h]), no epilogue: rows r < rows of
/// c = (accumulate ? c : 0) + A x B's first `cols` columns (bp, rows ldb apart), row r at c + r*ldc.
/// The vector runs down a panel's rows instead of across columns, and several panels' chains run
/// side by side: a 1-column tail costs one multiply-add per depth step and panel where the narrow
/// kernel spends h latency-bound ones. Same per-element arithmetic as sgemmMicroAvx2.
void sgemmTailColumnsAvx2(int cols, int h, int64_t count, int64_t kc, const float* ap, int64_t aStride,
                          const float* bp, int64_t ldb, float* c, int64_t ldc, int64_t rows, bool accumulate);

/// ai.edgewise.FusedPwDwConv's expansion product (conv_pwdw.cpp): h (6 or 5) pixels as rows, A read
/// in place (pixel r's depth k at ap[k*lda + r]: the input planes), `panels` full 16-channel B
/// panels (bp + q*bPanelStride, rows 16 floats apart) as columns, stored channel-interleaved for
/// the depthwise kernel: channels 16q .. 16q+7 of pixel r at c + 2q*groupStride + r*8, channels
/// 16q+8 .. 16q+15 at c + (2q+1)*groupStride + r*8. Same arithmetic as sgemmMacroAvx2.
void sgemmPixelsToGroupsAvx2(int h, int64_t kc, const float* ap, int64_t lda, const float* bp, int64_t bPanelStride,
                             int64_t panels, float* c, int64_t groupStride, bool accumulate, const MicroEpilogue* e);

/// rows (1..4) x 16 tile of row-major A (row r at a + r*lda) times one K x 16 column panel, the
/// whole depth at once: c[r*ldc + j] = sum_k a[r][k] * bp[k*16 + j] (fixed chain split by rows).
void sgemmRowsMicroAvx2(int rows, int64_t k, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc);

} // namespace ew::rt::cpu
