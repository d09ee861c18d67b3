#include "layout/layered.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

namespace ew::layout::detail {

namespace {

/// Compressed adjacency: the entries of node v are adj[start[v] .. start[v + 1]).
struct Csr {
    std::vector<int> start;
    std::vector<int> adj;

    // pairs: (owner, payload), kept in input order per owner.
    void build(int n, const std::vector<std::pair<int, int>>& pairs) {
        start.assign(n + 1, 0);
        for (const auto& p : pairs)
            ++start[p.first + 1];
        for (int i = 0; i < n; ++i)
            start[i + 1] += start[i];
        adj.resize(pairs.size());
        std::vector<int> fill(start.begin(), start.end() - 1);
        for (const auto& p : pairs)
            adj[fill[p.first]++] = p.second;
    }
    int begin(int v) const { return start[v]; }
    int end(int v) const { return start[v + 1]; }
    int degree(int v) const { return start[v + 1] - start[v]; }
};

struct Fenwick {
    std::vector<int> t;
    void reset(int n) { t.assign(n + 1, 0); }
    void add(int i) {
        for (++i; i < static_cast<int>(t.size()); i += i & -i)
            ++t[i];
    }
    int prefix(int i) const { // count of inserted positions <= i
        int s = 0;
        for (++i; i > 0; i -= i & -i)
            s += t[i];
        return s;
    }
};

/// The proper layered graph: real items then dummies, segments between consecutive layers.
struct Proper {
    int real = 0;
    int total = 0;
    int layers = 0;
    std::vector<int> layer;
    std::vector<double> width;
    std::vector<char> dummy;
    std::vector<char> slim;               ///< dummies and ports: spaced like edges, not like boxes
    std::vector<std::pair<int, int>> seg; ///< (upper node, lower node)
    Csr up;                               ///< per node: segments whose lower end it is
    Csr down;                             ///< per node: segments whose upper end it is
    // Order: layer l holds order[layerStart[l] .. layerStart[l + 1]); pos = index in its layer.
    std::vector<int> layerStart;
    std::vector<int> order;
    std::vector<int> pos;
};

class Engine {
  public:
    Engine(const BlockInput& in, const LayoutOptions& opt, const BlockProgress& progress)
        : m_in(in), m_opt(opt), m_progress(progress) {}

    bool run(BlockLayout& out);

  private:
    bool report(std::string_view stage, double f) { return !m_progress || m_progress(stage, f); }
    void breakCycles();
    void assignLayers();
    void buildProper();
    void initialOrder();
    void sweepLayer(int l, bool useUpper, bool median);
    void sweep(bool down, bool median);
    std::int64_t crossings();
    std::int64_t crossingsBetween(int l);
    void transposeAll(bool sideways);
    bool transposeLayer(int l, bool sideways);
    void shuffledOrder(std::uint64_t seed);
    std::int64_t improve(std::vector<int>& best, std::int64_t bestCount, int iterations);
    void saveOrder(std::vector<int>& dst) const { dst = m_p.order; }
    void restoreOrder(const std::vector<int>& src);
    bool reduceCrossings();
    void assignX(std::vector<double>& xCenter);
    void markConflicts(std::vector<char>& conflict);
    void alignAndCompact(bool downward, bool leftToRight, const std::vector<char>& conflict,
                         std::vector<double>& xs);

    const BlockInput& m_in;
    const LayoutOptions& m_opt;
    const BlockProgress& m_progress;
    int m_n = 0;
    std::vector<char> m_reversed;
    std::vector<std::pair<int, int>> m_eff; ///< edges oriented downwards
    std::vector<int> m_layer;
    std::vector<int> m_firstDummy; ///< per edge: id of its first dummy (or -1)
    Proper m_p;
    std::int64_t m_transposeBudget = 0;
};

void Engine::breakCycles() {
    const int m = static_cast<int>(m_in.edges.size());
    m_reversed.assign(m, 0);
    std::vector<std::pair<int, int>> outPairs;
    outPairs.reserve(m);
    std::vector<int> indeg(m_n, 0);
    for (int e = 0; e < m; ++e) {
        outPairs.emplace_back(m_in.edges[e].first, e);
        ++indeg[m_in.edges[e].second];
    }
    Csr out;
    out.build(m_n, outPairs);
    std::vector<char> state(m_n, 0); // 0 new, 1 on stack, 2 done
    std::vector<std::pair<int, int>> stack;
    auto dfs = [&](int s) {
        state[s] = 1;
        stack.emplace_back(s, out.begin(s));
        while (!stack.empty()) {
            auto& [v, it] = stack.back();
            if (it < out.end(v)) {
                const int e = out.adj[it++];
                const int w = m_in.edges[e].second;
                if (state[w] == 1)
                    m_reversed[e] = 1;
                else if (state[w] == 0) {
                    state[w] = 1;
                    stack.emplace_back(w, out.begin(w));
                }
            } else {
                state[v] = 2;
                stack.pop_back();
            }
        }
    };
    // Sources first so that on cyclic inputs the natural top of the drawing stays on top.
    for (int v = 0; v < m_n; ++v)
        if (indeg[v] == 0 && state[v] == 0) dfs(v);
    for (int v = 0; v < m_n; ++v)
        if (state[v] == 0) dfs(v);
    m_eff.resize(m);
    for (int e = 0; e < m; ++e) {
        auto [a, b] = m_in.edges[e];
        m_eff[e] = m_reversed[e] ? std::pair{b, a} : std::pair{a, b};
    }
}

void Engine::assignLayers() {
    const int m = static_cast<int>(m_eff.size());
    std::vector<std::pair<int, int>> sp, pp;
    sp.reserve(m);
    pp.reserve(m);
    for (const auto& [a, b] : m_eff) {
        sp.emplace_back(a, b);
        pp.emplace_back(b, a);
    }
    Csr succ, pred;
    succ.build(m_n, sp);
    pred.build(m_n, pp);
    // Longest path from the sources (Kahn, FIFO, index order: deterministic).
    std::vector<int> indeg(m_n);
    for (int v = 0; v < m_n; ++v)
        indeg[v] = pred.degree(v);
    std::vector<int> topo;
    topo.reserve(m_n);
    for (int v = 0; v < m_n; ++v)
        if (indeg[v] == 0) topo.push_back(v);
    m_layer.assign(m_n, 0);
    for (std::size_t h = 0; h < topo.size(); ++h) {
        const int v = topo[h];
        for (int i = succ.begin(v); i < succ.end(v); ++i) {
            const int w = succ.adj[i];
            m_layer[w] = std::max(m_layer[w], m_layer[v] + 1);
            if (--indeg[w] == 0) topo.push_back(w);
        }
    }
    // Balancing instead of network simplex (too slow at 50k nodes): in reverse topological order
    // move each node within its feasible range [max pred + 1, min succ - 1] to the end that
    // shortens its edges: down when it has more outputs than inputs (constants, graph inputs,
    // fan-out points sit right above their consumers), up (already there) otherwise.
    // Successors are final when a node is visited, so one pass reaches a local optimum of the
    // total edge length under single-node moves.
    auto pinOf = [&](int v) { return m_in.pin.empty() ? 0 : m_in.pin[v]; };
    for (int h = m_n - 1; h >= 0; --h) {
        const int v = topo[h];
        const int np = pred.degree(v), ns = succ.degree(v);
        if (ns == 0 || ns <= np || pinOf(v) != 0) continue;
        int hi = std::numeric_limits<int>::max();
        for (int i = succ.begin(v); i < succ.end(v); ++i)
            hi = std::min(hi, m_layer[succ.adj[i]] - 1);
        if (hi > m_layer[v]) m_layer[v] = hi;
    }
    int minLayer = m_n ? *std::min_element(m_layer.begin(), m_layer.end()) : 0;
    if (minLayer > 0)
        for (int& l : m_layer)
            l -= minLayer;
    // Exit ports get a row of their own under everything else (they are sinks, so it is legal).
    if (!m_in.pin.empty()) {
        int maxFree = -1;
        bool anyBottom = false;
        for (int v = 0; v < m_n; ++v) {
            if (pinOf(v) > 0)
                anyBottom = true;
            else
                maxFree = std::max(maxFree, m_layer[v]);
        }
        if (anyBottom)
            for (int v = 0; v < m_n; ++v)
                if (pinOf(v) > 0) m_layer[v] = maxFree + 1;
    }
}

void Engine::buildProper() {
    // Long edges become chains of dummies, one per layer crossed. Long edges that share their
    // source share one chain (a bus that each edge leaves above its target); long edges that
    // share their target likewise. Without this, a hub feeding many distant nodes (a mask, an
    // input read by every block) costs the sum of the spans in dummies, quadratic in the worst
    // case; with it, the longest span.
    Proper& p = m_p;
    p.real = m_n;
    p.layers = m_n ? *std::max_element(m_layer.begin(), m_layer.end()) + 1 : 0;
    const int m = static_cast<int>(m_eff.size());
    auto spanOf = [&](int e) { return m_layer[m_eff[e].second] - m_layer[m_eff[e].first]; };
    std::vector<int> longOut(m_n, 0), longIn(m_n, 0), srcMax(m_n, -1),
        dstMin(m_n, std::numeric_limits<int>::max());
    for (int e = 0; e < m; ++e)
        if (spanOf(e) > 1) ++longOut[m_eff[e].first];
    for (int e = 0; e < m; ++e) {
        if (spanOf(e) <= 1) continue;
        const auto [a, b] = m_eff[e];
        if (longOut[a] >= 2)
            srcMax[a] = std::max(srcMax[a], m_layer[b]);
        else
            ++longIn[b];
    }
    for (int e = 0; e < m; ++e) {
        const auto [a, b] = m_eff[e];
        if (spanOf(e) > 1 && longOut[a] < 2 && longIn[b] >= 2)
            dstMin[b] = std::min(dstMin[b], m_layer[a]);
    }
    std::int64_t dummies = 0;
    for (int v = 0; v < m_n; ++v) {
        if (srcMax[v] >= 0) dummies += srcMax[v] - m_layer[v] - 1;
        if (longIn[v] >= 2) dummies += m_layer[v] - dstMin[v] - 1;
    }
    for (int e = 0; e < m; ++e)
        if (spanOf(e) > 1 && longOut[m_eff[e].first] < 2 && longIn[m_eff[e].second] < 2)
            dummies += spanOf(e) - 1;
    p.total = m_n + static_cast<int>(dummies);
    p.layer.resize(p.total);
    p.width.assign(p.total, 0.0);
    p.dummy.assign(p.total, 0);
    p.slim.assign(p.total, 1);
    for (int v = 0; v < m_n; ++v) {
        p.layer[v] = m_layer[v];
        p.width[v] = m_in.width[v];
        p.slim[v] = !m_in.pin.empty() && m_in.pin[v] != 0;
    }
    p.seg.clear();
    p.seg.reserve(m_eff.size() + dummies);
    int next = m_n;
    // A chain of dummies on layers [from, to], linked top to bottom; returns its first id.
    auto chain = [&](int from, int to) {
        const int first = next;
        for (int l = from; l <= to; ++l) {
            const int d = next++;
            p.layer[d] = l;
            p.dummy[d] = 1;
            if (l > from) p.seg.emplace_back(d - 1, d);
        }
        return first;
    };
    std::vector<int> srcChain(m_n, -1), dstChain(m_n, -1);
    for (int v = 0; v < m_n; ++v) {
        if (srcMax[v] >= 0) {
            srcChain[v] = chain(m_layer[v] + 1, srcMax[v] - 1);
            p.seg.emplace_back(v, srcChain[v]);
        }
        if (longIn[v] >= 2) {
            dstChain[v] = chain(dstMin[v] + 1, m_layer[v] - 1);
            p.seg.emplace_back(next - 1, v);
        }
    }
    m_firstDummy.assign(m, -1);
    for (int e = 0; e < m; ++e) {
        const auto [a, b] = m_eff[e];
        const int span = spanOf(e);
        if (span <= 1) {
            p.seg.emplace_back(a, b);
        } else if (srcChain[a] >= 0) {
            m_firstDummy[e] = srcChain[a];
            p.seg.emplace_back(srcChain[a] + span - 2, b);
        } else if (dstChain[b] >= 0) {
            m_firstDummy[e] = dstChain[b] + (m_layer[a] - dstMin[b]);
            p.seg.emplace_back(a, m_firstDummy[e]);
        } else {
            m_firstDummy[e] = chain(m_layer[a] + 1, m_layer[b] - 1);
            p.seg.emplace_back(a, m_firstDummy[e]);
            p.seg.emplace_back(next - 1, b);
        }
    }
    std::vector<std::pair<int, int>> ups, downs;
    ups.reserve(p.seg.size());
    downs.reserve(p.seg.size());
    for (int s = 0; s < static_cast<int>(p.seg.size()); ++s) {
        ups.emplace_back(p.seg[s].second, s);
        downs.emplace_back(p.seg[s].first, s);
    }
    p.up.build(p.total, ups);
    p.down.build(p.total, downs);
}

void Engine::initialOrder() {
    // Depth-first from the topmost nodes (Gansner et al.): connected nodes start out close.
    Proper& p = m_p;
    std::vector<int> count(p.layers + 1, 0);
    for (int v = 0; v < p.total; ++v)
        ++count[p.layer[v] + 1];
    p.layerStart.assign(p.layers + 1, 0);
    for (int l = 0; l < p.layers; ++l)
        p.layerStart[l + 1] = p.layerStart[l] + count[l + 1];
    std::vector<int> fill(p.layerStart.begin(), p.layerStart.end() - 1);
    p.order.assign(p.total, -1);
    p.pos.assign(p.total, 0);
    // Seeds: real nodes by (layer, index).
    std::vector<int> seeds(m_n);
    std::iota(seeds.begin(), seeds.end(), 0);
    std::stable_sort(seeds.begin(), seeds.end(),
                     [&](int a, int b) { return p.layer[a] < p.layer[b]; });
    std::vector<char> seen(p.total, 0);
    std::vector<std::pair<int, int>> stack;
    auto place = [&](int v) {
        seen[v] = 1;
        const int l = p.layer[v];
        p.pos[v] = fill[l] - p.layerStart[l];
        p.order[fill[l]++] = v;
    };
    for (int s : seeds) {
        if (seen[s]) continue;
        place(s);
        stack.emplace_back(s, p.down.begin(s));
        while (!stack.empty()) {
            auto& [v, it] = stack.back();
            if (it < p.down.end(v)) {
                const int w = p.seg[p.down.adj[it++]].second;
                if (!seen[w]) {
                    place(w);
                    stack.emplace_back(w, p.down.begin(w));
                }
            } else {
                stack.pop_back();
            }
        }
    }
}

void Engine::restoreOrder(const std::vector<int>& src) {
    m_p.order = src;
    for (int l = 0; l < m_p.layers; ++l)
        for (int i = m_p.layerStart[l]; i < m_p.layerStart[l + 1]; ++i)
            m_p.pos[m_p.order[i]] = i - m_p.layerStart[l];
}

void Engine::sweepLayer(int l, bool useUpper, bool median) {
    Proper& p = m_p;
    const int b = p.layerStart[l], e = p.layerStart[l + 1];
    const Csr& nb = useUpper ? p.up : p.down;
    struct Key {
        double key;
        int pos;
        int v;
    };
    static thread_local std::vector<Key> movable;
    static thread_local std::vector<int> positions;
    static thread_local std::vector<int> slots;
    movable.clear();
    slots.clear();
    for (int i = b; i < e; ++i) {
        const int v = p.order[i];
        const int d = nb.degree(v);
        if (d == 0) continue; // keeps its slot
        positions.clear();
        for (int k = nb.begin(v); k < nb.end(v); ++k) {
            const auto& s = p.seg[nb.adj[k]];
            positions.push_back(p.pos[useUpper ? s.first : s.second]);
        }
        double key;
        if (!median) {
            double sum = 0;
            for (int x : positions)
                sum += x;
            key = sum / d;
        } else {
            std::sort(positions.begin(), positions.end());
            const int m = d / 2;
            if (d % 2 == 1)
                key = positions[m];
            else if (d == 2)
                key = (positions[0] + positions[1]) / 2.0;
            else {
                // Gansner's weighted median: lean towards the side where neighbours are denser.
                const double left = positions[m - 1] - positions[0];
                const double right = positions[d - 1] - positions[m];
                key = left + right == 0
                          ? (positions[m - 1] + positions[m]) / 2.0
                          : (positions[m - 1] * right + positions[m] * left) / (left + right);
            }
        }
        movable.push_back({key, i - b, v});
        slots.push_back(i);
    }
    std::sort(movable.begin(), movable.end(), [](const Key& x, const Key& y) {
        return x.key != y.key ? x.key < y.key : x.pos < y.pos;
    });
    for (std::size_t k = 0; k < movable.size(); ++k) {
        p.order[slots[k]] = movable[k].v;
        p.pos[movable[k].v] = slots[k] - b;
    }
}

void Engine::sweep(bool down, bool median) {
    if (down)
        for (int l = 1; l < m_p.layers; ++l)
            sweepLayer(l, true, median);
    else
        for (int l = m_p.layers - 2; l >= 0; --l)
            sweepLayer(l, false, median);
}

std::int64_t Engine::crossingsBetween(int l) {
    Proper& p = m_p;
    static thread_local std::vector<std::pair<int, int>> segs;
    segs.clear();
    for (int i = p.layerStart[l]; i < p.layerStart[l + 1]; ++i) {
        const int v = p.order[i];
        for (int k = p.down.begin(v); k < p.down.end(v); ++k)
            segs.emplace_back(p.pos[v], p.pos[p.seg[p.down.adj[k]].second]);
    }
    return countLayerCrossings(segs, p.layerStart[l + 2] - p.layerStart[l + 1]);
}

std::int64_t Engine::crossings() {
    std::int64_t c = 0;
    for (int l = 0; l + 1 < m_p.layers; ++l)
        c += crossingsBetween(l);
    return c;
}

bool Engine::transposeLayer(int l, bool sideways) {
    Proper& p = m_p;
    const int b = p.layerStart[l], e = p.layerStart[l + 1];
    if (e - b < 2) return false;
    // Neighbour positions in the two fixed adjacent layers, sorted, per node of this layer.
    static thread_local std::vector<int> upOff, upPos, downOff, downPos;
    const int size = e - b;
    upOff.assign(size + 1, 0);
    downOff.assign(size + 1, 0);
    upPos.clear();
    downPos.clear();
    for (int i = 0; i < size; ++i) {
        const int v = p.order[b + i];
        for (int k = p.up.begin(v); k < p.up.end(v); ++k)
            upPos.push_back(p.pos[p.seg[p.up.adj[k]].first]);
        std::sort(upPos.begin() + upOff[i], upPos.end());
        upOff[i + 1] = static_cast<int>(upPos.size());
        for (int k = p.down.begin(v); k < p.down.end(v); ++k)
            downPos.push_back(p.pos[p.seg[p.down.adj[k]].second]);
        std::sort(downPos.begin() + downOff[i], downPos.end());
        downOff[i + 1] = static_cast<int>(downPos.size());
        m_transposeBudget -= p.up.degree(v) + p.down.degree(v) + 1;
    }
    // Local index of each node of this layer -> its neighbour lists (nodes move, lists do not).
    static thread_local std::vector<int> slot; // slot[i] = original local index of order[b+i]
    slot.resize(size);
    std::iota(slot.begin(), slot.end(), 0);
    // c(a before b) and c(b before a) by merging two sorted lists.
    auto pairCross = [](const int* a, int na, const int* bb, int nb, std::int64_t& ab,
                        std::int64_t& ba) {
        int i = 0, j = 0;
        while (i < na && j < nb) {
            if (a[i] < bb[j]) {
                ba += nb - j; // every later b[j..] is right of a[i]: crosses when b goes first
                ++i;
            } else if (a[i] > bb[j]) {
                ab += na - i;
                ++j;
            } else {
                // Equal positions never cross each other; skip the run on both sides.
                const int x = a[i];
                int ci = 0, cj = 0;
                while (i + ci < na && a[i + ci] == x)
                    ++ci;
                while (j + cj < nb && bb[j + cj] == x)
                    ++cj;
                ba += static_cast<std::int64_t>(ci) * (nb - j - cj);
                ab += static_cast<std::int64_t>(cj) * (na - i - ci);
                i += ci;
                j += cj;
            }
        }
    };
    bool any = false;
    bool improved = true;
    for (int pass = 0; improved && pass < 8 && m_transposeBudget > 0; ++pass) {
        improved = false;
        for (int i = 0; i + 1 < size; ++i) {
            const int sv = slot[i], sw = slot[i + 1];
            std::int64_t vw = 0, wv = 0;
            pairCross(upPos.data() + upOff[sv], upOff[sv + 1] - upOff[sv], upPos.data() + upOff[sw],
                      upOff[sw + 1] - upOff[sw], vw, wv);
            pairCross(downPos.data() + downOff[sv], downOff[sv + 1] - downOff[sv],
                      downPos.data() + downOff[sw], downOff[sw + 1] - downOff[sw], vw, wv);
            m_transposeBudget -= (upOff[sv + 1] - upOff[sv]) + (upOff[sw + 1] - upOff[sw]) +
                                 (downOff[sv + 1] - downOff[sv]) + (downOff[sw + 1] - downOff[sw]) +
                                 1;
            // Sideways (equal cost) swaps, on alternate iterations, walk off plateaus (dot does
            // the same); strict improvements only otherwise.
            if (wv < vw || (sideways && wv == vw && vw > 0)) {
                std::swap(slot[i], slot[i + 1]);
                std::swap(p.order[b + i], p.order[b + i + 1]);
                p.pos[p.order[b + i]] = i;
                p.pos[p.order[b + i + 1]] = i + 1;
                any = true;
                if (wv < vw) improved = true;
            }
        }
    }
    return any;
}

void Engine::transposeAll(bool sideways) {
    for (int l = 0; l < m_p.layers && m_transposeBudget > 0; ++l)
        transposeLayer(l, sideways);
}

void Engine::shuffledOrder(std::uint64_t seed) {
    // A deterministic shuffle of every layer (splitmix64), as a restart point for small blocks.
    std::uint64_t st = seed;
    auto next = [&] {
        std::uint64_t z = (st += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    for (int l = 0; l < m_p.layers; ++l) {
        const int b = m_p.layerStart[l], e = m_p.layerStart[l + 1];
        for (int i = e - 1; i > b; --i)
            std::swap(m_p.order[i], m_p.order[b + static_cast<int>(next() % (i - b + 1))]);
        for (int i = b; i < e; ++i)
            m_p.pos[m_p.order[i]] = i - b;
    }
}

std::int64_t Engine::improve(std::vector<int>& best, std::int64_t bestCount, int iterations) {
    // Alternating median / barycenter sweeps, each followed by transposition (on a work budget
    // proportional to the graph); back to the best order after a stall.
    int stall = 0;
    for (int it = 0; it < iterations && bestCount > 0 && stall < 4; ++it) {
        sweep(it % 2 == 0, it % 4 < 2);
        if (m_transposeBudget > 0) transposeAll(it % 2 == 1);
        const std::int64_t c = crossings();
        if (c < bestCount) {
            bestCount = c;
            saveOrder(best);
            stall = 0;
        } else if (++stall == 2) {
            restoreOrder(best);
        }
    }
    restoreOrder(best);
    if (m_transposeBudget > 0 && bestCount > 0) {
        transposeAll(false);
        const std::int64_t c = crossings();
        if (c < bestCount) {
            bestCount = c;
            saveOrder(best);
        }
        restoreOrder(best);
    }
    return bestCount;
}

bool Engine::reduceCrossings() {
    const int total = m_p.total;
    const int iterations = m_opt.sweeps > 0 ? m_opt.sweeps
                           : total <= 5000  ? 24
                           : total <= 60000 ? 12
                                            : 6;
    std::vector<int> best;
    saveOrder(best);
    std::int64_t bestCount = crossings();
    auto consider = [&] {
        const std::int64_t c = crossings();
        if (c < bestCount) {
            bestCount = c;
            saveOrder(best);
        }
    };
    // The baseline: four down/up pairs of barycenter sweeps from the DFS order, best kept.
    constexpr int kBaselinePairs = 4;
    for (int it = 0; it < kBaselinePairs && bestCount > 0; ++it) {
        if (!report("ordering", 0.2 + 0.1 * it / kBaselinePairs)) return false;
        sweep(true, false);
        consider();
        sweep(false, false);
        consider();
    }
    restoreOrder(best);
    if (m_opt.ordering == Ordering::Barycenter) return true;
    m_transposeBudget =
        64 * (static_cast<std::int64_t>(total) + static_cast<std::int64_t>(m_p.seg.size()));
    if (!report("ordering", 0.3)) return false;
    bestCount = improve(best, bestCount, iterations);
    // Small blocks (most blocks of a grouped model) get a few restarts from shuffled orders:
    // cheap there, and they escape local minima that sweeps and swaps cannot leave.
    const int restarts = total <= 400 ? 8 : total <= 3000 ? 3 : 0;
    for (int r = 0; r < restarts && bestCount > 0; ++r) {
        if (!report("ordering", 0.3 + 0.5 * (r + 1) / (restarts + 1))) return false;
        std::vector<int> keep = best;
        shuffledOrder(0x5EED0000ull + static_cast<std::uint64_t>(r));
        std::vector<int> local;
        saveOrder(local);
        std::int64_t localCount = crossings();
        for (int k = 0; k < 2; ++k) { // a few plain sweeps first to get out of the random mess
            sweep(true, false);
            sweep(false, false);
        }
        const std::int64_t c0 = crossings();
        if (c0 < localCount) {
            localCount = c0;
            saveOrder(local);
        }
        m_transposeBudget = std::max<std::int64_t>(
            m_transposeBudget, 16 * (total + static_cast<std::int64_t>(m_p.seg.size())));
        localCount = improve(local, localCount, iterations);
        if (localCount < bestCount) {
            bestCount = localCount;
            best = local;
        } else {
            best = keep;
        }
    }
    restoreOrder(best);
    return true;
}

// Brandes & Koepf, "Fast and Simple Horizontal Coordinate Assignment" (2001), with the block
// compaction of dagre (longest path on the block graph, then pulling blocks right where free).

void Engine::markConflicts(std::vector<char>& conflict) {
    // Type 1 conflicts: a non-inner segment crossing an inner (dummy-dummy) segment; alignment
    // avoids them so long edges stay straight.
    Proper& p = m_p;
    conflict.assign(p.seg.size(), 0);
    for (int l = 1; l < p.layers; ++l) {
        const int b = p.layerStart[l], e = p.layerStart[l + 1];
        const int prevSize = p.layerStart[l] - p.layerStart[l - 1];
        int k0 = 0, scan = b;
        for (int i = b; i < e; ++i) {
            const int v = p.order[i];
            int w = -1;
            if (p.dummy[v])
                for (int k = p.up.begin(v); k < p.up.end(v); ++k)
                    if (p.dummy[p.seg[p.up.adj[k]].first]) w = p.seg[p.up.adj[k]].first;
            const int k1 = w >= 0 ? p.pos[w] : prevSize;
            if (w >= 0 || i == e - 1) {
                for (int s = scan; s <= i; ++s) {
                    const int sv = p.order[s];
                    for (int k = p.up.begin(sv); k < p.up.end(sv); ++k) {
                        const int u = p.seg[p.up.adj[k]].first;
                        const int up = p.pos[u];
                        if ((up < k0 || k1 < up) && !(p.dummy[u] && p.dummy[sv]))
                            conflict[p.up.adj[k]] = 1;
                    }
                }
                scan = i + 1;
                k0 = k1;
            }
        }
    }
}

void Engine::alignAndCompact(bool downward, bool leftToRight, const std::vector<char>& conflict,
                             std::vector<double>& xs) {
    Proper& p = m_p;
    const int n = p.total;
    std::vector<int> root(n), align(n);
    std::iota(root.begin(), root.end(), 0);
    std::iota(align.begin(), align.end(), 0);
    auto layerSize = [&](int l) { return p.layerStart[l + 1] - p.layerStart[l]; };
    auto hpos = [&](int v) {
        return leftToRight ? p.pos[v] : layerSize(p.layer[v]) - 1 - p.pos[v];
    };
    auto at = [&](int l, int i) { // i-th node of layer l in this direction's horizontal order
        return leftToRight ? p.order[p.layerStart[l] + i] : p.order[p.layerStart[l + 1] - 1 - i];
    };
    const Csr& nb = downward ? p.up : p.down;
    const Csr& far = downward ? p.down : p.up;
    auto pendant = [&](int w) { return nb.degree(w) == 0 && far.degree(w) == 1; };
    std::vector<std::pair<int, int>> ws; // (hpos, segment)
    for (int step = 1; step < p.layers; ++step) {
        const int l = downward ? step : p.layers - 1 - step;
        int r = -1;
        for (int i = 0; i < layerSize(l); ++i) {
            const int v = at(l, i);
            const int d = nb.degree(v);
            if (d == 0) continue;
            // Pendant neighbours (a Constant feeding only v, a side output read by nobody)
            // must not steer the chain through v: align with the others when there are any.
            ws.clear();
            for (int k = nb.begin(v); k < nb.end(v); ++k) {
                const int s = nb.adj[k];
                const int w = downward ? p.seg[s].first : p.seg[s].second;
                if (!pendant(w)) ws.emplace_back(hpos(w), s);
            }
            if (ws.empty())
                for (int k = nb.begin(v); k < nb.end(v); ++k) {
                    const int s = nb.adj[k];
                    ws.emplace_back(hpos(downward ? p.seg[s].first : p.seg[s].second), s);
                }
            std::sort(ws.begin(), ws.end());
            const int d2 = static_cast<int>(ws.size());
            const int lo = (d2 - 1) / 2, hi = d2 / 2;
            for (int m = lo; m <= hi; ++m) {
                const auto [wp, s] = ws[m];
                const int w = downward ? p.seg[s].first : p.seg[s].second;
                if (align[v] == v && r < wp && !conflict[s]) {
                    align[w] = v;
                    root[v] = root[w];
                    align[v] = root[v];
                    r = wp;
                }
            }
        }
    }
    // Block graph: consecutive nodes of a layer give root(left) -> root(right), weight = spacing.
    auto gap = [&](int a, int b) {
        const bool da = p.slim[a], db = p.slim[b];
        const double g = da && db   ? m_opt.edgeSeparation
                         : da || db ? (m_opt.edgeSeparation + m_opt.nodeSeparation) / 2
                                    : m_opt.nodeSeparation;
        return (p.width[a] + p.width[b]) / 2 + g;
    };
    std::vector<std::pair<int, int>> bp;    // (from root, edge index)
    std::vector<std::pair<int, double>> be; // (to root, weight)
    for (int l = 0; l < p.layers; ++l)
        for (int i = 0; i + 1 < layerSize(l); ++i) {
            const int a = at(l, i), b = at(l, i + 1);
            bp.emplace_back(root[a], static_cast<int>(be.size()));
            be.emplace_back(root[b], gap(a, b));
        }
    Csr bs;
    bs.build(n, bp);
    std::vector<int> indeg(n, 0);
    for (const auto& e : be)
        ++indeg[e.first];
    std::vector<int> topo;
    topo.reserve(n);
    for (int v = 0; v < n; ++v)
        if (root[v] == v && indeg[v] == 0) topo.push_back(v);
    for (std::size_t h = 0; h < topo.size(); ++h) {
        const int v = topo[h];
        for (int k = bs.begin(v); k < bs.end(v); ++k)
            if (--indeg[be[bs.adj[k]].first] == 0) topo.push_back(be[bs.adj[k]].first);
    }
    std::vector<double> bx(n, 0.0);
    for (int v : topo)
        for (int k = bs.begin(v); k < bs.end(v); ++k) {
            const auto& [w, wt] = be[bs.adj[k]];
            bx[w] = std::max(bx[w], bx[v] + wt);
        }
    for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
        const int v = *it;
        double mn = std::numeric_limits<double>::infinity();
        for (int k = bs.begin(v); k < bs.end(v); ++k) {
            const auto& [w, wt] = be[bs.adj[k]];
            mn = std::min(mn, bx[w] - wt);
        }
        if (mn != std::numeric_limits<double>::infinity()) bx[v] = std::max(bx[v], mn);
    }
    xs.resize(n);
    for (int v = 0; v < n; ++v)
        xs[v] = leftToRight ? bx[root[v]] : -bx[root[v]];
}

void Engine::assignX(std::vector<double>& x) {
    Proper& p = m_p;
    const int n = p.total;
    std::vector<char> conflict;
    markConflicts(conflict);
    std::array<std::vector<double>, 4> xs;
    const bool dirs[4][2] = {{true, true}, {true, false}, {false, true}, {false, false}};
    int smallest = 0;
    double smallestWidth = std::numeric_limits<double>::infinity();
    std::array<double, 4> mins{}, maxs{};
    for (int k = 0; k < 4; ++k) {
        alignAndCompact(dirs[k][0], dirs[k][1], conflict, xs[k]);
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        double cmin = lo, cmax = -lo;
        for (int v = 0; v < n; ++v) {
            lo = std::min(lo, xs[k][v] - p.width[v] / 2);
            hi = std::max(hi, xs[k][v] + p.width[v] / 2);
            cmin = std::min(cmin, xs[k][v]);
            cmax = std::max(cmax, xs[k][v]);
        }
        mins[k] = cmin;
        maxs[k] = cmax;
        if (hi - lo < smallestWidth) {
            smallestWidth = hi - lo;
            smallest = k;
        }
    }
    for (int k = 0; k < 4; ++k) {
        if (k == smallest) continue;
        const double delta = dirs[k][1] ? mins[smallest] - mins[k] : maxs[smallest] - maxs[k];
        if (delta != 0)
            for (double& v : xs[k])
                v += delta;
    }
    // The mean of the two middle candidates: keeps the minimum separation (order statistics of
    // separated layouts stay separated) and balances the left/right bias of single alignments.
    x.resize(n);
    for (int v = 0; v < n; ++v) {
        std::array<double, 4> c = {xs[0][v], xs[1][v], xs[2][v], xs[3][v]};
        std::sort(c.begin(), c.end());
        x[v] = (c[1] + c[2]) / 2;
    }
}

bool Engine::run(BlockLayout& out) {
    m_n = static_cast<int>(m_in.width.size());
    out = BlockLayout{};
    if (!report("layering", 0.0)) return false;
    breakCycles();
    assignLayers();
    buildProper();
    if (!report("ordering", 0.1)) return false;
    initialOrder();
    if (!reduceCrossings()) return false;
    if (!report("coordinates", 0.85)) return false;
    std::vector<double> xc;
    if (m_p.total > 0) assignX(xc);
    Proper& p = m_p;
    // Normalize so the leftmost box edge is at 0.
    double minLeft = std::numeric_limits<double>::infinity(), maxRight = -minLeft;
    for (int v = 0; v < p.total; ++v) {
        minLeft = std::min(minLeft, xc[v] - p.width[v] / 2);
        maxRight = std::max(maxRight, xc[v] + p.width[v] / 2);
    }
    if (p.total == 0) minLeft = maxRight = 0;
    for (double& v : xc)
        v -= minLeft;
    out.layers = p.layers;
    out.layerTop.assign(p.layers, 0.0);
    out.layerHeight.assign(p.layers, 0.0);
    for (int v = 0; v < m_n; ++v)
        out.layerHeight[p.layer[v]] = std::max(out.layerHeight[p.layer[v]], m_in.height[v]);
    double y = 0;
    for (int l = 0; l < p.layers; ++l) {
        out.layerTop[l] = y;
        // Rows of only ports and dummies need less room than rows of boxes.
        const bool thin =
            out.layerHeight[l] == 0 || (l + 1 < p.layers && out.layerHeight[l + 1] == 0);
        y += out.layerHeight[l] +
             (l + 1 < p.layers ? m_opt.layerSeparation * (thin ? 0.5 : 1.0) : 0);
    }
    out.width = maxRight - minLeft;
    out.height = y;
    out.x.resize(m_n);
    out.y.resize(m_n);
    out.layer.resize(m_n);
    for (int v = 0; v < m_n; ++v) {
        out.x[v] = xc[v] - m_in.width[v] / 2;
        out.layer[v] = p.layer[v];
        const int pin = m_in.pin.empty() ? 0 : m_in.pin[v];
        const int l = p.layer[v];
        out.y[v] = pin < 0   ? out.layerTop[l]
                   : pin > 0 ? out.layerTop[l] + out.layerHeight[l] - m_in.height[v]
                             : out.layerTop[l] + (out.layerHeight[l] - m_in.height[v]) / 2;
    }
    out.edges.resize(m_eff.size());
    for (std::size_t e = 0; e < m_eff.size(); ++e) {
        auto& oe = out.edges[e];
        oe.upper = m_eff[e].first;
        oe.lower = m_eff[e].second;
        oe.reversed = m_reversed[e] != 0;
        oe.fromLayer = p.layer[oe.upper];
        oe.toLayer = p.layer[oe.lower];
        const int span = oe.toLayer - oe.fromLayer - 1;
        oe.dummyX.resize(span);
        for (int k = 0; k < span; ++k)
            oe.dummyX[k] = xc[m_firstDummy[e] + k];
        out.reversedEdges += oe.reversed;
    }
    out.dummies = p.total - m_n;
    out.crossings = crossings();
    return report("done", 1.0);
}

} // namespace

std::int64_t countLayerCrossings(std::vector<std::pair<int, int>>& segments, int lowerLayerSize) {
    std::sort(segments.begin(), segments.end());
    static thread_local Fenwick tree;
    tree.reset(lowerLayerSize);
    std::int64_t crossings = 0;
    int inserted = 0;
    for (const auto& s : segments) {
        crossings += inserted - tree.prefix(s.second);
        tree.add(s.second);
        ++inserted;
    }
    return crossings;
}

bool layoutBlock(const BlockInput& in, const LayoutOptions& options, const BlockProgress& progress,
                 BlockLayout& out) {
    Engine engine(in, options, progress);
    return engine.run(out);
}

} // namespace ew::layout::detail
