#pragma once
#include <QDir>
#include <QString>
#include <QtTest/QtTest>

#include <string>

namespace ew::test {

/// ../shared/models (EW_MODELS_DIR); empty when absent so tests can QSKIP.
inline QString modelsDir() {
    QString d = qEnvironmentVariable("EW_MODELS_DIR");
    if (d.isEmpty() || !QDir(d).exists()) return {};
    return QDir(d).absolutePath();
}

inline QString artifactsDir() {
    QString d = qEnvironmentVariable("EW_TEST_ARTIFACTS", QDir::tempPath() + "/edgewise-test-artifacts");
    QDir().mkpath(d);
    return d;
}

inline QString sourceDir() { return qEnvironmentVariable("EW_SOURCE_DIR"); }
inline QString binDir() { return qEnvironmentVariable("EW_BIN_DIR"); }

inline std::string str(const QString& s) { return s.toStdString(); }

} // namespace ew::test

/// Skips the test with a reason when ../shared/models is not there.
#define EW_REQUIRE_MODELS()                                                                        \
    do {                                                                                           \
        if (ew::test::modelsDir().isEmpty())                                                       \
            QSKIP("[ew-skip] shared models folder not found (set EW_MODELS_DIR or -DEW_MODELS_DIR)");        \
    } while (0)
