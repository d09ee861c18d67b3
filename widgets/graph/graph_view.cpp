#include "graph_view.h"

#include "graph_items.h"
#include "graph_scene.h"
#include "graph_style.h"
#include "minimap.h"

#include <QGestureEvent>
#include <QKeyEvent>
#include <QNativeGestureEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QPinchGesture>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace ew::ui {

GraphView::GraphView(GraphScene* scene, QWidget* parent)
    : QGraphicsView(scene, parent), m_scene(scene) {
    setObjectName(QStringLiteral("graphView"));
    // Raster viewport (the default QWidget): works offscreen, in tests and for screenshots.
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::NoAnchor);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setViewportUpdateMode(QGraphicsView::MinimalViewportUpdate);
    // Items set every pen, brush, font and hint they use.
    setOptimizationFlags(QGraphicsView::DontSavePainterState |
                         QGraphicsView::DontAdjustForAntialiasing);
    setBackgroundBrush(GraphStyle::get().background);
    setFrameShape(QFrame::NoFrame);
    setFocusPolicy(Qt::StrongFocus);
    viewport()->grabGesture(Qt::PinchGesture);
    m_minimap = new Minimap(this, this);
    connect(m_scene, &GraphScene::appearanceChanged, m_minimap, &Minimap::invalidate);
    connect(this, &GraphView::viewChanged, m_minimap, qOverload<>(&QWidget::update));
    connect(this, &GraphView::viewChanged, this, &GraphView::updateMinimapVisibility);
}

void GraphView::setMinimapEnabled(bool on) {
    m_minimapEnabled = on;
    updateMinimapVisibility();
}

void GraphView::updateMinimapVisibility() {
    const bool show = m_minimapEnabled && m_scene->hasDrawing() &&
                      !visibleSceneRect().contains(m_scene->drawingRect());
    if (show != m_minimap->isVisible()) m_minimap->setVisible(show);
}

double GraphView::zoom() const {
    return transform().m11();
}

double GraphView::minScale() const {
    const QRectF d = m_scene->drawingRect();
    const double fit = std::min(viewport()->width() / d.width(), viewport()->height() / d.height());
    return std::min(0.1, fit * 0.5);
}

bool GraphView::isSketchMode() const {
    if (!m_sketchEnabled || !m_scene->hasDrawing()) return false;
    const double z = zoom();
    if (z < kSketchLod) return true;
    // Boxes without text anyway: many of them are cheaper as the sketch (big screens).
    return z < kTextLod &&
           m_scene->sketch().countBoxes(visibleSceneRect(), kMaxPaintedItems) >= kMaxPaintedItems;
}

void GraphView::setSketchEnabled(bool on) {
    m_sketchEnabled = on;
    viewport()->update();
}

QRectF GraphView::visibleSceneRect() const {
    return viewportTransform().inverted().mapRect(QRectF(viewport()->rect()));
}

void GraphView::updateSceneRect() {
    const QRectF d = m_scene->drawingRect();
    const double s = std::max(zoom(), 1e-6);
    // Most of a viewport of slack on every side: any item can be centred, and after an
    // expand/collapse the clicked group can be kept where it was even when the drawing shrank.
    const double mx = viewport()->width() * 0.9 / s;
    const double my = viewport()->height() * 0.9 / s;
    setSceneRect(d.adjusted(-mx, -my, mx, my));
}

void GraphView::zoomBy(double factor, QPointF at) {
    const double before = zoom();
    const double target = std::clamp(before * factor, minScale(), kMaxScale);
    if (std::abs(target - before) < 1e-9 * before) return;
    const QPointF scenePos = viewportTransform().inverted().map(at);
    setTransform(QTransform::fromScale(target, target));
    updateSceneRect();
    // Bring the scene point back under the cursor.
    const QPointF delta = viewportTransform().map(scenePos) - at;
    horizontalScrollBar()->setValue(horizontalScrollBar()->value() + qRound(delta.x()));
    verticalScrollBar()->setValue(verticalScrollBar()->value() + qRound(delta.y()));
    emit viewChanged();
}

void GraphView::zoomBy(double factor) {
    zoomBy(factor, QPointF(viewport()->rect().center()));
}

void GraphView::setZoom(double scale) {
    zoomBy(scale / zoom());
}

void GraphView::centerOnRect(const QRectF& rect, double minZoom) {
    if (minZoom > 0 && zoom() < minZoom) {
        setTransform(QTransform::fromScale(minZoom, minZoom));
        updateSceneRect();
    }
    centerOn(rect.center());
    emit viewChanged();
}

void GraphView::fitAll() {
    const QRectF d = m_scene->drawingRect().adjusted(-24, -24, 24, 24);
    const double s = std::clamp(
        std::min(viewport()->width() / d.width(), viewport()->height() / d.height()), 1e-5, 1.0);
    setTransform(QTransform::fromScale(s, s));
    updateSceneRect();
    centerOn(d.center());
    emit viewChanged();
}

void GraphView::zoomToSelection() {
    const std::optional<layout::ItemRef> sel = m_scene->selectedRef();
    if (!sel) return;
    const QRectF r = m_scene->rectOf(*sel).adjusted(-80, -80, 80, 80);
    const double s =
        std::clamp(std::min(viewport()->width() / r.width(), viewport()->height() / r.height()),
                   minScale(), 1.5);
    setTransform(QTransform::fromScale(s, s));
    updateSceneRect();
    centerOn(r.center());
    emit viewChanged();
}

void GraphView::showInitialView() {
    const QRectF d = m_scene->drawingRect().adjusted(-24, -24, 24, 24);
    const double fit = std::min(viewport()->width() / d.width(), viewport()->height() / d.height());
    if (fit >= 0.6) {
        fitAll();
        return;
    }
    // Too big to read whole: 100 % at the top, on the first input (or the topmost node).
    const NodeItem* first = nullptr;
    for (const NodeItem* n : m_scene->nodeItems()) {
        const bool input = n->info().kind == layout::IrItemKind::GraphInput;
        const bool firstInput = first && first->info().kind == layout::IrItemKind::GraphInput;
        if (!first || (input && !firstInput) ||
            (input == firstInput && n->rect().top() < first->rect().top()))
            first = n;
    }
    const double s = 1.0;
    setTransform(QTransform::fromScale(s, s));
    updateSceneRect();
    const double x = first ? first->rect().center().x() : d.center().x();
    centerOn(QPointF(x, d.top() + viewport()->height() * 0.5 / s));
    emit viewChanged();
}

void GraphView::setPlaceholderText(const QString& text) {
    if (text == m_placeholder) return;
    m_placeholder = text;
    viewport()->update();
}

void GraphView::paintEvent(QPaintEvent* event) {
    if (!m_scene->hasDrawing()) {
        QPainter p(viewport());
        p.fillRect(event->rect(), GraphStyle::get().background);
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(viewport()->rect(), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }
    m_lastSketch = isSketchMode();
    if (!m_lastSketch) {
        QGraphicsView::paintEvent(event);
        return;
    }
    // Far out: the sketch instead of the items (see the class comment).
    QPainter p(viewport());
    p.setClipRegion(event->region());
    p.fillRect(event->rect(), GraphStyle::get().background);
    p.setTransform(viewportTransform());
    const QRectF exposed =
        viewportTransform().inverted().mapRect(QRectF(event->rect())).adjusted(-2, -2, 2, 2);
    m_scene->sketch().paint(&p, exposed, zoom());
}

void GraphView::wheelEvent(QWheelEvent* event) {
    const QPoint angle = event->angleDelta();
    if (event->modifiers() & Qt::ShiftModifier) {
        // Shift+wheel pans (Alt too: horizontally).
        QScrollBar* bar = (event->modifiers() & Qt::AltModifier) || angle.y() == 0
                              ? horizontalScrollBar()
                              : verticalScrollBar();
        const int delta = angle.y() != 0 ? angle.y() : angle.x();
        bar->setValue(bar->value() - delta);
        event->accept();
        return;
    }
    double steps = angle.y() / 120.0;
    if (angle.y() == 0 && !event->pixelDelta().isNull()) steps = event->pixelDelta().y() / 60.0;
    if (steps != 0) zoomBy(std::pow(1.2, steps), event->position());
    event->accept();
}

void GraphView::keyPressEvent(QKeyEvent* event) {
    const int key = event->key();
    const auto mods = event->modifiers() & ~Qt::KeypadModifier;
    const bool arrow =
        key == Qt::Key_Up || key == Qt::Key_Down || key == Qt::Key_Left || key == Qt::Key_Right;
    if (arrow && mods == Qt::AltModifier) {
        emit navigateRequested(key);
        event->accept();
        return;
    }
    if (arrow && mods == Qt::NoModifier) {
        const int step = std::max(40, viewport()->height() / 8);
        QScrollBar* bar =
            key == Qt::Key_Up || key == Qt::Key_Down ? verticalScrollBar() : horizontalScrollBar();
        bar->setValue(bar->value() + (key == Qt::Key_Up || key == Qt::Key_Left ? -step : step));
        event->accept();
        return;
    }
    switch (key) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomIn();
        return;
    case Qt::Key_Minus:
        zoomOut();
        return;
    case Qt::Key_0:
        fitAll();
        return;
    case Qt::Key_1:
        resetZoom();
        return;
    case Qt::Key_Return:
    case Qt::Key_Enter:
        emit toggleSelectedRequested();
        return;
    case Qt::Key_Escape:
        m_scene->clearSelection();
        return;
    default:
        QGraphicsView::keyPressEvent(event);
    }
}

bool GraphView::viewportEvent(QEvent* event) {
    switch (event->type()) {
    case QEvent::Gesture: {
        auto* ge = static_cast<QGestureEvent*>(event);
        if (auto* pinch = static_cast<QPinchGesture*>(ge->gesture(Qt::PinchGesture))) {
            if (pinch->changeFlags() & QPinchGesture::ScaleFactorChanged)
                zoomBy(pinch->scaleFactor(),
                       QPointF(viewport()->mapFromGlobal(pinch->centerPoint().toPoint())));
            ge->accept(pinch);
            return true;
        }
        break;
    }
    case QEvent::NativeGesture: {
        auto* ne = static_cast<QNativeGestureEvent*>(event);
        if (ne->gestureType() == Qt::ZoomNativeGesture) {
            zoomBy(1.0 + ne->value(), ne->position());
            return true;
        }
        break;
    }
    case QEvent::ToolTip: {
        auto* he = static_cast<QHelpEvent*>(event);
        QString tip;
        for (QGraphicsItem* item : items(he->pos())) {
            tip = m_scene->toolTipFor(item);
            if (!tip.isEmpty()) break;
        }
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(he->globalPos(), tip, viewport());
        return true;
    }
    default:
        break;
    }
    return QGraphicsView::viewportEvent(event);
}

void GraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    updateSceneRect();
    placeMinimap();
    emit viewChanged();
}

void GraphView::showEvent(QShowEvent* event) {
    QGraphicsView::showEvent(event);
    placeMinimap();
}

void GraphView::scrollContentsBy(int dx, int dy) {
    QGraphicsView::scrollContentsBy(dx, dy);
    emit viewChanged();
}

void GraphView::placeMinimap() {
    if (!m_minimap) return;
    const QRect vp = viewport()->geometry();
    const QSize s = m_minimap->sizeHint();
    m_minimap->setGeometry(vp.right() - s.width() - 10, vp.bottom() - s.height() - 10, s.width(),
                           s.height());
}

} // namespace ew::ui
