// Our int8 quantization of a published float TFLite model against the int8 twin its authors
// published (../shared/models/tflite): run the FP32 model, ours (QDQ, run by our runtime) and the
// published twin (its integer input fed the quantized float input, its integer output
// dequantized) on the same real images, and require ours to be at least as close to FP32.
//
// Real data is scarce there: two photos (burger.jpg, cats_and_dogs.jpg) and two 96x96 gray
// photos (person.bmp, no_person.bmp). Samples are square crops of them (several sizes and
// positions, plus mirror images) resized with our antialiased bilinear resize. Calibration uses
// cats_and_dogs.jpg and person.bmp, evaluation burger.jpg and no_person.bmp: no image is in both.
// The models' test_data_set_0 inputs are not used: ResNet-8's is random noise, MobileNet's is the
// burger photo that the evaluation crops already cover.
//
// Closeness is measured on the model output (softmax probabilities) and, because the published
// twins quantize their softmax output to 1/256 steps while our quantizer leaves Softmax in float,
// also on the logits (the Softmax input, which is a dequantized 8-bit tensor in both int8 models):
// the logits comparison is the one that measures the quantized network rather than the output
// format. Both must hold. Where the published twin was retrained (quantization-aware training,
// detected from its weights: MobileNet v1) post-training quantization does not reach it; that
// row is an expected failure with the reason, so it turns into an XPASS the day it does.
// The other quantizer options are measured and printed for the record (bench/RESULTS.md).
#include "test_util.h"
#include "quant_test_util.h"

#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "optimize/dataset/evaluate.h"
#include "optimize/dataset/image.h"
#include "optimize/quantize/bias_correction.h"
#include "optimize/quantize/observer.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/session.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

using namespace ew;
using namespace ew::opt;

namespace {

using test::VectorDataset;

data::Image toRgb(const data::Image& img) {
    if (img.channels == 3) return img;
    data::Image out{img.width, img.height, 3, {}};
    out.pixels.reserve(img.pixels.size() * 3);
    for (uint8_t p : img.pixels) out.pixels.insert(out.pixels.end(), {p, p, p});
    return out;
}

data::Image crop(const data::Image& img, int x0, int y0, int side, bool mirror) {
    data::Image out{side, side, img.channels, {}};
    out.pixels.resize(std::size_t(side) * side * img.channels);
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            const int sx = x0 + (mirror ? side - 1 - x : x);
            for (int c = 0; c < img.channels; ++c)
                out.pixels[(std::size_t(y) * side + x) * img.channels + c] =
                    img.pixels[(std::size_t(y0 + y) * img.width + sx) * img.channels + c];
        }
    return out;
}

/// Square crops of `img` (4 sizes, up to 3x3 positions each, and their mirror images), each
/// resized to side x side: RGB pixel values 0..255 in float, NHWC order.
std::vector<std::vector<float>> crops(const data::Image& src, int side) {
    const data::Image img = toRgb(src);
    const int shorter = std::min(img.width, img.height);
    std::vector<std::vector<float>> out;
    for (double frac : {1.0, 0.8, 0.6, 0.45}) {
        const int s = std::max(8, int(shorter * frac));
        std::set<std::pair<int, int>> seen;
        for (int gy = 0; gy < 3; ++gy)
            for (int gx = 0; gx < 3; ++gx) {
                const int x0 = (img.width - s) * gx / 2, y0 = (img.height - s) * gy / 2;
                if (!seen.insert({x0, y0}).second) continue;
                for (bool mirror : {false, true}) {
                    const data::FloatImage r = data::resizeBilinear(crop(img, x0, y0, s, mirror), side, side);
                    out.push_back(r.pixels);
                }
            }
    }
    return out;
}

/// One published float/int8 pair and the float model's input convention.
struct Twin {
    QString floatPath, quantPath;
    int side = 0;
    float pixelScale = 1, pixelOffset = 0; ///< float input = pixel * scale + offset
};

/// Closeness to FP32 accumulated over samples: model output, logits, top-1 agreement.
struct Acc {
    data::OutputErrorAccumulator out{"output"}, logits{"logits"};
    int64_t agree = 0;
    bool add(const std::vector<float>& refOut, const std::vector<float>& refLogits, const std::vector<float>& outV,
             const std::vector<float>& logitsV) {
        if (outV.size() != refOut.size() || logitsV.size() != refLogits.size() || refOut.empty()) return false;
        const auto k = static_cast<int64_t>(refOut.size()), kl = static_cast<int64_t>(refLogits.size());
        auto t = [](int64_t len, const std::vector<float>& v) { return rt::Tensor::fromVector<float>(ir::DataType::Float, {len}, v); };
        if (!out.add(t(k, refOut), t(k, outV)) || !logits.add(t(kl, refLogits), t(kl, logitsV))) return false;
        if (std::max_element(outV.begin(), outV.end()) - outV.begin() == std::max_element(refOut.begin(), refOut.end()) - refOut.begin())
            ++agree;
        return true;
    }
};

/// The input of the model's (single) Softmax, added as a second graph output: the logits.
bool exposeLogits(ir::Model& m) {
    for (const auto& n : m.graph->nodes())
        if (n->opType == "Softmax") {
            ir::Value* v = n->input(0);
            if (!v->isGraphOutput()) m.graph->outputs.push_back(v);
            return true;
        }
    return false;
}

/// Float values of an output: float as is, int8/uint8 through the value's QuantParams.
std::vector<float> dequantized(const rt::Tensor& t, const ir::Value* v) {
    std::vector<float> out(static_cast<std::size_t>(t.numElements()));
    if (t.dtype() == ir::DataType::Float) {
        std::copy_n(t.data<float>(), out.size(), out.begin());
        return out;
    }
    const float s = v->quant->scales.at(0);
    const auto zp = static_cast<float>(v->quant->zeroPoints.at(0));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const float q = t.dtype() == ir::DataType::Int8 ? float(t.data<int8_t>()[i]) : float(t.data<uint8_t>()[i]);
        out[i] = (q - zp) * s;
    }
    return out;
}

/// Max |published dequantized weight - float weight| / weight scale over the first Conv of each
/// model (both imported to OIHW), or -1 when they cannot be matched.
double firstConvWeightLsb(const ir::Model& fp32, const ir::Model& published) {
    auto firstConv = [](const ir::Model& m) -> const ir::Node* {
        for (const auto& n : m.graph->nodes())
            if (n->opType == "Conv") return n.get();
        return nullptr;
    };
    const ir::Node* cf = firstConv(fp32);
    const ir::Node* cp = firstConv(published);
    if (!cf || !cp || !cf->input(1)->initializer || !cp->input(1)->producer()) return -1;
    const ir::Node* dq = cp->input(1)->producer();
    const ir::Value* qv = dq->input(0);
    if (dq->opType != "DequantizeLinear" || !qv->initializer || !qv->quant) return -1;
    const std::vector<float> w = cf->input(1)->initializer->toFloat();
    const std::vector<float> q = qv->initializer->toFloat();
    const ir::QuantParams& p = *qv->quant;
    if (w.size() != q.size() || p.scales.empty()) return -1;
    const std::size_t perChannel = w.size() / p.scales.size(); // axis 0 (output channels) or per tensor
    double worst = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const std::size_t c = p.scales.size() == 1 ? 0 : i / perChannel;
        const double s = p.scales[c];
        const double deq = (double(q[i]) - double(p.zeroPoints[c])) * s;
        worst = std::max(worst, std::abs(deq - double(w[i])) / s);
    }
    return worst;
}

rt::Tensor floatTensor(std::vector<int64_t> dims, const std::vector<float>& v) {
    return rt::Tensor::fromVector<float>(ir::DataType::Float, std::move(dims), v);
}

} // namespace

class TstQuantTwins : public QObject {
    Q_OBJECT

private slots:
    void entropyIgnoresZeroSpike();
    void closerThanPublishedTwin_data();
    void closerThanPublishedTwin();
};

// The entropy range of a Relu output must not depend on how many exact zeros it holds: the same
// positive values with and without 90% zeros added give the same clipping threshold (within a
// histogram bin). Before TensorObserver set exact zeros aside, the spike pulled it from 3.5 to 1.5.
void TstQuantTwins::entropyIgnoresZeroSpike() {
    std::mt19937 rng(7);
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> positive(20000);
    for (float& v : positive) v = std::abs(d(rng));
    std::vector<float> spiky(positive);
    spiky.insert(spiky.end(), 180000, 0.f);
    quant::TensorObserver a, b;
    a.observe(positive);
    b.observe(spiky);
    QCOMPARE(a.max(), b.max());
    quant::RangeOptions o;
    o.method = quant::RangeMethod::Entropy;
    const auto [loA, hiA] = a.range(o);
    const auto [loB, hiB] = b.range(o);
    qInfo("entropy threshold: %.4f without zeros, %.4f with 90%% zeros (max %.4f)", hiA, hiB, a.max());
    QCOMPARE(loA, a.min());
    QCOMPARE(loB, 0.0);
    QVERIFY(hiA > 0.3 * a.max());
    QVERIFY2(std::abs(hiA - hiB) <= 2 * a.max() / quant::TensorObserver::kBins, "the zero spike moved the threshold");
}

void TstQuantTwins::closerThanPublishedTwin_data() {
    QTest::addColumn<QString>("floatPath");
    QTest::addColumn<QString>("quantPath");
    QTest::addColumn<int>("side");
    QTest::addColumn<float>("pixelScale");
    QTest::addColumn<float>("pixelOffset");
    QTest::addColumn<bool>("publishedRetrained"); // the int8 twin was trained again, not rounded
    // MLPerf Tiny ResNet-8 (CIFAR-10) takes raw 0..255 pixels: its int8 twin's input has scale 1,
    // zero point -128. MobileNet v1 takes (x - 127.5) / 127.5 (README of tflite-support).
    QTest::newRow("mlperf-tiny resnet8") << "tflite/mlperf-tiny/pretrainedResnet.tflite"
                                         << "tflite/mlperf-tiny/pretrainedResnet_quant.tflite" << 32 << 1.0f << 0.0f << false;
    QTest::newRow("mobilenet_v1 0.25") << "tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite"
                                       << "tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite" << 224
                                       << float(1.0 / 127.5) << -1.0f << true;
}

void TstQuantTwins::closerThanPublishedTwin() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, floatPath);
    QFETCH(QString, quantPath);
    QFETCH(int, side);
    QFETCH(float, pixelScale);
    QFETCH(float, pixelOffset);
    QFETCH(bool, publishedRetrained);
    const QString dir = test::modelsDir() + "/";
    for (const QString& f : {floatPath, quantPath})
        if (!QFileInfo::exists(dir + f)) QSKIP(qPrintable("[ew-skip] " + f + " not in the shared models"));

    auto readImage = [&](const QString& rel) {
        auto img = data::readImage(test::str(dir + rel));
        if (!img) qFatal("%s", img.error().toString().c_str());
        return *img;
    };
    auto cropsOf = [&](std::initializer_list<const char*> files) {
        std::vector<std::vector<float>> all;
        for (const char* f : files)
            for (auto& c : crops(readImage(f), side)) all.push_back(std::move(c));
        for (auto& c : all)
            for (float& v : c) v = v * pixelScale + pixelOffset;
        return all;
    };
    const auto calib = cropsOf({"tflite/tflite-support/cats_and_dogs.jpg", "tflite/tflite-micro/person.bmp"});
    const auto eval = cropsOf({"tflite/tflite-support/burger.jpg", "tflite/tflite-micro/no_person.bmp"});
    QVERIFY(calib.size() >= 40 && eval.size() >= 40);
    const std::vector<int64_t> dims{1, side, side, 3};

    // Calibration of the float twin on the calibration crops.
    auto fp32 = ir::loadModel(test::str(dir + floatPath));
    QVERIFY2(fp32.has_value(), fp32 ? "" : fp32.error().toString().c_str());
    const std::string inputName = (*fp32)->graph->inputs.at(0)->name;
    std::vector<rt::Session::NamedTensors> calibSamples;
    for (const auto& c : calib) calibSamples.push_back({{inputName, floatTensor(dims, c)}});
    VectorDataset calibData(std::move(calibSamples), {}, "image crop");
    auto cal = quant::calibrate(**fp32, calibData);
    QVERIFY2(cal.has_value(), cal ? "" : cal.error().toString().c_str());
    auto published = ir::loadModel(test::str(dir + quantPath));
    QVERIFY2(published.has_value(), published ? "" : published.error().toString().c_str());
    const ir::Value* pubIn = (*published)->graph->inputs.at(0);
    const ir::Value* pubOut = (*published)->graph->outputs.at(0);
    QVERIFY(pubIn->quant && pubOut->quant);
    const ir::DataType pubType = pubIn->quant->storageType;
    QVERIFY(pubType == ir::DataType::Int8 || pubType == ir::DataType::UInt8);
    auto reference = (*fp32)->clone();
    for (ir::Model* m : {reference.get(), published->get()}) QVERIFY(exposeLogits(*m));

    // FP32 outputs and the published twin's closeness, once.
    auto sRef = rt::Session::create(*reference);
    auto sPub = rt::Session::create(**published);
    QVERIFY2(sRef && sPub, "cannot create a session");
    const double inScale = pubIn->quant->scales.at(0);
    const double inZp = double(pubIn->quant->zeroPoints.at(0));
    const double qlo = pubType == ir::DataType::Int8 ? -128 : 0, qhi = qlo + 255;
    std::vector<std::vector<float>> refOut, refLogits;
    Acc accPub;
    for (const auto& x : eval) {
        auto ref = (*sRef)->run({{inputName, floatTensor(dims, x)}});
        QVERIFY2(ref.has_value(), ref ? "" : ref.error().toString().c_str());
        refOut.push_back(dequantized((*ref)[0], nullptr));
        refLogits.push_back(dequantized((*ref)[1], nullptr));
        rt::Tensor q = rt::Tensor::allocate(pubType, dims);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double v = std::clamp(std::nearbyint(double(x[i]) / inScale) + inZp, qlo, qhi);
            if (pubType == ir::DataType::Int8) q.data<int8_t>()[i] = static_cast<int8_t>(v);
            else q.data<uint8_t>()[i] = static_cast<uint8_t>(v);
        }
        auto pub = (*sPub)->run({{pubIn->name, std::move(q)}});
        QVERIFY2(pub.has_value(), pub ? "" : pub.error().toString().c_str());
        QVERIFY(accPub.add(refOut.back(), refLogits.back(), dequantized((*pub)[0], pubOut), dequantized((*pub)[1], nullptr)));
    }

    /// Our quantization of the float twin with `qo` (and bias correction), measured on `eval`.
    auto ours = [&](const quant::QuantizeOptions& qo, bool biasCorrection, bool int8Kernels, Acc& acc,
                    std::size_t& quantizedNodes) -> bool {
        auto m = (*fp32)->clone();
        if (biasCorrection && !quant::correctBias(*m, *cal, qo, calibData)) return false;
        auto rep = quant::quantizeModel(*m, &*cal, qo);
        if (!rep || rep->notes.size() >= rep->quantizedNodes.size() || !exposeLogits(*m)) return false;
        quantizedNodes = rep->quantizedNodes.size();
        rt::SessionOptions so;
        so.int8Kernels = int8Kernels;
        auto session = rt::Session::create(*m, so);
        if (!session) return false;
        for (std::size_t i = 0; i < eval.size(); ++i) {
            auto out = (*session)->run({{inputName, floatTensor(dims, eval[i])}});
            if (!out || !acc.add(refOut[i], refLogits[i], dequantized((*out)[0], nullptr), dequantized((*out)[1], nullptr)))
                return false;
        }
        return true;
    };
    const auto n = static_cast<int64_t>(eval.size());
    auto show = [&](const char* who, const Acc& a) {
        const data::OutputError o = a.out.result(), l = a.logits.result();
        qInfo("%-26s output SQNR %6.2f dB cosine %.5f | logits SQNR %6.2f dB cosine %.5f | top-1 agreement %lld/%lld",
              who, o.sqnrDb, o.cosine, l.sqnrDb, l.cosine, (long long)a.agree, (long long)n);
    };

    // Ours: the quantizer's defaults (int8 per-channel weights, uint8 asymmetric activations,
    // minmax ranges), run as QDQ in float (the runtime's default).
    quant::QuantizeOptions qo;
    Acc accOurs;
    std::size_t quantizedNodes = 0;
    QVERIFY2(ours(qo, false, false, accOurs, quantizedNodes), "quantizing or running ours failed");
    qInfo("%s: calibration %zu crops (cats_and_dogs.jpg, person.bmp), evaluation %lld crops (burger.jpg, no_person.bmp); "
          "ours quantizes %zu nodes",
          QTest::currentDataTag(), calib.size(), (long long)n, quantizedNodes);
    show("published int8 twin", accPub);
    show("ours (int8, minmax)", accOurs);
    // The alternatives looked at, for the record (printed, not asserted): the fused integer
    // kernels, the other range methods, int8 activations, per-tensor weights, bias correction.
    struct Variant {
        const char* name;
        quant::RangeMethod method = quant::RangeMethod::MinMax;
        quant::Scheme scheme = quant::Scheme::Int8;
        quant::ActivationType act = quant::ActivationType::UInt8;
        bool bc = false, int8Kernels = false;
    };
    for (const Variant& v : {Variant{"  integer kernels", quant::RangeMethod::MinMax, quant::Scheme::Int8, quant::ActivationType::UInt8, false, true},
                             Variant{"  percentile 99.99", quant::RangeMethod::Percentile},
                             Variant{"  entropy", quant::RangeMethod::Entropy},
                             Variant{"  mse", quant::RangeMethod::Mse},
                             Variant{"  int8 activations", quant::RangeMethod::MinMax, quant::Scheme::Int8, quant::ActivationType::Int8},
                             Variant{"  int8-per-tensor weights", quant::RangeMethod::MinMax, quant::Scheme::Int8PerTensor},
                             Variant{"  bias correction", quant::RangeMethod::MinMax, quant::Scheme::Int8, quant::ActivationType::UInt8, true}}) {
        quant::QuantizeOptions vo;
        vo.range.method = v.method;
        vo.scheme = v.scheme;
        vo.activations = v.act;
        Acc a;
        std::size_t nodes = 0;
        QVERIFY2(ours(vo, v.bc, v.int8Kernels, a, nodes), v.name);
        show(v.name, a);
    }

    // Whether the published twin's weights are a rounding of the float twin's (post-training
    // quantization) or were trained again (quantization-aware training): the first convolution's
    // dequantized weights against the float ones, in units of the twin's weight scale.
    const double lsb = firstConvWeightLsb(**fp32, **published);
    qInfo("published twin's first conv weights differ from the float twin's by up to %.1f LSB (%s)", lsb,
          lsb <= 0.5 + 1e-3 ? "post-training quantization" : "retrained: quantization-aware training");
    QVERIFY(lsb >= 0);
    QCOMPARE(lsb > 0.5 + 1e-3, publishedRetrained);

    const data::OutputError oO = accOurs.out.result(), oP = accPub.out.result();
    const data::OutputError lO = accOurs.logits.result(), lP = accPub.logits.result();
    const bool atLeastAsClose = lO.sqnrDb >= lP.sqnrDb && lO.cosine >= lP.cosine && oO.sqnrDb >= oP.sqnrDb &&
                                oO.cosine >= oP.cosine && accOurs.agree >= accPub.agree;
    if (publishedRetrained)
        QEXPECT_FAIL("mobilenet_v1 0.25",
                     "the published uint8 MobileNet is quantization-aware trained; post-training quantization of the float "
                     "weights with per-tensor activations (ours, and TFLite's own PTQ scheme) cannot match it here: "
                     "activation quantization alone ([0,6] in 8 bits after every Relu6) already loses the burger's top-1 "
                     "(bench/RESULTS.md, 'INT8 against the published twins')",
                     Continue);
    QVERIFY2(atLeastAsClose, "ours is less close to FP32 than the published int8 twin on some measure");
}

QTEST_GUILESS_MAIN(TstQuantTwins)
#include "tst_quant_twins.moc"
