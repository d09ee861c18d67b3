#include "graph_scene.h"

#include "graph_items.h"
#include "graph_style.h"
#include "widgets/format_util.h"
#include "widgets/overlay/overlay_controller.h"

#include <QFontMetricsF>
#include <QHash>

#include <algorithm>

namespace ew::ui {

namespace {

QRectF toQt(const layout::Rect& r) {
    return {r.x, r.y, r.w, r.h};
}

using Kind = layout::ItemRef::Kind;

} // namespace

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent) {
    setItemIndexMethod(QGraphicsScene::BspTreeIndex);
    setBackgroundBrush(GraphStyle::get().background);
    connect(this, &QGraphicsScene::selectionChanged, this, &GraphScene::onSelectionChanged);
}

GraphScene::~GraphScene() {
    // Items point into the model; delete them while it is still alive.
    m_inSelectionUpdate = true;
    clear();
}

void GraphScene::setModel(GraphModelPtr model) {
    m_inSelectionUpdate = true;
    clear();
    m_inSelectionUpdate = false;
    m_nodeItems.clear();
    m_groupItems.clear();
    m_nodeList.clear();
    m_groupList.clear();
    m_edges.clear();
    m_sketch.clear();
    m_sketchBox.clear();
    m_inEdges.clear();
    m_outEdges.clear();
    m_hitNodes.clear();
    m_hitTensors.clear();
    m_hitEdges.clear();
    m_selected.reset();
    m_drawing = {};
    m_hasDrawing = false;
    m_model = std::move(model);
    setSceneRect(QRectF(0, 0, 1, 1));
    emit selectedRefChanged();
    emit appearanceChanged();
}

QRectF GraphScene::drawingRect() const {
    return {0, 0, std::max(1.0, m_drawing.width), std::max(1.0, m_drawing.height)};
}

int GraphScene::keyOf(layout::ItemRef ref) const {
    return ref.kind == Kind::Node ? ref.id : int(m_nodeItems.size()) + ref.id;
}

void GraphScene::setDrawing(layout::Drawing drawing) {
    if (!m_model) return;
    const std::optional<layout::ItemRef> keep = m_selected;
    m_inSelectionUpdate = true;
    clear();
    m_inSelectionUpdate = false;
    m_drawing = std::move(drawing);
    m_hasDrawing = true;
    const std::size_t nodes = m_model->nodeCount();
    const std::size_t groups = m_model->groupCount();
    m_nodeItems.assign(nodes, nullptr);
    m_groupItems.assign(groups, nullptr);
    m_nodeList.clear();
    m_groupList.clear();
    m_edges.clear();
    m_sketch.clear();
    m_sketchBox.assign(nodes + groups, -1);
    m_inEdges.assign(nodes + groups, {});
    m_outEdges.assign(nodes + groups, {});
    m_selected.reset();
    // The BSP index covers the drawing; the view adds its own margins for scrolling.
    setSceneRect(drawingRect().adjusted(-200, -200, 200, 200));

    const GraphStyle& st = GraphStyle::get();
    for (std::size_t g = 0; g < groups && g < m_drawing.groups.size(); ++g) {
        const layout::GroupBox& box = m_drawing.groups[g];
        if (box.state == layout::GroupBox::State::Hidden) continue;
        auto* item = new GroupItem(this, layout::GroupId(g), box);
        addItem(item);
        m_groupItems[g] = item;
        m_groupList.push_back(item);
        if (box.state == layout::GroupBox::State::Collapsed)
            m_sketchBox[nodes + g] = m_sketch.addBox(toQt(box.rect), st.collapsedBorder.rgb());
        else
            m_sketch.addFrame(toQt(box.rect), box.depth);
    }
    for (std::size_t i = 0; i < nodes && i < m_drawing.nodes.size(); ++i) {
        const layout::NodeBox& box = m_drawing.nodes[i];
        if (!box.visible) continue;
        auto* item = new NodeItem(this, layout::NodeId(i), toQt(box.rect));
        addItem(item);
        m_nodeItems[i] = item;
        m_nodeList.push_back(item);
        m_sketchBox[i] = m_sketch.addBox(toQt(box.rect), headerColor(layout::NodeId(i)).rgb());
    }
    // One shape label per (source, tensor): fan-outs of one tensor say it once.
    QSet<QPair<int, const ir::Value*>> labelled;
    std::vector<QPointF> polyline;
    for (std::size_t e = 0; e < m_drawing.edges.size(); ++e) {
        const layout::DrawnEdge& de = m_drawing.edges[e];
        const layout::ItemRef src = de.reversed ? de.to : de.from;
        const layout::ItemRef dst = de.reversed ? de.from : de.to;
        m_outEdges[std::size_t(keyOf(src))].push_back(int(e));
        m_inEdges[std::size_t(keyOf(dst))].push_back(int(e));
        QString label;
        const ir::Value* v = de.edges.empty() ? nullptr : m_model->edgeValue(de.edges.front());
        if (v && !labelled.contains({keyOf(src), v})) {
            labelled.insert({keyOf(src), v});
            label = QFontMetricsF(st.edgeFont)
                        .elidedText(compactShape(v->type), Qt::ElideMiddle, st.maxText * 0.75);
            if (label == QLatin1String("?")) label.clear();
        }
        auto* item = new EdgeItem(this, int(e), de, label);
        addItem(item);
        m_edges.push_back(item);
        polyline.clear();
        for (std::size_t k = 0; k < de.bezier.size(); k += 3)
            polyline.emplace_back(de.bezier[k].x, de.bezier[k].y);
        m_sketch.addPolyline(polyline);
    }
    m_sketch.finish(drawingRect());
    // Tensor hits follow the tensors onto the new edges.
    m_hitEdges.clear();
    for (const ir::Value* v : std::as_const(m_hitTensors))
        for (int e : drawnEdgesOf(v))
            m_hitEdges.insert(e);
    if (keep && itemFor(*keep)) {
        selectRef(*keep);
    } else {
        updateSketchMarks();
        emit selectedRefChanged();
    }
    emit appearanceChanged();
}

NodeItem* GraphScene::nodeItem(layout::NodeId id) const {
    return id >= 0 && std::size_t(id) < m_nodeItems.size() ? m_nodeItems[std::size_t(id)] : nullptr;
}

GroupItem* GraphScene::groupItem(layout::GroupId id) const {
    return id >= 0 && std::size_t(id) < m_groupItems.size() ? m_groupItems[std::size_t(id)]
                                                            : nullptr;
}

QGraphicsItem* GraphScene::itemFor(layout::ItemRef ref) const {
    if (ref.kind == Kind::Node) return nodeItem(ref.id);
    return groupItem(ref.id);
}

std::optional<layout::ItemRef> GraphScene::shownRef(layout::NodeId id) const {
    if (nodeItem(id)) return layout::ItemRef{Kind::Node, id};
    if (id < 0 || std::size_t(id) >= m_drawing.nodes.size()) return std::nullopt;
    const layout::GroupId g = m_drawing.nodes[std::size_t(id)].shownBy;
    if (GroupItem* item = groupItem(g); item && item->isCollapsed())
        return layout::ItemRef{Kind::Group, g};
    return std::nullopt;
}

QRectF GraphScene::rectOf(layout::ItemRef ref) const {
    if (ref.kind == Kind::Node) {
        if (NodeItem* n = nodeItem(ref.id)) return n->rect();
    } else if (GroupItem* g = groupItem(ref.id)) {
        return g->rect();
    }
    return {};
}

bool GraphScene::selectRef(layout::ItemRef ref) {
    QGraphicsItem* item = itemFor(ref);
    if (!item || !(item->flags() & QGraphicsItem::ItemIsSelectable)) return false;
    m_inSelectionUpdate = true;
    clearSelection();
    item->setSelected(true);
    m_inSelectionUpdate = false;
    onSelectionChanged();
    return true;
}

void GraphScene::onSelectionChanged() {
    if (m_inSelectionUpdate) return;
    std::optional<layout::ItemRef> now;
    const QList<QGraphicsItem*> sel = selectedItems();
    if (!sel.isEmpty()) {
        if (auto* n = qgraphicsitem_cast<NodeItem*>(sel.first()))
            now = layout::ItemRef{Kind::Node, n->id()};
        else if (auto* g = qgraphicsitem_cast<GroupItem*>(sel.first()))
            now = layout::ItemRef{Kind::Group, g->id()};
    }
    if (now == m_selected) return;
    const std::optional<layout::ItemRef> before = m_selected;
    m_selected = now;
    if (before) updateIncidentEdges(*before);
    if (now) updateIncidentEdges(*now);
    updateSketchMarks();
    emit selectedRefChanged();
    emit appearanceChanged();
}

void GraphScene::updateIncidentEdges(layout::ItemRef ref) {
    const std::size_t k = std::size_t(keyOf(ref));
    if (k >= m_inEdges.size()) return;
    for (const auto* list : {&m_inEdges[k], &m_outEdges[k]})
        for (int e : *list)
            m_edges[std::size_t(e)]->update();
}

std::vector<layout::ItemRef> GraphScene::producers(layout::ItemRef ref) const {
    std::vector<layout::ItemRef> out;
    const std::size_t k = std::size_t(keyOf(ref));
    if (k >= m_inEdges.size()) return out;
    for (int e : m_inEdges[k]) {
        const layout::DrawnEdge& de = m_drawing.edges[std::size_t(e)];
        out.push_back(de.reversed ? de.to : de.from);
    }
    std::sort(out.begin(), out.end(), [this](layout::ItemRef a, layout::ItemRef b) {
        return rectOf(a).center().x() < rectOf(b).center().x();
    });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<layout::ItemRef> GraphScene::consumers(layout::ItemRef ref) const {
    std::vector<layout::ItemRef> out;
    const std::size_t k = std::size_t(keyOf(ref));
    if (k >= m_outEdges.size()) return out;
    for (int e : m_outEdges[k]) {
        const layout::DrawnEdge& de = m_drawing.edges[std::size_t(e)];
        out.push_back(de.reversed ? de.from : de.to);
    }
    std::sort(out.begin(), out.end(), [this](layout::ItemRef a, layout::ItemRef b) {
        return rectOf(a).center().x() < rectOf(b).center().x();
    });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void GraphScene::setOverlay(OverlayController* overlay) {
    if (m_overlay) disconnect(m_overlay, nullptr, this, nullptr);
    m_overlay = overlay;
    if (m_overlay)
        connect(m_overlay, &OverlayController::changed, this, &GraphScene::updateSketchColors);
    updateSketchColors();
}

bool GraphScene::overlayActive() const {
    return m_overlay && m_overlay->current() && m_model && m_model->document() &&
           m_overlay->document() == m_model->document();
}

QColor GraphScene::headerColor(layout::NodeId id) const {
    const GraphStyle& st = GraphStyle::get();
    const GraphNodeInfo& info = m_model->node(id);
    switch (info.kind) {
    case layout::IrItemKind::GraphInput:
        return st.inputBorder;
    case layout::IrItemKind::GraphOutput:
        return st.outputBorder;
    case layout::IrItemKind::Initializer:
        return st.initializerBorder;
    default:
        break;
    }
    if (info.node && overlayActive()) {
        const std::optional<QColor> c = m_overlay->colorFor(info.key);
        return c ? *c : st.noValue;
    }
    return opCategoryColor(info.category);
}

void GraphScene::updateSketchColors() {
    if (!m_model) return;
    for (NodeItem* n : m_nodeList) {
        m_sketch.setBoxColor(m_sketchBox[std::size_t(n->id())], headerColor(n->id()).rgb());
        n->update();
    }
    emit appearanceChanged();
}

void GraphScene::updateSketchMarks() {
    std::vector<int> sel, hits;
    if (m_selected) {
        const std::size_t k = std::size_t(keyOf(*m_selected));
        if (k < m_sketchBox.size() && m_sketchBox[k] >= 0) sel.push_back(m_sketchBox[k]);
    }
    for (layout::NodeId id : std::as_const(m_hitNodes))
        if (nodeItem(id)) hits.push_back(m_sketchBox[std::size_t(id)]);
    m_sketch.setMarks(std::move(sel), std::move(hits));
}

void GraphScene::setShowShapes(bool on) {
    if (on == m_showShapes) return;
    m_showShapes = on;
    for (EdgeItem* e : m_edges)
        if (!e->label().isEmpty()) e->update();
}

void GraphScene::setSearchHits(const QSet<layout::NodeId>& nodes,
                               const QSet<const ir::Value*>& tensors) {
    QSet<layout::NodeId> changedNodes = m_hitNodes + nodes;
    m_hitNodes = nodes;
    m_hitTensors = tensors;
    QSet<int> oldEdges = m_hitEdges;
    m_hitEdges.clear();
    for (const ir::Value* v : tensors)
        for (int e : drawnEdgesOf(v))
            m_hitEdges.insert(e);
    for (layout::NodeId id : std::as_const(changedNodes))
        if (NodeItem* n = nodeItem(id)) n->update();
    for (int e : oldEdges + m_hitEdges)
        m_edges[std::size_t(e)]->update();
    updateSketchMarks();
    emit appearanceChanged();
}

bool GraphScene::isEdgeHighlighted(int edge) const {
    return m_hitEdges.contains(edge);
}

std::vector<int> GraphScene::drawnEdgesOf(const ir::Value* value) const {
    std::vector<int> out;
    if (!m_model || !value) return out;
    const std::vector<layout::EdgeId> originals = m_model->edgesOf(value);
    if (originals.empty()) return out;
    for (std::size_t e = 0; e < m_drawing.edges.size(); ++e) {
        const auto& list = m_drawing.edges[e].edges;
        for (layout::EdgeId o : originals)
            if (std::binary_search(list.begin(), list.end(), o)) {
                out.push_back(int(e));
                break;
            }
    }
    return out;
}

QString GraphScene::toolTipFor(const QGraphicsItem* item) const {
    if (!m_model) return {};
    auto esc = [](const QString& s) { return s.toHtmlEscaped(); };
    if (auto* n = qgraphicsitem_cast<const NodeItem*>(item)) {
        const GraphNodeInfo& info = n->info();
        QString html;
        if (info.node) {
            const ir::Node& node = *info.node;
            html = QStringLiteral("<b>%1</b><br/>%2 · %3")
                       .arg(esc(qstr(node.displayName())), esc(qstr(node.qualifiedOp())),
                            esc(opCategoryName(info.category)));
            auto values = [&](const std::vector<ir::Value*>& vs, const QString& head) {
                QString out;
                for (const ir::Value* v : vs)
                    if (v)
                        out += QStringLiteral("<br/>&nbsp;&nbsp;%1 <i>%2</i>")
                                   .arg(esc(qstr(v->name)), esc(compactShape(v->type)));
                return out.isEmpty() ? out : QStringLiteral("<br/>") + head + out;
            };
            html += values(node.inputs(), GraphScene::tr("Inputs:"));
            html += values(node.outputs(), GraphScene::tr("Outputs:"));
            if (overlayActive())
                if (std::optional<double> v = m_overlay->valueFor(info.key))
                    html += QStringLiteral("<br/>%1: %2 %3")
                                .arg(esc(m_overlay->current()->name), QString::number(*v, 'g', 4),
                                     esc(m_overlay->current()->unit));
        } else if (info.value) {
            const QString what =
                info.kind == layout::IrItemKind::GraphInput    ? GraphScene::tr("Graph input")
                : info.kind == layout::IrItemKind::GraphOutput ? GraphScene::tr("Graph output")
                                                               : GraphScene::tr("Initializer");
            html = QStringLiteral("<b>%1</b><br/>%2 · %3 %4")
                       .arg(esc(qstr(info.value->name)), what, esc(dtypeText(info.value->type)),
                            esc(shapeText(info.value->type)));
        } else {
            html = esc(info.title);
        }
        return html;
    }
    if (auto* g = qgraphicsitem_cast<const GroupItem*>(item)) {
        const GraphGroupInfo& info = m_model->group(g->id());
        return QStringLiteral("<b>%1</b><br/>%2<br/><i>%3</i>")
            .arg(esc(info.path), groupCountText(info.opCount),
                 g->isCollapsed() ? GraphScene::tr("Double-click to expand")
                                  : GraphScene::tr("Double-click the header to collapse"));
    }
    return {};
}

} // namespace ew::ui
