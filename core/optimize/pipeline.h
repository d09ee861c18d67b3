#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"
#include "pass.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ew::opt {

/// What `optimize` writes: standard ONNX, or a model for Edgewise's runtime only (the portable
/// pipeline followed by the runtime fusions).
enum class Target { Onnx, Edgewise };

struct OptimizeOptions {
    /// "default" or "aggressive"; ignored when `passes` is set.
    std::string pipeline = "default";
    /// An explicit ordered list of pass names (replaces the pipeline).
    std::vector<std::string> passes;
    /// Pass names taken out of whatever list runs.
    std::vector<std::string> disabled;
    Target target = Target::Onnx;
    /// Run the verifier after every pass that changed something (a failure names the pass).
    /// On in tests and debug builds; the CLI and GUI verify the final model either way.
#ifdef NDEBUG
    bool verifyEachPass = false;
#else
    bool verifyEachPass = true;
#endif
    /// The list runs again while any pass still changes something, at most this many rounds.
    int maxRounds = 8;
    std::size_t foldByteLimit = std::size_t(1) << 20;
};

/// Size of a model at one moment.
struct ModelTotals {
    int64_t nodes = 0;          ///< all graphs, nested bodies included
    int64_t parameters = 0;     ///< elements of all constants
    int64_t parameterBytes = 0;
    int64_t macs = 0;
    bool exact = true;          ///< false when a shape was unknown (MACs are then a lower bound)
    int64_t fileBytes = -1;     ///< size of the model file, when the caller knows it (-1: not known)
};
ModelTotals totalsOf(const ir::Model& model);

/// One pass's share of an optimize run (summed over rounds).
struct PassStats {
    std::string name;
    PassKind kind = PassKind::Portable;
    int runs = 0;
    int changedRuns = 0;
    int removed = 0, fused = 0, added = 0, rewritten = 0;
    int64_t nodesDelta = 0, parametersDelta = 0, macsDelta = 0; ///< after minus before
    double ms = 0;
    std::vector<NodeChange> changes;
};

struct OptimizeReport {
    std::string pipeline; ///< "default", "aggressive" or "custom"
    Target target = Target::Onnx;
    std::vector<std::string> passOrder;
    int rounds = 0;
    ModelTotals before, after;
    std::vector<PassStats> passes; ///< in passOrder
    double ms = 0;
    /// {"pipeline", "target", "rounds", "passes": [{name, kind, runs, changed, removed, fused,
    ///  added, rewritten, nodes_delta, parameters_delta, macs_delta, ms, changes: [...]}],
    ///  "before": {nodes, parameters, parameter_bytes, macs, exact[, file_bytes]}, "after": {...},
    ///  "ms"}
    std::string toJson(int indent = 2) const;
};

/// Pipeline names, in the order the CLI and GUI offer them.
std::vector<std::string_view> pipelineNames();
/// The ordered pass names of a pipeline (Usage error naming the known ones otherwise).
Result<std::vector<std::string_view>> pipelinePasses(std::string_view pipeline, Target target = Target::Onnx);
/// The passes `optimize` would run for these options (unknown names are a Usage error that lists
/// the known ones).
Result<std::vector<const PassInfo*>> resolvePasses(const OptimizeOptions& options);

/// Runs one pass over the main graph and every nested body; re-infers shapes when it changed
/// something (and verifies, if asked).
VoidResult runPass(ir::Model& model, const PassInfo& pass, PassContext& ctx, bool verify);

/// Optimizes `model` in place. On error (a pass failed verification, or cancel) the model may be
/// partly optimized: callers that must keep the original work on a clone.
Result<OptimizeReport> optimize(ir::Model& model, const OptimizeOptions& options = {},
                                Reporter& reporter = nullReporter());

} // namespace ew::opt
