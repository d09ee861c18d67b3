#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace ew::onnxfmt {

struct ImportOptions {
    bool loadExternalData = true;
    /// Largest single tensor accepted, in bytes (hostile files claim absurd sizes).
    uint64_t maxTensorBytes = uint64_t(64) << 30;
};

/// True when the bytes look like a serialized ONNX ModelProto (a cheap structural probe of the
/// first protobuf fields; TFLite and random files are rejected).
bool looksLikeOnnx(std::span<const std::byte> head);

/// Imports an .onnx file: memory-maps it, parses the protobuf, validates every size, index and
/// offset, and builds the IR. Raw tensor bytes move from the parsed message into the IR (never
/// copied twice); external data is memory-mapped and shared. Errors name the file and node.
Result<std::unique_ptr<ir::Model>> importOnnxFile(const std::string& path, const ImportOptions& opts = {},
                                                  Reporter& reporter = nullReporter());
/// Same from bytes in memory; external data locations resolve against `baseDir`.
Result<std::unique_ptr<ir::Model>> importOnnxBytes(std::span<const std::byte> bytes,
                                                   const std::string& displayName,
                                                   const std::string& baseDir,
                                                   const ImportOptions& opts = {});

/// Reads one serialized TensorProto (.pb, as in the ONNX backend test folders).
Result<ir::Tensor> readTensorProtoFile(const std::string& path);
/// Parses a TensorProto from bytes.
Result<ir::Tensor> parseTensorProto(std::span<const std::byte> bytes, const std::string& displayName);

} // namespace ew::onnxfmt
