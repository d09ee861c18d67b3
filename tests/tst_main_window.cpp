// The main window end to end, offscreen: open real models in the background, check that the node
// list, properties, summary and overview show what the IR holds, that failures and cancels keep
// the previous model, save/export, drag and drop, recent files and the German catalogue.
// Screenshots go to build/test-artifacts/ for people to look at.
#include "test_util.h"

#include "ir/io/model_io.h"
#include "ir/summary.h"
#include "widgets/about_dialog.h"
#include "widgets/format_util.h"
#include "widgets/i18n.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/node_list_panel.h"
#include "widgets/node_table_model.h"
#include "widgets/overview_page.h"
#include "widgets/properties_panel.h"
#include "widgets/summary_panel.h"

#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressDialog>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTranslator>
#include <QUrl>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

using namespace ew;

namespace {

constexpr int kLoadTimeoutMs = 120000;

/// The bundled sample, or the same model in the shared folder until it has been copied in.
QString samplePath() {
    QString bundled = test::sourceDir() + "/resources/samples/digits_cnn.onnx";
    if (QFileInfo::exists(bundled)) return bundled;
    if (!test::modelsDir().isEmpty()) return test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx";
    return {};
}

/// Waits until the window's background task is over.
bool waitIdle(ui::MainWindow& w) {
    QElapsedTimer t;
    t.start();
    while (w.isBusy() && t.elapsed() < kLoadTimeoutMs)
        QTest::qWait(20);
    QTest::qWait(20); // let queued reporter signals land
    return !w.isBusy();
}

/// Opens `path` and waits; true when modelLoaded fired.
bool loadInto(ui::MainWindow& w, const QString& path) {
    QSignalSpy loaded(&w, &ui::MainWindow::modelLoaded);
    if (!w.openModel(path)) return false;
    return waitIdle(w) && loaded.count() == 1;
}

std::unique_ptr<ir::Model> loadReference(const QString& path) {
    auto m = ir::loadModel(path.toStdString());
    if (!m) qWarning("reference load failed: %s", m.error().toString().c_str());
    return m ? std::move(*m) : nullptr;
}

double parseNumber(const QString& s) {
    bool ok = false;
    double v = QLocale().toDouble(s, &ok);
    if (!ok) v = s.toDouble(&ok);
    return ok ? v : std::nan("");
}

bool closeEnough(double a, double b) {
    return std::fabs(a - b) <= 1e-4 * std::max(1.0, std::fabs(b));
}

void saveShot(QWidget& w, const QString& name) {
    QString file = test::artifactsDir() + "/" + name + ".png";
    QVERIFY2(w.grab().save(file), qPrintable("cannot write " + file));
    qInfo("screenshot: %s", qPrintable(file));
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void init();
    void inspectModel_data();
    void inspectModel();
    void failedLoadKeepsPreviousModel();
    void cancelKeepsPreviousModel();
    void saveAndExport();
    void dropOpensModel();
    void recentFiles();
    void openSample();
    void aboutDialog();
    void germanTranslation();

  private:
    QTemporaryDir m_tmp;
};

void TestMainWindow::initTestCase() {
    // Keep the user's real settings and recent files out of the test.
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgewiseTest");
    QCoreApplication::setApplicationName("tst_main_window");
    QVERIFY(m_tmp.isValid());
    // As the application does on an English system: the source language plus its plural forms.
    QCOMPARE(ui::installTranslations(*QCoreApplication::instance(), "en"), QString("en"));
    QVERIFY2(!samplePath().isEmpty(),
             "bundled sample resources/samples/digits_cnn.onnx is missing");
}

void TestMainWindow::init() {
    QSettings().clear();
}

void TestMainWindow::inspectModel_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("needsModels");
    QTest::addColumn<QString>("shot");
    QTest::newRow("digits_cnn") << samplePath() << false << "main_window_digits_cnn";
    QString resnet = test::modelsDir().isEmpty()
                         ? QString()
                         : test::modelsDir() + "/onnx/torchvision-arch/resnet18.onnx";
    QTest::newRow("resnet18") << resnet << true << "main_window_resnet18";
}

void TestMainWindow::inspectModel() {
    QFETCH(QString, path);
    QFETCH(bool, needsModels);
    QFETCH(QString, shot);
    if (needsModels) EW_REQUIRE_MODELS();
    QVERIFY2(QFileInfo::exists(path), qPrintable(path + " not found"));

    auto ref = loadReference(path);
    QVERIFY(ref);
    const ir::Graph& g = *ref->graph;
    const ir::ModelSummary sum = ir::summarize(*ref);

    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, path));
    QVERIFY(w.document());
    QCOMPARE(w.windowTitle(), QFileInfo(path).fileName() + " — Edgewise");

    // Node list: one row per main-graph node, in file order.
    ui::NodeListPanel* list = w.nodeList();
    QCOMPARE(list->sourceModel()->rowCount(), int(g.nodeCount()));
    QCOMPARE(list->visibleRowCount(), int(g.nodeCount()));
    for (int r : {0, int(g.nodeCount()) - 1}) {
        QModelIndex op = list->proxyModel()->index(r, ui::NodeTableModel::ColOp);
        QCOMPARE(op.data().toString(), ui::qstr(g.nodes()[std::size_t(r)]->qualifiedOp()));
    }

    // Summary panel: the inspect fields, as the core computes them.
    ui::SummaryPanel* s = w.summary();
    QCOMPARE(s->valueOf("format"), ui::qstr(sum.format));
    QCOMPARE(s->valueOf("ir_version"), QString::number(sum.irVersion));
    QCOMPARE(s->valueOf("node_count"), QString::number(g.nodeCount()));
    QCOMPARE(s->valueOf("opsets"), ui::opsetsText(sum.opsets));
    QCOMPARE(s->valueOf("inputs"), QString::number(sum.inputs.size()));
    QCOMPARE(s->valueOf("inputs:0"), ui::ioText(sum.inputs[0]));
    QCOMPARE(s->valueOf("outputs:0"), ui::ioText(sum.outputs[0]));
    QCOMPARE(s->valueOf("macs"), ui::formatMacs(sum.macs, sum.macsExact));
    QVERIFY(sum.macs > 0);
    QVERIFY(s->valueOf("parameter_count").startsWith(ui::formatCount(sum.parameterCount)));
    QCOMPARE(s->valueOf("op:Conv"), QString::number(sum.opHistogram.at("Conv")));

    // Overview: headline and one bar per op type (up to the fold limit).
    QVERIFY(w.overview()->headline().contains(QFileInfo(path).fileName()));
    QCustomPlot* opPlot = w.overview()->opPlot();
    QCOMPARE(opPlot->plottableCount(), 1);
    auto* bars = qobject_cast<QCPBars*>(opPlot->plottable(0));
    QVERIFY(bars);
    QCOMPARE(bars->data()->size(),
             std::min<int>(int(sum.opHistogram.size()), ui::OverviewPage::kMaxBars));
    QCOMPARE(w.overview()->macsPlot()->plottableCount(), 1);

    QTest::qWait(100);
    saveShot(w, shot);

    // Filtering: "conv" matches the Conv nodes and any node whose name mentions conv.
    int expected = 0;
    for (const auto& n : g.nodes())
        if (QString::fromStdString(n->displayName()).contains("conv", Qt::CaseInsensitive) ||
            QString::fromStdString(n->qualifiedOp()).contains("conv", Qt::CaseInsensitive))
            ++expected;
    QTest::keyClicks(list->filterEdit(), "conv");
    QCOMPARE(list->visibleRowCount(), expected);
    QVERIFY(expected > 0 && expected < int(g.nodeCount()));
    for (int r = 0; r < list->visibleRowCount(); ++r) {
        QString rowText =
            list->proxyModel()->index(r, ui::NodeTableModel::ColName).data().toString() +
            list->proxyModel()->index(r, ui::NodeTableModel::ColOp).data().toString();
        QVERIFY2(rowText.contains("conv", Qt::CaseInsensitive), qPrintable(rowText));
    }

    // Pick the first Conv with a weight initializer and select it through the public API.
    const ir::Node* conv = nullptr;
    for (const auto& n : g.nodes())
        if (n->opType == "Conv" && n->input(1) && n->input(1)->isInitializer()) {
            conv = n.get();
            break;
        }
    QVERIFY(conv);
    QString convName = ui::qstr(conv->name.empty() ? conv->displayName() : conv->name);
    QVERIFY(w.selectNode(convName));
    QVERIFY(!w.selectNode("no such node, surely"));

    ui::PropertiesPanel* p = w.properties();
    QVERIFY(p->node());
    QCOMPARE(ui::qstr(p->node()->name), ui::qstr(conv->name));
    QCOMPARE(p->valueOf("op"), QString("Conv"));
    // The row in the list is the selected one, and still visible under the filter.
    QModelIndexList sel = list->view()->selectionModel()->selectedRows(ui::NodeTableModel::ColName);
    QCOMPARE(sel.size(), 1);
    QCOMPARE(sel.first().data().toString(), ui::qstr(conv->displayName()));

    // Attributes with their values (kernel_shape may be omitted in a file: then it is inferred).
    for (const ir::Attribute& a : conv->attributes)
        QCOMPARE(p->valueOf("attr:" + ui::qstr(a.name)), ui::qstr(a.valueString()));
    if (conv->hasAttr("kernel_shape")) QVERIFY(!p->valueOf("attr:kernel_shape").isEmpty());

    // Inputs: element type and shape, and the weight's statistics against a direct computation.
    const ir::Value* x = conv->input(0);
    QCOMPARE(p->valueOf("input:0:dtype"), QString("float32"));
    QCOMPARE(p->valueOf("input:0:shape"), ui::shapeText(x->type));
    const ir::Value* wv = conv->input(1);
    const ir::Tensor& wt = *wv->initializer;
    QCOMPARE(p->valueOf("input:1:dtype"), QString("float32"));
    QCOMPARE(p->valueOf("input:1:shape"), ui::qstr(ir::Shape::of(wt.dims).toString()));
    std::vector<double> vals = wt.toDouble();
    QVERIFY(!vals.empty());
    auto [mn, mx] = std::minmax_element(vals.begin(), vals.end());
    double mean = 0.0;
    for (double v : vals)
        mean += v;
    mean /= double(vals.size());
    double var = 0.0;
    for (double v : vals)
        var += (v - mean) * (v - mean);
    double sd = std::sqrt(var / double(vals.size()));
    int64_t zeros = std::count(vals.begin(), vals.end(), 0.0);
    QVERIFY2(closeEnough(parseNumber(p->valueOf("input:1:min")), *mn),
             qPrintable(p->valueOf("input:1:min")));
    QVERIFY2(closeEnough(parseNumber(p->valueOf("input:1:max")), *mx),
             qPrintable(p->valueOf("input:1:max")));
    QVERIFY2(std::fabs(parseNumber(p->valueOf("input:1:mean")) - mean) <= 1e-4 * std::max(1.0, sd),
             qPrintable(p->valueOf("input:1:mean")));
    QVERIFY2(closeEnough(parseNumber(p->valueOf("input:1:std")), sd),
             qPrintable(p->valueOf("input:1:std")));
    QString sparsity = p->valueOf("input:1:sparsity");
    QVERIFY2(sparsity.contains(QString("(%1 of").arg(ui::formatCount(zeros))),
             qPrintable(sparsity));
    QVERIFY(p->valueOf("input:1:source").contains("initializer"));
    QVERIFY(!p->valueOf("output:0:consumers").isEmpty());

    QTest::qWait(100);
    saveShot(w, shot + "_node");

    // Clearing the filter keeps the selection.
    list->filterEdit()->clear();
    QCOMPARE(list->visibleRowCount(), int(g.nodeCount()));
    QCOMPARE(p->node(), w.properties()->node());
}

void TestMainWindow::failedLoadKeepsPreviousModel() {
    ui::MainWindow w;
    w.resize(1500, 920);
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::DocumentPtr before = w.document();
    int rows = w.nodeList()->sourceModel()->rowCount();
    QVERIFY(w.selectNode(ui::qstr(before->graph()->nodes()[0]->displayName())));

    QString bad = m_tmp.filePath("corrupt.onnx");
    {
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // Protobuf field 7 (graph) claiming far more bytes than the file holds.
        f.write(QByteArray("\x08\x07\x3a\xff\xff\xff\x0f", 7) + QByteArray(64, '\x5a'));
    }
    QSignalSpy failed(&w, &ui::MainWindow::loadFailed);
    QVERIFY(w.openModel(bad));
    QVERIFY(waitIdle(w));
    QCOMPARE(failed.count(), 1);
    QString err = w.lastError();
    QVERIFY2(err.contains("corrupt.onnx"), qPrintable(err));
    QCOMPARE(failed.first().first().toString(), err);

    // Shown to the user: a message box with the importer's message, and a log line.
    QTRY_VERIFY(w.errorBox() && w.errorBox()->isVisible());
    QCOMPARE(w.errorBox()->informativeText(), err);
    QVERIFY(w.errorBox()->text().contains("corrupt.onnx"));
    const QStringList log = w.logPanel()->lines();
    QVERIFY(std::any_of(log.begin(), log.end(), [&](const QString& l) { return l.contains(err); }));
    QTest::qWait(100);
    saveShot(w, "main_window_load_error");
    saveShot(*w.errorBox(), "load_error_box");

    // The previous model is still open and usable.
    QCOMPARE(w.document(), before);
    QCOMPARE(w.nodeList()->sourceModel()->rowCount(), rows);
    QVERIFY(w.properties()->node());
    w.errorBox()->accept();
    QTRY_VERIFY(!w.errorBox());
    QVERIFY(w.selectNode(ui::qstr(before->graph()->nodes().back()->displayName())));

    // A missing file fails the same way.
    QVERIFY(w.openModel(m_tmp.filePath("does_not_exist.onnx")));
    QVERIFY(waitIdle(w));
    QCOMPARE(failed.count(), 2);
    QVERIFY(w.lastError().contains("does_not_exist.onnx"));
    QCOMPARE(w.document(), before);
    // A failed file is not remembered as recent.
    QVERIFY(!w.recentFiles().contains(QFileInfo(bad).absoluteFilePath()));
}

void TestMainWindow::cancelKeepsPreviousModel() {
    ui::MainWindow w;
    w.show();
    QVERIFY(loadInto(w, samplePath()));
    ui::DocumentPtr before = w.document();
    QSignalSpy loaded(&w, &ui::MainWindow::modelLoaded);
    QSignalSpy failed(&w, &ui::MainWindow::loadFailed);
    QVERIFY(w.openModel(samplePath()));
    QVERIFY(w.isBusy());
    QVERIFY(!w.openModel(samplePath())); // one task at a time
    auto* progress = w.findChild<QProgressDialog*>("taskProgress");
    QVERIFY(progress);
    auto* cancel = progress->findChild<QPushButton*>();
    QVERIFY(cancel);
    cancel->click();
    QVERIFY(waitIdle(w));
    QCOMPARE(loaded.count(), 0);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(w.document(), before);
    QVERIFY(!w.errorBox());
    QVERIFY(w.logPanel()->lines().last().contains("cancelled"));
}

void TestMainWindow::saveAndExport() {
    // Work on a copy so a bug can never touch the shared model.
    QString src = m_tmp.filePath("save_src.onnx");
    QFile::remove(src);
    QVERIFY(QFile::copy(samplePath(), src));
    QFileInfo srcInfo(src);
    qint64 srcSize = srcInfo.size();
    QDateTime srcTime = srcInfo.lastModified();

    ui::MainWindow w;
    w.show();
    QVERIFY(loadInto(w, src));

    // Overwriting the source is refused, with the core's message shown.
    QSignalSpy saved(&w, &ui::MainWindow::modelSaved);
    QSignalSpy saveFailed(&w, &ui::MainWindow::saveFailed);
    QVERIFY(w.saveModelAs(src));
    QVERIFY(waitIdle(w));
    QCOMPARE(saved.count(), 0);
    QCOMPARE(saveFailed.count(), 1);
    QTRY_VERIFY(w.errorBox() && w.errorBox()->isVisible());
    QCOMPARE(w.errorBox()->informativeText(), w.lastError());
    w.errorBox()->accept();
    QFileInfo after(src);
    QCOMPARE(after.size(), srcSize);
    QCOMPARE(after.lastModified(), srcTime);

    // A new file is written and reads back with the same graph.
    QString out = m_tmp.filePath("saved_copy.onnx");
    QVERIFY(w.saveModelAs(out));
    QVERIFY(waitIdle(w));
    QCOMPARE(saveFailed.count(), 1);
    QCOMPARE(saved.count(), 1);
    QCOMPARE(saved.first().first().toString(), QFileInfo(out).absoluteFilePath());
    auto back = loadReference(out);
    QVERIFY(back);
    QCOMPARE(back->graph->nodeCount(), w.document()->graph()->nodeCount());
    QCOMPARE(ir::summarize(*back).parameterCount, w.document()->summary.parameterCount);
    // The open document is still the source, not the copy.
    QCOMPARE(w.document()->path, srcInfo.absoluteFilePath());
}

void TestMainWindow::dropOpensModel() {
    ui::MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(samplePath())});
    QPoint pos = w.rect().center();
    QDragEnterEvent enter(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());

    QMimeData text;
    text.setUrls({QUrl::fromLocalFile(m_tmp.filePath("notes.txt"))});
    QDragEnterEvent enterText(pos, Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enterText);
    QVERIFY(!enterText.isAccepted());

    QSignalSpy loaded(&w, &ui::MainWindow::modelLoaded);
    QDropEvent drop(QPointF(pos), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QVERIFY(w.isBusy());
    QVERIFY(waitIdle(w));
    QCOMPARE(loaded.count(), 1);
    QCOMPARE(w.document()->path, QFileInfo(samplePath()).absoluteFilePath());
}

void TestMainWindow::recentFiles() {
    QString a = m_tmp.filePath("recent_a.onnx");
    QString b = m_tmp.filePath("recent_b.onnx");
    QFile::remove(a);
    QFile::remove(b);
    QVERIFY(QFile::copy(samplePath(), a));
    QVERIFY(QFile::copy(samplePath(), b));
    {
        ui::MainWindow w;
        QVERIFY(w.recentFiles().isEmpty());
        QVERIFY(loadInto(w, a));
        QVERIFY(loadInto(w, b));
        QVERIFY(loadInto(w, a));
        QCOMPARE(w.recentFiles(),
                 QStringList({QFileInfo(a).absoluteFilePath(), QFileInfo(b).absoluteFilePath()}));
    }
    // A new window (a new session) offers them in File > Open Recent, and they open.
    ui::MainWindow w2;
    auto* menu = w2.findChild<QMenu*>("recentMenu");
    QVERIFY(menu);
    QAction* second = nullptr;
    for (QAction* act : menu->actions())
        if (act->data().toString() == QFileInfo(b).absoluteFilePath()) second = act;
    QVERIFY(second);
    QSignalSpy loaded(&w2, &ui::MainWindow::modelLoaded);
    second->trigger();
    QVERIFY(waitIdle(w2));
    QCOMPARE(loaded.count(), 1);
    QCOMPARE(w2.document()->path, QFileInfo(b).absoluteFilePath());
    QCOMPARE(w2.recentFiles().first(), QFileInfo(b).absoluteFilePath());
}

void TestMainWindow::openSample() {
    // The bundled sample is compiled into the resources whenever the source tree has it.
    if (!QFileInfo::exists(test::sourceDir() + "/resources/samples/digits_cnn.onnx"))
        QSKIP("[ew-skip] resources/samples/digits_cnn.onnx not in the source tree");
    QVERIFY(QFile::exists(":/samples/digits_cnn.onnx"));
    ui::MainWindow w;
    auto* action = w.findChild<QAction*>("openSampleAction");
    QVERIFY(action && action->isVisible() && action->isEnabled());
    QSignalSpy loaded(&w, &ui::MainWindow::modelLoaded);
    action->trigger();
    QVERIFY(waitIdle(w));
    QCOMPARE(loaded.count(), 1);
    QVERIFY(w.document()->path.endsWith("digits_cnn.onnx"));
    auto ref = loadReference(samplePath());
    QVERIFY(ref);
    QCOMPARE(w.nodeList()->sourceModel()->rowCount(), int(ref->graph->nodeCount()));
}

void TestMainWindow::aboutDialog() {
    ui::MainWindow w;
    w.show();
    w.showAbout();
    auto* dlg = w.findChild<ui::AboutDialog*>();
    QVERIFY(dlg);
    QTRY_VERIFY(dlg->isVisible());
    QVERIFY(dlg->text().contains(QT_VERSION_STR));
    QVERIFY(dlg->text().contains(QString::fromLatin1(qVersion())));
    QVERIFY(dlg->text().contains("digits_cnn.onnx"));
    QVERIFY(dlg->text().contains("CC BY 4.0"));
    saveShot(*dlg, "about_dialog");
    dlg->reject();
}

void TestMainWindow::germanTranslation() {
    QTranslator de;
    QVERIFY2(de.load(":/i18n/edgewise_de.qm"), "German catalogue not compiled into the resources");
    QCoreApplication::installTranslator(&de);
    {
        ui::MainWindow w;
        w.resize(1500, 920);
        w.show();
        QStringList menus;
        for (QAction* a : w.menuBar()->actions())
            menus << a->text();
        QCOMPARE(menus, QStringList({"&Datei", "&Bearbeiten", "&Ansicht", "&Hilfe"}));
        QCOMPARE(w.findChild<QDockWidget*>("nodesDock")->windowTitle(), QString("Knoten"));
        QCOMPARE(w.findChild<QDockWidget*>("propertiesDock")->windowTitle(), QString("Inspektor"));
        QCOMPARE(w.findChild<QDockWidget*>("summaryDock")->windowTitle(),
                 QString("Modellübersicht"));
        QVERIFY(loadInto(w, samplePath()));
        // Plurals come from the catalogue's numerus forms.
        auto* count = w.nodeList()->findChild<QLabel*>("nodeCount");
        QVERIFY(count);
        QCOMPARE(count->text(), QString("%1 Knoten").arg(w.document()->graph()->nodeCount()));
        saveShot(w, "main_window_de");
    }
    QCoreApplication::removeTranslator(&de);
    // Back to the English catalogue from initTestCase, with its numerus forms.
    QCOMPARE(ui::NodeListPanel::tr("%n node(s)", nullptr, 1), QString("1 node"));
    QCOMPARE(ui::NodeListPanel::tr("%n node(s)", nullptr, 2), QString("2 nodes"));
}

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
