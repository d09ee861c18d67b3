#include "qt_reporter.h"

#include <algorithm>
#include <cmath>

namespace ew::ui {

void QtReporter::log(Severity severity, std::string_view message) {
    emit logMessage(static_cast<int>(severity),
                    QString::fromUtf8(message.data(), qsizetype(message.size())));
}

void QtReporter::progress(std::string_view stage, double fraction) {
    int percent = int(std::lround(std::clamp(fraction, 0.0, 1.0) * 100.0));
    {
        std::lock_guard lock(m_mutex);
        if (stage == m_lastStage && percent == m_lastPercent) return;
        m_lastStage.assign(stage);
        m_lastPercent = percent;
    }
    emit progressChanged(QString::fromUtf8(stage.data(), qsizetype(stage.size())),
                         std::clamp(fraction, 0.0, 1.0));
}

} // namespace ew::ui
