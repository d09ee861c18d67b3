#pragma once
#include "common/reporter.h"

#include <QStringList>
#include <QWidget>

class QPlainTextEdit;

namespace ew::ui {

/// Dock content: a timestamped, read-only log of Reporter lines and Status messages. Keeps a
/// bounded number of lines so a chatty long session cannot grow memory without limit.
class LogPanel : public QWidget {
    Q_OBJECT
  public:
    explicit LogPanel(QWidget* parent = nullptr);

    QStringList lines() const { return m_lines; }
    QPlainTextEdit* view() const { return m_view; }

  public slots:
    void append(ew::Severity severity, const QString& message);
    void appendReporterLine(int severity, const QString& message) {
        append(static_cast<Severity>(severity), message);
    }
    void clear();

  private:
    QPlainTextEdit* m_view = nullptr;
    QStringList m_lines;
};

} // namespace ew::ui
