// The IR itself: graph editing keeps use lists consistent, topological order, cycles, deep
// clones, tensor element decoding, shapes, the verifier, the structural diff and the text dump.
#include "ir/compare.h"
#include "ir/graph.h"
#include "ir/quant_params.h"
#include "ir/text_dump.h"
#include "ir/verifier.h"
#include "test_util.h"

using namespace ew;
using namespace ew::ir;

namespace {

/// x -> Conv(w) -> Relu -> y, built through the public API.
std::unique_ptr<Model> convRelu() {
    auto m = std::make_unique<Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    Graph& g = *m->graph;
    g.name = "g";
    Value* x = *g.addValue("x", Type::tensor(DataType::Float, Shape::of({1, 3, 8, 8})));
    g.inputs.push_back(x);
    Value* w = *g.addValue("w");
    w->initializer = Tensor::fromVector("w", DataType::Float, {4, 3, 1, 1}, std::vector<float>(12, 0.5f));
    w->type = Type::tensor(DataType::Float, Shape::of({4, 3, 1, 1}));
    g.initializers.push_back(w);
    Value* c = *g.addValue("c");
    Value* y = *g.addValue("y", Type::tensor(DataType::Float, Shape::of({1, 4, 8, 8})));
    Node* conv = g.addNode("Conv", "", "conv0", {x, w}, {c});
    conv->setAttr(Attribute::makeInts("kernel_shape", {1, 1}));
    g.addNode("Relu", "", "relu0", {c}, {y});
    g.outputs.push_back(y);
    return m;
}

} // namespace

class TestIr : public QObject {
    Q_OBJECT
private slots:
    void useListsFollowEdits();
    void duplicateValueNamesRejected();
    void topologicalOrderIsStableAndFindsCycles();
    void cloneIsDeepAndEqual();
    void nestedGraphsSeeOuterValues();
    void tensorDecoding_data();
    void tensorDecoding();
    void halfRoundTrip();
    void shapes();
    void elementCountOverflow();
    void verifierCatches_data();
    void verifierCatches();
    void differenceFinder();
    void textDumpGolden();
    void quantParamsFromQdq();
};

void TestIr::useListsFollowEdits() {
    auto m = convRelu();
    Graph& g = *m->graph;
    Value* x = g.findValue("x");
    Value* c = g.findValue("c");
    QCOMPARE(x->uses().size(), std::size_t(1));
    QCOMPARE(c->producer()->opType, std::string("Conv"));
    QCOMPARE(c->uses().size(), std::size_t(1));
    // Bypass the Relu: y's consumers (the graph output) now read c.
    Node* relu = g.findValue("y")->producer();
    Value* y = g.findValue("y");
    g.replaceAllUses(y, c);
    QCOMPARE(g.outputs[0], c);
    g.removeNode(relu);
    QCOMPARE(c->uses().size(), std::size_t(0));
    QVERIFY(y->producer() == nullptr);
    g.removeValue(y);
    QVERIFY(g.findValue("y") == nullptr);
    QVERIFY(verify(*m).has_value());
    QCOMPARE(g.nodeCount(), std::size_t(1));
}

void TestIr::duplicateValueNamesRejected() {
    Graph g;
    QVERIFY(g.addValue("a").has_value());
    auto dup = g.addValue("a");
    QVERIFY(!dup.has_value());
    QVERIFY(QString::fromStdString(dup.error().message).contains("duplicate"));
    QCOMPARE(g.uniqueName("a"), std::string("a_1"));
}

void TestIr::topologicalOrderIsStableAndFindsCycles() {
    Graph g;
    Value* a = *g.addValue("a");
    g.inputs.push_back(a);
    Value* b = *g.addValue("b");
    Value* c = *g.addValue("c");
    Value* d = *g.addValue("d");
    // File order: n2 (needs b) before n1 (produces b); n3 independent.
    Node* n2 = g.addNode("Neg", "", "n2", {b}, {c});
    Node* n1 = g.addNode("Abs", "", "n1", {a}, {b});
    Node* n3 = g.addNode("Abs", "", "n3", {a}, {d});
    auto order = g.topologicalOrder();
    QVERIFY(order.has_value());
    QCOMPARE(*order, (std::vector<Node*>{n1, n2, n3}));
    QVERIFY(g.sortTopologically().has_value());
    QCOMPARE(g.nodes()[0].get(), n1);
    // Close a cycle: n1 now reads c, which n2 computes from b.
    n1->setInput(0, c);
    auto cyc = g.topologicalOrder();
    QVERIFY(!cyc.has_value());
    QVERIFY(QString::fromStdString(cyc.error().message).contains("cycle"));
    QVERIFY(!cyc.error().node.empty());
}

void TestIr::cloneIsDeepAndEqual() {
    auto m = convRelu();
    auto c = m->clone();
    QCOMPARE(firstDifference(*m, *c), std::string());
    // Editing the clone leaves the original alone.
    c->graph->nodes()[0]->setAttr(Attribute::makeInts("kernel_shape", {3, 3}));
    QVERIFY(!firstDifference(*m, *c).empty());
    QCOMPARE(m->graph->nodes()[0]->attrInts("kernel_shape"), (std::vector<int64_t>{1, 1}));
    // Weights are shared, not copied.
    QCOMPARE(m->graph->initializers[0]->initializer->bytes().data(), c->graph->initializers[0]->initializer->bytes().data());
}

void TestIr::nestedGraphsSeeOuterValues() {
    auto m = convRelu();
    Graph& g = *m->graph;
    Value* cond = *g.addValue("cond", Type::tensor(DataType::Bool, Shape::of({})));
    g.inputs.push_back(cond);
    Value* out = *g.addValue("z");
    Node* ifNode = g.addNode("If", "", "if0", {cond}, {out});
    auto body = std::make_unique<Graph>(&g, ifNode);
    body->name = "then";
    Value* inner = *body->addValue("t");
    body->addNode("Identity", "", "id", {g.findValue("y")}, {inner}); // outer-scope value
    body->outputs.push_back(inner);
    Attribute a;
    a.name = "then_branch";
    a.type = AttrType::Graph;
    a.g = std::move(body);
    ifNode->attributes.push_back(std::move(a));
    QVERIFY(verify(*m).has_value());
    QCOMPARE(g.findValue("y")->uses().size(), std::size_t(1));
    QCOMPARE(g.nodeCountRecursive(), std::size_t(4));
    auto order = g.topologicalOrder();
    QVERIFY(order.has_value());
    QCOMPARE(order->back(), ifNode); // after relu0, which produces the value the body reads
    auto c = m->clone();
    QCOMPARE(firstDifference(*m, *c), std::string());
    Graph* cb = c->graph->nodes().back()->subgraphs()[0];
    QCOMPARE(cb->parent(), c->graph.get());
    QCOMPARE(cb->nodes()[0]->input(0), c->graph->findValue("y")); // rewired to the copy's value
}

void TestIr::tensorDecoding_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("count");
    QTest::addColumn<QList<double>>("expected");
    QTest::newRow("int4 packed low first") << int(DataType::Int4) << QByteArray("\x71\xf8", 2) << 4
                                           << QList<double>{1, 7, -8, -1};
    QTest::newRow("uint4") << int(DataType::UInt4) << QByteArray("\x21", 1) << 2 << QList<double>{1, 2};
    QTest::newRow("float16") << int(DataType::Float16) << QByteArray("\x00\x3c\x00\xc0", 4) << 2 << QList<double>{1.0, -2.0};
    QTest::newRow("bfloat16") << int(DataType::BFloat16) << QByteArray("\x80\x3f", 2) << 1 << QList<double>{1.0};
    QTest::newRow("float8e4m3fn") << int(DataType::Float8E4M3FN) << QByteArray("\x38\xb8", 2) << 2 << QList<double>{1.0, -1.0};
    QTest::newRow("float8e5m2") << int(DataType::Float8E5M2) << QByteArray("\x3c", 1) << 1 << QList<double>{1.0};
    QTest::newRow("int2") << int(DataType::Int2) << QByteArray("\xe4", 1) << 4 << QList<double>{0, 1, -2, -1};
    QTest::newRow("bool") << int(DataType::Bool) << QByteArray("\x01\x00", 2) << 2 << QList<double>{1, 0};
}

void TestIr::tensorDecoding() {
    QFETCH(int, dtype);
    QFETCH(QByteArray, bytes);
    QFETCH(int, count);
    QFETCH(QList<double>, expected);
    Tensor t = Tensor::fromBytes("t", static_cast<DataType>(dtype), {count}, std::string(bytes.constData(), bytes.size()));
    QCOMPARE(static_cast<qsizetype>(*dataTypeStorageBytes(t.dtype, count)), bytes.size());
    for (int i = 0; i < count; ++i) QCOMPARE(t.valueAsDouble(i), expected[i]);
}

void TestIr::halfRoundTrip() {
    for (float f : {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.1f}) {
        float back = halfToFloat(floatToHalf(f));
        QVERIFY2(std::abs(back - f) <= std::abs(f) * 1e-3f + 1e-7f, qPrintable(QString::number(f)));
    }
    QVERIFY(std::isinf(halfToFloat(floatToHalf(1e6f))));
    QVERIFY(std::isnan(halfToFloat(floatToHalf(std::nanf("")))));
}

void TestIr::shapes() {
    Shape s({Dim::symbolic("N"), Dim::known(3), Dim::unknown()});
    QCOMPARE(s.toString(), std::string("[N,3,?]"));
    QVERIFY(!s.numElements().has_value());
    QCOMPARE(*Shape::of({2, 3, 4}).numElements(), int64_t(24));
    QCOMPARE(Shape::of({}).toString(), std::string("[]"));
    QCOMPARE(Type::tensor(DataType::Float, Shape::of({1, 2})).toString(), std::string("float32[1,2]"));
}

void TestIr::elementCountOverflow() {
    QVERIFY(!checkedElementCount({int64_t(1) << 40, int64_t(1) << 40}).has_value());
    QVERIFY(!checkedElementCount({-1}).has_value());
    QCOMPARE(*checkedElementCount({0, int64_t(1) << 62}), int64_t(0));
    QCOMPARE(*checkedElementCount({1000, 1000}), int64_t(1000000));
}

void TestIr::verifierCatches_data() {
    QTest::addColumn<int>("breakage");
    QTest::addColumn<QString>("expect");
    QTest::newRow("initializer bytes vs shape") << 0 << "bytes";
    QTest::newRow("initializer dtype vs declared") << 1 << "declared";
    QTest::newRow("domain not imported") << 2 << "does not import";
    QTest::newRow("output not produced") << 3 << "not produced";
}

void TestIr::verifierCatches() {
    QFETCH(int, breakage);
    QFETCH(QString, expect);
    auto m = convRelu();
    Graph& g = *m->graph;
    switch (breakage) {
    case 0: g.findValue("w")->initializer = Tensor::fromVector("w", DataType::Float, {4, 3, 1, 1}, std::vector<float>(5)); break;
    case 1: g.findValue("w")->type = Type::tensor(DataType::Int8, Shape::of({4, 3, 1, 1})); break;
    case 2: g.nodes()[1]->domain = "com.example"; break;
    case 3: {
        Value* lone = *g.addValue("lone");
        g.outputs.push_back(lone);
        break;
    }
    }
    auto r = verify(*m);
    QVERIFY(!r.has_value());
    QVERIFY2(QString::fromStdString(r.error().toString()).contains(expect), r.error().toString().c_str());
}

void TestIr::differenceFinder() {
    auto a = convRelu();
    auto b = convRelu();
    QCOMPARE(firstDifference(*a, *b), std::string());
    // One weight differs by one bit.
    std::vector<float> w(12, 0.5f);
    w[7] = std::nextafter(0.5f, 1.f);
    b->graph->findValue("w")->initializer = Tensor::fromVector("w", DataType::Float, {4, 3, 1, 1}, w);
    QVERIFY(QString::fromStdString(firstDifference(*a, *b)).contains("data differs"));
    auto c = convRelu();
    c->graph->nodes()[0]->setAttr(Attribute::makeInts("strides", {2, 2}));
    QVERIFY(QString::fromStdString(firstDifference(*a, *c)).contains("attribute"));
    auto d = convRelu();
    d->graph->nodes()[1]->name = "other";
    QVERIFY(!firstDifference(*a, *d).empty());
}

void TestIr::textDumpGolden() {
    auto m = convRelu();
    m->producerName = "test";
    const std::string expected =
        "model ir=8 producer=\"test\" opsets=[:13]\n"
        "graph \"g\" {\n"
        "  input  %x : float32[1,3,8,8]\n"
        "  init   %w : float32[4,3,1,1] = [0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]\n"
        "  %c = Conv(%x, %w) {kernel_shape=[1,1]} \"conv0\"\n"
        "  %y = Relu(%c) \"relu0\" : float32[1,4,8,8]\n"
        "  output %y : float32[1,4,8,8]\n"
        "}\n";
    QCOMPARE(QString::fromStdString(dumpModel(*m)), QString::fromStdString(expected));
}

void TestIr::quantParamsFromQdq() {
    // w_q (int8 initializer, per-channel) -> DequantizeLinear(axis 0); x -> Q -> DQ per-tensor.
    Model m;
    m.irVersion = 8;
    m.opsetImports = {{"", 13}};
    Graph& g = *m.graph;
    Value* x = *g.addValue("x", Type::tensor(DataType::Float, Shape::of({1, 2})));
    g.inputs.push_back(x);
    auto init = [&](const char* name, Tensor t) {
        Value* v = *g.addValue(name, Type::tensor(t.dtype, Shape::of(t.dims)));
        v->initializer = std::move(t);
        g.initializers.push_back(v);
        return v;
    };
    Value* xs = init("xs", Tensor::fromVector("xs", DataType::Float, {}, std::vector<float>{0.5f}));
    Value* xz = init("xz", Tensor::fromVector("xz", DataType::UInt8, {}, std::vector<uint8_t>{128}));
    Value* wq = init("wq", Tensor::fromVector("wq", DataType::Int8, {2, 2}, std::vector<int8_t>{1, 2, 3, 4}));
    Value* ws = init("ws", Tensor::fromVector("ws", DataType::Float, {2}, std::vector<float>{0.1f, 0.2f}));
    Value* xq = *g.addValue("xq", Type::tensor(DataType::UInt8, Shape::of({1, 2})));
    Value* xd = *g.addValue("xd");
    Value* wd = *g.addValue("wd");
    g.addNode("QuantizeLinear", "", "q", {x, xs, xz}, {xq});
    g.addNode("DequantizeLinear", "", "dq", {xq, xs, xz}, {xd});
    g.addNode("DequantizeLinear", "", "dqw", {wq, ws}, {wd})->setAttr(Attribute::makeInt("axis", 0));
    g.outputs = {xd, wd};
    QVERIFY(verify(m).has_value());
    QCOMPARE(deriveQuantParams(g), 2);
    QVERIFY(xq->quant.has_value());
    QCOMPARE(xq->quant->scales, std::vector<float>{0.5f});
    QCOMPARE(xq->quant->zeroPoints, std::vector<int64_t>{128});
    QCOMPARE(xq->quant->storageType, DataType::UInt8);
    QVERIFY(wq->quant.has_value());
    QVERIFY(wq->quant->isPerAxis());
    QCOMPARE(wq->quant->axis, int64_t(0));
    QCOMPARE(wq->quant->zeroPoints, (std::vector<int64_t>{0, 0}));
    QCOMPARE(wq->quant->storageType, DataType::Int8);
}

QTEST_GUILESS_MAIN(TestIr)
#include "tst_ir.moc"
