// ai.onnx.ml TreeEnsemble (opset 5): evaluates an ensemble of decision trees on each row of
// X [N, F] and aggregates the reached leaves' weights per target into Y [N, n_targets].
#include "kernel_util.h"

#include <algorithm>
#include <limits>

namespace ew::rt {
namespace cpu {
namespace {

enum class Cmp : uint8_t { Leq = 0, Lt = 1, Gte = 2, Gt = 3, Eq = 4, Neq = 5, Member = 6 };
enum class Aggregate : int64_t { Average = 0, Sum = 1, Min = 2, Max = 3 };
enum class Post : int64_t { None = 0, Softmax = 1, Logistic = 2, SoftmaxZero = 3, Probit = 4 };

/// Inverse error function: Winitzki's closed form refined by Newton steps on std::erf.
double erfInv(double y) {
    if (std::isnan(y) || y < -1 || y > 1) return std::numeric_limits<double>::quiet_NaN();
    if (y == 1) return std::numeric_limits<double>::infinity();
    if (y == -1) return -std::numeric_limits<double>::infinity();
    constexpr double a = 0.147, pi = 3.14159265358979323846;
    const double ln = std::log((1 - y) * (1 + y));
    const double t = 2 / (pi * a) + ln / 2;
    double x = std::copysign(std::sqrt(std::sqrt(t * t - ln / a) - t), y);
    for (int i = 0; i < 4; ++i) {
        const double d = 2 / std::sqrt(pi) * std::exp(-x * x);
        if (d == 0) break;
        x -= (std::erf(x) - y) / d;
    }
    return x;
}

/// The opset-5 encoding: interior nodes are the tuples of the nodes_* attributes; a branch names
/// either another node (its *_leafs flag 0) or a leaf tuple of leaf_targetids/leaf_weights (flag
/// 1); tree_roots lists each tree's root node. init() checks every index, flag and mode, that each
/// BRANCH_MEMBER node has its NaN-terminated set in membership_values (in node order), and that no
/// tree loops back on itself, so run() walks the trees without checks. A tree that is a single leaf
/// is a node whose two branches name the same leaf. Comparisons are exact in double (X and the
/// splits share a type); a NaN feature takes the true branch when nodes_missing_value_tracks_true
/// says so and otherwise whatever its comparison gives (false except for BRANCH_NEQ). AVERAGE
/// divides the per-target sum by the number of trees; MIN and MAX leave a target that no leaf
/// reached at 0 (as ONNX Runtime does).
class TreeEnsembleKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        auto ints = [&](const char* name, bool required, std::vector<int64_t>& out) -> VoidResult {
            const ir::Attribute* a = n.attr(name);
            if (!a) {
                if (required)
                    return ctx.error(StatusCode::InvalidInput,
                                     std::string("attribute ") + name + " is required");
                out.clear();
                return {};
            }
            if (a->type != ir::AttrType::Ints)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string("attribute ") + name + " must be a list of ints");
            out = a->ints;
            return {};
        };
        auto tensor = [&](const char* name, bool required, std::vector<double>& out,
                          DataType& dt) -> VoidResult {
            const ir::Attribute* a = n.attr(name);
            if (!a) {
                if (required)
                    return ctx.error(StatusCode::InvalidInput,
                                     std::string("attribute ") + name + " is required");
                out.clear();
                return {};
            }
            if (a->type != ir::AttrType::Tensor)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string("attribute ") + name + " must be a tensor");
            dt = a->t.dtype;
            if (dt != DataType::Float && dt != DataType::Double && dt != DataType::Float16)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string("attribute ") + name +
                                     " must be a float, double or float16 tensor, not " +
                                     typeName(dt));
            out = a->t.toDouble();
            return {};
        };

        std::vector<int64_t> featureIds, trueIds, falseIds, trueLeafs, falseLeafs, tracksTrue,
            targetIds, roots;
        std::vector<double> splits, weights, members;
        DataType splitType = DataType::Undefined, weightType = DataType::Undefined,
                 memberType = DataType::Undefined;
        VoidResult r;
        if (!(r = ints("nodes_featureids", true, featureIds))) return r;
        if (!(r = ints("nodes_truenodeids", true, trueIds))) return r;
        if (!(r = ints("nodes_falsenodeids", true, falseIds))) return r;
        if (!(r = ints("nodes_trueleafs", true, trueLeafs))) return r;
        if (!(r = ints("nodes_falseleafs", true, falseLeafs))) return r;
        if (!(r = ints("nodes_missing_value_tracks_true", false, tracksTrue))) return r;
        if (!(r = ints("leaf_targetids", true, targetIds))) return r;
        if (!(r = ints("tree_roots", true, roots))) return r;
        if (!(r = tensor("nodes_splits", true, splits, splitType))) return r;
        if (!(r = tensor("leaf_weights", true, weights, weightType))) return r;
        if (!(r = tensor("membership_values", false, members, memberType))) return r;

        const ir::Attribute* modesAttr = n.attr("nodes_modes");
        if (!modesAttr || modesAttr->type != ir::AttrType::Tensor)
            return ctx.error(StatusCode::InvalidInput,
                             "attribute nodes_modes (a uint8 tensor) is required");
        if (!ir::isInteger(modesAttr->t.dtype))
            return ctx.error(StatusCode::InvalidInput,
                             "nodes_modes must be an integer (uint8) tensor, not " +
                                 typeName(modesAttr->t.dtype));
        const std::vector<int64_t> modes = modesAttr->t.toInt64();

        const std::size_t nodes = featureIds.size();
        if (nodes == 0)
            return ctx.error(StatusCode::InvalidInput,
                             "nodes_featureids is empty: the ensemble has no nodes");
        if (nodes > static_cast<std::size_t>(std::numeric_limits<int32_t>::max()))
            return ctx.error(StatusCode::Unsupported, "too many nodes");
        const std::pair<const char*, std::size_t> nodeLists[] = {
            {"nodes_modes", modes.size()},         {"nodes_splits", splits.size()},
            {"nodes_truenodeids", trueIds.size()}, {"nodes_falsenodeids", falseIds.size()},
            {"nodes_trueleafs", trueLeafs.size()}, {"nodes_falseleafs", falseLeafs.size()}};
        for (const auto& [name, size] : nodeLists)
            if (size != nodes)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string(name) + " has " + std::to_string(size) +
                                     " entries but nodes_featureids has " + std::to_string(nodes));
        if (!tracksTrue.empty() && tracksTrue.size() != nodes)
            return ctx.error(StatusCode::InvalidInput, "nodes_missing_value_tracks_true has " +
                                                           std::to_string(tracksTrue.size()) +
                                                           " entries but there are " +
                                                           std::to_string(nodes) + " nodes");
        const std::size_t leaves = targetIds.size();
        if (leaves == 0)
            return ctx.error(StatusCode::InvalidInput,
                             "leaf_targetids is empty: the ensemble has no leaves");
        if (weights.size() != leaves)
            return ctx.error(StatusCode::InvalidInput,
                             "leaf_weights has " + std::to_string(weights.size()) +
                                 " entries but leaf_targetids has " + std::to_string(leaves));
        if (leaves > static_cast<std::size_t>(std::numeric_limits<int32_t>::max()))
            return ctx.error(StatusCode::Unsupported, "too many leaves");
        if (weightType != splitType || (!members.empty() && memberType != splitType))
            return ctx.error(StatusCode::InvalidInput,
                             "nodes_splits (" + typeName(splitType) + "), leaf_weights (" +
                                 typeName(weightType) +
                                 ") and membership_values must have the same element type");
        m_type = splitType;

        const ir::Attribute* nt = n.attr("n_targets");
        if (!nt || nt->type != ir::AttrType::Int)
            return ctx.error(StatusCode::InvalidInput, "attribute n_targets (an int) is required");
        m_targets = nt->i;
        if (m_targets < 1 || m_targets > (int64_t(1) << 24))
            return ctx.error(StatusCode::InvalidInput,
                             "n_targets must be in [1, 2^24], not " + std::to_string(m_targets));
        const int64_t agg = n.attrInt("aggregate_function", 1),
                      post = n.attrInt("post_transform", 0);
        if (agg < 0 || agg > 3)
            return ctx.error(
                StatusCode::InvalidInput,
                "aggregate_function must be 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX), not " +
                    std::to_string(agg));
        if (post < 0 || post > 4)
            return ctx.error(StatusCode::InvalidInput,
                             "post_transform must be 0 (NONE), 1 (SOFTMAX), 2 (LOGISTIC), 3 "
                             "(SOFTMAX_ZERO) or 4 (PROBIT), not " +
                                 std::to_string(post));
        m_aggregate = static_cast<Aggregate>(agg);
        m_post = static_cast<Post>(post);

        m_leafTarget.resize(leaves);
        m_leafWeight = weights;
        for (std::size_t l = 0; l < leaves; ++l) {
            if (targetIds[l] < 0 || targetIds[l] >= m_targets)
                return ctx.error(
                    StatusCode::InvalidInput,
                    "leaf_targetids[" + std::to_string(l) + "] = " + std::to_string(targetIds[l]) +
                        " is outside [0, n_targets = " + std::to_string(m_targets) + ")");
            m_leafTarget[l] = static_cast<int32_t>(targetIds[l]);
        }

        m_nodes.assign(nodes, TreeNode{});
        m_members.clear();
        std::size_t memberPos = 0;
        m_maxFeature = -1;
        for (std::size_t i = 0; i < nodes; ++i) {
            TreeNode& t = m_nodes[i];
            const std::string at = "node " + std::to_string(i) + ": ";
            if (modes[i] < 0 || modes[i] > 6)
                return ctx.error(
                    StatusCode::InvalidInput,
                    at + "nodes_modes value " + std::to_string(modes[i]) +
                        " is not a branch mode (0..6: LEQ, LT, GTE, GT, EQ, NEQ, MEMBER)");
            t.mode = static_cast<Cmp>(modes[i]);
            if (featureIds[i] < 0)
                return ctx.error(StatusCode::InvalidInput, at + "nodes_featureids value " +
                                                               std::to_string(featureIds[i]) +
                                                               " is negative");
            t.feature = featureIds[i];
            m_maxFeature = std::max(m_maxFeature, t.feature);
            t.split = splits[i];
            if (!tracksTrue.empty()) {
                if (tracksTrue[i] != 0 && tracksTrue[i] != 1)
                    return ctx.error(StatusCode::InvalidInput,
                                     at + "nodes_missing_value_tracks_true must be 0 or 1");
                t.nanTrue = tracksTrue[i] == 1;
            }
            for (int side = 0; side < 2; ++side) {
                const char* flagName = side ? "nodes_falseleafs" : "nodes_trueleafs";
                const char* idName = side ? "nodes_falsenodeids" : "nodes_truenodeids";
                const int64_t flag = side ? falseLeafs[i] : trueLeafs[i];
                const int64_t id = side ? falseIds[i] : trueIds[i];
                if (flag != 0 && flag != 1)
                    return ctx.error(StatusCode::InvalidInput, at + flagName + " must be 0 or 1");
                const std::size_t bound = flag ? leaves : nodes;
                if (id < 0 || static_cast<uint64_t>(id) >= bound)
                    return ctx.error(StatusCode::InvalidInput,
                                     at + idName + " value " + std::to_string(id) +
                                         " is outside [0, " + std::to_string(bound) + ") (the " +
                                         (flag ? "leaves" : "nodes") + ")");
                (side ? t.falseChild : t.trueChild) =
                    flag ? -1 - static_cast<int32_t>(id) : static_cast<int32_t>(id);
            }
            if (t.mode == Cmp::Member) {
                t.setBegin = static_cast<int32_t>(m_members.size());
                for (;;) {
                    if (memberPos >= members.size())
                        return ctx.error(
                            StatusCode::InvalidInput,
                            at +
                                "BRANCH_MEMBER needs a NaN-terminated set in membership_values, "
                                "which " +
                                (members.empty() ? std::string("is missing") : "has too few sets"));
                    const double v = members[memberPos++];
                    if (std::isnan(v)) break;
                    m_members.push_back(v);
                }
                t.setEnd = static_cast<int32_t>(m_members.size());
                std::sort(m_members.begin() + t.setBegin, m_members.end());
            }
        }
        if (memberPos != members.size())
            return ctx.error(StatusCode::InvalidInput,
                             "membership_values has values beyond the sets of the BRANCH_MEMBER "
                             "nodes (one NaN-terminated "
                             "set per such node, in node order)");

        m_roots.resize(roots.size());
        if (roots.empty()) return ctx.error(StatusCode::InvalidInput, "tree_roots is empty");
        for (std::size_t k = 0; k < roots.size(); ++k) {
            if (roots[k] < 0 || static_cast<uint64_t>(roots[k]) >= nodes)
                return ctx.error(StatusCode::InvalidInput,
                                 "tree_roots[" + std::to_string(k) +
                                     "] = " + std::to_string(roots[k]) + " is outside [0, " +
                                     std::to_string(nodes) + ") (the nodes)");
            m_roots[k] = static_cast<int32_t>(roots[k]);
        }
        return checkAcyclic(ctx);
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != m_type)
            return ctx.error(StatusCode::InvalidInput,
                             "X is " + typeName(x.dtype()) +
                                 " but nodes_splits and leaf_weights are " + typeName(m_type) +
                                 " (they must match)");
        if (x.rank() != 2)
            return ctx.error(StatusCode::InvalidInput,
                             "X must be [N, F], not " + dimsText(x.dims()));
        if (m_maxFeature >= x.dims()[1])
            return ctx.error(StatusCode::InvalidInput,
                             "nodes_featureids reaches feature " + std::to_string(m_maxFeature) +
                                 " but X has only " + std::to_string(x.dims()[1]) + " features");
        ctx.setOutput(0, m_type, {x.dims()[0], m_targets});
        ctx.setScratchBytes(static_cast<std::size_t>(m_targets) * (sizeof(double) + 1));
        return {};
    }

    void run(RunContext& ctx) override {
        dispatch<float, double, Half>(m_type, [&](auto tag) {
            using T = typename decltype(tag)::type;
            compute<T>(ctx);
        });
    }

  private:
    struct TreeNode {
        double split = 0;
        int64_t feature = 0;
        int32_t trueChild = 0, falseChild = 0; ///< >= 0: a node; < 0: leaf -1 - child
        int32_t setBegin = 0, setEnd = 0;      ///< BRANCH_MEMBER: the set in m_members
        Cmp mode = Cmp::Leq;
        bool nanTrue = false;
    };

    /// Iterative depth-first search from every root: a branch back to a node on the current path
    /// would make run() loop forever.
    VoidResult checkAcyclic(InitContext& ctx) const {
        std::vector<uint8_t> state(m_nodes.size(), 0); // 0 new, 1 on the path, 2 done
        std::vector<std::pair<int32_t, int>> stack;    // node, next side to visit
        for (int32_t root : m_roots) {
            if (state[static_cast<std::size_t>(root)] == 2) continue;
            stack.push_back({root, 0});
            state[static_cast<std::size_t>(root)] = 1;
            while (!stack.empty()) {
                auto& [node, side] = stack.back();
                if (side == 2) {
                    state[static_cast<std::size_t>(node)] = 2;
                    stack.pop_back();
                    continue;
                }
                const TreeNode& t = m_nodes[static_cast<std::size_t>(node)];
                const int32_t next = side++ == 0 ? t.trueChild : t.falseChild;
                if (next < 0) continue;
                const uint8_t s = state[static_cast<std::size_t>(next)];
                if (s == 1)
                    return ctx.error(StatusCode::InvalidInput,
                                     "node " + std::to_string(node) + " branches back to node " +
                                         std::to_string(next) + ", forming a cycle");
                if (s == 0) {
                    state[static_cast<std::size_t>(next)] = 1;
                    stack.push_back({next, 0});
                }
            }
        }
        return {};
    }

    bool takesTrue(const TreeNode& t, double v) const {
        if (t.nanTrue && std::isnan(v)) return true;
        switch (t.mode) {
        case Cmp::Leq:
            return v <= t.split;
        case Cmp::Lt:
            return v < t.split;
        case Cmp::Gte:
            return v >= t.split;
        case Cmp::Gt:
            return v > t.split;
        case Cmp::Eq:
            return v == t.split;
        case Cmp::Neq:
            return v != t.split;
        case Cmp::Member: // NaN compares equivalent to everything under <, but is never a member
            return !std::isnan(v) && std::binary_search(m_members.begin() + t.setBegin,
                                                        m_members.begin() + t.setEnd, v);
        }
        return false;
    }

    template <typename T> void compute(RunContext& ctx) const {
        const Tensor& xt = ctx.input(0);
        const T* x = xt.data<T>();
        T* y = ctx.output(0).data<T>();
        const int64_t rows = xt.dims()[0], features = xt.dims()[1], nt = m_targets;
        double* acc = reinterpret_cast<double*>(ctx.scratch());
        uint8_t* reached = reinterpret_cast<uint8_t*>(acc + nt);
        for (int64_t r = 0; r < rows; ++r) {
            const T* row = x + r * features;
            std::fill(acc, acc + nt, 0.0);
            std::fill(reached, reached + nt, uint8_t(0));
            for (int32_t root : m_roots) {
                int32_t node = root;
                for (;;) {
                    const TreeNode& t = m_nodes[static_cast<std::size_t>(node)];
                    const double v = static_cast<double>(load(row[t.feature]));
                    node = takesTrue(t, v) ? t.trueChild : t.falseChild;
                    if (node < 0) break;
                }
                const std::size_t leaf = static_cast<std::size_t>(-1 - node);
                const int32_t target = m_leafTarget[leaf];
                const double w = m_leafWeight[leaf];
                double& a = acc[target];
                switch (m_aggregate) {
                case Aggregate::Average:
                case Aggregate::Sum:
                    a += w;
                    break;
                case Aggregate::Min:
                    a = reached[target] ? std::min(a, w) : w;
                    break;
                case Aggregate::Max:
                    a = reached[target] ? std::max(a, w) : w;
                    break;
                }
                reached[target] = 1;
            }
            if (m_aggregate == Aggregate::Average)
                for (int64_t k = 0; k < nt; ++k)
                    acc[k] /= static_cast<double>(m_roots.size());
            transform(acc, nt);
            for (int64_t k = 0; k < nt; ++k)
                y[r * nt + k] = store<T>(static_cast<Compute<T>>(acc[k]));
        }
    }

    void transform(double* v, int64_t n) const {
        switch (m_post) {
        case Post::None:
            return;
        case Post::Logistic:
            for (int64_t k = 0; k < n; ++k)
                v[k] = 1.0 / (1.0 + std::exp(-v[k]));
            return;
        case Post::Probit:
            for (int64_t k = 0; k < n; ++k)
                v[k] = std::sqrt(2.0) * erfInv(2 * v[k] - 1);
            return;
        case Post::Softmax:
        case Post::SoftmaxZero: {
            // SOFTMAX_ZERO leaves zero scores at zero and normalizes over the others.
            const bool skipZero = m_post == Post::SoftmaxZero;
            const double m = *std::max_element(v, v + n);
            double sum = 0;
            for (int64_t k = 0; k < n; ++k) {
                v[k] = skipZero && v[k] == 0 ? 0.0 : std::exp(v[k] - m);
                sum += v[k];
            }
            if (sum > 0)
                for (int64_t k = 0; k < n; ++k)
                    v[k] /= sum;
            return;
        }
        }
    }

    DataType m_type = DataType::Float;
    int64_t m_targets = 1, m_maxFeature = -1;
    Aggregate m_aggregate = Aggregate::Sum;
    Post m_post = Post::None;
    std::vector<TreeNode> m_nodes;
    std::vector<int32_t> m_roots;
    std::vector<int32_t> m_leafTarget;
    std::vector<double> m_leafWeight;
    std::vector<double> m_members; ///< the BRANCH_MEMBER sets, each sorted
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeTreeEnsemble() {
    return std::make_unique<cpu::TreeEnsembleKernel>();
}

} // namespace ew::rt
