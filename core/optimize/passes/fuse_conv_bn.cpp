// fuse-conv-bn
//   before:  %y = Conv(%x, %w, %b)                  (or ConvTranspose; %w, %b constant)
//            %z = BatchNormalization(%y, %scale, %B, %mean, %var)   (inference mode)
//   after:   %z = Conv(%x, %w_folded, %b_folded)
// With s = scale / sqrt(var + epsilon): w' = w * s per output channel, b' = (b - mean) * s + B,
// computed in double and stored as new float32 initializers (another node may share %w). Conv
// weights are [M, C/group, k...], so the output channel is the row; ConvTranspose weights are
// [C, M/group, k...], so it is dim 1 within the input channel's group. Only when %y feeds the
// BatchNormalization alone, and the BatchNormalization is certainly in inference mode: opset >= 7
// (older ones have is_test/consumed_inputs), spatial = 1 before opset 9, training_mode = 0 from
// opset 14, and no mean/var outputs (those exist only in training).
#include "../graph_util.h"

namespace ew::opt {

VoidResult fuseConvBn(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> bns;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "BatchNormalization")) bns.push_back(n.get());
    for (ir::Node* bn : bns) {
        ir::Value* y = bn->input(0);
        ir::Node* prod = y ? y->producer() : nullptr;
        if (!prod || prod->graph() != &graph || soleConsumer(y) != bn || y != prod->output(0))
            continue;
        if (!isOp(*prod, "Conv") && !isOp(*prod, "ConvTranspose")) continue;
        const std::optional<ChannelLinear> p = channelLinearOf(*prod, ctx.opset());
        if (!p) continue;
        const auto affine = inferenceBatchNormAffine(*bn, p->channels, ctx.opset());
        if (!affine) continue;
        foldConsumerIntoProducer(graph, ctx, bn, *p, affine->first, affine->second);
    }
    return {};
}

} // namespace ew::opt
