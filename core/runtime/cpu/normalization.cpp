// BatchNormalization (inference: per-channel affine from the running statistics) and
// LayerNormalization (mean/variance over the trailing axes, optional Mean/InvStdDev outputs).
#include "kernel_util.h"

#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

class BatchNormKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_eps = ctx.node().attrFloat("epsilon", 1e-5f);
        m_momentum = ctx.node().attrFloat("momentum", 0.9f);
        // Training mode (opset 14+): normalize with the batch statistics and, when asked for,
        // output the updated running mean and variance.
        m_training = ctx.node().attrInt("training_mode", 0) != 0;
        if (!m_training)
            for (std::size_t i = 1; i < ctx.numOutputs(); ++i)
                if (ctx.hasOutput(i))
                    return ctx.error(StatusCode::Unsupported, "running statistics outputs need training_mode=1");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 2) return ctx.error(StatusCode::InvalidInput, "input must have a channel dim");
        int64_t C = x.dims()[1];
        for (std::size_t i = 1; i < 5; ++i)
            if (!ctx.hasInput(i) || ctx.input(i).numElements() != C || !ir::isFloatingPoint(ctx.input(i).dtype()))
                return ctx.error(StatusCode::InvalidInput, "scale, B, mean and var must be float vectors of " +
                                                               std::to_string(C));
        m_C = C;
        m_inner = 1;
        for (std::size_t d = 2; d < x.rank(); ++d) m_inner *= x.dims()[d];
        m_a.resize(static_cast<std::size_t>(C));
        m_b.resize(static_cast<std::size_t>(C));
        m_fn = nullptr;
        dispatch<EW_FLOAT_TYPES>(x.dtype(), [&](auto tag) { m_fn = &BatchNormKernel::runTyped<typename decltype(tag)::type>; });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        if (m_training) {
            const DataType st = ctx.input(3).dtype();
            if (st != DataType::Float && st != DataType::Double)
                return ctx.error(StatusCode::Unsupported, "training mode needs float32/float64 statistics");
            ctx.setOutput(1, st, {C});
            ctx.setOutput(2, ctx.input(4).dtype(), {C});
            m_batchMean.resize(static_cast<std::size_t>(C));
            m_batchVar.resize(static_cast<std::size_t>(C));
        }
        return {};
    }
    void run(RunContext& ctx) override {
        if (m_training) batchStatistics(ctx);
        for (int64_t c = 0; c < m_C; ++c) {
            double scale = ctx.input(1).doubleAt(c), bias = ctx.input(2).doubleAt(c);
            double mean = m_training ? m_batchMean[c] : ctx.input(3).doubleAt(c);
            double var = m_training ? m_batchVar[c] : ctx.input(4).doubleAt(c);
            double a = scale / std::sqrt(var + static_cast<double>(m_eps));
            m_a[c] = a;
            m_b[c] = bias - mean * a;
        }
        (this->*m_fn)(ctx);
    }
    /// Training mode reads X for the statistics after output 0 could have overwritten it.
    int inPlaceInput() const override { return m_training ? -1 : 0; }

private:
    /// Per-channel mean and (population) variance over batch and spatial dims, in double; writes
    /// running_mean / running_var = input * momentum + batch * (1 - momentum) when requested.
    void batchStatistics(RunContext& ctx) {
        const Tensor& x = ctx.input(0);
        const int64_t planes = m_inner ? x.numElements() / m_inner : 0;
        for (int64_t c = 0; c < m_C; ++c) {
            double sum = 0, sq = 0;
            int64_t count = 0;
            for (int64_t p = c; p < planes; p += m_C)
                for (int64_t i = 0; i < m_inner; ++i) {
                    const double v = x.doubleAt(p * m_inner + i);
                    sum += v;
                    sq += v * v;
                    ++count;
                }
            const double mean = count ? sum / static_cast<double>(count) : 0.0;
            m_batchMean[c] = mean;
            m_batchVar[c] = count ? std::max(0.0, sq / static_cast<double>(count) - mean * mean) : 0.0;
        }
        const double mom = m_momentum;
        auto write = [&](std::size_t out, std::size_t in, const std::vector<double>& batch) {
            if (!ctx.hasOutput(out)) return;
            Tensor& t = ctx.output(out);
            for (int64_t c = 0; c < m_C; ++c) {
                const double v = ctx.input(in).doubleAt(c) * mom + batch[c] * (1.0 - mom);
                if (t.dtype() == DataType::Double) t.data<double>()[c] = v;
                else t.data<float>()[c] = static_cast<float>(v);
            }
        };
        write(1, 3, m_batchMean);
        write(2, 4, m_batchVar);
    }

    template <typename T>
    void runTyped(RunContext& ctx) {
        using C = Compute<T>;
        const T* x = ctx.input(0).data<T>();
        T* y = ctx.output(0).data<T>();
        int64_t planes = ctx.input(0).numElements() / (m_inner ? m_inner : 1);
        if (m_inner == 0) return;
        ctx.pool().parallelFor(0, planes, chunkRows(m_inner), [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p) {
                int64_t c = p % m_C;
                const C a = static_cast<C>(m_a[c]), bb = static_cast<C>(m_b[c]);
                const T* xi = x + p * m_inner;
                T* yi = y + p * m_inner;
                for (int64_t i = 0; i < m_inner; ++i) yi[i] = store<T>(load(xi[i]) * a + bb);
            }
        });
    }
    float m_eps = 1e-5f;
    float m_momentum = 0.9f;
    bool m_training = false;
    int64_t m_C = 0, m_inner = 1;
    std::vector<double> m_a, m_b, m_batchMean, m_batchVar;
    void (BatchNormKernel::*m_fn)(RunContext&) = nullptr;
};

class LayerNormKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", -1);
        m_eps = ctx.node().attrFloat("epsilon", 1e-5f);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t axis = m_axis;
        if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
            return ctx.error(StatusCode::InvalidInput, "axis " + std::to_string(m_axis) + " out of range for " +
                                                           dimsText(x.dims()));
        std::span<const int64_t> norm = std::span<const int64_t>(x.dims()).subspan(static_cast<std::size_t>(axis));
        m_inner = numElementsOf(norm);
        m_outer = numElementsOf(std::span<const int64_t>(x.dims()).first(static_cast<std::size_t>(axis)));
        const Tensor& scale = ctx.input(1);
        std::vector<int64_t> none;
        std::span<const int64_t> bdims = ctx.hasInput(2) ? std::span<const int64_t>(ctx.input(2).dims()) : std::span<const int64_t>(none);
        if (scale.dtype() != x.dtype() || (ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype()))
            return ctx.error(StatusCode::InvalidInput, "Scale and B must have the input's type");
        if (!m_bc.make(norm, {scale.dims(), bdims}))
            return ctx.error(StatusCode::InvalidInput, "Scale " + dimsText(scale.dims()) + " / B do not broadcast to " +
                                                           dimsText(norm));
        m_fn = nullptr;
        dispatch<EW_FLOAT_TYPES>(x.dtype(), [&](auto tag) { m_fn = &LayerNormKernel::runTyped<typename decltype(tag)::type>; });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        std::vector<int64_t> statDims(x.dims());
        for (std::size_t d = static_cast<std::size_t>(axis); d < statDims.size(); ++d) statDims[d] = 1;
        DataType st = ir::isFloatingPoint(x.dtype()) ? DataType::Float : x.dtype();
        ctx.setOutput(1, st, statDims);
        ctx.setOutput(2, st, statDims);
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

private:
    template <typename T>
    void runTyped(RunContext& ctx) {
        const T* x = ctx.input(0).data<T>();
        const T* scale = ctx.input(1).data<T>();
        const T* bias = ctx.hasInput(2) ? ctx.input(2).data<T>() : nullptr;
        T* y = ctx.output(0).data<T>();
        float* meanOut = ctx.hasOutput(1) ? ctx.output(1).data<float>() : nullptr;
        float* invOut = ctx.hasOutput(2) ? ctx.output(2).data<float>() : nullptr;
        const int64_t inner = m_inner;
        ctx.pool().parallelFor(0, m_outer, chunkRows(inner), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                const T* xr = x + r * inner;
                T* yr = y + r * inner;
                double sum = 0;
                for (int64_t i = 0; i < inner; ++i) sum += static_cast<double>(load(xr[i]));
                double mean = inner ? sum / static_cast<double>(inner) : 0.0;
                double sq = 0;
                for (int64_t i = 0; i < inner; ++i) {
                    double d = static_cast<double>(load(xr[i])) - mean;
                    sq += d * d;
                }
                double inv = 1.0 / std::sqrt((inner ? sq / static_cast<double>(inner) : 0.0) + m_eps);
                m_bc.forRows(0, m_bc.outerSize(), [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
                    for (int64_t i = 0; i < n; ++i) {
                        double v = (static_cast<double>(load(xr[o + i])) - mean) * inv *
                                   static_cast<double>(load(scale[off[0] + i * st[0]]));
                        if (bias) v += static_cast<double>(load(bias[off[1] + i * st[1]]));
                        yr[o + i] = store<T>(v);
                    }
                });
                if (meanOut) meanOut[r] = static_cast<float>(mean);
                if (invOut) invOut[r] = static_cast<float>(inv);
            }
        });
    }
    int64_t m_axis = -1;
    float m_eps = 1e-5f;
    int64_t m_inner = 0, m_outer = 0;
    Broadcaster<2> m_bc;
    void (LayerNormKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeBatchNormalization() { return std::make_unique<cpu::BatchNormKernel>(); }
std::unique_ptr<Kernel> makeLayerNormalization() { return std::make_unique<cpu::LayerNormKernel>(); }

} // namespace ew::rt
