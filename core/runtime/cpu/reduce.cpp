// ReduceMean/Sum/Max/Min/Prod over any set of axes (attribute before the opset that moved axes
// to an input: 13 for ReduceSum, 18 for the others), keepdims, noop_with_empty_axes.
// Each output element is reduced by one task, walking its reduced sub-space in row-major order.
#include "kernel_util.h"

#include <algorithm>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

enum class RedOp { Mean, Sum, Max, Min, Prod };

struct ReduceGeom {
    int keptRank = 0, redRank = 0;
    int64_t keptDims[kMaxRank], keptStrides[kMaxRank];
    int64_t redDims[kMaxRank], redStrides[kMaxRank];
    int64_t outCount = 0, redCount = 0;
};

template <RedOp Op, typename T>
void reduceRun(const ReduceGeom& g, const T* X, T* Y, ThreadPool& pool) {
    using C = Compute<T>;
    using Acc = std::conditional_t<std::is_floating_point_v<C>, double, C>;
    pool.parallelFor(0, g.outCount, 64, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
            int64_t base = 0, rem = o;
            for (int d = g.keptRank - 1; d >= 0; --d) {
                base += (rem % g.keptDims[d]) * g.keptStrides[d];
                rem /= g.keptDims[d];
            }
            Acc acc;
            // The identity of max/min: -inf/+inf for floating types (an empty reduction gives
            // that, as ONNX specifies), the extreme values for integers.
            if constexpr (Op == RedOp::Max)
                acc = std::numeric_limits<C>::has_infinity ? -std::numeric_limits<C>::infinity()
                                                           : std::numeric_limits<C>::lowest();
            else if constexpr (Op == RedOp::Min)
                acc = std::numeric_limits<C>::has_infinity ? std::numeric_limits<C>::infinity()
                                                           : std::numeric_limits<C>::max();
            else if constexpr (Op == RedOp::Prod) acc = Acc(1);
            else acc = Acc(0);
            int64_t idx[kMaxRank] = {};
            int64_t off = base;
            for (int64_t i = 0; i < g.redCount; ++i) {
                Acc v = static_cast<Acc>(load(X[off]));
                if constexpr (Op == RedOp::Max) acc = v > acc ? v : acc;
                else if constexpr (Op == RedOp::Min) acc = v < acc ? v : acc;
                else if constexpr (Op == RedOp::Prod) acc = static_cast<Acc>(acc * v);
                else acc = static_cast<Acc>(acc + v);
                for (int d = g.redRank - 1; d >= 0; --d) {
                    off += g.redStrides[d];
                    if (++idx[d] < g.redDims[d]) break;
                    off -= idx[d] * g.redStrides[d];
                    idx[d] = 0;
                }
            }
            if constexpr (Op == RedOp::Mean)
                acc = g.redCount ? static_cast<Acc>(acc / static_cast<Acc>(g.redCount)) : acc;
            Y[o] = store<T>(acc);
        }
    });
}

template <RedOp Op>
class ReduceKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        int64_t inputSince = Op == RedOp::Sum ? 13 : 18;
        m_fromAttr = ctx.opset() < inputSince;
        m_keepDims = ctx.node().attrInt("keepdims", 1) != 0;
        m_noopEmpty = ctx.node().attrInt("noop_with_empty_axes", 0) != 0;
        if (m_fromAttr) m_attrAxes = ctx.node().attrInts("axes");
        else m_dataDependent = ctx.hasInput(1) && !ctx.constantInput(1);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t r = static_cast<int64_t>(x.rank());
        if (r > kMaxRank) return ctx.error(StatusCode::Unsupported, "rank too large");
        if (m_fromAttr) m_axes.assign(m_attrAxes.begin(), m_attrAxes.end());
        else if (ctx.hasInput(1)) readInts(ctx.input(1), m_axes);
        else m_axes.clear();
        bool noop = m_axes.empty() && m_noopEmpty;
        bool reduced[kMaxRank] = {};
        for (int64_t a : m_axes) {
            if (!normalizeAxis(a, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
            reduced[a] = true;
        }
        if (m_axes.empty() && !noop)
            for (int64_t d = 0; d < r; ++d) reduced[d] = true;
        rowMajorStrides(x.dims(), m_strides);
        const std::vector<int64_t>& strides = m_strides;
        ReduceGeom g;
        m_dims.clear();
        g.outCount = 1;
        g.redCount = 1;
        for (int64_t d = 0; d < r; ++d) {
            if (reduced[d]) {
                g.redDims[g.redRank] = x.dims()[d];
                g.redStrides[g.redRank++] = strides[d];
                g.redCount *= x.dims()[d];
                if (m_keepDims) m_dims.push_back(1);
            } else {
                g.keptDims[g.keptRank] = x.dims()[d];
                g.keptStrides[g.keptRank++] = strides[d];
                g.outCount *= x.dims()[d];
                m_dims.push_back(x.dims()[d]);
            }
        }
        m_geom = g;
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const ReduceGeom& g, const void* X, void* Y, ThreadPool& p) {
                reduceRun<Op, T>(g, static_cast<const T*>(X), static_cast<T*>(Y), p);
            };
        });
        if constexpr (Op == RedOp::Max || Op == RedOp::Min) {
            // bool (one byte, 0 or 1): max is "any", min is "all".
            if (x.dtype() == DataType::Bool)
                m_fn = [](const ReduceGeom& g, const void* X, void* Y, ThreadPool& p) {
                    reduceRun<Op, uint8_t>(g, static_cast<const uint8_t*>(X), static_cast<uint8_t*>(Y), p);
                };
        }
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override { m_fn(m_geom, ctx.input(0).raw(), ctx.output(0).raw(), ctx.pool()); }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_fromAttr = false, m_keepDims = true, m_noopEmpty = false, m_dataDependent = false;
    std::vector<int64_t> m_attrAxes, m_axes, m_dims, m_strides;
    ReduceGeom m_geom;
    void (*m_fn)(const ReduceGeom&, const void*, void*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

using cpu::RedOp;
std::unique_ptr<Kernel> makeReduceMean() { return std::make_unique<cpu::ReduceKernel<RedOp::Mean>>(); }
std::unique_ptr<Kernel> makeReduceSum() { return std::make_unique<cpu::ReduceKernel<RedOp::Sum>>(); }
std::unique_ptr<Kernel> makeReduceMax() { return std::make_unique<cpu::ReduceKernel<RedOp::Max>>(); }
std::unique_ptr<Kernel> makeReduceMin() { return std::make_unique<cpu::ReduceKernel<RedOp::Min>>(); }
std::unique_ptr<Kernel> makeReduceProd() { return std::make_unique<cpu::ReduceKernel<RedOp::Prod>>(); }

} // namespace ew::rt
