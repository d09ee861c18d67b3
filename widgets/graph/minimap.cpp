#include "minimap.h"

#include "graph_scene.h"
#include "graph_style.h"
#include "graph_view.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace ew::ui {

Minimap::Minimap(GraphView* view, QWidget* parent) : QWidget(parent), m_view(view) {
    setObjectName(QStringLiteral("minimap"));
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Overview: click or drag to move the view"));
}

QSize Minimap::sizeHint() const {
    const QRectF d = m_view->graphScene()->drawingRect();
    // Keep the drawing's aspect, within bounds: very tall graphs give a narrow strip.
    const double s = std::min(kMaxSide / d.width(), kMaxSide / d.height());
    return {std::clamp(int(std::ceil(d.width() * s)) + 8, 40, kMaxSide + 8),
            std::clamp(int(std::ceil(d.height() * s)) + 8, 40, kMaxSide + 8)};
}

QRectF Minimap::thumbRect() const {
    const QRectF d = m_view->graphScene()->drawingRect();
    const QRectF area = QRectF(rect()).adjusted(4, 4, -4, -4);
    const double s = std::min(area.width() / d.width(), area.height() / d.height());
    const QSizeF size(d.width() * s, d.height() * s);
    return {area.center().x() - size.width() / 2, area.center().y() - size.height() / 2,
            size.width(), size.height()};
}

QPointF Minimap::toScene(const QPointF& pos) const {
    const QRectF t = thumbRect();
    const QRectF d = m_view->graphScene()->drawingRect();
    const double fx = std::clamp((pos.x() - t.left()) / t.width(), 0.0, 1.0);
    const double fy = std::clamp((pos.y() - t.top()) / t.height(), 0.0, 1.0);
    return {d.left() + fx * d.width(), d.top() + fy * d.height()};
}

void Minimap::invalidate() {
    m_stale = true;
    // The drawing's extent may have changed: new size, new place.
    const QSize want = sizeHint();
    if (want != size() && parentWidget()) {
        const QRect g = geometry();
        setGeometry(g.right() + 1 - want.width(), g.bottom() + 1 - want.height(), want.width(),
                    want.height());
    }
    update();
}

void Minimap::paintEvent(QPaintEvent*) {
    GraphScene* scene = m_view->graphScene();
    if (!scene->hasDrawing()) return;
    const GraphStyle& st = GraphStyle::get();
    QPainter p(this);
    p.setPen(QPen(QColor(0x8a, 0x96, 0xa6), 1));
    p.setBrush(QColor(255, 255, 255, 235));
    p.drawRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));
    const QRectF t = thumbRect();
    const qreal dpr = devicePixelRatioF();
    const QSize px(std::max(1, int(std::ceil(t.width() * dpr))),
                   std::max(1, int(std::ceil(t.height() * dpr))));
    if (m_stale || m_thumb.size() != px) {
        m_thumb = QImage(px, QImage::Format_ARGB32_Premultiplied);
        m_thumb.fill(st.background);
        QPainter ip(&m_thumb);
        const QRectF d = scene->drawingRect();
        const double s = std::min(px.width() / d.width(), px.height() / d.height());
        ip.scale(s, s);
        ip.translate(-d.topLeft());
        scene->sketch().paint(&ip, d, s);
        ip.end();
        m_thumb.setDevicePixelRatio(dpr);
        m_stale = false;
    }
    p.drawImage(t.topLeft(), m_thumb);
    // The visible part of the drawing.
    const QRectF d = scene->drawingRect();
    const QRectF v = m_view->visibleSceneRect().intersected(d);
    if (v.isEmpty()) return;
    const double sx = t.width() / d.width(), sy = t.height() / d.height();
    QRectF r(t.left() + (v.left() - d.left()) * sx, t.top() + (v.top() - d.top()) * sy,
             v.width() * sx, v.height() * sy);
    if (r.width() < 4) r.adjust(-(4 - r.width()) / 2, 0, (4 - r.width()) / 2, 0);
    if (r.height() < 4) r.adjust(0, -(4 - r.height()) / 2, 0, (4 - r.height()) / 2);
    p.setRenderHint(QPainter::Antialiasing);
    // Blue, so it is not mistaken for the orange selection marks.
    const QColor frame(0x2f, 0x5f, 0xa8);
    p.setPen(QPen(frame, 1.5));
    p.setBrush(QColor(frame.red(), frame.green(), frame.blue(), 36));
    p.drawRect(r);
}

void Minimap::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    m_view->centerOn(toScene(event->position()));
    event->accept();
}

void Minimap::mouseMoveEvent(QMouseEvent* event) {
    if (!(event->buttons() & Qt::LeftButton)) return;
    m_view->centerOn(toScene(event->position()));
    event->accept();
}

} // namespace ew::ui
