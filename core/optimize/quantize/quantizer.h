#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"
#include "optimize/dataset/dataset.h"
#include "optimize/quantize/observer.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

/// Post-training quantization: calibration through the runtime's per-node capture hook, then a
/// rewrite of the graph into ONNX QDQ form (QuantizeLinear/DequantizeLinear pairs), FP16 weight
/// storage, or blocked weight-only quantization of MatMul/Gemm.
namespace ew::opt::quant {

enum class Scheme {
    Int8,          ///< int8 per-channel symmetric weights, 8-bit activations (QDQ)
    Int8PerTensor, ///< the same with one scale per weight tensor
    Fp16,          ///< float16 weight storage, Cast back to float32 (interface and math stay float)
    W8,            ///< weight-only int8 for MatMul/Gemm, blocked along K (opset 21)
    W4,            ///< weight-only int4 for MatMul/Gemm, blocked along K (opset 21)
};
std::string_view schemeName(Scheme s);
/// "int8", "int8-per-tensor", "fp16", "w8", "w4".
bool parseScheme(std::string_view name, Scheme& out);
/// True for the schemes that need calibration data (activation ranges).
bool needsCalibration(Scheme s);

/// Activation storage of the int8 schemes.
enum class ActivationType {
    UInt8,         ///< uint8 asymmetric (ONNX Runtime's default)
    Int8,          ///< int8 asymmetric
    Int8Symmetric, ///< int8 symmetric, zero point 0
};
std::string_view activationTypeName(ActivationType t);
/// "uint8", "int8", "int8-symmetric".
bool parseActivationType(std::string_view name, ActivationType& out);

struct QuantizeOptions {
    Scheme scheme = Scheme::Int8;
    ActivationType activations = ActivationType::UInt8;
    RangeOptions range;                ///< how activation ranges come from the statistics
    std::vector<std::string> exclude;  ///< glob patterns ('*', '?') on node names or op types
    int64_t blockSize = 32;            ///< W8/W4: elements per scale along K
    /// Int8 schemes: weights in [-64, 64] (7 bits) instead of [-127, 127]. Every pair of them
    /// keeps u8 x s8 products within int16, so the runtime's vpmaddubsw route is exact on CPUs
    /// without VNNI (ONNX Runtime's reduce_range); costs one bit of weight resolution.
    bool reduceRange = false;
    int histogramBins = TensorObserver::kBins;
};

/// Statistics of every float activation (node outputs and graph inputs of the main graph), by
/// tensor name, gathered over a dataset. Memory: one fixed-size observer per tensor.
struct Calibration {
    std::map<std::string, TensorObserver> observers;
    int64_t samples = 0;
    std::string source;  ///< the dataset's describe()
    bool random = false; ///< the dataset was generated data
};

/// Runs the float model (runtime fusions off, so every original tensor is seen) over `data`
/// from its start, observing every float tensor. Fails when the dataset yields no sample.
/// `histogramBins` 0 keeps no histograms (enough for MinMax / MovingAverage, and much cheaper;
/// quantizeModel refuses such a calibration for the other methods): see calibrationBins.
Result<Calibration> calibrate(const ir::Model& model, data::Dataset& data, int histogramBins = TensorObserver::kBins,
                              Reporter& reporter = nullReporter());

/// The histogram bins calibrate() needs for `o`: o.histogramBins when the range method reads
/// histograms, else 0.
int calibrationBins(const QuantizeOptions& o);

/// One quantized activation or weight tensor, for the report.
struct TensorQuant {
    std::string tensor;
    double min = 0, max = 0; ///< the range chosen (activations) or observed (weights)
    std::vector<float> scales;
    std::vector<int64_t> zeroPoints;
    ir::DataType storage = ir::DataType::Undefined;
    bool weight = false;
};

struct QuantizeReport {
    Scheme scheme = Scheme::Int8;
    RangeMethod method = RangeMethod::MinMax;
    std::vector<std::string> quantizedNodes; ///< display names, graph order
    std::vector<std::string> excludedNodes;  ///< matched by an --exclude pattern
    std::vector<std::string> notes;          ///< nodes left in float and why ("Conv_3: weight is not constant")
    std::vector<TensorQuant> tensors;
    int64_t opsetBefore = 0, opsetAfter = 0;
    int64_t weightBytesBefore = 0, weightBytesAfter = 0; ///< initializer bytes
};

/// Rewrites `model` in place for `options.scheme`. The int8 schemes need `calibration` of this
/// same model (not yet rewritten); the others ignore it. The default-domain opset is raised to
/// what the output needs (13 for int8 QDQ, 21 for blocked weights) only when every op of the
/// model keeps its meaning there; otherwise nothing changes and the error names the ops.
/// Quantization parameters are also stored in Value::quant of the integer tensors.
Result<QuantizeReport> quantizeModel(ir::Model& model, const Calibration* calibration,
                                     const QuantizeOptions& options);

/// Raises the default-domain opset import to `target` when every node (nested graphs too) has
/// the same meaning there; fails naming the ops that do not. Unchanged when already >= target.
VoidResult raiseOpset(ir::Model& model, int64_t target);

/// True when `text` matches the glob `pattern` ('*' any run, '?' one character).
bool globMatch(std::string_view pattern, std::string_view text);

} // namespace ew::opt::quant
