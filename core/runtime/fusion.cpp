#include "fusion.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
    if (isEdgewiseOp(n, "Silu")) {
        name = "Silu";
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
        if (!w || w->dtype != ir::DataType::Float || w->dims.size() != 4 || !isFloatTensor(conv->input(0)) || !y)
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
        ir::Node* producer = x->producer();
        ActivationMatch act;
        if (producer && producer->graph() == &g && isEdgewiseOp(*producer, "FusedConv") &&
            producer->attrString("activation", "").empty() && producer->outputs().size() == 1 &&
            matchActivation(g, x, ActFilter::SiluOnly, act) && act.nodes.back() == mul) {
            // The FusedConv's epilogue computes act(conv + bias + residual): SiLU goes there.
            std::vector<ir::Value*> ins = producer->inputs();
            replaceChain(g, producer, act.nodes, "FusedConv", ins, &act, listener);
        } else {
            // x keeps its other readers: only the pair becomes one node (with the Mul's name).
            if (listener && listener->fused) listener->fused(*sig, *mul);
            ir::Value* out = mul->output(0);
            ir::Value* s = sig->output(0);
            const std::string name = mul->name;
            g.removeNode(mul);
            ir::Node* node = g.addNode("Silu", kEdgewiseDomain, name, {x}, {out});
            g.removeNode(sig);
            if (s->uses().empty() && !s->isGraphOutput()) g.removeValue(s);
            if (listener && listener->rewritten) listener->rewritten(*node);
        }
        ++pairs;
    }
    if (pairs) (void)g.sortTopologically();
    return fused + pairs;
}

int fuseForRuntime(ir::Graph& g) {
    int n = fuseConvChains(g);
    n += fuseGemmActivations(g);
    n += fuseSilu(g);
    return n;
}

bool hasRuntimeFusionCandidates(const ir::Graph& g) {
    return std::any_of(g.nodes().begin(), g.nodes().end(), [](const auto& n) {
        return isOp(*n, "Conv") || isOp(*n, "Gemm") || isOp(*n, "MatMul") || isOp(*n, "Sigmoid");
    });
}

} // namespace ew::rt
