#pragma once
// Shared by the kernel and runtime tests: tensors of any dtype from doubles, one-node models,
// the feeds that go with them, value comparison, the kernel lists' ops and the ONNX Runtime
// baseline of the node suite. A test that counts heap allocations defines
// EW_TEST_COUNT_ALLOCATIONS before including this header (in its one source file).
#include "common/assert.h"
#include "ir/graph.h"
#include "runtime/cpu/kernel_util.h"
#include "runtime/cpu/sgemm.h"
#include "runtime/session.h"

#include <QFile>
#include <QString>
#include <QStringList>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <QtGlobal>

#include <memory>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#ifdef EW_TEST_COUNT_ALLOCATIONS
// Counts heap allocations made anywhere in the process while g_counting is set (see
// ew::test::allocationsDuring).
static std::atomic<bool> g_counting{false};
static std::atomic<long> g_allocs{0};
void* operator new(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
    std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n ? (n + al - 1) / al : 1) * al)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace ew::test {
/// Heap allocations made while `f` runs.
template <typename F>
long allocationsDuring(F&& f) {
    g_allocs = 0;
    g_counting = true;
    f();
    g_counting = false;
    return g_allocs.load();
}

/// Heap allocations of three steady-state runs of `model` on two threads (after two runs that
/// plan its memory); -1 when a session cannot be created or a run fails, with the reason in `why`.
inline long steadyStateAllocations(const ir::Model& model, const rt::Session::NamedTensors& in, std::string& why) {
    rt::SessionOptions opt;
    opt.threads = 2;
    auto s = rt::Session::create(model, opt);
    if (!s) {
        why = s.error().toString();
        return -1;
    }
    std::vector<rt::Tensor> out;
    for (int i = 0; i < 2; ++i)
        if (auto r = (*s)->run(in, out); !r) {
            why = r.error().toString();
            return -1;
        }
    bool ok = true;
    const long allocs = allocationsDuring([&] {
        for (int i = 0; i < 3; ++i) ok = ok && (*s)->run(in, out).has_value();
    });
    if (!ok) {
        why = "a steady-state run failed";
        return -1;
    }
    return allocs;
}
} // namespace ew::test
#endif

namespace ew::test {

using ir::DataType;
using rt::Tensor;

/// A tensor of any runtime dtype filled from doubles.
inline Tensor makeTensor(DataType dt, std::vector<int64_t> dims, const std::vector<double>& v) {
    Tensor t = Tensor::allocate(dt, std::move(dims));
    EW_ASSERT(static_cast<int64_t>(v.size()) == t.numElements());
    bool ok = rt::cpu::dispatch<EW_ALL_TYPES>(dt, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = t.data<T>();
        for (std::size_t i = 0; i < v.size(); ++i) p[i] = rt::cpu::store<T>(static_cast<rt::cpu::Compute<T>>(v[i]));
    });
    EW_ASSERT(ok);
    return t;
}

/// A graph input (or, with constant, an initializer); an empty name is an omitted optional input.
struct In {
    std::string name;
    DataType dt;
    std::vector<int64_t> dims;
    std::vector<double> v;
    bool constant = false;
};
struct Out {
    DataType dt;
    std::vector<int64_t> dims;
    std::vector<double> v;
};

/// Attribute lists for the test tables: attrs(A::makeInt("axis", 1), ...), or none().
template <typename... Ts>
std::vector<ir::Attribute> attrs(Ts&&... a) {
    std::vector<ir::Attribute> v;
    (v.push_back(std::move(a)), ...);
    return v;
}
inline std::vector<ir::Attribute> none() { return {}; }

/// One-node model named "node_<op>"; inputs with an empty name are omitted optional inputs.
inline std::unique_ptr<ir::Model> singleNode(const std::string& op, const std::vector<In>& ins, int nOut,
                                      std::vector<ir::Attribute> attrs, int64_t opset) {
    auto m = std::make_unique<ir::Model>();
    m->opsetImports = {{"", opset}};
    ir::Graph& g = *m->graph;
    std::vector<ir::Value*> vins, vouts;
    for (const In& in : ins) {
        if (in.name.empty()) {
            vins.push_back(nullptr);
            continue;
        }
        ir::Value* v = *g.addValue(in.name, ir::Type::tensor(in.dt, ir::Shape::of(in.dims)));
        if (in.constant) {
            v->initializer = makeTensor(in.dt, in.dims, in.v).toIr(in.name);
            g.initializers.push_back(v);
        } else {
            g.inputs.push_back(v);
        }
        vins.push_back(v);
    }
    for (int i = 0; i < nOut; ++i) vouts.push_back(*g.addValue("y" + std::to_string(i)));
    ir::Node* n = g.addNode(op, "", "node_" + op, vins, vouts);
    for (auto& a : attrs) n->setAttr(std::move(a));
    g.outputs = vouts;
    return m;
}

/// Runs `m` once on `threads` threads and returns its first output as floats (empty on error,
/// with a warning). `reference` makes the kernels take their reference loops: they choose their
/// path when they are prepared, in the first run, so the flag is held until that run is over.
/// `steps` receives the number of executed nodes (to check that fusion happened).
inline std::vector<float> runOnce(const ir::Model& m, const std::vector<std::pair<std::string, rt::Tensor>>& in,
                                  bool reference, int threads, std::size_t* steps = nullptr) {
    rt::cpu::setPreferReferenceKernels(reference);
    rt::SessionOptions opt;
    opt.threads = threads;
    auto s = rt::Session::create(m, opt);
    if (!s) {
        rt::cpu::setPreferReferenceKernels(false);
        qWarning("%s", s.error().toString().c_str());
        return {};
    }
    if (steps) *steps = (*s)->executionOrder().size();
    auto out = (*s)->run(in);
    rt::cpu::setPreferReferenceKernels(false);
    if (!out) {
        qWarning("%s", out.error().toString().c_str());
        return {};
    }
    return (*out)[0].toVector<float>();
}

/// The non-constant inputs as session feeds.
inline rt::Session::NamedTensors feeds(const std::vector<In>& ins) {
    rt::Session::NamedTensors f;
    for (const In& in : ins)
        if (!in.name.empty() && !in.constant) f.emplace_back(in.name, makeTensor(in.dt, in.dims, in.v));
    return f;
}

/// Same dtype and dims, and every element equal, NaN where NaN is wanted, or within
/// |got - want| <= atol + rtol * |want| (an infinity must match exactly). Else false, with `why`.
inline bool sameValues(const Tensor& got, const Out& want, double rtol, double atol, QString& why) {
    if (got.dtype() != want.dt || got.dims() != want.dims) {
        why = QString::fromStdString("got " + rt::describe(got.dtype(), got.dims()) + ", want " +
                                     rt::describe(want.dt, want.dims));
        return false;
    }
    for (int64_t i = 0; i < got.numElements(); ++i) {
        double a = got.doubleAt(i), b = want.v[static_cast<std::size_t>(i)];
        if (a == b || (std::isnan(a) && std::isnan(b))) continue;
        if (std::isinf(b) || std::isnan(b) || !(std::abs(a - b) <= atol + rtol * std::abs(b))) {
            why = QString("element %1: got %2, want %3").arg(i).arg(a, 0, 'g', 17).arg(b, 0, 'g', 17);
            return false;
        }
    }
    return true;
}

/// The kernel lists: core/runtime/kernels.def's own lines (Base) and the families' lists it
/// includes (core/runtime/cpu/kernels_<family>.def).
enum class KernelList { Base, Math, Index, Nn, Control };

/// The default-domain ops of one list (the ai.onnx.ml entries are covered by the conformance test).
inline const std::set<std::string>& kernelListOps(KernelList list) {
    static const std::map<KernelList, std::set<std::string>> lists = [] {
        std::map<KernelList, std::set<std::string>> m;
        std::set<std::string>* into = nullptr;
#define EW_KERNEL(op, domain, since, last, factory)                                                \
    if (std::string_view(domain).empty()) into->insert(op);
        into = &m[KernelList::Math];
#include "runtime/cpu/kernels_math.def"
        into = &m[KernelList::Index];
#include "runtime/cpu/kernels_index.def"
        into = &m[KernelList::Nn];
#include "runtime/cpu/kernels_nn.def"
        into = &m[KernelList::Control];
#include "runtime/cpu/kernels_control.def"
        std::set<std::string> all;
        into = &all;
#include "runtime/kernels.def"
#undef EW_KERNEL
        std::set<std::string> base;
        for (const std::string& op : all) {
            bool inFamily = false;
            for (const auto& [family, ops] : m) inFamily = inFamily || ops.count(op);
            if (!inFamily) base.insert(op);
        }
        m[KernelList::Base] = std::move(base);
        return m;
    }();
    return lists.at(list);
}

/// The node-suite tests ("test_abs") that ONNX Runtime 1.30 passes, from
/// <suite>/ort-1.30.0-baseline.tsv; empty when the file is missing.
inline std::set<QString> ortPasses(const QString& suiteDir) {
    std::set<QString> names;
    QFile f(suiteDir + "/ort-1.30.0-baseline.tsv");
    if (!f.open(QIODevice::ReadOnly)) return names;
    while (!f.atEnd()) {
        QStringList cols = QString::fromUtf8(f.readLine()).trimmed().split('\t');
        if (cols.size() >= 2 && cols[0].startsWith("node/") && cols[1] == "pass") names.insert(cols[0].mid(5));
    }
    return names;
}

} // namespace ew::test
