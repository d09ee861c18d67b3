#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"

#include <memory>
#include <string>
#include <vector>

namespace ew::ir {

/// Model file formats known to Edgewise. The list lives in formats.def; probing is by magic
/// bytes / content, not by extension alone.
enum class ModelFormat { Unknown, Onnx, TFLite };

struct LoadOptions {
    bool verify = true;        ///< run the verifier after import
    bool inferShapes = true;   ///< fill in missing value types
    bool loadExternalData = true;
};

struct SaveOptions {
    /// Tensors at least this large go to an external data file next to the model (0: never,
    /// unless the model would exceed protobuf's 2 GB limit).
    uint64_t externalDataThreshold = 0;
};

ModelFormat probeFormat(const std::string& path);
ModelFormat formatFromExtension(const std::string& path);
const char* formatName(ModelFormat f);
/// Extensions the GUI's open dialog and drag-and-drop accept.
std::vector<std::string> supportedExtensions();

/// Imports any supported model; the error names the file (and node where there is one).
Result<std::unique_ptr<Model>> loadModel(const std::string& path, const LoadOptions& opts = {},
                                         Reporter& reporter = nullReporter());
/// Exports in the format chosen by `path`'s extension, atomically (temp file + rename); refuses
/// to overwrite the model's own source file.
VoidResult saveModel(const Model& model, const std::string& path, const SaveOptions& opts = {},
                     Reporter& reporter = nullReporter());

} // namespace ew::ir
