#include "node_table_model.h"

#include "format_util.h"

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
