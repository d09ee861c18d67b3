// Conv (N-D up to 3 spatial dims, groups, dilations, pads, auto_pad), reference: each output
// plane is accumulated channel by channel and tap by tap, the inner loop running along the
// output row (contiguous for stride 1). Every output is summed in the same order whatever the
// thread count; threads split the (batch, output channel) planes.
#include "kernel_util.h"
#include "activation.h"
#include "conv_depthwise.h"
#include "conv_implicit.h"
#include "conv_winograd.h"
#include "sgemm.h"

#include <vector>

namespace ew::rt {
namespace cpu {
namespace {

struct ConvGeom {
    int64_t N = 0, C = 0, M = 0, G = 1;
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
    int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
};

/// Fills g's spatial arrays (right-aligned into 3 dims) from the window params.
void fillGeom(ConvGeom& g, const WindowParams& w, std::span<const int64_t> in, std::span<const int64_t> out) {
    std::size_t n = w.kernel.size(), off = 3 - n;
    for (std::size_t i = 0; i < n; ++i) {
        g.in[off + i] = in[i];
        g.out[off + i] = out[i];
        g.k[off + i] = w.kernel[i];
        g.s[off + i] = w.strides[i];
        g.d[off + i] = w.dilations[i];
        g.p[off + i] = w.padBegin[i];
    }
}


template <typename T>
void convRun(const ConvGeom& g, const T* X, const T* W, const T* B, T* Y, ThreadPool& pool) {
    const int64_t cg = g.C / g.G, mg = g.M / g.G;
    const int64_t inPlane = g.in[0] * g.in[1] * g.in[2];
    const int64_t outPlane = g.out[0] * g.out[1] * g.out[2];
    const int64_t kSize = g.k[0] * g.k[1] * g.k[2];
    pool.parallelFor(0, g.N * g.M, 1, [&](int64_t b, int64_t e) {
        for (int64_t nm = b; nm < e; ++nm) {
            int64_t n = nm / g.M, m = nm % g.M, grp = m / mg;
            T* y = Y + nm * outPlane;
            T bias = B ? B[m] : T(0);
            for (int64_t i = 0; i < outPlane; ++i) y[i] = bias;
            for (int64_t c = 0; c < cg; ++c) {
                const T* x = X + (n * g.C + grp * cg + c) * inPlane;
                const T* w = W + (m * cg + c) * kSize;
                for (int64_t kd = 0; kd < g.k[0]; ++kd) {
                    int64_t d0, d1;
                    stridedTapRange(g.out[0], g.in[0], g.s[0], g.p[0], kd * g.d[0], d0, d1);
                    for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                        int64_t h0, h1;
                        stridedTapRange(g.out[1], g.in[1], g.s[1], g.p[1], kh * g.d[1], h0, h1);
                        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                            int64_t w0, w1;
                            stridedTapRange(g.out[2], g.in[2], g.s[2], g.p[2], kw * g.d[2], w0, w1);
                            const T wv = w[(kd * g.k[1] + kh) * g.k[2] + kw];
                            for (int64_t od = d0; od < d1; ++od) {
                                int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
                                for (int64_t oh = h0; oh < h1; ++oh) {
                                    int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
                                    T* yr = y + (od * g.out[1] + oh) * g.out[2];
                                    const T* xr = x + (id * g.in[1] + ih) * g.in[2] - g.p[2] + kw * g.d[2];
                                    if (g.s[2] == 1) {
                                        for (int64_t ow = w0; ow < w1; ++ow) yr[ow] += wv * xr[ow];
                                    } else {
                                        const int64_t sw = g.s[2];
                                        for (int64_t ow = w0; ow < w1; ++ow) yr[ow] += wv * xr[ow * sw];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    });
}


/// The fast float path for 2-D (and 1-D) convolution: weights packed once per group for the
/// SGEMM, then Y_g[Mg, N*OH*OW] = W_g[Mg, Cg*KH*KW] x col_g[Cg*KH*KW, N*OH*OW] as an implicit GEMM:
/// the im2col matrix col is never written out, conv_implicit packs its values per block straight
/// into the SGEMM's panel layout, and the columns of every image of the batch land directly in
/// NCHW (OutputLayout). Bias, residual and activation are applied in the GEMM's epilogue
/// (FusedConv), so each output is written once. Pointwise convolutions of one image read the
/// input itself as B.
struct FastConv {
    std::vector<PackedMatrix> packed; ///< one per group
    /// W^T as column panels, for batches with few output pixels in all: the GEMM then runs
    /// transposed (pixels x channels), which fills the micro-kernel's 16 columns with channels.
    PackedColumns weightsT;
    const Tensor* weights = nullptr; ///< the constant weights (alive as long as the session)
    int64_t G = 1, Cg = 0, Mg = 0, KH = 1, KW = 1;
    bool ready = false;
    bool transposed = false;          ///< this shape runs the transposed GEMM (set by prepare)
    bool rows = false;                ///< this shape runs as a few dot-product rows (set by prepare)
    std::vector<int64_t> owLo, owHi;  ///< per tap column: valid output columns (set by prepare)

    /// Weights [M, C/G, KH, KW] (2-D) or [M, C/G, KW] (1-D, run as a 1 x W map).
    void setShape(const Tensor& w, int64_t group) {
        weights = &w;
        G = group;
        Mg = w.dims()[0] / group;
        Cg = w.dims()[1];
        KH = w.rank() == 4 ? w.dims()[2] : 1;
        KW = w.dims().back();
        ready = true;
    }
    int64_t depth() const { return Cg * KH * KW; }

    void packTransposed() {
        if (weightsT.empty()) weightsT = PackedColumns::pack(weights->data<float>(), depth(), Mg, depth(), true);
    }
    void packWeights() {
        if (!packed.empty()) return;
        const int64_t K = depth();
        for (int64_t g = 0; g < G; ++g)
            packed.push_back(PackedMatrix::pack(weights->data<float>() + g * Mg * K, Mg, K, K, false));
    }
};

bool isPointwise(const ConvGeom& g) {
    return g.k[1] == 1 && g.k[2] == 1 && g.s[1] == 1 && g.s[2] == 1 && g.p[1] == 0 && g.p[2] == 0 &&
           g.out[1] == g.in[1] && g.out[2] == g.in[2];
}

/// Few output pixels in the whole batch (batch-1 maps of 7x7, 3x4...): the transposed GEMM
/// (pixels as rows, channels as the 16 columns of the tile) wastes fewer lanes than pixels as
/// columns would, given the channels fill whole 16-column panels.
bool transposedWorthIt(int64_t group, int64_t m, int64_t images, int64_t pixels) {
    const int64_t n = images * pixels;
    if (group != 1 || m < 16 || n > 256 || n < 6) return false;
    const double plain = double(n) / double((n + 15) / 16 * 16) * double(m) / double(PackedMatrix::paddedRows(m));
    const double transposed = double(m) / double((m + 15) / 16 * 16) * double(n) / double(PackedMatrix::paddedRows(n));
    // The transposed run packs twice and transposes its output: only worth it for a clear gain
    // (measured: 7x7 maps yes, 14x14 and 14x4 no).
    return transposed > plain + 0.2;
}

/// At most this many output pixels in the whole batch (1-D convolutions on a few frames: the
/// STFT and encoder of a voice-activity detector): Y^T = col^T x W^T as dot-product rows
/// (sgemmRowsPacked), which fills the 16 columns of a tile with channels, where the plain GEMM
/// would compute 16 columns for these few pixels (4 of 16 lanes useful) and the transposed
/// GEMM's 6-row panels would be mostly padding.
constexpr int64_t kFewPixels = 4;

bool fewPixelRowsWorthIt(int64_t group, int64_t m, int64_t images, int64_t pixels) {
    return group == 1 && m >= 16 && images * pixels <= kFewPixels;
}

std::size_t fewPixelScratchFloats(const FastConv& fc, const ConvGeom& g) {
    const int64_t K = fc.Cg * fc.KH * fc.KW, rows = g.N * g.out[1] * g.out[2];
    return static_cast<std::size_t>(K * 16 + rows * K + rows * g.M) + 64;
}

/// The epilogue of a transposed convolution GEMM (C^T: channels are columns): the bias per
/// column, and the activation too when there is no residual to add before it.
Epilogue transposedEpilogue(const float* B, const float* Z, const Epilogue& base) {
    Epilogue e;
    e.bias = B;
    e.biasPerColumn = true;
    if (!Z) {
        e.act = base.act;
        e.alpha = base.alpha;
        e.beta = base.beta;
    }
    return e;
}

/// Copies C^T [images * P, M] (rows = pixels of every image) to Y [images, M, P]; with a residual
/// Z, adds it and applies the activation (without one, the GEMM's epilogue applied it already;
/// the bias is in C^T either way).
void transposedToOutput(const float* ct, const ConvGeom& g, const float* Z, float* Y, const Epilogue& base,
                        ThreadPool& pool) {
    const int64_t P = g.out[1] * g.out[2], M = g.M;
    pool.parallelFor(0, g.N * M, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t b = r / M, m = r % M;
            float* yr = Y + (b * M + m) * P;
            const float* z = Z ? Z + (b * M + m) * P : nullptr;
            const float* c = ct + b * P * M + m;
            if (z) {
                for (int64_t q = 0; q < P; ++q) yr[q] = c[q * M] + z[q];
                if (base.act != Activation::None) applyActivation(yr, P, base);
            } else {
                for (int64_t q = 0; q < P; ++q) yr[q] = c[q * M];
            }
        }
    });
}

std::size_t transposedScratchFloats(const FastConv& fc, const ConvGeom& g) {
    const int64_t K = fc.Cg * fc.KH * fc.KW, rows = g.N * g.out[1] * g.out[2];
    return PackedMatrix::packedFloats(rows, K) + static_cast<std::size_t>(rows * g.M) + 64;
}

/// The implicit-GEMM description of group grp of a convolution.
ImplicitConv implicitConv(const FastConv& fc, const ConvGeom& g, const float* X, int64_t grp) {
    const int64_t inPlane = g.in[1] * g.in[2];
    ImplicitConv ic;
    ic.x = X + grp * fc.Cg * inPlane;
    ic.xBegin = X;
    ic.xEnd = X + g.N * g.C * inPlane;
    ic.Cg = fc.Cg;
    ic.imageStride = g.C * inPlane;
    ic.H = g.in[1];
    ic.W = g.in[2];
    ic.OH = g.out[1];
    ic.OW = g.out[2];
    ic.KH = fc.KH;
    ic.KW = fc.KW;
    ic.sh = g.s[1];
    ic.sw = g.s[2];
    ic.ph = g.p[1];
    ic.pw = g.p[2];
    ic.dh = g.d[1];
    ic.dw = g.d[2];
    ic.owLo = fc.owLo.data();
    ic.owHi = fc.owHi.data();
    return ic;
}

/// Per-thread buffer for one depth block of im2col panels (grows once, then reused).
float* panelScratch(std::size_t floats) {
    thread_local std::vector<float> buf;
    if (buf.size() < floats + 16) buf.resize(floats + 16);
    return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t(63));
}

/// Rows r0 .. r0+H-1 (pixels) of one depth block of the transposed GEMM's A operand, from the
/// implicit packer's 16-pixel panels (pixel px is lane px % 16 of panel px / 16, zero past the
/// last pixel): element (r, k) to dst[k*H + r], written row by row of the destination.
template <int H>
void regroupPixels(float* dst, const float* tmp, int64_t kc, int64_t r0, int64_t width) {
    int64_t off[H];
    bool zero[H];
    for (int r = 0; r < H; ++r) {
        const int64_t px = r0 + r;
        zero[r] = px >= width;
        off[r] = zero[r] ? 0 : (px / 16) * kc * 16 + px % 16;
    }
    for (int64_t kk = 0; kk < kc; ++kk)
        for (int r = 0; r < H; ++r) dst[kk * H + r] = zero[r] ? 0.f : tmp[off[r] + kk * 16];
}

/// Few output pixels: Y^T [pixels, M] = col^T [pixels, K] x W^T [K, M] with W^T prepacked (the
/// pixels of every image of the batch share one GEMM). col^T goes straight into the row panels
/// of the packed A operand (the implicit packer's 16-pixel panels, one depth block at a time,
/// regrouped into 6- and 5-pixel panels); then a transposing copy adds the residual and applies
/// the activation.
void fastConvTransposedRun(const FastConv& fc, const ConvGeom& g, const float* X, const float* B, const float* Z,
                           float* Y, const Epilogue& base, std::byte* scratch, ThreadPool& pool) {
    const int64_t P = g.out[1] * g.out[2], M = g.M;
    const int64_t K = fc.Cg * fc.KH * fc.KW;
    const int64_t rows = g.N * P;
    float* packedA = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t(63));
    float* ct = packedA + PackedMatrix::packedFloats(rows, K);
    if (g.N == 1 && isPointwise(g)) {
        // col^T is X^T: pack its row panels straight from the channel planes.
        const PackedMatrix a = PackedMatrix::packInto(packedA, X, rows, K, P, true, &pool);
        sgemmPacked(a, fc.weightsT, ct, M, transposedEpilogue(B, Z, base), pool);
        transposedToOutput(ct, g, Z, Y, base, pool);
        return;
    }
    const PackedMatrix a = PackedMatrix::wrap(packedA, rows, K);
    const ImplicitConv ic = implicitConv(fc, g, X, 0);
    const PackPanelsFn packer = convImplicitPacker();
    const int64_t kb = sgemmDepthBlock(), width = (rows + 15) / 16 * 16;
    pool.parallelFor(0, (K + kb - 1) / kb, 1, [&](int64_t b0, int64_t b1) {
        float* tmp = panelScratch(static_cast<std::size_t>(kb * width));
        for (int64_t blk = b0; blk < b1; ++blk) {
            const int64_t k0 = blk * kb, kc = std::min(kb, K - k0);
            packer(&ic, k0, kc, 0, rows, tmp);
            for (int64_t p = 0; p < a.panels(); ++p) {
                const int64_t r0 = a.panelRow(p);
                float* dst = packedA + r0 * K + k0 * a.panelHeight(p);
                if (a.panelHeight(p) == 6)
                    regroupPixels<6>(dst, tmp, kc, r0, width);
                else
                    regroupPixels<5>(dst, tmp, kc, r0, width);
            }
        }
    });
    sgemmPacked(a, fc.weightsT, ct, M, transposedEpilogue(B, Z, base), pool);
    transposedToOutput(ct, g, Z, Y, base, pool);
}

/// At most kFewPixels output pixels: the implicit packer writes col (K x 16, one panel) once, its
/// columns become the rows of col^T, and each output is one K-long dot product with W^T's
/// prepacked column panels (threads take channel panels).
void fastConvFewPixelsRun(const FastConv& fc, const ConvGeom& g, const float* X, const float* B, const float* Z,
                          float* Y, const Epilogue& base, std::byte* scratch, ThreadPool& pool) {
    const int64_t P = g.out[1] * g.out[2], M = g.M;
    const int64_t K = fc.Cg * fc.KH * fc.KW;
    const int64_t rows = g.N * P;
    float* col = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t(63));
    float* colT = col + K * 16;
    float* ct = colT + rows * K;
    const int64_t inPlane = g.in[0] * g.in[1] * g.in[2];
    if (fc.Cg == 1 && g.k[0] == 1 && g.k[1] == 1 && g.in[0] == 1 && g.in[1] == 1 && g.d[2] == 1 && g.p[2] == 0 &&
        (P - 1) * g.s[2] + fc.KW <= g.in[2]) {
        // One input row, no padding (a framed signal: an STFT as a strided 1-D convolution): the
        // row of output pixel p is the input itself from p * stride on, read in place.
        for (int64_t b = 0; b < g.N; ++b)
            sgemmRowsPacked(X + b * g.C * inPlane, P, g.s[2], fc.weightsT, ct + b * P * M, M,
                            transposedEpilogue(B, Z, base), pool);
    } else {
        const ImplicitConv ic = implicitConv(fc, g, X, 0);
        convImplicitPacker()(&ic, 0, K, 0, rows, col);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < K; ++k) colT[r * K + k] = col[k * 16 + r];
        sgemmRowsPacked(colT, rows, K, fc.weightsT, ct, M, transposedEpilogue(B, Z, base), pool);
    }
    transposedToOutput(ct, g, Z, Y, base, pool);
}

void fastConvRun(const FastConv& fc, const ConvGeom& g, const float* X, const float* B, const float* Z, float* Y,
                 const Epilogue& base, std::byte* scratch, ThreadPool& pool) {
    if (fc.transposed) return fastConvTransposedRun(fc, g, X, B, Z, Y, base, scratch, pool);
    if (fc.rows) return fastConvFewPixelsRun(fc, g, X, B, Z, Y, base, scratch, pool);
    const int64_t inPlane = g.in[1] * g.in[2], P = g.out[1] * g.out[2];
    if (g.N == 1 && isPointwise(g)) {
        // The input is already the B matrix [Cg, P] of each group.
        for (int64_t grp = 0; grp < fc.G; ++grp) {
            const int64_t yOff = grp * fc.Mg * P;
            Epilogue e = base;
            e.bias = B ? B + grp * fc.Mg : nullptr;
            e.residual = Z ? Z + yOff : nullptr;
            e.ldr = P;
            sgemm(fc.packed[grp], X + grp * fc.Cg * inPlane, P, false, P, Y + yOff, P, e, pool);
        }
        return;
    }
    const PackPanelsFn packer = convImplicitPacker();
    for (int64_t grp = 0; grp < fc.G; ++grp) {
        const ImplicitConv ic = implicitConv(fc, g, X, grp);
        OutputLayout out;
        out.c = Y + grp * fc.Mg * P;
        out.ldc = P;
        out.groupCols = P;
        out.groupStride = g.M * P;
        Epilogue e = base;
        e.bias = B ? B + grp * fc.Mg : nullptr;
        e.residual = Z ? Z + grp * fc.Mg * P : nullptr;
        e.ldr = P;
        sgemmImplicit(fc.packed[grp], packer, &ic, g.N * P, out, e, pool);
    }
}

class ConvKernel final : public Kernel {
public:
    explicit ConvKernel(bool fused) : m_fused(fused) {}
    VoidResult init(InitContext& ctx) override {
        if (m_fused) EW_TRY(readActivation(ctx.node(), m_epilogue));
        const Tensor* w = ctx.constantInput(1);
        if (w && w->dtype() == DataType::Float && w->rank() == 3 && !preferReferenceKernels()) {
            const int64_t group = ctx.node().attrInt("group", 1);
            if (group >= 1 && w->dims()[0] % group == 0) {
                m_fast.setShape(*w, group);
                // Few output frames (known from inference) run transposed: prepare packs W^T then.
                const ir::Value* out = ctx.node().output(0);
                const bool known = out && out->type.shape && out->type.shape->rank() == 3 &&
                                   out->type.shape->dims[0].isKnown() && out->type.shape->dims[2].isKnown();
                if (!known || !(fewPixelRowsWorthIt(group, w->dims()[0], out->type.shape->dims[0].value,
                                                    out->type.shape->dims[2].value) ||
                                transposedWorthIt(group, w->dims()[0], out->type.shape->dims[0].value,
                                                  out->type.shape->dims[2].value)))
                    m_fast.packWeights();
            }
        }
        if (w && w->dtype() == DataType::Float && w->rank() == 4 && !preferReferenceKernels()) {
            const ir::Node& n = ctx.node();
            const int64_t group = n.attrInt("group", 1);
            const auto ones = std::vector<int64_t>{1, 1};
            const bool unitStride = n.attrInts("strides", ones) == ones && n.attrInts("dilations", ones) == ones;
            // Winograd when the batch of output maps is known to have enough tiles for it to pay
            // off (shapes come from inference); otherwise prepare decides once it sees the batch.
            const ir::Value* out = n.output(0);
            const bool spatialKnown = out && out->type.shape && out->type.shape->rank() == 4 &&
                                      out->type.shape->dims[2].isKnown() && out->type.shape->dims[3].isKnown();
            const int64_t knownBatch = spatialKnown && out->type.shape->dims[0].isKnown() ? out->type.shape->dims[0].value : 1;
            if (group == 1 && unitStride && w->dims()[2] == 3 && w->dims()[3] == 3) {
                m_winogradWeights = w; // a session constant: alive as long as the session
                if (spatialKnown && WinogradConv::worthIt(w->dims()[0], w->dims()[1], knownBatch,
                                                          out->type.shape->dims[2].value, out->type.shape->dims[3].value))
                    m_wino.init(w->data<float>(), w->dims()[0], w->dims()[1]);
            }
            if (group >= 1 && w->dims()[0] % group == 0) {
                // Pack for the plain GEMM now unless Winograd or the transposed GEMM may be wanted
                // (few output pixels): prepare packs whichever form the batch size calls for.
                m_fast.setShape(*w, group);
                const bool fewPixels = !spatialKnown || transposedWorthIt(group, w->dims()[0], 1,
                                                                          out->type.shape->dims[2].value *
                                                                              out->type.shape->dims[3].value);
                if (!fewPixels && !m_wino.ready()) m_fast.packWeights();
            }
        }
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& w = ctx.input(1);
        if (x.rank() < 3 || x.rank() > 5 || w.rank() != x.rank())
            return ctx.error(StatusCode::Unsupported, "input " + dimsText(x.dims()) + " and weights " +
                                                          dimsText(w.dims()) + " (1 to 3 spatial dims)");
        if (w.dtype() != x.dtype() || (ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype()))
            return ctx.error(StatusCode::InvalidInput, "X, W and B must have the same type");
        std::size_t sp = x.rank() - 2;
        EW_TRY(readWindow(ctx.node(), sp, std::span<const int64_t>(w.dims()).subspan(2), m_win));
        ConvGeom g;
        g.N = x.dims()[0];
        g.C = x.dims()[1];
        g.M = w.dims()[0];
        g.G = ctx.node().attrInt("group", 1);
        if (g.G < 1 || g.C % g.G || g.M % g.G || w.dims()[1] * g.G != g.C)
            return ctx.error(StatusCode::InvalidInput, "channels " + std::to_string(g.C) + ", weights " +
                                                           dimsText(w.dims()) + " and group " + std::to_string(g.G) +
                                                           " do not agree");
        if (ctx.hasInput(2) && ctx.input(2).numElements() != g.M)
            return ctx.error(StatusCode::InvalidInput, "bias must have " + std::to_string(g.M) + " elements");
        std::span<const int64_t> in = std::span<const int64_t>(x.dims()).subspan(2);
        if (!windowOutput(m_win, in, m_outSpatial))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input " + dimsText(x.dims()));
        fillGeom(g, m_win, in, m_outSpatial);
        m_geom = g;
        m_outDims = {g.N, g.M};
        m_outDims.insert(m_outDims.end(), m_outSpatial.begin(), m_outSpatial.end());
        if (m_fused && ctx.hasInput(3)) {
            const Tensor& z = ctx.input(3);
            if (z.dtype() != x.dtype() || z.dims() != m_outDims)
                return ctx.error(StatusCode::InvalidInput, "the residual input must be " + dimsText(m_outDims));
        }
        // Winograd for 3x3 stride-1 group-1 float maps whose batch has enough tiles.
        m_useWino = m_winogradWeights && x.dtype() == DataType::Float && sp == 2 && g.G == 1 && g.k[1] == 3 &&
                    g.k[2] == 3 && g.s[1] == 1 && g.s[2] == 1 && g.d[1] == 1 && g.d[2] == 1 &&
                    WinogradConv::worthIt(g.M, g.C, g.N, g.out[1], g.out[2]);
        if (m_useWino) {
            if (!m_wino.ready()) {
                const Tensor& ww = *m_winogradWeights;
                m_wino.init(ww.data<float>(), ww.dims()[0], ww.dims()[1]);
            }
            ctx.setScratchBytes(0);
            ctx.setOutput(0, x.dtype(), m_outDims);
            return {};
        }
        m_useDw = x.dtype() == DataType::Float && sp == 2 && g.G == g.C && g.M == g.C && g.G > 1 &&
                  w.dims()[1] == 1 && !preferReferenceKernels() &&
                  depthwiseSupported(g.k[1], g.k[2], g.s[1], g.s[2], g.d[1], g.d[2]);
        if (m_useDw) {
            ctx.setOutput(0, x.dtype(), m_outDims);
            return {};
        }
        m_useFast = m_fast.ready && x.dtype() == DataType::Float && (sp == 2 || sp == 1) && m_fast.G == g.G &&
                    !(g.G == g.C && m_fast.Mg == 1 && g.G > 1);
        if (m_useFast) {
            const int64_t P = g.out[1] * g.out[2];
            m_fast.transposed = transposedWorthIt(g.G, g.M, g.N, P);
            m_fast.rows = !m_fast.transposed && fewPixelRowsWorthIt(g.G, g.M, g.N, P);
            // Packing here happens once per form (the session's constant weights stay alive).
            m_fast.owLo.resize(static_cast<std::size_t>(m_fast.KW));
            m_fast.owHi.resize(static_cast<std::size_t>(m_fast.KW));
            for (int64_t j = 0; j < m_fast.KW; ++j)
                stridedTapRange(g.out[2], g.in[2], g.s[2], g.p[2], j * g.d[2], m_fast.owLo[j], m_fast.owHi[j]);
            if (m_fast.transposed) {
                m_fast.packTransposed();
                ctx.setScratchBytes(transposedScratchFloats(m_fast, g) * sizeof(float) + 64);
            } else if (m_fast.rows) {
                m_fast.packTransposed();
                ctx.setScratchBytes(fewPixelScratchFloats(m_fast, g) * sizeof(float) + 64);
            } else {
                m_fast.packWeights();
                ctx.setScratchBytes(0);
            }
            ctx.setOutput(0, x.dtype(), m_outDims);
            return {};
        }
        if (m_fused && (m_epilogue.act != Activation::None || ctx.hasInput(3)) && x.dtype() != DataType::Float)
            return ctx.error(StatusCode::Unsupported, "FusedConv needs float32");
        m_fn = nullptr;
        dispatch<float, double>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const ConvGeom& g, const void* X, const void* W, const void* B, void* Y, ThreadPool& p) {
                convRun<T>(g, static_cast<const T*>(X), static_cast<const T*>(W), static_cast<const T*>(B),
                           static_cast<T*>(Y), p);
            };
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), m_outDims);
        return {};
    }
    void run(RunContext& ctx) override {
        const ConvGeom& gm = m_geom;
        const int64_t macs = gm.N * gm.M * (gm.C / std::max<int64_t>(gm.G, 1)) * gm.k[0] * gm.k[1] * gm.k[2] *
                             gm.out[0] * gm.out[1] * gm.out[2];
        ThreadPool::InlineScope serial(macs < kMinParallelMacs);
        const float* z = m_fused && ctx.hasInput(3) ? ctx.input(3).data<float>() : nullptr;
        if (m_useDw) {
            const ConvGeom& g = m_geom;
            DepthwiseShape ds;
            ds.channels = g.C;
            ds.h = g.in[1];
            ds.w = g.in[2];
            ds.oh = g.out[1];
            ds.ow = g.out[2];
            ds.kh = g.k[1];
            ds.kw = g.k[2];
            ds.stride = g.s[1];
            ds.strideW = g.s[2];
            ds.padTop = g.p[1];
            ds.padLeft = g.p[2];
            const int64_t inPlane = g.in[1] * g.in[2], outPlane = g.out[1] * g.out[2];
            const float* b = ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr;
            for (int64_t n = 0; n < g.N; ++n)
                depthwiseConv(ds, ctx.input(0).data<float>() + n * g.C * inPlane, ctx.input(1).data<float>(), b,
                              z ? z + n * g.M * outPlane : nullptr, ctx.output(0).data<float>() + n * g.M * outPlane,
                              m_epilogue, ctx.pool());
            return;
        }
        if (m_useWino) {
            const ConvGeom& g = m_geom;
            const float* b = ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr;
            m_wino.run(ctx.input(0).data<float>(), g.N, g.in[1], g.in[2], g.p[1], g.p[2], g.out[1], g.out[2], b, z,
                       ctx.output(0).data<float>(), m_epilogue, ctx.pool());
            return;
        }
        if (m_useFast) {
            fastConvRun(m_fast, m_geom, ctx.input(0).data<float>(), ctx.hasInput(2) ? ctx.input(2).data<float>() : nullptr,
                        z, ctx.output(0).data<float>(), m_epilogue, ctx.scratch(), ctx.pool());
            return;
        }
        m_fn(m_geom, ctx.input(0).raw(), ctx.input(1).raw(), ctx.hasInput(2) ? ctx.input(2).raw() : nullptr,
             ctx.output(0).raw(), ctx.pool());
        if (m_fused && (z || m_epilogue.act != Activation::None)) {
            // Reference path of FusedConv: residual and activation after the plain convolution.
            float* y = ctx.output(0).data<float>();
            const int64_t n = ctx.output(0).numElements();
            if (z)
                for (int64_t i = 0; i < n; ++i) y[i] += z[i];
            applyActivation(y, n, m_epilogue);
        }
    }
    /// Output 0 never aliases an input: im2col and the GEMM read X while Y is written.
    int inPlaceInput() const override { return -1; }

private:
    bool m_fused = false;
    bool m_useFast = false;
    bool m_useWino = false;
    bool m_useDw = false;
    FastConv m_fast;
    WinogradConv m_wino;
    const Tensor* m_winogradWeights = nullptr; ///< 3x3 stride-1 weights Winograd may use (prepare decides)
    Epilogue m_epilogue;
    WindowParams m_win;
    ConvGeom m_geom;
    std::vector<int64_t> m_outSpatial, m_outDims;
    void (*m_fn)(const ConvGeom&, const void*, const void*, const void*, void*, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeConv() { return std::make_unique<cpu::ConvKernel>(false); }
std::unique_ptr<Kernel> makeFusedConv() { return std::make_unique<cpu::ConvKernel>(true); }

} // namespace ew::rt
