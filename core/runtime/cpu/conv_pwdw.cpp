// ai.edgewise.FusedPwDwConv: a pointwise convolution (1x1, stride 1, no padding, group 1; the
// expansion of an inverted-residual block) whose output feeds only a depthwise convolution, run
// in one pass that never writes the expanded map out (core/runtime/fusion.h says when the
// runtime fuses the pair).
//
// The depthwise kernel reads its input as channel-interleaved rows ([padded column][8 channels]
// per 8-channel group, a ring of KH rows). Here each row of that ring comes straight from the
// pointwise GEMM, transposed: E_row^T [pixels, C] = X_row^T [pixels, K] x W^T [K, C] (the pixels
// of one input row as the rows of the GEMM, W^T prepacked as column panels), with the pointwise
// bias and activation in the GEMM's epilogue; the result is scattered into the ring row's groups
// and the depthwise kernel computes one output row of every channel from the ring. The expanded
// map (the largest tensor of such networks: 96 x 112 x 112 floats in mobilenet_v2) thus lives
// only as KH rows in L2 instead of going to memory and back.
//
// Every expanded value is the same dot product in the same order as the unfused pointwise GEMM
// computes it, and every output the same depthwise sum, so results are bit-identical to running
// the two FusedConv nodes, for any thread count (threads take chunks of channels).
#include "activation.h"
#include "conv_depthwise.h"
#include "kernel_util.h"
#include "sgemm_micro.h"

#include <algorithm>
#include <cstring>

namespace ew::rt {
namespace cpu {
namespace {

struct PwDwPlan {
    int64_t K = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0, KH = 0, KW = 0, SH = 1, SW = 1, padTop = 0, padLeft = 0;
    const PackedColumns* pwT = nullptr; ///< W_pw^T [K, C] as column panels
    Epilogue pwEpi;                     ///< pointwise bias (per column: channels) and activation
    const float* biasPadded = nullptr;  ///< the pointwise bias, zeros up to whole 16-channel panels
    int microAct = 0;                   ///< pwEpi's activation as MicroEpilogue::act (when not late)
    bool lateAct = false;               ///< the pointwise activation runs after the GEMM
    const float* wpAll = nullptr;       ///< depthwise taps per 8-channel group (DepthwiseRowFns::pack)
    const float* b8All = nullptr;       ///< depthwise bias per group
    Epilogue dwAct;                     ///< depthwise activation
};

/// Where one image's expanded rows go: ring rows of `groups` channel groups, groupFloats floats
/// apart (TW padded columns of 8 channels, plus room for the GEMM's padding pixels).
struct RowLayout {
    int64_t TW = 0, uBegin = 0, cols = 0, groups = 0, groupFloats = 0, slotFloats = 0;
    PackedMatrix pixels; ///< the pixel panels of one input row (layout only: A is read in place)
};

/// The channels [c0, c1) a task computes: 16-channel panels q0 .. q1-1 of the pointwise weights.
struct Chunk {
    int64_t q0 = 0, q1 = 0, c0 = 0, c1 = 0;
};

/// Zero padding columns of the depthwise kernel's groups (of the chunk's channels), and the late
/// activation.
void finishRow(const PwDwPlan& p, const RowLayout& l, const Chunk& ch, float* slot) {
    const int64_t dwGroups = (ch.c1 - ch.c0 + 7) / 8, uEnd = l.uBegin + l.cols;
    for (int64_t g = 0; g < dwGroups; ++g) {
        float* dst = slot + g * l.groupFloats;
        std::fill(dst, dst + l.uBegin * 8, 0.f);
        std::fill(dst + uEnd * 8, dst + l.TW * 8, 0.f);
        if (p.lateAct) applyActivation(dst + l.uBegin * 8, l.cols * 8, p.pwEpi);
    }
}

/// Expanded row of input row xRow (pixels 0 .. cols-1 of every input channel, planes H*W apart)
/// into ring row `slot`, AVX2: the GEMM stores channel-interleaved straight into the ring.
void expandRowAvx2(const PwDwPlan& p, const RowLayout& l, const Chunk& ch, const float* xRow, float* tail,
                   float* slot) {
    const int64_t hw = p.H * p.W, kKC = sgemmDepthBlock();
    MicroEpilogue me;
    me.colBias = p.biasPadded ? p.biasPadded + ch.c0 : nullptr;
    me.act = p.microAct;
    me.alpha = p.pwEpi.alpha;
    me.beta = p.pwEpi.beta;
    // Depth blocks as the SGEMM cuts them (the same sums, bit for bit).
    for (int64_t pc = 0; pc < p.K; pc += kKC) {
        const int64_t kc = std::min(kKC, p.K - pc);
        const bool last = pc + kc == p.K;
        for (int64_t pi = 0; pi < l.pixels.panels(); ++pi) {
            const int h = l.pixels.panelHeight(pi);
            const int64_t m0 = l.pixels.panelRow(pi);
            const float* ap = xRow + pc * hw + m0;
            int64_t lda = hw;
            if (m0 + h > l.cols) { // a padded last panel: packed, zeros past the row
                for (int64_t k = 0; k < kc; ++k)
                    for (int r = 0; r < h; ++r) tail[k * h + r] = m0 + r < l.cols ? ap[k * hw + r] : 0.f;
                ap = tail;
                lda = h;
            }
            sgemmPixelsToGroupsAvx2(h, kc, ap, lda, p.pwT->panel(ch.q0) + pc * 16, p.K * 16, ch.q1 - ch.q0,
                                    slot + (l.uBegin + m0) * 8, l.groupFloats, pc > 0, last ? &me : nullptr);
        }
    }
    finishRow(p, l, ch, slot);
}

/// The same through the portable SGEMM: tmp [cols, C], then scattered into the ring row.
void expandRowPortable(const PwDwPlan& p, const RowLayout& l, const float* xRow, float* apk, float* tmp, float* slot,
                       ThreadPool& pool) {
    const PackedMatrix a = PackedMatrix::packInto(apk, xRow, l.cols, p.K, p.H * p.W, /*transposed=*/true);
    Epilogue e = p.pwEpi;
    if (p.lateAct) e.act = Activation::None;
    sgemmPacked(a, *p.pwT, tmp, p.C, e, pool);
    for (int64_t c0 = 0; c0 < p.C; c0 += 8) {
        float* dst = slot + (c0 / 8) * l.groupFloats + l.uBegin * 8;
        const int64_t nc = std::min<int64_t>(8, p.C - c0);
        for (int64_t u = 0; u < l.cols; ++u)
            for (int64_t c = 0; c < 8; ++c) dst[u * 8 + c] = c < nc ? tmp[u * p.C + c0 + c] : 0.f;
    }
    finishRow(p, l, Chunk{0, (p.C + 15) / 16, 0, p.C}, slot);
}

/// One image: x [K, H, W] -> y [C, OH, OW].
void pwDwImage(const PwDwPlan& p, const DepthwiseRowFns& fns, const float* x, float* y, ThreadPool& pool) {
    RowLayout l;
    l.TW = (p.OW - 1) * p.SW + p.KW;
    l.uBegin = p.padLeft; // first buffered column holding input (input column 0)
    l.cols = std::clamp<int64_t>(l.TW - p.padLeft, 0, p.W); // input columns any tap reads
    const bool avx2 = sgemmUsesAvx2();
    const int64_t padded = l.cols > 0 ? PackedMatrix::paddedRows(l.cols) : 0;
    l.groups = (p.C + 15) / 16 * 2; // whole 16-channel panels (the GEMM writes them whole)
    l.groupFloats = (std::max(l.TW, l.uBegin + padded) + 1) * 8;
    l.slotFloats = l.groups * l.groupFloats;
    if (l.cols > 0) l.pixels = PackedMatrix::layoutOf(l.cols, p.K);
    const int64_t plane = p.OH * p.OW;
    const std::size_t work = avx2 ? static_cast<std::size_t>(std::min(sgemmDepthBlock(), p.K) * 6)
                                  : (l.cols > 0 ? PackedMatrix::packedFloats(l.cols, p.K) : 0) +
                                        static_cast<std::size_t>(l.cols * p.C);
    const std::size_t scratchFloats = static_cast<std::size_t>(p.KH * l.slotFloats) + work + 16;
    const int act = p.dwAct.act == Activation::Relu ? 1 : p.dwAct.act == Activation::Clip ? 2 : 0;
    const bool lateAct = p.dwAct.act != Activation::None && act == 0;
    // Tasks on several threads: with the AVX2 kernels, chunks of channels (whole 16-channel
    // panels, about two per thread, so a thread the host stalls leaves work the others take):
    // each reads the input rows again but computes nothing twice. The portable path computes a
    // row's channels in one GEMM, so it takes bands of output rows instead, one per thread, each
    // recomputing the KH - SH expanded rows above it. Neither split changes any value.
    const int64_t colPanels = (p.C + 15) / 16, threads = pool.threads();
    const int64_t chunks = avx2 && threads > 1 ? std::min<int64_t>(colPanels, 2 * threads) : 1;
    const int64_t bands = avx2 ? 1 : std::min<int64_t>(threads, std::max<int64_t>(1, p.OH / 4));
    pool.parallelFor(0, bands * chunks, 1, [&](int64_t t0, int64_t t1) {
        float* base = depthwiseScratch(scratchFloats);
        float* ring = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(base) + 31) & ~uintptr_t(31));
        float* work0 = ring + p.KH * l.slotFloats;
        const float* taps[kDwMaxKernel];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t band = t / chunks, chunk = t % chunks;
            const int64_t r0 = band * p.OH / bands, r1 = (band + 1) * p.OH / bands;
            Chunk ch;
            ch.q0 = chunk * colPanels / chunks;
            ch.q1 = (chunk + 1) * colPanels / chunks;
            ch.c0 = ch.q0 * 16;
            ch.c1 = std::min(p.C, ch.q1 * 16);
            // The ring holds the KH padded expanded rows of the current output row (row t in slot
            // t % KH), as in the depthwise kernel.
            int64_t next = r0 * p.SH, nextSlot = next % p.KH, firstSlot = nextSlot;
            for (int64_t oh = r0; oh < r1; ++oh) {
                if (next < oh * p.SH) { // rows no tap reads (stride > KH)
                    next = oh * p.SH;
                    nextSlot = next % p.KH;
                }
                for (; next < oh * p.SH + p.KH; ++next) {
                    float* slot = ring + nextSlot * l.slotFloats;
                    if (++nextSlot == p.KH) nextSlot = 0;
                    const int64_t ih = next - p.padTop;
                    if (ih < 0 || ih >= p.H || l.cols == 0)
                        std::fill(slot, slot + l.slotFloats, 0.f);
                    else if (avx2)
                        expandRowAvx2(p, l, ch, x + ih * p.W, work0, slot);
                    else
                        expandRowPortable(p, l, x + ih * p.W, work0, work0 + PackedMatrix::packedFloats(l.cols, p.K),
                                          slot, pool);
                }
                for (int64_t i = 0, s = firstSlot; i < p.KH; ++i) {
                    taps[i] = ring + s * l.slotFloats;
                    if (++s == p.KH) s = 0;
                }
                firstSlot = (firstSlot + p.SH) % p.KH;
                const int64_t g0 = ch.c0 / 8, kk8 = p.KH * p.KW * 8;
                fns.rows(taps, l.groupFloats, ch.c1 - ch.c0, p.wpAll + g0 * kk8, p.b8All + g0 * 8, p.KH, p.KW, p.SW,
                         p.OW, y + ch.c0 * plane + oh * p.OW, plane, act, p.dwAct.alpha, p.dwAct.beta,
                         (r1 - oh) * p.OW >= 8);
            }
            if (lateAct)
                for (int64_t c = ch.c0; c < ch.c1; ++c)
                    applyActivation(y + c * plane + r0 * p.OW, (r1 - r0) * p.OW, p.dwAct);
        }
    });
}

/// Inputs: X [N, K, H, W], W_pw [C, K, 1, 1], B_pw [C] (optional), W_dw [C, 1, KH, KW], B_dw [C]
/// (optional), all weights and biases constant. Attributes: the pointwise activation
/// (activation, activation_params), the depthwise one (dw_activation, dw_activation_params) and
/// the depthwise window (kernel_shape, strides, pads, dilations, auto_pad).
class PwDwConvKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY(readActivation(ctx.node(), m_plan.pwEpi));
        EW_TRY(readActivation(ctx.node(), m_plan.dwAct, "dw_"));
        const Tensor* w1 = ctx.constantInput(1);
        const Tensor* w2 = ctx.constantInput(3);
        const Tensor* b1 = ctx.constantInput(2);
        const Tensor* b2 = ctx.constantInput(4);
        if (!w1 || !w2 || (ctx.hasInput(2) && !b1) || (ctx.hasInput(4) && !b2))
            return ctx.error(StatusCode::Unsupported, "needs constant weights and biases");
        if (w1->dtype() != DataType::Float || w2->dtype() != DataType::Float || (b1 && b1->dtype() != DataType::Float) ||
            (b2 && b2->dtype() != DataType::Float))
            return ctx.error(StatusCode::Unsupported, "needs float32 weights and biases");
        const int64_t C = w1->rank() == 4 ? w1->dims()[0] : -1;
        if (w1->rank() != 4 || w1->dims()[2] != 1 || w1->dims()[3] != 1 || w2->rank() != 4 || w2->dims()[0] != C ||
            w2->dims()[1] != 1)
            return ctx.error(StatusCode::InvalidInput, "pointwise weights " + dimsText(w1->dims()) +
                                                           " and depthwise weights " + dimsText(w2->dims()) +
                                                           " do not make [C, K, 1, 1] and [C, 1, KH, KW]");
        if ((b1 && b1->numElements() != C) || (b2 && b2->numElements() != C))
            return ctx.error(StatusCode::InvalidInput, "biases must have " + std::to_string(C) + " elements");
        m_plan.C = C;
        m_plan.K = w1->dims()[1];
        m_plan.KH = w2->dims()[2];
        m_plan.KW = w2->dims()[3];
        m_pwT = PackedColumns::pack(w1->data<float>(), m_plan.K, C, m_plan.K, /*transposed=*/true);
        m_plan.pwT = &m_pwT;
        m_plan.pwEpi.bias = b1 ? b1->data<float>() : nullptr;
        m_plan.pwEpi.biasPerColumn = true;
        if (b1) {
            m_biasPadded.assign(static_cast<std::size_t>((C + 15) / 16 * 16), 0.f);
            std::copy(b1->data<float>(), b1->data<float>() + C, m_biasPadded.begin());
            m_plan.biasPadded = m_biasPadded.data();
        }
        switch (m_plan.pwEpi.act) {
        case Activation::None: m_plan.microAct = 0; break;
        case Activation::Relu: m_plan.microAct = 1; break;
        case Activation::Clip: m_plan.microAct = 2; break;
        case Activation::LeakyRelu: m_plan.microAct = 3; break;
        case Activation::HardSwish: m_plan.microAct = 4; break;
        default: m_plan.lateAct = true; break;
        }
        const int64_t groups = (C + 7) / 8, kk = m_plan.KH * m_plan.KW;
        m_dwPacked.assign(static_cast<std::size_t>(groups * kk * 8 + groups * 8 + 8), 0.f);
        float* wp = alignedFloats(m_dwPacked);
        depthwiseRowFns().pack(w2->data<float>(), b2 ? b2->data<float>() : nullptr, C, kk, wp, wp + groups * kk * 8);
        m_plan.wpAll = wp;
        m_plan.b8All = wp + groups * kk * 8;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DataType::Float)
            return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported (float32 only)");
        if (x.rank() != 4 || x.dims()[1] != m_plan.K)
            return ctx.error(StatusCode::InvalidInput, "input " + dimsText(x.dims()) + " must be [N, " +
                                                           std::to_string(m_plan.K) + ", H, W]");
        const int64_t kernel[2] = {m_plan.KH, m_plan.KW};
        EW_TRY(readWindow(ctx.node(), 2, kernel, m_win));
        if (m_win.kernel[0] != m_plan.KH || m_win.kernel[1] != m_plan.KW)
            return ctx.error(StatusCode::InvalidInput, "kernel_shape does not match the depthwise weights");
        if (!depthwiseSupported(m_plan.KH, m_plan.KW, m_win.strides[0], m_win.strides[1], m_win.dilations[0],
                                m_win.dilations[1]))
            return ctx.error(StatusCode::Unsupported, "depthwise window (strides 1 or 2, no dilation, kernel up to 16) "
                                                      "not supported");
        std::vector<int64_t> out;
        const std::vector<int64_t> in{x.dims()[2], x.dims()[3]};
        if (!windowOutput(m_win, in, out))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input " + dimsText(x.dims()));
        m_plan.H = in[0];
        m_plan.W = in[1];
        m_plan.OH = out[0];
        m_plan.OW = out[1];
        m_plan.SH = m_win.strides[0];
        m_plan.SW = m_win.strides[1];
        m_plan.padTop = m_win.padBegin[0];
        m_plan.padLeft = m_win.padBegin[1];
        m_batch = x.dims()[0];
        ctx.setOutput(0, DataType::Float, {m_batch, m_plan.C, m_plan.OH, m_plan.OW});
        return {};
    }
    void run(RunContext& ctx) override {
        const PwDwPlan& p = m_plan;
        const int64_t macs = m_batch * p.C * (p.K * p.H * p.W + p.KH * p.KW * p.OH * p.OW);
        ThreadPool::InlineScope serial(macs < kMinParallelMacs);
        const DepthwiseRowFns fns = depthwiseRowFns();
        const float* x = ctx.input(0).data<float>();
        float* y = ctx.output(0).data<float>();
        for (int64_t n = 0; n < m_batch; ++n)
            pwDwImage(p, fns, x + n * p.K * p.H * p.W, y + n * p.C * p.OH * p.OW, ctx.pool());
    }
    /// The output never aliases the input (it is read row by row while the output is written).
    int inPlaceInput() const override { return -1; }

private:
    static float* alignedFloats(std::vector<float>& v) {
        return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(v.data()) + 31) & ~uintptr_t(31));
    }
    PwDwPlan m_plan;
    PackedColumns m_pwT;
    std::vector<float> m_dwPacked; ///< taps and biases per group (32-byte aligned inside)
    std::vector<float> m_biasPadded;
    WindowParams m_win;
    int64_t m_batch = 0;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeFusedPwDwConv() { return std::make_unique<cpu::PwDwConvKernel>(); }

} // namespace ew::rt
