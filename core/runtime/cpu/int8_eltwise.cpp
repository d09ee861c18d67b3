// ai.edgewise.QAdd and ai.edgewise.QMaxPool (below). QAdd: the QDQ residual Add (DequantizeLinear(a), DequantizeLinear(b) -> Add
// [-> Relu | Clip] -> QuantizeLinear), written by fuseQdq, on the 8-bit tensors directly. The
// arithmetic is the float pattern's own (int8_eltwise.h), so the output equals the float QDQ run
// exactly; the gain is that no float tensor is written or read between the quantized ops.
#include "int8_eltwise.h"

#include "int8_gemm.h"
#include "int8_kernels.h"

#include "kernel_util.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ew::rt {
namespace cpu {

void qAddAvx2(const QAddArgs& p, const void* a, const void* b, void* y, int64_t n);

namespace {

template <typename A, typename B, typename Y>
void addPortable(const QAddArgs& p, const A* a, const B* b, Y* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float fa = static_cast<float>(static_cast<int32_t>(a[i]) - p.za) * p.sa;
        const float fb = static_cast<float>(static_cast<int32_t>(b[i]) - p.zb) * p.sb;
        float v = std::nearbyint((fa + fb) / p.ys) + p.zy;
        v = std::min(std::max(v, p.lo), p.hi);
        y[i] = static_cast<Y>(static_cast<int32_t>(v));
    }
}

template <typename A, typename B>
void addPortableY(const QAddArgs& p, const A* a, const B* b, void* y, int64_t n) {
    if (p.ySigned) addPortable(p, a, b, static_cast<int8_t*>(y), n);
    else addPortable(p, a, b, static_cast<uint8_t*>(y), n);
}

template <typename A>
void addPortableB(const QAddArgs& p, const A* a, const void* b, void* y, int64_t n) {
    if (p.bSigned) addPortableY(p, a, static_cast<const int8_t*>(b), y, n);
    else addPortableY(p, a, static_cast<const uint8_t*>(b), y, n);
}

} // namespace

void qAdd(const QAddArgs& p, const void* a, const void* b, void* y, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (int8UsesAvx2()) return qAddAvx2(p, a, b, y, n);
#endif
    if (p.aSigned) addPortableB(p, static_cast<const int8_t*>(a), b, y, n);
    else addPortableB(p, static_cast<const uint8_t*>(a), b, y, n);
}

namespace {

/// Inputs: a_q, a_scale, a_zp, b_q, b_scale, b_zp, y_scale, y_zp (scalar scales and zero
/// points; zero points may be absent); `activation` Relu or Clip with activation_params.
class QAddKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        const std::string act = n.attrString("activation", "");
        const std::vector<float> prm = n.attrFloats("activation_params");
        m_actLo = -std::numeric_limits<float>::infinity();
        m_actHi = std::numeric_limits<float>::infinity();
        if (act == "Relu") {
            m_actLo = 0.f;
        } else if (act == "Clip") {
            if (prm.size() != 2) return ctx.error(StatusCode::InvalidInput, "Clip needs activation_params [min, max]");
            m_actLo = prm[0];
            m_actHi = prm[1];
        } else if (!act.empty()) {
            return ctx.error(StatusCode::Unsupported, "activation '" + act + "' is not supported");
        }
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& a = ctx.input(0);
        const Tensor& b = ctx.input(3);
        if (!isInt8Like(a.dtype()) || !isInt8Like(b.dtype()))
            return ctx.error(StatusCode::Unsupported, "a and b must be int8 or uint8");
        if (a.dims() != b.dims()) return ctx.error(StatusCode::InvalidInput, "a and b must have the same shape");
        for (std::size_t i : {1u, 4u, 6u})
            if (ctx.input(i).numElements() != 1) return ctx.error(StatusCode::InvalidInput, "scales must be scalars");
        const std::size_t zps[3] = {2, 5, 7};
        const DataType types[3] = {a.dtype(), b.dtype(), DataType::UInt8};
        for (int k = 0; k < 3; ++k)
            if (ctx.hasInput(zps[k]) && (ctx.input(zps[k]).numElements() != 1 || (k < 2 && ctx.input(zps[k]).dtype() != types[k])))
                return ctx.error(StatusCode::InvalidInput, "zero points must be scalars of their tensor's type");
        m_outType = ctx.hasInput(7) ? ctx.input(7).dtype() : DataType::UInt8;
        if (!isInt8Like(m_outType)) return ctx.error(StatusCode::Unsupported, "output type is not supported");
        ctx.setOutput(0, m_outType, a.dims());
        return {};
    }

    void run(RunContext& ctx) override {
        QAddArgs p;
        auto zp = [&](std::size_t i) { return ctx.hasInput(i) ? static_cast<int32_t>(intAt(ctx.input(i), 0)) : 0; };
        p.sa = floatAt(ctx.input(1), 0);
        p.sb = floatAt(ctx.input(4), 0);
        p.ys = floatAt(ctx.input(6), 0);
        p.za = zp(2);
        p.zb = zp(5);
        p.zy = static_cast<float>(zp(7));
        p.aSigned = ctx.input(0).dtype() == DataType::Int8;
        p.bSigned = ctx.input(3).dtype() == DataType::Int8;
        p.ySigned = m_outType == DataType::Int8;
        p.lo = p.ySigned ? -128.f : 0.f;
        p.hi = p.ySigned ? 127.f : 255.f;
        // Quantization is monotonic: Q(clamp(s, lo, hi)) = clamp(Q(s), Q(lo), Q(hi)).
        auto q = [&](float v) { return std::nearbyint(v / p.ys) + p.zy; };
        if (std::isfinite(m_actLo)) p.lo = std::max(p.lo, q(m_actLo));
        if (std::isfinite(m_actHi)) p.hi = std::min(p.hi, q(m_actHi));
        if (p.hi < p.lo) p.hi = p.lo;
        const auto* a = static_cast<const std::byte*>(ctx.input(0).raw());
        const auto* b = static_cast<const std::byte*>(ctx.input(3).raw());
        auto* y = static_cast<std::byte*>(ctx.output(0).raw());
        const int64_t n = ctx.input(0).numElements();
        // Element-wise: the same bytes whatever the split.
        ctx.pool().parallelFor(0, n, 32768, [&](int64_t lo, int64_t hi) { qAdd(p, a + lo, b + lo, y + lo, hi - lo); });
    }

private:
    float m_actLo = 0.f, m_actHi = 0.f;
    DataType m_outType = DataType::UInt8;
};

/// ai.edgewise.QMaxPool: MaxPool (2-D, NCHW) on an 8-bit tensor, written by fuseQdq for
/// DequantizeLinear -> MaxPool -> QuantizeLinear with the same scale and zero point, where it is
/// exact (quantization is monotonic and Q(DQ(q)) = q). Every window must hold an input element
/// (pads at most the dilated kernel's extent - 1, no ceil_mode): the padded positions then never
/// decide a maximum and are filled with the type's minimum. Per output row: the maximum over the
/// window's rows, then over the window's columns at every start column (vector loops both), then
/// every sw-th of those.
class QMaxPoolKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        EW_TRY(readWindow(ctx.node(), 2, {}, m_window));
        if (m_window.ceilMode) return ctx.error(StatusCode::Unsupported, "ceil_mode is not supported");
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (!isInt8Like(x.dtype())) return ctx.error(StatusCode::Unsupported, "x must be int8 or uint8");
        if (x.rank() != 4) return ctx.error(StatusCode::Unsupported, "x must be [N, C, H, W]");
        m_wp = m_window;
        std::vector<int64_t> out;
        if (!windowOutput(m_wp, std::span<const int64_t>(x.dims()).subspan(2), out))
            return ctx.error(StatusCode::InvalidInput, "kernel larger than the padded input");
        for (int a = 0; a < 2; ++a) {
            const int64_t extent = (m_wp.kernel[a] - 1) * m_wp.dilations[a];
            if (m_wp.padBegin[a] > extent || m_wp.padEnd[a] > extent)
                return ctx.error(StatusCode::Unsupported, "a window would hold padding only");
        }
        m_N = x.dims()[0];
        m_C = x.dims()[1];
        m_H = x.dims()[2];
        m_W = x.dims()[3];
        m_OH = out[0];
        m_OW = out[1];
        // One padded row per thread task: W plus both pads plus what the last window reaches.
        m_rowLen = std::max(m_W + m_wp.padBegin[1], (m_OW - 1) * m_wp.strides[1] + (m_wp.kernel[1] - 1) * m_wp.dilations[1] + 1);
        ctx.setOutput(0, x.dtype(), {m_N, m_C, m_OH, m_OW});
        return {};
    }

    void run(RunContext& ctx) override {
        if (ctx.input(0).dtype() == DataType::UInt8) runTyped<uint8_t>(ctx);
        else runTyped<int8_t>(ctx);
    }

private:
    /// r[w] = max(r[w], src[w]): distinct buffers (restrict lets the compiler vectorize it).
    template <typename T>
    static void maxInto(T* __restrict r, const T* __restrict src, int64_t n) {
        for (int64_t w = 0; w < n; ++w) r[w] = r[w] < src[w] ? src[w] : r[w];
    }

    /// y[o] = max(row[o * SW], ..., row[o * SW + KW - 1]) for o < n.
    template <int KW, int SW, typename T>
    static void windowMax(const T* __restrict row, T* __restrict y, int64_t n) {
        for (int64_t o = 0; o < n; ++o) {
            T m = row[o * SW];
            for (int j = 1; j < KW; ++j) {
                const T v = row[o * SW + j];
                m = m < v ? v : m;
            }
            y[o] = m;
        }
    }

    template <typename T>
    void runTyped(RunContext& ctx) const {
        const T* x = ctx.input(0).data<T>();
        T* y = ctx.output(0).data<T>();
        const int64_t KH = m_wp.kernel[0], KW = m_wp.kernel[1], sh = m_wp.strides[0], sw = m_wp.strides[1];
        const int64_t dh = m_wp.dilations[0], dw = m_wp.dilations[1], pt = m_wp.padBegin[0], pl = m_wp.padBegin[1];
        constexpr T kMin = std::numeric_limits<T>::lowest();
        ctx.pool().parallelFor(0, m_N * m_C, 1, [&](int64_t b, int64_t e) {
            // Per-thread, grown once and then reused (no allocation per run).
            thread_local std::vector<T> row;
            const int64_t starts = (m_OW - 1) * sw + 1; // columns where windows start
            if (row.size() < static_cast<std::size_t>(m_rowLen + starts)) row.resize(static_cast<std::size_t>(m_rowLen + starts));
            std::fill(row.begin(), row.begin() + m_rowLen, kMin);
            for (int64_t pc = b; pc < e; ++pc) {
                const T* xp = x + pc * m_H * m_W;
                T* yp = y + pc * m_OH * m_OW;
                for (int64_t oh = 0; oh < m_OH; ++oh) {
                    T* r = row.data() + pl;
                    std::fill(r, r + m_W, kMin);
                    for (int64_t i = 0; i < KH; ++i) {
                        const int64_t h = oh * sh - pt + i * dh;
                        if (h < 0 || h >= m_H) continue;
                        maxInto(r, xp + h * m_W, m_W);
                    }
                    T* yr = yp + oh * m_OW;
                    // The window's columns: ResNet's 3x3 / 2 and 2x2 / 2 as one loop over the
                    // outputs (the compiler vectorizes the stride-2 reads); otherwise KW - 1
                    // vector passes over the row, then every sw-th.
                    if (dw == 1 && sw == 2 && KW == 3) {
                        windowMax<3, 2>(row.data(), yr, m_OW);
                        continue;
                    }
                    if (dw == 1 && sw == 2 && KW == 2) {
                        windowMax<2, 2>(row.data(), yr, m_OW);
                        continue;
                    }
                    T* hm = row.data() + m_rowLen;
                    std::copy(row.data(), row.data() + starts, hm);
                    for (int64_t j = 1; j < KW; ++j) maxInto(hm, row.data() + j * dw, starts);
                    for (int64_t ow = 0; ow < m_OW; ++ow) yr[ow] = hm[ow * sw];
                }
            }
        });
    }

    WindowParams m_window, m_wp;
    int64_t m_N = 0, m_C = 0, m_H = 0, m_W = 0, m_OH = 0, m_OW = 0, m_rowLen = 0;
};

} // namespace
} // namespace cpu

/// ai.edgewise.QAdd (see cpu/int8_eltwise.cpp).
std::unique_ptr<Kernel> makeQAdd() { return std::make_unique<cpu::QAddKernel>(); }
/// ai.edgewise.QMaxPool (see cpu/int8_eltwise.cpp).
std::unique_ptr<Kernel> makeQMaxPool() { return std::make_unique<cpu::QMaxPoolKernel>(); }

} // namespace ew::rt
