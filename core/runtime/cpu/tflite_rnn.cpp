// TFLite recurrent operators that the TFLite importer keeps as ai.edgewise.tflite nodes (inputs in
// TFLite order, omitted ones empty; options as attributes named as in the schema):
//  - UNIDIRECTIONAL_SEQUENCE_LSTM, float: TFLite's lstm_eval.cc float step (CIFG, peepholes,
//    layer norm, projection with proj_clip, cell_clip, the fused activation on the cell gate and
//    on the cell output, time_major), in float32 in the reference's order of operations.
//  - UNIDIRECTIONAL_SEQUENCE_LSTM, integer 8x8->16 (int8 input, weights and output state, int32
//    biases, int16 cell state with a power-of-two scale): bit for bit tflite-micro's reference
//    kernel (lstm_eval.h, lstm_eval_common.cc): each gate is two int8 FULLY_CONNECTEDs requantized
//    to int16 Q3.12 and added with saturation, sigmoid/tanh by the shared 256-entry LUT to Q0.15,
//    the cell and hidden updates are requantizing multiplies. Like tflite-micro it has no
//    peepholes, CIFG, projection or layer norm; those are refused. (TFLite proper evaluates the
//    same model with gemmlowp's fixed-point sigmoid/tanh, which can differ by 1 LSB.)
//  - SVDF, float and integer (int8 input and weights_feature, int16 or int8 weights_time and
//    state, int32 bias, int8 output): tflite-micro's svdf_common.cc, which is TFLite's too. The
//    integer reference applies no activation: the output's quantization range does (a RELU
//    model's output zero point is the int8 minimum).
// Hybrid variants (float activations with int8 weights) are refused with the node named.
//
// State: TFLite keeps the LSTM output/cell state and the SVDF activation state in variable tensors
// between invocations. Here one run is one invocation that starts from the state input's value
// (the importer gives a variable tensor its buffer, or zeros); the updated state is not written
// back, so consecutive runs do not accumulate state.
#include "kernel_util.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

constexpr const char* kActAttr = "fused_activation_function";

// ---------------------------------------------------------------------------------------------
// TFLite's fixed-point helpers (quantization_util.cc, common.h; the default double rounding).

struct Multiplier {
    int32_t m = 0;
    int shift = 0;
};

Multiplier quantizeMultiplier(double d) {
    Multiplier r;
    if (d == 0.0) return r;
    int shift = 0;
    const double frac = std::frexp(d, &shift);
    int64_t fixed = static_cast<int64_t>(std::round(frac * static_cast<double>(1LL << 31)));
    if (fixed == (1LL << 31)) fixed /= 2, ++shift;
    if (shift < -31) shift = 0, fixed = 0;
    r.m = static_cast<int32_t>(fixed);
    r.shift = shift;
    return r;
}

int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
    if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
    const int64_t ab = static_cast<int64_t>(a) * b;
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return static_cast<int32_t>((ab + nudge) / (1LL << 31));
}

int32_t roundingDivideByPot(int32_t x, int e) {
    const int32_t mask = static_cast<int32_t>((1LL << e) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (remainder > threshold ? 1 : 0);
}

int32_t multiplyByQuantizedMultiplier(int32_t x, Multiplier q) {
    const int left = q.shift > 0 ? q.shift : 0;
    const int right = q.shift > 0 ? 0 : -q.shift;
    // The reference shifts in int32 (wrapping); unsigned arithmetic does the same without UB.
    const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
    return roundingDivideByPot(saturatingRoundingDoublingHighMul(shifted, q.m), right);
}

/// sigmoid(i / 24), i = 0..255, in 0.16 fixed point: the table TFLite's int16 Logistic and Tanh
/// interpolate in. Each sample is lowered by half the error linear interpolation makes at the
/// middle of its interval (so interpolating between neighbours errs evenly on both sides), then
/// rounded to nearest; the last entry is 65535, the saturated end. Built once from that rule
/// (tst_tflite_rnn checks entries against the published table's values).
const uint16_t* sigmoidTable() {
    static const std::array<uint16_t, 256> table = [] {
        std::array<uint16_t, 256> t{};
        const auto s = [](double i) { return 65536.0 / (1.0 + std::exp(-i / 24.0)); };
        for (int i = 0; i < 255; ++i) {
            const double v = s(i), interpolatedMid = (v + s(i + 1)) / 2;
            t[static_cast<std::size_t>(i)] =
                static_cast<uint16_t>(std::min(65535.0, std::nearbyint(v - (interpolatedMid - s(i + 0.5)) / 2)));
        }
        t[255] = 65535;
        return t;
    }();
    return table.data();
}

/// reference_integer_ops::Logistic for int16 with input_multiplier 0, shift 0: Q3.12 -> Q0.15.
int16_t sigmoidQ312(int16_t x) {
    const int32_t in = static_cast<int32_t>(x) * 3;
    const uint32_t a = static_cast<uint32_t>(std::abs(in));
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255) {
        r = 0x7FFFu << 10;
    } else {
        const uint16_t* table = sigmoidTable();
        const uint32_t ua = table[uh], ub = table[uh + 1];
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = in >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    return static_cast<int16_t>(r >> 10);
}

/// reference_integer_ops::Tanh for int16 as tflite-micro's LSTM calls it: input scale
/// 2^scalePower, output Q0.15.
int16_t tanhPow2(int16_t x, int scalePower) {
    int32_t shift = 15 + scalePower - 3, mult = 0;
    if (shift < 0) shift = -shift, mult = 3;
    if (mult == 0) mult = 3 << shift, shift = 0;
    const int32_t round = shift > 0 ? 1 << (shift - 1) : 0;
    const int32_t in = (static_cast<int32_t>(x) * mult + round) >> shift;
    const uint32_t a = static_cast<uint32_t>(std::abs(in));
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255) {
        r = 0xFFFF << 8;
    } else {
        const uint16_t* table = sigmoidTable();
        const uint32_t ua = table[uh], ub = table[uh + 1];
        r = static_cast<int32_t>((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = in >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return static_cast<int16_t>(r >> 8);
}

int32_t clampTo(int32_t v, int32_t lo, int32_t hi) { return std::min(hi, std::max(lo, v)); }

// ---------------------------------------------------------------------------------------------
// Float helpers (TFLite's ApplyActivationToVector for the fused activations the schema names).

enum class FusedAct { None, Relu, ReluN1To1, Relu6, Tanh };

Result<FusedAct> fusedActivation(const ir::Node& n, const auto& ctx) {
    const std::string a = n.attrString(kActAttr, "NONE");
    if (a == "NONE") return FusedAct::None;
    if (a == "RELU") return FusedAct::Relu;
    if (a == "RELU_N1_TO_1") return FusedAct::ReluN1To1;
    if (a == "RELU6") return FusedAct::Relu6;
    if (a == "TANH") return FusedAct::Tanh;
    return ctx.error(StatusCode::Unsupported, "fused activation " + a + " is not supported");
}

float applyAct(FusedAct a, float x) {
    switch (a) {
    case FusedAct::None: return x;
    case FusedAct::Relu: return std::max(0.f, x);
    case FusedAct::ReluN1To1: return std::max(-1.f, std::min(1.f, x));
    case FusedAct::Relu6: return std::max(0.f, std::min(6.f, x));
    case FusedAct::Tanh: return std::tanh(x);
    }
    return x;
}

float sigmoidF(float x) { return 1.f / (1.f + std::exp(-x)); }

/// Per-tensor quantization of a node input/output (nullopt when absent or per-axis).
struct Q {
    float scale = 0;
    int32_t zp = 0;
};
std::optional<Q> perTensor(const ir::Value* v) {
    if (!v || !v->quant || v->quant->scales.size() != 1) return std::nullopt;
    Q q;
    q.scale = v->quant->scales[0];
    q.zp = v->quant->zeroPoints.empty() ? 0 : static_cast<int32_t>(v->quant->zeroPoints[0]);
    return q;
}

// ---------------------------------------------------------------------------------------------
// UNIDIRECTIONAL_SEQUENCE_LSTM

enum LstmIn {
    kX = 0,
    kWi = 1, kWf, kWc, kWo,          // input_to_{input,forget,cell,output}: [n_cell, n_input]
    kRi = 5, kRf, kRc, kRo,          // recurrent_to_*: [n_cell, n_output]
    kPi = 9, kPf, kPo,               // cell_to_{input,forget,output} peepholes: [n_cell]
    kBi = 12, kBf, kBc, kBo,         // gate biases: [n_cell]
    kProjW = 16, kProjB = 17,        // projection [n_output, n_cell], [n_output]
    kH0 = 18, kC0 = 19,              // output state [batch, n_output], cell state [batch, n_cell]
    kLi = 20, kLf, kLc, kLo,         // layer norm coefficients: [n_cell]
    kLstmInputs = 24
};

class TfliteLstmKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        if (ctx.numInputs() > kLstmInputs)
            return ctx.error(StatusCode::InvalidInput, "has " + std::to_string(ctx.numInputs()) + " inputs (at most 24)");
        for (int i : {kX, kWf, kWc, kWo, kRf, kRc, kRo, kBf, kBc, kBo, kH0, kC0})
            if (!ctx.hasInput(static_cast<std::size_t>(i)))
                return ctx.error(StatusCode::InvalidInput, "input " + std::to_string(i) + " is required");
        EW_TRY_ASSIGN(m_act, fusedActivation(n, ctx));
        m_cellClip = n.attrFloat("cell_clip", 0.f);
        m_projClip = n.attrFloat("proj_clip", 0.f);
        m_timeMajor = n.attrInt("time_major", 0) != 0;
        if (n.attrInt("diagonal_recurrent_tensors", 0) != 0)
            return ctx.error(StatusCode::Unsupported, "diagonal recurrent weights are not supported");
        auto has = [&](int i) { return ctx.hasInput(static_cast<std::size_t>(i)); };
        m_cifg = !has(kWi);
        if (m_cifg != !has(kRi) || (!m_cifg && !has(kBi)))
            return ctx.error(StatusCode::InvalidInput,
                             "input_to_input weights, recurrent_to_input weights and the input gate bias must be all present or (CIFG) all absent");
        m_peephole = has(kPf) || has(kPo) || has(kPi);
        if (m_peephole && (!has(kPf) || !has(kPo) || has(kPi) == m_cifg))
            return ctx.error(StatusCode::InvalidInput, "peephole weights must be all present (cell_to_input only without CIFG)");
        m_layerNorm = has(kLf) || has(kLc) || has(kLo) || has(kLi);
        if (m_layerNorm && (!has(kLf) || !has(kLc) || !has(kLo) || has(kLi) == m_cifg))
            return ctx.error(StatusCode::InvalidInput, "layer norm coefficients must be all present (input gate's only without CIFG)");
        m_projection = has(kProjW);
        if (has(kProjB) && !m_projection)
            return ctx.error(StatusCode::InvalidInput, "a projection bias needs projection weights");
        for (std::size_t i = 0; i < kLstmInputs; ++i) m_q[i] = perTensor(n.input(i));
        m_outQ = perTensor(n.output(0));
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(kX);
        if (x.rank() != 3) return ctx.error(StatusCode::InvalidInput, "the input must be 3-D, got " + dimsText(x.dims()));
        m_T = x.dims()[m_timeMajor ? 0 : 1];
        m_B = x.dims()[m_timeMajor ? 1 : 0];
        m_I = x.dims()[2];
        const Tensor& wf = ctx.input(kWf);
        const Tensor& rf = ctx.input(kRf);
        if (wf.rank() != 2 || rf.rank() != 2)
            return ctx.error(StatusCode::InvalidInput, "gate weights must be 2-D");
        m_C = wf.dims()[0];
        m_O = rf.dims()[1];
        auto check = [&](int i, std::vector<int64_t> want) -> VoidResult {
            if (!ctx.hasInput(static_cast<std::size_t>(i))) return {};
            if (ctx.input(static_cast<std::size_t>(i)).dims() != want)
                return ctx.error(StatusCode::InvalidInput, "input " + std::to_string(i) + " must be " + dimsText(want) +
                                                               ", got " + dimsText(ctx.input(static_cast<std::size_t>(i)).dims()));
            return {};
        };
        for (int i = kWi; i <= kWo; ++i) EW_TRY(check(i, {m_C, m_I}));
        for (int i = kRi; i <= kRo; ++i) EW_TRY(check(i, {m_C, m_O}));
        for (int i = kPi; i <= kPo; ++i) EW_TRY(check(i, {m_C}));
        for (int i = kBi; i <= kBo; ++i) EW_TRY(check(i, {m_C}));
        for (int i = kLi; i <= kLo; ++i) EW_TRY(check(i, {m_C}));
        EW_TRY(check(kProjW, {m_O, m_C}));
        EW_TRY(check(kProjB, {m_O}));
        if (!m_projection && m_O != m_C)
            return ctx.error(StatusCode::InvalidInput, "without projection the output size (" + std::to_string(m_O) +
                                                           ") must equal the cell size (" + std::to_string(m_C) + ")");
        // Like tflite-micro, the states only need the right element count (1-D or 2-D).
        if (ctx.input(kH0).numElements() != m_B * m_O || ctx.input(kC0).numElements() != m_B * m_C)
            return ctx.error(StatusCode::InvalidInput, "the output state must hold batch x " + std::to_string(m_O) +
                                                           " and the cell state batch x " + std::to_string(m_C) + " elements");
        const DataType xt = x.dtype();
        const std::vector<int64_t> outDims = m_timeMajor ? std::vector<int64_t>{m_T, m_B, m_O} : std::vector<int64_t>{m_B, m_T, m_O};
        if (xt == DataType::Float) {
            for (std::size_t i = 1; i < ctx.numInputs(); ++i)
                if (ctx.hasInput(i) && ctx.input(i).dtype() != DataType::Float)
                    return ctx.error(StatusCode::Unsupported,
                                     "input " + std::to_string(i) + " is " + typeName(ctx.input(i).dtype()) +
                                         " with a float input: the hybrid LSTM is not supported");
            m_integer = false;
            ctx.setOutput(0, DataType::Float, outDims);
            ctx.setScratchBytes(static_cast<std::size_t>(6 * m_C + 2 * m_O) * sizeof(float));
            return {};
        }
        if (xt != DataType::Int8)
            return ctx.error(StatusCode::Unsupported, "input type " + typeName(xt) + " is not supported");
        EW_TRY(prepareInteger(ctx));
        m_integer = true;
        ctx.setOutput(0, DataType::Int8, outDims);
        ctx.setScratchBytes(static_cast<std::size_t>(7 * m_C) * sizeof(int16_t) + static_cast<std::size_t>(m_O));
        return {};
    }

    void run(RunContext& ctx) override {
        if (m_integer)
            runInteger(ctx);
        else
            runFloat(ctx);
    }

  private:
    int64_t xOffset(int64_t b, int64_t t) const { return (m_timeMajor ? t * m_B + b : b * m_T + t) * m_I; }
    int64_t yOffset(int64_t b, int64_t t) const { return (m_timeMajor ? t * m_B + b : b * m_T + t) * m_O; }

    static const float* fptr(RunContext& ctx, int i) {
        return ctx.hasInput(static_cast<std::size_t>(i)) ? ctx.input(static_cast<std::size_t>(i)).data<float>() : nullptr;
    }

    /// gate = act(W x + R h [+ P .* c] + b), or with layer norm act(norm(...) .* L + b): lstm_eval.cc's
    /// CalculateLstmGateFloat for one batch entry (bias first, then each product's row sum added).
    void gateFloat(const float* x, const float* W, const float* h, const float* R, const float* c, const float* P,
                   const float* L, const float* bias, bool sigmoid, float* gate) const {
        const auto C = static_cast<std::size_t>(m_C), I = static_cast<std::size_t>(m_I), O = static_cast<std::size_t>(m_O);
        for (std::size_t r = 0; r < C; ++r) gate[r] = L ? 0.f : bias[r];
        for (std::size_t r = 0; r < C; ++r) {
            float d = 0.f;
            for (std::size_t k = 0; k < I; ++k) d += W[r * I + k] * x[k];
            gate[r] += d;
        }
        for (std::size_t r = 0; r < C; ++r) {
            float d = 0.f;
            for (std::size_t k = 0; k < O; ++k) d += R[r * O + k] * h[k];
            gate[r] += d;
        }
        if (P)
            for (std::size_t r = 0; r < C; ++r) gate[r] += P[r] * c[r];
        if (L) {
            // tensor_utils::MeanStddevNormalization.
            float sum = 0.f, sumSq = 0.f;
            for (std::size_t r = 0; r < C; ++r) sum += gate[r], sumSq += gate[r] * gate[r];
            const float mean = sum / static_cast<float>(C);
            const float variance = sumSq / static_cast<float>(C) - mean * mean;
            const float inv = variance == 0.f ? 1.f / std::sqrt(1e-8f) : 1.f / std::sqrt(variance);
            for (std::size_t r = 0; r < C; ++r) gate[r] = (gate[r] - mean) * inv * L[r] + bias[r];
        }
        for (std::size_t r = 0; r < C; ++r) gate[r] = sigmoid ? sigmoidF(gate[r]) : applyAct(m_act, gate[r]);
    }

    void runFloat(RunContext& ctx) {
        const float* X = ctx.input(kX).data<float>();
        float* Y = ctx.output(0).data<float>();
        const auto C = static_cast<std::size_t>(m_C), O = static_cast<std::size_t>(m_O);
        auto* s = reinterpret_cast<float*>(ctx.scratch());
        float *ig = s, *fg = s + C, *cg = s + 2 * C, *og = s + 3 * C, *c = s + 4 * C, *tmp = s + 5 * C, *h = s + 6 * C,
              *hNew = h + O;
        const float *wi = fptr(ctx, kWi), *wf = fptr(ctx, kWf), *wc = fptr(ctx, kWc), *wo = fptr(ctx, kWo);
        const float *ri = fptr(ctx, kRi), *rf = fptr(ctx, kRf), *rc = fptr(ctx, kRc), *ro = fptr(ctx, kRo);
        const float *pi = fptr(ctx, kPi), *pf = fptr(ctx, kPf), *po = fptr(ctx, kPo);
        const float *bi = fptr(ctx, kBi), *bf = fptr(ctx, kBf), *bc = fptr(ctx, kBc), *bo = fptr(ctx, kBo);
        const float *li = fptr(ctx, kLi), *lf = fptr(ctx, kLf), *lc = fptr(ctx, kLc), *lo = fptr(ctx, kLo);
        const float *pw = fptr(ctx, kProjW), *pb = fptr(ctx, kProjB);
        const float* h0 = ctx.input(kH0).data<float>();
        const float* c0 = ctx.input(kC0).data<float>();
        for (int64_t b = 0; b < m_B; ++b) {
            std::copy_n(h0 + b * m_O, O, h);
            std::copy_n(c0 + b * m_C, C, c);
            for (int64_t t = 0; t < m_T; ++t) {
                const float* x = X + xOffset(b, t);
                if (!m_cifg) gateFloat(x, wi, h, ri, c, pi, li, bi, true, ig);
                gateFloat(x, wf, h, rf, c, pf, lf, bf, true, fg);
                gateFloat(x, wc, h, rc, nullptr, nullptr, lc, bc, false, cg);
                // UpdateLstmCellFloat: c = f .* c + i .* g (i = 1 - f with CIFG), then the clip.
                for (std::size_t r = 0; r < C; ++r) c[r] = fg[r] * c[r];
                for (std::size_t r = 0; r < C; ++r) c[r] += cg[r] * (m_cifg ? 1.f - fg[r] : ig[r]);
                if (m_cellClip > 0.f)
                    for (std::size_t r = 0; r < C; ++r) c[r] = std::max(-m_cellClip, std::min(m_cellClip, c[r]));
                // The output gate's peephole reads the updated cell state.
                gateFloat(x, wo, h, ro, c, po, lo, bo, true, og);
                // CalculateLstmOutputFloat.
                for (std::size_t r = 0; r < C; ++r) tmp[r] = og[r] * applyAct(m_act, c[r]);
                if (m_projection) {
                    for (std::size_t r = 0; r < O; ++r) hNew[r] = pb ? pb[r] : 0.f;
                    for (std::size_t r = 0; r < O; ++r) {
                        float d = 0.f;
                        for (std::size_t k = 0; k < C; ++k) d += pw[r * C + k] * tmp[k];
                        hNew[r] += d;
                    }
                    if (m_projClip > 0.f)
                        for (std::size_t r = 0; r < O; ++r) hNew[r] = std::max(-m_projClip, std::min(m_projClip, hNew[r]));
                    std::copy_n(hNew, O, h);
                } else {
                    std::copy_n(tmp, O, h);
                }
                std::copy_n(h, O, Y + yOffset(b, t));
            }
        }
    }

    VoidResult prepareInteger(PrepareContext& ctx) {
        if (m_cifg || m_peephole || m_projection || m_layerNorm)
            return ctx.error(StatusCode::Unsupported,
                             "the integer LSTM is supported without CIFG, peepholes, projection and layer norm (as tflite-micro)");
        if (m_act != FusedAct::Tanh)
            return ctx.error(StatusCode::Unsupported, "the integer LSTM needs the TANH activation");
        for (int i : {kWi, kWf, kWc, kWo, kRi, kRf, kRc, kRo})
            if (ctx.input(static_cast<std::size_t>(i)).dtype() != DataType::Int8 || !m_q[static_cast<std::size_t>(i)])
                return ctx.error(StatusCode::Unsupported, "input " + std::to_string(i) + " must be per-tensor quantized int8");
        for (int i : {kBi, kBf, kBc, kBo})
            if (ctx.input(static_cast<std::size_t>(i)).dtype() != DataType::Int32)
                return ctx.error(StatusCode::Unsupported, "gate bias " + std::to_string(i) + " must be int32");
        if (ctx.input(kH0).dtype() != DataType::Int8 || ctx.input(kC0).dtype() != DataType::Int16)
            return ctx.error(StatusCode::Unsupported, "the integer LSTM needs an int8 output state and an int16 cell state");
        if (!m_q[kX] || !m_q[kH0] || !m_q[kC0] || !m_outQ)
            return ctx.error(StatusCode::InvalidInput, "the input, the states and the output need per-tensor quantization");
        if (m_outQ->scale != m_q[kH0]->scale || m_outQ->zp != m_q[kH0]->zp)
            return ctx.error(StatusCode::Unsupported, "the output's quantization must be the output state's");
        // CreateLstmCellStateInfo: the cell scale is a power of two (CheckedLog2).
        const float cs = m_q[kC0]->scale;
        if (!(cs > 0.f)) return ctx.error(StatusCode::InvalidInput, "the cell state scale must be positive");
        const float lg = std::log(cs) * (1.0f / std::log(2.0f));
        if (std::abs(lg - std::round(lg)) >= 1e-3f)
            return ctx.error(StatusCode::Unsupported, "the cell state scale " + std::to_string(cs) + " is not a power of two");
        m_cellPow = static_cast<int>(std::round(lg));
        m_qCellClip = static_cast<int16_t>(std::min(std::max(static_cast<double>(m_cellClip) / static_cast<double>(cs), -32768.0), 32767.0));
        // CreateGateParams: FULLY_CONNECTED to int16 Q3.12 (GetQuantizedConvolutionMultipler
        // multiplies the two float scales in float).
        const float gateScale = 0.000244140625f;
        const auto& qx = *m_q[kX];
        const auto& qh = *m_q[kH0];
        for (int g = 0; g < 4; ++g) {
            const auto& qw = *m_q[static_cast<std::size_t>(kWi + g)];
            const auto& qr = *m_q[static_cast<std::size_t>(kRi + g)];
            m_inMul[g] = quantizeMultiplier(static_cast<double>(qx.scale * qw.scale) / static_cast<double>(gateScale));
            m_recMul[g] = quantizeMultiplier(static_cast<double>(qh.scale * qr.scale) / static_cast<double>(gateScale));
            m_wZp[g] = qw.zp;
            m_rZp[g] = qr.zp;
        }
        // CreateInterGateMulParams (in double).
        const double q15 = 0.000030517578125;
        m_forgetMul = quantizeMultiplier(q15 * cs / static_cast<double>(cs));
        m_inputMul = quantizeMultiplier(q15 * q15 / static_cast<double>(cs));
        m_outputMul = quantizeMultiplier(q15 * q15 / static_cast<double>(qh.scale));
        return {};
    }

    /// One gate: FC(x) + FC(h) requantized to Q3.12, added with saturation, then the nonlinearity.
    void gateInt(const int8_t* x, const int8_t* W, const int32_t* bias, const int8_t* h, const int8_t* R, int g,
                 bool sigmoid, int16_t* gate) const {
        const int32_t xOff = -m_q[kX]->zp, hOff = -m_q[kH0]->zp, wOff = -m_wZp[g], rOff = -m_rZp[g];
        for (int64_t r = 0; r < m_C; ++r) {
            int32_t acc = 0;
            for (int64_t k = 0; k < m_I; ++k) acc += (W[r * m_I + k] + wOff) * (x[k] + xOff);
            acc += bias[r];
            const int32_t a = clampTo(multiplyByQuantizedMultiplier(acc, m_inMul[g]), -32768, 32767);
            int32_t racc = 0;
            for (int64_t k = 0; k < m_O; ++k) racc += (R[r * m_O + k] + rOff) * (h[k] + hOff);
            const int32_t b = clampTo(multiplyByQuantizedMultiplier(racc, m_recMul[g]), -32768, 32767);
            const auto sum = static_cast<int16_t>(clampTo(a + b, -32768, 32767));
            gate[r] = sigmoid ? sigmoidQ312(sum) : tanhPow2(sum, -12);
        }
    }

    static int32_t mul(int32_t a, int32_t b, Multiplier m, int32_t zp, int32_t lo, int32_t hi) {
        return clampTo(zp + multiplyByQuantizedMultiplier(a * b, m), lo, hi);
    }

    void runInteger(RunContext& ctx) {
        const int8_t* X = ctx.input(kX).data<int8_t>();
        auto* Y = ctx.output(0).data<int8_t>();
        auto W = [&](int i) { return ctx.input(static_cast<std::size_t>(i)).data<int8_t>(); };
        auto Bias = [&](int i) { return ctx.input(static_cast<std::size_t>(i)).data<int32_t>(); };
        const auto C = static_cast<std::size_t>(m_C);
        auto* s = reinterpret_cast<int16_t*>(ctx.scratch());
        int16_t *ig = s, *fg = s + C, *cg = s + 2 * C, *og = s + 3 * C, *c = s + 4 * C, *ic = s + 5 * C, *th = s + 6 * C;
        auto* h = reinterpret_cast<int8_t*>(s + 7 * C);
        const int8_t* h0 = ctx.input(kH0).data<int8_t>();
        const int16_t* c0 = ctx.input(kC0).data<int16_t>();
        const int32_t hZp = m_q[kH0]->zp;
        for (int64_t b = 0; b < m_B; ++b) {
            std::copy_n(h0 + b * m_O, m_O, h);
            std::copy_n(c0 + b * m_C, C, c);
            for (int64_t t = 0; t < m_T; ++t) {
                const int8_t* x = X + xOffset(b, t);
                gateInt(x, W(kWf), Bias(kBf), h, W(kRf), 1, true, fg);
                gateInt(x, W(kWi), Bias(kBi), h, W(kRi), 0, true, ig);
                gateInt(x, W(kWc), Bias(kBc), h, W(kRc), 2, false, cg);
                for (std::size_t r = 0; r < C; ++r) {
                    const int32_t fc = mul(fg[r], c[r], m_forgetMul, 0, -32768, 32767);
                    const int32_t igc = mul(ig[r], cg[r], m_inputMul, 0, -32768, 32767);
                    ic[r] = static_cast<int16_t>(clampTo(fc + igc, -32768, 32767));
                    if (m_cellClip > 0.f) ic[r] = std::max<int16_t>(std::min(m_qCellClip, ic[r]), static_cast<int16_t>(-m_qCellClip));
                }
                std::copy_n(ic, C, c);
                gateInt(x, W(kWo), Bias(kBo), h, W(kRo), 3, true, og);
                for (std::size_t r = 0; r < C; ++r) th[r] = tanhPow2(c[r], m_cellPow);
                for (std::size_t r = 0; r < C; ++r) h[r] = static_cast<int8_t>(mul(th[r], og[r], m_outputMul, hZp, -128, 127));
                std::copy_n(h, m_O, Y + yOffset(b, t));
            }
        }
    }

    FusedAct m_act = FusedAct::None;
    float m_cellClip = 0, m_projClip = 0;
    bool m_timeMajor = false, m_cifg = false, m_peephole = false, m_layerNorm = false, m_projection = false;
    bool m_integer = false;
    std::optional<Q> m_q[kLstmInputs];
    std::optional<Q> m_outQ;
    int64_t m_T = 0, m_B = 0, m_I = 0, m_C = 0, m_O = 0;
    // Integer path.
    Multiplier m_inMul[4], m_recMul[4], m_forgetMul, m_inputMul, m_outputMul;
    int32_t m_wZp[4] = {}, m_rZp[4] = {};
    int m_cellPow = 0;
    int16_t m_qCellClip = 0;
};

// ---------------------------------------------------------------------------------------------
// SVDF

class TfliteSvdfKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        for (std::size_t i : {0u, 1u, 2u, 4u})
            if (!ctx.hasInput(i)) return ctx.error(StatusCode::InvalidInput, "input " + std::to_string(i) + " is required");
        m_rank = n.attrInt("rank", 0);
        if (m_rank < 1) return ctx.error(StatusCode::InvalidInput, "rank must be positive, got " + std::to_string(m_rank));
        EW_TRY_ASSIGN(m_act, fusedActivation(n, ctx));
        for (std::size_t i = 0; i < 5; ++i) m_q[i] = perTensor(n.input(i));
        m_outQ = perTensor(n.output(0));
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& wf = ctx.input(1);
        const Tensor& wt = ctx.input(2);
        const Tensor& st = ctx.input(4);
        if (x.rank() != 2 || wf.rank() != 2 || wt.rank() != 2)
            return ctx.error(StatusCode::InvalidInput, "input, weights_feature and weights_time must be 2-D");
        m_B = x.dims()[0];
        m_I = x.dims()[1];
        m_F = wf.dims()[0];
        m_M = wt.dims()[1];
        if (wf.dims()[1] != m_I || wt.dims()[0] != m_F)
            return ctx.error(StatusCode::InvalidInput, "weights_feature must be [num_filters, " + std::to_string(m_I) +
                                                           "] and weights_time [num_filters, memory_size]");
        if (m_F % m_rank != 0)
            return ctx.error(StatusCode::InvalidInput, "num_filters " + std::to_string(m_F) + " is not a multiple of rank " +
                                                           std::to_string(m_rank));
        m_U = m_F / m_rank;
        if (ctx.hasInput(3) && ctx.input(3).dims() != std::vector<int64_t>{m_U})
            return ctx.error(StatusCode::InvalidInput, "bias must be [" + std::to_string(m_U) + "]");
        if (st.dims() != std::vector<int64_t>{m_B, m_M * m_F})
            return ctx.error(StatusCode::InvalidInput, "activation_state must be [" + std::to_string(m_B) + ", " +
                                                           std::to_string(m_M * m_F) + "], got " + dimsText(st.dims()));
        const std::size_t stateBytes = static_cast<std::size_t>(m_B * m_M * m_F);
        if (x.dtype() == DataType::Float) {
            for (std::size_t i = 1; i < 5; ++i)
                if (ctx.hasInput(i) && ctx.input(i).dtype() != DataType::Float)
                    return ctx.error(StatusCode::Unsupported, "input " + std::to_string(i) + " is " + typeName(ctx.input(i).dtype()) +
                                                                  " with a float input: the hybrid SVDF is not supported");
            m_integer = false;
            ctx.setOutput(0, DataType::Float, {m_B, m_U});
            ctx.setScratchBytes((stateBytes + static_cast<std::size_t>(m_F)) * sizeof(float));
            return {};
        }
        if (x.dtype() != DataType::Int8)
            return ctx.error(StatusCode::Unsupported, "input type " + typeName(x.dtype()) + " is not supported");
        if (wf.dtype() != DataType::Int8 || (wt.dtype() != DataType::Int16 && wt.dtype() != DataType::Int8) ||
            st.dtype() != wt.dtype() || (ctx.hasInput(3) && ctx.input(3).dtype() != DataType::Int32))
            return ctx.error(StatusCode::Unsupported,
                             "the integer SVDF needs int8 weights_feature, int16 (or int8) weights_time and state of one type, int32 bias");
        for (std::size_t i : {0u, 1u, 2u, 4u})
            if (!m_q[i]) return ctx.error(StatusCode::InvalidInput, "input " + std::to_string(i) + " needs per-tensor quantization");
        if (!m_outQ) return ctx.error(StatusCode::InvalidInput, "the output needs per-tensor quantization");
        if (ctx.hasInput(3)) {
            const double want = static_cast<double>(m_q[4]->scale * m_q[2]->scale);
            if (!m_q[3] || std::abs(static_cast<double>(m_q[3]->scale) - want) >= 1e-5)
                return ctx.error(StatusCode::InvalidInput, "the bias scale must be activation_state scale x weights_time scale");
        }
        // PrepareSvdf computes both scales in float.
        m_scale1 = quantizeMultiplier(static_cast<double>(m_q[0]->scale * m_q[1]->scale / m_q[4]->scale));
        m_scale2 = quantizeMultiplier(static_cast<double>(m_q[4]->scale * m_q[2]->scale / m_outQ->scale));
        m_integer = true;
        m_stateInt8 = st.dtype() == DataType::Int8;
        ctx.setOutput(0, DataType::Int8, {m_B, m_U});
        ctx.setScratchBytes(stateBytes * sizeof(int16_t) + static_cast<std::size_t>(m_F + m_U) * sizeof(int32_t));
        return {};
    }

    void run(RunContext& ctx) override {
        if (!m_integer)
            runFloat(ctx);
        else if (m_stateInt8)
            runInteger<int8_t>(ctx);
        else
            runInteger<int16_t>(ctx);
    }

  private:
    void runFloat(RunContext& ctx) {
        const float* x = ctx.input(0).data<float>();
        const float* wf = ctx.input(1).data<float>();
        const float* wt = ctx.input(2).data<float>();
        const float* bias = ctx.hasInput(3) ? ctx.input(3).data<float>() : nullptr;
        float* y = ctx.output(0).data<float>();
        const auto n = static_cast<std::size_t>(m_B * m_M * m_F);
        auto* state = reinterpret_cast<float*>(ctx.scratch());
        float* scratch = state + n;
        const float* s0 = ctx.input(4).data<float>();
        // Shift the whole state left by one; each filter's newest slot is then overwritten.
        std::copy(s0 + 1, s0 + n, state);
        for (int64_t b = 0; b < m_B; ++b) {
            for (int64_t f = 0; f < m_F; ++f) {
                float d = 0.f;
                for (int64_t k = 0; k < m_I; ++k) d += wf[f * m_I + k] * x[b * m_I + k];
                state[(b * m_F + f) * m_M + m_M - 1] = d;
            }
            for (int64_t f = 0; f < m_F; ++f) {
                float d = 0.f;
                for (int64_t j = 0; j < m_M; ++j) d += wt[f * m_M + j] * state[(b * m_F + f) * m_M + j];
                scratch[f] = d;
            }
            for (int64_t u = 0; u < m_U; ++u) {
                float o = bias ? bias[u] : 0.f;
                for (int64_t r = 0; r < m_rank; ++r) o += scratch[u * m_rank + r];
                y[b * m_U + u] = applyAct(m_act, o);
            }
        }
    }

    template <typename T>
    void runInteger(RunContext& ctx) {
        const int8_t* x = ctx.input(0).data<int8_t>();
        const int8_t* wf = ctx.input(1).data<int8_t>();
        const T* wt = ctx.input(2).data<T>();
        const int32_t* bias = ctx.hasInput(3) ? ctx.input(3).data<int32_t>() : nullptr;
        auto* y = ctx.output(0).data<int8_t>();
        const auto n = static_cast<std::size_t>(m_B * m_M * m_F);
        auto* state = reinterpret_cast<T*>(ctx.scratch());
        auto* scratch = reinterpret_cast<int32_t*>(ctx.scratch() + n * sizeof(int16_t));
        int32_t* acc = scratch + m_F;
        const T* s0 = ctx.input(4).data<T>();
        std::copy(s0 + 1, s0 + n, state);
        const int32_t xZp = m_q[0]->zp, sZp = m_q[4]->zp, yZp = m_outQ->zp;
        const int32_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
        for (int64_t b = 0; b < m_B; ++b) {
            for (int64_t f = 0; f < m_F; ++f) {
                int32_t d = 0;
                for (int64_t k = 0; k < m_I; ++k) d += wf[f * m_I + k] * (x[b * m_I + k] - xZp);
                d = multiplyByQuantizedMultiplier(d, m_scale1) + sZp;
                state[(b * m_F + f) * m_M + m_M - 1] = static_cast<T>(clampTo(d, lo, hi));
            }
            for (int64_t f = 0; f < m_F; ++f) {
                int32_t d = 0;
                for (int64_t j = 0; j < m_M; ++j) d += wt[f * m_M + j] * (state[(b * m_F + f) * m_M + j] - sZp);
                scratch[f] = d;
            }
            for (int64_t u = 0; u < m_U; ++u) {
                acc[u] = bias ? bias[u] : 0;
                for (int64_t r = 0; r < m_rank; ++r) acc[u] += scratch[u * m_rank + r];
                y[b * m_U + u] = static_cast<int8_t>(clampTo(multiplyByQuantizedMultiplier(acc[u], m_scale2) + yZp, -128, 127));
            }
        }
    }

    int64_t m_rank = 1;
    FusedAct m_act = FusedAct::None;
    std::optional<Q> m_q[5];
    std::optional<Q> m_outQ;
    int64_t m_B = 0, m_I = 0, m_F = 0, m_M = 0, m_U = 0;
    bool m_integer = false, m_stateInt8 = false;
    Multiplier m_scale1, m_scale2;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeTfliteUnidirectionalSequenceLstm() { return std::make_unique<cpu::TfliteLstmKernel>(); }
std::unique_ptr<Kernel> makeTfliteSvdf() { return std::make_unique<cpu::TfliteSvdfKernel>(); }

} // namespace ew::rt
