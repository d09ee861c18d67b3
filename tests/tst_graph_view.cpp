// The graph canvas, offscreen: items per visible node and drawn edge, op categories and colours,
// inputs/outputs/weights drawn distinctly, search (node names, op types, tensor names) with
// selection synced to the node list and the inspector, node-list selection centring the graph,
// collapse/expand by double-click, Alt+arrow moves to producers/consumers, PNG/SVG export (and
// a failed one naming the file), overlay tints, level of detail, cancelling a layout.
// Screenshots go to build/test-artifacts/graph_*.png for people to look at.
#include "test_util.h"

#include "ir/io/model_io.h"
#include "layout/synthetic.h"
#include "widgets/format_util.h"
#include "widgets/graph/graph_export.h"
#include "widgets/graph/graph_items.h"
#include "widgets/graph/graph_page.h"
#include "widgets/graph/graph_scene.h"
#include "widgets/graph/graph_search.h"
#include "widgets/graph/graph_style.h"
#include "widgets/graph/graph_view.h"
#include "widgets/graph/minimap.h"
#include "widgets/graph/op_category.h"
#include "widgets/i18n.h"
#include "widgets/inspector/inspector_panel.h"
#include "widgets/inspector/tensor_view.h"
#include "widgets/main_window.h"
#include "widgets/node_list_panel.h"
#include "widgets/node_table_model.h"
#include "widgets/overlay/overlay.h"
#include "widgets/overlay/overlay_controller.h"
#include "widgets/overview_page.h"
#include "widgets/properties_panel.h"

#include <QDockWidget>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QProcess>
#include <QProgressDialog>
#include <QPushButton>
#include <QScrollBar>
#include <QSemaphore>
#include <QSettings>
#include <QStandardPaths>
#include <QStyleOptionGraphicsItem>
#include <QSvgRenderer>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QToolTip>
#include <QXmlStreamReader>
#include <qcustomplot.h>

#include <cmath>
#include <set>

using namespace ew;
using Kind = layout::ItemRef::Kind;

namespace {

constexpr int kTimeoutMs = 120000;

QString samplePath() {
    QString bundled = test::sourceDir() + "/resources/samples/digits_cnn.onnx";
    if (QFileInfo::exists(bundled)) return bundled;
    if (!test::modelsDir().isEmpty()) return test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx";
    return {};
}

QString modelPath(const QString& rel) {
    return test::modelsDir().isEmpty() ? QString() : test::modelsDir() + "/onnx/" + rel;
}

bool waitGraph(ui::GraphPage* page) {
    QElapsedTimer t;
    t.start();
    while ((page->isLayingOut() || !page->scene()->hasDrawing()) && t.elapsed() < kTimeoutMs)
        QTest::qWait(10);
    QTest::qWait(10);
    return !page->isLayingOut() && page->scene()->hasDrawing();
}

bool loadInto(ui::MainWindow& w, const QString& path) {
    QSignalSpy loaded(&w, &ui::MainWindow::modelLoaded);
    if (!w.openModel(path)) return false;
    QElapsedTimer t;
    t.start();
    while (w.isBusy() && t.elapsed() < kTimeoutMs)
        QTest::qWait(20);
    QTest::qWait(20);
    return !w.isBusy() && loaded.count() == 1 && waitGraph(w.graphPage());
}

void saveShot(QWidget& w, const QString& name) {
    QTest::qWait(50);
    QString file = test::artifactsDir() + "/" + name + ".png";
    QVERIFY2(w.grab().save(file), qPrintable("cannot write " + file));
    qInfo("screenshot: %s", qPrintable(file));
}

/// The node item of the first op of type `op`, or null.
ui::NodeItem* firstOp(ui::GraphScene* scene, const char* op) {
    for (ui::NodeItem* n : scene->nodeItems())
        if (n->info().node && n->info().node->opType == op) return n;
    return nullptr;
}

/// Distance in viewport pixels between the viewport's centre and `sceneRect`'s centre.
double offCentre(ui::GraphView* view, const QRectF& sceneRect) {
    const QPointF c = view->viewportTransform().map(sceneRect.center());
    const QPointF mid = QRectF(view->viewport()->rect()).center();
    return std::hypot(c.x() - mid.x(), c.y() - mid.y());
}

const ir::Node* listSelection(ui::MainWindow& w) {
    auto rows = w.nodeList()->view()->selectionModel()->selectedRows();
    if (rows.isEmpty()) return nullptr;
    auto* proxy = w.nodeList()->proxyModel();
    return w.nodeList()->sourceModel()->nodeAt(proxy->mapToSource(rows.first()).row());
}

/// Paints one item alone at `scale` into an image the size of its bounding rect.
QImage paintItem(QGraphicsItem* item, double scale) {
    const QRectF br = item->boundingRect();
    QImage img((br.size() * scale).toSize() + QSize(2, 2), QImage::Format_ARGB32_Premultiplied);
    img.fill(Qt::white);
    QPainter p(&img);
    p.scale(scale, scale);
    p.translate(-br.topLeft());
    QStyleOptionGraphicsItem opt;
    opt.exposedRect = br;
    item->paint(&p, &opt, nullptr);
    p.end();
    return img;
}

/// Pixels of `img` (inside `r`, image coordinates) whose colour differs from `c` by more than
/// a small tolerance.
int pixelsDiffering(const QImage& img, const QRect& r, QColor c) {
    int n = 0;
    for (int y = r.top(); y <= r.bottom(); ++y)
        for (int x = r.left(); x <= r.right(); ++x) {
            QColor p = img.pixelColor(x, y);
            if (std::abs(p.red() - c.red()) + std::abs(p.green() - c.green()) +
                    std::abs(p.blue() - c.blue()) >
                24)
                ++n;
        }
    return n;
}

} // namespace

class TestGraphView : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void init();
    void opCategories_data();
    void opCategories();
    void canvasShowsModel_data();
    void canvasShowsModel();
    void searchSelectsAndCenters_data();
    void searchSelectsAndCenters();
    void nodeListSelectionCentersGraph();
    void collapseAndExpand_data();
    void collapseAndExpand();
    void keyboardMovesAlongEdges();
    void zoomAndPan();
    void exportPngAndSvg();
    void overlayTintsNodes();
    void levelOfDetail();
    void cancelKeepsPreviousDrawing();
    void cancelFirstLayoutOffersRetry();
    void weightsHistogramFromGraph();
    void screenshotWaitsForLayout();

  private:
    QTemporaryDir m_tmp;
};

void TestGraphView::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgewiseTest");
    QCoreApplication::setApplicationName("tst_graph_view");
    QVERIFY(m_tmp.isValid());
    QCOMPARE(ui::installTranslations(*QCoreApplication::instance(), "en"), QString("en"));
    QVERIFY2(!samplePath().isEmpty(),
             "bundled sample resources/samples/digits_cnn.onnx is missing");
}

void TestGraphView::init() {
    QSettings().clear();
}

void TestGraphView::opCategories_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("domain");
    QTest::addColumn<int>("category");
    using C = ui::OpCategory;
    QTest::newRow("Conv") << "Conv"
                          << "" << int(C::Convolution);
    QTest::newRow("ConvTranspose") << "ConvTranspose"
                                   << "" << int(C::Convolution);
    QTest::newRow("FusedConv") << "FusedConv"
                               << "com.microsoft" << int(C::Convolution);
    QTest::newRow("FusedPwDwConv") << "FusedPwDwConv"
                                   << "ai.edgewise" << int(C::Convolution);
    QTest::newRow("FusedConv (Edgewise)") << "FusedConv"
                                          << "ai.edgewise" << int(C::Convolution);
    QTest::newRow("QConv (Edgewise)") << "QConv"
                                      << "ai.edgewise" << int(C::Quantization);
    QTest::newRow("Silu (Edgewise)") << "Silu"
                                     << "ai.edgewise" << int(C::Activation);
    QTest::newRow("Gemm") << "Gemm"
                          << "" << int(C::Matrix);
    QTest::newRow("MatMul") << "MatMul"
                            << "ai.onnx" << int(C::Matrix);
    QTest::newRow("Relu") << "Relu"
                          << "" << int(C::Activation);
    QTest::newRow("Softmax") << "Softmax"
                             << "" << int(C::Activation);
    QTest::newRow("BatchNormalization") << "BatchNormalization"
                                        << "" << int(C::Normalization);
    QTest::newRow("LayerNormalization") << "LayerNormalization"
                                        << "" << int(C::Normalization);
    QTest::newRow("MaxPool") << "MaxPool"
                             << "" << int(C::Pooling);
    QTest::newRow("GlobalAveragePool") << "GlobalAveragePool"
                                       << "" << int(C::Pooling);
    QTest::newRow("Add") << "Add"
                         << "" << int(C::Elementwise);
    QTest::newRow("ReduceMean") << "ReduceMean"
                                << "" << int(C::Elementwise);
    QTest::newRow("Reshape") << "Reshape"
                             << "" << int(C::Shape);
    QTest::newRow("Concat") << "Concat"
                            << "" << int(C::Shape);
    QTest::newRow("QuantizeLinear") << "QuantizeLinear"
                                    << "" << int(C::Quantization);
    QTest::newRow("QLinearConv") << "QLinearConv"
                                 << "" << int(C::Quantization);
    QTest::newRow("QLinearReduceMean") << "QLinearReduceMean"
                                       << "com.microsoft" << int(C::Quantization);
    QTest::newRow("If") << "If"
                        << "" << int(C::ControlFlow);
    QTest::newRow("Loop") << "Loop"
                          << "" << int(C::ControlFlow);
    QTest::newRow("custom domain") << "Conv"
                                   << "com.example" << int(C::Custom);
    QTest::newRow("unknown contrib") << "Frobnicate"
                                     << "com.microsoft" << int(C::Custom);
    QTest::newRow("unknown standard") << "RandomNormal"
                                      << "" << int(C::Other);
}

void TestGraphView::opCategories() {
    QFETCH(QString, op);
    QFETCH(QString, domain);
    QFETCH(int, category);
    QCOMPARE(int(ui::opCategory(op.toStdString(), domain.toStdString())), category);
    // Every category has its own colour and a name.
    std::set<QRgb> colours;
    for (int c = 0; c < ui::kOpCategoryCount; ++c) {
        colours.insert(ui::opCategoryColor(ui::OpCategory(c)).rgb());
        QVERIFY(!ui::opCategoryName(ui::OpCategory(c)).isEmpty());
    }
    QCOMPARE(int(colours.size()), ui::kOpCategoryCount);
}

void TestGraphView::canvasShowsModel_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("needsModels");
    QTest::addColumn<QString>("shot");
    QTest::newRow("digits_cnn") << samplePath() << false << "graph_digits_cnn";
    QTest::newRow("resnet18") << modelPath("torchvision-arch/resnet18.onnx") << true
                              << "graph_resnet18";
    QTest::newRow("mobilenet_v2") << modelPath("torchvision-arch/mobilenet_v2.onnx") << true
                                  << "graph_mobilenet_v2";
}

void TestGraphView::canvasShowsModel() {
    QFETCH(QString, path);
    QFETCH(bool, needsModels);
    QFETCH(QString, shot);
    if (needsModels) EW_REQUIRE_MODELS();
    auto ref = ir::loadModel(path.toStdString());
    QVERIFY(ref);
    const ir::Graph& g = *(*ref)->graph;

    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, path));
    ui::GraphPage* page = w.graphPage();
    // The graph is the first tab and comes to the front with the model.
    QCOMPARE(w.centralTabs()->indexOf(page), 0);
    QCOMPARE(w.centralTabs()->currentWidget(), page);
    QVERIFY(w.centralTabs()->indexOf(w.overview()) > 0);

    ui::GraphScene* scene = page->scene();
    const layout::Drawing& d = scene->drawing();
    QCOMPARE(int(scene->nodeItems().size()), d.stats.visibleNodes);
    QCOMPARE(int(scene->edgeItems().size()), d.stats.drawnEdges);
    QCOMPARE(int(scene->groupItems().size()), d.stats.visibleGroups);
    for (std::size_t i = 0; i < d.nodes.size(); ++i) {
        ui::NodeItem* item = scene->nodeItem(layout::NodeId(i));
        QCOMPARE(item != nullptr, d.nodes[i].visible);
        if (item)
            QCOMPARE(item->rect(), QRectF(d.nodes[i].rect.x, d.nodes[i].rect.y, d.nodes[i].rect.w,
                                          d.nodes[i].rect.h));
    }
    // These models fit on screen whole: every op, graph input and output has its item.
    int ops = 0, inputs = 0, outputs = 0;
    for (ui::NodeItem* n : scene->nodeItems()) {
        const auto kind = n->info().kind;
        ops += kind == layout::IrItemKind::Op;
        if (kind == layout::IrItemKind::GraphInput) {
            ++inputs;
            QVERIFY(n->isPill());
            QCOMPARE(n->headerColor(), ui::GraphStyle::get().inputBorder);
        }
        if (kind == layout::IrItemKind::GraphOutput) {
            ++outputs;
            QVERIFY(n->isPill());
            QCOMPARE(n->headerColor(), ui::GraphStyle::get().outputBorder);
        }
        if (kind == layout::IrItemKind::Op) {
            QVERIFY(!n->isPill());
            const ir::Node& node = *n->info().node;
            QCOMPARE(n->headerColor(),
                     ui::opCategoryColor(ui::opCategory(node.opType, node.domain)));
            QCOMPARE(n->info().title, ui::qstr(node.opType));
        }
    }
    QCOMPARE(ops, int(g.nodeCountRecursive()));
    int graphInputs = 0;
    for (const ir::Value* v : g.inputs)
        graphInputs += !v->isInitializer();
    QCOMPARE(inputs, graphInputs);
    QCOMPARE(outputs, int(g.outputs.size()));
    // Input/output colours differ from every op category.
    for (int c = 0; c < ui::kOpCategoryCount; ++c) {
        QVERIFY(ui::opCategoryColor(ui::OpCategory(c)) != ui::GraphStyle::get().inputBorder);
        QVERIFY(ui::opCategoryColor(ui::OpCategory(c)) != ui::GraphStyle::get().outputBorder);
    }

    // A few ops by name: category, key attributes and the weights line.
    ui::NodeItem* conv = firstOp(scene, "Conv");
    QVERIFY(conv);
    QCOMPARE(conv->info().category, ui::OpCategory::Convolution);
    const ir::Node& convNode = *conv->info().node;
    const auto k = convNode.attrInts("kernel_shape");
    QVERIFY(!k.empty());
    QVERIFY2(conv->info().detail.startsWith(QString("%1×%2").arg(k[0]).arg(k[1])),
             qPrintable(conv->info().detail));
    const ir::Tensor& wt = *convNode.input(1)->initializer;
    QVERIFY2(conv->info().weights.startsWith(QString("W %1×%2×%3×%4")
                                                 .arg(wt.dims[0])
                                                 .arg(wt.dims[1])
                                                 .arg(wt.dims[2])
                                                 .arg(wt.dims[3])),
             qPrintable(conv->info().weights));
    for (const char* op : {"Relu", "Clip"})
        if (ui::NodeItem* act = firstOp(scene, op))
            QCOMPARE(act->info().category, ui::OpCategory::Activation);
    for (const char* op : {"MaxPool", "GlobalAveragePool"})
        if (ui::NodeItem* pool = firstOp(scene, op))
            QCOMPARE(pool->info().category, ui::OpCategory::Pooling);
    if (ui::NodeItem* gemm = firstOp(scene, "Gemm")) {
        QCOMPARE(gemm->info().category, ui::OpCategory::Matrix);
        QVERIFY(gemm->info().detail.contains("transB"));
    }
    if (ui::NodeItem* add = firstOp(scene, "Add"))
        QCOMPARE(add->info().category, ui::OpCategory::Elementwise);

    // Edges: a path ending in an arrow head at the consumer; shape labels on tensors.
    int labelled = 0;
    for (ui::EdgeItem* e : scene->edgeItems()) {
        const layout::DrawnEdge& de = d.edges[std::size_t(e->index())];
        QCOMPARE(e->arrow().size(), 3);
        const QPointF tip = e->arrow().first();
        const auto& end = de.reversed ? de.bezier.front() : de.bezier.back();
        QVERIFY(std::hypot(tip.x() - end.x, tip.y() - end.y) < 1e-6);
        QVERIFY(!e->path().isEmpty());
        if (!e->label().isEmpty()) {
            ++labelled;
            const ir::Value* v = scene->model()->edgeValue(de.edges.front());
            QVERIFY(v);
            QCOMPARE(e->label(), ui::compactShape(v->type));
        }
    }
    QVERIFY(labelled > 0);
    // Hovering a node shows its name, op, category and tensors.
    {
        ui::GraphView* view = page->view();
        view->centerOn(conv->rect().center());
        const QPoint pos = view->mapFromScene(conv->rect().center());
        QHelpEvent help(QEvent::ToolTip, pos, view->viewport()->mapToGlobal(pos));
        QApplication::sendEvent(view->viewport(), &help);
        const QString name = ui::qstr(convNode.displayName()).toHtmlEscaped();
        QTRY_VERIFY(QToolTip::isVisible() && QToolTip::text().contains(name));
        QVERIFY(QToolTip::text().contains(ui::opCategoryName(ui::OpCategory::Convolution)));
        QVERIFY(QToolTip::text().contains(ui::qstr(convNode.input(1)->name).toHtmlEscaped()));
        QCOMPARE(QToolTip::text(), scene->toolTipFor(conv));
        QToolTip::hideText();
    }
    // Minimap and status line are there.
    QVERIFY(page->view()->minimap()->isVisible());
    QVERIFY2(page->statusText().contains(QString::number(d.stats.visibleNodes)),
             qPrintable(page->statusText()));

    saveShot(w, shot);
    page->view()->fitAll();
    QVERIFY(page->view()->visibleSceneRect().contains(scene->drawingRect()));
    saveShot(w, shot + "_fit");
}

void TestGraphView::searchSelectsAndCenters_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("needsModels");
    QTest::addColumn<QString>("shot");
    QTest::newRow("digits_cnn") << samplePath() << false << "graph_search_digits_cnn";
    QTest::newRow("resnet18") << modelPath("torchvision-arch/resnet18.onnx") << true
                              << "graph_search_resnet18";
}

void TestGraphView::searchSelectsAndCenters() {
    QFETCH(QString, path);
    QFETCH(bool, needsModels);
    QFETCH(QString, shot);
    if (needsModels) EW_REQUIRE_MODELS();
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, path));
    ui::GraphPage* page = w.graphPage();
    ui::GraphSearch* search = page->search();
    ui::GraphScene* scene = page->scene();
    const ir::Graph& g = *w.document()->graph();

    // By op type: every Conv is a hit, highlighted on the canvas.
    QTest::keyClicks(search->lineEdit(), "conv");
    QTRY_VERIFY(!search->hits().empty());
    QVERIFY(search->isVisible());
    std::set<const ir::Node*> convs, found;
    for (const auto& n : g.nodes())
        if (n->opType == "Conv") convs.insert(n.get());
    for (const ui::SearchHit& h : search->hits())
        if (h.kind == ui::SearchHit::Kind::Node) {
            found.insert(scene->model()->node(h.node).node);
            QVERIFY(scene->isSearchHit(h.node));
        }
    for (const ir::Node* c : convs)
        QVERIFY(found.count(c));
    QCOMPARE(search->resultList()->count(), int(search->hits().size()));

    // Choosing a hit selects it in the graph, the node list and the inspector, and centres it.
    int row = -1;
    for (std::size_t i = 0; i < search->hits().size(); ++i)
        if (search->hits()[i].kind == ui::SearchHit::Kind::Node &&
            scene->model()->node(search->hits()[i].node).node->opType == "Conv")
            row = int(i);
    QVERIFY(row >= 0); // the last Conv: usually off screen at first
    const ui::SearchHit hit = search->hits()[std::size_t(row)];
    search->activate(row);
    QTRY_VERIFY(scene->isSelected(layout::ItemRef{Kind::Node, hit.node}));
    const ir::Node* node = scene->model()->node(hit.node).node;
    QCOMPARE(listSelection(w), node);
    QCOMPARE(w.inspector()->node(), node);
    QCOMPARE(w.properties()->node(), node);
    QVERIFY2(offCentre(page->view(), scene->rectOf({Kind::Node, hit.node})) < 3,
             qPrintable(
                 QString::number(offCentre(page->view(), scene->rectOf({Kind::Node, hit.node})))));
    QVERIFY(page->view()->zoom() >= 0.75 - 1e-9);
    saveShot(w, shot);

    // By node name: the exact name ranks first.
    const ir::Node* last = g.nodes().back().get();
    search->lineEdit()->setText(ui::qstr(last->name));
    search->runSearch();
    QVERIFY(!search->hits().empty());
    QCOMPARE(search->hits().front().kind, ui::SearchHit::Kind::Node);
    QCOMPARE(scene->model()->node(search->hits().front().node).node, last);
    QCOMPARE(search->hits().front().rank, 0);

    // By tensor name: an intermediate tensor; its edges light up and choosing it selects the
    // producer.
    const ir::Value* tensor = g.nodes()[1]->input(0);
    QVERIFY(tensor && tensor->producer());
    search->lineEdit()->setText(ui::qstr(tensor->name));
    search->runSearch();
    int tensorRow = -1;
    for (std::size_t i = 0; i < search->hits().size(); ++i)
        if (search->hits()[i].kind == ui::SearchHit::Kind::Tensor &&
            search->hits()[i].value == tensor)
            tensorRow = int(i);
    QVERIFY(tensorRow >= 0);
    const std::vector<int> edges = scene->drawnEdgesOf(tensor);
    QVERIFY(!edges.empty());
    for (int e : edges)
        QVERIFY(scene->isEdgeHighlighted(e));
    search->activate(tensorRow);
    const layout::NodeId producer = scene->model()->nodeIdOf(tensor->producer());
    QTRY_VERIFY(scene->isSelected(layout::ItemRef{Kind::Node, producer}));
    QCOMPARE(listSelection(w), tensor->producer());
    QVERIFY(offCentre(page->view(), scene->rectOf({Kind::Node, producer})) < 3);

    // Graph inputs are found by name too.
    search->lineEdit()->setText(ui::qstr(g.inputs.front()->name));
    search->runSearch();
    bool input = false;
    for (const ui::SearchHit& h : search->hits())
        input |= h.kind == ui::SearchHit::Kind::Tensor && h.value == g.inputs.front() &&
                 scene->model()->node(h.node).kind == layout::IrItemKind::GraphInput;
    QVERIFY(input);

    // Clearing the query clears the highlights and hides the list.
    search->lineEdit()->clear();
    search->runSearch();
    QVERIFY(search->hits().empty());
    QVERIFY(!search->isVisible());
    for (ui::NodeItem* n : scene->nodeItems())
        QVERIFY(!scene->isSearchHit(n->id()));
}

void TestGraphView::nodeListSelectionCentersGraph() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::GraphPage* page = w.graphPage();
    ui::GraphScene* scene = page->scene();
    const ir::Graph& g = *w.document()->graph();
    for (const ir::Node* node : {g.nodes().back().get(), g.nodes().front().get()}) {
        QVERIFY(w.nodeList()->selectNode(ui::qstr(node->name)));
        const layout::NodeId id = scene->model()->nodeIdOf(node);
        QTRY_VERIFY(scene->isSelected(layout::ItemRef{Kind::Node, id}));
        QVERIFY(offCentre(page->view(), scene->rectOf({Kind::Node, id})) < 3);
        QCOMPARE(w.inspector()->node(), node);
    }
    // Clicking a node in the graph selects it in the list without moving the view.
    ui::NodeItem* relu = firstOp(scene, "Relu");
    QVERIFY(relu);
    page->view()->centerOn(relu->rect().center() + QPointF(30, 20));
    const QPointF before = page->view()->visibleSceneRect().center();
    QTest::mouseClick(page->view()->viewport(), Qt::LeftButton, {},
                      page->view()->mapFromScene(relu->rect().center()));
    QTRY_COMPARE(listSelection(w), relu->info().node);
    QCOMPARE(w.inspector()->node(), relu->info().node);
    QVERIFY((page->view()->visibleSceneRect().center() - before).manhattanLength() < 1);
}

void TestGraphView::collapseAndExpand_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("shot");
    QTest::newRow("mobilenet_v2") << modelPath("torchvision-arch/mobilenet_v2.onnx")
                                  << "graph_scope_mobilenet_v2";
    QTest::newRow("resnet18") << modelPath("torchvision-arch/resnet18.onnx")
                              << "graph_scope_resnet18";
}

void TestGraphView::collapseAndExpand() {
    QFETCH(QString, path);
    QFETCH(QString, shot);
    EW_REQUIRE_MODELS();
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, path));
    ui::GraphPage* page = w.graphPage();
    ui::GraphScene* scene = page->scene();
    ui::GraphView* view = page->view();
    const ui::GraphModelPtr model = scene->model();
    QVERIFY(model->groupCount() > 0);

    // A block (the largest expanded group of at most 30 ops, not the whole model), from the
    // second half of the drawing.
    layout::GroupId group = -1;
    for (ui::GroupItem* gi : scene->groupItems()) {
        const int ops = model->group(gi->id()).opCount;
        if (gi->isCollapsed() || ops < 3 || ops > 30 ||
            gi->rect().top() < scene->drawingRect().height() / 2)
            continue;
        if (group < 0 || ops > model->group(group).opCount) group = gi->id();
    }
    QVERIFY(group >= 0);
    auto inside = [&](layout::NodeId id) {
        for (layout::GroupId a : model->ancestors(model->graph().nodes[std::size_t(id)].group))
            if (a == group) return true;
        return false;
    };
    std::set<layout::NodeId> outsideBefore, insideBefore;
    for (ui::NodeItem* n : scene->nodeItems())
        (inside(n->id()) ? insideBefore : outsideBefore).insert(n->id());
    QVERIFY(insideBefore.size() >= 3);

    // Double-click the frame's header.
    ui::GroupItem* frame = scene->groupItem(group);
    view->setZoom(1.0);
    view->centerOn(frame->headerRect().center() + QPointF(0, 200));
    const QPoint header = view->mapFromScene(frame->headerRect().topLeft() + QPointF(40, 12));
    const QPointF cornerBefore = view->viewportTransform().map(frame->rect().topLeft());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, header);
    QTRY_VERIFY(!page->isLayingOut() && scene->groupItem(group) &&
                scene->groupItem(group)->isCollapsed());
    // Its nodes are gone, everything else is still there, the box sits where the frame was.
    std::set<layout::NodeId> outsideAfter;
    for (ui::NodeItem* n : scene->nodeItems()) {
        QVERIFY(!inside(n->id()));
        outsideAfter.insert(n->id());
    }
    QCOMPARE(outsideAfter, outsideBefore);
    QVERIFY(page->shownState().isCollapsed(group));
    for (layout::NodeId id : insideBefore)
        QCOMPARE(scene->shownRef(id), std::optional(layout::ItemRef{Kind::Group, group}));
    const QPointF cornerAfter =
        view->viewportTransform().map(scene->groupItem(group)->rect().topLeft());
    QVERIFY2((cornerAfter - cornerBefore).manhattanLength() <= 2,
             qPrintable(QString("%1,%2 -> %3,%4 (viewport %5x%6, h %7 of %8..%9, v %10 of %11..%12)")
                            .arg(cornerBefore.x())
                            .arg(cornerBefore.y())
                            .arg(cornerAfter.x())
                            .arg(cornerAfter.y())
                            .arg(view->viewport()->width())
                            .arg(view->viewport()->height())
                            .arg(view->horizontalScrollBar()->value())
                            .arg(view->horizontalScrollBar()->minimum())
                            .arg(view->horizontalScrollBar()->maximum())
                            .arg(view->verticalScrollBar()->value())
                            .arg(view->verticalScrollBar()->minimum())
                            .arg(view->verticalScrollBar()->maximum())));
    QVERIFY(page->statusText().contains("1 collapsed"));
    saveShot(w, shot + "_collapsed");

    // Double-click the collapsed box: back as before.
    const QPoint box = view->mapFromScene(scene->groupItem(group)->rect().center());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, box);
    QTRY_VERIFY(!page->isLayingOut() && scene->groupItem(group) &&
                !scene->groupItem(group)->isCollapsed());
    std::set<layout::NodeId> all;
    for (ui::NodeItem* n : scene->nodeItems())
        all.insert(n->id());
    std::set<layout::NodeId> expected = outsideBefore;
    expected.insert(insideBefore.begin(), insideBefore.end());
    QCOMPARE(all, expected);
    saveShot(w, shot + "_expanded");

    // Collapse all, then the node list reaches into a collapsed group: it opens around the node.
    page->collapseAll();
    QVERIFY(waitGraph(page));
    QVERIFY(scene->nodeItems().size() < expected.size());
    const layout::NodeId deep = *insideBefore.rbegin();
    QVERIFY(!scene->nodeItem(deep));
    QVERIFY(w.selectNode(model->node(deep).key));
    QTRY_VERIFY(!page->isLayingOut() && scene->nodeItem(deep) &&
                scene->isSelected({Kind::Node, deep}));
    QVERIFY(offCentre(view, scene->rectOf({Kind::Node, deep})) < 3);
    saveShot(w, shot + "_revealed");
    page->expandAll();
    QVERIFY(waitGraph(page));
    QCOMPARE(scene->nodeItems().size(), expected.size());
}

void TestGraphView::keyboardMovesAlongEdges() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::GraphPage* page = w.graphPage();
    ui::GraphScene* scene = page->scene();
    ui::GraphView* view = page->view();
    const ir::Graph& g = *w.document()->graph();
    const ir::Node* conv = g.nodes().front().get(); // Conv -> Relu -> Conv ...
    QVERIFY(page->showNode(conv));
    const layout::NodeId convId = scene->model()->nodeIdOf(conv);
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Down, Qt::AltModifier);
    const ir::Node* relu = conv->output(0)->uses().front().node;
    const layout::NodeId reluId = scene->model()->nodeIdOf(relu);
    QTRY_VERIFY(scene->isSelected({Kind::Node, reluId}));
    QCOMPARE(listSelection(w), relu);
    QCOMPARE(w.inspector()->node(), relu);
    QTest::keyClick(view, Qt::Key_Up, Qt::AltModifier);
    QTRY_VERIFY(scene->isSelected({Kind::Node, convId}));
    QCOMPARE(listSelection(w), conv);
    // Up from the first op reaches the graph input; further up there is nothing.
    QTest::keyClick(view, Qt::Key_Up, Qt::AltModifier);
    const auto sel = scene->selectedRef();
    QVERIFY(sel && sel->kind == Kind::Node);
    QCOMPARE(scene->model()->node(sel->id).kind, layout::IrItemKind::GraphInput);
    QTest::keyClick(view, Qt::Key_Up, Qt::AltModifier);
    QCOMPARE(scene->selectedRef(), sel);
    // Plain arrows pan.
    const int y = view->verticalScrollBar()->value();
    QTest::keyClick(view, Qt::Key_Down);
    QVERIFY(view->verticalScrollBar()->value() > y);
    // Producers and consumers of a node, as drawn.
    const auto consumers = scene->consumers({Kind::Node, convId});
    QCOMPARE(consumers.size(), std::size_t(1));
    QCOMPARE(consumers.front(), (layout::ItemRef{Kind::Node, reluId}));
    QVERIFY(!scene->producers({Kind::Node, convId}).empty());
}

void TestGraphView::zoomAndPan() {
    EW_REQUIRE_MODELS();
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, modelPath("torchvision-arch/resnet18.onnx")));
    ui::GraphPage* page = w.graphPage();
    ui::GraphView* view = page->view();
    ui::GraphScene* scene = page->scene();
    view->setZoom(0.5);
    view->centerOn(scene->drawingRect().center());
    auto sceneAt = [view](QPointF p) { return view->viewportTransform().inverted().map(p); };

    // The wheel zooms around the cursor: the scene point under it stays put.
    const QPointF at(view->viewport()->width() * 0.3, view->viewport()->height() * 0.4);
    const QPointF before = sceneAt(at);
    QWheelEvent wheel(at, view->viewport()->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view->viewport(), &wheel);
    QVERIFY(std::abs(view->zoom() - 0.6) < 1e-9);
    QVERIFY((sceneAt(at) - before).manhattanLength() * view->zoom() < 2);

    // A pinch (native zoom gesture, as touchpads send it) zooms around its point too.
    QNativeGestureEvent pinch(Qt::ZoomNativeGesture, QPointingDevice::primaryPointingDevice(), 2,
                              at, at, view->viewport()->mapToGlobal(at), 0.5, QPointF());
    QApplication::sendEvent(view->viewport(), &pinch);
    QVERIFY(std::abs(view->zoom() - 0.9) < 1e-9);
    QVERIFY((sceneAt(at) - before).manhattanLength() * view->zoom() < 2);

    // Dragging the background pans.
    view->setZoom(1.0);
    QPoint empty;
    for (int x = 20; x < view->viewport()->width(); x += 20) {
        const QPoint p(x, view->viewport()->height() / 2);
        if (view->items(p).isEmpty()) {
            empty = p;
            break;
        }
    }
    QVERIFY(!empty.isNull());
    const QPointF centreBefore = view->visibleSceneRect().center();
    QTest::mousePress(view->viewport(), Qt::LeftButton, {}, empty);
    for (int i = 1; i <= 5; ++i)
        QTest::mouseMove(view->viewport(), empty + QPoint(0, 20 * i));
    QTest::mouseRelease(view->viewport(), Qt::LeftButton, {}, empty + QPoint(0, 100));
    QVERIFY2(
        view->visibleSceneRect().center().y() < centreBefore.y() - 50,
        qPrintable(
            QString("%1 -> %2").arg(centreBefore.y()).arg(view->visibleSceneRect().center().y())));

    // Zoom limits, fit, and zoom to the selection.
    view->zoomBy(1000);
    QCOMPARE(view->zoom(), ui::GraphView::kMaxScale);
    view->zoomBy(1e-6);
    QCOMPARE(view->zoom(), view->minScale());
    view->fitAll();
    QVERIFY(view->visibleSceneRect().contains(scene->drawingRect()));
    ui::NodeItem* gemm = firstOp(scene, "Gemm");
    QVERIFY(scene->selectRef({Kind::Node, gemm->id()}));
    view->zoomToSelection();
    QVERIFY(view->zoom() > 1.0);
    QVERIFY(offCentre(view, gemm->rect()) < 3);
}

void TestGraphView::exportPngAndSvg() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::GraphPage* page = w.graphPage();
    const QString dir = m_tmp.filePath("export");
    QVERIFY(QDir().mkpath(dir));
    using Scope = ui::GraphExport::Scope;
    struct Case {
        Scope scope;
        QString file;
    };
    for (const Case& c : {Case{Scope::View, "view.png"}, Case{Scope::Whole, "whole.png"},
                          Case{Scope::View, "view.svg"}, Case{Scope::Whole, "whole.svg"}}) {
        const QString path = dir + "/" + c.file;
        const QString err = page->exportImage(c.scope, path);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QVERIFY(QFileInfo(path).size() > 0);
        if (c.file.endsWith(".png")) {
            QImage img(path);
            QVERIFY(!img.isNull());
            QCOMPARE(img.size(), ui::GraphExport::pngSize(page->view(), c.scope));
            QVERIFY(pixelsDiffering(img, img.rect(), ui::GraphStyle::get().background) > 500);
            if (c.scope == Scope::Whole) {
                // At 100 %: the drawing plus margins.
                const QRectF d = page->scene()->drawingRect();
                QCOMPARE(img.width(), int(std::lround(d.width() + 48)));
            }
        } else {
            QSvgRenderer svg(path);
            QVERIFY(svg.isValid());
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray xml = f.readAll();
            QXmlStreamReader reader(xml);
            while (!reader.atEnd())
                reader.readNext();
            QVERIFY2(!reader.hasError(), qPrintable(reader.errorString()));
            QVERIFY(xml.contains("Conv")); // op names as text
        }
    }
    // Only the four files: no temporary files left behind.
    QCOMPARE(QDir(dir).entryList(QDir::Files).size(), 4);

    // An unwritable target (a "directory" that is a file) fails and names the file.
    const QString blocker = dir + "/not_a_dir";
    {
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
    }
    const QString bad = blocker + "/graph.png";
    const QString err = page->exportImage(Scope::Whole, bad);
    QVERIFY(!err.isEmpty());
    QVERIFY2(err.contains(QDir::toNativeSeparators(bad)), qPrintable(err));
    QVERIFY(!QFileInfo::exists(bad));
    auto* box = page->findChild<QMessageBox*>("graphExportError");
    QVERIFY(box);
    QCOMPARE(box->text(), err);
    box->accept();
    // An unknown suffix is refused up front, also naming the file.
    const QString err2 = page->exportImage(Scope::View, dir + "/graph.bmp");
    QVERIFY(err2.contains("graph.bmp"));
    if (auto* b = page->findChild<QMessageBox*>("graphExportError")) b->accept();
}

void TestGraphView::overlayTintsNodes() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::GraphPage* page = w.graphPage();
    ui::GraphScene* scene = page->scene();
    const ir::Graph& g = *w.document()->graph();
    // A latency overlay for the Conv and Gemm nodes only.
    QJsonObject values;
    int i = 0;
    for (const auto& n : g.nodes())
        if (n->opType == "Conv" || n->opType == "Gemm") values[ui::qstr(n->name)] = 0.1 + 0.2 * i++;
    const QString file = m_tmp.filePath("latency.json");
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(QJsonObject{{"name", "latency"}, {"unit", "ms"}, {"values", values}})
                    .toJson());
    }
    QVERIFY(w.loadOverlay(file));
    ui::OverlayController* ov = w.overlays();
    QVERIFY(scene->overlayActive());
    int tinted = 0;
    for (ui::NodeItem* n : scene->nodeItems()) {
        if (!n->info().node) continue;
        const std::optional<QColor> c = ov->colorFor(n->info().key);
        if (c) {
            ++tinted;
            QCOMPARE(n->headerColor(), *c);
        } else {
            QCOMPARE(n->headerColor(), ui::GraphStyle::get().noValue);
        }
    }
    QCOMPARE(tinted, values.size());
    // The gradient runs from the smallest to the largest value.
    ui::NodeItem* convItem = firstOp(scene, "Conv");
    QCOMPARE(convItem->headerColor(), ui::OverlayController::gradientColor(0.0));
    saveShot(w, "graph_overlay");
    // The threshold hides the small ones; switching the overlay off restores the categories.
    ov->setThreshold(ov->current()->maxValue);
    QCOMPARE(convItem->headerColor(), ui::GraphStyle::get().noValue);
    ov->setCurrentIndex(-1);
    QVERIFY(!scene->overlayActive());
    QCOMPARE(convItem->headerColor(), ui::opCategoryColor(ui::OpCategory::Convolution));
}

void TestGraphView::levelOfDetail() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::GraphPage* page = w.graphPage();
    ui::GraphView* view = page->view();
    ui::NodeItem* conv = firstOp(page->scene(), "Conv");
    QVERIFY(conv);
    QVERIFY(ui::NodeItem::showsText(1.0));
    QVERIFY(!ui::NodeItem::showsText(0.3));
    // Close up the header shows its title (white text on the category colour); far out the
    // header is one flat colour.
    const QColor header = conv->headerColor();
    const QRectF br = conv->boundingRect();
    auto headerArea = [&](double s) {
        const QRectF r = conv->rect().translated(-br.topLeft());
        return QRect(QPoint(int(std::ceil((r.left() + 6) * s)), int(std::ceil((r.top() + 3) * s))),
                     QPoint(int((r.right() - 6) * s), int((r.top() + 17) * s)));
    };
    const QImage nearImg = paintItem(conv, 1.0);
    QVERIFY(pixelsDiffering(nearImg, headerArea(1.0), header) > 20);
    const QImage farImg = paintItem(conv, 0.35);
    QCOMPARE(pixelsDiffering(farImg, headerArea(0.35), header), 0);

    // The view: far out it paints the sketch (and still shows the nodes), close up the items.
    view->setZoom(1.0);
    QVERIFY(!view->isSketchMode());
    view->setZoom(0.1);
    QVERIFY(view->isSketchMode());
    QVERIFY(page->scene()->sketch().boxCount() >= int(page->scene()->nodeItems().size()));
    view->centerOn(page->scene()->drawingRect().center());
    const QImage shot = view->viewport()->grab().toImage();
    QVERIFY(pixelsDiffering(shot, shot.rect(), ui::GraphStyle::get().background) > 50);
    QVERIFY(page->scene()->sketch().lastBoxesDrawn() > 0);
}

void TestGraphView::cancelKeepsPreviousDrawing() {
    ui::GraphPage page;
    page.resize(1200, 800);
    page.show();
    page.setLayoutGraph(layout::syntheticGraph(50000, 1, true));
    QVERIFY(waitGraph(&page));
    ui::GraphScene* scene = page.scene();
    const auto before = scene->nodeItems().size();
    const int collapsedBefore = scene->drawing().stats.collapsedGroups;
    QVERIFY(collapsedBefore > 0); // opened collapsed at the default depth
    QVERIFY(before < 2000);
    // Expand everything and cancel through the progress dialog's button. The pool threads are
    // held meanwhile so the job cannot finish before the click, however fast the machine.
    QThreadPool* pool = QThreadPool::globalInstance();
    QSemaphore release;
    const int threads = pool->maxThreadCount();
    for (int i = 0; i < threads; ++i)
        pool->start([&release] { release.acquire(); });
    QSignalSpy finished(&page, &ui::GraphPage::layoutFinished);
    page.expandAll();
    QVERIFY(page.isLayingOut());
    auto* dlg = page.findChild<QProgressDialog*>("graphLayoutProgress");
    QVERIFY(dlg);
    auto* cancel = dlg->findChild<QPushButton*>();
    QVERIFY(cancel);
    cancel->click();
    release.release(threads);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
    QCOMPARE(finished.first().first().toBool(), false);
    QCOMPARE(scene->nodeItems().size(), before);
    QCOMPARE(scene->drawing().stats.collapsedGroups, collapsedBefore);
    QVERIFY2(page.statusText().contains("cancelled"), qPrintable(page.statusText()));
    // A cancelled run leaves the page usable: toggling a group still works.
    ui::GroupItem* box = nullptr;
    for (ui::GroupItem* gi : scene->groupItems())
        if (gi->isCollapsed()) box = gi;
    QVERIFY(box);
    const layout::GroupId id = box->id();
    const std::size_t itemsBefore = scene->nodeItems().size() + scene->groupItems().size();
    page.toggleGroup(id);
    QVERIFY(waitGraph(&page));
    QVERIFY(scene->groupItem(id) && !scene->groupItem(id)->isCollapsed());
    QVERIFY(!page.shownState().isCollapsed(id));
    QVERIFY(scene->nodeItems().size() + scene->groupItems().size() > itemsBefore);
    // Everything open and fitted: far out the view paints the batched sketch.
    page.expandAll();
    QVERIFY(waitGraph(&page));
    QCOMPARE(int(scene->nodeItems().size()), 50000);
    page.view()->fitAll();
    QVERIFY(page.view()->isSketchMode());
    saveShot(page, "graph_synthetic_50k_fit");
    page.view()->setZoom(0.05);
    page.view()->centerOn(scene->drawingRect().center());
    saveShot(page, "graph_synthetic_50k_zoom5");
}

void TestGraphView::cancelFirstLayoutOffersRetry() {
    // Hold every pool thread so the layout job waits in the queue: the cancel surely comes
    // first, whatever the machine's speed.
    QThreadPool* pool = QThreadPool::globalInstance();
    QSemaphore release;
    const int threads = pool->maxThreadCount();
    for (int i = 0; i < threads; ++i)
        pool->start([&release] { release.acquire(); });
    ui::GraphPage page;
    page.resize(1000, 700);
    page.show();
    QSignalSpy finished(&page, &ui::GraphPage::layoutFinished);
    page.setLayoutGraph(layout::syntheticGraph(2000, 3, true));
    QVERIFY(page.isLayingOut());
    page.cancelLayout();
    release.release(threads);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY(!page.scene()->hasDrawing());
    QCOMPARE(page.view()->placeholderText(), QString("Layout cancelled."));
    auto* retry = page.findChild<QPushButton*>("graphRetry");
    QVERIFY(retry && retry->isVisible());
    saveShot(page, "graph_layout_cancelled");
    retry->click();
    QVERIFY(waitGraph(&page));
    QVERIFY(!retry->isVisible());
    QVERIFY(!page.scene()->nodeItems().empty());
}

void TestGraphView::weightsHistogramFromGraph() {
    EW_REQUIRE_MODELS();
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, modelPath("torchvision-arch/resnet18.onnx")));
    ui::GraphPage* page = w.graphPage();
    ui::GraphView* view = page->view();
    // Click the stem Conv on the canvas: the inspector shows its weights' histogram.
    ui::NodeItem* conv = firstOp(page->scene(), "Conv");
    QVERIFY(conv);
    view->centerOn(conv->rect().center());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
                      view->mapFromScene(conv->rect().center()));
    QTRY_COMPARE(w.inspector()->node(), conv->info().node);
    ui::TensorView* tv = w.inspector()->tensorView();
    QTRY_VERIFY(!tv->isBusy() && tv->analysis());
    QVERIFY(tv->current());
    QVERIFY(tv->histogramPlot()->plottableCount() > 0);
    QCOMPARE(listSelection(w), conv->info().node);
    saveShot(w, "graph_weights_histogram");
}

void TestGraphView::screenshotWaitsForLayout() {
    // `edgewise --screenshot FILE MODEL` grabs the window once the graph is laid out.
    const QString exe = test::binDir() + "/edgewise";
    if (!QFileInfo::exists(exe)) QSKIP("[ew-skip] edgewise is not built");
    const QString file = test::artifactsDir() + "/graph_cli_screenshot.png";
    QFile::remove(file);
    // Its own settings: a window state saved by someone's session must not shape the picture.
    QTemporaryDir config;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("XDG_CONFIG_HOME", config.path());
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(exe, {"--screenshot", file, samplePath()});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    QImage img(file);
    QVERIFY(!img.isNull());
    // Conv headers (not just the legend's swatch) are in the picture.
    const QRgb conv = ui::opCategoryColor(ui::OpCategory::Convolution).rgb();
    int n = 0;
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            n += (img.pixel(x, y) & 0xffffff) == (conv & 0xffffff);
    QVERIFY2(n > 1000, qPrintable(QString::number(n)));
}

QTEST_MAIN(TestGraphView)
#include "tst_graph_view.moc"
