#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"
#include "optimize/dataset/dataset.h"
#include "optimize/quantize/quantizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ew::opt::quant {

/// One corrected Conv/Gemm.
struct BiasCorrection {
    std::string node;         ///< display name
    int64_t channels = 0;
    double meanAbsShift = 0;  ///< mean over channels of |E[y_quantized - y_float]|
    double maxAbsShift = 0;
    bool biasAdded = false;   ///< the node had no bias; one was added
};

struct BiasCorrectionReport {
    std::vector<BiasCorrection> nodes;
    std::vector<std::string> notes; ///< nodes left alone and why
    int64_t samples = 0;
};

/// Empirical bias correction (AIMET / Nagel et al. 2019 §4.2, measured instead of derived):
/// quantizes a copy of the float `model` with `options` and `calibration`, gives every quantized
/// Conv/Gemm a float twin reading the same (dequantized) input, runs the copy (fake-quant,
/// fusions off) over `data`, and accumulates per output channel the mean of
/// W_q x - W x (+ bias rounding) with one running sum per channel, so memory does not grow
/// with the data. That mean is subtracted from the float model's bias (a bias is added where
/// there is none); quantizing the corrected model then folds it into the int32 bias. Each node
/// is corrected for its own error only: earlier layers' errors are theirs to correct. Needs an
/// int8 scheme; `calibration` must be of `model`.
Result<BiasCorrectionReport> correctBias(ir::Model& model, const Calibration& calibration, const QuantizeOptions& options,
                                         data::Dataset& data, Reporter& reporter = nullReporter());

} // namespace ew::opt::quant
