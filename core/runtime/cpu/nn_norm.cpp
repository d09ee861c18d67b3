// Normalizations beyond Batch/LayerNorm: RMSNormalization (trailing axes, broadcast scale),
// InstanceNormalization (per sample and channel), GroupNormalization (per sample and channel
// group; opset 18 scales per group, 21 per channel), MeanVarianceNormalization (over `axes`,
// epsilon 1e-9 as in the ONNX function body), LpNormalization (p = 1 or 2 along one axis) and
// LRN (across channels). Statistics are accumulated in double.
#include "nn_util.h"

#include <algorithm>

namespace ew::rt {
namespace cpu {
namespace {

using nn::loadF;

class RmsNormKernel final : public Kernel {
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
            return ctx.error(StatusCode::InvalidInput, "axis " + std::to_string(m_axis) +
                                                           " out of range for " +
                                                           dimsText(x.dims()));
        std::span<const int64_t> norm =
            std::span<const int64_t>(x.dims()).subspan(static_cast<std::size_t>(axis));
        m_inner = numElementsOf(norm);
        m_outer =
            numElementsOf(std::span<const int64_t>(x.dims()).first(static_cast<std::size_t>(axis)));
        const Tensor& scale = ctx.input(1);
        if (!ir::isFloatingPoint(scale.dtype()) || !m_bc.make(norm, {scale.dims()}))
            return ctx.error(StatusCode::InvalidInput,
                             "scale " + describe(scale.dtype(), scale.dims()) +
                                 " does not broadcast to " + dimsText(norm));
        if (!nn::selectFloat<RmsNormKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }
    int inPlaceInput() const override { return 0; }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* x = ctx.input(0).data<T>();
        const Tensor& scale = ctx.input(1);
        T* y = ctx.output(0).data<T>();
        const int64_t inner = m_inner;
        ctx.pool().parallelFor(0, m_outer, chunkRows(inner), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                const T* xr = x + r * inner;
                T* yr = y + r * inner;
                double sq = 0;
                for (int64_t i = 0; i < inner; ++i) {
                    double v = load(xr[i]);
                    sq += v * v;
                }
                double inv =
                    1.0 / std::sqrt((inner ? sq / static_cast<double>(inner) : 0.0) + m_eps);
                m_bc.forRows(0, m_bc.outerSize(),
                             [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
                                 for (int64_t i = 0; i < n; ++i)
                                     yr[o + i] = store<T>(static_cast<double>(load(xr[o + i])) *
                                                          inv * loadF(scale, off[0] + i * st[0]));
                             });
            }
        });
    }

  private:
    int64_t m_axis = -1;
    float m_eps = 1e-5f;
    int64_t m_inner = 0, m_outer = 0;
    Broadcaster<1> m_bc;
    void (RmsNormKernel::*m_fn)(RunContext&) = nullptr;
};

/// InstanceNormalization and GroupNormalization: x viewed as [N, G, C/G, spatial]; statistics per
/// (n, g); the affine parameters per channel (or per group for GroupNormalization-18).
class GroupNormKernel final : public Kernel {
  public:
    explicit GroupNormKernel(bool instance) : m_instance(instance) {}
    VoidResult init(InitContext& ctx) override {
        m_eps = ctx.node().attrFloat("epsilon", 1e-5f);
        m_groups = m_instance ? 0 : ctx.node().attrInt("num_groups", 0);
        if (!m_instance && m_groups < 1)
            return ctx.error(StatusCode::InvalidInput, "num_groups must be >= 1");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 2)
            return ctx.error(StatusCode::InvalidInput, "input must have a channel dim");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_G = m_instance ? m_C : m_groups;
        if (m_G == 0 || m_C % m_G != 0)
            return ctx.error(StatusCode::InvalidInput, "channels " + std::to_string(m_C) +
                                                           " not divisible by num_groups " +
                                                           std::to_string(m_G));
        m_spatial = numElementsOf(std::span<const int64_t>(x.dims()).subspan(2));
        int64_t ns = ctx.input(1).numElements(), nb = ctx.input(2).numElements();
        if (ns != nb || (ns != m_C && ns != m_G))
            return ctx.error(StatusCode::InvalidInput,
                             "scale and bias must have " + std::to_string(m_C) + " elements");
        m_perGroup = ns != m_C;
        if (!nn::selectFloat<GroupNormKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }
    int inPlaceInput() const override { return 0; }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* x = ctx.input(0).data<T>();
        const Tensor& scale = ctx.input(1);
        const Tensor& bias = ctx.input(2);
        T* y = ctx.output(0).data<T>();
        const int64_t cpg = m_C / m_G, len = cpg * m_spatial;
        ctx.pool().parallelFor(0, m_N * m_G, chunkRows(len), [&](int64_t b, int64_t e) {
            for (int64_t ng = b; ng < e; ++ng) {
                const T* xr = x + ng * len;
                T* yr = y + ng * len;
                double sum = 0;
                for (int64_t i = 0; i < len; ++i)
                    sum += load(xr[i]);
                double mean = len ? sum / static_cast<double>(len) : 0.0;
                double sq = 0;
                for (int64_t i = 0; i < len; ++i) {
                    double d = load(xr[i]) - mean;
                    sq += d * d;
                }
                double inv = 1.0 / std::sqrt((len ? sq / static_cast<double>(len) : 0.0) + m_eps);
                int64_t g = ng % m_G;
                for (int64_t c = 0; c < cpg; ++c) {
                    int64_t p = m_perGroup ? g : g * cpg + c;
                    double a = loadF(scale, p) * inv, bb = loadF(bias, p);
                    for (int64_t i = 0; i < m_spatial; ++i) {
                        int64_t k = c * m_spatial + i;
                        yr[k] = store<T>((load(xr[k]) - mean) * a + bb);
                    }
                }
            }
        });
    }

  private:
    bool m_instance;
    float m_eps = 1e-5f;
    int64_t m_groups = 0;
    int64_t m_N = 0, m_C = 0, m_G = 0, m_spatial = 0;
    bool m_perGroup = false;
    void (GroupNormKernel::*m_fn)(RunContext&) = nullptr;
};

/// MeanVarianceNormalization: the reduced axes are gathered by iterating the kept and reduced
/// index spaces separately (offset tables built in prepare).
class MvnKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_axes = ctx.node().attrInts("axes", {0, 2, 3});
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t r = static_cast<int64_t>(x.rank());
        std::vector<bool> red(static_cast<std::size_t>(r), false);
        for (int64_t a : m_axes) {
            if (!normalizeAxis(a, r))
                return ctx.error(StatusCode::InvalidInput,
                                 "axis out of range for " + dimsText(x.dims()));
            red[static_cast<std::size_t>(a)] = true;
        }
        std::vector<int64_t> strides;
        rowMajorStrides(x.dims(), strides);
        // Offsets of every element of the kept / reduced sub-spaces.
        auto offsets = [&](bool reduced, std::vector<int64_t>& out) {
            out.assign(1, 0);
            for (int64_t d = 0; d < r; ++d) {
                if (red[static_cast<std::size_t>(d)] != reduced) continue;
                std::vector<int64_t> next;
                next.reserve(out.size() * static_cast<std::size_t>(x.dims()[d]));
                for (int64_t o : out)
                    for (int64_t i = 0; i < x.dims()[d]; ++i)
                        next.push_back(o + i * strides[d]);
                out.swap(next);
            }
        };
        offsets(false, m_keep);
        offsets(true, m_red);
        if (x.numElements() == 0) m_keep.clear();
        if (!nn::selectFloat<MvnKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* x = ctx.input(0).data<T>();
        T* y = ctx.output(0).data<T>();
        const int64_t n = static_cast<int64_t>(m_red.size());
        ctx.pool().parallelFor(
            0, static_cast<int64_t>(m_keep.size()), chunkRows(n), [&](int64_t b, int64_t e) {
                for (int64_t k = b; k < e; ++k) {
                    const int64_t base = m_keep[k];
                    double sum = 0, sq = 0;
                    for (int64_t o : m_red)
                        sum += load(x[base + o]);
                    double mean = sum / static_cast<double>(n);
                    for (int64_t o : m_red) {
                        double d = load(x[base + o]) - mean;
                        sq += d * d;
                    }
                    double inv = 1.0 / std::sqrt(sq / static_cast<double>(n) + 1e-9);
                    for (int64_t o : m_red)
                        y[base + o] = store<T>((load(x[base + o]) - mean) * inv);
                }
            });
    }

  private:
    std::vector<int64_t> m_axes;
    std::vector<int64_t> m_keep, m_red;
    void (MvnKernel::*m_fn)(RunContext&) = nullptr;
};

class LpNormKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_axis = ctx.node().attrInt("axis", -1);
        m_p = ctx.node().attrInt("p", 2);
        if (m_p != 1 && m_p != 2) return ctx.error(StatusCode::InvalidInput, "p must be 1 or 2");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int64_t axis = m_axis;
        if (!normalizeAxis(axis, static_cast<int64_t>(x.rank())))
            return ctx.error(StatusCode::InvalidInput,
                             "axis out of range for " + dimsText(x.dims()));
        std::span<const int64_t> d(x.dims());
        m_outer = numElementsOf(d.first(static_cast<std::size_t>(axis)));
        m_len = d[static_cast<std::size_t>(axis)];
        m_inner = numElementsOf(d.subspan(static_cast<std::size_t>(axis) + 1));
        if (!nn::selectFloat<LpNormKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }
    int inPlaceInput() const override { return 0; }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* x = ctx.input(0).data<T>();
        T* y = ctx.output(0).data<T>();
        const int64_t len = m_len, inner = m_inner;
        ctx.pool().parallelFor(0, m_outer * inner, chunkRows(len), [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; ++t) {
                int64_t base = (t / inner) * len * inner + t % inner;
                double norm = 0;
                for (int64_t i = 0; i < len; ++i) {
                    double v = load(x[base + i * inner]);
                    norm += m_p == 1 ? std::abs(v) : v * v;
                }
                if (m_p == 2) norm = std::sqrt(norm);
                for (int64_t i = 0; i < len; ++i) {
                    double v = load(x[base + i * inner]);
                    y[base + i * inner] = store<T>(norm == 0 ? 0.0 : v / norm);
                }
            }
        });
    }

  private:
    int64_t m_axis = -1, m_p = 2;
    int64_t m_outer = 0, m_len = 0, m_inner = 1;
    void (LpNormKernel::*m_fn)(RunContext&) = nullptr;
};

class LrnKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_alpha = n.attrFloat("alpha", 1e-4f);
        m_beta = n.attrFloat("beta", 0.75f);
        m_bias = n.attrFloat("bias", 1.0f);
        m_size = n.attrInt("size", 0);
        if (m_size < 1) return ctx.error(StatusCode::InvalidInput, "size must be >= 1");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() < 2)
            return ctx.error(StatusCode::InvalidInput, "input must have a channel dim");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_spatial = numElementsOf(std::span<const int64_t>(x.dims()).subspan(2));
        if (!nn::selectFloat<LrnKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* x = ctx.input(0).data<T>();
        T* y = ctx.output(0).data<T>();
        const int64_t lo = (m_size - 1) / 2, hi = m_size - 1 - lo;
        const int64_t C = m_C, S = m_spatial;
        ctx.pool().parallelFor(0, m_N * C, chunkRows(S * m_size), [&](int64_t b, int64_t e) {
            for (int64_t nc = b; nc < e; ++nc) {
                int64_t n = nc / C, c = nc % C;
                int64_t c0 = std::max<int64_t>(0, c - lo), c1 = std::min<int64_t>(C - 1, c + hi);
                for (int64_t s = 0; s < S; ++s) {
                    double sq = 0;
                    for (int64_t k = c0; k <= c1; ++k) {
                        double v = load(x[(n * C + k) * S + s]);
                        sq += v * v;
                    }
                    double v = load(x[nc * S + s]);
                    y[nc * S + s] = store<T>(
                        v / std::pow(m_bias + m_alpha / static_cast<double>(m_size) * sq, m_beta));
                }
            }
        });
    }

  private:
    float m_alpha = 1e-4f, m_beta = 0.75f, m_bias = 1.0f;
    int64_t m_size = 0;
    int64_t m_N = 0, m_C = 0, m_spatial = 0;
    void (LrnKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeRMSNormalization() {
    return std::make_unique<cpu::RmsNormKernel>();
}
std::unique_ptr<Kernel> makeInstanceNormalization() {
    return std::make_unique<cpu::GroupNormKernel>(true);
}
std::unique_ptr<Kernel> makeGroupNormalization() {
    return std::make_unique<cpu::GroupNormKernel>(false);
}
std::unique_ptr<Kernel> makeMeanVarianceNormalization() {
    return std::make_unique<cpu::MvnKernel>();
}
std::unique_ptr<Kernel> makeLpNormalization() {
    return std::make_unique<cpu::LpNormKernel>();
}
std::unique_ptr<Kernel> makeLRN() {
    return std::make_unique<cpu::LrnKernel>();
}

} // namespace ew::rt
