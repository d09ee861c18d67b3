// The depthwise kernel compiled with -mavx2 -mfma (see conv_depthwise.cpp for the dispatch): the
// AVX2 primitives of conv_depthwise_impl.inc. Plain loops and intrinsics only; every helper has
// internal linkage, so nothing built for AVX2 can be merged into baseline code.
#if defined(__x86_64__) || defined(__i386__)
#include "conv_depthwise.h"

#include "runtime/thread_pool.h"

#include <immintrin.h>

#define EW_DW_INLINE inline __attribute__((always_inline))

namespace ew::rt::cpu {
namespace {

/// r[k] (8 channels of pixel k) -> r[c] (8 pixels of channel c), in place.
EW_DW_INLINE void transpose8(__m256* r) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

void dwPackWeights(const float* w, int64_t kk, int nc, float* wp) {
    for (int64_t k0 = 0; k0 < kk; k0 += 8) {
        const int n = static_cast<int>(kk - k0 < 8 ? kk - k0 : 8);
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 r[8];
        for (int c = 0; c < 8; ++c)
            r[c] = c >= nc  ? _mm256_setzero_ps()
                   : n == 8 ? _mm256_loadu_ps(w + c * kk + k0)
                            : _mm256_maskload_ps(w + c * kk + k0, mask);
        transpose8(r);
        for (int k = 0; k < n; ++k) _mm256_store_ps(wp + (k0 + k) * 8, r[k]);
    }
}

void dwZero(float* dst, int64_t n) {
    for (int64_t f = 0; f < n; f += 8) {
        asm("" : "+r"(dst)); // short fills: keep GCC from turning this into a memset call
        _mm256_store_ps(dst + f, _mm256_setzero_ps());
    }
}

void dwPackColumns(const float* x, int64_t plane, int nc, const float* zeros, int64_t n, bool over, float* dst) {
    const float* src[8];
    for (int c = 0; c < 8; ++c) src[c] = c < nc ? x + c * plane : zeros;
    __m256 r[8];
    if (n >= 8) {
        // Blocks of 8 columns; the last one overlaps the one before when n % 8 != 0.
        for (int64_t u = 0;; u += 8) {
            if (u + 8 > n) u = n - 8;
            for (int c = 0; c < 8; ++c) r[c] = _mm256_loadu_ps(src[c] + u);
            transpose8(r);
            for (int k = 0; k < 8; ++k) _mm256_store_ps(dst + (u + k) * 8, r[k]);
            if (u + 8 >= n) break;
        }
        return;
    }
    if (over) { // reading 8 floats from each row start stays inside x
        for (int c = 0; c < 8; ++c) r[c] = _mm256_loadu_ps(src[c]);
    } else {
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int c = 0; c < 8; ++c) r[c] = _mm256_maskload_ps(src[c], mask);
    }
    transpose8(r);
    for (int k = 0; k < n; ++k) _mm256_store_ps(dst + k * 8, r[k]);
}

/// Accumulators of NB consecutive output pixels (8 channels each) starting at column o0; taps are
/// summed in (i, j) order for every pixel. KW_T > 0: a kernel row's weights stay in registers and
/// each input pixel is loaded once and used by every tap that reads it (sliding window); KW_T == 0:
/// any width, one weight at a time against NB pixels.
template <int NB, int S, int KW_T>
EW_DW_INLINE void dwBlock(const float* const* rows, const float* wp, int64_t KH, int64_t KW, int64_t o0, __m256 bias,
                          __m256* acc) {
#pragma GCC unroll 8
    for (int k = 0; k < NB; ++k) acc[k] = bias;
    if constexpr (KW_T > 0) {
        for (int64_t i = 0; i < KH; ++i) {
            __m256 w[KW_T];
#pragma GCC unroll 8
            for (int j = 0; j < KW_T; ++j) w[j] = _mm256_load_ps(wp + (i * KW_T + j) * 8);
            const float* in = rows[i] + o0 * S * 8;
            asm("" : "+r"(in)); // keeps GCC from hoisting one address register per tap out of the i loop
#pragma GCC unroll 32
            for (int x = 0; x < (NB - 1) * S + KW_T; ++x) {
                const __m256 v = _mm256_load_ps(in + x * 8);
#pragma GCC unroll 8
                for (int j = 0; j < KW_T; ++j) {
                    const int d = x - j; // pixel d / S reads this input with tap j
                    if (d >= 0 && d % S == 0 && d / S < NB) acc[d / S] = _mm256_fmadd_ps(w[j], v, acc[d / S]);
                }
            }
        }
    } else {
        for (int64_t i = 0; i < KH; ++i) {
            const float* in = rows[i] + o0 * S * 8;
            const float* w = wp + i * KW * 8;
            for (int64_t j = 0; j < KW; ++j, in += 8, w += 8) {
                // Hide that consecutive taps read overlapping pixels: otherwise GCC keeps the
                // sliding window in registers, runs out of them and spills an accumulator.
                asm("" : "+r"(in));
                const __m256 wv = _mm256_load_ps(w);
#pragma GCC unroll 8
                for (int k = 0; k < NB; ++k) acc[k] = _mm256_fmadd_ps(wv, _mm256_load_ps(in + k * S * 8), acc[k]);
            }
        }
    }
}

/// Transposes the accumulators to the channel planes, adds the residual, applies the activation
/// and stores the first n pixels of each of the nc channels (all 8 lanes when full: the caller
/// allows writing up to 8 values).
/// ACT is the activation (0 none, 1 Relu, 2 Clip) as a template argument: with it known, the
/// store loop has no branches left (a run-time act cost the fused Conv+BN+Relu ~8% against a plain
/// depthwise Conv on 56x56 maps).
template <int ACT>
EW_DW_INLINE void dwStore(__m256* acc, int n, bool full, float* y, const float* r, int64_t plane, int nc, __m256 lo,
                          __m256 hi) {
    transpose8(acc);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
        if (c >= nc) break;
        __m256 v = acc[c];
        if (r) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r + c * plane) : _mm256_maskload_ps(r + c * plane, mask));
        if (ACT == 1)
            v = _mm256_max_ps(v, _mm256_setzero_ps()); // x > 0 ? x : 0 (NaN -> 0, as applyActivation)
        else if (ACT == 2)
            v = _mm256_min_ps(hi, _mm256_max_ps(lo, v)); // min(max(x, lo), hi) with std:: NaN semantics
        if (full)
            _mm256_storeu_ps(y + c * plane, v);
        else
            _mm256_maskstore_ps(y + c * plane, mask, v);
    }
}

template <int NB, int S, int KW_T, int ACT>
EW_DW_INLINE void dwSmallRow(const float* const* rows, const float* wp, const float* b8, int64_t KH, int64_t KW,
                             float* y, const float* r, int64_t plane, int nc, __m256 lo, __m256 hi, bool spill) {
    __m256 acc[8];
    dwBlock<NB, S, KW_T>(rows, wp, KH, KW, 0, _mm256_load_ps(b8), acc);
    for (int k = NB; k < 8; ++k) acc[k] = _mm256_setzero_ps();
    dwStore<ACT>(acc, NB, spill, y, r, plane, nc, lo, hi);
}

template <int S, int KW_T, int ACT>
void dwOutputRowS(const float* const* rows, const float* wp, const float* b8, int64_t KH, int64_t KW, int64_t OW,
                  float* y, const float* r, int64_t plane, int nc, float lo, float hi, bool spill) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    if (OW >= 8) {
        // Full blocks of 8 pixels; the last one overlaps the one before when OW % 8 != 0 and
        // computes those pixels again in the same order, so it rewrites the same values.
        const __m256 bias = _mm256_load_ps(b8);
        for (int64_t o0 = 0;; o0 += 8) {
            if (o0 + 8 > OW) o0 = OW - 8;
            __m256 acc[8];
            dwBlock<8, S, KW_T>(rows, wp, KH, KW, o0, bias, acc);
            dwStore<ACT>(acc, 8, true, y + o0, r ? r + o0 : nullptr, plane, nc, vlo, vhi);
            if (o0 + 8 >= OW) break;
        }
        return;
    }
    switch (OW) {
    case 1: dwSmallRow<1, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    case 2: dwSmallRow<2, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    case 3: dwSmallRow<3, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    case 4: dwSmallRow<4, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    case 5: dwSmallRow<5, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    case 6: dwSmallRow<6, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    default: dwSmallRow<7, S, KW_T, ACT>(rows, wp, b8, KH, KW, y, r, plane, nc, vlo, vhi, spill); break;
    }
}

void dwOutputRow(const float* const* rows, const float* wp, const float* b8, int64_t KH, int64_t KW, int64_t S,
                 int64_t OW, float* y, const float* r, int64_t plane, int nc, int act, float lo, float hi, bool spill) {
#define EW_DW_ROW(s_, kw_)                                                                                        \
    (act == 1   ? dwOutputRowS<s_, kw_, 1>(rows, wp, b8, KH, KW, OW, y, r, plane, nc, lo, hi, spill)                  \
     : act == 2 ? dwOutputRowS<s_, kw_, 2>(rows, wp, b8, KH, KW, OW, y, r, plane, nc, lo, hi, spill)                  \
                : dwOutputRowS<s_, kw_, 0>(rows, wp, b8, KH, KW, OW, y, r, plane, nc, lo, hi, spill))
    if (S == 1) {
        if (KW == 3) EW_DW_ROW(1, 3);
        else if (KW == 5) EW_DW_ROW(1, 5);
        else EW_DW_ROW(1, 0);
    } else {
        if (KW == 3) EW_DW_ROW(2, 3);
        else if (KW == 5) EW_DW_ROW(2, 5);
        else EW_DW_ROW(2, 0);
    }
#undef EW_DW_ROW
}

} // namespace

#define EW_DW_NAME depthwiseConvAvx2
#define EW_DW_PACK_NAME depthwisePackGroupsAvx2
#define EW_DW_ROWS_NAME depthwiseGroupRowsAvx2
#include "conv_depthwise_impl.inc"
#undef EW_DW_NAME
#undef EW_DW_PACK_NAME
#undef EW_DW_ROWS_NAME
} // namespace ew::rt::cpu
#endif
