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
/// precision (the most sensitive layers kept in float until an output SQNR target is met).
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

/// "30", "30.5" or "sqnr:30" (dB). False for anything else (accuracy targets are not supported).
bool parseSqnrTarget(std::string_view text, double& db);

/// The viewer's overlay format {"name", "unit", "values": {node: number}}; non-finite values are
/// clamped to +-`cap` because the format holds numbers only.
std::string overlayJson(const std::string& name, const std::string& unit, const std::map<std::string, double>& values,
                        double cap = 200.0);

} // namespace ew::opt::quant
