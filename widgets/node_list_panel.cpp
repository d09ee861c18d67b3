#include "node_list_panel.h"

#include "node_table_model.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace ew::ui {

NodeListPanel::NodeListPanel(QWidget* parent) : QWidget(parent) {
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("nodeFilter"));
    m_filter->setPlaceholderText(tr("Filter by name, op or shape…"));
    m_filter->setClearButtonEnabled(true);

    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("nodeCount"));

    m_model = new NodeTableModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setSortRole(NodeTableModel::SortRole);

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("nodeTable"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(NodeTableModel::ColIndex, Qt::AscendingOrder);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    // Node names are paths ("/layer1/layer1.0/conv1/Conv"); the end says the most.
    m_view->setTextElideMode(Qt::ElideMiddle);
    auto* header = m_view->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    header->setHighlightSections(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addWidget(m_filter);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_count);

    connect(m_filter, &QLineEdit::textChanged, this, &NodeListPanel::setFilterText);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &NodeListPanel::onSelectionChanged);
    updateCountLabel();
}

void NodeListPanel::setDocument(DocumentPtr doc) {
    m_model->setDocument(std::move(doc));
    // Fit the columns to the content, but cap the long ones so every column stays on screen.
    // Output shapes come last and take what is left.
    for (int c : {int(NodeTableModel::ColIndex), int(NodeTableModel::ColName),
                  int(NodeTableModel::ColOp), int(NodeTableModel::ColMacs)}) {
        m_view->resizeColumnToContents(c);
        int cap = c == NodeTableModel::ColName ? 190 : c == NodeTableModel::ColOp ? 110 : 80;
        if (m_view->columnWidth(c) > cap) m_view->setColumnWidth(c, cap);
    }
    updateCountLabel();
    emit nodeSelected(nullptr);
}

void NodeListPanel::setFilterText(const QString& text) {
    if (m_filter->text() != text) {
        m_filter->setText(text); // re-enters through textChanged
        return;
    }
    m_proxy->setFilterFixedString(text);
    updateCountLabel();
}

int NodeListPanel::visibleRowCount() const {
    return m_proxy->rowCount();
}

bool NodeListPanel::selectNode(const QString& name) {
    int row = m_model->rowOf(name);
    if (row < 0) return false;
    QModelIndex src = m_model->index(row, 0);
    QModelIndex idx = m_proxy->mapFromSource(src);
    if (!idx.isValid()) {
        setFilterText(QString());
        idx = m_proxy->mapFromSource(src);
    }
    m_view->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect |
                                                       QItemSelectionModel::Rows);
    m_view->scrollTo(idx, QAbstractItemView::PositionAtCenter);
    return true;
}

void NodeListPanel::updateCountLabel() {
    int total = m_model->rowCount();
    int shown = m_proxy->rowCount();
    if (total == 0)
        m_count->setText(tr("No model open"));
    else if (shown == total)
        m_count->setText(tr("%n node(s)", nullptr, total));
    else
        m_count->setText(tr("%1 of %n node(s) match", nullptr, total).arg(shown));
}

void NodeListPanel::onSelectionChanged() {
    QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        emit nodeSelected(nullptr);
        return;
    }
    emit nodeSelected(m_model->nodeAt(m_proxy->mapToSource(rows.first()).row()));
}

} // namespace ew::ui
