// Constants and shapes, and the clean-up passes: fold-constants, simplify-shape-subgraphs,
// eliminate-nop, eliminate-common-subexpressions.
#include "optimize_test_util.h"
#include "test_util.h"

#include <QDir>
#include <QFileInfo>

using namespace ew;
using ew::test::parseModel;

namespace {

/// Runs one pass with a given fold limit (applyPass always uses the default context).
bool applyWithLimit(ir::Model& m, const char* name, std::size_t limit) {
    opt::PassContext ctx(m);
    ctx.foldByteLimit = limit;
    auto r = opt::runPass(m, *opt::findPass(name), ctx, /*verify=*/true);
    if (!r) qWarning("pass %s failed: %s", name, r.error().toString().c_str());
    return r && ctx.changed();
}

/// Runs both models on the inputs of an ONNX test-data folder (input_N.pb, named after the graph
/// inputs) and returns the worst relative difference over the outputs (negative when one fails).
double diffOnTestData(const ir::Model& a, const ir::Model& b, const QString& dir) {
    rt::Session::NamedTensors inputs;
    for (const QString& f : QDir(dir).entryList({"input_*.pb"}, QDir::Files, QDir::Name)) {
        auto t = onnxfmt::readTensorProtoFile(QDir(dir).filePath(f).toStdString());
        if (!t) return -1;
        auto rt = rt::Tensor::fromIr(*t);
        if (!rt) return -1;
        inputs.emplace_back(t->name, std::move(*rt));
    }
    rt::SessionOptions o;
    o.fuse = false;
    o.threads = 1;
    auto sa = rt::Session::create(a, o);
    auto sb = rt::Session::create(b, o);
    if (!sa || !sb) {
        qWarning("cannot create a session: %s", (!sa ? sa.error() : sb.error()).toString().c_str());
        return -1;
    }
    auto ra = (*sa)->run(inputs);
    auto rb = (*sb)->run(inputs);
    if (!ra || !rb) {
        qWarning("cannot run: %s", (!ra ? ra.error() : rb.error()).toString().c_str());
        return -1;
    }
    if (ra->size() != rb->size()) return INFINITY;
    double worst = 0;
    for (std::size_t k = 0; k < ra->size(); ++k)
        worst = std::max(worst, ew::test::relativeDiff((*ra)[k], (*rb)[k]));
    return worst;
}

} // namespace

class TestPassCleanup : public QObject {
    Q_OBJECT
  private slots:
    // fold-constants
    void foldChain();
    void foldKeepsGraphOutputName();
    void foldConstantNodeForms();
    void foldNoMatch_data();
    void foldNoMatch();
    void foldRespectsSizeLimit();
    void foldInsideBodies();
    void foldWholeModel_data();
    void foldWholeModel();
    // simplify-shape-subgraphs
    void shapeAndSizeOfStaticDims();
    void shapeStartEnd();
    void gatherOfStaticDimWithDynamicBatch();
    void shapeNoMatch_data();
    void shapeNoMatch();
    void shapeChainFoldsThroughDefaultPipeline();
    // eliminate-nop
    void nopChainRemoved();
    void nopPadAttributeForm();
    void nopSingleInputs();
    void nopKeepsGraphOutputName();
    void nopNoMatch_data();
    void nopNoMatch();
    // eliminate-common-subexpressions
    void cseMergesInitializersAndChains();
    void cseGraphOutputs();
    void cseConstantNodesByContent();
    void cseNoMatch_data();
    void cseNoMatch();
};

// ---------------------------------------------------------------------------------------------
// fold-constants

void TestPassCleanup::foldChain() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,12] x) => (float[2,3,4] y) <int64[1] a = {2}> {
            c = Constant<value = int64[2] {3, 4}>()
            s = Concat<axis = 0>(a, c)
            y = Reshape(x, s)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fold-constants", R"(
        input  %x : float32[2,12]
        init   %a : int64[1] = [2]
        init   %c : int64[2] = [3,4]
        init   %s : int64[3] = [2,3,4]
        %y = Reshape(%x, %s) : float32[2,3,4]
        output %y : float32[2,3,4]
    )");
}

void TestPassCleanup::foldKeepsGraphOutputName() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y, float[2] k) <float[2] w = {1.0, -2.0}> {
            k = Neg(w)
            y = Add(x, k)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fold-constants", R"(
        input  %x : float32[2]
        init   %w : float32[2] = [1,-2]
        init   %k : float32[2] = [-1,2]
        %y = Add(%x, %k) : float32[2]
        output %y : float32[2]
        output %k : float32[2]
    )");
}

void TestPassCleanup::foldConstantNodeForms() {
    // value_float / value_ints forms become initializers of the right type.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3] x) => (float[3,2] y) {
            f = Constant<value_float = 2.0>()
            s = Constant<value_ints = [3, 2]>()
            a = Mul(x, f)
            y = Reshape(a, s)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fold-constants", R"(
        input  %x : float32[2,3]
        init   %f : float32[] = [2]
        init   %s : int64[2] = [3,2]
        %a = Mul(%x, %f) : float32[2,3]
        %y = Reshape(%a, %s) : float32[3,2]
        output %y : float32[3,2]
    )");
}

void TestPassCleanup::foldNoMatch_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("input not constant") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float[2] w = {1.0, 2.0}> { y = Add(x, w) })";
    QTest::newRow("overridable initializer") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x, float[2] w) => (float[2] y) <float[2] w = {1.0, 2.0}> {
            n = Neg(w)
            y = Add(x, n)
        })";
    QTest::newRow("quantized weight (QDQ)") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <int8[2] wq = {12, -7}, float s = {0.5}, int8 z = {0}> {
            w = DequantizeLinear(wq, s, z)
            y = Mul(x, w)
        })";
    QTest::newRow("training dropout") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float[2] w = {1.0, 2.0}, float r = {0.5}, bool t = {1}> {
            d = Dropout(w, r, t)
            y = Add(x, d)
        })";
    QTest::newRow("random") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float[2] w = {1.0, 2.0}> {
            r = RandomUniformLike(w)
            y = Add(x, r)
        })";
    QTest::newRow("no kernel") << R"(<ir_version: 8, opset_import: ["" : 13, "com.example" : 1]>
        g (float[2] x) => (float[2] y) <float[2] w = {1.0, 2.0}> {
            r = com.example.Unknown(w)
            y = Add(x, r)
        })";
    QTest::newRow("subgraph") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <bool c = {1}, float[2] w = {1.0, 2.0}> {
            r = If(c) <
                then_branch = t () => (float[2] tr) { tr = Neg(w) },
                else_branch = e () => (float[2] er) { er = Abs(w) }
            >
            y = Add(x, r)
        })";
}

void TestPassCleanup::foldNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fold-constants");
}

void TestPassCleanup::foldRespectsSizeLimit() {
    // A slice of a weight another node still reads would duplicate data: not in the default
    // pipeline (the file must not grow), yes in the aggressive one; a weight only the node reads
    // (a Transpose of it) moves without growth and folds.
    {
        std::string w;
        for (int i = 0; i < 4096; ++i) w += (i ? ", " : "") + std::to_string(i % 7) + ".0";
        auto shared = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
            g (float[2048] x, float[4096] x2) => (float[2048] y, float[4096] y2) <float[4096] w = {)" + w +
                                 R"(}, int64[1] b = {0}, int64[1] e = {2048}> {
                h = Slice(w, b, e)
                y = Add(x, h)
                y2 = Add(x2, w)
            })");
        QVERIFY(shared);
        auto m1 = shared->clone();
        opt::PassContext plain(*m1);
        QVERIFY(opt::runPass(*m1, *opt::findPass("fold-constants"), plain, true));
        QCOMPARE(ew::test::countOp(*m1, "Slice"), 1);
        auto m2 = shared->clone();
        opt::PassContext aggressive(*m2);
        aggressive.aggressive = true;
        QVERIFY(opt::runPass(*m2, *opt::findPass("fold-constants"), aggressive, true));
        QCOMPARE(ew::test::countOp(*m2, "Slice"), 0);
        QCOMPARE(ew::test::outputsDiff(*shared, *m2), 0.0);
        auto own = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
            g (float[4096,1] x) => (float[4096,1] y) <float[1,4096] w = {)" + w + R"(}> {
                t = Transpose<perm = [1, 0]>(w)
                y = Add(x, t)
            })");
        QVERIFY(own);
        auto m3 = own->clone();
        QVERIFY(ew::test::applyPass(*m3, "fold-constants"));
        QCOMPARE(ew::test::countOp(*m3, "Transpose"), 0);
        QCOMPARE(ew::test::outputsDiff(*own, *m3), 0.0);
    }
    // ConstantOfShape of 1024x1024 floats (4 MiB) is over the default 1 MiB limit.
    auto big = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1024,1024] x) => (float[1024,1024] y) <int64[2] s = {1024, 1024}> {
            z = ConstantOfShape<value = float[1] {1.0}>(s)
            y = Add(x, z)
        })");
    QVERIFY(big);
    EW_CHECK_NO_MATCH(big, "fold-constants");
    // Expand of one float to 300x300 (360 KB): under the limit, but far bigger than its inputs.
    auto grow = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[300,300] x) => (float[300,300] y) <float[1] v = {1.0}, int64[2] s = {300, 300}> {
            z = Expand(v, s)
            y = Add(x, z)
        })");
    QVERIFY(grow);
    EW_CHECK_NO_MATCH(grow, "fold-constants");
    // An explicit limit: a 40-byte Concat folds under 64 bytes, not under 32.
    auto cat = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[10] x) => (float[10] y) <float[5] a = {1.0, 2.0, 3.0, 4.0, 5.0}> {
            c = Concat<axis = 0>(a, a)
            y = Add(x, c)
        })");
    QVERIFY(cat);
    auto small = cat->clone();
    QVERIFY(!applyWithLimit(*small, "fold-constants", 32));
    QCOMPARE(ew::test::countOp(*small, "Concat"), 1);
    auto enough = cat->clone();
    QVERIFY(applyWithLimit(*enough, "fold-constants", 64));
    QCOMPARE(ew::test::countOp(*enough, "Concat"), 0);
    QCOMPARE(ew::test::outputsDiff(*cat, *enough), 0.0);
}

void TestPassCleanup::foldInsideBodies() {
    // The branch folds Neg of an outer initializer into its own initializer; its output (a body
    // output) is left to a node.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) { n = Neg(w)  ty = Add(x, n) },
                else_branch = e () => (float[2] ey) { ey = Abs(w) }
            >
        })");
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "fold-constants"));
    const auto bodies = after->graph->nodes()[0]->subgraphs();
    QCOMPARE(bodies[0]->nodeCount(), std::size_t(1)); // Add
    QCOMPARE(bodies[0]->initializers.size(), std::size_t(1));
    QCOMPARE(bodies[0]->initializers[0]->name, std::string("n"));
    QCOMPARE(bodies[1]->nodeCount(), std::size_t(1)); // Abs stays: it is the body's output
    QCOMPARE(ew::test::outputsDiff(*m, *after), 0.0);
}

void TestPassCleanup::foldWholeModel_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("allFour"); // also eliminate-nop and eliminate-common-subexpressions
    const char* models[][2] = {
        {"blazeface", "onnx/blazeface/face_detection_front_128x128_barracuda.onnx"},
        {"mobilenet_v2", "onnx/torchvision-arch/mobilenet_v2.onnx"},
        {"silero-vad", "onnx/silero-vad/silero_vad_16k_op15.onnx"},
        {"paddleocr-cls", "onnx/paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"},
    };
    for (const auto& m : models) {
        QTest::newRow((std::string(m[0]) + " fold").c_str()) << QString(m[1]) << false;
        QTest::newRow((std::string(m[0]) + " all four").c_str()) << QString(m[1]) << true;
    }
}

void TestPassCleanup::foldWholeModel() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, path);
    QFETCH(bool, allFour);
    const QString file = QDir(ew::test::modelsDir()).filePath(path);
    if (!QFileInfo::exists(file)) QSKIP(qPrintable("[ew-skip] missing " + file));
    auto loaded = onnxfmt::importOnnxFile(file.toStdString());
    QVERIFY2(loaded, loaded ? "" : loaded.error().toString().c_str());
    ir::Model& before = **loaded;
    ir::inferShapes(before);
    auto after = before.clone();
    opt::OptimizeOptions o;
    o.passes = {"simplify-shape-subgraphs", "fold-constants", "eliminate-dead-nodes",
                "eliminate-unused-initializers"};
    if (allFour)
        o.passes.insert(o.passes.begin(), {"eliminate-nop", "eliminate-common-subexpressions"});
    o.verifyEachPass = true;
    auto r = opt::optimize(*after, o);
    QVERIFY2(r, r ? "" : r.error().toString().c_str());
    auto stats = [&](std::string_view n) {
        const auto it = std::find_if(r->passes.begin(), r->passes.end(),
                                     [&](const auto& s) { return s.name == n; });
        return it == r->passes.end() ? 0 : it->removed + it->fused;
    };
    const int folded = stats("fold-constants"), shapes = stats("simplify-shape-subgraphs");
    qInfo("%lld -> %lld nodes in %d rounds; fold %d, shapes %d, nop %d, cse %d",
          static_cast<long long>(r->before.nodes), static_cast<long long>(r->after.nodes),
          r->rounds, folded, shapes, stats("eliminate-nop"),
          stats("eliminate-common-subexpressions"));
    QVERIFY(folded >= 1);
    QVERIFY(r->after.nodes < r->before.nodes);
    for (const auto& n : after->graph->nodes())
        QVERIFY(n->opType != "Constant");
    // Models with dynamic dims run on their reference inputs, the others on random ones.
    const QString dataDir = file.left(file.size() - 5) + ".test_data_set_0";
    const double diff = QFileInfo::exists(dataDir) ? diffOnTestData(before, *after, dataDir)
                                                   : ew::test::outputsDiff(before, *after);
    QVERIFY2(diff >= 0 && diff <= 1e-5, qPrintable(QString("relative diff %1").arg(diff)));
}

// ---------------------------------------------------------------------------------------------
// simplify-shape-subgraphs

void TestPassCleanup::shapeAndSizeOfStaticDims() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3,4] x) => (int64[2] t, int64 n) <int64[1] b = {1}, int64[1] e = {3}> {
            s = Shape(x)
            n = Size(x)
            t = Slice(s, b, e)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "simplify-shape-subgraphs", R"(
        input  %x : float32[2,3,4]
        init   %b : int64[1] = [1]
        init   %e : int64[1] = [3]
        init   %s : int64[3] = [2,3,4]
        init   %n : int64[] = [24]
        %t = Slice(%s, %b, %e) : int64[2]
        output %t : int64[2]
        output %n : int64[]
    )");
}

void TestPassCleanup::shapeStartEnd() {
    // Opset 15: start/end select dims 1..3 (end -1 is exclusive): [3,4].
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 15]>
        g (float[N,3,4,5] x) => (int64[2] y) {
            y = Shape<start = 1, end = -1>(x)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "simplify-shape-subgraphs", R"(
        input  %x : float32[N,3,4,5]
        init   %y : int64[2] = [3,4]
        output %y : int64[2]
    )");
}

void TestPassCleanup::gatherOfStaticDimWithDynamicBatch() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[N,3,8] x) => (float[N,24] y) <int64[1] i = {-1}, int64[1] m1 = {-1}, int64[1] three = {3}> {
            s = Shape(x)
            d = Gather<axis = 0>(s, i)
            k = Mul(d, three)
            t = Concat<axis = 0>(m1, k)
            y = Reshape(x, t)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "simplify-shape-subgraphs", R"(
        input  %x : float32[N,3,8]
        init   %i : int64[1] = [-1]
        init   %m1 : int64[1] = [-1]
        init   %three : int64[1] = [3]
        init   %d : int64[1] = [8]
        %s = Shape(%x) : int64[3]
        %k = Mul(%d, %three) : int64[1]
        %t = Concat(%m1, %k) {axis=0} : int64[2]
        %y = Reshape(%x, %t) : float32[N,24]
        output %y : float32[N,24]
    )");
}

void TestPassCleanup::shapeNoMatch_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("dynamic dim") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[N,3] x) => (int64[2] y) { y = Shape(x) })";
    QTest::newRow("size with dynamic dim") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[N,3] x) => (int64 y) { y = Size(x) })";
    QTest::newRow("gather of the dynamic dim") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[N,3] x) => (int64[1] y) <int64[1] i = {0}> {
            s = Shape(x)
            y = Gather<axis = 0>(s, i)
        })";
    QTest::newRow("gather index not constant") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[N,3] x, int64[1] i) => (int64[1] y) {
            s = Shape(x)
            y = Gather<axis = 0>(s, i)
        })";
    QTest::newRow("unknown rank") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[] x) => (int64 y) { y = Size(x) })";
}

void TestPassCleanup::shapeNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "simplify-shape-subgraphs");
}

void TestPassCleanup::shapeChainFoldsThroughDefaultPipeline() {
    // The usual exporter chain: Shape -> Gather -> Unsqueeze -> Concat -> Reshape. The default
    // pipeline leaves one constant feeding the Reshape.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3,4] x) => (float[2,12] y) <int64 zero = {0}, int64[1] axes = {0}, int64[1] m1 = {-1}> {
            s = Shape(x)
            d = Gather<axis = 0>(s, zero)
            u = Unsqueeze(d, axes)
            c = Concat<axis = 0>(u, m1)
            y = Reshape(x, c)
        })");
    QVERIFY(m);
    auto after = m->clone();
    opt::OptimizeOptions o;
    o.verifyEachPass = true;
    auto r = opt::optimize(*after, o);
    QVERIFY2(r, r ? "" : r.error().toString().c_str());
    QCOMPARE(QString::fromStdString(ew::test::graphText(*after)),
             QString::fromStdString(ew::test::golden(R"(
        input  %x : float32[2,3,4]
        init   %c : int64[2] = [2,-1]
        %y = Reshape(%x, %c) : float32[2,12]
        output %y : float32[2,12]
    )")));
    QCOMPARE(ew::test::outputsDiff(*m, *after), 0.0);
}

// ---------------------------------------------------------------------------------------------
// eliminate-nop

void TestPassCleanup::nopChainRemoved() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3,4] x) => (float[2,3,4] y)
          <int64[3] shp = {2, 3, 4}, int64[6] pads = {0, 0, 0, 0, 0, 0},
           int64[1] st = {0}, int64[1] en = {100}, int64[1] ax = {1}, int64[1] one = {1}> {
            a = Reshape(x, shp)
            b = Transpose<perm = [0, 1, 2]>(a)
            c = Cast<to = 1>(b)
            d = Pad(c, pads)
            e = Slice(d, st, en, ax, one)
            f = Expand(e, shp)
            y = Relu(f)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-nop", R"(
        input  %x : float32[2,3,4]
        init   %shp : int64[3] = [2,3,4]
        init   %pads : int64[6] = [0,0,0,0,0,0]
        init   %st : int64[1] = [0]
        init   %en : int64[1] = [100]
        init   %ax : int64[1] = [1]
        init   %one : int64[1] = [1]
        %y = Relu(%x) : float32[2,3,4]
        output %y : float32[2,3,4]
    )");
}

void TestPassCleanup::nopPadAttributeForm() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 10]>
        g (float[2,3] x) => (float[2,3] y) {
            p = Pad<pads = [0, 0, 0, 0], mode = "reflect">(x)
            y = Relu(p)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-nop", R"(
        input  %x : float32[2,3]
        %y = Relu(%x) : float32[2,3]
        output %y : float32[2,3]
    )");
}

void TestPassCleanup::nopSingleInputs() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,6] x) => (float[2,6] y) {
            a = Concat<axis = 1>(x)
            b = Flatten<axis = 1>(a)
            c = Sum(b)
            d = Split<axis = 0>(c)
            y = Relu(d)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-nop", R"(
        input  %x : float32[2,6]
        %y = Relu(%x) : float32[2,6]
        output %y : float32[2,6]
    )");
}

void TestPassCleanup::nopKeepsGraphOutputName() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3] x) => (float[2,3] y) {
            a = Relu(x)
            y = Transpose<perm = [0, 1]>(a)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-nop", R"(
        input  %x : float32[2,3]
        %y = Relu(%x) : float32[2,3]
        output %y : float32[2,3]
    )");
}

void TestPassCleanup::nopNoMatch_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("reshape changes shape") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3] x) => (float[3,2] y) <int64[2] s = {3, 2}> { a = Reshape(x, s)  y = Relu(a) })";
    QTest::newRow("reshape with dynamic dim") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[N,3] x) => (float[N,3] y) <int64[2] s = {-1, 3}> { a = Reshape(x, s)  y = Relu(a) })";
    QTest::newRow("transpose swaps") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,3] x) => (float[3,3] y) { a = Transpose<perm = [1, 0]>(x)  y = Relu(a) })";
    QTest::newRow("transpose default perm reverses") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3,3] x) => (float[3,3] y) { a = Transpose(x)  y = Relu(a) })";
    QTest::newRow("cast to another type") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[3] x) => (double[3] y) { a = Cast<to = 11>(x)  y = Relu(a) })";
    QTest::newRow("pad nonzero") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3] x) => (float[2,4] y) <int64[4] p = {0, 0, 0, 1}> { a = Pad(x, p)  y = Relu(a) })";
    QTest::newRow("pad not constant") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3] x, int64[4] p) => (float[?,?] y) { a = Pad(x, p)  y = Relu(a) })";
    QTest::newRow("slice reverses") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[4] x) => (float[4] y) <int64[1] st = {-1}, int64[1] en = {-100}, int64[1] ax = {0}, int64[1] step = {-1}> {
            a = Slice(x, st, en, ax, step)
            y = Relu(a)
        })";
    QTest::newRow("slice shrinks") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[4] x) => (float[3] y) <int64[1] st = {1}, int64[1] en = {4}> {
            a = Slice(x, st, en)
            y = Relu(a)
        })";
    QTest::newRow("expand broadcasts") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,3] x) => (float[2,3] y) <int64[2] s = {2, 3}> { a = Expand(x, s)  y = Relu(a) })";
    QTest::newRow("input straight to output") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,3] x) => (float[2,3] y) { y = Transpose<perm = [0, 1]>(x) })";
    QTest::newRow("two inputs to concat") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[4] y) { y = Concat<axis = 0>(x, x) })";
}

void TestPassCleanup::nopNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "eliminate-nop");
}

// ---------------------------------------------------------------------------------------------
// eliminate-common-subexpressions

void TestPassCleanup::cseMergesInitializersAndChains() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float[2] c1 = {1.0, 2.0}, float[2] c2 = {1.0, 2.0}> {
            a = Relu(x)
            b = Relu(x)
            p = Add(a, c1)
            q = Add(b, c2)
            y = Mul(p, q)
        })");
    QVERIFY(m);
    opt::PassContext ctx(*m);
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "eliminate-common-subexpressions", &ctx));
    int fused = 0;
    for (const auto& c : ctx.changes())
        fused += c.kind == opt::NodeChange::Kind::Fused;
    QCOMPARE(fused, 2);
    EW_CHECK_PASS(m, "eliminate-common-subexpressions", R"(
        input  %x : float32[2]
        init   %c1 : float32[2] = [1,2]
        %a = Relu(%x) : float32[2]
        %p = Add(%a, %c1) : float32[2]
        %y = Mul(%p, %p) : float32[2]
        output %y : float32[2]
    )");
}

void TestPassCleanup::cseGraphOutputs() {
    // Both duplicates are graph outputs: both stay.
    auto both = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y, float[2] z) { y = Relu(x)  z = Relu(x) })");
    QVERIFY(both);
    EW_CHECK_NO_MATCH(both, "eliminate-common-subexpressions");
    // Only the later one is: the survivor takes over its name.
    auto one = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y, float[2] z) { a = Relu(x)  y = Neg(a)  z = Relu(x) })");
    QVERIFY(one);
    EW_CHECK_PASS(one, "eliminate-common-subexpressions", R"(
        input  %x : float32[2]
        %z = Relu(%x) : float32[2]
        %y = Neg(%z) : float32[2]
        output %y : float32[2]
        output %z : float32[2]
    )");
}

void TestPassCleanup::cseConstantNodesByContent() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) {
            c1 = Constant<value = float[2] {0.5, 1.5}>()
            c2 = Constant<value = float[2] {0.5, 1.5}>()
            c3 = Constant<value = float[2] {0.5, 2.5}>()
            a = Mul(x, c1)
            b = Mul(x, c2)
            c = Mul(x, c3)
            s = Add(a, b)
            y = Add(s, c)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-common-subexpressions", R"(
        input  %x : float32[2]
        %c1 = Constant() {value=float32[2] = [0.5,1.5]} : float32[2]
        %c3 = Constant() {value=float32[2] = [0.5,2.5]} : float32[2]
        %a = Mul(%x, %c1) : float32[2]
        %c = Mul(%x, %c3) : float32[2]
        %s = Add(%a, %a) : float32[2]
        %y = Add(%s, %c) : float32[2]
        output %y : float32[2]
    )");
}

void TestPassCleanup::cseNoMatch_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("different attributes") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2,2] x) => (float[2,2] y) {
            a = Softmax<axis = 0>(x)
            b = Softmax<axis = 1>(x)
            y = Add(a, b)
        })";
    QTest::newRow("different float attribute") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) {
            a = LeakyRelu<alpha = 0.1>(x)
            b = LeakyRelu<alpha = 0.2>(x)
            y = Add(a, b)
        })";
    QTest::newRow("inputs in another order") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x, float[2] z) => (float[2] y) {
            a = Sub(x, z)
            b = Sub(z, x)
            y = Add(a, b)
        })";
    QTest::newRow("random") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) {
            a = RandomUniformLike(x)
            b = RandomUniformLike(x)
            y = Add(a, b)
        })";
    QTest::newRow("subgraphs") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) {
            a = If(c) < then_branch = t () => (float[2] ta) { ta = Neg(x) }, else_branch = e () => (float[2] ea) { ea = Abs(x) } >
            b = If(c) < then_branch = t () => (float[2] tb) { tb = Neg(x) }, else_branch = e () => (float[2] eb) { eb = Abs(x) } >
            y = Add(a, b)
        })";
    QTest::newRow("initializers differ") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float[2] c1 = {1.0, 2.0}, float[2] c2 = {1.0, 3.0}> {
            a = Add(x, c1)
            b = Add(x, c2)
            y = Mul(a, b)
        })";
    QTest::newRow("overridable initializer") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x, float[2] c2) => (float[2] y) <float[2] c1 = {1.0, 2.0}, float[2] c2 = {1.0, 2.0}> {
            a = Add(x, c1)
            b = Add(x, c2)
            y = Mul(a, b)
        })";
}

void TestPassCleanup::cseNoMatch() {
    QFETCH(QString, model);
    auto m = parseModel(model.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "eliminate-common-subexpressions");
}

QTEST_GUILESS_MAIN(TestPassCleanup)
#include "tst_pass_cleanup.moc"
