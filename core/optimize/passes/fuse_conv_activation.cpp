// fuse-conv-activation (runtime)
//   before:  %c = Conv(%x, %w, %b)                 (constant float weights, 1-D to 3-D conv)
//            %n = BatchNormalization(%c, ...)      (optional: inference mode, constant stats)
//            %s = Add(%n, %r)                      (optional residual of the same shape)
//            %y = Relu(%s)                         (optional; or Clip with constant bounds,
//                                                   LeakyRelu, HardSigmoid, HardSwish, Sigmoid,
//                                                   Tanh, Mul(%s, Sigmoid(%s)), ai.edgewise.Silu)
//   after:   %y = ai.edgewise.FusedConv(%x, %w', %b', %r) {activation="Relu", conv attrs}
// A Conv followed by nothing fusable stays a Conv. Every intermediate value must have exactly one
// consumer (SiLU's: the Sigmoid and the Mul) and not be a graph output. The BatchNormalization is
// folded into new weight/bias initializers. The fused node keeps the Conv's name. The matching
// itself is the runtime's (rt::fuseConvChains), so optimized models and Session's own fusion agree.
#include "../graph_util.h"
#include "runtime/fusion.h"

namespace ew::opt {

VoidResult fuseConvActivation(ir::Graph& graph, PassContext& ctx) {
    rt::FusionListener listener;
    listener.fused = [&](const ir::Node& absorbed, const ir::Node& into) { ctx.fused(absorbed, into); };
    listener.rewritten = [&](const ir::Node& n) { ctx.rewritten(n); };
    rt::fuseConvChains(graph, &listener);
    return {};
}

} // namespace ew::opt
