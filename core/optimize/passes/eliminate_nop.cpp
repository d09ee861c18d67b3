// eliminate-nop
//   before:  input %x : float32[1,4,8]
//            %a = Reshape(%x, %s)            (%s = [1,4,8]: same shape)
//            %b = Transpose(%a) {perm=[0,1,2]}
//            %c = Cast(%b) {to=1}            (float to float)
//            %y = Relu(%c)
//   after:   %y = Relu(%x)
// Each node below is removed only when static information proves it returns its input unchanged:
//   Reshape, Flatten, Squeeze, Unsqueeze, Expand, Tile   input and output shapes both static, equal
//   Transpose                     perm is the identity (no perm: rank <= 1)
//   Cast / CastLike               target type equals the input's element type
//   Pad                           every pad is 0 (attribute before opset 11, constant input after;
//                                 any mode: zero padding copies the input whatever the mode)
//   Slice                         all steps 1 (constant or absent) and the output shape equals the
//                                 input's (a length-d range with step 1 in [0,d) starts at 0)
//   Concat, Sum, Max, Min, Mean   a single input
//   Split                         a single output of the input's shape
// A graph output keeps its name (the producer of the input takes it over); when that cannot be
// done (the input is a graph input, an initializer, another output or an outer-scope value) the
// node stays, as in eliminate-identity.
#include "../graph_util.h"

#include <algorithm>

namespace ew::opt {

namespace {

bool sameStaticShape(const ir::Value* a, const ir::Value* b) {
    const auto da = staticDims(a);
    const auto db = staticDims(b);
    return da && db && *da == *db;
}

bool allEqual(const std::vector<int64_t>& v, int64_t x) {
    return std::all_of(v.begin(), v.end(), [x](int64_t e) { return e == x; });
}

/// Constant int values of an optional input; nullopt when present but not constant.
std::optional<std::vector<int64_t>> constantInts(const ir::Value* v) {
    if (!v || v->isGraphInput()) return std::nullopt;
    const ir::Tensor* t = constantOf(v);
    if (!t || (t->dtype != ir::DataType::Int64 && t->dtype != ir::DataType::Int32))
        return std::nullopt;
    return t->toInt64();
}

bool isNop(const ir::Node& n, int64_t opset) {
    const ir::Value* in = n.input(0);
    const ir::Value* out = n.output(0);
    if (!in || !out) return false;
    // Every other output slot must be absent (Split is checked below).
    for (std::size_t k = 1; k < n.outputs().size(); ++k)
        if (n.output(k)) return false;

    if (isOp(n, "Reshape") || isOp(n, "Flatten") || isOp(n, "Squeeze") || isOp(n, "Unsqueeze") ||
        isOp(n, "Expand") || isOp(n, "Tile"))
        return sameStaticShape(in, out);
    if (isOp(n, "Transpose")) {
        if (const ir::Attribute* p = n.attr("perm")) {
            if (p->type != ir::AttrType::Ints) return false;
            for (std::size_t k = 0; k < p->ints.size(); ++k)
                if (p->ints[k] != static_cast<int64_t>(k)) return false;
            return true;
        }
        return in->type.isTensor() && in->type.shape && in->type.shape->rank() <= 1;
    }
    if (isOp(n, "Cast")) {
        const ir::Attribute* to = n.attr("to");
        return to && to->type == ir::AttrType::Int && in->type.isTensor() &&
               in->type.elemType != ir::DataType::Undefined &&
               static_cast<int64_t>(in->type.elemType) == to->i;
    }
    if (isOp(n, "CastLike")) {
        const ir::Value* like = n.input(1);
        return like && in->type.isTensor() && like->type.isTensor() &&
               in->type.elemType != ir::DataType::Undefined &&
               in->type.elemType == like->type.elemType;
    }
    if (isOp(n, "Pad")) {
        if (opset < 11) {
            const ir::Attribute* p = n.attr(opset < 2 ? "paddings" : "pads");
            return p && p->type == ir::AttrType::Ints && allEqual(p->ints, 0);
        }
        const auto pads = constantInts(n.input(1));
        return pads && allEqual(*pads, 0);
    }
    if (isOp(n, "Slice")) {
        if (opset >= 10 && n.input(4)) {
            const auto steps = constantInts(n.input(4));
            if (!steps || !allEqual(*steps, 1)) return false;
        }
        return sameStaticShape(in, out);
    }
    if (isOp(n, "Concat") || isOp(n, "Sum") || isOp(n, "Max") || isOp(n, "Min") || isOp(n, "Mean"))
        return n.inputs().size() == 1;
    if (isOp(n, "Split")) return n.outputs().size() == 1 && sameStaticShape(in, out);
    return false;
}

} // namespace

VoidResult eliminateNop(ir::Graph& graph, PassContext& ctx) {
    const int64_t opset = ctx.opset();
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if (isNop(*n, opset)) candidates.push_back(n.get());
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
