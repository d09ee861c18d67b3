#include "compare.h"

#include <bit>
#include <cstring>

namespace ew::ir {

namespace {

std::string diffTensor(const Tensor& a, const Tensor& b, const std::string& where) {
    if (a.name != b.name) return where + ": tensor name '" + a.name + "' vs '" + b.name + "'";
    if (a.dtype != b.dtype)
        return where + ": dtype " + std::string(dataTypeName(a.dtype)) + " vs " + std::string(dataTypeName(b.dtype));
    if (a.dims != b.dims) return where + ": dims " + Shape::of(a.dims).toString() + " vs " + Shape::of(b.dims).toString();
    if (!a.sameContent(b)) return where + ": tensor data differs";
    if (a.docString != b.docString) return where + ": tensor doc string differs";
    if (a.metadataProps != b.metadataProps) return where + ": tensor metadata differs";
    return {};
}

std::string diffSparse(const SparseTensor& a, const SparseTensor& b, const std::string& where) {
    if (a.dims != b.dims) return where + ": sparse dims differ";
    if (auto d = diffTensor(a.values, b.values, where + " values"); !d.empty()) return d;
    return diffTensor(a.indices, b.indices, where + " indices");
}

bool sameBits(float x, float y) { return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y); }

std::string diffAttr(const Attribute& a, const Attribute& b, const std::string& where) {
    const std::string w = where + " attribute '" + a.name + "'";
    if (a.name != b.name) return where + ": attribute '" + a.name + "' vs '" + b.name + "'";
    if (a.type != b.type)
        return w + ": type " + std::string(attrTypeName(a.type)) + " vs " + std::string(attrTypeName(b.type));
    if (a.refAttrName != b.refAttrName || a.docString != b.docString) return w + ": reference or doc differs";
    switch (a.type) {
    case AttrType::Float:
        if (!sameBits(a.f, b.f)) return w + ": " + a.valueString() + " vs " + b.valueString();
        break;
    case AttrType::Int:
        if (a.i != b.i) return w + ": " + a.valueString() + " vs " + b.valueString();
        break;
    case AttrType::String:
        if (a.s != b.s) return w + ": " + a.valueString() + " vs " + b.valueString();
        break;
    case AttrType::Floats:
        if (a.floats.size() != b.floats.size()) return w + ": different lengths";
        for (std::size_t k = 0; k < a.floats.size(); ++k)
            if (!sameBits(a.floats[k], b.floats[k])) return w + ": " + a.valueString() + " vs " + b.valueString();
        break;
    case AttrType::Ints:
        if (a.ints != b.ints) return w + ": " + a.valueString() + " vs " + b.valueString();
        break;
    case AttrType::Strings:
        if (a.strings != b.strings) return w + ": " + a.valueString() + " vs " + b.valueString();
        break;
    case AttrType::Tensor: return diffTensor(a.t, b.t, w);
    case AttrType::Tensors:
        if (a.tensors.size() != b.tensors.size()) return w + ": different counts";
        for (std::size_t k = 0; k < a.tensors.size(); ++k)
            if (auto d = diffTensor(a.tensors[k], b.tensors[k], w); !d.empty()) return d;
        break;
    case AttrType::Graph:
        if (!a.g || !b.g) return (a.g || b.g) ? w + ": graph missing" : std::string();
        if (auto d = firstGraphDifference(*a.g, *b.g); !d.empty()) return w + ": " + d;
        break;
    case AttrType::Graphs:
        if (a.graphs.size() != b.graphs.size()) return w + ": different graph counts";
        for (std::size_t k = 0; k < a.graphs.size(); ++k)
            if (auto d = firstGraphDifference(*a.graphs[k], *b.graphs[k]); !d.empty()) return w + ": " + d;
        break;
    case AttrType::SparseTensor: return diffSparse(a.sparse, b.sparse, w);
    case AttrType::SparseTensors:
        if (a.sparseTensors.size() != b.sparseTensors.size()) return w + ": different counts";
        for (std::size_t k = 0; k < a.sparseTensors.size(); ++k)
            if (auto d = diffSparse(a.sparseTensors[k], b.sparseTensors[k], w); !d.empty()) return d;
        break;
    case AttrType::TypeProto:
        if (!(a.tp == b.tp)) return w + ": " + a.tp.toString() + " vs " + b.tp.toString();
        break;
    case AttrType::TypeProtos:
        if (a.tps != b.tps) return w + ": type lists differ";
        break;
    case AttrType::Undefined: break;
    }
    return {};
}

std::string diffValue(const Value* a, const Value* b, const std::string& where) {
    if (!a || !b) return (a || b) ? where + ": one side is empty" : std::string();
    if (a->name != b->name) return where + ": '" + a->name + "' vs '" + b->name + "'";
    const std::string w = where + " '" + a->name + "'";
    if (!(a->type == b->type)) return w + ": type " + a->type.toString() + " vs " + b->type.toString();
    if (a->docString != b->docString) return w + ": doc string differs";
    if (a->hasValueInfo != b->hasValueInfo) return w + ": value_info declared on one side only";
    if (a->metadataProps != b->metadataProps || a->extraFields != b->extraFields) return w + ": metadata differs";
    if (a->quant != b->quant) return w + ": quantization parameters differ";
    if (a->initializer.has_value() != b->initializer.has_value()) return w + ": initializer on one side only";
    if (a->initializer) return diffTensor(*a->initializer, *b->initializer, w);
    return {};
}

template <typename T, typename F>
std::string diffList(const std::vector<T>& a, const std::vector<T>& b, const std::string& what, F each) {
    if (a.size() != b.size())
        return what + " count " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    for (std::size_t k = 0; k < a.size(); ++k)
        if (auto d = each(a[k], b[k]); !d.empty()) return d;
    return {};
}

} // namespace

std::string firstGraphDifference(const Graph& a, const Graph& b) {
    const std::string g = "graph '" + a.name + "'";
    if (a.name != b.name) return "graph name '" + a.name + "' vs '" + b.name + "'";
    if (a.docString != b.docString || a.metadataProps != b.metadataProps || a.extraFields != b.extraFields)
        return g + ": doc string or metadata differs";
    auto vd = [&](const char* what) { return [&, what](const Value* x, const Value* y) { return diffValue(x, y, g + " " + what); }; };
    if (auto d = diffList(a.inputs, b.inputs, g + " inputs", vd("input")); !d.empty()) return d;
    if (auto d = diffList(a.outputs, b.outputs, g + " outputs", vd("output")); !d.empty()) return d;
    if (auto d = diffList(a.initializers, b.initializers, g + " initializers", vd("initializer")); !d.empty()) return d;
    if (a.sparseInitializers.size() != b.sparseInitializers.size()) return g + ": sparse initializer counts differ";
    for (std::size_t k = 0; k < a.sparseInitializers.size(); ++k)
        if (auto d = diffSparse(a.sparseInitializers[k], b.sparseInitializers[k], g + " sparse initializer"); !d.empty()) return d;
    if (a.quantizationAnnotations.size() != b.quantizationAnnotations.size()) return g + ": quantization annotations differ";
    for (std::size_t k = 0; k < a.quantizationAnnotations.size(); ++k)
        if (a.quantizationAnnotations[k].tensorName != b.quantizationAnnotations[k].tensorName ||
            a.quantizationAnnotations[k].params != b.quantizationAnnotations[k].params)
            return g + ": quantization annotations differ";
    if (a.nodeCount() != b.nodeCount())
        return g + ": node count " + std::to_string(a.nodeCount()) + " vs " + std::to_string(b.nodeCount());
    for (std::size_t k = 0; k < a.nodeCount(); ++k) {
        const Node& x = *a.nodes()[k];
        const Node& y = *b.nodes()[k];
        const std::string w = g + " node '" + x.displayName() + "'";
        if (x.opType != y.opType || x.domain != y.domain) return w + ": op " + x.qualifiedOp() + " vs " + y.qualifiedOp();
        if (x.name != y.name) return w + ": name vs '" + y.name + "'";
        if (x.overload != y.overload || x.docString != y.docString || x.metadataProps != y.metadataProps ||
            x.extraFields != y.extraFields)
            return w + ": overload, doc string or metadata differs";
        auto names = [](const std::vector<Value*>& vs) {
            std::vector<std::string> out;
            for (const Value* v : vs) out.push_back(v ? v->name : std::string());
            return out;
        };
        if (names(x.inputs()) != names(y.inputs())) return w + ": inputs differ";
        if (names(x.outputs()) != names(y.outputs())) return w + ": outputs differ";
        for (std::size_t o = 0; o < x.outputs().size(); ++o)
            if (auto d = diffValue(x.outputs()[o], y.outputs()[o], w + " output"); !d.empty()) return d;
        if (x.attributes.size() != y.attributes.size()) return w + ": attribute counts differ";
        for (std::size_t t = 0; t < x.attributes.size(); ++t)
            if (auto d = diffAttr(x.attributes[t], y.attributes[t], w); !d.empty()) return d;
    }
    return {};
}

std::string firstDifference(const Model& a, const Model& b) {
    if (a.irVersion != b.irVersion) return "ir_version " + std::to_string(a.irVersion) + " vs " + std::to_string(b.irVersion);
    if (a.opsetImports != b.opsetImports) return "opset imports differ";
    if (a.producerName != b.producerName || a.producerVersion != b.producerVersion) return "producer differs";
    if (a.domain != b.domain || a.modelVersion != b.modelVersion || a.docString != b.docString) return "model domain, version or doc differs";
    if (a.metadataProps != b.metadataProps) return "model metadata differs";
    if (a.trainingInfos != b.trainingInfos) return "training info differs";
    if (a.extraFields != b.extraFields) return "unknown model fields differ";
    if (auto d = firstGraphDifference(*a.graph, *b.graph); !d.empty()) return d;
    if (a.functions.size() != b.functions.size()) return "function counts differ";
    for (std::size_t k = 0; k < a.functions.size(); ++k) {
        const auto& f = a.functions[k];
        const auto& h = b.functions[k];
        const std::string w = "function '" + f.name + "'";
        if (f.name != h.name || f.domain != h.domain || f.overload != h.overload || f.docString != h.docString ||
            f.attributeNames != h.attributeNames || f.opsetImports != h.opsetImports || f.metadataProps != h.metadataProps ||
            f.extraFields != h.extraFields)
            return w + ": signature or metadata differs";
        if (f.attributeDefaults.size() != h.attributeDefaults.size()) return w + ": attribute defaults differ";
        for (std::size_t t = 0; t < f.attributeDefaults.size(); ++t)
            if (auto d = diffAttr(f.attributeDefaults[t], h.attributeDefaults[t], w); !d.empty()) return d;
        if (f.body && h.body)
            if (auto d = firstGraphDifference(*f.body, *h.body); !d.empty()) return w + ": " + d;
    }
    return {};
}

} // namespace ew::ir
