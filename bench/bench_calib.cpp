// bench_calib: calibration cost and memory against the sample count. For each N (default 100,
// 1000, 10000) a fresh child process (this binary, --child) loads the model, opens a streaming
// dataset of N samples ("random:N" by default: seeded data generated one sample at a time, so
// the data itself holds no memory) and runs quant::calibrate over it, the quantizer's public API
// that `edgewise-cli quantize --calib` uses. Each child reports its peak RSS (VmHWM) at three
// points: after loading the model, after a 10-sample warm-up calibration (the session, its arena
// and one observer per tensor are then allocated: the steady state), and after the N-sample
// calibration. Calibration memory is flat when the last one does not grow with N. A fresh process
// per N keeps one N's peak from hiding another's. Wall time (ms, samples/s from it) and the
// process's CPU time (all threads; less sensitive to other people's load on a shared machine)
// are both printed. Prints a table, then one JSON line.
//
// Usage: bench_calib [--model PATH] [--source SOURCE] [--counts 100,1000,10000] [--bins B]
//   --bins: histogram bins per tensor (2048, what percentile / entropy / mse calibrate with), or 0
//   for none (what minmax / moving-average calibrate with: quant::calibrationBins).
//   --source: "random" (default; N is appended as random:N) or a folder / file the dataset reads
//   (then N is passed as the limit and must not exceed what the source holds).
#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/io/model_io.h"
#include "optimize/dataset/dataset.h"
#include "optimize/quantize/quantizer.h"
#include "runtime/session.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#ifndef EW_MODELS_DIR
#define EW_MODELS_DIR "../shared/models"
#endif

using namespace ew;

namespace {

struct Options {
    std::string model = std::string(EW_MODELS_DIR) + "/onnx/digits-cnn/digits_cnn.onnx";
    std::string source = "random";
    std::vector<int64_t> counts{100, 1000, 10000};
    int bins = opt::quant::TensorObserver::kBins;
};

struct Row {
    int64_t n = 0, samples = 0, tensors = 0;
    double ms = 0, cpuMs = 0;
    double loadedMiB = 0, steadyMiB = 0, peakMiB = 0;
    std::string error;
};

double mib(std::size_t bytes) { return double(bytes) / 1048576.0; }

Result<std::unique_ptr<opt::data::Dataset>> open(const ir::Model& model, const Options& o, int64_t n) {
    EW_TRY_ASSIGN(auto session, rt::Session::create(model));
    opt::data::OpenOptions oo;
    std::string source = o.source;
    if (source == "random") {
        source = "random:" + std::to_string(n);
    } else {
        oo.limit = n;
    }
    return opt::data::openDataset(source, session->inputInfo(), oo);
}

/// The child's work: prints "ROW n samples tensors ms loaded steady peak" (MiB) or "ERROR msg".
int child(const Options& o, int64_t n) {
    auto model = ir::loadModel(o.model);
    if (!model) {
        std::printf("ERROR %s\n", model.error().toString().c_str());
        return 1;
    }
    const std::size_t loaded = peakRssBytes();
    {
        auto warm = open(**model, o, 10);
        auto cal = warm ? opt::quant::calibrate(**model, **warm, o.bins) : Result<opt::quant::Calibration>(std::unexpected(warm.error()));
        if (!cal) {
            std::printf("ERROR %s\n", cal.error().toString().c_str());
            return 1;
        }
    }
    const std::size_t steady = peakRssBytes();
    auto data = open(**model, o, n);
    if (!data) {
        std::printf("ERROR %s\n", data.error().toString().c_str());
        return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    auto cal = opt::quant::calibrate(**model, **data, o.bins);
    const double cpuMs = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!cal) {
        std::printf("ERROR %s\n", cal.error().toString().c_str());
        return 1;
    }
    std::printf("ROW %lld %lld %lld %.3f %.3f %.3f %.3f %.3f\n", (long long)n, (long long)cal->samples,
                (long long)cal->observers.size(), ms, cpuMs, mib(loaded), mib(steady), mib(peakRssBytes()));
    return 0;
}

Row runChild(const std::string& self, const Options& o, int64_t n) {
    Row r;
    r.n = n;
    std::string cmd = "'" + self + "' --child " + std::to_string(n) + " --model '" + o.model + "' --source '" + o.source +
                      "' --bins " + std::to_string(o.bins) + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        r.error = "cannot start the child process";
        return r;
    }
    char line[4096];
    std::string out;
    while (std::fgets(line, sizeof line, p)) out += line;
    const int rc = pclose(p);
    long long nn = 0, samples = 0, tensors = 0;
    if (std::sscanf(out.c_str(), "ROW %lld %lld %lld %lf %lf %lf %lf %lf", &nn, &samples, &tensors, &r.ms, &r.cpuMs,
                    &r.loadedMiB, &r.steadyMiB, &r.peakMiB) == 8 && rc == 0) {
        r.samples = samples;
        r.tensors = tensors;
    } else {
        r.error = out.empty() ? "child exited with status " + std::to_string(rc) : out.substr(0, out.find('\n'));
    }
    return r;
}

bool parseCounts(const std::string& s, std::vector<int64_t>& out) {
    out.clear();
    std::size_t start = 0;
    while (start < s.size()) {
        std::size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        char* e = nullptr;
        const std::string item = s.substr(start, end - start);
        const long long v = std::strtoll(item.c_str(), &e, 10);
        if (item.empty() || *e != '\0' || v <= 0) return false;
        out.push_back(v);
        start = end + 1;
    }
    return !out.empty();
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    int64_t childN = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_calib: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--model") o.model = next();
        else if (a == "--source") o.source = next();
        else if (a == "--bins") o.bins = std::atoi(next().c_str());
        else if (a == "--child") childN = std::atoll(next().c_str());
        else if (a == "--counts") {
            if (!parseCounts(next(), o.counts)) {
                std::fprintf(stderr, "bench_calib: --counts takes positive integers separated by commas\n");
                return 2;
            }
        } else if (a == "-h" || a == "--help") {
            std::printf("Usage: bench_calib [--model PATH] [--source random|DIR|FILE] [--counts 100,1000,10000] [--bins B]\n"
                        "Calibration time and peak RSS per sample count, one fresh process per count.\n"
                        "--bins: histogram bins per tensor (default 2048: percentile, entropy, mse), 0 for none\n"
                        "(minmax, moving-average).\n");
            return 0;
        } else {
            std::fprintf(stderr, "bench_calib: unexpected argument '%s' (try --help)\n", a.c_str());
            return 2;
        }
    }
    if (o.bins < 16 && o.bins != 0) {
        std::fprintf(stderr, "bench_calib: --bins must be 0 (no histograms) or at least 16\n");
        return 2;
    }
    if (childN > 0) return child(o, childN);

    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) {
        std::fprintf(stderr, "bench_calib: cannot find its own executable (/proc/self/exe): %s\n", ec.message().c_str());
        return 1;
    }
    std::printf("model: %s\nsource: %s, histogram bins %d; RSS columns are peak RSS (VmHWM, MiB) of a fresh process\n",
                o.model.c_str(), o.source.c_str(), o.bins);
    std::printf("%8s %8s %10s %10s %12s %10s %10s %10s %10s\n", "N", "tensors", "ms", "cpu ms", "samples/s", "loaded",
                "steady", "peak", "growth");
    JsonWriter w(0);
    w.beginObject();
    w.key("model").value(o.model);
    w.key("source").value(o.source);
    w.key("bins").value(o.bins);
    w.key("rows").beginArray();
    int failures = 0;
    for (int64_t n : o.counts) {
        const Row r = runChild(self, o, n);
        w.beginObject();
        w.key("n").value(n);
        if (!r.error.empty()) {
            std::printf("%8lld  error: %s\n", (long long)n, r.error.c_str());
            w.key("error").value(r.error);
            w.endObject();
            ++failures;
            continue;
        }
        const double rate = r.ms > 0 ? double(r.samples) / (r.ms / 1000.0) : 0;
        std::printf("%8lld %8lld %10.1f %10.1f %12.0f %10.1f %10.1f %10.1f %10.2f\n", (long long)r.samples,
                    (long long)r.tensors, r.ms, r.cpuMs, rate, r.loadedMiB, r.steadyMiB, r.peakMiB, r.peakMiB - r.steadyMiB);
        w.key("samples").value(r.samples);
        w.key("tensors").value(r.tensors);
        w.key("ms").value(r.ms);
        w.key("cpu_ms").value(r.cpuMs);
        w.key("samples_per_s").value(rate);
        w.key("peak_rss_mib_loaded").value(r.loadedMiB);
        w.key("peak_rss_mib_steady").value(r.steadyMiB);
        w.key("peak_rss_mib").value(r.peakMiB);
        w.key("peak_rss_growth_mib").value(r.peakMiB - r.steadyMiB);
        w.endObject();
    }
    w.endArray();
    w.endObject();
    std::printf("%s\n", w.str().c_str());
    return failures ? 1 : 0;
}
