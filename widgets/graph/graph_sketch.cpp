#include "graph_sketch.h"

#include "graph_style.h"

#include <QHash>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

constexpr std::uint32_t kBoxTag = 0u << 30;
constexpr std::uint32_t kLineTag = 1u << 30;
constexpr std::uint32_t kFrameTag = 2u << 30;
constexpr std::uint32_t kIndexMask = (1u << 30) - 1;

/// Colours rounded to 4 bits a channel: overlay gradients then fall into a few dozen buckets,
/// so a frame changes brushes a few dozen times rather than once per node.
QRgb bucket(QRgb c) {
    return qRgb((qRed(c) & 0xf0) | 0x08, (qGreen(c) & 0xf0) | 0x08, (qBlue(c) & 0xf0) | 0x08);
}

} // namespace

void GraphSketch::clear() {
    *this = GraphSketch();
}

int GraphSketch::addBox(const QRectF& rect, QRgb color) {
    m_boxes.push_back({rect, bucket(color)});
    return int(m_boxes.size()) - 1;
}

void GraphSketch::addFrame(const QRectF& rect, int depth) {
    m_frames.push_back({rect, depth});
}

void GraphSketch::addPolyline(const std::vector<QPointF>& points) {
    for (std::size_t i = 1; i < points.size(); ++i)
        m_lines.emplace_back(points[i - 1], points[i]);
}

void GraphSketch::setBoxColor(int box, QRgb color) {
    if (box >= 0 && box < int(m_boxes.size())) m_boxes[std::size_t(box)].color = bucket(color);
}

void GraphSketch::setMarks(std::vector<int> selected, std::vector<int> hits) {
    m_selected = std::move(selected);
    m_hits = std::move(hits);
}

int GraphSketch::cellX(double x) const {
    return std::clamp(int(std::floor((x - m_bounds.left()) / m_cell)), 0, m_cols - 1);
}

int GraphSketch::cellY(double y) const {
    return std::clamp(int(std::floor((y - m_bounds.top()) / m_cell)), 0, m_rows - 1);
}

void GraphSketch::finish(const QRectF& bounds) {
    m_bounds = bounds.isValid() ? bounds : QRectF(0, 0, 1, 1);
    buildGrid();
}

void GraphSketch::buildGrid() {
    const double items = double(m_boxes.size() + m_lines.size() + m_frames.size()) + 1;
    // About eight items a cell; tall thin drawings get one column of square cells.
    m_cell = std::max(256.0, std::sqrt(m_bounds.width() * m_bounds.height() * 8.0 / items));
    m_cols = std::max(1, int(std::ceil(m_bounds.width() / m_cell)));
    m_rows = std::max(1, int(std::ceil(m_bounds.height() / m_cell)));
    while (double(m_cols) * m_rows > 4e6) { // never a huge grid, whatever the drawing
        m_cell *= 2;
        m_cols = std::max(1, int(std::ceil(m_bounds.width() / m_cell)));
        m_rows = std::max(1, int(std::ceil(m_bounds.height() / m_cell)));
    }
    const std::size_t cells = std::size_t(m_cols) * std::size_t(m_rows);
    std::vector<std::uint32_t> count(cells + 1, 0);
    auto forCells = [&](const QRectF& r, auto&& fn) {
        const int x0 = cellX(r.left()), x1 = cellX(r.right());
        const int y0 = cellY(r.top()), y1 = cellY(r.bottom());
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x)
                fn(std::size_t(y) * std::size_t(m_cols) + std::size_t(x));
    };
    auto lineRect = [](const QLineF& l) { return QRectF(l.p1(), l.p2()).normalized(); };
    // Frames (one per expanded group: few, and large) stay out of the grid; paint() checks them
    // directly.
    for (const Box& b : m_boxes)
        forCells(b.rect, [&](std::size_t c) { ++count[c]; });
    for (const QLineF& l : m_lines)
        forCells(lineRect(l), [&](std::size_t c) { ++count[c]; });
    m_cellStart.assign(cells + 1, 0);
    for (std::size_t c = 0; c < cells; ++c)
        m_cellStart[c + 1] = m_cellStart[c] + count[c];
    m_items.assign(m_cellStart[cells], 0);
    std::vector<std::uint32_t> fill(m_cellStart.begin(), m_cellStart.end() - 1);
    for (std::size_t i = 0; i < m_boxes.size(); ++i)
        forCells(m_boxes[i].rect,
                 [&](std::size_t c) { m_items[fill[c]++] = kBoxTag | std::uint32_t(i); });
    for (std::size_t i = 0; i < m_lines.size(); ++i)
        forCells(lineRect(m_lines[i]),
                 [&](std::size_t c) { m_items[fill[c]++] = kLineTag | std::uint32_t(i); });
    m_boxSeen.assign(m_boxes.size(), 0);
    m_lineSeen.assign(m_lines.size(), 0);
    // Outer frames first so inner ones paint over them.
    std::stable_sort(m_frames.begin(), m_frames.end(),
                     [](const Frame& a, const Frame& b) { return a.depth < b.depth; });
}

int GraphSketch::countBoxes(const QRectF& exposed, int limit) const {
    if (m_cols == 0) return 0;
    const QRectF area = exposed.intersected(m_bounds.adjusted(-1, -1, 1, 1));
    if (area.isEmpty()) return 0;
    if (++m_stamp == 0) {
        std::fill(m_boxSeen.begin(), m_boxSeen.end(), 0);
        std::fill(m_lineSeen.begin(), m_lineSeen.end(), 0);
        m_stamp = 1;
    }
    int n = 0;
    const int x0 = cellX(area.left()), x1 = cellX(area.right());
    const int y0 = cellY(area.top()), y1 = cellY(area.bottom());
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
            const std::size_t c = std::size_t(y) * std::size_t(m_cols) + std::size_t(x);
            for (std::uint32_t k = m_cellStart[c]; k < m_cellStart[c + 1]; ++k) {
                const std::uint32_t tagged = m_items[k];
                if ((tagged & ~kIndexMask) != kBoxTag) continue;
                const std::uint32_t i = tagged & kIndexMask;
                if (m_boxSeen[i] == m_stamp) continue;
                m_boxSeen[i] = m_stamp;
                if (m_boxes[i].rect.intersects(area) && ++n >= limit) return n;
            }
        }
    return n;
}

void GraphSketch::paint(QPainter* p, const QRectF& exposed, double lod) const {
    m_lastBoxes = m_lastLines = 0;
    if (m_cols == 0) return;
    const GraphStyle& st = GraphStyle::get();
    const QRectF area = exposed.intersected(m_bounds.adjusted(-1, -1, 1, 1));
    p->save();
    p->setRenderHint(QPainter::Antialiasing, false);

    // Frames: few (groups), checked directly.
    if (!m_frames.empty()) {
        p->setPen(lod > 0.04 ? QPen(st.frameBorder, 0) : QPen(Qt::NoPen));
        for (const Frame& f : m_frames) {
            if (!f.rect.intersects(exposed)) continue;
            p->setBrush(st.frameFill[f.depth % 2]);
            p->drawRect(f.rect);
        }
    }
    if (area.isEmpty()) {
        p->restore();
        return;
    }
    if (++m_stamp == 0) { // wrapped: reset the marks
        std::fill(m_boxSeen.begin(), m_boxSeen.end(), 0);
        std::fill(m_lineSeen.begin(), m_lineSeen.end(), 0);
        m_stamp = 1;
    }
    thread_local std::vector<QLineF> lines;
    thread_local std::vector<int> boxes;
    lines.clear();
    boxes.clear();
    const int x0 = cellX(area.left()), x1 = cellX(area.right());
    const int y0 = cellY(area.top()), y1 = cellY(area.bottom());
    for (int y = y0; y <= y1; ++y) {
        for (int x = x0; x <= x1; ++x) {
            const std::size_t c = std::size_t(y) * std::size_t(m_cols) + std::size_t(x);
            for (std::uint32_t k = m_cellStart[c]; k < m_cellStart[c + 1]; ++k) {
                const std::uint32_t tagged = m_items[k];
                const std::uint32_t i = tagged & kIndexMask;
                if ((tagged & ~kIndexMask) == kLineTag) {
                    if (m_lineSeen[i] == m_stamp) continue;
                    m_lineSeen[i] = m_stamp;
                    lines.push_back(m_lines[i]);
                } else {
                    if (m_boxSeen[i] == m_stamp) continue;
                    m_boxSeen[i] = m_stamp;
                    if (m_boxes[i].rect.intersects(area)) boxes.push_back(int(i));
                }
            }
        }
    }
    m_lastLines = int(lines.size());
    m_lastBoxes = int(boxes.size());
    p->setPen(QPen(st.edge, 0));
    p->setBrush(Qt::NoBrush);
    if (!lines.empty()) p->drawLines(lines.data(), int(lines.size()));

    // Boxes bucketed by colour: one brush change per colour.
    std::sort(boxes.begin(), boxes.end(), [this](int a, int b) {
        return m_boxes[std::size_t(a)].color < m_boxes[std::size_t(b)].color;
    });
    thread_local std::vector<QRectF> run;
    p->setPen(Qt::NoPen);
    for (std::size_t i = 0; i < boxes.size();) {
        const QRgb c = m_boxes[std::size_t(boxes[i])].color;
        run.clear();
        for (; i < boxes.size() && m_boxes[std::size_t(boxes[i])].color == c; ++i)
            run.push_back(m_boxes[std::size_t(boxes[i])].rect);
        p->setBrush(QColor(c));
        p->drawRects(run.data(), int(run.size()));
    }

    // Marks stay at least 10 px wide so a hit is findable at any zoom: drawn in device space.
    auto mark = [&](const std::vector<int>& ids, const QColor& color, double width) {
        if (ids.empty()) return;
        const QTransform t = p->worldTransform();
        p->save();
        p->resetTransform();
        p->setRenderHint(QPainter::Antialiasing, true);
        p->setPen(QPen(color, width));
        p->setBrush(Qt::NoBrush);
        for (int id : ids) {
            if (id < 0 || id >= int(m_boxes.size())) continue;
            const QRectF& r = m_boxes[std::size_t(id)].rect;
            if (!r.intersects(exposed)) continue;
            QRectF d = t.mapRect(r);
            const double grow = std::max(0.0, (10.0 - std::min(d.width(), d.height())) / 2);
            p->drawRect(d.adjusted(-grow - 2, -grow - 2, grow + 2, grow + 2));
        }
        p->restore();
    };
    mark(m_hits, st.searchHit.darker(115), 2.5);
    mark(m_selected, st.selection, 3);
    p->restore();
}

} // namespace ew::ui
