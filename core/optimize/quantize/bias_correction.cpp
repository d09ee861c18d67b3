// Empirical bias correction. The float model and a quantized copy run side by side on the same
// samples; the capture hook sees each Conv/Gemm output in both, and only per-channel running
// sums are kept, so memory is O(channels) whatever the number of samples.
#include "bias_correction.h"

#include "optimize/graph_util.h"
#include "runtime/session.h"

#include <cmath>
#include <unordered_map>

namespace ew::opt::quant {

namespace {

/// Per-channel sums of a node's output over every position of every sample (channel axis 1).
struct ChannelMeans {
    std::vector<double> sum;
    int64_t perChannel = 0; ///< elements summed into each channel
    bool shapeError = false;

    void add(const rt::Tensor& t, int64_t channels) {
        if (t.dtype() != ir::DataType::Float || t.rank() < 2 || t.dims()[1] != channels) {
            shapeError = true;
            return;
        }
        if (sum.empty()) sum.assign(static_cast<std::size_t>(channels), 0.0);
        const int64_t outer = t.dims()[0];
        int64_t inner = 1;
        for (std::size_t d = 2; d < t.rank(); ++d) inner *= t.dims()[d];
        const float* p = t.data<float>();
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t c = 0; c < channels; ++c) {
                double s = 0;
                const float* q = p + (o * channels + c) * inner;
                for (int64_t i = 0; i < inner; ++i) s += q[i];
                sum[static_cast<std::size_t>(c)] += s;
            }
        perChannel += outer * inner;
    }
};

struct Target {
    ir::Node* original = nullptr;
    ir::Node* quantized = nullptr;
    int64_t channels = 0;
    ChannelMeans f, q;
};

} // namespace

Result<BiasCorrectionReport> correctBias(ir::Model& model, const Calibration& calibration, const QuantizeOptions& options,
                                         data::Dataset& data, Reporter& reporter) {
    if (!needsCalibration(options.scheme))
        return fail(StatusCode::Usage, "bias correction needs an int8 scheme (int8 or int8-per-tensor)");
    BiasCorrectionReport rep;
    std::unique_ptr<ir::Model> q = model.clone();
    // Graph::clone keeps node order: pair the nodes before the rewrite reorders them.
    std::unordered_map<const ir::Node*, ir::Node*> toOriginal;
    {
        const auto& a = model.graph->nodes();
        const auto& b = q->graph->nodes();
        if (a.size() != b.size()) return fail(StatusCode::Internal, "bias correction: the model copy differs");
        for (std::size_t i = 0; i < a.size(); ++i) toOriginal[b[i].get()] = a[i].get();
    }
    EW_TRY(quantizeModel(*q, &calibration, options));

    std::vector<Target> targets;
    std::unordered_map<const ir::Node*, std::size_t> byQuantized;
    for (const auto& n : q->graph->nodes()) {
        auto it = toOriginal.find(n.get());
        if (it == toOriginal.end()) continue; // a node the rewrite added
        ir::Node* o = it->second;
        if (!isOp(*o, "Conv") && !isOp(*o, "Gemm")) continue;
        // Quantized: its weight now comes through a DequantizeLinear.
        const ir::Value* w = n->inputs().size() > 1 ? n->input(1) : nullptr;
        if (!w || !w->producer() || w->producer()->opType != "DequantizeLinear") continue;
        const ir::Tensor* wt = constantOf(o->input(1));
        if (!wt || wt->dims.size() < 2) continue;
        int64_t channels = wt->dims[0];
        if (isOp(*o, "Gemm")) {
            if (o->attrFloat("alpha", 1.f) != 1.f || o->attrFloat("beta", 1.f) != 1.f) {
                rep.notes.push_back(o->displayName() + ": alpha/beta other than 1");
                continue;
            }
            channels = o->attrInt("transB", 0) ? wt->dims[0] : wt->dims[1];
        }
        if (o->inputs().size() > 2 && o->input(2)) {
            const ir::Value* b = o->input(2);
            if (!b->isInitializer() || b->isGraphInput() || b->initializer->dtype != ir::DataType::Float ||
                b->initializer->dims != std::vector<int64_t>{channels}) {
                rep.notes.push_back(o->displayName() + ": bias is not a float initializer of one value per channel");
                continue;
            }
        }
        byQuantized[n.get()] = targets.size();
        targets.push_back({o, n.get(), channels, {}, {}});
    }
    if (targets.empty()) return rep;

    // Each target gets a float twin in the quantized copy: the same input (the dequantized
    // activation the quantized node reads) with the original float weight and bias. The
    // difference of the two outputs is that node's own error, (W_q - W) x plus the bias
    // rounding, free of what earlier layers contribute (they are corrected themselves, and
    // counting their error again here would correct it twice).
    ir::Graph& qg = *q->graph;
    std::unordered_map<const ir::Node*, std::size_t> byTwin;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        Target& t = targets[i];
        std::vector<ir::Value*> ins{t.quantized->input(0), addInitializer(qg, t.original->input(1)->name + "_float",
                                                                           *constantOf(t.original->input(1)))};
        if (t.original->inputs().size() > 2 && t.original->input(2))
            ins.push_back(addInitializer(qg, t.original->input(2)->name + "_float", *t.original->input(2)->initializer));
        ir::Type ty = t.quantized->output(0)->type;
        EW_TRY_ASSIGN(ir::Value* out, qg.addValue(qg.uniqueName(t.quantized->output(0)->name + "_float_twin"), ty));
        ir::Node* twin = qg.addNode(t.original->opType, t.original->domain, uniqueNodeName(qg, t.original->name + "_float_twin"),
                                    ins, {out});
        for (const auto& a : t.original->attributes) twin->attributes.push_back(a.clone(&qg, twin));
        qg.outputs.push_back(out); // kept alive: nothing else reads it
        byTwin[twin] = i;
    }
    EW_TRY(qg.sortTopologically());

    rt::SessionOptions so;
    so.fuse = false; // every Conv/Gemm output must be visible, quantized and twin alike
    EW_TRY_ASSIGN(auto qs, rt::Session::create(*q, so));
    qs->setNodeCallback([&](const rt::NodeEvent& e) {
        if (e.outputs.empty() || !e.outputs[0]) return;
        if (auto it = byQuantized.find(&e.node); it != byQuantized.end())
            targets[it->second].q.add(*e.outputs[0], targets[it->second].channels);
        else if (auto t = byTwin.find(&e.node); t != byTwin.end())
            targets[t->second].f.add(*e.outputs[0], targets[t->second].channels);
    });
    data.reset();
    const int64_t total = data.size();
    data::Sample s;
    for (;;) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "bias correction cancelled");
        EW_TRY_ASSIGN(bool more, data.next(s));
        if (!more) break;
        auto out = qs->run(s.inputs);
        if (!out) {
            Status st = out.error();
            st.message = "bias correction sample '" + s.source + "': " + st.message;
            return std::unexpected(st);
        }
        ++rep.samples;
        if (total > 0) reporter.progress("bias correction", double(rep.samples) / double(total));
    }
    if (rep.samples == 0) return fail(StatusCode::InvalidInput, "the bias correction data has no samples: " + data.describe());

    ir::Graph& g = *model.graph;
    for (Target& t : targets) {
        ir::Node* n = t.original;
        if (t.f.shapeError || t.q.shapeError || t.f.perChannel == 0 || t.f.perChannel != t.q.perChannel) {
            rep.notes.push_back(n->displayName() + ": output is not [N, C, ...] float with C = " + std::to_string(t.channels));
            continue;
        }
        std::vector<float> shift(static_cast<std::size_t>(t.channels));
        BiasCorrection bc{n->displayName(), t.channels, 0, 0, false};
        for (std::size_t c = 0; c < shift.size(); ++c) {
            const double d = (t.q.sum[c] - t.f.sum[c]) / double(t.f.perChannel);
            shift[c] = static_cast<float>(d);
            bc.meanAbsShift += std::abs(d) / double(t.channels);
            bc.maxAbsShift = std::max(bc.maxAbsShift, std::abs(d));
        }
        std::vector<float> bias(shift.size(), 0.f);
        ir::Value* bv = n->inputs().size() > 2 ? n->input(2) : nullptr;
        if (bv) bias = bv->initializer->toFloat();
        for (std::size_t c = 0; c < bias.size(); ++c) bias[c] -= shift[c];
        ir::Tensor nt = ir::Tensor::fromVector<float>("", ir::DataType::Float, {t.channels}, std::move(bias));
        if (bv && onlyUsedBy(bv, n)) {
            nt.name = bv->initializer->name;
            *bv->initializer = std::move(nt);
        } else {
            // No bias, or one shared with other nodes: this node gets its own.
            const std::string base = bv ? bv->name + "_corrected" : n->output(0)->name + "_bias";
            ir::Value* nb = addInitializer(g, base, std::move(nt));
            if (bv) n->setInput(2, nb);
            else {
                while (n->inputs().size() < 2) n->addInput(nullptr);
                n->addInput(nb);
            }
            bc.biasAdded = !bv;
        }
        rep.nodes.push_back(std::move(bc));
    }
    return rep;
}

} // namespace ew::opt::quant
