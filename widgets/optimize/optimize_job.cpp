#include "optimize_job.h"

#include "ir/onnx/onnx_export.h"
#include "ir/shape_inference.h"
#include "ir/summary.h"
#include "ir/verifier.h"
#include "runtime/session.h"

#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <tuple>

namespace ew::ui {

namespace {

struct Tr {
    Q_DECLARE_TR_FUNCTIONS(ew::ui::OptimizeJob)
};

rt::Session::NamedTensors randomInputs(const rt::Session& s, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    rt::Session::NamedTensors in;
    for (const rt::TensorInfo& info : s.inputInfo()) {
        std::vector<int64_t> dims;
        if (info.shape)
            for (const ir::Dim& d : info.shape->dims) dims.push_back(d.isKnown() ? d.value : 1);
        rt::Tensor t = rt::Tensor::allocate(info.dtype, dims);
        for (int64_t i = 0; i < t.numElements(); ++i) {
            switch (info.dtype) {
            case ir::DataType::Float: t.data<float>()[i] = u(rng); break;
            case ir::DataType::Double: t.data<double>()[i] = u(rng); break;
            case ir::DataType::Int64: t.data<int64_t>()[i] = int64_t(rng() % 4); break;
            case ir::DataType::Int32: t.data<int32_t>()[i] = int32_t(rng() % 4); break;
            case ir::DataType::Bool: t.data<bool>()[i] = (rng() & 1) != 0; break;
            default: i = t.numElements(); break; // allocate() zero-filled it
            }
        }
        in.emplace_back(info.name, std::move(t));
    }
    return in;
}

double msBetween(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

namespace {

/// One side of the paired bench: a compiled session and its inputs, or why there is none.
struct Bencher {
    std::unique_ptr<rt::Session> session;
    rt::Session::NamedTensors inputs;
    std::vector<rt::Tensor> outputs;
    std::vector<double> times;
    QuickBench result;

    explicit Bencher(const ir::Model& model) {
        auto s = rt::Session::create(model);
        if (!s) {
            result.note = QString::fromStdString(s.error().message);
            return;
        }
        session = std::move(*s);
        inputs = randomInputs(*session, 7);
        // The warm-up run builds the memory plan; timed runs then allocate nothing.
        if (!runOnce(false)) session.reset();
    }
    bool runOnce(bool timed) {
        const auto t0 = std::chrono::steady_clock::now();
        if (auto r = session->run(inputs, outputs); !r) {
            result.note = QString::fromStdString(r.error().message);
            session.reset();
            return false;
        }
        if (timed) times.push_back(msBetween(t0, std::chrono::steady_clock::now()));
        return true;
    }
    void finish() {
        if (times.empty() || !session) return; // failed part way: n/a with the error
        std::sort(times.begin(), times.end());
        const std::size_t n = times.size();
        result.medianMs = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2.0;
        result.runs = int(n);
        result.note = Tr::tr("median of %n run(s) after one warm-up, taking turns with the "
                             "other model", nullptr, int(n));
    }
};

} // namespace

std::pair<QuickBench, QuickBench> quickBenchPair(const ir::Model& a, const ir::Model& b,
                                                 Reporter& reporter, int minRuns, int maxRuns,
                                                 double budgetMs) {
    Bencher x(a), y(b);
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < maxRuns && (x.session || y.session); ++k) {
        if (reporter.isCancelled()) {
            QuickBench none;
            none.note = Tr::tr("cancelled");
            return {none, none};
        }
        if (x.session) x.runOnce(true);
        if (y.session) y.runOnce(true);
        reporter.progress("latency", double(k + 1) / double(maxRuns));
        if (k + 1 >= minRuns &&
            msBetween(start, std::chrono::steady_clock::now()) > budgetMs)
            break;
    }
    x.finish();
    y.finish();
    return {x.result, y.result};
}

SerializedSize serializedSize(const ir::Model& model) {
    SerializedSize out;
    auto bytes = onnxfmt::serializeOnnx(model);
    if (!bytes)
        out.note = QString::fromStdString(bytes.error().message);
    else
        out.bytes = int64_t(bytes->size());
    return out;
}

OptimizeOutcome runOptimizeJob(const DocumentPtr& doc, const opt::OptimizeOptions& options,
                               bool bench, Reporter& reporter) {
    OptimizeOutcome out;
    out.before = doc;
    if (!doc || !doc->model) {
        out.status = makeError(StatusCode::Usage, "no model is open");
        return out;
    }
    // The document is shared and immutable: everything below works on a private copy.
    std::shared_ptr<ir::Model> model = doc->model->clone();
    opt::OptimizeOptions o = options;
    o.verifyEachPass = true; // a failing pass is named, and the document stays as it was
    auto report = opt::optimize(*model, o, reporter);
    if (!report) {
        out.status = std::move(report).error();
        return out;
    }
    out.report = std::move(*report);

    reporter.progress("verify", 0.0);
    if (auto v = ir::verify(*model); !v) {
        out.status = v.error();
        out.status.message = "the optimized model does not verify: " + out.status.message;
        return out;
    }
    if (reporter.isCancelled()) {
        out.status = makeError(StatusCode::Cancelled, "optimization cancelled");
        return out;
    }

    reporter.progress("summary", 0.0);
    auto next = std::make_shared<ModelDocument>();
    next->path = doc->path;
    next->summary = ir::summarize(*model);
    next->cost = ir::modelCost(*model);
    auto stats = computeInitializerStats(*model, reporter);
    if (!stats) {
        out.status = makeError(StatusCode::Cancelled, "optimization cancelled");
        return out;
    }
    next->stats = std::move(*stats);
    next->model = model;

    reporter.progress("size", 0.0);
    out.sizeBefore = serializedSize(*doc->model);
    reporter.progress("size", 0.5);
    out.sizeAfter = serializedSize(*model);
    reporter.progress("size", 1.0);

    if (bench) {
        reporter.progress("latency", 0.0);
        std::tie(out.latencyBefore, out.latencyAfter) = quickBenchPair(*doc->model, *model, reporter);
        out.benchmarked = true;
        if (reporter.isCancelled()) {
            out.status = makeError(StatusCode::Cancelled, "optimization cancelled");
            return out;
        }
    }
    out.document = std::move(next);
    return out;
}

} // namespace ew::ui
