// If: both branches are compiled once at init as sub-sessions (only the taken one when the
// condition is constant); prepare() runs the chosen branch, so the outputs' shapes are whatever
// that branch produced (opset 11+ lets them differ between branches), and run() copies them out.
#include "control_util.h"
#include "kernel_util.h"

namespace ew::rt {
namespace cpu {
namespace {

class IfKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY(checkTensorValues(ctx));
        EW_TRY_ASSIGN(const ir::Graph* thenG, subgraphAttr(ctx, "then_branch"));
        EW_TRY_ASSIGN(const ir::Graph* elseG, subgraphAttr(ctx, "else_branch"));
        for (const ir::Graph* g : {thenG, elseG})
            if (g->outputs.size() < ctx.numOutputs())
                return ctx.error(StatusCode::InvalidInput,
                                 "a branch has " + std::to_string(g->outputs.size()) +
                                     " outputs, the node " + std::to_string(ctx.numOutputs()));
        int fixed = -1; // a constant condition compiles only the branch it takes
        if (const Tensor* c = ctx.constantInput(0); c && c->numElements() >= 1)
            fixed = c->intAt(0) != 0 ? 1 : 0;
        if (fixed != 0) EW_TRY(m_branch[1].init(ctx, *thenG, "then_branch", 1));
        if (fixed != 1) EW_TRY(m_branch[0].init(ctx, *elseG, "else_branch", 1));
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& c = ctx.input(0);
        if (c.numElements() != 1)
            return ctx.error(StatusCode::InvalidInput, "condition must have one element, got " +
                                                           describe(c.dtype(), c.dims()));
        SubgraphRunner& b = m_branch[c.intAt(0) != 0 ? 1 : 0];
        b.bindOuter(ctx);
        EW_TRY(b.run(ctx, m_outs));
        for (std::size_t i = 0; i < ctx.numOutputs(); ++i)
            ctx.setOutput(i, m_outs[i].dtype(), m_outs[i].dims());
        return {};
    }

    void run(RunContext& ctx) override {
        for (std::size_t i = 0; i < m_outs.size(); ++i)
            if (ctx.hasOutput(i))
                copyBytes(ctx.output(i).raw(), m_outs[i].raw(), m_outs[i].byteSize());
    }

    bool dataDependentShapes() const override { return true; }

  private:
    SubgraphRunner m_branch[2]; ///< [0] else, [1] then
    std::vector<Tensor> m_outs; ///< the taken branch's outputs of the last prepare
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeIf() {
    return std::make_unique<cpu::IfKernel>();
}

} // namespace ew::rt
