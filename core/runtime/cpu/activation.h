#pragma once
// Activations shared by the fused kernels (FusedConv, FusedGemm) and Edgewise's own Silu op:
// the attribute form they are stored in, and vectorized SiLU, HardSwish and HardSigmoid.
#include "common/status.h"
#include "ir/graph.h"
#include "sgemm.h"

#include <cstdint>

namespace ew::rt::cpu {

/// Reads a fused node's `activation` (Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
/// Tanh, Silu; empty: none) and `activation_params` attributes into an epilogue; an unknown name
/// is an Unsupported error naming the node.
VoidResult readActivation(const ir::Node& node, Epilogue& e);
/// The same from `prefix`activation and `prefix`activation_params (FusedPwDwConv's second
/// activation is dw_activation).
VoidResult readActivation(const ir::Node& node, Epilogue& e, const std::string& prefix);

/// y[i] = x[i] / (1 + exp(-x[i])) for n floats (y may equal x). AVX2+FMA with a polynomial exp
/// (relative error about 2e-7) where the CPU has it, std::exp elsewhere.
void silu(const float* x, float* y, int64_t n);

/// y[i] = x[i] * min(1, max(0, x[i] / 6 + 1/2)) for n floats (y may equal x); AVX2 where the
/// CPU has it, bit-identical to the portable loop.
void hardSwish(const float* x, float* y, int64_t n);

/// y[i] = min(1, max(0, alpha * x[i] + beta)) (NaN -> 0) for n floats (y may equal x); AVX2
/// where the CPU has it, bit-identical to the portable loop.
void hardSigmoid(const float* x, float* y, int64_t n, float alpha, float beta);

/// Forces the portable loops of silu, hardSwish and hardSigmoid (tests compare both on the same
/// machine).
void vectorActivationsForcePortable(bool portable);

} // namespace ew::rt::cpu
