// fuse-silu (runtime)
//   before:  %s = Sigmoid(%x)                     (%s read only by the Mul)
//            %y = Mul(%x, %s)                     (or Mul(%s, %x))
//   after:   %y = ai.edgewise.Silu(%x)            (%x keeps any other readers)
// When %x comes from a Conv chain that fuse-conv-activation could take (Conv [+ BN] [+ residual
// Add], %x read only by the pair), the whole chain becomes ai.edgewise.FusedConv
// {activation="Silu"}; when %x comes from a FusedConv without activation, that FusedConv takes
// the activation. The Silu node keeps the Mul's name. Matching is the runtime's (rt::fuseSilu).
#include "../graph_util.h"
#include "runtime/fusion.h"

namespace ew::opt {

VoidResult fuseSilu(ir::Graph& graph, PassContext& ctx) {
    rt::FusionListener listener;
    listener.fused = [&](const ir::Node& absorbed, const ir::Node& into) { ctx.fused(absorbed, into); };
    listener.rewritten = [&](const ir::Node& n) { ctx.rewritten(n); };
    rt::fuseSilu(graph, &listener);
    return {};
}

} // namespace ew::opt
