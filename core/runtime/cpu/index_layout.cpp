// Layout rearrangements: ReverseSequence, DepthToSpace (DCR/CRD), SpaceToDepth, Upsample
// (nearest / linear, scales as attribute (7) or input (9)), CenterCropPad, Col2Im.
// DepthToSpace and SpaceToDepth are a reshape + transpose, so they are a strided view over the
// input copied with copyStrided. Col2Im parallelizes over (image, channel) planes, each summed by
// one task in a fixed order.
#include "index_util.h"

#include <algorithm>
#include <cmath>

namespace ew::rt {
namespace cpu {
namespace {

std::unexpected<Status> unsupportedType(const PrepareContext& ctx, DataType t) {
    return ctx.error(StatusCode::Unsupported, "type " + typeName(t) + " is not supported");
}

class ReverseSequenceKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_batchAxis = ctx.node().attrInt("batch_axis", 1);
        m_timeAxis = ctx.node().attrInt("time_axis", 0);
        if (!((m_batchAxis == 0 && m_timeAxis == 1) || (m_batchAxis == 1 && m_timeAxis == 0)))
            return ctx.error(StatusCode::InvalidInput, "batch_axis and time_axis must be 0 and 1 in some order");
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& lens = ctx.input(1);
        if (!isMovable(x.dtype())) return unsupportedType(ctx, x.dtype());
        if (x.rank() < 2) return ctx.error(StatusCode::InvalidInput, "input must have rank >= 2");
        const int64_t batch = x.dims()[m_batchAxis], time = x.dims()[m_timeAxis];
        if (!isIndexType(lens.dtype()) || lens.rank() != 1 || lens.numElements() != batch)
            return ctx.error(StatusCode::InvalidInput, "sequence_lens must be 1-D int64 with one entry per batch");
        for (int64_t b = 0; b < batch; ++b) {
            int64_t l = indexAt(lens, b);
            if (l < 0 || l > time)
                return ctx.error(StatusCode::InvalidInput, "sequence length " + std::to_string(l) + " outside [0, " +
                                                               std::to_string(time) + "]");
        }
        m_inner = numElementsOf(std::span<const int64_t>(x.dims()).subspan(2));
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& lens = ctx.input(1);
        const int64_t batch = x.dims()[m_batchAxis], time = x.dims()[m_timeAxis];
        const std::size_t w = elementSize(x.dtype()), rowBytes = static_cast<std::size_t>(m_inner) * w;
        // Row (b, t) lives at b*bs + t*ts rows.
        const int64_t bs = m_batchAxis == 0 ? time : 1, ts = m_batchAxis == 0 ? 1 : batch;
        const std::byte* in = x.raw();
        std::byte* out = ctx.output(0).raw();
        ctx.pool().parallelFor(0, batch, 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                const int64_t len = indexAt(lens, b);
                for (int64_t t = 0; t < time; ++t) {
                    int64_t src = t < len ? len - 1 - t : t;
                    if (rowBytes) std::memcpy(out + (b * bs + t * ts) * rowBytes, in + (b * bs + src * ts) * rowBytes, rowBytes);
                }
            }
        });
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    int64_t m_batchAxis = 1, m_timeAxis = 0, m_inner = 1;
    bool m_dataDependent = false;
};

/// DepthToSpace (Space = false) and SpaceToDepth (Space = true) on NCHW.
template <bool ToDepth>
class BlockKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_block = ctx.node().attrInt("blocksize", 0);
        if (m_block < 1) return ctx.error(StatusCode::InvalidInput, "blocksize must be positive");
        std::string mode = ctx.node().attrString("mode", "DCR");
        if (mode != "DCR" && mode != "CRD") return ctx.error(StatusCode::InvalidInput, "mode '" + mode + "' is not DCR or CRD");
        m_crd = mode == "CRD";
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (!isMovable(x.dtype())) return unsupportedType(ctx, x.dtype());
        if (x.rank() != 4) return ctx.error(StatusCode::InvalidInput, "input must be 4-D (NCHW)");
        const int64_t N = x.dims()[0], C = x.dims()[1], H = x.dims()[2], W = x.dims()[3], b = m_block;
        int64_t dims[6], strides[6];
        if constexpr (!ToDepth) {
            if (C % (b * b)) return ctx.error(StatusCode::InvalidInput, "channels not divisible by blocksize^2");
            const int64_t Co = C / (b * b), HW = H * W;
            // Output (n, c, h, i, w, j) = input channel (i*b + j)*Co + c (DCR) or c*b*b + i*b + j (CRD).
            int64_t dv[6] = {N, Co, H, b, W, b};
            int64_t sv[6] = {C * HW, m_crd ? b * b * HW : HW, W, m_crd ? b * HW : b * Co * HW, 1, m_crd ? HW : Co * HW};
            std::copy(dv, dv + 6, dims);
            std::copy(sv, sv + 6, strides);
            m_out = {N, Co, H * b, W * b};
        } else {
            if (H % b || W % b) return ctx.error(StatusCode::InvalidInput, "spatial dims not divisible by blocksize");
            // Output (n, i, j, c, h, w) = input (n, c, h*b + i, w*b + j).
            int64_t dv[6] = {N, b, b, C, H / b, W / b};
            int64_t sv[6] = {C * H * W, W, 1, H * W, b * W, b};
            std::copy(dv, dv + 6, dims);
            std::copy(sv, sv + 6, strides);
            m_out = {N, C * b * b, H / b, W / b};
        }
        if (!makeStridedView(m_view, dims, strides)) return ctx.error(StatusCode::Unsupported, "rank too large");
        ctx.setOutput(0, x.dtype(), m_out);
        return {};
    }
    void run(RunContext& ctx) override {
        copyStrided(m_view, elementSize(ctx.input(0).dtype()), ctx.input(0).raw(), 0, ctx.output(0).raw(), ctx.pool());
    }

private:
    int64_t m_block = 0;
    bool m_crd = false;
    std::vector<int64_t> m_out;
    Broadcaster<1> m_view;
};

/// Upsample: out = floor(in * scale) per dim. Nearest reads in[floor(o / scale)]; linear
/// interpolates at o / scale (asymmetric), clamping the upper neighbour to the last element.
class UpsampleKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_mode = ctx.node().attrString("mode", "nearest");
        if (m_mode == "bilinear") m_mode = "linear";
        if (m_mode != "nearest" && m_mode != "linear")
            return ctx.error(StatusCode::Unsupported, "mode '" + m_mode + "' is not supported (nearest and linear are supported)");
        m_fromAttr = ctx.opset() < 9;
        if (m_fromAttr) m_attrScales = ctx.node().attrFloats("scales");
        else m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const std::size_t r = x.rank();
        m_scales.clear();
        if (m_fromAttr) {
            m_scales.assign(m_attrScales.begin(), m_attrScales.end());
        } else {
            const Tensor& s = ctx.input(1);
            for (int64_t i = 0; i < s.numElements(); ++i) m_scales.push_back(s.doubleAt(i));
        }
        if (m_scales.size() != r) return ctx.error(StatusCode::InvalidInput, "scales must have one entry per dim");
        if (r > kMaxRank) return ctx.error(StatusCode::Unsupported, "rank too large");
        m_dims.resize(r);
        m_active.clear();
        m_offsets.assign(r + 1, 0);
        for (std::size_t d = 0; d < r; ++d) {
            if (!(m_scales[d] >= 1.0) || m_scales[d] > 1e6)
                return ctx.error(StatusCode::InvalidInput, "scales must be >= 1");
            m_dims[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.dims()[d]) * m_scales[d]));
            m_offsets[d + 1] = m_offsets[d] + m_dims[d];
        }
        // Per output coordinate of each dim: the lower input index, the upper one and the weight
        // of the upper one.
        m_lo.resize(static_cast<std::size_t>(m_offsets[r]));
        m_hi.resize(m_lo.size());
        m_w.resize(m_lo.size());
        for (std::size_t d = 0; d < r; ++d) {
            const int64_t in = x.dims()[d];
            for (int64_t o = 0; o < m_dims[d]; ++o) {
                double c = static_cast<double>(o) / m_scales[d];
                int64_t lo = std::min<int64_t>(static_cast<int64_t>(std::floor(c)), in - 1);
                std::size_t k = static_cast<std::size_t>(m_offsets[d] + o);
                m_lo[k] = lo;
                m_hi[k] = std::min<int64_t>(lo + 1, in - 1);
                m_w[k] = m_mode == "linear" ? static_cast<float>(c - static_cast<double>(lo)) : 0.f;
            }
            if (m_mode == "linear" && m_scales[d] != 1.0) m_active.push_back(static_cast<int>(d));
        }
        m_fn = nullptr;
        if (m_mode == "nearest") {
            switch (elementSize(x.dtype())) {
            case 1: m_fn = &resample<uint8_t, false>; break;
            case 2: m_fn = &resample<uint16_t, false>; break;
            case 4: m_fn = &resample<uint32_t, false>; break;
            case 8: m_fn = &resample<uint64_t, false>; break;
            default: break;
            }
        } else {
            dispatch<EW_FLOAT_TYPES>(x.dtype(), [&](auto tag) { m_fn = &resample<typename decltype(tag)::type, true>; });
        }
        if (!m_fn) return unsupportedType(ctx, x.dtype());
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override { m_fn(*this, ctx.input(0), ctx.output(0), ctx.pool()); }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    template <typename T, bool Linear>
    static void resample(const UpsampleKernel& k, const Tensor& xt, Tensor& yt, ThreadPool& pool) {
        const T* X = xt.data<T>();
        T* Y = yt.data<T>();
        const int r = static_cast<int>(xt.rank());
        if (r == 0) {
            Y[0] = X[0];
            return;
        }
        int64_t inStrides[kMaxRank];
        for (int64_t d = r - 1, s = 1; d >= 0; --d) {
            inStrides[d] = s;
            s *= xt.dims()[d];
        }
        const int64_t cols = k.m_dims[r - 1], rows = cols ? yt.numElements() / cols : 0;
        pool.parallelFor(0, rows, chunkRows(cols), [&](int64_t b, int64_t e) {
            for (int64_t row = b; row < e; ++row) {
                // Coordinates of this output row (all but the last dim).
                int64_t coord[kMaxRank];
                int64_t rem = row;
                for (int d = r - 2; d >= 0; --d) {
                    coord[d] = rem % k.m_dims[d];
                    rem /= k.m_dims[d];
                }
                for (int64_t c = 0; c < cols; ++c) {
                    coord[r - 1] = c;
                    if constexpr (!Linear) {
                        int64_t off = 0;
                        for (int d = 0; d < r; ++d) off += k.m_lo[static_cast<std::size_t>(k.m_offsets[d] + coord[d])] * inStrides[d];
                        Y[row * cols + c] = X[off];
                    } else {
                        int64_t base = 0;
                        for (int d = 0; d < r; ++d) base += k.m_lo[static_cast<std::size_t>(k.m_offsets[d] + coord[d])] * inStrides[d];
                        const int na = static_cast<int>(k.m_active.size());
                        double acc = 0;
                        for (int corner = 0; corner < (1 << na); ++corner) {
                            double wgt = 1;
                            int64_t off = base;
                            for (int a = 0; a < na; ++a) {
                                const int d = k.m_active[static_cast<std::size_t>(a)];
                                const std::size_t ki = static_cast<std::size_t>(k.m_offsets[d] + coord[d]);
                                const double w = k.m_w[ki];
                                if (corner >> a & 1) {
                                    wgt *= w;
                                    off += (k.m_hi[ki] - k.m_lo[ki]) * inStrides[d];
                                } else {
                                    wgt *= 1 - w;
                                }
                            }
                            if (wgt != 0) acc += wgt * static_cast<double>(load(X[off]));
                        }
                        Y[row * cols + c] = store<T>(acc);
                    }
                }
            }
        });
    }

    std::string m_mode;
    bool m_fromAttr = false, m_dataDependent = false;
    std::vector<float> m_attrScales;
    std::vector<double> m_scales;
    std::vector<int64_t> m_dims, m_offsets, m_lo, m_hi;
    std::vector<float> m_w;
    std::vector<int> m_active;
    void (*m_fn)(const UpsampleKernel&, const Tensor&, Tensor&, ThreadPool&) = nullptr;
};

/// CenterCropPad: each listed axis is cropped (start floor((in - out) / 2)) or zero-padded
/// (before floor((out - in) / 2)) to the requested size.
class CenterCropPadKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_axes = ctx.node().attrInts("axes");
        m_dataDependent = ctx.constantInput(1) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const int64_t r = static_cast<int64_t>(x.rank());
        if (!isMovable(x.dtype())) return unsupportedType(ctx, x.dtype());
        if (r < 1 || r > kMaxRank) return ctx.error(StatusCode::Unsupported, "rank must be in [1, 16]");
        if (!isIndexType(ctx.input(1).dtype())) return ctx.error(StatusCode::InvalidInput, "shape must be int64");
        readInts(ctx.input(1), m_shape);
        const std::size_t n = m_axes.empty() ? static_cast<std::size_t>(r) : m_axes.size();
        if (m_shape.size() != n) return ctx.error(StatusCode::InvalidInput, "shape must have one entry per axis");
        m_dims = x.dims();
        std::fill(std::begin(m_shift), std::end(m_shift), 0);
        bool seen[kMaxRank] = {};
        for (std::size_t i = 0; i < n; ++i) {
            int64_t a = m_axes.empty() ? static_cast<int64_t>(i) : m_axes[i];
            if (!normalizeAxis(a, r) || seen[a]) return ctx.error(StatusCode::InvalidInput, "axes out of range or repeated");
            seen[a] = true;
            const int64_t in = x.dims()[a], out = m_shape[i];
            if (out < 0) return ctx.error(StatusCode::InvalidInput, "negative target size");
            m_dims[a] = out;
            m_shift[a] = out <= in ? (in - out) / 2 : -((out - in) / 2); // input coord = out coord + shift
        }
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        Tensor& y = ctx.output(0);
        const int r = static_cast<int>(x.rank());
        const std::size_t w = elementSize(x.dtype());
        int64_t inStrides[kMaxRank];
        for (int64_t d = r - 1, s = 1; d >= 0; --d) {
            inStrides[d] = s;
            s *= x.dims()[d];
        }
        const int64_t cols = m_dims[r - 1], rows = cols ? y.numElements() / cols : 0;
        const int64_t inCols = x.dims()[r - 1], shift = m_shift[r - 1];
        // Valid output columns: 0 <= c + shift < inCols.
        const int64_t c0 = std::clamp<int64_t>(-shift, 0, cols), c1 = std::clamp<int64_t>(inCols - shift, c0, cols);
        ctx.pool().parallelFor(0, rows, chunkRows(cols), [&](int64_t b, int64_t e) {
            for (int64_t row = b; row < e; ++row) {
                std::byte* dst = y.raw() + static_cast<std::size_t>(row * cols) * w;
                int64_t rem = row, off = 0;
                bool inside = true;
                for (int d = r - 2; d >= 0; --d) {
                    const int64_t ic = rem % m_dims[d] + m_shift[d];
                    rem /= m_dims[d];
                    if (ic < 0 || ic >= x.dims()[d]) inside = false;
                    off += ic * inStrides[d];
                }
                if (!inside || c1 <= c0) {
                    std::memset(dst, 0, static_cast<std::size_t>(cols) * w);
                    continue;
                }
                std::memset(dst, 0, static_cast<std::size_t>(c0) * w);
                std::memcpy(dst + c0 * w, x.raw() + static_cast<std::size_t>(off + c0 + shift) * w, static_cast<std::size_t>(c1 - c0) * w);
                std::memset(dst + c1 * w, 0, static_cast<std::size_t>(cols - c1) * w);
            }
        });
    }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    std::vector<int64_t> m_axes, m_shape, m_dims;
    int64_t m_shift[kMaxRank] = {};
    bool m_dataDependent = false;
};

/// Col2Im: input [N, C*prod(block), L] of columns, summed back into [N, C, image...].
class Col2ImKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_dil = ctx.node().attrInts("dilations");
        m_pads = ctx.node().attrInts("pads");
        m_strides = ctx.node().attrInts("strides");
        m_dataDependent = ctx.constantInput(1) == nullptr || ctx.constantInput(2) == nullptr;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (!isIndexType(ctx.input(1).dtype()) || !isIndexType(ctx.input(2).dtype()))
            return ctx.error(StatusCode::InvalidInput, "image_shape and block_shape must be int64");
        readInts(ctx.input(1), m_image);
        readInts(ctx.input(2), m_kernel);
        const std::size_t s = m_image.size();
        if (s == 0 || s > 8 || m_kernel.size() != s) return ctx.error(StatusCode::InvalidInput, "image_shape and block_shape differ in length");
        if (x.rank() != 3) return ctx.error(StatusCode::InvalidInput, "input must be 3-D");
        auto attrOr = [&](const std::vector<int64_t>& v, std::size_t n, int64_t def, std::size_t i) {
            return v.size() == n ? v[i] : def;
        };
        if ((!m_dil.empty() && m_dil.size() != s) || (!m_strides.empty() && m_strides.size() != s) ||
            (!m_pads.empty() && m_pads.size() != 2 * s))
            return ctx.error(StatusCode::InvalidInput, "dilations, strides or pads do not match the spatial rank");
        int64_t kProd = 1, blocks = 1;
        m_blocksPerDim.resize(s);
        m_padBegin.resize(s);
        m_dilation.resize(s);
        m_stride.resize(s);
        for (std::size_t i = 0; i < s; ++i) {
            m_dilation[i] = attrOr(m_dil, s, 1, i);
            m_stride[i] = attrOr(m_strides, s, 1, i);
            m_padBegin[i] = attrOr(m_pads, 2 * s, 0, i);
            const int64_t padEnd = attrOr(m_pads, 2 * s, 0, i + s);
            if (m_kernel[i] < 1 || m_image[i] < 0 || m_dilation[i] < 1 || m_stride[i] < 1 || m_padBegin[i] < 0 || padEnd < 0)
                return ctx.error(StatusCode::InvalidInput, "invalid block, image, dilation, stride or pad");
            const int64_t span = m_dilation[i] * (m_kernel[i] - 1) + 1;
            const int64_t avail = m_image[i] + m_padBegin[i] + padEnd - span;
            if (avail < 0) return ctx.error(StatusCode::InvalidInput, "block larger than the padded image");
            m_blocksPerDim[i] = avail / m_stride[i] + 1;
            kProd *= m_kernel[i];
            blocks *= m_blocksPerDim[i];
        }
        if (x.dims()[1] % kProd || x.dims()[2] != blocks)
            return ctx.error(StatusCode::InvalidInput, "input " + dimsText(x.dims()) + " does not match " + std::to_string(kProd) +
                                                           " block elements and " + std::to_string(blocks) + " blocks");
        m_channels = x.dims()[1] / kProd;
        m_kProd = kProd;
        m_blocks = blocks;
        m_dims.assign({x.dims()[0], m_channels});
        m_dims.insert(m_dims.end(), m_image.begin(), m_image.end());
        m_fn = nullptr;
        dispatch<EW_NUMERIC_TYPES>(x.dtype(), [&](auto tag) { m_fn = &fold<typename decltype(tag)::type>; });
        if (!m_fn) return unsupportedType(ctx, x.dtype());
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override { m_fn(*this, ctx.input(0), ctx.output(0), ctx.pool()); }
    bool dataDependentShapes() const override { return m_dataDependent; }

private:
    template <typename T>
    static void fold(const Col2ImKernel& k, const Tensor& xt, Tensor& yt, ThreadPool& pool) {
        using C = Compute<T>;
        const T* X = xt.data<T>();
        T* Y = yt.data<T>();
        const int s = static_cast<int>(k.m_image.size());
        const int64_t planeSize = numElementsOf(k.m_image);
        const int64_t planes = xt.dims()[0] * k.m_channels;
        pool.parallelFor(0, planes, 1, [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p) {
                T* y = Y + p * planeSize;
                for (int64_t i = 0; i < planeSize; ++i) y[i] = store<T>(C(0));
                const T* x = X + p * k.m_kProd * k.m_blocks;
                int64_t kc[8] = {};
                for (int64_t kk = 0; kk < k.m_kProd; ++kk) {
                    int64_t bc[8] = {};
                    for (int64_t bl = 0; bl < k.m_blocks; ++bl) {
                        int64_t off = 0;
                        bool inside = true;
                        for (int d = 0; d < s; ++d) {
                            const int64_t ic = bc[d] * k.m_stride[d] - k.m_padBegin[d] + kc[d] * k.m_dilation[d];
                            if (ic < 0 || ic >= k.m_image[d]) inside = false;
                            off = off * k.m_image[d] + ic;
                        }
                        if (inside) y[off] = store<T>(static_cast<C>(load(y[off]) + load(x[kk * k.m_blocks + bl])));
                        for (int d = s - 1; d >= 0; --d) {
                            if (++bc[d] < k.m_blocksPerDim[d]) break;
                            bc[d] = 0;
                        }
                    }
                    for (int d = s - 1; d >= 0; --d) {
                        if (++kc[d] < k.m_kernel[d]) break;
                        kc[d] = 0;
                    }
                }
            }
        });
    }

    std::vector<int64_t> m_dil, m_pads, m_strides;
    std::vector<int64_t> m_image, m_kernel, m_blocksPerDim, m_padBegin, m_dilation, m_stride, m_dims;
    int64_t m_channels = 0, m_kProd = 1, m_blocks = 1;
    bool m_dataDependent = false;
    void (*m_fn)(const Col2ImKernel&, const Tensor&, Tensor&, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeReverseSequence() { return std::make_unique<cpu::ReverseSequenceKernel>(); }
std::unique_ptr<Kernel> makeDepthToSpace() { return std::make_unique<cpu::BlockKernel<false>>(); }
std::unique_ptr<Kernel> makeSpaceToDepth() { return std::make_unique<cpu::BlockKernel<true>>(); }
std::unique_ptr<Kernel> makeUpsample() { return std::make_unique<cpu::UpsampleKernel>(); }
std::unique_ptr<Kernel> makeCenterCropPad() { return std::make_unique<cpu::CenterCropPadKernel>(); }
std::unique_ptr<Kernel> makeCol2Im() { return std::make_unique<cpu::Col2ImKernel>(); }

} // namespace ew::rt
