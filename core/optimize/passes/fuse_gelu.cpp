// fuse-gelu
//   before (erf form, as PyTorch exports nn.GELU()):
//            %u = Div(%x, 1.4142135)        (or Mul(%x, 0.70710678))
//            %e = Erf(%u)
//            %a = Add(%e, 1.0)
//            %m = Mul(%x, %a)
//            %y = Mul(%m, 0.5)              (or %h = Mul(%x, 0.5), %y = Mul(%h, %a);
//                                             or %h = Mul(%a, 0.5), %y = Mul(%x, %h); /2 for *0.5)
//   before (tanh form, GPT-2's gelu_new):
//            %p = Pow(%x, 3.0)              (or Mul(Mul(%x, %x), %x))
//            %c = Mul(%p, 0.044715)
//            %s = Add(%x, %c)
//            %u = Mul(%s, 0.7978845608)     (sqrt(2/pi))
//            %t = Tanh(%u)
//            %a = Add(%t, 1.0)
//            ... the same 0.5 * x * a products as above
//   after:   %y = Gelu(%x)                  {approximate="tanh"} for the tanh form
// Commutative operands match in either order. Every constant is a one-element constant that
// cannot broadcast %x to another shape, equal to the expected value within 1e-4 relative (so
// 0.044 instead of 0.044715 is not GELU). Every intermediate has this single consumer and is no
// graph output; %x is read twice (three or four times in the tanh form) and stays. Gelu exists
// from opset 20 only: older models are left alone (the pass stays portable).
#include "../graph_util.h"

#include <cmath>
#include <numbers>

namespace ew::opt {

namespace {

constexpr double kSqrt2 = std::numbers::sqrt2;
constexpr double kSqrt2OverPi = 0.79788456080286535588; // sqrt(2 / pi)
constexpr double kTanhCubic = 0.044715;

struct Match {
    ir::Value* x = nullptr;
    ir::Value* result = nullptr;
    std::vector<ir::Node*> nodes;
    bool tanh = false;
};

/// The producer of v when it is a default-domain `op` node of this very graph (never a node of an
/// enclosing graph: those are not ours to erase).
ir::Node* producerOp(const ir::Graph& g, const ir::Value* v, std::string_view op) {
    ir::Node* p = v ? v->producer() : nullptr;
    return p && p->graph() == &g && isOp(*p, op) ? p : nullptr;
}

/// The single consumer of v when it is an `op` node of this graph.
ir::Node* consumerOp(const ir::Graph& g, const ir::Value* v, std::string_view op) {
    ir::Node* c = soleConsumer(v);
    return c && c->graph() == &g && isOp(*c, op) ? c : nullptr;
}

/// For a two-input node with v in one slot, the value in the other slot.
ir::Value* otherOperand(const ir::Node& n, const ir::Value* v) {
    if (n.inputs().size() != 2) return nullptr;
    if (n.input(0) == v) return n.input(1);
    if (n.input(1) == v) return n.input(0);
    return nullptr;
}

bool isConstNear(const ir::Value* v, double expected, int64_t rank) {
    const std::optional<double> c = shapePreservingScalar(v, rank);
    return c && nearlyEqual(*c, expected);
}

/// n computes w * 0.5 (either order) or w / 2.
bool halves(const ir::Node& n, const ir::Value* w, int64_t rank) {
    if (isOp(n, "Mul")) return isConstNear(otherOperand(n, w), 0.5, rank);
    if (isOp(n, "Div")) return n.inputs().size() == 2 && n.input(0) == w && isConstNear(n.input(1), 2.0, rank);
    return false;
}

/// From %a = 1 + erf(...) (or 1 + tanh(...)) to y = 0.5 * x * a, in the three shapes exporters
/// write it; appends the nodes and sets the result.
bool matchOuterProduct(const ir::Graph& g, ir::Value* a, ir::Value* x, int64_t rank, Match& m) {
    ir::Node* c = soleConsumer(a);
    if (!c || c->graph() != &g) return false;
    if (isOp(*c, "Mul") && otherOperand(*c, a) == x && x != a) {
        // (x * a) * 0.5
        ir::Node* h = soleConsumer(c->output(0));
        if (h && h->graph() == &g && halves(*h, c->output(0), rank)) {
            m.nodes.insert(m.nodes.end(), {c, h});
            m.result = h->output(0);
            return true;
        }
        return false;
    }
    if (isOp(*c, "Mul")) {
        // (x * 0.5) * a
        ir::Value* other = otherOperand(*c, a);
        ir::Node* h = other ? other->producer() : nullptr;
        if (h && h->graph() == &g && soleConsumer(other) == c && h->inputs().size() == 2 &&
            (h->input(0) == x || h->input(1) == x) && halves(*h, x, rank)) {
            m.nodes.insert(m.nodes.end(), {h, c});
            m.result = c->output(0);
            return true;
        }
    }
    // x * (a * 0.5)
    if (halves(*c, a, rank)) {
        ir::Node* d = consumerOp(g, c->output(0), "Mul");
        if (d && otherOperand(*d, c->output(0)) == x) {
            m.nodes.insert(m.nodes.end(), {c, d});
            m.result = d->output(0);
            return true;
        }
    }
    return false;
}

/// %a = Add(%f, 1) where %f is the Erf/Tanh output.
ir::Node* addOne(const ir::Graph& g, const ir::Value* f, int64_t rank) {
    ir::Node* add = consumerOp(g, f, "Add");
    return add && isConstNear(otherOperand(*add, f), 1.0, rank) ? add : nullptr;
}

bool floatingPoint(const ir::Value* x) {
    if (!x || !x->type.isTensor()) return false;
    using ir::DataType;
    const DataType t = x->type.elemType;
    return t == DataType::Float || t == DataType::Float16 || t == DataType::Double || t == DataType::BFloat16;
}

/// erf(x / sqrt(2)) or erf(x * (1 / sqrt(2))).
std::optional<Match> matchErf(const ir::Graph& g, ir::Node* erf) {
    ir::Value* u = erf->input(0);
    if (soleConsumer(u) != erf) return std::nullopt;
    Match m;
    ir::Node* scale = u->producer();
    if (!scale || scale->graph() != &g || scale->inputs().size() != 2) return std::nullopt;
    if (isOp(*scale, "Div")) {
        m.x = scale->input(0);
        if (!isConstNear(scale->input(1), kSqrt2, rankOf(m.x))) return std::nullopt;
    } else if (isOp(*scale, "Mul")) {
        for (int k = 0; k < 2 && !m.x; ++k)
            if (isConstNear(scale->input(1 - k), 1.0 / kSqrt2, rankOf(scale->input(k)))) m.x = scale->input(k);
        if (!m.x) return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (!floatingPoint(m.x) || constantOf(m.x)) return std::nullopt;
    const int64_t rank = rankOf(m.x);
    ir::Node* add = addOne(g, erf->output(0), rank);
    if (!add) return std::nullopt;
    m.nodes = {scale, erf, add};
    if (!matchOuterProduct(g, add->output(0), m.x, rank, m)) return std::nullopt;
    return m;
}

/// v = x^3 as Pow(x, 3) or x * x * x (either grouping of the outer Mul); appends its nodes.
ir::Value* cubeBase(const ir::Graph& g, ir::Value* v, std::vector<ir::Node*>& nodes) {
    if (ir::Node* p = producerOp(g, v, "Pow")) {
        ir::Value* x = p->input(0);
        if (p->inputs().size() == 2 && isConstNear(p->input(1), 3.0, rankOf(x))) {
            nodes.push_back(p);
            return x;
        }
        return nullptr;
    }
    ir::Node* outer = producerOp(g, v, "Mul");
    if (!outer || outer->inputs().size() != 2) return nullptr;
    for (int k = 0; k < 2; ++k) {
        ir::Value* sq = outer->input(k);
        ir::Value* x = outer->input(1 - k);
        ir::Node* inner = producerOp(g, sq, "Mul");
        if (inner && sq != x && inner->inputs().size() == 2 && inner->input(0) == x && inner->input(1) == x &&
            soleConsumer(sq) == outer) {
            nodes.insert(nodes.end(), {inner, outer});
            return x;
        }
    }
    return nullptr;
}

/// tanh(sqrt(2/pi) * (x + 0.044715 * x^3)).
std::optional<Match> matchTanh(const ir::Graph& g, ir::Node* tanh) {
    ir::Value* u = tanh->input(0);
    if (soleConsumer(u) != tanh) return std::nullopt;
    ir::Node* scale = producerOp(g, u, "Mul");
    if (!scale || scale->inputs().size() != 2) return std::nullopt;
    for (int k = 0; k < 2; ++k) {
        ir::Value* s = scale->input(k);
        ir::Node* sum = producerOp(g, s, "Add");
        if (!sum || sum->inputs().size() != 2 || soleConsumer(s) != scale) continue;
        for (int j = 0; j < 2; ++j) {
            Match m;
            m.x = sum->input(j);
            ir::Value* cubic = sum->input(1 - j);
            const int64_t rank = rankOf(m.x);
            if (!floatingPoint(m.x) || constantOf(m.x) || cubic == m.x) continue;
            if (!isConstNear(scale->input(1 - k), kSqrt2OverPi, rank)) continue;
            ir::Node* coef = producerOp(g, cubic, "Mul");
            if (!coef || coef->inputs().size() != 2 || soleConsumer(cubic) != sum) continue;
            for (int i = 0; i < 2 && !m.result; ++i) {
                ir::Value* p = coef->input(i);
                if (!isConstNear(coef->input(1 - i), kTanhCubic, rank) || soleConsumer(p) != coef) continue;
                std::vector<ir::Node*> nodes;
                if (cubeBase(g, p, nodes) != m.x) continue;
                ir::Node* add = addOne(g, tanh->output(0), rank);
                if (!add) continue;
                m.nodes = nodes;
                m.nodes.insert(m.nodes.end(), {coef, sum, scale, tanh, add});
                m.tanh = true;
                if (matchOuterProduct(g, add->output(0), m.x, rank, m)) return m;
                m.result = nullptr;
            }
        }
    }
    return std::nullopt;
}

} // namespace

VoidResult fuseGelu(ir::Graph& graph, PassContext& ctx) {
    if (ctx.opset() < 20) return {};
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if ((isOp(*n, "Erf") || isOp(*n, "Tanh")) && n->inputs().size() == 1 && n->input(0))
            candidates.push_back(n.get());
    for (ir::Node* n : candidates) {
        std::optional<Match> m = isOp(*n, "Erf") ? matchErf(graph, n) : matchTanh(graph, n);
        if (!m) continue;
        ir::Node* gelu = fuseIntoNode(graph, ctx, m->nodes, m->result, "Gelu", {m->x});
        if (m->tanh) gelu->setAttr(ir::Attribute::makeString("approximate", "tanh"));
    }
    return {};
}

} // namespace ew::opt
