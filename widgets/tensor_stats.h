#pragma once
#include "common/reporter.h"
#include "ir/graph.h"
#include "ir/tensor.h"

#include <cstdint>
#include <optional>
#include <unordered_map>

namespace ew::ui {

/// Summary statistics of one constant tensor, as the properties panel shows them.
/// Computed once per initializer when a model loads (off the GUI thread), so selecting a node
/// never scans megabytes of weights on the GUI thread. NaN elements are counted separately and
/// excluded from min/max/mean/std so one NaN does not hide the rest of the distribution.
struct TensorStats {
    int64_t count = 0;     ///< elements looked at
    int64_t zeros = 0;     ///< exact zeros (sparsity = zeros / count)
    int64_t nonFinite = 0; ///< NaN or +-inf
    double min = 0.0;
    double max = 0.0;
    double mean = 0.0;
    double stddev = 0.0; ///< population standard deviation
    bool numeric = true; ///< false for string/undefined tensors (only count is meaningful)

    double sparsity() const { return count > 0 ? double(zeros) / double(count) : 0.0; }
};

/// Statistics of every element of `t` (any fixed-size dtype, sub-byte and float8 included).
/// Uses Welford's update so the variance of large weight tensors stays accurate.
TensorStats computeTensorStats(const ir::Tensor& t);

using TensorStatsMap = std::unordered_map<const ir::Value*, TensorStats>;

/// Statistics of every initializer of the model's graphs (main graph and nested bodies).
/// Reports progress under the stage "statistics"; returns nullopt when cancelled.
std::optional<TensorStatsMap> computeInitializerStats(const ir::Model& model, Reporter& reporter);

} // namespace ew::ui
