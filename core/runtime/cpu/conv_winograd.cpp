#include "conv_winograd.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ew::rt::cpu {

constexpr int64_t kBlk = 16; // tiles transformed together (vector lanes x 2)
#define EW_WG_NAME(f) f##Baseline
#include "conv_winograd_kernels.inc"
#undef EW_WG_NAME
#if defined(__x86_64__) || defined(__i386__)
void winogradInputAvx2(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
void winogradOutputAvx2(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float, const float*, float*, int,
                        float, float);
#endif

namespace {

using InputFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
using OutputFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float, const float*, float*, int,
                          float, float);
struct Transforms {
    InputFn in;
    OutputFn out;
};
Transforms transforms() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) return {winogradInputAvx2, winogradOutputAvx2};
#endif
    return {winogradInputBaseline, winogradOutputBaseline};
}

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

} // namespace

bool WinogradConv::worthIt(int64_t m, int64_t c, int64_t oh, int64_t ow) {
    // The transforms cost O(C + M) per tile against O(M * C) saved multiplies: below ~16 channels
    // or on tiny maps the im2col GEMM wins.
    // Each of the 36 GEMMs has one column per tile; below ~16 tiles (a 7x7 map has 4) they are
    // too narrow for the micro-kernel and im2col wins.
    const int64_t tiles = ((oh + kTile - 1) / kTile) * ((ow + kTile - 1) / kTile);
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

    // 1. Input tiles -> V[xi][c][t], kBlk tiles at a time (vectorized across tiles); each of
    //    the 36 destination rows receives whole cache lines.
    const Transforms tf = transforms();
    const int64_t blocks = (tiles + kBlk - 1) / kBlk;
    pool.parallelFor(0, m_c * blocks, 1, [&](int64_t j0, int64_t j1) {
        alignas(64) float stage[kPoints * kBlk];
        for (int64_t job = j0; job < j1; ++job) {
            const int64_t c = job / blocks, t0 = (job % blocks) * kBlk;
            const int64_t tn = std::min(kBlk, tiles - t0);
            tf.in(x + c * h * w, h, w, padTop, padLeft, tilesX, t0, tn, stage);
            for (int xi = 0; xi < kPoints; ++xi)
                std::memcpy(v + (static_cast<std::size_t>(xi) * m_c + c) * tiles + t0, stage + xi * kBlk,
                            tn * sizeof(float));
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

    // 3. Back to the spatial domain a block of tiles at a time, with bias, residual and (for
    //    relu/clip) the activation fused; other activations run over each finished plane.
    const int actCode = act.act == Activation::None ? 0 : act.act == Activation::Relu ? 1 : act.act == Activation::Clip ? 2 : 3;
    pool.parallelFor(0, m_m, 1, [&](int64_t m0, int64_t m1) {
        alignas(64) float stage[kPoints * kBlk];
        for (int64_t om = m0; om < m1; ++om) {
            const float b = bias ? bias[om] : 0.f;
            float* yo = y + om * oh * ow;
            const float* ro = residual ? residual + om * oh * ow : nullptr;
            for (int64_t t0 = 0; t0 < tiles; t0 += kBlk) {
                const int64_t tn = std::min(kBlk, tiles - t0);
                for (int xi = 0; xi < kPoints; ++xi)
                    std::memcpy(stage + xi * kBlk, prod + (static_cast<std::size_t>(xi) * m_m + om) * tiles + t0,
                                tn * sizeof(float));
                tf.out(stage, tilesX, t0, tn, oh, ow, b, ro, yo, actCode < 3 ? actCode : 0, act.alpha, act.beta);
            }
            if (actCode == 3) applyActivation(yo, oh * ow, act);
        }
    });
}

} // namespace ew::rt::cpu
