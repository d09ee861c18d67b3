#pragma once
#include "graph_model.h"
#include "graph_style.h"

#include <QGraphicsItem>
#include <QPainterPath>

namespace ew::ui {

class GraphScene;

/// One visible node: a box with a header in its category's colour (or the overlay's colour)
/// showing the op type, then rows for key attributes and weights; graph inputs and outputs are
/// pills, initializer nodes dashed boxes. Far out (below kTextLod) a plain filled box.
/// Selectable; its scene keeps the data it points at alive.
class NodeItem : public QGraphicsItem {
  public:
    enum { Type = UserType + 1 };
    NodeItem(GraphScene* scene, layout::NodeId id, const QRectF& rect);

    int type() const override { return Type; }
    layout::NodeId id() const { return m_id; }
    const GraphNodeInfo& info() const { return *m_info; }
    QRectF rect() const { return m_rect; }
    /// Graph inputs and outputs are drawn as pills.
    bool isPill() const;
    /// The colour of the header row (category, overlay value, or input/output border colour).
    QColor headerColor() const;

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    /// Whether boxes show text at this level of detail.
    static bool showsText(double lod) { return lod >= kTextLod; }

  private:
    GraphScene* m_scene;
    layout::NodeId m_id;
    const GraphNodeInfo* m_info;
    QRectF m_rect;
};

/// One visible group: an expanded frame (tinted by depth, label in its header band; only the
/// header reacts to the mouse, so drags on the frame pan the view) or a collapsed box drawn as a
/// small stack of cards with the label and the number of nodes inside. Double-clicking either
/// asks the scene to toggle it.
class GroupItem : public QGraphicsItem {
  public:
    enum { Type = UserType + 2 };
    GroupItem(GraphScene* scene, layout::GroupId id, const layout::GroupBox& box);

    int type() const override { return Type; }
    layout::GroupId id() const { return m_id; }
    bool isCollapsed() const { return m_collapsed; }
    QRectF rect() const { return m_rect; }
    /// The part that reacts to the mouse: the header band, or the whole collapsed box.
    QRectF headerRect() const;

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  protected:
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) override;

  private:
    GraphScene* m_scene;
    layout::GroupId m_id;
    QRectF m_rect;
    int m_depth = 0;
    bool m_collapsed = false;
};

/// One drawn edge: the layout's Bezier route as a cached path, an arrow head where the data
/// arrives, and optionally the tensor's shape next to its start. Highlighted when either end is
/// selected or its tensor is a search hit. Takes no mouse input.
class EdgeItem : public QGraphicsItem {
  public:
    enum { Type = UserType + 3 };
    EdgeItem(GraphScene* scene, int index, const layout::DrawnEdge& edge, QString label);

    int type() const override { return Type; }
    int index() const { return m_index; }
    const QPainterPath& path() const { return m_path; }
    const QPolygonF& arrow() const { return m_arrow; }
    QString label() const { return m_label; }
    layout::ItemRef from() const { return m_from; }
    layout::ItemRef to() const { return m_to; }

    QRectF boundingRect() const override { return m_bounds; }
    QPainterPath shape() const override { return m_path; }
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  private:
    GraphScene* m_scene;
    int m_index;
    layout::ItemRef m_from;
    layout::ItemRef m_to;
    QPainterPath m_path;
    QPolygonF m_arrow;
    QString m_label;
    QRectF m_labelRect;
    QRectF m_bounds;
};

} // namespace ew::ui
