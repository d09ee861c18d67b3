#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ew::tflitefmt {

/// Domain of the nodes that stand for TFLite operators without an ONNX equivalent (LSTM, SVDF,
/// custom ops, ...): op type = the builtin name (or the custom code), options as attributes.
inline constexpr const char* kTfliteDomain = "ai.edgewise.tflite";

struct ImportOptions {
    /// Largest single tensor accepted, in bytes (hostile files claim absurd sizes).
    uint64_t maxTensorBytes = uint64_t(16) << 30;
};

/// True when the bytes carry the TFLite file identifier ("TFL3" at bytes 4..8).
bool looksLikeTflite(std::span<const std::byte> head);

/// "CONV_2D" for 3, nullptr for codes this build does not know.
const char* builtinOperatorName(int32_t code);

/// Imports a .tflite file into the IR with ONNX semantics.
///
/// Order of work: the whole buffer goes through flatbuffers::Verifier, then every index (tensor,
/// opcode, buffer, subgraph), every buffer range (inline or at an offset past the flatbuffer),
/// every shape against its buffer size and every quantization array against its dimension is
/// checked before anything is built. Errors name the file and, where there is one, the operator.
///
/// Layout: tensors of rank 4 are NHWC in TFLite and NCHW in the IR. Graph inputs and outputs keep
/// TFLite's shapes (NHWC) and a Transpose at the border converts them; inside, layout-sensitive
/// operators (convolutions, pooling, resize, softmax, concat, reductions, pads, splits and
/// elementwise ops) run on NCHW values with remapped axes and converted weights, and operators
/// whose semantics depend on the memory order (reshape, fully connected, slices, gathers, ...)
/// read an NHWC view (a Transpose, created once per tensor and shared). Quantized tensors keep
/// their integer type and QuantParams; arithmetic runs in float between DequantizeLinear and
/// QuantizeLinear (QDQ). The main subgraph is the first signature's (or subgraph 0); subgraphs
/// that IF/WHILE/CALL_ONCE/CALL use become graph attributes of those nodes, the others model-local
/// functions.
Result<std::unique_ptr<ir::Model>> importTfliteFile(const std::string& path, const ImportOptions& opts = {},
                                                    Reporter& reporter = nullReporter());
/// Same from bytes in memory. `owner` (may be null: the bytes are then copied where tensors
/// reference them) keeps the bytes alive for tensors that point into them.
Result<std::unique_ptr<ir::Model>> importTfliteBytes(std::span<const std::byte> bytes, const std::string& displayName,
                                                     const ImportOptions& opts = {},
                                                     std::shared_ptr<const void> owner = nullptr);

} // namespace ew::tflitefmt
