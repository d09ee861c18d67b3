#include "cli.h"
#include "terminal_reporter.h"

#include "ir/text_dump.h"

#include <cstdio>
#include <string>

namespace ew::cli {

namespace {

int runDump(const ParsedArgs& args, const GlobalOptions& global) {
    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(args.positionals[0], reporter);
    reporter.finish();
    if (!model) return reportError(model.error(), true);
    ir::DumpOptions opts;
    opts.showDocStrings = args.flag("doc");
    if (args.flag("max-inline")) {
        try {
            opts.maxInlineElements = static_cast<std::size_t>(std::stoul(args.value("max-inline")));
        } catch (...) {
            return usageError("dump", "--max-inline needs a non-negative number");
        }
    }
    std::fputs(ir::dumpModel(**model, opts).c_str(), stdout);
    return kExitOk;
}

} // namespace

const Command& dumpCommand() {
    static const Command kCommand{
        .name = "dump",
        .summary = "Print the model as readable text (every node, attribute and inferred type).",
        .usage = "dump MODEL [--doc] [--max-inline N]",
        .description =
            "Prints the whole model in Edgewise's text form, the one golden tests compare:\n"
            "graph inputs, initializers (small ones in full, large ones as a count and a content\n"
            "hash), one line per node with its attributes and inferred output types, nested\n"
            "graphs indented under their node, and graph outputs.\n",
        .options = {{"doc", 0, {}, "Include doc strings."},
                    {"max-inline", 0, "N", "Print tensors of at most N elements in full (default 16)."}},
        .minPositionals = 1,
        .maxPositionals = 1,
        .run = runDump,
    };
    return kCommand;
}

} // namespace ew::cli
