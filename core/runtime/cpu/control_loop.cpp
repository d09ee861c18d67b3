// Loop (opsets 1-21 on tensors): the body is compiled once at init as a sub-session; prepare()
// runs the whole loop, since the trip count, the final loop-carried shapes and the scan outputs'
// length are only known by running it, and run() copies the results out.
//
// Iteration i feeds (i, cond, carried...) and reads back (cond', carried'..., scan...). Two output
// buffers alternate so iteration i's outputs never overwrite the inputs it is reading (a body that
// swaps two carried values). Scan outputs are appended to growing byte buffers and stacked along a
// new axis 0; every iteration must give them the same dtype and dims.
#include "control_util.h"
#include "kernel_util.h"

#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

class LoopKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY(checkTensorValues(ctx));
        EW_TRY_ASSIGN(const ir::Graph* body, subgraphAttr(ctx, "body"));
        if (ctx.numInputs() < 2)
            return ctx.error(StatusCode::InvalidInput,
                             "needs inputs M and cond (either may be empty)");
        m_carried = ctx.numInputs() - 2;
        if (body->inputs.size() != m_carried + 2)
            return ctx.error(StatusCode::InvalidInput,
                             "body has " + std::to_string(body->inputs.size()) +
                                 " inputs, expected " + std::to_string(m_carried + 2) +
                                 " (iteration, condition, loop-carried values)");
        if (body->outputs.size() < m_carried + 1)
            return ctx.error(StatusCode::InvalidInput,
                             "body has " + std::to_string(body->outputs.size()) +
                                 " outputs, expected at least " + std::to_string(m_carried + 1) +
                                 " (condition, loop-carried values)");
        m_scans = body->outputs.size() - 1 - m_carried;
        if (ctx.numOutputs() > m_carried + m_scans)
            return ctx.error(StatusCode::InvalidInput,
                             "more outputs than loop-carried values plus scan outputs");
        // Plans for a few shape signatures: carried shapes may change from one iteration to the
        // next.
        EW_TRY(m_body.init(ctx, *body, "body", 8));
        m_iter = Tensor::allocate(DataType::Int64, {});
        m_cond = Tensor::allocate(DataType::Bool, {});
        m_iterDims = scalarDims(m_body.formalType(0));
        m_condDims = scalarDims(m_body.formalType(1));
        m_scan.resize(m_scans);
        m_final.resize(m_carried);
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        int64_t tripLimit = std::numeric_limits<int64_t>::max();
        if (ctx.hasInput(0) && ctx.input(0).numElements() > 0) tripLimit = ctx.input(0).intAt(0);
        bool cond = true;
        if (ctx.hasInput(1) && ctx.input(1).numElements() > 0) cond = ctx.input(1).intAt(0) != 0;
        for (std::size_t j = 0; j < m_carried; ++j) {
            if (!ctx.hasInput(2 + j))
                return ctx.error(StatusCode::InvalidInput,
                                 "loop-carried input " + std::to_string(j) + " is missing");
            m_final[j] = &ctx.input(2 + j);
        }
        for (Scan& s : m_scan)
            s.bytes.clear();
        m_body.bindOuter(ctx);

        int64_t i = 0;
        for (; i < tripLimit && cond; ++i) {
            m_iter.data<int64_t>()[0] = i;
            m_cond.data<bool>()[0] = cond;
            m_body.bindFormal(0, DataType::Int64, m_iterDims, m_iter.raw());
            m_body.bindFormal(1, DataType::Bool, m_condDims, m_cond.raw());
            for (std::size_t j = 0; j < m_carried; ++j)
                m_body.bindFormal(2 + j, *m_final[j]);
            std::vector<Tensor>& outs = m_outs[i & 1];
            EW_TRY(m_body.run(ctx, outs));
            if (outs[0].numElements() != 1)
                return ctx.error(StatusCode::InvalidInput,
                                 "body condition output must have one element, got " +
                                     describe(outs[0].dtype(), outs[0].dims()));
            cond = outs[0].intAt(0) != 0;
            for (std::size_t j = 0; j < m_carried; ++j)
                m_final[j] = &outs[1 + j];
            for (std::size_t k = 0; k < m_scans; ++k) {
                const Tensor& t = outs[1 + m_carried + k];
                Scan& s = m_scan[k];
                if (i == 0) {
                    s.dtype = t.dtype();
                    s.dims.assign(t.dims().begin(), t.dims().end());
                } else if (t.dtype() != s.dtype || t.dims() != s.dims) {
                    return ctx.error(StatusCode::InvalidInput,
                                     "scan output " + std::to_string(k) + " changed from " +
                                         describe(s.dtype, s.dims) + " to " +
                                         describe(t.dtype(), t.dims()) + " at iteration " +
                                         std::to_string(i));
                }
                s.bytes.insert(s.bytes.end(), t.raw(), t.raw() + t.byteSize());
            }
        }

        for (std::size_t j = 0; j < m_carried; ++j)
            ctx.setOutput(j, m_final[j]->dtype(), m_final[j]->dims());
        for (std::size_t k = 0; k < m_scans; ++k) {
            Scan& s = m_scan[k];
            if (i ==
                0) { // no iteration: the declared element type, zero rows of the declared shape
                const ir::Type& ty = m_body.outputType(1 + m_carried + k);
                s.dtype = ty.elemType != DataType::Undefined ? ty.elemType : DataType::Float;
                s.dims.clear();
                if (ty.shape)
                    for (const ir::Dim& d : ty.shape->dims)
                        s.dims.push_back(d.isKnown() ? d.value : 0);
            }
            m_outDims.assign(1, i);
            m_outDims.insert(m_outDims.end(), s.dims.begin(), s.dims.end());
            ctx.setOutput(m_carried + k, s.dtype, m_outDims);
        }
        return {};
    }

    void run(RunContext& ctx) override {
        for (std::size_t j = 0; j < m_carried; ++j)
            if (ctx.hasOutput(j))
                copyBytes(ctx.output(j).raw(), m_final[j]->raw(), m_final[j]->byteSize());
        for (std::size_t k = 0; k < m_scans; ++k)
            if (ctx.hasOutput(m_carried + k))
                copyBytes(ctx.output(m_carried + k).raw(), m_scan[k].bytes.data(),
                          m_scan[k].bytes.size());
    }

    bool dataDependentShapes() const override { return true; }

  private:
    /// A body input declared with one element of rank 1 gets dims {1}, otherwise a scalar.
    static std::vector<int64_t> scalarDims(const ir::Type& t) {
        if (t.shape && t.shape->rank() == 1) return {1};
        return {};
    }

    struct Scan {
        DataType dtype = DataType::Undefined;
        std::vector<int64_t> dims;    ///< one iteration's
        std::vector<std::byte> bytes; ///< iterations back to back
    };
    SubgraphRunner m_body;
    std::size_t m_carried = 0, m_scans = 0;
    Tensor m_iter, m_cond;
    std::vector<int64_t> m_iterDims, m_condDims, m_outDims;
    std::vector<Tensor> m_outs[2];
    std::vector<const Tensor*>
        m_final; ///< final loop-carried values (an input when no iteration ran)
    std::vector<Scan> m_scan;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeLoop() {
    return std::make_unique<cpu::LoopKernel>();
}

} // namespace ew::rt
