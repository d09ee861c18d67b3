// Folding into Conv / Gemm: fuse-conv-bn, fuse-gemm-bn, fuse-conv-affine, fuse-pad-conv and
// fuse-matmul-add. Golden rows use small hand-checkable weights; numeric rows use weights that
// differ per channel so a wrong channel mapping (groups, transB, ConvTranspose) shows.
#include "optimize_test_util.h"
#include "test_util.h"

#include "ir/onnx/onnx_import.h"

using namespace ew;
using ew::test::parseModel;

/// Applies `pass` to a copy of `model`: it changed something, no `goneOp` node remains, and the
/// outputs agree within 1e-5 relative.
#define EW_CHECK_FOLDS(model, pass, goneOp)                                                        \
    do {                                                                                           \
        auto ew_after = (model)->clone();                                                          \
        QVERIFY2(ew::test::applyPass(*ew_after, pass), "the pass changed nothing");                \
        QCOMPARE(ew::test::countOp(*ew_after, goneOp), 0);                                         \
        const double ew_diff = ew::test::outputsDiff(*(model), *ew_after);                         \
        QVERIFY2(ew_diff >= 0 && ew_diff <= 1e-5,                                                  \
                 qPrintable(QString("relative diff %1").arg(ew_diff)));                            \
    } while (0)

namespace {

// BN with epsilon 0 so the folded numbers stay readable: s = scale / sqrt(var) = [1, 6].
const char* kBnParams =
    R"(float[2] s = {2.0, 3.0}, float[2] bb = {1.0, -1.0}, float[2] mu = {0.5, 1.0}, float[2] var = {4.0, 0.25})";

std::string convBnModel(const std::string& opset, const std::string& bnAttrs,
                        const std::string& extraOut = "", const std::string& extraNodes = "") {
    return R"(<ir_version: 8, opset_import: ["" : )" + opset + R"(]>
        g (float[1,2,4,4] x) => (float[1,2,4,4] y)" +
           extraOut + R"() <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] b = {1.0, 2.0}, )" +
           kBnParams + R"(> {
            c = Conv(x, w, b)
            y = BatchNormalization <epsilon = 0.0)" +
           bnAttrs + R"(> (c, s, bb, mu, var)
            )" +
           extraNodes + R"(
        })";
}

} // namespace

class TestPassFold : public QObject {
    Q_OBJECT
  private slots:
    void convBn();
    void convBnVariants_data();
    void convBnVariants();
    void convBnSharedWeights();
    void convBnNoMatch();
    void gemmBn();
    void gemmBnVariants_data();
    void gemmBnVariants();
    void gemmBnNoMatch();
    void convAffine();
    void convAffineVariants_data();
    void convAffineVariants();
    void convAffineNoMatch_data();
    void convAffineNoMatch();
    void padConv();
    void padConvVariants_data();
    void padConvVariants();
    void padConvNoMatch_data();
    void padConvNoMatch();
    void matmulAdd();
    void matmulAddVariants_data();
    void matmulAddVariants();
    void matmulAddNoMatch_data();
    void matmulAddNoMatch();
    void mobilenetUnfused();
};

void TestPassFold::convBn() {
    // w' = w * [1, 6] per output row; b' = (b - mean) * s + B = [(1-0.5)*1+1, (2-1)*6-1].
    auto m = parseModel(convBnModel("13", ""));
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-conv-bn", R"(
        input  %x : float32[1,2,4,4]
        init   %w_folded : float32[2,2,1,1] = [1,2,18,24]
        init   %b_folded : float32[2] = [1.5,5]
        %y = Conv(%x, %w_folded, %b_folded) : float32[1,2,4,4]
        output %y : float32[1,2,4,4]
    )");
}

void TestPassFold::convBnVariants_data() {
    QTest::addColumn<QString>("model");
    const QString head = R"(<ir_version: 8, opset_import: ["" : %1]>)";
    // Default epsilon, no Conv bias, 3x3 kernel with pads, opset 15 (training_mode attribute).
    QTest::newRow("no bias, default epsilon") << head.arg(15) + R"(
        g (float[1,2,5,5] x) => (float[1,3,5,5] y) <float[3,2,3,3] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9,
                1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, 1.8, -0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9,
                1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8, 0.3, 0.2, -0.1, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9,
                -1.0, 1.1, 1.2, 1.3, -1.4, 1.5, 1.6, 1.7, -1.8},
              float[3] s = {1.5, -0.5, 2.0}, float[3] bb = {0.1, 0.2, -0.3}, float[3] mu = {0.3, -0.2, 0.1}, float[3] var = {0.9, 1.7, 0.05}> {
            c = Conv <pads = [1,1,1,1]> (x, w)
            y = BatchNormalization <training_mode = 0> (c, s, bb, mu, var)
        })";
    // Grouped Conv: output channel m is still weight row m.
    QTest::newRow("grouped conv, opset 9") << head.arg(9) + R"(
        g (float[1,4,3,3] x) => (float[1,4,3,3] y) <float[4,2,1,1] w = {1.0, -2.0, 3.0, 0.5, -1.5, 2.5, 0.25, 4.0}, float[4] b = {0.1, 0.2, 0.3, 0.4},
              float[4] s = {1.5, -0.5, 2.0, 0.7}, float[4] bb = {0.1, 0.2, -0.3, 0.4}, float[4] mu = {0.3, -0.2, 0.1, 0.5}, float[4] var = {0.9, 1.7, 0.05, 2.0}> {
            c = Conv <group = 2> (x, w, b)
            y = BatchNormalization (c, s, bb, mu, var)
        })";
    // ConvTranspose weights are [C_in, C_out/group, k...]: with 4 inputs in 2 groups and 3 outputs
    // per group, input channel 2 writes outputs 3..5.
    QTest::newRow("grouped conv-transpose") << head.arg(13) + R"(
        g (float[1,4,3,3] x) => (float[1,6,4,4] y) <float[4,3,2,2] w = {
                0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2,
                1.3, 1.4, 1.5, -1.6, 1.7, 1.8, -0.1, 0.2, 0.3, -0.4, 0.5, 0.6,
                -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8,
                0.3, 0.2, -0.1, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9, -1.0, 1.1, 1.2},
              float[6] b = {0.1, -0.1, 0.2, -0.2, 0.3, -0.3},
              float[6] s = {1.5, -0.5, 2.0, 0.7, 3.0, -1.25}, float[6] bb = {0.1, 0.2, -0.3, 0.4, 0.0, 1.0},
              float[6] mu = {0.3, -0.2, 0.1, 0.5, -1.0, 0.0}, float[6] var = {0.9, 1.7, 0.05, 2.0, 0.5, 1.0}> {
            c = ConvTranspose <group = 2> (x, w, b)
            y = BatchNormalization (c, s, bb, mu, var)
        })";
    // ConvTranspose without groups and without bias, 1-D.
    QTest::newRow("conv-transpose 1-D") << head.arg(13) + R"(
        g (float[1,2,5] x) => (float[1,3,7] y) <float[2,3,3] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, 1.8},
              float[3] s = {1.5, -0.5, 2.0}, float[3] bb = {0.1, 0.2, -0.3}, float[3] mu = {0.3, -0.2, 0.1}, float[3] var = {0.9, 1.7, 0.05}> {
            c = ConvTranspose (x, w)
            y = BatchNormalization <epsilon = 0.001> (c, s, bb, mu, var)
        })";
}

void TestPassFold::convBnVariants() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_FOLDS(m, "fuse-conv-bn", "BatchNormalization");
}

void TestPassFold::convBnSharedWeights() {
    // Two Convs read the same weights; only one is followed by a BatchNormalization. The shared
    // initializer must keep its values for the other Conv.
    auto m = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x) => (float[1,2,4,4] y, float[1,2,4,4] z) <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] b = {1.0, 2.0}, )") +
                        kBnParams + R"(> {
            c = Conv(x, w, b)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
            z = Conv(x, w, b)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-conv-bn", R"(
        input  %x : float32[1,2,4,4]
        init   %w : float32[2,2,1,1] = [1,2,3,4]
        init   %b : float32[2] = [1,2]
        init   %w_folded : float32[2,2,1,1] = [1,2,18,24]
        init   %b_folded : float32[2] = [1.5,5]
        %y = Conv(%x, %w_folded, %b_folded) : float32[1,2,4,4]
        %z = Conv(%x, %w, %b) : float32[1,2,4,4]
        output %y : float32[1,2,4,4]
        output %z : float32[1,2,4,4]
    )");
}

void TestPassFold::convBnNoMatch() {
    // The Conv output has a second consumer (a graph output here).
    auto shared = parseModel(convBnModel("13", "", ", float[1,2,4,4] c"));
    QVERIFY(shared);
    EW_CHECK_NO_MATCH(shared, "fuse-conv-bn");
    auto shared2 = parseModel(convBnModel("13", "", ", float[1,2,4,4] r", "r = Relu(c)"));
    QVERIFY(shared2);
    EW_CHECK_NO_MATCH(shared2, "fuse-conv-bn");
    // Training mode (opset 14 attribute).
    auto training = parseModel(convBnModel("14", ", training_mode = 1"));
    QVERIFY(training);
    EW_CHECK_NO_MATCH(training, "fuse-conv-bn");
    // Opset 8 per-activation (spatial = 0) normalization.
    auto spatial = parseModel(convBnModel("8", ", spatial = 0"));
    QVERIFY(spatial);
    EW_CHECK_NO_MATCH(spatial, "fuse-conv-bn");
    // Non-constant weights: a graph input, and an initializer that is also a graph input (a caller
    // may override it).
    auto inputW = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x, float[2,2,1,1] w) => (float[1,2,4,4] y) <)") +
                             kBnParams + R"(> {
            c = Conv(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(inputW);
    EW_CHECK_NO_MATCH(inputW, "fuse-conv-bn");
    auto overridable = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x, float[2,2,1,1] w) => (float[1,2,4,4] y) <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, )") +
                                  kBnParams + R"(> {
            c = Conv(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(overridable);
    EW_CHECK_NO_MATCH(overridable, "fuse-conv-bn");
    // Non-constant BN statistics.
    auto inputMean = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x, float[2] mu) => (float[1,2,4,4] y) <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {2.0, 3.0}, float[2] bb = {1.0, -1.0}, float[2] var = {4.0, 0.25}> {
            c = Conv(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(inputMean);
    EW_CHECK_NO_MATCH(inputMean, "fuse-conv-bn");
    // A BatchNormalization after a Gemm is fuse-gemm-bn's, not this pass's.
    auto gemm = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, )") +
                           kBnParams + R"(> {
            c = Gemm(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(gemm);
    EW_CHECK_NO_MATCH(gemm, "fuse-conv-bn");
}

void TestPassFold::gemmBn() {
    // MatMul [3,2] x [2,2] then BN over the 2 features: W columns * [1, 6]; bias = B - mean * s.
    auto m = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, )") +
                        kBnParams + R"(> {
            c = MatMul(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-gemm-bn", R"(
        input  %x : float32[3,2]
        init   %w_folded : float32[2,2] = [1,12,3,24]
        init   %w_bias : float32[2] = [0.5,-7]
        %y = Gemm(%x, %w_folded, %w_bias) : float32[3,2]
        output %y : float32[3,2]
    )");
    // Gemm with transB, alpha and beta: B rows are scaled; C' = s * beta * C + B - mean * s.
    auto g = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[2] cc = {2.0, 4.0}, )") +
                        kBnParams + R"(> {
            c = Gemm <transB = 1, alpha = 2.0, beta = 0.5> (x, w, cc)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(g);
    EW_CHECK_PASS(g, "fuse-gemm-bn", R"(
        input  %x : float32[3,2]
        init   %w_folded : float32[2,2] = [1,2,18,24]
        init   %cc_folded : float32[2] = [1.5,5]
        %y = Gemm(%x, %w_folded, %cc_folded) {transB=1, alpha=2} : float32[3,2]
        output %y : float32[3,2]
    )");
}

void TestPassFold::gemmBnVariants_data() {
    QTest::addColumn<QString>("model");
    const QString bn3 =
        R"(float[3] s = {1.5, -0.5, 2.0}, float[3] bb = {0.1, 0.2, -0.3}, float[3] mu = {0.3, -0.2, 0.1}, float[3] var = {0.9, 1.7, 0.05})";
    const QString w = R"(float[2,3] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6})";
    const QString wt = R"(float[3,2] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6})";
    auto row = [&](const char* name, int opset, const QString& inits, const QString& node) {
        QTest::newRow(name) << QString(R"(<ir_version: 8, opset_import: ["" : %1]>
            g (float[4,2] x) => (float[4,3] y) <%2, %3> {
                c = %4
                y = BatchNormalization (c, s, bb, mu, var)
            })")
                                   .arg(opset)
                                   .arg(inits, bn3, node);
    };
    row("gemm no C", 13, w, "Gemm(x, w)");
    row("gemm transB alpha", 13, wt, "Gemm <transB = 1, alpha = 0.5> (x, w)");
    row("gemm C [1,3] beta 2", 13, w + ", float[1,3] cc = {1.0, 2.0, 3.0}",
        "Gemm <beta = 2.0> (x, w, cc)");
    row("gemm C [4,1]", 13, w + ", float[4,1] cc = {1.0, 2.0, 3.0, 4.0}", "Gemm (x, w, cc)");
    row("gemm C [4,3] beta 0", 13,
        w + ", float[4,3] cc = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0}",
        "Gemm <beta = 0.0> (x, w, cc)");
    row("gemm transA scalar C", 13,
        R"(float[2,3] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, float cc = {1.5})",
        "Gemm <transA = 0> (x, w, cc)");
    row("matmul opset 9 (C required)", 9, w, "MatMul(x, w)");
}

void TestPassFold::gemmBnVariants() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_FOLDS(m, "fuse-gemm-bn", "BatchNormalization");
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "fuse-gemm-bn"));
    QCOMPARE(ew::test::countOp(*after, "Gemm"), 1);
    QCOMPARE(ew::test::countOp(*after, "MatMul"), 0);
}

void TestPassFold::gemmBnNoMatch() {
    // Rank-3 MatMul: BatchNormalization normalizes axis 1 (here the 4), not the features.
    auto rank3 = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,4,2] x) => (float[2,4,4] y) <float[2,4] w = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0},
              float[4] s = {1.0, 2.0, 3.0, 4.0}, float[4] bb = {0.0, 1.0, 0.0, 1.0}, float[4] mu = {0.0, 0.5, 0.0, 0.5}, float[4] var = {1.0, 1.0, 2.0, 2.0}> {
            c = MatMul(x, w)
            y = BatchNormalization (c, s, bb, mu, var)
        })");
    QVERIFY(rank3);
    EW_CHECK_NO_MATCH(rank3, "fuse-gemm-bn");
    // The Gemm output is also read elsewhere.
    auto shared = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,2] y, float[3,2] r) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, )") +
                             kBnParams + R"(> {
            c = Gemm(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
            r = Relu(c)
        })");
    QVERIFY(shared);
    EW_CHECK_NO_MATCH(shared, "fuse-gemm-bn");
    // Non-constant B.
    auto inputB = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x, float[2,2] w) => (float[3,2] y) <)") +
                             kBnParams + R"(> {
            c = MatMul(x, w)
            y = BatchNormalization <epsilon = 0.0> (c, s, bb, mu, var)
        })");
    QVERIFY(inputB);
    EW_CHECK_NO_MATCH(inputB, "fuse-gemm-bn");
    // Training mode.
    auto training = parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 15]>
        g (float[3,2] x) => (float[3,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, )") +
                               kBnParams + R"(> {
            c = Gemm(x, w)
            y = BatchNormalization <epsilon = 0.0, training_mode = 1> (c, s, bb, mu, var)
        })");
    QVERIFY(training);
    EW_CHECK_NO_MATCH(training, "fuse-gemm-bn");
}

void TestPassFold::convAffine() {
    // Mul by [2,1,1] = [2, -1] then Add [1,2,1,1] = [0.5, 0.25], both into the Conv (in one run).
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x) => (float[1,2,4,4] y) <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] b = {1.0, 2.0},
              float[2,1,1] k = {2.0, -1.0}, float[1,2,1,1] t = {0.5, 0.25}> {
            c = Conv(x, w, b)
            d = Mul(k, c)
            y = Add(d, t)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-conv-affine", R"(
        input  %x : float32[1,2,4,4]
        init   %w_folded_1 : float32[2,2,1,1] = [2,4,-3,-4]
        init   %b_folded_1 : float32[2] = [2.5,-1.75]
        %y = Conv(%x, %w_folded_1, %b_folded_1) : float32[1,2,4,4]
        output %y : float32[1,2,4,4]
    )");
    // Gemm / scalar Div, Sub of a [2] constant (the feature axis of a 2-D output); no bias yet.
    auto g = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float h = {2.0}, float[2] t = {1.0, -1.0}> {
            c = Gemm(x, w)
            d = Div(c, h)
            y = Sub(d, t)
        })");
    QVERIFY(g);
    EW_CHECK_PASS(g, "fuse-conv-affine", R"(
        input  %x : float32[3,2]
        init   %w_folded_1 : float32[2,2] = [0.5,1,1.5,2]
        init   %w_bias : float32[2] = [-1,1]
        %y = Gemm(%x, %w_folded_1, %w_bias) : float32[3,2]
        output %y : float32[3,2]
    )");
}

void TestPassFold::convAffineVariants_data() {
    QTest::addColumn<QString>("model");
    const QString conv = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,3,4,4] x) => (float[1,3,4,4] y) <float[3,3,3,3] w = {
                0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, 1.8,
                -0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8,
                0.3, 0.2, -0.1, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9, -1.0, 1.1, 1.2, 1.3, -1.4, 1.5, 1.6, 1.7, -1.8,
                0.2, 0.1, 0.0, -0.3, 0.4, 0.5, -0.5, 0.6, 0.7, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 0.9, -1.0},
              float[3] b = {0.1, -0.2, 0.3}, %1> {
            c = Conv <pads = [1,1,1,1]> (x, w, b)
            y = %2
        })";
    QTest::newRow("mul [3,1,1]") << conv.arg("float[3,1,1] k = {1.5, -2.0, 0.25}", "Mul(c, k)");
    QTest::newRow("mul scalar left") << conv.arg("float k = {-3.0}", "Mul(k, c)");
    QTest::newRow("mul [1] left") << conv.arg("float[1] k = {0.5}", "Mul(k, c)");
    QTest::newRow("div [1,3,1,1]") << conv.arg("float[1,3,1,1] k = {1.5, -2.0, 0.25}", "Div(c, k)");
    QTest::newRow("add [3,1,1] left")
        << conv.arg("float[3,1,1] k = {1.5, -2.0, 0.25}", "Add(k, c)");
    QTest::newRow("sub scalar") << conv.arg("float k = {0.75}", "Sub(c, k)");
    QTest::newRow("conv-transpose mul") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4,3,3] x) => (float[1,4,4,4] y) <float[4,2,2,2] w = {
                0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6,
                1.7, 1.8, -0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4},
              float[4,1,1] k = {1.5, -2.0, 0.25, 3.0}> {
            c = ConvTranspose <group = 2> (x, w)
            y = Mul(c, k)
        })");
    QTest::newRow("gemm transB mul [1,3]") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[4,2] x) => (float[4,3] y) <float[3,2] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, float[4,3] cc = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0},
              float[1,3] k = {1.5, -2.0, 0.25}> {
            c = Gemm <transB = 1, beta = 0.5> (x, w, cc)
            y = Mul(c, k)
        })");
    QTest::newRow("gemm opset 9 mul") << QString(R"(<ir_version: 8, opset_import: ["" : 9]>
        g (float[4,2] x) => (float[4,3] y) <float[2,3] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, float[3] cc = {1.0, 2.0, 3.0},
              float[3] k = {1.5, -2.0, 0.25}> {
            c = Gemm (x, w, cc)
            y = Mul(c, k)
        })");
}

void TestPassFold::convAffineVariants() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "fuse-conv-affine"));
    QCOMPARE(int(after->graph->nodeCount()), 1);
    const double diff = ew::test::outputsDiff(*m, *after);
    QVERIFY2(diff >= 0 && diff <= 1e-5, qPrintable(QString("relative diff %1").arg(diff)));
}

void TestPassFold::convAffineNoMatch_data() {
    QTest::addColumn<QString>("model");
    const QString conv = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,3,3] x%3) => (float[1,2,3,3] y%4) <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, %1> {
            c = Conv(x, w)
            y = %2
        })";
    auto row = [&](const char* name, const char* inits, const char* node, const char* in = "",
                   const char* out = "") { QTest::newRow(name) << conv.arg(inits, node, in, out); };
    // Broadcasts along more than the channel axis.
    row("mul [1,2,3,3]",
        "float[1,2,3,3] k = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0, 4.0, 5.0, "
        "6.0, 7.0, 8.0, 9.0}",
        "Mul(c, k)");
    row("mul [2] (the width axis)", "float[3] k = {1.0, 2.0, 3.0}", "Mul(c, k)");
    row("mul [3,1] (the height axis)", "float[3,1] k = {1.0, 2.0, 3.0}", "Mul(c, k)");
    row("add [1,1,1,3]", "float[1,1,1,3] k = {1.0, 2.0, 3.0}", "Add(c, k)");
    row("mul [2,1,1,1] (batch)", "float[2,1,1,1] k = {1.0, 2.0}", "Mul(c, k)");
    row("mul rank 5 grows output", "float[1,2,1,1,1] k = {1.0, 2.0}", "Mul(c, k)");
    // Division by zero, constant on the wrong side of Sub/Div, non-finite.
    row("div by zero", "float[2,1,1] k = {1.0, 0.0}", "Div(c, k)");
    row("sub constant left", "float k = {1.0}", "Sub(k, c)");
    row("div constant left", "float k = {2.0}", "Div(k, c)");
    // Not a constant; Conv output with a second consumer / a graph output.
    row("mul by input", "float[1] unused = {1.0}", "Mul(c, k)", ", float[2,1,1] k");
    row("conv output shared", "float k = {2.0}", "Mul(c, k)", "", ", float[1,2,3,3] c");
    row("unsupported op", "float k = {2.0}", "Pow(c, k)");
}

void TestPassFold::convAffineNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-conv-affine");
}

void TestPassFold::padConv() {
    // Opset 13 input form: pads on H (1 before, 2 after) and W (0, 1) add to Conv's [1,1,1,1].
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x) => (float[1,2,7,5] y) <float[2,2,3,3] w = {
                0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, 1.8,
                -0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8},
              int64[8] pads = {0, 0, 1, 0, 0, 0, 2, 1}> {
            p = Pad(x, pads)
            y = Conv <pads = [1,1,1,1], kernel_shape = [3,3]> (p, w)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-pad-conv", R"(
        input  %x : float32[1,2,4,4]
        init   %w : float32[2,2,3,3] = <36 values, hash 861511bd8268ae83>
        %y = Conv(%x, %w) {pads=[2,1,3,2], kernel_shape=[3,3]} : float32[1,2,7,5]
        output %y : float32[1,2,7,5]
    )");
}

void TestPassFold::padConvVariants_data() {
    QTest::addColumn<QString>("model");
    const QString w = R"(float[2,2,3,3] w = {
                0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, 1.8,
                -0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8})";
    QTest::newRow("opset 10 attribute") << QString(R"(<ir_version: 7, opset_import: ["" : 10]>
        g (float[1,2,4,4] x) => (float[1,2,4,5] y) <%1> {
            p = Pad <pads = [0, 0, 1, 1, 0, 0, 1, 2], value = 0.0> (x)
            y = Conv (p, w)
        })")
                                               .arg(w);
    QTest::newRow("opset 13 explicit zero value, strided")
        << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,5,5] x) => (float[1,2,3,3] y) <%1, int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}, float zero = {0.0}> {
            p = Pad <mode = "constant"> (x, pads, zero)
            y = Conv <strides = [2,2]> (p, w)
        })")
               .arg(w);
    QTest::newRow("opset 18 axes") << QString(R"(<ir_version: 8, opset_import: ["" : 18]>
        g (float[1,2,4,4] x) => (float[1,2,3,5] y) <%1, int64[4] pads = {2, 1, 1, 0}, int64[2] axes = {-1, 2}> {
            p = Pad (x, pads, , axes)
            y = Conv (p, w)
        })")
                                          .arg(w);
    QTest::newRow("average pool count_include_pad")
        << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,2,4,4] x) => (float[1,2,5,5] y) <int64[8] pads = {0, 0, 1, 1, 0, 0, 2, 2}> {
            p = Pad (x, pads)
            y = AveragePool <kernel_shape = [3,3], pads = [0,0,0,0], count_include_pad = 1> (p)
        })");
}

void TestPassFold::padConvVariants() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_FOLDS(m, "fuse-pad-conv", "Pad");
}

void TestPassFold::padConvNoMatch_data() {
    QTest::addColumn<QString>("model");
    const QString head = R"(<ir_version: 8, opset_import: ["" : %1]>
        g (float[1,2,4,4] x) => (%2 y) <float[2,2,3,3] w = {
                0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, 1.8,
                -0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8}, %3> {
            %4
        })";
    auto row = [&](const char* name, int opset, const char* outType, const char* inits,
                   const char* body) {
        QTest::newRow(name) << head.arg(opset).arg(outType, inits, body);
    };
    row("non-zero value", 13, "float[1,2,4,4]",
        "int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}, float v = {1.0}",
        "p = Pad(x, pads, v)  y = Conv(p, w)");
    row("reflect mode", 13, "float[1,2,4,4]", "int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}",
        R"(p = Pad <mode = "reflect"> (x, pads)  y = Conv(p, w))");
    row("pads the channels", 13, "float[1,2,2,2]",
        "int64[8] pads = {0, 1, 0, 0, 0, 1, 0, 0}, float[2,4,3,3] w4 = {"
        "0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, "
        "1.8,"
        "-0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, "
        "-1.7, 1.8,"
        "0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, 1.5, -1.6, 1.7, "
        "1.8,"
        "-0.1, 0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, "
        "-1.7, 1.8}",
        "p = Pad(x, pads)  y = Conv(p, w4)");
    row("pads the batch", 13, "float[3,2,2,2]", "int64[8] pads = {1, 0, 0, 0, 1, 0, 0, 0}",
        "p = Pad(x, pads)  y = Conv(p, w)");
    row("negative pads", 13, "float[1,2,1,2]", "int64[8] pads = {0, 0, -1, 0, 0, 0, 0, 0}",
        "p = Pad(x, pads)  y = Conv(p, w)");
    row("auto_pad", 13, "float[1,2,6,6]", "int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}",
        R"(p = Pad(x, pads)  y = Conv <auto_pad = "SAME_UPPER"> (p, w))");
    row("max pool", 13, "float[1,2,4,4]", "int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}",
        "p = Pad(x, pads)  y = MaxPool <kernel_shape = [3,3]> (p)");
    row("average pool without count_include_pad", 13, "float[1,2,4,4]",
        "int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}",
        "p = Pad(x, pads)  y = AveragePool <kernel_shape = [3,3]> (p)");
    row("pad output shared", 13, "float[1,2,4,4]", "int64[8] pads = {0, 0, 1, 1, 0, 0, 1, 1}",
        "p = Pad(x, pads)  y = Conv(p, w)  q = Relu(p)");
    row("pads from input", 13, "float[1,2,4,4]", "int64[8] pads0 = {0, 0, 1, 1, 0, 0, 1, 1}",
        "pads = Identity(pads0)  p = Pad(x, pads)  y = Conv(p, w)");
    row("pad feeds the weights", 13, "float[1,2,2,2]", "int64[8] pads = {0, 0, 0, 0, 0, 0, 0, 0}",
        "p = Pad(w, pads)  y = Conv(x, p)");
}

void TestPassFold::padConvNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-pad-conv");
}

void TestPassFold::matmulAdd() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[2] b = {0.5, -0.5}> {
            c = MatMul(x, w)
            y = Add(b, c)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fuse-matmul-add", R"(
        input  %x : float32[3,2]
        init   %w : float32[2,2] = [1,2,3,4]
        init   %b : float32[2] = [0.5,-0.5]
        %y = Gemm(%x, %w, %b) : float32[3,2]
        output %y : float32[3,2]
    )");
}

void TestPassFold::matmulAddVariants_data() {
    QTest::addColumn<QString>("model");
    const QString head = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,2] x) => (float[3,4] y) <float[2,4] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8}, %1> {
            c = MatMul(x, w)
            y = %2
            z = Relu(y)
        })";
    QTest::newRow("bias [1,4]") << head.arg("float[1,4] b = {1.0, 2.0, 3.0, 4.0}", "Add(c, b)");
    QTest::newRow("bias [3,1]") << head.arg("float[3,1] b = {1.0, 2.0, 3.0}", "Add(c, b)");
    QTest::newRow("bias [3,4]") << head.arg(
        "float[3,4] b = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0}", "Add(b, c)");
    QTest::newRow("scalar bias") << head.arg("float b = {1.5}", "Add(c, b)");
}

void TestPassFold::matmulAddVariants() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_FOLDS(m, "fuse-matmul-add", "MatMul");
}

void TestPassFold::matmulAddNoMatch_data() {
    QTest::addColumn<QString>("model");
    auto row = [&](const char* name, int opset, const char* in, const char* out, const char* inits,
                   const char* body) {
        QTest::newRow(name) << QString(R"(<ir_version: 7, opset_import: ["" : %1]>
            g (%2) => (%3) <float[2,4] w = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8}, %4> { %5 })")
                                   .arg(opset)
                                   .arg(in, out, inits, body);
    };
    row("rank 3 input", 13, "float[2,3,2] x", "float[2,3,4] y", "float[4] b = {1.0, 2.0, 3.0, 4.0}",
        "c = MatMul(x, w)  y = Add(c, b)");
    row("bias grows the output", 13, "float[3,2] x", "float[2,3,4] y",
        "float[2,1,4] b = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}",
        "c = MatMul(x, w)  y = Add(c, b)");
    row("bias rows with symbolic M", 13, "float[M,2] x", "float[3,4] y",
        "float[3,4] b = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0}",
        "c = MatMul(x, w)  y = Add(c, b)");
    row("bias not constant", 13, "float[3,2] x, float[4] b", "float[3,4] y",
        "float[1] unused = {1.0}", "c = MatMul(x, w)  y = Add(c, b)");
    row("MatMul output shared", 13, "float[3,2] x", "float[3,4] y, float[3,4] c",
        "float[4] b = {1.0, 2.0, 3.0, 4.0}", "c = MatMul(x, w)  y = Add(c, b)");
    row("opset 6", 6, "float[3,2] x", "float[3,4] y", "float[4] b = {1.0, 2.0, 3.0, 4.0}",
        "c = MatMul(x, w)  y = Add(c, b)");
}

void TestPassFold::matmulAddNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fuse-matmul-add");
}

void TestPassFold::mobilenetUnfused() {
    EW_REQUIRE_MODELS();
    const QString path = ew::test::modelsDir() + "/onnx/torchvision-arch/mobilenet_v2_unfused.onnx";
    if (!QFileInfo::exists(path))
        QSKIP("[ew-skip] mobilenet_v2_unfused.onnx not in the models folder");
    auto loaded = onnxfmt::importOnnxFile(path.toStdString());
    QVERIFY2(loaded, loaded ? "" : loaded.error().toString().c_str());
    ir::Model& model = **loaded;
    ir::inferShapes(model);
    const int bnBefore = ew::test::countOp(model, "BatchNormalization");
    QVERIFY(bnBefore > 0);
    const auto nodesBefore = model.graph->nodeCount();

    auto folded = model.clone();
    QVERIFY(ew::test::applyPass(*folded, "fuse-conv-bn"));
    QCOMPARE(ew::test::countOp(*folded, "BatchNormalization"), 0);
    QCOMPARE(folded->graph->nodeCount(), nodesBefore - std::size_t(bnBefore));
    const double diffPass = ew::test::outputsDiff(model, *folded);
    qInfo("fuse-conv-bn: %d BatchNormalization folded, relative diff %g", bnBefore, diffPass);
    QVERIFY2(diffPass >= 0 && diffPass <= 1e-5,
             qPrintable(QString("relative diff %1").arg(diffPass)));

    auto optimized = model.clone();
    opt::OptimizeOptions o;
    o.verifyEachPass = true;
    auto r = opt::optimize(*optimized, o);
    QVERIFY2(r, r ? "" : r.error().toString().c_str());
    QCOMPARE(ew::test::countOp(*optimized, "BatchNormalization"), 0);
    QVERIFY(optimized->graph->nodeCount() < nodesBefore);
    const double diffDefault = ew::test::outputsDiff(model, *optimized);
    qInfo("default pipeline: %zu -> %zu nodes, relative diff %g", nodesBefore,
          optimized->graph->nodeCount(), diffDefault);
    QVERIFY2(diffDefault >= 0 && diffDefault <= 1e-5,
             qPrintable(QString("relative diff %1").arg(diffDefault)));
}

QTEST_GUILESS_MAIN(TestPassFold)
#include "tst_pass_fold.moc"
