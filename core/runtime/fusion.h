#pragma once
#include "ir/graph.h"

namespace ew::rt {

/// The runtime's own fusions, applied by Session::create on a private copy of the graph (the
/// caller's model is never changed):
///   Conv(float, constant 4-D weights) [-> BatchNormalization] [-> Add(residual of the same shape)]
///   [-> activation] => ai.edgewise.FusedConv(X, W, B, residual) {activation, activation_params, conv attrs}
/// An inference-mode BatchNormalization (training_mode 0, constant scale/B/mean/var, constant or no
/// Conv bias) is folded into new weight and bias initializers computed in double.
/// where every intermediate value has exactly one consumer and is not a graph output. The
/// activation is one of Relu, Clip (constant bounds), LeakyRelu, HardSigmoid, HardSwish,
/// Sigmoid, Tanh. The fused node keeps the Conv's name, so profiles map back to the graph.
/// Returns how many Conv nodes were fused.
int fuseConvChains(ir::Graph& graph);

/// Domain of Edgewise's own runtime ops.
inline constexpr const char* kEdgewiseDomain = "ai.edgewise";

} // namespace ew::rt
