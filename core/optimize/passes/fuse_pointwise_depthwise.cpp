// fuse-pointwise-depthwise (runtime)
//   before:  %e = Conv|ai.edgewise.FusedConv(%x, %wp, %bp) {1x1, stride 1, no pads}  (activation a)
//            %y = Conv|ai.edgewise.FusedConv(%e, %wd, %bd) {group = C, KHxKW, strides 1|2} (activation d)
//   after:   %y = ai.edgewise.FusedPwDwConv(%x, %wp, %bp, %wd, %bd)
//                 {activation=a, dw_activation=d, the depthwise window's attributes}
// Taken when %e feeds only the depthwise convolution and its map (C x H x W floats of one image,
// sizes known) is at least rt::kPwDwMinBytes. The fused node keeps the pointwise node's name. The
// matching is the runtime's (rt::fusePointwiseDepthwise): optimized models and Session's own
// fusion agree. Run after fuse-conv-activation, which gives both convolutions their activations.
#include "../graph_util.h"
#include "runtime/fusion.h"

namespace ew::opt {

VoidResult fusePointwiseDepthwise(ir::Graph& graph, PassContext& ctx) {
    rt::FusionListener listener;
    listener.fused = [&](const ir::Node& absorbed, const ir::Node& into) { ctx.fused(absorbed, into); };
    listener.rewritten = [&](const ir::Node& n) { ctx.rewritten(n); };
    rt::fusePointwiseDepthwise(graph, &listener);
    return {};
}

} // namespace ew::opt
