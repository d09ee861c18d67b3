// Binary and variadic elementwise ops with multidirectional broadcasting: arithmetic
// (Add..Min, Sum, Mean, Pow), comparisons (Equal, Less, ...), logic (And, Or, Xor) and Where.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

enum class BinOp { Add, Sub, Mul, Div, Max, Min, Equal, Less, Greater, LessEq, GreaterEq, And, Or, Xor };

constexpr bool isPredicate(BinOp op) { return op >= BinOp::Equal; }
constexpr bool isLogical(BinOp op) { return op >= BinOp::And; }

template <BinOp Op, typename C>
inline auto apply(C a, C b) {
    if constexpr (Op == BinOp::Add) return static_cast<C>(a + b);
    else if constexpr (Op == BinOp::Sub) return static_cast<C>(a - b);
    else if constexpr (Op == BinOp::Mul) return static_cast<C>(a * b);
    else if constexpr (Op == BinOp::Div) {
        if constexpr (std::is_integral_v<C>) return static_cast<C>(b == 0 ? C(0) : C(a / b));
        else return static_cast<C>(a / b);
    } else if constexpr (Op == BinOp::Max) {
        if constexpr (std::is_floating_point_v<C>) return (std::isnan(a) || std::isnan(b)) ? C(NAN) : std::max(a, b);
        else return std::max(a, b);
    } else if constexpr (Op == BinOp::Min) {
        if constexpr (std::is_floating_point_v<C>) return (std::isnan(a) || std::isnan(b)) ? C(NAN) : std::min(a, b);
        else return std::min(a, b);
    } else if constexpr (Op == BinOp::Equal) return a == b;
    else if constexpr (Op == BinOp::Less) return a < b;
    else if constexpr (Op == BinOp::Greater) return a > b;
    else if constexpr (Op == BinOp::LessEq) return a <= b;
    else if constexpr (Op == BinOp::GreaterEq) return a >= b;
    else if constexpr (Op == BinOp::And) return static_cast<bool>(a && b);
    else if constexpr (Op == BinOp::Or) return static_cast<bool>(a || b);
    else return static_cast<bool>(a != b);
}

using BinaryFn = void (*)(const Broadcaster<2>&, const void*, const void*, void*, ThreadPool&);

template <BinOp Op, typename T>
void runBinary(const Broadcaster<2>& bc, const void* av, const void* bv, void* ov, ThreadPool& pool) {
    using Out = std::conditional_t<isPredicate(Op), bool, T>;
    const T* A = static_cast<const T*>(av);
    const T* B = static_cast<const T*>(bv);
    Out* O = static_cast<Out*>(ov);
    auto f = [](T a, T b) -> Out {
        if constexpr (isPredicate(Op)) return apply<Op>(load(a), load(b));
        else return store<T>(apply<Op>(load(a), load(b)));
    };
    pool.parallelFor(0, bc.outerSize(), chunkRows(bc.innerSize()), [&](int64_t r0, int64_t r1) {
        bc.forRows(r0, r1, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
            const T* pa = A + off[0];
            const T* pb = B + off[1];
            Out* po = O + o;
            if (st[0] == 1 && st[1] == 1) {
                for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
            } else if (st[0] == 1 && st[1] == 0) {
                const T b = pb[0];
                for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], b);
            } else if (st[0] == 0 && st[1] == 1) {
                const T a = pa[0];
                for (int64_t i = 0; i < n; ++i) po[i] = f(a, pb[i]);
            } else {
                for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i * st[0]], pb[i * st[1]]);
            }
        });
    });
}

template <BinOp Op>
BinaryFn pickBinary(DataType t) {
    BinaryFn fn = nullptr;
    auto set = [&](auto tag) { fn = &runBinary<Op, typename decltype(tag)::type>; };
    if constexpr (isLogical(Op)) dispatch<bool>(t, set);
    else if constexpr (Op == BinOp::Equal) dispatch<EW_ALL_TYPES>(t, set);
    else dispatch<EW_NUMERIC_TYPES>(t, set);
    return fn;
}

/// Shared prepare: same dtypes, broadcast shape, kernel function.
template <BinOp Op>
VoidResult prepareBinary(PrepareContext& ctx, const Tensor& a, const Tensor& b, std::vector<int64_t>& outDims,
                         Broadcaster<2>& bc, BinaryFn& fn) {
    if (a.dtype() != b.dtype())
        return ctx.error(StatusCode::InvalidInput, "inputs have different types (" + typeName(a.dtype()) +
                                                       ", " + typeName(b.dtype()) + ")");
    if (!broadcastShapes(a.dims(), b.dims(), outDims) || !bc.make(outDims, {a.dims(), b.dims()}))
        return ctx.error(StatusCode::InvalidInput,
                         "shapes " + dimsText(a.dims()) + " and " + dimsText(b.dims()) + " do not broadcast");
    fn = pickBinary<Op>(a.dtype());
    if (!fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(a.dtype()) + " is not supported");
    return {};
}

template <BinOp Op>
class BinaryKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        EW_TRY(prepareBinary<Op>(ctx, a, b, m_outDims, m_bc, m_fn));
        ctx.setOutput(0, isPredicate(Op) ? DataType::Bool : a.dtype(), m_outDims);
        int64_t n = numElementsOf(m_outDims);
        m_alias = a.numElements() == n ? 0 : (b.numElements() == n ? 1 : -1);
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(m_bc, ctx.input(0).raw(), ctx.input(1).raw(), ctx.output(0).raw(), ctx.pool());
    }
    // Element i of the output reads only element i of a same-shaped input.
    int inPlaceInput() const override { return m_alias; }

private:
    std::vector<int64_t> m_outDims;
    Broadcaster<2> m_bc;
    BinaryFn m_fn = nullptr;
    int m_alias = -1;
};

template <typename T>
void divideBy(void* data, int64_t n, int64_t count) {
    T* p = static_cast<T*>(data);
    for (int64_t i = 0; i < n; ++i) p[i] = store<T>(load(p[i]) / static_cast<Compute<T>>(count));
}

/// Max, Min, Sum, Mean over any number of inputs: out = op(in0, in1), then out = op(out, ink).
template <BinOp Op, bool kMean>
class VariadicKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        std::size_t n = ctx.numInputs();
        if (n == 0) return ctx.error(StatusCode::InvalidInput, "needs at least one input");
        DataType t = ctx.input(0).dtype();
        m_outDims = ctx.input(0).dims();
        std::vector<int64_t> tmp;
        for (std::size_t i = 1; i < n; ++i) {
            if (ctx.input(i).dtype() != t) return ctx.error(StatusCode::InvalidInput, "inputs have different types");
            if (!broadcastShapes(m_outDims, ctx.input(i).dims(), tmp))
                return ctx.error(StatusCode::InvalidInput, "input shapes do not broadcast");
            m_outDims = tmp;
        }
        m_bcs.assign(n, Broadcaster<2>{});
        if (!m_bcs[0].make(m_outDims, {m_outDims, ctx.input(0).dims()}))
            return ctx.error(StatusCode::InvalidInput, "rank too large");
        if (n > 1 && !m_bcs[1].make(m_outDims, {ctx.input(0).dims(), ctx.input(1).dims()}))
            return ctx.error(StatusCode::InvalidInput, "rank too large");
        for (std::size_t i = 2; i < n; ++i)
            if (!m_bcs[i].make(m_outDims, {m_outDims, ctx.input(i).dims()}))
                return ctx.error(StatusCode::InvalidInput, "rank too large");
        m_fn = pickBinary<Op>(t);
        m_copy = pickBinary<BinOp::Max>(t); // max(x, x) == x: broadcasts a single input
        if (!m_fn || (kMean && !dispatch<EW_NUMERIC_TYPES>(t, [&](auto tag) {
                         m_divide = &divideBy<typename decltype(tag)::type>;
                     })))
            return ctx.error(StatusCode::Unsupported, "type " + typeName(t) + " is not supported");
        ctx.setOutput(0, t, m_outDims);
        return {};
    }
    void run(RunContext& ctx) override {
        std::size_t n = m_bcs.size();
        void* out = ctx.output(0).raw();
        if (n == 1) {
            m_copy(m_bcs[0], ctx.input(0).raw(), ctx.input(0).raw(), out, ctx.pool());
        } else {
            m_fn(m_bcs[1], ctx.input(0).raw(), ctx.input(1).raw(), out, ctx.pool());
            for (std::size_t i = 2; i < n; ++i) m_fn(m_bcs[i], out, ctx.input(i).raw(), out, ctx.pool());
        }
        if constexpr (kMean) m_divide(out, ctx.output(0).numElements(), static_cast<int64_t>(n));
    }

private:
    std::vector<int64_t> m_outDims;
    std::vector<Broadcaster<2>> m_bcs;
    BinaryFn m_fn = nullptr, m_copy = nullptr;
    void (*m_divide)(void*, int64_t, int64_t) = nullptr;
};

// Pow: base and exponent may have different types; computed in double, stored as the base type.
using PowFn = void (*)(const Broadcaster<2>&, const void*, const void*, void*, ThreadPool&);
template <typename T, typename E>
void runPow(const Broadcaster<2>& bc, const void* av, const void* bv, void* ov, ThreadPool& pool) {
    const T* A = static_cast<const T*>(av);
    const E* B = static_cast<const E*>(bv);
    T* O = static_cast<T*>(ov);
    pool.parallelFor(0, bc.outerSize(), chunkRows(bc.innerSize()), [&](int64_t r0, int64_t r1) {
        bc.forRows(r0, r1, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
            for (int64_t i = 0; i < n; ++i) {
                double a = static_cast<double>(load(A[off[0] + i * st[0]]));
                double b = static_cast<double>(load(B[off[1] + i * st[1]]));
                if constexpr (std::is_same_v<T, float>)
                    O[o + i] = std::pow(static_cast<float>(a), static_cast<float>(b));
                else
                    O[o + i] = store<T>(std::pow(a, b));
            }
        });
    });
}

/// Float base, one exponent for all: x*x, x and 1/x for exponents 2, 1 and -1 (the same bits as
/// powf; a power spectrum squares every bin), powf otherwise. Returns false for other shapes.
bool runPowFloatScalar(const Tensor& a, const Tensor& b, Tensor& out, ThreadPool& pool) {
    if (a.dtype() != DataType::Float || b.numElements() != 1 || out.numElements() != a.numElements()) return false;
    float e = 0.f;
    bool ok = dispatch<EW_NUMERIC_TYPES>(b.dtype(), [&](auto tb) {
        using E = typename decltype(tb)::type;
        e = static_cast<float>(load(b.data<E>()[0]));
    });
    if (!ok) return false;
    const float* x = a.data<float>();
    float* y = out.data<float>();
    const int64_t n = a.numElements();
    pool.parallelFor(0, n, 16384, [&](int64_t i0, int64_t i1) {
        if (e == 2.f) {
            for (int64_t i = i0; i < i1; ++i) y[i] = x[i] * x[i];
        } else if (e == 1.f) {
            for (int64_t i = i0; i < i1; ++i) y[i] = x[i];
        } else if (e == -1.f) {
            for (int64_t i = i0; i < i1; ++i) y[i] = 1.f / x[i];
        } else {
            for (int64_t i = i0; i < i1; ++i) y[i] = std::pow(x[i], e);
        }
    });
    return true;
}

class PowKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(1);
        if (!broadcastShapes(a.dims(), b.dims(), m_outDims) || !m_bc.make(m_outDims, {a.dims(), b.dims()}))
            return ctx.error(StatusCode::InvalidInput, "shapes do not broadcast");
        m_fn = nullptr;
        dispatch<float, double, Half, int32_t, int64_t>(a.dtype(), [&](auto ta) {
            using T = typename decltype(ta)::type;
            dispatch<EW_NUMERIC_TYPES>(b.dtype(), [&](auto tb) { m_fn = &runPow<T, typename decltype(tb)::type>; });
        });
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported,
                             "types " + typeName(a.dtype()) + "^" + typeName(b.dtype()) + " are not supported");
        ctx.setOutput(0, a.dtype(), m_outDims);
        m_alias = a.numElements() == numElementsOf(m_outDims) ? 0 : -1;
        return {};
    }
    void run(RunContext& ctx) override {
        if (runPowFloatScalar(ctx.input(0), ctx.input(1), ctx.output(0), ctx.pool())) return;
        m_fn(m_bc, ctx.input(0).raw(), ctx.input(1).raw(), ctx.output(0).raw(), ctx.pool());
    }
    int inPlaceInput() const override { return m_alias; }

private:
    std::vector<int64_t> m_outDims;
    Broadcaster<2> m_bc;
    PowFn m_fn = nullptr;
    int m_alias = -1;
};

// Where(cond, x, y): moves elements of any fixed-size type (by width).
template <typename W>
void runWhere(const Broadcaster<3>& bc, const Tensor& c, const Tensor& x, const Tensor& y, Tensor& out,
              ThreadPool& pool) {
    const bool* C = c.data<bool>();
    const W* X = x.data<W>();
    const W* Y = y.data<W>();
    W* O = out.data<W>();
    pool.parallelFor(0, bc.outerSize(), chunkRows(bc.innerSize()), [&](int64_t r0, int64_t r1) {
        bc.forRows(r0, r1, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
            for (int64_t i = 0; i < n; ++i)
                O[o + i] = C[off[0] + i * st[0]] ? X[off[1] + i * st[1]] : Y[off[2] + i * st[2]];
        });
    });
}

class WhereKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& c = ctx.input(0);
        const Tensor& x = ctx.input(1);
        const Tensor& y = ctx.input(2);
        if (c.dtype() != DataType::Bool) return ctx.error(StatusCode::InvalidInput, "condition must be bool");
        if (x.dtype() != y.dtype() || elementSize(x.dtype()) == 0)
            return ctx.error(StatusCode::InvalidInput, "X and Y must have the same fixed-size type");
        std::vector<int64_t> tmp;
        if (!broadcastShapes(c.dims(), x.dims(), tmp) || !broadcastShapes(tmp, y.dims(), m_outDims) ||
            !m_bc.make(m_outDims, {c.dims(), x.dims(), y.dims()}))
            return ctx.error(StatusCode::InvalidInput, "shapes do not broadcast");
        ctx.setOutput(0, x.dtype(), m_outDims);
        m_width = elementSize(x.dtype());
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor &c = ctx.input(0), &x = ctx.input(1), &y = ctx.input(2);
        Tensor& o = ctx.output(0);
        switch (m_width) {
        case 1: runWhere<uint8_t>(m_bc, c, x, y, o, ctx.pool()); break;
        case 2: runWhere<uint16_t>(m_bc, c, x, y, o, ctx.pool()); break;
        case 4: runWhere<uint32_t>(m_bc, c, x, y, o, ctx.pool()); break;
        default: runWhere<uint64_t>(m_bc, c, x, y, o, ctx.pool()); break;
        }
    }

private:
    std::vector<int64_t> m_outDims;
    Broadcaster<3> m_bc;
    std::size_t m_width = 0;
};

} // namespace
} // namespace cpu

using cpu::BinOp;
std::unique_ptr<Kernel> makeAdd() { return std::make_unique<cpu::BinaryKernel<BinOp::Add>>(); }
std::unique_ptr<Kernel> makeSub() { return std::make_unique<cpu::BinaryKernel<BinOp::Sub>>(); }
std::unique_ptr<Kernel> makeMul() { return std::make_unique<cpu::BinaryKernel<BinOp::Mul>>(); }
std::unique_ptr<Kernel> makeDiv() { return std::make_unique<cpu::BinaryKernel<BinOp::Div>>(); }
std::unique_ptr<Kernel> makePow() { return std::make_unique<cpu::PowKernel>(); }
std::unique_ptr<Kernel> makeMax() { return std::make_unique<cpu::VariadicKernel<BinOp::Max, false>>(); }
std::unique_ptr<Kernel> makeMin() { return std::make_unique<cpu::VariadicKernel<BinOp::Min, false>>(); }
std::unique_ptr<Kernel> makeSum() { return std::make_unique<cpu::VariadicKernel<BinOp::Add, false>>(); }
std::unique_ptr<Kernel> makeMean() { return std::make_unique<cpu::VariadicKernel<BinOp::Add, true>>(); }
std::unique_ptr<Kernel> makeEqual() { return std::make_unique<cpu::BinaryKernel<BinOp::Equal>>(); }
std::unique_ptr<Kernel> makeLess() { return std::make_unique<cpu::BinaryKernel<BinOp::Less>>(); }
std::unique_ptr<Kernel> makeGreater() { return std::make_unique<cpu::BinaryKernel<BinOp::Greater>>(); }
std::unique_ptr<Kernel> makeLessOrEqual() { return std::make_unique<cpu::BinaryKernel<BinOp::LessEq>>(); }
std::unique_ptr<Kernel> makeGreaterOrEqual() { return std::make_unique<cpu::BinaryKernel<BinOp::GreaterEq>>(); }
std::unique_ptr<Kernel> makeAnd() { return std::make_unique<cpu::BinaryKernel<BinOp::And>>(); }
std::unique_ptr<Kernel> makeOr() { return std::make_unique<cpu::BinaryKernel<BinOp::Or>>(); }
std::unique_ptr<Kernel> makeXor() { return std::make_unique<cpu::BinaryKernel<BinOp::Xor>>(); }
std::unique_ptr<Kernel> makeWhere() { return std::make_unique<cpu::WhereKernel>(); }

} // namespace ew::rt
