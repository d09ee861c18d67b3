#include "layout_ir/ir_layout.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace ew::layout {

std::vector<std::string> scopeOf(std::string_view name) {
    const char sep = name.find('/') != std::string_view::npos ? '/' : '.';
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find(sep, start);
        if (end == std::string_view::npos) end = name.size();
        if (end > start) parts.emplace_back(name.substr(start, end - start));
        start = end + 1;
    }
    if (!parts.empty()) parts.pop_back(); // the node's own name
    // "p2o.Conv.12" (paddle2onnx): "Conv.12" is the node's name; op types are not scopes.
    const std::string_view last = name.substr(name.find_last_of(sep) + 1);
    if (sep == '.' && !parts.empty() && !last.empty() &&
        std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
        parts.pop_back();
    return parts;
}

namespace {

BoxSize defaultMeasure(std::string_view text, IrItemKind kind) {
    const double chars = static_cast<double>(std::min<std::size_t>(text.size(), 48));
    const bool group = kind == IrItemKind::Scope || kind == IrItemKind::Subgraph;
    return {std::max(40.0, 7.0 * chars + (group ? 36.0 : 20.0)), group ? 36.0 : 28.0};
}

/// Builds groups and nodes with provisional group ids, then dissolves single-child scopes.
class Builder {
  public:
    explicit Builder(const IrLayoutOptions& opt) : m_opt(opt) {
        m_measure = opt.measure ? opt.measure : MeasureFn(defaultMeasure);
    }

    IrLayoutGraph build(const ir::Graph& root) {
        addGraph(root, kRootGroup, nullptr);
        for (const ir::Node* n : m_floating) {
            const ir::Node* consumer = nullptr;
            for (const ir::Value* v : n->outputs())
                if (v && !v->uses().empty() && !consumer) consumer = v->uses().front().node;
            if (!consumer) continue;
            auto it = m_opNode.find(consumer);
            if (it != m_opNode.end()) m_nodes[m_opNode[n]].group = m_nodes[it->second].group;
        }
        return finish();
    }

  private:
    struct TGroup {
        int parent;
        std::string label;
        std::string path;
        char sep;
        IrItemKind kind;
        const ir::Graph* graph;
    };
    struct TNode {
        int group;
        IrItemKind kind;
        std::string label;
        const ir::Node* node;
        const ir::Value* value;
    };

    int newGroup(int parent, std::string label, std::string path, char sep, IrItemKind kind,
                 const ir::Graph* g) {
        m_groups.push_back({parent, std::move(label), std::move(path), sep, kind, g});
        return static_cast<int>(m_groups.size() - 1);
    }
    int newNode(int group, IrItemKind kind, std::string label, const ir::Node* n,
                const ir::Value* v) {
        m_nodes.push_back({group, kind, std::move(label), n, v});
        return static_cast<int>(m_nodes.size() - 1);
    }
    void link(int a, int b, const ir::Value* v) {
        if (a >= 0 && b >= 0) m_edges.push_back({a, b, v});
    }

    /// The scope group of `name` under `base` (a graph's own group or the root).
    int scopeGroup(const std::string& name, int base, std::map<std::string, int>& scopes) {
        if (!m_opt.scopeGroups) return base;
        const auto parts = scopeOf(name);
        const char sep = name.find('/') != std::string::npos ? '/' : '.';
        int g = base;
        std::string path;
        for (const auto& p : parts) {
            path += path.empty() ? p : std::string(1, sep) + p;
            auto [it, inserted] = scopes.try_emplace(path, -1);
            if (inserted) it->second = newGroup(g, p, path, sep, IrItemKind::Scope, nullptr);
            g = it->second;
        }
        return g;
    }

    /// Adds `graph`'s items under group `base`. Returns the layout node producing each output of
    /// the graph (for subgraph links) through `outputsOut`.
    void addGraph(const ir::Graph& graph, int base, std::vector<int>* outputsOut) {
        std::map<std::string, int> scopes;
        if (m_opt.graphInputs)
            for (const ir::Value* v : graph.inputs)
                if (v && !v->isInitializer())
                    m_valueNode[v] = newNode(base, IrItemKind::GraphInput, v->name, nullptr, v);
        for (const auto& up : graph.nodes()) {
            const ir::Node* n = up.get();
            const int g = scopeGroup(n->name, base, scopes);
            // Bodies first so that their nodes sit before their owner in id order.
            std::vector<int> bodyOutputs;
            for (const auto& a : n->attributes) {
                std::vector<const ir::Graph*> subs;
                if (a.type == ir::AttrType::Graph && a.g) subs.push_back(a.g.get());
                if (a.type == ir::AttrType::Graphs)
                    for (const auto& s : a.graphs)
                        if (s) subs.push_back(s.get());
                if (!m_opt.nestedGraphs) continue;
                for (std::size_t k = 0; k < subs.size(); ++k) {
                    std::string label = n->displayName() + "." + a.name;
                    if (subs.size() > 1) label += "[" + std::to_string(k) + "]";
                    const int sg = newGroup(g, label, label, '/', IrItemKind::Subgraph, subs[k]);
                    addGraph(*subs[k], sg, &bodyOutputs);
                }
            }
            const int id = newNode(g, IrItemKind::Op, n->qualifiedOp(), n, nullptr);
            m_opNode[n] = id;
            // Unscoped sources (unnamed Constants, Shape of an input...) join their first
            // consumer's group, like initializers, instead of feeding deep into groups from
            // the top level.
            if (m_opt.scopeGroups && g == base && scopeOf(n->name).empty() &&
                std::none_of(n->inputs().begin(), n->inputs().end(),
                             [](const ir::Value* v) { return v && v->producer(); }))
                m_floating.push_back(n);
            for (const ir::Value* v : n->inputs()) {
                if (!v) continue;
                link(sourceOf(v, g), id, v);
            }
            for (int b : bodyOutputs)
                link(b, id, nullptr);
        }
        for (const ir::Value* v : graph.outputs) {
            if (!v) continue;
            int src = -1;
            if (m_opt.graphOutputs) {
                src = newNode(base, IrItemKind::GraphOutput, v->name, nullptr, v);
                link(sourceOf(v, base), src, v);
            } else {
                src = sourceOf(v, base);
            }
            if (outputsOut && src >= 0) outputsOut->push_back(src);
        }
    }

    /// The layout node a value comes from: its producer, its graph-input node, or (when shown)
    /// its initializer node, created next to the first consumer; -1 when not drawn.
    int sourceOf(const ir::Value* v, int consumerGroup) {
        if (v->producer()) {
            auto it = m_opNode.find(v->producer());
            return it == m_opNode.end() ? -1 : it->second;
        }
        auto it = m_valueNode.find(v);
        if (it != m_valueNode.end()) return it->second;
        if (v->isInitializer() && m_opt.initializers) {
            const int id = newNode(consumerGroup, IrItemKind::Initializer, v->name, nullptr, v);
            m_valueNode[v] = id;
            return id;
        }
        return -1;
    }

    IrLayoutGraph finish() {
        const int T = static_cast<int>(m_groups.size());
        // children: every member; opChildren: groups and ops (not graph inputs/outputs), with
        // the root's count last.
        std::vector<int> children(T, 0), opChildren(T + 1, 0);
        for (const auto& n : m_nodes) {
            if (n.group >= 0) ++children[n.group];
            if (n.kind == IrItemKind::Op) ++opChildren[n.group >= 0 ? n.group : T];
        }
        for (const auto& g : m_groups) {
            if (g.parent >= 0) ++children[g.parent];
            ++opChildren[g.parent >= 0 ? g.parent : T];
        }
        // A group survives unless it is a scope with fewer than two children; dissolved groups
        // hand their child to the nearest surviving ancestor. Parents precede children in
        // creation order, so one forward pass resolves everything.
        std::vector<int> eff(T, kRootGroup), newId(T, kRootGroup);
        IrLayoutGraph out;
        for (int g = 0; g < T; ++g) {
            const int p = m_groups[g].parent >= 0 ? eff[m_groups[g].parent] : kRootGroup;
            // A scope that holds all of its parent's ops ("/model/...") adds nothing either.
            const bool scope = m_groups[g].kind == IrItemKind::Scope;
            const bool onlyChild =
                opChildren[m_groups[g].parent >= 0 ? m_groups[g].parent : T] == 1;
            const bool keep = scope ? children[g] >= 2 && !onlyChild : children[g] >= 1;
            if (!keep) {
                eff[g] = p;
                continue;
            }
            newId[g] = static_cast<int>(out.graph.groups.size());
            eff[g] = newId[g];
            LayoutGroup lg;
            lg.parent = p;
            // Label relative to the surviving parent, so dissolved scopes are not lost.
            std::string label = m_groups[g].label;
            if (m_groups[g].kind == IrItemKind::Scope) {
                const std::string& parentPath = p >= 0 ? out.groupPath[p] : std::string();
                const std::string& path = m_groups[g].path;
                if (!parentPath.empty() && path.size() > parentPath.size() + 1 &&
                    path.compare(0, parentPath.size(), parentPath) == 0)
                    label = path.substr(parentPath.size() + 1);
                else if (p < 0 || out.groupKind[p] == IrItemKind::Subgraph)
                    label = path;
            }
            const BoxSize sz = m_measure(label, m_groups[g].kind);
            lg.collapsedWidth = sz.width;
            lg.collapsedHeight = sz.height;
            lg.label = label;
            out.graph.groups.push_back(std::move(lg));
            out.groupKind.push_back(m_groups[g].kind);
            out.groupPath.push_back(m_groups[g].path);
            out.groupGraph.push_back(m_groups[g].graph);
        }
        for (const auto& n : m_nodes) {
            LayoutNode ln;
            const BoxSize sz = m_measure(n.label, n.kind);
            ln.width = sz.width;
            ln.height = sz.height;
            ln.group = n.group >= 0 ? eff[n.group] : kRootGroup;
            out.graph.nodes.push_back(ln);
            out.nodeKind.push_back(n.kind);
            out.nodeLabel.push_back(n.label);
            out.irNode.push_back(n.node);
            out.irValue.push_back(n.value);
        }
        for (const auto& e : m_edges) {
            out.graph.edges.push_back({e.from, e.to});
            out.edgeValue.push_back(e.value);
        }
        return out;
    }

    struct TEdge {
        int from;
        int to;
        const ir::Value* value;
    };
    const IrLayoutOptions& m_opt;
    MeasureFn m_measure;
    std::vector<TGroup> m_groups;
    std::vector<TNode> m_nodes;
    std::vector<TEdge> m_edges;
    std::unordered_map<const ir::Node*, int> m_opNode;
    std::unordered_map<const ir::Value*, int> m_valueNode;
    std::vector<const ir::Node*> m_floating; ///< unscoped sources, placed by their consumer
};

} // namespace

IrLayoutGraph fromIr(const ir::Graph& graph, const IrLayoutOptions& options) {
    return Builder(options).build(graph);
}

} // namespace ew::layout
