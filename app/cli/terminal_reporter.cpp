#include "terminal_reporter.h"

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace ew::cli {

using Clock = std::chrono::steady_clock;

TerminalReporter::TerminalReporter(bool quiet, bool verbose, std::FILE* out,
                                   std::chrono::milliseconds delay)
    : m_out(out), m_tty(::isatty(::fileno(out)) == 1), m_quiet(quiet), m_verbose(verbose),
      m_delay(delay) {}

TerminalReporter::~TerminalReporter() {
    finish();
}

void TerminalReporter::clearLineLocked() {
    if (!m_barShown) return;
    std::fputs("\r\033[2K", m_out);
    m_barShown = false;
}

void TerminalReporter::finish() {
    std::lock_guard lock(m_mutex);
    clearLineLocked();
    std::fflush(m_out);
    m_stage.clear();
    m_lastQuarter = -1;
}

void TerminalReporter::log(Severity severity, std::string_view message) {
    if (severity == Severity::Debug && !m_verbose) return;
    if (severity == Severity::Info && m_quiet) return;
    const char* tag = severity == Severity::Error     ? "error: "
                      : severity == Severity::Warning ? "warning: "
                                                      : "";
    std::lock_guard lock(m_mutex);
    clearLineLocked();
    std::fprintf(m_out, "edgewise-cli: %s%.*s\n", tag, static_cast<int>(message.size()),
                 message.data());
    std::fflush(m_out);
}

void TerminalReporter::progress(std::string_view stage, double fraction) {
    if (m_quiet) return;
    if (!std::isfinite(fraction)) fraction = 0;
    fraction = std::clamp(fraction, 0.0, 1.0);
    auto now = Clock::now();
    std::lock_guard lock(m_mutex);
    if (stage != m_stage) {
        clearLineLocked();
        m_stage = std::string(stage);
        m_stageStart = now;
        m_lastQuarter = -1;
    }
    if (now - m_stageStart < m_delay) return;
    int percent = static_cast<int>(fraction * 100.0);
    if (m_tty) {
        // Redraw at most ~20 times a second; the terminal is slower than the callers.
        if (m_barShown && fraction < 1.0 && now - m_lastDraw < std::chrono::milliseconds(50))
            return;
        constexpr int kWidth = 30;
        int filled = static_cast<int>(fraction * kWidth);
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.append(static_cast<std::size_t>(kWidth - filled), '-');
        std::fprintf(m_out, "\r\033[2K%s [%s] %3d%%", m_stage.c_str(), bar.c_str(), percent);
        std::fflush(m_out);
        m_barShown = true;
        m_lastDraw = now;
        return;
    }
    int quarter = percent / 25;
    if (quarter <= m_lastQuarter) return;
    m_lastQuarter = quarter;
    std::fprintf(m_out, "edgewise-cli: %s: %d%%\n", m_stage.c_str(), quarter * 25);
    std::fflush(m_out);
}

} // namespace ew::cli
