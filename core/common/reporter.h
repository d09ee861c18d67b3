#pragma once
#include <atomic>
#include <string>
#include <string_view>

namespace ew {

enum class Severity { Debug, Info, Warning, Error };

/// How long-running core work talks to its caller: log lines, progress per stage, and cancel.
/// Core code calls it from whatever thread it runs on; implementations must be thread-safe.
class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void log(Severity severity, std::string_view message) { (void)severity, (void)message; }
    /// fraction in [0, 1] of the named stage.
    virtual void progress(std::string_view stage, double fraction) { (void)stage, (void)fraction; }
    virtual bool isCancelled() const { return false; }
};

/// A reporter that drops everything and never cancels; the default argument for core APIs.
Reporter& nullReporter();

/// A reporter whose cancel flag can be set from another thread (tests, GUI cancel buttons).
class CancellableReporter : public Reporter {
public:
    void cancel() { m_cancelled.store(true); }
    bool isCancelled() const override { return m_cancelled.load(); }

private:
    std::atomic<bool> m_cancelled{false};
};

} // namespace ew
