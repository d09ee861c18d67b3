#include "quant_params.h"

namespace ew::ir {

namespace {

bool annotate(Value* target, const Value* scale, const Value* zeroPoint, int64_t axis) {
    if (!target) return false;
    const Tensor* s = constantTensorOf(scale);
    if (!s || s->dtype == DataType::String || s->numElements() < 1) return false;
    const Tensor* z = constantTensorOf(zeroPoint);
    QuantParams q;
    q.scales = s->toFloat();
    if (z && z->dtype != DataType::String) {
        q.zeroPoints = z->toInt64();
        q.storageType = z->dtype;
    } else {
        q.zeroPoints.assign(q.scales.size(), 0);
        q.storageType = target->type.isTensor() ? target->type.elemType : DataType::UInt8;
    }
    if (target->type.isTensor() && isInteger(target->type.elemType)) q.storageType = target->type.elemType;
    if (q.zeroPoints.size() != q.scales.size() && !q.zeroPoints.empty()) return false;
    if (q.scales.size() > 1) {
        q.axis = axis;
        if (q.axis < 0 && target->type.shape) q.axis += static_cast<int64_t>(target->type.shape->rank());
    }
    target->quant = std::move(q);
    return true;
}

} // namespace

int deriveQuantParams(Graph& graph) {
    int count = 0;
    for (const auto& n : graph.nodes()) {
        if (!canonicalDomain(n->domain).empty() && n->domain != "com.microsoft") {
            for (Graph* sg : n->subgraphs()) count += deriveQuantParams(*sg);
            continue;
        }
        const std::string& op = n->opType;
        if (op == "QuantizeLinear") {
            count += annotate(n->output(0), n->input(1), n->input(2), n->attrInt("axis", 1));
        } else if (op == "DequantizeLinear") {
            Value* x = n->input(0);
            if (x && !x->quant) count += annotate(x, n->input(1), n->input(2), n->attrInt("axis", 1));
        } else if (op == "QLinearConv" || op == "QLinearMatMul") {
            // (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, ...)
            if (!n->input(0) || !n->input(0)->quant) count += annotate(n->input(0), n->input(1), n->input(2), 1);
            if (!n->input(3) || !n->input(3)->quant) count += annotate(n->input(3), n->input(4), n->input(5), 0);
            count += annotate(n->output(0), n->input(6), n->input(7), 1);
        }
        for (Graph* sg : n->subgraphs()) count += deriveQuantParams(*sg);
    }
    for (const auto& qa : graph.quantizationAnnotations) {
        Value* target = graph.findValue(qa.tensorName);
        if (!target || target->quant) continue;
        const Value* scale = nullptr;
        const Value* zp = nullptr;
        for (const auto& [k, v] : qa.params) {
            if (k == "SCALE_TENSOR") scale = graph.lookupValue(v);
            if (k == "ZERO_POINT_TENSOR") zp = graph.lookupValue(v);
        }
        count += annotate(target, scale, zp, 1);
    }
    return count;
}

} // namespace ew::ir
