#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "optimize/dataset/dataset.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Evaluation over a dataset: accuracy against labels and agreement/error against a reference
/// model, accumulated sample by sample (memory independent of the sample count). Used by
/// `edgewise-cli evaluate` and usable by the quantizer's analysis.
namespace ew::opt::data {

/// Error of one output of a model against the same output of a reference, over every element
/// of every sample seen.
struct OutputError {
    std::string name;
    int64_t elements = 0;
    /// 10 log10(sum ref^2 / sum (ref - out)^2); +inf when the outputs are identical, -inf when the
    /// reference is all zeros and the output is not, NaN when a NaN appears in only one of them.
    double sqnrDb = 0;
    double cosine = 0;       ///< dot / (|ref| |out|); 1 when both are all zeros, 0 when one is
    double maxAbsError = 0;  ///< max |ref - out|
    bool identical = false;  ///< every element equal (the SQNR is then infinite)
};

/// Streams pairs of tensors and keeps the sums behind OutputError. Elements where both tensors
/// hold NaN count as equal.
class OutputErrorAccumulator {
public:
    explicit OutputErrorAccumulator(std::string name = {}) : m_name(std::move(name)) {}
    /// Fails (InvalidInput) when the shapes differ.
    VoidResult add(const rt::Tensor& reference, const rt::Tensor& output);
    OutputError result() const;

private:
    std::string m_name;
    int64_t m_elements = 0;
    double m_refSq = 0, m_outSq = 0, m_dot = 0, m_errSq = 0, m_maxAbs = 0;
    bool m_nanMismatch = false;
};

/// Indices of the k largest values of row `row` of `t` viewed as [rows, last dim], largest
/// first (ties: lower index first; NaN never ranks).
std::vector<int64_t> topK(const rt::Tensor& t, int64_t row, int k);

struct EvaluationReport {
    std::string data;  ///< Dataset::describe()
    bool random = false;
    int64_t samples = 0;
    // Accuracy (when the dataset has labels): the first output's argmax over its last dimension.
    bool hasLabels = false;
    int64_t correctTop1 = 0, correctTop5 = 0;
    std::optional<double> accuracyTop1, accuracyTop5;
    // Reference comparison (when a reference session was given).
    bool hasReference = false;
    int64_t rows = 0, agreeTop1 = 0; ///< rows of the first output compared, top-1 equal
    std::optional<double> agreementTop1;
    std::vector<OutputError> outputs; ///< per model output, in outputInfo order
    double ms = 0;
};

/// Runs `model` (and `reference`, given the same inputs by position) on every sample of `data`
/// from its start. Labels need one prediction row per sample (the first output's elements divided
/// by its last dimension equal 1). Errors name the sample's source; cancellation through the
/// reporter gives Cancelled.
Result<EvaluationReport> evaluate(rt::Session& model, rt::Session* reference, Dataset& data,
                                  Reporter& reporter = nullReporter());

} // namespace ew::opt::data
