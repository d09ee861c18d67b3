// The AVX2 implicit-GEMM packer (see conv_implicit.h). Compiled with -mavx2 -mfma and called only
// when the CPU has both; plain loops and intrinsics only, every helper with internal linkage.
#if defined(__x86_64__) || defined(__i386__)
#include "conv_implicit.h"

#include <immintrin.h>

namespace ew::rt::cpu {

#include "conv_implicit_impl.inc"

namespace {

#define EW_IMPL_INLINE inline __attribute__((always_inline))

// loadu(kLaneWindow + 8 - lo) has lanes l >= lo set; loadu(kLaneWindow + 16 - hi) lanes l < hi.
alignas(64) const int32_t kLaneWindow[24] = {0,  0,  0,  0,  0,  0,  0,  0,  -1, -1, -1, -1,
                                             -1, -1, -1, -1, 0,  0,  0,  0,  0,  0,  0,  0};

EW_IMPL_INLINE __m256i laneMask(int32_t lo, int32_t hi) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneWindow + 8 - lo));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneWindow + 16 - hi));
    return _mm256_and_si256(a, b);
}

/// Element masks of a stride-2 run's two 8-float loads: even elements of valid lanes.
EW_IMPL_INLINE void stride2Masks(__m256i lanes, __m256i& mlo, __m256i& mhi) {
    const __m256i even = _mm256_setr_epi32(-1, 0, -1, 0, -1, 0, -1, 0);
    mlo = _mm256_and_si256(_mm256_permutevar8x32_epi32(lanes, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3)), even);
    mhi = _mm256_and_si256(_mm256_permutevar8x32_epi32(lanes, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7)), even);
}

/// Even elements of two 8-float vectors: a0 a2 a4 a6 b0 b2 b4 b6.
EW_IMPL_INLINE __m256 evens(__m256 a, __m256 b) {
    const __m256 s = _mm256_shuffle_ps(a, b, 0x88); // a0 a2 b0 b2 | a4 a6 b4 b6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

/// A half with a single run whose loads stay inside the input for every channel: a plain load
/// and the lane mask.
template <int S>
EW_IMPL_INLINE __m256 loadSafe(const float* p, __m256 mask) {
    if (S == 1) return _mm256_and_ps(_mm256_loadu_ps(p), mask);
    return _mm256_and_ps(evens(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)), mask);
}

/// Any half: each run with masked loads (no access outside the valid lanes), OR-ed together.
EW_IMPL_INLINE __m256 loadGeneral(const float* xc, const Run* runs, int n, int64_t sw) {
    __m256 v = _mm256_setzero_ps();
    for (int i = 0; i < n; ++i) {
        const Run& r = runs[i];
        const float* p = xc + r.off;
        const __m256i m = laneMask(r.lo, r.hi);
        if (sw == 1) {
            v = _mm256_or_ps(v, _mm256_maskload_ps(p, m));
        } else if (sw == 2) {
            __m256i mlo, mhi;
            stride2Masks(m, mlo, mhi);
            v = _mm256_or_ps(v, evens(_mm256_maskload_ps(p, mlo), _mm256_maskload_ps(p + 8, mhi)));
        } else {
            alignas(32) float t[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
            for (int32_t l = r.lo; l < r.hi; ++l) t[l] = p[l * sw];
            v = _mm256_or_ps(v, _mm256_load_ps(t));
        }
    }
    return v;
}

/// One half panel row for kind K: 0 zeros, 1 one run, 2 two runs (plain loads inside the input,
/// then the lane masks).
template <int S, int K>
EW_IMPL_INLINE __m256 halfRow(const float* p, const float* q, __m256 m, __m256 n) {
    if (K == 0) return _mm256_setzero_ps();
    if (K == 1) return loadSafe<S>(p, m);
    return _mm256_or_ps(loadSafe<S>(p, m), loadSafe<S>(q, n));
}

/// Rows of one tap for nCh channels, each half of kind 0, 1 or 2 (see halfRow).
template <int S, int K0, int K1>
void tapLoop(const float* xc, int64_t plane, int64_t nCh, const Run* r0, const Run* r1, float* dst,
             int64_t dstStride) {
    const __m256 m0 = K0 ? _mm256_castsi256_ps(laneMask(r0[0].lo, r0[0].hi)) : _mm256_setzero_ps();
    const __m256 n0 = K0 == 2 ? _mm256_castsi256_ps(laneMask(r0[1].lo, r0[1].hi)) : _mm256_setzero_ps();
    const __m256 m1 = K1 ? _mm256_castsi256_ps(laneMask(r1[0].lo, r1[0].hi)) : _mm256_setzero_ps();
    const __m256 n1 = K1 == 2 ? _mm256_castsi256_ps(laneMask(r1[1].lo, r1[1].hi)) : _mm256_setzero_ps();
    const float* p0 = K0 ? xc + r0[0].off : xc;
    const float* q0 = K0 == 2 ? xc + r0[1].off : xc;
    const float* p1 = K1 ? xc + r1[0].off : xc;
    const float* q1 = K1 == 2 ? xc + r1[1].off : xc;
    for (int64_t c = 0; c < nCh; ++c) {
        _mm256_store_ps(dst, halfRow<S, K0>(p0, q0, m0, n0));
        _mm256_store_ps(dst + 8, halfRow<S, K1>(p1, q1, m1, n1));
        p0 += plane;
        q0 += plane;
        p1 += plane;
        q1 += plane;
        dst += dstStride;
    }
}

template <int S, int K0>
EW_IMPL_INLINE void tapLoopK0(int k1, const float* xc, int64_t plane, int64_t nCh, const Run* r0, const Run* r1,
                              float* dst, int64_t dstStride) {
    if (k1 == 0) return tapLoop<S, K0, 0>(xc, plane, nCh, r0, r1, dst, dstStride);
    if (k1 == 1) return tapLoop<S, K0, 1>(xc, plane, nCh, r0, r1, dst, dstStride);
    return tapLoop<S, K0, 2>(xc, plane, nCh, r0, r1, dst, dstStride);
}

template <int S>
void tapRows(const ImplicitConv& g, const float* xc, int64_t plane, int64_t nCh, const Run* runs, const int* count,
             float* dst, int64_t dstStride) {
    // A half takes the fast loop when it has at most two runs whose plain loads stay inside the
    // input tensor for the first and the last channel; otherwise masked loads.
    const int64_t span = S == 1 ? 8 : 16;
    const int64_t base = xc - g.xBegin, limit = g.xEnd - g.xBegin - (nCh - 1) * plane - span;
    auto kind = [&](const Run* r, int n) {
        if (n > 2) return 3;
        for (int i = 0; i < n; ++i)
            if (base + r[i].off < 0 || base + r[i].off > limit) return 3;
        return n;
    };
    const Run* r0 = runs;
    const Run* r1 = runs + count[0];
    const int k0 = kind(r0, count[0]), k1 = kind(r1, count[1]);
    if (k0 < 3 && k1 < 3) {
        if (k0 == 0) return tapLoopK0<S, 0>(k1, xc, plane, nCh, r0, r1, dst, dstStride);
        if (k0 == 1) return tapLoopK0<S, 1>(k1, xc, plane, nCh, r0, r1, dst, dstStride);
        return tapLoopK0<S, 2>(k1, xc, plane, nCh, r0, r1, dst, dstStride);
    }
    for (int64_t c = 0; c < nCh; ++c, xc += plane, dst += dstStride) {
        _mm256_store_ps(dst, loadGeneral(xc, r0, count[0], S));
        _mm256_store_ps(dst + 8, loadGeneral(xc, r1, count[1], S));
    }
}

void tapRowsAny(const ImplicitConv& g, const float* xc, int64_t plane, int64_t nCh, const Run* runs,
                const int* count, float* dst, int64_t dstStride) {
    if (g.sw == 1) return tapRows<1>(g, xc, plane, nCh, runs, count, dst, dstStride);
    if (g.sw == 2) return tapRows<2>(g, xc, plane, nCh, runs, count, dst, dstStride);
    for (int64_t c = 0; c < nCh; ++c, xc += plane, dst += dstStride) {
        _mm256_store_ps(dst, loadGeneral(xc, runs, count[0], g.sw));
        _mm256_store_ps(dst + 8, loadGeneral(xc, runs + count[0], count[1], g.sw));
    }
}

/// The channel loop of tapRowFast with KW known at compile time (KWC = 0: any), so the masks and
/// source pointers of every tap stay in registers.
template <int S, int KWC>
void tapRowLoop(int64_t KWr, int64_t nCh, int64_t plane, const bool* live, const float* const (*src)[16],
                const float (*masks)[16][8], float* dst, int64_t dstStride) {
    const int64_t KW = KWC ? KWC : KWr;
    for (int h = 0; h < 2; ++h) {
        float* d0 = dst + h * 8;
        if (!live[h]) {
            for (int64_t c = 0; c < nCh; ++c, d0 += dstStride)
                for (int64_t jj = 0; jj < KW; ++jj) _mm256_store_ps(d0 + jj * 16, _mm256_setzero_ps());
            continue;
        }
        if (KWC) {
            __m256 m[KWC > 0 ? KWC : 1];
            const float* p[KWC > 0 ? KWC : 1];
            for (int jj = 0; jj < KWC; ++jj) {
                m[jj] = _mm256_load_ps(masks[h][jj]);
                p[jj] = src[h][jj];
            }
            for (int64_t c = 0; c < nCh; ++c, d0 += dstStride) {
                for (int jj = 0; jj < KWC; ++jj) {
                    _mm256_store_ps(d0 + jj * 16, loadSafe<S>(p[jj], m[jj]));
                    p[jj] += plane;
                }
            }
        } else {
            for (int64_t c = 0; c < nCh; ++c, d0 += dstStride)
                for (int64_t jj = 0; jj < KW; ++jj)
                    _mm256_store_ps(d0 + jj * 16, loadSafe<S>(src[h][jj] + c * plane, _mm256_load_ps(masks[h][jj])));
        }
    }
}

constexpr int64_t kMaxKW = 16;

/// The lane masks and column offsets of every tap column of a panel whose halves are each one
/// segment starting at the half's first lane: they depend only on the segments' output columns,
/// not on the tap row or the image, so consecutive panels with the same columns (every panel of
/// a batch of small maps, every row of a map 16 or 8 wide) share them.
struct PanelMasks {
    alignas(32) float masks[2][kMaxKW][8];
    int64_t colOff[2][kMaxKW]; ///< input column of lane 0 relative to the row, per half and tap
    int64_t keyOw[2] = {-1, -1}, keyLen[2] = {-1, -1};
    int keySegs = -1;
    bool matches(const Segment* segs, int nSegs) const {
        return nSegs == keySegs && segs[0].ow == keyOw[0] && segs[0].len == keyLen[0] &&
               (nSegs == 1 || (segs[1].ow == keyOw[1] && segs[1].len == keyLen[1]));
    }
    void set(const ImplicitConv& g, const Segment* segs, int nSegs) {
        keySegs = nSegs;
        for (int h = 0; h < nSegs; ++h) {
            const Segment& sg = segs[h];
            keyOw[h] = sg.ow;
            keyLen[h] = sg.len;
            for (int64_t jj = 0; jj < g.KW; ++jj) {
                const int64_t lo = g.owLo[jj] > sg.ow ? g.owLo[jj] - sg.ow : 0;
                int64_t hi = g.owHi[jj] - sg.ow;
                if (hi > sg.len) hi = sg.len;
                colOff[h][jj] = sg.ow * g.sw + jj * g.dw - g.pw;
                _mm256_store_ps(masks[h][jj], lo < hi ? _mm256_castsi256_ps(laneMask(static_cast<int32_t>(lo),
                                                                                      static_cast<int32_t>(hi)))
                                                      : _mm256_setzero_ps());
            }
        }
    }
};

/// PanelMasks of the last few panel column positions (maps up to 8 panels wide keep all theirs).
struct PanelMaskCache {
    PanelMasks entry[8];
    const PanelMasks& get(const ImplicitConv& g, const Segment* segs, int nSegs) {
        PanelMasks& e = entry[(segs[0].ow / 16) & 7];
        if (!e.matches(segs, nSegs)) e.set(g, segs, nSegs);
        return e;
    }
};

/// All KW taps of tap row i at once, for panels whose halves are each one segment starting at
/// the half's first lane (maps at least 8 wide with rows aligned to 8): per half and tap one
/// offset and one lane mask (from pm), then a loop over the channels [c0, c0 + nCh) writes the
/// KW rows of each (rows (c*KH + i)*KW + jj, dst at the row of (c0, i, 0)). False (nothing
/// written) when a plain load could leave the input tensor.
template <int S>
bool tapRowFast(const ImplicitConv& g, const float* xc, int64_t plane, int64_t nCh, int nSegs, const int64_t* rowBase,
                const PanelMasks& pm, float* dst, int64_t dstStride) {
    const int64_t KW = g.KW;
    const float* src[2][kMaxKW];
    bool live[2] = {false, false};
    const int64_t span = S == 1 ? 8 : 16;
    const int64_t base = xc - g.xBegin, limit = g.xEnd - g.xBegin - (nCh - 1) * plane - span;
    for (int h = 0; h < nSegs; ++h) {
        if (rowBase[h] < 0) continue;
        live[h] = true;
        for (int64_t jj = 0; jj < KW; ++jj) {
            const int64_t off = rowBase[h] + pm.colOff[h][jj];
            if (base + off < 0 || base + off > limit) return false;
            src[h][jj] = xc + off;
        }
    }
    switch (KW) {
    case 1: tapRowLoop<S, 1>(KW, nCh, plane, live, src, pm.masks, dst, dstStride); break;
    case 3: tapRowLoop<S, 3>(KW, nCh, plane, live, src, pm.masks, dst, dstStride); break;
    case 5: tapRowLoop<S, 5>(KW, nCh, plane, live, src, pm.masks, dst, dstStride); break;
    case 7: tapRowLoop<S, 7>(KW, nCh, plane, live, src, pm.masks, dst, dstStride); break;
    default: tapRowLoop<S, 0>(KW, nCh, plane, live, src, pm.masks, dst, dstStride); break;
    }
    return true;
}

/// 8x8 transpose of rows r[0..7] (8 floats each) into columns: out[j] holds element j of every row.
EW_IMPL_INLINE void transpose8x8(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5, __m256 r6,
                                 __m256 r7, float* dst, int64_t dstStride) {
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(dst + 0 * dstStride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_store_ps(dst + 1 * dstStride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_store_ps(dst + 2 * dstStride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_store_ps(dst + 3 * dstStride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_store_ps(dst + 4 * dstStride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_store_ps(dst + 5 * dstStride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_store_ps(dst + 6 * dstStride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_store_ps(dst + 7 * dstStride, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/// Long 1-D kernels read with a large stride (the STFT convolutions of audio front ends: 512 taps
/// every 160 samples): a half panel row would gather 8 values sw apart, but 8 consecutive taps
/// of one lane are 8 consecutive input values. So blocks of 8 taps x 8 lanes are loaded as 8
/// rows and transposed; lanes or taps that touch the padding (or columns past the panel) take
/// the scalar path. Applies to maps of one row (1-D convolutions) with dilation 1.
bool longTapsPack(const ImplicitConv& g, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out) {
    if (g.KH != 1 || g.H != 1 || g.OH != 1 || g.dw != 1 || g.KW < 16 || g.sw <= 2) return false;
    const int64_t plane = g.W;
    for (int64_t j0 = 0; j0 < nc; j0 += 16) {
        float* panel = out + j0 * kc;
        for (int h = 0; h < 2; ++h) {
            // Lane l: image b, output column ow; its taps jj in [lo[l], hi[l]) read the input.
            const float* src[8];
            int64_t lo[8], hi[8];
            int64_t allLo = 0, allHi = g.KW;
            for (int l = 0; l < 8; ++l) {
                const int64_t j = n0 + j0 + h * 8 + l;
                if (j0 + h * 8 + l >= nc) {
                    src[l] = nullptr;
                    lo[l] = hi[l] = 0;
                } else {
                    const int64_t b = j / g.OW, ow = j - b * g.OW;
                    const int64_t start = ow * g.sw - g.pw; // input column of tap 0
                    src[l] = g.x + b * g.imageStride + start;
                    lo[l] = start < 0 ? -start : 0;
                    hi[l] = g.W - start < g.KW ? g.W - start : g.KW;
                    if (hi[l] < lo[l]) hi[l] = lo[l];
                }
                if (lo[l] > allLo) allLo = lo[l];
                if (hi[l] < allHi) allHi = hi[l];
            }
            float* dst = panel + h * 8;
            for (int64_t k = k0; k < k0 + kc;) {
                const int64_t c = k / g.KW, jj = k - c * g.KW;
                int64_t len = g.KW - jj;
                if (k0 + kc - k < len) len = k0 + kc - k;
                if (len > 8) len = 8;
                float* d = dst + (k - k0) * 16;
                if (len == 8 && jj >= allLo && jj + 8 <= allHi) {
                    const int64_t o = c * plane + jj;
                    transpose8x8(_mm256_loadu_ps(src[0] + o), _mm256_loadu_ps(src[1] + o), _mm256_loadu_ps(src[2] + o),
                                 _mm256_loadu_ps(src[3] + o), _mm256_loadu_ps(src[4] + o), _mm256_loadu_ps(src[5] + o),
                                 _mm256_loadu_ps(src[6] + o), _mm256_loadu_ps(src[7] + o), d, 16);
                } else {
                    for (int64_t t = 0; t < len; ++t)
                        for (int l = 0; l < 8; ++l)
                            d[t * 16 + l] = jj + t >= lo[l] && jj + t < hi[l] ? src[l][c * plane + jj + t] : 0.f;
                }
                k += len;
            }
        }
    }
    return true;
}

} // namespace

void convImplicitPackAvx2(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out) {
    const ImplicitConv& g = *static_cast<const ImplicitConv*>(ctx);
    if (longTapsPack(g, k0, kc, n0, nc, out)) return;
    const int64_t T = g.KH * g.KW, plane = g.H * g.W;
    PanelWalker walk;
    walk.start(g, n0);
    Segment segs[16];
    int64_t rowBase[16];
    Run runs[16];
    int count[2];
    const bool rowsFast = (g.sw == 1 || g.sw == 2) && g.KW <= kMaxKW;
    PanelMaskCache maskCache;
    for (int64_t j0 = 0; j0 < nc; j0 += 16) {
        const int64_t width = nc - j0 < 16 ? nc - j0 : 16;
        const int nSegs = walk.segments(g, width, segs);
        walk.advance(g, 16);
        float* panel = out + j0 * kc;
        // Each half one segment that starts the half: whole tap rows at once.
        const bool halves = rowsFast && segs[0].lane == 0 && (nSegs == 1 || (nSegs == 2 && segs[1].lane == 8));
        const PanelMasks* pmp = halves ? &maskCache.get(g, segs, nSegs) : nullptr;
        for (int64_t i = 0; i < g.KH; ++i) {
            segmentRows(g, i, segs, nSegs, rowBase);
            // Channels whose KW rows of tap row i all fall in this depth block.
            int64_t fa = 0, fb = 0;
            if (halves) {
                const int64_t t0 = i * g.KW;
                fa = t0 >= k0 ? 0 : (k0 - t0 + T - 1) / T;
                const int64_t last = k0 + kc - g.KW - t0; // c*T <= last
                fb = last < 0 ? 0 : last / T + 1;
                if (fb > g.Cg) fb = g.Cg;
                if (fa > fb) fa = fb;
                if (fa < fb) {
                    const bool ok = g.sw == 1 ? tapRowFast<1>(g, g.x + fa * plane, plane, fb - fa, nSegs, rowBase, *pmp,
                                                              panel + (fa * T + t0 - k0) * 16, T * 16)
                                              : tapRowFast<2>(g, g.x + fa * plane, plane, fb - fa, nSegs, rowBase, *pmp,
                                                              panel + (fa * T + t0 - k0) * 16, T * 16);
                    if (!ok) fa = fb = 0;
                }
                // Every channel's rows of this tap row done: nothing left for the tap columns.
                if (fb - fa == g.Cg) continue;
            }
            for (int64_t jj = 0; jj < g.KW; ++jj) {
                const int64_t t = i * g.KW + jj;
                int64_t c0, c1;
                channelRange(T, g.Cg, t, k0, kc, c0, c1);
                if (c0 >= c1) continue;
                // The channels [fa, fb) are done; what is left is below and above them.
                const int64_t lowEnd = fa < fb && fa < c1 ? (fa > c0 ? fa : c0) : c1;
                const int64_t highBegin = fa < fb && fb > c0 ? (fb < c1 ? fb : c1) : c1;
                if (c0 >= lowEnd && highBegin >= c1) continue;
                tapRuns(g, jj, segs, nSegs, rowBase, runs, count);
                if (c0 < lowEnd)
                    tapRowsAny(g, g.x + c0 * plane, plane, lowEnd - c0, runs, count, panel + (c0 * T + t - k0) * 16,
                               T * 16);
                if (highBegin < c1)
                    tapRowsAny(g, g.x + highBegin * plane, plane, c1 - highBegin, runs, count,
                               panel + (highBegin * T + t - k0) * 16, T * 16);
            }
        }
    }
}

} // namespace ew::rt::cpu
#endif
