// The pass manager (registry, pipelines, statistics, fixed point) and the clean-up passes.
#include "optimize_test_util.h"
#include "test_util.h"

#include "common/json_writer.h"

#include <set>

using namespace ew;
using ew::test::parseModel;

class TestOptimize : public QObject {
    Q_OBJECT
  private slots:
    void registryIsConsistent();
    void pipelinesNameRegisteredPasses();
    void unknownNamesAreUsageErrors();
    void identityRemoved();
    void identityKeepsGraphOutputName();
    void identityNoMatch();
    void dropoutRemovedOnlyInInference();
    void deadNodesRemoved();
    void deadNodesNoMatch();
    void unusedInitializers();
    void fixedPointAndStatistics();
    void subgraphsAreVisited();
};

void TestOptimize::registryIsConsistent() {
    std::set<std::string_view> names;
    for (const opt::PassInfo& p : opt::allPasses()) {
        QVERIFY2(names.insert(p.name).second, "a pass is listed twice");
        QVERIFY(p.run);
        QVERIFY(!p.description.empty());
        // kebab-case
        for (char c : p.name) QVERIFY2((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-', p.name.data());
        QCOMPARE(opt::findPass(p.name), &p);
    }
    QVERIFY(!opt::findPass("no-such-pass"));
}

void TestOptimize::pipelinesNameRegisteredPasses() {
    for (std::string_view pipe : opt::pipelineNames())
        for (opt::Target t : {opt::Target::Onnx, opt::Target::Edgewise}) {
            auto names = opt::pipelinePasses(pipe, t);
            QVERIFY(names && !names->empty());
            for (std::string_view n : *names) {
                const opt::PassInfo* p = opt::findPass(n);
                QVERIFY2(p, std::string(n).c_str());
                if (t == opt::Target::Onnx) QVERIFY2(p->kind == opt::PassKind::Portable, std::string(n).c_str());
            }
        }
    // Every portable pass is in the aggressive pipeline; every runtime pass in the edgewise tail.
    auto aggressive = opt::pipelinePasses("aggressive", opt::Target::Edgewise);
    QVERIFY(aggressive);
    for (const opt::PassInfo& p : opt::allPasses())
        QVERIFY2(std::find(aggressive->begin(), aggressive->end(), p.name) != aggressive->end(),
                 std::string(p.name).c_str());
}

void TestOptimize::unknownNamesAreUsageErrors() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) { y = Relu(x) })");
    QVERIFY(m);
    opt::OptimizeOptions o;
    o.pipeline = "fastest";
    auto r = opt::optimize(*m, o);
    QVERIFY(!r);
    QCOMPARE(r.error().code, StatusCode::Usage);
    QVERIFY(r.error().message.find("fastest") != std::string::npos);
    o = {};
    o.passes = {"eliminate-identity", "fuse-everything"};
    r = opt::optimize(*m, o);
    QVERIFY(!r);
    QVERIFY(r.error().message.find("fuse-everything") != std::string::npos);
    QVERIFY(r.error().message.find("eliminate-dead-nodes") != std::string::npos); // lists known
    o = {};
    o.disabled = {"nope"};
    QVERIFY(!opt::optimize(*m, o));
}

void TestOptimize::identityRemoved() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) {
            a = Identity(x)
            b = Relu(a)
            c = Identity(b)
            y = Sigmoid(c)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-identity", R"(
        input  %x : float32[1,4]
        %b = Relu(%x) : float32[1,4]
        %y = Sigmoid(%b) : float32[1,4]
        output %y : float32[1,4]
    )");
}

void TestOptimize::identityKeepsGraphOutputName() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) {
            b = Relu(x)
            y = Identity(b)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-identity", R"(
        input  %x : float32[1,4]
        %y = Relu(%x) : float32[1,4]
        output %y : float32[1,4]
    )");
}

void TestOptimize::identityNoMatch() {
    // Graph input straight to a graph output: the Identity is the model's interface.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) { y = Identity(x) })");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "eliminate-identity");
    // Two graph outputs from one value through Identity: both names must survive.
    auto m2 = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y, float[1,4] z) { y = Relu(x)  z = Identity(y) })");
    QVERIFY(m2);
    EW_CHECK_NO_MATCH(m2, "eliminate-identity");
}

void TestOptimize::dropoutRemovedOnlyInInference() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) <float r = {0.5}> {
            a = Dropout(x, r)
            y = Relu(a)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-identity", R"(
        input  %x : float32[1,4]
        init   %r : float32[] = [0.5]
        %y = Relu(%x) : float32[1,4]
        output %y : float32[1,4]
    )");
    // Training mode on, or the mask is used: the Dropout stays.
    auto training = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) <float r = {0.5}, bool t = {1}> {
            a = Dropout(x, r, t)
            y = Relu(a)
        })");
    QVERIFY(training);
    EW_CHECK_NO_MATCH(training, "eliminate-identity");
    auto mask = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y, bool[1,4] k) {
            a, k = Dropout(x)
            y = Relu(a)
        })");
    QVERIFY(mask);
    EW_CHECK_NO_MATCH(mask, "eliminate-identity");
}

void TestOptimize::deadNodesRemoved() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) {
            a = Relu(x)
            b = Exp(a)
            c = Neg(b)
            y = Sigmoid(x)
        })");
    QVERIFY(m);
    opt::PassContext ctx(*m);
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "eliminate-dead-nodes", &ctx));
    QCOMPARE(ctx.changes().size(), std::size_t(3)); // the whole chain in one run
    QCOMPARE(QString::fromStdString(ew::test::graphText(*after)), QString::fromStdString(ew::test::golden(R"(
        input  %x : float32[1,4]
        %y = Sigmoid(%x) : float32[1,4]
        output %y : float32[1,4]
    )")));
    QCOMPARE(ew::test::outputsDiff(*m, *after), 0.0);
}

void TestOptimize::deadNodesNoMatch() {
    // Every output feeds something; one only a graph output; one only a second output slot.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y, float[1,4] z) {
            a = Relu(x)
            y = Sigmoid(a)
            z = Neg(a)
        })");
    QVERIFY(m);
    EW_CHECK_NO_MATCH(m, "eliminate-dead-nodes");
}

void TestOptimize::unusedInitializers() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float[2] used = {1.0, 2.0}, float[3] unused = {1.0, 2.0, 3.0}> {
            y = Add(x, used)
        })");
    QVERIFY(m);
    EW_CHECK_PASS(m, "eliminate-unused-initializers", R"(
        input  %x : float32[2]
        init   %used : float32[2] = [1,2]
        %y = Add(%x, %used) : float32[2]
        output %y : float32[2]
    )");
    // An initializer that is also a graph input is part of the interface.
    auto m2 = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x, float[3] over) => (float[2] y) <float[3] over = {1.0, 2.0, 3.0}> {
            y = Relu(x)
        })");
    QVERIFY(m2);
    EW_CHECK_NO_MATCH(m2, "eliminate-unused-initializers");
}

void TestOptimize::fixedPointAndStatistics() {
    // Removing the Identity makes nothing dead by itself; the dead chain and its weight go in the
    // final clean-up: the default pipeline reaches the end state and reports each pass's part.
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4] x) => (float[1,4] y) <float[4] w = {1.0, 2.0, 3.0, 4.0}> {
            a = Identity(x)
            d = Mul(a, w)
            e = Relu(d)
            y = Sigmoid(a)
        })");
    QVERIFY(m);
    auto before = m->clone();
    opt::OptimizeOptions o;
    o.verifyEachPass = true;
    auto r = opt::optimize(*m, o);
    QVERIFY2(r, r ? "" : r.error().toString().c_str());
    QCOMPARE(r->before.nodes, int64_t(4));
    QCOMPARE(r->after.nodes, int64_t(1));
    QCOMPARE(r->before.parameters, int64_t(4));
    QCOMPARE(r->after.parameters, int64_t(0));
    QVERIFY(r->rounds >= 2); // the last round changes nothing
    auto stats = [&](std::string_view n) -> const opt::PassStats& {
        for (const auto& s : r->passes)
            if (s.name == n) return s;
        qFatal("no stats for pass");
    };
    QCOMPARE(stats("eliminate-identity").removed, 1);
    QCOMPARE(stats("eliminate-dead-nodes").removed, 2);
    QCOMPARE(stats("eliminate-dead-nodes").nodesDelta, int64_t(-2));
    QCOMPARE(stats("eliminate-unused-initializers").parametersDelta, int64_t(-4));
    QCOMPARE(ew::test::outputsDiff(*before, *m), 0.0);
    // The report is valid JSON with the documented keys.
    const std::string json = r->toJson();
    for (const char* key : {"\"pipeline\"", "\"passes\"", "\"before\"", "\"after\"", "\"nodes\"",
                            "\"parameters\"", "\"macs\"", "\"removed\"", "\"fused\"", "\"changes\""})
        QVERIFY2(json.find(key) != std::string::npos, key);
    // Running again finds nothing.
    auto again = opt::optimize(*m, o);
    QVERIFY(again);
    QCOMPARE(again->rounds, 1);
    for (const auto& s : again->passes) QCOMPARE(s.changedRuns, 0);
}

void TestOptimize::subgraphsAreVisited() {
    auto m = parseModel(R"(<ir_version: 8, opset_import: ["" : 13]>
        g (bool c, float[2] x) => (float[2] y) {
            y = If(c) <
                then_branch = t () => (float[2] ty) { a = Identity(x)  ty = Relu(a) },
                else_branch = e () => (float[2] ey) { b = Neg(x)  dead = Exp(x)  ey = Identity(b) }
            >
        })");
    QVERIFY(m);
    auto after = m->clone();
    QVERIFY(ew::test::applyPass(*after, "eliminate-identity"));
    QVERIFY(ew::test::applyPass(*after, "eliminate-dead-nodes"));
    const ir::Node* ifNode = after->graph->nodes()[0].get();
    const auto bodies = ifNode->subgraphs();
    QCOMPARE(bodies.size(), std::size_t(2));
    QCOMPARE(bodies[0]->nodeCount(), std::size_t(1)); // Relu(x)
    QCOMPARE(bodies[1]->nodeCount(), std::size_t(1)); // Neg(x), output keeps its name
    QCOMPARE(bodies[1]->outputs[0]->name, std::string("ey"));
    QCOMPARE(ew::test::outputsDiff(*m, *after), 0.0);
}

QTEST_GUILESS_MAIN(TestOptimize)
#include "tst_optimize.moc"
