// Hardmax: 1 at the first maximum along an axis, 0 elsewhere. Opset 13+ works on one axis
// (default -1); earlier versions flatten the input to 2-D at `axis` (default 1) and work on rows.
#include "kernel_util.h"

#include <algorithm>

namespace ew::rt {
namespace cpu {
namespace {

using HardmaxFn = void (*)(const void*, void*, int64_t outer, int64_t n, int64_t inner,
                           ThreadPool&);

template <typename T>
void runHardmax(const void* iv, void* ov, int64_t outer, int64_t n, int64_t inner,
                ThreadPool& pool) {
    const T* in = static_cast<const T*>(iv);
    T* out = static_cast<T*>(ov);
    const T one = store<T>(1.0f), zero = store<T>(0.0f);
    // One task per (outer, inner) lane; lanes are independent.
    pool.parallelFor(0, outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)),
                     [&](int64_t b, int64_t e) {
                         for (int64_t lane = b; lane < e; ++lane) {
                             int64_t o = lane / inner, i = lane % inner;
                             const T* x = in + o * n * inner + i;
                             T* y = out + o * n * inner + i;
                             int64_t best = 0;
                             auto bestV = load(x[0]);
                             for (int64_t j = 1; j < n; ++j) {
                                 auto v = load(x[j * inner]);
                                 if (v > bestV) {
                                     bestV = v;
                                     best = j;
                                 }
                             }
                             for (int64_t j = 0; j < n; ++j)
                                 y[j * inner] = j == best ? one : zero;
                         }
                     });
}

class HardmaxKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_flatten = ctx.opset() < 13;
        m_axis = ctx.node().attrInt("axis", m_flatten ? 1 : -1);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t rank = static_cast<int64_t>(x.rank());
        int64_t axis = m_axis;
        // The flattening versions accept axis == rank (every dim in the outer part).
        bool ok = m_flatten ? (axis >= -rank && axis <= rank) : normalizeAxis(axis, rank);
        if (!ok)
            return ctx.error(StatusCode::InvalidInput, "axis " + std::to_string(m_axis) +
                                                           " is out of range for rank " +
                                                           std::to_string(rank));
        if (m_flatten && axis < 0) axis += rank;
        m_fn = nullptr;
        dispatch<EW_FLOAT_TYPES>(
            x.dtype(), [&](auto tag) { m_fn = &runHardmax<typename decltype(tag)::type>; });
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        const auto& d = x.dims();
        m_outer = numElementsOf(std::span<const int64_t>(d.data(), static_cast<std::size_t>(axis)));
        if (m_flatten) {
            m_n = numElementsOf(std::span<const int64_t>(
                d.data() + axis, d.size() - static_cast<std::size_t>(axis)));
            m_inner = 1;
        } else {
            m_n = d[static_cast<std::size_t>(axis)];
            m_inner = numElementsOf(std::span<const int64_t>(
                d.data() + axis + 1, d.size() - static_cast<std::size_t>(axis) - 1));
        }
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        if (m_n == 0 || ctx.input(0).numElements() == 0) return;
        m_fn(ctx.input(0).raw(), ctx.output(0).raw(), m_outer, m_n, m_inner, ctx.pool());
    }
    // A lane is read completely before any of its elements is written.
    int inPlaceInput() const override { return 0; }

  private:
    bool m_flatten = false;
    int64_t m_axis = -1;
    int64_t m_outer = 0, m_n = 0, m_inner = 0;
    HardmaxFn m_fn = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeHardmax() {
    return std::make_unique<cpu::HardmaxKernel>();
}

} // namespace ew::rt
