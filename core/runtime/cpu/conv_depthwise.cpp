#include "conv_depthwise.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <vector>

namespace ew::rt::cpu {

bool depthwiseSupported(int64_t kh, int64_t kw, int64_t strideH, int64_t strideW, int64_t dilH, int64_t dilW) {
    return strideH == strideW && (strideH == 1 || strideH == 2) && dilH == 1 && dilW == 1 && kh <= 16 && kw <= 16;
}

float* depthwiseScratch(std::size_t floats) {
    thread_local std::vector<float> buf;
    if (buf.size() < floats) buf.resize(floats);
    return buf.data();
}

// The kernel body is in conv_depthwise_impl.inc, compiled for baseline x86-64 here and for
// AVX2+FMA in conv_depthwise_avx2.cpp; the CPU decides which one runs.
#define EW_DW_NAME depthwiseConvBaseline
#include "conv_depthwise_impl.inc"
#undef EW_DW_NAME

#if defined(__x86_64__) || defined(__i386__)
void depthwiseConvAvx2(const DepthwiseShape& s, const float* x, const float* weights, const float* bias,
                       const float* residual, float* y, const Epilogue& act, ThreadPool& pool);
#endif

void depthwiseConv(const DepthwiseShape& s, const float* x, const float* weights, const float* bias,
                   const float* residual, float* y, const Epilogue& act, ThreadPool& pool) {
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) return depthwiseConvAvx2(s, x, weights, bias, residual, y, act, pool);
#endif
    depthwiseConvBaseline(s, x, weights, bias, residual, y, act, pool);
}

} // namespace ew::rt::cpu
