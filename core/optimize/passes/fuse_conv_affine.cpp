// fuse-conv-affine
//   before:  %y = Conv(%x, %w, %b)            (or ConvTranspose / Gemm, constant weights)
//            %z = Mul(%y, %c)                 (%c constant, per output channel: [M,1,1], [1,M,1,1],
//                                              a scalar, [M] after a Gemm, ...)
//   after:   %z = Conv(%x, %w_folded, %b_folded)       w' = w * c, b' = b * c
// Likewise Div (w' = w / c, b' = b / c; no zero in %c), Add (b' = b + c) and Sub (b' = b - c).
// Mul and Add take the constant on either side; Sub and Div only on the right (%y - %c, %y / %c).
// %c must broadcast along the channel axis alone: every one of its dims, aligned to %y's rank
// from the right, is 1 except possibly the one on axis 1, which may be M; and its rank is at most
// %y's. Anything else (e.g. [1,M,H,W], or [M] against a 4-D Conv output, where it would be the
// width axis) would make the result depend on more than the channel, or grow the output, and
// does not match. Only when %y feeds the Mul/Div/Add/Sub alone; non-finite constants stay.
#include "../graph_util.h"

#include <cmath>

namespace ew::opt {

namespace {

/// %c as one value per output channel, or nullopt when it broadcasts along anything else.
std::optional<std::vector<double>> perChannel(const ir::Value* c, const ChannelLinear& p) {
    const ir::Tensor* t = fixedConstantOf(c);
    if (!t || t->dtype != ir::DataType::Float || !t->strings.empty()) return std::nullopt;
    const int64_t rank = static_cast<int64_t>(t->dims.size());
    if (rank > p.outRank) return std::nullopt;
    for (int64_t k = 0; k < rank; ++k) {
        const int64_t axis = p.outRank - rank + k;
        const int64_t d = t->dims[std::size_t(k)];
        if (d != 1 && !(axis == 1 && d == p.channels)) return std::nullopt;
    }
    const int64_t count = t->numElements();
    std::vector<double> v(static_cast<std::size_t>(p.channels));
    for (int64_t m = 0; m < p.channels; ++m) {
        v[std::size_t(m)] = t->valueAsDouble(count == 1 ? 0 : m);
        if (!std::isfinite(v[std::size_t(m)])) return std::nullopt;
    }
    return v;
}

} // namespace

VoidResult fuseConvAffine(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if ((isOp(*n, "Mul") || isOp(*n, "Div") || isOp(*n, "Add") || isOp(*n, "Sub")) &&
            n->inputs().size() == 2 && n->outputs().size() == 1)
            candidates.push_back(n.get());
    for (ir::Node* n : candidates) {
        const bool commutes = isOp(*n, "Mul") || isOp(*n, "Add");
        for (int side = 0; side < (commutes ? 2 : 1); ++side) {
            ir::Value* y = n->input(std::size_t(side));
            ir::Value* c = n->input(std::size_t(1 - side));
            ir::Node* prod = y ? y->producer() : nullptr;
            if (!prod || prod->graph() != &graph || soleConsumer(y) != n || y != prod->output(0) ||
                c == y)
                continue;
            if (!isOp(*prod, "Conv") && !isOp(*prod, "ConvTranspose") && !isOp(*prod, "Gemm"))
                continue;
            const std::optional<ChannelLinear> p = channelLinearOf(*prod, ctx.opset());
            if (!p) continue;
            const std::optional<std::vector<double>> v = perChannel(c, *p);
            if (!v) continue;
            std::vector<double> scale(std::size_t(p->channels), 1.0),
                shift(std::size_t(p->channels), 0.0);
            bool ok = true;
            for (std::size_t m = 0; m < v->size(); ++m) {
                const double cv = (*v)[m];
                if (isOp(*n, "Mul"))
                    scale[m] = cv;
                else if (isOp(*n, "Add"))
                    shift[m] = cv;
                else if (isOp(*n, "Sub"))
                    shift[m] = -cv;
                else if (cv != 0.0)
                    scale[m] = 1.0 / cv;
                else
                    ok = false; // x / 0 is inf or NaN depending on x: not a scale
            }
            if (ok && foldConsumerIntoProducer(graph, ctx, n, *p, scale, shift)) break;
        }
    }
    return {};
}

} // namespace ew::opt
