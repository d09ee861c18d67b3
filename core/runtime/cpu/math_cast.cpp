// CastLike (Cast to the second input's element type) and BitCast (same bytes, another type of the
// same width).
#include "kernel_util.h"

namespace ew::rt {

std::unique_ptr<Kernel> makeCast();

namespace cpu {
namespace {

/// CastLike runs the Cast kernel on a private node whose `to` is the target input's type, so the
/// two ops cannot drift apart in their conversion rules (NaN, saturation, float16 rounding).
class CastLikeKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_opset = ctx.opset();
        m_castNode.name = ctx.node().displayName();
        m_castNode.opType = "Cast";
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        DataType to = ctx.input(1).dtype();
        if (!m_cast || to != m_to) {
            m_castNode.setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(to)));
            m_cast = makeCast();
            InitContext ic(m_castNode, m_opset, {}, ctx.threads());
            EW_TRY(m_cast->init(ic));
            m_to = to;
        }
        const Tensor* ins[1] = {&ctx.input(0)};
        Tensor* outs[1] = {&m_shape};
        PrepareContext pc(m_castNode, m_opset, ins, outs, ctx.threads());
        if (auto r = m_cast->prepare(pc); !r) {
            m_cast.reset(); // prepare again next time rather than run a half-prepared Cast
            return ctx.error(r.error().code, r.error().message);
        }
        ctx.setOutput(0, m_shape.dtype(), m_shape.dims());
        ctx.setScratchBytes(pc.scratchBytes());
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor* ins[1] = {&ctx.input(0)};
        Tensor* outs[1] = {&ctx.output(0)};
        RunContext rc(ins, outs, ctx.scratch(), ctx.pool());
        m_cast->run(rc);
    }
    int inPlaceInput() const override { return m_cast ? m_cast->inPlaceInput() : -1; }

  private:
    int64_t m_opset = 0;
    ir::Node m_castNode;
    std::unique_ptr<Kernel> m_cast;
    DataType m_to = DataType::Undefined;
    Tensor m_shape; ///< receives the Cast's output dtype and dims in prepare
};

class BitCastKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        int64_t to = ctx.node().attrInt("to", 0);
        if (!ir::isValidDataType(static_cast<int32_t>(to)))
            return ctx.error(StatusCode::InvalidInput, "invalid 'to' type " + std::to_string(to));
        m_to = static_cast<DataType>(to);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        std::size_t from = elementSize(x.dtype()), to = elementSize(m_to);
        // Sub-byte integers are held one value per byte, not as their bit patterns.
        if (from == 0 || to == 0 || isSubByteInteger(x.dtype()) || isSubByteInteger(m_to))
            return ctx.error(StatusCode::Unsupported, "bitcast from " + typeName(x.dtype()) +
                                                          " to " + typeName(m_to) +
                                                          " is not supported");
        if (from != to)
            return ctx.error(StatusCode::InvalidInput, typeName(x.dtype()) + " and " +
                                                           typeName(m_to) +
                                                           " have different bit widths");
        ctx.setOutput(0, m_to, x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        Tensor& y = ctx.output(0);
        copyBytes(y.raw(), x.raw(), x.byteSize());
        // A bool byte other than 0/1 is not a valid C++ bool; any nonzero pattern reads as true.
        if (m_to == DataType::Bool) {
            uint8_t* p = reinterpret_cast<uint8_t*>(y.raw());
            for (int64_t i = 0; i < y.numElements(); ++i)
                p[i] = p[i] != 0;
        }
    }
    int inPlaceInput() const override { return 0; }

  private:
    DataType m_to = DataType::Undefined;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeCastLike() {
    return std::make_unique<cpu::CastLikeKernel>();
}
std::unique_ptr<Kernel> makeBitCast() {
    return std::make_unique<cpu::BitCastKernel>();
}

} // namespace ew::rt
