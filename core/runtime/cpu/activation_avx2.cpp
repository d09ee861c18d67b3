// SiLU, HardSwish and HardSigmoid with AVX2+FMA. This file alone is compiled with -mavx2 -mfma
// -ffp-contract=off (HardSigmoid's a * x + b rounds twice, as the portable loop does); activation.cpp
// calls it only after checking the CPU. Intrinsics only (no standard-library inline functions that the linker
// could merge into baseline code).
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstdint>

namespace ew::rt::cpu {

namespace {

/// exp(x) for 8 floats, Cephes' expf: x = n ln2 + r with |r| <= ln2/2, a degree-5 polynomial for
/// e^r, then 2^n through the exponent bits. Inputs are clamped to [-88, 88] so 2^n stays a normal
/// float (exp(88) = 1.65e38; below -88 the result is flushed towards 0, which SiLU rounds to
/// the same value anyway).
inline __attribute__((always_inline)) __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.f)), _mm256_set1_ps(88.f));
    __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
    fx = _mm256_floor_ps(fx);
    // r = x - n ln2 in two steps (ln2 split into an exactly representable part and the rest).
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, z, _mm256_add_ps(x, _mm256_set1_ps(1.f)));
    const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}

inline __attribute__((always_inline)) __m256 silu8(__m256 x) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.f), e));
}

/// x * min(1, max(0, x / 6 + 1/2)), rounded as the portable loop rounds (NaN stays NaN).
inline __attribute__((always_inline)) __m256 hardSwish8(__m256 x) {
    __m256 t = _mm256_add_ps(_mm256_div_ps(x, _mm256_set1_ps(6.f)), _mm256_set1_ps(0.5f));
    // std::max(0.f, t): 0 unless 0 < t (NaN -> 0); vmaxps(t, 0) returns its second operand then.
    t = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.f));
    return _mm256_mul_ps(x, t);
}

/// min(1, max(0, alpha x + beta)) with NaN -> 0, as std::min(1.f, std::max(0.f, .)).
inline __attribute__((always_inline)) __m256 hardSigmoid8(__m256 x, __m256 alpha, __m256 beta) {
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(alpha, x), beta);
    return _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(1.f));
}

/// y[i] = f(x[i]) for n floats, 16 at a time, the last < 8 through a mask (nothing read or
/// written past n).
template <typename F>
inline __attribute__((always_inline)) void map8(const float* x, float* y, int64_t n, F f) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = f(_mm256_loadu_ps(x + i));
        const __m256 b = f(_mm256_loadu_ps(x + i + 8));
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i < n; i += 8) {
        const int64_t left = n - i;
        if (left >= 8) {
            _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
            continue;
        }
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)), lane);
        _mm256_maskstore_ps(y + i, mask, f(_mm256_maskload_ps(x + i, mask)));
    }
}

} // namespace

void siluAvx2(const float* x, float* y, int64_t n) {
    map8(x, y, n, [](__m256 v) { return silu8(v); });
}

void hardSwishAvx2(const float* x, float* y, int64_t n) {
    map8(x, y, n, [](__m256 v) { return hardSwish8(v); });
}

void hardSigmoidAvx2(const float* x, float* y, int64_t n, float alpha, float beta) {
    const __m256 a = _mm256_set1_ps(alpha), b = _mm256_set1_ps(beta);
    map8(x, y, n, [&](__m256 v) { return hardSigmoid8(v, a, b); });
}

} // namespace ew::rt::cpu
#endif
