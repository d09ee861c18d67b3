// The AVX2 loop of qAdd (int8_eltwise.h). Compiled with -mavx2 and without FMA contraction: each
// product and sum must round exactly like the float QDQ pattern's separate kernels.
#if defined(__x86_64__) || defined(__i386__)
#include "int8_eltwise.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

namespace ew::rt::cpu {

namespace {

template <bool S>
inline __m256i widen8(const void* p) {
    const __m128i v = _mm_loadl_epi64(static_cast<const __m128i*>(p));
    return S ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

template <bool SA, bool SB, bool SY>
void addLoop(const QAddArgs& p, const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n) {
    const __m256i za = _mm256_set1_epi32(p.za), zb = _mm256_set1_epi32(p.zb);
    const __m256 sa = _mm256_set1_ps(p.sa), sb = _mm256_set1_ps(p.sb), ys = _mm256_set1_ps(p.ys);
    const __m256 zy = _mm256_set1_ps(p.zy), lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 fa = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(widen8<SA>(a + i), za)), sa);
        const __m256 fb = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(widen8<SB>(b + i), zb)), sb);
        __m256 v = _mm256_add_ps(_mm256_round_ps(_mm256_div_ps(_mm256_add_ps(fa, fb), ys), kRound), zy);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        const __m256i q = _mm256_cvtps_epi32(v);
        const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), SY ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w));
    }
    for (; i < n; ++i) {
        const int32_t av = SA ? int32_t(int8_t(a[i])) : int32_t(a[i]), bv = SB ? int32_t(int8_t(b[i])) : int32_t(b[i]);
        const float fa = static_cast<float>(av - p.za) * p.sa, fb = static_cast<float>(bv - p.zb) * p.sb;
        float v = std::nearbyint((fa + fb) / p.ys) + p.zy;
        v = std::min(std::max(v, p.lo), p.hi);
        y[i] = SY ? static_cast<uint8_t>(static_cast<int8_t>(static_cast<int32_t>(v))) : static_cast<uint8_t>(static_cast<int32_t>(v));
    }
}

} // namespace

void qAddAvx2(const QAddArgs& p, const void* av, const void* bv, void* yv, int64_t n) {
    const auto* a = static_cast<const uint8_t*>(av);
    const auto* b = static_cast<const uint8_t*>(bv);
    auto* y = static_cast<uint8_t*>(yv);
    const int sel = (p.aSigned ? 4 : 0) | (p.bSigned ? 2 : 0) | (p.ySigned ? 1 : 0);
    switch (sel) {
    case 0: return addLoop<false, false, false>(p, a, b, y, n);
    case 1: return addLoop<false, false, true>(p, a, b, y, n);
    case 2: return addLoop<false, true, false>(p, a, b, y, n);
    case 3: return addLoop<false, true, true>(p, a, b, y, n);
    case 4: return addLoop<true, false, false>(p, a, b, y, n);
    case 5: return addLoop<true, false, true>(p, a, b, y, n);
    case 6: return addLoop<true, true, false>(p, a, b, y, n);
    default: return addLoop<true, true, true>(p, a, b, y, n);
    }
}

} // namespace ew::rt::cpu
#endif
