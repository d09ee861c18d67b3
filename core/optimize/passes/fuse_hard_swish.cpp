// fuse-hard-swish
//   before:  %h = HardSigmoid(%x) {alpha=0.1666667, beta=0.5}
//            %y = Mul(%x, %h)
//   or:      %a = Add(%x, 3.0)
//            %c = Clip(%a, 0.0, 6.0)
//            %m = Mul(%x, %c)
//            %y = Div(%m, 6.0)               (or Mul(%m, 0.1666667))
//   or:      %a = Add(%x, 3.0)
//            %c = Clip(%a, 0.0, 6.0)
//            %s = Div(%c, 6.0)               (or Mul(%c, 0.1666667))
//            %y = Mul(%x, %s)
//   after:   %y = HardSwish(%x)
// HardSwish(x) = x * max(0, min(1, x/6 + 1/2)). Commutative operands match in either order;
// every constant is a one-element constant that cannot broadcast %x to another shape (1/6 within
// 1e-4 relative; HardSigmoid's default alpha 0.2 is not 1/6). Every intermediate has this single
// consumer and is no graph output. HardSwish exists from opset 14: older models are left alone.
// Matching is the runtime's (rt::matchHardSwish), which also fuses these patterns into FusedConv
// epilogues at any opset.
#include "../graph_util.h"
#include "runtime/fusion.h"

namespace ew::opt {

VoidResult fuseHardSwish(ir::Graph& graph, PassContext& ctx) {
    if (ctx.opset() < 14) return {};
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if ((isOp(*n, "HardSigmoid") || isOp(*n, "Clip")) && n->input(0) && n->output(0))
            candidates.push_back(n.get());
    for (ir::Node* n : candidates) {
        std::optional<rt::HardSwishMatch> m = rt::matchHardSwish(graph, *n);
        if (m) fuseIntoNode(graph, ctx, m->nodes, m->result, "HardSwish", {m->x});
    }
    return {};
}

} // namespace ew::opt
