#pragma once
// Shared by the convolution tests (tst_conv_fast, tst_conv_implicit): seeded random data, one
// session run with the reference or the optimized kernels, and the relative difference of two
// results.
#include "runtime/cpu/sgemm.h"
#include "runtime/session.h"

#include <QtGlobal>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ew::test {

inline std::vector<float> randomFloats(std::size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
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

/// max |a - b| relative to the largest |a| (at least 1e-6).
inline double maxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double scale = 1e-6, worst = 0;
    for (float v : a) scale = std::max(scale, double(std::abs(v)));
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]) / scale);
    return worst;
}

} // namespace ew::test
