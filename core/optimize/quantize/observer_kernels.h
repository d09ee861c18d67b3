#pragma once
// The per-element work of TensorObserver::observe (internal to observer.cpp and its tests).
// Calibration runs every activation value of every sample through it, so it has an AVX2 build
// (observer_avx2.cpp, chosen at run time after a CPU check) next to the portable one. Both give
// the same results bit for bit, whatever the order of the work: min and max are exact in float,
// and the histogram is integer counts (exact in the double bins up to 2^53).
#include <cstdint>

namespace ew::opt::quant::detail {

/// One sample's statistics over its finite values.
struct ScanResult {
    float lo = 0, hi = 0;   ///< min and max (lo > hi when nothing is finite)
    int64_t finite = 0;     ///< finite values
    int64_t zeros = 0;      ///< exact zeros (either sign)
};

/// min / max / counts of `x[0, n)`, NaN and infinities skipped. Among equal extremes lo and hi are
/// the first in order, as a sequential `std::min`/`std::max` scan keeps them: this only shows in
/// the sign of a zero extreme, which is then that of the first zero.
ScanResult scanValues(const float* x, int64_t n);

/// Count tables of binValues: kCountTables tables of countStride(bins) uint32 each (bins rounded
/// up to whole 64-byte lines). Consecutive values go to different tables, so a run of values in
/// one bin (a peaked distribution) does not wait on one counter's store after another.
constexpr int kCountTables = 4;
constexpr int64_t countStride(int bins) { return (int64_t(bins) + 15) / 16 * 16; }
/// The most values one binValues call may take (the uint32 counts cannot overflow).
constexpr int64_t kMaxBinChunk = int64_t(1) << 31;

/// For each finite, non-zero x[i], adds one to bin clamp(trunc((double(x[i]) - lo) * inv), 0,
/// bins - 1) of one of the count tables (which one is unspecified: the caller sums them).
/// Zeros are left out (the caller adds them in one go: they all fall in the same bin).
/// `counts`: kCountTables * countStride(bins) values; n <= kMaxBinChunk.
void binValues(const float* x, int64_t n, double lo, double inv, int bins, uint32_t* counts);

/// binValues' bins added straight into the double bins (hist[b] += 1 per value), for samples too
/// small to pay for clearing and merging the count tables.
void binValuesInto(const float* x, int64_t n, double lo, double inv, int bins, double* hist);

/// The bin of finite value v: the formula binValues applies to every value. Clamping before the
/// conversion equals truncating then clamping, and stays defined where the position overflows
/// int64 (a range grown past grow()'s coarsening limit).
inline int64_t binOf(float v, double lo, double inv, int bins) {
    double t = (double(v) - lo) * inv;
    t = t > 0.0 ? t : 0.0;
    t = t < double(bins - 1) ? t : double(bins - 1);
    return static_cast<int64_t>(t);
}

/// Tests: forces the portable code even where AVX2 exists.
void observerForcePortable(bool portable);
/// True when scanValues / binValues run the AVX2 code.
bool observerUsesAvx2();

} // namespace ew::opt::quant::detail
