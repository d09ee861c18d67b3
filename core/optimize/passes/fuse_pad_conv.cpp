// fuse-pad-conv
//   before:  %p = Pad(%x, %pads) {mode="constant"}   (value 0; pads on spatial dims only, >= 0)
//            %y = Conv(%p, %w) {pads=[1,1,1,1]}
//   after:   %y = Conv(%x, %w) {pads=[1+top,1+left,1+bottom,1+right]}
// Conv pads with zeros, so an explicit zero Pad of the spatial dims is the same as a larger
// `pads`. AveragePool too when count_include_pad=1 (its padding then counts as zeros) and
// ceil_mode=0 (with ceil_mode a last window may start in the padding, where the two differ);
// MaxPool pads with -inf, so a zero Pad cannot move into it. Reads the pads from the attribute
// before opset 11 and from constant inputs after (with the optional axes input of opset 18).
// Only when %p feeds that one node (as its data input), auto_pad is NOTSET, and the Pad touches
// neither the batch nor the channel dim.
#include "../graph_util.h"

namespace ew::opt {

namespace {

/// The Pad's begin/end pads per axis of its rank-`rank` input ([b0..b(r-1), e0..e(r-1)]), or
/// nullopt when it is not a constant-mode zero pad we can read.
std::optional<std::vector<int64_t>> zeroPads(const ir::Node& pad, int64_t rank, int64_t opset) {
    if (pad.attrString("mode", "constant") != "constant" || opset < 2) return std::nullopt;
    std::vector<int64_t> raw;
    std::vector<int64_t> axes;
    if (opset < 11) {
        if (pad.attrFloat("value", 0.f) != 0.f || !pad.hasAttr("pads")) return std::nullopt;
        raw = pad.attrInts("pads");
    } else {
        const ir::Tensor* p = fixedConstantOf(pad.input(1));
        if (!p || p->dtype != ir::DataType::Int64 || p->dims.size() != 1) return std::nullopt;
        raw = p->toInt64();
        if (pad.inputs().size() > 2 && pad.input(2)) {
            const ir::Tensor* v = fixedConstantOf(pad.input(2));
            if (!v || v->numElements() != 1 || !v->strings.empty() || v->valueAsDouble(0) != 0.0)
                return std::nullopt;
        }
        if (pad.inputs().size() > 3 && pad.input(3)) {
            if (opset < 18) return std::nullopt;
            const ir::Tensor* a = fixedConstantOf(pad.input(3));
            if (!a || (a->dtype != ir::DataType::Int64 && a->dtype != ir::DataType::Int32) ||
                a->dims.size() != 1)
                return std::nullopt;
            axes = a->toInt64();
        }
    }
    if (axes.empty() && !(pad.inputs().size() > 3 && pad.input(3)))
        for (int64_t k = 0; k < rank; ++k)
            axes.push_back(k);
    if (raw.size() != 2 * axes.size()) return std::nullopt;
    std::vector<int64_t> out(std::size_t(2 * rank), 0);
    std::vector<bool> seen(std::size_t(rank), false);
    for (std::size_t k = 0; k < axes.size(); ++k) {
        int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
        if (a < 0 || a >= rank || seen[std::size_t(a)]) return std::nullopt;
        seen[std::size_t(a)] = true;
        out[std::size_t(a)] = raw[k];
        out[std::size_t(a + rank)] = raw[k + axes.size()];
    }
    for (int64_t v : out)
        if (v < 0) return std::nullopt; // negative pads crop
    return out;
}

bool acceptsPadding(const ir::Node& n) {
    if (n.attrString("auto_pad", "NOTSET") != "NOTSET") return false;
    if (isOp(n, "Conv")) return true;
    if (isOp(n, "AveragePool"))
        return n.attrInt("count_include_pad", 0) == 1 && n.attrInt("ceil_mode", 0) == 0;
    return false;
}

} // namespace

VoidResult fusePadConv(ir::Graph& graph, PassContext& ctx) {
    std::vector<ir::Node*> pads;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "Pad")) pads.push_back(n.get());
    for (ir::Node* pad : pads) {
        ir::Value* x = pad->input(0);
        ir::Value* p = pad->output(0);
        ir::Node* next = soleConsumer(p);
        if (!x || !next || next->input(0) != p || !acceptsPadding(*next) || !isFloat(p)) continue;
        if (!x->type.shape) continue;
        const int64_t rank = static_cast<int64_t>(x->type.shape->rank());
        if (rank < 3) continue;
        const std::optional<std::vector<int64_t>> padded = zeroPads(*pad, rank, ctx.opset());
        if (!padded) continue;
        const auto& pv = *padded;
        if (pv[0] != 0 || pv[1] != 0 || pv[std::size_t(rank)] != 0 ||
            pv[std::size_t(rank + 1)] != 0)
            continue;
        const int64_t spatial = rank - 2;
        std::vector<int64_t> cur =
            next->attrInts("pads", std::vector<int64_t>(std::size_t(2 * spatial), 0));
        if (static_cast<int64_t>(cur.size()) != 2 * spatial) continue;
        for (int64_t s = 0; s < spatial; ++s) {
            cur[std::size_t(s)] += pv[std::size_t(s + 2)];
            cur[std::size_t(s + spatial)] += pv[std::size_t(rank + s + 2)];
        }
        ctx.fused(*pad, *next);
        next->setAttr(ir::Attribute::makeInts("pads", std::move(cur)));
        next->setInput(0, x);
        const std::vector<ir::Value*> params = pad->inputs();
        eraseNode(graph, pad);
        for (ir::Value* v :
             params) // the pads, value and axes constants when nothing else reads them
            if (v && v != x && v->graph() == &graph && v->isInitializer() && v->uses().empty() &&
                !v->isGraphInput() && !v->isGraphOutput())
                graph.removeValue(v);
    }
    return {};
}

} // namespace ew::opt
