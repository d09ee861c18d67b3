#include "dtype.h"

#include <array>
#include <limits>

namespace ew::ir {

namespace {
struct Info {
    DataType type;
    std::string_view name;
    int bits;
};
constexpr std::array<Info, kMaxDataType + 1> kInfo{{
    {DataType::Undefined, "undefined", 0},
    {DataType::Float, "float32", 32},
    {DataType::UInt8, "uint8", 8},
    {DataType::Int8, "int8", 8},
    {DataType::UInt16, "uint16", 16},
    {DataType::Int16, "int16", 16},
    {DataType::Int32, "int32", 32},
    {DataType::Int64, "int64", 64},
    {DataType::String, "string", 0},
    {DataType::Bool, "bool", 8},
    {DataType::Float16, "float16", 16},
    {DataType::Double, "float64", 64},
    {DataType::UInt32, "uint32", 32},
    {DataType::UInt64, "uint64", 64},
    {DataType::Complex64, "complex64", 64},
    {DataType::Complex128, "complex128", 128},
    {DataType::BFloat16, "bfloat16", 16},
    {DataType::Float8E4M3FN, "float8e4m3fn", 8},
    {DataType::Float8E4M3FNUZ, "float8e4m3fnuz", 8},
    {DataType::Float8E5M2, "float8e5m2", 8},
    {DataType::Float8E5M2FNUZ, "float8e5m2fnuz", 8},
    {DataType::UInt4, "uint4", 4},
    {DataType::Int4, "int4", 4},
    {DataType::Float4E2M1, "float4e2m1", 4},
    {DataType::Float8E8M0, "float8e8m0", 8},
    {DataType::UInt2, "uint2", 2},
    {DataType::Int2, "int2", 2},
}};
} // namespace

bool isValidDataType(int32_t v) { return v >= 0 && v <= kMaxDataType; }

std::string_view dataTypeName(DataType t) {
    auto i = static_cast<int32_t>(t);
    return isValidDataType(i) ? kInfo[i].name : std::string_view("invalid");
}

std::optional<DataType> dataTypeFromName(std::string_view name) {
    for (const auto& info : kInfo)
        if (info.name == name) return info.type;
    if (name == "float") return DataType::Float;
    if (name == "double") return DataType::Double;
    return std::nullopt;
}

int dataTypeBits(DataType t) {
    auto i = static_cast<int32_t>(t);
    return isValidDataType(i) ? kInfo[i].bits : 0;
}

std::optional<std::size_t> dataTypeStorageBytes(DataType t, uint64_t count) {
    int bits = dataTypeBits(t);
    if (bits == 0) return std::nullopt;
    if (count > std::numeric_limits<uint64_t>::max() / 128) return std::nullopt;
    uint64_t total = (count * static_cast<uint64_t>(bits) + 7) / 8;
    if (total > std::numeric_limits<std::size_t>::max()) return std::nullopt;
    return static_cast<std::size_t>(total);
}

bool isFloatingPoint(DataType t) {
    switch (t) {
    case DataType::Float: case DataType::Double: case DataType::Float16: case DataType::BFloat16:
    case DataType::Float8E4M3FN: case DataType::Float8E4M3FNUZ: case DataType::Float8E5M2:
    case DataType::Float8E5M2FNUZ: case DataType::Float4E2M1: case DataType::Float8E8M0:
        return true;
    default: return false;
    }
}

bool isInteger(DataType t) {
    switch (t) {
    case DataType::UInt8: case DataType::Int8: case DataType::UInt16: case DataType::Int16:
    case DataType::Int32: case DataType::Int64: case DataType::UInt32: case DataType::UInt64:
    case DataType::UInt4: case DataType::Int4: case DataType::UInt2: case DataType::Int2:
        return true;
    default: return false;
    }
}

bool isSigned(DataType t) {
    switch (t) {
    case DataType::Int8: case DataType::Int16: case DataType::Int32: case DataType::Int64:
    case DataType::Int4: case DataType::Int2:
        return true;
    default: return isFloatingPoint(t);
    }
}

} // namespace ew::ir
