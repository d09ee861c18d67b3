// Ops that generate or select elements: Range, OneHot, EyeLike, Trilu, NonZero, Compress, Unique.
// Range, NonZero, Compress and Unique have value-dependent output shapes: prepare() reads the
// values (the session re-prepares them before every run unless the inputs are constant). Unique
// computes its whole answer in prepare() into member buffers whose capacity is kept between runs;
// run() only copies it out.
#include "index_util.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ew::rt {
namespace cpu {
namespace {

std::unexpected<Status> unsupportedType(const PrepareContext& ctx, DataType t) {
    return ctx.error(StatusCode::Unsupported, "type " + typeName(t) + " is not supported");
}

class RangeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_dataDependent = !(ctx.constantInput(0) && ctx.constantInput(1) && ctx.constantInput(2));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& s = ctx.input(0);
        DataType t = s.dtype();
        for (int i = 0; i < 3; ++i)
            if (ctx.input(i).dtype() != t || ctx.input(i).numElements() != 1)
                return ctx.error(StatusCode::InvalidInput, "start, limit and delta must be scalars of one type");
        m_count = -1;
        dispatch<float, double, Half, int16_t, int32_t, int64_t>(t, [&](auto tag) {
            using T = typename decltype(tag)::type;
            using C = Compute<T>;
            C start = load(ctx.input(0).data<T>()[0]), limit = load(ctx.input(1).data<T>()[0]),
              delta = load(ctx.input(2).data<T>()[0]);
            if (delta == C(0)) {
                m_count = -2;
                return;
            }
            double n;
            if constexpr (std::is_integral_v<C>) {
                // Exact ceil((limit - start) / delta) in integers.
                int64_t num = static_cast<int64_t>(limit) - static_cast<int64_t>(start), d = static_cast<int64_t>(delta);
                int64_t q = num / d;
                if (q * d != num && ((num > 0) == (d > 0))) ++q;
                n = static_cast<double>(q);
            } else {
                n = std::ceil(static_cast<double>(limit - start) / static_cast<double>(delta));
                if (std::isnan(n)) n = -1;
            }
            m_count = n > 0 ? static_cast<int64_t>(std::min(n, 9.0e15)) : 0;
            m_fn = [](const Tensor& st, const Tensor& dt, void* out, int64_t count) {
                C s0 = load(st.data<T>()[0]), d0 = load(dt.data<T>()[0]);
                T* y = static_cast<T*>(out);
                for (int64_t i = 0; i < count; ++i) y[i] = store<T>(static_cast<C>(s0 + static_cast<C>(i) * d0));
            };
        });
        if (m_count == -1) return unsupportedType(ctx, t);
        if (m_count == -2) return ctx.error(StatusCode::InvalidInput, "delta is zero");
        if (m_count > (int64_t(1) << 40)) return ctx.error(StatusCode::InvalidInput, "range is too long");
        ctx.setOutput(0, t, {m_count});
        return {};
    }
    void run(RunContext& ctx) override { m_fn(ctx.input(0), ctx.input(2), ctx.output(0).raw(), m_count); }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_dataDependent = false;
    int64_t m_count = 0;
    void (*m_fn)(const Tensor&, const Tensor&, void*, int64_t) = nullptr;
};

class OneHotKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", -1);
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& idx = ctx.input(0);
        const Tensor& depth = ctx.input(1);
        const Tensor& values = ctx.input(2);
        if (depth.numElements() != 1) return ctx.error(StatusCode::InvalidInput, "depth must be a scalar");
        if (values.numElements() != 2) return ctx.error(StatusCode::InvalidInput, "values must hold [off, on]");
        if (!isMovable(values.dtype())) return unsupportedType(ctx, values.dtype());
        bool idxOk = false;
        dispatch<EW_NUMERIC_TYPES>(idx.dtype(), [&](auto) { idxOk = true; });
        if (!idxOk) return unsupportedType(ctx, idx.dtype());
        double dv = depth.doubleAt(0);
        if (!(dv >= 1) || dv > 1e12) return ctx.error(StatusCode::InvalidInput, "depth must be at least 1");
        m_depth = static_cast<int64_t>(dv);
        int64_t r = static_cast<int64_t>(idx.rank()) + 1, axis = m_axis;
        if (!normalizeAxis(axis, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        std::span<const int64_t> d(idx.dims());
        m_outer = numElementsOf(d.first(axis));
        m_inner = numElementsOf(d.subspan(axis));
        m_dims.assign(d.begin(), d.end());
        m_dims.insert(m_dims.begin() + axis, m_depth);
        ctx.setOutput(0, values.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        switch (elementSize(ctx.input(2).dtype())) {
        case 1: fill<uint8_t>(ctx); break;
        case 2: fill<uint16_t>(ctx); break;
        case 4: fill<uint32_t>(ctx); break;
        default: fill<uint64_t>(ctx); break;
        }
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    template <typename W>
    void fill(RunContext& ctx) {
        const Tensor& idx = ctx.input(0);
        const W off = ctx.input(2).data<W>()[0], on = ctx.input(2).data<W>()[1];
        W* y = ctx.output(0).data<W>();
        const int64_t depth = m_depth, inner = m_inner;
        std::fill(y, y + m_outer * depth * inner, off);
        for (int64_t o = 0; o < m_outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
                // Fractional indices truncate; negative ones count from the end; others stay off.
                double v = idx.doubleAt(o * inner + i);
                if (!(v > -static_cast<double>(depth) - 1 && v < static_cast<double>(depth))) continue;
                int64_t k = static_cast<int64_t>(v);
                if (k < 0) k += depth;
                if (k >= 0 && k < depth) y[(o * depth + k) * inner + i] = on;
            }
    }

    int64_t m_axis = -1, m_depth = 0, m_outer = 0, m_inner = 0;
    bool m_dataDependent = false;
    std::vector<int64_t> m_dims;
};

class EyeLikeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_k = ctx.node().attrInt("k", 0);
        if (ctx.node().hasAttr("dtype")) m_dtype = static_cast<DataType>(ctx.node().attrInt("dtype", 0));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() != 2) return ctx.error(StatusCode::InvalidInput, "input must be 2-D, got " + dimsText(x.dims()));
        DataType t = m_dtype == DataType::Undefined ? x.dtype() : m_dtype;
        m_one = nullptr;
        dispatch<EW_ALL_TYPES>(t, [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_one = [](void* p) { *static_cast<T*>(p) = store<T>(Compute<T>(1)); };
        });
        if (!m_one) return unsupportedType(ctx, t);
        ctx.setOutput(0, t, x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        Tensor& y = ctx.output(0);
        std::memset(y.raw(), 0, y.byteSize());
        const int64_t rows = y.dims()[0], cols = y.dims()[1];
        const std::size_t w = elementSize(y.dtype());
        for (int64_t i = std::max<int64_t>(0, -m_k); i < rows && i + m_k < cols; ++i)
            m_one(y.raw() + static_cast<std::size_t>(i * cols + i + m_k) * w);
    }

private:
    int64_t m_k = 0;
    DataType m_dtype = DataType::Undefined;
    void (*m_one)(void*) = nullptr;
};

class TriluKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_upper = ctx.node().attrInt("upper", 1) != 0;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 2) return ctx.error(StatusCode::InvalidInput, "input must have rank >= 2");
        if (!isMovable(x.dtype())) return unsupportedType(ctx, x.dtype());
        if (ctx.hasInput(1) && (!isIndexType(ctx.input(1).dtype()) || ctx.input(1).numElements() != 1))
            return ctx.error(StatusCode::InvalidInput, "k must be an int64 scalar");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        // k is read here: any value is valid, so it needs no checking in prepare().
        const int64_t k = ctx.hasInput(1) ? indexAt(ctx.input(1), 0) : 0;
        const Tensor& x = ctx.input(0);
        Tensor& y = ctx.output(0);
        const std::size_t w = elementSize(x.dtype());
        const int64_t rows = x.dims()[x.rank() - 2], cols = x.dims()[x.rank() - 1];
        const int64_t mats = rows * cols != 0 ? x.numElements() / (rows * cols) : 0;
        ctx.pool().parallelFor(0, mats * rows, chunkRows(cols), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                const int64_t i = r % rows;
                // Kept columns: j - i >= k (upper) or j - i <= k (lower).
                int64_t keep0 = m_upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
                int64_t keep1 = m_upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
                std::byte* yr = y.raw() + static_cast<std::size_t>(r * cols) * w;
                const std::byte* xr = x.raw() + static_cast<std::size_t>(r * cols) * w;
                std::memset(yr, 0, static_cast<std::size_t>(keep0) * w);
                copyBytes(yr + keep0 * w, xr + keep0 * w, static_cast<std::size_t>(keep1 - keep0) * w);
                std::memset(yr + keep1 * w, 0, static_cast<std::size_t>(cols - keep1) * w);
            }
        });
    }
    int inPlaceInput() const override { return 0; }

private:
    bool m_upper = true;
};

/// Nonzero test for any supported element type (float16 -0 is zero).
template <typename T>
inline bool nonZero(T v) {
    if constexpr (std::is_same_v<T, Half>) return (v.bits & 0x7fff) != 0;
    else return v != T(0);
}

class NonZeroKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() > kMaxRank) return ctx.error(StatusCode::Unsupported, "rank too large");
        m_count = -1;
        dispatch<EW_ALL_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* p = x.data<T>();
            int64_t n = 0;
            for (int64_t i = 0; i < x.numElements(); ++i) n += nonZero(p[i]);
            m_count = n;
            m_fn = [](const Tensor& xt, int64_t* y, int64_t count) {
                const T* q = xt.data<T>();
                const std::vector<int64_t>& dims = xt.dims();
                const int r = static_cast<int>(dims.size());
                int64_t coord[kMaxRank] = {};
                int64_t col = 0;
                for (int64_t i = 0; i < xt.numElements(); ++i) {
                    if (nonZero(q[i])) {
                        for (int d = 0; d < r; ++d) y[d * count + col] = coord[d];
                        ++col;
                    }
                    for (int d = r - 1; d >= 0; --d) {
                        if (++coord[d] < dims[d]) break;
                        coord[d] = 0;
                    }
                }
            };
        });
        if (m_count < 0) return unsupportedType(ctx, x.dtype());
        ctx.setOutput(0, DataType::Int64, {static_cast<int64_t>(x.rank()), m_count});
        return {};
    }
    void run(RunContext& ctx) override { m_fn(ctx.input(0), ctx.output(0).data<int64_t>(), m_count); }
    bool dataDependentShapes() const override { return true; }

private:
    int64_t m_count = 0;
    void (*m_fn)(const Tensor&, int64_t*, int64_t) = nullptr;
};

class CompressKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_hasAxis = ctx.node().hasAttr("axis");
        m_axis = ctx.node().attrInt("axis", 0);
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& c = ctx.input(1);
        if (!isMovable(x.dtype())) return unsupportedType(ctx, x.dtype());
        if (c.dtype() != DataType::Bool || c.rank() != 1)
            return ctx.error(StatusCode::InvalidInput, "condition must be a 1-D bool tensor");
        int64_t axis = m_axis;
        if (m_hasAxis) {
            if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
                return ctx.error(StatusCode::InvalidInput, "axis out of range");
            m_geom.make(x.dims(), axis);
        } else {
            m_geom = AxisGeom{};
            m_geom.len = x.numElements();
        }
        if (c.numElements() > m_geom.len)
            return ctx.error(StatusCode::InvalidInput, "condition has " + std::to_string(c.numElements()) +
                                                           " entries for " + std::to_string(m_geom.len) + " slices");
        int64_t kept = 0;
        for (int64_t i = 0; i < c.numElements(); ++i) kept += c.data<uint8_t>()[i] != 0;
        if (m_hasAxis) {
            m_dims = x.dims();
            m_dims[static_cast<std::size_t>(axis)] = kept;
        } else {
            m_dims.assign(1, kept);
        }
        m_kept = kept;
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& c = ctx.input(1);
        const uint8_t* cond = c.data<uint8_t>();
        const std::size_t sliceBytes = static_cast<std::size_t>(m_geom.inner) * elementSize(ctx.input(0).dtype());
        const std::byte* x = ctx.input(0).raw();
        std::byte* y = ctx.output(0).raw();
        for (int64_t o = 0; o < m_geom.outer; ++o) {
            int64_t j = 0;
            for (int64_t i = 0; i < c.numElements(); ++i) {
                if (!cond[i]) continue;
                std::memcpy(y + (o * m_kept + j) * sliceBytes, x + (o * m_geom.len + i) * sliceBytes, sliceBytes);
                ++j;
            }
        }
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_hasAxis = false, m_dataDependent = false;
    int64_t m_axis = 0, m_kept = 0;
    AxisGeom m_geom;
    std::vector<int64_t> m_dims;
};

/// Unique over elements (no axis: the flattened input) or over slices along an axis. Slices are
/// ordered lexicographically (NaN equal to NaN and above every number), ties by position, so the
/// first occurrence leads each group of equal slices.
class UniqueKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_hasAxis = ctx.node().hasAttr("axis");
        m_axis = ctx.node().attrInt("axis", 0);
        m_sorted = ctx.node().attrInt("sorted", 1) != 0;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t axis = 0;
        if (m_hasAxis) {
            axis = m_axis;
            if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
                return ctx.error(StatusCode::InvalidInput, "axis out of range");
            m_geom.make(x.dims(), axis);
        } else {
            m_geom = AxisGeom{};
            m_geom.len = x.numElements();
        }
        bool ok = dispatch<EW_ALL_TYPES>(x.dtype(), [&](auto tag) { group<typename decltype(tag)::type>(x); });
        if (!ok) return unsupportedType(ctx, x.dtype());
        const int64_t u = static_cast<int64_t>(m_first.size());
        if (m_hasAxis) {
            m_dims = x.dims();
            m_dims[static_cast<std::size_t>(axis)] = u;
        } else {
            m_dims.assign(1, u);
        }
        ctx.setOutput(0, x.dtype(), m_dims);
        ctx.setOutput(1, DataType::Int64, {u});
        ctx.setOutput(2, DataType::Int64, {m_geom.len});
        ctx.setOutput(3, DataType::Int64, {u});
        return {};
    }
    void run(RunContext& ctx) override {
        const int64_t u = static_cast<int64_t>(m_first.size());
        if (ctx.hasOutput(0)) {
            const std::size_t sliceBytes = static_cast<std::size_t>(m_geom.inner) * elementSize(ctx.input(0).dtype());
            const std::byte* x = ctx.input(0).raw();
            std::byte* y = ctx.output(0).raw();
            for (int64_t o = 0; o < m_geom.outer; ++o)
                for (int64_t g = 0; g < u; ++g)
                    if (sliceBytes)
                        std::memcpy(y + (o * u + g) * sliceBytes, x + (o * m_geom.len + m_first[g]) * sliceBytes, sliceBytes);
        }
        if (ctx.hasOutput(1)) std::copy(m_first.begin(), m_first.end(), ctx.output(1).data<int64_t>());
        if (ctx.hasOutput(2)) std::copy(m_inverse.begin(), m_inverse.end(), ctx.output(2).data<int64_t>());
        if (ctx.hasOutput(3)) std::copy(m_counts.begin(), m_counts.end(), ctx.output(3).data<int64_t>());
    }
    bool dataDependentShapes() const override { return true; }

private:
    /// Fills m_first (first occurrence of each unique slice, in output order), m_counts and
    /// m_inverse (output position of every input slice).
    template <typename T>
    void group(const Tensor& x) {
        const T* p = x.data<T>();
        const AxisGeom g = m_geom;
        // -1, 0, 1 comparing slices a and b element by element.
        auto cmp = [&](int64_t a, int64_t b) {
            for (int64_t o = 0; o < g.outer; ++o) {
                const T* sa = p + (o * g.len + a) * g.inner;
                const T* sb = p + (o * g.len + b) * g.inner;
                for (int64_t i = 0; i < g.inner; ++i) {
                    auto va = load(sa[i]), vb = load(sb[i]);
                    if constexpr (std::is_floating_point_v<decltype(va)>) {
                        bool na = std::isnan(va), nb = std::isnan(vb);
                        if (na || nb) {
                            if (na && nb) continue;
                            return na ? 1 : -1;
                        }
                    }
                    if (va < vb) return -1;
                    if (vb < va) return 1;
                }
            }
            return 0;
        };
        m_order.resize(static_cast<std::size_t>(g.len));
        std::iota(m_order.begin(), m_order.end(), int64_t(0));
        // Ties broken by position (not std::stable_sort, whose temporary buffer would allocate).
        std::sort(m_order.begin(), m_order.end(), [&](int64_t a, int64_t b) {
            int c = cmp(a, b);
            return c != 0 ? c < 0 : a < b;
        });
        m_first.clear();
        m_counts.clear();
        m_inverse.resize(static_cast<std::size_t>(g.len));
        for (std::size_t i = 0; i < m_order.size(); ++i) {
            if (i == 0 || cmp(m_order[i - 1], m_order[i]) != 0) {
                m_first.push_back(m_order[i]);
                m_counts.push_back(0);
            }
            m_counts.back()++;
            m_inverse[static_cast<std::size_t>(m_order[i])] = static_cast<int64_t>(m_first.size()) - 1;
        }
        if (!m_sorted) {
            // Order groups by first occurrence: rank[g] = position of group g.
            const std::size_t u = m_first.size();
            m_order.resize(u);
            std::iota(m_order.begin(), m_order.end(), int64_t(0));
            std::sort(m_order.begin(), m_order.end(), [&](int64_t a, int64_t b) { return m_first[a] < m_first[b]; });
            m_rank.resize(u);
            for (std::size_t i = 0; i < u; ++i) m_rank[static_cast<std::size_t>(m_order[i])] = static_cast<int64_t>(i);
            m_tmp.resize(u);
            for (std::size_t i = 0; i < u; ++i) m_tmp[i] = m_first[static_cast<std::size_t>(m_order[i])];
            std::swap(m_tmp, m_first);
            for (std::size_t i = 0; i < u; ++i) m_tmp[i] = m_counts[static_cast<std::size_t>(m_order[i])];
            std::swap(m_tmp, m_counts);
            for (int64_t& v : m_inverse) v = m_rank[static_cast<std::size_t>(v)];
        }
    }

    bool m_hasAxis = false, m_sorted = true;
    int64_t m_axis = 0;
    AxisGeom m_geom;
    std::vector<int64_t> m_dims, m_order, m_first, m_counts, m_inverse, m_rank, m_tmp;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeRange() { return std::make_unique<cpu::RangeKernel>(); }
std::unique_ptr<Kernel> makeOneHot() { return std::make_unique<cpu::OneHotKernel>(); }
std::unique_ptr<Kernel> makeEyeLike() { return std::make_unique<cpu::EyeLikeKernel>(); }
std::unique_ptr<Kernel> makeTrilu() { return std::make_unique<cpu::TriluKernel>(); }
std::unique_ptr<Kernel> makeNonZero() { return std::make_unique<cpu::NonZeroKernel>(); }
std::unique_ptr<Kernel> makeCompress() { return std::make_unique<cpu::CompressKernel>(); }
std::unique_ptr<Kernel> makeUnique() { return std::make_unique<cpu::UniqueKernel>(); }

} // namespace ew::rt
