// Packed SGEMM throughput on the GEMM shapes convolutions produce (M = output channels,
// K = input channels x kernel taps, N = output pixels). Prints a table and JSON.
#include "runtime/cpu/sgemm.h"
#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace ew::rt;

int main(int argc, char** argv) {
    // Usage: bench_sgemm [THREADS] [--cold] [--only TEXT] [--reps R]. --cold evicts the caches
    // before every repetition (A, B and C then come from memory, as the layers of a whole model
    // see them); --only keeps the shapes whose name contains TEXT; R repetitions (default 30),
    // the minimum reported.
    int threads = 1, reps = 30;
    bool cold = false;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--cold")
            cold = true;
        else if (arg == "--only" && i + 1 < argc)
            only = argv[++i];
        else if (arg == "--reps" && i + 1 < argc)
            reps = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--threads" && i + 1 < argc)
            threads = std::max(1, std::atoi(argv[++i]));
        else
            threads = std::max(1, std::atoi(argv[i]));
    }
    std::vector<float> evict(cold ? 16 << 20 : 0); // 64 MB: more than any L3 this runs on
    struct Shape {
        const char* name;
        int64_t m, k, n;
    };
    const Shape shapes[] = {
        {"resnet layer1 3x3 (im2col)", 64, 576, 3136}, {"resnet layer4 3x3 (im2col)", 512, 4608, 49},
        {"resnet layer3 3x3 (im2col)", 256, 2304, 196}, {"mobilenet 1x1 expand", 96, 16, 12544},
        {"mobilenet 1x1 project", 24, 144, 3136},       {"mobilenet 112x112 project", 16, 32, 12544},
        {"mobilenet 14x14 expand", 576, 96, 196},       {"mobilenet 14x14 project", 96, 576, 196},
        {"(same, N 192)", 96, 576, 192},
        {"mobilenet 7x7 expand", 960, 160, 49},         {"mobilenet 7x7 project", 160, 960, 49},
        {"mobilenet 7x7 last 1x1", 1280, 320, 49},      {"(same, N 48)", 1280, 320, 48},
        {"square 512", 512, 512, 512},
    };
    ThreadPool pool(threads);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1, 1);
    std::printf("%-30s %6s %6s %6s %10s %10s\n", "shape", "M", "K", "N", "ms", "GFLOP/s");
    std::string json = "[";
    for (const Shape& s : shapes) {
        if (!only.empty() && std::string(s.name).find(only) == std::string::npos) continue;
        // B 64-byte aligned, as the runtime's arena lays out activations (the SGEMM reads such a
        // B in place when its rows are whole cache lines apart).
        std::vector<float> a(s.m * s.k), bStore(s.k * s.n + 16), c(s.m * s.n);
        float* b = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(bStore.data()) + 63) & ~uintptr_t(63));
        for (auto& x : a) x = d(rng);
        for (int64_t i = 0; i < s.k * s.n; ++i) b[i] = d(rng);
        cpu::PackedMatrix pa = cpu::PackedMatrix::pack(a.data(), s.m, s.k, s.k, false);
        cpu::Epilogue e;
        double best = 1e30;
        for (int rep = 0; rep < reps; ++rep) {
            for (std::size_t i = 0; i < evict.size(); i += 16) evict[i] += 1.f;
            auto t0 = std::chrono::steady_clock::now();
            cpu::sgemm(pa, b, s.n, false, s.n, c.data(), s.n, e, pool);
            best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        double gflops = 2.0 * s.m * s.k * s.n / (best * 1e6);
        std::printf("%-30s %6lld %6lld %6lld %10.3f %10.1f\n", s.name, (long long)s.m, (long long)s.k, (long long)s.n, best, gflops);
        json += std::string(json.size() > 1 ? "," : "") + "{\"shape\":\"" + s.name + "\",\"ms\":" + std::to_string(best) +
                ",\"gflops\":" + std::to_string(gflops) + "}";
    }
    std::printf("%s]\n", json.c_str());
    return 0;
}
