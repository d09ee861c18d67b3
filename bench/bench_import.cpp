// bench_import: how long loading a model takes, and how much memory it needs.
// Loads MODEL N times in two modes: "import" (parse and build the IR only) and "load" (what the
// app and CLI do: import + verify + shape inference). Prints a table, then one JSON line.
// Peak RSS is the process maximum over all runs, so it includes the file mapping and one model.
#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/io/model_io.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Stats {
    double minMs = 0;
    double medianMs = 0;
};

// Microsecond resolution is all a timer-based number deserves (and keeps the JSON readable).
double roundUs(double ms) {
    return std::round(ms * 1000.0) / 1000.0;
}

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return {roundUs(v.front()), roundUs(n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2)};
}

bool timeLoads(const std::string& path, const ew::ir::LoadOptions& opts, int runs,
               std::vector<double>& out) {
    for (int i = 0; i < runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto m = ew::ir::loadModel(path, opts);
        auto t1 = std::chrono::steady_clock::now();
        if (!m) {
            std::fprintf(stderr, "bench_import: %s\n", m.error().toString().c_str());
            return false;
        }
        out.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::string path;
    int runs = 20;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "-n" || a == "--runs") && i + 1 < argc) {
            runs = std::atoi(argv[++i]);
        } else if (a == "-h" || a == "--help") {
            std::printf(
                "Usage: bench_import MODEL [-n RUNS]\n"
                "Times loading MODEL RUNS times (default 20) without and with verification\n"
                "and shape inference; prints a table and a JSON line.\n");
            return 0;
        } else if (path.empty() && !a.starts_with("-")) {
            path = a;
        } else {
            std::fprintf(stderr, "bench_import: unexpected argument '%s' (try --help)\n",
                         a.c_str());
            return 2;
        }
    }
    if (path.empty() || runs < 1) {
        std::fprintf(stderr, "Usage: bench_import MODEL [-n RUNS]\n");
        return 2;
    }
    std::error_code ec;
    auto bytes = std::filesystem::file_size(path, ec);
    if (ec) {
        std::fprintf(stderr, "bench_import: %s: %s\n", path.c_str(), ec.message().c_str());
        return 3;
    }

    ew::ir::LoadOptions importOnly;
    importOnly.verify = false;
    importOnly.inferShapes = false;
    ew::ir::LoadOptions full; // the defaults: what edgewise and edgewise-cli use

    // One untimed load warms the page cache, so the numbers measure parsing, not the disk. The
    // two modes alternate so that drift (frequency, other tenants) hits both alike.
    std::vector<double> warm, importMs, loadMs;
    if (!timeLoads(path, full, 1, warm)) return 1;
    for (int i = 0; i < runs; ++i)
        if (!timeLoads(path, importOnly, 1, importMs) || !timeLoads(path, full, 1, loadMs))
            return 1;
    Stats imp = stats(importMs), load = stats(loadMs);
    std::size_t rss = ew::peakRssBytes();

    std::printf("model: %s (%llu bytes, %.1f MiB)\n", path.c_str(),
                static_cast<unsigned long long>(bytes), bytes / 1048576.0);
    std::printf("%-34s %5s %10s %10s\n", "mode", "runs", "min ms", "median ms");
    std::printf("%-34s %5d %10.2f %10.2f\n", "import (parse + IR)", runs, imp.minMs, imp.medianMs);
    std::printf("%-34s %5d %10.2f %10.2f\n", "load (import + verify + shapes)", runs, load.minMs,
                load.medianMs);
    std::printf("peak RSS: %.1f MiB\n", rss / 1048576.0);

    ew::JsonWriter w(0);
    w.beginObject();
    w.key("model").value(std::filesystem::path(path).filename().string());
    w.key("model_bytes").value(static_cast<uint64_t>(bytes));
    w.key("runs").value(runs);
    w.key("import_ms")
        .beginObject()
        .key("min")
        .value(imp.minMs)
        .key("median")
        .value(imp.medianMs)
        .endObject();
    w.key("load_ms")
        .beginObject()
        .key("min")
        .value(load.minMs)
        .key("median")
        .value(load.medianMs)
        .endObject();
    w.key("peak_rss_bytes").value(static_cast<uint64_t>(rss));
    w.endObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
}
