// The packed SGEMM against a double-precision reference: every edge (M, N not multiples of the
// tile, K across depth blocks), transposed B, each epilogue, both micro-kernels, and identical
// bytes for 1 and 2 threads. Also the implicit variant (caller-supplied B panels, C columns in
// groups: a batch of images straight to NCHW), the packed-columns and few-rows products.
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
    void implicitLayoutMatchesDense_data();
    void implicitLayoutMatchesDense();
    void packedColumnsMatchReference_data();
    void packedColumnsMatchReference();
    void prepackedPanelsMatchReference_data();
    void prepackedPanelsMatchReference();
    void plainBReadInPlaceMatchesPacked_data();
    void plainBReadInPlaceMatchesPacked();
    void tailColumnsMatchFullPanels_data();
    void tailColumnsMatchFullPanels();
    void fusedHardSwishMatchesScalar();
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
    QTest::newRow("M 32 (6-row and 5-row panels)") << 32 << 50 << 40 << false << 2;
    QTest::newRow("M 16, clip") << 16 << 33 << 300 << false << 3;
    QTest::newRow("M 11 (padded panel)") << 11 << 17 << 9 << false << 5;
    QTest::newRow("M 25, transposed B") << 25 << 31 << 70 << true << 1;
    QTest::newRow("M 13, hard swish + bias + residual") << 13 << 40 << 70 << false << 6;
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
    case 6: e.bias = cs.bias.data(); e.residual = cs.residual.data(); e.ldr = n; e.act = Activation::HardSwish; break;
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
            case Activation::HardSwish: s = s * std::min(1.0, std::max(0.0, s / 6 + 0.5)); break;
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

namespace {

struct DenseCtx {
    const float* b;
    int64_t ldb;
};

/// A caller-supplied packer reading a dense K x N matrix (the layout sgemmImplicit expects).
void packDense(const void* ctx, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float* out) {
    const DenseCtx& d = *static_cast<const DenseCtx*>(ctx);
    for (int64_t q = 0; q * 16 < nc; ++q)
        for (int64_t k = 0; k < kc; ++k)
            for (int64_t l = 0; l < 16; ++l) {
                const int64_t j = q * 16 + l;
                out[q * kc * 16 + k * 16 + l] = j < nc ? d.b[(k0 + k) * d.ldb + n0 + j] : 0.f;
            }
}

} // namespace

void TestSgemm::implicitLayoutMatchesDense_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("groups");
    QTest::addColumn<int>("groupCols");
    QTest::addColumn<int>("epilogue");
    QTest::newRow("groups of 64 (tiles inside groups)") << 32 << 144 << 5 << 64 << 1;
    QTest::newRow("groups of 25 (tiles straddle)") << 20 << 54 << 7 << 25 << 2;
    QTest::newRow("groups of 7, deep K") << 13 << 600 << 11 << 7 << 2;
    QTest::newRow("groups of 300, leaky relu") << 16 << 40 << 3 << 300 << 3;
}

void TestSgemm::implicitLayoutMatchesDense() {
    // C through a grouped layout (group g's columns at c + g*groupStride, rows ldc = groupCols)
    // must hold exactly the bits of the dense product: same blocks, same kernels, same epilogue.
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, groups);
    QFETCH(int, groupCols);
    QFETCH(int, epilogue);
    std::mt19937 rng(5);
    const int n = groups * groupCols;
    const std::vector<float> a = randomVec(std::size_t(m) * k, rng), b = randomVec(std::size_t(k) * n, rng);
    const std::vector<float> bias = randomVec(std::size_t(m), rng);
    const int64_t groupStride = int64_t(m) * groupCols + 3; // a gap between groups
    std::vector<float> residual = randomVec(std::size_t(groups) * groupStride, rng);
    std::vector<float> denseRes(std::size_t(m) * n);
    for (int g = 0; g < groups; ++g)
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < groupCols; ++j)
                denseRes[std::size_t(i) * n + g * groupCols + j] = residual[g * groupStride + i * groupCols + j];
    Epilogue e;
    e.bias = bias.data();
    if (epilogue >= 2) e.act = epilogue == 3 ? Activation::LeakyRelu : Activation::Relu;
    e.alpha = 0.2f;
    PackedMatrix pa = PackedMatrix::pack(a.data(), m, k, k, false);
    for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        Epilogue de = e;
        if (epilogue == 2) {
            de.residual = denseRes.data();
            de.ldr = n;
        }
        std::vector<float> dense(std::size_t(m) * n);
        sgemm(pa, b.data(), n, false, n, dense.data(), n, de, pool);
        Epilogue ge = e;
        if (epilogue == 2) {
            ge.residual = residual.data();
            ge.ldr = groupCols;
        }
        std::vector<float> grouped(std::size_t(groups) * groupStride, -7.f);
        OutputLayout out;
        out.c = grouped.data();
        out.ldc = groupCols;
        out.groupCols = groupCols;
        out.groupStride = groupStride;
        const DenseCtx ctx{b.data(), n};
        sgemmImplicit(pa, packDense, &ctx, n, out, ge, pool);
        for (int g = 0; g < groups; ++g) {
            for (int i = 0; i < m; ++i)
                for (int j = 0; j < groupCols; ++j) {
                    const float got = grouped[g * groupStride + i * groupCols + j];
                    const float want = dense[std::size_t(i) * n + g * groupCols + j];
                    QVERIFY2(std::memcmp(&got, &want, sizeof(float)) == 0,
                             qPrintable(QString("group %1 row %2 column %3: %4 vs %5").arg(g).arg(i).arg(j).arg(got).arg(want)));
                }
            for (int64_t gap = int64_t(m) * groupCols; gap < groupStride; ++gap)
                QCOMPARE(grouped[g * groupStride + gap], -7.f); // nothing written between groups
        }
    }
}

void TestSgemm::packedColumnsMatchReference_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("portable");
    QTest::newRow("1 row (matrix-vector)") << 1 << 1280 << 1000 << false;
    QTest::newRow("3 rows, odd K") << 3 << 77 << 45 << false;
    QTest::newRow("4 rows, portable") << 4 << 300 << 33 << true;
    QTest::newRow("packed A x packed columns, 50 rows") << 50 << 130 << 70 << false;
    QTest::newRow("packed A x packed columns, portable") << 20 << 300 << 40 << true;
}

void TestSgemm::packedColumnsMatchReference() {
    // sgemmRowsPacked (few rows) and sgemmPacked (rows packed) against double precision, with a
    // per-column bias, a residual and Relu; 1 and 2 threads give the same bits.
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, n);
    QFETCH(bool, portable);
    std::mt19937 rng(9);
    const std::vector<float> a = randomVec(std::size_t(m) * k, rng), b = randomVec(std::size_t(k) * n, rng);
    const std::vector<float> bias = randomVec(std::size_t(n), rng), res = randomVec(std::size_t(m) * n, rng);
    const PackedColumns pb = PackedColumns::pack(b.data(), k, n, n, false);
    Epilogue e;
    e.bias = bias.data();
    e.biasPerColumn = true;
    e.residual = res.data();
    e.ldr = n;
    e.act = Activation::Relu;
    sgemmForcePortable(portable);
    std::vector<float> out[2];
    for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        std::vector<float>& c = out[threads - 1];
        c.assign(std::size_t(m) * n, 0.f);
        if (m <= 4) {
            sgemmRowsPacked(a.data(), m, k, pb, c.data(), n, e, pool);
        } else {
            const PackedMatrix pa = PackedMatrix::pack(a.data(), m, k, k, false);
            sgemmPacked(pa, pb, c.data(), n, e, pool);
        }
    }
    sgemmForcePortable(false);
    QVERIFY(std::memcmp(out[0].data(), out[1].data(), out[0].size() * sizeof(float)) == 0);
    double worst = 0;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = bias[j] + res[std::size_t(i) * n + j];
            for (int kk = 0; kk < k; ++kk) s += double(a[std::size_t(i) * k + kk]) * b[std::size_t(kk) * n + j];
            s = std::max(s, 0.0);
            worst = std::max(worst, std::abs(s - out[0][std::size_t(i) * n + j]) / (1.0 + std::abs(s)));
        }
    QVERIFY2(worst < 1e-4 * std::sqrt(double(k)), qPrintable(QString("worst relative error %1").arg(worst)));
}

void TestSgemm::prepackedPanelsMatchReference_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("panels");
    QTest::addColumn<int>("cPanelStride");
    QTest::addColumn<bool>("portable");
    QTest::newRow("M 32, K 16, 2 panels (winograd-like), panels 576 apart") << 32 << 16 << 2 << 576 << false;
    QTest::newRow("M 19 (padded panel), K 300, 3 panels, contiguous") << 19 << 300 << 3 << 16 << false;
    QTest::newRow("M 20 (5-row panels), K 7, portable") << 20 << 7 << 2 << 40 << true;
    QTest::newRow("M 6, K 1, contiguous, portable") << 6 << 1 << 4 << 16 << true;
}

void TestSgemm::prepackedPanelsMatchReference() {
    // sgemmPanels (B already in 16-column panels of the whole depth, C panels cPanelStride apart,
    // the padding rows of A written too) against double precision; AVX2 and portable kernels.
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, panels);
    QFETCH(int, cPanelStride);
    QFETCH(bool, portable);
    std::mt19937 rng(10);
    const std::vector<float> a = randomVec(std::size_t(m) * k, rng), b = randomVec(std::size_t(k) * panels * 16, rng);
    const PackedMatrix pa = PackedMatrix::pack(a.data(), m, k, k, false);
    const int64_t mp = PackedMatrix::paddedRows(m);
    std::vector<float> bp(std::size_t(k) * panels * 16 + 16), cbuf(std::size_t(mp) * panels * cPanelStride + 64, 7.f);
    float* bAl = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(bp.data()) + 63) & ~uintptr_t(63));
    // Panel q holds columns 16q..16q+15, row kk at + kk*16.
    for (int q = 0; q < panels; ++q)
        for (int kk = 0; kk < k; ++kk)
            for (int j = 0; j < 16; ++j) bAl[(std::size_t(q) * k + kk) * 16 + j] = b[std::size_t(kk) * panels * 16 + q * 16 + j];
    const int64_t ldc = int64_t(panels) * cPanelStride;
    sgemmForcePortable(portable);
    sgemmPanels(pa, bAl, panels, cbuf.data(), ldc, cPanelStride);
    sgemmForcePortable(false);
    double worst = 0;
    for (int i = 0; i < mp; ++i)
        for (int q = 0; q < panels; ++q)
            for (int j = 0; j < 16; ++j) {
                double s = 0;
                if (i < m)
                    for (int kk = 0; kk < k; ++kk) s += double(a[std::size_t(i) * k + kk]) * b[std::size_t(kk) * panels * 16 + q * 16 + j];
                const float got = cbuf[std::size_t(i) * ldc + std::size_t(q) * cPanelStride + j];
                worst = std::max(worst, std::abs(s - got) / (1.0 + std::abs(s)));
            }
    QVERIFY2(worst < 1e-4 * std::sqrt(double(k)), qPrintable(QString("worst relative error %1").arg(worst)));
    // Nothing between the panels is touched.
    if (cPanelStride > 16) QCOMPARE(cbuf[16], 7.f);
}

void TestSgemm::plainBReadInPlaceMatchesPacked_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("ldb");
    QTest::newRow("M 24, K 144, 784 columns (pointwise projection)") << 24 << 144 << 784 << 784;
    QTest::newRow("M 16, K 32, partial last panel (n 200 of ldb 208)") << 16 << 32 << 200 << 208;
    QTest::newRow("M 19 (padded panel), K 300 (two depth blocks), n 70 of 80") << 19 << 300 << 70 << 80;
    QTest::newRow("M 40, K 8, n 3136 (several column blocks)") << 40 << 8 << 3136 << 3136;
}

void TestSgemm::plainBReadInPlaceMatchesPacked() {
    // A plain B whose rows are whole cache lines apart and few rows of A: the AVX2 kernels read B's
    // full panels in place (only a partial last panel is packed). Same bits as the packed path (B
    // moved off 64-byte alignment), for 1, 2 and 3 threads, and close to double precision; the
    // epilogue (bias, residual, clip) included.
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, n);
    QFETCH(int, ldb);
    std::mt19937 rng(11);
    const std::vector<float> a = randomVec(std::size_t(m) * k, rng), bias = randomVec(std::size_t(m), rng);
    const std::vector<float> bv = randomVec(std::size_t(k) * ldb, rng), res = randomVec(std::size_t(m) * n, rng);
    std::vector<float> store(bv.size() + 32);
    float* aligned = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(store.data()) + 63) & ~uintptr_t(63));
    std::vector<float> store2(bv.size() + 32);
    float* offset = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(store2.data()) + 63) & ~uintptr_t(63)) + 1;
    std::copy(bv.begin(), bv.end(), aligned);
    std::copy(bv.begin(), bv.end(), offset);
    const PackedMatrix pa = PackedMatrix::pack(a.data(), m, k, k, false);
    Epilogue e;
    e.bias = bias.data();
    e.residual = res.data();
    e.ldr = n;
    e.act = Activation::Clip;
    e.alpha = -0.5f;
    e.beta = 2.f;
    auto run = [&](const float* b, int threads) {
        ThreadPool pool(threads);
        std::vector<float> c(std::size_t(m) * n, 0.f);
        sgemm(pa, b, ldb, false, n, c.data(), n, e, pool);
        return c;
    };
    const std::vector<float> packed = run(offset, 1);
    for (int threads : {1, 2, 3}) {
        const std::vector<float> direct = run(aligned, threads);
        QVERIFY2(std::memcmp(direct.data(), packed.data(), packed.size() * sizeof(float)) == 0,
                 qPrintable(QString("%1 threads").arg(threads)));
    }
    double worst = 0;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = bias[i] + res[std::size_t(i) * n + j];
            for (int kk = 0; kk < k; ++kk) s += double(a[std::size_t(i) * k + kk]) * bv[std::size_t(kk) * ldb + j];
            s = std::min(std::max(s, -0.5), 2.0);
            worst = std::max(worst, std::abs(s - packed[std::size_t(i) * n + j]) / (1.0 + std::abs(s)));
        }
    QVERIFY2(worst < 1e-4 * std::sqrt(double(k)), qPrintable(QString("worst relative error %1").arg(worst)));
}

void TestSgemm::tailColumnsMatchFullPanels_data() {
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("act");
    QTest::newRow("7x7 map: 1280 x 320 x 49 (one tail column, groups of 8 panels)") << 1280 << 320 << 49 << 0;
    QTest::newRow("M 37 (6- and 5-row panels), 2 tail columns, relu") << 37 << 40 << 18 << 1;
    QTest::newRow("M 11 (padded panel), K 300 (two depth blocks), 3 tail columns, clip") << 11 << 300 << 35 << 2;
    QTest::newRow("14x14 map: 96 x 576 x 196 (4 tail columns), leaky relu") << 96 << 576 << 196 << 3;
    QTest::newRow("N 1, silu (epilogue after the product)") << 50 << 70 << 1 << 4;
    QTest::newRow("M 30, 3 tail columns, hard swish") << 30 << 50 << 19 << 5;
    // Rows whose tail rides along with the last full tiles (at least as many full panels as tail
    // columns, an epilogue the kernel applies): B read in place (M <= 64), packed, several depth
    // blocks, 5-row panels and a padded last panel (which takes the separate tail kernel).
    QTest::newRow("fused tail: M 37, 3 panels + 2 columns, B in place, relu") << 37 << 40 << 50 << 1;
    QTest::newRow("fused tail: M 128, K 600 (3 depth blocks), 2 panels + 1 column, clip") << 128 << 600 << 33 << 2;
    QTest::newRow("fused tail: M 100, 4 panels + 4 columns, no activation") << 100 << 130 << 68 << 0;
}

void TestSgemm::tailColumnsMatchFullPanels() {
    // A partial last panel of 1-4 columns is computed down the rows (on AVX2 along with the last
    // full tiles, one column each, or by sgemmTailColumnsAvx2): the same bits as when those
    // columns sit inside a full 16-column panel of a wider product of the same A and B columns,
    // epilogue included, for 1 and 2 threads.
    QFETCH(int, m);
    QFETCH(int, k);
    QFETCH(int, n);
    QFETCH(int, act);
    const int wide = (n + 15) / 16 * 16;
    std::mt19937 rng(5);
    const std::vector<float> a = randomVec(std::size_t(m) * k, rng), bias = randomVec(std::size_t(m), rng);
    const std::vector<float> b = randomVec(std::size_t(k) * wide, rng), res = randomVec(std::size_t(m) * wide, rng);
    const PackedMatrix pa = PackedMatrix::pack(a.data(), m, k, k, false);
    Epilogue e;
    e.bias = bias.data();
    e.residual = res.data();
    e.ldr = wide;
    const Activation acts[] = {Activation::None, Activation::Relu, Activation::Clip, Activation::LeakyRelu,
                               Activation::Silu, Activation::HardSwish};
    e.act = acts[act];
    e.alpha = act == 3 ? 0.1f : -0.5f;
    e.beta = 2.f;
    auto run = [&](int cols, int threads) {
        ThreadPool pool(threads);
        std::vector<float> c(std::size_t(m) * wide, 0.f);
        sgemm(pa, b.data(), wide, false, cols, c.data(), wide, e, pool);
        return c;
    };
    const std::vector<float> full = run(wide, 1);
    for (int threads : {1, 2}) {
        const std::vector<float> tail = run(n, threads);
        for (int i = 0; i < m; ++i)
            QVERIFY2(std::memcmp(tail.data() + std::size_t(i) * wide, full.data() + std::size_t(i) * wide,
                                 std::size_t(n) * sizeof(float)) == 0,
                     qPrintable(QString("row %1, %2 threads").arg(i).arg(threads)));
    }
}

void TestSgemm::fusedHardSwishMatchesScalar() {
    // The micro-kernel's HardSwish (applied in registers while a full tile is stored), the
    // vector epilogue (edges) and the scalar formula give the same bits: C with the activation
    // equals C without it, then x * min(1, max(0, x / 6 + 1/2)) per element.
    std::mt19937 rng(9);
    for (int threads : {1, 2}) {
        const int m = 31, n = 53, k = 90;
        Case cs;
        cs.a = randomVec(std::size_t(m) * k, rng);
        cs.b = randomVec(std::size_t(k) * n, rng);
        cs.bias = randomVec(std::size_t(m), rng);
        for (float& v : cs.a) v *= 8.f; // values well beyond +-3, where HardSwish saturates
        cs.c.assign(std::size_t(m) * n, 0.f);
        Epilogue e;
        e.bias = cs.bias.data();
        const std::vector<float> plain = runSgemm(m, n, k, false, e, cs, threads);
        e.act = Activation::HardSwish;
        const std::vector<float> fused = runSgemm(m, n, k, false, e, cs, threads);
        int low = 0, high = 0;
        for (std::size_t i = 0; i < plain.size(); ++i) {
            const float v = plain[i];
            const float want = v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f));
            QVERIFY2(std::memcmp(&want, &fused[i], sizeof want) == 0,
                     qPrintable(QString("element %1: %2 -> %3, expected %4").arg(i).arg(v).arg(fused[i]).arg(want)));
            low += v < -3.f;
            high += v > 3.f;
        }
        QVERIFY(low > 0 && high > 0);
    }
}

QTEST_GUILESS_MAIN(TestSgemm)
#include "tst_sgemm.moc"
