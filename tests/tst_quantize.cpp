// Quantizer (core/optimize/quantize): observers on known distributions, the QDQ rewrite's
// structure on hand-built nets (Q/DQ placement, per-channel axes, int32 bias values), every
// scheme loading/verifying/running close to FP32, exclusions, opset handling, fake-quant vs the
// integer QLinearConv path, the digits-cnn accuracy check, and the CLI's contract.
#include "test_util.h"
#include "quant_test_util.h"

#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "optimize/graph_util.h"
#include "optimize/quantize/observer.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/cpu/int8_gemm.h"
#include "runtime/session.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace ew;
using namespace ew::opt::quant;

namespace {

using test::VectorDataset;

std::vector<float> randomVector(std::size_t n, uint32_t seed, float scale = 1.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

ir::Value* weight(ir::Graph& g, const std::string& name, std::vector<int64_t> dims, uint32_t seed, float scale) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    ir::Tensor t = ir::Tensor::fromVector<float>(name, ir::DataType::Float, dims, randomVector(std::size_t(n), seed, scale));
    return opt::addInitializer(g, name, std::move(t));
}

ir::Value* act(ir::Graph& g, const std::string& name) { return *g.addValue(name); }

/// x[1,3,8,8] -> Conv(4, 3x3, pad 1, bias) -> Relu -> MaxPool 2 -> Flatten -> Gemm(transB, 10,
/// bias) -> Relu -> MatMul(10x6) -> y. Opset `opset`.
std::unique_ptr<ir::Model> convGemmNet(int64_t opset = 13) {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 7;
    m->opsetImports = {{"", opset}};
    ir::Graph& g = *m->graph;
    ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 3, 8, 8})));
    g.inputs.push_back(x);
    ir::Node* conv = g.addNode("Conv", "", "conv1", {x, weight(g, "w1", {4, 3, 3, 3}, 1, 0.3f), weight(g, "b1", {4}, 2, 0.1f)}, {act(g, "c1")});
    conv->setAttr(ir::Attribute::makeInts("pads", {1, 1, 1, 1}));
    conv->setAttr(ir::Attribute::makeInts("kernel_shape", {3, 3}));
    g.addNode("Relu", "", "relu1", {g.findValue("c1")}, {act(g, "r1")});
    ir::Node* mp = g.addNode("MaxPool", "", "pool1", {g.findValue("r1")}, {act(g, "p1")});
    mp->setAttr(ir::Attribute::makeInts("kernel_shape", {2, 2}));
    mp->setAttr(ir::Attribute::makeInts("strides", {2, 2}));
    g.addNode("Flatten", "", "flat", {g.findValue("p1")}, {act(g, "f1")});
    ir::Node* gemm = g.addNode("Gemm", "", "fc1", {g.findValue("f1"), weight(g, "w2", {10, 64}, 3, 0.2f), weight(g, "b2", {10}, 4, 0.1f)}, {act(g, "g1")});
    gemm->setAttr(ir::Attribute::makeInt("transB", 1));
    g.addNode("Relu", "", "relu2", {g.findValue("g1")}, {act(g, "r2")});
    ir::Value* y = act(g, "y");
    g.addNode("MatMul", "", "mm", {g.findValue("r2"), weight(g, "w3", {10, 6}, 5, 0.4f)}, {y});
    g.outputs.push_back(y);
    ir::inferShapes(*m);
    return m;
}

std::vector<rt::Session::NamedTensors> randomSamples(const std::string& input, std::vector<int64_t> dims, int n, uint32_t seed) {
    std::vector<rt::Session::NamedTensors> out;
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    for (int k = 0; k < n; ++k)
        out.push_back({{input, rt::Tensor::fromVector<float>(ir::DataType::Float, dims, randomVector(std::size_t(count), seed + k))}});
    return out;
}

const ir::Node* producerOf(const ir::Model& m, const ir::Value* v) { return v ? v->producer() : nullptr; }

/// SQNR (dB) of `model` against `reference` over the samples (fusions on, as users run it).
double sqnr(const ir::Model& reference, const ir::Model& model, const std::vector<rt::Session::NamedTensors>& samples,
            bool fuse = true) {
    rt::SessionOptions so;
    so.fuse = fuse;
    auto a = rt::Session::create(reference, so);
    auto b = rt::Session::create(model, so);
    if (!a || !b) {
        qWarning("cannot create a session: %s", (!a ? a.error() : b.error()).toString().c_str());
        return -1000;
    }
    double s = 0, n = 0;
    for (const auto& in : samples) {
        auto ra = (*a)->run(in);
        auto rb = (*b)->run(in);
        if (!ra || !rb) {
            qWarning("cannot run: %s", (!ra ? ra.error() : rb.error()).toString().c_str());
            return -1000;
        }
        for (std::size_t k = 0; k < ra->size(); ++k)
            for (int64_t i = 0; i < (*ra)[k].numElements(); ++i) {
                const double x = (*ra)[k].data<float>()[i], y = (*rb)[k].data<float>()[i];
                s += x * x;
                n += (x - y) * (x - y);
            }
    }
    return n > 0 ? 10 * std::log10(s / n) : 1000;
}

Result<QuantizeReport> quantizeWith(ir::Model& m, const std::vector<rt::Session::NamedTensors>& samples, QuantizeOptions o) {
    VectorDataset data(samples);
    std::optional<Calibration> cal;
    if (needsCalibration(o.scheme)) {
        auto c = calibrate(m, data);
        if (!c) return std::unexpected(c.error());
        cal = std::move(*c);
    }
    return quantizeModel(m, cal ? &*cal : nullptr, o);
}

/// Saves and reloads through the ONNX exporter/importer (what users and ORT get).
std::unique_ptr<ir::Model> roundTrip(const ir::Model& m, const QString& dir, const char* name) {
    const std::string path = test::str(dir + "/" + name);
    if (auto r = ir::saveModel(m, path); !r) {
        qWarning("save: %s", r.error().toString().c_str());
        return nullptr;
    }
    auto back = ir::loadModel(path);
    if (!back) {
        qWarning("load: %s", back.error().toString().c_str());
        return nullptr;
    }
    return std::move(*back);
}

rt::Tensor readPb(const QString& path) {
    auto t = onnxfmt::readTensorProtoFile(test::str(path));
    if (!t) qFatal("cannot read %s: %s", qPrintable(path), t.error().toString().c_str());
    return *rt::Tensor::fromIr(*t);
}

} // namespace

class TstQuantize : public QObject {
    Q_OBJECT

private slots:
    // ---- observers -------------------------------------------------------------------------
    void observerMethods_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<bool>("outliers");
        QTest::addColumn<double>("loMin");
        QTest::addColumn<double>("loMax");
        QTest::addColumn<double>("hiMin");
        QTest::addColumn<double>("hiMax");
        // Uniform [-1, 1]: every method keeps (nearly) the whole range.
        QTest::newRow("uniform minmax") << "minmax" << false << -1.0 << -0.999 << 0.999 << 1.0;
        QTest::newRow("uniform percentile") << "percentile" << false << -1.0 << -0.99 << 0.99 << 1.0;
        QTest::newRow("uniform entropy") << "entropy" << false << -1.0 << -0.8 << 0.8 << 1.0;
        QTest::newRow("uniform mse") << "mse" << false << -1.0 << -0.9 << 0.9 << 1.0;
        // N(0, 1) plus 2 outliers at +-100 in 1M values: the clipping methods cut below the
        // outliers (yet keep the bulk: |x| > 3 is rare but not negligible), minmax does not.
        // (MSE trades the outliers' clipping error against everyone's rounding noise: with
        // 1M values the noise of a [-100, 100] range outweighs two clipped outliers; the optimum
        // sits near +-28, where both terms are of the same order.)
        QTest::newRow("outliers minmax") << "minmax" << true << -100.0 << -100.0 << 100.0 << 100.0;
        QTest::newRow("outliers moving-average") << "moving-average" << true << -100.0 << -3.0 << 3.0 << 100.0;
        QTest::newRow("outliers percentile") << "percentile" << true << -6.0 << -3.0 << 3.0 << 6.0;
        QTest::newRow("outliers entropy") << "entropy" << true << -15.0 << -2.5 << 2.5 << 15.0;
        QTest::newRow("outliers mse") << "mse" << true << -40.0 << -2.5 << 2.5 << 40.0;
    }
    void observerMethods() {
        QFETCH(QString, method);
        QFETCH(bool, outliers);
        QFETCH(double, loMin);
        QFETCH(double, loMax);
        QFETCH(double, hiMin);
        QFETCH(double, hiMax);
        TensorObserver ob;
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-1.f, 1.f);
        std::normal_distribution<float> n(0.f, 1.f);
        for (int s = 0; s < 50; ++s) {
            std::vector<float> v(20000);
            for (float& x : v) x = outliers ? n(rng) : u(rng);
            if (outliers && s == 7) v[0] = 100.f, v[1] = -100.f;
            if (!outliers && s == 0) v[0] = -1.f, v[1] = 1.f;
            ob.observe(v);
        }
        QCOMPARE(ob.count(), 1000000);
        RangeOptions o;
        QVERIFY(parseRangeMethod(method.toStdString(), o.method));
        const auto [lo, hi] = ob.range(o);
        qInfo("%s: [%g, %g]", qPrintable(method), lo, hi);
        QVERIFY2(lo >= loMin && lo <= loMax, qPrintable(QString("lo %1").arg(lo)));
        QVERIFY2(hi >= hiMin && hi <= hiMax, qPrintable(QString("hi %1").arg(hi)));
    }

    void observerOneSided() {
        // ReLU-like data (half zeros, exponential tail): every method keeps lo = 0 and a positive hi.
        TensorObserver ob;
        std::mt19937 rng(5);
        std::exponential_distribution<float> e(1.f);
        for (int s = 0; s < 10; ++s) {
            std::vector<float> v(5000);
            for (std::size_t i = 0; i < v.size(); ++i) v[i] = i % 2 ? e(rng) : 0.f;
            ob.observe(v);
        }
        for (RangeMethod m : {RangeMethod::MinMax, RangeMethod::Percentile, RangeMethod::Entropy, RangeMethod::Mse}) {
            RangeOptions o;
            o.method = m;
            const auto [lo, hi] = ob.range(o);
            QCOMPARE(lo, 0.0);
            QVERIFY2(hi > 3 && hi <= ob.max(), qPrintable(QString("%1: hi %2").arg(QString::fromUtf8(rangeMethodName(m).data())).arg(hi)));
        }
    }

    void observerGrowsExactly() {
        // The histogram re-bins when the range grows; counts are conserved and quantiles stay right.
        TensorObserver ob(256);
        std::vector<float> a(1000), b(1000);
        for (int i = 0; i < 1000; ++i) a[std::size_t(i)] = float(i) / 1000.f; // [0, 1)
        for (int i = 0; i < 1000; ++i) b[std::size_t(i)] = -5.f + 15.f * float(i) / 1000.f; // [-5, 10)
        ob.observe(a);
        const double w0 = ob.binWidth();
        ob.observe(b);
        QVERIFY(ob.binWidth() > w0);
        double total = 0;
        for (double c : ob.histogram()) total += c;
        QCOMPARE(total, 2000.0);
        QCOMPARE(ob.min(), -5.0);
        QVERIFY(ob.max() > 9.98);
        QVERIFY(ob.histLow() <= -5.0 && ob.histLow() + ob.binWidth() * 256 > ob.max());
        // Half of all values lie below ~0.5 (all of a below 1, a third of b below 0).
        RangeOptions o;
        o.method = RangeMethod::Percentile;
        o.percentile = 99.9;
        const auto [lo, hi] = ob.range(o);
        QVERIFY(lo < -4.9 && hi > 9.8);
        // Moving average: per-sample max 1 then 10 -> 1 + 0.01 * 9.
        QVERIFY(std::abs(ob.averageMax() - (1 + 0.01 * (b.back() - a.back()))) < 1e-3);
        // NaN and infinities are skipped.
        std::vector<float> bad{NAN, INFINITY, 0.5f};
        ob.observe(bad);
        QCOMPARE(ob.count(), 2001);
    }

    void entropyThreshold() {
        // Dense mass in the first 200 bins, one far outlier bin at 2000: the threshold stays
        // near the dense part, not at the outlier.
        std::vector<double> h(2048, 0.0);
        for (int i = 0; i < 200; ++i) h[std::size_t(i)] = 1000.0 - 4 * i;
        h[2000] = 1;
        const int k = entropyThresholdBins(h, 128);
        QVERIFY2(k >= 128 && k < 400, qPrintable(QString::number(k)));
    }

    void glob_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("match");
        QTest::newRow("exact") << "Softmax" << "Softmax" << true;
        QTest::newRow("prefix star") << "Conv_1*" << "Conv_12" << true;
        QTest::newRow("prefix star empty") << "Conv_1*" << "Conv_1" << true;
        QTest::newRow("no match") << "Conv_1*" << "Conv_2" << false;
        QTest::newRow("question") << "fc?" << "fc1" << true;
        QTest::newRow("question needs one") << "fc?" << "fc" << false;
        QTest::newRow("inner star") << "*block*conv" << "/layer1/block0/conv" << true;
        QTest::newRow("inner star no") << "*block*conv" << "/layer1/block0/relu" << false;
    }
    void glob() {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, match);
        QCOMPARE(globMatch(pattern.toStdString(), text.toStdString()), match);
    }

    // ---- QDQ structure ---------------------------------------------------------------------
    void qdqStructure() {
        auto m = convGemmNet();
        auto ref = m->clone();
        const auto samples = randomSamples("x", {1, 3, 8, 8}, 200, 100);
        auto rep = quantizeWith(*m, samples, {});
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        QVERIFY2(ir::verify(*m), "the quantized model verifies");
        QCOMPARE(m->opsetFor(""), int64_t(13));
        const ir::Graph& g = *m->graph;
        auto node = [&](const char* name) -> const ir::Node* {
            for (const auto& n : g.nodes())
                if (n->name == name) return n.get();
            return nullptr;
        };
        // Relu after Conv and Gemm folded into their output ranges (uint8 asymmetric).
        QVERIFY(!node("relu1") && !node("relu2"));
        const ir::Node* conv = node("conv1");
        QVERIFY(conv);
        // Activation input: x -> Q -> DQ -> Conv.
        const ir::Node* dqx = producerOf(*m, conv->input(0));
        QVERIFY(dqx && dqx->opType == "DequantizeLinear");
        const ir::Node* qx = producerOf(*m, dqx->input(0));
        QVERIFY(qx && qx->opType == "QuantizeLinear" && qx->input(0)->name == "x");
        QCOMPARE(dqx->input(0)->type.elemType, ir::DataType::UInt8);
        QVERIFY(dqx->input(0)->quant && dqx->input(0)->quant->storageType == ir::DataType::UInt8);
        // Weight: int8 initializer, per-channel along axis 0, zero points 0.
        const ir::Node* dqw = producerOf(*m, conv->input(1));
        QVERIFY(dqw && dqw->opType == "DequantizeLinear");
        QCOMPARE(dqw->attrInt("axis", 1), int64_t(0));
        const ir::Tensor* wq = opt::constantOf(dqw->input(0));
        QVERIFY(wq && wq->dtype == ir::DataType::Int8);
        const std::vector<float> ws = opt::constantOf(dqw->input(1))->toFloat();
        QCOMPARE(ws.size(), std::size_t(4));
        QVERIFY(dqw->input(0)->quant && dqw->input(0)->quant->axis == 0 && dqw->input(0)->quant->scales == ws);
        // Weights: q = round(w / s), s = max|w_c| / 127.
        const std::vector<float> w = ref->graph->findValue("w1")->initializer->toFloat();
        const std::vector<int64_t> wqv = wq->toInt64();
        for (std::size_t i = 0; i < w.size(); ++i) QCOMPARE(wqv[i], int64_t(std::nearbyint(w[i] / ws[i / 27])));
        // Bias: int32, scale sx * sw per channel, zero point 0, values round(b / (sx * sw)).
        const ir::Node* dqb = producerOf(*m, conv->input(2));
        QVERIFY(dqb && dqb->opType == "DequantizeLinear");
        const ir::Tensor* bq = opt::constantOf(dqb->input(0));
        QVERIFY(bq && bq->dtype == ir::DataType::Int32);
        const float sx = opt::constantOf(dqx->input(1))->toFloat()[0];
        const std::vector<float> b = ref->graph->findValue("b1")->initializer->toFloat();
        const std::vector<float> bs = opt::constantOf(dqb->input(1))->toFloat();
        const std::vector<int64_t> bqv = bq->toInt64();
        for (std::size_t c = 0; c < 4; ++c) {
            QCOMPARE(bs[c], sx * ws[c]);
            QCOMPARE(bqv[c], int64_t(std::nearbyint(double(b[c]) / double(sx * ws[c]))));
        }
        QVERIFY(opt::constantOf(dqb->input(2))->toInt64() == std::vector<int64_t>(4, 0));
        // Conv output -> Q -> DQ -> MaxPool; MaxPool's output shares the same parameters.
        QCOMPARE(conv->output(0)->uses().size(), std::size_t(1));
        const ir::Node* qc = conv->output(0)->uses()[0].node;
        QCOMPARE(qc->opType, std::string("QuantizeLinear"));
        QCOMPARE(opt::constantOf(qc->input(2))->toInt64()[0], int64_t(0)); // range [0, max]: Relu folded
        const ir::Node* pool = node("pool1");
        const ir::Node* qp = pool->output(0)->uses()[0].node;
        QCOMPARE(qp->opType, std::string("QuantizeLinear"));
        QCOMPARE(opt::constantOf(qp->input(1))->toFloat()[0], opt::constantOf(qc->input(1))->toFloat()[0]);
        // Gemm with transB = 1: per-channel along axis 0 (N = 10).
        const ir::Node* gemm = node("fc1");
        const ir::Node* dqg = producerOf(*m, gemm->input(1));
        QCOMPARE(dqg->attrInt("axis", 1), int64_t(0));
        QCOMPARE(opt::constantOf(dqg->input(1))->numElements(), int64_t(10));
        QVERIFY(producerOf(*m, gemm->input(2))->opType == "DequantizeLinear");
        // MatMul B [10, 6]: along N (axis 1).
        const ir::Node* mm = node("mm");
        const ir::Node* dqm = producerOf(*m, mm->input(1));
        QCOMPARE(dqm->attrInt("axis", 0), int64_t(1));
        QCOMPARE(opt::constantOf(dqm->input(1))->numElements(), int64_t(6));
        // The graph output keeps its name, now the dequantized value.
        QCOMPARE(g.outputs[0]->name, std::string("y"));
        QCOMPARE(g.outputs[0]->producer()->opType, std::string("DequantizeLinear"));
        // Float weights are gone (only int8/int32 and scales remain).
        QVERIFY(!g.findValue("w1") && !g.findValue("b1") && !g.findValue("w2"));
        QCOMPARE(rep->quantizedNodes.size(), std::size_t(7)); // conv1, relu1 (folded), pool1, flat, fc1, relu2 (folded), mm
        // Close to FP32. In-sample (the calibration data) 3 quantized layers of 8 bits reach
        // ~35 dB; on held-out random-normal inputs the tails exceed the calibrated output range
        // and clipping costs ~10 dB more. A wrong scale, axis or bias gives < 10 dB: the floors
        // are 30 dB in-sample and 22 dB held-out.
        const double db = sqnr(*ref, *m, randomSamples("x", {1, 3, 8, 8}, 8, 900));
        const double inSample = sqnr(*ref, *m, samples);
        qInfo("int8 SQNR %.1f dB held-out, %.1f dB on the calibration data", db, inSample);
        QVERIFY2(db > 22, qPrintable(QString::number(db)));
        QVERIFY2(inSample > 30, qPrintable(QString::number(inSample)));
    }

    void schemes_data() {
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<QString>("activations");
        QTest::addColumn<double>("minDb");
        // Held-out SQNR floors: int8 as in qdqStructure (symmetric ranges reach further into the
        // tails: ~35 dB); per-tensor weights on this net lose little; fp16 weights (11-bit
        // mantissa) ~65 dB; w8 (weights only, blocks of 32) ~45 dB; w4 (15 levels per block)
        // ~20 dB, only on the Gemm/MatMul weights.
        QTest::newRow("int8") << "int8" << "uint8" << 22.0;
        QTest::newRow("int8 s8 asym") << "int8" << "int8" << 22.0;
        QTest::newRow("int8 s8 symmetric") << "int8" << "int8-symmetric" << 30.0;
        QTest::newRow("int8-per-tensor") << "int8-per-tensor" << "uint8" << 22.0;
        QTest::newRow("fp16") << "fp16" << "uint8" << 55.0;
        QTest::newRow("w8") << "w8" << "uint8" << 35.0;
        QTest::newRow("w4") << "w4" << "uint8" << 15.0;
    }
    void schemes() {
        QFETCH(QString, scheme);
        QFETCH(QString, activations);
        QFETCH(double, minDb);
        auto m = convGemmNet();
        auto ref = m->clone();
        QuantizeOptions o;
        QVERIFY(parseScheme(scheme.toStdString(), o.scheme));
        QVERIFY(parseActivationType(activations.toStdString(), o.activations));
        auto rep = quantizeWith(*m, randomSamples("x", {1, 3, 8, 8}, 200, 100), o);
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        QVERIFY(!rep->quantizedNodes.empty());
        QVERIFY2(rep->weightBytesAfter < rep->weightBytesBefore,
                 qPrintable(QString("%1 -> %2").arg(rep->weightBytesBefore).arg(rep->weightBytesAfter)));
        QTemporaryDir dir;
        auto back = roundTrip(*m, dir.path(), "q.onnx");
        QVERIFY(back);
        QVERIFY2(ir::verify(*back), "reloaded model verifies");
        if (o.scheme == Scheme::W8 || o.scheme == Scheme::W4) {
            QCOMPARE(back->opsetFor(""), int64_t(21));
            int blocked = 0;
            for (const auto& n : back->graph->nodes())
                if (n->opType == "DequantizeLinear") {
                    QCOMPARE(n->attrInt("block_size", 0), int64_t(32));
                    QCOMPARE(opt::constantOf(n->input(0))->dtype, o.scheme == Scheme::W4 ? ir::DataType::Int4 : ir::DataType::Int8);
                    ++blocked;
                }
            QCOMPARE(blocked, 2); // Gemm and MatMul; the Conv stays float
        }
        if (o.scheme == Scheme::Int8 && o.activations == ActivationType::Int8Symmetric) {
            int relus = 0;
            for (const auto& n : back->graph->nodes()) relus += n->opType == "Relu";
            QCOMPARE(relus, 2); // symmetric ranges cannot stand in for Relu
            for (const auto& n : back->graph->nodes())
                if (n->opType == "QuantizeLinear") QCOMPARE(opt::constantOf(n->input(2))->toInt64()[0], int64_t(0));
        }
        if (o.scheme == Scheme::W4) {
            // The CPU runtime runs the int4 weights itself (tst_quant_blocked checks it against a
            // dequantization by hand; the peer test against ONNX Runtime).
            auto s = rt::Session::create(*back);
            QVERIFY2(s, s ? "" : s.error().toString().c_str());
        }
        const double db = sqnr(*ref, *back, randomSamples("x", {1, 3, 8, 8}, 8, 900));
        qInfo("%s/%s SQNR %.1f dB, weights %lld -> %lld bytes", qPrintable(scheme), qPrintable(activations), db,
              (long long)rep->weightBytesBefore, (long long)rep->weightBytesAfter);
        QVERIFY2(db > minDb, qPrintable(QString::number(db)));
    }

    void exclusions() {
        auto m = convGemmNet();
        QuantizeOptions o;
        o.exclude = {"conv*", "MatMul"};
        auto rep = quantizeWith(*m, randomSamples("x", {1, 3, 8, 8}, 8, 100), o);
        QVERIFY(rep);
        QVERIFY(ir::verify(*m));
        QCOMPARE(rep->excludedNodes.size(), std::size_t(2));
        for (const auto& n : m->graph->nodes()) {
            if (n->name == "conv1" || n->name == "mm") {
                // Float weights, no DQ on them.
                QVERIFY(n->input(1)->isInitializer());
                QCOMPARE(n->input(1)->initializer->dtype, ir::DataType::Float);
            }
            if (n->name == "fc1") QCOMPARE(n->input(1)->producer()->opType, std::string("DequantizeLinear"));
        }
        // The Relu after the float Conv stays (nothing quantized produces its input).
        int relus = 0;
        for (const auto& n : m->graph->nodes()) relus += n->opType == "Relu";
        QCOMPARE(relus, 1);
        // Excluding by op type for fp16: no Cast feeds the excluded Gemm's weights.
        auto f = convGemmNet();
        QuantizeOptions of;
        of.scheme = Scheme::Fp16;
        of.exclude = {"Gemm"};
        QVERIFY(quantizeWith(*f, {}, of));
        for (const auto& n : f->graph->nodes())
            if (n->name == "fc1") QVERIFY(n->input(1)->isInitializer());
            else if (n->name == "conv1") QCOMPARE(n->input(1)->producer()->opType, std::string("Cast"));
    }

    void opset() {
        // Opset 11 with only ops that keep their meaning: raised to 13.
        auto m = convGemmNet(11);
        QVERIFY(quantizeWith(*m, randomSamples("x", {1, 3, 8, 8}, 4, 1), {}));
        QCOMPARE(m->opsetFor(""), int64_t(13));
        // A Softmax at opset 11 changes meaning at 13: refused, the model unchanged, the op named.
        auto s = convGemmNet(11);
        ir::Graph& g = *s->graph;
        ir::Value* y = g.outputs[0];
        ir::Value* z = *g.addValue("z");
        g.addNode("Softmax", "", "sm", {y}, {z});
        g.outputs[0] = z;
        ir::inferShapes(*s);
        const std::size_t nodes = g.nodeCount();
        auto r = quantizeWith(*s, randomSamples("x", {1, 3, 8, 8}, 4, 1), {});
        QVERIFY(!r);
        QVERIFY2(r.error().message.find("Softmax") != std::string::npos, r.error().message.c_str());
        QCOMPARE(g.nodeCount(), nodes);
        QCOMPARE(s->opsetFor(""), int64_t(11));
        QVERIFY(raiseOpset(*s, 10)); // already above: nothing to do
    }

    void noCalibrationData() {
        auto m = convGemmNet();
        VectorDataset empty({});
        auto c = calibrate(*m, empty);
        QVERIFY(!c);
        QCOMPARE(c.error().code, StatusCode::InvalidInput);
    }

    // ---- simulation: fake-quant vs integer arithmetic ----------------------------------------
    void fakeQuantMatchesInteger() {
        // One quantized Conv: the QDQ model in float (fake-quant) against the same parameters
        // run in integer arithmetic by QLinearConv (int32 accumulation, one requantization).
        // They may differ by one step of the output scale (float rounding of the product before
        // the final rounding), never more. The QDQ model is also run with the runtime's fusions
        // on (its int8 fast path where it has one).
        auto m = std::make_unique<ir::Model>();
        m->irVersion = 7;
        m->opsetImports = {{"", 13}};
        ir::Graph& g = *m->graph;
        ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 8, 10, 10})));
        g.inputs.push_back(x);
        ir::Value* y = act(g, "y");
        ir::Node* conv = g.addNode("Conv", "", "conv", {x, weight(g, "w", {16, 8, 3, 3}, 11, 0.2f), weight(g, "b", {16}, 12, 0.3f)}, {y});
        conv->setAttr(ir::Attribute::makeInts("pads", {1, 1, 1, 1}));
        g.outputs.push_back(y);
        ir::inferShapes(*m);
        const auto samples = randomSamples("x", {1, 8, 10, 10}, 8, 40);
        QVERIFY(quantizeWith(*m, samples, {}));
        // Parameters back out of the QDQ graph.
        const ir::Node* c = nullptr;
        for (const auto& n : g.nodes())
            if (n->opType == "Conv") c = n.get();
        const ir::Node* dqx = c->input(0)->producer();
        const ir::Node* dqw = c->input(1)->producer();
        const ir::Node* dqb = c->input(2)->producer();
        const ir::Node* qy = c->output(0)->uses()[0].node;
        auto q = std::make_unique<ir::Model>();
        q->irVersion = 7;
        q->opsetImports = {{"", 13}};
        ir::Graph& h = *q->graph;
        ir::Value* qx = *h.addValue("x", ir::Type::tensor(ir::DataType::UInt8, ir::Shape::of({1, 8, 10, 10})));
        h.inputs.push_back(qx);
        auto cst = [&](const ir::Value* v) { return opt::addInitializer(h, v->name, *opt::constantOf(v)); };
        ir::Value* qout = *h.addValue("yq");
        ir::Node* ql = h.addNode("QLinearConv", "", "qconv",
                                 {qx, cst(dqx->input(1)), cst(dqx->input(2)), cst(dqw->input(0)), cst(dqw->input(1)),
                                  cst(dqw->input(2)), cst(qy->input(1)), cst(qy->input(2)), cst(dqb->input(0))},
                                 {qout});
        ql->setAttr(ir::Attribute::makeInts("pads", {1, 1, 1, 1}));
        h.outputs.push_back(qout);
        ir::inferShapes(*q);
        // The fake-quant model's integer output: cut the graph after its output QuantizeLinear.
        auto fq = m->clone();
        ir::Value* yq = fq->graph->findValue(qy->output(0)->name);
        fq->graph->outputs = {yq};
        opt::dropOrphanValues(*fq->graph);
        rt::SessionOptions noFuse;
        noFuse.fuse = false;
        auto sf = rt::Session::create(*fq, noFuse);
        auto sfFused = rt::Session::create(*fq);
        auto si = rt::Session::create(*q);
        QVERIFY2(sf && si && sfFused, "sessions");
        const float sxv = opt::constantOf(dqx->input(1))->toFloat()[0];
        const int64_t zx = opt::constantOf(dqx->input(2))->toInt64()[0];
        int64_t worst = 0, worstFused = 0, differing = 0, total = 0;
        for (const auto& s : randomSamples("x", {1, 8, 10, 10}, 4, 77)) {
            // The integer model takes x already quantized (the same QuantizeLinear arithmetic).
            const rt::Tensor& xf = s[0].second;
            rt::Tensor xq = rt::Tensor::allocate(ir::DataType::UInt8, xf.dims());
            for (int64_t i = 0; i < xf.numElements(); ++i)
                xq.data<uint8_t>()[i] = uint8_t(std::clamp<float>(std::nearbyint(xf.data<float>()[i] / sxv) + float(zx), 0.f, 255.f));
            auto a = (*sf)->run(s);
            auto af = (*sfFused)->run(s);
            auto b = (*si)->run({{"x", xq}});
            QVERIFY2(a && b && af, "runs");
            QCOMPARE((*a)[0].dtype(), ir::DataType::UInt8);
            for (int64_t i = 0; i < (*a)[0].numElements(); ++i) {
                const int64_t u = (*a)[0].data<uint8_t>()[i], v = (*b)[0].data<uint8_t>()[i], w = (*af)[0].data<uint8_t>()[i];
                worst = std::max(worst, std::abs(u - v));
                worstFused = std::max(worstFused, std::abs(u - w));
                differing += u != v;
                ++total;
            }
        }
        qInfo("fake-quant vs QLinearConv: max %lld step(s), %lld of %lld differ; vs fused session: max %lld",
              (long long)worst, (long long)differing, (long long)total, (long long)worstFused);
        QVERIFY(worst <= 1);
        QVERIFY(worstFused <= 1);
        QVERIFY(differing * 100 < total); // a rounding tie now and then, not a systematic offset
    }

    // ---- real model -------------------------------------------------------------------------
    void digitsAccuracy_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<bool>("reduceRange");
        QTest::newRow("minmax") << "minmax" << false;
        QTest::newRow("percentile") << "percentile" << false;
        QTest::newRow("entropy") << "entropy" << false;
        QTest::newRow("mse") << "mse" << false;
        // 7-bit weights ([-64, 64], --reduce-range): the same accuracy bar.
        QTest::newRow("minmax reduce-range") << "minmax" << true;
    }
    void digitsAccuracy() {
        // Calibrated on calibration_input.pb (256 training images, one batch); accuracy on the
        // 360 held-out test images of test_data_set_0 with labels.pb.
        EW_REQUIRE_MODELS();
        QFETCH(QString, method);
        QFETCH(bool, reduceRange);
        const QString dir = test::modelsDir() + "/onnx/digits-cnn";
        auto model = ir::loadModel(test::str(dir + "/digits_cnn.onnx"));
        QVERIFY(model);
        auto ref = (*model)->clone();
        QuantizeOptions o;
        QVERIFY(parseRangeMethod(method.toStdString(), o.range.method));
        o.reduceRange = reduceRange;
        auto rep = quantizeWith(**model, {{{"input", readPb(dir + "/calibration_input.pb")}}}, o);
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        // Weights use the whole range: [-127, 127], or [-64, 64] with reduceRange.
        int64_t wmax = 0;
        for (const auto& v : (*model)->graph->initializers)
            if (v->initializer && v->initializer->dtype == ir::DataType::Int8 && v->name.ends_with("_quantized")) {
                const std::vector<float> q = v->initializer->toFloat();
                for (float e : q) wmax = std::max<int64_t>(wmax, std::llround(std::abs(e)));
            }
        QCOMPARE(wmax, reduceRange ? int64_t(64) : int64_t(127));
        QTemporaryDir tmp;
        auto back = roundTrip(**model, tmp.path(), "digits_int8.onnx");
        QVERIFY(back);
        const rt::Tensor x = readPb(dir + "/test_data_set_0/input_0.pb");
        const std::vector<int64_t> labels = [&] {
            const rt::Tensor l = readPb(dir + "/labels.pb");
            std::vector<int64_t> v;
            for (int64_t i = 0; i < l.numElements(); ++i) v.push_back(l.intAt(i));
            return v;
        }();
        auto accuracy = [&](const ir::Model& m) {
            auto s = rt::Session::create(m);
            if (!s) return -1.0;
            auto out = (*s)->run({{"input", x}});
            if (!out) return -1.0;
            const rt::Tensor& t = (*out)[0];
            const int64_t classes = t.dims().back();
            int64_t correct = 0;
            for (std::size_t r = 0; r < labels.size(); ++r) {
                const float* p = t.data<float>() + r * classes;
                correct += (std::max_element(p, p + classes) - p) == labels[r];
            }
            return double(correct) / double(labels.size());
        };
        const double fp32 = accuracy(*ref), int8 = accuracy(*back);
        qInfo("digits-cnn %s%s: FP32 %.4f, int8 %.4f (%zu nodes quantized)", qPrintable(method),
              reduceRange ? " reduce-range" : "", fp32, int8, rep->quantizedNodes.size());
        QVERIFY(std::abs(fp32 - 0.9861) < 1e-3);
        QVERIFY2(int8 >= fp32 - 0.005, qPrintable(QString::number(int8)));
    }

    // --reduce-range end to end: mobilenet_v2's 1x1 convolutions run on the u8 x s8 route of
    // the INT8 kernels (qgemmU8S8Calls), and the whole model's output equals, bit for bit, the
    // portable integer kernels' run (int16 products, no vpmaddubsw).
    void reduceRangeTakesU8S8Route() {
        EW_REQUIRE_MODELS();
        const QString path = test::modelsDir() + "/onnx/torchvision-arch/mobilenet_v2.onnx";
        if (!QFileInfo::exists(path)) QSKIP("[ew-skip] torchvision-arch/mobilenet_v2.onnx not in the models folder");
        auto model = ir::loadModel(test::str(path));
        QVERIFY(model);
        QuantizeOptions o;
        o.reduceRange = true;
        QVERIFY(quantizeWith(**model, randomSamples("input", {1, 3, 224, 224}, 2, 7), o));
        QTemporaryDir tmp;
        auto back = roundTrip(**model, tmp.path(), "mv2_rr.onnx");
        QVERIFY(back);
        const rt::Session::NamedTensors in = randomSamples("input", {1, 3, 224, 224}, 1, 8)[0];
        auto runInt8 = [&](bool portable) -> std::vector<float> {
            rt::cpu::int8ForcePortable(portable);
            rt::SessionOptions so;
            so.int8Kernels = true;
            so.threads = 1;
            auto sess = rt::Session::create(*back, so);
            std::vector<float> v;
            if (sess)
                if (auto out = (*sess)->run(in))
                    for (int64_t i = 0; i < (*out)[0].numElements(); ++i) v.push_back(static_cast<float>((*out)[0].doubleAt(i)));
            rt::cpu::int8ForcePortable(false);
            return v;
        };
        const int64_t before = rt::cpu::qgemmU8S8Calls();
        const std::vector<float> fast = runInt8(false);
        const int64_t calls = rt::cpu::qgemmU8S8Calls() - before;
        const std::vector<float> ref = runInt8(true);
        QVERIFY(!fast.empty());
        QCOMPARE(fast.size(), ref.size());
        if (rt::cpu::int8UsesAvx2()) QVERIFY2(calls >= 30, qPrintable(QString::number(calls))); // 34 1x1 convolutions
        for (std::size_t i = 0; i < fast.size(); ++i)
            if (fast[i] != ref[i]) QFAIL(qPrintable(QString("output %1: %2 vs %3").arg(i).arg(fast[i]).arg(ref[i])));
    }

    // ---- CLI -------------------------------------------------------------------------------
    void cli() {
        EW_REQUIRE_MODELS();
        const QString cli = test::binDir() + "/edgewise-cli";
        if (!QFileInfo::exists(cli)) QSKIP("[ew-skip] edgewise-cli not built (set EW_BIN_DIR)");
        const QString dir = test::modelsDir() + "/onnx/digits-cnn";
        QTemporaryDir tmp;
        auto run = [&](const QStringList& args, QString* err = nullptr, QString* out = nullptr) {
            QProcess p;
            p.start(cli, args);
            p.waitForFinished(300000);
            if (err) *err = QString::fromUtf8(p.readAllStandardError());
            if (out) *out = QString::fromUtf8(p.readAllStandardOutput());
            return p.exitCode();
        };
        const QString out = tmp.path() + "/q.onnx", rep = tmp.path() + "/r.json";
        QString err;
        QCOMPARE(run({"--quiet", "quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", dir + "/calibration_input.pb",
                      "--method", "percentile", "--report", rep}, &err),
                 0);
        QFile f(rep);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
        for (const char* k : {"scheme", "method", "calibration", "quantized_nodes", "excluded_nodes", "ranges", "sizes", "sqnr_db", "ms"})
            QVERIFY2(j.contains(k), k);
        QCOMPARE(j["scheme"].toString(), QString("int8"));
        QCOMPARE(j["calibration"].toObject()["random"].toBool(), false);
        QVERIFY(j["sizes"].toObject()["after"].toDouble() < j["sizes"].toObject()["before"].toDouble());
        QVERIFY(j["sqnr_db"].toDouble() > 20);
        const QJsonObject r0 = j["ranges"].toArray()[0].toObject();
        for (const char* k : {"tensor", "min", "max", "scale", "zero_point"}) QVERIFY2(r0.contains(k), k);
        QVERIFY(ir::loadModel(test::str(out)).has_value());
        // Usage errors (exit 2): later options, unknown values, overwriting the input.
        // --cle / --bias-correction are covered by tst_quantize_improve.
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", "random", "--mixed-precision", "40"}, &err), 2);
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", "random", "--scheme", "int3"}), 2);
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", "random", "--method", "best"}), 2);
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out}), 2); // int8 needs --calib
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", dir + "/digits_cnn.onnx", "--calib", "random"}), 2);
        // Model errors (exit 3).
        QCOMPARE(run({"quantize", tmp.path() + "/missing.onnx", "-o", out, "--calib", "random"}), 3);
        // fp16 needs no data; random calibration is marked as such.
        QCOMPARE(run({"--quiet", "quantize", dir + "/digits_cnn.onnx", "-o", out, "--scheme", "fp16", "--report", rep}), 0);
        QString stdOut;
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", "random:4", "--report", rep}, &err, &stdOut), 0);
        // 8-bit weights: the summary points at --reduce-range where the AVX2 kernels would gain
        // (not with VNNI, whose kernels take every int8 weight as it is).
        QCOMPARE(stdOut.contains("--reduce-range"), rt::cpu::int8UsesAvx2() && !rt::cpu::int8UsesVnni());
        QFile f2(rep);
        QVERIFY(f2.open(QIODevice::ReadOnly));
        const QJsonObject j2 = QJsonDocument::fromJson(f2.readAll()).object();
        QCOMPARE(j2["calibration"].toObject()["random"].toBool(), true);
        QCOMPARE(j2["reduce_range"].toBool(true), false);
        // --reduce-range: 7-bit weights, said in the report; int8 schemes only.
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", "random:4", "--reduce-range", "--report", rep},
                     &err, &stdOut),
                 0);
        QVERIFY2(!stdOut.contains("tip:"), qPrintable(stdOut));
        QFile f3(rep);
        QVERIFY(f3.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(f3.readAll()).object()["reduce_range"].toBool(false), true);
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--scheme", "fp16", "--reduce-range"}, &err), 2);
        QVERIFY2(err.contains("--reduce-range"), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TstQuantize)
#include "tst_quantize.moc"
