// Control-flow CPU kernels (core/runtime/cpu/control_*.cpp: If, Loop, Scan): hand-built graphs
// with exact expected outputs for the tricky semantics (outer-scope values, branches of different
// shapes, trip count and condition combinations, loop-carried shapes that change per iteration,
// swapped carried values, scan axes and directions, opset-8 batches with sequence_lens), the
// errors that must name the node, the session's plan cache, the real models that need If, and
// every ONNX node-suite test that uses one of these ops (the rest of its ops in kernels.def).
#define EW_TEST_COUNT_ALLOCATIONS
#include "kernel_test_util.h"
#include "test_util.h"

#include "common/assert.h"
#include "conformance_runner.h"
#include "ir/graph.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

#include <QFileInfo>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

using namespace ew;
using ir::DataType;
using rt::Tensor;
using test::allocationsDuring;

namespace {

constexpr DataType F = DataType::Float;
constexpr DataType I64 = DataType::Int64;
constexpr DataType B = DataType::Bool;

const std::set<std::string>& familyOps() {
    return test::kernelListOps(test::KernelList::Control);
}

// ---- Small graph-building helpers ------------------------------------------------------------

ir::Value* val(ir::Graph& g, const std::string& name, DataType dt = DataType::Undefined,
               std::optional<std::vector<int64_t>> dims = std::nullopt) {
    ir::Type t;
    if (dt != DataType::Undefined)
        t = ir::Type::tensor(dt, dims ? std::optional(ir::Shape::of(*dims)) : std::nullopt);
    auto v = g.addValue(name, t);
    EW_ASSERT(v.has_value());
    return *v;
}
ir::Value* input(ir::Graph& g, const std::string& name, DataType dt,
                 std::optional<std::vector<int64_t>> dims = {}) {
    ir::Value* v = val(g, name, dt, std::move(dims));
    g.inputs.push_back(v);
    return v;
}
template <typename T>
ir::Value* constant(ir::Graph& g, const std::string& name, DataType dt, std::vector<int64_t> dims,
                    std::vector<T> v) {
    ir::Value* c = val(g, name, dt, dims);
    c->initializer = ir::Tensor::fromVector(name, dt, std::move(dims), v);
    g.initializers.push_back(c);
    return c;
}
ir::Value* op(ir::Graph& g, const std::string& type, const std::vector<ir::Value*>& ins,
              const std::string& out) {
    ir::Value* o = val(g, out);
    g.addNode(type, "", "n_" + out, ins, {o});
    return o;
}
ir::Value* op(ir::Graph& g, const std::string& type, const std::vector<ir::Value*>& ins,
              const std::string& out, ir::Attribute attr) {
    ir::Value* o = op(g, type, ins, out);
    g.nodes().back()->setAttr(std::move(attr));
    return o;
}
/// Attaches `sub` (built with `parent` as its parent) to `node` as graph attribute `name`.
void attachGraph(ir::Node* node, const std::string& name, std::unique_ptr<ir::Graph> sub) {
    sub->setParent(sub->parent(), node);
    ir::Attribute a;
    a.name = name;
    a.type = ir::AttrType::Graph;
    a.g = std::move(sub);
    node->setAttr(std::move(a));
}

Tensor f32(std::vector<int64_t> dims, std::vector<float> v) {
    return Tensor::fromVector(F, std::move(dims), v);
}
Tensor i64(std::vector<int64_t> dims, std::vector<int64_t> v) {
    return Tensor::fromVector(I64, std::move(dims), v);
}
Tensor boolean(bool b) {
    return Tensor::fromVector(B, {}, std::vector<uint8_t>{static_cast<uint8_t>(b)});
}

#define EXPECT_TENSOR(t, dt, dims, ...)                                                            \
    do {                                                                                           \
        QString why_;                                                                              \
        QVERIFY2(test::sameValues((t), test::Out{(dt), dims, std::vector<double> __VA_ARGS__}, 0,  \
                                  0, why_),                                                        \
                 qPrintable(why_));                                                                \
    } while (0)

std::string errorText(const auto& r) {
    return r ? std::string() : r.error().toString();
}

// ---- Models
// --------------------------------------------------------------------------------------

/// y = If(c) then { x + a (outer a), [2] } else { Concat(x, x, a) (shape [6]) }; opset 13.
std::unique_ptr<ir::Model> ifModel(bool constantCond = false, bool cond = true,
                                   bool badElse = false) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    ir::Value* c = constantCond ? constant(g, "c", B, {}, std::vector<uint8_t>{cond})
                                : input(g, "c", B, std::vector<int64_t>{});
    ir::Value* x = input(g, "x", F, std::vector<int64_t>{2});
    ir::Value* a = op(g, "Relu", {x}, "a");
    auto thenG = std::make_unique<ir::Graph>(&g);
    ir::Value* t = op(*thenG, "Add", {x, a}, "t");
    thenG->outputs = {t};
    auto elseG = std::make_unique<ir::Graph>(&g);
    ir::Value* e = badElse
                       ? op(*elseG, "NoSuchOp", {x}, "e")
                       : op(*elseG, "Concat", {x, x, a}, "e", {ir::Attribute::makeInt("axis", 0)});
    elseG->outputs = {e};
    ir::Value* y = val(g, "y");
    ir::Node* n = g.addNode("If", "", "the_if", {c}, {y});
    attachGraph(n, "then_branch", std::move(thenG));
    attachGraph(n, "else_branch", std::move(elseG));
    g.outputs = {y};
    return m;
}

/// Loop with optional M / cond inputs. Body: carried s (float [1]) += iter; cond' = (s < limit)
/// where limit is an outer-scope input; scan output = s * 10. Carried w (float [2]) is swapped
/// with v each iteration (a body that returns its inputs in the other order).
std::unique_ptr<ir::Model> loopModel(bool withM, bool withCond) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 16}};
    ir::Graph& g = *m->graph;
    ir::Value* M = withM ? input(g, "M", I64, std::vector<int64_t>{}) : nullptr;
    ir::Value* c = withCond ? input(g, "cond", B, std::vector<int64_t>{}) : nullptr;
    ir::Value* s0 = input(g, "s0", F, std::vector<int64_t>{1});
    ir::Value* v0 = input(g, "v0", F, std::vector<int64_t>{2});
    ir::Value* w0 = input(g, "w0", F, std::vector<int64_t>{2});
    ir::Value* limit = input(g, "limit", F, std::vector<int64_t>{1});
    auto body = std::make_unique<ir::Graph>(&g);
    ir::Graph& b = *body;
    ir::Value* it = input(b, "it", I64, std::vector<int64_t>{});
    input(b, "cin", B, std::vector<int64_t>{});
    ir::Value* s = input(b, "s", F, std::vector<int64_t>{1});
    ir::Value* v = input(b, "v", F, std::vector<int64_t>{2});
    ir::Value* w = input(b, "w", F, std::vector<int64_t>{2});
    ir::Value* itf =
        op(b, "Cast", {it}, "itf", {ir::Attribute::makeInt("to", static_cast<int64_t>(F))});
    ir::Value* s2 = op(b, "Add", {s, itf}, "s2");
    ir::Value* cout = op(b, "Less", {s2, limit}, "cout");
    ir::Value* ten = constant(b, "ten", F, {}, std::vector<float>{10.f});
    ir::Value* scan = op(b, "Mul", {s2, ten}, "scan");
    scan->type = ir::Type::tensor(F, ir::Shape::of({1})); // gives zero-iteration scans their shape
    b.outputs = {cout, s2, w, v, scan};
    ir::Value* sOut = val(g, "s_final");
    ir::Value* vOut = val(g, "v_final");
    ir::Value* wOut = val(g, "w_final");
    ir::Value* scanOut = val(g, "scans");
    ir::Node* n =
        g.addNode("Loop", "", "the_loop", {M, c, s0, v0, w0}, {sOut, vOut, wOut, scanOut});
    attachGraph(n, "body", std::move(body));
    g.outputs = {sOut, vOut, wOut, scanOut};
    return m;
}

/// Loop whose carried value grows by one element per iteration (Concat): x -> [x, pick...] where
/// pick comes from an If on (iter is even) that reads the top graph's `bias` two levels up. With
/// `scanX` the grown value is also a scan output (whose shape then changes: an error).
std::unique_ptr<ir::Model> growingLoopModel(bool scanX = false) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    ir::Value* M = input(g, "M", I64, std::vector<int64_t>{});
    ir::Value* x0 = input(g, "x0", F, std::vector<int64_t>{1});
    ir::Value* bias = input(g, "bias", F, std::vector<int64_t>{1});
    auto body = std::make_unique<ir::Graph>(&g);
    ir::Graph& b = *body;
    ir::Value* it = input(b, "it", I64, std::vector<int64_t>{});
    ir::Value* cin = input(b, "cin", B, std::vector<int64_t>{});
    ir::Value* x = input(b, "x", F); // shape changes per iteration: declared without one
    ir::Value* two = constant(b, "two", I64, {}, std::vector<int64_t>{2});
    ir::Value* half = op(b, "Div", {it, two}, "half"); // integer division
    ir::Value* back = op(b, "Mul", {half, two}, "back");
    ir::Value* even = op(b, "Equal", {back, it}, "even");
    ir::Value* itf =
        op(b, "Cast", {it}, "itf", {ir::Attribute::makeInt("to", static_cast<int64_t>(F))});
    ir::Value* one = constant(b, "one", I64, {1}, std::vector<int64_t>{1});
    ir::Value* it1 = op(b, "Reshape", {itf, one}, "it1");
    // If even: it1 + bias (bias from two graphs up), else: it1 * 0 - 1
    auto thenG = std::make_unique<ir::Graph>(&b);
    ir::Value* tv = op(*thenG, "Add", {it1, bias}, "tv");
    thenG->outputs = {tv};
    auto elseG = std::make_unique<ir::Graph>(&b);
    ir::Value* mone = constant(*elseG, "mone", F, {1}, std::vector<float>{-1.f});
    elseG->outputs = {mone}; // a branch returning one of its own initializers
    ir::Value* pick = val(b, "pick");
    ir::Node* ifn = b.addNode("If", "", "inner_if", {even}, {pick});
    attachGraph(ifn, "then_branch", std::move(thenG));
    attachGraph(ifn, "else_branch", std::move(elseG));
    ir::Value* x2 = op(b, "Concat", {x, pick}, "x2", {ir::Attribute::makeInt("axis", 0)});
    ir::Value* cout = op(b, "Identity", {cin}, "cout");
    b.outputs = {cout, x2};
    std::vector<ir::Value*> outs = {val(g, "x_final")};
    if (scanX) {
        b.outputs.push_back(x2);
        outs.push_back(val(g, "scan_x"));
    }
    ir::Node* n = g.addNode("Loop", "", "grow_loop", {M, nullptr, x0}, outs);
    attachGraph(n, "body", std::move(body));
    g.outputs = outs;
    return m;
}

/// Scan (opset 16): state acc [2] += row of X (rows along inAxis); scan output [2,2] = [acc; acc].
std::unique_ptr<ir::Model> scan9Model(int64_t inAxis, int64_t inDir, int64_t outAxis,
                                      int64_t outDir) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 16}};
    ir::Graph& g = *m->graph;
    ir::Value* init = input(g, "init", F, std::vector<int64_t>{2});
    ir::Value* X = input(g, "X", F);
    auto body = std::make_unique<ir::Graph>(&g);
    ir::Graph& b = *body;
    ir::Value* acc = input(b, "acc", F, std::vector<int64_t>{2});
    ir::Value* row = input(b, "row", F, std::vector<int64_t>{2});
    ir::Value* acc2 = op(b, "Add", {acc, row}, "acc2");
    ir::Value* pair =
        op(b, "Unsqueeze", {acc2, constant(b, "ax", I64, {1}, std::vector<int64_t>{0})}, "pair");
    ir::Value* both =
        op(b, "Concat", {pair, pair}, "both", {ir::Attribute::makeInt("axis", 0)}); // [2,2]
    b.outputs = {acc2, both};
    ir::Value* fin = val(g, "final");
    ir::Value* ys = val(g, "ys");
    ir::Node* n = g.addNode("Scan", "", "the_scan", {init, X}, {fin, ys});
    n->setAttr(ir::Attribute::makeInt("num_scan_inputs", 1));
    n->setAttr(ir::Attribute::makeInts("scan_input_axes", {inAxis}));
    n->setAttr(ir::Attribute::makeInts("scan_input_directions", {inDir}));
    n->setAttr(ir::Attribute::makeInts("scan_output_axes", {outAxis}));
    n->setAttr(ir::Attribute::makeInts("scan_output_directions", {outDir}));
    attachGraph(n, "body", std::move(body));
    g.outputs = {fin, ys};
    return m;
}

/// Scan (opset 8): batch axis, sequence_lens, reverse direction. Body: acc += x; y = acc.
std::unique_ptr<ir::Model> scan8Model(bool reverse) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 8}};
    ir::Graph& g = *m->graph;
    ir::Value* lens = input(g, "lens", DataType::Int32, std::vector<int64_t>{2});
    ir::Value* init = input(g, "init", F, std::vector<int64_t>{2, 1});
    ir::Value* X = input(g, "X", F, std::vector<int64_t>{2, 3, 1});
    auto body = std::make_unique<ir::Graph>(&g);
    ir::Graph& b = *body;
    ir::Value* acc = input(b, "acc", F, std::vector<int64_t>{1});
    ir::Value* x = input(b, "x", F, std::vector<int64_t>{1});
    ir::Value* acc2 = op(b, "Add", {acc, x}, "acc2");
    ir::Value* y = op(b, "Identity", {acc2}, "y");
    b.outputs = {acc2, y};
    ir::Value* fin = val(g, "final");
    ir::Value* ys = val(g, "ys");
    ir::Node* n = g.addNode("Scan", "", "scan8", {lens, init, X}, {fin, ys});
    n->setAttr(ir::Attribute::makeInt("num_scan_inputs", 1));
    n->setAttr(ir::Attribute::makeInts("directions", {reverse ? 1 : 0}));
    attachGraph(n, "body", std::move(body));
    g.outputs = {fin, ys};
    return m;
}

/// Loop of M iterations swapping two carried values of different shapes (a [2], b [3]) and
/// adding 1 to each: the body's input signature alternates every iteration.
std::unique_ptr<ir::Model> swapShapesLoopModel() {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 17}};
    ir::Graph& g = *m->graph;
    ir::Value* M = input(g, "M", I64, std::vector<int64_t>{});
    ir::Value* a0 = input(g, "a0", F, std::vector<int64_t>{2});
    ir::Value* b0 = input(g, "b0", F, std::vector<int64_t>{3});
    auto body = std::make_unique<ir::Graph>(&g);
    ir::Graph& b = *body;
    input(b, "it", I64, std::vector<int64_t>{});
    ir::Value* cin = input(b, "cin", B, std::vector<int64_t>{});
    ir::Value* a = input(b, "a", F);
    ir::Value* bb = input(b, "b", F);
    ir::Value* one = constant(b, "one", F, {}, std::vector<float>{1.f});
    ir::Value* a1 = op(b, "Add", {a, one}, "a1");
    ir::Value* b1 = op(b, "Add", {bb, one}, "b1");
    ir::Value* cout = op(b, "Identity", {cin}, "cout");
    b.outputs = {cout, b1, a1};
    ir::Value* af = val(g, "a_final");
    ir::Value* bf = val(g, "b_final");
    ir::Node* n = g.addNode("Loop", "", "swap_loop", {M, nullptr, a0, b0}, {af, bf});
    attachGraph(n, "body", std::move(body));
    g.outputs = {af, bf};
    return m;
}

/// x [n] -> Relu -> y: plans for each input length.
std::unique_ptr<ir::Model> reluModel() {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", 17}};
    ir::Graph& g = *m->graph;
    ir::Value* x = input(g, "x", F);
    ir::Value* two = constant(g, "two", F, {}, std::vector<float>{2.f});
    ir::Value* h = op(g, "Mul", {x, two}, "h");
    ir::Value* y = op(g, "Relu", {h}, "y");
    g.outputs = {y};
    return m;
}

// ---- Node suite helpers ------------------------------------------------------------------------

/// Every node of the graph and its subgraphs.
void collectNodes(const ir::Graph& g, std::vector<const ir::Node*>& out) {
    for (const auto& n : g.nodes()) {
        out.push_back(n.get());
        for (const ir::Graph* s : n->subgraphs())
            collectNodes(*s, out);
    }
}

} // namespace

class TestKernelsControl : public QObject {
    Q_OBJECT
  private slots:
    void registered();
    void ifPicksBranchWithOuterScope();
    void ifConstantConditionCompilesTakenBranchOnly();
    void ifConditionMustHaveOneElement();
    void loopTripCountAndCondition_data();
    void loopTripCountAndCondition();
    void loopCarriedShapeGrowsWithNestedIf();
    void loopSteadyStateAllocatesNothing();
    void loopAlternatingShapesUseCachedPlans();
    void loopErrorsNameTheNode();
    void scan9AxesAndDirections_data();
    void scan9AxesAndDirections();
    void scan8BatchAndSequenceLens();
    void sequenceValuesRefusedAtCreation();
    void planCacheKeepsAlternatingShapes();
    void realModels_data();
    void realModels();
    void nodeSuite();
};

void TestKernelsControl::registered() {
    for (const std::string& o : familyOps())
        QVERIFY2(rt::findCpuKernel("", o, 21) != nullptr, o.c_str());
    QVERIFY(rt::findCpuKernel("", "If", 1) && rt::findCpuKernel("", "Loop", 1) &&
            rt::findCpuKernel("", "Scan", 8));
    QVERIFY(rt::findCpuKernel("", "Scan", 7) == nullptr); // no Scan before opset 8
}

void TestKernelsControl::ifPicksBranchWithOuterScope() {
    auto m = ifModel();
    for (int threads : {1, 2}) {
        rt::SessionOptions opt;
        opt.threads = threads;
        auto s = rt::Session::create(*m, opt);
        QVERIFY2(s.has_value(), errorText(s).c_str());
        Tensor x = f32({2}, {-1.5f, 2.f});
        // then, else, then again (the plan must follow the branch's shape each time), else again.
        for (int rep = 0; rep < 2; ++rep) {
            auto t = (*s)->run({{"c", boolean(true)}, {"x", x}});
            QVERIFY2(t.has_value(), errorText(t).c_str());
            EXPECT_TENSOR((*t)[0], F, {2}, {-1.5, 4});
            auto e = (*s)->run({{"c", boolean(false)}, {"x", x}});
            QVERIFY2(e.has_value(), errorText(e).c_str());
            EXPECT_TENSOR((*e)[0], F, {6}, {-1.5, 2, -1.5, 2, 0, 2});
        }
    }
}

void TestKernelsControl::ifConstantConditionCompilesTakenBranchOnly() {
    // The else branch holds an op without a kernel: fine while the condition is a constant true.
    auto goodModel = ifModel(true, true, true); // sessions borrow the IR: keep it alive
    auto good = rt::Session::create(*goodModel);
    QVERIFY2(good.has_value(), errorText(good).c_str());
    auto r = (*good)->run({{"x", f32({2}, {3, -4})}});
    QVERIFY2(r.has_value(), errorText(r).c_str());
    EXPECT_TENSOR((*r)[0], F, {2}, {6, -4});
    // With a run-time condition both branches compile: the error names the If node and the op.
    auto badModel = ifModel(false, true, true);
    auto bad = rt::Session::create(*badModel);
    QVERIFY(!bad.has_value());
    std::string msg = bad.error().toString();
    QVERIFY2(msg.find("the_if") != std::string::npos && msg.find("NoSuchOp") != std::string::npos,
             msg.c_str());
    QCOMPARE(bad.error().code, StatusCode::Unsupported);
}

void TestKernelsControl::ifConditionMustHaveOneElement() {
    auto m = ifModel();
    m->graph->inputs[0]->type = ir::Type::tensor(B); // any shape
    auto s = rt::Session::create(*m);
    QVERIFY(s.has_value());
    Tensor two = Tensor::fromVector(B, {2}, std::vector<uint8_t>{1, 1});
    auto r = (*s)->run({{"c", two}, {"x", f32({2}, {1, 2})}});
    QVERIFY(!r.has_value());
    QVERIFY2(r.error().toString().find("the_if") != std::string::npos,
             r.error().toString().c_str());
}

void TestKernelsControl::loopTripCountAndCondition_data() {
    QTest::addColumn<bool>("withM");
    QTest::addColumn<int64_t>("M");
    QTest::addColumn<bool>("withCond");
    QTest::addColumn<bool>("cond");
    QTest::addColumn<float>("limit");
    QTest::addColumn<int>("iterations");
    // s goes 0 -> 0, 1, 3, 6, 10, 15 (s += iter); the body's condition is s' < limit.
    QTest::newRow("M only, condition never false")
        << true << int64_t(4) << false << true << 1e9f << 4;
    QTest::newRow("M limits before condition") << true << int64_t(3) << true << true << 100.f << 3;
    QTest::newRow("condition stops before M")
        << true << int64_t(10) << true << true << 5.f << 4; // 6 >= 5 at iter 3
    QTest::newRow("condition only")
        << false << int64_t(0) << true << true << 10.f << 5; // 10 >= 10 at iter 4
    QTest::newRow("neither: runs until condition")
        << false << int64_t(0) << false << true << 2.f << 3;
    QTest::newRow("M = 0") << true << int64_t(0) << true << true << 100.f << 0;
    QTest::newRow("initial condition false") << true << int64_t(5) << true << false << 100.f << 0;
}

void TestKernelsControl::loopTripCountAndCondition() {
    QFETCH(bool, withM);
    QFETCH(int64_t, M);
    QFETCH(bool, withCond);
    QFETCH(bool, cond);
    QFETCH(float, limit);
    QFETCH(int, iterations);
    auto m = loopModel(withM, withCond);
    auto s = rt::Session::create(*m);
    QVERIFY2(s.has_value(), errorText(s).c_str());
    rt::Session::NamedTensors in;
    if (withM) in.emplace_back("M", i64({}, {M}));
    if (withCond) in.emplace_back("cond", boolean(cond));
    in.emplace_back("s0", f32({1}, {0}));
    in.emplace_back("v0", f32({2}, {1, 2}));
    in.emplace_back("w0", f32({2}, {3, 4}));
    in.emplace_back("limit", f32({1}, {limit}));
    for (int rep = 0; rep < 2; ++rep) {
        auto r = (*s)->run(in);
        QVERIFY2(r.has_value(), errorText(r).c_str());
        double sum = 0;
        std::vector<double> scans;
        for (int i = 0; i < iterations; ++i)
            scans.push_back((sum += i) * 10);
        EXPECT_TENSOR((*r)[0], F, {1}, {sum});
        // v and w swap every iteration.
        bool odd = iterations % 2 == 1;
        EXPECT_TENSOR((*r)[1], F, {2}, {odd ? 3. : 1., odd ? 4. : 2.});
        EXPECT_TENSOR((*r)[2], F, {2}, {odd ? 1. : 3., odd ? 2. : 4.});
        EXPECT_TENSOR((*r)[3], F, (std::vector<int64_t>{iterations, 1}), (scans));
    }
}

void TestKernelsControl::loopCarriedShapeGrowsWithNestedIf() {
    auto m = growingLoopModel();
    auto s = rt::Session::create(*m);
    QVERIFY2(s.has_value(), errorText(s).c_str());
    for (int64_t M : {5, 2, 5, 0}) {
        auto r = (*s)->run({{"M", i64({}, {M})}, {"x0", f32({1}, {7})}, {"bias", f32({1}, {100})}});
        QVERIFY2(r.has_value(), errorText(r).c_str());
        std::vector<double> want = {7};
        for (int64_t i = 0; i < M; ++i)
            want.push_back(i % 2 == 0 ? 100. + static_cast<double>(i) : -1.);
        EXPECT_TENSOR((*r)[0], F, {M + 1}, (want));
    }
    // Every iteration is a new body signature: each one plans (timing for the report).
    auto t0 = std::chrono::steady_clock::now();
    auto r = (*s)->run({{"M", i64({}, {300})}, {"x0", f32({1}, {7})}, {"bias", f32({1}, {100})}});
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    QVERIFY(r.has_value());
    QCOMPARE((*r)[0].numElements(), int64_t(301));
    qInfo("300 iterations growing the carried value: %lld us", static_cast<long long>(us));
}

void TestKernelsControl::loopSteadyStateAllocatesNothing() {
    // 1000 iterations of a fixed-shape body: after the first run the body runs from its plan and
    // the loop reuses its buffers (double-buffered outputs, scan bytes), so a run allocates nothing.
    auto m = loopModel(true, false);
    auto s = rt::Session::create(*m);
    QVERIFY(s.has_value());
    rt::Session::NamedTensors in;
    in.emplace_back("M", i64({}, {1000}));
    in.emplace_back("s0", f32({1}, {0}));
    in.emplace_back("v0", f32({2}, {1, 2}));
    in.emplace_back("w0", f32({2}, {3, 4}));
    in.emplace_back("limit", f32({1}, {1e9f}));
    std::vector<Tensor> out;
    QVERIFY((*s)->run(in, out).has_value());
    QVERIFY((*s)->run(in, out).has_value());
    bool ok = false;
    auto t0 = std::chrono::steady_clock::now();
    const long allocs = allocationsDuring([&] { ok = (*s)->run(in, out).has_value(); });
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    QVERIFY(ok);
    qInfo("1000-iteration Loop: %lld us, %ld allocations", static_cast<long long>(us), allocs);
    QVERIFY2(allocs == 0, qPrintable(QString("%1 allocations").arg(allocs)));
    QCOMPARE(out[0].data<float>()[0], 499500.f);
}

void TestKernelsControl::loopAlternatingShapesUseCachedPlans() {
    // The body's signature alternates ([2],[3]) / ([3],[2]): the body session keeps both plans,
    // so after warm-up a 1000-iteration run allocates nothing (with one plan it would re-plan,
    // allocating, every iteration).
    auto m = swapShapesLoopModel();
    auto s = rt::Session::create(*m);
    QVERIFY2(s.has_value(), errorText(s).c_str());
    for (int64_t M : {0, 1, 4, 7}) {
        auto r =
            (*s)->run({{"M", i64({}, {M})}, {"a0", f32({2}, {1, 2})}, {"b0", f32({3}, {5, 6, 7})}});
        QVERIFY2(r.has_value(), errorText(r).c_str());
        double k = static_cast<double>(M);
        if (M % 2 == 0) {
            EXPECT_TENSOR((*r)[0], F, {2}, {1 + k, 2 + k});
            EXPECT_TENSOR((*r)[1], F, {3}, {5 + k, 6 + k, 7 + k});
        } else {
            EXPECT_TENSOR((*r)[0], F, {3}, {5 + k, 6 + k, 7 + k});
            EXPECT_TENSOR((*r)[1], F, {2}, {1 + k, 2 + k});
        }
    }
    rt::Session::NamedTensors in;
    in.emplace_back("M", i64({}, {1000}));
    in.emplace_back("a0", f32({2}, {1, 2}));
    in.emplace_back("b0", f32({3}, {5, 6, 7}));
    std::vector<Tensor> out;
    QVERIFY((*s)->run(in, out).has_value());
    bool ok = false;
    auto t0 = std::chrono::steady_clock::now();
    const long allocs = allocationsDuring([&] { ok = (*s)->run(in, out).has_value(); });
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    QVERIFY(ok);
    qInfo("1000-iteration Loop with alternating body shapes: %lld us, %ld allocations",
          static_cast<long long>(us), allocs);
    QCOMPARE(allocs, 0L);
    EXPECT_TENSOR(out[0], F, {2}, {1001, 1002});
}

void TestKernelsControl::loopErrorsNameTheNode() {
    // The scan output changes shape between iterations (the growing value as a scan output).
    auto m = growingLoopModel(true);
    auto s = rt::Session::create(*m);
    QVERIFY2(s.has_value(), errorText(s).c_str());
    auto r = (*s)->run({{"M", i64({}, {3})}, {"x0", f32({1}, {7})}, {"bias", f32({1}, {100})}});
    QVERIFY(!r.has_value());
    std::string msg = r.error().toString();
    QVERIFY2(msg.find("grow_loop") != std::string::npos &&
                 msg.find("scan output 0 changed") != std::string::npos,
             msg.c_str());
    // One iteration is fine.
    auto ok = (*s)->run({{"M", i64({}, {1})}, {"x0", f32({1}, {7})}, {"bias", f32({1}, {100})}});
    QVERIFY2(ok.has_value(), errorText(ok).c_str());
    EXPECT_TENSOR((*ok)[1], F, (std::vector<int64_t>{1, 2}), ({7, 100}));
}

void TestKernelsControl::scan9AxesAndDirections_data() {
    QTest::addColumn<int64_t>("inAxis");
    QTest::addColumn<int64_t>("inDir");
    QTest::addColumn<int64_t>("outAxis");
    QTest::addColumn<int64_t>("outDir");
    QTest::newRow("forward axis 0") << int64_t(0) << int64_t(0) << int64_t(0) << int64_t(0);
    QTest::newRow("input axis 1") << int64_t(1) << int64_t(0) << int64_t(0) << int64_t(0);
    QTest::newRow("input axis -1 reversed")
        << int64_t(-1) << int64_t(1) << int64_t(0) << int64_t(0);
    QTest::newRow("output axis 1") << int64_t(0) << int64_t(0) << int64_t(1) << int64_t(0);
    QTest::newRow("output axis -1 reversed")
        << int64_t(0) << int64_t(0) << int64_t(-1) << int64_t(1);
    QTest::newRow("all reversed, output axis 2")
        << int64_t(1) << int64_t(1) << int64_t(2) << int64_t(1);
}

void TestKernelsControl::scan9AxesAndDirections() {
    QFETCH(int64_t, inAxis);
    QFETCH(int64_t, inDir);
    QFETCH(int64_t, outAxis);
    QFETCH(int64_t, outDir);
    // Rows r0..r2 (each [2]); X laid out with the sequence along inAxis.
    const std::vector<std::vector<float>> rows = {{1, 10}, {2, 20}, {3, 30}};
    const bool seqLast = inAxis == 1 || inAxis == -1;
    std::vector<float> xs;
    if (!seqLast)
        for (auto& r : rows)
            xs.insert(xs.end(), r.begin(), r.end());
    else
        for (int c = 0; c < 2; ++c)
            for (auto& r : rows)
                xs.push_back(r[c]);
    Tensor X = f32(seqLast ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{3, 2}, xs);
    auto m = scan9Model(inAxis, inDir, outAxis, outDir);
    auto s = rt::Session::create(*m);
    QVERIFY2(s.has_value(), errorText(s).c_str());
    auto r = (*s)->run({{"init", f32({2}, {0.5f, 0.25f})}, {"X", X}});
    QVERIFY2(r.has_value(), errorText(r).c_str());
    // Accumulated states per iteration t (rows taken in scan order).
    std::vector<std::array<double, 2>> acc;
    double a0 = 0.5, a1 = 0.25;
    for (int t = 0; t < 3; ++t) {
        const auto& row = rows[inDir ? 2 - t : t];
        a0 += row[0];
        a1 += row[1];
        acc.push_back({a0, a1});
    }
    EXPECT_TENSOR((*r)[0], F, {2}, {a0, a1});
    // Per-iteration output [2,2] (both rows = acc); stacked at outAxis (normalized over rank 3).
    int64_t ax = outAxis < 0 ? outAxis + 3 : outAxis;
    std::vector<int64_t> dims = {2, 2};
    dims.insert(dims.begin() + ax, 3);
    std::vector<double> want(12);
    for (int64_t i = 0; i < 3; ++i)
        for (int64_t p = 0; p < 2; ++p)
            for (int64_t q = 0; q < 2; ++q) {
                int64_t t = outDir ? 2 - i : i; // position i holds iteration t
                int64_t idx[3];
                int64_t inner[2] = {p, q};
                for (int64_t d = 0, k = 0; d < 3; ++d)
                    idx[d] = d == ax ? i : inner[k++];
                want[static_cast<std::size_t>((idx[0] * dims[1] + idx[1]) * dims[2] + idx[2])] =
                    acc[t][q];
            }
    EXPECT_TENSOR((*r)[1], F, (dims), (want));
}

void TestKernelsControl::scan8BatchAndSequenceLens() {
    for (bool reverse : {false, true}) {
        auto m = scan8Model(reverse);
        auto s = rt::Session::create(*m);
        QVERIFY2(s.has_value(), errorText(s).c_str());
        Tensor lens = Tensor::fromVector(DataType::Int32, {2}, std::vector<int32_t>{3, 2});
        auto r = (*s)->run({{"lens", lens},
                            {"init", f32({2, 1}, {0, 100})},
                            {"X", f32({2, 3, 1}, {1, 2, 3, 4, 5, 6})}});
        QVERIFY2(r.has_value(), errorText(r).c_str());
        EXPECT_TENSOR((*r)[0], F, (std::vector<int64_t>{2, 1}), ({6, 109}));
        // Batch 1 has length 2: its third row is zero. Reverse reads x within the valid length.
        if (!reverse)
            EXPECT_TENSOR((*r)[1], F, (std::vector<int64_t>{2, 3, 1}), ({1, 3, 6, 104, 109, 0}));
        else
            EXPECT_TENSOR((*r)[1], F, (std::vector<int64_t>{2, 3, 1}), ({3, 5, 6, 105, 109, 0}));
        Tensor bad = Tensor::fromVector(DataType::Int32, {2}, std::vector<int32_t>{3, 4});
        auto e = (*s)->run({{"lens", bad},
                            {"init", f32({2, 1}, {0, 100})},
                            {"X", f32({2, 3, 1}, {1, 2, 3, 4, 5, 6})}});
        QVERIFY(!e.has_value());
        QVERIFY2(e.error().toString().find("scan8") != std::string::npos,
                 e.error().toString().c_str());
    }
}

void TestKernelsControl::sequenceValuesRefusedAtCreation() {
    auto m = loopModel(true, false);
    ir::Graph& body = *m->graph->nodes().back()->subgraphs()[0];
    ir::Type seq;
    seq.kind = ir::Type::Kind::Sequence;
    seq.inner = std::make_shared<ir::Type>(ir::Type::tensor(F));
    body.inputs[3]->type = seq;
    auto s = rt::Session::create(*m);
    QVERIFY(!s.has_value());
    std::string msg = s.error().toString();
    QVERIFY2(msg.find("the_loop") != std::string::npos && msg.find("sequence") != std::string::npos,
             msg.c_str());
    QCOMPARE(s.error().code, StatusCode::Unsupported);
}

void TestKernelsControl::planCacheKeepsAlternatingShapes() {
    auto m = reluModel();
    std::vector<float> a(1000), b(37);
    for (std::size_t i = 0; i < a.size(); ++i)
        a[i] = static_cast<float>(i % 11) - 5.f;
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = 3.f - static_cast<float>(i);
    Tensor ta = f32({1000}, a), tb = f32({37}, b);
    for (int cache : {1, 2}) {
        rt::SessionOptions opt;
        opt.planCache = cache;
        auto s = rt::Session::create(*m, opt);
        QVERIFY(s.has_value());
        rt::Session::NamedTensors ia{{"x", ta}}, ib{{"x", tb}};
        std::vector<Tensor> oa, ob;
        QVERIFY((*s)->run(ia, oa).has_value());
        QVERIFY((*s)->run(ib, ob).has_value());
        bool ok = true;
        const long allocs = allocationsDuring([&] {
            for (int i = 0; i < 4; ++i)
                ok = ok && (*s)->run(ia, oa).has_value() && (*s)->run(ib, ob).has_value();
        });
        QVERIFY(ok);
        for (std::size_t i = 0; i < a.size(); ++i)
            QCOMPARE(oa[0].data<float>()[i], std::max(0.f, 2 * a[i]));
        for (std::size_t i = 0; i < b.size(); ++i)
            QCOMPARE(ob[0].data<float>()[i], std::max(0.f, 2 * b[i]));
        rt::PlanStats st = (*s)->planStats();
        if (cache == 1) { // every switch re-plans (and allocates)
            QCOMPARE(st.plansBuilt, 10);
            QCOMPARE(st.planCacheHits, 0);
            QVERIFY(allocs > 0);
        } else { // both plans kept: switching allocates nothing
            QCOMPARE(st.plansBuilt, 2);
            QCOMPARE(st.planCacheHits, 8);
            QCOMPARE(allocs, 0L);
        }
    }
    // A third shape with room for two plans evicts the least recently used one.
    rt::SessionOptions opt;
    opt.planCache = 2;
    auto s = rt::Session::create(*m, opt);
    QVERIFY(s.has_value());
    Tensor tc = f32({5}, {1, -1, 2, -2, 3});
    for (const Tensor* t : {&ta, &tb, &ta, &tc, &ta, &tb})
        QVERIFY((*s)->run({{"x", *t}}).has_value());
    // a, b planned; a hit; c planned (evicts b); a hit; b planned again.
    QCOMPARE((*s)->planStats().plansBuilt, 4);
    QCOMPARE((*s)->planStats().planCacheHits, 2);
    auto last = (*s)->run({{"x", tc}});
    QVERIFY(last.has_value());
    EXPECT_TENSOR((*last)[0], F, {5}, {2, 0, 4, 0, 6}); // c was evicted by b: planned again
    QCOMPARE((*s)->planStats().plansBuilt, 5);
}

void TestKernelsControl::realModels_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("silero-vad 16k (If)") << "onnx/silero-vad/silero_vad_16k_op15";
    QTest::newRow("openwakeword hey_jarvis (If)") << "onnx/openwakeword/hey_jarvis_v0.1";
}

void TestKernelsControl::realModels() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    const QString base = test::modelsDir() + "/" + model;
    if (!QFileInfo::exists(base + ".onnx"))
        QSKIP(qPrintable("[ew-skip] " + base + ".onnx not found"));
    // Reference outputs from a peer runtime: compared with atol 1e-4.
    const cli::ConformanceCase c{model.toStdString(),
                                 (base + ".onnx").toStdString(),
                                 {(base + ".test_data_set_0").toStdString()},
                                 true};
    cli::ConformanceOptions opts;
    opts.runsPerDataSet = 2; // the second run goes through the plan
    const cli::CaseResult r = cli::runConformanceCase(c, opts);
    QVERIFY2(r.outcome == cli::Outcome::Pass, r.reason.c_str());
    QVERIFY2(std::any_of(r.ops.begin(), r.ops.end(),
                         [](const std::string& op) { return familyOps().count(op); }),
             "the model no longer holds a control-flow node");
}

void TestKernelsControl::nodeSuite() {
    EW_REQUIRE_MODELS();
    const QString suite = test::modelsDir() + "/onnx-backend-tests";
    auto tests = cli::discoverConformanceTests((suite + "/node").toStdString());
    if (!tests) QSKIP("[ew-skip] onnx-backend-tests/node not found");
    const std::set<QString> ortPass = test::ortPasses(suite);
    const std::set<std::string>& base = test::kernelListOps(test::KernelList::Base);
    int covered = 0, passed = 0, outOfScopeCount = 0;
    QStringList failures, ortPassesWeFail, needOthers, skipped, coveredNames;
    std::set<std::string> opsSeen;
    for (const cli::ConformanceCase& t : *tests) {
        const QString name = QString::fromStdString(t.name).section('/', -1);
        bool family = false, allKernels = true; // family stays false when the model does not load
        cli::ConformanceOptions opts;
        opts.runsPerDataSet = 2; // the second run goes through the plan
        // Tests that use one of these ops; gating when the rest of their ops are kernels.def's.
        opts.select = [&](const ir::Model& model) {
            std::vector<const ir::Node*> nodes;
            collectNodes(*model.graph, nodes);
            for (const ir::Node* n : nodes) {
                const bool mine = familyOps().count(n->opType) != 0;
                if (mine) {
                    family = true;
                    opsSeen.insert(n->opType);
                }
                if (!ir::canonicalDomain(n->domain).empty() || !(mine || base.count(n->opType)) ||
                    !rt::findCpuKernel(n->domain, n->opType, model.opsetFor(n->domain)))
                    allKernels = false;
            }
            return family;
        };
        const cli::CaseResult r = cli::runConformanceCase(t, opts);
        if (!family) continue;
        if (r.outOfScope()) { // sequences, optionals, bfloat16...
            ++outOfScopeCount;
            skipped << name;
            continue;
        }
        const std::string why = (r.outcome == cli::Outcome::Skip ? "skipped: " : "") + r.reason;
        if (!allKernels) {
            // Informational: it runs when other families' kernels cover the rest.
            const QString status = r.outcome == cli::Outcome::Pass ? "pass"
                                   : r.category == "no-kernel"
                                       ? "needs kernels"
                                       : QString::fromStdString("fail: " + why.substr(0, 160));
            needOthers << name + " (" + status + ")";
            continue;
        }
        ++covered;
        coveredNames << name;
        if (r.outcome == cli::Outcome::Pass) {
            ++passed;
            continue;
        }
        if (ortPass.count(name)) ortPassesWeFail << name;
        failures << name + ": " + QString::fromStdString(why);
    }
    qInfo("control family node suite: %d tests covered (%zu ops), %d pass, %d fail; %d skipped "
          "for sequence/optional values or out-of-scope element types",
          covered, opsSeen.size(), passed, static_cast<int>(failures.size()), outOfScopeCount);
    qInfo("covered: %s", qPrintable(coveredNames.join(' ')));
    qInfo("skipped: %s", qPrintable(skipped.join(' ')));
    if (!needOthers.isEmpty())
        qInfo("informational, not gating (they also use other families' ops):\n  %s",
              qPrintable(needOthers.join("\n  ")));
    for (const QString& f : failures)
        qWarning("%s", qPrintable(f));
    if (!ortPassesWeFail.isEmpty())
        qWarning("ORT passes, we fail: %s", qPrintable(ortPassesWeFail.join(' ')));
    QVERIFY2(failures.isEmpty(),
             qPrintable(QString("%1 unexpected failures").arg(failures.size())));
    QVERIFY(covered >= 5);
}

QTEST_GUILESS_MAIN(TestKernelsControl)
#include "tst_kernels_control.moc"
