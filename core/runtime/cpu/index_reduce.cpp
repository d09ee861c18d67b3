// ReduceL1/L2/LogSum/LogSumExp/SumSquare over any set of axes (attribute before opset 18, the
// optional second input from 18 on), keepdims, noop_with_empty_axes; ArgMax/ArgMin with keepdims
// and select_last_index. reduce.cpp keeps its machinery private, so the reductions here have their
// own: each output element is reduced by one task, walking its reduced sub-space in row-major
// order (deterministic for any thread count). Floating types accumulate in double, integers in
// int64 (L1, SumSquare) or double (L2, LogSum, LogSumExp, then converted back).
#include "index_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ew::rt {
namespace cpu {

bool makeReduceAxes(std::span<const int64_t> dims, std::span<const int64_t> axes, bool keepDims, bool noopEmpty,
                    ReduceAxes& g, std::vector<int64_t>& outDims, std::string& why) {
    const int64_t r = static_cast<int64_t>(dims.size());
    if (r > kMaxRank) {
        why = "rank too large";
        return false;
    }
    bool reduced[kMaxRank] = {};
    for (int64_t a : axes) {
        if (!normalizeAxis(a, r)) {
            why = "axis " + std::to_string(a) + " out of range for rank " + std::to_string(r);
            return false;
        }
        reduced[a] = true;
    }
    if (axes.empty() && !noopEmpty)
        for (int64_t d = 0; d < r; ++d) reduced[d] = true;
    g = ReduceAxes{};
    outDims.clear();
    int64_t stride = 1;
    int64_t strides[kMaxRank];
    for (int64_t d = r - 1; d >= 0; --d) {
        strides[d] = stride;
        stride *= dims[d];
    }
    for (int64_t d = 0; d < r; ++d) {
        if (reduced[d]) {
            g.redDims[g.redRank] = dims[d];
            g.redStrides[g.redRank++] = strides[d];
            g.redCount *= dims[d];
            if (keepDims) outDims.push_back(1);
        } else {
            g.keptDims[g.keptRank] = dims[d];
            g.keptStrides[g.keptRank++] = strides[d];
            g.outCount *= dims[d];
            outDims.push_back(dims[d]);
        }
    }
    return true;
}

namespace {

enum class NormOp { L1, L2, LogSum, LogSumExp, SumSquare };

/// Converts a double result to T; integers get a defined value for NaN and infinities.
template <typename T>
T fromDouble(double v) {
    using C = Compute<T>;
    if constexpr (std::is_integral_v<C>) {
        if (std::isnan(v)) return T(0);
        if (v <= static_cast<double>(std::numeric_limits<C>::lowest())) return std::numeric_limits<C>::lowest();
        if (v >= static_cast<double>(std::numeric_limits<C>::max())) return std::numeric_limits<C>::max();
        return static_cast<T>(v);
    } else {
        return store<T>(v);
    }
}

template <NormOp Op, typename T>
void normRun(const ReduceAxes& g, const T* X, T* Y, ThreadPool& pool) {
    using C = Compute<T>;
    constexpr bool kInt = std::is_integral_v<C>;
    pool.parallelFor(0, g.outCount, 64, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
            const int64_t base = g.baseOf(o);
            if constexpr (Op == NormOp::LogSumExp) {
                double mx = -std::numeric_limits<double>::infinity();
                g.forReduced(base, [&](int64_t off) {
                    double v = static_cast<double>(load(X[off]));
                    if (v > mx) mx = v;
                });
                double r = mx;
                if (std::isfinite(mx)) {
                    double s = 0;
                    g.forReduced(base, [&](int64_t off) { s += std::exp(static_cast<double>(load(X[off])) - mx); });
                    r = mx + std::log(s);
                }
                Y[o] = fromDouble<T>(r);
            } else if constexpr (kInt && (Op == NormOp::L1 || Op == NormOp::SumSquare)) {
                // Integer results stay exact (wrapping like the input type would).
                uint64_t acc = 0;
                g.forReduced(base, [&](int64_t off) {
                    C v = X[off];
                    if constexpr (Op == NormOp::L1) {
                        if constexpr (std::is_signed_v<C>) acc += static_cast<uint64_t>(v < 0 ? -static_cast<int64_t>(v) : v);
                        else acc += static_cast<uint64_t>(v);
                    } else {
                        acc += static_cast<uint64_t>(v) * static_cast<uint64_t>(v);
                    }
                });
                Y[o] = static_cast<T>(acc);
            } else {
                double acc = 0;
                g.forReduced(base, [&](int64_t off) {
                    double v = static_cast<double>(load(X[off]));
                    if constexpr (Op == NormOp::L1) acc += std::abs(v);
                    else if constexpr (Op == NormOp::LogSum) acc += v;
                    else acc += v * v;
                });
                double r = acc;
                if constexpr (Op == NormOp::L2) r = std::sqrt(acc);
                else if constexpr (Op == NormOp::LogSum) r = std::log(acc);
                Y[o] = fromDouble<T>(r);
            }
        }
    });
}

template <NormOp Op>
class NormReduceKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_fromAttr = ctx.opset() < 18;
        m_keepDims = ctx.node().attrInt("keepdims", 1) != 0;
        m_noopEmpty = ctx.node().attrInt("noop_with_empty_axes", 0) != 0;
        if (m_fromAttr) m_attrAxes = ctx.node().attrInts("axes");
        else m_dataDependent = ctx.hasInput(1) && !ctx.constantInput(1);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (m_fromAttr) m_axes.assign(m_attrAxes.begin(), m_attrAxes.end());
        else if (ctx.hasInput(1)) {
            if (!isIndexType(ctx.input(1).dtype())) return ctx.error(StatusCode::InvalidInput, "axes must be int64");
            readInts(ctx.input(1), m_axes);
        } else m_axes.clear();
        std::string why;
        if (!makeReduceAxes(x.dims(), m_axes, m_keepDims, m_noopEmpty, m_geom, m_dims, why))
            return ctx.error(StatusCode::InvalidInput, why);
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const ReduceAxes& g, const void* X, void* Y, ThreadPool& p) {
                normRun<Op, T>(g, static_cast<const T*>(X), static_cast<T*>(Y), p);
            };
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override { m_fn(m_geom, ctx.input(0).raw(), ctx.output(0).raw(), ctx.pool()); }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_fromAttr = false, m_keepDims = true, m_noopEmpty = false, m_dataDependent = false;
    std::vector<int64_t> m_attrAxes, m_axes, m_dims;
    ReduceAxes m_geom;
    void (*m_fn)(const ReduceAxes&, const void*, void*, ThreadPool&) = nullptr;
};

/// ArgMax/ArgMin along one axis. Ties resolve to the first index, or the last one with
/// select_last_index; NaN never wins a comparison (so it is skipped unless it comes first).
template <bool Max>
class ArgKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 0);
        m_keepDims = ctx.node().attrInt("keepdims", 1) != 0;
        m_last = ctx.node().attrInt("select_last_index", 0) != 0;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t r = static_cast<int64_t>(x.rank()), axis = m_axis;
        if (!normalizeAxis(axis, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        if (x.dims()[axis] == 0) return ctx.error(StatusCode::InvalidInput, "cannot select over an empty axis");
        m_geom.make(x.dims(), axis);
        m_dims = x.dims();
        if (m_keepDims) m_dims[axis] = 1;
        else m_dims.erase(m_dims.begin() + axis);
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const AxisGeom& g, bool last, const void* Xv, int64_t* Y, ThreadPool& pool) {
                const T* X = static_cast<const T*>(Xv);
                pool.parallelFor(0, g.outer * g.inner, 256, [&](int64_t b, int64_t e) {
                    for (int64_t o = b; o < e; ++o) {
                        const int64_t oi = o / g.inner, ii = o % g.inner;
                        const T* p = X + oi * g.len * g.inner + ii;
                        auto best = load(p[0]);
                        int64_t bi = 0;
                        for (int64_t k = 1; k < g.len; ++k) {
                            auto v = load(p[k * g.inner]);
                            bool better = Max ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
                            if (better) {
                                best = v;
                                bi = k;
                            }
                        }
                        Y[o] = bi;
                    }
                });
            };
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, DataType::Int64, m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(m_geom, m_last, ctx.input(0).raw(), ctx.output(0).data<int64_t>(), ctx.pool());
    }

private:
    int64_t m_axis = 0;
    bool m_keepDims = true, m_last = false;
    AxisGeom m_geom;
    std::vector<int64_t> m_dims;
    void (*m_fn)(const AxisGeom&, bool, const void*, int64_t*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

using cpu::NormOp;
std::unique_ptr<Kernel> makeReduceL1() { return std::make_unique<cpu::NormReduceKernel<NormOp::L1>>(); }
std::unique_ptr<Kernel> makeReduceL2() { return std::make_unique<cpu::NormReduceKernel<NormOp::L2>>(); }
std::unique_ptr<Kernel> makeReduceLogSum() { return std::make_unique<cpu::NormReduceKernel<NormOp::LogSum>>(); }
std::unique_ptr<Kernel> makeReduceLogSumExp() { return std::make_unique<cpu::NormReduceKernel<NormOp::LogSumExp>>(); }
std::unique_ptr<Kernel> makeReduceSumSquare() { return std::make_unique<cpu::NormReduceKernel<NormOp::SumSquare>>(); }
std::unique_ptr<Kernel> makeArgMax() { return std::make_unique<cpu::ArgKernel<true>>(); }
std::unique_ptr<Kernel> makeArgMin() { return std::make_unique<cpu::ArgKernel<false>>(); }

} // namespace ew::rt
