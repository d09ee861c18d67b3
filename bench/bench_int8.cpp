// bench_int8: FP32 vs INT8 latency on resnet18 and mobilenet_v2 (the INT8 model is a QDQ file
// run through the fused integer path), 1 and 2 threads, plus the integer GEMM's GOPS on
// convolution-shaped products. Prints a table, then one JSON line.
//
// The QDQ models come from our quantizer, as `edgewise-cli quantize IN -o OUT --calib random:4`
// writes them (int8 weights per output channel, uint8 activations, min/max ranges over 4 seeded
// random samples), twice: with 8-bit weights (int8) and with --reduce-range's 7-bit weights
// (int8-rr), which take the exact u8 x s8 (vpmaddubsw) route of the integer kernels on AVX2
// without VNNI. --write-qdq DIR saves them as NAME_qdq.onnx and NAME_qdq_rr.onnx (for
// bench/run-vs-ort.sh --int8 --model DIR/NAME_qdq_rr.onnx: ONNX Runtime on the same files).
//
// Usage: bench_int8 [--models DIR] [--runs R] [--write-qdq DIR] [--profile (int8: per node kind, the sum of each node's minimum ms)]
//                   [--int8-only (skip the float columns and the GEMM table: for perf record)] [--model resnet18|mobilenet_v2]
// Latencies are the minimum over R runs after warm-up (the machine is shared and noisy); at 1
// thread the minimum CPU time of the run is printed too (less sensitive to other people's load).
// Columns: fp32 = the float model; qdq-f = the QDQ file with int8Kernels off (Q/DQ run in
// float: what SessionOptions::int8Kernels' default is weighed against); int8 / int8-rr = the
// fused path on the 8-bit / 7-bit weight files; ratio = int8 / fp32, rr = int8-rr / fp32.
#include "common/status.h"
#include "ir/graph.h"
#include "ir/io/model_io.h"
#include "ir/shape_inference.h"
#include "optimize/dataset/dataset.h"
#include "optimize/quantize/quantizer.h"
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

/// The QDQ twin from our quantizer (what `edgewise-cli quantize IN -o OUT --calib random:4
/// [--reduce-range]` writes): int8 weights per output channel, 7-bit with reduceRange; uint8
/// activations with min/max ranges over 4 seeded random samples.
Result<std::unique_ptr<ir::Model>> makeQdq(const std::string& path, bool reduceRange) {
    EW_TRY_ASSIGN(auto model, ir::loadModel(path));
    EW_TRY_ASSIGN(auto session, rt::Session::create(*model));
    EW_TRY_ASSIGN(auto data, opt::data::openDataset("random:4", session->inputInfo()));
    opt::quant::QuantizeOptions qo;
    qo.reduceRange = reduceRange;
    EW_TRY_ASSIGN(auto cal, opt::quant::calibrate(*model, *data, opt::quant::calibrationBins(qo)));
    EW_TRY(opt::quant::quantizeModel(*model, &cal, qo));
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
                       ",\"vnni\":" + std::string(rt::cpu::int8UsesVnni() ? "true" : "false") +
                       ",\"runs\":" + std::to_string(runs) + ",\"models\":[";
    std::printf("INT8 vs FP32 (min of %d runs; integer kernels: %s)\n", runs,
                rt::cpu::int8UsesVnni() ? "AVX-512 VNNI" : rt::cpu::int8UsesAvx2() ? "AVX2" : "portable");
    std::printf("%-14s %7s %9s %9s %9s %9s %7s %7s %9s %9s %9s %7s\n", "model", "threads", "fp32 ms", "qdq-f ms", "int8 ms",
                "int8-rr", "ratio", "rr", "fp32 cpu", "int8 cpu", "rr cpu", "qnodes");
    bool firstModel = true;
    for (const char* name : {"resnet18", "mobilenet_v2"}) {
        if (!only.empty() && only != name) continue;
        const std::string path = models + "/onnx/torchvision-arch/" + name + ".onnx";
        auto fp = ir::loadModel(path);
        auto q = makeQdq(path, false);
        auto qr = makeQdq(path, true);
        if (!fp || !q || !qr) {
            std::fprintf(stderr, "%s: %s\n", name, (!fp ? fp.error() : !q ? q.error() : qr.error()).toString().c_str());
            continue;
        }
        if (!writeDir.empty())
            for (auto [m, suffix] : {std::pair{q->get(), "_qdq.onnx"}, std::pair{qr->get(), "_qdq_rr.onnx"}}) {
                const std::string out = writeDir + "/" + name + suffix;
                if (auto r = ir::saveModel(*m, out); !r) std::fprintf(stderr, "%s\n", r.error().toString().c_str());
                else std::printf("wrote %s\n", out.c_str());
            }
        for (int threads : {1, 2}) {
            int qnodes = 0;
            // --int8-only (profiling the integer path): the float columns stay 0.
            auto f = int8Only ? Result<Timing>(Timing{}) : latency(**fp, threads, runs, false);
            auto qf = int8Only ? Result<Timing>(Timing{}) : latency(**q, threads, runs, false); // the QDQ file run in float (int8Kernels off)
            std::map<std::string, double> prof;
            auto i8 = latency(**q, threads, runs, true, &qnodes);
            auto rr = latency(**qr, threads, runs, true, nullptr, profile ? &prof : nullptr);
            for (const auto& [op, ms] : prof) std::printf("    int8-rr %-20s %8.2f ms\n", op.c_str(), ms);
            if (!f || !qf || !i8 || !rr) {
                std::fprintf(stderr, "%s: %s\n", name,
                             (!f ? f.error() : !qf ? qf.error() : !i8 ? i8.error() : rr.error()).toString().c_str());
                continue;
            }
            const double ratio = i8->wallMs / f->wallMs, ratioRr = rr->wallMs / f->wallMs, vsQdq = i8->wallMs / qf->wallMs;
            // CPU time is the calling thread's: the whole run at 1 thread, a share at 2 ("-").
            char fc[16] = "-", ic[16] = "-", rc[16] = "-";
            if (threads == 1) {
                std::snprintf(fc, sizeof fc, "%.2f", f->cpuMs);
                std::snprintf(ic, sizeof ic, "%.2f", i8->cpuMs);
                std::snprintf(rc, sizeof rc, "%.2f", rr->cpuMs);
            }
            std::printf("%-14s %7d %9.2f %9.2f %9.2f %9.2f %7.3f %7.3f %9s %9s %9s %7d\n", name, threads, f->wallMs,
                        qf->wallMs, i8->wallMs, rr->wallMs, ratio, ratioRr, fc, ic, rc, qnodes);
            char buf[512];
            std::snprintf(buf, sizeof buf,
                          "%s{\"model\":\"%s\",\"threads\":%d,\"fp32_ms\":%.3f,\"qdq_float_ms\":%.3f,\"int8_ms\":%.3f,"
                          "\"int8_rr_ms\":%.3f,\"ratio\":%.4f,\"ratio_rr\":%.4f,\"int8_vs_qdq_float\":%.4f,\"fp32_cpu_ms\":%.3f,"
                          "\"qdq_float_cpu_ms\":%.3f,\"int8_cpu_ms\":%.3f,\"int8_rr_cpu_ms\":%.3f,\"qnodes\":%d}",
                          firstModel ? "" : ",", name, threads, f->wallMs, qf->wallMs, i8->wallMs, rr->wallMs, ratio, ratioRr,
                          vsQdq, f->cpuMs, qf->cpuMs, i8->cpuMs, rr->cpuMs, qnodes);
            json += buf;
            firstModel = false;
        }
    }
    json += "],\"gemm\":[";
    if (int8Only) {
        std::printf("%s]}\n", json.c_str());
        return 0;
    }
    std::printf("\nint8 GEMM (u8/s8 operands as int16 pairs, vpmaddwd: the 8-bit weight route), pre-packed B\n%-22s %7s %8s\n",
                "M x K x N", "threads", "GOPS");
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
