#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ew::rt {
class ThreadPool;
}

namespace ew::opt::quant {

/// How a tensor's clipping range is chosen from its statistics.
enum class RangeMethod {
    MinMax,        ///< the smallest and largest value ever seen
    MovingAverage, ///< exponential moving average of each sample's min and max
    Percentile,    ///< the given two-sided percentile of the value distribution
    Entropy,       ///< threshold minimising KL(P || Q) of the 8-bit quantized histogram (TensorRT)
    Mse,           ///< clip range minimising the expected quantization MSE over the histogram
};
std::string_view rangeMethodName(RangeMethod m);
/// True for the methods that read the histogram (all but MinMax and MovingAverage).
bool rangeNeedsHistogram(RangeMethod m);
/// "minmax", "moving-average", "percentile", "entropy", "mse".
bool parseRangeMethod(std::string_view name, RangeMethod& out);

struct RangeOptions {
    RangeMethod method = RangeMethod::MinMax;
    double percentile = 99.99;      ///< Percentile: kept fraction in percent (two-sided)
    int levels = 256;               ///< quantization levels the range will be split into
};

/// Streaming statistics of one float tensor over any number of samples, in bounded memory:
/// global min/max, a moving average of per-sample min/max, and a fixed-size histogram (kBins
/// bins). The histogram's range starts at the first sample's [min, max] and only grows: when a
/// value falls outside, the bin width is multiplied by a power of two and the range origin moves
/// by whole old bins, so every old bin lands in exactly one new bin (merging is exact; only the
/// resolution coarsens). Invariant: sum of counts == count() of finite values observed.
/// With bins == 0 no histogram is kept (min, max and the moving averages only, for MinMax and
/// MovingAverage): observing then costs one vectorized min/max pass per sample.
class TensorObserver {
public:
    static constexpr int kBins = 2048;

    /// `bins`: histogram bins (at least 16), or 0 for none. `movingAverageRate`: weight of each
    /// new sample in the moving averages (ORT's 0.01).
    explicit TensorObserver(int bins = kBins, double movingAverageRate = 0.01);

    /// One sample's values (NaN and infinities are skipped). With a `pool`, a large sample is
    /// scanned and binned in pieces on its threads; the result is the same bit for bit.
    void observe(std::span<const float> values, rt::ThreadPool* pool = nullptr);

    int64_t count() const { return m_count; }
    /// Exact zeros (either sign) among the finite values observed.
    int64_t zeros() const { return m_zeros; }
    double min() const { return m_min; }
    double max() const { return m_max; }
    double averageMin() const { return m_avgMin; }
    double averageMax() const { return m_avgMax; }
    /// Histogram range and counts (empty before the first finite value).
    double histLow() const { return m_lo; }
    double binWidth() const { return m_width; }
    const std::vector<double>& histogram() const { return m_hist; }
    /// False when built with bins == 0: range() then serves MinMax and MovingAverage only.
    bool hasHistogram() const { return m_bins > 0; }

    /// The clipping range [lo, hi] (lo <= hi) chosen by `o.method`. Every method stays inside
    /// [min(), max()]. Zero is not forced in here: the quantizer widens the range to hold it.
    /// A method that needs the histogram (rangeNeedsHistogram) requires hasHistogram(); without
    /// one it gets the min-max range (quantizeModel refuses such a calibration first).
    std::pair<double, double> range(const RangeOptions& o) const;

private:
    void grow(double newMin, double newMax);
    void addToHistogram(const float* x, int64_t n, int64_t zeros, int64_t parts, rt::ThreadPool* pool);
    std::pair<double, double> percentileRange(double pct) const;
    std::pair<double, double> entropyRange(int levels) const;
    std::pair<double, double> mseRange(int levels) const;
    /// Value at cumulative fraction q of the histogram (linear inside a bin).
    double quantile(double q) const;

    int m_bins;
    std::vector<double> m_hist;
    double m_lo = 0, m_width = 0;
    double m_min = 0, m_max = 0, m_avgMin = 0, m_avgMax = 0;
    int64_t m_count = 0, m_samples = 0;
    int64_t m_zeros = 0; ///< exact zeros among the observed values (the entropy method sets them aside)
    double m_rate = 0.01;
};

/// KL-divergence threshold search of TensorRT's entropy calibration over a histogram of
/// non-negative magnitudes (bin i covers [i, i+1) * width): the number of leading bins whose
/// quantization to `levels` levels loses the least information. Exposed for the tests.
int entropyThresholdBins(std::span<const double> hist, int levels);

} // namespace ew::opt::quant
