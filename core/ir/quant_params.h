#pragma once
#include "graph.h"

namespace ew::ir {

/// Fills Value::quant from the model's own quantization information, so the viewer, the
/// inspector and the exporters see scales and zero points on the quantized tensors:
/// - QDQ: the integer tensor between QuantizeLinear and DequantizeLinear (and a DequantizeLinear
///   whose input is an integer initializer) gets the node's constant scale / zero point / axis;
/// - QLinear* ops: their integer inputs and outputs get the (x|w|y)_scale / _zero_point inputs;
/// - graph quantization_annotation entries that name constant scale / zero-point tensors.
/// Values whose parameters are not constants are left alone. Recurses into subgraphs.
/// Returns how many values were annotated.
int deriveQuantParams(Graph& graph);

} // namespace ew::ir
