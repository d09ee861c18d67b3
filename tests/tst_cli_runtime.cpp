// edgewise-cli run / bench / conformance end to end (QProcess): outputs of the bundled samples
// against their ONNX test data, random-fill notes, input errors and exit codes, bench JSON, and
// conformance counts and exit codes on synthetic test folders written here.
#include "test_util.h"

#include "common/file_util.h"
#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "ir/npy.h"
#include "ir/onnx/onnx_export.h"
#include "ir/onnx/onnx_import.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <cmath>

using namespace ew;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

QString cliPath() {
    QString dir = test::binDir();
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
    if (!p.waitForFinished(300000)) {
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

QString samplePath(const char* name) {
    QString src = test::sourceDir();
    if (src.isEmpty()) src = QCoreApplication::applicationDirPath() + "/../..";
    return QDir(src).absoluteFilePath(QString("resources/samples/") + name);
}

/// Empty when `got` matches `want` (same dtype and dims, |a - b| <= atol + rtol |b|).
QString compareTensors(const ir::Tensor& got, const ir::Tensor& want, double rtol, double atol) {
    if (got.dtype != want.dtype || got.dims != want.dims)
        return QString("type/shape differ: %1 vs %2")
            .arg(QString::fromStdString(got.shape().toString()),
                 QString::fromStdString(want.shape().toString()));
    for (int64_t i = 0; i < got.numElements(); ++i) {
        double a = got.valueAsDouble(i), b = want.valueAsDouble(i);
        if (!(std::abs(a - b) <= atol + rtol * std::abs(b)))
            return QString("element %1: got %2, want %3").arg(i).arg(a).arg(b);
    }
    return {};
}

void writeTensorPb(const QString& path, const ir::Tensor& t) {
    auto bytes = onnxfmt::serializeTensorProto(t);
    QVERIFY2(bytes.has_value(), bytes ? "" : bytes.error().toString().c_str());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes->data(), static_cast<qint64>(bytes->size()));
}

ir::Tensor floats(std::string name, std::vector<int64_t> dims, std::vector<float> v) {
    return ir::Tensor::fromVector(std::move(name), ir::DataType::Float, std::move(dims),
                                  std::move(v));
}

/// A one-node model: y = op(x) over float32[2,3], opset 13.
void writeUnaryModel(const QString& path, const std::string& op, const std::string& domain = {}) {
    ir::Model m;
    m.irVersion = 8;
    m.opsetImports = {{"", 13}};
    if (!domain.empty()) m.opsetImports.push_back({domain, 1});
    ir::Graph& g = *m.graph;
    g.name = "g";
    auto type = ir::Type::tensor(ir::DataType::Float, ir::Shape::of({2, 3}));
    ir::Value* x = *g.addValue("x", type);
    ir::Value* y = *g.addValue("y", type);
    g.addNode(op, domain, "n0", {x}, {y});
    g.inputs = {x};
    g.outputs = {y};
    auto r = ir::saveModel(m, test::str(path));
    QVERIFY2(r.has_value(), r ? "" : r.error().toString().c_str());
}

QJsonObject parseJson(const QByteArray& text) {
    QJsonParseError e;
    QJsonDocument d = QJsonDocument::fromJson(text, &e);
    if (e.error != QJsonParseError::NoError)
        qWarning("bad JSON (%s): %s", qPrintable(e.errorString()), text.left(400).constData());
    return d.object();
}

} // namespace

class TestCliRuntime : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void runMatchesTestData_data();
    void runMatchesTestData();
    void runNpyInputAndPbOutput();
    void runRandomFill_data();
    void runRandomFill();
    void runInputErrors_data();
    void runInputErrors();
    void runOutputNamesAreSanitized();
    void benchJson();
    void benchProfile();
    void benchText();
    void benchInt8();
    void conformanceSynthetic();
    void conformanceExpectations();
    void conformanceRealModelLayout();

  private:
    QString tmp(const QString& name) const { return m_tmp.filePath(name); }
    QTemporaryDir m_tmp;
};

void TestCliRuntime::initTestCase() {
    QVERIFY2(QFileInfo(cliPath()).isExecutable(), qPrintable("no edgewise-cli at " + cliPath()));
    QVERIFY(m_tmp.isValid());
    QVERIFY2(QFileInfo::exists(samplePath("mnist.onnx")), qPrintable(samplePath("mnist.onnx")));
}

void TestCliRuntime::runMatchesTestData_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("dataSet"); // relative to EW_MODELS_DIR
    QTest::addColumn<QString>("inputName");
    QTest::addColumn<QString>("outputName");
    QTest::newRow("digits_cnn") << samplePath("digits_cnn.onnx")
                                << "onnx/digits-cnn/test_data_set_0"
                                << "input"
                                << "logits";
    QTest::newRow("mnist") << samplePath("mnist.onnx") << "onnx/ort-testdata/mnist.test_data_set_0"
                           << "Input3"
                           << "Plus214_Output_0";
}

// The bundled samples give the reference outputs of their shared test data sets.
void TestCliRuntime::runMatchesTestData() {
    EW_REQUIRE_MODELS();
    QFETCH(QString, model);
    QFETCH(QString, dataSet);
    QFETCH(QString, inputName);
    QFETCH(QString, outputName);
    const QString dir = test::modelsDir() + "/" + dataSet;
    const QString outDir = tmp("out_" + QString(QTest::currentDataTag()));
    Run r = runCli({"run", model, "--input", inputName + "=" + dir + "/input_0.pb", "--output-dir",
                    outDir, "-t", "1"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(!r.err.contains("random"), r.err.constData()); // every input was given
    QVERIFY2(r.out.contains(outputName.toUtf8() + ": float32["), r.out.constData());
    QVERIFY2(r.out.contains("min ") && r.out.contains("max ") && r.out.contains("mean "),
             r.out.constData());
    auto got = ir::readNpy(test::str(outDir + "/" + outputName + ".npy"));
    QVERIFY2(got.has_value(), got ? "" : got.error().toString().c_str());
    auto want = onnxfmt::readTensorProtoFile(test::str(dir + "/output_0.pb"));
    QVERIFY(want.has_value());
    QString diff = compareTensors(*got, *want, 1e-3, 1e-4);
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
}

// A .npy input (written here from the .pb) gives the same outputs, and --output-format pb writes
// TensorProto files named after the output.
void TestCliRuntime::runNpyInputAndPbOutput() {
    EW_REQUIRE_MODELS();
    const QString dir = test::modelsDir() + "/onnx/digits-cnn/test_data_set_0";
    auto in = onnxfmt::readTensorProtoFile(test::str(dir + "/input_0.pb"));
    QVERIFY(in.has_value());
    const QString npy = tmp("digits_input.npy");
    QVERIFY(ir::writeNpy(test::str(npy), *in).has_value());
    const QString outDir = tmp("out_pb");
    // A bare FILE binds to the first input not yet given.
    Run r = runCli({"run", samplePath("digits_cnn.onnx"), "--input", npy, "-o", outDir,
                    "--output-format", "pb"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.out.contains("logits: float32[360,10]"), r.out.constData());
    auto got = onnxfmt::readTensorProtoFile(test::str(outDir + "/logits.pb"));
    QVERIFY2(got.has_value(), got ? "" : got.error().toString().c_str());
    QCOMPARE(QString::fromStdString(got->name), QString("logits"));
    auto want = onnxfmt::readTensorProtoFile(test::str(dir + "/output_0.pb"));
    QVERIFY(want.has_value());
    QString diff = compareTensors(*got, *want, 1e-3, 1e-4);
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
    QVERIFY(!QFileInfo::exists(outDir + "/logits.npy"));
}

void TestCliRuntime::runRandomFill_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("note");
    QTest::addColumn<QString>("outputLine");
    QTest::newRow("mnist static") << samplePath("mnist.onnx")
                                  << "input 'Input3' not given: filled with seeded random data "
                                     "(seed 1) of shape float32[1,1,28,28]"
                                  << "Plus214_Output_0: float32[1,10]";
    // digits_cnn's batch dimension is symbolic: it becomes 1 and the note says so.
    QTest::newRow("digits symbolic") << samplePath("digits_cnn.onnx")
                                     << "input 'input' not given: filled with seeded random data "
                                        "(seed 1) of shape float32[1,1,8,8]"
                                     << "logits: float32[1,10]";
}

void TestCliRuntime::runRandomFill() {
    QFETCH(QString, model);
    QFETCH(QString, note);
    QFETCH(QString, outputLine);
    Run r = runCli({"run", model});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains(note.toUtf8()), r.err.constData());
    if (QString(QTest::currentDataTag()).contains("symbolic"))
        QVERIFY2(r.err.contains("symbolic"), r.err.constData());
    QVERIFY2(r.out.contains(outputLine.toUtf8()), r.out.constData());
    // Seeded: the same summary twice; another seed gives other numbers.
    Run again = runCli({"run", model});
    QCOMPARE(again.out, r.out);
    Run seeded = runCli({"run", model, "--seed", "7"});
    QCOMPARE(seeded.exitCode, 0);
    QVERIFY(seeded.out != r.out);
    // -q silences the note, not the outputs.
    Run quiet = runCli({"-q", "run", model});
    QCOMPARE(quiet.exitCode, 0);
    QVERIFY2(quiet.err.isEmpty(), quiet.err.constData());
    QCOMPARE(quiet.out, r.out);
}

void TestCliRuntime::runInputErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QStringList>("stderrHas");
    const QString mnist = samplePath("mnist.onnx");
    // "@name" stands for a file runInputErrors writes before running the row.
    QTest::newRow("unknown input name")
        << QStringList{"run", mnist, "--input", "nope=@good"} << 2
        << QStringList{"no input named 'nope'", "Input3: float32[1,1,28,28]"};
    QTest::newRow("wrong shape") << QStringList{"run", mnist, "--input", "Input3=@small"} << 3
                                 << QStringList{"float32[1,1,8,8]",
                                                "expects Input3: float32[1,1,28,28]"};
    QTest::newRow("wrong dtype") << QStringList{"run", mnist, "--input", "Input3=@ints"} << 3
                                 << QStringList{"int64[1,1,28,28]",
                                                "expects Input3: float32[1,1,28,28]"};
    QTest::newRow("missing file") << QStringList{"run", mnist, "--input", "Input3=@missing"} << 3
                                  << QStringList{"no such file"};
    QTest::newRow("garbage file") << QStringList{"run", mnist, "--input", "Input3=@garbage"} << 3
                                  << QStringList{"neither .npy nor a TensorProto"};
    QTest::newRow("given twice") << QStringList{"run",          mnist,     "--input",
                                                "Input3=@good", "--input", "Input3=@good"}
                                 << 2 << QStringList{"given twice"};
    QTest::newRow("missing model")
        << QStringList{"run", "/nonexistent/m.onnx"} << 3 << QStringList{"no such file"};
    QTest::newRow("bad format") << QStringList{"run", mnist, "-o", "@dir", "--output-format", "csv"}
                                << 2 << QStringList{"npy or pb"};
    QTest::newRow("bad threads") << QStringList{"bench", mnist, "--threads", "0"} << 2
                                 << QStringList{"--threads"};
    QTest::newRow("bad runs") << QStringList{"bench", mnist, "--runs", "x"} << 2
                              << QStringList{"--runs"};
    QTest::newRow("bench wrong name")
        << QStringList{"bench", mnist, "--input", "x=@good"} << 2
        << QStringList{"no input named 'x'", "Input3: float32[1,1,28,28]"};
    QTest::newRow("conformance missing dir")
        << QStringList{"conformance", "/nonexistent/dir"} << 3 << QStringList{"no such folder"};
}

void TestCliRuntime::runInputErrors() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QStringList, stderrHas);
    auto write = [&](const QString& name, const ir::Tensor& t) {
        QVERIFY(ir::writeNpy(test::str(tmp(name)), t).has_value());
    };
    write("good.npy", floats("", {1, 1, 28, 28}, std::vector<float>(784, 0.5f)));
    write("small.npy", floats("", {1, 1, 8, 8}, std::vector<float>(64, 0.5f)));
    write("ints.npy", ir::Tensor::fromVector("", ir::DataType::Int64, {1, 1, 28, 28},
                                             std::vector<int64_t>(784, 1)));
    QFile garbage(tmp("garbage.bin"));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write("\xff\xff\xff\xff this is not a tensor");
    garbage.close();
    for (QString& a : args) {
        a.replace("@good", tmp("good.npy"))
            .replace("@small", tmp("small.npy"))
            .replace("@ints", tmp("ints.npy"));
        a.replace("@missing", tmp("missing.npy"))
            .replace("@garbage", tmp("garbage.bin"))
            .replace("@dir", tmp("outdir"));
    }
    Run r = runCli(args);
    QVERIFY2(r.exitCode == exitCode,
             qPrintable(QString("exit %1, stderr: %2").arg(r.exitCode).arg(QString(r.err))));
    QVERIFY2(r.err.startsWith("edgewise-cli: "), r.err.constData());
    for (const QString& s : stderrHas)
        QVERIFY2(r.err.contains(s.toUtf8()), qPrintable("want '" + s + "' in: " + r.err));
    QVERIFY(r.out.isEmpty());
}

// Output names with path separators become safe file names (as tests/peer/ort_run.mjs writes them).
void TestCliRuntime::runOutputNamesAreSanitized() {
    ir::Model m;
    m.irVersion = 8;
    m.opsetImports = {{"", 13}};
    ir::Graph& g = *m.graph;
    auto type = ir::Type::tensor(ir::DataType::Float, ir::Shape::of({2, 3}));
    ir::Value* x = *g.addValue("in/x", type);
    ir::Value* y = *g.addValue("out/y\\z:0", type);
    g.addNode("Relu", "", "n0", {x}, {y});
    g.inputs = {x};
    g.outputs = {y};
    const QString model = tmp("slashes.onnx");
    QVERIFY(ir::saveModel(m, test::str(model)).has_value());
    const QString in = tmp("slashes_in.npy");
    QVERIFY(ir::writeNpy(test::str(in), floats("", {2, 3}, {-1, 2, -3, 4, -5, 6})).has_value());
    const QString outDir = tmp("slashes_out");
    Run r = runCli({"run", model, "--input", "in/x=" + in, "-o", outDir});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    auto got = ir::readNpy(test::str(outDir + "/out_y_z:0.npy"));
    QVERIFY2(got.has_value(), qPrintable(QDir(outDir).entryList().join(", ")));
    QCOMPARE(compareTensors(*got, floats("", {2, 3}, {0, 2, 0, 4, 0, 6}), 0, 0), QString());
    QVERIFY(r.out.contains("min 0  max 6  mean 2"));
    QCOMPARE(QDir(outDir).entryList(QDir::Files).size(), 1); // no temporary left behind
}

void TestCliRuntime::benchJson() {
    Run r = runCli({"bench", samplePath("mnist.onnx"), "--json", "--runs", "12", "--warmup", "2",
                    "--threads", "1"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QJsonObject o = parseJson(r.out);
    for (const char* k :
         {"init_ms", "first_run_ms", "min_ms", "mean_ms", "median_ms", "p90_ms", "p99_ms", "max_ms",
          "peak_memory_bytes", "arena_bytes", "threads", "runs", "ops"})
        QVERIFY2(o.contains(k), k);
    const double mn = o["min_ms"].toDouble(), med = o["median_ms"].toDouble(),
                 mx = o["max_ms"].toDouble();
    QVERIFY(mn > 0);
    QVERIFY(mn <= med && med <= mx);
    QVERIFY(mn <= o["mean_ms"].toDouble() && o["mean_ms"].toDouble() <= mx);
    QVERIFY(med <= o["p90_ms"].toDouble() + 1e-9 &&
            o["p90_ms"].toDouble() <= o["p99_ms"].toDouble() + 1e-9 &&
            o["p99_ms"].toDouble() <= mx + 1e-9);
    QVERIFY(o["init_ms"].toDouble() > 0 && o["first_run_ms"].toDouble() > 0);
    QCOMPARE(o["runs"].toInt(), 12);
    QCOMPARE(o["threads"].toInt(), 1);
    QCOMPARE(o["times_ms"].toArray().size(), 12);
    QVERIFY(o["peak_memory_bytes"].toDouble() > 1e6);
    QVERIFY(o["arena_bytes"].toDouble() > 0);
    QVERIFY(o["ops"].toArray().isEmpty()); // no --profile
    QVERIFY2(r.err.contains("input 'Input3' not given"), r.err.constData());
}

void TestCliRuntime::benchProfile() {
    Run r = runCli(
        {"bench", samplePath("mnist.onnx"), "--json", "--profile", "--runs", "5", "--warmup", "1"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QJsonObject o = parseJson(r.out);
    QJsonArray ops = o["ops"].toArray();
    QVERIFY(ops.size() >= 5);
    double percent = 0;
    int64_t convMacs = 0;
    bool sawConv = false;
    for (const QJsonValue& v : ops) {
        QJsonObject n = v.toObject();
        for (const char* k : {"node", "op", "mean_us", "percent", "macs"})
            QVERIFY2(n.contains(k), k);
        QVERIFY(n["mean_us"].toDouble() >= 0);
        percent += n["percent"].toDouble();
        if (n["op"].toString().endsWith("Conv")) {
            sawConv = true;
            convMacs += static_cast<int64_t>(n["macs"].toDouble());
        }
    }
    QVERIFY(std::abs(percent - 100) < 0.5);
    QVERIFY(sawConv);
    // MNIST: Conv 8x5x5 on 28x28 (156800 MACs) and Conv 16x8x5x5 on 14x14 (627200 MACs).
    QCOMPARE(convMacs, int64_t(156800 + 627200));
    double typePercent = 0;
    for (const QJsonValue& v : o["op_types"].toArray())
        typePercent += v.toObject()["percent"].toDouble();
    QVERIFY(std::abs(typePercent - 100) < 0.5);
}

void TestCliRuntime::benchText() {
    Run r = runCli(
        {"bench", samplePath("digits_cnn.onnx"), "--profile", "--runs", "3", "--warmup", "0"});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    for (const char* s : {"init ", "first run ", "median ", "p99 ", "peak RSS", "arena",
                          "Per op type", "Per node", "GFLOP/s"})
        QVERIFY2(r.out.contains(s), s);
    Run help = runCli({"bench", "--help"});
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("--input")); // bench/ort/compare.mjs feeds test data only then
}

// --int8 turns SessionOptions::int8Kernels on: the QDQ conv of ORT's test model runs as one
// fused integer node (and as float Q/DQ + Conv without the flag; the input's QuantizeLinear and
// the output's DequantizeLinear stay either way).
void TestCliRuntime::benchInt8() {
    EW_REQUIRE_MODELS();
    const QString model = ew::test::modelsDir() + "/onnx/ort-testdata/conv_qdq_u8u8.onnx";
    auto ops = [&](bool int8) {
        QStringList args{"bench", model, "--json", "--profile", "--runs", "2", "--warmup", "0"};
        if (int8) args << "--int8";
        Run r = runCli(args);
        QStringList names;
        if (r.exitCode != 0) qWarning("%s", r.err.constData());
        for (const QJsonValue& v : parseJson(r.out)["ops"].toArray()) names << v.toObject()["op"].toString();
        return names;
    };
    const QStringList fused = ops(true), plain = ops(false);
    QVERIFY2(fused.filter(QRegularExpression("QConv$")).size() == 1 && !fused.contains("Conv"), qPrintable(fused.join(",")));
    QVERIFY2(plain.contains("Conv") && plain.contains("DequantizeLinear"), qPrintable(plain.join(",")));
}

// Three backend-style tests: one passes, one has a wrong reference (fails with the output's error),
// one uses an op with no kernel (skipped, named).
void TestCliRuntime::conformanceSynthetic() {
    const QString root = tmp("suite");
    const std::vector<float> x = {-1, 2, -3, 4, -5, 6};
    for (const char* name : {"test_relu_ok", "test_relu_bad", "test_custom"}) {
        const QString dir = root + "/node/" + name;
        QVERIFY(QDir().mkpath(dir + "/test_data_set_0"));
        if (QString(name) == "test_custom")
            writeUnaryModel(dir + "/model.onnx", "Frobnicate", "com.example");
        else
            writeUnaryModel(dir + "/model.onnx", "Relu");
        writeTensorPb(dir + "/test_data_set_0/input_0.pb", floats("x", {2, 3}, x));
        std::vector<float> y = {0, 2, 0, 4, 0, 6};
        if (QString(name) == "test_relu_bad") y[3] = 4.5f;
        writeTensorPb(dir + "/test_data_set_0/output_0.pb", floats("y", {2, 3}, y));
    }
    Run text = runCli({"conformance", root});
    QCOMPARE(text.exitCode, 1); // one failure
    QVERIFY2(text.out.contains("PASS suite/node/test_relu_ok\n"), text.out.constData());
    QVERIFY2(text.out.contains("FAIL suite/node/test_relu_bad: output 'y':"), text.out.constData());
    QVERIFY2(text.out.contains("max abs err 0.5"), text.out.constData());
    QVERIFY2(text.out.contains("SKIP suite/node/test_custom: no kernel for com.example.Frobnicate"),
             text.out.constData());
    QVERIFY2(text.out.contains("conformance: 3 tests, 1 passed, 1 failed, 1 skipped"),
             text.out.constData());

    Run json = runCli({"conformance", root, "--json"});
    QCOMPARE(json.exitCode, 1);
    QJsonObject o = parseJson(json.out);
    QCOMPARE(o["total"].toInt(), 3);
    QCOMPARE(o["passed"].toInt(), 1);
    QCOMPARE(o["failed"].toInt(), 1);
    QCOMPARE(o["skipped"].toInt(), 1);
    QJsonObject relu = o["by_op"].toObject()["Relu"].toObject();
    QCOMPARE(relu["total"].toInt(), 2);
    QCOMPARE(relu["passed"].toInt(), 1);
    QCOMPARE(relu["failed"].toInt(), 1);
    QCOMPARE(o["by_op"].toObject()["com.example.Frobnicate"].toObject()["skipped"].toInt(), 1);
    QJsonArray skipped = o["skipped_tests"].toArray();
    QCOMPARE(skipped.size(), 1);
    QCOMPARE(skipped[0].toObject()["name"].toString(), QString("suite/node/test_custom"));
    QVERIFY(skipped[0].toObject()["reason"].toString().contains("Frobnicate"));
    QVERIFY(json.err.contains("PASS suite/node/test_relu_ok")); // lines moved to stderr

    // A looser tolerance lets the wrong one pass; the filter selects by name.
    Run loose = runCli({"conformance", root, "--atol", "0.6", "--filter", "relu"});
    QVERIFY2(loose.exitCode == 0, loose.out.constData());
    QVERIFY(loose.out.contains("conformance: 2 tests, 2 passed, 0 failed, 0 skipped"));
}

// --expected: only regressions fail the run; --min-passed sets a floor; --write-expected writes
// the passing list.
void TestCliRuntime::conformanceExpectations() {
    const QString root = tmp("suite2");
    for (const char* name : {"test_a", "test_b"}) {
        const QString dir = root + "/" + name;
        QVERIFY(QDir().mkpath(dir + "/test_data_set_0"));
        writeUnaryModel(dir + "/model.onnx", "Neg");
        writeTensorPb(dir + "/test_data_set_0/input_0.pb", floats("x", {2, 3}, {1, 2, 3, 4, 5, 6}));
        float last = QString(name) == "test_a" ? -6 : 6; // test_b is wrong
        writeTensorPb(dir + "/test_data_set_0/output_0.pb",
                      floats("y", {2, 3}, {-1, -2, -3, -4, -5, last}));
    }
    const QString written = tmp("expected_written.txt");
    Run w = runCli({"conformance", root, "--write-expected", written});
    QCOMPARE(w.exitCode, 1);
    QFile f(written);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray listed = f.readAll();
    QVERIFY2(listed.contains("\nsuite2/test_a\n") && !listed.contains("test_b"),
             listed.constData());

    auto expectFile = [&](const QString& name, const QByteArray& text) {
        QFile e(tmp(name));
        e.open(QIODevice::WriteOnly);
        e.write(text);
        return tmp(name);
    };
    Run ok = runCli({"conformance", root, "--expected", written});
    QVERIFY2(ok.exitCode == 0, ok.out.constData()); // test_b fails but was never expected to pass
    QVERIFY(ok.out.contains("0 regressions"));

    Run regress = runCli({"conformance", root, "--expected",
                          expectFile("e2.txt", "# c\nsuite2/test_a\nsuite2/test_b\n")});
    QCOMPARE(regress.exitCode, 1);
    QVERIFY2(regress.out.contains("REGRESSION suite2/test_b: expected to pass, fail"),
             regress.out.constData());

    Run fresh = runCli({"conformance", root, "--expected", expectFile("e3.txt", "\n")});
    QCOMPARE(fresh.exitCode, 0);
    QVERIFY2(fresh.out.contains("newly passing, add it to the expectation file: suite2/test_a"),
             fresh.out.constData());

    Run gone =
        runCli({"conformance", root, "--expected", expectFile("e4.txt", "suite2/test_gone\n")});
    QCOMPARE(gone.exitCode, 1);
    QVERIFY(gone.out.contains("suite2/test_gone: expected to pass, not found"));

    Run floor = runCli({"conformance", root, "--expected", written, "--min-passed", "2"});
    QCOMPARE(floor.exitCode, 1);
    QVERIFY(floor.out.contains("below the threshold of 2"));
    Run floorOk = runCli({"conformance", root, "--expected", written, "--min-passed", "1"});
    QCOMPARE(floorOk.exitCode, 0);
}

// The real-model layouts: X.onnx + X.test_data_set_0/ and a folder's only X.onnx +
// test_data_set_0/.
void TestCliRuntime::conformanceRealModelLayout() {
    const QString root = tmp("models");
    QVERIFY(QDir().mkpath(root + "/a/relu.test_data_set_0"));
    QVERIFY(QDir().mkpath(root + "/b/test_data_set_0"));
    writeUnaryModel(root + "/a/relu.onnx", "Relu");
    writeUnaryModel(root + "/b/neg.onnx", "Neg");
    writeTensorPb(root + "/a/relu.test_data_set_0/input_0.pb",
                  floats("x", {2, 3}, {-1, 2, -3, 4, -5, 6}));
    // Off by 5e-5: inside the real models' atol 1e-4, outside the backend tests' 1e-7.
    writeTensorPb(root + "/a/relu.test_data_set_0/output_0.pb",
                  floats("y", {2, 3}, {0, 2, 0, 4, 0, 6.00005f}));
    writeTensorPb(root + "/b/test_data_set_0/input_0.pb", floats("x", {2, 3}, {1, 2, 3, 4, 5, 6}));
    writeTensorPb(root + "/b/test_data_set_0/output_0.pb",
                  floats("y", {2, 3}, {-1, -2, -3, -4, -5, -6}));
    Run r = runCli({"conformance", root});
    QVERIFY2(r.exitCode == 0, r.out.constData());
    QVERIFY2(r.out.contains("PASS models/a/relu\n") && r.out.contains("PASS models/b/neg\n"),
             r.out.constData());
    Run strict = runCli({"conformance", root, "--atol", "1e-7", "--rtol", "0"});
    QCOMPARE(strict.exitCode, 1);
    QVERIFY(strict.out.contains("FAIL models/a/relu"));
}

QTEST_GUILESS_MAIN(TestCliRuntime)
#include "tst_cli_runtime.moc"
