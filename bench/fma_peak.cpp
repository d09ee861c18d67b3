// bench_fma_peak: the machine's FP32 FMA peak in GFLOP/s, single core and all cores, the
// yardstick for the runtime's GFLOP/s in bench/run-vs-ort.sh. Built for baseline x86-64: the
// AVX2+FMA loop lives in fma_peak_avx2.cpp and runs only when the CPU reports both features.
//
// Usage: bench_fma_peak [--threads N] [--seconds S] [--trials T] [--json]
// Prints a table and one JSON line (only the JSON with --json). *_gflops are per-thread CPU-time
// rates (robust to other processes on a shared machine); *_gflops_wall are wall-clock rates.
// Exit codes: 0 ok, 2 usage, 77 the CPU (or this build's architecture) has no AVX2+FMA.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <time.h>
#include <sched.h>

namespace ew::bench {
#ifdef EW_NO_AVX2
float fmaLoopAvx2(int64_t) { return 0; } // never called: cpuHasAvx2Fma() is false off x86
#else
float fmaLoopAvx2(int64_t iterations);
#endif
}

namespace {

constexpr double kFlopsPerIteration = 12 * 8 * 2; // 12 chains x 8 lanes x (mul + add)
volatile float g_sink;

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

std::string cpuModel() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto p = line.find(':');
            if (p != std::string::npos) return line.substr(line.find_first_not_of(" \t", p + 1));
        }
    }
    return "unknown";
}

void pinToCpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set); // best effort
}

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

/// Iterations that take about `target` seconds on one core.
int64_t calibrate(double target) {
    int64_t n = 1 << 16;
    for (;;) {
        auto t0 = std::chrono::steady_clock::now();
        g_sink = ew::bench::fmaLoopAvx2(n);
        double s = seconds(t0, std::chrono::steady_clock::now());
        if (s > 0.02 || n > (int64_t(1) << 40)) return std::max<int64_t>(1, int64_t(double(n) * target / s));
        n *= 4;
    }
}

double threadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Rate {
    double wall = 0; ///< total work / slowest thread's wall time
    double cpu = 0;  ///< sum over threads of work / that thread's CPU time
};

/// One trial on `threads` threads started together. Two rates: wall-clock (what a user of the
/// whole machine gets) and CPU-time (immune to preemption by other processes on a shared box,
/// so the better estimate of what the cores can do).
Rate trial(int threads, int64_t iterations) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> wall(std::size_t(threads), 0.0), cpu(std::size_t(threads), 0.0);
    std::vector<std::thread> pool;
    unsigned ncpu = std::max(1u, std::thread::hardware_concurrency());
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            pinToCpu(int(unsigned(t) % ncpu));
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) {
            }
            auto t0 = std::chrono::steady_clock::now();
            double c0 = threadCpuSeconds();
            float r = ew::bench::fmaLoopAvx2(iterations);
            cpu[std::size_t(t)] = threadCpuSeconds() - c0;
            wall[std::size_t(t)] = seconds(t0, std::chrono::steady_clock::now());
            g_sink = r;
        });
    }
    while (ready.load() < threads) {
    }
    go.store(true, std::memory_order_release);
    for (auto& th : pool)
        th.join();
    const double work = kFlopsPerIteration * double(iterations) / 1e9;
    Rate rate;
    rate.wall = work * threads / *std::max_element(wall.begin(), wall.end());
    for (double c : cpu)
        rate.cpu += work / c;
    return rate;
}

[[noreturn]] void usage(const char* msg) {
    std::fprintf(stderr, "bench_fma_peak: %s\nusage: bench_fma_peak [--threads N] [--seconds S] [--trials T] [--json]\n", msg);
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    double target = 0.1;
    int trials = 15;
    bool jsonOnly = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage((a + " needs a value").c_str());
            return argv[++i];
        };
        if (a == "--threads") threads = std::atoi(value());
        else if (a == "--seconds") target = std::atof(value());
        else if (a == "--trials") trials = std::atoi(value());
        else if (a == "--json") jsonOnly = true;
        else if (a == "-h" || a == "--help") usage("FP32 FMA peak in GFLOP/s");
        else usage(("unknown argument " + a).c_str());
    }
    if (threads < 1 || threads > 4096 || trials < 1 || !(target > 0 && target < 60))
        usage("bad --threads, --trials or --seconds");

    std::string model = cpuModel();
    if (!cpuHasAvx2Fma()) {
        std::printf("bench_fma_peak: this CPU (%s) has no AVX2+FMA; nothing to measure\n", model.c_str());
        std::printf("{\"cpu\":\"%s\",\"avx2_fma\":false}\n", model.c_str());
        return 77;
    }

    int64_t iterations = calibrate(target);
    Rate single, all;
    // Alternate single- and all-core trials so drift (turbo, neighbours) hits both alike; the
    // best trial is the peak.
    for (int t = 0; t < trials; ++t) {
        Rate s = trial(1, iterations), a = trial(threads, iterations);
        single = {std::max(single.wall, s.wall), std::max(single.cpu, s.cpu)};
        all = {std::max(all.wall, a.wall), std::max(all.cpu, a.cpu)};
    }
    if (!jsonOnly) {
        std::printf("CPU: %s, AVX2+FMA, %d threads, best of %d trials of %.2f s\n", model.c_str(),
                    threads, trials, target);
        std::printf("%-8s %14s %14s %18s\n", "cores", "GFLOP/s wall", "GFLOP/s cpu", "GFLOP/s/core cpu");
        std::printf("%-8d %14.1f %14.1f %18.1f\n", 1, single.wall, single.cpu, single.cpu);
        std::printf("%-8d %14.1f %14.1f %18.1f\n", threads, all.wall, all.cpu, all.cpu / threads);
    }
    std::string escaped;
    for (char c : model)
        if (c != '"' && c != '\\') escaped += c;
    std::printf("{\"cpu\":\"%s\",\"avx2_fma\":true,\"threads\":%d,\"trials\":%d,\"trial_seconds\":%.3f,"
                "\"single_core_gflops\":%.2f,\"all_core_gflops\":%.2f,\"per_core_gflops\":%.2f,"
                "\"single_core_gflops_wall\":%.2f,\"all_core_gflops_wall\":%.2f}\n",
                escaped.c_str(), threads, trials, target, single.cpu, all.cpu, all.cpu / threads,
                single.wall, all.wall);
    return 0;
}
