// edgewise-cli end to end: exit codes, help, inspect --json on real models, convert's refusal
// to overwrite its input and the round trip through convert.
#include "test_util.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// CTest sets EW_BIN_DIR; run by hand, the CLI sits in ../bin next to tests/.
QString cliPath() {
    QString dir = ew::test::binDir();
    if (dir.isEmpty()) dir = QCoreApplication::applicationDirPath() + "/../bin";
    return QDir(dir).absoluteFilePath("edgewise-cli");
}

Run runCli(const QStringList& args) {
    QProcess p;
    p.start(cliPath(), args);
    Run r;
    if (!p.waitForStarted(10000)) {
        r.err = "could not start " + cliPath().toUtf8();
        return r;
    }
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QString modelPath(const char* rel) {
    return ew::test::modelsDir() + "/" + rel;
}

QByteArray sha256(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

QJsonObject inspectJson(const QString& path) {
    Run r = runCli({"inspect", "--json", path});
    if (r.exitCode != 0) qWarning("inspect failed (%d): %s", r.exitCode, r.err.constData());
    return QJsonDocument::fromJson(r.out).object();
}

// Dropped before comparing two inspections of what should be the same model.
QJsonObject withoutFileFields(QJsonObject o) {
    o.remove("path");
    o.remove("file_bytes");
    return o;
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void usageErrors_data();
    void usageErrors();
    void helpAndVersion_data();
    void helpAndVersion();
    void listFormats();
    void missingModel();
    void corruptModel_data();
    void corruptModel();
    void inspectJsonRealModels_data();
    void inspectJsonRealModels();
    void inspectText();
    void dumpText();
    void inspectBatch();
    void convertRefusesToOverwriteInput();
    void convertRoundTrip();

  private:
    QTemporaryDir m_tmp;
};

void TestCli::initTestCase() {
    QVERIFY2(QFileInfo(cliPath()).isExecutable(), qPrintable("no edgewise-cli at " + cliPath()));
    QVERIFY(m_tmp.isValid());
}

void TestCli::usageErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("stderrHas");
    QTest::newRow("no command") << QStringList{} << "no command";
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command 'frobnicate'";
    QTest::newRow("unknown top option") << QStringList{"--frob"} << "unknown option '--frob'";
    QTest::newRow("inspect no model") << QStringList{"inspect"} << "missing argument";
    QTest::newRow("inspect unknown option")
        << QStringList{"inspect", "--xml", "m.onnx"} << "unknown option '--xml'";
    QTest::newRow("flag with value")
        << QStringList{"inspect", "--json=yes", "m.onnx"} << "takes no value";
    QTest::newRow("convert no output") << QStringList{"convert", "m.onnx"} << "missing -o";
    QTest::newRow("convert -o no value")
        << QStringList{"convert", "m.onnx", "-o"} << "needs a value";
    QTest::newRow("convert two inputs")
        << QStringList{"convert", "a.onnx", "b.onnx", "-o", "c.onnx"}
        << "unexpected argument 'b.onnx'";
    QTest::newRow("convert unknown ext")
        << QStringList{"convert", "m.onnx", "-o", "m.xyz"} << "cannot tell the output format";
}

void TestCli::usageErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, stderrHas);
    Run r = runCli(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.startsWith("edgewise-cli: "), r.err.constData());
    QVERIFY2(r.err.contains(stderrHas.toUtf8()), r.err.constData());
    QVERIFY(r.out.isEmpty());
}

void TestCli::helpAndVersion_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("stdoutHas");
    QTest::newRow("--help") << QStringList{"--help"} << "Commands:";
    QTest::newRow("-h") << QStringList{"-h"} << "inspect";
    QTest::newRow("help inspect") << QStringList{"help", "inspect"}
                                  << "Usage: edgewise-cli inspect";
    QTest::newRow("inspect --help") << QStringList{"inspect", "--help"} << "--json";
    QTest::newRow("inspect -h mentions batch")
        << QStringList{"inspect", "-h"} << "JSON output is an array";
    QTest::newRow("convert --help")
        << QStringList{"convert", "--help"} << "Usage: edgewise-cli convert IN -o OUT";
    QTest::newRow("--version") << QStringList{"--version"} << "edgewise-cli 0.";
}

void TestCli::helpAndVersion() {
    QFETCH(QStringList, args);
    QFETCH(QString, stdoutHas);
    Run r = runCli(args);
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains(stdoutHas.toUtf8()), r.out.constData());
    QVERIFY(r.err.isEmpty());
}

void TestCli::listFormats() {
    Run r = runCli({"--list-formats"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("ONNX") && r.out.contains(".onnx"), r.out.constData());
}

void TestCli::missingModel() {
    QString path = m_tmp.filePath("does-not-exist.onnx");
    for (const QStringList& args :
         {QStringList{"inspect", path}, QStringList{"inspect", "--json", path},
          QStringList{"convert", path, "-o", m_tmp.filePath("x.onnx")}}) {
        Run r = runCli(args);
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.startsWith("edgewise-cli: " + path.toUtf8()), r.err.constData());
        QVERIFY(r.out.isEmpty());
    }
    QVERIFY(!QFileInfo::exists(m_tmp.filePath("x.onnx")));
}

void TestCli::corruptModel_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("name");
    QTest::newRow("text") << QByteArray("this is not a model\n") << "text.onnx";
    QTest::newRow("empty") << QByteArray() << "empty.onnx";
    QByteArray junk;
    for (int i = 0; i < 4096; ++i)
        junk.append(char((i * 7919 + 13) & 0xFF));
    QTest::newRow("junk") << junk << "junk.onnx";
    QFile mnist(modelPath("onnx/ort-testdata/mnist.onnx"));
    if (mnist.open(QIODevice::ReadOnly)) {
        QByteArray all = mnist.readAll();
        QTest::newRow("truncated mnist") << all.left(all.size() / 2) << "truncated.onnx";
    }
}

void TestCli::corruptModel() {
    QFETCH(QByteArray, content);
    QFETCH(QString, name);
    QString path = m_tmp.filePath(name);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
    f.close();
    Run r = runCli({"inspect", "--json", path});
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.err.startsWith("edgewise-cli: " + path.toUtf8()), r.err.constData());
    QVERIFY(r.out.isEmpty());
    // convert fails the same way and writes nothing.
    QString out = m_tmp.filePath("from-" + name);
    Run c = runCli({"convert", path, "-o", out});
    QCOMPARE(c.exitCode, 3);
    QVERIFY(!QFileInfo::exists(out));
}

void TestCli::inspectJsonRealModels_data() {
    QTest::addColumn<QString>("rel");
    QTest::addColumn<int>("irVersion");
    QTest::addColumn<int>("opset");
    QTest::addColumn<QString>("producer");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QVariantList>("inputShape");
    QTest::addColumn<QVariantMap>("histogram");
    QTest::addColumn<qint64>("params");
    QTest::addColumn<qint64>("paramBytes");
    QTest::addColumn<qint64>("macs");
    // Values from python3-onnx; MACs by hand: 8*28*28*25 + 16*14*14*200 + 256*10.
    QTest::newRow("mnist") << "onnx/ort-testdata/mnist.onnx" << 3 << 8 << "CNTK 2.5.1"
                           << "Input3" << QVariantList{1, 1, 28, 28}
                           << QVariantMap{{"Add", 3},  {"Reshape", 2}, {"Conv", 2},
                                          {"Relu", 2}, {"MaxPool", 2}, {"MatMul", 1}}
                           << qint64(5998) << qint64(5994 * 4 + 2 * 2 * 8) << qint64(786560);
    // Per sample (N symbolic): 16*64*9 + 32*64*144 + 32*16*288 + 128*64 + 64*10.
    QTest::newRow("digits_cnn")
        << "onnx/digits-cnn/digits_cnn.onnx" << 7 << 13 << "pytorch 1.13.0"
        << "input" << QVariantList{"N", 1, 8, 8}
        << QVariantMap{{"Relu", 4}, {"Conv", 3}, {"MaxPool", 2}, {"Gemm", 2}, {"Flatten", 1}}
        << qint64(22954) << qint64(22954 * 4) << qint64(460416);
}

void TestCli::inspectJsonRealModels() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, rel);
    QFETCH(int, irVersion);
    QFETCH(int, opset);
    QFETCH(QString, producer);
    QFETCH(QString, input);
    QFETCH(QVariantList, inputShape);
    QFETCH(QVariantMap, histogram);
    QFETCH(qint64, params);
    QFETCH(qint64, paramBytes);
    QFETCH(qint64, macs);
    QString path = modelPath(rel.toUtf8().constData());
    Run r = runCli({"inspect", "--json", path});
    QCOMPARE(r.exitCode, 0);
    QJsonParseError err{};
    QJsonObject o = QJsonDocument::fromJson(r.out, &err).object();
    QCOMPARE(err.error, QJsonParseError::NoError);
    for (const char* k :
         {"format", "ir_version", "opsets", "producer", "inputs", "outputs", "node_count",
          "op_histogram", "parameter_count", "parameter_bytes", "macs"})
        QVERIFY2(o.contains(k), k);
    QCOMPARE(o["format"].toString(), QString("onnx"));
    QCOMPARE(o["ir_version"].toInt(), irVersion);
    QCOMPARE(o["opsets"].toObject().toVariantMap(), (QVariantMap{{"ai.onnx", opset}}));
    QCOMPARE(o["producer"].toString(), producer);
    QJsonArray inputs = o["inputs"].toArray();
    QCOMPARE(inputs.size(), 1); // initializers listed as inputs are not inputs
    QCOMPARE(inputs[0].toObject()["name"].toString(), input);
    QCOMPARE(inputs[0].toObject()["dtype"].toString(), QString("float32"));
    QCOMPARE(inputs[0].toObject()["shape"].toArray().toVariantList(), inputShape);
    QCOMPARE(o["outputs"].toArray().size(), 1);
    int nodes = 0;
    for (const QVariant& v : histogram)
        nodes += v.toInt();
    QCOMPARE(o["node_count"].toInt(), nodes);
    QCOMPARE(o["op_histogram"].toObject().toVariantMap(), histogram);
    QCOMPARE(o["parameter_count"].toInteger(), params);
    QCOMPARE(o["parameter_bytes"].toInteger(), paramBytes);
    QCOMPARE(o["macs"].toInteger(), macs);
    QCOMPARE(o["path"].toString(), path);
}

void TestCli::inspectText() {
    EW_REQUIRE_MODELS();
    Run r = runCli({"inspect", modelPath("onnx/ort-testdata/mnist.onnx")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("MACs:        786,560"), r.out.constData());
    QVERIFY(r.out.contains("Input3: float32[1,1,28,28]"));
    QVERIFY(r.out.contains("parameters:  5,998"));
}

void TestCli::dumpText() {
    // The sample ships with the repo, so this runs without the shared models too.
    const QString sample = ew::test::sourceDir() + "/resources/samples/digits_cnn.onnx";
    Run r = runCli({"dump", sample});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("model ir=7"), r.out.left(200).constData());
    QVERIFY(r.out.contains("graph \"torch_jit\" {"));
    QVERIFY(r.out.contains("= Conv(%input, "));
    QVERIFY(r.out.contains("kernel_shape=[3,3]"));
    QVERIFY(r.out.contains("output %logits : float32[N,10]"));
    QCOMPARE(r.out.count(" = Relu("), 4);
    Run bad = runCli({"dump", sample, "--max-inline", "lots"});
    QCOMPARE(bad.exitCode, 2);
}

void TestCli::inspectBatch() {
    EW_REQUIRE_MODELS();
    QString a = modelPath("onnx/ort-testdata/mnist.onnx");
    QString missing = m_tmp.filePath("missing.onnx");
    QString b = modelPath("onnx/digits-cnn/digits_cnn.onnx");
    Run r = runCli({"inspect", "--json", a, missing, b});
    QCOMPARE(r.exitCode, 3); // the first failure's code; the others were still inspected
    QJsonParseError err{};
    QJsonArray arr = QJsonDocument::fromJson(r.out, &err).array();
    QCOMPARE(err.error, QJsonParseError::NoError);
    QCOMPARE(arr.size(), 3);
    QCOMPARE(arr[0].toObject()["path"].toString(), a);
    QCOMPARE(arr[0].toObject()["node_count"].toInt(), 12);
    QCOMPARE(arr[1].toObject()["path"].toString(), missing);
    QCOMPARE(arr[1].toObject()["exit_code"].toInt(), 3);
    QVERIFY(arr[1].toObject()["error"].toString().contains("missing.onnx"));
    QCOMPARE(arr[2].toObject()["node_count"].toInt(), 12);
    // Each batch entry equals the single-file output.
    QCOMPARE(arr[2].toObject(), inspectJson(b));
}

void TestCli::convertRefusesToOverwriteInput() {
    EW_REQUIRE_MODELS();
    QString in = m_tmp.filePath("in.onnx");
    QFile::remove(in);
    QVERIFY(QFile::copy(modelPath("onnx/ort-testdata/mnist.onnx"), in));
    QVERIFY(QFile::link(in, m_tmp.filePath("link.onnx")));
    QByteArray before = sha256(in);
    QDateTime mtime = QFileInfo(in).lastModified();
    const QString dotted = m_tmp.path() + "/./in.onnx";
    for (const QString& out : {in, dotted, m_tmp.filePath("link.onnx")}) {
        Run r = runCli({"convert", in, "-o", out});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("refusing to overwrite the input model"), r.err.constData());
    }
    QCOMPARE(sha256(in), before);
    QCOMPARE(QFileInfo(in).lastModified(), mtime);
    QVERIFY(QFileInfo(m_tmp.filePath("link.onnx")).isSymLink());
    // No temporary files were left next to it either.
    QCOMPARE(QDir(m_tmp.path()).entryList(QDir::Files | QDir::Hidden).filter(".tmp").size(), 0);
}

void TestCli::convertRoundTrip() {
    EW_REQUIRE_MODELS();
    for (const char* rel : {"onnx/ort-testdata/mnist.onnx", "onnx/digits-cnn/digits_cnn.onnx",
                            "onnx/silero-vad/silero_vad_16k_op15.onnx"}) {
        QString in = modelPath(rel);
        QString out = m_tmp.filePath(QFileInfo(in).fileName());
        QByteArray before = sha256(in);
        Run r = runCli({"convert", in, "-o", out});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("wrote"), r.out.constData());
        QVERIFY(QFileInfo(out).size() > 0);
        QCOMPARE(sha256(in), before);
        QJsonObject a = inspectJson(in);
        QJsonObject b = inspectJson(out);
        QVERIFY(!a.isEmpty());
        QCOMPARE(withoutFileFields(b), withoutFileFields(a));
        // Converting the conversion again changes nothing either.
        QString out2 = m_tmp.filePath("again-" + QFileInfo(in).fileName());
        QCOMPARE(runCli({"convert", out, "-o", out2}).exitCode, 0);
        QCOMPARE(withoutFileFields(inspectJson(out2)), withoutFileFields(a));
    }
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
