// Attention (opset 23/24) and RotaryEmbedding (opset 23).
//
// Attention, per (batch b, query head h, query row i), over the total key sequence T = P + S_kv
// (P = past length; present_key/value are past ++ current):
//   s_j = (Q_i . K_j) * scale                     scale defaults to 1/sqrt(head_size)
//   s_j = softcap * tanh(s_j / softcap)           when softcap > 0 (before the mask, so masked
//                                                 positions stay -inf)
//   s_j += bias_j                                 float mask added; bool mask false -> -inf; a mask
//                                                 shorter than T is padded with -inf; causal:
//                                                 -inf where j > i + offset (offset = P, or
//                                                 nonpad_kv_seqlen[b] - S_q without a past);
//                                                 nonpad_kv_seqlen: -inf where j >= nonpad[b]
//   p = softmax(s);  Y_i = sum_j p_j V_j
// GQA: query head h reads kv head h / (H_q / H_kv). 3-D inputs are [B, S, heads * size].
// qk_matmul_output follows the ONNX reference: modes 0 and 1 give the (softcapped) scores, 2 the
// scores with the bias, 3 the probabilities. Arithmetic is in double.
#include "nn_util.h"

#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

/// Element offsets of a [B, heads, S, size] tensor, stored 4-D or 3-D ([B, S, heads*size]).
struct HeadView {
    int64_t sB = 0, sH = 0, sS = 0;
    void make(bool threeD, int64_t heads, int64_t seq, int64_t size) {
        if (threeD) {
            sS = heads * size;
            sH = size;
            sB = seq * heads * size;
        } else {
            sS = size;
            sH = seq * size;
            sB = heads * seq * size;
        }
    }
    int64_t at(int64_t b, int64_t h, int64_t s) const { return b * sB + h * sH + s * sS; }
};

class AttentionKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        m_causal = n.attrInt("is_causal", 0) != 0;
        m_qHeadsAttr = n.attrInt("q_num_heads", 0);
        m_kvHeadsAttr = n.attrInt("kv_num_heads", 0);
        m_mode = n.attrInt("qk_matmul_output_mode", 0);
        m_hasScale = n.hasAttr("scale");
        m_scaleAttr = n.attrFloat("scale", 1.0f);
        m_softcap = n.attrFloat("softcap", 0.0f);
        if (m_mode < 0 || m_mode > 3)
            return ctx.error(StatusCode::InvalidInput, "qk_matmul_output_mode must be 0..3");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& q = ctx.input(0);
        const Tensor& k = ctx.input(1);
        const Tensor& v = ctx.input(2);
        if (q.rank() != k.rank() || q.rank() != v.rank() || (q.rank() != 3 && q.rank() != 4))
            return ctx.error(StatusCode::InvalidInput, "Q, K and V must all be 3-D or all 4-D");
        if (k.dtype() != q.dtype() || v.dtype() != q.dtype())
            return ctx.error(StatusCode::InvalidInput, "Q, K and V must have one type");
        m_3d = q.rank() == 3;
        m_B = q.dims()[0];
        if (k.dims()[0] != m_B || v.dims()[0] != m_B)
            return ctx.error(StatusCode::InvalidInput, "batch sizes differ");
        if (m_3d) {
            if (m_qHeadsAttr < 1 || m_kvHeadsAttr < 1)
                return ctx.error(StatusCode::InvalidInput,
                                 "3-D inputs need q_num_heads and kv_num_heads");
            m_Hq = m_qHeadsAttr;
            m_Hkv = m_kvHeadsAttr;
            m_Sq = q.dims()[1];
            m_Skv = k.dims()[1];
            if (q.dims()[2] % m_Hq || k.dims()[2] % m_Hkv || v.dims()[2] % m_Hkv)
                return ctx.error(StatusCode::InvalidInput,
                                 "hidden sizes not divisible by the head counts");
            m_D = q.dims()[2] / m_Hq;
            m_Dv = v.dims()[2] / m_Hkv;
            if (k.dims()[2] / m_Hkv != m_D || v.dims()[1] != m_Skv)
                return ctx.error(StatusCode::InvalidInput, "K/V shapes do not match Q");
        } else {
            m_Hq = q.dims()[1];
            m_Sq = q.dims()[2];
            m_D = q.dims()[3];
            m_Hkv = k.dims()[1];
            m_Skv = k.dims()[2];
            m_Dv = v.dims()[3];
            if (k.dims()[3] != m_D || v.dims()[1] != m_Hkv || v.dims()[2] != m_Skv)
                return ctx.error(StatusCode::InvalidInput, "K/V shapes do not match Q");
        }
        if (m_Hkv < 1 || m_Hq % m_Hkv != 0)
            return ctx.error(StatusCode::InvalidInput, "q heads " + std::to_string(m_Hq) +
                                                           " not a multiple of kv heads " +
                                                           std::to_string(m_Hkv));
        m_P = 0;
        const bool hasPast = ctx.hasInput(4);
        if (hasPast != ctx.hasInput(5))
            return ctx.error(StatusCode::InvalidInput, "past_key and past_value go together");
        if (hasPast) {
            const Tensor& pk = ctx.input(4);
            const Tensor& pv = ctx.input(5);
            if (pk.rank() != 4 || pv.rank() != 4 || pk.dims()[0] != m_B || pk.dims()[1] != m_Hkv ||
                pk.dims()[3] != m_D || pv.dims()[0] != m_B || pv.dims()[1] != m_Hkv ||
                pv.dims()[2] != pk.dims()[2] || pv.dims()[3] != m_Dv || pk.dtype() != q.dtype() ||
                pv.dtype() != q.dtype())
                return ctx.error(StatusCode::InvalidInput,
                                 "past_key/past_value must be [B, kv_heads, past, size]");
            m_P = pk.dims()[2];
        }
        m_T = m_P + m_Skv;
        m_qv.make(m_3d, m_Hq, m_Sq, m_D);
        m_kv.make(m_3d, m_Hkv, m_Skv, m_D);
        m_vv.make(m_3d, m_Hkv, m_Skv, m_Dv);
        m_yv.make(m_3d, m_Hq, m_Sq, m_Dv);
        m_pkv.make(false, m_Hkv, m_P, m_D);
        m_pvv.make(false, m_Hkv, m_P, m_Dv);
        m_scale = m_hasScale ? m_scaleAttr : 1.0 / std::sqrt(static_cast<double>(m_D));

        m_hasMask = ctx.hasInput(3);
        if (m_hasMask) {
            const Tensor& m = ctx.input(3);
            if (m.rank() < 1 || m.rank() > 4)
                return ctx.error(StatusCode::InvalidInput, "attn_mask must be 1-D to 4-D");
            m_maskBool = m.dtype() == DataType::Bool;
            if (!m_maskBool && m.dtype() != q.dtype())
                return ctx.error(StatusCode::InvalidInput, "attn_mask must be bool or Q's type");
            m_maskLast = m.dims().back();
            if (m_maskLast > m_T)
                return ctx.error(StatusCode::InvalidInput,
                                 "attn_mask is longer than the key sequence");
            // Leading mask dims, right-aligned to [B, Hq, Sq], each 1 or full size.
            int64_t md[3] = {1, 1, 1};
            const int64_t full[3] = {m_B, m_Hq, m_Sq};
            for (std::size_t d = 0; d + 1 < m.rank(); ++d)
                md[3 - (m.rank() - 1) + d] = m.dims()[d];
            for (int d = 0; d < 3; ++d)
                if (md[d] != 1 && md[d] != full[d])
                    return ctx.error(StatusCode::InvalidInput,
                                     "attn_mask " + dimsText(m.dims()) + " does not broadcast to " +
                                         dimsText(std::vector<int64_t>{m_B, m_Hq, m_Sq, m_T}));
            m_mB = md[0] == 1 ? 0 : md[1] * md[2];
            m_mH = md[1] == 1 ? 0 : md[2];
            m_mS = md[2] == 1 ? 0 : 1;
        }
        m_hasNonpad = ctx.hasInput(6);
        if (m_hasNonpad) {
            const Tensor& np = ctx.input(6);
            if (np.numElements() != m_B ||
                (np.dtype() != DataType::Int64 && np.dtype() != DataType::Int32))
                return ctx.error(StatusCode::InvalidInput,
                                 "nonpad_kv_seqlen must be an int64 [batch] vector");
        }
        if (!nn::selectFloat<AttentionKernel>(q.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(q.dtype()) + " is not supported");
        if (m_3d)
            ctx.setOutput(0, q.dtype(), {m_B, m_Sq, m_Hq * m_Dv});
        else
            ctx.setOutput(0, q.dtype(), {m_B, m_Hq, m_Sq, m_Dv});
        ctx.setOutput(1, q.dtype(), {m_B, m_Hkv, m_T, m_D});
        ctx.setOutput(2, q.dtype(), {m_B, m_Hkv, m_T, m_Dv});
        ctx.setOutput(3, q.dtype(), {m_B, m_Hq, m_Sq, m_T});
        ctx.setScratchBytes(static_cast<std::size_t>(m_B * m_Hq * m_Sq * m_T) * sizeof(double));
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* Q = ctx.input(0).data<T>();
        const T* K = ctx.input(1).data<T>();
        const T* V = ctx.input(2).data<T>();
        const T* PK = ctx.hasInput(4) ? ctx.input(4).data<T>() : nullptr;
        const T* PV = ctx.hasInput(5) ? ctx.input(5).data<T>() : nullptr;
        const Tensor* mask = m_hasMask ? &ctx.input(3) : nullptr;
        const Tensor* nonpad = m_hasNonpad ? &ctx.input(6) : nullptr;
        T* Y = ctx.output(0).data<T>();
        T* QK = ctx.hasOutput(3) ? ctx.output(3).data<T>() : nullptr;
        double* S = reinterpret_cast<double*>(ctx.scratch());
        const int64_t Tt = m_T, P = m_P, D = m_D, Dv = m_Dv, rep = m_Hq / m_Hkv;
        const double ninf = -std::numeric_limits<double>::infinity();

        // present_key / present_value: past ++ current, as [B, Hkv, T, size].
        for (int o = 1; o <= 2; ++o) {
            if (!ctx.hasOutput(o)) continue;
            T* dst = ctx.output(o).data<T>();
            const int64_t sz = o == 1 ? D : Dv;
            const T* past = o == 1 ? PK : PV;
            const T* cur = o == 1 ? K : V;
            const HeadView& pv = o == 1 ? m_pkv : m_pvv;
            const HeadView& cv = o == 1 ? m_kv : m_vv;
            for (int64_t b = 0; b < m_B; ++b)
                for (int64_t h = 0; h < m_Hkv; ++h)
                    for (int64_t j = 0; j < Tt; ++j) {
                        const T* src = j < P ? past + pv.at(b, h, j) : cur + cv.at(b, h, j - P);
                        std::memcpy(dst + ((b * m_Hkv + h) * Tt + j) * sz, src,
                                    static_cast<std::size_t>(sz) * sizeof(T));
                    }
        }

        const int64_t rows = m_B * m_Hq * m_Sq;
        ctx.pool().parallelFor(0, rows, chunkRows(Tt * (D + Dv)), [&](int64_t rb, int64_t re) {
            for (int64_t row = rb; row < re; ++row) {
                const int64_t i = row % m_Sq, h = (row / m_Sq) % m_Hq, b = row / (m_Sq * m_Hq);
                const int64_t hk = h / rep;
                double* s = S + row * Tt;
                const T* q = Q + m_qv.at(b, h, i);
                for (int64_t j = 0; j < Tt; ++j) {
                    const T* kr = j < P ? PK + m_pkv.at(b, hk, j) : K + m_kv.at(b, hk, j - P);
                    double acc = 0;
                    for (int64_t d = 0; d < D; ++d)
                        acc += static_cast<double>(load(q[d])) * static_cast<double>(load(kr[d]));
                    acc *= m_scale;
                    if (m_softcap > 0) acc = m_softcap * std::tanh(acc / m_softcap);
                    s[j] = acc;
                }
                if (QK && m_mode <= 1)
                    for (int64_t j = 0; j < Tt; ++j)
                        QK[row * Tt + j] = store<T>(s[j]);
                // Bias.
                const int64_t moff = (b * m_mB + h * m_mH + i * m_mS) * m_maskLast;
                int64_t causalLimit = std::numeric_limits<int64_t>::max();
                int64_t validKeys = Tt;
                if (nonpad) validKeys = std::min<int64_t>(Tt, nonpad->intAt(b));
                if (m_causal) causalLimit = i + (P == 0 && nonpad ? nonpad->intAt(b) - m_Sq : P);
                for (int64_t j = 0; j < Tt; ++j) {
                    double bias = 0;
                    if (mask) {
                        if (j >= m_maskLast)
                            bias = ninf;
                        else if (m_maskBool)
                            bias = mask->data<bool>()[moff + j] ? 0.0 : ninf;
                        else
                            bias = load(mask->data<T>()[moff + j]);
                    }
                    if (j > causalLimit || j >= validKeys) bias = ninf;
                    s[j] += bias;
                }
                if (QK && m_mode == 2)
                    for (int64_t j = 0; j < Tt; ++j)
                        QK[row * Tt + j] = store<T>(s[j]);
                double mx = ninf;
                for (int64_t j = 0; j < Tt; ++j)
                    mx = std::max(mx, s[j]);
                double sum = 0;
                for (int64_t j = 0; j < Tt; ++j) {
                    s[j] = std::exp(s[j] - mx);
                    sum += s[j];
                }
                for (int64_t j = 0; j < Tt; ++j)
                    s[j] /= sum;
                if (QK && m_mode == 3)
                    for (int64_t j = 0; j < Tt; ++j)
                        QK[row * Tt + j] = store<T>(s[j]);
                T* y = Y + m_yv.at(b, h, i);
                for (int64_t d = 0; d < Dv; ++d) {
                    double acc = 0;
                    for (int64_t j = 0; j < Tt; ++j) {
                        const T* vr = j < P ? PV + m_pvv.at(b, hk, j) : V + m_vv.at(b, hk, j - P);
                        acc += s[j] * static_cast<double>(load(vr[d]));
                    }
                    y[d] = store<T>(acc);
                }
            }
        });
    }

  private:
    bool m_causal = false, m_hasScale = false;
    int64_t m_qHeadsAttr = 0, m_kvHeadsAttr = 0, m_mode = 0;
    float m_scaleAttr = 1.0f;
    double m_softcap = 0, m_scale = 1;
    bool m_3d = false, m_hasMask = false, m_maskBool = false, m_hasNonpad = false;
    int64_t m_B = 0, m_Hq = 0, m_Hkv = 0, m_Sq = 0, m_Skv = 0, m_D = 0, m_Dv = 0, m_P = 0, m_T = 0,
            m_maskLast = 0;
    HeadView m_qv, m_kv, m_vv, m_yv, m_pkv, m_pvv;
    int64_t m_mB = 0, m_mH = 0, m_mS = 0; ///< mask row strides (in rows) over b, h, i
    void (AttentionKernel::*m_fn)(RunContext&) = nullptr;
};

/// RotaryEmbedding: X as [B, S, heads, size] (4-D input is [B, heads, S, size]; 3-D is
/// [B, S, heads*size]); the first rotary_embedding_dim features of each head rotate by the cached
/// angle of the token's position (cos/sin [B, S, rot/2] without position_ids, else
/// [max_pos, rot/2] indexed by position_ids [B, S]). Pairs are (x[k], x[k + rot/2]) or, when
/// interleaved, (x[2k], x[2k+1]).
class RotaryKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_interleaved = ctx.node().attrInt("interleaved", 0) != 0;
        m_headsAttr = ctx.node().attrInt("num_heads", 0);
        m_rotAttr = ctx.node().attrInt("rotary_embedding_dim", 0);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.rank() == 4) {
            m_B = x.dims()[0];
            m_H = x.dims()[1];
            m_S = x.dims()[2];
            m_D = x.dims()[3];
            m_xv.make(false, m_H, m_S, m_D);
        } else if (x.rank() == 3) {
            if (m_headsAttr < 1 || x.dims()[2] % m_headsAttr)
                return ctx.error(StatusCode::InvalidInput,
                                 "3-D input needs num_heads dividing the hidden size");
            m_B = x.dims()[0];
            m_S = x.dims()[1];
            m_H = m_headsAttr;
            m_D = x.dims()[2] / m_H;
            m_xv.make(true, m_H, m_S, m_D);
        } else {
            return ctx.error(StatusCode::InvalidInput, "input must be 3-D or 4-D");
        }
        m_rot = m_rotAttr > 0 ? m_rotAttr : m_D;
        if (m_rot > m_D || m_rot % 2)
            return ctx.error(StatusCode::InvalidInput,
                             "rotary_embedding_dim must be even and <= head size");
        const Tensor& cs = ctx.input(1);
        const Tensor& sn = ctx.input(2);
        if (cs.dims() != sn.dims() || cs.dtype() != x.dtype() || sn.dtype() != x.dtype())
            return ctx.error(StatusCode::InvalidInput,
                             "cos_cache and sin_cache must match and have X's type");
        m_hasPos = ctx.hasInput(3);
        if (m_hasPos) {
            const Tensor& p = ctx.input(3);
            if (cs.rank() != 2 || p.dims() != std::vector<int64_t>{m_B, m_S})
                return ctx.error(
                    StatusCode::InvalidInput,
                    "with position_ids the caches are [max_pos, rot/2] and ids [B, S]");
            m_maxPos = cs.dims()[0];
        } else if (cs.rank() != 3 || cs.dims()[0] != m_B || cs.dims()[1] != m_S) {
            return ctx.error(StatusCode::InvalidInput,
                             "without position_ids the caches are [B, S, rot/2]");
        }
        m_cacheW = cs.dims().back();
        if (m_cacheW < m_rot / 2)
            return ctx.error(StatusCode::InvalidInput,
                             "caches narrower than rotary_embedding_dim/2");
        if (!nn::selectFloat<RotaryKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const T* X = ctx.input(0).data<T>();
        const T* C = ctx.input(1).data<T>();
        const T* Sn = ctx.input(2).data<T>();
        T* Y = ctx.output(0).data<T>();
        const Tensor* pos = m_hasPos ? &ctx.input(3) : nullptr;
        const int64_t half = m_rot / 2;
        ctx.pool().parallelFor(0, m_B * m_S, chunkRows(m_H * m_D), [&](int64_t rb, int64_t re) {
            for (int64_t bs = rb; bs < re; ++bs) {
                const int64_t b = bs / m_S, s = bs % m_S;
                int64_t crow = bs;
                if (pos) {
                    crow = pos->intAt(bs);
                    if (crow < 0 || crow >= m_maxPos) crow = 0;
                }
                const T* c = C + crow * m_cacheW;
                const T* sn = Sn + crow * m_cacheW;
                for (int64_t h = 0; h < m_H; ++h) {
                    const T* x = X + m_xv.at(b, h, s);
                    T* y = Y + m_xv.at(b, h, s);
                    for (int64_t k = 0; k < half; ++k) {
                        int64_t i1 = m_interleaved ? 2 * k : k,
                                i2 = m_interleaved ? 2 * k + 1 : k + half;
                        double x1 = load(x[i1]), x2 = load(x[i2]);
                        double cv = load(c[k]), sv = load(sn[k]);
                        y[i1] = store<T>(cv * x1 - sv * x2);
                        y[i2] = store<T>(sv * x1 + cv * x2);
                    }
                    for (int64_t d = m_rot; d < m_D; ++d)
                        y[d] = x[d];
                }
            }
        });
    }

  private:
    bool m_interleaved = false, m_hasPos = false;
    int64_t m_headsAttr = 0, m_rotAttr = 0;
    int64_t m_B = 0, m_H = 0, m_S = 0, m_D = 0, m_rot = 0, m_cacheW = 0, m_maxPos = 0;
    HeadView m_xv;
    void (RotaryKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeAttention() {
    return std::make_unique<cpu::AttentionKernel>();
}
std::unique_ptr<Kernel> makeRotaryEmbedding() {
    return std::make_unique<cpu::RotaryKernel>();
}

} // namespace ew::rt
