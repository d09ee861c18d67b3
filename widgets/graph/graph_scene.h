#pragma once
#include "graph_model.h"
#include "graph_sketch.h"

#include <QGraphicsScene>
#include <QPointer>
#include <QSet>

#include <optional>
#include <vector>

namespace ew::ui {

class EdgeItem;
class GroupItem;
class NodeItem;
class OverlayController;

/// The canvas' scene: one NodeItem per visible node, one GroupItem per visible group (frame or
/// collapsed box), one EdgeItem per drawn edge, built from a Drawing of the model's layout and
/// rebuilt whole when the drawing changes; plus the same drawing as a GraphSketch for painting
/// far out. Tints nodes by the overlay's colours, marks search hits, keeps at most one item
/// selected, and answers producer/consumer questions in terms of what is visible (a collapsed
/// group stands for everything inside it). Items live in a BSP tree index, so only those in
/// the exposed area are painted.
class GraphScene : public QGraphicsScene {
    Q_OBJECT
  public:
    explicit GraphScene(QObject* parent = nullptr);
    ~GraphScene() override;

    /// Drops all items and takes a new model (nullptr: empty canvas).
    void setModel(GraphModelPtr model);
    const GraphModelPtr& model() const { return m_model; }
    /// Replaces the items with `drawing`, a successful run of the model's layout. The selection
    /// survives when its item is still visible.
    void setDrawing(layout::Drawing drawing);
    const layout::Drawing& drawing() const { return m_drawing; }
    bool hasDrawing() const { return m_hasDrawing; }
    /// The drawing's extent in scene coordinates.
    QRectF drawingRect() const;

    NodeItem* nodeItem(layout::NodeId id) const;
    GroupItem* groupItem(layout::GroupId id) const;
    QGraphicsItem* itemFor(layout::ItemRef ref) const;
    const std::vector<NodeItem*>& nodeItems() const { return m_nodeList; }
    const std::vector<GroupItem*>& groupItems() const { return m_groupList; }
    const std::vector<EdgeItem*>& edgeItems() const { return m_edges; }
    /// The visible item standing for a node: itself or its outermost collapsed group.
    std::optional<layout::ItemRef> shownRef(layout::NodeId id) const;
    QRectF rectOf(layout::ItemRef ref) const;

    std::optional<layout::ItemRef> selectedRef() const { return m_selected; }
    /// Selects one item (clearing any other); false when it is not visible.
    bool selectRef(layout::ItemRef ref);
    bool isSelected(layout::ItemRef ref) const { return m_selected && *m_selected == ref; }

    /// Visible items feeding `ref` / fed by it, left to right.
    std::vector<layout::ItemRef> producers(layout::ItemRef ref) const;
    std::vector<layout::ItemRef> consumers(layout::ItemRef ref) const;

    /// Tints node headers with the controller's current overlay (nullptr: categories only).
    void setOverlay(OverlayController* overlay);
    bool overlayActive() const;
    /// The header colour of node `id`: its category, its overlay value, or neutral.
    QColor headerColor(layout::NodeId id) const;

    void setShowShapes(bool on);
    bool showShapes() const { return m_showShapes; }

    /// Highlights search hits: nodes, and drawn edges carrying the given tensors.
    void setSearchHits(const QSet<layout::NodeId>& nodes, const QSet<const ir::Value*>& tensors);
    bool isSearchHit(layout::NodeId id) const { return m_hitNodes.contains(id); }
    bool isEdgeHighlighted(int edge) const;
    /// Drawn edges carrying `value`.
    std::vector<int> drawnEdgesOf(const ir::Value* value) const;

    const GraphSketch& sketch() const { return m_sketch; }
    /// Rich-text tooltip for a node or group item; empty for others.
    QString toolTipFor(const QGraphicsItem* item) const;

    /// Called by GroupItem on double-click.
    void requestToggle(layout::GroupId id, const QPointF& scenePos) {
        emit groupToggleRequested(id, scenePos);
    }

  signals:
    void groupToggleRequested(int group, const QPointF& scenePos);
    /// The selected item changed (nullopt: nothing selected).
    void selectedRefChanged();
    /// Colours, marks or items changed: cached renderings (the minimap) are stale.
    void appearanceChanged();

  private:
    void onSelectionChanged();
    void updateSketchColors();
    void updateSketchMarks();
    void updateIncidentEdges(layout::ItemRef ref);
    int keyOf(layout::ItemRef ref) const;

    GraphModelPtr m_model;
    layout::Drawing m_drawing;
    bool m_hasDrawing = false;
    std::vector<NodeItem*> m_nodeItems;   ///< by NodeId; null when hidden
    std::vector<GroupItem*> m_groupItems; ///< by GroupId; null when hidden
    std::vector<NodeItem*> m_nodeList;
    std::vector<GroupItem*> m_groupList;
    std::vector<EdgeItem*> m_edges;
    std::vector<int> m_sketchBox; ///< per key (nodes, then groups): box index in m_sketch, -1
    std::vector<std::vector<int>> m_inEdges;  ///< per key: drawn edges arriving
    std::vector<std::vector<int>> m_outEdges; ///< per key: drawn edges leaving
    GraphSketch m_sketch;
    std::optional<layout::ItemRef> m_selected;
    bool m_inSelectionUpdate = false;
    QPointer<OverlayController> m_overlay;
    bool m_showShapes = true;
    QSet<layout::NodeId> m_hitNodes;
    QSet<const ir::Value*> m_hitTensors;
    QSet<int> m_hitEdges;
};

} // namespace ew::ui
