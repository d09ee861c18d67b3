// TFLite UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF kernels (core/runtime/cpu/tflite_rnn.cpp): tiny
// hand-built ai.edgewise.tflite nodes with expected values derived by hand in the comments, the
// refusals, and the real tflite-micro models run end to end. The bit-level comparison of the real
// models against an independent numpy reference is tests/peer/tflite_rnn_ref.py (ctest
// peer_tflite_rnn).
#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "runtime/session.h"
#include "test_util.h"

#include <QtTest/QtTest>

#include <cmath>

using namespace ew;
using ir::DataType;

namespace {

constexpr const char* kDomain = "ai.edgewise.tflite";

double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// One ai.edgewise.tflite node on a graph input `x`, as the TFLite importer builds it.
struct Builder {
    std::unique_ptr<ir::Model> model = std::make_unique<ir::Model>();
    ir::Graph& g = *model->graph;
    std::vector<ir::Value*> ins;
    int counter = 0;
    Builder() { model->opsetImports = {{"", 14}, {kDomain, 1}}; }

    template <typename T>
    ir::Value* constant(DataType dt, std::vector<int64_t> dims, std::vector<T> v, std::optional<ir::QuantParams> q = {}) {
        const std::string name = "c" + std::to_string(counter++);
        ir::Value* val = *g.addValue(name, ir::Type::tensor(dt, ir::Shape::of(dims)));
        val->initializer = ir::Tensor::fromVector(name, dt, dims, std::move(v));
        val->quant = q;
        g.initializers.push_back(val);
        return val;
    }
    ir::Value* fc(std::vector<int64_t> dims, std::vector<float> v) { return constant(DataType::Float, dims, v); }
    ir::Value* input(DataType dt, std::vector<int64_t> dims, std::optional<ir::QuantParams> q = {}) {
        ir::Value* v = *g.addValue("x", ir::Type::tensor(dt, ir::Shape::of(dims)));
        v->quant = q;
        g.inputs.push_back(v);
        return v;
    }
    ir::Node* node(const std::string& op, std::vector<ir::Value*> in, DataType outType, std::optional<ir::QuantParams> q = {}) {
        ir::Value* y = *g.addValue("y", ir::Type::tensor(outType, std::nullopt));
        y->quant = q;
        while (!in.empty() && !in.back()) in.pop_back();
        ir::Node* n = g.addNode(op, kDomain, "rnn_node", in, {y});
        g.outputs.push_back(y);
        return n;
    }
};

ir::QuantParams qp(float scale, int64_t zp, DataType t) {
    ir::QuantParams q;
    q.scales = {scale};
    q.zeroPoints = {zp};
    q.storageType = t;
    return q;
}

Result<std::vector<double>> runIt(const ir::Model& m, rt::Tensor x) {
    EW_TRY_ASSIGN(auto s, rt::Session::create(m));
    EW_TRY_ASSIGN(auto outs, s->run({{"x", std::move(x)}}));
    std::vector<double> v;
    for (int64_t i = 0; i < outs[0].numElements(); ++i) v.push_back(outs[0].doubleAt(i));
    return v;
}

/// LSTM with n_input = n_cell = 1: every weight matrix is one number.
struct Lstm1 {
    float wi = 1, wf = 1, wc = 1, wo = 1, ri = 0, rf = 0, rc = 0, ro = 0, bi = 0, bf = 0, bc = 0, bo = 0;
    bool cifg = false, peephole = false, projection = false;
    float pi = 0, pf = 0, po = 0, projW = 1, projB = 0;
    float h0 = 0, c0 = 0;
    float cellClip = 0, projClip = 0;
    std::vector<float> xs{2.f};
};

Result<std::vector<double>> runLstm1(const Lstm1& p, std::string* error = nullptr) {
    Builder b;
    const int64_t T = static_cast<int64_t>(p.xs.size());
    ir::Value* x = b.input(DataType::Float, {1, T, 1});
    auto s = [&](float v) { return b.fc({1, 1}, {v}); };
    auto v1 = [&](float v) { return b.fc({1}, {v}); };
    std::vector<ir::Value*> in(24, nullptr);
    in[0] = x;
    if (!p.cifg) in[1] = s(p.wi), in[5] = s(p.ri), in[12] = v1(p.bi);
    in[2] = s(p.wf), in[3] = s(p.wc), in[4] = s(p.wo);
    in[6] = s(p.rf), in[7] = s(p.rc), in[8] = s(p.ro);
    in[13] = v1(p.bf), in[14] = v1(p.bc), in[15] = v1(p.bo);
    if (p.peephole) {
        if (!p.cifg) in[9] = v1(p.pi);
        in[10] = v1(p.pf), in[11] = v1(p.po);
    }
    if (p.projection) in[16] = s(p.projW), in[17] = v1(p.projB);
    in[18] = b.fc({1, 1}, {p.h0});
    in[19] = b.fc({1, 1}, {p.c0});
    ir::Node* n = b.node("UNIDIRECTIONAL_SEQUENCE_LSTM", in, DataType::Float);
    n->setAttr(ir::Attribute::makeString("fused_activation_function", "TANH"));
    if (p.cellClip > 0) n->setAttr(ir::Attribute::makeFloat("cell_clip", p.cellClip));
    if (p.projClip > 0) n->setAttr(ir::Attribute::makeFloat("proj_clip", p.projClip));
    auto r = runIt(*b.model, rt::Tensor::fromVector(DataType::Float, {1, T, 1}, p.xs));
    if (!r && error) *error = r.error().message + " @ " + r.error().node;
    return r;
}

} // namespace

class TestTfliteRnn : public QObject {
    Q_OBJECT
private slots:
    void lstmFloatOneStep_data() {
        QTest::addColumn<int>("variant");
        QTest::addColumn<double>("expected");
        // x = 2, all input weights 1, recurrent 0, biases 0, h0 = 0, activation tanh.
        const double s2 = sig(2), t2 = std::tanh(2.0);
        // c0 = 3, no clip: c = f*c0 + i*g = s2*3 + s2*t2 = 3.4915; h = s2 * tanh(c).
        QTest::newRow("plain") << 0 << s2 * std::tanh(s2 * 3 + s2 * t2);
        // c0 = 5: c = 5.2531 > cell_clip 3.5, so c = 3.5 and h = s2 * tanh(3.5).
        QTest::newRow("cell clip") << 1 << s2 * std::tanh(3.5);
        // CIFG: i = 1 - f. c0 = 3: c = s2*3 + (1-s2)*t2.
        QTest::newRow("cifg") << 2 << s2 * std::tanh(s2 * 3 + (1 - s2) * t2);
        // Peepholes 0.5 on c0 = 3 for i and f, and on the NEW cell for o:
        // i = f = sig(2 + 1.5), c = sig(3.5)*3 + sig(3.5)*t2, o = sig(2 + 0.5 c), h = o * tanh(c).
        const double c3 = sig(3.5) * 3 + sig(3.5) * t2;
        QTest::newRow("peephole") << 3 << sig(2 + 0.5 * c3) * std::tanh(c3);
        // Projection W = 2, b = 0.25, proj_clip 1: h = min(1, 2 * s2*tanh(c) + 0.25) with c as "plain":
        // 2 * 0.8791 + 0.25 = 2.008 -> 1.
        QTest::newRow("projection clip") << 4 << 1.0;
        // Projection without clip: h = -0.5 * s2*tanh(c) + 0.25.
        QTest::newRow("projection") << 5 << -0.5 * s2 * std::tanh(s2 * 3 + s2 * t2) + 0.25;
    }
    void lstmFloatOneStep() {
        QFETCH(int, variant);
        QFETCH(double, expected);
        Lstm1 p;
        p.c0 = 3;
        if (variant == 1) p.c0 = 5, p.cellClip = 3.5f;
        if (variant == 2) p.cifg = true;
        if (variant == 3) p.peephole = true, p.pi = p.pf = p.po = 0.5f;
        if (variant == 4) p.projection = true, p.projW = 2, p.projB = 0.25f, p.projClip = 1;
        if (variant == 5) p.projection = true, p.projW = -0.5f, p.projB = 0.25f;
        std::string err;
        auto y = runLstm1(p, &err);
        QVERIFY2(y.has_value(), err.c_str());
        QCOMPARE(y->size(), std::size_t(1));
        QVERIFY2(std::abs((*y)[0] - expected) <= 1e-6 * std::max(1.0, std::abs(expected)),
                 qPrintable(QString("got %1, expected %2").arg((*y)[0], 0, 'g', 9).arg(expected, 0, 'g', 9)));
    }

    void lstmFloatRecurrence() {
        // Two steps, x = [1, -1], Rf = Ri = Rc = Ro = 0.5, W = 1, biases 0.1, h0 = c0 = 0.
        Lstm1 p;
        p.xs = {1.f, -1.f};
        p.ri = p.rf = p.rc = p.ro = 0.5f;
        p.bi = p.bf = p.bc = p.bo = 0.1f;
        auto y = runLstm1(p);
        QVERIFY(y.has_value());
        QCOMPARE(y->size(), std::size_t(2));
        // step 1: every pre-activation 1.1; c1 = sig(1.1)*tanh(1.1); h1 = sig(1.1)*tanh(c1).
        const double c1 = sig(1.1) * std::tanh(1.1), h1 = sig(1.1) * std::tanh(c1);
        // step 2: pre-activation -1 + 0.5 h1 + 0.1.
        const double a = -0.9 + 0.5 * h1;
        const double c2 = sig(a) * c1 + sig(a) * std::tanh(a), h2 = sig(a) * std::tanh(c2);
        QVERIFY(std::abs((*y)[0] - h1) < 1e-6);
        QVERIFY(std::abs((*y)[1] - h2) < 1e-6);
    }

    void lstmTimeMajorAndBatches() {
        // Batch 2, T 3, I 2, C 2: the same numbers laid out batch-major and time-major give the
        // same per-(batch, time) results, and the batches do not mix.
        auto build = [](bool timeMajor, const std::vector<float>& xs) -> Result<std::vector<double>> {
            Builder b;
            std::vector<int64_t> xd = timeMajor ? std::vector<int64_t>{3, 2, 2} : std::vector<int64_t>{2, 3, 2};
            ir::Value* x = b.input(DataType::Float, xd);
            std::vector<ir::Value*> in(24, nullptr);
            in[0] = x;
            float k = 0.1f;
            for (int i = 1; i <= 8; ++i, k += 0.07f) in[static_cast<std::size_t>(i)] = b.fc({2, 2}, {k, -k, 0.5f * k, 0.3f});
            for (int i = 12; i <= 15; ++i) in[static_cast<std::size_t>(i)] = b.fc({2}, {0.05f, -0.05f});
            in[18] = b.fc({2, 2}, {0.1f, 0.2f, -0.3f, 0.4f});
            in[19] = b.fc({2, 2}, {0.5f, -0.6f, 0.7f, 0.8f});
            ir::Node* n = b.node("UNIDIRECTIONAL_SEQUENCE_LSTM", in, DataType::Float);
            n->setAttr(ir::Attribute::makeString("fused_activation_function", "TANH"));
            if (timeMajor) n->setAttr(ir::Attribute::makeInt("time_major", 1));
            return runIt(*b.model, rt::Tensor::fromVector(DataType::Float, xd, xs));
        };
        std::vector<float> bm(12);
        for (int i = 0; i < 12; ++i) bm[std::size_t(i)] = std::sin(float(i));
        std::vector<float> tm(12);
        for (int b = 0; b < 2; ++b)
            for (int t = 0; t < 3; ++t)
                for (int i = 0; i < 2; ++i) tm[std::size_t((t * 2 + b) * 2 + i)] = bm[std::size_t((b * 3 + t) * 2 + i)];
        auto yb = build(false, bm);
        auto yt = build(true, tm);
        QVERIFY(yb && yt);
        for (int b = 0; b < 2; ++b)
            for (int t = 0; t < 3; ++t)
                for (int i = 0; i < 2; ++i)
                    QCOMPARE((*yb)[std::size_t((b * 3 + t) * 2 + i)], (*yt)[std::size_t((t * 2 + b) * 2 + i)]);
        // Changing batch 1's input leaves batch 0's outputs alone.
        bm[8] += 1.f;
        auto yb2 = build(false, bm);
        QVERIFY(yb2);
        for (int i = 0; i < 6; ++i) QCOMPARE((*yb2)[std::size_t(i)], (*yb)[std::size_t(i)]);
        QVERIFY((*yb2)[10] != (*yb)[10]);
    }

    void lstmRefusals() {
        // Hybrid: int8 weights with a float input.
        Builder b;
        ir::Value* x = b.input(DataType::Float, {1, 1, 1});
        std::vector<ir::Value*> in(24, nullptr);
        in[0] = x;
        for (int i = 1; i <= 8; ++i)
            in[std::size_t(i)] = b.constant<int8_t>(DataType::Int8, {1, 1}, {1}, qp(0.1f, 0, DataType::Int8));
        for (int i = 12; i <= 15; ++i) in[std::size_t(i)] = b.fc({1}, {0.f});
        in[18] = b.fc({1, 1}, {0.f});
        in[19] = b.fc({1, 1}, {0.f});
        b.node("UNIDIRECTIONAL_SEQUENCE_LSTM", in, DataType::Float)
            ->setAttr(ir::Attribute::makeString("fused_activation_function", "TANH"));
        auto r = runIt(*b.model, rt::Tensor::fromVector(DataType::Float, {1, 1, 1}, std::vector<float>{1.f}));
        QVERIFY(!r);
        QVERIFY2(r.error().message.find("hybrid") != std::string::npos, r.error().message.c_str());
        QVERIFY2(r.error().node.find("rnn_node") != std::string::npos || r.error().message.find("rnn_node") != std::string::npos,
                 (r.error().message + " / " + r.error().node).c_str());
    }

    void svdfFloat() {
        // B 1, I 2, F 2 (rank 1 -> 2 units), M 3, RELU.
        // weights_feature [[1, 2], [-1, 1]], weights_time [[1, 0.5, 0.25], [2, 1, -1]], bias [0.5, -0.5],
        // state [f0: 1 2 3 | f1: 4 5 6], x = [1, 1].
        // Shift the whole buffer left: f0 = [2 3 4], f1 = [5 6 6]; newest slots <- W x = 3, 0:
        // f0 = [2 3 3], f1 = [5 6 0]. u0 = 0.5 + 2 + 1.5 + 0.75 = 4.75; u1 = relu(-0.5 + 10 + 6 + 0) = 15.5.
        Builder b;
        ir::Value* x = b.input(DataType::Float, {1, 2});
        ir::Node* n = b.node("SVDF",
                             {x, b.fc({2, 2}, {1, 2, -1, 1}), b.fc({2, 3}, {1, 0.5f, 0.25f, 2, 1, -1}), b.fc({2}, {0.5f, -0.5f}),
                              b.fc({1, 6}, {1, 2, 3, 4, 5, 6})},
                             DataType::Float);
        n->setAttr(ir::Attribute::makeInt("rank", 1));
        n->setAttr(ir::Attribute::makeString("fused_activation_function", "RELU"));
        auto y = runIt(*b.model, rt::Tensor::fromVector(DataType::Float, {1, 2}, std::vector<float>{1, 1}));
        QVERIFY(y);
        QCOMPARE(*y, (std::vector<double>{4.75, 15.5}));
    }

    void svdfRank2() {
        // As svdfFloat with rank 2 and bias [1], no activation: s0 = 2*1 + 3*0.5 + 3*0.25 = 4.25,
        // s1 = 5*2 + 6*1 + 0*-1 = 16, unit = 1 + 4.25 + 16 = 21.25.
        Builder b;
        ir::Value* x = b.input(DataType::Float, {1, 2});
        ir::Node* n = b.node("SVDF",
                             {x, b.fc({2, 2}, {1, 2, -1, 1}), b.fc({2, 3}, {1, 0.5f, 0.25f, 2, 1, -1}), b.fc({1}, {1.f}),
                              b.fc({1, 6}, {1, 2, 3, 4, 5, 6})},
                             DataType::Float);
        n->setAttr(ir::Attribute::makeInt("rank", 2));
        auto y = runIt(*b.model, rt::Tensor::fromVector(DataType::Float, {1, 2}, std::vector<float>{1, 1}));
        QVERIFY(y);
        QCOMPARE(*y, (std::vector<double>{21.25}));
    }

    void svdfInt8() {
        // Scales chosen so the requantizations are exact: x 0.5 (zp -1), weights_feature 0.25,
        // state 0.125 (int16) -> scale_1 = 0.5*0.25/0.125 = 1; weights_time 0.5, output 0.25 (zp -128)
        // -> scale_2 = 0.125*0.5/0.25 = 0.25.
        // x = [3, 1] -> x - zp = [4, 2]; weights_feature [[1, 2], [-3, 1]]: dots 8, -10 -> state slots.
        // state [f0: 10 20 | f1: 30 40] shifts to f0 [20 30], f1 [40 40] then newest: f0 [20 8], f1 [40 -10].
        // weights_time [[1, 2], [3, -4]]: s0 = 20 + 16 = 36, s1 = 120 + 40 = 160.
        // bias [4, -8]: u0 = rq(40 * 0.25) - 128 = 10 - 128 = -118; u1 = rq(152 * 0.25) - 128 = 38 - 128 = -90.
        Builder b;
        ir::Value* x = b.input(DataType::Int8, {1, 2}, qp(0.5f, -1, DataType::Int8));
        ir::Node* n = b.node(
            "SVDF",
            {x, b.constant<int8_t>(DataType::Int8, {2, 2}, {1, 2, -3, 1}, qp(0.25f, 0, DataType::Int8)),
             b.constant<int16_t>(DataType::Int16, {2, 2}, {1, 2, 3, -4}, qp(0.5f, 0, DataType::Int16)),
             b.constant<int32_t>(DataType::Int32, {2}, {4, -8}, qp(0.0625f, 0, DataType::Int32)),
             b.constant<int16_t>(DataType::Int16, {1, 4}, {10, 20, 30, 40}, qp(0.125f, 0, DataType::Int16))},
            DataType::Int8, qp(0.25f, -128, DataType::Int8));
        n->setAttr(ir::Attribute::makeInt("rank", 1));
        n->setAttr(ir::Attribute::makeString("fused_activation_function", "RELU"));
        auto y = runIt(*b.model, rt::Tensor::fromVector(DataType::Int8, {1, 2}, std::vector<int8_t>{3, 1}));
        QVERIFY2(y, y ? "" : y.error().message.c_str());
        QCOMPARE(*y, (std::vector<double>{-118, -90}));
    }

    void lstmInt8OneCell() {
        // One cell, x scale 2^-7 (zp 0), all weights scale 2^-5 -> the input FC multiplier is
        // 2^-12 / 2^-12 = 1, so the gate pre-activation in Q3.12 is W x + b exactly; recurrent
        // weights 0. x = 64 (0.5), W = 32 (1.0), biases 0 for i, f, o and 2048 for g:
        //   i = f = o = sigmoid_lut(2048): uh = 3*2048 >> 9 = 12, no fraction:
        //       (40794 << 9) + 512 >> 10 = 20397 (sigmoid(0.5) * 32768 = 20397.0).
        //   g = tanh_lut(4096): 3*4096 = 12288, uh = 48, no fraction, table[48] = 57724:
        //       ((57724 << 8) - (1 << 23) + 128) >> 8 = 24956 (tanh(1) * 32768 = 24955.8).
        // Cell scale 2^-12, c0 = 0: c = rq(i * g, 2^-30 / 2^-12 = 2^-18) = round(20397*24956 / 2^18)
        //   = round(1941.8) = 1942 (0.474 = sigmoid(.5) tanh(1)).
        // tanh(c) with scale power -12: 3*1942 = 5826, uh = 22, frac 194, table 46817, 47369:
        //   r = (46817 << 8) + 194 * 552 = 12092240; (r - 2^23 + 128) >> 8 = 14467 (tanh(0.4741) = 0.4415 = 14467/32768).
        // h = rq(14467 * 20397, 2^-30 / 2^-7 = 2^-23) + zp 0 = round(35.18) = 35.
        Builder b;
        const auto q8 = [](float s) { return qp(s, 0, DataType::Int8); };
        ir::Value* x = b.input(DataType::Int8, {1, 1, 1}, q8(1.f / 128));
        std::vector<ir::Value*> in(24, nullptr);
        in[0] = x;
        for (int i = 1; i <= 4; ++i) in[std::size_t(i)] = b.constant<int8_t>(DataType::Int8, {1, 1}, {32}, q8(1.f / 32));
        for (int i = 5; i <= 8; ++i) in[std::size_t(i)] = b.constant<int8_t>(DataType::Int8, {1, 1}, {0}, q8(1.f / 32));
        for (int i = 12; i <= 15; ++i)
            in[std::size_t(i)] = b.constant<int32_t>(DataType::Int32, {1}, {i == 14 ? 2048 : 0}, qp(1.f / 4096, 0, DataType::Int32));
        in[18] = b.constant<int8_t>(DataType::Int8, {1, 1}, {0}, q8(1.f / 128));
        in[19] = b.constant<int16_t>(DataType::Int16, {1, 1}, {0}, qp(1.f / 4096, 0, DataType::Int16));
        ir::Node* n = b.node("UNIDIRECTIONAL_SEQUENCE_LSTM", in, DataType::Int8, q8(1.f / 128));
        n->setAttr(ir::Attribute::makeString("fused_activation_function", "TANH"));
        n->setAttr(ir::Attribute::makeFloat("cell_clip", 10.f));
        auto y = runIt(*b.model, rt::Tensor::fromVector(DataType::Int8, {1, 1, 1}, std::vector<int8_t>{64}));
        QVERIFY2(y, y ? "" : y.error().message.c_str());
        QCOMPARE(*y, (std::vector<double>{35}));
    }

    void realModels_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("classes");
        QTest::newRow("trained_lstm") << "tflite-micro/trained_lstm.tflite" << 10;
        QTest::newRow("trained_lstm_int8") << "tflite-micro/trained_lstm_int8.tflite" << 10;
        QTest::newRow("keyword_scrambled") << "tflite-micro/keyword_scrambled.tflite" << 2;
    }
    void realModels() {
        EW_REQUIRE_MODELS();
        QFETCH(QString, file);
        QFETCH(int, classes);
        auto m = ir::loadModel((test::modelsDir() + "/tflite/" + file).toStdString());
        QVERIFY2(m, m ? "" : m.error().message.c_str());
        auto s = rt::Session::create(**m);
        QVERIFY2(s, s ? "" : (s.error().message + " @ " + s.error().node).c_str());
        const ir::Value* in = (*m)->graph->inputs[0];
        QVERIFY(in->type.shape && in->type.shape->sizes());
        const std::vector<int64_t> dims = *in->type.shape->sizes();
        int64_t n = 1;
        for (int64_t d : dims) n *= d;
        rt::Tensor x = rt::Tensor::allocate(in->type.elemType, dims);
        for (int64_t i = 0; i < n; ++i) {
            const int v = int((i * 37) % 200) - 100;
            if (in->type.elemType == DataType::Float) x.data<float>()[i] = float(v) / 100.f;
            else if (in->type.elemType == DataType::Int8) x.data<int8_t>()[i] = int8_t(v);
            else if (in->type.elemType == DataType::Int16) x.data<int16_t>()[i] = int16_t(v * 100);
        }
        auto outs = (*s)->run({{in->name, std::move(x)}});
        QVERIFY2(outs, outs ? "" : (outs.error().message + " @ " + outs.error().node).c_str());
        QCOMPARE(outs->size(), std::size_t(1));
        const rt::Tensor& y = (*outs)[0];
        QCOMPARE(y.numElements(), int64_t(classes));
        // The softmax outputs, dequantized, are finite probabilities that sum to about one.
        const auto& q = (*m)->graph->outputs[0]->quant;
        double sum = 0;
        for (int64_t i = 0; i < y.numElements(); ++i) {
            double v = y.doubleAt(i);
            if (q && !q->scales.empty()) v = (v - double(q->zeroPoints[0])) * q->scales[0];
            QVERIFY(std::isfinite(v));
            QVERIFY(v >= -1e-6 && v <= 1 + 1e-6);
            sum += v;
        }
        QVERIFY2(std::abs(sum - 1) < 0.02, qPrintable(QString::number(sum)));
    }
};

QTEST_GUILESS_MAIN(TestTfliteRnn)
#include "tst_tflite_rnn.moc"
