#include "graph_util.h"

#include <algorithm>
#include <unordered_set>

namespace ew::opt {

bool isOp(const ir::Node& n, std::string_view opType) {
    return n.opType == opType && ir::canonicalDomain(n.domain).empty();
}

ir::Node* soleConsumer(const ir::Value* v) {
    if (!v || v->uses().size() != 1 || v->isGraphOutput()) return nullptr;
    return v->uses()[0].node;
}

bool onlyUsedBy(const ir::Value* v, const ir::Node* node) {
    if (!v || v->isGraphOutput() || v->uses().empty()) return false;
    return std::all_of(v->uses().begin(), v->uses().end(),
                       [&](const ir::Use& u) { return u.node == node; });
}

const ir::Tensor* constantOf(const ir::Value* v) { return v ? ir::constantTensorOf(v) : nullptr; }

std::optional<double> scalarConstant(const ir::Value* v) {
    const ir::Tensor* t = constantOf(v);
    if (!t || t->numElements() != 1 || !t->strings.empty()) return std::nullopt;
    return t->valueAsDouble(0);
}

bool isFloat(const ir::Value* v) {
    return v && v->type.isTensor() && v->type.elemType == ir::DataType::Float;
}

std::optional<std::vector<int64_t>> staticDims(const ir::Value* v) {
    if (!v) return std::nullopt;
    if (const ir::Tensor* t = constantOf(v)) return t->dims;
    if (!v->type.isTensor() || !v->type.shape) return std::nullopt;
    return v->type.shape->sizes();
}

ir::Value* addInitializer(ir::Graph& g, std::string_view base, ir::Tensor t) {
    std::string name = g.uniqueName(base);
    t.name = name;
    ir::Type type = ir::Type::tensor(t.dtype, ir::Shape::of(t.dims));
    ir::Value* v = *g.addValue(name, type);
    v->initializer = std::move(t);
    g.initializers.push_back(v);
    return v;
}

ir::Tensor floatTensor(std::vector<int64_t> dims, std::vector<float> values) {
    return ir::Tensor::fromVector<float>("", ir::DataType::Float, std::move(dims), std::move(values));
}

ir::Tensor int64Tensor(std::vector<int64_t> dims, std::vector<int64_t> values) {
    return ir::Tensor::fromVector<int64_t>("", ir::DataType::Int64, std::move(dims),
                                           std::move(values));
}

void eraseNode(ir::Graph& g, ir::Node* node) {
    std::vector<ir::Value*> outs = node->outputs();
    g.removeNode(node);
    for (ir::Value* v : outs)
        if (v && v->graph() == &g && v->uses().empty() && !v->producer() && !v->isGraphOutput() &&
            !v->isGraphInput() && !v->isInitializer())
            g.removeValue(v);
}

bool canReplaceValue(const ir::Graph& g, const ir::Value* from, const ir::Value* to) {
    if (!from || !to || from == to) return false;
    if (!from->isGraphOutput()) return true;
    if (to->graph() != &g || !to->producer() || to->isGraphInput() || to->isInitializer() ||
        to->isGraphOutput())
        return false;
    return true;
}

bool replaceValue(ir::Graph& g, ir::Value* from, ir::Value* to) {
    if (!canReplaceValue(g, from, to)) return false;
    if (!from->isGraphOutput()) {
        g.replaceAllUses(from, to);
        return true;
    }
    // Keep the model's output name: `to` takes it over, `from` gets a throwaway name.
    std::string keep = from->name;
    ir::Type keepType = from->type;
    g.replaceAllUses(from, to);
    (void)g.renameValue(from, g.uniqueName(keep + "_replaced"));
    (void)g.renameValue(to, keep);
    if (!to->type.isTensor() || !to->type.shape) to->type = keepType;
    return true;
}

void dropOrphanValues(ir::Graph& g) {
    std::vector<ir::Value*> dead;
    for (const auto& v : g.values())
        if (v->uses().empty() && !v->producer() && !v->isGraphInput() && !v->isGraphOutput() &&
            !v->isInitializer())
            dead.push_back(v.get());
    for (ir::Value* v : dead) g.removeValue(v);
}

std::string uniqueNodeName(const ir::Graph& g, std::string_view base) {
    std::unordered_set<std::string_view> names;
    for (const auto& n : g.nodes()) names.insert(n->name);
    std::string b(base.empty() ? "node" : base);
    if (!names.count(b)) return b;
    for (std::size_t k = 1;; ++k) {
        std::string cand = b + "_" + std::to_string(k);
        if (!names.count(cand)) return cand;
    }
}

} // namespace ew::opt
