// fuse-gemm-activation (runtime)
//   before:  %g = Gemm(%a, %w, %c) {alpha, beta, transA, transB}     (%w constant float 2-D)
//            %y = Relu(%g)
//   after:   %y = ai.edgewise.FusedGemm(%a, %w, %c) {activation="Relu", alpha, beta, transA, transB}
//
//   before:  %m = MatMul(%a, %w)                  (%a of rank 2, %w constant float 2-D [K, N])
//            %s = Add(%m, %bias)                  (optional: constant bias [N] or [1, N])
//            %y = Clip(%s, %lo, %hi)              (constant bounds)
//   after:   %y = ai.edgewise.FusedGemm(%a, %w, %bias) {activation="Clip", activation_params=[lo, hi]}
// Activations: Relu, Clip (constant bounds), LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh,
// SiLU (Mul(%s, Sigmoid(%s)) or ai.edgewise.Silu). Without an activation nothing changes. Every
// intermediate value has exactly one consumer (SiLU's: the pair) and is not a graph output. The
// fused node keeps the Gemm's / MatMul's name. Matching is the runtime's (rt::fuseGemmActivations).
#include "../graph_util.h"
#include "runtime/fusion.h"

namespace ew::opt {

VoidResult fuseGemmActivation(ir::Graph& graph, PassContext& ctx) {
    rt::FusionListener listener;
    listener.fused = [&](const ir::Node& absorbed, const ir::Node& into) { ctx.fused(absorbed, into); };
    listener.rewritten = [&](const ir::Node& n) { ctx.rewritten(n); };
    rt::fuseGemmActivations(graph, &listener);
    return {};
}

} // namespace ew::opt
