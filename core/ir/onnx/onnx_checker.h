#pragma once
#include "common/status.h"
#include "ir/shape.h"

#include <map>
#include <string>

namespace ew::onnxfmt {

/// Runs libonnx's onnx::checker::check_model on a file. Exceptions (and libonnx's
/// IR-version limits) come back as a Status; the process never aborts.
VoidResult runOnnxChecker(const std::string& path);

/// Runs libonnx's onnx::shape_inference on a file and returns the inferred type of every value
/// (graph outputs and value_info) of the main graph, for cross-checking Edgewise's inference.
Result<std::map<std::string, ir::Type>> runOnnxShapeInference(const std::string& path);

/// The highest ai.onnx opset the linked libonnx knows.
int onnxLibraryMaxOpset();

} // namespace ew::onnxfmt
