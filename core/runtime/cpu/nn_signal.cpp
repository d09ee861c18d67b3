// Signal processing: DFT (opset 17-19 axis attribute, 20+ axis input; real [.., 1] or complex
// [.., 2] input; dft_length pads with zeros or truncates; onesided keeps n/2+1 bins; inverse
// divides by n, and inverse + onesided reads a half spectrum and returns the real signal of
// length dft_length, default 2 * (bins - 1)), STFT (frames of the windowed signal, onesided by
// default), the Hann / Hamming / Blackman windows and MelWeightMatrix (triangular filters, as the
// ONNX reference builds them). Transforms are direct O(n^2) sums in double with exact twiddle
// indices (k * j mod n), so results are accurate to the output type.
#include "nn_util.h"

#include <numbers>

namespace ew::rt {
namespace cpu {
namespace {

using nn::loadF;

/// Twiddles cos/sin(2 pi m / n) for m in [0, n).
void twiddles(int64_t n, std::vector<double>& c, std::vector<double>& s) {
    c.resize(static_cast<std::size_t>(n));
    s.resize(static_cast<std::size_t>(n));
    for (int64_t m = 0; m < n; ++m) {
        double a = 2.0 * std::numbers::pi * static_cast<double>(m) / static_cast<double>(n);
        c[m] = std::cos(a);
        s[m] = std::sin(a);
    }
}

/// Scalar integer from an optional input; `def` when absent.
int64_t scalarInput(const PrepareContext& ctx, std::size_t i, int64_t def) {
    return ctx.hasInput(i) && ctx.input(i).numElements() > 0 ? ctx.input(i).intAt(0) : def;
}

class DftKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_legacy = ctx.opset() < 20;
        m_axisAttr = ctx.node().attrInt("axis", 1);
        m_inverse = ctx.node().attrInt("inverse", 0) != 0;
        m_onesided = ctx.node().attrInt("onesided", 0) != 0;
        m_dynamic = (ctx.hasInput(1) && !ctx.constantInput(1)) ||
                    (!m_legacy && ctx.hasInput(2) && !ctx.constantInput(2));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const int64_t r = static_cast<int64_t>(x.rank());
        if (r < 2 || (x.dims().back() != 1 && x.dims().back() != 2))
            return ctx.error(StatusCode::InvalidInput, "input must be [..., signal, 1 or 2]");
        int64_t axis = m_legacy ? m_axisAttr : scalarInput(ctx, 2, -2);
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r - 1)
            return ctx.error(StatusCode::InvalidInput, "axis out of range");
        const int64_t len = x.dims()[static_cast<std::size_t>(axis)];
        m_complexIn = x.dims().back() == 2;
        m_halfIn = m_inverse && m_onesided;
        int64_t n = scalarInput(ctx, 1, m_halfIn ? 2 * (len - 1) : len);
        if (n < 1) return ctx.error(StatusCode::InvalidInput, "dft_length must be positive");
        m_n = n;
        m_len = len;
        m_outer =
            numElementsOf(std::span<const int64_t>(x.dims()).first(static_cast<std::size_t>(axis)));
        m_inner = numElementsOf(std::span<const int64_t>(x.dims()).subspan(
            static_cast<std::size_t>(axis) + 1, r - 2 - axis));
        m_outLen = m_halfIn ? n : (m_onesided ? n / 2 + 1 : n);
        if (!nn::selectFloat<DftKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        std::vector<int64_t> dims(x.dims());
        dims[static_cast<std::size_t>(axis)] = m_outLen;
        dims.back() = m_halfIn ? 1 : 2;
        ctx.setOutput(0, x.dtype(), dims);
        twiddles(n, m_cos, m_sin);
        // Per signal: the full complex input spectrum/signal of length n.
        ctx.setScratchBytes(static_cast<std::size_t>(m_outer * m_inner * 2 * n) * sizeof(double));
        return {};
    }
    bool dataDependentShapes() const override { return m_dynamic; }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* X = ctx.input(0).data<T>();
        T* Y = ctx.output(0).data<T>();
        double* scratch = reinterpret_cast<double*>(ctx.scratch());
        const int64_t n = m_n, inner = m_inner, cin = m_complexIn ? 2 : 1, cout = m_halfIn ? 1 : 2;
        ctx.pool().parallelFor(0, m_outer * inner, chunkRows(n * n), [&](int64_t b, int64_t e) {
            for (int64_t sIdx = b; sIdx < e; ++sIdx) {
                const int64_t o = sIdx / inner, in = sIdx % inner;
                double* re = scratch + sIdx * 2 * n;
                double* im = re + n;
                for (int64_t j = 0; j < n; ++j)
                    re[j] = im[j] = 0;
                auto at = [&](int64_t j, int64_t part) {
                    return static_cast<double>(
                        load(X[((o * m_len + j) * inner + in) * cin + part]));
                };
                if (m_halfIn) {
                    // Hermitian completion of the half spectrum.
                    for (int64_t j = 0; j < n; ++j) {
                        int64_t k = j <= n / 2 ? j : n - j;
                        if (k >= m_len) continue;
                        re[j] = at(k, 0);
                        double v = cin == 2 ? at(k, 1) : 0.0;
                        im[j] = j <= n / 2 ? v : -v;
                    }
                } else {
                    for (int64_t j = 0; j < std::min(n, m_len); ++j) {
                        re[j] = at(j, 0);
                        im[j] = cin == 2 ? at(j, 1) : 0.0;
                    }
                }
                const double sign = m_inverse ? 1.0 : -1.0,
                             norm = m_inverse ? 1.0 / static_cast<double>(n) : 1.0;
                for (int64_t k = 0; k < m_outLen; ++k) {
                    double sr = 0, si = 0;
                    for (int64_t j = 0; j < n; ++j) {
                        int64_t m = (k * j) % n;
                        double c = m_cos[m], s = sign * m_sin[m];
                        sr += re[j] * c - im[j] * s;
                        si += re[j] * s + im[j] * c;
                    }
                    T* y = Y + ((o * m_outLen + k) * inner + in) * cout;
                    y[0] = store<T>(sr * norm);
                    if (cout == 2) y[1] = store<T>(si * norm);
                }
            }
        });
    }

  private:
    bool m_legacy = false, m_inverse = false, m_onesided = false, m_dynamic = false;
    int64_t m_axisAttr = 1;
    bool m_complexIn = false, m_halfIn = false;
    int64_t m_n = 0, m_len = 0, m_outer = 0, m_inner = 0, m_outLen = 0;
    std::vector<double> m_cos, m_sin;
    void (DftKernel::*m_fn)(RunContext&) = nullptr;
};

class StftKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_onesided = ctx.node().attrInt("onesided", 1) != 0;
        m_dynamic = !ctx.constantInput(1) || (ctx.hasInput(3) && !ctx.constantInput(3));
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() != 3 || (x.dims()[2] != 1 && x.dims()[2] != 2))
            return ctx.error(StatusCode::InvalidInput, "signal must be [batch, length, 1 or 2]");
        m_step = scalarInput(ctx, 1, 0);
        m_B = x.dims()[0];
        m_len = x.dims()[1];
        m_complexIn = x.dims()[2] == 2;
        m_win = ctx.hasInput(2) ? ctx.input(2).numElements() : 0;
        m_n = scalarInput(ctx, 3, m_win > 0 ? m_win : m_len);
        if (m_win == 0) m_win = m_n;
        if (m_step < 1 || m_n < 1 || m_n > m_len)
            return ctx.error(StatusCode::InvalidInput,
                             "frame_step must be positive and frame_length within the signal");
        if (ctx.hasInput(2) && ctx.input(2).rank() != 1)
            return ctx.error(StatusCode::InvalidInput, "window must be 1-D");
        m_frames = 1 + (m_len - m_n) / m_step;
        m_bins = m_onesided ? m_n / 2 + 1 : m_n;
        if (!nn::selectFloat<StftKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), {m_B, m_frames, m_bins, 2});
        twiddles(m_n, m_cos, m_sin);
        ctx.setScratchBytes(static_cast<std::size_t>(m_B * m_frames * 2 * m_n) * sizeof(double));
        return {};
    }
    bool dataDependentShapes() const override { return m_dynamic; }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* X = ctx.input(0).data<T>();
        const Tensor* win = ctx.hasInput(2) ? &ctx.input(2) : nullptr;
        T* Y = ctx.output(0).data<T>();
        double* scratch = reinterpret_cast<double*>(ctx.scratch());
        const int64_t n = m_n, cin = m_complexIn ? 2 : 1;
        ctx.pool().parallelFor(0, m_B * m_frames, chunkRows(n * n), [&](int64_t b, int64_t e) {
            for (int64_t bf = b; bf < e; ++bf) {
                const int64_t bi = bf / m_frames, f = bf % m_frames;
                double* re = scratch + bf * 2 * n;
                double* im = re + n;
                for (int64_t j = 0; j < n; ++j) {
                    re[j] = im[j] = 0;
                    const int64_t t = f * m_step + j;
                    if (j >= m_win || t >= m_len) continue;
                    const double w = win ? loadF(*win, j) : 1.0;
                    re[j] = w * static_cast<double>(load(X[(bi * m_len + t) * cin]));
                    if (cin == 2)
                        im[j] = w * static_cast<double>(load(X[(bi * m_len + t) * cin + 1]));
                }
                for (int64_t k = 0; k < m_bins; ++k) {
                    double sr = 0, si = 0;
                    for (int64_t j = 0; j < n; ++j) {
                        int64_t m = (k * j) % n;
                        sr += re[j] * m_cos[m] + im[j] * m_sin[m];
                        si += -re[j] * m_sin[m] + im[j] * m_cos[m];
                    }
                    T* y = Y + (bf * m_bins + k) * 2;
                    y[0] = store<T>(sr);
                    y[1] = store<T>(si);
                }
            }
        });
    }

  private:
    bool m_onesided = true, m_dynamic = true, m_complexIn = false;
    int64_t m_step = 1, m_B = 0, m_len = 0, m_win = 0, m_n = 0, m_frames = 0, m_bins = 0;
    std::vector<double> m_cos, m_sin;
    void (StftKernel::*m_fn)(RunContext&) = nullptr;
};

/// Storing doubles into any numeric output type.
template <typename F> bool storeAll(Tensor& out, F&& valueAt) {
    return dispatch<EW_NUMERIC_TYPES>(out.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = out.data<T>();
        for (int64_t i = 0; i < out.numElements(); ++i)
            p[i] = store<T>(static_cast<Compute<T>>(valueAt(i)));
    });
}

bool isNumeric(DataType t) {
    return ir::isFloatingPoint(t) ? t != DataType::BFloat16 && elementSize(t) > 0
                                  : ir::isInteger(t) && elementSize(t) > 0 && !isSubByteInteger(t);
}

enum class WindowKind { Hann, Hamming, Blackman };

class WindowKernel final : public Kernel {
  public:
    explicit WindowKernel(WindowKind k) : m_kind(k) {}
    VoidResult init(InitContext& ctx) override {
        m_out = static_cast<DataType>(ctx.node().attrInt("output_datatype", 1));
        m_periodic = ctx.node().attrInt("periodic", 1) != 0;
        m_dynamic = !ctx.constantInput(0);
        if (!isNumeric(m_out))
            return ctx.error(StatusCode::Unsupported,
                             "output_datatype " + typeName(m_out) + " is not supported");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        if (ctx.input(0).numElements() != 1)
            return ctx.error(StatusCode::InvalidInput, "size must be a scalar");
        m_size = ctx.input(0).intAt(0);
        if (m_size < 0) return ctx.error(StatusCode::InvalidInput, "negative size");
        ctx.setOutput(0, m_out, {m_size});
        return {};
    }
    bool dataDependentShapes() const override { return m_dynamic; }
    void run(RunContext& ctx) override {
        const double N = static_cast<double>(m_periodic ? m_size : m_size - 1);
        const double tau = 2.0 * std::numbers::pi;
        storeAll(ctx.output(0), [&](int64_t i) {
            double a = N > 0 ? tau * static_cast<double>(i) / N : 0.0;
            switch (m_kind) {
            case WindowKind::Hann:
                return 0.5 - 0.5 * std::cos(a);
            case WindowKind::Hamming:
                return 25.0 / 46.0 - (21.0 / 46.0) * std::cos(a);
            case WindowKind::Blackman:
                return 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2 * a);
            }
            return 0.0;
        });
    }

  private:
    WindowKind m_kind;
    DataType m_out = DataType::Float;
    bool m_periodic = true, m_dynamic = true;
    int64_t m_size = 0;
};

class MelKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_out = static_cast<DataType>(ctx.node().attrInt("output_datatype", 1));
        if (!isNumeric(m_out))
            return ctx.error(StatusCode::Unsupported,
                             "output_datatype " + typeName(m_out) + " is not supported");
        m_dynamic = false;
        for (std::size_t i = 0; i < 5; ++i)
            if (!ctx.constantInput(i)) m_dynamic = true;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        for (std::size_t i = 0; i < 5; ++i)
            if (ctx.input(i).numElements() != 1)
                return ctx.error(StatusCode::InvalidInput, "inputs must be scalars");
        m_mels = ctx.input(0).intAt(0);
        m_dft = ctx.input(1).intAt(0);
        m_rate = ctx.input(2).intAt(0);
        m_lo = static_cast<float>(ctx.input(3).doubleAt(0));
        m_hi = static_cast<float>(ctx.input(4).doubleAt(0));
        if (m_mels < 1 || m_dft < 1 || m_rate < 1)
            return ctx.error(StatusCode::InvalidInput,
                             "num_mel_bins, dft_length and sample_rate must be positive");
        m_specBins = m_dft / 2 + 1;
        // Filter edges (spectrogram bin indices), as the ONNX reference computes them.
        m_edges.resize(static_cast<std::size_t>(m_mels + 2));
        float loMel = 2595.0f * std::log10(1.0f + m_lo / 700.0f),
              hiMel = 2595.0f * std::log10(1.0f + m_hi / 700.0f);
        float step = (hiMel - loMel) / static_cast<float>(m_mels + 2);
        for (int64_t i = 0; i < m_mels + 2; ++i) {
            double mel =
                static_cast<double>(i) * static_cast<double>(step) + static_cast<double>(loMel);
            double hz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
            m_edges[i] = static_cast<int64_t>(
                std::floor(static_cast<double>(m_dft + 1) * hz / static_cast<double>(m_rate)));
            if (m_edges[i] < 0)
                return ctx.error(StatusCode::InvalidInput, "negative mel filter edge");
        }
        ctx.setOutput(0, m_out, {m_specBins, m_mels});
        ctx.setScratchBytes(static_cast<std::size_t>(m_specBins * m_mels) * sizeof(double));
        return {};
    }
    bool dataDependentShapes() const override { return m_dynamic; }
    void run(RunContext& ctx) override {
        double* w = reinterpret_cast<double*>(ctx.scratch());
        const int64_t M = m_mels;
        for (int64_t i = 0; i < m_specBins * M; ++i)
            w[i] = 0;
        for (int64_t i = 0; i < M; ++i) {
            const int64_t l = m_edges[i], c = m_edges[i + 1], h = m_edges[i + 2];
            if (c == l) {
                if (c < m_specBins) w[c * M + i] = 1;
            } else {
                for (int64_t j = l; j <= c && j < m_specBins; ++j)
                    w[j * M + i] = static_cast<double>(j - l) / static_cast<double>(c - l);
            }
            if (h > c)
                for (int64_t j = c; j < h && j < m_specBins; ++j)
                    w[j * M + i] = static_cast<double>(h - j) / static_cast<double>(h - c);
        }
        storeAll(ctx.output(0), [&](int64_t i) { return w[i]; });
    }

  private:
    DataType m_out = DataType::Float;
    bool m_dynamic = true;
    int64_t m_mels = 0, m_dft = 0, m_rate = 1, m_specBins = 0;
    float m_lo = 0, m_hi = 0;
    std::vector<int64_t> m_edges;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeDFT() {
    return std::make_unique<cpu::DftKernel>();
}
std::unique_ptr<Kernel> makeSTFT() {
    return std::make_unique<cpu::StftKernel>();
}
std::unique_ptr<Kernel> makeHannWindow() {
    return std::make_unique<cpu::WindowKernel>(cpu::WindowKind::Hann);
}
std::unique_ptr<Kernel> makeHammingWindow() {
    return std::make_unique<cpu::WindowKernel>(cpu::WindowKind::Hamming);
}
std::unique_ptr<Kernel> makeBlackmanWindow() {
    return std::make_unique<cpu::WindowKernel>(cpu::WindowKind::Blackman);
}
std::unique_ptr<Kernel> makeMelWeightMatrix() {
    return std::make_unique<cpu::MelKernel>();
}

} // namespace ew::rt
