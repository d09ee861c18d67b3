#pragma once
#include "common/status.h"
#include "ir/graph.h"
#include "tensor.h"
#include "thread_pool.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace ew::rt {

/// What init() sees: the node, the opset it runs under, and the inputs that are constant for the
/// session's lifetime (initializers and constant-folded values).
class InitContext {
public:
    InitContext(const ir::Node& node, int64_t opset, std::span<const Tensor* const> constants, int threads)
        : m_node(node), m_opset(opset), m_constants(constants), m_threads(threads) {}
    const ir::Node& node() const { return m_node; }
    int64_t opset() const { return m_opset; }
    std::size_t numInputs() const { return m_node.inputs().size(); }
    bool hasInput(std::size_t i) const { return m_node.input(i) != nullptr; }
    std::size_t numOutputs() const { return m_node.outputs().size(); }
    bool hasOutput(std::size_t i) const { return m_node.output(i) != nullptr; }
    /// Non-null when input i is present and constant.
    const Tensor* constantInput(std::size_t i) const {
        return i < m_constants.size() ? m_constants[i] : nullptr;
    }
    int threads() const { return m_threads; }
    /// An error naming this node.
    std::unexpected<Status> error(StatusCode code, const std::string& msg) const {
        return fail(code, m_node.qualifiedOp() + ": " + msg, m_node.displayName());
    }

private:
    const ir::Node& m_node;
    int64_t m_opset;
    std::span<const Tensor* const> m_constants;
    int m_threads;
};

/// What prepare() sees. Inputs carry dtype, dims and their data (the session prepares a node
/// right before running it, so even data-dependent shapes can be read); prepare sets each present
/// output's dtype and dims and the scratch bytes run() needs.
class PrepareContext {
public:
    PrepareContext(const ir::Node& node, int64_t opset, std::span<const Tensor* const> inputs,
                   std::span<Tensor* const> outputs, int threads)
        : m_node(node), m_opset(opset), m_inputs(inputs), m_outputs(outputs), m_threads(threads) {}
    const ir::Node& node() const { return m_node; }
    int64_t opset() const { return m_opset; }
    std::size_t numInputs() const { return m_inputs.size(); }
    bool hasInput(std::size_t i) const { return i < m_inputs.size() && m_inputs[i] != nullptr; }
    const Tensor& input(std::size_t i) const { return *m_inputs[i]; }
    std::size_t numOutputs() const { return m_outputs.size(); }
    bool hasOutput(std::size_t i) const { return i < m_outputs.size() && m_outputs[i] != nullptr; }
    /// Declares output i (ignored when the node does not use that output).
    void setOutput(std::size_t i, DataType dtype, std::span<const int64_t> dims) {
        if (hasOutput(i)) m_outputs[i]->rebind(dtype, dims, nullptr);
    }
    void setOutput(std::size_t i, DataType dtype, std::initializer_list<int64_t> dims) {
        setOutput(i, dtype, std::span<const int64_t>(dims.begin(), dims.size()));
    }
    void setScratchBytes(std::size_t n) { m_scratch = n; }
    std::size_t scratchBytes() const { return m_scratch; }
    int threads() const { return m_threads; }
    std::unexpected<Status> error(StatusCode code, const std::string& msg) const {
        return fail(code, m_node.qualifiedOp() + ": " + msg, m_node.displayName());
    }

private:
    const ir::Node& m_node;
    int64_t m_opset;
    std::span<const Tensor* const> m_inputs;
    std::span<Tensor* const> m_outputs;
    std::size_t m_scratch = 0;
    int m_threads;
};

/// What run() sees: the same tensors with their buffers bound, scratch and the pool.
/// Omitted optional inputs/outputs are nullptr.
class RunContext {
public:
    RunContext(std::span<const Tensor* const> inputs, std::span<Tensor* const> outputs, std::byte* scratch,
               ThreadPool& pool)
        : m_inputs(inputs), m_outputs(outputs), m_scratch(scratch), m_pool(pool) {}
    bool hasInput(std::size_t i) const { return i < m_inputs.size() && m_inputs[i] != nullptr; }
    const Tensor& input(std::size_t i) const { return *m_inputs[i]; }
    bool hasOutput(std::size_t i) const { return i < m_outputs.size() && m_outputs[i] != nullptr; }
    Tensor& output(std::size_t i) const { return *m_outputs[i]; }
    std::byte* scratch() const { return m_scratch; }
    ThreadPool& pool() const { return m_pool; }

private:
    std::span<const Tensor* const> m_inputs;
    std::span<Tensor* const> m_outputs;
    std::byte* m_scratch;
    ThreadPool& m_pool;
};

/// One node's CPU implementation. Lifecycle:
///  - init() once at session creation: read attributes, check constant inputs, pack weights.
///  - prepare() whenever input shapes change, and before every run when dataDependentShapes():
///    checks, output dtypes/dims, scratch size. May fail (the error names the node). Must derive
///    outputs only from input dtypes/dims and constant inputs unless dataDependentShapes().
///  - run(): computes outputs; never allocates, never fails. Inputs and outputs are dense
///    row-major; only the session's own buffers are 64-B aligned (graph inputs are the caller's).
/// Kernels may keep state computed in prepare() for run(): the session always prepares again
/// before running with shapes other than the last prepared ones.
class Kernel {
public:
    virtual ~Kernel() = default;
    virtual VoidResult init(InitContext& ctx) { return {}; }
    virtual VoidResult prepare(PrepareContext& ctx) = 0;
    virtual void run(RunContext& ctx) = 0;
    /// Input slot whose buffer output 0 may reuse (the planner decides whether it is legal:
    /// same byte size, last use, not a graph input or constant). The kernel must then be correct
    /// when that input and output 0 share memory; -1 for none.
    virtual int inPlaceInput() const { return -1; }
    /// True when output shapes depend on input values that are not constant (Reshape with a
    /// computed shape, NonZero): the session calls prepare() before every run of this node.
    virtual bool dataDependentShapes() const { return false; }
};

using KernelFactory = std::unique_ptr<Kernel> (*)();

} // namespace ew::rt
