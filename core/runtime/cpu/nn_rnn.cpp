// Recurrent layers: RNN (1 gate), GRU (gates z, r, h; linear_before_reset) and LSTM (gates i, o,
// f, c; peepholes P = [i, o, f]; input_forget couples f = 1 - i). All directions (forward,
// reverse, bidirectional: direction 1 runs reversed), per-direction activations with their
// alpha/beta lists consumed in order by the functions that take them, clip on the gate
// pre-activations, sequence_lens (steps past a batch entry's length give zeros in Y; Y_h/Y_c
// hold its last valid step), initial states, layout 0 ([seq, batch, ...]) and 1 ([batch, seq,
// ...]). Each (direction, batch entry) recurrence runs on one thread: in double (the reference),
// or for float32 in float with vectorized dot products (the fast path; its results agree with
// the reference to float rounding).
#include "nn_util.h"
#include "sgemm.h"

#include <cctype>

namespace ew::rt {
namespace cpu {
namespace {

using nn::loadF;

enum class ActKind {
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus
};

struct Act {
    ActKind kind = ActKind::Tanh;
    double alpha = 0, beta = 0;
    double operator()(double x) const {
        switch (kind) {
        case ActKind::Relu:
            return x > 0 ? x : 0;
        case ActKind::Tanh:
            return std::tanh(x);
        case ActKind::Sigmoid:
            return 1.0 / (1.0 + std::exp(-x));
        case ActKind::Affine:
            return alpha * x + beta;
        case ActKind::LeakyRelu:
            return x >= 0 ? x : alpha * x;
        case ActKind::ThresholdedRelu:
            return x > alpha ? x : 0;
        case ActKind::ScaledTanh:
            return alpha * std::tanh(beta * x);
        case ActKind::HardSigmoid:
            return std::max(0.0, std::min(1.0, alpha * x + beta));
        case ActKind::Elu:
            return x >= 0 ? x : alpha * (std::exp(x) - 1);
        case ActKind::Softsign:
            return x / (1 + std::abs(x));
        case ActKind::Softplus:
            return std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0);
        }
        return x;
    }
};

/// sum a[i] * b[i] over n floats in 8 independent partial sums (lanes the compiler keeps in
/// vector registers; the order is fixed, so the result does not depend on the thread count).
inline float dot8(const float* __restrict a, const float* __restrict b, int64_t n) {
    float s[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
    float tail = 0.f;
    for (; i < n; ++i) tail += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

enum class Cell { Rnn, Gru, Lstm };

class RecurrentKernel final : public Kernel {
  public:
    explicit RecurrentKernel(Cell cell) : m_cell(cell) {}

    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_G = m_cell == Cell::Rnn ? 1 : m_cell == Cell::Gru ? 3 : 4;
        m_H = n.attrInt("hidden_size", 0);
        std::string dir = n.attrString("direction", "forward");
        if (dir == "forward")
            m_dirMode = 0;
        else if (dir == "reverse")
            m_dirMode = 1;
        else if (dir == "bidirectional")
            m_dirMode = 2;
        else
            return ctx.error(StatusCode::InvalidInput, "unknown direction '" + dir + "'");
        m_D = m_dirMode == 2 ? 2 : 1;
        m_layout = n.attrInt("layout", 0);
        if (m_layout != 0 && m_layout != 1)
            return ctx.error(StatusCode::InvalidInput, "layout must be 0 or 1");
        m_hasClip = n.hasAttr("clip");
        m_clip = n.attrFloat("clip", 0.0f);
        m_linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
        m_inputForget = n.attrInt("input_forget", 0) != 0;
        // Activations: per direction, 1 (RNN), 2 (GRU) or 3 (LSTM) functions.
        const int per = m_cell == Cell::Rnn ? 1 : m_cell == Cell::Gru ? 2 : 3;
        std::vector<std::string> names;
        if (const ir::Attribute* a = n.attr("activations")) names = a->strings;
        if (names.empty()) {
            const char* defs[3] = {m_cell == Cell::Rnn ? "Tanh" : "Sigmoid", "Tanh", "Tanh"};
            for (int d = 0; d < m_D; ++d)
                for (int k = 0; k < per; ++k)
                    names.push_back(defs[k]);
        }
        if (static_cast<int>(names.size()) == per && m_D == 2)
            names.insert(names.end(), names.begin(), names.end());
        if (static_cast<int>(names.size()) != per * m_D)
            return ctx.error(StatusCode::InvalidInput,
                             "activations must list " + std::to_string(per * m_D) + " functions");
        std::vector<float> alphas = n.attrFloats("activation_alpha"),
                           betas = n.attrFloats("activation_beta");
        std::size_t ai = 0, bi = 0;
        m_acts.clear();
        for (const std::string& name : names) {
            Act a;
            std::string l = name;
            for (char& ch : l)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            bool usesA = false, usesB = false;
            double defA = 0, defB = 0;
            if (l == "relu")
                a.kind = ActKind::Relu;
            else if (l == "tanh")
                a.kind = ActKind::Tanh;
            else if (l == "sigmoid")
                a.kind = ActKind::Sigmoid;
            else if (l == "affine")
                a.kind = ActKind::Affine, usesA = usesB = true, defA = 1, defB = 0;
            else if (l == "leakyrelu")
                a.kind = ActKind::LeakyRelu, usesA = true, defA = 0.01;
            else if (l == "thresholdedrelu")
                a.kind = ActKind::ThresholdedRelu, usesA = true, defA = 1;
            else if (l == "scaledtanh")
                a.kind = ActKind::ScaledTanh, usesA = usesB = true, defA = 1, defB = 1;
            else if (l == "hardsigmoid")
                a.kind = ActKind::HardSigmoid, usesA = usesB = true, defA = 0.2, defB = 0.5;
            else if (l == "elu")
                a.kind = ActKind::Elu, usesA = true, defA = 1;
            else if (l == "softsign")
                a.kind = ActKind::Softsign;
            else if (l == "softplus")
                a.kind = ActKind::Softplus;
            else
                return ctx.error(StatusCode::Unsupported,
                                 "activation '" + name + "' is not supported");
            a.alpha = usesA ? (ai < alphas.size() ? alphas[ai++] : defA) : 0;
            a.beta = usesB ? (bi < betas.size() ? betas[bi++] : defB) : 0;
            m_acts.push_back(a);
        }
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        const Tensor& r = ctx.input(2);
        if (x.rank() != 3) return ctx.error(StatusCode::InvalidInput, "X must be 3-D");
        m_S = x.dims()[m_layout == 0 ? 0 : 1];
        m_B = x.dims()[m_layout == 0 ? 1 : 0];
        m_I = x.dims()[2];
        if (m_H < 1) m_H = r.rank() == 3 ? r.dims()[2] : 0;
        const int64_t GH = m_G * m_H;
        if (m_H < 1 || w.dims() != std::vector<int64_t>{m_D, GH, m_I} ||
            r.dims() != std::vector<int64_t>{m_D, GH, m_H})
            return ctx.error(StatusCode::InvalidInput,
                             "W must be " + dimsText(std::vector<int64_t>{m_D, GH, m_I}) +
                                 " and R " + dimsText(std::vector<int64_t>{m_D, GH, m_H}));
        if (ctx.hasInput(3) && ctx.input(3).dims() != std::vector<int64_t>{m_D, 2 * GH})
            return ctx.error(StatusCode::InvalidInput,
                             "B must be [num_directions, 2 * gates * hidden]");
        if (ctx.hasInput(4) &&
            (ctx.input(4).numElements() != m_B ||
             (ctx.input(4).dtype() != DataType::Int32 && ctx.input(4).dtype() != DataType::Int64)))
            return ctx.error(StatusCode::InvalidInput, "sequence_lens must be int32 [batch]");
        std::vector<int64_t> stateDims = m_layout == 0 ? std::vector<int64_t>{m_D, m_B, m_H}
                                                       : std::vector<int64_t>{m_B, m_D, m_H};
        if (ctx.hasInput(5) && ctx.input(5).dims() != stateDims)
            return ctx.error(StatusCode::InvalidInput, "initial_h must be " + dimsText(stateDims));
        if (m_cell == Cell::Lstm) {
            if (ctx.hasInput(6) && ctx.input(6).dims() != stateDims)
                return ctx.error(StatusCode::InvalidInput,
                                 "initial_c must be " + dimsText(stateDims));
            if (ctx.hasInput(7) && ctx.input(7).dims() != std::vector<int64_t>{m_D, 3 * m_H})
                return ctx.error(StatusCode::InvalidInput,
                                 "P must be [num_directions, 3 * hidden]");
        }
        if (w.dtype() != x.dtype() || r.dtype() != x.dtype())
            return ctx.error(StatusCode::InvalidInput, "X, W and R must have one type");
        if (!nn::selectFloat<RecurrentKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        if (x.dtype() == DataType::Float && !preferReferenceKernels())
            m_fn = &RecurrentKernel::runTyped<float, float>;
        if (m_layout == 0)
            ctx.setOutput(0, x.dtype(), {m_S, m_D, m_B, m_H});
        else
            ctx.setOutput(0, x.dtype(), {m_B, m_S, m_D, m_H});
        ctx.setOutput(1, x.dtype(), stateDims);
        if (m_cell == Cell::Lstm) ctx.setOutput(2, x.dtype(), stateDims);
        // Per (direction, batch): gates (G*H), h, c, h-projection scratch (H).
        m_perTask = GH + 3 * m_H;
        ctx.setScratchBytes(static_cast<std::size_t>(m_D * m_B * m_perTask) * sizeof(double));
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    /// T: the tensors' type; Acc: the type gates and states are computed in (double for the
    /// reference; float on the float32 fast path, whose dot products run 8 lanes at a time).
    template <typename T, typename Acc = double> void runTyped(RunContext& ctx) {
        constexpr bool kFast = std::is_same_v<Acc, float> && std::is_same_v<T, float>;
        const T* X = ctx.input(0).data<T>();
        const T* W = ctx.input(1).data<T>();
        const T* R = ctx.input(2).data<T>();
        const Tensor* Bt = ctx.hasInput(3) ? &ctx.input(3) : nullptr;
        const Tensor* lens = ctx.hasInput(4) ? &ctx.input(4) : nullptr;
        const Tensor* h0 = ctx.hasInput(5) ? &ctx.input(5) : nullptr;
        const Tensor* c0 = m_cell == Cell::Lstm && ctx.hasInput(6) ? &ctx.input(6) : nullptr;
        const Tensor* P = m_cell == Cell::Lstm && ctx.hasInput(7) ? &ctx.input(7) : nullptr;
        T* Y = ctx.hasOutput(0) ? ctx.output(0).data<T>() : nullptr;
        T* Yh = ctx.hasOutput(1) ? ctx.output(1).data<T>() : nullptr;
        T* Yc = m_cell == Cell::Lstm && ctx.hasOutput(2) ? ctx.output(2).data<T>() : nullptr;
        Acc* scratch = reinterpret_cast<Acc*>(ctx.scratch());
        const int64_t H = m_H, I = m_I, S = m_S, Bn = m_B, D = m_D, GH = m_G * m_H;
        const int per = m_cell == Cell::Rnn ? 1 : m_cell == Cell::Gru ? 2 : 3;

        auto xAt = [&](int64_t t, int64_t b) {
            return X + (m_layout == 0 ? (t * Bn + b) : (b * S + t)) * I;
        };
        auto yAt = [&](int64_t t, int64_t d, int64_t b) {
            return Y + (m_layout == 0 ? ((t * D + d) * Bn + b) : ((b * S + t) * D + d)) * H;
        };
        auto stateAt = [&](int64_t d, int64_t b) {
            return (m_layout == 0 ? (d * Bn + b) : (b * D + d)) * H;
        };

        ctx.pool().parallelFor(0, D * Bn, 1, [&](int64_t tb, int64_t te) {
            for (int64_t task = tb; task < te; ++task) {
                const int64_t d = task / Bn, b = task % Bn;
                const bool reverse = m_dirMode == 1 || (m_dirMode == 2 && d == 1);
                const Act* act = &m_acts[static_cast<std::size_t>(d * per)];
                Acc* gates = scratch + task * m_perTask;
                Acc* h = gates + GH;
                Acc* c = h + H;
                Acc* tmp = c + H;
                const T* Wd = W + d * GH * I;
                const T* Rd = R + d * GH * H;
                const int64_t bBase = d * 2 * GH;
                auto wb = [&](int64_t k) { return Bt ? loadF(*Bt, bBase + k) : 0.0; };
                auto rb = [&](int64_t k) { return Bt ? loadF(*Bt, bBase + GH + k) : 0.0; };
                auto clip = [&](double v) {
                    return m_hasClip ? std::max<double>(-m_clip, std::min<double>(m_clip, v)) : v;
                };
                for (int64_t j = 0; j < H; ++j) {
                    h[j] = static_cast<Acc>(h0 ? loadF(*h0, stateAt(d, b) + j) : 0.0);
                    c[j] = static_cast<Acc>(c0 ? loadF(*c0, stateAt(d, b) + j) : 0.0);
                }
                int64_t L = lens ? std::clamp<int64_t>(lens->intAt(b), 0, S) : S;
                for (int64_t step = 0; step < L; ++step) {
                    const int64_t t = reverse ? L - 1 - step : step;
                    const T* x = xAt(t, b);
                    // gates[k] = x . W[k] + Wb[k] (+ h . R[k] + Rb[k] except GRU's h gate).
                    for (int64_t k = 0; k < GH; ++k) {
                        const T* wr = Wd + k * I;
                        if constexpr (kFast) {
                            gates[k] = static_cast<float>(wb(k)) + dot8(x, wr, I);
                        } else {
                            double acc = wb(k);
                            for (int64_t i = 0; i < I; ++i)
                                acc += static_cast<double>(load(x[i])) * static_cast<double>(load(wr[i]));
                            gates[k] = acc;
                        }
                    }
                    auto hProj = [&](int64_t k, const Acc* hv) -> Acc {
                        const T* rr = Rd + k * H;
                        if constexpr (kFast) {
                            return dot8(hv, rr, H);
                        } else {
                            double acc = 0;
                            for (int64_t i = 0; i < H; ++i)
                                acc += hv[i] * static_cast<double>(load(rr[i]));
                            return acc;
                        }
                    };
                    if (m_cell == Cell::Rnn) {
                        for (int64_t j = 0; j < H; ++j)
                            tmp[j] = static_cast<Acc>(act[0](clip(gates[j] + hProj(j, h) + rb(j))));
                        for (int64_t j = 0; j < H; ++j)
                            h[j] = tmp[j];
                    } else if (m_cell == Cell::Gru) {
                        // z (0), r (1), h (2).
                        for (int64_t j = 0; j < 2 * H; ++j)
                            gates[j] = static_cast<Acc>(act[0](clip(gates[j] + hProj(j, h) + rb(j))));
                        const Acc* z = gates;
                        const Acc* rg = gates + H;
                        if (m_linearBeforeReset) {
                            for (int64_t j = 0; j < H; ++j)
                                tmp[j] = static_cast<Acc>(
                                    act[1](clip(gates[2 * H + j] + rg[j] * (hProj(2 * H + j, h) + rb(2 * H + j)))));
                        } else {
                            // (r . h) R_h: the reset state goes into c (free for GRU).
                            for (int64_t j = 0; j < H; ++j)
                                c[j] = rg[j] * h[j];
                            for (int64_t j = 0; j < H; ++j)
                                tmp[j] = static_cast<Acc>(
                                    act[1](clip(gates[2 * H + j] + hProj(2 * H + j, c) + rb(2 * H + j))));
                        }
                        for (int64_t j = 0; j < H; ++j)
                            h[j] = (1 - z[j]) * tmp[j] + z[j] * h[j];
                    } else {
                        // i (0), o (1), f (2), c (3); peepholes P = [i, o, f].
                        for (int64_t k = 0; k < GH; ++k)
                            gates[k] += static_cast<Acc>(hProj(k, h) + rb(k));
                        for (int64_t j = 0; j < H; ++j) {
                            double pi = P ? loadF(*P, d * 3 * H + j) : 0.0;
                            double po = P ? loadF(*P, d * 3 * H + H + j) : 0.0;
                            double pf = P ? loadF(*P, d * 3 * H + 2 * H + j) : 0.0;
                            double ig = act[0](clip(gates[j] + pi * c[j]));
                            double fg = m_inputForget ? 1.0 - ig
                                                      : act[0](clip(gates[2 * H + j] + pf * c[j]));
                            double cg = act[1](clip(gates[3 * H + j]));
                            double cn = fg * c[j] + ig * cg;
                            double og = act[0](clip(gates[H + j] + po * cn));
                            c[j] = static_cast<Acc>(cn);
                            tmp[j] = static_cast<Acc>(og * act[2](cn));
                        }
                        for (int64_t j = 0; j < H; ++j)
                            h[j] = tmp[j];
                    }
                    if (Y) {
                        T* y = yAt(t, d, b);
                        for (int64_t j = 0; j < H; ++j)
                            y[j] = store<T>(h[j]);
                    }
                }
                if (Y)
                    for (int64_t t = L; t < S; ++t) {
                        T* y = yAt(t, d, b);
                        for (int64_t j = 0; j < H; ++j)
                            y[j] = store<T>(0.0);
                    }
                for (int64_t j = 0; j < H; ++j) {
                    if (Yh) Yh[stateAt(d, b) + j] = store<T>(h[j]);
                    if (Yc) Yc[stateAt(d, b) + j] = store<T>(c[j]);
                }
            }
        });
    }

  private:
    Cell m_cell;
    int64_t m_G = 1, m_H = 0, m_D = 1, m_layout = 0;
    int m_dirMode = 0;
    bool m_hasClip = false, m_linearBeforeReset = false, m_inputForget = false;
    float m_clip = 0;
    std::vector<Act> m_acts;
    int64_t m_S = 0, m_B = 0, m_I = 0, m_perTask = 0;
    void (RecurrentKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeRNN() {
    return std::make_unique<cpu::RecurrentKernel>(cpu::Cell::Rnn);
}
std::unique_ptr<Kernel> makeGRU() {
    return std::make_unique<cpu::RecurrentKernel>(cpu::Cell::Gru);
}
std::unique_ptr<Kernel> makeLSTM() {
    return std::make_unique<cpu::RecurrentKernel>(cpu::Cell::Lstm);
}

} // namespace ew::rt
