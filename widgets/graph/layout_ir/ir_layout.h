#pragma once
// ew_layout_ir: turns an ir::Graph into ew_layout's input, shared by edgewise-cli and the GUI.

#include "ir/graph.h"
#include "layout/layout.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ew::layout {

/// What a layout node or group stands for in the IR.
enum class IrItemKind : std::uint8_t { Op, GraphInput, GraphOutput, Initializer, Scope, Subgraph };

/// Width and height of a box showing `text` (op type / tensor name / group label).
struct BoxSize {
    double width = 0;
    double height = 0;
};
using MeasureFn = std::function<BoxSize(std::string_view text, IrItemKind kind)>;

struct IrLayoutOptions {
    bool graphInputs = true;   ///< graph inputs as their own nodes (not initializers)
    bool graphOutputs = true;  ///< graph outputs as their own nodes
    bool initializers = false; ///< weights and constants as their own nodes
    bool nestedGraphs = true;  ///< If/Loop/Scan bodies as groups next to their node
    bool scopeGroups = true;   ///< group nodes by name scope
    /// Label measurement; the default assumes 7 px per character plus 20 px padding, 28 px high.
    MeasureFn measure;
};

/// The layout input for an IR graph plus the way back from layout ids to the IR.
/// Scope groups come from node names: split on "/" (on "." when the name has no "/"), drop the
/// last component (the last two for "x.Op.12"-style names ending in a number), one group per
/// distinct prefix; groups with a single child (node or group), and groups that hold all of
/// their parent's ops ("/model/..."), are dissolved into their parent. Unscoped sources (ops
/// without a scope whose inputs no op produces: unnamed Constants, Shape of an input) and
/// initializers join the group of their first consumer. Nested graphs are groups labelled
/// "<node>.<attribute>"; the producers of a body's outputs get an edge to the owning node, and
/// values captured from an outer graph become edges from their outer producer. Invariant: every
/// vector is indexed like the LayoutGraph vector it annotates.
struct IrLayoutGraph {
    LayoutGraph graph;
    std::vector<IrItemKind> nodeKind;
    std::vector<std::string> nodeLabel;       ///< op type, or the value's name for I/O nodes
    std::vector<const ir::Node*> irNode;      ///< the op, for IrItemKind::Op; null otherwise
    std::vector<const ir::Value*> irValue;    ///< the value, for inputs/outputs/initializers
    std::vector<const ir::Value*> edgeValue;  ///< the tensor an edge carries (null: body link)
    std::vector<IrItemKind> groupKind;        ///< Scope or Subgraph
    std::vector<std::string> groupPath;       ///< full scope path, e.g. "layer1/layer1.0"
    std::vector<const ir::Graph*> groupGraph; ///< the nested graph, for IrItemKind::Subgraph
};

IrLayoutGraph fromIr(const ir::Graph& graph, const IrLayoutOptions& options = {});

/// The scope prefix of a node name as path components ("/a/b/Conv" -> {"a", "b"}).
std::vector<std::string> scopeOf(std::string_view nodeName);

} // namespace ew::layout
