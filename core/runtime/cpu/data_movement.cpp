// Ops that move elements without arithmetic: Transpose, Concat, Split, Slice, Gather, Expand,
// Tile. All work by element width, so every fixed-size type of 1, 2, 4 or 8 bytes is supported.
#include "kernel_util.h"

#include <algorithm>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

VoidResult requireMovable(PrepareContext& ctx, DataType t) {
    if (!isMovable(t)) return ctx.error(StatusCode::Unsupported, "type " + typeName(t) + " is not supported");
    return {};
}

class TransposeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_perm = ctx.node().attrInts("perm");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        EW_TRY(requireMovable(ctx, x.dtype()));
        std::size_t r = x.rank();
        std::vector<int64_t> perm = m_perm;
        if (perm.empty())
            for (std::size_t i = 0; i < r; ++i) perm.push_back(static_cast<int64_t>(r - 1 - i));
        std::vector<bool> seen(r, false);
        if (perm.size() != r) return ctx.error(StatusCode::InvalidInput, "perm does not match the rank");
        for (int64_t& p : perm) {
            if (!normalizeAxis(p, static_cast<int64_t>(r)) || seen[p])
                return ctx.error(StatusCode::InvalidInput, "perm is not a permutation");
            seen[p] = true;
        }
        std::vector<int64_t> inStrides, dims(r), strides(r);
        rowMajorStrides(x.dims(), inStrides);
        for (std::size_t i = 0; i < r; ++i) {
            dims[i] = x.dims()[perm[i]];
            strides[i] = inStrides[perm[i]];
        }
        if (!makeStridedView(m_view, dims, strides)) return ctx.error(StatusCode::Unsupported, "rank too large");
        ctx.setOutput(0, x.dtype(), dims);
        return {};
    }
    void run(RunContext& ctx) override {
        copyStrided(m_view, elementSize(ctx.input(0).dtype()), ctx.input(0).raw(), 0, ctx.output(0).raw(), ctx.pool());
    }

private:
    std::vector<int64_t> m_perm;
    Broadcaster<1> m_view;
};

class ConcatKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        if (!ctx.node().hasAttr("axis")) return ctx.error(StatusCode::InvalidInput, "missing 'axis'");
        m_axis = ctx.node().attrInt("axis", 0);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x0 = ctx.input(0);
        EW_TRY(requireMovable(ctx, x0.dtype()));
        int64_t r = static_cast<int64_t>(x0.rank()), axis = m_axis;
        if (!normalizeAxis(axis, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        std::vector<int64_t> dims = x0.dims();
        dims[axis] = 0;
        for (std::size_t i = 0; i < ctx.numInputs(); ++i) {
            const Tensor& t = ctx.input(i);
            if (t.dtype() != x0.dtype() || static_cast<int64_t>(t.rank()) != r)
                return ctx.error(StatusCode::InvalidInput, "inputs differ in type or rank");
            for (int64_t d = 0; d < r; ++d)
                if (d != axis && t.dims()[d] != x0.dims()[d])
                    return ctx.error(StatusCode::InvalidInput, "input " + std::to_string(i) + " " + dimsText(t.dims()) +
                                                                   " does not match " + dimsText(x0.dims()));
            dims[axis] += t.dims()[axis];
        }
        std::span<const int64_t> d(dims);
        m_outer = numElementsOf(d.first(axis));
        m_innerBytes = numElementsOf(d.subspan(axis + 1)) * static_cast<int64_t>(elementSize(x0.dtype()));
        m_axisPos = axis;
        m_inputs = ctx.numInputs();
        ctx.setOutput(0, x0.dtype(), dims);
        return {};
    }
    void run(RunContext& ctx) override {
        std::byte* out = ctx.output(0).raw();
        int64_t outRow = ctx.output(0).dims()[m_axisPos] * m_innerBytes;
        // Rows of at least ~64 KB per task: smaller copies are not worth a thread hand-off.
        ctx.pool().parallelFor(0, m_outer, chunkRows(outRow, 65536), [&](int64_t b, int64_t e) {
            for (int64_t o = b; o < e; ++o) {
                int64_t pos = 0;
                for (std::size_t i = 0; i < m_inputs; ++i) {
                    const Tensor& t = ctx.input(i);
                    int64_t bytes = t.dims()[m_axisPos] * m_innerBytes;
                    if (bytes) std::memcpy(out + o * outRow + pos, t.raw() + o * bytes, static_cast<std::size_t>(bytes));
                    pos += bytes;
                }
            }
        });
    }

private:
    int64_t m_axis = 0, m_axisPos = 0, m_outer = 0, m_innerBytes = 0;
    std::size_t m_inputs = 0;
};

class SplitKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 0);
        if (ctx.opset() < 13) m_attrSplit = ctx.node().attrInts("split");
        else m_dataDependent = ctx.hasInput(1) && ctx.constantInput(1) == nullptr;
        m_numOutputs = ctx.node().attrInt("num_outputs", 0);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        EW_TRY(requireMovable(ctx, x.dtype()));
        int64_t r = static_cast<int64_t>(x.rank()), axis = m_axis;
        if (!normalizeAxis(axis, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        int64_t len = x.dims()[axis];
        int64_t n = static_cast<int64_t>(ctx.numOutputs());
        if (!m_attrSplit.empty()) m_split.assign(m_attrSplit.begin(), m_attrSplit.end());
        else if (ctx.hasInput(1)) readInts(ctx.input(1), m_split);
        else {
            m_split.clear();
            // Equal parts; with num_outputs (opset 18) the last part may be smaller.
            int64_t part = m_numOutputs > 0 ? (len + n - 1) / n : (n ? len / n : 0);
            if (m_numOutputs <= 0 && n && len % n)
                return ctx.error(StatusCode::InvalidInput, "cannot split " + std::to_string(len) + " into " +
                                                               std::to_string(n) + " equal parts");
            for (int64_t i = 0; i < n; ++i) m_split.push_back(std::max<int64_t>(0, std::min(part, len - i * part)));
        }
        int64_t total = 0;
        for (int64_t s : m_split) total += s;
        if (static_cast<int64_t>(m_split.size()) != n || total != len)
            return ctx.error(StatusCode::InvalidInput, "split " + dimsText(m_split) + " does not cover " +
                                                           std::to_string(len) + " in " + std::to_string(n) + " outputs");
        std::span<const int64_t> d(x.dims());
        m_outer = numElementsOf(d.first(axis));
        m_innerBytes = numElementsOf(d.subspan(axis + 1)) * static_cast<int64_t>(elementSize(x.dtype()));
        m_len = len;
        m_dims.assign(x.dims().begin(), x.dims().end());
        for (int64_t i = 0; i < n; ++i) {
            m_dims[axis] = m_split[i];
            ctx.setOutput(i, x.dtype(), m_dims);
        }
        return {};
    }
    void run(RunContext& ctx) override {
        const std::byte* in = ctx.input(0).raw();
        int64_t inRow = m_len * m_innerBytes;
        int64_t pos = 0;
        for (std::size_t i = 0; i < m_split.size(); ++i) {
            int64_t bytes = m_split[i] * m_innerBytes;
            if (ctx.hasOutput(i) && bytes)
                for (int64_t o = 0; o < m_outer; ++o)
                    std::memcpy(ctx.output(i).raw() + o * bytes, in + o * inRow + pos, static_cast<std::size_t>(bytes));
            pos += bytes;
        }
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    int64_t m_axis = 0, m_numOutputs = 0, m_outer = 0, m_innerBytes = 0, m_len = 0;
    bool m_dataDependent = false;
    std::vector<int64_t> m_attrSplit, m_split, m_dims;
};

class SliceKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_fromAttrs = ctx.opset() < 10;
        if (m_fromAttrs) {
            m_attrStarts = ctx.node().attrInts("starts");
            m_attrEnds = ctx.node().attrInts("ends");
            m_attrAxes = ctx.node().attrInts("axes");
        } else {
            for (std::size_t i = 1; i < ctx.numInputs(); ++i)
                if (ctx.hasInput(i) && !ctx.constantInput(i)) m_dataDependent = true;
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        EW_TRY(requireMovable(ctx, x.dtype()));
        int64_t r = static_cast<int64_t>(x.rank());
        if (m_fromAttrs) {
            m_starts.assign(m_attrStarts.begin(), m_attrStarts.end());
            m_ends.assign(m_attrEnds.begin(), m_attrEnds.end());
            m_axes.assign(m_attrAxes.begin(), m_attrAxes.end());
            m_steps.clear();
        } else {
            readInts(ctx.input(1), m_starts);
            readInts(ctx.input(2), m_ends);
            if (ctx.hasInput(3)) readInts(ctx.input(3), m_axes);
            else m_axes.clear();
            if (ctx.hasInput(4)) readInts(ctx.input(4), m_steps);
            else m_steps.clear();
        }
        std::size_t n = m_starts.size();
        if (m_axes.empty())
            for (std::size_t i = 0; i < n; ++i) m_axes.push_back(static_cast<int64_t>(i));
        if (m_steps.empty()) m_steps.assign(n, 1);
        if (m_ends.size() != n || m_axes.size() != n || m_steps.size() != n)
            return ctx.error(StatusCode::InvalidInput, "starts, ends, axes and steps differ in length");
        rowMajorStrides(x.dims(), m_inStrides);
        m_dims.assign(x.dims().begin(), x.dims().end());
        m_strides.assign(m_inStrides.begin(), m_inStrides.end());
        int64_t base = 0;
        for (std::size_t i = 0; i < n; ++i) {
            int64_t a = m_axes[i];
            if (!normalizeAxis(a, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
            int64_t dim = x.dims()[a], step = m_steps[i];
            if (step == 0) return ctx.error(StatusCode::InvalidInput, "step 0");
            int64_t s = m_starts[i], e = m_ends[i];
            if (s < 0) s = s < std::numeric_limits<int64_t>::min() + dim ? -1 : s + dim;
            if (e < 0) e = e < std::numeric_limits<int64_t>::min() + dim ? -1 : e + dim;
            int64_t count;
            if (step > 0) {
                s = std::clamp<int64_t>(s, 0, dim);
                e = std::clamp<int64_t>(e, 0, dim);
                count = e > s ? (e - s + step - 1) / step : 0;
            } else {
                s = std::clamp<int64_t>(s, 0, dim - 1);
                e = std::clamp<int64_t>(e, -1, dim - 1);
                count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
            }
            m_dims[a] = count;
            m_strides[a] = m_inStrides[a] * step;
            if (count) base += s * m_inStrides[a];
        }
        m_base = base;
        if (!makeStridedView(m_view, m_dims, m_strides)) return ctx.error(StatusCode::Unsupported, "rank too large");
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        if (ctx.output(0).numElements() == 0) return;
        copyStrided(m_view, elementSize(ctx.input(0).dtype()), ctx.input(0).raw(), m_base, ctx.output(0).raw(), ctx.pool());
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_fromAttrs = false, m_dataDependent = false;
    std::vector<int64_t> m_attrStarts, m_attrEnds, m_attrAxes;
    std::vector<int64_t> m_starts, m_ends, m_axes, m_steps, m_inStrides, m_dims, m_strides;
    int64_t m_base = 0;
    Broadcaster<1> m_view;
};

class GatherKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 0);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        EW_TRY(requireMovable(ctx, x.dtype()));
        if (idx.dtype() != DataType::Int64 && idx.dtype() != DataType::Int32)
            return ctx.error(StatusCode::InvalidInput, "indices must be int32 or int64");
        int64_t r = static_cast<int64_t>(x.rank()), axis = m_axis;
        if (!normalizeAxis(axis, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        std::span<const int64_t> d(x.dims());
        m_outer = numElementsOf(d.first(axis));
        m_len = d[axis];
        m_innerBytes = numElementsOf(d.subspan(axis + 1)) * static_cast<int64_t>(elementSize(x.dtype()));
        m_dims.assign(d.begin(), d.begin() + axis);
        m_dims.insert(m_dims.end(), idx.dims().begin(), idx.dims().end());
        m_dims.insert(m_dims.end(), d.begin() + axis + 1, d.end());
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& idx = ctx.input(1);
        const std::byte* in = ctx.input(0).raw();
        std::byte* out = ctx.output(0).raw();
        int64_t n = idx.numElements();
        const std::size_t ib = static_cast<std::size_t>(m_innerBytes);
        for (int64_t o = 0; o < m_outer; ++o)
            for (int64_t j = 0; j < n; ++j) {
                int64_t k = idx.intAt(j);
                if (k < 0) k += m_len;
                std::byte* dst = out + (o * n + j) * m_innerBytes;
                // Out-of-range indices are invalid input; run() cannot fail, so they read zeros.
                if (k < 0 || k >= m_len) std::memset(dst, 0, ib);
                else if (ib) std::memcpy(dst, in + (o * m_len + k) * m_innerBytes, ib);
            }
    }

private:
    int64_t m_axis = 0, m_outer = 0, m_len = 0, m_innerBytes = 0;
    std::vector<int64_t> m_dims;
};

class ExpandKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        EW_TRY(requireMovable(ctx, x.dtype()));
        readInts(ctx.input(1), m_shape);
        if (!broadcastShapes(x.dims(), m_shape, m_dims) || !m_bc.make(m_dims, {x.dims()}))
            return ctx.error(StatusCode::InvalidInput, dimsText(x.dims()) + " cannot expand to " + dimsText(m_shape));
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        copyStrided(m_bc, elementSize(ctx.input(0).dtype()), ctx.input(0).raw(), 0, ctx.output(0).raw(), ctx.pool());
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_dataDependent = false;
    std::vector<int64_t> m_shape, m_dims;
    Broadcaster<1> m_bc;
};

class TileKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        EW_TRY(requireMovable(ctx, x.dtype()));
        readInts(ctx.input(1), m_repeats);
        if (x.rank() > static_cast<std::size_t>(kMaxRank)) return ctx.error(StatusCode::Unsupported, "rank too large");
        if (m_repeats.size() != x.rank()) return ctx.error(StatusCode::InvalidInput, "repeats must have one entry per dim");
        m_dims.resize(x.rank());
        for (std::size_t i = 0; i < x.rank(); ++i) {
            if (m_repeats[i] < 0) return ctx.error(StatusCode::InvalidInput, "negative repeat");
            m_dims[i] = x.dims()[i] * m_repeats[i];
        }
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        Tensor& out = ctx.output(0);
        const std::size_t w = elementSize(x.dtype());
        const std::size_t r = x.rank();
        int64_t n = out.numElements();
        // Output element -> input element by per-dim modulo; dims are walked with a counter.
        int64_t idx[kMaxRank] = {};
        int64_t inStride[kMaxRank] = {};
        int64_t s = 1;
        for (std::size_t d = r; d-- > 0;) {
            inStride[d] = s;
            s *= x.dims()[d];
        }
        for (int64_t i = 0; i < n; ++i) {
            int64_t src = 0;
            for (std::size_t d = 0; d < r; ++d) src += (idx[d] % x.dims()[d]) * inStride[d];
            std::memcpy(out.raw() + i * w, x.raw() + src * w, w);
            for (std::size_t d = r; d-- > 0;) {
                if (++idx[d] < m_dims[d]) break;
                idx[d] = 0;
            }
        }
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    bool m_dataDependent = false;
    std::vector<int64_t> m_repeats, m_dims;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeTranspose() { return std::make_unique<cpu::TransposeKernel>(); }
std::unique_ptr<Kernel> makeConcat() { return std::make_unique<cpu::ConcatKernel>(); }
std::unique_ptr<Kernel> makeSplit() { return std::make_unique<cpu::SplitKernel>(); }
std::unique_ptr<Kernel> makeSlice() { return std::make_unique<cpu::SliceKernel>(); }
std::unique_ptr<Kernel> makeGather() { return std::make_unique<cpu::GatherKernel>(); }
std::unique_ptr<Kernel> makeExpand() { return std::make_unique<cpu::ExpandKernel>(); }
std::unique_ptr<Kernel> makeTile() { return std::make_unique<cpu::TileKernel>(); }

} // namespace ew::rt
