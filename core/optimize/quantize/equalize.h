#pragma once
#include "common/status.h"
#include "ir/graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ew::opt::quant {

/// Options of cross-layer equalization.
struct EqualizeOptions {
    int maxIterations = 20;    ///< sweeps over all pairs (chains need several)
    double tolerance = 1e-4;   ///< stop when no scale moves further than this from 1
};

/// One equalized Conv -> (activation) -> Conv pair.
struct EqualizedPair {
    std::string first, second; ///< display names
    std::string activation;    ///< op type between them, empty when none
    bool depthwise = false;    ///< one of the two is a depthwise (or grouped) convolution
};

struct EqualizeReport {
    std::vector<EqualizedPair> pairs;
    std::vector<std::string> skipped; ///< "conv_a -> Clip -> conv_b: ..." candidates left alone and why
    int iterations = 0;
    /// Geometric mean over the equalized weight tensors of (largest / smallest non-zero
    /// per-output-channel absolute range): 1 is perfectly uniform.
    double rangeRatioBefore = 1, rangeRatioAfter = 1;
};

/// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization", as in AIMET):
/// for Conv1 -> [Relu | LeakyRelu | PRelu with one slope | nothing] -> Conv2, where Conv1's
/// output feeds only that path, output channel i of Conv1 (weights and bias) is divided by
/// s_i and input channel i of Conv2 multiplied by s_i, with s_i = sqrt(r1_i / r2_i) (r = the
/// channel's absolute weight range), which makes both ranges sqrt(r1_i * r2_i). The
/// activations between are positively homogeneous (f(x / s) = f(x) / s for s > 0), so the
/// float model computes the same function. Grouped and depthwise convolutions on either side
/// are included. Clip (Relu6) is skipped: its bound cannot be scaled per channel. Weights
/// shared with other nodes are left alone. Works on the float model, before calibration.
Result<EqualizeReport> equalizeCrossLayer(ir::Model& model, const EqualizeOptions& options = {});

} // namespace ew::opt::quant
