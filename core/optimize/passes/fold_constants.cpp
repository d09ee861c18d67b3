// fold-constants
//   before:  init %a : int64[2] = [2,3]         %c = Constant() {value=[4]}
//            %s = Concat(%a, %c) {axis=0}
//            %y = Reshape(%x, %s)
//   after:   init %c : int64[1] = [4]
//            init %s : int64[3] = [2,3,4]
//            %y = Reshape(%x, %s)
// Constant nodes become initializers of the same name. Any other node whose inputs are all
// constant (initializers that are not graph inputs, Constant outputs, outer-scope constants) is
// evaluated once with the runtime's own CPU kernel, so the folded value is bit-identical to what
// the session would compute, and its outputs become initializers under their own names (a graph
// output stays a graph output, now held by an initializer). Nodes are visited in topological
// order, so a whole constant chain folds in one run.
// Inside a nested If/Loop/Scan body (the manager runs the pass on each), operands may be
// constants of the body or of any enclosing graph; the result becomes an initializer of the body
// where the node lives, and values of other graphs are never renamed or erased (an outer
// initializer nothing reads any more goes with eliminate-unused-initializers).
// Refused: nondeterministic ops (Random*, Bernoulli, Multinomial, Dropout), DequantizeLinear (a
// QDQ model's quantized weights stay quantized), nodes with subgraphs, body inputs (Loop's
// iteration number and carried values are not constant), ops with no CPU kernel for the model's
// opset, outputs of nested bodies, outputs whose inferred shape or type is not static, anything
// larger than ctx.foldByteLimit, and outputs over 4 KiB that would grow the file: more bytes than
// the initializers that die with the node, or, for a weight several foldable nodes slice (an
// exporter's LSTM gate reorder: Slice, Slice, Slice, Concat), more than that group of readers
// frees once all of them fold; the aggressive pipeline allows 4x the inputs. So
// Expand/Tile/ConstantOfShape of big shapes and slices of weights that other nodes still read
// stay. Sizes are checked from the inferred types before anything runs, and the result must
// match them.
#include "../graph_util.h"

#include "runtime/kernel_registry.h"
#include "runtime/session.h"

#include <algorithm>
#include <array>
#include <memory>

namespace ew::opt {

namespace {

// Outputs up to this size fold whatever the inputs were (shape arithmetic, small tables).
constexpr std::size_t kAlwaysFoldBytes = 4096;
// Above that, in the aggressive pipeline, an output may be at most this many times the inputs'
// bytes (the default pipeline allows no growth).
constexpr std::size_t kMaxGrowth = 4;

bool nondeterministic(const ir::Node& n) {
    static constexpr std::array<std::string_view, 7> kOps = {
        "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
        "Bernoulli",    "Multinomial",      "Dropout"};
    for (std::string_view op : kOps)
        if (n.opType == op) return true;
    return false;
}

/// DequantizeLinear of a constant is how a QDQ model stores its quantized weights: folding it
/// would turn the int8 weights back into float (4x the bytes) and lose the quantization that
/// runtimes (ours, ONNX Runtime, the TFLite exporter) read from the pattern.
bool keepsQuantization(const ir::Node& n) { return n.opType == "DequantizeLinear"; }

/// The data of a constant operand; graph inputs with a default initializer can be overridden by
/// the caller, so they are not constant.
const ir::Tensor* constantInput(const ir::Value* v) {
    if (!v || v->isGraphInput()) return nullptr;
    return constantOf(v);
}

/// Bytes of a statically known tensor type the runtime can hold; nullopt otherwise.
std::optional<std::size_t> staticBytes(const ir::Value* v) {
    if (!v || !v->type.isTensor() || !v->type.shape) return std::nullopt;
    const std::size_t es = rt::elementSize(v->type.elemType);
    if (es == 0) return std::nullopt;
    const std::optional<int64_t> n = v->type.shape->numElements();
    if (!n || *n < 0) return std::nullopt;
    if (static_cast<uint64_t>(*n) > (uint64_t(1) << 40) / es) return std::nullopt;
    return static_cast<std::size_t>(*n) * es;
}

/// The tensor a Constant node holds, from whichever value_* attribute it uses.
std::optional<ir::Tensor> constantNodeValue(const ir::Node& n) {
    if (n.attributes.size() != 1) return std::nullopt;
    const ir::Attribute& a = n.attributes[0];
    if (!a.refAttrName.empty()) return std::nullopt;
    if (a.name == "value" && a.type == ir::AttrType::Tensor) return a.t;
    if (a.name == "value_float" && a.type == ir::AttrType::Float) return floatTensor({}, {a.f});
    if (a.name == "value_floats" && a.type == ir::AttrType::Floats)
        return floatTensor({static_cast<int64_t>(a.floats.size())}, a.floats);
    if (a.name == "value_int" && a.type == ir::AttrType::Int) return int64Tensor({}, {a.i});
    if (a.name == "value_ints" && a.type == ir::AttrType::Ints)
        return int64Tensor({static_cast<int64_t>(a.ints.size())}, a.ints);
    if ((a.name == "value_string" && a.type == ir::AttrType::String) ||
        (a.name == "value_strings" && a.type == ir::AttrType::Strings)) {
        ir::Tensor t;
        t.dtype = ir::DataType::String;
        if (a.type == ir::AttrType::String) {
            t.strings = {a.s};
        } else {
            t.strings = a.strings;
            t.dims = {static_cast<int64_t>(a.strings.size())};
        }
        return t;
    }
    return std::nullopt; // sparse_value: left to the importer's representation
}

/// Runs `n` alone on the CPU runtime with `inputs` as initializers; nullopt when the runtime
/// refuses it or the result differs from the inferred output types.
std::optional<std::vector<ir::Tensor>> evaluate(const ir::Node& n,
                                                const std::vector<const ir::Tensor*>& inputs,
                                                const PassContext& ctx,
                                                const std::shared_ptr<rt::ThreadPool>& pool) {
    ir::Graph mini;
    std::vector<ir::Value*> ins, outs;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (!inputs[k]) {
            ins.push_back(nullptr);
            continue;
        }
        ir::Tensor t = *inputs[k];
        t.name = "in" + std::to_string(k);
        auto v = mini.addValue(t.name, ir::Type::tensor(t.dtype, ir::Shape::of(t.dims)));
        if (!v) return std::nullopt;
        (*v)->initializer = std::move(t);
        mini.initializers.push_back(*v);
        ins.push_back(*v);
    }
    for (std::size_t k = 0; k < n.outputs().size(); ++k) {
        if (!n.output(k)) {
            outs.push_back(nullptr);
            continue;
        }
        auto v = mini.addValue("out" + std::to_string(k), n.output(k)->type);
        if (!v) return std::nullopt;
        outs.push_back(*v);
        mini.outputs.push_back(*v);
    }
    ir::Node* copy = mini.addNode(n.opType, n.domain, n.name, ins, outs);
    for (const ir::Attribute& a : n.attributes)
        copy->attributes.push_back(a.clone(&mini, copy));

    rt::SessionOptions o;
    o.pool = pool;
    o.fuse = false;
    o.foldConstants = false;
    o.inPlace = false;
    auto session = rt::Session::createForGraph(mini, ctx.model().opsetImports, o);
    if (!session) return std::nullopt;
    auto results = (*session)->run({});
    if (!results || results->size() != mini.outputs.size()) return std::nullopt;

    std::vector<ir::Tensor> out(n.outputs().size());
    std::size_t r = 0;
    for (std::size_t k = 0; k < n.outputs().size(); ++k) {
        const ir::Value* v = n.output(k);
        if (!v) continue;
        const rt::Tensor& t = (*results)[r++];
        if (t.dtype() != v->type.elemType || t.dims() != *v->type.shape->sizes())
            return std::nullopt;
        out[k] = t.toIr(v->name);
    }
    return out;
}

/// Output bytes of `n` when it can fold as far as its own inputs and outputs go (every input
/// constant, a deterministic op with a CPU kernel, static output types within the fold limit,
/// not a nested body's output); nullopt otherwise. Growth of the file is judged by the caller.
std::optional<std::size_t> foldableBytes(const ir::Node& n, const ir::Graph& graph, const PassContext& ctx) {
    if (n.graph() != &graph || n.inputs().empty() || isOp(n, "Constant") || nondeterministic(n) ||
        !n.subgraphs().empty() || keepsQuantization(n))
        return std::nullopt;
    const std::string_view domain = ir::canonicalDomain(n.domain);
    if (!rt::findCpuKernel(domain, n.opType, ctx.opset(domain))) return std::nullopt;
    bool anyInput = false;
    for (const ir::Value* v : n.inputs()) {
        if (!v) continue;
        if (!constantInput(v)) return std::nullopt;
        anyInput = true;
    }
    std::size_t outBytes = 0;
    bool anyOutput = false;
    for (const ir::Value* v : n.outputs()) {
        if (!v) continue;
        // A nested body's outputs stay node outputs: Loop/Scan bodies are run per iteration by
        // the control-flow kernels, which expect to find them produced there.
        if (graph.parent() && v->isGraphOutput()) return std::nullopt;
        const std::optional<std::size_t> b = staticBytes(v);
        if (!b || v->quant) return std::nullopt;
        anyOutput = true;
        outBytes += *b;
    }
    if (!anyInput || !anyOutput || outBytes > ctx.foldByteLimit) return std::nullopt;
    return outBytes;
}

/// Whether `n` and the other foldable readers of the initializers it shares (transitively: the
/// slices of one weight that a gate reorder concatenates again) free at least the bytes they
/// create once all of them fold: the file then does not grow although no one of them alone frees
/// anything. Only readers in this graph count; a group beyond kMaxGroup nodes is refused.
bool groupFreesItsBytes(const ir::Node& n, const ir::Graph& graph, const PassContext& ctx) {
    constexpr std::size_t kMaxGroup = 64;
    std::vector<const ir::Node*> group{&n};
    std::vector<const ir::Value*> shared;
    std::size_t outBytes = 0;
    for (std::size_t k = 0; k < group.size(); ++k) {
        const std::optional<std::size_t> b = foldableBytes(*group[k], graph, ctx);
        if (!b) return false;
        outBytes += *b;
        for (const ir::Value* v : group[k]->inputs()) {
            if (!v || !v->isInitializer() || std::find(shared.begin(), shared.end(), v) != shared.end()) continue;
            shared.push_back(v);
            for (const ir::Use& u : v->uses()) {
                if (std::find(group.begin(), group.end(), u.node) != group.end()) continue;
                if (u.node->graph() != &graph || !foldableBytes(*u.node, graph, ctx)) continue;
                if (group.size() == kMaxGroup) return false;
                group.push_back(u.node);
            }
        }
    }
    std::size_t freed = 0;
    for (const ir::Value* v : shared) {
        if (v->isGraphOutput() || v->isGraphInput()) continue;
        bool allInGroup = true;
        for (const ir::Use& u : v->uses())
            allInGroup &= std::find(group.begin(), group.end(), u.node) != group.end();
        if (allInGroup) freed += v->initializer->byteSize();
    }
    return outBytes <= freed;
}

} // namespace

VoidResult foldConstants(ir::Graph& graph, PassContext& ctx) {
    EW_TRY_ASSIGN(std::vector<ir::Node*> order, graph.topologicalOrder());
    const bool nested = graph.parent() != nullptr;
    std::shared_ptr<rt::ThreadPool> pool; // made on first use: most graphs fold nothing

    for (ir::Node* n : order) {
        // A nested body's outputs stay node outputs: Loop/Scan bodies are run per iteration by
        // the control-flow kernels, which expect to find them produced there.
        bool bodyOutput = false;
        for (const ir::Value* v : n->outputs())
            bodyOutput |= v && nested && v->isGraphOutput();
        if (bodyOutput) continue;

        if (isOp(*n, "Constant")) {
            std::optional<ir::Tensor> t = constantNodeValue(*n);
            if (!t || !n->output(0) || n->outputs().size() != 1) continue;
            ctx.removed(*n);
            std::vector<ir::Tensor> values;
            values.push_back(std::move(*t));
            replaceNodeWithConstants(graph, n, std::move(values));
            continue;
        }

        const std::optional<std::size_t> outBytes = foldableBytes(*n, graph, ctx);
        if (!outBytes) continue;
        std::vector<const ir::Tensor*> inputs;
        std::size_t inBytes = 0, freedBytes = 0;
        for (std::size_t k = 0; k < n->inputs().size(); ++k) {
            const ir::Value* v = n->input(k);
            const ir::Tensor* t = v ? constantInput(v) : nullptr;
            inputs.push_back(t);
            if (!t) continue;
            inBytes += t->byteSize();
            // Data that goes with the node: an initializer only it reads (counted once).
            const bool seen = std::find(n->inputs().begin(), n->inputs().begin() + std::ptrdiff_t(k), v) !=
                              n->inputs().begin() + std::ptrdiff_t(k);
            if (v->isInitializer() && onlyUsedBy(v, n) && !seen) freedBytes += t->byteSize();
        }
        // The file must not grow: beyond small results, a fold may add at most what it frees,
        // alone or together with the other readers of the weights it slices (slices of a weight
        // that other nodes still read would duplicate it; our runtime folds those at session
        // creation anyway). The aggressive pipeline trades up to kMaxGrowth x.
        if (*outBytes > kAlwaysFoldBytes) {
            if (ctx.aggressive ? *outBytes > kMaxGrowth * inBytes
                               : *outBytes > freedBytes && !groupFreesItsBytes(*n, graph, ctx))
                continue;
        }

        if (!pool) pool = std::make_shared<rt::ThreadPool>(1);
        std::optional<std::vector<ir::Tensor>> values = evaluate(*n, inputs, ctx, pool);
        if (!values) continue;
        ctx.removed(*n);
        replaceNodeWithConstants(graph, n, std::move(*values));
    }
    return {};
}

} // namespace ew::opt
