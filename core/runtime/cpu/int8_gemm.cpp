// The integer GEMM driver and its portable kernels (see int8_gemm.h); the AVX2 kernels are in
// int8_gemm_avx2.cpp, picked at run time.
#include "int8_gemm.h"

#include "kernel_util.h"

#include "common/assert.h"

#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace ew::rt::cpu {

void qMicroKernelAvx2(int64_t kp, const int16_t* a, int h, const int16_t* b, int32_t* c);
void qStoreRowAvx2(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, void* out, int64_t at);
void qInterleaveRowsAvx2(const int16_t* r0, const int16_t* r1, int64_t panels, int64_t panelStride, int16_t* out);
void qInterleaveRows8Avx2(const void* r0, const void* r1, bool isUnsigned, int32_t zp, int64_t n, int64_t panelStride,
                          int16_t* out);
void qInterleaveRows8x4Avx2(const uint8_t* const rows[4], int64_t n, int64_t panelStride, uint8_t* out);
int64_t qCopyStride2U8Avx2(const uint8_t* src, int64_t n, uint8_t* dst, const uint8_t* end);
void qMicroStoreRunAvx2(int route, int64_t kp, const int16_t* a, int h, const int16_t* b, const QEpilogue& e,
                        int64_t ch0, const QTileRun& run, void* out, int64_t ldr);
void qMicroStoreRunVnni(int route, int64_t kp, const int16_t* a, int h, const int16_t* b, const QEpilogue& e,
                        int64_t ch0, const QTileRun& run, void* out, int64_t ldr);
void qCopyStride2Avx2(const int16_t* src, int64_t n, int16_t* dst);
void qPadPlane8Avx2(const void* src, int64_t avail, bool isUnsigned, int32_t zp, int64_t H, int64_t W, int64_t pt,
                    int64_t pl, int64_t Hp, int64_t Wp, int16_t* dst);
bool qDepthwisePlaneAvx2(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at);
bool qDepthwisePlaneU8Vnni(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at);
void qDwChannelsVnni(const QDwChannels& p, int64_t g0, int64_t g1, const QEpilogue& e, void* y, uint8_t* scratch);
void qQuadRowAvx2(const uint8_t* const rows[4], int64_t n, uint8_t* out);
int64_t qSplitPhases2Avx2(const uint32_t* row, int64_t n, uint32_t* even, uint32_t* odd);
void qPadPlaneU8Avx2(const uint8_t* src, int64_t avail, uint8_t fill, int64_t H, int64_t W, int64_t pt, int64_t pl,
                     int64_t Hp, int64_t Wp, uint8_t* dst);

namespace {

std::atomic<bool> g_forcePortable{false};
std::atomic<bool> g_forceNoVnni{false};

bool cpuHasAvx2() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = __builtin_cpu_supports("avx2");
    return has;
#else
    return false;
#endif
}

/// AVX-512 VNNI with the 256-bit (VL) and byte/word (BW) forms the tiles use; libgcc's check
/// includes the OS's support for the AVX-512 register state.
bool cpuHasVnni() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f");
    return has;
#else
    return false;
#endif
}

void microPortable(int64_t kp, const int16_t* a, int h, const int16_t* b, int32_t* c) {
    int32_t acc[kQRowTile][kQColTile] = {};
    for (int64_t q = 0; q < kp; ++q) {
        const int16_t* ap = a + q * h * 2;
        const int16_t* bp = b + q * 32;
        for (int r = 0; r < h; ++r) {
            const int32_t a0 = ap[r * 2], a1 = ap[r * 2 + 1];
            for (int j = 0; j < kQColTile; ++j) acc[r][j] += a0 * bp[j * 2] + a1 * bp[j * 2 + 1];
        }
    }
    for (int r = 0; r < h; ++r) std::memcpy(c + r * kQColTile, acc[r], sizeof(acc[r]));
}

template <typename T>
void storePortable(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, T* y) {
    for (int64_t i = 0; i < n; ++i) {
        const int64_t c = e.perColumn ? ch + i : ch;
        const int32_t v = acc[i] + (e.bias ? e.bias[c] : 0);
        if constexpr (std::is_same_v<T, int32_t>) {
            y[i] = v;
        } else {
            float f = std::nearbyint(static_cast<float>(v) * e.mult[c]) + e.zp;
            f = std::min(std::max(f, e.lo), e.hi);
            y[i] = static_cast<T>(static_cast<int32_t>(f));
        }
    }
}

void storeRowPortable(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
    switch (e.out) {
    case QEpilogue::Out::UInt8:
        return storePortable(acc, n, ch, e, static_cast<uint8_t*>(out) + at);
    case QEpilogue::Out::Int8:
        return storePortable(acc, n, ch, e, static_cast<int8_t*>(out) + at);
    case QEpilogue::Out::Int32:
        return storePortable(acc, n, ch, e, static_cast<int32_t*>(out) + at);
    }
}

/// A buffer that grows once, then is reused.
struct GrowBuffer {
    void* p = nullptr;
    std::size_t n = 0;
    ~GrowBuffer() { std::free(p); }
    int16_t* get(std::size_t elems) {
        if (n < elems) {
            std::free(p);
            p = std::aligned_alloc(64, (elems * sizeof(int16_t) + 63) / 64 * 64);
            n = elems;
        }
        return static_cast<int16_t*>(p);
    }
};

/// Per-thread buffer for the packed B block of one task.
int16_t* threadBuffer(std::size_t elems) {
    thread_local GrowBuffer buf;
    return buf.get(elems);
}

/// The calling thread's buffer for a whole packed B that all of a qgemm's tasks read.
int16_t* sharedBBuffer(std::size_t elems) {
    thread_local GrowBuffer buf;
    return buf.get(elems);
}

} // namespace

bool int8UsesAvx2() { return cpuHasAvx2() && !g_forcePortable.load(std::memory_order_relaxed); }
void int8ForcePortable(bool portable) { g_forcePortable.store(portable, std::memory_order_relaxed); }
bool int8UsesVnni() { return int8UsesAvx2() && cpuHasVnni() && !g_forceNoVnni.load(std::memory_order_relaxed); }
void int8ForceNoVnni(bool off) { g_forceNoVnni.store(off, std::memory_order_relaxed); }

void qMicroKernel(int64_t kp, const int16_t* a, int h, const int16_t* b, int32_t* c) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qMicroKernelAvx2(kp, a, h, b, c);
#endif
    microPortable(kp, a, h, b, c);
}

void qStoreRow(const int32_t* acc, int64_t n, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qStoreRowAvx2(acc, n, ch, e, out, at);
#endif
    storeRowPortable(acc, n, ch, e, out, at);
}

void qInterleaveRows8(const void* r0, const void* r1, bool isUnsigned, int32_t zp, int64_t n, int64_t panelStride,
                      int16_t* out) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qInterleaveRows8Avx2(r0, r1, isUnsigned, zp, n, panelStride, out);
#endif
    auto at = [&](const void* r, int64_t i) -> int16_t {
        if (!r || i >= n) return 0;
        const int32_t v = isUnsigned ? static_cast<const uint8_t*>(r)[i] : static_cast<const int8_t*>(r)[i];
        return static_cast<int16_t>(v - zp);
    };
    const int64_t panels = (n + kQColTile - 1) / kQColTile;
    for (int64_t i = 0; i < panels; ++i)
        for (int j = 0; j < kQColTile; ++j) {
            out[i * panelStride + j * 2] = at(r0, i * kQColTile + j);
            out[i * panelStride + j * 2 + 1] = at(r1, i * kQColTile + j);
        }
}

void qInterleaveRows(const int16_t* r0, const int16_t* r1, int64_t panels, int64_t panelStride, int16_t* out) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qInterleaveRowsAvx2(r0, r1, panels, panelStride, out);
#endif
    for (int64_t i = 0; i < panels; ++i)
        for (int j = 0; j < kQColTile; ++j) {
            out[i * panelStride + j * 2] = r0[i * kQColTile + j];
            out[i * panelStride + j * 2 + 1] = r1 ? r1[i * kQColTile + j] : int16_t(0);
        }
}

void qPadPlane8(const void* src, int64_t avail, bool isUnsigned, int32_t zp, int64_t H, int64_t W, int64_t pt,
                int64_t pl, int64_t Hp, int64_t Wp, int16_t* dst) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qPadPlane8Avx2(src, avail, isUnsigned, zp, H, W, pt, pl, Hp, Wp, dst);
#endif
    std::fill(dst, dst + Hp * Wp, int16_t(0));
    const auto* u = static_cast<const uint8_t*>(src);
    const auto* s8 = static_cast<const int8_t*>(src);
    for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
            dst[(pt + h) * Wp + pl + w] =
                static_cast<int16_t>((isUnsigned ? int32_t(u[h * W + w]) : int32_t(s8[h * W + w])) - zp);
}

void qCopyStride2U8(const uint8_t* src, int64_t n, uint8_t* dst, const uint8_t* end) {
    int64_t i = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) i = qCopyStride2U8Avx2(src, n, dst, end);
#else
    (void)end;
#endif
    for (; i < n; ++i) dst[i] = src[2 * i];
}

void qInterleaveRows8x4(const uint8_t* const rows[4], int64_t n, int64_t panelStride, uint8_t* out) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qInterleaveRows8x4Avx2(rows, n, panelStride, out);
#endif
    for (int64_t j0 = 0; j0 < n; j0 += kQColTile)
        for (int j = 0; j < kQColTile; ++j)
            for (int t = 0; t < 4; ++t)
                out[j0 / kQColTile * panelStride + j * 4 + t] = rows[t] && j0 + j < n ? rows[t][j0 + j] : uint8_t(0);
}

namespace {
std::atomic<int64_t> g_u8s8Calls{0}, g_dwU8Planes{0}, g_dwChannelGroups{0}, g_sharedPacks{0}, g_splitCalls{0},
    g_quadPlaneCalls{0}, g_vnniCalls{0};
std::atomic<bool> g_dwChannelsOff{false};
}

int64_t qgemmU8S8Calls() { return g_u8s8Calls.load(); }
int64_t qgemmSharedPacks() { return g_sharedPacks.load(); }
int64_t qgemmSplitCalls() { return g_splitCalls.load(); }
int64_t qgemmQuadPlaneCalls() { return g_quadPlaneCalls.load(); }
int64_t qgemmVnniCalls() { return g_vnniCalls.load(); }
void qDwChannelsForceOff(bool off) { g_dwChannelsOff.store(off); }
bool qDwChannelsEnabled() { return !g_dwChannelsOff.load(std::memory_order_relaxed); }
int64_t qDepthwiseChannelGroups() { return g_dwChannelGroups.load(); }
void qCountDepthwiseChannelGroups(int64_t groups) {
    if (groups) g_dwChannelGroups.fetch_add(groups, std::memory_order_relaxed);
}

std::vector<int16_t> qDwChannelWeights(const int16_t* w, int64_t C, int64_t taps) {
    const int64_t groups = (C + 15) / 16, pairs = (taps + 1) / 2;
    std::vector<int16_t> out(static_cast<std::size_t>(groups * pairs * 32), 0);
    for (int64_t g = 0; g < groups; ++g)
        for (int64_t t = 0; t < pairs; ++t) {
            int16_t* dst = out.data() + (g * pairs + t) * 32;
            // vpunpcklwd / vpunpckhwd of two 16-channel vectors work within 128-bit lanes: the
            // low operand pairs channels 0-3 (lane 0) and 8-11 (lane 1), the high one 4-7, 12-15.
            for (int half = 0; half < 2; ++half)
                for (int k = 0; k < 16; ++k) {
                    const int64_t c = g * 16 + (k / 8) * 8 + half * 4 + (k % 8) / 2, tap = 2 * t + k % 2;
                    dst[half * 16 + k] = c < C && tap < taps ? w[c * taps + tap] : int16_t(0);
                }
        }
    return out;
}

int64_t qDepthwiseU8Planes() { return g_dwU8Planes.load(); }
void qCountDepthwiseU8(int64_t planes) {
    if (planes) g_dwU8Planes.fetch_add(planes, std::memory_order_relaxed);
}

void qPadPlaneU8(const uint8_t* src, int64_t avail, uint8_t fill, int64_t H, int64_t W, int64_t pt, int64_t pl,
                 int64_t Hp, int64_t Wp, uint8_t* dst) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qPadPlaneU8Avx2(src, avail, fill, H, W, pt, pl, Hp, Wp, dst);
#endif
    (void)avail;
    std::memset(dst, fill, static_cast<std::size_t>(Hp * Wp));
    for (int64_t h = 0; h < H; ++h) std::memcpy(dst + (pt + h) * Wp + pl, src + h * W, static_cast<std::size_t>(W));
}

std::vector<int32_t> qPairUnits(const std::vector<int8_t>& w, int64_t units, int64_t m, int64_t len) {
    // Per unit, its entries past 64 in magnitude (a saturating pair holds at least one) and
    // their excess, the unit's weight in the order.
    const int64_t n = m * len;
    // Unit u's big entries: bigAt[bigStart[u] .. bigStart[u + 1]).
    std::vector<int64_t> heavy(static_cast<std::size_t>(units), 0), bigStart(static_cast<std::size_t>(units) + 1, 0);
    for (int64_t u = 0; u < units; ++u) {
        const int8_t* wu = w.data() + u * n;
        int64_t h = 0, count = 0;
        for (int64_t e = 0; e < n; ++e) {
            const int v = std::abs(int(wu[e])) - 64;
            h += v > 0 ? v : 0;
            count += v > 0;
        }
        heavy[std::size_t(u)] = h;
        bigStart[std::size_t(u) + 1] = bigStart[std::size_t(u)] + count;
    }
    std::vector<int32_t> bigAt(static_cast<std::size_t>(bigStart.back()));
    for (int64_t u = 0; u < units; ++u) {
        const int8_t* wu = w.data() + u * n;
        int32_t* out = bigAt.data() + bigStart[std::size_t(u)];
        for (int64_t e = 0; e < n; ++e)
            if (std::abs(int(wu[e])) > 64) *out++ = static_cast<int32_t>(e);
    }
    struct Span {
        const int32_t *b, *e;
        const int32_t* begin() const { return b; }
        const int32_t* end() const { return e; }
    };
    auto big = [&](int64_t u) { return Span{bigAt.data() + bigStart[std::size_t(u)], bigAt.data() + bigStart[std::size_t(u) + 1]}; };
    std::vector<int32_t> byWeight(static_cast<std::size_t>(units));
    for (int64_t u = 0; u < units; ++u) byWeight[std::size_t(u)] = static_cast<int32_t>(u);
    std::stable_sort(byWeight.begin(), byWeight.end(),
                     [&](int32_t a, int32_t b) { return heavy[std::size_t(a)] > heavy[std::size_t(b)]; });
    // A pair saturates iff |a + b| > 128 (same signs add up; opposite ones cannot pass 128),
    // which needs |a| or |b| > 64. Counted without branches until the count reaches `bound`
    // (no better than the best so far).
    auto cost = [&](int64_t a, int64_t b, int64_t bound) {
        const int8_t* wa = w.data() + a * n;
        const int8_t* wb = w.data() + b * n;
        int64_t c = 0;
        for (int32_t e : big(a))
            if ((c += std::abs(int(wa[e]) + int(wb[e])) > 128) >= bound) return c;
        for (int32_t e : big(b))
            if ((c += (std::abs(int(wa[e])) <= 64) & (std::abs(int(wa[e]) + int(wb[e])) > 128)) >= bound) return c;
        return c;
    };
    // Candidates per unit: the lightest unpaired ones (a light unit rarely saturates anything).
    constexpr int kCandidates = 48;
    std::vector<char> used(static_cast<std::size_t>(units), 0);
    std::vector<int32_t> order;
    order.reserve(static_cast<std::size_t>(units));
    int64_t light = units - 1; // byWeight[light] is the lightest unit that may be unpaired
    for (int64_t i = 0; i < units; ++i) {
        const int32_t a = byWeight[std::size_t(i)];
        if (used[std::size_t(a)]) continue;
        used[std::size_t(a)] = 1;
        order.push_back(a);
        while (light >= 0 && used[std::size_t(byWeight[std::size_t(light)])]) --light;
        if (light < 0) break; // a was the last one
        int32_t best = -1;
        int64_t bestCost = std::numeric_limits<int64_t>::max();
        int tried = 0;
        for (int64_t j = light; j >= 0 && tried < kCandidates; --j) {
            const int32_t b = byWeight[std::size_t(j)];
            if (used[std::size_t(b)]) continue;
            ++tried;
            const int64_t c = heavy[std::size_t(a)] == 0 ? 0 : cost(a, b, bestCost);
            if (c < bestCost) {
                bestCost = c;
                best = b;
                if (c == 0) break;
            }
        }
        used[std::size_t(best)] = 1;
        order.push_back(best);
    }
    return order;
}

void qQuadPlanes(const QQuadPlanes& p, int64_t c40, int64_t c41, uint8_t* out) {
    const int64_t plane = p.Hv * p.Wv * 4, rowQuads = p.Wv * p.sw;
    const uint32_t fill4 = 0x01010101u * p.fill;
    thread_local std::vector<uint32_t> row; // grows once per thread
    if (row.size() < static_cast<std::size_t>(rowQuads)) row.resize(static_cast<std::size_t>(rowQuads));
    for (int64_t c4 = c40; c4 < c41; ++c4)
        for (int64_t i = 0; i < p.sh; ++i)
            for (int64_t r = 0; r < p.Hv; ++r) {
                // Padded row r * sh + i as quads of pixels (all phases' columns), then split by column phase.
                const int64_t h = r * p.sh + i - p.pt;
                std::fill(row.begin(), row.begin() + rowQuads, fill4);
                if (h >= 0 && h < p.H) {
                    const uint8_t* rows[4];
                    for (int t = 0; t < 4; ++t)
                        rows[t] = p.x + ((p.chanOrder ? p.chanOrder[4 * c4 + t] : 4 * c4 + t) * p.H + h) * p.W;
                    const int64_t w0 = std::max<int64_t>(0, -p.pl), w1 = std::min(p.W, rowQuads - p.pl);
                    if (w1 > w0) {
                        const uint8_t* shifted[4] = {rows[0] + w0, rows[1] + w0, rows[2] + w0, rows[3] + w0};
                        uint8_t* d = reinterpret_cast<uint8_t*>(row.data() + p.pl + w0);
                        int64_t done = 0;
#if defined(__x86_64__) || defined(__i386__)
                        if (int8UsesAvx2()) {
                            done = (w1 - w0) / 16 * 16;
                            qQuadRowAvx2(shifted, done, d);
                        }
#endif
                        for (int64_t w = done; w < w1 - w0; ++w)
                            for (int t = 0; t < 4; ++t) d[w * 4 + t] = shifted[t][w];
                    }
                }
                auto phase = [&](int64_t j) {
                    return reinterpret_cast<uint32_t*>(out + ((c4 * p.sh + i) * p.sw + j) * plane) + r * p.Wv;
                };
                int64_t s0 = 0;
#if defined(__x86_64__) || defined(__i386__)
                if (p.sw == 2 && int8UsesAvx2()) s0 = qSplitPhases2Avx2(row.data(), p.Wv, phase(0), phase(1));
#endif
                for (int64_t j = 0; j < p.sw; ++j) {
                    uint32_t* dst = phase(j);
                    if (p.sw == 1) std::memcpy(dst, row.data(), static_cast<std::size_t>(p.Wv) * 4);
                    else
                        for (int64_t s = s0; s < p.Wv; ++s) dst[s] = row[std::size_t(s * p.sw + j)];
                }
            }
}

void qCopyStrided(const int16_t* src, int64_t n, int64_t stride, int16_t* dst) {
#if defined(__x86_64__) || defined(__i386__)
    if (stride == 2 && int8UsesAvx2()) return qCopyStride2Avx2(src, n, dst);
#endif
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
}

std::vector<QDwStep> qDwPlan(int64_t OH, int64_t OW, int64_t Wp, int64_t sh, int64_t sw) {
    std::vector<QDwStep> rows, flat;
    for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ow += 16) {
            QDwStep s;
            s.src = static_cast<int32_t>(oh * sh * Wp + ow * sw);
            s.dst = static_cast<int32_t>(oh * OW + ow);
            s.n = static_cast<int32_t>(std::min<int64_t>(16, OW - ow));
            for (int i = 0; i < 16; ++i) s.mask[i] = i < s.n ? static_cast<uint8_t>(i) : uint8_t(0x80);
            rows.push_back(s);
        }
    if (sh != 1 || sw != 1 || OW >= Wp) return rows;
    // Stride 1: output (oh, ow) reads from oh * Wp + ow, so 16 consecutive lanes of the flat
    // line f = oh * Wp + ow cover the end of one row and the start of the next; lanes with
    // f % Wp >= OW are the columns in between.
    const int64_t end = (OH - 1) * Wp + OW;
    for (int64_t f0 = 0; f0 < end; f0 += 16) {
        QDwStep s;
        s.src = static_cast<int32_t>(f0);
        for (int l = 0; l < 16 && f0 + l < end; ++l) {
            const int64_t f = f0 + l;
            if (f % Wp >= OW) continue;
            if (s.n == 0) s.dst = static_cast<int32_t>(f / Wp * OW + f % Wp);
            s.mask[s.n++] = static_cast<uint8_t>(l);
        }
        for (int i = s.n; i < 16; ++i) s.mask[i] = 0x80;
        if (s.n > 0) flat.push_back(s);
        if (flat.size() >= rows.size()) return rows;
    }
    return flat;
}

#if defined(__x86_64__) || defined(__i386__)
void qDwChannels(const QDwChannels& p, int64_t g0, int64_t g1, const QEpilogue& e, void* y, uint8_t* scratch) {
    if (int8UsesVnni()) qDwChannelsVnni(p, g0, g1, e, y, scratch);
    else qDwChannelsAvx2(p, g0, g1, e, y, scratch);
}
#endif

void qDepthwisePlane(const QDwPlane& p, int64_t ch, const QEpilogue& e, void* out, int64_t at) {
#if defined(__x86_64__) || defined(__i386__)
    if (p.x8 && int8UsesVnni() && qDepthwisePlaneU8Vnni(p, ch, e, out, at)) return;
    if (int8UsesAvx2() && qDepthwisePlaneAvx2(p, ch, e, out, at)) return;
#endif
    constexpr int64_t kChunk = 256;
    int32_t acc[kChunk];
    for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow0 = 0; ow0 < p.OW; ow0 += kChunk) {
            const int64_t n = std::min(kChunk, p.OW - ow0);
            std::fill(acc, acc + n, 0);
            for (int64_t i = 0; i < p.KH; ++i) {
                const int16_t* row = p.x + (oh * p.sh + i * p.dh) * p.Wp + ow0 * p.sw;
                for (int64_t j = 0; j < p.KW; ++j) {
                    const int32_t w = p.w[i * p.KW + j];
                    const int16_t* s = row + j * p.dw;
                    for (int64_t t = 0; t < n; ++t) acc[t] += static_cast<int32_t>(s[t * p.sw]) * w;
                }
            }
            storeRowPortable(acc, n, ch, e, out, at + oh * p.OW + ow0);
        }
}

void qSetIntRound(QEpilogue& e, double maxAbsAcc, int64_t channels) {
    e.intRound = false;
    e.narrowed = false;
    if (e.out == QEpilogue::Out::Int32 || !e.mult) return;
    const bool u8 = e.out == QEpilogue::Out::UInt8;
    e.narrowed = e.lo > (u8 ? 0.f : -128.f) || e.hi < (u8 ? 255.f : 127.f);
    double m = 0;
    for (int64_t c = 0; c < channels; ++c) {
        const float v = e.mult[c];
        if (!std::isfinite(v)) return;
        m = std::max(m, static_cast<double>(std::abs(v)));
    }
    // The zero point, the clamp bounds and the product all stay far from int32's edges.
    e.intRound = maxAbsAcc * m < 1073741824.0 && std::abs(e.zp) < 65536.f && e.lo == std::nearbyint(e.lo) &&
                 e.hi == std::nearbyint(e.hi);
}

void qgemm(const QGemmArgs& g, ThreadPool& pool) {
    // Depth steps: int16 pairs, or uint8 x int8 quads on the u8 x s8 route; both are 64 bytes of
    // a B panel and 4 bytes of an A row per step, so the addressing below serves both.
    const int64_t kp = g.u8s8 ? qDepthQuads(g.k) : qDepthPairs(g.k);
    if (g.u8s8) g_u8s8Calls.fetch_add(1, std::memory_order_relaxed);
    // The tiles with the fused store: AVX-512 VNNI's where the CPU has it, else AVX2's.
    const bool vnni = int8UsesVnni();
    if (vnni) g_vnniCalls.fetch_add(1, std::memory_order_relaxed);
    [[maybe_unused]] auto* const storeRun = vnni ? qMicroStoreRunVnni : qMicroStoreRunAvx2;
    const QRowRemainders* rem = g.u8s8 && !g.aUnsigned && g.rem && !g.rem->quad.empty() ? g.rem : nullptr;
    if (rem) g_splitCalls.fetch_add(1, std::memory_order_relaxed);
    const int route = !g.u8s8 ? 0 : g.aUnsigned ? 2 : 1;
    // The quad-plane route reads B in place: AVX2's u8 x s8 tiles only, 8-bit outputs.
    const bool implicit = g.implicitB != nullptr;
    EW_ASSERT(!implicit || (route == 1 && int8UsesAvx2() && g.epi.out != QEpilogue::Out::Int32 && !g.epi.perColumn));
    if (implicit) g_quadPlaneCalls.fetch_add(1, std::memory_order_relaxed);
    const int64_t groupValid = g.out.groupValid > 0 ? g.out.groupValid : g.out.groupCols;
    const int64_t rowPanels = (g.m + kQRowTile - 1) / kQRowTile;
    const int64_t colPanels = (g.n + kQColTile - 1) / kQColTile;
    if (rowPanels == 0 || colPanels == 0) return;
    // Columns per task: the packed B block (kp * 64 bytes per panel) stays within about 192 KB
    // so it is read from L2 by every row panel of the task.
    const int64_t panelBytes = kp * 64;
    const int64_t blockPanels = std::clamp<int64_t>(196608 / std::max<int64_t>(panelBytes, 1), 1, kQMaxBlockCols / kQColTile);
    const int64_t colBlocks = (colPanels + blockPanels - 1) / blockPanels;
    // Few column blocks (deep layers on small maps, MatMul with a few rows): split the rows too,
    // for other threads to share the work (each row group packs its block of B again: with one
    // thread, splitting would only repeat that).
    const int64_t want = pool.threads() > 1 ? 4 * static_cast<int64_t>(pool.threads()) : 1;
    const int64_t rowGroups = std::clamp<int64_t>((want + colBlocks - 1) / colBlocks, 1, rowPanels);
    const int64_t panelsPerGroup = (rowPanels + rowGroups - 1) / rowGroups;
    const bool perCol = g.epi.perColumn;
#if defined(__x86_64__) || defined(__i386__)
    const bool avx2 = int8UsesAvx2();
    auto micro = avx2 ? qMicroKernelAvx2 : microPortable;
    auto store = avx2 ? qStoreRowAvx2 : storeRowPortable;
#else
    auto micro = microPortable;
    auto store = storeRowPortable;
#endif

    ThreadPool::InlineScope serial(g.m * g.n * g.k < kMinParallelMacs);
    // With several row groups, every group of a column block would pack that block again (a deep
    // layer on a 7x7 map at 2 threads: one column block, 8 row groups, 8 im2col packs): B is
    // packed once instead, its panels shared out among the threads, into one buffer the tasks
    // then read. Panel by panel the same bytes as the per-task packing.
    const int16_t* sharedB = nullptr;
    if (g.packB && !implicit && rowGroups > 1) {
        g_sharedPacks.fetch_add(1, std::memory_order_relaxed);
        int16_t* buf = sharedBBuffer(static_cast<std::size_t>(colPanels * kp * 32));
        const int64_t unit = std::min<int64_t>(blockPanels, 2);
        pool.parallelFor(0, (colPanels + unit - 1) / unit, 1, [&](int64_t ub, int64_t ue) {
            for (int64_t u = ub; u < ue; ++u) {
                const int64_t p0 = u * unit, p1 = std::min(colPanels, p0 + unit);
                const int64_t n0 = p0 * kQColTile, n1 = std::min(g.n, p1 * kQColTile);
                g.packB(g.packCtx, n0, n1 - n0, buf + p0 * kp * 32);
            }
        });
        sharedB = buf;
    }
    pool.parallelFor(0, colBlocks * rowGroups, 1, [&](int64_t tb, int64_t te) {
        alignas(64) int32_t tile[kQRowTile * kQColTile];
        for (int64_t t = tb; t < te; ++t) {
            const int64_t cb = t / rowGroups, rg = t % rowGroups;
            const int64_t p0 = cb * blockPanels, p1 = std::min(colPanels, p0 + blockPanels);
            const int64_t n0 = p0 * kQColTile, n1 = std::min(g.n, p1 * kQColTile);
            const int16_t* bBlock;
            if (implicit) {
                bBlock = reinterpret_cast<const int16_t*>(g.implicitB + p0 * kQColTile * 4);
            } else if (sharedB) {
                bBlock = sharedB + p0 * kp * 32;
            } else if (g.packB) {
                int16_t* buf = threadBuffer(static_cast<std::size_t>((p1 - p0) * kp * 32));
                g.packB(g.packCtx, n0, n1 - n0, buf);
                bBlock = buf;
            } else {
                bBlock = g.packedB + p0 * kp * 32;
            }
            // Each panel's columns split where they cross from one image into the next: worked
            // out once per panel, not per row (the divisions cost as much as a shallow tile).
            struct Segments {
                int count = 0;
                int first[kQColTile];
                int64_t len[kQColTile], col[kQColTile], at[kQColTile];
            } segs[8];
            for (int64_t p = p0; p < p1; ++p) {
                Segments& sg = segs[p - p0];
                sg.count = 0;
                const int64_t j0 = p * kQColTile, j1 = std::min(g.n, j0 + kQColTile);
                for (int64_t j = j0; j < j1;) {
                    const int64_t grp = j / g.out.groupCols, inG = j % g.out.groupCols;
                    if (inG >= groupValid) { // not an output: on to the next group
                        j += g.out.groupCols - inG;
                        continue;
                    }
                    const int64_t len = std::min(j1 - j, groupValid - inG);
                    sg.first[sg.count] = static_cast<int>(j - j0);
                    sg.len[sg.count] = len;
                    sg.col[sg.count] = j;
                    sg.at[sg.count] = grp * g.out.groupStride + inG;
                    ++sg.count;
                    j += len;
                }
            }
            // The panels whose columns are one run in one image (the usual case) are requantized
            // straight from registers, several tiles per call. Per-column epilogues read 16
            // entries of bias/mult: only for whole panels (or on the u8 x s8 route, whose callers
            // pad those arrays to whole panels).
            bool fused[kQMaxBlockCols / kQColTile];
            for (int64_t p = p0; p < p1; ++p) {
                const Segments& sg = segs[p - p0];
                fused[p - p0] = avx2 && sg.count == 1 && (!perCol || sg.len[0] == kQColTile || g.u8s8);
                if (implicit) EW_ASSERT(sg.count <= QTileRun::kMaxSegs);
            }
            const int64_t rp0 = rg * panelsPerGroup, rp1 = std::min(rowPanels, rp0 + panelsPerGroup);
            for (int64_t rp = rp0; rp < rp1; ++rp) {
                const int64_t r0 = rp * kQRowTile;
                const int h = static_cast<int>(std::min<int64_t>(kQRowTile, g.m - r0));
                const int16_t* ap = g.a + r0 * kp * 2;
                // A run of tiles of this row panel: its rows' remainders, the implicit B's offsets.
                auto panelRun = [&] {
                    QTileRun run;
                    if (rem) {
                        run.remStart = rem->start.data() + r0;
                        run.remQuad = rem->quad.data();
                        run.remVal = rem->val.data();
                    }
                    run.bOff = g.bOff;
                    return run;
                };
#if defined(__x86_64__) || defined(__i386__)
                if (implicit) {
                    // Every panel of the block in one run, its valid columns in up to kMaxSegs runs.
                    QTileRun run = panelRun();
                    int64_t first = -1;
                    auto flush = [&] {
                        if (run.count)
                            storeRun(route, kp, ap, h, bBlock + (first - p0) * kQColTile * 2, g.epi, g.chBase + r0,
                                     run, g.out.y, g.out.ldr);
                        run.count = 0;
                        first = -1;
                    };
                    for (int64_t p = p0; p < p1; ++p) {
                        const Segments& s = segs[p - p0];
                        if (s.count == 0) { // no output in this panel: the run stops before it
                            flush();
                            continue;
                        }
                        if (first < 0) first = p;
                        const int i = run.count++;
                        run.at[i] = s.at[0] + r0 * g.out.ldr;
                        run.col[i] = g.chBase + s.col[0];
                        run.n[i] = static_cast<int>(s.first[s.count - 1] + s.len[s.count - 1]);
                        // One run from lane 0: the plain store; else lane runs, run k at at[i] + segOff[i][k].
                        run.nseg[i] = s.count == 1 && s.first[0] == 0 ? 0 : s.count;
                        for (int k = 0; k < s.count && run.nseg[i]; ++k) {
                            run.segFirst[i][k] = static_cast<int8_t>(s.first[k]);
                            run.segLen[i][k] = static_cast<int8_t>(s.len[k]);
                            run.segOff[i][k] = s.at[k] - s.at[0];
                        }
                    }
                    flush();
                    continue;
                }
#endif
                for (int64_t p = p0; p < p1; ++p) {
                    const Segments& sg = segs[p - p0];
#if defined(__x86_64__) || defined(__i386__)
                    if (fused[p - p0]) {
                        QTileRun run = panelRun();
                        const int64_t first = p;
                        for (; p < p1 && fused[p - p0]; ++p) {
                            const Segments& s = segs[p - p0];
                            run.n[run.count] = static_cast<int>(s.len[0]);
                            run.col[run.count] = g.chBase + s.col[0];
                            run.at[run.count] = s.at[0] + r0 * g.out.ldr;
                            ++run.count;
                        }
                        storeRun(route, kp, ap, h, bBlock + (first - p0) * kp * 32, g.epi, g.chBase + r0, run,
                                 g.out.y, g.out.ldr);
                        --p; // the loop's ++p moves to the first panel not in the run
                        continue;
                    }
#endif
                    micro(kp, ap, h, bBlock + (p - p0) * kp * 32, tile);
                    for (int r = 0; r < h; ++r) {
                        const int64_t row = r0 + r;
                        for (int s = 0; s < sg.count; ++s)
                            store(tile + r * kQColTile + sg.first[s], sg.len[s],
                                  perCol ? g.chBase + sg.col[s] : g.chBase + row, g.epi, g.out.y,
                                  sg.at[s] + row * g.out.ldr);
                    }
                }
            }
        }
    });
}

} // namespace ew::rt::cpu
