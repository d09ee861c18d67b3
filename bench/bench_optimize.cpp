// bench_optimize: what the optimizer buys on Edgewise's own runtime.
// For every model: median/min latency of one inference with the Session's own fusion off on the
// original model (the baseline), with it on (what `run` does by default), and of the model after
// optimize() with the default pipeline and with --target edgewise (both run with the Session's
// defaults). Variants are timed round-robin so drift hits them alike; each one's outputs are
// compared with the baseline's. Then a micro row: a plain Conv against Conv + BatchNormalization
// + Relu after optimize --target edgewise, at mobilenet-like shapes (the fused chain must cost no
// more than the Conv alone). Prints a table, then one JSON line.
#include "common/json_writer.h"
#include "ir/shape_inference.h"
#include "ir/onnx/onnx_import.h"
#include "optimize/pipeline.h"
#include "runtime/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#ifndef EW_MODELS_DIR
#define EW_MODELS_DIR "../shared/models"
#endif

namespace {

namespace fs = std::filesystem;
using namespace ew;

struct Stats {
    double minMs = 0;
    double medianMs = 0;
};

double roundUs(double ms) { return std::round(ms * 1000.0) / 1000.0; }

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return {roundUs(v.front()), roundUs(n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2)};
}

/// One way of running a model.
struct Variant {
    std::string name;
    std::unique_ptr<ir::Model> model; ///< the (optimized) model the session runs
    std::unique_ptr<rt::Session> session;
    int64_t nodes = 0;
    std::vector<double> ms;
    double diff = 0; ///< worst relative difference of the outputs against the baseline
    std::string error;
};

/// Inputs from the model's test_data_set_0 folder when there is one (input_K.pb in input order),
/// otherwise seeded random values (dynamic dims 1).
rt::Session::NamedTensors inputsFor(const rt::Session& s, const fs::path& modelPath) {
    rt::Session::NamedTensors in;
    const fs::path dirs[] = {fs::path(fs::path(modelPath).replace_extension("").string() + ".test_data_set_0"),
                             modelPath.parent_path() / "test_data_set_0"};
    for (const fs::path& dir : dirs) {
        if (!fs::is_directory(dir)) continue;
        for (std::size_t k = 0; k < s.inputInfo().size(); ++k) {
            auto t = onnxfmt::readTensorProtoFile((dir / ("input_" + std::to_string(k) + ".pb")).string());
            if (!t) break;
            auto rt = rt::Tensor::fromIr(*t);
            if (!rt) break;
            in.emplace_back(s.inputInfo()[k].name, std::move(*rt));
        }
        if (in.size() == s.inputInfo().size()) return in;
        in.clear();
    }
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (const rt::TensorInfo& info : s.inputInfo()) {
        std::vector<int64_t> dims;
        if (info.shape)
            for (const ir::Dim& d : info.shape->dims) dims.push_back(d.isKnown() ? d.value : 1);
        rt::Tensor t = rt::Tensor::allocate(info.dtype, dims);
        for (int64_t i = 0; i < t.numElements(); ++i) {
            if (info.dtype == ir::DataType::Float) t.data<float>()[i] = u(rng);
            else if (info.dtype == ir::DataType::Int64) t.data<int64_t>()[i] = 1;
        }
        if (info.dtype != ir::DataType::Float && info.dtype != ir::DataType::Int64) std::memset(t.raw(), 0, t.byteSize());
        in.emplace_back(info.name, std::move(t));
    }
    return in;
}

double relativeDiff(const rt::Tensor& a, const rt::Tensor& b) {
    if (a.dtype() != b.dtype() || a.dims() != b.dims()) return INFINITY;
    double maxAbs = 0, maxDiff = 0;
    for (int64_t i = 0; i < a.numElements(); ++i) {
        const double x = a.doubleAt(i), y = b.doubleAt(i);
        if (std::isnan(x) || std::isnan(y)) continue;
        maxAbs = std::max(maxAbs, std::abs(x));
        maxDiff = std::max(maxDiff, std::abs(x - y));
    }
    return maxDiff / (maxAbs > 0 ? maxAbs : 1.0);
}

/// Times every variant `runs` times, round-robin, after two warm-up runs each.
void timeVariants(std::vector<Variant>& vs, const rt::Session::NamedTensors& in, int runs) {
    std::vector<rt::Tensor> out;
    for (Variant& v : vs)
        for (int w = 0; w < 2 && v.error.empty(); ++w)
            if (auto r = v.session->run(in, out); !r) v.error = r.error().toString();
    for (int i = 0; i < runs; ++i)
        for (Variant& v : vs) {
            if (!v.error.empty()) continue;
            const auto t0 = std::chrono::steady_clock::now();
            (void)v.session->run(in, out);
            v.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
}

Variant makeVariant(std::string name, const ir::Model& original, std::function<VoidResult(ir::Model&)> transform,
                    bool fuse, int threads) {
    Variant v;
    v.name = std::move(name);
    v.model = original.clone();
    if (transform)
        if (auto r = transform(*v.model); !r) {
            v.error = r.error().toString();
            return v;
        }
    v.nodes = static_cast<int64_t>(v.model->graph->nodeCount());
    rt::SessionOptions o;
    o.fuse = fuse;
    o.threads = threads;
    auto s = rt::Session::create(*v.model, o);
    if (!s) {
        v.error = s.error().toString();
        return v;
    }
    v.session = std::move(*s);
    v.nodes = static_cast<int64_t>(v.session->executionOrder().size());
    return v;
}

std::function<VoidResult(ir::Model&)> optimizeWith(opt::Target target) {
    return [target](ir::Model& m) -> VoidResult {
        opt::OptimizeOptions o;
        o.target = target;
        EW_TRY(opt::optimize(m, o));
        return {};
    };
}

/// A one-Conv model at a mobilenet-like shape: X [1, C, H, H] -> Conv(k x k, group) [-> BN -> Relu].
std::unique_ptr<ir::Model> convModel(int64_t C, int64_t M, int64_t H, int64_t k, int64_t group, bool bnRelu) {
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports = {{"", 13}};
    ir::Graph& g = *m->graph;
    std::mt19937 rng(3);
    auto init = [&](const std::string& name, std::vector<int64_t> dims, float lo, float hi) {
        int64_t n = 1;
        for (int64_t d : dims) n *= d;
        std::vector<float> data(static_cast<std::size_t>(n));
        std::uniform_real_distribution<float> r(lo, hi);
        for (float& f : data) f = r(rng);
        ir::Value* v = *g.addValue(name, ir::Type::tensor(ir::DataType::Float, ir::Shape::of(dims)));
        v->initializer = ir::Tensor::fromVector(name, ir::DataType::Float, dims, std::move(data));
        g.initializers.push_back(v);
        return v;
    };
    ir::Value* x = *g.addValue("x", ir::Type::tensor(ir::DataType::Float, ir::Shape::of({1, C, H, H})));
    g.inputs.push_back(x);
    ir::Value* w = init("w", {M, C / group, k, k}, -0.1f, 0.1f);
    ir::Value* b = init("b", {M}, -0.1f, 0.1f);
    ir::Value* c = *g.addValue(bnRelu ? "c" : "y");
    ir::Node* conv = g.addNode("Conv", "", "conv", {x, w, b}, {c});
    conv->setAttr(ir::Attribute::makeInts("pads", {k / 2, k / 2, k / 2, k / 2}));
    conv->setAttr(ir::Attribute::makeInt("group", group));
    ir::Value* y = c;
    if (bnRelu) {
        ir::Value* n = *g.addValue("n");
        g.addNode("BatchNormalization", "", "bn",
                  {c, init("s", {M}, 0.5f, 1.5f), init("bb", {M}, -0.1f, 0.1f), init("mu", {M}, -0.1f, 0.1f),
                   init("var", {M}, 0.5f, 2.f)},
                  {n});
        y = *g.addValue("y");
        g.addNode("Relu", "", "relu", {n}, {y});
    }
    g.outputs.push_back(y);
    return m;
}

void printRow(const char* model, const Variant& v, const Variant& base) {
    if (!v.error.empty()) {
        std::printf("%-28s %-22s  error: %s\n", model, v.name.c_str(), v.error.c_str());
        return;
    }
    const Stats s = stats(v.ms), b = stats(base.ms);
    std::printf("%-28s %-22s %6lld %10.3f %10.3f %8.3f %10.1e\n", model, v.name.c_str(),
                static_cast<long long>(v.nodes), s.minMs, s.medianMs, s.medianMs / b.medianMs, v.diff);
}

void writeVariant(JsonWriter& w, const Variant& v) {
    w.beginObject();
    w.key("variant").value(v.name);
    if (!v.error.empty()) {
        w.key("error").value(v.error);
    } else {
        const Stats s = stats(v.ms);
        w.key("nodes").value(v.nodes);
        w.key("min_ms").value(s.minMs);
        w.key("median_ms").value(s.medianMs);
        w.key("max_rel_diff").value(v.diff);
    }
    w.endObject();
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> paths;
    int runs = 20, threads = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "-n" || a == "--runs") && i + 1 < argc) runs = std::atoi(argv[++i]);
        else if ((a == "-t" || a == "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (a == "-h" || a == "--help") {
            std::printf("Usage: bench_optimize [MODEL...] [-n RUNS] [-t THREADS]\n"
                        "Latency of each model unoptimized (runtime fusion off / on) and after optimize\n"
                        "(default pipeline; --target edgewise), RUNS runs each (default 20) on THREADS\n"
                        "threads (default 1), plus Conv vs Conv+BN+Relu micro rows. Default models: the\n"
                        "torchvision-arch and real models under $EW_MODELS_DIR (default: the build's models folder).\n");
            return 0;
        } else if (!a.starts_with("-")) paths.push_back(a);
        else {
            std::fprintf(stderr, "bench_optimize: unexpected argument '%s' (try --help)\n", a.c_str());
            return 2;
        }
    }
    if (runs < 1 || threads < 1) return 2;
    if (paths.empty()) {
        const char* env = std::getenv("EW_MODELS_DIR");
        const fs::path root = env && *env ? env : EW_MODELS_DIR;
        for (const char* rel : {"onnx/torchvision-arch/mobilenet_v2_unfused.onnx", "onnx/torchvision-arch/mobilenet_v2.onnx",
                                "onnx/torchvision-arch/resnet18.onnx", "onnx/digits-cnn/digits_cnn.onnx",
                                "onnx/ort-testdata/mnist.onnx", "onnx/blazeface/face_detection_front_128x128_barracuda.onnx",
                                "onnx/paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                                "onnx/paddleocr/ch_PP-OCRv4_det_infer.onnx", "onnx/openwakeword/embedding_model.onnx",
                                "onnx/openwakeword/melspectrogram.onnx", "onnx/silero-vad/silero_vad_16k_op15.onnx"})
            if (fs::exists(root / rel)) paths.push_back((root / rel).string());
    }

    JsonWriter w(0);
    w.beginObject();
    w.key("runs").value(runs);
    w.key("threads").value(threads);
    w.key("models").beginArray();
    std::printf("%-28s %-22s %6s %10s %10s %8s %10s\n", "model", "variant", "nodes", "min ms", "median ms", "x base",
                "max diff");
    for (const std::string& path : paths) {
        auto loaded = onnxfmt::importOnnxFile(path);
        if (loaded) ir::inferShapes(**loaded);
        const std::string name = fs::path(path).filename().string();
        if (!loaded) {
            std::printf("%-28s load error: %s\n", name.c_str(), loaded.error().toString().c_str());
            continue;
        }
        const ir::Model& original = **loaded;
        std::vector<Variant> vs;
        vs.push_back(makeVariant("original, fusion off", original, nullptr, false, threads));
        vs.push_back(makeVariant("original, fusion on", original, nullptr, true, threads));
        vs.push_back(makeVariant("optimize default", original, optimizeWith(opt::Target::Onnx), true, threads));
        vs.push_back(makeVariant("optimize edgewise", original, optimizeWith(opt::Target::Edgewise), true, threads));
        if (!vs[0].error.empty()) {
            std::printf("%-28s error: %s\n", name.c_str(), vs[0].error.c_str());
            continue;
        }
        const auto in = inputsFor(*vs[0].session, path);
        std::vector<rt::Tensor> want;
        if (auto r = vs[0].session->run(in); r) want = std::move(*r);
        for (Variant& v : vs) {
            if (!v.error.empty()) continue;
            auto r = v.session->run(in);
            if (!r) {
                v.error = r.error().toString();
                continue;
            }
            for (std::size_t k = 0; k < r->size() && k < want.size(); ++k)
                v.diff = std::max(v.diff, relativeDiff(want[k], (*r)[k]));
        }
        timeVariants(vs, in, runs);
        w.beginObject();
        w.key("model").value(name);
        w.key("variants").beginArray();
        for (const Variant& v : vs) {
            printRow(name.c_str(), v, vs[0]);
            writeVariant(w, v);
        }
        w.endArray();
        w.endObject();
    }
    w.endArray();

    // Micro rows: (C, M, H, k, group) of mobilenet_v2 layers: an expansion 1x1, a depthwise 3x3,
    // a projection 1x1, and a full 3x3 (resnet-like).
    struct Shape {
        const char* label;
        int64_t C, M, H, k, group;
    };
    const Shape shapes[] = {{"pw 1x1 24->144 @56", 24, 144, 56, 1, 1},
                            {"dw 3x3 144 @56", 144, 144, 56, 3, 144},
                            {"pw 1x1 144->24 @56", 144, 24, 56, 1, 1},
                            {"3x3 64->64 @56", 64, 64, 56, 3, 1}};
    std::printf("\n%-28s %-22s %6s %10s %10s %8s\n", "conv shape", "variant", "nodes", "min ms", "median ms", "x conv");
    w.key("micro").beginArray();
    for (const Shape& s : shapes) {
        auto plain = convModel(s.C, s.M, s.H, s.k, s.group, false);
        auto chain = convModel(s.C, s.M, s.H, s.k, s.group, true);
        ir::inferShapes(*plain);
        ir::inferShapes(*chain);
        std::vector<Variant> vs;
        vs.push_back(makeVariant("Conv", *plain, nullptr, true, threads));
        vs.push_back(makeVariant("Conv+BN+Relu optimized", *chain, optimizeWith(opt::Target::Edgewise), true, threads));
        vs.push_back(makeVariant("Conv+BN+Relu unfused", *chain, nullptr, false, threads));
        const auto in = inputsFor(*vs[0].session, {});
        timeVariants(vs, in, runs * 5);
        w.beginObject();
        w.key("shape").value(s.label);
        w.key("variants").beginArray();
        for (const Variant& v : vs) {
            const Stats st = stats(v.ms), b = stats(vs[0].ms);
            if (v.error.empty())
                std::printf("%-28s %-22s %6lld %10.3f %10.3f %8.3f\n", s.label, v.name.c_str(),
                            static_cast<long long>(v.nodes), st.minMs, st.medianMs, st.medianMs / b.medianMs);
            else
                std::printf("%-28s %-22s  error: %s\n", s.label, v.name.c_str(), v.error.c_str());
            writeVariant(w, v);
        }
        w.endArray();
        w.endObject();
    }
    w.endArray();
    w.endObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
}
