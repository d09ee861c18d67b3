// Fast 2-D integer convolution: QLinearConv, ConvInteger and ai.edgewise.QConv (QLinearConv's
// inputs plus a fused Relu/Clip, written by the QDQ fusion). Bit-exact against nn_quant.cpp.
//
// The input is converted into zero-padded int16 planes holding x - x_zero_point (padding reads
// 0, which is exactly what padding with the zero point contributes): once per run, or plane by
// plane inside the depthwise tasks. Then:
//  - depthwise (group = C = M): per channel, taps accumulated over output rows in int32, each
//    task converting its own plane into a per-thread buffer (no whole-input pass);
//  - otherwise, per group, an integer GEMM: A = the weights (w - w_zero_point, packed once at
//    init), B = the im2col matrix, packed panel by panel straight from the padded planes (16
//    output pixels in a row of the map are 16 consecutive int16 for stride 1, every other one for
//    stride 2: one or two vector loads per tap; anything else is gathered through per-column
//    offsets). 1x1 stride-1 convolutions read their input rows directly in the same way; for one
//    image without padding, straight from the 8-bit input (qInterleaveRows8), with no int16 copy.
//    Those, when the input is uint8 and the int8 weights (zero point 0) cannot saturate
//    vpmaddubsw (7-bit weights always qualify: quantize --reduce-range), take the u8 x s8 route
//    with AVX2: raw uint8 quads (qInterleaveRows8x4), the x zero point folded into the bias.
//    KxK convolutions over channels a multiple of 4 on that route may instead read B in place
//    (the quad-plane route, qQuadPlanes): the input is laid out once as four channels' bytes per
//    pixel, in stride phases, so every 16-column panel of a depth quad is 64 consecutive bytes;
//    no im2col. It computes a few virtual columns between output rows, so it runs where the
//    packing it saves (a share of 1 / M) outweighs them: wide maps with few output channels.
// The epilogue adds the int32 bias and requantizes with the reference formula (int8_gemm.h).
#include "int8_gemm.h"
#include "int8_kernels.h"
#include "kernel_util.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {


struct PackCtx {
    const int16_t* xp = nullptr;    ///< padded planes, first channel of the group, image 0
    const int64_t* tapOff = nullptr; ///< per k: offset of tap (c, kh, kw) in the padded planes
    int64_t K = 0, imageStride = 0, P = 0, OW = 0, sh = 1, sw = 1, Wp = 0;
    /// Set for a one-image 1x1 stride-1 unpadded convolution: B's rows are read from the 8-bit
    /// input itself (element offsets as in the planes), the zero point taken off while packing,
    /// and xp is not used.
    const void* raw = nullptr;
    bool rawUnsigned = true;
    int32_t zx = 0;
    /// With raw: B as the u8 x s8 route's uint8 depth quads (zero point not taken off).
    bool u8s8 = false;
    /// The u8 x s8 route through uint8 planes padded with the x zero point (or the input itself
    /// when unpadded), at the same offsets (tapOff, imageStride) as the int16 planes; xp is not
    /// used.
    const uint8_t* xp8 = nullptr;
    const uint8_t* xp8End = nullptr; ///< end of the readable bytes from xp8 on
};

/// len bytes from s to d in 16-byte pieces when 16 bytes past the run can be read (end) and
/// written (the row buffers have the room; what lands past the run is rewritten by the next run
/// or never read), else memcpy: the runs are short (one output row), where a memcpy call costs
/// more than the copy.
inline void copyRun(uint8_t* d, const uint8_t* s, int64_t len, const uint8_t* end) {
    if (s + len + 16 > end) {
        std::memcpy(d, s, static_cast<std::size_t>(len));
        return;
    }
    for (int64_t i = 0; i < len; i += 16) std::memcpy(d + i, s + i, 16);
}

/// Columns [n0, n0 + nc) of the im2col matrix as ceil(nc / 16) panels. The block's pixels fall
/// into runs along output rows; a run reads consecutive (stride sw) elements of the padded
/// planes for every tap, so each depth pair is two rows built from run copies, then interleaved
/// with vector code. When the whole block is one stride-1 run (1x1 stride-1 convolutions
/// without padding, or a block inside one output row), the rows are read straight from the
/// planes with no copy.
void packConvB(const void* vctx, int64_t n0, int64_t nc, int16_t* out) {
    const PackCtx& c = *static_cast<const PackCtx*>(vctx);
    const int64_t kp = qDepthPairs(c.K);
    const int64_t panels = (nc + kQColTile - 1) / kQColTile;
    struct Run {
        int64_t col, off, len;
    };
    Run runs[kQMaxBlockCols];
    int nruns = 0;
    for (int64_t col = n0; col < n0 + nc;) {
        const int64_t b = col / c.P, p = col % c.P, oh = p / c.OW, ow = p % c.OW;
        const int64_t len = std::min(c.OW - ow, n0 + nc - col);
        const int64_t off = b * c.imageStride + oh * c.sh * c.Wp + ow * c.sw;
        Run& last = runs[nruns > 0 ? nruns - 1 : 0];
        if (nruns > 0 && c.sw == 1 && last.off + last.len == off)
            last.len += len; // rows adjoin in the planes (no padding between them)
        else
            runs[nruns++] = {col - n0, off, len};
        col += len;
    }
    const int64_t stride = kp * 32;
    if (c.xp8) {
        // Depth quads of uint8 rows: read in place for one stride-1 run, else built from the
        // runs (copies, every other byte at stride 2) and interleaved.
        const int64_t kq = qDepthQuads(c.K);
        alignas(64) uint8_t rowBuf[4][kQMaxBlockCols + 16];
        for (int64_t q = 0; q < kq; ++q) {
            const uint8_t* rows[4];
            for (int t = 0; t < 4; ++t) {
                const int64_t k = 4 * q + t;
                if (k >= c.K) {
                    rows[t] = nullptr;
                    continue;
                }
                const uint8_t* src = c.xp8 + c.tapOff[k];
                if (nruns == 1 && c.sw == 1) {
                    rows[t] = src + runs[0].off;
                    continue;
                }
                for (int r = 0; r < nruns; ++r) {
                    uint8_t* d = rowBuf[t] + runs[r].col;
                    const uint8_t* sr = src + runs[r].off;
                    if (c.sw == 1) copyRun(d, sr, runs[r].len, c.xp8End);
                    else if (c.sw == 2) qCopyStride2U8(sr, runs[r].len, d, c.xp8End);
                    else
                        for (int64_t i = 0; i < runs[r].len; ++i) d[i] = sr[i * c.sw];
                }
                rows[t] = rowBuf[t];
            }
            qInterleaveRows8x4(rows, nc, kq * 64, reinterpret_cast<uint8_t*>(out) + q * 64);
        }
        return;
    }
    if (c.raw && c.u8s8) {
        const uint8_t* base = static_cast<const uint8_t*>(c.raw);
        const int64_t kq = qDepthQuads(c.K);
        for (int64_t q = 0; q < kq; ++q) {
            const uint8_t* rows[4];
            for (int t = 0; t < 4; ++t)
                rows[t] = 4 * q + t < c.K ? base + c.tapOff[4 * q + t] + runs[0].off : nullptr;
            qInterleaveRows8x4(rows, nc, kq * 64, reinterpret_cast<uint8_t*>(out) + q * 64);
        }
        return;
    }
    if (c.raw) {
        // One image, no padding, stride 1: the block is one run of every channel's row.
        const uint8_t* base = static_cast<const uint8_t*>(c.raw);
        for (int64_t q = 0; q < kp; ++q) {
            const int64_t k0 = 2 * q, k1 = 2 * q + 1;
            qInterleaveRows8(base + c.tapOff[k0] + runs[0].off, k1 < c.K ? base + c.tapOff[k1] + runs[0].off : nullptr,
                             c.rawUnsigned, c.zx, nc, stride, out + q * 32);
        }
        return;
    }
    if (nruns == 1 && c.sw == 1) {
        for (int64_t q = 0; q < kp; ++q) {
            const int64_t k0 = 2 * q, k1 = 2 * q + 1;
            qInterleaveRows(c.xp + c.tapOff[k0] + runs[0].off, k1 < c.K ? c.xp + c.tapOff[k1] + runs[0].off : nullptr,
                            panels, stride, out + q * 32);
        }
        return;
    }
    alignas(64) int16_t row0[kQMaxBlockCols], row1[kQMaxBlockCols];
    std::fill(row0 + nc, row0 + panels * kQColTile, int16_t(0));
    std::fill(row1 + nc, row1 + panels * kQColTile, int16_t(0));
    auto fill = [&](int64_t k, int16_t* row) {
        const int16_t* src = c.xp + c.tapOff[k];
        for (int r = 0; r < nruns; ++r) {
            if (c.sw == 1)
                std::memcpy(row + runs[r].col, src + runs[r].off, static_cast<std::size_t>(runs[r].len) * sizeof(int16_t));
            else
                qCopyStrided(src + runs[r].off, runs[r].len, c.sw, row + runs[r].col);
        }
    };
    for (int64_t q = 0; q < kp; ++q) {
        const int64_t k0 = 2 * q, k1 = 2 * q + 1;
        fill(k0, row0);
        if (k1 < c.K) fill(k1, row1);
        qInterleaveRows(row0, k1 < c.K ? row1 : nullptr, panels, stride, out + q * 32);
    }
}

class FastIntConv final : public Kernel {
public:
    FastIntConv(bool qlinear, bool fusedAct) : m_qlinear(qlinear), m_fusedAct(fusedAct) {
        kW = qlinear ? 3 : 1;
        kWzp = qlinear ? 5 : 3;
    }

    /// Whether this node can run here (checked before init, from constants only).
    static bool applies(const InitContext& ctx, bool qlinear) {
        const std::size_t w = qlinear ? 3 : 1, wzp = qlinear ? 5 : 3;
        const Tensor* wt = ctx.constantInput(w);
        if (!wt || wt->rank() != 4 || !isInt8Like(wt->dtype())) return false;
        if (ctx.hasInput(wzp) && !ctx.constantInput(wzp)) return false;
        const int64_t k = wt->dims()[1] * wt->dims()[2] * wt->dims()[3];
        return k > 0 && k <= kInt8MaxDepth && wt->dims()[0] > 0;
    }

    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        const Tensor* w = ctx.constantInput(kW);
        if (!w || w->rank() != 4 || !isInt8Like(w->dtype()))
            return ctx.error(StatusCode::Unsupported, "needs constant 4-D int8/uint8 weights");
        const Tensor* wzp = ctx.hasInput(kWzp) ? ctx.constantInput(kWzp) : nullptr;
        if (ctx.hasInput(kWzp) && !wzp) return ctx.error(StatusCode::Unsupported, "needs a constant weight zero point");
        m_group = n.attrInt("group", 1);
        m_M = w->dims()[0];
        m_Cg = w->dims()[1];
        m_KH = w->dims()[2];
        m_KW = w->dims()[3];
        m_K = m_Cg * m_KH * m_KW;
        if (m_group < 1 || m_M % m_group) return ctx.error(StatusCode::InvalidInput, "group must divide the output channels");
        if (m_K > kInt8MaxDepth) return ctx.error(StatusCode::Unsupported, "reduction too deep for int32 accumulation");
        if (wzp && wzp->numElements() != 1 && wzp->numElements() != m_M)
            return ctx.error(StatusCode::InvalidInput, "w_zero_point must be a scalar or per output channel");
        const int64_t kdims[2] = {m_KH, m_KW};
        EW_TRY(readWindow(n, 2, kdims, m_window));
        if (m_fusedAct) {
            const std::string act = n.attrString("activation", "");
            std::vector<float> p = n.attrFloats("activation_params");
            m_actLo = -std::numeric_limits<float>::infinity();
            m_actHi = std::numeric_limits<float>::infinity();
            if (act == "Relu") {
                m_actLo = 0.f;
            } else if (act == "Clip") {
                if (p.size() != 2) return ctx.error(StatusCode::InvalidInput, "Clip needs activation_params [min, max]");
                m_actLo = p[0];
                m_actHi = p[1];
            } else if (!act.empty()) {
                return ctx.error(StatusCode::Unsupported, "activation '" + act + "' is not supported");
            }
        }
        // The weights once as int16 (the packing below reads each several times; a dtype switch
        // per element made init of resnet18 about twice as slow).
        std::vector<int16_t> wvals(static_cast<std::size_t>(w->numElements()));
        if (w->dtype() == DataType::Int8) std::copy_n(w->data<int8_t>(), wvals.size(), wvals.begin());
        else std::copy_n(w->data<uint8_t>(), wvals.size(), wvals.begin());
        auto wAt = [&](int64_t i) { return static_cast<int64_t>(wvals[static_cast<std::size_t>(i)]); };
        // The GEMM's depth order (m_depthPerm; every route follows it through the tap offsets,
        // so one packed A serves them all): channel quads for group 1, channels a multiple of 4
        // and a KxK window (k = ((c4 * KH + i) * KW + j) * 4 + t: the quad-plane route reads B
        // that way), with the channels (or, otherwise, the depth) paired against saturation
        // where 8-bit weights need it (qPairUnits).
        // Only layers of at most 64 output channels can gain from the quad-plane route on AVX2 (see
        // kMaxWasteTimesRows); the others keep the depth free for pairing, which pairs far better
        // than whole channels can (resnet18's 3x3 layers: about 0.001 remainder quads per row quad
        // against 0.01-0.03). VNNI needs no pairing, and there the route gains at any M.
        m_quadOrder = m_group == 1 && m_Cg % 4 == 0 && m_KH * m_KW > 1 && (m_M <= 64 || int8UsesVnni());
        m_depthPerm.clear();
        m_chanOrder.clear();
        auto kAt = [&](int64_t m, int64_t k) { return wAt(m * m_K + origDepth(k)); };
        auto zwAt = [&](int64_t m) { return wzp ? intAt(*wzp, wzp->numElements() == 1 ? 0 : m) : int64_t(0); };
        m_depthwise = m_Cg == 1 && m_group == m_M;
        if (m_depthwise) {
            const int64_t taps = m_KH * m_KW;
            m_dw.resize(static_cast<std::size_t>(m_M * taps));
            for (int64_t m = 0; m < m_M; ++m)
                for (int64_t t = 0; t < taps; ++t) m_dw[std::size_t(m * taps + t)] = static_cast<int16_t>(wAt(m * taps + t) - zwAt(m));
            // The channel-vector kernel's layout of the same taps (small maps, qDwChannels),
            // and each channel's tap sum (both kernels fold -zx * sum into the bias).
            m_dwcW = qDwChannelWeights(m_dw.data(), m_M, taps);
            m_dwSum.assign(static_cast<std::size_t>(m_M), 0);
            for (int64_t m = 0; m < m_M; ++m)
                for (int64_t t = 0; t < taps; ++t) m_dwSum[std::size_t(m)] += m_dw[std::size_t(m * taps + t)];
            // Channels whose int8 taps (zero point 0) cannot saturate vpmaddubsw in their quads
            // also get the u8 x s8 form (QDwPlane::w8), chosen per channel at run time.
            m_dwU8.assign(static_cast<std::size_t>(m_M), 0);
            m_dw8.clear();
            if (w->dtype() == DataType::Int8) {
                const int64_t nq = (m_KW + 3) / 4;
                m_dw8.assign(static_cast<std::size_t>(m_M * m_KH * nq * 4), 0);
                for (int64_t m = 0; m < m_M; ++m) {
                    auto at = [&](int64_t i, int64_t j) { return wAt(m * taps + i * m_KW + j); };
                    // 1: exact on AVX2 too; 2: on VNNI only (vpdpbusd cannot saturate).
                    if (zwAt(m) == 0) m_dwU8[std::size_t(m)] = qU8S8Exact(m_KH, m_KW, at) ? 1 : int8UsesVnni() ? 2 : 0;
                    for (int64_t i = 0; i < m_KH; ++i)
                        for (int64_t j = 0; j < m_KW; ++j)
                            m_dw8[std::size_t((m * m_KH + i) * nq * 4 + j)] = static_cast<int8_t>(at(i, j));
                }
            }
        } else {
            const int64_t mg = m_M / m_group;
            // Int8 weights with zero point 0 that cannot saturate vpmaddubsw: also packed for the
            // u8 x s8 route (taken when the input is uint8; int8_gemm.h).
            m_packedA8.clear();
            m_rowSum.clear();
            if (m_group == 1 && w->dtype() == DataType::Int8) {
                bool zeroZp = true;
                for (int64_t m = 0; m < m_M && zeroZp; ++m) zeroZp = zwAt(m) == 0;
                std::vector<int8_t> wq; // the weights [M, K] in the GEMM's depth order
                auto at = [&](int64_t r, int64_t k) { return int64_t(wq[std::size_t(r * m_K + k)]); };
                int64_t saturated = 0; // wq's saturating pairs (none: the exact u8 x s8 route)
                if (zeroZp) {
                    setDepthOrder();
                    wq = weightsInOrder(wvals);
                    saturated = saturatedPairs(wq);
                    // VNNI's vpdpbusd cannot saturate: the weights go as they are.
                    if (saturated > 0 && !int8UsesVnni()) {
                        // Paired against saturation where that saturates fewer pairs.
                        const std::vector<int32_t> given = m_depthPerm, givenChans = m_chanOrder;
                        pairDepthOrder(wvals);
                        std::vector<int8_t> paired = weightsInOrder(wvals);
                        if (const int64_t n = saturatedPairs(paired); n < saturated) {
                            wq = std::move(paired);
                            saturated = n;
                        } else {
                            m_depthPerm = given;
                            m_chanOrder = givenChans;
                        }
                    }
                }
                m_rem = QRowRemainders();
                m_a8NeedsVnni = false;
                if (zeroZp && (saturated == 0 || int8UsesVnni())) { // qU8S8Exact(m_M, m_K, at), or VNNI
                    m_packedA8.assign(qPackedA8Bytes(m_M, m_K), 0);
                    qPackA8(m_packedA8.data(), m_M, m_K, at);
                    m_a8NeedsVnni = saturated > 0;
                } else if (zeroZp) {
                    // The split route (int8_gemm.h) where its remainder quads stay few enough.
                    std::vector<int8_t> safe;
                    QRowRemainders rem;
                    qSplitU8S8(m_M, m_K, at, safe, rem);
                    if (rem.density(m_M, m_K) <= kMaxSplitDensity) {
                        m_packedA8.assign(qPackedA8Bytes(m_M, m_K), 0);
                        qPackA8(m_packedA8.data(), m_M, m_K,
                                [&](int64_t r, int64_t k) { return int64_t(safe[std::size_t(r * m_K + k)]); });
                        m_rem = std::move(rem);
                    }
                }
                if (!m_packedA8.empty()) { // the bias fold uses the whole weights' row sums
                    m_rowSum.assign(static_cast<std::size_t>(m_M), 0);
                    for (int64_t m = 0; m < m_M; ++m) {
                        const int8_t* row = wq.data() + m * m_K;
                        int64_t sum = 0;
                        for (int64_t k = 0; k < m_K; ++k) sum += row[k];
                        m_rowSum[std::size_t(m)] = sum;
                    }
                }
            }
            // The int16 pairs: now, or (when the u8 x s8 form exists) only once a run needs them
            // (int8 or batched input, the portable kernels; packInt16FromA8).
            m_packedA.clear();
            if (m_packedA8.empty()) {
                m_packedA.assign(qPackedAElems(mg, m_K) * static_cast<std::size_t>(m_group), 0);
                for (int64_t g = 0; g < m_group; ++g)
                    qPackA(m_packedA.data() + g * qPackedAElems(mg, m_K), mg, m_K, [&](int64_t r, int64_t k) {
                        const int64_t m = g * mg + r;
                        return kAt(m, k) - zwAt(m);
                    });
            }
        }
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (!isInt8Like(x.dtype())) return ctx.error(StatusCode::Unsupported, "x must be int8 or uint8");
        if (x.rank() != 4) return ctx.error(StatusCode::InvalidInput, "x must be [N, C, H, W] for 4-D weights");
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_H = x.dims()[2];
        m_W = x.dims()[3];
        if (m_C != m_group * m_Cg)
            return ctx.error(StatusCode::InvalidInput, "channels do not match group " + std::to_string(m_group));
        WindowParams wp = m_window;
        std::vector<int64_t> out;
        if (!windowOutput(wp, std::span<const int64_t>(x.dims()).subspan(2), out))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input");
        m_OH = out[0];
        m_OW = out[1];
        m_sh = wp.strides[0];
        m_sw = wp.strides[1];
        m_dh = wp.dilations[0];
        m_dwl = wp.dilations[1];
        m_pt = wp.padBegin[0];
        m_pl = wp.padBegin[1];
        // Rows/columns the windows reach (pads may be larger than what any window reads).
        m_Hp = std::max(m_H + m_pt, (m_OH - 1) * m_sh + (m_KH - 1) * m_dh + 1);
        m_Wp = std::max(m_W + m_pl, (m_OW - 1) * m_sw + (m_KW - 1) * m_dwl + 1);
        if (ctx.hasInput(2) && ctx.input(2).dtype() != x.dtype())
            return ctx.error(StatusCode::InvalidInput, "x_zero_point must have x's type");
        std::vector<int64_t> dims{m_N, m_M, m_OH, m_OW};
        if (m_qlinear) {
            if (ctx.input(4).numElements() != 1 && ctx.input(4).numElements() != m_M)
                return ctx.error(StatusCode::InvalidInput, "w_scale must be a scalar or per output channel");
            if (ctx.input(1).numElements() != 1 || ctx.input(6).numElements() != 1)
                return ctx.error(StatusCode::InvalidInput, "x_scale and y_scale must be scalars");
            if (ctx.hasInput(8) && (ctx.input(8).dtype() != DataType::Int32 || ctx.input(8).numElements() != m_M))
                return ctx.error(StatusCode::InvalidInput, "B must be int32 [M]");
            m_outType = ctx.hasInput(7) ? ctx.input(7).dtype() : x.dtype();
            if (!isInt8Like(m_outType)) return ctx.error(StatusCode::Unsupported, "output type is not supported");
        } else {
            m_outType = DataType::Int32;
        }
        ctx.setOutput(0, m_outType, dims);
        // Whole groups of 16 channels: qDwChannels loads the multipliers 16 at a time.
        m_mult.assign(static_cast<std::size_t>((m_M + 15) / 16 * 16), 0.f);
        // Padded planes (int16, or uint8 on the u8 x s8 route) lie m_planeStride elements apart:
        // 16 more than a plane, since qPadPlane8 / qPadPlaneU8 may write that far past one and the
        // planes are filled in parallel. Unpadded: the input itself (or its int16 copy), dense.
        const int64_t plane = m_Hp * m_Wp;
        m_planeStride = plane == m_H * m_W ? plane : plane + 16;
        // Tap offsets relative to the group's first channel, in the padded planes.
        m_tapOff.resize(static_cast<std::size_t>(m_K));
        for (int64_t k = 0; k < m_K; ++k) {
            const int64_t ok = origDepth(k), c = ok / (m_KH * m_KW), i = ok / m_KW % m_KH, j = ok % m_KW;
            m_tapOff[std::size_t(k)] = c * m_planeStride + i * m_dh * m_Wp + j * m_dwl;
        }
        if (m_depthwise) m_dwPlan = qDwPlan(m_OH, m_OW, m_Wp, m_sh, m_sw);
        // Maps at most 16 wide: 16 channels per vector (qDwChannels) when the CPU has AVX2.
        m_dwc = m_depthwise && m_W <= kQDwChannelsMaxW && m_dh == 1 && m_dwl == 1 &&
                m_KH * m_KW <= kQDwChannelsMaxTaps && m_outType != DataType::Int32 &&
                (x.dtype() == DataType::UInt8 || x.dtype() == DataType::Int8);
        if (m_dwc) m_dwcBias.assign(static_cast<std::size_t>((m_M + 15) / 16 * 16), 0);
        // One image through a 1x1 stride-1 unpadded convolution: the GEMM packs B straight from
        // the 8-bit input (no int16 copy of the whole input, no pass and barrier of its own).
        m_raw = !m_depthwise && m_group == 1 && m_N == 1 && m_KH == 1 && m_KW == 1 && m_sh == 1 && m_sw == 1 &&
                plane == m_H * m_W;
        // One image: qgemm's u8 x s8 route stores only whole panels of one image (int8_gemm.h).
        m_u8s8 = !m_depthwise && m_N == 1 && x.dtype() == DataType::UInt8 && !m_packedA8.empty();
        if (m_u8s8) m_biasU8.assign(static_cast<std::size_t>(m_M), 0);
        // The quad-plane route (qQuadPlanes; B read in place, no im2col) where its virtual columns
        // (Wv - OW per output row that are not outputs) waste little.
        m_quadPlanes = false;
        if (m_u8s8 && m_quadOrder && m_outType != DataType::Int32 && m_OW >= (int8UsesVnni() ? 4 : 8)) {
            // One more row than the padded phase rows: reads that wrap past the last row's end
            // land in padding. Rows share their padding columns where that is exact: a read past
            // a row's end wraps into the next row's left padding, so it must be a padding column
            // there too (3x3 pad 1 stride 1: Wv = W + 1, not W + 2).
            m_Hv = (m_Hp + m_sh - 1) / m_sh + 1;
            m_Wv = (m_Wp + m_sw - 1) / m_sw;
            for (int64_t v = std::max((m_pl + m_W + m_sw - 1) / m_sw, m_OW); v < m_Wv; ++v) {
                bool exact = true;
                for (int64_t j = 0; j < m_KW && exact; ++j) {
                    const int64_t jw = j * m_dwl, last = m_OW - 1 + jw / m_sw;
                    exact = last < v || (last - v) * m_sw + jw % m_sw < m_pl;
                }
                if (exact) {
                    m_Wv = v;
                    break;
                }
            }
            const int64_t virt = (m_OH - 1) * m_Wv + m_OW, panels = (virt + kQColTile - 1) / kQColTile;
            const double waste = static_cast<double>(panels * kQColTile) / static_cast<double>(m_OH * m_OW) - 1.0;
            m_quadPlanes = int8UsesVnni() ? waste <= kMaxWasteVnni : waste * static_cast<double>(m_M) <= kMaxWasteTimesRows;
            // A 16-column tile meets at most ceil((16 + Wv - 1) / Wv) rows: one lane run each.
            if ((kQColTile + 2 * m_Wv - 2) / m_Wv > QTileRun::kMaxSegs) m_quadPlanes = false;
            if (m_quadPlanes) {
                const int64_t planeBytes = m_Hv * m_Wv * 4;
                m_qOff.resize(static_cast<std::size_t>(m_K / 4));
                int64_t maxOff = 0;
                for (int64_t q = 0; q < m_K / 4; ++q) {
                    const int64_t c4 = q / (m_KH * m_KW), i = q / m_KW % m_KH, j = q % m_KW;
                    const int64_t ih = i * m_dh, jw = j * m_dwl;
                    const int64_t off = ((c4 * m_sh + ih % m_sh) * m_sw + jw % m_sw) * planeBytes +
                                        ((ih / m_sh) * m_Wv + jw / m_sw) * 4;
                    m_qOff[std::size_t(q)] = static_cast<int32_t>(off);
                    maxOff = std::max(maxOff, off);
                }
                m_quadBytes = m_C / 4 * m_sh * m_sw * planeBytes;
                // The last panel's reads end 64 bytes past its first column's quad.
                m_quadRoom = std::max(m_quadBytes, maxOff + panels * kQColTile * 4) + 64;
                m_virtCols = virt;
                // The quad offsets are int32 (one load per depth step in the tile).
                if (m_quadRoom > std::numeric_limits<int32_t>::max()) m_quadPlanes = false;
            }
        }
        if (!m_depthwise && !u8s8Runs()) packInt16FromA8();
        // Padded planes plus slack for the whole-vector reads past a row's end (int8_gemm.h);
        // none for the raw 1x1 and the depthwise path (per-task plane buffers).
        // The uint8 planes of the u8 x s8 route (m_N * m_C * m_planeStride bytes, plus the room
        // copyRun may read past the last plane) share it.
        const std::size_t int16Room = static_cast<std::size_t>(m_N * m_C * m_planeStride + kSlack) * sizeof(int16_t);
        const std::size_t u8Room = m_quadPlanes ? static_cast<std::size_t>(m_quadRoom)
                                   : m_u8s8     ? static_cast<std::size_t>(m_N * m_C * m_planeStride + 64)
                                                : 0;
        ctx.setScratchBytes(m_raw || m_depthwise ? 0 : std::max(int16Room, u8Room) + 64);
        return {};
    }

    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        int16_t* xp = reinterpret_cast<int16_t*>((reinterpret_cast<uintptr_t>(ctx.scratch()) + 63) & ~uintptr_t(63));
        const int32_t zx = ctx.hasInput(2) ? static_cast<int32_t>(intAt(ctx.input(2), 0)) : 0;
        const int64_t plane = m_Hp * m_Wp, HW = m_H * m_W;
        ThreadPool::InlineScope serial(m_N * m_M * m_OH * m_OW * m_K < kMinParallelMacs);
        // The raw 1x1 GEMM packs from the 8-bit input and the depthwise tasks widen their own
        // planes: only the other convolutions convert the whole input here (on the u8 x s8
        // route: into uint8 planes padded with zx, or not at all when unpadded).
        const bool u8s8 = u8s8Runs();
        const uint8_t* xp8 = nullptr;
        const bool quad = u8s8 && m_quadPlanes;
        if (quad) {
            uint8_t* planes = reinterpret_cast<uint8_t*>(xp);
            QQuadPlanes qp;
            qp.x = x.data<uint8_t>();
            qp.C = m_C;
            qp.H = m_H;
            qp.W = m_W;
            qp.pt = m_pt;
            qp.pl = m_pl;
            qp.sh = m_sh;
            qp.sw = m_sw;
            qp.Hv = m_Hv;
            qp.Wv = m_Wv;
            qp.fill = static_cast<uint8_t>(zx);
            qp.chanOrder = m_chanOrder.empty() ? nullptr : m_chanOrder.data();
            ctx.pool().parallelFor(0, m_C / 4, chunkRows(m_Hv * m_Wv * 4 * m_sh * m_sw),
                                   [&](int64_t b, int64_t e) { qQuadPlanes(qp, b, e, planes); });
            // What the last panels read past the planes (never stored: not outputs).
            std::memset(planes + m_quadBytes, static_cast<int>(zx), static_cast<std::size_t>(m_quadRoom - m_quadBytes));
        } else if (u8s8 && !m_raw) {
            if (m_planeStride == HW) {
                xp8 = x.data<uint8_t>();
            } else {
                uint8_t* planes8 = reinterpret_cast<uint8_t*>(xp);
                ctx.pool().parallelFor(0, m_N * m_C, chunkRows(plane), [&](int64_t b, int64_t e) {
                    for (int64_t pc = b; pc < e; ++pc)
                        qPadPlaneU8(x.data<uint8_t>() + pc * HW, x.numElements() - pc * HW, static_cast<uint8_t>(zx), m_H,
                                    m_W, m_pt, m_pl, m_Hp, m_Wp, planes8 + pc * m_planeStride);
                });
                xp8 = planes8;
            }
        } else if (!m_raw && !m_depthwise) {
            if (plane == HW) {
                // No padding (1x1 and other unpadded convolutions): one contiguous span, converted
                // in long vector loops instead of row by row (short rows ran mostly in scalar tails).
                ctx.pool().parallelFor(0, m_N * m_C * HW, 16384, [&](int64_t b, int64_t e) {
                    if (x.dtype() == DataType::UInt8) widen(x.data<uint8_t>() + b, e - b, zx, xp + b);
                    else widen(x.data<int8_t>() + b, e - b, zx, xp + b);
                });
            } else {
                ctx.pool().parallelFor(0, m_N * m_C, chunkRows(plane), [&](int64_t b, int64_t e) {
                    for (int64_t pc = b; pc < e; ++pc)
                        qPadPlane8(static_cast<const std::byte*>(x.raw()) + pc * HW, x.numElements() - pc * HW,
                                   x.dtype() == DataType::UInt8, zx, m_H, m_W, m_pt, m_pl, m_Hp, m_Wp,
                                   xp + pc * m_planeStride);
                });
            }
            std::fill(xp + m_N * m_C * m_planeStride, xp + m_N * m_C * m_planeStride + kSlack, int16_t(0));
        }

        QEpilogue epi;
        const int32_t* bias = nullptr;
        if (m_qlinear) {
            const float xs = floatAt(ctx.input(1), 0), ys = floatAt(ctx.input(6), 0);
            const Tensor& ws = ctx.input(4);
            for (int64_t m = 0; m < m_M; ++m)
                m_mult[std::size_t(m)] = xs * floatAt(ws, ws.numElements() == 1 ? 0 : m) / ys;
            const float zy = ctx.hasInput(7) ? static_cast<float>(intAt(ctx.input(7), 0)) : 0.f;
            const bool u8 = m_outType == DataType::UInt8;
            epi.out = u8 ? QEpilogue::Out::UInt8 : QEpilogue::Out::Int8;
            epi.zp = zy;
            epi.lo = u8 ? 0.f : -128.f;
            epi.hi = u8 ? 255.f : 127.f;
            if (m_fusedAct) {
                // Quantization is monotonic: Q(clamp(y, lo, hi)) = clamp(Q(y), Q(lo), Q(hi)).
                auto q = [&](float v) { return std::nearbyint(v / ys) + zy; };
                if (std::isfinite(m_actLo)) epi.lo = std::max(epi.lo, q(m_actLo));
                if (std::isfinite(m_actHi)) epi.hi = std::min(epi.hi, q(m_actHi));
                if (epi.hi < epi.lo) epi.hi = epi.lo;
            }
            epi.mult = m_mult.data();
            if (ctx.hasInput(8)) bias = ctx.input(8).data<int32_t>();
        } else {
            epi.out = QEpilogue::Out::Int32;
        }
        epi.bias = bias;
        if (epi.out != QEpilogue::Out::Int32) {
            // Accumulators: |sum (x - zx)(w - zw)| <= K * 255^2, or on the u8 x s8 route the raw
            // sum and the folded bias, each <= K * 255 * 128; plus the bias.
            double maxBias = 0;
            if (bias)
                for (int64_t m = 0; m < m_M; ++m) maxBias = std::max(maxBias, std::abs(static_cast<double>(bias[m])));
            qSetIntRound(epi, 3.0 * static_cast<double>(m_K) * 65025.0 + maxBias, m_M);
        }
        Tensor& y = ctx.output(0);
        void* yp = y.raw();
        const int64_t P = m_OH * m_OW;
        if (m_depthwise) {
            runDepthwise(x, zx, epi, yp, ctx.pool());
            return;
        }
        const int64_t mg = m_M / m_group;
        const std::size_t es = elementSize(m_outType);
        for (int64_t g = 0; g < m_group; ++g) {
            PackCtx pc;
            pc.xp = xp + g * m_Cg * m_planeStride;
            pc.tapOff = m_tapOff.data();
            pc.K = m_K;
            pc.imageStride = m_C * m_planeStride;
            pc.P = P;
            pc.OW = m_OW;
            pc.sh = m_sh;
            pc.sw = m_sw;
            pc.Wp = m_Wp;
            if (m_raw) {
                pc.raw = x.raw();
                pc.rawUnsigned = x.dtype() == DataType::UInt8;
                pc.zx = zx;
            }
            // The u8 x s8 route (AVX2; the portable kernels and tests forcing them keep int16).
            if (!u8s8) packInt16FromA8(); // no-op unless the kernels changed since prepare
            QEpilogue e = epi;
            if (u8s8) {
                // sum (x - zx) * w + b = sum x * w + (b - zx * sum w): wrapping int32 arithmetic,
                // exact wherever the reference's int32 result is.
                for (int64_t m = 0; m < m_M; ++m)
                    m_biasU8[std::size_t(m)] = static_cast<int32_t>(static_cast<uint32_t>(
                        (epi.bias ? int64_t(epi.bias[m]) : 0) - int64_t(zx) * m_rowSum[std::size_t(m)]));
                e.bias = m_biasU8.data();
                pc.u8s8 = true;
                pc.xp8 = xp8; // null for raw (read through pc.raw)
                if (xp8)
                    pc.xp8End = xp8 == x.data<uint8_t>() ? xp8 + x.numElements()
                                                         : xp8 + m_N * m_C * m_planeStride + 16; // + the gap after the last plane
            }
            QGemmArgs a;
            a.a = u8s8 ? reinterpret_cast<const int16_t*>(m_packedA8.data()) : m_packedA.data() + g * qPackedAElems(mg, m_K);
            a.u8s8 = u8s8;
            a.m = mg;
            a.k = m_K;
            a.n = m_N * P;
            a.packB = packConvB;
            a.packCtx = &pc;
            a.epi = e;
            a.chBase = g * mg;
            a.rem = u8s8 && !m_rem.quad.empty() ? &m_rem : nullptr;
            if (quad) {
                a.packB = nullptr;
                a.implicitB = reinterpret_cast<const uint8_t*>(xp);
                a.bOff = m_qOff.data();
                a.n = m_virtCols;
                a.out.y = yp;
                a.out.ldr = P;
                a.out.groupCols = m_Wv;
                a.out.groupValid = m_OW;
                a.out.groupStride = m_OW;
                qgemm(a, ctx.pool());
                continue;
            }
            a.out.y = static_cast<std::byte*>(yp) + static_cast<std::size_t>(g * mg * P) * es;
            a.out.ldr = P;
            a.out.groupCols = P;
            a.out.groupStride = m_M * P;
            qgemm(a, ctx.pool());
        }
    }

private:
    /// Elements after the last plane that whole-vector reads may touch (zeroed).
    static constexpr int64_t kSlack = 128;

    /// Whether this run takes the u8 x s8 route: the shape allows it (prepare) and the kernels in
    /// use are exact for the packed weights (weights packed for VNNI alone need it).
    bool u8s8Runs() const { return m_u8s8 && int8UsesAvx2() && (!m_a8NeedsVnni || int8UsesVnni()); }

    /// The int16 pairs from the u8 x s8 quads (plus the split route's remainders) when they were
    /// not packed at init (weights of zero point 0, group 1: the same values in the other layout).
    /// Once; a no-op otherwise.
    void packInt16FromA8() {
        if (!m_packedA.empty() || m_packedA8.empty()) return;
        const int64_t kq = qDepthQuads(m_K);
        // The split route's quads hold W_safe: W = W_safe + the remainders.
        std::vector<int8_t> rem;
        if (!m_rem.quad.empty()) {
            rem.assign(static_cast<std::size_t>(m_M * m_K), 0);
            for (int64_t r = 0; r < m_M; ++r)
                for (int32_t i = m_rem.start[std::size_t(r)]; i < m_rem.start[std::size_t(r) + 1]; ++i) {
                    int8_t w[4];
                    std::memcpy(w, &m_rem.val[std::size_t(i)], sizeof(w));
                    for (int64_t t = 0; t < 4 && m_rem.quad[std::size_t(i)] * 4 + t < m_K; ++t)
                        rem[std::size_t(r * m_K + m_rem.quad[std::size_t(i)] * 4 + t)] = w[t];
                }
        }
        m_packedA.assign(qPackedAElems(m_M, m_K), 0);
        qPackA(m_packedA.data(), m_M, m_K, [&](int64_t r, int64_t k) {
            const int64_t r0 = r / kQRowTile * kQRowTile, h = std::min<int64_t>(kQRowTile, m_M - r0);
            const int64_t w = m_packedA8[std::size_t(r0 * kq * 4 + ((k / 4) * h + (r - r0)) * 4 + k % 4)];
            return rem.empty() ? w : w + rem[std::size_t(r * m_K + k)];
        });
    }

    /// d[i] = s[i] - zx for i < n (a loop the compiler vectorizes).
    template <typename T>
    static void widen(const T* s, int64_t n, int32_t zx, int16_t* d) {
        for (int64_t i = 0; i < n; ++i) d[i] = static_cast<int16_t>(static_cast<int32_t>(s[i]) - zx);
    }

    /// Per (image, channel) task: that plane is converted into a per-thread zero-padded int16
    /// buffer (plus the slack whole-vector reads may touch; qPadPlane8), then convolved by the
    /// plane's step plan (qDwPlan). The same arithmetic whatever the thread count.
    void runDepthwise(const Tensor& x, int32_t zx, const QEpilogue& epi, void* y, ThreadPool& pool) {
        const int64_t plane = m_Hp * m_Wp, taps = m_KH * m_KW, HW = m_H * m_W;
#if defined(__x86_64__) || defined(__i386__)
        if (m_dwc && int8UsesAvx2() && qDwChannelsEnabled()) {
            for (int64_t m = 0; m < m_M; ++m)
                m_dwcBias[std::size_t(m)] = (epi.bias ? epi.bias[m] : 0) - zx * static_cast<int32_t>(m_dwSum[std::size_t(m)]);
            QDwChannels p;
            p.xEnd = reinterpret_cast<const uint8_t*>(x.raw()) + x.numElements();
            p.xSigned = x.dtype() == DataType::Int8;
            p.zx = zx;
            p.C = m_M;
            p.H = m_H;
            p.W = m_W;
            p.OH = m_OH;
            p.OW = m_OW;
            p.KH = m_KH;
            p.KW = m_KW;
            p.sh = m_sh;
            p.sw = m_sw;
            p.pt = m_pt;
            p.pl = m_pl;
            p.wPairs = m_dwcW.data();
            p.bias = m_dwcBias.data();
            p.mult = m_mult.data();
            const int64_t groups = (m_M + 15) / 16, outImage = m_M * m_OH * m_OW;
            const std::size_t scratch = qDwChannelsScratch(p);
            pool.parallelFor(0, m_N * groups, 1, [&](int64_t b, int64_t e) {
                thread_local std::vector<uint8_t> buf;
                if (buf.size() < scratch) buf.resize(scratch);
                for (int64_t t = b; t < e; ++t) {
                    const int64_t n = t / groups, g = t % groups;
                    QDwChannels pn = p;
                    pn.x = reinterpret_cast<const uint8_t*>(x.raw()) + n * m_M * HW;
                    qDwChannels(pn, g, g + 1, epi, static_cast<uint8_t*>(y) + n * outImage, buf.data());
                }
                qCountDepthwiseChannelGroups(e - b);
            });
            return;
        }
#endif
        // The u8 x s8 route for the channels that allow it (QDwPlane::x8).
        const bool u8Route = !m_dw8.empty() && x.dtype() == DataType::UInt8 && int8UsesAvx2() &&
                             epi.out != QEpilogue::Out::Int32 && m_dwl == 1 && (m_sw == 1 || m_sw == 2) &&
                             !m_dwPlan.empty();
        const int64_t nq = (m_KW + 3) / 4;
        const bool vnni = int8UsesVnni();
        pool.parallelFor(0, m_N * m_M, 1, [&](int64_t b, int64_t e) {
            thread_local std::vector<int16_t> buf;
            if (buf.size() < static_cast<std::size_t>(plane + kSlack)) buf.assign(static_cast<std::size_t>(plane + kSlack), 0);
            int16_t* dst = buf.data();
            std::fill(dst + plane, dst + plane + kSlack, int16_t(0));
            int64_t u8Planes = 0;
            for (int64_t pc = b; pc < e; ++pc) {
                const int64_t c = pc % m_M;
                QDwPlane p;
                if (u8Route && (m_dwU8[std::size_t(c)] == 1 || (m_dwU8[std::size_t(c)] == 2 && vnni))) {
                    qPadPlaneU8(x.data<uint8_t>() + pc * HW, x.numElements() - pc * HW, static_cast<uint8_t>(zx), m_H,
                                m_W, m_pt, m_pl, m_Hp, m_Wp, reinterpret_cast<uint8_t*>(dst));
                    p.x8 = reinterpret_cast<const uint8_t*>(dst);
                    p.w8 = m_dw8.data() + c * m_KH * nq * 4;
                    p.biasDelta = static_cast<int32_t>(static_cast<uint32_t>(-int64_t(zx) * m_dwSum[std::size_t(c)]));
                    ++u8Planes;
                } else {
                    qPadPlane8(static_cast<const std::byte*>(x.raw()) + pc * HW, x.numElements() - pc * HW,
                               x.dtype() == DataType::UInt8, zx, m_H, m_W, m_pt, m_pl, m_Hp, m_Wp, dst);
                    p.x = dst;
                }
                p.w = m_dw.data() + c * taps;
                p.Wp = m_Wp;
                p.OH = m_OH;
                p.OW = m_OW;
                p.sh = m_sh;
                p.sw = m_sw;
                p.KH = m_KH;
                p.KW = m_KW;
                p.dh = m_dh;
                p.dw = m_dwl;
                p.steps = m_dwPlan.data();
                p.nSteps = static_cast<int64_t>(m_dwPlan.size());
                qDepthwisePlane(p, c, epi, y, pc * m_OH * m_OW);
            }
            qCountDepthwiseU8(u8Planes);
        });
    }




    bool m_qlinear, m_fusedAct;
    std::size_t kW = 3, kWzp = 5;
    int64_t m_group = 1, m_M = 0, m_Cg = 0, m_KH = 1, m_KW = 1, m_K = 0;
    WindowParams m_window;
    float m_actLo = 0.f, m_actHi = 0.f;
    bool m_depthwise = false;
    bool m_raw = false; ///< this shape packs B from the 8-bit input (set by prepare)
    std::vector<int16_t> m_dw;
    std::vector<int8_t> m_dw8;     ///< depthwise u8 x s8 route: per channel, KH rows of ceil(KW / 4) tap quads
    std::vector<int64_t> m_dwSum;  ///< depthwise: per channel, the sum of its int16 taps (w - zw)
    std::vector<uint8_t> m_dwU8;   ///< per channel: its taps allow the u8 x s8 route (1), with VNNI only (2)
    std::vector<int16_t> m_dwcW;   ///< depthwise taps for qDwChannels (qDwChannelWeights)
    bool m_dwc = false;            ///< this shape runs qDwChannels (prepare; AVX2 at run time)
    std::vector<int32_t> m_dwcBias; ///< per run: bias - zx * tap sum, whole groups of 16
    std::vector<int16_t> m_packedA;
    std::vector<int8_t> m_packedA8;  ///< u8 x s8 route: the weights as int8 quads (qPackA8), or empty
    std::vector<int64_t> m_rowSum;   ///< u8 x s8 route: per output channel, the sum of its weights
    QRowRemainders m_rem;            ///< the split u8 x s8 route's remainders (empty: W is exact)
    /// Remainder quads per row quad up to which the split route runs (above it, the int16 route).
    /// Measured on mobilenet_v2 / resnet18 with 8-bit weights (densities 0.015-0.29): layers up to
    /// 0.09 (K >= 128) gain 15-30% over int16; mobilenet_v2's 14x14 expansions at 0.11-0.14
    /// (K = 64, 96) lose 12-25%, its K = 16-32 layers at 0.22-0.29 5-10%.
    static constexpr double kMaxSplitDensity = 0.1;
    bool m_u8s8 = false;             ///< this shape takes the u8 x s8 route (prepare)
    bool m_a8NeedsVnni = false;      ///< m_packedA8 has pairs past vpmaddubsw's limit (exact on VNNI only)
    /// The GEMM depth in channel-quad order (k = ((c4 * KH + i) * KW + j) * 4 + c % 4; init):
    /// the quad-plane route's order, which the packed A and m_tapOff then follow on every route.
    bool m_quadOrder = false;
    std::vector<int32_t> m_depthPerm; ///< GEMM depth k reads weight depth m_depthPerm[k] (empty: k)
    std::vector<int32_t> m_chanOrder; ///< quad order: channel t of quad c4 is m_chanOrder[4 * c4 + t] (empty: 4 * c4 + t)
    int64_t origDepth(int64_t k) const { return m_depthPerm.empty() ? k : m_depthPerm[std::size_t(k)]; }

    /// m_depthPerm / m_chanOrder for the unpaired order: channel quads, or the weights' own.
    void setDepthOrder() {
        m_depthPerm.clear();
        m_chanOrder.clear();
        if (m_quadOrder) setQuadOrder(std::vector<int32_t>(), m_KH * m_KW);
    }

    /// The weights w [M, K] (int8 values) in the GEMM's depth order.
    std::vector<int8_t> weightsInOrder(const std::vector<int16_t>& w) const {
        std::vector<int8_t> out(static_cast<std::size_t>(m_M * m_K));
        for (int64_t r = 0; r < m_M; ++r) {
            const int16_t* src = w.data() + r * m_K;
            int8_t* dst = out.data() + r * m_K;
            if (m_depthPerm.empty())
                for (int64_t k = 0; k < m_K; ++k) dst[k] = static_cast<int8_t>(src[k]);
            else
                for (int64_t k = 0; k < m_K; ++k) dst[k] = static_cast<int8_t>(src[m_depthPerm[std::size_t(k)]]);
        }
        return out;
    }

    /// Depth pairs (2i, 2i + 1) of wq [M, K] whose vpmaddubsw sum saturates (|a + b| > 128; none
    /// is qU8S8Exact).
    int64_t saturatedPairs(const std::vector<int8_t>& wq) const {
        int64_t n = 0;
        for (int64_t r = 0; r < m_M; ++r) {
            const int8_t* row = wq.data() + r * m_K;
            for (int64_t k = 0; k + 1 < m_K; k += 2) n += std::abs(int(row[k]) + int(row[k + 1])) > 128;
        }
        return n;
    }

    /// m_depthPerm as the channel-quad order over `chans` (empty: 0, 1, ...); m_chanOrder = chans.
    void setQuadOrder(std::vector<int32_t> chans, int64_t taps) {
        if (chans.empty()) {
            chans.resize(static_cast<std::size_t>(m_Cg));
            for (int64_t c = 0; c < m_Cg; ++c) chans[std::size_t(c)] = static_cast<int32_t>(c);
        }
        m_depthPerm.resize(static_cast<std::size_t>(m_K));
        for (int64_t k = 0; k < m_K; ++k) {
            const int64_t q = k / 4;
            m_depthPerm[std::size_t(k)] = static_cast<int32_t>(chans[std::size_t(4 * (q / taps) + k % 4)] * taps + q % taps);
        }
        bool identity = true;
        for (int64_t c = 0; c < m_Cg && identity; ++c) identity = chans[std::size_t(c)] == c;
        m_chanOrder = identity ? std::vector<int32_t>() : std::move(chans);
    }

    /// The paired order (qPairUnits): of the channels (whole taps) in the quad order, else of the
    /// depth. w: the weights [M, K].
    void pairDepthOrder(const std::vector<int16_t>& w) {
        const int64_t taps = m_KH * m_KW, len = m_quadOrder ? taps : 1, units = m_K / len;
        // Unit-major copy (unit u's M * len weights together), in 64 x 64 blocks of rows x units.
        std::vector<int8_t> byUnit(static_cast<std::size_t>(m_M * m_K));
        for (int64_t r0 = 0; r0 < m_M; r0 += 64)
            for (int64_t u0 = 0; u0 < units; u0 += 64) {
                const int64_t r1 = std::min(m_M, r0 + 64), u1 = std::min(units, u0 + 64);
                for (int64_t r = r0; r < r1; ++r) {
                    const int16_t* src = w.data() + r * m_K;
                    for (int64_t u = u0; u < u1; ++u) {
                        int8_t* dst = byUnit.data() + (u * m_M + r) * len;
                        for (int64_t t = 0; t < len; ++t) dst[t] = static_cast<int8_t>(src[u * len + t]);
                    }
                }
            }
        std::vector<int32_t> order = qPairUnits(byUnit, units, m_M, len);
        if (m_quadOrder) setQuadOrder(std::move(order), taps);
        else m_depthPerm = std::move(order);
    }
    /// The quad-plane route saves the im2col packing, whose share of the layer falls as 1 / M (the
    /// packed B serves M rows), and spends the virtual columns' share `waste` of the products.
    /// Measured on resnet18's 3x3 layers (one-layer models, alternating runs, minimums): M 64 on
    /// 56x56 (waste 0.02) 5.6% faster; M 128 on 28x28 (0.04) 3% slower, M 256 on 14x14 (0.14) 6%
    /// slower. So it runs where waste * M <= 2.5.
    static constexpr double kMaxWasteTimesRows = 2.5;
    /// With VNNI's tiles (about twice AVX2's products per second) the im2col the route saves is a
    /// far larger share of a layer: measured on Zen 4 (one-layer QLinearConv models, minimums,
    /// im2col -> quad planes): 3x3 M 64 on 56x56 0.72 -> 0.59 ms, M 128 on 28x28 0.73 -> 0.58-0.67,
    /// M 256 on 14x14 (waste 0.14) 0.72 -> 0.64, stride 2 M 128 56 -> 28 1.33 -> 0.69, M 256
    /// 28 -> 14 0.82 -> 0.69, M 512 on 7x7 (0.31) 0.69 -> 0.66, stride 2 M 512 14 -> 7 0.41 ->
    /// 0.36, M 128 on 5x5 (0.28) 0.053 -> 0.025-0.030. So it runs whatever M and down to 4-wide
    /// outputs, up to this waste.
    static constexpr double kMaxWasteVnni = 0.4;
    bool m_quadPlanes = false;       ///< this shape takes the quad-plane route (prepare; u8 x s8)
    int64_t m_Hv = 0, m_Wv = 0, m_virtCols = 0, m_quadBytes = 0, m_quadRoom = 0;
    std::vector<int32_t> m_qOff;     ///< per depth quad: its byte offset in the quad planes
    std::vector<int32_t> m_biasU8;   ///< per run: bias - zx * row sum
    // Per prepare.
    int64_t m_N = 0, m_C = 0, m_H = 0, m_W = 0, m_OH = 0, m_OW = 0, m_sh = 1, m_sw = 1, m_dh = 1, m_dwl = 1,
            m_pt = 0, m_pl = 0, m_Hp = 0, m_Wp = 0;
    DataType m_outType = DataType::UInt8;
    std::vector<float> m_mult;
    std::vector<int64_t> m_tapOff;
    int64_t m_planeStride = 0; ///< elements from one padded plane to the next (int16 or uint8)
    std::vector<QDwStep> m_dwPlan; ///< depthwise: the plane's output steps (qDwPlan)
};

} // namespace

std::unique_ptr<Kernel> makeFastIntConv(const InitContext& ctx, bool qlinear) {
    if (!FastIntConv::applies(ctx, qlinear)) return nullptr;
    return std::make_unique<FastIntConv>(qlinear, false);
}

} // namespace cpu

/// ai.edgewise.QConv: QLinearConv's inputs and attributes plus `activation` (Relu, Clip) with
/// `activation_params`; written by the QDQ fusion, which guarantees constant 4-D weights.
std::unique_ptr<Kernel> makeQConv() {
    return std::make_unique<cpu::FastIntConv>(true, true);
}

} // namespace ew::rt
