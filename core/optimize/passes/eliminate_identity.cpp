// eliminate-identity
//   before:  %y = Identity(%x)            %y = Dropout(%x)  (inference: no ratio at run time)
//            %z = Relu(%y)                %z = Relu(%y)
//   after:   %z = Relu(%x)                %z = Relu(%x)
// A graph output keeps its name (the producer of %x takes it over); when %x is a graph input,
// an initializer, another graph output or an outer-scope value, the node stays. Dropout goes only
// when it cannot be in training mode (training_mode absent or constant false; is_test=1 before
// opset 7) and its mask output is unused.
#include "../graph_util.h"

namespace ew::opt {

namespace {

bool inferenceDropout(const ir::Node& n, int64_t opset) {
    if (n.outputs().size() > 1 && n.output(1) && (!n.output(1)->uses().empty() || n.output(1)->isGraphOutput()))
        return false;
    if (opset < 7) return n.attrInt("is_test", 0) != 0;
    if (n.inputs().size() > 2 && n.input(2)) {
        const std::optional<double> training = scalarConstant(n.input(2));
        if (!training || *training != 0.0) return false;
    }
    return true;
}

} // namespace

VoidResult eliminateIdentity(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes()) {
        const bool identity = isOp(*n, "Identity");
        const bool dropout = isOp(*n, "Dropout") && inferenceDropout(*n, ctx.opset());
        if ((identity || dropout) && n->input(0) && n->output(0)) candidates.push_back(n.get());
    }
    for (ir::Node* n : candidates) {
        ir::Value* in = n->input(0);
        ir::Value* out = n->output(0);
        if (!canReplaceValue(graph, out, in)) continue;
        ctx.removed(*n);
        replaceValue(graph, out, in);
        eraseNode(graph, n);
    }
    return {};
}

} // namespace ew::opt
