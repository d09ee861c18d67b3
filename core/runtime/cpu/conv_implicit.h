#pragma once
// Implicit GEMM for 2-D (and 1-D, as 1 x W) convolutions: the B operand of the SGEMM, the im2col
// matrix, is never written out. sgemmImplicit asks for it one depth block x column block at a
// time and the packer writes the values straight into the 16-column panel layout from the input,
// while that block is hot in cache.
//
// Column j = (image b, output pixel p = oh*OW + ow) of the batch, row k = (c*KH + i)*KW + jj:
//   B(k, j) = x[b][c][oh*sh - ph + i*dh][ow*sw - pw + jj*dw]   (0 outside the input).
// A panel's 16 columns are split into two 8-lane halves, and each half into runs of consecutive
// output pixels of one output row of one image. For one tap (i, jj) a run reads consecutive input
// pixels (stride sw) of one input row, so a half panel row is one vector load and a lane mask
// (stride 1; a load of 16 and a deinterleave for stride 2), or a few of them OR-ed together on
// maps narrower than 8. The runs of a tap are worked out once per panel, then the loop over the
// input channels (rows c*T + t of the panel) only moves the source pointer by one plane.
#include "sgemm.h"

#include <cstdint>

namespace ew::rt::cpu {

/// One convolution GEMM (one group of a batch). All plain data.
struct ImplicitConv {
    const float* x = nullptr;      ///< image 0, first channel of the group
    const float* xBegin = nullptr; ///< the whole input tensor: loads outside it are masked
    const float* xEnd = nullptr;
    int64_t imageStride = 0; ///< floats between images (C * H * W)
    int64_t Cg = 1;          ///< input channels of the group
    int64_t H = 1, W = 1, OH = 1, OW = 1;
    int64_t KH = 1, KW = 1;
    int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
    const int64_t* owLo = nullptr; ///< [KW]: tap column jj reads the input for ow in [owLo, owHi)
    const int64_t* owHi = nullptr;
};

/// The PackPanelsFn for sgemmImplicit (ctx: an ImplicitConv); picks the AVX2 packer when the
/// SGEMM runs its AVX2 kernel.
PackPanelsFn convImplicitPacker();

void convImplicitPackPortable(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out);
void convImplicitPackAvx2(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out);

} // namespace ew::rt::cpu
