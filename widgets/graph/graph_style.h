#pragma once
#include "layout/layout.h"

#include <QColor>
#include <QFont>

namespace ew::ui {

/// Fonts, metrics and colours of the graph canvas, in scene units (1 unit = 1 px at 100 %).
/// Fonts use pixel sizes so boxes measure the same on every screen; created on first use
/// (after QApplication exists) and never changed, so any thread may read them.
struct GraphStyle {
    QFont titleFont;  ///< op type / tensor name, bold
    QFont detailFont; ///< key attributes, shapes, weights
    QFont groupFont;  ///< group labels, bold
    QFont edgeFont;   ///< tensor shapes on edges

    double padX = 8;        ///< inner horizontal margin of a node box
    double titleH = 20;     ///< height of a node's title row
    double lineH = 14;      ///< height of each further text row
    double bottomPad = 4;   ///< below the last row
    double minWidth = 52;   ///< narrowest node box
    double maxText = 260;   ///< longer texts are elided
    double stackOffset = 4; ///< the "stack of cards" offset of a collapsed group box

    QColor background{0xfb, 0xfb, 0xfc};
    QColor edge{0x78, 0x84, 0x94};
    QColor edgeHighlight{0xe0, 0x6c, 0x00};
    QColor selection{0xff, 0x8c, 0x00};
    QColor searchHit{0xff, 0xd4, 0x00};
    QColor text{0x20, 0x24, 0x2a};
    QColor mutedText{0x5a, 0x63, 0x70};
    QColor weightText{0x4a, 0x55, 0x80};
    QColor body{0xff, 0xff, 0xff};
    QColor border{0x4a, 0x52, 0x5e};
    QColor noValue{0xdc, 0xdf, 0xe3}; ///< header of a node without a value while an overlay shows
    QColor inputFill{0xdf, 0xf2, 0xe3};
    QColor inputBorder{0x2e, 0x7d, 0x43};
    QColor outputFill{0xf6, 0xe3, 0xe8};
    QColor outputBorder{0x7b, 0x2d, 0x43};
    QColor initializerFill{0xee, 0xee, 0xf4};
    QColor initializerBorder{0x7a, 0x7f, 0x99};
    QColor frameFill[2] = {{0xf0, 0xf4, 0xf9}, {0xe4, 0xeb, 0xf3}};
    QColor frameBorder{0xa9, 0xb8, 0xca};
    QColor frameText{0x3d, 0x4f, 0x66};
    QColor collapsedFill{0xd6, 0xe1, 0xee};
    QColor collapsedBorder{0x5d, 0x76, 0x96};

    /// The layout options the canvas uses (room between layers for shape labels).
    layout::LayoutOptions layoutOptions() const;

    static const GraphStyle& get();
};

/// Level of detail, as QStyleOptionGraphicsItem::levelOfDetailFromTransform gives it (the
/// scale for an unrotated view).
/// Below kTextLod boxes are plain, without text; below kSketchLod the view stops painting items
/// and draws the whole graph as batched rectangles and polylines (GraphSketch), which keeps the
/// frame time flat however many nodes are on screen.
inline constexpr double kTextLod = 0.42;
inline constexpr double kSketchLod = 0.28;
/// Between kSketchLod and kTextLod items show no text either: on a large screen showing more
/// boxes than this, the view paints the sketch there too.
inline constexpr int kMaxPaintedItems = 1500;
inline constexpr double kEdgeLabelLod = 0.6;
inline constexpr double kArrowLod = 0.2;

/// Readable text on `fill`: dark on light colours, white on dark ones.
QColor textOn(const QColor& fill);

} // namespace ew::ui
