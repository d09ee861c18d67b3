#include "conv_depthwise.h"

#include "runtime/thread_pool.h"

#include <atomic>
#include <vector>

namespace ew::rt::cpu {

bool depthwiseSupported(int64_t kh, int64_t kw, int64_t strideH, int64_t strideW, int64_t dilH, int64_t dilW) {
    return (strideH == 1 || strideH == 2) && (strideW == 1 || strideW == 2) && dilH == 1 && dilW == 1 && kh >= 1 &&
           kw >= 1 && kh <= kDwMaxKernel && kw <= kDwMaxKernel;
}

float* depthwiseScratch(std::size_t floats) {
    thread_local std::vector<float> buf;
    if (buf.size() < floats) buf.resize(floats);
    return buf.data();
}

namespace {

std::atomic<bool> g_forcePortable{false};

// Portable primitives of conv_depthwise_impl.inc: plain loops over the 8 channel lanes (the
// compiler vectorizes them with whatever the baseline target has). Same summation order as the
// AVX2 ones; they differ only in rounding (separate multiply and add instead of FMA).

void dwPackWeights(const float* w, int64_t kk, int nc, float* wp) {
    for (int64_t k = 0; k < kk; ++k)
        for (int c = 0; c < 8; ++c) wp[k * 8 + c] = c < nc ? w[c * kk + k] : 0.f;
}

void dwZero(float* dst, int64_t n) {
    for (int64_t f = 0; f < n; ++f) dst[f] = 0.f;
}

void dwPackColumns(const float* x, int64_t plane, int nc, const float* zeros, int64_t n, bool /*over*/, float* dst) {
    const float* src[8];
    for (int c = 0; c < 8; ++c) src[c] = c < nc ? x + c * plane : zeros;
    for (int64_t u = 0; u < n; ++u)
        for (int c = 0; c < 8; ++c) dst[u * 8 + c] = src[c][u];
}

void dwOutputRow(const float* const* rows, const float* wp, const float* b8, int64_t KH, int64_t KW, int64_t S,
                 int64_t OW, float* y, const float* r, int64_t plane, int nc, int act, float lo, float hi,
                 bool /*spill*/) {
    for (int64_t o0 = 0; o0 < OW; o0 += 8) {
        const int64_t n = OW - o0 < 8 ? OW - o0 : 8;
        float acc[8][8];
        for (int64_t k = 0; k < n; ++k)
            for (int c = 0; c < 8; ++c) acc[k][c] = b8[c];
        for (int64_t i = 0; i < KH; ++i)
            for (int64_t j = 0; j < KW; ++j) {
                const float* w = wp + (i * KW + j) * 8;
                const float* in = rows[i] + (o0 * S + j) * 8;
                for (int64_t k = 0; k < n; ++k)
                    for (int c = 0; c < 8; ++c) acc[k][c] += w[c] * in[k * S * 8 + c];
            }
        for (int c = 0; c < nc; ++c) {
            float* yc = y + c * plane + o0;
            const float* rc = r ? r + c * plane + o0 : nullptr;
            for (int64_t k = 0; k < n; ++k) {
                float v = acc[k][c];
                if (rc) v += rc[k];
                if (act == 1) {
                    v = v > 0.f ? v : 0.f;
                } else if (act == 2) {
                    v = v < lo ? lo : v; // std::min(std::max(v, lo), hi), NaN kept as applyActivation does
                    v = hi < v ? hi : v;
                }
                yc[k] = v;
            }
        }
    }
}

} // namespace

// The kernel driver is in conv_depthwise_impl.inc, compiled for baseline x86-64 here (with the
// primitives above) and for AVX2+FMA in conv_depthwise_avx2.cpp; the CPU decides which one runs.
#define EW_DW_NAME depthwiseConvBaseline
#define EW_DW_PACK_NAME depthwisePackGroupsBaseline
#define EW_DW_ROWS_NAME depthwiseGroupRowsBaseline
#include "conv_depthwise_impl.inc"
#undef EW_DW_NAME
#undef EW_DW_PACK_NAME
#undef EW_DW_ROWS_NAME

#if defined(__x86_64__) || defined(__i386__)
void depthwiseConvAvx2(const DepthwiseShape& s, const float* x, const float* weights, const float* bias,
                       const float* residual, float* y, const Epilogue& act, ThreadPool& pool);
void depthwisePackGroupsAvx2(const float* weights, const float* bias, int64_t C, int64_t kk, float* wpAll,
                             float* b8All);
void depthwiseGroupRowsAvx2(const float* const* taps, int64_t groupFloats, int64_t C, const float* wpAll,
                            const float* b8All, int64_t KH, int64_t KW, int64_t SW, int64_t OW, float* y,
                            int64_t plane, int act, float lo, float hi, bool spill);
#endif

void depthwiseForcePortable(bool portable) { g_forcePortable.store(portable); }

DepthwiseRowFns depthwiseRowFns() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && !g_forcePortable.load(std::memory_order_relaxed))
        return {depthwisePackGroupsAvx2, depthwiseGroupRowsAvx2};
#endif
    return {depthwisePackGroupsBaseline, depthwiseGroupRowsBaseline};
}

void depthwiseConv(const DepthwiseShape& s, const float* x, const float* weights, const float* bias,
                   const float* residual, float* y, const Epilogue& act, ThreadPool& pool) {
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && !g_forcePortable.load(std::memory_order_relaxed))
        return depthwiseConvAvx2(s, x, weights, bias, residual, y, act, pool);
#endif
    depthwiseConvBaseline(s, x, weights, bias, residual, y, act, pool);
}

} // namespace ew::rt::cpu
