#include "tensor_stats.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace ew::ui {

namespace {

/// Welford accumulator; the float32 fast path and the generic path share it.
struct Accumulator {
    TensorStats s;
    double m2 = 0.0;
    int64_t finite = 0;

    void add(double x) {
        ++s.count;
        if (x == 0.0) ++s.zeros;
        if (!std::isfinite(x)) {
            ++s.nonFinite;
            return;
        }
        if (finite == 0) {
            s.min = s.max = x;
        } else {
            if (x < s.min) s.min = x;
            if (x > s.max) s.max = x;
        }
        ++finite;
        double delta = x - s.mean;
        s.mean += delta / double(finite);
        m2 += delta * (x - s.mean);
    }

    TensorStats finish() {
        s.stddev = finite > 0 ? std::sqrt(m2 / double(finite)) : 0.0;
        return s;
    }
};

void collectGraphs(const ir::Graph& g, std::vector<const ir::Graph*>& out) {
    out.push_back(&g);
    for (const auto& n : g.nodes())
        for (const ir::Graph* sub : n->subgraphs())
            if (sub) collectGraphs(*sub, out);
}

} // namespace

TensorStats computeTensorStats(const ir::Tensor& t) {
    Accumulator acc;
    if (t.dtype == ir::DataType::String || t.dtype == ir::DataType::Undefined) {
        acc.s.numeric = false;
        acc.s.count = t.dtype == ir::DataType::String ? int64_t(t.strings.size()) : 0;
        return acc.s;
    }
    int64_t n = t.numElements();
    // Guard against a tensor whose bytes do not cover its dims; the verifier should have caught
    // it, but statistics must never read out of bounds.
    auto need = ir::dataTypeStorageBytes(t.dtype, uint64_t(n));
    if (n <= 0 || !need || *need > t.byteSize()) {
        acc.s.count = 0;
        return acc.s;
    }
    if (t.dtype == ir::DataType::Float) {
        const std::byte* p = t.bytes().data();
        for (int64_t i = 0; i < n; ++i) {
            float f;
            std::memcpy(&f, p + i * 4, 4);
            acc.add(f);
        }
    } else {
        for (int64_t i = 0; i < n; ++i)
            acc.add(t.valueAsDouble(i));
    }
    return acc.finish();
}

std::optional<TensorStatsMap> computeInitializerStats(const ir::Model& model, Reporter& reporter) {
    TensorStatsMap out;
    if (!model.graph) return out;
    std::vector<const ir::Graph*> graphs;
    collectGraphs(*model.graph, graphs);
    // Progress by bytes, not by tensor count: one 10 MB weight outweighs a hundred biases.
    uint64_t total = 0;
    for (const ir::Graph* g : graphs)
        for (const ir::Value* v : g->initializers)
            if (v && v->initializer) total += v->initializer->byteSize();
    uint64_t done = 0;
    reporter.progress("statistics", 0.0);
    for (const ir::Graph* g : graphs) {
        for (const ir::Value* v : g->initializers) {
            if (!v || !v->initializer) continue;
            if (reporter.isCancelled()) return std::nullopt;
            out.emplace(v, computeTensorStats(*v->initializer));
            done += v->initializer->byteSize();
            if (total > 0) reporter.progress("statistics", double(done) / double(total));
        }
    }
    reporter.progress("statistics", 1.0);
    return out;
}

} // namespace ew::ui
