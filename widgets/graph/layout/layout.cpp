#include "layout/layout.h"

#include "layout/layered.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace ew::layout {

bool operator==(const CollapseState& a, const CollapseState& b) {
    const std::size_t n = std::max(a.m_collapsed.size(), b.m_collapsed.size());
    for (std::size_t i = 0; i < n; ++i)
        if (a.isCollapsed(static_cast<GroupId>(i)) != b.isCollapsed(static_cast<GroupId>(i)))
            return false;
    return true;
}

std::string validate(const LayoutGraph& g) {
    const auto nn = static_cast<std::int64_t>(g.nodes.size());
    const auto ng = static_cast<std::int64_t>(g.groups.size());
    if (nn > (1ll << 30) || ng > (1ll << 30) || g.edges.size() > (1ull << 30))
        return "graph too large";
    auto badSize = [](double w, double h) {
        return !std::isfinite(w) || !std::isfinite(h) || w < 0 || h < 0;
    };
    for (std::int64_t i = 0; i < nn; ++i) {
        const auto& n = g.nodes[i];
        if (n.group < kRootGroup || n.group >= ng)
            return "node " + std::to_string(i) + ": group out of range";
        if (badSize(n.width, n.height)) return "node " + std::to_string(i) + ": bad size";
    }
    for (std::size_t i = 0; i < g.edges.size(); ++i) {
        const auto& e = g.edges[i];
        if (e.from < 0 || e.from >= nn || e.to < 0 || e.to >= nn)
            return "edge " + std::to_string(i) + ": node out of range";
    }
    for (std::int64_t i = 0; i < ng; ++i) {
        const auto& gr = g.groups[i];
        if (gr.parent < kRootGroup || gr.parent >= ng)
            return "group " + std::to_string(i) + ": parent out of range";
        if (badSize(gr.collapsedWidth, gr.collapsedHeight))
            return "group " + std::to_string(i) + ": bad size";
    }
    // Acyclic parent chains: colour walk, each group visited once overall.
    std::vector<char> state(ng, 0); // 0 unknown, 1 on current walk, 2 reaches root
    std::vector<GroupId> walk;
    for (std::int64_t i = 0; i < ng; ++i) {
        walk.clear();
        GroupId cur = static_cast<GroupId>(i);
        while (cur != kRootGroup && state[cur] == 0) {
            state[cur] = 1;
            walk.push_back(cur);
            cur = g.groups[cur].parent;
        }
        if (cur != kRootGroup && state[cur] == 1)
            return "group " + std::to_string(cur) + ": cyclic parent chain";
        for (GroupId w : walk)
            state[w] = 2;
    }
    return {};
}

std::vector<int> groupDepths(const LayoutGraph& g) {
    std::vector<int> depth(g.groups.size(), -1);
    std::vector<GroupId> walk;
    for (std::size_t i = 0; i < g.groups.size(); ++i) {
        walk.clear();
        GroupId cur = static_cast<GroupId>(i);
        while (cur != kRootGroup && depth[cur] < 0) {
            walk.push_back(cur);
            cur = g.groups[cur].parent;
        }
        int d = cur == kRootGroup ? -1 : depth[cur];
        for (auto it = walk.rbegin(); it != walk.rend(); ++it)
            depth[*it] = ++d;
    }
    return depth;
}

CollapseState collapseAtDepth(const LayoutGraph& g, int depth) {
    CollapseState s(g.groups.size());
    if (depth < 0) return s;
    const auto d = groupDepths(g);
    for (std::size_t i = 0; i < d.size(); ++i)
        if (d[i] >= depth) s.set(static_cast<GroupId>(i), true);
    return s;
}

int defaultCollapseDepth(const LayoutGraph& g, std::size_t maxVisible) {
    const auto d = groupDepths(g);
    const int maxDepth = d.empty() ? -1 : *std::max_element(d.begin(), d.end());
    // visible(D) = nodes whose group has depth < D (root counts as -1) + groups at depth D.
    std::vector<std::size_t> nodesAtGroupDepth(maxDepth + 2, 0), groupsAtDepth(maxDepth + 2, 0);
    for (const auto& n : g.nodes)
        ++nodesAtGroupDepth[n.group == kRootGroup ? 0 : d[n.group] + 1];
    for (int x : d)
        ++groupsAtDepth[x];
    if (g.nodes.size() <= maxVisible) return -1;
    int best = 0;
    std::size_t nodesAbove = nodesAtGroupDepth[0]; // nodes with group depth < D
    for (int D = 0; D <= maxDepth; ++D) {
        if (D > 0) nodesAbove += nodesAtGroupDepth[D];
        if (nodesAbove + groupsAtDepth[D] <= maxVisible) best = D;
    }
    return best;
}

namespace {

Point bottomCenter(const Rect& r) {
    return {r.centerX(), r.bottom()};
}
Point topCenter(const Rect& r) {
    return {r.centerX(), r.y};
}

void appendBezier(std::vector<Point>& bez, const std::vector<Point>& pts) {
    bez.clear();
    if (pts.empty()) return;
    bez.push_back(pts[0]);
    for (std::size_t i = 1; i < pts.size(); ++i) {
        const Point p = pts[i - 1], q = pts[i];
        if (std::abs(p.x - q.x) < 1e-9) {
            bez.push_back({p.x, p.y + (q.y - p.y) / 3});
            bez.push_back({p.x, p.y + 2 * (q.y - p.y) / 3});
        } else {
            // Vertical tangents at both ends: smooth (C1) through every waypoint.
            const double dy = (q.y - p.y) / 2;
            bez.push_back({p.x, p.y + dy});
            bez.push_back({q.x, q.y - dy});
        }
        bez.push_back(q);
    }
}

} // namespace

struct Layout::Impl {
    LayoutGraph graph;
    LayoutOptions options;
    CollapseState state;
    Drawing last;
    std::string error;

    // Internal group indices: 0..G-1 the groups, G the root.
    int G = 0;
    std::vector<int> nodeGroup;
    std::vector<int> parent;
    std::vector<int> depth;
    std::vector<int> preorder; ///< root first, parents before children

    /// An item of a block: a child node, a child group, or a port where edges cross the
    /// group's border (entry ports on the top row, exit ports on the bottom row).
    enum class Kind : std::uint8_t { Node, Group, InPort, OutPort };
    struct Item {
        Kind kind;
        int id; ///< node or group id; for ports the code of the sibling item outside
    };
    struct Block {
        std::vector<Item> items;  ///< child nodes, child groups, then ports
        detail::BlockInput input; ///< edges and ports are static; group sizes refreshed per run
        detail::BlockLayout layout;
        bool valid = false;
    };
    std::vector<Block> blocks;   ///< per internal group, root last
    std::vector<int> nodeLocal;  ///< index of each node in its group's block
    std::vector<int> groupLocal; ///< index of each group in its parent's block

    /// One stretch of an original edge through one block.
    struct Leg {
        int block;
        int blockEdge;
    };
    /// Original edge e: lifted to `level` (block edge `blockEdge` between the two children
    /// containing its ends); legs[srcBegin, srcEnd) lead from the source up to the exit ports
    /// (innermost group first), legs[dstBegin, dstEnd) from the entry ports down to the target
    /// (innermost first).
    struct EdgeInfo {
        int level = -1; ///< -1 for self loops
        int blockEdge = -1;
        int srcBegin = 0, srcEnd = 0, dstBegin = 0, dstEnd = 0;
    };
    std::vector<EdgeInfo> edgeInfo;
    std::vector<Leg> legs;

    void build();
    int internal(GroupId g) const { return g == kRootGroup ? G : g; }
    GroupId external(int g) const { return g == G ? kRootGroup : g; }
    ItemRef ref(const Item& it) const {
        return {it.kind == Kind::Node ? ItemRef::Kind::Node : ItemRef::Kind::Group, it.id};
    }
    int code(const Item& it) const {
        return it.kind == Kind::Node ? it.id : static_cast<int>(graph.nodes.size()) + it.id;
    }
};

void Layout::Impl::build() {
    error = validate(graph);
    if (!error.empty()) return;
    G = static_cast<int>(graph.groups.size());
    const int N = static_cast<int>(graph.nodes.size());
    parent.assign(G + 1, -1);
    depth.assign(G + 1, -1);
    nodeGroup.assign(N, G);
    if (!options.flatten) {
        for (int g = 0; g < G; ++g)
            parent[g] = internal(graph.groups[g].parent);
        const auto d = groupDepths(graph);
        for (int g = 0; g < G; ++g)
            depth[g] = d[g];
        for (int v = 0; v < N; ++v)
            nodeGroup[v] = internal(graph.nodes[v].group);
    }
    blocks.assign(G + 1, {});
    nodeLocal.assign(N, -1);
    groupLocal.assign(G, -1);
    for (int v = 0; v < N; ++v) {
        auto& b = blocks[nodeGroup[v]];
        nodeLocal[v] = static_cast<int>(b.items.size());
        b.items.push_back({Kind::Node, v});
    }
    std::vector<std::vector<int>> children(G + 1);
    if (!options.flatten)
        for (int g = 0; g < G; ++g) {
            auto& b = blocks[parent[g]];
            groupLocal[g] = static_cast<int>(b.items.size());
            b.items.push_back({Kind::Group, g});
            children[parent[g]].push_back(g);
        }
    preorder.clear();
    preorder.push_back(G);
    for (std::size_t h = 0; h < preorder.size(); ++h)
        for (int c : children[preorder[h]])
            preorder.push_back(c);

    // The item of block `level` that contains node v.
    auto itemIn = [&](int v, int level) -> int {
        int g = nodeGroup[v];
        if (g == level) return nodeLocal[v];
        while (parent[g] != level)
            g = parent[g];
        return groupLocal[g];
    };
    std::vector<std::unordered_map<std::uint64_t, int>> seenEdge(G + 1);
    std::vector<std::unordered_map<int, int>> inPort(G + 1), outPort(G + 1);
    auto blockEdge = [&](int blk, int a, int b) {
        const std::uint64_t key =
            (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
        auto [it, inserted] =
            seenEdge[blk].try_emplace(key, static_cast<int>(blocks[blk].input.edges.size()));
        if (inserted) blocks[blk].input.edges.emplace_back(a, b);
        return it->second;
    };
    auto port = [&](int blk, Kind kind, int key) {
        auto& map = kind == Kind::InPort ? inPort[blk] : outPort[blk];
        auto [it, inserted] = map.try_emplace(key, static_cast<int>(blocks[blk].items.size()));
        if (inserted) blocks[blk].items.push_back({kind, key});
        return it->second;
    };
    // Lift every edge to the lowest group containing both ends; inside the groups between
    // that level and each end, the edge runs through a port keyed by the sibling item on the
    // other side, so every laid-out stretch belongs to a drawn edge whatever is collapsed.
    edgeInfo.assign(graph.edges.size(), {});
    legs.clear();
    for (std::size_t e = 0; e < graph.edges.size(); ++e) {
        const int u = graph.edges[e].from, v = graph.edges[e].to;
        if (u == v) continue;
        int a = nodeGroup[u], b = nodeGroup[v];
        while (depth[a] > depth[b])
            a = parent[a];
        while (depth[b] > depth[a])
            b = parent[b];
        while (a != b) {
            a = parent[a];
            b = parent[b];
        }
        const int level = a;
        const int ia = itemIn(u, level), ib = itemIn(v, level);
        EdgeInfo& info = edgeInfo[e];
        info.level = level;
        info.blockEdge = blockEdge(level, ia, ib);
        const int keyA = code(blocks[level].items[ia]), keyB = code(blocks[level].items[ib]);
        info.srcBegin = static_cast<int>(legs.size());
        for (int g = nodeGroup[u]; g != level; g = parent[g])
            legs.push_back({g, blockEdge(g, itemIn(u, g), port(g, Kind::OutPort, keyB))});
        info.srcEnd = info.dstBegin = static_cast<int>(legs.size());
        for (int g = nodeGroup[v]; g != level; g = parent[g])
            legs.push_back({g, blockEdge(g, port(g, Kind::InPort, keyA), itemIn(v, g))});
        info.dstEnd = static_cast<int>(legs.size());
    }
    for (auto& b : blocks) {
        const std::size_t n = b.items.size();
        b.input.width.assign(n, 0.0);
        b.input.height.assign(n, 0.0);
        b.input.pin.assign(n, 0);
        bool ports = false;
        for (std::size_t i = 0; i < n; ++i) {
            const Item& it = b.items[i];
            if (it.kind == Kind::Node) {
                b.input.width[i] = graph.nodes[it.id].width;
                b.input.height[i] = graph.nodes[it.id].height;
            } else if (it.kind != Kind::Group) {
                b.input.pin[i] = it.kind == Kind::InPort ? -1 : 1;
                ports = true;
            }
        }
        if (!ports) b.input.pin.clear();
    }
}

Layout::Layout(LayoutGraph graph, LayoutOptions options) : m_impl(std::make_unique<Impl>()) {
    m_impl->graph = std::move(graph);
    m_impl->options = options;
    m_impl->state = CollapseState(m_impl->graph.groups.size());
    m_impl->build();
}

Layout::~Layout() = default;
Layout::Layout(Layout&&) noexcept = default;
Layout& Layout::operator=(Layout&&) noexcept = default;

const LayoutGraph& Layout::graph() const {
    return m_impl->graph;
}
const LayoutOptions& Layout::options() const {
    return m_impl->options;
}
const CollapseState& Layout::collapseState() const {
    return m_impl->state;
}
void Layout::setCollapseState(CollapseState state) {
    m_impl->state = std::move(state);
}
void Layout::setCollapsed(GroupId group, bool collapsed) {
    m_impl->state.set(group, collapsed);
}
const Drawing& Layout::drawing() const {
    return m_impl->last;
}

Drawing Layout::run(const ProgressFn& progress) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    Impl& m = *m_impl;
    using Kind = Impl::Kind;
    Drawing d;
    if (!m.error.empty()) {
        d.error = m.error;
        return d;
    }
    const int G = m.G;
    const int N = static_cast<int>(m.graph.nodes.size());
    const auto& opt = m.options;
    using State = GroupBox::State;

    // 1. Visibility. Groups without items are drawn as their collapsed box.
    std::vector<State> st(G + 1, State::Expanded);
    std::vector<int> shownBy(G + 1, -1);
    for (int g : m.preorder) {
        if (g == G) continue;
        const int p = m.parent[g];
        if (opt.flatten || st[p] != State::Expanded)
            st[g] = State::Hidden;
        else if (m.state.isCollapsed(g) || m.blocks[g].items.empty())
            st[g] = State::Collapsed;
        shownBy[g] = st[g] == State::Collapsed          ? g
                     : st[g] == State::Hidden && p != G ? shownBy[p]
                                                        : -1;
    }

    // 2. Lay out the expanded blocks bottom-up; a block is reused when its items' sizes match.
    std::size_t totalWork = 0, doneWork = 0;
    for (int g : m.preorder)
        if (st[g] == State::Expanded) totalWork += m.blocks[g].items.size() + 1;
    auto frameSize = [&](int g, double& w, double& h) {
        if (st[g] == State::Expanded) {
            w = m.blocks[g].layout.width + 2 * opt.groupPadding;
            h = m.blocks[g].layout.height + 2 * opt.groupPadding + opt.groupHeader;
        } else {
            w = m.graph.groups[g].collapsedWidth;
            h = m.graph.groups[g].collapsedHeight;
        }
    };
    double lastReported = -1;
    for (auto it = m.preorder.rbegin(); it != m.preorder.rend(); ++it) {
        const int g = *it;
        if (st[g] != State::Expanded) continue;
        auto& b = m.blocks[g];
        bool same = b.valid;
        for (std::size_t i = 0; i < b.items.size(); ++i) {
            if (b.items[i].kind != Kind::Group) continue;
            double w, h;
            frameSize(b.items[i].id, w, h);
            if (w != b.input.width[i] || h != b.input.height[i]) same = false;
            b.input.width[i] = w;
            b.input.height[i] = h;
        }
        const std::size_t work = b.items.size() + 1;
        if (same) {
            ++d.stats.blocksReused;
        } else {
            b.valid = false;
            const double base = totalWork ? static_cast<double>(doneWork) / totalWork : 0;
            const double span = totalWork ? static_cast<double>(work) / totalWork : 1;
            detail::BlockProgress bp;
            if (progress)
                bp = [&](std::string_view stage, double f) {
                    // Thousands of small blocks would flood a GUI: pass on (and poll cancel at)
                    // every 0.5% of the work, which keeps cancel prompt on any graph.
                    const double total = base + span * f;
                    if (total < lastReported + 0.005) return true;
                    lastReported = total;
                    return progress(stage, total);
                };
            if (!detail::layoutBlock(b.input, opt, bp, b.layout)) {
                Drawing c;
                c.cancelled = true;
                c.stats.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                return c;
            }
            b.valid = true;
            ++d.stats.blocksLaidOut;
        }
        doneWork += work;
    }

    // 3. Absolute boxes, top-down.
    d.nodes.assign(N, {});
    d.groups.assign(G, {});
    std::vector<Point> origin(G + 1);
    std::vector<Rect> groupRect(G + 1);
    auto rectOf = [&](const ItemRef& r) -> const Rect& {
        return r.kind == ItemRef::Kind::Node ? d.nodes[r.id].rect : groupRect[r.id];
    };
    for (int g : m.preorder) {
        if (g != G) {
            auto& gb = d.groups[g];
            gb.state = st[g];
            gb.depth = m.depth[g];
            gb.level = m.external(m.parent[g]);
        }
        if (st[g] != State::Expanded) continue;
        const auto& b = m.blocks[g];
        const Point o = origin[g];
        if (g != G) d.groups[g].layerCount = b.layout.layers;
        for (std::size_t i = 0; i < b.items.size(); ++i) {
            const Impl::Item it = b.items[i];
            const Rect r{o.x + b.layout.x[i], o.y + b.layout.y[i], b.input.width[i],
                         b.input.height[i]};
            if (it.kind == Kind::Node) {
                auto& nb = d.nodes[it.id];
                nb.rect = r;
                nb.visible = true;
                nb.level = m.external(g);
                nb.layer = b.layout.layer[i];
            } else if (it.kind == Kind::Group) {
                groupRect[it.id] = r;
                auto& gb = d.groups[it.id];
                gb.rect = r;
                gb.layer = b.layout.layer[i];
                origin[it.id] = {r.x + opt.groupPadding, r.y + opt.groupPadding + opt.groupHeader};
            }
        }
        d.stats.crossings += b.layout.crossings;
        d.stats.dummies += b.layout.dummies;
        d.stats.reversedEdges += b.layout.reversedEdges;
    }
    for (int v = 0; v < N; ++v) {
        auto& nb = d.nodes[v];
        if (nb.visible)
            ++d.stats.visibleNodes;
        else
            nb.shownBy = m.external(shownBy[m.nodeGroup[v]]);
    }
    for (int g = 0; g < G; ++g) {
        if (st[g] == State::Hidden) continue;
        ++d.stats.visibleGroups;
        if (st[g] == State::Collapsed) ++d.stats.collapsedGroups;
    }

    // 4. Drawn edges: one per distinct pair of visible ends. The route runs through the legs of
    //    the first original edge: up through the exit ports of the expanded groups around the
    //    source, through the dummies of the level where the ends are siblings, down through
    //    the entry ports of the expanded groups around the target.
    auto visibleEnd = [&](int v) -> ItemRef {
        const int g = m.nodeGroup[v];
        if (st[g] == State::Expanded) return {ItemRef::Kind::Node, v};
        return {ItemRef::Kind::Group, shownBy[g]};
    };
    auto code = [&](const ItemRef& r) -> std::uint64_t {
        return r.kind == ItemRef::Kind::Node ? static_cast<std::uint64_t>(r.id)
                                             : static_cast<std::uint64_t>(N) + r.id;
    };
    auto itemCenter = [&](int blk, int local) -> Point { // centre of an item, or a port's point
        const auto& b = m.blocks[blk];
        const Point o = origin[blk];
        return {o.x + b.layout.x[local] + b.input.width[local] / 2,
                o.y + b.layout.y[local] + b.input.height[local] / 2};
    };
    std::unordered_map<std::uint64_t, int> drawnIndex;
    std::vector<Point> pts;
    auto addPoint = [&](Point p) {
        if (pts.empty() || !(pts.back() == p)) pts.push_back(p);
    };
    // Appends one leg (block edge `be` of block `blk`) to the route and the edge's legs.
    auto addLeg = [&](DrawnEdge& de, int blk, int be, bool portStart, bool portEnd) {
        const auto& b = m.blocks[blk];
        const auto& e = b.layout.edges[be];
        EdgeLeg leg;
        leg.level = m.external(blk);
        leg.fromLayer = e.fromLayer;
        leg.toLayer = e.toLayer;
        leg.start = itemCenter(blk, e.upper);
        leg.end = itemCenter(blk, e.lower);
        if (portStart) addPoint(leg.start);
        const Point o = origin[blk];
        for (std::size_t k = 0; k < e.dummyX.size(); ++k) {
            const int l = e.fromLayer + 1 + static_cast<int>(k);
            const double x = o.x + e.dummyX[k];
            const double top = o.y + b.layout.layerTop[l], h = b.layout.layerHeight[l];
            leg.dummies.push_back({x, top + h / 2});
            addPoint({x, top});
            addPoint({x, top + h});
        }
        if (portEnd) addPoint(leg.end);
        de.legs.push_back(std::move(leg));
    };
    for (std::size_t e = 0; e < m.graph.edges.size(); ++e) {
        const auto& info = m.edgeInfo[e];
        if (info.level < 0 || st[info.level] != State::Expanded) continue;
        const ItemRef a = visibleEnd(m.graph.edges[e].from), b = visibleEnd(m.graph.edges[e].to);
        const std::uint64_t key = code(a) * (static_cast<std::uint64_t>(N) + G + 1) + code(b);
        auto [it, inserted] = drawnIndex.try_emplace(key, static_cast<int>(d.edges.size()));
        if (!inserted) {
            d.edges[it->second].edges.push_back(static_cast<EdgeId>(e));
            continue;
        }
        const auto& blk = m.blocks[info.level];
        const auto& be = blk.layout.edges[info.blockEdge];
        DrawnEdge de;
        de.reversed = be.reversed;
        de.from = be.reversed ? b : a;
        de.to = be.reversed ? a : b;
        de.fromItem = m.ref(blk.items[be.upper]);
        de.toItem = m.ref(blk.items[be.lower]);
        de.level = m.external(info.level);
        de.fromLayer = be.fromLayer;
        de.toLayer = be.toLayer;
        de.edges.push_back(static_cast<EdgeId>(e));
        pts.clear();
        addPoint(bottomCenter(rectOf(de.from)));
        if (!be.reversed) {
            for (int k = info.srcBegin; k < info.srcEnd; ++k)
                if (st[m.legs[k].block] == State::Expanded)
                    addLeg(de, m.legs[k].block, m.legs[k].blockEdge, false, true);
            addLeg(de, info.level, info.blockEdge, false, false);
            for (int k = info.dstEnd - 1; k >= info.dstBegin; --k)
                if (st[m.legs[k].block] == State::Expanded)
                    addLeg(de, m.legs[k].block, m.legs[k].blockEdge, true, false);
        } else {
            // A broken cycle: ports face the wrong way, so go straight to the frames' centres.
            if (!(de.from == de.fromItem)) addPoint(bottomCenter(rectOf(de.fromItem)));
            addLeg(de, info.level, info.blockEdge, false, false);
            if (!(de.to == de.toItem)) addPoint(topCenter(rectOf(de.toItem)));
        }
        addPoint(topCenter(rectOf(de.to)));
        for (const EdgeLeg& leg : de.legs)
            if (leg.level == de.level && leg.fromLayer == de.fromLayer) de.dummies = leg.dummies;
        appendBezier(de.bezier, pts);
        d.edges.push_back(std::move(de));
    }
    d.stats.drawnEdges = static_cast<int>(d.edges.size());
    const auto& root = m.blocks[G].layout;
    d.width = root.width;
    d.height = root.height;
    d.stats.layers = root.layers;
    d.stats.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (progress) progress("done", 1.0);
    m.last = d;
    return d;
}

Drawing layoutGraph(const LayoutGraph& graph, const CollapseState& state,
                    const LayoutOptions& options, const ProgressFn& progress) {
    Layout l(graph, options);
    l.setCollapseState(state);
    return l.run(progress);
}

std::int64_t countCrossings(const Drawing& d) {
    // Rebuild every level's layers from the geometry: items, ports and dummies ranked by x;
    // each distinct leg is a chain of segments between consecutive layers.
    std::map<std::pair<GroupId, int>, std::vector<double>> layerX;
    for (const auto& n : d.nodes)
        if (n.visible) layerX[{n.level, n.layer}].push_back(n.rect.centerX());
    for (const auto& g : d.groups)
        if (g.state != GroupBox::State::Hidden)
            layerX[{g.level, g.layer}].push_back(g.rect.centerX());
    std::set<std::tuple<GroupId, int, double, double, std::vector<double>>> legs;
    for (const auto& e : d.edges)
        for (const auto& leg : e.legs) {
            std::vector<double> xs;
            xs.push_back(leg.start.x);
            for (const Point& p : leg.dummies)
                xs.push_back(p.x);
            xs.push_back(leg.end.x);
            legs.emplace(leg.level, leg.fromLayer, leg.start.x, leg.end.x, std::move(xs));
        }
    for (const auto& [level, fromLayer, sx, ex, xs] : legs)
        for (std::size_t k = 0; k < xs.size(); ++k)
            layerX[{level, fromLayer + static_cast<int>(k)}].push_back(xs[k]);
    for (auto& [key, xs] : layerX) {
        std::sort(xs.begin(), xs.end());
        xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    }
    // Distinct segments: legs bundled on a shared chain of dummies share their segments.
    std::set<std::tuple<GroupId, int, double, double>> segments;
    for (const auto& [level, fromLayer, sx, ex, xs] : legs)
        for (std::size_t k = 0; k + 1 < xs.size(); ++k)
            segments.emplace(level, fromLayer + static_cast<int>(k), xs[k], xs[k + 1]);
    std::map<std::pair<GroupId, int>, std::vector<std::pair<int, int>>> gaps;
    for (const auto& [level, l, x0, x1] : segments) {
        const auto& upper = layerX[{level, l}];
        const auto& lower = layerX[{level, l + 1}];
        gaps[{level, l}].emplace_back(
            static_cast<int>(std::lower_bound(upper.begin(), upper.end(), x0) - upper.begin()),
            static_cast<int>(std::lower_bound(lower.begin(), lower.end(), x1) - lower.begin()));
    }
    std::int64_t total = 0;
    for (auto& [key, segs] : gaps)
        total += detail::countLayerCrossings(
            segs, static_cast<int>(layerX[{key.first, key.second + 1}].size()));
    return total;
}

} // namespace ew::layout
