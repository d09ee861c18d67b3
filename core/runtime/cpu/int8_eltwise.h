#pragma once
// Element-wise INT8 kernels behind the fused QDQ residual Add (ai.edgewise.QAdd, runtime/fusion.h
// fuseQdq). No integer shortcut: each element goes through the float operations of the QDQ
// pattern it replaces, in the same order, so the result equals the float QDQ run bit for bit:
//   y = clamp(nearbyint((float(a - za) * sa + float(b - zb) * sb) / ys) + zy, lo, hi)
// (DequantizeLinear, Add, QuantizeLinear; a Relu/Clip after the Add narrows lo/hi, which is exact
// because quantization is monotonic). Both files are compiled without FMA contraction.
#include <cstdint>

namespace ew::rt::cpu {

struct QAddArgs {
    float sa = 1.f, sb = 1.f, ys = 1.f;
    int32_t za = 0, zb = 0;
    float zy = 0.f, lo = 0.f, hi = 255.f;
    bool aSigned = false, bSigned = false, ySigned = false; ///< int8 (true) or uint8
};

/// y[i] for i < n (a, b, y of the 8-bit types QAddArgs names).
void qAdd(const QAddArgs& p, const void* a, const void* b, void* y, int64_t n);

} // namespace ew::rt::cpu
