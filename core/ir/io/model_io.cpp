#include "model_io.h"

#include "common/file_util.h"
#include "ir/onnx/onnx_export.h"
#include "ir/onnx/onnx_import.h"
#include "ir/quant_params.h"
#include "ir/shape_inference.h"
#include "ir/tflite/tflite_export.h"
#include "ir/tflite/tflite_import.h"
#include "ir/verifier.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>

namespace ew::ir {

namespace fs = std::filesystem;

namespace {
struct FormatRow {
    ModelFormat format;
    const char* name;
    const char* extension;
    bool canLoad;
    bool canSave;
};
constexpr FormatRow kFormats[] = {
#define EW_FORMAT(e, n, ext, load, save) {ModelFormat::e, n, ext, load, save},
#include "formats.def"
#undef EW_FORMAT
};

std::string lowerExtension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}
} // namespace

const char* formatName(ModelFormat f) {
    for (const auto& r : kFormats)
        if (r.format == f) return r.name;
    return f == ModelFormat::TFLite ? "TFLite" : "unknown";
}

std::vector<std::string> supportedExtensions() {
    std::vector<std::string> out;
    for (const auto& r : kFormats)
        if (r.canLoad) out.push_back(r.extension);
    return out;
}

ModelFormat formatFromExtension(const std::string& path) {
    std::string ext = lowerExtension(path);
    for (const auto& r : kFormats)
        if (ext == r.extension) return r.format;
    if (ext == ".tflite") return ModelFormat::TFLite;
    return ModelFormat::Unknown;
}

ModelFormat probeFormat(const std::string& path) {
    auto mf = MappedFile::open(path);
    if (!mf || (*mf)->size() == 0) return ModelFormat::Unknown;
    auto head = (*mf)->bytes().first(std::min<std::size_t>((*mf)->size(), 4096));
    if (tflitefmt::looksLikeTflite(head)) return ModelFormat::TFLite;
    if (onnxfmt::looksLikeOnnx(head)) return ModelFormat::Onnx;
    return ModelFormat::Unknown;
}

Result<std::unique_ptr<Model>> loadModel(const std::string& path, const LoadOptions& opts, Reporter& reporter) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return fail(Status{StatusCode::NotFound, "no such file", path, {}});
    ModelFormat fmt = probeFormat(path);
    if (fmt == ModelFormat::Unknown) {
        // Content decides; the extension only helps to explain what went wrong.
        ModelFormat byExt = formatFromExtension(path);
        if (byExt == ModelFormat::Onnx) fmt = ModelFormat::Onnx; // let the importer give the precise error
        else if (byExt == ModelFormat::TFLite) fmt = ModelFormat::TFLite;
        else
            return fail(Status{StatusCode::InvalidInput,
                               "not a model file Edgewise can read (neither ONNX nor TFLite content)", path, {}});
    }
    std::unique_ptr<Model> model;
    switch (fmt) {
    case ModelFormat::Onnx: {
        onnxfmt::ImportOptions io;
        io.loadExternalData = opts.loadExternalData;
        EW_TRY_ASSIGN(model, onnxfmt::importOnnxFile(path, io, reporter));
        break;
    }
    case ModelFormat::TFLite: {
        EW_TRY_ASSIGN(model, tflitefmt::importTfliteFile(path, {}, reporter));
        break;
    }
    case ModelFormat::Unknown: break;
    }
    if (reporter.isCancelled()) return fail(Status{StatusCode::Cancelled, "cancelled", path, {}});
    if (opts.verify) {
        reporter.progress("Verifying", 0.0);
        auto v = verify(*model);
        if (!v) return std::unexpected(std::move(v).error().withFile(path));
    }
    if (opts.inferShapes) {
        reporter.progress("Inferring shapes", 0.0);
        auto report = inferShapes(*model);
        for (const auto& p : report.problems) reporter.log(Severity::Warning, p.toString());
        reporter.progress("Inferring shapes", 1.0);
    }
    // After inference, so per-axis axes resolve against known ranks.
    deriveQuantParams(*model->graph);
    return model;
}

VoidResult saveModel(const Model& model, const std::string& path, const SaveOptions& opts, Reporter& reporter) {
    if (!model.sourcePath.empty() && sameFile(model.sourcePath, path))
        return fail(Status{StatusCode::Usage, "refusing to overwrite the input model; choose another output file", path, {}});
    switch (formatFromExtension(path)) {
    case ModelFormat::Onnx: {
        reporter.progress("Writing ONNX", 0.0);
        onnxfmt::ExportOptions eo;
        eo.externalDataThreshold = opts.externalDataThreshold;
        auto r = onnxfmt::exportOnnxFile(model, path, eo);
        if (!r) return std::unexpected(std::move(r).error().withFile(path));
        reporter.progress("Writing ONNX", 1.0);
        return {};
    }
    case ModelFormat::TFLite: {
        reporter.progress("Writing TFLite", 0.0);
        auto r = tflitefmt::exportTfliteFile(model, path);
        if (!r) return std::unexpected(std::move(r).error().withFile(path));
        reporter.progress("Writing TFLite", 1.0);
        return {};
    }
    case ModelFormat::Unknown: break;
    }
    return fail(Status{StatusCode::Usage, "unknown output format: use the .onnx or .tflite extension", path, {}});
}

} // namespace ew::ir
