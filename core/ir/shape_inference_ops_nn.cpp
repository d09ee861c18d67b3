// Neural-network layers: convolution and pooling arithmetic, normalization, Gemm/MatMul,
// recurrent layers, attention, quantization, losses and signal ops.
#include "shape_inference_internal.h"

#include <algorithm>
#include <cmath>

namespace ew::ir::si {

namespace {

std::optional<Shape> shapeOrNull(const InferContext& ctx, std::size_t i) {
    if (const Shape* s = ctx.inputShape(i)) return *s;
    return std::nullopt;
}

int64_t ceilDiv(int64_t a, int64_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
int64_t floorDiv(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// Sliding-window geometry shared by Conv and the pools.
struct Window {
    std::vector<int64_t> kernel, strides, dilations, pads;
    std::string autoPad;
    bool ceilMode = false;
};

/// Reads kernel/strides/dilations/pads for `spatial` dims; false (with a problem) when they do
/// not fit.
bool readWindow(InferContext& ctx, std::size_t spatial, Window& w) {
    const Node& n = ctx.node();
    w.strides = n.attrInts("strides", std::vector<int64_t>(spatial, 1));
    w.dilations = n.attrInts("dilations", std::vector<int64_t>(spatial, 1));
    w.pads = n.attrInts("pads", std::vector<int64_t>(2 * spatial, 0));
    w.autoPad = n.attrString("auto_pad", "NOTSET");
    w.ceilMode = n.attrInt("ceil_mode", 0) != 0;
    if (w.strides.empty()) w.strides.assign(spatial, 1);
    if (w.dilations.empty()) w.dilations.assign(spatial, 1);
    if (w.pads.empty()) w.pads.assign(2 * spatial, 0);
    if (w.kernel.size() != spatial || w.strides.size() != spatial ||
        w.dilations.size() != spatial || w.pads.size() != 2 * spatial) {
        ctx.problem("kernel_shape, strides, dilations or pads do not match " +
                    std::to_string(spatial) + " spatial dims");
        return false;
    }
    for (std::size_t k = 0; k < spatial; ++k)
        if (w.strides[k] <= 0 || w.dilations[k] <= 0 || w.kernel[k] < 0 || w.pads[k] < 0 ||
            w.pads[k + spatial] < 0) {
            ctx.problem("non-positive stride or dilation, or negative kernel or pad");
            return false;
        }
    return true;
}

/// Output size of one spatial dim of a convolution or pooling window.
Dim windowOutput(const Dim& in, const Window& w, std::size_t k, bool pooling) {
    if (!in.isKnown()) return Dim::unknown();
    int64_t s = w.strides[k];
    int64_t ek = (w.kernel[k] - 1) * w.dilations[k] + 1;
    int64_t i = in.value;
    if (w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER") return Dim::known(ceilDiv(i, s));
    int64_t pb = 0, pe = 0;
    if (w.autoPad != "VALID") {
        pb = w.pads[k];
        pe = w.pads[k + w.kernel.size()];
    }
    int64_t span = i + pb + pe - ek;
    if (span < 0) return Dim::unknown();
    int64_t out;
    if (pooling && w.ceilMode) {
        out = ceilDiv(span, s) + 1;
        // The last window must start inside the input or its left padding.
        if ((out - 1) * s >= i + pb) --out;
    } else {
        out = floorDiv(span, s) + 1;
    }
    return Dim::known(out);
}

} // namespace

void inferConv(InferContext& ctx) {
    const std::string& op = ctx.node().opType;
    std::size_t wIndex = op == "QLinearConv" ? 3 : 1;
    DataType dt = ctx.inputElem(0);
    if (op == "ConvInteger") dt = DataType::Int32;
    if (op == "QLinearConv") dt = ctx.inputElem(7);
    const Shape* x = ctx.inputShape(0);
    const Shape* w = ctx.inputShape(wIndex);
    if (!x) {
        ctx.setOutputTensor(0, dt,
                            w ? std::optional<Shape>(unknownShape(w->rank())) : std::nullopt);
        return;
    }
    if (x->rank() < 3) {
        ctx.problem("input rank " + std::to_string(x->rank()) + " is below 3");
        return;
    }
    std::size_t spatial = x->rank() - 2;
    if (w && w->rank() != x->rank()) {
        ctx.problem("weight rank " + std::to_string(w->rank()) + " differs from input rank " +
                    std::to_string(x->rank()));
        return;
    }
    Window win;
    win.kernel = ctx.node().attrInts("kernel_shape");
    if (win.kernel.empty()) {
        if (!w) {
            ctx.setOutputTensor(0, dt, unknownShape(x->rank()));
            return;
        }
        for (std::size_t k = 0; k < spatial; ++k) {
            const Dim& d = w->dims[2 + k];
            win.kernel.push_back(d.isKnown() ? d.value : -1);
        }
    }
    bool kernelKnown =
        std::all_of(win.kernel.begin(), win.kernel.end(), [](int64_t k) { return k >= 0; });
    if (!kernelKnown) {
        for (auto& k : win.kernel)
            k = std::max<int64_t>(k, 1);
    }
    if (!readWindow(ctx, spatial, win)) return;
    int64_t group = ctx.node().attrInt("group", 1);
    if (group <= 0) {
        ctx.problem("group must be positive");
        return;
    }
    if (w && x->dims[1].isKnown() && w->dims[1].isKnown() &&
        x->dims[1].value != w->dims[1].value * group) {
        ctx.problem("input channels " + std::to_string(x->dims[1].value) + " != weight channels " +
                    std::to_string(w->dims[1].value) + " x group " + std::to_string(group));
        return;
    }
    Shape out = unknownShape(x->rank());
    out.dims[0] = x->dims[0];
    if (w) out.dims[1] = w->dims[0];
    for (std::size_t k = 0; k < spatial; ++k) {
        bool same = win.autoPad == "SAME_UPPER" || win.autoPad == "SAME_LOWER";
        if (kernelKnown || same) out.dims[2 + k] = windowOutput(x->dims[2 + k], win, k, false);
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferConvTranspose(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    const Shape* w = ctx.inputShape(1);
    if (!x) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (x->rank() < 3) {
        ctx.problem("input rank below 3");
        return;
    }
    std::size_t spatial = x->rank() - 2;
    const Node& n = ctx.node();
    int64_t group = n.attrInt("group", 1);
    Window win;
    win.kernel = n.attrInts("kernel_shape");
    if (win.kernel.empty() && w && w->rank() == x->rank())
        for (std::size_t k = 0; k < spatial; ++k)
            win.kernel.push_back(w->dims[2 + k].isKnown() ? w->dims[2 + k].value : -1);
    bool kernelKnown =
        win.kernel.size() == spatial &&
        std::all_of(win.kernel.begin(), win.kernel.end(), [](int64_t k) { return k >= 0; });
    if (!kernelKnown) win.kernel.assign(spatial, 1);
    if (!readWindow(ctx, spatial, win)) return;
    std::vector<int64_t> outPad = n.attrInts("output_padding", std::vector<int64_t>(spatial, 0));
    std::vector<int64_t> outShape = n.attrInts("output_shape");
    if (outPad.size() != spatial) {
        ctx.problem("output_padding does not match the spatial rank");
        return;
    }
    Shape out = unknownShape(x->rank());
    out.dims[0] = x->dims[0];
    if (w && w->rank() >= 2) out.dims[1] = mulDims(w->dims[1], Dim::known(group));
    if (!outShape.empty()) {
        if (outShape.size() < spatial) {
            ctx.problem("output_shape is shorter than the spatial rank");
            return;
        }
        for (std::size_t k = 0; k < spatial; ++k)
            out.dims[2 + k] = Dim::known(outShape[outShape.size() - spatial + k]);
    } else {
        for (std::size_t k = 0; k < spatial; ++k) {
            const Dim& in = x->dims[2 + k];
            if (!in.isKnown()) continue;
            int64_t s = win.strides[k];
            if (win.autoPad == "SAME_UPPER" || win.autoPad == "SAME_LOWER") {
                out.dims[2 + k] = Dim::known(in.value * s);
                continue;
            }
            if (!kernelKnown) continue;
            int64_t ek = (win.kernel[k] - 1) * win.dilations[k] + 1;
            int64_t pads = win.autoPad == "VALID" ? 0 : win.pads[k] + win.pads[k + spatial];
            int64_t v = s * (in.value - 1) + outPad[k] + ek - pads;
            out.dims[2 + k] = v >= 0 ? Dim::known(v) : Dim::unknown();
        }
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferPool(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    bool hasIndices = ctx.node().opType == "MaxPool" && ctx.outputCount() > 1;
    if (!x) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        if (hasIndices) ctx.setOutputTensor(1, DataType::Int64, std::nullopt);
        return;
    }
    if (x->rank() < 3) {
        ctx.problem("input rank below 3");
        return;
    }
    std::size_t spatial = x->rank() - 2;
    Window win;
    win.kernel = ctx.node().attrInts("kernel_shape");
    if (!readWindow(ctx, spatial, win)) return;
    Shape out = *x;
    for (std::size_t k = 0; k < spatial; ++k)
        out.dims[2 + k] = windowOutput(x->dims[2 + k], win, k, true);
    ctx.setOutputTensor(0, dt, out);
    if (hasIndices) ctx.setOutputTensor(1, DataType::Int64, out);
}

void inferGlobalPool(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    if (!x) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (x->rank() < 2) {
        ctx.problem("input rank below 2");
        return;
    }
    Shape out = *x;
    for (std::size_t k = 2; k < out.rank(); ++k)
        out.dims[k] = Dim::known(1);
    ctx.setOutputTensor(0, dt, out);
}

void inferMaxUnpool(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    if (ctx.hasInput(2)) {
        if (auto os = ctx.inputInts(2)) {
            ctx.setOutputTensor(0, dt, Shape::of(*os));
            return;
        }
        const Shape* s = ctx.inputShape(2);
        ctx.setOutputTensor(
            0, dt,
            s && s->rank() == 1 && s->dims[0].isKnown()
                ? std::optional<Shape>(unknownShape(static_cast<std::size_t>(s->dims[0].value)))
                : std::nullopt);
        return;
    }
    if (!x || x->rank() < 3) {
        ctx.setOutputTensor(0, dt,
                            x ? std::optional<Shape>(unknownShape(x->rank())) : std::nullopt);
        return;
    }
    std::size_t spatial = x->rank() - 2;
    Window win;
    win.kernel = ctx.node().attrInts("kernel_shape");
    if (!readWindow(ctx, spatial, win)) return;
    Shape out = *x;
    for (std::size_t k = 0; k < spatial; ++k) {
        const Dim& d = x->dims[2 + k];
        out.dims[2 + k] = d.isKnown() ? Dim::known((d.value - 1) * win.strides[k] - win.pads[k] -
                                                   win.pads[k + spatial] + win.kernel[k])
                                      : Dim::unknown();
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferBatchNorm(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
    std::optional<Shape> channel;
    if (x && x->rank() >= 2) channel = Shape(std::vector<Dim>{x->dims[1]});
    for (std::size_t k = 1; k < ctx.outputCount(); ++k) {
        // Running/saved statistics are per channel, typed like mean (or scale in old opsets).
        DataType st = ctx.opset() >= 14 ? ctx.inputElem(3) : ctx.inputElem(1);
        ctx.setOutputTensor(k, st, channel);
    }
}

void inferLayerNorm(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
    if (ctx.outputCount() < 2) return;
    int64_t stash = ctx.node().attrInt("stash_type", static_cast<int64_t>(DataType::Float));
    DataType st = isValidDataType(static_cast<int32_t>(stash)) ? static_cast<DataType>(stash)
                                                               : DataType::Undefined;
    std::optional<Shape> stats;
    if (x) {
        auto axis = normalizeAxis(ctx.node().attrInt("axis", -1), static_cast<int64_t>(x->rank()));
        if (!axis) {
            ctx.problem("axis out of range");
            return;
        }
        stats = *x;
        for (std::size_t k = static_cast<std::size_t>(*axis); k < x->rank(); ++k)
            stats->dims[k] = Dim::known(1);
    }
    for (std::size_t k = 1; k < ctx.outputCount(); ++k)
        ctx.setOutputTensor(k, st, stats);
}

void inferGroupNorm(InferContext& ctx) {
    ctx.setOutputTensor(0, ctx.inputElem(0), shapeOrNull(ctx, 0));
}

void inferGemm(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* a = ctx.inputShape(0);
    const Shape* b = ctx.inputShape(1);
    Shape out = unknownShape(2);
    bool ta = ctx.node().attrInt("transA", 0) != 0;
    bool tb = ctx.node().attrInt("transB", 0) != 0;
    if ((a && a->rank() != 2) || (b && b->rank() != 2)) {
        ctx.problem("A and B must be matrices");
        return;
    }
    if (a) out.dims[0] = a->dims[ta ? 1 : 0];
    if (b) out.dims[1] = b->dims[tb ? 0 : 1];
    if (a && b) {
        const Dim& ka = a->dims[ta ? 0 : 1];
        const Dim& kb = b->dims[tb ? 1 : 0];
        if (ka.isKnown() && kb.isKnown() && ka.value != kb.value) {
            ctx.problem("inner dims differ: " + a->toString() + " x " + b->toString());
            return;
        }
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferMatMul(InferContext& ctx) {
    const std::string& op = ctx.node().opType;
    std::size_t bi = op == "QLinearMatMul" ? 3 : 1;
    DataType dt = op == "MatMulInteger"
                      ? DataType::Int32
                      : (op == "QLinearMatMul" ? ctx.inputElem(7) : ctx.inputElem(0));
    const Shape* a = ctx.inputShape(0);
    const Shape* b = ctx.inputShape(bi);
    if (!a || !b) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (a->rank() == 0 || b->rank() == 0) {
        ctx.problem("MatMul operands must not be scalars");
        return;
    }
    Shape sa = *a, sb = *b;
    bool aVec = sa.rank() == 1, bVec = sb.rank() == 1;
    if (aVec) sa.dims.insert(sa.dims.begin(), Dim::known(1));
    if (bVec) sb.dims.push_back(Dim::known(1));
    const Dim& ka = sa.dims[sa.rank() - 1];
    const Dim& kb = sb.dims[sb.rank() - 2];
    if (ka.isKnown() && kb.isKnown() && ka.value != kb.value) {
        ctx.problem("inner dims differ: " + a->toString() + " x " + b->toString());
        return;
    }
    Shape ba(std::vector<Dim>(sa.dims.begin(), sa.dims.end() - 2));
    Shape bb(std::vector<Dim>(sb.dims.begin(), sb.dims.end() - 2));
    std::string error;
    auto batch = broadcastShapes({&ba, &bb}, &error);
    if (!batch) {
        ctx.problem(error);
        return;
    }
    Shape out = *batch;
    if (!aVec) out.dims.push_back(sa.dims[sa.rank() - 2]);
    if (!bVec) out.dims.push_back(sb.dims[sb.rank() - 1]);
    ctx.setOutputTensor(0, dt, out);
}

void inferRnn(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    const Shape* w = ctx.inputShape(1);
    const Node& n = ctx.node();
    std::string direction = n.attrString("direction", "forward");
    int64_t numDir = direction == "bidirectional" ? 2 : 1;
    int64_t layout = n.attrInt("layout", 0);
    Dim hidden = Dim::unknown();
    if (const Attribute* h = n.attr("hidden_size"); h && h->type == AttrType::Int)
        hidden = Dim::known(h->i);
    else if (const Shape* r = ctx.inputShape(2); r && r->rank() == 3)
        hidden = r->dims[2];
    if (w && w->rank() == 3 && w->dims[0].isKnown() && w->dims[0].value != numDir) {
        ctx.problem("W's first dim " + std::to_string(w->dims[0].value) +
                    " does not match direction '" + direction + "'");
        return;
    }
    Dim seq = Dim::unknown(), batch = Dim::unknown();
    if (x) {
        if (x->rank() != 3) {
            ctx.problem("X must have rank 3");
            return;
        }
        seq = x->dims[layout == 0 ? 0 : 1];
        batch = x->dims[layout == 0 ? 1 : 0];
    }
    Dim nd = Dim::known(numDir);
    Shape y = layout == 0 ? Shape(std::vector<Dim>{seq, nd, batch, hidden})
                          : Shape(std::vector<Dim>{batch, seq, nd, hidden});
    Shape yh = layout == 0 ? Shape(std::vector<Dim>{nd, batch, hidden})
                           : Shape(std::vector<Dim>{batch, nd, hidden});
    ctx.setOutputTensor(0, dt, y);
    for (std::size_t k = 1; k < ctx.outputCount(); ++k)
        ctx.setOutputTensor(k, dt, yh);
}

void inferQuantizeLinear(InferContext& ctx) {
    DataType dt = DataType::UInt8;
    if (ctx.hasInput(2) && ctx.inputElem(2) != DataType::Undefined) {
        dt = ctx.inputElem(2);
    } else if (ctx.hasInput(2)) {
        dt = DataType::Undefined;
    } else if (int64_t od = ctx.node().attrInt("output_dtype", 0); od != 0) {
        if (!isValidDataType(static_cast<int32_t>(od))) {
            ctx.problem("invalid output_dtype");
            return;
        }
        dt = static_cast<DataType>(od);
    }
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
}

void inferDequantizeLinear(InferContext& ctx) {
    DataType dt = DataType::Float;
    if (ctx.opset() >= 19) dt = ctx.inputElem(1);
    if (int64_t od = ctx.node().attrInt("output_dtype", 0);
        od != 0 && isValidDataType(static_cast<int32_t>(od)))
        dt = static_cast<DataType>(od);
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
}

void inferDynamicQuantizeLinear(InferContext& ctx) {
    ctx.setOutputTensor(0, DataType::UInt8, shapeOrNull(ctx, 0));
    ctx.setOutputTensor(1, DataType::Float, Shape{});
    ctx.setOutputTensor(2, DataType::UInt8, Shape{});
}

void inferAttention(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* q = ctx.inputShape(0);
    const Shape* k = ctx.inputShape(1);
    const Shape* v = ctx.inputShape(2);
    const Shape* pastK = ctx.hasInput(4) ? ctx.inputShape(4) : nullptr;
    const Node& n = ctx.node();
    int64_t qHeads = n.attrInt("q_num_heads", 0), kvHeads = n.attrInt("kv_num_heads", 0);
    if (!q || !k || !v) {
        ctx.setOutputTensor(0, dt,
                            q ? std::optional<Shape>(unknownShape(q->rank())) : std::nullopt);
        return;
    }
    if (q->rank() != k->rank() || q->rank() != v->rank() || (q->rank() != 3 && q->rank() != 4)) {
        ctx.problem("Q, K and V must all be 3-D or all 4-D");
        return;
    }
    Dim batch = q->dims[0];
    Dim qSeq, kvSeq, vHead, kHead, qh, kvh;
    if (q->rank() == 4) {
        qh = q->dims[1];
        kvh = k->dims[1];
        qSeq = q->dims[2];
        kvSeq = k->dims[2];
        kHead = k->dims[3];
        vHead = v->dims[3];
    } else {
        if (qHeads <= 0 || kvHeads <= 0) {
            ctx.problem("3-D inputs need q_num_heads and kv_num_heads");
            return;
        }
        qh = Dim::known(qHeads);
        kvh = Dim::known(kvHeads);
        qSeq = q->dims[1];
        kvSeq = k->dims[1];
        kHead = k->dims[2].isKnown() ? Dim::known(k->dims[2].value / kvHeads) : Dim::unknown();
        vHead = v->dims[2].isKnown() ? Dim::known(v->dims[2].value / kvHeads) : Dim::unknown();
    }
    Shape y = q->rank() == 4 ? Shape(std::vector<Dim>{batch, qh, qSeq, vHead})
                             : Shape(std::vector<Dim>{batch, qSeq, mulDims(qh, vHead)});
    ctx.setOutputTensor(0, dt, y);
    Dim total = kvSeq;
    if (ctx.hasInput(4))
        total = pastK && pastK->rank() == 4 ? addDims(pastK->dims[2], kvSeq) : Dim::unknown();
    if (ctx.outputCount() > 1)
        ctx.setOutputTensor(1, dt, Shape(std::vector<Dim>{batch, kvh, total, kHead}));
    if (ctx.outputCount() > 2)
        ctx.setOutputTensor(2, dt, Shape(std::vector<Dim>{batch, kvh, total, vHead}));
    if (ctx.outputCount() > 3)
        ctx.setOutputTensor(3, dt, Shape(std::vector<Dim>{batch, qh, qSeq, total}));
}

void inferRotaryEmbedding(InferContext& ctx) {
    ctx.setOutputTensor(0, ctx.inputElem(0), shapeOrNull(ctx, 0));
}

void inferCausalConvWithState(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    const Shape* w = ctx.inputShape(1);
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
    if (ctx.outputCount() < 2) return;
    if (!x || x->rank() < 3) {
        ctx.setOutputTensor(1, dt,
                            x ? std::optional<Shape>(unknownShape(x->rank())) : std::nullopt);
        return;
    }
    // The carried state holds the last kernel-1 steps per channel.
    Shape state = *x;
    for (std::size_t k = 2; k < state.rank(); ++k) {
        const Dim* kd = w && w->rank() == x->rank() ? &w->dims[k] : nullptr;
        state.dims[k] =
            kd && kd->isKnown() && kd->value >= 1 ? Dim::known(kd->value - 1) : Dim::unknown();
    }
    ctx.setOutputTensor(1, dt, state);
}

void inferLinearAttention(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* q = ctx.inputShape(0);
    const Shape* k = ctx.inputShape(1);
    const Shape* v = ctx.inputShape(2);
    int64_t qHeads = ctx.node().attrInt("q_num_heads", 0),
            kvHeads = ctx.node().attrInt("kv_num_heads", 0);
    if (!q || !k || !v || q->rank() != 3 || k->rank() != 3 || v->rank() != 3 || qHeads <= 0 ||
        kvHeads <= 0) {
        ctx.setOutputTensor(0, dt,
                            q ? std::optional<Shape>(unknownShape(q->rank())) : std::nullopt);
        return;
    }
    Dim dk = k->dims[2].isKnown() ? Dim::known(k->dims[2].value / kvHeads) : Dim::unknown();
    Dim dv = v->dims[2].isKnown() ? Dim::known(v->dims[2].value / kvHeads) : Dim::unknown();
    ctx.setOutputTensor(
        0, dt, Shape(std::vector<Dim>{q->dims[0], q->dims[1], mulDims(Dim::known(qHeads), dv)}));
    if (ctx.outputCount() > 1) {
        // The recurrent state is kept per key/value head (grouped queries share it).
        ctx.setOutputTensor(1, dt,
                            Shape(std::vector<Dim>{q->dims[0], Dim::known(kvHeads), dk, dv}));
    }
}

void inferFlexAttention(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* q = ctx.inputShape(0);
    const Shape* v = ctx.inputShape(2);
    if (!q || !v || q->rank() != 4 || v->rank() != 4) {
        ctx.setOutputTensor(0, dt,
                            q ? std::optional<Shape>(unknownShape(q->rank())) : std::nullopt);
        return;
    }
    ctx.setOutputTensor(0, dt,
                        Shape(std::vector<Dim>{q->dims[0], q->dims[1], q->dims[2], v->dims[3]}));
}

void inferGridSample(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    const Shape* g = ctx.inputShape(1);
    if (!x || !g) {
        ctx.setOutputTensor(0, dt,
                            x ? std::optional<Shape>(unknownShape(x->rank())) : std::nullopt);
        return;
    }
    if (x->rank() < 3 || g->rank() != x->rank()) {
        ctx.problem("grid rank must equal input rank (at least 3)");
        return;
    }
    Shape out;
    out.dims = {x->dims[0], x->dims[1]};
    out.dims.insert(out.dims.end(), g->dims.begin() + 1, g->dims.end() - 1);
    ctx.setOutputTensor(0, dt, out);
}

void inferRoiAlign(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    const Shape* rois = ctx.inputShape(1);
    Shape out = unknownShape(4);
    if (rois && rois->rank() == 2) out.dims[0] = rois->dims[0];
    if (x && x->rank() == 4) out.dims[1] = x->dims[1];
    out.dims[2] = Dim::known(ctx.node().attrInt("output_height", 1));
    out.dims[3] = Dim::known(ctx.node().attrInt("output_width", 1));
    ctx.setOutputTensor(0, dt, out);
}

void inferNllLoss(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    if (ctx.node().attrString("reduction", "mean") != "none") {
        ctx.setOutputTensor(0, dt, Shape{});
        return;
    }
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 1));
}

void inferSoftmaxCrossEntropyLoss(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    if (ctx.node().attrString("reduction", "mean") != "none")
        ctx.setOutputTensor(0, dt, Shape{});
    else
        ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 1));
    if (ctx.outputCount() > 1) ctx.setOutputTensor(1, dt, shapeOrNull(ctx, 0));
}

void inferDft(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    if (!x) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t r = static_cast<int64_t>(x->rank());
    if (r < 2) {
        ctx.problem("input rank below 2");
        return;
    }
    std::optional<int64_t> axis;
    if (ctx.opset() >= 20) {
        if (ctx.hasInput(2)) {
            auto a = ctx.inputInts(2);
            if (a && a->size() == 1) axis = (*a)[0];
        } else {
            axis = -2;
        }
    } else {
        axis = ctx.node().attrInt("axis", 1);
    }
    // An inverse one-sided transform (IRFFT) yields a real signal of the full length.
    bool onesided = ctx.node().attrInt("onesided", 0) != 0;
    bool inverse = ctx.node().attrInt("inverse", 0) != 0;
    Shape out = *x;
    out.dims.back() = Dim::known(onesided && inverse ? 1 : 2);
    if (!axis) {
        for (std::size_t k = 0; k + 1 < out.rank(); ++k)
            out.dims[k] = Dim::unknown();
        ctx.setOutputTensor(0, dt, out);
        return;
    }
    auto ax = normalizeAxis(*axis, r);
    if (!ax || *ax == r - 1) {
        ctx.problem("axis out of range");
        return;
    }
    Dim len = x->dims[static_cast<std::size_t>(*ax)];
    if (ctx.hasInput(1)) {
        auto l = ctx.inputInts(1);
        len = l && l->size() == 1 ? Dim::known((*l)[0]) : Dim::unknown();
    } else if (onesided && inverse) {
        len = len.isKnown() && len.value >= 1 ? Dim::known(2 * (len.value - 1)) : Dim::unknown();
    }
    if (onesided && !inverse) len = len.isKnown() ? Dim::known(len.value / 2 + 1) : Dim::unknown();
    out.dims[static_cast<std::size_t>(*ax)] = len;
    ctx.setOutputTensor(0, dt, out);
}

void inferStft(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    Shape out = unknownShape(4);
    out.dims[3] = Dim::known(2);
    if (x && x->rank() == 3) out.dims[0] = x->dims[0];
    std::optional<int64_t> frameLen;
    if (ctx.hasInput(3)) {
        if (auto f = ctx.inputInts(3); f && f->size() == 1) frameLen = (*f)[0];
    } else if (const Shape* w = ctx.hasInput(2) ? ctx.inputShape(2) : nullptr;
               w && w->rank() == 1 && w->dims[0].isKnown()) {
        frameLen = w->dims[0].value;
    }
    auto step = ctx.inputInts(1);
    if (frameLen && step && step->size() == 1 && (*step)[0] > 0 && x && x->rank() == 3 &&
        x->dims[1].isKnown() && x->dims[1].value >= *frameLen)
        out.dims[1] = Dim::known((x->dims[1].value - *frameLen) / (*step)[0] + 1);
    if (frameLen) {
        bool onesided = ctx.node().attrInt("onesided", 1) != 0;
        out.dims[2] = Dim::known(onesided ? *frameLen / 2 + 1 : *frameLen);
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferWindow(InferContext& ctx) {
    int64_t od = ctx.node().attrInt("output_datatype", static_cast<int64_t>(DataType::Float));
    if (!isValidDataType(static_cast<int32_t>(od)) || od == 0) {
        ctx.problem("invalid output_datatype");
        return;
    }
    auto size = ctx.inputInts(0);
    ctx.setOutputTensor(0, static_cast<DataType>(od),
                        size && size->size() == 1 && (*size)[0] >= 0 ? Shape::of({(*size)[0]})
                                                                     : unknownShape(1));
}

void inferMelWeightMatrix(InferContext& ctx) {
    int64_t od = ctx.node().attrInt("output_datatype", static_cast<int64_t>(DataType::Float));
    if (!isValidDataType(static_cast<int32_t>(od)) || od == 0) {
        ctx.problem("invalid output_datatype");
        return;
    }
    Shape out = unknownShape(2);
    if (auto bins = ctx.inputInts(0); bins && bins->size() == 1)
        out.dims[1] = Dim::known((*bins)[0]);
    if (auto len = ctx.inputInts(1); len && len->size() == 1)
        out.dims[0] = Dim::known((*len)[0] / 2 + 1);
    ctx.setOutputTensor(0, static_cast<DataType>(od), out);
}

void inferImageDecoder(InferContext& ctx) {
    Shape out = unknownShape(3);
    out.dims[2] = Dim::known(ctx.node().attrString("pixel_format", "RGB") == "Grayscale" ? 1 : 3);
    ctx.setOutputTensor(0, DataType::UInt8, out);
}

} // namespace ew::ir::si
