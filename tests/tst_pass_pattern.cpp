// Pattern fusion and layout passes: fuse-layer-norm, fuse-gelu, fuse-hard-swish,
// cancel-transposes, sink-transposes. Golden rows, no-match rows and numeric equality.
#include "optimize_test_util.h"
#include "test_util.h"

#include "ir/onnx/onnx_import.h"

using namespace ew;
using ew::test::parseModel;

namespace {

/// Header of a test model with the default-domain opset `opset`.
std::string header(int opset) {
    const int ir = opset >= 21 ? 10 : opset >= 19 ? 9 : 8;
    return "<ir_version: " + std::to_string(ir) + ", opset_import: [\"\" : " + std::to_string(opset) + "]>\n";
}

} // namespace

class TestPassPattern : public QObject {
    Q_OBJECT
  private slots:
    void layerNormFused();
    void layerNormOpset18NoAffine();
    void layerNormReshapesGamma();
    void layerNormReciprocal();
    void layerNormReciprocalNoMatch_data();
    void layerNormReciprocalNoMatch();
    void layerNormNoMatch_data();
    void layerNormNoMatch();
    void geluErf_data();
    void geluErf();
    void geluTanh_data();
    void geluTanh();
    void geluNoMatch_data();
    void geluNoMatch();
    void hardSwish_data();
    void hardSwish();
    void hardSwishInsideIfBranch();
    void hardSwishNoMatch_data();
    void hardSwishNoMatch();
    void transposePairs();
    void transposePairIdentityKeepsOutputName();
    void reshapeChain();
    void squeezeUnsqueeze_data();
    void squeezeUnsqueeze();
    void cancelNoMatch_data();
    void cancelNoMatch();
    void sinkTransposes();
    void sinkNoMatch_data();
    void sinkNoMatch();
    void aggressivePipelineCancelsSunkTransposes();
    void realModelLayerNorms();
};

// ---------------------------------------------------------------- fuse-layer-norm

void TestPassPattern::layerNormFused() {
    auto m = parseModel(header(17) + R"(
        g (float[2,3,8] x) => (float[2,3,8] y)
          <float two = {2.0}, float eps = {1e-5},
           float[8] gamma = {1.0, 0.5, 2.0, 1.5, 0.8, 1.2, 0.9, 1.1},
           float[8] beta = {0.1, -0.1, 0.2, 0.0, 0.3, -0.2, 0.05, 0.0}> {
            mean = ReduceMean <axes = [-1]> (x)
            d = Sub(x, mean)
            sq = Pow(d, two)
            var = ReduceMean <axes = [-1]> (sq)
            ve = Add(var, eps)
            s = Sqrt(ve)
            n = Div(d, s)
            gm = Mul(gamma, n)
            y = Add(gm, beta)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-layer-norm", R"(
        input  %x : float32[2,3,8]
        init   %two : float32[] = [2]
        init   %eps : float32[] = [1e-05]
        init   %gamma : float32[8] = [1,0.5,2,1.5,0.8,1.2,0.9,1.1]
        init   %beta : float32[8] = [0.1,-0.1,0.2,0,0.3,-0.2,0.05,0]
        %y = LayerNormalization(%x, %gamma, %beta) {axis=-1, epsilon=9.99999975e-06} : float32[2,3,8]
        output %y : float32[2,3,8]
    )");
}

void TestPassPattern::layerNormOpset18NoAffine() {
    // Axes as an input (opset 18), Mul(d, d), two trailing axes, no gamma/beta: a ones scale.
    auto m = parseModel(header(18) + R"(
        g (float[2,3,4] x) => (float[2,3,4] y) <int64[2] axes = {-2, -1}, float eps = {1e-6}> {
            mean = ReduceMean(x, axes)
            d = Sub(x, mean)
            sq = Mul(d, d)
            var = ReduceMean(sq, axes)
            ve = Add(eps, var)
            s = Sqrt(ve)
            y = Div(d, s)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-layer-norm", R"(
        input  %x : float32[2,3,4]
        init   %axes : int64[2] = [-2,-1]
        init   %eps : float32[] = [1e-06]
        init   %layer_norm_scale : float32[3,4] = [1,1,1,1,1,1,1,1,1,1,1,1]
        %y = LayerNormalization(%x, %layer_norm_scale) {axis=-2, epsilon=9.99999997e-07} : float32[2,3,4]
        output %y : float32[2,3,4]
    )");
}

void TestPassPattern::layerNormReshapesGamma() {
    // gamma [1,1,4] (as some exporters keep it) becomes a [4] copy; beta stays out of it.
    auto m = parseModel(header(17) + R"(
        g (float[2,3,4] x) => (float[2,3,4] y)
          <float two = {2.0}, float eps = {1e-5}, float[1,1,4] gamma = {1.0, 2.0, 3.0, 4.0}> {
            mean = ReduceMean <axes = [2]> (x)
            d = Sub(x, mean)
            sq = Pow(d, two)
            var = ReduceMean <axes = [2]> (sq)
            ve = Add(var, eps)
            s = Sqrt(ve)
            n = Div(d, s)
            y = Mul(n, gamma)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-layer-norm", R"(
        input  %x : float32[2,3,4]
        init   %two : float32[] = [2]
        init   %eps : float32[] = [1e-05]
        init   %gamma : float32[1,1,4] = [1,2,3,4]
        init   %gamma_reshaped : float32[4] = [1,2,3,4]
        %y = LayerNormalization(%x, %gamma_reshaped) {axis=-1, epsilon=9.99999975e-06} : float32[2,3,4]
        output %y : float32[2,3,4]
    )");
}

void TestPassPattern::layerNormReciprocal() {
    // d * Reciprocal(sqrt(var + eps)) (some exporters multiply by the inverse deviation), the
    // Reciprocal on either side of the Mul.
    for (const char* norm : {"n = Mul(d, r)", "n = Mul(r, d)"}) {
        auto m = parseModel(header(17) + R"(
            g (float[2,3,4] x) => (float[2,3,4] y)
              <float two = {2.0}, float eps = {1e-5}, float[4] gamma = {1.0, 2.0, 3.0, 4.0}> {
                mean = ReduceMean <axes = [-1]> (x)
                d = Sub(x, mean)
                sq = Pow(d, two)
                var = ReduceMean <axes = [-1]> (sq)
                ve = Add(var, eps)
                s = Sqrt(ve)
                r = Reciprocal(s)
                )" + std::string(norm) + R"(
                y = Mul(n, gamma)
            })");
        QVERIFY(m);
        EW_CHECK_PASS(m, "fuse-layer-norm", R"(
            input  %x : float32[2,3,4]
            init   %two : float32[] = [2]
            init   %eps : float32[] = [1e-05]
            init   %gamma : float32[4] = [1,2,3,4]
            %y = LayerNormalization(%x, %gamma) {axis=-1, epsilon=9.99999975e-06} : float32[2,3,4]
            output %y : float32[2,3,4]
        )");
    }
}

void TestPassPattern::layerNormReciprocalNoMatch_data() {
    QTest::addColumn<QString>("norm");
    QTest::addColumn<QString>("outputs");
    QTest::newRow("reciprocal has a second consumer") << "n = Mul(d, r)" << "float[2,3,4] y, float[2,3,1] r";
    QTest::newRow("reciprocal of d itself") << "r2 = Reciprocal(d)  n = Mul(d, r2)" << "float[2,3,4] y, float[2,3,1] r";
    QTest::newRow("sqrt without reciprocal") << "n = Mul(d, s)" << "float[2,3,4] y, float[2,3,1] r";
    QTest::newRow("reciprocal times x") << "n = Mul(x, r)" << "float[2,3,4] y, float[2,3,4] d";
}

void TestPassPattern::layerNormReciprocalNoMatch() {
    QFETCH(QString, norm);
    QFETCH(QString, outputs);
    auto m = parseModel(header(17) + "g (float[2,3,4] x) => (" + outputs.toStdString() +
                        ") <float two = {2.0}, float eps = {1e-5}> {\n"
                        "mean = ReduceMean <axes = [-1]> (x)\n d = Sub(x, mean)\n sq = Pow(d, two)\n"
                        "var = ReduceMean <axes = [-1]> (sq)\n ve = Add(var, eps)\n s = Sqrt(ve)\n"
                        "r = Reciprocal(s)\n" + norm.toStdString() + "\n y = Identity(n)\n}");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-layer-norm");
}

void TestPassPattern::layerNormNoMatch_data() {
    QTest::addColumn<int>("opset");
    QTest::addColumn<QString>("meanAxes");
    QTest::addColumn<QString>("square");
    QTest::addColumn<QString>("outputs");
    QTest::addColumn<QString>("extra");
    const QString pow = "sq = Pow(d, two)";
    QTest::newRow("opset 16") << 16 << "[-1]" << pow << "float[2,3,4] y" << "";
    QTest::newRow("axes not trailing") << 17 << "[1]" << pow << "float[2,3,4] y" << "";
    QTest::newRow("axes with a gap") << 17 << "[0,2]" << pow << "float[2,3,4] y" << "";
    QTest::newRow("d has a third consumer") << 17 << "[-1]" << pow << "float[2,3,4] y, float[2,3,4] d" << "";
    QTest::newRow("mean is a graph output") << 17 << "[-1]" << pow << "float[2,3,4] y, float[2,3,1] mean" << "";
    QTest::newRow("cube, not square") << 17 << "[-1]" << "sq = Pow(d, three)" << "float[2,3,4] y" << "";
    QTest::newRow("square of another value") << 17 << "[-1]" << "sq = Mul(d, x)" << "float[2,3,4] y" << "";
    QTest::newRow("sqrt has a second consumer") << 17 << "[-1]" << pow << "float[2,3,4] y, float[2,3,1] t"
                                                << "t = Neg(s)";
}

void TestPassPattern::layerNormNoMatch() {
    QFETCH(int, opset);
    QFETCH(QString, meanAxes);
    QFETCH(QString, square);
    QFETCH(QString, outputs);
    QFETCH(QString, extra);
    // The variance ReduceMean always reduces the last axis; the mean's axes vary.
    auto m = parseModel(header(opset) + "g (float[2,3,4] x) => (" + outputs.toStdString() +
                        ") <float two = {2.0}, float three = {3.0}, float eps = {1e-5}> {\n"
                        "mean = ReduceMean <axes = " + meanAxes.toStdString() + "> (x)\n"
                        "d = Sub(x, mean)\n" + square.toStdString() + "\n"
                        "var = ReduceMean <axes = [-1]> (sq)\n"
                        "ve = Add(var, eps)\n s = Sqrt(ve)\n y = Div(d, s)\n" + extra.toStdString() + "\n}");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-layer-norm");
}

// ---------------------------------------------------------------- fuse-gelu

void TestPassPattern::geluErf_data() {
    QTest::addColumn<QString>("body");
    QTest::newRow("pytorch: div sqrt2, (x*a)*0.5") << "u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n"
                                                      "m = Mul(x, a)\n y = Mul(m, half)";
    QTest::newRow("mul 1/sqrt2, operands swapped") << "u = Mul(rsqrt2, x)\n e = Erf(u)\n a = Add(one, e)\n"
                                                      "m = Mul(a, x)\n y = Mul(half, m)";
    QTest::newRow("(x*0.5)*a") << "h = Mul(x, half)\n u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n"
                                  "y = Mul(h, a)";
    QTest::newRow("x*(a*0.5)") << "u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n h = Mul(a, half)\n"
                                  "y = Mul(x, h)";
    QTest::newRow("(x*a)/2") << "u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n m = Mul(x, a)\n"
                                "y = Div(m, two)";
}

void TestPassPattern::geluErf() {
    QFETCH(QString, body);
    auto m = parseModel(header(20) + "g (float[2,16] x) => (float[2,16] y) <float sqrt2 = {1.4142135}, "
                        "float rsqrt2 = {0.70710677}, float one = {1.0}, float half = {0.5}, float two = {2.0}> {\n" +
                        body.toStdString() + "\n}");
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(test::applyPass(*after, "fuse-gelu"));
    QCOMPARE(test::countOp(*after, "Gelu"), 1);
    QCOMPARE(int(after->graph->nodeCount()), 1);
    EW_CHECK_PASS(m, "fuse-gelu", R"(
        input  %x : float32[2,16]
        init   %sqrt2 : float32[] = [1.414214]
        init   %rsqrt2 : float32[] = [0.7071068]
        init   %one : float32[] = [1]
        init   %half : float32[] = [0.5]
        init   %two : float32[] = [2]
        %y = Gelu(%x) : float32[2,16]
        output %y : float32[2,16]
    )");
}

void TestPassPattern::geluTanh_data() {
    QTest::addColumn<QString>("cube");
    QTest::newRow("Pow(x, 3)") << "p = Pow(x, three)";
    QTest::newRow("(x*x)*x") << "xx = Mul(x, x)\n p = Mul(xx, x)";
    QTest::newRow("x*(x*x)") << "xx = Mul(x, x)\n p = Mul(x, xx)";
}

void TestPassPattern::geluTanh() {
    QFETCH(QString, cube);
    // GPT-2's gelu_new, as exported: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
    auto m = parseModel(header(20) + "g (float[2,16] x) => (float[2,16] y) <float three = {3.0}, "
                        "float c = {0.044715}, float k = {0.7978846}, float one = {1.0}, float half = {0.5}> {\n" +
                        cube.toStdString() +
                        "\n c3 = Mul(c, p)\n s = Add(x, c3)\n u = Mul(s, k)\n t = Tanh(u)\n a = Add(t, one)\n"
                        " h = Mul(half, x)\n y = Mul(h, a)\n}");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-gelu", R"(
        input  %x : float32[2,16]
        init   %three : float32[] = [3]
        init   %c : float32[] = [0.044715]
        init   %k : float32[] = [0.7978846]
        init   %one : float32[] = [1]
        init   %half : float32[] = [0.5]
        %y = Gelu(%x) {approximate="tanh"} : float32[2,16]
        output %y : float32[2,16]
    )");
}

void TestPassPattern::geluNoMatch_data() {
    QTest::addColumn<int>("opset");
    QTest::addColumn<QString>("outputs");
    QTest::addColumn<QString>("body");
    const QString tanhTail = "\n s = Add(x, c3)\n u = Mul(s, k)\n t = Tanh(u)\n a = Add(t, one)\n m = Mul(x, a)\n"
                             " y = Mul(m, half)";
    const QString erf = "u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n m = Mul(x, a)\n y = Mul(m, half)";
    QTest::newRow("opset 19") << 19 << "float[2,16] y" << erf;
    QTest::newRow("0.044 instead of 0.044715")
        << 20 << "float[2,16] y" << "p = Pow(x, three)\n c3 = Mul(wrong, p)" + tanhTail;
    QTest::newRow("x^2 instead of x^3") << 20 << "float[2,16] y" << "p = Mul(x, x)\n c3 = Mul(c, p)" + tanhTail;
    QTest::newRow("divided by 1.5, not sqrt(2)")
        << 20 << "float[2,16] y" << "u = Div(x, oneHalf)\n e = Erf(u)\n a = Add(e, one)\n m = Mul(x, a)\n y = Mul(m, half)";
    QTest::newRow("erf output has a second consumer") << 20 << "float[2,16] y, float[2,16] e" << erf;
    QTest::newRow("product is a graph output") << 20 << "float[2,16] y, float[2,16] m" << erf;
    QTest::newRow("another x outside")
        << 20 << "float[2,16] y" << "u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n m = Mul(z, a)\n y = Mul(m, half)";
    QTest::newRow("0.5 broadcasts to a higher rank")
        << 20 << "float[1,2,16] y" << "u = Div(x, sqrt2)\n e = Erf(u)\n a = Add(e, one)\n m = Mul(x, a)\n y = Mul(m, half3)";
}

void TestPassPattern::geluNoMatch() {
    QFETCH(int, opset);
    QFETCH(QString, outputs);
    QFETCH(QString, body);
    auto m = parseModel(header(opset) + "g (float[2,16] x, float[2,16] z) => (" + outputs.toStdString() +
                        ") <float sqrt2 = {1.4142135}, float oneHalf = {1.5}, float one = {1.0}, "
                        "float half = {0.5}, float[1,1,1] half3 = {0.5}, float three = {3.0}, float c = {0.044715}, "
                        "float wrong = {0.044}, float k = {0.7978846}> {\n" +
                        body.toStdString() + "\n}");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-gelu");
}

// ---------------------------------------------------------------- fuse-hard-swish

void TestPassPattern::hardSwish_data() {
    QTest::addColumn<QString>("body");
    QTest::newRow("x * HardSigmoid(x)") << "h = HardSigmoid <alpha = 0.16666667, beta = 0.5> (x)\n y = Mul(x, h)";
    QTest::newRow("HardSigmoid(x) * x") << "h = HardSigmoid <alpha = 0.1666667, beta = 0.5> (x)\n y = Mul(h, x)";
    QTest::newRow("x * clip(x+3) / 6") << "a = Add(x, three)\n c = Clip(a, zero, six)\n m = Mul(x, c)\n y = Div(m, six)";
    QTest::newRow("(clip(3+x) * x) * 1/6")
        << "a = Add(three, x)\n c = Clip(a, zero, six)\n m = Mul(c, x)\n y = Mul(sixth, m)";
    QTest::newRow("x * (clip(x+3) / 6)") << "a = Add(x, three)\n c = Clip(a, zero, six)\n s = Div(c, six)\n y = Mul(x, s)";
    QTest::newRow("(clip(x+3) * 1/6) * x")
        << "a = Add(x, three)\n c = Clip(a, zero, six)\n s = Mul(c, sixth)\n y = Mul(s, x)";
}

void TestPassPattern::hardSwish() {
    QFETCH(QString, body);
    // x in [-1, 1] * 5 covers both clip edges.
    auto m = parseModel(header(14) + "g (float[2,3,4,4] in) => (float[2,3,4,4] y) <float scale = {5.0}, "
                        "float three = {3.0}, float zero = {0.0}, float six = {6.0}, float sixth = {0.16666667}> {\n"
                        "x = Mul(in, scale)\n" + body.toStdString() + "\n}");
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(test::applyPass(*after, "fuse-hard-swish"));
    QCOMPARE(test::countOp(*after, "HardSwish"), 1);
    QCOMPARE(int(after->graph->nodeCount()), 2);
    QCOMPARE(after->graph->nodes().back()->input(0)->name, std::string("x"));
    QCOMPARE(after->graph->outputs[0]->name, std::string("y"));
    const double diff = test::outputsDiff(*m, *after);
    QVERIFY2(diff >= 0 && diff <= 1e-5, qPrintable(QString::number(diff)));
}

void TestPassPattern::hardSwishInsideIfBranch() {
    // The branch reads the enclosing graph's x; the fusion happens inside the branch.
    auto m = parseModel(header(14) + R"(
        g (bool c, float[2,4] x) => (float[2,4] y) {
            y = If(c) <
                then_branch = t () => (float[2,4] ty) {
                    h = HardSigmoid <alpha = 0.16666667, beta = 0.5> (x)
                    ty = Mul(x, h)
                },
                else_branch = e () => (float[2,4] ey) { ey = Neg(x) }
            >
        })");
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(test::applyPass(*after, "fuse-hard-swish"));
    ir::Graph* branch = after->graph->nodes()[0]->subgraphs()[0];
    QCOMPARE(int(branch->nodeCount()), 1);
    QCOMPARE(branch->nodes()[0]->opType, std::string("HardSwish"));
    QCOMPARE(branch->outputs[0]->name, std::string("ty"));
    QCOMPARE(branch->nodes()[0]->input(0), after->graph->findValue("x"));
}

void TestPassPattern::hardSwishNoMatch_data() {
    QTest::addColumn<int>("opset");
    QTest::addColumn<QString>("outputs");
    QTest::addColumn<QString>("body");
    const QString clip = "a = Add(x, three)\n c = Clip(a, zero, six)\n m = Mul(x, c)\n y = Div(m, six)";
    QTest::newRow("opset 13") << 13 << "float[2,8] y" << clip;
    QTest::newRow("HardSigmoid default alpha") << 14 << "float[2,8] y" << "h = HardSigmoid(x)\n y = Mul(x, h)";
    QTest::newRow("HardSigmoid of another value") << 14 << "float[2,8] y" << "h = HardSigmoid <alpha = 0.16666667> (z)\n y = Mul(x, h)";
    QTest::newRow("clip to 5") << 14 << "float[2,8] y" << "a = Add(x, three)\n c = Clip(a, zero, five)\n m = Mul(x, c)\n y = Div(m, six)";
    QTest::newRow("divided by 5") << 14 << "float[2,8] y" << "a = Add(x, three)\n c = Clip(a, zero, six)\n m = Mul(x, c)\n y = Div(m, five)";
    QTest::newRow("clip has a second consumer") << 14 << "float[2,8] y, float[2,8] c" << clip;
    QTest::newRow("6 / product, not product / 6") << 14 << "float[2,8] y" << "a = Add(x, three)\n c = Clip(a, zero, six)\n m = Mul(x, c)\n y = Div(six, m)";
}

void TestPassPattern::hardSwishNoMatch() {
    QFETCH(int, opset);
    QFETCH(QString, outputs);
    QFETCH(QString, body);
    auto m = parseModel(header(opset) + "g (float[2,8] x, float[2,8] z) => (" + outputs.toStdString() +
                        ") <float three = {3.0}, float zero = {0.0}, float six = {6.0}, float five = {5.0}> {\n" +
                        body.toStdString() + "\n}");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-hard-swish");
}

// ---------------------------------------------------------------- cancel-transposes

void TestPassPattern::transposePairs() {
    auto m = parseModel(header(13) + R"(
        g (float[2,3,4,5] x) => (float[2,3,4,5] y, float[5,2,3,4] z) {
            a = Transpose <perm = [0,2,3,1]> (x)
            b = Transpose <perm = [0,3,1,2]> (a)
            y = Relu(b)
            c = Transpose <perm = [3,0,1,2]> (x)
            d = Transpose <perm = [0,1,2,3]> (c)
            e = Transpose (d)
            z = Transpose (e)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "cancel-transposes", R"(
        input  %x : float32[2,3,4,5]
        %y = Relu(%x) : float32[2,3,4,5]
        %z = Transpose(%x) {perm=[3,0,1,2]} : float32[5,2,3,4]
        output %y : float32[2,3,4,5]
        output %z : float32[5,2,3,4]
    )");
}

void TestPassPattern::transposePairIdentityKeepsOutputName() {
    auto m = parseModel(header(13) + R"(
        g (float[2,3] x) => (float[2,3] y) {
            r = Relu(x)
            a = Transpose <perm = [1,0]> (r)
            y = Transpose <perm = [1,0]> (a)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "cancel-transposes", R"(
        input  %x : float32[2,3]
        %y = Relu(%x) : float32[2,3]
        output %y : float32[2,3]
    )");
}

void TestPassPattern::reshapeChain() {
    auto m = parseModel(header(14) + R"(
        g (float[2,3,4] x) => (float[4,6] y) <int64[2] s1 = {6, 4}, int64[3] s2 = {3, 2, -1}, int64[2] s3 = {4, -1}> {
            a = Reshape(x, s1)
            b = Reshape(a, s2)
            y = Reshape(b, s3)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "cancel-transposes", R"(
        input  %x : float32[2,3,4]
        init   %s1 : int64[2] = [6,4]
        init   %s2 : int64[3] = [3,2,-1]
        init   %s3 : int64[2] = [4,-1]
        %y = Reshape(%x, %s3) : float32[4,6]
        output %y : float32[4,6]
    )");
}

void TestPassPattern::squeezeUnsqueeze_data() {
    QTest::addColumn<int>("opset");
    QTest::addColumn<QString>("body");
    QTest::newRow("squeeze then unsqueeze, opset 13") << 13 << "a = Squeeze(x, ax)\n b = Unsqueeze(a, axneg)\n y = Relu(b)";
    QTest::newRow("unsqueeze then squeeze, opset 13") << 13 << "a = Unsqueeze(x, ax2)\n b = Squeeze(a, ax2neg)\n y = Relu(b)";
    QTest::newRow("attributes, opset 11") << 11 << "a = Squeeze <axes = [1]> (x)\n b = Unsqueeze <axes = [-2]> (a)\n y = Relu(b)";
}

void TestPassPattern::squeezeUnsqueeze() {
    QFETCH(int, opset);
    QFETCH(QString, body);
    auto m = parseModel(header(opset) + "g (float[2,1,4] x) => (float[2,1,4] y) <int64[1] ax = {1}, "
                        "int64[1] axneg = {-2}, int64[2] ax2 = {0, 3}, int64[2] ax2neg = {-2, 0}> {\n" +
                        body.toStdString() + "\n}");
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(test::applyPass(*after, "cancel-transposes"));
    QCOMPARE(int(after->graph->nodeCount()), 1);
    QCOMPARE(after->graph->nodes()[0]->input(0)->name, std::string("x"));
    QCOMPARE(test::outputsDiff(*m, *after), 0.0);
}

void TestPassPattern::cancelNoMatch_data() {
    QTest::addColumn<QString>("outputs");
    QTest::addColumn<QString>("body");
    QTest::newRow("reshape target with 0") << "float[6,4] y" << "a = Reshape(x, s1)\n y = Reshape(a, s0)";
    QTest::newRow("inner reshape has a second consumer") << "float[3,8] y, float[6,4] a" << "a = Reshape(x, s1)\n y = Reshape(a, s2)";
    QTest::newRow("inner transpose has a second consumer, not identity")
        << "float[3,4,2] y, float[4,2,3] a" << "a = Transpose <perm = [2,0,1]> (x)\n y = Transpose <perm = [2,0,1]> (a)";
    QTest::newRow("identity pair from input to output") << "float[2,3,4] y" << "a = Transpose <perm = [1,0,2]> (x)\n y = Transpose <perm = [1,0,2]> (a)";
    QTest::newRow("squeeze/unsqueeze other axes") << "float[2,3,4,1] y" << "a = Unsqueeze(x, ax0)\n b = Squeeze(a, ax0)\n c = Unsqueeze(b, ax3)\n y = Relu(c)";
    QTest::newRow("squeeze without axes") << "float[2,3,4] y" << "a = Unsqueeze(x, ax0)\n b = Squeeze(a)\n y = Relu(b)";
}

void TestPassPattern::cancelNoMatch() {
    QFETCH(QString, outputs);
    QFETCH(QString, body);
    auto m = parseModel(header(13) + "g (float[2,3,4] x) => (" + outputs.toStdString() +
                        ") <int64[2] s1 = {6, 4}, int64[2] s0 = {0, -1}, int64[2] s2 = {3, 8}, int64[1] ax0 = {0}, "
                        "int64[1] ax3 = {3}> {\n" + body.toStdString() + "\n}");
    QVERIFY(m);
    if (QByteArray(QTest::currentDataTag()) == "squeeze/unsqueeze other axes") {
        // The first pair cancels; Unsqueeze(ax3) has no partner and stays.
        auto after = m->clone();
        QVERIFY(test::applyPass(*after, "cancel-transposes"));
        QCOMPARE(test::countOp(*after, "Unsqueeze"), 1);
        QCOMPARE(test::countOp(*after, "Squeeze"), 0);
        return;
    }
    EW_CHECK_NO_MATCH(m, "cancel-transposes");
}

// ---------------------------------------------------------------- sink-transposes

void TestPassPattern::sinkTransposes() {
    // NCHW -> NHWC -> elementwise with an NHWC-shaped bias -> back to NCHW.
    auto m = parseModel(header(13) + R"(
        g (float[1,2,3,4] x) => (float[1,2,3,4] y)
          <float[4,2] bias = {1, 2, 3, 4, 5, 6, 7, 8}, float two = {2.0}, float lo = {-0.5}, float hi = {3.0}> {
            t = Transpose <perm = [0,2,3,1]> (x)
            a = Relu(t)
            b = Add(a, bias)
            c = Mul(two, b)
            d = Clip(c, lo, hi)
            y = Transpose <perm = [0,3,1,2]> (d)
        })");
    QVERIFY(m);
    // bias [4,2] broadcasts as [1,1,4,2] over NHWC [1,3,4,2]; under NCHW it is [1,2,1,4].
    EW_CHECK_PASS(m, "sink-transposes", R"(
        input  %x : float32[1,2,3,4]
        init   %bias : float32[4,2] = [1,2,3,4,5,6,7,8]
        init   %two : float32[] = [2]
        init   %lo : float32[] = [-0.5]
        init   %hi : float32[] = [3]
        init   %bias_perm : float32[1,2,1,4] = [1,3,5,7,2,4,6,8]
        %a_pre_transpose = Relu(%x) : float32[1,2,3,4]
        %b_pre_transpose = Add(%a_pre_transpose, %bias_perm) : float32[1,2,3,4]
        %c_pre_transpose = Mul(%two, %b_pre_transpose) : float32[1,2,3,4]
        %d_pre_transpose = Clip(%c_pre_transpose, %lo, %hi) : float32[1,2,3,4]
        %d = Transpose(%d_pre_transpose) {perm=[0,2,3,1]} : float32[1,3,4,2]
        %y = Transpose(%d) {perm=[0,3,1,2]} : float32[1,2,3,4]
        output %y : float32[1,2,3,4]
    )");
}

void TestPassPattern::sinkNoMatch_data() {
    QTest::addColumn<QString>("outputs");
    QTest::addColumn<QString>("body");
    QTest::newRow("no transpose below") << "float[1,3,4,2] y" << "t = Transpose <perm = [0,2,3,1]> (x)\n y = Relu(t)";
    QTest::newRow("transpose with two consumers")
        << "float[1,2,3,4] y, float[1,3,4,2] r" << "t = Transpose <perm = [0,2,3,1]> (x)\n a = Relu(t)\n r = Neg(t)\n y = Transpose <perm = [0,3,1,2]> (a)";
    QTest::newRow("non-constant operand")
        << "float[1,2,3,4] y" << "t = Transpose <perm = [0,2,3,1]> (x)\n a = Add(t, z)\n y = Transpose <perm = [0,3,1,2]> (a)";
    QTest::newRow("intermediate is a graph output")
        << "float[1,2,3,4] y, float[1,3,4,2] a" << "t = Transpose <perm = [0,2,3,1]> (x)\n a = Relu(t)\n y = Transpose <perm = [0,3,1,2]> (a)";
    QTest::newRow("not elementwise")
        << "float[1,2,3,4] y" << "t = Transpose <perm = [0,2,3,1]> (x)\n a = Softmax(t)\n y = Transpose <perm = [0,3,1,2]> (a)";
}

void TestPassPattern::sinkNoMatch() {
    QFETCH(QString, outputs);
    QFETCH(QString, body);
    auto m = parseModel(header(13) + "g (float[1,2,3,4] x, float[1,3,4,2] z) => (" + outputs.toStdString() + ") {\n" +
                        body.toStdString() + "\n}");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "sink-transposes");
}

void TestPassPattern::aggressivePipelineCancelsSunkTransposes() {
    auto m = parseModel(header(13) + R"(
        g (float[1,2,3,4] x) => (float[1,2,3,4] y) <float[2] bias = {0.5, -0.5}> {
            t = Transpose <perm = [0,2,3,1]> (x)
            a = Sigmoid(t)
            b = Sub(a, bias)
            y = Transpose <perm = [0,3,1,2]> (b)
        })");
    QVERIFY(m);
    auto before = m->clone();
    opt::OptimizeOptions o;
    o.pipeline = "aggressive";
    o.verifyEachPass = true;
    auto r = opt::optimize(*m, o);
    QVERIFY2(r, r ? "" : r.error().toString().c_str());
    QCOMPARE(test::countOp(*m, "Transpose"), 0);
    QCOMPARE(int(m->graph->nodeCount()), 2);
    QVERIFY(r->rounds < o.maxRounds); // reached a fixed point, no back and forth
    const double diff = test::outputsDiff(*before, *m);
    QVERIFY2(diff >= 0 && diff <= 1e-6, qPrintable(QString::number(diff)));
    // The default pipeline does not sink, so the pair stays apart.
    auto d = before->clone();
    opt::OptimizeOptions od;
    QVERIFY(opt::optimize(*d, od));
    QCOMPARE(test::countOp(*d, "Transpose"), 2);
}

void TestPassPattern::realModelLayerNorms() {
    EW_REQUIRE_MODELS();
    // hey_jarvis (opset 13) writes LayerNorm expanded: below opset 17 nothing may change.
    const QString path = test::modelsDir() + "/onnx/openwakeword/hey_jarvis_v0.1.onnx";
    auto loaded = onnxfmt::importOnnxFile(test::str(path));
    QVERIFY2(loaded, loaded ? "" : loaded.error().toString().c_str());
    ir::Model& model = **loaded;
    ir::inferShapes(model);
    for (const char* pass : {"fuse-layer-norm", "fuse-gelu", "fuse-hard-swish"}) {
        auto copy = model.clone();
        QVERIFY2(!test::applyPass(*copy, pass), pass);
    }
    // Its ops (Flatten, Gemm, ReduceMean with axes attribute, Sub, Pow, Sqrt, Div, Mul, Add, Relu,
    // Sigmoid, GreaterOrEqual, Cast, If) mean the same at opset 17, so declared as 17 both
    // PyTorch-expanded LayerNorms fuse, and the outputs agree with the expanded form.
    for (ir::OpsetImport& o : model.opsetImports)
        if (ir::canonicalDomain(o.domain).empty()) o.version = 17;
    auto fused = model.clone();
    QVERIFY(test::applyPass(*fused, "fuse-layer-norm"));
    QCOMPARE(test::countOp(*fused, "LayerNormalization"), 2);
    QCOMPARE(test::countOp(*fused, "ReduceMean"), 0);
    QCOMPARE(test::countOp(*fused, "Gemm"), 3);
    const double diff = test::outputsDiff(model, *fused);
    QVERIFY2(diff >= 0 && diff <= 1e-5, qPrintable(QString::number(diff)));
}

QTEST_GUILESS_MAIN(TestPassPattern)
#include "tst_pass_pattern.moc"
