// Data-free quantization improvements (core/optimize/quantize/equalize, bias_correction):
// cross-layer equalization keeps the float function and balances channel ranges so that
// per-tensor int8 gets closer to FP32; empirical bias correction removes a clear mean shift;
// the CLI reports both with the SQNR without them.
#include "test_util.h"
#include "quant_test_util.h"

#include "ir/io/model_io.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "optimize/graph_util.h"
#include "optimize/quantize/bias_correction.h"
#include "optimize/quantize/equalize.h"
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

using namespace ew;
using namespace ew::opt::quant;

namespace {

using test::VectorDataset;

ir::Value* weight(ir::Graph& g, const std::string& name, std::vector<int64_t> dims, std::vector<float> v) {
    return opt::addInitializer(g, name, ir::Tensor::fromVector<float>(name, ir::DataType::Float, dims, std::move(v)));
}

/// Normal weights whose output channel o is scaled by channelScale[o].
std::vector<float> channelWeights(std::vector<int64_t> dims, uint32_t seed, float scale, const std::vector<float>& channelScale = {}) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    const int64_t per = n / dims[0];
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, scale);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[std::size_t(i)] = d(rng) * (channelScale.empty() ? 1.f : channelScale[std::size_t(i / per)]);
    return v;
}

ir::Node* conv(ir::Graph& g, const std::string& name, ir::Value* x, ir::Value* w, ir::Value* b, int64_t k, int64_t group) {
    ir::Value* y = *g.addValue(name + "_out");
    std::vector<ir::Value*> ins{x, w};
    if (b) ins.push_back(b);
    ir::Node* n = g.addNode("Conv", "", name, ins, {y});
    n->setAttr(ir::Attribute::makeInts("kernel_shape", {k, k}));
    n->setAttr(ir::Attribute::makeInts("pads", {k / 2, k / 2, k / 2, k / 2}));
    if (group > 1) n->setAttr(ir::Attribute::makeInt("group", group));
    return n;
}

ir::Value* act(ir::Graph& g, const std::string& op, const std::string& name, ir::Value* x) {
    ir::Value* y = *g.addValue(name + "_out");
    g.addNode(op, "", name, {x}, {y});
    return y;
}

/// x[1,4,10,10] -> Conv 3x3 (8, channel ranges spread over 1e-2..1e1) -> Relu -> depthwise 3x3
/// (8, spread) -> LeakyRelu -> Conv 1x1 (6) -> [Clip(0,6) -> Conv 1x1 (4)] -> y. Three pairs to
/// equalize (one depthwise on each side), one Clip pair to skip.
std::unique_ptr<ir::Model> unbalancedChain() {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 7;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 4, 10, 10})));
    g.inputs.push_back(x);
    const std::vector<float> spread1{0.01f, 10.f, 0.05f, 3.f, 0.2f, 1.f, 0.02f, 5.f};
    const std::vector<float> spread2{8.f, 0.03f, 2.f, 0.1f, 4.f, 0.01f, 1.f, 0.3f};
    ir::Node* c1 = conv(g, "conv1", x, weight(g, "w1", {8, 4, 3, 3}, channelWeights({8, 4, 3, 3}, 1, 0.3f, spread1)),
                        weight(g, "b1", {8}, channelWeights({8}, 2, 0.1f, spread1)), 3, 1);
    ir::Value* r1 = act(g, "Relu", "relu1", c1->output(0));
    ir::Node* c2 = conv(g, "dw", r1, weight(g, "w2", {8, 1, 3, 3}, channelWeights({8, 1, 3, 3}, 3, 0.5f, spread2)),
                        weight(g, "b2", {8}, channelWeights({8}, 4, 0.1f)), 3, 8);
    ir::Node* leaky = g.addNode("LeakyRelu", "", "leaky", {c2->output(0)}, {*g.addValue("leaky_out")});
    leaky->setAttr(ir::Attribute::makeFloat("alpha", 0.1f));
    ir::Node* c3 = conv(g, "pw", leaky->output(0), weight(g, "w3", {6, 8, 1, 1}, channelWeights({6, 8, 1, 1}, 5, 0.4f)), nullptr, 1, 1);
    ir::Value* lo = weight(g, "clip_lo", {}, {0.f});
    ir::Value* hi = weight(g, "clip_hi", {}, {6.f});
    ir::Value* clipped = *g.addValue("clip_out");
    g.addNode("Clip", "", "relu6", {c3->output(0), lo, hi}, {clipped});
    ir::Node* c4 = conv(g, "head", clipped, weight(g, "w4", {4, 6, 1, 1}, channelWeights({4, 6, 1, 1}, 6, 0.4f)),
                        weight(g, "b4", {4}, channelWeights({4}, 7, 0.1f)), 1, 1);
    g.outputs.push_back(c4->output(0));
    ir::inferShapes(*m);
    return m;
}

std::vector<rt::Session::NamedTensors> samples(const std::string& input, std::vector<int64_t> dims, int n, uint32_t seed,
                                               float lo = -1.f, float hi = 1.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    int64_t count = 1;
    for (int64_t x : dims) count *= x;
    std::vector<rt::Session::NamedTensors> out;
    for (int k = 0; k < n; ++k) {
        std::vector<float> v(static_cast<std::size_t>(count));
        for (float& f : v) f = d(rng);
        out.push_back({{input, rt::Tensor::fromVector<float>(ir::DataType::Float, dims, v)}});
    }
    return out;
}

/// Largest |a - b| / max|a| over the outputs of the two models.
double relativeDiff(const ir::Model& a, const ir::Model& b, const std::vector<rt::Session::NamedTensors>& in) {
    auto sa = rt::Session::create(a);
    auto sb = rt::Session::create(b);
    if (!sa || !sb) return 1e9;
    double worst = 0;
    for (const auto& s : in) {
        auto ra = (*sa)->run(s);
        auto rb = (*sb)->run(s);
        if (!ra || !rb) return 1e9;
        for (std::size_t k = 0; k < ra->size(); ++k) {
            double peak = 0, diff = 0;
            for (int64_t i = 0; i < (*ra)[k].numElements(); ++i) {
                peak = std::max<double>(peak, std::abs((*ra)[k].data<float>()[i]));
                diff = std::max<double>(diff, std::abs((*ra)[k].data<float>()[i] - (*rb)[k].data<float>()[i]));
            }
            worst = std::max(worst, diff / std::max(peak, 1e-30));
        }
    }
    return worst;
}

double sqnr(const ir::Model& reference, const ir::Model& model, const std::vector<rt::Session::NamedTensors>& in) {
    auto a = rt::Session::create(reference);
    auto b = rt::Session::create(model);
    if (!a || !b) return -1000;
    double s = 0, n = 0;
    for (const auto& x : in) {
        auto ra = (*a)->run(x);
        auto rb = (*b)->run(x);
        if (!ra || !rb) return -1000;
        for (std::size_t k = 0; k < ra->size(); ++k)
            for (int64_t i = 0; i < (*ra)[k].numElements(); ++i) {
                const double u = (*ra)[k].data<float>()[i], v = (*rb)[k].data<float>()[i];
                s += u * u;
                n += (u - v) * (u - v);
            }
    }
    return n > 0 ? 10 * std::log10(s / n) : 1000;
}

/// Calibrates `m` on `calib` and quantizes it in place; returns the calibration.
std::optional<Calibration> quantizeOn(ir::Model& m, const std::vector<rt::Session::NamedTensors>& calib, const QuantizeOptions& o,
                                      bool biasCorrection = false, BiasCorrectionReport* bcOut = nullptr) {
    VectorDataset data(calib);
    auto c = calibrate(m, data);
    if (!c) {
        qWarning("calibrate: %s", c.error().toString().c_str());
        return std::nullopt;
    }
    if (biasCorrection) {
        auto b = correctBias(m, *c, o, data);
        if (!b) {
            qWarning("bias correction: %s", b.error().toString().c_str());
            return std::nullopt;
        }
        if (bcOut) *bcOut = *b;
    }
    auto r = quantizeModel(m, &*c, o);
    if (!r) {
        qWarning("quantize: %s", r.error().toString().c_str());
        return std::nullopt;
    }
    return std::move(*c);
}

/// Largest / smallest per-output-channel absolute range of a Conv weight initializer.
double channelRatio(const ir::Model& m, const std::string& name) {
    const ir::Value* v = m.graph->findValue(name);
    const ir::Tensor& t = *v->initializer;
    const std::vector<float> w = t.toFloat();
    const std::size_t per = w.size() / std::size_t(t.dims[0]);
    double lo = INFINITY, hi = 0;
    for (int64_t o = 0; o < t.dims[0]; ++o) {
        double r = 0;
        for (std::size_t k = 0; k < per; ++k) r = std::max<double>(r, std::abs(w[std::size_t(o) * per + k]));
        lo = std::min(lo, r);
        hi = std::max(hi, r);
    }
    return hi / lo;
}

} // namespace

class TstQuantizeImprove : public QObject {
    Q_OBJECT

private slots:
    void equalizeKeepsFunctionAndBalances() {
        auto m = unbalancedChain();
        auto ref = m->clone();
        auto rep = equalizeCrossLayer(*m);
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        QVERIFY(ir::verify(*m));
        // conv1 -> Relu -> dw, dw -> LeakyRelu -> pw equalized; pw -> Clip -> head skipped.
        QCOMPARE(rep->pairs.size(), std::size_t(2));
        QCOMPARE(rep->pairs[0].first, std::string("conv1"));
        QCOMPARE(rep->pairs[0].second, std::string("dw"));
        QVERIFY(rep->pairs[0].depthwise);
        QCOMPARE(rep->pairs[1].activation, std::string("LeakyRelu"));
        QCOMPARE(rep->skipped.size(), std::size_t(1));
        QVERIFY(QString::fromStdString(rep->skipped[0]).contains("Clip"));
        QVERIFY(rep->iterations > 1); // a chain needs more than one sweep
        // The float function is unchanged.
        const auto in = samples("x", {1, 4, 10, 10}, 4, 11);
        const double diff = relativeDiff(*ref, *m, in);
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
        // Ranges: much more uniform.
        QVERIFY(rep->rangeRatioAfter < rep->rangeRatioBefore / 3);
        QVERIFY2(channelRatio(*m, "w1") < channelRatio(*ref, "w1") / 10,
                 qPrintable(QString("%1 -> %2").arg(channelRatio(*ref, "w1")).arg(channelRatio(*m, "w1"))));
        // A second run finds nothing left to move.
        auto again = equalizeCrossLayer(*m);
        QVERIFY(again && again->iterations == 1);
    }

    void equalizeImprovesPerTensorInt8() {
        const auto calib = samples("x", {1, 4, 10, 10}, 16, 21);
        const auto eval = samples("x", {1, 4, 10, 10}, 8, 99);
        QuantizeOptions o;
        o.scheme = Scheme::Int8PerTensor;
        auto fp32 = unbalancedChain();
        auto plain = fp32->clone();
        QVERIFY(quantizeOn(*plain, calib, o));
        auto equalized = fp32->clone();
        QVERIFY(equalizeCrossLayer(*equalized));
        QVERIFY(quantizeOn(*equalized, calib, o));
        const double before = sqnr(*fp32, *plain, eval), after = sqnr(*fp32, *equalized, eval);
        qInfo("per-tensor int8 SQNR: %.2f dB without CLE, %.2f dB with", before, after);
        QVERIFY2(after > before + 6, qPrintable(QString("%1 -> %2 dB").arg(before).arg(after)));
    }

    void equalizeLeavesSharedWeights() {
        // A weight shared by two Convs must not be rescaled for one of them.
        auto m = unbalancedChain();
        ir::Graph& g = *m->graph;
        ir::Node* pw = nullptr;
        for (const auto& n : g.nodes())
            if (n->name == "pw") pw = n.get();
        ir::Value* extra = *g.addValue("extra_out");
        g.addNode("Conv", "", "extra", {pw->input(0), pw->input(1)}, {extra});
        g.outputs.push_back(extra);
        auto ref = m->clone();
        auto rep = equalizeCrossLayer(*m);
        QVERIFY(rep);
        QCOMPARE(rep->pairs.size(), std::size_t(1)); // dw -> pw lost: pw's weight is shared (and dw's output too)
        QVERIFY(relativeDiff(*ref, *m, samples("x", {1, 4, 10, 10}, 2, 5)) < 1e-5);
    }

    void biasCorrectionRemovesMeanShift() {
        // x ~ U(4, 6) (a large mean), Conv 1x1 without bias: one channel with large weights sets
        // the per-tensor scale, the others are small and mostly positive, so rounding them gives
        // an error whose mean (error x mean input) is a clear per-channel shift.
        auto m = std::make_unique<ir::Model>();
        m->irVersion = 7;
        m->opsetImports = {{"", 13}};
        ir::Graph& g = *m->graph;
        ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, 16, 4, 4})));
        g.inputs.push_back(x);
        std::vector<float> w(8 * 16);
        std::mt19937 rng(3);
        std::normal_distribution<float> d(0.f, 1.f);
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = i < 16 ? 2.f * d(rng) : 0.012f + 0.004f * d(rng);
        ir::Node* c = conv(g, "conv", x, weight(g, "w", {8, 16, 1, 1}, w), nullptr, 1, 1);
        ir::Value* y = *g.addValue("y");
        {
            ir::Value* f = *g.addValue("flat");
            g.addNode("Flatten", "", "flatten", {c->output(0)}, {f});
            g.addNode("Gemm", "", "fc", {f, weight(g, "wf", {128, 5}, channelWeights({128, 5}, 9, 0.05f)), weight(g, "bf", {5}, {0, 0, 0, 0, 0})}, {y});
        }
        g.outputs.push_back(y);
        ir::inferShapes(*m);
        const auto calib = samples("x", {1, 16, 4, 4}, 32, 31, 4.f, 6.f);
        const auto eval = samples("x", {1, 16, 4, 4}, 16, 77, 4.f, 6.f);
        QuantizeOptions o;
        o.scheme = Scheme::Int8PerTensor;
        auto plain = m->clone();
        QVERIFY(quantizeOn(*plain, calib, o));
        auto corrected = m->clone();
        BiasCorrectionReport bc;
        QVERIFY(quantizeOn(*corrected, calib, o, true, &bc));
        QCOMPARE(bc.nodes.size(), std::size_t(2));
        QCOMPARE(bc.nodes[0].node, std::string("conv"));
        QVERIFY(bc.nodes[0].biasAdded); // the Conv had no bias
        QVERIFY(bc.nodes[0].maxAbsShift > 0.05);
        QCOMPARE(bc.samples, int64_t(32));
        QVERIFY(ir::verify(*corrected));
        const double before = sqnr(*m, *plain, eval), after = sqnr(*m, *corrected, eval);
        qInfo("per-tensor int8 SQNR: %.2f dB without bias correction, %.2f dB with", before, after);
        QVERIFY2(after > before + 6, qPrintable(QString("%1 -> %2 dB").arg(before).arg(after)));
    }

    void biasCorrectionNeedsInt8() {
        auto m = unbalancedChain();
        VectorDataset data(samples("x", {1, 4, 10, 10}, 2, 1));
        auto c = calibrate(*m, data);
        QVERIFY(c);
        QuantizeOptions o;
        o.scheme = Scheme::Fp16;
        auto r = correctBias(*m, *c, o, data);
        QVERIFY(!r && r.error().code == StatusCode::Usage);
    }

    void cli() {
        EW_REQUIRE_MODELS();
        const QString cli = test::binDir() + "/edgewise-cli";
        if (!QFileInfo::exists(cli)) QSKIP("[ew-skip] edgewise-cli not built (set EW_BIN_DIR)");
        const QString dir = test::modelsDir() + "/onnx/digits-cnn";
        QTemporaryDir tmp;
        auto run = [&](const QStringList& args) {
            QProcess p;
            p.start(cli, args);
            p.waitForFinished(300000);
            return p.exitCode();
        };
        const QString out = tmp.path() + "/q.onnx", rep = tmp.path() + "/r.json";
        QCOMPARE(run({"--quiet", "quantize", dir + "/digits_cnn.onnx", "-o", out, "--calib", dir + "/calibration_input.pb",
                      "--scheme", "int8-per-tensor", "--cle", "--bias-correction", "--report", rep}),
                 0);
        QFile f(rep);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject j = QJsonDocument::fromJson(f.readAll()).object();
        QVERIFY(j["cle"].toObject()["pairs"].toInt() >= 1);
        QVERIFY(j["cle"].toObject()["range_ratio_after"].toDouble() < j["cle"].toObject()["range_ratio_before"].toDouble());
        QVERIFY(j["bias_correction"].toObject()["nodes"].toInt() >= 2);
        QVERIFY(j["sqnr_db"].isDouble() && j["sqnr_db_without"].isDouble());
        QVERIFY(j["sqnr_db"].toDouble() > 30 && j["sqnr_db_without"].toDouble() > 30);
        QVERIFY(ir::loadModel(test::str(out)).has_value());
        // Bias correction needs calibration data and an int8 scheme: usage error.
        QCOMPARE(run({"quantize", dir + "/digits_cnn.onnx", "-o", out, "--scheme", "fp16", "--bias-correction"}), 2);
        // CLE alone works for any scheme (it only rewrites float weights).
        QCOMPARE(run({"--quiet", "quantize", dir + "/digits_cnn.onnx", "-o", out, "--scheme", "fp16", "--cle"}), 0);
    }
};

QTEST_GUILESS_MAIN(TstQuantizeImprove)
#include "tst_quantize_improve.moc"
