// The optimized convolution paths (packed-GEMM im2col, pointwise GEMM, Winograd F(4x4,3x3),
// depthwise, FusedConv epilogues) against the reference kernel on the same graphs, and on real
// models; the depthwise kernel also directly against a plain loop, AVX2 and portable.
#include "ir/io/model_io.h"
#include "ir/verifier.h"
#include "runtime/cpu/conv_depthwise.h"
#include "runtime/cpu/sgemm.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "conv_test_util.h"
#include "test_util.h"

#include <cmath>
#include <random>

using namespace ew;
using test::maxRelDiff;
using test::randomFloats;
using test::runOnce;

namespace {

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

struct DwCase {
    int n, c, h, w, kh, kw, stride;
    int padT, padL, padB, padR;
    bool bias;
    const char* act; // "", "Relu", "Clip" (bounds -0.25, 0.5), "Sigmoid"
    bool residual;
    int strideW = 0; // horizontal stride; 0: the same as stride
};

/// One depthwise Conv (group = channels) (+ Add residual) (+ activation), any pads.
std::unique_ptr<ir::Model> depthwiseModel(const DwCase& dc, int64_t& oh, int64_t& ow) {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    const int sw = dc.strideW ? dc.strideW : dc.stride;
    oh = (dc.h + dc.padT + dc.padB - dc.kh) / dc.stride + 1;
    ow = (dc.w + dc.padL + dc.padR - dc.kw) / sw + 1;
    auto t = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    const std::vector<int64_t> outDims = {dc.n, dc.c, oh, ow};
    ir::Value* x = *g.addValue("x", t({dc.n, dc.c, dc.h, dc.w}));
    g.inputs.push_back(x);
    const std::vector<int64_t> wd = {dc.c, 1, dc.kh, dc.kw};
    ir::Value* w = *g.addValue("w", t(wd));
    w->initializer =
        ir::Tensor::fromVector("w", ir::DataType::Float, wd, randomFloats(std::size_t(dc.c) * dc.kh * dc.kw, 11));
    g.initializers.push_back(w);
    std::vector<ir::Value*> ins = {x, w};
    if (dc.bias) {
        ir::Value* b = *g.addValue("b", t({dc.c}));
        b->initializer = ir::Tensor::fromVector("b", ir::DataType::Float, {dc.c}, randomFloats(dc.c, 12));
        g.initializers.push_back(b);
        ins.push_back(b);
    }
    ir::Value* y = *g.addValue("conv_out", t(outDims));
    ir::Node* conv = g.addNode("Conv", "", "conv", ins, {y});
    conv->setAttr(ir::Attribute::makeInts("kernel_shape", {dc.kh, dc.kw}));
    conv->setAttr(ir::Attribute::makeInts("strides", {dc.stride, sw}));
    conv->setAttr(ir::Attribute::makeInts("pads", {dc.padT, dc.padL, dc.padB, dc.padR}));
    conv->setAttr(ir::Attribute::makeInt("group", dc.c));
    if (dc.residual) {
        ir::Value* r = *g.addValue("r", t(outDims));
        g.inputs.push_back(r);
        ir::Value* s = *g.addValue("sum", t(outDims));
        g.addNode("Add", "", "add", {y, r}, {s});
        y = s;
    }
    if (*dc.act) {
        std::vector<ir::Value*> actIns = {y};
        if (std::string(dc.act) == "Clip") {
            for (int i = 0; i < 2; ++i) {
                const char* name = i ? "clip_max" : "clip_min";
                ir::Value* bound = *g.addValue(name, ir::Type::tensor(ir::DataType::Float, ir::Shape::of({})));
                bound->initializer = ir::Tensor::fromVector(name, ir::DataType::Float, {}, std::vector<float>{i ? 0.5f : -0.25f});
                g.initializers.push_back(bound);
                actIns.push_back(bound);
            }
        }
        ir::Value* a = *g.addValue("act", t(outDims));
        g.addNode(dc.act, "", "act", actIns, {a});
        y = a;
    }
    g.outputs.push_back(y);
    return m;
}

/// Plain-loop depthwise convolution in double: act(conv + bias + residual).
std::vector<float> depthwiseNaive(const rt::cpu::DepthwiseShape& s, const std::vector<float>& x,
                                  const std::vector<float>& w, const float* bias, const float* residual,
                                  const rt::cpu::Epilogue& e) {
    std::vector<float> y(std::size_t(s.channels * s.oh * s.ow));
    for (int64_t c = 0; c < s.channels; ++c)
        for (int64_t oh = 0; oh < s.oh; ++oh)
            for (int64_t ow = 0; ow < s.ow; ++ow) {
                double acc = bias ? bias[c] : 0.0;
                for (int64_t i = 0; i < s.kh; ++i)
                    for (int64_t j = 0; j < s.kw; ++j) {
                        const int64_t sw = s.strideW ? s.strideW : s.stride;
                        const int64_t ih = oh * s.stride - s.padTop + i, iw = ow * sw - s.padLeft + j;
                        if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                        acc += double(w[(c * s.kh + i) * s.kw + j]) * x[(c * s.h + ih) * s.w + iw];
                    }
                const std::size_t o = std::size_t((c * s.oh + oh) * s.ow + ow);
                if (residual) acc += residual[o];
                float v = float(acc);
                switch (e.act) {
                case rt::cpu::Activation::Relu: v = v > 0.f ? v : 0.f; break;
                case rt::cpu::Activation::Clip: v = std::min(std::max(v, e.alpha), e.beta); break;
                case rt::cpu::Activation::LeakyRelu: v = v >= 0.f ? v : v * e.alpha; break;
                default: break;
                }
                y[o] = v;
            }
    return y;
}

} // namespace

class TestConvFast : public QObject {
    Q_OBJECT
private slots:
    void matchesReference_data();
    void matchesReference();
    void depthwiseMatchesReference_data();
    void depthwiseMatchesReference();
    void depthwiseKernelMatchesLoop_data();
    void depthwiseKernelMatchesLoop();
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

void TestConvFast::depthwiseMatchesReference_data() {
    QTest::addColumn<int>("idx");
    QTest::newRow("3x3 s1 7x7 map, 24 ch + bias + relu") << 0;
    QTest::newRow("3x3 s2 14x14 -> 7x7, 40 ch + clip") << 1;
    QTest::newRow("3x3 s1 14x14, 13 ch (tail group) + residual + clip") << 2;
    QTest::newRow("3x3 s2 odd 13x17 map, 3 ch") << 3;
    QTest::newRow("3x3 s2 112x112, 16 ch + bias + clip (mobilenet_v2 block 2)") << 4;
    QTest::newRow("3x3 s1 60x57, 20 ch + residual + relu") << 5;
    QTest::newRow("5x5 s1 pad 2 32x32, 24 ch + bias (blazeface)") << 6;
    QTest::newRow("5x5 s2 asymmetric pads (0,0,2,2) 33x31, 17 ch + relu") << 7;
    QTest::newRow("3x3 s2 pads (0,0,1,1) 16x16, 8 ch (TF SAME)") << 8;
    QTest::newRow("batch 3, 3x3 s1 9x10, 11 ch + residual + relu") << 9;
    QTest::newRow("3x5 kernel s1 pads (1,2,1,2) 10x12, 9 ch + sigmoid (activation after)") << 10;
    QTest::newRow("3x3 s1 no pad 4x4 -> 2x2, 5 ch + bias") << 11;
    QTest::newRow("batch 2, 5x5 s2 pad 2 7x7 -> 4x4, 64 ch + bias + relu") << 12;
    QTest::newRow("3x3 s1 1x1 map pad 1, 8 ch") << 13;
    QTest::newRow("3x3 strides (2,1) 16x40, 48 ch + bias + relu (PaddleOCR cls)") << 14;
    QTest::newRow("3x3 strides (1,2) 9x20, 13 ch + residual") << 15;
    QTest::newRow("5x5 strides (2,1) pads (2,2,2,2) 11x6, 10 ch + bias + clip") << 16;
}

void TestConvFast::depthwiseMatchesReference() {
    QFETCH(int, idx);
    static const DwCase cases[] = {
        {1, 24, 7, 7, 3, 3, 1, 1, 1, 1, 1, true, "Relu", false},
        {1, 40, 14, 14, 3, 3, 2, 1, 1, 1, 1, false, "Clip", false},
        {1, 13, 14, 14, 3, 3, 1, 1, 1, 1, 1, true, "Clip", true},
        {1, 3, 13, 17, 3, 3, 2, 1, 1, 1, 1, false, "", false},
        {1, 16, 112, 112, 3, 3, 2, 1, 1, 1, 1, true, "Clip", false},
        {1, 20, 60, 57, 3, 3, 1, 1, 1, 1, 1, false, "Relu", true},
        {1, 24, 32, 32, 5, 5, 1, 2, 2, 2, 2, true, "", false},
        {1, 17, 33, 31, 5, 5, 2, 0, 0, 2, 2, false, "Relu", false},
        {1, 8, 16, 16, 3, 3, 2, 0, 0, 1, 1, true, "", false},
        {3, 11, 9, 10, 3, 3, 1, 1, 1, 1, 1, true, "Relu", true},
        {1, 9, 10, 12, 3, 5, 1, 1, 2, 1, 2, true, "Sigmoid", false},
        {1, 5, 4, 4, 3, 3, 1, 0, 0, 0, 0, true, "", false},
        {2, 64, 7, 7, 5, 5, 2, 2, 2, 2, 2, true, "Relu", false},
        {1, 8, 1, 1, 3, 3, 1, 1, 1, 1, 1, false, "", false},
        {1, 48, 16, 40, 3, 3, 2, 1, 1, 1, 1, true, "Relu", false, 1},
        {1, 13, 9, 20, 3, 3, 1, 1, 1, 1, 1, false, "", true, 2},
        {1, 10, 11, 6, 5, 5, 2, 2, 2, 2, 2, true, "Clip", false, 1},
    };
    const DwCase& dc = cases[idx];
    int64_t oh, ow;
    auto m = depthwiseModel(dc, oh, ow);
    QVERIFY(ir::verify(*m).has_value());
    std::vector<std::pair<std::string, rt::Tensor>> in;
    in.emplace_back("x", rt::Tensor::fromVector(ir::DataType::Float, {dc.n, dc.c, dc.h, dc.w},
                                                randomFloats(std::size_t(dc.n) * dc.c * dc.h * dc.w, 13)));
    if (dc.residual)
        in.emplace_back("r", rt::Tensor::fromVector(ir::DataType::Float, {dc.n, dc.c, oh, ow},
                                                    randomFloats(std::size_t(dc.n) * dc.c * oh * ow, 14)));
    std::size_t fastSteps = 0, refSteps = 0;
    auto ref = runOnce(*m, in, true, 1, &refSteps);
    auto fast1 = runOnce(*m, in, false, 1, &fastSteps);
    auto fast2 = runOnce(*m, in, false, 2);
    rt::cpu::depthwiseForcePortable(true);
    auto portable2 = runOnce(*m, in, false, 2);
    rt::cpu::depthwiseForcePortable(false);
    QVERIFY(!ref.empty());
    QCOMPARE(fast1.size(), std::size_t(dc.n) * dc.c * oh * ow);
    QCOMPARE(fast1.size(), ref.size());
    const double d = maxRelDiff(ref, fast1);
    QVERIFY2(d < 2e-5, qPrintable(QString("max difference %1 of the output range").arg(d)));
    QVERIFY2(maxRelDiff(ref, portable2) < 2e-5, qPrintable(QString::number(maxRelDiff(ref, portable2))));
    QVERIFY(std::memcmp(fast1.data(), fast2.data(), fast1.size() * sizeof(float)) == 0); // 1 vs 2 threads
    if (dc.residual || *dc.act) QVERIFY(fastSteps < refSteps);                           // the chain was fused
}

void TestConvFast::depthwiseKernelMatchesLoop_data() {
    QTest::addColumn<bool>("portable");
    QTest::newRow("dispatched (AVX2 where the CPU has it)") << false;
    QTest::newRow("portable") << true;
}

/// Calls depthwiseConv directly over a sweep of shapes the graph tests do not reach cheaply
/// (non-square kernels, pads larger than the kernel, maps narrower than 8 or than the kernel,
/// every activation path), on pools of 1, 2 and 3 threads.
void TestConvFast::depthwiseKernelMatchesLoop() {
    QFETCH(bool, portable);
    using namespace rt::cpu;
    rt::ThreadPool pool1(1), pool2(2), pool3(3);
    struct K {
        int64_t c, h, w, kh, kw, stride, padT, padL, padB, padR, strideW;
    };
    static const K shapes[] = {
        {1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 0},    {3, 8, 8, 3, 3, 2, 1, 1, 1, 1, 0},     {8, 7, 9, 1, 1, 1, 0, 0, 0, 0, 0},
        {9, 6, 20, 3, 3, 1, 0, 0, 0, 0, 0},   {16, 15, 15, 5, 5, 2, 2, 2, 2, 2, 0},  {13, 2, 3, 3, 3, 1, 1, 1, 1, 1, 0},
        {10, 9, 9, 7, 7, 1, 3, 3, 3, 3, 0},   {7, 11, 24, 2, 4, 2, 1, 2, 0, 1, 0},   {24, 28, 28, 3, 3, 1, 1, 1, 1, 1, 0},
        {17, 4, 4, 3, 3, 1, 3, 3, 3, 3, 0},   {12, 5, 31, 5, 3, 2, 2, 1, 2, 1, 0},   {33, 56, 9, 3, 3, 2, 1, 1, 1, 1, 0},
        {2, 3, 1, 3, 1, 1, 1, 0, 1, 0, 0},    {40, 12, 12, 16, 16, 1, 8, 8, 7, 7, 0}, {6, 20, 20, 3, 3, 2, 0, 0, 0, 0, 0},
        {48, 16, 40, 3, 3, 2, 1, 1, 1, 1, 1}, {13, 9, 20, 3, 3, 1, 1, 1, 1, 1, 2}, {10, 11, 6, 5, 5, 2, 2, 2, 2, 2, 1},
        {5, 7, 3, 3, 1, 2, 1, 0, 1, 0, 1},    {9, 6, 17, 2, 4, 1, 0, 2, 1, 1, 2},  {16, 3, 30, 3, 3, 2, 1, 1, 1, 1, 1},
    };
    const Activation acts[] = {Activation::None, Activation::Relu, Activation::Clip, Activation::LeakyRelu};
    depthwiseForcePortable(portable);
    struct Restore {
        ~Restore() { rt::cpu::depthwiseForcePortable(false); }
    } restore;
    int checked = 0;
    for (const K& k : shapes)
        for (int variant = 0; variant < 4; ++variant) {
            DepthwiseShape s;
            s.channels = k.c;
            s.h = k.h;
            s.w = k.w;
            s.kh = k.kh;
            s.kw = k.kw;
            s.stride = k.stride;
            s.strideW = k.strideW;
            s.padTop = k.padT;
            s.padLeft = k.padL;
            s.oh = (k.h + k.padT + k.padB - k.kh) / k.stride + 1;
            s.ow = (k.w + k.padL + k.padR - k.kw) / (k.strideW ? k.strideW : k.stride) + 1;
            const std::size_t outN = std::size_t(s.channels * s.oh * s.ow);
            const auto x = randomFloats(std::size_t(k.c * k.h * k.w), 20 + variant);
            const auto w = randomFloats(std::size_t(k.c * k.kh * k.kw), 30 + variant);
            const auto b = randomFloats(std::size_t(k.c), 40 + variant);
            const auto r = randomFloats(outN, 50 + variant);
            Epilogue e;
            e.act = acts[variant];
            e.alpha = e.act == Activation::Clip ? -0.3f : 0.1f;
            e.beta = 0.4f;
            const float* bias = variant % 2 ? b.data() : nullptr;
            const float* residual = variant >= 2 ? r.data() : nullptr;
            const auto want = depthwiseNaive(s, x, w, bias, residual, e);
            std::vector<float> y1(outN, -7.f), y2(outN, 7.f), y3(outN, 3.f);
            depthwiseConv(s, x.data(), w.data(), bias, residual, y1.data(), e, pool1);
            depthwiseConv(s, x.data(), w.data(), bias, residual, y2.data(), e, pool2);
            depthwiseConv(s, x.data(), w.data(), bias, residual, y3.data(), e, pool3);
            const QString what = QString("C%1 %2x%3 k%4x%5 s%6,%12 pads %7,%8,%9,%10 act %11")
                                     .arg(k.c).arg(k.h).arg(k.w).arg(k.kh).arg(k.kw).arg(k.stride)
                                     .arg(k.padT).arg(k.padL).arg(k.padB).arg(k.padR).arg(variant).arg(k.strideW);
            double worst = 0;
            for (std::size_t i = 0; i < outN; ++i) worst = std::max(worst, double(std::abs(y1[i] - want[i])));
            QVERIFY2(worst < 1e-5 * k.kh * k.kw, qPrintable(what + QString(": max error %1").arg(worst)));
            QVERIFY2(std::memcmp(y1.data(), y2.data(), outN * sizeof(float)) == 0, qPrintable(what + ": 1 vs 2 threads"));
            QVERIFY2(std::memcmp(y1.data(), y3.data(), outN * sizeof(float)) == 0, qPrintable(what + ": 1 vs 3 threads"));
            ++checked;
        }
    QCOMPARE(checked, int(std::size(shapes)) * 4);
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
