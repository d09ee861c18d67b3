#pragma once
// Internal to ew_format_onnx: helpers shared by the importer and exporter for the fields that
// newer ONNX versions added after the linked libonnx (1.12). Protobuf keeps such fields as
// unknown fields; we decode the ones the IR models and carry the rest as wire bytes.
#include "ir/graph.h"

#include <google/protobuf/unknown_field_set.h>

#include <string>

namespace ew::onnxfmt::detail {

/// Field numbers from onnx.proto (IR version 10+) that libonnx 1.12 does not know.
constexpr int kNodeOverloadField = 8;
constexpr int kNodeMetadataField = 9;
constexpr int kGraphMetadataField = 16;
constexpr int kValueInfoMetadataField = 4;
constexpr int kTensorMetadataField = 16;
constexpr int kFunctionOverloadField = 13;
constexpr int kFunctionMetadataField = 14;

/// Splits unknown fields: `overloadField` (string) and `metadataField` (StringStringEntryProto)
/// are decoded into the outputs (pass 0 to skip); everything else is serialized into `extra`.
void splitUnknownFields(const google::protobuf::UnknownFieldSet& fields, int overloadField,
                        int metadataField, std::string* overload, ir::MetadataProps* props,
                        std::string* extra);

/// The inverse: appends overload / metadata / extra bytes to a message's unknown fields.
void joinUnknownFields(google::protobuf::UnknownFieldSet* fields, int overloadField,
                       int metadataField, const std::string& overload,
                       const ir::MetadataProps& props, const std::string& extra);

} // namespace ew::onnxfmt::detail
