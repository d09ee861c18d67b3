// Pad: constant, reflect, edge and wrap modes; pads from the attribute (opset < 11) or inputs
// (with optional constant_value and, from opset 18, axes). Negative pads crop.
#include "kernel_util.h"

namespace ew::rt {
namespace cpu {
namespace {

class PadKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_mode = n.attrString("mode", "constant");
        if (m_mode != "constant" && m_mode != "reflect" && m_mode != "edge" && m_mode != "wrap")
            return ctx.error(StatusCode::Unsupported, "mode '" + m_mode + "'");
        m_fromAttr = ctx.opset() < 11;
        if (m_fromAttr) {
            m_attrPads = n.attrInts("pads");
            m_attrValue = n.attrFloat("value", 0.f);
        } else {
            m_dataDependent = !ctx.constantInput(1) || (ctx.hasInput(3) && !ctx.constantInput(3));
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (!isMovable(x.dtype())) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()));
        int64_t r = static_cast<int64_t>(x.rank());
        if (r > kMaxRank) return ctx.error(StatusCode::Unsupported, "rank too large");
        if (m_fromAttr) m_pads.assign(m_attrPads.begin(), m_attrPads.end());
        else readInts(ctx.input(1), m_pads);
        m_full.assign(static_cast<std::size_t>(2 * r), 0);
        if (!m_fromAttr && ctx.hasInput(3)) {
            readInts(ctx.input(3), m_axes);
            if (m_pads.size() != 2 * m_axes.size())
                return ctx.error(StatusCode::InvalidInput, "pads must have 2 entries per axis");
            for (std::size_t i = 0; i < m_axes.size(); ++i) {
                int64_t a = m_axes[i];
                if (!normalizeAxis(a, r)) return ctx.error(StatusCode::InvalidInput, "axis out of range");
                m_full[a] = m_pads[i];
                m_full[a + r] = m_pads[i + m_axes.size()];
            }
        } else {
            if (static_cast<int64_t>(m_pads.size()) != 2 * r)
                return ctx.error(StatusCode::InvalidInput, "pads must have 2 entries per dim");
            m_full.assign(m_pads.begin(), m_pads.end());
        }
        if (!m_fromAttr && ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype())
            return ctx.error(StatusCode::InvalidInput, "constant_value must have the input's type");
        m_dims.resize(r);
        m_map.clear();
        m_mapStart.resize(r);
        for (int64_t d = 0; d < r; ++d) {
            int64_t n = x.dims()[d], pb = m_full[d], pe = m_full[d + r];
            m_dims[d] = n + pb + pe;
            if (m_dims[d] < 0) return ctx.error(StatusCode::InvalidInput, "pads crop more than the input");
            if (m_mode != "constant" && n == 0 && m_dims[d] > 0)
                return ctx.error(StatusCode::InvalidInput, "cannot " + m_mode + "-pad an empty dim");
            m_mapStart[d] = static_cast<int64_t>(m_map.size());
            for (int64_t o = 0; o < m_dims[d]; ++o) {
                int64_t i = o - pb;
                if (i < 0 || i >= n) {
                    if (m_mode == "constant") i = -1;
                    else if (m_mode == "edge") i = i < 0 ? 0 : n - 1;
                    else if (m_mode == "wrap") i = ((i % n) + n) % n;
                    else if (n == 1) i = 0;
                    else {
                        int64_t period = 2 * (n - 1);
                        i = ((i % period) + period) % period;
                        if (i >= n) i = period - i;
                    }
                }
                m_map.push_back(i);
            }
        }
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        Tensor& out = ctx.output(0);
        const std::size_t w = elementSize(x.dtype());
        const int64_t r = static_cast<int64_t>(x.rank());
        // The fill value, as bytes of the element type.
        std::byte fill[8] = {};
        if (m_fromAttr) {
            double v = m_attrValue;
            dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                T t = store<T>(static_cast<Compute<T>>(v));
                std::memcpy(fill, &t, sizeof(T));
            });
        } else if (ctx.hasInput(2) && ctx.input(2).numElements() > 0) {
            std::memcpy(fill, ctx.input(2).raw(), w);
        }
        int64_t inStride[kMaxRank], idx[kMaxRank] = {};
        int64_t s = 1;
        for (int64_t d = r - 1; d >= 0; --d) {
            inStride[d] = s;
            s *= x.dims()[d];
        }
        const int64_t n = out.numElements();
        for (int64_t i = 0; i < n; ++i) {
            int64_t src = 0;
            bool inside = true;
            for (int64_t d = 0; d < r; ++d) {
                int64_t m = m_map[m_mapStart[d] + idx[d]];
                if (m < 0) {
                    inside = false;
                    break;
                }
                src += m * inStride[d];
            }
            std::memcpy(out.raw() + i * w, inside ? x.raw() + src * w : fill, w);
            for (int64_t d = r - 1; d >= 0; --d) {
                if (++idx[d] < m_dims[d]) break;
                idx[d] = 0;
            }
        }
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    std::string m_mode;
    bool m_fromAttr = false, m_dataDependent = false;
    std::vector<int64_t> m_attrPads, m_pads, m_axes, m_full, m_dims, m_map, m_mapStart;
    float m_attrValue = 0.f;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makePad() { return std::make_unique<cpu::PadKernel>(); }

} // namespace ew::rt
