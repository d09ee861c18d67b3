#include "conv_winograd.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cmath>
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

/// v = B^T d B for one 6x6 tile (d row-major).
inline void inputTransform(const float d[kIn][kIn], float v[kIn][kIn]) {
    float t[kIn][kIn];
    // Rows: t = B^T d.
    for (int j = 0; j < kIn; ++j) {
        const float d0 = d[0][j], d1 = d[1][j], d2 = d[2][j], d3 = d[3][j], d4 = d[4][j], d5 = d[5][j];
        t[0][j] = 4 * d0 - 5 * d2 + d4;
        t[1][j] = -4 * d1 - 4 * d2 + d3 + d4;
        t[2][j] = 4 * d1 - 4 * d2 - d3 + d4;
        t[3][j] = -2 * d1 - d2 + 2 * d3 + d4;
        t[4][j] = 2 * d1 - d2 - 2 * d3 + d4;
        t[5][j] = 4 * d1 - 5 * d3 + d5;
    }
    // Columns: v = t B.
    for (int i = 0; i < kIn; ++i) {
        const float t0 = t[i][0], t1 = t[i][1], t2 = t[i][2], t3 = t[i][3], t4 = t[i][4], t5 = t[i][5];
        v[i][0] = 4 * t0 - 5 * t2 + t4;
        v[i][1] = -4 * t1 - 4 * t2 + t3 + t4;
        v[i][2] = 4 * t1 - 4 * t2 - t3 + t4;
        v[i][3] = -2 * t1 - t2 + 2 * t3 + t4;
        v[i][4] = 2 * t1 - t2 - 2 * t3 + t4;
        v[i][5] = 4 * t1 - 5 * t3 + t5;
    }
}

/// y = A^T m A for one tile (4x4 result).
inline void outputTransform(const float m[kIn][kIn], float y[kTile][kTile]) {
    float t[kTile][kIn];
    for (int j = 0; j < kIn; ++j) {
        const float m0 = m[0][j], m1 = m[1][j], m2 = m[2][j], m3 = m[3][j], m4 = m[4][j], m5 = m[5][j];
        t[0][j] = m0 + m1 + m2 + m3 + m4;
        t[1][j] = m1 - m2 + 2 * m3 - 2 * m4;
        t[2][j] = m1 + m2 + 4 * m3 + 4 * m4;
        t[3][j] = m1 - m2 + 8 * m3 - 8 * m4 + m5;
    }
    for (int i = 0; i < kTile; ++i) {
        const float t0 = t[i][0], t1 = t[i][1], t2 = t[i][2], t3 = t[i][3], t4 = t[i][4], t5 = t[i][5];
        y[i][0] = t0 + t1 + t2 + t3 + t4;
        y[i][1] = t1 - t2 + 2 * t3 - 2 * t4;
        y[i][2] = t1 + t2 + 4 * t3 + 4 * t4;
        y[i][3] = t1 - t2 + 8 * t3 - 8 * t4 + t5;
    }
}

inline float activate(float v, const Epilogue& e) {
    switch (e.act) {
    case Activation::None: return v;
    case Activation::Relu: return v > 0.f ? v : 0.f;
    case Activation::Clip: return std::min(std::max(v, e.alpha), e.beta);
    case Activation::LeakyRelu: return v >= 0.f ? v : v * e.alpha;
    case Activation::Sigmoid: return 1.f / (1.f + std::exp(-v));
    case Activation::HardSigmoid: return std::min(1.f, std::max(0.f, e.alpha * v + e.beta));
    case Activation::HardSwish: return v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f));
    case Activation::Tanh: return std::tanh(v);
    }
    return v;
}

} // namespace

bool WinogradConv::worthIt(int64_t m, int64_t c, int64_t oh, int64_t ow) {
    // The transforms cost O(C + M) per tile against O(M * C) saved multiplies: below ~16 channels
    // or on tiny maps the im2col GEMM wins.
    return m >= 16 && c >= 16 && oh >= 4 && ow >= 4;
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

std::size_t WinogradConv::scratchBytes(int64_t oh, int64_t ow) const {
    const int64_t tiles = ((oh + kTile - 1) / kTile) * ((ow + kTile - 1) / kTile);
    // V [36][C][T] and the products [36][M][T].
    return static_cast<std::size_t>(kPoints * tiles * (m_c + m_m)) * sizeof(float);
}

void WinogradConv::run(const float* x, int64_t h, int64_t w, int64_t padTop, int64_t padLeft, int64_t oh, int64_t ow,
                       const float* bias, const float* residual, float* y, const Epilogue& act, std::byte* scratch,
                       ThreadPool& pool) const {
    const int64_t tilesY = (oh + kTile - 1) / kTile, tilesX = (ow + kTile - 1) / kTile;
    const int64_t tiles = tilesY * tilesX;
    float* v = reinterpret_cast<float*>(scratch);
    float* prod = v + static_cast<std::size_t>(kPoints) * m_c * tiles;

    // 1. Input tiles -> V[xi][c][t].
    pool.parallelFor(0, m_c, 1, [&](int64_t c0, int64_t c1) {
        float d[kIn][kIn], tv[kIn][kIn];
        for (int64_t c = c0; c < c1; ++c) {
            const float* xc = x + c * h * w;
            for (int64_t ty = 0; ty < tilesY; ++ty)
                for (int64_t tx = 0; tx < tilesX; ++tx) {
                    const int64_t y0 = ty * kTile - padTop, x0 = tx * kTile - padLeft;
                    const bool inside = y0 >= 0 && x0 >= 0 && y0 + kIn <= h && x0 + kIn <= w;
                    for (int i = 0; i < kIn; ++i) {
                        const int64_t iy = y0 + i;
                        if (inside) {
                            std::memcpy(d[i], xc + iy * w + x0, kIn * sizeof(float));
                            continue;
                        }
                        for (int j = 0; j < kIn; ++j) {
                            const int64_t ix = x0 + j;
                            d[i][j] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? xc[iy * w + ix] : 0.f;
                        }
                    }
                    inputTransform(d, tv);
                    const int64_t t = ty * tilesX + tx;
                    for (int i = 0; i < kIn; ++i)
                        for (int j = 0; j < kIn; ++j) v[(static_cast<std::size_t>(i * kIn + j) * m_c + c) * tiles + t] = tv[i][j];
                }
        }
    });

    // 2. 36 independent GEMMs: prod[xi] (M x T) = U[xi] (M x C) * V[xi] (C x T). Each runs on one
    //    thread (nested parallelFor runs inline), so the split is over xi.
    Epilogue none;
    pool.parallelFor(0, kPoints, 1, [&](int64_t x0, int64_t x1) {
        for (int64_t xi = x0; xi < x1; ++xi)
            sgemm(m_u[xi], v + static_cast<std::size_t>(xi) * m_c * tiles, tiles, false, tiles,
                  prod + static_cast<std::size_t>(xi) * m_m * tiles, tiles, none, pool);
    });

    // 3. Back to the spatial domain, with bias, residual and activation.
    pool.parallelFor(0, m_m, 1, [&](int64_t m0, int64_t m1) {
        float mt[kIn][kIn], yt[kTile][kTile];
        for (int64_t om = m0; om < m1; ++om) {
            const float b = bias ? bias[om] : 0.f;
            float* yo = y + om * oh * ow;
            const float* ro = residual ? residual + om * oh * ow : nullptr;
            for (int64_t ty = 0; ty < tilesY; ++ty)
                for (int64_t tx = 0; tx < tilesX; ++tx) {
                    const int64_t t = ty * tilesX + tx;
                    for (int i = 0; i < kIn; ++i)
                        for (int j = 0; j < kIn; ++j)
                            mt[i][j] = prod[(static_cast<std::size_t>(i * kIn + j) * m_m + om) * tiles + t];
                    outputTransform(mt, yt);
                    const int64_t rows = std::min<int64_t>(kTile, oh - ty * kTile);
                    const int64_t cols = std::min<int64_t>(kTile, ow - tx * kTile);
                    for (int64_t i = 0; i < rows; ++i) {
                        const int64_t off = (ty * kTile + i) * ow + tx * kTile;
                        for (int64_t j = 0; j < cols; ++j) {
                            float val = yt[i][j] + b;
                            if (ro) val += ro[off + j];
                            yo[off + j] = activate(val, act);
                        }
                    }
                }
        }
    });
}

} // namespace ew::rt::cpu
