#pragma once
#include "common/status.h"
#include "ir/tensor.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ew::cli {

/// Inputs for one session run from `--input NAME=FILE` options, for `run` and `bench`.
/// Files are .npy (by magic bytes) or a serialized ONNX TensorProto (.pb). A bare FILE without
/// "NAME=" binds by the tensor's own name (TensorProto) or to the next input not yet given.
/// Every file is checked against the model's declared input (name, element type, rank and known
/// dims; symbolic dims take any size) before anything runs. Inputs not given are filled with
/// seeded random data of the declared shape, symbolic and unknown dims set to 1: the same
/// xorshift32 generator, value ranges and input order as bench/ort/run_ort.mjs and
/// tests/peer/ort_run.mjs, so both runtimes see the same data for the same seed.
struct PreparedInputs {
    rt::Session::NamedTensors tensors; ///< in the session's input order
    /// Per input: "file.npy" or "random" (what the stdout summary and JSON say).
    std::vector<std::string> sources;
    /// One line per randomly filled input, for stderr ("input 'x' not given: ...").
    std::vector<std::string> randomNotes;
};

/// Errors: Usage for an unknown input name, a malformed option or an input given twice;
/// NotFound / InvalidInput for unreadable files or a dtype/shape the model does not accept (the
/// CLI maps those to exit code 3). Every error lists what the model expects.
Result<PreparedInputs> prepareInputs(const rt::Session& session,
                                     const std::vector<std::string>& inputOptions, uint32_t seed);

/// Reads a .npy or TensorProto file.
Result<ir::Tensor> readTensorFile(const std::string& path);

/// "x: float32[N,3,224,224], mask: bool[N,?]" for error messages.
std::string expectedInputsText(const rt::Session& session);

/// An output name made safe as a file name: '/' and '\\' become '_' (as tests/peer/ort_run.mjs
/// does), so "a/b:0" is written as "a_b:0.npy".
std::string outputFileStem(const std::string& name);

/// min/max/mean over the non-NaN elements of a numeric or bool tensor.
struct TensorStats {
    bool numeric = false; ///< false for types the runtime reads no values of
    int64_t count = 0;    ///< non-NaN elements
    int64_t nanCount = 0;
    double min = 0, max = 0, mean = 0;
};
TensorStats tensorStats(const rt::Tensor& t);

/// A duration in milliseconds since `start` (steady clock nanoseconds).
double msSince(int64_t startNs);
int64_t nowNs();

/// Parses a non-negative integer option; nullopt when malformed.
std::optional<int64_t> parseCount(const std::string& text);

} // namespace ew::cli
