// Cross-layer equalization. The pairs are found once, then swept until the scales settle:
// a Conv that is the second of one pair and the first of the next is pulled both ways, and
// alternating sweeps converge to ranges balanced along the whole chain.
#include "equalize.h"

#include "optimize/graph_util.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace ew::opt::quant {

namespace {

/// A float Conv weight (and bias) held as editable vectors, written back at the end.
struct ConvWeights {
    ir::Node* node = nullptr;
    ir::Value* w = nullptr;
    ir::Value* b = nullptr; ///< nullptr when the Conv has no bias
    std::vector<int64_t> dims;
    std::vector<float> wv, bv;
    int64_t group = 1;
    int64_t out() const { return dims[0]; }
    int64_t inPerGroup() const { return dims[1]; }
    int64_t kernel() const {
        int64_t k = 1;
        for (std::size_t d = 2; d < dims.size(); ++d) k *= dims[d];
        return k;
    }
};

/// An editable initializer used by this node only (shared weights would change other nodes).
bool ownedFloatInitializer(const ir::Value* v, const ir::Node* n) {
    return v && v->isInitializer() && !v->isGraphInput() && v->initializer->dtype == ir::DataType::Float &&
           onlyUsedBy(v, n);
}

/// Conv with an owned constant float weight of rank >= 3 and an owned 1-D bias (or none).
bool eligibleConv(const ir::Node* n, std::string& why) {
    if (!isOp(*n, "Conv")) return false;
    if (n->inputs().size() < 2 || !ownedFloatInitializer(n->input(1), n)) {
        why = "weight is not a float initializer used by this node only";
        return false;
    }
    const ir::Tensor& w = *n->input(1)->initializer;
    if (w.dims.size() < 3 || w.dims[0] <= 0 || w.dims[1] <= 0) {
        why = "unexpected weight shape";
        return false;
    }
    if (n->inputs().size() > 2 && n->input(2)) {
        const ir::Value* b = n->input(2);
        if (!ownedFloatInitializer(b, n) || b->initializer->dims.size() != 1 || b->initializer->dims[0] != w.dims[0]) {
            why = "bias is not a float initializer of this node only";
            return false;
        }
    }
    return true;
}

/// Positively homogeneous activations: f(x / s) == f(x) / s for every s > 0.
bool homogeneous(const ir::Node* n) {
    if (isOp(*n, "Relu") || isOp(*n, "LeakyRelu")) return true;
    if (isOp(*n, "PRelu") && n->inputs().size() == 2) {
        const ir::Tensor* slope = constantOf(n->input(1));
        return slope && slope->numElements() == 1;
    }
    return false;
}

/// Absolute range of every output channel of `c`.
std::vector<double> outputRanges(const ConvWeights& c) {
    const int64_t per = c.inPerGroup() * c.kernel();
    std::vector<double> r(static_cast<std::size_t>(c.out()), 0.0);
    for (int64_t o = 0; o < c.out(); ++o)
        for (int64_t k = 0; k < per; ++k)
            r[std::size_t(o)] = std::max<double>(r[std::size_t(o)], std::abs(c.wv[std::size_t(o * per + k)]));
    return r;
}

/// Calls f(flat index) for every weight of `c` that multiplies its input channel `ch`.
template <typename F>
void forInputChannel(const ConvWeights& c, int64_t ch, F&& f) {
    const int64_t cin = c.inPerGroup(), k = c.kernel();
    const int64_t outPerGroup = c.out() / c.group;
    const int64_t g = ch / cin, local = ch % cin;
    for (int64_t o = g * outPerGroup; o < (g + 1) * outPerGroup; ++o)
        for (int64_t j = 0; j < k; ++j) f(std::size_t((o * cin + local) * k + j));
}

double rangeRatio(const std::vector<double>& r) {
    double lo = INFINITY, hi = 0;
    for (double x : r)
        if (x > 0) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
    return hi > 0 ? hi / lo : 1.0;
}

} // namespace

Result<EqualizeReport> equalizeCrossLayer(ir::Model& model, const EqualizeOptions& options) {
    EqualizeReport rep;
    ir::Graph& g = *model.graph;
    EW_TRY_ASSIGN(std::vector<ir::Node*> order, g.topologicalOrder());

    std::map<ir::Node*, ConvWeights> convs;
    auto load = [&](ir::Node* n) -> ConvWeights& {
        auto it = convs.find(n);
        if (it != convs.end()) return it->second;
        ConvWeights c;
        c.node = n;
        c.w = n->input(1);
        c.b = n->inputs().size() > 2 ? n->input(2) : nullptr;
        c.dims = c.w->initializer->dims;
        c.wv = c.w->initializer->toFloat();
        if (c.b) c.bv = c.b->initializer->toFloat();
        c.group = n->attrInt("group", 1);
        return convs.emplace(n, std::move(c)).first->second;
    };

    struct Pair {
        ir::Node* a;
        ir::Node* b;
    };
    std::vector<Pair> pairs;
    for (ir::Node* a : order) {
        if (!isOp(*a, "Conv") || a->outputs().empty() || !a->output(0)) continue;
        // The path a -> [activation] -> b, every edge used once and no graph output between.
        ir::Node* next = soleConsumer(a->output(0));
        if (!next) continue;
        ir::Node* act = nullptr;
        if (!isOp(*next, "Conv")) {
            act = next;
            if (act->outputs().empty() || !act->output(0) || act->input(0) != a->output(0)) continue;
            next = soleConsumer(act->output(0));
            if (!next || !isOp(*next, "Conv")) continue;
        }
        ir::Node* b = next;
        const std::string label = a->displayName() + " -> " + (act ? act->opType + " -> " : "") + b->displayName();
        if (b->input(0) != (act ? act->output(0) : a->output(0))) continue; // feeds the weight, not the data
        if (act && !homogeneous(act)) {
            if (isOp(*act, "Clip") || isOp(*act, "Relu6"))
                rep.skipped.push_back(label + ": a clip bound cannot be scaled per channel");
            continue;
        }
        std::string why;
        if (!eligibleConv(a, why) || !eligibleConv(b, why)) {
            rep.skipped.push_back(label + ": " + why);
            continue;
        }
        ConvWeights& ca = load(a);
        ConvWeights& cb = load(b);
        if (cb.group <= 0 || ca.group <= 0 || cb.out() % cb.group != 0 || cb.inPerGroup() * cb.group != ca.out()) {
            rep.skipped.push_back(label + ": channel counts do not line up");
            continue;
        }
        pairs.push_back({a, b});
        rep.pairs.push_back({a->displayName(), b->displayName(), act ? act->opType : std::string(),
                             ca.group > 1 || cb.group > 1});
    }
    if (pairs.empty()) return rep;

    // Uniformity of the per-output-channel ranges of every weight involved, before and after.
    auto meanRatio = [&] {
        double logSum = 0;
        for (auto& [n, c] : convs) logSum += std::log(rangeRatio(outputRanges(c)));
        return std::exp(logSum / double(convs.size()));
    };
    rep.rangeRatioBefore = meanRatio();

    for (int it = 0; it < options.maxIterations; ++it) {
        rep.iterations = it + 1;
        double moved = 0;
        for (const Pair& p : pairs) {
            ConvWeights& a = convs.at(p.a);
            ConvWeights& b = convs.at(p.b);
            const std::vector<double> r1 = outputRanges(a);
            for (int64_t i = 0; i < a.out(); ++i) {
                double r2 = 0;
                forInputChannel(b, i, [&](std::size_t k) { r2 = std::max<double>(r2, std::abs(b.wv[k])); });
                const double r1i = r1[std::size_t(i)];
                if (!(r1i > 0) || !(r2 > 0)) continue; // a dead channel: nothing to balance
                const double s = std::sqrt(r1i / r2);
                if (!std::isfinite(s)) continue;
                moved = std::max(moved, std::abs(s - 1.0));
                const int64_t per = a.inPerGroup() * a.kernel();
                for (int64_t k = 0; k < per; ++k) a.wv[std::size_t(i * per + k)] = float(a.wv[std::size_t(i * per + k)] / s);
                if (a.b) a.bv[std::size_t(i)] = float(a.bv[std::size_t(i)] / s);
                forInputChannel(b, i, [&](std::size_t k) { b.wv[k] = float(b.wv[k] * s); });
            }
        }
        if (moved < options.tolerance) break;
    }
    rep.rangeRatioAfter = meanRatio();

    for (auto& [n, c] : convs) {
        ir::Tensor& w = *c.w->initializer;
        w = ir::Tensor::fromVector<float>(w.name, ir::DataType::Float, w.dims, std::move(c.wv));
        if (c.b) {
            ir::Tensor& b = *c.b->initializer;
            b = ir::Tensor::fromVector<float>(b.name, ir::DataType::Float, b.dims, std::move(c.bv));
        }
    }
    return rep;
}

} // namespace ew::opt::quant
