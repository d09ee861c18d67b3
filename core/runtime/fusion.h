#pragma once
#include "ir/graph.h"

#include <functional>
#include <optional>
#include <vector>

namespace ew::rt {

/// Domain of Edgewise's own runtime ops.
inline constexpr const char* kEdgewiseDomain = "ai.edgewise";

/// Observes what the fusions do, so the optimizer can record every change (both callbacks are
/// optional). A fused node always keeps the name of the node it grew from (the Conv, Gemm, MatMul
/// or Mul), so profiles and change records map back onto the original graph.
struct FusionListener {
    /// `absorbed` is merged into the fused node that will carry `into`'s name (called while both
    /// still exist, before anything is removed).
    std::function<void(const ir::Node& absorbed, const ir::Node& into)> fused;
    /// `node` is the new fused node, which replaced a node of the same name.
    std::function<void(const ir::Node& node)> rewritten;
};

/// The runtime's own fusions. Session::create applies all of them (fuseForRuntime) on a private
/// copy of the graph (the caller's model is never changed); the optimizer's runtime passes
/// (core/optimize/passes/fuse_*.cpp) apply them one by one. In every pattern each intermediate
/// value has exactly one consumer (SiLU's x: exactly the Sigmoid and the Mul) in the same graph
/// and is not a graph output; everything is float32.
///
/// Activations fused (the `activation` attribute, parameters in `activation_params`): Relu,
/// Clip (constant bounds: [min, max]), LeakyRelu [alpha], HardSigmoid [alpha, beta], HardSwish,
/// Sigmoid, Tanh, and Silu, which is either the pair Mul(x, Sigmoid(x)) (either operand order)
/// or an ai.edgewise.Silu node; HardSwish is also taken in its decomposed forms (matchHardSwish).

/// Conv(float, constant weights of rank 3 to 5: 1-D to 3-D convolutions) [-> BatchNormalization] [-> Add(residual of the same shape)]
/// [-> activation] => ai.edgewise.FusedConv(X, W, B, residual) {activation, activation_params,
/// conv attrs}. An inference-mode BatchNormalization (training_mode 0, constant scale/B/mean/var,
/// constant or no Conv bias) is folded into new weight and bias initializers computed in double.
/// Returns how many Conv nodes were fused.
int fuseConvChains(ir::Graph& graph, const FusionListener* listener = nullptr);

/// Gemm(A, constant 2-D B [, C]) -> activation, and MatMul(A of rank 2, constant 2-D B)
/// [-> Add(constant bias of N elements, shape [N] or [1, N])] -> activation
/// => ai.edgewise.FusedGemm(A, B [, C or bias]) {alpha, beta, transA, transB, activation,
/// activation_params}. Without an activation nothing changes. Returns how many were fused.
int fuseGemmActivations(ir::Graph& graph, const FusionListener* listener = nullptr);

/// y = Mul(x, Sigmoid(x)) (either order, the Sigmoid's output used only by the Mul):
///  - x from a Conv chain that fuseConvChains can take => FusedConv {activation: "Silu"};
///  - x from an ai.edgewise.FusedConv without activation, x used only by the pair => that
///    FusedConv gets activation "Silu";
///  - otherwise => ai.edgewise.Silu(x) (x keeps its other consumers).
/// Returns how many pairs were fused.
int fuseSilu(ir::Graph& graph, const FusionListener* listener = nullptr);

/// A HardSwish written out in elementary ops:
///   Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6) | Mul(., 1/6), or
///   Add(x, 3) -> Clip(0, 6) -> Div(., 6) | Mul(., 1/6) -> Mul(x, .), or
///   HardSigmoid(x) {alpha 1/6, beta 0.5} -> Mul(x, .)
/// (Clip's bounds as constant inputs or, before opset 11, attributes; commutative operands in
/// either order; every constant has one element and cannot broadcast x
/// to another shape; 1/6 and the HardSigmoid parameters within 1e-4 relative; each intermediate
/// has this single consumer and is no graph output; x float, float16 or double, not constant).
struct HardSwishMatch {
    ir::Value* x = nullptr;
    std::vector<ir::Node*> nodes; ///< in data-flow order, starting with the Add or HardSigmoid
    ir::Value* result = nullptr;  ///< what the last node writes: HardSwish(x)
};
/// The pattern starting at `first` (its Clip or its HardSigmoid), if it is one.
std::optional<HardSwishMatch> matchHardSwish(const ir::Graph& graph, ir::Node& first);

/// Decomposed HardSwish patterns (float32) not already taken by fuseConvChains or
/// fuseGemmActivations (which fuse them as activation "HardSwish"):
///  - x from an ai.edgewise.FusedConv without activation, x read only by the pattern => that
///    FusedConv gets activation "HardSwish";
///  - otherwise => ai.edgewise.HardSwish(x) named after the pattern's last node (x keeps its other
///    consumers). It computes what the ONNX HardSwish computes, at any opset.
/// Returns how many patterns were fused.
int fuseHardSwish(ir::Graph& graph, const FusionListener* listener = nullptr);

/// A pointwise convolution feeding only a depthwise one (the expansion and the depthwise layer of
/// an inverted-residual block, after fuseConvChains):
///   Conv|FusedConv(X float [N, K, H, W] with H, W known, constant W_pw [C, K, 1, 1], constant or
///   no bias, group 1, stride 1, no padding or dilation, no residual) [activation]
///   -> Conv|FusedConv(constant W_dw [C, 1, KH, KW], group C, strides 1 or 2, no dilation, KH and
///   KW up to 16, constant or no bias, no residual) [activation]
/// => ai.edgewise.FusedPwDwConv(X, W_pw, B_pw, W_dw, B_dw) {activation, activation_params (the
/// pointwise's), dw_activation, dw_activation_params, the depthwise's kernel_shape, strides,
/// pads, dilations, auto_pad}, named after the pointwise node. Taken only when the expanded map
/// (C x H x W floats of one image) is at least kPwDwMinBytes: smaller ones mostly stay in the
/// cache between the two kernels anyway, and the whole-map GEMM tiles better (measured on
/// mobilenet_v2, Zen 3 with 512 KB of L2: 56x56 and 112x112 maps gain 25-30%, 28x28 maps of
/// 600 KB break even, 14x14 and 7x7 ones lose). The kernel (cpu/conv_pwdw.cpp) never writes the
/// expanded map out; results are bit-identical. Returns how many pairs were fused.
int fusePointwiseDepthwise(ir::Graph& graph, const FusionListener* listener = nullptr);
inline constexpr int64_t kPwDwMinBytes = 1024 * 1024;

/// QDQ patterns into integer nodes (the INT8 runtime path, cpu/int8_*.cpp):
///   DequantizeLinear(x_q) and DequantizeLinear(w_q constant, per tensor or per output channel)
///   -> Conv (4-D weights) / Gemm (transA 0, alpha 1, beta 1) / MatMul (2-D weights)
///   [bias: DequantizeLinear(int32 constant) or a float constant, one value per output channel]
///   [-> Relu | Clip(constant bounds)] -> QuantizeLinear (scalar scale and zero point)
/// => ai.edgewise.QConv / ai.edgewise.QGemm with QLinearConv's / QLinearMatMul's inputs
/// (x_q, x_scale, x_zp, w_q, w_scale, w_zp, y_scale, y_zp, bias int32) and `activation`. The bias
/// is used as it is when its scale equals x_scale * w_scale (what quantizers write), else
/// requantized to that scale. x_q is 8-bit with scalar scale/zero point; the float output of the
/// product (and of the activation) must feed only the QuantizeLinear. A DequantizeLinear of x
/// shared with other nodes stays for them. The fused node computes in integers what the float
/// pattern computes in float: outputs agree within one step of the output quantization.
/// Also, so that activations stay 8-bit between the fused products:
///   Add(DequantizeLinear(a_q), DequantizeLinear(b_q)) (scalar scales/zero points, a and b of the
///   same shape) [-> Relu | Clip(constant bounds)] -> QuantizeLinear
///   => ai.edgewise.QAdd(a_q, a_scale, a_zp, b_q, b_scale, b_zp, y_scale, y_zp) {activation},
///   which runs the float operations of the pattern itself: equal to the float QDQ run exactly;
///   DequantizeLinear(x_q) -> MaxPool (2-D, one output, no ceil_mode, pads within the dilated
///   kernel) -> QuantizeLinear with the same scale, zero point and type
///   => ai.edgewise.QMaxPool(x_q) {MaxPool's attributes}: exact (quantization is monotonic and
///   Q(DQ(q)) = q).
/// Returns how many patterns were fused.
int fuseQdq(ir::Graph& graph, const FusionListener* listener = nullptr);

/// Everything above in the order that lets each pattern take the most: QDQ patterns (when
/// `qdq`), Conv chains (with SiLU and HardSwish), Gemm/MatMul + activation, the remaining SiLU
/// pairs and HardSwish patterns, then pointwise + depthwise pairs; then the same in every nested
/// graph (If / Loop / Scan bodies).
/// Returns the number of fusions.
int fuseForRuntime(ir::Graph& graph, bool qdq = true);

/// True when the graph has a node that fuseForRuntime(graph, qdq) may start from (Session skips
/// copying graphs without one).
bool hasRuntimeFusionCandidates(const ir::Graph& graph, bool qdq = true);

} // namespace ew::rt
