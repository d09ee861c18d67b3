#pragma once
#include "common/status.h"
#include "ir/graph.h"
#include "kernel.h"
#include "tensor.h"
#include "thread_pool.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ew::rt {

struct SessionOptions {
    /// Threads including the caller; 0 = physical cores. Ignored when `pool` is set.
    int threads = 0;
    /// Share a pool (sub-sessions of control-flow kernels use their parent's).
    std::shared_ptr<ThreadPool> pool;
    /// Evaluate nodes whose inputs are all constant once, at creation (their outputs become
    /// constants; no per-node callback fires for them).
    bool foldConstants = true;
    /// Let kernels that declare it write their output over a dead input.
    bool inPlace = true;
    /// Apply the runtime fusions of fusion.h (Conv [+ BN] [+ residual Add] + activation, Gemm /
    /// MatMul + activation, x * Sigmoid(x)) to a private copy of the graph before compiling
    /// (Session::create only; node callbacks then report the fused node under the name of the
    /// Conv, Gemm, MatMul or Mul it grew from).
    bool fuse = true;
    /// With `fuse`, also run QDQ patterns (DequantizeLinear -> Conv/Gemm/MatMul -> QuantizeLinear,
    /// and the residual Add and MaxPool between them) as fused integer ops (fusion.h fuseQdq). The integer path is faster than running the QDQ
    /// pattern in float on resnet18 and mobilenet_v2 (bench_int8, bench/RESULTS.md) and exact, but
    /// it is not the float simulation ONNX Runtime's reference level computes: where a float sum
    /// lands next to a rounding boundary the two differ by one step (blazeface quantized by us, fed
    /// its real test image: 1 of 36864 values in its fifth conv), and deep models amplify that to
    /// many steps at the output (18 there). Off by default until the peer checks measure our
    /// integer run against ORT's with a bound that accounts for that amplification.
    /// QLinearConv/QLinearMatMul/ConvInteger/MatMulInteger models use the fast integer kernels
    /// either way.
    bool int8Kernels = false;
    /// Memory plans kept, one per input-shape signature (least recently used evicted). With 1 a
    /// new signature replaces the plan; more suit sessions whose input shapes alternate (the
    /// sub-sessions of Loop/Scan bodies, whose loop-carried shapes may change per iteration).
    int planCache = 1;
};

/// A graph input or output as the session sees it. Symbolic dims keep their names.
struct TensorInfo {
    std::string name;
    DataType dtype = DataType::Undefined;
    std::optional<ir::Shape> shape; ///< nullopt when the rank is unknown
    bool outerScope = false;        ///< an enclosing graph's value read by a nested-graph session
    std::string toString() const;  ///< "x: float32[N,3,224,224]"
};

/// What the per-node callback receives. `outputs` has one entry per node output (nullptr where
/// the node omits it); the tensors are only valid during the callback (copy what you keep).
struct NodeEvent {
    const ir::Node& node;
    int step;
    std::span<const Tensor* const> outputs;
    int64_t elapsedNs;
};
using NodeCallback = std::function<void(const NodeEvent&)>;

/// Memory plan figures, for tests, the profiler and the memory view.
struct PlanStats {
    std::size_t arenaBytes = 0;  ///< bytes of the arena (activations + scratch)
    std::size_t tensorBytes = 0; ///< sum of the planned buffers' sizes (what no reuse would cost)
    int inPlaceCount = 0;        ///< outputs written over their input
    int plansBuilt = 0;          ///< plans made so far (one per new input-shape signature)
    int planCacheHits = 0;       ///< runs that reused a cached plan of another signature
};

/// Values of enclosing graphs that `node`'s subgraphs read (node inputs inside them and subgraph
/// outputs that are outer values), deduplicated in first-use order. The session passes them to
/// the node's kernel as extra inputs after the node's own inputs, in this order.
std::vector<const ir::Value*> outerScopeReads(const ir::Node& node);

/// Runs an ir::Graph on the CPU.
/// Compile (create): topological order, a kernel per node from kernels.def (every node without one
/// is listed in the error), constant folding, kernel init (weights packed once).
/// Run: binds the caller's inputs without copying, then executes the steps in order. With an
/// input-shape signature it has not planned for, every node is prepared right before it runs
/// (so data-dependent shapes are known) and its outputs get their own buffers; after that run a
/// static plan is built from the observed sizes and lifetimes (greedy-by-size arena offsets,
/// in-place reuse where legal). Later runs with the same signature allocate nothing: only nodes
/// with data-dependent shapes are prepared again, and if one of them produces a shape other than
/// the planned one the rest of the run falls back to per-tensor buffers and the plan is rebuilt.
/// With options.planCache > 1 the plans of recent signatures are kept: returning to one re-prepares
/// every kernel but allocates nothing.
/// One run at a time (run() serializes callers).
class Session {
public:
    using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

    static Result<std::unique_ptr<Session>> create(const ir::Model& model, SessionOptions options = {});
    /// A session over one graph, possibly nested (an If branch, a Loop body): values it reads from
    /// enclosing graphs become inputs marked outerScope, passed by name like any other input.
    static Result<std::unique_ptr<Session>> createForGraph(const ir::Graph& graph,
                                                           std::vector<ir::OpsetImport> opsets,
                                                           SessionOptions options = {});
    /// For control-flow kernels' init(): a session over one of the node's subgraphs that shares
    /// the creating session's opsets, options and thread pool (`planCache` at least
    /// `minPlanCache`). Only valid while a session is initialising its kernels on this thread.
    static Result<std::unique_ptr<Session>> createSubgraphSession(const ir::Graph& graph, int minPlanCache = 1);
    ~Session();

    const std::vector<TensorInfo>& inputInfo() const { return m_inputInfo; }
    const std::vector<TensorInfo>& outputInfo() const { return m_outputInfo; }

    /// Runs with the given inputs (by graph input name); returns the outputs in outputInfo order.
    Result<std::vector<Tensor>> run(const NamedTensors& inputs);
    /// Same, writing into `outputs` and reusing their owned buffers when large enough: with a
    /// planned input signature this call performs no heap allocation.
    VoidResult run(const NamedTensors& inputs, std::vector<Tensor>& outputs);

    /// Called after every executed node (not for folded constants). Timing is taken only when set.
    void setNodeCallback(NodeCallback cb) { m_callback = std::move(cb); }

    /// Nodes in execution order (folded nodes excluded).
    std::vector<const ir::Node*> executionOrder() const;
    PlanStats planStats() const { return m_stats; }
    /// Start of the arena (stable across runs with a planned signature).
    const std::byte* arenaData() const { return m_arena; }
    int threads() const { return m_pool->threads(); }

private:
    struct Slot;
    struct Step;
    struct SavedPlan;
    Session() = default;
    VoidResult compile(const ir::Graph& graph);
    VoidResult bindInputs(const NamedTensors& inputs);
    std::string expectedInputsText() const;
    VoidResult execute(bool prepareAll);
    void buildPlan();
    /// Makes a cached plan for this run's signature the active one; false when none is cached.
    bool activateCachedPlan();
    /// Moves the active plan into the cache (evicting the least recently used one).
    void stashActivePlan();
    void swapActivePlan(SavedPlan& p);
    void releaseDynamic();
    void copyOutputs(std::vector<Tensor>& outputs);
    int64_t opsetFor(std::string_view domain) const;

    SessionOptions m_options;
    std::unique_ptr<ir::Graph> m_ownedGraph; ///< the fused copy compiled instead of the caller's graph
    std::vector<ir::OpsetImport> m_opsets;
    std::shared_ptr<ThreadPool> m_pool;
    std::vector<Slot> m_slots;
    std::vector<Step> m_steps;
    std::vector<int> m_inputSlots;  ///< per inputInfo entry
    std::vector<int> m_outputSlots; ///< per outputInfo entry
    std::vector<TensorInfo> m_inputInfo;
    std::vector<TensorInfo> m_outputInfo;
    /// Pairs (input a, dim i, input b, dim j) that share a symbol and must agree.
    struct SymbolTie {
        int a, i, b, j;
    };
    std::vector<SymbolTie> m_symbolTies;
    std::vector<const Tensor*> m_bound; ///< per input, this run

    // Plan.
    bool m_planValid = false;
    std::vector<int64_t> m_planSignature;
    std::vector<int64_t> m_signature; ///< this run's, capacity reused
    std::byte* m_arena = nullptr;
    std::size_t m_arenaCapacity = 0;
    std::vector<std::byte*> m_dynamic; ///< per-tensor buffers of an unplanned run
    PlanStats m_stats;
    /// Inactive plans of other signatures (options.planCache - 1 at most), least recently used first.
    std::vector<std::unique_ptr<SavedPlan>> m_planCache;

    NodeCallback m_callback;
    std::mutex m_runMutex;
};

} // namespace ew::rt
