// Softmax and LogSoftmax. Opset < 13 coerces the input to 2-D at `axis` (default 1) and
// normalizes over everything after it; opset >= 13 normalizes along the single `axis`
// (default -1).
#include "kernel_util.h"

#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

template <bool kLog>
class SoftmaxKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_legacy = ctx.opset() < 13;
        m_axis = ctx.node().attrInt("axis", m_legacy ? 1 : -1);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t r = static_cast<int64_t>(x.rank());
        int64_t axis = m_axis;
        if (r == 0 || !normalizeAxis(axis, r))
            return ctx.error(StatusCode::InvalidInput, "axis " + std::to_string(m_axis) + " out of range for " +
                                                           dimsText(x.dims()));
        std::span<const int64_t> d(x.dims());
        m_outer = numElementsOf(d.first(static_cast<std::size_t>(axis)));
        if (m_legacy) {
            m_len = numElementsOf(d.subspan(static_cast<std::size_t>(axis)));
            m_inner = 1;
        } else {
            m_len = d[static_cast<std::size_t>(axis)];
            m_inner = numElementsOf(d.subspan(static_cast<std::size_t>(axis) + 1));
        }
        m_fn = nullptr;
        dispatch<EW_FLOAT_TYPES>(x.dtype(), [&](auto tag) { m_fn = &SoftmaxKernel::runTyped<typename decltype(tag)::type>; });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }
    int inPlaceInput() const override { return 0; }

private:
    template <typename T>
    void runTyped(RunContext& ctx) {
        using C = Compute<T>;
        const T* x = ctx.input(0).data<T>();
        T* y = ctx.output(0).data<T>();
        const int64_t len = m_len, inner = m_inner;
        if (len == 0) return;
        ctx.pool().parallelFor(0, m_outer * inner, chunkRows(len), [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; ++t) {
                int64_t o = t / inner, in = t % inner;
                const T* xs = x + o * len * inner + in;
                T* ys = y + o * len * inner + in;
                C mx = load(xs[0]);
                for (int64_t i = 1; i < len; ++i) mx = std::max(mx, load(xs[i * inner]));
                C sum = 0;
                for (int64_t i = 0; i < len; ++i) sum += std::exp(load(xs[i * inner]) - mx);
                if constexpr (kLog) {
                    C ls = std::log(sum);
                    for (int64_t i = 0; i < len; ++i) ys[i * inner] = store<T>(load(xs[i * inner]) - mx - ls);
                } else {
                    for (int64_t i = 0; i < len; ++i) ys[i * inner] = store<T>(std::exp(load(xs[i * inner]) - mx) / sum);
                }
            }
        });
    }
    bool m_legacy = false;
    int64_t m_axis = -1;
    int64_t m_outer = 0, m_len = 0, m_inner = 1;
    void (SoftmaxKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeSoftmax() { return std::make_unique<cpu::SoftmaxKernel<false>>(); }
std::unique_ptr<Kernel> makeLogSoftmax() { return std::make_unique<cpu::SoftmaxKernel<true>>(); }

} // namespace ew::rt
