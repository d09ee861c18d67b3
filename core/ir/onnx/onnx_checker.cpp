#include "onnx_checker.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <exception>
#include <fstream>
#include <sstream>

namespace ew::onnxfmt {

namespace {

Result<onnx::ModelProto> loadProto(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Status{StatusCode::IoError, "cannot open", path, {}});
    onnx::ModelProto mp;
    if (!mp.ParseFromIstream(&in)) return fail(Status{StatusCode::InvalidInput, "not a valid ONNX protobuf", path, {}});
    return mp;
}

ir::Type typeFromProto(const onnx::TypeProto& tp) {
    ir::Type t;
    if (tp.has_tensor_type()) {
        t.kind = ir::Type::Kind::Tensor;
        t.elemType = static_cast<ir::DataType>(tp.tensor_type().elem_type());
        if (tp.tensor_type().has_shape()) {
            ir::Shape s;
            for (const auto& d : tp.tensor_type().shape().dim()) {
                if (d.has_dim_value() && d.dim_value() >= 0) s.dims.push_back(ir::Dim::known(d.dim_value()));
                else if (d.has_dim_param()) s.dims.push_back(ir::Dim::symbolic(d.dim_param()));
                else s.dims.push_back(ir::Dim::unknown());
            }
            t.shape = std::move(s);
        }
    } else if (tp.has_sequence_type()) {
        t.kind = ir::Type::Kind::Sequence;
        if (tp.sequence_type().has_elem_type())
            t.inner = std::make_shared<ir::Type>(typeFromProto(tp.sequence_type().elem_type()));
    } else if (tp.has_optional_type()) {
        t.kind = ir::Type::Kind::Optional;
        if (tp.optional_type().has_elem_type())
            t.inner = std::make_shared<ir::Type>(typeFromProto(tp.optional_type().elem_type()));
    }
    return t;
}

} // namespace

VoidResult runOnnxChecker(const std::string& path) {
    try {
        onnx::checker::check_model(path);
    } catch (const std::exception& e) {
        return fail(Status{StatusCode::InvalidInput, std::string("onnx checker: ") + e.what(), path, {}});
    } catch (...) {
        return fail(Status{StatusCode::InvalidInput, "onnx checker: unknown exception", path, {}});
    }
    return {};
}

Result<std::map<std::string, ir::Type>> runOnnxShapeInference(const std::string& path) {
    EW_TRY_ASSIGN(auto mp, loadProto(path));
    // Infer from scratch: drop what the file declares for intermediate values and outputs.
    mp.mutable_graph()->clear_value_info();
    for (auto& o : *mp.mutable_graph()->mutable_output()) o.clear_type();
    try {
        onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
        onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception& e) {
        return fail(Status{StatusCode::InvalidInput, std::string("onnx shape inference: ") + e.what(), path, {}});
    } catch (...) {
        return fail(Status{StatusCode::InvalidInput, "onnx shape inference: unknown exception", path, {}});
    }
    std::map<std::string, ir::Type> out;
    for (const auto& vi : mp.graph().value_info())
        if (vi.has_type()) out[vi.name()] = typeFromProto(vi.type());
    for (const auto& vi : mp.graph().output())
        if (vi.has_type()) out[vi.name()] = typeFromProto(vi.type());
    return out;
}

int onnxLibraryMaxOpset() {
    const auto& map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
    auto it = map.find(onnx::ONNX_DOMAIN);
    return it == map.end() ? 0 : it->second.second;
}

} // namespace ew::onnxfmt
