// Quantization error analysis: per-tensor error, per-layer sensitivity, greedy mixed precision.
//
// Layers are kept in float through QuantizeOptions::exclude, whose patterns are globs on node
// names or op types. To exclude exactly the chosen nodes (unnamed ones, names holding '*' or
// '?', or a node named like an op type), quantizeKeepingFloat gives every node of a copy a
// private unique name, excludes by those names, and restores the original names afterwards.
#include "analysis.h"

#include "common/json_writer.h"
#include "optimize/dataset/evaluate.h"
#include "optimize/graph_util.h"
#include "runtime/session.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace ew::opt::quant {

namespace {

constexpr std::string_view kTempPrefix = "__ew_analysis_node_";

bool isLayer(const ir::Node& n) {
    return ir::canonicalDomain(n.domain).empty() &&
           (n.opType == "Conv" || n.opType == "ConvTranspose" || n.opType == "Gemm" || n.opType == "MatMul");
}

bool userExcluded(const ir::Node& n, const std::vector<std::string>& patterns) {
    for (const std::string& p : patterns)
        if ((!n.name.empty() && globMatch(p, n.name)) || globMatch(p, n.opType)) return true;
    return false;
}

/// Replaces private names at the start of report lines ("name", "name: why", "name (folded...)").
void restoreNames(std::vector<std::string>& lines, const std::unordered_map<std::string, std::string>& original) {
    for (std::string& s : lines) {
        if (!s.starts_with(kTempPrefix)) continue;
        std::size_t end = kTempPrefix.size();
        while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
        auto it = original.find(s.substr(0, end));
        if (it != original.end()) s = it->second + s.substr(end);
    }
}

Result<std::unique_ptr<rt::Session>> plainSession(const ir::Model& m, bool fuse) {
    rt::SessionOptions so;
    so.fuse = fuse;
    return rt::Session::create(m, so);
}

} // namespace

Result<std::vector<TensorError>> tensorErrors(const ir::Model& fp32, const ir::Model& quantized, data::Dataset& data,
                                              Reporter& reporter) {
    const ir::Graph& fg = *fp32.graph;
    const ir::Graph& qg = *quantized.graph;
    // Dequantized tensor name (QDQ model) -> reference tensor name (FP32 model), in QDQ order.
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& d : qg.nodes()) {
        if (d->opType != "DequantizeLinear" || !ir::canonicalDomain(d->domain).empty() || !d->output(0)) continue;
        const ir::Value* qv = d->input(0);
        const ir::Node* q = qv ? qv->producer() : nullptr;
        if (!q || q->opType != "QuantizeLinear") continue;
        const ir::Value* v = q->input(0);
        if (!v || v->isInitializer() || constantOf(v)) continue;
        const std::string& dqName = d->output(0)->name;
        // A graph output keeps its name on the dequantized value.
        const ir::Value* ref = fg.findValue(dqName);
        if (!ref) ref = fg.findValue(v->name);
        if (!ref) continue;
        // A Relu/Clip folded into its producer's range: the QDQ tensor stands for its output.
        if (ref->uses().size() == 1 && !ref->isGraphOutput()) {
            const ir::Node* u = ref->uses()[0].node;
            if ((u->opType == "Relu" || u->opType == "Clip") && u->output(0) && !qg.findValue(u->output(0)->name))
                ref = u->output(0);
        }
        pairs.emplace_back(dqName, ref->name);
    }
    if (pairs.empty()) return std::vector<TensorError>{};

    std::unordered_map<std::string, std::size_t> byDq, byRef;
    std::vector<data::OutputErrorAccumulator> acc;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        byDq.emplace(pairs[i].first, i);
        byRef.emplace(pairs[i].second, i);
        acc.emplace_back(pairs[i].second);
    }
    EW_TRY_ASSIGN(auto ref, plainSession(fp32, false));
    EW_TRY_ASSIGN(auto qdq, plainSession(quantized, false));
    std::unordered_map<std::string, rt::Tensor> captured; // one sample's reference tensors
    ref->setNodeCallback([&](const rt::NodeEvent& e) {
        for (std::size_t k = 0; k < e.outputs.size(); ++k) {
            const ir::Value* v = e.node.output(k);
            if (v && e.outputs[k] && v->graph() == &fg && byRef.count(v->name)) captured[v->name] = e.outputs[k]->clone();
        }
    });
    Status failure;
    bool failed = false;
    qdq->setNodeCallback([&](const rt::NodeEvent& e) {
        if (failed || e.node.opType != "DequantizeLinear" || e.outputs.empty() || !e.outputs[0] || !e.node.output(0)) return;
        auto it = byDq.find(e.node.output(0)->name);
        if (it == byDq.end()) return;
        auto r = captured.find(pairs[it->second].second);
        if (r == captured.end()) return;
        if (auto a = acc[it->second].add(r->second, *e.outputs[0]); !a) {
            failure = a.error();
            failed = true;
        }
    });
    data.reset();
    const int64_t total = data.size();
    int64_t done = 0;
    data::Sample s;
    for (;;) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "analysis cancelled");
        EW_TRY_ASSIGN(bool more, data.next(s));
        if (!more) break;
        captured.clear();
        for (const auto& [name, t] : s.inputs)
            if (byRef.count(name)) captured[name] = t.clone();
        if (auto o = ref->run(s.inputs); !o) return fail(o.error().code, "FP32 run on '" + s.source + "': " + o.error().message);
        if (auto o = qdq->run(s.inputs); !o)
            return fail(o.error().code, "quantized run on '" + s.source + "': " + o.error().message);
        if (failed) return fail(failure.code, "sample '" + s.source + "': " + failure.message);
        ++done;
        if (total > 0) reporter.progress("tensor error", double(done) / double(total));
    }
    if (done == 0) return fail(StatusCode::InvalidInput, "the evaluation data has no samples: " + data.describe());
    std::vector<TensorError> out;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        const data::OutputError e = acc[i].result();
        if (e.elements == 0) continue;
        const ir::Value* v = fg.findValue(pairs[i].second);
        TensorError t;
        t.tensor = pairs[i].second;
        t.node = v && v->producer() ? v->producer()->displayName() : std::string();
        t.sqnrDb = e.sqnrDb;
        t.cosine = e.cosine;
        t.maxAbsError = e.maxAbsError;
        t.elements = e.elements;
        out.push_back(std::move(t));
    }
    return out;
}

Result<double> outputSqnr(const ir::Model& fp32, const ir::Model& model, data::Dataset& data, Reporter& reporter) {
    EW_TRY_ASSIGN(auto ref, plainSession(fp32, true));
    EW_TRY_ASSIGN(auto run, plainSession(model, true));
    std::vector<data::OutputErrorAccumulator> acc;
    for (const rt::TensorInfo& o : ref->outputInfo()) acc.emplace_back(o.name);
    data.reset();
    data::Sample s;
    int64_t done = 0;
    for (;;) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "analysis cancelled");
        EW_TRY_ASSIGN(bool more, data.next(s));
        if (!more) break;
        auto a = ref->run(s.inputs);
        if (!a) return fail(a.error().code, "FP32 run on '" + s.source + "': " + a.error().message);
        auto b = run->run(s.inputs);
        if (!b) return fail(b.error().code, "quantized run on '" + s.source + "': " + b.error().message);
        if (a->size() != b->size()) return fail(StatusCode::InvalidInput, "the models have different output counts");
        for (std::size_t k = 0; k < a->size() && k < acc.size(); ++k) {
            if ((*a)[k].dtype() != ir::DataType::Float || (*b)[k].dtype() != ir::DataType::Float) continue;
            if (auto r = acc[k].add((*a)[k], (*b)[k]); !r)
                return fail(r.error().code, "sample '" + s.source + "': " + r.error().message);
        }
        ++done;
    }
    if (done == 0) return fail(StatusCode::InvalidInput, "the evaluation data has no samples: " + data.describe());
    double worst = std::numeric_limits<double>::infinity();
    bool any = false;
    for (const auto& a : acc) {
        const data::OutputError e = a.result();
        if (e.elements == 0) continue;
        any = true;
        if (std::isnan(e.sqnrDb)) return -std::numeric_limits<double>::infinity();
        worst = std::min(worst, e.sqnrDb);
    }
    if (!any) return fail(StatusCode::Unsupported, "the model has no float output to compare");
    return worst;
}

std::vector<std::string> sensitivityLayers(const ir::Model& fp32, const QuantizeOptions& options) {
    std::vector<std::string> out;
    for (const auto& n : fp32.graph->nodes())
        if (isLayer(*n) && !userExcluded(*n, options.exclude)) out.push_back(n->displayName());
    return out;
}

Result<QuantizeReport> quantizeKeepingFloat(ir::Model& model, const Calibration& calibration, const QuantizeOptions& options,
                                            const std::set<std::string>& keepFloat) {
    ir::Graph& g = *model.graph;
    std::unordered_map<std::string, std::string> originalName, originalDisplay;
    QuantizeOptions o = options;
    o.exclude.clear();
    // A Relu/Clip that alone reads a kept layer's output stays float with it: quantized on its own
    // it would only add a QDQ pair on each side of an exact float op.
    std::set<const ir::Node*> kept;
    for (const auto& n : g.nodes())
        if (keepFloat.count(n->displayName())) {
            kept.insert(n.get());
            const ir::Value* y = n->output(0);
            if (y && y->uses().size() == 1 && !y->isGraphOutput()) {
                const ir::Node* u = y->uses()[0].node;
                if (u->opType == "Relu" || u->opType == "Clip") kept.insert(u);
            }
        }
    std::size_t index = 0;
    for (const auto& n : g.nodes()) {
        const std::string temp = std::string(kTempPrefix) + std::to_string(index++);
        const bool exclude = kept.count(n.get()) || userExcluded(*n, options.exclude);
        originalDisplay[temp] = n->displayName();
        originalName[temp] = n->name;
        n->name = temp;
        if (exclude) o.exclude.push_back(temp);
    }
    auto rep = quantizeModel(model, &calibration, o);
    for (const auto& n : g.nodes())
        if (auto it = originalName.find(n->name); it != originalName.end()) n->name = it->second;
    if (!rep) {
        Status st = rep.error();
        if (st.message.starts_with(kTempPrefix) || st.node.starts_with(kTempPrefix)) {
            std::vector<std::string> fix{st.message, st.node};
            restoreNames(fix, originalDisplay);
            st.message = fix[0];
            st.node = fix[1];
        }
        return std::unexpected(st);
    }
    restoreNames(rep->quantizedNodes, originalDisplay);
    restoreNames(rep->excludedNodes, originalDisplay);
    restoreNames(rep->notes, originalDisplay);
    return rep;
}

Result<std::vector<LayerSensitivity>> layerSensitivity(const ir::Model& fp32, const Calibration& calibration,
                                                       const QuantizeOptions& options, data::Dataset& data,
                                                       Reporter& reporter, const ir::Model* reference) {
    const ir::Model& ref = reference ? *reference : fp32;
    if (!needsCalibration(options.scheme))
        return fail(StatusCode::Usage, "layer sensitivity needs an int8 scheme, not " + std::string(schemeName(options.scheme)));
    const std::vector<std::string> layers = sensitivityLayers(fp32, options);
    std::set<std::string> all;
    for (const auto& n : fp32.graph->nodes()) all.insert(n->displayName());
    std::vector<LayerSensitivity> out;
    std::size_t k = 0;
    for (const std::string& layer : layers) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "analysis cancelled");
        std::set<std::string> others = all;
        others.erase(layer);
        std::unique_ptr<ir::Model> m = fp32.clone();
        std::string op;
        for (const auto& n : m->graph->nodes())
            if (n->displayName() == layer) op = n->opType;
        EW_TRY_ASSIGN(QuantizeReport rep, quantizeKeepingFloat(*m, calibration, options, others));
        if (std::find(rep.quantizedNodes.begin(), rep.quantizedNodes.end(), layer) == rep.quantizedNodes.end()) {
            ++k; // not quantizable on its own (see the quantizer's notes): nothing to measure
            continue;
        }
        EW_TRY_ASSIGN(double db, outputSqnr(ref, *m, data));
        out.push_back({layer, op, db});
        reporter.progress("sensitivity", double(++k) / double(layers.size()));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const LayerSensitivity& a, const LayerSensitivity& b) { return a.outputSqnrDb < b.outputSqnrDb; });
    return out;
}

Result<MixedPrecision> mixedPrecision(ir::Model& model, const Calibration& calibration, const QuantizeOptions& options,
                                      const std::vector<LayerSensitivity>& ranking, double targetDb, data::Dataset& data,
                                      Reporter& reporter, const ir::Model* reference) {
    const std::unique_ptr<ir::Model> fp32 = model.clone();
    const ir::Model& ref = reference ? *reference : *fp32;
    MixedPrecision r;
    r.targetDb = targetDb;
    std::set<std::string> keep;
    std::unique_ptr<ir::Model> best;
    for (std::size_t step = 0;; ++step) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "mixed precision cancelled");
        std::unique_ptr<ir::Model> m = fp32->clone();
        EW_TRY_ASSIGN(QuantizeReport rep, quantizeKeepingFloat(*m, calibration, options, keep));
        EW_TRY_ASSIGN(double db, outputSqnr(ref, *m, data));
        r.achievedDb = db;
        r.report = std::move(rep);
        best = std::move(m);
        if (db >= targetDb) {
            r.met = true;
            break;
        }
        if (step >= ranking.size()) break;
        keep.insert(ranking[step].node);
        r.keptFloat.push_back(ranking[step].node);
        reporter.progress("mixed precision", double(step + 1) / double(ranking.size() + 1));
    }
    // Move the chosen graph into the caller's model object.
    model = std::move(*best);
    return r;
}

Result<MixedPrecisionAccuracy> mixedPrecisionAccuracy(ir::Model& model, const Calibration& calibration,
                                                      const QuantizeOptions& options,
                                                      const std::vector<LayerSensitivity>& ranking, double maxDropPoints,
                                                      data::Dataset& evalData, Reporter& reporter,
                                                      const ir::Model* reference, std::size_t maxFloatLayers) {
    if (!(maxDropPoints >= 0 && maxDropPoints <= 100))
        return fail(StatusCode::Usage, "the accuracy drop target must be 0..100 percentage points");
    if (!evalData.hasLabels())
        return fail(StatusCode::Usage, "an accuracy target needs labelled evaluation data: " + evalData.describe());
    const std::unique_ptr<ir::Model> fp32 = model.clone();
    const ir::Model& ref = reference ? *reference : *fp32;
    auto top1 = [&](const ir::Model& m, const char* what) -> Result<data::EvaluationReport> {
        EW_TRY_ASSIGN(auto session, rt::Session::create(m));
        auto e = data::evaluate(*session, nullptr, evalData);
        if (!e) return fail(e.error().code, std::string(what) + " evaluation: " + e.error().message);
        if (!e->accuracyTop1 || e->samples == 0)
            return fail(StatusCode::InvalidInput, "no labelled sample in the evaluation data: " + evalData.describe());
        return e;
    };
    MixedPrecisionAccuracy r;
    r.maxDropPoints = maxDropPoints;
    EW_TRY_ASSIGN(const data::EvaluationReport base, top1(ref, "FP32"));
    r.samples = base.samples;
    r.data = base.data;
    r.fp32Correct = base.correctTop1;
    r.fp32Accuracy = *base.accuracyTop1;
    // Exact in hit counts: "acc:0.5" on 360 samples allows floor(1.8) = 1 more miss than FP32. The
    // epsilon keeps a target written as an exact multiple (acc:0.25 of 400 -> 1) from rounding down.
    const double allowedMisses = std::floor(maxDropPoints * double(r.samples) / 100.0 + 1e-9);
    const std::size_t cap = maxFloatLayers == 0 ? ranking.size() : std::min(maxFloatLayers, ranking.size());
    std::set<std::string> keep;
    std::unique_ptr<ir::Model> best;
    std::vector<std::string> floatOrder;
    for (std::size_t step = 0;; ++step) {
        if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "mixed precision cancelled");
        std::unique_ptr<ir::Model> m = fp32->clone();
        EW_TRY_ASSIGN(QuantizeReport rep, quantizeKeepingFloat(*m, calibration, options, keep));
        EW_TRY_ASSIGN(const data::EvaluationReport e, top1(*m, "quantized"));
        if (e.samples != r.samples)
            return fail(StatusCode::Internal, "the evaluation data changed length between runs: " + r.data);
        AccuracyStep st;
        st.addedFloat = step == 0 ? std::string() : floatOrder.back();
        st.floatLayers = step;
        st.correct = e.correctTop1;
        st.accuracy = *e.accuracyTop1;
        st.dropPoints = double(r.fp32Correct - st.correct) * 100.0 / double(r.samples); // from counts: no round-off
        st.met = double(r.fp32Correct - st.correct) <= allowedMisses;
        r.steps.push_back(st);
        // Keep the best model seen: more hits wins, then fewer float layers (the earlier step). A
        // step that meets the target has more hits than every earlier one (they missed it), so it
        // is the one kept when the walk stops there.
        if (!best || st.correct > r.steps[r.chosen].correct) {
            r.chosen = step;
            r.report = std::move(rep);
            r.keptFloat = floatOrder;
            best = std::move(m);
        }
        if (st.met) {
            r.met = true;
            break;
        }
        if (step >= cap) {
            r.capped = cap < ranking.size();
            break;
        }
        keep.insert(ranking[step].node);
        floatOrder.push_back(ranking[step].node);
        reporter.progress("mixed precision (accuracy)", double(step + 1) / double(cap + 1));
    }
    model = std::move(*best);
    return r;
}

namespace {

/// Strips a trailing "dB" (any case) and surrounding blanks.
std::string_view stripDb(std::string_view t) {
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.size() >= 2 && (t[t.size() - 2] == 'd' || t[t.size() - 2] == 'D') && (t.back() == 'b' || t.back() == 'B')) {
        t.remove_suffix(2);
        while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    }
    return t;
}

bool parseNumber(std::string_view text, double& v) {
    if (text.empty()) return false;
    if (text.front() == '+') text.remove_prefix(1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end == text.data() + text.size() && std::isfinite(v);
}

} // namespace

bool parseMixedTarget(std::string_view text, MixedTarget& out, std::string* why) {
    auto say = [&](std::string s) {
        if (why) *why = std::move(s);
        return false;
    };
    const std::string shown(text);
    if (text.starts_with("acc:") || text.starts_with("accuracy:")) {
        text.remove_prefix(text.starts_with("acc:") ? 4 : 9);
        if (text.ends_with("pp")) text.remove_suffix(2);
        else if (text.ends_with("%")) text.remove_suffix(1);
        double v = 0;
        if (!parseNumber(text, v))
            return say("an accuracy target is acc:P, the largest top-1 drop against FP32 in percentage points "
                       "(acc:0.5), not '" + shown + "'");
        if (v < 0 || v > 100)
            return say("the accuracy drop in '" + shown + "' must be between 0 and 100 percentage points");
        out = {MixedTarget::Kind::AccuracyDrop, v};
        return true;
    }
    double db = 0;
    if (!parseSqnrTarget(text, db))
        return say("--mixed-precision takes an output SQNR target in dB (45, 45dB or sqnr:45) or a top-1 accuracy drop "
                   "in percentage points (acc:0.5), not '" + shown + "'");
    out = {MixedTarget::Kind::Sqnr, db};
    return true;
}

bool parseSqnrTarget(std::string_view text, double& db) {
    if (text.starts_with("sqnr:")) text.remove_prefix(5);
    text = stripDb(text);
    if (text.empty()) return false;
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return false;
    db = v;
    return true;
}

std::string overlayJson(const std::string& name, const std::string& unit, const std::map<std::string, double>& values,
                        double cap) {
    JsonWriter j;
    j.beginObject().key("name").value(name).key("unit").value(unit).key("values").beginObject();
    for (const auto& [node, v] : values) j.key(node).value(std::isnan(v) ? -cap : std::clamp(v, -cap, cap));
    j.endObject().endObject();
    return j.str() + "\n";
}

} // namespace ew::opt::quant
