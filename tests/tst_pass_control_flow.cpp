// Passes inside and around control flow: fold-constants in nested If/Loop bodies (operands of
// the body or of any enclosing graph), and eliminate-constant-if.
#include "optimize_test_util.h"
#include "test_util.h"

#include "ir/verifier.h"

#include <regex>

using namespace ew;
using ew::test::parseModel;

class TestPassControlFlow : public QObject {
    Q_OBJECT
  private slots:
    // fold-constants in nested bodies
    void foldBodyWithOuterOperands();
    void foldNestedTwoLevels();
    void foldBodyNoMatch_data();
    void foldBodyNoMatch();
    void foldSharedWeightSlices();
    void foldSharedWeightSlicesNoMatch();
    // eliminate-constant-if
    void constantIfThen();
    void constantIfElseMovesInitializersAndNestedIf();
    void constantIfOutputsKeepNames();
    void constantIfNameClash();
    void constantIfOutputReturnedByAnotherBody();
    void constantIfAfterFolding();
    void constantIfNoMatch_data();
    void constantIfNoMatch();
};

// ---- fold-constants in nested bodies

void TestPassControlFlow::foldBodyWithOuterOperands() {
    // Mul of an outer initializer and a body Constant folds into an initializer of the branch
    // (the outer initializer stays where it is, untouched); the Add reading x stays.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) { k = Constant<value = float[1] {3.0}>()  s = Mul(w, k)  ty = Add(x, s) },
                else_branch = e () => (float[2] ey) { ey = Sub(x, w) }
            >
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fold-constants", R"(
        input  %c : bool[]
        input  %x : float32[2]
        init   %w : float32[2] = [1,-2]
        %y = If(%c) {then_branch=<graph t>, else_branch=<graph e>} : float32[2]
        graph "t" {
        init   %k : float32[1] = [3]
        init   %s : float32[2] = [3,-6]
        %ty = Add(%x, %s) : float32[2]
        output %ty : float32[2]
        }
        graph "e" {
        %ey = Sub(%x, %w) : float32[2]
        output %ey : float32[2]
        }
        output %y : float32[2]
    )");
}

void TestPassControlFlow::foldNestedTwoLevels() {
    // The inner branch multiplies the main graph's w by the middle branch's Constant: both
    // operands live in enclosing graphs, the product becomes the inner branch's initializer.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, bool d, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) {
                    k = Constant<value = float[2] {0.5, 4.0}>()
                    ty = If(d) <
                        then_branch = tt () => (float[2] tty) { p = Mul(w, k)  tty = Add(x, p) },
                        else_branch = te () => (float[2] tey) { tey = Neg(x) }
                    >
                },
                else_branch = e () => (float[2] ey) { ey = Abs(x) }
            >
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "fold-constants", R"(
        input  %c : bool[]
        input  %d : bool[]
        input  %x : float32[2]
        init   %w : float32[2] = [1,-2]
        %y = If(%c) {then_branch=<graph t>, else_branch=<graph e>} : float32[2]
        graph "t" {
        init   %k : float32[2] = [0.5,4]
        %ty = If(%d) {then_branch=<graph tt>, else_branch=<graph te>} : float32[2]
        graph "tt" {
        init   %p : float32[2] = [0.5,-8]
        %tty = Add(%x, %p) : float32[2]
        output %tty : float32[2]
        }
        graph "te" {
        %tey = Neg(%x) : float32[2]
        output %tey : float32[2]
        }
        output %ty : float32[2]
        }
        graph "e" {
        %ey = Abs(%x) : float32[2]
        output %ey : float32[2]
        }
        output %y : float32[2]
    )");
}

void TestPassControlFlow::foldBodyNoMatch_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("branch reads a graph input") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) { s = Mul(x, w)  ty = Neg(s) },
                else_branch = e () => (float[2] ey) { ey = Abs(x) }
            >
        })";
    QTest::newRow("loop-carried value") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (int64 n, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}, bool go = {1}> {
            y = Loop(n, go, x) <
                body = b (int64 i, bool cin, float[2] v) => (bool cout, float[2] vout) {
                    cout = Identity(cin)  m = Mul(v, w)  vout = Add(m, v)
                }
            >
        })";
    QTest::newRow("loop iteration number") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (int64 n, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}, bool go = {1}> {
            y = Loop(n, go, x) <
                body = b (int64 i, bool cin, float[2] v) => (bool cout, float[2] vout) {
                    cout = Identity(cin)  f = Cast<to = 1>(i)  m = Mul(w, f)  vout = Add(m, v)
                }
            >
        })";
    QTest::newRow("branch output") << R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) <float[2] w = {1.0, -2.0}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) { ty = Neg(w) },
                else_branch = e () => (float[2] ey) { ey = Abs(x) }
            >
        })";
}

void TestPassControlFlow::foldBodyNoMatch() {
    QFETCH(QString, text);
    auto m = parseModel(text.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fold-constants");
}

namespace {

/// `w` float[128,32] (16 KiB) read by two row Slices (8 KiB each) that a Concat swaps back,
/// as exporters reorder LSTM gates; `extra` adds a line to the graph.
std::string sliceModel(const std::string& extraOutput, const std::string& extra) {
    std::string w;
    for (int i = 0; i < 128 * 32; ++i) w += (i ? ", " : "") + std::to_string((i % 97) * 0.25 - 12.0);
    return R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,128] x)" + std::string(extraOutput.empty() ? "" : ", float[128,32] x2") + R"() => (float[1,32] y)" + extraOutput + R"()
          <float[128,32] w = {)" + w + R"(}, int64[1] s0 = {0}, int64[1] s1 = {64}, int64[1] s2 = {128}> {
            a = Slice(w, s0, s1)
            b = Slice(w, s1, s2)
            cat = Concat<axis = 0>(b, a)
            y = MatMul(x, cat)
            )" + extra + R"(
        })";
}

} // namespace

void TestPassControlFlow::foldSharedWeightSlices() {
    // Neither Slice alone frees anything (w stays for the other), but together they read all of
    // w and nothing else does: both fold, then the Concat of the two (each read only by it).
    auto m = parseModel(sliceModel("", ""));
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "fold-constants"));
    QCOMPARE(ew::test::countOp(*after, "Slice"), 0);
    QCOMPARE(ew::test::countOp(*after, "Concat"), 0);
    QCOMPARE(ew::test::countOp(*after, "MatMul"), 1);
    QCOMPARE(ew::test::outputsDiff(*m, *after), 0.0);
    // The file does not grow: w is unused now and goes with eliminate-unused-initializers.
    QVERIFY(ew::test::applyPass(*after, "eliminate-unused-initializers"));
    std::size_t bytes = 0, before = 0;
    for (const ir::Value* v : after->graph->initializers) bytes += v->initializer->byteSize();
    for (const ir::Value* v : m->graph->initializers) before += v->initializer->byteSize();
    QCOMPARE(bytes, std::size_t(128 * 32 * 4));
    QVERIFY(bytes <= before);
}

void TestPassControlFlow::foldSharedWeightSlicesNoMatch() {
    // w is also read by a node that does not fold: the slices would duplicate it.
    auto m = parseModel(sliceModel(", float[128,32] z", "z = Add(x2, w)"));
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "fold-constants");
}

// ---- eliminate-constant-if

void TestPassControlFlow::constantIfThen() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <bool c = {1}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) { ty = Neg(x) },
                else_branch = e () => (float[2] ey) { ey = Abs(x) }
            >
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-constant-if", R"(
        input  %x : float32[2]
        init   %c : bool[] = [1]
        %y = Neg(%x) : float32[2]
        output %y : float32[2]
    )");
}

void TestPassControlFlow::constantIfElseMovesInitializersAndNestedIf() {
    // A Constant int64 0 selects else_branch: its initializer and its nested If (which reads the
    // branch's values) move into the main graph, and the Relu reads the branch's output.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool d, float[2] x) => (float[2] z) {
            c = Constant<value = int64 {0}>()
            y = If(c) <
                then_branch = t () => (float[2] ty) { ty = Neg(x) },
                else_branch = e () => (float[2] ey) <float[2] b = {0.5, 1.5}> {
                    s = Add(x, b)
                    ey = If(d) <
                        then_branch = et () => (float[2] ety) { ety = Mul(s, b) },
                        else_branch = ee () => (float[2] eey) { eey = Sub(s, b) }
                    >
                }
            >
            z = Relu(y)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-constant-if", R"(
        input  %d : bool[]
        input  %x : float32[2]
        init   %b : float32[2] = [0.5,1.5]
        %c = Constant() {value=int64[] = [0]} : int64[]
        %s = Add(%x, %b) : float32[2]
        %ey = If(%d) {then_branch=<graph et>, else_branch=<graph ee>} : float32[2]
        graph "et" {
        %ety = Mul(%s, %b) : float32[2]
        output %ety : float32[2]
        }
        graph "ee" {
        %eey = Sub(%s, %b) : float32[2]
        output %eey : float32[2]
        }
        %z = Relu(%ey) : float32[2]
        output %z : float32[2]
    )");
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "eliminate-constant-if"));
    // The nested If's branches now belong to the main graph and read its values.
    const ir::Node* nested = nullptr;
    for (const auto& n : after->graph->nodes())
        if (n->opType == "If") nested = n.get();
    QVERIFY(nested);
    for (const ir::Graph* sg : nested->subgraphs()) {
        QCOMPARE(sg->parent(), after->graph.get());
        QCOMPARE(sg->nodes()[0]->input(0)->graph(), after->graph.get());
    }
}

void TestPassControlFlow::constantIfOutputsKeepNames() {
    // Graph outputs keep their names: a branch node's value takes the name over; a branch that
    // returns an outer value or its own initializer gets an Identity producing the output.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y1, float[2] y2, float[2] y3) <bool c = {1}> {
            y1, y2, y3 = If(c) <
                then_branch = t () => (float[2] a, float[2] q, float[2] n) <float[2] q = {7.0, 8.0}> { n = Neg(x)  a = Identity(x) },
                else_branch = e () => (float[2] e1, float[2] e2, float[2] e3) { e1 = Abs(x)  e2 = Abs(x)  e3 = Abs(x) }
            >
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-constant-if", R"(
        input  %x : float32[2]
        init   %c : bool[] = [1]
        init   %q : float32[2] = [7,8]
        %y3 = Neg(%x) : float32[2]
        %y1 = Identity(%x) : float32[2]
        %y2 = Identity(%q) : float32[2]
        output %y1 : float32[2]
        output %y2 : float32[2]
        output %y3 : float32[2]
    )");
    // A branch that returns the outer x itself, and one value twice (the ONNX text syntax cannot
    // say either, so the branch's outputs are set through the IR).
    auto m2 = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y1, float[2] y2, float[2] y3) <bool c = {1}> {
            y1, y2, y3 = If(c) <
                then_branch = t () => (float[2] ta, float[2] tb, float[2] tc) { ta = Neg(x)  tb = Neg(ta)  tc = Neg(tb) },
                else_branch = e () => (float[2] e1, float[2] e2, float[2] e3) { e1 = Abs(x)  e2 = Abs(x)  e3 = Abs(x) }
            >
        })");
    QVERIFY(m2);
    ir::Graph* then = m2->graph->nodes()[0]->subgraphs()[0];
    ir::Value* ta = then->findValue("ta");
    then->outputs = {m2->graph->findValue("x"), ta, ta};
    while (then->nodes().size() > 1) {
        ir::Node* last = then->nodes().back().get();
        std::vector<ir::Value*> outs = last->outputs();
        then->removeNode(last);
        for (ir::Value* v : outs) then->removeValue(v);
    }
    QVERIFY(ir::verify(*m2).has_value());
    ir::inferShapes(*m2);
    EW_CHECK_PASS(m2, "eliminate-constant-if", R"(
        input  %x : float32[2]
        init   %c : bool[] = [1]
        %y2 = Neg(%x) : float32[2]
        %y1 = Identity(%x) : float32[2]
        %y3 = Identity(%y2) : float32[2]
        output %y1 : float32[2]
        output %y2 : float32[2]
        output %y3 : float32[2]
    )");
}

void TestPassControlFlow::constantIfNameClash() {
    // The branch's s and u are taken (s in the main graph, u in another If's branch): the moved
    // values get fresh names, so no scope shadows another when the model is written.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool d, float[2] x) => (float[2] y, float[2] s, float[2] z) <bool c = {0}> {
            s = Relu(x)
            z = If(d) <
                then_branch = dt () => (float[2] u) { u = Neg(x) },
                else_branch = de () => (float[2] dv) { dv = Abs(x) }
            >
            y = If(c) <
                then_branch = t () => (float[2] ty) { ty = Neg(x) },
                else_branch = e () => (float[2] ey) { s = Sigmoid(x)  u = Mul(s, x)  ey = Add(u, s) }
            >
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-constant-if", R"(
        input  %d : bool[]
        input  %x : float32[2]
        init   %c : bool[] = [0]
        %s = Relu(%x) : float32[2]
        %z = If(%d) {then_branch=<graph dt>, else_branch=<graph de>} : float32[2]
        graph "dt" {
        %u = Neg(%x) : float32[2]
        output %u : float32[2]
        }
        graph "de" {
        %dv = Abs(%x) : float32[2]
        output %dv : float32[2]
        }
        %s_1 = Sigmoid(%x) : float32[2]
        %u_1 = Mul(%s_1, %x) : float32[2]
        %y = Add(%u_1, %s_1) : float32[2]
        output %y : float32[2]
        output %s : float32[2]
        output %z : float32[2]
    )");
}

void TestPassControlFlow::constantIfOutputReturnedByAnotherBody() {
    // Another If's branch returns the constant If's output y itself (set through the IR: the
    // text syntax cannot say it); it must return the inlined Neg's value afterwards.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool d, float[2] x) => (float[2] z) <bool c = {1}> {
            y = If(c) <
                then_branch = t () => (float[2] ty) { ty = Neg(x) },
                else_branch = e () => (float[2] ey) { ey = Abs(x) }
            >
            z = If(d) <
                then_branch = zt () => (float[2] zty) { zty = Identity(y) },
                else_branch = ze () => (float[2] zey) { zey = Sigmoid(y) }
            >
        })");
    QVERIFY(m);
    ir::Graph* zt = m->graph->nodes()[1]->subgraphs()[0];
    zt->outputs = {m->graph->findValue("y")};
    ir::Node* id = zt->nodes()[0].get();
    ir::Value* idOut = id->output(0);
    zt->removeNode(id);
    zt->removeValue(idOut);
    QVERIFY(ir::verify(*m).has_value());
    ir::inferShapes(*m);
    EW_CHECK_PASS(m, "eliminate-constant-if", R"(
        input  %d : bool[]
        input  %x : float32[2]
        init   %c : bool[] = [1]
        %ty = Neg(%x) : float32[2]
        %z = If(%d) {then_branch=<graph zt>, else_branch=<graph ze>} : float32[2]
        graph "zt" {
        output %ty : float32[2]
        }
        graph "ze" {
        %zey = Sigmoid(%ty) : float32[2]
        output %zey : float32[2]
        }
        output %z : float32[2]
    )");
}

void TestPassControlFlow::constantIfAfterFolding() {
    // The exporter's rank test (Equal(Gather(Shape(x), 0), 1)) picks a branch once x's shape is
    // static; with a dynamic batch it stays.
    const std::string text = R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[DIMS] x) => (float[4] y) <int64 i0 = {0}, int64 one = {1}, int64[1] ax = {0}> {
            sh = Shape(x)
            n = Gather(sh, i0)
            c = Equal(n, one)
            y = If(c) <
                then_branch = t () => (float[4] ty) { ty = Squeeze(x, ax) },
                else_branch = e () => (float[4] ey) { r = ReduceSum<keepdims = 0>(x, ax)  ey = Identity(r) }
            >
        })";
    auto run = [](ir::Model& m) {
        opt::OptimizeOptions o;
        o.passes = {"simplify-shape-subgraphs", "fold-constants", "eliminate-constant-if",
                    "eliminate-dead-nodes", "eliminate-unused-initializers"};
        o.verifyEachPass = true;
        auto r = opt::optimize(m, o);
        if (!r) qWarning("%s", r.error().toString().c_str());
        return r.has_value();
    };
    auto fixed = parseModel(std::regex_replace(text, std::regex("DIMS"), "1,4"));
    QVERIFY(fixed);
    auto after = fixed->clone();
    QVERIFY(run(*after));
    QCOMPARE(QString::fromStdString(ew::test::graphText(*after)), QString::fromStdString(ew::test::golden(R"(
        input  %x : float32[1,4]
        init   %ax : int64[1] = [0]
        %y = Squeeze(%x, %ax) : float32[4]
        output %y : float32[4]
    )")));
    QCOMPARE(ew::test::outputsDiff(*fixed, *after), 0.0);

    auto dynamic = parseModel(std::regex_replace(text, std::regex("DIMS"), "N,4"));
    QVERIFY(dynamic);
    auto kept = dynamic->clone();
    QVERIFY(run(*kept));
    QCOMPARE(ew::test::countOp(*kept, "If"), 1);
}

void TestPassControlFlow::constantIfNoMatch_data() {
    QTest::addColumn<QString>("text");
    const char* branches = R"(
            y = If(c) <
                then_branch = t () => (float[2] ty) { ty = Neg(x) },
                else_branch = e () => (float[2] ey) { ey = Abs(x) }
            >
        })";
    QTest::newRow("condition is a graph input") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) {)") + branches;
    QTest::newRow("condition computed from an input") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float zero = {0.0}> { s = ReduceSum(x)  c = Greater(s, zero))") + branches;
    QTest::newRow("condition with two elements") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <bool[2] c = {1, 1}> {)") + branches;
    QTest::newRow("float condition") << QString(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float c = {1.0}> {)") + branches;
}

void TestPassControlFlow::constantIfNoMatch() {
    QFETCH(QString, text);
    auto m = parseModel(text.toStdString());
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "eliminate-constant-if");
}

QTEST_GUILESS_MAIN(TestPassControlFlow)
#include "tst_pass_control_flow.moc"
