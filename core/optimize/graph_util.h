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

} // namespace ew::opt
