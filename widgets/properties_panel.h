#pragma once
#include "model_document.h"

#include <QWidget>

class QLabel;
class QTableWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace ew::ui {

/// The node half of the inspector: everything about one node. Sections: the node (op, domain,
/// MACs, parameters), its attributes with values, its inputs and outputs with element type,
/// shape, quantization parameters (per-channel ones as a table) and where each comes from, and
/// for initializer inputs the precomputed weight statistics (min/max/mean/std, sparsity). Every
/// value row carries a stable key ("attr:kernel_shape", "input:1:min", "output:0:scale") so tests
/// and later tools can read what is shown without depending on the translated labels. Clicking
/// anywhere in an input's rows (or a tensor attribute's) emits tensorActivated with its key.
class PropertiesPanel : public QWidget {
    Q_OBJECT
  public:
    static constexpr int KeyRole = Qt::UserRole + 1;

    explicit PropertiesPanel(QWidget* parent = nullptr);

    void setDocument(DocumentPtr doc);
    /// Shows `node` (a node of the current document) or the empty state for nullptr.
    void showNode(const ir::Node* node);
    const ir::Node* node() const { return m_node; }

    /// The value column of the row with `key`, or a null QString if there is none.
    QString valueOf(const QString& key) const;
    QTreeWidget* tree() const { return m_tree; }
    /// The per-channel quantization table under the value with `keyPrefix` ("input:0"), or null.
    QTableWidget* quantTable(const QString& keyPrefix) const;

  signals:
    /// The user clicked the rows of input `key` ("input:1") or tensor attribute ("attr:value").
    void tensorActivated(const QString& key);

  protected:
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;

  private:
    void fitLabelColumn();
    QTreeWidgetItem* addSection(const QString& title);
    QTreeWidgetItem* addRow(QTreeWidgetItem* parent, const QString& label, const QString& value,
                            const QString& key);
    void addValueRows(QTreeWidgetItem* item, const ir::Value* v, const QString& keyPrefix,
                      bool isInput);
    void addStatsRows(QTreeWidgetItem* item, const TensorStats& s, const ir::Tensor& t,
                      const QString& keyPrefix);
    void addQuantRows(QTreeWidgetItem* item, const ir::QuantParams& q, const QString& keyPrefix);
    void onItemClicked(QTreeWidgetItem* item);

    DocumentPtr m_doc;
    const ir::Node* m_node = nullptr;
    QLabel* m_title = nullptr;
    QTreeWidget* m_tree = nullptr;
    int m_labelWidth = 0; ///< what the current rows' labels need
};

} // namespace ew::ui
