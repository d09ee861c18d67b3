#include "fusion.h"

#include "cpu/conv_depthwise.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace ew::rt {

namespace {

bool isDefaultDomain(const ir::Node& n) { return ir::canonicalDomain(n.domain).empty(); }
bool isOp(const ir::Node& n, std::string_view op) { return n.opType == op && isDefaultDomain(n); }
bool isEdgewiseOp(const ir::Node& n, std::string_view op) { return n.opType == op && n.domain == kEdgewiseDomain; }

/// The single consumer of v in g, or nullptr when v has several, none, one in another graph
/// (a nested body reading it), or is a graph output.
ir::Node* soleConsumer(const ir::Graph& g, const ir::Value* v) {
    if (!v || v->uses().size() != 1 || v->isGraphOutput()) return nullptr;
    ir::Node* n = v->uses()[0].node;
    return n->graph() == &g ? n : nullptr;
}

bool isFloatTensor(const ir::Value* v) {
    return v && v->type.isTensor() && v->type.elemType == ir::DataType::Float;
}

/// Constant float tensor of exactly n elements behind v, or nullptr.
const ir::Tensor* constantFloats(const ir::Value* v, int64_t n) {
    const ir::Tensor* t = v ? ir::constantTensorOf(v) : nullptr;
    if (!t || t->dtype != ir::DataType::Float || t->numElements() != n) return nullptr;
    return t;
}

/// Reads a single-node activation into (name, params); false when it is not one we fuse.
bool activationOf(const ir::Node& n, std::string& name, std::vector<float>& params) {
    if (n.inputs().empty() || n.outputs().size() != 1) return false;
    params.clear();
    if (isEdgewiseOp(n, "Silu") || isEdgewiseOp(n, "HardSwish")) {
        name = n.opType;
        return n.inputs().size() == 1;
    }
    if (!isDefaultDomain(n)) return false;
    const std::string& op = n.opType;
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish") {
        name = op;
        return n.inputs().size() == 1;
    }
    if (op == "LeakyRelu") {
        name = op;
        params = {n.attrFloat("alpha", 0.01f)};
        return true;
    }
    if (op == "HardSigmoid") {
        name = op;
        params = {n.attrFloat("alpha", 0.2f), n.attrFloat("beta", 0.5f)};
        return true;
    }
    if (op == "Clip") {
        float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
        if (n.hasAttr("min") || n.hasAttr("max")) { // opset < 11
            lo = n.attrFloat("min", lo);
            hi = n.attrFloat("max", hi);
        }
        for (std::size_t i = 1; i < n.inputs().size() && i < 3; ++i) {
            if (!n.input(i)) continue;
            const ir::Tensor* t = ir::constantTensorOf(n.input(i));
            if (!t || t->dtype != ir::DataType::Float || t->numElements() != 1) return false;
            (i == 1 ? lo : hi) = static_cast<float>(t->valueAsDouble(0));
        }
        name = op;
        params = {lo, hi};
        return true;
    }
    return false;
}

/// The pair Sigmoid(x) -> Mul(x, s) / Mul(s, x) reading x, where s feeds only the Mul: the
/// Sigmoid, or nullptr. When `exclusive`, x must have no other consumer and not be a graph output.
ir::Node* siluSigmoid(const ir::Graph& g, const ir::Node& mul, bool exclusive) {
    if (!isOp(mul, "Mul") || mul.inputs().size() != 2 || !mul.output(0) || !isFloatTensor(mul.output(0)))
        return nullptr;
    for (int k = 0; k < 2; ++k) {
        ir::Value* s = mul.input(k);
        ir::Value* x = mul.input(1 - k);
        if (!s || !x || s == x || !isFloatTensor(x)) continue;
        ir::Node* sig = s->producer();
        if (!sig || sig->graph() != &g || !isOp(*sig, "Sigmoid") || sig->inputs().size() != 1 || sig->input(0) != x)
            continue;
        if (soleConsumer(g, s) != &mul) continue;
        if (exclusive && (x->isGraphOutput() || x->uses().size() != 2)) continue;
        return sig;
    }
    return nullptr;
}

/// A constant of one element that cannot broadcast a rank-`rank` tensor to another shape, as a
/// double.
std::optional<double> shapePreservingScalar(const ir::Value* v, int64_t rank) {
    const ir::Tensor* t = v ? ir::constantTensorOf(v) : nullptr;
    if (!t || t->numElements() != 1 || !t->strings.empty()) return std::nullopt;
    if (!t->dims.empty() && (rank < 0 || static_cast<int64_t>(t->dims.size()) > rank)) return std::nullopt;
    return t->valueAsDouble(0);
}

int64_t rankOf(const ir::Value* v) {
    if (!v || !v->type.isTensor() || !v->type.shape) return -1;
    return static_cast<int64_t>(v->type.shape->rank());
}

/// v is a constant equal to `expected` (0 exactly, anything else within 1e-4 relative).
bool isConstNear(const ir::Value* v, double expected, int64_t rank) {
    const std::optional<double> c = shapePreservingScalar(v, rank);
    return c && (expected == 0.0 ? *c == 0.0 : std::abs(*c - expected) <= 1e-4 * std::abs(expected));
}

ir::Value* otherOperand(const ir::Node& n, const ir::Value* v) {
    if (n.inputs().size() != 2) return nullptr;
    if (n.input(0) == v) return n.input(1);
    if (n.input(1) == v) return n.input(0);
    return nullptr;
}

bool hardSwishType(const ir::Value* x) {
    if (!x || !x->type.isTensor() || ir::constantTensorOf(x)) return false;
    const ir::DataType t = x->type.elemType;
    return t == ir::DataType::Float || t == ir::DataType::Float16 || t == ir::DataType::Double;
}

/// n computes w / 6 or w * (1/6) (either order).
bool dividesBySix(const ir::Node& n, const ir::Value* w, int64_t rank) {
    if (isOp(n, "Div")) return n.inputs().size() == 2 && n.input(0) == w && isConstNear(n.input(1), 6.0, rank);
    if (isOp(n, "Mul")) return isConstNear(otherOperand(n, w), 1.0 / 6.0, rank);
    return false;
}

ir::Node* consumerOp(const ir::Graph& g, const ir::Value* v, std::string_view op) {
    ir::Node* c = soleConsumer(g, v);
    return c && isOp(*c, op) ? c : nullptr;
}

/// x * HardSigmoid(x) with HardSwish's alpha and beta.
std::optional<HardSwishMatch> matchHardSigmoidMul(const ir::Graph& g, ir::Node* hs) {
    HardSwishMatch m;
    m.x = hs->input(0);
    if (!hardSwishType(m.x) || std::abs(hs->attrFloat("alpha", 0.2f) - 1.0 / 6.0) > 1e-4 / 6.0 ||
        std::abs(hs->attrFloat("beta", 0.5f) - 0.5) > 0.5e-4)
        return std::nullopt;
    ir::Node* mul = consumerOp(g, hs->output(0), "Mul");
    if (!mul || otherOperand(*mul, hs->output(0)) != m.x) return std::nullopt;
    m.nodes = {hs, mul};
    m.result = mul->output(0);
    return m;
}

/// x * Clip(x + 3, 0, 6) / 6 in either association.
std::optional<HardSwishMatch> matchClipChain(const ir::Graph& g, ir::Node* clip) {
    const bool attrBounds = clip->hasAttr("min") || clip->hasAttr("max"); // opset < 11
    if (attrBounds ? clip->inputs().size() != 1 || clip->attrFloat("min", -1.f) != 0.f ||
                         std::abs(clip->attrFloat("max", 0.f) - 6.0) > 6e-4
                   : clip->inputs().size() != 3)
        return std::nullopt;
    ir::Value* a = clip->input(0);
    ir::Node* add = a ? a->producer() : nullptr;
    if (!add || add->graph() != &g || !isOp(*add, "Add") || add->inputs().size() != 2 || soleConsumer(g, a) != clip)
        return std::nullopt;
    HardSwishMatch m;
    for (int k = 0; k < 2 && !m.x; ++k)
        if (isConstNear(add->input(1 - k), 3.0, rankOf(add->input(k)))) m.x = add->input(k);
    if (!hardSwishType(m.x)) return std::nullopt;
    const int64_t rank = rankOf(m.x);
    if (!attrBounds && (!isConstNear(clip->input(1), 0.0, rank) || !isConstNear(clip->input(2), 6.0, rank)))
        return std::nullopt;
    ir::Value* c = clip->output(0);
    ir::Node* next = soleConsumer(g, c);
    if (!next) return std::nullopt;
    if (isOp(*next, "Mul") && otherOperand(*next, c) == m.x) {
        // (x * clip) / 6
        ir::Node* scale = soleConsumer(g, next->output(0));
        if (!scale || !dividesBySix(*scale, next->output(0), rank)) return std::nullopt;
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

/// The decomposed HardSwish whose two readers of x are exactly x's uses (x no graph output).
std::optional<HardSwishMatch> hardSwishReading(const ir::Graph& g, ir::Value* x) {
    if (!x || x->isGraphOutput() || x->uses().size() != 2) return std::nullopt;
    for (const ir::Use& u : x->uses()) {
        ir::Node* n = u.node;
        if (n->graph() != &g) continue;
        ir::Node* first = isOp(*n, "HardSigmoid") ? n : isOp(*n, "Add") ? consumerOp(g, n->output(0), "Clip") : nullptr;
        if (!first) continue;
        std::optional<HardSwishMatch> m = matchHardSwish(g, *first);
        if (m && m->x == x) return m;
    }
    return std::nullopt;
}

/// An activation reading `out`: the nodes to absorb (one, or Sigmoid + Mul for SiLU) and the
/// value the last of them produces.
struct ActivationMatch {
    std::string name;
    std::vector<float> params;
    std::vector<ir::Node*> nodes;
    ir::Value* out = nullptr;
};

/// Which activations a fusion may take.
enum class ActFilter { Any, SiluOnly };

bool matchActivation(const ir::Graph& g, ir::Value* out, ActFilter filter, ActivationMatch& m) {
    if (!out || out->isGraphOutput()) return false;
    if (out->uses().size() == 1) {
        ir::Node* n = soleConsumer(g, out);
        if (!n || n->input(0) != out || !n->output(0) || !activationOf(*n, m.name, m.params)) return false;
        if (filter == ActFilter::SiluOnly && m.name != "Silu") return false;
        m.nodes = {n};
        m.out = n->output(0);
        return true;
    }
    if (out->uses().size() == 2) {
        for (const ir::Use& u : out->uses()) {
            ir::Node* sig = u.node->graph() == &g ? siluSigmoid(g, *u.node, /*exclusive=*/true) : nullptr;
            if (!sig || sig->input(0) != out) continue;
            m.name = "Silu";
            m.params.clear();
            m.nodes = {sig, u.node};
            m.out = u.node->output(0);
            return true;
        }
        if (filter == ActFilter::SiluOnly || !isFloatTensor(out)) return false;
        if (std::optional<HardSwishMatch> hs = hardSwishReading(g, out)) {
            m.name = "HardSwish";
            m.params.clear();
            m.nodes = hs->nodes;
            m.out = hs->result;
            return true;
        }
    }
    return false;
}

/// Replaces `head` and the nodes of `chain` (in data-flow order, each reading the previous one's
/// output) by one node `op` of Edgewise's domain with `head`'s name and attributes, reading `ins`
/// and writing the chain's last output; the activation (if any) goes into its attributes. The
/// intermediate values disappear. The caller sorts the graph afterwards.
ir::Node* replaceChain(ir::Graph& g, ir::Node* head, const std::vector<ir::Node*>& chain, const std::string& op,
                       const std::vector<ir::Value*>& ins, const ActivationMatch* act, const FusionListener* listener) {
    if (listener && listener->fused)
        for (const ir::Node* n : chain) listener->fused(*n, *head);
    // Detach the chain's final output from its producer so the fused node can own it.
    std::vector<ir::Node*> rest = chain;
    ir::Value* out = rest.back()->output(0);
    g.removeNode(rest.back());
    rest.pop_back();
    ir::Node* fusedNode = g.addNode(op, kEdgewiseDomain, head->name, ins, {out});
    for (const auto& a : head->attributes)
        if (a.name != "activation" && a.name != "activation_params") fusedNode->attributes.push_back(a.clone(&g, fusedNode));
    if (act) {
        fusedNode->setAttr(ir::Attribute::makeString("activation", act->name));
        if (!act->params.empty()) fusedNode->setAttr(ir::Attribute::makeFloats("activation_params", act->params));
    }
    // The rest of the chain back to front (each one's output has lost its last reader), then
    // the head, with the values they produced.
    for (auto it = rest.rbegin(); it != rest.rend(); ++it) {
        ir::Value* mid = (*it)->output(0);
        g.removeNode(*it);
        if (mid && mid->uses().empty() && !mid->producer()) g.removeValue(mid);
    }
    std::vector<ir::Value*> headOuts = head->outputs();
    g.removeNode(head);
    for (ir::Value* v : headOuts)
        if (v && v != out && v->uses().empty() && !v->producer() && !v->isGraphOutput()) g.removeValue(v);
    if (listener && listener->rewritten) listener->rewritten(*fusedNode);
    return fusedNode;
}

/// An inference-mode BatchNormalization over the channels of the Conv output (the BN being its
/// only consumer is checked by the caller) with constant scale, B, mean and var. With `apply`,
/// folds it into new weight and bias initializers (computed in double: W' = W * s,
/// b' = (b - mean) * s + B with s = scale / sqrt(var + epsilon)); otherwise only checks.
/// Returns false (and changes nothing) when it does not apply.
bool foldBatchNorm(ir::Graph& g, const ir::Node& conv, const ir::Tensor& w, const ir::Node& bn, bool apply,
                   ir::Value*& newW, ir::Value*& newB) {
    if (bn.opType != "BatchNormalization" || !isDefaultDomain(bn) || bn.inputs().size() != 5 || bn.input(0) != conv.output(0))
        return false;
    if (bn.attrInt("training_mode", 0) != 0) return false;
    for (std::size_t i = 1; i < bn.outputs().size(); ++i) // training outputs: must be absent
        if (bn.output(i)) return false;
    if (!bn.output(0) || !isFloatTensor(bn.output(0))) return false;
    const int64_t M = w.dims[0];
    const ir::Tensor* scale = constantFloats(bn.input(1), M);
    const ir::Tensor* beta = constantFloats(bn.input(2), M);
    const ir::Tensor* mean = constantFloats(bn.input(3), M);
    const ir::Tensor* var = constantFloats(bn.input(4), M);
    const ir::Tensor* bias = conv.inputs().size() > 2 && conv.input(2) ? constantFloats(conv.input(2), M) : nullptr;
    if (!scale || !beta || !mean || !var || (conv.inputs().size() > 2 && conv.input(2) && !bias)) return false;
    // The Conv's output must be [N, M, ...] so that BN's channel axis is the Conv's output channel.
    const double eps = bn.attrFloat("epsilon", 1e-5f);
    const int64_t per = M > 0 ? w.numElements() / M : 0;
    if (M <= 0 || per <= 0) return false;
    if (!apply) return true;
    const std::vector<double> wv = w.toDouble();
    std::vector<float> w2(wv.size()), b2(static_cast<std::size_t>(M));
    for (int64_t m = 0; m < M; ++m) {
        const double sc = scale->valueAsDouble(m) / std::sqrt(var->valueAsDouble(m) + eps);
        for (int64_t k = 0; k < per; ++k)
            w2[std::size_t(m * per + k)] = static_cast<float>(wv[std::size_t(m * per + k)] * sc);
        const double b = bias ? bias->valueAsDouble(m) : 0.0;
        b2[std::size_t(m)] = static_cast<float>((b - mean->valueAsDouble(m)) * sc + beta->valueAsDouble(m));
    }
    auto add = [&](const std::string& base, std::vector<int64_t> dims, std::vector<float> data) -> ir::Value* {
        const std::string name = g.uniqueName(base);
        auto v = g.addValue(name, ir::Type::tensor(ir::DataType::Float, ir::Shape::of(dims)));
        if (!v) return nullptr;
        (*v)->initializer = ir::Tensor::fromVector(name, ir::DataType::Float, std::move(dims), std::move(data));
        g.initializers.push_back(*v);
        return *v;
    };
    newW = add(conv.input(1)->name + "_bn", w.dims, std::move(w2));
    newB = newW ? add(bn.output(0)->name + "_bias", {M}, std::move(b2)) : nullptr;
    return newW && newB;
}

/// The Conv chain fusion; with ActFilter::SiluOnly only chains that end in SiLU are taken.
int fuseConvChainsImpl(ir::Graph& g, ActFilter filter, const FusionListener* listener) {
    int fused = 0;
    std::vector<ir::Node*> convs;
    for (const auto& n : g.nodes())
        if (isOp(*n, "Conv")) convs.push_back(n.get());
    for (ir::Node* conv : convs) {
        const ir::Tensor* w = ir::constantTensorOf(conv->input(1));
        ir::Value* y = conv->output(0);
        if (!w || w->dtype != ir::DataType::Float || w->dims.size() < 3 || w->dims.size() > 5 ||
            !isFloatTensor(conv->input(0)) || !y)
            continue;
        // Match the whole chain first; nothing changes before it is known to be taken.
        std::vector<ir::Node*> chain;
        ir::Node* bn = nullptr;
        ir::Value* residual = nullptr;
        ir::Value* out = y;
        ir::Node* next = soleConsumer(g, out);
        ir::Value *foldedW = nullptr, *foldedB = nullptr;
        if (next && foldBatchNorm(g, *conv, *w, *next, /*apply=*/false, foldedW, foldedB)) {
            bn = next;
            chain.push_back(next);
            out = next->output(0);
            next = soleConsumer(g, out);
        }
        if (next && isOp(*next, "Add") && next->inputs().size() == 2) {
            ir::Value* other = next->input(0) == out ? next->input(1) : next->input(0);
            const bool sameShape = other && other != out && y->type.shape && other->type.shape &&
                                   out->type.shape && *out->type.shape == *y->type.shape &&
                                   *y->type.shape == *other->type.shape && y->type.shape->isFullyKnown() &&
                                   isFloatTensor(other) && next->output(0);
            if (sameShape) {
                residual = other;
                chain.push_back(next);
                out = next->output(0);
            }
        }
        ActivationMatch act;
        const bool hasAct = matchActivation(g, out, filter, act);
        if (hasAct) chain.insert(chain.end(), act.nodes.begin(), act.nodes.end());
        if (chain.empty() || (filter == ActFilter::SiluOnly && !hasAct)) continue;

        ir::Value* weightsIn = conv->input(1);
        ir::Value* biasIn = conv->inputs().size() > 2 ? conv->input(2) : nullptr;
        if (bn) {
            if (!foldBatchNorm(g, *conv, *w, *bn, /*apply=*/true, foldedW, foldedB)) continue;
            weightsIn = foldedW;
            biasIn = foldedB;
        }
        replaceChain(g, conv, chain, "FusedConv", {conv->input(0), weightsIn, biasIn, residual}, hasAct ? &act : nullptr,
                     listener);
        ++fused;
    }
    if (fused) (void)g.sortTopologically();
    return fused;
}

/// The optional activation of a quantized pattern: a Relu or Clip that alone reads `out` (the
/// head's float output) joins `chain` and `act`; `out` becomes the last float value. Returns the
/// node that alone reads it (the QuantizeLinear the pattern ends with), or null.
ir::Node* optionalReluClip(const ir::Graph& g, ir::Value*& out, std::vector<ir::Node*>& chain, ActivationMatch& act,
                           bool& hasAct) {
    ir::Node* next = soleConsumer(g, out);
    hasAct = false;
    if (next && (isOp(*next, "Relu") || isOp(*next, "Clip")) && next->input(0) == out &&
        activationOf(*next, act.name, act.params) && next->output(0) && isFloatTensor(next->output(0))) {
        hasAct = true;
        act.nodes = {next};
        chain.push_back(next);
        out = next->output(0);
        next = soleConsumer(g, out);
    }
    return next;
}

/// DequantizeLinear(q, scale, zp) feeding `v` (in g): the node, or nullptr. Blocked forms and
/// opset-21 output_dtype other than float are not taken.
ir::Node* dequantizeOf(const ir::Graph& g, const ir::Value* v) {
    ir::Node* dq = v ? v->producer() : nullptr;
    if (!dq || dq->graph() != &g || !isOp(*dq, "DequantizeLinear") || dq->inputs().size() < 2 || !dq->input(0) ||
        !dq->input(1))
        return nullptr;
    if (dq->attrInt("block_size", 0) != 0) return nullptr;
    const int64_t od = dq->attrInt("output_dtype", 0);
    if (od != 0 && od != static_cast<int64_t>(ir::DataType::Float)) return nullptr;
    if (!isFloatTensor(dq->output(0))) return nullptr;
    return dq;
}

bool is8Bit(ir::DataType t) { return t == ir::DataType::UInt8 || t == ir::DataType::Int8; }

/// Zero point input i of a Q/DQ node: absent, or constant with `n` elements of type `t`.
bool zeroPointOk(const ir::Node& n, std::size_t i, int64_t count, ir::DataType t) {
    if (n.inputs().size() <= i || !n.input(i)) return true;
    const ir::Tensor* z = ir::constantTensorOf(n.input(i));
    return z && z->dtype == t && z->numElements() == count;
}

/// Scalar activation quantization: DequantizeLinear(x_q 8-bit, scalar constant scale, scalar
/// constant zero point).
bool scalarDequantize(const ir::Node& dq) {
    const ir::Value* q = dq.input(0);
    if (!q->type.isTensor() || !is8Bit(q->type.elemType)) return false;
    const ir::Tensor* s = constantFloats(dq.input(1), 1);
    return s && s->dims.size() <= 1 && zeroPointOk(dq, 2, 1, q->type.elemType);
}

/// Weight quantization: constant 8-bit w_q of `rank` dims, scale (and zero point) a scalar or one
/// per entry of dimension `channelAxis`. Sets the channel count.
bool weightDequantize(const ir::Node& dq, std::size_t rank, int64_t channelAxis, int64_t& channels) {
    const ir::Tensor* w = ir::constantTensorOf(dq.input(0));
    if (!w || !is8Bit(w->dtype) || w->dims.size() != rank) return false;
    channels = w->dims[std::size_t(channelAxis)];
    const ir::Tensor* s = ir::constantTensorOf(dq.input(1));
    if (!s || s->dtype != ir::DataType::Float) return false;
    if (s->numElements() == 1 && s->dims.size() <= 1) return zeroPointOk(dq, 2, 1, w->dtype);
    int64_t axis = dq.attrInt("axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(rank);
    if (axis != channelAxis || s->dims.size() != 1 || s->numElements() != channels) return false;
    return zeroPointOk(dq, 2, channels, w->dtype);
}

/// The bias as int32 at scale x_scale * w_scale[c] (c < channels): from DequantizeLinear(int32
/// constant) or a float constant. Reuses the int32 initializer when its scale is already that one.
ir::Value* quantizedBias(ir::Graph& g, ir::Value* b, float xs, const ir::Tensor& ws, int64_t channels, bool apply) {
    auto shapeOk = [&](const std::vector<int64_t>& d) {
        return d == std::vector<int64_t>{channels} || d == std::vector<int64_t>{1, channels};
    };
    std::vector<double> values;
    ir::Value* reuse = nullptr;
    if (const ir::Tensor* f = constantFloats(b, channels)) {
        if (!shapeOk(f->dims)) return nullptr;
        if (!apply) return b;
        values = f->toDouble();
    } else {
        ir::Node* dq = b ? b->producer() : nullptr;
        if (!dq || dq->graph() != &g || !isOp(*dq, "DequantizeLinear") || dq->inputs().size() < 2 || !isFloatTensor(b))
            return nullptr;
        const ir::Tensor* q = ir::constantTensorOf(dq->input(0));
        const ir::Tensor* s = ir::constantTensorOf(dq->input(1));
        if (!q || q->dtype != ir::DataType::Int32 || q->numElements() != channels || !shapeOk(q->dims)) return nullptr;
        if (!s || s->dtype != ir::DataType::Float || (s->numElements() != 1 && s->numElements() != channels)) return nullptr;
        const ir::Tensor* z = dq->inputs().size() > 2 && dq->input(2) ? ir::constantTensorOf(dq->input(2)) : nullptr;
        if (dq->inputs().size() > 2 && dq->input(2) && (!z || (z->numElements() != 1 && z->numElements() != channels)))
            return nullptr;
        if (!apply) return b;
        bool same = true;
        values.resize(static_cast<std::size_t>(channels));
        for (int64_t c = 0; c < channels; ++c) {
            const int64_t zc = z ? z->valueAsInt(z->numElements() == 1 ? 0 : c) : 0;
            const float sc = static_cast<float>(s->valueAsDouble(s->numElements() == 1 ? 0 : c));
            const float target = xs * static_cast<float>(ws.valueAsDouble(ws.numElements() == 1 ? 0 : c));
            if (zc != 0 || sc != target) same = false;
            // What DequantizeLinear computes, in float.
            values[std::size_t(c)] = static_cast<float>(q->valueAsInt(c) - zc) * sc;
        }
        if (same && q->dims.size() == 1) reuse = dq->input(0);
    }
    if (reuse) return reuse;
    std::vector<int32_t> qb(static_cast<std::size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
        const double sc = static_cast<double>(xs * static_cast<float>(ws.valueAsDouble(ws.numElements() == 1 ? 0 : c)));
        double v = sc != 0 ? std::nearbyint(values[std::size_t(c)] / sc) : 0.0;
        v = std::clamp(v, double(std::numeric_limits<int32_t>::lowest()), double(std::numeric_limits<int32_t>::max()));
        qb[std::size_t(c)] = static_cast<int32_t>(v);
    }
    const std::string name = g.uniqueName(b->name + "_int32");
    auto v = g.addValue(name, ir::Type::tensor(ir::DataType::Int32, ir::Shape::of({channels})));
    if (!v) return nullptr;
    (*v)->initializer = ir::Tensor::fromVector(name, ir::DataType::Int32, {channels}, std::move(qb));
    g.initializers.push_back(*v);
    return *v;
}

/// Removes `n` (a DequantizeLinear) when nothing reads its output any more.
void dropIfUnused(ir::Graph& g, ir::Node* n) {
    if (!n) return;
    ir::Value* out = n->output(0);
    if (!out || !out->uses().empty() || out->isGraphOutput()) return;
    g.removeNode(n);
    g.removeValue(out);
}

/// A scalar quantization's parameters: its constant scale and zero point (0 of `type` when absent).
struct ScalarQuant {
    float scale = 0.f;
    int64_t zp = 0;
    ir::DataType type = ir::DataType::UInt8;
    bool operator==(const ScalarQuant&) const = default;
};

/// The QuantizeLinear `q` (plain, scalar constant scale and zero point, 8-bit output) as a
/// ScalarQuant; false otherwise. The scale must be a normal positive float (so a float that
/// passes through DequantizeLinear and back lands on the same integer).
bool scalarQuantize(const ir::Node& q, ScalarQuant& out) {
    if (!isOp(q, "QuantizeLinear") || q.inputs().size() < 2 || !q.input(1) || !q.output(0) ||
        q.attrInt("output_dtype", 0) != 0 || q.attrInt("block_size", 0) != 0)
        return false;
    const ir::Tensor* s = constantFloats(q.input(1), 1);
    if (!s || s->dims.size() > 1) return false;
    out.scale = static_cast<float>(s->valueAsDouble(0));
    out.type = ir::DataType::UInt8;
    out.zp = 0;
    if (q.inputs().size() > 2 && q.input(2)) {
        const ir::Tensor* z = ir::constantTensorOf(q.input(2));
        if (!z || !is8Bit(z->dtype) || z->numElements() != 1) return false;
        out.type = z->dtype;
        out.zp = z->valueAsInt(0);
    }
    if (!q.output(0)->type.isTensor() || q.output(0)->type.elemType != out.type) return false;
    return std::isnormal(out.scale) && out.scale > 0.f && std::isfinite(out.scale * 512.f);
}

/// The DequantizeLinear `dq` (scalarDequantize) as a ScalarQuant.
ScalarQuant dequantParams(const ir::Node& dq) {
    ScalarQuant p;
    p.scale = static_cast<float>(ir::constantTensorOf(dq.input(1))->valueAsDouble(0));
    p.type = dq.input(0)->type.elemType;
    if (dq.inputs().size() > 2 && dq.input(2)) p.zp = ir::constantTensorOf(dq.input(2))->valueAsInt(0);
    return p;
}

/// Add(DQ(a), DQ(b)) [-> Relu | Clip] -> Q => ai.edgewise.QAdd (see fusion.h).
int fuseQdqAdds(ir::Graph& g, const FusionListener* listener) {
    int fused = 0;
    std::vector<ir::Node*> adds;
    for (const auto& n : g.nodes())
        if (isOp(*n, "Add")) adds.push_back(n.get());
    for (ir::Node* add : adds) {
        if (add->inputs().size() != 2 || !add->output(0) || !isFloatTensor(add->output(0))) continue;
        ir::Node* dqa = dequantizeOf(g, add->input(0));
        ir::Node* dqb = dequantizeOf(g, add->input(1));
        if (!dqa || !dqb || !scalarDequantize(*dqa) || !scalarDequantize(*dqb)) continue;
        // The same shape, every dim known or the same symbol (no broadcasting: residual blocks;
        // the kernel still checks the dims it is given).
        const ir::Value* qa = dqa->input(0);
        const ir::Value* qb = dqb->input(0);
        if (!qa->type.shape || !qb->type.shape || !(*qa->type.shape == *qb->type.shape) ||
            !std::all_of(qa->type.shape->dims.begin(), qa->type.shape->dims.end(),
                         [](const ir::Dim& d) { return d.isKnown() || d.isSymbolic(); }))
            continue;
        std::vector<ir::Node*> chain;
        ir::Value* out = add->output(0);
        ActivationMatch act;
        bool hasAct = false;
        ir::Node* next = optionalReluClip(g, out, chain, act, hasAct);
        ScalarQuant yq;
        if (!next || next->input(0) != out || !scalarQuantize(*next, yq)) continue;
        chain.push_back(next);
        auto in = [](const ir::Node* n, std::size_t i) { return n->inputs().size() > i ? n->input(i) : nullptr; };
        std::vector<ir::Value*> ins = {dqa->input(0), dqa->input(1), in(dqa, 2), dqb->input(0), dqb->input(1),
                                       in(dqb, 2),    next->input(1), in(next, 2)};
        replaceChain(g, add, chain, "QAdd", ins, hasAct ? &act : nullptr, listener);
        dropIfUnused(g, dqa);
        if (dqb != dqa) dropIfUnused(g, dqb);
        ++fused;
    }
    return fused;
}

/// DQ(x_q) -> MaxPool -> Q with the same scale, zero point and type => QMaxPool(x_q) (see fusion.h).
int fuseQdqMaxPools(ir::Graph& g, const FusionListener* listener) {
    int fused = 0;
    std::vector<ir::Node*> pools;
    for (const auto& n : g.nodes())
        if (isOp(*n, "MaxPool")) pools.push_back(n.get());
    for (ir::Node* pool : pools) {
        if (pool->inputs().size() != 1 || !pool->output(0) || !isFloatTensor(pool->output(0))) continue;
        if (pool->outputs().size() > 1 && pool->output(1)) continue; // Indices
        ir::Node* dq = dequantizeOf(g, pool->input(0));
        if (!dq || !scalarDequantize(*dq)) continue;
        ir::Node* q = soleConsumer(g, pool->output(0));
        ScalarQuant yq;
        if (!q || q->input(0) != pool->output(0) || !scalarQuantize(*q, yq) || !(dequantParams(*dq) == yq)) continue;
        // Every window must hold an input element (QMaxPool fills padding with the type's minimum).
        const std::vector<int64_t> ks = pool->attrInts("kernel_shape"), pads = pool->attrInts("pads");
        std::vector<int64_t> dil = pool->attrInts("dilations");
        if (ks.size() != 2 || pool->attrInt("ceil_mode", 0) != 0 || pool->attrString("auto_pad", "NOTSET") != "NOTSET" ||
            (!pads.empty() && pads.size() != 4) || (!dil.empty() && dil.size() != 2))
            continue;
        if (dil.empty()) dil = {1, 1};
        bool padsOk = true;
        for (std::size_t i = 0; i < pads.size(); ++i) padsOk = padsOk && pads[i] >= 0 && pads[i] <= (ks[i % 2] - 1) * dil[i % 2];
        if (!padsOk) continue;
        if (listener && listener->fused) listener->fused(*q, *pool);
        ir::Value* x = dq->input(0);
        ir::Value* y = q->output(0);
        ir::Value* mid = pool->output(0);
        const std::string name = pool->name;
        std::vector<ir::Attribute> attrs;
        for (const auto& a : pool->attributes) attrs.push_back(a.clone(&g, nullptr));
        g.removeNode(q);
        g.removeNode(pool);
        g.removeValue(mid);
        ir::Node* node = g.addNode("QMaxPool", kEdgewiseDomain, name, {x}, {y});
        for (auto& a : attrs) node->setAttr(std::move(a));
        if (listener && listener->rewritten) listener->rewritten(*node);
        dropIfUnused(g, dq);
        ++fused;
    }
    return fused;
}

} // namespace

int fuseQdq(ir::Graph& g, const FusionListener* listener) {
    int fused = 0;
    std::vector<ir::Node*> heads;
    for (const auto& n : g.nodes())
        if (isOp(*n, "Conv") || isOp(*n, "Gemm") || isOp(*n, "MatMul")) heads.push_back(n.get());
    for (ir::Node* head : heads) {
        const bool conv = head->opType == "Conv";
        const bool gemm = head->opType == "Gemm";
        if (head->inputs().size() < 2 || !head->output(0) || !isFloatTensor(head->output(0))) continue;
        ir::Node* dqx = dequantizeOf(g, head->input(0));
        ir::Node* dqw = dequantizeOf(g, head->input(1));
        if (!dqx || !dqw || dqx == dqw || !scalarDequantize(*dqx)) continue;
        bool transB = false;
        if (gemm) {
            if (head->attrInt("transA", 0) != 0 || head->attrFloat("alpha", 1.f) != 1.f) continue;
            if (head->inputs().size() > 2 && head->input(2) && head->attrFloat("beta", 1.f) != 1.f) continue;
            transB = head->attrInt("transB", 0) != 0;
        }
        int64_t channels = 0;
        if (!weightDequantize(*dqw, conv ? 4 : 2, conv ? 0 : (transB ? 0 : 1), channels)) continue;
        if (conv && head->attrInt("group", 1) < 1) continue;
        // The chain: [activation] -> QuantizeLinear, each float value read only by the next.
        std::vector<ir::Node*> chain;
        ir::Value* out = head->output(0);
        ActivationMatch act;
        bool hasAct = false;
        ir::Node* next = optionalReluClip(g, out, chain, act, hasAct);
        if (!next || !isOp(*next, "QuantizeLinear") || next->inputs().size() < 2 || next->input(0) != out ||
            !next->output(0) || next->attrInt("output_dtype", 0) != 0 || next->attrInt("block_size", 0) != 0)
            continue;
        const ir::Tensor* ys = constantFloats(next->input(1), 1);
        if (!ys || ys->dims.size() > 1) continue;
        ir::DataType yt = ir::DataType::UInt8;
        if (next->inputs().size() > 2 && next->input(2)) {
            const ir::Tensor* z = ir::constantTensorOf(next->input(2));
            if (!z || !is8Bit(z->dtype) || z->numElements() != 1) continue;
            yt = z->dtype;
        }
        if (!next->output(0)->type.isTensor() || next->output(0)->type.elemType != yt) continue;
        chain.push_back(next);
        // Bias (checked, then built once the pattern is known to be taken).
        ir::Value* bias = nullptr;
        if (head->inputs().size() > 2 && head->input(2)) {
            bias = head->input(2);
            const ir::Tensor* ws = ir::constantTensorOf(dqw->input(1));
            if (!quantizedBias(g, bias, 0.f, *ws, channels, /*apply=*/false)) continue;
        }
        const float xs = static_cast<float>(ir::constantTensorOf(dqx->input(1))->valueAsDouble(0));
        ir::Node* dqb = bias ? bias->producer() : nullptr;
        if (bias) {
            bias = quantizedBias(g, bias, xs, *ir::constantTensorOf(dqw->input(1)), channels, /*apply=*/true);
            if (!bias) continue;
        }
        auto in = [](const ir::Node* n, std::size_t i) { return n->inputs().size() > i ? n->input(i) : nullptr; };
        std::vector<ir::Value*> ins = {dqx->input(0), dqx->input(1), in(dqx, 2), dqw->input(0), dqw->input(1),
                                       in(dqw, 2),    next->input(1), in(next, 2), bias};
        ir::Node* node = replaceChain(g, head, chain, conv ? "QConv" : "QGemm", ins, hasAct ? &act : nullptr, listener);
        if (!conv && !node->hasAttr("transB")) node->setAttr(ir::Attribute::makeInt("transB", 0));
        dropIfUnused(g, dqx);
        dropIfUnused(g, dqw);
        if (dqb && dqb->graph() == &g && isOp(*dqb, "DequantizeLinear")) dropIfUnused(g, dqb);
        ++fused;
    }
    fused += fuseQdqAdds(g, listener);
    fused += fuseQdqMaxPools(g, listener);
    if (fused) (void)g.sortTopologically();
    return fused;
}

namespace {
} // namespace

int fuseConvChains(ir::Graph& g, const FusionListener* listener) {
    return fuseConvChainsImpl(g, ActFilter::Any, listener);
}

int fuseGemmActivations(ir::Graph& g, const FusionListener* listener) {
    int fused = 0;
    std::vector<ir::Node*> heads;
    for (const auto& n : g.nodes())
        if (isOp(*n, "Gemm") || isOp(*n, "MatMul")) heads.push_back(n.get());
    for (ir::Node* head : heads) {
        ir::Value* a = head->input(0);
        ir::Value* y = head->output(0);
        const ir::Tensor* b = head->inputs().size() > 1 ? ir::constantTensorOf(head->input(1)) : nullptr;
        if (!isFloatTensor(a) || !isFloatTensor(y) || !b || b->dtype != ir::DataType::Float || b->dims.size() != 2)
            continue;
        std::vector<ir::Node*> chain;
        std::vector<ir::Value*> ins = {a, head->input(1)};
        ir::Value* out = y;
        if (head->opType == "Gemm") {
            if (head->inputs().size() > 2 && head->input(2)) {
                if (!isFloatTensor(head->input(2))) continue;
                ins.push_back(head->input(2));
            }
        } else {
            // FusedGemm is Gemm: A must be a matrix (MatMul would also take batches and vectors).
            if (!a->type.shape || a->type.shape->rank() != 2) continue;
            const int64_t N = b->dims[1];
            ir::Node* add = soleConsumer(g, y);
            if (add && isOp(*add, "Add") && add->inputs().size() == 2 && add->output(0)) {
                ir::Value* bias = add->input(0) == y ? add->input(1) : add->input(0);
                const ir::Tensor* t = bias != y ? constantFloats(bias, N) : nullptr;
                const bool rowBias = t && (t->dims == std::vector<int64_t>{N} || t->dims == std::vector<int64_t>{1, N});
                if (rowBias && isFloatTensor(add->output(0))) {
                    ins.push_back(bias);
                    chain.push_back(add);
                    out = add->output(0);
                }
            }
        }
        ActivationMatch act;
        if (!matchActivation(g, out, ActFilter::Any, act)) continue;
        chain.insert(chain.end(), act.nodes.begin(), act.nodes.end());
        replaceChain(g, head, chain, "FusedGemm", ins, &act, listener);
        ++fused;
    }
    if (fused) (void)g.sortTopologically();
    return fused;
}

namespace {

/// The activation `act` reading x, where x comes from an ai.edgewise.FusedConv of g without an
/// activation: that FusedConv takes it into its epilogue (act(conv + bias + residual)). False,
/// with nothing changed, otherwise.
bool activationIntoFusedConv(ir::Graph& g, ir::Value* x, const ActivationMatch& act, const FusionListener* listener) {
    ir::Node* producer = x->producer();
    if (!producer || producer->graph() != &g || !isEdgewiseOp(*producer, "FusedConv") ||
        !producer->attrString("activation", "").empty() || producer->outputs().size() != 1)
        return false;
    std::vector<ir::Value*> ins = producer->inputs();
    replaceChain(g, producer, act.nodes, "FusedConv", ins, &act, listener);
    return true;
}

/// Replaces `nodes` (in data-flow order, the last writing the pattern's result) by one node `op`
/// of Edgewise's domain reading x, with the last node's name; x keeps its other readers.
void replaceByUnary(ir::Graph& g, const std::vector<ir::Node*>& nodes, ir::Value* x, const std::string& op,
                    const FusionListener* listener) {
    ir::Node* last = nodes.back();
    if (listener && listener->fused)
        for (std::size_t i = 0; i + 1 < nodes.size(); ++i) listener->fused(*nodes[i], *last);
    const std::string name = last->name;
    ir::Value* out = last->output(0);
    g.removeNode(last);
    ir::Node* node = g.addNode(op, kEdgewiseDomain, name, {x}, {out});
    for (auto it = nodes.rbegin() + 1; it != nodes.rend(); ++it) {
        ir::Value* mid = (*it)->output(0);
        g.removeNode(*it);
        if (mid && mid->uses().empty() && !mid->producer() && !mid->isGraphOutput()) g.removeValue(mid);
    }
    if (listener && listener->rewritten) listener->rewritten(*node);
}

} // namespace

int fuseSilu(ir::Graph& g, const FusionListener* listener) {
    int fused = fuseConvChainsImpl(g, ActFilter::SiluOnly, listener);
    std::vector<ir::Node*> muls;
    for (const auto& n : g.nodes())
        if (isOp(*n, "Mul")) muls.push_back(n.get());
    int pairs = 0;
    for (ir::Node* mul : muls) {
        ir::Node* sig = siluSigmoid(g, *mul, /*exclusive=*/false);
        if (!sig) continue;
        ir::Value* x = sig->input(0);
        ActivationMatch act;
        const bool intoConv = matchActivation(g, x, ActFilter::SiluOnly, act) && act.nodes.back() == mul &&
                              activationIntoFusedConv(g, x, act, listener);
        if (!intoConv) replaceByUnary(g, {sig, mul}, x, "Silu", listener); // only the pair, with the Mul's name
        ++pairs;
    }
    if (pairs) (void)g.sortTopologically();
    return fused + pairs;
}

std::optional<HardSwishMatch> matchHardSwish(const ir::Graph& g, ir::Node& first) {
    if (first.graph() != &g || first.inputs().empty() || !first.input(0) || first.outputs().size() != 1 ||
        !first.output(0))
        return std::nullopt;
    if (isOp(first, "HardSigmoid")) return matchHardSigmoidMul(g, &first);
    if (isOp(first, "Clip")) return matchClipChain(g, &first);
    return std::nullopt;
}

int fuseHardSwish(ir::Graph& g, const FusionListener* listener) {
    std::vector<ir::Node*> firsts;
    for (const auto& n : g.nodes())
        if (isOp(*n, "Clip") || isOp(*n, "HardSigmoid")) firsts.push_back(n.get());
    int fused = 0;
    for (ir::Node* first : firsts) {
        std::optional<HardSwishMatch> m = matchHardSwish(g, *first);
        if (!m || !isFloatTensor(m->x) || !isFloatTensor(m->result)) continue;
        ActivationMatch act;
        act.name = "HardSwish";
        act.nodes = m->nodes;
        act.out = m->result;
        if (!(hardSwishReading(g, m->x) && activationIntoFusedConv(g, m->x, act, listener)))
            replaceByUnary(g, m->nodes, m->x, "HardSwish", listener);
        ++fused;
    }
    if (fused) (void)g.sortTopologically();
    return fused;
}

namespace {

bool allEqual(const std::vector<int64_t>& v, int64_t x) {
    return std::all_of(v.begin(), v.end(), [&](int64_t e) { return e == x; });
}

/// Conv or FusedConv without residual, float, constant 4-D weights, constant or no bias.
const ir::Tensor* plainConvWeights(const ir::Node& n) {
    if (!(isOp(n, "Conv") || isEdgewiseOp(n, "FusedConv")) || n.outputs().size() != 1 || !n.output(0)) return nullptr;
    if (n.inputs().size() > 3 && n.input(3)) return nullptr; // residual
    const ir::Tensor* w = ir::constantTensorOf(n.input(1));
    if (!w || w->dtype != ir::DataType::Float || w->dims.size() != 4 || !isFloatTensor(n.input(0))) return nullptr;
    if (n.inputs().size() > 2 && n.input(2) && !constantFloats(n.input(2), w->dims[0])) return nullptr;
    if (!allEqual(n.attrInts("dilations", {1, 1}), 1)) return nullptr;
    return w;
}

/// A pointwise convolution: Conv/FusedConv with [C, K, 1, 1] weights, group 1, stride 1, no pads.
bool isPointwise(const ir::Node& n) {
    const ir::Tensor* w = plainConvWeights(n);
    return w && w->dims[2] == 1 && w->dims[3] == 1 && n.attrInt("group", 1) == 1 &&
           allEqual(n.attrInts("strides", {1, 1}), 1) && allEqual(n.attrInts("pads", {0, 0, 0, 0}), 0);
}

} // namespace

int fusePointwiseDepthwise(ir::Graph& g, const FusionListener* listener) {
    int fused = 0;
    // Only pointwise nodes are candidates: a depthwise node taken below (group C >= 2) is never
    // one, so no candidate is removed before its turn.
    std::vector<ir::Node*> candidates;
    for (const auto& n : g.nodes())
        if (isPointwise(*n)) candidates.push_back(n.get());
    for (ir::Node* pw : candidates) {
        const ir::Tensor* w1 = plainConvWeights(*pw);
        const ir::Value* x = pw->input(0);
        if (!x->type.shape || x->type.shape->rank() != 4 || !x->type.shape->dims[2].isKnown() ||
            !x->type.shape->dims[3].isKnown())
            continue;
        const int64_t C = w1->dims[0];
        const int64_t bytes = C * x->type.shape->dims[2].value * x->type.shape->dims[3].value * 4;
        if (bytes < kPwDwMinBytes) continue;
        ir::Value* mid = pw->output(0);
        ir::Node* dw = soleConsumer(g, mid);
        if (!dw || dw->input(0) != mid) continue;
        const ir::Tensor* w2 = plainConvWeights(*dw);
        if (!w2 || w2->dims[0] != C || w2->dims[1] != 1 || dw->attrInt("group", 1) != C || C < 2) continue;
        bool midElsewhere = false;
        for (std::size_t i = 1; i < dw->inputs().size(); ++i) midElsewhere |= dw->input(i) == mid;
        if (midElsewhere) continue;
        // Exactly the windows the depthwise kernel takes (dilations are 1: plainConvWeights).
        const std::vector<int64_t> strides = dw->attrInts("strides", {1, 1});
        if (strides.size() != 2 || !cpu::depthwiseSupported(w2->dims[2], w2->dims[3], strides[0], strides[1], 1, 1))
            continue;

        if (listener && listener->fused) listener->fused(*dw, *pw);
        ir::Value* out = dw->output(0);
        std::vector<ir::Value*> ins{pw->input(0), pw->input(1), pw->inputs().size() > 2 ? pw->input(2) : nullptr,
                                    dw->input(1), dw->inputs().size() > 2 ? dw->input(2) : nullptr};
        std::vector<ir::Attribute> attrs;
        for (const auto& a : pw->attributes)
            if (a.name == "activation" || a.name == "activation_params") attrs.push_back(a.clone(&g));
        for (const auto& a : dw->attributes) {
            if (a.name == "activation" || a.name == "activation_params") {
                ir::Attribute c = a.clone(&g);
                c.name = "dw_" + a.name;
                attrs.push_back(std::move(c));
            } else if (a.name == "kernel_shape" || a.name == "strides" || a.name == "pads" || a.name == "dilations" ||
                       a.name == "auto_pad") {
                attrs.push_back(a.clone(&g));
            }
        }
        const std::string name = pw->name;
        g.removeNode(dw);
        ir::Node* node = g.addNode("FusedPwDwConv", kEdgewiseDomain, name, ins, {out});
        for (auto& a : attrs) node->attributes.push_back(std::move(a));
        g.removeNode(pw);
        if (mid->uses().empty() && !mid->producer()) g.removeValue(mid);
        if (listener && listener->rewritten) listener->rewritten(*node);
        ++fused;
    }
    if (fused) (void)g.sortTopologically();
    return fused;
}

int fuseForRuntime(ir::Graph& g, bool qdq) {
    int n = qdq ? fuseQdq(g) : 0;
    n += fuseConvChains(g);
    n += fuseGemmActivations(g);
    n += fuseSilu(g);
    n += fuseHardSwish(g);
    n += fusePointwiseDepthwise(g);
    // The bodies of If / Loop / Scan run as sessions of their own: the same fusions there.
    for (const auto& node : g.nodes())
        for (ir::Graph* sub : node->subgraphs()) n += fuseForRuntime(*sub, qdq);
    return n;
}

bool hasRuntimeFusionCandidates(const ir::Graph& g, bool qdq) {
    return std::any_of(g.nodes().begin(), g.nodes().end(), [&](const auto& n) {
        if (isOp(*n, "Conv") || isOp(*n, "Gemm") || isOp(*n, "MatMul") || isOp(*n, "Sigmoid") || isOp(*n, "Clip") ||
            isOp(*n, "HardSigmoid") || (qdq && isOp(*n, "DequantizeLinear"))) // QDQ Add / MaxPool (fuseQdq)
            return true;
        const std::vector<ir::Graph*> subs = n->subgraphs();
        return std::any_of(subs.begin(), subs.end(), [&](const ir::Graph* s) { return hasRuntimeFusionCandidates(*s, qdq); });
    });
}

} // namespace ew::rt
