// The INT8 runtime path: the fast integer kernels (cpu/int8_*.cpp) against nn_quant.cpp's
// reference kernels (bit-exact, AVX2 and portable, 1 and 2 threads), the QDQ fusion's structure
// (what fuses and what must not), fused vs unfused QDQ models (within one step of the output
// quantization), and ONNX Runtime's quantized test models through the fast path.
#include "kernel_test_util.h"
#include "test_util.h"

#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "ir/shape_inference.h"
#include "runtime/cpu/int8_gemm.h"
#include "runtime/cpu/int8_kernels.h"
#include "runtime/fusion.h"

#include <QtTest/QtTest>

#include <random>

using namespace ew;
using namespace ew::test;
using ir::Attribute;

namespace {

std::vector<double> randomInts(std::size_t n, int lo, int hi, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(lo, hi);
    std::vector<double> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

std::vector<double> randomReals(std::size_t n, double lo, double hi, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<double> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

/// Lets a test force the tiles off AVX-512 VNNI; puts them back on when it goes out of scope.
struct VnniOff {
    static bool available() {
        rt::cpu::int8ForceNoVnni(false);
        return rt::cpu::int8UsesVnni();
    }
    ~VnniOff() { rt::cpu::int8ForceNoVnni(false); }
};

int lowOf(DataType t) { return t == DataType::UInt8 ? 0 : -128; }
int highOf(DataType t) { return t == DataType::UInt8 ? 255 : 127; }

/// Runs `m` with the reference kernels and with the fast ones (AVX2 when the CPU has it, and the
/// portable kernels), on 1 and 2 threads; every fast result must equal the reference bytes.
void expectFastEqualsReference(const ir::Model& m, const rt::Session::NamedTensors& in) {
    auto runRaw = [&](bool reference, bool portable, int threads) -> std::vector<uint8_t> {
        rt::cpu::setPreferReferenceKernels(reference);
        rt::cpu::int8ForcePortable(portable);
        rt::SessionOptions opt;
        opt.threads = threads;
        auto s = rt::Session::create(m, opt);
        std::vector<uint8_t> bytes;
        if (s) {
            auto out = (*s)->run(in);
            if (out) {
                const auto* p = reinterpret_cast<const uint8_t*>((*out)[0].raw());
                bytes.assign(p, p + (*out)[0].byteSize());
            } else {
                qWarning("%s", out.error().toString().c_str());
            }
        } else {
            qWarning("%s", s.error().toString().c_str());
        }
        rt::cpu::setPreferReferenceKernels(false);
        rt::cpu::int8ForcePortable(false);
        return bytes;
    };
    const std::vector<uint8_t> want = runRaw(true, false, 1);
    QVERIFY(!want.empty());
    for (bool portable : {false, true})
        for (int threads : {1, 2}) {
            const std::vector<uint8_t> got = runRaw(false, portable, threads);
            QCOMPARE(got.size(), want.size());
            std::size_t firstDiff = got.size();
            for (std::size_t i = 0; i < got.size() && firstDiff == got.size(); ++i)
                if (got[i] != want[i]) firstDiff = i;
            if (firstDiff != got.size())
                QFAIL(qPrintable(QString("portable=%1 threads=%2: byte %3 differs (%4 vs %5)")
                                     .arg(portable)
                                     .arg(threads)
                                     .arg(firstDiff)
                                     .arg(got[firstDiff])
                                     .arg(want[firstDiff])));
        }
}

/// True when the fast kernel takes the model's single node.
bool fastApplies(const ir::Model& m, bool conv, bool qlinear) {
    const ir::Node& n = *m.graph->nodes().front();
    std::vector<rt::Tensor> owned;
    owned.reserve(n.inputs().size());
    std::vector<const rt::Tensor*> constants;
    for (const ir::Value* v : n.inputs()) {
        if (v && v->initializer) {
            owned.push_back(*rt::Tensor::fromIr(*v->initializer));
            constants.push_back(&owned.back());
        } else {
            constants.push_back(nullptr);
        }
    }
    rt::InitContext ctx(n, 13, constants, 1);
    return conv ? rt::cpu::makeFastIntConv(ctx, qlinear) != nullptr : rt::cpu::makeFastIntMatMul(ctx, qlinear) != nullptr;
}

// ---- QDQ graph building -------------------------------------------------------------------

/// A small QDQ graph builder on an ir::Graph (opset 13).
struct QdqBuilder {
    std::unique_ptr<ir::Model> model = std::make_unique<ir::Model>();
    ir::Graph& g = *model->graph;
    int counter = 0;
    QdqBuilder() { model->opsetImports = {{"", 13}}; }

    ir::Value* constant(const std::string& base, DataType dt, std::vector<int64_t> dims, const std::vector<double>& v) {
        const std::string name = base + std::to_string(counter++);
        ir::Value* val = *g.addValue(name, ir::Type::tensor(dt, ir::Shape::of(dims)));
        val->initializer = makeTensor(dt, dims, v).toIr(name);
        g.initializers.push_back(val);
        return val;
    }
    ir::Value* value(const std::string& base, DataType dt = DataType::Float) {
        return *g.addValue(base + std::to_string(counter++), ir::Type::tensor(dt, std::nullopt));
    }
    ir::Value* node(const std::string& op, std::vector<ir::Value*> ins, DataType outType = DataType::Float,
                    std::vector<Attribute> attrs = {}) {
        ir::Value* out = value(op + "_out", outType);
        ir::Node* n = g.addNode(op, "", op + "_" + std::to_string(counter++), ins, {out});
        for (auto& a : attrs) n->setAttr(std::move(a));
        return out;
    }
    /// Q then DQ with a scalar scale / zero point.
    ir::Value* qdq(ir::Value* x, float scale, int zp, DataType t, ir::Value** quantized = nullptr) {
        ir::Value* s = constant("s", DataType::Float, {}, {scale});
        ir::Value* z = constant("z", t, {}, {double(zp)});
        ir::Value* q = node("QuantizeLinear", {x, s, z}, t);
        if (quantized) *quantized = q;
        return node("DequantizeLinear", {q, s, z});
    }
    /// DQ of constant int8 weights, per channel along `axis` (or per tensor).
    ir::Value* weights(std::vector<int64_t> dims, int64_t axis, bool perChannel, uint32_t seed, DataType t = DataType::Int8) {
        int64_t n = 1;
        for (int64_t d : dims) n *= d;
        const int64_t ch = dims[std::size_t(axis)];
        ir::Value* w = constant("w", t, dims, randomInts(std::size_t(n), lowOf(t), highOf(t), seed));
        std::vector<double> sc = randomReals(perChannel ? std::size_t(ch) : 1, 0.002, 0.01, seed + 1);
        std::vector<int64_t> sdims = perChannel ? std::vector<int64_t>{ch} : std::vector<int64_t>{};
        ir::Value* s = constant("ws", DataType::Float, sdims, sc);
        ir::Value* z = constant("wz", t, sdims, std::vector<double>(sc.size(), t == DataType::UInt8 ? 128 : 0));
        return node("DequantizeLinear", {w, s, z}, DataType::Float, attrs(Attribute::makeInt("axis", axis)));
    }
    void input(const std::string& name, std::vector<int64_t> dims) {
        ir::Value* v = *g.addValue(name, ir::Type::tensor(DataType::Float, ir::Shape::of(dims)));
        g.inputs.push_back(v);
    }
    ir::Value* in(const std::string& name) { return g.findValue(name); }
    void output(ir::Value* v) { g.outputs.push_back(v); }
    std::unique_ptr<ir::Model> done() {
        (void)g.sortTopologically();
        return std::move(model);
    }
};

int countOps(const rt::Session& s, const std::string& op) {
    int n = 0;
    for (const ir::Node* node : s.executionOrder()) n += node->opType == op;
    return n;
}

std::vector<double> outputValues(const rt::Tensor& t) {
    std::vector<double> v(std::size_t(t.numElements()));
    for (int64_t i = 0; i < t.numElements(); ++i) v[std::size_t(i)] = t.doubleAt(i);
    return v;
}

} // namespace

class TestInt8 : public QObject {
    Q_OBJECT
private slots:
    void cleanup() {
        rt::cpu::setPreferReferenceKernels(false);
        rt::cpu::int8ForcePortable(false);
    }

    void convMatchesReference_data() {
        QTest::addColumn<QList<int>>("shape"); // N C H W M KH KW stride pad dil group
        QTest::addColumn<int>("xType");        // 0 u8, 1 s8
        QTest::addColumn<int>("wType");
        QTest::addColumn<bool>("perChannel");
        QTest::addColumn<bool>("bias");
        QTest::addColumn<bool>("qlinear");
        QTest::addColumn<float>("yScale");
        auto row = [](const char* name, QList<int> s, int xt, int wt, bool pc, bool b, bool ql, float ys = 0.05f) {
            QTest::newRow(name) << s << xt << wt << pc << b << ql << ys;
        };
        row("3x3 pad1", {1, 8, 10, 12, 16, 3, 3, 1, 1, 1, 1}, 0, 1, true, true, true);
        row("3x3 stride2 odd", {1, 5, 13, 11, 7, 3, 3, 2, 1, 1, 1}, 0, 1, true, true, true);
        row("1x1", {2, 19, 7, 9, 13, 1, 1, 1, 0, 1, 1}, 0, 1, false, true, true);
        row("1x1 stride2", {1, 16, 14, 14, 24, 1, 1, 2, 0, 1, 1}, 1, 1, true, false, true);
        row("7x7 stride2 pad3", {1, 3, 33, 31, 8, 7, 7, 2, 3, 1, 1}, 0, 1, true, true, true);
        row("dilation2", {1, 4, 17, 19, 6, 3, 3, 1, 2, 2, 1}, 1, 1, false, true, true);
        row("group2", {1, 8, 9, 20, 10, 3, 3, 1, 1, 1, 2}, 0, 1, true, true, true);
        row("depthwise", {2, 12, 15, 18, 12, 3, 3, 1, 1, 1, 12}, 0, 1, true, true, true);
        row("depthwise stride2", {1, 9, 16, 17, 9, 3, 3, 2, 1, 1, 9}, 1, 1, true, true, true);
        row("depthwise 5x5", {1, 6, 11, 40, 6, 5, 5, 1, 2, 1, 6}, 0, 1, false, false, true);
        row("u8 weights", {1, 3, 24, 24, 32, 3, 3, 1, 2, 1, 1}, 0, 0, false, true, true);
        row("s8 x s8 out s8", {1, 6, 12, 12, 5, 3, 3, 1, 1, 1, 1}, 1, 1, true, true, true);
        row("saturating", {1, 16, 8, 8, 8, 3, 3, 1, 1, 1, 1}, 0, 1, true, true, true, 0.0005f);
        row("deep K", {1, 256, 5, 5, 20, 3, 3, 1, 1, 1, 1}, 0, 1, true, true, true);
        row("wide 16-aligned", {1, 4, 4, 64, 6, 1, 3, 1, 0, 1, 1}, 0, 1, true, true, true);
        // Packing paths: a whole 1x1 map read in place (rows adjoin), wide stride-2 runs (vector
        // gather of every other element), depthwise with stride 2 + dilation, stride 3 (the
        // portable depthwise path), and integer (int32) depthwise output with a ragged width.
        row("1x1 wide in place", {1, 8, 20, 30, 12, 1, 1, 1, 0, 1, 1}, 0, 1, true, true, true);
        row("3x3 stride2 wide", {1, 4, 20, 70, 8, 3, 3, 2, 1, 1, 1}, 1, 1, true, true, true);
        row("depthwise stride2 dil2", {1, 5, 21, 37, 5, 3, 3, 2, 2, 2, 5}, 0, 1, true, true, true);
        row("depthwise stride3", {1, 4, 19, 23, 4, 3, 3, 3, 1, 1, 4}, 1, 1, false, true, true);
        row("ConvInteger depthwise", {2, 6, 9, 13, 6, 3, 3, 1, 1, 1, 6}, 0, 1, false, false, false);
        row("ConvInteger", {1, 7, 9, 11, 9, 3, 3, 1, 1, 1, 1}, 0, 1, false, false, false);
        // Depthwise step plans (qDwPlan): small stride-1 maps run as one flat line over the
        // padded rows (7x7: two rows per 16 lanes; 3x3 and 1-wide maps: the whole plane in one
        // or two steps, the last step stored through a copy), a 14-wide map and a ragged wide
        // row (one row per step), s8 output, stride 2 with a 16+ row and a 5x5 kernel.
        row("depthwise 7x7 flat", {1, 24, 7, 7, 24, 3, 3, 1, 1, 1, 24}, 0, 1, true, true, true);
        row("depthwise 3x3 map", {2, 5, 3, 3, 5, 3, 3, 1, 1, 1, 5}, 0, 1, true, true, true);
        row("depthwise 9x1 map", {1, 3, 9, 1, 3, 3, 3, 1, 1, 1, 3}, 1, 1, true, true, true);
        row("depthwise 14x14 s8", {1, 17, 14, 14, 17, 3, 3, 1, 1, 1, 17}, 1, 1, true, true, true);
        row("depthwise 5x5 k5 flat", {1, 4, 5, 6, 4, 5, 5, 1, 2, 1, 4}, 0, 1, false, true, true);
        row("depthwise ragged 37", {1, 3, 6, 37, 3, 3, 3, 1, 1, 1, 3}, 0, 1, true, true, true);
        row("depthwise stride2 wide", {1, 6, 9, 70, 6, 3, 3, 2, 1, 1, 6}, 0, 1, true, true, true);
        row("depthwise stride2 7x7", {1, 8, 14, 14, 8, 3, 3, 2, 1, 1, 8}, 1, 1, true, false, true);
        row("ConvInteger s8 group", {2, 6, 8, 8, 4, 3, 3, 2, 1, 1, 2}, 1, 1, false, false, false);
        // One image through a 1x1 stride-1 unpadded conv: B packed straight from the 8-bit input
        // (odd depth, widths leaving a partial last panel, int8 and uint8 inputs, ConvInteger).
        row("1x1 raw s8 odd depth", {1, 7, 5, 13, 10, 1, 1, 1, 0, 1, 1}, 1, 1, true, true, true);
        row("1x1 raw u8 one panel", {1, 3, 3, 5, 4, 1, 1, 1, 0, 1, 1}, 0, 1, false, true, true);
        row("ConvInteger 1x1 raw", {1, 9, 3, 7, 5, 1, 1, 1, 0, 1, 1}, 0, 1, false, false, false);
    }
    void convMatchesReference() {
        QFETCH(QList<int>, shape);
        QFETCH(int, xType);
        QFETCH(int, wType);
        QFETCH(bool, perChannel);
        QFETCH(bool, bias);
        QFETCH(bool, qlinear);
        QFETCH(float, yScale);
        const int64_t N = shape[0], C = shape[1], H = shape[2], W = shape[3], M = shape[4], KH = shape[5], KW = shape[6],
                      S = shape[7], P = shape[8], D = shape[9], G = shape[10];
        const DataType xt = xType == 0 ? DataType::UInt8 : DataType::Int8;
        const DataType wt = wType == 0 ? DataType::UInt8 : DataType::Int8;
        const std::size_t xn = std::size_t(N * C * H * W), wn = std::size_t(M * (C / G) * KH * KW);
        const int64_t pcn = perChannel ? M : 1;
        std::vector<In> ins;
        In x{"x", xt, {N, C, H, W}, randomInts(xn, lowOf(xt), highOf(xt), 1)};
        In xzp{"x_zp", xt, {}, {double(xt == DataType::UInt8 ? 131 : -3)}, true};
        In w{"w", wt, {M, C / G, KH, KW}, randomInts(wn, lowOf(wt), highOf(wt), 2), true};
        std::vector<double> wz = randomInts(std::size_t(pcn), lowOf(wt) / 8 + (wt == DataType::UInt8 ? 120 : 0),
                                            highOf(wt) / 8 + (wt == DataType::UInt8 ? 100 : 0), 3);
        In wzp{"w_zp", wt, perChannel ? std::vector<int64_t>{M} : std::vector<int64_t>{}, wz, true};
        std::vector<Attribute> at;
        at.push_back(Attribute::makeInts("strides", {S, S}));
        at.push_back(Attribute::makeInts("pads", {P, P, P, P}));
        at.push_back(Attribute::makeInts("dilations", {D, D}));
        at.push_back(Attribute::makeInt("group", G));
        std::unique_ptr<ir::Model> m;
        if (qlinear) {
            In xs{"x_s", DataType::Float, {}, {0.02}, true};
            In ws{"w_s", DataType::Float, perChannel ? std::vector<int64_t>{M} : std::vector<int64_t>{},
                  randomReals(std::size_t(pcn), 0.001, 0.01, 4), true};
            In ys{"y_s", DataType::Float, {}, {yScale}, true};
            In yzp{"y_zp", xt, {}, {double(xt == DataType::UInt8 ? 100 : 5)}, true};
            In b = bias ? In{"b", DataType::Int32, {M}, randomInts(std::size_t(M), -5000, 5000, 5), true} : In{};
            ins = {x, xs, xzp, w, ws, wzp, ys, yzp, b};
            m = singleNode("QLinearConv", ins, 1, std::move(at), 13);
        } else {
            ins = {x, w, xzp, wzp};
            m = singleNode("ConvInteger", ins, 1, std::move(at), 13);
        }
        QVERIFY(fastApplies(*m, true, qlinear));
        expectFastEqualsReference(*m, feeds(ins));
    }

    // The u8 x s8 route (vpmaddubsw; int8_gemm.h): 1x1 convolutions of one uint8 image with
    // int8 weights of zero point 0 whose depth pairs cannot saturate int16. Exact against the
    // reference, taken exactly when the weights allow it (qgemmU8S8Calls), including weights
    // right at the limit with every x = 255 (pair sums of +-32640), a ragged depth (K % 4 != 0),
    // a panel of <= 8 columns, int8 output and ConvInteger.
    // qPairUnits: a permutation of the units that pairs 8-bit bell-shaped weights so that far
    // fewer pairs saturate vpmaddubsw than in the given order (depth units, and channel units of
    // 9 taps each), including odd counts and a single unit.
    void pairUnitsAvoidsSaturation_data() {
        QTest::addColumn<int>("units");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("len");
        QTest::newRow("depth 576, 64 rows") << 576 << 64 << 1;
        QTest::newRow("channels 64 x 9 taps, 128 rows") << 64 << 128 << 9;
        QTest::newRow("odd depth 147") << 147 << 32 << 1;
        QTest::newRow("one unit") << 1 << 8 << 1;
    }
    void pairUnitsAvoidsSaturation() {
        QFETCH(int, units);
        QFETCH(int, rows);
        QFETCH(int, len);
        std::mt19937 rng(77);
        std::normal_distribution<double> nd(0.0, 1.0);
        // Per row, weights scaled so the row's largest is 127 (a quantizer's per-channel int8);
        // the units' magnitudes differ (as trained layers' input channels do).
        std::vector<double> z(std::size_t(units * len * rows));
        for (int u = 0; u < units; ++u) {
            const double scale = std::exp(0.5 * nd(rng));
            for (int e = 0; e < rows * len; ++e) z[std::size_t(u * rows * len + e)] = scale * nd(rng);
        }
        std::vector<int8_t> w(z.size());
        for (int r = 0; r < rows; ++r) {
            double top = 0;
            for (int u = 0; u < units; ++u)
                for (int i = 0; i < len; ++i) top = std::max(top, std::abs(z[std::size_t((u * rows + r) * len + i)]));
            for (int u = 0; u < units; ++u)
                for (int i = 0; i < len; ++i) {
                    const std::size_t e = std::size_t((u * rows + r) * len + i);
                    w[e] = static_cast<int8_t>(std::lround(z[e] / top * 127.0));
                }
        }
        auto saturated = [&](const std::vector<int32_t>& order) {
            int n = 0;
            for (std::size_t p = 0; p + 1 < order.size(); p += 2)
                for (int r = 0; r < rows; ++r)
                    for (int i = 0; i < len; ++i) {
                        const int a = w[std::size_t((order[p] * rows + r) * len + i)];
                        const int b = w[std::size_t((order[p + 1] * rows + r) * len + i)];
                        n += ((a > 0 && b > 0) || (a < 0 && b < 0)) && std::abs(a) + std::abs(b) > 128;
                    }
            return n;
        };
        std::vector<int32_t> identity(static_cast<std::size_t>(units));
        for (int u = 0; u < units; ++u) identity[std::size_t(u)] = u;
        const std::vector<int32_t> order = rt::cpu::qPairUnits(w, units, rows, len);
        std::vector<int32_t> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted, identity);
        const int before = saturated(identity), after = saturated(order);
        if (units > 1) {
            // Free depth units pair almost every large weight away; whole channels (every tap
            // paired with the same channel) far less (resnet18's 3x3 layers: 0.047 -> 0.027).
            QVERIFY2(before > 20, qPrintable(QString::number(before)));
            QVERIFY2(after * (len == 1 ? 4 : 1.5) <= before, qPrintable(QString("%1 -> %2").arg(before).arg(after)));
        }
    }

    // The padded planes every depthwise plane and KxK im2col starts from (qPadPlaneU8: bytes
    // with the zero point as fill; qPadPlane8: int16 x - zp with 0 as fill), on the vector and
    // the portable code: row widths below 16, between 16 and 32, 32 and more with a remainder,
    // wide and zero padding on each side. Every element of the plane is checked, and nothing is
    // written more than 16 elements past it.
    void padPlanesMatchReference_data() {
        QTest::addColumn<int>("H");
        QTest::addColumn<int>("W");
        QTest::addColumn<int>("pt");
        QTest::addColumn<int>("pl");
        QTest::addColumn<int>("pb");
        QTest::addColumn<int>("pr");
        QTest::newRow("56x56 pad 1") << 56 << 56 << 1 << 1 << 1 << 1;
        QTest::newRow("112x112 pad 0/1 (stride 2)") << 112 << 112 << 0 << 0 << 1 << 1;
        QTest::newRow("7x7 pad 1") << 7 << 7 << 1 << 1 << 1 << 1;
        QTest::newRow("5x3 pad 2/0") << 5 << 3 << 2 << 2 << 0 << 0;
        QTest::newRow("14x14 pad 0/2") << 14 << 14 << 0 << 0 << 2 << 2;
        QTest::newRow("9x16 pad 1") << 9 << 16 << 1 << 1 << 1 << 1;
        QTest::newRow("6x20 pad 3/1") << 6 << 20 << 3 << 3 << 1 << 1;
        QTest::newRow("4x32 no pad") << 4 << 32 << 0 << 0 << 0 << 0;
        QTest::newRow("3x45 pad 17 left, 20 right") << 3 << 45 << 1 << 17 << 2 << 20;
        QTest::newRow("2x70 pad 1/0") << 2 << 70 << 1 << 1 << 0 << 0;
    }
    void padPlanesMatchReference() {
        QFETCH(int, H);
        QFETCH(int, W);
        QFETCH(int, pt);
        QFETCH(int, pl);
        QFETCH(int, pb);
        QFETCH(int, pr);
        const int Hp = pt + H + pb, Wp = pl + W + pr, plane = Hp * Wp;
        std::mt19937 rng(uint32_t(H * 131 + W));
        // The plane is the tensor's last: avail = H * W bytes, nothing after it may be read.
        std::vector<uint8_t> src(std::size_t(H * W));
        for (auto& b : src) b = static_cast<uint8_t>(rng());
        const uint8_t zx = 117;
        for (bool portable : {false, true}) {
            rt::cpu::int8ForcePortable(portable);
            std::vector<uint8_t> p8(std::size_t(plane + 64), 0xAB);
            rt::cpu::qPadPlaneU8(src.data(), H * W, zx, H, W, pt, pl, Hp, Wp, p8.data());
            for (bool isUnsigned : {true, false}) {
                std::vector<int16_t> p16(std::size_t(plane + 64), int16_t(0x5A5A));
                rt::cpu::qPadPlane8(src.data(), H * W, isUnsigned, 3, H, W, pt, pl, Hp, Wp, p16.data());
                for (int r = 0; r < Hp; ++r)
                    for (int c = 0; c < Wp; ++c) {
                        const int h = r - pt, w = c - pl;
                        const bool in = h >= 0 && h < H && w >= 0 && w < W;
                        const uint8_t b = in ? src[std::size_t(h * W + w)] : 0;
                        const int16_t want16 = in ? static_cast<int16_t>((isUnsigned ? int(b) : int(int8_t(b))) - 3) : 0;
                        QVERIFY2(p16[std::size_t(r * Wp + c)] == want16,
                                 qPrintable(QString("int16 %1 at %2,%3 portable %4").arg(isUnsigned ? "u8" : "s8").arg(r).arg(c).arg(portable)));
                        if (isUnsigned)
                            QVERIFY2(p8[std::size_t(r * Wp + c)] == (in ? b : zx),
                                     qPrintable(QString("u8 at %1,%2 portable %3").arg(r).arg(c).arg(portable)));
                    }
                for (int i = plane + 16; i < plane + 64; ++i) QCOMPARE(p16[std::size_t(i)], int16_t(0x5A5A));
            }
            for (int i = plane + 16; i < plane + 64; ++i) QCOMPARE(p8[std::size_t(i)], uint8_t(0xAB));
        }
    }

    void u8s8ConvMatchesReference_data() {
        QTest::addColumn<QList<int>>("shape"); // C H W M [K stride pad N [padEnd dilation]]
        // weights: 0 random in [-64, 64], 1 pairs at the limit, 2 one row of +100 (past the limit
        // in any depth order: the split route), 3 every weight past 64 with one sign (too many
        // remainders in any order: the int16 route), 4 8-bit per-channel weights as a quantizer
        // writes them (bell-shaped, each row reaching 127: paired against saturation, qPairUnits,
        // then exact or split), 5 the first half of the channels at +100, the rest at -100 (every
        // pair saturates in the given order, none once paired: exact)
        QTest::addColumn<int>("weights");
        QTest::addColumn<bool>("allMax");      // every x = 255, x zero point 0
        QTest::addColumn<bool>("qlinear");
        QTest::addColumn<bool>("int8Out");
        QTest::addColumn<bool>("route");
        QTest::newRow("7-bit K16") << QList<int>{16, 8, 8, 24} << 0 << false << true << false << true;
        QTest::newRow("7-bit odd K, 7x7") << QList<int>{7, 7, 7, 10} << 0 << false << true << false << true;
        QTest::newRow("7-bit K33 ragged") << QList<int>{33, 5, 13, 13} << 0 << false << true << true << true;
        QTest::newRow("7-bit 2-column tail, 3-row panel") << QList<int>{24, 3, 6, 13} << 0 << false << true << false << true;
        QTest::newRow("7-bit 4-column tail, K9") << QList<int>{9, 4, 5, 7} << 0 << false << true << true << true;
        QTest::newRow("limit pairs, x 255") << QList<int>{24, 4, 9, 12} << 1 << true << true << false << true;
        QTest::newRow("limit pairs ConvInteger") << QList<int>{24, 4, 9, 12} << 1 << true << false << false << true;
        QTest::newRow("past the limit: split") << QList<int>{24, 4, 9, 12} << 2 << true << true << false << true;
        QTest::newRow("every pair past the limit: int16") << QList<int>{24, 4, 9, 12} << 3 << true << true << false << false;
        QTest::newRow("8-bit weights, 1x1 K 384: split") << QList<int>{384, 8, 8, 24} << 4 << false << true << false << true;
        QTest::newRow("8-bit weights, 3x3 on 7x7 (tail column), M 13: split") << QList<int>{40, 7, 7, 13, 3, 1, 1, 1} << 4 << false << true << true << true;
        QTest::newRow("8-bit weights ConvInteger, x 255: split") << QList<int>{301, 5, 6, 11} << 4 << true << false << false << true;
        QTest::newRow("8-bit weights, 1x1 K 32") << QList<int>{32, 8, 8, 24} << 4 << false << true << false << true;
        QTest::newRow("row past the limit, 3x3 pad1") << QList<int>{8, 6, 7, 12, 3, 1, 1, 1} << 2 << true << true << false << true;
        QTest::newRow("paired: 1x1, halves of +-100") << QList<int>{24, 5, 9, 12} << 5 << true << true << false << true;
        QTest::newRow("quad planes: paired channels, 3x3, halves of +-100") << QList<int>{16, 6, 9, 12, 3, 1, 1, 1} << 5 << false << true << true << true;
        QTest::newRow("all past the limit, 1x1: int16") << QList<int>{32, 8, 8, 24} << 3 << false << true << false << false;
        // Through uint8 planes padded with the zero point (im2col from runs), or the input read
        // in place when unpadded: 3x3 pad 1, stride 2 (every other byte), a 7x7 stride-2 first
        // layer, a valid 3x3 and 3x3 taps at the limit; a batch of two stays on int16.
        QTest::newRow("3x3 pad1") << QList<int>{8, 10, 12, 16, 3, 1, 1, 1} << 0 << false << true << false << true;
        QTest::newRow("3x3 stride2") << QList<int>{5, 13, 11, 7, 3, 2, 1, 1} << 0 << false << true << true << true;
        QTest::newRow("7x7 stride2 pad3") << QList<int>{3, 33, 31, 8, 7, 2, 3, 1} << 0 << false << true << false << true;
        QTest::newRow("3x3 valid in place") << QList<int>{6, 9, 20, 10, 3, 1, 0, 1} << 0 << false << true << false << true;
        QTest::newRow("1x1 batch 2: no") << QList<int>{12, 5, 7, 9, 1, 1, 0, 2} << 0 << false << false << false << false;
        QTest::newRow("3x3 limit pairs, x 255") << QList<int>{8, 6, 7, 12, 3, 1, 1, 1} << 1 << true << true << false << true;
        QTest::newRow("3x3 pad1 tiny maps") << QList<int>{40, 1, 2, 8, 3, 1, 1, 1} << 0 << false << true << false << true;
        QTest::newRow("quad planes: 3x3 stride2 wide rows") << QList<int>{4, 9, 70, 6, 3, 2, 1, 1} << 0 << false << true << false << true;
        // The quad-plane route (B read in place from channel-quad planes, no im2col): maps wide
        // enough that the virtual columns between output rows waste little; stride 1 and 2 (odd
        // sizes: phase planes of unequal extent), 5x5, 8-bit weights on the split route, taps at
        // the limit with x = 255, int8 outputs; a 7x7 map stays on im2col.
        QTest::newRow("quad planes: 3x3 pad1, M 13") << QList<int>{16, 20, 30, 13, 3, 1, 1, 1} << 0 << false << true << false << true;
        QTest::newRow("quad planes: 3x3 stride2, int8 out") << QList<int>{8, 31, 40, 7, 3, 2, 1, 1} << 0 << false << true << true << true;
        QTest::newRow("quad planes: 3x3 stride2 odd sizes") << QList<int>{4, 29, 33, 6, 3, 2, 1, 1} << 0 << false << true << false << true;
        QTest::newRow("quad planes: 5x5 pad2") << QList<int>{4, 12, 60, 9, 5, 1, 2, 1} << 0 << false << true << false << true;
        QTest::newRow("quad planes: 8-bit weights, split") << QList<int>{32, 18, 26, 21, 3, 1, 1, 1} << 4 << false << true << false << true;
        QTest::newRow("quad planes: limit pairs, x 255") << QList<int>{8, 12, 40, 12, 3, 1, 1, 1} << 1 << true << true << false << true;
        // Rows sharing their padding columns (a read past a row's end wraps into the next row's
        // left padding): asymmetric pads both ways, dilation 2, stride 2 with pads 2 / 0.
        QTest::newRow("quad planes: pads 2 / 0") << QList<int>{8, 11, 37, 5, 3, 1, 2, 1, 0, 1} << 0 << false << true << false << true;
        QTest::newRow("quad planes: pads 0 / 2") << QList<int>{8, 11, 37, 5, 3, 1, 0, 1, 2, 1} << 0 << false << true << false << true;
        QTest::newRow("quad planes: dilation 2") << QList<int>{12, 13, 45, 6, 3, 1, 2, 1, 2, 2} << 0 << false << true << false << true;
        QTest::newRow("quad planes: stride 2, pads 2 / 0") << QList<int>{4, 21, 61, 5, 3, 2, 2, 1, 0, 1} << 0 << false << true << true << true;
        QTest::newRow("im2col: 3x3 on 7x7") << QList<int>{16, 7, 7, 12, 3, 1, 1, 1} << 0 << false << true << false << true;
        // Maps under 8 wide: im2col on AVX2, the quad planes with VNNI (a 16-column tile then
        // meets up to 4 output rows: one lane run each).
        QTest::newRow("small map: 3x3 on 5x5, M 21") << QList<int>{8, 5, 5, 21, 3, 1, 1, 1} << 0 << false << true << false << true;
        QTest::newRow("small map: 3x3 on 4x6, int8 out") << QList<int>{12, 6, 4, 9, 3, 1, 1, 1} << 0 << false << true << true << true;
        QTest::newRow("small map: stride 2 9 -> 5, x 255") << QList<int>{8, 9, 9, 10, 3, 2, 1, 1} << 1 << true << true << false << true;
        // A deep layer on a 7x7 map: one column block, 2 threads split the rows into groups that
        // all read one B packed once (qgemmSharedPacks), on both routes.
        QTest::newRow("deep 3x3 on 7x7, shared B") << QList<int>{96, 7, 7, 40, 3, 1, 1, 1} << 0 << false << true << false << true;
        QTest::newRow("deep 3x3 on 7x7, shared B, int16") << QList<int>{96, 7, 7, 40, 3, 1, 1, 1} << 3 << false << true << false << false;
    }
    void u8s8ConvMatchesReference() {
        QFETCH(QList<int>, shape);
        QFETCH(int, weights);
        QFETCH(bool, allMax);
        QFETCH(bool, qlinear);
        QFETCH(bool, int8Out);
        QFETCH(bool, route);
        const int64_t C = shape[0], H = shape[1], W = shape[2], M = shape[3];
        const int64_t KK = shape.size() > 4 ? shape[4] : 1, S = shape.size() > 4 ? shape[5] : 1,
                      P = shape.size() > 4 ? shape[6] : 0, N = shape.size() > 4 ? shape[7] : 1;
        const int64_t PE = shape.size() > 8 ? shape[8] : P, D = shape.size() > 9 ? shape[9] : 1;
        const int64_t Kd = C * KK * KK; // the reduction depth
        const std::size_t xn = std::size_t(N * C * H * W), wn = std::size_t(M * Kd);
        std::vector<double> wv = randomInts(wn, -64, 64, 21);
        // The kernels' depth order, in which the vpmaddubsw pairs are formed: channel quads
        // (c / 4, tap, c % 4) for a KxK window over channels a multiple of 4, else (c, tap).
        const bool quadOrder = C % 4 == 0 && KK > 1;
        auto orig = [&](int64_t k) {
            const int64_t taps = KK * KK, q = k / 4;
            return quadOrder ? (4 * (q / taps) + k % 4) * taps + q % taps : k;
        };
        if (weights >= 1) {
            // Every depth pair at |w0| + |w1| = 128 with one sign (rows alternate the sign and
            // the split: 64 + 64, 127 + 1, 100 + 28, and -128 beside 0).
            const int splits[][2] = {{64, 64}, {127, 1}, {100, 28}, {-64, -64}, {-127, -1}, {-128, 0}};
            for (int64_t m = 0; m < M; ++m)
                for (int64_t k = 0; k + 1 < Kd; k += 2) {
                    const auto& sp = splits[(m + k / 2) % 6];
                    wv[std::size_t(m * Kd + orig(k))] = sp[0];
                    wv[std::size_t(m * Kd + orig(k + 1))] = sp[1];
                }
        }
        if (weights == 2) // every pair of row 0 saturates, whatever the pairing
            for (int64_t k = 0; k < Kd; ++k) wv[std::size_t(k)] = 100;
        if (weights == 3)
            for (std::size_t i = 0; i < wn; ++i) wv[i] = 127 - double(i % 5);
        if (weights == 5)
            for (int64_t m = 0; m < M; ++m)
                for (int64_t k = 0; k < Kd; ++k) wv[std::size_t(m * Kd + k)] = k / (KK * KK) < C / 2 ? 100 : -100;
        if (weights == 4) {
            std::mt19937 rng(31);
            std::normal_distribution<double> nd(0.0, 1.0);
            for (int64_t m = 0; m < M; ++m) {
                std::vector<double> z(static_cast<std::size_t>(Kd));
                double top = 0;
                for (double& v : z) top = std::max(top, std::abs(v = nd(rng)));
                for (int64_t k = 0; k < Kd; ++k)
                    wv[std::size_t(m * Kd + k)] = std::round(z[std::size_t(k)] / top * 127.0);
            }
        }
        In x{"x", DataType::UInt8, {N, C, H, W}, allMax ? std::vector<double>(xn, 255) : randomInts(xn, 0, 255, 22)};
        In xzp{"x_zp", DataType::UInt8, {}, {allMax ? 0.0 : 131.0}, true};
        In w{"w", DataType::Int8, {M, C, KK, KK}, wv, true};
        In wzp{"w_zp", DataType::Int8, {M}, std::vector<double>(std::size_t(M), 0), true};
        auto attrs = [&] {
            std::vector<Attribute> at;
            at.push_back(Attribute::makeInts("strides", {S, S}));
            at.push_back(Attribute::makeInts("pads", {P, P, PE, PE}));
            at.push_back(Attribute::makeInts("dilations", {D, D}));
            return at;
        };
        std::unique_ptr<ir::Model> m;
        std::vector<In> ins;
        if (qlinear) {
            In xs{"x_s", DataType::Float, {}, {0.02}, true};
            In ws{"w_s", DataType::Float, {M}, randomReals(std::size_t(M), 0.001, 0.01, 23), true};
            In ys{"y_s", DataType::Float, {}, {allMax ? 0.005 : 0.05}, true}; // allMax: the pairs cancel (+-32640 sums add up to about 0), so a saturated pair would show
            const DataType yt = int8Out ? DataType::Int8 : DataType::UInt8;
            In yzp{"y_zp", yt, {}, {int8Out ? -3.0 : 100.0}, true};
            In b{"b", DataType::Int32, {M}, randomInts(std::size_t(M), -5000, 5000, 24), true};
            ins = {x, xs, xzp, w, ws, wzp, ys, yzp, b};
            m = singleNode("QLinearConv", ins, 1, attrs(), 13);
        } else {
            ins = {x, w, xzp, wzp};
            m = singleNode("ConvInteger", ins, 1, attrs(), 13);
        }
        QVERIFY(fastApplies(*m, true, qlinear));
        // On AVX2's tiles (the routes named by the rows), then, where the CPU has it, on AVX-512
        // VNNI's: there every row takes the u8 x s8 route with the weights as they are (vpdpbusd
        // cannot saturate), none the split form.
        const VnniOff restore;
        for (const bool vnni : {false, true}) {
            if (vnni && !VnniOff::available()) continue;
            rt::cpu::int8ForceNoVnni(!vnni);
            const int64_t before = rt::cpu::qgemmU8S8Calls(), sharedBefore = rt::cpu::qgemmSharedPacks(),
                          splitBefore = rt::cpu::qgemmSplitCalls(), quadBefore = rt::cpu::qgemmQuadPlaneCalls(),
                          vnniBefore = rt::cpu::qgemmVnniCalls();
            expectFastEqualsReference(*m, feeds(ins));
            if (rt::cpu::int8UsesAvx2()) {
                QCOMPARE(rt::cpu::qgemmU8S8Calls() > before, route || (vnni && N == 1)); // one image only
                if (weights != 4 || vnni) QCOMPARE(rt::cpu::qgemmSplitCalls() > splitBefore, route && weights == 2 && !vnni);
                // The rows named "quad planes" take that route; on AVX2 no other row does (M > 64,
                // too much waste or a map under 8 wide), with VNNI any KxK row may (kMaxWasteVnni,
                // maps down to 4 wide), and the small-map rows do.
                const QByteArray tag = QTest::currentDataTag();
                const bool quad = rt::cpu::qgemmQuadPlaneCalls() > quadBefore;
                if (!vnni || tag.startsWith("quad planes")) QCOMPARE(quad, tag.startsWith("quad planes"));
                if (vnni && tag.startsWith("small map")) QVERIFY(quad);
                QCOMPARE(rt::cpu::qgemmVnniCalls() > vnniBefore, vnni);
            }
            if (QByteArray(QTest::currentDataTag()).contains("shared B")) QVERIFY(rt::cpu::qgemmSharedPacks() > sharedBefore);
        }
    }

    // The channel-vector depthwise kernel (qDwChannels: maps at most 16 wide, 16 channels per
    // vector): exact against the reference for channel tails, strides 1 and 2, 1x1 to 5x5 taps,
    // asymmetric pads, a batch, int8 x, uint8 weights with per-channel zero points, int8 outputs
    // and extreme values; a 17-wide map stays on the plane kernels.
    void depthwiseChannelsMatchReference_data() {
        QTest::addColumn<QList<int>>("shape"); // N C H W K stride padTop padLeft padBottom padRight
        QTest::addColumn<int>("types");        // 0 u8 x / s8 w / u8 y, 1 s8 x / u8 w (zero points) / s8 y
        QTest::addColumn<bool>("extreme");     // x at its top value, taps at the type's ends
        QTest::addColumn<bool>("channelPath");
        QTest::newRow("7x7, 24 channels (a group and a half)") << QList<int>{1, 24, 7, 7, 3, 1, 1, 1, 1, 1} << 0 << false << true;
        QTest::newRow("14x14 stride 2, 20 channels") << QList<int>{1, 20, 14, 14, 3, 2, 1, 1, 1, 1} << 0 << false << true;
        QTest::newRow("16 wide, 5x5, pad 2") << QList<int>{1, 16, 10, 16, 5, 1, 2, 2, 2, 2} << 0 << false << true;
        QTest::newRow("int8 x, uint8 taps with zero points, int8 out") << QList<int>{1, 17, 8, 9, 3, 1, 1, 1, 1, 1} << 1 << false << true;
        QTest::newRow("batch 2, asymmetric pads") << QList<int>{2, 8, 9, 11, 3, 1, 0, 1, 2, 0} << 0 << false << true;
        QTest::newRow("1x1 taps") << QList<int>{1, 33, 7, 7, 1, 1, 0, 0, 0, 0} << 0 << false << true;
        QTest::newRow("extremes, stride 2") << QList<int>{1, 16, 7, 7, 3, 2, 1, 1, 1, 1} << 0 << true << true;
        QTest::newRow("extremes, signed") << QList<int>{1, 16, 7, 7, 3, 1, 1, 1, 1, 1} << 1 << true << true;
        QTest::newRow("17 wide: plane kernels") << QList<int>{1, 16, 5, 17, 3, 1, 1, 1, 1, 1} << 0 << false << false;
    }
    void depthwiseChannelsMatchReference() {
        QFETCH(QList<int>, shape);
        QFETCH(int, types);
        QFETCH(bool, extreme);
        QFETCH(bool, channelPath);
        const int64_t N = shape[0], C = shape[1], H = shape[2], W = shape[3], K = shape[4], S = shape[5];
        const std::size_t xn = std::size_t(N * C * H * W), wn = std::size_t(C * K * K);
        const DataType xt = types == 0 ? DataType::UInt8 : DataType::Int8;
        const DataType wt = types == 0 ? DataType::Int8 : DataType::UInt8;
        const DataType yt = types == 0 ? DataType::UInt8 : DataType::Int8;
        std::vector<double> xv = extreme ? std::vector<double>(xn, highOf(xt)) : randomInts(xn, lowOf(xt), highOf(xt), 41);
        std::vector<double> wv = randomInts(wn, lowOf(wt), highOf(wt), 42);
        if (extreme)
            for (std::size_t i = 0; i < wn; ++i) wv[i] = (i / std::size_t(K * K)) % 2 ? lowOf(wt) : highOf(wt);
        In x{"x", xt, {N, C, H, W}, xv};
        In xzp{"x_zp", xt, {}, {types == 0 ? 117.0 : -5.0}, true};
        In xs{"x_s", DataType::Float, {}, {0.02}, true};
        In w{"w", wt, {C, 1, K, K}, wv, true};
        In ws{"w_s", DataType::Float, {C}, randomReals(std::size_t(C), 0.0005, 0.005, 43), true};
        In wzp{"w_zp", wt, {C}, types == 0 ? std::vector<double>(std::size_t(C), 0) : randomInts(std::size_t(C), 120, 135, 44), true};
        In ys{"y_s", DataType::Float, {}, {extreme ? 0.5 : 0.04}, true};
        In yzp{"y_zp", yt, {}, {types == 0 ? 100.0 : -3.0}, true};
        In b{"b", DataType::Int32, {C}, randomInts(std::size_t(C), -5000, 5000, 45), true};
        std::vector<Attribute> at;
        at.push_back(Attribute::makeInts("strides", {S, S}));
        at.push_back(Attribute::makeInts("pads", {shape[6], shape[7], shape[8], shape[9]}));
        at.push_back(Attribute::makeInt("group", C));
        const std::vector<In> ins{x, xs, xzp, w, ws, wzp, ys, yzp, b};
        auto m = singleNode("QLinearConv", ins, 1, std::move(at), 13);
        QVERIFY(fastApplies(*m, true, true));
        // AVX2's kernel, then, where the CPU has it, AVX-512 VNNI's (vpdpwssd, 512-bit requantization).
        const VnniOff restore;
        for (const bool vnni : {false, true}) {
            if (vnni && !VnniOff::available()) continue;
            rt::cpu::int8ForceNoVnni(!vnni);
            const int64_t before = rt::cpu::qDepthwiseChannelGroups();
            expectFastEqualsReference(*m, feeds(ins));
            // expectFastEqualsReference runs the AVX2 kernels on 1 and 2 threads.
            if (rt::cpu::int8UsesAvx2())
                QCOMPARE(rt::cpu::qDepthwiseChannelGroups() - before, channelPath ? 2 * N * ((C + 15) / 16) : int64_t(0));
        }
    }

    // The depthwise u8 x s8 route (QDwPlane::x8): uint8 x, int8 taps of zero point 0, per channel
    // where its tap pairs cannot saturate; exact against the reference, on the flat and row
    // plans, strides 1 and 2, a 5-wide kernel (two quads per row), pads of 1 and 2, taps at the
    // limit with x = 255, and a layer where only some channels qualify (qDepthwiseU8Planes).
    void depthwiseU8MatchesReference_data() {
        QTest::addColumn<QList<int>>("shape"); // C H W K stride pad
        QTest::addColumn<int>("weights");      // 0 random 7-bit, 1 pairs at the limit, 2 odd channels past it
        QTest::addColumn<bool>("allMax");
        QTest::addColumn<bool>("int8Out");
        QTest::newRow("7x7 flat") << QList<int>{24, 7, 7, 3, 1, 1} << 0 << false << false;
        QTest::newRow("14x14 s8 out") << QList<int>{9, 14, 14, 3, 1, 1} << 0 << false << true;
        QTest::newRow("ragged 37 wide") << QList<int>{5, 6, 37, 3, 1, 1} << 0 << false << false;
        QTest::newRow("stride 2") << QList<int>{7, 15, 20, 3, 2, 1} << 0 << false << false;
        QTest::newRow("stride 2 wide") << QList<int>{4, 9, 70, 3, 2, 1} << 0 << false << true;
        QTest::newRow("5x5 pad 2") << QList<int>{6, 11, 19, 5, 1, 2} << 0 << false << false;
        QTest::newRow("limit pairs, x 255") << QList<int>{12, 8, 8, 3, 1, 1} << 1 << true << false;
        QTest::newRow("some channels past the limit") << QList<int>{12, 8, 8, 3, 1, 1} << 2 << true << false;
    }
    void depthwiseU8MatchesReference() {
        QFETCH(QList<int>, shape);
        QFETCH(int, weights);
        QFETCH(bool, allMax);
        QFETCH(bool, int8Out);
        const int64_t C = shape[0], H = shape[1], W = shape[2], K = shape[3], S = shape[4], P = shape[5];
        const std::size_t xn = std::size_t(C * H * W), wn = std::size_t(C * K * K);
        std::vector<double> wv = randomInts(wn, -64, 64, 31);
        if (weights >= 1)
            for (int64_t c = 0; c < C; ++c)
                for (int64_t i = 0; i < K; ++i) {
                    // Each row's pairs (0, 1) at |w0| + |w1| = 128 with one sign, alternating by
                    // channel so the products cancel across channels' rows; the third tap small.
                    double* r = &wv[std::size_t((c * K + i) * K)];
                    const double sgn = (c + i) % 2 ? -1 : 1;
                    r[0] = sgn * (i == 1 ? 64 : 100);
                    r[1] = sgn * (i == 1 ? 64 : 28);
                    r[2] = -sgn * 3 * (i + 1);
                    if (weights == 2 && c % 2) r[1] += sgn; // |w0| + |w1| = 129: this channel stays int16
                }
        In x{"x", DataType::UInt8, {1, C, H, W}, allMax ? std::vector<double>(xn, 255) : randomInts(xn, 0, 255, 32)};
        In xzp{"x_zp", DataType::UInt8, {}, {allMax ? 0.0 : 121.0}, true};
        In xs{"x_s", DataType::Float, {}, {0.02}, true};
        In w{"w", DataType::Int8, {C, 1, K, K}, wv, true};
        In ws{"w_s", DataType::Float, {C}, randomReals(std::size_t(C), 0.001, 0.01, 33), true};
        In wzp{"w_zp", DataType::Int8, {C}, std::vector<double>(std::size_t(C), 0), true};
        In ys{"y_s", DataType::Float, {}, {allMax ? 0.01 : 0.05}, true};
        const DataType yt = int8Out ? DataType::Int8 : DataType::UInt8;
        In yzp{"y_zp", yt, {}, {int8Out ? 4.0 : 90.0}, true};
        In b{"b", DataType::Int32, {C}, randomInts(std::size_t(C), -3000, 3000, 34), true};
        std::vector<Attribute> at;
        at.push_back(Attribute::makeInts("strides", {S, S}));
        at.push_back(Attribute::makeInts("pads", {P, P, P, P}));
        at.push_back(Attribute::makeInt("group", C));
        const std::vector<In> ins{x, xs, xzp, w, ws, wzp, ys, yzp, b};
        auto m = singleNode("QLinearConv", ins, 1, std::move(at), 13);
        QVERIFY(fastApplies(*m, true, true));
        const VnniOff restore;
        for (const bool vnni : {false, true}) { // AVX2's vpmaddubsw, then VNNI's vpdpbusd where the CPU has it
            if (vnni && !VnniOff::available()) continue;
            rt::cpu::int8ForceNoVnni(!vnni);
            const int64_t before = rt::cpu::qDepthwiseU8Planes();
            rt::cpu::qDwChannelsForceOff(true); // the plane kernels, also on small maps
            expectFastEqualsReference(*m, feeds(ins));
            rt::cpu::qDwChannelsForceOff(false);
            // expectFastEqualsReference runs the fast kernels on 1 and 2 threads: 2 x C planes;
            // on AVX2 the channels past the limit stay int16, with VNNI every channel qualifies.
            if (rt::cpu::int8UsesAvx2())
                QCOMPARE(rt::cpu::qDepthwiseU8Planes() - before, weights == 2 && !vnni ? C : 2 * C);
        }
    }

    void matmulMatchesReference_data() {
        QTest::addColumn<QList<int>>("shape"); // batch M K N
        QTest::addColumn<int>("aType");
        QTest::addColumn<int>("bType");
        QTest::addColumn<bool>("perColumn");
        QTest::addColumn<bool>("qlinear");
        QTest::newRow("gemv") << QList<int>{1, 1, 512, 1000} << 0 << 1 << true << true;
        QTest::newRow("odd") << QList<int>{1, 7, 33, 19} << 1 << 1 << false << true;
        QTest::newRow("batched A") << QList<int>{3, 5, 16, 40} << 0 << 0 << true << true;
        QTest::newRow("integer u8s8") << QList<int>{1, 9, 65, 17} << 0 << 1 << true << false;
        QTest::newRow("integer s8u8") << QList<int>{2, 4, 8, 33} << 1 << 0 << false << false;
    }
    void matmulMatchesReference() {
        QFETCH(QList<int>, shape);
        QFETCH(int, aType);
        QFETCH(int, bType);
        QFETCH(bool, perColumn);
        QFETCH(bool, qlinear);
        const int64_t B = shape[0], M = shape[1], K = shape[2], N = shape[3];
        const DataType at = aType == 0 ? DataType::UInt8 : DataType::Int8;
        const DataType bt = bType == 0 ? DataType::UInt8 : DataType::Int8;
        std::vector<int64_t> adims = B > 1 ? std::vector<int64_t>{B, M, K} : std::vector<int64_t>{M, K};
        In a{"a", at, adims, randomInts(std::size_t(B * M * K), lowOf(at), highOf(at), 11)};
        In azp{"a_zp", at, {}, {double(at == DataType::UInt8 ? 120 : 7)}, true};
        In b{"b", bt, {K, N}, randomInts(std::size_t(K * N), lowOf(bt), highOf(bt), 12), true};
        const int64_t pcn = perColumn ? N : 1;
        std::vector<double> bz = randomInts(std::size_t(pcn), bt == DataType::UInt8 ? 110 : -9, bt == DataType::UInt8 ? 140 : 9, 13);
        In bzp{"b_zp", bt, perColumn ? std::vector<int64_t>{N} : std::vector<int64_t>{}, bz, true};
        std::vector<In> ins;
        std::unique_ptr<ir::Model> m;
        if (qlinear) {
            In as{"a_s", DataType::Float, {}, {0.03}, true};
            In bs{"b_s", DataType::Float, perColumn ? std::vector<int64_t>{N} : std::vector<int64_t>{},
                  randomReals(std::size_t(pcn), 0.001, 0.01, 14), true};
            In ys{"y_s", DataType::Float, {}, {0.2}, true};
            In yzp{"y_zp", at, {}, {double(at == DataType::UInt8 ? 128 : 0)}, true};
            ins = {a, as, azp, b, bs, bzp, ys, yzp};
            m = singleNode("QLinearMatMul", ins, 1, {}, 13);
        } else {
            ins = {a, b, azp, bzp};
            m = singleNode("MatMulInteger", ins, 1, {}, 13);
        }
        QVERIFY(fastApplies(*m, false, qlinear));
        expectFastEqualsReference(*m, feeds(ins));
    }

    // The u8 x s8 route of the integer MatMuls (uint8 A as depth quads, int8 B of zero point 0,
    // A's zero point folded into a per-column bias, per-column multipliers padded to whole
    // panels): exact against the reference, taken exactly when B allows it (qgemmU8S8Calls).
    // Weights packed for VNNI alone (pairs past vpmaddubsw's limit, no split) in a session made
    // while VNNI was on: run after the tiles are forced onto AVX2, the kernels fall back to the
    // int16 route (not the u8 x s8 one, which would saturate) and still give the reference bytes.
    void vnniWeightsFallBackWithoutVnni() {
        if (!rt::cpu::int8UsesAvx2() || !VnniOff::available()) QSKIP("needs a CPU with AVX-512 VNNI");
        const VnniOff restore;
        const int64_t C = 32, H = 6, W = 9, M = 12;
        std::vector<double> wv(std::size_t(M * C));
        for (std::size_t i = 0; i < wv.size(); ++i) wv[i] = 127 - double(i % 5); // every pair past 128
        In x{"x", DataType::UInt8, {1, C, H, W}, randomInts(std::size_t(C * H * W), 0, 255, 61)};
        In xs{"x_s", DataType::Float, {}, {0.02}, true};
        In xzp{"x_zp", DataType::UInt8, {}, {0.0}, true};
        In w{"w", DataType::Int8, {M, C, 1, 1}, wv, true};
        In ws{"w_s", DataType::Float, {M}, randomReals(std::size_t(M), 0.001, 0.01, 62), true};
        In wzp{"w_zp", DataType::Int8, {M}, std::vector<double>(std::size_t(M), 0), true};
        In ys{"y_s", DataType::Float, {}, {2.0}, true};
        In yzp{"y_zp", DataType::UInt8, {}, {10.0}, true};
        const std::vector<In> ins = {x, xs, xzp, w, ws, wzp, ys, yzp};
        auto m = singleNode("QLinearConv", ins, 1, {}, 13);
        rt::cpu::setPreferReferenceKernels(true);
        auto ref = rt::Session::create(*m, {});
        QVERIFY(ref.has_value());
        auto want = (*ref)->run(feeds(ins));
        rt::cpu::setPreferReferenceKernels(false);
        QVERIFY(want.has_value());
        auto s = rt::Session::create(*m, {}); // VNNI on: the weights packed as they are
        QVERIFY(s.has_value());
        for (const bool vnni : {true, false, true}) {
            rt::cpu::int8ForceNoVnni(!vnni);
            const int64_t u8Before = rt::cpu::qgemmU8S8Calls(), vnniBefore = rt::cpu::qgemmVnniCalls();
            auto got = (*s)->run(feeds(ins));
            QVERIFY(got.has_value());
            QCOMPARE((*got)[0].byteSize(), (*want)[0].byteSize());
            QVERIFY(std::memcmp((*got)[0].raw(), (*want)[0].raw(), (*want)[0].byteSize()) == 0);
            QCOMPARE(rt::cpu::qgemmU8S8Calls() > u8Before, vnni);
            QCOMPARE(rt::cpu::qgemmVnniCalls() > vnniBefore, vnni);
        }
    }

    void u8s8MatMulMatchesReference_data() {
        QTest::addColumn<QList<int>>("shape"); // batch M K N
        QTest::addColumn<int>("weights");      // 0 random 7-bit, 1 pairs at the limit, 2 one pair past it
        QTest::addColumn<bool>("allMax");
        QTest::addColumn<int>("kind");         // 0 QLinearMatMul, 1 MatMulInteger, 2 MatMulInteger per-row a_zp
        QTest::addColumn<bool>("route");
        QTest::newRow("gemv 1000 columns") << QList<int>{1, 1, 512, 1000} << 0 << false << 0 << true;
        QTest::newRow("odd K, ragged N") << QList<int>{1, 7, 33, 19} << 0 << false << 0 << true;
        QTest::newRow("batched A") << QList<int>{3, 5, 16, 40} << 0 << false << 0 << true;
        QTest::newRow("limit pairs, a 255") << QList<int>{1, 6, 24, 20} << 1 << true << 0 << true;
        QTest::newRow("MatMulInteger") << QList<int>{1, 9, 65, 17} << 0 << false << 1 << true;
        QTest::newRow("past the limit") << QList<int>{1, 6, 24, 20} << 2 << true << 0 << false;
        QTest::newRow("per-row a zero point: no") << QList<int>{1, 4, 8, 33} << 0 << false << 2 << false;
    }
    void u8s8MatMulMatchesReference() {
        QFETCH(QList<int>, shape);
        QFETCH(int, weights);
        QFETCH(bool, allMax);
        QFETCH(int, kind);
        QFETCH(bool, route);
        const int64_t B = shape[0], M = shape[1], K = shape[2], N = shape[3];
        std::vector<double> bv = randomInts(std::size_t(K * N), -64, 64, 41);
        if (weights >= 1) {
            // Column j's depth pairs at |b0| + |b1| = 128 with one sign, the sign alternating by
            // pair so that a = 255 everywhere sums to about 0 (a saturated pair would show).
            const int splits[][2] = {{64, 64}, {127, 1}, {100, 28}, {-64, -64}, {-127, -1}, {-128, 0}};
            for (int64_t j = 0; j < N; ++j)
                for (int64_t k = 0; k + 1 < K; k += 2) {
                    const auto& sp = splits[(j + k / 2) % 6];
                    bv[std::size_t(k * N + j)] = sp[0];
                    bv[std::size_t((k + 1) * N + j)] = sp[1];
                }
            if (weights == 2) bv[std::size_t(N)] = bv[0] > 0 ? 129 - bv[0] : -129 - bv[0];
        }
        const std::vector<int64_t> adims = B > 1 ? std::vector<int64_t>{B, M, K} : std::vector<int64_t>{M, K};
        const std::size_t an = std::size_t(B * M * K);
        In a{"a", DataType::UInt8, adims, allMax ? std::vector<double>(an, 255) : randomInts(an, 0, 255, 42)};
        In azp = kind == 2 ? In{"a_zp", DataType::UInt8, {M}, randomInts(std::size_t(M), 100, 140, 43), true}
                           : In{"a_zp", DataType::UInt8, {}, {allMax ? 0.0 : 117.0}, true};
        In b{"b", DataType::Int8, {K, N}, bv, true};
        In bzp{"b_zp", DataType::Int8, {N}, std::vector<double>(std::size_t(N), 0), true};
        std::vector<In> ins;
        std::unique_ptr<ir::Model> m;
        if (kind == 0) {
            In as{"a_s", DataType::Float, {}, {0.03}, true};
            In bs{"b_s", DataType::Float, {N}, randomReals(std::size_t(N), 0.001, 0.01, 44), true};
            In ys{"y_s", DataType::Float, {}, {allMax ? 0.01 : 0.2}, true};
            In yzp{"y_zp", DataType::UInt8, {}, {128}, true};
            ins = {a, as, azp, b, bs, bzp, ys, yzp};
            m = singleNode("QLinearMatMul", ins, 1, {}, 13);
        } else {
            ins = {a, b, azp, bzp};
            m = singleNode("MatMulInteger", ins, 1, {}, 13);
        }
        QVERIFY(fastApplies(*m, false, kind == 0));
        const VnniOff restore;
        for (const bool vnni : {false, true}) { // AVX2's tiles, then VNNI's where the CPU has it
            if (vnni && !VnniOff::available()) continue;
            rt::cpu::int8ForceNoVnni(!vnni);
            const int64_t before = rt::cpu::qgemmU8S8Calls(), vnniBefore = rt::cpu::qgemmVnniCalls();
            expectFastEqualsReference(*m, feeds(ins));
            if (rt::cpu::int8UsesAvx2()) {
                // With VNNI the u8 x s8 route takes any int8 B of zero point 0 with one zero point of A.
                QCOMPARE(rt::cpu::qgemmU8S8Calls() > before, route || (vnni && kind != 2));
                QCOMPARE(rt::cpu::qgemmVnniCalls() > vnniBefore, vnni);
            }
        }
    }

    void fastPathNotTakenForComputedWeights() {
        In a{"a", DataType::UInt8, {2, 4}, randomInts(8, 0, 255, 1)};
        In b{"b", DataType::Int8, {4, 3}, randomInts(12, -128, 127, 2)}; // a graph input
        auto m = singleNode("MatMulInteger", {a, b}, 1, {}, 13);
        QVERIFY(!fastApplies(*m, false, false));
        expectFastEqualsReference(*m, feeds({a, b}));
    }

    void quantizeDequantizeMatchReference_data() {
        QTest::addColumn<int>("type");
        QTest::newRow("uint8") << 0;
        QTest::newRow("int8") << 1;
    }
    void quantizeDequantizeMatchReference() {
        QFETCH(int, type);
        const DataType t = type == 0 ? DataType::UInt8 : DataType::Int8;
        // Ties (x / s = k + 0.5) round to even; huge values and NaN saturate like the reference.
        std::vector<double> xv = randomReals(4000, -3.0, 3.0, 21);
        for (int k = -300; k < 300; ++k) xv.push_back((k + 0.5) * 0.02);
        for (double v : {1e30, -1e30, 1e7, -1e7, std::nan(""), 0.0, -0.0}) xv.push_back(v);
        In x{"x", DataType::Float, {int64_t(xv.size())}, xv};
        In s{"s", DataType::Float, {}, {0.02}, true};
        In z{"z", t, {}, {double(type == 0 ? 117 : -9)}, true};
        expectFastEqualsReference(*singleNode("QuantizeLinear", {x, s, z}, 1, {}, 13), feeds({x, s, z}));
        In q{"q", t, {5000}, randomInts(5000, lowOf(t), highOf(t), 22)};
        expectFastEqualsReference(*singleNode("DequantizeLinear", {q, s, z}, 1, {}, 13), feeds({q, s, z}));
    }

    // ---- QDQ fusion ------------------------------------------------------------------------

    void qdqFusionStructure_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<int>("qconv");
        QTest::addColumn<int>("qgemm");
        QTest::newRow("conv relu") << "conv_relu" << 1 << 0;
        QTest::newRow("conv clip per-tensor") << "conv_clip" << 1 << 0;
        QTest::newRow("conv float bias") << "conv_floatbias" << 1 << 0;
        QTest::newRow("gemm transB") << "gemm" << 0 << 1;
        QTest::newRow("matmul relu") << "matmul" << 0 << 1;
        QTest::newRow("shared DQ(x): both fuse") << "shared_x" << 2 << 0;
        QTest::newRow("conv output read twice: no") << "conv_two_readers" << 0 << 0;
        QTest::newRow("computed weights: no") << "conv_weights_input" << 0 << 0;
        QTest::newRow("no Q at the output: no") << "conv_no_q" << 0 << 0;
        QTest::newRow("per-channel on the wrong axis: no") << "conv_wrong_axis" << 0 << 0;
    }
    void qdqFusionStructure() {
        QFETCH(QString, pattern);
        QFETCH(int, qconv);
        QFETCH(int, qgemm);
        auto model = buildPattern(pattern.toStdString());
        QVERIFY(model);
        // Fused session vs unfused (fuse off): output within one output step; structure counted.
        rt::SessionOptions on, off;
        on.int8Kernels = true;
        off.fuse = false;
        auto fused = rt::Session::create(*model, on);
        QVERIFY2(fused, fused ? "" : fused.error().toString().c_str());
        auto plain = rt::Session::create(*model, off);
        QVERIFY(plain);
        QCOMPARE(countOps(**fused, "QConv"), qconv);
        QCOMPARE(countOps(**fused, "QGemm"), qgemm);
        QCOMPARE(countOps(**plain, "QConv") + countOps(**plain, "QGemm"), 0);
        rt::Session::NamedTensors in;
        for (const auto& info : (*plain)->inputInfo()) {
            std::vector<int64_t> dims;
            for (const auto& d : info.shape->dims) dims.push_back(d.value);
            int64_t n = 1;
            for (int64_t d : dims) n *= d;
            in.emplace_back(info.name, makeTensor(DataType::Float, dims, randomReals(std::size_t(n), -1.0, 1.5, 77)));
        }
        auto a = (*fused)->run(in);
        auto b = (*plain)->run(in);
        QVERIFY(a && b);
        QCOMPARE(a->size(), b->size());
        // The fused kernels themselves: AVX2 (integer-rounding epilogue, byte clamps of a fused
        // Relu/Clip) and portable (the float formula) give the same bytes.
        rt::cpu::int8ForcePortable(true);
        auto portableSession = rt::Session::create(*model, on);
        QVERIFY(portableSession);
        auto c = (*portableSession)->run(in);
        rt::cpu::int8ForcePortable(false);
        QVERIFY(c);
        for (std::size_t o = 0; o < a->size(); ++o) QCOMPARE(outputValues((*c)[o]), outputValues((*a)[o]));
        for (std::size_t o = 0; o < a->size(); ++o) {
            const std::vector<double> x = outputValues((*a)[o]), y = outputValues((*b)[o]);
            QCOMPARE(x.size(), y.size());
            int differ = 0;
            for (std::size_t i = 0; i < x.size(); ++i) {
                QVERIFY2(std::abs(x[i] - y[i]) <= 1.0, qPrintable(QString("output %1 element %2: %3 vs %4").arg(o).arg(i).arg(x[i]).arg(y[i])));
                differ += x[i] != y[i];
            }
            // Off-by-one only where float rounding decides a tie; nearly everything is equal.
            QVERIFY2(differ * 50 <= int(x.size()), qPrintable(QString("%1 of %2 differ").arg(differ).arg(x.size())));
        }
    }

    // QDQ residual Add and MaxPool on the quantized tensors: ai.edgewise.QAdd / QMaxPool compute
    // the float pattern's own operations, so the fused run must equal the float QDQ run (fuse
    // off, reference kernels) exactly, AVX2 and portable, 1 and 2 threads.
    void qdqAddMaxPool_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<int>("fusedNodes"); // QAdd + QMaxPool in the fused session
        QTest::newRow("add relu u8") << "add_relu" << 1;
        QTest::newRow("add u8+s8 -> s8") << "add_mixed" << 1;
        QTest::newRow("add clip") << "add_clip" << 1;
        QTest::newRow("add saturating") << "add_saturate" << 1;
        QTest::newRow("add broadcast: no") << "add_broadcast" << 0;
        QTest::newRow("add output read twice: no") << "add_two_readers" << 0;
        QTest::newRow("maxpool 3x3 s2 pad1") << "maxpool" << 1;
        QTest::newRow("maxpool s8 2x2 dilated") << "maxpool_s8" << 1;
        QTest::newRow("maxpool other scale: no") << "maxpool_rescale" << 0;
        QTest::newRow("maxpool ceil_mode: no") << "maxpool_ceil" << 0;
        QTest::newRow("resnet block") << "block" << 2;
    }
    void qdqAddMaxPool() {
        QFETCH(QString, pattern);
        QFETCH(int, fusedNodes);
        const std::string p = pattern.toStdString();
        QdqBuilder b;
        const std::vector<int64_t> dims{2, 5, 13, 17}; // 2210 elements: vector loops plus a tail
        b.input("x", dims);
        b.input("x2", p == "add_broadcast" ? std::vector<int64_t>{1, 5, 1, 17} : dims);
        auto quantOut = [&](ir::Value* y, float scale, int zp, DataType t) {
            ir::Value* s = b.constant("ys", DataType::Float, {}, {scale});
            ir::Value* z = b.constant("yz", t, {}, {double(zp)});
            b.output(b.node("QuantizeLinear", {y, s, z}, t));
        };
        auto pool = [&](ir::Value* x, std::vector<int64_t> k, std::vector<int64_t> st, std::vector<int64_t> pads,
                        std::vector<int64_t> dil, int ceil) {
            return b.node("MaxPool", {x}, DataType::Float,
                          attrs(Attribute::makeInts("kernel_shape", k), Attribute::makeInts("strides", st),
                                Attribute::makeInts("pads", pads), Attribute::makeInts("dilations", dil),
                                Attribute::makeInt("ceil_mode", ceil)));
        };
        if (p.starts_with("add") || p == "block") {
            const bool mixed = p == "add_mixed";
            ir::Value* a = b.qdq(b.in("x"), 0.013f, 121, DataType::UInt8);
            ir::Value* c = b.qdq(b.in("x2"), mixed ? 0.021f : 0.0071f, mixed ? -7 : 98, mixed ? DataType::Int8 : DataType::UInt8);
            if (p == "block") // the QDQ resnet pattern: MaxPool of the stem, then the residual Add
                a = b.qdq(pool(a, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 0), 0.013f, 121, DataType::UInt8);
            ir::Value* sum = b.node("Add", {a, c});
            if (p == "add_relu" || p == "block") sum = b.node("Relu", {sum});
            if (p == "add_clip") {
                ir::Value* lo = b.constant("lo", DataType::Float, {}, {-0.4});
                ir::Value* hi = b.constant("hi", DataType::Float, {}, {0.9});
                sum = b.node("Clip", {sum, lo, hi});
            }
            if (p == "add_two_readers") b.output(b.node("Relu", {sum}));
            quantOut(sum, p == "add_saturate" ? 0.004f : 0.017f, mixed ? 3 : 117, mixed ? DataType::Int8 : DataType::UInt8);
        } else {
            const bool s8 = p == "maxpool_s8";
            const DataType t = s8 ? DataType::Int8 : DataType::UInt8;
            ir::Value* a = b.qdq(b.in("x"), 0.011f, s8 ? -11 : 133, t);
            ir::Value* y = s8 ? pool(a, {2, 2}, {1, 2}, {0, 1, 1, 0}, {2, 1}, 0)
                              : pool(a, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, p == "maxpool_ceil" ? 1 : 0);
            quantOut(y, p == "maxpool_rescale" ? 0.012f : 0.011f, s8 ? -11 : 133, t);
            b.output(b.node("Relu", {b.in("x2")})); // keeps x2 read
        }
        auto m = b.done();
        ir::inferShapes(*m);
        rt::Session::NamedTensors in;
        for (const char* name : {"x", "x2"}) {
            const ir::Value* v = m->graph->findValue(name);
            std::vector<int64_t> d;
            for (const auto& dim : v->type.shape->dims) d.push_back(dim.value);
            int64_t n = 1;
            for (int64_t x : d) n *= x;
            in.emplace_back(name, makeTensor(DataType::Float, d, randomReals(std::size_t(n), -2.0, 2.5, name[1] ? 31 : 32)));
        }
        rt::SessionOptions off;
        off.fuse = false;
        rt::cpu::setPreferReferenceKernels(true);
        auto plain = rt::Session::create(*m, off);
        QVERIFY(plain);
        auto want = (*plain)->run(in);
        rt::cpu::setPreferReferenceKernels(false);
        QVERIFY(want);
        for (bool portable : {false, true})
            for (int threads : {1, 2}) {
                rt::cpu::int8ForcePortable(portable);
                rt::SessionOptions on;
                on.int8Kernels = true;
                on.threads = threads;
                auto fused = rt::Session::create(*m, on);
                QVERIFY2(fused, fused ? "" : fused.error().toString().c_str());
                QCOMPARE(countOps(**fused, "QAdd") + countOps(**fused, "QMaxPool"), fusedNodes);
                if (fusedNodes > 0) QCOMPARE(countOps(**fused, "DequantizeLinear"), 0);
                auto got = (*fused)->run(in);
                QVERIFY2(got, got ? "" : got.error().toString().c_str());
                QCOMPARE(got->size(), want->size());
                for (std::size_t o = 0; o < got->size(); ++o) {
                    const std::vector<double> x = outputValues((*got)[o]), y = outputValues((*want)[o]);
                    QCOMPARE(x.size(), y.size());
                    for (std::size_t i = 0; i < x.size(); ++i)
                        QVERIFY2(x[i] == y[i], qPrintable(QString("portable=%1 threads=%2 output %3 element %4: %5 vs %6")
                                                              .arg(portable).arg(threads).arg(o).arg(i).arg(x[i]).arg(y[i])));
                }
                rt::cpu::int8ForcePortable(false);
            }
    }

    void ortQuantizedModels_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("qconv");
        QTest::newRow("conv_qdq_s8s8") << "conv_qdq_s8s8" << 1;
        QTest::newRow("conv_qdq_s8s8_perchannel") << "conv_qdq_s8s8_perchannel" << 1;
        QTest::newRow("conv_qdq_u8u8") << "conv_qdq_u8u8" << 1;
        QTest::newRow("dynamic_quantize_matmul_int8") << "dynamic_quantize_matmul_int8" << 0;
        QTest::newRow("matmul_integer_to_float_int8") << "matmul_integer_to_float_int8" << 0;
    }
    void ortQuantizedModels() {
        EW_REQUIRE_MODELS();
        QFETCH(QString, name);
        QFETCH(int, qconv);
        const std::string dir = str(modelsDir()) + "/onnx/ort-testdata/";
        auto model = ir::loadModel(dir + str(name) + ".onnx");
        QVERIFY2(model, model ? "" : model.error().toString().c_str());
        rt::SessionOptions o;
        o.int8Kernels = true;
        auto s = rt::Session::create(**model, o);
        QVERIFY2(s, s ? "" : s.error().toString().c_str());
        QCOMPARE(countOps(**s, "QConv"), qconv);
        // Off by default (see SessionOptions::int8Kernels): the Q/DQ then run in float.
        auto byDefault = rt::Session::create(**model);
        QVERIFY(byDefault);
        QCOMPARE(countOps(**byDefault, "QConv"), 0);
        rt::SessionOptions floatQdq;
        floatQdq.int8Kernels = false;
        auto plain = rt::Session::create(**model, floatQdq);
        QVERIFY(plain);
        QCOMPARE(countOps(**plain, "QConv"), 0);
        const std::string data = dir + str(name) + ".test_data_set_0/";
        rt::Session::NamedTensors in;
        for (std::size_t i = 0; i < (*s)->inputInfo().size(); ++i) {
            auto t = onnxfmt::readTensorProtoFile(data + "input_" + std::to_string(i) + ".pb");
            QVERIFY2(t, t ? "" : t.error().toString().c_str());
            in.emplace_back((*s)->inputInfo()[i].name, *rt::Tensor::fromIr(*t));
        }
        auto out = (*s)->run(in);
        QVERIFY2(out, out ? "" : out.error().toString().c_str());
        auto want = onnxfmt::readTensorProtoFile(data + "output_0.pb");
        QVERIFY(want);
        const rt::Tensor w = *rt::Tensor::fromIr(*want);
        QCOMPARE((*out)[0].dims(), w.dims());
        // The QDQ conv outputs are dequantized: one output step (output_scale) at most.
        double tol = 1e-4;
        for (const ir::Value* v : (*model)->graph->initializers)
            if (v->name == "output_scale") tol = v->initializer->valueAsDouble(0) * 1.0001;
        double worst = 0, scale = 1e-6;
        for (int64_t i = 0; i < w.numElements(); ++i) {
            worst = std::max(worst, std::abs((*out)[0].doubleAt(i) - w.doubleAt(i)));
            scale = std::max(scale, std::abs(w.doubleAt(i)));
        }
        if (tol == 1e-4) worst /= scale;
        QVERIFY2(worst <= tol, qPrintable(QString("max diff %1 > %2").arg(worst).arg(tol)));
    }

private:
    /// QDQ test graphs; every one ends in the quantized output (so 1.0 is one output step).
    std::unique_ptr<ir::Model> buildPattern(const std::string& p) {
        QdqBuilder b;
        const bool conv = p.starts_with("conv") || p == "shared_x";
        if (conv) b.input("x", {1, 6, 9, 10});
        else b.input("x", {3, 24});
        ir::Value* xq = b.qdq(b.in("x"), 0.01f, 120, DataType::UInt8);
        auto quantOut = [&](ir::Value* y) {
            ir::Value* q = nullptr;
            ir::Value* s = b.constant("ys", DataType::Float, {}, {0.02});
            ir::Value* z = b.constant("yz", DataType::UInt8, {}, {110});
            q = b.node("QuantizeLinear", {y, s, z}, DataType::UInt8);
            b.output(q);
        };
        auto convNode = [&](ir::Value* x, ir::Value* w, ir::Value* bias) {
            std::vector<ir::Value*> ins{x, w};
            if (bias) ins.push_back(bias);
            return b.node("Conv", ins, DataType::Float,
                          attrs(Attribute::makeInts("pads", {1, 1, 1, 1}), Attribute::makeInts("kernel_shape", {3, 3})));
        };
        auto int32Bias = [&](int64_t n, float scale) {
            ir::Value* q = b.constant("bq", DataType::Int32, {n}, randomInts(std::size_t(n), -3000, 3000, 9));
            ir::Value* s = b.constant("bs", DataType::Float, {n}, std::vector<double>(std::size_t(n), scale));
            return b.node("DequantizeLinear", {q, s}, DataType::Float, attrs(Attribute::makeInt("axis", 0)));
        };
        if (p == "conv_relu" || p == "conv_two_readers" || p == "conv_no_q") {
            ir::Value* y = convNode(xq, b.weights({8, 6, 3, 3}, 0, true, 3), int32Bias(8, 0.01f * 0.005f));
            if (p == "conv_relu") {
                quantOut(b.node("Relu", {y}));
            } else if (p == "conv_two_readers") {
                quantOut(y);
                b.output(b.node("Relu", {y}));
            } else {
                b.output(b.node("Relu", {y}));
            }
        } else if (p == "conv_clip") {
            ir::Value* lo = b.constant("lo", DataType::Float, {}, {0.0});
            ir::Value* hi = b.constant("hi", DataType::Float, {}, {1.2});
            quantOut(b.node("Clip", {convNode(xq, b.weights({8, 6, 3, 3}, 0, false, 4), nullptr), lo, hi}));
        } else if (p == "conv_floatbias") {
            ir::Value* bias = b.constant("bf", DataType::Float, {8}, randomReals(8, -0.3, 0.3, 5));
            quantOut(convNode(xq, b.weights({8, 6, 3, 3}, 0, true, 6), bias));
        } else if (p == "conv_wrong_axis") {
            quantOut(convNode(xq, b.weights({8, 6, 3, 3}, 1, true, 7), nullptr));
        } else if (p == "conv_weights_input") {
            b.input("wf", {8, 6, 3, 3});
            ir::Value* wq = b.qdq(b.in("wf"), 0.01f, 0, DataType::Int8);
            quantOut(convNode(xq, wq, nullptr));
        } else if (p == "shared_x") {
            quantOut(b.node("Relu", {convNode(xq, b.weights({8, 6, 3, 3}, 0, true, 8), nullptr)}));
            quantOut(convNode(xq, b.weights({4, 6, 3, 3}, 0, true, 9), nullptr));
        } else if (p == "gemm") {
            ir::Value* y = b.node("Gemm", {xq, b.weights({16, 24}, 0, true, 10), int32Bias(16, 0.01f * 0.005f)},
                                  DataType::Float, attrs(Attribute::makeInt("transB", 1)));
            quantOut(y);
        } else if (p == "matmul") {
            quantOut(b.node("Relu", {b.node("MatMul", {xq, b.weights({24, 16}, 1, true, 11)})}));
        } else {
            return nullptr;
        }
        auto m = b.done();
        ir::inferShapes(*m);
        return m;
    }
};

QTEST_GUILESS_MAIN(TestInt8)
#include "tst_int8.moc"
