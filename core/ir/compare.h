#pragma once
#include "graph.h"

#include <string>

namespace ew::ir {

/// Structural equality of two models: metadata, opsets, every graph (nested too) with its
/// inputs, outputs, initializers (bit for bit), nodes in order with attributes, declared value
/// types and functions. Returns an empty string when equal, else a description of the first
/// difference ("graph 'g' node 'conv1' attribute 'pads': [1,1] vs [0,0]"). Used by the round-trip
/// tests and by passes' "nothing changed" checks.
std::string firstDifference(const Model& a, const Model& b);
std::string firstGraphDifference(const Graph& a, const Graph& b);

} // namespace ew::ir
