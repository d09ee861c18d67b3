// Quantization analysis (core/optimize/quantize/analysis): per-tensor error against a hand-made
// QDQ model whose perturbation is known exactly, sensitivity ranking and mixed precision on a
// net with one deliberately unquantizable layer, the overlay file, and the CLI's analysis keys.
#include "test_util.h"
#include "quant_test_util.h"

#include "ir/io/model_io.h"
#include "ir/shape_inference.h"
#include "optimize/dataset/evaluate.h"
#include "optimize/graph_util.h"
#include "optimize/quantize/analysis.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/session.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <random>
#include <set>

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

ir::Value* act(ir::Graph& g, const std::string& name) { return *g.addValue(name); }

ir::Value* init(ir::Graph& g, const std::string& name, std::vector<int64_t> dims, std::vector<float> v) {
    return opt::addInitializer(g, name, ir::Tensor::fromVector<float>(name, ir::DataType::Float, dims, std::move(v)));
}

/// x[1,3,8,8] -> conv_bad(4, 3x3) -> Relu -> conv_good(4, 3x3) -> Relu -> Flatten -> fc(10) -> y.
/// conv_bad's weights hold a 1000x outlier on input channel 2, which the data keeps at zero: the
/// outlier never changes the output but sets every output channel's int8 weight scale, so all its
/// real weights round to zero.
std::unique_ptr<ir::Model> outlierNet() {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 7;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 3, 8, 8})));
    g.inputs.push_back(x);
    std::vector<float> wb = randomVector(4 * 3 * 9, 11, 0.3f);
    for (int o = 0; o < 4; ++o) wb[std::size_t(o * 27 + 2 * 9 + 4)] = 300.f;
    auto conv = [&](const std::string& name, ir::Value* in, ir::Value* w, ir::Value* b, const std::string& out) {
        ir::Node* c = g.addNode("Conv", "", name, {in, w, b}, {act(g, out)});
        c->setAttr(ir::Attribute::makeInts("pads", {1, 1, 1, 1}));
        c->setAttr(ir::Attribute::makeInts("kernel_shape", {3, 3}));
        return c;
    };
    conv("conv_bad", x, init(g, "wb", {4, 3, 3, 3}, wb), init(g, "bb", {4}, randomVector(4, 12, 0.1f)), "c1");
    g.addNode("Relu", "", "relu1", {g.findValue("c1")}, {act(g, "r1")});
    conv("conv_good", g.findValue("r1"), init(g, "wg", {4, 4, 3, 3}, randomVector(144, 13, 0.3f)),
         init(g, "bg", {4}, randomVector(4, 14, 0.1f)), "c2");
    g.addNode("Relu", "", "relu2", {g.findValue("c2")}, {act(g, "r2")});
    g.addNode("Flatten", "", "flat", {g.findValue("r2")}, {act(g, "f")});
    ir::Value* y = act(g, "y");
    ir::Node* fc = g.addNode("Gemm", "", "fc", {g.findValue("f"), init(g, "wf", {10, 256}, randomVector(2560, 15, 0.1f)),
                                               init(g, "bf", {10}, randomVector(10, 16, 0.1f))}, {y});
    fc->setAttr(ir::Attribute::makeInt("transB", 1));
    g.outputs.push_back(y);
    ir::inferShapes(*m);
    return m;
}

/// Samples of outlierNet: N(0,1) with input channel 2 all zero.
std::vector<rt::Session::NamedTensors> outlierSamples(int n) {
    std::vector<rt::Session::NamedTensors> out;
    for (int k = 0; k < n; ++k) {
        std::vector<float> v = randomVector(192, 100 + k);
        std::fill(v.begin() + 128, v.end(), 0.f);
        out.push_back({{"x", rt::Tensor::fromVector<float>(ir::DataType::Float, {1, 3, 8, 8}, v)}});
    }
    return out;
}

bool hasFloatWeight(const ir::Model& m, const std::string& node) {
    for (const auto& n : m.graph->nodes())
        if (n->name == node) return n->input(1) && n->input(1)->isInitializer() &&
                                    n->input(1)->initializer->dtype == ir::DataType::Float;
    return false;
}

} // namespace

class TstQuantAnalysis : public QObject {
    Q_OBJECT

private slots:
    /// FP32: x -> Abs (a) -> Neg -> y. By hand: the same with a QuantizeLinear/DequantizeLinear
    /// pair (scale 0.1, uint8) on `a`. Inputs are k * 0.1 + 0.04, so each element of `a` loses
    /// exactly its distance to the grid; SQNR, cosine and max error follow in closed form.
    void tensorErrorKnownPerturbation() {
        auto build = [](bool qdq) {
            auto m = std::make_unique<ir::Model>();
            m->irVersion = 7;
            m->opsetImports = {{"", 13}};
            ir::Graph& g = *m->graph;
            ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 64})));
            g.inputs.push_back(x);
            ir::Value* a = act(g, "a");
            g.addNode("Abs", "", "abs", {x}, {a});
            ir::Value* in = a;
            if (qdq) {
                ir::Value* s = init(g, "a_scale", {}, {0.1f});
                ir::Value* z = opt::addInitializer(g, "a_zero_point", ir::Tensor::fromVector<uint8_t>("", ir::DataType::UInt8, {}, {0}));
                ir::Value* q = act(g, "a_QuantizeLinear");
                in = act(g, "a_DequantizeLinear");
                g.addNode("QuantizeLinear", "", "a_QuantizeLinear", {a, s, z}, {q});
                g.addNode("DequantizeLinear", "", "a_DequantizeLinear", {q, s, z}, {in});
            }
            ir::Value* y = act(g, "y");
            g.addNode("Neg", "", "neg", {in}, {y});
            g.outputs.push_back(y);
            ir::inferShapes(*m);
            return m;
        };
        auto fp32 = build(false), q = build(true);
        std::vector<rt::Session::NamedTensors> samples;
        double sig = 0, err = 0, dot = 0, qq = 0, maxErr = 0;
        for (int s = 0; s < 3; ++s) {
            std::vector<float> v(64);
            for (int i = 0; i < 64; ++i) {
                const int k = (i * 7 + s * 13) % 200;
                v[std::size_t(i)] = (i % 2 ? -1.f : 1.f) * (float(k) * 0.1f + 0.04f);
                const double a = std::abs(v[std::size_t(i)]);
                const double d = double(float(std::nearbyint(float(a) / 0.1f)) * 0.1f);
                sig += a * a;
                err += (a - d) * (a - d);
                dot += a * d;
                qq += d * d;
                maxErr = std::max(maxErr, std::abs(a - d));
            }
            samples.push_back({{"x", rt::Tensor::fromVector<float>(ir::DataType::Float, {1, 64}, v)}});
        }
        VectorDataset data(samples);
        auto r = tensorErrors(*fp32, *q, data);
        QVERIFY2(r.has_value(), r ? "" : r.error().toString().c_str());
        QCOMPARE(r->size(), std::size_t(1));
        const TensorError& e = (*r)[0];
        QCOMPARE(e.tensor, std::string("a"));
        QCOMPARE(e.node, std::string("abs"));
        QCOMPARE(e.elements, int64_t(3 * 64));
        const double expected = 10 * std::log10(sig / err);
        QVERIFY2(std::abs(e.sqnrDb - expected) < 1e-3, qPrintable(QString("%1 vs %2").arg(e.sqnrDb).arg(expected)));
        QVERIFY(expected > 20 && expected < 60); // the perturbation is real and not negligible
        QVERIFY(std::abs(e.cosine - dot / std::sqrt(sig * qq)) < 1e-6);
        QVERIFY(std::abs(e.maxAbsError - maxErr) < 1e-6);
        QVERIFY(std::abs(e.maxAbsError - 0.04) < 1e-4);
    }

    /// The quantizer's own QDQ output: every quantized activation is found, including the one a
    /// folded Relu stands for (compared against the Relu's output, so its error stays small).
    void tensorErrorOfQuantizer() {
        auto fp32 = outlierNet();
        auto samples = outlierSamples(8);
        VectorDataset data(samples);
        auto cal = calibrate(*fp32, data);
        QVERIFY(cal.has_value());
        auto q = fp32->clone();
        QVERIFY(quantizeModel(*q, &*cal, QuantizeOptions{}).has_value());
        auto r = tensorErrors(*fp32, *q, data);
        QVERIFY2(r.has_value(), r ? "" : r.error().toString().c_str());
        std::map<std::string, TensorError> by;
        for (const auto& e : *r) by[e.tensor] = e;
        for (const char* t : {"x", "r1", "r2", "y"}) QVERIFY2(by.count(t), t);
        QCOMPARE(by["r1"].node, std::string("relu1"));
        QCOMPARE(by["x"].node, std::string());
        QVERIFY(by["x"].sqnrDb > 35); // input quantization only
        QVERIFY(by["r1"].sqnrDb < 10); // conv_bad's weights collapsed
        QVERIFY(by["r1"].cosine < 0.9 && by["x"].cosine > 0.999);
        QVERIFY(!by.count("c1") && !by.count("c2")); // both Relus were folded: their outputs are compared
        // conv_bad kept float (relu1 with it): r1 is quantized as conv_good's input, relu2 is folded
        // into conv_good, and the QDQ of c2 stands for r2. Compared against c2 itself (before the
        // Relu) the clipped negatives would make the error large.
        auto q2 = fp32->clone();
        QVERIFY(quantizeKeepingFloat(*q2, *cal, QuantizeOptions{}, {"conv_bad"}).has_value());
        auto r2 = tensorErrors(*fp32, *q2, data);
        QVERIFY(r2.has_value());
        by.clear();
        for (const auto& e : *r2) by[e.tensor] = e;
        for (const auto& [t, e] : by) qInfo("conv_bad float: %s (%s): %.2f dB", t.c_str(), e.node.c_str(), e.sqnrDb);
        for (const char* t : {"r1", "r2", "y"}) QVERIFY2(by.count(t), t);
        QVERIFY(!by.count("x")); // only read by the float conv_bad
        QVERIFY(!by.count("c1") && !by.count("c2"));
        QCOMPARE(by["r2"].node, std::string("relu2"));
        for (const char* t : {"r1", "r2", "y"}) QVERIFY2(by[t].sqnrDb > 25, t);
    }

    void sensitivityRanksOutlierFirst() {
        auto fp32 = outlierNet();
        VectorDataset data(outlierSamples(8));
        auto cal = calibrate(*fp32, data);
        QVERIFY(cal.has_value());
        QCOMPARE(sensitivityLayers(*fp32, {}), (std::vector<std::string>{"conv_bad", "conv_good", "fc"}));
        auto s = layerSensitivity(*fp32, *cal, QuantizeOptions{}, data);
        QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
        QCOMPARE(s->size(), std::size_t(3));
        QCOMPARE((*s)[0].node, std::string("conv_bad"));
        QCOMPARE((*s)[0].op, std::string("Conv"));
        QVERIFY((*s)[0].outputSqnrDb < 10);
        QVERIFY((*s)[1].outputSqnrDb > 25 && (*s)[2].outputSqnrDb >= (*s)[1].outputSqnrDb);
        // The user's exclusions are respected: an excluded layer is not ranked.
        QuantizeOptions o;
        o.exclude = {"Gemm"};
        auto s2 = layerSensitivity(*fp32, *cal, o, data);
        QVERIFY(s2.has_value());
        QCOMPARE(s2->size(), std::size_t(2));
    }

    void mixedPrecisionKeepsOutlierLayer() {
        auto fp32 = outlierNet();
        VectorDataset data(outlierSamples(8));
        auto cal = calibrate(*fp32, data);
        QVERIFY(cal.has_value());
        auto ranking = layerSensitivity(*fp32, *cal, QuantizeOptions{}, data);
        QVERIFY(ranking.has_value());
        // The full int8 model misses the target.
        auto full = fp32->clone();
        QVERIFY(quantizeModel(*full, &*cal, QuantizeOptions{}).has_value());
        auto fullDb = outputSqnr(*fp32, *full, data);
        QVERIFY(fullDb.has_value());
        QVERIFY(*fullDb < 20);
        auto m = fp32->clone();
        auto mp = mixedPrecision(*m, *cal, QuantizeOptions{}, *ranking, 25.0, data);
        QVERIFY2(mp.has_value(), mp ? "" : mp.error().toString().c_str());
        QVERIFY(mp->met);
        QCOMPARE(mp->keptFloat, std::vector<std::string>{"conv_bad"});
        QVERIFY(mp->achievedDb >= 25.0);
        QVERIFY(hasFloatWeight(*m, "conv_bad"));
        QVERIFY(!hasFloatWeight(*m, "conv_good"));
        QVERIFY(std::find(mp->report.excludedNodes.begin(), mp->report.excludedNodes.end(), "conv_bad") !=
                mp->report.excludedNodes.end());
        auto check = outputSqnr(*fp32, *m, data);
        QVERIFY(check.has_value());
        QCOMPARE(*check, mp->achievedDb);
        // A target only float reaches keeps every ranked layer (and its Relu) float: exact output.
        auto m2 = fp32->clone();
        auto all = mixedPrecision(*m2, *cal, QuantizeOptions{}, *ranking, 1000.0, data);
        QVERIFY(all.has_value());
        QVERIFY(all->met && std::isinf(all->achievedDb));
        QCOMPARE(all->keptFloat.size(), std::size_t(3));
        // A ranking without the culprit cannot reach the target: every ranked layer ends float and
        // the result says the target was missed.
        std::vector<LayerSensitivity> partial;
        for (const auto& l : *ranking)
            if (l.node == "conv_good") partial.push_back(l);
        auto m3 = fp32->clone();
        auto missed = mixedPrecision(*m3, *cal, QuantizeOptions{}, partial, 25.0, data);
        QVERIFY(missed.has_value());
        QVERIFY(!missed->met && missed->achievedDb < 25.0);
        QCOMPARE(missed->keptFloat, std::vector<std::string>{"conv_good"});
    }

    void keepFloatIsExact() {
        // Node names with glob characters, a name equal to an op type, and unnamed nodes.
        auto m = outlierNet();
        for (const auto& n : m->graph->nodes()) {
            if (n->name == "conv_bad") n->name = "conv*";
            if (n->name == "conv_good") n->name = "Gemm";
            if (n->name == "fc") n->name.clear();
        }
        VectorDataset data(outlierSamples(4));
        auto cal = calibrate(*m, data);
        QVERIFY(cal.has_value());
        auto q = m->clone();
        auto rep = quantizeKeepingFloat(*q, *cal, QuantizeOptions{}, {"conv*"});
        QVERIFY(rep.has_value());
        QVERIFY(hasFloatWeight(*q, "conv*"));
        QVERIFY(!hasFloatWeight(*q, "Gemm"));
        QCOMPARE(rep->excludedNodes, (std::vector<std::string>{"conv*", "relu1"})); // its Relu stays float with it
        std::set<std::string> names;
        for (const auto& n : q->graph->nodes()) names.insert(n->name);
        QVERIFY(names.count("conv*") && names.count("Gemm") && names.count("relu1"));
        for (const auto& n : names) QVERIFY2(!QString::fromStdString(n).startsWith("__ew_analysis"), n.c_str());
        const std::string fcName = "Gemm -> y";
        auto q2 = m->clone();
        auto rep2 = quantizeKeepingFloat(*q2, *cal, QuantizeOptions{}, {fcName});
        QVERIFY(rep2.has_value());
        QCOMPARE(rep2->excludedNodes, std::vector<std::string>{fcName});
    }

    void targets_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<double>("db");
        QTest::newRow("plain") << "30" << true << 30.0;
        QTest::newRow("prefixed") << "sqnr:27.5" << true << 27.5;
        QTest::newRow("empty") << "" << false << 0.0;
        QTest::newRow("accuracy") << "acc:0.5" << false << 0.0;
        QTest::newRow("dB suffix") << "45dB" << true << 45.0;
        QTest::newRow("db suffix, prefixed") << "sqnr:27.5 db" << true << 27.5;
        QTest::newRow("suffix only") << "dB" << false << 0.0;
        QTest::newRow("junk") << "30dBm" << false << 0.0;
        QTest::newRow("two numbers") << "30 40" << false << 0.0;
    }
    void targets() {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(double, db);
        double v = -1;
        QCOMPARE(parseSqnrTarget(text.toStdString(), v), ok);
        if (ok) QCOMPARE(v, db);
    }

    void mixedTargets_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<bool>("accuracy");
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("why"); // part of the error message
        QTest::newRow("sqnr plain") << "45" << true << false << 45.0 << "";
        QTest::newRow("sqnr dB") << "45dB" << true << false << 45.0 << "";
        QTest::newRow("sqnr prefixed") << "sqnr:40.5" << true << false << 40.5 << "";
        QTest::newRow("acc") << "acc:0.5" << true << true << 0.5 << "";
        QTest::newRow("acc zero") << "acc:0" << true << true << 0.0 << "";
        QTest::newRow("acc pp") << "acc:2pp" << true << true << 2.0 << "";
        QTest::newRow("acc percent") << "acc:1.5%" << true << true << 1.5 << "";
        QTest::newRow("accuracy long") << "accuracy:3" << true << true << 3.0 << "";
        QTest::newRow("acc hundred") << "acc:100" << true << true << 100.0 << "";
        QTest::newRow("acc negative") << "acc:-1" << false << true << 0.0 << "between 0 and 100";
        QTest::newRow("acc too large") << "acc:101" << false << true << 0.0 << "between 0 and 100";
        QTest::newRow("acc empty") << "acc:" << false << true << 0.0 << "acc:0.5";
        QTest::newRow("acc junk") << "acc:half" << false << true << 0.0 << "percentage points";
        QTest::newRow("acc dB") << "acc:1dB" << false << true << 0.0 << "percentage points";
        QTest::newRow("unknown prefix") << "top1:1" << false << false << 0.0 << "acc:0.5";
        QTest::newRow("empty") << "" << false << false << 0.0 << "45dB";
    }
    void mixedTargets() {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(bool, accuracy);
        QFETCH(double, value);
        QFETCH(QString, why);
        MixedTarget t;
        t.value = -7;
        std::string msg;
        QCOMPARE(parseMixedTarget(text.toStdString(), t, &msg), ok);
        if (ok) {
            QCOMPARE(t.kind, accuracy ? MixedTarget::Kind::AccuracyDrop : MixedTarget::Kind::Sqnr);
            QCOMPARE(t.value, value);
        } else {
            QVERIFY2(QString::fromStdString(msg).contains(why), msg.c_str());
            QVERIFY2(QString::fromStdString(msg).contains(text), msg.c_str()); // names the bad value
        }
    }

    /// Accuracy-driven mixed precision on outlierNet with labels = FP32's own predictions (FP32 is
    /// 100% right): plain INT8 (conv_bad's weights collapsed) misses most, keeping conv_bad float
    /// fixes it. The counts are checked against an independent evaluation of the returned model.
    void mixedPrecisionAccuracyTarget() {
        auto fp32 = outlierNet();
        const auto samples = outlierSamples(24);
        std::vector<int64_t> labels;
        {
            auto s = rt::Session::create(*fp32);
            QVERIFY(s.has_value());
            for (const auto& x : samples) {
                auto y = (*s)->run(x);
                QVERIFY(y.has_value());
                labels.push_back(opt::data::topK((*y)[0], 0, 1).at(0));
            }
        }
        QVERIFY(std::set<int64_t>(labels.begin(), labels.end()).size() >= 3); // not one constant class
        VectorDataset calib(outlierSamples(8)), unlabelled(samples), eval(samples, labels);
        auto cal = calibrate(*fp32, calib);
        QVERIFY(cal.has_value());
        auto ranking = layerSensitivity(*fp32, *cal, QuantizeOptions{}, calib);
        QVERIFY(ranking.has_value());
        QCOMPARE(ranking->at(0).node, std::string("conv_bad"));
        auto correctOf = [&](const ir::Model& m) {
            auto s = rt::Session::create(m);
            auto e = opt::data::evaluate(**s, nullptr, eval);
            return e ? e->correctTop1 : int64_t(-1);
        };
        auto m = fp32->clone();
        auto r = mixedPrecisionAccuracy(*m, *cal, QuantizeOptions{}, *ranking, 0.0, eval);
        QVERIFY2(r.has_value(), r ? "" : r.error().toString().c_str());
        QCOMPARE(r->samples, int64_t(24));
        QCOMPARE(r->fp32Correct, int64_t(24));
        QCOMPARE(r->fp32Accuracy, 1.0);
        QVERIFY(r->steps.size() >= 2);
        qInfo("plain int8: %lld/24, then %s", (long long)r->steps[0].correct, r->steps.back().addedFloat.c_str());
        QVERIFY(!r->steps[0].met && r->steps[0].correct < 24 && r->steps[0].addedFloat.empty());
        QCOMPARE(r->steps[0].dropPoints, (1.0 - double(r->steps[0].correct) / 24.0) * 100.0);
        QCOMPARE(r->steps[1].addedFloat, std::string("conv_bad"));
        QVERIFY(r->met);
        QCOMPARE(r->chosen, r->steps.size() - 1);
        QCOMPARE(r->steps.back().correct, int64_t(24));
        QCOMPARE(r->keptFloat.front(), std::string("conv_bad"));
        QVERIFY(hasFloatWeight(*m, "conv_bad"));
        QVERIFY(!hasFloatWeight(*m, "fc") || r->keptFloat.size() == 3);
        QCOMPARE(correctOf(*m), r->steps.back().correct);
        // Plain INT8 measured on its own gives the first step's count.
        auto plain = fp32->clone();
        QVERIFY(quantizeModel(*plain, &*cal, QuantizeOptions{}).has_value());
        QCOMPARE(correctOf(*plain), r->steps[0].correct);
        // A target plain INT8 already meets: no layer kept float.
        const double plainDrop = r->steps[0].dropPoints;
        auto m2 = fp32->clone();
        auto loose = mixedPrecisionAccuracy(*m2, *cal, QuantizeOptions{}, *ranking, plainDrop + 0.01, eval);
        QVERIFY(loose.has_value());
        QVERIFY(loose->met && loose->keptFloat.empty() && loose->steps.size() == 1);
        // The cap: a ranking walk limited to zero extra layers (cap 1 keeps conv_bad and meets the
        // target, so use a ranking without the culprit): the target is missed, the best step kept.
        std::vector<LayerSensitivity> noCulprit(ranking->begin() + 1, ranking->end());
        auto m3 = fp32->clone();
        auto capped = mixedPrecisionAccuracy(*m3, *cal, QuantizeOptions{}, noCulprit, 0.0, eval, nullReporter(), nullptr, 1);
        QVERIFY(capped.has_value());
        QVERIFY(!capped->met && capped->capped);
        QCOMPARE(capped->steps.size(), std::size_t(2));
        std::size_t bestStep = capped->steps[1].correct > capped->steps[0].correct ? 1 : 0;
        QCOMPARE(capped->chosen, bestStep);
        QCOMPARE(correctOf(*m3), capped->steps[bestStep].correct);
        // No labels: refused, not measured against nothing.
        auto m4 = fp32->clone();
        auto none = mixedPrecisionAccuracy(*m4, *cal, QuantizeOptions{}, *ranking, 1.0, unlabelled);
        QVERIFY(!none.has_value());
        QCOMPARE(none.error().code, StatusCode::Usage);
        QVERIFY2(QString::fromStdString(none.error().message).contains("labelled"), none.error().message.c_str());
    }

    void overlayFile() {
        const std::string text = overlayJson("quant \"SQNR\"", "dB", {{"conv_bad", 3.5}, {"fc", INFINITY}, {"x", NAN}});
        QJsonParseError err;
        const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(text), &err);
        QCOMPARE(err.error, QJsonParseError::NoError);
        const QJsonObject o = d.object();
        QCOMPARE(o["name"].toString(), QString("quant \"SQNR\""));
        QCOMPARE(o["unit"].toString(), QString("dB"));
        const QJsonObject v = o["values"].toObject();
        QCOMPARE(v.size(), 3);
        QCOMPARE(v["conv_bad"].toDouble(), 3.5);
        QVERIFY(v["fc"].isDouble() && v["fc"].toDouble() == 200.0);
        QVERIFY(v["x"].isDouble() && v["x"].toDouble() == -200.0);
    }

    /// `quantize --mixed-precision --overlay --report` on digits-cnn: the report's analysis keys,
    /// the overlay names real nodes, and the kept-float layers really are float in the output.
    void cli() {
        EW_REQUIRE_MODELS();
        const QString cli = test::binDir() + "/edgewise-cli";
        if (!QFileInfo::exists(cli)) QSKIP("[ew-skip] edgewise-cli not built (set EW_BIN_DIR)");
        const QString dir = test::modelsDir() + "/onnx/digits-cnn";
        QTemporaryDir tmp;
        auto run = [&](const QStringList& args, QString* err = nullptr) {
            QProcess p;
            p.start(cli, args);
            p.waitForFinished(600000);
            if (err) *err = QString::fromUtf8(p.readAllStandardError());
            return p.exitCode();
        };
        const QString in = dir + "/digits_cnn.onnx", out = tmp.path() + "/q.onnx", rep = tmp.path() + "/r.json",
                      ov = tmp.path() + "/o.json";
        QString err;
        QCOMPARE(run({"--quiet", "quantize", in, "-o", out, "--calib", dir + "/calibration_input.pb", "--report", rep,
                      "--overlay", ov, "--mixed-precision", "sqnr:45"}, &err),
                 0);
        QFile f(rep);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject a = QJsonDocument::fromJson(f.readAll()).object()["analysis"].toObject();
        const QJsonArray tensors = a["tensors"].toArray(), sens = a["sensitivity"].toArray();
        QVERIFY(!tensors.isEmpty() && !sens.isEmpty());
        for (const char* k : {"tensor", "node", "sqnr_db", "cosine", "max_abs_error"}) QVERIFY2(tensors[0].toObject().contains(k), k);
        for (const char* k : {"node", "op", "output_sqnr_db"}) QVERIFY2(sens[0].toObject().contains(k), k);
        for (int i = 1; i < sens.size(); ++i)
            QVERIFY(sens[i - 1].toObject()["output_sqnr_db"].toDouble() <= sens[i].toObject()["output_sqnr_db"].toDouble());
        const QJsonObject mp = a["mixed_precision"].toObject();
        QCOMPARE(mp["target_db"].toDouble(), 45.0);
        QVERIFY(mp["achieved_sqnr_db"].toDouble() >= 45.0 || !mp["met"].toBool());
        auto fp32 = ir::loadModel(test::str(in));
        auto q = ir::loadModel(test::str(out));
        QVERIFY(fp32 && q);
        for (const auto& kept : mp["kept_float"].toArray()) QVERIFY2(hasFloatWeight(**q, test::str(kept.toString())), qPrintable(kept.toString()));
        QFile fo(ov);
        QVERIFY(fo.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(fo.readAll()).object();
        QCOMPARE(o["unit"].toString(), QString("dB"));
        const QJsonObject values = o["values"].toObject();
        QVERIFY(!values.isEmpty());
        std::set<std::string> names;
        for (const auto& n : (*fp32)->graph->nodes()) names.insert(n->name.empty() ? n->displayName() : n->name);
        // -SQNR per node (worst layers largest, so the viewer paints them hottest).
        std::map<QString, double> sqnrOf;
        for (const auto& t : tensors) sqnrOf[t.toObject()["node"].toString()] = t.toObject()["sqnr_db"].toDouble();
        for (auto it = values.begin(); it != values.end(); ++it) {
            QVERIFY2(names.count(test::str(it.key())), qPrintable(it.key()));
            QVERIFY(it.value().isDouble());
            QVERIFY2(sqnrOf.count(it.key()), qPrintable(it.key()));
            QCOMPARE(it.value().toDouble(), -sqnrOf[it.key()]);
        }
        // Usage errors: a bad target, a scheme without activations, random calibration data.
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", dir + "/calibration_input.pb", "--mixed-precision", "acc:1"}), 2);
        QCOMPARE(run({"quantize", in, "-o", out, "--scheme", "fp16", "--mixed-precision", "30"}), 2);
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", "random", "--mixed-precision", "30"}, &err), 2);
        QVERIFY2(err.contains("random"), qPrintable(err));
    }

    /// `quantize --mixed-precision acc:1` on digits-cnn with held-out labelled data. Per-tensor
    /// weights with a coarse 80th-percentile activation range make plain INT8 lose several points
    /// (measured: 332/360 against FP32's 355/360); the walk keeps layers float until the drop is
    /// at most 1 point. Every count in the report is checked against `edgewise-cli evaluate`.
    void cliAccuracyTarget() {
        EW_REQUIRE_MODELS();
        const QString cli = test::binDir() + "/edgewise-cli";
        if (!QFileInfo::exists(cli)) QSKIP("[ew-skip] edgewise-cli not built (set EW_BIN_DIR)");
        const QString dir = test::modelsDir() + "/onnx/digits-cnn";
        QTemporaryDir tmp;
        auto run = [&](const QStringList& args, QString* err = nullptr, QString* out = nullptr) {
            QProcess p;
            p.start(cli, args);
            p.waitForFinished(600000);
            if (err) *err = QString::fromUtf8(p.readAllStandardError());
            if (out) *out = QString::fromUtf8(p.readAllStandardOutput());
            return p.exitCode();
        };
        const QString in = dir + "/digits_cnn.onnx", calib = dir + "/calibration_input.pb", test = dir + "/test_data_set_0",
                      labels = dir + "/labels.pb", out = tmp.path() + "/q.onnx", plainOut = tmp.path() + "/plain.onnx",
                      rep = tmp.path() + "/r.json";
        const QStringList coarse = {"--scheme", "int8-per-tensor", "--method", "percentile", "--percentile", "80"};
        auto correctOf = [&](const QString& model) -> qint64 {
            QString o;
            if (run({"evaluate", model, "--data", test, "--labels", labels, "--json"}, nullptr, &o) != 0) return -1;
            return QJsonDocument::fromJson(o.toUtf8()).object()["correct_top1"].toInteger(-1);
        };
        const qint64 fp32Correct = correctOf(in);
        QCOMPARE(fp32Correct, qint64(355)); // the models README: 0.9861 of 360
        QCOMPARE(run(QStringList{"--quiet", "quantize", in, "-o", plainOut, "--calib", calib} + coarse), 0);
        const qint64 plainCorrect = correctOf(plainOut);
        QVERIFY2(fp32Correct - plainCorrect > 3, qPrintable(QString::number(plainCorrect))); // > 1 point of 360

        QString err, stdoutText;
        QCOMPARE(run(QStringList{"quantize", in, "-o", out, "--calib", calib, "--mixed-precision", "acc:1", "--eval", test,
                                 "--labels", labels, "--report", rep} + coarse, &err, &stdoutText),
                 0);
        QVERIFY2(stdoutText.contains("step 0: int8"), qPrintable(stdoutText));
        QVERIFY2(!stdoutText.contains("CALIBRATION"), qPrintable(stdoutText));
        QFile f(rep);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
        const QJsonObject mp = report["analysis"].toObject()["mixed_precision"].toObject();
        QCOMPARE(mp["target_kind"].toString(), QString("accuracy"));
        QCOMPARE(mp["target_drop_points"].toDouble(), 1.0);
        QVERIFY(!mp.contains("target_db"));
        QCOMPARE(mp["fp32_correct"].toInteger(), fp32Correct);
        const QJsonObject ev = mp["evaluation"].toObject();
        QCOMPARE(ev["samples"].toInteger(), qint64(360));
        QCOMPARE(ev["calibration_data"].toBool(), false);
        QCOMPARE(ev["source"].toString(), test);
        const QJsonArray steps = mp["steps"].toArray();
        QVERIFY(steps.size() >= 2);
        const QJsonObject first = steps[0].toObject(), last = steps[steps.size() - 1].toObject();
        QVERIFY(first["kept_float"].isNull());
        QCOMPARE(first["correct"].toInteger(), plainCorrect); // the walk's INT8 step is plain INT8
        QVERIFY(!first["met"].toBool() && first["drop_points"].toDouble() > 1.0);
        const QJsonArray sens = report["analysis"].toObject()["sensitivity"].toArray();
        for (int i = 1; i < steps.size(); ++i) { // most sensitive first, one more per step
            QCOMPARE(steps[i].toObject()["kept_float"].toString(), sens[i - 1].toObject()["node"].toString());
            QCOMPARE(steps[i].toObject()["float_layers"].toInteger(), qint64(i));
            QCOMPARE(steps[i].toObject()["met"].toBool(), i == steps.size() - 1);
        }
        QVERIFY(mp["met"].toBool());
        QCOMPARE(mp["chosen_step"].toInteger(), qint64(steps.size() - 1));
        QVERIFY(last["drop_points"].toDouble() <= 1.0);
        QCOMPARE(mp["achieved_drop_points"].toDouble(), last["drop_points"].toDouble());
        const QJsonArray kept = mp["kept_float"].toArray();
        QCOMPARE(kept.size(), int(steps.size() - 1));
        // Measured independently: the written model's accuracy is the chosen step's.
        const qint64 mixedCorrect = correctOf(out);
        QCOMPARE(mixedCorrect, last["correct"].toInteger());
        QVERIFY(fp32Correct - mixedCorrect <= 3); // floor(1 point of 360) = 3 samples
        qInfo("digits-cnn per-tensor p80: FP32 %lld/360, INT8 %lld/360, mixed %lld/360 with %lld layer(s) float",
              (long long)fp32Correct, (long long)plainCorrect, (long long)mixedCorrect, (long long)kept.size());
        auto q = ir::loadModel(test::str(out));
        QVERIFY(q.has_value());
        for (const auto& k : kept) QVERIFY2(hasFloatWeight(**q, test::str(k.toString())), qPrintable(k.toString()));

        // Labels through --calib alone: accuracy on the calibration data, and the output says so.
        QCOMPARE(run(QStringList{"quantize", in, "-o", out, "--calib", test, "--labels", labels, "--mixed-precision",
                                 "acc:1", "--report", rep} + coarse, &err, &stdoutText),
                 0);
        QVERIFY2(stdoutText.contains("CALIBRATION"), qPrintable(stdoutText));
        QFile f2(rep);
        QVERIFY(f2.open(QIODevice::ReadOnly));
        const QJsonObject mp2 = QJsonDocument::fromJson(f2.readAll()).object()["analysis"].toObject()["mixed_precision"].toObject();
        QCOMPARE(mp2["evaluation"].toObject()["calibration_data"].toBool(), true);
        QCOMPARE(mp2["fp32_correct"].toInteger(), fp32Correct);

        // Usage errors: no labels, labels without an accuracy target, bad accuracy values.
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", calib, "--mixed-precision", "acc:0.5"}, &err), 2);
        QVERIFY2(err.contains("needs labels") && err.contains("--labels"), qPrintable(err));
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", calib, "--mixed-precision", "acc:0.5", "--eval", test}, &err), 2);
        QVERIFY2(err.contains("needs labels"), qPrintable(err));
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", calib, "--mixed-precision", "40", "--labels", labels}, &err), 2);
        QVERIFY2(err.contains("without an accuracy target"), qPrintable(err));
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", calib, "--mixed-precision", "acc:250", "--eval", test, "--labels",
                      labels}, &err), 2);
        QVERIFY2(err.contains("between 0 and 100"), qPrintable(err));
        QCOMPARE(run({"quantize", in, "-o", out, "--calib", calib, "--mixed-precision", "acc:x"}, &err), 2);
        QVERIFY2(err.contains("percentage points"), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TstQuantAnalysis)
#include "tst_quant_analysis.moc"
