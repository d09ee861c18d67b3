// CumSum / CumProd (exclusive, reverse) and TopK (largest, sorted; ties go to the lower index).
// Scans use the output row as the running accumulator in the element's compute type (float for
// float16), as a sequential loop in that type would. Work is split over independent lines, so the
// result does not depend on the thread count.
#include "index_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

template <bool Prod>
class CumKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_exclusive = ctx.node().attrInt("exclusive", 0) != 0;
        m_reverse = ctx.node().attrInt("reverse", 0) != 0;
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& a = ctx.input(1);
        if (!isIndexType(a.dtype()) || a.numElements() != 1)
            return ctx.error(StatusCode::InvalidInput, "axis must be a scalar int32/int64 tensor");
        int64_t axis = indexAt(a, 0);
        if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
            return ctx.error(StatusCode::InvalidInput, "axis " + std::to_string(indexAt(a, 0)) + " out of range");
        m_geom.make(x.dims(), axis);
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = &scan<T>;
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(m_geom, m_exclusive, m_reverse, ctx.input(0).raw(), ctx.output(0).raw(), ctx.pool());
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    /// Lines are [outer][inner-block]: each task scans `len` rows of up to kBlock columns.
    template <typename T>
    static void scan(const AxisGeom& g, bool exclusive, bool reverse, const void* Xv, void* Yv, ThreadPool& pool) {
        using C = Compute<T>;
        constexpr int64_t kBlock = 256;
        const T* X = static_cast<const T*>(Xv);
        T* Y = static_cast<T*>(Yv);
        const int64_t blocks = (g.inner + kBlock - 1) / kBlock;
        pool.parallelFor(0, g.outer * blocks, chunkRows(g.len * std::min(g.inner, kBlock)), [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; ++t) {
                const int64_t o = t / blocks, c0 = (t % blocks) * kBlock, c1 = std::min(g.inner, c0 + kBlock);
                const T* x = X + o * g.len * g.inner;
                T* y = Y + o * g.len * g.inner;
                for (int64_t s = 0; s < g.len; ++s) {
                    const int64_t k = reverse ? g.len - 1 - s : s;
                    const int64_t prev = reverse ? k + 1 : k - 1; // the row scanned just before
                    T* yr = y + k * g.inner;
                    if (s == 0) {
                        for (int64_t c = c0; c < c1; ++c)
                            yr[c] = exclusive ? store<T>(C(Prod ? 1 : 0)) : x[k * g.inner + c];
                        continue;
                    }
                    const T* yp = y + prev * g.inner;
                    const T* xr = x + (exclusive ? prev : k) * g.inner;
                    for (int64_t c = c0; c < c1; ++c) {
                        C v = Prod ? static_cast<C>(load(yp[c]) * load(xr[c])) : static_cast<C>(load(yp[c]) + load(xr[c]));
                        yr[c] = store<T>(v);
                    }
                }
            }
        });
    }

    bool m_exclusive = false, m_reverse = false, m_dataDependent = false;
    AxisGeom m_geom;
    void (*m_fn)(const AxisGeom&, bool, bool, const void*, void*, ThreadPool&) = nullptr;
};

/// Total order for TopK: NaN ranks above every number (as in ONNX Runtime), equal values rank by
/// index so that ties go to the lower index whichever direction is asked for.
template <typename C>
struct TopKLess {
    static bool greater(C a, C b) {
        if constexpr (std::is_floating_point_v<C>) {
            if (std::isnan(a)) return !std::isnan(b);
            if (std::isnan(b)) return false;
        }
        return a > b;
    }
};

class TopKKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", -1);
        m_largest = ctx.node().attrInt("largest", 1) != 0;
        // sorted=0 leaves the order unspecified; the output is sorted either way.
        m_kFromInput = ctx.opset() >= 10;
        if (!m_kFromInput) {
            if (!ctx.node().hasAttr("k")) return ctx.error(StatusCode::InvalidInput, "missing 'k'");
            m_attrK = ctx.node().attrInt("k", 0);
        } else {
            if (!ctx.hasInput(1)) return ctx.error(StatusCode::InvalidInput, "missing input K");
            m_dataDependent = ctx.constantInput(1) == nullptr;
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t r = static_cast<int64_t>(x.rank()), axis = m_axis;
        if (!normalizeAxis(axis, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        int64_t k = m_attrK;
        if (m_kFromInput) {
            const Tensor& kt = ctx.input(1);
            if (!isIndexType(kt.dtype()) || kt.numElements() != 1)
                return ctx.error(StatusCode::InvalidInput, "K must be a 1-element int64 tensor");
            k = indexAt(kt, 0);
        }
        if (k < 0 || k > x.dims()[axis])
            return ctx.error(StatusCode::InvalidInput, "k=" + std::to_string(k) + " outside [0, " +
                                                           std::to_string(x.dims()[axis]) + "]");
        m_k = k;
        m_geom.make(x.dims(), axis);
        m_dims = x.dims();
        m_dims[axis] = k;
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = &select<T>;
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        m_parts = std::max(1, ctx.threads());
        ctx.setScratchBytes(static_cast<std::size_t>(m_parts) * static_cast<std::size_t>(m_geom.len) * kEntryBytes);
        ctx.setOutput(0, x.dtype(), m_dims);
        ctx.setOutput(1, DataType::Int64, m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(*this, ctx.input(0).raw(), ctx.hasOutput(0) ? ctx.output(0).raw() : nullptr,
             ctx.hasOutput(1) ? ctx.output(1).data<int64_t>() : nullptr, ctx.scratch(), ctx.pool());
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    static constexpr std::size_t kEntryBytes = 16; // a (value, index) pair, value at most 8 bytes

    /// One part per thread, each with its own slice of scratch; every line is computed wholly by
    /// one part, so the partition does not change the result.
    template <typename T>
    static void select(const TopKKernel& kn, const void* Xv, void* Vv, int64_t* I, std::byte* scratch, ThreadPool& pool) {
        using C = Compute<T>;
        using Entry = std::pair<C, int64_t>;
        static_assert(sizeof(Entry) <= kEntryBytes);
        const AxisGeom& g = kn.m_geom;
        const int64_t k = kn.m_k, lines = g.outer * g.inner, parts = kn.m_parts;
        const bool largest = kn.m_largest;
        const T* X = static_cast<const T*>(Xv);
        T* V = static_cast<T*>(Vv);
        if (k == 0) return;
        pool.parallelFor(0, parts, 1, [&](int64_t pb, int64_t pe) {
            for (int64_t p = pb; p < pe; ++p) {
                Entry* buf = reinterpret_cast<Entry*>(scratch + static_cast<std::size_t>(p * g.len) * kEntryBytes);
                const int64_t l0 = lines * p / parts, l1 = lines * (p + 1) / parts;
                for (int64_t line = l0; line < l1; ++line) {
                    const int64_t o = line / g.inner, ii = line % g.inner;
                    const T* x = X + o * g.len * g.inner + ii;
                    for (int64_t j = 0; j < g.len; ++j) buf[j] = Entry(load(x[j * g.inner]), j);
                    auto before = [largest](const Entry& a, const Entry& b) {
                        if (largest ? TopKLess<C>::greater(a.first, b.first) : TopKLess<C>::greater(b.first, a.first))
                            return true;
                        if (largest ? TopKLess<C>::greater(b.first, a.first) : TopKLess<C>::greater(a.first, b.first))
                            return false;
                        return a.second < b.second;
                    };
                    std::partial_sort(buf, buf + k, buf + g.len, before);
                    const int64_t ob = o * k * g.inner + ii;
                    for (int64_t j = 0; j < k; ++j) {
                        if (V) V[ob + j * g.inner] = store<T>(buf[j].first);
                        if (I) I[ob + j * g.inner] = buf[j].second;
                    }
                }
            }
        });
    }

    int64_t m_axis = -1, m_attrK = 0, m_k = 0;
    bool m_largest = true, m_kFromInput = true, m_dataDependent = false;
    int m_parts = 1;
    AxisGeom m_geom;
    std::vector<int64_t> m_dims;
    void (*m_fn)(const TopKKernel&, const void*, void*, int64_t*, std::byte*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeCumSum() { return std::make_unique<cpu::CumKernel<false>>(); }
std::unique_ptr<Kernel> makeCumProd() { return std::make_unique<cpu::CumKernel<true>>(); }
std::unique_ptr<Kernel> makeTopK() { return std::make_unique<cpu::TopKKernel>(); }

} // namespace ew::rt
