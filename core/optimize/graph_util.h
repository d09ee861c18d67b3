#pragma once
#include "common/status.h"
#include "ir/graph.h"
#include "pass.h"

#include <optional>
#include <string_view>
#include <vector>

/// Small graph-editing helpers shared by the passes. They keep the IR's invariants (use lists,
/// unique names, graph outputs keep their names) so a pass can read as its pattern.
namespace ew::opt {

/// True for a default-domain ("" or "ai.onnx") node of this op type.
bool isOp(const ir::Node& n, std::string_view opType);
/// The single consumer of v; nullptr when v has several or none, or is a graph output.
ir::Node* soleConsumer(const ir::Value* v);
/// True when v is used only by `node` (any number of its slots) and is not a graph output.
bool onlyUsedBy(const ir::Value* v, const ir::Node* node);
/// Initializer or Constant-node data behind v (nullptr otherwise).
const ir::Tensor* constantOf(const ir::Value* v);
/// A one-element constant read as double.
std::optional<double> scalarConstant(const ir::Value* v);
/// True when v is a float tensor value (float32).
bool isFloat(const ir::Value* v);
/// Static dims of v's inferred/declared type; nullopt when the rank or any dim is unknown.
std::optional<std::vector<int64_t>> staticDims(const ir::Value* v);

/// Adds an initializer named after `base` (made unique) holding `t`; its type comes from `t`.
ir::Value* addInitializer(ir::Graph& g, std::string_view base, ir::Tensor t);
/// A float32 tensor built from values.
ir::Tensor floatTensor(std::vector<int64_t> dims, std::vector<float> values);
/// An int64 tensor built from values.
ir::Tensor int64Tensor(std::vector<int64_t> dims, std::vector<int64_t> values);

/// Removes `node` and those of its output values that nothing uses any more.
void eraseNode(ir::Graph& g, ir::Node* node);

/// Makes every use of `from` read `to` instead and removes `from`'s producer's claim on the name
/// where `from` is a graph output: the graph output keeps its name by renaming `to` (which must be
/// produced by a node of this graph and be neither a graph input, initializer nor another graph
/// output). Returns false, changing nothing, when the graph output's name cannot be preserved.
bool replaceValue(ir::Graph& g, ir::Value* from, ir::Value* to);
/// True when replaceValue(g, from, to) would succeed.
bool canReplaceValue(const ir::Graph& g, const ir::Value* from, const ir::Value* to);

/// Removes values of g that nothing produces, uses, or lists (inputs/outputs/initializers).
void dropOrphanValues(ir::Graph& g);

/// A node name not used by any node of g (based on `base`).
std::string uniqueNodeName(const ir::Graph& g, std::string_view base);

/// Replaces `node` by constants: its output k becomes an initializer holding values[k] under the
/// same Value (same name, same uses), so graph outputs keep their names and consumers need no
/// rewiring. values has one entry per output slot (ignored where the slot is omitted); outputs
/// nothing reads are dropped. The caller records the change.
void replaceNodeWithConstants(ir::Graph& g, ir::Node* node, std::vector<ir::Tensor> values);

/// A one-element constant read as double, only when broadcasting it against a tensor of rank
/// `rank` cannot change that tensor's shape (its rank is 0, or at most `rank`; `rank` < 0 means
/// unknown and admits rank 0 only).
std::optional<double> shapePreservingScalar(const ir::Value* v, int64_t rank);
/// |a - b| <= relTol * |b|: for matching exporters' rounded constants (sqrt(2), 1/6, ...).
bool nearlyEqual(double a, double b, double relTol = 1e-4);
/// Rank of v's type, -1 when unknown.
int64_t rankOf(const ir::Value* v);

/// Replaces the connected nodes `absorbed` (all of g; `result` is output 0 of one of them and the
/// only absorbed output anything outside reads) by one new node `opType(inputs)`, inserted where
/// the producer of `result` was. The new node's output takes over `result`'s uses, name and type;
/// every absorbed node is recorded as fused into it and erased. The caller has checked that the
/// other absorbed outputs are used only inside `absorbed` and that canReplaceValue holds; it sets
/// the new node's attributes.
ir::Node* fuseIntoNode(ir::Graph& g, PassContext& ctx, const std::vector<ir::Node*>& absorbed,
                       ir::Value* result, std::string opType, const std::vector<ir::Value*>& inputs);

/// A producer whose output channel c (axis 1 of its output) is linear in constant weights:
/// Conv / ConvTranspose with constant float32 weights and a constant (or no) bias, Gemm with a
/// constant 2-D B and a constant (or no) C broadcast along the rows, or a MatMul of a rank-2
/// input by a constant 2-D weight (opset >= 7 for both, so Gemm's C broadcasts). A per-channel
/// affine map of its output (BatchNormalization, Mul/Add by a per-channel constant) folds into
/// the weights and bias: see foldChannelAffine.
struct ChannelLinear {
    ir::Node* node = nullptr;
    int64_t channels = 0; ///< output channels (the size of axis 1)
    int64_t outRank = 0;  ///< rank of the output: channels are axis 1 of it
    bool biasRequired = false; ///< Gemm before opset 11 must have C (so a MatMul turned Gemm too)
};
/// Initializer or Constant-node data behind v that no caller can override (an initializer that
/// is also a graph input is not constant); nullptr otherwise.
const ir::Tensor* fixedConstantOf(const ir::Value* v);
/// `n` described as a ChannelLinear (Conv, ConvTranspose, Gemm or MatMul), or nullopt.
std::optional<ChannelLinear> channelLinearOf(ir::Node& n, int64_t opset);
/// Rewrites p.node so that its output becomes y[:, c, ...] * scale[c] + shift[c] (both of
/// p.channels entries), through new float32 initializers computed in double (shared weights are
/// never modified; the old ones go when nothing else reads them). A MatMul becomes a Gemm of the
/// same name and output, which is returned; otherwise p.node is. The caller records the change.
ir::Node* foldChannelAffine(ir::Graph& g, const ChannelLinear& p, const std::vector<double>& scale,
                            const std::vector<double>& shift);

/// Per-channel scale and shift (y * scale + shift) of a BatchNormalization over `channels`
/// channels that is certainly in inference mode (opset >= 7, spatial = 1 before opset 9,
/// training_mode = 0, no mean/var outputs) with constant parameters; nullopt otherwise.
std::optional<std::pair<std::vector<double>, std::vector<double>>>
inferenceBatchNormAffine(const ir::Node& bn, int64_t channels, int64_t opset);
/// Folds `consumer` (a per-channel affine map y * scale + shift of p.node's sole output y, its
/// own output z) into p.node: z's uses (and graph-output name) move to y and the consumer goes,
/// with those of its constant inputs nothing else reads.
/// Returns false, changing nothing, when z cannot be replaced. Records the change.
bool foldConsumerIntoProducer(ir::Graph& g, PassContext& ctx, ir::Node* consumer, const ChannelLinear& p,
                              const std::vector<double>& scale, const std::vector<double>& shift);

} // namespace ew::opt
