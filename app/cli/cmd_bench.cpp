#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/cost.h"
#include "ir/shape_inference.h"
#include "runtime/session.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

namespace ew::cli {

namespace {

/// Linear interpolation between the closest ranks (numpy's default percentile).
double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    double pos = q * static_cast<double>(sorted.size() - 1);
    std::size_t lo = static_cast<std::size_t>(pos);
    std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

/// Per-node MACs for the shapes actually run. The session may execute a rewritten copy of the
/// graph (fused Conv chains keep the Conv's name), and a dynamic model's declared shapes give
/// only lower bounds, so costs come from a clone of the model with the run's input shapes and
/// re-inferred types, matched by node name; nodes without a unique name fall back to nodeCost
/// on the executed node.
class CostTable {
  public:
    CostTable(const ir::Model& model, const rt::Session::NamedTensors& inputs) {
        std::unique_ptr<ir::Model> m = model.clone();
        for (ir::Value* v : m->graph->inputs) {
            for (const auto& [name, t] : inputs)
                if (name == v->name) v->type = ir::Type::tensor(t.dtype(), ir::Shape::of(t.dims()));
        }
        ir::inferShapes(*m, ir::ShapeInferenceOptions{.overwriteDeclared = true});
        ir::ModelCost mc = ir::modelCost(*m);
        std::map<std::string, int> seen;
        for (const auto& n : m->graph->nodes())
            if (!n->name.empty()) ++seen[n->name];
        for (const auto& n : m->graph->nodes()) {
            if (n->name.empty() || seen[n->name] != 1) continue;
            auto it = mc.perNode.find(n.get());
            if (it != mc.perNode.end()) m_byName.emplace(n->name, it->second);
        }
    }
    ir::NodeCost costOf(const ir::Node& node) const {
        // A pointwise + depthwise pair carries the pointwise node's name: its own cost counts both.
        if (node.opType == "FusedPwDwConv" && node.domain == "ai.edgewise") {
            ir::NodeCost c = ir::nodeCost(node);
            if (c.macs > 0) return c;
        }
        if (!node.name.empty())
            if (auto it = m_byName.find(node.name); it != m_byName.end()) return it->second;
        return ir::nodeCost(node);
    }

  private:
    std::unordered_map<std::string, ir::NodeCost> m_byName;
};

struct NodeProfile {
    const ir::Node* node = nullptr;
    int64_t totalNs = 0;
    int64_t calls = 0;
    ir::NodeCost cost;
};

struct OpProfile {
    std::string op;
    int nodes = 0;
    double meanUs = 0; ///< per run, summed over the op's nodes
    int64_t macs = 0;
};

std::string gflopsText(int64_t macs, double us) {
    if (macs <= 0 || us <= 0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", 2.0 * static_cast<double>(macs) / (us * 1e3));
    return buf;
}

std::string mib(std::size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

int runBench(const ParsedArgs& args, const GlobalOptions& global) {
    auto count = [&](const char* name, int64_t def, int64_t lo, int64_t hi, int64_t& out) -> bool {
        out = def;
        if (!args.flag(name)) return true;
        auto n = parseCount(args.value(name));
        if (!n || *n < lo || *n > hi) return false;
        out = *n;
        return true;
    };
    int64_t threads = 0, warmup = 0, runs = 0, seed = 0;
    if (!count("threads", 0, 1, 1024, threads))
        return usageError("bench", "--threads needs a number from 1 to 1024");
    if (!count("warmup", 5, 0, 1000000, warmup))
        return usageError("bench", "--warmup needs a non-negative number");
    if (!count("runs", 30, 1, 10000000, runs))
        return usageError("bench", "--runs needs a positive number");
    if (!count("seed", 1, 0, 0xffffffffLL, seed))
        return usageError("bench", "--seed needs a number from 0 to 4294967295");
    const bool json = args.flag("json");
    const bool profile = args.flag("profile");
    const std::string path = args.positionals[0];

    TerminalReporter reporter(global.quiet || json, global.verbose);
    int64_t t0 = nowNs();
    auto model = loadModelForCli(path, reporter);
    reporter.finish();
    if (!model) return reportError(model.error(), true);
    const double loadMs = msSince(t0);

    rt::SessionOptions opts;
    opts.threads = static_cast<int>(threads);
    opts.int8Kernels = args.flag("int8");
    t0 = nowNs();
    auto created = rt::Session::create(**model, opts);
    const double initMs = msSince(t0);
    if (!created) return reportError(created.error(), true);
    rt::Session& session = **created;

    auto inputs = prepareInputs(session, args.values("input"), static_cast<uint32_t>(seed));
    if (!inputs) return reportError(inputs.error(), true);
    if (!global.quiet)
        for (const std::string& note : inputs->randomNotes)
            std::fprintf(stderr, "edgewise-cli: %s\n", note.c_str());

    std::vector<rt::Tensor> outputs;
    t0 = nowNs();
    if (auto r = session.run(inputs->tensors, outputs); !r) return reportError(r.error(), false);
    const double firstMs = msSince(t0);
    for (int64_t i = 0; i < warmup; ++i)
        if (auto r = session.run(inputs->tensors, outputs); !r)
            return reportError(r.error(), false);

    // Profiling runs during the timed runs: the callback costs two clock reads per node.
    std::vector<NodeProfile> nodes;
    if (profile) {
        for (const ir::Node* n : session.executionOrder())
            nodes.push_back(NodeProfile{n, 0, 0, {}});
        session.setNodeCallback([&nodes](const rt::NodeEvent& e) {
            if (e.step >= 0 && static_cast<std::size_t>(e.step) < nodes.size()) {
                nodes[e.step].totalNs += e.elapsedNs;
                ++nodes[e.step].calls;
            }
        });
    }
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(runs));
    for (int64_t i = 0; i < runs; ++i) {
        t0 = nowNs();
        auto r = session.run(inputs->tensors, outputs);
        double ms = msSince(t0);
        if (!r) return reportError(r.error(), false);
        times.push_back(ms);
    }
    session.setNodeCallback({});
    const rt::PlanStats plan = session.planStats();
    const std::size_t peakRss = peakRssBytes();

    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    const double mean =
        std::accumulate(times.begin(), times.end(), 0.0) / static_cast<double>(times.size());
    const double median = percentile(sorted, 0.5), p90 = percentile(sorted, 0.9),
                 p99 = percentile(sorted, 0.99);

    // Profile tables.
    double nodeTotalUs = 0;
    std::vector<OpProfile> ops;
    if (profile) {
        CostTable costs(**model, inputs->tensors);
        std::map<std::string, std::size_t> opIndex;
        for (NodeProfile& n : nodes) {
            n.cost = costs.costOf(*n.node);
            double us =
                n.calls ? static_cast<double>(n.totalNs) / 1e3 / static_cast<double>(runs) : 0;
            nodeTotalUs += us;
            std::string op = n.node->qualifiedOp();
            auto [it, fresh] = opIndex.emplace(op, ops.size());
            if (fresh) ops.push_back(OpProfile{op});
            OpProfile& o = ops[it->second];
            ++o.nodes;
            o.meanUs += us;
            o.macs += n.cost.macs;
        }
        std::sort(ops.begin(), ops.end(),
                  [](const OpProfile& a, const OpProfile& b) { return a.meanUs > b.meanUs; });
    }
    auto nodeUs = [&](const NodeProfile& n) {
        return static_cast<double>(n.totalNs) / 1e3 / static_cast<double>(runs);
    };
    auto share = [&](double us) { return nodeTotalUs > 0 ? 100.0 * us / nodeTotalUs : 0.0; };
    int64_t totalMacs = 0;
    bool macsExact = true;
    for (const NodeProfile& n : nodes) {
        totalMacs += n.cost.macs;
        macsExact = macsExact && n.cost.exact;
    }

    if (json) {
        JsonWriter w(2);
        w.beginObject();
        w.key("model").value(path);
        w.key("threads").value(session.threads());
        w.key("warmup").value(warmup);
        w.key("runs").value(runs);
        w.key("inputs").beginArray();
        for (std::size_t i = 0; i < inputs->tensors.size(); ++i) {
            w.beginObject();
            w.key("name").value(inputs->tensors[i].first);
            w.key("type").value(
                rt::describe(inputs->tensors[i].second.dtype(), inputs->tensors[i].second.dims()));
            w.key("source").value(inputs->sources[i]);
            w.endObject();
        }
        w.endArray();
        w.key("load_ms").value(loadMs);
        w.key("init_ms").value(initMs);
        w.key("first_run_ms").value(firstMs);
        w.key("min_ms").value(sorted.front());
        w.key("mean_ms").value(mean);
        w.key("median_ms").value(median);
        w.key("p90_ms").value(p90);
        w.key("p99_ms").value(p99);
        w.key("max_ms").value(sorted.back());
        w.key("peak_memory_bytes").value(static_cast<uint64_t>(peakRss));
        w.key("arena_bytes").value(static_cast<uint64_t>(plan.arenaBytes));
        w.key("tensor_bytes").value(static_cast<uint64_t>(plan.tensorBytes));
        w.key("in_place").value(plan.inPlaceCount);
        w.key("times_ms").beginArray(true);
        for (double t : times)
            w.value(t);
        w.endArray();
        if (profile) {
            w.key("macs").value(totalMacs);
            w.key("macs_exact").value(macsExact);
        }
        w.key("ops").beginArray();
        for (const NodeProfile& n : nodes) {
            double us = nodeUs(n);
            w.beginObject();
            w.key("node").value(n.node->displayName());
            w.key("op").value(n.node->qualifiedOp());
            w.key("mean_us").value(us);
            w.key("percent").value(share(us));
            w.key("macs").value(n.cost.macs);
            w.endObject();
        }
        w.endArray();
        if (profile) {
            w.key("op_types").beginArray();
            for (const OpProfile& o : ops) {
                w.beginObject();
                w.key("op").value(o.op);
                w.key("nodes").value(o.nodes);
                w.key("mean_us").value(o.meanUs);
                w.key("percent").value(share(o.meanUs));
                w.key("macs").value(o.macs);
                w.endObject();
            }
            w.endArray();
        }
        w.endObject();
        std::printf("%s\n", w.str().c_str());
        return kExitOk;
    }

    std::printf("model       %s\n", path.c_str());
    std::printf("threads     %d, warmup %lld, runs %lld\n", session.threads(),
                static_cast<long long>(warmup), static_cast<long long>(runs));
    for (std::size_t i = 0; i < inputs->tensors.size(); ++i)
        std::printf(
            "input       %s: %s (%s)\n", inputs->tensors[i].first.c_str(),
            rt::describe(inputs->tensors[i].second.dtype(), inputs->tensors[i].second.dims())
                .c_str(),
            inputs->sources[i].c_str());
    std::printf("load        %.3f ms\n", loadMs);
    std::printf("init        %.3f ms (session creation)\n", initMs);
    std::printf("first run   %.3f ms\n", firstMs);
    std::printf("runs        min %.3f  mean %.3f  median %.3f  p90 %.3f  p99 %.3f  max %.3f ms\n",
                sorted.front(), mean, median, p90, p99, sorted.back());
    std::printf("arena       %s (%s without reuse, %d outputs in place)\n",
                mib(plan.arenaBytes).c_str(), mib(plan.tensorBytes).c_str(), plan.inPlaceCount);
    std::printf("peak RSS    %s\n", mib(peakRss).c_str());
    if (!profile) return kExitOk;

    std::printf("\nPer op type (mean per run; %s MACs%s):\n", std::to_string(totalMacs).c_str(),
                macsExact ? "" : ", lower bound");
    std::printf("  %-28s %6s %12s %7s %14s %9s\n", "op", "nodes", "time us", "share", "MACs",
                "GFLOP/s");
    for (const OpProfile& o : ops)
        std::printf("  %-28s %6d %12.1f %6.1f%% %14lld %9s\n", o.op.c_str(), o.nodes, o.meanUs,
                    share(o.meanUs), static_cast<long long>(o.macs),
                    gflopsText(o.macs, o.meanUs).c_str());

    std::vector<const NodeProfile*> byTime;
    for (const NodeProfile& n : nodes)
        byTime.push_back(&n);
    std::stable_sort(byTime.begin(), byTime.end(), [](const NodeProfile* a, const NodeProfile* b) {
        return a->totalNs > b->totalNs;
    });
    const std::size_t shown =
        global.verbose ? byTime.size() : std::min<std::size_t>(byTime.size(), 25);
    std::printf("\nPer node, slowest first (%zu of %zu%s):\n", shown, byTime.size(),
                shown < byTime.size() ? "; -v for all" : "");
    int nameWidth = 4, opWidth = 2;
    for (std::size_t i = 0; i < shown; ++i) {
        nameWidth = std::max(nameWidth, static_cast<int>(byTime[i]->node->displayName().size()));
        opWidth = std::max(opWidth, static_cast<int>(byTime[i]->node->qualifiedOp().size()));
    }
    std::printf("  %-*s %-*s %12s %7s %14s %9s\n", nameWidth, "node", opWidth, "op", "time us",
                "share", "MACs", "GFLOP/s");
    for (std::size_t i = 0; i < shown; ++i) {
        const NodeProfile& n = *byTime[i];
        double us = nodeUs(n);
        std::printf("  %-*s %-*s %12.1f %6.1f%% %14lld %9s\n", nameWidth,
                    n.node->displayName().c_str(), opWidth, n.node->qualifiedOp().c_str(), us,
                    share(us), static_cast<long long>(n.cost.macs),
                    gflopsText(n.cost.macs, us).c_str());
    }
    return kExitOk;
}

} // namespace

const Command& benchCommand() {
    static const Command kCommand{
        .name = "bench",
        .summary = "Time a model on the CPU runtime: init, first run, run statistics, memory, "
                   "per-op profile.",
        .usage = "bench MODEL [--input NAME=FILE]... [--threads N] [--warmup W] [--runs R] "
                 "[--profile] [--int8] [--json]",
        .description =
            "Creates a session (init time), runs once (first-run time: includes shape\n"
            "preparation and building the memory plan), then W untimed warm-up runs and R timed\n"
            "runs: min/mean/median/p90/p99/max in milliseconds. Also the planned arena size and\n"
            "the process's peak resident memory.\n"
            "\n"
            "Inputs as for `run`: --input NAME=FILE (.npy or TensorProto .pb), the rest seeded\n"
            "random data of the declared shape with symbolic dims set to 1.\n"
            "\n"
            "--profile times every node during the timed runs and prints a per-op-type and a\n"
            "per-node table: mean time per run, share of the node total, MACs (for the shapes\n"
            "run) and GFLOP/s (2 x MACs / time).\n"
            "\n"
            "--int8 runs QDQ patterns (DequantizeLinear -> Conv/Gemm/MatMul/Add/MaxPool ->\n"
            "QuantizeLinear) as fused integer kernels (SessionOptions::int8Kernels, off by\n"
            "default: the Q/DQ nodes then run in float).\n"
            "\n"
            "--json prints one object: init_ms, first_run_ms, min_ms, mean_ms, median_ms,\n"
            "p90_ms, p99_ms, max_ms, peak_memory_bytes, arena_bytes, threads, runs, ops[{node,\n"
            "op, mean_us, percent, macs}] (empty without --profile) and op_types.\n",
        .options = {{"input", 'i', "NAME=FILE",
                     "Input tensor from a .npy or TensorProto .pb file (repeatable)."},
                    {"threads", 't', "N",
                     "Threads including the caller (default: physical cores)."},
                    {"warmup", 0, "W", "Untimed runs after the first (default 5)."},
                    {"runs", 'n', "R", "Timed runs (default 30)."},
                    {"profile", 'p', {}, "Per-node and per-op-type timing tables."},
                    {"int8", 0, {}, "Fused integer kernels for QDQ patterns (SessionOptions::int8Kernels)."},
                    {"json", 0, {}, "Machine-readable output."},
                    {"seed", 0, "S", "Seed of the random inputs (default 1)."}},
        .minPositionals = 1,
        .maxPositionals = 1,
        .run = runBench,
    };
    return kCommand;
}

} // namespace ew::cli
