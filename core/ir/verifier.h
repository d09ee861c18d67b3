#pragma once
#include "common/status.h"
#include "graph.h"

namespace ew::ir {

/// Structural checks run after import and (in tests and debug builds) after every pass:
/// acyclic; every node input defined (in scope, before use); unique value names per graph and
/// unique non-empty node names; graph outputs produced; initializer data consistent with its
/// declared type and shape; attribute kinds valid; opset imported for every domain used;
/// the same checks recursively in subgraphs. Returns the first problem, naming the node.
VoidResult verify(const Model& model);
VoidResult verifyGraph(const Graph& graph);

} // namespace ew::ir
