#pragma once
#include "graph.h"

#include <string>

namespace ew::ir {

struct DumpOptions {
    bool showDocStrings = false;
    bool showNodeNames = true;
    /// Tensors with at most this many elements are printed in full; larger ones as a summary
    /// with a content hash, so golden dumps still change when weights change.
    std::size_t maxInlineElements = 16;
};

/// A stable, readable text form of a model, used by golden tests and `edgewise-cli dump`.
/// Example:
///   model ir=8 producer="pytorch 1.13.1" opsets=[:13]
///   graph "main" {
///     input  %x : float32[1,3,8,8]
///     init   %w : float32[4,3,3,3] = <108 values, hash 1f2e...>
///     %y = Conv(%x, %w) {dilations=[1,1], pads=[1,1,1,1]} "conv0"
///     output %y : float32[1,4,8,8]
///   }
std::string dumpModel(const Model& model, const DumpOptions& opts = {});
std::string dumpGraph(const Graph& graph, const DumpOptions& opts = {}, int indent = 0);

} // namespace ew::ir
