#pragma once
// Depthwise convolution (group == channels, one filter per channel) for float 2-D maps, any
// square-or-not kernel, stride 1 or 2, dilation 1. Works a row at a time so the inner loop is a
// contiguous multiply-add (stride 2 first splits the input rows into even and odd columns), and
// applies bias, residual and activation while the row is still in L1.
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
};

/// Per-thread scratch (grows once, then reused: steady-state runs allocate nothing).
float* depthwiseScratch(std::size_t floats);

bool depthwiseSupported(int64_t kh, int64_t kw, int64_t strideH, int64_t strideW, int64_t dilH, int64_t dilW);

/// One image: x [C, H, W], weights [C, 1, KH, KW] -> y [C, OH, OW].
void depthwiseConv(const DepthwiseShape& s, const float* x, const float* weights, const float* bias,
                   const float* residual, float* y, const Epilogue& act, ThreadPool& pool);

} // namespace ew::rt::cpu
