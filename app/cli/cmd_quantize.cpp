#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/io/model_io.h"
#include "optimize/dataset/dataset.h"
#include "optimize/dataset/evaluate.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/session.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace ew::cli {

namespace {

constexpr int64_t kMaxSqnrSamples = 100;

std::vector<std::string> splitPatterns(const std::string& s) {
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

int64_t fileBytes(const std::string& path) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    return ec ? -1 : static_cast<int64_t>(n);
}

struct SqnrResult {
    bool measured = false;
    std::string why; ///< when not measured
    opt::data::EvaluationReport eval;
    std::string data;
    bool random = false;
};

/// Output error of the quantized model against FP32 on (up to kMaxSqnrSamples of) the
/// calibration data, or seeded random data when the scheme took none.
SqnrResult measureSqnr(const ir::Model& fp32, const ir::Model& quantized, const std::string& source,
                       const opt::data::OpenOptions& open, Reporter& reporter) {
    SqnrResult r;
    auto ref = rt::Session::create(fp32);
    auto q = rt::Session::create(quantized);
    if (!ref || !q) {
        r.why = "cannot run: " + (!ref ? ref.error() : q.error()).toString();
        return r;
    }
    opt::data::OpenOptions o = open;
    o.limit = open.limit > 0 ? std::min(open.limit, kMaxSqnrSamples) : kMaxSqnrSamples;
    if (source == "random" || source.starts_with("random:")) o.randomCount = std::min<int64_t>(o.randomCount, kMaxSqnrSamples);
    auto data = opt::data::openDataset(source, (*ref)->inputInfo(), o);
    if (!data) {
        r.why = data.error().toString();
        return r;
    }
    auto e = opt::data::evaluate(**q, ref->get(), **data, reporter);
    if (!e) {
        r.why = e.error().toString();
        return r;
    }
    r.measured = true;
    r.eval = std::move(*e);
    r.data = (*data)->describe();
    r.random = (*data)->isRandom();
    return r;
}

/// Total SQNR over the float outputs (signal and noise powers added across outputs).
double totalSqnr(const opt::data::EvaluationReport& e) {
    // Each output's SQNR is a ratio; combine through the per-output error energies is not
    // possible without the raw sums, so report the worst output (the conservative figure).
    double worst = INFINITY;
    for (const auto& o : e.outputs) worst = std::min(worst, o.sqnrDb);
    return worst;
}

int runQuantize(const ParsedArgs& args, const GlobalOptions& global) {
    const int64_t start = nowNs();
    for (const char* later : {"mixed-precision", "cle", "bias-correction"})
        if (args.options.contains(later))
            return usageError("quantize", std::string("--") + later +
                                              " is not implemented yet (planned in issue 6); run without it");
    if (args.positionals.empty()) return usageError("quantize", "missing the input model IN");
    const std::string& in = args.positionals[0];
    if (!args.options.contains("output")) return usageError("quantize", "missing -o OUT (the quantized model to write)");
    const std::string out = args.value("output");
    if (out.empty()) return usageError("quantize", "the output path is empty");
    if (sameFile(in, out))
        return usageError("quantize", "refusing to overwrite the input model '" + in + "'; choose another output path");
    const std::string reportPath = args.value("report");
    if (!reportPath.empty() && (sameFile(in, reportPath) || sameFile(out, reportPath)))
        return usageError("quantize", "the report must not overwrite a model file");

    opt::quant::QuantizeOptions options;
    if (!opt::quant::parseScheme(args.value("scheme", "int8"), options.scheme))
        return usageError("quantize", "--scheme is int8, int8-per-tensor, fp16, w4 or w8, not '" + args.value("scheme") + "'");
    if (!opt::quant::parseRangeMethod(args.value("method", "minmax"), options.range.method))
        return usageError("quantize", "--method is minmax, percentile, entropy, mse or moving-average, not '" +
                                          args.value("method") + "'");
    if (!opt::quant::parseActivationType(args.value("activations", "uint8"), options.activations))
        return usageError("quantize", "--activations is uint8, int8 or int8-symmetric, not '" + args.value("activations") + "'");
    if (args.options.contains("percentile")) {
        double p = -1;
        try {
            p = std::stod(args.value("percentile"));
        } catch (...) {
        }
        if (!(p > 50 && p <= 100)) return usageError("quantize", "--percentile needs a number in (50, 100]");
        options.range.percentile = p;
    }
    if (args.options.contains("block-size")) {
        auto b = parseCount(args.value("block-size"));
        if (!b || *b < 16 || (*b & (*b - 1)) != 0) return usageError("quantize", "--block-size needs a power of two >= 16");
        options.blockSize = *b;
    }
    options.exclude = splitPatterns(args.value("exclude"));
    if (args.options.contains("exclude") && options.exclude.empty())
        return usageError("quantize", "--exclude needs node names or op types (globs, comma-separated)");
    opt::data::OpenOptions open;
    if (args.options.contains("limit")) {
        auto l = parseCount(args.value("limit"));
        if (!l || *l == 0) return usageError("quantize", "--limit needs a positive number of samples");
        open.limit = *l;
    }
    if (args.options.contains("preprocess")) {
        const std::string p = args.value("preprocess");
        if (auto preset = opt::data::Preprocess::preset(p)) open.preprocess = *preset;
        else {
            auto loaded = opt::data::Preprocess::load(p);
            if (!loaded) return reportError(loaded.error(), true);
            open.preprocess = *loaded;
        }
    }
    const bool calibrated = opt::quant::needsCalibration(options.scheme);
    const std::string calib = args.value("calib");
    if (calibrated && calib.empty())
        return usageError("quantize", "--scheme " + std::string(opt::quant::schemeName(options.scheme)) +
                                          " needs --calib SOURCE (images, .npy, .pb, or random[:N])");

    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(in, reporter);
    if (!model) {
        reporter.finish();
        return reportError(model.error(), true);
    }
    const std::unique_ptr<ir::Model> fp32 = (*model)->clone();

    std::optional<opt::quant::Calibration> cal;
    double calibMs = 0;
    if (!calib.empty()) {
        auto session = rt::Session::create(**model);
        if (!session) {
            reporter.finish();
            return reportError(session.error(), true);
        }
        auto data = opt::data::openDataset(calib, (*session)->inputInfo(), open);
        if (!data) {
            reporter.finish();
            return reportError(data.error(), data.error().code != StatusCode::Usage);
        }
        if (calibrated) {
            const int64_t t0 = nowNs();
            auto c = opt::quant::calibrate(**model, **data, options.histogramBins, reporter);
            if (!c) {
                reporter.finish();
                return reportError(c.error(), c.error().code == StatusCode::InvalidInput || c.error().code == StatusCode::NotFound);
            }
            cal = std::move(*c);
            calibMs = msSince(t0);
        }
    }
    auto rep = opt::quant::quantizeModel(**model, cal ? &*cal : nullptr, options);
    reporter.finish();
    if (!rep) return reportError(rep.error(), false);

    TerminalReporter saveReporter(global.quiet, global.verbose);
    auto saved = ir::saveModel(**model, out, ir::SaveOptions{}, saveReporter);
    saveReporter.finish();
    if (!saved) return reportError(saved.error(), false);

    TerminalReporter evalReporter(global.quiet, global.verbose);
    const std::string sqnrSource = calib.empty() ? "random:8" : calib;
    SqnrResult sq = measureSqnr(*fp32, **model, sqnrSource, open, evalReporter);
    evalReporter.finish();
    const double ms = msSince(start);
    const int64_t inBytes = fileBytes(in), outBytes = fileBytes(out);

    if (!reportPath.empty()) {
        JsonWriter j;
        j.beginObject();
        j.key("input").value(in).key("output").value(out);
        j.key("scheme").value(opt::quant::schemeName(options.scheme));
        j.key("method").value(opt::quant::rangeMethodName(options.range.method));
        if (options.range.method == opt::quant::RangeMethod::Percentile) j.key("percentile").value(options.range.percentile);
        j.key("activations").value(opt::quant::activationTypeName(options.activations));
        if (options.scheme == opt::quant::Scheme::W4 || options.scheme == opt::quant::Scheme::W8)
            j.key("block_size").value(options.blockSize);
        j.key("calibration").beginObject();
        if (cal) {
            j.key("source").value(calib).key("description").value(cal->source);
            j.key("samples").value(cal->samples).key("random").value(cal->random);
            j.key("tensors_observed").value(static_cast<int64_t>(cal->observers.size()));
            j.key("ms").value(calibMs);
        } else {
            j.key("source").null().key("samples").value(int64_t(0)).key("random").value(false);
        }
        j.endObject();
        j.key("opset").beginObject().key("before").value(rep->opsetBefore).key("after").value(rep->opsetAfter).endObject();
        j.key("quantized_nodes").beginArray();
        for (const auto& n : rep->quantizedNodes) j.value(n);
        j.endArray();
        j.key("excluded_nodes").beginArray();
        for (const auto& n : rep->excludedNodes) j.value(n);
        j.endArray();
        j.key("notes").beginArray();
        for (const auto& n : rep->notes) j.value(n);
        j.endArray();
        j.key("ranges").beginArray();
        for (const auto& t : rep->tensors) {
            if (t.weight) continue;
            j.beginObject().key("tensor").value(t.tensor).key("min").value(t.min).key("max").value(t.max);
            j.key("scale").value(double(t.scales.at(0))).key("zero_point").value(t.zeroPoints.at(0));
            j.key("dtype").value(ir::dataTypeName(t.storage)).endObject();
        }
        j.endArray();
        j.key("weights").beginArray();
        for (const auto& t : rep->tensors) {
            if (!t.weight) continue;
            j.beginObject().key("tensor").value(t.tensor).key("min").value(t.min).key("max").value(t.max);
            j.key("dtype").value(ir::dataTypeName(t.storage)).key("scales").value(static_cast<int64_t>(t.scales.size()));
            j.endObject();
        }
        j.endArray();
        j.key("sizes").beginObject().key("before").value(inBytes).key("after").value(outBytes);
        j.key("weights_before").value(rep->weightBytesBefore).key("weights_after").value(rep->weightBytesAfter).endObject();
        if (sq.measured) j.key("sqnr_db").value(totalSqnr(sq.eval));
        else j.key("sqnr_db").null();
        j.key("sqnr").beginObject();
        if (sq.measured) {
            j.key("data").value(sq.data).key("random").value(sq.random).key("samples").value(sq.eval.samples);
            j.key("outputs").beginArray();
            for (const auto& o : sq.eval.outputs)
                j.beginObject().key("name").value(o.name).key("sqnr_db").value(o.sqnrDb).key("cosine").value(o.cosine)
                    .key("max_abs_error").value(o.maxAbsError).endObject();
            j.endArray();
            if (sq.eval.agreementTop1) j.key("top1_agreement").value(*sq.eval.agreementTop1);
        } else {
            j.key("error").value(sq.why);
        }
        j.endObject();
        j.key("ms").value(ms);
        j.endObject();
        const std::string text = j.str() + "\n";
        if (auto w = writeBytesAtomically(reportPath, std::span(reinterpret_cast<const std::byte*>(text.data()), text.size())); !w)
            return reportError(w.error(), false);
    }
    if (!global.quiet) {
        std::printf("scheme %s, method %s, %zu node(s) quantized, %zu excluded\n",
                    std::string(opt::quant::schemeName(options.scheme)).c_str(),
                    std::string(opt::quant::rangeMethodName(options.range.method)).c_str(), rep->quantizedNodes.size(),
                    rep->excludedNodes.size());
        if (cal)
            std::printf("calibration: %s, %lld sample(s)%s\n", cal->source.c_str(), static_cast<long long>(cal->samples),
                        cal->random ? " (RANDOM data: ranges do not reflect real inputs)" : "");
        std::printf("file bytes %lld -> %lld\n", static_cast<long long>(inBytes), static_cast<long long>(outBytes));
        if (sq.measured)
            std::printf("output SQNR vs FP32: %.2f dB on %s%s\n", totalSqnr(sq.eval), sq.data.c_str(),
                        sq.random ? " (random data)" : "");
        else
            std::printf("output SQNR not measured: %s\n", sq.why.c_str());
        for (const auto& n : rep->notes) std::printf("note: %s\n", n.c_str());
        std::printf("wrote %s (%.0f ms)\n", out.c_str(), ms);
    }
    return kExitOk;
}

} // namespace

const Command& quantizeCommand() {
    static const Command kCommand{
        .name = "quantize",
        .summary = "Post-training quantization: int8 QDQ, fp16 weights, int4/int8 weight-only.",
        .usage = "quantize IN -o OUT --calib SOURCE [--preprocess FILE.json] [--scheme int8|int8-per-tensor|fp16|w4|w8]\n"
                 "       [--method minmax|percentile|entropy|mse] [--exclude PATTERNS] [--report FILE.json]",
        .description =
            "Loads IN, calibrates activation ranges by running it on SOURCE (a folder of images,\n"
            ".npy or TensorProto .pb files, or random[:N] - marked as random everywhere), and writes\n"
            "OUT atomically (IN is never overwritten).\n"
            "\n"
            "Schemes: int8 (weights int8 symmetric per output channel, activations 8-bit, ONNX QDQ\n"
            "form with int32 biases; opset raised to 13 where every op keeps its meaning),\n"
            "int8-per-tensor (one weight scale per tensor), fp16 (float16 weight storage with Cast\n"
            "back to float; no calibration needed), w8 / w4 (weight-only MatMul/Gemm, int8 / int4\n"
            "blocks of --block-size along K, DequantizeLinear opset 21; our CPU runtime cannot run\n"
            "int4 tensors yet, ONNX Runtime can).\n"
            "Methods pick each activation's clipping range from bounded-memory histograms: minmax,\n"
            "moving-average, percentile (--percentile, default 99.99), entropy (KL divergence),\n"
            "mse (least expected quantization error).\n"
            "--exclude keeps nodes in float: comma-separated globs on node names or op types.\n"
            "--report writes JSON: scheme, method, calibration {source, samples, random},\n"
            "quantized_nodes, excluded_nodes, ranges [{tensor, min, max, scale, zero_point}],\n"
            "weights, sizes {before, after} in bytes, sqnr_db (worst output's SQNR against FP32 on\n"
            "up to 100 calibration samples, or 8 random ones without --calib), ms.\n"
            "--mixed-precision, --cle and --bias-correction are reserved and not implemented yet.\n",
        .options = {{"output", 'o', "OUT", "The quantized model to write (required)."},
                    {"calib", 0, "SOURCE", "Calibration data: DIR, FILE.npy, FILE.pb or random[:N]."},
                    {"preprocess", 0, "FILE", "Image preprocessing recipe (JSON) or preset name."},
                    {"scheme", 0, "S", "int8 (default), int8-per-tensor, fp16, w4 or w8."},
                    {"method", 0, "M", "minmax (default), percentile, entropy, mse, moving-average."},
                    {"exclude", 0, "PATTERNS", "Nodes to keep in float: name or op-type globs, comma-separated."},
                    {"mixed-precision", 0, "TARGET", "Not implemented yet."},
                    {"cle", 0, {}, "Cross-layer equalization: not implemented yet."},
                    {"bias-correction", 0, {}, "Bias correction: not implemented yet."},
                    {"report", 0, "FILE", "Write the report as JSON."},
                    {"activations", 0, "T", "uint8 (default), int8 or int8-symmetric."},
                    {"percentile", 0, "P", "Percentile of --method percentile (default 99.99)."},
                    {"block-size", 0, "N", "w4/w8 block along K (default 32, a power of two >= 16)."},
                    {"limit", 0, "N", "Use at most N calibration samples."}},
        .minPositionals = 0,
        .maxPositionals = 1,
        .run = runQuantize,
    };
    return kCommand;
}

} // namespace ew::cli
