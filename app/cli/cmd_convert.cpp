#include "cli.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "ir/io/model_io.h"
#include "ir/shape_inference.h"
#include "optimize/pipeline.h"

#include <charconv>
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

/// One `--input-shape NAME=D0,D1,...` value.
struct PinnedShape {
    std::string name;
    std::vector<int64_t> dims;
};

std::optional<PinnedShape> parsePinnedShape(const std::string& text) {
    const auto eq = text.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= text.size()) return std::nullopt;
    PinnedShape p;
    p.name = text.substr(0, eq);
    std::string_view rest(text);
    rest.remove_prefix(eq + 1);
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        int64_t v = -1;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (ec != std::errc() || ptr != item.data() + item.size() || v < 0) return std::nullopt;
        p.dims.push_back(v);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return p;
}

/// Gives the named graph inputs static shapes, then folds the shape arithmetic that depended on
/// them (fold-constants, simplify-shape-subgraphs, dead nodes): formats without dynamic shapes
/// (TFLite's operators mostly want them static) then see constants.
VoidResult pinInputShapes(ir::Model& model, const std::vector<PinnedShape>& pins, Reporter& reporter) {
    for (const PinnedShape& p : pins) {
        ir::Value* in = nullptr;
        for (ir::Value* v : model.graph->inputs)
            if (!v->isInitializer() && v->name == p.name) in = v;
        if (!in) {
            std::string names;
            for (const ir::Value* v : model.graph->inputs)
                if (!v->isInitializer()) names += (names.empty() ? "" : ", ") + v->name;
            return fail(StatusCode::Usage, "--input-shape names '" + p.name + "', which is not a graph input (inputs: " + names + ")");
        }
        if (in->type.shape) {
            const auto& dims = in->type.shape->dims;
            if (dims.size() != p.dims.size())
                return fail(StatusCode::Usage, "--input-shape gives '" + p.name + "' " + std::to_string(p.dims.size()) +
                                                   " dims but the input has rank " + std::to_string(dims.size()));
            for (std::size_t i = 0; i < dims.size(); ++i)
                if (dims[i].isKnown() && dims[i].value != p.dims[i])
                    return fail(StatusCode::Usage, "--input-shape gives '" + p.name + "' dim " + std::to_string(i) + " = " +
                                                       std::to_string(p.dims[i]) + " but the model fixes it to " +
                                                       std::to_string(dims[i].value));
        }
        in->type.shape = ir::Shape::of(p.dims);
    }
    ir::ShapeInferenceOptions so;
    so.overwriteDeclared = true;
    ir::inferShapes(model, so);
    opt::OptimizeOptions oo;
    oo.passes = {"fold-constants", "simplify-shape-subgraphs", "eliminate-constant-if", "eliminate-dead-nodes",
                 "eliminate-unused-initializers"};
    auto r = opt::optimize(model, oo, reporter);
    if (!r) return std::unexpected(r.error());
    return {};
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

    std::vector<PinnedShape> pins;
    for (const std::string& v : args.values("input-shape")) {
        auto p = parsePinnedShape(v);
        if (!p)
            return usageError("convert", "--input-shape takes NAME=D0,D1,... with dims >= 0, not '" + v + "'");
        for (const PinnedShape& q : pins)
            if (q.name == p->name) return usageError("convert", "--input-shape names '" + p->name + "' twice");
        pins.push_back(std::move(*p));
    }

    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(in, reporter);
    if (!model) {
        reporter.finish();
        return reportError(model.error(), true);
    }
    if (!pins.empty()) {
        if (auto r = pinInputShapes(**model, pins, reporter); !r) {
            reporter.finish();
            if (r.error().code == StatusCode::Usage) return usageError("convert", r.error().message);
            return reportError(r.error(), false);
        }
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
        .usage = "convert IN -o OUT [--input-shape NAME=D0,D1,...]...",
        .description =
            "Loads IN (any readable format, verified) and writes it to OUT in the format named by\n"
            "OUT's extension (see --list-formats). OUT is written atomically: a temporary file in\n"
            "the same folder is renamed into place, so a failed conversion leaves no partial "
            "file.\n"
            "IN is never overwritten: an OUT that is the same file as IN (also through a link) is\n"
            "refused with a usage error.\n"
            "--input-shape (repeatable) gives a graph input a static shape; the shape arithmetic\n"
            "that depended on it is then folded (fold-constants, simplify-shape-subgraphs,\n"
            "eliminate-constant-if, eliminate-dead-nodes) before writing, also inside If/Loop\n"
            "bodies; an If whose condition became constant is replaced by its branch. Use it for\n"
            "models with dynamic dims or shape-dependent Ifs that the target format wants static\n"
            "(TFLite), e.g. --input-shape x=1,3,640,640.\n",
        .options = {{"output", 'o', "OUT", "The file to write (required)."},
                    {"input-shape", 0, "NAME=D0,D1,...", "Pin a graph input's shape, then fold shape arithmetic (repeatable)."}},
        .minPositionals = 1,
        .maxPositionals = 1,
        .run = runConvert,
    };
    return kCommand;
}

} // namespace ew::cli
