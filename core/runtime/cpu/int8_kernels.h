#pragma once
// Fast INT8 kernels behind the reference ones of nn_quant.cpp and the fused QDQ nodes
// (ai.edgewise.QConv, ai.edgewise.QGemm; see runtime/fusion.h fuseQdq). All run through the
// exact integer GEMM of int8_gemm.h and match the reference kernels bit for bit.
#include "runtime/kernel.h"

#include <memory>

namespace ew::rt::cpu {

/// The fast QLinearConv (qlinear) or ConvInteger for this node, or nullptr when it does not
/// apply (weights or weight zero point not constant, not a 2-D convolution, depth too large); the
/// caller then runs the reference kernel. The returned kernel's init() has not run yet.
std::unique_ptr<Kernel> makeFastIntConv(const InitContext& ctx, bool qlinear);
/// The fast QLinearMatMul (qlinear) or MatMulInteger: constant 2-D B (and B zero point), scalar
/// A zero point; nullptr otherwise.
std::unique_ptr<Kernel> makeFastIntMatMul(const InitContext& ctx, bool qlinear);

} // namespace ew::rt::cpu
