#pragma once
// Depthwise convolution (group == channels, one filter per channel) for float 2-D maps, any kernel
// up to 16x16 (square or not), stride 1 or 2 in each direction (equal or not), dilation 1, any
// (asymmetric) padding.
//
// Channels go in groups of 8 through a channel-interleaved row buffer: each input row the kernel
// needs is transposed once into [padded column][8 channels] (zero padding and zero tail channels
// written there), so every tap of every output pixel is one 8-lane multiply-add for either stride
// and any map width. The buffer is a ring of KH rows that follows the output row, so it stays in L1
// even on 112x112 maps. Eight output pixels are accumulated in registers, transposed back to the 8
// channel planes, and bias (the accumulators' start value), residual and activation are applied
// before the store. Threads take (8-channel group, strip of output rows) tasks; every output element
// is summed in the same order whatever the split, so results are bit-identical for any thread count.
#include "sgemm.h"

#include <cstddef>
#include <cstdint>

namespace ew::rt {
class ThreadPool;
}

namespace ew::rt::cpu {

struct DepthwiseShape {
    int64_t channels = 0, h = 0, w = 0, oh = 0, ow = 0;
    int64_t kh = 3, kw = 3, stride = 1, padTop = 0, padLeft = 0;
    /// Horizontal stride; 0: the same as `stride` (which is then the vertical one).
    int64_t strideW = 0;
};

/// Largest kernel height/width the kernel takes.
inline constexpr int64_t kDwMaxKernel = 16;

/// Per-thread scratch (grows once, then reused: steady-state runs allocate nothing).
float* depthwiseScratch(std::size_t floats);

bool depthwiseSupported(int64_t kh, int64_t kw, int64_t strideH, int64_t strideW, int64_t dilH, int64_t dilW);

/// One image: x [C, H, W], weights [C, 1, KH, KW] -> y [C, OH, OW] = act(conv + bias + residual).
/// bias [C] and residual [C, OH, OW] may be null; act.act/alpha/beta choose the activation (its
/// bias and residual fields are ignored). y must not overlap x or residual.
void depthwiseConv(const DepthwiseShape& s, const float* x, const float* weights, const float* bias,
                   const float* residual, float* y, const Epilogue& act, ThreadPool& pool);

/// Forces the portable (non-AVX2) kernel, so tests can compare both on the same machine.
void depthwiseForcePortable(bool portable);

/// The depthwise half of ai.edgewise.FusedPwDwConv (conv_pwdw.cpp), whose driver fills the
/// channel-interleaved input rows itself, for the CPU in use (AVX2 or portable, as
/// depthwiseConv picks):
///  - pack(w [C, kk], bias [C] or null, C, kk, wpAll, b8All): every 8-channel group's taps at
///    wpAll + g*kk*8 and bias at b8All + g*8 (zeros past C);
///  - rows(taps, groupFloats, C, wpAll, b8All, KH, KW, SW, OW, y, plane, act, lo, hi, spill): one
///    output row of all channels; taps[i] is the padded input row of tap row i laid out
///    [group][padded column][8 channels], groupFloats floats per group; y is the row's place in
///    channel 0's plane, planes `plane` floats apart; act 0 none, 1 Relu, 2 Clip(lo, hi); spill
///    as in the kernel (8 values may be written from the row start into later rows).
struct DepthwiseRowFns {
    void (*pack)(const float* weights, const float* bias, int64_t C, int64_t kk, float* wpAll, float* b8All);
    void (*rows)(const float* const* taps, int64_t groupFloats, int64_t C, const float* wpAll, const float* b8All,
                 int64_t KH, int64_t KW, int64_t SW, int64_t OW, float* y, int64_t plane, int act, float lo, float hi,
                 bool spill);
};
DepthwiseRowFns depthwiseRowFns();

} // namespace ew::rt::cpu
