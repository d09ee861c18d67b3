// fuse-matmul-add
//   before:  %y = MatMul(%a, %w)          (%a: [M, K], rank 2; %w constant [K, N])
//            %z = Add(%y, %c)             (%c constant: [], [N], [1,N], [M,N], [M,1], ...)
//   after:   %z = Gemm(%a, %w, %c)
// Gemm is 2-D only, so a MatMul of a higher-rank %a stays. %c must broadcast to [M, N] without
// growing it (rank <= 2, each dim 1 or equal to %y's; a dim equal to M only when M is static),
// which is exactly Gemm's unidirectional C broadcast from opset 7 (older Gemm had a `broadcast`
// attribute: skipped). Either operand order of the Add; only when %y feeds the Add alone.
#include "../graph_util.h"

namespace ew::opt {

namespace {

bool broadcastsTo(const ir::Tensor& c, const std::optional<ir::Shape>& aShape, int64_t n) {
    if (c.dims.size() > 2) return false;
    if (!c.dims.empty() && c.dims.back() != 1 && c.dims.back() != n) return false;
    if (c.dims.size() == 2 && c.dims[0] != 1) {
        const ir::Dim& m = aShape->dims[0];
        if (!m.isKnown() || m.value != c.dims[0]) return false;
    }
    return true;
}

ir::Node* nodeAfter(const ir::Graph& g, const ir::Node* n) {
    const auto& nodes = g.nodes();
    for (std::size_t k = 0; k < nodes.size(); ++k)
        if (nodes[k].get() == n) return k + 1 < nodes.size() ? nodes[k + 1].get() : nullptr;
    return nullptr;
}

} // namespace

VoidResult fuseMatmulAdd(ir::Graph& graph, PassContext& ctx) {
    if (ctx.opset() < 7) return {};
    std::vector<ir::Node*> matmuls;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "MatMul")) matmuls.push_back(n.get());
    for (ir::Node* mm : matmuls) {
        ir::Value* a = mm->input(0);
        ir::Value* y = mm->output(0);
        ir::Node* add = soleConsumer(y);
        if (!add || !isOp(*add, "Add") || add->inputs().size() != 2 || !add->output(0)) continue;
        if (!isFloat(a) || !a->type.shape || a->type.shape->rank() != 2 || !isFloat(add->output(0)))
            continue;
        const ir::Tensor* w = fixedConstantOf(mm->input(1));
        if (!w || w->dtype != ir::DataType::Float || w->dims.size() != 2) continue;
        ir::Value* c = add->input(0) == y ? add->input(1) : add->input(0);
        const ir::Tensor* ct = fixedConstantOf(c);
        if (c == y || !ct || ct->dtype != ir::DataType::Float ||
            !broadcastsTo(*ct, a->type.shape, w->dims[1]))
            continue;
        // The Gemm takes over %z (its name, uses, graph-output place) where the Add was.
        ir::Value* z = add->output(0);
        ir::Value* b = mm->input(1);
        const std::string name = mm->name;
        ctx.fused(*add, *mm);
        ir::Node* before = nodeAfter(graph, add);
        if (before == mm) before = nodeAfter(graph, mm);
        graph.removeNode(add);
        eraseNode(graph, mm);
        ir::Node* gemm = graph.insertNode(before, "Gemm", "", name, {a, b, c}, {z});
        ctx.rewritten(*gemm);
    }
    return {};
}

} // namespace ew::opt
