#pragma once
#include "common/reporter.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <mutex>
#include <string>

namespace ew::ui {

/// Adapts ew::Reporter to Qt signals so core work on a QtConcurrent thread can drive a progress
/// dialog and the log panel. Signals are emitted on the worker thread; receivers in the GUI
/// thread get them queued (AutoConnection). cancel() may be called from any thread; core code
/// polls isCancelled(). Progress is throttled to whole percent steps per stage so a loop over
/// thousands of tensors does not flood the GUI event queue.
class QtReporter : public QObject, public Reporter {
    Q_OBJECT
  public:
    explicit QtReporter(QObject* parent = nullptr) : QObject(parent) {}

    void log(Severity severity, std::string_view message) override;
    void progress(std::string_view stage, double fraction) override;
    bool isCancelled() const override { return m_cancelled.load(); }

  public slots:
    void cancel() { m_cancelled.store(true); }

  signals:
    void logMessage(int severity, const QString& message);
    void progressChanged(const QString& stage, double fraction);

  private:
    std::atomic<bool> m_cancelled{false};
    std::mutex m_mutex; // guards the throttle state; core code may report from several threads
    std::string m_lastStage;
    int m_lastPercent = -1;
};

} // namespace ew::ui
