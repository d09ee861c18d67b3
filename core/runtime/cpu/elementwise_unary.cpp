// Unary elementwise ops (activations, math), Clip, Not, and the copy-through ops Identity and
// Dropout (inference: the identity, with an all-true mask).
#include "kernel_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

enum class UnOp { Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Erf, Exp, Log, Sqrt, Neg, Abs, Reciprocal, Floor, Ceil, Not };

struct Params {
    float alpha = 0.f, beta = 0.f;
};

template <UnOp Op, typename C>
inline C applyUnary(C x, const Params& p) {
    if constexpr (Op == UnOp::Relu) return x > C(0) ? x : C(0);
    else if constexpr (Op == UnOp::LeakyRelu) return x >= C(0) ? x : static_cast<C>(x * static_cast<C>(p.alpha));
    else if constexpr (Op == UnOp::Sigmoid) {
        // Split by sign so exp never overflows.
        if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
        C e = std::exp(x);
        return e / (C(1) + e);
    } else if constexpr (Op == UnOp::Tanh) return std::tanh(x);
    else if constexpr (Op == UnOp::HardSigmoid)
        return std::max(C(0), std::min(C(1), static_cast<C>(static_cast<C>(p.alpha) * x + static_cast<C>(p.beta))));
    else if constexpr (Op == UnOp::HardSwish)
        return x * std::max(C(0), std::min(C(1), static_cast<C>(x / C(6) + C(0.5))));
    else if constexpr (Op == UnOp::Erf) return std::erf(x);
    else if constexpr (Op == UnOp::Exp) return std::exp(x);
    else if constexpr (Op == UnOp::Log) return std::log(x);
    else if constexpr (Op == UnOp::Sqrt) return std::sqrt(x);
    else if constexpr (Op == UnOp::Neg) return static_cast<C>(-x);
    else if constexpr (Op == UnOp::Abs) {
        if constexpr (std::is_unsigned_v<C>) return x;
        else return static_cast<C>(x < C(0) ? -x : x);
    } else if constexpr (Op == UnOp::Reciprocal) return C(1) / x;
    else if constexpr (Op == UnOp::Floor) return std::floor(x);
    else if constexpr (Op == UnOp::Ceil) return std::ceil(x);
    else return !x;
}

using UnaryFn = void (*)(const void*, void*, int64_t, const Params&, ThreadPool&);

template <UnOp Op, typename T>
void runUnary(const void* iv, void* ov, int64_t n, const Params& p, ThreadPool& pool) {
    const T* in = static_cast<const T*>(iv);
    T* out = static_cast<T*>(ov);
    pool.parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) out[i] = store<T>(applyUnary<Op>(load(in[i]), p));
    });
}

template <UnOp Op>
UnaryFn pickUnary(DataType t) {
    UnaryFn fn = nullptr;
    auto set = [&](auto tag) { fn = &runUnary<Op, typename decltype(tag)::type>; };
    if constexpr (Op == UnOp::Not) dispatch<bool>(t, set);
    else if constexpr (Op == UnOp::Relu || Op == UnOp::Neg) dispatch<EW_FLOAT_TYPES, EW_SIGNED_INT_TYPES>(t, set);
    else if constexpr (Op == UnOp::Abs) dispatch<EW_NUMERIC_TYPES>(t, set);
    else dispatch<EW_FLOAT_TYPES>(t, set);
    return fn;
}

template <UnOp Op>
class UnaryKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        if constexpr (Op == UnOp::LeakyRelu) m_params.alpha = n.attrFloat("alpha", 0.01f);
        if constexpr (Op == UnOp::HardSigmoid) {
            m_params.alpha = n.attrFloat("alpha", 0.2f);
            m_params.beta = n.attrFloat("beta", 0.5f);
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        m_fn = pickUnary<Op>(x.dtype());
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(ctx.input(0).raw(), ctx.output(0).raw(), ctx.input(0).numElements(), m_params, ctx.pool());
    }
    int inPlaceInput() const override { return 0; }

private:
    Params m_params;
    UnaryFn m_fn = nullptr;
};

// Clip: bounds from attributes (opset < 11) or optional scalar inputs (read at run time).
template <typename T>
void runClip(const Tensor& x, const Tensor* lo, const Tensor* hi, float attrLo, float attrHi, bool useAttrs,
             Tensor& out, ThreadPool& pool) {
    using C = Compute<T>;
    C mn, mx;
    if (useAttrs) {
        mn = static_cast<C>(attrLo);
        mx = static_cast<C>(attrHi);
    } else {
        mn = lo ? load(lo->data<T>()[0]) : std::numeric_limits<C>::lowest();
        mx = hi ? load(hi->data<T>()[0]) : std::numeric_limits<C>::max();
    }
    const T* in = x.data<T>();
    T* o = out.data<T>();
    pool.parallelFor(0, x.numElements(), 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            C v = load(in[i]);
            v = v < mn ? mn : v;
            v = v > mx ? mx : v;
            o[i] = store<T>(v);
        }
    });
}

class ClipKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_useAttrs = ctx.opset() < 11;
        m_lo = ctx.node().attrFloat("min", -std::numeric_limits<float>::infinity());
        m_hi = ctx.node().attrFloat("max", std::numeric_limits<float>::infinity());
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        for (std::size_t i = 1; i < 3; ++i)
            if (ctx.hasInput(i) && (ctx.input(i).dtype() != x.dtype() || ctx.input(i).numElements() != 1))
                return ctx.error(StatusCode::InvalidInput, "min/max must be scalars of the input's type");
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) { m_fn = &runClip<typename decltype(tag)::type>; });
        if (!m_fn || (m_useAttrs && !isFloatingPoint(x.dtype())))
            return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(ctx.input(0), ctx.hasInput(1) ? &ctx.input(1) : nullptr, ctx.hasInput(2) ? &ctx.input(2) : nullptr,
             m_lo, m_hi, m_useAttrs, ctx.output(0), ctx.pool());
    }
    int inPlaceInput() const override { return 0; }

private:
    static bool isFloatingPoint(DataType t) { return ir::isFloatingPoint(t); }
    bool m_useAttrs = false;
    float m_lo = 0, m_hi = 0;
    void (*m_fn)(const Tensor&, const Tensor*, const Tensor*, float, float, bool, Tensor&, ThreadPool&) = nullptr;
};

/// Identity and inference-mode Dropout: output 0 is input 0 (aliased when the planner allows).
class CopyThroughKernel final : public Kernel {
public:
    explicit CopyThroughKernel(bool dropout) : m_dropout(dropout) {}
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (elementSize(x.dtype()) == 0)
            return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        // Training mode with ratio 0 keeps everything (mask all true); a positive ratio drops
        // at random, which an inference runtime has no business doing.
        if (m_dropout && ctx.hasInput(2) && ctx.input(2).numElements() == 1 && ctx.input(2).intAt(0) != 0) {
            const double ratio = ctx.hasInput(1) && ctx.input(1).numElements() == 1 ? ctx.input(1).doubleAt(0) : 0.5;
            if (ratio != 0.0)
                return ctx.error(StatusCode::Unsupported, "training_mode=true with ratio " + std::to_string(ratio) +
                                                              " (random dropout; the runtime does inference only)");
        }
        ctx.setOutput(0, x.dtype(), x.dims());
        if (m_dropout) ctx.setOutput(1, DataType::Bool, x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        copyBytes(ctx.output(0).raw(), ctx.input(0).raw(), ctx.input(0).byteSize());
        if (ctx.hasOutput(1)) std::memset(ctx.output(1).raw(), 1, ctx.output(1).byteSize());
    }
    int inPlaceInput() const override { return 0; }

private:
    bool m_dropout;
};

} // namespace
} // namespace cpu

using cpu::UnOp;
std::unique_ptr<Kernel> makeRelu() { return std::make_unique<cpu::UnaryKernel<UnOp::Relu>>(); }
std::unique_ptr<Kernel> makeLeakyRelu() { return std::make_unique<cpu::UnaryKernel<UnOp::LeakyRelu>>(); }
std::unique_ptr<Kernel> makeSigmoid() { return std::make_unique<cpu::UnaryKernel<UnOp::Sigmoid>>(); }
std::unique_ptr<Kernel> makeTanh() { return std::make_unique<cpu::UnaryKernel<UnOp::Tanh>>(); }
std::unique_ptr<Kernel> makeHardSigmoid() { return std::make_unique<cpu::UnaryKernel<UnOp::HardSigmoid>>(); }
std::unique_ptr<Kernel> makeHardSwish() { return std::make_unique<cpu::UnaryKernel<UnOp::HardSwish>>(); }
std::unique_ptr<Kernel> makeErf() { return std::make_unique<cpu::UnaryKernel<UnOp::Erf>>(); }
std::unique_ptr<Kernel> makeExp() { return std::make_unique<cpu::UnaryKernel<UnOp::Exp>>(); }
std::unique_ptr<Kernel> makeLog() { return std::make_unique<cpu::UnaryKernel<UnOp::Log>>(); }
std::unique_ptr<Kernel> makeSqrt() { return std::make_unique<cpu::UnaryKernel<UnOp::Sqrt>>(); }
std::unique_ptr<Kernel> makeNeg() { return std::make_unique<cpu::UnaryKernel<UnOp::Neg>>(); }
std::unique_ptr<Kernel> makeAbs() { return std::make_unique<cpu::UnaryKernel<UnOp::Abs>>(); }
std::unique_ptr<Kernel> makeReciprocal() { return std::make_unique<cpu::UnaryKernel<UnOp::Reciprocal>>(); }
std::unique_ptr<Kernel> makeFloor() { return std::make_unique<cpu::UnaryKernel<UnOp::Floor>>(); }
std::unique_ptr<Kernel> makeCeil() { return std::make_unique<cpu::UnaryKernel<UnOp::Ceil>>(); }
std::unique_ptr<Kernel> makeNot() { return std::make_unique<cpu::UnaryKernel<UnOp::Not>>(); }
std::unique_ptr<Kernel> makeClip() { return std::make_unique<cpu::ClipKernel>(); }
std::unique_ptr<Kernel> makeIdentity() { return std::make_unique<cpu::CopyThroughKernel>(false); }
std::unique_ptr<Kernel> makeDropout() { return std::make_unique<cpu::CopyThroughKernel>(true); }

} // namespace ew::rt
