// The implicit-GEMM convolution path (conv_implicit: im2col values packed straight into the
// SGEMM's panels, the columns of every image of a batch written straight to NCHW) and the packed
// Gemm/MatMul paths:
//  - the packer itself (AVX2 and portable) against a naive im2col on many geometries, depth and
//    column blocks included;
//  - whole Conv / Conv+Add+activation graphs against the reference kernel: stride 2 and 3,
//    dilation, asymmetric padding, 1-D, groups, batches of maps whose pixel count is not a
//    multiple of 16 (tiles straddling two images), several depth blocks, 5-row weight panels,
//    1 vs 2 vs 3 threads bit-identical, and the portable micro-kernel;
//  - the batched Winograd path (conv_winograd: tiles of the whole batch in blocks) the same way:
//    partial tiles and panels, padded weight panels, fused and separate activations, both ways
//    of splitting it between threads, AVX2 and portable transforms;
//  - Gemm / MatMul with constant and computed B against the reference loops.
#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "ir/verifier.h"
#include "runtime/cpu/conv_implicit.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/cpu/sgemm.h"
#include "runtime/session.h"
#include "conv_test_util.h"
#include "test_util.h"

#include <cmath>
#include <random>

using namespace ew;
using test::maxRelDiff;
using test::randomFloats;
using test::runOnce;

namespace {

/// Packer geometry for a test: x is [N, C, H, W] (all channels in one group).
struct PackGeom {
    int n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
};

/// Naive B(k, j) of the implicit GEMM.
float naiveB(const PackGeom& p, int oh_, int ow_, const std::vector<float>& x, int64_t k, int64_t j) {
    const int64_t T = p.kh * p.kw, P = int64_t(oh_) * ow_;
    const int64_t c = k / T, t = k % T, i = t / p.kw, jj = t % p.kw;
    const int64_t b = j / P, q = j % P, oh = q / ow_, ow = q % ow_;
    const int64_t ih = oh * p.sh - p.pt + i * p.dh, iw = ow * p.sw - p.pl + jj * p.dw;
    if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) return 0.f;
    return x[((b * p.c + c) * p.h + ih) * p.w + iw];
}

/// Runs a packer over [k0, k0+kc) x [n0, n0+nc) and compares with the naive matrix. Empty on success.
QString checkPack(const PackGeom& p, rt::cpu::PackPanelsFn pack, int64_t kBlock, int64_t nBlock) {
    const int oh = (p.h + p.pt + p.pb - p.dh * (p.kh - 1) - 1) / p.sh + 1;
    const int ow = (p.w + p.pl + p.pr - p.dw * (p.kw - 1) - 1) / p.sw + 1;
    const std::vector<float> x = randomFloats(std::size_t(p.n) * p.c * p.h * p.w, 21);
    std::vector<int64_t> lo(p.kw), hi(p.kw);
    for (int j = 0; j < p.kw; ++j) rt::cpu::stridedTapRange(ow, p.w, p.sw, p.pl, int64_t(j) * p.dw, lo[j], hi[j]);
    rt::cpu::ImplicitConv g;
    g.x = x.data();
    g.xBegin = x.data();
    g.xEnd = x.data() + x.size();
    g.imageStride = int64_t(p.c) * p.h * p.w;
    g.Cg = p.c;
    g.H = p.h;
    g.W = p.w;
    g.OH = oh;
    g.OW = ow;
    g.KH = p.kh;
    g.KW = p.kw;
    g.sh = p.sh;
    g.sw = p.sw;
    g.ph = p.pt;
    g.pw = p.pl;
    g.dh = p.dh;
    g.dw = p.dw;
    g.owLo = lo.data();
    g.owHi = hi.data();
    const int64_t K = int64_t(p.c) * p.kh * p.kw, N = int64_t(p.n) * oh * ow;
    std::vector<float> buf(std::size_t(kBlock * ((nBlock + 15) / 16 * 16)) + 16);
    float* out = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t(63));
    for (int64_t k0 = 0; k0 < K; k0 += kBlock)
        for (int64_t n0 = 0; n0 < N; n0 += nBlock) {
            const int64_t kc = std::min(kBlock, K - k0), nc = std::min(nBlock, N - n0);
            std::fill(out, out + kc * ((nc + 15) / 16 * 16), 12345.f);
            pack(&g, k0, kc, n0, nc, out);
            for (int64_t q = 0; q * 16 < nc; ++q)
                for (int64_t k = 0; k < kc; ++k)
                    for (int64_t l = 0; l < 16; ++l) {
                        const int64_t j = q * 16 + l;
                        const float want = j < nc ? naiveB(p, oh, ow, x, k0 + k, n0 + j) : 0.f;
                        const float got = out[q * kc * 16 + k * 16 + l];
                        if (std::memcmp(&got, &want, sizeof(float)) != 0)
                            return QString("k %1 column %2: got %3, want %4").arg(k0 + k).arg(n0 + j).arg(got).arg(want);
                    }
        }
    return {};
}

/// One Conv (+ Add residual) (+ activation) graph with the shapes declared.
struct ConvSpec {
    int n, c, m, h, w;
    int kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr;
    int group;
    bool bias;
    const char* act; ///< "" or an activation op after the conv
    bool residual;
    bool oneD; ///< 1-D conv (x [N, C, W], h must be 1)
};

std::unique_ptr<ir::Model> convModel(const ConvSpec& cs, std::vector<int64_t>& outDims) {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    const int64_t oh = (cs.h + cs.pt + cs.pb - cs.dh * (cs.kh - 1) - 1) / cs.sh + 1;
    const int64_t ow = (cs.w + cs.pl + cs.pr - cs.dw * (cs.kw - 1) - 1) / cs.sw + 1;
    auto t = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    std::vector<int64_t> xd = {cs.n, cs.c, cs.h, cs.w}, wd = {cs.m, cs.c / cs.group, cs.kh, cs.kw};
    outDims = {cs.n, cs.m, oh, ow};
    if (cs.oneD) {
        xd = {cs.n, cs.c, cs.w};
        wd = {cs.m, cs.c / cs.group, cs.kw};
        outDims = {cs.n, cs.m, ow};
    }
    ir::Value* x = *g.addValue("x", t(xd));
    g.inputs.push_back(x);
    ir::Value* w = *g.addValue("w", t(wd));
    std::size_t wn = 1;
    for (int64_t d : wd) wn *= std::size_t(d);
    w->initializer = ir::Tensor::fromVector("w", ir::DataType::Float, wd, randomFloats(wn, 1));
    g.initializers.push_back(w);
    std::vector<ir::Value*> ins = {x, w};
    if (cs.bias) {
        ir::Value* b = *g.addValue("b", t({cs.m}));
        b->initializer = ir::Tensor::fromVector("b", ir::DataType::Float, {cs.m}, randomFloats(cs.m, 2));
        g.initializers.push_back(b);
        ins.push_back(b);
    }
    ir::Value* y = *g.addValue("conv_out", t(outDims));
    ir::Node* conv = g.addNode("Conv", "", "conv", ins, {y});
    if (cs.oneD) {
        conv->setAttr(ir::Attribute::makeInts("kernel_shape", {cs.kw}));
        conv->setAttr(ir::Attribute::makeInts("strides", {cs.sw}));
        conv->setAttr(ir::Attribute::makeInts("pads", {cs.pl, cs.pr}));
        conv->setAttr(ir::Attribute::makeInts("dilations", {cs.dw}));
    } else {
        conv->setAttr(ir::Attribute::makeInts("kernel_shape", {cs.kh, cs.kw}));
        conv->setAttr(ir::Attribute::makeInts("strides", {cs.sh, cs.sw}));
        conv->setAttr(ir::Attribute::makeInts("pads", {cs.pt, cs.pl, cs.pb, cs.pr}));
        conv->setAttr(ir::Attribute::makeInts("dilations", {cs.dh, cs.dw}));
    }
    conv->setAttr(ir::Attribute::makeInt("group", cs.group));
    if (cs.residual) {
        ir::Value* r = *g.addValue("r", t(outDims));
        g.inputs.push_back(r);
        ir::Value* s = *g.addValue("sum", t(outDims));
        g.addNode("Add", "", "add", {y, r}, {s});
        y = s;
    }
    if (*cs.act) {
        ir::Value* a = *g.addValue("act", t(outDims));
        ir::Node* an = g.addNode(cs.act, "", "act", {y}, {a});
        if (std::string(cs.act) == "LeakyRelu") an->setAttr(ir::Attribute::makeFloat("alpha", 0.2f));
        y = a;
    }
    g.outputs.push_back(y);
    return m;
}

using Inputs = std::vector<std::pair<std::string, rt::Tensor>>;

const ConvSpec kConvCases[] = {
    // n  c   m   h   w  kh kw sh sw dh dw pt pl pb pr  g  bias  act          res    1d
    {1, 8, 16, 15, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, "", false, false},
    {2, 6, 12, 17, 19, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, true, "Relu", false, false},
    {3, 5, 10, 11, 9, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 1, true, "", true, false},
    {7, 6, 20, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", true, false},
    {4, 12, 32, 9, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false, "Clip", false, false},
    {3, 40, 16, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "LeakyRelu", true, false},
    {2, 3, 24, 23, 23, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true, "Relu", false, false},
    {3, 8, 12, 13, 14, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, "", false, false},
    {3, 8, 12, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true, "Relu", true, false},
    {2, 24, 24, 9, 2, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, "LeakyRelu", false, false},
    {1, 24, 24, 14, 4, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1, true, "LeakyRelu", false, false},
    {3, 7, 9, 1, 37, 1, 5, 1, 2, 1, 1, 0, 2, 0, 1, 1, true, "Relu", false, true},
    {3, 16, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", false, false},
    {9, 32, 32, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", true, false},
    {2, 1, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", false, false},
    {1, 3, 7, 30, 30, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1, true, "Sigmoid", false, false},
    {2, 16, 20, 12, 12, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, true, "", true, false},
    {1, 64, 40, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "HardSigmoid", false, false},
    {1, 32, 64, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", true, false},
    {2, 24, 48, 5, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, "Clip", false, false},
    {1, 48, 32, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false, "LeakyRelu", true, false},
    {2, 20, 16, 5, 3, 3, 3, 2, 1, 1, 1, 1, 0, 1, 2, 1, true, "", false, false},
    {2, 2, 20, 1, 900, 1, 48, 1, 20, 1, 1, 0, 7, 0, 3, 1, true, "Relu", false, true},
    {1, 1, 33, 1, 4000, 1, 512, 1, 160, 1, 1, 0, 0, 0, 0, 1, false, "", false, true},
    {1, 1, 40, 1, 600, 1, 256, 1, 128, 1, 1, 0, 0, 0, 0, 1, true, "", false, true},
    {2, 5, 20, 1, 4, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, 1, true, "Relu", true, true},
    {1, 8, 17, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "LeakyRelu", true, false},
    {2, 1, 24, 1, 250, 1, 100, 1, 100, 1, 1, 0, 0, 0, 0, 1, true, "Relu", true, true},
    // Winograd F(4x4, 3x3) over the tiles of the whole batch (3x3 stride 1, >= 16 channels, at
    // least 16 tiles in the batch).
    {6, 16, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", false, false},
    {70, 16, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", true, false},
    {20, 32, 32, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "LeakyRelu", true, false},
    {3, 16, 19, 13, 11, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, true, "Sigmoid", false, false},
    {2, 18, 24, 9, 10, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 1, false, "Clip", true, false},
    {4, 272, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "", false, false},
    {1, 24, 40, 30, 29, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, "Relu", true, false},
};

const char* const kConvNames[] = {
    "3x3 stride 2 pad 1, odd map",
    "batch 2, dilation 2, pad 2",
    "batch 3, asymmetric pads (0,1,2,0) + residual",
    "batch 7 of 5x7 maps (tiles straddle images) + residual + relu",
    "batch 4 pointwise 9x9 (P not a multiple of 16) + clip, M 32",
    "batch 3 of 6x6, K 360 (two depth blocks) + residual + leaky relu",
    "7x7 stride 2 pad 3, 3 channels, batch 2",
    "stride 3",
    "groups 2, batch 3 + residual",
    "3x1 on 9x2 maps (several runs per half), batch 2",
    "1x3 pad (0,1) on 14x4 (embedding-like)",
    "1-D, stride 2, asymmetric pads, batch 3",
    "digits-like 16->32 on 8x8, batch 3",
    "digits-like 32->32 on 4x4, batch 9 + residual",
    "digits-like 1->16 on 8x8, batch 2",
    "3x3 stride 2, pads (0,0,1,1), M 7 (padded weight panel) + sigmoid",
    "1x1 stride 2, batch 2 + residual",
    "64->40 on 10x10 + hard sigmoid",
    "7x7 map, 64 channels (transposed GEMM) + residual + relu",
    "batch 2 of 5x5 pointwise, 48 channels (transposed) + clip",
    "5x7 map, K 432 (transposed, two depth blocks) + residual + leaky relu",
    "batch 2, stride (2,1), pads (1,0,1,2), 16 channels (transposed)",
    "1-D 48 taps stride 20, pads (7,3), 2 channels, batch 2 (transposing packer)",
    "1-D STFT-like 512 taps stride 160, M 33 (transposing packer)",
    "1-D 256 taps stride 128, 3 frames, M 40 (few-pixel dot products)",
    "1-D batch 2 of 2 frames, 5 channels + residual + relu (few-pixel dot products)",
    "2x2 map, 8->17 + residual + leaky relu (few-pixel dot products)",
    "1-D batch 2 of 2 frames, 1 channel, 100 taps stride 100 + residual + relu (frames read in place)",
    "winograd: batch 6 of 8x8, 16->32 (one block, steps split between threads)",
    "winograd: batch 70 of 8x8 + residual + relu (blocks split between threads)",
    "winograd: batch 20 of 4x4, 32->32 + residual + leaky relu (partial panel)",
    "winograd: 13x11 no pad, M 19 (padded weight panel, partial tiles) + sigmoid after",
    "winograd: pads (0,1,2,0), no bias + residual + clip",
    "winograd: 272 input channels (depth past one block)",
    "winograd: 30x29 map, 24->40 + residual + relu",
};

} // namespace

class TestConvImplicit : public QObject {
    Q_OBJECT
private slots:
    void packerMatchesNaive_data();
    void packerMatchesNaive();
    void convMatchesReference_data();
    void convMatchesReference();
    void portableKernelMatchesReference();
    void gemmMatchesReference_data();
    void gemmMatchesReference();
    void matMulMatchesReference_data();
    void matMulMatchesReference();
    void realModelsMatchReference_data();
    void realModelsMatchReference();
};

void TestConvImplicit::packerMatchesNaive_data() {
    QTest::addColumn<int>("idx");
    const char* names[] = {"3x3 s1 p1 8x8 batch 3",  "3x3 s2 p1 odd",        "dilation 2",
                           "asymmetric pads",         "3x3 on 4x4 batch 5",   "stride 3",
                           "7x7 s2 p3",               "1x3 on 10x2",          "3x1 on 9x1",
                           "5x7 maps batch 4",        "1x1 s2 batch 3",       "large kernel 1x20",
                           "1-D 64 taps stride 24, pads, 2 channels", "1-D STFT-like 512 taps stride 160"};
    for (int i = 0; i < 14; ++i) QTest::newRow(names[i]) << i;
}

void TestConvImplicit::packerMatchesNaive() {
    QFETCH(int, idx);
    static const PackGeom geoms[] = {
        {3, 4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   {1, 3, 15, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {2, 3, 12, 11, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2}, {2, 5, 9, 10, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1},
        {5, 6, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   {2, 3, 14, 13, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1},
        {1, 3, 30, 29, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1}, {3, 6, 10, 2, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1},
        {4, 5, 9, 1, 3, 1, 1, 1, 0, 0, 0, 0, 1, 1},   {4, 7, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {3, 9, 7, 7, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},   {2, 3, 1, 40, 1, 20, 1, 1, 0, 5, 0, 4, 1, 1},
        // Long 1-D kernels with a large stride: blocks of 8 taps x 8 lanes are transposed, lanes
        // that touch the padding and partial blocks go element by element.
        {2, 2, 1, 700, 1, 64, 1, 24, 0, 10, 0, 13, 1, 1}, {1, 1, 1, 4000, 1, 512, 1, 160, 0, 0, 0, 0, 1, 1},
    };
    const PackGeom& p = geoms[idx];
    const int64_t blocks[][2] = {{256, 256}, {7, 48}, {20, 16}, {5, 37}};
    for (const auto& bl : blocks) {
        QString err = checkPack(p, rt::cpu::convImplicitPackPortable, bl[0], bl[1]);
        QVERIFY2(err.isEmpty(), qPrintable("portable: " + err));
        if (rt::cpu::sgemmUsesAvx2()) {
            err = checkPack(p, rt::cpu::convImplicitPackAvx2, bl[0], bl[1]);
            QVERIFY2(err.isEmpty(), qPrintable("avx2: " + err));
        }
    }
}

void TestConvImplicit::convMatchesReference_data() {
    QTest::addColumn<int>("idx");
    for (int i = 0; i < int(std::size(kConvCases)); ++i) QTest::newRow(kConvNames[i]) << i;
}

namespace {
Inputs convInputs(const ConvSpec& cs, const std::vector<int64_t>& outDims) {
    Inputs in;
    std::vector<int64_t> xd = {cs.n, cs.c, cs.h, cs.w};
    if (cs.oneD) xd = {cs.n, cs.c, cs.w};
    std::size_t xn = 1, yn = 1;
    for (int64_t d : xd) xn *= std::size_t(d);
    for (int64_t d : outDims) yn *= std::size_t(d);
    in.emplace_back("x", rt::Tensor::fromVector(ir::DataType::Float, xd, randomFloats(xn, 3)));
    if (cs.residual) in.emplace_back("r", rt::Tensor::fromVector(ir::DataType::Float, outDims, randomFloats(yn, 4)));
    return in;
}
} // namespace

void TestConvImplicit::convMatchesReference() {
    QFETCH(int, idx);
    const ConvSpec& cs = kConvCases[idx];
    std::vector<int64_t> outDims;
    auto m = convModel(cs, outDims);
    QVERIFY(ir::verify(*m).has_value());
    const Inputs in = convInputs(cs, outDims);
    auto ref = runOnce(*m, in, true, 1);
    auto fast1 = runOnce(*m, in, false, 1);
    auto fast2 = runOnce(*m, in, false, 2);
    auto fast3 = runOnce(*m, in, false, 3);
    QVERIFY(!ref.empty());
    QCOMPARE(fast1.size(), ref.size());
    const double d = maxRelDiff(ref, fast1);
    QVERIFY2(d < 2e-5, qPrintable(QString("max difference %1 of the output range").arg(d)));
    QVERIFY(std::memcmp(fast1.data(), fast2.data(), fast1.size() * sizeof(float)) == 0);
    QVERIFY(std::memcmp(fast1.data(), fast3.data(), fast1.size() * sizeof(float)) == 0);
}

void TestConvImplicit::portableKernelMatchesReference() {
    // The portable micro-kernels and packer on a few of the cases (also bit-identical across
    // thread counts).
    for (int idx : {0, 3, 5, 9, 12, 18, 20, 22, 24, 25, 26}) {
        const ConvSpec& cs = kConvCases[idx];
        std::vector<int64_t> outDims;
        auto m = convModel(cs, outDims);
        const Inputs in = convInputs(cs, outDims);
        auto ref = runOnce(*m, in, true, 1);
        rt::cpu::sgemmForcePortable(true);
        auto p1 = runOnce(*m, in, false, 1);
        auto p2 = runOnce(*m, in, false, 2);
        rt::cpu::sgemmForcePortable(false);
        QVERIFY(!ref.empty());
        QCOMPARE(p1.size(), ref.size());
        const double d = maxRelDiff(ref, p1);
        QVERIFY2(d < 2e-5, qPrintable(QString("case %1: max difference %2").arg(kConvNames[idx]).arg(d)));
        QVERIFY(std::memcmp(p1.data(), p2.data(), p1.size() * sizeof(float)) == 0);
    }
}

namespace {

/// Y = Gemm(A, B, C) with B (and C) constant or graph inputs.
std::unique_ptr<ir::Model> gemmModel(int m, int k, int n, bool transA, bool transB, float alpha, float beta,
                                     int cKind, bool constB, std::vector<float>& bData, std::vector<float>& cData) {
    auto model = std::make_unique<ir::Model>();
    model->irVersion = 8;
    model->opsetImports = {{"", 13}};
    ir::Graph& g = *model->graph;
    auto t = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    const std::vector<int64_t> ad = transA ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
    const std::vector<int64_t> bd = transB ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
    ir::Value* a = *g.addValue("a", t(ad));
    g.inputs.push_back(a);
    ir::Value* b = *g.addValue("b", t(bd));
    bData = randomFloats(std::size_t(k) * n, 12);
    if (constB) {
        b->initializer = ir::Tensor::fromVector("b", ir::DataType::Float, bd, bData);
        g.initializers.push_back(b);
    } else {
        g.inputs.push_back(b);
    }
    std::vector<ir::Value*> ins = {a, b};
    if (cKind) {
        // 1: [N], 2: [M, N], 3: [M, 1], 4: scalar [1]
        std::vector<int64_t> cd = cKind == 1 ? std::vector<int64_t>{n}
                                  : cKind == 2 ? std::vector<int64_t>{m, n}
                                  : cKind == 3 ? std::vector<int64_t>{m, 1}
                                               : std::vector<int64_t>{1};
        std::size_t cn = 1;
        for (int64_t d : cd) cn *= std::size_t(d);
        cData = randomFloats(cn, 13);
        ir::Value* c = *g.addValue("c", t(cd));
        c->initializer = ir::Tensor::fromVector("c", ir::DataType::Float, cd, cData);
        g.initializers.push_back(c);
        ins.push_back(c);
    }
    ir::Value* y = *g.addValue("y", t({m, n}));
    ir::Node* node = g.addNode("Gemm", "", "gemm", ins, {y});
    node->setAttr(ir::Attribute::makeInt("transA", transA));
    node->setAttr(ir::Attribute::makeInt("transB", transB));
    node->setAttr(ir::Attribute::makeFloat("alpha", alpha));
    node->setAttr(ir::Attribute::makeFloat("beta", beta));
    g.outputs.push_back(y);
    return model;
}

} // namespace

void TestConvImplicit::gemmMatchesReference_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("transA");
    QTest::addColumn<bool>("transB");
    QTest::addColumn<float>("alpha");
    QTest::addColumn<float>("beta");
    QTest::addColumn<int>("cKind");
    QTest::addColumn<bool>("constB");
    QTest::newRow("digits-like 360x128 x 128x64^T + bias") << 360 << 128 << 64 << false << true << 1.f << 1.f << 1 << true;
    QTest::newRow("classifier 1x1280 x 1280x1000^T + bias") << 1 << 1280 << 1000 << false << true << 1.f << 1.f << 1 << true;
    QTest::newRow("3 rows, alpha 0.5, C [M,N]") << 3 << 70 << 45 << false << false << 0.5f << 1.f << 2 << true;
    QTest::newRow("transA, beta 2, C [M,1]") << 9 << 33 << 21 << true << false << 1.f << 2.f << 3 << true;
    QTest::newRow("transA few rows, scalar C") << 2 << 300 << 17 << true << true << 1.f << 0.5f << 4 << true;
    QTest::newRow("computed B, C [N]") << 40 << 50 << 30 << false << false << 1.f << 1.f << 1 << false;
    QTest::newRow("computed B^T, alpha 2, C [M,N]") << 17 << 64 << 19 << false << true << 2.f << 1.f << 2 << false;
    QTest::newRow("deep K (several depth blocks)") << 13 << 700 << 40 << false << true << 1.f << 1.f << 0 << true;
}

void TestConvImplicit::gemmMatchesReference() {
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, n);
    QFETCH(bool, transA);
    QFETCH(bool, transB);
    QFETCH(float, alpha);
    QFETCH(float, beta);
    QFETCH(int, cKind);
    QFETCH(bool, constB);
    std::vector<float> bData, cData;
    auto model = gemmModel(m, k, n, transA, transB, alpha, beta, cKind, constB, bData, cData);
    QVERIFY(ir::verify(*model).has_value());
    Inputs in;
    const std::vector<int64_t> ad = transA ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
    in.emplace_back("a", rt::Tensor::fromVector(ir::DataType::Float, ad, randomFloats(std::size_t(m) * k, 14)));
    if (!constB) {
        const std::vector<int64_t> bd = transB ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
        in.emplace_back("b", rt::Tensor::fromVector(ir::DataType::Float, bd, bData));
    }
    auto ref = runOnce(*model, in, true, 1);
    auto f1 = runOnce(*model, in, false, 1);
    auto f2 = runOnce(*model, in, false, 2);
    QVERIFY(!ref.empty());
    QCOMPARE(f1.size(), ref.size());
    const double d = maxRelDiff(ref, f1);
    QVERIFY2(d < 1e-5, qPrintable(QString("max difference %1 of the output range").arg(d)));
    QVERIFY(std::memcmp(f1.data(), f2.data(), f1.size() * sizeof(float)) == 0);
}

void TestConvImplicit::matMulMatchesReference_data() {
    QTest::addColumn<QList<int>>("aDims");
    QTest::addColumn<QList<int>>("bDims");
    QTest::addColumn<QList<int>>("yDims");
    QTest::addColumn<bool>("constB");
    QTest::newRow("batched A x constant B") << QList<int>{2, 3, 20, 48} << QList<int>{48, 33} << QList<int>{2, 3, 20, 33}
                                            << true;
    QTest::newRow("vector x constant B") << QList<int>{256} << QList<int>{256, 100} << QList<int>{100} << true;
    QTest::newRow("2 rows x constant B") << QList<int>{2, 90} << QList<int>{90, 70} << QList<int>{2, 70} << true;
    QTest::newRow("batched computed B") << QList<int>{3, 24, 40} << QList<int>{3, 40, 36} << QList<int>{3, 24, 36}
                                        << false;
    QTest::newRow("broadcast computed B") << QList<int>{2, 2, 16, 32} << QList<int>{1, 32, 20}
                                          << QList<int>{2, 2, 16, 20} << false;
}

void TestConvImplicit::matMulMatchesReference() {
    QFETCH(QList<int>, aDims);
    QFETCH(QList<int>, bDims);
    QFETCH(QList<int>, yDims);
    QFETCH(bool, constB);
    auto model = std::make_unique<ir::Model>();
    model->irVersion = 8;
    model->opsetImports = {{"", 13}};
    ir::Graph& g = *model->graph;
    auto t = [](std::vector<int64_t> d) { return ir::Type::tensor(ir::DataType::Float, ir::Shape::of(d)); };
    std::vector<int64_t> ad(aDims.begin(), aDims.end()), bd(bDims.begin(), bDims.end());
    auto count = [](const std::vector<int64_t>& d) {
        std::size_t n = 1;
        for (int64_t v : d) n *= std::size_t(v);
        return n;
    };
    ir::Value* a = *g.addValue("a", t(ad));
    g.inputs.push_back(a);
    ir::Value* b = *g.addValue("b", t(bd));
    const std::vector<float> bData = randomFloats(count(bd), 15);
    if (constB) {
        b->initializer = ir::Tensor::fromVector("b", ir::DataType::Float, bd, bData);
        g.initializers.push_back(b);
    } else {
        g.inputs.push_back(b);
    }
    ir::Value* y = *g.addValue("y", t(std::vector<int64_t>(yDims.begin(), yDims.end())));
    g.addNode("MatMul", "", "mm", {a, b}, {y});
    g.outputs.push_back(y);
    QVERIFY(ir::verify(*model).has_value());
    Inputs in;
    in.emplace_back("a", rt::Tensor::fromVector(ir::DataType::Float, ad, randomFloats(count(ad), 16)));
    if (!constB) in.emplace_back("b", rt::Tensor::fromVector(ir::DataType::Float, bd, bData));
    auto ref = runOnce(*model, in, true, 1);
    auto f1 = runOnce(*model, in, false, 1);
    auto f2 = runOnce(*model, in, false, 2);
    QVERIFY(!ref.empty());
    QCOMPARE(f1.size(), ref.size());
    const double d = maxRelDiff(ref, f1);
    QVERIFY2(d < 1e-5, qPrintable(QString("max difference %1 of the output range").arg(d)));
    QVERIFY(std::memcmp(f1.data(), f2.data(), f1.size() * sizeof(float)) == 0);
}

void TestConvImplicit::realModelsMatchReference_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("data");
    QTest::newRow("digits-cnn, batch 360") << "onnx/digits-cnn/digits_cnn.onnx" << "onnx/digits-cnn/test_data_set_0";
    QTest::newRow("openwakeword embedding") << "onnx/openwakeword/embedding_model.onnx"
                                            << "onnx/openwakeword/embedding_model.test_data_set_0";
}

void TestConvImplicit::realModelsMatchReference() {
    // The models the implicit path was built for, on their own test data: the optimized kernels
    // against the reference ones, 1 vs 2 threads bit for bit, and the expected output.
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    QFETCH(QString, data);
    const QString dir = test::modelsDir();
    auto m = ir::loadModel((dir + "/" + model).toStdString());
    QVERIFY2(m.has_value(), qPrintable(QString::fromStdString(m ? "" : m.error().toString())));
    auto x = onnxfmt::readTensorProtoFile((dir + "/" + data + "/input_0.pb").toStdString());
    auto want = onnxfmt::readTensorProtoFile((dir + "/" + data + "/output_0.pb").toStdString());
    QVERIFY(x.has_value() && want.has_value());
    std::vector<float> xv(x->bytes().size() / sizeof(float)), wv(want->bytes().size() / sizeof(float));
    std::memcpy(xv.data(), x->bytes().data(), x->bytes().size());
    std::memcpy(wv.data(), want->bytes().data(), want->bytes().size());
    Inputs in;
    in.emplace_back((*m)->graph->inputs[0]->name, rt::Tensor::fromVector(ir::DataType::Float, x->dims, xv));
    auto ref = runOnce(**m, in, true, 1);
    auto f1 = runOnce(**m, in, false, 1);
    auto f2 = runOnce(**m, in, false, 2);
    QVERIFY(!ref.empty());
    QCOMPARE(f1.size(), ref.size());
    QCOMPARE(f1.size(), wv.size());
    const double d = maxRelDiff(ref, f1);
    qInfo("%s: optimized vs reference kernels, max difference %.3g of the output range", qPrintable(model), d);
    QVERIFY(d < 1e-4);
    QVERIFY(maxRelDiff(wv, f1) < 1e-3);
    QVERIFY(std::memcmp(f1.data(), f2.data(), f1.size() * sizeof(float)) == 0);
}

QTEST_GUILESS_MAIN(TestConvImplicit)
#include "tst_conv_implicit.moc"
