#pragma once
#include "common/status.h"
#include "ir/graph.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ew::opt {

/// Portable passes produce standard ONNX that ONNX Runtime and onnx::checker accept (the default
/// for `optimize` and Save). Runtime passes rewrite into Edgewise's own fused ops (domain
/// ai.edgewise) that only our runtime and agent execute.
enum class PassKind { Portable, Runtime };

/// One thing a pass did to one node, keyed by node name so the GUI can map it onto the graph the
/// user was looking at before the pass ran.
struct NodeChange {
    enum class Kind { Removed, Fused, Added, Rewritten };
    Kind kind = Kind::Removed;
    std::string node; ///< the node's name (as it was when the change happened)
    std::string op;   ///< its op type
    std::string into; ///< Fused: the node that absorbed it
};
std::string_view nodeChangeKindName(NodeChange::Kind k); ///< "removed", "fused", "added", "rewritten"

/// What a pass run receives and where it reports what it changed.
/// A pass records every node it removes, fuses away, adds or rewrites in place; "changed" is
/// exactly "recorded something". A pass that finds nothing returns success with no records.
class PassContext {
public:
    explicit PassContext(const ir::Model& model) : m_model(&model) {}

    const ir::Model& model() const { return *m_model; }
    /// Opset imported for a domain ("" = ai.onnx); 0 when the model does not import it.
    int64_t opset(std::string_view domain = {}) const { return m_model->opsetFor(domain); }

    /// Constant folding never creates a constant larger than this (bytes), so folding cannot
    /// make the file explode (e.g. Expand/Tile/ConstantOfShape of big shapes).
    std::size_t foldByteLimit = std::size_t(1) << 20;
    /// Allowed to use transformations that are exact but reorder floating-point arithmetic
    /// more aggressively (the `aggressive` pipeline).
    bool aggressive = false;

    void removed(const ir::Node& n) { record(NodeChange::Kind::Removed, n, {}); }
    /// `absorbed` was merged into `into` (both names recorded; call before erasing `absorbed`).
    void fused(const ir::Node& absorbed, const ir::Node& into) {
        record(NodeChange::Kind::Fused, absorbed, into.name);
    }
    void added(const ir::Node& n) { record(NodeChange::Kind::Added, n, {}); }
    void rewritten(const ir::Node& n) { record(NodeChange::Kind::Rewritten, n, {}); }
    /// For changes that touch no node (an initializer dropped, a graph input simplified).
    void changedOther() { ++m_other; }

    const std::vector<NodeChange>& changes() const { return m_changes; }
    bool changed() const { return !m_changes.empty() || m_other > 0; }
    /// Drops the records (the pass manager reuses one context per pass run).
    void clearChanges() {
        m_changes.clear();
        m_other = 0;
    }

private:
    void record(NodeChange::Kind k, const ir::Node& n, std::string into) {
        m_changes.push_back({k, n.name, n.opType, std::move(into)});
    }
    const ir::Model* m_model;
    std::vector<NodeChange> m_changes;
    int m_other = 0;
};

/// A pass rewrites one graph (the manager calls it for the main graph and for every nested
/// If/Loop/Scan body). It may assume a verified graph and must leave one behind.
using PassFn = VoidResult (*)(ir::Graph& graph, PassContext& ctx);

struct PassInfo {
    std::string_view name;        ///< kebab-case, the same in the CLI and the GUI
    std::string_view description; ///< one line
    PassKind kind = PassKind::Portable;
    PassFn run = nullptr;
};

/// Every pass, in passes.def order.
std::span<const PassInfo> allPasses();
const PassInfo* findPass(std::string_view name);

} // namespace ew::opt
