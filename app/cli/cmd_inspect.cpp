#include "cli.h"
#include "terminal_reporter.h"

#include "common/json_writer.h"
#include "ir/summary.h"

#include <cstdio>

namespace ew::cli {

namespace {

// The summary object with the model's path as its first key, so batch output can be matched
// back to files.
std::string jsonWithPath(const std::string& path, const std::string& summaryJson) {
    std::string out = summaryJson;
    std::size_t brace = out.find('{');
    out.insert(brace + 1, "\n  \"path\": " + JsonWriter::quote(path) + ",");
    return out;
}

int runInspect(const ParsedArgs& args, const GlobalOptions& global) {
    const bool json = args.flag("json");
    const bool batch = args.positionals.size() > 1;
    TerminalReporter reporter(global.quiet, global.verbose);
    JsonWriter array(2);
    if (json && batch) array.beginArray();
    int firstFailure = kExitOk;
    for (std::size_t i = 0; i < args.positionals.size(); ++i) {
        const std::string& path = args.positionals[i];
        if (batch) reporter.progress("inspect", static_cast<double>(i) / args.positionals.size());
        auto model = loadModelForCli(path, reporter);
        if (!model) {
            int code = reportError(model.error(), true);
            if (firstFailure == kExitOk) firstFailure = code;
            if (json && batch) {
                array.beginObject();
                array.key("path").value(path);
                array.key("error").value(model.error().toString());
                array.key("exit_code").value(code);
                array.endObject();
            }
            continue;
        }
        ir::ModelSummary s = ir::summarize(**model);
        if (json) {
            std::string obj = jsonWithPath(path, ir::summaryToJson(s));
            if (batch)
                array.raw(obj);
            else
                std::printf("%s\n", obj.c_str());
        } else {
            if (batch) std::printf("%s== %s ==\n", i ? "\n" : "", path.c_str());
            std::fputs(ir::summaryToText(s).c_str(), stdout);
        }
    }
    reporter.finish();
    if (json && batch) {
        array.endArray();
        std::printf("%s\n", array.str().c_str());
    }
    return firstFailure;
}

} // namespace

const Command& inspectCommand() {
    static const Command kCommand{
        .name = "inspect",
        .summary = "Print a model's summary: inputs, outputs, op histogram, parameters, MACs.",
        .usage = "inspect MODEL... [--json]",
        .description =
            "Loads MODEL (verifying it and inferring shapes) and prints its format, IR version,\n"
            "opsets, producer, inputs and outputs with shapes, node count, op histogram,\n"
            "parameter count and bytes, and multiply-accumulates (MACs).\n"
            "\n"
            "With --json the same data is one JSON object with the keys path, format, ir_version,\n"
            "opsets (domain -> version; \"ai.onnx\" is the default domain), producer, inputs and\n"
            "outputs ([{name, dtype, shape}]; shape entries are ints for known dims, strings for\n"
            "symbolic ones and null for unknown ones), node_count, node_count_recursive,\n"
            "op_histogram (op -> count over the main graph; ops outside the default domain are\n"
            "written \"domain.op\"), parameter_count, parameter_bytes, macs, macs_exact and\n"
            "file_bytes.\n"
            "\n"
            "Several MODELs may be given (batch mode, used by the test suite): text output has\n"
            "one section per model; JSON output is an array with one object per model in order.\n"
            "A model that fails to load becomes {\"path\", \"error\", \"exit_code\"} in the "
            "array,\n"
            "the others are still inspected, and the exit code is that of the first failure.\n",
        .options = {{"json", 0, {}, "Print JSON instead of text."}},
        .minPositionals = 1,
        .maxPositionals = static_cast<std::size_t>(-1),
        .run = runInspect,
    };
    return kCommand;
}

} // namespace ew::cli
