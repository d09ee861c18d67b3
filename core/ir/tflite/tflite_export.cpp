#include "tflite_export.h"

#include "common/file_util.h"
#include "ir/shape_inference.h"
#include "ir/tflite/tflite_import.h"
#include "ir/tflite/tflite_schema_generated.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace ew::tflitefmt {

namespace fb = ew::tflitefmt::schema;
using ir::DataType;

namespace {

/// Ir: the TFLite tensor holds the IR value as it is. Cl: a rank-4 IR value (NCHW) held
/// channels-last, i.e. transposed by kToNhwc, or a rank-3 one (NCW, 1-D convolutions) held
/// as NWC (transposed by {0,2,1}).
enum class Lay { Ir = 0, Cl = 1 };
const std::vector<int64_t> kToNhwc{0, 2, 3, 1};
const std::vector<int64_t> kToNwc{0, 2, 1};
const std::vector<int64_t> kToNchw{0, 3, 1, 2};

/// Ranks that have a channels-last form.
bool clRank(int r) { return r == 3 || r == 4; }
/// IR -> channels-last permutation for rank r (3 or 4).
const std::vector<int64_t>& clPerm(int r) { return r == 3 ? kToNwc : kToNhwc; }
/// Channels-last -> IR.
const std::vector<int64_t>& irPerm(int r) { return r == 3 ? kToNwc : kToNchw; }

using BO = fb::BuiltinOperator;
using Act = fb::ActivationFunctionType;
using OptFn = std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

std::unexpected<Status> unsupported(std::string msg, std::string node) {
    return fail(StatusCode::Unsupported, std::move(msg), std::move(node));
}
std::unexpected<Status> invalid(std::string msg, std::string node) {
    return fail(StatusCode::InvalidInput, std::move(msg), std::move(node));
}

std::optional<fb::TensorType> tfType(DataType t) {
    switch (t) {
    case DataType::Float: return fb::TensorType::FLOAT32;
    case DataType::Float16: return fb::TensorType::FLOAT16;
    case DataType::Int32: return fb::TensorType::INT32;
    case DataType::UInt8: return fb::TensorType::UINT8;
    case DataType::Int64: return fb::TensorType::INT64;
    case DataType::String: return fb::TensorType::STRING;
    case DataType::Bool: return fb::TensorType::BOOL;
    case DataType::Int16: return fb::TensorType::INT16;
    case DataType::Complex64: return fb::TensorType::COMPLEX64;
    case DataType::Int8: return fb::TensorType::INT8;
    case DataType::Double: return fb::TensorType::FLOAT64;
    case DataType::Complex128: return fb::TensorType::COMPLEX128;
    case DataType::UInt64: return fb::TensorType::UINT64;
    case DataType::UInt32: return fb::TensorType::UINT32;
    case DataType::UInt16: return fb::TensorType::UINT16;
    case DataType::Int4: return fb::TensorType::INT4;
    case DataType::BFloat16: return fb::TensorType::BFLOAT16;
    default: return std::nullopt;
    }
}

bool isIntStorage(DataType t) {
    return t == DataType::Int8 || t == DataType::UInt8 || t == DataType::Int16 || t == DataType::UInt16 ||
           t == DataType::Int32 || t == DataType::Int4;
}

/// Position of old axis `a` after permuting by `perm` (out[i] = in[perm[i]]).
int64_t permutedAxis(const std::vector<int64_t>& perm, int64_t a) {
    for (std::size_t i = 0; i < perm.size(); ++i)
        if (perm[i] == a) return static_cast<int64_t>(i);
    return a;
}
std::vector<int64_t> permuteDims(const std::vector<int64_t>& d, const std::vector<int64_t>& perm) {
    std::vector<int64_t> out(perm.size());
    for (std::size_t i = 0; i < perm.size(); ++i) out[i] = d[static_cast<std::size_t>(perm[i])];
    return out;
}
bool isIdentityPerm(const std::vector<int64_t>& p) {
    for (std::size_t i = 0; i < p.size(); ++i)
        if (p[i] != static_cast<int64_t>(i)) return false;
    return true;
}
/// True when permuting a tensor of these dims by `perm` keeps the memory order (only size-1
/// dims move): the permutation is then a reshape.
bool permIsReshape(const std::vector<int64_t>& dims, const std::vector<int64_t>& perm) {
    std::vector<int64_t> a, b;
    for (std::size_t i = 0; i < dims.size(); ++i)
        if (dims[i] != 1) a.push_back(static_cast<int64_t>(i));
    for (int64_t p : perm)
        if (dims[static_cast<std::size_t>(p)] != 1) b.push_back(p);
    return a == b;
}

std::vector<std::byte> permuteBytes(const std::byte* src, const std::vector<int64_t>& dims,
                                    const std::vector<int64_t>& perm, std::size_t esz) {
    const std::size_t r = dims.size();
    int64_t n = 1;
    for (auto d : dims) n *= d;
    std::vector<std::byte> out(static_cast<std::size_t>(n) * esz);
    if (n == 0) return out;
    std::vector<int64_t> srcStride(r, 1);
    for (std::size_t i = r; i-- > 1;) srcStride[i - 1] = srcStride[i] * dims[i];
    std::vector<int64_t> odims(r), ostride(r);
    for (std::size_t i = 0; i < r; ++i) {
        odims[i] = dims[static_cast<std::size_t>(perm[i])];
        ostride[i] = srcStride[static_cast<std::size_t>(perm[i])];
    }
    std::vector<int64_t> idx(r, 0);
    int64_t srcOff = 0;
    for (int64_t k = 0; k < n; ++k) {
        std::memcpy(out.data() + static_cast<std::size_t>(k) * esz, src + static_cast<std::size_t>(srcOff) * esz, esz);
        for (std::size_t i = r; i-- > 0;) {
            if (++idx[i] < odims[i]) {
                srcOff += ostride[i];
                break;
            }
            srcOff -= ostride[i] * (odims[i] - 1);
            idx[i] = 0;
        }
    }
    return out;
}

template <typename T>
std::vector<std::byte> toBytes(const std::vector<T>& v) {
    std::vector<std::byte> b(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
}

int32_t clampI32(int64_t v) {
    return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

// ---------------------------------------------------------------------------------------------
// Records, serialized at the end (flatbuffers are built bottom-up).

struct TensorRec {
    std::string name;
    fb::TensorType type = fb::TensorType::FLOAT32;
    bool hasRank = true;
    std::vector<int64_t> dims; ///< -1 for dynamic
    uint32_t buffer = 0;
    std::optional<ir::QuantParams> quant; ///< axis in this tensor's layout
};

struct OpRec {
    uint32_t opcode = 0;
    std::vector<int32_t> ins, outs, intermediates;
    fb::BuiltinOptions optType = fb::BuiltinOptions::NONE;
    OptFn opts;
    std::optional<ir::Tensor> custom;
};

struct SubgraphRec {
    std::string name;
    std::vector<TensorRec> tensors;
    std::vector<int32_t> inputs, outputs;
    std::vector<OpRec> ops;
};

struct ModelRec {
    std::vector<std::optional<ir::Tensor>> buffers{std::nullopt}; ///< buffer 0: empty
    struct Code {
        int32_t code;
        std::string custom;
        int32_t version;
    };
    std::vector<Code> codes;
    std::vector<SubgraphRec> subgraphs;
    ExportReport report;
    int64_t opset = 13;
    bool preferCl = false; ///< the model came from TFLite

    uint32_t opcode(int32_t code, int32_t version, const std::string& custom = {}) {
        for (std::size_t i = 0; i < codes.size(); ++i)
            if (codes[i].code == code && codes[i].custom == custom && codes[i].version == version) return static_cast<uint32_t>(i);
        codes.push_back({code, custom, version});
        return static_cast<uint32_t>(codes.size() - 1);
    }
    uint32_t buffer(ir::Tensor t) {
        buffers.emplace_back(std::move(t));
        return static_cast<uint32_t>(buffers.size() - 1);
    }
};

std::vector<int64_t> valueDims(const ir::Value* v) {
    std::vector<int64_t> d;
    if (const ir::Tensor* t = ir::constantTensorOf(v)) return t->dims;
    if (!v || !v->type.shape) return d;
    for (const auto& x : v->type.shape->dims) d.push_back(x.isKnown() ? x.value : -1);
    return d;
}
int valueRank(const ir::Value* v) {
    if (const ir::Tensor* t = ir::constantTensorOf(v)) return static_cast<int>(t->dims.size());
    if (!v || !v->type.shape) return -1;
    return static_cast<int>(v->type.shape->rank());
}
bool allKnown(const std::vector<int64_t>& d) {
    return std::all_of(d.begin(), d.end(), [](int64_t x) { return x >= 0; });
}

/// Quantization parameters from a QuantizeLinear / DequantizeLinear node's constant inputs.
std::optional<ir::QuantParams> qdqParams(const ir::Node* n) {
    if (!n || n->inputs().size() < 2) return std::nullopt;
    const ir::Tensor* s = ir::constantTensorOf(n->input(1));
    if (!s) return std::nullopt;
    ir::QuantParams q;
    q.scales = s->toFloat();
    const ir::Tensor* z = ir::constantTensorOf(n->input(2));
    if (z) q.zeroPoints = z->toInt64();
    else
        q.zeroPoints.assign(q.scales.size(), 0);
    if (q.zeroPoints.size() != q.scales.size()) return std::nullopt;
    if (n->opType == "DequantizeLinear") q.storageType = n->input(0) ? n->input(0)->type.elemType : DataType::Undefined;
    else
        q.storageType = z ? z->dtype : DataType::UInt8;
    if (const ir::Tensor* t = ir::constantTensorOf(n->input(0)); t && n->opType == "DequantizeLinear") q.storageType = t->dtype;
    if (q.scales.size() > 1) {
        int64_t axis = n->attrInt("axis", 1);
        int r = valueRank(n->input(0));
        if (axis < 0 && r > 0) axis += r;
        q.axis = axis;
    }
    return q;
}

/// Integer values: their own QuantParams, else those of the Q node producing them or of a DQ
/// node reading them.
std::optional<ir::QuantParams> quantOf(const ir::Value* v) {
    if (!v) return std::nullopt;
    if (v->quant && !v->quant->scales.empty()) return v->quant;
    if (const ir::Node* p = v->producer(); p && p->opType == "QuantizeLinear" && p->domain.empty()) return qdqParams(p);
    for (const auto& u : v->uses())
        if (u.node->opType == "DequantizeLinear" && u.node->domain.empty() && u.inputIndex == 0) return qdqParams(u.node);
    return std::nullopt;
}

bool isOp(const ir::Node* n, std::string_view op) { return n && n->opType == op && ir::canonicalDomain(n->domain).empty(); }

std::optional<float> constScalar(const ir::Value* v) {
    const ir::Tensor* t = ir::constantTensorOf(v);
    if (!t || t->numElements() != 1) return std::nullopt;
    return static_cast<float>(t->valueAsDouble(0));
}

/// Clip bounds (inputs from opset 11, attributes before); missing bounds are infinite.
std::optional<std::pair<float, float>> clipBounds(const ir::Node* n) {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (n->hasAttr("min")) lo = n->attrFloat("min", lo);
    if (n->hasAttr("max")) hi = n->attrFloat("max", hi);
    if (n->input(1)) {
        auto s = constScalar(n->input(1));
        if (!s) return std::nullopt;
        lo = *s;
    }
    if (n->input(2)) {
        auto s = constScalar(n->input(2));
        if (!s) return std::nullopt;
        hi = *s;
    }
    return std::pair{lo, hi};
}

/// Resize's source index per output index, for the nearest modes our importer produces and
/// for the node's own mode (compared to choose TFLite's flags).
std::vector<int64_t> nearestMap(const std::string& ctm, const std::string& mode, int64_t in, int64_t out) {
    std::vector<int64_t> m;
    const double scale = static_cast<double>(out) / static_cast<double>(in);
    for (int64_t d = 0; d < out; ++d) {
        double x = 0;
        if (ctm == "half_pixel") x = (d + 0.5) / scale - 0.5;
        else if (ctm == "pytorch_half_pixel") x = out > 1 ? (d + 0.5) / scale - 0.5 : 0.0;
        else if (ctm == "align_corners") x = out > 1 ? static_cast<double>(d) * (in - 1) / (out - 1) : 0.0;
        else if (ctm == "tf_half_pixel_for_nn") x = (d + 0.5) / scale;
        else
            x = d / scale;
        double s = 0;
        if (mode == "round_prefer_ceil") s = std::floor(x + 0.5);
        else if (mode == "floor") s = std::floor(x);
        else if (mode == "ceil") s = std::ceil(x);
        else
            s = std::ceil(x - 0.5);
        m.push_back(std::clamp<int64_t>(static_cast<int64_t>(s), 0, in - 1));
    }
    return m;
}

/// Fused activation a node's sole consumer provides, and that consumer.
std::pair<Act, const ir::Node*> fusableActivation(const ir::Node* n) {
    const ir::Value* out = n->output(0);
    if (!out || out->uses().size() != 1 || out->isGraphOutput() || n->outputs().size() != 1) return {Act::NONE, nullptr};
    const ir::Node* c = out->uses()[0].node;
    if (c->graph() != n->graph() || out->uses()[0].inputIndex != 0) return {Act::NONE, nullptr};
    if (isOp(c, "Relu")) return {Act::RELU, c};
    if (isOp(c, "Clip")) {
        auto b = clipBounds(c);
        if (b && b->first == 0.f && b->second == 6.f) return {Act::RELU6, c};
        if (b && b->first == -1.f && b->second == 1.f) return {Act::RELU_N1_TO_1, c};
        if (b && b->first == 0.f && std::isinf(b->second)) return {Act::RELU, c};
    }
    return {Act::NONE, nullptr};
}

const ir::Node* fcFlatten(const ir::Node* gemm, const ir::Graph& g);

bool takesFusedActivation(const ir::Node* n) {
    static const std::set<std::string, std::less<>> k{"Conv", "ConvTranspose", "Gemm", "Add", "Sub", "Mul", "Div",
                                                       "MaxPool", "AveragePool", "Concat"};
    return ir::canonicalDomain(n->domain).empty() && k.count(n->opType);
}

// ---------------------------------------------------------------------------------------------

class GraphEmitter {
public:
    GraphEmitter(ModelRec& m, std::size_t sgIndex, const ir::Graph& g) : m_m(m), m_sg(sgIndex), m_g(g) {}

    /// Outer values an If branch reads become its subgraph inputs.
    void capture(const ir::Value* outer, const std::string& name) {
        const int t = newTensorFor(outer, Lay::Ir, name);
        m_tensors.try_emplace(outer, std::array<int, 2>{-1, -1}).first->second[0] = t;
        sg().inputs.push_back(t);
    }
    VoidResult emit(bool mainGraph);

private:
    SubgraphRec& sg() { return m_m.subgraphs[m_sg]; }
    int rank(const ir::Value* v) const { return valueRank(v); }

    int addTensor(TensorRec t) {
        sg().tensors.push_back(std::move(t));
        return static_cast<int>(sg().tensors.size() - 1);
    }
    int newTensorFor(const ir::Value* v, Lay L, const std::string& name) {
        TensorRec t;
        t.name = name;
        auto tt = tfType(v->type.elemType);
        t.type = tt ? *tt : fb::TensorType::FLOAT32;
        const int r = rank(v);
        t.hasRank = r >= 0;
        t.dims = valueDims(v);
        if (L == Lay::Cl && clRank(r)) t.dims = permuteDims(t.dims, clPerm(r));
        if (isIntStorage(v->type.elemType)) {
            t.quant = quantOf(v);
            if (t.quant && t.quant->isPerAxis() && L == Lay::Cl && clRank(r)) t.quant->axis = permutedAxis(clPerm(r), t.quant->axis);
        }
        return addTensor(std::move(t));
    }
    int newTensor(const std::string& name, fb::TensorType type, std::vector<int64_t> dims,
                  std::optional<ir::QuantParams> q = std::nullopt) {
        TensorRec t;
        t.name = name;
        t.type = type;
        t.dims = std::move(dims);
        t.quant = std::move(q);
        return addTensor(std::move(t));
    }
    int constTensor(const std::string& name, ir::Tensor data, std::optional<ir::QuantParams> q = std::nullopt) {
        TensorRec t;
        t.name = name;
        t.type = *tfType(data.dtype);
        t.dims = data.dims;
        t.quant = std::move(q);
        t.buffer = m_m.buffer(std::move(data));
        return addTensor(std::move(t));
    }
    int constI32(std::vector<int32_t> v, const std::string& name, bool scalar = false) {
        std::vector<int64_t> dims;
        if (!scalar) dims.push_back(static_cast<int64_t>(v.size()));
        return constTensor(name, ir::Tensor::fromVector(name, DataType::Int32, dims, std::move(v)));
    }
    int constI32(const std::vector<int64_t>& v, const std::string& name) {
        std::vector<int32_t> w;
        for (int64_t x : v) w.push_back(clampI32(x));
        return constI32(std::move(w), name);
    }
    int constF32(std::vector<float> v, std::vector<int64_t> dims, const std::string& name) {
        return constTensor(name, ir::Tensor::fromVector(name, DataType::Float, std::move(dims), std::move(v)));
    }
    const TensorRec& trec(int t) { return sg().tensors[static_cast<std::size_t>(t)]; }

    int addOp(BO code, std::vector<int32_t> ins, std::vector<int32_t> outs, fb::BuiltinOptions ot = fb::BuiltinOptions::NONE,
              OptFn fn = {}, int32_t version = 1) {
        OpRec o;
        o.opcode = m_m.opcode(static_cast<int32_t>(code), version);
        o.ins = std::move(ins);
        o.outs = std::move(outs);
        o.optType = ot;
        o.opts = std::move(fn);
        if (code == BO::TRANSPOSE) m_m.report.transposes++;
        for (int t : o.ins)
            if (t >= 0 && (trec(t).type == fb::TensorType::INT8 || trec(t).type == fb::TensorType::UINT8) && trec(t).quant && code != BO::DEQUANTIZE)
                m_m.report.quantized = true;
        sg().ops.push_back(std::move(o));
        return static_cast<int>(sg().ops.size() - 1);
    }

    // ---- tensors of IR values in a layout
    Result<int> tensor(const ir::Value* v, Lay L, const std::string& where);
    Result<int> convertLayout(const ir::Value* v, int src, Lay from, Lay to);
    /// Rank-4 broadcast operand for an elementwise op whose rank-4 result is channels-last.
    Result<int> broadcastOperand(const ir::Value* v, Lay L, int outRank, const std::string& where);
    Result<int> constOf(const ir::Value* v, const ir::Tensor& t, const std::vector<int64_t>& perm, const std::string& name,
                        const std::string& key);
    bool has(const ir::Value* v, Lay L) const {
        auto it = m_tensors.find(v);
        return it != m_tensors.end() && it->second[static_cast<int>(L)] >= 0;
    }
    /// The layout an activation is available in (Cl preferred for rank 4).
    Lay available(const ir::Value* v) const {
        if (clRank(rank(v)) && (has(v, Lay::Cl) || m_unitH.count(v))) return Lay::Cl;
        return Lay::Ir;
    }
    void bind(const ir::Value* v, Lay L, int t) {
        auto& a = m_tensors.try_emplace(v, std::array<int, 2>{-1, -1}).first->second;
        a[static_cast<int>(clRank(rank(v)) ? L : Lay::Ir)] = t;
    }
    /// A fresh tensor for node output v in layout L (bound to v).
    int output(const ir::Value* v, Lay L) {
        if (!clRank(rank(v))) L = Lay::Ir;
        auto fn = m_fusedName.find(v);
        int t = newTensorFor(v, L, fn != m_fusedName.end() ? fn->second : v->name);
        bind(v, L, t);
        return t;
    }

    // ---- node analysis
    const ir::Node* dqProducer(const ir::Value* v) const {
        const ir::Node* p = v ? v->producer() : nullptr;
        return isOp(p, "DequantizeLinear") && p->graph() == &m_g ? p : nullptr;
    }
    bool quantizedMode(const ir::Node* n, const ir::Value* finalOut) const;
    std::string where(const ir::Node* n) const {
        return (n->name.empty() ? n->displayName() : n->name) + " (" + n->qualifiedOp() + ")";
    }

    // ---- emitters
    VoidResult emitNode(const ir::Node* n);
    VoidResult emitConv(const ir::Node* n, Act act, const ir::Value* out, bool q);
    VoidResult emitConvTranspose(const ir::Node* n, Act act, const ir::Value* out, bool q);
    VoidResult emitPool(const ir::Node* n, Act act, const ir::Value* out, bool q);
    VoidResult emitGemm(const ir::Node* n, Act act, const ir::Value* out, bool q);
    VoidResult emitMatMul(const ir::Node* n, const ir::Value* out, bool q);
    VoidResult emitBinary(const ir::Node* n, Act act, const ir::Value* out, bool q);
    VoidResult emitIf(const ir::Node* n);
    VoidResult emitLstm(const ir::Node* n);
    VoidResult emitGeneric(const ir::Node* n);
    /// Input `i` of a node in quantized mode: the integer tensor behind its DequantizeLinear.
    Result<int> dataInput(const ir::Node* n, std::size_t i, Lay L, bool q);
    /// Weights of Conv/Gemm: constant (float, or integer behind a DQ), permuted by `perm`.
    Result<std::pair<int, std::optional<ir::QuantParams>>> weights(const ir::Node* n, std::size_t i,
                                                                    const std::vector<int64_t>& perm, bool allowHybrid, bool q);
    Result<int> bias(const ir::Node* n, std::size_t i, int64_t channels, float inScale,
                     const std::optional<ir::QuantParams>& wq, bool q, float scaleBy = 1.f);
    /// All-zero bias of `channels` values for an op that TFLite requires to have one: float, or
    /// (quantized) int32 with scale s_x * s_w per channel and zero point 0, which the int8 kernels check.
    int zeroBias(const std::string& name, int64_t channels, float inScale, const std::optional<ir::QuantParams>& wq, bool q);
    /// Explicit spatial pads become a PAD op before `x` unless they are TFLite's SAME or VALID.
    /// `in` is the input's NCHW dims and `pads` the node's explicit pads as 2-D [t,l,b,r] (a 1-D
    /// node's are given with a unit height).
    Result<std::pair<fb::Padding, int>> spatialPadding(const ir::Node* n, int x, const std::vector<int64_t>& in,
                                                       std::vector<int64_t> pads, const std::vector<int64_t>& k,
                                                       const std::vector<int64_t>& s, const std::vector<int64_t>& d, bool maxPool,
                                                       bool q);
    /// Input of a 1-D convolution or pooling as the TFLite tensor [N,1,W,C].
    Result<int> unitHeightInput(const ir::Node* n, bool q);
    /// The 2-D view of a 1-D (rank-3) Conv/pool node: NCHW dims with H = 1, and the kernel,
    /// strides, dilations and pads with a unit height.
    struct Spatial {
        std::vector<int64_t> in, k, s, d, pads;
    };
    std::optional<Spatial> spatialOf(const ir::Node* n, const std::vector<int64_t>& kernelDefault) const;
    /// Flatten/Reshape feeding a matmul with constant weights, when folding it avoids a TRANSPOSE:
    /// the channels-last source value, else null.
    /// Unsqueeze of a one-element value read only through Transposes by elementwise binary ops.
    bool isScalarBroadcast(const ir::Node* n) const {
        static const std::set<std::string, std::less<>> kElementwise{"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"};
        const ir::Value* x = n->input(0);
        const ir::Value* y = n->output(0);
        const auto d = valueDims(x);
        if (!x || y->isGraphOutput() || y->uses().empty() || std::any_of(d.begin(), d.end(), [](int64_t v) { return v != 1; })) return false;
        for (const auto& u : y->uses()) {
            if (!isOp(u.node, "Transpose") || u.node->graph() != &m_g || u.node->output(0)->isGraphOutput()) return false;
            for (const auto& u2 : u.node->output(0)->uses())
                if (!kElementwise.count(u2.node->opType) || !ir::canonicalDomain(u2.node->domain).empty()) return false;
        }
        return true;
    }
    const ir::Value* flattenFoldSource(const ir::Node* reshape) const;
    const ir::Value* folded(const ir::Node* mm) const {
        auto it = m_folded.find(mm->input(0));
        return it == m_folded.end() ? nullptr : it->second;
    }
    std::unordered_map<const ir::Value*, const ir::Value*> m_folded; ///< Flatten output -> channels-last source

    ModelRec& m_m;
    std::size_t m_sg;
    const ir::Graph& m_g;
    std::unordered_map<const ir::Value*, std::array<int, 2>> m_tensors;
    std::unordered_map<std::string, int> m_constCache;
    std::unordered_set<const ir::Node*> m_skip; ///< folded into another op
    std::unordered_map<const ir::Value*, std::string> m_fusedName;
    /// Rank-3 values a 1-D convolution or pooling wrote as [N,1,W,C] (the TFLite tensor index).
    std::unordered_map<const ir::Value*, int> m_unitH;
};

Result<int> GraphEmitter::constOf(const ir::Value* v, const ir::Tensor& t, const std::vector<int64_t>& perm,
                                  const std::string& name, const std::string& key) {
    if (auto it = m_constCache.find(key); it != m_constCache.end()) return it->second;
    auto tt = tfType(t.dtype);
    if (!tt) return unsupported("constant '" + t.name + "' has element type " + std::string(ir::dataTypeName(t.dtype)) + ", which TFLite cannot hold", {});
    ir::Tensor data = t;
    data.name = name;
    std::optional<ir::QuantParams> q;
    if (v && isIntStorage(t.dtype)) q = quantOf(v);
    if (!perm.empty() && !isIdentityPerm(perm)) {
        const int bits = ir::dataTypeBits(t.dtype);
        if (bits < 8 || t.dtype == DataType::String)
            return unsupported("constant '" + t.name + "' of type " + std::string(ir::dataTypeName(t.dtype)) + " cannot be re-laid out", {});
        auto bytes = permuteBytes(t.bytes().data(), t.dims, perm, static_cast<std::size_t>(bits / 8));
        data = ir::Tensor::fromVector(name, t.dtype, permuteDims(t.dims, perm), std::move(bytes));
        if (q && q->isPerAxis()) q->axis = permutedAxis(perm, q->axis);
    }
    int idx = constTensor(name, std::move(data), std::move(q));
    m_constCache[key] = idx;
    return idx;
}

Result<int> GraphEmitter::tensor(const ir::Value* v, Lay L, const std::string& where) {
    if (!v) return invalid("a required input is missing", where);
    if (!clRank(rank(v))) L = Lay::Ir;
    if (has(v, L)) return m_tensors[v][static_cast<int>(L)];
    if (auto it = m_unitH.find(v); it != m_unitH.end() && !has(v, Lay::Cl)) {
        // A 1-D convolution's [N,1,W,C] result: its NWC form drops the unit height (no data moves).
        const int src = it->second;
        int y = newTensorFor(v, Lay::Cl, v->name);
        addOp(BO::SQUEEZE, {src}, {y}, fb::BuiltinOptions::SqueezeOptions,
              [](auto& b) { return fb::CreateSqueezeOptions(b, b.CreateVector(std::vector<int32_t>{1})).Union(); });
        bind(v, Lay::Cl, y);
        if (L == Lay::Cl) return y;
    }
    if (const ir::Tensor* t = ir::constantTensorOf(v)) {
        std::vector<int64_t> perm;
        if (L == Lay::Cl) perm = clPerm(rank(v));
        EW_TRY_ASSIGN(int idx, constOf(v, *t, perm, v->name, v->name + (L == Lay::Cl ? "#cl" : "#ir")));
        bind(v, L, idx);
        return idx;
    }
    if (has(v, L == Lay::Ir ? Lay::Cl : Lay::Ir)) {
        const Lay from = L == Lay::Ir ? Lay::Cl : Lay::Ir;
        EW_TRY_ASSIGN(int idx, convertLayout(v, m_tensors[v][static_cast<int>(from)], from, L));
        bind(v, L, idx);
        return idx;
    }
    // ConstantOfShape of a constant shape is a constant.
    if (const ir::Node* p = v->producer(); isOp(p, "ConstantOfShape") && ir::constantTensorOf(p->input(0))) {
        auto dims = ir::constantTensorOf(p->input(0))->toInt64();
        auto count = ir::checkedElementCount(dims, uint64_t(1) << 28);
        if (!count) return invalid("ConstantOfShape: " + count.error().message, where);
        const ir::Attribute* a = p->attr("value");
        ir::Tensor fill = a && a->type == ir::AttrType::Tensor ? a->t : ir::Tensor::fromVector("value", DataType::Float, {1}, std::vector<float>{0.f});
        const std::size_t esz = static_cast<std::size_t>(ir::dataTypeBits(fill.dtype) / 8);
        if (esz == 0 || fill.bytes().size() < esz) return unsupported("ConstantOfShape of type " + std::string(ir::dataTypeName(fill.dtype)), where);
        std::vector<std::byte> bytes(static_cast<std::size_t>(*count) * esz);
        for (int64_t i = 0; i < *count; ++i) std::memcpy(bytes.data() + static_cast<std::size_t>(i) * esz, fill.bytes().data(), esz);
        ir::Tensor t = ir::Tensor::fromVector(v->name, fill.dtype, dims, std::move(bytes));
        std::vector<int64_t> perm;
        if (L == Lay::Cl) perm = clPerm(rank(v));
        EW_TRY_ASSIGN(int idx, constOf(v, t, perm, v->name, v->name + (L == Lay::Cl ? "#cl" : "#ir")));
        bind(v, L, idx);
        return idx;
    }
    // A DequantizeLinear nobody needed until a float consumer came: emitted now.
    if (const ir::Node* dq = dqProducer(v)) {
        const Lay lin = available(dq->input(0));
        EW_TRY_ASSIGN(int x, tensor(dq->input(0), lin, where));
        int y = output(v, lin);
        addOp(BO::DEQUANTIZE, {x}, {y});
        return tensor(v, L, where);
    }
    return invalid("value '" + v->name + "' is read before anything produces it", where);
}

Result<int> GraphEmitter::convertLayout(const ir::Value* v, int src, Lay from, Lay to) {
    const auto ird = valueDims(v);
    const int r = static_cast<int>(ird.size());
    const std::vector<int64_t> perm = to == Lay::Cl ? clPerm(r) : irPerm(r);
    const auto srcDims = from == Lay::Cl ? permuteDims(ird, clPerm(r)) : ird;
    int out = newTensorFor(v, to, v->name + (to == Lay::Cl ? "_nhwc" : "_nchw"));
    if (allKnown(ird) && permIsReshape(srcDims, perm)) {
        const auto d = trec(out).dims;
        int shape = constI32(d, v->name + (to == Lay::Cl ? "_nhwc_shape" : "_nchw_shape"));
        std::vector<int32_t> ns;
        for (int64_t x : d) ns.push_back(clampI32(x));
        addOp(BO::RESHAPE, {src, shape}, {out}, fb::BuiltinOptions::ReshapeOptions,
              [ns](auto& b) { return fb::CreateReshapeOptions(b, b.CreateVector(ns)).Union(); });
        return out;
    }
    int p = constI32(perm, v->name + (to == Lay::Cl ? "_to_nhwc" : "_to_nchw"));
    addOp(BO::TRANSPOSE, {src, p}, {out}, fb::BuiltinOptions::TransposeOptions,
          [](auto& b) { return fb::CreateTransposeOptions(b).Union(); });
    return out;
}

Result<int> GraphEmitter::broadcastOperand(const ir::Value* v, Lay L, int outRank, const std::string& where) {
    const int r = rank(v);
    if (L == Lay::Ir || !clRank(outRank) || r == outRank) return tensor(v, L, where);
    if (r < 0) return unsupported("the rank of '" + v->name + "' is unknown", where);
    const auto d = valueDims(v);
    int64_t n = 1;
    for (auto x : d) n = x < 0 || n < 0 ? -1 : n * x;
    if (n == 1) return tensor(v, Lay::Ir, where); // broadcasts the same in any layout
    if (r > outRank) return invalid("operand '" + v->name + "' has a higher rank than the result", where);
    const auto& perm = clPerm(outRank);
    const int lead = outRank - r;
    std::vector<int64_t> d4(static_cast<std::size_t>(lead), 1);
    d4.insert(d4.end(), d.begin(), d.end());
    if (const ir::Tensor* t = ir::constantTensorOf(v)) {
        ir::Tensor t4 = *t;
        t4.dims = d4;
        auto q = isIntStorage(t->dtype) ? quantOf(v) : std::nullopt;
        if (q && q->isPerAxis()) q->axis += lead;
        // constOf reads quantOf(v); the shifted axis is applied through a copy below.
        EW_TRY_ASSIGN(int idx, constOf(nullptr, t4, perm, v->name, v->name + "#b" + std::to_string(outRank)));
        if (q) {
            if (q->isPerAxis()) q->axis = permutedAxis(perm, q->axis);
            sg().tensors[static_cast<std::size_t>(idx)].quant = q;
        }
        return idx;
    }
    const std::string key = v->name + "#b" + std::to_string(outRank) + "v";
    if (auto it = m_constCache.find(key); it != m_constCache.end()) return it->second;
    EW_TRY_ASSIGN(int x, tensor(v, Lay::Ir, where));
    auto tt = trec(x);
    const std::string sfx = "_" + std::to_string(outRank) + "d";
    int r4 = newTensor(v->name + sfx, tt.type, d4, tt.quant);
    if (r4 >= 0 && tt.quant && tt.quant->isPerAxis()) sg().tensors[static_cast<std::size_t>(r4)].quant->axis += lead;
    int s = constI32(d4, v->name + sfx + "_shape");
    addOp(BO::RESHAPE, {x, s}, {r4}, fb::BuiltinOptions::ReshapeOptions,
          [d4](auto& b) {
              std::vector<int32_t> ns;
              for (auto x : d4) ns.push_back(clampI32(x));
              return fb::CreateReshapeOptions(b, b.CreateVector(ns)).Union();
          });
    const auto dcl = permuteDims(d4, perm);
    int out = newTensor(v->name + sfx + "_cl", tt.type, dcl, trec(r4).quant);
    if (trec(out).quant && trec(out).quant->isPerAxis())
        sg().tensors[static_cast<std::size_t>(out)].quant->axis = permutedAxis(perm, trec(out).quant->axis);
    if (allKnown(d4) && permIsReshape(d4, perm)) {
        int s2 = constI32(dcl, v->name + sfx + "_cl_shape");
        addOp(BO::RESHAPE, {r4, s2}, {out}, fb::BuiltinOptions::ReshapeOptions, [dcl](auto& b) {
            std::vector<int32_t> ns;
            for (auto x : dcl) ns.push_back(clampI32(x));
            return fb::CreateReshapeOptions(b, b.CreateVector(ns)).Union();
        });
    } else {
        int p = constI32(perm, v->name + sfx + "_to_cl");
        addOp(BO::TRANSPOSE, {r4, p}, {out}, fb::BuiltinOptions::TransposeOptions, [](auto& b) { return fb::CreateTransposeOptions(b).Union(); });
    }
    m_constCache[key] = out;
    return out;
}

bool GraphEmitter::quantizedMode(const ir::Node* n, const ir::Value* finalOut) const {
    if (!finalOut || finalOut->uses().size() != 1 || finalOut->isGraphOutput()) return false;
    const ir::Node* q = finalOut->uses()[0].node;
    if (!isOp(q, "QuantizeLinear") || q->graph() != &m_g || finalOut->uses()[0].inputIndex != 0) return false;
    auto qp = qdqParams(q);
    if (!qp || qp->isPerAxis()) return false;
    bool anyDq = false;
    for (std::size_t i = 0; i < n->inputs().size(); ++i) {
        const ir::Value* v = n->input(i);
        if (!v) continue;
        if (i == 0 && isOp(n, "Gemm"))
            if (const ir::Node* r = fcFlatten(n, m_g)) v = r->input(0);
        if (dqProducer(v)) {
            anyDq = true;
            continue;
        }
        const ir::Tensor* t = ir::constantTensorOf(v);
        const bool biasSlot = i == 2 && (isOp(n, "Conv") || isOp(n, "Gemm") || isOp(n, "ConvTranspose"));
        if (t && (!ir::isFloatingPoint(t->dtype) || biasSlot)) continue;
        if (!t && !ir::isFloatingPoint(v->type.elemType) && v->type.elemType != DataType::Undefined) continue;
        return false;
    }
    return anyDq;
}

Result<int> GraphEmitter::dataInput(const ir::Node* n, std::size_t i, Lay L, bool q) {
    const ir::Value* v = n->input(i);
    if (q) {
        if (const ir::Node* dq = dqProducer(v)) return tensor(dq->input(0), L, where(n));
    }
    return tensor(v, L, where(n));
}

Result<std::pair<int, std::optional<ir::QuantParams>>> GraphEmitter::weights(const ir::Node* n, std::size_t i,
                                                                              const std::vector<int64_t>& perm,
                                                                              bool allowHybrid, bool q) {
    const ir::Value* v = n->input(i);
    const ir::Value* src = v;
    if (const ir::Node* dq = dqProducer(v); dq && (q || allowHybrid) && ir::constantTensorOf(dq->input(0))) src = dq->input(0);
    const ir::Tensor* t = ir::constantTensorOf(src);
    if (!t) return unsupported("the weights '" + (v ? v->name : std::string("?")) + "' are not constant", where(n));
    std::string key = src->name + "#w";
    for (auto p : perm) key += "," + std::to_string(p);
    EW_TRY_ASSIGN(int idx, constOf(src, *t, perm, src->name, key));
    return std::pair{idx, trec(idx).quant};
}

Result<int> GraphEmitter::bias(const ir::Node* n, std::size_t i, int64_t channels, float inScale,
                               const std::optional<ir::QuantParams>& wq, bool q, float scaleBy) {
    const ir::Value* v = n->input(i);
    if (!v) return -1;
    if (q) {
        if (const ir::Node* dq = dqProducer(v)) {
            const ir::Tensor* t = ir::constantTensorOf(dq->input(0));
            if (t && t->dtype == DataType::Int32) {
                EW_TRY_ASSIGN(int idx, constOf(dq->input(0), *t, {}, dq->input(0)->name, dq->input(0)->name + "#bias"));
                return idx;
            }
        }
        // A float bias in a quantized op: int32 with scale s_x * s_w per channel.
        const ir::Value* fv = dqProducer(v) ? dqProducer(v)->input(0) : v;
        const ir::Tensor* t = ir::constantTensorOf(fv);
        if (!t || !wq) return unsupported("the bias '" + v->name + "' cannot be quantized (not constant)", where(n));
        std::vector<double> b = t->toDouble();
        if (dqProducer(v)) {
            auto bq = qdqParams(dqProducer(v));
            if (!bq) return unsupported("the bias '" + v->name + "' has no readable quantization", where(n));
            for (std::size_t k = 0; k < b.size(); ++k) {
                std::size_t c = bq->isPerAxis() ? k : 0;
                b[k] = (b[k] - static_cast<double>(bq->zeroPoints[c])) * bq->scales[c];
            }
        }
        if (static_cast<int64_t>(b.size()) == 1 && channels > 1) b.assign(static_cast<std::size_t>(channels), b[0]);
        if (static_cast<int64_t>(b.size()) != channels) return unsupported("the bias '" + v->name + "' does not have one value per output channel", where(n));
        ir::QuantParams bq;
        bq.storageType = DataType::Int32;
        std::vector<int32_t> qv;
        for (int64_t c = 0; c < channels; ++c) {
            double s = static_cast<double>(inScale) * wq->scales[wq->isPerAxis() ? static_cast<std::size_t>(c) : 0];
            bq.scales.push_back(static_cast<float>(s));
            bq.zeroPoints.push_back(0);
            qv.push_back(s > 0 ? clampI32(std::llround(b[static_cast<std::size_t>(c)] * scaleBy / s)) : 0);
        }
        if (bq.scales.size() > 1) bq.axis = 0;
        else {
            bq.scales.resize(1);
            bq.zeroPoints.resize(1);
        }
        return constTensor(v->name, ir::Tensor::fromVector(v->name, DataType::Int32, {channels}, std::move(qv)), bq);
    }
    const ir::Tensor* t = ir::constantTensorOf(v);
    if (!t) return unsupported("the bias '" + v->name + "' is not constant", where(n));
    if (t->dims.size() == 1 && t->dims[0] == channels && scaleBy == 1.f) return tensor(v, Lay::Ir, where(n));
    std::vector<float> b = t->toFloat();
    if (b.size() == 1) b.assign(static_cast<std::size_t>(channels), b[0]);
    if (static_cast<int64_t>(b.size()) != channels) return unsupported("the bias '" + v->name + "' does not have one value per output channel", where(n));
    for (auto& x : b) x *= scaleBy;
    return constF32(std::move(b), {channels}, v->name);
}

int GraphEmitter::zeroBias(const std::string& name, int64_t channels, float inScale, const std::optional<ir::QuantParams>& wq, bool q) {
    if (!q) return constF32(std::vector<float>(static_cast<std::size_t>(channels), 0.f), {channels}, name);
    ir::QuantParams bq;
    bq.storageType = DataType::Int32;
    const bool perAxis = wq && wq->isPerAxis();
    for (int64_t c = 0; c < (perAxis ? channels : 1); ++c) {
        bq.scales.push_back(static_cast<float>(static_cast<double>(inScale) * (wq ? wq->scales[static_cast<std::size_t>(c)] : 1.f)));
        bq.zeroPoints.push_back(0);
    }
    if (perAxis) bq.axis = 0;
    return constTensor(name, ir::Tensor::fromVector(name, DataType::Int32, {channels}, std::vector<int32_t>(static_cast<std::size_t>(channels), 0)), bq);
}

std::optional<GraphEmitter::Spatial> GraphEmitter::spatialOf(const ir::Node* n, const std::vector<int64_t>& kernelDefault) const {
    Spatial sp;
    sp.in = valueDims(n->input(0));
    const std::size_t nd = sp.in.size() >= 2 ? sp.in.size() - 2 : 0;
    if (nd != 1 && nd != 2) return std::nullopt;
    sp.k = n->attrInts("kernel_shape", kernelDefault);
    sp.s = n->attrInts("strides", std::vector<int64_t>(nd, 1));
    sp.d = n->attrInts("dilations", std::vector<int64_t>(nd, 1));
    sp.pads = n->attrInts("pads", std::vector<int64_t>(2 * nd, 0));
    if (sp.k.size() != nd || sp.s.size() != nd || sp.d.size() != nd || sp.pads.size() != 2 * nd) return std::nullopt;
    if (nd == 1) {
        sp.in.insert(sp.in.begin() + 2, 1);
        sp.k.insert(sp.k.begin(), 1);
        sp.s.insert(sp.s.begin(), 1);
        sp.d.insert(sp.d.begin(), 1);
        sp.pads = {0, sp.pads[0], 0, sp.pads[1]};
    }
    return sp;
}

Result<int> GraphEmitter::unitHeightInput(const ir::Node* n, bool q) {
    const ir::Value* xv = n->input(0);
    if (q && dqProducer(xv)) xv = dqProducer(xv)->input(0);
    if (auto it = m_unitH.find(xv); it != m_unitH.end()) return it->second;
    const std::string key = xv->name + "#unit_h";
    if (auto it = m_constCache.find(key); it != m_constCache.end()) return it->second;
    EW_TRY_ASSIGN(int x, tensor(xv, Lay::Cl, where(n)));
    const auto xt = trec(x);
    std::vector<int64_t> d4 = xt.dims;
    d4.insert(d4.begin() + 1, 1);
    int y = newTensor(xt.name + "_unit_h", xt.type, d4, xt.quant);
    if (trec(y).quant && trec(y).quant->isPerAxis()) sg().tensors[static_cast<std::size_t>(y)].quant->axis += 1;
    int ax = constI32(std::vector<int32_t>{1}, xt.name + "_unit_h_axis");
    addOp(BO::EXPAND_DIMS, {x, ax}, {y}, fb::BuiltinOptions::ExpandDimsOptions, [](auto& b) { return fb::CreateExpandDimsOptions(b).Union(); });
    m_constCache[key] = y;
    return y;
}

Result<std::pair<fb::Padding, int>> GraphEmitter::spatialPadding(const ir::Node* n, int x, const std::vector<int64_t>& in,
                                                                 std::vector<int64_t> pads, const std::vector<int64_t>& k,
                                                                 const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                                                                 bool maxPool, bool q) {
    std::string autoPad = n->attrString("auto_pad", "NOTSET");
    if (autoPad == "VALID") return std::pair{fb::Padding::VALID, x};
    if (autoPad == "SAME_UPPER") return std::pair{fb::Padding::SAME, x};
    // TFLite's SAME: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0), the smaller half first.
    auto samePads = [&](int dim) -> std::optional<std::pair<int64_t, int64_t>> {
        int64_t size = in.size() == 4 ? in[static_cast<std::size_t>(2 + dim)] : -1;
        int64_t kk = k[static_cast<std::size_t>(dim)], ss = s[static_cast<std::size_t>(dim)], dd = d[static_cast<std::size_t>(dim)];
        if (size < 0) {
            if (ss != 1) return std::nullopt;
            int64_t total = (kk - 1) * dd;
            return std::pair{total / 2, total - total / 2};
        }
        int64_t out = (size + ss - 1) / ss;
        int64_t total = std::max<int64_t>((out - 1) * ss + (kk - 1) * dd + 1 - size, 0);
        return std::pair{total / 2, total - total / 2};
    };
    if (autoPad == "SAME_LOWER") {
        pads.assign(4, 0);
        for (int dim = 0; dim < 2; ++dim) {
            auto sp = samePads(dim);
            if (!sp) return unsupported("SAME_LOWER padding needs the input's spatial size", where(n));
            pads[static_cast<std::size_t>(dim)] = sp->second;
            pads[static_cast<std::size_t>(dim + 2)] = sp->first;
        }
    }
    if (pads.size() != 4) return unsupported("only 2-D padding is supported", where(n));
    if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) return std::pair{fb::Padding::VALID, x};
    auto s0 = samePads(0), s1 = samePads(1);
    if (s0 && s1 && pads[0] == s0->first && pads[2] == s0->second && pads[1] == s1->first && pads[3] == s1->second) {
        // AveragePool's SAME excludes the padding from the average: only with count_include_pad=0.
        if (!isOp(n, "AveragePool") || n->attrInt("count_include_pad", 0) == 0) return std::pair{fb::Padding::SAME, x};
    }
    if (isOp(n, "AveragePool") && n->attrInt("count_include_pad", 0) == 0)
        return unsupported("AveragePool with padding " + std::to_string(pads[0]) + "," + std::to_string(pads[1]) + "," +
                               std::to_string(pads[2]) + "," + std::to_string(pads[3]) +
                               " that is not TFLite's SAME excludes the padding from the average; TFLite cannot express that",
                           where(n));
    for (auto p : pads)
        if (p < 0) return unsupported("negative padding", where(n));
    // Explicit PAD (PADV2 with the lowest value for max pooling) then VALID.
    const auto xt = trec(x);
    std::vector<int64_t> od = xt.dims; // NHWC
    if (od.size() != 4) return unsupported("padding needs a rank-4 input", where(n));
    for (int dim = 0; dim < 2; ++dim) {
        auto& dd = od[static_cast<std::size_t>(1 + dim)];
        if (dd >= 0) dd += pads[static_cast<std::size_t>(dim)] + pads[static_cast<std::size_t>(dim + 2)];
    }
    const std::string nm = n->name.empty() ? xt.name + "_pad" : n->name + "/pad";
    std::vector<int32_t> pv{0, 0, clampI32(pads[0]), clampI32(pads[2]), clampI32(pads[1]), clampI32(pads[3]), 0, 0};
    int pt = constTensor(nm + "_paddings", ir::Tensor::fromVector(nm + "_paddings", DataType::Int32, {4, 2}, pv));
    int out = newTensor(nm, xt.type, od, xt.quant);
    if (maxPool) {
        int cv = -1;
        if (q || xt.type != fb::TensorType::FLOAT32) {
            int8_t lo = -128;
            if (xt.type != fb::TensorType::INT8) return unsupported("max pooling with explicit padding on " + std::string(fb::EnumNameTensorType(xt.type)), where(n));
            cv = constTensor(nm + "_value", ir::Tensor::fromVector(nm + "_value", DataType::Int8, {}, std::vector<int8_t>{lo}), xt.quant);
        } else {
            cv = constF32({std::numeric_limits<float>::lowest()}, {}, nm + "_value");
        }
        addOp(BO::PADV2, {x, pt, cv}, {out}, fb::BuiltinOptions::PadV2Options, [](auto& b) { return fb::CreatePadV2Options(b).Union(); });
    } else {
        addOp(BO::PAD, {x, pt}, {out}, fb::BuiltinOptions::PadOptions, [](auto& b) { return fb::CreatePadOptions(b).Union(); });
    }
    return std::pair{fb::Padding::VALID, out};
}

int32_t opVersion(bool q, int32_t floatVersion, int32_t intVersion) { return q ? intVersion : floatVersion; }

VoidResult GraphEmitter::emitConv(const ir::Node* n, Act act, const ir::Value* out, bool q) {
    const ir::Value* xv = n->input(0);
    const int xr = rank(xv);
    // A 1-D convolution runs as a 2-D one of unit height: its [N,C,W] input is held NWC, and
    // [N,1,W,C] is that tensor with a unit dim (EXPAND_DIMS/SQUEEZE, no data moves).
    if (xr != 4 && xr != 3) return unsupported("only 1-D and 2-D convolutions (rank-3 or rank-4 inputs) have a TFLite equivalent", where(n));
    const bool oneD = xr == 3;
    const ir::Value* wv = n->input(1);
    auto wd = valueDims(wv);
    if (static_cast<int>(wd.size()) != xr || !allKnown(wd)) return unsupported("the weights need a static shape of the input's rank", where(n));
    const int64_t group = n->attrInt("group", 1);
    const int64_t cin = wd[1] * group, cout = wd[0];
    const bool depthwise = group > 1 && group == cin && wd[1] == 1 && cout % cin == 0;
    auto sp = spatialOf(n, oneD ? std::vector<int64_t>{wd[2]} : std::vector<int64_t>{wd[2], wd[3]});
    if (!sp) return unsupported("the kernel, strides, dilations or pads do not match the input's rank", where(n));
    const auto& k = sp->k;
    const auto& s = sp->s;
    const auto& d = sp->d;
    int x = -1;
    if (oneD) {
        EW_TRY_ASSIGN(x, unitHeightInput(n, q));
    } else {
        EW_TRY_ASSIGN(x, dataInput(n, 0, Lay::Cl, q));
    }
    EW_TRY_ASSIGN(auto padx, spatialPadding(n, x, sp->in, sp->pads, k, s, d, false, q));
    // Weights: OIW is OI1W (a reshape of the same bytes), then laid out like 2-D ones.
    const std::vector<int64_t> perm = depthwise ? std::vector<int64_t>{1, 2, 3, 0} : kToNhwc;
    std::pair<int, std::optional<ir::QuantParams>> w;
    if (oneD) {
        const ir::Value* src = wv;
        if (const ir::Node* dq = dqProducer(wv); dq && ir::constantTensorOf(dq->input(0))) src = dq->input(0);
        const ir::Tensor* t = ir::constantTensorOf(src);
        if (!t) return unsupported("the weights '" + wv->name + "' are not constant", where(n));
        ir::Tensor t4 = *t;
        t4.dims = {wd[0], wd[1], 1, wd[2]};
        std::string key = src->name + "#w1d";
        for (auto p : perm) key += "," + std::to_string(p);
        std::optional<ir::QuantParams> wq = isIntStorage(t->dtype) ? quantOf(src) : std::nullopt;
        EW_TRY_ASSIGN(int idx, constOf(nullptr, t4, perm, src->name, key));
        if (wq) {
            if (wq->isPerAxis()) wq->axis = permutedAxis(perm, wq->axis); // axis 0 or 1 keeps its place in OI1W
            sg().tensors[static_cast<std::size_t>(idx)].quant = wq;
        }
        w = {idx, wq};
    } else {
        EW_TRY_ASSIGN(w, weights(n, 1, perm, true, q));
    }
    float inScale = 0.f;
    if (q) {
        auto xq = trec(padx.second).quant;
        if (!xq || !w.second) return unsupported(std::string("quantized convolution without quantization parameters on its ") + (xq ? "weights" : "input"), where(n));
        inScale = xq->scales[0];
    }
    EW_TRY_ASSIGN(int b, bias(n, 2, cout, inScale, w.second, q));
    // TFLite's CONV_2D kernel refuses to prepare without a bias (kernels/conv.cc:
    // TF_LITE_ENSURE(context, has_bias)) and its converter always writes one, so a bias-free Conv
    // gets zeros; DEPTHWISE_CONV_2D too, for the interpreters that follow the converter's layout.
    if (b < 0) b = zeroBias((n->name.empty() ? out->name : n->name) + "/zero_bias", cout, inScale, w.second, q);
    int y = -1;
    if (oneD) {
        auto od = valueDims(out);
        if (od.size() != 3) return unsupported("the output rank is unknown", where(n));
        std::vector<int64_t> d4{od[0], 1, od[2], od[1]};
        auto fn = m_fusedName.find(out);
        y = newTensorFor(out, Lay::Ir, (fn != m_fusedName.end() ? fn->second : out->name) + "_unit_h");
        sg().tensors[static_cast<std::size_t>(y)].dims = d4;
        m_unitH[out] = y;
    } else {
        y = output(out, Lay::Cl);
    }
    std::vector<int32_t> ins{padx.second, w.first, b};
    const auto pad = padx.first;
    const int32_t sw = clampI32(s[1]), sh = clampI32(s[0]), dw = clampI32(d[1]), dh = clampI32(d[0]);
    if (depthwise) {
        const int32_t mult = clampI32(cout / cin);
        addOp(BO::DEPTHWISE_CONV_2D, ins, {y}, fb::BuiltinOptions::DepthwiseConv2DOptions,
              [=](auto& bb) { return fb::CreateDepthwiseConv2DOptions(bb, pad, sw, sh, mult, act, dw, dh).Union(); },
              opVersion(q, dw > 1 || dh > 1 ? 2 : 1, 3));
    } else {
        addOp(BO::CONV_2D, ins, {y}, fb::BuiltinOptions::Conv2DOptions,
              [=](auto& bb) { return fb::CreateConv2DOptions(bb, pad, sw, sh, act, dw, dh).Union(); }, opVersion(q, 1, 3));
    }
    return {};
}

VoidResult GraphEmitter::emitConvTranspose(const ir::Node* n, Act act, const ir::Value* out, bool q) {
    const ir::Value* xv = n->input(0);
    const auto wd = valueDims(n->input(1)); // I, O/g, kh, kw
    const auto od = valueDims(out);
    const auto id = valueDims(xv);
    if (rank(xv) != 4 || wd.size() != 4) return unsupported("only 2-D transposed convolutions have a TFLite equivalent", where(n));
    if (n->attrInt("group", 1) != 1) return unsupported("grouped ConvTranspose has no TFLite equivalent", where(n));
    if (od.size() != 4 || !allKnown(od) || id.size() != 4 || id[2] < 0 || id[3] < 0)
        return unsupported("TRANSPOSE_CONV needs static input and output shapes", where(n));
    auto d = n->attrInts("dilations", {1, 1});
    if (d != std::vector<int64_t>{1, 1}) return unsupported("dilated ConvTranspose has no TFLite equivalent", where(n));
    auto s = n->attrInts("strides", {1, 1});
    auto k = n->attrInts("kernel_shape", {wd[2], wd[3]});
    // TFLite pads from the output size: VALID puts all cropping at the end (and any extra
    // output rows past the full result get only the bias); SAME splits it, the smaller half first.
    auto pads = n->attrInts("pads", {0, 0, 0, 0});
    if (n->attrString("auto_pad", "NOTSET") != "NOTSET") pads.clear();
    fb::Padding pad = fb::Padding::VALID;
    bool same = true, valid = true;
    for (int dim = 0; dim < 2; ++dim) {
        int64_t full = (id[static_cast<std::size_t>(2 + dim)] - 1) * s[static_cast<std::size_t>(dim)] + k[static_cast<std::size_t>(dim)];
        int64_t total = full - od[static_cast<std::size_t>(2 + dim)];
        int64_t before = pads.size() == 4 ? pads[static_cast<std::size_t>(dim)] : (total > 0 ? total / 2 : 0);
        if (before != 0) valid = false;
        if (total < 0 || before != total / 2) same = false;
    }
    if (valid) pad = fb::Padding::VALID;
    else if (same) pad = fb::Padding::SAME;
    else
        return unsupported("ConvTranspose padding that is neither TFLite's SAME nor VALID", where(n));
    EW_TRY_ASSIGN(int x, dataInput(n, 0, Lay::Cl, q));
    EW_TRY_ASSIGN(auto w, weights(n, 1, {1, 2, 3, 0}, false, q));
    float inScale = 0.f;
    if (q) {
        auto xq = trec(x).quant;
        if (!xq || !w.second) return unsupported("quantized ConvTranspose without quantization parameters", where(n));
        inScale = xq->scales[0];
    }
    EW_TRY_ASSIGN(int b, bias(n, 2, wd[1], inScale, w.second, q));
    int shape = constI32(std::vector<int64_t>{od[0], od[2], od[3], od[1]}, out->name + "_output_shape");
    int y = output(out, Lay::Cl);
    std::vector<int32_t> ins{shape, w.first, x};
    if (b >= 0) ins.push_back(b);
    const int32_t sw = clampI32(s[1]), sh = clampI32(s[0]);
    addOp(BO::TRANSPOSE_CONV, ins, {y}, fb::BuiltinOptions::TransposeConvOptions,
          [=](auto& bb) { return fb::CreateTransposeConvOptions(bb, pad, sw, sh, act).Union(); }, opVersion(q, act == Act::NONE ? 1 : 4, 4));
    return {};
}

VoidResult GraphEmitter::emitPool(const ir::Node* n, Act act, const ir::Value* out, bool q) {
    const ir::Value* xv = n->input(0);
    const int xr = rank(xv);
    if (xr != 4 && xr != 3) return unsupported("only 1-D and 2-D pooling has a TFLite equivalent", where(n));
    const bool oneD = xr == 3;
    if (n->outputs().size() > 1 && n->output(1)) return unsupported("MaxPool indices have no TFLite equivalent", where(n));
    auto sp = spatialOf(n, {});
    if (!sp) return unsupported("the kernel, strides, dilations or pads do not match the input's rank", where(n));
    const auto& k = sp->k;
    const auto& s = sp->s;
    const auto& d = sp->d;
    if (d != std::vector<int64_t>{1, 1}) return unsupported("dilated pooling has no TFLite equivalent", where(n));
    if (n->attrInt("ceil_mode", 0) != 0) {
        // Fine when ceil and floor agree for this input size.
        const auto& in = sp->in;
        const auto& pads = sp->pads;
        for (int dim = 0; dim < 2; ++dim) {
            int64_t size = in[static_cast<std::size_t>(2 + dim)] + pads[static_cast<std::size_t>(dim)] + pads[static_cast<std::size_t>(dim + 2)];
            if (in[static_cast<std::size_t>(2 + dim)] < 0 || (size - k[static_cast<std::size_t>(dim)]) % s[static_cast<std::size_t>(dim)] != 0)
                return unsupported("ceil_mode pooling has no TFLite equivalent here", where(n));
        }
    }
    const bool maxPool = isOp(n, "MaxPool");
    int x = -1;
    if (oneD) {
        EW_TRY_ASSIGN(x, unitHeightInput(n, q));
    } else {
        EW_TRY_ASSIGN(x, dataInput(n, 0, Lay::Cl, q));
    }
    EW_TRY_ASSIGN(auto padx, spatialPadding(n, x, sp->in, sp->pads, k, s, d, maxPool, q));
    int y = -1;
    if (oneD) {
        auto od = valueDims(out);
        if (od.size() != 3) return unsupported("the output rank is unknown", where(n));
        auto fn = m_fusedName.find(out);
        y = newTensorFor(out, Lay::Ir, (fn != m_fusedName.end() ? fn->second : out->name) + "_unit_h");
        sg().tensors[static_cast<std::size_t>(y)].dims = {od[0], 1, od[2], od[1]};
        m_unitH[out] = y;
    } else {
        y = output(out, Lay::Cl);
    }
    const auto pad = padx.first;
    const int32_t sw = clampI32(s[1]), sh = clampI32(s[0]), kw = clampI32(k[1]), kh = clampI32(k[0]);
    addOp(maxPool ? BO::MAX_POOL_2D : BO::AVERAGE_POOL_2D, {padx.second}, {y}, fb::BuiltinOptions::Pool2DOptions,
          [=](auto& bb) { return fb::CreatePool2DOptions(bb, pad, sw, sh, kw, kh, act).Union(); }, opVersion(q, 1, 2));
    return {};
}

const ir::Value* GraphEmitter::flattenFoldSource(const ir::Node* r) const {
    if (!(isOp(r, "Flatten") && r->attrInt("axis", 1) == 1) && !isOp(r, "Reshape")) return nullptr;
    const ir::Value* a = r->output(0);
    if (!a || a->uses().size() != 1 || a->isGraphOutput() || a->uses()[0].inputIndex != 0) return nullptr;
    const ir::Node* mm = a->uses()[0].node;
    if (mm->graph() != &m_g) return nullptr;
    const ir::Tensor* w = ir::constantTensorOf(mm->input(1));
    if (!w || w->dims.size() != 2 || !ir::isFloatingPoint(w->dtype)) return nullptr;
    int64_t k = -1;
    if (isOp(mm, "Gemm") && mm->attrInt("transA", 0) == 0) k = mm->attrInt("transB", 0) ? w->dims[1] : w->dims[0];
    else if (isOp(mm, "MatMul")) k = w->dims[0];
    else
        return nullptr;
    const ir::Value* src = r->input(0);
    const auto sd = valueDims(src);
    const auto ad = valueDims(a);
    if (sd.size() != 4 || ad.size() != 2 || !has(src, Lay::Cl) || has(src, Lay::Ir)) return nullptr;
    if (sd[1] < 0 || sd[2] < 0 || sd[3] < 0 || sd[1] * sd[2] * sd[3] != k || ad[1] != k) return nullptr;
    if (permIsReshape(permuteDims(sd, kToNhwc), {0, 3, 1, 2})) return nullptr; // a RESHAPE does, no transpose saved
    return src;
}

/// Column permutation for weights that read a flattened channels-last [C,H,W] block: index j of
/// the NHWC flattening takes the NCHW column returned.
std::vector<int64_t> nhwcFlattenOrder(int64_t c, int64_t h, int64_t w) {
    std::vector<int64_t> order;
    order.reserve(static_cast<std::size_t>(c * h * w));
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (int64_t ch = 0; ch < c; ++ch) order.push_back(ch * h * w + y * w + x);
    return order;
}

/// Rows (axis 0) or columns (axis 1) of a 2-D tensor gathered in `order`.
ir::Tensor gather2d(const ir::Tensor& t, int axis, const std::vector<int64_t>& order, const std::string& name) {
    const std::size_t esz = static_cast<std::size_t>(ir::dataTypeBits(t.dtype) / 8);
    const int64_t rows = t.dims[0], cols = t.dims[1];
    std::vector<std::byte> out(t.bytes().size());
    const std::byte* src = t.bytes().data();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            int64_t sr = axis == 0 ? order[static_cast<std::size_t>(r)] : r;
            int64_t sc = axis == 1 ? order[static_cast<std::size_t>(c)] : c;
            std::memcpy(out.data() + static_cast<std::size_t>(r * cols + c) * esz, src + static_cast<std::size_t>(sr * cols + sc) * esz, esz);
        }
    return ir::Tensor::fromVector(name, t.dtype, t.dims, std::move(out));
}

/// The importer's FULLY_CONNECTED flattening: Reshape(x, [-1, K]) read only by this Gemm.
const ir::Node* fcFlatten(const ir::Node* gemm, const ir::Graph& g) {
    const ir::Value* a = gemm->input(0);
    const ir::Node* r = a ? a->producer() : nullptr;
    if (!isOp(r, "Reshape") || r->graph() != &g || a->uses().size() != 1 || a->isGraphOutput()) return nullptr;
    const ir::Tensor* s = ir::constantTensorOf(r->input(1));
    if (!s || s->numElements() != 2 || s->valueAsInt(0) != -1) return nullptr;
    const auto wd = valueDims(gemm->input(1));
    if (wd.size() != 2 || gemm->attrInt("transB", 0) == 0 || s->valueAsInt(1) != wd[1]) return nullptr;
    // Ours (the importer names it "<gemm>/flatten"), or a float flatten of dequantized data that
    // would otherwise keep the matmul out of integer arithmetic; a model's own RESHAPE stays.
    const ir::Node* dq = r->input(0) ? r->input(0)->producer() : nullptr;
    if (r->name != gemm->name + "/flatten" && !isOp(dq, "DequantizeLinear")) return nullptr;
    return r;
}

VoidResult GraphEmitter::emitGemm(const ir::Node* n, Act act, const ir::Value* out, bool q) {
    if (n->attrInt("transA", 0) != 0) return unsupported("Gemm with transA=1 has no TFLite equivalent", where(n));
    const bool transB = n->attrInt("transB", 0) != 0;
    const float alpha = n->attrFloat("alpha", 1.f), beta = n->attrFloat("beta", 1.f);
    const ir::Value* bv = n->input(1);
    const ir::Value* bsrc = bv;
    if (const ir::Node* dq = dqProducer(bv); dq && ir::constantTensorOf(dq->input(0))) bsrc = dq->input(0);
    const ir::Tensor* bt = ir::constantTensorOf(bsrc);
    const auto bd = valueDims(bv);
    if (bd.size() != 2) return unsupported("FULLY_CONNECTED needs 2-D weights", where(n));
    const int64_t N = transB ? bd[0] : bd[1], K = transB ? bd[1] : bd[0];
    if ((alpha != 1.f || !transB) && !bt) return unsupported("Gemm with non-constant weights needs transB=1 and alpha=1", where(n));
    if (alpha != 1.f && (q || bsrc != bv)) return unsupported("quantized Gemm with alpha != 1", where(n));
    // The input: FULLY_CONNECTED flattens to [-1, K] itself.
    const ir::Value* folded = this->folded(n);
    int x = -1;
    if (folded) {
        EW_TRY_ASSIGN(x, tensor(folded, Lay::Cl, where(n)));
    } else if (const ir::Node* r = fcFlatten(n, m_g)) {
        const ir::Value* src = r->input(0);
        if (q && dqProducer(src)) src = dqProducer(src)->input(0);
        EW_TRY_ASSIGN(x, tensor(src, Lay::Ir, where(n)));
    } else {
        EW_TRY_ASSIGN(x, dataInput(n, 0, Lay::Ir, q));
    }
    int w = -1;
    std::optional<ir::QuantParams> wq;
    if (!bt) {
        EW_TRY_ASSIGN(w, dataInput(n, 1, Lay::Ir, q));
        wq = trec(w).quant;
    } else if (!folded && transB && alpha == 1.f) {
        EW_TRY_ASSIGN(auto ww, weights(n, 1, {}, true, q));
        w = ww.first, wq = ww.second;
    } else if (!folded && alpha == 1.f) {
        EW_TRY_ASSIGN(auto ww, weights(n, 1, {1, 0}, true, q));
        w = ww.first, wq = ww.second;
    } else {
        ir::Tensor t = *bt;
        if (!transB) {
            auto bytes = permuteBytes(t.bytes().data(), t.dims, {1, 0}, static_cast<std::size_t>(ir::dataTypeBits(t.dtype) / 8));
            t = ir::Tensor::fromVector(bsrc->name, t.dtype, {N, K}, std::move(bytes));
        }
        if (folded) {
            const auto sd = valueDims(folded);
            t = gather2d(t, 1, nhwcFlattenOrder(sd[1], sd[2], sd[3]), bsrc->name);
        }
        if (alpha != 1.f) {
            auto f = t.toFloat();
            for (auto& v : f) v *= alpha;
            t = ir::Tensor::fromVector(bsrc->name, DataType::Float, {N, K}, std::move(f));
        }
        auto qq = isIntStorage(t.dtype) ? quantOf(bsrc) : std::nullopt;
        if (qq && qq->isPerAxis()) qq->axis = transB ? qq->axis : 1 - qq->axis;
        w = constTensor(bsrc->name, std::move(t), qq);
        wq = qq;
    }
    float inScale = 0.f;
    if (q) {
        auto xq = trec(x).quant;
        if (!xq || !wq) return unsupported("quantized Gemm without quantization parameters on its input or weights", where(n));
        inScale = xq->scales[0];
    }
    int b = -1;
    if (const ir::Value* cv = n->input(2)) {
        if (ir::constantTensorOf(cv) || (q && dqProducer(cv) && ir::constantTensorOf(dqProducer(cv)->input(0)))) {
            EW_TRY_ASSIGN(b, bias(n, 2, N, inScale, wq, q, beta));
        } else if (beta == 1.f && valueDims(cv) == std::vector<int64_t>{N}) {
            EW_TRY_ASSIGN(b, dataInput(n, 2, Lay::Ir, q));
        } else {
            return unsupported("a non-constant Gemm bias that is not a vector of N values", where(n));
        }
    }
    int y = output(out, Lay::Ir);
    std::vector<int32_t> ins{x, w};
    if (b >= 0) ins.push_back(b);
    addOp(BO::FULLY_CONNECTED, ins, {y}, fb::BuiltinOptions::FullyConnectedOptions,
          [=](auto& bb) { return fb::CreateFullyConnectedOptions(bb, act).Union(); }, opVersion(q, 1, 4));
    return {};
}

VoidResult GraphEmitter::emitMatMul(const ir::Node* n, const ir::Value* out, bool q) {
    const ir::Value* bv = n->input(1);
    const ir::Tensor* bt = ir::constantTensorOf(bv);
    int x = -1, w = -1;
    const ir::Value* folded = this->folded(n);
    if (folded) {
        EW_TRY_ASSIGN(x, tensor(folded, Lay::Cl, where(n)));
        // The flattened channels-last input as [N, K]: rows of B in NHWC order.
        const auto sd = valueDims(folded);
        w = constTensor(bv->name, gather2d(*bt, 0, nhwcFlattenOrder(sd[1], sd[2], sd[3]), bv->name));
        // BATCH_MATMUL wants the rank-2 view: reshape the NHWC block (memory order unchanged).
        const auto xt = trec(x);
        std::vector<int64_t> d2{xt.dims[0], bt->dims[0]};
        int r = newTensor(n->input(0)->name + "_nhwc", xt.type, d2, xt.quant);
        int s = constI32(d2, n->input(0)->name + "_nhwc_shape");
        addOp(BO::RESHAPE, {x, s}, {r}, fb::BuiltinOptions::ReshapeOptions, [d2](auto& bb) {
            std::vector<int32_t> ns;
            for (auto v : d2) ns.push_back(clampI32(v));
            return fb::CreateReshapeOptions(bb, bb.CreateVector(ns)).Union();
        });
        x = r;
    } else {
        EW_TRY_ASSIGN(x, dataInput(n, 0, Lay::Ir, q));
        EW_TRY_ASSIGN(w, dataInput(n, 1, Lay::Ir, q));
    }
    int y = output(out, Lay::Ir);
    addOp(BO::BATCH_MATMUL, {x, w}, {y}, fb::BuiltinOptions::BatchMatMulOptions,
          [](auto& bb) { return fb::CreateBatchMatMulOptions(bb).Union(); }, opVersion(q, 1, 4));
    return {};
}

VoidResult GraphEmitter::emitBinary(const ir::Node* n, Act act, const ir::Value* out, bool q) {
    static const std::map<std::string, BO, std::less<>> kOps{
        {"Add", BO::ADD}, {"Sub", BO::SUB}, {"Mul", BO::MUL}, {"Div", BO::DIV}, {"Max", BO::MAXIMUM}, {"Min", BO::MINIMUM},
        {"Pow", BO::POW}, {"Less", BO::LESS}, {"LessOrEqual", BO::LESS_EQUAL}, {"Greater", BO::GREATER},
        {"GreaterOrEqual", BO::GREATER_EQUAL}, {"Equal", BO::EQUAL}, {"And", BO::LOGICAL_AND}, {"Or", BO::LOGICAL_OR},
        {"PRelu", BO::PRELU}};
    const BO code = kOps.at(n->opType);
    if (n->inputs().size() != 2 || !n->input(0) || !n->input(1))
        return unsupported(n->opType + " with " + std::to_string(n->inputs().size()) + " inputs (TFLite's takes 2)", where(n));
    const int orank = rank(out);
    Lay L = Lay::Ir;
    if (clRank(orank))
        for (const ir::Value* v : n->inputs())
            if (!ir::constantTensorOf(v) && rank(v) == orank && available(q && dqProducer(v) ? dqProducer(v)->input(0) : v) == Lay::Cl) L = Lay::Cl;
    std::vector<int32_t> ins;
    for (std::size_t i = 0; i < 2; ++i) {
        const ir::Value* v = n->input(i);
        if (q && dqProducer(v)) v = dqProducer(v)->input(0);
        EW_TRY_ASSIGN(int t, broadcastOperand(v, L, orank, where(n)));
        ins.push_back(t);
    }
    int y = output(out, L);
    switch (code) {
    case BO::ADD: addOp(code, ins, {y}, fb::BuiltinOptions::AddOptions, [=](auto& b) { return fb::CreateAddOptions(b, act).Union(); }, opVersion(q, 1, 2)); break;
    case BO::SUB: addOp(code, ins, {y}, fb::BuiltinOptions::SubOptions, [=](auto& b) { return fb::CreateSubOptions(b, act).Union(); }, opVersion(q, 1, 2)); break;
    case BO::MUL: addOp(code, ins, {y}, fb::BuiltinOptions::MulOptions, [=](auto& b) { return fb::CreateMulOptions(b, act).Union(); }, opVersion(q, 1, 2)); break;
    case BO::DIV: addOp(code, ins, {y}, fb::BuiltinOptions::DivOptions, [=](auto& b) { return fb::CreateDivOptions(b, act).Union(); }, 1); break;
    default:
        if (act != Act::NONE) return invalid("internal: activation fused into " + n->opType, where(n));
        addOp(code, ins, {y}, fb::BuiltinOptions::NONE, {}, opVersion(q, 1, 2));
        break;
    }
    return {};
}

/// Values a subgraph reads from enclosing graphs, in first-use order (TFLite subgraphs see
/// nothing of their caller: these become inputs).
void freeValues(const ir::Graph& g, const ir::Graph& root, std::vector<const ir::Value*>& out, std::unordered_set<const ir::Value*>& seen) {
    auto inside = [&](const ir::Graph* vg) {
        for (const ir::Graph* p = vg; p; p = p->parent())
            if (p == &root) return true;
        return false;
    };
    auto visit = [&](const ir::Value* v) {
        if (v && !inside(v->graph()) && seen.insert(v).second) out.push_back(v);
    };
    for (const auto& n : g.nodes()) {
        for (const ir::Value* v : n->inputs()) visit(v);
        for (const ir::Graph* sub : n->subgraphs()) freeValues(*sub, root, out, seen);
    }
    for (const ir::Value* v : g.outputs) visit(v);
}

/// Emits `g` as a new subgraph whose inputs are its graph inputs followed by `captured`.
Result<int> emitSubgraph(ModelRec& m, const ir::Graph& g, const std::vector<const ir::Value*>& captured) {
    m.subgraphs.emplace_back();
    const std::size_t idx = m.subgraphs.size() - 1;
    m.subgraphs[idx].name = g.name;
    GraphEmitter e(m, idx, g);
    for (const ir::Value* v : captured) {
        // The branch's own name for it: an Identity reading it (how our importer binds inputs).
        std::string name = v->name;
        for (const auto& n : g.nodes())
            if (isOp(n.get(), "Identity") && n->input(0) == v && n->output(0)) {
                name = n->output(0)->name;
                break;
            }
        e.capture(v, name);
    }
    EW_TRY(e.emit(false));
    return static_cast<int>(idx);
}

VoidResult GraphEmitter::emitIf(const ir::Node* n) {
    const ir::Attribute* th = n->attr("then_branch");
    const ir::Attribute* el = n->attr("else_branch");
    if (!th || !el || !th->g || !el->g) return invalid("If without both branches", where(n));
    std::vector<const ir::Value*> captured;
    std::unordered_set<const ir::Value*> seen;
    freeValues(*th->g, *th->g, captured, seen);
    freeValues(*el->g, *el->g, captured, seen);
    EW_TRY_ASSIGN(int cond, tensor(n->input(0), Lay::Ir, where(n)));
    std::vector<int32_t> ins{cond};
    for (const ir::Value* v : captured) {
        EW_TRY_ASSIGN(int t, tensor(v, Lay::Ir, where(n)));
        ins.push_back(t);
    }
    EW_TRY_ASSIGN(int ti, emitSubgraph(m_m, *th->g, captured));
    EW_TRY_ASSIGN(int ei, emitSubgraph(m_m, *el->g, captured));
    std::vector<int32_t> outs;
    for (const ir::Value* v : n->outputs()) outs.push_back(v ? output(v, Lay::Ir) : -1);
    addOp(BO::IF, ins, outs, fb::BuiltinOptions::IfOptions, [=](auto& b) { return fb::CreateIfOptions(b, ti, ei).Union(); });
    return {};
}

/// ONNX LSTM, unrolled over its (static) time steps into FULLY_CONNECTED and elementwise
/// operators. TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM does not output the final cell state (Y_c),
/// which models that carry their state between calls (silero-vad) return; the unrolled form is
/// exact and gives Y, Y_h and Y_c. Per step t, with ONNX's gate order i, o, f, c kept:
///   g = FC(x_t, W, Wb + Rb) [+ FC(h, R)];  i, o, f, c~ = SPLIT(g)  (+ peepholes)
///   c = sigmoid(f) * c + sigmoid(i) * tanh(c~);  h = sigmoid(o) * tanh(c)
/// A zero (or absent) initial state skips the products with it.
VoidResult GraphEmitter::emitLstm(const ir::Node* n) {
    const std::string W = where(n);
    if (n->attrString("direction", "forward") != "forward") return unsupported("only forward LSTMs are exported", W);
    if (n->hasAttr("clip")) return unsupported("LSTM with clip has no exact TFLite form here", W);
    if (n->attrInt("input_forget", 0) != 0) return unsupported("LSTM with input_forget is not exported", W);
    if (const ir::Attribute* a = n->attr("activations"); a && a->strings != std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"})
        return unsupported("LSTM with activations other than Sigmoid, Tanh, Tanh", W);
    const int64_t layout = n->attrInt("layout", 0);
    const int64_t H = n->attrInt("hidden_size", 0);
    const ir::Value* xv = n->input(0);
    const auto xd = valueDims(xv);
    if (xd.size() != 3 || (layout != 0 && layout != 1)) return unsupported("LSTM input of unknown rank or layout", W);
    const int64_t T = xd[layout == 0 ? 0 : 1], B = xd[layout == 0 ? 1 : 0], I = xd[2];
    if (T < 1 || I < 1) return unsupported("the LSTM's sequence length and input size must be static to unroll it", W);
    if (T > 4096) return unsupported("the LSTM's sequence (" + std::to_string(T) + " steps) is too long to unroll", W);
    const ir::Tensor* Wt = ir::constantTensorOf(n->input(1));
    const ir::Tensor* Rt = ir::constantTensorOf(n->input(2));
    const ir::Tensor* Bt = n->input(3) ? ir::constantTensorOf(n->input(3)) : nullptr;
    const ir::Tensor* Pt = n->input(7) ? ir::constantTensorOf(n->input(7)) : nullptr;
    if (!Wt || !Rt || (n->input(3) && !Bt) || (n->input(7) && !Pt)) return unsupported("LSTM weights, bias and peepholes must be constant", W);
    if (H < 1 || Wt->dims != std::vector<int64_t>{1, 4 * H, I} || Rt->dims != std::vector<int64_t>{1, 4 * H, H} ||
        (Bt && Bt->dims != std::vector<int64_t>{1, 8 * H}) || (Pt && Pt->dims != std::vector<int64_t>{1, 3 * H}))
        return invalid("LSTM weight shapes do not match hidden_size " + std::to_string(H) + " and input size " + std::to_string(I), W);
    if (const ir::Value* sl = n->input(4)) {
        const ir::Tensor* st = ir::constantTensorOf(sl);
        if (!st) return unsupported("LSTM with non-constant sequence_lens", W);
        for (int64_t v : st->toInt64())
            if (v != T) return unsupported("LSTM with sequence_lens shorter than the sequence", W);
    }
    const std::string base = n->name.empty() ? n->output(0)->name : n->name;
    auto f32 = fb::TensorType::FLOAT32;
    int wC = constF32(Wt->toFloat(), {4 * H, I}, base + "/W");
    int rC = constF32(Rt->toFloat(), {4 * H, H}, base + "/R");
    std::vector<float> bias(static_cast<std::size_t>(4 * H), 0.f);
    if (Bt) {
        auto b = Bt->toFloat();
        for (int64_t k = 0; k < 4 * H; ++k) bias[static_cast<std::size_t>(k)] = b[static_cast<std::size_t>(k)] + b[static_cast<std::size_t>(4 * H + k)];
    }
    int bC = constF32(std::move(bias), {4 * H}, base + "/B");
    int pC[3] = {-1, -1, -1}; // i, o, f
    if (Pt) {
        auto p = Pt->toFloat();
        for (int g = 0; g < 3; ++g)
            pC[g] = constF32(std::vector<float>(p.begin() + g * H, p.begin() + (g + 1) * H), {H}, base + "/P" + std::to_string(g));
    }
    // Initial states [1,B,H] -> [B,H]; zero constants count as absent.
    auto state = [&](std::size_t i, const char* nm) -> Result<int> {
        const ir::Value* v = n->input(i);
        if (!v) return -1;
        if (const ir::Tensor* t = ir::constantTensorOf(v)) {
            auto f = t->toFloat();
            if (std::all_of(f.begin(), f.end(), [](float x) { return x == 0.f; })) return -1;
        }
        EW_TRY_ASSIGN(int x, tensor(v, Lay::Ir, W));
        int y = newTensor(base + "/" + nm + "0", f32, {B, H});
        addOp(BO::SQUEEZE, {x}, {y}, fb::BuiltinOptions::SqueezeOptions,
              [](auto& b) { return fb::CreateSqueezeOptions(b, b.CreateVector(std::vector<int32_t>{0})).Union(); });
        return y;
    };
    EW_TRY_ASSIGN(int h, state(5, "h"));
    EW_TRY_ASSIGN(int c, state(6, "c"));
    EW_TRY_ASSIGN(int x, tensor(xv, Lay::Ir, W));
    auto binary = [&](BO code, int a, int b, const std::string& nm) {
        int y = newTensor(nm, f32, {B, H});
        if (code == BO::ADD) addOp(code, {a, b}, {y}, fb::BuiltinOptions::AddOptions, [](auto& bb) { return fb::CreateAddOptions(bb).Union(); });
        else
            addOp(code, {a, b}, {y}, fb::BuiltinOptions::MulOptions, [](auto& bb) { return fb::CreateMulOptions(bb).Union(); });
        return y;
    };
    auto unary = [&](BO code, int a, const std::string& nm) {
        int y = newTensor(nm, f32, {B, H});
        addOp(code, {a}, {y});
        return y;
    };
    int splitAxis = constI32(std::vector<int32_t>{1}, base + "/split_axis", true);
    std::vector<int> hs;
    for (int64_t t = 0; t < T; ++t) {
        const std::string sb = base + "/t" + std::to_string(t);
        int idx = constI32(std::vector<int32_t>{static_cast<int32_t>(t)}, sb + "/index", true);
        int xt = newTensor(sb + "/x", f32, {B, I});
        const int32_t gAxis = layout == 0 ? 0 : 1;
        addOp(BO::GATHER, {x, idx}, {xt}, fb::BuiltinOptions::GatherOptions, [=](auto& b) { return fb::CreateGatherOptions(b, gAxis).Union(); });
        int g = newTensor(sb + "/gates_x", f32, {B, 4 * H});
        addOp(BO::FULLY_CONNECTED, {xt, wC, bC}, {g}, fb::BuiltinOptions::FullyConnectedOptions,
              [](auto& b) { return fb::CreateFullyConnectedOptions(b).Union(); });
        if (h >= 0) {
            int gh = newTensor(sb + "/gates_h", f32, {B, 4 * H});
            addOp(BO::FULLY_CONNECTED, {h, rC}, {gh}, fb::BuiltinOptions::FullyConnectedOptions,
                  [](auto& b) { return fb::CreateFullyConnectedOptions(b).Union(); });
            int sum = newTensor(sb + "/gates", f32, {B, 4 * H});
            addOp(BO::ADD, {g, gh}, {sum}, fb::BuiltinOptions::AddOptions, [](auto& b) { return fb::CreateAddOptions(b).Union(); });
            g = sum;
        }
        int gi = newTensor(sb + "/i_pre", f32, {B, H}), go = newTensor(sb + "/o_pre", f32, {B, H});
        int gf = newTensor(sb + "/f_pre", f32, {B, H}), gc = newTensor(sb + "/c_pre", f32, {B, H});
        addOp(BO::SPLIT, {splitAxis, g}, {gi, go, gf, gc}, fb::BuiltinOptions::SplitOptions,
              [](auto& b) { return fb::CreateSplitOptions(b, 4).Union(); });
        if (pC[0] >= 0 && c >= 0) {
            gi = binary(BO::ADD, gi, binary(BO::MUL, c, pC[0], sb + "/i_peep"), sb + "/i_pre_p");
            gf = binary(BO::ADD, gf, binary(BO::MUL, c, pC[2], sb + "/f_peep"), sb + "/f_pre_p");
        }
        int ig = unary(BO::LOGISTIC, gi, sb + "/i");
        int cg = unary(BO::TANH, gc, sb + "/c_cand");
        int cn = binary(BO::MUL, ig, cg, sb + "/ic");
        if (c >= 0) {
            int fg = unary(BO::LOGISTIC, gf, sb + "/f");
            cn = binary(BO::ADD, binary(BO::MUL, fg, c, sb + "/fc"), cn, sb + "/c");
        }
        if (pC[1] >= 0) go = binary(BO::ADD, go, binary(BO::MUL, cn, pC[1], sb + "/o_peep"), sb + "/o_pre_p");
        int og = unary(BO::LOGISTIC, go, sb + "/o");
        h = binary(BO::MUL, og, unary(BO::TANH, cn, sb + "/c_tanh"), sb + "/h");
        c = cn;
        hs.push_back(h);
    }
    auto needed = [](const ir::Value* v) { return v && (!v->uses().empty() || v->isGraphOutput()); };
    auto expand = [&](int src, int32_t axis, const ir::Value* v, std::vector<int64_t> dims) {
        int y = v ? output(v, Lay::Ir) : newTensor(trec(src).name + "_x", f32, std::move(dims));
        int a = constI32(std::vector<int32_t>{axis}, trec(y).name + "_axis");
        addOp(BO::EXPAND_DIMS, {src, a}, {y}, fb::BuiltinOptions::ExpandDimsOptions, [](auto& b) { return fb::CreateExpandDimsOptions(b).Union(); });
        return y;
    };
    if (needed(n->output(0))) {
        // Y: [T,1,B,H] (layout 0) or [B,T,1,H] (layout 1).
        const int32_t seqAxis = layout == 0 ? 0 : 1;
        int seq = -1;
        if (T == 1) {
            seq = expand(hs[0], seqAxis, nullptr, layout == 0 ? std::vector<int64_t>{1, B, H} : std::vector<int64_t>{B, 1, H});
        } else {
            std::vector<int32_t> parts;
            for (int64_t t = 0; t < T; ++t)
                parts.push_back(expand(hs[static_cast<std::size_t>(t)], seqAxis, nullptr,
                                       layout == 0 ? std::vector<int64_t>{1, B, H} : std::vector<int64_t>{B, 1, H}));
            seq = newTensor(base + "/Y_seq", f32, layout == 0 ? std::vector<int64_t>{T, B, H} : std::vector<int64_t>{B, T, H});
            addOp(BO::CONCATENATION, parts, {seq}, fb::BuiltinOptions::ConcatenationOptions,
                  [=](auto& b) { return fb::CreateConcatenationOptions(b, seqAxis).Union(); });
        }
        expand(seq, layout == 0 ? 1 : 2, n->output(0), {});
    }
    if (needed(n->output(1))) expand(h, layout == 0 ? 0 : 1, n->output(1), {});
    if (needed(n->output(2))) expand(c, layout == 0 ? 0 : 1, n->output(2), {});
    return {};
}

// ---- ai.edgewise.tflite nodes: back to their operator, options from the attributes.

Result<OptFn> optionsFromAttributes(const ir::Node* n, const flatbuffers::TypeTable* tt, const std::map<std::string, int32_t>& overrides,
                                    const std::string& where) {
    // Validate enum names now; the builder lambda cannot fail.
    for (std::size_t i = 0; i < tt->num_elems; ++i) {
        const auto tc = tt->type_codes[i];
        const ir::Attribute* a = n->attr(tt->names[i]);
        const flatbuffers::TypeTable* ref = tc.sequence_ref >= 0 && tt->type_refs ? tt->type_refs[tc.sequence_ref]() : nullptr;
        if (a && a->type == ir::AttrType::String && ref && ref->st == flatbuffers::ST_ENUM && !tc.is_repeating) {
            bool found = false;
            for (std::size_t k = 0; k < ref->num_elems && !found; ++k) found = a->s == ref->names[k];
            if (!found) return invalid("attribute " + a->name + " = '" + a->s + "' is not a value of its enum", where);
        }
    }
    return OptFn([n, tt, overrides](flatbuffers::FlatBufferBuilder& b) -> flatbuffers::Offset<void> {
        std::vector<std::pair<flatbuffers::voffset_t, flatbuffers::uoffset_t>> offs;
        for (std::size_t i = 0; i < tt->num_elems; ++i) {
            const auto tc = tt->type_codes[i];
            const ir::Attribute* a = n->attr(tt->names[i]);
            if (!a) continue;
            const auto voff = static_cast<flatbuffers::voffset_t>(flatbuffers::FieldIndexToOffset(static_cast<flatbuffers::voffset_t>(i)));
            auto et = static_cast<flatbuffers::ElementaryType>(tc.base_type);
            if (tc.is_repeating) {
                switch (et) {
                case flatbuffers::ET_BOOL:
                case flatbuffers::ET_UCHAR: { std::vector<uint8_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_CHAR: { std::vector<int8_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_SHORT: { std::vector<int16_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_USHORT: { std::vector<uint16_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_INT: { std::vector<int32_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_UINT: { std::vector<uint32_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_LONG: { std::vector<int64_t> v(a->ints.begin(), a->ints.end()); offs.emplace_back(voff, b.CreateVector(v).o); break; }
                case flatbuffers::ET_FLOAT: offs.emplace_back(voff, b.CreateVector(a->floats).o); break;
                default: break;
                }
            } else if (et == flatbuffers::ET_STRING && a->type == ir::AttrType::String) {
                offs.emplace_back(voff, b.CreateString(a->s).o);
            }
        }
        const bool force = true;
        b.ForceDefaults(force); // present attributes were present fields: keep them present
        const auto start = b.StartTable();
        for (std::size_t i = 0; i < tt->num_elems; ++i) {
            const auto tc = tt->type_codes[i];
            if (tc.is_repeating) continue;
            const auto voff = static_cast<flatbuffers::voffset_t>(flatbuffers::FieldIndexToOffset(static_cast<flatbuffers::voffset_t>(i)));
            const ir::Attribute* a = n->attr(tt->names[i]);
            int64_t iv = 0;
            double fv = 0;
            if (auto it = overrides.find(tt->names[i]); it != overrides.end()) iv = it->second;
            else if (!a) continue;
            else if (a->type == ir::AttrType::Int) iv = a->i;
            else if (a->type == ir::AttrType::Float) fv = a->f;
            else if (a->type == ir::AttrType::String) {
                const flatbuffers::TypeTable* ref = tc.sequence_ref >= 0 && tt->type_refs ? tt->type_refs[tc.sequence_ref]() : nullptr;
                if (!ref) continue;
                for (std::size_t k = 0; k < ref->num_elems; ++k)
                    if (a->s == ref->names[k]) iv = ref->values ? ref->values[k] : static_cast<int64_t>(k);
            } else
                continue;
            switch (static_cast<flatbuffers::ElementaryType>(tc.base_type)) {
            case flatbuffers::ET_BOOL:
            case flatbuffers::ET_UTYPE:
            case flatbuffers::ET_UCHAR: b.AddElement<uint8_t>(voff, static_cast<uint8_t>(iv), 0); break;
            case flatbuffers::ET_CHAR: b.AddElement<int8_t>(voff, static_cast<int8_t>(iv), 0); break;
            case flatbuffers::ET_SHORT: b.AddElement<int16_t>(voff, static_cast<int16_t>(iv), 0); break;
            case flatbuffers::ET_USHORT: b.AddElement<uint16_t>(voff, static_cast<uint16_t>(iv), 0); break;
            case flatbuffers::ET_INT: b.AddElement<int32_t>(voff, static_cast<int32_t>(iv), 0); break;
            case flatbuffers::ET_UINT: b.AddElement<uint32_t>(voff, static_cast<uint32_t>(iv), 0); break;
            case flatbuffers::ET_LONG: b.AddElement<int64_t>(voff, iv, 0); break;
            case flatbuffers::ET_ULONG: b.AddElement<uint64_t>(voff, static_cast<uint64_t>(iv), 0); break;
            case flatbuffers::ET_FLOAT: b.AddElement<float>(voff, static_cast<float>(fv), 0.f); break;
            case flatbuffers::ET_DOUBLE: b.AddElement<double>(voff, fv, 0.0); break;
            default: break;
            }
        }
        for (auto [voff, o] : offs) b.AddOffset(voff, flatbuffers::Offset<void>(o));
        const auto end = b.EndTable(start);
        b.ForceDefaults(false);
        return flatbuffers::Offset<void>(end);
    });
}

VoidResult GraphEmitter::emitGeneric(const ir::Node* n) {
    int32_t code = static_cast<int32_t>(BO::CUSTOM);
    std::string custom;
    for (int32_t c = static_cast<int32_t>(BO::MIN); c <= static_cast<int32_t>(BO::MAX); ++c)
        if (const char* nm = builtinOperatorName(c); nm && n->opType == nm) code = c;
    if (n->opType.rfind("BUILTIN_", 0) == 0) {
        try {
            code = std::stoi(n->opType.substr(8));
        } catch (...) {
            return invalid("unknown builtin operator " + n->opType, where(n));
        }
    }
    if (code == static_cast<int32_t>(BO::CUSTOM) && n->opType != "CUSTOM") custom = n->opType;
    OpRec o;
    o.opcode = m_m.opcode(code, static_cast<int32_t>(n->attrInt("tflite_version", 1)), custom);
    for (const ir::Value* v : n->inputs()) {
        if (!v) {
            o.ins.push_back(-1);
            continue;
        }
        EW_TRY_ASSIGN(int t, tensor(v, Lay::Ir, where(n)));
        o.ins.push_back(t);
    }
    // Subgraphs of WHILE / IF / CALL_ONCE / CALL: emitted now, their indices go into the options.
    std::map<std::string, int32_t> overrides;
    static const std::pair<const char*, const char*> kGraphFields[] = {{"cond", "cond_subgraph_index"},
                                                                       {"body", "body_subgraph_index"},
                                                                       {"init", "init_subgraph_index"},
                                                                       {"subgraph", "subgraph"},
                                                                       {"then_branch", "then_subgraph_index"},
                                                                       {"else_branch", "else_subgraph_index"}};
    for (auto [attr, field] : kGraphFields) {
        const ir::Attribute* a = n->attr(attr);
        if (!a || !a->g) continue;
        std::vector<const ir::Value*> captured;
        std::unordered_set<const ir::Value*> seen;
        freeValues(*a->g, *a->g, captured, seen);
        if (!captured.empty()) return unsupported(std::string("the ") + attr + " subgraph reads values of the enclosing graph", where(n));
        EW_TRY_ASSIGN(int idx, emitSubgraph(m_m, *a->g, {}));
        overrides[field] = idx;
    }
    const std::string ot = n->attrString("builtin_options_type");
    if (!ot.empty()) {
        const auto* utt = fb::BuiltinOptionsTypeTable();
        std::size_t u = utt->num_elems;
        for (std::size_t i = 0; i < utt->num_elems; ++i)
            if (ot == utt->names[i]) u = i;
        if (u == utt->num_elems || utt->type_codes[u].sequence_ref < 0)
            return invalid("builtin_options_type '" + ot + "' is not a TFLite options table", where(n));
        o.optType = static_cast<fb::BuiltinOptions>(utt->values ? utt->values[u] : static_cast<int64_t>(u));
        EW_TRY_ASSIGN(o.opts, optionsFromAttributes(n, utt->type_refs[utt->type_codes[u].sequence_ref](), overrides, where(n)));
    }
    if (const ir::Attribute* a = n->attr("custom_options"); a && a->type == ir::AttrType::Tensor) o.custom = a->t;
    if (const ir::Attribute* a = n->attr("intermediates"); a && a->type == ir::AttrType::Strings) {
        // The importer keeps only their names; they come back as tensors of unknown rank.
        for (const auto& nm : a->strings) {
            TensorRec t;
            t.name = nm;
            t.hasRank = false;
            o.intermediates.push_back(addTensor(std::move(t)));
        }
    }
    for (const ir::Value* v : n->outputs()) o.outs.push_back(v ? output(v, Lay::Ir) : -1);
    sg().ops.push_back(std::move(o));
    return {};
}

VoidResult GraphEmitter::emitNode(const ir::Node* n) {
    const std::string W = where(n);
    const std::string dom(ir::canonicalDomain(n->domain));
    if (dom == kTfliteDomain) return emitGeneric(n);
    if (!dom.empty()) return unsupported("operators of domain '" + dom + "' have no TFLite equivalent", W);
    const std::string& op = n->opType;
    const ir::Value* y0 = n->output(0);

    if (op == "Constant") return {}; // read where used
    if (op == "ConstantOfShape" && ir::constantTensorOf(n->input(0))) return {};
    if (op == "DequantizeLinear") return {}; // emitted where a float consumer needs it
    if (op == "QuantizeLinear") {
        const ir::Value* x = n->input(0);
        if (const ir::Node* dq = dqProducer(x); dq && x->uses().size() == 1 && !x->isGraphOutput()) {
            // DQ -> Q: a requantization of the integer tensor.
            const Lay L = available(dq->input(0));
            EW_TRY_ASSIGN(int xi, tensor(dq->input(0), L, W));
            int y = output(y0, L);
            addOp(BO::QUANTIZE, {xi}, {y});
            return {};
        }
        const Lay L = available(x);
        EW_TRY_ASSIGN(int xi, tensor(x, L, W));
        int y = output(y0, L);
        addOp(BO::QUANTIZE, {xi}, {y});
        return {};
    }
    if (op == "Identity" || op == "Dropout") {
        if (n->outputs().size() > 1 && n->output(1)) return unsupported("Dropout's mask output has no TFLite equivalent", W);
        const ir::Value* x = n->input(0);
        if (ir::constantTensorOf(x)) {
            EW_TRY_ASSIGN(int t, tensor(x, Lay::Ir, W));
            bind(y0, Lay::Ir, t);
            return {};
        }
        const Lay L = available(x);
        EW_TRY_ASSIGN(int t, tensor(x, L, W));
        bind(y0, L, t);
        return {};
    }

    // Fused activation and quantized mode.
    Act act = Act::NONE;
    const ir::Value* out = y0;
    if (takesFusedActivation(n)) {
        auto [a, actNode] = fusableActivation(n);
        if (actNode) {
            act = a;
            out = actNode->output(0);
            m_skip.insert(actNode);
        }
    }
    const bool q = quantizedMode(n, out);
    if (q) {
        const ir::Node* qn = out->uses()[0].node;
        m_skip.insert(qn);
        out = qn->output(0);
    }
    // Our importer names the op's own result after the TFLite tensor and the fused activation's
    // (or the quantized) result "<name>_1": the written tensor takes the first name back.
    if (out != y0 && out->name == y0->name + "_1") m_fusedName[out] = y0->name;
    auto unaryLayout = [&](const ir::Value* x) { return available(q && dqProducer(x) ? dqProducer(x)->input(0) : x); };
    auto simple = [&](BO code, fb::BuiltinOptions ot = fb::BuiltinOptions::NONE, OptFn fn = {}) -> VoidResult {
        const Lay L = unaryLayout(n->input(0));
        EW_TRY_ASSIGN(int x, dataInput(n, 0, L, q));
        int y = output(out, L);
        addOp(code, {x}, {y}, ot, std::move(fn), opVersion(q, 1, 2));
        return {};
    };

    if (op == "Conv") return emitConv(n, act, out, q);
    if (op == "ConvTranspose") return emitConvTranspose(n, act, out, q);
    if (op == "MaxPool" || op == "AveragePool") return emitPool(n, act, out, q);
    if (op == "Gemm") return emitGemm(n, act, out, q);
    if (op == "MatMul") return emitMatMul(n, out, q);
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min" || op == "Pow" || op == "Less" ||
        op == "LessOrEqual" || op == "Greater" || op == "GreaterOrEqual" || op == "Equal" || op == "And" || op == "Or" || op == "PRelu")
        return emitBinary(n, act, out, q);
    if (op == "Relu") return simple(BO::RELU);
    if (op == "Sigmoid") return simple(BO::LOGISTIC);
    if (op == "Tanh") return simple(BO::TANH);
    if (op == "Exp") return simple(BO::EXP);
    if (op == "Log") return simple(BO::LOG);
    if (op == "Abs") return simple(BO::ABS);
    if (op == "Neg") return simple(BO::NEG);
    if (op == "Floor") return simple(BO::FLOOR);
    if (op == "Ceil") return simple(BO::CEIL);
    if (op == "Round") return simple(BO::ROUND);
    if (op == "Sin") return simple(BO::SIN);
    if (op == "Cos") return simple(BO::COS);
    if (op == "Not") return simple(BO::LOGICAL_NOT);
    if (op == "HardSwish") return simple(BO::HARD_SWISH);
    if (op == "Elu") {
        if (n->attrFloat("alpha", 1.f) != 1.f) return unsupported("Elu with alpha != 1 has no TFLite equivalent", W);
        return simple(BO::ELU);
    }
    if (op == "LeakyRelu") {
        const float alpha = n->attrFloat("alpha", 0.01f);
        return simple(BO::LEAKY_RELU, fb::BuiltinOptions::LeakyReluOptions, [=](auto& b) { return fb::CreateLeakyReluOptions(b, alpha).Union(); });
    }
    if (op == "Sqrt") {
        // Reciprocal(Sqrt(x)) is RSQRT (our importer writes RSQRT that way).
        if (y0->uses().size() == 1 && !y0->isGraphOutput() && isOp(y0->uses()[0].node, "Reciprocal") && !q) {
            const ir::Node* r = y0->uses()[0].node;
            m_skip.insert(r);
            const Lay L = available(n->input(0));
            EW_TRY_ASSIGN(int x, tensor(n->input(0), L, W));
            int y = output(r->output(0), L);
            addOp(BO::RSQRT, {x}, {y});
            return {};
        }
        return simple(BO::SQRT);
    }
    if (op == "Reciprocal") {
        const Lay L = available(n->input(0));
        EW_TRY_ASSIGN(int x, tensor(n->input(0), L, W));
        int one = constF32({1.f}, {}, (n->name.empty() ? y0->name : n->name) + "_one");
        int y = output(out, L);
        addOp(BO::DIV, {one, x}, {y}, fb::BuiltinOptions::DivOptions, [](auto& b) { return fb::CreateDivOptions(b).Union(); });
        return {};
    }
    if (op == "Cast") {
        auto to = tfType(static_cast<DataType>(n->attrInt("to", 0)));
        auto from = tfType(n->input(0) ? n->input(0)->type.elemType : DataType::Undefined);
        if (!to || !from) return unsupported("Cast between types TFLite does not have", W);
        const auto f = *from, t = *to;
        return simple(BO::CAST, fb::BuiltinOptions::CastOptions, [=](auto& b) { return fb::CreateCastOptions(b, f, t).Union(); });
    }
    if (op == "Clip") {
        auto bnds = clipBounds(n);
        if (!bnds) {
            // Computed bounds: MAXIMUM then MINIMUM with the bound tensors (a missing or
            // constant infinite bound is left out).
            if (q) return unsupported("quantized Clip with non-constant bounds", W);
            const Lay L = available(n->input(0));
            EW_TRY_ASSIGN(int x, tensor(n->input(0), L, W));
            const std::string base = n->name.empty() ? y0->name : n->name;
            int cur = x;
            for (std::size_t i : {std::size_t(1), std::size_t(2)}) {
                const ir::Value* bv = n->input(i);
                if (!bv) continue;
                if (auto c = constScalar(bv); c && std::isinf(*c)) continue;
                if (rank(bv) != 0 && !(valueDims(bv).size() == 1 && valueDims(bv)[0] == 1))
                    return unsupported("Clip bounds must be scalars", W);
                EW_TRY_ASSIGN(int bt, tensor(bv, Lay::Ir, W));
                const bool last = i == 2 || !n->input(2) || (constScalar(n->input(2)) && std::isinf(*constScalar(n->input(2))));
                int t = last ? output(out, L) : newTensor(base + "/max", trec(x).type, trec(x).dims);
                addOp(i == 1 ? BO::MAXIMUM : BO::MINIMUM, {cur, bt}, {t});
                cur = t;
            }
            if (cur == x) bind(out, L, x);
            return {};
        }
        auto [lo, hi] = *bnds;
        if (lo == 0.f && hi == 6.f) return simple(BO::RELU6);
        if (lo == -1.f && hi == 1.f) return simple(BO::RELU_N1_TO_1);
        if (lo == 0.f && hi == 1.f) return simple(BO::RELU_0_TO_1);
        if (lo == 0.f && std::isinf(hi)) return simple(BO::RELU);
        if (q) return unsupported("quantized Clip to [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", W);
        const Lay L = available(n->input(0));
        EW_TRY_ASSIGN(int x, tensor(n->input(0), L, W));
        int cur = x;
        const std::string base = n->name.empty() ? y0->name : n->name;
        if (!std::isinf(lo)) {
            int c = constF32({lo}, {}, base + "_min");
            int t = std::isinf(hi) ? output(out, L) : newTensor(base + "/max", trec(x).type, trec(x).dims);
            addOp(BO::MAXIMUM, {cur, c}, {t});
            cur = t;
        }
        if (!std::isinf(hi)) {
            int c = constF32({hi}, {}, base + "_max");
            int t = output(out, L);
            addOp(BO::MINIMUM, {cur, c}, {t});
            cur = t;
        }
        if (cur == x) bind(out, L, x);
        return {};
    }
    if (op == "HardSigmoid") {
        if (q) return unsupported("quantized HardSigmoid", W);
        const float alpha = n->attrFloat("alpha", 0.2f), beta = n->attrFloat("beta", 0.5f);
        const Lay L = available(n->input(0));
        EW_TRY_ASSIGN(int x, tensor(n->input(0), L, W));
        const std::string base = n->name.empty() ? y0->name : n->name;
        int a = constF32({alpha}, {}, base + "_alpha"), b = constF32({beta}, {}, base + "_beta");
        int t1 = newTensor(base + "/scaled", trec(x).type, trec(x).dims);
        addOp(BO::MUL, {x, a}, {t1}, fb::BuiltinOptions::MulOptions, [](auto& bb) { return fb::CreateMulOptions(bb).Union(); });
        int t2 = newTensor(base + "/shifted", trec(x).type, trec(x).dims);
        addOp(BO::ADD, {t1, b}, {t2}, fb::BuiltinOptions::AddOptions, [](auto& bb) { return fb::CreateAddOptions(bb).Union(); });
        int y = output(out, L);
        addOp(BO::RELU_0_TO_1, {t2}, {y});
        return {};
    }
    if (op == "BatchNormalization") {
        if (q) return unsupported("quantized BatchNormalization", W);
        if (n->attrInt("training_mode", 0) != 0) return unsupported("training-mode BatchNormalization", W);
        const ir::Tensor *sc = ir::constantTensorOf(n->input(1)), *bi = ir::constantTensorOf(n->input(2)),
                         *mean = ir::constantTensorOf(n->input(3)), *var = ir::constantTensorOf(n->input(4));
        if (!sc || !bi || !mean || !var) return unsupported("BatchNormalization with non-constant statistics", W);
        const float eps = n->attrFloat("epsilon", 1e-5f);
        auto s = sc->toFloat(), b = bi->toFloat(), m = mean->toFloat(), v = var->toFloat();
        const std::size_t C = s.size();
        if (b.size() != C || m.size() != C || v.size() != C) return invalid("BatchNormalization parameters differ in size", W);
        std::vector<float> mul(C), add(C);
        for (std::size_t c = 0; c < C; ++c) {
            mul[c] = s[c] / std::sqrt(v[c] + eps);
            add[c] = b[c] - m[c] * mul[c];
        }
        const int r = rank(n->input(0));
        const Lay L = r == 4 ? Lay::Cl : Lay::Ir;
        std::vector<int64_t> cd{static_cast<int64_t>(C)};
        if (L == Lay::Ir && r > 2) cd.resize(static_cast<std::size_t>(r - 1), 1); // [C,1,...] broadcasts against N,C,...
        EW_TRY_ASSIGN(int x, tensor(n->input(0), L, W));
        const std::string base = n->name.empty() ? y0->name : n->name;
        int cm = constF32(mul, cd, base + "_scale"), ca = constF32(add, cd, base + "_shift");
        int t = newTensor(base + "/scaled", trec(x).type, trec(x).dims);
        addOp(BO::MUL, {x, cm}, {t}, fb::BuiltinOptions::MulOptions, [](auto& bb) { return fb::CreateMulOptions(bb).Union(); });
        int y = output(out, L);
        addOp(BO::ADD, {t, ca}, {y}, fb::BuiltinOptions::AddOptions, [](auto& bb) { return fb::CreateAddOptions(bb).Union(); });
        return {};
    }
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
        if (rank(n->input(0)) != 4) return unsupported("only rank-4 global pooling", W);
        EW_TRY_ASSIGN(int x, dataInput(n, 0, Lay::Cl, q));
        int axes = constI32(std::vector<int32_t>{1, 2}, (n->name.empty() ? y0->name : n->name) + "_axes");
        int y = output(out, Lay::Cl);
        addOp(op == "GlobalAveragePool" ? BO::MEAN : BO::REDUCE_MAX, {x, axes}, {y}, fb::BuiltinOptions::ReducerOptions,
              [](auto& b) { return fb::CreateReducerOptions(b, true).Union(); }, opVersion(q, 1, 2));
        return {};
    }
    if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceSum" || op == "ReduceProd") {
        const ir::Value* xv = n->input(0);
        const int r = rank(xv);
        if (r < 0) return unsupported("reduction of a value of unknown rank", W);
        std::vector<int64_t> axes = n->attrInts("axes");
        if (n->input(1)) {
            const ir::Tensor* t = ir::constantTensorOf(n->input(1));
            if (!t) return unsupported("reduction axes are not constant", W);
            axes = t->toInt64();
        }
        if (axes.empty()) {
            if (n->attrInt("noop_with_empty_axes", 0)) return unsupported("noop_with_empty_axes reductions", W);
            axes.resize(static_cast<std::size_t>(r));
            std::iota(axes.begin(), axes.end(), 0);
        }
        for (auto& a : axes) {
            if (a < 0) a += r;
            if (a < 0 || a >= r) return invalid("reduction axis out of range", W);
        }
        std::sort(axes.begin(), axes.end());
        axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
        const bool keep = n->attrInt("keepdims", 1) != 0;
        Lay L = Lay::Ir;
        if (clRank(r) && unaryLayout(xv) == Lay::Cl) {
            // Without keepdims the surviving axes must keep their relative order.
            std::vector<int64_t> keptTf;
            for (int64_t a = 0; a < r; ++a)
                if (!std::count(axes.begin(), axes.end(), a)) keptTf.push_back(permutedAxis(clPerm(r), a));
            if (keep || std::is_sorted(keptTf.begin(), keptTf.end())) L = Lay::Cl;
        }
        std::vector<int32_t> tfAxes;
        for (int64_t a : axes) tfAxes.push_back(static_cast<int32_t>(L == Lay::Cl ? permutedAxis(clPerm(r), a) : a));
        std::sort(tfAxes.begin(), tfAxes.end());
        EW_TRY_ASSIGN(int x, dataInput(n, 0, L, q));
        int ax = constI32(tfAxes, (n->name.empty() ? y0->name : n->name) + "_axes");
        int y = output(out, keep ? L : Lay::Ir);
        const BO code = op == "ReduceMean" ? BO::MEAN : op == "ReduceMax" ? BO::REDUCE_MAX : op == "ReduceMin" ? BO::REDUCE_MIN
                        : op == "ReduceSum" ? BO::SUM : BO::REDUCE_PROD;
        addOp(code, {x, ax}, {y}, fb::BuiltinOptions::ReducerOptions, [=](auto& b) { return fb::CreateReducerOptions(b, keep).Union(); },
              opVersion(q, 1, 2));
        return {};
    }
    if (op == "Reshape" || op == "Flatten") {
        if (y0->uses().size() == 1 && isOp(y0->uses()[0].node, "Gemm") && fcFlatten(y0->uses()[0].node, m_g) == n) return {};
        if (!q) {
            if (const ir::Value* src = flattenFoldSource(n)) {
                m_folded[y0] = src; // the matmul reads src and permutes its weights
                return {};
            }
        }
        const ir::Value* xv = n->input(0);
        auto od = valueDims(y0);
        if (rank(y0) < 0) return unsupported("the output rank is unknown", W);
        if (std::count(od.begin(), od.end(), -1) > 1) {
            if (op == "Reshape") {
                const ir::Tensor* st = ir::constantTensorOf(n->input(1));
                const auto xd = valueDims(xv);
                if (!st) return unsupported("a Reshape to a computed shape with several unknown dims", W);
                od = st->toInt64();
                for (std::size_t i = 0; i < od.size(); ++i)
                    if (od[i] == 0 && n->attrInt("allowzero", 0) == 0) od[i] = i < xd.size() ? xd[i] : -1;
            }
            if (std::count(od.begin(), od.end(), -1) > 1) return unsupported("a reshape with several unknown dims", W);
        }
        // Channels-last data whose NCHW order equals its memory order reshapes directly.
        Lay L = Lay::Ir;
        const ir::Value* src = q && dqProducer(xv) ? dqProducer(xv)->input(0) : xv;
        if (rank(src) == 4 && has(src, Lay::Cl) && !has(src, Lay::Ir)) {
            const auto sd = valueDims(src);
            if (allKnown(sd) && permIsReshape(permuteDims(sd, kToNhwc), {0, 3, 1, 2})) L = Lay::Cl;
        }
        EW_TRY_ASSIGN(int x, dataInput(n, 0, L, q));
        std::vector<int32_t> ns;
        for (auto d : od) ns.push_back(clampI32(d));
        int s = constI32(ns, (n->name.empty() ? y0->name : n->name) + "_shape");
        int y = output(out, Lay::Ir);
        addOp(BO::RESHAPE, {x, s}, {y}, fb::BuiltinOptions::ReshapeOptions,
              [ns](auto& b) { return fb::CreateReshapeOptions(b, b.CreateVector(ns)).Union(); });
        return {};
    }
    if (op == "Squeeze" || op == "Unsqueeze") {
        std::vector<int64_t> axes = n->attrInts("axes");
        if (n->input(1)) {
            const ir::Tensor* t = ir::constantTensorOf(n->input(1));
            if (!t) return unsupported("axes are not constant", W);
            axes = t->toInt64();
        }
        if (op == "Unsqueeze" && !q && isScalarBroadcast(n)) {
            // Our importer's broadcast of a one-element operand (Unsqueeze then Transpose into an
            // elementwise op): TFLite broadcasts the operand as it is.
            EW_TRY_ASSIGN(int x, tensor(n->input(0), Lay::Ir, W));
            bind(y0, Lay::Ir, x);
            for (const auto& u : y0->uses()) {
                bind(u.node->output(0), Lay::Cl, x);
                bind(u.node->output(0), Lay::Ir, x);
                m_skip.insert(u.node);
            }
            return {};
        }
        EW_TRY_ASSIGN(int x, dataInput(n, 0, Lay::Ir, q));
        int y = output(out, Lay::Ir);
        const std::string base = n->name.empty() ? y0->name : n->name;
        if (op == "Squeeze") {
            const int r = rank(n->input(0));
            const auto xd = valueDims(n->input(0));
            if (axes.empty())
                for (int i = 0; i < r; ++i)
                    if (xd[static_cast<std::size_t>(i)] == 1) axes.push_back(i);
            std::vector<int32_t> sq;
            for (auto a : axes) sq.push_back(static_cast<int32_t>(a < 0 ? a + r : a));
            addOp(BO::SQUEEZE, {x}, {y}, fb::BuiltinOptions::SqueezeOptions,
                  [sq](auto& b) { return fb::CreateSqueezeOptions(b, b.CreateVector(sq)).Union(); });
        } else if (axes.size() == 1) {
            int a = constI32(std::vector<int32_t>{clampI32(axes[0])}, base + "_axis");
            addOp(BO::EXPAND_DIMS, {x, a}, {y}, fb::BuiltinOptions::ExpandDimsOptions,
                  [](auto& b) { return fb::CreateExpandDimsOptions(b).Union(); });
        } else {
            const auto od = valueDims(y0);
            if (std::count(od.begin(), od.end(), -1) > 1) return unsupported("Unsqueeze of several axes with unknown dims", W);
            std::vector<int32_t> ns;
            for (auto d : od) ns.push_back(clampI32(d));
            int s = constI32(ns, base + "_shape");
            addOp(BO::RESHAPE, {x, s}, {y}, fb::BuiltinOptions::ReshapeOptions,
                  [ns](auto& b) { return fb::CreateReshapeOptions(b, b.CreateVector(ns)).Union(); });
        }
        return {};
    }
    if (op == "Transpose") {
        const ir::Value* xv = q && dqProducer(n->input(0)) ? dqProducer(n->input(0))->input(0) : n->input(0);
        const int r = rank(xv);
        std::vector<int64_t> perm = n->attrInts("perm");
        if (perm.empty()) {
            for (int i = r - 1; i >= 0; --i) perm.push_back(i);
        }
        if (static_cast<int>(perm.size()) != r) return invalid("perm does not match the input rank", W);
        // tfperm[k] = Pin^-1(perm[Pout(k)]): Ir maps tf axis k to IR axis k; Cl maps k to kToNhwc[k].
        auto tfPerm = [&](Lay lin, Lay lout) {
            std::vector<int64_t> p(static_cast<std::size_t>(r));
            for (int k = 0; k < r; ++k) {
                int64_t a = lout == Lay::Cl ? clPerm(r)[static_cast<std::size_t>(k)] : k;
                int64_t b = perm[static_cast<std::size_t>(a)];
                p[static_cast<std::size_t>(k)] = lin == Lay::Cl ? permutedAxis(clPerm(r), b) : b;
            }
            return p;
        };
        std::vector<Lay> lins;
        if (!ir::constantTensorOf(xv)) {
            if (clRank(r) && available(xv) == Lay::Cl) lins.push_back(Lay::Cl);
            if (has(xv, Lay::Ir)) lins.push_back(Lay::Ir);
        }
        if (lins.empty()) lins.push_back(Lay::Ir);
        for (Lay lin : lins) {
            for (Lay lout : {Lay::Ir, Lay::Cl}) {
                // A rank-3 result is held channels-last only when its source is (1-D convolutions).
                if ((lout == Lay::Cl && (!clRank(rank(y0)) || rank(y0) != r || (r == 3 && lin != Lay::Cl))) || (lin == Lay::Cl && !clRank(r)))
                    continue;
                if (!isIdentityPerm(tfPerm(lin, lout))) continue;
                EW_TRY_ASSIGN(int t, tensor(xv, lin, W));
                if (q && trec(t).quant != quantOf(out)) {
                    int y = output(out, lout);
                    addOp(BO::QUANTIZE, {t}, {y});
                } else {
                    bind(out, lout, t);
                    // The importer names an NHWC view "<tensor>_nhwc": the tensor gets its name back.
                    if (lout == Lay::Cl && trec(t).name == out->name + "_nhwc") sg().tensors[static_cast<std::size_t>(t)].name = out->name;
                }
                return {};
            }
        }
        const Lay lin = lins[0];
        // A model from TFLite holds every rank-4 tensor NHWC: its transposes write channels-last.
        const Lay lout = m_m.preferCl && rank(y0) == 4 ? Lay::Cl : Lay::Ir;
        EW_TRY_ASSIGN(int x, tensor(xv, lin, W));
        int p = constI32(tfPerm(lin, lout), (n->name.empty() ? y0->name : n->name) + "_perm");
        int y = output(out, lout);
        addOp(BO::TRANSPOSE, {x, p}, {y}, fb::BuiltinOptions::TransposeOptions, [](auto& b) { return fb::CreateTransposeOptions(b).Union(); },
              opVersion(q, 1, 2));
        return {};
    }
    if (op == "Concat") {
        const int r = rank(out);
        if (r < 1) return unsupported("Concat of unknown rank", W);
        int64_t axis = n->attrInt("axis", 0);
        if (axis < 0) axis += r;
        Lay L = Lay::Ir;
        if (clRank(r))
            for (const ir::Value* v : n->inputs())
                if (v && !ir::constantTensorOf(v) && unaryLayout(v) == Lay::Cl) L = Lay::Cl;
        std::vector<int32_t> ins;
        for (std::size_t i = 0; i < n->inputs().size(); ++i) {
            if (!n->input(i)) continue;
            EW_TRY_ASSIGN(int t, dataInput(n, i, L, q));
            ins.push_back(t);
        }
        const int32_t tfAxis = static_cast<int32_t>(L == Lay::Cl ? permutedAxis(clPerm(r), axis) : axis);
        int y = output(out, L);
        addOp(BO::CONCATENATION, ins, {y}, fb::BuiltinOptions::ConcatenationOptions,
              [=](auto& b) { return fb::CreateConcatenationOptions(b, tfAxis, act).Union(); }, opVersion(q, 1, 2));
        return {};
    }
    if (op == "Split") {
        const ir::Value* xv = n->input(0);
        const int r = rank(xv);
        if (r < 1) return unsupported("Split of unknown rank", W);
        int64_t axis = n->attrInt("axis", 0);
        if (axis < 0) axis += r;
        const auto xd = valueDims(xv);
        std::vector<int64_t> sizes = n->attrInts("split");
        if (n->input(1)) {
            const ir::Tensor* t = ir::constantTensorOf(n->input(1));
            if (!t) return unsupported("split sizes are not constant", W);
            sizes = t->toInt64();
        }
        if (sizes.empty()) {
            for (const ir::Value* v : n->outputs()) {
                auto d = valueDims(v);
                if (static_cast<int>(d.size()) != r || d[static_cast<std::size_t>(axis)] < 0) return unsupported("split sizes are unknown", W);
                sizes.push_back(d[static_cast<std::size_t>(axis)]);
            }
        }
        const Lay L = clRank(r) ? available(xv) : Lay::Ir;
        EW_TRY_ASSIGN(int x, tensor(xv, L, W));
        const std::string base = n->name.empty() ? y0->name : n->name;
        int st = constI32(sizes, base + "_sizes");
        int ax = constI32(std::vector<int32_t>{static_cast<int32_t>(L == Lay::Cl ? permutedAxis(clPerm(r), axis) : axis)}, base + "_axis", true);
        std::vector<int32_t> outs;
        for (const ir::Value* v : n->outputs()) outs.push_back(v ? output(v, L) : newTensor(base + "_unused", trec(x).type, {}));
        const int32_t ns = static_cast<int32_t>(outs.size());
        addOp(BO::SPLIT_V, {x, st, ax}, outs, fb::BuiltinOptions::SplitVOptions, [=](auto& b) { return fb::CreateSplitVOptions(b, ns).Union(); });
        return {};
    }
    if (op == "Slice") {
        const ir::Value* xv = n->input(0);
        const int r = rank(xv);
        const ir::Tensor *ts = ir::constantTensorOf(n->input(1)), *te = ir::constantTensorOf(n->input(2));
        const ir::Tensor* ta = n->input(3) ? ir::constantTensorOf(n->input(3)) : nullptr;
        const ir::Tensor* tst = n->input(4) ? ir::constantTensorOf(n->input(4)) : nullptr;
        if (r < 0 || !ts || !te || (n->input(3) && !ta) || (n->input(4) && !tst)) return unsupported("Slice with non-constant bounds", W);
        auto starts = ts->toInt64(), ends = te->toInt64();
        std::vector<int64_t> axes, steps;
        if (ta) axes = ta->toInt64();
        else {
            axes.resize(starts.size());
            std::iota(axes.begin(), axes.end(), 0);
        }
        steps = tst ? tst->toInt64() : std::vector<int64_t>(starts.size(), 1);
        const Lay L = clRank(r) ? unaryLayout(xv) : Lay::Ir;
        std::vector<int32_t> b(static_cast<std::size_t>(r), 0), e(static_cast<std::size_t>(r), 0), s(static_cast<std::size_t>(r), 1);
        int32_t bm = 0, em = 0;
        for (int k = 0; k < r; ++k) bm |= 1 << k, em |= 1 << k;
        for (std::size_t i = 0; i < axes.size(); ++i) {
            int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
            if (a < 0 || a >= r || steps[i] == 0) return invalid("Slice axis or step out of range", W);
            const int k = static_cast<int>(L == Lay::Cl ? permutedAxis(clPerm(r), a) : a);
            const int64_t st = steps[i];
            b[static_cast<std::size_t>(k)] = clampI32(starts[i]);
            bm &= ~(1 << k);
            s[static_cast<std::size_t>(k)] = clampI32(st);
            const bool toEnd = st > 0 ? ends[i] >= std::numeric_limits<int32_t>::max() : ends[i] <= std::numeric_limits<int32_t>::min();
            if (st < 0 && starts[i] >= std::numeric_limits<int32_t>::max()) bm |= 1 << k;
            if (!toEnd) {
                e[static_cast<std::size_t>(k)] = clampI32(ends[i]);
                em &= ~(1 << k);
            }
        }
        EW_TRY_ASSIGN(int x, dataInput(n, 0, L, q));
        const std::string base = n->name.empty() ? y0->name : n->name;
        int tb = constI32(b, base + "_begin"), tend = constI32(e, base + "_end"), tstr = constI32(s, base + "_strides");
        int y = output(out, L);
        addOp(BO::STRIDED_SLICE, {x, tb, tend, tstr}, {y}, fb::BuiltinOptions::StridedSliceOptions,
              [=](auto& bb) { return fb::CreateStridedSliceOptions(bb, bm, em).Union(); }, opVersion(q, 1, 2));
        return {};
    }
    if (op == "Pad") {
        const ir::Value* xv = n->input(0);
        const int r = rank(xv);
        std::vector<int64_t> pads = n->attrInts("pads");
        if (n->input(1)) {
            const ir::Tensor* t = ir::constantTensorOf(n->input(1));
            if (!t) return unsupported("Pad with non-constant pads", W);
            pads = t->toInt64();
        }
        if (n->input(3)) return unsupported("Pad with an axes input", W);
        if (r < 0 || static_cast<int>(pads.size()) != 2 * r) return invalid("pads do not match the input rank", W);
        const std::string mode = n->attrString("mode", "constant");
        float value = n->attrFloat("value", 0.f);
        if (n->input(2)) {
            auto c = constScalar(n->input(2));
            if (!c) return unsupported("Pad with a non-constant value", W);
            value = *c;
        }
        const Lay L = clRank(r) ? unaryLayout(xv) : Lay::Ir;
        std::vector<int32_t> pv(static_cast<std::size_t>(2 * r));
        for (int k = 0; k < r; ++k) {
            int64_t a = L == Lay::Cl ? clPerm(r)[static_cast<std::size_t>(k)] : k;
            pv[static_cast<std::size_t>(2 * k)] = clampI32(pads[static_cast<std::size_t>(a)]);
            pv[static_cast<std::size_t>(2 * k + 1)] = clampI32(pads[static_cast<std::size_t>(a + r)]);
            if (pv[static_cast<std::size_t>(2 * k)] < 0 || pv[static_cast<std::size_t>(2 * k + 1)] < 0) return unsupported("negative pads (cropping)", W);
        }
        EW_TRY_ASSIGN(int x, dataInput(n, 0, L, q));
        const std::string base = n->name.empty() ? y0->name : n->name;
        int pt = constTensor(base + "_paddings", ir::Tensor::fromVector(base + "_paddings", DataType::Int32, {r, 2}, pv));
        int y = output(out, L);
        if (mode == "reflect") {
            addOp(BO::MIRROR_PAD, {x, pt}, {y}, fb::BuiltinOptions::MirrorPadOptions,
                  [](auto& b) { return fb::CreateMirrorPadOptions(b, fb::MirrorPadMode::REFLECT).Union(); });
        } else if (mode != "constant") {
            return unsupported("Pad mode '" + mode + "' has no TFLite equivalent", W);
        } else if (value == 0.f) {
            addOp(BO::PAD, {x, pt}, {y}, fb::BuiltinOptions::PadOptions, [](auto& b) { return fb::CreatePadOptions(b).Union(); }, opVersion(q, 1, 2));
        } else {
            if (q) return unsupported("quantized Pad with a non-zero value", W);
            int c = constF32({value}, {}, base + "_value");
            addOp(BO::PADV2, {x, pt, c}, {y}, fb::BuiltinOptions::PadV2Options, [](auto& b) { return fb::CreatePadV2Options(b).Union(); });
        }
        return {};
    }
    if (op == "Softmax" || op == "LogSoftmax") {
        const ir::Value* xv = n->input(0);
        const int r = rank(xv);
        if (r < 1) return unsupported("softmax of unknown rank", W);
        const bool old = m_m.opset < 13;
        int64_t axis = n->attrInt("axis", old ? 1 : -1);
        if (axis < 0) axis += r;
        Lay L = Lay::Ir;
        if (!old && clRank(r) && unaryLayout(xv) == Lay::Cl && permutedAxis(clPerm(r), axis) == r - 1) L = Lay::Cl;
        else if (axis != r - 1)
            return unsupported(op + " along axis " + std::to_string(axis) + " of a rank-" + std::to_string(r) +
                                   " tensor (TFLite's runs along the last axis)",
                               W);
        EW_TRY_ASSIGN(int x, dataInput(n, 0, L, q));
        int y = output(out, L);
        if (op == "Softmax")
            addOp(BO::SOFTMAX, {x}, {y}, fb::BuiltinOptions::SoftmaxOptions, [](auto& b) { return fb::CreateSoftmaxOptions(b, 1.f).Union(); }, opVersion(q, 1, 2));
        else
            addOp(BO::LOG_SOFTMAX, {x}, {y}, fb::BuiltinOptions::LogSoftmaxOptions, [](auto& b) { return fb::CreateLogSoftmaxOptions(b).Union(); }, opVersion(q, 1, 2));
        return {};
    }
    if (op == "Resize" || op == "Upsample") {
        const ir::Value* xv = n->input(0);
        const auto id = valueDims(xv), od = valueDims(y0);
        if (id.size() != 4 || od.size() != 4 || id[2] < 0 || id[3] < 0 || od[2] < 0 || od[3] < 0)
            return unsupported("Resize needs a rank-4 input with known spatial sizes in and out", W);
        if (id[0] != od[0] || id[1] != od[1]) return unsupported("Resize of the batch or channel dims", W);
        if (n->attrInt("antialias", 0)) return unsupported("antialiased Resize", W);
        const std::string mode = n->attrString("mode", "nearest");
        const bool v11 = op == "Resize" && m_m.opset >= 11;
        const std::string ctm = v11 ? n->attrString("coordinate_transformation_mode", "half_pixel") : "asymmetric";
        const std::string nm = v11 ? n->attrString("nearest_mode", "round_prefer_floor") : "floor";
        bool align = false, half = false;
        if (mode == "nearest") {
            bool found = false;
            const std::tuple<const char*, const char*, bool, bool> cands[] = {
                {"asymmetric", "floor", false, false}, {"half_pixel", "round_prefer_ceil", false, true}, {"align_corners", "round_prefer_ceil", true, false}};
            for (auto [c, m, al, hp] : cands) {
                if (found) break;
                if (nearestMap(ctm, nm, id[2], od[2]) == nearestMap(c, m, id[2], od[2]) &&
                    nearestMap(ctm, nm, id[3], od[3]) == nearestMap(c, m, id[3], od[3]))
                    found = true, align = al, half = hp;
            }
            if (!found) return unsupported("nearest Resize with coordinate_transformation_mode '" + ctm + "' and nearest_mode '" + nm + "'", W);
        } else if (mode == "linear" || mode == "bilinear") {
            if (ctm == "align_corners") align = true;
            else if (ctm == "half_pixel" || (ctm == "pytorch_half_pixel" && od[2] > 1 && od[3] > 1)) half = true;
            else if (ctm != "asymmetric") return unsupported("linear Resize with coordinate_transformation_mode '" + ctm + "'", W);
        } else {
            return unsupported("Resize mode '" + mode + "' has no TFLite equivalent", W);
        }
        EW_TRY_ASSIGN(int x, dataInput(n, 0, Lay::Cl, q));
        int size = constI32(std::vector<int64_t>{od[2], od[3]}, (n->name.empty() ? y0->name : n->name) + "_size");
        int y = output(out, Lay::Cl);
        if (mode == "nearest")
            addOp(BO::RESIZE_NEAREST_NEIGHBOR, {x, size}, {y}, fb::BuiltinOptions::ResizeNearestNeighborOptions,
                  [=](auto& b) { return fb::CreateResizeNearestNeighborOptions(b, align, half).Union(); }, half ? 3 : 1);
        else
            addOp(BO::RESIZE_BILINEAR, {x, size}, {y}, fb::BuiltinOptions::ResizeBilinearOptions,
                  [=](auto& b) { return fb::CreateResizeBilinearOptions(b, align, half).Union(); }, half ? 3 : 1);
        return {};
    }
    if (op == "Gather") {
        const int r = rank(n->input(0));
        int64_t axis = n->attrInt("axis", 0);
        if (axis < 0 && r > 0) axis += r;
        EW_TRY_ASSIGN(int x, dataInput(n, 0, Lay::Ir, q));
        int ind = -1;
        const ir::Tensor* it = ir::constantTensorOf(n->input(1));
        const auto xd = valueDims(n->input(0));
        if (it && r > 0 && xd[static_cast<std::size_t>(axis)] >= 0) {
            // TFLite's GATHER has no negative indices.
            auto v = it->toInt64();
            bool neg = std::any_of(v.begin(), v.end(), [](int64_t i) { return i < 0; });
            if (neg) {
                for (auto& i : v)
                    if (i < 0) i += xd[static_cast<std::size_t>(axis)];
                ind = constTensor(n->input(1)->name, ir::Tensor::fromVector(n->input(1)->name, DataType::Int64, it->dims, std::move(v)));
            }
        }
        if (ind < 0) {
            EW_TRY_ASSIGN(ind, tensor(n->input(1), Lay::Ir, W));
        }
        int y = output(out, Lay::Ir);
        const int32_t ax = static_cast<int32_t>(axis);
        addOp(BO::GATHER, {x, ind}, {y}, fb::BuiltinOptions::GatherOptions, [=](auto& b) { return fb::CreateGatherOptions(b, ax).Union(); },
              opVersion(q, 1, 2));
        return {};
    }
    if (op == "ArgMax" || op == "ArgMin") {
        if (n->attrInt("select_last_index", 0)) return unsupported("select_last_index has no TFLite equivalent", W);
        const int r = rank(n->input(0));
        int64_t axis = n->attrInt("axis", 0);
        if (axis < 0 && r > 0) axis += r;
        const bool keep = n->attrInt("keepdims", 1) != 0;
        EW_TRY_ASSIGN(int x, dataInput(n, 0, Lay::Ir, q));
        const std::string base = n->name.empty() ? y0->name : n->name;
        int ax = constI32(std::vector<int32_t>{static_cast<int32_t>(axis)}, base + "_axis");
        auto ot = tfType(y0->type.elemType == DataType::Undefined ? DataType::Int64 : y0->type.elemType);
        const auto outType = ot ? *ot : fb::TensorType::INT64;
        int y = -1;
        if (keep) {
            auto d = trec(x).dims;
            if (d.empty()) return unsupported("ArgMax of a scalar", W);
            d.erase(d.begin() + axis);
            y = newTensor(base + "/reduced", outType, d);
        } else {
            y = output(out, Lay::Ir);
        }
        const BO code = op == "ArgMax" ? BO::ARG_MAX : BO::ARG_MIN;
        if (code == BO::ARG_MAX)
            addOp(code, {x, ax}, {y}, fb::BuiltinOptions::ArgMaxOptions, [=](auto& b) { return fb::CreateArgMaxOptions(b, outType).Union(); });
        else
            addOp(code, {x, ax}, {y}, fb::BuiltinOptions::ArgMinOptions, [=](auto& b) { return fb::CreateArgMinOptions(b, outType).Union(); });
        if (keep) {
            int a2 = constI32(std::vector<int32_t>{static_cast<int32_t>(axis)}, base + "_keep_axis");
            int y2 = output(out, Lay::Ir);
            addOp(BO::EXPAND_DIMS, {y, a2}, {y2}, fb::BuiltinOptions::ExpandDimsOptions, [](auto& b) { return fb::CreateExpandDimsOptions(b).Union(); });
        }
        return {};
    }
    if (op == "Shape") {
        const ir::Value* xv = n->input(0);
        const int r = rank(xv);
        if (r < 0) return unsupported("Shape of a value of unknown rank", W);
        int64_t start = 0, end = r;
        if (m_m.opset >= 15) {
            start = n->attrInt("start", 0);
            end = n->attrInt("end", r);
            if (start < 0) start += r;
            if (end < 0) end += r;
            start = std::clamp<int64_t>(start, 0, r);
            end = std::clamp<int64_t>(end, start, r);
        }
        const std::string base = n->name.empty() ? y0->name : n->name;
        const auto xd = valueDims(xv);
        if (allKnown(xd)) {
            // Static dims: the shape is a constant.
            std::vector<int64_t> v(xd.begin() + start, xd.begin() + end);
            ir::Tensor t = ir::Tensor::fromVector(y0->name, DataType::Int64, {end - start}, std::move(v));
            bind(y0, Lay::Ir, constTensor(y0->name, std::move(t)));
            return {};
        }
        // SHAPE of whichever form the value has (no data moves), then the IR dims picked out of it.
        int x = -1;
        std::vector<int64_t> tfPos(static_cast<std::size_t>(r));
        std::iota(tfPos.begin(), tfPos.end(), 0);
        if (auto it = m_unitH.find(xv); it != m_unitH.end() && !has(xv, Lay::Cl) && !has(xv, Lay::Ir)) {
            x = it->second;
            tfPos = {0, 3, 2}; // [N,C,W] held as [N,1,W,C]
        } else {
            const Lay L = available(xv);
            EW_TRY_ASSIGN(x, tensor(xv, L, W));
            if (L == Lay::Cl)
                for (int i = 0; i < r; ++i) tfPos[static_cast<std::size_t>(i)] = permutedAxis(clPerm(r), i);
        }
        const int xr = static_cast<int>(trec(x).dims.size());
        std::vector<int64_t> pick(tfPos.begin() + start, tfPos.begin() + end);
        std::vector<int64_t> all(static_cast<std::size_t>(xr));
        std::iota(all.begin(), all.end(), 0);
        const auto outType = fb::TensorType::INT64;
        if (pick == all) {
            int y = output(out, Lay::Ir);
            addOp(BO::SHAPE, {x}, {y}, fb::BuiltinOptions::ShapeOptions, [=](auto& b) { return fb::CreateShapeOptions(b, outType).Union(); });
            return {};
        }
        int sh = newTensor(base + "/full_shape", outType, {xr});
        addOp(BO::SHAPE, {x}, {sh}, fb::BuiltinOptions::ShapeOptions, [=](auto& b) { return fb::CreateShapeOptions(b, outType).Union(); });
        int ind = constI32(pick, base + "_dims");
        int y = output(out, Lay::Ir);
        addOp(BO::GATHER, {sh, ind}, {y}, fb::BuiltinOptions::GatherOptions, [](auto& b) { return fb::CreateGatherOptions(b, 0).Union(); });
        return {};
    }
    if (op == "If") return emitIf(n);
    if (op == "LSTM") return emitLstm(n);
    return unsupported(op + " has no TFLite equivalent in this exporter", W);
}

VoidResult GraphEmitter::emit(bool mainGraph) {
    const ir::Graph& g = m_g;
    for (const ir::Value* v : g.inputs) {
        if (v->isInitializer()) continue;
        if (!tfType(v->type.elemType)) return unsupported("graph input '" + v->name + "' has a type TFLite cannot hold", {});
        int t = output(v, Lay::Ir);
        sg().inputs.push_back(t);
    }
    EW_TRY_ASSIGN(auto order, g.topologicalOrder());
    for (const ir::Node* n : order) {
        if (m_skip.count(n)) continue;
        for (const ir::Value* v : n->outputs())
            if (v && !v->type.isTensor() && !v->uses().empty())
                return unsupported("output '" + v->name + "' is not a tensor (sequences, maps and optionals have no TFLite equivalent)", where(n));
        EW_TRY(emitNode(n));
    }
    std::unordered_set<int> used;
    const std::unordered_set<int> inputs(sg().inputs.begin(), sg().inputs.end());
    for (const ir::Value* v : g.outputs) {
        EW_TRY_ASSIGN(int t, tensor(v, Lay::Ir, "graph output '" + v->name + "'"));
        const bool produced = std::any_of(sg().ops.begin(), sg().ops.end(), [&](const OpRec& o) {
            return std::find(o.outs.begin(), o.outs.end(), t) != o.outs.end();
        });
        if (inputs.count(t) && !used.count(t)) {
            // An input passed straight through (an IF branch returning a captured value).
        } else if (used.count(t) || !produced) {
            // The same tensor cannot be two outputs, and constants are no outputs: copy it.
            const auto tr = trec(t);
            int c = newTensorFor(v, Lay::Ir, v->name);
            std::vector<int32_t> ns;
            for (auto d : tr.dims) ns.push_back(clampI32(d));
            int s = constI32(ns, v->name + "_shape");
            addOp(BO::RESHAPE, {t, s}, {c}, fb::BuiltinOptions::ReshapeOptions,
                  [ns](auto& b) { return fb::CreateReshapeOptions(b, b.CreateVector(ns)).Union(); });
            t = c;
        } else {
            sg().tensors[static_cast<std::size_t>(t)].name = v->name;
        }
        used.insert(t);
        sg().outputs.push_back(t);
    }
    (void)mainGraph;
    return {};
}

// ---------------------------------------------------------------------------------------------
// Serialization.

struct SignatureSpec {
    std::string key = "serving_default";
    std::vector<std::pair<std::string, int>> inputs, outputs; ///< signature name, tensor index
};

/// The first `tflite.signature.*` entry (written by our importer) when it names tensors of the
/// main subgraph; otherwise "serving_default" over the graph inputs and outputs.
SignatureSpec signatureFor(const ir::Model& model, const SubgraphRec& main) {
    SignatureSpec s;
    auto byName = [&](const std::string& nm, const std::vector<int32_t>& list) -> int {
        for (int t : list)
            if (main.tensors[static_cast<std::size_t>(t)].name == nm) return t;
        return -1;
    };
    for (const auto& [k, v] : model.metadataProps) {
        if (k.rfind("tflite.signature.", 0) != 0) continue;
        SignatureSpec c;
        c.key = k.substr(17);
        bool ok = v.rfind("subgraph=", 0) == 0;
        auto parse = [&](const std::string& field, const std::vector<int32_t>& list, std::vector<std::pair<std::string, int>>& out) {
            auto p = v.find(field + "=");
            if (p == std::string::npos) return false;
            auto e = v.find(';', p);
            std::string items = v.substr(p + field.size() + 1, e == std::string::npos ? std::string::npos : e - p - field.size() - 1);
            std::size_t pos = 0;
            while (pos < items.size()) {
                auto comma = items.find(',', pos);
                std::string item = items.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
                auto colon = item.find(':');
                if (colon == std::string::npos) return false;
                int t = byName(item.substr(colon + 1), list);
                if (t < 0) return false;
                out.emplace_back(item.substr(0, colon), t);
                if (comma == std::string::npos) break;
                pos = comma + 1;
            }
            return out.size() == list.size();
        };
        ok = ok && parse("inputs", main.inputs, c.inputs) && parse("outputs", main.outputs, c.outputs);
        if (ok) return c;
        break;
    }
    for (int t : main.inputs) s.inputs.emplace_back(main.tensors[static_cast<std::size_t>(t)].name, t);
    for (int t : main.outputs) s.outputs.emplace_back(main.tensors[static_cast<std::size_t>(t)].name, t);
    return s;
}

Result<std::vector<std::byte>> serialize(ModelRec& m, const ir::Model& model, const ExportOptions& opts) {
    // Buffers past the inline limit go after the flatbuffer; their offsets are known only once
    // the flatbuffer's size is, so it is built twice (same size: offsets are fixed-width).
    uint64_t inlineBytes = 0;
    std::vector<bool> external(m.buffers.size(), false);
    for (std::size_t i = 1; i < m.buffers.size(); ++i) {
        const uint64_t n = m.buffers[i]->bytes().size();
        if (inlineBytes + n > opts.inlineBufferLimit) external[i] = true;
        else
            inlineBytes += n;
    }
    const bool anyExternal = std::find(external.begin(), external.end(), true) != external.end();
    std::vector<uint64_t> offsets(m.buffers.size(), 0);
    const std::string description = !opts.description.empty() ? opts.description : !model.docString.empty() ? model.docString : "Edgewise";
    const SignatureSpec sig = signatureFor(model, m.subgraphs[0]);

    auto build = [&](flatbuffers::FlatBufferBuilder& b) {
        std::vector<flatbuffers::Offset<fb::Buffer>> bufs;
        for (std::size_t i = 0; i < m.buffers.size(); ++i) {
            if (!m.buffers[i]) {
                bufs.push_back(fb::CreateBuffer(b));
            } else if (external[i]) {
                bufs.push_back(fb::CreateBuffer(b, 0, offsets[i] ? offsets[i] : 2, m.buffers[i]->bytes().size()));
            } else {
                auto bytes = m.buffers[i]->bytes();
                b.ForceVectorAlignment(bytes.size(), 1, 16);
                auto v = b.CreateVector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
                bufs.push_back(fb::CreateBuffer(b, v));
            }
        }
        // Metadata: text entries our importer kept ("<N bytes>" placeholders lost their bytes).
        std::vector<flatbuffers::Offset<fb::Metadata>> metas;
        for (const auto& [k, v] : model.metadataProps) {
            if (k.rfind("tflite.metadata.", 0) != 0 || (v.size() > 1 && v.front() == '<' && v.back() == '>')) continue;
            std::vector<uint8_t> bytes(v.begin(), v.end());
            bytes.push_back(0);
            auto data = b.CreateVector(bytes);
            bufs.push_back(fb::CreateBuffer(b, data));
            metas.push_back(fb::CreateMetadata(b, b.CreateString(k.substr(16)), static_cast<uint32_t>(bufs.size() - 1)));
        }
        std::vector<flatbuffers::Offset<fb::SubGraph>> sgs;
        for (const SubgraphRec& s : m.subgraphs) {
            std::vector<flatbuffers::Offset<fb::Tensor>> ts;
            for (const TensorRec& t : s.tensors) {
                flatbuffers::Offset<flatbuffers::Vector<int32_t>> shape = 0, sigv = 0;
                if (t.hasRank) {
                    std::vector<int32_t> sh, sg;
                    for (int64_t d : t.dims) sh.push_back(d < 0 ? 1 : clampI32(d)), sg.push_back(d < 0 ? -1 : clampI32(d));
                    shape = b.CreateVector(sh);
                    sigv = b.CreateVector(sg);
                }
                flatbuffers::Offset<fb::QuantizationParameters> qp = 0;
                if (t.quant && !t.quant->scales.empty()) {
                    std::vector<int64_t> zp = t.quant->zeroPoints;
                    zp.resize(t.quant->scales.size(), 0);
                    qp = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(t.quant->scales), b.CreateVector(zp),
                                                          fb::QuantizationDetails::NONE, 0,
                                                          t.quant->isPerAxis() ? static_cast<int32_t>(t.quant->axis) : 0);
                }
                ts.push_back(fb::CreateTensor(b, shape, t.type, t.buffer, b.CreateString(t.name), qp, false, 0, sigv, t.hasRank));
            }
            std::vector<flatbuffers::Offset<fb::Operator>> ops;
            for (const OpRec& o : s.ops) {
                flatbuffers::Offset<void> opt = o.opts ? o.opts(b) : flatbuffers::Offset<void>(0);
                flatbuffers::Offset<flatbuffers::Vector<uint8_t>> custom = 0;
                if (o.custom) custom = b.CreateVector(reinterpret_cast<const uint8_t*>(o.custom->bytes().data()), o.custom->bytes().size());
                flatbuffers::Offset<flatbuffers::Vector<int32_t>> inter = 0;
                if (!o.intermediates.empty()) inter = b.CreateVector(o.intermediates);
                ops.push_back(fb::CreateOperator(b, o.opcode, b.CreateVector(o.ins), b.CreateVector(o.outs), o.opts ? o.optType : fb::BuiltinOptions::NONE,
                                                 opt, custom, fb::CustomOptionsFormat::FLEXBUFFERS, 0, inter));
            }
            sgs.push_back(fb::CreateSubGraph(b, b.CreateVector(ts), b.CreateVector(s.inputs), b.CreateVector(s.outputs), b.CreateVector(ops),
                                             b.CreateString(s.name)));
        }
        std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
        for (const auto& c : m.codes)
            codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(std::min<int32_t>(c.code, 127)),
                                                   c.custom.empty() ? 0 : b.CreateString(c.custom), c.version,
                                                   static_cast<fb::BuiltinOperator>(c.code)));
        auto maps = [&](const std::vector<std::pair<std::string, int>>& l) {
            std::vector<flatbuffers::Offset<fb::TensorMap>> v;
            for (const auto& [nm, t] : l) v.push_back(fb::CreateTensorMap(b, b.CreateString(nm), static_cast<uint32_t>(t)));
            return b.CreateVector(v);
        };
        auto sIn = maps(sig.inputs), sOut = maps(sig.outputs);
        std::vector<flatbuffers::Offset<fb::SignatureDef>> sigs{fb::CreateSignatureDef(b, sIn, sOut, b.CreateString(sig.key), 0)};
        auto root = fb::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(sgs), b.CreateString(description), b.CreateVector(bufs), 0,
                                    metas.empty() ? 0 : b.CreateVector(metas), b.CreateVector(sigs));
        fb::FinishModelBuffer(b, root);
    };
    flatbuffers::FlatBufferBuilder b(1 << 20);
    build(b);
    if (b.GetSize() >= FLATBUFFERS_MAX_BUFFER_SIZE - 1)
        return fail(StatusCode::Unsupported, "the model's structure exceeds the 2 GB flatbuffer limit", {});
    if (!anyExternal) {
        const auto* p = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
        return std::vector<std::byte>(p, p + b.GetSize());
    }
    auto align = [](uint64_t x) { return (x + 63) & ~uint64_t(63); };
    uint64_t pos = align(b.GetSize());
    for (std::size_t i = 0; i < m.buffers.size(); ++i)
        if (external[i]) {
            offsets[i] = pos;
            pos = align(pos + m.buffers[i]->bytes().size());
        }
    const uint64_t firstSize = b.GetSize();
    flatbuffers::FlatBufferBuilder b2(1 << 20);
    build(b2);
    if (b2.GetSize() != firstSize) return fail(StatusCode::Internal, "the flatbuffer changed size between passes", {});
    std::vector<std::byte> out(pos, std::byte{0});
    std::memcpy(out.data(), b2.GetBufferPointer(), b2.GetSize());
    for (std::size_t i = 0; i < m.buffers.size(); ++i)
        if (external[i]) {
            auto bytes = m.buffers[i]->bytes();
            if (!bytes.empty()) std::memcpy(out.data() + offsets[i], bytes.data(), bytes.size());
        }
    return out;
}

} // namespace

namespace {

/// TFLite's integer kernels take uint8 activations only with uint8 weights (its legacy scheme):
/// int8 weights, per-channel ones above all, need int8 activations (kernel_util.cc,
/// PopulateConvolutionQuantizationParams: "input->type == kTfLiteInt8 || ..."), so a file that
/// mixes them is rejected by the interpreter. Our quantizer's default is exactly that mix (uint8
/// activations, int8 weights). When an operator reads both a uint8 and an int8 quantized tensor,
/// every uint8 quantized tensor becomes int8 with the same scale and zero point - 128 (constants
/// get their bytes shifted too): q - 128 is the same real value, the kernels see only q - zero
/// point, and clamps are derived from the zero point, so results are the uint8 ones minus 128.
/// A uint8 input or output of the main graph would change the model's interface: then nothing
/// is changed (the file is as the IR says, TFLite may refuse it).
void int8ActivationsWithInt8Weights(ModelRec& m) {
    auto isQ = [](const TensorRec& t, fb::TensorType type) { return t.type == type && t.quant && !t.quant->scales.empty(); };
    bool mixed = false;
    for (const SubgraphRec& sg : m.subgraphs)
        for (const OpRec& o : sg.ops) {
            bool u8 = false, s8 = false;
            for (int t : o.ins) {
                if (t < 0) continue;
                u8 = u8 || isQ(sg.tensors[static_cast<std::size_t>(t)], fb::TensorType::UINT8);
                s8 = s8 || isQ(sg.tensors[static_cast<std::size_t>(t)], fb::TensorType::INT8);
            }
            mixed = mixed || (u8 && s8);
        }
    if (!mixed || m.subgraphs.empty()) return;
    const SubgraphRec& main = m.subgraphs[0];
    for (const auto* border : {&main.inputs, &main.outputs})
        for (int t : *border)
            if (isQ(main.tensors[static_cast<std::size_t>(t)], fb::TensorType::UINT8)) return;
    std::vector<int> bufferUses(m.buffers.size(), 0);
    for (const SubgraphRec& sg : m.subgraphs)
        for (const TensorRec& t : sg.tensors) bufferUses[t.buffer]++;
    for (SubgraphRec& sg : m.subgraphs)
        for (TensorRec& t : sg.tensors) {
            if (!isQ(t, fb::TensorType::UINT8)) continue;
            t.type = fb::TensorType::INT8;
            t.quant->storageType = DataType::Int8;
            t.quant->zeroPoints.resize(t.quant->scales.size(), 0);
            for (auto& z : t.quant->zeroPoints) z -= 128;
            if (t.buffer == 0 || !m.buffers[t.buffer]) continue;
            const ir::Tensor& src = *m.buffers[t.buffer];
            std::vector<int8_t> shifted(src.byteSize());
            for (std::size_t i = 0; i < shifted.size(); ++i)
                shifted[i] = static_cast<int8_t>(static_cast<int>(static_cast<uint8_t>(src.bytes()[i])) - 128);
            ir::Tensor data = ir::Tensor::fromVector(src.name, DataType::Int8, src.dims, std::move(shifted));
            if (bufferUses[t.buffer] == 1) m.buffers[t.buffer] = std::move(data);
            else t.buffer = m.buffer(std::move(data)); // another tensor still reads the uint8 bytes
        }
}

} // namespace

Result<std::vector<std::byte>> exportTfliteBytes(const ir::Model& model, const ExportOptions& opts, ExportReport* report) {
    // Work on a clone: shape inference fills in the types every TFLite tensor needs.
    auto clone = model.clone();
    ir::inferShapes(*clone);
    ModelRec m;
    m.opset = clone->opsetFor("");
    m.preferCl = clone->sourceFormat == "tflite";
    if (m.opset == 0) m.opset = 13;
    m.subgraphs.emplace_back();
    m.subgraphs[0].name = clone->graph->name.empty() ? "main" : clone->graph->name;
    {
        GraphEmitter e(m, 0, *clone->graph);
        EW_TRY(e.emit(true));
    }
    // Model-local functions (subgraphs a TFLite import did not reach from main) come back as
    // extra subgraphs.
    for (const ir::Function& f : clone->functions) {
        if (f.domain != kTfliteDomain || !f.body) continue;
        EW_TRY(emitSubgraph(m, *f.body, {}));
    }
    if (m.subgraphs[0].inputs.empty() && m.subgraphs[0].outputs.empty())
        return fail(StatusCode::InvalidInput, "the model has neither inputs nor outputs", {});
    int8ActivationsWithInt8Weights(m);
    auto bytes = serialize(m, *clone, opts);
    if (!bytes) return bytes;
    if (report) {
        *report = m.report;
        report->subgraphs = static_cast<int>(m.subgraphs.size());
        report->operators = 0;
        for (const auto& s : m.subgraphs) report->operators += static_cast<int>(s.ops.size());
    }
    return bytes;
}

VoidResult exportTfliteFile(const ir::Model& model, const std::string& path, const ExportOptions& opts, ExportReport* report) {
    if (!model.sourcePath.empty() && sameFile(model.sourcePath, path))
        return fail(Status{StatusCode::Usage, "refusing to overwrite the input model; choose another output file", path, {}});
    auto bytes = exportTfliteBytes(model, opts, report);
    if (!bytes) return std::unexpected(std::move(bytes).error().withFile(path));
    auto w = writeBytesAtomically(path, *bytes);
    if (!w) return std::unexpected(std::move(w).error().withFile(path));
    return {};
}

} // namespace ew::tflitefmt
