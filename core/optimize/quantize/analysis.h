#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"
#include "optimize/dataset/dataset.h"
#include "optimize/quantize/quantizer.h"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

/// Quantization error analysis (issue 6 "Analysis"): per-tensor error of a QDQ model against its
/// FP32 original, per-layer sensitivity (one layer quantized at a time), and automatic mixed
/// precision (the most sensitive layers kept in float until an output SQNR target, or a top-1
/// accuracy drop target on labelled data, is met).
/// Every measure streams over a dataset: memory is one sample's activations, whatever its size.
namespace ew::opt::quant {

/// Error of one quantized activation: the FP32 model's tensor against the QDQ model's
/// dequantized tensor of the same name, over every element of every sample.
struct TensorError {
    std::string tensor;  ///< the FP32 model's tensor name
    std::string node;    ///< display name of its FP32 producer; empty for graph inputs
    double sqnrDb = 0;   ///< +inf when identical (JSON writes null)
    double cosine = 0;
    double maxAbsError = 0;
    int64_t elements = 0;
};

/// Runs both models (runtime fusions off, so every tensor is seen) on every sample of `data`
/// from its start. A quantized activation is the output of a DequantizeLinear fed by a
/// QuantizeLinear of a computed tensor; where the quantizer folded a Relu/Clip into its
/// producer's range, the reference is the FP32 Relu/Clip output (what the QDQ tensor stands
/// for). Results in the QDQ model's graph order.
Result<std::vector<TensorError>> tensorErrors(const ir::Model& fp32, const ir::Model& quantized, data::Dataset& data,
                                              Reporter& reporter = nullReporter());

/// Worst (lowest) SQNR in dB over the float outputs of `model` against `fp32` on `data`.
Result<double> outputSqnr(const ir::Model& fp32, const ir::Model& model, data::Dataset& data,
                          Reporter& reporter = nullReporter());

/// Nodes the sensitivity analysis quantizes one at a time: Conv, ConvTranspose, Gemm, MatMul of
/// the main graph that the user's exclude patterns leave in, by display name in graph order.
std::vector<std::string> sensitivityLayers(const ir::Model& fp32, const QuantizeOptions& options);

/// Quantizes a copy of `model` in place but keeps the nodes named in `keepFloat` (display names)
/// in float, besides the nodes `options.exclude` matches. Node names are matched exactly (no
/// glob meaning, unnamed nodes too), and a Relu/Clip that is the only reader of a kept node's
/// output stays float with it; the report names nodes as in `model`.
Result<QuantizeReport> quantizeKeepingFloat(ir::Model& model, const Calibration& calibration, const QuantizeOptions& options,
                                            const std::set<std::string>& keepFloat);

struct LayerSensitivity {
    std::string node; ///< display name
    std::string op;
    double outputSqnrDb = 0; ///< model output SQNR vs FP32 with only this layer quantized
};

/// Quantizes each layer of sensitivityLayers() alone (every other node float) and measures the
/// model output against FP32 on `data`. Sorted most sensitive (lowest SQNR) first; ties keep
/// graph order. The int8 schemes only. `reference` is the float model the outputs are compared
/// against (nullptr: `fp32` itself; give the original when `fp32` had its biases corrected).
Result<std::vector<LayerSensitivity>> layerSensitivity(const ir::Model& fp32, const Calibration& calibration,
                                                       const QuantizeOptions& options, data::Dataset& data,
                                                       Reporter& reporter = nullReporter(),
                                                       const ir::Model* reference = nullptr);

struct MixedPrecision {
    double targetDb = 0;
    std::vector<std::string> keptFloat; ///< in the order they were added (most sensitive first)
    double achievedDb = 0;              ///< output SQNR of the final model
    bool met = false;
    QuantizeReport report;              ///< of the final model
};

/// Greedy mixed precision: quantizes `model` (FP32 in, the result out) fully, then keeps the
/// layers of `ranking` (most sensitive first) in float one more at a time until the output
/// SQNR on `data` reaches `targetDb` or every ranked layer is float (then `met` is false).
/// `reference` as in layerSensitivity.
Result<MixedPrecision> mixedPrecision(ir::Model& model, const Calibration& calibration, const QuantizeOptions& options,
                                      const std::vector<LayerSensitivity>& ranking, double targetDb, data::Dataset& data,
                                      Reporter& reporter = nullReporter(), const ir::Model* reference = nullptr);

/// "30", "30.5", "30dB" or "sqnr:30" / "sqnr:30dB" (dB, case-insensitive suffix). False for
/// anything else, accuracy targets included (see parseMixedTarget).
bool parseSqnrTarget(std::string_view text, double& db);

/// What --mixed-precision aims at: the output SQNR against FP32 (dB, higher is better), or the
/// largest top-1 accuracy drop against FP32 (percentage points, 0..100) on labelled data.
struct MixedTarget {
    enum class Kind { Sqnr, AccuracyDrop } kind = Kind::Sqnr;
    double value = 0;
};

/// An SQNR target as parseSqnrTarget reads it, or "acc:P" (also "acc:Ppp" / "acc:P%"): a top-1
/// drop of at most P percentage points, 0 <= P <= 100. On failure returns false and sets `why`
/// to a sentence naming the expected forms.
bool parseMixedTarget(std::string_view text, MixedTarget& out, std::string* why = nullptr);

/// One step of the accuracy-driven walk: the model with `floatLayers` ranked layers kept float.
struct AccuracyStep {
    std::string addedFloat;   ///< layer this step added to the float set; empty for plain INT8
    std::size_t floatLayers = 0;
    int64_t correct = 0;      ///< top-1 hits on the evaluation data
    double accuracy = 0;      ///< correct / samples
    double dropPoints = 0;    ///< (FP32 accuracy - accuracy) * 100
    bool met = false;
};

struct MixedPrecisionAccuracy {
    double maxDropPoints = 0;
    int64_t samples = 0;                ///< labelled evaluation samples
    std::string data;                   ///< the evaluation dataset's describe()
    int64_t fp32Correct = 0;
    double fp32Accuracy = 0;
    std::vector<AccuracyStep> steps;    ///< in walk order; steps[0] is plain INT8
    std::size_t chosen = 0;             ///< index into steps of the model returned
    std::vector<std::string> keptFloat; ///< of the chosen step, most sensitive first
    bool met = false;                   ///< the chosen step's drop is within the target
    bool capped = false;                ///< the walk stopped at maxFloatLayers, not at the ranking's end
    QuantizeReport report;              ///< of the chosen model
};

/// Accuracy-driven greedy mixed precision: measures `reference`'s (nullptr: `model`'s own FP32)
/// top-1 accuracy on the labelled `evalData`, then quantizes `model` fully and keeps the layers of
/// `ranking` in float, most sensitive first, one more per step, re-measuring top-1 accuracy after
/// each change, until the drop is at most `maxDropPoints` or `maxFloatLayers` (0: the whole
/// ranking) layers are float. The target compares hit counts exactly (a drop of k samples out of
/// N is met when k <= maxDropPoints * N / 100). Accuracy is not monotone in the float set, so when
/// no step meets the target the step with the fewest misses (then the fewest float layers) is
/// returned, with `met` false. `model` becomes the chosen model. Fails with Usage when `evalData`
/// has no labels.
Result<MixedPrecisionAccuracy> mixedPrecisionAccuracy(ir::Model& model, const Calibration& calibration,
                                                      const QuantizeOptions& options,
                                                      const std::vector<LayerSensitivity>& ranking, double maxDropPoints,
                                                      data::Dataset& evalData, Reporter& reporter = nullReporter(),
                                                      const ir::Model* reference = nullptr,
                                                      std::size_t maxFloatLayers = 0);

/// The viewer's overlay format {"name", "unit", "values": {node: number}}; non-finite values are
/// clamped to +-`cap` because the format holds numbers only.
std::string overlayJson(const std::string& name, const std::string& unit, const std::map<std::string, double>& values,
                        double cap = 200.0);

} // namespace ew::opt::quant
