#include "fusion.h"

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
        if (next && next->opType == "Add" && isDefaultDomain(*next) && next->inputs().size() == 2) {
            ir::Value* other = next->input(0) == out ? next->input(1) : next->input(0);
            const bool sameShape = other && other != out && y->type.shape && other->type.shape &&
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
        std::vector<ir::Value*> ins = {conv->input(0), conv->input(1), conv->input(2), residual};
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
