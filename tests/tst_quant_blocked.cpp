// Blocked and sub-byte linear quantization in the CPU runtime: int4/uint4/int2/uint2 tensors
// (packed two or four per byte in the IR and files, one value per byte in the runtime), and
// DequantizeLinear / QuantizeLinear per tensor, per axis and blocked (opset 21's block_size) for
// every integer type the spec allows. Each row is checked element for element against numpy
// (a python3 script computing the ONNX formulas with np.repeat'ed scales; skipped without
// numpy) and against a direct C++ loop; then the session's constant folding of int4 weights
// and the `quantize --scheme w4` export of digits-cnn end to end (SQNR against float, and
// equality with the same model dequantized by hand).
#include "test_util.h"

#include "ir/io/model_io.h"
#include "ir/npy.h"
#include "ir/shape_inference.h"
#include "optimize/graph_util.h"
#include "optimize/quantize/quantizer.h"
#include "ir/onnx/onnx_import.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <cstring>
#include <random>

using namespace ew;
using ir::DataType;

namespace {

/// One DequantizeLinear / QuantizeLinear case. block 0 with perTensor false is per axis.
struct Case {
    QString name;
    bool dequantize = true;
    DataType q = DataType::Int4;  ///< DQ input / Q output type
    std::vector<int64_t> dims;
    int64_t axis = 1, block = 0;
    bool perTensor = false, zeroPoint = true, constX = true;
    int64_t opset = 21;
};

/// The data of a case, generated from a fixed seed.
struct Data {
    std::vector<int64_t> xq;   ///< DQ input values
    std::vector<float> xf;     ///< Q input values
    std::vector<float> scale;
    std::vector<int64_t> zp;
    std::vector<int64_t> scaleDims;
};

std::pair<int64_t, int64_t> rangeOf(DataType t) {
    switch (t) {
    case DataType::Int4: return {-8, 7};
    case DataType::UInt4: return {0, 15};
    case DataType::Int2: return {-2, 1};
    case DataType::UInt2: return {0, 3};
    case DataType::Int8: return {-128, 127};
    case DataType::UInt8: return {0, 255};
    case DataType::Int16: return {-32768, 32767};
    case DataType::UInt16: return {0, 65535};
    default: return {-(int64_t(1) << 31), (int64_t(1) << 31) - 1};
    }
}

int64_t normAxis(const Case& c) {
    return c.axis < 0 ? c.axis + static_cast<int64_t>(c.dims.size()) : c.axis;
}

Data makeData(const Case& c, uint32_t seed) {
    std::mt19937 rng(seed);
    Data d;
    const auto [lo, hi] = rangeOf(c.q);
    int64_t n = 1;
    for (int64_t v : c.dims) n *= v;
    // int32 values stay within +-2^20 so that x - zero_point is exact in float on both sides.
    const int64_t vlo = std::max<int64_t>(lo, -(1 << 20)), vhi = std::min<int64_t>(hi, 1 << 20);
    std::uniform_int_distribution<int64_t> qd(vlo, vhi);
    if (c.dequantize)
        for (int64_t i = 0; i < n; ++i) d.xq.push_back(qd(rng));
    if (c.perTensor) {
        d.scaleDims = {};
    } else if (c.block == 0) {
        d.scaleDims = {c.dims[static_cast<std::size_t>(normAxis(c))]};
    } else {
        d.scaleDims = c.dims;
        auto& a = d.scaleDims[static_cast<std::size_t>(normAxis(c))];
        a = (a + c.block - 1) / c.block;
    }
    int64_t ns = 1;
    for (int64_t v : d.scaleDims) ns *= v;
    std::uniform_real_distribution<float> sd(0.01f, 0.25f);
    for (int64_t i = 0; i < ns; ++i) d.scale.push_back(sd(rng));
    if (c.zeroPoint)
        for (int64_t i = 0; i < ns; ++i) d.zp.push_back(qd(rng));
    if (!c.dequantize) {
        // Wide enough to saturate at both ends: (hi - lo) steps of the largest scale either way,
        // plus exact halves (k + 0.5) * scale to exercise rounding half to even.
        const double span = double(std::min<int64_t>(hi - lo, 1 << 20)) * 0.25 * 1.5;
        std::uniform_real_distribution<double> xd(-span, span);
        for (int64_t i = 0; i < n; ++i) d.xf.push_back(static_cast<float>(xd(rng)));
        for (int64_t i = 0; i < n; i += 5) d.xf[static_cast<std::size_t>(i)] = float(i % 7) - 2.5f;
    }
    return d;
}

/// The scale / zero-point element for x's element i (an independent C++ reading of the spec).
int64_t paramIndex(const Case& c, int64_t i) {
    if (c.perTensor) return 0;
    const int64_t ax = normAxis(c);
    int64_t inner = 1;
    for (std::size_t k = static_cast<std::size_t>(ax) + 1; k < c.dims.size(); ++k) inner *= c.dims[k];
    const int64_t D = c.dims[static_cast<std::size_t>(ax)];
    const int64_t a = (i / inner) % D, o = i / (inner * D), in = i % inner;
    if (c.block == 0) return a;
    const int64_t nb = (D + c.block - 1) / c.block;
    return (o * nb + a / c.block) * inner + in;
}

/// A runtime tensor of an integer type (sub-byte types one value per byte) from int64 values.
rt::Tensor intTensor(DataType t, const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
    rt::Tensor r = rt::Tensor::allocate(t, dims);
    const std::size_t es = rt::elementSize(t);
    for (std::size_t i = 0; i < v.size(); ++i) std::memcpy(r.raw() + i * es, &v[i], es); // little-endian
    return r;
}

ir::Value* addConst(ir::Graph& g, const std::string& name, ir::Tensor t) {
    ir::Value* v = *g.addValue(name, ir::Type::tensor(t.dtype, ir::Shape::of(t.dims)));
    t.name = name;
    v->initializer = std::move(t);
    g.initializers.push_back(v);
    return v;
}

std::unique_ptr<ir::Model> buildModel(const Case& c, const Data& d, rt::Session::NamedTensors& feeds) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", c.opset}};
    ir::Graph& g = *m->graph;
    const DataType xt = c.dequantize ? c.q : DataType::Float;
    rt::Tensor x = c.dequantize ? intTensor(c.q, c.dims, d.xq) : rt::Tensor::fromVector<float>(DataType::Float, c.dims, d.xf);
    ir::Value* xv;
    if (c.constX) {
        xv = addConst(g, "x", x.toIr("x")); // packed here, unpacked again by the session
    } else {
        xv = *g.addValue("x", ir::Type::tensor(xt, ir::Shape::of(c.dims)));
        g.inputs.push_back(xv);
        // Through the packed IR form, as test data and files arrive.
        feeds.emplace_back("x", *rt::Tensor::fromIr(x.toIr("x")));
    }
    std::vector<ir::Value*> ins{xv, addConst(g, "scale", ir::Tensor::fromVector<float>("", DataType::Float, d.scaleDims, d.scale))};
    if (c.zeroPoint) ins.push_back(addConst(g, "zp", intTensor(c.q, d.scaleDims, d.zp).toIr("zp")));
    ir::Value* y = *g.addValue("y");
    ir::Node* n = g.addNode(c.dequantize ? "DequantizeLinear" : "QuantizeLinear", "", "node", ins, {y});
    if (!c.perTensor) n->setAttr(ir::Attribute::makeInt("axis", c.axis));
    if (c.block) n->setAttr(ir::Attribute::makeInt("block_size", c.block));
    if (!c.dequantize && !c.zeroPoint) n->setAttr(ir::Attribute::makeInt("output_dtype", int64_t(c.q)));
    g.outputs = {y};
    ir::inferShapes(*m);
    return m;
}

/// The C++ reference output: floats for DQ, integers (as doubles) for Q.
std::vector<double> cppReference(const Case& c, const Data& d) {
    std::vector<double> out;
    const auto [lo, hi] = rangeOf(c.q);
    const int64_t n = static_cast<int64_t>(c.dequantize ? d.xq.size() : d.xf.size());
    for (int64_t i = 0; i < n; ++i) {
        const int64_t p = paramIndex(c, i);
        const float s = d.scale[static_cast<std::size_t>(p)];
        const int64_t z = c.zeroPoint ? d.zp[static_cast<std::size_t>(p)] : 0;
        if (c.dequantize) {
            out.push_back(static_cast<float>(static_cast<float>(d.xq[static_cast<std::size_t>(i)] - z) * s));
        } else {
            const float r = std::nearbyint(d.xf[static_cast<std::size_t>(i)] / s) + static_cast<float>(z);
            out.push_back(std::clamp<double>(r, double(lo), double(hi)));
        }
    }
    return out;
}

QList<Case> cases() {
    QList<Case> v;
    auto dq = [&](QString name, DataType q, std::vector<int64_t> dims, int64_t axis, int64_t block, bool zp, bool constX,
                  int64_t opset = 21) {
        v.push_back({name, true, q, dims, axis, block, false, zp, constX, opset});
    };
    auto q = [&](QString name, DataType t, std::vector<int64_t> dims, int64_t axis, int64_t block, bool zp, int64_t opset = 21) {
        v.push_back({name, false, t, dims, axis, block, false, zp, false, opset});
    };
    // Blocked int4 as the w4 quantizer writes it (K along axis 0 or, transB, axis 1), K not a
    // multiple of the block and odd element counts (the last byte holds half a value).
    dq("int4 blocked axis0 K37 b16 zp", DataType::Int4, {37, 5}, 0, 16, true, true);
    dq("int4 blocked axis1 K37 b32", DataType::Int4, {3, 37}, 1, 32, false, true);
    dq("int4 blocked block > D", DataType::Int4, {5, 3}, 0, 8, true, true);
    dq("int4 blocked rank3 axis -1 input", DataType::Int4, {2, 3, 9}, -1, 4, true, false);
    dq("uint4 blocked rank3 middle axis zp", DataType::UInt4, {2, 7, 3}, 1, 2, true, true);
    dq("int4 per-axis input", DataType::Int4, {3, 5}, 0, 0, true, false);
    dq("uint4 per-axis", DataType::UInt4, {4, 5}, 1, 0, true, true);
    dq("int8 blocked rank4", DataType::Int8, {1, 5, 3, 2}, 1, 2, true, true);
    dq("uint8 blocked input", DataType::UInt8, {6, 11}, 1, 4, true, false);
    dq("int16 blocked", DataType::Int16, {9, 4}, 0, 4, true, true);
    dq("uint16 per-axis", DataType::UInt16, {3, 4}, 1, 0, true, true);
    dq("int32 blocked zp", DataType::Int32, {4, 6}, 1, 4, true, true);
    dq("int2 blocked opset 25", DataType::Int2, {3, 10}, 1, 4, true, true, 25);
    dq("uint2 per-axis opset 25 input", DataType::UInt2, {5, 3}, 0, 0, true, false, 25);
    {
        Case c{"int4 per-tensor", true, DataType::Int4, {7}, 0, 0, true, true, true, 21};
        v.push_back(c);
        c.name = "uint4 per-tensor no zp input";
        c.q = DataType::UInt4;
        c.zeroPoint = false;
        c.constX = false;
        c.dims = {3, 3};
        v.push_back(c);
    }
    q("Q int4 blocked axis1 zp", DataType::Int4, {3, 37}, 1, 16, true);
    q("Q int4 blocked axis0 symmetric", DataType::Int4, {37, 3}, 0, 32, false);
    q("Q uint4 per-axis", DataType::UInt4, {3, 5}, 0, 0, true);
    q("Q int8 blocked", DataType::Int8, {2, 9}, 1, 4, true);
    q("Q uint16 blocked rank3", DataType::UInt16, {2, 5, 3}, 1, 2, true);
    q("Q int2 per-axis opset 25", DataType::Int2, {4, 3}, 1, 0, true, 25);
    {
        Case c{"Q int4 per-tensor output_dtype", false, DataType::Int4, {9}, 0, 0, true, false, false, 21};
        v.push_back(c);
    }
    return v;
}

/// Runs a case; the output as doubles (empty on failure, with the reason in `why`).
std::vector<double> runCase(const Case& c, const Data& d, std::string& why) {
    rt::Session::NamedTensors feeds;
    auto m = buildModel(c, d, feeds);
    auto s = rt::Session::create(*m);
    if (!s) {
        why = s.error().toString();
        return {};
    }
    auto out = (*s)->run(feeds);
    if (!out) {
        why = out.error().toString();
        return {};
    }
    const rt::Tensor& y = (*out)[0];
    const DataType want = c.dequantize ? DataType::Float : c.q;
    if (y.dtype() != want || y.dims() != c.dims) {
        why = "got " + rt::describe(y.dtype(), y.dims());
        return {};
    }
    std::vector<double> v;
    for (int64_t i = 0; i < y.numElements(); ++i) v.push_back(y.doubleAt(i));
    // Integer outputs go back to the packed IR form losslessly (what a file would hold).
    if (!c.dequantize) {
        auto back = rt::Tensor::fromIr(y.toIr("y"));
        for (int64_t i = 0; back && i < y.numElements(); ++i)
            if (back->intAt(i) != y.intAt(i)) why = "packing changed element " + std::to_string(i);
        if (!why.empty()) return {};
    }
    return v;
}

const char* kNumpyReference = R"PY(
import json, os, sys
import numpy as np
d = sys.argv[1]
for c in json.load(open(os.path.join(d, "cases.json"))):
    ld = lambda n: np.load(os.path.join(d, "%d_%s.npy" % (c["id"], n)))
    s = ld("scale").astype(np.float32)
    x = ld("x")
    ax = c["axis"] % x.ndim
    def expand(p):
        if c["perTensor"]:
            return p.reshape(())
        if c["block"] == 0:
            shape = [1] * x.ndim
            shape[ax] = -1
            return p.reshape(shape)
        return np.repeat(p, c["block"], axis=ax).take(np.arange(x.shape[ax]), axis=ax)
    S = expand(s)
    Z = expand(ld("zp")) if c["zeroPoint"] else np.int64(0)
    if c["dequantize"]:
        y = (x.astype(np.int64) - Z).astype(np.float32) * S
    else:
        y = np.clip(np.rint(x.astype(np.float32) / S) + Z.astype(np.float32), c["lo"], c["hi"])
    np.save(os.path.join(d, "%d_want.npy" % c["id"]), y.astype(np.float64))
)PY";

} // namespace

class TestQuantBlocked : public QObject {
    Q_OBJECT
private slots:
    void packing_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<QList<qlonglong>>("values");
        QTest::addColumn<QByteArray>("packed");
        // ONNX packs low bits first; an odd count leaves the last byte's high bits zero.
        QTest::newRow("int4") << int(DataType::Int4) << QList<qlonglong>{-8, 7, -1, 0, 3} << QByteArray("\x78\x0f\x03", 3);
        QTest::newRow("uint4") << int(DataType::UInt4) << QList<qlonglong>{15, 0, 9} << QByteArray("\x0f\x09", 2);
        QTest::newRow("int2") << int(DataType::Int2) << QList<qlonglong>{-2, 1, -1, 0, 1} << QByteArray("\x36\x01", 2);
        QTest::newRow("uint2") << int(DataType::UInt2) << QList<qlonglong>{3, 2, 1, 0} << QByteArray("\x1b", 1);
    }
    void packing() {
        QFETCH(int, dtype);
        QFETCH(QList<qlonglong>, values);
        QFETCH(QByteArray, packed);
        const DataType t = static_cast<DataType>(dtype);
        QCOMPARE(rt::elementSize(t), std::size_t(1));
        std::vector<int64_t> v(values.begin(), values.end());
        const std::vector<int64_t> dims{static_cast<int64_t>(v.size())};
        const ir::Tensor ir = intTensor(t, dims, v).toIr("t");
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(ir.bytes().data()), int(ir.byteSize())), packed);
        auto back = rt::Tensor::fromIr(ir::Tensor::fromBytes("t", t, dims, packed.toStdString()));
        QVERIFY(back);
        QCOMPARE(back->byteSize(), v.size()); // one value per byte in the runtime
        for (std::size_t i = 0; i < v.size(); ++i) {
            QCOMPARE(back->intAt(int64_t(i)), v[i]);
            QCOMPARE(back->doubleAt(int64_t(i)), double(v[i]));
        }
        // A packed size that does not fit the dims is refused, not read past.
        auto bad = rt::Tensor::fromIr(ir::Tensor::fromBytes("t", t, {int64_t(v.size() + 8)}, packed.toStdString()));
        QVERIFY(!bad);
        QVERIFY(QString::fromStdString(bad.error().message).contains("bytes"));
    }

    void linear_data() {
        QTest::addColumn<int>("index");
        const QList<Case> all = cases();
        for (int i = 0; i < all.size(); ++i) QTest::newRow(qPrintable(all[i].name)) << i;
    }
    void linear() {
        QFETCH(int, index);
        const Case c = cases()[index];
        const Data d = makeData(c, 1000u + uint32_t(index));
        std::string why;
        const std::vector<double> got = runCase(c, d, why);
        QVERIFY2(!got.empty(), why.c_str());
        const std::vector<double> want = cppReference(c, d);
        QCOMPARE(got.size(), want.size());
        for (std::size_t i = 0; i < got.size(); ++i)
            if (got[i] != want[i]) // exact: the same float operations as the spec
                QFAIL(qPrintable(QString("element %1: got %2, want %3").arg(i).arg(got[i], 0, 'g', 9).arg(want[i], 0, 'g', 9)));
        if (!c.dequantize) {
            // The rows are built to saturate at both ends of the range.
            const auto [lo, hi] = rangeOf(c.q);
            QVERIFY(std::count(got.begin(), got.end(), double(lo)) > 0);
            QVERIFY(std::count(got.begin(), got.end(), double(hi)) > 0);
        } else if (ir::isSigned(c.q)) {
            QVERIFY(std::any_of(d.xq.begin(), d.xq.end(), [](int64_t x) { return x < 0; }));
        }
    }

    void numpyReference() {
        // Every linear() row against numpy's reading of the ONNX formulas.
        QProcess probe;
        probe.start("/usr/bin/python3", {"-c", "import numpy"});
        if (!probe.waitForFinished(60000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0)
            QSKIP("[ew-skip] /usr/bin/python3 with numpy is not available");
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QList<Case> all = cases();
        QJsonArray list;
        std::vector<std::vector<double>> got(static_cast<std::size_t>(all.size()));
        for (int i = 0; i < all.size(); ++i) {
            const Case& c = all[i];
            const Data d = makeData(c, 1000u + uint32_t(i));
            std::string why;
            got[std::size_t(i)] = runCase(c, d, why);
            QVERIFY2(!got[std::size_t(i)].empty(), why.c_str());
            auto save = [&](const char* what, const ir::Tensor& t) {
                const std::string path = test::str(tmp.path()) + "/" + std::to_string(i) + "_" + what + ".npy";
                auto r = ir::writeNpy(path, t);
                QVERIFY2(r, r ? "" : r.error().toString().c_str());
            };
            save("x", c.dequantize ? ir::Tensor::fromVector<int64_t>("", DataType::Int64, c.dims, d.xq)
                                   : ir::Tensor::fromVector<float>("", DataType::Float, c.dims, d.xf));
            save("scale", ir::Tensor::fromVector<float>("", DataType::Float, d.scaleDims, d.scale));
            if (c.zeroPoint) save("zp", ir::Tensor::fromVector<int64_t>("", DataType::Int64, d.scaleDims, d.zp));
            const auto [lo, hi] = rangeOf(c.q);
            list.append(QJsonObject{{"id", i}, {"dequantize", c.dequantize}, {"axis", double(c.axis)},
                                    {"block", double(c.block)}, {"perTensor", c.perTensor},
                                    {"zeroPoint", c.zeroPoint}, {"lo", double(lo)}, {"hi", double(hi)}});
        }
        QFile f(tmp.path() + "/cases.json");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(list).toJson());
        f.close();
        QProcess py;
        py.start("/usr/bin/python3", {"-c", kNumpyReference, tmp.path()});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        for (int i = 0; i < all.size(); ++i) {
            auto want = ir::readNpy(test::str(tmp.path()) + "/" + std::to_string(i) + "_want.npy");
            QVERIFY2(want, want ? "" : want.error().toString().c_str());
            const std::vector<double> w = want->toDouble();
            QCOMPARE(w.size(), got[std::size_t(i)].size());
            for (std::size_t k = 0; k < w.size(); ++k)
                if (w[k] != got[std::size_t(i)][k])
                    QFAIL(qPrintable(QString("%1, element %2: got %3, numpy %4").arg(all[i].name).arg(k)
                                         .arg(got[std::size_t(i)][k], 0, 'g', 9).arg(w[k], 0, 'g', 9)));
        }
    }

    void refusals_data() {
        QTest::addColumn<int>("index");
        QTest::addColumn<QString>("message");
        QTest::newRow("int4 before opset 21") << 0 << "needs opset 21";
        QTest::newRow("int2 before opset 25") << 1 << "needs opset 25";
        QTest::newRow("zero point in another shape") << 2 << "must have the scale's shape";
        QTest::newRow("blocked scale of the wrong shape") << 3 << "blocked scale";
        QTest::newRow("Q int4 before opset 21") << 4 << "needs opset 21";
    }
    void refusals() {
        QFETCH(int, index);
        QFETCH(QString, message);
        Case c{"r", true, DataType::Int4, {6, 4}, 1, 2, false, true, true, 19};
        switch (index) {
        case 1: c.q = DataType::Int2, c.opset = 24; break;
        case 2:
        case 3: c.opset = 21; break;
        case 4: c.dequantize = false, c.constX = false; break;
        default: break;
        }
        Data d = makeData(c, 7); // scale and zero point [6, 2]
        if (index == 3) d.scaleDims = {6, 3}, d.scale.resize(18, 0.5f), d.zp.resize(18, 0);
        rt::Session::NamedTensors feeds;
        auto m = buildModel(c, d, feeds);
        if (index == 2) // the same 12 values as [2, 6]: a count check alone would pair them wrongly
            m->graph->findValue("zp")->initializer = intTensor(c.q, {2, 6}, d.zp).toIr("zp");
        auto s = rt::Session::create(*m);
        Status err;
        if (!s) {
            err = s.error();
        } else {
            auto out = (*s)->run(feeds);
            QVERIFY(!out);
            err = out.error();
        }
        QVERIFY2(QString::fromStdString(err.toString()).contains(message), err.toString().c_str());
    }

    void bitcastRefusesSubByte() {
        // int8 -> int4 bitcast: the runtime holds int4 one per byte, not as bit patterns.
        auto m = std::make_unique<ir::Model>();
        m->opsetImports = {{"", 26}};
        ir::Graph& g = *m->graph;
        ir::Value* x = *g.addValue("x", ir::Type::tensor(DataType::Int8, ir::Shape::of({4})));
        g.inputs.push_back(x);
        ir::Value* y = *g.addValue("y");
        g.addNode("BitCast", "", "bc", {x}, {y})->setAttr(ir::Attribute::makeInt("to", int64_t(DataType::Int4)));
        g.outputs = {y};
        auto s = rt::Session::create(*m);
        if (!s) {
            QVERIFY2(s.error().code == StatusCode::Unsupported, s.error().toString().c_str());
            return;
        }
        auto out = (*s)->run({{"x", intTensor(DataType::Int8, {4}, {1, -1, 7, -8})}});
        QVERIFY(!out);
        QVERIFY2(out.error().toString().find("not supported") != std::string::npos, out.error().toString().c_str());
    }

    void int4WeightsFoldOnce() {
        // x[2, 37] @ DQ(int4 [37, 5], blocks of 16 along K): the session dequantizes the constant
        // weights once at compile time; a run executes only the MatMul, and its output equals the
        // same MatMul on the hand-dequantized float weights, bit for bit.
        const Case c{"w", true, DataType::Int4, {37, 5}, 0, 16, false, false, true, 21};
        const Data d = makeData(c, 42);
        auto m = std::make_unique<ir::Model>();
        m->opsetImports = {{"", 21}};
        ir::Graph& g = *m->graph;
        ir::Value* x = *g.addValue("x", ir::Type::tensor(DataType::Float, ir::Shape::of({2, 37})));
        g.inputs.push_back(x);
        ir::Value* wq = addConst(g, "wq", intTensor(DataType::Int4, c.dims, d.xq).toIr("wq"));
        ir::Value* sc = addConst(g, "scale", ir::Tensor::fromVector<float>("", DataType::Float, d.scaleDims, d.scale));
        ir::Value* w = *g.addValue("w");
        ir::Node* dq = g.addNode("DequantizeLinear", "", "dq", {wq, sc}, {w});
        dq->setAttr(ir::Attribute::makeInt("axis", 0));
        dq->setAttr(ir::Attribute::makeInt("block_size", 16));
        ir::Value* y = *g.addValue("y");
        g.addNode("MatMul", "", "mm", {x, w}, {y});
        g.outputs = {y};
        ir::inferShapes(*m);

        auto f = std::make_unique<ir::Model>();
        f->opsetImports = {{"", 21}};
        ir::Graph& h = *f->graph;
        ir::Value* fx = *h.addValue("x", ir::Type::tensor(DataType::Float, ir::Shape::of({2, 37})));
        h.inputs.push_back(fx);
        std::vector<float> wf;
        for (double v : cppReference(c, d)) wf.push_back(float(v));
        ir::Value* fw = addConst(h, "w", ir::Tensor::fromVector<float>("", DataType::Float, c.dims, wf));
        ir::Value* fy = *h.addValue("y");
        h.addNode("MatMul", "", "mm", {fx, fw}, {fy});
        h.outputs = {fy};
        ir::inferShapes(*f);

        std::vector<float> xv(74);
        for (std::size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(float(i) * 0.7f);
        const rt::Session::NamedTensors in{{"x", rt::Tensor::fromVector<float>(DataType::Float, {2, 37}, xv)}};
        auto s = rt::Session::create(*m);
        QVERIFY2(s, s ? "" : s.error().toString().c_str());
        QCOMPARE((*s)->executionOrder().size(), std::size_t(1));
        QCOMPARE((*s)->executionOrder()[0]->opType, std::string("MatMul"));
        auto sf = rt::Session::create(*f);
        QVERIFY(sf);
        auto a = (*s)->run(in);
        auto b = (*sf)->run(in);
        QVERIFY(a && b);
        QCOMPARE((*a)[0].toVector<float>(), (*b)[0].toVector<float>());
    }

    void digitsCnnW4() {
        // `quantize --scheme w4` of digits-cnn (its two Gemms) through our runtime: close to the
        // float model, and exactly the float model with the weights dequantized here by hand.
        EW_REQUIRE_MODELS();
        const QString dir = test::modelsDir() + "/onnx/digits-cnn";
        auto model = ir::loadModel(test::str(dir + "/digits_cnn.onnx"));
        QVERIFY(model);
        auto ref = (*model)->clone();
        opt::quant::QuantizeOptions o;
        o.scheme = opt::quant::Scheme::W4;
        auto rep = opt::quant::quantizeModel(**model, nullptr, o);
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        QCOMPARE(rep->quantizedNodes.size(), std::size_t(2));
        QTemporaryDir tmp;
        const std::string path = test::str(tmp.path()) + "/w4.onnx";
        QVERIFY(ir::saveModel(**model, path));
        auto w4 = ir::loadModel(path); // what a user's file holds: packed int4 initializers
        QVERIFY(w4);
        auto byHand = (*w4)->clone();
        {
            ir::Graph& g = *byHand->graph;
            std::vector<ir::Node*> dqs;
            for (const auto& n : g.nodes())
                if (n->opType == "DequantizeLinear") dqs.push_back(n.get());
            QCOMPARE(dqs.size(), std::size_t(2));
            for (ir::Node* n : dqs) {
                const ir::Tensor& q = *opt::constantOf(n->input(0));
                QCOMPARE(q.dtype, DataType::Int4);
                const std::vector<float> sc = opt::constantOf(n->input(1))->toFloat();
                const int64_t axis = n->attrInt("axis", 1), bs = n->attrInt("block_size", 0);
                const int64_t K = q.dims[std::size_t(axis)], N = q.dims[std::size_t(1 - axis)], nb = (K + bs - 1) / bs;
                std::vector<float> w(std::size_t(K * N));
                for (int64_t k = 0; k < K; ++k)
                    for (int64_t c = 0; c < N; ++c) {
                        const int64_t i = axis == 0 ? k * N + c : c * K + k;
                        const int64_t si = axis == 0 ? (k / bs) * N + c : c * nb + k / bs;
                        w[std::size_t(i)] = float(q.valueAsInt(i)) * sc[std::size_t(si)];
                    }
                ir::Value* out = n->output(0);
                const std::vector<int64_t> dims = q.dims;
                const std::vector<ir::Value*> ins = n->inputs();
                g.removeNode(n);
                for (ir::Value* v : ins)
                    if (v->uses().empty()) g.removeValue(v);
                out->initializer = ir::Tensor::fromVector<float>(out->name, DataType::Float, dims, w);
                g.initializers.push_back(out);
            }
            opt::dropOrphanValues(g);
        }
        auto x = onnxfmt::readTensorProtoFile(test::str(dir + "/test_data_set_0/input_0.pb"));
        QVERIFY(x);
        const rt::Session::NamedTensors in{{"input", *rt::Tensor::fromIr(*x)}};
        auto run = [&](const ir::Model& m) -> std::vector<float> {
            auto s = rt::Session::create(m);
            if (!s) qWarning("%s", s.error().toString().c_str());
            if (!s) return {};
            auto out = (*s)->run(in);
            if (!out) qWarning("%s", out.error().toString().c_str());
            return out ? (*out)[0].toVector<float>() : std::vector<float>{};
        };
        const std::vector<float> fp = run(*ref), q4 = run(**w4), hand = run(*byHand);
        QVERIFY(!fp.empty() && q4.size() == fp.size() && hand.size() == fp.size());
        QCOMPARE(q4, hand);
        double sig = 0, noise = 0;
        for (std::size_t i = 0; i < fp.size(); ++i) {
            sig += double(fp[i]) * fp[i];
            noise += double(fp[i] - q4[i]) * (fp[i] - q4[i]);
        }
        const double db = 10 * std::log10(sig / noise);
        qInfo("digits-cnn w4 vs float through our runtime: SQNR %.1f dB over %zu logits", db, fp.size());
        QVERIFY2(db > 20, qPrintable(QString::number(db)));
    }
};

QTEST_GUILESS_MAIN(TestQuantBlocked)
#include "tst_quant_blocked.moc"
