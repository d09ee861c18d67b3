// Ops that only change the shape (Reshape, Flatten, Squeeze, Unsqueeze: a byte copy, or nothing
// when the planner aliases the output onto the input), ops that report shapes (Shape, Size) and
// constant producers (Constant, ConstantOfShape).
#include "kernel_util.h"

#include <algorithm>

namespace ew::rt {
namespace cpu {
namespace {

/// Base for the shape-only ops: output 0 holds input 0's bytes under new dims.
class ViewKernel : public Kernel {
public:
    void run(RunContext& ctx) override {
        copyBytes(ctx.output(0).raw(), ctx.input(0).raw(), ctx.input(0).byteSize());
    }
    int inPlaceInput() const override { return 0; }
    bool dataDependentShapes() const override { return m_dataDependent; }

protected:
    VoidResult checkMovable(PrepareContext& ctx) {
        if (elementSize(ctx.input(0).dtype()) == 0)
            return ctx.error(StatusCode::Unsupported, "type " + typeName(ctx.input(0).dtype()) + " is not supported");
        return {};
    }
    bool m_dataDependent = false;
    std::vector<int64_t> m_dims;   ///< output dims (capacity reused across prepares)
    std::vector<int64_t> m_values; ///< shape/axes input values
};

class ReshapeKernel final : public ViewKernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_dataDependent = ctx.constantInput(1) == nullptr;
        m_allowZero = ctx.node().attrInt("allowzero", 0) != 0;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        EW_TRY(checkMovable(ctx));
        const Tensor& x = ctx.input(0);
        readInts(ctx.input(1), m_values);
        m_dims.clear();
        int inferred = -1;
        int64_t known = 1;
        for (std::size_t i = 0; i < m_values.size(); ++i) {
            int64_t v = m_values[i];
            if (v == 0 && !m_allowZero) {
                if (i >= x.rank()) return ctx.error(StatusCode::InvalidInput, "0 in shape beyond the input's rank");
                v = x.dims()[i];
            }
            if (v == -1) {
                if (inferred >= 0) return ctx.error(StatusCode::InvalidInput, "more than one -1 in the shape");
                inferred = static_cast<int>(i);
                v = 1;
            } else if (v < 0) {
                return ctx.error(StatusCode::InvalidInput, "negative size in the shape");
            } else {
                known *= v;
            }
            m_dims.push_back(v);
        }
        if (inferred >= 0) {
            if (known == 0 || x.numElements() % known)
                return ctx.error(StatusCode::InvalidInput, "cannot reshape " + dimsText(x.dims()) + " to " +
                                                               dimsText(m_values));
            m_dims[static_cast<std::size_t>(inferred)] = x.numElements() / known;
        }
        if (numElementsOf(m_dims) != x.numElements())
            return ctx.error(StatusCode::InvalidInput, "cannot reshape " + dimsText(x.dims()) + " to " +
                                                           dimsText(m_values));
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }

private:
    bool m_allowZero = false;
};

class FlattenKernel final : public ViewKernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", 1);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        EW_TRY(checkMovable(ctx));
        const Tensor& x = ctx.input(0);
        int64_t r = static_cast<int64_t>(x.rank()), axis = m_axis;
        if (axis < 0) axis += r;
        if (axis < 0 || axis > r) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        std::span<const int64_t> d(x.dims());
        ctx.setOutput(0, x.dtype(), {numElementsOf(d.first(axis)), numElementsOf(d.subspan(axis))});
        return {};
    }

private:
    int64_t m_axis = 1;
};

/// Squeeze and Unsqueeze: axes from an attribute (opset < 13) or an input.
template <bool kUnsqueeze>
class SqueezeKernel final : public ViewKernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_fromAttr = ctx.opset() < 13;
        if (m_fromAttr) m_attrAxes = ctx.node().attrInts("axes");
        else m_dataDependent = ctx.hasInput(1) && ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        EW_TRY(checkMovable(ctx));
        const Tensor& x = ctx.input(0);
        if (m_fromAttr) m_values.assign(m_attrAxes.begin(), m_attrAxes.end());
        else if (ctx.hasInput(1)) readInts(ctx.input(1), m_values);
        else m_values.clear();
        int64_t r = static_cast<int64_t>(x.rank());
        int64_t outRank = kUnsqueeze ? r + static_cast<int64_t>(m_values.size()) : r;
        for (int64_t& a : m_values)
            if (!normalizeAxis(a, outRank)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
        m_dims.clear();
        if constexpr (kUnsqueeze) {
            std::size_t src = 0;
            for (int64_t d = 0; d < outRank; ++d) {
                if (std::count(m_values.begin(), m_values.end(), d) > 1)
                    return ctx.error(StatusCode::InvalidInput, "repeated axis");
                if (std::find(m_values.begin(), m_values.end(), d) != m_values.end()) m_dims.push_back(1);
                else if (src < x.rank()) m_dims.push_back(x.dims()[src++]);
                else return ctx.error(StatusCode::InvalidInput, "axes out of range");
            }
        } else {
            for (int64_t d = 0; d < r; ++d) {
                bool listed = std::find(m_values.begin(), m_values.end(), d) != m_values.end();
                if (listed && x.dims()[d] != 1)
                    return ctx.error(StatusCode::InvalidInput, "cannot squeeze dim " + std::to_string(d) + " of " +
                                                                   dimsText(x.dims()));
                if (m_values.empty() ? x.dims()[d] == 1 : listed) continue;
                m_dims.push_back(x.dims()[d]);
            }
        }
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }

private:
    bool m_fromAttr = false;
    std::vector<int64_t> m_attrAxes;
};

class ShapeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_start = ctx.node().attrInt("start", 0);
        m_end = ctx.node().attrInt("end", INT64_MAX);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        int64_t r = static_cast<int64_t>(ctx.input(0).rank());
        m_b = std::clamp<int64_t>(m_start < 0 ? m_start + r : m_start, 0, r);
        m_e = std::clamp<int64_t>(m_end < 0 ? m_end + r : m_end, 0, r);
        ctx.setOutput(0, DataType::Int64, {std::max<int64_t>(0, m_e - m_b)});
        return {};
    }
    void run(RunContext& ctx) override {
        int64_t* o = ctx.output(0).data<int64_t>();
        for (int64_t i = m_b; i < m_e; ++i) o[i - m_b] = ctx.input(0).dims()[i];
    }

private:
    int64_t m_start = 0, m_end = 0, m_b = 0, m_e = 0;
};

class SizeKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        ctx.setOutput(0, DataType::Int64, std::span<const int64_t>());
        return {};
    }
    void run(RunContext& ctx) override { ctx.output(0).data<int64_t>()[0] = ctx.input(0).numElements(); }
};

/// The Constant node's value from whichever attribute carries it.
Result<Tensor> constantValue(const ir::Node& n) {
    if (const ir::Attribute* a = n.attr("value")) return Tensor::fromIr(a->t);
    if (const ir::Attribute* a = n.attr("value_float")) return Tensor::fromVector(DataType::Float, {}, std::vector<float>{a->f});
    if (const ir::Attribute* a = n.attr("value_floats"))
        return Tensor::fromVector(DataType::Float, {static_cast<int64_t>(a->floats.size())}, a->floats);
    if (const ir::Attribute* a = n.attr("value_int")) return Tensor::fromVector(DataType::Int64, {}, std::vector<int64_t>{a->i});
    if (const ir::Attribute* a = n.attr("value_ints"))
        return Tensor::fromVector(DataType::Int64, {static_cast<int64_t>(a->ints.size())}, a->ints);
    return fail(StatusCode::Unsupported, "Constant: only tensor, float(s) and int(s) values are supported",
                n.displayName());
}

class ConstantKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY_ASSIGN(m_value, constantValue(ctx.node()));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        ctx.setOutput(0, m_value.dtype(), m_value.dims());
        return {};
    }
    void run(RunContext& ctx) override { copyBytes(ctx.output(0).raw(), m_value.raw(), m_value.byteSize()); }

private:
    Tensor m_value;
};

class ConstantOfShapeKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        if (const ir::Attribute* a = ctx.node().attr("value")) {
            EW_TRY_ASSIGN(m_value, Tensor::fromIr(a->t));
            if (m_value.numElements() != 1)
                return ctx.error(StatusCode::InvalidInput, "value must hold exactly one element");
        } else {
            m_value = Tensor::fromVector(DataType::Float, {1}, std::vector<float>{0.f});
        }
        m_dataDependent = ctx.constantInput(0) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        readInts(ctx.input(0), m_dims);
        for (int64_t d : m_dims)
            if (d < 0) return ctx.error(StatusCode::InvalidInput, "negative dim in " + dimsText(m_dims));
        ctx.setOutput(0, m_value.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        Tensor& o = ctx.output(0);
        std::size_t w = m_value.byteSize();
        for (int64_t i = 0; i < o.numElements(); ++i) std::memcpy(o.raw() + i * w, m_value.raw(), w);
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    Tensor m_value;
    std::vector<int64_t> m_dims;
    bool m_dataDependent = false;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeReshape() { return std::make_unique<cpu::ReshapeKernel>(); }
std::unique_ptr<Kernel> makeFlatten() { return std::make_unique<cpu::FlattenKernel>(); }
std::unique_ptr<Kernel> makeSqueeze() { return std::make_unique<cpu::SqueezeKernel<false>>(); }
std::unique_ptr<Kernel> makeUnsqueeze() { return std::make_unique<cpu::SqueezeKernel<true>>(); }
std::unique_ptr<Kernel> makeShape() { return std::make_unique<cpu::ShapeKernel>(); }
std::unique_ptr<Kernel> makeSize() { return std::make_unique<cpu::SizeKernel>(); }
std::unique_ptr<Kernel> makeConstant() { return std::make_unique<cpu::ConstantKernel>(); }
std::unique_ptr<Kernel> makeConstantOfShape() { return std::make_unique<cpu::ConstantOfShapeKernel>(); }

} // namespace ew::rt
