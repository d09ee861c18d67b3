#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/json_writer.h"
#include "optimize/dataset/dataset.h"
#include "optimize/dataset/evaluate.h"
#include "runtime/session.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace ew::cli {

namespace {

std::string fmtSqnr(const opt::data::OutputError& e) {
    if (e.identical) return "inf (identical)";
    if (std::isnan(e.sqnrDb)) return "nan";
    if (std::isinf(e.sqnrDb)) return e.sqnrDb > 0 ? "inf" : "-inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", e.sqnrDb);
    return buf;
}

void printText(const std::string& modelPath, const std::string& refPath, const opt::data::EvaluationReport& r) {
    std::printf("model:           %s\n", modelPath.c_str());
    std::printf("data:            %s\n", r.data.c_str());
    if (r.random) std::printf("                 (random data: accuracy and errors say nothing about real inputs)\n");
    std::printf("samples:         %lld\n", static_cast<long long>(r.samples));
    if (r.accuracyTop1) {
        std::printf("top-1 accuracy:  %.4f (%lld/%lld)\n", *r.accuracyTop1, static_cast<long long>(r.correctTop1),
                    static_cast<long long>(r.samples));
        std::printf("top-5 accuracy:  %.4f (%lld/%lld)\n", *r.accuracyTop5, static_cast<long long>(r.correctTop5),
                    static_cast<long long>(r.samples));
    } else {
        std::printf("accuracy:        - (no labels: give class subfolders or --labels FILE)\n");
    }
    if (r.hasReference) {
        std::printf("reference:       %s\n", refPath.c_str());
        if (r.agreementTop1)
            std::printf("top-1 agreement: %.4f (%lld/%lld rows)\n", *r.agreementTop1,
                        static_cast<long long>(r.agreeTop1), static_cast<long long>(r.rows));
        std::size_t width = 6;
        for (const auto& o : r.outputs) width = std::max(width, o.name.size());
        std::printf("\n%-*s  %16s  %10s  %14s\n", int(width), "output", "SQNR dB", "cosine", "max abs error");
        for (const auto& o : r.outputs)
            std::printf("%-*s  %16s  %10.6f  %14.6g\n", int(width), o.name.c_str(), fmtSqnr(o).c_str(), o.cosine,
                        o.maxAbsError);
    }
    std::printf("time:            %.1f ms\n", r.ms);
}

std::string toJson(const std::string& modelPath, const std::string& refPath, const opt::data::EvaluationReport& r) {
    JsonWriter w;
    auto optional = [&](const std::optional<double>& v) {
        if (v) w.value(*v);
        else w.null();
    };
    w.beginObject();
    w.key("model").value(modelPath);
    w.key("data").value(r.data);
    w.key("samples").value(r.samples);
    w.key("random").value(r.random);
    w.key("labels").value(r.hasLabels);
    w.key("accuracy_top1");
    optional(r.accuracyTop1);
    w.key("accuracy_top5");
    optional(r.accuracyTop5);
    w.key("correct_top1").value(r.correctTop1);
    w.key("correct_top5").value(r.correctTop5);
    w.key("reference");
    if (r.hasReference) w.value(refPath);
    else w.null();
    w.key("agreement_top1");
    optional(r.agreementTop1);
    w.key("outputs").beginArray();
    for (const auto& o : r.outputs) {
        w.beginObject();
        w.key("name").value(o.name);
        // JSON has no infinity: identical outputs give "sqnr_db": null with "identical": true.
        w.key("sqnr_db");
        if (std::isfinite(o.sqnrDb)) w.value(o.sqnrDb);
        else w.null();
        w.key("identical").value(o.identical);
        w.key("cosine");
        if (std::isfinite(o.cosine)) w.value(o.cosine);
        else w.null();
        w.key("max_abs_error");
        if (std::isfinite(o.maxAbsError)) w.value(o.maxAbsError);
        else w.null();
        w.key("elements").value(o.elements);
        w.endObject();
    }
    w.endArray();
    w.key("ms").value(r.ms);
    w.endObject();
    return w.str();
}

int runEvaluate(const ParsedArgs& args, const GlobalOptions& global) {
    const std::string modelPath = args.positionals[0];
    if (!args.flag("data") || args.value("data").empty())
        return usageError("evaluate", "missing --data SOURCE (a folder or file of images or tensors, or random[:N])");
    opt::data::OpenOptions open;
    if (args.flag("limit")) {
        auto n = parseCount(args.value("limit"));
        if (!n) return usageError("evaluate", "--limit needs a number >= 0");
        open.limit = *n;
    }
    if (args.flag("seed")) {
        auto n = parseCount(args.value("seed"));
        if (!n || *n > 0xffffffffLL) return usageError("evaluate", "--seed needs a number from 0 to 4294967295");
        open.seed = static_cast<uint32_t>(*n);
    }
    int threads = 0;
    if (args.flag("threads")) {
        auto n = parseCount(args.value("threads"));
        if (!n || *n < 1 || *n > 1024) return usageError("evaluate", "--threads needs a number from 1 to 1024");
        threads = static_cast<int>(*n);
    }
    open.shuffle = args.flag("shuffle");
    open.labels = args.value("labels");
    if (args.flag("preprocess")) {
        const std::string pp = args.value("preprocess");
        std::error_code ec;
        if (auto preset = opt::data::Preprocess::preset(pp); preset && !std::filesystem::exists(pp, ec)) {
            open.preprocess = *preset;
        } else {
            auto loaded = opt::data::Preprocess::load(pp);
            if (!loaded) {
                // A missing file may have been meant as a preset name: say which exist.
                Status s = loaded.error();
                if (s.code == StatusCode::NotFound) {
                    std::string names;
                    for (const auto& n : opt::data::Preprocess::presetNames()) names += (names.empty() ? "" : ", ") + n;
                    s.message += " (nor a preset: " + names + ")";
                }
                return reportError(s, true);
            }
            open.preprocess = *loaded;
        }
    }
    const bool json = args.flag("json");
    const std::string refPath = args.value("reference");

    TerminalReporter reporter(global.quiet || json, global.verbose);
    auto model = loadModelForCli(modelPath, reporter);
    if (!model) {
        reporter.finish();
        return reportError(model.error(), true);
    }
    std::unique_ptr<ir::Model> refModel;
    if (!refPath.empty()) {
        auto r = loadModelForCli(refPath, reporter);
        if (!r) {
            reporter.finish();
            return reportError(r.error(), true);
        }
        refModel = std::move(*r);
    }
    rt::SessionOptions so;
    so.threads = threads;
    auto session = rt::Session::create(**model, so);
    if (!session) {
        reporter.finish();
        return reportError(session.error(), true);
    }
    std::unique_ptr<rt::Session> refSession;
    if (refModel) {
        auto r = rt::Session::create(*refModel, so);
        if (!r) {
            reporter.finish();
            return reportError(r.error(), true);
        }
        refSession = std::move(*r);
    }
    auto data = opt::data::openDataset(args.value("data"), (*session)->inputInfo(), open);
    if (!data) {
        reporter.finish();
        return reportError(data.error(), true);
    }
    auto report = opt::data::evaluate(**session, refSession.get(), **data, reporter);
    reporter.finish();
    if (!report) return reportError(report.error(), true);
    if (json) std::printf("%s\n", toJson(modelPath, refPath, *report).c_str());
    else if (!global.quiet) printText(modelPath, refPath, *report);
    return kExitOk;
}

} // namespace

const Command& evaluateCommand() {
    static const Command kCommand{
        .name = "evaluate",
        .summary = "Run a model over a dataset: accuracy with labels, agreement and error against a reference.",
        .usage = "evaluate MODEL --data SOURCE [--reference FP32_MODEL] [--labels FILE] [--preprocess FILE.json|PRESET]\n"
                 "       [--limit N] [--shuffle] [--seed S] [--threads N] [--json]",
        .description =
            "Runs MODEL on every sample of SOURCE, one at a time (memory does not grow with the\n"
            "number of samples):\n"
            "  DIR of images (.png .jpg .jpeg .bmp), at the top or one subfolder per class (the\n"
            "      subfolders, sorted by name, give the labels 0, 1, ...);\n"
            "  FILE or DIR of .npy / TensorProto .pb files: a file is one sample or a batch along\n"
            "      dim 0 split into samples; a folder of test_data_set_N folders (input_K.pb or\n"
            "      NAME.npy per model input) is one sample group per folder;\n"
            "  random or random:N: seeded random data (marked as such everywhere).\n"
            "Images are preprocessed by --preprocess (a JSON file, or a preset: imagenet,\n"
            "minus1to1, zero1, raw) or by a guess from the input's shape; the data line says which.\n"
            "\n"
            "Classification: the first output's argmax over its last dimension. With labels (class\n"
            "subfolders, or --labels FILE: a .npy/.pb integer tensor with one label per sample in\n"
            "order) prints top-1 and top-5 accuracy. With --reference runs both models on the same\n"
            "inputs and prints top-1 agreement and, per output, SQNR (dB), cosine similarity and max\n"
            "abs error of MODEL against the reference.\n"
            "\n"
            "--json prints keys model, data, samples, random, labels, accuracy_top1, accuracy_top5\n"
            "(null without labels), correct_top1, correct_top5, reference, agreement_top1 (null\n"
            "without --reference), outputs[] {name, sqnr_db, identical, cosine, max_abs_error,\n"
            "elements} (empty without --reference; sqnr_db is null when infinite, i.e. identical\n"
            "outputs, where identical is true), ms.\n"
            "Exit codes: 2 usage, 3 model or data problems (missing, malformed, not fitting the\n"
            "model's inputs), 1 anything else.\n",
        .options = {{"data", 'd', "SOURCE", "Images, tensor files or random[:N] (required)."},
                    {"reference", 'r', "MODEL", "Compare against this model (e.g. the FP32 original)."},
                    {"labels", 0, "FILE", "Integer labels (.npy/.pb), one per sample in order."},
                    {"preprocess", 0, "FILE|PRESET", "Image preprocessing recipe (JSON) or preset name."},
                    {"limit", 'n', "N", "Evaluate at most N samples (0: all)."},
                    {"shuffle", 0, {}, "Visit files in a seeded random order (with --limit: every class)."},
                    {"seed", 0, "S", "Seed of random data and shuffling (default 1)."},
                    {"threads", 't', "N", "Threads per session (default: physical cores)."},
                    {"json", 0, {}, "Print the result as JSON."}},
        .minPositionals = 1,
        .maxPositionals = 1,
        .run = runEvaluate,
    };
    return kCommand;
}

} // namespace ew::cli
