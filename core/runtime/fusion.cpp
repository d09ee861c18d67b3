#include "fusion.h"

#include <cmath>
#include <limits>

namespace ew::rt {

namespace {

bool isDefaultDomain(const ir::Node& n) { return ir::canonicalDomain(n.domain).empty(); }

/// The single consumer of v, or nullptr when v has several, none, or is a graph output.
ir::Node* soleConsumer(const ir::Value* v) {
    if (!v || v->uses().size() != 1 || v->isGraphOutput()) return nullptr;
    return v->uses()[0].node;
}


/// Reads an activation node into (name, params); false when it is not one we fuse.
bool activationOf(const ir::Node& n, std::string& name, std::vector<float>& params) {
    if (!isDefaultDomain(n) || n.inputs().empty() || n.outputs().size() != 1) return false;
    const std::string& op = n.opType;
    params.clear();
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

bool isFloatTensor(const ir::Value* v) {
    return v && v->type.isTensor() && v->type.elemType == ir::DataType::Float;
}

/// Constant float tensor of exactly n elements behind v, or nullptr.
const ir::Tensor* constantFloats(const ir::Value* v, int64_t n) {
    const ir::Tensor* t = v ? ir::constantTensorOf(v) : nullptr;
    if (!t || t->dtype != ir::DataType::Float || t->numElements() != n) return nullptr;
    return t;
}

/// An inference-mode BatchNormalization over the channels of the Conv output y (the BN's only
/// consumer of y checked by the caller) with constant scale, B, mean and var: folds it into new
/// weight and bias initializers (computed in double: W' = W * s, b' = (b - mean) * s + B with
/// s = scale / sqrt(var + epsilon)). Returns false (and changes nothing) when it does not apply.
bool foldBatchNorm(ir::Graph& g, const ir::Node& conv, const ir::Tensor& w, const ir::Node& bn, ir::Value*& newW,
                   ir::Value*& newB) {
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

} // namespace

int fuseConvChains(ir::Graph& g) {
    int fused = 0;
    std::vector<ir::Node*> convs;
    for (const auto& n : g.nodes())
        if (n->opType == "Conv" && isDefaultDomain(*n)) convs.push_back(n.get());
    for (ir::Node* conv : convs) {
        const ir::Tensor* w = ir::constantTensorOf(conv->input(1));
        ir::Value* y = conv->output(0);
        if (!w || w->dtype != ir::DataType::Float || w->dims.size() != 4 || !isFloatTensor(conv->input(0)) || !y)
            continue;
        std::vector<ir::Node*> chain;
        ir::Value* residual = nullptr;
        ir::Value* out = y;
        std::string act;
        std::vector<float> params;
        ir::Node* next = soleConsumer(out);
        ir::Value* weightsIn = conv->input(1);
        ir::Value* biasIn = conv->inputs().size() > 2 ? conv->input(2) : nullptr;
        ir::Value *foldedW = nullptr, *foldedB = nullptr;
        if (next && foldBatchNorm(g, *conv, *w, *next, foldedW, foldedB)) {
            weightsIn = foldedW;
            biasIn = foldedB;
            chain.push_back(next);
            out = next->output(0);
            next = soleConsumer(out);
        }
        if (next && next->opType == "Add" && isDefaultDomain(*next) && next->inputs().size() == 2) {
            ir::Value* other = next->input(0) == out ? next->input(1) : next->input(0);
            const bool sameShape = other && other != out && y->type.shape && other->type.shape &&
                                   out->type.shape && *out->type.shape == *y->type.shape &&
                                   *y->type.shape == *other->type.shape && y->type.shape->isFullyKnown() &&
                                   isFloatTensor(other) && next->output(0);
            if (sameShape) {
                residual = other;
                chain.push_back(next);
                out = next->output(0);
                next = soleConsumer(out);
            }
        }
        if (next && activationOf(*next, act, params) && next->input(0) == out && next->output(0)) {
            chain.push_back(next);
            out = next->output(0);
        }
        if (chain.empty()) continue;

        // Detach the chain's final output from its producer so the fused node can own it; the
        // node list is re-sorted below, which puts the fused node after the residual's producer.
        ir::Node* last = chain.back();
        std::vector<ir::Value*> ins = {conv->input(0), weightsIn, biasIn, residual};
        g.removeNode(last);
        chain.pop_back();
        ir::Node* fusedNode = g.addNode("FusedConv", kEdgewiseDomain, conv->name, ins, {out});
        for (const auto& a : conv->attributes) fusedNode->attributes.push_back(a.clone(&g, fusedNode));
        if (!act.empty()) {
            fusedNode->setAttr(ir::Attribute::makeString("activation", act));
            if (!params.empty()) fusedNode->setAttr(ir::Attribute::makeFloats("activation_params", params));
        }
        // Remove the rest of the chain (the Add when there was an activation) and the Conv, with
        // the intermediate values they produced.
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            ir::Value* mid = (*it)->output(0);
            g.removeNode(*it);
            if (mid && mid->uses().empty() && !mid->producer()) g.removeValue(mid);
        }
        g.removeNode(conv);
        if (y != out && y->uses().empty() && !y->producer()) g.removeValue(y);
        ++fused;
    }
    if (fused) (void)g.sortTopologically();
    return fused;
}

} // namespace ew::rt
