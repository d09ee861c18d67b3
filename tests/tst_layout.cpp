// ew_layout (layered compound graph layout), its IR adapter and `edgewise-cli layout`:
// geometry invariants (no overlaps, edges downwards through consecutive layers), optimal
// crossings on small known graphs, determinism, cancel, incremental re-layout, real models
// against the barycenter baseline, the 50k synthetic graph and the CLI's exit codes and JSON.
#include "test_util.h"

#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "layout/layout.h"
#include "layout/synthetic.h"
#include "layout_ir/ir_layout.h"

#include <QDirIterator>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <numeric>
#include <set>
#include <thread>

using namespace ew::layout;

Q_DECLARE_METATYPE(ew::layout::LayoutGraph)

namespace {

constexpr double kEps = 1e-6;

QString str(const Rect& r) {
    return QString("(%1, %2, %3 x %4)").arg(r.x).arg(r.y).arg(r.w).arg(r.h);
}

const Rect& rectOf(const Drawing& d, const ItemRef& r) {
    return r.kind == ItemRef::Kind::Node ? d.nodes[r.id].rect : d.groups[r.id].rect;
}

/// Boxes of one level never overlap: per layer, sorted by x, neighbours are apart, and layers
/// occupy disjoint horizontal bands. Children lie inside their expanded parent's frame, so boxes
/// of different levels cannot overlap either. Small drawings are also checked pair by pair.
QString checkNoOverlap(const Drawing& d) {
    struct Box {
        Rect r;
        QString name;
    };
    std::map<GroupId, std::map<int, std::vector<Box>>> levels;
    for (std::size_t i = 0; i < d.nodes.size(); ++i)
        if (d.nodes[i].visible)
            levels[d.nodes[i].level][d.nodes[i].layer].push_back(
                {d.nodes[i].rect, QString("node %1").arg(i)});
    for (std::size_t i = 0; i < d.groups.size(); ++i)
        if (d.groups[i].state != GroupBox::State::Hidden)
            levels[d.groups[i].level][d.groups[i].layer].push_back(
                {d.groups[i].rect, QString("group %1").arg(i)});
    for (auto& [level, layers] : levels) {
        double prevBottom = -1e300;
        int prevLayer = -1;
        for (auto& [layer, boxes] : layers) {
            if (layer <= prevLayer) return "layers out of order";
            std::sort(boxes.begin(), boxes.end(),
                      [](const Box& a, const Box& b) { return a.r.x < b.r.x; });
            double top = 1e300, bottom = -1e300;
            for (std::size_t k = 0; k < boxes.size(); ++k) {
                top = std::min(top, boxes[k].r.y);
                bottom = std::max(bottom, boxes[k].r.bottom());
                if (k && boxes[k - 1].r.x + boxes[k - 1].r.w > boxes[k].r.x + kEps)
                    return boxes[k - 1].name + " " + str(boxes[k - 1].r) + " overlaps " +
                           boxes[k].name + " " + str(boxes[k].r);
            }
            if (top < prevBottom - kEps)
                return QString("layer %1 of level %2 overlaps the layer above")
                    .arg(layer)
                    .arg(level);
            prevBottom = bottom;
            prevLayer = layer;
        }
        if (level == kRootGroup) continue;
        if (d.groups[level].state != GroupBox::State::Expanded)
            return QString("level %1 is not expanded").arg(level);
        const Rect& f = d.groups[level].rect;
        for (auto& [layer, boxes] : layers)
            for (const Box& b : boxes)
                if (b.r.x < f.x - kEps || b.r.y < f.y - kEps || b.r.x + b.r.w > f.x + f.w + kEps ||
                    b.r.bottom() > f.bottom() + kEps)
                    return b.name + " " + str(b.r) + " sticks out of its group frame " + str(f);
    }
    std::vector<Rect> boxes;
    for (const auto& n : d.nodes)
        if (n.visible) boxes.push_back(n.rect);
    for (const auto& g : d.groups)
        if (g.state == GroupBox::State::Collapsed) boxes.push_back(g.rect);
    if (boxes.size() <= 3000)
        for (std::size_t i = 0; i < boxes.size(); ++i)
            for (std::size_t j = i + 1; j < boxes.size(); ++j) {
                const Rect &a = boxes[i], &b = boxes[j];
                if (a.x + a.w > b.x + kEps && b.x + b.w > a.x + kEps && a.bottom() > b.y + kEps &&
                    b.bottom() > a.y + kEps)
                    return "boxes " + str(a) + " and " + str(b) + " overlap";
            }
    return {};
}

/// Every drawn edge runs downwards from layer L to L+1 through one dummy per layer, its spline
/// starts and ends at the boxes, and every visible original edge is drawn exactly once.
QString checkEdges(const LayoutGraph& g, const Drawing& d) {
    auto itemLevelLayer = [&](const ItemRef& r) {
        return r.kind == ItemRef::Kind::Node
                   ? std::pair{d.nodes[r.id].level, d.nodes[r.id].layer}
                   : std::pair{d.groups[r.id].level, d.groups[r.id].layer};
    };
    std::vector<int> drawnCount(g.edges.size(), 0);
    for (std::size_t i = 0; i < d.edges.size(); ++i) {
        const DrawnEdge& e = d.edges[i];
        const QString name = QString("drawn edge %1").arg(i);
        if (e.fromLayer >= e.toLayer) return name + " does not point downwards";
        if (static_cast<int>(e.dummies.size()) != e.toLayer - e.fromLayer - 1)
            return name + QString(": %1 dummies for layers %2 -> %3")
                              .arg(e.dummies.size())
                              .arg(e.fromLayer)
                              .arg(e.toLayer);
        if (itemLevelLayer(e.fromItem) != std::pair{e.level, e.fromLayer})
            return name + ": source item not on fromLayer";
        if (itemLevelLayer(e.toItem) != std::pair{e.level, e.toLayer})
            return name + ": target item not on toLayer";
        double y = rectOf(d, e.fromItem).bottom();
        for (const Point& p : e.dummies) {
            if (p.y <= y) return name + ": dummies not strictly below each other";
            y = p.y;
        }
        if (rectOf(d, e.toItem).y <= y) return name + ": target not below the last dummy";
        if (e.bezier.size() < 4 || e.bezier.size() % 3 != 1)
            return name + ": bezier is not 1 + 3k points";
        const Rect &fr = rectOf(d, e.from), &tr = rectOf(d, e.to);
        if (!(e.bezier.front() == Point{fr.centerX(), fr.bottom()}))
            return name + ": spline does not start at the source";
        if (!(e.bezier.back() == Point{tr.centerX(), tr.y}))
            return name + ": spline does not end at the target";
        for (std::size_t k = 1; k < e.bezier.size(); ++k)
            if (e.bezier[k].y < e.bezier[k - 1].y - kEps) return name + ": spline goes up";
        if (e.legs.empty()) return name + ": no legs";
        int mainLegs = 0;
        for (const EdgeLeg& leg : e.legs) {
            if (leg.fromLayer >= leg.toLayer) return name + ": a leg does not point downwards";
            if (static_cast<int>(leg.dummies.size()) != leg.toLayer - leg.fromLayer - 1)
                return name + ": leg dummies";
            double y = leg.start.y;
            for (const Point& p : leg.dummies) {
                if (p.y <= y) return name + ": leg dummies not strictly below each other";
                y = p.y;
            }
            if (leg.end.y <= y) return name + ": leg end above its dummies";
            if (leg.level == e.level && leg.fromLayer == e.fromLayer && leg.toLayer == e.toLayer)
                ++mainLegs;
        }
        if (mainLegs != 1) return name + ": the level's leg is missing";
        std::vector<Point> allDummies;
        for (const EdgeLeg& leg : e.legs)
            allDummies.insert(allDummies.end(), leg.dummies.begin(), leg.dummies.end());
        for (const Point& p : allDummies) {
            bool through = false;
            for (std::size_t k = 0; k < e.bezier.size(); k += 3)
                through |= std::abs(e.bezier[k].x - p.x) < kEps && e.bezier[k].y <= p.y + kEps;
            if (!through) return name + ": spline misses a dummy";
        }
        if (!std::is_sorted(e.edges.begin(), e.edges.end()) || e.edges.empty())
            return name + ": bad original edge list";
        for (EdgeId o : e.edges)
            ++drawnCount[o];
    }
    auto visible = [&](NodeId v) -> ItemRef {
        if (d.nodes[v].visible) return {ItemRef::Kind::Node, v};
        return {ItemRef::Kind::Group, d.nodes[v].shownBy};
    };
    for (std::size_t i = 0; i < g.edges.size(); ++i) {
        const auto& e = g.edges[i];
        const bool hiddenEnd = !d.nodes[e.from].visible && d.nodes[e.from].shownBy == kRootGroup;
        const bool shouldDraw = e.from != e.to && !hiddenEnd && !(visible(e.from) == visible(e.to));
        if (drawnCount[i] != (shouldDraw ? 1 : 0))
            return QString("original edge %1 drawn %2 times").arg(i).arg(drawnCount[i]);
    }
    return {};
}

/// Minimum crossings of a two-layer graph (sources `a` on top, `b` below) by trying every order.
long long bruteForceTwoLayer(int a, int b, const std::vector<std::pair<int, int>>& edges) {
    std::vector<int> pa(a), pb(b);
    std::iota(pa.begin(), pa.end(), 0);
    long long best = -1;
    do {
        std::iota(pb.begin(), pb.end(), 0);
        do {
            long long c = 0;
            for (std::size_t i = 0; i < edges.size(); ++i)
                for (std::size_t j = i + 1; j < edges.size(); ++j) {
                    const int u1 = pa[edges[i].first], v1 = pb[edges[i].second];
                    const int u2 = pa[edges[j].first], v2 = pb[edges[j].second];
                    c += (u1 < u2 && v1 > v2) || (u1 > u2 && v1 < v2);
                }
            if (best < 0 || c < best) best = c;
        } while (std::next_permutation(pb.begin(), pb.end()));
    } while (std::next_permutation(pa.begin(), pa.end()));
    return best;
}

LayoutGraph twoLayer(int a, int b, const std::vector<std::pair<int, int>>& edges) {
    LayoutGraph g;
    g.nodes.resize(a + b);
    for (auto [u, v] : edges)
        g.edges.push_back({u, a + v});
    return g;
}

/// A fixed-seed random bipartite graph where every node has an edge (a small LCG: the rows must
/// not change with the standard library).
std::vector<std::pair<int, int>> randomBipartite(int a, int b, unsigned seed) {
    unsigned s = seed * 2654435761u + 12345u;
    auto rnd = [&] {
        s = s * 1103515245u + 12345u;
        return (s >> 8) % 100;
    };
    std::set<std::pair<int, int>> e;
    for (int u = 0; u < a; ++u)
        for (int v = 0; v < b; ++v)
            if (rnd() < 35) e.insert({u, v});
    for (int u = 0; u < a; ++u)
        if (std::none_of(e.begin(), e.end(), [&](auto x) { return x.first == u; }))
            e.insert({u, static_cast<int>(rnd() % b)});
    for (int v = 0; v < b; ++v)
        if (std::none_of(e.begin(), e.end(), [&](auto x) { return x.second == v; }))
            e.insert({static_cast<int>(rnd() % a), v});
    return {e.begin(), e.end()};
}

QString compareDrawings(const Drawing& a, const Drawing& b) {
    if (a.nodes.size() != b.nodes.size() || a.groups.size() != b.groups.size() ||
        a.edges.size() != b.edges.size())
        return "different sizes";
    for (std::size_t i = 0; i < a.nodes.size(); ++i)
        if (!(a.nodes[i].rect == b.nodes[i].rect) || a.nodes[i].layer != b.nodes[i].layer ||
            a.nodes[i].visible != b.nodes[i].visible || a.nodes[i].level != b.nodes[i].level)
            return QString("node %1 differs").arg(i);
    for (std::size_t i = 0; i < a.groups.size(); ++i)
        if (!(a.groups[i].rect == b.groups[i].rect) || a.groups[i].state != b.groups[i].state ||
            a.groups[i].layer != b.groups[i].layer)
            return QString("group %1 differs").arg(i);
    for (std::size_t i = 0; i < a.edges.size(); ++i)
        if (a.edges[i].bezier != b.edges[i].bezier || a.edges[i].edges != b.edges[i].edges ||
            !(a.edges[i].from == b.edges[i].from) || !(a.edges[i].to == b.edges[i].to))
            return QString("drawn edge %1 differs").arg(i);
    if (a.width != b.width || a.height != b.height || a.stats.crossings != b.stats.crossings ||
        a.stats.dummies != b.stats.dummies || a.stats.layers != b.stats.layers)
        return "stats differ";
    return {};
}

QString cliPath() {
    QString dir = ew::test::binDir();
    if (dir.isEmpty()) dir = QCoreApplication::applicationDirPath() + "/../bin";
    return QDir(dir).absoluteFilePath("edgewise-cli");
}

struct CliRun {
    int exitCode = -1;
    QByteArray out, err;
};

CliRun runCli(const QStringList& args) {
    QProcess p;
    p.start(cliPath(), args);
    CliRun r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished();
        r.err = "could not run " + cliPath().toUtf8();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QStringList realModels() {
    QStringList out;
    const QString dir = ew::test::modelsDir() + "/onnx";
    QDirIterator it(dir, {"*.onnx"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << it.next();
    out.sort();
    return out;
}

} // namespace

class TestLayout : public QObject {
    Q_OBJECT
  private slots:
    void geometry_data();
    void geometry();
    void optimalCrossings_data();
    void optimalCrossings();
    void cyclesAreReversed();
    void collapsedGroupsLiftEdges();
    void invalidInput();
    void deterministic();
    void cancel();
    void progressIsThrottled();
    void cancelFromAnotherThread();
    void incrementalReusesUntouchedGroups();
    void defaultCollapseDepth();
    void scopeOf_data();
    void scopeOf();
    void irAdapter();
    void realModels_data();
    void realModels();
    void synthetic50k();
    void cli_data();
    void cli();
};

void TestLayout::geometry_data() {
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("mode"); // 0 flat, 1 default collapse, 2 expand all, 3 collapse depth 1
    QTest::addColumn<int>("seed");
    QTest::newRow("empty") << 0 << 0 << 1;
    QTest::newRow("one node") << 1 << 0 << 1;
    QTest::newRow("300 flat") << 300 << 0 << 1;
    QTest::newRow("300 flat seed 7") << 300 << 0 << 7;
    QTest::newRow("2000 expanded") << 2000 << 2 << 3;
    QTest::newRow("2000 stages collapsed") << 2000 << 3 << 3;
    QTest::newRow("5000 default collapse") << 5000 << 1 << 5;
    QTest::newRow("5000 flat") << 5000 << 0 << 5;
}

void TestLayout::geometry() {
    QFETCH(int, nodes);
    QFETCH(int, mode);
    QFETCH(int, seed);
    const LayoutGraph g = syntheticGraph(nodes, seed);
    QCOMPARE(static_cast<int>(g.nodes.size()), nodes);
    QCOMPARE(validate(g), std::string());
    LayoutOptions o;
    o.flatten = mode == 0;
    const int depth = mode == 1 ? ::ew::layout::defaultCollapseDepth(g) : mode == 3 ? 1 : -1;
    const Drawing d = layoutGraph(g, collapseAtDepth(g, depth), o);
    QVERIFY(d.ok());
    QString err = checkNoOverlap(d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkEdges(g, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    if (d.stats.reversedEdges == 0) QCOMPARE(countCrossings(d), d.stats.crossings);
    QVERIFY(countCrossings(d) <= d.stats.crossings);
    LayoutOptions base = o;
    base.ordering = Ordering::Barycenter;
    const Drawing b = layoutGraph(g, collapseAtDepth(g, depth), base);
    QVERIFY2(
        d.stats.crossings <= b.stats.crossings,
        qPrintable(
            QString("%1 crossings, baseline %2").arg(d.stats.crossings).arg(b.stats.crossings)));
    err = checkNoOverlap(b);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    if (nodes > 0) {
        QVERIFY(d.width > 0);
        QVERIFY(d.height > 0);
    }
    for (const auto& n : d.nodes)
        if (n.visible) {
            QVERIFY(n.rect.x >= -kEps && n.rect.x + n.rect.w <= d.width + kEps);
            QVERIFY(n.rect.y >= -kEps && n.rect.bottom() <= d.height + kEps);
        }
}

void TestLayout::optimalCrossings_data() {
    QTest::addColumn<LayoutGraph>("graph");
    QTest::addColumn<qint64>("optimum");
    auto make = [](int n, std::vector<std::pair<int, int>> edges) {
        LayoutGraph g;
        g.nodes.resize(n);
        for (auto [u, v] : edges)
            g.edges.push_back({u, v});
        return g;
    };
    QTest::newRow("chain") << make(5, {{0, 1}, {1, 2}, {2, 3}, {3, 4}}) << qint64(0);
    QTest::newRow("diamond") << make(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}) << qint64(0);
    // Ids chosen so the input order would cross: the layout must untangle it.
    QTest::newRow("scrambled binary tree") << make(15, {{0, 5},
                                                        {0, 2},
                                                        {5, 14},
                                                        {5, 3},
                                                        {2, 9},
                                                        {2, 11},
                                                        {14, 1},
                                                        {14, 7},
                                                        {3, 4},
                                                        {3, 13},
                                                        {9, 6},
                                                        {9, 8},
                                                        {11, 10},
                                                        {11, 12}})
                                           << qint64(0);
    QTest::newRow("reversed matching")
        << twoLayer(4, 4, {{0, 3}, {1, 2}, {2, 1}, {3, 0}}) << qint64(0);
    QTest::newRow("caterpillar")
        << twoLayer(
               5, 6,
               {{0, 1}, {1, 1}, {1, 4}, {2, 2}, {3, 0}, {3, 2}, {3, 4}, {4, 2}, {4, 3}, {4, 5}})
        << qint64(0);
    QTest::newRow("residual blocks with long skips") << make(9, {{0, 1},
                                                                 {1, 2},
                                                                 {2, 3},
                                                                 {0, 3},
                                                                 {3, 4},
                                                                 {4, 5},
                                                                 {5, 6},
                                                                 {3, 6},
                                                                 {6, 7},
                                                                 {0, 8},
                                                                 {7, 8}})
                                                     << qint64(0);
    QTest::newRow("inception")
        << make(8, {{0, 1}, {0, 2}, {0, 3}, {1, 4}, {2, 5}, {3, 6}, {4, 7}, {5, 7}, {6, 7}, {0, 7}})
        << qint64(0);
    // Two-layer crossing number of K(m,n) is C(m,2) * C(n,2).
    std::vector<std::pair<int, int>> k33, k24;
    for (int u = 0; u < 3; ++u)
        for (int v = 0; v < 3; ++v)
            k33.push_back({u, v});
    for (int u = 0; u < 2; ++u)
        for (int v = 0; v < 4; ++v)
            k24.push_back({u, v});
    QTest::newRow("K3,3") << twoLayer(3, 3, k33) << qint64(9);
    QTest::newRow("K2,4") << twoLayer(2, 4, k24) << qint64(6);
    // Crown graph S4 (K4,4 minus a perfect matching): optimum by brute force.
    std::vector<std::pair<int, int>> crown;
    for (int u = 0; u < 4; ++u)
        for (int v = 0; v < 4; ++v)
            if (u != v) crown.push_back({u, v});
    QTest::newRow("crown S4") << twoLayer(4, 4, crown) << qint64(bruteForceTwoLayer(4, 4, crown));
    // Random two-layer graphs with 3-6 nodes per layer, optimum by brute force.
    for (unsigned seed = 1; seed <= 24; ++seed) {
        const int a = 3 + static_cast<int>(seed % 4), b = 3 + static_cast<int>((seed / 4) % 4);
        const auto e = randomBipartite(a, b, seed);
        QTest::newRow(qPrintable(QString("random two-layer %1 (%2x%3)").arg(seed).arg(a).arg(b)))
            << twoLayer(a, b, e) << qint64(bruteForceTwoLayer(a, b, e));
    }
}

void TestLayout::optimalCrossings() {
    QFETCH(LayoutGraph, graph);
    QFETCH(qint64, optimum);
    const Drawing d = layoutGraph(graph);
    QVERIFY(d.ok());
    QCOMPARE(qint64(d.stats.crossings), optimum);
    QCOMPARE(countCrossings(d), d.stats.crossings);
    const QString err = checkEdges(graph, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestLayout::cyclesAreReversed() {
    // a -> b -> c -> a plus c -> d; and a self loop on d (ignored).
    LayoutGraph g;
    g.nodes.resize(4);
    g.edges = {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 3}};
    const Drawing d = layoutGraph(g);
    QVERIFY(d.ok());
    QCOMPARE(d.stats.reversedEdges, 1);
    QCOMPARE(d.edges.size(), std::size_t(4));
    int reversed = 0;
    for (const auto& e : d.edges)
        if (e.reversed) {
            ++reversed;
            QCOMPARE(e.edges, std::vector<EdgeId>{2});
            QCOMPARE(e.from, (ItemRef{ItemRef::Kind::Node, 0})); // drawn downwards: a above c
            QCOMPARE(e.to, (ItemRef{ItemRef::Kind::Node, 2}));
        }
    QCOMPARE(reversed, 1);
    const QString err = checkEdges(g, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestLayout::collapsedGroupsLiftEdges() {
    // Group 0 "enc" holds nodes 1, 2, 3 (and group 1 "inner" with 2, 3); node 0 feeds 1 and 2,
    // node 4 reads 3 and 1. Collapsing "enc" lifts all four edges to two drawn edges.
    LayoutGraph g;
    g.groups = {{kRootGroup, "enc", 100, 30}, {0, "inner", 80, 30}};
    g.nodes.resize(5);
    g.nodes[1].group = 0;
    g.nodes[2].group = 1;
    g.nodes[3].group = 1;
    g.edges = {{0, 1}, {0, 2}, {1, 2}, {2, 3}, {3, 4}, {1, 4}};
    CollapseState s;
    s.set(0, true);
    Drawing d = layoutGraph(g, s);
    QVERIFY(d.ok());
    QCOMPARE(d.groups[0].state, GroupBox::State::Collapsed);
    QCOMPARE(d.groups[1].state, GroupBox::State::Hidden);
    QCOMPARE(d.nodes[2].visible, false);
    QCOMPARE(d.nodes[2].shownBy, 0);
    QCOMPARE(d.groups[0].rect.w, 100.0);
    QCOMPARE(d.edges.size(), std::size_t(2));
    QCOMPARE(d.edges[0].edges, (std::vector<EdgeId>{0, 1}));
    QCOMPARE(d.edges[1].edges, (std::vector<EdgeId>{4, 5}));
    QCOMPARE(d.stats.visibleNodes, 2);
    QCOMPARE(d.stats.collapsedGroups, 1);
    QString err = checkEdges(g, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    // Expanded: edges into the nested group are drawn from/to the nodes themselves and routed
    // through the frames of the level's children.
    d = layoutGraph(g);
    QCOMPARE(d.groups[0].state, GroupBox::State::Expanded);
    QCOMPARE(d.groups[1].state, GroupBox::State::Expanded);
    QCOMPARE(d.edges.size(), std::size_t(6));
    for (const auto& e : d.edges)
        if (e.edges == std::vector<EdgeId>{1}) {
            QCOMPARE(e.level, kRootGroup);
            QCOMPARE(e.to, (ItemRef{ItemRef::Kind::Node, 2}));
            QCOMPARE(e.toItem, (ItemRef{ItemRef::Kind::Group, 0}));
        }
    err = checkNoOverlap(d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkEdges(g, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestLayout::invalidInput() {
    LayoutGraph g;
    g.nodes.resize(2);
    g.edges = {{0, 5}};
    QVERIFY(!validate(g).empty());
    Drawing d = layoutGraph(g);
    QVERIFY(!d.error.empty());
    QVERIFY(!d.ok());
    g.edges.clear();
    g.groups = {{1, "a"}, {0, "b"}}; // a cycle in the group tree
    QVERIFY(validate(g).find("cyclic") != std::string::npos);
    g.groups = {{kRootGroup, "a"}};
    g.nodes[0].group = 3;
    QVERIFY(!validate(g).empty());
    g.nodes[0].group = 0;
    g.nodes[1].width = -1;
    QVERIFY(!validate(g).empty());
}

void TestLayout::deterministic() {
    const LayoutGraph g = syntheticGraph(3000, 11);
    for (bool flat : {true, false}) {
        LayoutOptions o;
        o.flatten = flat;
        const Drawing a = layoutGraph(g, {}, o);
        const Drawing b = layoutGraph(g, {}, o);
        const QString err = compareDrawings(a, b);
        QVERIFY2(err.isEmpty(), qPrintable(err));
    }
    // The generator itself is deterministic.
    const LayoutGraph h = syntheticGraph(3000, 11);
    QCOMPARE(h.edges.size(), g.edges.size());
    for (std::size_t i = 0; i < g.edges.size(); ++i)
        QVERIFY(g.edges[i].from == h.edges[i].from && g.edges[i].to == h.edges[i].to);
    QVERIFY(syntheticGraph(3000, 12).edges.size() != g.edges.size() ||
            syntheticGraph(3000, 12).edges[100].from != g.edges[100].from ||
            syntheticGraph(3000, 12).edges[200].to != g.edges[200].to);
}

void TestLayout::cancel() {
    const LayoutGraph g = syntheticGraph(20000, 2);
    LayoutOptions o;
    o.flatten = true;
    Layout l(g, o);
    int callsAfterCancel = 0;
    bool cancelled = false;
    const auto t0 = std::chrono::steady_clock::now();
    const Drawing d = l.run([&](std::string_view, double f) {
        if (cancelled) ++callsAfterCancel;
        if (f > 0.25) cancelled = true; // somewhere in crossing reduction
        return !cancelled;
    });
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    QVERIFY(d.cancelled);
    QVERIFY(!d.ok());
    QVERIFY(d.nodes.empty() && d.edges.empty());
    QCOMPARE(callsAfterCancel, 0);
    QVERIFY(l.drawing().nodes.empty()); // no previous result
    // The object stays usable: the next run completes.
    const Drawing full = l.run();
    QVERIFY(full.ok());
    QCOMPARE(full.nodes.size(), g.nodes.size());
    qInfo("cancelled after %.0f ms; the full run took %.0f ms", ms, full.stats.ms);
}

void TestLayout::progressIsThrottled() {
    // 20k nodes in ~4000 expanded groups: progress comes at most every 0.5% of the work.
    const LayoutGraph g = syntheticGraph(20000, 6);
    int calls = 0;
    double last = -1;
    bool monotonic = true;
    const Drawing d = layoutGraph(g, {}, {}, [&](std::string_view, double f) {
        ++calls;
        monotonic = monotonic && f >= last && f <= 1.0;
        last = f;
        return true;
    });
    QVERIFY(d.ok());
    QVERIFY(d.stats.blocksLaidOut > 1000);
    QVERIFY2(calls <= 205, qPrintable(QString::number(calls)));
    QVERIFY(calls >= 10);
    QVERIFY(monotonic);
    QCOMPARE(last, 1.0);
}

void TestLayout::cancelFromAnotherThread() {
    // As the GUI does it: the layout runs on a worker, the Cancel button sets a flag.
    const LayoutGraph g = syntheticGraph(50000, 3);
    LayoutOptions o;
    o.flatten = true;
    std::atomic<bool> stop{false};
    Drawing d;
    std::thread worker(
        [&] { d = layoutGraph(g, {}, o, [&](std::string_view, double) { return !stop.load(); }); });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stop = true;
    worker.join();
    // A very fast machine may finish first; either way the result is consistent.
    if (d.cancelled) {
        QVERIFY(d.nodes.empty());
    } else {
        QVERIFY(d.ok());
        QCOMPARE(d.nodes.size(), g.nodes.size());
    }
}

void TestLayout::incrementalReusesUntouchedGroups() {
    const LayoutGraph g = syntheticGraph(2000, 4);
    const auto depths = groupDepths(g);
    int stages = 0;
    GroupId block = -1, otherStage = -1;
    for (std::size_t i = 0; i < depths.size(); ++i) {
        if (depths[i] == 0) ++stages;
        if (depths[i] == 1 && block < 0 && g.groups[g.groups[i].parent].label == "stage3")
            block = static_cast<GroupId>(i);
        if (depths[i] == 0 && g.groups[i].label == "stage7") otherStage = static_cast<GroupId>(i);
    }
    QVERIFY(stages > 8 && block >= 0 && otherStage >= 0);
    Layout l(g);
    l.setCollapseState(collapseAtDepth(g, 1)); // stages open, blocks closed
    const Drawing first = l.run();
    QVERIFY(first.ok());
    QCOMPARE(first.stats.blocksLaidOut, stages + 1);
    QCOMPARE(first.stats.blocksReused, 0);
    // Opening one block re-lays out it, its stage and the root; every other stage is reused.
    l.setCollapsed(block, false);
    const Drawing second = l.run();
    QVERIFY(second.ok());
    QCOMPARE(second.stats.blocksLaidOut, 3);
    QCOMPARE(second.stats.blocksReused, stages - 1);
    QCOMPARE(second.groups[block].state, GroupBox::State::Expanded);
    // An untouched stage's contents only moved as a whole.
    const double dx = second.groups[otherStage].rect.x - first.groups[otherStage].rect.x;
    const double dy = second.groups[otherStage].rect.y - first.groups[otherStage].rect.y;
    int moved = 0;
    for (std::size_t v = 0; v < g.nodes.size(); ++v)
        if (second.nodes[v].visible && second.nodes[v].level == otherStage) {
            QCOMPARE(second.nodes[v].rect.x, first.nodes[v].rect.x + dx);
            QCOMPARE(second.nodes[v].rect.y, first.nodes[v].rect.y + dy);
            ++moved;
        }
    for (std::size_t i = 0; i < g.groups.size(); ++i)
        if (second.groups[i].state != GroupBox::State::Hidden &&
            second.groups[i].level == otherStage) {
            QCOMPARE(second.groups[i].rect.x, first.groups[i].rect.x + dx);
            QCOMPARE(second.groups[i].rect.y, first.groups[i].rect.y + dy);
            ++moved;
        }
    QVERIFY(moved >= 3);
    // Incremental equals from scratch.
    CollapseState s = collapseAtDepth(g, 1);
    s.set(block, false);
    QCOMPARE(l.collapseState(), s);
    QString err = compareDrawings(second, layoutGraph(g, s));
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkNoOverlap(second);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkEdges(g, second);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    // Nothing changed: everything is reused. Collapsing again restores the first drawing.
    QCOMPARE(l.run().stats.blocksLaidOut, 0);
    l.setCollapsed(block, true);
    const Drawing third = l.run();
    QCOMPARE(third.stats.blocksLaidOut, 2);
    err = compareDrawings(first, third);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(l.drawing().stats.blocksLaidOut, 2);
}

void TestLayout::defaultCollapseDepth() {
    const LayoutGraph small = syntheticGraph(800, 1);
    QCOMPARE(::ew::layout::defaultCollapseDepth(small), -1);
    const LayoutGraph big = syntheticGraph(20000, 1);
    const int depth = ::ew::layout::defaultCollapseDepth(big, 1500);
    QVERIFY(depth >= 0);
    const Drawing d = layoutGraph(big, collapseAtDepth(big, depth));
    QVERIFY(d.stats.visibleNodes + d.stats.collapsedGroups <= 1500);
    // One level deeper would show too many.
    const Drawing deeper = layoutGraph(big, collapseAtDepth(big, depth + 1));
    QVERIFY(deeper.stats.visibleNodes + deeper.stats.collapsedGroups > 1500);
    // The depth of a hand-made tree.
    LayoutGraph t;
    t.groups = {{kRootGroup, "a"}, {0, "b"}, {1, "c"}, {kRootGroup, "d"}};
    QCOMPARE(groupDepths(t), (std::vector<int>{0, 1, 2, 0}));
}

void TestLayout::scopeOf_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("scope");
    QTest::newRow("torch") << "/layer1/layer1.0/conv1/Conv"
                           << QStringList{"layer1", "layer1.0", "conv1"};
    QTest::newRow("tf") << "model/block_1/expand/Conv2D"
                        << QStringList{"model", "block_1", "expand"};
    QTest::newRow("dots") << "encoder.layers.0.attn.q_proj"
                          << QStringList{"encoder", "layers", "0", "attn"};
    QTest::newRow("plain") << "Conv_12" << QStringList{};
    QTest::newRow("paddle2onnx") << "p2o.Conv.12" << QStringList{"p2o"};
    QTest::newRow("paddle2onnx in a scope")
        << "backbone.p2o.Conv.12" << QStringList{"backbone", "p2o"};
    QTest::newRow("dotted index") << "blocks.3.mlp.fc1" << QStringList{"blocks", "3", "mlp"};
    QTest::newRow("empty") << "" << QStringList{};
    QTest::newRow("doubled slashes") << "a//b/" << QStringList{"a"};
}

void TestLayout::scopeOf() {
    QFETCH(QString, name);
    QFETCH(QStringList, scope);
    QStringList got;
    for (const auto& s : ::ew::layout::scopeOf(name.toStdString()))
        got << QString::fromStdString(s);
    QCOMPARE(got, scope);
}

void TestLayout::irAdapter() {
    using namespace ew::ir;
    Model m;
    Graph& g = *m.graph;
    auto val = [&](Graph& gr, const char* n) {
        return *gr.addValue(n, Type::tensor(DataType::Float, Shape::of({1})));
    };
    Value* x = val(g, "x");
    g.inputs.push_back(x);
    Value* w = val(g, "w");
    w->initializer = Tensor();
    g.initializers.push_back(w);
    Value *a = val(g, "a"), *b = val(g, "b"), *c = val(g, "c"), *e = val(g, "e"), *f = val(g, "f");
    g.addNode("Conv", "", "/enc/l0/Conv", {x, w}, {a});
    g.addNode("Relu", "", "/enc/l0/Relu", {a}, {b});
    g.addNode("Relu", "", "/enc/l1/Relu", {b}, {c});
    g.addNode("Sigmoid", "", "/enc/l1/Sigmoid", {c}, {e});
    g.addNode("Neg", "", "/dec/Neg", {e}, {f}); // a scope with one node: dissolved
    Value* cond = val(g, "cond");
    g.inputs.push_back(cond);
    Value* z = val(g, "z");
    Node* ifNode = g.addNode("If", "", "/if0", {cond}, {z});
    auto body = std::make_unique<Graph>(&g, ifNode);
    Value* t1 = val(*body, "t1");
    Value* t2 = val(*body, "t2");
    body->addNode("Identity", "", "id", {f}, {t1}); // reads an outer value
    body->addNode("Abs", "", "abs", {t1}, {t2});
    body->outputs.push_back(t2);
    Attribute at;
    at.name = "then_branch";
    at.type = AttrType::Graph;
    at.g = std::move(body);
    ifNode->attributes.push_back(std::move(at));
    g.outputs.push_back(z);

    IrLayoutOptions opt;
    opt.initializers = true;
    opt.measure = [](std::string_view text, IrItemKind) {
        return BoxSize{10.0 * static_cast<double>(text.size()), 20};
    };
    const IrLayoutGraph ig = fromIr(g, opt);
    QCOMPARE(validate(ig.graph), std::string());
    std::map<std::string, GroupId> byPath;
    for (std::size_t i = 0; i < ig.graph.groups.size(); ++i)
        byPath[ig.groupPath[i]] = static_cast<GroupId>(i);
    QVERIFY(byPath.count("enc") && byPath.count("enc/l0") && byPath.count("enc/l1"));
    QVERIFY(!byPath.count("dec"));
    QCOMPARE(ig.graph.groups[byPath["enc/l0"]].parent, byPath["enc"]);
    QCOMPARE(ig.graph.groups[byPath["enc/l1"]].label, std::string("l1"));
    QCOMPARE(ig.graph.groups[byPath["enc"]].collapsedWidth, 30.0);
    GroupId sub = -1;
    for (std::size_t i = 0; i < ig.groupKind.size(); ++i)
        if (ig.groupKind[i] == IrItemKind::Subgraph) sub = static_cast<GroupId>(i);
    QVERIFY(sub >= 0);
    QCOMPARE(ig.graph.groups[sub].label, std::string("/if0.then_branch"));
    QCOMPARE(ig.graph.groups[sub].parent, kRootGroup);
    std::map<std::string, NodeId> byLabel;
    int inputs = 0, outputs = 0, inits = 0;
    for (std::size_t i = 0; i < ig.graph.nodes.size(); ++i) {
        byLabel[ig.nodeLabel[i]] = static_cast<NodeId>(i);
        inputs += ig.nodeKind[i] == IrItemKind::GraphInput;
        outputs += ig.nodeKind[i] == IrItemKind::GraphOutput;
        inits += ig.nodeKind[i] == IrItemKind::Initializer;
    }
    QCOMPARE(inputs, 2);  // x, cond (and no body inputs)
    QCOMPARE(outputs, 2); // z, and the body's t2
    QCOMPARE(inits, 1);
    QCOMPARE(ig.graph.nodes[byLabel["Conv"]].group, byPath["enc/l0"]);
    QCOMPARE(ig.graph.nodes[byLabel["Neg"]].group, kRootGroup);
    QCOMPARE(ig.graph.nodes[byLabel["Conv"]].width, 40.0);
    QCOMPARE(ig.graph.nodes[byLabel["w"]].group, byPath["enc/l0"]); // next to its consumer
    QCOMPARE(ig.graph.nodes[byLabel["Abs"]].group, sub);
    auto hasEdge = [&](NodeId u, NodeId v) {
        return std::any_of(ig.graph.edges.begin(), ig.graph.edges.end(),
                           [&](const LayoutEdge& e) { return e.from == u && e.to == v; });
    };
    QVERIFY(hasEdge(byLabel["Neg"], byLabel["Identity"])); // captured outer value
    QVERIFY(hasEdge(byLabel["t2"], byLabel["If"]));        // body result -> owner
    QVERIFY(hasEdge(byLabel["x"], byLabel["Conv"]));
    QVERIFY(hasEdge(byLabel["If"], byLabel["z"]));
    QCOMPARE(ig.edgeValue.size(), ig.graph.edges.size());
    const Drawing d = layoutGraph(ig.graph);
    QVERIFY(d.ok());
    QString err = checkNoOverlap(d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkEdges(ig.graph, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QVERIFY(d.nodes[byLabel["If"]].rect.y >
            d.groups[sub].rect.bottom()); // the body sits above its node
    // Without scopes, nested graphs or I/O nodes.
    IrLayoutOptions bare;
    bare.scopeGroups = bare.nestedGraphs = bare.graphInputs = bare.graphOutputs = false;
    const IrLayoutGraph flat = fromIr(g, bare);
    QCOMPARE(flat.graph.groups.size(), std::size_t(0));
    QCOMPARE(flat.graph.nodes.size(), std::size_t(6));
}

void TestLayout::realModels_data() {
    QTest::addColumn<QString>("path");
    if (ew::test::modelsDir().isEmpty()) {
        QTest::newRow("no models") << QString();
        return;
    }
    for (const QString& p : ::realModels())
        QTest::newRow(qPrintable(QFileInfo(p).fileName())) << p;
}

void TestLayout::realModels() {
    QFETCH(QString, path);
    EW_REQUIRE_MODELS();
    auto model = ew::ir::loadModel(path.toStdString());
    QVERIFY2(model.has_value(), model ? "" : model.error().toString().c_str());
    const IrLayoutGraph ig = fromIr(*(*model)->graph);
    const LayoutGraph& g = ig.graph;
    QCOMPARE(validate(g), std::string());
    struct Mode {
        const char* name;
        bool flat;
        int depth;
    };
    const Mode modes[] = {{"flat", true, -1},
                          {"default collapse", false, ::ew::layout::defaultCollapseDepth(g)},
                          {"expand all", false, -1},
                          {"top-level collapsed", false, 0}};
    for (const Mode& m : modes) {
        LayoutOptions o;
        o.flatten = m.flat;
        const CollapseState s = collapseAtDepth(g, m.depth);
        const Drawing d = layoutGraph(g, s, o);
        QVERIFY(d.ok());
        o.ordering = Ordering::Barycenter;
        const Drawing b = layoutGraph(g, s, o);
        const QString what = QString("%1, %2: ").arg(QFileInfo(path).fileName(), m.name);
        QVERIFY2(d.stats.crossings <= b.stats.crossings,
                 qPrintable(what + QString("%1 crossings, baseline %2")
                                       .arg(d.stats.crossings)
                                       .arg(b.stats.crossings)));
        QString err = checkNoOverlap(d);
        QVERIFY2(err.isEmpty(), qPrintable(what + err));
        err = checkEdges(g, d);
        QVERIFY2(err.isEmpty(), qPrintable(what + err));
        if (d.stats.reversedEdges == 0) QCOMPARE(countCrossings(d), d.stats.crossings);
        QVERIFY(countCrossings(d) <= d.stats.crossings);
        if (m.flat)
            qInfo("%s: %zu nodes, %d layers, %lld crossings (baseline %lld), %.1f ms",
                  qPrintable(QFileInfo(path).fileName()), g.nodes.size(), d.stats.layers,
                  static_cast<long long>(d.stats.crossings),
                  static_cast<long long>(b.stats.crossings), d.stats.ms);
    }
}

void TestLayout::synthetic50k() {
    const LayoutGraph g = syntheticGraph(50000, 1);
    QCOMPARE(g.nodes.size(), std::size_t(50000));
    LayoutOptions o;
    o.flatten = true;
    const Drawing d = layoutGraph(g, {}, o);
    QVERIFY(d.ok());
    QString err = checkNoOverlap(d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = checkEdges(g, d);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(countCrossings(d), d.stats.crossings);
    o.ordering = Ordering::Barycenter;
    const Drawing b = layoutGraph(g, {}, o);
    QVERIFY(d.stats.crossings <= b.stats.crossings);
    qInfo("50k flat: %d layers, %lld crossings (baseline %lld), %lld dummies, %.0f x %.0f, %.0f ms",
          d.stats.layers, static_cast<long long>(d.stats.crossings),
          static_cast<long long>(b.stats.crossings), static_cast<long long>(d.stats.dummies),
          d.width, d.height, d.stats.ms);
}

void TestLayout::cli_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<int>("nodes"); // expected "nodes" in the JSON; -1: no JSON expected
    QTest::newRow("synthetic json")
        << QStringList{"layout", "--synthetic", "1500", "--json"} << 0 << 1500;
    QTest::newRow("synthetic flat baseline")
        << QStringList{"layout", "--synthetic", "800",        "--seed",
                       "9",      "--flat",      "--baseline", "--json"}
        << 0 << 800;
    QTest::newRow("synthetic collapse depth")
        << QStringList{"layout", "--synthetic", "3000", "--collapse-depth", "0", "--json"} << 0
        << 3000;
    QTest::newRow("synthetic text") << QStringList{"layout", "--synthetic", "200"} << 0 << -1;
    QTest::newRow("nothing to lay out") << QStringList{"layout"} << 2 << -1;
    QTest::newRow("both model and synthetic")
        << QStringList{"layout", "x.onnx", "--synthetic", "5"} << 2 << -1;
    QTest::newRow("bad count") << QStringList{"layout", "--synthetic", "many"} << 2 << -1;
    QTest::newRow("expand-all and depth")
        << QStringList{"layout", "--synthetic", "5", "--expand-all", "--collapse-depth", "1"} << 2
        << -1;
    QTest::newRow("missing model") << QStringList{"layout", "/nonexistent/model.onnx"} << 3 << -1;
    if (!ew::test::modelsDir().isEmpty())
        QTest::newRow("real model json")
            << QStringList{"layout", ew::test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx",
                           "--json"}
            << 0 << 0;
}

void TestLayout::cli() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(int, nodes);
    if (!QFileInfo(cliPath()).isExecutable()) QFAIL(qPrintable("no edgewise-cli at " + cliPath()));
    const CliRun r = runCli(args);
    QVERIFY2(
        r.exitCode == exitCode,
        qPrintable(QString("exit %1, stderr: %2").arg(r.exitCode).arg(QString::fromUtf8(r.err))));
    if (exitCode == 3) QVERIFY2(r.err.contains("/nonexistent/model.onnx"), r.err.constData());
    if (exitCode == 2) QVERIFY2(r.err.contains("layout"), r.err.constData());
    if (exitCode == 0 && !args.contains("--json")) {
        for (const char* key :
             {"nodes:", "edges:", "layers:", "crossings:", "width x height:", "layout:"})
            QVERIFY2(r.out.contains(key), r.out.constData());
    }
    if (!args.contains("--json") || exitCode != 0) return;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(r.out, &pe);
    QVERIFY2(pe.error == QJsonParseError::NoError, r.out.constData());
    const QJsonObject o = doc.object();
    for (const char* key :
         {"nodes", "edges", "layers", "crossings", "width", "height", "layout_ms", "dummy_nodes",
          "visible_nodes", "collapsed_groups", "groups", "drawn_edges"})
        QVERIFY2(o.contains(key), key);
    if (nodes > 0) QCOMPARE(o["nodes"].toInt(), nodes);
    QVERIFY(o["nodes"].toInt() > 0);
    QVERIFY(o["edges"].toInt() >= o["drawn_edges"].toInt());
    QVERIFY(o["visible_nodes"].toInt() <= o["nodes"].toInt());
    QVERIFY(o["layers"].toInt() >= 1);
    QVERIFY(o["crossings"].toInt() >= 0);
    QVERIFY(o["width"].toDouble() > 0 && o["height"].toDouble() > 0);
    QVERIFY(o["layout_ms"].toDouble() >= 0);
    if (args.contains("--flat")) QCOMPARE(o["ordering"].toString(), QString("barycenter"));
    if (args.contains("--collapse-depth")) {
        QCOMPARE(o["collapse_depth"].toInt(), 0);
        QCOMPARE(o["visible_groups"].toInt(), o["collapsed_groups"].toInt());
    }
    // The synthetic graph matches the library's generator.
    if (args.contains("--synthetic") && !args.contains("--seed")) {
        const LayoutGraph g = syntheticGraph(static_cast<std::size_t>(nodes), 1);
        QCOMPARE(o["edges"].toInt(), static_cast<int>(g.edges.size()));
    }
}

QTEST_GUILESS_MAIN(TestLayout)
#include "tst_layout.moc"
