#pragma once
#include "common/status.h"
#include "graph.h"

#include <string>
#include <vector>

namespace ew::ir {

struct ShapeInferenceOptions {
    /// Replace declared value types with inferred ones (otherwise declared types win and only
    /// missing or less precise information is filled in).
    bool overwriteDeclared = false;
};

struct ShapeInferenceReport {
    int nodesInferred = 0;               ///< nodes whose outputs got a (more precise) type
    std::vector<std::string> unsupportedOps; ///< op types with no inference function (unique)
    /// Nodes where an inferred type contradicts a declared one or inference failed; the model is
    /// still usable, these are warnings.
    std::vector<Status> problems;
};

/// Type and shape inference with Edgewise's own per-op functions (ONNX semantics, opset-aware),
/// including constant propagation of small shape tensors (Shape -> Gather -> Concat -> Reshape).
/// Runs over nested graphs. Never fails on unknown ops: their outputs stay unknown.
ShapeInferenceReport inferShapes(Model& model, const ShapeInferenceOptions& opts = {});

/// True when Edgewise has an inference function for this op (domain "" = ai.onnx).
bool hasShapeInference(const std::string& domain, const std::string& opType);

} // namespace ew::ir
