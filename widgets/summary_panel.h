#pragma once
#include "model_document.h"

#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;

namespace ew::ui {

/// Dock content: the fields of `edgewise-cli inspect` (ew::ir::summarize), so the GUI and the
/// CLI never disagree. Rows carry the JSON contract key ("node_count", "macs", "op:Conv") in
/// KeyRole for tests and copy/paste.
class SummaryPanel : public QWidget {
    Q_OBJECT
  public:
    static constexpr int KeyRole = Qt::UserRole + 1;

    explicit SummaryPanel(QWidget* parent = nullptr);
    void setDocument(DocumentPtr doc);
    /// The value column of the row with `key`, or a null QString.
    QString valueOf(const QString& key) const;
    QTreeWidget* tree() const { return m_tree; }

  private:
    QTreeWidgetItem* addRow(QTreeWidgetItem* parent, const QString& label, const QString& value,
                            const QString& key);
    QTreeWidget* m_tree = nullptr;
};

/// "ai.onnx 13, ai.onnx.ml 2" for the opset imports.
QString opsetsText(const std::vector<ir::OpsetImport>& opsets);
/// "float32 [1,1,8,8]" (or "float32 unknown rank") for a summary input/output.
QString ioTypeText(const ir::ModelSummary::Io& io);
/// "input: float32 [1,1,8,8]".
QString ioText(const ir::ModelSummary::Io& io);

} // namespace ew::ui
