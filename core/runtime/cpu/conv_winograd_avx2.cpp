// Winograd F(4x4,3x3) tile transforms compiled with -mavx2 -mfma; conv_winograd.cpp picks them at
// run time. Eight tiles at a time, one per lane: the input transform loads one 8-float row per
// tile and input row, transposes the eight rows into the tiles' columns, then runs B^T d B on
// whole vectors; the output transform runs A^T m A on the products of eight tiles and transposes
// back into 4-float tile rows. Plain loops and intrinsics only, everything with internal linkage
// except the two entry points (no standard-library templates: nothing here can be merged into
// baseline code).
#if defined(__x86_64__) || defined(__i386__)
#include "conv_winograd.h"

#include <immintrin.h>

namespace ew::rt::cpu {

namespace {

#define EW_WG_INLINE inline __attribute__((always_inline))

/// B^T d along one direction: six vectors in, six out.
EW_WG_INLINE void inputTransform(__m256 d0, __m256 d1, __m256 d2, __m256 d3, __m256 d4, __m256 d5, __m256* o) {
    const __m256 two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f);
    const __m256 p = _mm256_fnmadd_ps(four, d2, d4); // d4 - 4 d2
    const __m256 q = _mm256_fnmadd_ps(four, d1, d3); // d3 - 4 d1
    const __m256 r = _mm256_sub_ps(d4, d2), s = _mm256_sub_ps(d3, d1);
    o[0] = _mm256_fmadd_ps(four, d0, _mm256_fnmadd_ps(five, d2, d4));
    o[1] = _mm256_add_ps(p, q);
    o[2] = _mm256_sub_ps(p, q);
    o[3] = _mm256_fmadd_ps(two, s, r);
    o[4] = _mm256_fnmadd_ps(two, s, r);
    o[5] = _mm256_fmadd_ps(four, d1, _mm256_fnmadd_ps(five, d3, d5));
}

/// A^T m along one direction: six vectors in, four out.
EW_WG_INLINE void outputTransform(__m256 m0, __m256 m1, __m256 m2, __m256 m3, __m256 m4, __m256 m5, __m256* o) {
    const __m256 a = _mm256_add_ps(m1, m2), b = _mm256_sub_ps(m1, m2);
    const __m256 c = _mm256_add_ps(m3, m4), d = _mm256_sub_ps(m3, m4);
    o[0] = _mm256_add_ps(_mm256_add_ps(m0, a), c);
    o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), d, b);
    o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), c, a);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), d, b), m5);
}

/// Rows r[0..7] (tile k's eight floats) -> columns c[0..5] (element j of the eight tiles).
EW_WG_INLINE void transpose8to6(const __m256* r, __m256* c) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    c[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    c[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    c[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    c[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    c[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    c[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
}

/// Columns a[0..3] (element j of eight tiles) -> q[k] = the four elements of tile k.
EW_WG_INLINE void transpose4x8(const __m256* a, __m128* q) {
    const __m256 t0 = _mm256_unpacklo_ps(a[0], a[1]), t1 = _mm256_unpackhi_ps(a[0], a[1]);
    const __m256 t2 = _mm256_unpacklo_ps(a[2], a[3]), t3 = _mm256_unpackhi_ps(a[2], a[3]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    q[0] = _mm256_castps256_ps128(u0);
    q[1] = _mm256_castps256_ps128(u1);
    q[2] = _mm256_castps256_ps128(u2);
    q[3] = _mm256_castps256_ps128(u3);
    q[4] = _mm256_extractf128_ps(u0, 1);
    q[5] = _mm256_extractf128_ps(u1, 1);
    q[6] = _mm256_extractf128_ps(u2, 1);
    q[7] = _mm256_extractf128_ps(u3, 1);
}

EW_WG_INLINE __m256 activate8(__m256 v, int act, __m256 lo, __m256 hi) {
    switch (act) {
    case 1: return _mm256_max_ps(v, _mm256_setzero_ps());
    case 2: return _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    case 3: return _mm256_blendv_ps(_mm256_mul_ps(v, lo), v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ));
    default: return v;
    }
}

EW_WG_INLINE __m128 activate4(__m128 v, int act, __m128 lo, __m128 hi) {
    switch (act) {
    case 1: return _mm_max_ps(v, _mm_setzero_ps());
    case 2: return _mm_min_ps(hi, _mm_max_ps(lo, v));
    case 3: return _mm_blendv_ps(_mm_mul_ps(v, lo), v, _mm_cmpge_ps(v, _mm_setzero_ps()));
    default: return v;
    }
}

/// Where the rows of the input tiles of one 8-tile group start (relative to channel 0 of image
/// 0) and which of their eight lanes are inside the map (lanes 6 and 7 never are needed). Rows
/// outside the map point at the nearest row inside it, with no lane set, so no load reaches past
/// the rows of the map. plain: every row of every tile is a plain 8-float load inside the map.
struct InputGroup {
    alignas(32) int32_t mask[6][8][8];
    int64_t off[6][8];
    bool plain;
    void set(const WinogradShape& s, int64_t t0, int64_t u0, int64_t tn) {
        const int64_t imageStride = s.C * s.H * s.W;
        plain = true;
        for (int k = 0; k < 8; ++k) {
            const int64_t u = u0 + k;
            if (u >= tn) {
                plain = false;
                for (int i = 0; i < 6; ++i) {
                    off[i][k] = 0;
                    for (int l = 0; l < 8; ++l) mask[i][k][l] = 0;
                }
                continue;
            }
            const int64_t t = t0 + u, b = t / s.tilesPerImage, r = t - b * s.tilesPerImage;
            const int64_t ty = r / s.tilesX, tx = r - ty * s.tilesX;
            const int64_t y0 = ty * 4 - s.padTop, x0 = tx * 4 - s.padLeft;
            if (y0 < 0 || y0 + 6 > s.H || x0 < 0 || x0 + 8 > s.W) plain = false;
            for (int i = 0; i < 6; ++i) {
                const int64_t yy = y0 + i;
                const bool rowIn = yy >= 0 && yy < s.H;
                const int64_t yc = yy < 0 ? 0 : yy >= s.H ? s.H - 1 : yy;
                off[i][k] = b * imageStride + yc * s.W + x0;
                for (int l = 0; l < 8; ++l) mask[i][k][l] = rowIn && l < 6 && x0 + l >= 0 && x0 + l < s.W ? -1 : 0;
            }
        }
    }
};

/// One channel of one 8-tile group: the 36 transformed points to dst, dst + vStride, ...
template <bool Plain>
EW_WG_INLINE void inputTiles(const float* xc, const InputGroup& ig, float* dst, int64_t vStride, __m256* e) {
    // Along each input row (after transposing the eight tiles' rows), into e[i*6 + j]...
    for (int i = 0; i < 6; ++i) {
        __m256 r[8];
        for (int k = 0; k < 8; ++k)
            r[k] = Plain ? _mm256_loadu_ps(xc + ig.off[i][k])
                         : _mm256_maskload_ps(xc + ig.off[i][k],
                                              _mm256_load_si256(reinterpret_cast<const __m256i*>(ig.mask[i][k])));
        __m256 d[6];
        transpose8to6(r, d);
        inputTransform(d[0], d[1], d[2], d[3], d[4], d[5], e + i * 6);
    }
    // ...then down each column, straight to V: point xi = i*6 + j at dst + xi*vStride.
    const int64_t s6 = 6 * vStride;
    for (int j = 0; j < 6; ++j) {
        __m256 o[6];
        inputTransform(e[j], e[6 + j], e[12 + j], e[18 + j], e[24 + j], e[30 + j], o);
        float* q = dst + j * vStride;
        _mm256_store_ps(q, o[0]);
        _mm256_store_ps(q + s6, o[1]);
        _mm256_store_ps(q + 2 * s6, o[2]);
        q += 3 * s6;
        _mm256_store_ps(q, o[3]);
        _mm256_store_ps(q + s6, o[4]);
        _mm256_store_ps(q + 2 * s6, o[5]);
    }
}

/// The channel loop of one 16-tile panel (two 8-tile groups, done back to back so each line of
/// V is written whole while it is in L1).
template <bool Plain0, bool Plain1>
void inputPanel(const WinogradShape& s, int64_t c0, int64_t c1, const InputGroup& g0, const InputGroup& g1, float* vq,
                int64_t vStride) {
    const int64_t plane = s.H * s.W;
    __m256 e[36];
    for (int64_t c = c0; c < c1; ++c) {
        const float* xc = s.x + c * plane;
        inputTiles<Plain0>(xc, g0, vq + c * 16, vStride, e);
        inputTiles<Plain1>(xc, g1, vq + c * 16 + 8, vStride, e);
    }
}

/// Eight tiles' output rows: where each tile starts in the output (channel 0), how many of its
/// rows and columns are inside the map; full: all eight tiles exist and are whole.
struct OutputGroup {
    int64_t off[8];
    int rows[8], cols[8];
    int cnt;
    bool full;
    void set(const WinogradShape& s, int64_t t0, int64_t u0, int64_t tn) {
        const int64_t imageOut = s.M * s.OH * s.OW;
        cnt = tn - u0 < 8 ? static_cast<int>(tn - u0) : 8;
        if (cnt < 0) cnt = 0;
        full = cnt == 8;
        for (int k = 0; k < cnt; ++k) {
            const int64_t t = t0 + u0 + k, b = t / s.tilesPerImage, r = t - b * s.tilesPerImage;
            const int64_t ty = r / s.tilesX, tx = r - ty * s.tilesX;
            off[k] = b * imageOut + ty * 4 * s.OW + tx * 4;
            rows[k] = s.OH - ty * 4 < 4 ? static_cast<int>(s.OH - ty * 4) : 4;
            cols[k] = s.OW - tx * 4 < 4 ? static_cast<int>(s.OW - tx * 4) : 4;
            if (rows[k] < 4 || cols[k] < 4) full = false;
        }
    }
};

/// One output channel of one 8-tile group: products at pm + xi*16 -> y (ym: the channel's plane
/// of image 0), bias, residual (rm, or null), activation. Fast: og.full and no residual.
template <bool Fast>
EW_WG_INLINE void outputTiles(const WinogradShape& s, const float* pm, const OutputGroup& og, __m256 bias, float* ym,
                              const float* rm, __m256 lo8, __m256 hi8) {
    const int64_t OW = s.OW;
    const int act = s.act;
    // Down each column first (A^T m), then along each of the four rows.
    __m256 t[4][6];
    for (int j = 0; j < 6; ++j) {
        __m256 c4[4];
        outputTransform(_mm256_load_ps(pm + j * 16), _mm256_load_ps(pm + (6 + j) * 16), _mm256_load_ps(pm + (12 + j) * 16),
                        _mm256_load_ps(pm + (18 + j) * 16), _mm256_load_ps(pm + (24 + j) * 16),
                        _mm256_load_ps(pm + (30 + j) * 16), c4);
        for (int i = 0; i < 4; ++i) t[i][j] = c4[i];
    }
    const __m128 lo4 = _mm256_castps256_ps128(lo8), hi4 = _mm256_castps256_ps128(hi8);
    for (int i = 0; i < 4; ++i) {
        __m256 yv[4];
        outputTransform(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], yv);
        for (int j = 0; j < 4; ++j) {
            yv[j] = _mm256_add_ps(yv[j], bias);
            if (!rm) yv[j] = activate8(yv[j], act, lo8, hi8);
        }
        __m128 q[8];
        transpose4x8(yv, q);
        if (Fast) {
            for (int k = 0; k < 8; ++k) _mm_storeu_ps(ym + og.off[k] + i * OW, q[k]);
            continue;
        }
        for (int k = 0; k < og.cnt; ++k) {
            if (i >= og.rows[k]) continue;
            float* dst = ym + og.off[k] + i * OW;
            __m128 val = q[k];
            if (og.cols[k] == 4) {
                if (rm) val = activate4(_mm_add_ps(val, _mm_loadu_ps(rm + og.off[k] + i * OW)), act, lo4, hi4);
                _mm_storeu_ps(dst, val);
            } else {
                alignas(16) float tmp[4] = {0.f, 0.f, 0.f, 0.f};
                if (rm) {
                    for (int j = 0; j < og.cols[k]; ++j) tmp[j] = rm[og.off[k] + i * OW + j];
                    val = activate4(_mm_add_ps(val, _mm_load_ps(tmp)), act, lo4, hi4);
                }
                _mm_store_ps(tmp, val);
                for (int j = 0; j < og.cols[k]; ++j) dst[j] = tmp[j];
            }
        }
    }
}

template <bool Fast0, bool Fast1>
void outputPanel(const WinogradShape& s, int64_t m0, int64_t m1, const OutputGroup& g0, const OutputGroup& g1,
                 const float* pq, int64_t ldp) {
    const int64_t oplane = s.OH * s.OW;
    const __m256 lo8 = _mm256_set1_ps(s.alpha), hi8 = _mm256_set1_ps(s.beta);
    for (int64_t m = m0; m < m1; ++m) {
        const __m256 bias = _mm256_set1_ps(s.bias ? s.bias[m] : 0.f);
        float* ym = s.y + m * oplane;
        const float* rm = s.residual ? s.residual + m * oplane : nullptr;
        const float* pm = pq + m * ldp;
        outputTiles<Fast0>(s, pm, g0, bias, ym, rm, lo8, hi8);
        if (g1.cnt > 0) outputTiles<Fast1>(s, pm + 8, g1, bias, ym, rm, lo8, hi8);
    }
}

} // namespace

void winogradInputAvx2(const WinogradShape& s, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* v,
                       int64_t vStride) {
    const int64_t tnPad = (tn + 15) / 16 * 16;
    InputGroup g0, g1;
    for (int64_t u = 0; u < tnPad; u += 16) {
        g0.set(s, t0, u, tn);
        g1.set(s, t0, u + 8, tn);
        float* vq = v + (u / 16) * s.C * 16;
        if (g0.plain && g1.plain)
            inputPanel<true, true>(s, c0, c1, g0, g1, vq, vStride);
        else if (g0.plain)
            inputPanel<true, false>(s, c0, c1, g0, g1, vq, vStride);
        else
            inputPanel<false, false>(s, c0, c1, g0, g1, vq, vStride);
    }
}

void winogradOutputAvx2(const WinogradShape& s, int64_t t0, int64_t tn, int64_t m0, int64_t m1, const float* p,
                        int64_t ldp) {
    OutputGroup g0, g1;
    for (int64_t u = 0; u < tn; u += 16) {
        g0.set(s, t0, u, tn);
        g1.set(s, t0, u + 8, tn);
        const float* pq = p + (u / 16) * 576;
        const bool f0 = g0.full && !s.residual, f1 = g1.full && !s.residual;
        if (f0 && f1)
            outputPanel<true, true>(s, m0, m1, g0, g1, pq, ldp);
        else if (f0)
            outputPanel<true, false>(s, m0, m1, g0, g1, pq, ldp);
        else
            outputPanel<false, false>(s, m0, m1, g0, g1, pq, ldp);
    }
}

} // namespace ew::rt::cpu
#endif
