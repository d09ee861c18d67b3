// eliminate-constant-if
//   before:  init %c : bool = [1]
//            %y = If(%c) { then_branch = t () => (%ty) { %ty = Neg(%x) },
//                          else_branch = e () => (%ey) { %ey = Abs(%x) } }
//            %z = Relu(%y)
//   after:   %ty = Neg(%x)
//            %z = Relu(%ty)
// An If whose condition is a constant with one element (bool or integer, e.g. after pinned input
// shapes folded a Shape/Gather/Equal chain) always runs the same branch: that branch's nodes move
// into the enclosing graph, in its order, just before the If (everything a branch reads is
// produced before the If), and its outputs take over the If's outputs. Values keep their names
// where no graph of the model uses the name yet (exporters name values model-wide uniquely),
// otherwise they get a fresh suffix; the branch's initializers become initializers of the
// enclosing graph the same way. Nested If/Loop/Scan bodies of the moved nodes move along and now
// see the enclosing graph. A graph output of the enclosing graph keeps its name: the branch value
// that produces it takes the name over, or, when the branch returns an outer value, an
// initializer, or the same value twice, an Identity produces it.
// Refused: a condition that is a graph input (callers may override its default), not constant,
// empty or of more than one element, of a floating-point or string type; branches with inputs,
// sparse initializers or quantization annotations, or whose output count differs from the If's.
#include "../graph_util.h"

#include <unordered_map>
#include <unordered_set>

namespace ew::opt {

namespace {

/// The branch a constant condition selects: 0 = then_branch, 1 = else_branch; nullopt when the
/// condition is not a fixed one-element bool/integer constant.
std::optional<int> chosenBranch(const ir::Node& n) {
    const ir::Tensor* t = fixedConstantOf(n.input(0));
    if (!t || t->numElements() != 1 || !t->strings.empty()) return std::nullopt;
    switch (t->dtype) {
    case ir::DataType::Bool:
    case ir::DataType::Int8:
    case ir::DataType::Int16:
    case ir::DataType::Int32:
    case ir::DataType::Int64:
    case ir::DataType::UInt8:
    case ir::DataType::UInt16:
    case ir::DataType::UInt32:
    case ir::DataType::UInt64: break;
    default: return std::nullopt;
    }
    return t->valueAsDouble(0) != 0.0 ? 0 : 1;
}

ir::Graph* branchGraph(const ir::Node& n, std::string_view attr) {
    const ir::Attribute* a = n.attr(attr);
    return a && a->type == ir::AttrType::Graph ? a->g.get() : nullptr;
}

/// Every value name of `g` and of all graphs nested in it, except the values of `skip`.
void collectNames(const ir::Graph& g, const ir::Graph* skip, std::unordered_set<std::string>& out) {
    if (&g != skip)
        for (const auto& v : g.values()) out.insert(v->name);
    for (const auto& n : g.nodes())
        for (const ir::Graph* sg : n->subgraphs()) collectNames(*sg, skip, out);
}

/// Points the outputs of `g` and of graphs nested in it that name a moved value at its copy.
void remapBodyOutputs(ir::Graph& g, const std::unordered_map<ir::Value*, ir::Value*>& map) {
    for (ir::Value*& o : g.outputs)
        if (auto it = map.find(o); it != map.end()) o = it->second;
    for (const auto& n : g.nodes())
        for (ir::Graph* sg : n->subgraphs()) remapBodyOutputs(*sg, map);
}

void recordRemoved(const ir::Graph& g, PassContext& ctx) {
    for (const auto& n : g.nodes()) {
        ctx.removed(*n);
        for (const ir::Graph* sg : n->subgraphs()) recordRemoved(*sg, ctx);
    }
}

bool inlinable(const ir::Node& n, const ir::Graph* b) {
    if (!b || !b->inputs.empty() || !b->sparseInitializers.empty() ||
        !b->quantizationAnnotations.empty() || b->outputs.size() != n.outputs().size())
        return false;
    for (const ir::Value* o : b->outputs)
        if (!o) return false;
    return b->topologicalOrder().has_value();
}

/// Moves the nodes and initializers of `b` (a branch of `ifNode`, in `g`) into `g` before the If,
/// makes the If's outputs read the branch's, and removes the If (and with it both branches).
void inlineBranch(ir::Graph& g, ir::Node* ifNode, ir::Graph& b, PassContext& ctx) {
    const ir::Graph* root = &g;
    while (root->parent()) root = root->parent();
    std::unordered_set<std::string> taken;
    collectNames(*root, &b, taken);
    auto freshName = [&](const std::string& base) {
        const std::string stem = base.empty() ? "v" : base;
        std::string name = stem;
        for (std::size_t k = 1; taken.count(name); ++k) name = stem + "_" + std::to_string(k);
        taken.insert(name);
        return name;
    };

    std::unordered_map<ir::Value*, ir::Value*> map;
    for (const auto& v : b.values()) {
        const bool orphan = !v->producer() && !v->isInitializer() && v->uses().empty() && !v->isGraphOutput();
        if (orphan) continue;
        ir::Value* nv = *g.addValue(freshName(v->name), v->type);
        nv->docString = v->docString;
        nv->quant = v->quant;
        nv->hasValueInfo = v->hasValueInfo;
        nv->metadataProps = v->metadataProps;
        nv->extraFields = v->extraFields;
        if (v->initializer) {
            nv->initializer = std::move(*v->initializer);
            nv->initializer->name = nv->name;
            v->initializer.reset();
            g.initializers.push_back(nv);
        }
        map[v.get()] = nv;
    }
    auto mapped = [&](ir::Value* v) -> ir::Value* {
        if (!v) return nullptr;
        auto it = map.find(v);
        return it == map.end() ? v : it->second; // an outer value stays what it is
    };

    const std::vector<ir::Node*> order = *b.topologicalOrder();
    for (ir::Node* o : order) {
        std::vector<ir::Value*> ins, outs;
        for (ir::Value* v : o->inputs()) ins.push_back(mapped(v));
        for (ir::Value* v : o->outputs()) outs.push_back(mapped(v));
        ir::Node* nn = g.insertNode(ifNode, o->opType, o->domain,
                                     o->name.empty() ? std::string() : uniqueNodeName(g, o->name), ins, outs);
        nn->overload = o->overload;
        nn->docString = o->docString;
        nn->metadataProps = o->metadataProps;
        nn->extraFields = o->extraFields;
        nn->attributes = std::move(o->attributes);
        o->attributes.clear();
        for (ir::Graph* sg : nn->subgraphs()) sg->setParent(&g, nn);
    }
    // Nested bodies of the moved nodes still read the branch's values: point them at the copies.
    for (auto& [v, nv] : map) {
        const std::vector<ir::Use> uses = v->uses();
        for (const ir::Use& u : uses)
            if (u.node->graph() != &b) u.node->setInput(static_cast<std::size_t>(u.inputIndex), nv);
    }
    for (const auto& n : g.nodes())
        if (n.get() != ifNode)
            for (ir::Graph* sg : n->subgraphs()) remapBodyOutputs(*sg, map);

    std::vector<ir::Value*> results, sources;
    for (std::size_t k = 0; k < ifNode->outputs().size(); ++k) {
        results.push_back(ifNode->output(k));
        sources.push_back(mapped(b.outputs[k]));
    }
    ir::Node* next = nullptr;
    for (std::size_t k = 0; k + 1 < g.nodes().size(); ++k)
        if (g.nodes()[k].get() == ifNode) next = g.nodes()[k + 1].get();
    const std::string ifName = ifNode->name;
    ctx.removed(*ifNode);
    for (const ir::Graph* sg : ifNode->subgraphs())
        if (sg != &b) recordRemoved(*sg, ctx);
    g.removeNode(ifNode); // destroys both branches; `b` now holds no node anything needs

    // Bodies in g may return y itself (an output naming an outer value is not a use of it).
    auto retarget = [&](ir::Value* from, ir::Value* to) {
        const std::unordered_map<ir::Value*, ir::Value*> one{{from, to}};
        for (const auto& n : g.nodes())
            for (ir::Graph* sg : n->subgraphs()) remapBodyOutputs(*sg, one);
    };
    std::unordered_set<const ir::Value*> claimed;
    for (std::size_t k = 0; k < results.size(); ++k) {
        ir::Value* y = results[k];
        ir::Value* s = sources[k];
        if (!y) continue;
        if (!y->isGraphOutput()) {
            g.replaceAllUses(y, s);
            retarget(y, s);
            g.removeValue(y);
            continue;
        }
        const bool ownNode = s->graph() == &g && s->producer() && !s->isGraphOutput() && !s->isGraphInput() &&
                             !s->isInitializer() && !claimed.count(s);
        if (ownNode && replaceValue(g, y, s)) {
            claimed.insert(s);
            retarget(y, s);
            g.removeValue(y);
            continue;
        }
        // The graph output keeps its value; an Identity now produces it.
        ir::Node* id = g.insertNode(next, "Identity", "", uniqueNodeName(g, ifName + "/Identity"), {s}, {y});
        ctx.added(*id);
    }
}

} // namespace

VoidResult eliminateConstantIf(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> ifs;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "If")) ifs.push_back(n.get());
    for (ir::Node* n : ifs) {
        const std::optional<int> branch = chosenBranch(*n);
        if (!branch) continue;
        ir::Graph* b = branchGraph(*n, *branch == 0 ? "then_branch" : "else_branch");
        if (!inlinable(*n, b)) continue;
        inlineBranch(graph, n, *b, ctx);
    }
    return {};
}

} // namespace ew::opt
