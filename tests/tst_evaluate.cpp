// Evaluation (core/optimize/dataset/evaluate.h) and `edgewise-cli evaluate` end to end: error
// metrics with hand-computed values, top-k, a model against a scaled copy of itself (known SQNR),
// digits-cnn accuracy against the number computed here by one batched runtime run, the same
// through class-subfolder BMP images, --reference of a model against itself, random data, and the
// exit codes.
#include "optimize_test_util.h"
#include "test_util.h"

#include "ir/io/model_io.h"
#include "ir/onnx/onnx_import.h"
#include "optimize/dataset/dataset.h"
#include "optimize/dataset/evaluate.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <fstream>

using namespace ew;
using namespace ew::opt::data;
using ew::ir::DataType;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out, err;
};

Run runCli(const QStringList& args) {
    QString dir = test::binDir();
    if (dir.isEmpty()) dir = QCoreApplication::applicationDirPath() + "/../bin";
    QProcess p;
    p.start(QDir(dir).absoluteFilePath("edgewise-cli"), args);
    Run r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished();
        r.err = "did not run";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject parseJson(const QByteArray& out) {
    QJsonParseError e;
    const QJsonDocument d = QJsonDocument::fromJson(out, &e);
    if (e.error != QJsonParseError::NoError) qWarning("bad JSON: %s\n%s", qPrintable(e.errorString()), out.constData());
    return d.object();
}

rt::Tensor floats(std::vector<int64_t> dims, std::vector<float> v) {
    return rt::Tensor::fromVector(DataType::Float, std::move(dims), v);
}

QString digitsDir() { return test::modelsDir() + "/onnx/digits-cnn"; }

/// Accuracy of digits_cnn on its 360 test images computed independently of the dataset module:
/// one runtime run over the whole [360,1,8,8] batch (the batch dim is symbolic), argmax per row.
/// `quantize` rounds the pixels to 1/255 steps first (what 8-bit images hold).
int64_t digitsCorrect(bool quantize, int64_t limit = 360) {
    auto model = ir::loadModel(test::str(digitsDir() + "/digits_cnn.onnx"));
    if (!model) return -1;
    auto session = rt::Session::create(**model);
    auto input = onnxfmt::readTensorProtoFile(test::str(digitsDir() + "/test_data_set_0/input_0.pb"));
    auto labels = onnxfmt::readTensorProtoFile(test::str(digitsDir() + "/labels.pb"));
    if (!session || !input || !labels) return -1;
    std::vector<float> px = input->toFloat();
    px.resize(std::size_t(limit) * 64);
    if (quantize)
        for (float& v : px) v = float(std::lround(v * 255.0f)) / 255.0f;
    rt::Session::NamedTensors in = {{"input", floats({limit, 1, 8, 8}, px)}};
    auto out = (*session)->run(in);
    if (!out) return -1;
    const std::vector<int64_t> want = labels->toInt64();
    int64_t correct = 0;
    for (int64_t r = 0; r < limit; ++r) {
        const float* row = (*out)[0].data<float>() + r * 10;
        if (std::max_element(row, row + 10) - row == want[std::size_t(r)]) ++correct;
    }
    return correct;
}

void put16(std::vector<uint8_t>& b, uint32_t v) {
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

/// An 8x8 8-bit gray-palette BMP (top-down).
std::vector<uint8_t> grayBmp(const uint8_t* px) {
    std::vector<uint8_t> b = {'B', 'M'};
    const uint32_t offset = 14 + 40 + 256 * 4;
    put32(b, offset + 64);
    put32(b, 0);
    put32(b, offset);
    put32(b, 40);
    put32(b, 8);
    put32(b, uint32_t(-8));
    put16(b, 1);
    put16(b, 8);
    for (uint32_t v : {0u, 64u, 0u, 0u, 256u, 0u}) put32(b, v);
    for (int i = 0; i < 256; ++i) b.insert(b.end(), {uint8_t(i), uint8_t(i), uint8_t(i), 0});
    b.insert(b.end(), px, px + 64);
    return b;
}

} // namespace

class TestEvaluate : public QObject {
    Q_OBJECT
private slots:
    void errorMetrics() {
        OutputErrorAccumulator a("y");
        QVERIFY(a.add(floats({3}, {1, 2, 3}), floats({3}, {1, 2, 4})));
        OutputError e = a.result();
        QCOMPARE(e.name, std::string("y"));
        QCOMPARE(e.elements, int64_t(3));
        QVERIFY(std::abs(e.sqnrDb - 10 * std::log10(14.0)) < 1e-9); // sum ref^2 14, sum err^2 1
        QVERIFY(std::abs(e.cosine - 17.0 / std::sqrt(14.0 * 21.0)) < 1e-12);
        QCOMPARE(e.maxAbsError, 1.0);
        QVERIFY(!e.identical);
        // Streaming over two calls equals one call over the concatenation.
        OutputErrorAccumulator b("y");
        QVERIFY(b.add(floats({1}, {1}), floats({1}, {1})));
        QVERIFY(b.add(floats({2}, {2, 3}), floats({2}, {2, 4})));
        QCOMPARE(b.result().sqnrDb, e.sqnrDb);
        OutputErrorAccumulator same;
        QVERIFY(same.add(floats({2}, {1, -5}), floats({2}, {1, -5})));
        QVERIFY(same.result().identical);
        QVERIFY(std::isinf(same.result().sqnrDb) && same.result().sqnrDb > 0);
        QCOMPARE(same.result().cosine, 1.0);
        OutputErrorAccumulator zeros;
        QVERIFY(zeros.add(floats({2}, {0, 0}), floats({2}, {0, 1})));
        QVERIFY(std::isinf(zeros.result().sqnrDb) && zeros.result().sqnrDb < 0);
        QCOMPARE(zeros.result().cosine, 0.0);
        OutputErrorAccumulator shape("y");
        QVERIFY(!shape.add(floats({2}, {0, 0}), floats({1, 2}, {0, 0})));
    }

    void topKOrder() {
        const rt::Tensor t = floats({2, 4}, {1, 5, 5, 2, NAN, -1, 3, 0});
        QCOMPARE(topK(t, 0, 3), (std::vector<int64_t>{1, 2, 3})); // tie: lower index first
        QCOMPARE(topK(t, 1, 5), (std::vector<int64_t>{2, 3, 1}));  // NaN never ranks
        QCOMPARE(topK(t, 1, 1), (std::vector<int64_t>{2}));
    }

    void scaledModelHasKnownSqnr() {
        // model = 2x, reference = 2.01x: SQNR = 10 log10(2.01^2 / 0.01^2) whatever x, cosine 1,
        // top-1 agreement 1; against -x agreement drops.
        auto mk = [](const char* scale) {
            return test::parseModel(std::string(R"(<ir_version: 8, opset_import: ["" : 13]>
                g (float[N,10] x) => (float[N,10] y) <float s = {)") + scale + R"(}> { y = Mul(x, s) })");
        };
        auto m = mk("2.0"), ref = mk("2.01"), neg = mk("-1.0");
        QVERIFY(m && ref && neg);
        auto sm = rt::Session::create(*m), sr = rt::Session::create(*ref), sn = rt::Session::create(*neg);
        QVERIFY(sm && sr && sn);
        auto ds = openDataset("random:20", (*sm)->inputInfo());
        QVERIFY(ds);
        auto rep = evaluate(**sm, sr->get(), **ds);
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        QCOMPARE(rep->samples, int64_t(20));
        QVERIFY(rep->random);
        QVERIFY(!rep->accuracyTop1);
        QCOMPARE(rep->outputs.size(), std::size_t(1));
        QVERIFY2(std::abs(rep->outputs[0].sqnrDb - 20 * std::log10(2.01 / 0.01)) < 1e-3,
                 qPrintable(QString::number(rep->outputs[0].sqnrDb)));
        QVERIFY(std::abs(rep->outputs[0].cosine - 1.0) < 1e-9);
        QVERIFY(rep->outputs[0].maxAbsError > 0.005 && rep->outputs[0].maxAbsError <= 0.0101);
        QCOMPARE(*rep->agreementTop1, 1.0);
        auto rn = evaluate(**sn, sr->get(), **ds);
        QVERIFY(rn);
        QVERIFY(*rn->agreementTop1 < 0.5);
        QVERIFY(rn->outputs[0].cosine < -0.99);
    }

    void digitsAccuracyLibrary() {
        EW_REQUIRE_MODELS();
        const int64_t want = digitsCorrect(false);
        QCOMPARE(want, int64_t(355)); // 0.9861, as models/README.md says
        auto model = ir::loadModel(test::str(digitsDir() + "/digits_cnn.onnx"));
        QVERIFY(model);
        auto session = rt::Session::create(**model);
        QVERIFY(session);
        OpenOptions o;
        o.labels = test::str(digitsDir() + "/labels.pb");
        auto ds = openDataset(test::str(digitsDir() + "/test_data_set_0/input_0.pb"), (*session)->inputInfo(), o);
        QVERIFY2(ds, ds ? "" : ds.error().toString().c_str());
        auto rep = evaluate(**session, nullptr, **ds);
        QVERIFY2(rep, rep ? "" : rep.error().toString().c_str());
        QCOMPARE(rep->samples, int64_t(360));
        QCOMPARE(rep->correctTop1, want);
        QCOMPARE(*rep->accuracyTop1, double(want) / 360.0);
        QVERIFY(rep->correctTop5 >= rep->correctTop1);
        QVERIFY(!rep->hasReference);
        QVERIFY(rep->outputs.empty());
    }

    void cliDigitsAccuracy() {
        EW_REQUIRE_MODELS();
        const int64_t want = digitsCorrect(false);
        const QString model = digitsDir() + "/digits_cnn.onnx";
        Run r = runCli({"evaluate", model, "--data", digitsDir() + "/test_data_set_0", "--labels",
                        digitsDir() + "/labels.pb", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = parseJson(r.out);
        QCOMPARE(j["model"].toString(), model);
        QCOMPARE(j["samples"].toInteger(), qint64(360));
        QCOMPARE(j["random"].toBool(), false);
        QCOMPARE(j["correct_top1"].toInteger(), qint64(want));
        QCOMPARE(j["accuracy_top1"].toDouble(), double(want) / 360.0);
        QVERIFY(j["accuracy_top5"].toDouble() >= j["accuracy_top1"].toDouble());
        QVERIFY(j["reference"].isNull());
        QVERIFY(j["agreement_top1"].isNull());
        QVERIFY(j["outputs"].toArray().isEmpty());
        QVERIFY(j["ms"].toDouble() > 0);
        QVERIFY(j["data"].toString().contains("360 samples"));

        Run t = runCli({"evaluate", model, "--data", digitsDir() + "/test_data_set_0/input_0.pb", "--labels",
                        digitsDir() + "/labels.pb"});
        QVERIFY2(t.exitCode == 0, t.err.constData());
        QVERIFY2(t.out.contains("top-1 accuracy:  0.9861 (355/360)"), t.out.constData());

        // The calibration set has 256 images; labels.pb labels the 360 test images.
        Run m = runCli({"evaluate", model, "--data", digitsDir() + "/calibration_input.pb", "--labels",
                        digitsDir() + "/labels.pb"});
        QCOMPARE(m.exitCode, 3);
        QVERIFY2(m.err.contains("360 labels but the data has 256"), m.err.constData());
    }

    void cliImagesWithClassFolders() {
        // The first 100 test digits as 8x8 gray BMPs in class folders 0..9: labels from the
        // folders, pixels through the image path (zero1 preset); the accuracy equals the batched
        // run on the same 8-bit-rounded pixels.
        EW_REQUIRE_MODELS();
        auto input = onnxfmt::readTensorProtoFile(test::str(digitsDir() + "/test_data_set_0/input_0.pb"));
        auto labels = onnxfmt::readTensorProtoFile(test::str(digitsDir() + "/labels.pb"));
        QVERIFY(input && labels);
        const std::vector<float> px = input->toFloat();
        const std::vector<int64_t> lab = labels->toInt64();
        QTemporaryDir dir;
        for (int c = 0; c < 10; ++c) QVERIFY(QDir(dir.path()).mkpath(QString::number(c)));
        for (int k = 0; k < 100; ++k) {
            uint8_t p[64];
            for (int i = 0; i < 64; ++i) p[i] = uint8_t(std::lround(px[std::size_t(k * 64 + i)] * 255.0f));
            const auto bmp = grayBmp(p);
            std::ofstream f(test::str(dir.filePath(QString("%1/%2.bmp").arg(lab[std::size_t(k)]).arg(k, 3, 10, QChar('0')))),
                            std::ios::binary);
            f.write(reinterpret_cast<const char*>(bmp.data()), std::streamsize(bmp.size()));
        }
        Run r = runCli({"evaluate", digitsDir() + "/digits_cnn.onnx", "--data", dir.path(), "--preprocess", "zero1",
                        "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = parseJson(r.out);
        QCOMPARE(j["samples"].toInteger(), qint64(100));
        QCOMPARE(j["correct_top1"].toInteger(), qint64(digitsCorrect(true, 100)));
        QVERIFY(j["data"].toString().contains("100 files in 10 classes"));
    }

    void cliReferenceAgainstItself() {
        EW_REQUIRE_MODELS();
        const QString model = digitsDir() + "/digits_cnn.onnx";
        Run r = runCli({"evaluate", model, "--data", digitsDir() + "/calibration_input.pb", "--reference", model,
                        "--limit", "50", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = parseJson(r.out);
        QCOMPARE(j["samples"].toInteger(), qint64(50));
        QCOMPARE(j["reference"].toString(), model);
        QCOMPARE(j["agreement_top1"].toDouble(), 1.0);
        QVERIFY(j["accuracy_top1"].isNull());
        const QJsonArray outs = j["outputs"].toArray();
        QCOMPARE(outs.size(), 1);
        const QJsonObject o = outs[0].toObject();
        QCOMPARE(o["name"].toString(), QString("logits"));
        QVERIFY(o["sqnr_db"].isNull()); // infinite: JSON has no spelling for it
        QCOMPARE(o["identical"].toBool(), true);
        QCOMPARE(o["cosine"].toDouble(), 1.0);
        QCOMPARE(o["max_abs_error"].toDouble(), 0.0);
        QCOMPARE(o["elements"].toInteger(), qint64(500));

        Run t = runCli({"evaluate", model, "--data", digitsDir() + "/calibration_input.pb", "--reference", model,
                        "--limit", "5"});
        QVERIFY2(t.exitCode == 0, t.err.constData());
        QVERIFY2(t.out.contains("inf (identical)"), t.out.constData());
        QVERIFY(t.out.contains("top-1 agreement: 1.0000 (5/5 rows)"));
    }

    void cliRandomAndErrors() {
        EW_REQUIRE_MODELS();
        const QString model = digitsDir() + "/digits_cnn.onnx";
        Run r = runCli({"evaluate", model, "--data", "random:7", "--seed", "3", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = parseJson(r.out);
        QCOMPARE(j["random"].toBool(), true);
        QCOMPARE(j["samples"].toInteger(), qint64(7));
        QVERIFY(j["data"].toString().contains("random"));
        QVERIFY(j["accuracy_top1"].isNull());
        QVERIFY(j["accuracy_top5"].isNull());
        Run text = runCli({"evaluate", model, "--data", "random:2"});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("random data"));

        QCOMPARE(runCli({"evaluate", model}).exitCode, 2);                                  // no --data
        QCOMPARE(runCli({"evaluate", model, "--data", "random", "--limit", "x"}).exitCode, 2);
        QCOMPARE(runCli({"evaluate", model, "--data", "random", "--bogus"}).exitCode, 2);
        QCOMPARE(runCli({"evaluate", model, "--data", "random:x"}).exitCode, 2);
        QCOMPARE(runCli({"evaluate", "/nonexistent.onnx", "--data", "random"}).exitCode, 3);
        Run nd = runCli({"evaluate", model, "--data", "/nonexistent/data"});
        QCOMPARE(nd.exitCode, 3);
        QVERIFY(nd.err.contains("/nonexistent/data"));
        QTemporaryDir dir;
        {
            std::ofstream f(test::str(dir.filePath("pp.json")));
            f << "{\"scale\": }";
        }
        Run bp = runCli({"evaluate", model, "--data", "random", "--preprocess", dir.filePath("pp.json")});
        QCOMPARE(bp.exitCode, 3);
        QVERIFY(bp.err.contains("pp.json"));
        // A labels file that does not fit, and data that does not fit the model.
        Run bl = runCli({"evaluate", model, "--data", digitsDir() + "/test_data_set_0", "--labels",
                         digitsDir() + "/calibration_input.pb"});
        QCOMPARE(bl.exitCode, 3);
        Run bd = runCli({"evaluate", model, "--data", test::modelsDir() + "/onnx/ort-testdata/mnist.onnx"});
        QCOMPARE(bd.exitCode, 3);
    }
};

QTEST_GUILESS_MAIN(TestEvaluate)
#include "tst_evaluate.moc"
