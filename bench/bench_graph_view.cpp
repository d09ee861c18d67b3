// bench_graph_view: speed of the graph canvas, offscreen (QT_QPA_PLATFORM=offscreen unless set).
//
// 1. First paint of a real model (default resnet18): from the loaded document handed to the
//    Graph tab to its first rendered frame = building the canvas model (label measuring),
//    layout on the worker thread, scene build and one render of the viewport. RUNS fresh pages.
// 2. Frame time while panning and zooming the synthetic graph (syntheticGraph(N, seed 1), all
//    groups expanded, default N = 10000) at several zoom levels, from "fit" (every node on
//    screen) inwards: each frame applies one scripted step (pan by a fraction of the viewport,
//    or zoom in/out by 10 % around a point) and renders the viewport (QWidget::grab, which runs
//    the view's paintEvent). Median and p95 per level, and how many nodes were on screen.
//    "fit*" repeats "fit" with the sketch switched off (every QGraphicsItem painted).
// Prints a table, then one JSON line.
//
// Usage: bench_graph_view [--runs R] [--nodes N] [--frames F] [--model FILE] [--size WxH]
#include "common/json_writer.h"
#include "common/reporter.h"
#include "layout/synthetic.h"
#include "widgets/graph/graph_page.h"
#include "widgets/graph/graph_scene.h"
#include "widgets/graph/graph_view.h"
#include "widgets/model_document.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPixmap>
#include <QScrollBar>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifndef EW_MODELS_DIR
#define EW_MODELS_DIR ""
#endif

namespace {

using namespace ew;

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const double idx = p * double(v.size() - 1);
    const auto lo = std::size_t(std::floor(idx));
    const auto hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (idx - double(lo));
}

bool waitLayout(ui::GraphPage& page, int timeoutMs = 600000) {
    QElapsedTimer t;
    t.start();
    while ((page.isLayingOut() || !page.scene()->hasDrawing()) && t.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return !page.isLayingOut() && page.scene()->hasDrawing();
}

int visibleNodes(const ui::GraphView& view) {
    const QRectF v = view.visibleSceneRect();
    int n = 0;
    for (const auto& box : view.graphScene()->drawing().nodes)
        if (box.visible && v.intersects(QRectF(box.rect.x, box.rect.y, box.rect.w, box.rect.h)))
            ++n;
    return n;
}

struct FirstPaint {
    double medianMs = 0, minMs = 0, layoutMs = 0;
    int nodes = 0;
};

FirstPaint firstPaint(const QString& path, int runs, QSize size) {
    FirstPaint out;
    ui::TaskOutcome loaded = ui::loadModelDocument(path, nullReporter());
    if (!loaded.document) {
        std::fprintf(stderr, "bench_graph_view: cannot load %s: %s\n", qPrintable(path),
                     loaded.status.toString().c_str());
        return out;
    }
    std::vector<double> ms, layout;
    for (int i = 0; i < runs; ++i) {
        ui::GraphPage page;
        page.resize(size);
        page.show();
        QCoreApplication::processEvents();
        QElapsedTimer t;
        t.start();
        page.setDocument(loaded.document);
        if (!waitLayout(page)) return out;
        const QPixmap frame = page.view()->viewport()->grab();
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
        layout.push_back(page.scene()->drawing().stats.ms);
        out.nodes = page.scene()->drawing().stats.visibleNodes;
        if (frame.isNull()) return out;
    }
    out.medianMs = percentile(ms, 0.5);
    out.minMs = percentile(ms, 0.0);
    out.layoutMs = percentile(layout, 0.5);
    return out;
}

struct Level {
    std::string name;
    double zoom = 0;
    int visible = 0;
    bool sketch = false;
    double medianMs = 0, p95Ms = 0, maxMs = 0;
};

/// `frames` scripted steps around the centre at zoom `z`: pans right/down/left/up by a sixth of
/// the viewport and zooms in and out by 10 % about points off centre, each followed by a render.
Level panZoom(ui::GraphView& view, const std::string& name, double z, int frames) {
    Level lv;
    lv.name = name;
    const QPointF center = view.graphScene()->drawingRect().center();
    view.setZoom(z);
    view.centerOn(center);
    (void)view.viewport()->grab(); // warm caches
    std::vector<double> ms;
    int visibleSum = 0;
    const int w = view.viewport()->width(), h = view.viewport()->height();
    for (int i = 0; i < frames; ++i) {
        QElapsedTimer t;
        t.start();
        switch (i % 8) {
        case 0:
            view.horizontalScrollBar()->setValue(view.horizontalScrollBar()->value() + w / 6);
            break;
        case 1:
            view.verticalScrollBar()->setValue(view.verticalScrollBar()->value() + h / 6);
            break;
        case 2:
            view.zoomBy(1.1, QPointF(w * 0.4, h * 0.6));
            break;
        case 3:
            view.horizontalScrollBar()->setValue(view.horizontalScrollBar()->value() - w / 6);
            break;
        case 4:
            view.zoomBy(1 / 1.1, QPointF(w * 0.4, h * 0.6));
            break;
        case 5:
            view.verticalScrollBar()->setValue(view.verticalScrollBar()->value() - h / 6);
            break;
        case 6:
            view.zoomBy(1 / 1.1, QPointF(w * 0.7, h * 0.3));
            break;
        default:
            view.zoomBy(1.1, QPointF(w * 0.7, h * 0.3));
            break;
        }
        const QPixmap frame = view.viewport()->grab();
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
        visibleSum += visibleNodes(view);
        if (frame.isNull()) break;
    }
    lv.zoom = z;
    lv.sketch = view.isSketchMode();
    lv.visible = frames > 0 ? visibleSum / frames : 0;
    lv.medianMs = percentile(ms, 0.5);
    lv.p95Ms = percentile(ms, 0.95);
    lv.maxMs = percentile(ms, 1.0);
    return lv;
}

} // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    int runs = 5, nodes = 10000, frames = 80;
    QSize size(1600, 1000);
    QString model = QStringLiteral(EW_MODELS_DIR "/onnx/torchvision-arch/resnet18.onnx");
    const QStringList args = QCoreApplication::arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--runs")
            runs = std::max(1, args[i + 1].toInt());
        else if (args[i] == "--nodes")
            nodes = std::max(10, args[i + 1].toInt());
        else if (args[i] == "--frames")
            frames = std::max(8, args[i + 1].toInt());
        else if (args[i] == "--model")
            model = args[i + 1];
        else if (args[i] == "--size") {
            const QStringList wh = args[i + 1].split('x');
            if (wh.size() == 2) size = QSize(wh[0].toInt(), wh[1].toInt());
        } else {
            std::fprintf(stderr, "usage: bench_graph_view [--runs R] [--nodes N] [--frames F] "
                                 "[--model FILE] [--size WxH]\n");
            return 2;
        }
    }

    FirstPaint fp;
    const bool haveModel = QFileInfo::exists(model);
    if (haveModel)
        fp = firstPaint(model, runs, size);
    else
        std::fprintf(stderr, "bench_graph_view: %s not found; skipping first paint\n",
                     qPrintable(model));

    ui::GraphPage page;
    page.resize(size);
    page.show();
    QCoreApplication::processEvents();
    QElapsedTimer t;
    t.start();
    page.setLayoutGraph(layout::syntheticGraph(std::size_t(nodes), 1, true));
    waitLayout(page);
    page.expandAll();
    waitLayout(page);
    const double synthMs = double(t.nsecsElapsed()) / 1e6;
    ui::GraphView& view = *page.view();
    view.fitAll();
    const double fit = view.zoom();
    std::vector<Level> levels;
    levels.push_back(panZoom(view, "fit/2", fit / 2, frames)); // all nodes stay on screen
    levels.push_back(panZoom(view, "fit", fit, frames));
    for (double k : {4.0, 16.0, 64.0})
        if (fit * k < 0.25)
            levels.push_back(panZoom(view, "fit x" + std::to_string(int(k)), fit * k, frames));
    // For comparison: the same frames at "fit" painting every item (no sketch).
    view.setSketchEnabled(false);
    Level noSketch = panZoom(view, "fit*", fit, std::max(8, frames / 4));
    view.setSketchEnabled(true);
    levels.push_back(noSketch);
    // The densest zoom that still paints items (just above kSketchLod), then a readable one.
    levels.push_back(panZoom(view, "29%", 0.29, frames));
    levels.push_back(panZoom(view, "50%", 0.5, frames));
    levels.push_back(panZoom(view, "100%", 1.0, frames));

    std::printf("graph canvas: viewport %dx%d, offscreen raster\n", view.viewport()->width(),
                view.viewport()->height());
    if (haveModel)
        std::printf("first paint of %s: median %.1f ms, min %.1f ms (%d nodes; layout %.2f ms)\n",
                    qPrintable(QFileInfo(model).fileName()), fp.medianMs, fp.minMs, fp.nodes,
                    fp.layoutMs);
    std::printf("synthetic %d nodes: %d drawn edges, drawing %.0f x %.0f, page ready in %.0f ms\n",
                nodes, page.scene()->drawing().stats.drawnEdges, page.scene()->drawing().width,
                page.scene()->drawing().height, synthMs);
    std::printf("(fit* = fit with the sketch switched off: every item painted, for comparison)\n");
    std::printf("%-8s %10s %14s %8s %11s %9s %9s\n", "level", "zoom", "visible nodes", "mode",
                "median ms", "p95 ms", "max ms");
    for (const Level& l : levels)
        std::printf("%-8s %10.5f %14d %8s %11.2f %9.2f %9.2f\n", l.name.c_str(), l.zoom, l.visible,
                    l.sketch ? "sketch" : "items", l.medianMs, l.p95Ms, l.maxMs);

    JsonWriter w(0);
    w.beginObject();
    w.key("model").value(QFileInfo(model).fileName().toStdString());
    w.key("runs").value(runs);
    w.key("first_paint_ms").value(fp.medianMs);
    w.key("first_paint_min_ms").value(fp.minMs);
    w.key("synthetic_nodes").value(nodes);
    w.key("frames_per_level").value(frames);
    w.key("viewport")
        .value(std::to_string(view.viewport()->width()) + "x" +
               std::to_string(view.viewport()->height()));
    w.key("levels").beginArray();
    for (const Level& l : levels) {
        w.beginObject();
        w.key("level").value(l.name);
        w.key("zoom").value(l.zoom);
        w.key("visible_nodes").value(l.visible);
        w.key("mode").value(l.sketch ? "sketch" : "items");
        w.key("frame_ms_median").value(l.medianMs);
        w.key("frame_ms_p95").value(l.p95Ms);
        w.key("frame_ms_max").value(l.maxMs);
        w.endObject();
    }
    w.endArray();
    w.endObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
}
