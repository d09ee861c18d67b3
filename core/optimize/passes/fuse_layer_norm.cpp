// fuse-layer-norm
//   before (the expanded form exporters write for nn.LayerNorm before opset 17):
//            %mean = ReduceMean(%x)  {axes=[-1], keepdims=1}     (axes as input 1 from opset 18)
//            %d    = Sub(%x, %mean)
//            %sq   = Pow(%d, 2.0)                                  (or Mul(%d, %d))
//            %var  = ReduceMean(%sq) {axes=[-1], keepdims=1}
//            %ve   = Add(%var, 1e-5)
//            %s    = Sqrt(%ve)
//            %n    = Div(%d, %s)                                  (or Mul(%d, Reciprocal(%s)))
//            %g    = Mul(%n, %gamma)                               (optional)
//            %y    = Add(%g, %beta)                                (optional)
//   after:   %y = LayerNormalization(%x, %gamma, %beta) {axis=-1, epsilon=1e-5}
// Both ReduceMeans reduce the same contiguous trailing range of %x's (known) rank with
// keepdims=1; the Add constant (one element, no broadcasting) becomes epsilon; gamma and beta
// are float constants whose shape is the normalized shape X.shape[axis:] up to leading 1s (a
// reshaped copy is made when they are not exactly that shape). Without gamma a ones scale is
// created; without beta the optional bias input is left out (same result as zeros). Every
// intermediate has a single consumer except %d (read by the square and the Div) and none is a
// graph output. LayerNormalization exists from opset 17: older models are left alone.
#include "../graph_util.h"

#include <algorithm>

namespace ew::opt {

namespace {

ir::Node* producerOp(const ir::Graph& g, const ir::Value* v, std::string_view op) {
    ir::Node* p = v ? v->producer() : nullptr;
    return p && p->graph() == &g && isOp(*p, op) ? p : nullptr;
}

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

/// The sorted, non-negative axes a keepdims=1 ReduceMean over a rank-`rank` input reduces;
/// nullopt when they are not statically known or the node is not such a reduction.
std::optional<std::vector<int64_t>> reducedAxes(const ir::Node& rm, int64_t rank, int64_t opset) {
    if (rm.attrInt("keepdims", 1) != 1) return std::nullopt;
    std::vector<int64_t> axes;
    if (opset >= 18) {
        if (rm.inputs().size() > 1 && rm.input(1)) {
            const ir::Tensor* t = constantOf(rm.input(1));
            if (!t || t->dtype != ir::DataType::Int64) return std::nullopt;
            axes = t->toInt64();
        }
        // Empty axes reduce nothing under noop_with_empty_axes=1.
        if (axes.empty() && rm.attrInt("noop_with_empty_axes", 0) != 0) return std::nullopt;
    } else {
        if (rm.inputs().size() != 1) return std::nullopt;
        axes = rm.attrInts("axes");
    }
    if (axes.empty())
        for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
    for (int64_t& a : axes) {
        if (a < -rank || a >= rank) return std::nullopt;
        if (a < 0) a += rank;
    }
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) return std::nullopt;
    return axes;
}

std::vector<int64_t> withoutLeadingOnes(const std::vector<int64_t>& dims) {
    auto it = std::find_if(dims.begin(), dims.end(), [](int64_t d) { return d != 1; });
    return {it, dims.end()};
}

/// gamma or beta as the LayerNormalization input: a float32 constant equal to the normalized
/// shape up to leading 1s (at most the input's rank, so the Mul/Add did not broadcast %x).
/// When it qualifies but is not exactly that shape, `reshaped` receives a copy with the
/// normalized shape (the caller adds it only once the whole match holds).
bool affineParam(const ir::Value* v, const std::vector<int64_t>& normDims, int64_t rank,
                 std::optional<ir::Tensor>& reshaped) {
    const ir::Tensor* t = constantOf(v);
    if (!t || t->dtype != ir::DataType::Float || static_cast<int64_t>(t->dims.size()) > rank) return false;
    if (withoutLeadingOnes(t->dims) != withoutLeadingOnes(normDims)) return false;
    if (t->dims != normDims) {
        ir::Tensor copy = *t; // shares the bytes
        copy.dims = normDims;
        reshaped = std::move(copy);
    }
    return true;
}

struct Match {
    ir::Value* x = nullptr;
    std::vector<ir::Node*> nodes;
    ir::Value* result = nullptr;
    int64_t axis = 0; ///< negative: -(number of normalized dims)
    float epsilon = 0.f;
    std::vector<int64_t> normDims;
    ir::Value* gamma = nullptr;
    ir::Value* beta = nullptr;
    std::optional<ir::Tensor> gammaReshaped, betaReshaped;
};

/// The normalization `div` divides d by s: Div(d, s), or Mul(d, Reciprocal(s)) (`recip` set, d
/// at input `dSlot` of the Mul).
std::optional<Match> matchAt(const ir::Graph& g, ir::Node* div, ir::Value* d, ir::Value* s, ir::Node* recip,
                             int dSlot, int64_t opset) {
    Match m;
    ir::Node* sub = producerOp(g, d, "Sub");
    ir::Node* sqrt = producerOp(g, s, "Sqrt");
    if (!sub || !sqrt || soleConsumer(s) != (recip ? recip : div) || d->isGraphOutput()) return std::nullopt;
    m.x = sub->input(0);
    ir::Value* mean = sub->input(1);
    ir::Node* rmMean = producerOp(g, mean, "ReduceMean");
    if (!rmMean || rmMean->input(0) != m.x || soleConsumer(mean) != sub || !isFloat(m.x)) return std::nullopt;
    const int64_t rank = rankOf(m.x);
    if (rank < 1) return std::nullopt;

    // sqrt(mean(d^2) + eps)
    ir::Value* ve = sqrt->input(0);
    ir::Node* addEps = producerOp(g, ve, "Add");
    if (!addEps || soleConsumer(ve) != sqrt || addEps->inputs().size() != 2) return std::nullopt;
    ir::Node* rmVar = nullptr;
    std::optional<double> eps;
    for (int k = 0; k < 2 && !rmVar; ++k) {
        ir::Node* r = producerOp(g, addEps->input(k), "ReduceMean");
        eps = shapePreservingScalar(addEps->input(1 - k), rank);
        if (r && eps && soleConsumer(addEps->input(k)) == addEps) rmVar = r;
    }
    if (!rmVar || *eps < 0) return std::nullopt;
    ir::Value* sq = rmVar->input(0);
    ir::Node* square = sq ? sq->producer() : nullptr;
    if (!square || square->graph() != &g || soleConsumer(sq) != rmVar || square->inputs().size() != 2)
        return std::nullopt;
    if (isOp(*square, "Pow")) {
        const std::optional<double> e = shapePreservingScalar(square->input(1), rank);
        if (square->input(0) != d || !e || *e != 2.0) return std::nullopt;
    } else if (!isOp(*square, "Mul") || square->input(0) != d || square->input(1) != d) {
        return std::nullopt;
    }
    // %d feeds exactly the square and the Div's numerator.
    for (const ir::Use& u : d->uses())
        if (u.node != square && !(u.node == div && u.inputIndex == dSlot)) return std::nullopt;
    if (s == d) return std::nullopt;

    const auto meanAxes = reducedAxes(*rmMean, rank, opset);
    const auto varAxes = reducedAxes(*rmVar, rank, opset);
    if (!meanAxes || meanAxes != varAxes) return std::nullopt;
    const int64_t k = static_cast<int64_t>(meanAxes->size());
    for (int64_t i = 0; i < k; ++i)
        if ((*meanAxes)[i] != rank - k + i) return std::nullopt; // not a contiguous trailing range
    for (int64_t i = rank - k; i < rank; ++i) {
        const ir::Dim& dim = m.x->type.shape->dims[i];
        if (!dim.isKnown()) return std::nullopt;
        m.normDims.push_back(dim.value);
    }
    m.axis = -k;
    m.epsilon = static_cast<float>(*eps);
    m.nodes = {rmMean, sub, square, rmVar, addEps, sqrt, div};
    if (recip) m.nodes.push_back(recip);
    m.result = div->output(0);

    // Optional affine tail: * gamma, + beta.
    if (ir::Node* mul = consumerOp(g, m.result, "Mul")) {
        ir::Value* gamma = otherOperand(*mul, m.result);
        if (gamma && affineParam(gamma, m.normDims, rank, m.gammaReshaped)) {
            m.gamma = gamma;
            m.nodes.push_back(mul);
            m.result = mul->output(0);
        }
    }
    if (ir::Node* add = consumerOp(g, m.result, "Add")) {
        ir::Value* beta = otherOperand(*add, m.result);
        if (beta && affineParam(beta, m.normDims, rank, m.betaReshaped)) {
            m.beta = beta;
            m.nodes.push_back(add);
            m.result = add->output(0);
        }
    }
    return m;
}

} // namespace

VoidResult fuseLayerNorm(ir::Graph& graph, PassContext& ctx) {
    const int64_t opset = ctx.opset();
    if (opset < 17) return {};
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if ((isOp(*n, "Div") || isOp(*n, "Mul")) && n->inputs().size() == 2 && n->input(0) && n->input(1))
            candidates.push_back(n.get());
    for (ir::Node* div : candidates) {
        std::optional<Match> m;
        if (isOp(*div, "Div")) {
            m = matchAt(graph, div, div->input(0), div->input(1), nullptr, 0, opset);
        } else {
            // Mul(d, Reciprocal(s)) in either operand order; the Reciprocal feeds only this Mul.
            for (int k = 0; k < 2 && !m; ++k) {
                ir::Node* recip = producerOp(graph, div->input(1 - k), "Reciprocal");
                if (recip && recip->input(0) && soleConsumer(div->input(1 - k)) == div && div->input(k) != div->input(1 - k))
                    m = matchAt(graph, div, div->input(k), recip->input(0), recip, k, opset);
            }
        }
        if (!m) continue;
        const std::string base = div->name.empty() ? std::string("layer_norm") : div->name;
        ir::Value* scale = m->gamma;
        if (m->gammaReshaped) scale = addInitializer(graph, m->gamma->name + "_reshaped", std::move(*m->gammaReshaped));
        if (!scale) {
            int64_t count = 1;
            for (int64_t dim : m->normDims) count *= dim;
            scale = addInitializer(graph, base + "_scale",
                                   floatTensor(m->normDims, std::vector<float>(static_cast<std::size_t>(count), 1.f)));
        }
        std::vector<ir::Value*> inputs = {m->x, scale};
        if (m->beta)
            inputs.push_back(m->betaReshaped
                                 ? addInitializer(graph, m->beta->name + "_reshaped", std::move(*m->betaReshaped))
                                 : m->beta);
        ir::Node* ln = fuseIntoNode(graph, ctx, m->nodes, m->result, "LayerNormalization", inputs);
        ln->setAttr(ir::Attribute::makeInt("axis", m->axis));
        ln->setAttr(ir::Attribute::makeFloat("epsilon", m->epsilon));
    }
    return {};
}

} // namespace ew::opt
