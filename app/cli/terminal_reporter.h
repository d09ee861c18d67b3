#pragma once
#include "common/reporter.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace ew::cli {

/// The CLI's Reporter. On a terminal it draws one self-updating progress bar line on stderr;
/// when stderr is piped it prints plain "stage: 50%" lines at quarter steps instead, so logs
/// stay readable. Either way nothing is shown for a stage until it has run for `delay` (quick
/// work stays silent), and the bar is erased before any log line and on destruction.
/// Thread-safe: core code may report from worker threads.
class TerminalReporter : public Reporter {
  public:
    /// `quiet` drops progress and info lines; `verbose` adds debug lines.
    TerminalReporter(bool quiet, bool verbose, std::FILE* out = stderr,
                     std::chrono::milliseconds delay = std::chrono::milliseconds(1000));
    ~TerminalReporter() override;

    void log(Severity severity, std::string_view message) override;
    void progress(std::string_view stage, double fraction) override;
    /// Ends the current bar (called between files and before printing results).
    void finish();

  private:
    void clearLineLocked();

    std::mutex m_mutex;
    std::FILE* m_out;
    bool m_tty;
    bool m_quiet;
    bool m_verbose;
    std::chrono::milliseconds m_delay;
    std::string m_stage;
    std::chrono::steady_clock::time_point m_stageStart;
    std::chrono::steady_clock::time_point m_lastDraw;
    int m_lastQuarter = -1;
    bool m_barShown = false;
};

} // namespace ew::cli
