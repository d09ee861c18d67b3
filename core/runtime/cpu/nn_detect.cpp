// Detection ops: NonMaxSuppression (greedy per batch and class: candidates above
// score_threshold in descending score order, ties by box index; a box is dropped when its IoU
// with a kept box exceeds iou_threshold; at most max_output_boxes_per_class kept) and RoiAlign
// (average or max of bilinear samples per output bin; opset 16 half_pixel or the legacy
// output_half_pixel coordinates; max mode takes the largest weighted corner, as ONNX Runtime and
// the ONNX reference do).
#include "nn_util.h"

#include <algorithm>

namespace ew::rt {
namespace cpu {
namespace {

using nn::loadF;

class NmsKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        m_center = ctx.node().attrInt("center_point_box", 0) != 0;
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& boxes = ctx.input(0);
        const Tensor& scores = ctx.input(1);
        if (boxes.rank() != 3 || boxes.dims()[2] != 4 || scores.rank() != 3 ||
            scores.dims()[0] != boxes.dims()[0] || scores.dims()[2] != boxes.dims()[1])
            return ctx.error(StatusCode::InvalidInput,
                             "boxes must be [B, N, 4] and scores [B, classes, N]");
        if (!ir::isFloatingPoint(boxes.dtype()) || !ir::isFloatingPoint(scores.dtype()))
            return ctx.error(StatusCode::InvalidInput, "boxes and scores must be floating point");
        const int64_t B = boxes.dims()[0], C = scores.dims()[1], N = boxes.dims()[1];
        int64_t maxOut =
            ctx.hasInput(2) && ctx.input(2).numElements() > 0 ? ctx.input(2).intAt(0) : 0;
        double iouTh =
            ctx.hasInput(3) && ctx.input(3).numElements() > 0 ? ctx.input(3).doubleAt(0) : 0.0;
        bool hasScoreTh = ctx.hasInput(4) && ctx.input(4).numElements() > 0;
        double scoreTh = hasScoreTh ? ctx.input(4).doubleAt(0) : 0.0;
        if (iouTh < 0 || iouTh > 1)
            return ctx.error(StatusCode::InvalidInput, "iou_threshold must be in [0, 1]");
        m_selected.clear();
        if (maxOut > 0) {
            m_order.resize(static_cast<std::size_t>(N));
            m_kept.reserve(static_cast<std::size_t>(N));
            for (int64_t b = 0; b < B; ++b)
                for (int64_t c = 0; c < C; ++c) {
                    const int64_t sBase = (b * C + c) * N;
                    m_order.clear();
                    for (int64_t i = 0; i < N; ++i)
                        if (!hasScoreTh || loadF(scores, sBase + i) > scoreTh) m_order.push_back(i);
                    std::stable_sort(m_order.begin(), m_order.end(), [&](int64_t a, int64_t z) {
                        return loadF(scores, sBase + a) > loadF(scores, sBase + z);
                    });
                    m_kept.clear();
                    for (int64_t i : m_order) {
                        if (static_cast<int64_t>(m_kept.size()) >= maxOut) break;
                        bool keep = true;
                        for (int64_t k : m_kept)
                            if (iou(boxes, b * N + i, b * N + k) > iouTh) {
                                keep = false;
                                break;
                            }
                        if (!keep) continue;
                        m_kept.push_back(i);
                        m_selected.push_back(b);
                        m_selected.push_back(c);
                        m_selected.push_back(i);
                    }
                }
        }
        ctx.setOutput(0, DataType::Int64, {static_cast<int64_t>(m_selected.size() / 3), 3});
        return {};
    }
    bool dataDependentShapes() const override { return true; }
    void run(RunContext& ctx) override {
        if (!m_selected.empty())
            std::memcpy(ctx.output(0).data<int64_t>(), m_selected.data(),
                        m_selected.size() * sizeof(int64_t));
    }

  private:
    /// Box i as (y1, x1, y2, x2) with y1 <= y2, x1 <= x2.
    void corners(const Tensor& boxes, int64_t i, double c[4]) const {
        double v[4];
        for (int k = 0; k < 4; ++k)
            v[k] = loadF(boxes, i * 4 + k);
        if (m_center) {
            // [x_center, y_center, width, height]
            c[0] = v[1] - v[3] / 2;
            c[2] = v[1] + v[3] / 2;
            c[1] = v[0] - v[2] / 2;
            c[3] = v[0] + v[2] / 2;
        } else {
            c[0] = std::min(v[0], v[2]);
            c[2] = std::max(v[0], v[2]);
            c[1] = std::min(v[1], v[3]);
            c[3] = std::max(v[1], v[3]);
        }
    }
    double iou(const Tensor& boxes, int64_t a, int64_t b) const {
        double p[4], q[4];
        corners(boxes, a, p);
        corners(boxes, b, q);
        double ih = std::min(p[2], q[2]) - std::max(p[0], q[0]);
        double iw = std::min(p[3], q[3]) - std::max(p[1], q[1]);
        if (ih <= 0 || iw <= 0) return 0;
        double inter = ih * iw;
        double uni = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter;
        return uni > 0 ? inter / uni : 0;
    }

    bool m_center = false;
    std::vector<int64_t> m_selected, m_order, m_kept;
};

class RoiAlignKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        std::string ctm = n.attrString("coordinate_transformation_mode",
                                       ctx.opset() < 16 ? "output_half_pixel" : "half_pixel");
        if (ctm != "half_pixel" && ctm != "output_half_pixel")
            return ctx.error(StatusCode::InvalidInput,
                             "unknown coordinate_transformation_mode '" + ctm + "'");
        m_halfPixel = ctm == "half_pixel";
        std::string mode = n.attrString("mode", "avg");
        if (mode != "avg" && mode != "max")
            return ctx.error(StatusCode::InvalidInput, "unknown mode '" + mode + "'");
        m_max = mode == "max";
        m_oh = n.attrInt("output_height", 1);
        m_ow = n.attrInt("output_width", 1);
        m_ratio = n.attrInt("sampling_ratio", 0);
        m_scale = n.attrFloat("spatial_scale", 1.0f);
        if (m_oh < 1 || m_ow < 1 || m_ratio < 0)
            return ctx.error(StatusCode::InvalidInput, "bad output size or sampling_ratio");
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& rois = ctx.input(1);
        const Tensor& bi = ctx.input(2);
        if (x.rank() != 4) return ctx.error(StatusCode::InvalidInput, "X must be [N, C, H, W]");
        if (rois.rank() != 2 || rois.dims()[1] != 4 || bi.numElements() != rois.dims()[0] ||
            (bi.dtype() != DataType::Int64 && bi.dtype() != DataType::Int32))
            return ctx.error(StatusCode::InvalidInput,
                             "rois must be [R, 4] and batch_indices int64 [R]");
        if (!nn::selectFloat<RoiAlignKernel>(x.dtype(), m_fn))
            return ctx.error(StatusCode::Unsupported,
                             "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), {rois.dims()[0], x.dims()[1], m_oh, m_ow});
        return {};
    }
    void run(RunContext& ctx) override { (this->*m_fn)(ctx); }

    template <typename T> void runTyped(RunContext& ctx) {
        const Tensor& xt = ctx.input(0);
        const T* X = xt.data<T>();
        const Tensor& rois = ctx.input(1);
        const Tensor& bi = ctx.input(2);
        T* Y = ctx.output(0).data<T>();
        const int64_t N = xt.dims()[0], C = xt.dims()[1], H = xt.dims()[2], W = xt.dims()[3];
        const int64_t R = rois.dims()[0];
        ctx.pool().parallelFor(0, R * C, 1, [&](int64_t b, int64_t e) {
            for (int64_t rc = b; rc < e; ++rc) {
                const int64_t r = rc / C, c = rc % C;
                T* y = Y + rc * m_oh * m_ow;
                int64_t n = bi.intAt(r);
                if (n < 0 || n >= N) {
                    for (int64_t i = 0; i < m_oh * m_ow; ++i)
                        y[i] = store<T>(0.0);
                    continue;
                }
                const T* xp = X + (n * C + c) * H * W;
                const double off = m_halfPixel ? 0.5 : 0.0;
                double x1 = loadF(rois, r * 4) * m_scale - off,
                       y1 = loadF(rois, r * 4 + 1) * m_scale - off;
                double x2 = loadF(rois, r * 4 + 2) * m_scale - off,
                       y2 = loadF(rois, r * 4 + 3) * m_scale - off;
                double rw = x2 - x1, rh = y2 - y1;
                if (!m_halfPixel) {
                    rw = std::max(rw, 1.0);
                    rh = std::max(rh, 1.0);
                }
                const double bh = rh / static_cast<double>(m_oh),
                             bw = rw / static_cast<double>(m_ow);
                const int64_t gh =
                    m_ratio > 0 ? m_ratio
                                : static_cast<int64_t>(std::ceil(rh / static_cast<double>(m_oh)));
                const int64_t gw =
                    m_ratio > 0 ? m_ratio
                                : static_cast<int64_t>(std::ceil(rw / static_cast<double>(m_ow)));
                const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
                for (int64_t ph = 0; ph < m_oh; ++ph)
                    for (int64_t pw = 0; pw < m_ow; ++pw) {
                        double acc = 0;
                        bool first = true;
                        for (int64_t iy = 0; iy < gh; ++iy) {
                            double yy =
                                y1 + static_cast<double>(ph) * bh +
                                (static_cast<double>(iy) + 0.5) * bh / static_cast<double>(gh);
                            for (int64_t ix = 0; ix < gw; ++ix) {
                                double xx =
                                    x1 + static_cast<double>(pw) * bw +
                                    (static_cast<double>(ix) + 0.5) * bw / static_cast<double>(gw);
                                double v = sample(xp, H, W, yy, xx);
                                if (m_max) {
                                    acc = first ? v : std::max(acc, v);
                                    first = false;
                                } else {
                                    acc += v;
                                }
                            }
                        }
                        y[ph * m_ow + pw] = store<T>(m_max ? acc : acc / count);
                    }
            }
        });
    }

  private:
    /// Bilinear sample at (y, x): the weighted sum (avg) or the largest weighted corner (max).
    template <typename T>
    double sample(const T* xp, int64_t H, int64_t W, double y, double x) const {
        if (y < -1.0 || y > static_cast<double>(H) || x < -1.0 || x > static_cast<double>(W))
            return 0;
        y = std::max(y, 0.0);
        x = std::max(x, 0.0);
        int64_t yl = static_cast<int64_t>(y), xl = static_cast<int64_t>(x), yh, xh;
        if (yl >= H - 1) {
            yh = yl = H - 1;
            y = static_cast<double>(yl);
        } else {
            yh = yl + 1;
        }
        if (xl >= W - 1) {
            xh = xl = W - 1;
            x = static_cast<double>(xl);
        } else {
            xh = xl + 1;
        }
        double ly = y - static_cast<double>(yl), lx = x - static_cast<double>(xl), hy = 1 - ly,
               hx = 1 - lx;
        double v1 = hy * hx * load(xp[yl * W + xl]), v2 = hy * lx * load(xp[yl * W + xh]);
        double v3 = ly * hx * load(xp[yh * W + xl]), v4 = ly * lx * load(xp[yh * W + xh]);
        if (m_max) return std::max(std::max(v1, v2), std::max(v3, v4));
        return v1 + v2 + v3 + v4;
    }

    bool m_halfPixel = true, m_max = false;
    int64_t m_oh = 1, m_ow = 1, m_ratio = 0;
    float m_scale = 1.0f;
    void (RoiAlignKernel::*m_fn)(RunContext&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeNonMaxSuppression() {
    return std::make_unique<cpu::NmsKernel>();
}
std::unique_ptr<Kernel> makeRoiAlign() {
    return std::make_unique<cpu::RoiAlignKernel>();
}

} // namespace ew::rt
