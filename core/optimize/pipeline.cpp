#include "pipeline.h"

#include "common/json_writer.h"
#include "ir/cost.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace ew::opt {

namespace {

// The pipelines, in run order. Every round runs the whole list; rounds repeat while anything
// changes (folding exposes dead nodes, removing Identity exposes fusions, ...).
// Sections: clean-up | constants and shapes | folding into Conv/Gemm | pattern fusion |
// layout (transpose/reshape) | final clean-up.
constexpr std::string_view kDefault[] = {
    // clean-up
    "eliminate-identity",
    "eliminate-nop",
    "eliminate-common-subexpressions",
    // constants and shapes
    "simplify-shape-subgraphs",
    "fold-constants",
    "eliminate-constant-if",
    // folding into Conv/Gemm
    "fuse-conv-bn",
    "fuse-gemm-bn",
    "fuse-matmul-add",
    "fuse-pad-conv",
    "fuse-conv-affine",
    // pattern fusion
    "fuse-layer-norm",
    "fuse-gelu",
    "fuse-hard-swish",
    // layout
    "cancel-transposes",
    // final clean-up
    "eliminate-dead-nodes",
    "eliminate-unused-initializers",
};

constexpr std::string_view kAggressive[] = {
    // clean-up
    "eliminate-identity",
    "eliminate-nop",
    "eliminate-common-subexpressions",
    // constants and shapes
    "simplify-shape-subgraphs",
    "fold-constants",
    "eliminate-constant-if",
    // folding into Conv/Gemm
    "fuse-conv-bn",
    "fuse-gemm-bn",
    "fuse-matmul-add",
    "fuse-pad-conv",
    "fuse-conv-affine",
    // pattern fusion
    "fuse-layer-norm",
    "fuse-gelu",
    "fuse-hard-swish",
    // layout
    "sink-transposes",
    "cancel-transposes",
    // final clean-up
    "eliminate-dead-nodes",
    "eliminate-unused-initializers",
};

// Appended for --target edgewise, after the portable list reached its fixed point.
constexpr std::string_view kRuntime[] = {
    // runtime fusions (SiLU first: it hands Conv + SiLU chains to FusedConv and leaves Gemm + SiLU
    // as one Silu node that fuse-gemm-activation then takes)
    "fuse-silu",
    "fuse-conv-activation",
    "fuse-gemm-activation",
    "fuse-pointwise-depthwise",
    "eliminate-dead-nodes",
};

double msSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string knownPassNames() {
    std::string s;
    for (const PassInfo& p : allPasses()) s += (s.empty() ? "" : ", ") + std::string(p.name);
    return s;
}

VoidResult runOnGraph(ir::Graph& g, const PassInfo& pass, PassContext& ctx) {
    EW_TRY(pass.run(g, ctx));
    // Nested bodies after the parent (the pass may have removed their owners).
    for (const auto& n : g.nodes())
        for (ir::Graph* sg : n->subgraphs()) EW_TRY(runOnGraph(*sg, pass, ctx));
    return {};
}

} // namespace

ModelTotals totalsOf(const ir::Model& model) {
    ModelTotals t;
    t.nodes = model.graph ? static_cast<int64_t>(model.graph->nodeCountRecursive()) : 0;
    const ir::ModelCost c = ir::modelCost(model);
    t.parameters = c.parameterCount;
    t.parameterBytes = c.parameterBytes;
    t.macs = c.macs;
    t.exact = c.exact;
    return t;
}

std::vector<std::string_view> pipelineNames() { return {"default", "aggressive"}; }

Result<std::vector<std::string_view>> pipelinePasses(std::string_view pipeline, Target target) {
    std::vector<std::string_view> out;
    if (pipeline == "default")
        out.assign(std::begin(kDefault), std::end(kDefault));
    else if (pipeline == "aggressive")
        out.assign(std::begin(kAggressive), std::end(kAggressive));
    else
        return fail(StatusCode::Usage, "unknown pipeline '" + std::string(pipeline) +
                                           "' (known: default, aggressive)");
    if (target == Target::Edgewise) out.insert(out.end(), std::begin(kRuntime), std::end(kRuntime));
    return out;
}

Result<std::vector<const PassInfo*>> resolvePasses(const OptimizeOptions& options) {
    std::vector<std::string_view> names;
    if (!options.passes.empty()) {
        names.assign(options.passes.begin(), options.passes.end());
    } else {
        EW_TRY_ASSIGN(names, pipelinePasses(options.pipeline, options.target));
    }
    for (const std::string& d : options.disabled)
        if (!findPass(d))
            return fail(StatusCode::Usage,
                        "unknown pass '" + d + "' in the disabled list (known: " + knownPassNames() + ")");
    std::vector<const PassInfo*> out;
    for (std::string_view n : names) {
        const PassInfo* p = findPass(n);
        if (!p)
            return fail(StatusCode::Usage,
                        "unknown pass '" + std::string(n) + "' (known: " + knownPassNames() + ")");
        if (std::find(options.disabled.begin(), options.disabled.end(), n) != options.disabled.end())
            continue;
        if (p->kind == PassKind::Runtime && options.passes.empty() && options.target == Target::Onnx)
            continue;
        out.push_back(p);
    }
    return out;
}

VoidResult runPass(ir::Model& model, const PassInfo& pass, PassContext& ctx, bool verify) {
    EW_TRY(runOnGraph(*model.graph, pass, ctx));
    if (!ctx.changed()) return {};
    if (pass.kind == PassKind::Runtime) {
        bool has = false;
        for (const ir::OpsetImport& o : model.opsetImports) has |= o.domain == "ai.edgewise";
        if (!has) model.opsetImports.push_back({"ai.edgewise", 1});
    }
    ir::inferShapes(model);
    if (verify) {
        if (auto v = ir::verify(model); !v) {
            Status s = v.error();
            s.code = StatusCode::Internal;
            s.message = "pass '" + std::string(pass.name) + "' left an invalid graph: " + s.message;
            return fail(std::move(s));
        }
    }
    return {};
}

Result<OptimizeReport> optimize(ir::Model& model, const OptimizeOptions& options, Reporter& reporter) {
    const auto t0 = std::chrono::steady_clock::now();
    EW_TRY_ASSIGN(std::vector<const PassInfo*> passes, resolvePasses(options));

    OptimizeReport report;
    report.pipeline = options.passes.empty() ? options.pipeline : "custom";
    report.target = options.target;
    for (const PassInfo* p : passes) {
        report.passOrder.emplace_back(p->name);
        PassStats s;
        s.name = std::string(p->name);
        s.kind = p->kind;
        report.passes.push_back(std::move(s));
    }
    ir::inferShapes(model);
    report.before = totalsOf(model);
    ModelTotals current = report.before;

    PassContext ctx(model);
    ctx.foldByteLimit = options.foldByteLimit;
    ctx.aggressive = options.passes.empty() && options.pipeline == "aggressive";
    const int rounds = std::max(1, options.maxRounds);
    for (int round = 0; round < rounds; ++round) {
        bool any = false;
        for (std::size_t k = 0; k < passes.size(); ++k) {
            if (reporter.isCancelled()) return fail(StatusCode::Cancelled, "optimization cancelled");
            reporter.progress("round " + std::to_string(round + 1) + ": " + std::string(passes[k]->name),
                              double(k) / double(passes.size()));
            const auto tp = std::chrono::steady_clock::now();
            ctx.clearChanges();
            EW_TRY(runPass(model, *passes[k], ctx, options.verifyEachPass));
            PassStats& s = report.passes[k];
            ++s.runs;
            if (ctx.changed()) {
                any = true;
                ++s.changedRuns;
                for (const NodeChange& c : ctx.changes()) {
                    switch (c.kind) {
                    case NodeChange::Kind::Removed: ++s.removed; break;
                    case NodeChange::Kind::Fused: ++s.fused; break;
                    case NodeChange::Kind::Added: ++s.added; break;
                    case NodeChange::Kind::Rewritten: ++s.rewritten; break;
                    }
                    s.changes.push_back(c);
                }
                const ModelTotals now = totalsOf(model);
                s.nodesDelta += now.nodes - current.nodes;
                s.parametersDelta += now.parameters - current.parameters;
                s.macsDelta += now.macs - current.macs;
                current = now;
                reporter.log(Severity::Debug, std::string(passes[k]->name) + ": " +
                                                 std::to_string(ctx.changes().size()) + " change(s)");
            }
            s.ms += msSince(tp);
        }
        report.rounds = round + 1;
        if (!any) break;
    }
    reporter.progress("done", 1.0);
    report.after = current;
    report.ms = msSince(t0);
    return report;
}

std::string OptimizeReport::toJson(int indent) const {
    JsonWriter w(indent);
    auto totals = [&](const ModelTotals& t) {
        w.beginObject();
        w.key("nodes").value(t.nodes);
        w.key("parameters").value(t.parameters);
        w.key("parameter_bytes").value(t.parameterBytes);
        w.key("macs").value(t.macs);
        w.key("exact").value(t.exact);
        if (t.fileBytes >= 0) w.key("file_bytes").value(t.fileBytes);
        w.endObject();
    };
    w.beginObject();
    w.key("pipeline").value(pipeline);
    w.key("target").value(target == Target::Edgewise ? "edgewise" : "onnx");
    w.key("rounds").value(rounds);
    w.key("ms").value(ms);
    w.key("before");
    totals(before);
    w.key("after");
    totals(after);
    w.key("passes").beginArray();
    for (const PassStats& s : passes) {
        w.beginObject();
        w.key("name").value(s.name);
        w.key("kind").value(s.kind == PassKind::Runtime ? "runtime" : "portable");
        w.key("runs").value(s.runs);
        w.key("changed").value(s.changedRuns > 0);
        w.key("removed").value(s.removed);
        w.key("fused").value(s.fused);
        w.key("added").value(s.added);
        w.key("rewritten").value(s.rewritten);
        w.key("nodes_delta").value(s.nodesDelta);
        w.key("parameters_delta").value(s.parametersDelta);
        w.key("macs_delta").value(s.macsDelta);
        w.key("ms").value(s.ms);
        w.key("changes").beginArray();
        for (const NodeChange& c : s.changes) {
            w.beginObject();
            w.key("kind").value(nodeChangeKindName(c.kind));
            w.key("node").value(c.node);
            w.key("op").value(c.op);
            if (!c.into.empty()) w.key("into").value(c.into);
            w.endObject();
        }
        w.endArray();
        w.endObject();
    }
    w.endArray();
    w.endObject();
    return w.str();
}

} // namespace ew::opt
