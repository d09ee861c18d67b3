// cancel-transposes
//   before:  %t = Transpose(%x) {perm=p1}        %r = Reshape(%x, %s1)      %q = Squeeze(%x, [1])
//            %y = Transpose(%t) {perm=p2}        %y = Reshape(%r, %s2)      %y = Unsqueeze(%q, [1])
//   after:   %y = Transpose(%x) {perm=p1[p2]}    %y = Reshape(%x, %s2)      (%y is %x)
//            (nothing when p1[p2] is the identity; a lone identity Transpose goes too)
// Transposes: composed perm c[i] = p1[p2[i]]. When it is not the identity the outer Transpose is
// rewritten only if the inner one has no other consumer (otherwise nothing gets smaller). A
// missing perm (reverse the dims) needs a known rank.
// Reshapes: the outer Reshape reads %x directly when the inner result has no other consumer and
// %s2 is a constant whose entries do not refer to the inner result's dims: no 0 unless
// allowzero=1 (0 copies the input's dim otherwise); -1 only depends on the element count, which
// every Reshape keeps.
// Squeeze/Unsqueeze (either order) cancel when both name the same axes, normalized against the
// rank of the larger tensor (axes are attributes before opset 13 and constant inputs from 13; a
// Squeeze without axes depends on the runtime shape and is left alone).
// Results keep graph output names; when that cannot be done (e.g. %x is a graph input) the nodes
// stay. Inner nodes of an enclosing graph are never erased.
#include "../graph_util.h"

#include <algorithm>
#include <unordered_set>

namespace ew::opt {

namespace {

/// The permutation of a Transpose, nullopt when it cannot be known or is not a permutation.
std::optional<std::vector<int64_t>> permOf(const ir::Node& t) {
    std::vector<int64_t> perm;
    if (const ir::Attribute* a = t.attr("perm")) {
        perm = a->ints;
    } else {
        const int64_t rank = rankOf(t.input(0));
        if (rank < 0) return std::nullopt;
        for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
    }
    std::vector<bool> seen(perm.size(), false);
    for (int64_t p : perm) {
        if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[static_cast<std::size_t>(p)]) return std::nullopt;
        seen[static_cast<std::size_t>(p)] = true;
    }
    return perm;
}

bool isIdentityPerm(const std::vector<int64_t>& perm) {
    for (std::size_t i = 0; i < perm.size(); ++i)
        if (perm[i] != static_cast<int64_t>(i)) return false;
    return true;
}

/// Squeeze/Unsqueeze axes as written (attribute before opset 13, constant input from 13).
std::optional<std::vector<int64_t>> squeezeAxes(const ir::Node& n, int64_t opset) {
    if (opset >= 13) {
        if (n.inputs().size() < 2 || !n.input(1)) return std::nullopt;
        const ir::Tensor* t = constantOf(n.input(1));
        if (!t || t->dtype != ir::DataType::Int64) return std::nullopt;
        return t->toInt64();
    }
    if (n.inputs().size() != 1 || !n.hasAttr("axes")) return std::nullopt;
    return n.attrInts("axes");
}

/// Sorted axes normalized against `rank` (which may be unknown, -1, when no axis is negative).
std::optional<std::vector<int64_t>> normalizedAxes(std::vector<int64_t> axes, int64_t rank) {
    for (int64_t& a : axes) {
        if (a < 0) {
            if (rank < 0 || a < -rank) return std::nullopt;
            a += rank;
        } else if (rank >= 0 && a >= rank) {
            return std::nullopt;
        }
    }
    std::sort(axes.begin(), axes.end());
    if (axes.empty() || std::adjacent_find(axes.begin(), axes.end()) != axes.end()) return std::nullopt;
    return axes;
}

class Canceller {
public:
    Canceller(ir::Graph& g, PassContext& ctx) : m_g(g), m_ctx(ctx) {}

    void run() {
        std::vector<ir::Node*> nodes;
        for (const auto& n : m_g.nodes()) nodes.push_back(n.get());
        for (ir::Node* n : nodes) {
            if (m_erased.count(n) || !n->input(0) || !n->output(0)) continue;
            if (isOp(*n, "Transpose"))
                transpose(n);
            else if (isOp(*n, "Reshape"))
                reshape(n);
            else if (isOp(*n, "Squeeze") || isOp(*n, "Unsqueeze"))
                squeezePair(n);
        }
    }

private:
    void erase(ir::Node* n) {
        m_ctx.removed(*n);
        m_erased.insert(n);
        eraseNode(m_g, n);
    }

    /// Erases `inner` when it belongs to this graph and its result is no longer read.
    void eraseIfUnused(ir::Node* inner) {
        const ir::Value* out = inner->output(0);
        if (inner->graph() == &m_g && out->uses().empty() && !out->isGraphOutput() && inner->outputs().size() == 1)
            erase(inner);
    }

    /// `outer` computes its input `x` unchanged: its consumers read x instead.
    bool bypass(ir::Node* outer, ir::Value* x) {
        if (!canReplaceValue(m_g, outer->output(0), x)) return false;
        replaceValue(m_g, outer->output(0), x);
        erase(outer);
        return true;
    }

    void transpose(ir::Node* t) {
        const std::optional<std::vector<int64_t>> p2 = permOf(*t);
        if (!p2) return;
        ir::Node* s = t->input(0)->producer();
        if (!s || !isOp(*s, "Transpose") || !s->input(0)) {
            if (isIdentityPerm(*p2)) bypass(t, t->input(0));
            return;
        }
        const std::optional<std::vector<int64_t>> p1 = permOf(*s);
        if (!p1 || p1->size() != p2->size()) return;
        std::vector<int64_t> composed(p2->size());
        for (std::size_t i = 0; i < p2->size(); ++i) composed[i] = (*p1)[static_cast<std::size_t>((*p2)[i])];
        ir::Value* x = s->input(0);
        if (isIdentityPerm(composed)) {
            if (bypass(t, x)) eraseIfUnused(s);
            return;
        }
        if (soleConsumer(s->output(0)) != t || s->graph() != &m_g) return;
        t->setInput(0, x);
        t->setAttr(ir::Attribute::makeInts("perm", composed));
        m_ctx.rewritten(*t);
        eraseIfUnused(s);
    }

    void reshape(ir::Node* r2) {
        if (r2->inputs().size() != 2) return;
        ir::Node* r1 = r2->input(0)->producer();
        if (!r1 || r1->graph() != &m_g || !isOp(*r1, "Reshape") || !r1->input(0) ||
            soleConsumer(r2->input(0)) != r2)
            return;
        const ir::Tensor* shape = constantOf(r2->input(1));
        if (!shape || shape->dtype != ir::DataType::Int64) return;
        const std::vector<int64_t> s2 = shape->toInt64();
        const bool allowZero = r2->attrInt("allowzero", 0) != 0;
        if (!allowZero && std::find(s2.begin(), s2.end(), 0) != s2.end()) return;
        r2->setInput(0, r1->input(0));
        m_ctx.rewritten(*r2);
        eraseIfUnused(r1);
    }

    void squeezePair(ir::Node* outer) {
        const bool outerSqueezes = isOp(*outer, "Squeeze");
        ir::Node* inner = outer->input(0)->producer();
        if (!inner || !inner->input(0) || !isOp(*inner, outerSqueezes ? "Unsqueeze" : "Squeeze")) return;
        const int64_t opset = m_ctx.opset();
        const auto outerAxes = squeezeAxes(*outer, opset);
        const auto innerAxes = squeezeAxes(*inner, opset);
        if (!outerAxes || !innerAxes) return;
        // Both lists index the tensor that has the extra 1-dims.
        const int64_t rank = outerSqueezes ? rankOf(outer->input(0)) : rankOf(inner->input(0));
        const auto a = normalizedAxes(*outerAxes, rank);
        const auto b = normalizedAxes(*innerAxes, rank);
        if (!a || a != b) return;
        if (bypass(outer, inner->input(0))) eraseIfUnused(inner);
    }

    ir::Graph& m_g;
    PassContext& m_ctx;
    std::unordered_set<const ir::Node*> m_erased;
};

} // namespace

VoidResult cancelTransposes(ir::Graph& graph, PassContext& ctx) {
    Canceller(graph, ctx).run();
    return {};
}

} // namespace ew::opt
