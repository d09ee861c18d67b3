#include "overlay_controller.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace ew::ui {

OverlayController::OverlayController(QObject* parent) : QObject(parent) {}

void OverlayController::setDocument(DocumentPtr doc) {
    m_doc = std::move(doc);
    m_overlays.clear();
    m_builtIns = 0;
    if (m_doc) {
        m_overlays.push_back(macsOverlay(*m_doc));
        m_builtIns = int(m_overlays.size());
    }
    m_current = -1;
    m_threshold = 0.0;
    emit overlaysChanged();
    emit changed();
}

int OverlayController::addOverlay(Overlay overlay) {
    if (m_doc && m_doc->graph()) matchOverlay(overlay, *m_doc->graph());
    m_overlays.push_back(std::move(overlay));
    emit overlaysChanged();
    setCurrentIndex(int(m_overlays.size()) - 1);
    return int(m_overlays.size()) - 1;
}

const Overlay* OverlayController::current() const {
    return m_current >= 0 && m_current < int(m_overlays.size())
               ? &m_overlays[std::size_t(m_current)]
               : nullptr;
}

void OverlayController::setCurrentIndex(int index) {
    if (index < -1 || index >= int(m_overlays.size())) index = -1;
    m_current = index;
    m_threshold = current() ? current()->minValue : 0.0;
    emit changed();
}

void OverlayController::setThreshold(double value) {
    const Overlay* o = current();
    double v = o ? std::clamp(value, o->minValue, o->maxValue) : 0.0;
    if (v == m_threshold) return;
    m_threshold = v;
    emit changed();
}

void OverlayController::setLogScale(bool on) {
    if (on == m_logScale) return;
    m_logScale = on;
    emit changed();
}

bool OverlayController::logScaleUsable() const {
    const Overlay* o = current();
    return o && o->minValue > 0.0;
}

std::optional<double> OverlayController::valueFor(const QString& nodeName) const {
    const Overlay* o = current();
    if (!o) return std::nullopt;
    auto it = o->values.constFind(nodeName);
    if (it == o->values.constEnd()) return std::nullopt;
    return it.value();
}

double OverlayController::normalized(double value) const {
    const Overlay* o = current();
    if (!o || !(o->maxValue > o->minValue)) return 1.0;
    double t;
    if (m_logScale && logScaleUsable())
        t = (std::log(std::max(value, o->minValue)) - std::log(o->minValue)) /
            (std::log(o->maxValue) - std::log(o->minValue));
    else
        t = (value - o->minValue) / (o->maxValue - o->minValue);
    return std::clamp(t, 0.0, 1.0);
}

double OverlayController::valueAt(double t) const {
    const Overlay* o = current();
    if (!o) return 0.0;
    t = std::clamp(t, 0.0, 1.0);
    if (t >= 1.0) return o->maxValue; // exact, so the top of the slider keeps the maximum
    if (m_logScale && logScaleUsable())
        return std::exp(std::log(o->minValue) +
                        t * (std::log(o->maxValue) - std::log(o->minValue)));
    return o->minValue + t * (o->maxValue - o->minValue);
}

std::optional<QColor> OverlayController::colorFor(const QString& nodeName) const {
    std::optional<double> v = valueFor(nodeName);
    if (!v || *v < m_threshold) return std::nullopt;
    return gradientColor(normalized(*v));
}

QColor OverlayController::gradientColor(double t) {
    // ColorBrewer YlOrRd: reads as "more is hotter" and stays distinct for colour-blind users.
    static constexpr std::array<QRgb, 8> kStops = {0xffffb2, 0xfee98a, 0xfed976, 0xfeb24c,
                                                   0xfd8d3c, 0xfc4e2a, 0xe31a1c, 0xb10026};
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
    double pos = t * double(kStops.size() - 1);
    auto i = std::size_t(std::floor(pos));
    if (i >= kStops.size() - 1) return QColor(kStops.back());
    double f = pos - double(i);
    QColor a(kStops[i]), b(kStops[i + 1]);
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * f),
                            float(a.greenF() + (b.greenF() - a.greenF()) * f),
                            float(a.blueF() + (b.blueF() - a.blueF()) * f));
}

} // namespace ew::ui
