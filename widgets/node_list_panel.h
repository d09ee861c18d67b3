#pragma once
#include "model_document.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace ew::ui {

class NodeTableModel;

/// Dock content: a filter box over a sortable table of the main graph's nodes. Typing filters on
/// name, op and shapes (case-insensitive substring); selecting a row emits nodeSelected. The
/// proxy only reorders and hides rows: the source model stays in file order.
class NodeListPanel : public QWidget {
    Q_OBJECT
  public:
    explicit NodeListPanel(QWidget* parent = nullptr);

    void setDocument(DocumentPtr doc);
    /// Selects and scrolls to the node; clears a filter that hides it. False if there is none.
    bool selectNode(const QString& name);
    void setFilterText(const QString& text);

    QTableView* view() const { return m_view; }
    QLineEdit* filterEdit() const { return m_filter; }
    NodeTableModel* sourceModel() const { return m_model; }
    QSortFilterProxyModel* proxyModel() const { return m_proxy; }
    /// Rows visible through the filter.
    int visibleRowCount() const;

  signals:
    /// The selected node, or nullptr when the selection is cleared.
    void nodeSelected(const ew::ir::Node* node);

  private:
    void updateCountLabel();
    void onSelectionChanged();

    QLineEdit* m_filter = nullptr;
    QLabel* m_count = nullptr;
    QTableView* m_view = nullptr;
    NodeTableModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
};

} // namespace ew::ui
