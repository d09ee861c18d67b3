#pragma once
// Fast INT8 kernels behind the reference ones of nn_quant.cpp and the fused QDQ nodes
// (ai.edgewise.QConv, ai.edgewise.QGemm; see runtime/fusion.h fuseQdq). All run through the
// exact integer GEMM of int8_gemm.h and match the reference kernels bit for bit.
#include "kernel_util.h"
#include "runtime/kernel.h"

#include <cstdint>
#include <memory>

namespace ew::rt::cpu {

inline bool isInt8Like(DataType t) { return t == DataType::Int8 || t == DataType::UInt8; }

/// Element i of a (small, constant) zero-point or bias tensor as an integer.
inline int64_t intAt(const Tensor& t, int64_t i) {
    switch (t.dtype()) {
    case DataType::Int8: return t.data<int8_t>()[i];
    case DataType::UInt8: return t.data<uint8_t>()[i];
    case DataType::Int32: return t.data<int32_t>()[i];
    default: return t.intAt(i);
    }
}

/// Element i of a (small, constant) scale tensor as float.
inline float floatAt(const Tensor& t, int64_t i) {
    switch (t.dtype()) {
    case DataType::Float: return t.data<float>()[i];
    case DataType::Double: return static_cast<float>(t.data<double>()[i]);
    case DataType::Float16: return halfToFloatFast(t.data<uint16_t>()[i]);
    default: return static_cast<float>(t.doubleAt(i));
    }
}

/// The fast QLinearConv (qlinear) or ConvInteger for this node, or nullptr when it does not
/// apply (weights or weight zero point not constant, not a 2-D convolution, depth too large); the
/// caller then runs the reference kernel. The returned kernel's init() has not run yet.
std::unique_ptr<Kernel> makeFastIntConv(const InitContext& ctx, bool qlinear);
/// The fast QLinearMatMul (qlinear) or MatMulInteger: constant 2-D B (and B zero point), scalar
/// A zero point; nullptr otherwise.
std::unique_ptr<Kernel> makeFastIntMatMul(const InitContext& ctx, bool qlinear);

} // namespace ew::rt::cpu
