// Overlays: JSON files good and bad (every error names the file), the built-in MACs overlay
// against core/ir/cost.h, colours and the threshold, the sorted table and selecting its rows,
// the tinted node list, File > Load Overlay and `edgewise --overlay FILE MODEL`. Screenshots of
// the overlay panel with a loaded overlay go to build/test-artifacts/.
#include "test_util.h"

#include "ir/cost.h"
#include "ir/io/model_io.h"
#include "widgets/format_util.h"
#include "widgets/i18n.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/node_list_panel.h"
#include "widgets/node_table_model.h"
#include "widgets/overlay/overlay.h"
#include "widgets/overlay/overlay_controller.h"
#include "widgets/overlay/overlay_panel.h"
#include "widgets/properties_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>

#include <cmath>

using namespace ew;

namespace {

constexpr int kLoadTimeoutMs = 120000;

QString samplePath() {
    QString bundled = test::sourceDir() + "/resources/samples/digits_cnn.onnx";
    if (QFileInfo::exists(bundled)) return bundled;
    if (!test::modelsDir().isEmpty()) return test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx";
    return {};
}

bool loadInto(ui::MainWindow& w, const QString& path) {
    QSignalSpy loaded(&w, &ui::MainWindow::modelLoaded);
    if (!w.openModel(path)) return false;
    QElapsedTimer t;
    t.start();
    while (w.isBusy() && t.elapsed() < kLoadTimeoutMs)
        QTest::qWait(20);
    QTest::qWait(20);
    return !w.isBusy() && loaded.count() == 1;
}

void saveShot(QWidget& w, const QString& name) {
    QString file = test::artifactsDir() + "/" + name + ".png";
    QVERIFY2(w.grab().save(file), qPrintable("cannot write " + file));
    qInfo("screenshot: %s", qPrintable(file));
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

/// A "latency" overlay for every node of `g` (a fixed function of position and op), plus
/// `extra` names that are not in the model.
QByteArray latencyJson(const ir::Graph& g, const QStringList& extra = {}) {
    QJsonObject values;
    int i = 0;
    for (const auto& n : g.nodes()) {
        double ms = n->opType == "Conv" ? 0.4 + 0.05 * (i % 7) : 0.02 + 0.01 * (i % 3);
        if (n->opType == "Gemm" || n->opType == "MatMul") ms = 0.9;
        values.insert(ui::overlayKey(*n), ms);
        ++i;
    }
    for (const QString& e : extra)
        values.insert(e, 1.0);
    QJsonObject root;
    root.insert("name", "CPU latency");
    root.insert("unit", "ms");
    root.insert("values", values);
    return QJsonDocument(root).toJson();
}

} // namespace

class TestOverlay : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void init();
    void parseGood();
    void parseErrors_data();
    void parseErrors();
    void macsOverlay_data();
    void macsOverlay();
    void colorsAndThreshold();
    void panelTableAndSelection();
    void loadThroughWindow();
    void commandLine();

  private:
    QTemporaryDir m_tmp;
};

void TestOverlay::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgewiseTest");
    QCoreApplication::setApplicationName("tst_overlay");
    QVERIFY(m_tmp.isValid());
    QCOMPARE(ui::installTranslations(*QCoreApplication::instance(), "en"), QString("en"));
    QVERIFY2(!samplePath().isEmpty(),
             "bundled sample resources/samples/digits_cnn.onnx is missing");
}

void TestOverlay::init() {
    QSettings().clear();
}

void TestOverlay::parseGood() {
    QString path = m_tmp.filePath("good.json");
    QVERIFY(writeFile(path, R"({ "name": "Latency", "unit": "ms",
                                 "values": { "conv1": 1.5, "relu": 0, "fc": 12 } })"));
    auto o = ui::loadOverlayJson(path);
    QVERIFY2(o, o ? "" : qPrintable(o.error()));
    QCOMPARE(o->name, QString("Latency"));
    QCOMPARE(o->unit, QString("ms"));
    QCOMPARE(o->source, path);
    QCOMPARE(o->values.size(), 3);
    QCOMPARE(o->values.value("conv1"), 1.5);
    QCOMPARE(o->minValue, 0.0);
    QCOMPARE(o->maxValue, 12.0);
    QVERIFY(!o->isBuiltIn());

    // Name and unit are optional: the file name stands in for the name.
    QString bare = m_tmp.filePath("per_node_error.json");
    QVERIFY(writeFile(bare, R"({"values": {"a": -1, "b": 2.5e3}})"));
    auto b = ui::loadOverlayJson(bare);
    QVERIFY(b);
    QCOMPARE(b->name, QString("per_node_error"));
    QCOMPARE(b->unit, QString());
    QCOMPARE(b->minValue, -1.0);

    // Matching against a graph moves unknown names aside.
    ir::Graph g;
    g.addNode("Conv", "", "conv1", {}, {});
    g.addNode("Relu", "", "relu", {}, {});
    ui::matchOverlay(*o, g);
    QCOMPARE(o->values.size(), 2);
    QCOMPARE(o->unmatched, QStringList{"fc"});
    QCOMPARE(o->maxValue, 1.5);
}

void TestOverlay::parseErrors_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not JSON") << "broken.json" << QByteArray("{ \"values\": { \"a\": 1, }")
                              << "not valid JSON";
    QTest::newRow("empty file") << "empty.json" << QByteArray() << "not valid JSON";
    QTest::newRow("array") << "array.json" << QByteArray("[1, 2]") << "must be a JSON object";
    QTest::newRow("no values") << "novalues.json" << QByteArray(R"({"name": "x", "unit": "ms"})")
                               << "missing \"values\"";
    QTest::newRow("values not object")
        << "list.json" << QByteArray(R"({"values": [1, 2]})") << "\"values\" must be an object";
    QTest::newRow("empty values") << "nothing.json" << QByteArray(R"({"values": {}})")
                                  << "\"values\" is empty";
    QTest::newRow("string value") << "strings.json"
                                  << QByteArray(R"({"values": {"conv1": "1.5", "b": 2}})")
                                  << "1 value(s) in \"values\" are not numbers: \"conv1\" (string)";
    QTest::newRow("null values")
        << "nulls.json"
        << QByteArray(R"({"values": {"a": null, "b": true, "c": {}, "d": [], "e": 1}})")
        << "4 value(s) in \"values\" are not numbers: \"a\" (null), \"b\" (boolean), \"c\" "
           "(object) and 1 more";
    QTest::newRow("name not string")
        << "name.json" << QByteArray(R"({"name": 3, "values": {"a": 1}})")
        << "\"name\" must be a string, not number";
    QTest::newRow("unit not string")
        << "unit.json" << QByteArray(R"({"unit": [], "values": {"a": 1}})")
        << "\"unit\" must be a string, not array";
    QTest::newRow("missing file") << "does_not_exist.json" << QByteArray() << "cannot read";
}

void TestOverlay::parseErrors() {
    QFETCH(QString, file);
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    QString path = m_tmp.filePath(file);
    if (file != "does_not_exist.json") QVERIFY(writeFile(path, content));
    auto o = ui::loadOverlayJson(path);
    QVERIFY(!o);
    QVERIFY2(o.error().startsWith(QDir::toNativeSeparators(path) + ": "), qPrintable(o.error()));
    QVERIFY2(o.error().contains(expected), qPrintable(o.error()));
}

void TestOverlay::macsOverlay_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("needsModels");
    QTest::newRow("digits_cnn") << samplePath() << false;
    QString resnet = test::modelsDir().isEmpty()
                         ? QString()
                         : test::modelsDir() + "/onnx/torchvision-arch/resnet18.onnx";
    QTest::newRow("resnet18") << resnet << true;
}

void TestOverlay::macsOverlay() {
    QFETCH(QString, path);
    QFETCH(bool, needsModels);
    if (needsModels) EW_REQUIRE_MODELS();
    ui::MainWindow w;
    QVERIFY(loadInto(w, path));
    ui::OverlayController* c = w.overlays();
    QCOMPARE(c->builtInCount(), 1);
    QCOMPARE(c->currentIndex(), -1); // nothing tinted until the user asks
    const ui::Overlay& macs = c->overlays()[0];
    QVERIFY(macs.isBuiltIn());
    QCOMPARE(macs.name, QString("MACs"));

    // Against the core's own per-node count, on an independently loaded model.
    auto ref = ir::loadModel(path.toStdString());
    QVERIFY(ref);
    ir::ModelCost cost = ir::modelCost(**ref);
    int withMacs = 0;
    for (const auto& n : (*ref)->graph->nodes()) {
        int64_t m = cost.perNode.at(n.get()).macs;
        QString key = ui::overlayKey(*n);
        if (m > 0) {
            ++withMacs;
            QVERIFY2(macs.values.contains(key), qPrintable(key));
            QCOMPARE(macs.values.value(key), double(m));
        } else {
            QVERIFY(!macs.values.contains(key));
        }
    }
    QVERIFY(withMacs > 0);
    QCOMPARE(int(macs.values.size()), withMacs);
}

void TestOverlay::colorsAndThreshold() {
    ui::OverlayController c;
    QSignalSpy changed(&c, &ui::OverlayController::changed);
    QVERIFY(!c.colorFor("a"));
    ui::Overlay o;
    o.name = "x";
    o.source = "x.json";
    o.values = {{"a", 1.0}, {"b", 10.0}, {"c", 100.0}};
    o.updateRange();
    QCOMPARE(c.addOverlay(o), 0);
    QCOMPARE(c.currentIndex(), 0);
    QVERIFY(changed.count() >= 1);

    // The gradient runs from the minimum to the maximum; unknown nodes get nothing.
    QCOMPARE(*c.colorFor("a"), ui::OverlayController::gradientColor(0.0));
    QCOMPARE(*c.colorFor("c"), ui::OverlayController::gradientColor(1.0));
    QVERIFY(!c.colorFor("zzz"));
    QCOMPARE(c.normalized(10.0), 9.0 / 99.0);
    QVERIFY(ui::OverlayController::gradientColor(1.0).lightnessF() <
            ui::OverlayController::gradientColor(0.0).lightnessF());

    // The threshold hides the nodes below it.
    changed.clear();
    c.setThreshold(10.0);
    QCOMPARE(changed.count(), 1);
    QVERIFY(!c.colorFor("a"));
    QVERIFY(c.colorFor("b"));
    QVERIFY(c.colorFor("c"));
    c.setThreshold(1000.0); // clamped to the maximum
    QCOMPARE(c.threshold(), 100.0);
    QVERIFY(!c.colorFor("b"));
    QVERIFY(c.colorFor("c"));

    // Log scale spreads orders of magnitude evenly.
    c.setLogScale(true);
    QVERIFY(c.logScaleUsable());
    QVERIFY(std::fabs(c.normalized(10.0) - 0.5) < 1e-12);
    QVERIFY(std::fabs(c.valueAt(0.5) - 10.0) < 1e-9);
    QCOMPARE(c.valueAt(1.0), 100.0);

    // No overlay: no colours.
    c.setCurrentIndex(-1);
    QVERIFY(!c.colorFor("c"));
}

void TestOverlay::panelTableAndSelection() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, samplePath()));
    ui::OverlayPanel* panel = w.overlayPanel();
    ui::OverlayController* c = w.overlays();

    // Pick the built-in MACs overlay in the panel's picker.
    QComboBox* picker = panel->picker();
    QCOMPARE(picker->count(), 2); // None, MACs
    picker->setCurrentIndex(1);
    QCOMPARE(c->currentIndex(), 0);
    const ui::Overlay& o = *c->current();

    // The table: every node of the overlay, largest value first.
    QTableWidget* t = panel->table();
    QCOMPARE(t->rowCount(), int(o.values.size()));
    for (int r = 1; r < t->rowCount(); ++r)
        QVERIFY(t->item(r - 1, ui::OverlayPanel::ColValue)->data(Qt::UserRole).toDouble() >=
                t->item(r, ui::OverlayPanel::ColValue)->data(Qt::UserRole).toDouble());
    QCOMPARE(t->item(0, ui::OverlayPanel::ColValue)->data(Qt::UserRole).toDouble(), o.maxValue);

    // The node list is tinted for every node with a value, and only those.
    ui::NodeTableModel* model = w.nodeList()->sourceModel();
    for (int r = 0; r < model->rowCount(); ++r) {
        QString key = ui::overlayKey(*model->nodeAt(r));
        QVariant bg = model->index(r, ui::NodeTableModel::ColName).data(Qt::BackgroundRole);
        QCOMPARE(bg.isValid(), o.values.contains(key));
    }

    // The slider moves the threshold: at the top only the maximum stays highlighted.
    panel->thresholdSlider()->setValue(ui::OverlayPanel::kSliderSteps);
    QCOMPARE(c->threshold(), o.maxValue);
    int tinted = 0;
    for (int r = 0; r < model->rowCount(); ++r)
        if (model->index(r, 0).data(Qt::BackgroundRole).isValid()) ++tinted;
    int atMax = 0;
    for (double v : o.values)
        if (v >= o.maxValue) ++atMax;
    QCOMPARE(tinted, atMax);
    panel->thresholdSlider()->setValue(0);
    QCOMPARE(c->threshold(), o.minValue);

    // Clicking a row selects that node in the node list and the inspector.
    int row = t->rowCount() - 1;
    QString name =
        t->item(row, ui::OverlayPanel::ColNode)->data(ui::OverlayPanel::NodeNameRole).toString();
    w.findChild<QDockWidget*>("overlayDock")->show();
    QTest::qWait(50);
    t->scrollToItem(t->item(row, 0));
    QRect rect = t->visualItemRect(t->item(row, ui::OverlayPanel::ColNode));
    QTest::mouseClick(t->viewport(), Qt::LeftButton, {}, rect.center());
    QVERIFY(w.properties()->node());
    QCOMPARE(ui::overlayKey(*w.properties()->node()), name);
    QModelIndexList sel = w.nodeList()->view()->selectionModel()->selectedRows();
    QCOMPARE(sel.size(), 1);
    QCOMPARE(ui::overlayKey(*model->nodeAt(w.nodeList()->proxyModel()->mapToSource(sel[0]).row())),
             name);

    // None: no tint anywhere.
    picker->setCurrentIndex(0);
    QCOMPARE(c->currentIndex(), -1);
    QCOMPARE(t->rowCount(), 0);
    QVERIFY(!model->index(0, 0).data(Qt::BackgroundRole).isValid());
}

void TestOverlay::loadThroughWindow() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto* action = w.findChild<QAction*>("loadOverlayAction");
    QVERIFY(action);
    QVERIFY(!action->isEnabled()); // no model yet
    QString path = test::modelsDir().isEmpty()
                       ? samplePath()
                       : test::modelsDir() + "/onnx/torchvision-arch/resnet18.onnx";
    QVERIFY(loadInto(w, path));
    QVERIFY(action->isEnabled());
    auto* dock = w.findChild<QDockWidget*>("overlayDock");
    QVERIFY(dock);
    QVERIFY(!dock->isVisible());

    // A file with two names the model does not have: loaded, with a warning.
    QString file = m_tmp.filePath("latency.json");
    const ir::Graph& g = *w.document()->graph();
    QVERIFY(writeFile(file, latencyJson(g, {"ghost_node_1", "ghost_node_2"})));
    QVERIFY2(w.loadOverlay(file), qPrintable(w.lastError()));
    QVERIFY(dock->isVisible());
    ui::OverlayController* c = w.overlays();
    QCOMPARE(c->overlays().size(), std::size_t(2));
    QCOMPARE(c->currentIndex(), 1);
    QCOMPARE(c->current()->name, QString("CPU latency"));
    QCOMPARE(int(c->current()->values.size()), int(g.nodeCount()));
    QCOMPARE(c->current()->unmatched, QStringList({"ghost_node_1", "ghost_node_2"}));
    const QStringList log = w.logPanel()->lines();
    QVERIFY(std::any_of(log.begin(), log.end(), [&](const QString& l) {
        return l.contains("latency.json") && l.contains("2 names are not nodes of this model");
    }));
    QVERIFY(w.overlayPanel()->infoLabel()->text().contains("2 names in the file"));
    QCOMPARE(w.overlayPanel()->picker()->currentText(), QString("CPU latency"));

    // Highlight the slower half and show the conv nodes in the list, tinted.
    w.overlayPanel()->thresholdSlider()->setValue(ui::OverlayPanel::kSliderSteps / 4);
    QVERIFY(c->threshold() > c->current()->minValue);
    for (const auto& n : g.nodes())
        if (n->opType == "Conv") {
            QVERIFY(w.selectNode(ui::overlayKey(*n)));
            break;
        }
    QTest::qWait(150);
    saveShot(w, "overlay_panel_loaded");
    saveShot(*dock, "overlay_panel_dock");
    saveShot(*w.findChild<QDockWidget*>("nodesDock"), "overlay_node_list_tinted");

    // A broken file: an error naming it, the previous overlay stays.
    QString bad = m_tmp.filePath("broken_overlay.json");
    QVERIFY(writeFile(bad, "{ nope"));
    QVERIFY(!w.loadOverlay(bad));
    QVERIFY(w.lastError().contains("broken_overlay.json"));
    QTRY_VERIFY(w.errorBox() && w.errorBox()->isVisible());
    QVERIFY(w.errorBox()->text().contains("broken_overlay.json"));
    QCOMPARE(w.errorBox()->informativeText(), w.lastError());
    w.errorBox()->accept();
    QCOMPARE(c->overlays().size(), std::size_t(2));
    QCOMPARE(c->currentIndex(), 1);

    // A new model drops overlays that were loaded for the old one.
    QVERIFY(loadInto(w, samplePath()));
    QCOMPARE(c->overlays().size(), std::size_t(1));
    QCOMPARE(c->currentIndex(), -1);
}

void TestOverlay::commandLine() {
    QString exe = test::binDir() + "/edgewise";
    if (!QFileInfo::exists(exe)) QSKIP("[ew-skip] edgewise binary not built");
    const ir::Graph* g = nullptr;
    auto ref = ir::loadModel(samplePath().toStdString());
    QVERIFY(ref);
    g = (*ref)->graph.get();
    QString good = m_tmp.filePath("cli_latency.json");
    QVERIFY(writeFile(good, latencyJson(*g)));
    QString bad = m_tmp.filePath("cli_bad.json");
    QVERIFY(writeFile(bad, R"({"values": {"x": "slow"}})"));

    auto run = [&](const QString& overlay, const QString& shot) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("XDG_CONFIG_HOME", m_tmp.filePath("config"));
        p.setProcessEnvironment(env);
        p.start(exe, {"--lang", "en", "--overlay", overlay, "--screenshot", shot, samplePath()});
        bool finished = p.waitForFinished(60000);
        return std::make_tuple(finished, p.exitCode(), QString::fromUtf8(p.readAllStandardError()));
    };
    QString shot = test::artifactsDir() + "/overlay_command_line.png";
    auto [ok, code, err] = run(good, shot);
    QVERIFY(ok);
    QVERIFY2(code == 0, qPrintable(err));
    QVERIFY(QFileInfo::exists(shot));

    // A bad overlay: the message names it, the model still opens and the screenshot is taken;
    // the exit status tells a script that something it asked for failed.
    QString shot2 = m_tmp.filePath("bad_overlay.png");
    auto [ok2, code2, err2] = run(bad, shot2);
    QVERIFY(ok2);
    QVERIFY2(err2.contains("cli_bad.json") && err2.contains("not numbers"), qPrintable(err2));
    QVERIFY2(err2.contains("screenshot written"), qPrintable(err2));
    QCOMPARE(code2, 1);
    QVERIFY(QFileInfo::exists(shot2));
}

QTEST_MAIN(TestOverlay)
#include "tst_overlay.moc"
