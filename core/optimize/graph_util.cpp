#include "graph_util.h"

#include <algorithm>
#include <cmath>
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

void replaceNodeWithConstants(ir::Graph& g, ir::Node* node, std::vector<ir::Tensor> values) {
    std::vector<ir::Value*> outs = node->outputs();
    g.removeNode(node);
    for (std::size_t k = 0; k < outs.size(); ++k) {
        ir::Value* v = outs[k];
        if (!v) continue;
        if (v->uses().empty() && !v->isGraphOutput()) {
            g.removeValue(v);
            continue;
        }
        ir::Tensor t = std::move(values[k]);
        t.name = v->name;
        v->type = ir::Type::tensor(t.dtype, ir::Shape::of(t.dims));
        v->hasValueInfo = false; // an initializer carries its own type
        v->initializer = std::move(t);
        g.initializers.push_back(v);
    }
}

std::optional<double> shapePreservingScalar(const ir::Value* v, int64_t rank) {
    const ir::Tensor* t = constantOf(v);
    if (!t || t->numElements() != 1 || !t->strings.empty()) return std::nullopt;
    if (!t->dims.empty() && (rank < 0 || static_cast<int64_t>(t->dims.size()) > rank)) return std::nullopt;
    return t->valueAsDouble(0);
}

bool nearlyEqual(double a, double b, double relTol) { return std::abs(a - b) <= relTol * std::abs(b); }

int64_t rankOf(const ir::Value* v) {
    if (!v || !v->type.isTensor() || !v->type.shape) return -1;
    return static_cast<int64_t>(v->type.shape->rank());
}

ir::Node* fuseIntoNode(ir::Graph& g, PassContext& ctx, const std::vector<ir::Node*>& absorbed,
                       ir::Value* result, std::string opType, const std::vector<ir::Value*>& inputs) {
    ir::Node* last = result->producer();
    const std::string keep = result->name;
    ir::Value* out = *g.addValue(g.uniqueName(keep + "_fused"), result->type);
    // The new node takes the last absorbed node's name (free again once that node is erased).
    std::string name = last->name.empty() ? uniqueNodeName(g, opType) : last->name;
    ir::Node* fused = g.insertNode(last, std::move(opType), "", std::move(name), inputs, {out});
    for (const ir::Node* n : absorbed) ctx.fused(*n, *fused);
    replaceValue(g, result, out);
    // Consumers before producers, so each erase leaves the next node's outputs unused.
    std::vector<ir::Node*> order;
    for (const auto& n : g.nodes())
        if (std::find(absorbed.begin(), absorbed.end(), n.get()) != absorbed.end()) order.push_back(n.get());
    for (auto it = order.rbegin(); it != order.rend(); ++it) eraseNode(g, *it);
    if (out->name != keep && !g.findValue(keep)) (void)g.renameValue(out, keep);
    return fused;
}

// ---- Per-channel affine folding (fuse-conv-bn, fuse-gemm-bn, fuse-conv-affine) ----

namespace {

bool isFloatData(const ir::Tensor* t) { return t && t->dtype == ir::DataType::Float && t->strings.empty(); }

/// Removes an initializer of g that nothing reads any more (weights replaced by a folded copy).
void dropIfUnusedInitializer(ir::Graph& g, ir::Value* v) {
    if (v && v->graph() == &g && v->isInitializer() && v->uses().empty() && !v->isGraphInput() &&
        !v->isGraphOutput())
        g.removeValue(v);
}

/// Name base for a folded copy of v: "w" -> "w_folded", and "w_folded" stays "w_folded" (made
/// unique by addInitializer) so repeated folds do not stack suffixes.
std::string foldedName(const ir::Value* v, std::string_view suffix = "_folded") {
    std::string base = v->name;
    if (base.ends_with("_folded")) base.resize(base.size() - 7);
    return base + std::string(suffix);
}

ir::Node* nodeAfter(const ir::Graph& g, const ir::Node* n) {
    const auto& nodes = g.nodes();
    for (std::size_t k = 0; k < nodes.size(); ++k)
        if (nodes[k].get() == n) return k + 1 < nodes.size() ? nodes[k + 1].get() : nullptr;
    return nullptr;
}

/// Gemm's C (absent, or rank <= 2 with the last dim 1 or `channels`): its row count once
/// broadcast along the channels (0 when absent, 1 for [], [1], [N], [1,N]).
std::optional<int64_t> gemmBiasRows(const ir::Node& n, int64_t channels) {
    if (n.inputs().size() < 3 || !n.input(2)) return int64_t(0);
    const ir::Tensor* c = fixedConstantOf(n.input(2));
    if (!isFloatData(c) || c->dims.size() > 2) return std::nullopt;
    if (!c->dims.empty() && c->dims.back() != 1 && c->dims.back() != channels) return std::nullopt;
    if (c->dims.size() == 2 && c->dims[0] < 1) return std::nullopt;
    return c->dims.size() == 2 ? c->dims[0] : int64_t(1);
}

} // namespace

const ir::Tensor* fixedConstantOf(const ir::Value* v) {
    if (!v || v->isGraphInput()) return nullptr;
    return constantOf(v);
}

std::optional<ChannelLinear> channelLinearOf(ir::Node& n, int64_t opset) {
    const bool conv = isOp(n, "Conv"), convT = isOp(n, "ConvTranspose");
    const bool gemm = isOp(n, "Gemm"), matmul = isOp(n, "MatMul");
    if (!(conv || convT || gemm || matmul) || !n.output(0) || !isFloat(n.input(0))) return std::nullopt;
    for (std::size_t k = 1; k < n.outputs().size(); ++k)
        if (n.output(k)) return std::nullopt;
    const ir::Tensor* w = fixedConstantOf(n.input(1));
    if (!isFloatData(w) || w->numElements() <= 0) return std::nullopt;
    ChannelLinear p;
    p.node = &n;
    if (conv || convT) {
        if (w->dims.size() < 3 || n.inputs().size() > 3) return std::nullopt;
        const int64_t group = n.attrInt("group", 1);
        if (group < 1) return std::nullopt;
        if (conv) {
            p.channels = w->dims[0];
        } else {
            if (w->dims[0] % group != 0) return std::nullopt;
            p.channels = w->dims[1] * group;
        }
        p.outRank = static_cast<int64_t>(w->dims.size());
        if (n.inputs().size() > 2 && n.input(2)) {
            const ir::Tensor* b = fixedConstantOf(n.input(2));
            if (!isFloatData(b) || b->dims != std::vector<int64_t>{p.channels}) return std::nullopt;
        }
    } else {
        if (opset < 7 || w->dims.size() != 2) return std::nullopt;
        if (matmul) {
            if (n.inputs().size() != 2 || !n.input(0)->type.shape || n.input(0)->type.shape->rank() != 2)
                return std::nullopt;
            p.channels = w->dims[1];
        } else {
            p.channels = n.attrInt("transB", 0) != 0 ? w->dims[0] : w->dims[1];
            if (!gemmBiasRows(n, p.channels)) return std::nullopt;
        }
        p.biasRequired = opset < 11;
        p.outRank = 2;
    }
    if (p.channels < 1) return std::nullopt;
    return p;
}

ir::Node* foldChannelAffine(ir::Graph& g, const ChannelLinear& p, const std::vector<double>& scale,
                            const std::vector<double>& shift) {
    ir::Node& n = *p.node;
    const int64_t M = p.channels;
    ir::Value* oldW = n.input(1);
    const ir::Tensor& w = *fixedConstantOf(oldW);
    const std::vector<double> wv = w.toDouble();
    std::vector<float> w2(wv.size());
    const bool anyShift = std::any_of(shift.begin(), shift.end(), [](double t) { return t != 0.0; });

    if (isOp(n, "Conv") || isOp(n, "ConvTranspose")) {
        // Conv weights are [M, C/group, k...]: output channel = row. ConvTranspose weights are
        // [C, M/group, k...]: input channel c (of group c / (C/group)) writes output channels
        // group * (M/group) + j for its dim-1 index j.
        const int64_t per = w.numElements() / (w.dims[0] * w.dims[1]);
        const int64_t group = n.attrInt("group", 1);
        const int64_t inPerGroup = w.dims[0] / (isOp(n, "Conv") ? 1 : group);
        for (int64_t a = 0; a < w.dims[0]; ++a)
            for (int64_t j = 0; j < w.dims[1]; ++j) {
                const int64_t out = isOp(n, "Conv") ? a : (a / inPerGroup) * w.dims[1] + j;
                for (int64_t k = 0; k < per; ++k) {
                    const std::size_t i = std::size_t((a * w.dims[1] + j) * per + k);
                    w2[i] = static_cast<float>(wv[i] * scale[std::size_t(out)]);
                }
            }
        ir::Value* oldB = n.inputs().size() > 2 ? n.input(2) : nullptr;
        n.setInput(1, addInitializer(g, foldedName(oldW), floatTensor(w.dims, std::move(w2))));
        if (oldB || anyShift) {
            std::vector<double> b(std::size_t(M), 0.0);
            if (oldB) b = fixedConstantOf(oldB)->toDouble();
            std::vector<float> b2(static_cast<std::size_t>(M));
            for (int64_t m = 0; m < M; ++m)
                b2[std::size_t(m)] = static_cast<float>(b[std::size_t(m)] * scale[std::size_t(m)] + shift[std::size_t(m)]);
            ir::Value* nb = addInitializer(g, oldB ? foldedName(oldB) : foldedName(oldW, "_bias"),
                                           floatTensor({M}, std::move(b2)));
            if (n.inputs().size() > 2)
                n.setInput(2, nb);
            else
                n.addInput(nb);
        }
        dropIfUnusedInitializer(g, oldW);
        dropIfUnusedInitializer(g, oldB);
        return &n;
    }

    // Gemm / MatMul: B' is [K, N] (B itself, or B^T when transB); scale its columns.
    const bool transB = isOp(n, "Gemm") && n.attrInt("transB", 0) != 0;
    const int64_t rows = w.dims[0], cols = w.dims[1];
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            const std::size_t i = std::size_t(r * cols + c);
            w2[i] = static_cast<float>(wv[i] * scale[std::size_t(transB ? r : c)]);
        }
    ir::Value* newW = addInitializer(g, foldedName(oldW), floatTensor(w.dims, std::move(w2)));

    // New C' with beta' = 1: beta' * C' = scale * (beta * C) + shift, broadcast over the channels.
    ir::Value* oldC = isOp(n, "Gemm") && n.inputs().size() > 2 ? n.input(2) : nullptr;
    ir::Value* newC = nullptr;
    if (oldC || anyShift || p.biasRequired) {
        const int64_t cRows = oldC ? *gemmBiasRows(n, M) : 1;
        const double beta = isOp(n, "Gemm") ? n.attrFloat("beta", 1.0f) : 1.0;
        std::vector<double> cv;
        std::vector<int64_t> cdims;
        if (oldC) {
            const ir::Tensor* ct = fixedConstantOf(oldC);
            cv = ct->toDouble();
            cdims = ct->dims;
        }
        std::vector<float> c2(std::size_t(cRows * M));
        for (int64_t r = 0; r < cRows; ++r)
            for (int64_t m = 0; m < M; ++m) {
                double cval = 0;
                if (oldC && beta != 0.0) {
                    const bool perCol = !cdims.empty() && cdims.back() == M && M > 1;
                    const int64_t lastDim = cdims.empty() ? 1 : cdims.back();
                    cval = beta * cv[std::size_t(r * lastDim + (perCol ? m : 0))];
                }
                c2[std::size_t(r * M + m)] = static_cast<float>(cval * scale[std::size_t(m)] + shift[std::size_t(m)]);
            }
        std::vector<int64_t> dims = cRows > 1 || cdims.size() == 2 ? std::vector<int64_t>{cRows, M}
                                                                   : std::vector<int64_t>{M};
        newC = addInitializer(g, oldC ? foldedName(oldC) : foldedName(oldW, "_bias"),
                              floatTensor(std::move(dims), std::move(c2)));
    }

    ir::Node* result = &n;
    if (isOp(n, "MatMul")) {
        ir::Value* a = n.input(0);
        ir::Value* y = n.output(0);
        const std::string name = n.name;
        ir::Node* next = nodeAfter(g, &n);
        g.removeNode(&n);
        result = g.insertNode(next, "Gemm", "", name, {a, newW, newC}, {y});
    } else {
        n.setInput(1, newW);
        if (newC) {
            if (n.inputs().size() > 2)
                n.setInput(2, newC);
            else
                n.addInput(newC);
            n.removeAttr("beta");
        }
    }
    dropIfUnusedInitializer(g, oldW);
    dropIfUnusedInitializer(g, oldC);
    return result;
}

std::optional<std::pair<std::vector<double>, std::vector<double>>>
inferenceBatchNormAffine(const ir::Node& bn, int64_t channels, int64_t opset) {
    if (!isOp(bn, "BatchNormalization") || opset < 7 || bn.inputs().size() != 5 || !bn.output(0)) return std::nullopt;
    if (bn.attrInt("training_mode", 0) != 0) return std::nullopt;
    if (opset < 9 && bn.attrInt("spatial", 1) != 1) return std::nullopt;
    for (std::size_t k = 1; k < bn.outputs().size(); ++k)
        if (bn.output(k)) return std::nullopt;
    if (!isFloat(bn.output(0))) return std::nullopt;
    const ir::Tensor* t[4];
    for (int k = 0; k < 4; ++k) {
        t[k] = fixedConstantOf(bn.input(std::size_t(k + 1)));
        // Opset 15 lets scale/B and mean/var have their own float types.
        const bool floating = t[k] && t[k]->strings.empty() &&
                              (t[k]->dtype == ir::DataType::Float || t[k]->dtype == ir::DataType::Double ||
                               t[k]->dtype == ir::DataType::Float16 || t[k]->dtype == ir::DataType::BFloat16);
        if (!floating || t[k]->dims != std::vector<int64_t>{channels}) return std::nullopt;
    }
    const double eps = bn.attrFloat("epsilon", 1e-5f);
    std::vector<double> scale(static_cast<std::size_t>(channels)), shift(static_cast<std::size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
        const double gamma = t[0]->valueAsDouble(c), beta = t[1]->valueAsDouble(c);
        const double mean = t[2]->valueAsDouble(c), var = t[3]->valueAsDouble(c);
        if (!std::isfinite(gamma) || !std::isfinite(beta) || !std::isfinite(mean) || !std::isfinite(var) ||
            !(var + eps > 0))
            return std::nullopt;
        const double s = gamma / std::sqrt(var + eps);
        scale[std::size_t(c)] = s;
        shift[std::size_t(c)] = beta - mean * s;
    }
    return std::pair{std::move(scale), std::move(shift)};
}

bool foldConsumerIntoProducer(ir::Graph& g, PassContext& ctx, ir::Node* consumer, const ChannelLinear& p,
                              const std::vector<double>& scale, const std::vector<double>& shift) {
    ir::Value* y = p.node->output(0);
    ir::Value* z = consumer->output(0);
    if (!z || !canReplaceValue(g, z, y)) return false;
    const bool wasMatMul = isOp(*p.node, "MatMul");
    ir::Node* into = foldChannelAffine(g, p, scale, shift);
    ctx.fused(*consumer, *into);
    if (wasMatMul) ctx.rewritten(*into); // now a Gemm of the same name
    replaceValue(g, z, y);
    const std::vector<ir::Value*> params = consumer->inputs();
    eraseNode(g, consumer);
    for (ir::Value* v : params) dropIfUnusedInitializer(g, v); // the BN statistics, the Mul's factor
    return true;
}

} // namespace ew::opt
