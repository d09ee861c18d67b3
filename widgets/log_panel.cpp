#include "log_panel.h"

#include <QDateTime>
#include <QPlainTextEdit>
#include <QVBoxLayout>

namespace ew::ui {

namespace {
constexpr int kMaxLines = 5000;
}

LogPanel::LogPanel(QWidget* parent) : QWidget(parent) {
    m_view = new QPlainTextEdit(this);
    m_view->setObjectName(QStringLiteral("logView"));
    m_view->setReadOnly(true);
    m_view->setMaximumBlockCount(kMaxLines);
    m_view->setLineWrapMode(QPlainTextEdit::NoWrap);
    QFont mono(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::TypeWriter);
    m_view->setFont(mono);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_view);
}

void LogPanel::append(Severity severity, const QString& message) {
    QString level;
    QString color;
    switch (severity) {
    case Severity::Debug:
        level = tr("debug");
        color = QStringLiteral("#777777");
        break;
    case Severity::Info:
        level = tr("info");
        break;
    case Severity::Warning:
        level = tr("warning");
        color = QStringLiteral("#a05a00");
        break;
    case Severity::Error:
        level = tr("error");
        color = QStringLiteral("#c00000");
        break;
    }
    QString line = QStringLiteral("%1  %2  %3")
                       .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")),
                            level.leftJustified(7), message);
    m_lines << line;
    if (m_lines.size() > kMaxLines) m_lines.removeFirst();
    QString html = line.toHtmlEscaped();
    if (!color.isEmpty())
        html = QStringLiteral("<span style=\"color:%1\">%2</span>").arg(color, html);
    m_view->appendHtml(QStringLiteral("<pre style=\"margin:0\">%1</pre>").arg(html));
}

void LogPanel::clear() {
    m_lines.clear();
    m_view->clear();
}

} // namespace ew::ui
