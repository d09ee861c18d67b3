// TfIdfVectorizer (ai.onnx, opset 9): counts the pool's n-grams in each row of an int32/int64
// sequence, with up to max_skip_count items skipped between an n-gram's elements, and writes the
// counts (TF), their presence times a weight (IDF) or counts times a weight (TFIDF).
#include "kernel_util.h"

#include <algorithm>
#include <map>

namespace ew::rt {
namespace cpu {
namespace {

/// The pool's n-grams of the lengths in [min_gram_length, max_gram_length] as a trie flattened in
/// init(): each node's children are contiguous and sorted by key, so run() walks it with binary
/// searches and no allocation. Counting follows ONNX's reference (and ONNX Runtime): for every
/// skip distance d in 1..max_skip_count+1 and every start position, the items start, start+d,
/// start+2d, ... are matched against the trie; each matched prefix that is a pool n-gram of an
/// admitted length adds one to its output coordinate. Unigrams do not depend on d, so they are
/// counted on the d = 1 pass only. Weights are read by output coordinate, as both of those
/// implementations do (the spec's "weight of the i-th n-gram" is the same thing whenever
/// ngram_indexes is the identity, its usual form).
class TfIdfVectorizerKernel final : public Kernel {
  public:
    VoidResult init(InitContext& ctx) override {
        const ir::Node& n = ctx.node();
        const std::string mode = n.attrString("mode", "");
        if (mode == "TF")
            m_mode = Mode::Tf;
        else if (mode == "IDF")
            m_mode = Mode::Idf;
        else if (mode == "TFIDF")
            m_mode = Mode::TfIdf;
        else
            return ctx.error(StatusCode::InvalidInput,
                             "mode must be \"TF\", \"IDF\" or \"TFIDF\", not \"" + mode + "\"");

        for (const char* req : {"min_gram_length", "max_gram_length", "max_skip_count"})
            if (const ir::Attribute* a = n.attr(req); !a || a->type != ir::AttrType::Int)
                return ctx.error(StatusCode::InvalidInput,
                                 std::string(req) + " is missing (an int is required)");
        m_minGram = n.attrInt("min_gram_length", 0);
        m_maxGram = n.attrInt("max_gram_length", 0);
        m_maxSkip = n.attrInt("max_skip_count", 0);
        if (m_minGram < 1 || m_maxGram < m_minGram)
            return ctx.error(StatusCode::InvalidInput,
                             "gram lengths must satisfy 1 <= min_gram_length (" +
                                 std::to_string(m_minGram) + ") <= max_gram_length (" +
                                 std::to_string(m_maxGram) + ")");
        if (m_maxSkip < 0)
            return ctx.error(StatusCode::InvalidInput,
                             "max_skip_count must be >= 0, not " + std::to_string(m_maxSkip));

        if (const ir::Attribute* a = n.attr("pool_strings"); a && !a->strings.empty())
            return ctx.error(StatusCode::Unsupported,
                             "pool_strings (string input) is not supported; use pool_int64s");
        const std::vector<int64_t> pool = n.attrInts("pool_int64s");
        const std::vector<int64_t> counts = n.attrInts("ngram_counts");
        m_indexes = n.attrInts("ngram_indexes");
        if (m_indexes.empty())
            return ctx.error(StatusCode::InvalidInput, "ngram_indexes is missing or empty");
        int64_t maxIndex = -1;
        for (std::size_t i = 0; i < m_indexes.size(); ++i) {
            if (m_indexes[i] < 0 || m_indexes[i] > (int64_t(1) << 31))
                return ctx.error(StatusCode::InvalidInput,
                                 "ngram_indexes[" + std::to_string(i) +
                                     "] = " + std::to_string(m_indexes[i]) + " is out of range");
            maxIndex = std::max(maxIndex, m_indexes[i]);
        }
        m_outSize = maxIndex + 1;

        // Levels: ngram_counts[k] is where the (k+1)-grams start in the pool.
        const int64_t poolSize = static_cast<int64_t>(pool.size());
        int64_t ngramId = 0;
        std::map<std::pair<int32_t, int64_t>, int32_t>
            edges;                       // (parent, key) -> child, while building
        std::vector<int64_t> nodeId{-1}; // trie node -> n-gram id or -1; node 0 is the root
        for (std::size_t k = 0; k < counts.size(); ++k) {
            const int64_t len = static_cast<int64_t>(k) + 1;
            const int64_t begin = counts[k], end = k + 1 < counts.size() ? counts[k + 1] : poolSize;
            if (begin < 0 || begin > end || end > poolSize)
                return ctx.error(StatusCode::InvalidInput,
                                 "ngram_counts must be non-decreasing offsets into pool_int64s (" +
                                     std::to_string(poolSize) + " items); level " +
                                     std::to_string(len) + " spans [" + std::to_string(begin) +
                                     ", " + std::to_string(end) + ")");
            if ((end - begin) % len != 0)
                return ctx.error(StatusCode::InvalidInput,
                                 "the " + std::to_string(len) + "-grams in pool_int64s hold " +
                                     std::to_string(end - begin) + " items, not a multiple of " +
                                     std::to_string(len));
            const int64_t ngrams = (end - begin) / len;
            if (len < m_minGram || len > m_maxGram) {
                ngramId += ngrams;
                continue;
            }
            for (int64_t g = 0; g < ngrams; ++g, ++ngramId) {
                int32_t node = 0;
                for (int64_t j = 0; j < len; ++j) {
                    const int64_t key = pool[static_cast<std::size_t>(begin + g * len + j)];
                    auto [it, added] =
                        edges.try_emplace({node, key}, static_cast<int32_t>(nodeId.size()));
                    if (added) nodeId.push_back(-1);
                    node = it->second;
                }
                nodeId[static_cast<std::size_t>(node)] =
                    ngramId; // a repeated n-gram keeps its last id
            }
        }
        if (ngramId > static_cast<int64_t>(m_indexes.size()))
            return ctx.error(StatusCode::InvalidInput, "the pool holds " + std::to_string(ngramId) +
                                                           " n-grams but ngram_indexes has only " +
                                                           std::to_string(m_indexes.size()) +
                                                           " entries");

        m_weights = n.attrFloats("weights");
        if (!m_weights.empty() && static_cast<int64_t>(m_weights.size()) < m_outSize)
            return ctx.error(StatusCode::InvalidInput,
                             "weights has " + std::to_string(m_weights.size()) +
                                 " entries but the output has " + std::to_string(m_outSize) +
                                 " coordinates");

        // Flatten: number nodes breadth-first so each node's children are contiguous and sorted
        // (std::map iterates (parent, key) in order, and parents are numbered before children).
        const std::size_t count = nodeId.size();
        std::vector<std::vector<std::pair<int64_t, int32_t>>> children(count);
        for (const auto& [pk, child] : edges)
            children[static_cast<std::size_t>(pk.first)].push_back({pk.second, child});
        m_nodes.assign(count, TrieNode{});
        m_keys.assign(count, 0);
        std::vector<int32_t> order{0};
        for (std::size_t q = 0; q < order.size(); ++q) {
            const int32_t old = order[q];
            TrieNode& t = m_nodes[q];
            t.id = nodeId[static_cast<std::size_t>(old)];
            t.firstChild = static_cast<int32_t>(order.size());
            t.numChildren = static_cast<int32_t>(children[static_cast<std::size_t>(old)].size());
            for (const auto& [key, child] : children[static_cast<std::size_t>(old)]) {
                m_keys[order.size()] = key;
                order.push_back(child);
            }
        }
        return {};
    }

    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() != DataType::Int32 && x.dtype() != DataType::Int64)
            return ctx.error(StatusCode::Unsupported,
                             "X must be int32 or int64 (string input is not supported), not " +
                                 typeName(x.dtype()));
        if (x.rank() == 1) {
            m_rows = 1;
            m_cols = x.dims()[0];
            ctx.setOutput(0, DataType::Float, {m_outSize});
        } else if (x.rank() == 2) {
            m_rows = x.dims()[0];
            m_cols = x.dims()[1];
            ctx.setOutput(0, DataType::Float, {m_rows, m_outSize});
        } else {
            return ctx.error(StatusCode::InvalidInput,
                             "X must be [C] or [N, C], not " + dimsText(x.dims()));
        }
        ctx.setScratchBytes(static_cast<std::size_t>(m_outSize) * sizeof(int64_t));
        return {};
    }

    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        if (x.dtype() == DataType::Int32)
            compute(x.data<int32_t>(), ctx);
        else
            compute(x.data<int64_t>(), ctx);
    }

  private:
    enum class Mode { Tf, Idf, TfIdf };
    struct TrieNode {
        int64_t id = -1; ///< n-gram id (index into ngram_indexes), -1 for a prefix only
        int32_t firstChild = 0, numChildren = 0;
    };

    /// The child of `node` whose key is `key`, or -1.
    int32_t child(int32_t node, int64_t key) const {
        const TrieNode& t = m_nodes[static_cast<std::size_t>(node)];
        const int64_t* b = m_keys.data() + t.firstChild;
        const int64_t* e = b + t.numChildren;
        const int64_t* it = std::lower_bound(b, e, key);
        return it != e && *it == key ? static_cast<int32_t>(it - m_keys.data()) : -1;
    }

    template <typename T> void compute(const T* x, RunContext& ctx) const {
        int64_t* counts = reinterpret_cast<int64_t*>(ctx.scratch());
        float* y = ctx.output(0).data<float>();
        const int64_t cols = m_cols;
        // A distance of cols or more leaves no room for a second item.
        const int64_t maxDistance = std::min<int64_t>(m_maxSkip, std::max<int64_t>(cols - 1, 0)) + 1;
        for (int64_t r = 0; r < m_rows; ++r) {
            std::fill(counts, counts + m_outSize, int64_t(0));
            const T* row = x + r * cols;
            int64_t startLen = m_minGram;
            for (int64_t d = 1; d <= maxDistance && m_nodes[0].numChildren > 0; ++d) {
                for (int64_t start = 0; start < cols; ++start) {
                    if (startLen - 1 > (cols - 1 - start) / d)
                        break; // start + d*(startLen-1) >= cols
                    int32_t node = 0;
                    for (int64_t len = 1, item = start; len <= m_maxGram && item < cols;
                         ++len, item += d) {
                        node = child(node, static_cast<int64_t>(row[item]));
                        if (node < 0) break;
                        const int64_t id = m_nodes[static_cast<std::size_t>(node)].id;
                        if (len >= startLen && id >= 0)
                            ++counts[m_indexes[static_cast<std::size_t>(id)]];
                        if (m_nodes[static_cast<std::size_t>(node)].numChildren == 0) break;
                    }
                }
                if (startLen == 1) {
                    startLen = 2;
                    if (startLen > m_maxGram) break;
                }
            }
            float* out = y + r * m_outSize;
            const bool weighted = !m_weights.empty();
            for (int64_t j = 0; j < m_outSize; ++j) {
                const double c = static_cast<double>(counts[j]);
                const double w = weighted ? m_weights[static_cast<std::size_t>(j)] : 1.0;
                switch (m_mode) {
                case Mode::Tf:
                    out[j] = static_cast<float>(c);
                    break;
                case Mode::Idf:
                    out[j] = counts[j] > 0 ? static_cast<float>(w) : 0.f;
                    break;
                case Mode::TfIdf:
                    out[j] = static_cast<float>(c * w);
                    break;
                }
            }
        }
    }

    Mode m_mode = Mode::Tf;
    int64_t m_minGram = 1, m_maxGram = 1, m_maxSkip = 0, m_outSize = 0;
    std::vector<int64_t> m_indexes;
    std::vector<float> m_weights;
    std::vector<TrieNode> m_nodes; ///< breadth-first; node 0 is the root
    std::vector<int64_t> m_keys;   ///< m_keys[i]: the item leading to node i
    int64_t m_rows = 0, m_cols = 0;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeTfIdfVectorizer() {
    return std::make_unique<cpu::TfIdfVectorizerKernel>();
}

} // namespace ew::rt
