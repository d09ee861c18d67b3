// Hostile and broken model files: each gets a clear error that names the file (and node where
// there is one), a non-zero status, and never a crash. The input file is never modified.
#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "ir/verifier.h"
#include "test_util.h"

#include <onnx/onnx_pb.h>

#include <QCryptographicHash>
#include <QTemporaryDir>

#include <random>

using namespace ew;

namespace {

onnx::ModelProto tinyModel() {
    // y = Relu(x + w), w an initializer.
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(13);
    auto* g = m.mutable_graph();
    g->set_name("tiny");
    auto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->add_float_data(1.f);
    w->add_float_data(2.f);
    auto addVi = [](onnx::ValueInfoProto* vi, const char* name) {
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        tt->mutable_shape()->add_dim()->set_dim_value(2);
    };
    addVi(g->add_input(), "x");
    addVi(g->add_output(), "y");
    auto* add = g->add_node();
    add->set_name("add0");
    add->set_op_type("Add");
    add->add_input("x");
    add->add_input("w");
    add->add_output("s");
    auto* relu = g->add_node();
    relu->set_name("relu0");
    relu->set_op_type("Relu");
    relu->add_input("s");
    relu->add_output("y");
    return m;
}

QByteArray bytesOf(const onnx::ModelProto& m) {
    std::string s = m.SerializeAsString();
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

QByteArray sha(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

} // namespace

class TestBadInput : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void validBaselineLoads();
    void rejects_data();
    void rejects();
    void externalData_data();
    void externalData();
    void bitFlipsNeverCrash();
    void truncationsNeverCrash();

private:
    QString write(const QString& name, const QByteArray& bytes) {
        QString p = m_dir.path() + "/" + name;
        QFile f(p);
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write(bytes);
        return p;
    }
    QTemporaryDir m_dir;
};

void TestBadInput::validBaselineLoads() {
    QString p = write("tiny.onnx", bytesOf(tinyModel()));
    auto m = ir::loadModel(p.toStdString());
    QVERIFY2(m.has_value(), qPrintable(QString::fromStdString(m ? "" : m.error().toString())));
    QCOMPARE((*m)->graph->nodeCount(), std::size_t(2));
}

void TestBadInput::rejects_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expectInMessage");
    QTest::addColumn<QString>("expectNode");

    QTest::newRow("empty file") << QByteArray() << "empty" << "";
    {
        QByteArray b = bytesOf(tinyModel());
        QTest::newRow("truncated file") << b.left(b.size() / 2) << "" << "";
    }
    {
        std::mt19937 rng(1234);
        QByteArray b(4096, 0);
        for (auto& c : b) c = static_cast<char>(rng());
        QTest::newRow("random bytes") << b << "" << "";
    }
    {
        QByteArray b("\x1c\x00\x00\x00TFL3\x00\x00\x00\x00\x00\x00\x00\x00", 16);
        b.append(QByteArray(256, '\x01'));
        QTest::newRow("TFLite file given as ONNX") << b << "TFLite" << "";
    }
    {
        auto m = tinyModel();
        auto* w = m.mutable_graph()->mutable_initializer(0);
        w->clear_dims();
        w->add_dims(int64_t(1) << 40);
        w->add_dims(int64_t(1) << 40);
        QTest::newRow("dims that overflow") << bytesOf(m) << "overflow" << "";
    }
    {
        auto m = tinyModel();
        auto* w = m.mutable_graph()->mutable_initializer(0);
        w->clear_dims();
        w->add_dims(100000);
        w->add_dims(100000);
        w->add_dims(100);
        QTest::newRow("absurd allocation with no data") << bytesOf(m) << "w" << "";
    }
    {
        auto m = tinyModel();
        auto* w = m.mutable_graph()->mutable_initializer(0);
        w->clear_float_data();
        w->set_raw_data(std::string(7, '\0'));
        QTest::newRow("raw data size mismatch") << bytesOf(m) << "raw data" << "";
    }
    {
        auto m = tinyModel();
        m.mutable_graph()->mutable_initializer(0)->add_dims(-3);
        QTest::newRow("negative dimension") << bytesOf(m) << "negative" << "";
    }
    {
        auto m = tinyModel();
        m.mutable_graph()->mutable_initializer(0)->set_data_type(99);
        QTest::newRow("unknown data type") << bytesOf(m) << "data type" << "";
    }
    {
        auto m = tinyModel();
        auto* g = m.mutable_graph();
        g->mutable_node(0)->set_input(0, "y"); // add0 consumes relu0's output: a cycle
        QTest::newRow("cycle") << bytesOf(m) << "cycle" << "";
    }
    {
        auto m = tinyModel();
        m.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
        QTest::newRow("undefined input") << bytesOf(m) << "nowhere" << "relu0";
    }
    {
        auto m = tinyModel();
        m.mutable_graph()->mutable_node(1)->set_output(0, "s");
        QTest::newRow("duplicate value name") << bytesOf(m) << "more than once" << "relu0";
    }
    {
        auto m = tinyModel();
        *m.mutable_graph()->add_initializer() = m.graph().initializer(0);
        QTest::newRow("duplicate initializer") << bytesOf(m) << "more than once" << "";
    }
    {
        auto m = tinyModel();
        m.mutable_graph()->mutable_output(0)->set_name("missing_output");
        QTest::newRow("output never produced") << bytesOf(m) << "missing_output" << "";
    }
    {
        auto m = tinyModel();
        m.clear_graph();
        QTest::newRow("no graph") << bytesOf(m) << "no graph" << "";
    }
    {
        auto m = tinyModel();
        m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(1000);
        QTest::newRow("bad element type") << bytesOf(m) << "element type" << "";
    }
    {
        // An If whose then-branch reads a value that exists nowhere.
        auto m = tinyModel();
        auto* n = m.mutable_graph()->add_node();
        n->set_name("if0");
        n->set_op_type("If");
        n->add_input("x");
        n->add_output("z");
        auto* a = n->add_attribute();
        a->set_name("then_branch");
        a->set_type(onnx::AttributeProto::GRAPH);
        auto* body = a->mutable_g();
        body->set_name("then");
        auto* bn = body->add_node();
        bn->set_op_type("Identity");
        bn->set_name("inner");
        bn->add_input("ghost");
        bn->add_output("t");
        body->add_output()->set_name("t");
        QTest::newRow("undefined input in subgraph") << bytesOf(m) << "ghost" << "inner";
    }
}

void TestBadInput::rejects() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expectInMessage);
    QFETCH(QString, expectNode);
    QString p = write(QString("bad_%1.onnx").arg(QTest::currentDataTag()).replace(' ', '_'), bytes);
    QVERIFY(!p.isEmpty());
    const QByteArray before = sha(p);
    auto m = ir::loadModel(p.toStdString());
    QVERIFY2(!m.has_value(), "a bad file was accepted");
    const Status& s = m.error();
    const QString text = QString::fromStdString(s.toString());
    qInfo("%s", qPrintable(text));
    QVERIFY(s.code != StatusCode::Ok);
    QVERIFY(s.code == StatusCode::InvalidInput || s.code == StatusCode::Unsupported);
    QCOMPARE(QString::fromStdString(s.file), p); // the error names the file
    if (!expectInMessage.isEmpty()) QVERIFY2(text.contains(expectInMessage, Qt::CaseInsensitive), qPrintable(text));
    if (!expectNode.isEmpty()) QVERIFY2(QString::fromStdString(s.node).contains(expectNode), qPrintable(text));
    QCOMPARE(sha(p), before); // the input is untouched
}

void TestBadInput::externalData_data() {
    QTest::addColumn<QString>("offset");
    QTest::addColumn<QString>("length");
    QTest::addColumn<QString>("location");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("expect");
    QTest::newRow("valid") << "0" << "8" << "w.bin" << true << "";
    QTest::newRow("valid, offset omitted") << "" << "8" << "w.bin" << true << "";
    QTest::newRow("negative offset") << "-8" << "8" << "w.bin" << false << "offset";
    QTest::newRow("offset not a number") << "12abc" << "8" << "w.bin" << false << "offset";
    QTest::newRow("range past end of file") << "4096" << "8" << "w.bin" << false << "outside";
    QTest::newRow("wrong length") << "0" << "12" << "w.bin" << false << "length";
    QTest::newRow("missing file") << "0" << "8" << "nope.bin" << false << "nope.bin";
    QTest::newRow("location escapes folder") << "0" << "8" << "../w.bin" << false << "outside";
    QTest::newRow("absolute location") << "0" << "8" << "/etc/passwd" << false << "relative";
    QTest::newRow("no location") << "0" << "8" << "" << false << "location";
}

void TestBadInput::externalData() {
    QFETCH(QString, offset);
    QFETCH(QString, length);
    QFETCH(QString, location);
    QFETCH(bool, ok);
    QFETCH(QString, expect);
    const float vals[2] = {3.f, 4.f};
    write("w.bin", QByteArray(reinterpret_cast<const char*>(vals), sizeof vals));
    auto m = tinyModel();
    auto* w = m.mutable_graph()->mutable_initializer(0);
    w->clear_float_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const char* k, const QString& v) {
        if (v.isEmpty()) return;
        auto* e = w->add_external_data();
        e->set_key(k);
        e->set_value(v.toStdString());
    };
    add("location", location);
    add("offset", offset);
    add("length", length);
    QString p = write("ext.onnx", bytesOf(m));
    auto r = ir::loadModel(p.toStdString());
    if (ok) {
        QVERIFY2(r.has_value(), qPrintable(QString::fromStdString(r ? "" : r.error().toString())));
        const ir::Tensor& t = *(*r)->graph->initializers[0]->initializer;
        QVERIFY(t.external.has_value());
        QCOMPARE(t.toFloat(), std::vector<float>({3.f, 4.f}));
    } else {
        QVERIFY(!r.has_value());
        const QString text = QString::fromStdString(r.error().toString());
        qInfo("%s", qPrintable(text));
        QVERIFY2(text.contains(expect, Qt::CaseInsensitive), qPrintable(text));
        QVERIFY(text.contains("ext.onnx"));
    }
}

void TestBadInput::bitFlipsNeverCrash() {
    // Seeded corruption of a valid model: every variant either loads (and verifies) or fails
    // with an error naming the file. Reaching the end without a crash is the point.
    QByteArray base = bytesOf(tinyModel());
    QString real;
    if (!test::modelsDir().isEmpty()) {
        QFile f(test::modelsDir() + "/onnx/ort-testdata/mnist.onnx");
        if (f.open(QIODevice::ReadOnly)) base = f.readAll();
    }
    std::mt19937 rng(42);
    int loaded = 0, rejected = 0;
    for (int iter = 0; iter < 300; ++iter) {
        QByteArray b = base;
        int flips = 1 + static_cast<int>(rng() % 8);
        for (int k = 0; k < flips; ++k) b[static_cast<qsizetype>(rng() % b.size())] ^= static_cast<char>(1u << (rng() % 8));
        QString p = write("flip.onnx", b);
        auto m = ir::loadModel(p.toStdString());
        if (m) {
            ++loaded;
            QVERIFY(ir::verify(**m).has_value());
        } else {
            ++rejected;
            QCOMPARE(QString::fromStdString(m.error().file), p);
            QVERIFY(!m.error().message.empty());
        }
    }
    qInfo("bit flips: %d loaded, %d rejected with an error", loaded, rejected);
    QCOMPARE(loaded + rejected, 300);
    QVERIFY(rejected > 0);
}

void TestBadInput::truncationsNeverCrash() {
    QByteArray base = bytesOf(tinyModel());
    int rejected = 0;
    for (qsizetype n = 0; n < base.size(); ++n) {
        QString p = write("trunc.onnx", base.left(n));
        auto m = ir::loadModel(p.toStdString());
        if (!m) {
            ++rejected;
            QCOMPARE(QString::fromStdString(m.error().file), p);
        }
    }
    // Every strict prefix of a model whose last field is needed must be rejected.
    QCOMPARE(rejected, static_cast<int>(base.size()));
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_bad_input.moc"
