// TFLite export: every real .tflite re-exports to a file that re-imports to the same graph and
// the same outputs; the float ONNX models convert (ONNX -> TFLite -> our runtime gives the ONNX
// outputs) or fail with Unsupported naming the node, writing nothing; resnet18/mobilenet_v2 keep
// no TRANSPOSE inside; QDQ models become int8 TFLite; the openwakeword ONNX/TFLite twins agree;
// `edgewise-cli convert` works both ways; flatc reads the written bytes back.
#include "test_util.h"

#include "common/file_util.h"
#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "ir/quant_params.h"
#include "ir/shape_inference.h"
#include "ir/text_dump.h"
#include "ir/tflite/tflite_export.h"
#include "ir/tflite/tflite_import.h"
#include "ir/tflite/tflite_schema_generated.h"
#include "ir/verifier.h"
#include "optimize/pipeline.h"
#include "runtime/session.h"

#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <tuple>

using namespace ew;
namespace fb = ew::tflitefmt::schema;

namespace {

std::span<const std::byte> asSpan(const std::vector<std::byte>& b) { return {b.data(), b.size()}; }

Result<std::unique_ptr<ir::Model>> reimport(const std::vector<std::byte>& bytes, const std::string& name) {
    auto m = tflitefmt::importTfliteBytes(asSpan(bytes), name);
    if (!m) return m;
    auto v = ir::verify(**m);
    if (!v) return std::unexpected(v.error());
    ir::inferShapes(**m);
    ir::deriveQuantParams(*(*m)->graph);
    return m;
}

/// Operators per builtin name in subgraph `sg`, read with the generated reader.
std::map<std::string, int> opHistogram(const std::vector<std::byte>& bytes, int sg = 0) {
    std::map<std::string, int> h;
    const fb::Model* m = fb::GetModel(bytes.data());
    const auto* s = m->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(sg));
    if (!s->operators()) return h;
    for (const auto* op : *s->operators()) {
        const auto* oc = m->operator_codes()->Get(op->opcode_index());
        const int32_t code = std::max<int32_t>(oc->deprecated_builtin_code(), static_cast<int32_t>(oc->builtin_code()));
        const char* nm = tflitefmt::builtinOperatorName(code);
        h[nm ? nm : "?"]++;
    }
    return h;
}

std::vector<ir::Tensor> readTestSet(const QString& dir, const QString& prefix) {
    std::vector<ir::Tensor> out;
    for (int i = 0;; ++i) {
        QString p = dir + "/" + prefix + "_" + QString::number(i) + ".pb";
        if (!QFileInfo::exists(p)) break;
        auto t = onnxfmt::readTensorProtoFile(p.toStdString());
        if (!t) break;
        out.push_back(std::move(*t));
    }
    return out;
}

/// Seeded inputs for every graph input (an unknown batch dim = 1, other unknown dims 1280:
/// melspectrogram's audio samples).
rt::Session::NamedTensors randomInputs(const ir::Graph& g, uint32_t seed) {
    std::mt19937 rng(seed);
    rt::Session::NamedTensors feed;
    for (const ir::Value* v : g.inputs) {
        if (v->isInitializer()) continue;
        std::vector<int64_t> dims;
        if (v->type.shape)
            for (const auto& d : v->type.shape->dims) dims.push_back(d.isKnown() ? d.value : dims.empty() ? 1 : 1280);
        int64_t n = 1;
        for (auto d : dims) n *= d;
        switch (v->type.elemType) {
        case ir::DataType::Int8: {
            std::uniform_int_distribution<int> d(-128, 127);
            std::vector<int8_t> x(static_cast<std::size_t>(n));
            for (auto& e : x) e = static_cast<int8_t>(d(rng));
            feed.emplace_back(v->name, rt::Tensor::fromVector(v->type.elemType, dims, x));
            break;
        }
        case ir::DataType::UInt8: {
            std::uniform_int_distribution<int> d(0, 255);
            std::vector<uint8_t> x(static_cast<std::size_t>(n));
            for (auto& e : x) e = static_cast<uint8_t>(d(rng));
            feed.emplace_back(v->name, rt::Tensor::fromVector(v->type.elemType, dims, x));
            break;
        }
        case ir::DataType::Int16: {
            std::uniform_int_distribution<int> d(-2000, 2000);
            std::vector<int16_t> x(static_cast<std::size_t>(n));
            for (auto& e : x) e = static_cast<int16_t>(d(rng));
            feed.emplace_back(v->name, rt::Tensor::fromVector(v->type.elemType, dims, x));
            break;
        }
        default: {
            std::uniform_real_distribution<float> d(-1.f, 1.f);
            std::vector<float> x(static_cast<std::size_t>(n));
            for (auto& e : x) e = d(rng);
            feed.emplace_back(v->name, rt::Tensor::fromVector(ir::DataType::Float, dims, x));
            break;
        }
        }
    }
    return feed;
}

Result<std::vector<rt::Tensor>> runModel(const ir::Model& m, const rt::Session::NamedTensors& feed) {
    EW_TRY_ASSIGN(auto s, rt::Session::create(m));
    rt::Session::NamedTensors byPosition;
    for (std::size_t i = 0; i < feed.size() && i < s->inputInfo().size(); ++i) {
        rt::Tensor t = feed[i].second;
        byPosition.emplace_back(s->inputInfo()[i].name, std::move(t));
    }
    return s->run(byPosition);
}

/// Largest |a-b| / (max|b| + tiny) over all outputs; -1 on a shape or count mismatch.
double relativeDiff(const std::vector<rt::Tensor>& a, const std::vector<rt::Tensor>& b, double* absOut = nullptr) {
    if (a.size() != b.size()) return -1;
    double worst = 0, worstAbs = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].numElements() != b[i].numElements()) return -1;
        double scale = 0, diff = 0;
        for (int64_t k = 0; k < b[i].numElements(); ++k) {
            scale = std::max(scale, std::abs(b[i].doubleAt(k)));
            double d = std::abs(a[i].doubleAt(k) - b[i].doubleAt(k));
            if (std::isnan(d)) d = 1e30;
            diff = std::max(diff, d);
        }
        worst = std::max(worst, diff / (scale + 1e-12));
        worstAbs = std::max(worstAbs, diff);
    }
    if (absOut) *absOut = worstAbs;
    return worst;
}

/// Makes dynamic input dims static (from the test data), then folds the shape arithmetic that
/// depended on them, the usual preparation before a TFLite conversion.
VoidResult makeStatic(ir::Model& m, const std::vector<ir::Tensor>& inputs) {
    std::size_t k = 0;
    for (ir::Value* v : m.graph->inputs) {
        if (v->isInitializer() || k >= inputs.size()) continue;
        v->type.shape = ir::Shape::of(inputs[k++].dims);
    }
    ir::ShapeInferenceOptions so;
    so.overwriteDeclared = true;
    ir::inferShapes(m, so);
    opt::OptimizeOptions oo;
    oo.passes = {"fold-constants", "simplify-shape-subgraphs", "eliminate-dead-nodes", "eliminate-unused-initializers"};
    auto r = opt::optimize(m, oo);
    if (!r) return std::unexpected(r.error());
    return {};
}

QString cliPath() { return QDir(test::binDir()).absoluteFilePath("edgewise-cli"); }

ir::Value* addConst(ir::Graph& g, const std::string& name, ir::Tensor t) {
    ir::Value* v = *g.addValue(name, ir::Type::tensor(t.dtype, ir::Shape::of(t.dims)));
    v->initializer = std::move(t);
    g.initializers.push_back(v);
    return v;
}

/// x [1,3,8,8] -> Conv 3x3 (pads 1, no bias) -> depthwise Conv 3x3 (group 4, no bias) -> y, float.
std::unique_ptr<ir::Model> biasFreeConvModel() {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    auto f = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    std::vector<float> w(4 * 3 * 9), dw(4 * 9);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i * 37 % 19) - 9) / 10.f;
    for (std::size_t i = 0; i < dw.size(); ++i) dw[i] = static_cast<float>(static_cast<int>(i * 11 % 7) - 3) / 5.f;
    ir::Value* x = *g.addValue("x", f({1, 3, 8, 8}));
    g.inputs.push_back(x);
    ir::Value* wv = addConst(g, "w", ir::Tensor::fromVector("w", ir::DataType::Float, {4, 3, 3, 3}, w));
    ir::Value* dwv = addConst(g, "dw", ir::Tensor::fromVector("dw", ir::DataType::Float, {4, 1, 3, 3}, dw));
    ir::Value* h = *g.addValue("h", f({1, 4, 8, 8}));
    ir::Value* y = *g.addValue("y", f({1, 4, 8, 8}));
    for (auto [name, in, wt, out, group] : {std::tuple{"conv", x, wv, h, 1}, std::tuple{"dwconv", h, dwv, y, 4}}) {
        ir::Node* c = g.addNode("Conv", "", name, {in, wt}, {out});
        c->setAttr(ir::Attribute::makeInts("kernel_shape", {3, 3}));
        c->setAttr(ir::Attribute::makeInts("pads", {1, 1, 1, 1}));
        c->setAttr(ir::Attribute::makeInt("group", group));
    }
    g.outputs.push_back(y);
    return m;
}

/// QuantizeLinear -> DequantizeLinear -> Conv 3x3 (no bias) -> QuantizeLinear -> DequantizeLinear,
/// activations uint8 (zero point 128); weights int8 per output channel (our quantizer's default
/// scheme) or, with `uint8Weights`, uint8 per tensor (TFLite's legacy all-uint8 scheme).
std::unique_ptr<ir::Model> qdqConvModel(bool uint8Weights) {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    auto ty = [](ir::DataType t, std::vector<int64_t> d) { return ir::Type::tensor(t, ir::Shape::of(d)); };
    using DT = ir::DataType;
    ir::Value* x = *g.addValue("x", ty(DT::Float, {1, 3, 8, 8}));
    g.inputs.push_back(x);
    ir::Value* sx = addConst(g, "sx", ir::Tensor::fromVector("sx", DT::Float, {}, std::vector<float>{2.f / 255.f}));
    ir::Value* zx = addConst(g, "zx", ir::Tensor::fromVector("zx", DT::UInt8, {}, std::vector<uint8_t>{128}));
    ir::Value* sy = addConst(g, "sy", ir::Tensor::fromVector("sy", DT::Float, {}, std::vector<float>{0.05f}));
    ir::Value* zy = addConst(g, "zy", ir::Tensor::fromVector("zy", DT::UInt8, {}, std::vector<uint8_t>{120}));
    ir::Value *w = nullptr, *sw = nullptr, *zw = nullptr;
    if (uint8Weights) {
        std::vector<uint8_t> q(4 * 3 * 9);
        for (std::size_t i = 0; i < q.size(); ++i) q[i] = static_cast<uint8_t>(i * 97 % 256);
        w = addConst(g, "w", ir::Tensor::fromVector("w", DT::UInt8, {4, 3, 3, 3}, q));
        sw = addConst(g, "sw", ir::Tensor::fromVector("sw", DT::Float, {}, std::vector<float>{0.01f}));
        zw = addConst(g, "zw", ir::Tensor::fromVector("zw", DT::UInt8, {}, std::vector<uint8_t>{128}));
    } else {
        std::vector<int8_t> q(4 * 3 * 9);
        for (std::size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(static_cast<int>(i * 97 % 255) - 127);
        w = addConst(g, "w", ir::Tensor::fromVector("w", DT::Int8, {4, 3, 3, 3}, q));
        sw = addConst(g, "sw", ir::Tensor::fromVector("sw", DT::Float, {4}, std::vector<float>{0.01f, 0.02f, 0.015f, 0.005f}));
        zw = addConst(g, "zw", ir::Tensor::fromVector("zw", DT::Int8, {4}, std::vector<int8_t>{0, 0, 0, 0}));
    }
    ir::Value* xq = *g.addValue("xq", ty(DT::UInt8, {1, 3, 8, 8}));
    ir::Value* xd = *g.addValue("xd", ty(DT::Float, {1, 3, 8, 8}));
    ir::Value* wd = *g.addValue("wd", ty(DT::Float, {4, 3, 3, 3}));
    ir::Value* c = *g.addValue("c", ty(DT::Float, {1, 4, 8, 8}));
    ir::Value* cq = *g.addValue("cq", ty(DT::UInt8, {1, 4, 8, 8}));
    ir::Value* y = *g.addValue("y", ty(DT::Float, {1, 4, 8, 8}));
    g.addNode("QuantizeLinear", "", "qx", {x, sx, zx}, {xq});
    g.addNode("DequantizeLinear", "", "dqx", {xq, sx, zx}, {xd});
    ir::Node* dqw = g.addNode("DequantizeLinear", "", "dqw", {w, sw, zw}, {wd});
    if (!uint8Weights) dqw->setAttr(ir::Attribute::makeInt("axis", 0));
    ir::Node* conv = g.addNode("Conv", "", "conv", {xd, wd}, {c});
    conv->setAttr(ir::Attribute::makeInts("kernel_shape", {3, 3}));
    conv->setAttr(ir::Attribute::makeInts("pads", {1, 1, 1, 1}));
    g.addNode("QuantizeLinear", "", "qc", {c, sy, zy}, {cq});
    g.addNode("DequantizeLinear", "", "dqc", {cq, sy, zy}, {y});
    g.outputs.push_back(y);
    ir::deriveQuantParams(g);
    return m;
}

/// The CONV_2D / DEPTHWISE_CONV_2D operators of subgraph 0.
std::vector<const fb::Operator*> convOps(const fb::Model* fm) {
    std::vector<const fb::Operator*> ops;
    for (const auto* op : *fm->subgraphs()->Get(0)->operators()) {
        const auto code = fm->operator_codes()->Get(op->opcode_index())->builtin_code();
        if (code == fb::BuiltinOperator::CONV_2D || code == fb::BuiltinOperator::DEPTHWISE_CONV_2D) ops.push_back(op);
    }
    return ops;
}

} // namespace

class TestTfliteExport : public QObject {
    Q_OBJECT
private slots:
    void tfliteRoundTrip_data();
    void tfliteRoundTrip();
    void onnxToTflite_data();
    void onnxToTflite();
    void noTransposesInside();
    void quantizedQdq_data();
    void quantizedQdq();
    void openwakewordTwins_data();
    void openwakewordTwins();
    void unsupportedNodeWritesNothing();
    void offsetBuffers();
    void fileStructure();
    void cliConvert();
    void cliInputShape_data();
    void cliInputShape();
    void cliSileroVad();
    void convWithoutBiasGetsZeroBias();
    void uint8ActivationsWithInt8Weights();
};

void TestTfliteExport::tfliteRoundTrip_data() {
    QTest::addColumn<QString>("file");
    if (test::modelsDir().isEmpty()) {
        QTest::newRow("no models") << QString();
        return;
    }
    QDirIterator it(test::modelsDir() + "/tflite", {"*.tflite"}, QDir::Files, QDirIterator::Subdirectories);
    QStringList files;
    while (it.hasNext()) files << it.next();
    files.sort();
    for (const QString& f : files) QTest::newRow(qPrintable(QFileInfo(f).fileName())) << f;
}

void TestTfliteExport::tfliteRoundTrip() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, file);
    auto m1 = ir::loadModel(file.toStdString());
    QVERIFY2(m1.has_value(), m1 ? "" : m1.error().toString().c_str());
    tflitefmt::ExportReport rep;
    auto bytes = tflitefmt::exportTfliteBytes(**m1, {}, &rep);
    QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
    auto m2 = reimport(*bytes, "reexported.tflite");
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
    // The same graph: identical dumps of every graph (names, ops, attributes, types, weights).
    const std::string d1 = ir::dumpGraph(*(*m1)->graph), d2 = ir::dumpGraph(*(*m2)->graph);
    const QString stem = test::artifactsDir() + "/roundtrip_" + QFileInfo(file).completeBaseName();
    if (d1 != d2) {
        QFile fa(stem + "_a.txt"), fb2(stem + "_b.txt");
        if (fa.open(QIODevice::WriteOnly)) fa.write(d1.c_str());
        if (fb2.open(QIODevice::WriteOnly)) fb2.write(d2.c_str());
    }
    QVERIFY2(d1 == d2, qPrintable("the re-imported graph differs: compare " + stem + "_a.txt and _b.txt"));
    QCOMPARE((*m2)->functions.size(), (*m1)->functions.size());
    // The border transposes of the import cancel: the written file has no more TRANSPOSE ops
    // than the original.
    QByteArray orig;
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        orig = f.readAll();
    }
    std::vector<std::byte> ob(reinterpret_cast<const std::byte*>(orig.constData()), reinterpret_cast<const std::byte*>(orig.constData()) + orig.size());
    auto h0 = opHistogram(ob), h1 = opHistogram(*bytes);
    QCOMPARE(h1["TRANSPOSE"], h0["TRANSPOSE"]);
    // The same outputs through our runtime, where it runs the model.
    auto feed = randomInputs(*(*m1)->graph, 7);
    auto o1 = runModel(**m1, feed);
    if (!o1) {
        qInfo("%s: the runtime cannot run it (%s); graph comparison only", qPrintable(QFileInfo(file).fileName()), o1.error().message.c_str());
        return;
    }
    auto o2 = runModel(**m2, feed);
    QVERIFY2(o2.has_value(), o2 ? "" : o2.error().toString().c_str());
    double absd = 0;
    const double rel = relativeDiff(*o2, *o1, &absd);
    qInfo("%s: %d ops, outputs differ by %g (abs %g)", qPrintable(QFileInfo(file).fileName()), rep.operators, rel, absd);
    QVERIFY(rel == 0.0);
}

void TestTfliteExport::onnxToTflite_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<bool>("makeStaticFirst");
    QTest::addColumn<QString>("expectedError"); // empty: converts and matches
    struct Row {
        const char* model;
        bool makeStatic;
        const char* error;
    };
    const Row rows[] = {
        {"digits-cnn/digits_cnn", false, ""},
        {"ort-testdata/mnist", false, ""},
        {"blazeface/face_detection_front_128x128_barracuda", false, ""},
        {"openwakeword/alexa_v0.1", false, ""},
        {"openwakeword/hey_jarvis_v0.1", false, ""},
        {"openwakeword/embedding_model", false, ""},
        {"openwakeword/melspectrogram", false, ""}, // 1-D convolutions, dynamic batch and samples
        {"paddleocr/ch_ppocr_mobile_v2.0_cls_infer", true, ""},
        {"paddleocr/ch_PP-OCRv4_det_infer", true, ""},
        {"torchvision-arch/resnet18", false, ""},
        {"torchvision-arch/mobilenet_v2", false, ""},
        {"torchvision-arch/mobilenet_v2_unfused", false, ""},
    };
    for (const auto& r : rows) QTest::newRow(r.model) << QString(r.model) << r.makeStatic << QString(r.error);
}

void TestTfliteExport::onnxToTflite() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    QFETCH(bool, makeStaticFirst);
    QFETCH(QString, expectedError);
    const QString base = test::modelsDir() + "/onnx/" + model;
    auto m = ir::loadModel((base + ".onnx").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    QString setDir = base + ".test_data_set_0";
    if (!QFileInfo::exists(setDir)) setDir = QFileInfo(base).path() + "/test_data_set_0";
    auto inputs = readTestSet(setDir, "input");
    if (inputs.empty()) {
        // No reference set (torchvision-arch): seeded random inputs of the declared shapes.
        for (auto& [name, t] : randomInputs(*(*m)->graph, 11)) {
            std::vector<float> v(static_cast<std::size_t>(t.numElements()));
            for (int64_t k = 0; k < t.numElements(); ++k) v[static_cast<std::size_t>(k)] = static_cast<float>(t.doubleAt(k));
            inputs.push_back(ir::Tensor::fromVector(name, ir::DataType::Float, t.dims(), std::move(v)));
        }
    }
    QVERIFY2(!inputs.empty(), qPrintable("no inputs for " + model));
    if (makeStaticFirst) {
        auto r = makeStatic(**m, inputs);
        QVERIFY2(r.has_value(), r ? "" : r.error().toString().c_str());
    }
    const QString out = test::artifactsDir() + "/" + QFileInfo(base).fileName() + ".tflite";
    QFile::remove(out);
    tflitefmt::ExportReport rep;
    auto w = tflitefmt::exportTfliteFile(**m, out.toStdString(), {}, &rep);
    if (!expectedError.isEmpty()) {
        QVERIFY2(!w.has_value(), "converted, but this row expects an error");
        QCOMPARE(w.error().code, StatusCode::Unsupported);
        QVERIFY2(QString::fromStdString(w.error().toString()).contains(expectedError), w.error().toString().c_str());
        QVERIFY(!QFileInfo::exists(out));
        qInfo("%s: %s", qPrintable(model), w.error().toString().c_str());
        return;
    }
    QVERIFY2(w.has_value(), w ? "" : w.error().toString().c_str());
    auto m2 = ir::loadModel(out.toStdString());
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
    rt::Session::NamedTensors feed;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        auto t = rt::Tensor::fromIr(inputs[i]);
        QVERIFY(t.has_value());
        feed.emplace_back(inputs[i].name, std::move(*t));
    }
    auto ref = runModel(**m, feed);
    QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
    auto got = runModel(**m2, feed);
    QVERIFY2(got.has_value(), got ? "" : got.error().toString().c_str());
    double absd = 0;
    const double rel = relativeDiff(*got, *ref, &absd);
    qInfo("%s: %d TFLite ops (%d TRANSPOSE), max diff %g relative to the largest output (abs %g)", qPrintable(model), rep.operators,
          rep.transposes, rel, absd);
    QVERIFY2(rel >= 0 && rel <= 1e-4, qPrintable(QString("relative difference %1").arg(rel)));
}

void TestTfliteExport::noTransposesInside() {
    EW_REQUIRE_MODELS();
    for (const char* name : {"resnet18", "mobilenet_v2", "mobilenet_v2_unfused"}) {
        auto m = ir::loadModel((test::modelsDir() + "/onnx/torchvision-arch/" + name + ".onnx").toStdString());
        QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
        auto bytes = tflitefmt::exportTfliteBytes(**m);
        QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
        // Only the NCHW -> NHWC conversion of the graph input may remain.
        const fb::Model* fm = fb::GetModel(bytes->data());
        const auto* sg = fm->subgraphs()->Get(0);
        int inside = 0, border = 0;
        for (const auto* op : *sg->operators()) {
            const auto* oc = fm->operator_codes()->Get(op->opcode_index());
            if (oc->builtin_code() != fb::BuiltinOperator::TRANSPOSE) continue;
            const int in = op->inputs()->Get(0), out = op->outputs()->Get(0);
            bool atBorder = std::find(sg->inputs()->begin(), sg->inputs()->end(), in) != sg->inputs()->end() ||
                            std::find(sg->outputs()->begin(), sg->outputs()->end(), out) != sg->outputs()->end();
            (atBorder ? border : inside)++;
        }
        auto h = opHistogram(*bytes);
        qInfo("%s: CONV_2D %d, DEPTHWISE_CONV_2D %d, PAD %d, border TRANSPOSE %d", name, h["CONV_2D"], h["DEPTHWISE_CONV_2D"], h["PAD"], border);
        QCOMPARE(inside, 0);
        QCOMPARE(border, 1);
        QVERIFY(h["CONV_2D"] + h["DEPTHWISE_CONV_2D"] >= 20);
    }
}

void TestTfliteExport::quantizedQdq_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("axis"); // expected quantized_dimension of the filter, -1 per-tensor
    QTest::newRow("s8s8") << "conv_qdq_s8s8" << -1;
    QTest::newRow("s8s8 per-channel") << "conv_qdq_s8s8_perchannel" << 0;
    QTest::newRow("u8u8") << "conv_qdq_u8u8" << -1;
}

void TestTfliteExport::quantizedQdq() {
    // DQ -> Conv -> Q becomes one integer CONV_2D between QUANTIZE and DEQUANTIZE at the float
    // border; the int32 bias and the per-channel filter keep their parameters.
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    QFETCH(int, axis);
    const QString base = test::modelsDir() + "/onnx/ort-testdata/" + model;
    auto m = ir::loadModel((base + ".onnx").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    tflitefmt::ExportReport rep;
    auto bytes = tflitefmt::exportTfliteBytes(**m, {}, &rep);
    QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
    QVERIFY(rep.quantized);
    auto h = opHistogram(*bytes);
    QCOMPARE(h["CONV_2D"], 1);
    QCOMPARE(h["QUANTIZE"], 1);
    QCOMPARE(h["DEQUANTIZE"], 1);
    const fb::Model* fm = fb::GetModel(bytes->data());
    const auto* sg = fm->subgraphs()->Get(0);
    for (const auto* op : *sg->operators()) {
        if (fm->operator_codes()->Get(op->opcode_index())->builtin_code() != fb::BuiltinOperator::CONV_2D) continue;
        const auto* x = sg->tensors()->Get(op->inputs()->Get(0));
        const auto* w = sg->tensors()->Get(op->inputs()->Get(1));
        const auto* b = sg->tensors()->Get(op->inputs()->Get(2));
        const auto* y = sg->tensors()->Get(op->outputs()->Get(0));
        QVERIFY(x->type() == fb::TensorType::INT8 || x->type() == fb::TensorType::UINT8);
        QCOMPARE(y->type(), x->type());
        QVERIFY(w->type() == fb::TensorType::INT8 || w->type() == fb::TensorType::UINT8);
        QCOMPARE(b->type(), fb::TensorType::INT32);
        QVERIFY(w->quantization() && w->quantization()->scale());
        const int ns = static_cast<int>(w->quantization()->scale()->size());
        if (axis < 0) QCOMPARE(ns, 1);
        else {
            QCOMPARE(ns, w->shape()->Get(0));
            QCOMPARE(w->quantization()->quantized_dimension(), axis);
            QCOMPARE(static_cast<int>(b->quantization()->scale()->size()), ns);
        }
        // OHWI filter: input channels last.
        QCOMPARE(w->shape()->Get(3), x->shape()->Get(3));
        // bias scale = input scale * filter scale.
        const float sx = x->quantization()->scale()->Get(0), sw = w->quantization()->scale()->Get(0);
        QVERIFY(std::abs(b->quantization()->scale()->Get(0) - sx * sw) <= 1e-6f * sx * sw);
    }
    auto m2 = reimport(*bytes, "q.tflite");
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
    auto inputs = readTestSet(base + ".test_data_set_0", "input");
    QVERIFY(!inputs.empty());
    auto t = rt::Tensor::fromIr(inputs[0]);
    QVERIFY(t.has_value());
    rt::Session::NamedTensors feed{{inputs[0].name, *t}};
    auto ref = runModel(**m, feed);
    QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
    auto got = runModel(**m2, feed);
    QVERIFY2(got.has_value(), got ? "" : got.error().toString().c_str());
    // Same arithmetic (QDQ either way): equal up to one output LSB.
    double absd = 0;
    relativeDiff(*got, *ref, &absd);
    const float lsb = fm->subgraphs()->Get(0)->tensors()->Get(fm->subgraphs()->Get(0)->outputs()->Get(0))->type() == fb::TensorType::FLOAT32 ? 1.7f : 1.f;
    qInfo("%s: max abs diff %g", qPrintable(model), absd);
    QVERIFY(absd <= lsb);
}

void TestTfliteExport::openwakewordTwins_data() {
    QTest::addColumn<QString>("name");
    for (const char* n : {"melspectrogram", "embedding_model", "alexa_v0.1", "hey_jarvis_v0.1"}) QTest::newRow(n) << QString(n);
}

void TestTfliteExport::openwakewordTwins() {
    // The same weights in both formats: the ONNX model and the TFLite twin give the same outputs
    // on the same input through our runtime (the interfaces differ only in leading dims).
    EW_REQUIRE_MODELS();
    QFETCH(QString, name);
    const QString root = test::modelsDir();
    auto mo = ir::loadModel((root + "/onnx/openwakeword/" + name + ".onnx").toStdString());
    auto mt = ir::loadModel((root + "/tflite/openwakeword/" + name + ".tflite").toStdString());
    QVERIFY2(mo.has_value(), mo ? "" : mo.error().toString().c_str());
    QVERIFY2(mt.has_value(), mt ? "" : mt.error().toString().c_str());
    auto inputs = readTestSet(root + "/onnx/openwakeword/" + name + ".test_data_set_0", "input");
    QCOMPARE(inputs.size(), std::size_t(1));
    auto x = rt::Tensor::fromIr(inputs[0]);
    QVERIFY(x.has_value());
    const ir::Value* tin = (*mt)->graph->inputs[0];
    // Unknown dims (batch, samples) take what the reference input leaves.
    std::vector<int64_t> tdims;
    int64_t known = 1, unknown = 0;
    for (const auto& d : tin->type.shape->dims) {
        tdims.push_back(d.value);
        if (d.isKnown()) known *= d.value;
        else
            ++unknown;
    }
    // Several unknown dims (melspectrogram's [batch, samples]): leading ones are 1, the last takes the rest.
    for (std::size_t i = 0, seen = 0; i < tdims.size(); ++i)
        if (tdims[i] < 0) tdims[i] = ++seen == static_cast<std::size_t>(unknown) && known > 0 ? x->numElements() / known : 1;
    // Batch 1 in the TFLite twin: same element count, the TFLite's shape.
    int64_t n = 1;
    for (auto d : tdims) n *= d;
    if (n != x->numElements()) QSKIP(qPrintable(QString("[ew-skip] the TFLite twin takes %1 elements, the reference input has %2").arg(n).arg(x->numElements())));
    std::vector<float> vals(static_cast<std::size_t>(n));
    for (int64_t k = 0; k < n; ++k) vals[static_cast<std::size_t>(k)] = static_cast<float>(x->doubleAt(k));
    auto ro = runModel(**mo, {{inputs[0].name, *x}});
    QVERIFY2(ro.has_value(), ro ? "" : ro.error().toString().c_str());
    auto rtf = runModel(**mt, {{tin->name, rt::Tensor::fromVector(ir::DataType::Float, tdims, vals)}});
    QVERIFY2(rtf.has_value(), rtf ? "" : rtf.error().toString().c_str());
    double absd = 0;
    const double rel = relativeDiff(*rtf, *ro, &absd);
    qInfo("%s: ONNX vs TFLite twin: max diff %g relative to the largest output (abs %g)", qPrintable(name), rel, absd);
    QVERIFY2(rel >= 0 && rel <= 1e-4, qPrintable(QString("relative difference %1").arg(rel)));
}

void TestTfliteExport::unsupportedNodeWritesNothing() {
    // An op without a TFLite equivalent: Unsupported naming the node, no file, no temporary left.
    ir::Model m;
    m.opsetImports.push_back({"", 13});
    ir::Graph& g = *m.graph;
    ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 4})));
    ir::Value* r = *g.addValue("r", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 4})));
    ir::Value* y = *g.addValue("y", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 4})));
    g.inputs.push_back(x);
    g.addNode("Relu", "", "relu0", {x}, {r});
    g.addNode("Erf", "", "the_erf_node", {r}, {y});
    g.outputs.push_back(y);
    QTemporaryDir dir;
    const std::string path = (dir.path() + "/erf.tflite").toStdString();
    auto w = tflitefmt::exportTfliteFile(m, path);
    QVERIFY(!w.has_value());
    QCOMPARE(w.error().code, StatusCode::Unsupported);
    QCOMPARE(w.error().node, std::string("the_erf_node (Erf)"));
    QCOMPARE(w.error().file, path);
    QVERIFY(QDir(dir.path()).entryList(QDir::Files).isEmpty());
}

void TestTfliteExport::offsetBuffers() {
    // Buffers past the inline limit go after the flatbuffer (Buffer.offset/size, as files over
    // 2 GB need); the importer reads them back to the same outputs.
    EW_REQUIRE_MODELS();
    auto m = ir::loadModel((test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    tflitefmt::ExportOptions eo;
    eo.inlineBufferLimit = 1000;
    auto bytes = tflitefmt::exportTfliteBytes(**m, eo);
    QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
    const fb::Model* fm = fb::GetModel(bytes->data());
    int external = 0;
    for (const auto* b : *fm->buffers()) external += b->offset() > 1;
    QVERIFY(external > 0);
    QVERIFY(fm->buffers()->Get(0)->data() == nullptr || fm->buffers()->Get(0)->data()->size() == 0);
    auto m2 = reimport(*bytes, "offsets.tflite");
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
    auto inline2 = tflitefmt::exportTfliteBytes(**m);
    QVERIFY(inline2.has_value());
    auto m3 = reimport(*inline2, "inline.tflite");
    QVERIFY(m3.has_value());
    QCOMPARE(ir::dumpGraph(*(*m2)->graph), ir::dumpGraph(*(*m3)->graph));
}

void TestTfliteExport::fileStructure() {
    // The header fields, the operator codes both ways, the signature; then flatc (an independent
    // reader of the schema) parses the written bytes.
    EW_REQUIRE_MODELS();
    auto m = ir::loadModel((test::modelsDir() + "/onnx/ort-testdata/mnist.onnx").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    auto bytes = tflitefmt::exportTfliteBytes(**m);
    QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
    QVERIFY(tflitefmt::looksLikeTflite(asSpan(*bytes)));
    flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    QVERIFY(fb::VerifyModelBuffer(v));
    const fb::Model* fm = fb::GetModel(bytes->data());
    QCOMPARE(fm->version(), 3u);
    QVERIFY(fm->description() && fm->description()->size() > 0);
    for (const auto* oc : *fm->operator_codes())
        QCOMPARE(static_cast<int32_t>(oc->deprecated_builtin_code()), std::min<int32_t>(static_cast<int32_t>(oc->builtin_code()), 127));
    QVERIFY(fm->signature_defs() && fm->signature_defs()->size() == 1);
    const auto* sd = fm->signature_defs()->Get(0);
    QCOMPARE(sd->signature_key()->str(), std::string("serving_default"));
    QCOMPARE(sd->inputs()->size(), 1u);
    QCOMPARE(sd->inputs()->Get(0)->name()->str(), std::string("Input3"));
    const auto* sg = fm->subgraphs()->Get(0);
    const auto* in = sg->tensors()->Get(sg->inputs()->Get(0));
    // The model keeps its NCHW interface.
    QCOMPARE(in->shape()->size(), 4u);
    QCOMPARE(in->shape()->Get(1), 1);
    QCOMPARE(in->shape()->Get(2), 28);
    QVERIFY(in->shape_signature() && in->shape_signature()->size() == 4);
    // mnist flattens channels-last activations into its MatMul: the weight rows are permuted
    // instead, so the only TRANSPOSE is the input's.
    auto h = opHistogram(*bytes);
    QCOMPARE(h["TRANSPOSE"], 1);

    const QString flatc = QStandardPaths::findExecutable("flatc");
    if (flatc.isEmpty()) QSKIP("[ew-skip] flatc not found: no independent structural check");
    QTemporaryDir dir;
    const QString file = dir.path() + "/mnist.tflite";
    QVERIFY(writeBytesAtomically(file.toStdString(), *bytes).has_value());
    QProcess p;
    p.setWorkingDirectory(dir.path());
    p.start(flatc, {"--json", "--strict-json", "--raw-binary", "-o", dir.path(), test::sourceDir() + "/core/ir/tflite/tflite_schema.fbs", "--", file});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QFile json(dir.path() + "/mnist.json");
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QByteArray j = json.readAll();
    QVERIFY(j.contains("\"version\": 3"));
    QVERIFY(j.contains("\"signature_key\": \"serving_default\""));
    QVERIFY(j.contains("\"builtin_code\": \"CONV_2D\""));
    QVERIFY(j.contains("\"deprecated_builtin_code\": 3"));
}

void TestTfliteExport::cliConvert() {
    EW_REQUIRE_MODELS();
    if (!QFileInfo(cliPath()).isExecutable()) QSKIP("[ew-skip] edgewise-cli is not built");
    QTemporaryDir dir;
    auto run = [&](const QStringList& args) {
        QProcess p;
        p.start(cliPath(), args);
        p.waitForFinished(300000);
        return std::pair{p.exitCode(), QString::fromUtf8(p.readAllStandardError())};
    };
    const QString onnx = test::modelsDir() + "/onnx/digits-cnn/digits_cnn.onnx";
    const QString tfl = dir.path() + "/digits.tflite", back = dir.path() + "/digits_back.onnx";
    auto [c1, e1] = run({"-q", "convert", onnx, "-o", tfl});
    QVERIFY2(c1 == 0, qPrintable(e1));
    QCOMPARE(ir::probeFormat(tfl.toStdString()), ir::ModelFormat::TFLite);
    auto [c2, e2] = run({"-q", "convert", tfl, "-o", back});
    QVERIFY2(c2 == 0, qPrintable(e2));
    auto mb = ir::loadModel(back.toStdString());
    QVERIFY2(mb.has_value(), mb ? "" : mb.error().toString().c_str());
    auto mo = ir::loadModel(onnx.toStdString());
    QVERIFY(mo.has_value());
    auto feed = randomInputs(*(*mo)->graph, 3);
    auto r1 = runModel(**mo, feed), r2 = runModel(**mb, feed);
    QVERIFY(r1.has_value() && r2.has_value());
    const double rel = relativeDiff(*r2, *r1);
    QVERIFY2(rel >= 0 && rel <= 1e-4, qPrintable(QString("relative difference %1").arg(rel)));
    // A model with an op TFLite lacks: exit 1, the node named, no output file.
    ir::Model em;
    em.opsetImports.push_back({"", 13});
    {
        ir::Graph& g = *em.graph;
        ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 4})));
        ir::Value* y = *g.addValue("y", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 4})));
        g.inputs.push_back(x);
        g.addNode("Erf", "", "the_erf_node", {x}, {y});
        g.outputs.push_back(y);
    }
    QTemporaryDir srcDir;
    const QString erf = srcDir.path() + "/erf.onnx";
    QVERIFY(ir::saveModel(em, erf.toStdString()).has_value());
    const QString bad = dir.path() + "/erf.tflite";
    auto [c3, e3] = run({"-q", "convert", erf, "-o", bad});
    QVERIFY2(c3 == 1 || c3 == 3, qPrintable(QString::number(c3) + ": " + e3));
    QVERIFY2(e3.contains("the_erf_node"), qPrintable(e3));
    QVERIFY(!QFileInfo::exists(bad));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 2);
    // --input-shape errors are usage errors (exit 2) and write nothing.
    const QString pinned = dir.path() + "/pinned.tflite";
    auto [c4, e4] = run({"-q", "convert", onnx, "-o", pinned, "--input-shape", "no_such_input=1,1,28,28"});
    QCOMPARE(c4, 2);
    QVERIFY2(e4.contains("no_such_input"), qPrintable(e4));
    auto [c5, e5] = run({"-q", "convert", onnx, "-o", pinned, "--input-shape", "x=1,a"});
    QCOMPARE(c5, 2);
    QVERIFY(!QFileInfo::exists(pinned));
}

void TestTfliteExport::cliInputShape_data() {
    // Models with dynamic dims that TFLite's Resize/Slice need static: `convert --input-shape`
    // pins them (the test data's shape) and folds the shape arithmetic before exporting.
    QTest::addColumn<QString>("model");
    QTest::newRow("paddleocr det") << "paddleocr/ch_PP-OCRv4_det_infer";
    QTest::newRow("paddleocr cls") << "paddleocr/ch_ppocr_mobile_v2.0_cls_infer";
}

void TestTfliteExport::cliInputShape() {
    EW_REQUIRE_MODELS();
    if (!QFileInfo(cliPath()).isExecutable()) QSKIP("[ew-skip] edgewise-cli is not built");
    QFETCH(QString, model);
    const QString base = test::modelsDir() + "/onnx/" + model;
    auto m = ir::loadModel((base + ".onnx").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    auto inputs = readTestSet(base + ".test_data_set_0", "input");
    QCOMPARE(inputs.size(), std::size_t(1));
    // Without pinning the export fails on a dynamic size (the reason this option exists).
    QVERIFY(!tflitefmt::exportTfliteBytes(**m).has_value());
    QString dims;
    for (int64_t d : inputs[0].dims) dims += (dims.isEmpty() ? "" : ",") + QString::number(d);
    const QString inName = QString::fromStdString((*m)->graph->inputs[0]->name);
    QTemporaryDir dir;
    const QString out = dir.path() + "/pinned.tflite";
    QProcess p;
    p.start(cliPath(), {"-q", "convert", base + ".onnx", "-o", out, "--input-shape", inName + "=" + dims});
    QVERIFY(p.waitForFinished(300000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    auto m2 = ir::loadModel(out.toStdString());
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
    // The TFLite input has the pinned shape.
    const ir::Value* tin = (*m2)->graph->inputs[0];
    QVERIFY(tin->type.shape.has_value());
    std::vector<int64_t> got;
    for (const auto& d : tin->type.shape->dims) got.push_back(d.isKnown() ? d.value : -1);
    QCOMPARE(got, inputs[0].dims);
    auto t = rt::Tensor::fromIr(inputs[0]);
    QVERIFY(t.has_value());
    rt::Session::NamedTensors feed{{inputs[0].name, *t}};
    auto ref = runModel(**m, feed);
    QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
    auto res = runModel(**m2, feed);
    QVERIFY2(res.has_value(), res ? "" : res.error().toString().c_str());
    double absd = 0;
    const double rel = relativeDiff(*res, *ref, &absd);
    qInfo("%s via --input-shape %s=%s: max diff %g relative (abs %g)", qPrintable(model), qPrintable(inName), qPrintable(dims), rel, absd);
    QVERIFY2(rel >= 0 && rel <= 1e-4, qPrintable(QString("relative difference %1").arg(rel)));
}

void TestTfliteExport::cliSileroVad() {
    // silero-vad builds its LSTM weights inside If branches (Slice/Concat of outer initializers)
    // and picks branches from Shape arithmetic: with the shapes pinned, fold-constants and
    // eliminate-constant-if leave one graph with constant LSTM weights, which exports unrolled.
    EW_REQUIRE_MODELS();
    if (!QFileInfo(cliPath()).isExecutable()) QSKIP("[ew-skip] edgewise-cli is not built");
    const QString base = test::modelsDir() + "/onnx/silero-vad/silero_vad_16k_op15";
    if (!QFileInfo::exists(base + ".onnx")) QSKIP("[ew-skip] silero-vad is not in the models folder");
    auto m = ir::loadModel((base + ".onnx").toStdString());
    QVERIFY2(m.has_value(), m ? "" : m.error().toString().c_str());
    QVERIFY(!tflitefmt::exportTfliteBytes(**m).has_value()); // the If-built LSTM weights
    auto inputs = readTestSet(base + ".test_data_set_0", "input");
    QCOMPARE(inputs.size(), std::size_t(3)); // input [1,512], state [2,1,128], sr
    auto dimsOf = [](const ir::Tensor& t) {
        QString s;
        for (int64_t d : t.dims) s += (s.isEmpty() ? "" : ",") + QString::number(d);
        return s;
    };
    QTemporaryDir dir;
    const QString out = dir.path() + "/silero.tflite";
    QProcess p;
    p.start(cliPath(), {"-q", "convert", base + ".onnx", "-o", out, "--input-shape",
                        QString::fromStdString(inputs[0].name) + "=" + dimsOf(inputs[0]), "--input-shape",
                        QString::fromStdString(inputs[1].name) + "=" + dimsOf(inputs[1])});
    QVERIFY(p.waitForFinished(300000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray raw = f.readAll();
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(raw.data()),
                                 reinterpret_cast<const std::byte*>(raw.data()) + raw.size());
    QCOMPARE(fb::GetModel(bytes.data())->subgraphs()->size(), flatbuffers::uoffset_t(1)); // no IF left
    QCOMPARE(opHistogram(bytes).count("IF"), std::size_t(0));
    auto m2 = reimport(bytes, "silero.tflite");
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());

    rt::Session::NamedTensors feed;
    for (const ir::Tensor& t : inputs) {
        auto r = rt::Tensor::fromIr(t);
        QVERIFY(r.has_value());
        feed.emplace_back(t.name, std::move(*r));
    }
    // The test data's call starts from a zero state; the second call feeds back the first
    // call's state, so the LSTM's recurrent weights and cell state count too.
    for (int call = 0; call < 2; ++call) {
        auto ref = runModel(**m, feed);
        QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
        auto res = runModel(**m2, feed);
        QVERIFY2(res.has_value(), res ? "" : res.error().toString().c_str());
        double absd = 0;
        const double rel = relativeDiff(*res, *ref, &absd);
        qInfo("silero-vad call %d: output %g, max diff %g relative (abs %g)", call + 1, (*ref)[0].doubleAt(0), rel, absd);
        QVERIFY2(rel >= 0 && rel <= 1e-5, qPrintable(QString("relative difference %1").arg(rel)));
        feed[1].second = (*ref)[1];
    }
}

void TestTfliteExport::convWithoutBiasGetsZeroBias() {
    // TFLite's CONV_2D kernel refuses to prepare without a bias tensor (found by the TFLite
    // interpreter peer check, tests/peer/peer_tflite.py): a bias-free Conv gets an all-zero one.
    auto m = biasFreeConvModel();
    auto bytes = tflitefmt::exportTfliteBytes(*m);
    QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
    const fb::Model* fm = fb::GetModel(bytes->data());
    const auto* sg = fm->subgraphs()->Get(0);
    const auto ops = convOps(fm);
    QCOMPARE(static_cast<int>(ops.size()), 2);
    for (const auto* op : ops) {
        QCOMPARE(static_cast<int>(op->inputs()->size()), 3);
        QVERIFY(op->inputs()->Get(2) >= 0);
        const auto* b = sg->tensors()->Get(op->inputs()->Get(2));
        QCOMPARE(b->type(), fb::TensorType::FLOAT32);
        QCOMPARE(static_cast<int>(b->shape()->size()), 1);
        QCOMPARE(b->shape()->Get(0), 4);
        const auto* data = fm->buffers()->Get(b->buffer())->data();
        QVERIFY(data && data->size() == 4 * sizeof(float));
        QVERIFY(std::all_of(data->begin(), data->end(), [](uint8_t c) { return c == 0; }));
    }
    auto m2 = reimport(*bytes, "nobias.tflite");
    QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
    auto feed = randomInputs(*m->graph, 3);
    auto ref = runModel(*m, feed);
    QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
    auto got = runModel(**m2, feed);
    QVERIFY2(got.has_value(), got ? "" : got.error().toString().c_str());
    const double d = relativeDiff(*got, *ref);
    QVERIFY2(d >= 0 && d <= 1e-5, qPrintable(QString::number(d)));
}

void TestTfliteExport::uint8ActivationsWithInt8Weights() {
    // TFLite runs int8 (per-channel) weights only with int8 activations: the quantizer's default
    // uint8 activations become int8 with zero point - 128 (the same real values), and a bias-free
    // quantized Conv gets an int32 zero bias with scale s_x * s_w per channel. An all-uint8 model
    // (TFLite's legacy scheme) stays uint8.
    for (bool uint8Weights : {false, true}) {
        auto m = qdqConvModel(uint8Weights);
        tflitefmt::ExportReport rep;
        auto bytes = tflitefmt::exportTfliteBytes(*m, {}, &rep);
        QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
        QVERIFY(rep.quantized);
        const fb::Model* fm = fb::GetModel(bytes->data());
        const auto* sg = fm->subgraphs()->Get(0);
        const auto ops = convOps(fm);
        QCOMPARE(static_cast<int>(ops.size()), 1);
        const auto* op = ops[0];
        QCOMPARE(static_cast<int>(op->inputs()->size()), 3);
        const auto* x = sg->tensors()->Get(op->inputs()->Get(0));
        const auto* w = sg->tensors()->Get(op->inputs()->Get(1));
        const auto* b = sg->tensors()->Get(op->inputs()->Get(2));
        const auto* y = sg->tensors()->Get(op->outputs()->Get(0));
        const auto act = uint8Weights ? fb::TensorType::UINT8 : fb::TensorType::INT8;
        const int64_t shift = uint8Weights ? 0 : -128;
        QCOMPARE(x->type(), act);
        QCOMPARE(y->type(), act);
        QCOMPARE(w->type(), act);
        QCOMPARE(x->quantization()->zero_point()->Get(0), 128 + shift);
        QCOMPARE(y->quantization()->zero_point()->Get(0), 120 + shift);
        QCOMPARE(x->quantization()->scale()->Get(0), 2.f / 255.f);
        QCOMPARE(y->quantization()->scale()->Get(0), 0.05f);
        int u8 = 0;
        for (const auto* t : *sg->tensors()) u8 += t->type() == fb::TensorType::UINT8;
        if (!uint8Weights) QCOMPARE(u8, 0);
        // Zero int32 bias whose scale is s_x * s_w for every channel (the int8 kernels check it).
        QCOMPARE(b->type(), fb::TensorType::INT32);
        const auto* bs = b->quantization()->scale();
        const auto* ws = w->quantization()->scale();
        QCOMPARE(bs->size(), ws->size());
        QCOMPARE(static_cast<int>(ws->size()), uint8Weights ? 1 : 4);
        for (flatbuffers::uoffset_t c = 0; c < bs->size(); ++c) {
            const float want = 2.f / 255.f * ws->Get(c);
            QVERIFY(std::abs(bs->Get(c) - want) <= 1e-6f * want);
            QCOMPARE(b->quantization()->zero_point()->Get(c), int64_t(0));
        }
        const auto* bdata = fm->buffers()->Get(b->buffer())->data();
        QVERIFY(bdata && bdata->size() == 4 * sizeof(int32_t));
        QVERIFY(std::all_of(bdata->begin(), bdata->end(), [](uint8_t c) { return c == 0; }));
        // The shifted model computes the same values: reimported, it agrees with the QDQ graph
        // to one output LSB (integer vs float requantization rounding).
        auto m2 = reimport(*bytes, "u8.tflite");
        QVERIFY2(m2.has_value(), m2 ? "" : m2.error().toString().c_str());
        auto feed = randomInputs(*m->graph, 5);
        auto ref = runModel(*m, feed);
        QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
        auto got = runModel(**m2, feed);
        QVERIFY2(got.has_value(), got ? "" : got.error().toString().c_str());
        double absd = 0;
        QVERIFY(relativeDiff(*got, *ref, &absd) >= 0);
        qInfo("%s weights: max abs diff %g (1 LSB = 0.05)", uint8Weights ? "uint8" : "int8", absd);
        QVERIFY(absd <= 0.05 * 1.001);
    }
}

QTEST_GUILESS_MAIN(TestTfliteExport)
#include "tst_tflite_export.moc"
