// NumPy .npy reading and writing: round trips for every supported dtype and shape kind, files
// written by /usr/bin/python3 numpy (all versions, big-endian, fortran order) and our files read
// back by numpy, plus a table of corrupt and hostile headers with the exact error each gives.
#include "test_util.h"

#include "ir/npy.h"

#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ew::ir;

Q_DECLARE_METATYPE(std::vector<int64_t>)
Q_DECLARE_METATYPE(ew::ir::DataType)

namespace {

struct DtypeRow {
    const char* descr;
    DataType dtype;
};
constexpr DtypeRow kDtypes[] = {
    {"<f4", DataType::Float},  {"<f8", DataType::Double}, {"<f2", DataType::Float16},
    {"|i1", DataType::Int8},   {"|u1", DataType::UInt8},  {"<i2", DataType::Int16},
    {"<u2", DataType::UInt16}, {"<i4", DataType::Int32},  {"<u4", DataType::UInt32},
    {"<i8", DataType::Int64},  {"<u8", DataType::UInt64}, {"|b1", DataType::Bool},
};

/// The value of element i in every cross-check file; the Python side computes the same.
double expectedValue(DataType dt, int64_t i) {
    switch (dt) {
    case DataType::Float: case DataType::Double: case DataType::Float16: return double(i) * 0.5 - 3;
    case DataType::Bool: return i % 3 == 0 ? 1 : 0;
    case DataType::Int64: return double((i - 12) * 1000000007LL);
    case DataType::UInt64: return double(i * 1000000007LL);
    case DataType::Int8: case DataType::Int16: case DataType::Int32: return double(i - 12);
    default: return double(i * 3);
    }
}

template <typename T>
std::string packAs(int64_t n, const std::function<double(int64_t)>& f) {
    std::string s(std::size_t(n) * sizeof(T), '\0');
    for (int64_t i = 0; i < n; ++i) {
        T v = static_cast<T>(f(i));
        std::memcpy(s.data() + i * sizeof(T), &v, sizeof(T));
    }
    return s;
}

Tensor makeTensor(DataType dt, std::vector<int64_t> dims, const std::function<double(int64_t)>& f) {
    int64_t n = 1;
    for (int64_t d : dims)
        n *= d;
    std::string bytes;
    switch (dt) {
    case DataType::Float: bytes = packAs<float>(n, f); break;
    case DataType::Double: bytes = packAs<double>(n, f); break;
    case DataType::Float16: bytes = packAs<uint16_t>(n, [&](int64_t i) { return floatToHalf(float(f(i))); }); break;
    case DataType::Int8: bytes = packAs<int8_t>(n, f); break;
    case DataType::UInt8: case DataType::Bool: bytes = packAs<uint8_t>(n, f); break;
    case DataType::Int16: bytes = packAs<int16_t>(n, f); break;
    case DataType::UInt16: bytes = packAs<uint16_t>(n, f); break;
    case DataType::Int32: bytes = packAs<int32_t>(n, f); break;
    case DataType::UInt32: bytes = packAs<uint32_t>(n, f); break;
    case DataType::Int64: bytes = packAs<int64_t>(n, f); break;
    case DataType::UInt64: bytes = packAs<uint64_t>(n, f); break;
    default: qFatal("makeTensor: unexpected dtype");
    }
    return Tensor::fromBytes("t", dt, std::move(dims), std::move(bytes));
}

std::span<const std::byte> asBytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// A .npy file with a hand-written header dict (not padded unless asked) and raw data.
std::string rawNpy(const std::string& dict, const std::string& data, int major = 1,
                   bool pad = true) {
    std::string header = dict;
    std::size_t prefix = major == 1 ? 10 : 12;
    if (pad) {
        while ((prefix + header.size() + 1) % 64 != 0)
            header += ' ';
        header += '\n';
    }
    std::string out = "\x93NUMPY";
    out += char(major);
    out += char(0);
    uint32_t len = uint32_t(header.size());
    out += char(len & 0xff);
    out += char((len >> 8) & 0xff);
    if (major != 1) {
        out += char((len >> 16) & 0xff);
        out += char((len >> 24) & 0xff);
    }
    return out + header + data;
}

void writeFile(const QString& path, const std::string& bytes) {
    std::ofstream f(path.toStdString(), std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
}

bool hasNumpy() {
    QProcess p;
    p.start("/usr/bin/python3", {"-c", "import numpy"});
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

} // namespace

class TestNpy : public QObject {
    Q_OBJECT
  private slots:
    void roundTrip_data();
    void roundTrip();
    void headerLayout();
    void bigEndianAndBool();
    void numpyCrossCheck_data();
    void numpyCrossCheck();
    void numpyVariants();
    void corrupt_data();
    void corrupt();
    void writeErrors();
};

void TestNpy::roundTrip_data() {
    QTest::addColumn<DataType>("dtype");
    QTest::addColumn<std::vector<int64_t>>("dims");
    for (const DtypeRow& r : kDtypes) {
        for (auto [label, dims] : {std::pair{"scalar", std::vector<int64_t>{}},
                                   {"empty", std::vector<int64_t>{0}},
                                   {"empty-2d", std::vector<int64_t>{3, 0}},
                                   {"1d", std::vector<int64_t>{5}},
                                   {"3d", std::vector<int64_t>{2, 3, 4}}}) {
            QTest::addRow("%s %s", r.descr, label) << r.dtype << dims;
        }
    }
}

void TestNpy::roundTrip() {
    QFETCH(DataType, dtype);
    QFETCH(std::vector<int64_t>, dims);
    Tensor t = makeTensor(dtype, dims, [&](int64_t i) { return expectedValue(dtype, i); });

    auto encoded = encodeNpy(t);
    QVERIFY2(encoded, encoded ? "" : encoded.error().toString().c_str());
    auto parsed = parseNpy(asBytes(*encoded), "mem");
    QVERIFY2(parsed, parsed ? "" : parsed.error().toString().c_str());
    QCOMPARE(parsed->dtype, dtype);
    QCOMPARE(parsed->dims, dims);
    QVERIFY(parsed->name.empty());
    QVERIFY(parsed->sameContent(t));

    QTemporaryDir dir;
    QString path = dir.filePath("t.npy");
    auto written = writeNpy(path.toStdString(), t);
    QVERIFY2(written, written ? "" : written.error().toString().c_str());
    auto read = readNpy(path.toStdString());
    QVERIFY2(read, read ? "" : read.error().toString().c_str());
    QCOMPARE(read->dims, dims);
    QCOMPARE(read->dtype, dtype);
    QVERIFY(std::equal(read->bytes().begin(), read->bytes().end(), t.bytes().begin(),
                       t.bytes().end()));
    // Mapped in place: numpy-style 64-byte padding keeps the data aligned.
    QCOMPARE(reinterpret_cast<uintptr_t>(read->bytes().data()) % 16, uintptr_t(0));
    // No temporary files left behind.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);
}

void TestNpy::headerLayout() {
    Tensor t = makeTensor(DataType::Float, {2, 3}, [](int64_t i) { return double(i); });
    auto e = encodeNpy(t);
    QVERIFY(e);
    QCOMPARE(e->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    std::size_t hlen = uint8_t((*e)[8]) | (std::size_t(uint8_t((*e)[9])) << 8);
    QCOMPARE((10 + hlen) % 64, std::size_t(0));
    QCOMPARE(e->size(), 10 + hlen + 24);
    QCOMPARE((*e)[10 + hlen - 1], '\n');
    QVERIFY(e->find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") == 10);
    // One-dimensional shapes are Python 1-tuples; scalars are ().
    Tensor v = makeTensor(DataType::Int64, {7}, [](int64_t i) { return double(i); });
    QVERIFY(encodeNpy(v)->find("'shape': (7,)") != std::string::npos);
    Tensor s = makeTensor(DataType::Bool, {}, [](int64_t) { return 1.0; });
    QVERIFY(encodeNpy(s)->find("'descr': '|b1', 'fortran_order': False, 'shape': ()") !=
            std::string::npos);
}

void TestNpy::bigEndianAndBool() {
    // 1.5f big-endian is 3f c0 00 00; int64 258 is 00..01 02; uint16 0x1234 is 12 34.
    auto f = parseNpy(asBytes(rawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                                     std::string("\x3f\xc0\x00\x00", 4))));
    QVERIFY2(f, f ? "" : f.error().toString().c_str());
    QCOMPARE(f->toFloat().at(0), 1.5f);
    auto i = parseNpy(asBytes(rawNpy("{'descr': '>i8', 'fortran_order': False, 'shape': (), }",
                                     std::string("\0\0\0\0\0\0\x01\x02", 8))));
    QVERIFY(i);
    QCOMPARE(i->valueAsInt(0), int64_t(258));
    auto u = parseNpy(asBytes(rawNpy("{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }",
                                     std::string("\x12\x34\x00\x01", 4))));
    QVERIFY(u);
    QCOMPARE(u->toInt64(), (std::vector<int64_t>{0x1234, 1}));
    // '>' on a one-byte type and '=' (native) are accepted as they are.
    auto b = parseNpy(asBytes(rawNpy("{'descr': '>i1', 'fortran_order': False, 'shape': (2,), }",
                                     std::string("\xff\x02", 2))));
    QVERIFY(b);
    QCOMPARE(b->toInt64(), (std::vector<int64_t>{-1, 2}));
    auto n = parseNpy(asBytes(rawNpy("{'descr': '=i2', 'fortran_order': False, 'shape': (1,), }",
                                     std::string("\x05\x01", 2))));
    QVERIFY(n);
    QCOMPARE(n->valueAsInt(0), int64_t(0x105));
    // Bool bytes other than 0/1 (a hostile or sloppy writer) read as true.
    auto bo = parseNpy(asBytes(rawNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                      std::string("\x00\x07\x01", 3))));
    QVERIFY(bo);
    QCOMPARE(std::to_integer<int>(bo->bytes()[1]), 1);
    // Keys in another order, double quotes, no trailing comma, Python 2 long suffix.
    auto k = parseNpy(asBytes(rawNpy("{\"shape\": (2L, 1), \"fortran_order\": False, \"descr\": \"<i4\"}",
                                     std::string(8, '\0'))));
    QVERIFY2(k, k ? "" : k.error().toString().c_str());
    QCOMPARE(k->dims, (std::vector<int64_t>{2, 1}));
}

void TestNpy::numpyCrossCheck_data() {
    QTest::addColumn<QString>("descr");
    QTest::addColumn<DataType>("dtype");
    for (const DtypeRow& r : kDtypes)
        QTest::newRow(r.descr) << QString(r.descr) << r.dtype;
}

// numpy writes np_<code>.npy (+ its values as text); we read and compare. We write
// ours_<code>.npy; numpy loads it and checks dtype, shape and values.
void TestNpy::numpyCrossCheck() {
    QFETCH(QString, descr);
    QFETCH(DataType, dtype);
    if (!hasNumpy()) QSKIP("[ew-skip] /usr/bin/python3 with numpy not available");
    QTemporaryDir dir;
    QString code = descr.mid(1);
    Tensor ours = makeTensor(dtype, {2, 3, 4}, [&](int64_t i) { return expectedValue(dtype, i); });
    QVERIFY(writeNpy(dir.filePath("ours.npy").toStdString(), ours));

    const char* script = R"PY(
import sys, numpy as np
d, descr = sys.argv[1], sys.argv[2]
i = np.arange(24).reshape(2, 3, 4)
k, w = descr[1], descr[2]
if k == 'f': v = i * 0.5 - 3
elif k == 'b': v = i % 3 == 0
elif k == 'i': v = (i - 12) * (1000000007 if w == '8' else 1)
else: v = i * (1000000007 if w == '8' else 3)
v = v.astype(np.dtype(descr))
np.save(d + '/np.npy', v)
with open(d + '/np.txt', 'w') as f:
    f.write('\n'.join(repr(float(x)) for x in v.ravel().tolist()))
o = np.load(d + '/ours.npy')
ok = o.dtype == v.dtype and o.shape == v.shape and np.array_equal(o, v) and o.flags['C_CONTIGUOUS']
print('ours-ok' if ok else 'ours-bad dtype=%s shape=%s' % (o.dtype, o.shape))
)PY";
    QProcess p;
    p.start("/usr/bin/python3", {"-c", script, dir.path(), descr});
    QVERIFY(p.waitForFinished(60000));
    QString out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    QVERIFY2(p.exitCode() == 0, qPrintable(QString::fromUtf8(p.readAllStandardError())));
    QCOMPARE(out, QString("ours-ok"));

    auto t = readNpy(dir.filePath("np.npy").toStdString());
    QVERIFY2(t, t ? "" : t.error().toString().c_str());
    QCOMPARE(t->dtype, dtype);
    QCOMPARE(t->dims, (std::vector<int64_t>{2, 3, 4}));
    std::ifstream txt(dir.filePath("np.txt").toStdString());
    std::string line;
    int64_t idx = 0;
    while (std::getline(txt, line)) {
        double want = std::stod(line);
        QCOMPARE(t->valueAsDouble(idx), want);
        QCOMPARE(want, expectedValue(dtype, idx));
        ++idx;
    }
    QCOMPARE(idx, int64_t(24));
}

// Format versions 2.0 and 3.0, big-endian and fortran-ordered files as numpy writes them.
void TestNpy::numpyVariants() {
    if (!hasNumpy()) QSKIP("[ew-skip] /usr/bin/python3 with numpy not available");
    QTemporaryDir dir;
    const char* script = R"PY(
import sys, numpy as np
from numpy.lib import format as F
d = sys.argv[1]
a = (np.arange(6, dtype=np.float32) * 1.25).reshape(2, 3)
for ver in [(1, 0), (2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % ver[0], 'wb') as f:
        F.write_array(f, a, version=ver)
np.save(d + '/big.npy', a.astype('>f4'))
np.save(d + '/bigi.npy', np.array([1, -2, 70000], dtype='>i8'))
np.save(d + '/fortran.npy', np.asfortranarray(a))
np.save(d + '/complex.npy', np.zeros(2, dtype=np.complex64))
np.save(d + '/str.npy', np.array(['ab', 'c']))
np.save(d + '/rec.npy', np.zeros(2, dtype=[('x', '<f4'), ('y', '<i4')]))
)PY";
    QProcess p;
    p.start("/usr/bin/python3", {"-c", script, dir.path()});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, qPrintable(QString::fromUtf8(p.readAllStandardError())));
    std::vector<float> want{0, 1.25f, 2.5f, 3.75f, 5, 6.25f};
    for (const char* name : {"v1.npy", "v2.npy", "v3.npy", "big.npy"}) {
        auto t = readNpy(dir.filePath(name).toStdString());
        QVERIFY2(t, t ? name : t.error().toString().c_str());
        QCOMPARE(t->dims, (std::vector<int64_t>{2, 3}));
        QCOMPARE(t->toFloat(), want);
    }
    auto bi = readNpy(dir.filePath("bigi.npy").toStdString());
    QVERIFY(bi);
    QCOMPARE(bi->toInt64(), (std::vector<int64_t>{1, -2, 70000}));

    struct Bad {
        const char* file;
        const char* message;
    };
    for (Bad b : {Bad{"fortran.npy", "fortran_order .npy files are not supported"},
                  Bad{"complex.npy", "unsupported .npy dtype '<c8'"},
                  Bad{"str.npy", "unsupported .npy dtype '<U2'"},
                  Bad{"rec.npy", "structured .npy dtypes"}}) {
        std::string path = dir.filePath(b.file).toStdString();
        auto t = readNpy(path);
        QVERIFY2(!t, b.file);
        QCOMPARE(t.error().file, path);
        QVERIFY2(t.error().message.find(b.message) != std::string::npos, t.error().message.c_str());
        QCOMPARE(t.error().code, ew::StatusCode::Unsupported);
    }
}

void TestNpy::corrupt_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    auto row = [](const char* name, const std::string& bytes, const char* message) {
        QTest::newRow(name) << QByteArray(bytes.data(), qsizetype(bytes.size())) << QString(message);
    };
    const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const std::string data8(8, '\0');
    row("empty file", "", "not a .npy file");
    row("bad magic", "\x93NUMPZ\x01\x00\x00\x00", "not a .npy file");
    row("truncated preamble", std::string("\x93NUMPY\x01\x00\x05", 9), "truncated .npy header");
    row("version 4", rawNpy(ok, data8, 4), "unsupported .npy format version 4.0");
    row("header past end", std::string("\x93NUMPY\x01\x00\xff\x00{", 11),
        "header length 255 runs past the end of the file (11 bytes)");
    row("header length 4 GiB", std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12),
        "header length 4294967295 exceeds the limit of 65536");
    row("not a dict", rawNpy("['descr']", data8), "malformed .npy header (expected '{' at offset 0)");
    row("missing shape", rawNpy("{'descr': '<f4', 'fortran_order': False}", data8),
        "needs 'descr', 'fortran_order' and 'shape'");
    row("unknown key", rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data8),
        "unexpected key 'x'");
    row("duplicate key", rawNpy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", data8),
        "duplicate 'descr'");
    row("unterminated string", rawNpy("{'descr: '<f4'", data8), "expected ':'");
    row("text after dict", rawNpy(ok + " junk", data8), "text after the closing '}'");
    row("NUL in header", rawNpy(std::string("{'descr': '<f4'\0}", 17), data8), "NUL byte");
    row("fortran order", rawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data8),
        "fortran_order .npy files are not supported");
    row("fortran order not bool", rawNpy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", data8),
        "expected True or False");
    row("object dtype", rawNpy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data8),
        "unsupported .npy dtype '|O'");
    row("complex dtype", rawNpy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data8),
        "unsupported .npy dtype '<c8'");
    row("pipe on f4", rawNpy("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", data8),
        "byte order '|' is only for one-byte types");
    row("structured", rawNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data8),
        "structured .npy dtypes");
    row("negative dim", rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", data8),
        "expected a dimension (non-negative integer)");
    row("dim overflows int64", rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", data8),
        "expected a dimension");
    row("element count overflow",
        rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", data8),
        "bad .npy shape: dimensions [4294967296,4294967296,4294967296] overflow");
    row("huge but in range", rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", data8),
        "truncated .npy data: shape [1099511627776] of float64 needs 8796093022208 bytes, the file has 8");
    std::string rank65 = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (int i = 0; i < 65; ++i)
        rank65 += "1,";
    row("rank 65", rawNpy(rank65 + "), }", data8), "more than 64 dimensions");
    row("shape not a tuple", rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", data8),
        "expected '(' for the shape");
    row("truncated data", rawNpy(ok, std::string(7, '\0')),
        "truncated .npy data: shape [2] of float32 needs 8 bytes, the file has 7");
    row("trailing bytes", rawNpy(ok, std::string(9, '\0')), "1 unexpected bytes after the .npy array data");
}

void TestNpy::corrupt() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QString path = dir.filePath("bad.npy");
    writeFile(path, bytes.toStdString());
    auto t = readNpy(path.toStdString());
    QVERIFY(!t);
    QCOMPARE(t.error().file, path.toStdString());
    QVERIFY2(t.error().toString().find(path.toStdString()) == 0, t.error().toString().c_str());
    QVERIFY2(t.error().message.find(message.toStdString()) != std::string::npos,
             t.error().message.c_str());
    // The in-memory parser gives the same verdict, naming its source.
    auto m = parseNpy(std::span(reinterpret_cast<const std::byte*>(bytes.constData()),
                                std::size_t(bytes.size())),
                      "input.npy");
    QVERIFY(!m);
    QCOMPARE(m.error().file, std::string("input.npy"));
    QCOMPARE(m.error().message, t.error().message);
}

void TestNpy::writeErrors() {
    QTemporaryDir dir;
    Tensor bf = Tensor::fromBytes("w", DataType::BFloat16, {2}, std::string(4, '\0'));
    std::string path = dir.filePath("bf.npy").toStdString();
    auto r = writeNpy(path, bf);
    QVERIFY(!r);
    QCOMPARE(r.error().code, ew::StatusCode::Unsupported);
    QCOMPARE(r.error().file, path);
    QVERIFY(!std::filesystem::exists(path));
    QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).isEmpty());

    Tensor f = makeTensor(DataType::Float, {2}, [](int64_t i) { return double(i); });
    auto missing = writeNpy(dir.filePath("no/such/folder/x.npy").toStdString(), f);
    QVERIFY(!missing);
    QCOMPARE(missing.error().code, ew::StatusCode::IoError);

    auto absent = readNpy(dir.filePath("absent.npy").toStdString());
    QVERIFY(!absent);
    QCOMPARE(absent.error().code, ew::StatusCode::IoError);
    QCOMPARE(absent.error().file, dir.filePath("absent.npy").toStdString());

    // Overwriting replaces the whole file.
    std::string out = dir.filePath("o.npy").toStdString();
    QVERIFY(writeNpy(out, makeTensor(DataType::Float, {100}, [](int64_t) { return 1.0; })));
    QVERIFY(writeNpy(out, f));
    auto back = readNpy(out);
    QVERIFY(back);
    QCOMPARE(back->dims, (std::vector<int64_t>{2}));
}

QTEST_GUILESS_MAIN(TestNpy)
#include "tst_npy.moc"
