#include "summary.h"

#include "common/json_writer.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace ew::ir {

namespace {

ModelSummary::Io describe(const Value& v) {
    ModelSummary::Io io;
    io.name = v.name;
    if (v.type.isTensor() || v.type.kind == Type::Kind::SparseTensor) {
        io.dtype = std::string(dataTypeName(v.type.elemType));
        io.rankKnown = v.type.shape.has_value();
        if (v.type.shape)
            for (const Dim& d : v.type.shape->dims)
                io.shape.push_back(d.toString());
    } else {
        // Sequences, maps, optionals: the type text says more than an element type would.
        io.dtype = v.type.toString();
    }
    return io;
}

// Dims as text go back to JSON as ints (known), strings (symbolic) or null ("?", unknown).
void writeDim(JsonWriter& w, const std::string& d) {
    if (d == "?") {
        w.null();
        return;
    }
    bool digits = !d.empty() && d.size() <= 18 &&
                  std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits)
        w.value(static_cast<int64_t>(std::stoll(d)));
    else
        w.value(d);
}

void writeIos(JsonWriter& w, const std::vector<ModelSummary::Io>& ios) {
    w.beginArray();
    for (const auto& io : ios) {
        w.beginObject();
        w.key("name").value(io.name);
        w.key("dtype").value(io.dtype);
        if (!io.rankKnown) {
            w.key("shape").null();
        } else {
            w.key("shape").beginArray(/*compact=*/true);
            for (const auto& d : io.shape)
                writeDim(w, d);
            w.endArray();
        }
        w.endObject();
    }
    w.endArray();
}

std::string withThousands(int64_t v) {
    std::string digits = std::to_string(v < 0 ? -v : v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return v < 0 ? "-" + out : out;
}

// 1234567 -> "1.23 M": magnitudes people compare at a glance, next to the exact count.
std::string scaled(double v, const char* unit) {
    static const char* kPrefixes[] = {"", "K", "M", "G", "T", "P"};
    int i = 0;
    while (v >= 1000.0 && i < 5) {
        v /= 1000.0;
        ++i;
    }
    char buf[64];
    if (i == 0)
        std::snprintf(buf, sizeof buf, "%.0f %s", v, unit);
    else
        std::snprintf(buf, sizeof buf, "%.2f %s%s", v, kPrefixes[i], unit);
    return buf;
}

std::string bytesText(int64_t b) {
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(b);
    int i = 0;
    while (v >= 1024.0 && i < 4) {
        v /= 1024.0;
        ++i;
    }
    char buf[64];
    if (i == 0)
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
    else
        std::snprintf(buf, sizeof buf, "%.2f %s", v, kUnits[i]);
    return buf;
}

std::string ioText(const ModelSummary::Io& io) {
    std::string s = "  " + io.name + ": " + io.dtype;
    if (!io.rankKnown && io.dtype.find('(') == std::string::npos) {
        s += "[rank unknown]";
    } else if (!io.shape.empty() || io.dtype.find('(') == std::string::npos) {
        s += "[";
        for (std::size_t i = 0; i < io.shape.size(); ++i)
            s += (i ? "," : "") + io.shape[i];
        s += "]";
    }
    return s + "\n";
}

} // namespace

ModelSummary summarize(const Model& model) {
    ModelSummary s;
    s.format = model.sourceFormat;
    s.irVersion = model.irVersion;
    s.opsets = model.opsetImports;
    s.producer = model.producerName;
    if (!model.producerVersion.empty())
        s.producer += (s.producer.empty() ? "" : " ") + model.producerVersion;
    s.fileBytes = model.sourceBytes;
    if (!model.graph) return s;
    const Graph& g = *model.graph;
    for (const Value* v : g.inputs)
        // Before IR version 4 initializers were listed as graph inputs too; they are weights, not
        // something a caller feeds.
        if (v && !v->isInitializer()) s.inputs.push_back(describe(*v));
    for (const Value* v : g.outputs)
        if (v) s.outputs.push_back(describe(*v));
    s.nodeCount = static_cast<int64_t>(g.nodeCount());
    s.nodeCountRecursive = static_cast<int64_t>(g.nodeCountRecursive());
    for (const auto& n : g.nodes())
        ++s.opHistogram[n->qualifiedOp()];
    ModelCost cost = modelCost(model);
    s.parameterCount = cost.parameterCount;
    s.parameterBytes = cost.parameterBytes;
    s.macs = cost.macs;
    s.macsExact = cost.exact;
    return s;
}

std::string summaryToJson(const ModelSummary& s) {
    JsonWriter w(2);
    w.beginObject();
    w.key("format").value(s.format);
    w.key("ir_version").value(s.irVersion);
    w.key("opsets").beginObject();
    for (const auto& o : s.opsets) {
        std::string_view d = canonicalDomain(o.domain);
        w.key(d.empty() ? std::string_view("ai.onnx") : d).value(o.version);
    }
    w.endObject();
    w.key("producer").value(s.producer);
    w.key("inputs");
    writeIos(w, s.inputs);
    w.key("outputs");
    writeIos(w, s.outputs);
    w.key("node_count").value(s.nodeCount);
    w.key("node_count_recursive").value(s.nodeCountRecursive);
    w.key("op_histogram").beginObject();
    for (const auto& [op, count] : s.opHistogram)
        w.key(op).value(count);
    w.endObject();
    w.key("parameter_count").value(s.parameterCount);
    w.key("parameter_bytes").value(s.parameterBytes);
    w.key("macs").value(s.macs);
    w.key("macs_exact").value(s.macsExact);
    w.key("file_bytes").value(s.fileBytes);
    w.endObject();
    return w.str();
}

std::string summaryToText(const ModelSummary& s) {
    std::string t;
    t += "format:      " + s.format + "\n";
    t += "ir version:  " + std::to_string(s.irVersion) + "\n";
    t += "opsets:      ";
    for (std::size_t i = 0; i < s.opsets.size(); ++i) {
        std::string_view d = canonicalDomain(s.opsets[i].domain);
        t += (i ? ", " : "") + std::string(d.empty() ? "ai.onnx" : d) + " " +
             std::to_string(s.opsets[i].version);
    }
    t += "\n";
    t += "producer:    " + (s.producer.empty() ? std::string("(none)") : s.producer) + "\n";
    if (s.fileBytes) t += "file size:   " + bytesText(static_cast<int64_t>(s.fileBytes)) + "\n";
    t += "inputs:\n";
    for (const auto& io : s.inputs)
        t += ioText(io);
    t += "outputs:\n";
    for (const auto& io : s.outputs)
        t += ioText(io);
    t += "nodes:       " + withThousands(s.nodeCount);
    if (s.nodeCountRecursive != s.nodeCount)
        t += " (" + withThousands(s.nodeCountRecursive) + " with nested graphs)";
    t += "\n";
    t += "parameters:  " + withThousands(s.parameterCount) + " (" + bytesText(s.parameterBytes) +
         ")\n";
    t += "MACs:        " + withThousands(s.macs) + " (" +
         scaled(static_cast<double>(s.macs), "MAC") +
         (s.macsExact ? "" : ", lower bound: some shapes are unknown") + ")\n";
    t += "ops:\n";
    // Most frequent first; ties alphabetically so the output is stable.
    std::vector<std::pair<std::string, int64_t>> ops(s.opHistogram.begin(), s.opHistogram.end());
    std::stable_sort(ops.begin(), ops.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::size_t width = 0;
    for (const auto& [op, n] : ops)
        width = std::max(width, op.size());
    for (const auto& [op, n] : ops)
        t += "  " + op + std::string(width - op.size() + 2, ' ') + std::to_string(n) + "\n";
    return t;
}

} // namespace ew::ir
