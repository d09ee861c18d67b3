#include "onnx_export.h"

#include "common/file_util.h"
#include "onnx_proto_util.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ew::onnxfmt {

namespace fs = std::filesystem;
using ir::DataType;

namespace {

/// Collects tensors that go to the external data file while the proto is built.
struct ExternalWriter {
    uint64_t threshold = 0;  ///< 0: never
    std::string location;    ///< file name relative to the model
    std::vector<const ir::Tensor*> tensors;
    uint64_t size = 0;
    bool enabled() const { return threshold > 0; }
};

void convertType(const ir::Type& t, onnx::TypeProto* tp) {
    if (!t.denotation.empty()) tp->set_denotation(t.denotation);
    auto writeShape = [](const ir::Shape& s, onnx::TensorShapeProto* sp) {
        for (const auto& d : s.dims) {
            auto* dp = sp->add_dim();
            if (d.isKnown()) dp->set_dim_value(d.value);
            else if (!d.symbol.empty()) dp->set_dim_param(d.symbol);
            if (!d.denotation.empty()) dp->set_denotation(d.denotation);
        }
    };
    switch (t.kind) {
    case ir::Type::Kind::Tensor: {
        auto* tt = tp->mutable_tensor_type();
        tt->set_elem_type(static_cast<int32_t>(t.elemType));
        if (t.shape) writeShape(*t.shape, tt->mutable_shape());
        break;
    }
    case ir::Type::Kind::SparseTensor: {
        auto* tt = tp->mutable_sparse_tensor_type();
        tt->set_elem_type(static_cast<int32_t>(t.elemType));
        if (t.shape) writeShape(*t.shape, tt->mutable_shape());
        break;
    }
    case ir::Type::Kind::Sequence: {
        auto* st = tp->mutable_sequence_type();
        if (t.inner) convertType(*t.inner, st->mutable_elem_type());
        break;
    }
    case ir::Type::Kind::Optional: {
        auto* ot = tp->mutable_optional_type();
        if (t.inner) convertType(*t.inner, ot->mutable_elem_type());
        break;
    }
    case ir::Type::Kind::Map: {
        auto* mt = tp->mutable_map_type();
        mt->set_key_type(static_cast<int32_t>(t.elemType));
        if (t.inner) convertType(*t.inner, mt->mutable_value_type());
        break;
    }
    case ir::Type::Kind::Unknown: break;
    }
}

void convertTensor(const ir::Tensor& t, onnx::TensorProto* tp, ExternalWriter* ext) {
    tp->set_name(t.name);
    tp->set_data_type(static_cast<int32_t>(t.dtype));
    for (int64_t d : t.dims) tp->add_dims(d);
    if (!t.docString.empty()) tp->set_doc_string(t.docString);
    if (t.dtype == DataType::String) {
        for (const auto& s : t.strings) tp->add_string_data(s);
    } else if (ext && ext->enabled() && t.byteSize() >= ext->threshold) {
        // Page-aligned offsets let readers map each tensor directly.
        uint64_t offset = (ext->size + 4095) / 4096 * 4096;
        tp->set_data_location(onnx::TensorProto::EXTERNAL);
        auto add = [&](const char* k, const std::string& v) {
            auto* e = tp->add_external_data();
            e->set_key(k);
            e->set_value(v);
        };
        add("location", ext->location);
        add("offset", std::to_string(offset));
        add("length", std::to_string(t.byteSize()));
        ext->tensors.push_back(&t);
        ext->size = offset + t.byteSize();
    } else {
        auto b = t.bytes();
        tp->set_raw_data(reinterpret_cast<const char*>(b.data()), b.size());
    }
    detail::joinUnknownFields(tp->mutable_unknown_fields(), 0, detail::kTensorMetadataField, {}, t.metadataProps,
                              t.extraFields);
}

void convertSparse(const ir::SparseTensor& s, onnx::SparseTensorProto* sp, ExternalWriter* ext) {
    convertTensor(s.values, sp->mutable_values(), ext);
    convertTensor(s.indices, sp->mutable_indices(), ext);
    for (int64_t d : s.dims) sp->add_dims(d);
}

void convertValueInfo(const ir::Value& v, onnx::ValueInfoProto* vi) {
    vi->set_name(v.name);
    if (v.type.isKnown()) convertType(v.type, vi->mutable_type());
    if (!v.docString.empty()) vi->set_doc_string(v.docString);
    detail::joinUnknownFields(vi->mutable_unknown_fields(), 0, detail::kValueInfoMetadataField, {}, v.metadataProps,
                              v.extraFields);
}

void convertGraph(const ir::Graph& g, onnx::GraphProto* gp, ExternalWriter* ext);

void convertNode(const ir::Node& n, onnx::NodeProto* np, ExternalWriter* ext) {
    for (const ir::Value* v : n.inputs()) np->add_input(v ? v->name : std::string());
    for (const ir::Value* v : n.outputs()) np->add_output(v ? v->name : std::string());
    if (!n.name.empty()) np->set_name(n.name);
    np->set_op_type(n.opType);
    if (!n.domain.empty()) np->set_domain(n.domain);
    if (!n.docString.empty()) np->set_doc_string(n.docString);
    for (const auto& a : n.attributes) {
        auto* ap = np->add_attribute();
        ap->set_name(a.name);
        if (!a.refAttrName.empty()) ap->set_ref_attr_name(a.refAttrName);
        if (!a.docString.empty()) ap->set_doc_string(a.docString);
        ap->set_type(static_cast<onnx::AttributeProto::AttributeType>(a.type));
        switch (a.type) {
        case ir::AttrType::Float: ap->set_f(a.f); break;
        case ir::AttrType::Int: ap->set_i(a.i); break;
        case ir::AttrType::String: ap->set_s(a.s); break;
        case ir::AttrType::Tensor: convertTensor(a.t, ap->mutable_t(), ext); break;
        case ir::AttrType::Graph:
            if (a.g) convertGraph(*a.g, ap->mutable_g(), ext);
            break;
        case ir::AttrType::SparseTensor: convertSparse(a.sparse, ap->mutable_sparse_tensor(), ext); break;
        case ir::AttrType::TypeProto: convertType(a.tp, ap->mutable_tp()); break;
        case ir::AttrType::Floats:
            for (float f : a.floats) ap->add_floats(f);
            break;
        case ir::AttrType::Ints:
            for (int64_t i : a.ints) ap->add_ints(i);
            break;
        case ir::AttrType::Strings:
            for (const auto& s : a.strings) ap->add_strings(s);
            break;
        case ir::AttrType::Tensors:
            for (const auto& t : a.tensors) convertTensor(t, ap->add_tensors(), ext);
            break;
        case ir::AttrType::Graphs:
            for (const auto& sg : a.graphs)
                if (sg) convertGraph(*sg, ap->add_graphs(), ext);
            break;
        case ir::AttrType::SparseTensors:
            for (const auto& s : a.sparseTensors) convertSparse(s, ap->add_sparse_tensors(), ext);
            break;
        case ir::AttrType::TypeProtos:
            for (const auto& t : a.tps) convertType(t, ap->add_type_protos());
            break;
        case ir::AttrType::Undefined: break;
        }
    }
    detail::joinUnknownFields(np->mutable_unknown_fields(), detail::kNodeOverloadField, detail::kNodeMetadataField,
                              n.overload, n.metadataProps, n.extraFields);
}

void convertGraph(const ir::Graph& g, onnx::GraphProto* gp, ExternalWriter* ext) {
    gp->set_name(g.name);
    if (!g.docString.empty()) gp->set_doc_string(g.docString);
    for (const auto& n : g.nodes()) convertNode(*n, gp->add_node(), ext);
    for (const ir::Value* v : g.initializers) convertTensor(*v->initializer, gp->add_initializer(), ext);
    for (const auto& s : g.sparseInitializers) convertSparse(s, gp->add_sparse_initializer(), ext);
    for (const ir::Value* v : g.inputs) convertValueInfo(*v, gp->add_input());
    for (const ir::Value* v : g.outputs) convertValueInfo(*v, gp->add_output());
    for (const auto& v : g.values())
        if (v->hasValueInfo && !v->isGraphInput() && !v->isGraphOutput()) convertValueInfo(*v, gp->add_value_info());
    for (const auto& qa : g.quantizationAnnotations) {
        auto* q = gp->add_quantization_annotation();
        q->set_tensor_name(qa.tensorName);
        for (const auto& [k, v] : qa.params) {
            auto* e = q->add_quant_parameter_tensor_names();
            e->set_key(k);
            e->set_value(v);
        }
    }
    detail::joinUnknownFields(gp->mutable_unknown_fields(), 0, detail::kGraphMetadataField, {}, g.metadataProps,
                              g.extraFields);
}

void convertModel(const ir::Model& m, onnx::ModelProto* mp, ExternalWriter* ext) {
    mp->set_ir_version(m.irVersion);
    for (const auto& o : m.opsetImports) {
        auto* op = mp->add_opset_import();
        op->set_domain(o.domain);
        op->set_version(o.version);
    }
    if (!m.producerName.empty()) mp->set_producer_name(m.producerName);
    if (!m.producerVersion.empty()) mp->set_producer_version(m.producerVersion);
    if (!m.domain.empty()) mp->set_domain(m.domain);
    if (m.modelVersion) mp->set_model_version(m.modelVersion);
    if (!m.docString.empty()) mp->set_doc_string(m.docString);
    for (const auto& [k, v] : m.metadataProps) {
        auto* e = mp->add_metadata_props();
        e->set_key(k);
        e->set_value(v);
    }
    convertGraph(*m.graph, mp->mutable_graph(), ext);
    for (const auto& ti : m.trainingInfos) mp->add_training_info()->ParseFromString(ti);
    for (const auto& f : m.functions) {
        auto* fp = mp->add_functions();
        fp->set_name(f.name);
        fp->set_domain(f.domain);
        if (!f.docString.empty()) fp->set_doc_string(f.docString);
        for (const auto& a : f.attributeNames) fp->add_attribute(a);
        for (const auto& o : f.opsetImports) {
            auto* op = fp->add_opset_import();
            op->set_domain(o.domain);
            op->set_version(o.version);
        }
        if (f.body) {
            for (const ir::Value* v : f.body->inputs) fp->add_input(v->name);
            for (const ir::Value* v : f.body->outputs) fp->add_output(v->name);
            for (const auto& n : f.body->nodes()) convertNode(*n, fp->add_node(), ext);
        }
        detail::joinUnknownFields(fp->mutable_unknown_fields(), detail::kFunctionOverloadField,
                                  detail::kFunctionMetadataField, f.overload, f.metadataProps, f.extraFields);
    }
    detail::joinUnknownFields(mp->mutable_unknown_fields(), 0, 0, {}, {}, m.extraFields);
}

uint64_t totalTensorBytes(const ir::Graph& g) {
    uint64_t n = 0;
    for (const ir::Value* v : g.initializers) n += v->initializer->byteSize();
    for (const auto& node : g.nodes())
        for (const auto& a : node->attributes) {
            if (a.type == ir::AttrType::Tensor) n += a.t.byteSize();
            for (const auto& t : a.tensors) n += t.byteSize();
            if (a.g) n += totalTensorBytes(*a.g);
            for (const auto& sg : a.graphs)
                if (sg) n += totalTensorBytes(*sg);
        }
    return n;
}

VoidResult writeWithStdio(const std::string& path, const std::function<bool(std::FILE*)>& body) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return fail(StatusCode::IoError, std::string("cannot create file: ") + std::strerror(errno));
    bool ok = body(f);
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) return fail(StatusCode::IoError, "write failed (disk full?)");
    return {};
}

} // namespace

Result<std::string> serializeOnnx(const ir::Model& model) {
    if (totalTensorBytes(*model.graph) >= (uint64_t(INT_MAX) - (uint64_t(64) << 20)))
        return fail(StatusCode::Unsupported, "the model's weights exceed protobuf's 2 GB limit; save it to a file with external data");
    onnx::ModelProto mp;
    convertModel(model, &mp, nullptr);
    std::string out;
    if (!mp.SerializeToString(&out)) return fail(StatusCode::Internal, "protobuf serialization failed");
    return out;
}

VoidResult exportOnnxFile(const ir::Model& model, const std::string& path, const ExportOptions& opts) {
    if (!model.sourcePath.empty() && sameFile(model.sourcePath, path))
        return fail(Status{StatusCode::Usage, "refusing to overwrite the model's own source file; choose another name", path, {}});
    ExternalWriter ext;
    ext.threshold = opts.externalDataThreshold;
    if (!ext.enabled() && totalTensorBytes(*model.graph) >= (uint64_t(INT_MAX) - (uint64_t(64) << 20)))
        ext.threshold = 1024; // too big for one protobuf message: move weights out
    ext.location = fs::path(path).filename().string() + ".data";
    onnx::ModelProto mp;
    convertModel(model, &mp, &ext);

    if (!ext.tensors.empty()) {
        fs::path dataPath = fs::path(path).parent_path() / ext.location;
        if (!model.sourcePath.empty()) {
            // Never overwrite the data file the source model is still mapped from.
            for (const auto& v : model.graph->initializers)
                if (v->initializer->external &&
                    sameFile((fs::path(model.sourcePath).parent_path() / v->initializer->external->location).string(),
                             dataPath.string()))
                    return fail(Status{StatusCode::Usage, "refusing to overwrite the source model's external data file",
                                       dataPath.string(), {}});
        }
        EW_TRY(writeFileAtomically(dataPath.string(), [&](const std::string& tmp) {
            return writeWithStdio(tmp, [&](std::FILE* f) {
                uint64_t pos = 0;
                static const char zeros[4096] = {};
                for (const ir::Tensor* t : ext.tensors) {
                    uint64_t offset = (pos + 4095) / 4096 * 4096;
                    if (offset > pos && std::fwrite(zeros, 1, offset - pos, f) != offset - pos) return false;
                    auto b = t->bytes();
                    if (!b.empty() && std::fwrite(b.data(), 1, b.size(), f) != b.size()) return false;
                    pos = offset + b.size();
                }
                return true;
            });
        }));
    }
    std::string bytes;
    if (!mp.SerializeToString(&bytes)) return fail(Status{StatusCode::Internal, "protobuf serialization failed", path, {}});
    return writeBytesAtomically(path, std::as_bytes(std::span(bytes.data(), bytes.size())));
}

Result<std::string> serializeTensorProto(const ir::Tensor& tensor) {
    onnx::TensorProto tp;
    convertTensor(tensor, &tp, nullptr);
    std::string out;
    if (!tp.SerializeToString(&out)) return fail(StatusCode::Internal, "protobuf serialization failed");
    return out;
}

} // namespace ew::onnxfmt
