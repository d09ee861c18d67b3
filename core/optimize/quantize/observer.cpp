#include "observer.h"

#include "observer_kernels.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>

namespace ew::opt::quant {

// ---------------------------------------------------------------------------------------------
// Per-element kernels (observer_kernels.h): portable code and the run-time AVX2 dispatch.

namespace detail {

#if defined(__x86_64__) || defined(__i386__)
ScanResult scanValuesAvx2(const float* x, int64_t n);
void binValuesAvx2(const float* x, int64_t n, double lo, double inv, int bins, uint32_t* counts);
void binValuesIntoAvx2(const float* x, int64_t n, double lo, double inv, int bins, double* hist);
#endif

namespace {

std::atomic<bool> g_forcePortable{false};

ScanResult scanValuesPortable(const float* x, int64_t n) {
    ScanResult r{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0, 0};
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (!std::isfinite(v)) continue;
        r.lo = v < r.lo ? v : r.lo;
        r.hi = v > r.hi ? v : r.hi;
        ++r.finite;
        r.zeros += v == 0.0f;
    }
    return r;
}

void binValuesPortable(const float* x, int64_t n, double lo, double inv, int bins, uint32_t* counts) {
    const int64_t stride = countStride(bins);
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (!std::isfinite(v) || v == 0.0f) continue;
        ++counts[(i % kCountTables) * stride + binOf(v, lo, inv, bins)];
    }
}

void binValuesIntoPortable(const float* x, int64_t n, double lo, double inv, int bins, double* hist) {
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (std::isfinite(v) && v != 0.0f) hist[binOf(v, lo, inv, bins)] += 1.0;
    }
}

} // namespace

void observerForcePortable(bool portable) { g_forcePortable.store(portable); }

bool observerUsesAvx2() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    return avx2 && !g_forcePortable.load(std::memory_order_relaxed);
#else
    return false;
#endif
}

ScanResult scanValues(const float* x, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (observerUsesAvx2()) return scanValuesAvx2(x, n);
#endif
    return scanValuesPortable(x, n);
}

void binValues(const float* x, int64_t n, double lo, double inv, int bins, uint32_t* counts) {
#if defined(__x86_64__) || defined(__i386__)
    if (observerUsesAvx2()) return binValuesAvx2(x, n, lo, inv, bins, counts);
#endif
    binValuesPortable(x, n, lo, inv, bins, counts);
}

void binValuesInto(const float* x, int64_t n, double lo, double inv, int bins, double* hist) {
#if defined(__x86_64__) || defined(__i386__)
    if (observerUsesAvx2()) return binValuesIntoAvx2(x, n, lo, inv, bins, hist);
#endif
    binValuesIntoPortable(x, n, lo, inv, bins, hist);
}

} // namespace detail

bool rangeNeedsHistogram(RangeMethod m) { return m != RangeMethod::MinMax && m != RangeMethod::MovingAverage; }

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
    : m_bins(bins <= 0 ? 0 : std::max(bins, 16)), m_rate(movingAverageRate) {}

namespace {

/// Samples from this many values on are split over the pool (smaller ones cost less than
/// handing pieces to other threads), in pieces of at least kMinPart values.
constexpr int64_t kParallelFrom = int64_t(1) << 15;
constexpr int64_t kMinPart = int64_t(1) << 14;

} // namespace

void TensorObserver::observe(std::span<const float> values, rt::ThreadPool* pool) {
    const float* x = values.data();
    const auto n = static_cast<int64_t>(values.size());
    // One vectorized pass for the sample's min / max / counts, then (histogram methods only) one
    // that bins the values. Both are exact, so neither the code path nor the split over threads
    // changes the result.
    int64_t parts = 1;
    if (pool && pool->threads() > 1 && n >= kParallelFrom)
        parts = std::min<int64_t>(pool->threads(), n / kMinPart);
    if ((n + parts - 1) / parts > detail::kMaxBinChunk) parts = 1; // (the serial path splits such a sample)
    detail::ScanResult s;
    if (parts > 1) {
        thread_local std::vector<detail::ScanResult> pieces;
        pieces.assign(static_cast<std::size_t>(parts), {});
        const int64_t len = (n + parts - 1) / parts;
        detail::ScanResult* out = pieces.data(); // (a thread_local named inside the body would be the worker's own)
        pool->parallelFor(0, parts, 1, [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p) out[p] = detail::scanValues(x + p * len, std::min(len, n - p * len));
        });
        // In order, keeping the earlier piece's extreme among equal ones: the first in order, as
        // one scan keeps it (this decides the sign of a zero extreme).
        s = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0, 0};
        for (const detail::ScanResult& r : pieces) {
            s.lo = r.lo < s.lo ? r.lo : s.lo;
            s.hi = r.hi > s.hi ? r.hi : s.hi;
            s.finite += r.finite;
            s.zeros += r.zeros;
        }
    } else {
        s = detail::scanValues(x, n);
    }
    if (s.finite == 0) return; // nothing finite
    const double lo = s.lo, hi = s.hi;
    if (m_count == 0) {
        m_min = m_avgMin = lo;
        m_max = m_avgMax = hi;
        if (m_bins > 0) {
            // A constant tensor still needs a non-empty bin width.
            const double span = hi > lo ? hi - lo : std::max(std::abs(lo), 1e-6) * 1e-3;
            m_width = span / m_bins;
            m_lo = hi > lo ? lo : lo - span / 2;
            m_hist.assign(static_cast<std::size_t>(m_bins), 0.0);
        }
    } else {
        m_min = std::min(m_min, lo);
        m_max = std::max(m_max, hi);
        m_avgMin += m_rate * (lo - m_avgMin);
        m_avgMax += m_rate * (hi - m_avgMax);
    }
    ++m_samples;
    m_count += s.finite;
    m_zeros += s.zeros;
    if (m_bins == 0) return;
    if (lo < m_lo || hi >= m_lo + m_width * m_bins) grow(lo, hi);
    addToHistogram(x, n, s.zeros, parts, pool);
}

void TensorObserver::addToHistogram(const float* x, int64_t n, int64_t zeros, int64_t parts, rt::ThreadPool* pool) {
    const double inv = 1.0 / m_width;
    // Zeros (half of a post-Relu tensor) all land in one bin: added in one go.
    if (zeros > 0) m_hist[static_cast<std::size_t>(detail::binOf(0.0f, m_lo, inv, m_bins))] += double(zeros);
    // Samples small against the bins go straight into the double bins (the count tables'
    // clearing and merging would cost more than they save).
    if (m_bins > (1 << 24) || (parts == 1 && n < 4 * int64_t(m_bins))) {
        detail::binValuesInto(x, n, m_lo, inv, m_bins, m_hist.data());
        return;
    }
    // Integer counts in a few tables per piece (so runs of equal bins do not serialize on one
    // counter), summed into the double bins afterwards: the same integers as adding 1.0 per
    // value.
    const int64_t stride = detail::countStride(m_bins), table = detail::kCountTables * stride;
    thread_local std::vector<uint32_t> counts;
    auto merge = [&](int64_t pieces) {
        for (int b = 0; b < m_bins; ++b) {
            uint64_t c = 0;
            for (int64_t t = 0; t < pieces * detail::kCountTables; ++t) c += counts[static_cast<std::size_t>(t * stride + b)];
            m_hist[static_cast<std::size_t>(b)] += double(c);
        }
    };
    if (parts > 1) {
        counts.resize(static_cast<std::size_t>(parts * table));
        const int64_t len = (n + parts - 1) / parts;
        uint32_t* base = counts.data();
        pool->parallelFor(0, parts, 1, [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p) {
                std::fill(base + p * table, base + (p + 1) * table, 0u);
                detail::binValues(x + p * len, std::min(len, n - p * len), m_lo, inv, m_bins, base + p * table);
            }
        });
        merge(parts);
    } else {
        counts.resize(static_cast<std::size_t>(table));
        for (int64_t at = 0; at < n; at += detail::kMaxBinChunk) {
            const int64_t len = std::min(n - at, detail::kMaxBinChunk);
            std::fill(counts.begin(), counts.begin() + table, 0u);
            detail::binValues(x + at, len, m_lo, inv, m_bins, counts.data());
            merge(1);
        }
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
    if (m_bins == 0 && rangeNeedsHistogram(o.method)) return {m_min, m_max}; // see range()'s contract
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
