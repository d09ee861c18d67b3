#include "onnx_import.h"

#include "common/file_util.h"
#include "onnx_proto_util.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <onnx/onnx_pb.h>

#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

namespace ew::onnxfmt {

namespace fs = std::filesystem;
using ir::DataType;

namespace {

// Protobuf reports parse errors through its global log handler (to stderr by default). We
// capture the last message so the error the user sees says what protobuf found.
std::mutex g_logMutex;
thread_local std::string t_lastProtobufError;
void captureProtobufLog(google::protobuf::LogLevel level, const char*, int, const std::string& msg) {
    if (level >= google::protobuf::LOGLEVEL_ERROR) t_lastProtobufError = msg;
}
void installLogHandler() {
    static std::once_flag once;
    std::call_once(once, [] { google::protobuf::SetLogHandler(&captureProtobufLog); });
}

constexpr int kMaxTypeDepth = 32;
constexpr int kMaxGraphDepth = 64;

struct Ctx {
    std::string file;
    std::string baseDir;
    ImportOptions opts;
    std::map<std::string, std::shared_ptr<MappedFile>> external;
    int graphDepth = 0;
};

std::unexpected<Status> err(StatusCode code, std::string msg, std::string node = {}) {
    return fail(code, std::move(msg), std::move(node));
}
std::unexpected<Status> invalid(std::string msg, std::string node = {}) {
    return err(StatusCode::InvalidInput, std::move(msg), std::move(node));
}

Result<ir::Type> convertType(const onnx::TypeProto& tp, const std::string& what, int depth = 0) {
    if (depth > kMaxTypeDepth) return invalid("type of '" + what + "' is nested too deeply");
    ir::Type t;
    t.denotation = tp.denotation();
    auto convertShape = [&](const onnx::TensorShapeProto& sp) -> Result<ir::Shape> {
        ir::Shape s;
        s.dims.reserve(static_cast<std::size_t>(sp.dim_size()));
        for (const auto& d : sp.dim()) {
            ir::Dim dim;
            if (d.has_dim_value()) {
                if (d.dim_value() < 0)
                    dim = ir::Dim::unknown(); // some exporters write -1 for "unknown"
                else
                    dim = ir::Dim::known(d.dim_value());
            } else if (d.has_dim_param()) {
                dim = ir::Dim::symbolic(d.dim_param());
            }
            dim.denotation = d.denotation();
            s.dims.push_back(std::move(dim));
        }
        return s;
    };
    auto checkElem = [&](int32_t e) -> VoidResult {
        if (!ir::isValidDataType(e))
            return invalid("'" + what + "' has unknown element type " + std::to_string(e));
        return {};
    };
    switch (tp.value_case()) {
    case onnx::TypeProto::kTensorType: {
        t.kind = ir::Type::Kind::Tensor;
        EW_TRY(checkElem(tp.tensor_type().elem_type()));
        t.elemType = static_cast<DataType>(tp.tensor_type().elem_type());
        if (tp.tensor_type().has_shape()) {
            EW_TRY_ASSIGN(t.shape, convertShape(tp.tensor_type().shape()));
        }
        break;
    }
    case onnx::TypeProto::kSparseTensorType: {
        t.kind = ir::Type::Kind::SparseTensor;
        EW_TRY(checkElem(tp.sparse_tensor_type().elem_type()));
        t.elemType = static_cast<DataType>(tp.sparse_tensor_type().elem_type());
        if (tp.sparse_tensor_type().has_shape()) {
            EW_TRY_ASSIGN(t.shape, convertShape(tp.sparse_tensor_type().shape()));
        }
        break;
    }
    case onnx::TypeProto::kSequenceType: {
        t.kind = ir::Type::Kind::Sequence;
        if (tp.sequence_type().has_elem_type()) {
            EW_TRY_ASSIGN(auto inner, convertType(tp.sequence_type().elem_type(), what, depth + 1));
            t.inner = std::make_shared<ir::Type>(std::move(inner));
        }
        break;
    }
    case onnx::TypeProto::kOptionalType: {
        t.kind = ir::Type::Kind::Optional;
        if (tp.optional_type().has_elem_type()) {
            EW_TRY_ASSIGN(auto inner, convertType(tp.optional_type().elem_type(), what, depth + 1));
            t.inner = std::make_shared<ir::Type>(std::move(inner));
        }
        break;
    }
    case onnx::TypeProto::kMapType: {
        t.kind = ir::Type::Kind::Map;
        EW_TRY(checkElem(tp.map_type().key_type()));
        t.elemType = static_cast<DataType>(tp.map_type().key_type());
        if (tp.map_type().has_value_type()) {
            EW_TRY_ASSIGN(auto inner, convertType(tp.map_type().value_type(), what, depth + 1));
            t.inner = std::make_shared<ir::Type>(std::move(inner));
        }
        break;
    }
    default: break; // unset or opaque: unknown type
    }
    return t;
}

Result<std::shared_ptr<MappedFile>> openExternal(Ctx& ctx, const std::string& location, const std::string& tname) {
    if (location.empty()) return invalid("tensor '" + tname + "' has external data without a location");
    fs::path loc(location);
    if (loc.is_absolute()) return invalid("tensor '" + tname + "': external data location '" + location + "' must be relative to the model");
    for (const auto& part : loc)
        if (part == "..") return invalid("tensor '" + tname + "': external data location '" + location + "' points outside the model's folder");
    auto it = ctx.external.find(location);
    if (it != ctx.external.end()) return it->second;
    fs::path full = fs::path(ctx.baseDir) / loc;
    auto mf = MappedFile::open(full.string());
    if (!mf) return invalid("tensor '" + tname + "': cannot open external data file '" + full.string() + "': " + mf.error().message);
    ctx.external.emplace(location, *mf);
    return *mf;
}

Result<uint64_t> parseUnsigned(const std::string& s, const std::string& what) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
        return invalid(what + " '" + s + "' is not a non-negative integer");
    return v;
}

// Appends fixed-width little-endian values to a byte buffer.
template <typename Out, typename Field>
void packField(const Field& field, std::string& out) {
    out.resize(static_cast<std::size_t>(field.size()) * sizeof(Out));
    char* p = out.data();
    for (auto v : field) {
        Out o = static_cast<Out>(v);
        std::memcpy(p, &o, sizeof(Out));
        p += sizeof(Out);
    }
}

Result<ir::Tensor> convertTensor(onnx::TensorProto& tp, Ctx& ctx, const std::string& node) {
    const std::string tname = tp.name();
    const std::string label = tname.empty() ? std::string("(unnamed tensor)") : "tensor '" + tname + "'";
    if (!ir::isValidDataType(tp.data_type()) || tp.data_type() == 0)
        return invalid(label + " has invalid data type " + std::to_string(tp.data_type()), node);
    auto dtype = static_cast<DataType>(tp.data_type());
    std::vector<int64_t> dims(tp.dims().begin(), tp.dims().end());
    auto count = ir::checkedElementCount(dims);
    if (!count) return invalid(label + ": " + count.error().message, node);
    if (tp.has_segment()) return err(StatusCode::Unsupported, label + " is segmented (TensorProto.segment), which is not supported", node);

    ir::Tensor t;
    if (dtype == DataType::String) {
        if (static_cast<int64_t>(tp.string_data_size()) != *count)
            return invalid(label + " has " + std::to_string(*count) + " elements but " +
                               std::to_string(tp.string_data_size()) + " strings", node);
        t = ir::Tensor(tname, dtype, dims, nullptr, nullptr, 0);
        t.strings.assign(tp.string_data().begin(), tp.string_data().end());
    } else {
        auto expectedOpt = ir::dataTypeStorageBytes(dtype, static_cast<uint64_t>(*count));
        if (!expectedOpt || *expectedOpt > ctx.opts.maxTensorBytes)
            return invalid(label + " would need more than " + std::to_string(ctx.opts.maxTensorBytes) + " bytes", node);
        const std::size_t expected = *expectedOpt;
        if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
            std::string location;
            std::optional<uint64_t> offset, length;
            for (const auto& kv : tp.external_data()) {
                if (kv.key() == "location") location = kv.value();
                else if (kv.key() == "offset") { EW_TRY_ASSIGN(offset, parseUnsigned(kv.value(), label + ": external data offset")); }
                else if (kv.key() == "length") { EW_TRY_ASSIGN(length, parseUnsigned(kv.value(), label + ": external data length")); }
            }
            if (length && *length != expected)
                return invalid(label + ": external data length " + std::to_string(*length) + " does not match the " +
                                   std::to_string(expected) + " bytes its shape needs", node);
            auto mf = openExternal(ctx, location, tname);
            if (!mf) return std::unexpected(std::move(mf).error().withNode(node));
            uint64_t off = offset.value_or(0);
            uint64_t fileSize = (*mf)->size();
            if (off > fileSize || expected > fileSize - off)
                return invalid(label + ": external data [" + std::to_string(off) + ", +" + std::to_string(expected) +
                                   ") lies outside '" + location + "' (" + std::to_string(fileSize) + " bytes)", node);
            // Alias the mapping: the tensor keeps the whole file mapped, nothing is copied.
            std::shared_ptr<const void> owner = *mf;
            t = ir::Tensor(tname, dtype, dims, owner, (*mf)->data() + off, expected);
            t.external = ir::ExternalDataRef{location, off, expected};
        } else if (tp.has_raw_data()) {
            if (tp.raw_data().size() != expected)
                return invalid(label + " has " + std::to_string(tp.raw_data().size()) + " bytes of raw data but its type " +
                                   std::string(ir::dataTypeName(dtype)) + ir::Shape::of(dims).toString() + " needs " +
                                   std::to_string(expected), node);
            t = ir::Tensor::fromBytes(tname, dtype, dims, std::move(*tp.mutable_raw_data()));
        } else {
            // Typed repeated fields: check the element count first, then pack little-endian.
            std::string bytes;
            auto mismatch = [&](int64_t have, int64_t want) {
                return invalid(label + " has " + std::to_string(have) + " stored values but its shape " +
                                   ir::Shape::of(dims).toString() + " needs " + std::to_string(want), node);
            };
            const int bits = ir::dataTypeBits(dtype);
            switch (dtype) {
            case DataType::Float:
                if (tp.float_data_size() != *count) return mismatch(tp.float_data_size(), *count);
                packField<float>(tp.float_data(), bytes);
                break;
            case DataType::Complex64:
                if (tp.float_data_size() != 2 * *count) return mismatch(tp.float_data_size(), 2 * *count);
                packField<float>(tp.float_data(), bytes);
                break;
            case DataType::Double:
                if (tp.double_data_size() != *count) return mismatch(tp.double_data_size(), *count);
                packField<double>(tp.double_data(), bytes);
                break;
            case DataType::Complex128:
                if (tp.double_data_size() != 2 * *count) return mismatch(tp.double_data_size(), 2 * *count);
                packField<double>(tp.double_data(), bytes);
                break;
            case DataType::Int64:
                if (tp.int64_data_size() != *count) return mismatch(tp.int64_data_size(), *count);
                packField<int64_t>(tp.int64_data(), bytes);
                break;
            case DataType::UInt32:
                if (tp.uint64_data_size() != *count) return mismatch(tp.uint64_data_size(), *count);
                packField<uint32_t>(tp.uint64_data(), bytes);
                break;
            case DataType::UInt64:
                if (tp.uint64_data_size() != *count) return mismatch(tp.uint64_data_size(), *count);
                packField<uint64_t>(tp.uint64_data(), bytes);
                break;
            case DataType::Int32:
                if (tp.int32_data_size() != *count) return mismatch(tp.int32_data_size(), *count);
                packField<int32_t>(tp.int32_data(), bytes);
                break;
            default:
                if (bits == 16) {
                    if (tp.int32_data_size() != *count) return mismatch(tp.int32_data_size(), *count);
                    packField<uint16_t>(tp.int32_data(), bytes);
                } else if (bits == 8) {
                    if (tp.int32_data_size() != *count) return mismatch(tp.int32_data_size(), *count);
                    packField<uint8_t>(tp.int32_data(), bytes);
                } else if (bits < 8) {
                    // Sub-byte types: each int32 holds one already-packed byte.
                    int64_t want = static_cast<int64_t>(expected);
                    if (tp.int32_data_size() != want) return mismatch(tp.int32_data_size(), want);
                    packField<uint8_t>(tp.int32_data(), bytes);
                } else {
                    return err(StatusCode::Unsupported, label + " has unsupported storage for " +
                                                            std::string(ir::dataTypeName(dtype)), node);
                }
            }
            if (bytes.size() != expected)
                return invalid(label + " stores " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(expected), node);
            t = ir::Tensor::fromBytes(tname, dtype, dims, std::move(bytes));
        }
    }
    t.docString = tp.doc_string();
    detail::splitUnknownFields(tp.unknown_fields(), 0, detail::kTensorMetadataField, nullptr, &t.metadataProps, &t.extraFields);
    return t;
}

Result<ir::SparseTensor> convertSparse(onnx::SparseTensorProto& sp, Ctx& ctx, const std::string& node) {
    ir::SparseTensor s;
    EW_TRY_ASSIGN(s.values, convertTensor(*sp.mutable_values(), ctx, node));
    EW_TRY_ASSIGN(s.indices, convertTensor(*sp.mutable_indices(), ctx, node));
    s.dims.assign(sp.dims().begin(), sp.dims().end());
    auto count = ir::checkedElementCount(s.dims);
    if (!count) return invalid("sparse tensor '" + s.values.name + "': " + count.error().message, node);
    // Indices are either linear [NNZ] or coordinates [NNZ, rank]; both must stay in range.
    const auto idx = s.indices.toInt64();
    const bool coords = s.indices.dims.size() == 2;
    for (std::size_t k = 0; k < idx.size(); ++k) {
        int64_t bound = coords && !s.dims.empty() ? s.dims[k % s.dims.size()] : *count;
        if (idx[k] < 0 || idx[k] >= bound)
            return invalid("sparse tensor '" + s.values.name + "' has index " + std::to_string(idx[k]) + " out of range", node);
    }
    return s;
}

VoidResult convertGraph(onnx::GraphProto& gp, ir::Graph& g, Ctx& ctx);

Result<ir::Attribute> convertAttribute(onnx::AttributeProto& ap, Ctx& ctx, ir::Graph& owner, ir::Node* node,
                                       const std::string& nodeName) {
    ir::Attribute a;
    a.name = ap.name();
    a.refAttrName = ap.ref_attr_name();
    a.docString = ap.doc_string();
    int type = ap.type();
    if (type == onnx::AttributeProto::UNDEFINED && a.refAttrName.empty()) {
        // Very old files omit the type: infer it from the populated field.
        if (ap.has_f()) type = onnx::AttributeProto::FLOAT;
        else if (ap.has_i()) type = onnx::AttributeProto::INT;
        else if (ap.has_s()) type = onnx::AttributeProto::STRING;
        else if (ap.has_t()) type = onnx::AttributeProto::TENSOR;
        else if (ap.has_g()) type = onnx::AttributeProto::GRAPH;
        else if (ap.floats_size()) type = onnx::AttributeProto::FLOATS;
        else if (ap.ints_size()) type = onnx::AttributeProto::INTS;
        else if (ap.strings_size()) type = onnx::AttributeProto::STRINGS;
        else if (ap.tensors_size()) type = onnx::AttributeProto::TENSORS;
        else if (ap.graphs_size()) type = onnx::AttributeProto::GRAPHS;
    }
    if (type < 0 || type > 14) return invalid("attribute '" + a.name + "' has invalid type " + std::to_string(type), nodeName);
    a.type = static_cast<ir::AttrType>(type);
    auto subgraph = [&](onnx::GraphProto& sg) -> Result<std::unique_ptr<ir::Graph>> {
        auto g = std::make_unique<ir::Graph>(&owner, node);
        EW_TRY(convertGraph(sg, *g, ctx));
        return g;
    };
    switch (a.type) {
    case ir::AttrType::Float: a.f = ap.f(); break;
    case ir::AttrType::Int: a.i = ap.i(); break;
    case ir::AttrType::String: a.s = ap.s(); break;
    case ir::AttrType::Tensor: { EW_TRY_ASSIGN(a.t, convertTensor(*ap.mutable_t(), ctx, nodeName)); break; }
    case ir::AttrType::Graph: { EW_TRY_ASSIGN(a.g, subgraph(*ap.mutable_g())); break; }
    case ir::AttrType::SparseTensor: { EW_TRY_ASSIGN(a.sparse, convertSparse(*ap.mutable_sparse_tensor(), ctx, nodeName)); break; }
    case ir::AttrType::TypeProto: { EW_TRY_ASSIGN(a.tp, convertType(ap.tp(), a.name)); break; }
    case ir::AttrType::Floats: a.floats.assign(ap.floats().begin(), ap.floats().end()); break;
    case ir::AttrType::Ints: a.ints.assign(ap.ints().begin(), ap.ints().end()); break;
    case ir::AttrType::Strings: a.strings.assign(ap.strings().begin(), ap.strings().end()); break;
    case ir::AttrType::Tensors:
        for (auto& t : *ap.mutable_tensors()) {
            EW_TRY_ASSIGN(auto ct, convertTensor(t, ctx, nodeName));
            a.tensors.push_back(std::move(ct));
        }
        break;
    case ir::AttrType::Graphs:
        for (auto& sg : *ap.mutable_graphs()) {
            EW_TRY_ASSIGN(auto cg, subgraph(sg));
            a.graphs.push_back(std::move(cg));
        }
        break;
    case ir::AttrType::SparseTensors:
        for (auto& st : *ap.mutable_sparse_tensors()) {
            EW_TRY_ASSIGN(auto cs, convertSparse(st, ctx, nodeName));
            a.sparseTensors.push_back(std::move(cs));
        }
        break;
    case ir::AttrType::TypeProtos:
        for (const auto& tp : ap.type_protos()) {
            EW_TRY_ASSIGN(auto ct, convertType(tp, a.name));
            a.tps.push_back(std::move(ct));
        }
        break;
    case ir::AttrType::Undefined: break;
    }
    return a;
}

VoidResult applyValueInfo(const onnx::ValueInfoProto& vi, ir::Value& v) {
    if (vi.has_type()) {
        EW_TRY_ASSIGN(v.type, convertType(vi.type(), vi.name()));
    }
    v.docString = vi.doc_string();
    detail::splitUnknownFields(vi.unknown_fields(), 0, detail::kValueInfoMetadataField, nullptr, &v.metadataProps, &v.extraFields);
    return {};
}

std::string nodeLabel(const onnx::NodeProto& np, int index) {
    if (!np.name().empty()) return np.name();
    return np.op_type() + " #" + std::to_string(index);
}

VoidResult convertNodes(google::protobuf::RepeatedPtrField<onnx::NodeProto>& nodes, ir::Graph& g, Ctx& ctx) {
    // Pass 1: every node output becomes a value, so inputs can refer to values defined later in
    // the file (the verifier reports cycles) and subgraphs see all outer values.
    for (int k = 0; k < nodes.size(); ++k) {
        const auto& np = nodes[k];
        for (const auto& out : np.output()) {
            if (out.empty()) continue;
            if (g.findValue(out))
                return invalid("value '" + out + "' is defined more than once (duplicate name)", nodeLabel(np, k));
            auto v = g.addValue(out);
            if (!v) return std::unexpected(std::move(v).error().withNode(nodeLabel(np, k)));
        }
    }
    // Pass 2: nodes, wired by name through the scope chain.
    for (int k = 0; k < nodes.size(); ++k) {
        auto& np = nodes[k];
        const std::string label = nodeLabel(np, k);
        if (np.op_type().empty()) return invalid("node has no op_type", label);
        std::vector<ir::Value*> ins, outs;
        ins.reserve(static_cast<std::size_t>(np.input_size()));
        for (const auto& in : np.input()) {
            if (in.empty()) {
                ins.push_back(nullptr);
                continue;
            }
            ir::Value* v = g.lookupValue(in);
            if (!v) return invalid("input '" + in + "' of " + np.op_type() + " is not defined by any node, graph input or initializer", label);
            ins.push_back(v);
        }
        for (const auto& out : np.output()) {
            ir::Value* v = out.empty() ? nullptr : g.findValue(out);
            if (v && v->producer())
                return invalid("value '" + out + "' is produced twice", label);
            outs.push_back(v);
        }
        ir::Node* n = g.addNode(np.op_type(), np.domain(), np.name(), ins, outs);
        n->docString = np.doc_string();
        detail::splitUnknownFields(np.unknown_fields(), detail::kNodeOverloadField, detail::kNodeMetadataField,
                                   &n->overload, &n->metadataProps, &n->extraFields);
        n->attributes.reserve(static_cast<std::size_t>(np.attribute_size()));
        for (auto& ap : *np.mutable_attribute()) {
            if (n->hasAttr(ap.name())) return invalid("attribute '" + ap.name() + "' appears twice", label);
            EW_TRY_ASSIGN(auto a, convertAttribute(ap, ctx, g, n, label));
            n->attributes.push_back(std::move(a));
        }
    }
    return {};
}

VoidResult convertGraph(onnx::GraphProto& gp, ir::Graph& g, Ctx& ctx) {
    if (++ctx.graphDepth > kMaxGraphDepth) return invalid("subgraphs are nested more than " + std::to_string(kMaxGraphDepth) + " deep");
    g.name = gp.name();
    g.docString = gp.doc_string();
    detail::splitUnknownFields(gp.unknown_fields(), 0, detail::kGraphMetadataField, nullptr, &g.metadataProps, &g.extraFields);

    for (auto& tp : *gp.mutable_initializer()) {
        if (tp.name().empty()) return invalid("an initializer of graph '" + g.name + "' has no name");
        if (g.findValue(tp.name())) return invalid("initializer '" + tp.name() + "' is defined more than once");
        EW_TRY_ASSIGN(auto t, convertTensor(tp, ctx, {}));
        EW_TRY_ASSIGN(ir::Value * v, g.addValue(t.name, ir::Type::tensor(t.dtype, ir::Shape::of(t.dims))));
        v->initializer = std::move(t);
        g.initializers.push_back(v);
    }
    for (auto& sp : *gp.mutable_sparse_initializer()) {
        EW_TRY_ASSIGN(auto s, convertSparse(sp, ctx, {}));
        const std::string& name = s.values.name;
        if (name.empty()) return invalid("a sparse initializer has no name");
        if (g.findValue(name)) return invalid("sparse initializer '" + name + "' is defined more than once");
        ir::Type t;
        t.kind = ir::Type::Kind::SparseTensor;
        t.elemType = s.values.dtype;
        t.shape = ir::Shape::of(s.dims);
        EW_TRY(g.addValue(name, std::move(t)));
        g.sparseInitializers.push_back(std::move(s));
    }
    for (const auto& vi : gp.input()) {
        if (vi.name().empty()) return invalid("a graph input of '" + g.name + "' has no name");
        ir::Value* v = g.findValue(vi.name());
        if (v && !v->isInitializer()) return invalid("graph input '" + vi.name() + "' is listed twice");
        if (v && v->isGraphInput()) return invalid("graph input '" + vi.name() + "' is listed twice");
        if (!v) {
            EW_TRY_ASSIGN(v, g.addValue(vi.name()));
        }
        // An initializer that is also an input (IR < 4 style) keeps its data; the declared type
        // must match it, which the verifier checks.
        ir::Type initType = v->type;
        EW_TRY(applyValueInfo(vi, *v));
        if (v->isInitializer() && !v->type.isKnown()) v->type = initType;
        g.inputs.push_back(v);
    }
    EW_TRY(convertNodes(*gp.mutable_node(), g, ctx));
    for (const auto& vi : gp.value_info()) {
        ir::Value* v = g.findValue(vi.name());
        if (!v) continue; // type information for a value that does not exist: nothing to attach it to
        EW_TRY(applyValueInfo(vi, *v));
        v->hasValueInfo = true;
    }
    for (const auto& vi : gp.output()) {
        ir::Value* v = g.lookupValue(vi.name());
        if (!v) return invalid("graph output '" + vi.name() + "' of graph '" + g.name + "' is not produced by anything");
        if (vi.has_type()) {
            EW_TRY(applyValueInfo(vi, *v));
        } else {
            v->docString = vi.doc_string();
        }
        g.outputs.push_back(v);
    }
    for (const auto& qa : gp.quantization_annotation()) {
        ir::Graph::QuantAnnotation a;
        a.tensorName = qa.tensor_name();
        for (const auto& kv : qa.quant_parameter_tensor_names()) a.params.emplace_back(kv.key(), kv.value());
        g.quantizationAnnotations.push_back(std::move(a));
    }
    --ctx.graphDepth;
    return {};
}

VoidResult convertFunction(onnx::FunctionProto& fp, ir::Function& f, Ctx& ctx) {
    f.name = fp.name();
    f.domain = fp.domain();
    f.docString = fp.doc_string();
    f.attributeNames.assign(fp.attribute().begin(), fp.attribute().end());
    for (const auto& o : fp.opset_import()) f.opsetImports.push_back({o.domain(), o.version()});
    detail::splitUnknownFields(fp.unknown_fields(), detail::kFunctionOverloadField, detail::kFunctionMetadataField,
                               &f.overload, &f.metadataProps, &f.extraFields);
    f.body = std::make_unique<ir::Graph>();
    f.body->name = f.name;
    for (const auto& in : fp.input()) {
        if (f.body->findValue(in)) return invalid("function '" + f.name + "' declares input '" + in + "' twice");
        EW_TRY_ASSIGN(ir::Value * v, f.body->addValue(in));
        f.body->inputs.push_back(v);
    }
    EW_TRY(convertNodes(*fp.mutable_node(), *f.body, ctx));
    for (const auto& out : fp.output()) {
        ir::Value* v = f.body->findValue(out);
        if (!v) return invalid("function '" + f.name + "' output '" + out + "' is not produced by its body");
        f.body->outputs.push_back(v);
    }
    return {};
}

Result<std::unique_ptr<ir::Model>> convertModel(onnx::ModelProto& mp, Ctx& ctx) {
    if (!mp.has_graph()) return invalid("not an ONNX model: it has no graph");
    if (mp.ir_version() < 0) return invalid("invalid IR version " + std::to_string(mp.ir_version()));
    auto m = std::make_unique<ir::Model>();
    m->irVersion = mp.ir_version();
    for (const auto& o : mp.opset_import()) {
        if (o.version() < 0) return invalid("opset import for domain '" + o.domain() + "' has negative version");
        m->opsetImports.push_back({o.domain(), o.version()});
    }
    m->producerName = mp.producer_name();
    m->producerVersion = mp.producer_version();
    m->domain = mp.domain();
    m->modelVersion = mp.model_version();
    m->docString = mp.doc_string();
    for (const auto& kv : mp.metadata_props()) m->metadataProps.emplace_back(kv.key(), kv.value());
    detail::splitUnknownFields(mp.unknown_fields(), 0, 0, nullptr, nullptr, &m->extraFields);
    for (const auto& ti : mp.training_info()) m->trainingInfos.push_back(ti.SerializeAsString());
    EW_TRY(convertGraph(*mp.mutable_graph(), *m->graph, ctx));
    for (auto& fp : *mp.mutable_functions()) {
        ir::Function f;
        EW_TRY(convertFunction(fp, f, ctx));
        m->functions.push_back(std::move(f));
    }
    m->sourceFormat = "onnx";
    return m;
}

bool readVarint(const unsigned char*& p, const unsigned char* end, uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        unsigned char b = *p++;
        v |= uint64_t(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

bool looksLikeTflite(std::span<const std::byte> head) {
    return head.size() >= 8 && std::memcmp(head.data() + 4, "TFL3", 4) == 0;
}

} // namespace

bool looksLikeOnnx(std::span<const std::byte> head) {
    if (head.empty() || looksLikeTflite(head)) return false;
    // Walk up to 8 top-level fields: each must be a ModelProto field with its wire type.
    const auto* p = reinterpret_cast<const unsigned char*>(head.data());
    const auto* end = p + head.size();
    int fields = 0;
    bool sawKnown = false;
    while (p < end && fields < 8) {
        uint64_t tag;
        if (!readVarint(p, end, tag)) return sawKnown;
        uint64_t field = tag >> 3, wire = tag & 7;
        bool varintField = field == 1 || field == 5;
        bool lenField = field == 2 || field == 3 || field == 4 || field == 6 || field == 7 || field == 8 ||
                        field == 14 || field == 20 || field == 25;
        if (varintField && wire == 0) {
            uint64_t v;
            if (!readVarint(p, end, v)) return sawKnown;
        } else if (lenField && wire == 2) {
            uint64_t len;
            if (!readVarint(p, end, len)) return sawKnown;
            if (len > static_cast<uint64_t>(end - p)) return true; // field runs past the probed head
            p += len;
        } else {
            return false;
        }
        sawKnown = true;
        ++fields;
    }
    return sawKnown;
}

Result<std::unique_ptr<ir::Model>> importOnnxBytes(std::span<const std::byte> bytes, const std::string& displayName,
                                                   const std::string& baseDir, const ImportOptions& opts) {
    installLogHandler();
    auto withFile = [&](Status s) { return std::unexpected(std::move(s).withFile(displayName)); };
    if (bytes.empty()) return withFile(makeError(StatusCode::InvalidInput, "the file is empty"));
    if (looksLikeTflite(bytes))
        return withFile(makeError(StatusCode::InvalidInput, "this is a TFLite model (TFL3 identifier), not an ONNX file"));
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
        return withFile(makeError(StatusCode::Unsupported,
                                  "ONNX files over 2 GB cannot be parsed by protobuf; store the weights as external data"));
    onnx::ModelProto proto;
    {
        google::protobuf::io::ArrayInputStream ais(bytes.data(), static_cast<int>(bytes.size()));
        google::protobuf::io::CodedInputStream cis(&ais);
        cis.SetTotalBytesLimit(INT_MAX);
        cis.SetRecursionLimit(256);
        t_lastProtobufError.clear();
        bool ok = proto.ParseFromCodedStream(&cis) && cis.ConsumedEntireMessage();
        if (!ok) {
            std::string detail = t_lastProtobufError.empty() ? std::string() : " (" + t_lastProtobufError + ")";
            return withFile(makeError(StatusCode::InvalidInput,
                                      "not a valid ONNX file: the protobuf data is corrupt or truncated" + detail));
        }
    }
    Ctx ctx;
    ctx.file = displayName;
    ctx.baseDir = baseDir;
    ctx.opts = opts;
    auto m = convertModel(proto, ctx);
    if (!m) return withFile(std::move(m).error());
    (*m)->sourceBytes = bytes.size();
    return m;
}

Result<std::unique_ptr<ir::Model>> importOnnxFile(const std::string& path, const ImportOptions& opts, Reporter& reporter) {
    reporter.progress("Reading", 0.0);
    auto mf = MappedFile::open(path);
    if (!mf) return std::unexpected(mf.error());
    std::string baseDir = fs::path(path).has_parent_path() ? fs::path(path).parent_path().string() : ".";
    reporter.progress("Parsing ONNX", 0.1);
    if (reporter.isCancelled()) return fail(Status{StatusCode::Cancelled, "cancelled", path, {}});
    auto m = importOnnxBytes((*mf)->bytes(), path, baseDir, opts);
    if (!m) return m;
    (*m)->sourcePath = path;
    reporter.progress("Parsing ONNX", 1.0);
    return m;
}

Result<ir::Tensor> parseTensorProto(std::span<const std::byte> bytes, const std::string& displayName) {
    installLogHandler();
    onnx::TensorProto tp;
    if (bytes.size() > static_cast<std::size_t>(INT_MAX) || !tp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        return fail(Status{StatusCode::InvalidInput, "not a valid TensorProto", displayName, {}});
    Ctx ctx;
    ctx.file = displayName;
    ctx.baseDir = fs::path(displayName).has_parent_path() ? fs::path(displayName).parent_path().string() : ".";
    auto t = convertTensor(tp, ctx, {});
    if (!t) return std::unexpected(std::move(t).error().withFile(displayName));
    return t;
}

Result<ir::Tensor> readTensorProtoFile(const std::string& path) {
    auto mf = MappedFile::open(path);
    if (!mf) return std::unexpected(mf.error());
    return parseTensorProto((*mf)->bytes(), path);
}

} // namespace ew::onnxfmt
