// GatherElements, GatherND (batch_dims), ScatterElements / Scatter (reduction none, add, mul,
// max, min), ScatterND (same reductions) and TensorScatter (linear / circular KV-cache update).
// Negative indices count from the end where ONNX allows them. Index values are checked in
// prepare() (see index_util.h), so run() only ever touches in-range elements.
// Scatters copy data to the output (skipped when the planner lets them work in place), then apply
// the updates in index order: ScatterElements lines along the axis touch disjoint outputs and run
// in parallel; ScatterND tuples may collide anywhere and are applied one after another.
#include "index_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

enum class Reduction { None, Add, Mul, Max, Min };

Result<Reduction> readReduction(const ir::Node& node, int64_t opset, const InitContext& ctx) {
    std::string r = node.attrString("reduction", "none");
    if (r == "none") return Reduction::None;
    if (opset >= 16 && r == "add") return Reduction::Add;
    if (opset >= 16 && r == "mul") return Reduction::Mul;
    if (opset >= 18 && r == "max") return Reduction::Max;
    if (opset >= 18 && r == "min") return Reduction::Min;
    return ctx.error(StatusCode::InvalidInput, "reduction '" + r + "' is not valid at opset " + std::to_string(opset));
}

template <Reduction R, typename T>
inline void combine(T& dst, T src) {
    if constexpr (R == Reduction::None) {
        dst = src;
    } else {
        using C = Compute<T>;
        C a = load(dst), b = load(src);
        C v;
        if constexpr (R == Reduction::Add) v = static_cast<C>(a + b);
        else if constexpr (R == Reduction::Mul) v = static_cast<C>(a * b);
        else if constexpr (R == Reduction::Max) v = b > a ? b : a;
        else v = b < a ? b : a;
        dst = store<T>(v);
    }
}

/// Calls f(TypeTag<T>) for the element type a reduction may use: any 1/2/4/8-byte type moved as
/// raw bits for None, the numeric types otherwise (bool also for None).
template <typename F>
bool dispatchScatter(DataType t, Reduction r, F&& f) {
    if (r == Reduction::None) {
        switch (elementSize(t)) {
        case 1: f(TypeTag<uint8_t>{}); return true;
        case 2: f(TypeTag<uint16_t>{}); return true;
        case 4: f(TypeTag<uint32_t>{}); return true;
        case 8: f(TypeTag<uint64_t>{}); return true;
        default: return false;
        }
    }
    return dispatch<EW_NUMERIC_TYPES>(t, f);
}

/// First element of `idx` outside [-n, n) (every element of `idx` checked against `n`); -1 if none.
int64_t firstBadIndex(const Tensor& idx, int64_t n) {
    for (int64_t i = 0; i < idx.numElements(); ++i)
        if (wrapIndex(indexAt(idx, i), n) < 0) return i;
    return -1;
}

VoidResult badIndex(const PrepareContext& ctx, const Tensor& idx, int64_t at, int64_t n) {
    return ctx.error(StatusCode::InvalidInput, "index " + std::to_string(indexAt(idx, at)) + " (element " +
                                                   std::to_string(at) + ") is outside [" + std::to_string(-n) +
                                                   ", " + std::to_string(n - 1) + "]");
}

// ---------------------------------------------------------------------------------------------
// GatherElements / ScatterElements / Scatter: per-element indices along one axis.

/// Indices (and updates / output for gathers) of shape `idxDims` against data of `dataDims`:
/// line l is every index position sharing the coordinates off the axis; it walks `len` steps.
struct ElementsGeom {
    int rank = 0, axis = 0;
    int64_t idxDims[kMaxRank] = {}, idxStrides[kMaxRank] = {}, dataStrides[kMaxRank] = {};
    int64_t lines = 0, len = 0, axisLen = 0;

    /// False when shapes are incompatible (indices larger than data off the axis).
    bool make(std::span<const int64_t> dataDims, std::span<const int64_t> idx, int64_t ax) {
        rank = static_cast<int>(idx.size());
        if (rank > kMaxRank || idx.size() != dataDims.size()) return false;
        axis = static_cast<int>(ax);
        int64_t si = 1, sd = 1;
        for (int d = rank - 1; d >= 0; --d) {
            if (d != axis && idx[d] > dataDims[d]) return false;
            idxDims[d] = idx[d];
            idxStrides[d] = si;
            dataStrides[d] = sd;
            si *= idx[d];
            sd *= dataDims[d];
        }
        len = idx[axis];
        axisLen = dataDims[axis];
        lines = len ? numElementsOf(idx) / len : 0;
        return true;
    }
    /// Offsets of line l's first element in the indices and in data (axis coordinate 0).
    void lineBase(int64_t l, int64_t& ib, int64_t& db) const {
        ib = db = 0;
        for (int d = rank - 1; d >= 0; --d) {
            if (d == axis) continue;
            int64_t c = l % idxDims[d];
            l /= idxDims[d];
            ib += c * idxStrides[d];
            db += c * dataStrides[d];
        }
    }
};

class GatherElementsKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 0);
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        if (!isMovable(x.dtype())) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        if (!isIndexType(idx.dtype())) return ctx.error(StatusCode::InvalidInput, "indices must be int32 or int64");
        int64_t axis = m_axis;
        if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
            return ctx.error(StatusCode::InvalidInput, "axis out of range");
        if (!m_geom.make(x.dims(), idx.dims(), axis))
            return ctx.error(StatusCode::InvalidInput, "indices " + dimsText(idx.dims()) + " do not fit data " + dimsText(x.dims()));
        if (int64_t bad = firstBadIndex(idx, m_geom.axisLen); bad >= 0) return badIndex(ctx, idx, bad, m_geom.axisLen);
        ctx.setOutput(0, x.dtype(), idx.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& idx = ctx.input(1);
        switch (elementSize(ctx.input(0).dtype())) {
        case 1: gather<uint8_t>(ctx, idx); break;
        case 2: gather<uint16_t>(ctx, idx); break;
        case 4: gather<uint32_t>(ctx, idx); break;
        default: gather<uint64_t>(ctx, idx); break;
        }
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    template <typename W>
    void gather(RunContext& ctx, const Tensor& idx) {
        const W* X = ctx.input(0).data<W>();
        W* Y = ctx.output(0).data<W>();
        const ElementsGeom& g = m_geom;
        const int64_t is = g.idxStrides[g.axis], ds = g.dataStrides[g.axis];
        ctx.pool().parallelFor(0, g.lines, chunkRows(g.len), [&](int64_t b, int64_t e) {
            for (int64_t l = b; l < e; ++l) {
                int64_t ib, db;
                g.lineBase(l, ib, db);
                for (int64_t j = 0; j < g.len; ++j) {
                    int64_t k = wrapIndex(indexAt(idx, ib + j * is), g.axisLen);
                    Y[ib + j * is] = X[db + k * ds];
                }
            }
        });
    }

    int64_t m_axis = 0;
    bool m_dataDependent = false;
    ElementsGeom m_geom;
};

class ScatterElementsKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 0);
        if (ctx.node().opType == "ScatterElements") {
            EW_TRY_ASSIGN(m_red, readReduction(ctx.node(), ctx.opset(), ctx));
        }
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        const Tensor& upd = ctx.input(2);
        if (!isIndexType(idx.dtype())) return ctx.error(StatusCode::InvalidInput, "indices must be int32 or int64");
        if (upd.dtype() != x.dtype() || upd.dims() != idx.dims())
            return ctx.error(StatusCode::InvalidInput, "updates " + describe(upd.dtype(), upd.dims()) +
                                                           " must match the indices' shape and the data type");
        int64_t axis = m_axis;
        if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
            return ctx.error(StatusCode::InvalidInput, "axis out of range");
        if (!m_geom.make(x.dims(), idx.dims(), axis))
            return ctx.error(StatusCode::InvalidInput, "indices " + dimsText(idx.dims()) + " do not fit data " + dimsText(x.dims()));
        if (int64_t bad = firstBadIndex(idx, m_geom.axisLen); bad >= 0) return badIndex(ctx, idx, bad, m_geom.axisLen);
        m_fn = nullptr;
        dispatchScatter(x.dtype(), m_red, [&](auto tag) {
            using T = typename decltype(tag)::type;
            switch (m_red) {
            case Reduction::None: m_fn = &scatter<Reduction::None, T>; break;
            case Reduction::Add: m_fn = &scatter<Reduction::Add, T>; break;
            case Reduction::Mul: m_fn = &scatter<Reduction::Mul, T>; break;
            case Reduction::Max: m_fn = &scatter<Reduction::Max, T>; break;
            case Reduction::Min: m_fn = &scatter<Reduction::Min, T>; break;
            }
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        copyBytes(ctx.output(0).raw(), ctx.input(0).raw(), ctx.input(0).byteSize());
        m_fn(m_geom, ctx.input(1), ctx.input(2).raw(), ctx.output(0).raw(), ctx.pool());
    }
    int inPlaceInput() const override { return 0; }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    template <Reduction R, typename T>
    static void scatter(const ElementsGeom& g, const Tensor& idx, const std::byte* updv, std::byte* outv, ThreadPool& pool) {
        const T* U = reinterpret_cast<const T*>(updv);
        T* Y = reinterpret_cast<T*>(outv);
        const int64_t is = g.idxStrides[g.axis], ds = g.dataStrides[g.axis];
        pool.parallelFor(0, g.lines, chunkRows(g.len), [&](int64_t b, int64_t e) {
            for (int64_t l = b; l < e; ++l) {
                int64_t ib, db;
                g.lineBase(l, ib, db);
                for (int64_t j = 0; j < g.len; ++j) {
                    int64_t k = wrapIndex(indexAt(idx, ib + j * is), g.axisLen);
                    combine<R>(Y[db + k * ds], U[ib + j * is]);
                }
            }
        });
    }

    int64_t m_axis = 0;
    Reduction m_red = Reduction::None;
    bool m_dataDependent = false;
    ElementsGeom m_geom;
    void (*m_fn)(const ElementsGeom&, const Tensor&, const std::byte*, std::byte*, ThreadPool&) = nullptr;
};

// ---------------------------------------------------------------------------------------------
// GatherND / ScatterND: index tuples of length m address slices of data.

/// Tuples of `m` indices into data's dims [batchDims, batchDims + m); each addresses a slice of
/// `slice` elements. Tuple t belongs to batch t / tuplesPerBatch.
struct NdGeom {
    int64_t m = 0, batches = 1, tuplesPerBatch = 0, slice = 1, batchStride = 0;
    int64_t dims[kMaxRank] = {}, strides[kMaxRank] = {}; ///< of the m indexed data dims

    int64_t tuples() const { return batches * tuplesPerBatch; }
    /// Data offset of tuple t's slice (indices already validated).
    int64_t offsetOf(const Tensor& idx, int64_t t) const {
        int64_t off = (t / tuplesPerBatch) * batchStride;
        for (int64_t k = 0; k < m; ++k) off += wrapIndex(indexAt(idx, t * m + k), dims[k]) * strides[k];
        return off;
    }
};

/// Shared checks of GatherND and ScatterND; fills `g`.
VoidResult makeNd(const PrepareContext& ctx, const Tensor& x, const Tensor& idx, int64_t batchDims, NdGeom& g) {
    if (!isIndexType(idx.dtype())) return ctx.error(StatusCode::InvalidInput, "indices must be int32 or int64");
    const int64_t r = static_cast<int64_t>(x.rank()), q = static_cast<int64_t>(idx.rank());
    if (q < 1 || batchDims < 0 || batchDims >= std::min(r, q))
        return ctx.error(StatusCode::InvalidInput, "batch_dims " + std::to_string(batchDims) + " is invalid for data rank " +
                                                       std::to_string(r) + " and indices rank " + std::to_string(q));
    for (int64_t d = 0; d < batchDims; ++d)
        if (idx.dims()[d] != x.dims()[d])
            return ctx.error(StatusCode::InvalidInput, "batch dims of indices " + dimsText(idx.dims()) +
                                                           " and data " + dimsText(x.dims()) + " differ");
    const int64_t m = idx.dims()[q - 1];
    if (m < 0 || m > r - batchDims || m > kMaxRank)
        return ctx.error(StatusCode::InvalidInput, "index tuples of length " + std::to_string(m) + " do not fit data " +
                                                       dimsText(x.dims()));
    std::span<const int64_t> xd(x.dims()), id(idx.dims());
    g = NdGeom{};
    g.m = m;
    g.batches = numElementsOf(xd.first(batchDims));
    g.tuplesPerBatch = numElementsOf(id.subspan(batchDims, q - 1 - batchDims));
    g.slice = numElementsOf(xd.subspan(batchDims + m));
    g.batchStride = numElementsOf(xd.subspan(batchDims));
    for (int64_t k = m - 1, s = g.slice; k >= 0; --k) {
        g.dims[k] = xd[batchDims + k];
        g.strides[k] = s;
        s *= g.dims[k];
    }
    for (int64_t i = 0; i < idx.numElements(); ++i) {
        int64_t n = g.dims[i % std::max<int64_t>(m, 1)];
        if (wrapIndex(indexAt(idx, i), n) < 0) return badIndex(ctx, idx, i, n);
    }
    return {};
}

class GatherNDKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_batchDims = ctx.opset() >= 12 ? ctx.node().attrInt("batch_dims", 0) : 0;
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        if (!isMovable(x.dtype())) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        EW_TRY(makeNd(ctx, x, idx, m_batchDims, m_geom));
        m_dims.assign(idx.dims().begin(), idx.dims().end() - 1);
        m_dims.insert(m_dims.end(), x.dims().begin() + m_batchDims + m_geom.m, x.dims().end());
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& idx = ctx.input(1);
        const std::byte* X = ctx.input(0).raw();
        std::byte* Y = ctx.output(0).raw();
        const std::size_t w = elementSize(ctx.input(0).dtype());
        const std::size_t sliceBytes = static_cast<std::size_t>(m_geom.slice) * w;
        const NdGeom& g = m_geom;
        ctx.pool().parallelFor(0, g.tuples(), chunkRows(g.slice), [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; ++t)
                if (sliceBytes) std::memcpy(Y + t * sliceBytes, X + g.offsetOf(idx, t) * w, sliceBytes);
        });
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    int64_t m_batchDims = 0;
    bool m_dataDependent = false;
    NdGeom m_geom;
    std::vector<int64_t> m_dims;
};

class ScatterNDKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY_ASSIGN(m_red, readReduction(ctx.node(), ctx.opset(), ctx));
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        const Tensor& upd = ctx.input(2);
        EW_TRY(makeNd(ctx, x, idx, 0, m_geom));
        // updates: indices.shape[:-1] + data.shape[m:]
        bool ok = upd.dtype() == x.dtype() && upd.rank() == idx.rank() - 1 + x.rank() - m_geom.m;
        for (std::size_t d = 0; ok && d < upd.rank(); ++d)
            ok = upd.dims()[d] == (d + 1 < idx.rank() ? idx.dims()[d] : x.dims()[d - (idx.rank() - 1) + m_geom.m]);
        if (!ok)
            return ctx.error(StatusCode::InvalidInput, "updates " + describe(upd.dtype(), upd.dims()) + " do not match indices " +
                                                           dimsText(idx.dims()) + " and data " + describe(x.dtype(), x.dims()));
        m_fn = nullptr;
        dispatchScatter(x.dtype(), m_red, [&](auto tag) {
            using T = typename decltype(tag)::type;
            switch (m_red) {
            case Reduction::None: m_fn = &scatter<Reduction::None, T>; break;
            case Reduction::Add: m_fn = &scatter<Reduction::Add, T>; break;
            case Reduction::Mul: m_fn = &scatter<Reduction::Mul, T>; break;
            case Reduction::Max: m_fn = &scatter<Reduction::Max, T>; break;
            case Reduction::Min: m_fn = &scatter<Reduction::Min, T>; break;
            }
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        copyBytes(ctx.output(0).raw(), ctx.input(0).raw(), ctx.input(0).byteSize());
        m_fn(m_geom, ctx.input(1), ctx.input(2).raw(), ctx.output(0).raw());
    }
    int inPlaceInput() const override { return 0; }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    template <Reduction R, typename T>
    static void scatter(const NdGeom& g, const Tensor& idx, const std::byte* updv, std::byte* outv) {
        const T* U = reinterpret_cast<const T*>(updv);
        T* Y = reinterpret_cast<T*>(outv);
        for (int64_t t = 0; t < g.tuples(); ++t) {
            T* dst = Y + g.offsetOf(idx, t);
            const T* src = U + t * g.slice;
            for (int64_t i = 0; i < g.slice; ++i) combine<R>(dst[i], src[i]);
        }
    }

    Reduction m_red = Reduction::None;
    bool m_dataDependent = false;
    NdGeom m_geom;
    void (*m_fn)(const NdGeom&, const Tensor&, const std::byte*, std::byte*) = nullptr;
};

// ---------------------------------------------------------------------------------------------

/// TensorScatter: present = past with update[b, ..., s, ...] written at sequence position
/// write_indices[b] + s (modulo max_sequence_length in circular mode).
class TensorScatterKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", -2);
        std::string mode = ctx.node().attrString("mode", "linear");
        if (mode != "linear" && mode != "circular")
            return ctx.error(StatusCode::InvalidInput, "mode '" + mode + "' is not linear or circular");
        m_circular = mode == "circular";
        m_dataDependent = ctx.hasInput(2) && ctx.constantInput(2) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& past = ctx.input(0);
        const Tensor& upd = ctx.input(1);
        if (!isMovable(past.dtype())) return ctx.error(StatusCode::Unsupported, "type " + typeName(past.dtype()) + " is not supported");
        const int64_t r = static_cast<int64_t>(past.rank());
        int64_t axis = m_axis;
        if (!normalizeAxis(axis, r) || axis == 0) return ctx.error(StatusCode::InvalidInput, "axis out of range (or the batch axis)");
        bool ok = upd.dtype() == past.dtype() && upd.rank() == past.rank();
        for (int64_t d = 0; ok && d < r; ++d) ok = d == axis ? upd.dims()[d] <= past.dims()[d] : upd.dims()[d] == past.dims()[d];
        if (!ok)
            return ctx.error(StatusCode::InvalidInput, "update " + describe(upd.dtype(), upd.dims()) + " does not fit cache " +
                                                           describe(past.dtype(), past.dims()));
        std::span<const int64_t> d(past.dims());
        m_outer = numElementsOf(d.first(axis));
        m_perBatch = numElementsOf(d.subspan(1, axis - 1));
        m_maxSeq = d[axis];
        m_seq = upd.dims()[axis];
        m_inner = numElementsOf(d.subspan(axis + 1));
        if (ctx.hasInput(2)) {
            const Tensor& wi = ctx.input(2);
            if (!isIndexType(wi.dtype()) || wi.numElements() != d[0])
                return ctx.error(StatusCode::InvalidInput, "write_indices must hold one int64 per batch entry");
            for (int64_t b = 0; b < d[0]; ++b) {
                int64_t w = indexAt(wi, b);
                if (w < 0 || (!m_circular && w + m_seq > m_maxSeq))
                    return ctx.error(StatusCode::InvalidInput, "write index " + std::to_string(w) + " of batch " + std::to_string(b) +
                                                                   " does not fit " + std::to_string(m_seq) + " rows in " +
                                                                   std::to_string(m_maxSeq));
            }
        }
        ctx.setOutput(0, past.dtype(), past.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        const std::size_t w = elementSize(ctx.input(0).dtype());
        const std::size_t rowBytes = static_cast<std::size_t>(m_inner) * w;
        copyBytes(ctx.output(0).raw(), ctx.input(0).raw(), ctx.input(0).byteSize());
        const std::byte* U = ctx.input(1).raw();
        std::byte* Y = ctx.output(0).raw();
        const Tensor* wi = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        ctx.pool().parallelFor(0, m_outer, 1, [&](int64_t b, int64_t e) {
            for (int64_t o = b; o < e; ++o) {
                int64_t start = wi ? indexAt(*wi, o / std::max<int64_t>(m_perBatch, 1)) : 0;
                for (int64_t s = 0; s < m_seq; ++s) {
                    int64_t pos = start + s;
                    if (m_circular) pos %= m_maxSeq;
                    if (rowBytes)
                        std::memcpy(Y + ((o * m_maxSeq + pos) * m_inner) * w, U + ((o * m_seq + s) * m_inner) * w, rowBytes);
                }
            }
        });
    }
    int inPlaceInput() const override { return 0; }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    int64_t m_axis = -2, m_outer = 0, m_perBatch = 1, m_maxSeq = 0, m_seq = 0, m_inner = 0;
    bool m_circular = false, m_dataDependent = false;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeGatherElements() { return std::make_unique<cpu::GatherElementsKernel>(); }
std::unique_ptr<Kernel> makeGatherND() { return std::make_unique<cpu::GatherNDKernel>(); }
std::unique_ptr<Kernel> makeScatterElements() { return std::make_unique<cpu::ScatterElementsKernel>(); }
std::unique_ptr<Kernel> makeScatter() { return std::make_unique<cpu::ScatterElementsKernel>(); }
std::unique_ptr<Kernel> makeScatterND() { return std::make_unique<cpu::ScatterNDKernel>(); }
std::unique_ptr<Kernel> makeTensorScatter() { return std::make_unique<cpu::TensorScatterKernel>(); }

} // namespace ew::rt
