#include "verifier.h"

#include <unordered_set>

namespace ew::ir {

namespace {

std::unexpected<Status> invalid(std::string msg, std::string node = {}) {
    return fail(StatusCode::InvalidInput, std::move(msg), std::move(node));
}

bool isInScope(const Value* v, const Graph& g) {
    for (const Graph* s = &g; s; s = s->parent())
        if (v->graph() == s) return true;
    return false;
}

bool isDefined(const Value* v) {
    if (v->producer() || v->isInitializer() || v->isGraphInput()) return true;
    const Graph* g = v->graph();
    for (const auto& s : g->sparseInitializers)
        if (s.values.name == v->name) return true;
    return false;
}

VoidResult checkInitializer(const Value& v) {
    const Tensor& t = *v.initializer;
    if (!isValidDataType(static_cast<int32_t>(t.dtype)) || t.dtype == DataType::Undefined)
        return invalid("initializer '" + v.name + "' has an invalid data type");
    auto count = checkedElementCount(t.dims);
    if (!count) return invalid("initializer '" + v.name + "': " + count.error().message);
    if (t.dtype == DataType::String) {
        if (static_cast<int64_t>(t.strings.size()) != *count)
            return invalid("initializer '" + v.name + "' has the wrong number of strings");
    } else {
        auto bytes = dataTypeStorageBytes(t.dtype, static_cast<uint64_t>(*count));
        if (!bytes || *bytes != t.byteSize())
            return invalid("initializer '" + v.name + "' holds " + std::to_string(t.byteSize()) +
                           " bytes, which does not match " + std::string(dataTypeName(t.dtype)) + Shape::of(t.dims).toString());
    }
    if (v.type.isKnown()) {
        if (v.type.kind != Type::Kind::Tensor || v.type.elemType != t.dtype)
            return invalid("initializer '" + v.name + "' is " + std::string(dataTypeName(t.dtype)) +
                           " but declared as " + v.type.toString());
        if (v.type.shape) {
            const auto& dims = v.type.shape->dims;
            bool ok = dims.size() == t.dims.size();
            for (std::size_t k = 0; ok && k < dims.size(); ++k)
                if (dims[k].isKnown() && dims[k].value != t.dims[k]) ok = false;
            if (!ok)
                return invalid("initializer '" + v.name + "' has shape " + Shape::of(t.dims).toString() +
                               " but is declared as " + v.type.shape->toString());
        }
    }
    return {};
}

VoidResult checkType(const Type& t, const std::string& what) {
    if ((t.kind == Type::Kind::Tensor || t.kind == Type::Kind::SparseTensor || t.kind == Type::Kind::Map) &&
        !isValidDataType(static_cast<int32_t>(t.elemType)))
        return invalid("'" + what + "' has an invalid element type");
    if (t.inner) return checkType(*t.inner, what);
    return {};
}

VoidResult verifyGraphImpl(const Graph& g, const Model* model) {
    for (const auto& v : g.values()) {
        EW_TRY(checkType(v->type, v->name));
        if (v->isInitializer()) EW_TRY(checkInitializer(*v));
    }
    std::unordered_set<const Value*> seenInputs;
    for (const Value* v : g.inputs) {
        if (!v || v->graph() != &g) return invalid("graph '" + g.name + "' lists an input that is not its own value");
        if (!seenInputs.insert(v).second) return invalid("graph input '" + v->name + "' is listed twice");
    }
    for (const auto& n : g.nodes()) {
        const std::string label = n->displayName();
        if (n->opType.empty()) return invalid("node has no op type", label);
        // IR < 3 predates opset imports (everything is opset 1).
        if (model && model->irVersion >= 3 && model->opsetFor(n->domain) == 0) {
            bool isLocalFunction = false;
            for (const auto& f : model->functions)
                if (f.name == n->opType && canonicalDomain(f.domain) == canonicalDomain(n->domain)) isLocalFunction = true;
            if (!isLocalFunction)
                return invalid("uses domain '" + std::string(n->domain.empty() ? "ai.onnx" : n->domain) +
                               "', which the model does not import (no opset_import entry)", label);
        }
        for (std::size_t k = 0; k < n->inputs().size(); ++k) {
            const Value* v = n->inputs()[k];
            if (!v) continue;
            if (!isInScope(v, g)) return invalid("input '" + v->name + "' belongs to a graph that is not in scope", label);
            if (!isDefined(v)) return invalid("input '" + v->name + "' is not defined by any node, graph input or initializer", label);
        }
        for (const Value* v : n->outputs()) {
            if (!v) continue;
            if (v->graph() != &g || v->producer() != n.get())
                return invalid("output '" + v->name + "' is not owned consistently", label);
            if (v->isInitializer() || v->isGraphInput())
                return invalid("output '" + v->name + "' is also an initializer or graph input (defined twice)", label);
        }
        for (const auto& a : n->attributes) {
            if (a.type == AttrType::Undefined && a.refAttrName.empty())
                return invalid("attribute '" + a.name + "' has no type", label);
            if (a.type == AttrType::Graph && !a.g) return invalid("graph attribute '" + a.name + "' is empty", label);
        }
        for (Graph* sg : n->subgraphs()) {
            if (sg->parent() != &g) return invalid("subgraph '" + sg->name + "' has the wrong parent", label);
            auto r = verifyGraphImpl(*sg, model);
            if (!r) {
                Status s = std::move(r).error();
                if (s.node.empty()) s.node = label;
                else s.node = label + "/" + s.node;
                return std::unexpected(std::move(s));
            }
        }
    }
    for (const Value* v : g.outputs) {
        if (!v) return invalid("graph '" + g.name + "' has an empty output");
        if (!isInScope(v, g) || !isDefined(v))
            return invalid("graph output '" + v->name + "' is not produced by anything");
    }
    auto order = g.topologicalOrder();
    if (!order) return std::unexpected(order.error());
    return {};
}

} // namespace

VoidResult verifyGraph(const Graph& graph) { return verifyGraphImpl(graph, nullptr); }

VoidResult verify(const Model& model) {
    if (!model.graph) return invalid("the model has no graph");
    EW_TRY(verifyGraphImpl(*model.graph, &model));
    for (const auto& f : model.functions) {
        if (!f.body) return invalid("function '" + f.name + "' has no body");
        auto r = verifyGraphImpl(*f.body, nullptr);
        if (!r) {
            Status s = std::move(r).error();
            s.message = "in function '" + f.name + "': " + s.message;
            return std::unexpected(std::move(s));
        }
    }
    return {};
}

} // namespace ew::ir
