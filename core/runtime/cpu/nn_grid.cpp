// GridSample (opset 16 names bilinear/bicubic, opset 20 linear/cubic; nearest; padding zeros /
// border / reflection; align_corners; any number of spatial dims) and AffineGrid (2-D and 3-D).
// GridSample follows the ONNX reference: grid coordinates (x first, i.e. last spatial dim first)
// are denormalized in float, coordinates outside the border are clamped or reflected, then
// pixels are fetched per padding mode and interpolated over the 2^n (linear) or 4^n (cubic, Keys
// alpha -0.75) neighbours. Nearest rounds half to even (the suite's 3-D expectations do too).
#include "nn_util.h"

namespace ew::rt {
namespace cpu {
namespace {

constexpr int kMaxSpatial = 3;

enum class GsMode { Nearest, Linear, Cubic };
enum class GsPad { Zeros, Border, Reflection };

double reflect(double x, double lo, double hi) {
    double rng = hi - lo;
    if (x < lo) {
        double dx = lo - x;
        int64_t n = static_cast<int64_t>(dx / rng);
        double r = dx - static_cast<double>(n) * rng;
        return n % 2 == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        int64_t n = static_cast<int64_t>(dx / rng);
        double r = dx - static_cast<double>(n) * rng;
        return n % 2 == 0 ? hi - r : lo + r;
    }
    return x;
}

void cubicCoeffs(double x, double c[4]) {
    const double a = -0.75;
    x = std::abs(x);
    c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
    c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
    c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
    c[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

class GridSampleKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        std::string mode = ctx.node().attrString("mode", ctx.opset() < 20 ? "bilinear" : "linear");
        if (mode == "bilinear" || mode == "linear")
            m_mode = GsMode::Linear;
        else if (mode == "bicubic" || mode == "cubic")
            m_mode = GsMode::Cubic;
        else if (mode == "nearest")
            m_mode = GsMode::Nearest;
        else
            return ctx.error(StatusCode::InvalidInput, "unknown mode '" + mode + "'");
        std::string pad = ctx.node().attrString("padding_mode", "zeros");
        if (pad == "zeros")
            m_pad = GsPad::Zeros;
        else if (pad == "border")
            m_pad = GsPad::Border;
        else if (pad == "reflection")
            m_pad = GsPad::Reflection;
        else
            return ctx.error(StatusCode::InvalidInput, "unknown padding_mode '" + pad + "'");
        m_align = ctx.node().attrInt("align_corners", 0) != 0;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& g = ctx.input(1);
        if (x.rank() < 3 || x.rank() > 2 + kMaxSpatial)
            return ctx.error(StatusCode::Unsupported,
                             "input " + dimsText(x.dims()) + " must have 1 to 3 spatial dims");
        m_nd = static_cast<int>(x.rank()) - 2;
        if (g.rank() != x.rank() || g.dims()[0] != x.dims()[0] || g.dims().back() != m_nd)
            return ctx.error(StatusCode::InvalidInput, "grid " + dimsText(g.dims()) +
                                                           " must be [N, out..., " +
                                                           std::to_string(m_nd) + "]");
        if (!ir::isFloatingPoint(g.dtype()))
            return ctx.error(StatusCode::InvalidInput, "grid must be floating point");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        for (int i = 0; i < m_nd; ++i)
            m_in[i] = x.dims()[2 + i];
        m_outPlane = numElementsOf(
            std::span<const int64_t>(g.dims()).subspan(1, static_cast<std::size_t>(m_nd)));
        if (!nn::selectFloat<GridSampleKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        std::vector<int64_t> dims{m_N, m_C};
        dims.insert(dims.end(), g.dims().begin() + 1, g.dims().end() - 1);
        ctx.setOutput(0, x.dtype(), dims);
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* X = ctx.input(0).data<T>();
        const Tensor& grid = ctx.input(1);
        T* Y = ctx.output(0).data<T>();
        const int nd = m_nd;
        int64_t inPlane = 1;
        for (int i = 0; i < nd; ++i)
            inPlane *= m_in[i];
        ctx.pool().parallelFor(0, m_N * m_outPlane, chunkRows(m_C * 16), [&](int64_t b, int64_t e) {
            for (int64_t np = b; np < e; ++np) {
                const int64_t n = np / m_outPlane, p = np % m_outPlane;
                // Denormalized coordinate per spatial dim (dim 0 = outermost), in float.
                float coord[kMaxSpatial];
                for (int i = 0; i < nd; ++i) {
                    float v = static_cast<float>(nn::loadF(grid, np * nd + (nd - 1 - i)));
                    float len = static_cast<float>(m_in[i]);
                    coord[i] = m_align ? (v + 1) / 2.0f * (len - 1) : ((v + 1) * len - 1) / 2.0f;
                }
                double lo[kMaxSpatial], hi[kMaxSpatial];
                for (int i = 0; i < nd; ++i) {
                    lo[i] = m_align ? 0.0 : -0.5;
                    hi[i] = m_align ? static_cast<double>(m_in[i]) - 1.0
                                    : static_cast<double>(m_in[i]) - 0.5;
                }
                if (m_mode == GsMode::Nearest)
                    for (int i = 0; i < nd; ++i)
                        coord[i] = std::nearbyint(coord[i]);
                for (int i = 0; i < nd; ++i) {
                    double v = coord[i];
                    if (v < lo[i] || v > hi[i]) {
                        if (m_pad == GsPad::Border)
                            coord[i] = static_cast<float>(
                                std::clamp(v, 0.0, static_cast<double>(m_in[i] - 1)));
                        else if (m_pad == GsPad::Reflection)
                            coord[i] = static_cast<float>(reflect(v, lo[i], hi[i]));
                    }
                }
                // Neighbour indices and weights per dim.
                int64_t idx[kMaxSpatial][4];
                double w[kMaxSpatial][4];
                int taps = 1;
                if (m_mode == GsMode::Nearest) {
                    for (int i = 0; i < nd; ++i) {
                        idx[i][0] = static_cast<int64_t>(coord[i]);
                        w[i][0] = 1;
                    }
                } else if (m_mode == GsMode::Linear) {
                    taps = 2;
                    for (int i = 0; i < nd; ++i) {
                        double f = std::floor(static_cast<double>(coord[i]));
                        double t = static_cast<double>(coord[i]) - f;
                        idx[i][0] = static_cast<int64_t>(f);
                        idx[i][1] = idx[i][0] + 1;
                        w[i][0] = 1 - t;
                        w[i][1] = t;
                    }
                } else {
                    taps = 4;
                    for (int i = 0; i < nd; ++i) {
                        double f = std::floor(static_cast<double>(coord[i]));
                        cubicCoeffs(static_cast<double>(coord[i]) - f, w[i]);
                        for (int k = 0; k < 4; ++k)
                            idx[i][k] = static_cast<int64_t>(f) - 1 + k;
                    }
                }
                // Resolve each neighbour index per padding mode; -1 reads zero.
                for (int i = 0; i < nd; ++i)
                    for (int k = 0; k < taps; ++k) {
                        int64_t v = idx[i][k];
                        if (v >= 0 && v < m_in[i]) continue;
                        if (m_pad == GsPad::Zeros)
                            idx[i][k] = -1;
                        else if (m_pad == GsPad::Border)
                            idx[i][k] = std::clamp<int64_t>(v, 0, m_in[i] - 1);
                        else
                            idx[i][k] =
                                static_cast<int64_t>(reflect(static_cast<double>(v), lo[i], hi[i]));
                    }
                int total = 1;
                for (int i = 0; i < nd; ++i)
                    total *= taps;
                for (int64_t c = 0; c < m_C; ++c) {
                    const T* xp = X + (n * m_C + c) * inPlane;
                    double acc = 0;
                    for (int t = 0; t < total; ++t) {
                        int rem = t;
                        double wt = 1;
                        int64_t off = 0;
                        bool zero = false;
                        for (int i = nd - 1; i >= 0; --i) {
                            int k = rem % taps;
                            rem /= taps;
                            int64_t v = idx[i][k];
                            if (v < 0 || v >= m_in[i]) zero = true;
                            wt *= w[i][k];
                            int64_t stride = 1;
                            for (int j = i + 1; j < nd; ++j)
                                stride *= m_in[j];
                            off += v * stride;
                        }
                        if (!zero) acc += wt * static_cast<double>(load(xp[off]));
                    }
                    Y[(n * m_C + c) * m_outPlane + p] = store<T>(acc);
                }
            }
        });
    }

  private:
    GsMode m_mode = GsMode::Linear;
    GsPad m_pad = GsPad::Zeros;
    bool m_align = false;
    int m_nd = 2;
    int64_t m_N = 0, m_C = 0, m_in[kMaxSpatial] = {1, 1, 1}, m_outPlane = 0;
    void (GridSampleKernel::*m_fn)(RunContext&) = nullptr;
};

class AffineGridKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_align = ctx.node().attrInt("align_corners", 0) != 0;
        m_dynamic = !ctx.constantInput(1);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& theta = ctx.input(0);
        readInts(ctx.input(1), m_size);
        if (m_size.size() != 4 && m_size.size() != 5)
            return ctx.error(StatusCode::InvalidInput, "size must have 4 or 5 entries");
        m_nd = static_cast<int>(m_size.size()) - 2;
        std::vector<int64_t> want{m_size[0], m_nd, m_nd + 1};
        if (theta.dims() != want)
            return ctx.error(StatusCode::InvalidInput, "theta must be " + dimsText(want));
        for (int64_t d : m_size)
            if (d < 0) return ctx.error(StatusCode::InvalidInput, "negative size");
        if (!nn::selectFloat<AffineGridKernel>(theta.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(theta.dtype()) + " is not supported");
        std::vector<int64_t> dims{m_size[0]};
        dims.insert(dims.end(), m_size.begin() + 2, m_size.end());
        dims.push_back(m_nd);
        ctx.setOutput(0, theta.dtype(), dims);
        return {};
    }
    bool dataDependentShapes() const override { return m_dynamic; }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* th = ctx.input(0).data<T>();
        T* out = ctx.output(0).data<T>();
        const int nd = m_nd;
        // Spatial sizes, outermost first (D, H, W or H, W).
        int64_t len[3] = {1, 1, 1};
        for (int i = 0; i < nd; ++i)
            len[i] = m_size[2 + i];
        auto base = [&](int64_t i, int64_t L) {
            if (m_align)
                return L > 1 ? -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(L - 1)
                             : 0.0;
            return (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(L) - 1.0;
        };
        const int64_t points = len[0] * len[1] * len[2];
        for (int64_t n = 0; n < m_size[0]; ++n) {
            const T* t = th + n * nd * (nd + 1);
            for (int64_t p = 0; p < points; ++p) {
                // Homogeneous coordinate (x, y[, z], 1): x runs along the last dim.
                double h[4];
                int64_t rem = p;
                for (int i = nd - 1; i >= 0; --i) {
                    h[nd - 1 - i] = base(rem % len[i], len[i]);
                    rem /= len[i];
                }
                h[nd] = 1;
                for (int r = 0; r < nd; ++r) {
                    double acc = 0;
                    for (int c = 0; c <= nd; ++c)
                        acc += static_cast<double>(load(t[r * (nd + 1) + c])) * h[c];
                    out[(n * points + p) * nd + r] = store<T>(acc);
                }
            }
        }
    }

  private:
    bool m_align = false, m_dynamic = true;
    int m_nd = 2;
    std::vector<int64_t> m_size;
    void (AffineGridKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeGridSample() {
    return std::make_unique<cpu::GridSampleKernel>();
}
std::unique_ptr<Kernel> makeAffineGrid() {
    return std::make_unique<cpu::AffineGridKernel>();
}

} // namespace ew::rt
