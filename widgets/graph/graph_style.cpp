#include "graph_style.h"

namespace ew::ui {

namespace {

QFont pixelFont(int px, bool bold) {
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setStyleHint(QFont::SansSerif);
    f.setPixelSize(px);
    f.setBold(bold);
    // Scaled views must not snap glyphs to the hinting grid, or zoomed text jitters.
    f.setHintingPreference(QFont::PreferNoHinting);
    return f;
}

} // namespace

const GraphStyle& GraphStyle::get() {
    static const GraphStyle style = [] {
        GraphStyle s;
        s.titleFont = pixelFont(12, true);
        s.detailFont = pixelFont(10, false);
        s.groupFont = pixelFont(11, true);
        s.edgeFont = pixelFont(9, false);
        return s;
    }();
    return style;
}

layout::LayoutOptions GraphStyle::layoutOptions() const {
    layout::LayoutOptions o;
    o.nodeSeparation = 28;
    o.layerSeparation = 44;
    o.groupPadding = 12;
    o.groupHeader = 24;
    return o;
}

QColor textOn(const QColor& fill) {
    // Relative luminance with the sRGB weights; 0.55 keeps white on the category colours.
    const double l = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF();
    return l > 0.55 ? QColor(0x20, 0x24, 0x2a) : QColor(Qt::white);
}

} // namespace ew::ui
