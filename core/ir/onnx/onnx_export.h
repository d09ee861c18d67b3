#pragma once
#include "common/status.h"
#include "ir/graph.h"

#include <string>

namespace ew::onnxfmt {

struct ExportOptions {
    /// Tensors with at least this many bytes are written to `<model>.data` beside the model
    /// (0: only when the model would not fit protobuf's 2 GB limit).
    uint64_t externalDataThreshold = 0;
};

/// Serializes the IR to ONNX ModelProto bytes (all tensors inline).
Result<std::string> serializeOnnx(const ir::Model& model);
/// Writes an .onnx file atomically (and its external data file, if any).
VoidResult exportOnnxFile(const ir::Model& model, const std::string& path, const ExportOptions& opts = {});
/// Serializes one tensor as a TensorProto (for `run --output-format pb`).
Result<std::string> serializeTensorProto(const ir::Tensor& tensor);

} // namespace ew::onnxfmt
