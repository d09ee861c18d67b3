#pragma once
#include <QImage>
#include <QWidget>

namespace ew::ui {

class GraphView;

/// A thumbnail of the whole drawing in the view's corner with the visible area outlined;
/// clicking or dragging in it moves the view there. The thumbnail is the scene's GraphSketch
/// rendered once into an image and re-rendered only when the scene's appearance changes;
/// moving the view only repaints the outline.
class Minimap : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kMaxSide = 190;

    Minimap(GraphView* view, QWidget* parent);

    QSize sizeHint() const override;
    /// Where the drawing lies inside the widget.
    QRectF thumbRect() const;
    /// Scene point for a widget point (clamped to the drawing).
    QPointF toScene(const QPointF& widgetPos) const;

  public slots:
    /// The scene changed: the thumbnail is re-rendered on the next paint.
    void invalidate();

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

  private:
    GraphView* m_view;
    QImage m_thumb;
    bool m_stale = true;
};

} // namespace ew::ui
