// nn kernel family (kernels_nn.def): hand-built single-node graphs with exact expected values for
// the tricky semantics, then every ONNX backend node test that uses one of the family's ops and
// whose ops all have kernels, compared with its reference outputs (rtol 1e-3, atol 1e-7).
#include "kernel_test_util.h"
#include "test_util.h"

#include "conformance_runner.h"
#include "ir/graph.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/cpu/sgemm.h"
#include "runtime/session.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

using namespace ew;
using namespace ew::test;
using ir::DataType;
using rt::Tensor;

namespace {

constexpr DataType F = DataType::Float, I64 = DataType::Int64, I32 = DataType::Int32,
                   B = DataType::Bool, U8 = DataType::UInt8, H = DataType::Float16,
                   I8 = DataType::Int8, I16 = DataType::Int16;

using A = ir::Attribute;

struct Case {
    std::string name;
    std::string op;
    std::vector<In> ins;
    std::vector<A> (*attrs)();
    std::vector<Out> outs;
    int64_t opset;
};

const std::vector<Case>& cases() {
    const double inf = INFINITY;
    static const std::vector<Case> c = {
        // RMSNormalization: y = x / sqrt(mean(x^2) + eps) * scale over the trailing axes.
        {"RMSNorm axis -1",
         "RMSNormalization",
         {{"x", F, {2, 2}, {3, 4, 0, 0}}, {"s", F, {2}, {1, 2}}},
         [] { return attrs(A::makeFloat("epsilon", 0.f)); },
         {{F, {2, 2}, {3 / std::sqrt(12.5), 8 / std::sqrt(12.5), NAN, NAN}}},
         23},
        {"RMSNorm axis 0 broadcast scale",
         "RMSNormalization",
         {{"x", F, {2, 1}, {1, 7}}, {"s", F, {1}, {2}}},
         [] { return attrs(A::makeInt("axis", 0), A::makeFloat("epsilon", 0.f)); },
         {{F, {2, 1}, {2 / 5.0, 14 / 5.0}}},
         23},
        // InstanceNormalization: per (n, c) plane.
        {"InstanceNorm",
         "InstanceNormalization",
         {{"x", F, {1, 2, 2}, {1, 3, 5, 7}}, {"s", F, {2}, {2, 1}}, {"b", F, {2}, {0, 10}}},
         [] { return attrs(A::makeFloat("epsilon", 0.f)); },
         {{F, {1, 2, 2}, {-2, 2, 9, 11}}},
         6},
        // GroupNormalization-21: stats per group, scale per channel.
        {"GroupNorm per-channel scale",
         "GroupNormalization",
         {{"x", F, {1, 4, 1}, {1, 3, 10, 12}},
          {"s", F, {4}, {1, 2, 1, 1}},
          {"b", F, {4}, {0, 0, 0, 1}}},
         [] { return attrs(A::makeInt("num_groups", 2), A::makeFloat("epsilon", 0.f)); },
         {{F, {1, 4, 1}, {-1, 2, -1, 2}}},
         21},
        // MVN over axes {0, 2, 3} by default.
        {"MVN",
         "MeanVarianceNormalization",
         {{"x", F, {2, 1, 1, 1}, {1, 3}}},
         none,
         {{F, {2, 1, 1, 1}, {-1, 1}}},
         13},
        {"LpNormalization p=1 axis 0",
         "LpNormalization",
         {{"x", F, {2, 2}, {1, 2, -3, 0}}},
         [] { return attrs(A::makeInt("axis", 0), A::makeInt("p", 1)); },
         {{F, {2, 2}, {0.25, 1, -0.75, 0}}},
         1},
        // LRN size 3: neighbours c-1..c+1.
        {"LRN",
         "LRN",
         {{"x", F, {1, 3, 1, 1}, {1, 2, 3}}},
         [] {
             return attrs(A::makeInt("size", 3), A::makeFloat("alpha", 3.f),
                          A::makeFloat("beta", 1.f), A::makeFloat("bias", 1.f));
         },
         {{F, {1, 3, 1, 1}, {1 / 6.0, 2 / 15.0, 3 / 14.0}}},
         13},
        {"LpPool p=1 pads",
         "LpPool",
         {{"x", F, {1, 1, 3}, {1, -2, 3}}},
         [] {
             return attrs(A::makeInts("kernel_shape", {2}), A::makeInt("p", 1),
                          A::makeInts("pads", {1, 0}));
         },
         {{F, {1, 1, 3}, {1, 3, 5}}},
         18},
        {"MaxUnpool",
         "MaxUnpool",
         {{"x", F, {1, 1, 1, 2}, {5, 6}}, {"i", I64, {1, 1, 1, 2}, {1, 2}}},
         [] {
             return attrs(A::makeInts("kernel_shape", {1, 2}), A::makeInts("strides", {1, 2}));
         },
         {{F, {1, 1, 1, 4}, {0, 5, 6, 0}}},
         11},
        // NLL: mean divides by the summed weights of the counted targets; ignore_index counts
        // nothing.
        {"NLLLoss mean weight ignore",
         "NegativeLogLikelihoodLoss",
         {{"x", F, {3, 2}, {-1, -2, -3, -4, -5, -6}},
          {"t", I64, {3}, {1, 0, -1}},
          {"w", F, {2}, {2, 3}}},
         [] { return attrs(A::makeInt("ignore_index", -1)); },
         {{F, {}, {(2 * 3 + 3 * 2) / 5.0}}},
         13},
        {"NLLLoss none NCd",
         "NegativeLogLikelihoodLoss",
         {{"x", F, {1, 2, 2}, {-1, -2, -3, -4}}, {"t", I32, {1, 2}, {1, 0}}},
         [] { return attrs(A::makeString("reduction", "none")); },
         {{F, {1, 2}, {3, 2}}},
         13},
        {"SCELoss sum + log_prob",
         "SoftmaxCrossEntropyLoss",
         {{"x", F, {1, 2}, {0, 0}}, {"t", I64, {1}, {1}}},
         [] { return attrs(A::makeString("reduction", "sum")); },
         {{F, {}, {std::log(2.0)}}, {F, {1, 2}, {-std::log(2.0), -std::log(2.0)}}},
         13},
        // Attention: causal with past (offset = past length), bool mask, softcap.
        {"Attention causal with past",
         "Attention",
         {{"q", F, {1, 1, 1, 1}, {1}},
          {"k", F, {1, 1, 2, 1}, {0, 0}},
          {"v", F, {1, 1, 2, 1}, {4, 100}},
          {"", F, {}, {}},
          {"pk", F, {1, 1, 1, 1}, {0}},
          {"pv", F, {1, 1, 1, 1}, {2}}},
         [] { return attrs(A::makeInt("is_causal", 1)); },
         {{F, {1, 1, 1, 1}, {3}}, {F, {1, 1, 3, 1}, {0, 0, 0}}, {F, {1, 1, 3, 1}, {2, 4, 100}}},
         23},
        {"Attention bool mask GQA",
         "Attention",
         {{"q", F, {1, 2, 1, 1}, {1, 1}},
          {"k", F, {1, 1, 2, 1}, {0, 0}},
          {"v", F, {1, 1, 2, 1}, {2, 6}},
          {"m", B, {2, 1, 2}, {1, 0, 1, 1}}},
         none,
         {{F, {1, 2, 1, 1}, {2, 4}}},
         23},
        {"Attention softcap and qk output",
         "Attention",
         {{"q", F, {1, 1, 1, 1}, {2}},
          {"k", F, {1, 1, 2, 1}, {1, 0}},
          {"v", F, {1, 1, 2, 1}, {1, 0}},
          {"m", F, {1, 2}, {0, -inf}}},
         [] {
             return attrs(A::makeFloat("scale", 1.f), A::makeFloat("softcap", 1.f),
                          A::makeInt("qk_matmul_output_mode", 2));
         },
         {{F, {1, 1, 1, 1}, {1}},
          {F, {0}, {}},
          {F, {0}, {}},
          {F, {1, 1, 1, 2}, {std::tanh(2.0), -inf}}},
         23},
        {"RotaryEmbedding interleaved",
         "RotaryEmbedding",
         {{"x", F, {1, 1, 1, 4}, {1, 2, 3, 4}},
          {"c", F, {1, 2}, {0, 1}},
          {"s", F, {1, 2}, {1, 0}},
          {"p", I64, {1, 1}, {0}}},
         [] { return attrs(A::makeInt("interleaved", 1)); },
         {{F, {1, 1, 1, 4}, {-2, 1, 3, 4}}},
         23},
        // QuantizeLinear rounds half to even and saturates.
        {"QuantizeLinear ties saturate int8",
         "QuantizeLinear",
         {{"x", F, {6}, {0.5, 1.5, 2.5, -0.5, 300, -300}}, {"s", F, {}, {1}}, {"z", I8, {}, {0}}},
         none,
         {{I8, {6}, {0, 2, 2, 0, 127, -128}}},
         13},
        {"QuantizeLinear blocked",
         "QuantizeLinear",
         {{"x", F, {1, 4}, {1, 2, 3, 4}}, {"s", F, {1, 2}, {1, 2}}, {"z", I8, {1, 2}, {0, 1}}},
         [] { return attrs(A::makeInt("axis", 1), A::makeInt("block_size", 2)); },
         {{I8, {1, 4}, {1, 2, 3, 3}}},
         21},
        {"QuantizeLinear int16",
         "QuantizeLinear",
         {{"x", F, {2}, {1000.4, -70000}}, {"s", F, {}, {0.5}}, {"z", I16, {}, {-5}}},
         none,
         {{I16, {2}, {1996, -32768}}},
         21},
        {"DequantizeLinear per axis",
         "DequantizeLinear",
         {{"x", U8, {2, 2}, {10, 20, 30, 40}}, {"s", F, {2}, {0.5, 2}}, {"z", U8, {2}, {10, 20}}},
         [] { return attrs(A::makeInt("axis", 0)); },
         {{F, {2, 2}, {0, 5, 20, 40}}},
         13},
        {"DynamicQuantizeLinear",
         "DynamicQuantizeLinear",
         {{"x", F, {4}, {0, 2, -1, 1}}},
         none,
         {{U8, {4}, {85, 255, 0, 170}}, {F, {}, {3.0 / 255.0}}, {U8, {}, {85}}},
         11},
        {"MatMulInteger per-row zero point",
         "MatMulInteger",
         {{"a", U8, {2, 2}, {1, 2, 5, 4}},
          {"b", U8, {2, 1}, {2, 3}},
          {"az", U8, {2}, {1, 3}},
          {"bz", U8, {}, {1}}},
         none,
         {{I32, {2, 1}, {2, 4}}},
         10},
        // GridSample padding modes (1-row images, so only x matters).
        {"GridSample border align_corners",
         "GridSample",
         {{"x", F, {1, 1, 1, 2}, {10, 20}}, {"g", F, {1, 1, 2, 2}, {-2, 0, 2, 0}}},
         [] {
             return attrs(A::makeInt("align_corners", 1), A::makeString("padding_mode", "border"));
         },
         {{F, {1, 1, 1, 2}, {10, 20}}},
         16},
        {"GridSample reflection",
         "GridSample",
         {{"x", F, {1, 1, 1, 3}, {1, 2, 3}}, {"g", F, {1, 1, 2, 2}, {-1, 0, 1, 0}}},
         [] { return attrs(A::makeString("padding_mode", "reflection")); },
         {{F, {1, 1, 1, 2}, {1, 3}}},
         16},
        {"GridSample zeros",
         "GridSample",
         {{"x", F, {1, 1, 1, 3}, {1, 2, 3}}, {"g", F, {1, 1, 2, 2}, {-1, 0, 1, 0}}},
         none,
         {{F, {1, 1, 1, 2}, {0.5, 1.5}}},
         16},
        {"NonMaxSuppression",
         "NonMaxSuppression",
         {{"b", F, {1, 3, 4}, {0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3}},
          {"s", F, {1, 1, 3}, {0.9, 0.8, 0.7}},
          {"m", I64, {}, {3}},
          {"i", F, {}, {0.5}}},
         none,
         {{I64, {2, 3}, {0, 0, 0, 0, 0, 2}}},
         11},
        // RNN reverse with sequence_lens: entry 1 has one step; Y is zero past it.
        {"RNN reverse sequence_lens",
         "RNN",
         {{"x", F, {2, 2, 1}, {1, 3, 2, 4}},
          {"w", F, {1, 1, 1}, {1}},
          {"r", F, {1, 1, 1}, {1}},
          {"", F, {}, {}},
          {"l", I32, {2}, {2, 1}}},
         [] {
             std::vector<A> a =
                 attrs(A::makeInt("hidden_size", 1), A::makeString("direction", "reverse"));
             A act;
             act.name = "activations";
             act.type = ir::AttrType::Strings;
             act.strings = {"Relu"};
             a.push_back(std::move(act));
             return a;
         },
         {{F, {2, 1, 2, 1}, {3, 3, 2, 0}}, {F, {1, 2, 1}, {3, 3}}},
         14},
        {"GRU linear_before_reset",
         "GRU",
         {{"x", F, {1, 1, 1}, {1}},
          {"w", F, {1, 3, 1}, {0, 0, 1}},
          {"r", F, {1, 3, 1}, {0, 0, 1}},
          {"b", F, {1, 6}, {0, 0, 0, 0, 0, 1}},
          {"", F, {}, {}},
          {"h", F, {1, 1, 1}, {1}}},
         [] { return attrs(A::makeInt("hidden_size", 1), A::makeInt("linear_before_reset", 1)); },
         {{F, {1, 1, 1, 1}, {0.5 * std::tanh(2.0) + 0.5}},
          {F, {1, 1, 1}, {0.5 * std::tanh(2.0) + 0.5}}},
         14},
        {"GRU reset before linear",
         "GRU",
         {{"x", F, {1, 1, 1}, {1}},
          {"w", F, {1, 3, 1}, {0, 0, 1}},
          {"r", F, {1, 3, 1}, {0, 0, 1}},
          {"b", F, {1, 6}, {0, 0, 0, 0, 0, 1}},
          {"", F, {}, {}},
          {"h", F, {1, 1, 1}, {1}}},
         [] { return attrs(A::makeInt("hidden_size", 1)); },
         {{F, {1, 1, 1, 1}, {0.5 * std::tanh(2.5) + 0.5}},
          {F, {1, 1, 1}, {0.5 * std::tanh(2.5) + 0.5}}},
         14},
        {"LSTM one step",
         "LSTM",
         {{"x", F, {1, 1, 1}, {1}},
          {"w", F, {1, 4, 1}, {0, 0, 0, 1}},
          {"r", F, {1, 4, 1}, {0, 0, 0, 0}}},
         [] { return attrs(A::makeInt("hidden_size", 1)); },
         {{F, {1, 1, 1, 1}, {0.5 * std::tanh(0.5 * std::tanh(1.0))}},
          {F, {1, 1, 1}, {0.5 * std::tanh(0.5 * std::tanh(1.0))}},
          {F, {1, 1, 1}, {0.5 * std::tanh(1.0)}}},
         14},
        {"DFT onesided default axis",
         "DFT",
         {{"x", F, {1, 4, 1}, {1, 2, 3, 4}}},
         [] { return attrs(A::makeInt("onesided", 1)); },
         {{F, {1, 3, 2}, {10, 0, -2, 2, -2, 0}}},
         20},
        {"DFT inverse onesided (irfft)",
         "DFT",
         {{"x", F, {1, 3, 2}, {10, 0, -2, 2, -2, 0}}},
         [] { return attrs(A::makeInt("inverse", 1), A::makeInt("onesided", 1)); },
         {{F, {1, 4, 1}, {1, 2, 3, 4}}},
         20},
        {"HannWindow periodic",
         "HannWindow",
         {{"n", I64, {}, {4}, true}},
         none,
         {{F, {4}, {0, 0.5, 1, 0.5}}},
         17},
    };
    return c;
}

/// Ops of this family (kernels_nn.def); a node test runs here when it uses at least one.
const std::set<std::string>& familyOps() {
    return kernelListOps(KernelList::Nn);
}

bool usesFamily(const ir::Graph& g) {
    for (const auto& n : g.nodes()) {
        if (familyOps().count(n->opType)) return true;
        for (const ir::Graph* sg : n->subgraphs())
            if (usesFamily(*sg)) return true;
    }
    return false;
}

/// Node tests whose reference outputs carry float32 round-off larger than the suite's absolute
/// tolerance (1e-7) where the exact value is 0: they are compared again with `atol`, and pass as
/// known gaps only then. ONNX Runtime 1.30 fails them too.
struct Looser {
    const char* prefix;
    double atol;
    const char* reason;
};
const Looser* looserTolerance(const QString& name) {
    static const Looser kList[] = {
        {"test_dft_inverse", 1e-5,
         "reference has 1.9e-7 float32 noise where the exact value is 0 (ours: 3e-15)"},
    };
    for (const Looser& l : kList)
        if (name.startsWith(QLatin1String(l.prefix))) return &l;
    return nullptr;
}

} // namespace

class TestKernelsNn : public QObject {
    Q_OBJECT
  private slots:
    void kernels_data();
    void kernels();
    void fastMaxPoolMatchesReference_data();
    void fastMaxPoolMatchesReference();
    void fastQuantizeMatchesReference_data();
    void fastQuantizeMatchesReference();
    void fastRecurrentMatchesReference_data();
    void fastRecurrentMatchesReference();
    void nodeSuite();
};

void TestKernelsNn::kernels_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < cases().size(); ++i)
        QTest::newRow(cases()[i].name.c_str()) << static_cast<int>(i);
}

void TestKernelsNn::kernels() {
    QFETCH(int, index);
    const Case& c = cases()[index];
    auto model = singleNode(c.op, c.ins, static_cast<int>(c.outs.size()), c.attrs(), c.opset);
    for (int threads : {1, 3}) {
        rt::SessionOptions opt;
        opt.threads = threads;
        auto s = rt::Session::create(*model, opt);
        QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
        const rt::Session::NamedTensors feed = feeds(c.ins);
        for (int rep = 0; rep < 2; ++rep) {
            auto out = (*s)->run(feed);
            QVERIFY2(out.has_value(), out ? "" : out.error().toString().c_str());
            QCOMPARE(out->size(), c.outs.size());
            for (std::size_t i = 0; i < c.outs.size(); ++i) {
                if (c.outs[i].dims == std::vector<int64_t>{0}) continue; // not checked
                QString why;
                QVERIFY2(sameValues((*out)[i], c.outs[i], 1e-5, 1e-6, why),
                         qPrintable(QString("output %1: %2").arg(i).arg(why)));
            }
        }
    }
}

void TestKernelsNn::fastMaxPoolMatchesReference_data() {
    QTest::addColumn<QList<int>>("geom"); // n, c, h, w, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight, ceil
    QTest::newRow("2x2 s2 exact tiling (flat path)") << QList<int>{3, 5, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 0};
    QTest::newRow("3x3 s3 exact tiling") << QList<int>{2, 3, 9, 12, 3, 3, 3, 3, 0, 0, 0, 0, 0};
    QTest::newRow("2x2 s2 odd map (leftover row and column)") << QList<int>{1, 4, 9, 7, 2, 2, 2, 2, 0, 0, 0, 0, 0};
    QTest::newRow("3x3 s2 pad 1 (resnet stem)") << QList<int>{1, 6, 15, 16, 3, 3, 2, 2, 1, 1, 1, 1, 0};
    QTest::newRow("3x3 s1 pad 1") << QList<int>{2, 3, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0};
    QTest::newRow("2x2 s2 ceil mode") << QList<int>{1, 2, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0, 1};
    QTest::newRow("pads larger than the window reach (padding-only windows)")
        << QList<int>{1, 2, 4, 5, 2, 2, 1, 1, 2, 2, 2, 2, 0};
    QTest::newRow("5x1 s(3,1) asymmetric pads") << QList<int>{1, 3, 11, 6, 5, 1, 3, 1, 2, 0, 1, 0, 0};
    QTest::newRow("1x3 s(1,3) stride above 2") << QList<int>{2, 2, 5, 17, 1, 3, 1, 3, 0, 1, 0, 2, 0};
}

/// The float MaxPool fast paths (flat tiling, vertical-then-horizontal taps) give the bits of the
/// reference loop, -inf inputs and padding-only windows included, on 1 and 2 threads.
void TestKernelsNn::fastMaxPoolMatchesReference() {
    QFETCH(QList<int>, geom);
    const int64_t n = geom[0], c = geom[1], h = geom[2], w = geom[3];
    std::vector<double> x(static_cast<std::size_t>(n * c * h * w));
    uint32_t state = 12345;
    for (std::size_t i = 0; i < x.size(); ++i) {
        state = state * 1664525u + 1013904223u;
        x[i] = (static_cast<double>(state >> 8) / (1 << 24)) * 8.0 - 4.0;
        if (i % 23 == 7) x[i] = -std::numeric_limits<double>::infinity();
    }
    std::vector<In> ins = {{"x", F, {n, c, h, w}, x}};
    std::vector<ir::Attribute> attrs;
    attrs.push_back(ir::Attribute::makeInts("kernel_shape", {geom[4], geom[5]}));
    attrs.push_back(ir::Attribute::makeInts("strides", {geom[6], geom[7]}));
    attrs.push_back(ir::Attribute::makeInts("pads", {geom[8], geom[9], geom[10], geom[11]}));
    attrs.push_back(ir::Attribute::makeInt("ceil_mode", geom[12]));
    auto model = singleNode("MaxPool", ins, 1, std::move(attrs), 12);
    const std::vector<float> ref = runOnce(*model, feeds(ins), true, 1);
    QVERIFY(!ref.empty());
    for (int threads : {1, 2}) {
        const std::vector<float> fast = runOnce(*model, feeds(ins), false, threads);
        QCOMPARE(fast.size(), ref.size());
        QVERIFY2(std::memcmp(fast.data(), ref.data(), ref.size() * sizeof(float)) == 0,
                 qPrintable(QString("threads %1: fast MaxPool differs from the reference loop").arg(threads)));
    }
}

void TestKernelsNn::fastRecurrentMatchesReference_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("direction");
    QTest::addColumn<bool>("full"); // bias, initial states, sequence_lens (and LSTM peepholes)
    QTest::addColumn<int>("variant"); // GRU: linear_before_reset; LSTM: layout
    QTest::newRow("LSTM forward, silero-like (I = H = 64, one step)") << "LSTM" << "forward" << true << 0;
    QTest::newRow("LSTM bidirectional, peepholes, lens, tails") << "LSTM" << "bidirectional" << true << 0;
    QTest::newRow("LSTM reverse, layout 1, no optional inputs") << "LSTM" << "reverse" << false << 1;
    QTest::newRow("GRU bidirectional, reset before linear") << "GRU" << "bidirectional" << true << 0;
    QTest::newRow("GRU forward, linear before reset") << "GRU" << "forward" << true << 1;
    QTest::newRow("RNN bidirectional") << "RNN" << "bidirectional" << true << 0;
}

/// The float32 fast path of RNN / GRU / LSTM (float state, 8-lane dot products) against the
/// reference (double): every output within float rounding, and the same bytes on 1 and 2 threads.
void TestKernelsNn::fastRecurrentMatchesReference() {
    QFETCH(QString, op);
    QFETCH(QString, direction);
    QFETCH(bool, full);
    QFETCH(int, variant);
    const bool silero = QByteArray(QTest::currentDataTag()).contains("silero");
    const int64_t G = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1, D = direction == "bidirectional" ? 2 : 1;
    const int64_t S = silero ? 1 : 5, B = silero ? 1 : 3, I = silero ? 64 : 37, H = silero ? 64 : 21;
    const int64_t layout = op == "LSTM" ? variant : 0;
    uint32_t state = 12345;
    auto rnd = [&](std::size_t n, double scale) {
        std::vector<double> v(n);
        for (double& e : v) {
            state = state * 1664525u + 1013904223u;
            e = ((static_cast<double>(state >> 8) / (1 << 24)) * 2.0 - 1.0) * scale;
        }
        return v;
    };
    std::vector<In> ins = {
        {"x", F, layout ? std::vector<int64_t>{B, S, I} : std::vector<int64_t>{S, B, I}, rnd(std::size_t(S * B * I), 2.0)},
        {"w", F, {D, G * H, I}, rnd(std::size_t(D * G * H * I), 0.3), true},
        {"r", F, {D, G * H, H}, rnd(std::size_t(D * G * H * H), 0.3), true}};
    const std::vector<int64_t> stateDims = layout ? std::vector<int64_t>{B, D, H} : std::vector<int64_t>{D, B, H};
    if (full) {
        ins.push_back({"b", F, {D, 2 * G * H}, rnd(std::size_t(D * 2 * G * H), 0.5), true});
        std::vector<double> lens(static_cast<std::size_t>(B), static_cast<double>(S));
        if (B > 1) lens[1] = double(S - 2);
        ins.push_back({"lens", I32, {B}, lens});
        ins.push_back({"h0", F, stateDims, rnd(std::size_t(D * B * H), 0.8)});
        if (op == "LSTM") {
            ins.push_back({"c0", F, stateDims, rnd(std::size_t(D * B * H), 0.8)});
            ins.push_back({"p", F, {D, 3 * H}, rnd(std::size_t(D * 3 * H), 0.4), true});
        }
    }
    std::vector<ir::Attribute> at = attrs(A::makeInt("hidden_size", H), A::makeString("direction", direction.toStdString()));
    if (op == "GRU") at.push_back(A::makeInt("linear_before_reset", variant));
    if (op == "LSTM") at.push_back(A::makeInt("layout", layout));
    const int outs = op == "LSTM" ? 3 : 2;
    auto model = singleNode(op.toStdString(), ins, outs, std::move(at), 14);
    auto runAll = [&](bool reference, int threads) {
        rt::cpu::setPreferReferenceKernels(reference);
        rt::SessionOptions opt;
        opt.threads = threads;
        auto s = rt::Session::create(*model, opt);
        auto out = s ? (*s)->run(feeds(ins)) : Result<std::vector<rt::Tensor>>(std::unexpected(s.error()));
        rt::cpu::setPreferReferenceKernels(false);
        std::vector<std::vector<float>> v;
        if (!out) {
            qWarning("%s", out.error().toString().c_str());
            return v;
        }
        for (const rt::Tensor& t : *out) v.emplace_back(t.data<float>(), t.data<float>() + t.numElements());
        return v;
    };
    const auto ref = runAll(true, 1);
    const auto fast = runAll(false, 1);
    const auto fast2 = runAll(false, 2);
    QCOMPARE(int(ref.size()), outs);
    QCOMPARE(fast.size(), ref.size());
    double worst = 0;
    for (std::size_t o = 0; o < ref.size(); ++o) {
        QCOMPARE(fast[o].size(), ref[o].size());
        QVERIFY2(std::memcmp(fast[o].data(), fast2[o].data(), fast[o].size() * sizeof(float)) == 0, "1 vs 2 threads");
        for (std::size_t i = 0; i < ref[o].size(); ++i)
            worst = std::max(worst, std::abs(double(fast[o][i]) - ref[o][i]) / (1.0 + std::abs(double(ref[o][i]))));
    }
    QVERIFY2(worst < 2e-5, qPrintable(QString("worst relative difference %1").arg(worst)));
    QVERIFY2(worst > 0, "the fast path was not taken (float results equal the double reference everywhere)");
}

void TestKernelsNn::fastQuantizeMatchesReference_data() {
    QTest::addColumn<bool>("unsignedOut");
    QTest::addColumn<double>("scale");
    QTest::addColumn<int>("zeroPoint");
    QTest::newRow("uint8 zp 128") << true << 0.0173 << 128;
    QTest::newRow("uint8 zp 0 scale 1 (ties)") << true << 1.0 << 0;
    QTest::newRow("int8 zp -3") << false << 0.05 << -3;
    QTest::newRow("int8 zp 0 scale 0.5 (ties)") << false << 0.5 << 0;
}

/// The per-tensor float -> 8-bit QuantizeLinear fast path (16 values per SSE2 step, scalar tail)
/// gives the reference loop's bytes: ties to even, saturation, NaN, infinities, huge values, on
/// 1 and 2 threads and a length that leaves a tail.
void TestKernelsNn::fastQuantizeMatchesReference() {
    QFETCH(bool, unsignedOut);
    QFETCH(double, scale);
    QFETCH(int, zeroPoint);
    std::vector<double> x(40013);
    uint32_t state = 777;
    for (std::size_t i = 0; i < x.size(); ++i) {
        state = state * 1664525u + 1013904223u;
        x[i] = (static_cast<double>(state >> 8) / (1 << 24)) * 6.0 - 3.0;
        if (i % 5 == 1) x[i] = std::round(x[i] * 4 / scale) / 4 * scale * 2; // exact ties and integers
        if (i % 97 == 3) x[i] = std::numeric_limits<double>::quiet_NaN();
        if (i % 101 == 5) x[i] = (i & 1 ? 1 : -1) * std::numeric_limits<double>::infinity();
        if (i % 103 == 7) x[i] = (i & 1 ? 1 : -1) * 3.0e9;
    }
    const std::vector<In> ins = {{"x", F, {int64_t(x.size())}, x},
                                 {"s", F, {}, {scale}, true},
                                 {"z", unsignedOut ? U8 : I8, {}, {double(zeroPoint)}, true}};
    auto model = singleNode("QuantizeLinear", ins, 1, {}, 13);
    auto runBytes = [&](bool reference, int threads) {
        rt::cpu::setPreferReferenceKernels(reference);
        rt::SessionOptions opt;
        opt.threads = threads;
        // The kernel checks the switch when it runs: keep it for the whole run.
        auto s = rt::Session::create(*model, opt);
        std::vector<uint8_t> bytes;
        auto out = s ? (*s)->run(feeds(ins)) : Result<std::vector<rt::Tensor>>(std::unexpected(s.error()));
        rt::cpu::setPreferReferenceKernels(false);
        if (!out) return bytes;
        const auto* p = static_cast<const uint8_t*>(static_cast<const void*>((*out)[0].raw()));
        bytes.assign(p, p + (*out)[0].byteSize());
        return bytes;
    };
    const std::vector<uint8_t> ref = runBytes(true, 1);
    QCOMPARE(ref.size(), x.size());
    for (int threads : {1, 2}) {
        const std::vector<uint8_t> fast = runBytes(false, threads);
        QCOMPARE(fast.size(), ref.size());
        for (std::size_t i = 0; i < ref.size(); ++i)
            if (fast[i] != ref[i])
                QFAIL(qPrintable(QString("threads %1, x[%2] = %3: fast %4, reference %5")
                                     .arg(threads).arg(i).arg(x[i]).arg(fast[i]).arg(ref[i])));
    }
}

void TestKernelsNn::nodeSuite() {
    EW_REQUIRE_MODELS();
    auto tests = cli::discoverConformanceTests(
        (test::modelsDir() + "/onnx-backend-tests/node").toStdString());
    if (!tests) QSKIP("[ew-skip] onnx-backend-tests/node not found");
    QString only = qEnvironmentVariable("EW_NN_ONLY");
    int covered = 0, passed = 0, uncovered = 0, known = 0, unfed = 0;
    QStringList failures;
    for (const cli::ConformanceCase& t : *tests) {
        const QString name = QString::fromStdString(t.name).section('/', -1);
        if (!only.isEmpty() && !name.contains(only)) continue;
        bool selected = false; // also false when the model does not load: no family claims it
        cli::ConformanceOptions opts;
        opts.select = [&](const ir::Model& model) { return selected = usesFamily(*model.graph); };
        cli::CaseResult r = cli::runConformanceCase(t, opts);
        if (!selected) continue;
        // Sub-byte and float8/float4 element types are outside the runtime.
        if (r.outOfScope()) {
            ++unfed;
            continue;
        }
        if (r.category == "no-kernel") {
            ++uncovered;
            continue;
        }
        ++covered;
        // One pass at the suite's tolerance; tests with a known-noisy reference get a second one.
        const Looser* loose = r.outcome == cli::Outcome::Fail ? looserTolerance(name) : nullptr;
        if (loose) {
            opts.atol = loose->atol;
            cli::CaseResult second = cli::runConformanceCase(t, opts);
            if (second.outcome == cli::Outcome::Pass) {
                ++known;
                qInfo("known gap %s (%s): %s", qPrintable(name), loose->reason, r.reason.c_str());
                continue;
            }
            r = std::move(second);
        }
        if (r.outcome == cli::Outcome::Pass)
            ++passed;
        else
            failures << name + ": " + (r.outcome == cli::Outcome::Skip ? "skipped: " : "") +
                            QString::fromStdString(r.reason);
    }
    qInfo("nn node tests: %d run, %d pass, %d known gaps, %d fail; %d need ops of other families; "
          "%d use element "
          "types the runtime does not carry",
          covered, passed, known, static_cast<int>(failures.size()), uncovered, unfed);
    for (const QString& f : failures)
        qWarning("%s", qPrintable(f));
    QVERIFY2(failures.isEmpty(), qPrintable(QString("%1 unexpected results").arg(failures.size())));
    if (only.isEmpty()) QVERIFY(passed > 250);
}

QTEST_GUILESS_MAIN(TestKernelsNn)
#include "tst_kernels_nn.moc"
