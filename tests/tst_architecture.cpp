// The module rules of ARCHITECTURE.md, checked on the source tree: nothing under core/ (except
// core/runtime/device) includes Qt, and each core module includes only the modules below it.
#include "test_util.h"

#include <QDirIterator>
#include <QRegularExpression>

class TestArchitecture : public QObject {
    Q_OBJECT
private slots:
    void rules_data();
    void rules();
    void detectorCatchesViolations();

private:
    static QStringList violations(const QString& text, const QStringList& forbiddenPrefixes, bool forbidQt);
};

QStringList TestArchitecture::violations(const QString& text, const QStringList& forbiddenPrefixes, bool forbidQt) {
    static const QRegularExpression include(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])",
                                            QRegularExpression::MultilineOption);
    QStringList out;
    auto it = include.globalMatch(text);
    while (it.hasNext()) {
        const QString header = it.next().captured(1);
        const QString first = header.section('/', 0, 0);
        if (forbidQt && (first.startsWith("Qt") || (header.startsWith('Q') && !header.contains('.') ) ||
                         header.startsWith("qcustomplot")))
            out << header;
        for (const QString& p : forbiddenPrefixes)
            if (header.startsWith(p)) out << header;
    }
    return out;
}

void TestArchitecture::rules_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QStringList>("forbidden");
    QTest::addColumn<bool>("forbidQt");
    const QStringList upper = {"widgets/", "app/"};
    QTest::newRow("core/common: std only") << "core/common" << (QStringList{"ir/", "runtime/", "optimize/"} + upper) << true;
    QTest::newRow("core/ir: no runtime or optimizer") << "core/ir" << (QStringList{"runtime/", "optimize/"} + upper) << true;
    QTest::newRow("core/runtime: no optimizer, no Qt") << "core/runtime" << (QStringList{"optimize/", "ir/onnx/", "ir/tflite/"} + upper) << true;
    QTest::newRow("core/optimize: no Qt") << "core/optimize" << upper << true;
    QTest::newRow("app/cli: no widgets, no Qt") << "app/cli" << QStringList{"widgets/"} << true;
    // ew_layout is std only: no core module, no third-party library, not even its IR adapter.
    QTest::newRow("widgets/graph/layout: std only")
        << "widgets/graph/layout"
        << QStringList{"common/", "ir/", "runtime/", "optimize/", "device/", "layout_ir/", "Eigen", "onnx",
                       "google/", "flatbuffers", "widgets/", "app/"}
        << true;
    QTest::newRow("widgets/graph/layout_ir: IR + layout, no Qt")
        << "widgets/graph/layout_ir" << (QStringList{"runtime/", "optimize/", "device/"} + upper) << true;
}

void TestArchitecture::rules() {
    QFETCH(QString, folder);
    QFETCH(QStringList, forbidden);
    QFETCH(bool, forbidQt);
    const QString root = ew::test::sourceDir();
    if (root.isEmpty()) QSKIP("[ew-skip] EW_SOURCE_DIR not set");
    const QString dir = root + "/" + folder;
    if (!QDir(dir).exists()) QSKIP(qPrintable(folder + " has no sources yet"));
    QStringList bad;
    int files = 0;
    QDirIterator it(dir, {"*.h", "*.cpp", "*.def", "*.inc"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString rel = QDir(root).relativeFilePath(path);
        // Device transports talk to adb/ssh through QProcess: the one sanctioned Qt use in core.
        const bool qtAllowed = rel.startsWith("core/runtime/device/");
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        ++files;
        for (const QString& v : violations(QString::fromUtf8(f.readAll()), forbidden, forbidQt && !qtAllowed))
            bad << rel + " includes " + v;
    }
    QVERIFY2(bad.isEmpty(), qPrintable(bad.join('\n')));
    if (files == 0) QSKIP(qPrintable(folder + " has no sources yet"));
}

void TestArchitecture::detectorCatchesViolations() {
    QCOMPARE(violations("#include <QString>\n", {}, true).size(), 1);
    QCOMPARE(violations("#include <QtCore/QObject>\n", {}, true).size(), 1);
    QCOMPARE(violations("  #  include \"widgets/main_window.h\"\n", {"widgets/"}, false).size(), 1);
    QCOMPARE(violations("#include <vector>\n#include \"ir/graph.h\"\n", {"widgets/"}, true).size(), 0);
}

QTEST_GUILESS_MAIN(TestArchitecture)
#include "tst_architecture.moc"
