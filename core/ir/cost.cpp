#include "cost.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ew::ir {

namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Counts of hostile or absurd shapes clamp at INT64_MAX instead of wrapping, and the clamp makes
// the result inexact: a wrapped count would be a confident wrong number.
int64_t mulSat(int64_t a, int64_t b, bool& exact) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r) || r < 0) {
        exact = false;
        return kMax;
    }
    return r;
}

int64_t addSat(int64_t a, int64_t b, bool& exact) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        exact = false;
        return kMax;
    }
    return r;
}

/// Sizes of a value's shape. Unknown or symbolic dims read as 1 and clear `exact`, so that a
/// dynamic batch still gives a useful per-sample count (the lower bound the header promises).
struct Dims {
    std::vector<int64_t> d;
    bool exact = true;

    std::size_t rank() const { return d.size(); }
    int64_t operator[](std::size_t i) const { return d[i]; }
    int64_t product(std::size_t from, std::size_t to, bool& ex) const {
        int64_t p = 1;
        for (std::size_t i = from; i < to && i < d.size(); ++i)
            p = mulSat(p, d[i], ex);
        return p;
    }
    int64_t numel(bool& ex) const { return product(0, d.size(), ex); }
};

// The weights a Constant node holds. Exporters such as Paddle2ONNX and tf2onnx store all weights
// this way instead of as initializers; counting only initializers would report such models as
// having no parameters at all.
const Tensor* constantNodeTensor(const Node& n) {
    if (!canonicalDomain(n.domain).empty() || n.opType != "Constant") return nullptr;
    const Attribute* a = n.attr("value");
    return a && a->type == AttrType::Tensor ? &a->t : nullptr;
}

// Constant data a node reads: an initializer or a Constant node's tensor.
const Tensor* parameterTensor(const Value* v) {
    if (!v) return nullptr;
    if (v->initializer) return &*v->initializer;
    return v->producer() ? constantNodeTensor(*v->producer()) : nullptr;
}

std::optional<Dims> dimsOf(const Value* v) {
    if (!v) return std::nullopt;
    if (v->initializer) return Dims{v->initializer->dims, true};
    if (!v->type.isTensor() || !v->type.shape) {
        if (const Tensor* t = parameterTensor(v)) return Dims{t->dims, true};
        return std::nullopt;
    }
    Dims out;
    out.d.reserve(v->type.shape->rank());
    for (const Dim& dim : v->type.shape->dims) {
        if (dim.isKnown()) {
            out.d.push_back(dim.value);
        } else {
            out.d.push_back(1);
            out.exact = false;
        }
    }
    return out;
}

bool present(const Node& n, std::size_t i) {
    return n.input(i) != nullptr;
}

/// Accumulates one node's cost; every missing shape it needs turns `exact` off.
struct Builder {
    const Node& n;
    NodeCost c;

    std::optional<Dims> in(std::size_t i) {
        auto d = dimsOf(n.input(i));
        use(d);
        return d;
    }
    std::optional<Dims> out(std::size_t i) {
        auto d = dimsOf(n.output(i));
        use(d);
        return d;
    }
    void use(const std::optional<Dims>& d) {
        if (!d || !d->exact) c.exact = false;
    }
    int64_t numel(const Dims& d) { return d.numel(c.exact); }
    int64_t mul(int64_t a, int64_t b) { return mulSat(a, b, c.exact); }
    void macs(int64_t m) {
        c.macs = addSat(c.macs, m, c.exact);
        c.flops = addSat(c.flops, mul(2, m), c.exact);
    }
    void flops(int64_t f) { c.flops = addSat(c.flops, f, c.exact); }
};

// ---- shape-derived helpers -------------------------------------------------------------------

// Conv output sizes from the input, weights and attributes, for graphs whose output shape was
// not inferred. Follows the ONNX Conv shape rule (auto_pad, pads, strides, dilations).
std::optional<Dims> convOutput(const Node& n, const Dims& x, const Dims& w) {
    if (x.rank() < 3 || w.rank() != x.rank()) return std::nullopt;
    std::size_t sp = x.rank() - 2;
    auto kernel = n.attrInts("kernel_shape");
    if (kernel.empty()) kernel.assign(w.d.begin() + 2, w.d.end());
    auto strides = n.attrInts("strides", std::vector<int64_t>(sp, 1));
    auto dil = n.attrInts("dilations", std::vector<int64_t>(sp, 1));
    auto pads = n.attrInts("pads", std::vector<int64_t>(2 * sp, 0));
    std::string autoPad = n.attrString("auto_pad", "NOTSET");
    if (kernel.size() != sp || strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp)
        return std::nullopt;
    Dims y{{x[0], w[0]}, x.exact && w.exact};
    for (std::size_t i = 0; i < sp; ++i) {
        int64_t in = x[2 + i], s = strides[i];
        if (s <= 0 || dil[i] <= 0 || kernel[i] <= 0) return std::nullopt;
        int64_t span = (kernel[i] - 1) * dil[i] + 1;
        int64_t o;
        if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
            o = (in + s - 1) / s;
        else if (autoPad == "VALID")
            o = in >= span ? (in - span) / s + 1 : 0;
        else {
            int64_t padded = in + pads[i] + pads[sp + i];
            o = padded >= span ? (padded - span) / s + 1 : 0;
        }
        y.d.push_back(o);
    }
    return y;
}

// Conv, ConvInteger, QLinearConv, FusedConv: every output element is a dot product over
// (C/group) * prod(kernel) inputs, which is W's size without its first dim. Groups and
// dilations therefore need no special case once the output size is known.
void convCost(Builder& b, std::size_t xIdx, std::size_t wIdx, std::optional<std::size_t> biasIdx) {
    auto w = b.in(wIdx);
    if (!w || w->rank() < 2) {
        b.c.exact = false;
        return;
    }
    int64_t perOutput = w->product(1, w->rank(), b.c.exact);
    auto y = dimsOf(b.n.output(0));
    if (!y || !y->exact) {
        auto x = dimsOf(b.n.input(xIdx));
        if (x) {
            auto computed = convOutput(b.n, *x, *w);
            if (computed && (computed->exact || !y)) y = computed;
        }
    }
    b.use(y);
    if (!y) return;
    int64_t outs = b.numel(*y);
    b.macs(b.mul(outs, perOutput));
    if (biasIdx && present(b.n, *biasIdx)) b.flops(outs);
}

// ai.edgewise.FusedPwDwConv (X, W_pw [C, K, 1, 1], B_pw, W_dw [C, 1, KH, KW], B_dw): the pointwise
// product over every input pixel (numel(X) * C) plus the depthwise one over every output.
void pwDwCost(Builder& b) {
    auto x = b.in(0);
    auto w1 = b.in(1);
    auto w2 = b.in(3);
    auto y = b.out(0);
    if (!x || !w1 || !w2 || !y || w1->rank() != 4 || w2->rank() != 4) {
        b.c.exact = false;
        return;
    }
    b.macs(b.mul(b.numel(*x), (*w1)[0]));
    b.macs(b.mul(b.numel(*y), w2->product(1, w2->rank(), b.c.exact)));
    if (present(b.n, 2)) b.flops(b.mul(b.numel(*x) / std::max<int64_t>(1, (*w1)[1]), (*w1)[0]));
    if (present(b.n, 4)) b.flops(b.numel(*y));
}

// ConvTranspose scatters every input element into (M/group) * prod(kernel) outputs: W is
// [C, M/group, k...], so the MACs are numel(X) times W's size without its first dim.
void convTransposeCost(Builder& b) {
    auto x = b.in(0);
    auto w = b.in(1);
    if (!x || !w || w->rank() < 2) {
        b.c.exact = false;
        return;
    }
    b.macs(b.mul(b.numel(*x), w->product(1, w->rank(), b.c.exact)));
    if (present(b.n, 2)) {
        if (auto y = b.out(0)) b.flops(b.numel(*y));
    }
}

void gemmCost(Builder& b) {
    auto a = b.in(0);
    auto bb = b.in(1);
    if (!a || !bb || a->rank() != 2 || bb->rank() != 2) {
        b.c.exact = false;
        return;
    }
    bool ta = b.n.attrInt("transA", 0) != 0, tb = b.n.attrInt("transB", 0) != 0;
    int64_t m = ta ? (*a)[1] : (*a)[0];
    int64_t k = ta ? (*a)[0] : (*a)[1];
    int64_t n = tb ? (*bb)[0] : (*bb)[1];
    int64_t mn = b.mul(m, n);
    b.macs(b.mul(mn, k));
    if (present(b.n, 2)) b.flops(mn);
}

// numpy.matmul semantics: 1-D operands are promoted (and the added dim dropped), leading dims
// broadcast. MACs = broadcast batch * M * N * K.
void matmulCost(Builder& b, std::size_t aIdx, std::size_t bIdx) {
    auto a = b.in(aIdx);
    auto bb = b.in(bIdx);
    if (!a || !bb || a->rank() == 0 || bb->rank() == 0) {
        b.c.exact = false;
        return;
    }
    int64_t k = (*a)[a->rank() - 1];
    int64_t m = a->rank() >= 2 ? (*a)[a->rank() - 2] : 1;
    int64_t n = bb->rank() >= 2 ? (*bb)[bb->rank() - 1] : 1;
    std::size_t ba = a->rank() >= 2 ? a->rank() - 2 : 0;
    std::size_t bbr = bb->rank() >= 2 ? bb->rank() - 2 : 0;
    std::size_t batchRank = std::max(ba, bbr);
    int64_t batch = 1;
    for (std::size_t i = 0; i < batchRank; ++i) {
        // Align from the right; a missing dim broadcasts like a 1.
        int64_t da = i < ba ? (*a)[ba - 1 - i] : 1;
        int64_t db = i < bbr ? (*bb)[bbr - 1 - i] : 1;
        batch = b.mul(batch, da == 1 ? db : da);
    }
    b.macs(b.mul(b.mul(batch, m), b.mul(n, k)));
}

// RNN/LSTM/GRU: W is [dirs, gates*H, in] and R is [dirs, gates*H, H], so one time step of one
// sequence costs numel(W) + numel(R) MACs whatever the cell type.
void recurrentCost(Builder& b) {
    auto x = b.in(0);
    auto w = b.in(1);
    auto r = b.in(2);
    if (!x || !w || !r || x->rank() != 3) {
        b.c.exact = false;
        return;
    }
    int64_t steps = b.mul((*x)[0], (*x)[1]); // seq * batch, whichever the layout
    int64_t perStep = addSat(b.numel(*w), b.numel(*r), b.c.exact);
    b.macs(b.mul(steps, perStep));
    // Bias adds, gate activations and the state update: a few operations per gate value.
    if (w->rank() == 3) b.flops(b.mul(b.mul(steps, b.mul((*w)[0], (*w)[1])), 4));
}

void poolCost(Builder& b) {
    auto y = b.out(0);
    if (!y) return;
    auto kernel = b.n.attrInts("kernel_shape");
    int64_t window = 1;
    for (int64_t k : kernel)
        window = b.mul(window, std::max<int64_t>(k, 0));
    b.flops(b.mul(b.numel(*y), window));
}

void perInputElement(Builder& b, int64_t weight) {
    if (auto x = b.in(0)) b.flops(b.mul(b.numel(*x), weight));
}

void perOutputElement(Builder& b, int64_t weight) {
    if (auto y = b.out(0)) b.flops(b.mul(b.numel(*y), weight));
}

// Approximate arithmetic per output element of elementwise ops. Transcendentals count a few
// operations, in the spirit of common profilers; exact instruction counts depend on the kernel.
int64_t elementwiseWeight(std::string_view op) {
    struct Row {
        std::string_view op;
        int64_t weight;
    };
    static constexpr Row kRows[] = {
        {"Add", 1},
        {"Sub", 1},
        {"Mul", 1},
        {"Div", 1},
        {"Neg", 1},
        {"Abs", 1},
        {"Relu", 1},
        {"LeakyRelu", 2},
        {"PRelu", 2},
        {"Pow", 1},
        {"Sqrt", 1},
        {"Reciprocal", 1},
        {"Clip", 2},
        {"Floor", 1},
        {"Ceil", 1},
        {"Round", 1},
        {"Sign", 1},
        {"Exp", 1},
        {"Log", 1},
        {"Sin", 1},
        {"Cos", 1},
        {"Tan", 1},
        {"Asin", 1},
        {"Acos", 1},
        {"Atan", 1},
        {"Sinh", 1},
        {"Cosh", 1},
        {"Asinh", 1},
        {"Acosh", 1},
        {"Atanh", 1},
        {"Erf", 1},
        {"Mod", 1},
        {"BitShift", 1},
        {"Equal", 1},
        {"Greater", 1},
        {"GreaterOrEqual", 1},
        {"Less", 1},
        {"LessOrEqual", 1},
        {"And", 1},
        {"Or", 1},
        {"Xor", 1},
        {"Not", 1},
        {"Where", 1},
        {"IsNaN", 1},
        {"IsInf", 1},
        {"BitwiseAnd", 1},
        {"BitwiseOr", 1},
        {"BitwiseXor", 1},
        {"BitwiseNot", 1},
        {"ThresholdedRelu", 1},
        {"Sigmoid", 3},
        {"HardSigmoid", 3},
        {"Tanh", 3},
        {"Elu", 3},
        {"Selu", 3},
        {"Celu", 3},
        {"Softplus", 3},
        {"Softsign", 3},
        {"HardSwish", 4},
        {"Mish", 6},
        {"Gelu", 8},
        {"QuantizeLinear", 3},
        {"DequantizeLinear", 2},
        {"DynamicQuantizeLinear", 5},
    };
    for (const Row& r : kRows)
        if (r.op == op) return r.weight;
    return 0;
}

/// One complete pass over a graph for modelCost: totals, with nested graphs weighted by how often
/// they run.
struct Totals {
    int64_t macs = 0;
    int64_t flops = 0;
    int64_t activationBytes = 0;
    bool exact = true;

    void add(const Totals& o, int64_t times) {
        bool ex = exact && o.exact;
        macs = addSat(macs, mulSat(o.macs, times, ex), ex);
        flops = addSat(flops, mulSat(o.flops, times, ex), ex);
        activationBytes = addSat(activationBytes, mulSat(o.activationBytes, times, ex), ex);
        exact = ex;
    }
};

Totals walkGraph(const Graph& g, ModelCost& mc);

// How many times a node's body runs: If runs one branch (the costlier one is taken: an upper
// bound for budgets, marked inexact when the branches differ); Loop runs M times when M is a
// constant and no condition can end it early; Scan runs once per slice of its scan inputs.
Totals nestedTotals(const Node& n, ModelCost& mc) {
    Totals out;
    std::vector<Graph*> subs = n.subgraphs();
    if (subs.empty()) return out;
    std::vector<Totals> bodies;
    for (Graph* sg : subs)
        bodies.push_back(walkGraph(*sg, mc));
    if (n.domain.empty() && n.opType == "If") {
        auto most =
            std::max_element(bodies.begin(), bodies.end(),
                             [](const Totals& a, const Totals& b) { return a.flops < b.flops; });
        out.add(*most, 1);
        for (const Totals& t : bodies)
            if (t.macs != most->macs || t.flops != most->flops) out.exact = false;
        return out;
    }
    int64_t times = -1;
    if (n.domain.empty() && n.opType == "Loop") {
        const Tensor* m = parameterTensor(n.input(0));
        bool hasCond = n.input(1) != nullptr;
        if (m && m->numElements() == 1 && !hasCond) times = std::max<int64_t>(m->valueAsInt(0), 0);
    } else if (n.domain.empty() && n.opType == "Scan" && !n.hasAttr("directions")) {
        // (Opset 8 Scan, recognisable by its `directions` attribute, has a batch axis; it is
        // counted once and marked inexact below.)
        int64_t numScan = n.attrInt("num_scan_inputs", 0);
        int64_t first = static_cast<int64_t>(n.inputs().size()) - numScan;
        if (numScan > 0 && first >= 0) {
            auto axes = n.attrInts("scan_input_axes");
            int64_t axis = axes.empty() ? 0 : axes[0];
            auto d = dimsOf(n.input(static_cast<std::size_t>(first)));
            if (d && d->exact && d->rank() > 0) {
                if (axis < 0) axis += static_cast<int64_t>(d->rank());
                if (axis >= 0 && axis < static_cast<int64_t>(d->rank())) times = (*d)[axis];
            }
        }
    }
    for (const Totals& t : bodies)
        out.add(t, times >= 0 ? times : 1);
    if (times < 0) out.exact = false;
    return out;
}

Totals walkGraph(const Graph& g, ModelCost& mc) {
    Totals t;
    for (const auto& np : g.nodes()) {
        const Node& n = *np;
        NodeCost c = nodeCost(n);
        mc.perNode[&n] = c;
        Totals own{c.macs, c.flops, c.activationBytes, c.exact};
        t.add(own, 1);
        if (!n.subgraphs().empty()) t.add(nestedTotals(n, mc), 1);
    }
    return t;
}

void countParameters(const Graph& g, ModelCost& mc) {
    bool ex = mc.exact;
    auto add = [&](const Tensor& t) {
        mc.parameterCount = addSat(mc.parameterCount, t.numElements(), ex);
        mc.parameterBytes = addSat(mc.parameterBytes, static_cast<int64_t>(t.byteSize()), ex);
    };
    for (const Value* v : g.initializers)
        if (v && v->initializer) add(*v->initializer);
    for (const auto& n : g.nodes())
        if (const Tensor* t = constantNodeTensor(*n)) add(*t);
    mc.exact = ex;
    for (const auto& n : g.nodes())
        for (Graph* sg : n->subgraphs())
            countParameters(*sg, mc);
}

} // namespace

NodeCost nodeCost(const Node& node) {
    Builder b{node, {}};

    // Parameters: the constant data this node reads (initializers and Constant node outputs),
    // each once even when it appears in two slots.
    std::unordered_set<const Value*> seen;
    for (const Value* v : node.inputs()) {
        const Tensor* t = parameterTensor(v);
        if (!t || !seen.insert(v).second) continue;
        b.c.paramCount = addSat(b.c.paramCount, t->numElements(), b.c.exact);
        b.c.paramBytes = addSat(b.c.paramBytes, static_cast<int64_t>(t->byteSize()), b.c.exact);
    }

    for (const Value* v : node.outputs()) {
        if (!v) continue;
        auto d = dimsOf(v);
        int bits = v->type.isTensor() ? dataTypeBits(v->type.elemType) : 0;
        if (!d || bits == 0) {
            b.c.exact = false;
            continue;
        }
        b.use(d);
        auto bytes =
            dataTypeStorageBytes(v->type.elemType, static_cast<uint64_t>(d->numel(b.c.exact)));
        if (!bytes || *bytes > static_cast<uint64_t>(kMax)) {
            b.c.exact = false;
            b.c.activationBytes = kMax;
            continue;
        }
        b.c.activationBytes = addSat(b.c.activationBytes, static_cast<int64_t>(*bytes), b.c.exact);
    }

    const std::string_view op = node.opType;
    const std::string_view dom = canonicalDomain(node.domain);
    const bool onnx = dom.empty();
    const bool ms = dom == "com.microsoft";
    const bool edgewise = dom == "ai.edgewise"; // the runtime's fused ops (core/runtime/fusion.h)

    if ((onnx || ms) && op == "Conv")
        convCost(b, 0, 1, 2);
    else if (onnx && op == "ConvInteger")
        convCost(b, 0, 1, std::nullopt);
    else if ((onnx || ms) && op == "QLinearConv")
        convCost(b, 0, 3, 8);
    else if ((ms || edgewise) && op == "FusedConv")
        convCost(b, 0, 1, 2);
    else if (edgewise && op == "FusedPwDwConv")
        pwDwCost(b);
    else if (edgewise && op == "FusedGemm")
        gemmCost(b);
    else if (onnx && op == "ConvTranspose")
        convTransposeCost(b);
    else if (onnx && op == "Gemm")
        gemmCost(b);
    else if ((onnx && (op == "MatMul" || op == "MatMulInteger")) ||
             (ms && (op == "FusedMatMul" || op == "MatMulIntegerToFloat" ||
                     op == "DynamicQuantizeMatMul")))
        matmulCost(b, 0, 1);
    else if ((onnx || ms) && op == "QLinearMatMul")
        matmulCost(b, 0, 3);
    else if (onnx && (op == "RNN" || op == "LSTM" || op == "GRU"))
        recurrentCost(b);
    else if (onnx && (op == "MaxPool" || op == "AveragePool" || op == "LpPool"))
        poolCost(b);
    else if (onnx && (op == "GlobalAveragePool" || op == "GlobalMaxPool" || op == "GlobalLpPool"))
        perInputElement(b, 1);
    else if (onnx && op == "BatchNormalization")
        perInputElement(b, 2);
    else if (onnx && (op == "InstanceNormalization" || op == "LayerNormalization" ||
                      op == "GroupNormalization" || op == "MeanVarianceNormalization" ||
                      op == "LpNormalization" || op == "RMSNormalization"))
        perInputElement(b, 5); // mean, centre, variance, normalise, affine
    else if (onnx && (op == "Softmax" || op == "LogSoftmax"))
        perInputElement(b, 5);
    else if (onnx && op.starts_with("Reduce"))
        perInputElement(b, 1);
    else if (onnx && (op == "Sum" || op == "Max" || op == "Min" || op == "Mean")) {
        int64_t operands = 0;
        for (const Value* v : node.inputs())
            operands += v ? 1 : 0;
        perOutputElement(b, std::max<int64_t>(operands - 1, 0) + (op == "Mean" ? 1 : 0));
    } else if (onnx) {
        if (int64_t w = elementwiseWeight(op)) perOutputElement(b, w);
    }
    return b.c;
}

ModelCost modelCost(const Model& model) {
    ModelCost mc;
    if (!model.graph) return mc;
    Totals t = walkGraph(*model.graph, mc);
    mc.macs = t.macs;
    mc.flops = t.flops;
    mc.activationBytes = t.activationBytes;
    mc.exact = t.exact;
    countParameters(*model.graph, mc);
    return mc;
}

} // namespace ew::ir
