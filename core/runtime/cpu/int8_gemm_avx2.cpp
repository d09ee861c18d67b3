// The AVX2 integer micro-kernel and requantizing store (see int8_gemm.h). This file alone is
// compiled with -mavx2 -mfma; int8_gemm.cpp calls into it only when the CPU has AVX2.
#if defined(__x86_64__) || defined(__i386__)
#include "int8_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace ew::rt::cpu {

namespace {

/// h x 16 tile: per depth pair, two 16-column B vectors (column pairs of int16) and one broadcast
/// int16 pair of A per row; vpmaddwd multiplies and adds each pair exactly into int32.
template <int H>
void micro(int64_t kp, const int16_t* a, const int16_t* b, int32_t* c) {
    __m256i acc0[H], acc1[H];
    for (int r = 0; r < H; ++r) acc0[r] = acc1[r] = _mm256_setzero_si256();
    for (int64_t q = 0; q < kp; ++q) {
        const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q * 32));
        const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q * 32 + 16));
        const int16_t* ap = a + q * H * 2;
        for (int r = 0; r < H; ++r) {
            int32_t pair;
            std::memcpy(&pair, ap + r * 2, sizeof(pair));
            const __m256i av = _mm256_set1_epi32(pair);
            acc0[r] = _mm256_add_epi32(acc0[r], _mm256_madd_epi16(av, b0));
            acc1[r] = _mm256_add_epi32(acc1[r], _mm256_madd_epi16(av, b1));
        }
    }
    for (int r = 0; r < H; ++r) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * 16), acc0[r]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * 16 + 8), acc1[r]);
    }
}

#define EW_INT8_VNNI 0
#include "int8_tile_impl.inc"
#undef EW_INT8_VNNI

template <typename T>
void store(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, T* y) {
    int64_t i = 0;
    if constexpr (std::is_same_v<T, int32_t>) {
        for (; i + 8 <= n; i += 8) {
            __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
            if (e.bias)
                v = _mm256_add_epi32(v, e.perColumn ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.bias + ch + i))
                                                    : _mm256_set1_epi32(e.bias[ch]));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), v);
        }
        for (; i < n; ++i) y[i] = acc[i] + (e.bias ? e.bias[e.perColumn ? ch + i : ch] : 0);
    } else {
        const __m256 zp = _mm256_set1_ps(e.zp), lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
        for (; i + 8 <= n; i += 8) {
            __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
            if (e.bias)
                v = _mm256_add_epi32(v, e.perColumn ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.bias + ch + i))
                                                    : _mm256_set1_epi32(e.bias[ch]));
            const __m256 m = e.perColumn ? _mm256_loadu_ps(e.mult + ch + i) : _mm256_set1_ps(e.mult[ch]);
            __m256 f = _mm256_round_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), m), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            f = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(f, zp), lo), hi);
            const __m256i q = _mm256_cvtps_epi32(f);
            const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            const __m128i bytes = std::is_same_v<T, uint8_t> ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
            _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), bytes);
        }
        for (; i < n; ++i) {
            const int64_t c = e.perColumn ? ch + i : ch;
            const int32_t v = acc[i] + (e.bias ? e.bias[c] : 0);
            float f = std::nearbyint(static_cast<float>(v) * e.mult[c]) + e.zp;
            f = std::min(std::max(f, e.lo), e.hi);
            y[i] = static_cast<T>(static_cast<int32_t>(f));
        }
    }
}

} // namespace

void qMicroKernelAvx2(int64_t kp, const int16_t* a, int h, const int16_t* b, int32_t* c) {
    switch (h) {
    case 5: return micro<5>(kp, a, b, c);
    case 4: return micro<4>(kp, a, b, c);
    case 3: return micro<3>(kp, a, b, c);
    case 2: return micro<2>(kp, a, b, c);
    default: return micro<1>(kp, a, b, c);
    }
}

void qMicroStoreRunAvx2(int route, int64_t kp, const int16_t* a, int h, const int16_t* b, const QEpilogue& e,
                        int64_t ch0, const QTileRun& run, void* out, int64_t ldr) {
    microStoreRunTyped(route, kp, a, h, b, e, ch0, run, out, ldr);
}

void qStoreRowAvx2(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
    switch (e.out) {
    case QEpilogue::Out::UInt8:
        return store(acc, n, ch, e, static_cast<uint8_t*>(out) + at);
    case QEpilogue::Out::Int8:
        return store(acc, n, ch, e, static_cast<int8_t*>(out) + at);
    case QEpilogue::Out::Int32:
        return store(acc, n, ch, e, static_cast<int32_t*>(out) + at);
    }
}

namespace {

/// One depth pair of a panel from 16 consecutive int16 of rows k and k+1.
inline void interleave16(__m256i a, __m256i b, int16_t* out) {
    const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
}

/// The even elements of 32 int16 at p, in order.
inline __m256i evens32(const int16_t* p) {
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16));
    // Sign-extend each even element to int32, then pack back (the values fit: no saturation).
    const __m256i e0 = _mm256_srai_epi32(_mm256_slli_epi32(v0, 16), 16);
    const __m256i e1 = _mm256_srai_epi32(_mm256_slli_epi32(v1, 16), 16);
    return _mm256_permute4x64_epi64(_mm256_packs_epi32(e0, e1), 0xD8);
}

/// The int16 pair (lo, hi) as one int32 lane, for vpmaddwd.
inline __m256i pairOf(int32_t lo, int32_t hi) {
    return _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(lo)) |
                                                  (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16)));
}

/// Stores 8 int32 accumulators (bias included) through the epilogue: n <= 8 of them.
template <typename T>
inline void storeAcc8(__m256i v, int64_t n, float mult, const QEpilogue& e, T* y) {
    if constexpr (std::is_same_v<T, int32_t>) {
        if (n == 8) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), v);
        } else {
            alignas(32) int32_t tmp[8];
            _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), v);
            std::memcpy(y, tmp, static_cast<std::size_t>(n) * sizeof(int32_t));
        }
    } else {
        // The reference formula: nearbyint(float(acc) * mult) + zp, clamped (see int8_gemm.h).
        __m256 f = _mm256_round_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(mult)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        f = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(f, _mm256_set1_ps(e.zp)), _mm256_set1_ps(e.lo)), _mm256_set1_ps(e.hi));
        const __m256i q = _mm256_cvtps_epi32(f);
        const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        const __m128i bytes = std::is_same_v<T, uint8_t> ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
        if (n == 8) {
            _mm_storel_epi64(reinterpret_cast<__m128i*>(y), bytes);
        } else {
            alignas(16) T tmp[16];
            _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
            std::memcpy(y, tmp, static_cast<std::size_t>(n) * sizeof(T));
        }
    }
}

/// Depthwise plane, 8 output pixels at a time with the accumulator in a register. Stride 1:
/// each tap is 8 int16 widened to int32 and multiplied by the pair (w, 0). Stride 2: 16 int16
/// from the tap's first column are the pairs (x[2o + j], x[2o + j + 1]), so one vpmaddwd with
/// (w_j, w_{j+1}) does two adjacent taps at once.
template <int SW, typename T>
void dwPlane(const QDwPlane& p, int64_t ch, const QEpilogue& e, T* y) {
    const int64_t taps = p.KH * p.KW;
    __m256i wv[64];
    int64_t loads[64]; // per weight vector: element offset of its load within the window row block
    int nw = 0;
    for (int64_t i = 0; i < p.KH; ++i) {
        const int16_t* wr = p.w + i * p.KW;
        if (SW == 2 && p.dw == 1) {
            int64_t j = 0;
            for (; j + 1 < p.KW; j += 2) {
                wv[nw] = pairOf(wr[j], wr[j + 1]);
                loads[nw++] = i * p.dh * p.Wp + j;
            }
            if (j < p.KW) {
                wv[nw] = pairOf(wr[j], 0);
                loads[nw++] = i * p.dh * p.Wp + j;
            }
        } else {
            for (int64_t j = 0; j < p.KW; ++j) {
                wv[nw] = pairOf(wr[j], 0);
                loads[nw++] = i * p.dh * p.Wp + j * p.dw;
            }
        }
    }
    (void)taps;
    const __m256i bias = _mm256_set1_epi32(e.bias ? e.bias[ch] : 0);
    const float mult = e.out == QEpilogue::Out::Int32 ? 0.f : e.mult[ch];
    for (int64_t oh = 0; oh < p.OH; ++oh) {
        const int16_t* base = p.x + oh * p.sh * p.Wp;
        T* yr = y + oh * p.OW;
        for (int64_t ow = 0; ow < p.OW; ow += 8) {
            const int16_t* src = base + ow * SW;
            __m256i acc0 = bias, acc1 = _mm256_setzero_si256();
            int t = 0;
            for (; t + 1 < nw; t += 2) {
                __m256i x0, x1;
                if constexpr (SW == 1) {
                    x0 = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + loads[t])));
                    x1 = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + loads[t + 1])));
                } else {
                    x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t]));
                    x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t + 1]));
                }
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(x0, wv[t]));
                acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(x1, wv[t + 1]));
            }
            if (t < nw) {
                __m256i x0;
                if constexpr (SW == 1)
                    x0 = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + loads[t])));
                else
                    x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t]));
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(x0, wv[t]));
            }
            storeAcc8(_mm256_add_epi32(acc0, acc1), std::min<int64_t>(8, p.OW - ow), mult, e, yr + ow);
        }
    }
}

/// A depthwise plane by its plan (qDwPlan): 16 outputs per step, two adjacent taps of a kernel
/// row per vpmaddwd, one requantization of all 16 and one 16-byte store. Stride 1: the taps'
/// pairs (x[o + j], x[o + j + 1]) interleave from two loads (vpunpcklwd / vpunpckhwd, lanes
/// 0-3, 8-11 / 4-7, 12-15). Stride 2: 16 int16 from the tap's column are already the pairs
/// (x[2o + j], x[2o + j + 1]) of 8 outputs. A step's bytes past its n valid ones land where
/// later steps write (steps go in increasing dst order); only a step whose 16 bytes would pass
/// the plane's end is stored through a copy, so no thread writes past its own plane.
template <int SW, typename T>
void dwPlanSteps(const QDwPlane& p, int64_t ch, const QEpilogue& eArg, T* y) {
    const QEpilogue e = eArg; // a local: 8-bit stores through y could alias the caller's (dwPlanStepsU8)
    const QDwStep* const steps = p.steps;
    const int64_t nSteps = p.nSteps;
    const int16_t* const x = p.x;
    __m256i wv[64];
    int64_t loads[64];
    int nw = 0;
    for (int64_t i = 0; i < p.KH; ++i) {
        const int16_t* wr = p.w + i * p.KW;
        for (int64_t j = 0; j < p.KW; j += 2) {
            wv[nw] = pairOf(wr[j], j + 1 < p.KW ? wr[j + 1] : 0);
            loads[nw++] = i * p.dh * p.Wp + j;
        }
    }
    const __m256i bias = _mm256_set1_epi32(e.bias ? e.bias[ch] : 0);
    const __m256 mult = _mm256_set1_ps(e.mult[ch]);
    const int64_t planeOut = p.OH * p.OW;
    for (int64_t k = 0; k < nSteps; ++k) {
        const QDwStep& st = steps[k];
        const int16_t* src = x + st.src;
        __m256i a0 = bias, a1 = bias;
        for (int t = 0; t < nw; ++t) {
            if constexpr (SW == 1) {
                const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t]));
                const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t] + 1));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi16(u, v), wv[t]));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi16(u, v), wv[t]));
            } else {
                const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t]));
                const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + loads[t] + 16));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(u, wv[t]));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(v, wv[t]));
            }
        }
        if constexpr (SW == 1) {
            const __m256i l = _mm256_permute2x128_si256(a0, a1, 0x20), h = _mm256_permute2x128_si256(a0, a1, 0x31);
            a0 = l;
            a1 = h;
        }
        storeStep(a0, a1, st, mult, e, planeOut, y);
    }
}

template <int SW>
void dwPlaneTyped(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
    if (p.x8) { // the caller checked the route's conditions (QDwPlane)
        const bool three = p.KH * ((p.KW + 3) / 4) == 3;
        if (e.out == QEpilogue::Out::UInt8)
            return three ? dwPlanStepsU8<SW, 3>(p, ch, e, static_cast<uint8_t*>(out) + at)
                         : dwPlanStepsU8<SW, 0>(p, ch, e, static_cast<uint8_t*>(out) + at);
        return three ? dwPlanStepsU8<SW, 3>(p, ch, e, static_cast<int8_t*>(out) + at)
                     : dwPlanStepsU8<SW, 0>(p, ch, e, static_cast<int8_t*>(out) + at);
    }
    if (p.steps && p.dw == 1 && (p.KW + 1) / 2 * p.KH <= 64) {
        if (e.out == QEpilogue::Out::UInt8) return dwPlanSteps<SW>(p, ch, e, static_cast<uint8_t*>(out) + at);
        if (e.out == QEpilogue::Out::Int8) return dwPlanSteps<SW>(p, ch, e, static_cast<int8_t*>(out) + at);
    }
    // int32 outputs (ConvInteger), dilated rows, no plan: 8 outputs per step, row by row.
    switch (e.out) {
    case QEpilogue::Out::UInt8: return dwPlane<SW>(p, ch, e, static_cast<uint8_t*>(out) + at);
    case QEpilogue::Out::Int8: return dwPlane<SW>(p, ch, e, static_cast<int8_t*>(out) + at);
    case QEpilogue::Out::Int32: return dwPlane<SW>(p, ch, e, static_cast<int32_t*>(out) + at);
    }
}

} // namespace

void qInterleaveRowsAvx2(const int16_t* r0, const int16_t* r1, int64_t panels, int64_t panelStride, int16_t* out) {
    for (int64_t i = 0; i < panels; ++i) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + i * kQColTile));
        const __m256i b = r1 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1 + i * kQColTile)) : _mm256_setzero_si256();
        interleave16(a, b, out + i * panelStride);
    }
}

namespace {

template <bool U>
inline __m256i widen8(const uint8_t* p, __m256i z) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_sub_epi16(U ? _mm256_cvtepu8_epi16(b) : _mm256_cvtepi8_epi16(b), z);
}

template <bool U>
void interleaveRows8(const uint8_t* r0, const uint8_t* r1, __m256i z, int64_t n, int64_t panelStride, int16_t* out) {
    int64_t i = 0, p = 0;
    if (r1)
        for (; i + kQColTile <= n; i += kQColTile, ++p)
            interleave16(widen8<U>(r0 + i, z), widen8<U>(r1 + i, z), out + p * panelStride);
    else
        for (; i + kQColTile <= n; i += kQColTile, ++p)
            interleave16(widen8<U>(r0 + i, z), _mm256_setzero_si256(), out + p * panelStride);
    if (i < n) {
        // The last, partial panel from a zero-filled copy (no read past the rows' end); columns
        // past n hold 0 - zp after widening, masked to 0.
        alignas(16) uint8_t t0[kQColTile] = {}, t1[kQColTile] = {};
        std::memcpy(t0, r0 + i, static_cast<std::size_t>(n - i));
        if (r1) std::memcpy(t1, r1 + i, static_cast<std::size_t>(n - i));
        alignas(32) int16_t mask[kQColTile];
        for (int j = 0; j < kQColTile; ++j) mask[j] = j < n - i ? int16_t(-1) : int16_t(0);
        const __m256i m = _mm256_load_si256(reinterpret_cast<const __m256i*>(mask));
        const __m256i b = r1 ? _mm256_and_si256(widen8<U>(t1, z), m) : _mm256_setzero_si256();
        interleave16(_mm256_and_si256(widen8<U>(t0, z), m), b, out + p * panelStride);
    }
}

} // namespace

void qInterleaveRows8Avx2(const void* r0, const void* r1, bool isUnsigned, int32_t zp, int64_t n, int64_t panelStride,
                          int16_t* out) {
    const __m256i z = _mm256_set1_epi16(static_cast<int16_t>(zp));
    const auto* a = static_cast<const uint8_t*>(r0);
    const auto* b = static_cast<const uint8_t*>(r1);
    if (isUnsigned)
        interleaveRows8<true>(a, b, z, n, panelStride, out);
    else
        interleaveRows8<false>(a, b, z, n, panelStride, out);
}

void qInterleaveRows8x4Avx2(const uint8_t* const rows[4], int64_t n, int64_t panelStride, uint8_t* out) {
    auto quad = [&](__m128i a, __m128i b, __m128i c, __m128i d, uint8_t* o) {
        // A 4 x 16 byte transpose: column j's four rows become bytes 4j..4j+3.
        const __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        const __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o),
                            _mm256_setr_m128i(_mm_unpacklo_epi16(ab0, cd0), _mm_unpackhi_epi16(ab0, cd0)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32),
                            _mm256_setr_m128i(_mm_unpacklo_epi16(ab1, cd1), _mm_unpackhi_epi16(ab1, cd1)));
    };
    auto load = [&](int t, int64_t i) {
        return rows[t] ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[t] + i)) : _mm_setzero_si128();
    };
    int64_t i = 0, p = 0;
    for (; i + kQColTile <= n; i += kQColTile, ++p) quad(load(0, i), load(1, i), load(2, i), load(3, i), out + p * panelStride);
    if (i < n) {
        // The last, partial panel from zero-filled copies (no read past the rows' end).
        alignas(16) uint8_t t[4][kQColTile] = {};
        for (int r = 0; r < 4; ++r)
            if (rows[r]) std::memcpy(t[r], rows[r] + i, static_cast<std::size_t>(n - i));
        auto ld = [&](int r) { return _mm_load_si128(reinterpret_cast<const __m128i*>(t[r])); };
        quad(ld(0), ld(1), ld(2), ld(3), out + p * panelStride);
    }
}

/// The even bytes of 32 at a time (vpshufb within each lane, then the two 8-byte halves side by
/// side); returns how many outputs it wrote (the rest, whose 32-byte read would pass end, are
/// the caller's).
int64_t qCopyStride2U8Avx2(const uint8_t* src, int64_t n, uint8_t* dst, const uint8_t* end) {
    alignas(32) static constexpr uint8_t kEven[32] = {0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                      0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    const __m256i even = _mm256_load_si256(reinterpret_cast<const __m256i*>(kEven));
    int64_t i = 0;
    // Whole pieces while 32 bytes can be read; the last, partial one writes 16 bytes too (the
    // caller's rows have the room: int8_gemm.h).
    for (; i < n && src + 2 * i + 32 <= end; i += 16) {
        const __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i)), even);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_castsi256_si128(_mm256_permute4x64_epi64(v, 0x08)));
    }
    return std::min(i, n);
}

void qCopyStride2Avx2(const int16_t* src, int64_t n, int16_t* dst) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), evens32(src + 2 * i));
    for (; i < n; ++i) dst[i] = src[2 * i];
}

namespace {

/// The padded-plane skeleton shared by the int16 and the uint8 planes: the top and bottom rows
/// as fill, then per row its left padding, its data and its right padding. A padding run of at
/// most 16 elements is one fill16(out) (16 fill elements: the left run's spill lands on the data
/// written next, the right run's on the next row, written after it, or on the bottom rows, fill
/// already, or at most 16 elements past the plane); a longer one is fillRun(out, n). The data goes
/// 32 source bytes at a time through wide(s, out) when the row has 32 or more, else 16 at a time
/// through chunk(bytes, valid, out); both convert and store, chunk the lanes from `valid` on as
/// fill. A row of 16 or more ends with a piece that overlaps the one before it, so no byte past
/// the row is read or written; a shorter row reads 16 bytes (within src[0, avail), else through a
/// copy) and masks the rest. Whole rows, no per-element branches:
/// about 7 cycles per 56-byte row (100 ns per 56x56 plane; the per-chunk checks took 340).
template <typename T, typename FillRun, typename Fill16, typename Wide, typename Chunk>
void padPlaneRows(const uint8_t* src, int64_t avail, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t Hp,
                  int64_t Wp, T* dst, FillRun&& fillRun, Fill16&& fill16, Wide&& wide, Chunk&& chunk) {
    fillRun(dst, pt * Wp);
    fillRun(dst + (pt + H) * Wp, (Hp - pt - H) * Wp);
    const int64_t pr = Wp - pl - W;
    for (int64_t h = 0; h < H; ++h) {
        T* row = dst + (pt + h) * Wp;
        const uint8_t* s = src + h * W;
        if (pl > 16) fillRun(row, pl);
        else if (pl > 0) fill16(row);
        T* d = row + pl;
        if (W >= 32) {
            int64_t c = 0;
            for (; c + 32 <= W; c += 32) wide(s + c, d + c);
            if (c < W) wide(s + W - 32, d + W - 32);
        } else if (W >= 16) {
            int64_t c = 0;
            for (; c + 16 <= W; c += 16) chunk(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + c)), 16, d + c);
            if (c < W) chunk(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + W - 16)), 16, d + W - 16);
        } else if (h * W + 16 <= avail) {
            chunk(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)), W, d);
        } else {
            alignas(16) uint8_t t[16] = {};
            std::memcpy(t, s, static_cast<std::size_t>(W));
            chunk(_mm_load_si128(reinterpret_cast<const __m128i*>(t)), W, d);
        }
        if (pr > 16) fillRun(d + W, pr);
        else if (pr > 0) fill16(d + W);
    }
}

template <bool U>
void padPlane8(const uint8_t* src, int64_t avail, __m256i z, int64_t H, int64_t W, int64_t pt, int64_t pl, int64_t Hp,
               int64_t Wp, int16_t* dst) {
    __m256i zero = _mm256_setzero_si256();
    // Most runs are one or two vectors: the empty asm keeps GCC from turning the loop into a
    // memset call (whose call overhead was several times these stores on 7x7 planes).
    asm("" : "+x"(zero));
    alignas(32) static constexpr int16_t kLanes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const __m256i lanes = _mm256_load_si256(reinterpret_cast<const __m256i*>(kLanes));
    padPlaneRows(
        src, avail, H, W, pt, pl, Hp, Wp, dst,
        [&](int16_t* d, int64_t n) { // n rounded up to 16
            for (int64_t i = 0; i < n; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), zero);
        },
        [&](int16_t* d) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), zero); },
        [&](const uint8_t* s, int16_t* out) {
            const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
            const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_sub_epi16(U ? _mm256_cvtepu8_epi16(lo) : _mm256_cvtepi8_epi16(lo), z));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_sub_epi16(U ? _mm256_cvtepu8_epi16(hi) : _mm256_cvtepi8_epi16(hi), z));
        },
        [&](__m128i b, int64_t valid, int16_t* out) {
            __m256i v = _mm256_sub_epi16(U ? _mm256_cvtepu8_epi16(b) : _mm256_cvtepi8_epi16(b), z);
            if (valid < 16) v = _mm256_and_si256(v, _mm256_cmpgt_epi16(_mm256_set1_epi16(static_cast<int16_t>(valid)), lanes));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
        });
}

} // namespace

namespace {

} // namespace

std::size_t qDwChannelsScratch(const QDwChannels& p) {
    return static_cast<std::size_t>(dwcRows(p) * dwcCols(p) * 16 * 2 + p.OH * p.OW * 16 + 64);
}

void qDwChannelsAvx2(const QDwChannels& p, int64_t g0, int64_t g1, const QEpilogue& e, void* y, uint8_t* scratch) {
    dwChannelsRun(p, g0, g1, e, y, scratch);
}

void qQuadRowAvx2(const uint8_t* const rows[4], int64_t n, uint8_t* out) {
    for (int64_t w = 0; w + 16 <= n; w += 16) {
        const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0] + w));
        const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1] + w));
        const __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2] + w));
        const __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3] + w));
        const __m128i lo01 = _mm_unpacklo_epi8(r0, r1), lo23 = _mm_unpacklo_epi8(r2, r3);
        const __m128i hi01 = _mm_unpackhi_epi8(r0, r1), hi23 = _mm_unpackhi_epi8(r2, r3);
        __m128i* d = reinterpret_cast<__m128i*>(out + w * 4);
        _mm_storeu_si128(d, _mm_unpacklo_epi16(lo01, lo23));
        _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(lo01, lo23));
        _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(hi01, hi23));
        _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(hi01, hi23));
    }
}

/// even[s] = row[2 s], odd[s] = row[2 s + 1] for whole groups of 8 s < n (reads row[0, 2 n));
/// returns how many s it did.
int64_t qSplitPhases2Avx2(const uint32_t* row, int64_t n, uint32_t* even, uint32_t* odd) {
    int64_t s = 0;
    for (; s + 8 <= n; s += 8) {
        const __m256 a = _mm256_loadu_ps(reinterpret_cast<const float*>(row + 2 * s));
        const __m256 b = _mm256_loadu_ps(reinterpret_cast<const float*>(row + 2 * s + 8));
        // Within 128-bit lanes: (a0 a2 b0 b2 | a4 a6 b4 b6), then the 64-bit pieces into order.
        const __m256d e = _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88));
        const __m256d o = _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD));
        _mm256_storeu_pd(reinterpret_cast<double*>(even + s), _mm256_permute4x64_pd(e, 0xD8));
        _mm256_storeu_pd(reinterpret_cast<double*>(odd + s), _mm256_permute4x64_pd(o, 0xD8));
    }
    return s;
}

void qPadPlaneU8Avx2(const uint8_t* src, int64_t avail, uint8_t fill, int64_t H, int64_t W, int64_t pt, int64_t pl,
                     int64_t Hp, int64_t Wp, uint8_t* dst) {
    __m128i f = _mm_set1_epi8(static_cast<char>(fill));
    asm("" : "+x"(f)); // keeps GCC from making the short fill loops memset calls (see padPlane8)
    alignas(16) static constexpr uint8_t kLanes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const __m128i lanes = _mm_load_si128(reinterpret_cast<const __m128i*>(kLanes));
    padPlaneRows(
        src, avail, H, W, pt, pl, Hp, Wp, dst,
        [&](uint8_t* d, int64_t n) {
            for (int64_t i = 0; i < n; i += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), f);
        },
        [&](uint8_t* d) { _mm_storeu_si128(reinterpret_cast<__m128i*>(d), f); },
        [](const uint8_t* s, uint8_t* out) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
        },
        [&](__m128i v, int64_t valid, uint8_t* out) {
            if (valid < 16) v = _mm_blendv_epi8(f, v, _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(valid)), lanes));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
        });
}

void qPadPlane8Avx2(const void* src, int64_t avail, bool isUnsigned, int32_t zp, int64_t H, int64_t W, int64_t pt,
                    int64_t pl, int64_t Hp, int64_t Wp, int16_t* dst) {
    const __m256i z = _mm256_set1_epi16(static_cast<int16_t>(zp));
    const auto* s = static_cast<const uint8_t*>(src);
    if (isUnsigned)
        padPlane8<true>(s, avail, z, H, W, pt, pl, Hp, Wp, dst);
    else
        padPlane8<false>(s, avail, z, H, W, pt, pl, Hp, Wp, dst);
}

bool qDepthwisePlaneAvx2(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
    if (p.KH * p.KW > 64) return false;
    if (p.sw == 1) return dwPlaneTyped<1>(p, ch, e, out, at), true;
    if (p.sw == 2) return dwPlaneTyped<2>(p, ch, e, out, at), true;
    return false;
}

} // namespace ew::rt::cpu
#endif
