#include "layout/synthetic.h"

#include <string>

namespace ew::layout {

namespace {

/// splitmix64: tiny, seedable and identical everywhere (std distributions are not).
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int range(int lo, int hi) {
        return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    bool chance(int percent) { return range(0, 99) < percent; }

  private:
    std::uint64_t m_state;
};

class Builder {
  public:
    Builder(std::size_t n, std::uint64_t seed, bool groups)
        : m_n(n), m_rng(seed), m_groups(groups) {}

    LayoutGraph build() {
        if (m_n == 0) return {};
        m_tail = add();
        int blocksInStage = 0;
        while (m_g.nodes.size() < m_n) {
            if (m_groups && (m_stage == kRootGroup || blocksInStage >= m_stageLength)) {
                m_stage = group(kRootGroup, "stage" + std::to_string(m_stageCount++));
                m_stageLength = m_rng.range(3, 12);
                blocksInStage = 0;
                m_skips.push_back(m_tail); // U-Net style: stage outputs feed later concats
                // A side input per stage (attention mask, position ids) used by its attentions.
                m_block = m_stage;
                m_mask = m_rng.chance(50) && !full() ? add() : -1;
            }
            m_block =
                m_groups ? group(m_stage, "block" + std::to_string(blocksInStage)) : kRootGroup;
            ++blocksInStage;
            const int kind = m_rng.range(0, 99);
            if (kind < 30)
                chain(m_rng.range(2, 6));
            else if (kind < 55)
                residual();
            else if (kind < 70)
                inception();
            else if (kind < 85)
                attention();
            else if (kind < 90)
                constantFeed();
            else if (kind < 95)
                shapeSubgraph();
            else
                longSkip();
        }
        // Cut to exactly n nodes: drop the tail of the last block.
        m_g.nodes.resize(m_n);
        std::erase_if(m_g.edges, [&](const LayoutEdge& e) {
            return e.from >= static_cast<NodeId>(m_n) || e.to >= static_cast<NodeId>(m_n);
        });
        // Drop groups that ended up empty (the last block may have been cut away).
        std::vector<int> members(m_g.groups.size(), 0);
        for (const auto& nd : m_g.nodes)
            for (GroupId g = nd.group; g != kRootGroup; g = m_g.groups[g].parent)
                ++members[g];
        std::vector<GroupId> remap(m_g.groups.size(), kRootGroup);
        std::vector<LayoutGroup> kept;
        for (std::size_t g = 0; g < m_g.groups.size(); ++g) {
            if (members[g] == 0) continue;
            remap[g] = static_cast<GroupId>(kept.size());
            LayoutGroup lg = m_g.groups[g];
            if (lg.parent != kRootGroup) lg.parent = remap[lg.parent];
            kept.push_back(std::move(lg));
        }
        for (auto& nd : m_g.nodes)
            if (nd.group != kRootGroup) nd.group = remap[nd.group];
        m_g.groups = std::move(kept);
        return std::move(m_g);
    }

  private:
    NodeId add() {
        LayoutNode n;
        n.width = 8.0 * m_rng.range(6, 18) + 16; // op names and short tensor names
        n.height = 28;
        n.group = m_block;
        m_g.nodes.push_back(n);
        return static_cast<NodeId>(m_g.nodes.size() - 1);
    }
    NodeId op(NodeId in) {
        const NodeId v = add();
        link(in, v);
        return v;
    }
    void link(NodeId a, NodeId b) { m_g.edges.push_back({a, b}); }
    GroupId group(GroupId parent, std::string label) {
        LayoutGroup g;
        g.parent = parent;
        g.collapsedWidth = 8.0 * static_cast<double>(label.size()) + 40;
        g.collapsedHeight = 36;
        g.label = std::move(label);
        m_g.groups.push_back(std::move(g));
        return static_cast<GroupId>(m_g.groups.size() - 1);
    }
    bool full() const { return m_g.nodes.size() >= m_n; }

    void chain(int len) {
        for (int i = 0; i < len && !full(); ++i)
            m_tail = op(m_tail);
    }
    void residual() { // x -> conv -> bn -> relu -> conv -> add(x)
        const NodeId x = m_tail;
        NodeId y = x;
        const int len = m_rng.range(2, 5);
        for (int i = 0; i < len && !full(); ++i)
            y = op(y);
        NodeId skip = x;
        if (m_rng.chance(25) && !full()) skip = op(x); // projection shortcut
        if (full()) return;
        m_tail = add();
        link(y, m_tail);
        link(skip, m_tail);
    }
    void inception() { // 2-4 branches of 1-3 ops into a Concat
        const NodeId x = m_tail;
        const int branches = m_rng.range(2, 4);
        std::vector<NodeId> ends;
        for (int b = 0; b < branches && !full(); ++b) {
            NodeId y = x;
            const int len = m_rng.range(1, 3);
            for (int i = 0; i < len && !full(); ++i)
                y = op(y);
            ends.push_back(y);
        }
        if (full()) return;
        // Concat has in-degree <= 3 like most real merges; a 4th branch goes through an Add.
        if (ends.size() == 4) {
            const NodeId a = add();
            link(ends[2], a);
            link(ends[3], a);
            ends.resize(2);
            ends.push_back(a);
        }
        m_tail = add();
        for (NodeId e : ends)
            link(e, m_tail);
    }
    void attention() {
        const NodeId x = m_tail;
        if (full()) return;
        const NodeId ln = op(x);
        if (full()) return;
        const NodeId q = op(ln);
        if (full()) return;
        const NodeId k = op(ln);
        if (full()) return;
        const NodeId v = op(ln);
        if (full()) return;
        const NodeId qk = add();
        link(q, qk);
        link(k, qk);
        if (full()) return;
        const NodeId sm = op(qk);
        // Transformers feed one attention mask to every layer: a long edge from near the top.
        if (m_mask >= 0 && m_rng.chance(50)) link(m_mask, sm);
        if (full()) return;
        const NodeId av = add();
        link(sm, av);
        link(v, av);
        if (full()) return;
        const NodeId proj = op(av);
        if (full()) return;
        const NodeId res = add();
        link(x, res);
        link(proj, res);
        m_tail = res;
        if (m_rng.chance(70)) { // MLP with its own residual
            NodeId y = res;
            for (int i = 0; i < 4 && !full(); ++i)
                y = op(y);
            if (full()) return;
            m_tail = add();
            link(res, m_tail);
            link(y, m_tail);
        }
    }
    void constantFeed() { // a weight/constant or shape source into an op on the stream
        if (full()) return;
        const NodeId c = add();
        if (full()) return;
        const NodeId y = add();
        link(m_tail, y);
        link(c, y);
        m_tail = y;
    }
    void shapeSubgraph() { // Shape -> Gather -> Unsqueeze -> Concat(const) -> Reshape(x, shape)
        const NodeId x = m_tail;
        NodeId y = x;
        for (int i = 0; i < 3 && !full(); ++i)
            y = op(y);
        if (full()) return;
        const NodeId c = add();
        if (full()) return;
        const NodeId cat = add();
        link(y, cat);
        link(c, cat);
        if (full()) return;
        m_tail = add();
        link(x, m_tail);
        link(cat, m_tail);
    }
    void longSkip() { // decoder concat with an earlier stage's output
        if (m_skips.size() < 2 || full()) {
            chain(2);
            return;
        }
        const NodeId from =
            m_skips[m_skips.size() - 1 -
                    static_cast<std::size_t>(m_rng.range(
                        1, static_cast<int>(std::min<std::size_t>(m_skips.size() - 1, 4))))];
        const NodeId y = add();
        link(m_tail, y);
        link(from, y);
        m_tail = y;
    }

    std::size_t m_n;
    Rng m_rng;
    bool m_groups;
    LayoutGraph m_g;
    NodeId m_tail = 0;
    NodeId m_mask = -1;
    GroupId m_stage = kRootGroup;
    GroupId m_block = kRootGroup;
    int m_stageLength = 0;
    int m_stageCount = 0;
    std::vector<NodeId> m_skips;
};

} // namespace

LayoutGraph syntheticGraph(std::size_t nodeCount, std::uint64_t seed, bool withGroups) {
    return Builder(nodeCount, seed, withGroups).build();
}

} // namespace ew::layout
