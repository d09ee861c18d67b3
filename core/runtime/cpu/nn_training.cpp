// ai.onnx.preview.training optimizers (opset 1): Adagrad, Momentum (standard and Nesterov) and
// Adam. Inputs are R (learning rate), T (update count), then n tensors X, their n gradients G and
// the optimizer's state groups (H for Adagrad, V for Momentum, V and H for Adam); outputs are the
// n new X, then the new state groups in input order.
#include "kernel_util.h"

#include <algorithm>
#include <optional>

namespace ew::rt {
namespace cpu {
namespace {

enum class Algo { Adagrad, Momentum, Adam };

/// One elementwise pass per optimized tensor, following the spec's pseudo code in double
/// precision and rounding once to the tensor type when storing:
///   Adagrad:  r = R / (1 + T*decay_factor); G' = norm_coefficient*X + G; H' = H + G'^2;
///             X' = X - r*G' / (sqrt(H') + epsilon)
///   Momentum: G' = norm_coefficient*X + G; V' = alpha*V + (T > 0 ? beta : 1)*G';
///             X' = X - R*V' (standard) or X - R*(G' + alpha*V') (nesterov)
///   Adam:     G' = norm_coefficient*X + G; V' = alpha*V + (1-alpha)*G'; H' = beta*H +
///   (1-beta)*G'^2;
///             R' = T > 0 ? R*sqrt(1 - beta^T) / (1 - alpha^T) : R;
///             X' = (1 - norm_coefficient_post) * (X - R'*V' / (sqrt(H') + epsilon))
/// Every X, G and state tensor of a group member must have X's shape (the spec's broadcasting
/// never arises in practice and the outputs take X's and the state's shapes).
class OptimizerKernel final : public Kernel {
  public:
    explicit OptimizerKernel(Algo algo) : m_algo(algo) {}

    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_groupsIn = m_algo == Algo::Adam ? 4 : 3;
        const std::size_t inputs = ctx.numInputs();
        if (inputs < 2 + m_groupsIn || (inputs - 2) % m_groupsIn != 0)
            return ctx.error(StatusCode::InvalidInput,
                             "expects R, T and then " + std::to_string(m_groupsIn) +
                                 " equally long groups of tensors (X, G, " +
                                 (m_algo == Algo::Adam      ? "V, H"
                                  : m_algo == Algo::Adagrad ? "H"
                                                            : "V") +
                                 "); got " + std::to_string(inputs) + " inputs");
        m_n = (inputs - 2) / m_groupsIn;
        const std::size_t outs = ctx.numOutputs();
        if (outs > m_n * (m_groupsIn - 1))
            return ctx.error(StatusCode::InvalidInput, "has " + std::to_string(outs) +
                                                           " outputs but " + std::to_string(m_n) +
                                                           " optimized tensors give at most " +
                                                           std::to_string(m_n * (m_groupsIn - 1)));
        for (std::size_t i = 0; i < inputs; ++i)
            if (!ctx.hasInput(i))
                return ctx.error(StatusCode::InvalidInput,
                                 "input " + std::to_string(i) + " is missing");

        auto floatAttr = [&](const char* name, std::optional<float> def,
                             double& out) -> VoidResult {
            const ir::Attribute* a = n.attr(name);
            if (a && a->type != ir::AttrType::Float)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string("attribute ") + name + " must be a float");
            if (!a && !def)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string("attribute ") + name + " is required");
            out = a ? a->f : *def;
            return {};
        };
        VoidResult r;
        switch (m_algo) {
        case Algo::Adagrad:
            if (!(r = floatAttr("epsilon", 1e-6f, m_epsilon))) return r;
            if (!(r = floatAttr("decay_factor", 0.f, m_decay))) return r;
            if (!(r = floatAttr("norm_coefficient", 0.f, m_norm))) return r;
            break;
        case Algo::Momentum: {
            if (!(r = floatAttr("alpha", std::nullopt, m_alpha))) return r;
            if (!(r = floatAttr("beta", std::nullopt, m_beta))) return r;
            if (!(r = floatAttr("norm_coefficient", std::nullopt, m_norm))) return r;
            const ir::Attribute* mode = n.attr("mode");
            if (!mode || mode->type != ir::AttrType::String)
                return ctx.error(StatusCode::InvalidInput,
                                 "attribute mode (\"standard\" or \"nesterov\") is required");
            if (mode->s == "nesterov")
                m_nesterov = true;
            else if (mode->s == "standard")
                m_nesterov = false;
            else
                return ctx.error(StatusCode::InvalidInput,
                                 "mode must be \"standard\" or \"nesterov\", not \"" + mode->s +
                                     "\"");
            break;
        }
        case Algo::Adam:
            if (!(r = floatAttr("alpha", 0.9f, m_alpha))) return r;
            if (!(r = floatAttr("beta", 0.999f, m_beta))) return r;
            if (!(r = floatAttr("epsilon", 1e-6f, m_epsilon))) return r;
            if (!(r = floatAttr("norm_coefficient", 0.f, m_norm))) return r;
            if (!(r = floatAttr("norm_coefficient_post", 0.f, m_normPost))) return r;
            break;
        }
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& R = ctx.input(0);
        const Tensor& T = ctx.input(1);
        if (R.dtype() != DataType::Float && R.dtype() != DataType::Double)
            return ctx.error(StatusCode::InvalidInput,
                             "R must be float or double, not " + typeName(R.dtype()));
        if (R.numElements() != 1)
            return ctx.error(StatusCode::InvalidInput,
                             "R must be a scalar, not " + dimsText(R.dims()));
        if (T.dtype() != DataType::Int64)
            return ctx.error(StatusCode::InvalidInput,
                             "T must be int64, not " + typeName(T.dtype()));
        if (T.numElements() != 1)
            return ctx.error(StatusCode::InvalidInput,
                             "T must be a scalar, not " + dimsText(T.dims()));
        static const char* const kGroupNames[3][4] = {
            {"X", "G", "H", ""}, {"X", "G", "V", ""}, {"X", "G", "V", "H"}};
        const char* const* names = kGroupNames[static_cast<int>(m_algo)];
        m_dtype = ctx.input(2).dtype();
        if (m_dtype != DataType::Float && m_dtype != DataType::Double)
            return ctx.error(StatusCode::Unsupported,
                             "the optimized tensors must be float or double, not " +
                                 typeName(m_dtype));
        for (std::size_t i = 0; i < m_n; ++i) {
            const Tensor& x = ctx.input(2 + i);
            for (std::size_t g = 0; g < m_groupsIn; ++g) {
                const Tensor& t = ctx.input(2 + g * m_n + i);
                const std::string what = std::string(names[g]) + std::to_string(i + 1) +
                                         " (input " + std::to_string(2 + g * m_n + i) + ")";
                if (t.dtype() != m_dtype)
                    return ctx.error(StatusCode::InvalidInput, what + " is " + typeName(t.dtype()) +
                                                                   " but X1 is " +
                                                                   typeName(m_dtype));
                if (t.dims() != x.dims())
                    return ctx.error(StatusCode::InvalidInput,
                                     what + " has shape " + dimsText(t.dims()) + " but X" +
                                         std::to_string(i + 1) + " has " + dimsText(x.dims()));
            }
        }
        // Output j belongs to output group j / n: new X, then the new state groups.
        for (std::size_t j = 0; j < ctx.numOutputs(); ++j) {
            const std::size_t g = j / m_n, i = j % m_n;
            const Tensor& src = ctx.input(2 + (g == 0 ? 0 : g + 1) * m_n + i);
            ctx.setOutput(j, m_dtype, src.dims());
        }
        return {};
    }

    void run(RunContext& ctx) override {
        const Tensor& R = ctx.input(0);
        const double rate =
            R.dtype() == DataType::Float ? double(*R.data<float>()) : *R.data<double>();
        const int64_t t = *ctx.input(1).data<int64_t>();
        if (m_dtype == DataType::Float)
            update<float>(ctx, rate, t);
        else
            update<double>(ctx, rate, t);
    }

  private:
    template <typename T> const T* in(RunContext& ctx, std::size_t group, std::size_t i) const {
        return ctx.input(2 + group * m_n + i).data<T>();
    }
    template <typename T> T* out(RunContext& ctx, std::size_t group, std::size_t i) const {
        const std::size_t j = group * m_n + i;
        return ctx.hasOutput(j) ? ctx.output(j).data<T>() : nullptr;
    }

    template <typename T> void update(RunContext& ctx, double rate, int64_t t) const {
        for (std::size_t i = 0; i < m_n; ++i) {
            const int64_t count = ctx.input(2 + i).numElements();
            const T* x = in<T>(ctx, 0, i);
            const T* g = in<T>(ctx, 1, i);
            T* xNew = out<T>(ctx, 0, i);
            switch (m_algo) {
            case Algo::Adagrad: {
                const T* h = in<T>(ctx, 2, i);
                T* hNew = out<T>(ctx, 1, i);
                const double r = rate / (1.0 + static_cast<double>(t) * m_decay);
                for (int64_t k = 0; k < count; ++k) {
                    const double gr = m_norm * double(x[k]) + double(g[k]);
                    const double h2 = double(h[k]) + gr * gr;
                    if (xNew)
                        xNew[k] =
                            static_cast<T>(double(x[k]) - r * gr / (std::sqrt(h2) + m_epsilon));
                    if (hNew) hNew[k] = static_cast<T>(h2);
                }
                break;
            }
            case Algo::Momentum: {
                const T* v = in<T>(ctx, 2, i);
                T* vNew = out<T>(ctx, 1, i);
                const double beta = t > 0 ? m_beta : 1.0;
                for (int64_t k = 0; k < count; ++k) {
                    const double gr = m_norm * double(x[k]) + double(g[k]);
                    const double v2 = m_alpha * double(v[k]) + beta * gr;
                    const double step = m_nesterov ? gr + m_alpha * v2 : v2;
                    if (xNew) xNew[k] = static_cast<T>(double(x[k]) - rate * step);
                    if (vNew) vNew[k] = static_cast<T>(v2);
                }
                break;
            }
            case Algo::Adam: {
                const T* v = in<T>(ctx, 2, i);
                const T* h = in<T>(ctx, 3, i);
                T* vNew = out<T>(ctx, 1, i);
                T* hNew = out<T>(ctx, 2, i);
                const double td = static_cast<double>(t);
                const double r = t > 0 ? rate * std::sqrt(1.0 - std::pow(m_beta, td)) /
                                             (1.0 - std::pow(m_alpha, td))
                                       : rate;
                for (int64_t k = 0; k < count; ++k) {
                    const double gr = m_norm * double(x[k]) + double(g[k]);
                    const double v2 = m_alpha * double(v[k]) + (1.0 - m_alpha) * gr;
                    const double h2 = m_beta * double(h[k]) + (1.0 - m_beta) * gr * gr;
                    const double x2 = double(x[k]) - r * v2 / (std::sqrt(h2) + m_epsilon);
                    if (xNew) xNew[k] = static_cast<T>((1.0 - m_normPost) * x2);
                    if (vNew) vNew[k] = static_cast<T>(v2);
                    if (hNew) hNew[k] = static_cast<T>(h2);
                }
                break;
            }
            }
        }
    }

    Algo m_algo;
    std::size_t m_groupsIn = 3, m_n = 0;
    DataType m_dtype = DataType::Float;
    double m_alpha = 0, m_beta = 0, m_epsilon = 0, m_decay = 0, m_norm = 0, m_normPost = 0;
    bool m_nesterov = false;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeAdagrad() {
    return std::make_unique<cpu::OptimizerKernel>(cpu::Algo::Adagrad);
}
std::unique_ptr<Kernel> makeMomentum() {
    return std::make_unique<cpu::OptimizerKernel>(cpu::Algo::Momentum);
}
std::unique_ptr<Kernel> makeAdam() {
    return std::make_unique<cpu::OptimizerKernel>(cpu::Algo::Adam);
}

} // namespace ew::rt
