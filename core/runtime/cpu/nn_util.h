#pragma once
// Helpers shared by the nn kernel family (nn_*.cpp): float-type selection of a member runner and
// small numeric utilities. Arithmetic in these reference kernels happens in double.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ew::rt::cpu::nn {

/// Points `fn` at K::runTyped<T> for the float type T of `t` (float, double, float16); false
/// when `t` is not one of them.
template <typename K, typename Fn> bool selectFloat(DataType t, Fn& fn) {
    fn = nullptr;
    dispatch<EW_FLOAT_TYPES>(
        t, [&](auto tag) { fn = &K::template runTyped<typename decltype(tag)::type>; });
    return fn != nullptr;
}

/// Element i of a float-typed tensor (float, double or float16) as double.
inline double loadF(const Tensor& t, int64_t i) {
    switch (t.dtype()) {
    case DataType::Float:
        return t.data<float>()[i];
    case DataType::Double:
        return t.data<double>()[i];
    case DataType::Float16:
        return halfToFloatFast(t.data<uint16_t>()[i]);
    default:
        return t.doubleAt(i);
    }
}

/// Round half to even (ONNX quantization rounding), for values already finite.
inline double roundEven(double v) {
    return std::nearbyint(v);
}

} // namespace ew::rt::cpu::nn
