// The optimized convolution paths (packed-GEMM im2col, pointwise GEMM, Winograd F(4x4,3x3),
// FusedConv epilogues) against the reference kernel on the same graphs, and on real models.
#include "ir/io/model_io.h"
#include "ir/verifier.h"
#include "runtime/cpu/sgemm.h"
#include "runtime/session.h"
#include "test_util.h"

#include <cmath>
#include <random>

using namespace ew;

namespace {

std::vector<float> randomFloats(std::size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

struct ConvCase {
    int n, c, m, h, w, k, stride, pad, dil, group;
    bool bias;
    const char* act; // "" or an activation op after the conv
    bool residual;
};

/// One Conv (+ Add residual) (+ activation) graph with shapes declared, as inference would.
std::unique_ptr<ir::Model> convModel(const ConvCase& cc, int64_t& oh, int64_t& ow) {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    oh = (cc.h + 2 * cc.pad - cc.dil * (cc.k - 1) - 1) / cc.stride + 1;
    ow = (cc.w + 2 * cc.pad - cc.dil * (cc.k - 1) - 1) / cc.stride + 1;
    auto t = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    const std::vector<int64_t> outDims = {cc.n, cc.m, oh, ow};
    ir::Value* x = *g.addValue("x", t({cc.n, cc.c, cc.h, cc.w}));
    g.inputs.push_back(x);
    std::vector<int64_t> wd = {cc.m, cc.c / cc.group, cc.k, cc.k};
    ir::Value* w = *g.addValue("w", t(wd));
    w->initializer = ir::Tensor::fromVector("w", ir::DataType::Float, wd,
                                            randomFloats(std::size_t(cc.m) * (cc.c / cc.group) * cc.k * cc.k, 1));
    g.initializers.push_back(w);
    std::vector<ir::Value*> ins = {x, w};
    if (cc.bias) {
        ir::Value* b = *g.addValue("b", t({cc.m}));
        b->initializer = ir::Tensor::fromVector("b", ir::DataType::Float, {cc.m}, randomFloats(cc.m, 2));
        g.initializers.push_back(b);
        ins.push_back(b);
    }
    ir::Value* y = *g.addValue("conv_out", t(outDims));
    ir::Node* conv = g.addNode("Conv", "", "conv", ins, {y});
    conv->setAttr(ir::Attribute::makeInts("kernel_shape", {cc.k, cc.k}));
    conv->setAttr(ir::Attribute::makeInts("strides", {cc.stride, cc.stride}));
    conv->setAttr(ir::Attribute::makeInts("pads", {cc.pad, cc.pad, cc.pad, cc.pad}));
    conv->setAttr(ir::Attribute::makeInts("dilations", {cc.dil, cc.dil}));
    conv->setAttr(ir::Attribute::makeInt("group", cc.group));
    if (cc.residual) {
        ir::Value* r = *g.addValue("r", t(outDims));
        g.inputs.push_back(r);
        ir::Value* s = *g.addValue("sum", t(outDims));
        g.addNode("Add", "", "add", {y, r}, {s});
        y = s;
    }
    if (*cc.act) {
        ir::Value* a = *g.addValue("act", t(outDims));
        g.addNode(cc.act, "", "act", {y}, {a});
        y = a;
    }
    g.outputs.push_back(y);
    return m;
}

std::vector<float> runOnce(const ir::Model& m, const std::vector<std::pair<std::string, rt::Tensor>>& in, bool reference,
                           int threads, std::size_t* steps = nullptr) {
    rt::cpu::setPreferReferenceKernels(reference);
    rt::SessionOptions opt;
    opt.threads = threads;
    auto s = rt::Session::create(m, opt);
    rt::cpu::setPreferReferenceKernels(false);
    if (!s) {
        qWarning("%s", s.error().toString().c_str());
        return {};
    }
    if (steps) *steps = (*s)->executionOrder().size();
    auto out = (*s)->run(in);
    if (!out) {
        qWarning("%s", out.error().toString().c_str());
        return {};
    }
    return (*out)[0].toVector<float>();
}

double maxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double scale = 1e-6, worst = 0;
    for (float v : a) scale = std::max(scale, double(std::abs(v)));
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]) / scale);
    return worst;
}

} // namespace

class TestConvFast : public QObject {
    Q_OBJECT
private slots:
    void matchesReference_data();
    void matchesReference();
    void convTransposeMatchesReference_data();
    void convTransposeMatchesReference();
    void realModelsMatchReference_data();
    void realModelsMatchReference();
};

void TestConvFast::matchesReference_data() {
    QTest::addColumn<int>("idx");
    QTest::newRow("winograd 3x3 s1 pad1 (odd map)") << 0;
    QTest::newRow("winograd + bias + residual + relu") << 1;
    QTest::newRow("winograd, map not a multiple of 4, no pad") << 2;
    QTest::newRow("im2col 3x3 stride 2") << 3;
    QTest::newRow("im2col 7x7 s2 pad3 (resnet stem)") << 4;
    QTest::newRow("pointwise 1x1 + clip") << 5;
    QTest::newRow("grouped 3x3") << 6;
    QTest::newRow("depthwise 3x3 + relu") << 7;
    QTest::newRow("dilated 3x3") << 8;
    QTest::newRow("batch 2, 1x1 stride 2") << 9;
    QTest::newRow("small channels 3x3 (im2col)") << 10;
    QTest::newRow("7x7 map, 64 channels (transposed GEMM) + residual + relu") << 11;
    QTest::newRow("5x5 map pointwise, 48 channels (transposed GEMM)") << 12;
    QTest::newRow("batch 9 of 6x6 maps 3x3 (images share a GEMM) + residual + relu") << 13;
    QTest::newRow("batch 5 of 8x8 maps pointwise (images share a GEMM)") << 14;
}

void TestConvFast::matchesReference() {
    QFETCH(int, idx);
    static const ConvCase cases[] = {
        {1, 16, 32, 13, 11, 3, 1, 1, 1, 1, false, "", false},
        {1, 32, 16, 16, 16, 3, 1, 1, 1, 1, true, "Relu", true},
        {1, 16, 16, 10, 9, 3, 1, 0, 1, 1, true, "", false},
        {1, 24, 40, 15, 15, 3, 2, 1, 1, 1, true, "Relu", false},
        {1, 3, 16, 32, 32, 7, 2, 3, 1, 1, true, "Relu", false},
        {1, 40, 24, 9, 9, 1, 1, 0, 1, 1, true, "Clip", false},
        {1, 16, 32, 12, 12, 3, 1, 1, 1, 4, true, "", false},
        {1, 32, 32, 14, 14, 3, 1, 1, 1, 32, true, "Relu", false},
        {1, 16, 16, 20, 20, 3, 1, 2, 2, 1, false, "", false},
        {2, 16, 24, 9, 9, 1, 2, 0, 1, 1, true, "", false},
        {1, 4, 8, 8, 8, 3, 1, 1, 1, 1, true, "Relu", true},
        {1, 32, 64, 7, 7, 3, 1, 1, 1, 1, true, "Relu", true},
        {2, 40, 48, 5, 5, 1, 1, 0, 1, 1, true, "", false},
        {9, 8, 16, 6, 6, 3, 1, 1, 1, 1, true, "Relu", true},
        {5, 12, 20, 8, 8, 1, 1, 0, 1, 1, true, "Relu", false},
    };
    const ConvCase& cc = cases[idx];
    int64_t oh, ow;
    auto m = convModel(cc, oh, ow);
    QVERIFY(ir::verify(*m).has_value());
    std::vector<std::pair<std::string, rt::Tensor>> in;
    in.emplace_back("x", rt::Tensor::fromVector(ir::DataType::Float, {cc.n, cc.c, cc.h, cc.w},
                                                randomFloats(std::size_t(cc.n) * cc.c * cc.h * cc.w, 3)));
    if (cc.residual)
        in.emplace_back("r", rt::Tensor::fromVector(ir::DataType::Float, {cc.n, cc.m, oh, ow},
                                                    randomFloats(std::size_t(cc.n) * cc.m * oh * ow, 4)));
    std::size_t fastSteps = 0, refSteps = 0;
    auto ref = runOnce(*m, in, true, 1, &refSteps);
    auto fast1 = runOnce(*m, in, false, 1, &fastSteps);
    auto fast2 = runOnce(*m, in, false, 2);
    QVERIFY(!ref.empty());
    QCOMPARE(fast1.size(), ref.size());
    const double d = maxRelDiff(ref, fast1);
    QVERIFY2(d < 2e-5, qPrintable(QString("max difference %1 of the output range").arg(d)));
    QVERIFY(std::memcmp(fast1.data(), fast2.data(), fast1.size() * sizeof(float)) == 0); // 1 vs 2 threads
    if (cc.residual || *cc.act) QVERIFY(fastSteps < refSteps);                           // the chain was fused
}

void TestConvFast::convTransposeMatchesReference_data() {
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("pad");
    QTest::addColumn<int>("outPad");
    QTest::newRow("2x2 stride 2 (upsampling)") << 2 << 2 << 0 << 0;
    QTest::newRow("3x3 stride 2 pad 1 output_padding 1") << 3 << 2 << 1 << 1;
    QTest::newRow("4x4 stride 1 pad 2") << 4 << 1 << 2 << 0;
}

void TestConvFast::convTransposeMatchesReference() {
    QFETCH(int, k);
    QFETCH(int, stride);
    QFETCH(int, pad);
    QFETCH(int, outPad);
    const int64_t n = 2, c = 12, m = 8, h = 9, w = 7;
    const int64_t oh = (h - 1) * stride + outPad + k - 2 * pad, ow = (w - 1) * stride + outPad + k - 2 * pad;
    auto model = std::make_unique<ir::Model>();
    model->irVersion = 8;
    model->opsetImports = {{"", 13}};
    ir::Graph& g = *model->graph;
    auto t = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    ir::Value* x = *g.addValue("x", t({n, c, h, w}));
    g.inputs.push_back(x);
    ir::Value* wv = *g.addValue("w", t({c, m, k, k}));
    wv->initializer = ir::Tensor::fromVector("w", ir::DataType::Float, {c, m, k, k}, randomFloats(std::size_t(c * m * k * k), 5));
    g.initializers.push_back(wv);
    ir::Value* b = *g.addValue("b", t({m}));
    b->initializer = ir::Tensor::fromVector("b", ir::DataType::Float, {m}, randomFloats(std::size_t(m), 6));
    g.initializers.push_back(b);
    ir::Value* y = *g.addValue("y", t({n, m, oh, ow}));
    ir::Node* ct = g.addNode("ConvTranspose", "", "ct", {x, wv, b}, {y});
    ct->setAttr(ir::Attribute::makeInts("strides", {stride, stride}));
    ct->setAttr(ir::Attribute::makeInts("pads", {pad, pad, pad, pad}));
    ct->setAttr(ir::Attribute::makeInts("output_padding", {outPad, outPad}));
    g.outputs.push_back(y);
    QVERIFY(ir::verify(*model).has_value());
    std::vector<std::pair<std::string, rt::Tensor>> in;
    in.emplace_back("x", rt::Tensor::fromVector(ir::DataType::Float, {n, c, h, w}, randomFloats(std::size_t(n * c * h * w), 7)));
    auto ref = runOnce(*model, in, true, 1);
    auto fast1 = runOnce(*model, in, false, 1);
    auto fast2 = runOnce(*model, in, false, 2);
    QVERIFY(!ref.empty());
    QCOMPARE(fast1.size(), std::size_t(n * m * oh * ow));
    QVERIFY2(maxRelDiff(ref, fast1) < 2e-5, qPrintable(QString::number(maxRelDiff(ref, fast1))));
    QVERIFY(std::memcmp(fast1.data(), fast2.data(), fast1.size() * sizeof(float)) == 0);
}

void TestConvFast::realModelsMatchReference_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("resnet18") << "onnx/torchvision-arch/resnet18.onnx";
    QTest::newRow("mobilenet_v2") << "onnx/torchvision-arch/mobilenet_v2.onnx";
    QTest::newRow("paddleocr det") << "onnx/paddleocr/ch_PP-OCRv4_det_infer.onnx";
}

void TestConvFast::realModelsMatchReference() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    auto m = ir::loadModel((test::modelsDir() + "/" + model).toStdString());
    QVERIFY2(m.has_value(), qPrintable(QString::fromStdString(m ? "" : m.error().toString())));
    const ir::Value* input = (*m)->graph->inputs[0];
    std::vector<int64_t> dims;
    for (const auto& d : input->type.shape->dims) dims.push_back(d.isKnown() ? d.value : (dims.empty() ? 1 : 64));
    int64_t n = 1;
    for (int64_t v : dims) n *= v;
    std::vector<std::pair<std::string, rt::Tensor>> in;
    in.emplace_back(input->name, rt::Tensor::fromVector(ir::DataType::Float, dims, randomFloats(std::size_t(n), 9)));
    auto ref = runOnce(**m, in, true, 2);
    auto fast = runOnce(**m, in, false, 2);
    QVERIFY(!ref.empty());
    QCOMPARE(fast.size(), ref.size());
    const double d = maxRelDiff(ref, fast);
    qInfo("%s: optimized vs reference kernels, max difference %.3g of the output range", qPrintable(model), d);
    QVERIFY(d < 1e-4);
}

QTEST_GUILESS_MAIN(TestConvFast)
#include "tst_conv_fast.moc"
