#include "cli.h"
#include "run_support.h"
#include "terminal_reporter.h"

#include "common/file_util.h"
#include "common/json_writer.h"
#include "layout/layout.h"
#include "layout/synthetic.h"
#include "layout_ir/ir_layout.h"

#include <cstdio>
#include <string>

namespace ew::cli {

namespace {

std::string xmlEscape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '&':
            out += "&amp;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

/// The drawing as SVG, to look at a layout without the GUI: frames, boxes, splines.
std::string toSvg(const layout::LayoutGraph& g, const layout::Drawing& d,
                  const std::vector<std::string>& labels) {
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"-10 -10 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
                  d.width + 20, d.height + 20, d.width + 20, d.height + 20);
    out += buf;
    for (std::size_t i = 0; i < d.groups.size(); ++i) {
        const auto& gb = d.groups[i];
        if (gb.state == layout::GroupBox::State::Hidden) continue;
        const bool open = gb.state == layout::GroupBox::State::Expanded;
        std::snprintf(
            buf, sizeof buf,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" fill=\"%s\" "
            "stroke=\"#8aa\"/>\n<text x=\"%.1f\" y=\"%.1f\">",
            gb.rect.x, gb.rect.y, gb.rect.w, gb.rect.h, open ? "#eef6f6" : "#cde", gb.rect.x + 6,
            gb.rect.y + (open ? 15 : gb.rect.h / 2 + 4));
        out += buf + xmlEscape(g.groups[i].label) + "</text>\n";
    }
    for (const auto& e : d.edges) {
        out += "<path fill=\"none\" stroke=\"#567\" d=\"";
        for (std::size_t k = 0; k < e.bezier.size(); ++k) {
            std::snprintf(buf, sizeof buf, "%s%.1f %.1f ",
                          k == 0       ? "M"
                          : k % 3 == 1 ? "C"
                                       : "",
                          e.bezier[k].x, e.bezier[k].y);
            out += buf;
        }
        out += "\"/>\n";
    }
    for (std::size_t i = 0; i < d.nodes.size(); ++i) {
        const auto& nb = d.nodes[i];
        if (!nb.visible) continue;
        std::snprintf(
            buf, sizeof buf,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"3\" fill=\"#fff\" "
            "stroke=\"#333\"/>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            nb.rect.x, nb.rect.y, nb.rect.w, nb.rect.h, nb.rect.centerX(),
            nb.rect.y + nb.rect.h / 2 + 4);
        out += buf + xmlEscape(i < labels.size() ? labels[i] : std::to_string(i)) + "</text>\n";
    }
    out += "</svg>\n";
    return out;
}

int runLayout(const ParsedArgs& args, const GlobalOptions& global) {
    const bool json = args.flag("json");
    const bool synthetic = args.flag("synthetic");
    if (synthetic == !args.positionals.empty())
        return usageError("layout", "give either MODEL or --synthetic N");
    if (args.flag("expand-all") && args.flag("collapse-depth"))
        return usageError("layout", "--expand-all and --collapse-depth exclude each other");
    std::int64_t nodesWanted = 0, seed = 1, depth = 0;
    if (synthetic) {
        auto n = parseCount(args.value("synthetic"));
        if (!n || *n < 1 || *n > 5000000)
            return usageError("layout", "--synthetic needs a number from 1 to 5000000");
        nodesWanted = *n;
    }
    if (args.flag("seed")) {
        auto s = parseCount(args.value("seed"));
        if (!s || *s < 0 || *s > 0xffffffffLL)
            return usageError("layout", "--seed needs a number from 0 to 4294967295");
        seed = *s;
    }
    if (args.flag("collapse-depth")) {
        auto s = parseCount(args.value("collapse-depth"));
        if (!s || *s < 0 || *s > 1000)
            return usageError("layout", "--collapse-depth needs a number from 0 to 1000");
        depth = *s;
    }

    TerminalReporter reporter(global.quiet || json, global.verbose);
    const std::int64_t t0 = nowNs();
    layout::LayoutGraph graph;
    std::vector<std::string> labels;
    std::string source;
    if (synthetic) {
        graph = layout::syntheticGraph(static_cast<std::size_t>(nodesWanted),
                                       static_cast<std::uint64_t>(seed));
        source = "synthetic:" + std::to_string(nodesWanted) + ":seed=" + std::to_string(seed);
    } else {
        source = args.positionals[0];
        auto model = loadModelForCli(source, reporter);
        reporter.finish();
        if (!model) return reportError(model.error(), true);
        layout::IrLayoutOptions io;
        io.initializers = args.flag("initializers");
        layout::IrLayoutGraph ig = layout::fromIr(*(*model)->graph, io);
        graph = std::move(ig.graph);
        labels = std::move(ig.nodeLabel);
    }
    const double prepareMs = msSince(t0);

    layout::LayoutOptions options;
    options.flatten = args.flag("flat");
    options.ordering =
        args.flag("baseline") ? layout::Ordering::Barycenter : layout::Ordering::Default;
    int collapseDepth = -1;
    if (!options.flatten) {
        if (args.flag("collapse-depth"))
            collapseDepth = static_cast<int>(depth);
        else if (!args.flag("expand-all"))
            collapseDepth = layout::defaultCollapseDepth(graph);
    }
    layout::Layout engine(graph, options);
    engine.setCollapseState(layout::collapseAtDepth(graph, collapseDepth));
    const layout::Drawing d = engine.run([&](std::string_view stage, double f) {
        reporter.progress(std::string("layout: ") + std::string(stage), f);
        return true;
    });
    reporter.finish();
    if (!d.error.empty()) {
        std::fprintf(stderr, "edgewise-cli: %s: invalid layout input: %s\n", source.c_str(),
                     d.error.c_str());
        return kExitFailure;
    }
    if (args.flag("svg")) {
        const std::string svg = toSvg(graph, d, labels);
        auto written = writeBytesAtomically(args.value("svg"),
                                            std::as_bytes(std::span(svg.data(), svg.size())));
        if (!written) return reportError(written.error(), false);
    }
    const auto& s = d.stats;
    const char* ordering =
        options.ordering == layout::Ordering::Barycenter ? "barycenter" : "default";
    if (json) {
        JsonWriter w(2);
        w.beginObject();
        w.key("source").value(source);
        w.key("nodes").value(static_cast<int64_t>(graph.nodes.size()));
        w.key("edges").value(static_cast<int64_t>(graph.edges.size()));
        w.key("layers").value(s.layers);
        w.key("crossings").value(static_cast<int64_t>(s.crossings));
        w.key("width").value(d.width);
        w.key("height").value(d.height);
        w.key("layout_ms").value(s.ms);
        w.key("prepare_ms").value(prepareMs);
        w.key("groups").value(static_cast<int64_t>(graph.groups.size()));
        w.key("collapse_depth").value(collapseDepth);
        w.key("flat").value(options.flatten);
        w.key("ordering").value(ordering);
        w.key("visible_nodes").value(s.visibleNodes);
        w.key("visible_groups").value(s.visibleGroups);
        w.key("collapsed_groups").value(s.collapsedGroups);
        w.key("drawn_edges").value(s.drawnEdges);
        w.key("dummy_nodes").value(static_cast<int64_t>(s.dummies));
        w.key("reversed_edges").value(s.reversedEdges);
        w.key("blocks").value(s.blocksLaidOut + s.blocksReused);
        w.endObject();
        std::printf("%s\n", w.str().c_str());
        return kExitOk;
    }
    std::printf("source:           %s\n", source.c_str());
    std::printf("nodes:            %zu (%d visible)\n", graph.nodes.size(), s.visibleNodes);
    std::printf("edges:            %zu (%d drawn)\n", graph.edges.size(), s.drawnEdges);
    if (options.flatten)
        std::printf("groups:           %zu (ignored: --flat)\n", graph.groups.size());
    else
        std::printf("groups:           %zu (%d visible, %d collapsed, collapse depth %s)\n",
                    graph.groups.size(), s.visibleGroups, s.collapsedGroups,
                    collapseDepth < 0 ? "none" : std::to_string(collapseDepth).c_str());
    std::printf("layers:           %d\n", s.layers);
    std::printf("crossings:        %lld (%s ordering)\n", static_cast<long long>(s.crossings),
                ordering);
    std::printf("dummy nodes:      %lld\n", static_cast<long long>(s.dummies));
    std::printf("reversed edges:   %d\n", s.reversedEdges);
    std::printf("width x height:   %.0f x %.0f\n", d.width, d.height);
    std::printf("layout:           %.1f ms (input prepared in %.1f ms)\n", s.ms, prepareMs);
    return kExitOk;
}

} // namespace

const Command& layoutCommand() {
    static const Command kCommand{
        .name = "layout",
        .summary = "Lay out a model's graph (layered drawing) and print its measures.",
        .usage = "layout MODEL [--json] | layout --synthetic N [--seed S] [--json]",
        .description =
            "Runs the graph view's layout on MODEL (or on a seeded random model-like DAG of N\n"
            "nodes) and prints the node and edge counts, layers, edge crossings, dummy nodes,\n"
            "drawing width and height, and the layout time in milliseconds.\n"
            "\n"
            "Nodes are grouped by name scope and nested graphs; by default groups are collapsed\n"
            "at the deepest depth that keeps at most 1500 visible items, as the GUI opens a\n"
            "model. --expand-all and --collapse-depth D choose otherwise; --flat ignores groups\n"
            "(one layered drawing of every node). --baseline orders layers by plain barycenter\n"
            "sweeps instead of the default crossing reduction, for comparison.\n"
            "\n"
            "With --json the keys are source, nodes, edges, layers, crossings, width, height,\n"
            "layout_ms, prepare_ms (loading and building the layout input), groups,\n"
            "collapse_depth (-1: none), flat, ordering, visible_nodes, visible_groups,\n"
            "collapsed_groups, drawn_edges, dummy_nodes, reversed_edges and blocks.\n",
        .options = {{"json", 0, {}, "Print JSON instead of text."},
                    {"synthetic", 0, "N", "Lay out a synthetic model-like graph with N nodes."},
                    {"seed", 0, "S", "Seed of the synthetic graph (default 1)."},
                    {"collapse-depth", 0, "D",
                     "Collapse every group at depth >= D (0: top level)."},
                    {"expand-all", 0, {}, "Expand every group."},
                    {"flat", 0, {}, "Ignore groups: one flat layered drawing."},
                    {"baseline", 0, {}, "Plain barycenter crossing reduction (for comparison)."},
                    {"initializers", 0, {}, "Show weights and constants as nodes."},
                    {"svg", 0, "FILE",
                     "Also write the drawing as SVG (to look at it without the GUI)."}},
        .minPositionals = 0,
        .maxPositionals = 1,
        .run = runLayout,
    };
    return kCommand;
}

} // namespace ew::cli
