// eliminate-common-subexpressions
//   before:  init %c1 : float32[2] = [1,2]     init %c2 : float32[2] = [1,2]
//            %a = Relu(%x)                     %b = Relu(%x)
//            %p = Add(%a, %c1)                 %q = Add(%b, %c2)
//            %y = Mul(%p, %q)
//   after:   init %c1 : float32[2] = [1,2]
//            %a = Relu(%x)
//            %p = Add(%a, %c1)
//            %y = Mul(%p, %p)
// First identical initializers (same dtype, dims and bytes, up to kMaxMergeBytes; found by a
// content hash, confirmed byte by byte) are merged into the first one in file order; then nodes
// are visited in topological order and a node with the same op, domain, inputs (the same values)
// and attributes (same kinds and values, tensors by content) as an earlier one is merged into it,
// so whole duplicated chains go in one run. The survivor is always the earliest, so the result
// does not depend on hashing.
// Refused: nodes with subgraphs, nondeterministic ops (Random*, Bernoulli, Multinomial, Dropout),
// non-default domains (custom ops may have state), attributes referring to a function's caller,
// sparse-tensor attributes; initializers that are graph inputs (callers may override them) or
// graph outputs. When both duplicates' outputs are graph outputs both nodes stay; when only the
// removed one's is, the survivor's output takes over its name.
#include "../graph_util.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <unordered_map>

namespace ew::opt {

namespace {

// Hashing bigger tensors costs more than it is likely to save; duplicated weights that big are
// rare.
constexpr std::size_t kMaxMergeBytes = std::size_t(16) << 20;

bool excluded(const ir::Node& n) {
    static constexpr std::array<std::string_view, 7> kOps = {
        "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
        "Bernoulli",    "Multinomial",      "Dropout"};
    if (!ir::canonicalDomain(n.domain).empty() || !n.subgraphs().empty()) return true;
    for (std::string_view op : kOps)
        if (n.opType == op) return true;
    for (const ir::Attribute& a : n.attributes)
        if (!a.refAttrName.empty() || a.type == ir::AttrType::Graph ||
            a.type == ir::AttrType::Graphs || a.type == ir::AttrType::SparseTensor ||
            a.type == ir::AttrType::SparseTensors || a.type == ir::AttrType::Undefined)
            return true;
    return false;
}

bool sameFloats(const std::vector<float>& a, const std::vector<float>& b) {
    // Bitwise, so -0 and 0 differ and NaN payloads matter: merging must never change a result.
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool sameAttr(const ir::Attribute& a, const ir::Attribute& b) {
    if (a.name != b.name || a.type != b.type) return false;
    switch (a.type) {
    case ir::AttrType::Float:
        return sameFloats({a.f}, {b.f});
    case ir::AttrType::Int:
        return a.i == b.i;
    case ir::AttrType::String:
        return a.s == b.s;
    case ir::AttrType::Tensor:
        return a.t.sameContent(b.t);
    case ir::AttrType::Floats:
        return sameFloats(a.floats, b.floats);
    case ir::AttrType::Ints:
        return a.ints == b.ints;
    case ir::AttrType::Strings:
        return a.strings == b.strings;
    case ir::AttrType::Tensors:
        if (a.tensors.size() != b.tensors.size()) return false;
        for (std::size_t k = 0; k < a.tensors.size(); ++k)
            if (!a.tensors[k].sameContent(b.tensors[k])) return false;
        return true;
    case ir::AttrType::TypeProto:
        return a.tp == b.tp;
    case ir::AttrType::TypeProtos:
        return a.tps == b.tps;
    default:
        return false;
    }
}

std::vector<const ir::Attribute*> sortedAttrs(const ir::Node& n) {
    std::vector<const ir::Attribute*> v;
    for (const ir::Attribute& a : n.attributes)
        v.push_back(&a);
    std::sort(v.begin(), v.end(), [](const auto* x, const auto* y) { return x->name < y->name; });
    return v;
}

bool sameNode(const ir::Node& a, const ir::Node& b) {
    if (a.opType != b.opType || ir::canonicalDomain(a.domain) != ir::canonicalDomain(b.domain) ||
        a.overload != b.overload || a.inputs() != b.inputs() ||
        a.outputs().size() != b.outputs().size() || a.attributes.size() != b.attributes.size())
        return false;
    for (std::size_t k = 0; k < a.outputs().size(); ++k)
        if ((a.output(k) == nullptr) != (b.output(k) == nullptr)) return false;
    const auto x = sortedAttrs(a), y = sortedAttrs(b);
    for (std::size_t k = 0; k < x.size(); ++k)
        if (!sameAttr(*x[k], *y[k])) return false;
    return true;
}

void mix(std::size_t& h, std::size_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
}

/// A hash that equal nodes share (attribute values beyond names and kinds are left to sameNode).
std::size_t nodeHash(const ir::Node& n) {
    std::size_t h = std::hash<std::string>{}(n.opType);
    for (const ir::Value* v : n.inputs())
        mix(h, std::hash<const void*>{}(v));
    mix(h, n.outputs().size());
    for (const ir::Attribute* a : sortedAttrs(n)) {
        mix(h, std::hash<std::string>{}(a->name));
        mix(h, static_cast<std::size_t>(a->type));
        if (a->type == ir::AttrType::Int) mix(h, static_cast<std::size_t>(a->i));
        if (a->type == ir::AttrType::Tensor) mix(h, a->t.contentHash());
    }
    return h;
}

/// Merges initializers with identical contents into the first of them.
void mergeInitializers(ir::Graph& graph, PassContext& ctx) {
    std::unordered_map<uint64_t, std::vector<ir::Value*>> seen;
    std::vector<ir::Value*> dead;
    const std::vector<ir::Value*> inits =
        graph.initializers; // replaceAllUses leaves the list alone
    for (ir::Value* v : inits) {
        const ir::Tensor& t = *v->initializer;
        if (v->isGraphInput() || t.byteSize() > kMaxMergeBytes || t.dtype == ir::DataType::String)
            continue;
        uint64_t h = t.contentHash();
        for (int64_t d : t.dims)
            h = h * 1099511628211ull ^ static_cast<uint64_t>(d);
        h = h * 1099511628211ull ^ static_cast<uint64_t>(t.dtype);
        std::vector<ir::Value*>& bucket = seen[h];
        ir::Value* keep = nullptr;
        for (ir::Value* k : bucket)
            if (k->initializer->sameContent(t)) {
                keep = k;
                break;
            }
        if (!keep) {
            bucket.push_back(v);
            continue;
        }
        if (v->isGraphOutput() || v->uses().empty()) continue;
        graph.replaceAllUses(v, keep);
        dead.push_back(v);
    }
    for (ir::Value* v : dead) {
        graph.removeValue(v);
        ctx.changedOther();
    }
}

} // namespace

VoidResult eliminateCommonSubexpressions(ir::Graph& graph, PassContext& ctx) {
    mergeInitializers(graph, ctx);

    EW_TRY_ASSIGN(std::vector<ir::Node*> order, graph.topologicalOrder());
    std::unordered_map<std::size_t, std::vector<ir::Node*>> seen;
    for (ir::Node* n : order) {
        if (excluded(*n)) continue;
        std::vector<ir::Node*>& bucket = seen[nodeHash(*n)];
        ir::Node* keep = nullptr;
        for (ir::Node* k : bucket)
            if (sameNode(*k, *n)) {
                keep = k;
                break;
            }
        if (!keep) {
            bucket.push_back(n);
            continue;
        }
        // Every output must be redirectable before anything changes.
        bool ok = true;
        for (std::size_t k = 0; k < n->outputs().size() && ok; ++k)
            if (ir::Value* dup = n->output(k)) ok = canReplaceValue(graph, dup, keep->output(k));
        if (!ok) continue;
        ctx.fused(*n, *keep);
        for (std::size_t k = 0; k < n->outputs().size(); ++k)
            if (ir::Value* dup = n->output(k)) replaceValue(graph, dup, keep->output(k));
        eraseNode(graph, n);
    }
    return {};
}

} // namespace ew::opt
