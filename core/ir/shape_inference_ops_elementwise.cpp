// Elementwise ops: same-shape unary ops, broadcasting binary and variadic ops, comparisons,
// Where and casts, with constant propagation for the integer arithmetic shape code uses.
#include "shape_inference_internal.h"

#include <cmath>

namespace ew::ir::si {

namespace {

std::optional<Shape> shapeOrNull(const InferContext& ctx, std::size_t i) {
    if (const Shape* s = ctx.inputShape(i)) return *s;
    return std::nullopt;
}

/// Broadcast output shape of inputs [first, count); nullopt (and a problem) on a mismatch or
/// when any rank is unknown.
std::optional<Shape> broadcastInputs(InferContext& ctx, std::size_t first = 0) {
    std::vector<const Shape*> shapes;
    for (std::size_t k = first; k < ctx.inputCount(); ++k) {
        if (!ctx.hasInput(k)) continue;
        const Shape* s = ctx.inputShape(k);
        if (!s) return std::nullopt;
        shapes.push_back(s);
    }
    if (shapes.empty()) return std::nullopt;
    std::string error;
    auto out = broadcastShapes(shapes, &error);
    if (!out && !error.empty()) ctx.problem(error);
    return out;
}

/// Index of element `flat` of a broadcast result in an input of dims `in` (right-aligned).
int64_t broadcastIndex(int64_t flat, const std::vector<int64_t>& out,
                       const std::vector<int64_t>& in) {
    int64_t idx = 0, stride = 1;
    std::size_t off = out.size() - in.size();
    for (std::size_t k = out.size(); k-- > 0;) {
        int64_t coord = flat % out[k];
        flat /= out[k];
        if (k >= off) {
            int64_t d = in[k - off];
            idx += (d == 1 ? 0 : coord) * stride;
            stride *= d;
        }
    }
    return idx;
}

std::optional<std::vector<int64_t>> broadcastDims(const std::vector<const Propagated*>& ps) {
    std::vector<int64_t> out;
    for (const Propagated* p : ps) {
        if (p->dims.size() > out.size()) out.insert(out.begin(), p->dims.size() - out.size(), 1);
        std::size_t off = out.size() - p->dims.size();
        for (std::size_t k = 0; k < p->dims.size(); ++k) {
            int64_t d = p->dims[k];
            int64_t& o = out[off + k];
            if (o == 1)
                o = d;
            else if (d != 1 && d != o)
                return std::nullopt;
        }
    }
    return out;
}

int64_t product(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims)
        n *= d;
    return n;
}

/// Computes an elementwise op over propagated integer inputs; `f` returns nullopt when the
/// result would not be known (then the element becomes unknown).
template <typename F>
std::optional<Propagated> foldInts(const std::vector<const Propagated*>& ps, DataType outType,
                                   F f) {
    for (const Propagated* p : ps)
        if (!p || p->isReal()) return std::nullopt;
    auto dims = broadcastDims(ps);
    if (!dims) return std::nullopt;
    int64_t n = product(*dims);
    if (n < 0 || static_cast<std::size_t>(n) > kMaxPropagated) return std::nullopt;
    Propagated out;
    out.dtype = outType;
    out.dims = *dims;
    std::vector<const SymInt*> args(ps.size());
    for (int64_t k = 0; k < n; ++k) {
        for (std::size_t a = 0; a < ps.size(); ++a)
            args[a] = &ps[a]->ints[broadcastIndex(k, *dims, ps[a]->dims)];
        out.ints.push_back(f(args));
    }
    return out;
}

template <typename F>
std::optional<Propagated> foldReals(const std::vector<const Propagated*>& ps, DataType outType,
                                    F f) {
    for (const Propagated* p : ps)
        if (!p) return std::nullopt;
    std::vector<std::vector<double>> vals;
    for (const Propagated* p : ps) {
        auto r = p->knownReals();
        if (!r) return std::nullopt;
        vals.push_back(std::move(*r));
    }
    auto dims = broadcastDims(ps);
    if (!dims) return std::nullopt;
    int64_t n = product(*dims);
    if (n < 0 || static_cast<std::size_t>(n) > kMaxPropagated) return std::nullopt;
    Propagated out;
    out.dtype = outType;
    out.dims = *dims;
    std::vector<double> args(ps.size());
    for (int64_t k = 0; k < n; ++k) {
        for (std::size_t a = 0; a < ps.size(); ++a)
            args[a] = vals[a][broadcastIndex(k, *dims, ps[a]->dims)];
        out.reals.push_back(f(args));
    }
    return out;
}

std::optional<int64_t> intArith(const std::string& op, int64_t a, int64_t b) {
    __int128 r;
    if (op == "Add")
        r = static_cast<__int128>(a) + b;
    else if (op == "Sub")
        r = static_cast<__int128>(a) - b;
    else if (op == "Mul")
        r = static_cast<__int128>(a) * b;
    else if (op == "Div") {
        if (b == 0 || (a == INT64_MIN && b == -1)) return std::nullopt;
        r = a / b; // ONNX integer Div truncates like C
    } else if (op == "Mod") {
        if (b == 0 || (a == INT64_MIN && b == -1)) return std::nullopt;
        int64_t m = a % b; // fmod=0: the sign follows the divisor
        if (m != 0 && ((m < 0) != (b < 0))) m += b;
        r = m;
    } else {
        return std::nullopt;
    }
    if (r > INT64_MAX || r < INT64_MIN) return std::nullopt;
    return static_cast<int64_t>(r);
}

} // namespace

void inferSameAsInput0(InferContext& ctx) {
    if (!ctx.hasInput(0)) return;
    const Type& t = ctx.inputType(0);
    if (t.isKnown()) ctx.setOutput(0, t);
}

void inferIdentity(InferContext& ctx) {
    inferSameAsInput0(ctx);
    if (const Propagated* p = ctx.inputData(0)) ctx.setOutputData(0, *p);
}

void inferNeg(InferContext& ctx) {
    inferSameAsInput0(ctx);
    if (const Propagated* p = ctx.inputData(0)) {
        Propagated out = *p;
        for (auto& r : out.reals)
            r = -r;
        for (auto& s : out.ints) {
            if (s.known && s.value != INT64_MIN)
                s.value = -s.value;
            else
                s = SymInt{};
        }
        ctx.setOutputData(0, std::move(out));
    }
}

void inferBinaryArith(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    if (dt == DataType::Undefined && ctx.node().opType != "Pow") dt = ctx.inputElem(1);
    ctx.setOutputTensor(0, dt, broadcastInputs(ctx));
    const std::string& op = ctx.node().opType;
    const Propagated* a = ctx.inputData(0);
    const Propagated* b = ctx.inputData(1);
    if (!a || !b || ctx.inputCount() != 2) return;
    std::optional<Propagated> out;
    if (!a->isReal() && !b->isReal() &&
        (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Mod")) {
        out = foldInts({a, b}, a->dtype, [&](const std::vector<const SymInt*>& v) -> SymInt {
            const SymInt& x = *v[0];
            const SymInt& y = *v[1];
            if (x.known && y.known) {
                if (auto r = intArith(op, x.value, y.value)) return SymInt::of(*r);
                return SymInt{};
            }
            // Shape code multiplies and divides symbolic dims by 1 and adds 0; keep the symbol.
            if ((op == "Mul" || op == "Div") && y.known && y.value == 1) return x;
            if (op == "Mul" && x.known && x.value == 1) return y;
            if ((op == "Add" || op == "Sub") && y.known && y.value == 0) return x;
            if (op == "Add" && x.known && x.value == 0) return y;
            return SymInt{};
        });
    } else if (a->isReal() && b->isReal() &&
               (op == "Add" || op == "Sub" || op == "Mul" || op == "Div")) {
        out = foldReals({a, b}, a->dtype, [&](const std::vector<double>& v) {
            if (op == "Add") return v[0] + v[1];
            if (op == "Sub") return v[0] - v[1];
            if (op == "Mul") return v[0] * v[1];
            return v[0] / v[1];
        });
    }
    if (out) ctx.setOutputData(0, std::move(*out));
}

void inferVariadic(InferContext& ctx) {
    DataType dt = DataType::Undefined;
    for (std::size_t k = 0; k < ctx.inputCount() && dt == DataType::Undefined; ++k)
        dt = ctx.inputElem(k);
    ctx.setOutputTensor(0, dt, broadcastInputs(ctx));
    const std::string& op = ctx.node().opType;
    if (op != "Max" && op != "Min" && op != "Sum") return;
    std::vector<const Propagated*> ps;
    for (std::size_t k = 0; k < ctx.inputCount(); ++k)
        ps.push_back(ctx.inputData(k));
    if (ps.empty()) return;
    for (const Propagated* p : ps)
        if (!p || p->isReal()) return;
    auto out = foldInts(ps, ps[0]->dtype, [&](const std::vector<const SymInt*>& v) -> SymInt {
        int64_t acc = 0;
        for (std::size_t a = 0; a < v.size(); ++a) {
            if (!v[a]->known) return SymInt{};
            int64_t x = v[a]->value;
            if (a == 0)
                acc = x;
            else if (op == "Max")
                acc = std::max(acc, x);
            else if (op == "Min")
                acc = std::min(acc, x);
            else if (auto s = intArith("Add", acc, x))
                acc = *s;
            else
                return SymInt{};
        }
        return SymInt::of(acc);
    });
    if (out) ctx.setOutputData(0, std::move(*out));
}

void inferCompare(InferContext& ctx) {
    ctx.setOutputTensor(0, DataType::Bool, broadcastInputs(ctx));
    const std::string& op = ctx.node().opType;
    const Propagated* a = ctx.inputData(0);
    const Propagated* b = ctx.inputData(1);
    if (!a || !b || a->isReal() || b->isReal()) return;
    auto out = foldInts({a, b}, DataType::Bool, [&](const std::vector<const SymInt*>& v) -> SymInt {
        const SymInt& x = *v[0];
        const SymInt& y = *v[1];
        if (!x.known || !y.known) {
            // Two uses of the same symbol are equal even when its size is not known.
            if (op == "Equal" && !x.known && !y.known && !x.symbol.empty() && x.symbol == y.symbol)
                return SymInt::of(1);
            return SymInt{};
        }
        bool r = false;
        if (op == "Equal")
            r = x.value == y.value;
        else if (op == "Greater")
            r = x.value > y.value;
        else if (op == "GreaterOrEqual")
            r = x.value >= y.value;
        else if (op == "Less")
            r = x.value < y.value;
        else if (op == "LessOrEqual")
            r = x.value <= y.value;
        else if (op == "And")
            r = x.value && y.value;
        else if (op == "Or")
            r = x.value || y.value;
        else if (op == "Xor")
            r = (x.value != 0) != (y.value != 0);
        return SymInt::of(r ? 1 : 0);
    });
    if (out) ctx.setOutputData(0, std::move(*out));
}

void inferWhere(InferContext& ctx) {
    DataType dt = ctx.inputElem(1);
    if (dt == DataType::Undefined) dt = ctx.inputElem(2);
    ctx.setOutputTensor(0, dt, broadcastInputs(ctx));
    const Propagated* c = ctx.inputData(0);
    const Propagated* x = ctx.inputData(1);
    const Propagated* y = ctx.inputData(2);
    if (!c || !x || !y || c->isReal() || x->isReal() != y->isReal()) return;
    if (!x->isReal()) {
        auto out = foldInts({c, x, y}, x->dtype, [](const std::vector<const SymInt*>& v) -> SymInt {
            if (!v[0]->known) return SymInt{};
            return v[0]->value ? *v[1] : *v[2];
        });
        if (out) ctx.setOutputData(0, std::move(*out));
    } else {
        auto out = foldReals({c, x, y}, x->dtype,
                             [](const std::vector<double>& v) { return v[0] != 0 ? v[1] : v[2]; });
        if (out) ctx.setOutputData(0, std::move(*out));
    }
}

namespace {
void propagateCast(InferContext& ctx, DataType to) {
    const Propagated* p = ctx.inputData(0);
    if (!p || to == DataType::String || to == DataType::Undefined) return;
    Propagated out;
    out.dtype = to;
    out.dims = p->dims;
    bool toReal = isFloatingPoint(to);
    if (p->isReal()) {
        for (double d : p->reals) {
            if (toReal) {
                out.reals.push_back(d);
            } else if (to == DataType::Bool) {
                out.ints.push_back(SymInt::of(d != 0 ? 1 : 0));
            } else if (std::isfinite(d) && std::fabs(d) < 9.2e18) {
                out.ints.push_back(SymInt::of(static_cast<int64_t>(d)));
            } else {
                out.ints.push_back(SymInt{});
            }
        }
    } else {
        for (const SymInt& s : p->ints) {
            if (toReal) {
                if (!s.known) return;
                out.reals.push_back(static_cast<double>(s.value));
            } else if (to == DataType::Bool) {
                out.ints.push_back(s.known ? SymInt::of(s.value != 0) : SymInt{});
            } else if (dataTypeBits(to) >= 32 || (s.known && s.value >= 0 && s.value < 128)) {
                // Narrowing casts of large values wrap; only keep values that survive.
                out.ints.push_back(s);
            } else {
                out.ints.push_back(SymInt{});
            }
        }
    }
    ctx.setOutputData(0, std::move(out));
}
} // namespace

void inferCast(InferContext& ctx) {
    int64_t to = ctx.node().attrInt("to", 0);
    if (!isValidDataType(static_cast<int32_t>(to)) || to == 0) {
        ctx.problem("attribute 'to' is not a valid data type: " + std::to_string(to));
        return;
    }
    DataType dt = static_cast<DataType>(to);
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
    propagateCast(ctx, dt);
}

void inferCastLike(InferContext& ctx) {
    DataType dt = ctx.inputElem(1);
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
    if (dt != DataType::Undefined) propagateCast(ctx, dt);
}

void inferBitCast(InferContext& ctx) {
    int64_t to = ctx.node().attrInt("to", 0);
    if (!isValidDataType(static_cast<int32_t>(to)) || to == 0) {
        ctx.problem("attribute 'to' is not a valid data type: " + std::to_string(to));
        return;
    }
    DataType dt = static_cast<DataType>(to);
    DataType from = ctx.inputElem(0);
    // Same width: same shape. Other widths change the last dim in ways we do not model.
    if (from != DataType::Undefined && dataTypeBits(from) == dataTypeBits(dt))
        ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
    else
        ctx.setOutputTensor(0, dt, std::nullopt);
}

void inferToBool(InferContext& ctx) {
    ctx.setOutputTensor(0, DataType::Bool, shapeOrNull(ctx, 0));
}

void inferDropout(InferContext& ctx) {
    inferSameAsInput0(ctx);
    if (ctx.outputCount() > 1) ctx.setOutputTensor(1, DataType::Bool, shapeOrNull(ctx, 0));
}

void inferRandomLike(InferContext& ctx) {
    DataType dt = ctx.inputElem(0);
    if (const Attribute* a = ctx.node().attr("dtype"); a && a->type == AttrType::Int) {
        if (!isValidDataType(static_cast<int32_t>(a->i)) || a->i == 0) {
            ctx.problem("attribute 'dtype' is not a valid data type");
            return;
        }
        dt = static_cast<DataType>(a->i);
    }
    ctx.setOutputTensor(0, dt, shapeOrNull(ctx, 0));
}

void inferRandom(InferContext& ctx) {
    int64_t d = ctx.node().attrInt("dtype", static_cast<int64_t>(DataType::Float));
    if (!isValidDataType(static_cast<int32_t>(d)) || d == 0) {
        ctx.problem("attribute 'dtype' is not a valid data type");
        return;
    }
    std::vector<int64_t> shape = ctx.node().attrInts("shape");
    for (int64_t s : shape)
        if (s < 0) {
            ctx.problem("negative size in 'shape'");
            return;
        }
    ctx.setOutputTensor(0, static_cast<DataType>(d), Shape::of(shape));
}

} // namespace ew::ir::si
