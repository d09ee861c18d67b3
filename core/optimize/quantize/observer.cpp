#include "observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ew::opt::quant {

std::string_view rangeMethodName(RangeMethod m) {
    switch (m) {
    case RangeMethod::MinMax: return "minmax";
    case RangeMethod::MovingAverage: return "moving-average";
    case RangeMethod::Percentile: return "percentile";
    case RangeMethod::Entropy: return "entropy";
    case RangeMethod::Mse: return "mse";
    }
    return "?";
}

bool parseRangeMethod(std::string_view name, RangeMethod& out) {
    for (RangeMethod m : {RangeMethod::MinMax, RangeMethod::MovingAverage, RangeMethod::Percentile,
                          RangeMethod::Entropy, RangeMethod::Mse})
        if (rangeMethodName(m) == name) {
            out = m;
            return true;
        }
    return false;
}

TensorObserver::TensorObserver(int bins, double movingAverageRate)
    : m_bins(std::max(bins, 16)), m_rate(movingAverageRate) {}

void TensorObserver::observe(std::span<const float> values) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (float v : values)
        if (std::isfinite(v)) {
            lo = std::min<double>(lo, v);
            hi = std::max<double>(hi, v);
        }
    if (!(lo <= hi)) return; // nothing finite
    if (m_count == 0) {
        m_min = m_avgMin = lo;
        m_max = m_avgMax = hi;
        // A constant tensor still needs a non-empty bin width.
        const double span = hi > lo ? hi - lo : std::max(std::abs(lo), 1e-6) * 1e-3;
        m_width = span / m_bins;
        m_lo = hi > lo ? lo : lo - span / 2;
        m_hist.assign(static_cast<std::size_t>(m_bins), 0.0);
    } else {
        m_min = std::min(m_min, lo);
        m_max = std::max(m_max, hi);
        m_avgMin += m_rate * (lo - m_avgMin);
        m_avgMax += m_rate * (hi - m_avgMax);
    }
    ++m_samples;
    if (lo < m_lo || hi >= m_lo + m_width * m_bins) grow(lo, hi);
    const double inv = 1.0 / m_width;
    for (float v : values) {
        if (!std::isfinite(v)) continue;
        auto b = static_cast<int64_t>((double(v) - m_lo) * inv);
        b = std::clamp<int64_t>(b, 0, m_bins - 1);
        m_hist[static_cast<std::size_t>(b)] += 1.0;
        ++m_count;
        m_zeros += v == 0.0f;
    }
}

void TensorObserver::grow(double newMin, double newMax) {
    const double lo = std::min(newMin, m_lo);
    const double hi = std::max(newMax, m_lo + m_width * m_bins);
    // New width k * w (k a power of two); origin moved by m whole old bins, so old bin i lands in
    // new bin (m + i) / k exactly.
    int64_t k = 1;
    int64_t m = 0;
    for (;;) {
        k *= 2;
        m = static_cast<int64_t>(std::ceil((m_lo - lo) / m_width));
        m = std::max<int64_t>(m, 0);
        // Keep a little headroom above `hi` so the top value is not on the edge.
        const double top = m_lo - double(m) * m_width + double(k) * m_width * m_bins;
        if (m <= int64_t(m_bins) * (k - 1) && top > hi) break;
        if (k > (int64_t(1) << 50)) break; // absurd ranges: stop coarsening
    }
    std::vector<double> h(static_cast<std::size_t>(m_bins), 0.0);
    for (int64_t i = 0; i < m_bins; ++i) {
        const int64_t j = std::min<int64_t>((m + i) / k, m_bins - 1);
        h[static_cast<std::size_t>(j)] += m_hist[static_cast<std::size_t>(i)];
    }
    m_hist = std::move(h);
    m_lo -= double(m) * m_width;
    m_width *= double(k);
}

double TensorObserver::quantile(double q) const {
    const double total = std::accumulate(m_hist.begin(), m_hist.end(), 0.0);
    if (total <= 0) return 0;
    const double target = std::clamp(q, 0.0, 1.0) * total;
    double acc = 0;
    for (int i = 0; i < m_bins; ++i) {
        const double c = m_hist[static_cast<std::size_t>(i)];
        if (acc + c >= target && c > 0) {
            const double frac = (target - acc) / c;
            return m_lo + (i + frac) * m_width;
        }
        acc += c;
    }
    return m_lo + m_bins * m_width;
}

std::pair<double, double> TensorObserver::percentileRange(double pct) const {
    const double keep = std::clamp(pct, 0.0, 100.0) / 100.0;
    double lo = quantile(1.0 - keep), hi = quantile(keep);
    lo = std::clamp(lo, m_min, m_max);
    hi = std::clamp(hi, m_min, m_max);
    if (m_min >= 0) lo = m_min; // one-sided data: the lower tail is the zero point, keep it
    return {std::min(lo, hi), std::max(lo, hi)};
}

namespace {

/// The histogram of |x| over [0, absMax) with `bins` bins, each signed bin's count spread over
/// the magnitude bins it overlaps in proportion to the overlap.
std::vector<double> magnitudeHistogram(const std::vector<double>& hist, double lo, double width,
                                       double absMax, int bins) {
    std::vector<double> out(static_cast<std::size_t>(bins), 0.0);
    const double w = absMax / bins;
    auto addInterval = [&](double a, double b, double count) { // 0 <= a < b
        const double len = b - a;
        int i0 = std::clamp(int(a / w), 0, bins - 1), i1 = std::clamp(int(b / w), 0, bins - 1);
        for (int i = i0; i <= i1; ++i) {
            const double s = std::max(a, i * w), e = std::min(b, (i + 1) * w);
            if (e > s) out[static_cast<std::size_t>(i)] += count * (e - s) / len;
            else if (i0 == i1) out[static_cast<std::size_t>(i)] += count;
        }
    };
    for (std::size_t i = 0; i < hist.size(); ++i) {
        const double c = hist[i];
        if (c <= 0) continue;
        const double a = lo + double(i) * width, b = a + width;
        if (a >= 0) addInterval(a, b, c);
        else if (b <= 0) addInterval(-b, -a, c);
        else { // straddles zero
            addInterval(0, -a, c * (-a) / width);
            addInterval(0, b, c * b / width);
        }
    }
    return out;
}

double klDivergence(const std::vector<double>& p, const std::vector<double>& q) {
    const double sp = std::accumulate(p.begin(), p.end(), 0.0);
    const double sq = std::accumulate(q.begin(), q.end(), 0.0);
    if (sp <= 0 || sq <= 0) return std::numeric_limits<double>::infinity();
    double d = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] <= 0) continue;
        // Q is zero only where P's merged bucket was empty, which cannot hold a P mass; guard anyway.
        const double qi = q[i] > 0 ? q[i] / sq : 1e-12;
        d += p[i] / sp * std::log(p[i] / sp / qi);
    }
    return d;
}

} // namespace

int entropyThresholdBins(std::span<const double> hist, int levels) {
    const int n = static_cast<int>(hist.size());
    if (n <= levels) return n;
    double bestD = std::numeric_limits<double>::infinity();
    int best = n;
    std::vector<double> p, q;
    double tail = 0;
    for (int i = levels; i < n; ++i) tail += hist[static_cast<std::size_t>(i)];
    for (int i = levels; i <= n; ++i) {
        // Reference: the first i bins, the clipped tail folded into the last one.
        p.assign(hist.begin(), hist.begin() + i);
        p.back() += tail;
        if (i < n) tail -= hist[static_cast<std::size_t>(i)];
        // Candidate: the first i bins (without the tail) merged into `levels` buckets and
        // expanded back uniformly over each bucket's non-empty bins.
        q.assign(static_cast<std::size_t>(i), 0.0);
        const double per = double(i) / levels;
        for (int j = 0; j < levels; ++j) {
            const int s = int(std::floor(j * per)), e = (j == levels - 1) ? i : int(std::floor((j + 1) * per));
            double sum = 0;
            int nonzero = 0;
            for (int k = s; k < e; ++k) {
                sum += hist[static_cast<std::size_t>(k)];
                nonzero += hist[static_cast<std::size_t>(k)] > 0;
            }
            if (nonzero == 0) continue;
            for (int k = s; k < e; ++k)
                if (hist[static_cast<std::size_t>(k)] > 0) q[static_cast<std::size_t>(k)] = sum / nonzero;
        }
        const double d = klDivergence(p, q);
        if (d < bestD) {
            bestD = d;
            best = i;
        }
    }
    return best;
}

std::pair<double, double> TensorObserver::entropyRange(int levels) const {
    const double absMax = std::max(std::abs(m_min), std::abs(m_max));
    if (absMax <= 0) return {m_min, m_max};
    const bool oneSided = m_min >= 0 || m_max <= 0;
    // Two-sided data spends half the levels on each sign.
    const int lv = oneSided ? levels : std::max(levels / 2, 2);
    // Exact zeros are set aside: after a Relu they are often most of the tensor, and that spike
    // (smeared over the first magnitude bins) makes the divergence search favour thresholds that
    // crush the rest of the distribution. Zero is exact at any scale, so it costs nothing to
    // leave out. TensorRT's calibrator (pytorch-quantization's _compute_amax_entropy) does the
    // same by giving the first bin its neighbour's count.
    std::vector<double> hist = m_hist;
    if (m_zeros > 0) {
        const auto z = std::clamp<int64_t>(static_cast<int64_t>(-m_lo / m_width), 0, m_bins - 1);
        hist[static_cast<std::size_t>(z)] = std::max(0.0, hist[static_cast<std::size_t>(z)] - double(m_zeros));
    }
    std::vector<double> mag = magnitudeHistogram(hist, m_lo, m_width, absMax, m_bins);
    const int k = entropyThresholdBins(mag, lv);
    const double t = absMax * double(k) / m_bins;
    return {std::max(m_min, -t), std::min(m_max, t)};
}

std::pair<double, double> TensorObserver::mseRange(int levels) const {
    // Expected squared error of quantizing the histogram to [lo, hi] (widened to hold zero, as
    // the quantizer will): clipped mass pays its distance to the edge, the rest the uniform
    // rounding noise step^2 / 12.
    auto cost = [&](double lo, double hi) {
        const double step = (std::max(hi, 0.0) - std::min(lo, 0.0)) / (levels - 1);
        const double noise = step * step / 12.0;
        double e = 0;
        for (int i = 0; i < m_bins; ++i) {
            const double c = m_hist[static_cast<std::size_t>(i)];
            if (c <= 0) continue;
            const double x = m_lo + (i + 0.5) * m_width;
            if (x < lo) e += c * (lo - x) * (lo - x);
            else if (x > hi) e += c * (x - hi) * (x - hi);
            else e += c * noise;
        }
        return e;
    };
    constexpr int kSteps = 64;
    double bestLo = m_min, bestHi = m_max, best = cost(m_min, m_max);
    const bool lowFixed = m_min >= 0, highFixed = m_max <= 0;
    for (int a = 1; a <= kSteps; ++a) {
        const double lo = lowFixed ? m_min : m_min * a / kSteps;
        for (int b = 1; b <= kSteps; ++b) {
            const double hi = highFixed ? m_max : m_max * b / kSteps;
            const double e = cost(lo, hi);
            if (e < best) {
                best = e;
                bestLo = lo;
                bestHi = hi;
            }
            if (highFixed) break;
        }
        if (lowFixed) break;
    }
    // Refine around the coarse optimum (one coarse step each way, 16 finer steps).
    const double stepLo = std::abs(m_min) / kSteps, stepHi = std::abs(m_max) / kSteps;
    const double cLo = bestLo, cHi = bestHi;
    for (int a = -16; a <= 16; ++a) {
        const double lo = lowFixed ? m_min : std::clamp(cLo + stepLo * a / 16.0, m_min, 0.0);
        for (int b = -16; b <= 16; ++b) {
            const double hi = highFixed ? m_max : std::clamp(cHi + stepHi * b / 16.0, 0.0, m_max);
            const double e = cost(lo, hi);
            if (e < best) {
                best = e;
                bestLo = lo;
                bestHi = hi;
            }
            if (highFixed) break;
        }
        if (lowFixed) break;
    }
    return {bestLo, bestHi};
}

std::pair<double, double> TensorObserver::range(const RangeOptions& o) const {
    if (m_count == 0) return {0, 0};
    switch (o.method) {
    case RangeMethod::MinMax: return {m_min, m_max};
    case RangeMethod::MovingAverage: return {std::min(m_avgMin, m_avgMax), std::max(m_avgMin, m_avgMax)};
    case RangeMethod::Percentile: return percentileRange(o.percentile);
    case RangeMethod::Entropy: return entropyRange(o.levels);
    case RangeMethod::Mse: return mseRange(o.levels);
    }
    return {m_min, m_max};
}

} // namespace ew::opt::quant
