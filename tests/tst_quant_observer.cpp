// TensorObserver's fast paths (observer_kernels.h: AVX2 and portable kernels, integer count
// tables, samples split over a thread pool, no histogram for minmax / moving-average) against a
// straightforward reference: the sequential double-precision loop the observer used before. Every
// field range() reads (min, max, moving averages, count, zeros, histogram origin, width and
// counts) must be equal bit for bit, so every method's range is too; the ranges are compared as
// well, between all code paths. On the real models, calibrate() with the AVX2 kernels equals the
// portable kernels, and a histogram-less calibration gives the same minmax quantization.
#include "test_util.h"

#include "ir/io/model_io.h"
#include "optimize/dataset/dataset.h"
#include "optimize/quantize/observer.h"
#include "optimize/quantize/observer_kernels.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <vector>

using namespace ew;
using namespace ew::opt::quant;

namespace {

/// The observer's statistics as the original implementation computed them: one double-precision
/// pass for min / max (std::min / std::max, so the first of equal extremes), then one that bins
/// every finite value with hist[b] += 1; the same grow() (re-binning) rule.
class ReferenceObserver {
public:
    explicit ReferenceObserver(int bins, double rate = 0.01) : m_bins(bins <= 0 ? 0 : std::max(bins, 16)), m_rate(rate) {}

    void observe(const std::vector<float>& values) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (float v : values)
            if (std::isfinite(v)) {
                lo = std::min<double>(lo, v);
                hi = std::max<double>(hi, v);
            }
        if (!(lo <= hi)) return;
        if (count == 0) {
            min = avgMin = lo;
            max = avgMax = hi;
            if (m_bins > 0) {
                const double span = hi > lo ? hi - lo : std::max(std::abs(lo), 1e-6) * 1e-3;
                width = span / m_bins;
                histLo = hi > lo ? lo : lo - span / 2;
                hist.assign(static_cast<std::size_t>(m_bins), 0.0);
            }
        } else {
            min = std::min(min, lo);
            max = std::max(max, hi);
            avgMin += m_rate * (lo - avgMin);
            avgMax += m_rate * (hi - avgMax);
        }
        if (m_bins > 0 && (lo < histLo || hi >= histLo + width * m_bins)) grow(lo, hi);
        const double inv = m_bins > 0 ? 1.0 / width : 0.0;
        for (float v : values) {
            if (!std::isfinite(v)) continue;
            if (m_bins > 0) {
                auto b = static_cast<int64_t>((double(v) - histLo) * inv);
                b = std::clamp<int64_t>(b, 0, m_bins - 1);
                hist[static_cast<std::size_t>(b)] += 1.0;
            }
            ++count;
            zeros += v == 0.0f;
        }
    }

    double min = 0, max = 0, avgMin = 0, avgMax = 0, histLo = 0, width = 0;
    int64_t count = 0, zeros = 0;
    std::vector<double> hist;

private:
    void grow(double newMin, double newMax) {
        const double lo = std::min(newMin, histLo);
        const double hi = std::max(newMax, histLo + width * m_bins);
        int64_t k = 1, m = 0;
        for (;;) {
            k *= 2;
            m = std::max<int64_t>(static_cast<int64_t>(std::ceil((histLo - lo) / width)), 0);
            const double top = histLo - double(m) * width + double(k) * width * m_bins;
            if (m <= int64_t(m_bins) * (k - 1) && top > hi) break;
            if (k > (int64_t(1) << 50)) break;
        }
        std::vector<double> h(static_cast<std::size_t>(m_bins), 0.0);
        for (int64_t i = 0; i < m_bins; ++i)
            h[static_cast<std::size_t>(std::min<int64_t>((m + i) / k, m_bins - 1))] += hist[static_cast<std::size_t>(i)];
        hist = std::move(h);
        histLo -= double(m) * width;
        width *= double(k);
    }

    int m_bins;
    double m_rate;
};

bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

/// Empty when equal bit for bit, else what differs.
QString compareState(const ReferenceObserver& r, const TensorObserver& o) {
    auto num = [](double v) { return QString::number(v, 'g', 17) + (std::signbit(v) ? "(-)" : ""); };
    const std::pair<const char*, std::pair<double, double>> fields[] = {
        {"min", {r.min, o.min()}},           {"max", {r.max, o.max()}},
        {"averageMin", {r.avgMin, o.averageMin()}}, {"averageMax", {r.avgMax, o.averageMax()}},
        {"histLow", {r.histLo, o.histLow()}}, {"binWidth", {r.width, o.binWidth()}}};
    for (const auto& [name, v] : fields)
        if (!sameBits(v.first, v.second)) return QString("%1: reference %2, observer %3").arg(name, num(v.first), num(v.second));
    if (r.count != o.count()) return QString("count: %1 vs %2").arg(r.count).arg(o.count());
    if (r.zeros != o.zeros()) return QString("zeros: %1 vs %2").arg(r.zeros).arg(o.zeros());
    if (r.hist.size() != o.histogram().size()) return QString("histogram size %1 vs %2").arg(r.hist.size()).arg(o.histogram().size());
    for (std::size_t i = 0; i < r.hist.size(); ++i)
        if (!sameBits(r.hist[i], o.histogram()[i]))
            return QString("bin %1: %2 vs %3").arg(i).arg(num(r.hist[i]), num(o.histogram()[i]));
    return {};
}

std::vector<RangeOptions> allMethods() {
    std::vector<RangeOptions> out;
    for (RangeMethod m : {RangeMethod::MinMax, RangeMethod::MovingAverage, RangeMethod::Percentile,
                          RangeMethod::Entropy, RangeMethod::Mse}) {
        RangeOptions o;
        o.method = m;
        out.push_back(o);
        if (m == RangeMethod::Percentile) {
            o.percentile = 99.0;
            out.push_back(o);
        }
    }
    return out;
}

/// A named sequence of samples.
struct Case {
    const char* name;
    std::vector<std::vector<float>> samples;
};

std::vector<Case> cases() {
    std::mt19937 rng(11);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    auto normal = [&](std::size_t n, float scale, float shift = 0.f) {
        std::vector<float> v(n);
        for (float& x : v) x = nd(rng) * scale + shift;
        return v;
    };
    // Sizes straddle the straight-into-the-bins path (< 4 * bins values: 64 or 8192 here) and the
    // count tables, the vector tails (not multiples of 8 / 16) and the pooled path (>= 32768
    // values, pieces of >= 16384).
    const std::size_t sizes[] = {1, 7, 63, 64, 100, 1023, 1031, 5000, 8191, 8192, 40000, 100003, 262144};
    std::vector<Case> out;
    {
        Case c{"normal, mixed sizes", {}};
        for (std::size_t n : sizes) c.samples.push_back(normal(n, 1.f));
        out.push_back(std::move(c));
    }
    {
        Case c{"all equal values", {}};
        for (std::size_t n : {std::size_t(5000), std::size_t(70000), std::size_t(3)}) c.samples.emplace_back(n, 2.5f);
        out.push_back(std::move(c));
    }
    {
        Case c{"all zeros, then -0 first", {}};
        c.samples.emplace_back(50000, 0.f);
        std::vector<float> z(50000, 0.f);
        z[0] = -0.f;
        c.samples.push_back(z);
        out.push_back(std::move(c));
    }
    {
        // Post-Relu: 70% exact zeros (some -0), the rest exponential; the first zero's sign
        // decides the min's sign, placed late so a split over pieces must keep the earlier one.
        Case c{"zeros spike", {}};
        for (std::size_t n : {std::size_t(90000), std::size_t(2000), std::size_t(300000)}) {
            std::vector<float> v(n);
            for (float& x : v) x = u(rng) < 0.7f ? (u(rng) < 0.3f ? -0.f : 0.f) : -std::log(1.f - u(rng) * 0.999f);
            for (std::size_t i = 0; i < n * 3 / 4; ++i)
                if (v[i] == 0.f) v[i] = 0.5f;
            v[n * 3 / 4] = -0.f;
            c.samples.push_back(std::move(v));
        }
        out.push_back(std::move(c));
    }
    {
        Case c{"negative only", {}};
        for (std::size_t n : sizes) {
            auto v = normal(n, 2.f);
            for (float& x : v) x = -std::abs(x) - 0.25f;
            c.samples.push_back(std::move(v));
        }
        auto zmax = normal(60000, 1.f); // max exactly zero: -0 first, then +0
        for (float& x : zmax) x = -std::abs(x) - 1.f;
        zmax[40000] = -0.f;
        zmax[50000] = 0.f;
        c.samples.push_back(std::move(zmax));
        out.push_back(std::move(c));
    }
    {
        // The histogram's range grows by large factors, on both sides, several times.
        Case c{"huge range growth", {}};
        c.samples.push_back(normal(4000, 1e-3f, 5e-3f));
        c.samples.push_back(normal(50000, 1.f));
        c.samples.push_back(normal(3000, 1e3f, 2e3f));
        c.samples.push_back(normal(100000, 1e5f));
        c.samples.push_back(normal(20000, 1e-2f));
        c.samples.push_back(normal(70000, 3e7f, -1e8f));
        out.push_back(std::move(c));
    }
    {
        Case c{"NaN and infinities mixed in", {}};
        for (std::size_t n : {std::size_t(10), std::size_t(3000), std::size_t(80001)}) {
            auto v = normal(n, 3.f);
            for (std::size_t i = 0; i < n; i += 7) v[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
            c.samples.push_back(std::move(v));
        }
        c.samples.emplace_back(40000, NAN); // nothing finite: ignored
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace

class TstQuantObserver : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { detail::observerForcePortable(false); }

    // Every case, bins 2048 / 16 / 0, every kernel (portable, AVX2 where the CPU has it), with no
    // pool and pools of 2 and 3 threads: the state equals the reference's, and every method's
    // range is the same on all paths.
    void matchesReference() {
        const bool avx2 = [] {
            detail::observerForcePortable(false);
            return detail::observerUsesAvx2();
        }();
        qInfo("AVX2 kernels %s", avx2 ? "available: both kernels checked" : "not available: portable only");
        rt::ThreadPool pool2(2), pool3(3);
        rt::ThreadPool* pools[] = {nullptr, &pool2, &pool3};
        int checked = 0;
        for (const Case& c : cases()) {
            for (int bins : {TensorObserver::kBins, 16, 0}) {
                ReferenceObserver ref(bins);
                for (const auto& s : c.samples) ref.observe(s);
                std::vector<std::pair<double, double>> firstRanges;
                for (int portable = 0; portable < (avx2 ? 2 : 1); ++portable) {
                    detail::observerForcePortable(portable || !avx2);
                    for (rt::ThreadPool* pool : pools) {
                        TensorObserver ob(bins);
                        for (const auto& s : c.samples) ob.observe(s, pool);
                        const QString where = QString("%1, bins %2, %3 kernel, %4 thread(s)")
                                                  .arg(c.name)
                                                  .arg(bins)
                                                  .arg(portable || !avx2 ? "portable" : "AVX2")
                                                  .arg(pool ? pool->threads() : 1);
                        const QString diff = compareState(ref, ob);
                        QVERIFY2(diff.isEmpty(), qPrintable(where + ": " + diff));
                        QCOMPARE(ob.hasHistogram(), bins > 0);
                        std::vector<std::pair<double, double>> ranges;
                        for (const RangeOptions& o : allMethods())
                            if (bins > 0 || !rangeNeedsHistogram(o.method)) ranges.push_back(ob.range(o));
                        if (firstRanges.empty()) firstRanges = ranges;
                        QCOMPARE(ranges.size(), firstRanges.size());
                        for (std::size_t k = 0; k < ranges.size(); ++k)
                            QVERIFY2(sameBits(ranges[k].first, firstRanges[k].first) && sameBits(ranges[k].second, firstRanges[k].second),
                                     qPrintable(where + QString(": range %1 differs between code paths").arg(k)));
                        ++checked;
                    }
                }
            }
        }
        qInfo("%d observer runs equal to the reference", checked);
        QVERIFY(checked >= 7 * 3 * 3);
    }

    // Spot checks that the reference itself is the contract (not just self-consistency).
    void referenceSemantics() {
        TensorObserver ob;
        ob.observe(std::vector<float>{0.f, -0.f, 3.f});
        QVERIFY(!std::signbit(ob.min())); // the first of equal extremes
        TensorObserver neg;
        std::vector<float> v(50000, -1.f);
        v[30000] = -0.f;
        v[40000] = 0.f;
        rt::ThreadPool pool(2);
        neg.observe(v, &pool);
        QVERIFY(std::signbit(neg.max()));
        QCOMPARE(neg.zeros(), int64_t(2));
        QCOMPARE(neg.count(), int64_t(50000));
        double total = 0;
        for (double c : neg.histogram()) total += c;
        QCOMPARE(total, 50000.0);
    }

    // A calibration without histograms serves minmax with the same result, and quantizeModel
    // refuses it for a histogram method. Real models: the AVX2 kernels calibrate exactly as the
    // portable ones.
    void realModels() {
        EW_REQUIRE_MODELS();
        for (const char* rel : {"onnx/digits-cnn/digits_cnn.onnx", "onnx/torchvision-arch/mobilenet_v2.onnx"}) {
            const std::string path = test::str(test::modelsDir() + "/" + rel);
            auto model = ir::loadModel(path);
            QVERIFY2(model, model ? "" : model.error().toString().c_str());
            auto session = rt::Session::create(**model);
            QVERIFY(session);
            auto calibrateWith = [&](int bins) {
                auto data = opt::data::openDataset("random:3", (*session)->inputInfo());
                if (!data) qFatal("%s", data.error().toString().c_str());
                auto cal = calibrate(**model, **data, bins);
                if (!cal) qFatal("%s", cal.error().toString().c_str());
                return std::move(*cal);
            };
            detail::observerForcePortable(false);
            const Calibration fast = calibrateWith(TensorObserver::kBins);
            const Calibration none = calibrateWith(0);
            detail::observerForcePortable(true);
            const Calibration portable = calibrateWith(TensorObserver::kBins);
            detail::observerForcePortable(false);
            QVERIFY(fast.observers.size() > 10);
            QCOMPARE(portable.observers.size(), fast.observers.size());
            QCOMPARE(none.observers.size(), fast.observers.size());
            for (const auto& [name, ob] : fast.observers) {
                const TensorObserver& p = portable.observers.at(name);
                const TensorObserver& n = none.observers.at(name);
                QVERIFY2(sameBits(ob.min(), p.min()) && sameBits(ob.max(), p.max()) && ob.count() == p.count() &&
                             ob.zeros() == p.zeros() && sameBits(ob.histLow(), p.histLow()) &&
                             sameBits(ob.binWidth(), p.binWidth()) && ob.histogram() == p.histogram(),
                         name.c_str());
                QVERIFY2(sameBits(ob.min(), n.min()) && sameBits(ob.max(), n.max()) && sameBits(ob.averageMin(), n.averageMin()) &&
                             sameBits(ob.averageMax(), n.averageMax()) && ob.count() == n.count() && !n.hasHistogram(),
                         name.c_str());
            }
            // Minmax from the histogram-less calibration: the same quantization parameters.
            QuantizeOptions qo;
            auto a = (*model)->clone(), b = (*model)->clone(), c = (*model)->clone();
            auto ra = quantizeModel(*a, &fast, qo), rb = quantizeModel(*b, &none, qo);
            QVERIFY(ra && rb);
            QCOMPARE(ra->tensors.size(), rb->tensors.size());
            for (std::size_t k = 0; k < ra->tensors.size(); ++k) {
                QCOMPARE(ra->tensors[k].tensor, rb->tensors[k].tensor);
                QVERIFY(sameBits(ra->tensors[k].min, rb->tensors[k].min) && sameBits(ra->tensors[k].max, rb->tensors[k].max));
                QCOMPARE(ra->tensors[k].scales, rb->tensors[k].scales);
                QCOMPARE(ra->tensors[k].zeroPoints, rb->tensors[k].zeroPoints);
            }
            qo.range.method = RangeMethod::Entropy;
            auto rc = quantizeModel(*c, &none, qo);
            QVERIFY(!rc);
            QCOMPARE(rc.error().code, StatusCode::Usage);
            QVERIFY2(rc.error().message.find("needs histograms") != std::string::npos, rc.error().message.c_str());
            qInfo("%s: %zu tensors, AVX2 == portable, no-histogram minmax == histogram minmax", rel, fast.observers.size());
        }
    }
};

QTEST_GUILESS_MAIN(TstQuantObserver)
#include "tst_quant_observer.moc"
