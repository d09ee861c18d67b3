// The Optimize panel, offscreen: the pass list follows ew::opt::allPasses() and the presets follow
// the pipelines; Run optimizes a clone off the GUI thread and its statistics match an independent
// ew::opt::optimize; the graph shows the optimized model with the changed nodes as an overlay;
// Undo/Redo swap the documents; Save writes the optimized model; cancel and a failing pass leave
// the document as it was. Runs on a small model with Identity nodes (so something changes with
// only the clean-up passes) and on mobilenet_v2_unfused (assertions independent of which passes
// exist). Screenshots go to build/test-artifacts/optimize_*.png.
#include "optimize_test_util.h"
#include "test_util.h"

#include "ir/io/model_io.h"
#include "ir/onnx/onnx_export.h"
#include "widgets/format_util.h"
#include "widgets/graph/graph_page.h"
#include "widgets/graph/graph_scene.h"
#include "widgets/i18n.h"
#include "widgets/main_window.h"
#include "widgets/node_list_panel.h"
#include "widgets/node_table_model.h"
#include "widgets/optimize/optimize_command.h"
#include "widgets/optimize/optimize_panel.h"
#include "widgets/overlay/overlay_controller.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QTreeWidget>
#include <QUndoStack>

#include <set>

using namespace ew;

namespace {

constexpr int kTimeoutMs = 300000;

// Identity chains around real ops, a dead node and an unused initializer: the three clean-up
// passes change it (6 nodes -> Add and Relu, the Relu taking over the output name y).
const char* kIdentityModel = R"(
<ir_version: 8, opset_import: ["" : 13]>
g (float[1,4] x) => (float[1,4] y) <float[4] b = {1,2,3,4}, float[4] spare = {5,6,7,8}> {
  a = Identity(x)
  c = Add(a, b)
  d = Identity(c)
  e = Relu(d)
  dead = Neg(e)
  y = Identity(e)
}
)";

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

bool waitRun(ui::OptimizePanel* p) {
    QElapsedTimer t;
    t.start();
    while (p->isRunning() && t.elapsed() < kTimeoutMs)
        QTest::qWait(20);
    QTest::qWait(20);
    return !p->isRunning();
}

void saveShot(QWidget& w, const QString& name) {
    QTest::qWait(50);
    QString file = test::artifactsDir() + "/" + name + ".png";
    QVERIFY2(w.grab().save(file), qPrintable("cannot write " + file));
    qInfo("screenshot: %s", qPrintable(file));
}

/// Op boxes of the main graph in the graph page's model (inputs, outputs and weights excluded).
int graphOpCount(ui::GraphPage* page, const ir::Graph* main) {
    if (!page->model()) return -1;
    int n = 0;
    for (std::size_t i = 0; i < page->model()->nodeCount(); ++i) {
        const ui::GraphNodeInfo& info = page->model()->node(layout::NodeId(i));
        n += info.node && info.node->graph() == main;
    }
    return n;
}

qlonglong summaryValue(ui::OptimizePanel* p, int row, int col) {
    QTableWidgetItem* it = p->summaryTable()->item(row, col);
    return it ? it->data(ui::OptimizePanel::ValueRole).toLongLong() : -1;
}

QTreeWidgetItem* resultRow(ui::OptimizePanel* p, const QString& pass) {
    for (int i = 0; i < p->resultTree()->topLevelItemCount(); ++i)
        if (p->resultTree()->topLevelItem(i)->text(0) == pass) return p->resultTree()->topLevelItem(i);
    return nullptr;
}

QString selectedNodeName(ui::MainWindow& w) {
    auto rows = w.nodeList()->view()->selectionModel()->selectedRows();
    if (rows.isEmpty()) return {};
    auto* proxy = w.nodeList()->proxyModel();
    const ir::Node* n = w.nodeList()->sourceModel()->nodeAt(proxy->mapToSource(rows.first()).row());
    return n ? QString::fromStdString(n->name) : QString();
}

/// The clean-up passes that exist from the start, so the small model's numbers do not depend on
/// which other passes are there.
const std::vector<std::string> kCleanup = {"eliminate-identity", "eliminate-dead-nodes",
                                           "eliminate-unused-initializers"};

bool useCleanupPasses(ui::OptimizePanel* p) {
    p->choosePreset("default");
    for (const QString& n : p->checkedPasses()) p->setPassChecked(n, false);
    for (const std::string& n : kCleanup) p->setPassChecked(QString::fromStdString(n), true);
    return p->currentOptions().passes == kCleanup;
}

/// What the panel must show, computed without the GUI: the same pipeline on a fresh clone.
opt::OptimizeReport independentReport(const ir::Model& model, const opt::OptimizeOptions& o) {
    auto clone = model.clone();
    auto r = opt::optimize(*clone, o);
    if (!r) qFatal("independent optimize failed: %s", r.error().toString().c_str());
    return *r;
}

} // namespace

class TestOptimizePanel : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void init();
    void passListFollowsRegistry();
    void presetsAndCustomOrder();
    void runUndoRedoSmallModel();
    void saveOptimizedModel();
    void cancelLeavesDocumentUnchanged();
    void failingPassLeavesDocumentUnchanged();
    void mobilenetUnfused();

  private:
    QTemporaryDir m_tmp;
    QString m_identityPath;
};

void TestOptimizePanel::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgewiseTest");
    QCoreApplication::setApplicationName("tst_optimize_panel");
    QVERIFY(m_tmp.isValid());
    QCOMPARE(ui::installTranslations(*QCoreApplication::instance(), "en"), QString("en"));

    auto m = test::parseModel(kIdentityModel);
    QVERIFY(m);
    // Named nodes, so changes can be found again on the canvas and in the node list.
    for (const auto& n : m->graph->nodes()) n->name = "node_" + n->outputs()[0]->name;
    m_identityPath = m_tmp.filePath("identities.onnx");
    auto saved = onnxfmt::exportOnnxFile(*m, test::str(m_identityPath));
    QVERIFY2(saved, saved ? "" : saved.error().toString().c_str());
}

void TestOptimizePanel::init() {
    QSettings().clear();
}

void TestOptimizePanel::passListFollowsRegistry() {
    ui::MainWindow w;
    ui::OptimizePanel* p = w.optimizePanel();
    QVERIFY(p);
    const auto passes = opt::allPasses();
    QCOMPARE(p->passList()->topLevelItemCount(), int(passes.size()));
    for (std::size_t i = 0; i < passes.size(); ++i) {
        QTreeWidgetItem* it = p->passList()->topLevelItem(int(i));
        QCOMPARE(it->text(0), ui::qstr(passes[i].name));
        QVERIFY(it->text(1).contains(ui::qstr(passes[i].description)));
        QVERIFY(it->flags() & Qt::ItemIsUserCheckable);
        // Runtime passes only with the Edgewise target.
        QCOMPARE(bool(it->flags() & Qt::ItemIsEnabled), passes[i].kind == opt::PassKind::Portable);
    }
    p->targetBox()->setChecked(true);
    for (int i = 0; i < p->passList()->topLevelItemCount(); ++i)
        QVERIFY(p->passList()->topLevelItem(i)->flags() & Qt::ItemIsEnabled);
    p->targetBox()->setChecked(false);
    for (std::size_t i = 0; i < passes.size(); ++i)
        if (passes[i].kind == opt::PassKind::Runtime)
            QCOMPARE(p->passList()->topLevelItem(int(i))->checkState(0), Qt::Unchecked);
    // No model: nothing to run.
    QVERIFY(!p->runButton()->isEnabled());
    QVERIFY(!p->run());
}

void TestOptimizePanel::presetsAndCustomOrder() {
    ui::MainWindow w;
    ui::OptimizePanel* p = w.optimizePanel();
    auto asSet = [](auto names) {
        std::set<QString> s;
        for (const auto& n : names) s.insert(ui::qstr(n));
        return s;
    };
    auto checked = [&] {
        const QStringList c = p->checkedPasses();
        return std::set<QString>(c.begin(), c.end());
    };
    for (std::string_view pipeline : opt::pipelineNames()) {
        p->choosePreset(ui::qstr(pipeline));
        QCOMPARE(p->presetBox()->currentData().toString(), ui::qstr(pipeline));
        QCOMPARE(checked(), asSet(*opt::pipelinePasses(pipeline)));
        const opt::OptimizeOptions o = p->currentOptions();
        QVERIFY(o.passes.empty());
        QCOMPARE(o.pipeline, std::string(pipeline));
        QCOMPARE(o.target, opt::Target::Onnx);

        p->targetBox()->setChecked(true);
        QCOMPARE(checked(), asSet(*opt::pipelinePasses(pipeline, opt::Target::Edgewise)));
        QCOMPARE(p->currentOptions().target, opt::Target::Edgewise);
        p->targetBox()->setChecked(false);
        QCOMPARE(checked(), asSet(*opt::pipelinePasses(pipeline)));
    }

    // Unchecking one pass of the default preset makes a custom list in pipeline order.
    p->choosePreset("default");
    const auto defaults = *opt::pipelinePasses("default");
    const QString dropped = ui::qstr(defaults.front());
    p->setPassChecked(dropped, false);
    QCOMPARE(p->presetBox()->currentData().toString(), QString());
    QCOMPARE(p->presetBox()->currentText(), QString("Custom"));
    const opt::OptimizeOptions o = p->currentOptions();
    std::vector<std::string> expected;
    const auto aggressive = *opt::pipelinePasses("aggressive");
    for (std::string_view n : aggressive)
        if (ui::qstr(n) != dropped && asSet(defaults).contains(ui::qstr(n))) expected.emplace_back(n);
    QCOMPARE(o.passes, expected);
    // Checking it again is the preset again.
    p->setPassChecked(dropped, true);
    QCOMPARE(p->presetBox()->currentData().toString(), QString("default"));
    // Nothing checked: Run is off.
    for (const QString& n : p->checkedPasses()) p->setPassChecked(n, false);
    QVERIFY(p->checkedPasses().isEmpty());
    QVERIFY(!p->run());
}

void TestOptimizePanel::runUndoRedoSmallModel() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, m_identityPath));
    const ui::DocumentPtr original = w.document();
    QCOMPARE(int(original->graph()->nodes().size()), 6);

    ui::OptimizePanel* p = w.optimizePanel();
    w.findChild<QAction*>("optimizeAction")->trigger();
    QVERIFY(w.findChild<QDockWidget*>("optimizeDock")->isVisible());
    QVERIFY(useCleanupPasses(p));
    QVERIFY(p->runButton()->isEnabled());
    QSignalSpy finished(p, &ui::OptimizePanel::finished);
    QTest::mouseClick(p->runButton(), Qt::LeftButton);
    QVERIFY(p->isRunning());
    QVERIFY(!p->runButton()->isEnabled());
    QVERIFY(waitRun(p));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toBool(), true);
    QVERIFY2(p->lastError().isEmpty(), qPrintable(p->lastError()));
    QVERIFY(waitGraph(w.graphPage()));

    // Independent numbers: the default pipeline on a fresh copy of the file.
    auto loaded = ir::loadModel(test::str(m_identityPath));
    QVERIFY(loaded);
    opt::OptimizeOptions o;
    o.passes = kCleanup;
    const opt::OptimizeReport ref = independentReport(**loaded, o);
    QCOMPARE(ref.before.nodes, 6);
    QCOMPARE(ref.after.nodes, 2);
    QCOMPARE(ref.before.parameters, 8);
    QCOMPARE(ref.after.parameters, 4);
    QVERIFY(p->lastOutcome());
    const opt::OptimizeReport& got = p->lastOutcome()->report;
    QCOMPARE(got.passOrder, ref.passOrder);
    QCOMPARE(got.rounds, ref.rounds);
    using P = ui::OptimizePanel;
    QCOMPARE(summaryValue(p, P::RowNodes, P::ColBefore), qlonglong(ref.before.nodes));
    QCOMPARE(summaryValue(p, P::RowNodes, P::ColAfter), qlonglong(ref.after.nodes));
    QCOMPARE(summaryValue(p, P::RowNodes, P::ColChange), qlonglong(ref.after.nodes - ref.before.nodes));
    QCOMPARE(summaryValue(p, P::RowParameters, P::ColBefore), qlonglong(ref.before.parameters));
    QCOMPARE(summaryValue(p, P::RowParameters, P::ColAfter), qlonglong(ref.after.parameters));
    QCOMPARE(summaryValue(p, P::RowMacs, P::ColBefore), qlonglong(ref.before.macs));
    QCOMPARE(summaryValue(p, P::RowMacs, P::ColAfter), qlonglong(ref.after.macs));
    QCOMPARE(p->summaryTable()->item(P::RowNodes, P::ColBefore)->text(), QString("6"));
    QCOMPARE(p->summaryTable()->item(P::RowNodes, P::ColAfter)->text(), QString("2"));
    QCOMPARE(p->summaryTable()->item(P::RowNodes, P::ColChange)->text(), QString("−4 (−67 %)"));
    // Size: both models serialized as ONNX.
    const auto sizeBefore = onnxfmt::serializeOnnx(*original->model);
    const auto sizeAfter = onnxfmt::serializeOnnx(*w.document()->model);
    QVERIFY(sizeBefore && sizeAfter);
    QCOMPARE(summaryValue(p, P::RowSize, P::ColBefore), qlonglong(sizeBefore->size()));
    QCOMPARE(summaryValue(p, P::RowSize, P::ColAfter), qlonglong(sizeAfter->size()));
    QVERIFY(sizeAfter->size() < sizeBefore->size());
    // Latency: both run on the local runtime.
    for (int col : {P::ColBefore, P::ColAfter}) {
        QTableWidgetItem* it = p->summaryTable()->item(P::RowLatency, col);
        QVERIFY2(it->data(P::ValueRole).toDouble() > 0, qPrintable(it->text() + " " + it->toolTip()));
        QVERIFY(it->text().endsWith(" ms"));
    }
    // Per-pass statistics, with the changes beneath.
    QCOMPARE(p->resultTree()->topLevelItemCount(), int(ref.passes.size()));
    for (const opt::PassStats& s : ref.passes) {
        QTreeWidgetItem* row = resultRow(p, ui::qstr(s.name));
        QVERIFY2(row, s.name.c_str());
        QCOMPARE(row->data(P::PassColRemoved, P::ValueRole).toInt(), s.removed);
        QCOMPARE(row->data(P::PassColFused, P::ValueRole).toInt(), s.fused);
        QCOMPARE(row->data(P::PassColAdded, P::ValueRole).toInt(), s.added);
        QCOMPARE(row->data(P::PassColRewritten, P::ValueRole).toInt(), s.rewritten);
        QCOMPARE(row->data(P::PassColNodes, P::ValueRole).toLongLong(), qlonglong(s.nodesDelta));
        QCOMPARE(row->data(P::PassColRuns, P::ValueRole).toInt(), s.changedRuns);
        QCOMPARE(row->childCount(), int(s.changes.size()));
    }
    QTreeWidgetItem* identities = resultRow(p, "eliminate-identity");
    QCOMPARE(identities->data(P::PassColRemoved, P::ValueRole).toInt(), 3);
    std::set<QString> removed;
    for (int i = 0; i < identities->childCount(); ++i)
        removed.insert(identities->child(i)->data(0, P::NodeNameRole).toString());
    QCOMPARE(removed, (std::set<QString>{"node_a", "node_d", "node_y"}));
    QCOMPARE(resultRow(p, "eliminate-dead-nodes")->child(0)->data(0, P::NodeNameRole).toString(),
             QString("node_dead"));

    // The window shows the optimized model, in the graph too.
    const ui::DocumentPtr optimized = w.document();
    QVERIFY(optimized != original);
    QCOMPARE(optimized, p->lastOutcome()->document);
    QCOMPARE(optimized->summary.nodeCount, ref.after.nodes);
    QCOMPARE(graphOpCount(w.graphPage(), optimized->graph()), int(ref.after.nodes));
    QCOMPARE(w.undoStack()->count(), 1);
    // The overlay marks the nodes around what was removed: Relu lost its Identity input, its
    // output Identity and the dead Neg; Add lost the Identities before and after it.
    const ui::Overlay* ov = w.overlays()->current();
    QVERIFY(ov);
    QCOMPARE(ov->name, QString("Optimizer: changed nodes"));
    QCOMPARE(ov->values.value("node_e"), 3.0);
    QCOMPARE(ov->values.value("node_c"), 2.0);
    QCOMPARE(ov->values.size(), 2);
    QVERIFY(w.overlays()->colorFor("node_e"));
    QVERIFY(!w.overlays()->colorFor("node_d"));
    QVERIFY(p->statusLabel()->text().contains("optimized model"));
    // A removed node is not in the graph shown: clicking its change says so.
    QSignalSpy activated(p, &ui::OptimizePanel::nodeActivated);
    QTreeWidgetItem* removedRow = identities->child(0);
    p->resultTree()->scrollToItem(removedRow);
    QTest::mouseClick(p->resultTree()->viewport(), Qt::LeftButton, {},
                      p->resultTree()->visualItemRect(removedRow).center());
    QCOMPARE(activated.count(), 0);
    QVERIFY(p->statusLabel()->text().contains("is not in the graph shown"));
    w.findChild<QDockWidget*>("optimizeDock")->raise();
    saveShot(w, "optimize_identities_after");

    // Undo: the very document the run started from, with the removed nodes highlighted.
    QVERIFY(p->undoButton()->isEnabled());
    QTest::mouseClick(p->undoButton(), Qt::LeftButton);
    QCOMPARE(w.document(), original);
    QVERIFY(waitGraph(w.graphPage()));
    QCOMPARE(graphOpCount(w.graphPage(), original->graph()), 6);
    QCOMPARE(w.overlays()->current()->name, QString("Optimizer: removed nodes"));
    QVERIFY(w.overlays()->colorFor("node_d"));
    QVERIFY(w.overlays()->colorFor("node_dead"));
    QVERIFY(!w.overlays()->colorFor("node_c"));
    QVERIFY(p->statusLabel()->text().contains("Undone"));
    // Now the removed node exists: clicking its change selects it.
    p->resultTree()->scrollToItem(removedRow);
    QTest::mouseClick(p->resultTree()->viewport(), Qt::LeftButton, {},
                      p->resultTree()->visualItemRect(removedRow).center());
    QCOMPARE(activated.count(), 1);
    QCOMPARE(selectedNodeName(w), removedRow->data(0, P::NodeNameRole).toString());
    saveShot(w, "optimize_identities_undone");

    // Redo: the optimized document again, nothing recomputed.
    QVERIFY(p->redoButton()->isEnabled());
    QTest::mouseClick(p->redoButton(), Qt::LeftButton);
    QCOMPARE(w.document(), optimized);
    QVERIFY(waitGraph(w.graphPage()));
    QCOMPARE(graphOpCount(w.graphPage(), optimized->graph()), 2);
    QCOMPARE(w.overlays()->current()->name, QString("Optimizer: changed nodes"));

    // Opening another model drops the edits.
    QVERIFY(loadInto(w, m_identityPath));
    QCOMPARE(w.undoStack()->count(), 0);
    QVERIFY(!p->undoButton()->isEnabled());
}

void TestOptimizePanel::saveOptimizedModel() {
    ui::MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, m_identityPath));
    ui::OptimizePanel* p = w.optimizePanel();
    p->benchBox()->setChecked(false);
    QVERIFY(useCleanupPasses(p));
    QVERIFY(p->run());
    QVERIFY(waitRun(p));
    QVERIFY2(p->lastError().isEmpty(), qPrintable(p->lastError()));
    QCOMPARE(p->summaryTable()->item(ui::OptimizePanel::RowLatency, 0)->text(), QString("not measured"));
    const int64_t after = w.document()->summary.nodeCount;
    QCOMPARE(after, 2);

    // Save… goes through the window's Save As dialog and its atomic write.
    const QString out = m_tmp.filePath("identities_optimized.onnx");
    bool answered = false, gaveUp = false;
    int stable = 0;
    QElapsedTimer waited;
    waited.start();
    QTimer poll;
    poll.setInterval(20);
    connect(&poll, &QTimer::timeout, [&] {
        for (QWidget* top : QApplication::topLevelWidgets()) {
            auto* dlg = qobject_cast<QFileDialog*>(top);
            if (!dlg || !dlg->isVisible() || answered) continue;
            if (waited.elapsed() > 30000) { // never hang the suite on a dialog
                answered = gaveUp = true;
                QMetaObject::invokeMethod(dlg, "reject", Qt::QueuedConnection);
                continue;
            }
            // The dialog fills its directory model asynchronously and may then re-select the
            // suggested name: type ours and accept once it has stayed put for a while.
            auto* edit = dlg->findChild<QLineEdit*>("fileNameEdit");
            if (!edit) continue;
            if (edit->text() != out) {
                edit->setText(out);
                stable = 0;
            } else if (++stable >= 10) {
                answered = true;
                QMetaObject::invokeMethod(dlg, "accept", Qt::QueuedConnection);
            }
        }
    });
    poll.start();
    QSignalSpy saved(&w, &ui::MainWindow::modelSaved);
    QTest::mouseClick(p->saveButton(), Qt::LeftButton);
    QVERIFY(answered);
    QVERIFY2(!gaveUp, "the file dialog never took the name");
    QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 60000);
    poll.stop();
    QCOMPARE(saved.first().first().toString(), QFileInfo(out).absoluteFilePath());
    auto reloaded = ir::loadModel(test::str(out));
    QVERIFY(reloaded);
    QCOMPARE(int64_t((*reloaded)->graph->nodeCountRecursive()), after);
    // The source file is untouched.
    auto source = ir::loadModel(test::str(m_identityPath));
    QVERIFY(source);
    QCOMPARE((*source)->graph->nodes().size(), std::size_t(6));
}

void TestOptimizePanel::cancelLeavesDocumentUnchanged() {
    ui::MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, m_identityPath));
    const ui::DocumentPtr original = w.document();
    ui::OptimizePanel* p = w.optimizePanel();
    QVERIFY(useCleanupPasses(p));
    QSignalSpy finished(p, &ui::OptimizePanel::finished);
    QVERIFY(p->run());
    QVERIFY(p->cancelButton()->isEnabled());
    // Cancel before the result is taken: whatever the worker got to, nothing is applied.
    QTest::mouseClick(p->cancelButton(), Qt::LeftButton);
    QVERIFY(waitRun(p));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toBool(), false);
    QCOMPARE(w.document(), original);
    QCOMPARE(w.undoStack()->count(), 0);
    QVERIFY(p->lastError().contains("cancelled"));
    QVERIFY(p->statusLabel()->text().contains("unchanged"));
    QVERIFY(!p->errorBox()); // a cancel is no error
    QVERIFY(p->runButton()->isEnabled());
    // And a run afterwards works.
    QVERIFY(p->run());
    QVERIFY(waitRun(p));
    QCOMPARE(w.undoStack()->count(), 1);
    QCOMPARE(w.document()->summary.nodeCount, 2);
}

void TestOptimizePanel::failingPassLeavesDocumentUnchanged() {
    // A model the verifier rejects (a graph input listed twice): the first pass that changes
    // something fails verification, and the panel must say so and apply nothing.
    auto m = test::parseModel(kIdentityModel);
    QVERIFY(m);
    m->graph->inputs.push_back(m->graph->inputs.front());
    auto doc = std::make_shared<ui::ModelDocument>();
    doc->path = m_tmp.filePath("broken.onnx");
    doc->model = std::move(m);
    const ui::DocumentPtr broken = doc;

    QUndoStack stack;
    int applied = 0;
    ui::OptimizePanel p(&stack, nullptr, [&](const ui::DocumentPtr&) { ++applied; });
    p.resize(480, 800);
    p.show();
    p.setDocument(broken);
    QVERIFY(useCleanupPasses(&p));
    QSignalSpy finished(&p, &ui::OptimizePanel::finished);
    QVERIFY(p.run());
    QVERIFY(waitRun(&p));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toBool(), false);
    QCOMPARE(applied, 0);
    QCOMPARE(stack.count(), 0);
    QCOMPARE(p.document(), broken);
    QVERIFY2(p.lastError().contains("eliminate-identity") && p.lastError().contains("listed twice"),
             qPrintable(p.lastError()));
    QVERIFY(p.statusLabel()->text().contains("unchanged"));
    QVERIFY(p.errorBox());
    QVERIFY(p.errorBox()->informativeText().contains("listed twice"));
    QVERIFY(QTest::qWaitForWindowExposed(p.errorBox()));
    saveShot(*p.errorBox(), "optimize_error");
    p.errorBox()->close();
    QVERIFY(p.runButton()->isEnabled());
}

void TestOptimizePanel::mobilenetUnfused() {
    EW_REQUIRE_MODELS();
    const QString path = test::modelsDir() + "/onnx/torchvision-arch/mobilenet_v2_unfused.onnx";
    if (!QFileInfo::exists(path)) QSKIP("[ew-skip] mobilenet_v2_unfused.onnx not in the models folder");
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, path));
    const ui::DocumentPtr original = w.document();
    const int64_t nodesBefore = original->summary.nodeCountRecursive;
    w.showOptimizePanel();
    ui::OptimizePanel* p = w.optimizePanel();
    p->choosePreset("default");
    QVERIFY(p->run());
    QVERIFY(waitRun(p));
    QVERIFY2(p->lastError().isEmpty(), qPrintable(p->lastError()));
    QVERIFY(waitGraph(w.graphPage()));

    opt::OptimizeOptions o;
    o.pipeline = "default";
    const opt::OptimizeReport ref = independentReport(*original->model, o);
    using P = ui::OptimizePanel;
    QCOMPARE(summaryValue(p, P::RowNodes, P::ColBefore), qlonglong(nodesBefore));
    QCOMPARE(summaryValue(p, P::RowNodes, P::ColBefore), qlonglong(ref.before.nodes));
    QCOMPARE(summaryValue(p, P::RowNodes, P::ColAfter), qlonglong(ref.after.nodes));
    QCOMPARE(summaryValue(p, P::RowParameters, P::ColBefore), qlonglong(ref.before.parameters));
    QCOMPARE(summaryValue(p, P::RowParameters, P::ColAfter), qlonglong(ref.after.parameters));
    QCOMPARE(summaryValue(p, P::RowMacs, P::ColBefore), qlonglong(ref.before.macs));
    QCOMPARE(summaryValue(p, P::RowMacs, P::ColAfter), qlonglong(ref.after.macs));
    QCOMPARE(p->resultTree()->topLevelItemCount(), int(ref.passes.size()));
    for (const opt::PassStats& s : ref.passes) {
        QTreeWidgetItem* row = resultRow(p, ui::qstr(s.name));
        QVERIFY2(row, s.name.c_str());
        QCOMPARE(row->data(P::PassColNodes, P::ValueRole).toLongLong(), qlonglong(s.nodesDelta));
        QCOMPARE(row->data(P::PassColRemoved, P::ValueRole).toInt(), s.removed);
        QCOMPARE(row->data(P::PassColFused, P::ValueRole).toInt(), s.fused);
    }
    // The model runs here, before and after.
    for (int col : {P::ColBefore, P::ColAfter})
        QVERIFY2(p->summaryTable()->item(P::RowLatency, col)->data(P::ValueRole).toDouble() > 0,
                 qPrintable(p->summaryTable()->item(P::RowLatency, col)->toolTip()));
    qInfo("mobilenet_v2_unfused, default: nodes %lld -> %lld, latency %s -> %s",
          summaryValue(p, P::RowNodes, P::ColBefore), summaryValue(p, P::RowNodes, P::ColAfter),
          qPrintable(p->summaryTable()->item(P::RowLatency, P::ColBefore)->text()),
          qPrintable(p->summaryTable()->item(P::RowLatency, P::ColAfter)->text()));

    QCOMPARE(w.document()->summary.nodeCountRecursive, ref.after.nodes);
    QCOMPARE(graphOpCount(w.graphPage(), w.document()->graph()), int(w.document()->graph()->nodes().size()));
    saveShot(w, "optimize_mobilenet_after");

    QCOMPARE(w.undoStack()->count(), 1);
    w.undoStack()->undo();
    QCOMPARE(w.document(), original);
    QVERIFY(waitGraph(w.graphPage()));
    QCOMPARE(graphOpCount(w.graphPage(), original->graph()), int(original->graph()->nodes().size()));
    QCOMPARE(w.document()->summary.nodeCountRecursive, nodesBefore);
    w.undoStack()->redo();
    QVERIFY(waitGraph(w.graphPage()));
    QCOMPARE(w.document()->summary.nodeCountRecursive, ref.after.nodes);
    QCOMPARE(graphOpCount(w.graphPage(), w.document()->graph()), int(w.document()->graph()->nodes().size()));
}

QTEST_MAIN(TestOptimizePanel)
#include "tst_optimize_panel.moc"
