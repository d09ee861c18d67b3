#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/io/model_io.h"
#include "optimize/dataset/dataset.h"
#include "optimize/dataset/evaluate.h"
#include "optimize/quantize/bias_correction.h"
#include "optimize/quantize/equalize.h"
#include "optimize/quantize/analysis.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/cpu/int8_gemm.h"
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

/// Samples the analysis (per-tensor error, sensitivity, mixed precision) runs on: each layer's
/// sensitivity costs two runs per sample, so the set is kept small.
constexpr int64_t kAnalysisSamples = 16;

/// Up to kAnalysisSamples of SOURCE shaped for `model`'s inputs.
Result<std::unique_ptr<opt::data::Dataset>> openAnalysisData(const ir::Model& model, const std::string& source,
                                                             const opt::data::OpenOptions& open) {
    EW_TRY_ASSIGN(auto session, rt::Session::create(model));
    opt::data::OpenOptions o = open;
    o.limit = open.limit > 0 ? std::min(open.limit, kAnalysisSamples) : kAnalysisSamples;
    return opt::data::openDataset(source, session->inputInfo(), o);
}

/// Results of --mixed-precision / the report's "analysis" / --overlay.
struct Analysis {
    std::vector<opt::quant::TensorError> tensors;
    std::vector<opt::quant::LayerSensitivity> sensitivity;
    bool sensitivityDone = false;
    std::optional<opt::quant::MixedPrecision> mixed;
    std::optional<opt::quant::MixedPrecisionAccuracy> mixedAcc; ///< --mixed-precision acc:P
    std::string evalSource;   ///< where acc:P measured accuracy (--eval, else --calib)
    bool evalOnCalib = false; ///< no --eval: the accuracy was measured on the calibration data
    std::string error; ///< why part of it could not be measured
};

/// --mixed-precision: ranks the layers by sensitivity (on the analysis samples of the calibration
/// data), then keeps the most sensitive in float until the output SQNR against `reference`
/// reaches the target, or, for acc:P, until the top-1 drop against `reference` on `evalData`
/// (labelled) is at most P points; `model` becomes the result.
Result<opt::quant::QuantizeReport> quantizeMixed(ir::Model& model, const ir::Model& reference, const opt::quant::Calibration& cal,
                                                 const opt::quant::QuantizeOptions& options, const std::string& source,
                                                 const opt::data::OpenOptions& open, const opt::quant::MixedTarget& target,
                                                 opt::data::Dataset* evalData, Analysis& an, Reporter& reporter) {
    EW_TRY_ASSIGN(auto data, openAnalysisData(reference, source, open));
    EW_TRY_ASSIGN(an.sensitivity, opt::quant::layerSensitivity(model, cal, options, *data, reporter, &reference));
    an.sensitivityDone = true;
    if (target.kind == opt::quant::MixedTarget::Kind::AccuracyDrop) {
        EW_TRY_ASSIGN(auto mp, opt::quant::mixedPrecisionAccuracy(model, cal, options, an.sensitivity, target.value, *evalData,
                                                                  reporter, &reference));
        opt::quant::QuantizeReport rep = mp.report;
        an.mixedAcc = std::move(mp);
        return rep;
    }
    EW_TRY_ASSIGN(auto mp, opt::quant::mixedPrecision(model, cal, options, an.sensitivity, target.value, *data, reporter, &reference));
    opt::quant::QuantizeReport rep = mp.report;
    an.mixed = std::move(mp);
    return rep;
}

/// Per-tensor error of the written model, and the sensitivity ranking when `sensitivity` and
/// --mixed-precision did not already make it. Failures are recorded, not fatal: the model is written.
void analyze(const ir::Model& reference, const ir::Model& quantized, const opt::quant::Calibration& cal,
             const opt::quant::QuantizeOptions& options, const std::string& source, const opt::data::OpenOptions& open,
             bool sensitivity, Analysis& an, Reporter& reporter) {
    auto data = openAnalysisData(reference, source, open);
    if (!data) {
        an.error = data.error().toString();
        return;
    }
    auto t = opt::quant::tensorErrors(reference, quantized, **data, reporter);
    if (!t) {
        an.error = t.error().toString();
        return;
    }
    an.tensors = std::move(*t);
    if (!sensitivity || an.sensitivityDone) return;
    auto s = opt::quant::layerSensitivity(reference, cal, options, **data, reporter);
    if (!s) {
        an.error = s.error().toString();
        return;
    }
    an.sensitivity = std::move(*s);
    an.sensitivityDone = true;
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

    options.reduceRange = args.options.contains("reduce-range");
    if (options.reduceRange && !calibrated)
        return usageError("quantize", "--reduce-range needs an int8 scheme (int8 or int8-per-tensor)");
    const bool cle = args.options.contains("cle");
    const bool biasCorrection = args.options.contains("bias-correction");
    if (biasCorrection && !calibrated)
        return usageError("quantize", "--bias-correction needs an int8 scheme (int8 or int8-per-tensor) and --calib");
    // Analysis: --mixed-precision TARGET (output SQNR in dB, or acc:P), --overlay FILE, the report's "analysis".
    std::optional<opt::quant::MixedTarget> mixedTarget;
    if (args.options.contains("mixed-precision")) {
        opt::quant::MixedTarget t;
        std::string why;
        if (!opt::quant::parseMixedTarget(args.value("mixed-precision"), t, &why)) return usageError("quantize", why);
        if (!calibrated) return usageError("quantize", "--mixed-precision needs an int8 scheme (int8 or int8-per-tensor)");
        if (calib == "random" || calib.starts_with("random:"))
            return usageError("quantize", "--mixed-precision needs real --calib data: a target met on random inputs "
                                          "says nothing about real ones");
        mixedTarget = t;
    }
    // acc:P measures top-1 accuracy on --eval SOURCE (else the calibration data) with labels from
    // class subfolders or --labels FILE.
    const bool accuracyTarget = mixedTarget && mixedTarget->kind == opt::quant::MixedTarget::Kind::AccuracyDrop;
    const std::string evalArg = args.value("eval"), labelsArg = args.value("labels");
    if ((args.options.contains("eval") || args.options.contains("labels")) && !accuracyTarget)
        return usageError("quantize", "--eval and --labels give the labelled data of --mixed-precision acc:P; "
                                      "without an accuracy target they would be ignored");
    if (args.options.contains("eval") && evalArg.empty()) return usageError("quantize", "--eval needs a SOURCE");
    if (args.options.contains("labels") && labelsArg.empty()) return usageError("quantize", "--labels needs a FILE");
    const std::string evalSource = evalArg.empty() ? calib : evalArg;
    if (accuracyTarget && (evalSource == "random" || evalSource.starts_with("random:")))
        return usageError("quantize", "--eval random has no labels: an accuracy target needs real labelled data");
    opt::data::OpenOptions evalOpen = open;
    evalOpen.labels = labelsArg;
    if (!evalArg.empty()) evalOpen.limit = 0; // --limit counts calibration samples; --eval is used whole
    const std::string overlayPath = args.value("overlay");
    if (args.options.contains("overlay")) {
        if (overlayPath.empty()) return usageError("quantize", "--overlay needs a FILE.json to write");
        if (!calibrated) return usageError("quantize", "--overlay needs an int8 scheme (it shows activation error)");
        if (sameFile(in, overlayPath) || sameFile(out, overlayPath) || (!reportPath.empty() && sameFile(reportPath, overlayPath)))
            return usageError("quantize", "the overlay must not overwrite the model or the report");
    }
    const bool analysis = calibrated && (!reportPath.empty() || !overlayPath.empty() || mixedTarget);

    TerminalReporter reporter(global.quiet, global.verbose);
    auto model = loadModelForCli(in, reporter);
    if (!model) {
        reporter.finish();
        return reportError(model.error(), true);
    }
    const std::unique_ptr<ir::Model> fp32 = (*model)->clone();
    // The labelled evaluation data of acc:P, opened (and its labels checked) before any long work.
    std::unique_ptr<opt::data::Dataset> evalData;
    if (accuracyTarget) {
        auto session = rt::Session::create(**model);
        if (!session) {
            reporter.finish();
            return reportError(session.error(), true);
        }
        auto d = opt::data::openDataset(evalSource, (*session)->inputInfo(), evalOpen);
        if (!d) {
            reporter.finish();
            return reportError(d.error(), d.error().code != StatusCode::Usage);
        }
        if (!(*d)->hasLabels()) {
            reporter.finish();
            return usageError("quantize", "--mixed-precision acc:P needs labels for " + (*d)->describe() +
                                              ": give --labels FILE (integer labels, one per sample) or an image folder "
                                              "with one subfolder per class" +
                                              (evalArg.empty() ? " (--eval SOURCE picks data other than --calib)" : ""));
        }
        evalData = std::move(*d);
    }
    // Cross-layer equalization rewrites the float weights (same function) before calibration,
    // so the activation ranges are observed on the equalized model.
    std::optional<opt::quant::EqualizeReport> cleRep;
    if (cle) {
        auto e = opt::quant::equalizeCrossLayer(**model);
        if (!e) {
            reporter.finish();
            return reportError(e.error(), false);
        }
        cleRep = std::move(*e);
    }

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
            auto c = opt::quant::calibrate(**model, **data, opt::quant::calibrationBins(options), reporter);
            if (!c) {
                reporter.finish();
                return reportError(c.error(), c.error().code == StatusCode::InvalidInput || c.error().code == StatusCode::NotFound);
            }
            cal = std::move(*c);
            calibMs = msSince(t0);
        }
    }
    // The float model the analysis compares against: after equalization (its tensors are the ones
    // the quantized model approximates), before bias correction (which deliberately changes it).
    const std::unique_ptr<ir::Model> floatRef = analysis && cal ? (*model)->clone() : nullptr;
    Analysis an;
    std::optional<opt::quant::BiasCorrectionReport> bcRep;
    if (biasCorrection) {
        auto session = rt::Session::create(**model);
        auto data = session ? opt::data::openDataset(calib, (*session)->inputInfo(), open)
                            : Result<std::unique_ptr<opt::data::Dataset>>(std::unexpected(session.error()));
        if (!data) {
            reporter.finish();
            return reportError(data.error(), true);
        }
        auto b = opt::quant::correctBias(**model, *cal, options, **data, reporter);
        if (!b) {
            reporter.finish();
            return reportError(b.error(), false);
        }
        bcRep = std::move(*b);
    }
    an.evalSource = evalSource;
    an.evalOnCalib = accuracyTarget && evalArg.empty();
    auto rep = mixedTarget ? quantizeMixed(**model, *floatRef, *cal, options, calib, open, *mixedTarget, evalData.get(), an, reporter)
                           : opt::quant::quantizeModel(**model, cal ? &*cal : nullptr, options);
    reporter.finish();
    if (!rep) return reportError(rep.error(), false);

    TerminalReporter saveReporter(global.quiet, global.verbose);
    auto saved = ir::saveModel(**model, out, ir::SaveOptions{}, saveReporter);
    saveReporter.finish();
    if (!saved) return reportError(saved.error(), false);

    TerminalReporter evalReporter(global.quiet, global.verbose);
    const std::string sqnrSource = calib.empty() ? "random:8" : calib;
    SqnrResult sq = measureSqnr(*fp32, **model, sqnrSource, open, evalReporter);
    // With --cle / --bias-correction, the same quantization without them, for comparison.
    std::optional<SqnrResult> baseline;
    if (cle || biasCorrection) {
        baseline.emplace();
        std::unique_ptr<ir::Model> plain = fp32->clone();
        std::optional<opt::quant::Calibration> plainCal;
        if (calibrated && cle) { // the equalized model's ranges do not fit the original
            auto session = rt::Session::create(*plain);
            auto data = session ? opt::data::openDataset(calib, (*session)->inputInfo(), open)
                                : Result<std::unique_ptr<opt::data::Dataset>>(std::unexpected(session.error()));
            auto c = data ? opt::quant::calibrate(*plain, **data, opt::quant::calibrationBins(options), evalReporter)
                          : Result<opt::quant::Calibration>(std::unexpected(data.error()));
            if (c) plainCal = std::move(*c);
            else baseline->why = c.error().toString();
        }
        const opt::quant::Calibration* bc = plainCal ? &*plainCal : (calibrated && !cle ? &*cal : nullptr);
        if (baseline->why.empty()) {
            auto r = opt::quant::quantizeModel(*plain, bc, options);
            if (r) *baseline = measureSqnr(*fp32, *plain, sqnrSource, open, evalReporter);
            else baseline->why = r.error().toString();
        }
    }
    if (floatRef) analyze(*floatRef, **model, *cal, options, calib, open, !reportPath.empty(), an, evalReporter);
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
        if (calibrated) j.key("reduce_range").value(options.reduceRange);
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
        if (cleRep) {
            j.key("cle").beginObject().key("pairs").value(static_cast<int64_t>(cleRep->pairs.size()));
            j.key("iterations").value(static_cast<int64_t>(cleRep->iterations));
            j.key("range_ratio_before").value(cleRep->rangeRatioBefore).key("range_ratio_after").value(cleRep->rangeRatioAfter);
            j.key("equalized").beginArray();
            for (const auto& p : cleRep->pairs)
                j.beginObject().key("first").value(p.first).key("activation").value(p.activation).key("second").value(p.second)
                    .key("depthwise").value(p.depthwise).endObject();
            j.endArray();
            j.key("skipped").beginArray();
            for (const auto& s : cleRep->skipped) j.value(s);
            j.endArray();
            j.endObject();
        }
        if (bcRep) {
            j.key("bias_correction").beginObject().key("nodes").value(static_cast<int64_t>(bcRep->nodes.size()));
            j.key("samples").value(bcRep->samples);
            j.key("corrected").beginArray();
            for (const auto& n : bcRep->nodes)
                j.beginObject().key("node").value(n.node).key("channels").value(n.channels).key("mean_abs_shift").value(n.meanAbsShift)
                    .key("max_abs_shift").value(n.maxAbsShift).key("bias_added").value(n.biasAdded).endObject();
            j.endArray();
            j.key("notes").beginArray();
            for (const auto& s : bcRep->notes) j.value(s);
            j.endArray();
            j.endObject();
        }
        if (baseline) {
            // The same scheme, method and data without --cle / --bias-correction.
            if (baseline->measured) j.key("sqnr_db_without").value(totalSqnr(baseline->eval));
            else j.key("sqnr_db_without").null().key("sqnr_without_error").value(baseline->why);
        }
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
        if (floatRef) {
            j.key("analysis").beginObject();
            j.key("samples_max").value(kAnalysisSamples);
            if (!an.error.empty()) j.key("error").value(an.error);
            j.key("tensors").beginArray();
            for (const auto& t : an.tensors)
                j.beginObject().key("tensor").value(t.tensor).key("node").value(t.node).key("sqnr_db").value(t.sqnrDb)
                    .key("cosine").value(t.cosine).key("max_abs_error").value(t.maxAbsError).endObject();
            j.endArray();
            j.key("sensitivity").beginArray();
            for (const auto& s : an.sensitivity)
                j.beginObject().key("node").value(s.node).key("op").value(s.op).key("output_sqnr_db").value(s.outputSqnrDb).endObject();
            j.endArray();
            if (an.mixed) {
                j.key("mixed_precision").beginObject().key("target_db").value(an.mixed->targetDb);
                j.key("kept_float").beginArray();
                for (const auto& n : an.mixed->keptFloat) j.value(n);
                j.endArray();
                j.key("achieved_sqnr_db").value(an.mixed->achievedDb).key("met").value(an.mixed->met);
                j.key("target_kind").value("sqnr").endObject();
            }
            if (an.mixedAcc) {
                const auto& m = *an.mixedAcc;
                const auto& chosen = m.steps.at(m.chosen);
                j.key("mixed_precision").beginObject().key("target_kind").value("accuracy");
                j.key("target_drop_points").value(m.maxDropPoints);
                j.key("evaluation").beginObject().key("source").value(an.evalSource).key("description").value(m.data);
                j.key("samples").value(m.samples).key("calibration_data").value(an.evalOnCalib).endObject();
                j.key("fp32_accuracy").value(m.fp32Accuracy).key("fp32_correct").value(m.fp32Correct);
                j.key("steps").beginArray();
                for (const auto& st : m.steps) {
                    j.beginObject().key("kept_float");
                    if (st.addedFloat.empty()) j.null();
                    else j.value(st.addedFloat);
                    j.key("float_layers").value(static_cast<int64_t>(st.floatLayers)).key("correct").value(st.correct);
                    j.key("accuracy").value(st.accuracy).key("drop_points").value(st.dropPoints).key("met").value(st.met);
                    j.endObject();
                }
                j.endArray();
                j.key("chosen_step").value(static_cast<int64_t>(m.chosen));
                j.key("kept_float").beginArray();
                for (const auto& n : m.keptFloat) j.value(n);
                j.endArray();
                j.key("achieved_accuracy").value(chosen.accuracy).key("achieved_drop_points").value(chosen.dropPoints);
                j.key("met").value(m.met).endObject();
            }
            j.endObject();
        }
        j.key("ms").value(ms);
        j.endObject();
        const std::string text = j.str() + "\n";
        if (auto w = writeBytesAtomically(reportPath, std::span(reinterpret_cast<const std::byte*>(text.data()), text.size())); !w)
            return reportError(w.error(), false);
    }
    if (!overlayPath.empty()) {
        // Per-node quantization noise of each quantized activation as -SQNR (dB of noise relative
        // to the signal): the viewer paints larger values hotter and its threshold keeps values at
        // or above it, so the worst layers must have the largest numbers. Keyed as the viewer keys
        // nodes (name, or the display name of an unnamed node) of the FP32 model, where a Relu
        // folded into its producer still exists; graph inputs have no node and are left out.
        std::map<std::string, double> values;
        for (const auto& t : an.tensors)
            if (!t.node.empty()) values[t.node] = -t.sqnrDb;
        if (values.empty()) {
            Status st;
            st.code = StatusCode::InvalidInput;
            st.message = "no quantized activation to write to the overlay" + (an.error.empty() ? "" : ": " + an.error);
            return reportError(st, false);
        }
        const std::string text = opt::quant::overlayJson("quantization noise vs FP32 (-SQNR)", "dB", values);
        if (auto w = writeBytesAtomically(overlayPath, std::span(reinterpret_cast<const std::byte*>(text.data()), text.size())); !w)
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
        if (cleRep)
            std::printf("cross-layer equalization: %zu pair(s), channel range ratio %.3g -> %.3g (%zu skipped)\n",
                        cleRep->pairs.size(), cleRep->rangeRatioBefore, cleRep->rangeRatioAfter, cleRep->skipped.size());
        if (bcRep) std::printf("bias correction: %zu node(s) over %lld sample(s)\n", bcRep->nodes.size(), static_cast<long long>(bcRep->samples));
        if (baseline && baseline->measured) std::printf("output SQNR without them: %.2f dB\n", totalSqnr(baseline->eval));
        for (const auto& n : rep->notes) std::printf("note: %s\n", n.c_str());
        if (an.mixed) {
            std::string kept;
            for (const auto& n : an.mixed->keptFloat) kept += (kept.empty() ? "" : ", ") + n;
            std::printf("mixed precision: target %.2f dB %s (%.2f dB), %zu layer(s) kept float%s%s\n", an.mixed->targetDb,
                        an.mixed->met ? "met" : "NOT met", an.mixed->achievedDb, an.mixed->keptFloat.size(),
                        kept.empty() ? "" : ": ", kept.c_str());
        }
        if (an.mixedAcc) {
            const auto& m = *an.mixedAcc;
            std::printf("mixed precision: top-1 accuracy on %s%s, FP32 %.2f%% (%lld/%lld)\n", m.data.c_str(),
                        an.evalOnCalib ? " (the CALIBRATION data: give --eval for held-out data)" : "",
                        100.0 * m.fp32Accuracy, static_cast<long long>(m.fp32Correct), static_cast<long long>(m.samples));
            for (std::size_t i = 0; i < m.steps.size(); ++i) {
                const auto& st = m.steps[i];
                std::printf("  step %zu: %-28s %6.2f%% (%lld), drop %.2f points%s\n", i,
                            st.addedFloat.empty() ? "int8" : ("+ float " + st.addedFloat).c_str(), 100.0 * st.accuracy,
                            static_cast<long long>(st.correct), st.dropPoints, st.met ? "  <= target" : "");
            }
            std::string kept;
            for (const auto& n : m.keptFloat) kept += (kept.empty() ? "" : ", ") + n;
            std::printf("mixed precision: target drop <= %g points %s (step %zu, drop %.2f), %zu layer(s) kept float%s%s\n",
                        m.maxDropPoints, m.met ? "met" : "NOT met", m.chosen, m.steps.at(m.chosen).dropPoints,
                        m.keptFloat.size(), kept.empty() ? "" : ": ", kept.c_str());
        }
        if (an.sensitivityDone && !an.sensitivity.empty()) {
            std::printf("most sensitive layers (output SQNR with only that layer quantized):\n");
            for (std::size_t i = 0; i < an.sensitivity.size() && i < 5; ++i)
                std::printf("  %8.2f dB  %s (%s)\n", an.sensitivity[i].outputSqnrDb, an.sensitivity[i].node.c_str(),
                            an.sensitivity[i].op.c_str());
        }
        if (!an.error.empty()) std::printf("analysis incomplete: %s\n", an.error.c_str());
        if (calibrated && !options.reduceRange && rt::cpu::int8UsesAvx2() && !rt::cpu::int8UsesVnni())
            std::printf("tip: on this CPU (no VNNI) Edgewise's INT8 kernels run 8-bit weights on the u8 x s8 route only "
                        "where few weight pairs need splitting once paired against saturation, else on the int16 route; --reduce-range "
                        "(7-bit weights) takes the u8 x s8 route everywhere, about 1.3x the multiply rate\n");
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
                 "       [--method minmax|percentile|entropy|mse] [--exclude PATTERNS] [--cle] [--bias-correction] [--reduce-range]\n"
                 "       [--mixed-precision TARGET [--eval SOURCE] [--labels FILE]] [--report FILE.json] [--overlay FILE.json]",
        .description =
            "Loads IN, calibrates activation ranges by running it on SOURCE (a folder of images,\n"
            ".npy or TensorProto .pb files, or random[:N] - marked as random everywhere), and writes\n"
            "OUT atomically (IN is never overwritten).\n"
            "\n"
            "Schemes: int8 (weights int8 symmetric per output channel, activations 8-bit, ONNX QDQ\n"
            "form with int32 biases; opset raised to 13 where every op keeps its meaning),\n"
            "int8-per-tensor (one weight scale per tensor), fp16 (float16 weight storage with Cast\n"
            "back to float; no calibration needed), w8 / w4 (weight-only MatMul/Gemm, int8 / int4\n"
            "blocks of --block-size along K, DequantizeLinear opset 21; both run in our runtime and\n"
            "in ONNX Runtime).\n"
            "Methods pick each activation's clipping range from bounded-memory histograms: minmax,\n"
            "moving-average, percentile (--percentile, default 99.99), entropy (KL divergence),\n"
            "mse (least expected quantization error).\n"
            "--exclude keeps nodes in float: comma-separated globs on node names or op types.\n"
            "--report writes JSON: scheme, method, calibration {source, samples, random},\n"
            "quantized_nodes, excluded_nodes, ranges [{tensor, min, max, scale, zero_point}],\n"
            "weights, sizes {before, after} in bytes, sqnr_db (worst output's SQNR against FP32 on\n"
            "up to 100 calibration samples, or 8 random ones without --calib), ms.\n"
            "--cle: cross-layer equalization of Conv -> [Relu] -> Conv pairs (depthwise included)\n"
            "before calibration; the float model computes the same function. --bias-correction\n"
            "(int8 schemes): each quantized Conv/Gemm's mean output error per channel, measured on\n"
            "the calibration data, is subtracted from its bias. With either, the report adds \"cle\"\n"
            "{pairs, ...} / \"bias_correction\" {nodes, ...} and sqnr_db_without (the same\n"
            "quantization without them).\n"
            "Analysis (int8 schemes; up to 16 samples of the calibration data): the report's\n"
            "\"analysis\" holds tensors [{tensor, node, sqnr_db, cosine, max_abs_error}] (every\n"
            "quantized activation against FP32) and sensitivity [{node, op, output_sqnr_db}] (each\n"
            "Conv/Gemm/MatMul quantized alone, most sensitive first). --mixed-precision TARGET keeps\n"
            "the most sensitive layers float, one more at a time, until the output SQNR reaches\n"
            "TARGET dB (needs real --calib data): \"mixed_precision\" {target_db, kept_float,\n"
            "achieved_sqnr_db, met, target_kind: \"sqnr\"}. TARGET 45, 45dB or sqnr:45 is an SQNR\n"
            "in dB; acc:P is the largest top-1 accuracy drop against FP32 in percentage points\n"
            "(acc:0.5; 0..100): layers are kept float, most sensitive first, re-measuring top-1\n"
            "accuracy after each, until the drop is at most P. Accuracy is measured on --eval SOURCE\n"
            "(all its samples; default: the --calib data, which the output then says) with labels\n"
            "from class subfolders or --labels FILE (as in evaluate); without labels acc:P is a\n"
            "usage error. Its \"mixed_precision\" is {target_kind: \"accuracy\", target_drop_points,\n"
            "evaluation {source, description, samples, calibration_data}, fp32_accuracy,\n"
            "fp32_correct, steps [{kept_float (null for plain int8), float_layers, correct,\n"
            "accuracy, drop_points, met}], chosen_step, kept_float, achieved_accuracy,\n"
            "achieved_drop_points, met}; when no step meets P, the step with the most hits is kept.\n"
            "--overlay FILE writes each node's activation SQNR in the viewer's overlay format.\n"
            "--reduce-range (int8 schemes) quantizes weights to [-64, 64] (7 bits) instead of\n"
            "[-127, 127]: with them our runtime's INT8 1x1 convolutions take the exact u8 x s8\n"
            "(vpmaddubsw) route on CPUs without VNNI, about 1.3x the multiply rate; one bit of weight\n"
            "resolution less (the report's sqnr_db shows what it costs). The report says\n"
            "\"reduce_range\": true.\n",
        .options = {{"output", 'o', "OUT", "The quantized model to write (required)."},
                    {"calib", 0, "SOURCE", "Calibration data: DIR, FILE.npy, FILE.pb or random[:N]."},
                    {"preprocess", 0, "FILE", "Image preprocessing recipe (JSON) or preset name."},
                    {"scheme", 0, "S", "int8 (default), int8-per-tensor, fp16, w4 or w8."},
                    {"method", 0, "M", "minmax (default), percentile, entropy, mse, moving-average."},
                    {"exclude", 0, "PATTERNS", "Nodes to keep in float: name or op-type globs, comma-separated."},
                    {"mixed-precision", 0, "TARGET", "Keep the most sensitive layers float until the output SQNR reaches TARGET dB (30, 30dB or sqnr:30), or the top-1 drop vs FP32 is at most P points (acc:P)."},
                    {"eval", 0, "SOURCE", "Labelled data for --mixed-precision acc:P (default: the --calib data)."},
                    {"labels", 0, "FILE", "Integer labels (.npy/.pb) of the acc:P data, one per sample in order."},
                    {"overlay", 0, "FILE", "Write per-node activation SQNR (dB) as a viewer overlay (edgewise --overlay FILE MODEL)."},
                    {"cle", 0, {}, "Cross-layer equalization before calibration."},
                    {"bias-correction", 0, {}, "Empirical bias correction on the calibration data (int8)."},
                    {"reduce-range", 0, {}, "7-bit weights ([-64, 64]): exact u8 x s8 INT8 kernels without VNNI (int8)."},
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
