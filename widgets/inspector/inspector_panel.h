#pragma once
#include "tensor_view.h"
#include "widgets/model_document.h"

#include <QWidget>

#include <vector>

class QSplitter;

namespace ew::ui {

class PropertiesPanel;

/// Dock content: the node view (PropertiesPanel: attributes, inputs/outputs with dtype, shape
/// and quantization parameters, MACs and parameters) above the tensor view (statistics,
/// histogram, per-channel ranges, copy, save). Selecting a node offers its constant inputs in the
/// tensor view and shows the largest (the weight, for Conv/Gemm/MatMul); clicking an input's
/// rows in the node view shows that one. Read-only: nothing here changes the model.
class InspectorPanel : public QWidget {
    Q_OBJECT
  public:
    explicit InspectorPanel(QWidget* parent = nullptr);

    void setDocument(DocumentPtr doc);
    /// Shows `node` (a node of the current document) or the empty state for nullptr.
    void showNode(const ir::Node* node);
    const ir::Node* node() const;

    PropertiesPanel* nodeView() const { return m_nodeView; }
    TensorView* tensorView() const { return m_tensorView; }
    QSplitter* splitter() const { return m_splitter; }

    /// The tensors the inspector offers for `node`: initializer inputs, Constant-node outputs,
    /// integer initializers behind a DequantizeLinear, and tensor attributes; each with its
    /// quantization parameters and output-channel axis.
    static std::vector<TensorSource> tensorSourcesFor(const ir::Node& node);

  protected:
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    void showTensorPane(bool on);

    DocumentPtr m_doc;
    bool m_splitterMoved = false; ///< the user chose the split; keep it
    QSplitter* m_splitter = nullptr;
    PropertiesPanel* m_nodeView = nullptr;
    TensorView* m_tensorView = nullptr;
};

} // namespace ew::ui
