#pragma once
#include "ir/graph.h"
#include "ir/tensor.h"
#include "widgets/tensor_stats.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ew::ui {

/// Equal-width histogram of a tensor's finite values. Bin i covers
/// [lower + i*width, lower + (i+1)*width); the last bin also holds the maximum.
/// Invariant: the counts sum to the number of finite values looked at.
struct Histogram {
    double lower = 0.0;
    double width = 1.0;
    std::vector<int64_t> counts;
    bool integerBins = false; ///< one bin per integer value (small-range integer tensors)

    double binCenter(std::size_t i) const { return lower + (double(i) + 0.5) * width; }
    int64_t total() const;
};

/// Minimum and maximum of each slice along one axis (the output channels of a weight).
/// Invariant: min.size() == max.size() == the tensor's dims[axis].
struct ChannelRanges {
    int axis = -1; ///< -1: none (tensor of rank < 2, or too many channels)
    std::vector<double> min;
    std::vector<double> max;
};

/// Everything the tensor view plots, computed in one place so it can run on a worker thread.
struct TensorAnalysis {
    TensorStats stats;
    Histogram histogram;
    ChannelRanges channels;
    bool dequantized = false; ///< values are (q - zero point) * scale
    bool cancelled = false;
};

/// What to compute. `channelAxis` < 0 skips the per-channel ranges. With `dequantize` and quant
/// parameters, integer values are mapped to real values per channel of the quant axis.
struct AnalysisOptions {
    int channelAxis = -1;
    std::optional<ir::QuantParams> quant;
    bool dequantize = false;
    int maxBins = 120;
};

/// Bin count for `finiteCount` values: the Rice rule (2 * cbrt(n)) clamped to [10, maxBins], so
/// small biases still show a shape and ten-million-element weights do not become a smear.
int histogramBinCount(int64_t finiteCount, int maxBins = 120);

/// Statistics, histogram and per-channel ranges of `t` in two passes over the data (the first
/// finds min/max for the bins). Float16, bfloat16, float8, int4..int64 and double all work.
/// `cancel`, when set during the run, stops it early (the result then has cancelled = true).
TensorAnalysis analyzeTensor(const ir::Tensor& t, const AnalysisOptions& options,
                             const std::atomic<bool>* cancel = nullptr);

/// The axis whose slices are the "output channels" of `t` when it is input `inputIndex` of
/// `consumer` (nullable): the per-axis quantization axis when there is one, else 0 for Conv
/// weights, 1 for ConvTranspose, Gemm's B by transB, the last axis for MatMul; 0 otherwise.
/// -1 for tensors of rank < 2.
int channelAxisFor(const ir::Tensor& t, const ir::Node* consumer, int inputIndex,
                   const std::optional<ir::QuantParams>& quant);

/// Text for the clipboard: a "# name dtype [dims]" header, then one line per innermost row
/// (values separated by tabs, floats with enough digits to round-trip). At most `maxValues`
/// values; when there are more, a last line says how many were left out.
std::string formatTensorValues(const ir::Tensor& t, int64_t maxValues);

} // namespace ew::ui
