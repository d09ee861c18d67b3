// The inspector: the node view's dtype/shape/quantization rows on a per-channel QDQ model, the
// tensor view's statistics, histogram and per-channel plot for every common dtype, the
// background analysis of large tensors, "Copy values" and "Save as .npy" (read back with
// core/ir/npy.h). Screenshots of a conv weight go to build/test-artifacts/.
#include "test_util.h"

#include "ir/cost.h"
#include "ir/io/model_io.h"
#include "ir/npy.h"
#include "widgets/format_util.h"
#include "widgets/graph/graph_page.h"
#include "widgets/graph/graph_scene.h"
#include "widgets/i18n.h"
#include "widgets/inspector/inspector_panel.h"
#include "widgets/inspector/tensor_analysis.h"
#include "widgets/inspector/tensor_view.h"
#include "widgets/inspector/value_format.h"
#include "widgets/main_window.h"
#include "widgets/properties_panel.h"
#include "widgets/tensor_stats.h"

#include <QCheckBox>
#include <QClipboard>
#include <QDockWidget>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <qcustomplot.h>

#include <cmath>
#include <numeric>
#include <random>

using namespace ew;

Q_DECLARE_METATYPE(ew::ir::Tensor)

namespace {

constexpr int kLoadTimeoutMs = 120000;

QString samplePath() {
    QString bundled = test::sourceDir() + "/resources/samples/digits_cnn.onnx";
    if (QFileInfo::exists(bundled)) return bundled;
    if (!test::modelsDir().isEmpty()) return test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx";
    return {};
}

QString perChannelQdqPath() {
    return test::modelsDir() + "/onnx/ort-testdata/conv_qdq_s8s8_perchannel.onnx";
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

/// Waits for the tensor view's analysis (immediate for small tensors).
bool waitAnalysis(ui::TensorView* v) {
    QElapsedTimer t;
    t.start();
    while ((v->isBusy() || !v->analysis()) && t.elapsed() < 60000)
        QTest::qWait(10);
    return v->analysis() != nullptr;
}

int64_t histogramTotal(QCustomPlot* plot) {
    auto* bars = qobject_cast<QCPBars*>(plot->plottable(0));
    if (!bars) return -1;
    double sum = 0.0;
    for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        sum += it->value;
    return int64_t(std::llround(sum));
}

template <typename T>
ir::Tensor makeTensor(ir::DataType dt, std::vector<int64_t> dims, std::vector<T> values,
                      const std::string& name = "t") {
    return ir::Tensor::fromVector(name, dt, std::move(dims), std::move(values));
}

ui::TensorSource sourceOf(ir::Tensor t, int axis = 0) {
    ui::TensorSource s;
    s.key = "input:1";
    s.name = ui::qstr(t.name);
    s.label = s.name;
    s.origin = "test";
    s.channelAxis = t.dims.size() >= 2 ? axis : -1;
    s.tensor = std::move(t);
    return s;
}

const ir::Node* findNode(const ir::Graph& g, const std::string& name) {
    for (const auto& n : g.nodes())
        if (n->name == name) return n.get();
    return nullptr;
}

} // namespace

class TestInspector : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void init();
    void binCount_data();
    void binCount();
    void channelAxis_data();
    void channelAxis();
    void nodeViewQuantized();
    void tfliteQuantized();
    void convWeight_data();
    void convWeight();
    void dtypes_data();
    void dtypes();
    void largeTensorInBackground();
    void saveNpy_data();
    void saveNpy();
    void saveNpyErrors();
    void copyValues();

  private:
    QTemporaryDir m_tmp;
};

void TestInspector::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("EdgewiseTest");
    QCoreApplication::setApplicationName("tst_inspector");
    QVERIFY(m_tmp.isValid());
    QCOMPARE(ui::installTranslations(*QCoreApplication::instance(), "en"), QString("en"));
    QVERIFY2(!samplePath().isEmpty(),
             "bundled sample resources/samples/digits_cnn.onnx is missing");
}

void TestInspector::init() {
    QSettings().clear();
}

void TestInspector::binCount_data() {
    QTest::addColumn<qlonglong>("n");
    QTest::addColumn<int>("bins");
    QTest::newRow("tiny") << 5LL << 10;
    QTest::newRow("864") << 864LL << 20;       // 2 * cbrt(864) = 19.05 -> 20
    QTest::newRow("9408") << 9408LL << 43;     // resnet18 conv1
    QTest::newRow("10M") << 10000000LL << 120; // capped
}

void TestInspector::binCount() {
    QFETCH(qlonglong, n);
    QFETCH(int, bins);
    QCOMPARE(ui::histogramBinCount(n), bins);
}

void TestInspector::channelAxis_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<int>("transB");
    QTest::addColumn<int>("inputIndex");
    QTest::addColumn<int>("quantAxis");
    QTest::addColumn<int>("axis");
    QTest::newRow("Conv W") << "Conv" << 0 << 1 << -2 << 0;
    QTest::newRow("ConvTranspose W") << "ConvTranspose" << 0 << 1 << -2 << 1;
    QTest::newRow("Gemm B transB=1") << "Gemm" << 1 << 1 << -2 << 0;
    QTest::newRow("Gemm B transB=0") << "Gemm" << 0 << 1 << -2 << 1;
    QTest::newRow("MatMul B") << "MatMul" << 0 << 1 << -2 << 3;
    QTest::newRow("per-axis quant wins") << "MatMul" << 0 << 1 << 1 << 1;
    QTest::newRow("negative quant axis") << "Conv" << 0 << 1 << -1 << 3;
}

void TestInspector::channelAxis() {
    QFETCH(QString, op);
    QFETCH(int, transB);
    QFETCH(int, inputIndex);
    QFETCH(int, quantAxis);
    QFETCH(int, axis);
    ir::Graph g;
    ir::Node* n = g.addNode(op.toStdString(), "", "n", {}, {});
    if (transB) n->setAttr(ir::Attribute::makeInt("transB", 1));
    ir::Tensor t = makeTensor<float>(ir::DataType::Float, {4, 3, 2, 5}, std::vector<float>(120));
    std::optional<ir::QuantParams> q;
    if (quantAxis != -2) {
        q.emplace();
        q->axis = quantAxis;
        int64_t dim = t.dims[std::size_t(quantAxis < 0 ? quantAxis + 4 : quantAxis)];
        q->scales.assign(std::size_t(dim), 0.1f);
    }
    QCOMPARE(ui::channelAxisFor(t, n, inputIndex, q), axis);
    ir::Tensor bias = makeTensor<float>(ir::DataType::Float, {4}, std::vector<float>(4));
    QCOMPARE(ui::channelAxisFor(bias, n, 2, std::nullopt), -1);
}

void TestInspector::nodeViewQuantized() {
    EW_REQUIRE_MODELS();
    const QString path = perChannelQdqPath();
    QVERIFY2(QFileInfo::exists(path), qPrintable(path + " not found"));
    auto ref = ir::loadModel(path.toStdString());
    QVERIFY(ref);
    const ir::Graph& g = *(*ref)->graph;

    ui::MainWindow w;
    w.resize(1600, 1000);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, path));
    ui::PropertiesPanel* p = w.properties();

    // The weight's DequantizeLinear: an int8 [32,3,3,3] input quantized per output channel.
    const ir::Node* dq = findNode(g, "conv1.weight_DequantizeLinear");
    QVERIFY(dq);
    const ir::Value* wq = dq->input(0);
    QVERIFY(wq && wq->quant && wq->quant->isPerAxis());
    QVERIFY(w.selectNode("conv1.weight_DequantizeLinear"));
    QCOMPARE(p->valueOf("input:0:dtype"), QString("int8"));
    QCOMPARE(p->valueOf("input:0:shape"), QString("[32,3,3,3]"));
    QCOMPARE(p->valueOf("input:0:quant"), QString("per channel, axis 0, 32 channels"));
    QCOMPARE(p->valueOf("output:0:dtype"), QString("float32"));
    QCOMPARE(p->valueOf("output:0:shape"), QString("[32,3,3,3]"));
    // Per-channel parameters: a table with one row per channel.
    QTableWidget* table = p->quantTable("input:0");
    QVERIFY(table);
    QCOMPARE(table->rowCount(), 32);
    QCOMPARE(table->columnCount(), 3);
    for (int c : {0, 7, 31}) {
        QCOMPARE(table->item(c, 0)->text(), QString::number(c));
        QCOMPARE(table->item(c, 1)->text(),
                 ui::formatStatNumber(wq->quant->scales[std::size_t(c)]));
        QCOMPARE(table->item(c, 2)->text(), QString::number(wq->quant->zeroPoints[std::size_t(c)]));
    }
    auto [smin, smax] = std::minmax_element(wq->quant->scales.begin(), wq->quant->scales.end());
    QCOMPARE(p->valueOf("input:0:scale"),
             QString("%1 … %2").arg(ui::formatStatNumber(*smin), ui::formatStatNumber(*smax)));
    QVERIFY(table->isVisible());

    // Per-tensor parameters on the activation's QuantizeLinear output.
    QVERIFY(w.selectNode("input_QuantizeLinear"));
    QCOMPARE(p->valueOf("output:0:dtype"), QString("int8"));
    QCOMPARE(p->valueOf("output:0:shape"), QString("[batch_size,3,24,24]"));
    QCOMPARE(p->valueOf("output:0:quant"), QString("per tensor"));
    QCOMPARE(p->valueOf("output:0:scale"), ui::formatStatNumber(1.077412f));
    QCOMPARE(p->valueOf("output:0:zero_point"), QString("-13"));
    QVERIFY(!p->quantTable("output:0"));

    // The Conv: MACs and parameters, and the quantized weight behind its DequantizeLinear in
    // the tensor view (the largest constant, so shown first).
    const ir::Node* conv = findNode(g, "Conv_0");
    QVERIFY(conv);
    QVERIFY(w.selectNode("Conv_0"));
    ir::NodeCost cost = ir::nodeCost(*conv);
    QVERIFY(cost.macs > 0);
    QCOMPARE(p->valueOf("macs"), ui::formatMacs(cost.macs, cost.exact));
    ui::TensorView* tv = w.inspector()->tensorView();
    QVERIFY(waitAnalysis(tv));
    QVERIFY(tv->current());
    QCOMPARE(tv->current()->key, QString("input:1:quantized"));
    QCOMPARE(tv->valueOf("dtype"), QString("int8"));
    QCOMPARE(tv->valueOf("shape"), QString("[32,3,3,3]"));
    QVERIFY(tv->valueOf("quant").contains("per channel"));
    QVERIFY(tv->analysis()->histogram.integerBins);
    QCOMPARE(histogramTotal(tv->histogramPlot()), int64_t(864));
    QCOMPARE(tv->channelPlot()->graph(0)->data()->size(), 32);
    QCOMPARE(tv->channelPlot()->graph(1)->data()->size(), 32);
    // Dequantized: real values, same number of them, ranges per channel in real units.
    auto* deq = tv->findChild<QCheckBox*>("dequantize");
    QVERIFY(deq && deq->isVisible());
    deq->setChecked(true);
    QVERIFY(waitAnalysis(tv));
    QVERIFY(tv->analysis()->dequantized);
    QVERIFY(!tv->analysis()->histogram.integerBins);
    QCOMPARE(histogramTotal(tv->histogramPlot()), int64_t(864));
    const ir::Tensor& wt = *wq->initializer;
    double c0max = -1e30;
    for (int64_t i = 0; i < 27; ++i)
        c0max = std::max(c0max, (wt.valueAsDouble(i) - double(wq->quant->zeroPoints[0])) *
                                    double(wq->quant->scales[0]));
    QVERIFY(std::fabs(tv->analysis()->channels.max[0] - c0max) < 1e-9);
    // Clicking the bias input's rows in the node view switches the tensor view to it.
    QTreeWidgetItem* biasRow = nullptr;
    for (QTreeWidgetItemIterator it(p->tree()); *it; ++it)
        if ((*it)->data(1, ui::PropertiesPanel::KeyRole).toString() == "input:2:dtype")
            biasRow = *it;
    QVERIFY(biasRow);
    emit p->tree()->itemClicked(biasRow, 1);
    QCOMPARE(tv->current()->key, QString("input:2:quantized"));
    QCOMPARE(tv->valueOf("dtype"), QString("int32"));

    QVERIFY(w.selectNode("conv1.weight_DequantizeLinear"));
    QTest::qWait(100);
    saveShot(w, "inspector_qdq_per_channel");
}

// A TFLite file opens like an ONNX one: graph, node list, and the importer's per-channel
// quantization parameters (axis remapped to NCHW) in the inspector's table.
void TestInspector::tfliteQuantized() {
    EW_REQUIRE_MODELS();
    const QString path = ew::test::modelsDir() + "/tflite/mlperf-tiny/kws_ref_model.tflite";
    QVERIFY2(QFileInfo::exists(path), qPrintable(path + " not found"));
    auto ref = ir::loadModel(path.toStdString());
    QVERIFY2(ref, ref ? "" : ref.error().toString().c_str());
    const ir::Graph& g = *(*ref)->graph;
    // The first Conv weight's DequantizeLinear: int8 [64,1,10,4] quantized per output channel.
    const ir::Node* dq = nullptr;
    for (const auto& n : g.nodes())
        if (n->opType == "DequantizeLinear" && n->input(0) && n->input(0)->isInitializer() &&
            n->input(0)->quant && n->input(0)->quant->isPerAxis() &&
            n->input(0)->type.elemType == ir::DataType::Int8 && n->input(0)->initializer->dims.size() == 4) {
            dq = n.get();
            break;
        }
    QVERIFY(dq);
    const ir::Value* wq = dq->input(0);
    const int channels = int(wq->quant->scales.size());
    QCOMPARE(int64_t(channels), wq->initializer->dims[0]);

    ui::MainWindow w;
    w.resize(1600, 1000);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, path));
    QCOMPARE(w.document()->graph()->nodeCount(), g.nodeCount());
    QTRY_VERIFY(!w.graphPage()->scene()->nodeItems().empty());
    ui::PropertiesPanel* p = w.properties();
    QVERIFY(w.selectNode(QString::fromStdString(dq->name)));
    QCOMPARE(p->valueOf("input:0:dtype"), QString("int8"));
    QCOMPARE(p->valueOf("input:0:quant"), QString("per channel, axis 0, %1 channels").arg(channels));
    QTableWidget* table = p->quantTable("input:0");
    QVERIFY(table);
    QCOMPARE(table->rowCount(), channels);
    for (int c : {0, channels / 2, channels - 1}) {
        QCOMPARE(table->item(c, 1)->text(), ui::formatStatNumber(wq->quant->scales[std::size_t(c)]));
        QCOMPARE(table->item(c, 2)->text(), QString::number(wq->quant->zeroPoints[std::size_t(c)]));
    }
    saveShot(w, "inspector_tflite_kws");
}

void TestInspector::convWeight_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("needsModels");
    QTest::addColumn<QString>("shot");
    QTest::newRow("digits_cnn") << samplePath() << false << "inspector_conv_weight_digits_cnn";
    QString resnet = test::modelsDir().isEmpty()
                         ? QString()
                         : test::modelsDir() + "/onnx/torchvision-arch/resnet18.onnx";
    QTest::newRow("resnet18") << resnet << true << "inspector_conv_weight_resnet18";
}

void TestInspector::convWeight() {
    QFETCH(QString, path);
    QFETCH(bool, needsModels);
    QFETCH(QString, shot);
    if (needsModels) EW_REQUIRE_MODELS();
    QVERIFY2(QFileInfo::exists(path), qPrintable(path + " not found"));

    ui::MainWindow w;
    w.resize(1600, 1000);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(loadInto(w, path));
    const ir::Graph& g = *w.document()->graph();
    const ir::Node* conv = nullptr;
    for (const auto& n : g.nodes())
        if (n->opType == "Conv" && n->input(1) && n->input(1)->isInitializer()) {
            conv = n.get();
            break;
        }
    QVERIFY(conv);
    QVERIFY(w.selectNode(ui::qstr(conv->name.empty() ? conv->displayName() : conv->name)));
    ui::TensorView* tv = w.inspector()->tensorView();
    QVERIFY(waitAnalysis(tv));
    QVERIFY(tv->isVisible());
    QCOMPARE(tv->current()->key, QString("input:1"));
    const ir::Tensor& wt = *conv->input(1)->initializer;
    QCOMPARE(tv->valueOf("dtype"), QString("float32"));
    QCOMPARE(tv->valueOf("shape"), ui::qstr(ir::Shape::of(wt.dims).toString()));

    // Statistics as the precomputed ones; histogram bins hold every element.
    ui::TensorStats st = ui::computeTensorStats(wt);
    QCOMPARE(tv->valueOf("min"), ui::formatStatNumber(st.min));
    QCOMPARE(tv->valueOf("max"), ui::formatStatNumber(st.max));
    QCOMPARE(tv->valueOf("std"), ui::formatStatNumber(st.stddev));
    QCOMPARE(histogramTotal(tv->histogramPlot()), wt.numElements());
    QCOMPARE(tv->analysis()->histogram.total(), wt.numElements());
    QCOMPARE(int(tv->analysis()->histogram.counts.size()), ui::histogramBinCount(wt.numElements()));

    // One range per output channel (axis 0 of a Conv weight), matching a direct scan.
    QCOMPARE(tv->analysis()->channels.axis, 0);
    QCOMPARE(tv->channelPlot()->graphCount(), 2);
    QCOMPARE(tv->channelPlot()->graph(0)->data()->size(), int(wt.dims[0]));
    int64_t per = wt.numElements() / wt.dims[0];
    int64_t last = wt.dims[0] - 1;
    double mn = 1e30, mx = -1e30;
    for (int64_t i = last * per; i < (last + 1) * per; ++i) {
        mn = std::min(mn, wt.valueAsDouble(i));
        mx = std::max(mx, wt.valueAsDouble(i));
    }
    QCOMPARE(tv->channelPlot()->graph(0)->data()->at(int(last))->value, mn);
    QCOMPARE(tv->channelPlot()->graph(1)->data()->at(int(last))->value, mx);

    // The log-scale toggle switches the count axis.
    QCOMPARE(tv->histogramPlot()->yAxis->scaleType(), QCPAxis::stLinear);
    QTest::qWait(100);
    saveShot(w, shot);
    saveShot(*w.findChild<QDockWidget*>("propertiesDock"), shot + "_dock");
    tv->findChild<QCheckBox*>("histLogScale")->click();
    QCOMPARE(tv->histogramPlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(histogramTotal(tv->histogramPlot()), wt.numElements());
    QTest::qWait(50);
    saveShot(*w.findChild<QDockWidget*>("propertiesDock"), shot + "_log");
    tv->setLogScale(false);
    QCOMPARE(tv->histogramPlot()->yAxis->scaleType(), QCPAxis::stLinear);

    // A node without constant inputs hides the tensor view with a hint.
    for (const auto& n : g.nodes())
        if (n->opType == "Relu") {
            QVERIFY(w.selectNode(ui::qstr(n->name.empty() ? n->displayName() : n->name)));
            QVERIFY(!tv->current());
            QVERIFY(!w.inspector()->splitter()->widget(1)->isVisible());
            break;
        }
}

void TestInspector::dtypes_data() {
    QTest::addColumn<ir::Tensor>("tensor");
    QTest::addColumn<double>("min");
    QTest::addColumn<double>("max");
    QTest::addColumn<bool>("integerBins");
    std::vector<uint16_t> half;
    for (float f : {-2.0f, -0.5f, 0.0f, 0.25f, 1.0f, 3.5f})
        half.push_back(ir::floatToHalf(f));
    QTest::newRow("float16") << makeTensor(ir::DataType::Float16, {2, 3}, half) << -2.0 << 3.5
                             << false;
    QTest::newRow("int8") << makeTensor<int8_t>(ir::DataType::Int8, {3, 2},
                                                {-128, -3, 0, 5, 9, 127})
                          << -128.0 << 127.0 << true;
    QTest::newRow("uint8") << makeTensor<uint8_t>(ir::DataType::UInt8, {2, 2}, {0, 17, 200, 255})
                           << 0.0 << 255.0 << true;
    QTest::newRow("int32") << makeTensor<int32_t>(ir::DataType::Int32, {2, 2},
                                                  {-70000, 3, 4, 90000})
                           << -70000.0 << 90000.0 << false;
    QTest::newRow("int64") << makeTensor<int64_t>(ir::DataType::Int64, {4, 1}, {1, 2, 3, 40}) << 1.0
                           << 40.0 << true;
    QTest::newRow("double") << makeTensor<double>(ir::DataType::Double, {2, 3},
                                                  {0.1, -7.25, 3.0, 1e-3, 2.5, 0.0})
                            << -7.25 << 3.0 << false;
    QTest::newRow("float 1-D") << makeTensor<float>(ir::DataType::Float, {4}, {1.f, 2.f, 2.f, 5.f})
                               << 1.0 << 5.0 << false;
}

void TestInspector::dtypes() {
    QFETCH(ir::Tensor, tensor);
    QFETCH(double, min);
    QFETCH(double, max);
    QFETCH(bool, integerBins);
    ui::TensorView v;
    v.resize(420, 600);
    v.show();
    std::vector<ui::TensorSource> sources;
    sources.push_back(sourceOf(tensor));
    v.setSources(std::move(sources), 0);
    QVERIFY(waitAnalysis(&v));
    const ui::TensorAnalysis* a = v.analysis();
    QCOMPARE(a->stats.count, tensor.numElements());
    QCOMPARE(a->stats.min, min);
    QCOMPARE(a->stats.max, max);
    QCOMPARE(v.valueOf("min"), ui::formatStatNumber(min));
    QCOMPARE(v.valueOf("dtype"), ui::qstr(ir::dataTypeName(tensor.dtype)));
    QCOMPARE(a->histogram.integerBins, integerBins);
    QCOMPARE(a->histogram.total(), tensor.numElements());
    QCOMPARE(histogramTotal(v.histogramPlot()), tensor.numElements());
    if (integerBins) QCOMPARE(int64_t(a->histogram.counts.size()), int64_t(max - min) + 1);
    if (tensor.dims.size() >= 2) {
        QCOMPARE(int64_t(a->channels.min.size()), tensor.dims[0]);
        QCOMPARE(v.channelPlot()->graph(0)->data()->size(), int(tensor.dims[0]));
    } else {
        QCOMPARE(a->channels.axis, -1);
        QCOMPARE(v.channelPlot()->graphCount(), 0);
    }
}

void TestInspector::largeTensorInBackground() {
    // 4M elements: analysed on the thread pool, with the busy hint up meanwhile.
    const int64_t n = int64_t(1) << 22;
    std::vector<float> values(static_cast<std::size_t>(n));
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 0.05f);
    for (float& f : values)
        f = dist(rng);
    values[123] = 0.0f;
    ir::Tensor big = makeTensor(ir::DataType::Float, {1024, 4096}, std::move(values), "big");

    ui::TensorView v;
    v.resize(420, 600);
    v.show();
    QSignalSpy ready(&v, &ui::TensorView::analysisReady);
    std::vector<ui::TensorSource> sources;
    sources.push_back(sourceOf(big));
    v.setSources(std::move(sources), 0);
    QVERIFY(v.isBusy());
    QVERIFY(!v.analysis());
    QVERIFY(v.busyLabel()->isVisible());
    // The event loop keeps running while the worker counts.
    QVERIFY(ready.wait(60000));
    QVERIFY(!v.isBusy());
    QVERIFY(!v.busyLabel()->isVisible());
    QCOMPARE(v.analysis()->histogram.total(), n);
    QCOMPARE(v.analysis()->histogram.counts.size(), std::size_t(120));
    QCOMPARE(v.analysis()->channels.min.size(), std::size_t(1024));
    ui::TensorStats st = ui::computeTensorStats(big);
    QCOMPARE(v.analysis()->stats.min, st.min);
    QCOMPARE(v.analysis()->stats.max, st.max);

    // A newer request wins over one still running: its result is dropped.
    std::vector<ui::TensorSource> again;
    again.push_back(sourceOf(big));
    ir::Tensor small =
        makeTensor<float>(ir::DataType::Float, {2, 2}, {1.f, 2.f, 3.f, 4.f}, "small");
    again.push_back(sourceOf(small));
    ready.clear();
    v.setSources(std::move(again), 0);
    QVERIFY(v.isBusy());
    v.selectIndex(1);
    QVERIFY(!v.isBusy());
    QCOMPARE(v.analysis()->stats.count, int64_t(4));
    QTest::qWait(300);
    QCOMPARE(v.analysis()->stats.count, int64_t(4));
    QCOMPARE(v.current()->name, QString("small"));
}

void TestInspector::saveNpy_data() {
    QTest::addColumn<ir::Tensor>("tensor");
    QTest::newRow("float32") << makeTensor<float>(ir::DataType::Float, {2, 3},
                                                  {0.5f, -1.f, 2.f, 3.25f, 0.f, -7.f});
    std::vector<uint16_t> half;
    for (float f : {-2.0f, 0.5f, 1.0f})
        half.push_back(ir::floatToHalf(f));
    QTest::newRow("float16") << makeTensor(ir::DataType::Float16, {3}, half);
    QTest::newRow("int8") << makeTensor<int8_t>(ir::DataType::Int8, {2, 2}, {-128, 0, 5, 127});
    QTest::newRow("int64") << makeTensor<int64_t>(ir::DataType::Int64, {2}, {-5, 1LL << 40});
}

void TestInspector::saveNpy() {
    QFETCH(ir::Tensor, tensor);
    ui::TensorView v;
    std::vector<ui::TensorSource> sources;
    sources.push_back(sourceOf(tensor));
    v.setSources(std::move(sources), 0);
    QString path = m_tmp.filePath(QString("saved_%1.npy").arg(QTest::currentDataTag()));
    QFile::remove(path);
    QSignalSpy saved(&v, &ui::TensorView::saved);
    QVERIFY(v.saveNpy(path));
    QVERIFY(saved.wait(10000));
    QCOMPARE(saved.first().first().toString(), QFileInfo(path).absoluteFilePath());
    auto back = ir::readNpy(path.toStdString());
    QVERIFY2(back, back ? "" : back.error().toString().c_str());
    QCOMPARE(back->dtype, tensor.dtype);
    QCOMPARE(back->dims, tensor.dims);
    QVERIFY(std::equal(back->bytes().begin(), back->bytes().end(), tensor.bytes().begin(),
                       tensor.bytes().end()));
    // Atomic write: no temporary left beside it.
    QCOMPARE(QDir(m_tmp.path()).entryList({"saved_*"}, QDir::Files).filter(".tmp").size(), 0);
}

void TestInspector::saveNpyErrors() {
    ui::TensorView v;
    v.show();
    std::vector<ui::TensorSource> sources;
    sources.push_back(sourceOf(makeTensor<float>(ir::DataType::Float, {2}, {1.f, 2.f})));
    std::vector<uint16_t> bf = {0x3f80, 0x4000};
    sources.push_back(sourceOf(makeTensor(ir::DataType::BFloat16, {2}, bf, "bf")));
    v.setSources(std::move(sources), 0);
    QSignalSpy failed(&v, &ui::TensorView::saveFailed);

    // A folder that does not exist: the message names the file.
    QString missing = m_tmp.filePath("no_such_dir/weights.npy");
    QVERIFY(v.saveNpy(missing));
    QVERIFY(failed.wait(10000));
    QVERIFY2(failed.last().first().toString().contains("weights.npy"),
             qPrintable(failed.last().first().toString()));
    QTRY_VERIFY(v.errorBox() && v.errorBox()->isVisible());
    QVERIFY(v.errorBox()->text().contains("weights.npy"));
    QCOMPARE(v.errorBox()->informativeText(), v.lastError());
    v.errorBox()->accept();

    // A dtype NumPy cannot hold: the button is disabled, the API reports it naming the file.
    v.selectIndex(1);
    QVERIFY(!v.findChild<QPushButton*>("saveNpy")->isEnabled());
    QVERIFY(v.saveNpy(m_tmp.filePath("bf.npy")));
    QVERIFY(failed.wait(10000));
    QVERIFY2(failed.last().first().toString().contains("bf.npy"),
             qPrintable(failed.last().first().toString()));
    QVERIFY(!QFileInfo::exists(m_tmp.filePath("bf.npy")));
}

void TestInspector::copyValues() {
    ui::TensorView v;
    std::vector<ui::TensorSource> sources;
    sources.push_back(sourceOf(
        makeTensor<float>(ir::DataType::Float, {2, 3}, {0.1f, -1.f, 2.f, 3.25f, 0.f, -7.f}, "w")));
    const int64_t big = ui::TensorView::kMaxCopyValues + 10;
    sources.push_back(sourceOf(makeTensor<int8_t>(ir::DataType::Int8, {big},
                                                  std::vector<int8_t>(std::size_t(big), 3), "q")));
    v.setSources(std::move(sources), 0);
    QString text = v.copyValues();
    QCOMPARE(QApplication::clipboard()->text(), text);
    QCOMPARE(text, QString("# w float32 [2,3] (6 values)\n0.1\t-1\t2\n3.25\t0\t-7\n"));

    v.selectIndex(1);
    text = v.copyValues();
    QCOMPARE(QApplication::clipboard()->text(), text);
    QStringList lines = text.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines[0].startsWith("# q int8 ["));
    QCOMPARE(lines[1].count('\t'), int(ui::TensorView::kMaxCopyValues) - 1);
    QVERIFY2(lines[2].startsWith("# truncated: 100000 of 100010 values"), qPrintable(lines[2]));
}

QTEST_MAIN(TestInspector)
#include "tst_inspector.moc"
