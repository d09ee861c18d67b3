// fuse-gemm-bn
//   before:  %y = Gemm(%a, %B, %C) {transB, alpha, beta}     %y = MatMul(%a, %W)   (%a: [N, K])
//            %z = BatchNormalization(%y, %scale, %bias, %mean, %var)   (inference mode)
//   after:   %z = Gemm(%a, %B_folded, %C_folded) {transB, alpha}   %z = Gemm(%a, %W_folded,
//   %W_bias)
// BatchNormalization normalizes axis 1, which for the 2-D output [N, C] of a Gemm (or of a
// MatMul of a rank-2 %a; higher ranks would put the features on the last axis, not axis 1) is
// the feature axis: with s = scale / sqrt(var + epsilon), the columns of op(B) are scaled by s and
// C' = s * beta * C + (bias - mean * s) with beta' = 1. The MatMul becomes a Gemm (opset >= 7,
// where C broadcasts along the rows). New float32 initializers, computed in double; only when %y
// feeds the BatchNormalization alone and it is certainly in inference mode (see fuse-conv-bn).
#include "../graph_util.h"

namespace ew::opt {

VoidResult fuseGemmBn(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> bns;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "BatchNormalization")) bns.push_back(n.get());
    for (ir::Node* bn : bns) {
        ir::Value* y = bn->input(0);
        ir::Node* prod = y ? y->producer() : nullptr;
        if (!prod || prod->graph() != &graph || soleConsumer(y) != bn || y != prod->output(0))
            continue;
        if (!isOp(*prod, "Gemm") && !isOp(*prod, "MatMul")) continue;
        const std::optional<ChannelLinear> p = channelLinearOf(*prod, ctx.opset());
        if (!p || p->outRank != 2) continue;
        const auto affine = inferenceBatchNormAffine(*bn, p->channels, ctx.opset());
        if (!affine) continue;
        foldConsumerIntoProducer(graph, ctx, bn, *p, affine->first, affine->second);
    }
    return {};
}

} // namespace ew::opt
