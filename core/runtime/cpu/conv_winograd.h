#pragma once
// Winograd F(4x4, 3x3) convolution for float 3x3 / stride 1 / dilation 1 / group 1 (the bulk of
// ResNet-style models, and batches of small maps such as digits-cnn's 8x8 ones): 36 multiplies per
// 4x4 output tile instead of 144. Weights are transformed and packed once. A run cuts the tiles of
// the whole batch (tile t = image t / tilesPerImage, then row-major inside the image) into blocks
// of a few 16-tile panels, and per block: the input transform writes the 36 B operands straight
// into the SGEMM's 16-column panel layout, 36 GEMMs (U[xi] x V[xi]) land in an L2-sized product
// buffer, and the output transform writes the 4x4 tiles with bias, residual and activation.
#include "sgemm.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ew::rt {
class ThreadPool;
}

namespace ew::rt::cpu {

class WinogradConv {
public:
    /// Transforms and packs weights [M, C, 3, 3].
    void init(const float* weights, int64_t m, int64_t c);
    bool ready() const { return !m_u.empty(); }
    /// x [N, C, H, W] -> y [N, M, OH, OW] (3x3, stride 1, pads padTop / padLeft, the bottom and
    /// right ones implied by OH and OW); residual (same layout as y) and bias may be null. Every
    /// output is computed the same way whatever the thread count. Per-thread buffers grow once.
    void run(const float* x, int64_t n, int64_t h, int64_t w, int64_t padTop, int64_t padLeft, int64_t oh, int64_t ow,
             const float* bias, const float* residual, float* y, const Epilogue& act, ThreadPool& pool) const;
    /// Whether Winograd pays off for these channel counts and this batch of oh x ow maps (small
    /// convs and single small maps stay on the implicit GEMM).
    static bool worthIt(int64_t m, int64_t c, int64_t n, int64_t oh, int64_t ow);
    int64_t outChannels() const { return m_m; }
    int64_t inChannels() const { return m_c; }

private:
    int64_t m_m = 0, m_c = 0;
    std::vector<PackedMatrix> m_u; ///< 36 transformed weight matrices [M, C]
};

/// Plain data shared by the tile transforms (baseline and AVX2 builds): one batched run.
struct WinogradShape {
    const float* x = nullptr; ///< [N, C, H, W]
    int64_t C = 0, H = 0, W = 0, padTop = 0, padLeft = 0;
    int64_t M = 0, OH = 0, OW = 0;
    int64_t tilesX = 0, tilesPerImage = 0;
    const float* bias = nullptr;     ///< [M] or null
    const float* residual = nullptr; ///< like y, or null
    float* y = nullptr;              ///< [N, M, OH, OW]
    int act = 0;                     ///< applied by the output transform: 0 none, 1 Relu, 2 Clip, 3 LeakyRelu
    float alpha = 0.f, beta = 0.f;
};

/// Input transform of the tiles [t0, t0 + tn) of the batch, channels [c0, c1): for tile
/// u = t - t0 and transform point xi (0..35), V_xi(c, u) goes to
/// v[xi * vStride + (u / 16) * C * 16 + c * 16 + u % 16] (B panels of the GEMM xi, depth C). The
/// lanes of tiles past tn, up to the next multiple of 16, get zeros. v is 32-byte aligned.
using WinogradInputFn = void (*)(const WinogradShape& s, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* v,
                                 int64_t vStride);
/// Output transform of the same tiles for output channels [m0, m1): the product of point xi for
/// output channel m and tile u is at p[m * ldp + (u / 16) * 576 + xi * 16 + u % 16] (per channel
/// and 16-tile panel, the 36 products of a tile 16 floats apart); writes y with bias, residual and
/// the fused activation. p is 32-byte aligned, ldp a multiple of 8.
using WinogradOutputFn = void (*)(const WinogradShape& s, int64_t t0, int64_t tn, int64_t m0, int64_t m1,
                                  const float* p, int64_t ldp);

void winogradInputBaseline(const WinogradShape& s, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* v,
                           int64_t vStride);
void winogradOutputBaseline(const WinogradShape& s, int64_t t0, int64_t tn, int64_t m0, int64_t m1, const float* p,
                            int64_t ldp);
void winogradInputAvx2(const WinogradShape& s, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* v,
                       int64_t vStride);
void winogradOutputAvx2(const WinogradShape& s, int64_t t0, int64_t tn, int64_t m0, int64_t m1, const float* p,
                        int64_t ldp);

} // namespace ew::rt::cpu
