#include "cli.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "ir/io/model_io.h"

#include <cstdio>
#include <filesystem>

namespace ew::cli {

namespace {

// Formats saveModel can write, from the same list as --list-formats.
bool canWrite(ir::ModelFormat f) {
#define EW_FORMAT(e, name, ext, load, save)                                                        \
    if (f == ir::ModelFormat::e) return (save);
#include "ir/io/formats.def"
#undef EW_FORMAT
    return false;
}

std::string writableExtensions() {
    std::string out;
#define EW_FORMAT(e, name, ext, load, save)                                                        \
    if (save) out += std::string(out.empty() ? "" : ", ") + (ext);
#include "ir/io/formats.def"
#undef EW_FORMAT
    return out;
}

int runConvert(const ParsedArgs& args, const GlobalOptions& global) {
    const std::string& in = args.positionals[0];
    if (!args.options.contains("output"))
        return usageError("convert",
                          "missing -o OUT (the output file; its extension picks the format)");
    const std::string out = args.value("output");
    if (out.empty()) return usageError("convert", "the output path is empty");

    ir::ModelFormat format = ir::formatFromExtension(out);
    if (format == ir::ModelFormat::Unknown)
        return usageError("convert", "cannot tell the output format from '" + out +
                                         "': writable extensions are " + writableExtensions());
    if (!canWrite(format))
        return usageError("convert", std::string("writing ") + ir::formatName(format) +
                                         " is not supported yet; writable extensions are " +
                                         writableExtensions());
    // Compare files, not strings: "./m.onnx", a symlink or a hard link to IN are IN too.
    if (sameFile(in, out))
        return usageError("convert", "refusing to overwrite the input model '" + in +
                                         "' with its own conversion; choose another output path");

    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(in, reporter);
    if (!model) {
        reporter.finish();
        return reportError(model.error(), true);
    }
    auto saved = ir::saveModel(**model, out, ir::SaveOptions{}, reporter);
    reporter.finish();
    if (!saved) return reportError(saved.error(), false);
    if (!global.quiet) {
        std::error_code ec;
        auto bytes = std::filesystem::file_size(out, ec);
        std::printf("wrote %s (%s, %llu bytes)\n", out.c_str(), ir::formatName(format),
                    static_cast<unsigned long long>(ec ? 0 : bytes));
    }
    return kExitOk;
}

} // namespace

const Command& convertCommand() {
    static const Command kCommand{
        .name = "convert",
        .summary = "Convert a model to another file; the output extension picks the format.",
        .usage = "convert IN -o OUT",
        .description =
            "Loads IN (any readable format, verified) and writes it to OUT in the format named by\n"
            "OUT's extension (see --list-formats). OUT is written atomically: a temporary file in\n"
            "the same folder is renamed into place, so a failed conversion leaves no partial "
            "file.\n"
            "IN is never overwritten: an OUT that is the same file as IN (also through a link) is\n"
            "refused with a usage error.\n",
        .options = {{"output", 'o', "OUT", "The file to write (required)."}},
        .minPositionals = 1,
        .maxPositionals = 1,
        .run = runConvert,
    };
    return kCommand;
}

} // namespace ew::cli
