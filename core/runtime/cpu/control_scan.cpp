// Scan: the body is compiled once at init as a sub-session; prepare() runs every iteration (the
// body's per-iteration output shapes are only known by running it) and run() writes the results.
//
// Opset 9+: scan inputs are sliced along scan_input_axes (axis-0 slices are fed in place, other
// axes are gathered into a contiguous buffer), read forward or backward per
// scan_input_directions; each iteration's scan outputs are kept in iteration order and run()
// stacks them along scan_output_axes, reversed per scan_output_directions.
// Opset 8: every input has a leading batch axis and scan inputs scan along axis 1; batch entry b
// runs sequence_lens[b] iterations (all when absent), scan outputs are [batch, sequence, ...] with
// the rows past a shorter sequence's end zero-filled. `directions` applies to scan inputs only.
#include "control_util.h"
#include "kernel_util.h"

#include <algorithm>

namespace ew::rt {
namespace cpu {
namespace {

class ScanKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY(checkTensorValues(ctx));
        EW_TRY_ASSIGN(const ir::Graph* body, subgraphAttr(ctx, "body"));
        m_v8 = ctx.opset() < 9;
        m_first = m_v8 ? 1 : 0; // opset 8's input 0 is sequence_lens
        const int64_t numScan = ctx.node().attrInt("num_scan_inputs", -1);
        const int64_t numIn = static_cast<int64_t>(ctx.numInputs()) - m_first;
        if (numScan < 1 || numScan > numIn)
            return ctx.error(StatusCode::InvalidInput,
                             "num_scan_inputs " + std::to_string(numScan) + " does not fit " +
                                 std::to_string(numIn) + " inputs");
        m_scanIn = static_cast<std::size_t>(numScan);
        m_states = static_cast<std::size_t>(numIn - numScan);
        if (body->inputs.size() != m_states + m_scanIn)
            return ctx.error(StatusCode::InvalidInput,
                             "body has " + std::to_string(body->inputs.size()) +
                                 " inputs, expected " + std::to_string(m_states + m_scanIn));
        if (body->outputs.size() < m_states || ctx.numOutputs() > body->outputs.size())
            return ctx.error(StatusCode::InvalidInput,
                             "body outputs do not match the node's states and scan outputs");
        m_scanOut = body->outputs.size() - m_states;
        auto flags = [&](const char* name, std::size_t n, std::vector<int64_t>& out) -> VoidResult {
            out = ctx.node().attrInts(name, {});
            if (out.empty()) out.assign(n, 0);
            if (out.size() != n)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string(name) + " has " + std::to_string(out.size()) +
                                     " entries, expected " + std::to_string(n));
            return {};
        };
        if (m_v8) {
            EW_TRY(flags("directions", m_scanIn, m_inDir));
            m_inAxes.assign(m_scanIn, 1);
            m_outAxes.assign(m_scanOut, 1);
            m_outDir.assign(m_scanOut, 0);
        } else {
            EW_TRY(flags("scan_input_directions", m_scanIn, m_inDir));
            EW_TRY(flags("scan_input_axes", m_scanIn, m_inAxes));
            EW_TRY(flags("scan_output_directions", m_scanOut, m_outDir));
            EW_TRY(flags("scan_output_axes", m_scanOut, m_outAxes));
        }
        EW_TRY(m_body.init(ctx, *body, "body", 4));
        m_out.resize(m_states + m_scanOut);
        m_slice.resize(m_scanIn);
        m_cur.resize(m_states);
        m_seen.resize(m_scanOut);
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        for (std::size_t i = m_first; i < m_first + m_states + m_scanIn; ++i)
            if (!ctx.hasInput(i))
                return ctx.error(StatusCode::InvalidInput,
                                 "input " + std::to_string(i) + " is missing");
        m_body.bindOuter(ctx);
        return m_v8 ? prepare8(ctx) : prepare9(ctx);
    }

    void run(RunContext& ctx) override {
        for (std::size_t j = 0; j < m_out.size(); ++j) {
            if (!ctx.hasOutput(j)) continue;
            const Result& r = m_out[j];
            std::byte* dst = ctx.output(j).raw();
            if (j < m_states || r.rows == 0 || (r.axis == 0 && !r.reverse)) {
                copyBytes(dst, r.bytes.data(), r.bytes.size());
                continue;
            }
            // Iteration t's block [outer, inner] goes to dst[o, t', :] with t' = t or rows-1-t.
            const std::size_t inner = r.inner * elementSize(r.dtype);
            for (int64_t t = 0; t < r.rows; ++t) {
                int64_t tt = r.reverse ? r.rows - 1 - t : t;
                copyRows(dst + tt * inner, static_cast<std::ptrdiff_t>(inner * r.rows),
                         r.bytes.data() + t * r.outer * inner, static_cast<std::ptrdiff_t>(inner),
                         r.outer, inner);
            }
        }
    }

    bool dataDependentShapes() const override { return true; }

  private:
    /// One output: final state bytes, or the scan output's iterations back to back.
    struct Result {
        DataType dtype = DataType::Undefined;
        std::vector<int64_t> dims; ///< the node output's dims
        std::vector<int64_t> iterDims;
        std::vector<std::byte> bytes;
        int64_t rows = 0;             ///< iterations stacked (scan outputs)
        int64_t outer = 1, inner = 1; ///< elements before / from the scan axis in one iteration
        int64_t axis = 0;
        bool reverse = false;
    };

    /// Runs the body once on the bound inputs; states go round through two output buffers.
    VoidResult step(const PrepareContext& ctx, int64_t t) {
        std::vector<Tensor>& outs = m_outs[t & 1];
        EW_TRY(m_body.run(ctx, outs));
        for (std::size_t j = 0; j < m_states; ++j)
            m_cur[j] = &outs[j];
        return {};
    }

    /// Checks scan output k of iteration t against iteration 0's dtype/dims.
    VoidResult checkScanOut(const PrepareContext& ctx, std::size_t k, const Tensor& t, bool first) {
        Result& r = m_out[m_states + k];
        if (first) {
            r.dtype = t.dtype();
            r.iterDims.assign(t.dims().begin(), t.dims().end());
            return {};
        }
        if (t.dtype() != r.dtype || t.dims() != r.iterDims)
            return ctx.error(StatusCode::InvalidInput, "scan output " + std::to_string(k) +
                                                           " changed from " +
                                                           describe(r.dtype, r.iterDims) + " to " +
                                                           describe(t.dtype(), t.dims()));
        return {};
    }

    VoidResult prepare9(PrepareContext& ctx) {
        // Sequence length and the slicing geometry of every scan input.
        int64_t len = -1;
        for (std::size_t m = 0; m < m_scanIn; ++m) {
            const Tensor& x = ctx.input(m_states + m);
            int64_t axis = m_inAxes[m];
            if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
                return ctx.error(StatusCode::InvalidInput,
                                 "scan_input_axes[" + std::to_string(m) +
                                     "] = " + std::to_string(m_inAxes[m]) +
                                     " is out of range for " + describe(x.dtype(), x.dims()));
            int64_t n = x.dims()[axis];
            if (len >= 0 && n != len)
                return ctx.error(StatusCode::InvalidInput,
                                 "scan inputs disagree on the sequence length (" +
                                     std::to_string(len) + " vs " + std::to_string(n) + ")");
            len = n;
            Slice& s = m_slice[m];
            s.axis = axis;
            s.dims.assign(x.dims().begin(), x.dims().end());
            s.dims.erase(s.dims.begin() + axis);
            s.outer = numElementsOf(std::span<const int64_t>(x.dims()).first(axis));
            s.innerBytes = static_cast<std::size_t>(numElementsOf(
                               std::span<const int64_t>(x.dims()).subspan(axis + 1))) *
                           elementSize(x.dtype());
            if (axis != 0) s.buffer.resize(s.innerBytes * static_cast<std::size_t>(s.outer));
        }
        for (std::size_t j = 0; j < m_states; ++j)
            m_cur[j] = &ctx.input(j);
        for (std::size_t k = 0; k < m_scanOut; ++k)
            m_out[m_states + k].bytes.clear();

        for (int64_t t = 0; t < len; ++t) {
            for (std::size_t j = 0; j < m_states; ++j)
                m_body.bindFormal(j, *m_cur[j]);
            for (std::size_t m = 0; m < m_scanIn; ++m) {
                const Tensor& x = ctx.input(m_states + m);
                Slice& s = m_slice[m];
                int64_t tt = m_inDir[m] ? len - 1 - t : t;
                const std::byte* src = x.raw() + static_cast<std::size_t>(tt) * s.innerBytes;
                if (s.axis != 0) {
                    copyRows(s.buffer.data(), static_cast<std::ptrdiff_t>(s.innerBytes), src,
                             static_cast<std::ptrdiff_t>(s.innerBytes * len), s.outer,
                             s.innerBytes);
                    src = s.buffer.data();
                }
                m_body.bindFormal(m_states + m, x.dtype(), s.dims, src);
            }
            EW_TRY(step(ctx, t));
            const std::vector<Tensor>& outs = m_outs[t & 1];
            for (std::size_t k = 0; k < m_scanOut; ++k) {
                const Tensor& y = outs[m_states + k];
                EW_TRY(checkScanOut(ctx, k, y, t == 0));
                Result& r = m_out[m_states + k];
                if (t == 0) r.bytes.reserve(y.byteSize() * static_cast<std::size_t>(len));
                r.bytes.insert(r.bytes.end(), y.raw(), y.raw() + y.byteSize());
            }
        }
        return finish(ctx, len);
    }

    /// Declares the outputs: final states, and scan outputs with `len` rows inserted at their axis.
    VoidResult finish(PrepareContext& ctx, int64_t len) {
        for (std::size_t j = 0; j < m_states; ++j) {
            Result& r = m_out[j];
            r.dtype = m_cur[j]->dtype();
            r.dims.assign(m_cur[j]->dims().begin(), m_cur[j]->dims().end());
            r.bytes.assign(m_cur[j]->raw(), m_cur[j]->raw() + m_cur[j]->byteSize());
            ctx.setOutput(j, r.dtype, r.dims);
        }
        for (std::size_t k = 0; k < m_scanOut; ++k) {
            Result& r = m_out[m_states + k];
            if (len == 0) {
                const ir::Type& ty = m_body.outputType(m_states + k);
                r.dtype = ty.elemType != DataType::Undefined ? ty.elemType : DataType::Float;
                r.iterDims.clear();
                if (ty.shape)
                    for (const ir::Dim& d : ty.shape->dims)
                        r.iterDims.push_back(d.isKnown() ? d.value : 0);
                r.bytes.clear();
            }
            int64_t axis = m_outAxes[k];
            if (!normalizeAxis(axis, static_cast<int64_t>(r.iterDims.size()) + 1))
                return ctx.error(StatusCode::InvalidInput,
                                 "scan_output_axes[" + std::to_string(k) +
                                     "] = " + std::to_string(m_outAxes[k]) + " is out of range");
            r.axis = axis;
            r.reverse = m_outDir[k] != 0;
            r.rows = len;
            r.outer = numElementsOf(std::span<const int64_t>(r.iterDims).first(axis));
            r.inner = numElementsOf(std::span<const int64_t>(r.iterDims).subspan(axis));
            r.dims = r.iterDims;
            r.dims.insert(r.dims.begin() + axis, len);
            ctx.setOutput(m_states + k, r.dtype, r.dims);
        }
        return {};
    }

    VoidResult prepare8(PrepareContext& ctx) {
        const Tensor& first = ctx.input(m_first);
        if (first.rank() < 1)
            return ctx.error(StatusCode::InvalidInput, "inputs need a leading batch axis");
        const int64_t batch = first.dims()[0];
        int64_t maxLen = -1;
        for (std::size_t i = 0; i < m_states + m_scanIn; ++i) {
            const Tensor& x = ctx.input(m_first + i);
            bool scan = i >= m_states;
            if (x.rank() < (scan ? 2u : 1u) || x.dims()[0] != batch)
                return ctx.error(StatusCode::InvalidInput,
                                 "input " + std::to_string(m_first + i) + " " +
                                     describe(x.dtype(), x.dims()) + " lacks the batch axis of " +
                                     std::to_string(batch) + (scan ? " and a sequence axis" : ""));
            if (scan) {
                if (maxLen >= 0 && x.dims()[1] != maxLen)
                    return ctx.error(StatusCode::InvalidInput,
                                     "scan inputs disagree on the sequence length");
                maxLen = x.dims()[1];
            }
        }
        m_lens.assign(static_cast<std::size_t>(batch), maxLen);
        if (ctx.hasInput(0)) {
            const Tensor& sl = ctx.input(0);
            if (sl.numElements() != batch)
                return ctx.error(StatusCode::InvalidInput,
                                 "sequence_lens has " + std::to_string(sl.numElements()) +
                                     " entries for a batch of " + std::to_string(batch));
            for (int64_t b = 0; b < batch; ++b) {
                m_lens[b] = sl.intAt(b);
                if (m_lens[b] < 0 || m_lens[b] > maxLen)
                    return ctx.error(StatusCode::InvalidInput,
                                     "sequence_lens[" + std::to_string(b) +
                                         "] = " + std::to_string(m_lens[b]) + " is outside [0, " +
                                         std::to_string(maxLen) + "]");
            }
        }
        // Per-batch-entry views: states [batch, ...], scan inputs [batch, seq, ...].
        for (std::size_t m = 0; m < m_scanIn; ++m) {
            const Tensor& x = ctx.input(m_first + m_states + m);
            Slice& s = m_slice[m];
            s.dims.assign(x.dims().begin() + 2, x.dims().end());
            s.innerBytes = static_cast<std::size_t>(numElementsOf(s.dims)) * elementSize(x.dtype());
        }
        m_stateDims.resize(m_states);
        for (std::size_t j = 0; j < m_states; ++j) {
            const Tensor& x = ctx.input(m_first + j);
            m_stateDims[j].assign(x.dims().begin() + 1, x.dims().end());
            m_out[j].bytes.clear();
        }
        for (std::size_t k = 0; k < m_scanOut; ++k)
            m_out[m_states + k].bytes.clear();

        std::fill(m_seen.begin(), m_seen.end(), false);
        for (int64_t b = 0; b < batch; ++b) {
            const int64_t len = m_lens[b];
            for (std::size_t j = 0; j < m_states; ++j) {
                const Tensor& x = ctx.input(m_first + j);
                m_body.bindFormal(j, x.dtype(), m_stateDims[j], x.raw() + b * stateBytes(x, batch));
            }
            for (int64_t t = 0; t < len; ++t) {
                if (t > 0)
                    for (std::size_t j = 0; j < m_states; ++j)
                        m_body.bindFormal(j, *m_cur[j]);
                for (std::size_t m = 0; m < m_scanIn; ++m) {
                    const Tensor& x = ctx.input(m_first + m_states + m);
                    const Slice& s = m_slice[m];
                    int64_t tt = m_inDir[m] ? len - 1 - t : t;
                    m_body.bindFormal(m_states + m, x.dtype(), s.dims,
                                      x.raw() +
                                          static_cast<std::size_t>(b * maxLen + tt) * s.innerBytes);
                }
                EW_TRY(step(ctx, t));
                const std::vector<Tensor>& outs = m_outs[t & 1];
                for (std::size_t k = 0; k < m_scanOut; ++k) {
                    const Tensor& y = outs[m_states + k];
                    EW_TRY(checkScanOut(ctx, k, y, !m_seen[k]));
                    Result& r = m_out[m_states + k];
                    if (!m_seen[k])
                        r.bytes.assign(y.byteSize() * static_cast<std::size_t>(batch * maxLen),
                                       std::byte{0});
                    m_seen[k] = true;
                    std::memcpy(r.bytes.data() +
                                    static_cast<std::size_t>(b * maxLen + t) * y.byteSize(),
                                y.raw(), y.byteSize());
                }
            }
            for (std::size_t j = 0; j < m_states; ++j) {
                const Tensor& x = ctx.input(m_first + j);
                const std::size_t bytes = stateBytes(x, batch);
                const std::byte* src = x.raw() + b * bytes; // no iteration: the initial state
                if (len > 0) {
                    if (m_cur[j]->dtype() != x.dtype() || m_cur[j]->dims() != m_stateDims[j])
                        return ctx.error(StatusCode::InvalidInput,
                                         "state " + std::to_string(j) + " changed to " +
                                             describe(m_cur[j]->dtype(), m_cur[j]->dims()));
                    src = m_cur[j]->raw();
                }
                m_out[j].bytes.insert(m_out[j].bytes.end(), src, src + bytes);
            }
        }
        for (std::size_t j = 0; j < m_states; ++j) {
            const Tensor& x = ctx.input(m_first + j);
            m_out[j].dtype = x.dtype();
            m_out[j].dims = x.dims();
            ctx.setOutput(j, x.dtype(), x.dims());
        }
        for (std::size_t k = 0; k < m_scanOut; ++k) {
            Result& r = m_out[m_states + k];
            if (!m_seen[k]) { // no iteration anywhere: the declared type, zero-filled
                const ir::Type& ty = m_body.outputType(m_states + k);
                r.dtype = ty.elemType != DataType::Undefined ? ty.elemType : DataType::Float;
                r.iterDims.clear();
                if (ty.shape)
                    for (const ir::Dim& d : ty.shape->dims)
                        r.iterDims.push_back(d.isKnown() ? d.value : 0);
                r.bytes.assign(
                    static_cast<std::size_t>(numElementsOf(r.iterDims) * batch * maxLen) *
                        elementSize(r.dtype),
                    std::byte{0});
            }
            r.rows = 0; // stored in output order already
            r.dims.assign({batch, maxLen});
            r.dims.insert(r.dims.end(), r.iterDims.begin(), r.iterDims.end());
            ctx.setOutput(m_states + k, r.dtype, r.dims);
        }
        return {};
    }

    static std::size_t stateBytes(const Tensor& x, int64_t batch) {
        return batch > 0 ? x.byteSize() / static_cast<std::size_t>(batch) : 0;
    }

    struct Slice {
        int64_t axis = 0;
        std::vector<int64_t> dims; ///< one slice's
        int64_t outer = 1;
        std::size_t innerBytes = 0;
        std::vector<std::byte> buffer; ///< gathered slice when axis != 0
    };
    SubgraphRunner m_body;
    bool m_v8 = false;
    std::size_t m_first = 0, m_states = 0, m_scanIn = 0, m_scanOut = 0;
    std::vector<int64_t> m_inDir, m_inAxes, m_outDir, m_outAxes, m_lens;
    std::vector<Slice> m_slice;
    std::vector<std::vector<int64_t>> m_stateDims;
    std::vector<char> m_seen; ///< opset 8: scan output k produced at least once this run
    std::vector<Tensor> m_outs[2];
    std::vector<const Tensor*> m_cur; ///< current states
    std::vector<Result> m_out;        ///< per node output
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeScan() {
    return std::make_unique<cpu::ScanKernel>();
}

} // namespace ew::rt
