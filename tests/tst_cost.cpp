// Static cost model: exact MAC/FLOP/parameter counts on hand-built graphs whose answers are
// worked out by hand in each row, plus the rules for unknown shapes and nested graphs.
#include "test_util.h"

#include "ir/cost.h"
#include "ir/graph.h"

#include <memory>
#include <optional>
#include <vector>

using namespace ew::ir;

Q_DECLARE_METATYPE(std::vector<int64_t>)

namespace {

Value* tensorValue(Graph& g, const std::string& name, std::optional<std::vector<int64_t>> dims,
                   DataType dt = DataType::Float) {
    std::optional<Shape> shape;
    if (dims) shape = Shape::of(*dims);
    return *g.addValue(name, Type::tensor(dt, shape));
}

Value* weight(Graph& g, const std::string& name, const std::vector<int64_t>& dims,
              DataType dt = DataType::Float) {
    int64_t n = 1;
    for (int64_t d : dims)
        n *= d;
    Value* v = tensorValue(g, name, dims, dt);
    if (dt == DataType::Float)
        v->initializer =
            Tensor::fromVector(name, dt, dims, std::vector<float>(std::size_t(n), 0.5f));
    else if (dt == DataType::Int64)
        v->initializer =
            Tensor::fromVector(name, dt, dims, std::vector<int64_t>(std::size_t(n), 1));
    else
        v->initializer = Tensor::fromVector(name, dt, dims, std::vector<int8_t>(std::size_t(n), 1));
    g.initializers.push_back(v);
    return v;
}

std::optional<std::vector<int64_t>> noShape() {
    return std::nullopt;
}

} // namespace

class TestCost : public QObject {
    Q_OBJECT
  private slots:
    void conv_data();
    void conv();
    void convOutputUnknownUsesAttributes();
    void qlinearConvMatchesConv();
    void convTranspose();
    void gemm_data();
    void gemm();
    void matmul_data();
    void matmul();
    void recurrent_data();
    void recurrent();
    void parametersAndActivations();
    void constantNodesAreParameters();
    void unknownShapesAreLowerBounds();
    void loopMultipliesBody();
    void ifTakesCostlierBranch();
};

void TestCost::conv_data() {
    QTest::addColumn<std::vector<int64_t>>("x");
    QTest::addColumn<std::vector<int64_t>>("w");
    QTest::addColumn<int>("group");
    QTest::addColumn<std::vector<int64_t>>("dilations");
    QTest::addColumn<std::vector<int64_t>>("strides");
    QTest::addColumn<std::vector<int64_t>>("pads");
    QTest::addColumn<std::vector<int64_t>>("y");
    QTest::addColumn<qint64>("macs");
    // Y = 16*32*32 outputs, each a dot product over C/group * 3*3 = 4*9 inputs.
    QTest::newRow("grouped+dilated")
        << std::vector<int64_t>{1, 8, 32, 32} << std::vector<int64_t>{16, 4, 3, 3} << 2
        << std::vector<int64_t>{2, 2} << std::vector<int64_t>{1, 1}
        << std::vector<int64_t>{2, 2, 2, 2} << std::vector<int64_t>{1, 16, 32, 32}
        << qint64(16 * 1024 * 36);
    QTest::newRow("depthwise") << std::vector<int64_t>{1, 32, 16, 16}
                               << std::vector<int64_t>{32, 1, 3, 3} << 32
                               << std::vector<int64_t>{1, 1} << std::vector<int64_t>{1, 1}
                               << std::vector<int64_t>{1, 1, 1, 1}
                               << std::vector<int64_t>{1, 32, 16, 16} << qint64(32 * 256 * 9);
    // Span 5 with dilation 2; (17-5)/2+1 = 7.
    QTest::newRow("strided+dilated")
        << std::vector<int64_t>{2, 3, 17, 17} << std::vector<int64_t>{6, 3, 3, 3} << 1
        << std::vector<int64_t>{2, 2} << std::vector<int64_t>{2, 2}
        << std::vector<int64_t>{0, 0, 0, 0} << std::vector<int64_t>{2, 6, 7, 7}
        << qint64(2 * 6 * 49 * 27);
    QTest::newRow("conv1d") << std::vector<int64_t>{1, 4, 100} << std::vector<int64_t>{8, 4, 5} << 1
                            << std::vector<int64_t>{1} << std::vector<int64_t>{1}
                            << std::vector<int64_t>{0, 0} << std::vector<int64_t>{1, 8, 96}
                            << qint64(8 * 96 * 20);
}

void TestCost::conv() {
    QFETCH(std::vector<int64_t>, x);
    QFETCH(std::vector<int64_t>, w);
    QFETCH(int, group);
    QFETCH(std::vector<int64_t>, dilations);
    QFETCH(std::vector<int64_t>, strides);
    QFETCH(std::vector<int64_t>, pads);
    QFETCH(std::vector<int64_t>, y);
    QFETCH(qint64, macs);

    Model m;
    Graph& g = *m.graph;
    Value* xv = tensorValue(g, "x", x);
    Value* wv = weight(g, "w", w);
    Value* bv = weight(g, "b", {w[0]});
    Value* yv = tensorValue(g, "y", y);
    Node* n = g.addNode("Conv", "", "conv", {xv, wv, bv}, {yv});
    n->setAttr(Attribute::makeInt("group", group));
    n->setAttr(Attribute::makeInts("dilations", dilations));
    n->setAttr(Attribute::makeInts("strides", strides));
    n->setAttr(Attribute::makeInts("pads", pads));

    int64_t outputs = 1;
    for (int64_t d : y)
        outputs *= d;
    NodeCost c = nodeCost(*n);
    QCOMPARE(c.macs, macs);
    QCOMPARE(c.flops, 2 * macs + outputs); // + one bias add per output
    QVERIFY(c.exact);
    int64_t wElems = 1;
    for (int64_t d : w)
        wElems *= d;
    QCOMPARE(c.paramCount, wElems + w[0]);
    QCOMPARE(c.paramBytes, 4 * (wElems + w[0]));
    QCOMPARE(c.activationBytes, 4 * outputs);

    // The same node with the output shape missing: the size comes from the attributes.
    yv->type.shape.reset();
    NodeCost c2 = nodeCost(*n);
    QCOMPARE(c2.macs, macs);
    QVERIFY(!c2.exact); // the activation size is unknown now
}

void TestCost::convOutputUnknownUsesAttributes() {
    Model m;
    Graph& g = *m.graph;
    Value* xv = tensorValue(g, "x", std::vector<int64_t>{1, 3, 224, 224});
    Value* wv = weight(g, "w", {32, 3, 3, 3});
    Value* yv = tensorValue(g, "y", noShape());
    Node* n = g.addNode("Conv", "", "conv", {xv, wv}, {yv});
    n->setAttr(Attribute::makeInts("strides", {2, 2}));
    n->setAttr(Attribute::makeString("auto_pad", "SAME_UPPER"));
    // ceil(224/2) = 112: 32*112*112 outputs of 27 MACs; no bias.
    NodeCost c = nodeCost(*n);
    QCOMPARE(c.macs, int64_t(32) * 112 * 112 * 27);
    QCOMPARE(c.flops, 2 * c.macs);
}

void TestCost::qlinearConvMatchesConv() {
    Model m;
    Graph& g = *m.graph;
    Value* x = tensorValue(g, "x", std::vector<int64_t>{1, 8, 10, 10}, DataType::UInt8);
    Value* xs = weight(g, "xs", {});
    Value* xz = weight(g, "xz", {}, DataType::Int8);
    Value* w = weight(g, "w", {4, 8, 3, 3}, DataType::Int8);
    Value* ws = weight(g, "ws", {4});
    Value* wz = weight(g, "wz", {4}, DataType::Int8);
    Value* ys = weight(g, "ys", {});
    Value* yz = weight(g, "yz", {}, DataType::Int8);
    Value* y = tensorValue(g, "y", std::vector<int64_t>{1, 4, 8, 8}, DataType::UInt8);
    Node* n = g.addNode("QLinearConv", "", "qconv", {x, xs, xz, w, ws, wz, ys, yz}, {y});
    NodeCost c = nodeCost(*n);
    QCOMPARE(c.macs, int64_t(4 * 64 * 72));
    QCOMPARE(c.activationBytes, int64_t(256)); // uint8 outputs
    QCOMPARE(c.paramBytes, int64_t(4 + 1 + 288 + 16 + 4 + 4 + 1));
    QVERIFY(c.exact);

    Value* y2 = tensorValue(g, "y2", std::vector<int64_t>{1, 4, 8, 8}, DataType::Int32);
    Node* ci = g.addNode("ConvInteger", "", "ci", {x, w}, {y2});
    QCOMPARE(nodeCost(*ci).macs, int64_t(4 * 64 * 72));
}

void TestCost::convTranspose() {
    Model m;
    Graph& g = *m.graph;
    Value* x = tensorValue(g, "x", std::vector<int64_t>{1, 4, 5, 5});
    Value* w = weight(g, "w", {4, 2, 3, 3}); // C=4 inputs, M/group = 2
    Value* y = tensorValue(g, "y", std::vector<int64_t>{1, 4, 11, 11});
    Node* n = g.addNode("ConvTranspose", "", "deconv", {x, w}, {y});
    n->setAttr(Attribute::makeInt("group", 2));
    n->setAttr(Attribute::makeInts("strides", {2, 2}));
    // Every one of the 100 input elements feeds 2*3*3 outputs.
    QCOMPARE(nodeCost(*n).macs, int64_t(100 * 18));
}

void TestCost::gemm_data() {
    QTest::addColumn<std::vector<int64_t>>("a");
    QTest::addColumn<std::vector<int64_t>>("b");
    QTest::addColumn<int>("transA");
    QTest::addColumn<int>("transB");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<qint64>("macs");
    QTest::addColumn<qint64>("flops");
    QTest::newRow("plain") << std::vector<int64_t>{4, 64} << std::vector<int64_t>{64, 10} << 0 << 0
                           << false << qint64(4 * 10 * 64) << qint64(2 * 4 * 10 * 64);
    QTest::newRow("transB+bias") << std::vector<int64_t>{4, 64} << std::vector<int64_t>{10, 64} << 0
                                 << 1 << true << qint64(2560) << qint64(5120 + 40);
    QTest::newRow("transA") << std::vector<int64_t>{64, 3} << std::vector<int64_t>{64, 7} << 1 << 0
                            << false << qint64(3 * 7 * 64) << qint64(2 * 3 * 7 * 64);
}

void TestCost::gemm() {
    QFETCH(std::vector<int64_t>, a);
    QFETCH(std::vector<int64_t>, b);
    QFETCH(int, transA);
    QFETCH(int, transB);
    QFETCH(bool, bias);
    QFETCH(qint64, macs);
    QFETCH(qint64, flops);
    Model m;
    Graph& g = *m.graph;
    Value* av = tensorValue(g, "a", a);
    Value* bv = weight(g, "b", b);
    std::vector<Value*> ins{av, bv};
    int64_t n = transB ? b[0] : b[1];
    if (bias) ins.push_back(weight(g, "c", {n}));
    Value* y = tensorValue(g, "y", std::vector<int64_t>{transA ? a[1] : a[0], n});
    Node* node = g.addNode("Gemm", "", "fc", ins, {y});
    node->setAttr(Attribute::makeInt("transA", transA));
    node->setAttr(Attribute::makeInt("transB", transB));
    NodeCost c = nodeCost(*node);
    QCOMPARE(c.macs, macs);
    QCOMPARE(c.flops, flops);
    QVERIFY(c.exact);
}

void TestCost::matmul_data() {
    QTest::addColumn<std::vector<int64_t>>("a");
    QTest::addColumn<std::vector<int64_t>>("b");
    QTest::addColumn<std::vector<int64_t>>("y");
    QTest::addColumn<qint64>("macs");
    QTest::newRow("2d") << std::vector<int64_t>{5, 3} << std::vector<int64_t>{3, 7}
                        << std::vector<int64_t>{5, 7} << qint64(105);
    // Batch dims [2,1] and [4] broadcast to [2,4]: 8 products of 5x3 by 3x7.
    QTest::newRow("batched broadcast")
        << std::vector<int64_t>{2, 1, 5, 3} << std::vector<int64_t>{4, 3, 7}
        << std::vector<int64_t>{2, 4, 5, 7} << qint64(8 * 105);
    QTest::newRow("batched same") << std::vector<int64_t>{12, 64, 32}
                                  << std::vector<int64_t>{12, 32, 64}
                                  << std::vector<int64_t>{12, 64, 64} << qint64(12 * 64 * 64 * 32);
    QTest::newRow("vector x matrix") << std::vector<int64_t>{3} << std::vector<int64_t>{3, 7}
                                     << std::vector<int64_t>{7} << qint64(21);
    QTest::newRow("matrix x vector") << std::vector<int64_t>{2, 5, 3} << std::vector<int64_t>{3}
                                     << std::vector<int64_t>{2, 5} << qint64(30);
}

void TestCost::matmul() {
    QFETCH(std::vector<int64_t>, a);
    QFETCH(std::vector<int64_t>, b);
    QFETCH(std::vector<int64_t>, y);
    QFETCH(qint64, macs);
    Model m;
    Graph& g = *m.graph;
    Value* av = tensorValue(g, "a", a);
    Value* bv = tensorValue(g, "b", b);
    Value* yv = tensorValue(g, "y", y);
    Node* n = g.addNode("MatMul", "", "mm", {av, bv}, {yv});
    NodeCost c = nodeCost(*n);
    QCOMPARE(c.macs, macs);
    QCOMPARE(c.flops, 2 * macs);
    QCOMPARE(c.paramCount, int64_t(0));
    QVERIFY(c.exact);

    // The integer twin costs the same.
    Value* ai = tensorValue(g, "ai", a, DataType::Int8);
    Value* bi = tensorValue(g, "bi", b, DataType::Int8);
    Value* yi = tensorValue(g, "yi", y, DataType::Int32);
    QCOMPARE(nodeCost(*g.addNode("MatMulInteger", "", "mmi", {ai, bi}, {yi})).macs, macs);
}

void TestCost::recurrent_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<int>("gates");
    QTest::newRow("RNN") << "RNN" << 1;
    QTest::newRow("GRU") << "GRU" << 3;
    QTest::newRow("LSTM") << "LSTM" << 4;
}

void TestCost::recurrent() {
    QFETCH(QString, op);
    QFETCH(int, gates);
    const int64_t seq = 7, batch = 2, in = 10, hidden = 20, dirs = 2;
    Model m;
    Graph& g = *m.graph;
    Value* x = tensorValue(g, "x", std::vector<int64_t>{seq, batch, in});
    Value* w = weight(g, "w", {dirs, gates * hidden, in});
    Value* r = weight(g, "r", {dirs, gates * hidden, hidden});
    Value* y = tensorValue(g, "y", std::vector<int64_t>{seq, dirs, batch, hidden});
    Node* n = g.addNode(op.toStdString(), "", "rnn", {x, w, r}, {y});
    n->setAttr(Attribute::makeString("direction", "bidirectional"));
    n->setAttr(Attribute::makeInt("hidden_size", hidden));
    NodeCost c = nodeCost(*n);
    QCOMPARE(c.macs, seq * batch * dirs * gates * hidden * (in + hidden));
    QVERIFY(c.flops > 2 * c.macs); // gate activations come on top
    QCOMPARE(c.paramCount, dirs * gates * hidden * (in + hidden));
}

void TestCost::parametersAndActivations() {
    // Two Gemms share one weight; a third initializer feeds nothing. The model counts every
    // initializer once; each node counts what it reads.
    Model m;
    Graph& g = *m.graph;
    Value* x = tensorValue(g, "x", std::vector<int64_t>{1, 8});
    Value* w = weight(g, "w", {8, 8});
    Value* unused = weight(g, "unused", {3}, DataType::Int8);
    (void)unused;
    Value* h = tensorValue(g, "h", std::vector<int64_t>{1, 8});
    Value* y = tensorValue(g, "y", std::vector<int64_t>{1, 8});
    Node* a = g.addNode("Gemm", "", "a", {x, w}, {h});
    Node* b = g.addNode("Gemm", "", "b", {h, w}, {y});
    Value* z = tensorValue(g, "z", std::vector<int64_t>{1, 8});
    Node* relu = g.addNode("Relu", "", "relu", {y}, {z});
    g.inputs = {x};
    g.outputs = {z};

    ModelCost mc = modelCost(m);
    QCOMPARE(mc.parameterCount, int64_t(64 + 3));
    QCOMPARE(mc.parameterBytes, int64_t(256 + 3));
    QCOMPARE(mc.macs, int64_t(2 * 64));
    QCOMPARE(mc.flops, int64_t(4 * 64 + 8));
    QCOMPARE(mc.activationBytes, int64_t(3 * 32));
    QVERIFY(mc.exact);
    QCOMPARE(mc.perNode.size(), std::size_t(3));
    QCOMPARE(mc.perNode.at(a).paramCount, int64_t(64));
    QCOMPARE(mc.perNode.at(b).paramBytes, int64_t(256));
    QCOMPARE(mc.perNode.at(relu).flops, int64_t(8));
}

void TestCost::constantNodesAreParameters() {
    // Paddle2ONNX and tf2onnx keep weights in Constant nodes rather than initializers.
    Model m;
    Graph& g = *m.graph;
    Value* x = tensorValue(g, "x", std::vector<int64_t>{1, 2, 5, 5});
    Value* w = *g.addValue("w", Type{}); // type left to the Constant's tensor
    Node* k = g.addNode("Constant", "", "k", {}, {w});
    k->setAttr(Attribute::makeTensor("value", Tensor::fromVector("w", DataType::Float, {3, 2, 3, 3},
                                                                 std::vector<float>(54, 1.f))));
    Value* y = tensorValue(g, "y", std::vector<int64_t>{1, 3, 3, 3});
    Node* conv = g.addNode("Conv", "", "conv", {x, w}, {y});
    ModelCost mc = modelCost(m);
    QCOMPARE(mc.parameterCount, int64_t(54));
    QCOMPARE(mc.parameterBytes, int64_t(216));
    QCOMPARE(mc.perNode.at(conv).paramCount, int64_t(54));
    QCOMPARE(mc.perNode.at(conv).macs, int64_t(27 * 18));
}

void TestCost::unknownShapesAreLowerBounds() {
    Model m;
    Graph& g = *m.graph;
    // Symbolic batch: the count is per sample (N read as 1) and marked inexact.
    Value* x =
        *g.addValue("x", Type::tensor(DataType::Float, Shape({Dim::symbolic("N"), Dim::known(8)})));
    Value* w = weight(g, "w", {8, 4});
    Value* y =
        *g.addValue("y", Type::tensor(DataType::Float, Shape({Dim::symbolic("N"), Dim::known(4)})));
    Node* mm = g.addNode("MatMul", "", "mm", {x, w}, {y});
    NodeCost c = nodeCost(*mm);
    QCOMPARE(c.macs, int64_t(32));
    QVERIFY(!c.exact);

    // No shape at all: nothing to count, and certainly not exact.
    Value* u = tensorValue(g, "u", noShape());
    Value* v = tensorValue(g, "v", noShape());
    Node* mm2 = g.addNode("MatMul", "", "mm2", {u, w}, {v});
    NodeCost c2 = nodeCost(*mm2);
    QCOMPARE(c2.macs, int64_t(0));
    QVERIFY(!c2.exact);
    QVERIFY(!modelCost(m).exact);

    // Shape-only ops with known shapes stay exact and cost nothing.
    Model m2;
    Graph& g2 = *m2.graph;
    Value* a = tensorValue(g2, "a", std::vector<int64_t>{2, 3});
    Value* t = tensorValue(g2, "t", std::vector<int64_t>{3, 2});
    g2.addNode("Transpose", "", "tr", {a}, {t});
    ModelCost mc2 = modelCost(m2);
    QVERIFY(mc2.exact);
    QCOMPARE(mc2.flops, int64_t(0));
    QCOMPARE(mc2.activationBytes, int64_t(24));
}

void TestCost::loopMultipliesBody() {
    Model m;
    Graph& g = *m.graph;
    Value* tripCount = weight(g, "M", {}, DataType::Int64); // value 1 from the helper
    Value* x = tensorValue(g, "x", std::vector<int64_t>{4, 4});
    Value* w = weight(g, "w", {4, 4});
    Value* out = tensorValue(g, "out", std::vector<int64_t>{4, 4});
    Node* loop = g.addNode("Loop", "", "loop", {tripCount, nullptr, x}, {out});

    Attribute body;
    body.name = "body";
    body.type = AttrType::Graph;
    body.g = std::make_unique<Graph>(&g, loop);
    Graph& bg = *body.g;
    Value* iter = tensorValue(bg, "iter", std::vector<int64_t>{}, DataType::Int64);
    Value* cond = tensorValue(bg, "cond", std::vector<int64_t>{}, DataType::Bool);
    Value* carried = tensorValue(bg, "carried", std::vector<int64_t>{4, 4});
    Value* next = tensorValue(bg, "next", std::vector<int64_t>{4, 4});
    Value* condOut = tensorValue(bg, "cond_out", std::vector<int64_t>{}, DataType::Bool);
    bg.addNode("MatMul", "", "body_mm", {carried, w}, {next}); // w from the outer scope
    bg.addNode("Identity", "", "body_cond", {cond}, {condOut});
    bg.inputs = {iter, cond, carried};
    bg.outputs = {condOut, next};
    loop->setAttr(std::move(body));

    ModelCost once = modelCost(m);
    QCOMPARE(once.macs, int64_t(64)); // M = 1
    QVERIFY(once.exact);
    QCOMPARE(once.perNode.size(), std::size_t(3)); // nested nodes are listed too
    QCOMPARE(once.parameterCount, int64_t(1 + 16));

    // M = 5 as a constant: the body runs five times.
    tripCount->initializer = Tensor::fromVector("M", DataType::Int64, {}, std::vector<int64_t>{5});
    QCOMPARE(modelCost(m).macs, int64_t(5 * 64));

    // A loop condition may end it early: one iteration is a lower bound.
    Value* c = weight(g, "c", {}, DataType::Float);
    loop->setInput(1, c);
    ModelCost dyn = modelCost(m);
    QCOMPARE(dyn.macs, int64_t(64));
    QVERIFY(!dyn.exact);
}

void TestCost::ifTakesCostlierBranch() {
    Model m;
    Graph& g = *m.graph;
    Value* cond = tensorValue(g, "cond", std::vector<int64_t>{}, DataType::Bool);
    Value* x = tensorValue(g, "x", std::vector<int64_t>{2, 8});
    Value* w = weight(g, "w", {8, 8});
    Value* out = tensorValue(g, "out", std::vector<int64_t>{2, 8});
    Node* node = g.addNode("If", "", "if", {cond}, {out});
    auto branch = [&](const char* attrName, int matmuls) {
        Attribute a;
        a.name = attrName;
        a.type = AttrType::Graph;
        a.g = std::make_unique<Graph>(&g, node);
        Value* cur = x;
        for (int i = 0; i < matmuls; ++i) {
            Value* nx = tensorValue(*a.g, std::string(attrName) + std::to_string(i),
                                    std::vector<int64_t>{2, 8});
            a.g->addNode("MatMul", "", {}, {cur, w}, {nx});
            cur = nx;
        }
        a.g->outputs = {cur};
        node->setAttr(std::move(a));
    };
    branch("then_branch", 3);
    branch("else_branch", 1);
    ModelCost mc = modelCost(m);
    QCOMPARE(mc.macs, int64_t(3 * 128));
    QVERIFY(!mc.exact); // which branch runs is decided at run time
    QCOMPARE(mc.perNode.size(), std::size_t(5));
}

QTEST_GUILESS_MAIN(TestCost)
#include "tst_cost.moc"
