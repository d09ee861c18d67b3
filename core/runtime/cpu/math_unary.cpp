// Unary elementwise math: trigonometric and hyperbolic functions, Round, Sign, the activations
// Softplus..Swish, Shrink, IsInf/IsNaN (to bool) and BitwiseNot. float16 is computed in float.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

// clang-format off
enum class MathOp {
    Acos, Acosh, Asin, Asinh, Atan, Atanh, Cos, Cosh, Sin, Sinh, Tan,
    Round, Sign, Softplus, Softsign, Elu, Selu, Celu, ThresholdedRelu, Shrink, Mish, Gelu, GeluTanh, Swish,
    IsInf, IsNaN, BitwiseNot,
};
// clang-format on

constexpr bool toBool(MathOp op) {
    return op == MathOp::IsInf || op == MathOp::IsNaN;
}

struct Params {
    double alpha = 0, beta = 0, gamma = 0;
    bool detectPositive = true, detectNegative = true;
};

/// log(1 + exp(x)) without overflow for large x or loss of precision for very negative x.
template <typename C> inline C softplus(C x) {
    return x > C(0) ? static_cast<C>(x + std::log1p(std::exp(-x)))
                    : static_cast<C>(std::log1p(std::exp(x)));
}

/// Round half to even, independent of the floating-point environment's rounding mode.
template <typename C> inline C roundHalfEven(C x) {
    C r = std::round(x); // half away from zero
    if (std::abs(x - std::trunc(x)) == C(0.5)) r = C(2) * std::round(x / C(2));
    return r;
}

template <MathOp Op, typename C> inline auto apply(C x, const Params& p) {
    if constexpr (Op == MathOp::Acos)
        return std::acos(x);
    else if constexpr (Op == MathOp::Acosh)
        return std::acosh(x);
    else if constexpr (Op == MathOp::Asin)
        return std::asin(x);
    else if constexpr (Op == MathOp::Asinh)
        return std::asinh(x);
    else if constexpr (Op == MathOp::Atan)
        return std::atan(x);
    else if constexpr (Op == MathOp::Atanh)
        return std::atanh(x);
    else if constexpr (Op == MathOp::Cos)
        return std::cos(x);
    else if constexpr (Op == MathOp::Cosh)
        return std::cosh(x);
    else if constexpr (Op == MathOp::Sin)
        return std::sin(x);
    else if constexpr (Op == MathOp::Sinh)
        return std::sinh(x);
    else if constexpr (Op == MathOp::Tan)
        return std::tan(x);
    else if constexpr (Op == MathOp::Round)
        return roundHalfEven(x);
    else if constexpr (Op == MathOp::Sign) {
        if constexpr (std::is_unsigned_v<C>)
            return static_cast<C>(x > C(0) ? 1 : 0);
        else
            return x > C(0) ? C(1) : (x < C(0) ? C(-1) : x); // keeps NaN and 0
    } else if constexpr (Op == MathOp::Softplus)
        return softplus(x);
    else if constexpr (Op == MathOp::Softsign)
        return static_cast<C>(x / (C(1) + std::abs(x)));
    else if constexpr (Op == MathOp::Elu)
        return x >= C(0) ? x : static_cast<C>(C(p.alpha) * std::expm1(x));
    else if constexpr (Op == MathOp::Selu)
        return static_cast<C>(x > C(0) ? C(p.gamma) * x : C(p.gamma) * C(p.alpha) * std::expm1(x));
    else if constexpr (Op == MathOp::Celu)
        return x >= C(0) ? x : static_cast<C>(C(p.alpha) * std::expm1(x / C(p.alpha)));
    else if constexpr (Op == MathOp::ThresholdedRelu)
        return x > C(p.alpha) ? x : C(0);
    else if constexpr (Op == MathOp::Shrink) {
        // Integer inputs are compared and offset in double, then converted back.
        double v = static_cast<double>(x);
        if (v < -p.alpha)
            v += p.beta;
        else if (v > p.alpha)
            v -= p.beta;
        else
            return C(0);
        if constexpr (std::is_integral_v<C>) { // saturate: out-of-range float-to-int is undefined
            if (v <= static_cast<double>(std::numeric_limits<C>::lowest()))
                return std::numeric_limits<C>::lowest();
            if (v >= static_cast<double>(std::numeric_limits<C>::max()))
                return std::numeric_limits<C>::max();
        }
        return static_cast<C>(v);
    } else if constexpr (Op == MathOp::Mish)
        return static_cast<C>(x * std::tanh(softplus(x)));
    else if constexpr (Op == MathOp::Gelu)
        return static_cast<C>(C(0.5) * x * (C(1) + std::erf(x * C(0.70710678118654752440))));
    else if constexpr (Op == MathOp::GeluTanh) {
        const C k = C(0.79788456080286535588); // sqrt(2 / pi)
        return static_cast<C>(C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x))));
    } else if constexpr (Op == MathOp::Swish) {
        C z = C(p.alpha) * x;
        C s = z >= C(0) ? C(1) / (C(1) + std::exp(-z)) : std::exp(z) / (C(1) + std::exp(z));
        return static_cast<C>(x * s);
    } else if constexpr (Op == MathOp::IsInf)
        return std::isinf(x) && (x > C(0) ? p.detectPositive : p.detectNegative);
    else if constexpr (Op == MathOp::IsNaN)
        return static_cast<bool>(std::isnan(x));
    else
        return static_cast<C>(~x);
}

using MathFn = void (*)(const void*, void*, int64_t, const Params&, ThreadPool&);

template <MathOp Op, typename T>
void runMath(const void* iv, void* ov, int64_t n, const Params& p, ThreadPool& pool) {
    using Out = std::conditional_t<toBool(Op), bool, T>;
    const T* in = static_cast<const T*>(iv);
    Out* out = static_cast<Out*>(ov);
    pool.parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            if constexpr (toBool(Op))
                out[i] = apply<Op>(load(in[i]), p);
            else
                out[i] = store<T>(apply<Op>(load(in[i]), p));
        }
    });
}

template <MathOp Op> MathFn pickMath(DataType t) {
    MathFn fn = nullptr;
    auto set = [&](auto tag) { fn = &runMath<Op, typename decltype(tag)::type>; };
    if constexpr (Op == MathOp::Sign || Op == MathOp::Shrink)
        dispatch<EW_NUMERIC_TYPES>(t, set);
    else if constexpr (Op == MathOp::BitwiseNot)
        dispatch<EW_INT_TYPES>(t, set);
    else
        dispatch<EW_FLOAT_TYPES>(t, set);
    return fn;
}

template <MathOp Op> class MathKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        if constexpr (Op == MathOp::Elu || Op == MathOp::Celu)
            m_params.alpha = n.attrFloat("alpha", 1.0f);
        if constexpr (Op == MathOp::Selu) {
            m_params.alpha = n.attrFloat("alpha", 1.67326319217681884765625f);
            m_params.gamma = n.attrFloat("gamma", 1.05070102214813232421875f);
        }
        if constexpr (Op == MathOp::ThresholdedRelu || Op == MathOp::Swish)
            m_params.alpha = n.attrFloat("alpha", 1.0f);
        if constexpr (Op == MathOp::Shrink) {
            m_params.alpha = n.attrFloat("lambd", 0.5f);
            m_params.beta = n.attrFloat("bias", 0.0f);
        }
        if constexpr (Op == MathOp::Celu)
            if (m_params.alpha == 0)
                return ctx.error(StatusCode::InvalidInput, "alpha must not be 0");
        if constexpr (Op == MathOp::IsInf) {
            m_params.detectPositive = n.attrInt("detect_positive", 1) != 0;
            m_params.detectNegative = n.attrInt("detect_negative", 1) != 0;
        }
        if constexpr (Op == MathOp::Gelu) {
            std::string approx = n.attrString("approximate", "none");
            if (approx == "tanh")
                m_tanh = true;
            else if (approx != "none")
                return ctx.error(StatusCode::InvalidInput,
                                 "approximate must be 'none' or 'tanh', not '" + approx + "'");
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if constexpr (Op == MathOp::Gelu)
            m_fn = m_tanh ? pickMath<MathOp::GeluTanh>(x.dtype()) : pickMath<Op>(x.dtype());
        else
            m_fn = pickMath<Op>(x.dtype());
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, toBool(Op) ? DataType::Bool : x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(ctx.input(0).raw(), ctx.output(0).raw(), ctx.input(0).numElements(), m_params,
             ctx.pool());
    }
    int inPlaceInput() const override { return toBool(Op) ? -1 : 0; }

  private:
    Params m_params;
    bool m_tanh = false;
    MathFn m_fn = nullptr;
};

} // namespace
} // namespace cpu

#define EW_MATH_FACTORY(name)                                                                      \
    std::unique_ptr<Kernel> make##name() {                                                         \
        return std::make_unique<cpu::MathKernel<cpu::MathOp::name>>();                             \
    }
EW_MATH_FACTORY(Acos)
EW_MATH_FACTORY(Acosh)
EW_MATH_FACTORY(Asin)
EW_MATH_FACTORY(Asinh)
EW_MATH_FACTORY(Atan)
EW_MATH_FACTORY(Atanh)
EW_MATH_FACTORY(Cos)
EW_MATH_FACTORY(Cosh)
EW_MATH_FACTORY(Sin)
EW_MATH_FACTORY(Sinh)
EW_MATH_FACTORY(Tan)
EW_MATH_FACTORY(Round)
EW_MATH_FACTORY(Sign)
EW_MATH_FACTORY(Softplus)
EW_MATH_FACTORY(Softsign)
EW_MATH_FACTORY(Elu)
EW_MATH_FACTORY(Selu)
EW_MATH_FACTORY(Celu)
EW_MATH_FACTORY(ThresholdedRelu)
EW_MATH_FACTORY(Shrink)
EW_MATH_FACTORY(Mish)
EW_MATH_FACTORY(Gelu)
EW_MATH_FACTORY(Swish)
EW_MATH_FACTORY(IsInf)
EW_MATH_FACTORY(IsNaN)
EW_MATH_FACTORY(BitwiseNot)
#undef EW_MATH_FACTORY

} // namespace ew::rt
