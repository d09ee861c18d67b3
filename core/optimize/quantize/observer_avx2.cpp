// TensorObserver's per-element work with AVX2 (see observer_kernels.h). This file alone is
// compiled with -mavx2 (no FMA, no contraction: the bin position must round exactly like the
// portable code's); observer.cpp calls it only after checking the CPU. Intrinsics only, no
// standard-library inline functions the linker could merge into baseline code.
#if defined(__x86_64__) || defined(__i386__)
#include "observer_kernels.h"

#include <immintrin.h>

#include <cstdint>

namespace ew::opt::quant::detail {

namespace {

inline float hmin(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

inline int64_t hsum(__m256i v) {
    alignas(32) int32_t a[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(a), v);
    int64_t s = 0;
    for (int k = 0; k < 8; ++k) s += a[k];
    return s;
}

/// The first element equal to zero (there is one: a zero extreme was found).
inline float firstZero(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (x[i] == 0.0f) return x[i];
    return 0.0f;
}

} // namespace

ScanResult scanValuesAvx2(const float* x, int64_t n) {
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 inf = _mm256_set1_ps(__builtin_inff()), ninf = _mm256_set1_ps(-__builtin_inff());
    const __m256 zero = _mm256_setzero_ps();
    __m256 mn0 = inf, mn1 = inf, mx0 = ninf, mx1 = ninf;
    int64_t finite = 0, zeros = 0;
    int64_t i = 0;
    // Lane counters are int32 (a compare mask is -1), at most 2^27 per block of 2^30 values.
    while (n - i >= 16) {
        const int64_t whole = (n - i) / 16 * 16, block = int64_t(1) << 30;
        const int64_t end = i + (whole < block ? whole : block);
        __m256i fin = _mm256_setzero_si256(), zer = _mm256_setzero_si256();
        for (; i < end; i += 16) {
            const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
            const __m256 fa = _mm256_cmp_ps(_mm256_and_ps(a, absMask), inf, _CMP_LT_OQ);
            const __m256 fb = _mm256_cmp_ps(_mm256_and_ps(b, absMask), inf, _CMP_LT_OQ);
            mn0 = _mm256_min_ps(mn0, _mm256_blendv_ps(inf, a, fa));
            mn1 = _mm256_min_ps(mn1, _mm256_blendv_ps(inf, b, fb));
            mx0 = _mm256_max_ps(mx0, _mm256_blendv_ps(ninf, a, fa));
            mx1 = _mm256_max_ps(mx1, _mm256_blendv_ps(ninf, b, fb));
            fin = _mm256_sub_epi32(fin, _mm256_castps_si256(fa));
            fin = _mm256_sub_epi32(fin, _mm256_castps_si256(fb));
            zer = _mm256_sub_epi32(zer, _mm256_castps_si256(_mm256_cmp_ps(a, zero, _CMP_EQ_OQ)));
            zer = _mm256_sub_epi32(zer, _mm256_castps_si256(_mm256_cmp_ps(b, zero, _CMP_EQ_OQ)));
        }
        finite += hsum(fin);
        zeros += hsum(zer);
    }
    float lo = hmin(_mm256_min_ps(mn0, mn1)), hi = hmax(_mm256_max_ps(mx0, mx1));
    for (; i < n; ++i) {
        const float v = x[i];
        if (!(v - v == 0.0f)) continue; // NaN or infinity
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        ++finite;
        zeros += v == 0.0f;
    }
    // The vector min/max pick either sign among equal zeros; a sequential scan keeps the first.
    if (lo == 0.0f) lo = firstZero(x, n);
    if (hi == 0.0f) hi = firstZero(x, n);
    return {lo, hi, finite, zeros};
}

namespace {

/// For each 8-bit lane mask: the kept lanes' positions packed to the front (one byte each, for
/// vpermd) and how many there are.
struct PackLut {
    uint64_t perm[256];
    uint8_t count[256];
};

constexpr PackLut makePackLut() {
    PackLut l{};
    for (int m = 0; m < 256; ++m) {
        uint64_t p = 0;
        int k = 0;
        for (int j = 0; j < 8; ++j)
            if ((m >> j) & 1) p |= uint64_t(j) << (8 * k++);
        l.perm[m] = p;
        l.count[m] = static_cast<uint8_t>(k);
    }
    return l;
}

constexpr PackLut kPack = makePackLut();

/// Increments counts for a buffer of bins, cycling over the four tables so that runs of one bin
/// (a peaked distribution) do not all wait on one counter's store.
inline void flushBins(const int32_t* buf, int nb, uint32_t* counts, int64_t stride) {
    uint32_t* c0 = counts;
    uint32_t* c1 = counts + stride;
    uint32_t* c2 = counts + 2 * stride;
    uint32_t* c3 = counts + 3 * stride;
    int j = 0;
    for (; j + 4 <= nb; j += 4) {
        ++c0[buf[j]];
        ++c1[buf[j + 1]];
        ++c2[buf[j + 2]];
        ++c3[buf[j + 3]];
    }
    for (; j < nb; ++j) ++c0[buf[j]];
}


/// The bins of the finite, non-zero values of x[0, n), packed into a buffer and handed to
/// `flush(buf, count)` in batches: skipped values (half of a post-Relu tensor is zeros) cost no
/// increment.
template <typename Flush>
inline __attribute__((always_inline)) void packBins(const float* x, int64_t n, double lo, double inv, int bins,
                                                    Flush&& flush) {
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 inf = _mm256_set1_ps(__builtin_inff()), zero = _mm256_setzero_ps();
    const __m256d vlo = _mm256_set1_pd(lo), vinv = _mm256_set1_pd(inv);
    const __m256d dzero = _mm256_setzero_pd(), top = _mm256_set1_pd(double(bins - 1));
    constexpr int kBuf = 1024;
    alignas(32) int32_t buf[kBuf + 8];
    int nb = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 keep = _mm256_and_ps(_mm256_cmp_ps(_mm256_and_ps(v, absMask), inf, _CMP_LT_OQ),
                                          _mm256_cmp_ps(v, zero, _CMP_NEQ_OQ));
        // (double(v) - lo) * inv, clamped to [0, bins - 1] and truncated: binOf, four at a time.
        __m256d t0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vlo), vinv);
        __m256d t1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vlo), vinv);
        t0 = _mm256_min_pd(_mm256_max_pd(t0, dzero), top);
        t1 = _mm256_min_pd(_mm256_max_pd(t1, dzero), top);
        const __m256i b = _mm256_set_m128i(_mm256_cvttpd_epi32(t1), _mm256_cvttpd_epi32(t0));
        const int m = _mm256_movemask_ps(keep);
        const __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(kPack.perm[m])));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(buf + nb), _mm256_permutevar8x32_epi32(b, perm));
        nb += kPack.count[m];
        if (nb >= kBuf) {
            flush(buf, nb);
            nb = 0;
        }
    }
    for (; i < n; ++i) {
        const float v = x[i];
        if (!(v - v == 0.0f) || v == 0.0f) continue;
        double t = (double(v) - lo) * inv;
        t = t > 0.0 ? t : 0.0;
        t = t < double(bins - 1) ? t : double(bins - 1);
        buf[nb++] = static_cast<int32_t>(t);
    }
    flush(buf, nb);
}

} // namespace

void binValuesAvx2(const float* x, int64_t n, double lo, double inv, int bins, uint32_t* counts) {
    static_assert(kCountTables == 4, "flushBins cycles over four tables");
    const int64_t stride = countStride(bins);
    packBins(x, n, lo, inv, bins, [&](const int32_t* buf, int nb) { flushBins(buf, nb, counts, stride); });
}

void binValuesIntoAvx2(const float* x, int64_t n, double lo, double inv, int bins, double* hist) {
    packBins(x, n, lo, inv, bins, [&](const int32_t* buf, int nb) {
        for (int j = 0; j < nb; ++j) hist[buf[j]] += 1.0;
    });
}

} // namespace ew::opt::quant::detail
#endif
