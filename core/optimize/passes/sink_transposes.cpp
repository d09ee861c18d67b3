// sink-transposes
//   before:  %t = Transpose(%x) {perm=p}
//            %a = Relu(%t)
//            %b = Add(%a, %c)                (%c constant)
//            %y = Transpose(%b) {perm=q}
//   after:   %a = Relu(%x)
//            %b = Add(%a, %c')               (%c' = %c left-padded to the rank and permuted by p^-1)
//            %t = Transpose(%b) {perm=p}
//            %y = Transpose(%t) {perm=q}     (cancel-transposes then merges or removes the pair)
// Elementwise ops commute with a Transpose: op(transpose(x, p)) = transpose(op(x), p), and for a
// constant operand c broadcasting commutes too when c is fed as transpose(c, p^-1). The
// Transpose moves down a chain of single-consumer unary elementwise ops (Relu, Sigmoid, Tanh,
// Neg, Abs, Exp, Log, Sqrt, LeakyRelu, Clip with constant bounds, Cast, ...) and binary ones
// (Add, Sub, Mul, Div, Pow, Max, Min) whose other operand is a constant of at most its rank;
// one-element constants are kept as they are. It moves only when that chain ends in another
// Transpose, so every move brings two Transposes together; the moved Transpose only ever goes
// down, so repeated runs terminate. Ops and Transposes keep their names; values in the chain
// keep theirs too except the Transposes' former outputs, which the moved Transpose re-creates
// below each op.
#include "../graph_util.h"

#include <cstring>
#include <unordered_set>

namespace ew::opt {

namespace {

bool isUnaryElementwise(const ir::Node& n) {
    static const std::unordered_set<std::string_view> kOps = {
        "Relu",  "Sigmoid", "Tanh",  "Neg",      "Abs",        "Exp",       "Log",         "Sqrt",
        "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos",
        "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Softplus", "Softsign", "LeakyRelu", "Elu",
        "Selu", "Celu", "ThresholdedRelu", "HardSigmoid", "HardSwish", "Gelu", "Mish", "Not", "Cast",
        "Clip", "IsNaN", "IsInf"};
    return ir::canonicalDomain(n.domain).empty() && kOps.count(n.opType) > 0;
}

bool isBinaryElementwise(const ir::Node& n) {
    static const std::unordered_set<std::string_view> kOps = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};
    return ir::canonicalDomain(n.domain).empty() && kOps.count(n.opType) > 0 && n.inputs().size() == 2;
}

/// Whether `n` (which reads `v`) is elementwise in a way that commutes with a Transpose of
/// rank `rank` producing v.
bool sinkable(const ir::Node& n, const ir::Value* v, int64_t rank) {
    if (n.outputs().size() != 1 || !n.output(0) || n.inputs().empty()) return false;
    if (isUnaryElementwise(n)) {
        if (n.input(0) != v) return false;
        // Clip's bounds (inputs from opset 11) are scalars; only constant ones are moved along.
        for (std::size_t i = 1; i < n.inputs().size(); ++i)
            if (n.input(i) && (n.input(i) == v || !constantOf(n.input(i)))) return false;
        return true;
    }
    if (isBinaryElementwise(n)) {
        for (const ir::Value* in : n.inputs()) {
            if (in == v) continue;
            const ir::Tensor* c = constantOf(in);
            if (!c || static_cast<int64_t>(c->dims.size()) > rank || !c->strings.empty()) return false;
            const int bits = ir::dataTypeBits(c->dtype);
            if (c->numElements() != 1 && (bits == 0 || bits % 8 != 0)) return false;
        }
        return true;
    }
    return false;
}

/// transpose(c left-padded to `rank` with 1s, inv), where inv is the inverse of the Transpose's
/// perm: fed to the op below the moved Transpose, it broadcasts exactly as c did above it.
ir::Tensor permutedConstant(const ir::Tensor& c, const std::vector<int64_t>& perm) {
    const std::size_t rank = perm.size();
    std::vector<int64_t> src(rank, 1);
    std::copy(c.dims.begin(), c.dims.end(), src.end() - static_cast<std::ptrdiff_t>(c.dims.size()));
    std::vector<int64_t> inv(rank);
    for (std::size_t i = 0; i < rank; ++i) inv[static_cast<std::size_t>(perm[i])] = static_cast<int64_t>(i);
    std::vector<int64_t> dims(rank), srcStride(rank, 1);
    for (std::size_t j = rank; j-- > 1;) srcStride[j - 1] = srcStride[j] * src[j];
    for (std::size_t j = 0; j < rank; ++j) dims[j] = src[static_cast<std::size_t>(inv[j])];
    const std::size_t width = static_cast<std::size_t>(ir::dataTypeBits(c.dtype) / 8);
    const int64_t count = c.numElements();
    std::vector<std::byte> out(static_cast<std::size_t>(count) * width);
    std::vector<int64_t> idx(rank, 0);
    const std::byte* in = c.bytes().data();
    for (int64_t k = 0; k < count; ++k) {
        int64_t off = 0;
        for (std::size_t j = 0; j < rank; ++j) off += idx[j] * srcStride[static_cast<std::size_t>(inv[j])];
        std::memcpy(out.data() + static_cast<std::size_t>(k) * width, in + static_cast<std::size_t>(off) * width, width);
        for (std::size_t j = rank; j-- > 0;) {
            if (++idx[j] < dims[j]) break;
            idx[j] = 0;
        }
    }
    return ir::Tensor::fromVector<std::byte>(c.name, c.dtype, dims, std::move(out));
}

/// Moves Transpose `t` (whose only consumer is `op`) below `op`; returns the moved Transpose.
ir::Node* sinkBelow(ir::Graph& g, PassContext& ctx, ir::Node* t, ir::Node* op, const std::vector<int64_t>& perm) {
    ir::Value* x = t->input(0);
    ir::Value* tOut = t->output(0);
    ir::Value* y = op->output(0);
    std::vector<ir::Value*> inputs = op->inputs();
    if (isBinaryElementwise(*op))
        for (ir::Value*& in : inputs)
            if (in != tOut && constantOf(in)->numElements() != 1)
                in = addInitializer(g, in->name + "_perm", permutedConstant(*constantOf(in), perm));
    for (ir::Value*& in : inputs)
        if (in == tOut) in = x;
    ctx.rewritten(*op);
    ctx.rewritten(*t);
    const std::string opName = op->name, opType = op->opType, opDomain = op->domain, tName = t->name;
    std::vector<ir::Attribute> attrs;
    for (const ir::Attribute& a : op->attributes) attrs.push_back(a.clone());
    ir::Node* before = nullptr;
    for (std::size_t k = 0; k + 1 < g.nodes().size(); ++k)
        if (g.nodes()[k].get() == op) before = g.nodes()[k + 1].get();
    g.removeNode(op); // y stays, unproduced, until the moved Transpose produces it
    eraseNode(g, t);  // and tOut with it
    ir::Value* mid = *g.addValue(g.uniqueName(y->name + "_pre_transpose"), ir::Type::tensor(y->type.elemType));
    ir::Node* moved = g.insertNode(before, opType, opDomain, opName, inputs, {mid});
    moved->attributes = std::move(attrs);
    ir::Node* nt = g.insertNode(before, "Transpose", "", tName, {mid}, {y});
    nt->setAttr(ir::Attribute::makeInts("perm", perm));
    return nt;
}

/// A Transpose's perm, explicit or the default reversal when the input rank is known.
std::optional<std::vector<int64_t>> permOf(const ir::Node& t) {
    if (const ir::Attribute* a = t.attr("perm")) return a->ints;
    const int64_t rank = rankOf(t.input(0));
    if (rank < 0) return std::nullopt;
    std::vector<int64_t> perm;
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
    return perm;
}

} // namespace

VoidResult sinkTransposes(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> transposes;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "Transpose") && n->input(0) && n->output(0) && n->outputs().size() == 1)
            transposes.push_back(n.get());
    // Only Transposes listed here are erased below (each once, after its own turn), and the ops
    // a chain passes through are never Transposes, so every pointer still to visit is alive.
    for (ir::Node* t : transposes) {
        const std::optional<std::vector<int64_t>> perm = permOf(*t);
        if (!perm) continue;
        const int64_t rank = static_cast<int64_t>(perm->size());
        std::vector<ir::Node*> chain;
        const ir::Value* cur = t->output(0);
        bool endsInTranspose = false;
        while (ir::Node* c = soleConsumer(cur)) {
            if (c->graph() != &graph) break;
            if (isOp(*c, "Transpose")) {
                endsInTranspose = true;
                break;
            }
            if (!sinkable(*c, cur, rank)) break;
            chain.push_back(c);
            cur = c->output(0);
        }
        if (!endsInTranspose || chain.empty()) continue;
        ir::Node* moving = t;
        for (ir::Node* op : chain) moving = sinkBelow(graph, ctx, moving, op, *perm);
    }
    return {};
}

} // namespace ew::opt
