#pragma once
// Public contract of ew_layout: a pure C++ (std only) layered graph layout for the graph view.
// The Qt view builds a LayoutGraph (usually through ew_layout_ir's fromIr), runs a Layout on a
// worker thread and paints the Drawing. Everything here is value types plus one class.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ew::layout {

using NodeId = std::int32_t;  ///< index into LayoutGraph::nodes
using EdgeId = std::int32_t;  ///< index into LayoutGraph::edges
using GroupId = std::int32_t; ///< index into LayoutGraph::groups
/// The implicit root of the group tree: nodes and groups that belong to no group.
inline constexpr GroupId kRootGroup = -1;

struct Point {
    double x = 0;
    double y = 0;
    friend bool operator==(const Point&, const Point&) = default;
};

/// Axis-aligned box; (x, y) is the top-left corner, y grows downwards.
struct Rect {
    double x = 0;
    double y = 0;
    double w = 0;
    double h = 0;
    double centerX() const { return x + w / 2; }
    double bottom() const { return y + h; }
    friend bool operator==(const Rect&, const Rect&) = default;
};

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/// A box to place: its size (the caller measures labels) and the group it belongs to.
struct LayoutNode {
    double width = 80;
    double height = 28;
    GroupId group = kRootGroup;
};

/// A directed edge (data flows from `from` to `to`, drawn top to bottom). Self loops are ignored;
/// parallel edges are merged into one drawn edge. Cycles are allowed: back edges are reversed
/// for layering and flagged in the Drawing.
struct LayoutEdge {
    NodeId from = 0;
    NodeId to = 0;
};

/// A group (name scope or nested graph). Groups form a tree through `parent`, in any index
/// order; the tree must be acyclic. A group without members is drawn as its collapsed box.
struct LayoutGroup {
    GroupId parent = kRootGroup;
    std::string label;
    /// Size of the box drawn when the group is collapsed (the caller measures the label).
    double collapsedWidth = 120;
    double collapsedHeight = 36;
};

/// The whole input. Validate with validate() when it comes from untrusted code paths; run()
/// rejects (returns Drawing::error) out-of-range ids and cyclic group trees.
struct LayoutGraph {
    std::vector<LayoutNode> nodes;
    std::vector<LayoutEdge> edges;
    std::vector<LayoutGroup> groups;
};

/// Which groups are shown as one box. Indexed by GroupId; missing entries mean expanded.
/// A node inside a collapsed group (at any depth) is hidden; the outermost collapsed ancestor
/// stands for it.
class CollapseState {
  public:
    CollapseState() = default;
    explicit CollapseState(std::size_t groupCount) : m_collapsed(groupCount, false) {}
    bool isCollapsed(GroupId g) const {
        return g >= 0 && static_cast<std::size_t>(g) < m_collapsed.size() && m_collapsed[g];
    }
    void set(GroupId g, bool collapsed) {
        if (g < 0) return;
        if (static_cast<std::size_t>(g) >= m_collapsed.size()) m_collapsed.resize(g + 1, false);
        m_collapsed[g] = collapsed;
    }
    friend bool operator==(const CollapseState& a, const CollapseState& b);

  private:
    std::vector<bool> m_collapsed;
};

/// Crossing-reduction method. `Barycenter` is the plain baseline: four down/up pairs of
/// barycenter sweeps from a depth-first initial order, best order kept, no transposition.
/// `Default` starts from that result and continues with median and barycenter sweeps plus
/// transposition (and seeded restarts on small blocks), keeping only improvements: on the same
/// layering it is never worse than the baseline.
enum class Ordering { Default, Barycenter };

struct LayoutOptions {
    double nodeSeparation = 24;  ///< horizontal gap between neighbouring boxes
    double edgeSeparation = 10;  ///< horizontal gap between neighbouring edge bends (dummies)
    double layerSeparation = 40; ///< vertical gap between layers
    double groupPadding = 12;    ///< inner margin of an expanded group's frame
    double groupHeader = 24;     ///< extra top margin of an expanded frame, for its label
    Ordering ordering = Ordering::Default;
    /// Iterations of Default's improvement phase (one sweep plus transposition each; it also
    /// stops after four without progress); 0 = automatic: 24, 12 or 6 by block size.
    int sweeps = 0;
    /// Ignore the group tree: every node is laid out in one flat layered drawing.
    bool flatten = false;
};

/// Progress callback: `stage` names the step ("layering", "ordering", ...), `fraction` in [0, 1]
/// over the whole run. Return false to cancel; run() then returns promptly (within one sweep of
/// the block being worked on) with Drawing::cancelled set. Called on the thread that runs.
using ProgressFn = std::function<bool(std::string_view stage, double fraction)>;

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// What a drawn edge end or a visible box is: a node, or a (collapsed) group box.
struct ItemRef {
    enum class Kind : std::uint8_t { Node, Group };
    Kind kind = Kind::Node;
    std::int32_t id = 0; ///< NodeId or GroupId
    friend bool operator==(const ItemRef&, const ItemRef&) = default;
};

/// Where a node ended up. Hidden nodes (inside a collapsed group) have visible == false, an
/// empty rect and `shownBy` set to the collapsed group that stands for them.
struct NodeBox {
    Rect rect; ///< absolute coordinates
    bool visible = false;
    GroupId level = kRootGroup;   ///< the expanded group whose sub-layout placed this box
    int layer = -1;               ///< layer within `level`'s sub-layout
    GroupId shownBy = kRootGroup; ///< when hidden: the collapsed group drawn instead
};

/// Where a group ended up: an expanded frame around its contents, a collapsed box, or hidden
/// inside a collapsed ancestor.
struct GroupBox {
    enum class State : std::uint8_t { Hidden, Collapsed, Expanded };
    State state = State::Hidden;
    Rect rect;                  ///< absolute; the frame when expanded, the box when collapsed
    GroupId level = kRootGroup; ///< the expanded group (or root) whose sub-layout placed it
    int layer = -1;             ///< layer within `level`'s sub-layout
    int depth = 0;              ///< 0 for top-level groups
    int layerCount = 0;         ///< when expanded: the layers of its own sub-layout
};

/// One stretch of a drawn edge inside one sub-layout, from layer `fromLayer` to `toLayer` with
/// one dummy per layer in between. `start` / `end` are the positions of the stretch's end points
/// in that sub-layout: an item's centre x, or a port (where the edge enters or leaves an
/// expanded group: entry ports sit on the group's top row, exit ports on its bottom row).
struct EdgeLeg {
    GroupId level = kRootGroup;
    int fromLayer = 0;
    int toLayer = 0;
    Point start;
    Point end;
    std::vector<Point> dummies;
};

/// One drawn edge between two visible items. Edges whose ends lie in different groups are
/// lifted to the lowest group containing both ends (`level`) and laid out there, between the
/// two children of `level` that contain the ends (`fromLayer` < `toLayer` in level's layering).
/// Several original edges may map to one drawn edge (parallel edges, edges lifted to the same
/// collapsed box); `edges` lists them, sorted.
struct DrawnEdge {
    /// The visible upper end (a node, or the collapsed group containing it). Drawn edges always
    /// run downwards: `from` is the data source unless `reversed`.
    ItemRef from;
    ItemRef to; ///< the visible lower end
    /// The children of `level` that contain `from` / `to` (equal to them unless an end lies
    /// inside an expanded child group; the route then runs inside that group, through its own
    /// layers, to an exit port on its bottom row / from an entry port on its top row).
    ItemRef fromItem;
    ItemRef toItem;
    std::vector<EdgeId> edges; ///< the original edges this stands for
    GroupId level = kRootGroup;
    int fromLayer = 0;
    int toLayer = 0;
    /// Centers of the dummy nodes at `level`, one per layer strictly between fromLayer and toLayer.
    std::vector<Point> dummies;
    /// Every stretch of the route, top to bottom: the legs inside the expanded groups around
    /// `from` (to their exit ports), the leg at `level`, the legs inside the expanded groups
    /// around `to` (from their entry ports). Just the one leg when both ends are children of
    /// `level` (or the edge is reversed).
    std::vector<EdgeLeg> legs;
    /// The route as a piecewise cubic Bezier: 1 + 3k points (start, then ctrl1, ctrl2, end per
    /// segment), starting at the source's bottom centre and ending at the target's top centre,
    /// passing through every port and every dummy of every leg (vertically through the
    /// dummy's layer band). y never decreases along it.
    std::vector<Point> bezier;
    /// True when data flows from `to` up to `from` (a cycle was broken here): draw the arrow
    /// head at `from` instead of `to`.
    bool reversed = false;
};

/// Counters for the status bar, the CLI and the bench.
struct LayoutStats {
    int visibleNodes = 0;
    int visibleGroups = 0;   ///< collapsed boxes plus expanded frames
    int collapsedGroups = 0; ///< visible collapsed boxes
    int drawnEdges = 0;
    int layers = 0;             ///< layers of the root sub-layout
    std::int64_t crossings = 0; ///< sum over all shown sub-layouts, between consecutive layers
    std::int64_t dummies = 0;   ///< dummy nodes over all shown sub-layouts (ports not counted)
    int reversedEdges = 0;
    int blocksLaidOut = 0; ///< sub-layouts computed by this run
    int blocksReused = 0;  ///< sub-layouts taken unchanged from the cache
    double ms = 0;         ///< wall time of this run
};

/// The result of one run: every node, group and drawn edge in absolute coordinates with the
/// drawing's top-left corner at (0, 0). `nodes` and `groups` are indexed like the input.
struct Drawing {
    std::vector<NodeBox> nodes;
    std::vector<GroupBox> groups;
    std::vector<DrawnEdge> edges;
    double width = 0;
    double height = 0;
    LayoutStats stats;
    bool cancelled = false; ///< the progress callback returned false; the rest is empty
    std::string error;      ///< non-empty when the input was invalid; the rest is empty
    bool ok() const { return !cancelled && error.empty(); }
};

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Checks ids and the group tree; returns an empty string when the graph is usable.
std::string validate(const LayoutGraph& graph);

/// A persistent, incremental compound layout.
///
/// Algorithm: every expanded group (and the root) is one block, laid out bottom-up as its own
/// Sugiyama drawing in which child groups are single boxes (collapsed size, or the size of
/// their own laid-out block plus padding and header). An edge is laid out in the lowest group
/// containing both ends, between the two children holding them; inside the expanded groups on
/// the way it runs from an entry port (top row) or to an exit port (bottom row), so routes do not
/// cut across a group's contents. Per block: cycle breaking by DFS (back edges reversed),
/// longest-path layering with a balancing pass (nodes with more outputs than inputs sink to just
/// above their consumers; no network simplex), dummy nodes on long edges (long edges sharing a
/// source or a target share one chain), crossing reduction (barycenter sweeps, then median and
/// barycenter sweeps with transposition and, on small blocks, a few seeded restarts; the best
/// order is kept, so never worse than the barycenter baseline), Brandes-Koepf coordinates (four
/// alignments, balanced; pendant neighbours such as Constants do not steer alignment) so chains
/// are straight, then spline routing through ports and dummies. All work is O((V + D) log V)
/// per sweep for V items and D dummies, with a bounded number of sweeps.
///
/// Blocks are cached by their inputs (the sizes of their child groups): expanding or collapsing
/// one group re-lays out only that group and its ancestors (stats.blocksLaidOut / blocksReused).
///
/// Invariants: deterministic (the same graph, state and options give the same Drawing, bit for
/// bit apart from stats.ms and the block counters, whether reached incrementally or from
/// scratch); boxes in one block never overlap,
/// children lie inside their expanded parent's frame, and every leg of every drawn edge runs
/// from layer L to L+1 through one dummy per layer. Not thread-safe: use one object from one
/// thread at a time (e.g. the worker running run()), but it may move between threads; several
/// objects may run in parallel.
class Layout {
  public:
    explicit Layout(LayoutGraph graph, LayoutOptions options = {});
    ~Layout();
    Layout(Layout&&) noexcept;
    Layout& operator=(Layout&&) noexcept;

    const LayoutGraph& graph() const;
    const LayoutOptions& options() const;

    /// Collapse state used by the next run(); changing it marks only the affected blocks.
    const CollapseState& collapseState() const;
    void setCollapseState(CollapseState state);
    void setCollapsed(GroupId group, bool collapsed);

    /// Lays out what changed since the last run and assembles the whole Drawing.
    /// On cancel, blocks finished so far stay cached and the previous drawing() is kept.
    Drawing run(const ProgressFn& progress = {});
    /// The last successful run()'s result (empty before the first).
    const Drawing& drawing() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// One-shot convenience: Layout(graph, options) with `state`, run once.
Drawing layoutGraph(const LayoutGraph& graph, const CollapseState& state = {},
                    const LayoutOptions& options = {}, const ProgressFn& progress = {});

/// Depth of a group: 0 for groups directly under the root.
std::vector<int> groupDepths(const LayoutGraph& graph);

/// A state with every group of depth >= `depth` collapsed (depth 0 collapses all top-level
/// groups); a negative depth expands everything.
CollapseState collapseAtDepth(const LayoutGraph& graph, int depth);

/// The deepest collapse depth whose visible items (nodes + collapsed boxes) number at most
/// `maxVisible`; -1 (expand all) when everything fits; 0 when even that is too many.
int defaultCollapseDepth(const LayoutGraph& graph, std::size_t maxVisible = 1500);

/// Edge crossings of a drawing, recounted from its geometry (items, ports and dummies ranked
/// by x per layer of each sub-layout, segments from the edge legs). For tests: it equals
/// stats.crossings unless a reversed edge left port legs unused (then it is smaller).
std::int64_t countCrossings(const Drawing& drawing);

} // namespace ew::layout
