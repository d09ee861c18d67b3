#pragma once
// Shared by the convolution tests (tst_conv_fast, tst_conv_implicit): seeded random data and
// the relative difference of two results (runOnce is in kernel_test_util.h).
#include "kernel_test_util.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ew::test {

inline std::vector<float> randomFloats(std::size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

/// max |a - b| relative to the largest |a| (at least 1e-6).
inline double maxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double scale = 1e-6, worst = 0;
    for (float v : a) scale = std::max(scale, double(std::abs(v)));
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]) / scale);
    return worst;
}

} // namespace ew::test
