// The runtime passes (fuse-conv-activation, fuse-gemm-activation, fuse-silu), the kernels they
// write (ai.edgewise.FusedConv with SiLU / HardSwish, FusedGemm, Silu, HardSwish) and the
// Session's own fusion step.
#include "optimize_test_util.h"
#include "test_util.h"

#include "ir/onnx/onnx_export.h"
#include "ir/onnx/onnx_import.h"
#include "ir/verifier.h"
#include "runtime/cpu/activation.h"
#include "runtime/cpu/sgemm.h"
#include "runtime/fusion.h"

#include <cstring>
#include <random>

using namespace ew;
using ew::test::parseModel;

class TestPassRuntime : public QObject {
    Q_OBJECT
  private slots:
    void convActivation();
    void convBnResidualClip();
    void convNoMatch();
    void gemmActivation();
    void matmulBiasActivation();
    void gemmSilu();
    void gemmNoMatch();
    void siluStandalone();
    void siluIntoConv();
    void siluIntoFusedConv();
    void siluNoMatch();
    void hardSwishIntoConv();
    void hardSwishStandalone();
    void hardSwishNoMatch();
    void hardSwishKernelsMatchPortable();
    void nestedGraphsFused();
    void changesRecorded();
    void fusedGemmMatchesGemm_data();
    void fusedGemmMatchesGemm();
    void siluKernelMatchesReference();
    void sessionFusionKeepsOutputs_data();
    void sessionFusionKeepsOutputs();
    void edgewiseModelRoundTrips();
    void realModelEdgewiseTarget_data();
    void realModelEdgewiseTarget();
    void pointwiseDepthwise();
    void pointwiseDepthwiseNoMatch();
};

namespace {

/// Outputs of a model run with the given session options on seeded inputs.
std::vector<rt::Tensor> runModel(const ir::Model& m, bool fuse, std::vector<std::string>* ops = nullptr) {
    rt::SessionOptions o;
    o.fuse = fuse;
    o.threads = 1;
    auto s = rt::Session::create(m, o);
    if (!s) {
        qWarning("session: %s", s.error().toString().c_str());
        return {};
    }
    if (ops)
        for (const ir::Node* n : (*s)->executionOrder()) ops->push_back(n->opType);
    auto r = (*s)->run(ew::test::randomInputs(**s, 11));
    if (!r) {
        qWarning("run: %s", r.error().toString().c_str());
        return {};
    }
    return std::move(*r);
}

double worstDiff(const std::vector<rt::Tensor>& a, const std::vector<rt::Tensor>& b) {
    if (a.empty() || a.size() != b.size()) return INFINITY;
    double worst = 0;
    for (std::size_t k = 0; k < a.size(); ++k) worst = std::max(worst, ew::test::relativeDiff(a[k], b[k]));
    return worst;
}

/// x [1,2,3,3] -> Conv (1x1, 2 -> 2 channels) -> BatchNormalization -> n, then `tail` (lines
/// reading n and writing y).
std::string convBnModel(const char* tail) {
    return std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x) => (float[1,2,3,3] y)
          <float[2,2,1,1] w = {1,-2,0.5,3}, float[2] s = {2,0.5}, float[2] bb = {0.1,0.2},
           float[2] mu = {0.3,-0.1}, float[2] var = {1,4}> {
            c = Conv(x, w)
            n = BatchNormalization(c, s, bb, mu, var))") +
           tail + "\n        }";
}

int countOf(const std::vector<std::string>& ops, const std::string& op) {
    return static_cast<int>(std::count(ops.begin(), ops.end(), op));
}

} // namespace

void TestPassRuntime::convActivation() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x) => (float[1,2,3,3] y) <float[2,2,1,1] w = {1,-2,0.5,3}, float[2] b = {0.1,-0.2}> {
            c = Conv <pads = [0,0,0,0]> (x, w, b)
            y = LeakyRelu <alpha = 0.2> (c)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-conv-activation", R"(
        input  %x : float32[1,2,3,3]
        init   %w : float32[2,2,1,1] = [1,-2,0.5,3]
        init   %b : float32[2] = [0.1,-0.2]
        %y = ai.edgewise.FusedConv(%x, %w, %b, _) {pads=[0,0,0,0], activation="LeakyRelu", activation_params=[0.200000003]} : float32[1,2,3,3]
        output %y : float32[1,2,3,3]
    )");
}

void TestPassRuntime::convBnResidualClip() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x, float[1,2,3,3] r) => (float[1,2,3,3] y)
          <float[2,2,1,1] w = {1,-2,0.5,3}, float[2] s = {2,0.5}, float[2] bb = {0.1,0.2},
           float[2] mu = {0.3,-0.1}, float[2] var = {1,4}, float lo = {0}, float hi = {6}> {
            c = Conv(x, w)
            n = BatchNormalization <epsilon = 0.001> (c, s, bb, mu, var)
            a = Add(r, n)
            y = Clip(a, lo, hi)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-conv-activation", R"(
        input  %x : float32[1,2,3,3]
        input  %r : float32[1,2,3,3]
        init   %w : float32[2,2,1,1] = [1,-2,0.5,3]
        init   %s : float32[2] = [2,0.5]
        init   %bb : float32[2] = [0.1,0.2]
        init   %mu : float32[2] = [0.3,-0.1]
        init   %var : float32[2] = [1,4]
        init   %lo : float32[] = [0]
        init   %hi : float32[] = [6]
        init   %w_bn : float32[2,2,1,1] = [1.999001,-3.998002,0.1249844,0.7499062]
        init   %n_bias : float32[2] = [-0.4997002,0.2249969]
        %y = ai.edgewise.FusedConv(%x, %w_bn, %n_bias, %r) {activation="Clip", activation_params=[0,6]} : float32[1,2,3,3]
        output %y : float32[1,2,3,3]
    )");
}

void TestPassRuntime::convNoMatch() {
    // The Conv's output is read twice (the activation's input has another consumer).
    auto twice = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x) => (float[1,2,3,3] y, float[1,2,3,3] z) <float[2,2,1,1] w = {1,-2,0.5,3}> {
            c = Conv(x, w)
            y = Relu(c)
            z = Sigmoid(c)
        })");
    QVERIFY(twice);
    EW_CHECK_NO_MATCH(twice, "fuse-conv-activation");
    // Clip bounds that are not constants.
    auto bounds = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x, float hi) => (float[1,2,3,3] y) <float[2,2,1,1] w = {1,-2,0.5,3}, float lo = {0}> {
            c = Conv(x, w)
            y = Clip(c, lo, hi)
        })");
    QVERIFY(bounds);
    EW_CHECK_NO_MATCH(bounds, "fuse-conv-activation");
    // Weights computed at run time; the Conv output is a graph output.
    auto weights = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x, float[2,2,1,1] w) => (float[1,2,3,3] y) {
            c = Conv(x, w)
            y = Relu(c)
        })");
    QVERIFY(weights);
    EW_CHECK_NO_MATCH(weights, "fuse-conv-activation");
    auto output = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x) => (float[1,2,3,3] c, float[1,2,3,3] y) <float[2,2,1,1] w = {1,-2,0.5,3}> {
            c = Conv(x, w)
            y = Relu(c)
        })");
    QVERIFY(output);
    EW_CHECK_NO_MATCH(output, "fuse-conv-activation");
}

void TestPassRuntime::gemmActivation() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,4] x) => (float[3,2] y) <float[2,4] w = {1,2,3,4,-1,-2,-3,-4}, float[2] c = {0.5,-0.5}> {
            t = Gemm <transB = 1, alpha = 0.5> (x, w, c)
            y = Relu(t)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-gemm-activation", R"(
        input  %x : float32[3,4]
        init   %w : float32[2,4] = [1,2,3,4,-1,-2,-3,-4]
        init   %c : float32[2] = [0.5,-0.5]
        %y = ai.edgewise.FusedGemm(%x, %w, %c) {transB=1, alpha=0.5, activation="Relu"} : float32[3,2]
        output %y : float32[3,2]
    )");
}

void TestPassRuntime::matmulBiasActivation() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[5,2] x) => (float[5,3] y) <float[2,3] w = {1,2,3,-1,-2,-3}, float[1,3] b = {0.1,0.2,0.3}> {
            t = MatMul(x, w)
            u = Add(b, t)
            y = HardSigmoid <alpha = 0.3> (u)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-gemm-activation", R"(
        input  %x : float32[5,2]
        init   %w : float32[2,3] = [1,2,3,-1,-2,-3]
        init   %b : float32[1,3] = [0.1,0.2,0.3]
        %y = ai.edgewise.FusedGemm(%x, %w, %b) {activation="HardSigmoid", activation_params=[0.300000012,0.5]} : float32[5,3]
        output %y : float32[5,3]
    )");
}

void TestPassRuntime::gemmSilu() {
    // MatMul without bias, SiLU as the Sigmoid/Mul pair.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[5,2] x) => (float[5,3] y) <float[2,3] w = {1,2,3,-1,-2,-3}> {
            t = MatMul(x, w)
            s = Sigmoid(t)
            y = Mul(s, t)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-gemm-activation", R"(
        input  %x : float32[5,2]
        init   %w : float32[2,3] = [1,2,3,-1,-2,-3]
        %y = ai.edgewise.FusedGemm(%x, %w) {activation="Silu"} : float32[5,3]
        output %y : float32[5,3]
    )");
}

void TestPassRuntime::gemmNoMatch() {
    // No activation: nothing to gain.
    auto plain = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,4] x) => (float[3,2] y) <float[2,4] w = {1,2,3,4,-1,-2,-3,-4}> {
            y = Gemm <transB = 1> (x, w)
        })");
    QVERIFY(plain);
    EW_CHECK_NO_MATCH(plain, "fuse-gemm-activation");
    // The product is read by the activation and by another node.
    auto twice = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,4] x) => (float[3,2] y, float[3,2] z) <float[2,4] w = {1,2,3,4,-1,-2,-3,-4}> {
            t = Gemm <transB = 1> (x, w)
            y = Relu(t)
            z = Neg(t)
        })");
    QVERIFY(twice);
    EW_CHECK_NO_MATCH(twice, "fuse-gemm-activation");
    // Clip with a bound computed at run time.
    auto bounds = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,4] x, float lo) => (float[3,2] y) <float[2,4] w = {1,2,3,4,-1,-2,-3,-4}> {
            t = Gemm <transB = 1> (x, w)
            y = Clip(t, lo)
        })");
    QVERIFY(bounds);
    EW_CHECK_NO_MATCH(bounds, "fuse-gemm-activation");
    // MatMul over a batch (A of rank 3) and MatMul with computed weights.
    auto batched = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,5,2] x) => (float[2,5,3] y) <float[2,3] w = {1,2,3,-1,-2,-3}> {
            t = MatMul(x, w)
            y = Relu(t)
        })");
    QVERIFY(batched);
    EW_CHECK_NO_MATCH(batched, "fuse-gemm-activation");
    auto computed = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[5,2] x, float[2,3] w) => (float[5,3] y) {
            t = MatMul(x, w)
            y = Relu(t)
        })");
    QVERIFY(computed);
    EW_CHECK_NO_MATCH(computed, "fuse-gemm-activation");
}

void TestPassRuntime::siluStandalone() {
    // x is a graph input with another reader: the pair becomes one Silu node, x stays.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y, float[2,9] z) {
            s = Sigmoid(x)
            y = Mul(x, s)
            z = Relu(x)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-silu", R"(
        input  %x : float32[2,9]
        %z = Relu(%x) : float32[2,9]
        %y = ai.edgewise.Silu(%x) : float32[2,9]
        output %y : float32[2,9]
        output %z : float32[2,9]
    )");
}

void TestPassRuntime::siluIntoConv() {
    auto m = parseModel(convBnModel(R"(
            g1 = Sigmoid(n)
            y = Mul(g1, n))"));
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-silu", R"(
        input  %x : float32[1,2,3,3]
        init   %w : float32[2,2,1,1] = [1,-2,0.5,3]
        init   %s : float32[2] = [2,0.5]
        init   %bb : float32[2] = [0.1,0.2]
        init   %mu : float32[2] = [0.3,-0.1]
        init   %var : float32[2] = [1,4]
        init   %w_bn : float32[2,2,1,1] = [1.99999,-3.99998,0.1249998,0.749999]
        init   %n_bias : float32[2] = [-0.499997,0.225]
        %y = ai.edgewise.FusedConv(%x, %w_bn, %n_bias, _) {activation="Silu"} : float32[1,2,3,3]
        output %y : float32[1,2,3,3]
    )");
}

void TestPassRuntime::siluIntoFusedConv() {
    // A model that already went through the Conv fusion: the SiLU joins the FusedConv's epilogue.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13, "ai.edgewise" : 1]>
        g (float[1,2,3,3] x, float[1,2,3,3] r) => (float[1,2,3,3] y) <float[2,2,1,1] w = {1,-2,0.5,3}, float[2] b = {0.1,-0.2}> {
            c = ai.edgewise.FusedConv(x, w, b, r)
            g1 = Sigmoid(c)
            y = Mul(c, g1)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-silu", R"(
        input  %x : float32[1,2,3,3]
        input  %r : float32[1,2,3,3]
        init   %w : float32[2,2,1,1] = [1,-2,0.5,3]
        init   %b : float32[2] = [0.1,-0.2]
        %y = ai.edgewise.FusedConv(%x, %w, %b, %r) {activation="Silu"} : float32[1,2,3,3]
        output %y : float32[1,2,3,3]
    )");
}

void TestPassRuntime::siluNoMatch() {
    // The Sigmoid's output is read elsewhere too.
    auto shared = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y, float[2,9] z) {
            s = Sigmoid(x)
            y = Mul(x, s)
            z = Relu(s)
        })");
    QVERIFY(shared);
    EW_CHECK_NO_MATCH(shared, "fuse-silu");
    // Mul(x, Sigmoid(z)) with z != x; Sigmoid's output as a graph output.
    auto other = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x, float[2,9] z) => (float[2,9] y) {
            s = Sigmoid(z)
            y = Mul(x, s)
        })");
    QVERIFY(other);
    EW_CHECK_NO_MATCH(other, "fuse-silu");
    auto output = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y, float[2,9] s) {
            s = Sigmoid(x)
            y = Mul(x, s)
        })");
    QVERIFY(output);
    EW_CHECK_NO_MATCH(output, "fuse-silu");
    // Sigmoid(x) * Sigmoid(x) is not SiLU.
    auto square = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y) {
            s = Sigmoid(x)
            y = Mul(s, s)
        })");
    QVERIFY(square);
    EW_CHECK_NO_MATCH(square, "fuse-silu");
}

void TestPassRuntime::hardSwishIntoConv() {
    // x * Clip(x + 3, 0, 6) / 6 after a Conv (opset 13: Clip's bounds are inputs).
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x) => (float[1,2,3,3] y)
          <float[2,2,1,1] w = {1,-2,0.5,3}, float[2] b = {0.1,-0.2}, float three = {3}, float zero = {0},
           float six = {6}> {
            c = Conv(x, w, b)
            a = Add(three, c)
            cl = Clip(a, zero, six)
            mm = Mul(c, cl)
            y = Div(mm, six)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-conv-activation", R"(
        input  %x : float32[1,2,3,3]
        init   %w : float32[2,2,1,1] = [1,-2,0.5,3]
        init   %b : float32[2] = [0.1,-0.2]
        init   %three : float32[] = [3]
        init   %zero : float32[] = [0]
        init   %six : float32[] = [6]
        %y = ai.edgewise.FusedConv(%x, %w, %b, _) {activation="HardSwish"} : float32[1,2,3,3]
        output %y : float32[1,2,3,3]
    )");
    // x * HardSigmoid(x) {1/6, 1/2} after a Conv + BatchNormalization.
    auto hs = parseModel(convBnModel(R"(
            h = HardSigmoid <alpha = 0.16666667, beta = 0.5> (n)
            y = Mul(h, n))"));
    QVERIFY(hs);
    QVERIFY(test::applyPass(*hs, "fuse-conv-activation"));
    QCOMPARE(test::countOp(*hs, "FusedConv"), 1);
    QCOMPARE(int(hs->graph->nodeCount()), 1);
    QCOMPARE(QString::fromStdString(hs->graph->nodes().front()->attrString("activation", "")), QString("HardSwish"));
}

void TestPassRuntime::hardSwishStandalone() {
    // x is a graph input with another reader: the pattern becomes one ai.edgewise.HardSwish, named
    // after its last node; x stays. Opset 9: Clip's bounds are attributes; Mul by 1/6 first.
    const char* text = R"(<ir_version: 8, opset_import: ["" : 9, "ai.edgewise" : 1]>
        g (float[2,9] x) => (float[2,9] y, float[2,9] z) <float[1] three = {3}, float[1] sixth = {0.16666667}> {
            a = Add(x, three)
            cl = Clip <min = 0.0, max = 6.0> (a)
            d = Mul(sixth, cl)
            y = Mul(x, d)
            z = Relu(x)
        })";
    auto m = parseModel(text);
    QVERIFY(m);
    ir::Graph& g = *m->graph;
    const std::string lastName = g.nodes()[3]->name;
    QCOMPARE(rt::fuseHardSwish(g), 1);
    QCOMPARE(int(g.nodeCount()), 2);
    QCOMPARE(test::countOp(*m, "HardSwish"), 1);
    const ir::Node* hs = nullptr;
    for (const auto& n : g.nodes())
        if (n->opType == "HardSwish") hs = n.get();
    QVERIFY(hs);
    QCOMPARE(QString::fromStdString(hs->domain), QString(rt::kEdgewiseDomain));
    QCOMPARE(QString::fromStdString(hs->name), QString::fromStdString(lastName));
    QCOMPARE(QString::fromStdString(hs->input(0)->name), QString("x"));
    QCOMPARE(QString::fromStdString(hs->output(0)->name), QString("y"));
    const VoidResult verified = ir::verify(*m);
    QVERIFY2(verified, verified ? "" : verified.error().toString().c_str());

    // The Session fuses the same pattern and computes what the unfused graph computes.
    auto again = parseModel(text);
    QVERIFY(again);
    std::vector<std::string> plainOps, fusedOps;
    const auto plain = runModel(*again, false, &plainOps);
    const auto fused = runModel(*again, true, &fusedOps);
    QCOMPARE(countOf(fusedOps, "HardSwish"), 1);
    QCOMPARE(int(fusedOps.size()), 2);
    const double diff = worstDiff(plain, fused);
    QVERIFY2(diff <= 1e-6, qPrintable(QString("relative diff %1").arg(diff)));
}

void TestPassRuntime::hardSwishNoMatch() {
    auto noFusion = [](const char* text, const char* why) {
        auto m = parseModel(text);
        QVERIFY2(m, why);
        const int before = int(m->graph->nodeCount());
        QVERIFY2(rt::fuseHardSwish(*m->graph) == 0, why);
        QVERIFY2(rt::fuseForRuntime(*m->graph) == 0 || int(m->graph->nodeCount()) == before, why);
        QVERIFY2(int(m->graph->nodeCount()) == before, why);
    };
    noFusion(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y, float[2,9] q) <float three = {3}, float zero = {0}, float six = {6}> {
            a = Add(x, three)
            cl = Clip(a, zero, six)
            mm = Mul(x, cl)
            y = Div(mm, six)
            q = Relu(cl)
        })", "the Clip's output has another reader");
    noFusion(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y) <float three = {3}, float zero = {0}, float five = {5}> {
            a = Add(x, three)
            cl = Clip(a, zero, five)
            mm = Mul(x, cl)
            y = Div(mm, five)
        })", "Clip to 5, not 6");
    noFusion(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y) <float[1,1,1] three = {3}, float zero = {0}, float six = {6}> {
            a = Add(x, three)
            cl = Clip(a, zero, six)
            mm = Mul(x, cl)
            y = Div(mm, six)
        })", "the constant 3 broadcasts x to rank 3");
    noFusion(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x, float[2,9] w) => (float[2,9] y) <float three = {3}, float zero = {0}, float six = {6}> {
            a = Add(x, three)
            cl = Clip(a, zero, six)
            mm = Mul(w, cl)
            y = Div(mm, six)
        })", "the Mul reads another tensor");
    noFusion(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y) {
            h = HardSigmoid(x)
            y = Mul(x, h)
        })", "HardSigmoid's default alpha 0.2 is not 1/6");
    noFusion(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,9] x) => (float[2,9] y) <float three = {3}, float zero = {0}, float six = {6}> {
            a = Add(x, three)
            cl = Clip(a, zero, six)
            mm = Mul(x, cl)
            y = Div(six, mm)
        })", "6 / (x * clip), not (x * clip) / 6");
}

void TestPassRuntime::hardSwishKernelsMatchPortable() {
    std::vector<float> x;
    for (int i = 0; i < 1000; ++i) x.push_back(-9.f + 0.018f * float(i));
    x.insert(x.end(), {0.f, -0.f, -3.f, 3.f, 1e-30f, -1e-30f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN, -NAN});
    auto same = [](float a, float b) { return std::isnan(a) ? std::isnan(b) : std::memcmp(&a, &b, sizeof a) == 0; };
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(8), int64_t(15), int64_t(17), int64_t(x.size())}) {
        std::vector<float> vs(x.size(), 12345.f), ps(x.size(), 12345.f), vg(x.size(), 12345.f), pg(x.size(), 12345.f);
        rt::cpu::hardSwish(x.data(), vs.data(), n);
        rt::cpu::hardSigmoid(x.data(), vg.data(), n, 0.2f, 0.5f);
        rt::cpu::vectorActivationsForcePortable(true);
        rt::cpu::hardSwish(x.data(), ps.data(), n);
        rt::cpu::hardSigmoid(x.data(), pg.data(), n, 0.2f, 0.5f);
        rt::cpu::vectorActivationsForcePortable(false);
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (int64_t(i) >= n) {
                QCOMPARE(vs[i], 12345.f); // nothing written past n
                QCOMPARE(vg[i], 12345.f);
                continue;
            }
            // HardSwish(x) = x * min(1, max(0, x / 6 + 1/2)), bit for bit on both paths.
            const float v = x[i];
            const float ref = v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f));
            QVERIFY2(same(ps[i], ref), qPrintable(QString("portable hardSwish(%1) = %2, expected %3").arg(v).arg(ps[i]).arg(ref)));
            QVERIFY2(same(vs[i], ref), qPrintable(QString("hardSwish(%1) = %2, expected %3").arg(v).arg(vs[i]).arg(ref)));
            QVERIFY2(same(vg[i], pg[i]), qPrintable(QString("hardSigmoid(%1) = %2 vs %3").arg(v).arg(vg[i]).arg(pg[i])));
            QVERIFY(!std::isnan(vg[i])); // NaN -> 0, as std::max(0.f, NaN)
        }
    }
    // In place.
    std::vector<float> a = x, b(x.size());
    rt::cpu::hardSwish(a.data(), a.data(), int64_t(a.size()));
    rt::cpu::hardSwish(x.data(), b.data(), int64_t(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) QVERIFY(same(a[i], b[i]));
}

void TestPassRuntime::nestedGraphsFused() {
    // An If whose branches hold Conv + Relu and a written-out HardSwish on the outer input, reading
    // the outer weights: the Session fuses inside the branches too, and computes the same values.
    const char* text = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[1,2,4,4] x) => (float[1,2,4,4] y)
          <float[2,2,3,3] w = {1,-2,0.5,3,0.1,0.2,-0.3,0.4,0.5,1,-2,0.5,3,0.1,0.2,-0.3,0.4,0.5,
                               0.3,-0.2,0.1,0.9,-0.7,0.2,0.6,-0.5,0.4,0.3,-0.2,0.1,0.9,-0.7,0.2,0.6,-0.5,0.4},
           float[2] b = {0.1,-0.2}, float three = {3}, float zero = {0}, float six = {6}> {
            y = If(c) <
                then_branch = t () => (float[1,2,4,4] ty) {
                    tc = Conv <pads = [1,1,1,1]> (x, w, b)
                    ty = Relu(tc)
                },
                else_branch = e () => (float[1,2,4,4] ey) {
                    ec = Conv <pads = [1,1,1,1]> (x, w)
                    ea = Add(ec, three)
                    ek = Clip(ea, zero, six)
                    em = Mul(ec, ek)
                    ey = Div(em, six)
                }
            >
        })";
    auto m = parseModel(text);
    QVERIFY(m);
    QVERIFY(rt::hasRuntimeFusionCandidates(*m->graph));
    auto copy = m->graph->clone();
    QCOMPARE(rt::fuseForRuntime(*copy), 2);
    const std::vector<ir::Graph*> branches = copy->nodes().front()->subgraphs();
    QCOMPARE(int(branches.size()), 2);
    for (const ir::Graph* b : branches) {
        QCOMPARE(int(b->nodeCount()), 1);
        QCOMPARE(QString::fromStdString(b->nodes().front()->opType), QString("FusedConv"));
    }
    QCOMPARE(QString::fromStdString(branches[1]->nodes().front()->attrString("activation", "")), QString("HardSwish"));
    // Both branches through Sessions, fused against unfused.
    for (bool cond : {true, false}) {
        rt::Session::NamedTensors in;
        in.emplace_back("c", rt::Tensor::fromVector(rt::DataType::Bool, {}, std::vector<uint8_t>{uint8_t(cond)}));
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-4.f, 4.f);
        std::vector<float> xv(32);
        for (float& v : xv) v = u(rng);
        in.emplace_back("x", rt::Tensor::fromVector(rt::DataType::Float, {1, 2, 4, 4}, xv));
        std::vector<std::vector<float>> outs;
        for (bool fuse : {false, true}) {
            rt::SessionOptions o;
            o.fuse = fuse;
            o.threads = 1;
            auto s = rt::Session::create(*m, o);
            QVERIFY2(s, s ? "" : s.error().toString().c_str());
            auto r = (*s)->run(in);
            QVERIFY2(r, r ? "" : r.error().toString().c_str());
            const float* p = (*r)[0].data<float>();
            outs.emplace_back(p, p + 32);
        }
        for (int i = 0; i < 32; ++i)
            QVERIFY2(std::abs(outs[0][i] - outs[1][i]) <= 1e-5f * std::max(1.f, std::abs(outs[0][i])),
                     qPrintable(QString("cond %1, element %2: %3 vs %4").arg(cond).arg(i).arg(outs[0][i]).arg(outs[1][i])));
    }
}

void TestPassRuntime::changesRecorded() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,4] x) => (float[3,2] y) <float[2,4] w = {1,2,3,4,-1,-2,-3,-4}> {
            t = Gemm <transB = 1> (x, w)
            y = Tanh(t)
        })");
    QVERIFY(m);
    m->graph->nodes()[0]->name = "fc";
    m->graph->nodes()[1]->name = "act";
    opt::PassContext ctx(*m);
    QVERIFY(ew::test::applyPass(*m, "fuse-gemm-activation", &ctx));
    const auto& c = ctx.changes();
    QCOMPARE(c.size(), std::size_t(2));
    QCOMPARE(c[0].kind, opt::NodeChange::Kind::Fused);
    QCOMPARE(c[0].node, std::string("act"));
    QCOMPARE(c[0].op, std::string("Tanh"));
    QCOMPARE(c[0].into, std::string("fc"));
    QCOMPARE(c[1].kind, opt::NodeChange::Kind::Rewritten);
    QCOMPARE(c[1].node, std::string("fc"));
    QCOMPARE(c[1].op, std::string("FusedGemm"));
    // The model now imports the runtime's domain.
    QCOMPARE(m->opsetFor(rt::kEdgewiseDomain), int64_t(1));
}

void TestPassRuntime::fusedGemmMatchesGemm_data() {
    QTest::addColumn<QString>("act");    // the activation node(s), reading t, writing y
    QTest::addColumn<int>("M");
    QTest::addColumn<QString>("gemmAttrs");
    QTest::addColumn<QString>("cDims"); // "" = no C
    const char* acts[] = {"y = Relu(t)",
                          "y = Clip(t, lo, hi)",
                          "y = LeakyRelu <alpha = 0.1> (t)",
                          "y = Sigmoid(t)",
                          "y = HardSigmoid <alpha = 0.25, beta = 0.4> (t)",
                          "y = HardSwish(t)",
                          "y = Tanh(t)",
                          "s = Sigmoid(t)\n y = Mul(t, s)"};
    const char* names[] = {"relu", "clip", "leaky", "sigmoid", "hardsigmoid", "hardswish", "tanh", "silu"};
    for (int a = 0; a < 8; ++a) {
        QTest::addRow("%s-rows2-bias", names[a]) << acts[a] << 2 << "transB = 1" << "37";
        QTest::addRow("%s-rows19-full-C", names[a]) << acts[a] << 19 << "transB = 1" << "19,37";
        QTest::addRow("%s-rows19-transA-beta", names[a]) << acts[a] << 19 << "transA = 1, transB = 1, beta = 0.5" << "1,37";
        QTest::addRow("%s-rows7-noC-alpha", names[a]) << acts[a] << 7 << "alpha = 0.75, transB = 1" << "";
    }
}

void TestPassRuntime::fusedGemmMatchesGemm() {
    QFETCH(QString, act);
    QFETCH(int, M);
    QFETCH(QString, gemmAttrs);
    QFETCH(QString, cDims);
    const int K = 29, N = 37;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    auto values = [&](int n) {
        QString s;
        for (int i = 0; i < n; ++i) s += (i ? "," : "") + QString::number(u(rng), 'g', 9);
        return s;
    };
    const bool transA = gemmAttrs.contains("transA");
    const QString aDims = transA ? QString("%1,%2").arg(K).arg(M) : QString("%1,%2").arg(M).arg(K);
    int cCount = 1;
    for (const QString& d : cDims.split(',', Qt::SkipEmptyParts)) cCount *= d.toInt();
    QString inits = QString("float[%1,%2] w = {%3}, float lo = {-0.2}, float hi = {0.3}").arg(N).arg(K).arg(values(N * K));
    if (!cDims.isEmpty()) inits += QString(", float[%1] c = {%2}").arg(cDims, values(cCount));
    const QString text = QString(R"(<ir_version: 8, opset_import: ["" : 14]>
        g (float[%1] x) => (float[%2,%3] y) <%4> {
            t = Gemm <%5> (x, w%6)
            %7
        })")
                             .arg(aDims)
                             .arg(M)
                             .arg(N)
                             .arg(inits, gemmAttrs, cDims.isEmpty() ? "" : ", c", act);
    auto m = parseModel(text.toStdString());
    QVERIFY(m);
    auto fused = m->clone();
    QVERIFY(ew::test::applyPass(*fused, "fuse-gemm-activation"));
    QCOMPARE(ew::test::countOp(*fused, "FusedGemm"), 1);
    QCOMPARE(fused->graph->nodeCount(), std::size_t(1));
    // Packed SGEMM path against Gemm + the activation kernel.
    const double diff = ew::test::outputsDiff(*m, *fused);
    QVERIFY2(diff >= 0 && diff <= 1e-5, qPrintable(QString("relative diff %1").arg(diff)));
    // The kernel's reference loop too.
    rt::cpu::setPreferReferenceKernels(true);
    const double refDiff = ew::test::outputsDiff(*m, *fused);
    rt::cpu::setPreferReferenceKernels(false);
    QVERIFY2(refDiff >= 0 && refDiff <= 1e-5, qPrintable(QString("reference relative diff %1").arg(refDiff)));
}

void TestPassRuntime::siluKernelMatchesReference() {
    // Every tail length, values across exp's range (saturation at both ends) and special values.
    std::vector<float> x;
    for (int i = 0; i < 1000; ++i) x.push_back(-120.f + 0.24f * float(i));
    x.insert(x.end(), {0.f, -0.f, 1e-30f, -1e-30f, 88.f, -88.f, 89.f, -89.f, INFINITY, NAN});
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(8), int64_t(15), int64_t(17), int64_t(x.size())}) {
        std::vector<float> y(x.size(), 12345.f), ref(x.size(), 12345.f);
        rt::cpu::silu(x.data(), y.data(), n);
        for (int64_t i = 0; i < n; ++i) {
            const double v = x[i];
            ref[i] = static_cast<float>(v / (1.0 + std::exp(-v)));
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (int64_t(i) >= n) {
                QCOMPARE(y[i], 12345.f); // nothing written past n
                continue;
            }
            if (y[i] == ref[i]) continue; // also +-inf
            if (std::isnan(ref[i])) {
                QVERIFY2(std::isnan(y[i]), qPrintable(QString("silu(%1) = %2").arg(x[i]).arg(y[i])));
                continue;
            }
            const double err = std::abs(double(y[i]) - ref[i]);
            QVERIFY2(err <= 1e-6 * std::max(1.0, std::abs(double(ref[i]))) || (std::abs(ref[i]) < 1e-30 && std::abs(y[i]) < 1e-30),
                     qPrintable(QString("silu(%1) = %2, expected %3").arg(x[i]).arg(y[i]).arg(ref[i])));
        }
    }
    // In place, and the portable loop.
    std::vector<float> a = x, b(x.size());
    rt::cpu::silu(a.data(), a.data(), int64_t(a.size()));
    rt::cpu::vectorActivationsForcePortable(true);
    rt::cpu::silu(x.data(), b.data(), int64_t(x.size()));
    rt::cpu::vectorActivationsForcePortable(false);
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (std::isnan(b[i])) {
            QVERIFY(std::isnan(a[i]));
            continue;
        }
        QVERIFY2(a[i] == b[i] || std::abs(double(a[i]) - b[i]) <= 1e-6 * std::max(1.0, std::abs(double(b[i]))),
                 qPrintable(QString("x=%1: %2 vs %3").arg(x[i]).arg(a[i]).arg(b[i])));
    }
}

void TestPassRuntime::sessionFusionKeepsOutputs_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("fusedOp");
    QTest::addColumn<int>("fusedCount");
    QTest::addColumn<int>("nodesAfter");
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    auto values = [&](int n) {
        QString s;
        for (int i = 0; i < n; ++i) s += (i ? "," : "") + QString::number(u(rng), 'g', 9);
        return s;
    };
    // A small MLP: MatMul + bias + Relu, Gemm + Relu, Gemm + Sigmoid.
    QTest::addRow("mlp") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[4,16] x) => (float[4,8] y) <float[16,32] w1 = {%1}, float[32] b1 = {%2}, float[24,32] w2 = {%3},
                                              float[24] b2 = {%4}, float[24,8] w3 = {%5}> {
            h1 = MatMul(x, w1)
            h2 = Add(h1, b1)
            a1 = Relu(h2)
            h3 = Gemm <transB = 1> (a1, w2, b2)
            a2 = Relu(h3)
            h4 = Gemm(a2, w3)
            y = Sigmoid(h4)
        })").arg(values(16 * 32), values(32), values(24 * 32), values(24), values(24 * 8))
                         << "FusedGemm" << 3 << 3;
    // A Conv + BN + SiLU net (as in YOLO / EfficientNet) with a standalone SiLU on the way out.
    QTest::addRow("conv-silu") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,3,10,10] x) => (float[1,6,10,10] y) <float[6,3,3,3] w = {%1}, float[6] s = {%2}, float[6] bb = {%3},
                                                        float[6] mu = {%4}, float[6] var = {%5}, float[6,6,1,1] w2 = {%6}> {
            c = Conv <pads = [1,1,1,1]> (x, w)
            n = BatchNormalization(c, s, bb, mu, var)
            g1 = Sigmoid(n)
            a = Mul(n, g1)
            c2 = Conv(a, w2)
            g2 = Sigmoid(c2)
            m2 = Mul(g2, c2)
            t = Add(m2, a)
            g3 = Sigmoid(t)
            y = Mul(t, g3)
        })").arg(values(6 * 27), values(6), values(6), values(6), "0.5,1,1.5,2,0.7,0.9", values(36))
                               << "FusedConv" << 2 << 4; // the Add after the second SiLU stays
    // MobileNetV3-style HardSwish written out at opset 9 (Clip bounds as attributes), as
    // paddle2onnx writes it, in its three forms, and a HardSigmoid gate.
    QTest::addRow("conv-hardswish-opset9") << QString(R"(<ir_version: 8, opset_import: ["" : 9]>
        g (float[1,3,10,10] x) => (float[1,6,10,10] y) <float[6,3,3,3] w = {%1}, float[6] s = {%2}, float[6] bb = {%3},
                                                        float[6] mu = {%4}, float[6] var = {%5}, float[6,6,1,1] w2 = {%6},
                                                        float[6,6,3,3] w3 = {%7}, float[1] three = {3}, float[1] six = {6},
                                                        float[1] sixth = {0.16666667}> {
            c = Conv <pads = [1,1,1,1]> (x, w)
            n = BatchNormalization(c, s, bb, mu, var)
            a1 = Add(n, three)
            k1 = Clip <min = 0.0, max = 6.0> (a1)
            m1 = Mul(n, k1)
            h1 = Div(m1, six)
            c2 = Conv(h1, w2)
            a2 = Add(three, c2)
            k2 = Clip <min = 0.0, max = 6.0> (a2)
            d2 = Mul(k2, sixth)
            h2 = Mul(d2, c2)
            c3 = Conv <pads = [1,1,1,1]> (h2, w3)
            g3 = HardSigmoid <alpha = 0.16666667, beta = 0.5> (c3)
            y = Mul(c3, g3)
        })").arg(values(6 * 27), values(6), values(6), values(6), "0.5,1,1.5,2,0.7,0.9", values(36))
                                           .arg(values(6 * 54))
                                           << "FusedConv" << 3 << 3;
    // 1-D (audio encoders: silero-vad) and 3-D convolutions take the same chains.
    QTest::addRow("conv1d-bn-relu") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3,20] x) => (float[2,4,10] y) <float[4,3,3] w = {%1}, float[4] b = {%2}, float[4] s = {%3},
                                                  float[4] bb = {%4}, float[4] mu = {%5}, float[4] var = {0.5,1,1.5,2},
                                                  float[4,4,3] w2 = {%6}> {
            c = Conv <pads = [1,1], strides = [2]> (x, w, b)
            n = BatchNormalization(c, s, bb, mu, var)
            r = Relu(n)
            c2 = Conv <pads = [1,1]> (r, w2)
            y = Relu(c2)
        })").arg(values(36), values(4), values(4), values(4), values(4), values(48))
                                    << "FusedConv" << 2 << 2;
    QTest::addRow("conv3d-residual-clip") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,5,6] x) => (float[1,2,4,5,6] y) <float[2,2,3,3,3] w = {%1}, float zero = {0}, float six = {6}> {
            c = Conv <pads = [1,1,1,1,1,1]> (x, w)
            a = Add(c, x)
            y = Clip(a, zero, six)
        })").arg(values(108))
                                          << "FusedConv" << 1 << 1;
}

void TestPassRuntime::sessionFusionKeepsOutputs() {
    QFETCH(QString, model);
    QFETCH(QString, fusedOp);
    QFETCH(int, fusedCount);
    QFETCH(int, nodesAfter);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    std::vector<std::string> plainOps, fusedOps;
    const auto plain = runModel(*m, false, &plainOps);
    const auto fused = runModel(*m, true, &fusedOps);
    QVERIFY(!plain.empty());
    QCOMPARE(countOf(plainOps, fusedOp.toStdString()), 0);
    QCOMPARE(countOf(fusedOps, fusedOp.toStdString()), fusedCount);
    QCOMPARE(int(fusedOps.size()), nodesAfter);
    const double diff = worstDiff(plain, fused);
    QVERIFY2(diff <= 1e-5, qPrintable(QString("relative diff %1").arg(diff)));
    // The caller's model is untouched.
    QCOMPARE(ew::test::countOp(*m, fusedOp.toStdString()), 0);
    // The optimizer's runtime passes give the same graph shape as the Session's own fusion.
    auto optimized = m->clone();
    opt::OptimizeOptions o;
    o.target = opt::Target::Edgewise;
    o.verifyEachPass = true;
    QVERIFY(opt::optimize(*optimized, o));
    QCOMPARE(int(optimized->graph->nodeCount()), nodesAfter);
    QCOMPARE(ew::test::countOp(*optimized, fusedOp.toStdString()), fusedCount);
}

void TestPassRuntime::edgewiseModelRoundTrips() {
    // Every runtime op in one model: FusedConv (BN, residual, SiLU), FusedGemm, Silu.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x, float[3,6] v) => (float[1,2,4,4] y, float[3,5] z, float[3,6] q)
          <float[2,2,3,3] w = {1,-2,0.5,3,0.1,0.2,-0.3,0.4,0.5,1,-2,0.5,3,0.1,0.2,-0.3,0.4,0.5,
                               0.3,-0.2,0.1,0.9,-0.7,0.2,0.6,-0.5,0.4,0.3,-0.2,0.1,0.9,-0.7,0.2,0.6,-0.5,0.4},
           float[2] s = {2,0.5}, float[2] bb = {0.1,0.2}, float[2] mu = {0.3,-0.1}, float[2] var = {1,4},
           float[6,5] wg = {1,2,3,4,5,6,7,8,9,10,-1,-2,-3,-4,-5,-6,-7,-8,-9,-10,0.5,0.4,0.3,0.2,0.1,0,-0.1,-0.2,-0.3,-0.4},
           float[5] bg = {0.1,0.2,0.3,0.4,0.5}> {
            c = Conv <pads = [1,1,1,1]> (x, w)
            n = BatchNormalization(c, s, bb, mu, var)
            a = Add(n, x)
            g1 = Sigmoid(a)
            y = Mul(a, g1)
            t = MatMul(v, wg)
            u = Add(t, bg)
            z = Relu(u)
            g2 = Sigmoid(v)
            q = Mul(g2, v)
        })");
    QVERIFY(m);
    auto optimized = m->clone();
    opt::OptimizeOptions o;
    o.target = opt::Target::Edgewise;
    o.verifyEachPass = true;
    auto report = opt::optimize(*optimized, o);
    QVERIFY2(report, report ? "" : report.error().toString().c_str());
    QCOMPARE(ew::test::countOp(*optimized, "FusedConv"), 1);
    QCOMPARE(ew::test::countOp(*optimized, "FusedGemm"), 1);
    QCOMPARE(ew::test::countOp(*optimized, "Silu"), 1);
    QCOMPARE(int(optimized->graph->nodeCount()), 3);
    auto bytes = onnxfmt::serializeOnnx(*optimized);
    QVERIFY2(bytes, bytes ? "" : bytes.error().toString().c_str());
    auto back = onnxfmt::importOnnxBytes(std::span(reinterpret_cast<const std::byte*>(bytes->data()), bytes->size()),
                                         "optimized.onnx", ".");
    QVERIFY2(back, back ? "" : back.error().toString().c_str());
    QCOMPARE(ew::test::graphText(**back), ew::test::graphText(*optimized));
    QCOMPARE((*back)->opsetFor(rt::kEdgewiseDomain), int64_t(1));
    const auto want = runModel(*m, false);
    const auto got = runModel(**back, false);
    const double diff = worstDiff(want, got);
    QVERIFY2(diff <= 1e-5, qPrintable(QString("relative diff %1").arg(diff)));
}

void TestPassRuntime::realModelEdgewiseTarget_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("fusedOp");
    QTest::addRow("mobilenet_v2_unfused") << "onnx/torchvision-arch/mobilenet_v2_unfused.onnx" << "FusedConv";
    QTest::addRow("resnet18") << "onnx/torchvision-arch/resnet18.onnx" << "FusedConv";
}

void TestPassRuntime::realModelEdgewiseTarget() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, path);
    QFETCH(QString, fusedOp);
    const QString file = ew::test::modelsDir() + "/" + path;
    if (!QFile::exists(file)) QSKIP(qPrintable("[ew-skip] " + file + " not found"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray data = f.readAll();
    auto m = onnxfmt::importOnnxBytes(std::span(reinterpret_cast<const std::byte*>(data.constData()), data.size()),
                                      ew::test::str(file), ew::test::str(QFileInfo(file).absolutePath()));
    QVERIFY(m);
    auto optimized = (*m)->clone();
    opt::OptimizeOptions o;
    o.target = opt::Target::Edgewise;
    o.verifyEachPass = true;
    QVERIFY(opt::optimize(*optimized, o));
    QVERIFY(ew::test::countOp(*optimized, fusedOp.toStdString()) > 0);
    QCOMPARE(ew::test::countOp(*optimized, "Relu"), 0);
    QCOMPARE(ew::test::countOp(*optimized, "BatchNormalization"), 0);
    // BatchNormalization folded in double changes rounding slightly.
    const double diff = worstDiff(runModel(**m, false), runModel(*optimized, false));
    QVERIFY2(diff <= 1e-4, qPrintable(QString("relative diff %1").arg(diff)));
}

void TestPassRuntime::pointwiseDepthwise() {
    // A 1x1 convolution whose 4 x 256 x 256 output (1 MB) feeds only a depthwise one.
    const char* text = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,256,256] x) => (float[1,4,128,128] y)
          <float[4,2,1,1] wp = {1,-2,0.5,3,-1,0.25,2,-0.5}, float[4] bp = {0.1,-0.2,0.3,0},
           float[4,1,3,3] wd = {1,0,-1,2,0.5,0,1,1,-1, 0,1,0,1,-4,1,0,1,0, 0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,
                                -1,-1,-1,0,0,0,1,1,1}> {
            e = Conv(x, wp, bp)
            y = Conv <group = 4, kernel_shape = [3,3], strides = [2,2], pads = [1,1,1,1]> (e, wd)
        })";
    auto m = parseModel(text);
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-pointwise-depthwise", R"(
        input  %x : float32[1,2,256,256]
        init   %wp : float32[4,2,1,1] = [1,-2,0.5,3,-1,0.25,2,-0.5]
        init   %bp : float32[4] = [0.1,-0.2,0.3,0]
        init   %wd : float32[4,1,3,3] = <36 values, hash f5a16b482f33404a>
        %y = ai.edgewise.FusedPwDwConv(%x, %wp, %bp, %wd, _) {kernel_shape=[3,3], strides=[2,2], pads=[1,1,1,1]} : float32[1,4,128,128]
        output %y : float32[1,4,128,128]
    )");
    // The whole Edgewise target: activations go into both halves first; unfused outputs agree.
    const char* withActs = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,256,256] x) => (float[1,4,256,256] y)
          <float[4,2,1,1] wp = {1,-2,0.5,3,-1,0.25,2,-0.5}, float[4] bp = {0.1,-0.2,0.3,0},
           float[4,1,3,3] wd = {1,0,-1,2,0.5,0,1,1,-1, 0,1,0,1,-4,1,0,1,0, 0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,
                                -1,-1,-1,0,0,0,1,1,1}, float lo = {0}, float hi = {6}> {
            e = Conv(x, wp, bp)
            r = Relu(e)
            d = Conv <group = 4, kernel_shape = [3,3], pads = [1,1,1,1]> (r, wd)
            y = Clip(d, lo, hi)
        })";
    auto m2 = parseModel(withActs);
    QVERIFY(m2);
    auto optimized = (*m2).clone();
    opt::OptimizeOptions o;
    o.target = opt::Target::Edgewise;
    o.verifyEachPass = true;
    QVERIFY(opt::optimize(*optimized, o));
    QCOMPARE(ew::test::countOp(*optimized, "FusedPwDwConv"), 1);
    QCOMPARE(optimized->graph->nodeCount(), std::size_t(1));
    const ir::Node& n = *optimized->graph->nodes().front();
    QCOMPARE(n.attrString("activation", ""), std::string("Relu"));
    QCOMPARE(n.attrString("dw_activation", ""), std::string("Clip"));
    const double diff = worstDiff(runModel(*m2, false), runModel(*optimized, false));
    QVERIFY2(diff == 0, qPrintable(QString("relative diff %1").arg(diff)));
}

void TestPassRuntime::pointwiseDepthwiseNoMatch() {
    // x [1, 2, S, S] -> Conv 1x1 (4 channels, pointwise attributes) -> depthwise Conv 1x1 -> y, with
    // the expanded map e also an output or not.
    auto pair = [](int size, const char* pwAttrs, bool eIsOutput) {
        const int out = std::strlen(pwAttrs) ? size / 2 : size;
        const QString text = QString(R"(<ir_version: 8, opset_import: ["" : 13]>
            g (float[1,2,%1,%1] x) => (float[1,4,%2,%2] y%3)
              <float[4,2,1,1] wp = {1,-2,0.5,3,-1,0.25,2,-0.5}, float[4,1,1,1] wd = {1,2,3,4}> {
                e = Conv %4 (x, wp)
                y = Conv <group = 4> (e, wd)
            })")
                                 .arg(size)
                                 .arg(out)
                                 .arg(eIsOutput ? QString(", float[1,4,%1,%1] e").arg(out) : QString())
                                 .arg(pwAttrs);
        return parseModel(text.toStdString().c_str());
    };
    auto small = pair(64, "", false); // 64 KB expanded: below rt::kPwDwMinBytes
    QVERIFY(small);
    EW_CHECK_NO_MATCH(small, "fuse-pointwise-depthwise");
    auto shared = pair(256, "", true); // the expanded map has a second reader (a graph output)
    QVERIFY(shared);
    EW_CHECK_NO_MATCH(shared, "fuse-pointwise-depthwise");
    auto strided = pair(512, "<strides = [2,2]>", false); // not a stride-1 pointwise convolution
    QVERIFY(strided);
    EW_CHECK_NO_MATCH(strided, "fuse-pointwise-depthwise");
    auto fused = pair(256, "", false); // the same pair with nothing in the way is taken
    QVERIFY(fused);
    auto after = fused->clone();
    QVERIFY(ew::test::applyPass(*after, "fuse-pointwise-depthwise"));
}

QTEST_GUILESS_MAIN(TestPassRuntime)
#include "tst_pass_runtime.moc"
