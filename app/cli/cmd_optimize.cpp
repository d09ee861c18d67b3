#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/io/model_io.h"
#include "optimize/pipeline.h"
#include "runtime/session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace ew::cli {

namespace {

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        std::string item = s.substr(start, end - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
        start = end + 1;
    }
    return out;
}

int listPasses() {
    std::vector<std::string_view> def = *opt::pipelinePasses("default");
    std::vector<std::string_view> agg = *opt::pipelinePasses("aggressive");
    std::size_t width = 0;
    for (const opt::PassInfo& p : opt::allPasses()) width = std::max(width, p.name.size());
    std::printf("%-*s  %-8s  %-10s  %s\n", int(width), "pass", "kind", "pipelines", "description");
    for (const opt::PassInfo& p : opt::allPasses()) {
        std::string pipes;
        auto in = [&](const std::vector<std::string_view>& l) {
            return std::find(l.begin(), l.end(), p.name) != l.end();
        };
        if (p.kind == opt::PassKind::Runtime) pipes = "edgewise";
        else if (in(def)) pipes = in(agg) ? "both" : "default";
        else if (in(agg)) pipes = "aggressive";
        std::printf("%-*s  %-8s  %-10s  %.*s\n", int(width), std::string(p.name).c_str(),
                    p.kind == opt::PassKind::Runtime ? "runtime" : "portable", pipes.c_str(),
                    int(p.description.size()), p.description.data());
    }
    return kExitOk;
}

/// Runs both models on the same seeded random inputs; the worst relative difference over the
/// outputs (max |a-b| over the tensor divided by max |a|), or an error.
Result<double> compareOutputs(const ir::Model& a, const ir::Model& b, uint32_t seed) {
    rt::SessionOptions o;
    EW_TRY_ASSIGN(auto sa, rt::Session::create(a, o));
    EW_TRY_ASSIGN(auto sb, rt::Session::create(b, o));
    EW_TRY_ASSIGN(PreparedInputs in, prepareInputs(*sa, {}, seed));
    EW_TRY_ASSIGN(std::vector<rt::Tensor> ra, sa->run(in.tensors));
    EW_TRY_ASSIGN(std::vector<rt::Tensor> rb, sb->run(in.tensors));
    if (ra.size() != rb.size())
        return fail(StatusCode::Internal, "the optimized model has a different number of outputs");
    double worst = 0;
    for (std::size_t k = 0; k < ra.size(); ++k) {
        const rt::Tensor& x = ra[k];
        const rt::Tensor& y = rb[k];
        const std::string name = sa->outputInfo()[k].name;
        if (x.dtype() != y.dtype() || x.dims() != y.dims())
            return fail(StatusCode::Internal, "output '" + name + "' changed its type or shape");
        double maxAbs = 0, maxDiff = 0;
        for (int64_t i = 0; i < x.numElements(); ++i) {
            const double u = x.doubleAt(i), v = y.doubleAt(i);
            if (std::isnan(u) != std::isnan(v)) return INFINITY;
            if (std::isnan(u)) continue;
            maxAbs = std::max(maxAbs, std::abs(u));
            maxDiff = std::max(maxDiff, std::abs(u - v));
        }
        worst = std::max(worst, maxDiff / (maxAbs > 0 ? maxAbs : 1.0));
    }
    return worst;
}

std::string withSign(int64_t v) { return (v > 0 ? "+" : "") + std::to_string(v); }

std::string human(int64_t v) {
    char buf[32];
    const double a = std::abs(double(v));
    if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.3f G", double(v) / 1e9);
    else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.3f M", double(v) / 1e6);
    else if (a >= 1e4) std::snprintf(buf, sizeof buf, "%.1f k", double(v) / 1e3);
    else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    return buf;
}

void printReport(const opt::OptimizeReport& r) {
    std::printf("%-34s %5s %8s %6s %6s %6s %8s %12s %9s\n", "pass", "runs", "removed", "fused",
                "added", "nodes", "params", "MACs", "ms");
    for (const opt::PassStats& s : r.passes) {
        std::printf("%-34s %5d %8d %6d %6d %6s %8s %12s %9.2f\n", s.name.c_str(), s.runs, s.removed,
                    s.fused, s.added, withSign(s.nodesDelta).c_str(),
                    withSign(s.parametersDelta).c_str(), withSign(s.macsDelta).c_str(), s.ms);
    }
    std::printf("\n%-12s %14s %14s\n", "", "before", "after");
    std::printf("%-12s %14lld %14lld\n", "nodes", static_cast<long long>(r.before.nodes),
                static_cast<long long>(r.after.nodes));
    std::printf("%-12s %14s %14s\n", "parameters", human(r.before.parameters).c_str(),
                human(r.after.parameters).c_str());
    std::printf("%-12s %14s %14s%s\n", "MACs", human(r.before.macs).c_str(), human(r.after.macs).c_str(),
                r.after.exact ? "" : "  (lower bound: some shapes unknown)");
    if (r.before.fileBytes >= 0 && r.after.fileBytes >= 0)
        std::printf("%-12s %14s %14s\n", "file bytes", human(r.before.fileBytes).c_str(),
                    human(r.after.fileBytes).c_str());
    std::printf("%d round(s), %.1f ms\n", r.rounds, r.ms);
}

VoidResult writeTextAtomically(const std::string& path, const std::string& text) {
    return writeBytesAtomically(
        path, std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

int runOptimize(const ParsedArgs& args, const GlobalOptions& global) {
    if (args.flag("list-passes")) return listPasses();
    if (args.positionals.empty()) return usageError("optimize", "missing the input model IN");
    const std::string& in = args.positionals[0];
    if (!args.options.contains("output"))
        return usageError("optimize", "missing -o OUT (the optimized model to write)");
    const std::string out = args.value("output");
    if (out.empty()) return usageError("optimize", "the output path is empty");
    if (sameFile(in, out))
        return usageError("optimize", "refusing to overwrite the input model '" + in +
                                          "'; choose another output path");

    opt::OptimizeOptions options;
    options.pipeline = args.value("pipeline", "default");
    if (args.options.contains("passes")) {
        options.passes = splitList(args.value("passes"));
        if (options.passes.empty()) return usageError("optimize", "--passes needs a list of pass names");
        if (args.options.contains("pipeline"))
            return usageError("optimize", "--passes and --pipeline exclude each other");
    }
    options.disabled = splitList(args.value("disable"));
    const std::string target = args.value("target", "onnx");
    if (target == "edgewise") options.target = opt::Target::Edgewise;
    else if (target != "onnx")
        return usageError("optimize", "--target is onnx or edgewise, not '" + target + "'");
    double tolerance = 1e-5;
    if (args.options.contains("tolerance")) {
        try {
            tolerance = std::stod(args.value("tolerance"));
        } catch (...) {
            tolerance = -1;
        }
        if (!(tolerance >= 0)) return usageError("optimize", "--tolerance needs a number >= 0");
    }
    if (auto names = opt::resolvePasses(options); !names) return reportError(names.error(), false);

    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(in, reporter);
    if (!model) {
        reporter.finish();
        return reportError(model.error(), true);
    }
    std::unique_ptr<ir::Model> original = args.flag("verify") ? (*model)->clone() : nullptr;
    auto report = opt::optimize(**model, options, reporter);
    reporter.finish();
    if (!report) return reportError(report.error(), false);

    if (original) {
        auto diff = compareOutputs(*original, **model, 1);
        if (!diff) {
            std::fprintf(stderr, "edgewise-cli: --verify could not run the models: %s\n",
                         diff.error().toString().c_str());
            return kExitFailure;
        }
        if (!(*diff <= tolerance)) {
            std::fprintf(stderr,
                         "edgewise-cli: --verify: outputs differ (worst relative difference %.3g > "
                         "%.3g); '%s' was not written\n",
                         *diff, tolerance, out.c_str());
            return kExitFailure;
        }
        if (!global.quiet)
            std::printf("verify: outputs agree on seeded random inputs (worst relative difference "
                        "%.3g, tolerance %.3g)\n",
                        *diff, tolerance);
    }

    TerminalReporter saveReporter(global.quiet, global.verbose);
    auto saved = ir::saveModel(**model, out, ir::SaveOptions{}, saveReporter);
    saveReporter.finish();
    if (!saved) return reportError(saved.error(), false);
    std::error_code ec;
    const auto inBytes = std::filesystem::file_size(in, ec);
    report->before.fileBytes = ec ? -1 : int64_t(inBytes);
    const auto outBytes = std::filesystem::file_size(out, ec);
    report->after.fileBytes = ec ? -1 : int64_t(outBytes);

    if (args.options.contains("report")) {
        const std::string path = args.value("report");
        if (sameFile(in, path) || sameFile(out, path))
            return usageError("optimize", "the report must not overwrite a model file");
        if (auto w = writeTextAtomically(path, report->toJson() + "\n"); !w)
            return reportError(w.error(), false);
    }
    if (!global.quiet) {
        printReport(*report);
        std::printf("wrote %s\n", out.c_str());
    }
    return kExitOk;
}

} // namespace

const Command& optimizeCommand() {
    static const Command kCommand{
        .name = "optimize",
        .summary = "Simplify and fuse a model's graph (pass pipelines), write the result.",
        .usage = "optimize IN -o OUT [--pipeline default|aggressive] [--passes a,b] [--disable x,y]\n"
                 "       [--target onnx|edgewise] [--report FILE.json] [--verify] | optimize --list-passes",
        .description =
            "Loads IN, runs a pass pipeline over its graph (every nested If/Loop/Scan body too)\n"
            "until no pass changes anything, and writes OUT atomically (IN is never overwritten).\n"
            "\n"
            "Pipelines: `default` (safe clean-up, constant folding, BatchNormalization and scale\n"
            "folding into Conv/Gemm, pattern fusion into standard ops) and `aggressive` (adds\n"
            "transpose sinking and similar rewrites). Their output is standard ONNX that ONNX\n"
            "Runtime and onnx::checker accept. --target edgewise also applies the runtime\n"
            "fusions (ai.edgewise fused ops) that only Edgewise's runtime and agent run.\n"
            "--passes runs exactly the listed passes (in that order); --disable drops passes.\n"
            "--list-passes prints every pass with its kind, pipelines and description.\n"
            "\n"
            "Prints per pass what changed (nodes removed/fused/added, parameter and MAC deltas)\n"
            "and totals before/after: nodes, parameters, MACs, file size. --report writes the\n"
            "same as JSON (keys pipeline, target, rounds, ms, before, after, passes[] with name,\n"
            "kind, runs, changed, removed, fused, added, rewritten, nodes_delta,\n"
            "parameters_delta, macs_delta, ms, changes[]).\n"
            "--verify runs both models on the same seeded random inputs and fails (exit 1,\n"
            "nothing written) when any output differs by more than --tolerance (default 1e-5,\n"
            "relative to the output's largest magnitude).\n",
        .options = {{"output", 'o', "OUT", "The optimized model to write (required)."},
                    {"pipeline", 0, "NAME", "default (the default) or aggressive."},
                    {"passes", 0, "LIST", "Comma-separated passes to run instead of a pipeline."},
                    {"disable", 0, "LIST", "Comma-separated passes to leave out."},
                    {"target", 0, "T", "onnx (portable, the default) or edgewise (runtime fusions)."},
                    {"report", 0, "FILE", "Write the report as JSON."},
                    {"verify", 0, {}, "Check that outputs are unchanged before writing."},
                    {"tolerance", 0, "T", "Relative tolerance of --verify (default 1e-5)."},
                    {"list-passes", 0, {}, "List the passes and exit."}},
        .minPositionals = 0,
        .maxPositionals = 1,
        .run = runOptimize,
    };
    return kCommand;
}

} // namespace ew::cli
