#include "onnx_proto_util.h"

#include <onnx/onnx_pb.h>

namespace ew::onnxfmt::detail {

void splitUnknownFields(const google::protobuf::UnknownFieldSet& fields, int overloadField,
                        int metadataField, std::string* overload, ir::MetadataProps* props,
                        std::string* extra) {
    if (fields.empty()) return;
    google::protobuf::UnknownFieldSet rest;
    for (int k = 0; k < fields.field_count(); ++k) {
        const auto& f = fields.field(k);
        using UF = google::protobuf::UnknownField;
        if (overloadField && f.number() == overloadField && f.type() == UF::TYPE_LENGTH_DELIMITED && overload) {
            *overload = f.length_delimited();
            continue;
        }
        if (metadataField && f.number() == metadataField && f.type() == UF::TYPE_LENGTH_DELIMITED && props) {
        onnx::StringStringEntryProto e;
            if (e.ParseFromString(f.length_delimited())) {
                props->emplace_back(e.key(), e.value());
                continue;
            }
        }
        rest.AddField(f);
    }
    if (!rest.empty() && extra) rest.SerializeToString(extra);
}

void joinUnknownFields(google::protobuf::UnknownFieldSet* fields, int overloadField,
                       int metadataField, const std::string& overload,
                       const ir::MetadataProps& props, const std::string& extra) {
    if (overloadField && !overload.empty()) fields->AddLengthDelimited(overloadField, overload);
    if (metadataField)
        for (const auto& [k, v] : props) {
            onnx::StringStringEntryProto e;
            e.set_key(k);
            e.set_value(v);
            fields->AddLengthDelimited(metadataField, e.SerializeAsString());
        }
    if (!extra.empty()) {
        google::protobuf::UnknownFieldSet rest;
        if (rest.ParseFromString(extra)) fields->MergeFrom(rest);
    }
}

} // namespace ew::onnxfmt::detail
