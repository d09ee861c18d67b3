#pragma once
// Internal to ew_layout: one flat Sugiyama drawing (a "block": the contents of one expanded
// group, or the whole graph). layout.cpp composes blocks into the compound Drawing.

#include "layout/layout.h"

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace ew::layout::detail {

/// Items to place (width/height) and the directed edges between them: unique pairs, no self
/// loops (the caller merges parallel edges).
struct BlockInput {
    std::vector<double> width;
    std::vector<double> height;
    std::vector<std::pair<int, int>> edges;
    /// Per item: 0 free, -1 pinned to the top layer (an entry port: a source), +1 pinned to a
    /// layer of its own below all others (an exit port: a sink). Empty: all free.
    std::vector<signed char> pin;
};

/// A laid-out block in its own coordinates (top-left of the drawing at 0, 0).
/// Invariant: for every edge, layer[upper] == fromLayer < toLayer == layer[lower] and dummyX has
/// toLayer - fromLayer - 1 entries, one per layer in between.
struct BlockLayout {
    struct Edge {
        int upper = 0; ///< the item drawn above (the source unless reversed)
        int lower = 0;
        bool reversed = false;
        int fromLayer = 0;
        int toLayer = 0;
        std::vector<double> dummyX; ///< centre x of each dummy, top to bottom
    };
    std::vector<double> x; ///< top-left of each item (pinned items: their layer's top/bottom)
    std::vector<double> y;
    std::vector<int> layer;
    std::vector<Edge> edges; ///< indexed like BlockInput::edges
    std::vector<double> layerTop;
    std::vector<double> layerHeight;
    int layers = 0;
    std::int64_t crossings = 0;
    std::int64_t dummies = 0;
    int reversedEdges = 0;
    double width = 0;
    double height = 0;
};

/// fraction in [0, 1] of this block; return false to cancel.
using BlockProgress = std::function<bool(std::string_view stage, double fraction)>;

/// Lays out one block. Returns false when cancelled (out is then unspecified).
bool layoutBlock(const BlockInput& in, const LayoutOptions& options, const BlockProgress& progress,
                 BlockLayout& out);

/// Crossings between consecutive layers for edges given as (upper position, lower position)
/// pairs per layer gap (Barth, Juenger, Mutzel accumulation with a Fenwick tree).
std::int64_t countLayerCrossings(std::vector<std::pair<int, int>>& segments, int lowerLayerSize);

} // namespace ew::layout::detail
