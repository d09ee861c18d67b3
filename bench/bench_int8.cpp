// bench_int8: FP32 vs INT8 latency on resnet18 and mobilenet_v2 (the INT8 model is a QDQ file
// run through the fused integer path), 1 and 2 threads, plus the integer GEMM's GOPS on
// convolution-shaped products. Prints a table, then one JSON line.
//
// There is no quantizer in the tree yet, so the QDQ models are made here: activation ranges from
// min/max over a few seeded random inputs through the float model, Q/DQ pairs (uint8, per tensor,
// asymmetric) on every Conv/Gemm input and on every Conv/Gemm output (after its Relu/Clip when
// that is the only reader), weights int8 per output channel (symmetric), bias int32 at
// x_scale * w_scale. A realistic QDQ file, not a good quantization. --write-qdq DIR saves them
// (for bench/run-vs-ort.sh --model DIR/resnet18_qdq.onnx).
//
// Usage: bench_int8 [--models DIR] [--runs R] [--write-qdq DIR] [--profile (int8: per node kind, the sum of each node's minimum ms)]
//                   [--int8-only (skip the float columns and the GEMM table: for perf record)] [--model resnet18|mobilenet_v2]
// Latencies are the minimum over R runs after warm-up (the machine is shared and noisy); at 1
// thread the minimum CPU time of the run is printed too (less sensitive to other people's load).
// Columns: fp32 = the float model; qdq-f = the QDQ file with int8Kernels off (Q/DQ run in
// float: what SessionOptions::int8Kernels' default is weighed against); int8 = the fused path.
#include "common/status.h"
#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "ir/shape_inference.h"
#include "runtime/cpu/int8_gemm.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace ew;

namespace {

using Clock = std::chrono::steady_clock;

rt::Session::NamedTensors randomInputs(const rt::Session& s, uint32_t seed) {
    rt::Session::NamedTensors in;
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, 1.f);
    for (const auto& info : s.inputInfo()) {
        std::vector<int64_t> dims;
        for (const auto& dim : info.shape->dims) dims.push_back(dim.value > 0 ? dim.value : 1);
        rt::Tensor t = rt::Tensor::allocate(info.dtype, dims);
        float* p = t.data<float>();
        for (int64_t i = 0; i < t.numElements(); ++i) p[i] = d(rng);
        in.emplace_back(info.name, std::move(t));
    }
    return in;
}

ir::Value* addConst(ir::Graph& g, const std::string& base, ir::DataType dt, std::vector<int64_t> dims, auto values) {
    const std::string name = g.uniqueName(base);
    ir::Value* v = *g.addValue(name, ir::Type::tensor(dt, ir::Shape::of(dims)));
    v->initializer = ir::Tensor::fromVector(name, dt, std::move(dims), std::move(values));
    g.initializers.push_back(v);
    return v;
}

/// The QDQ twin of a float model (see the header comment).
Result<std::unique_ptr<ir::Model>> makeQdq(const std::string& path) {
    EW_TRY_ASSIGN(auto model, ir::loadModel(path));
    ir::Graph& g = *model->graph;
    // Values to quantize: Conv/Gemm activation inputs and their outputs (after a sole Relu/Clip).
    std::vector<ir::Value*> targets;
    std::set<ir::Value*> seen;
    auto want = [&](ir::Value* v) {
        if (v && !v->initializer && seen.insert(v).second) targets.push_back(v);
    };
    for (const auto& n : g.nodes()) {
        if (n->opType != "Conv" && n->opType != "Gemm") continue;
        want(n->input(0));
        ir::Value* out = n->output(0);
        if (out->uses().size() == 1 && !out->isGraphOutput()) {
            const ir::Node* next = out->uses()[0].node;
            if (next->opType == "Relu" || next->opType == "Clip") out = next->output(0);
        }
        want(out);
    }
    // Ranges from the float model.
    std::map<std::string, std::pair<float, float>> range;
    {
        rt::SessionOptions o;
        o.fuse = false;
        EW_TRY_ASSIGN(auto s, rt::Session::create(*model, o));
        std::set<std::string> names;
        for (ir::Value* v : targets) names.insert(v->name);
        auto note = [&](const std::string& name, const rt::Tensor& t) {
            if (!names.count(name) || t.dtype() != ir::DataType::Float) return;
            auto& r = range.try_emplace(name, 0.f, 0.f).first->second;
            const float* p = t.data<float>();
            for (int64_t i = 0; i < t.numElements(); ++i) r = {std::min(r.first, p[i]), std::max(r.second, p[i])};
        };
        s->setNodeCallback([&](const rt::NodeEvent& e) {
            for (std::size_t i = 0; i < e.outputs.size(); ++i)
                if (e.outputs[i] && e.node.output(i)) note(e.node.output(i)->name, *e.outputs[i]);
        });
        for (uint32_t seed = 1; seed <= 3; ++seed) {
            auto in = randomInputs(*s, seed);
            for (const auto& [name, t] : in) note(name, t);
            EW_TRY(s->run(in));
        }
    }
    std::map<ir::Value*, std::pair<float, int>> qparams; // value -> (scale, zero point)
    for (ir::Value* v : targets) {
        auto [lo, hi] = range[v->name];
        lo = std::min(lo, 0.f);
        hi = std::max(hi, 0.f);
        const float scale = hi > lo ? (hi - lo) / 255.f : 1.f;
        const int zp = std::clamp(static_cast<int>(std::nearbyint(-lo / scale)), 0, 255);
        qparams[v] = {scale, zp};
        ir::Value* s = addConst(g, v->name + "_scale", ir::DataType::Float, {}, std::vector<float>{scale});
        ir::Value* z = addConst(g, v->name + "_zp", ir::DataType::UInt8, {}, std::vector<uint8_t>{uint8_t(zp)});
        ir::Value* q = *g.addValue(g.uniqueName(v->name + "_q"), ir::Type::tensor(ir::DataType::UInt8, v->type.shape));
        ir::Value* dq = *g.addValue(g.uniqueName(v->name + "_dq"), ir::Type::tensor(ir::DataType::Float, v->type.shape));
        const bool wasOutput = v->isGraphOutput();
        g.replaceAllUses(v, dq);
        if (wasOutput) // keep the graph output's name on the float value; readers take the DQ
            std::replace(g.outputs.begin(), g.outputs.end(), dq, v);
        g.addNode("QuantizeLinear", "", g.uniqueName(v->name + "_QuantizeLinear"), {v, s, z}, {q});
        g.addNode("DequantizeLinear", "", g.uniqueName(v->name + "_DequantizeLinear"), {q, s, z}, {dq});
    }
    // Weights (per output channel, symmetric int8) and int32 biases.
    std::vector<ir::Node*> products;
    for (const auto& n : g.nodes())
        if (n->opType == "Conv" || n->opType == "Gemm") products.push_back(n.get());
    for (ir::Node* n : products) {
        if (n->opType != "Conv" && n->opType != "Gemm") continue;
        const ir::Tensor* w = n->input(1) ? n->input(1)->initializer ? &*n->input(1)->initializer : nullptr : nullptr;
        ir::Node* dqx = n->input(0)->producer();
        if (!w || w->dtype != ir::DataType::Float || !dqx || dqx->opType != "DequantizeLinear") continue;
        if (n->opType == "Gemm" && n->attrInt("transB", 0) == 0) continue;
        const float xs = qparams.at(dqx->input(0)->producer()->input(0)).first;
        const int64_t ch = w->dims[0], per = w->numElements() / ch;
        const std::vector<float> wf = w->toFloat();
        std::vector<int8_t> wq(wf.size());
        std::vector<float> ws(static_cast<std::size_t>(ch));
        for (int64_t c = 0; c < ch; ++c) {
            float m = 0;
            for (int64_t k = 0; k < per; ++k) m = std::max(m, std::abs(wf[std::size_t(c * per + k)]));
            ws[std::size_t(c)] = m > 0 ? m / 127.f : 1.f;
            for (int64_t k = 0; k < per; ++k)
                wq[std::size_t(c * per + k)] =
                    static_cast<int8_t>(std::clamp(std::nearbyint(wf[std::size_t(c * per + k)] / ws[std::size_t(c)]), -127.f, 127.f));
        }
        const std::string base = n->input(1)->name;
        ir::Value* wv = addConst(g, base + "_quantized", ir::DataType::Int8, w->dims, wq);
        ir::Value* sv = addConst(g, base + "_scale", ir::DataType::Float, {ch}, ws);
        ir::Value* zv = addConst(g, base + "_zp", ir::DataType::Int8, {ch}, std::vector<int8_t>(std::size_t(ch), 0));
        ir::Value* dqw = *g.addValue(g.uniqueName(base + "_dq"), ir::Type::tensor(ir::DataType::Float, ir::Shape::of(w->dims)));
        ir::Node* d = g.addNode("DequantizeLinear", "", g.uniqueName(base + "_DequantizeLinear"), {wv, sv, zv}, {dqw});
        d->setAttr(ir::Attribute::makeInt("axis", 0));
        n->setInput(1, dqw);
        if (n->inputs().size() > 2 && n->input(2) && n->input(2)->initializer) {
            const std::vector<float> bf = n->input(2)->initializer->toFloat();
            std::vector<int32_t> bq(bf.size());
            std::vector<float> bs(bf.size());
            for (std::size_t c = 0; c < bf.size(); ++c) {
                bs[c] = xs * ws[c];
                bq[c] = static_cast<int32_t>(std::nearbyint(bf[c] / bs[c]));
            }
            const std::string bb = n->input(2)->name;
            ir::Value* bqv = addConst(g, bb + "_quantized", ir::DataType::Int32, {ch}, bq);
            ir::Value* bsv = addConst(g, bb + "_scale", ir::DataType::Float, {ch}, bs);
            ir::Value* dqb = *g.addValue(g.uniqueName(bb + "_dq"), ir::Type::tensor(ir::DataType::Float, ir::Shape::of({ch})));
            ir::Node* db = g.addNode("DequantizeLinear", "", g.uniqueName(bb + "_DequantizeLinear"), {bqv, bsv}, {dqb});
            db->setAttr(ir::Attribute::makeInt("axis", 0));
            n->setInput(2, dqb);
        }
    }
    // Drop the float weights no node reads any more.
    std::erase_if(g.initializers, [](ir::Value* v) { return v->uses().empty() && !v->isGraphOutput(); });
    EW_TRY(g.sortTopologically());
    ir::inferShapes(*model);
    return model;
}

double threadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

struct Timing {
    double wallMs = 0;
    double cpuMs = 0; ///< CPU time of the calling thread (all the work at 1 thread; other people's load barely moves it)
};

/// Minimum latency (ms) over `runs` runs after two warm-up runs; int8 = the fused integer path.
Result<Timing> latency(const ir::Model& m, int threads, int runs, bool int8, int* qnodes = nullptr,
                       std::map<std::string, double>* profile = nullptr) {
    rt::SessionOptions o;
    o.threads = threads;
    o.int8Kernels = int8;
    EW_TRY_ASSIGN(auto s, rt::Session::create(m, o));
    if (qnodes) {
        *qnodes = 0;
        for (const ir::Node* n : s->executionOrder()) *qnodes += n->opType == "QConv" || n->opType == "QGemm";
    }
    auto in = randomInputs(*s, 42);
    std::vector<rt::Tensor> out;
    for (int i = 0; i < 2; ++i) EW_TRY(s->run(in, out));
    Timing best{1e30, 1e30};
    for (int i = 0; i < runs; ++i) {
        const double c0 = threadCpuMs();
        auto t0 = Clock::now();
        EW_TRY(s->run(in, out));
        best.wallMs = std::min(best.wallMs, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        best.cpuMs = std::min(best.cpuMs, threadCpuMs() - c0);
    }
    if (profile) { // `runs` more runs with per-node timing: each node's minimum, summed per kind
        std::map<const ir::Node*, double> nodeMin;
        s->setNodeCallback([&](const rt::NodeEvent& e) {
            auto [it, fresh] = nodeMin.try_emplace(&e.node, e.elapsedNs / 1e6);
            if (!fresh) it->second = std::min(it->second, e.elapsedNs / 1e6);
        });
        for (int i = 0; i < runs; ++i) EW_TRY(s->run(in, out));
        for (const auto& [node, ms] : nodeMin) {
            std::string key = node->opType;
            // Convolutions by kind: the kernels differ (depthwise, 1x1, KxK) and so do their costs.
            if ((key == "QConv" || key == "FusedConv" || key == "Conv") && node->inputs().size() > 1) {
                const ir::Value* w = node->input(key == "QConv" ? 3 : 1);
                if (const ir::Tensor* t = w ? ir::constantTensorOf(w) : nullptr; t && t->dims.size() == 4) {
                    const int64_t group = node->attrInt("group", 1);
                    const std::vector<int64_t> st = node->attrInts("strides", {1, 1});
                    key += " " + std::string(group > 1 && group == t->dims[0] ? "dw " : "") + std::to_string(t->dims[2]) + "x" +
                           std::to_string(t->dims[3]) + " s" + std::to_string(st.empty() ? 1 : st[0]);
                }
            }
            (*profile)[key] += ms;
        }
    }
    return best;
}

/// Integer GEMM GOPS (2 ops per multiply-add) for C[M,N] = A[M,K] x B[K,N], B pre-packed.
double gemmGops(int64_t M, int64_t K, int64_t N, int threads, int runs) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> d(-127, 127);
    std::vector<int16_t> a(rt::cpu::qPackedAElems(M, K)), b(rt::cpu::qPackedBElems(N, K));
    rt::cpu::qPackA(a.data(), M, K, [&](int64_t, int64_t) { return d(rng); });
    rt::cpu::qPackB(b.data(), K, N, [&](int64_t, int64_t) { return d(rng); });
    std::vector<float> mult(std::size_t(M), 0.001f);
    std::vector<uint8_t> y(std::size_t(M * N));
    rt::ThreadPool pool(threads);
    rt::cpu::QGemmArgs g;
    g.a = a.data();
    g.m = M;
    g.k = K;
    g.n = N;
    g.packedB = b.data();
    g.epi.mult = mult.data();
    g.epi.zp = 128.f;
    g.out = {y.data(), N, N, 0};
    double best = 1e30;
    for (int i = 0; i < runs + 2; ++i) {
        auto t0 = Clock::now();
        rt::cpu::qgemm(g, pool);
        if (i >= 2) best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    return 2.0 * double(M) * double(N) * double(K) / best / 1e9;
}

} // namespace

int main(int argc, char** argv) {
    std::string models = "../shared/models", writeDir;
    bool profile = false, int8Only = false;
    std::string only; // one model by name (empty: both)
    int runs = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--models" && i + 1 < argc) models = argv[++i];
        else if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
        else if (a == "--write-qdq" && i + 1 < argc) writeDir = argv[++i];
        else if (a == "--profile") profile = true;
        else if (a == "--int8-only") int8Only = true;
        else if (a == "--model" && i + 1 < argc) only = argv[++i];
        else {
            std::fprintf(stderr, "usage: bench_int8 [--models DIR] [--runs R] [--write-qdq DIR] [--profile] [--int8-only] [--model NAME]\n");
            return 2;
        }
    }
    std::string json = "{\"bench\":\"int8\",\"avx2\":" + std::string(rt::cpu::int8UsesAvx2() ? "true" : "false") +
                       ",\"runs\":" + std::to_string(runs) + ",\"models\":[";
    std::printf("INT8 vs FP32 (min of %d runs; integer kernels: %s)\n", runs, rt::cpu::int8UsesAvx2() ? "AVX2" : "portable");
    std::printf("%-14s %7s %9s %9s %9s %7s %7s %9s %9s %9s %7s\n", "model", "threads", "fp32 ms", "qdq-f ms", "int8 ms",
                "ratio", "vs qdq", "fp32 cpu", "qdq-f cpu", "int8 cpu", "qnodes");
    bool firstModel = true;
    for (const char* name : {"resnet18", "mobilenet_v2"}) {
        if (!only.empty() && only != name) continue;
        const std::string path = models + "/onnx/torchvision-arch/" + name + ".onnx";
        auto fp = ir::loadModel(path);
        auto q = makeQdq(path);
        if (!fp || !q) {
            std::fprintf(stderr, "%s: %s\n", name, (!fp ? fp.error() : q.error()).toString().c_str());
            continue;
        }
        if (!writeDir.empty()) {
            const std::string out = writeDir + "/" + name + "_qdq.onnx";
            if (auto r = ir::saveModel(**q, out); !r) std::fprintf(stderr, "%s\n", r.error().toString().c_str());
            else std::printf("wrote %s\n", out.c_str());
        }
        for (int threads : {1, 2}) {
            int qnodes = 0;
            // --int8-only (profiling the integer path): the float columns stay 0.
            auto f = int8Only ? Result<Timing>(Timing{}) : latency(**fp, threads, runs, false);
            auto qf = int8Only ? Result<Timing>(Timing{}) : latency(**q, threads, runs, false); // the QDQ file run in float (int8Kernels off)
            std::map<std::string, double> prof;
            auto i8 = latency(**q, threads, runs, true, &qnodes, profile ? &prof : nullptr);
            for (const auto& [op, ms] : prof) std::printf("    int8 %-20s %8.2f ms\n", op.c_str(), ms);
            if (!f || !qf || !i8) {
                std::fprintf(stderr, "%s: %s\n", name, (!f ? f.error() : !qf ? qf.error() : i8.error()).toString().c_str());
                continue;
            }
            const double ratio = i8->wallMs / f->wallMs, vsQdq = i8->wallMs / qf->wallMs;
            // CPU time is the calling thread's: the whole run at 1 thread, a share at 2 ("-").
            char fc[16] = "-", qc[16] = "-", ic[16] = "-";
            if (threads == 1) {
                std::snprintf(fc, sizeof fc, "%.2f", f->cpuMs);
                std::snprintf(qc, sizeof qc, "%.2f", qf->cpuMs);
                std::snprintf(ic, sizeof ic, "%.2f", i8->cpuMs);
            }
            std::printf("%-14s %7d %9.2f %9.2f %9.2f %7.3f %7.3f %9s %9s %9s %7d\n", name, threads, f->wallMs, qf->wallMs,
                        i8->wallMs, ratio, vsQdq, fc, qc, ic, qnodes);
            char buf[400];
            std::snprintf(buf, sizeof buf,
                          "%s{\"model\":\"%s\",\"threads\":%d,\"fp32_ms\":%.3f,\"qdq_float_ms\":%.3f,\"int8_ms\":%.3f,"
                          "\"ratio\":%.4f,\"int8_vs_qdq_float\":%.4f,\"fp32_cpu_ms\":%.3f,\"qdq_float_cpu_ms\":%.3f,\"int8_cpu_ms\":%.3f,"
                          "\"qnodes\":%d}",
                          firstModel ? "" : ",", name, threads, f->wallMs, qf->wallMs, i8->wallMs, ratio, vsQdq,
                          f->cpuMs, qf->cpuMs, i8->cpuMs, qnodes);
            json += buf;
            firstModel = false;
        }
    }
    json += "],\"gemm\":[";
    if (int8Only) {
        std::printf("%s]}\n", json.c_str());
        return 0;
    }
    std::printf("\nint8 GEMM (u8/s8 operands as int16 pairs, vpmaddwd), pre-packed B\n%-22s %7s %8s\n", "M x K x N", "threads", "GOPS");
    bool first = true;
    const int64_t shapes[][3] = {{64, 576, 3136}, {128, 1152, 784}, {256, 2304, 196}, {512, 4608, 49}, {1000, 512, 1}};
    for (const auto& s : shapes)
        for (int threads : {1, 2}) {
            const double gops = gemmGops(s[0], s[1], s[2], threads, runs);
            const std::string shape = std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]);
            std::printf("%-22s %7d %8.1f\n", shape.c_str(), threads, gops);
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s{\"shape\":\"%s\",\"threads\":%d,\"gops\":%.2f}", first ? "" : ",", shape.c_str(), threads, gops);
            json += buf;
            first = false;
        }
    json += "]}";
    std::printf("%s\n", json.c_str());
    return 0;
}
