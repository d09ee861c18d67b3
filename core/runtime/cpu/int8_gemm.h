#pragma once
// Integer GEMM for the INT8 kernels (QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger and
// the fused ai.edgewise.QConv / QGemm written by the QDQ fusion).
//
// Exactness first. The general route stores both operands as int16 with their zero points
// already subtracted (x - zx and w - zw both lie in [-255, 255]), and the AVX2 micro-kernel
// multiplies them with vpmaddwd (int16 x int16 -> pairs summed into int32). A pair sum is at most
// 2 * 255^2, so nothing saturates, zero points need no correction terms, and padding is simply 0.
// Accumulation is int32, exact for K <= kInt8MaxDepth. Where the weights allow it, the u8 x s8
// route below (vpmaddubsw) is taken instead, for convolutions with 8-bit weights also in its split
// form (QRowRemainders) where few weight pairs need it: on the Zen 3 this was tuned on, a 5x16 tile of
// vpmaddubsw + vpmaddwd(ones) + vpaddd sustains about 1.3x the products per second of the
// vpmaddwd + vpaddd tile (measured in isolation: about 160 against 125 GOPS; the vpaddd of the
// int16 route competes with vpmaddwd for the same pipes). Where the CPU has AVX-512 VNNI (Zen 4,
// Ice Lake and later Xeons), the same tiles run with vpdpbusd / vpdpwssd (int8_gemm_vnni.cpp):
// one instruction per step and row half, and vpdpbusd sums in int32, so every int8 weight is
// exact on the u8 x s8 route and the split form is not needed.
//
// Requantization is the reference kernels' formula, element for element:
//   y = saturate(nearbyint(float(acc + bias) * mult[ch]) + zp), mult = (x_scale * w_scale) / y_scale
// computed in float in that order, so the fast kernels match nn_quant.cpp's reference bit for bit.
//
// Layouts (int16 elements; Kp = ceil(K / 2) depth pairs, an odd K padded with a zero):
//   A (row operand, M x K) in panels of up to 5 rows (kQRowTile): the panel starting at row r0 with h rows is
//     at a + r0 * Kp * 2; element (r0 + r, k) at + (k / 2) * h * 2 + r * 2 + k % 2.
//   B (column operand, K x N) in panels of 16 columns: element (k, j) of a panel at
//     + (k / 2) * 32 + j * 2 + k % 2 (columns past N zero).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <vector>

namespace ew::rt {
class ThreadPool;
}

namespace ew::rt::cpu {

/// Largest depth whose int32 accumulation cannot overflow (K * 255 * 255 < 2^31).
inline constexpr int64_t kInt8MaxDepth = 32768;
inline constexpr int kQRowTile = 5;
inline constexpr int kQColTile = 16;
/// Most columns qgemm asks a QPackBFn for at once (6 panels).
inline constexpr int64_t kQMaxBlockCols = 6 * kQColTile;

inline int64_t qDepthPairs(int64_t k) { return (k + 1) / 2; }
/// int16 elements of a packed A of m rows or of a packed B of n columns (n rounded up to 16).
inline std::size_t qPackedAElems(int64_t m, int64_t k) { return static_cast<std::size_t>(m * qDepthPairs(k) * 2); }
inline std::size_t qPackedBElems(int64_t n, int64_t k) {
    return static_cast<std::size_t>((n + kQColTile - 1) / kQColTile * qDepthPairs(k) * 32);
}

/// True when the AVX2 micro-kernels run (the CPU has AVX2 and the portable path is not forced).
bool int8UsesAvx2();
/// Forces the portable kernels (tests compare both on one machine).
void int8ForcePortable(bool portable);
/// True when the tiles run on AVX-512 VNNI (int8UsesAvx2, the CPU has AVX512-VNNI/VL/BW, not
/// forced off). Kernels decide at init whether their 8-bit weights need it: with VNNI the u8 x s8
/// route is exact for any int8 weights, so they are packed as they are (no pairing, no split).
bool int8UsesVnni();
/// Keeps the tiles on AVX2 even where the CPU has VNNI (tests cover both routes on one machine).
void int8ForceNoVnni(bool off);

/// A(r, k) = at(r, k) for r < m, k < kDepth in row panels of up to kQRowTile rows, Step
/// consecutive k of a row together (the panel at r0 with h rows: element (r0 + r, k) at
/// out + r0 * steps * Step + ((k / Step) * h + r) * Step + k % Step; k past kDepth 0).
template <int Step, typename T, typename F>
void qPackRows(T* out, int64_t m, int64_t kDepth, F&& at) {
    const int64_t steps = (kDepth + Step - 1) / Step;
    for (int64_t r0 = 0; r0 < m; r0 += kQRowTile) {
        const int64_t h = m - r0 < kQRowTile ? m - r0 : kQRowTile;
        T* p = out + r0 * steps * Step;
        for (int64_t q = 0; q < steps; ++q)
            for (int64_t r = 0; r < h; ++r)
                for (int t = 0; t < Step; ++t) {
                    const int64_t k = Step * q + t;
                    p[(q * h + r) * Step + t] = k < kDepth ? static_cast<T>(at(r0 + r, k)) : T(0);
                }
    }
}

/// Packs A(r, k) = at(r, k) (an int in [-32768, 32767]) for r < m, k < kDepth: depth pairs.
template <typename F>
void qPackA(int16_t* out, int64_t m, int64_t kDepth, F&& at) {
    qPackRows<2>(out, m, kDepth, at);
}

/// B(k, j) = at(k, j) for k < kDepth, j < n in ceil(n / 16) panels of 16 columns, Step
/// consecutive k of a column together (element (k, j) of panel j / 16 at
/// + (k / Step) * 16 * Step + (j % 16) * Step + k % Step; past kDepth or n: 0). A panel step is
/// 64 bytes for int16 pairs and for int8 quads alike.
template <int Step, typename T, typename F>
void qPackColumns(T* out, int64_t kDepth, int64_t n, F&& at) {
    const int64_t steps = (kDepth + Step - 1) / Step;
    for (int64_t j0 = 0; j0 < n; j0 += kQColTile) {
        T* p = out + (j0 / kQColTile) * steps * kQColTile * Step;
        for (int64_t q = 0; q < steps; ++q)
            for (int j = 0; j < kQColTile; ++j)
                for (int t = 0; t < Step; ++t) {
                    const int64_t k = Step * q + t;
                    p[(q * kQColTile + j) * Step + t] = (k < kDepth && j0 + j < n) ? static_cast<T>(at(k, j0 + j)) : T(0);
                }
    }
}

/// Packs B(k, j) = at(k, j) for k < kDepth, j < n into ceil(n / 16) column panels (int16 pairs).
template <typename F>
void qPackB(int16_t* out, int64_t kDepth, int64_t n, F&& at) {
    qPackColumns<2>(out, kDepth, n, at);
}

// u8 x s8 (vpmaddubsw): for a layer whose weights make it exact, products of raw uint8 x and
// int8 w (zero point 0) in depth quads: vpmaddubsw forms the two pair sums of a quad in int16,
// vpmaddwd with ones adds them into int32. The pair sum x0 * w0 + x1 * w1 saturates int16 only
// if the two weights have the same sign and |w0| + |w1| > 128 (255 * 128 = 32640), so a layer
// whose every depth pair keeps within that (7-bit weights, as `quantize --reduce-range` writes,
// always do) gets the exact result from 2 multiply uops per 32 products instead of 2 per 16 on
// machines without VNNI, and B in half the bytes. sum (x - zx) * w = sum x * w - zx * sum w: the
// caller adds -zx * (row sum of w) to the bias.
//   A in row panels like qPackA's, 4 int8 per depth step: element (r0 + r, k) of the panel at
//     a8 + r0 * Kq * 4 at + (k / 4) * h * 4 + r * 4 + k % 4 (Kq = ceil(K / 4); past K: 0).
//   B panels of 16 columns, 64 bytes per depth quad: element (k, j) at (k / 4) * 64 + j * 4 + k % 4.
inline int64_t qDepthQuads(int64_t k) { return (k + 3) / 4; }
inline std::size_t qPackedA8Bytes(int64_t m, int64_t k) { return static_cast<std::size_t>(m * qDepthQuads(k) * 4); }

/// Whether no depth pair (2i, 2i + 1) of any row of A(r, k) = at(r, k) (int8 values) can
/// saturate vpmaddubsw's int16 pair sum for uint8 operands.
template <typename F>
bool qU8S8Exact(int64_t m, int64_t kDepth, F&& at) {
    for (int64_t r = 0; r < m; ++r)
        for (int64_t k = 0; k + 1 < kDepth; k += 2) {
            if (std::abs(at(r, k) + at(r, k + 1)) > 128) return false; // same signs past 128 (see qSplitU8S8)
        }
    return true;
}

/// The split u8 x s8 route for weights that fail qU8S8Exact (8-bit per-channel weights: a few
/// percent of their same-sign depth pairs exceed |w0| + |w1| = 128): W = W_safe + W_rem. In each
/// such pair the larger weight keeps only what brings the pair to 128 (W_safe: exact on the u8 x s8
/// route) and the rest goes to W_rem, which then holds at most one nonzero per pair (|r| <= 126:
/// its pairs cannot saturate either). The kernel adds x * W_rem row by row over the depth quads
/// where that row has a remainder: row r's quads are quad[start[r] .. start[r + 1]), their four
/// int8 remainders (depth order) packed in val. Exact: the same int32 sums as the int16 route.
struct QRowRemainders {
    std::vector<int32_t> start; ///< m + 1 offsets
    std::vector<int32_t> quad;  ///< depth quad index
    std::vector<int32_t> val;   ///< the quad's four int8 remainders as one int32 (little-endian)
    /// Remainder quads per row quad: the extra work against the plain u8 x s8 route (each costs
    /// about a row's share of a tile step).
    double density(int64_t m, int64_t k) const {
        const double cells = static_cast<double>(m) * static_cast<double>((k + 3) / 4);
        return cells > 0 ? static_cast<double>(quad.size()) / cells : 0.0;
    }
};

/// Splits A(r, k) = at(r, k) (int8 values, r < m, k < kDepth) as above: safe(r, k) into `safe`
/// (row-major m x kDepth) and the remainders into `rem`. Returns the number of weights split.
template <typename F>
int64_t qSplitU8S8(int64_t m, int64_t kDepth, F&& at, std::vector<int8_t>& safe, QRowRemainders& rem) {
    safe.assign(static_cast<std::size_t>(m * kDepth), 0);
    rem = QRowRemainders();
    rem.start.push_back(0);
    int64_t split = 0;
    for (int64_t r = 0; r < m; ++r) {
        int8_t* sr = safe.data() + r * kDepth;
        for (int64_t k = 0; k < kDepth; ++k) sr[k] = static_cast<int8_t>(at(r, k));
        for (int64_t q = 0; q * 4 < kDepth; ++q) {
            // A pair saturates iff |w0 + w1| > 128 (same signs add up; opposite ones cannot pass
            // 128): most quads have none, checked without branches first.
            bool any = false;
            for (int64_t k = 4 * q; k + 1 < kDepth && k < 4 * q + 4; k += 2) any |= std::abs(sr[k] + sr[k + 1]) > 128;
            if (!any) continue;
            int8_t rq[4] = {0, 0, 0, 0};
            for (int64_t k = 4 * q; k + 1 < kDepth && k < 4 * q + 4; k += 2) {
                const int w0 = sr[k], w1 = sr[k + 1];
                if (std::abs(w0 + w1) <= 128) continue;
                // The larger keeps 128 - |smaller| (>= 1, same sign); the rest is the remainder.
                const int64_t big = std::abs(w0) >= std::abs(w1) ? k : k + 1, small = big == k ? k + 1 : k;
                const int sign = sr[big] > 0 ? 1 : -1;
                const int kept = sign * (128 - std::abs(int(sr[small])));
                rq[big - 4 * q] = static_cast<int8_t>(sr[big] - kept);
                sr[big] = static_cast<int8_t>(kept);
                ++split;
            }
            int32_t v;
            std::memcpy(&v, rq, sizeof(v));
            rem.quad.push_back(static_cast<int32_t>(q));
            rem.val.push_back(v);
        }
        rem.start.push_back(static_cast<int32_t>(rem.quad.size()));
    }
    return split;
}

/// An order of `units` depth units for the u8 x s8 route that puts few saturating pairs side by
/// side. The GEMM's depth pairs come from consecutive positions, and any order of the depth is as
/// exact as another (the B packing follows it), so 8-bit weights can be paired so that a large
/// weight's partner is small or of the other sign in most rows: resnet18's 3x3 layers go from
/// 0.02-0.05 remainder quads per row quad to about 0.001. Unit u holds `len` weights per row,
/// w[(u * m + r) * len + i] (int8; a depth index when len is 1, a channel's taps when the order
/// must keep taps together), and units a, b form `len` pairs per row, (a, i) with (b, i).
/// Greedy: the units with the most weight past 64 in magnitude (a pair can only saturate with
/// one) each take the unpaired unit, among the lightest few, that saturates the fewest pairs.
/// Returns the order (pairs at 2i, 2i + 1; an odd count ends with a single unit).
std::vector<int32_t> qPairUnits(const std::vector<int8_t>& w, int64_t units, int64_t m, int64_t len);

/// Packs A(r, k) = at(r, k) (int8 values) as u8 x s8 depth quads (layout above).
template <typename F>
void qPackA8(int8_t* out, int64_t m, int64_t kDepth, F&& at) {
    qPackRows<4>(out, m, kDepth, at);
}

/// Packs B(k, j) = at(k, j) (int8 values) for k < kDepth, j < n as u8 x s8 depth quads in
/// 16-column panels (the B layout above; the MatMul weights of the aUnsigned route).
template <typename F>
void qPackB8(int8_t* out, int64_t kDepth, int64_t n, F&& at) {
    qPackColumns<4>(out, kDepth, n, at);
}

/// One depth quad of ceil(n / 16) B panels (at out + i * panelStride bytes) from four uint8 rows
/// of n columns (a null row reads as zeros; never reads past rows[i][n - 1]; columns past n 0).
void qInterleaveRows8x4(const uint8_t* const rows[4], int64_t n, int64_t panelStride, uint8_t* out);

/// dst[i] = src[2 * i] for i < n (uint8; im2col rows of stride-2 convolutions on the u8 x s8
/// route). Reads whole 32-byte pieces where they end before `end`, else byte by byte; may write
/// up to 15 bytes past dst[n - 1].
void qCopyStride2U8(const uint8_t* src, int64_t n, uint8_t* dst, const uint8_t* end);

/// Calls of qgemm that took the u8 x s8 route (tests check that the route is taken).
int64_t qgemmU8S8Calls();
/// Calls of qgemm that packed B once for several row groups of tasks (tests check it is taken).
int64_t qgemmSharedPacks();
/// Calls of qgemm whose tiles ran on AVX-512 VNNI.
int64_t qgemmVnniCalls();

/// What happens to the int32 products: requantization to uint8/int8 or the raw int32 values.
/// Channel ch is the row (conv: output channel) or, with perColumn, the column (MatMul: N).
struct QEpilogue {
    enum class Out { UInt8, Int8, Int32 };
    Out out = Out::UInt8;
    const int32_t* bias = nullptr; ///< per channel, may be null
    const float* mult = nullptr;   ///< per channel (requantizing outputs only)
    float zp = 0.f;                ///< output zero point
    float lo = 0.f, hi = 255.f;    ///< clamp after adding zp: type range, narrowed by Relu/Clip
    bool perColumn = false;
    /// |float(acc) * mult| < 2^30 for every accumulator the kernel can produce (see
    /// qSetIntRound): the AVX2 epilogue may round with integer conversions (same bytes).
    bool intRound = false;
    bool narrowed = false; ///< lo/hi narrower than the output type's range
};

/// Consecutive tiles of one row panel that the AVX2 kernel requantizes straight from registers
/// (qgemm gathers them, up to a column block of kQMaxBlockCols): tile i has n[i] <= 16 valid
/// columns from column col[i] (per-column epilogues) and lands at element offset at[i].
struct QTileRun {
    int count = 0;
    int n[kQMaxBlockCols / kQColTile];
    int64_t col[kQMaxBlockCols / kQColTile];
    int64_t at[kQMaxBlockCols / kQColTile];
    /// The split u8 x s8 route (QRowRemainders): start offset to the row panel's first row (its
    /// rows' entries are remStart[r] .. remStart[r + 1]), quad and val; null otherwise.
    const int32_t* remStart = nullptr;
    const int32_t* remQuad = nullptr;
    const int32_t* remVal = nullptr;
    /// The implicit B of the quad-plane route (QGemmArgs::implicitB): the byte offset of each depth
    /// quad's 64 bytes from the run's first panel (b), the next panel 64 bytes further on; null
    /// for packed B panels.
    const int32_t* bOff = nullptr;
    /// Tiles whose valid columns are not one run from lane 0 (nseg[i] > 0: the quad-plane route's
    /// virtual columns crossing an output row): run s < nseg[i] is lanes segFirst[i][s] ..
    /// + segLen[i][s], stored at at[i] + segOff[i][s]; n[i] is the last valid lane + 1.
    static constexpr int kMaxSegs = 4;
    int nseg[kQMaxBlockCols / kQColTile] = {};
    int8_t segFirst[kQMaxBlockCols / kQColTile][kMaxSegs];
    int8_t segLen[kQMaxBlockCols / kQColTile][kMaxSegs];
    int64_t segOff[kQMaxBlockCols / kQColTile][kMaxSegs];
};

/// Sets e.intRound / e.narrowed for a kernel whose accumulators (bias included) stay within
/// +-maxAbsAcc, with `channels` multipliers at e.mult (8-bit outputs only).
void qSetIntRound(QEpilogue& e, double maxAbsAcc, int64_t channels);

/// Where element (row r, column j) goes: y + ((j / groupCols) * groupStride + r * ldr + j % groupCols)
/// elements (a conv over a batch: groupCols = pixels per image, groupStride = the image's output).
/// With groupValid (0: groupCols) only the first groupValid columns of each group are outputs; the
/// rest are skipped (the quad-plane route's virtual columns between output rows).
struct QOutLayout {
    void* y = nullptr;
    int64_t ldr = 0;
    int64_t groupCols = 0;
    int64_t groupStride = 0;
    int64_t groupValid = 0;
};

/// C tile = A panel (h rows) x B panel (16 columns) over kp depth pairs, int32 row-major [h][16].
void qMicroKernel(int64_t kp, const int16_t* a, int h, const int16_t* b, int32_t* c);

/// Requantizes/stores acc[n] (channel `ch` for every element when !perColumn, else channel
/// ch + i for element i) into out (element type from e.out) at element offset `at`.
void qStoreRow(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, void* out, int64_t at);

/// For each of `panels` 16-column panels i: one depth pair of the panel at out + i * panelStride
/// from rows r0 and r1 (16 consecutive int16 each, at + 16 * i; r1 null past K). Reads whole
/// 16-element groups: columns past the real ones are read (and multiplied, then never stored).
void qInterleaveRows(const int16_t* r0, const int16_t* r1, int64_t panels, int64_t panelStride, int16_t* out);

/// The same from 8-bit rows (uint8 when isUnsigned, else int8) with the zero point taken off on
/// the way (x - zp as int16, what the widened planes hold): n real columns, ceil(n / 16) panels;
/// never reads past r0[n - 1] / r1[n - 1] (the rows may be the caller's tensor), the columns
/// past n are written as 0.
void qInterleaveRows8(const void* r0, const void* r1, bool isUnsigned, int32_t zp, int64_t n, int64_t panelStride,
                      int16_t* out);

/// One H x W plane of 8-bit values (uint8 when isUnsigned) less zp, as int16 into its place
/// in a zero-padded Hp x Wp plane at dst (pt rows above, pl columns left, the rest zero).
/// Reads src[0, avail) only (avail >= H * W: the bytes of the tensor from src on); may write
/// zeros up to 16 elements past dst[Hp * Wp - 1].
void qPadPlane8(const void* src, int64_t avail, bool isUnsigned, int32_t zp, int64_t H, int64_t W, int64_t pt,
                int64_t pl, int64_t Hp, int64_t Wp, int16_t* dst);

/// dst[i] = src[i * stride] for i < n. May read up to 32 elements past src[(n - 1) * stride].
void qCopyStrided(const int16_t* src, int64_t n, int64_t stride, int16_t* dst);

/// One depthwise channel plane: out[at + oh * OW + ow] = the epilogue of
/// sum over (i, j) of x[(oh * sh + i * dh) * Wp + ow * sw + j * dw] * w[i * KW + j].
/// May read up to 48 elements past the last tap of the last output row.
/// One step of 16 depthwise outputs: lane l reads the padded plane from x + src + l * sw (plus
/// the tap offsets); after requantization, output byte i of the step is lane mask[i], and bytes
/// [0, n) go to out[dst, dst + n). Steps are in increasing dst order and cover the plane.
struct QDwStep {
    int32_t src = 0, dst = 0, n = 0;
    uint8_t mask[16] = {};
};
/// The steps for one plane shape. With stride 1 the 16 lanes run along the padded rows as one
/// flat line (a 7-wide map: two rows per step, 14 of 16 lanes used, where one row per step would
/// use 7), the columns between rows dropped by the mask; otherwise (or when rows waste less) one
/// output row in steps of 16.
std::vector<QDwStep> qDwPlan(int64_t OH, int64_t OW, int64_t Wp, int64_t sh, int64_t sw);

struct QDwPlane {
    const int16_t* x = nullptr;
    const int16_t* w = nullptr;
    int64_t Wp = 0, OH = 0, OW = 0, sh = 1, sw = 1, KH = 1, KW = 1, dh = 1, dw = 1;
    /// qDwPlan(OH, OW, Wp, sh, sw), or null (the row-by-row kernels then).
    const QDwStep* steps = nullptr;
    int64_t nSteps = 0;
    /// The u8 x s8 route (AVX2, steps set, dw 1, sw 1 or 2, 8-bit output): x8 is the plane of raw
    /// uint8 x padded with the x zero point (qPadPlaneU8) instead of x; w8 the channel's taps as
    /// int8 quads, ceil(KW / 4) per kernel row (taps past KW 0); biasDelta (-zx * the sum of the
    /// taps) is added to the bias. Exact when no tap pair (4q, 4q + 1), (4q + 2, 4q + 3) of a
    /// row can saturate (qU8S8Exact over the rows). 8 outputs per vector, four taps of a row per
    /// vpmaddubsw + vpmaddwd(ones), the quads of x built by one vpshufb from a 16-byte load.
    const uint8_t* x8 = nullptr;
    const int8_t* w8 = nullptr;
    int32_t biasDelta = 0;
};

/// Depthwise convolution of maps at most kQDwChannelsMaxW wide with the channels in the vector
/// lanes (AVX2, 8-bit outputs): 16 channels at a time are transposed into [padded row][padded
/// column][16 channels] int16 (padding = the x zero point), every output pixel of the 16 channels
/// is one vpmaddwd per pair of taps into int32 (exact: |x| <= 255, |w - zw| <= 255), requantized
/// and transposed back into the channel planes. A plane at a time (qDepthwisePlane) pays its
/// fixed costs per channel, which on a 7x7 map are most of the work.
inline constexpr int64_t kQDwChannelsMaxW = 16;
inline constexpr int64_t kQDwChannelsMaxTaps = 64;
struct QDwChannels {
    const uint8_t* x = nullptr; ///< [C, H, W] 8-bit, one image
    const uint8_t* xEnd = nullptr; ///< end of the readable input
    bool xSigned = false;
    int32_t zx = 0;
    int64_t C = 0, H = 0, W = 0, OH = 0, OW = 0, KH = 1, KW = 1, sh = 1, sw = 1, pt = 0, pl = 0;
    const int16_t* wPairs = nullptr; ///< qDwChannelWeights
    const int32_t* bias = nullptr;   ///< per channel, whole groups of 16: bias - zx * (sum of the taps)
    const float* mult = nullptr;     ///< per channel, whole groups of 16
};
/// The taps w [C][taps] (w - zw, int16) as qDwChannelsAvx2 reads them: per group of 16 channels
/// and pair of taps (2t, 2t + 1), the two vpmaddwd operands of 16 int16 (channels 0-3 and 8-11,
/// then 4-7 and 12-15, each as (tap 2t, tap 2t + 1); zeros past C and past the last tap).
std::vector<int16_t> qDwChannelWeights(const int16_t* w, int64_t C, int64_t taps);
/// Bytes of per-thread scratch qDwChannelsAvx2 needs.
std::size_t qDwChannelsScratch(const QDwChannels& p);
/// Channel groups [g0, g1) (16 channels each) into y [C, OH, OW] (e.out UInt8 or Int8), on
/// AVX-512 VNNI's kernel (vpdpwssd, one 512-bit requantization) where the CPU has it, else AVX2's.
/// Call only where int8UsesAvx2().
void qDwChannels(const QDwChannels& p, int64_t g0, int64_t g1, const QEpilogue& e, void* y, uint8_t* scratch);
void qDwChannelsAvx2(const QDwChannels& p, int64_t g0, int64_t g1, const QEpilogue& e, void* y, uint8_t* scratch);
/// Tests: keep small maps on the plane-at-a-time kernels (qDepthwisePlane) to test those.
void qDwChannelsForceOff(bool off);
bool qDwChannelsEnabled();
/// Channel groups the channel-vector depthwise kernel has run (for tests).
int64_t qDepthwiseChannelGroups();
void qCountDepthwiseChannelGroups(int64_t groups);

/// The raw uint8 plane (H x W at src, avail readable bytes from src) into its place in an Hp x Wp
/// plane at dst padded with `fill` (pt rows above, pl columns left). May write up to 16 bytes
/// past dst[Hp * Wp - 1].
void qPadPlaneU8(const uint8_t* src, int64_t avail, uint8_t fill, int64_t H, int64_t W, int64_t pt, int64_t pl,
                 int64_t Hp, int64_t Wp, uint8_t* dst);

/// Planes the depthwise kernels ran on the u8 x s8 route (tests check that the route is taken;
/// the convolution adds its count once per task).
int64_t qDepthwiseU8Planes();
void qCountDepthwiseU8(int64_t planes);
void qDepthwisePlane(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at);


/// C = A (packed, M x K) x B, then the epilogue. B's column panels come from `packB` one block of
/// columns at a time (or, when packB is null, from `packedB`, all N columns packed once).
/// packB(ctx, n0, nc, out) writes columns [n0, n0 + nc) as ceil(nc / 16) panels at out (called
/// from several threads at once). Row offset rowBase and column offset colBase are added to the
/// channel index (per-group convolutions).
using QPackBFn = void (*)(const void* ctx, int64_t n0, int64_t nc, int16_t* out);
struct QGemmArgs {
    const int16_t* a = nullptr;
    int64_t m = 0, k = 0, n = 0;
    /// The u8 x s8 route (see "u8 x s8" above): `a` holds qPackA8's int8 quads (passed as int16
    /// pointers: the same byte offsets), packB writes uint8 quads (qInterleaveRows8x4), and the
    /// zero point of x is folded into the bias by the caller. AVX2 only, one image (out.groupCols
    /// >= n), and a per-row epilogue or per-column bias/mult arrays padded to whole panels.
    bool u8s8 = false;
    /// With u8s8: A holds the uint8 operand (MatMul: the activations, raw, as qPackRows<4> quads)
    /// and B the int8 one (the weights, qPackB8), with the activations' zero point folded into a
    /// per-column bias.
    bool aUnsigned = false;
    QPackBFn packB = nullptr;
    const void* packCtx = nullptr;
    const int16_t* packedB = nullptr;
    QEpilogue epi;
    int64_t chBase = 0;
    QOutLayout out;
    /// With u8s8 (convolutions, route 1): `a` holds W_safe and these the remainders of the split
    /// route (QRowRemainders), rows indexed from 0 at chBase; null when W itself is exact.
    const QRowRemainders* rem = nullptr;
    /// The quad-plane route (u8s8, route 1, AVX2, 8-bit outputs; qQuadPlanes): B is never packed.
    /// Depth quad q of column j is the 4 bytes at implicitB + bOff[q] + 4 * j, so a 16-column
    /// panel's quad is 64 consecutive bytes read in place. packB and packedB are unused.
    const uint8_t* implicitB = nullptr;
    const int32_t* bOff = nullptr;
};
void qgemm(const QGemmArgs& args, ThreadPool& pool);
/// Calls of qgemm that took the quad-plane route (tests check it is taken).
int64_t qgemmQuadPlaneCalls();

/// The quad-plane layout of a convolution's uint8 input (one image, channels a multiple of 4):
/// the zero-padded input (padding = fill, the x zero point) with four channels' bytes side by
/// side per pixel, split into sh x sw phase planes by row and column parity (stride 2: phase
/// (i, j) holds padded rows i, i + 2, ... and columns j, j + 2, ...), each Hv x Wv pixels of 4
/// bytes:  out[((c4 * sh + i) * sw + j) * Hv * Wv * 4 + (r * Wv + s) * 4 + t] =
///         padded x[4 * c4 + t][r * sh + i][s * sw + j].
/// Output pixel (oh, ow) then reads tap (kh, kw)'s quad of channels at virtual column
/// f = oh * Wv + ow of the phase plane ((kh*dh) % sh, (kw*dw) % sw), plus ((kh*dh) / sh) * Wv +
/// (kw*dw) / sw pixels: consecutive output pixels of a row are consecutive quads, and a row's
/// last pixel is followed by the next row's first after Wv - OW virtual columns that are not
/// outputs. Channel quads [c40, c41) only (the planes are filled in parallel).
struct QQuadPlanes {
    const uint8_t* x = nullptr; ///< [C, H, W]
    /// Channel t of quad c4 is input channel chanOrder[4 * c4 + t] (null: 4 * c4 + t).
    const int32_t* chanOrder = nullptr;
    int64_t C = 0, H = 0, W = 0, pt = 0, pl = 0, sh = 1, sw = 1, Hv = 0, Wv = 0;
    uint8_t fill = 0;
};
void qQuadPlanes(const QQuadPlanes& p, int64_t c40, int64_t c41, uint8_t* out);
/// Calls of qgemm that took the split u8 x s8 route (tests check it is taken).
int64_t qgemmSplitCalls();

} // namespace ew::rt::cpu
