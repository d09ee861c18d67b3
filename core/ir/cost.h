#pragma once
#include "graph.h"

#include <cstdint>
#include <unordered_map>

namespace ew::ir {

/// Static cost of one node from its attributes and (inferred) shapes.
/// MACs count multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul/attention-like ops;
/// FLOPs count all arithmetic (2 per MAC plus elementwise work). Parameters are the constant
/// inputs the node reads (initializers and Constant-node outputs). `exact` is false when some shape was unknown (the counts are then a
/// lower bound).
struct NodeCost {
    int64_t macs = 0;
    int64_t flops = 0;
    int64_t paramCount = 0;
    int64_t paramBytes = 0;
    int64_t activationBytes = 0; ///< bytes of the node's outputs
    bool exact = true;
};

struct ModelCost {
    int64_t macs = 0;
    int64_t flops = 0;
    int64_t parameterCount = 0; ///< elements of all constants (initializers and Constant nodes, every graph, each counted once)
    int64_t parameterBytes = 0;
    int64_t activationBytes = 0;
    bool exact = true;
    std::unordered_map<const Node*, NodeCost> perNode; ///< nodes of all graphs
};

NodeCost nodeCost(const Node& node);
ModelCost modelCost(const Model& model);

} // namespace ew::ir
