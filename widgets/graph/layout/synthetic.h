#pragma once
// Seeded random layered DAGs shaped like real models, for the CLI, the tests and the bench.

#include "layout/layout.h"

#include <cstddef>
#include <cstdint>

namespace ew::layout {

/// A deterministic random DAG with `nodeCount` nodes that looks like a real network: mostly
/// chains, with residual blocks (skip connection into an Add), inception blocks (2-4 parallel
/// branches into a Concat), attention blocks (Q/K/V fan-out, two MatMuls, residual), constant
/// feeds and the occasional long skip (U-Net style). In-degree 1-3; node widths vary like labels.
/// With `withGroups`, nodes are grouped stage/block like an exporter's name scopes.
/// Invariant: the same (nodeCount, seed, withGroups) gives the same graph on every platform
/// (own PRNG, no std distributions).
LayoutGraph syntheticGraph(std::size_t nodeCount, std::uint64_t seed = 1, bool withGroups = true);

} // namespace ew::layout
