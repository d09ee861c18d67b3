// Fused activations' attribute form (FusedConv, FusedGemm) and SiLU: the vectorized loop the
// epilogues call, and ai.edgewise.Silu, the standalone op the runtime fusion writes for
// x * Sigmoid(x) when no Conv or Gemm can take it.
#include "activation.h"

#include "kernel_util.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace ew::rt::cpu {

#if defined(__x86_64__) || defined(__i386__)
void siluAvx2(const float* x, float* y, int64_t n);
void hardSwishAvx2(const float* x, float* y, int64_t n);
void hardSigmoidAvx2(const float* x, float* y, int64_t n, float alpha, float beta);
#endif

namespace {

std::atomic<bool> g_forcePortable{false};

/// The CPU has AVX2 and FMA and no test asked for the portable loops.
bool useAvx2() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return avx2 && !g_forcePortable.load(std::memory_order_relaxed);
#else
    return false;
#endif
}

} // namespace

void vectorActivationsForcePortable(bool portable) { g_forcePortable.store(portable); }

void silu(const float* x, float* y, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (useAvx2()) return siluAvx2(x, y, n);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.f + std::exp(-x[i]));
}

void hardSwish(const float* x, float* y, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (useAvx2()) return hardSwishAvx2(x, y, n);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * std::min(1.f, std::max(0.f, x[i] / 6.f + 0.5f));
}

void hardSigmoid(const float* x, float* y, int64_t n, float alpha, float beta) {
#if defined(__x86_64__) || defined(__i386__)
    if (useAvx2()) return hardSigmoidAvx2(x, y, n, alpha, beta);
#endif
    for (int64_t i = 0; i < n; ++i) y[i] = std::min(1.f, std::max(0.f, alpha * x[i] + beta));
}

VoidResult readActivation(const ir::Node& node, Epilogue& e) { return readActivation(node, e, std::string()); }

VoidResult readActivation(const ir::Node& node, Epilogue& e, const std::string& prefix) {
    const std::string act = node.attrString(prefix + "activation", "");
    const std::vector<float> p = node.attrFloats(prefix + "activation_params", {});
    auto param = [&](std::size_t i, float def) { return i < p.size() ? p[i] : def; };
    if (act.empty()) e.act = Activation::None;
    else if (act == "Relu") e.act = Activation::Relu;
    else if (act == "Clip") {
        e.act = Activation::Clip;
        e.alpha = param(0, -3.4e38f);
        e.beta = param(1, 3.4e38f);
    } else if (act == "LeakyRelu") {
        e.act = Activation::LeakyRelu;
        e.alpha = param(0, 0.01f);
    } else if (act == "Sigmoid") e.act = Activation::Sigmoid;
    else if (act == "HardSigmoid") {
        e.act = Activation::HardSigmoid;
        e.alpha = param(0, 0.2f);
        e.beta = param(1, 0.5f);
    } else if (act == "HardSwish") e.act = Activation::HardSwish;
    else if (act == "Tanh") e.act = Activation::Tanh;
    else if (act == "Silu") e.act = Activation::Silu;
    else
        return fail(StatusCode::Unsupported, node.opType + ": unknown activation '" + act + "'", node.displayName());
    return {};
}

namespace {

/// ai.edgewise.Silu: y = x * sigmoid(x), float32, any shape; may run in place.
class SiluKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DataType::Float)
            return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported (float32 only)");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        const float* x = ctx.input(0).data<float>();
        float* y = ctx.output(0).data<float>();
        ctx.pool().parallelFor(0, ctx.input(0).numElements(), 16384,
                               [&](int64_t b, int64_t e) { silu(x + b, y + b, e - b); });
    }
    int inPlaceInput() const override { return 0; }
};

} // namespace
} // namespace ew::rt::cpu

namespace ew::rt {
std::unique_ptr<Kernel> makeSilu() { return std::make_unique<cpu::SiluKernel>(); }
} // namespace ew::rt
