// fuse-hard-swish
//   before:  %h = HardSigmoid(%x) {alpha=0.1666667, beta=0.5}
//            %y = Mul(%x, %h)
//   or:      %a = Add(%x, 3.0)
//            %c = Clip(%a, 0.0, 6.0)
//            %m = Mul(%x, %c)
//            %y = Div(%m, 6.0)               (or Mul(%m, 0.1666667))
//   or:      %a = Add(%x, 3.0)
//            %c = Clip(%a, 0.0, 6.0)
//            %s = Div(%c, 6.0)               (or Mul(%c, 0.1666667))
//            %y = Mul(%x, %s)
//   after:   %y = HardSwish(%x)
// HardSwish(x) = x * max(0, min(1, x/6 + 1/2)). Commutative operands match in either order;
// every constant is a one-element constant that cannot broadcast %x to another shape (1/6 within
// 1e-4 relative; HardSigmoid's default alpha 0.2 is not 1/6). Every intermediate has this single
// consumer and is no graph output. HardSwish exists from opset 14: older models are left alone.
#include "../graph_util.h"

namespace ew::opt {

namespace {

struct Match {
    ir::Value* x = nullptr;
    std::vector<ir::Node*> nodes;
    ir::Value* result = nullptr;
};

ir::Node* consumerOp(const ir::Graph& g, const ir::Value* v, std::string_view op) {
    ir::Node* c = soleConsumer(v);
    return c && c->graph() == &g && isOp(*c, op) ? c : nullptr;
}

ir::Value* otherOperand(const ir::Node& n, const ir::Value* v) {
    if (n.inputs().size() != 2) return nullptr;
    if (n.input(0) == v) return n.input(1);
    if (n.input(1) == v) return n.input(0);
    return nullptr;
}

bool isConstNear(const ir::Value* v, double expected, int64_t rank) {
    const std::optional<double> c = shapePreservingScalar(v, rank);
    return c && (expected == 0.0 ? *c == 0.0 : nearlyEqual(*c, expected));
}

bool hardSwishType(const ir::Value* x) {
    if (!x || !x->type.isTensor() || constantOf(x)) return false;
    const ir::DataType t = x->type.elemType;
    return t == ir::DataType::Float || t == ir::DataType::Float16 || t == ir::DataType::Double;
}

/// n computes w / 6 or w * (1/6) (either order).
bool dividesBySix(const ir::Node& n, const ir::Value* w, int64_t rank) {
    if (isOp(n, "Div")) return n.inputs().size() == 2 && n.input(0) == w && isConstNear(n.input(1), 6.0, rank);
    if (isOp(n, "Mul")) return isConstNear(otherOperand(n, w), 1.0 / 6.0, rank);
    return false;
}

/// x * HardSigmoid(x) with HardSwish's alpha and beta.
std::optional<Match> matchHardSigmoid(const ir::Graph& g, ir::Node* hs) {
    Match m;
    m.x = hs->input(0);
    if (!hardSwishType(m.x) || !nearlyEqual(hs->attrFloat("alpha", 0.2f), 1.0 / 6.0) ||
        !nearlyEqual(hs->attrFloat("beta", 0.5f), 0.5))
        return std::nullopt;
    ir::Node* mul = consumerOp(g, hs->output(0), "Mul");
    if (!mul || otherOperand(*mul, hs->output(0)) != m.x) return std::nullopt;
    m.nodes = {hs, mul};
    m.result = mul->output(0);
    return m;
}

/// x * Clip(x + 3, 0, 6) / 6 in either association.
std::optional<Match> matchClip(const ir::Graph& g, ir::Node* clip) {
    if (clip->inputs().size() != 3) return std::nullopt;
    ir::Value* a = clip->input(0);
    ir::Node* add = a ? a->producer() : nullptr;
    if (!add || add->graph() != &g || !isOp(*add, "Add") || add->inputs().size() != 2 || soleConsumer(a) != clip)
        return std::nullopt;
    Match m;
    for (int k = 0; k < 2 && !m.x; ++k)
        if (isConstNear(add->input(1 - k), 3.0, rankOf(add->input(k)))) m.x = add->input(k);
    if (!hardSwishType(m.x)) return std::nullopt;
    const int64_t rank = rankOf(m.x);
    if (!isConstNear(clip->input(1), 0.0, rank) || !isConstNear(clip->input(2), 6.0, rank)) return std::nullopt;
    ir::Value* c = clip->output(0);
    ir::Node* next = soleConsumer(c);
    if (!next || next->graph() != &g) return std::nullopt;
    if (isOp(*next, "Mul") && otherOperand(*next, c) == m.x) {
        // (x * clip) / 6
        ir::Node* scale = soleConsumer(next->output(0));
        if (!scale || scale->graph() != &g || !dividesBySix(*scale, next->output(0), rank)) return std::nullopt;
        m.nodes = {add, clip, next, scale};
        m.result = scale->output(0);
        return m;
    }
    if (dividesBySix(*next, c, rank)) {
        // x * (clip / 6)
        ir::Node* mul = consumerOp(g, next->output(0), "Mul");
        if (!mul || otherOperand(*mul, next->output(0)) != m.x) return std::nullopt;
        m.nodes = {add, clip, next, mul};
        m.result = mul->output(0);
        return m;
    }
    return std::nullopt;
}

} // namespace

VoidResult fuseHardSwish(ir::Graph& graph, PassContext& ctx) {
    if (ctx.opset() < 14) return {};
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if ((isOp(*n, "HardSigmoid") || isOp(*n, "Clip")) && n->input(0) && n->output(0))
            candidates.push_back(n.get());
    for (ir::Node* n : candidates) {
        std::optional<Match> m = isOp(*n, "HardSigmoid") ? matchHardSigmoid(graph, n) : matchClip(graph, n);
        if (m) fuseIntoNode(graph, ctx, m->nodes, m->result, "HardSwish", {m->x});
    }
    return {};
}

} // namespace ew::opt
