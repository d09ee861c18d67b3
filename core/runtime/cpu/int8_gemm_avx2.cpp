// The AVX2 integer micro-kernel and requantizing store (see int8_gemm.h). This file alone is
// compiled with -mavx2 -mfma; int8_gemm.cpp calls into it only when the CPU has AVX2.
#if defined(__x86_64__) || defined(__i386__)
#include "int8_gemm.h"

#include <immintrin.h>

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
    case 6: return micro<6>(kp, a, b, c);
    case 5: return micro<5>(kp, a, b, c);
    case 4: return micro<4>(kp, a, b, c);
    case 3: return micro<3>(kp, a, b, c);
    case 2: return micro<2>(kp, a, b, c);
    default: return micro<1>(kp, a, b, c);
    }
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

/// B panels from int16 rows: columns [n0, n0+16) of rows k and k+1 are contiguous at r0 and r1
/// (r1 null past K). Interleaves them into one depth pair of a panel.
void qInterleavePairAvx2(const int16_t* r0, const int16_t* r1, int16_t* out) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0));
    const __m256i b = r1 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1)) : _mm256_setzero_si256();
    const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
}

/// Same for a stride-2 run: the even elements of 32 int16 at r0 (and r1).
void qInterleavePairStride2Avx2(const int16_t* r0, const int16_t* r1, int16_t* out) {
    auto evens = [](const int16_t* p) {
        const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16));
        // Sign-extend each even element to int32, then pack back (values fit: no saturation).
        const __m256i e0 = _mm256_srai_epi32(_mm256_slli_epi32(v0, 16), 16);
        const __m256i e1 = _mm256_srai_epi32(_mm256_slli_epi32(v1, 16), 16);
        return _mm256_permute4x64_epi64(_mm256_packs_epi32(e0, e1), 0xD8);
    };
    const __m256i a = evens(r0);
    const __m256i b = r1 ? evens(r1) : _mm256_setzero_si256();
    const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
}

/// acc[i] += s[i * sw] * w (depthwise taps; GCC vectorizes the stride-1 loop for AVX2).
void qDwAccumulateAvx2(const int16_t* s, int64_t n, int64_t sw, int32_t w, int32_t* acc) {
    if (sw == 1) {
        for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<int32_t>(s[i]) * w;
    } else {
        for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<int32_t>(s[i * sw]) * w;
    }
}

} // namespace ew::rt::cpu
#endif
