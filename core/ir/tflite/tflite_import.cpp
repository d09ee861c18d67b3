#include "tflite_import.h"

#include "common/file_util.h"
#include "ir/tflite/tflite_schema_generated.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

constexpr int kMaxRank = 16;
constexpr int kMaxSubgraphDepth = 16;
/// Variable tensors (RNN state) become zero-filled constants; hostile shapes must not allocate.
constexpr uint64_t kMaxVariableBytes = uint64_t(256) << 20;
constexpr int64_t kOnnxOpset = 14;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

/// NHWC -> NCHW and back, as Transpose perms (out[i] = in[perm[i]]).
const std::vector<int64_t> kToNchw{0, 3, 1, 2};
const std::vector<int64_t> kToNhwc{0, 2, 3, 1};

/// Attribute lists for node(): Attribute is move-only (graph attributes own their subgraph).
template <typename... A>
std::vector<ir::Attribute> mkAttrs(A&&... a) {
    std::vector<ir::Attribute> v;
    (v.push_back(std::forward<A>(a)), ...);
    return v;
}

enum class Layout { Tf, Nchw };

std::unexpected<Status> invalid(std::string msg, std::string node = {}) {
    return fail(StatusCode::InvalidInput, std::move(msg), std::move(node));
}
std::unexpected<Status> unsupported(std::string msg, std::string node = {}) {
    return fail(StatusCode::Unsupported, std::move(msg), std::move(node));
}

std::optional<DataType> mapType(int t) {
    switch (static_cast<fb::TensorType>(t)) {
    case fb::TensorType::FLOAT32: return DataType::Float;
    case fb::TensorType::FLOAT16: return DataType::Float16;
    case fb::TensorType::INT32: return DataType::Int32;
    case fb::TensorType::UINT8: return DataType::UInt8;
    case fb::TensorType::INT64: return DataType::Int64;
    case fb::TensorType::STRING: return DataType::String;
    case fb::TensorType::BOOL: return DataType::Bool;
    case fb::TensorType::INT16: return DataType::Int16;
    case fb::TensorType::COMPLEX64: return DataType::Complex64;
    case fb::TensorType::INT8: return DataType::Int8;
    case fb::TensorType::FLOAT64: return DataType::Double;
    case fb::TensorType::COMPLEX128: return DataType::Complex128;
    case fb::TensorType::UINT64: return DataType::UInt64;
    case fb::TensorType::RESOURCE:
    case fb::TensorType::VARIANT: return DataType::Undefined; // opaque handles: no element type
    case fb::TensorType::UINT32: return DataType::UInt32;
    case fb::TensorType::UINT16: return DataType::UInt16;
    case fb::TensorType::INT4: return DataType::Int4;
    case fb::TensorType::BFLOAT16: return DataType::BFloat16;
    }
    return std::nullopt;
}

bool isQuantStorage(DataType t) {
    return t == DataType::Int8 || t == DataType::UInt8 || t == DataType::Int16 || t == DataType::UInt16 ||
           t == DataType::Int32 || t == DataType::Int4;
}

std::string dimsText(const std::vector<int64_t>& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
    return s + "]";
}

/// Position of old axis `a` after permuting by `perm` (out[i] = in[perm[i]]).
int64_t permutedAxis(const std::vector<int64_t>& perm, int64_t a) {
    for (std::size_t i = 0; i < perm.size(); ++i)
        if (perm[i] == a) return static_cast<int64_t>(i);
    return a;
}
/// An NHWC axis of a rank-4 tensor as the NCHW axis.
int64_t nchwAxis(int64_t a) { return permutedAxis(kToNchw, a); }

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

/// What the check pass learned about one tensor; the build pass trusts it.
struct TensorInfo {
    std::string name;
    int typeCode = 0;
    DataType dtype = DataType::Undefined;
    bool rankKnown = true;
    std::vector<int64_t> shape;     ///< static sizes (TFLite `shape`)
    std::vector<int64_t> signature; ///< -1 for dynamic dims (shape_signature, else shape)
    const std::byte* data = nullptr; ///< constant bytes (inline or at an offset), or null
    std::size_t nbytes = 0;
    std::vector<std::string> strings; ///< constant STRING tensors, decoded
    bool isConst = false;
    std::optional<ir::QuantParams> quant; ///< integer tensors with scales, TFLite (NHWC) axis
    bool isVariable = false;
    int rank() const { return rankKnown ? static_cast<int>(shape.size()) : -1; }
};

struct Slot {
    ir::Value* tf = nullptr;   ///< the tensor in TFLite's layout
    ir::Value* nchw = nullptr; ///< rank-4 tensors: the NCHW view
    bool io = false;           ///< subgraph input or output
};

struct ImportCtx {
    std::string file;
    ImportOptions opts;
    std::span<const std::byte> bytes;
    std::shared_ptr<const void> owner;
    const fb::Model* model = nullptr;
    std::vector<std::vector<TensorInfo>> tensors; ///< per subgraph
    std::vector<int32_t> opcodes;                 ///< builtin code per operator_codes entry
    std::vector<std::string> customCodes;
    std::unordered_set<std::string> nodeNames;
    std::vector<int> subgraphStack;
    std::vector<bool> subgraphUsed;
    bool usedCustomDomain = false;
};

// ---------------------------------------------------------------------------------------------
// Check pass: every index, range and size, before anything is built.

Result<std::vector<std::string>> decodeStrings(const std::byte* p, std::size_t n, const std::string& what) {
    auto rd = [&](std::size_t off) {
        int32_t v;
        std::memcpy(&v, p + off, 4);
        return v;
    };
    if (n < 4) return invalid(what + ": string buffer is shorter than its header");
    int32_t count = rd(0);
    if (count < 0 || (static_cast<uint64_t>(count) + 2) * 4 > n)
        return invalid(what + ": string buffer declares " + std::to_string(count) + " strings but has " +
                       std::to_string(n) + " bytes");
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int32_t i = 0; i < count; ++i) {
        int32_t a = rd(4 + 4 * static_cast<std::size_t>(i)), b = rd(8 + 4 * static_cast<std::size_t>(i));
        if (a < 0 || b < a || static_cast<std::size_t>(b) > n)
            return invalid(what + ": string " + std::to_string(i) + " lies outside its buffer");
        out.emplace_back(reinterpret_cast<const char*>(p) + a, static_cast<std::size_t>(b - a));
    }
    return out;
}

Result<TensorInfo> checkTensor(ImportCtx& ctx, const fb::Tensor* t, int sg, int idx) {
    TensorInfo ti;
    ti.name = t->name() ? t->name()->str() : std::string();
    const std::string what = "tensor " + std::to_string(idx) + (ti.name.empty() ? "" : " '" + ti.name + "'") +
                             (sg ? " of subgraph " + std::to_string(sg) : "");
    ti.typeCode = static_cast<int>(t->type());
    auto dt = mapType(ti.typeCode);
    if (!dt) return invalid(what + " has unknown element type " + std::to_string(ti.typeCode));
    ti.dtype = *dt;
    ti.isVariable = t->is_variable();
    if (t->shape()) {
        if (t->shape()->size() > kMaxRank)
            return invalid(what + " has rank " + std::to_string(t->shape()->size()) + " (at most " +
                           std::to_string(kMaxRank) + " supported)");
        for (int32_t d : *t->shape()) {
            if (d < 0) return invalid(what + " has a negative dimension (" + std::to_string(d) + ") in its shape");
            ti.shape.push_back(d);
        }
    }
    ti.signature = ti.shape;
    if (t->shape_signature() && t->shape_signature()->size() == ti.shape.size()) {
        for (std::size_t i = 0; i < ti.shape.size(); ++i) {
            int32_t d = t->shape_signature()->Get(static_cast<flatbuffers::uoffset_t>(i));
            if (d < -1) return invalid(what + " has an invalid dimension (" + std::to_string(d) + ") in its shape signature");
            ti.signature[i] = d;
        }
    }
    // Only has_rank = false with an empty shape and no data means "rank unknown"; older files never
    // set has_rank, and their empty shapes are scalars.
    auto count = ir::checkedElementCount(ti.shape);
    if (!count) return invalid(what + ": " + count.error().message);

    const auto* buffers = ctx.model->buffers();
    uint32_t b = t->buffer();
    const uint32_t nbuf = buffers ? buffers->size() : 0;
    if (b != 0 && b >= nbuf)
        return invalid(what + " refers to buffer " + std::to_string(b) + " but the file has " + std::to_string(nbuf));
    if (b < nbuf) {
        const fb::Buffer* buf = buffers->Get(b);
        const std::byte* p = nullptr;
        uint64_t n = 0;
        if (buf && buf->offset() > 1) {
            uint64_t off = buf->offset(), sz = buf->size();
            if (off > ctx.bytes.size() || sz > ctx.bytes.size() - off)
                return invalid(what + ": buffer " + std::to_string(b) + " (offset " + std::to_string(off) + ", size " +
                               std::to_string(sz) + ") runs past the end of the file (" +
                               std::to_string(ctx.bytes.size()) + " bytes)");
            p = ctx.bytes.data() + off;
            n = sz;
        } else if (buf && buf->data() && buf->data()->size() > 0) {
            p = reinterpret_cast<const std::byte*>(buf->data()->data());
            n = buf->data()->size();
        }
        if (p && n > 0) {
            if (t->sparsity())
                return unsupported(what + " is a sparse constant; densifying sparse weights is not supported yet");
            if (ti.dtype == DataType::String) {
                EW_TRY_ASSIGN(ti.strings, decodeStrings(p, static_cast<std::size_t>(n), what));
                if (static_cast<int64_t>(ti.strings.size()) != *count)
                    return invalid(what + " has " + std::to_string(*count) + " elements but its buffer holds " +
                                   std::to_string(ti.strings.size()) + " strings");
                ti.isConst = true;
            } else if (ti.dtype != DataType::Undefined) {
                auto need = ir::dataTypeStorageBytes(ti.dtype, static_cast<uint64_t>(*count));
                if (!need || *need > ctx.opts.maxTensorBytes)
                    return invalid(what + " would need more than " + std::to_string(ctx.opts.maxTensorBytes) + " bytes");
                if (*need != n)
                    return invalid(what + " of shape " + dimsText(ti.shape) + " needs " + std::to_string(*need) +
                                   " bytes but buffer " + std::to_string(b) + " holds " + std::to_string(n));
                ti.data = p;
                ti.nbytes = static_cast<std::size_t>(n);
                ti.isConst = true;
            }
        }
    }
    if (!ti.isConst && t->shape() == nullptr && !t->has_rank() && !t->shape_signature()) ti.rankKnown = false;

    if (const auto* q = t->quantization(); q && q->scale() && q->scale()->size() > 0 && isQuantStorage(ti.dtype)) {
        const auto ns = q->scale()->size();
        const auto nz = q->zero_point() ? q->zero_point()->size() : 0;
        if (nz != 0 && nz != ns)
            return invalid(what + " has " + std::to_string(ns) + " quantization scales but " + std::to_string(nz) +
                           " zero points");
        ir::QuantParams qp;
        qp.storageType = ti.dtype;
        for (float s : *q->scale()) {
            if (!std::isfinite(s)) return invalid(what + " has a non-finite quantization scale");
            qp.scales.push_back(s);
        }
        for (std::size_t i = 0; i < ns; ++i) qp.zeroPoints.push_back(nz ? q->zero_point()->Get(static_cast<flatbuffers::uoffset_t>(i)) : 0);
        int64_t lo = 0, hi = 0;
        switch (ti.dtype) {
        case DataType::Int8: lo = -128, hi = 127; break;
        case DataType::UInt8: lo = 0, hi = 255; break;
        case DataType::Int16: lo = -32768, hi = 32767; break;
        case DataType::UInt16: lo = 0, hi = 65535; break;
        case DataType::Int4: lo = -8, hi = 7; break;
        default: lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max(); break;
        }
        for (int64_t z : qp.zeroPoints)
            if (z < lo || z > hi)
                return invalid(what + " has zero point " + std::to_string(z) + " outside the range of " +
                               std::string(ir::dataTypeName(ti.dtype)));
        if (ns > 1) {
            int32_t qd = q->quantized_dimension();
            // Converters copy the filter's quantized dimension onto per-channel biases; a rank-1
            // tensor can only be quantized along its one axis.
            if (ti.shape.size() == 1 && ti.shape[0] == static_cast<int64_t>(ns)) qd = 0;
            if (qd < 0 || qd >= static_cast<int32_t>(ti.shape.size()))
                return invalid(what + " is quantized along dimension " + std::to_string(qd) + " but has rank " +
                               std::to_string(ti.shape.size()));
            if (ti.shape[static_cast<std::size_t>(qd)] != static_cast<int64_t>(ns))
                return invalid(what + " has " + std::to_string(ns) + " quantization scales but dimension " +
                               std::to_string(qd) + " of its shape " + dimsText(ti.shape) + " has size " +
                               std::to_string(ti.shape[static_cast<std::size_t>(qd)]));
            qp.axis = qd;
        }
        ti.quant = std::move(qp);
    }
    return ti;
}

VoidResult checkModel(ImportCtx& ctx) {
    const fb::Model* m = ctx.model;
    if (!m->subgraphs() || m->subgraphs()->size() == 0) return invalid("the model has no subgraphs");
    const int nsg = static_cast<int>(m->subgraphs()->size());
    if (m->operator_codes()) {
        for (const auto* oc : *m->operator_codes()) {
            int32_t code = oc ? std::max<int32_t>(oc->deprecated_builtin_code(), static_cast<int32_t>(oc->builtin_code())) : 0;
            ctx.opcodes.push_back(code);
            ctx.customCodes.push_back(oc && oc->custom_code() ? oc->custom_code()->str() : std::string());
        }
    }
    ctx.tensors.resize(static_cast<std::size_t>(nsg));
    for (int s = 0; s < nsg; ++s) {
        const fb::SubGraph* sg = m->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(s));
        const std::string where = nsg > 1 ? " of subgraph " + std::to_string(s) : "";
        if (!sg) return invalid("subgraph " + std::to_string(s) + " is missing");
        const int nt = sg->tensors() ? static_cast<int>(sg->tensors()->size()) : 0;
        auto& infos = ctx.tensors[static_cast<std::size_t>(s)];
        infos.reserve(static_cast<std::size_t>(nt));
        for (int i = 0; i < nt; ++i) {
            const fb::Tensor* t = sg->tensors()->Get(static_cast<flatbuffers::uoffset_t>(i));
            if (!t) return invalid("tensor " + std::to_string(i) + where + " is missing");
            EW_TRY_ASSIGN(auto ti, checkTensor(ctx, t, s, i));
            infos.push_back(std::move(ti));
        }
        auto checkList = [&](const flatbuffers::Vector<int32_t>* v, const std::string& what, bool allowMinus1,
                             const std::string& node) -> VoidResult {
            if (!v) return {};
            for (int32_t k : *v) {
                if (allowMinus1 && k == -1) continue;
                if (k < 0 || k >= nt)
                    return invalid(what + " refers to tensor " + std::to_string(k) + " but subgraph " + std::to_string(s) +
                                       " has " + std::to_string(nt) + " tensors",
                                   node);
            }
            return {};
        };
        EW_TRY(checkList(sg->inputs(), "an input" + where, false, {}));
        EW_TRY(checkList(sg->outputs(), "an output" + where, false, {}));
        const int nops = sg->operators() ? static_cast<int>(sg->operators()->size()) : 0;
        for (int k = 0; k < nops; ++k) {
            const fb::Operator* op = sg->operators()->Get(static_cast<flatbuffers::uoffset_t>(k));
            std::string label = "operator " + std::to_string(k) + where;
            if (!op) return invalid("operator missing", label);
            if (op->opcode_index() >= ctx.opcodes.size())
                return invalid("opcode index " + std::to_string(op->opcode_index()) + " is out of range (the file has " +
                                   std::to_string(ctx.opcodes.size()) + " operator codes)",
                               label);
            EW_TRY(checkList(op->inputs(), "an input", true, label));
            EW_TRY(checkList(op->outputs(), "an output", true, label));
            EW_TRY(checkList(op->intermediates(), "an intermediate", true, label));
            uint64_t lo = op->large_custom_options_offset(), ls = op->large_custom_options_size();
            if (lo > 1 && (lo > ctx.bytes.size() || ls > ctx.bytes.size() - lo))
                return invalid("custom options (offset " + std::to_string(lo) + ", size " + std::to_string(ls) +
                                   ") run past the end of the file",
                               label);
        }
    }
    if (m->signature_defs()) {
        for (const auto* sd : *m->signature_defs()) {
            if (!sd) return invalid("a signature is missing");
            if (sd->subgraph_index() >= static_cast<uint32_t>(nsg))
                return invalid("signature '" + (sd->signature_key() ? sd->signature_key()->str() : std::string()) +
                               "' refers to subgraph " + std::to_string(sd->subgraph_index()) + " of " + std::to_string(nsg));
            const auto nt = ctx.tensors[sd->subgraph_index()].size();
            for (const auto* list : {sd->inputs(), sd->outputs()}) {
                if (!list) continue;
                for (const auto* tm : *list)
                    if (!tm || tm->tensor_index() >= nt)
                        return invalid("signature '" + (sd->signature_key() ? sd->signature_key()->str() : std::string()) +
                                       "' refers to a tensor that does not exist");
            }
        }
    }
    if (m->metadata()) {
        const uint32_t nbuf = m->buffers() ? m->buffers()->size() : 0;
        for (const auto* md : *m->metadata())
            if (!md || md->buffer() >= nbuf)
                return invalid("metadata entry '" + (md && md->name() ? md->name()->str() : std::string()) +
                               "' refers to a buffer that does not exist");
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Options tables to attributes, generically through flatc's mini-reflection type tables.

std::string enumName(const flatbuffers::TypeTable* tt, int64_t v) {
    if (tt && tt->names) {
        for (std::size_t i = 0; i < tt->num_elems; ++i) {
            int64_t ev = tt->values ? tt->values[i] : static_cast<int64_t>(i);
            if (ev == v) return tt->names[i];
        }
    }
    return std::to_string(v);
}

/// Every field present in `table` becomes an attribute named as in the schema: ints, floats,
/// enum names (strings), strings and vectors of numbers. Absent fields (defaults) are left out.
void optionsToAttributes(const flatbuffers::Table* table, const flatbuffers::TypeTable* tt, ir::Node* n) {
    if (!table || !tt) return;
    for (std::size_t i = 0; i < tt->num_elems; ++i) {
        const auto tc = tt->type_codes[i];
        const auto voff = static_cast<flatbuffers::voffset_t>(flatbuffers::FieldIndexToOffset(static_cast<flatbuffers::voffset_t>(i)));
        if (!table->CheckField(voff)) continue;
        std::string name = tt->names ? tt->names[i] : "field_" + std::to_string(i);
        const flatbuffers::TypeTable* ref = tc.sequence_ref >= 0 && tt->type_refs ? tt->type_refs[tc.sequence_ref]() : nullptr;
        auto et = static_cast<flatbuffers::ElementaryType>(tc.base_type);
        if (!tc.is_repeating) {
            int64_t iv = 0;
            switch (et) {
            case flatbuffers::ET_BOOL:
            case flatbuffers::ET_UCHAR:
            case flatbuffers::ET_UTYPE: iv = table->GetField<uint8_t>(voff, 0); break;
            case flatbuffers::ET_CHAR: iv = table->GetField<int8_t>(voff, 0); break;
            case flatbuffers::ET_SHORT: iv = table->GetField<int16_t>(voff, 0); break;
            case flatbuffers::ET_USHORT: iv = table->GetField<uint16_t>(voff, 0); break;
            case flatbuffers::ET_INT: iv = table->GetField<int32_t>(voff, 0); break;
            case flatbuffers::ET_UINT: iv = table->GetField<uint32_t>(voff, 0); break;
            case flatbuffers::ET_LONG: iv = table->GetField<int64_t>(voff, 0); break;
            case flatbuffers::ET_ULONG: iv = static_cast<int64_t>(table->GetField<uint64_t>(voff, 0)); break;
            case flatbuffers::ET_FLOAT: n->setAttr(ir::Attribute::makeFloat(name, table->GetField<float>(voff, 0.f))); continue;
            case flatbuffers::ET_DOUBLE:
                n->setAttr(ir::Attribute::makeFloat(name, static_cast<float>(table->GetField<double>(voff, 0.0))));
                continue;
            case flatbuffers::ET_STRING: {
                const auto* s = table->GetPointer<const flatbuffers::String*>(voff);
                if (s) n->setAttr(ir::Attribute::makeString(name, s->str()));
                continue;
            }
            default: continue; // nested tables / unions: none in the options we declare
            }
            if (ref && ref->st == flatbuffers::ST_ENUM) n->setAttr(ir::Attribute::makeString(name, enumName(ref, iv)));
            else
                n->setAttr(ir::Attribute::makeInt(name, iv));
            continue;
        }
        auto ints = [&]<typename T>() {
            const auto* v = table->GetPointer<const flatbuffers::Vector<T>*>(voff);
            std::vector<int64_t> out;
            if (v)
                for (T x : *v) out.push_back(static_cast<int64_t>(x));
            n->setAttr(ir::Attribute::makeInts(name, std::move(out)));
        };
        switch (et) {
        case flatbuffers::ET_BOOL:
        case flatbuffers::ET_UCHAR: ints.template operator()<uint8_t>(); break;
        case flatbuffers::ET_CHAR: ints.template operator()<int8_t>(); break;
        case flatbuffers::ET_SHORT: ints.template operator()<int16_t>(); break;
        case flatbuffers::ET_USHORT: ints.template operator()<uint16_t>(); break;
        case flatbuffers::ET_INT: ints.template operator()<int32_t>(); break;
        case flatbuffers::ET_UINT: ints.template operator()<uint32_t>(); break;
        case flatbuffers::ET_LONG: ints.template operator()<int64_t>(); break;
        case flatbuffers::ET_FLOAT: {
            const auto* v = table->GetPointer<const flatbuffers::Vector<float>*>(voff);
            std::vector<float> out;
            if (v) out.assign(v->begin(), v->end());
            n->setAttr(ir::Attribute::makeFloats(name, std::move(out)));
            break;
        }
        default: break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Build pass.

class GraphBuilder {
public:
    GraphBuilder(ImportCtx& ctx, int sg, ir::Graph& g) : m_ctx(ctx), m_sgIndex(sg), m_g(g), m_infos(ctx.tensors[static_cast<std::size_t>(sg)]) {
        m_sg = ctx.model->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(sg));
        m_slots.resize(m_infos.size());
    }

    /// Builds the subgraph. With `bound` (an If branch) the subgraph's inputs are Identity copies
    /// of those outer values and the graph has no inputs; otherwise they are graph inputs.
    VoidResult build(const std::vector<ir::Value*>* bound);

private:
    struct Op {
        const fb::Operator* op = nullptr;
        int index = 0;
        int32_t code = 0;
        std::string label; ///< for errors
        std::string base;  ///< node name base: the first output tensor's name
        std::vector<int> ins, outs;
        int in(std::size_t k) const { return k < ins.size() ? ins[k] : -1; }
        int out(std::size_t k) const { return k < outs.size() ? outs[k] : -1; }
    };

    const TensorInfo& info(int idx) const { return m_infos[static_cast<std::size_t>(idx)]; }
    int rank(int idx) const { return info(idx).rank(); }
    std::string tensorBase(int idx) const {
        const auto& n = info(idx).name;
        return n.empty() ? "tensor_" + std::to_string(idx) : n;
    }
    std::string valueName(int idx, Layout L) const {
        std::string base = tensorBase(idx);
        if (rank(idx) == 4) {
            bool io = m_slots[static_cast<std::size_t>(idx)].io;
            if (io && L == Layout::Nchw) base += "_nchw";
            if (!io && L == Layout::Tf) base += "_nhwc";
        }
        return m_g.uniqueName(base);
    }
    ir::Shape shapeOf(int idx, Layout L) const {
        std::vector<ir::Dim> dims;
        for (int64_t d : info(idx).signature) dims.push_back(d >= 0 ? ir::Dim::known(d) : ir::Dim::unknown());
        if (L == Layout::Nchw && dims.size() == 4) dims = {dims[0], dims[3], dims[1], dims[2]};
        return ir::Shape(std::move(dims));
    }
    std::optional<ir::QuantParams> quantOf(int idx, const std::vector<int64_t>* perm) const {
        auto q = info(idx).quant;
        if (q && q->isPerAxis() && perm) q->axis = permutedAxis(*perm, q->axis);
        return q;
    }
    void typeValue(ir::Value* v, int idx, Layout L) {
        if (info(idx).dtype == DataType::Undefined) return;
        v->type = ir::Type::tensor(info(idx).dtype, info(idx).rankKnown ? std::optional<ir::Shape>(shapeOf(idx, L)) : std::nullopt);
        v->quant = quantOf(idx, L == Layout::Nchw && rank(idx) == 4 ? &kToNchw : nullptr);
    }

    std::string nodeName(const std::string& base) {
        std::string n = base.empty() ? "node" : base;
        if (m_ctx.nodeNames.insert(n).second) return n;
        for (int k = 1;; ++k) {
            std::string c = n + "_" + std::to_string(k);
            if (m_ctx.nodeNames.insert(c).second) return c;
        }
    }
    ir::Node* add(std::string opType, const std::string& name, const std::vector<ir::Value*>& ins,
                  const std::vector<ir::Value*>& outs, std::string domain = {}) {
        if (!domain.empty()) m_ctx.usedCustomDomain = true;
        return m_g.addNode(std::move(opType), std::move(domain), nodeName(name), ins, outs);
    }
    ir::Value* tmp(const std::string& base) { return *m_g.addValue(m_g.uniqueName(base)); }
    /// A one-output node on fresh value.
    ir::Value* unary(std::string opType, ir::Value* x, const std::string& name, std::vector<ir::Attribute> attrs = {}) {
        ir::Value* y = tmp(name);
        ir::Node* n = add(std::move(opType), name, {x}, {y});
        for (auto& a : attrs) n->setAttr(std::move(a));
        return y;
    }
    ir::Value* node(std::string opType, const std::vector<ir::Value*>& ins, const std::string& name,
                    std::vector<ir::Attribute> attrs = {}) {
        ir::Value* y = tmp(name);
        ir::Node* n = add(std::move(opType), name, ins, {y});
        for (auto& a : attrs) n->setAttr(std::move(a));
        return y;
    }

    ir::Value* constant(ir::Tensor t, const std::string& base) {
        std::string name = m_g.uniqueName(base);
        t.name = name;
        ir::Value* v = *m_g.addValue(name, ir::Type::tensor(t.dtype, ir::Shape::of(t.dims)));
        v->initializer = std::move(t);
        m_g.initializers.push_back(v);
        return v;
    }
    ir::Value* constI64(std::vector<int64_t> v, const std::string& base, bool scalar = false) {
        std::vector<int64_t> dims;
        if (!scalar) dims.push_back(static_cast<int64_t>(v.size()));
        return constant(ir::Tensor::fromVector(base, DataType::Int64, dims, std::move(v)), base);
    }
    ir::Value* constF32(float v, const std::string& base) {
        return constant(ir::Tensor::fromVector(base, DataType::Float, {}, std::vector<float>{v}), base);
    }

    /// Constant bytes of tensor idx as an IR tensor, permuted by `perm` (empty: as stored).
    ir::Tensor constTensor(int idx, const std::vector<int64_t>& dims, const std::vector<int64_t>& perm) {
        const auto& ti = info(idx);
        ir::Tensor t;
        if (ti.dtype == DataType::String) {
            t = ir::Tensor(tensorBase(idx), DataType::String, dims, nullptr, nullptr, 0);
            t.strings = ti.strings;
            return t;
        }
        const int bits = ir::dataTypeBits(ti.dtype);
        bool identity = true;
        for (std::size_t i = 0; i < perm.size(); ++i)
            if (perm[i] != static_cast<int64_t>(i)) identity = false;
        if (identity || bits < 8) {
            std::vector<int64_t> outDims = dims;
            if (!perm.empty())
                for (std::size_t i = 0; i < perm.size(); ++i) outDims[i] = dims[static_cast<std::size_t>(perm[i])];
            if (m_ctx.owner)
                return ir::Tensor(tensorBase(idx), ti.dtype, outDims, m_ctx.owner, ti.data, ti.nbytes);
            std::vector<std::byte> copy(ti.data, ti.data + ti.nbytes);
            return ir::Tensor::fromVector(tensorBase(idx), ti.dtype, outDims, std::move(copy));
        }
        auto bytes = permuteBytes(ti.data, dims, perm, static_cast<std::size_t>(bits / 8));
        std::vector<int64_t> outDims(dims.size());
        for (std::size_t i = 0; i < perm.size(); ++i) outDims[i] = dims[static_cast<std::size_t>(perm[i])];
        return ir::Tensor::fromVector(tensorBase(idx), ti.dtype, outDims, std::move(bytes));
    }

    /// A constant tensor as an initializer, permuted by `perm` (sub-byte types are not permuted:
    /// callers use a Transpose node then). Cached per (tensor, perm).
    ir::Value* constValue(int idx, const std::vector<int64_t>& perm, std::string name = {}) {
        std::string key = std::to_string(idx);
        for (auto p : perm) key += "," + std::to_string(p);
        if (auto it = m_constCache.find(key); it != m_constCache.end()) return it->second;
        const auto& ti = info(idx);
        ir::Tensor t = constTensor(idx, ti.shape, perm);
        if (name.empty()) name = tensorBase(idx);
        ir::Value* v = constant(std::move(t), name);
        auto q = ti.quant;
        if (q && q->isPerAxis() && !perm.empty()) q->axis = permutedAxis(perm, q->axis);
        v->quant = q;
        m_constCache[key] = v;
        return v;
    }
    /// A constant of rank < 4 broadcast against rank-4 NHWC tensors, as the equivalent rank-4
    /// NCHW constant (leading ones, then channels to axis 1).
    ir::Value* constRank4Nchw(int idx) {
        const std::string key = "nchw4," + std::to_string(idx);
        if (auto it = m_constCache.find(key); it != m_constCache.end()) return it->second;
        const auto& ti = info(idx);
        const int lead = 4 - rank(idx);
        std::vector<int64_t> dims(static_cast<std::size_t>(lead), 1);
        dims.insert(dims.end(), ti.shape.begin(), ti.shape.end());
        ir::Value* v = constant(constTensor(idx, dims, kToNchw), tensorBase(idx));
        auto q = ti.quant;
        if (q && q->isPerAxis()) q->axis = nchwAxis(q->axis + lead);
        v->quant = q;
        m_constCache[key] = v;
        return v;
    }
    bool permutable(int idx) const { return ir::dataTypeBits(info(idx).dtype) >= 8; }

    /// Tensor idx in layout L (L is ignored unless the tensor has rank 4).
    Result<ir::Value*> value(int idx, Layout L, const std::string& label) {
        auto& s = m_slots[static_cast<std::size_t>(idx)];
        const auto& ti = info(idx);
        if (rank(idx) != 4) L = Layout::Tf;
        if (ir::Value* have = L == Layout::Tf ? s.tf : s.nchw) return have;
        ir::Value* other = L == Layout::Tf ? s.nchw : s.tf;
        if (!other && ti.isConst) {
            if (L == Layout::Tf || permutable(idx)) {
                ir::Value* v = constValue(idx, L == Layout::Tf ? std::vector<int64_t>{} : kToNchw, valueName(idx, L));
                (L == Layout::Tf ? s.tf : s.nchw) = v;
                return v;
            }
            s.tf = constValue(idx, {}, valueName(idx, Layout::Tf));
            other = s.tf;
        }
        if (!other && ti.isVariable && ti.dtype != DataType::Undefined && ti.dtype != DataType::String) {
            // A variable tensor (RNN state) starts as zeros; it is the operator's own state.
            auto n = ir::dataTypeStorageBytes(ti.dtype, static_cast<uint64_t>(*ir::checkedElementCount(ti.shape)));
            if (!n || *n > kMaxVariableBytes)
                return invalid("variable tensor " + std::to_string(idx) + " '" + ti.name + "' of shape " + dimsText(ti.shape) +
                                   " is too large to start as zeros",
                               label);
            std::vector<std::byte> zeros(*n);
            ir::Value* v = constant(ir::Tensor::fromVector(tensorBase(idx), ti.dtype, ti.shape, std::move(zeros)),
                                    valueName(idx, Layout::Tf));
            v->quant = ti.quant;
            s.tf = v;
            if (L == Layout::Tf) return v;
            other = v;
        }
        if (!other)
            return invalid("tensor " + std::to_string(idx) + " '" + ti.name +
                               "' is read before any operator produces it (and it is neither a constant nor an input)",
                           label);
        ir::Value* v = *m_g.addValue(valueName(idx, L));
        typeValue(v, idx, L);
        ir::Node* n = add("Transpose", v->name, {other}, {v});
        n->setAttr(ir::Attribute::makeInts("perm", L == Layout::Nchw ? kToNchw : kToNhwc));
        (L == Layout::Tf ? s.tf : s.nchw) = v;
        return v;
    }

    /// The real-valued view of v: DequantizeLinear for quantized integers, Cast for float16;
    /// v itself otherwise. Cached per value.
    ir::Value* real(ir::Value* v) {
        if (auto it = m_realCache.find(v); it != m_realCache.end()) return it->second;
        ir::Value* out = v;
        if (v->quant && isQuantStorage(v->type.elemType) && !v->quant->scales.empty()) {
            const auto& q = *v->quant;
            const bool perAxis = q.isPerAxis();
            std::vector<int64_t> dims;
            if (perAxis) dims.push_back(static_cast<int64_t>(q.scales.size()));
            std::vector<ir::Value*> ins{v, constant(ir::Tensor::fromVector(v->name + "_scale", DataType::Float, dims, q.scales), v->name + "_scale")};
            if (ir::Value* zp = zeroPointConst(q, v->name + "_zero_point")) ins.push_back(zp);
            out = node("DequantizeLinear", ins, v->name + "_dequant",
                       perAxis ? mkAttrs(ir::Attribute::makeInt("axis", q.axis)) : std::vector<ir::Attribute>());
            out->type = ir::Type::tensor(DataType::Float, v->type.shape);
        } else if (v->type.elemType == DataType::Float16 || v->type.elemType == DataType::BFloat16) {
            out = node("Cast", {v}, v->name + "_float", mkAttrs(ir::Attribute::makeInt("to", static_cast<int64_t>(DataType::Float))));
            out->type = ir::Type::tensor(DataType::Float, v->type.shape);
        }
        m_realCache[v] = out;
        return out;
    }
    /// The zero-point initializer for QuantizeLinear/DequantizeLinear (typed as the storage);
    /// null for int32 / int4 storage with all-zero points (ONNX's default).
    ir::Value* zeroPointConst(const ir::QuantParams& q, const std::string& base, bool forQuantize = false) {
        std::vector<int64_t> dims;
        if (q.isPerAxis()) dims.push_back(static_cast<int64_t>(q.zeroPoints.size()));
        bool allZero = std::all_of(q.zeroPoints.begin(), q.zeroPoints.end(), [](int64_t z) { return z == 0; });
        auto make = [&]<typename T>() {
            std::vector<T> zp;
            for (int64_t z : q.zeroPoints) zp.push_back(static_cast<T>(z));
            return constant(ir::Tensor::fromVector(base, q.storageType, dims, std::move(zp)), base);
        };
        switch (q.storageType) {
        case DataType::Int8: return make.template operator()<int8_t>();
        case DataType::UInt8: return make.template operator()<uint8_t>();
        case DataType::Int16: return make.template operator()<int16_t>();
        case DataType::UInt16: return make.template operator()<uint16_t>();
        case DataType::Int32: return allZero && !forQuantize ? nullptr : make.template operator()<int32_t>();
        default: return nullptr;
        }
    }
    Result<ir::Value*> realValue(int idx, Layout L, const std::string& label) {
        EW_TRY_ASSIGN(ir::Value * v, value(idx, L, label));
        return real(v);
    }
    /// The layout a producer already made for this tensor (NCHW preferred for rank 4).
    Layout existingLayout(int idx) const {
        if (rank(idx) != 4) return Layout::Tf;
        const auto& s = m_slots[static_cast<std::size_t>(idx)];
        if (s.nchw || !s.tf) return Layout::Nchw;
        return Layout::Tf;
    }

    /// Makes `v` the value of output tensor idx in layout L. `computed`: v is a real-valued
    /// result to be quantized (QuantizeLinear) or cast to the tensor's type where that differs.
    VoidResult bindOutput(int idx, ir::Value* v, Layout L, bool computed, const std::string& label) {
        if (idx < 0) return {};
        auto& s = m_slots[static_cast<std::size_t>(idx)];
        const auto& ti = info(idx);
        if (rank(idx) != 4) L = Layout::Tf;
        if (s.tf || s.nchw || ti.isConst)
            return invalid("tensor " + std::to_string(idx) + " '" + ti.name + "' is produced twice (or is a constant)", label);
        // The op's own result value may hold the tensor's name: free it so the tensor gets it.
        const bool isTemp = v->producer() && !v->isInitializer() && !m_bound.count(v) && v->graph() == &m_g;
        if (isTemp) EW_TRY(m_g.renameValue(v, m_g.uniqueName(v->name + "_tmp")));
        std::string name = valueName(idx, L);
        ir::Value* out = nullptr;
        if (isTemp && computed && (ti.quant || ti.dtype == DataType::Float16 || ti.dtype == DataType::BFloat16))
            EW_TRY(m_g.renameValue(v, m_g.uniqueName(name + "_float")));
        if (computed && ti.quant) {
            const auto& q0 = *ti.quant;
            ir::QuantParams q = q0;
            if (q.isPerAxis() && L == Layout::Nchw) q.axis = nchwAxis(q.axis);
            std::vector<int64_t> dims;
            if (q.isPerAxis()) dims.push_back(static_cast<int64_t>(q.scales.size()));
            std::vector<ir::Value*> ins{v, constant(ir::Tensor::fromVector(name + "_scale", DataType::Float, dims, q.scales), name + "_scale")};
            ir::Value* zp = zeroPointConst(q, name + "_zero_point", true);
            if (!zp) return unsupported("quantizing to " + std::string(ir::dataTypeName(ti.dtype)) + " is not supported", label);
            ins.push_back(zp);
            out = *m_g.addValue(name);
            ir::Node* n = add("QuantizeLinear", name + "/quantize", ins, {out});
            if (q.isPerAxis()) n->setAttr(ir::Attribute::makeInt("axis", q.axis));
        } else if (computed && (ti.dtype == DataType::Float16 || ti.dtype == DataType::BFloat16)) {
            out = *m_g.addValue(name);
            ir::Node* n = add("Cast", name + "/cast", {v}, {out});
            n->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(ti.dtype)));
        } else if (!isTemp) {
            out = *m_g.addValue(name);
            add("Identity", name, {v}, {out});
        } else {
            EW_TRY(m_g.renameValue(v, name));
            out = v;
        }
        typeValue(out, idx, L);
        m_bound.insert(out);
        (L == Layout::Tf ? s.tf : s.nchw) = out;
        return {};
    }

    Result<ir::Value*> activation(ir::Value* x, int act, const std::string& base) {
        switch (static_cast<fb::ActivationFunctionType>(act)) {
        case fb::ActivationFunctionType::NONE: return x;
        case fb::ActivationFunctionType::RELU: return unary("Relu", x, base + "/relu");
        case fb::ActivationFunctionType::RELU6: return clip(x, 0.f, 6.f, base + "/relu6");
        case fb::ActivationFunctionType::RELU_N1_TO_1: return clip(x, -1.f, 1.f, base + "/relu_n1_to_1");
        case fb::ActivationFunctionType::TANH: return unary("Tanh", x, base + "/tanh");
        case fb::ActivationFunctionType::SIGN_BIT: {
            ir::Value* y = tmp(base + "/sign_bit");
            add("SIGN_BIT", base + "/sign_bit", {x}, {y}, kTfliteDomain);
            return y;
        }
        }
        return invalid("unknown fused activation function " + std::to_string(act), base);
    }
    ir::Value* clip(ir::Value* x, float lo, float hi, const std::string& name) {
        return node("Clip", {x, constF32(lo, name + "_min"), constF32(hi, name + "_max")}, name);
    }

    /// Integer contents of a constant int tensor (int32/int64/int16/int8/uint8).
    std::optional<std::vector<int64_t>> constInts(int idx) const {
        if (idx < 0) return std::nullopt;
        const auto& ti = info(idx);
        if (!ti.isConst || !ti.data) return std::nullopt;
        std::vector<int64_t> out;
        // Little-endian elements of type T, as the flatbuffer stores them (whole elements only).
        auto read = [&]<typename T>(T) {
            for (std::size_t i = 0; i + sizeof(T) <= ti.nbytes; i += sizeof(T)) {
                T v;
                std::memcpy(&v, ti.data + i, sizeof(T));
                out.push_back(v);
            }
        };
        switch (ti.dtype) {
        case DataType::Int32: read(int32_t{}); break;
        case DataType::Int64: read(int64_t{}); break;
        case DataType::Int16: read(int16_t{}); break;
        case DataType::Int8: read(int8_t{}); break;
        case DataType::UInt8: read(uint8_t{}); break;
        default: return std::nullopt;
        }
        return out;
    }
    /// A real-valued constant scalar (dequantized when the tensor is quantized).
    std::optional<float> constScalar(int idx) const {
        if (idx < 0) return std::nullopt;
        const auto& ti = info(idx);
        if (!ti.isConst || !ti.data || ti.nbytes == 0) return std::nullopt;
        if (ti.dtype == DataType::Float && ti.nbytes >= 4) {
            float f;
            std::memcpy(&f, ti.data, 4);
            return f;
        }
        auto ints = constInts(idx);
        if (!ints || ints->empty()) return std::nullopt;
        if (ti.quant) return static_cast<float>((static_cast<double>((*ints)[0]) - static_cast<double>(ti.quant->zeroPoints[0])) * ti.quant->scales[0]);
        return static_cast<float>((*ints)[0]);
    }

    /// Explicit ONNX pads [top, left, bottom, right] for SAME/VALID, or nullopt when the spatial
    /// input size is unknown (the caller uses auto_pad SAME_UPPER then).
    std::optional<std::vector<int64_t>> pads2d(int inIdx, int padding, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                                               int64_t dh, int64_t dw) const {
        if (static_cast<fb::Padding>(padding) != fb::Padding::SAME) return std::vector<int64_t>{0, 0, 0, 0};
        const auto& sig = info(inIdx).signature;
        if (sig.size() != 4 || sig[1] < 0 || sig[2] < 0) return std::nullopt;
        auto one = [](int64_t in, int64_t k, int64_t s, int64_t d) {
            int64_t out = (in + s - 1) / s;
            int64_t total = std::max<int64_t>((out - 1) * s + (k - 1) * d + 1 - in, 0);
            return std::pair<int64_t, int64_t>{total / 2, total - total / 2};
        };
        auto [t, b] = one(sig[1], kh, sh, dh);
        auto [l, r] = one(sig[2], kw, sw, dw);
        return std::vector<int64_t>{t, l, b, r};
    }
    void setPads(ir::Node* n, const std::optional<std::vector<int64_t>>& pads) {
        if (pads) n->setAttr(ir::Attribute::makeInts("pads", *pads));
        else
            n->setAttr(ir::Attribute::makeString("auto_pad", "SAME_UPPER"));
    }

    /// Value of input tensor `idx` for an op whose output `outIdx` keeps the same numbers
    /// (reshape, transpose, slice...): the stored integers when input and output share their
    /// quantization, else the real-valued view. second = the result needs requantizing.
    Result<std::pair<ir::Value*, bool>> movedValue(int idx, int outIdx, Layout L, const std::string& label) {
        const auto& a = info(idx);
        const auto& b = info(outIdx);
        EW_TRY_ASSIGN(ir::Value * v, value(idx, L, label));
        if (a.dtype == b.dtype && a.quant == b.quant) return std::pair{v, false};
        return std::pair{real(v), true};
    }

    Result<bool> convertOp(const Op& o);
    Result<bool> convBuiltin(const Op& o);
    VoidResult genericNode(const Op& o);
    Result<std::unique_ptr<ir::Graph>> subgraphAttr(int sgIndex, ir::Node* owner, const std::string& label,
                                                    const std::vector<ir::Value*>* bound);

    ImportCtx& m_ctx;
    int m_sgIndex;
    ir::Graph& m_g;
    const std::vector<TensorInfo>& m_infos;
    const fb::SubGraph* m_sg = nullptr;
    std::vector<Slot> m_slots;
    std::unordered_map<std::string, ir::Value*> m_constCache;
    std::unordered_map<ir::Value*, ir::Value*> m_realCache;
    std::unordered_set<ir::Value*> m_bound;
};

Result<std::unique_ptr<ir::Graph>> GraphBuilder::subgraphAttr(int sgIndex, ir::Node* owner, const std::string& label,
                                                              const std::vector<ir::Value*>* bound) {
    const int nsg = static_cast<int>(m_ctx.model->subgraphs()->size());
    if (sgIndex < 0 || sgIndex >= nsg)
        return invalid("refers to subgraph " + std::to_string(sgIndex) + " but the model has " + std::to_string(nsg), label);
    if (std::find(m_ctx.subgraphStack.begin(), m_ctx.subgraphStack.end(), sgIndex) != m_ctx.subgraphStack.end())
        return invalid("subgraph " + std::to_string(sgIndex) + " calls itself (recursive subgraphs are not supported)", label);
    if (static_cast<int>(m_ctx.subgraphStack.size()) >= kMaxSubgraphDepth)
        return invalid("subgraphs are nested more than " + std::to_string(kMaxSubgraphDepth) + " deep", label);
    m_ctx.subgraphUsed[static_cast<std::size_t>(sgIndex)] = true;
    auto g = std::make_unique<ir::Graph>(&m_g, owner);
    const auto* sg = m_ctx.model->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(sgIndex));
    g->name = sg->name() ? sg->name()->str() : "subgraph_" + std::to_string(sgIndex);
    m_ctx.subgraphStack.push_back(sgIndex);
    GraphBuilder b(m_ctx, sgIndex, *g);
    auto r = b.build(bound);
    m_ctx.subgraphStack.pop_back();
    if (!r) return std::unexpected(std::move(r).error());
    return g;
}

VoidResult GraphBuilder::genericNode(const Op& o) {
    std::vector<ir::Value*> ins, outs;
    for (int idx : o.ins) {
        if (idx < 0) {
            ins.push_back(nullptr);
            continue;
        }
        EW_TRY_ASSIGN(ir::Value * v, value(idx, Layout::Tf, o.label));
        ins.push_back(v);
    }
    // Trailing omitted inputs are dropped (ONNX's convention); inner ones stay as "".
    while (!ins.empty() && !ins.back()) ins.pop_back();
    for (int idx : o.outs) {
        if (idx < 0) {
            outs.push_back(nullptr);
            continue;
        }
        auto& s = m_slots[static_cast<std::size_t>(idx)];
        if (s.tf || s.nchw || info(idx).isConst)
            return invalid("tensor " + std::to_string(idx) + " '" + info(idx).name + "' is produced twice (or is a constant)", o.label);
        ir::Value* v = *m_g.addValue(valueName(idx, Layout::Tf));
        typeValue(v, idx, Layout::Tf);
        outs.push_back(v);
    }
    std::string opType;
    const fb::BuiltinOperator bop = static_cast<fb::BuiltinOperator>(o.code);
    if (bop == fb::BuiltinOperator::CUSTOM) {
        opType = m_ctx.customCodes[o.op->opcode_index()];
        if (opType.empty()) opType = "CUSTOM";
    } else if (const char* nm = builtinOperatorName(o.code)) {
        opType = nm;
    } else {
        opType = "BUILTIN_" + std::to_string(o.code);
    }
    ir::Node* n = add(opType, o.base, ins, outs, kTfliteDomain);
    for (ir::Value* v : outs)
        if (v) m_bound.insert(v);
    for (std::size_t k = 0; k < o.outs.size(); ++k)
        if (o.outs[k] >= 0) m_slots[static_cast<std::size_t>(o.outs[k])].tf = outs[k];

    const auto ot = o.op->builtin_options_type();
    if (ot != fb::BuiltinOptions::NONE) {
        const auto* utt = fb::BuiltinOptionsTypeTable();
        const auto u = static_cast<std::size_t>(ot);
        const char* on = fb::EnumNameBuiltinOptions(ot);
        n->setAttr(ir::Attribute::makeString("builtin_options_type", on && on[0] ? std::string(on) : std::to_string(u)));
        if (u < utt->num_elems && utt->type_codes[u].sequence_ref >= 0)
            optionsToAttributes(reinterpret_cast<const flatbuffers::Table*>(o.op->builtin_options()),
                                utt->type_refs[utt->type_codes[u].sequence_ref](), n);
    }
    const auto ver = m_ctx.model->operator_codes()->Get(o.op->opcode_index())->version();
    n->setAttr(ir::Attribute::makeInt("tflite_version", ver));
    // Custom options: flexbuffer bytes, inline or at an offset (checked against the file size).
    const std::byte* cp = nullptr;
    std::size_t cn = 0;
    if (o.op->large_custom_options_offset() > 1) {
        cp = m_ctx.bytes.data() + o.op->large_custom_options_offset();
        cn = static_cast<std::size_t>(o.op->large_custom_options_size());
    } else if (o.op->custom_options() && o.op->custom_options()->size() > 0) {
        cp = reinterpret_cast<const std::byte*>(o.op->custom_options()->data());
        cn = o.op->custom_options()->size();
    }
    if (cp) {
        std::vector<std::byte> copy(cp, cp + cn);
        n->setAttr(ir::Attribute::makeTensor("custom_options", ir::Tensor::fromVector("custom_options", DataType::UInt8,
                                                                                      {static_cast<int64_t>(cn)}, std::move(copy))));
        n->setAttr(ir::Attribute::makeString("custom_options_format", "FLEXBUFFERS"));
    }
    if (o.op->intermediates() && o.op->intermediates()->size() > 0) {
        std::vector<std::string> names;
        for (int32_t k : *o.op->intermediates()) names.push_back(k >= 0 ? tensorBase(k) : std::string());
        ir::Attribute a;
        a.name = "intermediates";
        a.type = ir::AttrType::Strings;
        a.strings = std::move(names);
        n->setAttr(std::move(a));
    }
    // Control flow: the called subgraphs, as graph attributes (with their own inputs).
    auto graphAttr = [&](const char* name, int32_t sgi) -> VoidResult {
        EW_TRY_ASSIGN(auto g, subgraphAttr(sgi, n, o.label, nullptr));
        ir::Attribute a;
        a.name = name;
        a.type = ir::AttrType::Graph;
        a.g = std::move(g);
        n->setAttr(std::move(a));
        return {};
    };
    if (const auto* w = o.op->builtin_options_as_WhileOptions()) {
        EW_TRY(graphAttr("cond", w->cond_subgraph_index()));
        EW_TRY(graphAttr("body", w->body_subgraph_index()));
    } else if (const auto* c = o.op->builtin_options_as_CallOnceOptions()) {
        EW_TRY(graphAttr("init", c->init_subgraph_index()));
    } else if (const auto* c2 = o.op->builtin_options_as_CallOptions()) {
        EW_TRY(graphAttr("subgraph", static_cast<int32_t>(std::min<uint32_t>(c2->subgraph(), INT32_MAX))));
    } else if (const auto* f = o.op->builtin_options_as_IfOptions()) {
        EW_TRY(graphAttr("then_branch", f->then_subgraph_index()));
        EW_TRY(graphAttr("else_branch", f->else_subgraph_index()));
    }
    return {};
}

Result<bool> GraphBuilder::convertOp(const Op& o) {
    auto r = convBuiltin(o);
    if (!r) return r;
    if (*r) return true;
    EW_TRY(genericNode(o));
    return false;
}

Result<bool> GraphBuilder::convBuiltin(const Op& o) {
    using BO = fb::BuiltinOperator;
    const auto bop = static_cast<BO>(o.code);
    const auto* op = o.op;
    const std::string& L = o.label;
    const std::string& base = o.base;
    auto needIns = [&](std::size_t n) { return o.ins.size() >= n && std::all_of(o.ins.begin(), o.ins.begin() + static_cast<long>(n), [](int i) { return i >= 0; }); };
    auto out0 = o.out(0);
    if (o.outs.empty() || out0 < 0) return false;

    switch (bop) {
    case BO::CONV_2D:
    case BO::DEPTHWISE_CONV_2D: {
        if (!needIns(2) || rank(o.in(0)) != 4 || rank(o.in(1)) != 4 || rank(out0) != 4) return false;
        const bool dw = bop == BO::DEPTHWISE_CONV_2D;
        int padding = 0, act = 0;
        int64_t sw = 1, sh = 1, dwf = 1, dhf = 1;
        if (dw) {
            const auto* opt = op->builtin_options_as_DepthwiseConv2DOptions();
            if (opt) padding = static_cast<int>(opt->padding()), sw = opt->stride_w(), sh = opt->stride_h(),
                     dwf = opt->dilation_w_factor(), dhf = opt->dilation_h_factor(), act = static_cast<int>(opt->fused_activation_function());
        } else {
            const auto* opt = op->builtin_options_as_Conv2DOptions();
            if (opt) padding = static_cast<int>(opt->padding()), sw = opt->stride_w(), sh = opt->stride_h(),
                     dwf = opt->dilation_w_factor(), dhf = opt->dilation_h_factor(), act = static_cast<int>(opt->fused_activation_function());
        }
        if (sw < 1 || sh < 1 || dwf < 1 || dhf < 1) return invalid("strides and dilations must be positive", L);
        const auto& fs = info(o.in(1)).shape; // OHWI, or 1HW(C*M) for depthwise
        const int64_t kh = fs[1], kw = fs[2];
        const int64_t cin = info(o.in(0)).shape[3];
        int64_t group = 1;
        const std::vector<int64_t> perm = dw ? std::vector<int64_t>{3, 0, 1, 2} : kToNchw;
        if (dw) {
            group = cin;
            if (cin <= 0 || fs[3] % cin != 0)
                return invalid("depthwise filter " + dimsText(fs) + " does not match " + std::to_string(cin) + " input channels", L);
        } else {
            if (fs[3] <= 0 || cin % fs[3] != 0)
                return invalid("filter " + dimsText(fs) + " does not match " + std::to_string(cin) + " input channels", L);
            group = cin / fs[3];
        }
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), Layout::Nchw, L));
        ir::Value* w = nullptr;
        if (info(o.in(1)).isConst && permutable(o.in(1))) {
            w = real(constValue(o.in(1), perm));
        } else {
            EW_TRY_ASSIGN(ir::Value * wf, realValue(o.in(1), Layout::Tf, L));
            w = unary("Transpose", wf, base + "/filter", mkAttrs(ir::Attribute::makeInts("perm", perm)));
        }
        std::vector<ir::Value*> ins{x, w};
        if (o.in(2) >= 0) {
            EW_TRY_ASSIGN(ir::Value * b, realValue(o.in(2), Layout::Tf, L));
            ins.push_back(b);
        }
        ir::Value* y = tmp(base + "_conv");
        ir::Node* n = add("Conv", base, ins, {y});
        n->setAttr(ir::Attribute::makeInts("kernel_shape", {kh, kw}));
        n->setAttr(ir::Attribute::makeInts("strides", {sh, sw}));
        n->setAttr(ir::Attribute::makeInts("dilations", {dhf, dwf}));
        n->setAttr(ir::Attribute::makeInt("group", group));
        setPads(n, pads2d(o.in(0), padding, kh, kw, sh, sw, dhf, dwf));
        EW_TRY_ASSIGN(y, activation(y, act, base));
        EW_TRY(bindOutput(out0, y, Layout::Nchw, true, L));
        return true;
    }
    case BO::TRANSPOSE_CONV: {
        if (!needIns(3) || rank(o.in(1)) != 4 || rank(o.in(2)) != 4 || rank(out0) != 4) return false;
        const auto* opt = op->builtin_options_as_TransposeConvOptions();
        int padding = opt ? static_cast<int>(opt->padding()) : 0;
        int64_t sw = opt ? opt->stride_w() : 1, sh = opt ? opt->stride_h() : 1;
        int act = opt ? static_cast<int>(opt->fused_activation_function()) : 0;
        if (sw < 1 || sh < 1) return invalid("strides must be positive", L);
        const auto& fs = info(o.in(1)).shape; // OHWI
        const auto& is = info(o.in(2)).shape;
        const auto& os = info(out0).shape;
        const int64_t kh = fs[1], kw = fs[2];
        std::vector<int64_t> pads(4, 0), outPad(2, 0);
        for (int d = 0; d < 2; ++d) {
            int64_t in = is[static_cast<std::size_t>(1 + d)], out = os[static_cast<std::size_t>(1 + d)];
            int64_t s = d == 0 ? sh : sw, k = d == 0 ? kh : kw;
            int64_t full = (in - 1) * s + k;
            int64_t total = full - out;
            if (static_cast<fb::Padding>(padding) == fb::Padding::VALID || total < 0) {
                pads[static_cast<std::size_t>(d)] = 0;
                pads[static_cast<std::size_t>(d + 2)] = std::max<int64_t>(total, 0);
                outPad[static_cast<std::size_t>(d)] = std::max<int64_t>(-total, 0);
            } else {
                pads[static_cast<std::size_t>(d)] = total / 2;
                pads[static_cast<std::size_t>(d + 2)] = total - total / 2;
            }
        }
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(2), Layout::Nchw, L));
        ir::Value* w = nullptr;
        const std::vector<int64_t> perm{3, 0, 1, 2};
        if (info(o.in(1)).isConst && permutable(o.in(1))) {
            w = real(constValue(o.in(1), perm));
        } else {
            EW_TRY_ASSIGN(ir::Value * wf, realValue(o.in(1), Layout::Tf, L));
            w = unary("Transpose", wf, base + "/filter", mkAttrs(ir::Attribute::makeInts("perm", perm)));
        }
        std::vector<ir::Value*> ins{x, w};
        if (o.in(3) >= 0) {
            EW_TRY_ASSIGN(ir::Value * b, realValue(o.in(3), Layout::Tf, L));
            ins.push_back(b);
        }
        ir::Value* y = tmp(base + "_convt");
        ir::Node* n = add("ConvTranspose", base, ins, {y});
        n->setAttr(ir::Attribute::makeInts("kernel_shape", {kh, kw}));
        n->setAttr(ir::Attribute::makeInts("strides", {sh, sw}));
        n->setAttr(ir::Attribute::makeInts("pads", pads));
        if (outPad[0] || outPad[1]) n->setAttr(ir::Attribute::makeInts("output_padding", outPad));
        EW_TRY_ASSIGN(y, activation(y, act, base));
        EW_TRY(bindOutput(out0, y, Layout::Nchw, true, L));
        return true;
    }
    case BO::AVERAGE_POOL_2D:
    case BO::MAX_POOL_2D: {
        if (!needIns(1) || rank(o.in(0)) != 4 || rank(out0) != 4) return false;
        const auto* opt = op->builtin_options_as_Pool2DOptions();
        if (!opt) return false;
        int64_t kh = opt->filter_height(), kw = opt->filter_width(), sh = opt->stride_h(), sw = opt->stride_w();
        if (kh < 1 || kw < 1 || sh < 1 || sw < 1) return invalid("pool filter and strides must be positive", L);
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), Layout::Nchw, L));
        const bool avg = bop == BO::AVERAGE_POOL_2D;
        ir::Value* y = tmp(base + "_pool");
        ir::Node* n = add(avg ? "AveragePool" : "MaxPool", base, {x}, {y});
        n->setAttr(ir::Attribute::makeInts("kernel_shape", {kh, kw}));
        n->setAttr(ir::Attribute::makeInts("strides", {sh, sw}));
        setPads(n, pads2d(o.in(0), static_cast<int>(opt->padding()), kh, kw, sh, sw, 1, 1));
        if (avg) n->setAttr(ir::Attribute::makeInt("count_include_pad", 0));
        EW_TRY_ASSIGN(y, activation(y, static_cast<int>(opt->fused_activation_function()), base));
        EW_TRY(bindOutput(out0, y, Layout::Nchw, true, L));
        return true;
    }
    case BO::FULLY_CONNECTED: {
        if (!needIns(2) || rank(o.in(1)) != 2 || rank(o.in(0)) < 1) return false;
        const auto* opt = op->builtin_options_as_FullyConnectedOptions();
        if (opt && opt->weights_format() != fb::FullyConnectedOptionsWeightsFormat::DEFAULT) return false;
        const int64_t inDim = info(o.in(1)).shape[1];
        const int outRank = rank(out0);
        std::vector<int64_t> outShape = info(out0).signature;
        if (outRank != 2 && std::count(outShape.begin(), outShape.end(), -1) > 1) return false;
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), Layout::Tf, L));
        if (rank(o.in(0)) != 2) x = node("Reshape", {x, constI64({-1, inDim}, base + "_flat_shape")}, base + "/flatten");
        EW_TRY_ASSIGN(ir::Value * w, realValue(o.in(1), Layout::Tf, L));
        std::vector<ir::Value*> ins{x, w};
        if (o.in(2) >= 0) {
            EW_TRY_ASSIGN(ir::Value * b, realValue(o.in(2), Layout::Tf, L));
            ins.push_back(b);
        }
        ir::Value* y = tmp(base + "_gemm");
        ir::Node* n = add("Gemm", base, ins, {y});
        n->setAttr(ir::Attribute::makeInt("transB", 1));
        if (outRank >= 0 && outRank != 2) {
            // keep_num_dims: the leading dims of the input survive.
            for (auto& d : outShape)
                if (d < 0) d = -1;
            y = node("Reshape", {y, constI64(outShape, base + "_out_shape")}, base + "/reshape");
        }
        EW_TRY_ASSIGN(y, activation(y, opt ? static_cast<int>(opt->fused_activation_function()) : 0, base));
        EW_TRY(bindOutput(out0, y, Layout::Tf, true, L));
        return true;
    }
    case BO::BATCH_MATMUL: {
        if (!needIns(2) || rank(o.in(0)) < 2 || rank(o.in(1)) < 2) return false;
        const auto* opt = op->builtin_options_as_BatchMatMulOptions();
        EW_TRY_ASSIGN(ir::Value * a, realValue(o.in(0), Layout::Tf, L));
        EW_TRY_ASSIGN(ir::Value * b, realValue(o.in(1), Layout::Tf, L));
        auto swapLast = [&](ir::Value* v, int r, const std::string& nm) {
            std::vector<int64_t> perm(static_cast<std::size_t>(r));
            std::iota(perm.begin(), perm.end(), 0);
            std::swap(perm[static_cast<std::size_t>(r - 1)], perm[static_cast<std::size_t>(r - 2)]);
            return unary("Transpose", v, nm, mkAttrs(ir::Attribute::makeInts("perm", perm)));
        };
        if (opt && opt->adj_x()) a = swapLast(a, rank(o.in(0)), base + "/adj_x");
        if (opt && opt->adj_y()) b = swapLast(b, rank(o.in(1)), base + "/adj_y");
        ir::Value* y = node("MatMul", {a, b}, base);
        EW_TRY(bindOutput(out0, y, Layout::Tf, true, L));
        return true;
    }
    case BO::ADD:
    case BO::SUB:
    case BO::MUL:
    case BO::DIV:
    case BO::MAXIMUM:
    case BO::MINIMUM:
    case BO::POW:
    case BO::SQUARED_DIFFERENCE:
    case BO::LESS:
    case BO::LESS_EQUAL:
    case BO::GREATER:
    case BO::GREATER_EQUAL:
    case BO::EQUAL:
    case BO::LOGICAL_AND:
    case BO::LOGICAL_OR:
    case BO::PRELU: {
        if (!needIns(2)) return false;
        const int orank = rank(out0);
        if (orank < 0 || rank(o.in(0)) < 0 || rank(o.in(1)) < 0 || rank(o.in(0)) > orank || rank(o.in(1)) > orank) return false;
        const bool logical = bop == BO::LOGICAL_AND || bop == BO::LOGICAL_OR;
        const bool compare = bop == BO::LESS || bop == BO::LESS_EQUAL || bop == BO::GREATER ||
                             bop == BO::GREATER_EQUAL || bop == BO::EQUAL;
        const Layout lay = orank == 4 ? Layout::Nchw : Layout::Tf;
        std::vector<ir::Value*> ins;
        for (int k = 0; k < 2; ++k) {
            int idx = o.in(static_cast<std::size_t>(k));
            ir::Value* v = nullptr;
            if (rank(idx) == orank || lay == Layout::Tf) {
                EW_TRY_ASSIGN(v, value(idx, lay, L));
            } else if (info(idx).isConst && permutable(idx)) {
                v = constRank4Nchw(idx);
            } else {
                // Lower rank under a rank-4 NCHW result: broadcast it as TFLite does (leading ones)
                // then move its last axis (channels) to position 1.
                EW_TRY_ASSIGN(v, value(idx, Layout::Tf, L));
                std::vector<int64_t> axes;
                for (int a = 0; a < 4 - rank(idx); ++a) axes.push_back(a);
                v = real(v);
                v = node("Unsqueeze", {v, constI64(axes, base + "_axes")}, base + "/broadcast" + std::to_string(k));
                v = unary("Transpose", v, base + "/broadcast_nchw" + std::to_string(k), mkAttrs(ir::Attribute::makeInts("perm", kToNchw)));
            }
            ins.push_back(logical ? v : real(v));
        }
        int act = 0;
        std::string onnxOp;
        switch (bop) {
        case BO::ADD: onnxOp = "Add"; if (auto* p = op->builtin_options_as_AddOptions()) act = static_cast<int>(p->fused_activation_function()); break;
        case BO::SUB: onnxOp = "Sub"; if (auto* p = op->builtin_options_as_SubOptions()) act = static_cast<int>(p->fused_activation_function()); break;
        case BO::MUL: onnxOp = "Mul"; if (auto* p = op->builtin_options_as_MulOptions()) act = static_cast<int>(p->fused_activation_function()); break;
        case BO::DIV: onnxOp = "Div"; if (auto* p = op->builtin_options_as_DivOptions()) act = static_cast<int>(p->fused_activation_function()); break;
        case BO::MAXIMUM: onnxOp = "Max"; break;
        case BO::MINIMUM: onnxOp = "Min"; break;
        case BO::POW: onnxOp = "Pow"; break;
        case BO::SQUARED_DIFFERENCE: onnxOp = "Sub"; break;
        case BO::LESS: onnxOp = "Less"; break;
        case BO::LESS_EQUAL: onnxOp = "LessOrEqual"; break;
        case BO::GREATER: onnxOp = "Greater"; break;
        case BO::GREATER_EQUAL: onnxOp = "GreaterOrEqual"; break;
        case BO::EQUAL: onnxOp = "Equal"; break;
        case BO::LOGICAL_AND: onnxOp = "And"; break;
        case BO::LOGICAL_OR: onnxOp = "Or"; break;
        case BO::PRELU: onnxOp = "PRelu"; break;
        default: return false;
        }
        ir::Value* y = node(onnxOp, ins, bop == BO::SQUARED_DIFFERENCE ? base + "/difference" : base);
        if (bop == BO::SQUARED_DIFFERENCE) y = node("Mul", {y, y}, base);
        EW_TRY_ASSIGN(y, activation(y, act, base));
        EW_TRY(bindOutput(out0, y, lay, !(logical || compare), L));
        return true;
    }
    case BO::LOGISTIC:
    case BO::TANH:
    case BO::RELU:
    case BO::RELU6:
    case BO::RELU_N1_TO_1:
    case BO::RELU_0_TO_1:
    case BO::EXP:
    case BO::LOG:
    case BO::SQRT:
    case BO::RSQRT:
    case BO::ABS:
    case BO::NEG:
    case BO::FLOOR:
    case BO::CEIL:
    case BO::ROUND:
    case BO::SIN:
    case BO::COS:
    case BO::ELU:
    case BO::HARD_SWISH:
    case BO::LEAKY_RELU:
    case BO::SQUARE:
    case BO::LOGICAL_NOT:
    case BO::CAST:
    case BO::QUANTIZE:
    case BO::DEQUANTIZE: {
        if (!needIns(1)) return false;
        const Layout lay = existingLayout(o.in(0));
        EW_TRY_ASSIGN(ir::Value * x0, value(o.in(0), lay, L));
        const bool raw = bop == BO::LOGICAL_NOT || bop == BO::CAST;
        ir::Value* x = raw ? x0 : real(x0);
        ir::Value* y = nullptr;
        switch (bop) {
        case BO::LOGISTIC: y = unary("Sigmoid", x, base); break;
        case BO::TANH: y = unary("Tanh", x, base); break;
        case BO::RELU: y = unary("Relu", x, base); break;
        case BO::RELU6: y = clip(x, 0.f, 6.f, base); break;
        case BO::RELU_N1_TO_1: y = clip(x, -1.f, 1.f, base); break;
        case BO::RELU_0_TO_1: y = clip(x, 0.f, 1.f, base); break;
        case BO::EXP: y = unary("Exp", x, base); break;
        case BO::LOG: y = unary("Log", x, base); break;
        case BO::SQRT: y = unary("Sqrt", x, base); break;
        case BO::RSQRT: y = unary("Reciprocal", unary("Sqrt", x, base + "/sqrt"), base); break;
        case BO::ABS: y = unary("Abs", x, base); break;
        case BO::NEG: y = unary("Neg", x, base); break;
        case BO::FLOOR: y = unary("Floor", x, base); break;
        case BO::CEIL: y = unary("Ceil", x, base); break;
        case BO::ROUND: y = unary("Round", x, base); break;
        case BO::SIN: y = unary("Sin", x, base); break;
        case BO::COS: y = unary("Cos", x, base); break;
        case BO::ELU: y = unary("Elu", x, base); break;
        case BO::HARD_SWISH: y = unary("HardSwish", x, base); break;
        case BO::LEAKY_RELU: {
            const auto* opt = op->builtin_options_as_LeakyReluOptions();
            y = unary("LeakyRelu", x, base, mkAttrs(ir::Attribute::makeFloat("alpha", opt ? opt->alpha() : 0.f)));
            break;
        }
        case BO::SQUARE: y = node("Mul", {x, x}, base); break;
        case BO::LOGICAL_NOT: y = unary("Not", x, base); break;
        case BO::CAST:
            if (info(out0).dtype == DataType::Undefined || info(out0).dtype == DataType::String) return false;
            y = unary("Cast", x, base, mkAttrs(ir::Attribute::makeInt("to", static_cast<int64_t>(info(out0).dtype))));
            break;
        case BO::QUANTIZE:
            if (!info(out0).quant) return invalid("QUANTIZE output '" + info(out0).name + "' has no quantization parameters", L);
            y = x;
            break;
        case BO::DEQUANTIZE: y = x; break;
        default: return false;
        }
        EW_TRY(bindOutput(out0, y, lay, !raw, L));
        return true;
    }
    case BO::SOFTMAX:
    case BO::LOG_SOFTMAX: {
        if (!needIns(1) || rank(o.in(0)) < 1) return false;
        const int r = rank(o.in(0));
        const Layout lay = r == 4 ? Layout::Nchw : Layout::Tf;
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), lay, L));
        if (bop == BO::SOFTMAX) {
            const auto* opt = op->builtin_options_as_SoftmaxOptions();
            float beta = opt ? opt->beta() : 1.f;
            if (beta != 1.f) x = node("Mul", {x, constF32(beta, base + "_beta")}, base + "/beta");
        }
        ir::Value* y = unary(bop == BO::SOFTMAX ? "Softmax" : "LogSoftmax", x, base,
                             mkAttrs(ir::Attribute::makeInt("axis", r == 4 ? 1 : -1)));
        EW_TRY(bindOutput(out0, y, lay, true, L));
        return true;
    }
    case BO::CONCATENATION: {
        if (o.ins.empty()) return false;
        const int r = rank(out0);
        if (r < 1) return false;
        for (int idx : o.ins)
            if (idx < 0 || rank(idx) != r) return false;
        const auto* opt = op->builtin_options_as_ConcatenationOptions();
        int64_t axis = opt ? opt->axis() : 0;
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r) return invalid("concatenation axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r), L);
        const Layout lay = r == 4 ? Layout::Nchw : Layout::Tf;
        if (r == 4) axis = nchwAxis(axis);
        std::vector<ir::Value*> ins;
        for (int idx : o.ins) {
            EW_TRY_ASSIGN(ir::Value * v, realValue(idx, lay, L));
            ins.push_back(v);
        }
        ir::Value* y = node("Concat", ins, base, mkAttrs(ir::Attribute::makeInt("axis", axis)));
        EW_TRY_ASSIGN(y, activation(y, opt ? static_cast<int>(opt->fused_activation_function()) : 0, base));
        EW_TRY(bindOutput(out0, y, lay, true, L));
        return true;
    }
    case BO::MEAN:
    case BO::SUM:
    case BO::REDUCE_MAX:
    case BO::REDUCE_MIN:
    case BO::REDUCE_PROD: {
        if (!needIns(2)) return false;
        auto axesOpt = constInts(o.in(1));
        const int r = rank(o.in(0));
        if (!axesOpt || r < 0) return false;
        const auto* opt = op->builtin_options_as_ReducerOptions();
        const bool keep = opt && opt->keep_dims();
        std::vector<int64_t> axes;
        for (int64_t a : *axesOpt) {
            if (a < 0) a += r;
            if (a < 0 || a >= r) return invalid("reduction axis out of range for rank " + std::to_string(r), L);
            if (std::find(axes.begin(), axes.end(), a) == axes.end()) axes.push_back(a);
        }
        std::sort(axes.begin(), axes.end());
        Layout lay = Layout::Tf;
        if (r == 4) {
            // NCHW works when the surviving axes keep their relative order (always with keep_dims).
            std::vector<int64_t> keptTf, keptNchw;
            for (int64_t a = 0; a < 4; ++a)
                if (!std::count(axes.begin(), axes.end(), a)) keptTf.push_back(a);
            for (int64_t j = 0; j < 4; ++j)
                if (!std::count(axes.begin(), axes.end(), kToNchw[static_cast<std::size_t>(j)])) keptNchw.push_back(kToNchw[static_cast<std::size_t>(j)]);
            if (keep || keptTf == keptNchw) lay = Layout::Nchw;
        }
        if (lay == Layout::Nchw) {
            for (auto& a : axes) a = nchwAxis(a);
            std::sort(axes.begin(), axes.end());
        }
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), lay, L));
        const char* onnxOp = bop == BO::MEAN ? "ReduceMean" : bop == BO::SUM ? "ReduceSum" : bop == BO::REDUCE_MAX ? "ReduceMax" : bop == BO::REDUCE_MIN ? "ReduceMin" : "ReduceProd";
        ir::Value* y = nullptr;
        if (bop == BO::SUM) {
            y = node(onnxOp, {x, constI64(axes, base + "_axes")}, base, mkAttrs(ir::Attribute::makeInt("keepdims", keep ? 1 : 0)));
        } else {
            y = node(onnxOp, {x}, base, mkAttrs(ir::Attribute::makeInts("axes", axes), ir::Attribute::makeInt("keepdims", keep ? 1 : 0)));
        }
        EW_TRY(bindOutput(out0, y, keep ? lay : Layout::Tf, true, L));
        return true;
    }
    case BO::PAD:
    case BO::PADV2:
    case BO::MIRROR_PAD: {
        if (!needIns(2)) return false;
        auto padsOpt = constInts(o.in(1));
        const int r = rank(o.in(0));
        if (!padsOpt || r < 0 || static_cast<int>(padsOpt->size()) != 2 * r) return false;
        std::string mode = "constant";
        if (bop == BO::MIRROR_PAD) {
            const auto* opt = op->builtin_options_as_MirrorPadOptions();
            if (opt && opt->mode() != fb::MirrorPadMode::REFLECT) return false; // SYMMETRIC: no ONNX mode
            mode = "reflect";
        }
        std::optional<float> cval;
        if (bop == BO::PADV2 && o.in(2) >= 0) {
            cval = constScalar(o.in(2));
            if (!cval) return false;
        }
        const Layout lay = r == 4 ? Layout::Nchw : Layout::Tf;
        std::vector<int64_t> pads(static_cast<std::size_t>(2 * r));
        for (int j = 0; j < r; ++j) {
            int src = r == 4 ? static_cast<int>(kToNchw[static_cast<std::size_t>(j)]) : j;
            pads[static_cast<std::size_t>(j)] = (*padsOpt)[static_cast<std::size_t>(2 * src)];
            pads[static_cast<std::size_t>(j + r)] = (*padsOpt)[static_cast<std::size_t>(2 * src + 1)];
        }
        for (auto p : pads)
            if (p < 0) return invalid("negative padding", L);
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), lay, L));
        std::vector<ir::Value*> ins{x, constI64(pads, base + "_pads")};
        if (cval) ins.push_back(constF32(*cval, base + "_value"));
        ir::Value* y = node("Pad", ins, base, mkAttrs(ir::Attribute::makeString("mode", mode)));
        EW_TRY(bindOutput(out0, y, lay, true, L));
        return true;
    }
    case BO::SPLIT:
    case BO::SPLIT_V: {
        const bool v = bop == BO::SPLIT_V;
        if (!needIns(v ? 3 : 2)) return false;
        const int dataIdx = v ? o.in(0) : o.in(1);
        auto axisOpt = constInts(v ? o.in(2) : o.in(0));
        const int r = rank(dataIdx);
        if (!axisOpt || axisOpt->size() != 1 || r < 1) return false;
        int64_t axis = (*axisOpt)[0];
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r) return invalid("split axis out of range", L);
        for (int idx : o.outs)
            if (idx < 0 || rank(idx) != r) return false;
        std::vector<int64_t> sizes;
        const int64_t dim = info(dataIdx).signature[static_cast<std::size_t>(axis)];
        if (v) {
            auto s = constInts(o.in(1));
            if (!s || s->size() != o.outs.size()) return false;
            sizes = *s;
            int64_t known = 0, unknown = -1;
            for (std::size_t i = 0; i < sizes.size(); ++i) {
                if (sizes[i] < 0) {
                    if (unknown >= 0 || dim < 0) return false;
                    unknown = static_cast<int64_t>(i);
                } else {
                    known += sizes[i];
                }
            }
            if (unknown >= 0) sizes[static_cast<std::size_t>(unknown)] = dim - known;
            if (dim >= 0 && std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != dim)
                return invalid("SPLIT_V sizes do not add up to the dimension", L);
        } else {
            if (dim < 0 || o.outs.empty() || dim % static_cast<int64_t>(o.outs.size()) != 0) return false;
            sizes.assign(o.outs.size(), dim / static_cast<int64_t>(o.outs.size()));
        }
        const Layout lay = r == 4 ? Layout::Nchw : Layout::Tf;
        if (r == 4) axis = nchwAxis(axis);
        EW_TRY_ASSIGN(ir::Value * x, realValue(dataIdx, lay, L));
        std::vector<ir::Value*> outs;
        for (std::size_t i = 0; i < o.outs.size(); ++i) outs.push_back(tmp(base + "_split" + std::to_string(i)));
        ir::Node* n = add("Split", base, {x, constI64(sizes, base + "_sizes")}, outs);
        n->setAttr(ir::Attribute::makeInt("axis", axis));
        for (std::size_t i = 0; i < o.outs.size(); ++i) EW_TRY(bindOutput(o.outs[i], outs[i], lay, true, L));
        return true;
    }
    case BO::EXPAND_DIMS: {
        if (!needIns(2) || rank(o.in(0)) < 0) return false;
        auto axis = constInts(o.in(1));
        if (!axis || axis->size() != 1) return false;
        const int64_t r = rank(o.in(0));
        int64_t a = (*axis)[0];
        if (a < -(r + 1) || a > r) return invalid("EXPAND_DIMS axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r), L);
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, Layout::Tf, L));
        ir::Value* y = node("Unsqueeze", {xv.first, constI64({a}, base + "_axes")}, base);
        EW_TRY(bindOutput(out0, y, Layout::Tf, xv.second, L));
        return true;
    }
    case BO::SQUEEZE: {
        if (!needIns(1) || rank(o.in(0)) < 0) return false;
        const auto* opt = op->builtin_options_as_SqueezeOptions();
        const auto& is = info(o.in(0)).shape;
        const int64_t r = static_cast<int64_t>(is.size());
        std::vector<int64_t> axes;
        if (opt && opt->squeeze_dims() && opt->squeeze_dims()->size() > 0) {
            for (int32_t a : *opt->squeeze_dims()) {
                int64_t aa = a < 0 ? a + r : a;
                if (aa < 0 || aa >= r) return invalid("SQUEEZE axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r), L);
                axes.push_back(aa);
            }
        } else {
            for (int64_t i = 0; i < r; ++i)
                if (is[static_cast<std::size_t>(i)] == 1) axes.push_back(i);
        }
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, Layout::Tf, L));
        ir::Value* y = node("Squeeze", {xv.first, constI64(axes, base + "_axes")}, base);
        EW_TRY(bindOutput(out0, y, Layout::Tf, xv.second, L));
        return true;
    }
    case BO::RESHAPE: {
        if (!needIns(1) || rank(out0) < 0) return false;
        std::vector<int64_t> shape = info(out0).signature;
        ir::Value* shapeV = nullptr;
        if (std::count(shape.begin(), shape.end(), -1) <= 1) {
            shapeV = constI64(shape, base + "_shape");
        } else if (bop == BO::RESHAPE && o.in(1) >= 0) {
            auto s = constInts(o.in(1));
            if (s) shapeV = constI64(*s, base + "_shape");
            else {
                EW_TRY_ASSIGN(ir::Value * sv, value(o.in(1), Layout::Tf, L));
                shapeV = unary("Cast", sv, base + "/shape", mkAttrs(ir::Attribute::makeInt("to", static_cast<int64_t>(DataType::Int64))));
            }
        } else {
            return false;
        }
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, Layout::Tf, L));
        bool zeros = std::count(shape.begin(), shape.end(), 0) > 0;
        ir::Value* y = node("Reshape", {xv.first, shapeV}, base, zeros ? mkAttrs(ir::Attribute::makeInt("allowzero", 1)) : std::vector<ir::Attribute>());
        EW_TRY(bindOutput(out0, y, Layout::Tf, xv.second, L));
        return true;
    }
    case BO::TRANSPOSE: {
        if (!needIns(2)) return false;
        auto permOpt = constInts(o.in(1));
        const int r = rank(o.in(0));
        if (!permOpt || r < 0 || static_cast<int>(permOpt->size()) != r) return false;
        std::vector<int64_t> perm = *permOpt;
        {
            std::vector<bool> seen(static_cast<std::size_t>(r), false);
            for (auto& p : perm) {
                if (p < 0) p += r;
                if (p < 0 || p >= r || seen[static_cast<std::size_t>(p)]) return invalid("TRANSPOSE permutation is not a permutation", L);
                seen[static_cast<std::size_t>(p)] = true;
            }
        }
        Layout lay = Layout::Tf;
        if (r == 4 && rank(out0) == 4) {
            // Both sides NCHW: compose nchw_out[k] = nchw_in[toNhwc[perm[toNchw[k]]]].
            std::vector<int64_t> c(4);
            for (std::size_t k = 0; k < 4; ++k) c[k] = kToNhwc[static_cast<std::size_t>(perm[static_cast<std::size_t>(kToNchw[k])])];
            perm = c;
            lay = Layout::Nchw;
        }
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, lay, L));
        ir::Value* y = unary("Transpose", xv.first, base, mkAttrs(ir::Attribute::makeInts("perm", perm)));
        EW_TRY(bindOutput(out0, y, lay, xv.second, L));
        return true;
    }
    case BO::STRIDED_SLICE:
    case BO::SLICE: {
        const bool strided = bop == BO::STRIDED_SLICE;
        if (!needIns(3)) return false;
        const int r = rank(o.in(0));
        auto b = constInts(o.in(1));
        auto e = constInts(o.in(2));
        std::optional<std::vector<int64_t>> st;
        if (strided) {
            if (o.in(3) >= 0) st = constInts(o.in(3));
            else st = std::vector<int64_t>(b ? b->size() : 0, 1);
        }
        if (!b || !e || (strided && !st) || r < 0 || b->size() != e->size() || static_cast<int>(b->size()) > r) return false;
        if (strided && st->size() != b->size()) return false;
        int beginMask = 0, endMask = 0, shrink = 0;
        bool offset = false;
        if (strided) {
            const auto* opt = op->builtin_options_as_StridedSliceOptions();
            if (opt) {
                if (opt->ellipsis_mask() || opt->new_axis_mask()) return false;
                beginMask = opt->begin_mask(), endMask = opt->end_mask(), shrink = opt->shrink_axis_mask(), offset = opt->offset();
            }
        }
        std::vector<int64_t> starts, ends, axes, steps, squeeze;
        for (std::size_t i = 0; i < b->size(); ++i) {
            int64_t s = (*b)[i], en = (*e)[i], step = strided ? (*st)[i] : 1;
            if (step == 0) return invalid("slice stride is 0", L);
            if (strided) {
                if (offset) en = s + en;
                if (shrink & (1 << i)) {
                    en = s == -1 ? kInt64Max : s + 1;
                    step = 1;
                    squeeze.push_back(static_cast<int64_t>(i));
                } else {
                    if (beginMask & (1 << i)) s = step > 0 ? 0 : kInt64Max;
                    if (endMask & (1 << i)) en = step > 0 ? kInt64Max : kInt64Min;
                }
            } else {
                if (s < 0) return invalid("SLICE begin is negative", L);
                en = en == -1 ? kInt64Max : s + en;
            }
            starts.push_back(s), ends.push_back(en), axes.push_back(static_cast<int64_t>(i)), steps.push_back(step);
        }
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, Layout::Tf, L));
        ir::Value* y = node("Slice", {xv.first, constI64(starts, base + "_starts"), constI64(ends, base + "_ends"),
                                      constI64(axes, base + "_axes"), constI64(steps, base + "_steps")},
                            squeeze.empty() ? base : base + "/slice");
        if (!squeeze.empty()) y = node("Squeeze", {y, constI64(squeeze, base + "_squeeze_axes")}, base);
        EW_TRY(bindOutput(out0, y, Layout::Tf, xv.second, L));
        return true;
    }
    case BO::GATHER: {
        if (!needIns(2)) return false;
        const auto* opt = op->builtin_options_as_GatherOptions();
        if (opt && opt->batch_dims() != 0) return false;
        int64_t axis = opt ? opt->axis() : 0;
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, Layout::Tf, L));
        EW_TRY_ASSIGN(ir::Value * ind, value(o.in(1), Layout::Tf, L));
        ir::Value* y = node("Gather", {xv.first, ind}, base, mkAttrs(ir::Attribute::makeInt("axis", axis)));
        EW_TRY(bindOutput(out0, y, Layout::Tf, xv.second, L));
        return true;
    }
    case BO::SHAPE: {
        if (!needIns(1) || rank(o.in(0)) < 0) return false;
        const DataType outType = info(out0).dtype;
        if (outType != DataType::Int64 && outType != DataType::Int32) return false;
        const std::string nm = outType == DataType::Int64 ? base : base + "/shape";
        const auto& slot = m_slots[static_cast<std::size_t>(o.in(0))];
        ir::Value* y = nullptr;
        if (rank(o.in(0)) == 4 && !slot.tf && slot.nchw) {
            // Only the NCHW value exists: its dims in NHWC order, without transposing the data.
            ir::Value* sh = node("Shape", {slot.nchw}, nm + "/nchw");
            y = node("Gather", {sh, constI64(kToNhwc, nm + "_nhwc_dims")}, nm, mkAttrs(ir::Attribute::makeInt("axis", 0)));
        } else {
            EW_TRY_ASSIGN(ir::Value * x, value(o.in(0), Layout::Tf, L));
            y = node("Shape", {x}, nm);
        }
        if (outType != DataType::Int64) y = unary("Cast", y, base, mkAttrs(ir::Attribute::makeInt("to", static_cast<int64_t>(outType))));
        EW_TRY(bindOutput(out0, y, Layout::Tf, false, L));
        return true;
    }
    case BO::ARG_MAX:
    case BO::ARG_MIN: {
        if (!needIns(2)) return false;
        auto axisOpt = constInts(o.in(1));
        if (!axisOpt || axisOpt->size() != 1) return false;
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), Layout::Tf, L));
        ir::Value* y = node(bop == BO::ARG_MAX ? "ArgMax" : "ArgMin", {x}, info(out0).dtype == DataType::Int64 ? base : base + "/arg",
                            mkAttrs(ir::Attribute::makeInt("axis", (*axisOpt)[0]), ir::Attribute::makeInt("keepdims", 0)));
        if (info(out0).dtype != DataType::Int64)
            y = unary("Cast", y, base, mkAttrs(ir::Attribute::makeInt("to", static_cast<int64_t>(info(out0).dtype))));
        EW_TRY(bindOutput(out0, y, Layout::Tf, false, L));
        return true;
    }
    case BO::RESIZE_BILINEAR:
    case BO::RESIZE_NEAREST_NEIGHBOR: {
        if (!needIns(2) || rank(o.in(0)) != 4) return false;
        auto size = constInts(o.in(1));
        if (!size || size->size() != 2) return false;
        bool align = false, half = false;
        if (bop == BO::RESIZE_BILINEAR) {
            if (const auto* opt = op->builtin_options_as_ResizeBilinearOptions()) align = opt->align_corners(), half = opt->half_pixel_centers();
        } else if (const auto* opt = op->builtin_options_as_ResizeNearestNeighborOptions()) {
            align = opt->align_corners(), half = opt->half_pixel_centers();
        }
        const auto& is = info(o.in(0)).shape;
        std::vector<ir::Attribute> attrs;
        const bool linear = bop == BO::RESIZE_BILINEAR;
        attrs.push_back(ir::Attribute::makeString("mode", linear ? "linear" : "nearest"));
        attrs.push_back(ir::Attribute::makeString("coordinate_transformation_mode", align ? "align_corners" : half ? "half_pixel" : "asymmetric"));
        if (!linear) attrs.push_back(ir::Attribute::makeString("nearest_mode", align || half ? "round_prefer_ceil" : "floor"));
        EW_TRY_ASSIGN(ir::Value * x, realValue(o.in(0), Layout::Nchw, L));
        ir::Value* sizes = constI64({is[0], is[3], (*size)[0], (*size)[1]}, base + "_sizes");
        ir::Value* y = node("Resize", {x, nullptr, nullptr, sizes}, base, std::move(attrs));
        EW_TRY(bindOutput(out0, y, Layout::Nchw, true, L));
        return true;
    }
    case BO::SPACE_TO_DEPTH:
    case BO::DEPTH_TO_SPACE: {
        if (!needIns(1) || rank(o.in(0)) != 4 || rank(out0) != 4) return false;
        int64_t bs = 0;
        if (bop == BO::SPACE_TO_DEPTH) {
            if (const auto* opt = op->builtin_options_as_SpaceToDepthOptions()) bs = opt->block_size();
        } else if (const auto* opt = op->builtin_options_as_DepthToSpaceOptions()) {
            bs = opt->block_size();
        }
        if (bs < 1) return invalid("block size must be positive", L);
        EW_TRY_ASSIGN(auto xv, movedValue(o.in(0), out0, Layout::Nchw, L));
        auto attrs = mkAttrs(ir::Attribute::makeInt("blocksize", bs));
        if (bop == BO::DEPTH_TO_SPACE) attrs.push_back(ir::Attribute::makeString("mode", "DCR"));
        ir::Value* y = unary(bop == BO::SPACE_TO_DEPTH ? "SpaceToDepth" : "DepthToSpace", xv.first, base, std::move(attrs));
        EW_TRY(bindOutput(out0, y, Layout::Nchw, xv.second, L));
        return true;
    }
    case BO::IF: {
        const auto* opt = op->builtin_options_as_IfOptions();
        if (!opt || !needIns(1)) return false;
        std::vector<ir::Value*> bound;
        for (std::size_t k = 1; k < o.ins.size(); ++k) {
            if (o.ins[k] < 0) return false;
            EW_TRY_ASSIGN(ir::Value * v, value(o.ins[k], Layout::Tf, L));
            bound.push_back(v);
        }
        EW_TRY_ASSIGN(ir::Value * cond, value(o.in(0), Layout::Tf, L));
        if (info(o.in(0)).dtype != DataType::Bool) return invalid("IF condition is not a bool tensor", L);
        std::vector<ir::Value*> outs;
        for (int idx : o.outs) {
            if (idx < 0) return false;
            auto& s = m_slots[static_cast<std::size_t>(idx)];
            if (s.tf || s.nchw || info(idx).isConst) return invalid("tensor '" + info(idx).name + "' is produced twice", L);
            ir::Value* v = *m_g.addValue(valueName(idx, Layout::Tf));
            typeValue(v, idx, Layout::Tf);
            outs.push_back(v);
        }
        ir::Node* n = add("If", base, {cond}, outs);
        for (std::size_t k = 0; k < outs.size(); ++k) {
            m_slots[static_cast<std::size_t>(o.outs[k])].tf = outs[k];
            m_bound.insert(outs[k]);
        }
        for (auto [name, sgi] : {std::pair<const char*, int32_t>{"then_branch", opt->then_subgraph_index()}, {"else_branch", opt->else_subgraph_index()}}) {
            EW_TRY_ASSIGN(auto g, subgraphAttr(sgi, n, L, &bound));
            if (g->outputs.size() != outs.size())
                return invalid(std::string(name) + " has " + std::to_string(g->outputs.size()) + " outputs but IF has " +
                                   std::to_string(outs.size()),
                               L);
            ir::Attribute a;
            a.name = name;
            a.type = ir::AttrType::Graph;
            a.g = std::move(g);
            n->setAttr(std::move(a));
        }
        return true;
    }
    default: return false;
    }
}

VoidResult GraphBuilder::build(const std::vector<ir::Value*>* bound) {
    const auto* sgIn = m_sg->inputs();
    const auto* sgOut = m_sg->outputs();
    if (sgIn)
        for (int32_t i : *sgIn) m_slots[static_cast<std::size_t>(i)].io = true;
    if (sgOut)
        for (int32_t i : *sgOut) m_slots[static_cast<std::size_t>(i)].io = true;
    // Inputs, in TFLite's layout.
    if (bound && (sgIn ? sgIn->size() : 0) != bound->size())
        return invalid("subgraph " + std::to_string(m_sgIndex) + " takes " + std::to_string(sgIn ? sgIn->size() : 0) +
                       " inputs but is called with " + std::to_string(bound->size()));
    if (sgIn) {
        std::size_t k = 0;
        for (int32_t i : *sgIn) {
            auto& s = m_slots[static_cast<std::size_t>(i)];
            if (s.tf) return invalid("tensor " + std::to_string(i) + " is listed twice as a subgraph input");
            ir::Value* v = *m_g.addValue(valueName(i, Layout::Tf));
            typeValue(v, i, Layout::Tf);
            if (bound) {
                add("Identity", v->name, {(*bound)[k]}, {v});
            } else {
                m_g.inputs.push_back(v);
            }
            m_bound.insert(v);
            s.tf = v;
            ++k;
        }
    }
    const int nops = m_sg->operators() ? static_cast<int>(m_sg->operators()->size()) : 0;
    for (int k = 0; k < nops; ++k) {
        const fb::Operator* fop = m_sg->operators()->Get(static_cast<flatbuffers::uoffset_t>(k));
        Op o;
        o.op = fop;
        o.index = k;
        o.code = m_ctx.opcodes[fop->opcode_index()];
        if (fop->inputs()) o.ins.assign(fop->inputs()->begin(), fop->inputs()->end());
        if (fop->outputs()) o.outs.assign(fop->outputs()->begin(), fop->outputs()->end());
        const char* nm = builtinOperatorName(o.code);
        std::string opName = nm ? nm : "op " + std::to_string(o.code);
        int firstOut = -1;
        for (int i : o.outs)
            if (i >= 0) {
                firstOut = i;
                break;
            }
        o.base = firstOut >= 0 ? tensorBase(firstOut) : opName + "_" + std::to_string(k);
        o.label = opName + " #" + std::to_string(k) + (m_sgIndex ? " of subgraph " + std::to_string(m_sgIndex) : "") +
                  (firstOut >= 0 ? " ('" + tensorBase(firstOut) + "')" : "");
        EW_TRY(convertOp(o));
    }
    // Outputs, in TFLite's layout.
    if (sgOut) {
        for (int32_t i : *sgOut) {
            EW_TRY_ASSIGN(ir::Value * v, value(i, Layout::Tf, "subgraph " + std::to_string(m_sgIndex) + " output"));
            if (v->isGraphInput() || v->isInitializer() || v->graph() != &m_g ||
                std::find(m_g.outputs.begin(), m_g.outputs.end(), v) != m_g.outputs.end()) {
                ir::Value* c = *m_g.addValue(m_g.uniqueName(v->name + "_out"));
                c->type = v->type;
                c->quant = v->quant;
                add("Identity", c->name, {v}, {c});
                v = c;
            }
            m_g.outputs.push_back(v);
        }
    }
    return {};
}

std::string metadataText(const fb::Model* m, uint32_t buffer) {
    const auto* b = m->buffers()->Get(buffer);
    if (!b || !b->data()) return {};
    const auto* d = b->data();
    bool text = d->size() <= 256;
    for (std::size_t i = 0; text && i < d->size(); ++i) {
        unsigned char c = d->Get(static_cast<flatbuffers::uoffset_t>(i));
        if (c == 0 && i + 1 == d->size()) break;
        text = c >= 0x20 && c < 0x7f;
    }
    if (text) {
        std::string s(reinterpret_cast<const char*>(d->data()), d->size());
        while (!s.empty() && s.back() == '\0') s.pop_back();
        return s;
    }
    return "<" + std::to_string(d->size()) + " bytes>";
}

Result<std::unique_ptr<ir::Model>> convertModel(ImportCtx& ctx) {
    EW_TRY(checkModel(ctx));
    const fb::Model* fm = ctx.model;
    const int nsg = static_cast<int>(fm->subgraphs()->size());
    auto m = std::make_unique<ir::Model>();
    m->irVersion = 8;
    m->opsetImports.push_back({"", kOnnxOpset});
    m->producerName = "tflite";
    m->producerVersion = "schema " + std::to_string(fm->version());
    if (fm->description()) m->docString = fm->description()->str();
    m->sourceFormat = "tflite";
    ctx.subgraphUsed.assign(static_cast<std::size_t>(nsg), false);

    int mainIndex = 0;
    if (fm->signature_defs() && fm->signature_defs()->size() > 0) mainIndex = static_cast<int>(fm->signature_defs()->Get(0)->subgraph_index());
    if (fm->signature_defs()) {
        for (const auto* sd : *fm->signature_defs()) {
            std::string key = sd->signature_key() ? sd->signature_key()->str() : std::string();
            std::string v = "subgraph=" + std::to_string(sd->subgraph_index());
            const auto& infos = ctx.tensors[sd->subgraph_index()];
            for (auto [what, list] : {std::pair{"inputs", sd->inputs()}, std::pair{"outputs", sd->outputs()}}) {
                v += std::string("; ") + what + "=";
                bool first = true;
                if (list)
                    for (const auto* tm : *list) {
                        v += (first ? "" : ",") + (tm->name() ? tm->name()->str() : std::string()) + ":" + infos[tm->tensor_index()].name;
                        first = false;
                    }
            }
            m->metadataProps.emplace_back("tflite.signature." + key, v);
        }
    }
    if (fm->metadata())
        for (const auto* md : *fm->metadata())
            m->metadataProps.emplace_back("tflite.metadata." + (md->name() ? md->name()->str() : std::string()), metadataText(fm, md->buffer()));

    const auto* msg = fm->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(mainIndex));
    m->graph->name = msg->name() ? msg->name()->str() : "main";
    ctx.subgraphUsed[static_cast<std::size_t>(mainIndex)] = true;
    ctx.subgraphStack.push_back(mainIndex);
    {
        GraphBuilder b(ctx, mainIndex, *m->graph);
        EW_TRY(b.build(nullptr));
    }
    ctx.subgraphStack.pop_back();
    for (int s = 0; s < nsg; ++s) {
        if (ctx.subgraphUsed[static_cast<std::size_t>(s)]) continue;
        // Not reached from the main graph (another signature's entry point, or dead code): kept
        // as a model-local function so the viewer can show it.
        const auto* sg = fm->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(s));
        ir::Function f;
        f.name = sg->name() && sg->name()->size() ? sg->name()->str() : "subgraph_" + std::to_string(s);
        f.domain = kTfliteDomain;
        f.body = std::make_unique<ir::Graph>();
        f.body->name = f.name;
        ctx.subgraphStack.push_back(s);
        GraphBuilder b(ctx, s, *f.body);
        EW_TRY(b.build(nullptr));
        ctx.subgraphStack.pop_back();
        f.attributeNames.clear();
        f.opsetImports = {{"", kOnnxOpset}, {kTfliteDomain, 1}};
        ctx.usedCustomDomain = true;
        m->functions.push_back(std::move(f));
    }
    if (ctx.usedCustomDomain) m->opsetImports.push_back({kTfliteDomain, 1});
    return m;
}

} // namespace

bool looksLikeTflite(std::span<const std::byte> head) {
    return head.size() >= 8 && std::memcmp(head.data() + 4, "TFL3", 4) == 0;
}

const char* builtinOperatorName(int32_t code) {
    if (code < static_cast<int32_t>(fb::BuiltinOperator::MIN) || code > static_cast<int32_t>(fb::BuiltinOperator::MAX)) return nullptr;
    const char* n = fb::EnumNamesBuiltinOperator()[code];
    return n && n[0] ? n : nullptr;
}

Result<std::unique_ptr<ir::Model>> importTfliteBytes(std::span<const std::byte> bytes, const std::string& displayName,
                                                     const ImportOptions& opts, std::shared_ptr<const void> owner) {
    auto withFile = [&](Status s) { return std::unexpected(std::move(s).withFile(displayName)); };
    if (bytes.empty()) return withFile(makeError(StatusCode::InvalidInput, "the file is empty"));
    if (!looksLikeTflite(bytes))
        return withFile(makeError(StatusCode::InvalidInput, "not a TFLite file: the TFL3 identifier is missing at bytes 4..8"));
    // The flatbuffer itself lies in the first 2 GB; larger files keep their weights after it
    // (Buffer.offset), which the check pass bounds against the whole file.
    const std::size_t fbSize = std::min<std::size_t>(bytes.size(), FLATBUFFERS_MAX_BUFFER_SIZE - 1);
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), fbSize, 64, 10'000'000);
    if (!fb::VerifyModelBuffer(verifier))
        return withFile(makeError(StatusCode::InvalidInput,
                                  "not a valid TFLite file: the flatbuffer is corrupt or truncated (verification failed)"));
    ImportCtx ctx;
    ctx.file = displayName;
    ctx.opts = opts;
    ctx.bytes = bytes;
    ctx.owner = std::move(owner);
    ctx.model = fb::GetModel(bytes.data());
    auto m = convertModel(ctx);
    if (!m) return withFile(std::move(m).error());
    (*m)->sourceBytes = bytes.size();
    return m;
}

Result<std::unique_ptr<ir::Model>> importTfliteFile(const std::string& path, const ImportOptions& opts, Reporter& reporter) {
    reporter.progress("Reading", 0.0);
    auto mf = MappedFile::open(path);
    if (!mf) return std::unexpected(mf.error());
    reporter.progress("Parsing TFLite", 0.1);
    if (reporter.isCancelled()) return fail(Status{StatusCode::Cancelled, "cancelled", path, {}});
    std::shared_ptr<const void> owner = *mf;
    auto m = importTfliteBytes((*mf)->bytes(), path, opts, owner);
    if (!m) return m;
    (*m)->sourcePath = path;
    reporter.progress("Parsing TFLite", 1.0);
    return m;
}

} // namespace ew::tflitefmt
