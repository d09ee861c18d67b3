#pragma once
// Shared by the control-flow kernels (If, Loop, Scan): a compiled subgraph with its input feed,
// and the check that refuses sequence/optional-typed values at session creation.
#include "runtime/kernel.h"
#include "runtime/session.h"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ew::rt::cpu {

/// One subgraph of a control-flow node (an If branch, a Loop/Scan body), compiled once at init as
/// a sub-session sharing the parent's pool and options. Formal inputs are fed by position, values
/// of enclosing graphs from the node's implicit inputs (the session appends them after the node's
/// own inputs, in outerScopeReads order). Feeding borrows bytes: nothing is copied in.
class SubgraphRunner {
  public:
    VoidResult init(InitContext& ctx, const ir::Graph& graph, std::string attr, int minPlanCache);
    const ir::Graph& graph() const { return *m_graph; }
    std::size_t numFormal() const { return m_formal.size(); }
    std::size_t numOutputs() const { return m_graph->outputs.size(); }
    /// Declared dtype and shape of formal input p / output i (Undefined / nullopt when unknown).
    const ir::Type& formalType(std::size_t p) const { return m_graph->inputs[p]->type; }
    const ir::Type& outputType(std::size_t i) const { return m_graph->outputs[i]->type; }
    /// Feeds formal input p (graph.inputs order) with `data` under dtype/dims.
    void bindFormal(std::size_t p, DataType dtype, std::span<const int64_t> dims,
                    const std::byte* data);
    void bindFormal(std::size_t p, const Tensor& t) { bindFormal(p, t.dtype(), t.dims(), t.raw()); }
    /// Feeds every enclosing-scope value from ctx's implicit inputs.
    void bindOuter(const PrepareContext& ctx);
    /// Runs the subgraph; its outputs land in `outs` (owned buffers reused). Errors name the node.
    VoidResult run(const PrepareContext& ctx, std::vector<Tensor>& outs);
    Session& session() { return *m_session; }

  private:
    std::string m_attr;
    const ir::Graph* m_graph = nullptr;
    std::unique_ptr<Session> m_session;
    Session::NamedTensors m_feed;
    std::vector<int>
        m_formal; ///< feed index per formal input; -1 when it has a default initializer
    struct Outer {
        int feed;
        std::size_t input; ///< the node's input slot holding the value
    };
    std::vector<Outer> m_outer;
};

/// Unsupported (naming the node) when the node or one of its subgraphs has a sequence, optional
/// or map typed input or output: the runtime runs tensors only.
VoidResult checkTensorValues(const InitContext& ctx);

/// The subgraph held by graph attribute `name`, or an error naming the node.
Result<const ir::Graph*> subgraphAttr(const InitContext& ctx, std::string_view name);

/// Copies `rows` blocks of `rowBytes` each with the given byte strides (scan slicing, stacking).
void copyRows(std::byte* dst, std::ptrdiff_t dstStride, const std::byte* src,
              std::ptrdiff_t srcStride, int64_t rows, std::size_t rowBytes);

} // namespace ew::rt::cpu
