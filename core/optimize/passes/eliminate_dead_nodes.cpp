// eliminate-dead-nodes
//   before:  %a = Relu(%x)      (nothing reads %a)
//            %y = Sigmoid(%x)   output %y
//   after:   %y = Sigmoid(%x)
// Walks the nodes backwards in topological order, so a whole dead chain goes in one run. A node
// is dead when none of its outputs is used (here or inside a nested body) or is a graph output.
// Values nothing produces or uses any more are dropped with it.
#include "../graph_util.h"

namespace ew::opt {

VoidResult eliminateDeadNodes(ir::Graph& graph, PassContext& ctx) {
    EW_TRY_ASSIGN(std::vector<ir::Node*> order, graph.topologicalOrder());
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        ir::Node* n = *it;
        bool live = false;
        for (const ir::Value* v : n->outputs())
            if (v && (!v->uses().empty() || v->isGraphOutput())) live = true;
        if (live) continue;
        ctx.removed(*n);
        eraseNode(graph, n);
    }
    return {};
}

} // namespace ew::opt
