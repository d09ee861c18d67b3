#pragma once
#include "layout/layout.h"

#include <QGraphicsView>

#include <vector>

namespace ew::ui {

class GraphScene;
class Minimap;

/// The canvas' view: zoom with the wheel (around the cursor) and pinch gestures, pan by
/// dragging the background or with the arrow keys, fit to window, zoom to the selection, move
/// to producers and consumers with Alt+arrows, Enter toggles a selected group. Paints on the
/// raster viewport (offscreen tests and screenshots work). Below kSketchLod it does not paint
/// items at all but the scene's GraphSketch, so a frame showing 10k nodes costs about as much
/// as the rectangles and lines themselves. Owns the minimap in its bottom-right corner (shown
/// while the drawing does not fit).
/// Invariant: the scale stays within [minScale(), kMaxScale]; the scroll area always extends
/// most of a viewport past the drawing so any item can be centred.
class GraphView : public QGraphicsView {
    Q_OBJECT
  public:
    static constexpr double kMaxScale = 4.0;

    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);

    GraphScene* graphScene() const { return m_scene; }
    Minimap* minimap() const { return m_minimap; }

    /// Current scale (1 = 100 %); the level of detail items see.
    double zoom() const;
    double minScale() const;
    /// Scales by `factor` keeping the scene point under `viewportPos` in place.
    void zoomBy(double factor, QPointF viewportPos);
    void zoomBy(double factor);
    void setZoom(double scale);
    /// Whether painting now uses the sketch (far out) rather than the items.
    bool isSketchMode() const;
    /// Off: always paint items, at any zoom (the bench compares both).
    void setSketchEnabled(bool on);
    /// The minimap shows when enabled and the drawing does not fit in the viewport.
    void setMinimapEnabled(bool on);

    /// Text shown in the middle of an empty canvas ("Laying out…", "Open a model…").
    void setPlaceholderText(const QString& text);
    QString placeholderText() const { return m_placeholder; }

    /// The scene rectangle the viewport shows.
    QRectF visibleSceneRect() const;
    /// Centres on `sceneRect`'s centre; zooms in to at least `minZoom` (0: keep the zoom).
    void centerOnRect(const QRectF& sceneRect, double minZoom = 0);

  public slots:
    void fitAll();
    /// Fits the selected item (with some context), at most 150 %.
    void zoomToSelection();
    void zoomIn() { zoomBy(1.25); }
    void zoomOut() { zoomBy(0.8); }
    void resetZoom() { setZoom(1.0); }
    /// Opens on something readable: the whole graph when it fits at >= 60 %, else 100 % at
    /// the top (where the inputs are), centred horizontally on the first graph input.
    void showInitialView();
    /// Recomputes the scroll area after the drawing changed.
    void updateSceneRect();

  signals:
    /// Zoom or scroll position changed.
    void viewChanged();
    /// Alt+Up / Alt+Down / Alt+Left / Alt+Right: move the selection through the graph.
    void navigateRequested(int key);
    /// Enter on a selected collapsed group, or the context menu's toggle.
    void toggleSelectedRequested();

  protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool viewportEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void showEvent(QShowEvent* event) override;

  private:
    void placeMinimap();
    void updateMinimapVisibility();

    GraphScene* m_scene;
    Minimap* m_minimap = nullptr;
    mutable bool m_lastSketch = false;
    bool m_sketchEnabled = true;
    bool m_minimapEnabled = true;
    QString m_placeholder;
};

} // namespace ew::ui
