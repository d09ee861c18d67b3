#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "optimize/pipeline.h"
#include "widgets/model_document.h"

#include <QString>

#include <optional>
#include <utility>

namespace ew::ui {

/// Median latency of a few runs of one model on the local CPU runtime, or why there is none.
struct QuickBench {
    std::optional<double> medianMs; ///< nullopt: the model cannot run here (see note)
    int runs = 0;
    QString note; ///< the reason for "n/a", or "5 runs, 1 warm-up"
};

/// Runs both models on rt::Session (default options: what a user of the runtime gets) with the
/// same seeded random inputs (floats in [-1, 1], integers in [0, 4), symbolic dims 1): one
/// warm-up run each, then timed runs taking turns (a, b, a, b, ...) so that load from elsewhere
/// on the machine hits both alike; at least `minRuns` and at most `maxRuns` each, stopping early
/// once `budgetMs` have passed. A model that cannot run gets "n/a" with the reason; the other is
/// still measured. Cancel is honoured between runs (both results are then empty).
std::pair<QuickBench, QuickBench> quickBenchPair(const ir::Model& a, const ir::Model& b,
                                                 Reporter& reporter, int minRuns = 3,
                                                 int maxRuns = 15, double budgetMs = 2000.0);

/// Size of the model serialized as ONNX (serializeOnnx), or nullopt with the error.
struct SerializedSize {
    std::optional<int64_t> bytes;
    QString note;
};
SerializedSize serializedSize(const ir::Model& model);

/// Everything an optimize run hands back to the GUI thread. Default-constructible and copyable
/// because QFuture stores results by value.
struct OptimizeOutcome {
    Status status;        ///< Ok, Cancelled, or the pass / verifier error
    DocumentPtr before;   ///< the document the run started from
    DocumentPtr document; ///< the optimized document (same path), set on success
    opt::OptimizeReport report;
    SerializedSize sizeBefore, sizeAfter;
    QuickBench latencyBefore, latencyAfter;
    bool benchmarked = false;
};

/// The optimize job, for a worker thread: clones `doc`'s model (the document stays untouched
/// whatever happens), runs ew::opt::optimize with every pass verified, verifies the result, builds
/// the new document (summary, costs, weight statistics), then measures both models' serialized
/// size and, when `bench` is set, their latency. Progress stages: "optimize", "verify",
/// "summary", "statistics", "size", "latency".
OptimizeOutcome runOptimizeJob(const DocumentPtr& doc, const opt::OptimizeOptions& options,
                               bool bench, Reporter& reporter);

} // namespace ew::ui
