// bench_layout: graph layout time and quality (crossings, dummies, size) on seeded synthetic
// graphs (1k, 10k, 50k nodes; flat, default-collapsed and fully expanded) and on the largest
// real models under the shared models folder (flat and default-collapsed). Each case runs RUNS
// times (min and median ms); crossings of the plain barycenter baseline come alongside.
// Prints a table, then one JSON line.
#include "common/json_writer.h"
#include "ir/io/model_io.h"
#include "layout/layout.h"
#include "layout/synthetic.h"
#include "layout_ir/ir_layout.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#ifndef EW_MODELS_DIR
#define EW_MODELS_DIR ""
#endif

namespace {

using namespace ew::layout;

struct Row {
    std::string name;
    std::string mode;
    std::size_t nodes = 0, edges = 0;
    int visible = 0, layers = 0;
    long long crossings = 0, baseline = 0, dummies = 0;
    double width = 0, height = 0, minMs = 0, medianMs = 0;
};

Row measure(const std::string& name, const std::string& mode, const LayoutGraph& g, int runs) {
    LayoutOptions opt;
    int depth = -1;
    if (mode == "flat")
        opt.flatten = true;
    else if (mode == "default")
        depth = defaultCollapseDepth(g);
    const CollapseState state = collapseAtDepth(g, depth);
    std::vector<double> ms;
    Drawing d;
    for (int i = 0; i < runs; ++i) {
        d = layoutGraph(g, state, opt); // fresh object each time: no cache reuse
        ms.push_back(d.stats.ms);
    }
    std::sort(ms.begin(), ms.end());
    LayoutOptions base = opt;
    base.ordering = Ordering::Barycenter;
    const Drawing b = layoutGraph(g, state, base);
    Row r;
    r.name = name;
    r.mode = mode == "default" ? (depth >= 0 ? "default (depth " + std::to_string(depth) + ")"
                                             : "default (all open)")
                               : mode;
    r.nodes = g.nodes.size();
    r.edges = g.edges.size();
    r.visible = d.stats.visibleNodes + d.stats.collapsedGroups;
    r.layers = d.stats.layers;
    r.crossings = d.stats.crossings;
    r.baseline = b.stats.crossings;
    r.dummies = d.stats.dummies;
    r.width = d.width;
    r.height = d.height;
    r.minMs = ms.front();
    r.medianMs =
        ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    return r;
}

} // namespace

int main(int argc, char** argv) {
    int runs = 3;
    std::string models = EW_MODELS_DIR;
    int topModels = 4;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "-n" || a == "--runs") && i + 1 < argc)
            runs = std::atoi(argv[++i]);
        else if (a == "--models" && i + 1 < argc)
            models = argv[++i];
        else if (a == "--top" && i + 1 < argc)
            topModels = std::atoi(argv[++i]);
        else {
            std::printf(
                "Usage: bench_layout [-n RUNS] [--models DIR] [--top K]\n"
                "Times the graph layout on synthetic graphs and the K largest models in DIR.\n");
            return a == "-h" || a == "--help" ? 0 : 2;
        }
    }
    if (runs < 1) runs = 1;
    std::vector<Row> rows;
    for (std::size_t n : {1000, 10000, 50000}) {
        const LayoutGraph g = syntheticGraph(n, 1);
        const std::string name = "synthetic " + std::to_string(n / 1000) + "k";
        for (const char* mode : {"flat", "default", "expanded"}) {
            rows.push_back(measure(name, mode, g, runs));
            std::fprintf(stderr, "%s %s: %.0f ms\n", name.c_str(), mode, rows.back().minMs);
        }
    }
    // Incremental: 50k synthetic with stages open and blocks closed; then open one block, which
    // re-lays out that block, its stage and the root and reuses every other stage.
    struct Incremental {
        double firstMs = 0, expandMs = 0, collapseMs = 0;
        int laidOut = 0, reused = 0, visible = 0;
    } inc;
    {
        const LayoutGraph g = syntheticGraph(50000, 1);
        const auto depths = groupDepths(g);
        GroupId block = -1;
        for (std::size_t i = 0; i < depths.size() && block < 0; ++i)
            if (depths[i] == 1 && g.groups[g.groups[i].parent].label == "stage40")
                block = static_cast<GroupId>(i);
        std::vector<double> first, expand, collapse;
        for (int i = 0; i < runs; ++i) {
            Layout l(g);
            l.setCollapseState(collapseAtDepth(g, 1));
            const Drawing a = l.run();
            first.push_back(a.stats.ms);
            inc.visible = a.stats.visibleNodes + a.stats.collapsedGroups;
            l.setCollapsed(block, false);
            const Drawing b = l.run();
            expand.push_back(b.stats.ms);
            inc.laidOut = b.stats.blocksLaidOut;
            inc.reused = b.stats.blocksReused;
            l.setCollapsed(block, true);
            collapse.push_back(l.run().stats.ms);
        }
        inc.firstMs = *std::min_element(first.begin(), first.end());
        inc.expandMs = *std::min_element(expand.begin(), expand.end());
        inc.collapseMs = *std::min_element(collapse.begin(), collapse.end());
    }
    // The largest real models by node count.
    std::vector<std::pair<std::size_t, std::pair<std::string, LayoutGraph>>> real;
    std::error_code ec;
    const std::filesystem::path onnxDir = std::filesystem::path(models) / "onnx";
    if (!models.empty() && std::filesystem::is_directory(onnxDir, ec)) {
        std::vector<std::string> paths;
        for (const auto& e : std::filesystem::recursive_directory_iterator(onnxDir, ec))
            if (e.is_regular_file() && e.path().extension() == ".onnx")
                paths.push_back(e.path().string());
        std::sort(paths.begin(), paths.end());
        for (const auto& p : paths) {
            auto m = ew::ir::loadModel(p);
            if (!m) continue;
            IrLayoutGraph ig = fromIr(*(*m)->graph);
            real.push_back({ig.graph.nodes.size(),
                            {std::filesystem::path(p).stem().string(), std::move(ig.graph)}});
        }
        std::stable_sort(real.begin(), real.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        if (static_cast<int>(real.size()) > topModels) real.resize(topModels);
    } else {
        std::fprintf(stderr, "bench_layout: no models folder at %s; synthetic graphs only\n",
                     onnxDir.c_str());
    }
    for (const auto& [count, named] : real)
        for (const char* mode : {"flat", "default"})
            rows.push_back(measure(named.first, mode, named.second, runs));

    std::printf("%-30s %-20s %7s %7s %7s %6s %9s %9s %8s %9s %9s %9s %9s\n", "graph", "mode",
                "nodes", "edges", "visible", "layers", "crossings", "baseline", "dummies", "width",
                "height", "min ms", "median ms");
    for (const auto& r : rows)
        std::printf("%-30s %-20s %7zu %7zu %7d %6d %9lld %9lld %8lld %9.0f %9.0f %9.1f %9.1f\n",
                    r.name.c_str(), r.mode.c_str(), r.nodes, r.edges, r.visible, r.layers,
                    r.crossings, r.baseline, r.dummies, r.width, r.height, r.minMs, r.medianMs);
    std::printf("\nincremental, synthetic 50k, stages open and blocks closed (%d visible items): "
                "first run %.1f ms, "
                "open one block %.1f ms (%d sub-layouts laid out, %d reused), close it again %.1f "
                "ms (min of %d)\n",
                inc.visible, inc.firstMs, inc.expandMs, inc.laidOut, inc.reused, inc.collapseMs,
                runs);
    ew::JsonWriter w(0);
    w.beginObject();
    w.key("runs").value(runs);
    w.key("incremental")
        .beginObject()
        .key("visible")
        .value(inc.visible)
        .key("first_ms")
        .value(inc.firstMs)
        .key("expand_ms")
        .value(inc.expandMs)
        .key("collapse_ms")
        .value(inc.collapseMs)
        .key("laid_out")
        .value(inc.laidOut)
        .key("reused")
        .value(inc.reused)
        .endObject();
    w.key("cases").beginArray();
    for (const auto& r : rows) {
        w.beginObject();
        w.key("graph").value(r.name);
        w.key("mode").value(r.mode);
        w.key("nodes").value(static_cast<int64_t>(r.nodes));
        w.key("edges").value(static_cast<int64_t>(r.edges));
        w.key("visible").value(r.visible);
        w.key("layers").value(r.layers);
        w.key("crossings").value(static_cast<int64_t>(r.crossings));
        w.key("baseline_crossings").value(static_cast<int64_t>(r.baseline));
        w.key("dummy_nodes").value(static_cast<int64_t>(r.dummies));
        w.key("width").value(r.width);
        w.key("height").value(r.height);
        w.key("min_ms").value(r.minMs);
        w.key("median_ms").value(r.medianMs);
        w.endObject();
    }
    w.endArray();
    w.endObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
}
