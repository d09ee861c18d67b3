// eliminate-unused-initializers
//   before:  init %w0 : float32[64,3,3,3]   (nothing reads %w0)
//            init %w1 : float32[8]          %y = Add(%x, %w1)
//   after:   init %w1 : float32[8]          %y = Add(%x, %w1)
// An initializer that is also listed as a graph input is part of the model's interface (a
// caller may override it) and stays.
#include "../graph_util.h"

namespace ew::opt {

VoidResult eliminateUnusedInitializers(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Value*> dead;
    for (ir::Value* v : graph.initializers)
        if (v->uses().empty() && !v->isGraphOutput() && !v->isGraphInput()) dead.push_back(v);
    for (ir::Value* v : dead) {
        graph.removeValue(v);
        ctx.changedOther();
    }
    return {};
}

} // namespace ew::opt
