#pragma once
// Winograd F(4x4, 3x3) convolution for float 3x3 / stride 1 / dilation 1 / group 1 (the bulk of
// ResNet-style models): 36 multiplies per 4x4 output tile instead of 144. Weights are transformed
// and packed once; a run transforms the input tiles, does 36 independent GEMMs with the packed
// SGEMM, and transforms back with bias, residual and activation fused into that last step.
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
    /// Scratch bytes for one image of H x W input with pads (pt, pl) and output OH x OW.
    std::size_t scratchBytes(int64_t oh, int64_t ow) const;
    /// One image: x [C, H, W] -> y [M, OH, OW]; residual (same layout as y) may be null.
    void run(const float* x, int64_t h, int64_t w, int64_t padTop, int64_t padLeft, int64_t oh, int64_t ow,
             const float* bias, const float* residual, float* y, const Epilogue& act, std::byte* scratch,
             ThreadPool& pool) const;
    /// Whether Winograd pays off for these channel counts (small convs stay on im2col).
    static bool worthIt(int64_t m, int64_t c, int64_t oh, int64_t ow);

private:
    int64_t m_m = 0, m_c = 0;
    std::vector<PackedMatrix> m_u; ///< 36 transformed weight matrices [M, C]
};

} // namespace ew::rt::cpu
