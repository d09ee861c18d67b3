#include "text_dump.h"

#include <cinttypes>
#include <cstdio>

namespace ew::ir {

namespace {

std::string pad(int indent) { return std::string(static_cast<std::size_t>(indent) * 2, ' '); }

std::string hex64(uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return buf;
}

std::string tensorText(const Tensor& t, const DumpOptions& opts) {
    std::string s = std::string(dataTypeName(t.dtype)) + Shape::of(t.dims).toString();
    int64_t n = t.numElements();
    if (t.dtype == DataType::String) {
        s += " = [";
        for (std::size_t k = 0; k < t.strings.size() && k < opts.maxInlineElements; ++k)
            s += (k ? ",\"" : "\"") + t.strings[k] + "\"";
        return s + (t.strings.size() > opts.maxInlineElements ? ",...]" : "]");
    }
    if (n >= 0 && static_cast<std::size_t>(n) <= opts.maxInlineElements) {
        s += " = [";
        for (int64_t k = 0; k < n; ++k) {
            if (k) s += ",";
            char buf[32];
            if (isFloatingPoint(t.dtype)) std::snprintf(buf, sizeof buf, "%.7g", t.valueAsDouble(k));
            else std::snprintf(buf, sizeof buf, "%" PRId64, t.valueAsInt(k));
            s += buf;
        }
        return s + "]";
    }
    return s + " = <" + std::to_string(n) + " values, hash " + hex64(t.contentHash()) + ">";
}

std::string valueRef(const Value* v) { return v ? "%" + v->name : std::string("_"); }

std::string quantText(const QuantParams& q) {
    std::string s = " quant(" + std::string(dataTypeName(q.storageType));
    s += ", scale=" + (q.scales.size() == 1 ? std::to_string(q.scales[0]) : "[" + std::to_string(q.scales.size()) + "]");
    if (q.isPerAxis()) s += ", axis=" + std::to_string(q.axis);
    return s + ")";
}

} // namespace

std::string dumpGraph(const Graph& g, const DumpOptions& opts, int indent) {
    std::string out = pad(indent) + "graph \"" + g.name + "\" {\n";
    const std::string in = pad(indent + 1);
    for (const Value* v : g.inputs) {
        out += in + "input  " + valueRef(v) + " : " + v->type.toString();
        if (v->quant) out += quantText(*v->quant);
        out += "\n";
    }
    for (const Value* v : g.initializers) {
        out += in + "init   " + valueRef(v) + " : " + tensorText(*v->initializer, opts);
        if (v->quant) out += quantText(*v->quant);
        out += "\n";
    }
    for (const auto& s : g.sparseInitializers)
        out += in + "sparse %" + s.values.name + " : " + Shape::of(s.dims).toString() + "\n";
    for (const auto& n : g.nodes()) {
        std::string line = in;
        for (std::size_t k = 0; k < n->outputs().size(); ++k) line += (k ? ", " : "") + valueRef(n->outputs()[k]);
        line += " = " + n->qualifiedOp() + "(";
        for (std::size_t k = 0; k < n->inputs().size(); ++k) line += (k ? ", " : "") + valueRef(n->inputs()[k]);
        line += ")";
        std::string subgraphs;
        if (!n->attributes.empty()) {
            line += " {";
            bool first = true;
            for (const auto& a : n->attributes) {
                line += (first ? "" : ", ") + a.name + "=";
                first = false;
                if (a.type == AttrType::Tensor) line += tensorText(a.t, opts);
                else if (!a.refAttrName.empty()) line += "@" + a.refAttrName;
                else line += a.valueString(opts.maxInlineElements);
                if (a.type == AttrType::Graph && a.g) subgraphs += dumpGraph(*a.g, opts, indent + 2);
                if (a.type == AttrType::Graphs)
                    for (const auto& sg : a.graphs)
                        if (sg) subgraphs += dumpGraph(*sg, opts, indent + 2);
            }
            line += "}";
        }
        if (opts.showNodeNames && !n->name.empty()) line += " \"" + n->name + "\"";
        std::string types;
        for (const Value* v : n->outputs())
            if (v && v->type.isKnown()) types += (types.empty() ? "" : ", ") + v->type.toString();
        if (!types.empty()) line += " : " + types;
        out += line + "\n";
        if (opts.showDocStrings && !n->docString.empty()) out += in + "  # " + n->docString + "\n";
        out += subgraphs;
    }
    for (const Value* v : g.outputs) out += in + "output " + valueRef(v) + " : " + v->type.toString() + "\n";
    return out + pad(indent) + "}\n";
}

std::string dumpModel(const Model& m, const DumpOptions& opts) {
    std::string out = "model ir=" + std::to_string(m.irVersion);
    if (!m.producerName.empty() || !m.producerVersion.empty())
        out += " producer=\"" + m.producerName + (m.producerVersion.empty() ? "" : " " + m.producerVersion) + "\"";
    out += " opsets=[";
    for (std::size_t k = 0; k < m.opsetImports.size(); ++k)
        out += (k ? "," : "") + m.opsetImports[k].domain + ":" + std::to_string(m.opsetImports[k].version);
    out += "]\n";
    if (opts.showDocStrings && !m.docString.empty()) out += "# " + m.docString + "\n";
    out += dumpGraph(*m.graph, opts, 0);
    for (const auto& f : m.functions) {
        out += "function " + (f.domain.empty() ? "" : f.domain + ".") + f.name + "\n";
        if (f.body) out += dumpGraph(*f.body, opts, 0);
    }
    return out;
}

} // namespace ew::ir
