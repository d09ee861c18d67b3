// Every ONNX file in ../shared/models (the whole backend node suite, simple/, pytorch-operator/
// and the real models) must import, export, re-import to the identical IR (tensors bit for bit),
// and the exported file must pass onnx::checker wherever the original does.
#include "ir/compare.h"
#include "ir/onnx/onnx_checker.h"
#include "ir/onnx/onnx_export.h"
#include "ir/onnx/onnx_import.h"
#include "ir/verifier.h"
#include "test_util.h"

#include <QDirIterator>
#include <QTemporaryDir>

using namespace ew;

class TestOnnxRoundTrip : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void roundTrip_data();
    void roundTrip();
    void summary();

private:
    QTemporaryDir m_tmp;
    int m_models = 0;
    int m_checkerOriginalPass = 0;
    int m_checkerExportPass = 0;
};

void TestOnnxRoundTrip::initTestCase() { QVERIFY(m_tmp.isValid()); }

void TestOnnxRoundTrip::roundTrip_data() {
    EW_REQUIRE_MODELS();
    QTest::addColumn<QString>("path");
    QStringList files;
    QDirIterator it(test::modelsDir(), {"*.onnx"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) files << it.next();
    files.sort();
    // A guard against a silently empty or partial suite.
    QVERIFY2(files.size() >= 1765, qPrintable(QString("only %1 ONNX files found").arg(files.size())));
    for (const QString& f : files) QTest::newRow(qPrintable(QDir(test::modelsDir()).relativeFilePath(f))) << f;
}

void TestOnnxRoundTrip::roundTrip() {
    QFETCH(QString, path);
    const std::string p = path.toStdString();
    // The importer and verifier directly: compare exactly what the file says, no inference.
    auto a = onnxfmt::importOnnxFile(p);
    QVERIFY2(a.has_value(), qPrintable(QString::fromStdString(a ? "" : a.error().toString())));
    auto va = ir::verify(**a);
    QVERIFY2(va.has_value(), qPrintable(QString::fromStdString(va ? "" : va.error().toString())));

    auto bytes = onnxfmt::serializeOnnx(**a);
    QVERIFY2(bytes.has_value(), qPrintable(QString::fromStdString(bytes ? "" : bytes.error().toString())));
    auto b = onnxfmt::importOnnxBytes(std::as_bytes(std::span(bytes->data(), bytes->size())), "re-exported " + p,
                                      QFileInfo(path).absolutePath().toStdString());
    QVERIFY2(b.has_value(), qPrintable(QString::fromStdString(b ? "" : b.error().toString())));
    QVERIFY(ir::verify(**b).has_value());
    const std::string diff = ir::firstDifference(**a, **b);
    QVERIFY2(diff.empty(), diff.c_str());

    // Exported files pass onnx::checker wherever the original does. The exported copy lives
    // beside the original's external data, so write it to a temp folder only when there is none.
    const std::string out = (m_tmp.path() + "/roundtrip.onnx").toStdString();
    auto w = onnxfmt::exportOnnxFile(**a, out);
    QVERIFY2(w.has_value(), qPrintable(QString::fromStdString(w ? "" : w.error().toString())));
    bool hasExternal = false;
    for (const ir::Value* v : (*a)->graph->initializers) hasExternal |= v->initializer->external.has_value();
    ++m_models;
    auto origCheck = onnxfmt::runOnnxChecker(p);
    if (origCheck && !hasExternal) {
        ++m_checkerOriginalPass;
        auto expCheck = onnxfmt::runOnnxChecker(out);
        QVERIFY2(expCheck.has_value(), qPrintable(QString::fromStdString(expCheck ? "" : expCheck.error().toString())));
        ++m_checkerExportPass;
    }
}

void TestOnnxRoundTrip::summary() {
    qInfo("round-tripped %d models; onnx::checker accepted %d originals and all %d of their exports (libonnx max opset %d)",
          m_models, m_checkerOriginalPass, m_checkerExportPass, onnxfmt::onnxLibraryMaxOpset());
}

QTEST_GUILESS_MAIN(TestOnnxRoundTrip)
#include "tst_onnx_roundtrip.moc"
