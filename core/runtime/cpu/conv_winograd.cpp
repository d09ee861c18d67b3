#include "conv_winograd.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ew::rt::cpu {

namespace {

constexpr int kTile = 4;  // output tile
constexpr int kIn = 6;    // input tile = kTile + 3 - 1
constexpr int kPoints = kIn * kIn;

// F(4x4, 3x3) with interpolation points 0, +-1, +-2 and infinity (Lavin & Gray).
constexpr float kG[6][3] = {{1.f / 4, 0, 0},
                            {-1.f / 6, -1.f / 6, -1.f / 6},
                            {-1.f / 6, 1.f / 6, -1.f / 6},
                            {1.f / 24, 1.f / 12, 1.f / 6},
                            {1.f / 24, -1.f / 12, 1.f / 6},
                            {0, 0, 1}};

/// B^T d along one direction (six values at stride st -> six at stride ot).
inline void inputTransform(const float* d, int64_t st, float* o, int64_t ot) {
    const float d0 = d[0], d1 = d[st], d2 = d[2 * st], d3 = d[3 * st], d4 = d[4 * st], d5 = d[5 * st];
    const float p = d4 - 4.f * d2, q = d3 - 4.f * d1, r = d4 - d2, s = d3 - d1;
    o[0] = 4.f * d0 + (d4 - 5.f * d2);
    o[ot] = p + q;
    o[2 * ot] = p - q;
    o[3 * ot] = 2.f * s + r;
    o[4 * ot] = r - 2.f * s;
    o[5 * ot] = 4.f * d1 + (d5 - 5.f * d3);
}

/// A^T m along one direction (six values at stride st -> four at stride ot).
inline void outputTransform(const float* m, int64_t st, float* o, int64_t ot) {
    const float m0 = m[0], m1 = m[st], m2 = m[2 * st], m3 = m[3 * st], m4 = m[4 * st], m5 = m[5 * st];
    const float a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
    o[0] = (m0 + a) + c;
    o[ot] = 2.f * d + b;
    o[2 * ot] = 4.f * c + a;
    o[3 * ot] = (8.f * d + b) + m5;
}

inline float activateFused(float v, const WinogradShape& s) {
    switch (s.act) {
    case 1: return v > 0.f ? v : 0.f;
    case 2: return std::min(std::max(v, s.alpha), s.beta);
    case 3: return v >= 0.f ? v : v * s.alpha;
    default: return v;
    }
}

struct Transforms {
    WinogradInputFn in;
    WinogradOutputFn out;
};

Transforms transforms() {
#if defined(__x86_64__) || defined(__i386__)
    if (sgemmUsesAvx2()) return {winogradInputAvx2, winogradOutputAvx2};
#endif
    return {winogradInputBaseline, winogradOutputBaseline};
}

/// Per-thread V + product buffer of one tile block: grows once, then reused.
float* blockScratch(std::size_t floats) {
    struct Buffer {
        float* p = nullptr;
        std::size_t n = 0;
        ~Buffer() { std::free(p); }
    };
    thread_local Buffer buf;
    if (buf.n < floats) {
        std::free(buf.p);
        buf.p = static_cast<float*>(std::aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64));
        buf.n = floats;
    }
    return buf.p;
}

} // namespace

void winogradInputBaseline(const WinogradShape& s, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* v,
                           int64_t vStride) {
    const int64_t plane = s.H * s.W, imageStride = s.C * plane;
    const int64_t tnPad = (tn + 15) / 16 * 16;
    for (int64_t u = 0; u < tnPad; ++u) {
        float* vu = v + (u / 16) * s.C * 16 + u % 16;
        if (u >= tn) {
            for (int64_t c = c0; c < c1; ++c)
                for (int xi = 0; xi < kPoints; ++xi) vu[xi * vStride + c * 16] = 0.f;
            continue;
        }
        const int64_t t = t0 + u, b = t / s.tilesPerImage, r = t - b * s.tilesPerImage;
        const int64_t ty = r / s.tilesX, tx = r - ty * s.tilesX;
        const int64_t y0 = ty * kTile - s.padTop, x0 = tx * kTile - s.padLeft;
        for (int64_t c = c0; c < c1; ++c) {
            const float* xc = s.x + b * imageStride + c * plane;
            float d[kIn][kIn], e[kIn][kIn], o[kIn][kIn];
            for (int i = 0; i < kIn; ++i)
                for (int j = 0; j < kIn; ++j) {
                    const int64_t y = y0 + i, xx = x0 + j;
                    d[i][j] = y >= 0 && y < s.H && xx >= 0 && xx < s.W ? xc[y * s.W + xx] : 0.f;
                }
            for (int i = 0; i < kIn; ++i) inputTransform(d[i], 1, e[i], 1); // along each row
            for (int j = 0; j < kIn; ++j) inputTransform(&e[0][j], kIn, &o[0][j], kIn); // then down each column
            for (int i = 0; i < kIn; ++i)
                for (int j = 0; j < kIn; ++j) vu[(i * kIn + j) * vStride + c * 16] = o[i][j];
        }
    }
}

void winogradOutputBaseline(const WinogradShape& s, int64_t t0, int64_t tn, int64_t m0, int64_t m1, const float* p,
                            int64_t ldp) {
    const int64_t oplane = s.OH * s.OW, imageOut = s.M * oplane;
    for (int64_t u = 0; u < tn; ++u) {
        const int64_t t = t0 + u, b = t / s.tilesPerImage, r = t - b * s.tilesPerImage;
        const int64_t ty = r / s.tilesX, tx = r - ty * s.tilesX;
        const int64_t rows = std::min<int64_t>(kTile, s.OH - ty * kTile), cols = std::min<int64_t>(kTile, s.OW - tx * kTile);
        const float* pu = p + (u / 16) * kPoints * 16 + u % 16;
        for (int64_t m = m0; m < m1; ++m) {
            float mm[kIn][kIn], o[kTile][kIn], yv[kTile][kTile];
            for (int xi = 0; xi < kPoints; ++xi) mm[xi / kIn][xi % kIn] = pu[m * ldp + xi * 16];
            for (int j = 0; j < kIn; ++j) outputTransform(&mm[0][j], kIn, &o[0][j], kIn); // down each column
            for (int i = 0; i < kTile; ++i) outputTransform(o[i], 1, yv[i], 1);            // then along each row
            const float bias = s.bias ? s.bias[m] : 0.f;
            const int64_t off = b * imageOut + m * oplane + ty * kTile * s.OW + tx * kTile;
            for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j) {
                    float val = yv[i][j] + bias;
                    if (s.residual) val += s.residual[off + i * s.OW + j];
                    s.y[off + i * s.OW + j] = activateFused(val, s);
                }
        }
    }
}

bool WinogradConv::worthIt(int64_t m, int64_t c, int64_t n, int64_t oh, int64_t ow) {
    // The transforms cost O(C + M) per tile against O(M * C) saved multiplies: below ~16 channels
    // the implicit GEMM wins. The GEMMs need at least one full 16-tile panel (a single 7x7 map
    // has 4 tiles: its 36 weight matrices would be streamed for almost no work).
    const int64_t tiles = n * ((oh + kTile - 1) / kTile) * ((ow + kTile - 1) / kTile);
    return m >= 16 && c >= 16 && tiles >= 16;
}

void WinogradConv::init(const float* w, int64_t m, int64_t c) {
    m_m = m;
    m_c = c;
    // U[xi][m][c] = (G g G^T)[xi] for each filter g = w[m][c] (3x3).
    std::vector<float> u(static_cast<std::size_t>(kPoints * m * c));
    for (int64_t om = 0; om < m; ++om)
        for (int64_t ic = 0; ic < c; ++ic) {
            const float* g = w + (om * c + ic) * 9;
            float t[6][3];
            for (int i = 0; i < 6; ++i)
                for (int j = 0; j < 3; ++j) t[i][j] = kG[i][0] * g[0 * 3 + j] + kG[i][1] * g[1 * 3 + j] + kG[i][2] * g[2 * 3 + j];
            for (int i = 0; i < 6; ++i)
                for (int j = 0; j < 6; ++j) {
                    float s = t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2];
                    u[(static_cast<std::size_t>(i * 6 + j) * m + om) * c + ic] = s;
                }
        }
    m_u.clear();
    for (int xi = 0; xi < kPoints; ++xi)
        m_u.push_back(PackedMatrix::pack(u.data() + static_cast<std::size_t>(xi) * m * c, m, c, c, false));
}

void WinogradConv::run(const float* x, int64_t n, int64_t h, int64_t w, int64_t padTop, int64_t padLeft, int64_t oh,
                       int64_t ow, const float* bias, const float* residual, float* y, const Epilogue& act,
                       ThreadPool& pool) const {
    WinogradShape s;
    s.x = x;
    s.C = m_c;
    s.H = h;
    s.W = w;
    s.padTop = padTop;
    s.padLeft = padLeft;
    s.M = m_m;
    s.OH = oh;
    s.OW = ow;
    s.tilesX = (ow + kTile - 1) / kTile;
    s.tilesPerImage = (oh + kTile - 1) / kTile * s.tilesX;
    s.bias = bias;
    s.residual = residual;
    s.y = y;
    s.act = act.act == Activation::None ? 0 : act.act == Activation::Relu ? 1 : act.act == Activation::Clip ? 2
          : act.act == Activation::LeakyRelu ? 3 : 0;
    s.alpha = act.alpha;
    s.beta = act.beta;
    const bool actAfter = act.act != Activation::None && s.act == 0;
    const int64_t tiles = n * s.tilesPerImage;
    if (tiles == 0 || m_m == 0) return;

    // Tiles per block: whole 16-tile panels, as many (up to 4) as keep the block's V (36 x C per
    // tile) and products (36 x padded M per tile) within about 320 KB of L2.
    const Transforms tf = transforms();
    const int64_t mp = PackedMatrix::paddedRows(m_m);
    const int64_t panelBytes = int64_t(kPoints) * (m_c + mp) * 16 * int64_t(sizeof(float));
    const int64_t panelsPerBlock = std::clamp<int64_t>(int64_t(320 * 1024) / panelBytes, 1, 4);
    const int64_t tb = 16 * panelsPerBlock;
    const int64_t blocks = (tiles + tb - 1) / tb;
    // V: per transform point, the B panels of its GEMM (C x tiles); the products: per output
    // channel and 16-tile panel, 36 x 16. The strides get one extra cache line so the 36
    // addresses a transform touches at once do not all fall into the same L1 sets.
    auto vStrideOf = [&](int64_t tnPad) { return m_c * tnPad + 16; };
    auto ldpOf = [&](int64_t tnPad) { return tnPad / 16 * kPoints * 16 + 16; };
    const std::size_t vFloats = std::size_t(kPoints) * vStrideOf(tb), pFloats = std::size_t(mp) * ldpOf(tb);

    // The 36 GEMMs of a block: products of point xi for channel m at p + m*ldp + xi*16, panel q
    // of tiles at + q*576.
    auto gemms = [&](int64_t x0, int64_t x1, const float* v, int64_t vStride, float* p, int64_t ldp, int64_t panels) {
        for (int64_t xi = x0; xi < x1; ++xi)
            sgemmPanels(m_u[xi], v + xi * vStride, panels, p + xi * 16, ldp, kPoints * 16);
    };
    // One block, all on this thread: input transform, the 36 GEMMs, output transform.
    auto block = [&](int64_t blk, float* v, float* p) {
        const int64_t t0 = blk * tb, tn = std::min(tb, tiles - t0), tnPad = (tn + 15) / 16 * 16;
        const int64_t vStride = vStrideOf(tnPad), ldp = ldpOf(tnPad);
        tf.in(s, t0, tn, 0, m_c, v, vStride);
        gemms(0, kPoints, v, vStride, p, ldp, tnPad / 16);
        tf.out(s, t0, tn, 0, m_m, p, ldp);
    };
    const int threads = pool.threads();
    if (threads == 1 || blocks >= 4 * threads) {
        // Enough blocks: threads take whole blocks.
        pool.parallelFor(0, blocks, 1, [&](int64_t b0, int64_t b1) {
            float* v = blockScratch(vFloats + pFloats);
            for (int64_t blk = b0; blk < b1; ++blk) block(blk, v, v + vFloats);
        });
    } else {
        // Few blocks (one small-batch map): each step of a block is split between the threads
        // (channels, transform points, output channels); the arithmetic per output is the same.
        float* v = blockScratch(vFloats + pFloats);
        float* p = v + vFloats;
        const int64_t cChunk = std::max<int64_t>(1, m_c / (4 * threads)), mChunk = std::max<int64_t>(1, m_m / (4 * threads));
        for (int64_t blk = 0; blk < blocks; ++blk) {
            const int64_t t0 = blk * tb, tn = std::min(tb, tiles - t0), tnPad = (tn + 15) / 16 * 16;
            const int64_t vStride = vStrideOf(tnPad), ldp = ldpOf(tnPad);
            pool.parallelFor(0, m_c, cChunk, [&](int64_t c0, int64_t c1) { tf.in(s, t0, tn, c0, c1, v, vStride); });
            pool.parallelFor(0, kPoints, 1, [&](int64_t x0, int64_t x1) { gemms(x0, x1, v, vStride, p, ldp, tnPad / 16); });
            pool.parallelFor(0, m_m, mChunk, [&](int64_t m0, int64_t m1) { tf.out(s, t0, tn, m0, m1, p, ldp); });
        }
    }
    if (actAfter) {
        const int64_t plane = oh * ow;
        pool.parallelFor(0, n * m_m, std::max<int64_t>(1, 4096 / std::max<int64_t>(plane, 1)), [&](int64_t r0, int64_t r1) {
            applyActivation(y + r0 * plane, (r1 - r0) * plane, act);
        });
    }
}

} // namespace ew::rt::cpu
