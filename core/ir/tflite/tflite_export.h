#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ew::tflitefmt {

struct ExportOptions {
    /// Model.description; empty: the model's doc string, else "Edgewise".
    std::string description;
    /// Constant data beyond this many bytes in total is written after the flatbuffer and
    /// referenced by Buffer.offset/size (the flatbuffer itself must stay under 2 GB).
    uint64_t inlineBufferLimit = (uint64_t(1) << 31) - (uint64_t(256) << 20);
};

/// What an export did, for the CLI and tests.
struct ExportReport {
    int operators = 0;      ///< in all subgraphs
    int subgraphs = 0;
    int transposes = 0;     ///< TRANSPOSE operators the layout conversion could not avoid (border included)
    bool quantized = false; ///< some operator runs on integer tensors
};

/// Exports a model to TFLite (schema version 3, "TFL3").
///
/// Algorithm: the IR is NCHW (ONNX semantics); TFLite is NHWC. Shapes are inferred on a clone,
/// then every subgraph is emitted in topological order. A rank-4 activation gets a TFLite
/// tensor in the layout its producer natively writes: channels-last ("Cl", the IR value
/// transposed by {0,2,3,1}) after convolutions, pooling, resize and batch norm, and through
/// layout-agnostic operators (elementwise, concat, split, pad, softmax, reductions) with their
/// axes remapped; or the IR order ("Ir") after memory-order operators (reshape, flatten,
/// squeeze, gather, matmul, ...). A consumer that needs the other layout gets a view: a
/// RESHAPE when the permutation only moves size-1 dims, else a TRANSPOSE (cached per value).
/// Transposes between IR layouts cancel (a TFLite import's border Transposes disappear);
/// weights are re-laid out (OIHW -> OHWI, depthwise -> 1HW(C*M), ConvTranspose IOHW -> OHWI),
/// and a Flatten/Reshape of channels-last data feeding a matmul permutes the weight rows
/// instead of transposing the activation.
///
/// Interface: graph inputs and outputs keep the IR's shapes (an ONNX model stays NCHW, with a
/// TRANSPOSE at the border; a model imported from TFLite is NHWC at its border already).
///
/// Quantized models (QDQ): an operator whose float inputs all come from DequantizeLinear and
/// whose result goes only to QuantizeLinear runs on the integer tensors (int8 activations,
/// per-channel weights with quantized_dimension in the TFLite layout, int32 bias with
/// scale = s_x * s_w); remaining DequantizeLinear/QuantizeLinear become DEQUANTIZE/QUANTIZE.
/// uint8 activations next to int8 weights (the quantizer's default) become int8 with zero point
/// - 128, since TFLite's int8 kernels accept no other mix; an all-uint8 model stays uint8.
/// Convolutions always get a bias (zeros when the IR has none): TFLite's CONV_2D requires one.
/// Relu, Relu6 and ReluN1To1 that are the sole consumer of a Conv/Gemm/Add/... are folded into
/// its fused_activation_function. `ai.edgewise.tflite` nodes go back to their builtin (or
/// custom) operator with their options. Anything else without a TFLite equivalent fails with
/// Unsupported naming the node; nothing is written then.
Result<std::vector<std::byte>> exportTfliteBytes(const ir::Model& model, const ExportOptions& opts = {},
                                                 ExportReport* report = nullptr);
/// Same, written atomically to `path`.
VoidResult exportTfliteFile(const ir::Model& model, const std::string& path, const ExportOptions& opts = {},
                            ExportReport* report = nullptr);

} // namespace ew::tflitefmt
