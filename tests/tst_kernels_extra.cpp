// Kernels outside the four families' own suites: TfIdfVectorizer (math_tfidf.cpp), the
// ai.onnx.preview.training optimizers Adagrad/Momentum/Adam (nn_training.cpp) and the ai.onnx.ml
// TreeEnsemble (math_tree.cpp). Hand-written rows with exact expected values for what the ONNX
// node tests leave out (skips over 3-grams, unigrams counted once, weights by output coordinate,
// Nesterov with regularization, every branch mode and aggregate, post transforms, NaN routing),
// malformed attributes that must fail with an error naming the node (never a crash), and
// steady-state runs that allocate nothing. The node tests themselves run in cli_conformance.
#include "kernel_test_util.h"
#include "test_util.h"

#include "ir/graph.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/kernel_registry.h"
#include "runtime/session.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

// Counts heap allocations made anywhere in the process while g_counting is set.
static std::atomic<bool> g_counting{false};
static std::atomic<long> g_allocs{0};
void* operator new(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed))
        g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
    if (g_counting.load(std::memory_order_relaxed))
        g_allocs.fetch_add(1, std::memory_order_relaxed);
    std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return operator new(n, a);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

using namespace ew;
using namespace ew::test;
using ir::DataType;
using rt::Tensor;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr DataType F = DataType::Float, D = DataType::Double, H = DataType::Float16,
                   I32 = DataType::Int32, I64 = DataType::Int64;
constexpr const char* kMl = "ai.onnx.ml";
constexpr const char* kTraining = "ai.onnx.preview.training";

using A = ir::Attribute;
using Attrs = std::vector<A>;

/// One node of `op` in `domain` (opset `version`), the default domain at opset 18.
std::unique_ptr<ir::Model> model(const std::string& op, const std::string& domain, int64_t version,
                                 const std::vector<In>& ins, int nOut, Attrs attrs) {
    auto m = singleNode(op, ins, nOut, std::move(attrs), domain.empty() ? version : 18);
    if (!domain.empty()) {
        m->opsetImports.push_back({domain, version});
        m->graph->nodes().front()->domain = domain;
    }
    return m;
}

A ints(const char* name, std::vector<int64_t> v) {
    return A::makeInts(name, std::move(v));
}
A floats(const char* name, std::vector<float> v) {
    return A::makeFloats(name, std::move(v));
}
A tensorAttr(const char* name, DataType dt, const std::vector<double>& v) {
    return A::makeTensor(name, makeTensor(dt, {static_cast<int64_t>(v.size())}, v).toIr(name));
}
A modesAttr(const std::vector<double>& v) {
    return tensorAttr("nodes_modes", DataType::UInt8, v);
}
/// Attributes are move-only, so no braced lists.
template <typename... Ts> Attrs attrs(Ts&&... a) {
    Attrs v;
    (v.push_back(std::forward<Ts>(a)), ...);
    return v;
}

/// Exact for integers; floats within 1e-6 relative (float16 within its precision). NaN matches NaN.
bool sameValues(const Tensor& got, const Out& want, QString& why) {
    if (got.dtype() != want.dt || got.dims() != want.dims) {
        why = QString::fromStdString("got " + rt::describe(got.dtype(), got.dims()) + ", want " +
                                     rt::describe(want.dt, want.dims));
        return false;
    }
    const double rtol = want.dt == H ? 1e-3 : 1e-6,
                 atol = ir::isFloatingPoint(want.dt) ? 1e-6 : 0.0;
    for (int64_t i = 0; i < got.numElements(); ++i) {
        double a = got.doubleAt(i), b = want.v[static_cast<std::size_t>(i)];
        if (a == b || (std::isnan(a) && std::isnan(b))) continue;
        if (std::isinf(b) || std::isnan(b) || !(std::abs(a - b) <= atol + rtol * std::abs(b))) {
            why =
                QString("element %1: got %2 want %3").arg(i).arg(a, 0, 'g', 17).arg(b, 0, 'g', 17);
            return false;
        }
    }
    return true;
}

struct Case {
    const char* name;
    std::string op, domain;
    int64_t version;
    std::vector<In> ins;
    Attrs (*attrs)();
    std::vector<Out> outs;
};

// TfIdf pool shared by the rows below: one unigram (9), no bigrams, two trigrams (1,2,3) and
// (2,3,1); n-gram ids 0, 1, 2.
Attrs tfidfPool(const char* mode, int64_t minGram, int64_t maxGram, int64_t skip,
                std::vector<int64_t> indexes = {0, 1, 2}) {
    Attrs a;
    a.push_back(A::makeString("mode", mode));
    a.push_back(A::makeInt("min_gram_length", minGram));
    a.push_back(A::makeInt("max_gram_length", maxGram));
    a.push_back(A::makeInt("max_skip_count", skip));
    a.push_back(ints("ngram_counts", {0, 1, 1}));
    a.push_back(ints("ngram_indexes", std::move(indexes)));
    a.push_back(ints("pool_int64s", {9, 1, 2, 3, 2, 3, 1}));
    return a;
}
// Row 0 holds (1,2,3) at distance 1 (positions 5,6,7) and at distance 2 (positions 0,2,4); row 1
// holds five 9s and (2,3,1) at distance 2 (positions 1,3,5).
const std::vector<double> kRow0 = {1, 5, 2, 5, 3, 1, 2, 3};
const std::vector<double> kRow1 = {9, 2, 9, 3, 9, 1, 9, 9};
std::vector<double> bothRows() {
    std::vector<double> v = kRow0;
    v.insert(v.end(), kRow1.begin(), kRow1.end());
    return v;
}

// TreeEnsemble over two features, two trees, two targets:
//   tree A: n0 x0 < 1 ? n1 : n2;  n1 x1 >= 5 ? L0(t0, 1) : L1(t1, 2);  n2 x0 == 3 ? L2(t0, 4) : n3;
//           n3 x1 != 0 ? L3(t1, 8) : L4(t0, 16)
//   tree B: n4 x1 > 2 ? L5(t0, 32) : L6(t1, 64), and a NaN x1 goes true at n4.
Attrs twoTrees(int64_t aggregate, DataType dt = D) {
    Attrs a;
    a.push_back(ints("nodes_featureids", {0, 1, 0, 1, 1}));
    a.push_back(modesAttr({1, 2, 4, 5, 3}));
    a.push_back(tensorAttr("nodes_splits", dt, {1, 5, 3, 0, 2}));
    a.push_back(ints("nodes_truenodeids", {1, 0, 2, 3, 5}));
    a.push_back(ints("nodes_trueleafs", {0, 1, 1, 1, 1}));
    a.push_back(ints("nodes_falsenodeids", {2, 1, 3, 4, 6}));
    a.push_back(ints("nodes_falseleafs", {0, 1, 0, 1, 1}));
    a.push_back(ints("nodes_missing_value_tracks_true", {0, 0, 0, 0, 1}));
    a.push_back(ints("leaf_targetids", {0, 1, 0, 1, 0, 0, 1}));
    a.push_back(tensorAttr("leaf_weights", dt, {1, 2, 4, 8, 16, 32, 64}));
    a.push_back(ints("tree_roots", {0, 4}));
    a.push_back(A::makeInt("n_targets", 2));
    a.push_back(A::makeInt("aggregate_function", aggregate));
    return a;
}
const std::vector<double> kTreeRows = {0, 6, 3, 0, 5, 0, 5, kNaN, kNaN, 1};

// Two single-leaf trees (a node whose branches name the same leaf), one per target.
Attrs constantTrees(double w0, double w1, int64_t post) {
    Attrs a;
    a.push_back(ints("nodes_featureids", {0, 0}));
    a.push_back(modesAttr({0, 0}));
    a.push_back(tensorAttr("nodes_splits", F, {0, 0}));
    a.push_back(ints("nodes_truenodeids", {0, 1}));
    a.push_back(ints("nodes_trueleafs", {1, 1}));
    a.push_back(ints("nodes_falsenodeids", {0, 1}));
    a.push_back(ints("nodes_falseleafs", {1, 1}));
    a.push_back(ints("leaf_targetids", {0, 1}));
    a.push_back(tensorAttr("leaf_weights", F, {w0, w1}));
    a.push_back(ints("tree_roots", {0, 1}));
    a.push_back(A::makeInt("n_targets", 2));
    a.push_back(A::makeInt("post_transform", post));
    return a;
}

// n0 x0 in {3, 0, 1} ? L0(1) : n1;  n1 x0 in {7} ? L1(10) : L2(100). Sets are unsorted and hold a
// 0.
Attrs memberTrees(DataType dt) {
    Attrs a;
    a.push_back(ints("nodes_featureids", {0, 0}));
    a.push_back(modesAttr({6, 6}));
    a.push_back(tensorAttr("nodes_splits", dt, {0, 0}));
    a.push_back(ints("nodes_truenodeids", {0, 1}));
    a.push_back(ints("nodes_trueleafs", {1, 1}));
    a.push_back(ints("nodes_falsenodeids", {1, 2}));
    a.push_back(ints("nodes_falseleafs", {0, 1}));
    a.push_back(ints("leaf_targetids", {0, 0, 0}));
    a.push_back(tensorAttr("leaf_weights", dt, {1, 10, 100}));
    a.push_back(tensorAttr("membership_values", dt, {3, 0, 1, kNaN, 7, kNaN}));
    a.push_back(ints("tree_roots", {0}));
    a.push_back(A::makeInt("n_targets", 1));
    return a;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        // TfIdfVectorizer.
        {"TfIdf 3-grams skip 0",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {8}, kRow0}},
         [] { return tfidfPool("TF", 3, 3, 0); },
         {{F, {3}, {0, 1, 0}}}},
        {"TfIdf 3-grams skip 1",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I32, {8}, kRow0}},
         [] { return tfidfPool("TF", 3, 3, 1); },
         {{F, {3}, {0, 2, 0}}}},
        {"TfIdf 3-grams skip larger than the row",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {8}, kRow0}},
         [] { return tfidfPool("TF", 3, 3, 1000000000); },
         {{F, {3}, {0, 2, 0}}}},
        {"TfIdf unigrams counted once across skips",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {2, 8}, bothRows()}},
         [] { return tfidfPool("TF", 1, 3, 1); },
         {{F, {2, 3}, {0, 2, 0, 5, 0, 1}}}},
        {"TfIdf TFIDF weights",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {2, 8}, bothRows()}},
         [] {
             Attrs a = tfidfPool("TFIDF", 1, 3, 1);
             a.push_back(floats("weights", {0.5f, 2.f, 3.f}));
             return a;
         },
         {{F, {2, 3}, {0, 4, 0, 2.5, 0, 3}}}},
        {"TfIdf IDF weights by output coordinate",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I32, {2, 8}, bothRows()}},
         [] {
             Attrs a = tfidfPool("IDF", 1, 3, 1, {2, 0, 1});
             a.push_back(floats("weights", {0.5f, 2.f, 3.f}));
             return a;
         },
         {{F, {2, 3}, {0.5, 0, 0, 0, 2, 3}}}},
        {"TfIdf IDF without weights",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {2, 8}, bothRows()}},
         [] { return tfidfPool("IDF", 1, 3, 1); },
         {{F, {2, 3}, {0, 1, 0, 1, 0, 1}}}},
        {"TfIdf unigrams only",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {2, 8}, bothRows()}},
         [] { return tfidfPool("TF", 1, 1, 5); },
         {{F, {2, 3}, {0, 0, 0, 5, 0, 0}}}},
        {"TfIdf two n-grams on one coordinate",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {2, 8}, bothRows()}},
         [] {
             return tfidfPool("TF", 1, 3, 1, {0, 1, 1});
         },
         {{F, {2, 2}, {0, 2, 5, 1}}}},
        {"TfIdf empty row",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {2, 0}, {}}},
         [] { return tfidfPool("TF", 1, 3, 1); },
         {{F, {2, 3}, {0, 0, 0, 0, 0, 0}}}},

        // Optimizers.
        {"Momentum nesterov with norm_coefficient",
         "Momentum",
         kTraining,
         1,
         {{"r", D, {}, {0.1}},
          {"t", I64, {}, {1}},
          {"x", D, {2}, {1, -2}},
          {"g", D, {2}, {0.5, 1}},
          {"v", D, {2}, {0.2, -0.4}}},
         [] {
             return attrs(A::makeFloat("alpha", 0.9f), A::makeFloat("beta", 0.5f),
                          A::makeFloat("norm_coefficient", 0.01f),
                          A::makeString("mode", "nesterov"));
         },
         {{D, {2}, {0.90985, -2.1097}}, {D, {2}, {0.435, 0.13}}}},
        {"Momentum standard T=1",
         "Momentum",
         kTraining,
         1,
         {{"r", F, {}, {0.1}},
          {"t", I64, {}, {1}},
          {"x", F, {2}, {1, -2}},
          {"g", F, {2}, {0.5, 1}},
          {"v", F, {2}, {0.2, -0.4}}},
         [] {
             return attrs(A::makeFloat("alpha", 0.9f), A::makeFloat("beta", 0.5f),
                          A::makeFloat("norm_coefficient", 0.01f),
                          A::makeString("mode", "standard"));
         },
         {{F, {2}, {0.9565, -2.013}}, {F, {2}, {0.435, 0.13}}}},
        {"Momentum T=0 ignores beta",
         "Momentum",
         kTraining,
         1,
         {{"r", D, {}, {0.1}},
          {"t", I64, {}, {0}},
          {"x", D, {2}, {1, -2}},
          {"g", D, {2}, {0.5, 1}},
          {"v", D, {2}, {0.2, -0.4}}},
         [] {
             return attrs(A::makeFloat("alpha", 0.9f), A::makeFloat("beta", 0.5f),
                          A::makeFloat("norm_coefficient", 0.01f),
                          A::makeString("mode", "standard"));
         },
         {{D, {2}, {0.931, -2.062}}, {D, {2}, {0.69, 0.62}}}},
        {"Adagrad decayed rate",
         "Adagrad",
         kTraining,
         1,
         {{"r", F, {}, {1}},
          {"t", I64, {}, {3}},
          {"x", F, {1}, {1}},
          {"g", F, {1}, {3}},
          {"h", F, {1}, {16}}},
         [] { return attrs(A::makeFloat("decay_factor", 0.5f), A::makeFloat("epsilon", 0.f)); },
         {{F, {1}, {0.76}}, {F, {1}, {25}}}},
        {"Adam bias correction and norm_coefficient_post",
         "Adam",
         kTraining,
         1,
         {{"r", D, {}, {0.5}},
          {"t", I64, {}, {2}},
          {"x", D, {1}, {2}},
          {"g", D, {1}, {1}},
          {"v", D, {1}, {1}},
          {"h", D, {1}, {4}}},
         [] {
             return attrs(A::makeFloat("alpha", 0.5f), A::makeFloat("beta", 0.75f),
                          A::makeFloat("epsilon", 0.25f), A::makeFloat("norm_coefficient", 0.5f),
                          A::makeFloat("norm_coefficient_post", 0.25f));
         },
         {{D, {1}, {1.2795207240779507}}, {D, {1}, {1.5}}, {D, {1}, {4}}}},
        {"Adam T=0 two tensors",
         "Adam",
         kTraining,
         1,
         {{"r", F, {}, {0.5}},
          {"t", I64, {}, {0}},
          {"x1", F, {1}, {2}},
          {"x2", F, {2}, {0, 1}},
          {"g1", F, {1}, {1}},
          {"g2", F, {2}, {2, 0}},
          {"v1", F, {1}, {1}},
          {"v2", F, {2}, {0, 0}},
          {"h1", F, {1}, {4}},
          {"h2", F, {2}, {0, 0}}},
         [] {
             return attrs(A::makeFloat("alpha", 0.5f), A::makeFloat("beta", 0.75f),
                          A::makeFloat("epsilon", 0.f));
         },
         // x1: G'=1, V'=1, H'=3.25, X' = 2 - 0.5/sqrt(3.25); x2: G'=(2,0), V'=(1,0), H'=(1,0), X' =
         // (0-0.5, 1 - 0/0)
         {{F, {1}, {2 - 0.5 / std::sqrt(3.25)}},
          {F, {2}, {-0.5, kNaN}},
          {F, {1}, {1}},
          {F, {2}, {1, 0}},
          {F, {1}, {3.25}},
          {F, {2}, {1, 0}}}},

        // TreeEnsemble.
        {"TreeEnsemble modes SUM",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", D, {5, 2}, kTreeRows}},
         [] { return twoTrees(1); },
         {{D, {5, 2}, {33, 0, 4, 64, 16, 64, 32, 8, 0, 72}}}},
        {"TreeEnsemble AVERAGE",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", D, {5, 2}, kTreeRows}},
         [] { return twoTrees(0); },
         {{D, {5, 2}, {16.5, 0, 2, 32, 8, 32, 16, 4, 0, 36}}}},
        {"TreeEnsemble MIN unreached target is 0",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", D, {5, 2}, kTreeRows}},
         [] { return twoTrees(2); },
         {{D, {5, 2}, {1, 0, 4, 64, 16, 64, 32, 8, 0, 8}}}},
        {"TreeEnsemble MAX",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", D, {5, 2}, kTreeRows}},
         [] { return twoTrees(3); },
         {{D, {5, 2}, {32, 0, 4, 64, 16, 64, 32, 8, 0, 64}}}},
        {"TreeEnsemble float16",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", H, {5, 2}, kTreeRows}},
         [] { return twoTrees(1, H); },
         {{H, {5, 2}, {33, 0, 4, 64, 16, 64, 32, 8, 0, 72}}}},
        {"TreeEnsemble float",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {5, 2}, kTreeRows}},
         [] { return twoTrees(1, F); },
         {{F, {5, 2}, {33, 0, 4, 64, 16, 64, 32, 8, 0, 72}}}},
        {"TreeEnsemble set membership with 0",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {5, 1}, {0, 2, 7, 1, kNaN}}},
         [] { return memberTrees(F); },
         {{F, {5, 1}, {1, 100, 10, 1, 100}}}},
        {"TreeEnsemble SOFTMAX",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {1, 1}, {0}}},
         [] { return constantTrees(1.0986122886681098, 0, 1); },
         {{F, {1, 2}, {0.75, 0.25}}}},
        {"TreeEnsemble LOGISTIC",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {1, 1}, {0}}},
         [] { return constantTrees(1.0986122886681098, 0, 2); },
         {{F, {1, 2}, {0.75, 0.5}}}},
        {"TreeEnsemble SOFTMAX_ZERO",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {1, 1}, {0}}},
         [] { return constantTrees(1.0986122886681098, 0, 3); },
         {{F, {1, 2}, {1, 0}}}},
        {"TreeEnsemble PROBIT",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {2, 1}, {0, 5}}},
         [] { return constantTrees(0.975, 0.1, 4); },
         {{F,
           {2, 2},
           {1.9599639845400536, -1.2815515655446008, 1.9599639845400536, -1.2815515655446008}}}},
    };
    return c;
}

struct ErrorCase {
    const char* name;
    std::string op, domain;
    int64_t version;
    std::vector<In> ins;
    Attrs (*attrs)();
    int nOut;
    StatusCode code;
    const char* mention; ///< a phrase the message must contain
};

Attrs treeWith(const char* name, A replacement) {
    Attrs a = twoTrees(1);
    for (A& x : a)
        if (x.name == name) x = std::move(replacement);
    return a;
}

const std::vector<In> kTreeIn = {{"x", D, {5, 2}, kTreeRows}};
const std::vector<In> kMomentumIn = {{"r", F, {}, {0.1}},
                                     {"t", I64, {}, {1}},
                                     {"x", F, {2}, {1, 2}},
                                     {"g", F, {2}, {1, 1}},
                                     {"v", F, {2}, {0, 0}}};
Attrs momentumAttrs(const char* mode) {
    return attrs(A::makeFloat("alpha", 0.9f), A::makeFloat("beta", 0.5f),
                 A::makeFloat("norm_coefficient", 0.f), A::makeString("mode", mode));
}

const std::vector<ErrorCase>& errorCases() {
    static const std::vector<ErrorCase> c = {
        // TfIdfVectorizer.
        {"TfIdf bad mode",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] { return tfidfPool("BM25", 1, 3, 0); },
         1,
         StatusCode::InvalidInput,
         "mode"},
        {"TfIdf ngram_counts past the pool",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] {
             Attrs a = tfidfPool("TF", 1, 3, 0);
             a[4] = ints("ngram_counts", {0, 9});
             return a;
         },
         1,
         StatusCode::InvalidInput,
         "ngram_counts"},
        {"TfIdf level not a multiple of n",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] {
             Attrs a = tfidfPool("TF", 1, 3, 0);
             a[4] = ints("ngram_counts", {0, 2});
             return a;
         },
         1,
         StatusCode::InvalidInput,
         "multiple of 2"},
        {"TfIdf ngram_indexes too short",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] {
             return tfidfPool("TF", 1, 3, 0, {0, 1});
         },
         1,
         StatusCode::InvalidInput,
         "ngram_indexes"},
        {"TfIdf negative ngram index",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] {
             return tfidfPool("TF", 1, 3, 0, {0, -1, 2});
         },
         1,
         StatusCode::InvalidInput,
         "ngram_indexes[1]"},
        {"TfIdf weights too short",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] {
             Attrs a = tfidfPool("TFIDF", 1, 3, 0);
             a.push_back(floats("weights", {1.f}));
             return a;
         },
         1,
         StatusCode::InvalidInput,
         "weights"},
        {"TfIdf min above max",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {3}, {1, 2, 3}}},
         [] { return tfidfPool("TF", 3, 2, 0); },
         1,
         StatusCode::InvalidInput,
         "min_gram_length"},
        {"TfIdf float input",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", F, {3}, {1, 2, 3}}},
         [] { return tfidfPool("TF", 1, 3, 0); },
         1,
         StatusCode::Unsupported,
         "int32 or int64"},
        {"TfIdf 3-D input",
         "TfIdfVectorizer",
         "",
         9,
         {{"x", I64, {1, 1, 3}, {1, 2, 3}}},
         [] { return tfidfPool("TF", 1, 3, 0); },
         1,
         StatusCode::InvalidInput,
         "[C] or [N, C]"},

        // Optimizers.
        {"Momentum without mode", "Momentum", kTraining, 1, kMomentumIn,
         [] {
             Attrs a = momentumAttrs("standard");
             a.pop_back();
             return a;
         },
         2, StatusCode::InvalidInput, "mode"},
        {"Momentum bad mode", "Momentum", kTraining, 1, kMomentumIn,
         [] { return momentumAttrs("nestrov"); }, 2, StatusCode::InvalidInput, "nestrov"},
        {"Momentum without alpha", "Momentum", kTraining, 1, kMomentumIn,
         [] {
             return attrs(A::makeFloat("beta", 0.5f), A::makeFloat("norm_coefficient", 0.f),
                          A::makeString("mode", "standard"));
         },
         2, StatusCode::InvalidInput, "alpha"},
        {"Adam incomplete groups", "Adam", kTraining, 1, kMomentumIn, [] { return Attrs{}; }, 3,
         StatusCode::InvalidInput, "groups"},
        {"Adagrad gradient shape",
         "Adagrad",
         kTraining,
         1,
         {{"r", F, {}, {0.1}},
          {"t", I64, {}, {1}},
          {"x", F, {2}, {1, 2}},
          {"g", F, {3}, {1, 1, 1}},
          {"h", F, {2}, {0, 0}}},
         [] { return Attrs{}; },
         2,
         StatusCode::InvalidInput,
         "G1"},
        {"Adagrad float T",
         "Adagrad",
         kTraining,
         1,
         {{"r", F, {}, {0.1}},
          {"t", F, {}, {1}},
          {"x", F, {2}, {1, 2}},
          {"g", F, {2}, {1, 1}},
          {"h", F, {2}, {0, 0}}},
         [] { return Attrs{}; },
         2,
         StatusCode::InvalidInput,
         "int64"},
        {"Adagrad too many outputs",
         "Adagrad",
         kTraining,
         1,
         {{"r", F, {}, {0.1}},
          {"t", I64, {}, {1}},
          {"x", F, {2}, {1, 2}},
          {"g", F, {2}, {1, 1}},
          {"h", F, {2}, {0, 0}}},
         [] { return Attrs{}; },
         3,
         StatusCode::InvalidInput,
         "outputs"},

        // TreeEnsemble: every index is checked before anything runs.
        {"TreeEnsemble true node index out of range", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_truenodeids", ints("nodes_truenodeids", {1, 0, 2, 3, 5000}));
         },
         1, StatusCode::InvalidInput, "nodes_truenodeids"},
        {"TreeEnsemble false node index out of range", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_falsenodeids", ints("nodes_falsenodeids", {5, 1, 3, 4, 6}));
         },
         1, StatusCode::InvalidInput, "nodes_falsenodeids"},
        {"TreeEnsemble negative leaf index", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_truenodeids", ints("nodes_truenodeids", {1, -1, 2, 3, 5}));
         },
         1, StatusCode::InvalidInput, "node 1"},
        {"TreeEnsemble leaf flag not 0 or 1", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_trueleafs", ints("nodes_trueleafs", {0, 1, 2, 1, 1}));
         },
         1, StatusCode::InvalidInput, "nodes_trueleafs"},
        {"TreeEnsemble root out of range", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("tree_roots", ints("tree_roots", {0, 5}));
         },
         1, StatusCode::InvalidInput, "tree_roots[1]"},
        {"TreeEnsemble cycle", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_falsenodeids", ints("nodes_falsenodeids", {2, 1, 0, 4, 6}));
         },
         1, StatusCode::InvalidInput, "cycle"},
        {"TreeEnsemble target out of range", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("leaf_targetids", ints("leaf_targetids", {0, 1, 0, 1, 0, 0, 2}));
         },
         1, StatusCode::InvalidInput, "leaf_targetids[6]"},
        {"TreeEnsemble bad mode", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_modes", modesAttr({1, 2, 4, 7, 3}));
         },
         1, StatusCode::InvalidInput, "nodes_modes"},
        {"TreeEnsemble nodes lengths differ", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_splits", tensorAttr("nodes_splits", D, {1, 5, 3, 0}));
         },
         1, StatusCode::InvalidInput, "nodes_splits"},
        {"TreeEnsemble feature beyond X", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             return treeWith("nodes_featureids", ints("nodes_featureids", {0, 1, 0, 1, 2}));
         },
         1, StatusCode::InvalidInput, "feature 2"},
        {"TreeEnsemble X type differs from splits",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {5, 2}, kTreeRows}},
         [] { return twoTrees(1); },
         1,
         StatusCode::InvalidInput,
         "must match"},
        {"TreeEnsemble member set missing",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {1, 1}, {0}}},
         [] {
             Attrs a = memberTrees(F);
             a.erase(a.begin() + 9);
             return a;
         },
         1,
         StatusCode::InvalidInput,
         "membership_values"},
        {"TreeEnsemble member sets short",
         "TreeEnsemble",
         kMl,
         5,
         {{"x", F, {1, 1}, {0}}},
         [] {
             Attrs a = memberTrees(F);
             a[9] = tensorAttr("membership_values", F, {3, 0, 1, kNaN, 7});
             return a;
         },
         1,
         StatusCode::InvalidInput,
         "too few sets"},
        {"TreeEnsemble without n_targets", "TreeEnsemble", kMl, 5, kTreeIn,
         [] {
             Attrs a = twoTrees(1);
             a.erase(a.begin() + 11);
             return a;
         },
         1, StatusCode::InvalidInput, "n_targets"},
        {"TreeEnsemble bad aggregate", "TreeEnsemble", kMl, 5, kTreeIn, [] { return twoTrees(4); },
         1, StatusCode::InvalidInput, "aggregate_function"},
    };
    return c;
}

} // namespace

class TestKernelsExtra : public QObject {
    Q_OBJECT
  private slots:
    void registered();
    void kernels_data();
    void kernels();
    void errors_data();
    void errors();
    void steadyStateAllocatesNothing();
};

void TestKernelsExtra::registered() {
    QVERIFY(rt::findCpuKernel("", "TfIdfVectorizer", 9) != nullptr);
    QVERIFY(rt::findCpuKernel("", "TfIdfVectorizer", 8) == nullptr);
    QVERIFY(rt::findCpuKernel(kMl, "TreeEnsemble", 5) != nullptr);
    QVERIFY(rt::findCpuKernel(kMl, "TreeEnsemble", 4) == nullptr);
    for (const char* op : {"Adagrad", "Momentum", "Adam"})
        QVERIFY2(rt::findCpuKernel(kTraining, op, 1) != nullptr, op);
}

void TestKernelsExtra::kernels_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < cases().size(); ++i)
        QTest::newRow(cases()[i].name) << static_cast<int>(i);
}

void TestKernelsExtra::kernels() {
    QFETCH(int, index);
    const Case& c = cases()[static_cast<std::size_t>(index)];
    auto m = model(c.op, c.domain, c.version, c.ins, static_cast<int>(c.outs.size()), c.attrs());
    for (int threads : {1, 3})
        for (bool fold : {true, false}) {
            rt::SessionOptions opt;
            opt.threads = threads;
            opt.foldConstants = fold;
            auto s = rt::Session::create(*m, opt);
            QVERIFY2(s.has_value(), s ? "" : s.error().toString().c_str());
            auto f = feeds(c.ins);
            for (int rep = 0; rep < 2; ++rep) {
                auto out = (*s)->run(f);
                QVERIFY2(out.has_value(), out ? "" : out.error().toString().c_str());
                QCOMPARE(out->size(), c.outs.size());
                for (std::size_t i = 0; i < c.outs.size(); ++i) {
                    QString why;
                    QVERIFY2(sameValues((*out)[i], c.outs[i], why),
                             qPrintable(QString("output %1 (threads=%2 fold=%3 run %4): %5")
                                            .arg(i)
                                            .arg(threads)
                                            .arg(fold)
                                            .arg(rep)
                                            .arg(why)));
                }
            }
        }
}

void TestKernelsExtra::errors_data() {
    QTest::addColumn<int>("index");
    for (std::size_t i = 0; i < errorCases().size(); ++i)
        QTest::newRow(errorCases()[i].name) << static_cast<int>(i);
}

void TestKernelsExtra::errors() {
    QFETCH(int, index);
    const ErrorCase& c = errorCases()[static_cast<std::size_t>(index)];
    auto m = model(c.op, c.domain, c.version, c.ins, c.nOut, c.attrs());
    Status err;
    auto s = rt::Session::create(*m);
    if (!s) {
        err = s.error();
    } else {
        auto out = (*s)->run(feeds(c.ins));
        QVERIFY2(!out.has_value(), "accepted");
        err = out.error();
    }
    const std::string msg = err.toString();
    QVERIFY2(msg.find("node_" + c.op) != std::string::npos, msg.c_str());
    QVERIFY2(msg.find(c.mention) != std::string::npos, msg.c_str());
    QVERIFY2(err.code == c.code, msg.c_str());
}

/// Once planned, runs allocate nothing.
void TestKernelsExtra::steadyStateAllocatesNothing() {
    for (const char* name :
         {"TfIdf TFIDF weights", "Adam T=0 two tensors", "Momentum nesterov with norm_coefficient",
          "TreeEnsemble set membership with 0", "TreeEnsemble SOFTMAX", "TreeEnsemble AVERAGE"}) {
        const Case* c = nullptr;
        for (const Case& k : cases())
            if (std::string(k.name) == name) c = &k;
        QVERIFY2(c, name);
        auto m = model(c->op, c->domain, c->version, c->ins, static_cast<int>(c->outs.size()),
                       c->attrs());
        rt::SessionOptions opt;
        opt.threads = 2;
        auto s = rt::Session::create(*m, opt);
        QVERIFY2(s.has_value(), s ? name : s.error().toString().c_str());
        auto in = feeds(c->ins);
        std::vector<Tensor> out;
        QVERIFY((*s)->run(in, out).has_value());
        QVERIFY((*s)->run(in, out).has_value());
        g_allocs = 0;
        g_counting = true;
        bool ok = true;
        for (int i = 0; i < 3; ++i)
            ok = ok && (*s)->run(in, out).has_value();
        g_counting = false;
        QVERIFY(ok);
        QVERIFY2(g_allocs.load() == 0,
                 qPrintable(QString("%1: %2 allocations").arg(name).arg(g_allocs.load())));
    }
}

QTEST_GUILESS_MAIN(TestKernelsExtra)
#include "tst_kernels_extra.moc"
