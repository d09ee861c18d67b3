#include "node_table_model.h"

#include "format_util.h"
#include "inspector/value_format.h"
#include "overlay/overlay_controller.h"

#include <QGuiApplication>
#include <QPalette>
#include <QStringList>

namespace ew::ui {

NodeTableModel::NodeTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void NodeTableModel::setDocument(DocumentPtr doc) {
    beginResetModel();
    m_doc = std::move(doc);
    m_nodes.clear();
    if (const ir::Graph* g = m_doc ? m_doc->graph() : nullptr) {
        m_nodes.reserve(g->nodeCount());
        for (const auto& n : g->nodes())
            m_nodes.push_back(n.get());
    }
    endResetModel();
}

void NodeTableModel::setOverlay(OverlayController* controller) {
    if (m_overlay) m_overlay->disconnect(this);
    m_overlay = controller;
    if (m_overlay)
        connect(m_overlay, &OverlayController::changed, this, &NodeTableModel::onOverlayChanged);
    onOverlayChanged();
}

void NodeTableModel::onOverlayChanged() {
    if (m_nodes.empty()) return;
    emit dataChanged(index(0, 0), index(int(m_nodes.size()) - 1, ColumnCount - 1),
                     {Qt::BackgroundRole, Qt::ForegroundRole, Qt::ToolTipRole});
}

const ir::Node* NodeTableModel::nodeAt(int row) const {
    return row >= 0 && row < int(m_nodes.size()) ? m_nodes[std::size_t(row)] : nullptr;
}

int NodeTableModel::rowOf(const QString& name) const {
    std::string n = name.toStdString();
    for (std::size_t i = 0; i < m_nodes.size(); ++i)
        if (m_nodes[i]->name == n) return int(i);
    for (std::size_t i = 0; i < m_nodes.size(); ++i)
        if (m_nodes[i]->displayName() == n) return int(i);
    return -1;
}

int NodeTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_nodes.size());
}

int NodeTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NodeTableModel::data(const QModelIndex& index, int role) const {
    const ir::Node* n = nodeAt(index.row());
    if (!n) return {};
    const ir::NodeCost* cost = m_doc ? m_doc->costFor(n) : nullptr;
    if (role == NodeNameRole) return qstr(n->name);
    if (m_overlay && (role == Qt::BackgroundRole || role == Qt::ForegroundRole)) {
        std::optional<QColor> c = m_overlay->colorFor(overlayKey(*n));
        if (!c) return {};
        // Lightened towards the base colour: the row reads as tinted, the text stays legible.
        QColor base = QGuiApplication::palette().color(QPalette::Base);
        constexpr double kStrength = 0.7;
        QColor tint =
            QColor::fromRgbF(float(base.redF() + (c->redF() - base.redF()) * kStrength),
                             float(base.greenF() + (c->greenF() - base.greenF()) * kStrength),
                             float(base.blueF() + (c->blueF() - base.blueF()) * kStrength));
        if (role == Qt::BackgroundRole) return tint;
        return QColor(tint.lightnessF() < 0.5 ? Qt::white : Qt::black);
    }
    if (m_overlay && role == Qt::ToolTipRole && index.column() == ColName) {
        if (std::optional<double> v = m_overlay->valueFor(overlayKey(*n))) {
            const Overlay* o = m_overlay->current();
            return tr("%1: %2 %3").arg(o->name, formatQuantity(*v), o->unit).trimmed();
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == ColIndex || index.column() == ColMacs))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == ColOutputs) {
        QStringList lines;
        for (const ir::Value* v : n->outputs())
            if (v) lines << qstr(v->name) + QStringLiteral(": ") + qstr(v->type.toString());
        return lines.join(QLatin1Char('\n'));
    }
    if (role == Qt::ToolTipRole && index.column() == ColMacs && cost && !cost->exact)
        return tr("A lower bound: symbolic or unknown dimensions are counted as 1.");
    if (role != Qt::DisplayRole && role != SortRole) return {};
    switch (index.column()) {
    case ColIndex:
        return index.row();
    case ColName:
        return qstr(n->displayName());
    case ColOp:
        return qstr(n->qualifiedOp());
    case ColOutputs: {
        QStringList shapes;
        for (const ir::Value* v : n->outputs())
            shapes << (v ? shapeText(v->type) : QStringLiteral("—"));
        return shapes.join(QStringLiteral(", "));
    }
    case ColMacs:
        if (role == SortRole) return QVariant(qlonglong(cost ? cost->macs : 0));
        return cost && cost->macs > 0 ? formatMacs(cost->macs, cost->exact) : QString();
    default:
        return {};
    }
}

QVariant NodeTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
    case ColIndex:
        return tr("#");
    case ColName:
        return tr("Name");
    case ColOp:
        return tr("Op");
    case ColOutputs:
        return tr("Output shapes");
    case ColMacs:
        return tr("MACs");
    default:
        return {};
    }
}

} // namespace ew::ui
