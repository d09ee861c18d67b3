// Tensor manipulation and shape arithmetic: Constant, Shape, Reshape, Slice, Gather, Concat and
// friends, with propagation of small (possibly symbolic) integer tensors so that shape
// computations exported as subgraphs (Shape -> Gather -> Concat -> Reshape) give exact shapes.
#include "shape_inference_internal.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace ew::ir::si {

namespace {

std::optional<Shape> shapeOrNull(const InferContext& ctx, std::size_t i) {
    if (const Shape* s = ctx.inputShape(i)) return *s;
    return std::nullopt;
}

int64_t product(const std::vector<int64_t>& dims, std::size_t from = 0, std::size_t to = SIZE_MAX) {
    int64_t n = 1;
    for (std::size_t k = from; k < dims.size() && k < to; ++k)
        n *= dims[k];
    return n;
}

std::optional<Propagated> fromTensor(const Tensor& t) {
    if (t.dtype == DataType::String || t.dtype == DataType::Undefined) return std::nullopt;
    auto count = checkedElementCount(t.dims, kMaxPropagated);
    if (!count || static_cast<std::size_t>(*count) > kMaxPropagated) return std::nullopt;
    auto bytes = dataTypeStorageBytes(t.dtype, static_cast<uint64_t>(*count));
    if (!bytes || *bytes > t.byteSize()) return std::nullopt;
    Propagated p;
    p.dtype = t.dtype;
    p.dims = t.dims;
    for (int64_t k = 0; k < *count; ++k) {
        if (p.isReal())
            p.reals.push_back(t.valueAsDouble(k));
        else
            p.ints.push_back(SymInt::of(t.valueAsInt(k)));
    }
    return p;
}

Propagated intData(std::vector<SymInt> v, std::vector<int64_t> dims,
                   DataType dt = DataType::Int64) {
    Propagated p;
    p.dtype = dt;
    p.dims = std::move(dims);
    p.ints = std::move(v);
    return p;
}

/// Axes from an attribute (older opsets) or from input `inputIndex` (newer), normalized against
/// `rank`. nullopt when they are not known or out of range (the latter recorded as a problem).
/// `given` tells whether axes were specified at all.
std::optional<std::vector<int64_t>> readAxes(InferContext& ctx, bool fromInput,
                                             std::size_t inputIndex, int64_t rank, bool* given) {
    std::vector<int64_t> axes;
    if (fromInput) {
        *given = ctx.hasInput(inputIndex);
        if (!*given) return axes;
        auto v = ctx.inputInts(inputIndex);
        if (!v) return std::nullopt;
        axes = *v;
    } else {
        const Attribute* a = ctx.node().attr("axes");
        *given = a != nullptr;
        if (!a) return axes;
        axes = a->ints;
    }
    if (rank < 0) return std::nullopt;
    for (auto& ax : axes) {
        auto n = normalizeAxis(ax, rank);
        if (!n) {
            ctx.problem("axis " + std::to_string(ax) + " is out of range for rank " +
                        std::to_string(rank));
            return std::nullopt;
        }
        ax = *n;
    }
    return axes;
}

/// Converts a propagated shape (Reshape/Expand/ConstantOfShape target) to dims.
std::vector<Dim> dimsFromData(const Propagated& p) {
    std::vector<Dim> out;
    for (const SymInt& s : p.ints)
        out.push_back(s.toDim());
    return out;
}

} // namespace

void inferConstant(InferContext& ctx) {
    const Node& n = ctx.node();
    for (const Attribute& a : n.attributes) {
        if (a.name == "value" && a.type == AttrType::Tensor) {
            ctx.setOutputTensor(0, a.t.dtype, a.t.shape());
            if (auto p = fromTensor(a.t)) ctx.setOutputData(0, std::move(*p));
            return;
        }
        if (a.name == "sparse_value" && a.type == AttrType::SparseTensor) {
            ctx.setOutputTensor(0, a.sparse.values.dtype, Shape::of(a.sparse.dims));
            return;
        }
        if (a.name == "value_int" && a.type == AttrType::Int) {
            ctx.setOutputTensor(0, DataType::Int64, Shape{});
            ctx.setOutputData(0, intData({SymInt::of(a.i)}, {}));
            return;
        }
        if (a.name == "value_ints" && a.type == AttrType::Ints) {
            int64_t len = static_cast<int64_t>(a.ints.size());
            ctx.setOutputTensor(0, DataType::Int64, Shape::of({len}));
            if (a.ints.size() <= kMaxPropagated) {
                std::vector<SymInt> v;
                for (int64_t x : a.ints)
                    v.push_back(SymInt::of(x));
                ctx.setOutputData(0, intData(std::move(v), {len}));
            }
            return;
        }
        if (a.name == "value_float" && a.type == AttrType::Float) {
            ctx.setOutputTensor(0, DataType::Float, Shape{});
            Propagated p;
            p.dtype = DataType::Float;
            p.reals = {a.f};
            ctx.setOutputData(0, std::move(p));
            return;
        }
        if (a.name == "value_floats" && a.type == AttrType::Floats) {
            int64_t len = static_cast<int64_t>(a.floats.size());
            ctx.setOutputTensor(0, DataType::Float, Shape::of({len}));
            if (a.floats.size() <= kMaxPropagated) {
                Propagated p;
                p.dtype = DataType::Float;
                p.dims = {len};
                p.reals.assign(a.floats.begin(), a.floats.end());
                ctx.setOutputData(0, std::move(p));
            }
            return;
        }
        if (a.name == "value_string" && a.type == AttrType::String) {
            ctx.setOutputTensor(0, DataType::String, Shape{});
            return;
        }
        if (a.name == "value_strings" && a.type == AttrType::Strings) {
            ctx.setOutputTensor(0, DataType::String,
                                Shape::of({static_cast<int64_t>(a.strings.size())}));
            return;
        }
    }
    ctx.problem("no value attribute");
}

void inferConstantOfShape(InferContext& ctx) {
    DataType dt = DataType::Float;
    std::optional<double> real;
    std::optional<int64_t> integer;
    if (const Attribute* a = ctx.node().attr("value"); a && a->type == AttrType::Tensor) {
        dt = a->t.dtype;
        if (auto p = fromTensor(a->t); p && p->size() == 1) {
            if (p->isReal())
                real = p->reals[0];
            else if (p->ints[0].known)
                integer = p->ints[0].value;
        }
    } else {
        real = 0.0;
    }
    std::optional<Shape> out;
    if (const Propagated* p = ctx.inputData(0); p && !p->isReal()) {
        for (const SymInt& s : p->ints)
            if (s.known && s.value < 0) {
                ctx.problem("negative size in the shape input");
                return;
            }
        out = Shape(dimsFromData(*p));
    } else if (const Shape* s = ctx.inputShape(0); s && s->rank() == 1 && s->dims[0].isKnown()) {
        out = unknownShape(static_cast<std::size_t>(s->dims[0].value));
    }
    ctx.setOutputTensor(0, dt, out);
    if (out) {
        auto sizes = out->sizes();
        auto n = out->numElements();
        if (sizes && n && static_cast<std::size_t>(*n) <= kMaxPropagated && (real || integer)) {
            Propagated p;
            p.dtype = dt;
            p.dims = *sizes;
            if (p.isReal())
                p.reals.assign(static_cast<std::size_t>(*n),
                               real.value_or(integer ? double(*integer) : 0.0));
            else if (integer)
                p.ints.assign(static_cast<std::size_t>(*n), SymInt::of(*integer));
            else
                return;
            ctx.setOutputData(0, std::move(p));
        }
    }
}

void inferShape(InferContext& ctx) {
    const Shape* s = ctx.inputShape(0);
    if (!s) {
        ctx.setOutputTensor(0, DataType::Int64, unknownShape(1));
        return;
    }
    int64_t r = static_cast<int64_t>(s->rank());
    int64_t start = ctx.opset() >= 15 ? ctx.node().attrInt("start", 0) : 0;
    int64_t end = ctx.opset() >= 15 ? ctx.node().attrInt("end", r) : r;
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    int64_t len = std::max<int64_t>(0, end - start);
    ctx.setOutputTensor(0, DataType::Int64, Shape::of({len}));
    if (static_cast<std::size_t>(len) <= kMaxPropagated) {
        std::vector<SymInt> v;
        for (int64_t k = start; k < end; ++k)
            v.push_back(SymInt::fromDim(s->dims[static_cast<std::size_t>(k)]));
        ctx.setOutputData(0, intData(std::move(v), {len}));
    }
}

void inferSize(InferContext& ctx) {
    ctx.setOutputTensor(0, DataType::Int64, Shape{});
    if (const Shape* s = ctx.inputShape(0))
        if (auto n = s->numElements()) ctx.setOutputData(0, intData({SymInt::of(*n)}, {}));
}

void inferReshape(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    bool allowZero = ctx.opset() >= 14 && ctx.node().attrInt("allowzero", 0) != 0;
    std::vector<SymInt> target;
    if (ctx.opset() < 5) {
        for (int64_t v : ctx.node().attrInts("shape"))
            target.push_back(SymInt::of(v));
    } else if (const Propagated* p = ctx.inputData(1); p && !p->isReal()) {
        target = p->ints;
    } else {
        const Shape* ts = ctx.inputShape(1);
        if (ts && ts->rank() == 1 && ts->dims[0].isKnown())
            ctx.setOutputTensor(0, dt, unknownShape(static_cast<std::size_t>(ts->dims[0].value)));
        else
            ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    Shape out = unknownShape(target.size());
    int inferIndex = -1;
    for (std::size_t k = 0; k < target.size(); ++k) {
        const SymInt& t = target[k];
        if (!t.known) {
            out.dims[k] = t.toDim();
        } else if (t.value == -1) {
            if (inferIndex >= 0) {
                ctx.problem("more than one -1 in the target shape");
                return;
            }
            inferIndex = static_cast<int>(k);
        } else if (t.value == 0 && !allowZero) {
            if (in) {
                if (k >= in->rank()) {
                    ctx.problem("0 in the target shape at " + std::to_string(k) +
                                " but the input has rank " + std::to_string(in->rank()));
                    return;
                }
                out.dims[k] = in->dims[k];
            }
        } else if (t.value < 0) {
            ctx.problem("invalid size " + std::to_string(t.value) + " in the target shape");
            return;
        } else {
            out.dims[k] = Dim::known(t.value);
        }
    }
    if (inferIndex >= 0 && in) {
        // Cancel dims that appear on both sides (the same size or the same symbol), then the rest
        // must be known on both sides.
        std::vector<Dim> lhs = in->dims;
        std::vector<Dim> rhs;
        for (std::size_t k = 0; k < out.rank(); ++k)
            if (static_cast<int>(k) != inferIndex) rhs.push_back(out.dims[k]);
        for (auto it = rhs.begin(); it != rhs.end();) {
            auto match = std::find_if(lhs.begin(), lhs.end(), [&](const Dim& d) {
                return (d.isSymbolic() && it->isSymbolic() && d.symbol == it->symbol);
            });
            if (match != lhs.end()) {
                lhs.erase(match);
                it = rhs.erase(it);
            } else {
                ++it;
            }
        }
        Shape l(lhs), r(rhs);
        auto ln = l.numElements();
        auto rn = r.numElements();
        if (ln && rn) {
            if (*rn == 0 || *ln % *rn != 0) {
                if (*rn != 0 || *ln != 0)
                    ctx.problem("cannot reshape " + in->toString() + " to " + out.toString() +
                                " (sizes do not divide)");
                if (*rn != 0) return;
            } else {
                out.dims[static_cast<std::size_t>(inferIndex)] = Dim::known(*ln / *rn);
            }
        } else if (lhs.size() == 1 && rhs.empty()) {
            out.dims[static_cast<std::size_t>(inferIndex)] = lhs[0];
        }
    }
    if (in) {
        auto ln = in->numElements();
        auto rn = out.numElements();
        if (ln && rn && *ln != *rn) {
            ctx.problem("cannot reshape " + in->toString() + " (" + std::to_string(*ln) +
                        " elements) to " + out.toString());
            return;
        }
    }
    ctx.setOutputTensor(0, dt, out);
    if (const Propagated* p = ctx.inputData(0)) {
        auto sizes = out.sizes();
        if (sizes && product(*sizes) == static_cast<int64_t>(p->size())) {
            Propagated q = *p;
            q.dims = *sizes;
            ctx.setOutputData(0, std::move(q));
        }
    }
}

void inferFlatten(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, unknownShape(2));
        return;
    }
    int64_t r = static_cast<int64_t>(in->rank());
    int64_t axis = ctx.node().attrInt("axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) {
        ctx.problem("axis out of range for rank " + std::to_string(r));
        return;
    }
    Dim a = Dim::known(1), b = Dim::known(1);
    for (int64_t k = 0; k < r; ++k) {
        Dim& acc = k < axis ? a : b;
        acc = mulDims(acc, in->dims[static_cast<std::size_t>(k)]);
    }
    Shape out(std::vector<Dim>{a, b});
    ctx.setOutputTensor(0, dt, out);
    if (const Propagated* p = ctx.inputData(0))
        if (auto sizes = out.sizes()) {
            Propagated q = *p;
            q.dims = *sizes;
            ctx.setOutputData(0, std::move(q));
        }
}

void inferSqueeze(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    bool given = false;
    auto axes =
        readAxes(ctx, ctx.opset() >= 13, 1, in ? static_cast<int64_t>(in->rank()) : -1, &given);
    if (!in || !axes) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    std::vector<bool> drop(in->rank(), false);
    if (!given || axes->empty()) {
        for (std::size_t k = 0; k < in->rank(); ++k) {
            const Dim& d = in->dims[k];
            if (!d.isKnown()) {
                // Whether this dim is 1 decides the rank: do not guess.
                ctx.setOutputTensor(0, dt, std::nullopt);
                return;
            }
            drop[k] = d.value == 1;
        }
    } else {
        for (int64_t a : *axes) {
            const Dim& d = in->dims[static_cast<std::size_t>(a)];
            if (d.isKnown() && d.value != 1) {
                ctx.problem("cannot squeeze axis " + std::to_string(a) + " of size " +
                            std::to_string(d.value));
                return;
            }
            drop[static_cast<std::size_t>(a)] = true;
        }
    }
    Shape out;
    for (std::size_t k = 0; k < in->rank(); ++k)
        if (!drop[k]) out.dims.push_back(in->dims[k]);
    ctx.setOutputTensor(0, dt, out);
    if (const Propagated* p = ctx.inputData(0)) {
        Propagated q = *p;
        q.dims.clear();
        for (std::size_t k = 0; k < p->dims.size() && k < drop.size(); ++k)
            if (!drop[k]) q.dims.push_back(p->dims[k]);
        ctx.setOutputData(0, std::move(q));
    }
}

void inferUnsqueeze(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    std::vector<int64_t> axes;
    if (ctx.opset() >= 13) {
        auto v = ctx.inputInts(1);
        if (!v) {
            ctx.setOutputTensor(0, dt, std::nullopt);
            return;
        }
        axes = *v;
    } else {
        axes = ctx.node().attrInts("axes");
    }
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t outRank = static_cast<int64_t>(in->rank() + axes.size());
    std::vector<bool> inserted(static_cast<std::size_t>(outRank), false);
    for (int64_t a : axes) {
        auto n = normalizeAxis(a, outRank);
        if (!n || inserted[static_cast<std::size_t>(*n)]) {
            ctx.problem("axis " + std::to_string(a) +
                        " is out of range or repeated for output rank " + std::to_string(outRank));
            return;
        }
        inserted[static_cast<std::size_t>(*n)] = true;
    }
    Shape out;
    std::size_t src = 0;
    for (int64_t k = 0; k < outRank; ++k)
        out.dims.push_back(inserted[static_cast<std::size_t>(k)] ? Dim::known(1) : in->dims[src++]);
    ctx.setOutputTensor(0, dt, out);
    if (const Propagated* p = ctx.inputData(0)) {
        Propagated q = *p;
        q.dims.clear();
        std::size_t s = 0;
        for (int64_t k = 0; k < outRank; ++k)
            q.dims.push_back(inserted[static_cast<std::size_t>(k)]
                                 ? 1
                                 : (s < p->dims.size() ? p->dims[s++] : 1));
        ctx.setOutputData(0, std::move(q));
    }
}

void inferTranspose(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    std::size_t r = in->rank();
    std::vector<int64_t> perm = ctx.node().attrInts("perm");
    if (perm.empty()) {
        for (std::size_t k = 0; k < r; ++k)
            perm.push_back(static_cast<int64_t>(r - 1 - k));
    }
    if (perm.size() != r) {
        ctx.problem("perm has " + std::to_string(perm.size()) + " entries for rank " +
                    std::to_string(r));
        return;
    }
    std::vector<bool> seen(r, false);
    Shape out;
    for (int64_t p : perm) {
        auto n = normalizeAxis(p, static_cast<int64_t>(r));
        if (!n || seen[static_cast<std::size_t>(*n)]) {
            ctx.problem("perm is not a permutation");
            return;
        }
        seen[static_cast<std::size_t>(*n)] = true;
        out.dims.push_back(in->dims[static_cast<std::size_t>(*n)]);
    }
    ctx.setOutputTensor(0, dt, out);
    if (const Propagated* p = ctx.inputData(0); p && p->dims.size() <= 1) ctx.setOutputData(0, *p);
}

void inferConcat(InferContext& ctx) {
    DataType dt = DataType::Undefined;
    std::vector<const Shape*> shapes;
    bool allKnown = true;
    for (std::size_t k = 0; k < ctx.inputCount(); ++k) {
        if (!ctx.hasInput(k)) continue;
        if (dt == DataType::Undefined) dt = ctx.inputElem(k);
        const Shape* s = ctx.inputShape(k);
        if (!s) allKnown = false;
        shapes.push_back(s);
    }
    if (shapes.empty()) {
        ctx.problem("no inputs");
        return;
    }
    int64_t rank = -1;
    for (const Shape* s : shapes)
        if (s) {
            if (rank >= 0 && rank != static_cast<int64_t>(s->rank())) {
                ctx.problem("inputs have different ranks");
                return;
            }
            rank = static_cast<int64_t>(s->rank());
        }
    if (rank < 0) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    auto axis = normalizeAxis(ctx.node().attrInt("axis", 0), rank);
    if (!axis) {
        ctx.problem("axis out of range for rank " + std::to_string(rank));
        return;
    }
    Shape out = unknownShape(static_cast<std::size_t>(rank));
    for (std::size_t d = 0; d < out.rank(); ++d) {
        if (static_cast<int64_t>(d) == *axis) {
            if (!allKnown) continue;
            Dim sum = Dim::known(0);
            for (const Shape* s : shapes)
                sum = addDims(sum, s->dims[d]);
            out.dims[d] = sum;
            continue;
        }
        // Other dims must agree: any known size (or else a symbol) decides.
        for (const Shape* s : shapes) {
            if (!s) continue;
            const Dim& x = s->dims[d];
            if (x.isKnown()) {
                if (out.dims[d].isKnown() && out.dims[d].value != x.value) {
                    ctx.problem("inputs disagree on dim " + std::to_string(d));
                    return;
                }
                out.dims[d] = x;
            } else if (x.isSymbolic() && !out.dims[d].isKnown() && !out.dims[d].isSymbolic()) {
                out.dims[d] = x;
            }
        }
    }
    ctx.setOutputTensor(0, dt, out);
    // Propagate contents when every input is known data.
    std::vector<const Propagated*> ps;
    for (std::size_t k = 0; k < ctx.inputCount(); ++k) {
        if (!ctx.hasInput(k)) continue;
        const Propagated* p = ctx.inputData(k);
        if (!p || static_cast<int64_t>(p->dims.size()) != rank) return;
        ps.push_back(p);
    }
    Propagated q;
    q.dtype = ps[0]->dtype;
    q.dims = ps[0]->dims;
    q.dims[static_cast<std::size_t>(*axis)] = 0;
    std::size_t ax = static_cast<std::size_t>(*axis);
    int64_t outer = product(ps[0]->dims, 0, ax);
    for (const Propagated* p : ps) {
        if (p->isReal() != q.isReal()) return;
        for (std::size_t d = 0; d < p->dims.size(); ++d)
            if (d != ax && p->dims[d] != ps[0]->dims[d]) return; // inconsistent data: do not fold
        q.dims[ax] += p->dims[ax];
    }
    if (static_cast<std::size_t>(product(q.dims)) > kMaxPropagated) return;
    for (int64_t o = 0; o < outer; ++o)
        for (const Propagated* p : ps) {
            int64_t chunk = product(p->dims, ax);
            for (int64_t i = 0; i < chunk; ++i) {
                std::size_t idx = static_cast<std::size_t>(o * chunk + i);
                if (q.isReal())
                    q.reals.push_back(p->reals[idx]);
                else
                    q.ints.push_back(p->ints[idx]);
            }
        }
    ctx.setOutputData(0, std::move(q));
}

void inferSplit(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    std::size_t nout = ctx.outputCount();
    for (std::size_t k = 0; k < nout; ++k)
        ctx.setOutputTensor(k, dt, std::nullopt);
    if (!in) return;
    int64_t rank = static_cast<int64_t>(in->rank());
    auto axis = normalizeAxis(ctx.node().attrInt("axis", 0), rank);
    if (!axis) {
        ctx.problem("axis out of range for rank " + std::to_string(rank));
        return;
    }
    const Dim& total = in->dims[static_cast<std::size_t>(*axis)];
    std::optional<std::vector<int64_t>> split;
    bool splitGiven = false;
    if (ctx.opset() >= 13) {
        if (ctx.hasInput(1)) {
            splitGiven = true;
            split = ctx.inputInts(1);
        }
    } else if (const Attribute* a = ctx.node().attr("split"); a && a->type == AttrType::Ints) {
        splitGiven = true;
        split = a->ints;
    }
    std::vector<Dim> sizes(nout);
    if (splitGiven) {
        if (split) {
            if (split->size() != nout) {
                ctx.problem("split has " + std::to_string(split->size()) + " entries for " +
                            std::to_string(nout) + " outputs");
                return;
            }
            int64_t sum = 0;
            for (std::size_t k = 0; k < nout; ++k) {
                if ((*split)[k] < 0) {
                    ctx.problem("negative split size");
                    return;
                }
                sum += (*split)[k];
                sizes[k] = Dim::known((*split)[k]);
            }
            if (total.isKnown() && sum != total.value) {
                ctx.problem("split sizes sum to " + std::to_string(sum) + ", the axis has " +
                            std::to_string(total.value));
                return;
            }
        }
    } else if (total.isKnown() && nout > 0) {
        int64_t n = static_cast<int64_t>(nout);
        if (ctx.opset() >= 18 && ctx.node().hasAttr("num_outputs")) {
            // The last chunk is smaller when the axis does not divide evenly.
            int64_t chunk = (total.value + n - 1) / n;
            for (int64_t k = 0; k < n; ++k)
                sizes[static_cast<std::size_t>(k)] =
                    Dim::known(std::max<int64_t>(0, std::min(chunk, total.value - k * chunk)));
        } else if (total.value % n == 0) {
            for (auto& s : sizes)
                s = Dim::known(total.value / n);
        } else {
            ctx.problem("axis of size " + std::to_string(total.value) + " does not split into " +
                        std::to_string(n));
            return;
        }
    }
    for (std::size_t k = 0; k < nout; ++k) {
        Shape s = *in;
        s.dims[static_cast<std::size_t>(*axis)] = sizes[k];
        ctx.setOutputTensor(k, dt, s);
    }
    const Propagated* p = ctx.inputData(0);
    if (p && p->dims.size() == 1 && !p->isReal()) {
        std::size_t off = 0;
        for (std::size_t k = 0; k < nout; ++k) {
            if (!sizes[k].isKnown() ||
                off + static_cast<std::size_t>(sizes[k].value) > p->ints.size())
                return;
            std::vector<SymInt> part(p->ints.begin() + off, p->ints.begin() + off + sizes[k].value);
            off += static_cast<std::size_t>(sizes[k].value);
            ctx.setOutputData(k, intData(std::move(part), {sizes[k].value}, p->dtype));
        }
    }
}

namespace {
/// Elements selected by a slice of a dim of size `d`: ONNX clamping rules.
struct SliceRange {
    int64_t start, count, step;
};
std::optional<SliceRange> sliceRange(int64_t d, int64_t start, int64_t end, int64_t step) {
    if (step == 0) return std::nullopt;
    auto clampStart = [&](int64_t s) {
        if (s < 0) s = s < -d ? 0 : s + d;
        return step > 0 ? std::clamp<int64_t>(s, 0, d) : std::clamp<int64_t>(s, 0, d - 1);
    };
    auto clampEnd = [&](int64_t e) {
        if (e < 0) e = e < -d ? -1 : e + d;
        return step > 0 ? std::clamp<int64_t>(e, 0, d) : std::clamp<int64_t>(e, -1, d - 1);
    };
    int64_t s = clampStart(start), e = clampEnd(end);
    int64_t count = 0;
    if (step > 0 && e > s) count = (e - s + step - 1) / step;
    if (step < 0 && s > e) count = (s - e + (-step) - 1) / (-step);
    return SliceRange{s, count, step};
}
} // namespace

void inferSlice(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t rank = static_cast<int64_t>(in->rank());
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (ctx.opset() < 10) {
        starts = ctx.node().attrInts("starts");
        ends = ctx.node().attrInts("ends");
        if (ctx.node().hasAttr("axes")) axes = ctx.node().attrInts("axes");
    } else {
        starts = ctx.inputInts(1);
        ends = ctx.inputInts(2);
        if (ctx.hasInput(3)) {
            axes = ctx.inputInts(3);
            if (!axes) {
                ctx.setOutputTensor(0, dt, unknownShape(in->rank()));
                return;
            }
        }
        if (ctx.hasInput(4)) {
            steps = ctx.inputInts(4);
            if (!steps) {
                ctx.setOutputTensor(0, dt, unknownShape(in->rank()));
                return;
            }
        }
    }
    if (!starts || !ends) {
        // Unknown bounds: the sliced axes are unknown; without axes every dim may change.
        Shape out = unknownShape(in->rank());
        if (axes) {
            out = *in;
            for (int64_t a : *axes)
                if (auto n = normalizeAxis(a, rank))
                    out.dims[static_cast<std::size_t>(*n)] = Dim::unknown();
        }
        ctx.setOutputTensor(0, dt, out);
        return;
    }
    if (!axes) {
        axes.emplace();
        for (std::size_t k = 0; k < starts->size(); ++k)
            axes->push_back(static_cast<int64_t>(k));
    }
    if (!steps) steps = std::vector<int64_t>(starts->size(), 1);
    if (starts->size() != ends->size() || axes->size() != starts->size() ||
        steps->size() != starts->size()) {
        ctx.problem("starts, ends, axes and steps differ in length");
        return;
    }
    Shape out = *in;
    std::vector<std::optional<SliceRange>> ranges(in->rank());
    std::vector<bool> seen(in->rank(), false);
    for (std::size_t k = 0; k < axes->size(); ++k) {
        auto a = normalizeAxis((*axes)[k], rank);
        if (!a || seen[static_cast<std::size_t>(*a)]) {
            ctx.problem("axis " + std::to_string((*axes)[k]) + " out of range or repeated");
            return;
        }
        std::size_t ax = static_cast<std::size_t>(*a);
        seen[ax] = true;
        int64_t step = (*steps)[k];
        if (step == 0) {
            ctx.problem("step 0");
            return;
        }
        const Dim& d = in->dims[ax];
        if (d.isKnown()) {
            auto r = sliceRange(d.value, (*starts)[k], (*ends)[k], step);
            ranges[ax] = r;
            out.dims[ax] = Dim::known(r->count);
        } else if (step == 1 && (*starts)[k] == 0 && (*ends)[k] >= (int64_t(1) << 31)) {
            // The whole axis, whatever its size.
        } else {
            out.dims[ax] = Dim::unknown();
        }
    }
    ctx.setOutputTensor(0, dt, out);
    const Propagated* p = ctx.inputData(0);
    if (p && p->dims.size() == 1 && in->rank() == 1 && ranges[0]) {
        Propagated q;
        q.dtype = p->dtype;
        const SliceRange& r = *ranges[0];
        q.dims = {r.count};
        for (int64_t i = 0; i < r.count; ++i) {
            int64_t idx = r.start + i * r.step;
            if (idx < 0 || static_cast<std::size_t>(idx) >= p->size()) return;
            if (q.isReal())
                q.reals.push_back(p->reals[static_cast<std::size_t>(idx)]);
            else
                q.ints.push_back(p->ints[static_cast<std::size_t>(idx)]);
        }
        ctx.setOutputData(0, std::move(q));
    } else if (p && !ranges.empty() && !seen.empty()) {
        // Slicing an unsliced propagated tensor (all axes whole) keeps its contents.
    }
}

void inferGather(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* data = ctx.inputShape(0);
    const Shape* idx = ctx.inputShape(1);
    if (!data || !idx) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t rank = static_cast<int64_t>(data->rank());
    auto axis = normalizeAxis(ctx.node().attrInt("axis", 0), rank);
    if (!axis) {
        ctx.problem("axis out of range for rank " + std::to_string(rank));
        return;
    }
    std::size_t ax = static_cast<std::size_t>(*axis);
    Shape out;
    out.dims.insert(out.dims.end(), data->dims.begin(),
                    data->dims.begin() + static_cast<std::ptrdiff_t>(ax));
    out.dims.insert(out.dims.end(), idx->dims.begin(), idx->dims.end());
    out.dims.insert(out.dims.end(), data->dims.begin() + static_cast<std::ptrdiff_t>(ax) + 1,
                    data->dims.end());
    ctx.setOutputTensor(0, dt, out);

    const Propagated* p = ctx.inputData(0);
    auto indices = ctx.inputInts(1);
    const Propagated* ip = ctx.inputData(1);
    if (!p || !indices || !ip || p->dims.size() != data->rank()) return;
    int64_t n = p->dims[ax];
    int64_t outer = product(p->dims, 0, ax), inner = product(p->dims, ax + 1);
    Propagated q;
    q.dtype = p->dtype;
    q.dims.assign(p->dims.begin(), p->dims.begin() + static_cast<std::ptrdiff_t>(ax));
    q.dims.insert(q.dims.end(), ip->dims.begin(), ip->dims.end());
    q.dims.insert(q.dims.end(), p->dims.begin() + static_cast<std::ptrdiff_t>(ax) + 1,
                  p->dims.end());
    if (static_cast<std::size_t>(product(q.dims)) > kMaxPropagated) return;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j : *indices) {
            if (j < -n || j >= n) {
                ctx.problem("index " + std::to_string(j) + " out of range for a dim of " +
                            std::to_string(n));
                return;
            }
            if (j < 0) j += n;
            for (int64_t i = 0; i < inner; ++i) {
                std::size_t at = static_cast<std::size_t>((o * n + j) * inner + i);
                if (q.isReal())
                    q.reals.push_back(p->reals[at]);
                else
                    q.ints.push_back(p->ints[at]);
            }
        }
    ctx.setOutputData(0, std::move(q));
}

void inferGatherElements(InferContext& ctx) {
    const Shape* data = ctx.inputShape(0);
    const Shape* idx = ctx.inputShape(1);
    if (data && idx && data->rank() != idx->rank()) {
        ctx.problem("data and indices ranks differ");
        return;
    }
    ctx.setOutputTensor(0, ctx.inputElem(0), shapeOrNull(ctx, 1));
}

void inferGatherND(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* data = ctx.inputShape(0);
    const Shape* idx = ctx.inputShape(1);
    if (!data || !idx || idx->rank() == 0 || !idx->dims.back().isKnown()) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t b = ctx.node().attrInt("batch_dims", 0);
    int64_t last = idx->dims.back().value;
    if (b < 0 || b + last > static_cast<int64_t>(data->rank()) ||
        b >= static_cast<int64_t>(idx->rank())) {
        ctx.problem("indices' last dim plus batch_dims exceeds the data rank");
        return;
    }
    Shape out;
    out.dims.assign(idx->dims.begin(), idx->dims.end() - 1);
    out.dims.insert(out.dims.end(), data->dims.begin() + b + last, data->dims.end());
    ctx.setOutputTensor(0, dt, out);
}

void inferExpand(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    const Propagated* p = ctx.inputData(1);
    if (p && !p->isReal()) {
        Shape target(dimsFromData(*p));
        for (const SymInt& s : p->ints)
            if (s.known && s.value < 0) {
                ctx.problem("negative size in the shape input");
                return;
            }
        if (!in) {
            ctx.setOutputTensor(0, dt, std::nullopt);
            return;
        }
        // A target dim of 1 keeps the input dim, whatever it is; broadcast handles the rest.
        std::string error;
        auto out = broadcastShapes({in, &target}, &error);
        if (!out) {
            if (!error.empty()) ctx.problem(error);
            ctx.setOutputTensor(0, dt, std::nullopt);
            return;
        }
        ctx.setOutputTensor(0, dt, out);
        if (const Propagated* d = ctx.inputData(0); d && !d->isReal())
            if (auto sizes = out->sizes(); sizes && product(*sizes) <= int64_t(kMaxPropagated) &&
                                           sizes->size() >= d->dims.size()) {
                Propagated q;
                q.dtype = d->dtype;
                q.dims = *sizes;
                int64_t n = product(*sizes);
                for (int64_t k = 0; k < n; ++k) {
                    // Right-aligned broadcast index into d.
                    int64_t flat = k, at = 0, stride = 1;
                    std::size_t off = sizes->size() - d->dims.size();
                    for (std::size_t j = sizes->size(); j-- > 0;) {
                        int64_t c = flat % (*sizes)[j];
                        flat /= (*sizes)[j];
                        if (j >= off) {
                            int64_t dd = d->dims[j - off];
                            at += (dd == 1 ? 0 : c) * stride;
                            stride *= dd;
                        }
                    }
                    if (static_cast<std::size_t>(at) >= d->ints.size()) return;
                    q.ints.push_back(d->ints[static_cast<std::size_t>(at)]);
                }
                ctx.setOutputData(0, std::move(q));
            }
        return;
    }
    const Shape* ts = ctx.inputShape(1);
    if (in && ts && ts->rank() == 1 && ts->dims[0].isKnown()) {
        std::size_t r = std::max(in->rank(), static_cast<std::size_t>(ts->dims[0].value));
        Shape out = unknownShape(r);
        for (std::size_t k = 0; k < in->rank(); ++k) {
            const Dim& d = in->dims[k];
            // An input size other than 1 survives broadcasting (or the model is invalid).
            if (d.isKnown() && d.value != 1) out.dims[r - in->rank() + k] = d;
        }
        ctx.setOutputTensor(0, dt, out);
        return;
    }
    ctx.setOutputTensor(0, dt, std::nullopt);
}

void inferTile(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    auto reps = ctx.inputInts(1);
    if (!reps) {
        Shape out = unknownShape(in->rank());
        ctx.setOutputTensor(0, dt, out);
        return;
    }
    if (reps->size() != in->rank()) {
        ctx.problem("repeats has " + std::to_string(reps->size()) + " entries for rank " +
                    std::to_string(in->rank()));
        return;
    }
    Shape out = *in;
    for (std::size_t k = 0; k < in->rank(); ++k) {
        if ((*reps)[k] < 0) {
            ctx.problem("negative repeat");
            return;
        }
        out.dims[k] = mulDims(in->dims[k], Dim::known((*reps)[k]));
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferPad(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    std::size_t r = in->rank();
    std::optional<std::vector<int64_t>> pads;
    if (ctx.opset() < 11)
        pads = ctx.node().attrInts(ctx.node().hasAttr("pads") ? "pads" : "paddings");
    else
        pads = ctx.inputInts(1);
    std::vector<int64_t> axes;
    bool axesKnown = true;
    if (ctx.opset() >= 18 && ctx.hasInput(3)) {
        auto a = ctx.inputInts(3);
        if (!a)
            axesKnown = false;
        else
            axes = *a;
    } else {
        for (std::size_t k = 0; k < r; ++k)
            axes.push_back(static_cast<int64_t>(k));
    }
    if (!pads || !axesKnown) {
        ctx.setOutputTensor(0, dt, unknownShape(r));
        return;
    }
    if (pads->size() != 2 * axes.size()) {
        ctx.problem("pads has " + std::to_string(pads->size()) + " entries for " +
                    std::to_string(axes.size()) + " axes");
        return;
    }
    Shape out = *in;
    std::size_t na = axes.size();
    for (std::size_t k = 0; k < na; ++k) {
        auto a = normalizeAxis(axes[k], static_cast<int64_t>(r));
        if (!a) {
            ctx.problem("axis out of range");
            return;
        }
        Dim& d = out.dims[static_cast<std::size_t>(*a)];
        int64_t total = (*pads)[k] + (*pads)[k + na];
        if (d.isKnown()) {
            if (d.value + total < 0) {
                ctx.problem("padding makes a dim negative");
                return;
            }
            d = Dim::known(d.value + total);
        } else if (total != 0) {
            d = Dim::unknown();
        }
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferRange(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    if (dt == DataType::Undefined) dt = ctx.inputElem(1);
    const Propagated* s = ctx.inputData(0);
    const Propagated* l = ctx.inputData(1);
    const Propagated* d = ctx.inputData(2);
    if (!s || !l || !d || s->size() != 1 || l->size() != 1 || d->size() != 1) {
        ctx.setOutputTensor(0, dt, unknownShape(1));
        return;
    }
    if (!s->isReal()) {
        auto sv = s->knownInts(), lv = l->knownInts(), dv = d->knownInts();
        if (!sv || !lv || !dv) {
            ctx.setOutputTensor(0, dt, unknownShape(1));
            return;
        }
        int64_t st = (*sv)[0], li = (*lv)[0], de = (*dv)[0];
        if (de == 0) {
            ctx.problem("delta is 0");
            return;
        }
        __int128 span = static_cast<__int128>(li) - st;
        __int128 n = span / de + ((span % de != 0 && ((span < 0) == (de < 0))) ? 1 : 0);
        if (n < 0) n = 0;
        if (n > INT64_MAX) {
            ctx.setOutputTensor(0, dt, unknownShape(1));
            return;
        }
        int64_t count = static_cast<int64_t>(n);
        ctx.setOutputTensor(0, dt, Shape::of({count}));
        if (static_cast<std::size_t>(count) <= kMaxPropagated) {
            std::vector<SymInt> v;
            for (int64_t k = 0; k < count; ++k)
                v.push_back(SymInt::of(st + k * de));
            ctx.setOutputData(0, intData(std::move(v), {count}, s->dtype));
        }
        return;
    }
    double st = s->reals[0], li = l->knownReals().value_or(std::vector<double>{0})[0],
           de = d->knownReals().value_or(std::vector<double>{0})[0];
    if (de == 0 || !std::isfinite(st) || !std::isfinite(li) || !std::isfinite(de)) {
        ctx.setOutputTensor(0, dt, unknownShape(1));
        return;
    }
    // Float ranges count in the input precision, as the reference does.
    double n =
        dt == DataType::Float
            ? std::ceil(static_cast<double>((static_cast<float>(li) - static_cast<float>(st)) /
                                            static_cast<float>(de)))
            : std::ceil((li - st) / de);
    int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
    ctx.setOutputTensor(0, dt, Shape::of({count}));
}

void inferTopK(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        ctx.setOutputTensor(1, DataType::Int64, std::nullopt);
        return;
    }
    auto axis = normalizeAxis(ctx.node().attrInt("axis", -1), static_cast<int64_t>(in->rank()));
    if (!axis) {
        ctx.problem("axis out of range");
        return;
    }
    Dim k = Dim::unknown();
    if (ctx.opset() < 10) {
        k = Dim::known(ctx.node().attrInt("k", 0));
    } else if (auto kv = ctx.inputInts(1); kv && kv->size() == 1) {
        if ((*kv)[0] < 0) {
            ctx.problem("negative k");
            return;
        }
        k = Dim::known((*kv)[0]);
    }
    const Dim& d = in->dims[static_cast<std::size_t>(*axis)];
    if (k.isKnown() && d.isKnown() && k.value > d.value) {
        ctx.problem("k = " + std::to_string(k.value) + " exceeds the axis size " +
                    std::to_string(d.value));
        return;
    }
    Shape out = *in;
    out.dims[static_cast<std::size_t>(*axis)] = k;
    ctx.setOutputTensor(0, dt, out);
    ctx.setOutputTensor(1, DataType::Int64, out);
}

void inferNonZero(InferContext& ctx) {
    int64_t r = ctx.inputRank(0);
    Shape out = unknownShape(2);
    if (r >= 0) out.dims[0] = Dim::known(r);
    ctx.setOutputTensor(0, DataType::Int64, out);
}

void inferCompress(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    const Attribute* a = ctx.node().attr("axis");
    if (!a) {
        ctx.setOutputTensor(0, dt, unknownShape(1));
        return;
    }
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    auto axis = normalizeAxis(a->i, static_cast<int64_t>(in->rank()));
    if (!axis) {
        ctx.problem("axis out of range");
        return;
    }
    Shape out = *in;
    out.dims[static_cast<std::size_t>(*axis)] = Dim::unknown();
    ctx.setOutputTensor(0, dt, out);
}

void inferOneHot(InferContext& ctx) {
    DataType dt = ctx.inputElem(2);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t outRank = static_cast<int64_t>(in->rank()) + 1;
    auto axis = normalizeAxis(ctx.node().attrInt("axis", -1), outRank);
    if (!axis) {
        ctx.problem("axis out of range");
        return;
    }
    Dim depth = Dim::unknown();
    if (auto dv = ctx.inputReals(1); dv && dv->size() == 1 && (*dv)[0] >= 0)
        depth = Dim::known(static_cast<int64_t>((*dv)[0]));
    Shape out = *in;
    out.dims.insert(out.dims.begin() + *axis, depth);
    ctx.setOutputTensor(0, dt, out);
}

void inferUnique(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    const Attribute* a = ctx.node().attr("axis");
    Shape y = unknownShape(1);
    Shape inverse = unknownShape(1);
    if (a) {
        if (!in) {
            ctx.setOutputTensor(0, dt, std::nullopt);
            return;
        }
        auto axis = normalizeAxis(a->i, static_cast<int64_t>(in->rank()));
        if (!axis) {
            ctx.problem("axis out of range");
            return;
        }
        y = *in;
        y.dims[static_cast<std::size_t>(*axis)] = Dim::unknown();
        inverse.dims[0] = in->dims[static_cast<std::size_t>(*axis)];
    } else if (in) {
        if (auto n = in->numElements()) inverse.dims[0] = Dim::known(*n);
    }
    ctx.setOutputTensor(0, dt, y);
    ctx.setOutputTensor(1, DataType::Int64, unknownShape(1));
    ctx.setOutputTensor(2, DataType::Int64, inverse);
    ctx.setOutputTensor(3, DataType::Int64, unknownShape(1));
}

namespace {
Dim divDim(const Dim& a, int64_t b) {
    if (a.isKnown() && b > 0 && a.value % b == 0) return Dim::known(a.value / b);
    return Dim::unknown();
}
} // namespace

void inferDepthToSpace(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    int64_t b = ctx.node().attrInt("blocksize", 0);
    if (!in || in->rank() != 4 || b <= 0) {
        if (in && in->rank() != 4) ctx.problem("input must have rank 4");
        ctx.setOutputTensor(0, dt, unknownShape(4));
        return;
    }
    Shape out(std::vector<Dim>{in->dims[0], divDim(in->dims[1], b * b),
                               mulDims(in->dims[2], Dim::known(b)),
                               mulDims(in->dims[3], Dim::known(b))});
    ctx.setOutputTensor(0, dt, out);
}

void inferSpaceToDepth(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    int64_t b = ctx.node().attrInt("blocksize", 0);
    if (!in || in->rank() != 4 || b <= 0) {
        if (in && in->rank() != 4) ctx.problem("input must have rank 4");
        ctx.setOutputTensor(0, dt, unknownShape(4));
        return;
    }
    Shape out(std::vector<Dim>{in->dims[0], mulDims(in->dims[1], Dim::known(b * b)),
                               divDim(in->dims[2], b), divDim(in->dims[3], b)});
    ctx.setOutputTensor(0, dt, out);
}

void inferResize(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    std::size_t r = in->rank();
    const bool upsample = ctx.node().opType == "Upsample";
    std::optional<std::vector<double>> scales;
    std::optional<std::vector<int64_t>> sizes;
    bool scalesGiven = false, sizesGiven = false;
    if (upsample && ctx.opset() < 9) {
        scalesGiven = true;
        auto f = ctx.node().attrFloats("scales");
        scales = std::vector<double>(f.begin(), f.end());
    } else if (upsample || ctx.opset() < 11) {
        scalesGiven = ctx.hasInput(1);
        scales = ctx.inputReals(1);
    } else {
        // An empty scales input (a "" name or a zero-size tensor) means sizes decide.
        if (ctx.hasInput(2)) {
            const Shape* ss = ctx.inputShape(2);
            bool empty = ss && ss->rank() == 1 && ss->dims[0].isKnown() && ss->dims[0].value == 0;
            if (!empty) {
                scalesGiven = true;
                scales = ctx.inputReals(2);
                if (scales && scales->empty()) scalesGiven = false;
            }
        }
        if (ctx.hasInput(3)) {
            sizesGiven = true;
            sizes = ctx.inputInts(3);
        }
    }
    std::vector<int64_t> axes;
    if (ctx.opset() >= 18 && ctx.node().hasAttr("axes")) {
        for (int64_t a : ctx.node().attrInts("axes")) {
            auto n = normalizeAxis(a, static_cast<int64_t>(r));
            if (!n) {
                ctx.problem("axis out of range");
                return;
            }
            axes.push_back(*n);
        }
    } else {
        for (std::size_t k = 0; k < r; ++k)
            axes.push_back(static_cast<int64_t>(k));
    }
    Shape out = *in;
    if (sizesGiven && sizes) {
        if (sizes->size() != axes.size()) {
            ctx.problem("sizes has " + std::to_string(sizes->size()) + " entries for " +
                        std::to_string(axes.size()) + " axes");
            return;
        }
        std::string policy = ctx.node().attrString("keep_aspect_ratio_policy", "stretch");
        if (policy == "stretch" || ctx.opset() < 18) {
            for (std::size_t k = 0; k < axes.size(); ++k)
                out.dims[static_cast<std::size_t>(axes[k])] = Dim::known((*sizes)[k]);
        } else {
            // One scale for all axes: the smallest (not_larger) or largest (not_smaller) ratio.
            std::optional<float> scale;
            for (std::size_t k = 0; k < axes.size(); ++k) {
                const Dim& d = in->dims[static_cast<std::size_t>(axes[k])];
                if (!d.isKnown() || d.value == 0) {
                    ctx.setOutputTensor(0, dt, unknownShape(r));
                    return;
                }
                float s = static_cast<float>((*sizes)[k]) / static_cast<float>(d.value);
                if (!scale)
                    scale = s;
                else
                    scale = policy == "not_larger" ? std::min(*scale, s) : std::max(*scale, s);
            }
            for (std::size_t k = 0; k < axes.size() && scale; ++k) {
                auto& d = out.dims[static_cast<std::size_t>(axes[k])];
                d = Dim::known(
                    static_cast<int64_t>(std::round(*scale * static_cast<float>(d.value))));
            }
        }
    } else if (scalesGiven && scales) {
        if (scales->size() != axes.size()) {
            ctx.problem("scales has " + std::to_string(scales->size()) + " entries for " +
                        std::to_string(axes.size()) + " axes");
            return;
        }
        for (std::size_t k = 0; k < axes.size(); ++k) {
            Dim& d = out.dims[static_cast<std::size_t>(axes[k])];
            float s = static_cast<float>((*scales)[k]);
            if (s <= 0) {
                ctx.problem("non-positive scale");
                return;
            }
            if (d.isKnown())
                d = Dim::known(static_cast<int64_t>(std::floor(static_cast<float>(d.value) * s)));
            else if (s != 1.0f)
                d = Dim::unknown();
        }
    } else {
        out = unknownShape(r);
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferCenterCropPad(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    int64_t r = static_cast<int64_t>(in->rank());
    std::vector<int64_t> axes = ctx.node().attrInts("axes");
    if (axes.empty())
        for (int64_t k = 0; k < r; ++k)
            axes.push_back(k);
    Shape out = *in;
    auto sizes = ctx.inputInts(1);
    for (std::size_t k = 0; k < axes.size(); ++k) {
        auto a = normalizeAxis(axes[k], r);
        if (!a) {
            ctx.problem("axis out of range");
            return;
        }
        if (sizes && sizes->size() != axes.size()) {
            ctx.problem("shape and axes differ in length");
            return;
        }
        out.dims[static_cast<std::size_t>(*a)] = sizes ? Dim::known((*sizes)[k]) : Dim::unknown();
    }
    ctx.setOutputTensor(0, dt, out);
}

void inferCol2Im(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    auto image = ctx.inputInts(1);
    auto block = ctx.inputInts(2);
    std::size_t spatial = image ? image->size() : (block ? block->size() : 0);
    if (!in || spatial == 0) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (in->rank() != 3) {
        ctx.problem("input must have rank 3");
        return;
    }
    Shape out = unknownShape(2 + spatial);
    out.dims[0] = in->dims[0];
    if (block) {
        int64_t prod = 1;
        for (int64_t b : *block)
            prod *= b;
        out.dims[1] = divDim(in->dims[1], prod);
    }
    if (image)
        for (std::size_t k = 0; k < spatial; ++k)
            out.dims[2 + k] = Dim::known((*image)[k]);
    ctx.setOutputTensor(0, dt, out);
}

void inferEinsum(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    std::string eq;
    for (char c : ctx.node().attrString("equation"))
        if (c != ' ') eq += c;
    auto arrow = eq.find("->");
    std::string lhs = eq.substr(0, arrow);
    std::vector<std::string> terms;
    std::size_t pos = 0;
    while (true) {
        auto comma = lhs.find(',', pos);
        terms.push_back(
            lhs.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    if (terms.size() != ctx.inputCount()) {
        ctx.problem("equation has " + std::to_string(terms.size()) + " operands for " +
                    std::to_string(ctx.inputCount()) + " inputs");
        return;
    }
    std::map<char, Dim> letters;
    std::map<char, int> counts;
    std::vector<const Shape*> ellipsis;
    std::vector<Shape> ellipsisShapes(terms.size());
    std::size_t ellRank = 0;
    bool allKnown = true;
    for (std::size_t t = 0; t < terms.size(); ++t) {
        const Shape* s = ctx.inputShape(t);
        const std::string& term = terms[t];
        bool hasEll = term.find("...") != std::string::npos;
        std::size_t named = term.size() - (hasEll ? 3 : 0);
        if (!s) {
            allKnown = false;
            for (char c : term)
                if (c != '.') counts[c]++;
            continue;
        }
        if ((!hasEll && named != s->rank()) || (hasEll && named > s->rank())) {
            ctx.problem("operand " + std::to_string(t) + " '" + term + "' does not match rank " +
                        std::to_string(s->rank()));
            return;
        }
        std::size_t ellLen = hasEll ? s->rank() - named : 0;
        std::size_t dim = 0;
        for (std::size_t i = 0; i < term.size();) {
            if (term.compare(i, 3, "...") == 0) {
                ellipsisShapes[t].dims.assign(s->dims.begin() + static_cast<std::ptrdiff_t>(dim),
                                              s->dims.begin() +
                                                  static_cast<std::ptrdiff_t>(dim + ellLen));
                ellipsis.push_back(&ellipsisShapes[t]);
                ellRank = std::max(ellRank, ellLen);
                dim += ellLen;
                i += 3;
                continue;
            }
            char c = term[i++];
            counts[c]++;
            const Dim& d = s->dims[dim++];
            auto it = letters.find(c);
            if (it == letters.end())
                letters[c] = d;
            else if (!it->second.isKnown() || it->second.value == 1) {
                if (d.isKnown() || (!it->second.isKnown() && d.isSymbolic())) it->second = d;
            } else if (d.isKnown() && d.value != 1 && d.value != it->second.value) {
                ctx.problem(std::string("letter '") + c + "' has sizes " +
                            std::to_string(it->second.value) + " and " + std::to_string(d.value));
                return;
            }
        }
    }
    std::string outTerm;
    if (arrow != std::string::npos) {
        outTerm = eq.substr(arrow + 2);
    } else {
        if (!ellipsis.empty() || lhs.find("...") != std::string::npos) outTerm = "...";
        for (const auto& [c, n] : counts)
            if (n == 1 && c != '.') outTerm += c;
    }
    if (!allKnown) {
        // The output rank is still known when no ellipsis is involved.
        if (outTerm.find("...") == std::string::npos)
            ctx.setOutputTensor(0, dt, unknownShape(outTerm.size()));
        else
            ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    Shape out;
    for (std::size_t i = 0; i < outTerm.size();) {
        if (outTerm.compare(i, 3, "...") == 0) {
            std::string error;
            auto b = ellipsis.empty() ? std::optional<Shape>(Shape{})
                                      : broadcastShapes(ellipsis, &error);
            if (!b) {
                ctx.problem(error.empty() ? "ellipsis dims do not broadcast" : error);
                return;
            }
            out.dims.insert(out.dims.end(), b->dims.begin(), b->dims.end());
            i += 3;
            continue;
        }
        char c = outTerm[i++];
        auto it = letters.find(c);
        if (it == letters.end()) {
            ctx.problem(std::string("output letter '") + c + "' does not appear in the inputs");
            return;
        }
        out.dims.push_back(it->second);
    }
    (void)ellRank;
    ctx.setOutputTensor(0, dt, out);
}

void inferArgReduce(InferContext& ctx) {
    const Shape* in = ctx.inputShape(0);
    bool keep = ctx.node().attrInt("keepdims", 1) != 0;
    if (!in) {
        ctx.setOutputTensor(0, DataType::Int64, std::nullopt);
        return;
    }
    auto axis = normalizeAxis(ctx.node().attrInt("axis", 0), static_cast<int64_t>(in->rank()));
    if (!axis) {
        ctx.problem("axis out of range");
        return;
    }
    Shape out = *in;
    if (keep)
        out.dims[static_cast<std::size_t>(*axis)] = Dim::known(1);
    else
        out.dims.erase(out.dims.begin() + *axis);
    ctx.setOutputTensor(0, DataType::Int64, out);
}

void inferReduce(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    const std::string& op = ctx.node().opType;
    bool keep = ctx.node().attrInt("keepdims", 1) != 0;
    bool noop = ctx.node().attrInt("noop_with_empty_axes", 0) != 0;
    bool axesFromInput = op == "ReduceSum" ? ctx.opset() >= 13 : ctx.opset() >= 18;
    bool given = false;
    int64_t r = in ? static_cast<int64_t>(in->rank()) : -1;
    auto axes = readAxes(ctx, axesFromInput, 1, r, &given);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (!axes) {
        // Unknown axes: with keepdims the rank stays and dims of size 1 stay 1.
        if (keep) {
            Shape out = unknownShape(in->rank());
            for (std::size_t k = 0; k < in->rank(); ++k)
                if (in->dims[k].isKnown() && in->dims[k].value == 1) out.dims[k] = Dim::known(1);
            ctx.setOutputTensor(0, dt, out);
        } else {
            ctx.setOutputTensor(0, dt, std::nullopt);
        }
        return;
    }
    if (axes->empty() && noop && axesFromInput) {
        ctx.setOutputTensor(0, dt, *in);
        if (const Propagated* p = ctx.inputData(0)) ctx.setOutputData(0, *p);
        return;
    }
    std::vector<bool> reduce(in->rank(), axes->empty());
    for (int64_t a : *axes)
        reduce[static_cast<std::size_t>(a)] = true;
    Shape out;
    for (std::size_t k = 0; k < in->rank(); ++k) {
        if (!reduce[k])
            out.dims.push_back(in->dims[k]);
        else if (keep)
            out.dims.push_back(Dim::known(1));
    }
    ctx.setOutputTensor(0, dt, out);
    // Shape code computes element counts with ReduceProd over a 1-D shape.
    const Propagated* p = ctx.inputData(0);
    if (p && !p->isReal() && p->dims.size() == 1 &&
        (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin")) {
        auto v = p->knownInts();
        if (!v || v->empty()) return;
        int64_t acc = op == "ReduceProd" ? 1 : (op == "ReduceSum" ? 0 : (*v)[0]);
        for (int64_t x : *v) {
            if (op == "ReduceProd") {
                if (x != 0 && (acc > INT64_MAX / std::max<int64_t>(1, std::abs(x)))) return;
                acc *= x;
            } else if (op == "ReduceSum")
                acc += x;
            else if (op == "ReduceMax")
                acc = std::max(acc, x);
            else
                acc = std::min(acc, x);
        }
        ctx.setOutputData(0, intData({SymInt::of(acc)},
                                     keep ? std::vector<int64_t>{1} : std::vector<int64_t>{},
                                     p->dtype));
    }
}

void inferDet(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    const Shape* in = ctx.inputShape(0);
    if (!in) {
        ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (in->rank() < 2) {
        ctx.problem("input rank must be at least 2");
        return;
    }
    Shape out;
    out.dims.assign(in->dims.begin(), in->dims.end() - 2);
    ctx.setOutputTensor(0, dt, out);
}

void inferAffineGrid(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    auto size = ctx.inputInts(1);
    const Shape* ss = ctx.inputShape(1);
    if (!size) {
        if (ss && ss->rank() == 1 && ss->dims[0].isKnown() &&
            (ss->dims[0].value == 4 || ss->dims[0].value == 5))
            ctx.setOutputTensor(0, dt, unknownShape(static_cast<std::size_t>(ss->dims[0].value)));
        else
            ctx.setOutputTensor(0, dt, std::nullopt);
        return;
    }
    if (size->size() != 4 && size->size() != 5) {
        ctx.problem("size must have 4 or 5 entries");
        return;
    }
    Shape out;
    out.dims.push_back(Dim::known((*size)[0]));
    for (std::size_t k = 2; k < size->size(); ++k)
        out.dims.push_back(Dim::known((*size)[k]));
    out.dims.push_back(Dim::known(static_cast<int64_t>(size->size()) - 2));
    ctx.setOutputTensor(0, dt, out);
}

void inferNonMaxSuppression(InferContext& ctx) {
    Shape out = unknownShape(2);
    out.dims[1] = Dim::known(3);
    ctx.setOutputTensor(0, DataType::Int64, out);
}

} // namespace ew::ir::si
