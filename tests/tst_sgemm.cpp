// The packed SGEMM against a double-precision reference: every edge (M, N not multiples of the
// tile, K across depth blocks), transposed B, each epilogue, both micro-kernels, and identical
// bytes for 1 and 2 threads.
#include "runtime/cpu/sgemm.h"
#include "runtime/thread_pool.h"
#include "test_util.h"

#include <cmath>
#include <random>
#include <vector>

using namespace ew::rt;
using namespace ew::rt::cpu;

class TestSgemm : public QObject {
    Q_OBJECT
private slots:
    void matchesReference_data();
    void matchesReference();
    void threadCountDoesNotChangeBits();
    void portableAndAvx2Agree();
};

namespace {

struct Case {
    std::vector<float> a, b, bias, residual, c;
};

std::vector<float> randomVec(std::size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

std::vector<float> runSgemm(int m, int n, int k, bool transB, const Epilogue& epiIn, const Case& cs, int threads) {
    ThreadPool pool(threads);
    PackedMatrix pa = PackedMatrix::pack(cs.a.data(), m, k, k, false);
    std::vector<float> c = cs.c;
    Epilogue epi = epiIn;
    sgemm(pa, cs.b.data(), transB ? k : n, transB, n, c.data(), n, epi, pool);
    return c;
}

} // namespace

void TestSgemm::matchesReference_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<bool>("transB");
    QTest::addColumn<int>("epilogue");
    QTest::newRow("exact tiles") << 12 << 32 << 64 << false << 0;
    QTest::newRow("edges everywhere") << 7 << 19 << 5 << false << 0;
    QTest::newRow("single row") << 1 << 1000 << 512 << false << 1;
    QTest::newRow("single column") << 64 << 1 << 27 << false << 0;
    QTest::newRow("deep K over several blocks") << 13 << 40 << 700 << false << 2;
    QTest::newRow("wide N over several blocks") << 9 << 600 << 33 << false << 3;
    QTest::newRow("transposed B") << 10 << 37 << 300 << true << 1;
    QTest::newRow("bias per column + accumulate") << 5 << 21 << 17 << false << 4;
    QTest::newRow("leaky relu") << 6 << 16 << 8 << false << 5;
    QTest::newRow("conv-like 64x3136x576") << 64 << 3136 << 576 << false << 2;
}

void TestSgemm::matchesReference() {
    QFETCH(int, m);
    QFETCH(int, n);
    QFETCH(int, k);
    QFETCH(bool, transB);
    QFETCH(int, epilogue);
    std::mt19937 rng(7);
    Case cs;
    cs.a = randomVec(std::size_t(m) * k, rng);
    cs.b = randomVec(std::size_t(k) * n, rng);
    cs.bias = randomVec(std::max(m, n), rng);
    cs.residual = randomVec(std::size_t(m) * n, rng);
    cs.c = randomVec(std::size_t(m) * n, rng);
    Epilogue e;
    switch (epilogue) {
    case 1: e.bias = cs.bias.data(); e.act = Activation::Relu; break;
    case 2: e.bias = cs.bias.data(); e.residual = cs.residual.data(); e.ldr = n; e.act = Activation::Relu; break;
    case 3: e.act = Activation::Clip; e.alpha = -0.25f; e.beta = 0.5f; break;
    case 4: e.bias = cs.bias.data(); e.biasPerColumn = true; e.accumulate = true; break;
    case 5: e.act = Activation::LeakyRelu; e.alpha = 0.1f; break;
    default: break;
    }
    std::vector<float> got = runSgemm(m, n, k, transB, e, cs, 2);
    double worst = 0;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int kk = 0; kk < k; ++kk)
                s += double(cs.a[i * k + kk]) * double(transB ? cs.b[j * k + kk] : cs.b[kk * n + j]);
            if (e.accumulate) s += cs.c[i * n + j];
            if (e.bias) s += e.biasPerColumn ? cs.bias[j] : cs.bias[i];
            if (e.residual) s += cs.residual[i * n + j];
            switch (e.act) {
            case Activation::Relu: s = std::max(s, 0.0); break;
            case Activation::Clip: s = std::min(std::max(s, double(e.alpha)), double(e.beta)); break;
            case Activation::LeakyRelu: s = s >= 0 ? s : s * e.alpha; break;
            default: break;
            }
            worst = std::max(worst, std::abs(s - got[i * n + j]) / (1.0 + std::abs(s)));
        }
    QVERIFY2(worst < 1e-4 * std::sqrt(double(k)), qPrintable(QString("worst relative error %1").arg(worst)));
}

void TestSgemm::threadCountDoesNotChangeBits() {
    std::mt19937 rng(3);
    const int m = 50, n = 777, k = 600;
    Case cs;
    cs.a = randomVec(std::size_t(m) * k, rng);
    cs.b = randomVec(std::size_t(k) * n, rng);
    cs.c.assign(std::size_t(m) * n, 0.f);
    Epilogue e;
    auto one = runSgemm(m, n, k, false, e, cs, 1);
    auto two = runSgemm(m, n, k, false, e, cs, 2);
    auto four = runSgemm(m, n, k, false, e, cs, 4);
    QVERIFY(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
    QVERIFY(std::memcmp(one.data(), four.data(), one.size() * sizeof(float)) == 0);
}

void TestSgemm::portableAndAvx2Agree() {
    if (!sgemmUsesAvx2()) QSKIP("this CPU has no AVX2+FMA: only the portable kernel runs");
    std::mt19937 rng(11);
    const int m = 20, n = 70, k = 300;
    Case cs;
    cs.a = randomVec(std::size_t(m) * k, rng);
    cs.b = randomVec(std::size_t(k) * n, rng);
    cs.c.assign(std::size_t(m) * n, 0.f);
    Epilogue e;
    auto fast = runSgemm(m, n, k, false, e, cs, 1);
    sgemmForcePortable(true);
    QVERIFY(!sgemmUsesAvx2());
    auto portable = runSgemm(m, n, k, false, e, cs, 1);
    sgemmForcePortable(false);
    for (std::size_t i = 0; i < fast.size(); ++i) QVERIFY(std::abs(fast[i] - portable[i]) < 1e-4f);
}

QTEST_GUILESS_MAIN(TestSgemm)
#include "tst_sgemm.moc"
