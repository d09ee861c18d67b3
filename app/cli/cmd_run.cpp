#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "ir/npy.h"
#include "ir/onnx/onnx_export.h"
#include "runtime/session.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

namespace ew::cli {

namespace {

std::string fmtValue(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

int runRun(const ParsedArgs& args, const GlobalOptions& global) {
    const std::string format = args.value("output-format", "npy");
    if (format != "npy" && format != "pb")
        return usageError("run", "--output-format must be npy or pb");
    const std::string outDir = args.value("output-dir");
    if (args.flag("output-format") && outDir.empty())
        return usageError("run", "--output-format needs --output-dir");
    int threads = 0;
    if (args.flag("threads")) {
        auto n = parseCount(args.value("threads"));
        if (!n || *n < 1 || *n > 1024)
            return usageError("run", "--threads needs a number from 1 to 1024");
        threads = static_cast<int>(*n);
    }
    uint32_t seed = 1;
    if (args.flag("seed")) {
        auto n = parseCount(args.value("seed"));
        if (!n || *n > 0xffffffffLL)
            return usageError("run", "--seed needs a number from 0 to 4294967295");
        seed = static_cast<uint32_t>(*n);
    }

    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(args.positionals[0], reporter);
    reporter.finish();
    if (!model) return reportError(model.error(), true);

    rt::SessionOptions opts;
    opts.threads = threads;
    auto session = rt::Session::create(**model, opts);
    if (!session) return reportError(session.error(), true);
    auto inputs = prepareInputs(**session, args.values("input"), seed);
    if (!inputs) return reportError(inputs.error(), true);
    if (!global.quiet)
        for (const std::string& note : inputs->randomNotes)
            std::fprintf(stderr, "edgewise-cli: %s\n", note.c_str());

    auto outputs = (*session)->run(inputs->tensors);
    if (!outputs) return reportError(outputs.error(), false);

    const auto& infos = (*session)->outputInfo();
    if (!outDir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(outDir, ec);
        if (ec)
            return reportError(Status{StatusCode::IoError,
                                      "cannot create the output folder: " + ec.message(),
                                      outDir,
                                      {}},
                               false);
        // Two names that differ only in '/' vs '_' would overwrite each other.
        std::set<std::string> stems;
        for (const auto& info : infos)
            if (!stems.insert(outputFileStem(info.name)).second)
                return reportError(makeError(StatusCode::Unsupported,
                                             "two outputs map to the same file name '" +
                                                 outputFileStem(info.name) + "." + format + "'"),
                                   false);
    }

    for (std::size_t i = 0; i < outputs->size(); ++i) {
        const rt::Tensor& t = (*outputs)[i];
        const std::string& name = infos[i].name;
        std::string line = name + ": " + rt::describe(t.dtype(), t.dims());
        TensorStats st = tensorStats(t);
        if (st.numeric && st.count)
            line += "  min " + fmtValue(st.min) + "  max " + fmtValue(st.max) + "  mean " +
                    fmtValue(st.mean);
        if (st.nanCount) line += "  nan " + std::to_string(st.nanCount);
        if (!outDir.empty()) {
            std::string path =
                (std::filesystem::path(outDir) / (outputFileStem(name) + "." + format)).string();
            ir::Tensor it = t.toIr(name);
            VoidResult w;
            if (format == "npy") {
                w = ir::writeNpy(path, it);
            } else {
                auto bytes = onnxfmt::serializeTensorProto(it);
                if (!bytes)
                    w = std::unexpected(bytes.error());
                else
                    w = writeBytesAtomically(
                        path, std::as_bytes(std::span<const char>(bytes->data(), bytes->size())));
            }
            if (!w) {
                Status s = w.error();
                s.message = "output '" + name + "': " + s.message;
                return reportError(std::move(s).withFile(path), false);
            }
            line += "  -> " + path;
        }
        std::printf("%s\n", line.c_str());
    }
    return kExitOk;
}

} // namespace

const Command& runCommand() {
    static const Command kCommand{
        .name = "run",
        .summary = "Run a model once on the CPU runtime and write or summarize its outputs.",
        .usage = "run MODEL [--input NAME=FILE]... [--output-dir DIR] [--output-format npy|pb] "
                 "[--threads N]",
        .description =
            "Runs the model once with Edgewise's CPU runtime. Inputs come from .npy files or\n"
            "serialized ONNX TensorProto (.pb) files, one --input NAME=FILE per graph input (a\n"
            "bare FILE binds by the .pb tensor's name, else to the next input not yet given).\n"
            "Inputs not given are filled with seeded random data of the declared shape, symbolic\n"
            "dims set to 1 (stderr names each such input and its shape); the generator is the\n"
            "one bench/ort/run_ort.mjs and tests/peer/ort_run.mjs use, so ONNX Runtime can be fed\n"
            "the same data with the same --seed.\n"
            "\n"
            "Each output is summarized on stdout (name, dtype, shape, min/max/mean) and, with\n"
            "--output-dir, written atomically as DIR/<output name>.npy (or .pb), where '/' and\n"
            "'\\' in the name become '_'.\n"
            "\n"
            "Errors: an unknown input name is a usage error (exit 2); an unreadable input file or\n"
            "one whose element type or shape the model does not accept exits with 3. Both list\n"
            "the inputs the model expects.\n",
        .options = {{"input", 'i', "NAME=FILE",
                     "Input tensor from a .npy or TensorProto .pb file (repeatable)."},
                    {"output-dir", 'o', "DIR", "Write every output to DIR (created if missing)."},
                    {"output-format", 0, "npy|pb", "File format of written outputs (default npy)."},
                    {"threads", 't', "N",
                     "Threads including the caller (default: physical cores)."},
                    {"seed", 0, "S", "Seed of the random inputs (default 1, as ort_run.mjs)."}},
        .minPositionals = 1,
        .maxPositionals = 1,
        .run = runRun,
    };
    return kCommand;
}

} // namespace ew::cli
