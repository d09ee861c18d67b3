// The AVX2+FMA micro-kernels. This file alone is compiled with -mavx2 -mfma; sgemm.cpp calls them
// only after checking the CPU, so the binary still runs on baseline x86-64. Plain loops and
// intrinsics only (no standard-library templates that the linker could merge into baseline code).
#if defined(__x86_64__) || defined(__i386__)
#include "sgemm_micro.h"

#include <immintrin.h>

#include <cstdint>

namespace ew::rt::cpu {

namespace {

/// The epilogue's operands held in registers for a whole tile (loaded once, before any store, so
/// the compiler need not assume a store to C changed them).
struct EpilogueRegs {
    const float* rowBias;
    const float* residual;
    int64_t ldr;
    int act;
    bool colBias;
    __m256 cb0, cb1, lo, hi;
    void load(const MicroEpilogue* e) {
        rowBias = e->rowBias;
        residual = e->residual;
        ldr = e->ldr;
        act = e->act;
        colBias = e->colBias != nullptr;
        cb0 = colBias ? _mm256_loadu_ps(e->colBias) : _mm256_setzero_ps();
        cb1 = colBias ? _mm256_loadu_ps(e->colBias + 8) : _mm256_setzero_ps();
        lo = _mm256_set1_ps(e->alpha);
        hi = _mm256_set1_ps(e->beta);
    }
};

/// Bias, residual and the activation on one 8-wide row segment, in the scalar epilogue's order.
/// ACT (MicroEpilogue::act) is a template argument so the stores of a tile have no branch on it.
template <int ACT>
inline __attribute__((always_inline)) __m256 finish(__m256 v, const EpilogueRegs& e, int r, int half) {
    if (e.rowBias) v = _mm256_add_ps(v, _mm256_broadcast_ss(e.rowBias + r));
    if (e.colBias) v = _mm256_add_ps(v, half ? e.cb1 : e.cb0);
    if (e.residual) v = _mm256_add_ps(v, _mm256_loadu_ps(e.residual + r * e.ldr + half * 8));
    switch (ACT) {
    case 1: v = _mm256_max_ps(v, _mm256_setzero_ps()); break;
    case 2: v = _mm256_min_ps(e.hi, _mm256_max_ps(e.lo, v)); break;
    case 3: {
        const __m256 ge = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
        v = _mm256_blendv_ps(_mm256_mul_ps(v, e.lo), v, ge);
        break;
    }
    case 4: { // HardSwish: v * min(1, max(0, v / 6 + 1/2)), rounded as the scalar epilogue rounds
        __m256 t = _mm256_add_ps(_mm256_div_ps(v, _mm256_set1_ps(6.f)), _mm256_set1_ps(0.5f));
        t = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.f));
        v = _mm256_mul_ps(v, t);
        break;
    }
    default: break;
    }
    return v;
}

} // namespace

namespace {

/// R (6 or 5) rows x 16 columns: 2R accumulators, 2 B vectors, 1 broadcast A; the epilogue's
/// activation ACT (used only when e is non-null). A's depth k starts at ap + k*aStep (R: a packed
/// panel); row r's columns 8..15 are stored hiOff floats after its columns 0..7 (8: one row).
///
/// TAIL: one more column of C, computed in the same pass while the A panel is in registers' reach
/// (a product whose last column panel has 1 to 4 columns attaches one to each of its last full
/// tiles): its B values one per depth step at bt + k*ldbt, its C column at ct (rows ldc apart),
/// no epilogue. The vector runs down the panel's rows (lane r = row r: A's depth slice loaded
/// whole), and each element is still one chain of fused multiply-adds in ascending k, so the
/// column gets the same bits as in a full tile.
template <int R, int ACT, bool TAIL = false>
inline __attribute__((always_inline)) void microKernel(int64_t kc, const float* ap, const float* bp, int64_t ldb,
                                                       float* c, int64_t ldc, bool accumulate, const MicroEpilogue* e,
                                                       const float* pf, int64_t pfLines, int64_t aStep = R,
                                                       int64_t hiOff = 8, const float* bt = nullptr,
                                                       int64_t ldbt = 0, float* ct = nullptr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    __m256 cT = _mm256_setzero_ps();
    // The tail reads 8 floats of A's depth slice (R valid): the last step's read would run past
    // the slice (and maybe the operand's storage), so that step loads under a mask.
    auto step = [&](bool maskedTail) __attribute__((always_inline)) {
        const __m256 b0 = _mm256_loadu_ps(bp);
        const __m256 b1 = _mm256_loadu_ps(bp + 8);
        if (TAIL) {
            const __m256 av = maskedTail ? _mm256_maskload_ps(ap, _mm256_cmpgt_epi32(_mm256_set1_epi32(R),
                                                                                     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
                                         : _mm256_loadu_ps(ap);
            cT = _mm256_fmadd_ps(av, _mm256_broadcast_ss(bt), cT);
            bt += ldbt;
        }
        __m256 a = _mm256_broadcast_ss(ap + 0);
        c00 = _mm256_fmadd_ps(a, b0, c00);
        c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(ap + 1);
        c10 = _mm256_fmadd_ps(a, b0, c10);
        c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(ap + 2);
        c20 = _mm256_fmadd_ps(a, b0, c20);
        c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(ap + 3);
        c30 = _mm256_fmadd_ps(a, b0, c30);
        c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(ap + 4);
        c40 = _mm256_fmadd_ps(a, b0, c40);
        c41 = _mm256_fmadd_ps(a, b1, c41);
        if (R == 6) {
            a = _mm256_broadcast_ss(ap + 5);
            c50 = _mm256_fmadd_ps(a, b0, c50);
            c51 = _mm256_fmadd_ps(a, b1, c51);
        }
        ap += aStep;
        bp += ldb;
    };
    const int64_t kFull = TAIL ? kc - 1 : kc;
    for (int64_t k = 0; k < kFull; ++k) {
        if (k < pfLines) _mm_prefetch(reinterpret_cast<const char*>(pf + k * 16), _MM_HINT_T0);
        step(false);
    }
    if (TAIL && kc > 0) step(true);
    EpilogueRegs er{};
    if (e) er.load(e);
    auto store = [&](int r, __m256 lo, __m256 hi) __attribute__((always_inline)) {
        float* row = c + r * ldc;
        if (accumulate) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + hiOff));
        }
        if (e) {
            lo = finish<ACT>(lo, er, r, 0);
            hi = finish<ACT>(hi, er, r, 1);
        }
        _mm256_storeu_ps(row, lo);
        _mm256_storeu_ps(row + hiOff, hi);
    };
    store(0, c00, c01);
    store(1, c10, c11);
    store(2, c20, c21);
    store(3, c30, c31);
    store(4, c40, c41);
    if (R == 6) store(5, c50, c51);
    if (TAIL) {
        alignas(32) float t[8];
        _mm256_store_ps(t, cT);
        for (int r = 0; r < R; ++r) ct[r * ldc] = accumulate ? t[r] + ct[r * ldc] : t[r];
    }
}

} // namespace

/// microKernel<R, act> for a run-time act.
template <int R>
inline __attribute__((always_inline)) void microKernelAny(int64_t kc, const float* ap, const float* bp, int64_t ldb,
                                                          float* c, int64_t ldc, bool accumulate, const MicroEpilogue* e,
                                                          const float* pf, int64_t pfLines) {
    switch (e ? e->act : 0) {
    case 1: return microKernel<R, 1>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
    case 2: return microKernel<R, 2>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
    case 3: return microKernel<R, 3>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
    case 4: return microKernel<R, 4>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
    default: return microKernel<R, 0>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
    }
}

void sgemmMicroAvx2(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                    const MicroEpilogue* e, const float* pf, int64_t pfLines) {
    microKernelAny<6>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
}

void sgemmMicro5Avx2(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                     const MicroEpilogue* e, const float* pf, int64_t pfLines) {
    microKernelAny<5>(kc, ap, bp, ldb, c, ldc, accumulate, e, pf, pfLines);
}

namespace {

template <int R, int ACT>
void macroKernel(int64_t kc, const float* ap, const float* bp, int64_t ldb, int64_t bPanelStride, int64_t panels,
                 float* c, int64_t ldc, bool accumulate, const MicroEpilogue* e, const float* pf, int64_t pfLines,
                 const float* tailB, int64_t tailLdb, int tailCols, float* tailC) {
    MicroEpilogue eq;
    if (e) eq = *e;
    const int64_t firstTail = panels - tailCols; // tiles from here on carry one tail column each
    for (int64_t q = 0; q < panels; ++q) {
        if (q >= firstTail) {
            microKernel<R, ACT, true>(kc, ap, bp + q * bPanelStride, ldb, c + q * 16, ldc, accumulate,
                                      e ? &eq : nullptr, pf, pfLines, R, 8, tailB + (q - firstTail), tailLdb,
                                      tailC + (q - firstTail));
        } else {
            microKernel<R, ACT>(kc, ap, bp + q * bPanelStride, ldb, c + q * 16, ldc, accumulate, e ? &eq : nullptr, pf,
                                pfLines);
        }
        pf = nullptr;
        pfLines = 0;
        if (eq.colBias) eq.colBias += 16;
        if (eq.residual) eq.residual += 16;
    }
}

} // namespace

/// A compile-time int for the dispatch below (no standard-library templates in this file).
template <int V>
struct IntTag {
    static constexpr int value = V;
};

/// f(IntTag<rows>, IntTag<act>) for h (6 or 5) rows and the epilogue's activation (0 without one).
template <typename F>
inline __attribute__((always_inline)) void byRowsAndAct(int h, const MicroEpilogue* e, F&& f) {
    auto rows = [&](auto r) {
        switch (e ? e->act : 0) {
        case 1: return f(r, IntTag<1>{});
        case 2: return f(r, IntTag<2>{});
        case 3: return f(r, IntTag<3>{});
        case 4: return f(r, IntTag<4>{});
        default: return f(r, IntTag<0>{});
        }
    };
    if (h == 6) rows(IntTag<6>{});
    else rows(IntTag<5>{});
}

void sgemmMacroAvx2(int h, int64_t kc, const float* ap, const float* bp, int64_t ldb, int64_t bPanelStride,
                    int64_t panels, float* c, int64_t ldc, bool accumulate, const MicroEpilogue* e, const float* pf,
                    int64_t pfLines, const float* tailB, int64_t tailLdb, int tailCols, float* tailC) {
    if (!tailB || tailCols > panels) tailCols = 0;
    byRowsAndAct(h, e, [&](auto r, auto a) {
        macroKernel<decltype(r)::value, decltype(a)::value>(kc, ap, bp, ldb, bPanelStride, panels, c, ldc, accumulate,
                                                            e, pf, pfLines, tailB, tailLdb, tailCols, tailC);
    });
}

namespace {

/// 8 float lanes (ymm) and 4 (xmm) behind one interface, for narrowKernel.
struct Lanes8 {
    using V = __m256;
    static V zero() { return _mm256_setzero_ps(); }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};
struct Lanes4 {
    using V = __m128;
    static V zero() { return _mm_setzero_ps(); }
    static V load(const float* p) { return _mm_loadu_ps(p); }
    static V bcast(const float* p) { return _mm_broadcast_ss(p); }
    static V fma(V a, V b, V c) { return _mm_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm_add_ps(a, b); }
    static void store(float* p, V v) { _mm_storeu_ps(p, v); }
};

/// R rows x the lanes of L (8 or 4) columns, no epilogue: the last, narrow column panel of a
/// product (the tile buffer's row stride ldc). Same per-element chains as microKernel.
template <int R, typename L>
void narrowKernel(int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
    typename L::V acc[R];
    for (int r = 0; r < R; ++r) acc[r] = L::zero();
    for (int64_t k = 0; k < kc; ++k) {
        const typename L::V b = L::load(bp);
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) acc[r] = L::fma(L::bcast(ap + r), b, acc[r]);
        ap += R;
        bp += ldb;
    }
    for (int r = 0; r < R; ++r) L::store(c + r * ldc, accumulate ? L::add(acc[r], L::load(c + r * ldc)) : acc[r]);
}

/// NC tail columns of PG panels of height h: acc[g][j] lane r = row r of panel g, column j.
template <int NC, int PG>
void tailColumns(int h, int64_t kc, const float* ap, int64_t aStride, const float* bp, int64_t ldb, float* c,
                 int64_t ldc, int64_t rows, bool accumulate) {
    __m256 acc[PG][NC];
    for (int g = 0; g < PG; ++g)
        for (int j = 0; j < NC; ++j) acc[g][j] = _mm256_setzero_ps();
    // A panel's row vector is h floats; reading 8 runs into the next depth step, except at the
    // last one, which is masked (it may end the operand's storage).
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(h), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    auto step = [&](int64_t k, bool lastStep) {
        __m256 a[PG];
        for (int g = 0; g < PG; ++g) {
            const float* p = ap + g * aStride + k * h;
            a[g] = lastStep ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
        }
        for (int j = 0; j < NC; ++j) {
            const __m256 b = _mm256_broadcast_ss(bp + k * ldb + j);
            for (int g = 0; g < PG; ++g) acc[g][j] = _mm256_fmadd_ps(a[g], b, acc[g][j]);
        }
    };
    for (int64_t k = 0; k + 1 < kc; ++k) step(k, false);
    if (kc > 0) step(kc - 1, true);
    alignas(32) float t[8];
    for (int g = 0; g < PG; ++g)
        for (int j = 0; j < NC; ++j) {
            _mm256_store_ps(t, acc[g][j]);
            for (int r = 0; r < h && g * h + r < rows; ++r) {
                float* d = c + (g * h + r) * ldc + j;
                *d = accumulate ? t[r] + *d : t[r];
            }
        }
}

/// Panels in groups of PG (about eight chains in flight), the rest in groups of PG / 2, PG / 4 ...
template <int NC, int PG>
void tailColumnsAll(int h, int64_t count, int64_t kc, const float* ap, int64_t aStride, const float* bp, int64_t ldb,
                    float* c, int64_t ldc, int64_t rows, bool accumulate) {
    int64_t g = 0;
    for (; g + PG <= count; g += PG)
        tailColumns<NC, PG>(h, kc, ap + g * aStride, aStride, bp, ldb, c + g * h * ldc, ldc, rows - g * h, accumulate);
    if constexpr (PG > 1)
        if (g < count)
            tailColumnsAll<NC, PG / 2>(h, count - g, kc, ap + g * aStride, aStride, bp, ldb, c + g * h * ldc, ldc,
                                       rows - g * h, accumulate);
}

} // namespace

void sgemmTailColumnsAvx2(int cols, int h, int64_t count, int64_t kc, const float* ap, int64_t aStride,
                          const float* bp, int64_t ldb, float* c, int64_t ldc, int64_t rows, bool accumulate) {
    switch (cols) {
    case 1: tailColumnsAll<1, 8>(h, count, kc, ap, aStride, bp, ldb, c, ldc, rows, accumulate); break;
    case 2: tailColumnsAll<2, 4>(h, count, kc, ap, aStride, bp, ldb, c, ldc, rows, accumulate); break;
    case 3: tailColumnsAll<3, 3>(h, count, kc, ap, aStride, bp, ldb, c, ldc, rows, accumulate); break;
    default: tailColumnsAll<4, 2>(h, count, kc, ap, aStride, bp, ldb, c, ldc, rows, accumulate); break;
    }
}

void sgemmMicroNarrowAvx2(int h, int cols, int64_t kc, const float* ap, const float* bp, int64_t ldb, float* c,
                          int64_t ldc, bool accumulate) {
    if (h == 6) {
        if (cols <= 4) narrowKernel<6, Lanes4>(kc, ap, bp, ldb, c, ldc, accumulate);
        else narrowKernel<6, Lanes8>(kc, ap, bp, ldb, c, ldc, accumulate);
    } else {
        if (cols <= 4) narrowKernel<5, Lanes4>(kc, ap, bp, ldb, c, ldc, accumulate);
        else narrowKernel<5, Lanes8>(kc, ap, bp, ldb, c, ldc, accumulate);
    }
}

namespace {

template <int R, int ACT>
void pixelsToGroups(int64_t kc, const float* ap, int64_t lda, const float* bp, int64_t bPanelStride, int64_t panels,
                    float* c, int64_t groupStride, bool accumulate, const MicroEpilogue* e) {
    MicroEpilogue eq;
    if (e) eq = *e;
    for (int64_t q = 0; q < panels; ++q) {
        microKernel<R, ACT>(kc, ap, bp + q * bPanelStride, 16, c + 2 * q * groupStride, 8, accumulate,
                            e ? &eq : nullptr, nullptr, 0, lda, groupStride);
        if (eq.colBias) eq.colBias += 16;
    }
}

} // namespace

void sgemmPixelsToGroupsAvx2(int h, int64_t kc, const float* ap, int64_t lda, const float* bp, int64_t bPanelStride,
                             int64_t panels, float* c, int64_t groupStride, bool accumulate, const MicroEpilogue* e) {
    byRowsAndAct(h, e, [&](auto r, auto a) {
        pixelsToGroups<decltype(r)::value, decltype(a)::value>(kc, ap, lda, bp, bPanelStride, panels, c, groupStride,
                                                               accumulate, e);
    });
}

namespace {

/// R rows x 16 columns over the whole depth, U interleaved chains per accumulator (k % U), added
/// pairwise at the end: enough independent FMAs in flight for one or two rows.
template <int R, int U>
inline __attribute__((always_inline)) void rowsKernel(int64_t k, const float* a, int64_t lda, const float* bp,
                                                      float* c, int64_t ldc) {
    __m256 acc[R][U][2];
    for (int r = 0; r < R; ++r)
        for (int u = 0; u < U; ++u) acc[r][u][0] = acc[r][u][1] = _mm256_setzero_ps();
    int64_t kk = 0;
    for (; kk + U <= k; kk += U) {
#pragma GCC unroll 4
        for (int u = 0; u < U; ++u) {
            const __m256 b0 = _mm256_load_ps(bp + (kk + u) * 16);
            const __m256 b1 = _mm256_load_ps(bp + (kk + u) * 16 + 8);
#pragma GCC unroll 4
            for (int r = 0; r < R; ++r) {
                const __m256 av = _mm256_broadcast_ss(a + r * lda + kk + u);
                acc[r][u][0] = _mm256_fmadd_ps(av, b0, acc[r][u][0]);
                acc[r][u][1] = _mm256_fmadd_ps(av, b1, acc[r][u][1]);
            }
        }
    }
    for (int u = 0; kk < k; ++kk, ++u) {
        const __m256 b0 = _mm256_load_ps(bp + kk * 16);
        const __m256 b1 = _mm256_load_ps(bp + kk * 16 + 8);
        for (int r = 0; r < R; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + r * lda + kk);
            acc[r][u][0] = _mm256_fmadd_ps(av, b0, acc[r][u][0]);
            acc[r][u][1] = _mm256_fmadd_ps(av, b1, acc[r][u][1]);
        }
    }
    for (int r = 0; r < R; ++r) {
        for (int h = 0; h < 2; ++h) {
            __m256 s = acc[r][0][h];
            if (U == 2) s = _mm256_add_ps(s, acc[r][1][h]);
            if (U == 4)
                s = _mm256_add_ps(_mm256_add_ps(s, acc[r][1][h]), _mm256_add_ps(acc[r][2][h], acc[r][3][h]));
            _mm256_storeu_ps(c + r * ldc + h * 8, s);
        }
    }
}

} // namespace

void sgemmRowsMicroAvx2(int rows, int64_t k, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc) {
    switch (rows) {
    case 1: rowsKernel<1, 4>(k, a, lda, bp, c, ldc); break;
    case 2: rowsKernel<2, 2>(k, a, lda, bp, c, ldc); break;
    case 3: rowsKernel<3, 1>(k, a, lda, bp, c, ldc); break;
    default: rowsKernel<4, 1>(k, a, lda, bp, c, ldc); break;
    }
}

} // namespace ew::rt::cpu
#endif
