// Control flow (If/Loop/Scan infer their nested graphs), sequences, optionals, string ops, the
// ai.onnx.ml ops of the node suite and the preview training optimizers.
#include "shape_inference_internal.h"

#include <algorithm>

namespace ew::ir::si {

namespace {

std::optional<Shape> shapeOrNull(const InferContext& ctx, std::size_t i) {
    if (const Shape* s = ctx.inputShape(i)) return *s;
    return std::nullopt;
}

Graph* graphAttr(const Node& n, std::string_view name) {
    const Attribute* a = n.attr(name);
    return a && a->type == AttrType::Graph ? a->g.get() : nullptr;
}

Type sequenceOf(Type inner) {
    Type t;
    t.kind = Type::Kind::Sequence;
    t.inner = std::make_shared<Type>(std::move(inner));
    return t;
}

Type optionalOf(Type inner) {
    Type t;
    t.kind = Type::Kind::Optional;
    t.inner = std::make_shared<Type>(std::move(inner));
    return t;
}

/// The tensor type with dim `axis` removed (a scan slice); unknown rank stays unknown.
Type removeDim(const Type& t, int64_t axis) {
    if (!t.isTensor() || !t.shape) return t.isTensor() ? Type::tensor(t.elemType) : Type{};
    auto a = normalizeAxis(axis, static_cast<int64_t>(t.shape->rank()));
    if (!a) return Type::tensor(t.elemType);
    Type out = t;
    out.shape->dims.erase(out.shape->dims.begin() + *a);
    return out;
}

Type insertDim(const Type& t, int64_t axis, Dim d) {
    if (!t.isTensor()) return Type{};
    if (!t.shape) return Type::tensor(t.elemType);
    auto a = normalizeAxis(axis, static_cast<int64_t>(t.shape->rank()) + 1);
    if (!a) return Type::tensor(t.elemType);
    Type out = t;
    out.shape->dims.insert(out.shape->dims.begin() + *a, std::move(d));
    return out;
}

/// Loop-carried values may change shape between iterations. Infers a throw-away copy of the body
/// with the initial types, then keeps only what the body preserves; the real body is inferred
/// with those stable types.
std::vector<Type> stableCarriedTypes(InferContext& ctx, Graph& body, std::vector<Type> bodyInputs,
                                     std::size_t firstCarriedInput, std::size_t firstCarriedOutput,
                                     std::size_t count) {
    auto probe = body.clone(body.parent(), body.ownerNode());
    std::vector<Type> outs = ctx.inferSubgraph(*probe, bodyInputs);
    for (std::size_t k = 0; k < count; ++k) {
        std::size_t in = firstCarriedInput + k, out = firstCarriedOutput + k;
        if (in < bodyInputs.size())
            bodyInputs[in] = out < outs.size() ? unifyTypes(bodyInputs[in], outs[out]) : Type{};
    }
    return bodyInputs;
}

} // namespace

void inferIf(InferContext& ctx) {
    Graph* thenG = graphAttr(ctx.node(), "then_branch");
    Graph* elseG = graphAttr(ctx.node(), "else_branch");
    if (!thenG || !elseG) {
        ctx.problem("missing then_branch or else_branch");
        return;
    }
    // A condition known while inferring picks its branch exactly; the other branch never runs
    // (shape code exported from functions branches on ranks) and may not even be valid for
    // these inputs, so it is not inferred.
    std::optional<bool> cond;
    if (auto c = ctx.inputInts(0); c && c->size() == 1) cond = (*c)[0] != 0;
    std::vector<Type> t =
        !cond || *cond ? ctx.inferSubgraph(*thenG, {}) : std::vector<Type>(thenG->outputs.size());
    std::vector<Type> e =
        !cond || !*cond ? ctx.inferSubgraph(*elseG, {}) : std::vector<Type>(elseG->outputs.size());
    if (t.size() != ctx.outputCount() || e.size() != ctx.outputCount()) {
        ctx.problem("branches have " + std::to_string(t.size()) + " and " +
                    std::to_string(e.size()) + " outputs, the node " +
                    std::to_string(ctx.outputCount()));
        return;
    }
    for (std::size_t k = 0; k < ctx.outputCount(); ++k) {
        ctx.setOutput(k, cond ? (*cond ? t[k] : e[k]) : unifyTypes(t[k], e[k]));
        if (cond)
            if (const Propagated* p = ctx.dataOf((*cond ? thenG : elseG)->outputs[k]))
                ctx.setOutputData(k, *p);
    }
}

void inferLoop(InferContext& ctx) {
    Graph* body = graphAttr(ctx.node(), "body");
    if (!body) {
        ctx.problem("missing body");
        return;
    }
    std::size_t nCarried = ctx.inputCount() >= 2 ? ctx.inputCount() - 2 : 0;
    if (body->inputs.size() != nCarried + 2 || body->outputs.size() < nCarried + 1) {
        ctx.problem("body has " + std::to_string(body->inputs.size()) + " inputs and " +
                    std::to_string(body->outputs.size()) + " outputs for " +
                    std::to_string(nCarried) + " loop-carried values");
        return;
    }
    std::vector<Type> ins{Type::tensor(DataType::Int64, Shape{}),
                          Type::tensor(DataType::Bool, Shape{})};
    for (std::size_t k = 0; k < nCarried; ++k)
        ins.push_back(ctx.inputType(k + 2));
    if (nCarried > 0) ins = stableCarriedTypes(ctx, *body, ins, 2, 1, nCarried);
    std::vector<Type> outs = ctx.inferSubgraph(*body, ins);
    std::size_t nScan = outs.size() - 1 - nCarried;
    for (std::size_t k = 0; k < nCarried; ++k)
        ctx.setOutput(k, unifyTypes(ins[k + 2], outs[k + 1]));
    for (std::size_t k = 0; k < nScan && nCarried + k < ctx.outputCount(); ++k)
        ctx.setOutput(nCarried + k, insertDim(outs[1 + nCarried + k], 0, Dim::unknown()));
}

void inferScan(InferContext& ctx) {
    Graph* body = graphAttr(ctx.node(), "body");
    if (!body) {
        ctx.problem("missing body");
        return;
    }
    const Node& n = ctx.node();
    int64_t m = n.attrInt("num_scan_inputs", 0);
    bool v8 = ctx.opset() < 9;
    std::size_t first = v8 ? 1 : 0;
    if (m <= 0 || ctx.inputCount() < first + static_cast<std::size_t>(m)) {
        ctx.problem("num_scan_inputs does not fit the inputs");
        return;
    }
    std::size_t nState = ctx.inputCount() - first - static_cast<std::size_t>(m);
    if (body->inputs.size() != nState + static_cast<std::size_t>(m) ||
        body->outputs.size() < nState) {
        ctx.problem("body inputs/outputs do not match the scan's");
        return;
    }
    std::vector<int64_t> inAxes =
        n.attrInts("scan_input_axes", std::vector<int64_t>(static_cast<std::size_t>(m), 0));
    std::size_t nScanOut = body->outputs.size() - nState;
    std::vector<int64_t> outAxes =
        n.attrInts("scan_output_axes", std::vector<int64_t>(nScanOut, 0));
    if (v8) {
        inAxes.assign(static_cast<std::size_t>(m), 1);
        outAxes.assign(nScanOut, 1);
    }
    if (inAxes.size() != static_cast<std::size_t>(m) || outAxes.size() != nScanOut) {
        ctx.problem("scan_input_axes or scan_output_axes have the wrong length");
        return;
    }
    std::vector<Type> ins;
    for (std::size_t k = 0; k < nState; ++k) {
        const Type& t = ctx.inputType(first + k);
        ins.push_back(v8 ? removeDim(t, 0) : t);
    }
    Dim seq = Dim::unknown(), batch = Dim::unknown();
    for (std::size_t k = 0; k < static_cast<std::size_t>(m); ++k) {
        Type t = ctx.inputType(first + nState + k);
        if (v8) {
            if (const Shape* s = ctx.inputShape(first + nState + k); s && s->rank() >= 1)
                batch = s->dims[0];
            t = removeDim(t, 0);
        }
        if (k == 0 && t.isTensor() && t.shape)
            if (auto a = normalizeAxis(v8 ? 0 : inAxes[k], static_cast<int64_t>(t.shape->rank())))
                seq = t.shape->dims[*a];
        ins.push_back(removeDim(t, v8 ? 0 : inAxes[k]));
    }
    if (nState > 0) ins = stableCarriedTypes(ctx, *body, ins, 0, 0, nState);
    std::vector<Type> outs = ctx.inferSubgraph(*body, ins);
    for (std::size_t k = 0; k < nState && k < ctx.outputCount(); ++k) {
        Type t = unifyTypes(ins[k], outs[k]);
        ctx.setOutput(k, v8 ? insertDim(t, 0, batch) : t);
    }
    for (std::size_t k = 0; k < nScanOut && nState + k < ctx.outputCount(); ++k) {
        Type t = insertDim(outs[nState + k], v8 ? 0 : outAxes[k], seq);
        ctx.setOutput(nState + k, v8 ? insertDim(t, 0, batch) : t);
    }
}

void inferSequenceConstruct(InferContext& ctx) {
    if (ctx.inputCount() == 0) {
        ctx.problem("no inputs");
        return;
    }
    Type t = ctx.inputType(0);
    for (std::size_t k = 1; k < ctx.inputCount(); ++k)
        t = unifyTypes(t, ctx.inputType(k));
    ctx.setOutput(0, sequenceOf(t));
}

void inferSequenceEmpty(InferContext& ctx) {
    int64_t dt = ctx.node().attrInt("dtype", static_cast<int64_t>(DataType::Float));
    if (!isValidDataType(static_cast<int32_t>(dt)) || dt == 0) {
        ctx.problem("invalid dtype");
        return;
    }
    ctx.setOutput(0, sequenceOf(Type::tensor(static_cast<DataType>(dt))));
}

void inferSequenceInsert(InferContext& ctx) {
    const Type& s = ctx.inputType(0);
    if (s.kind != Type::Kind::Sequence) return;
    if (ctx.node().opType == "SequenceErase" || !s.inner) {
        ctx.setOutput(0, s);
        return;
    }
    ctx.setOutput(0, sequenceOf(unifyTypes(*s.inner, ctx.inputType(1))));
}

void inferSequenceAt(InferContext& ctx) {
    const Type& s = ctx.inputType(0);
    if (s.kind == Type::Kind::Sequence && s.inner) ctx.setOutput(0, *s.inner);
}

void inferSequenceLength(InferContext& ctx) {
    ctx.setOutputTensor(0, DataType::Int64, Shape{});
}

void inferSplitToSequence(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutput(0, sequenceOf(Type::tensor(dt)));
        return;
    }
    auto axis = normalizeAxis(ctx.node().attrInt("axis", 0), static_cast<int64_t>(in->rank()));
    if (!axis) {
        ctx.problem("axis out of range");
        return;
    }
    Shape elem = *in;
    std::size_t ax = static_cast<std::size_t>(*axis);
    if (!ctx.hasInput(1)) {
        if (ctx.node().attrInt("keepdims", 1) != 0)
            elem.dims[ax] = Dim::known(1);
        else
            elem.dims.erase(elem.dims.begin() + *axis);
    } else {
        auto split = ctx.inputInts(1);
        const Dim& total = in->dims[ax];
        Dim d = Dim::unknown();
        if (split && split->size() == 1 && ctx.inputRank(1) == 0) {
            // A scalar chunk size: the last chunk is smaller unless it divides.
            if (total.isKnown() && (*split)[0] > 0 && total.value % (*split)[0] == 0)
                d = Dim::known((*split)[0]);
        } else if (split && !split->empty() &&
                   std::all_of(split->begin(), split->end(),
                               [&](int64_t v) { return v == (*split)[0]; })) {
            d = Dim::known((*split)[0]);
        }
        elem.dims[ax] = d;
    }
    ctx.setOutput(0, sequenceOf(Type::tensor(dt, elem)));
}

void inferConcatFromSequence(InferContext& ctx) {
    const Type& s = ctx.inputType(0);
    if (s.kind != Type::Kind::Sequence || !s.inner || !s.inner->isTensor()) return;
    DataType dt = s.inner->elemType;
    if (!s.inner->shape) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    bool newAxis = ctx.node().attrInt("new_axis", 0) != 0;
    Shape out = *s.inner->shape;
    int64_t r = static_cast<int64_t>(out.rank()) + (newAxis ? 1 : 0);
    auto axis = normalizeAxis(ctx.node().attrInt("axis", 0), r);
    if (!axis) {
        ctx.problem("axis out of range");
        return;
    }
    if (newAxis)
        out.dims.insert(out.dims.begin() + *axis, Dim::unknown());
    else
        out.dims[static_cast<std::size_t>(*axis)] = Dim::unknown();
    ctx.setOutputTensor(0, dt, out);
}

void inferSequenceMap(InferContext& ctx) {
    Graph* body = graphAttr(ctx.node(), "body");
    if (!body) {
        ctx.problem("missing body");
        return;
    }
    std::vector<Type> ins;
    for (std::size_t k = 0; k < ctx.inputCount(); ++k) {
        const Type& t = ctx.inputType(k);
        ins.push_back(t.kind == Type::Kind::Sequence ? (t.inner ? *t.inner : Type{}) : t);
    }
    std::vector<Type> outs = ctx.inferSubgraph(*body, ins);
    for (std::size_t k = 0; k < outs.size() && k < ctx.outputCount(); ++k)
        if (outs[k].isKnown()) ctx.setOutput(k, sequenceOf(outs[k]));
}

void inferOptional(InferContext& ctx) {
    if (ctx.hasInput(0)) {
        if (ctx.inputType(0).isKnown()) ctx.setOutput(0, optionalOf(ctx.inputType(0)));
        return;
    }
    if (const Attribute* a = ctx.node().attr("type"); a && a->type == AttrType::TypeProto)
        ctx.setOutput(0, optionalOf(a->tp));
}

void inferOptionalGetElement(InferContext& ctx) {
    const Type& t = ctx.inputType(0);
    if (t.kind == Type::Kind::Optional) {
        if (t.inner) ctx.setOutput(0, *t.inner);
    } else if (t.isKnown()) {
        ctx.setOutput(0, t);
    }
}

void inferOptionalHasElement(InferContext& ctx) {
    ctx.setOutputTensor(0, DataType::Bool, Shape{});
}

void inferStringNormalizer(InferContext& ctx) {
    std::optional<Shape> s = shapeOrNull(ctx, 0);
    // Stopwords may remove entries from the last dim.
    if (s && s->rank() > 0 && [&] {
            const Attribute* a = ctx.node().attr("stopwords");
            return a && !a->strings.empty();
        }())
        s->dims.back() = Dim::unknown();
    ctx.setOutputTensor(0, DataType::String, s);
}

void inferStringSplit(InferContext& ctx) {
    std::optional<Shape> s = shapeOrNull(ctx, 0);
    std::optional<Shape> y = s;
    if (y) y->dims.push_back(Dim::unknown());
    ctx.setOutputTensor(0, DataType::String, y);
    ctx.setOutputTensor(1, DataType::Int64, s);
}

void inferTfIdfVectorizer(InferContext& ctx) {
    const Shape* in = ctx.inputShape(0);
    std::vector<int64_t> idx = ctx.node().attrInts("ngram_indexes");
    Dim width =
        idx.empty() ? Dim::unknown() : Dim::known(*std::max_element(idx.begin(), idx.end()) + 1);
    if (!in) {
        ctx.setOutputTensor(0, DataType::Float, std::nullopt);
        return;
    }
    if (in->rank() == 1)
        ctx.setOutputTensor(0, DataType::Float, Shape(std::vector<Dim>{width}));
    else if (in->rank() == 2)
        ctx.setOutputTensor(0, DataType::Float, Shape(std::vector<Dim>{in->dims[0], width}));
    else
        ctx.problem("input must be 1-D or 2-D");
}

void inferArrayFeatureExtractor(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    const Shape* y = ctx.inputShape(1);
    if (!x || !y) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    Shape out;
    if (x->rank() <= 1)
        out.dims.push_back(Dim::known(1));
    else
        out.dims.assign(x->dims.begin(), x->dims.end() - 1);
    auto n = y->numElements();
    out.dims.push_back(n ? Dim::known(*n) : Dim::unknown());
    ctx.setOutputTensor(0, dt, out);
}

void inferBinarizer(InferContext& ctx) {
    ctx.setOutputTensor(0, ctx.inputElem(0), shapeOrNull(ctx, 0));
}

void inferLabelEncoder(InferContext& ctx) {
    const Node& n = ctx.node();
    DataType dt = DataType::Undefined;
    if (const Attribute* a = n.attr("values_tensor"); a && a->type == AttrType::Tensor)
        dt = a->t.dtype;
    else if (n.hasAttr("values_int64s"))
        dt = DataType::Int64;
    else if (n.hasAttr("values_floats"))
        dt = DataType::Float;
    else if (n.hasAttr("values_strings"))
        dt = DataType::String;
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
}

void inferTreeEnsemble(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* x = ctx.inputShape(0);
    Shape out = unknownShape(2);
    if (x && x->rank() >= 1) out.dims[0] = x->dims[0];
    if (const Attribute* a = ctx.node().attr("n_targets"); a && a->type == AttrType::Int)
        out.dims[1] = Dim::known(a->i);
    ctx.setOutputTensor(0, dt, out);
}

void inferOptimizer(InferContext& ctx) {
    // Inputs: R, T, then groups of n tensors (X, G, and the optimizer's state); outputs: the new
    // X, then the new state groups, each typed like its input group.
    std::size_t nOut = ctx.outputCount();
    std::size_t groupsIn = ctx.node().opType == "Adam" ? 4 : 3;
    std::size_t groupsOut = groupsIn - 1;
    if (ctx.inputCount() < 2 || (ctx.inputCount() - 2) % groupsIn != 0 || nOut % groupsOut != 0) {
        ctx.problem("inputs and outputs do not form whole groups");
        return;
    }
    std::size_t n = (ctx.inputCount() - 2) / groupsIn;
    if (nOut != n * groupsOut) {
        ctx.problem("output count does not match the input groups");
        return;
    }
    for (std::size_t j = 0; j < nOut; ++j) {
        std::size_t g = j / n, i = j % n;
        std::size_t inGroup = g == 0 ? 0 : g + 1;
        ctx.setOutput(j, ctx.inputType(2 + inGroup * n + i));
    }
}

} // namespace ew::ir::si
