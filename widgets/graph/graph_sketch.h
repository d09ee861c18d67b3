#pragma once
#include <QColor>
#include <QLineF>
#include <QRectF>

#include <cstdint>
#include <vector>

class QPainter;

namespace ew::ui {

/// The whole drawing as flat arrays for painting far out: boxes (nodes and collapsed groups)
/// as filled rectangles bucketed by colour, edges as straight polylines through their route's
/// segment ends, expanded groups as tinted frames; no text, no antialiasing. A uniform grid
/// over the drawing finds what intersects the exposed rectangle, so a frame costs
/// O(cells + visible items) and never touches a QGraphicsItem. The view paints it instead of the
/// items below kSketchLod; the minimap paints it into its thumbnail.
/// Invariant: box i of addBox() keeps index i; colours may change, geometry may not (rebuild).
class GraphSketch {
  public:
    void clear();
    /// Geometry; call finish() once everything is added.
    int addBox(const QRectF& rect, QRgb color);
    void addFrame(const QRectF& rect, int depth);
    void addPolyline(const std::vector<QPointF>& points);
    void finish(const QRectF& bounds);

    void setBoxColor(int box, QRgb color);
    /// Boxes drawn with a marker that stays visible at any zoom (selection, search hits).
    void setMarks(std::vector<int> selected, std::vector<int> hits);

    /// Paints what intersects `exposed` (scene coordinates) with the painter's transform.
    void paint(QPainter* painter, const QRectF& exposed, double lod) const;

    int boxCount() const { return int(m_boxes.size()); }
    /// Boxes intersecting `area`, counting no further than `limit`.
    int countBoxes(const QRectF& area, int limit) const;
    int lineCount() const { return int(m_lines.size()); }
    /// Items the last paint() drew (boxes, lines), for the bench.
    int lastBoxesDrawn() const { return m_lastBoxes; }
    int lastLinesDrawn() const { return m_lastLines; }

  private:
    struct Box {
        QRectF rect;
        QRgb color;
    };
    struct Frame {
        QRectF rect;
        int depth;
    };
    /// CSR grid: cell c holds m_items[m_cellStart[c] .. m_cellStart[c + 1]), each an index
    /// tagged by kind in its top two bits.
    void buildGrid();
    int cellX(double x) const;
    int cellY(double y) const;

    std::vector<Box> m_boxes;
    std::vector<Frame> m_frames;
    std::vector<QLineF> m_lines;
    std::vector<int> m_selected;
    std::vector<int> m_hits;

    QRectF m_bounds;
    double m_cell = 512;
    int m_cols = 0;
    int m_rows = 0;
    std::vector<std::uint32_t> m_cellStart;
    std::vector<std::uint32_t> m_items;
    // Per-paint dedupe of items spanning several cells.
    mutable std::vector<std::uint32_t> m_boxSeen;
    mutable std::vector<std::uint32_t> m_lineSeen;
    mutable std::uint32_t m_stamp = 0;
    mutable int m_lastBoxes = 0;
    mutable int m_lastLines = 0;
};

} // namespace ew::ui
