#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ew::ir {

/// Element types. The numbering is ONNX's TensorProto.DataType so that import and export are a
/// cast; TFLite types map onto these at the border.
enum class DataType : int32_t {
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
    Float8E8M0 = 24,
    UInt2 = 25,
    Int2 = 26,
};

constexpr int32_t kMaxDataType = 26;

/// A known enumerator (values outside are rejected on import).
bool isValidDataType(int32_t v);
/// "float32", "int8", ... (the names NumPy and the CLI use).
std::string_view dataTypeName(DataType t);
std::optional<DataType> dataTypeFromName(std::string_view name);
/// Storage bits per element: 1..128, 0 for String/Undefined (not fixed size).
int dataTypeBits(DataType t);
/// Bytes needed for `count` elements, rounding sub-byte types up; nullopt on overflow.
std::optional<std::size_t> dataTypeStorageBytes(DataType t, uint64_t count);
bool isFloatingPoint(DataType t);
bool isInteger(DataType t);
bool isSigned(DataType t);

} // namespace ew::ir
