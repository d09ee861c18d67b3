#pragma once
#include "op_category.h"
#include "widgets/model_document.h"

#include "layout/layout.h"
#include "layout_ir/ir_layout.h"

#include <QHash>
#include <QString>

#include <memory>
#include <vector>

namespace ew::ui {

/// What one layout node shows on the canvas.
struct GraphNodeInfo {
    layout::IrItemKind kind = layout::IrItemKind::Op;
    const ir::Node* node = nullptr;   ///< for ops
    const ir::Value* value = nullptr; ///< for graph inputs, outputs and initializer nodes
    OpCategory category = OpCategory::Other;
    QString title;   ///< op type, or the tensor's name (elided)
    QString detail;  ///< key attributes ("3×3 · s2 · g32"), or the tensor's shape
    QString weights; ///< the op's initializer inputs ("W 64×3×7×7  B 64")
    QString key;     ///< overlayKey() of the op (what MainWindow::selectNode takes)
};

/// What one group (name scope or nested graph) shows.
struct GraphGroupInfo {
    QString title;   ///< label relative to the parent group (elided)
    QString path;    ///< the full scope path
    int opCount = 0; ///< ops inside, at any depth
};

/// The canvas' view of one graph: the layout input built from the IR (ew_layout_ir's fromIr,
/// with node and group boxes sized for their labels by QFontMetrics), the texts every box shows,
/// lookups from IR objects to layout ids, and the document's one persistent Layout.
/// Invariant: everything but the Layout is immutable after construction, so the GUI may read it
/// while a worker thread runs layout(); only one thread at a time touches layout().
class GraphModel {
  public:
    /// Builds the model for the document's main graph. Measures text: call on the GUI thread.
    static std::shared_ptr<GraphModel> fromDocument(DocumentPtr doc);
    /// A graph without IR (the bench's and the tests' synthetic graphs); nodes are titled by
    /// index and coloured by index modulo the categories.
    static std::shared_ptr<GraphModel> fromLayoutGraph(layout::LayoutGraph graph);

    const DocumentPtr& document() const { return m_doc; }
    const layout::LayoutGraph& graph() const { return m_graph; }
    std::size_t nodeCount() const { return m_nodes.size(); }
    std::size_t groupCount() const { return m_groups.size(); }
    const GraphNodeInfo& node(layout::NodeId id) const { return m_nodes[std::size_t(id)]; }
    const GraphGroupInfo& group(layout::GroupId id) const { return m_groups[std::size_t(id)]; }
    /// The tensor an original edge carries (null for synthetic graphs and body links).
    const ir::Value* edgeValue(layout::EdgeId id) const;

    /// Layout id of an op, or of the input/output/initializer node of a value; -1 if none.
    layout::NodeId nodeIdOf(const ir::Node* node) const;
    layout::NodeId nodeIdOfValue(const ir::Value* value) const;
    /// The original edges carrying `value`.
    std::vector<layout::EdgeId> edgesOf(const ir::Value* value) const;

    /// The depth the canvas opens with (ew::layout::defaultCollapseDepth).
    int defaultDepth() const { return m_defaultDepth; }
    layout::CollapseState stateAtDepth(int depth) const;
    /// `state` with every group around `node` expanded, so the node is visible.
    layout::CollapseState revealing(layout::CollapseState state, layout::NodeId node) const;
    /// The group and its ancestors, innermost first.
    std::vector<layout::GroupId> ancestors(layout::GroupId group) const;

    /// The document's persistent, incremental layout. Not thread-safe: one thread at a time.
    layout::Layout& layout() { return *m_layout; }

  private:
    GraphModel() = default;
    void finish();

    DocumentPtr m_doc;
    layout::LayoutGraph m_graph;
    std::vector<GraphNodeInfo> m_nodes;
    std::vector<GraphGroupInfo> m_groups;
    std::vector<const ir::Value*> m_edgeValue;
    QHash<const ir::Node*, layout::NodeId> m_nodeId;
    QHash<const ir::Value*, layout::NodeId> m_valueNode;
    QHash<const ir::Value*, QList<layout::EdgeId>> m_valueEdges;
    int m_defaultDepth = -1;
    std::unique_ptr<layout::Layout> m_layout;
};

using GraphModelPtr = std::shared_ptr<GraphModel>;

/// "1×3×224×224" (dims only for float32; "int64 2" style with the type otherwise), "?" when
/// unknown; symbolic dims with names longer than 10 characters are "?" too.
QString compactShape(const ir::Type& type);
/// "12 nodes": the second row of a collapsed group box.
QString groupCountText(int ops);
/// Key attributes of an op for its box: kernel, stride, dilation, groups, axis, perm, ...
QString keyAttributes(const ir::Node& node);

} // namespace ew::ui
