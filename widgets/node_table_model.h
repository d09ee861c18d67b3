#pragma once
#include "model_document.h"

#include <QAbstractTableModel>

#include <vector>

namespace ew::ui {

class OverlayController;

/// Table of the main graph's nodes in file order: index, name, op, output shapes, MACs.
/// Rows point at nodes of the document it holds (a shared_ptr keeps them alive), so a row stays
/// valid until setDocument() swaps the whole table. SortRole gives numbers for numeric columns
/// so the proxy sorts 10 after 9.
class NodeTableModel : public QAbstractTableModel {
    Q_OBJECT
  public:
    enum Column { ColIndex, ColName, ColOp, ColMacs, ColOutputs, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;
    static constexpr int NodeNameRole = Qt::UserRole + 2; ///< exact node name (may be empty)

    explicit NodeTableModel(QObject* parent = nullptr);

    void setDocument(DocumentPtr doc);
    /// Tints rows by `controller`'s current overlay (nullptr: no tint); follows its changes.
    void setOverlay(OverlayController* controller);
    const ir::Node* nodeAt(int row) const;
    /// Row of the node named `name` (or, for unnamed nodes, its display name); -1 if none.
    int rowOf(const QString& name) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

  private:
    void onOverlayChanged();

    DocumentPtr m_doc;
    std::vector<const ir::Node*> m_nodes;
    OverlayController* m_overlay = nullptr;
};

} // namespace ew::ui
