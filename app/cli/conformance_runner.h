#pragma once
// The ONNX test runner behind `edgewise-cli conformance` and the kernel-family tests' node suites
// (library ew_conformance: core libraries only, no Qt).
#include "ir/graph.h"
#include "ir/tensor.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ew::cli {

/// One ONNX-style test: a model and its test_data_set_N folders (input_K.pb, output_K.pb).
struct ConformanceCase {
    std::string
        name; ///< "<root folder name>/<path below it>", e.g. "onnx-backend-tests/node/test_abs"
    std::string modelPath;
    std::vector<std::string> dataSets; ///< folders, in N order
    /// Reference outputs from a peer runtime (the `<model>.onnx` + `<model>.test_data_set_N`
    /// layout of ../shared/models/onnx), not from the ONNX reference implementation: compared
    /// with atol 1e-4 instead of the backend runner's 1e-7.
    bool peerReference = false;
};

/// Finds tests under `root`, recursively, in three layouts:
///  - DIR/model.onnx + DIR/test_data_set_N/        (ONNX backend tests; name = DIR)
///  - DIR/X.onnx + DIR/X.test_data_set_N/          (real models; name = DIR/X)
///  - DIR/X.onnx (the folder's only model) + DIR/test_data_set_N/  (name = DIR/X)
/// Sorted by name. A missing root is an error (NotFound).
Result<std::vector<ConformanceCase>> discoverConformanceTests(const std::string& root);

enum class Outcome { Pass, Fail, Skip };

struct CaseResult {
    std::string name;
    Outcome outcome = Outcome::Fail;
    /// Why it failed or was skipped (empty on pass).
    std::string reason;
    /// For skips: "no-kernel", "element-type", "sequence-optional", "opset", "test-data", and
    /// "not-selected" (ConformanceOptions::select said no).
    std::string category;
    std::vector<std::string> ops; ///< distinct op types of the model (nested graphs too)
    double maxAbsErr = 0;         ///< worst over outputs compared (0 when nothing was compared)
    double ms = 0;

    /// A skip for what the runtime does not carry (element types, sequence and optional values),
    /// not for a missing kernel or opset or the caller's choice.
    bool outOfScope() const {
        return outcome == Outcome::Skip &&
               (category == "element-type" || category == "sequence-optional");
    }
};

struct ConformanceOptions {
    int threads = 0;
    std::optional<double> rtol, atol; ///< override the per-layout defaults
    /// Runs of each data set through the one session, each compared: the later ones go through
    /// the plan the first one built. Failures then name the run ("run 1: ...").
    int runsPerDataSet = 1;
    /// Called with the loaded model before any other check: false skips the test (category
    /// "not-selected") without reading its data. How a caller runs only the tests of some ops.
    std::function<bool(const ir::Model&)> select;
};

/// The newest ai.onnx opset the runtime's kernels and Edgewise's shape inference are written
/// against (ONNX 1.22 defines opset 27); models declaring a newer one are skipped.
constexpr int64_t kMaxSupportedOpset = 27;

/// Loads, checks and runs one test and compares every output. Never throws: an exception from
/// anywhere below is caught and reported as a failure of this test.
CaseResult runConformanceCase(const ConformanceCase& c, const ConformanceOptions& opts);

/// The ONNX backend runner's comparison (numpy assert_allclose for floats: |got - want| <=
/// atol + rtol * |want|, NaN equals NaN, infinities must match; integers and bools exact;
/// dtype and shape must match). Empty `message` means equal.
struct TensorComparison {
    std::string message;
    double maxAbsErr = 0;
    double maxRelErr = 0;
};
TensorComparison compareTensors(const rt::Tensor& got, const ir::Tensor& want, double rtol,
                                double atol);

} // namespace ew::cli
