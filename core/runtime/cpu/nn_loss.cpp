// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (which is NLL over LogSoftmax along the
// class axis 1, with the log-probabilities as optional second output). Input [N, C, d1...],
// integer target [N, d1...], optional per-class weight; reduction none / sum / mean (mean divides
// by the summed weights of the counted elements); targets equal to ignore_index count nothing.
// Sums are taken in double, in a fixed order, on one thread (losses are small reductions).
#include "nn_util.h"

#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

using nn::loadF;

template <bool kSoftmax> class LossKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        std::string red = ctx.node().attrString("reduction", "mean");
        if (red == "none")
            m_reduction = 0;
        else if (red == "sum")
            m_reduction = 1;
        else if (red == "mean")
            m_reduction = 2;
        else
            return ctx.error(StatusCode::InvalidInput, "unknown reduction '" + red + "'");
        m_hasIgnore = ctx.node().hasAttr("ignore_index");
        m_ignore = ctx.node().attrInt("ignore_index", 0);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& t = ctx.input(1);
        if (x.rank() < 2) return ctx.error(StatusCode::InvalidInput, "input must be [N, C, ...]");
        if (t.dtype() != DataType::Int32 && t.dtype() != DataType::Int64)
            return ctx.error(StatusCode::InvalidInput, "target must be int32 or int64");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_D = numElementsOf(std::span<const int64_t>(x.dims()).subspan(2));
        std::vector<int64_t> tdims{x.dims()[0]};
        tdims.insert(tdims.end(), x.dims().begin() + 2, x.dims().end());
        if (t.dims() != tdims)
            return ctx.error(StatusCode::InvalidInput,
                             "target " + dimsText(t.dims()) + " must be " + dimsText(tdims));
        if (ctx.hasInput(2) && ctx.input(2).numElements() != m_C)
            return ctx.error(StatusCode::InvalidInput,
                             "weight must have " + std::to_string(m_C) + " elements");
        if (!nn::selectFloat<LossKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        if (m_reduction == 0)
            ctx.setOutput(0, x.dtype(), tdims);
        else
            ctx.setOutput(0, x.dtype(), std::span<const int64_t>());
        if (kSoftmax) ctx.setOutput(1, x.dtype(), x.dims());
        // Per-element losses and weights (double) for the reductions; the log-probabilities when
        // the caller does not ask for them.
        std::size_t scratch = static_cast<std::size_t>(2 * m_N * m_D) * sizeof(double);
        if (kSoftmax) scratch += static_cast<std::size_t>(x.numElements()) * sizeof(double);
        ctx.setScratchBytes(scratch);
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        const Tensor& tg = ctx.input(1);
        const bool hasW = ctx.hasInput(2);
        const int64_t N = m_N, C = m_C, D = m_D;
        double* loss = reinterpret_cast<double*>(ctx.scratch());
        double* wsum = loss + N * D;
        double* logp = wsum + N * D;
        const T* in = x.data<T>();
        if constexpr (kSoftmax) {
            // LogSoftmax along axis 1 of [N, C, D].
            for (int64_t n = 0; n < N; ++n)
                for (int64_t d = 0; d < D; ++d) {
                    const int64_t base = n * C * D + d;
                    double mx = -std::numeric_limits<double>::infinity();
                    for (int64_t c = 0; c < C; ++c)
                        mx = std::max(mx, static_cast<double>(load(in[base + c * D])));
                    double s = 0;
                    for (int64_t c = 0; c < C; ++c)
                        s += std::exp(static_cast<double>(load(in[base + c * D])) - mx);
                    double ls = std::log(s);
                    for (int64_t c = 0; c < C; ++c)
                        logp[base + c * D] = static_cast<double>(load(in[base + c * D])) - mx - ls;
                }
            if (ctx.hasOutput(1)) {
                T* lp = ctx.output(1).data<T>();
                for (int64_t i = 0; i < x.numElements(); ++i)
                    lp[i] = store<T>(logp[i]);
            }
        }
        for (int64_t n = 0; n < N; ++n)
            for (int64_t d = 0; d < D; ++d) {
                int64_t i = n * D + d;
                int64_t t =
                    tg.dtype() == DataType::Int64 ? tg.data<int64_t>()[i] : tg.data<int32_t>()[i];
                if ((m_hasIgnore && t == m_ignore) || t < 0 || t >= C) {
                    loss[i] = 0;
                    wsum[i] = 0;
                    continue;
                }
                double w = hasW ? loadF(ctx.input(2), t) : 1.0;
                int64_t xi = (n * C + t) * D + d;
                double v = kSoftmax ? logp[xi] : static_cast<double>(load(in[xi]));
                loss[i] = -v * w;
                wsum[i] = w;
            }
        T* y = ctx.output(0).data<T>();
        if (m_reduction == 0) {
            for (int64_t i = 0; i < N * D; ++i)
                y[i] = store<T>(loss[i]);
            return;
        }
        double s = 0, ws = 0;
        for (int64_t i = 0; i < N * D; ++i) {
            s += loss[i];
            ws += wsum[i];
        }
        y[0] = store<T>(m_reduction == 1 ? s : s / ws);
    }

  private:
    int m_reduction = 2;
    bool m_hasIgnore = false;
    int64_t m_ignore = 0;
    int64_t m_N = 0, m_C = 0, m_D = 1;
    void (LossKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeNegativeLogLikelihoodLoss() {
    return std::make_unique<cpu::LossKernel<false>>();
}
std::unique_ptr<Kernel> makeSoftmaxCrossEntropyLoss() {
    return std::make_unique<cpu::LossKernel<true>>();
}

} // namespace ew::rt
