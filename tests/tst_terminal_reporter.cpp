// The CLI's progress reporter: silent for quick work, quarter-step lines when piped, a redrawn
// bar on a terminal, and log lines that never interleave with a half-drawn bar.
#include "test_util.h"

#include "terminal_reporter.h"

#include <cstdio>
#include <pty.h>
#include <thread>
#include <unistd.h>

using ew::Severity;
using ew::cli::TerminalReporter;
using namespace std::chrono_literals;

namespace {

std::string readAll(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        s.append(buf, n);
    return s;
}

} // namespace

class TestTerminalReporter : public QObject {
    Q_OBJECT
  private slots:
    void pipedPrintsQuarterLines();
    void quickWorkIsSilent();
    void quietDropsProgressAndInfo();
    void terminalDrawsAndClearsBar();
};

void TestTerminalReporter::pipedPrintsQuarterLines() {
    std::FILE* f = std::tmpfile();
    {
        TerminalReporter r(false, false, f, 0ms);
        for (double x : {0.0, 0.1, 0.3, 0.35, 0.6, 0.99, 1.0})
            r.progress("Loading", x);
        r.log(Severity::Warning, "odd dim");
        r.progress("Writing", 1.0);
    }
    QCOMPARE(QString::fromStdString(readAll(f)), QString("edgewise-cli: Loading: 0%\n"
                                                         "edgewise-cli: Loading: 25%\n"
                                                         "edgewise-cli: Loading: 50%\n"
                                                         "edgewise-cli: Loading: 75%\n"
                                                         "edgewise-cli: Loading: 100%\n"
                                                         "edgewise-cli: warning: odd dim\n"
                                                         "edgewise-cli: Writing: 100%\n"));
    std::fclose(f);
}

void TestTerminalReporter::quickWorkIsSilent() {
    std::FILE* f = std::tmpfile();
    {
        TerminalReporter r(false, false, f, 1000ms);
        for (int i = 0; i <= 10; ++i)
            r.progress("Loading", i / 10.0);
        r.log(Severity::Debug, "hidden without --verbose");
    }
    QCOMPARE(readAll(f), std::string());
    std::fclose(f);
}

void TestTerminalReporter::quietDropsProgressAndInfo() {
    std::FILE* f = std::tmpfile();
    {
        TerminalReporter r(true, false, f, 0ms);
        r.progress("Loading", 0.5);
        r.log(Severity::Info, "info");
        r.log(Severity::Error, "bad");
    }
    QCOMPARE(readAll(f), std::string("edgewise-cli: error: bad\n"));
    std::fclose(f);
}

void TestTerminalReporter::terminalDrawsAndClearsBar() {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
        QSKIP("[ew-skip] no pseudo-terminal available");
    std::FILE* tty = ::fdopen(slave, "w");
    QVERIFY(tty);
    {
        TerminalReporter r(false, false, tty, 0ms);
        r.progress("Loading", 0.5);
        r.log(Severity::Warning, "w");
        r.progress("Loading", 1.0);
    }
    std::fclose(tty);
    std::string got;
    char buf[4096];
    ssize_t n;
    // The slave is closed, so reading drains what was written and then fails with EIO.
    while ((n = ::read(master, buf, sizeof buf)) > 0)
        got.append(buf, std::size_t(n));
    ::close(master);
    QVERIFY2(got.find("\r\033[2KLoading [###############---------------]  50%") !=
                 std::string::npos,
             got.c_str());
    // The bar is erased before the log line, redrawn, and erased at the end.
    QVERIFY2(got.find("\r\033[2Kedgewise-cli: warning: w") != std::string::npos, got.c_str());
    QVERIFY2(got.find("100%\r\033[2K") != std::string::npos, got.c_str());
}

QTEST_GUILESS_MAIN(TestTerminalReporter)
#include "tst_terminal_reporter.moc"
