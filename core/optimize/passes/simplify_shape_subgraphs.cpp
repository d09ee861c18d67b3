// simplify-shape-subgraphs
//   before:  input %x : float32[1,3,8,8]
//            %s = Shape(%x)                      %n = Size(%x)
//            %d = Gather(%s, %one) {axis=0}
//   after:   init %s : int64[4] = [1,3,8,8]      init %n : int64[] = [192]
//            %d = Gather(%s, %one) {axis=0}      (fold-constants then folds the Gather,
//                                                  Unsqueeze, Concat ... down to one constant)
// and, where only some dims are static,
//   before:  input %x : float32[N,3,8,8]
//            %s = Shape(%x)
//            %d = Gather(%s, %two) {axis=0}      (%two = [2] or [-2]: static dims only)
//   after:   init %d : int64[1] = [8]
// Shape honours start/end (opset 15). Size needs every dim. Gather(Shape(x), constant indices,
// axis 0) folds when every gathered dim is static. A dim that is symbolic or unknown is never
// read, so dynamic batch/sequence dims stay dynamic. Outputs of nested bodies are left alone
// (the control-flow kernels expect them produced by a node).
#include "../graph_util.h"

#include <algorithm>

namespace ew::opt {

namespace {

/// The dims of x's type, with -1 where a dim is not a known number; nullopt when the rank is
/// unknown. A constant x has its data's dims.
std::optional<std::vector<int64_t>> dimsOf(const ir::Value* x) {
    if (!x) return std::nullopt;
    if (const ir::Tensor* t = constantOf(x); t && !x->isGraphInput()) return t->dims;
    if (!x->type.isTensor() || !x->type.shape) return std::nullopt;
    std::vector<int64_t> d;
    for (const ir::Dim& dim : x->type.shape->dims)
        d.push_back(dim.isKnown() ? dim.value : -1);
    return d;
}

/// [start, end) of the dims a Shape node returns (opset 15 slicing; the whole shape before).
std::pair<int64_t, int64_t> shapeRange(const ir::Node& n, int64_t rank, int64_t opset) {
    int64_t start = 0, end = rank;
    if (opset >= 15) {
        start = n.attrInt("start", 0);
        end = n.attrInt("end", rank);
    }
    auto clampDim = [rank](int64_t v) {
        if (v < 0) v += rank;
        return std::clamp<int64_t>(v, 0, rank);
    };
    start = clampDim(start);
    end = clampDim(end);
    return {start, std::max(start, end)};
}

bool nestedOutput(const ir::Graph& g, const ir::Value* v) {
    return g.parent() != nullptr && v && v->isGraphOutput();
}

} // namespace

VoidResult simplifyShapeSubgraphs(ir::Graph& graph, PassContext& ctx) {
    const int64_t opset = ctx.opset();
    std::vector<ir::Node*> candidates;
    for (const auto& n : graph.nodes())
        if (isOp(*n, "Shape") || isOp(*n, "Size") || isOp(*n, "Gather"))
            candidates.push_back(n.get());

    for (ir::Node* n : candidates) {
        ir::Value* out = n->output(0);
        if (!out || nestedOutput(graph, out)) continue;

        if (isOp(*n, "Shape") || isOp(*n, "Size")) {
            const std::optional<std::vector<int64_t>> dims = dimsOf(n->input(0));
            if (!dims) continue;
            const int64_t rank = static_cast<int64_t>(dims->size());
            auto [b, e] = isOp(*n, "Shape") ? shapeRange(*n, rank, opset)
                                            : std::pair<int64_t, int64_t>{0, rank};
            std::vector<int64_t> picked(dims->begin() + b, dims->begin() + e);
            if (std::any_of(picked.begin(), picked.end(), [](int64_t d) { return d < 0; }))
                continue;
            std::vector<ir::Tensor> values;
            if (isOp(*n, "Shape")) {
                const int64_t len = static_cast<int64_t>(picked.size());
                values.push_back(int64Tensor({len}, std::move(picked)));
            } else {
                int64_t count = 1;
                for (int64_t d : picked)
                    count *= d;
                values.push_back(int64Tensor({}, {count}));
            }
            ctx.removed(*n);
            replaceNodeWithConstants(graph, n, std::move(values));
            continue;
        }

        // Gather(Shape(x), indices): only the gathered dims need to be static.
        ir::Value* data = n->input(0);
        const ir::Node* shape = data ? data->producer() : nullptr;
        if (!shape || !isOp(*shape, "Shape") || n->attrInt("axis", 0) != 0) continue;
        const ir::Tensor* idx =
            n->input(1) && !n->input(1)->isGraphInput() ? constantOf(n->input(1)) : nullptr;
        if (!idx || (idx->dtype != ir::DataType::Int64 && idx->dtype != ir::DataType::Int32))
            continue;
        const std::optional<std::vector<int64_t>> dims = dimsOf(shape->input(0));
        if (!dims) continue;
        auto [b, e] = shapeRange(*shape, static_cast<int64_t>(dims->size()), opset);
        const int64_t len = e - b;
        std::vector<int64_t> values;
        bool ok = true;
        for (int64_t i : idx->toInt64()) {
            if (i < 0) i += len;
            if (i < 0 || i >= len || (*dims)[b + i] < 0) {
                ok = false;
                break;
            }
            values.push_back((*dims)[b + i]);
        }
        if (!ok) continue;
        std::vector<ir::Tensor> result;
        result.push_back(int64Tensor(idx->dims, std::move(values)));
        ctx.removed(*n);
        replaceNodeWithConstants(graph, n, std::move(result));
    }
    return {};
}

} // namespace ew::opt
