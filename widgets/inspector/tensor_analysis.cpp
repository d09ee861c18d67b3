#include "tensor_analysis.h"

#include "ir/shape.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace ew::ui {

namespace {

constexpr int64_t kMaxChannels = 1 << 16;
constexpr int64_t kCancelCheckEvery = 1 << 16;

template <typename T> T loadAt(const std::byte* p, int64_t i) {
    T v;
    std::memcpy(&v, p + i * int64_t(sizeof(T)), sizeof(T));
    return v;
}

/// Calls f(i, value) for every element, with tight loops for the common storage types and
/// Tensor::valueAsDouble for the rest. Returns false when cancelled.
template <typename F>
bool forEachValue(const ir::Tensor& t, int64_t n, const std::atomic<bool>* cancel, F&& f) {
    const std::byte* p = t.bytes().data();
    auto run = [&](auto load) {
        for (int64_t start = 0; start < n; start += kCancelCheckEvery) {
            if (cancel && cancel->load(std::memory_order_relaxed)) return false;
            int64_t end = std::min(n, start + kCancelCheckEvery);
            for (int64_t i = start; i < end; ++i)
                f(i, load(i));
        }
        return true;
    };
    switch (t.dtype) {
    case ir::DataType::Float:
        return run([p](int64_t i) { return double(loadAt<float>(p, i)); });
    case ir::DataType::Double:
        return run([p](int64_t i) { return loadAt<double>(p, i); });
    case ir::DataType::Float16:
        return run([p](int64_t i) { return double(ir::halfToFloat(loadAt<uint16_t>(p, i))); });
    case ir::DataType::Int8:
        return run([p](int64_t i) { return double(loadAt<int8_t>(p, i)); });
    case ir::DataType::UInt8:
        return run([p](int64_t i) { return double(loadAt<uint8_t>(p, i)); });
    case ir::DataType::Int32:
        return run([p](int64_t i) { return double(loadAt<int32_t>(p, i)); });
    case ir::DataType::Int64:
        return run([p](int64_t i) { return double(loadAt<int64_t>(p, i)); });
    default:
        return run([&t](int64_t i) { return t.valueAsDouble(i); });
    }
}

/// Welford accumulation, as computeTensorStats does it, so both agree on the same data.
struct Accumulator {
    TensorStats s;
    double m2 = 0.0;
    int64_t finite = 0;

    void add(double x) {
        ++s.count;
        if (x == 0.0) ++s.zeros;
        if (!std::isfinite(x)) {
            ++s.nonFinite;
            return;
        }
        if (finite == 0) {
            s.min = s.max = x;
        } else {
            s.min = std::min(s.min, x);
            s.max = std::max(s.max, x);
        }
        ++finite;
        double delta = x - s.mean;
        s.mean += delta / double(finite);
        m2 += delta * (x - s.mean);
    }
    TensorStats finish() {
        s.stddev = finite > 0 ? std::sqrt(m2 / double(finite)) : 0.0;
        return s;
    }
};

std::string formatInt(int64_t v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

/// Shortest text that reads back to the same value, in the value's own precision: a float32
/// weight prints as 0.1, not 0.10000000149011612.
template <typename T> std::string formatShortest(T v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

} // namespace

int64_t Histogram::total() const {
    int64_t sum = 0;
    for (int64_t c : counts)
        sum += c;
    return sum;
}

int histogramBinCount(int64_t finiteCount, int maxBins) {
    if (finiteCount <= 0) return 1;
    int rice = int(std::ceil(2.0 * std::cbrt(double(finiteCount))));
    return std::clamp(rice, 10, std::max(10, maxBins));
}

int channelAxisFor(const ir::Tensor& t, const ir::Node* consumer, int inputIndex,
                   const std::optional<ir::QuantParams>& quant) {
    int rank = int(t.dims.size());
    if (rank < 2) return -1;
    auto normalize = [rank](int64_t a) { return int(a < 0 ? a + rank : a); };
    if (quant && quant->isPerAxis()) {
        int a = normalize(quant->axis);
        if (a >= 0 && a < rank) return a;
    }
    if (!consumer) return 0;
    const std::string& op = consumer->opType;
    if (op == "ConvTranspose") return 1;
    if (op == "Gemm" && inputIndex == 1) return consumer->attrInt("transB", 0) ? 0 : 1;
    if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul" || op == "MatMulNBits" ||
        op == "FusedMatMul")
        return rank - 1;
    return 0;
}

TensorAnalysis analyzeTensor(const ir::Tensor& t, const AnalysisOptions& options,
                             const std::atomic<bool>* cancel) {
    TensorAnalysis out;
    if (t.dtype == ir::DataType::String || t.dtype == ir::DataType::Undefined) {
        out.stats.numeric = false;
        out.stats.count = t.dtype == ir::DataType::String ? int64_t(t.strings.size()) : 0;
        return out;
    }
    int64_t n = t.numElements();
    auto need = ir::dataTypeStorageBytes(t.dtype, uint64_t(std::max<int64_t>(n, 0)));
    // Never read past the bytes, even for a tensor the verifier should have rejected.
    if (n <= 0 || !need || *need > t.byteSize()) return out;

    // Channel geometry: element i belongs to channel (i / inner) % channels.
    int rank = int(t.dims.size());
    int axis = options.channelAxis;
    int64_t channels = 0, inner = 1;
    if (axis >= 0 && axis < rank && rank >= 2 && t.dims[std::size_t(axis)] > 0 &&
        t.dims[std::size_t(axis)] <= kMaxChannels) {
        channels = t.dims[std::size_t(axis)];
        for (int d = axis + 1; d < rank; ++d)
            inner *= t.dims[std::size_t(d)];
    } else {
        axis = -1;
    }

    // Dequantization works along the quant axis, which may differ from the plotted one.
    const ir::QuantParams* q = options.quant ? &*options.quant : nullptr;
    bool dequant = options.dequantize && q && !q->scales.empty() && ir::isInteger(t.dtype);
    int64_t qChannels = 1, qInner = 1;
    std::vector<double> qScale, qZero;
    if (dequant) {
        if (q->isPerAxis()) {
            int qa = int(q->axis < 0 ? q->axis + rank : q->axis);
            if (qa < 0 || qa >= rank || t.dims[std::size_t(qa)] != int64_t(q->scales.size())) {
                dequant = false;
            } else {
                qChannels = int64_t(q->scales.size());
                for (int d = qa + 1; d < rank; ++d)
                    qInner *= t.dims[std::size_t(d)];
            }
        }
        for (int64_t c = 0; dequant && c < qChannels; ++c) {
            qScale.push_back(q->scales[std::size_t(c)]);
            qZero.push_back(q->zeroPoints.empty()
                                ? 0.0
                                : double(q->zeroPoints[std::min<std::size_t>(
                                      std::size_t(c), q->zeroPoints.size() - 1)]));
        }
    }
    out.dequantized = dequant;
    auto valueOf = [&](int64_t i, double raw) {
        if (!dequant) return raw;
        std::size_t c = qChannels > 1 ? std::size_t((i / qInner) % qChannels) : 0;
        return (raw - qZero[c]) * qScale[c];
    };

    // Pass 1: statistics and per-channel ranges.
    Accumulator acc;
    std::vector<double> chMin, chMax;
    std::vector<char> chSeen;
    if (axis >= 0) {
        chMin.assign(std::size_t(channels), 0.0);
        chMax.assign(std::size_t(channels), 0.0);
        chSeen.assign(std::size_t(channels), 0);
    }
    bool ok = forEachValue(t, n, cancel, [&](int64_t i, double raw) {
        double x = valueOf(i, raw);
        acc.add(x);
        if (axis >= 0 && std::isfinite(x)) {
            std::size_t c = std::size_t((i / inner) % channels);
            if (!chSeen[c]) {
                chMin[c] = chMax[c] = x;
                chSeen[c] = 1;
            } else {
                chMin[c] = std::min(chMin[c], x);
                chMax[c] = std::max(chMax[c], x);
            }
        }
    });
    if (!ok) {
        out.cancelled = true;
        return out;
    }
    out.stats = acc.finish();
    if (axis >= 0) {
        out.channels.axis = axis;
        out.channels.min = std::move(chMin);
        out.channels.max = std::move(chMax);
    }

    // Pass 2: the histogram over [min, max] of the finite values.
    int64_t finite = out.stats.count - out.stats.nonFinite;
    Histogram& h = out.histogram;
    if (finite <= 0) return out;
    double lo = out.stats.min, hi = out.stats.max;
    double span = hi - lo;
    bool integral = ir::isInteger(t.dtype) && !dequant;
    if (integral && span <= 255.0) {
        // One bin per representable value: an int8 weight shows exactly what was quantized.
        h.integerBins = true;
        h.lower = lo - 0.5;
        h.width = 1.0;
        h.counts.assign(std::size_t(span) + 1, 0);
    } else if (span <= 0.0 || !std::isfinite(span)) {
        h.lower = lo - 0.5;
        h.width = 1.0;
        h.counts.assign(1, 0);
    } else {
        int bins = histogramBinCount(finite, options.maxBins);
        h.lower = lo;
        h.width = span / double(bins);
        h.counts.assign(std::size_t(bins), 0);
    }
    const int64_t last = int64_t(h.counts.size()) - 1;
    ok = forEachValue(t, n, cancel, [&](int64_t i, double raw) {
        double x = valueOf(i, raw);
        if (!std::isfinite(x)) return;
        auto b = int64_t(std::floor((x - h.lower) / h.width));
        h.counts[std::size_t(std::clamp<int64_t>(b, 0, last))] += 1;
    });
    if (!ok) out.cancelled = true;
    return out;
}

std::string formatTensorValues(const ir::Tensor& t, int64_t maxValues) {
    std::string out = "# " + t.name + " " + std::string(ir::dataTypeName(t.dtype)) + " " +
                      ir::Shape::of(t.dims).toString();
    int64_t n = t.dtype == ir::DataType::String ? int64_t(t.strings.size()) : t.numElements();
    out += " (" + std::to_string(std::max<int64_t>(n, 0)) + " values)\n";
    if (n <= 0) return out;
    if (t.dtype != ir::DataType::String) {
        auto need = ir::dataTypeStorageBytes(t.dtype, uint64_t(n));
        if (!need || *need > t.byteSize()) return out + "# (data missing)\n";
    }
    int64_t shown = std::min(n, std::max<int64_t>(maxValues, 0));
    int64_t row = t.dims.empty() || t.dims.back() <= 0 ? 1 : t.dims.back();
    bool integral = ir::isInteger(t.dtype) || t.dtype == ir::DataType::Bool;
    out.reserve(out.size() + std::size_t(shown) * 12);
    for (int64_t i = 0; i < shown; ++i) {
        if (t.dtype == ir::DataType::String)
            out += t.strings[std::size_t(i)];
        else if (integral)
            out += t.dtype == ir::DataType::UInt64 ? formatShortest(uint64_t(t.valueAsInt(i)))
                                                   : formatInt(t.valueAsInt(i));
        else if (t.dtype == ir::DataType::Double || t.dtype == ir::DataType::Complex128)
            out += formatShortest(t.valueAsDouble(i));
        else
            out += formatShortest(float(t.valueAsDouble(i)));
        out += (i + 1) % row == 0 || i + 1 == shown ? '\n' : '\t';
    }
    if (shown < n)
        out += "# truncated: " + std::to_string(shown) + " of " + std::to_string(n) +
               " values copied; save as .npy for all of them\n";
    return out;
}

} // namespace ew::ui
