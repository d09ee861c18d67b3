#include "graph_items.h"

#include "graph_scene.h"

#include <QFontMetricsF>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <cmath>

namespace ew::ui {

namespace {

QPointF toQt(const layout::Point& p) {
    return {p.x, p.y};
}

QRectF toQt(const layout::Rect& r) {
    return {r.x, r.y, r.w, r.h};
}

double lodOf(const QStyleOptionGraphicsItem* option, const QPainter* painter) {
    return option->levelOfDetailFromTransform(painter->worldTransform());
}

/// Point of the cubic (a, b, c, d) at parameter t.
QPointF cubicAt(const QPointF& a, const QPointF& b, const QPointF& c, const QPointF& d, double t) {
    const double u = 1 - t;
    return u * u * u * a + 3 * u * u * t * b + 3 * u * t * t * c + t * t * t * d;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// NodeItem
// ---------------------------------------------------------------------------------------------

NodeItem::NodeItem(GraphScene* scene, layout::NodeId id, const QRectF& rect)
    : m_scene(scene), m_id(id), m_info(&scene->model()->node(id)), m_rect(rect) {
    setFlag(ItemIsSelectable);
    setZValue(10);
}

bool NodeItem::isPill() const {
    return m_info->kind == layout::IrItemKind::GraphInput ||
           m_info->kind == layout::IrItemKind::GraphOutput;
}

QColor NodeItem::headerColor() const {
    return m_scene->headerColor(m_id);
}

QRectF NodeItem::boundingRect() const {
    return m_rect.adjusted(-5, -5, 5, 5); // room for the selection and search-hit outlines
}

QPainterPath NodeItem::shape() const {
    QPainterPath p;
    p.addRect(m_rect);
    return p;
}

void NodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
    const GraphStyle& st = GraphStyle::get();
    const double lod = lodOf(option, p);
    const bool selected = isSelected();
    const bool hit = m_scene->isSearchHit(m_id);
    const QColor header = headerColor();
    const auto kind = m_info->kind;

    if (!showsText(lod)) {
        // Far out: a plain box, no text, no antialiasing.
        p->setRenderHint(QPainter::Antialiasing, false);
        p->setPen(selected ? QPen(st.selection, 0)
                  : hit    ? QPen(st.searchHit.darker(130), 0)
                           : QPen(Qt::NoPen));
        p->setBrush(header);
        p->drawRect(m_rect);
        return;
    }

    p->setRenderHint(QPainter::Antialiasing, true);
    const double radius = isPill() ? m_rect.height() / 2 : 4;
    if (hit) {
        p->setPen(QPen(st.searchHit, 5));
        p->setBrush(Qt::NoBrush);
        p->drawRoundedRect(m_rect.adjusted(-2, -2, 2, 2), radius + 2, radius + 2);
    }

    QColor titleColor = st.text;
    double inset = st.padX;
    if (isPill()) {
        const bool input = kind == layout::IrItemKind::GraphInput;
        p->setPen(QPen(input ? st.inputBorder : st.outputBorder, 1.5));
        p->setBrush(input ? st.inputFill : st.outputFill);
        p->drawRoundedRect(m_rect, radius, radius);
        inset += radius / 2;
    } else if (kind == layout::IrItemKind::Initializer) {
        p->setPen(QPen(st.initializerBorder, 1.2, Qt::DashLine));
        p->setBrush(st.initializerFill);
        p->drawRoundedRect(m_rect, 2, 2);
    } else {
        const bool body = !m_info->detail.isEmpty() || !m_info->weights.isEmpty();
        p->setPen(Qt::NoPen);
        p->setBrush(header);
        p->drawRoundedRect(m_rect, radius, radius);
        if (body) {
            QRectF b(m_rect.left(), m_rect.top() + st.titleH, m_rect.width(),
                     m_rect.height() - st.titleH);
            p->setBrush(st.body);
            p->drawRoundedRect(b, radius, radius);
            p->drawRect(QRectF(b.left(), b.top(), b.width(), radius)); // square top corners
        }
        if (m_scene->overlayActive() && m_info->node) {
            // The overlay owns the header colour; a stripe keeps the op's category visible.
            p->setBrush(opCategoryColor(m_info->category));
            p->drawRect(QRectF(m_rect.left() + 1, m_rect.top() + 1, 4, st.titleH - 1));
        }
        p->setPen(QPen(st.border, 1));
        p->setBrush(Qt::NoBrush);
        p->drawRoundedRect(m_rect, radius, radius);
        titleColor = textOn(header);
    }
    if (selected) {
        p->setPen(QPen(st.selection, 3));
        p->setBrush(Qt::NoBrush);
        p->drawRoundedRect(m_rect.adjusted(-1.5, -1.5, 1.5, 1.5), radius + 1, radius + 1);
    }

    const double w = m_rect.width() - 2 * inset;
    p->setFont(st.titleFont);
    p->setPen(titleColor);
    p->drawText(QRectF(m_rect.left() + inset, m_rect.top(), w, st.titleH), Qt::AlignCenter,
                m_info->title);
    double y = m_rect.top() + st.titleH - 1;
    p->setFont(st.detailFont);
    if (!m_info->detail.isEmpty()) {
        p->setPen(st.mutedText);
        p->drawText(QRectF(m_rect.left() + inset, y, w, st.lineH), Qt::AlignCenter, m_info->detail);
        y += st.lineH;
    }
    if (!m_info->weights.isEmpty()) {
        p->setPen(st.weightText);
        p->drawText(QRectF(m_rect.left() + inset, y, w, st.lineH), Qt::AlignCenter,
                    m_info->weights);
    }
}

// ---------------------------------------------------------------------------------------------
// GroupItem
// ---------------------------------------------------------------------------------------------

GroupItem::GroupItem(GraphScene* scene, layout::GroupId id, const layout::GroupBox& box)
    : m_scene(scene), m_id(id), m_rect(toQt(box.rect)), m_depth(box.depth),
      m_collapsed(box.state == layout::GroupBox::State::Collapsed) {
    if (m_collapsed) {
        setFlag(ItemIsSelectable);
        setZValue(10);
    } else {
        setZValue(-100 + box.depth); // inner frames over outer ones, all under edges
    }
}

QRectF GroupItem::headerRect() const {
    if (m_collapsed) return m_rect;
    return {m_rect.left(), m_rect.top(), m_rect.width(),
            std::min(m_rect.height(), GraphStyle::get().layoutOptions().groupHeader)};
}

QRectF GroupItem::boundingRect() const {
    return m_rect.adjusted(-3, -3, 3, 3);
}

QPainterPath GroupItem::shape() const {
    QPainterPath p;
    p.addRect(headerRect());
    return p;
}

void GroupItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
    const GraphStyle& st = GraphStyle::get();
    const double lod = lodOf(option, p);
    const GraphGroupInfo& info = m_scene->model()->group(m_id);
    const bool text = lod >= kTextLod;
    p->setRenderHint(QPainter::Antialiasing, text);
    if (!m_collapsed) {
        p->setPen(QPen(st.frameBorder, text ? 1 : 0));
        p->setBrush(st.frameFill[m_depth % 2]);
        p->drawRoundedRect(m_rect, 6, 6);
        if (!text) return;
        const QRectF h = headerRect().adjusted(8, 0, -8, 0);
        p->setFont(st.groupFont);
        p->setPen(st.frameText);
        const QString label = QStringLiteral("\u25BE ") + info.title;
        p->drawText(h, Qt::AlignLeft | Qt::AlignVCenter,
                    QFontMetricsF(st.groupFont).elidedText(label, Qt::ElideMiddle, h.width()));
        return;
    }
    const double s = st.stackOffset;
    const QRectF card = m_rect.adjusted(0, 0, -s, -s);
    if (!text) {
        p->setPen(isSelected() ? QPen(st.selection, 0) : QPen(Qt::NoPen));
        p->setBrush(st.collapsedBorder);
        p->drawRect(m_rect);
        return;
    }
    p->setPen(QPen(st.collapsedBorder, 1));
    p->setBrush(st.collapsedFill.darker(112));
    p->drawRoundedRect(card.translated(s, s), 5, 5);
    p->setBrush(st.collapsedFill.darker(105));
    p->drawRoundedRect(card.translated(s / 2, s / 2), 5, 5);
    p->setBrush(st.collapsedFill);
    p->drawRoundedRect(card, 5, 5);
    if (isSelected()) {
        p->setPen(QPen(st.selection, 3));
        p->setBrush(Qt::NoBrush);
        p->drawRoundedRect(card.adjusted(-1.5, -1.5, 1.5, 1.5), 6, 6);
    }
    const QRectF inner = card.adjusted(st.padX, 2, -st.padX, 0);
    p->setFont(st.groupFont);
    p->setPen(st.text);
    p->drawText(QRectF(inner.left(), inner.top(), inner.width(), st.titleH),
                Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("\u25B8 ") + info.title);
    p->setFont(st.detailFont);
    p->setPen(st.mutedText);
    p->drawText(QRectF(inner.left(), inner.top() + st.titleH, inner.width(), st.lineH),
                Qt::AlignLeft | Qt::AlignVCenter, groupCountText(info.opCount));
}

void GroupItem::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) {
    if (event->button() != Qt::LeftButton) {
        event->ignore();
        return;
    }
    event->accept();
    m_scene->requestToggle(m_id, event->scenePos());
}

// ---------------------------------------------------------------------------------------------
// EdgeItem
// ---------------------------------------------------------------------------------------------

EdgeItem::EdgeItem(GraphScene* scene, int index, const layout::DrawnEdge& e, QString label)
    : m_scene(scene), m_index(index), m_from(e.from), m_to(e.to), m_label(std::move(label)) {
    setAcceptedMouseButtons(Qt::NoButton);
    setZValue(0);
    const auto& b = e.bezier;
    if (b.empty()) return;
    m_path.moveTo(toQt(b[0]));
    for (std::size_t k = 1; k + 2 < b.size(); k += 3)
        m_path.cubicTo(toQt(b[k]), toQt(b[k + 1]), toQt(b[k + 2]));

    // The arrow head sits where the data arrives, along the route's end tangent.
    QPointF tip = e.reversed ? toQt(b.front()) : toQt(b.back());
    QPointF before = b.size() >= 2 ? (e.reversed ? toQt(b[1]) : toQt(b[b.size() - 2])) : tip;
    QPointF dir = tip - before;
    double len = std::hypot(dir.x(), dir.y());
    dir = len > 1e-6 ? dir / len : QPointF(0, e.reversed ? -1 : 1);
    const QPointF base = tip - dir * 8.0;
    const QPointF perp(-dir.y() * 4.0, dir.x() * 4.0);
    m_arrow = QPolygonF({tip, base + perp, base - perp});

    QRectF bounds = m_path.controlPointRect() | m_arrow.boundingRect();
    if (!m_label.isEmpty() && b.size() >= 4) {
        // Just below the source, on the first segment (y never decreases along a route).
        const QPointF a = toQt(b[0]), c1 = toQt(b[1]), c2 = toQt(b[2]), d = toQt(b[3]);
        const double wantY = a.y() + 13;
        double lo = 0, hi = 1;
        for (int i = 0; i < 24; ++i) {
            const double mid = (lo + hi) / 2;
            (cubicAt(a, c1, c2, d, mid).y() < wantY ? lo : hi) = mid;
        }
        const QPointF at = d.y() - a.y() > 16 ? cubicAt(a, c1, c2, d, lo) : (a + d) / 2;
        const double w = QFontMetricsF(GraphStyle::get().edgeFont).horizontalAdvance(m_label);
        m_labelRect = QRectF(at.x() + 4, at.y() - 6.5, w + 5, 13);
        bounds |= m_labelRect;
    }
    m_bounds = bounds.adjusted(-3, -3, 3, 3);
}

void EdgeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
    const GraphStyle& st = GraphStyle::get();
    const double lod = lodOf(option, p);
    const bool hot = m_scene->isEdgeHighlighted(m_index) || m_scene->isSelected(m_from) ||
                     m_scene->isSelected(m_to);
    const QColor color = hot ? st.edgeHighlight : st.edge;
    const bool fine = lod >= 0.5;
    p->setRenderHint(QPainter::Antialiasing, fine);
    QPen pen(color, fine ? (hot ? 2.4 : 1.3) : (hot ? 2 : 0));
    pen.setCosmetic(!fine);
    pen.setCapStyle(Qt::FlatCap);
    p->setPen(pen);
    p->setBrush(Qt::NoBrush);
    p->drawPath(m_path);
    if (lod >= kArrowLod) {
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawPolygon(m_arrow);
    }
    if (!m_label.isEmpty() && lod >= kEdgeLabelLod && m_scene->showShapes()) {
        p->setPen(Qt::NoPen);
        p->setBrush(QColor(st.background.red(), st.background.green(), st.background.blue(), 225));
        p->drawRoundedRect(m_labelRect, 2, 2);
        p->setFont(st.edgeFont);
        p->setPen(hot ? st.edgeHighlight.darker(120) : st.mutedText);
        p->drawText(m_labelRect.adjusted(2.5, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, m_label);
    }
}

} // namespace ew::ui
