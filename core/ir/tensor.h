#pragma once
#include "common/status.h"
#include "dtype.h"
#include "shape.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ew::ir {

/// Where a tensor's bytes came from when they live outside the model file (ONNX external data).
/// Kept for display and for writing the model back the same way.
struct ExternalDataRef {
    std::string location;
    uint64_t offset = 0;
    uint64_t length = 0;
    bool operator==(const ExternalDataRef&) const = default;
};

/// Constant tensor data (initializers, attribute tensors). The bytes are immutable and shared:
/// copying a Tensor copies a pointer, never the weights. `owner` keeps alive whatever holds the
/// bytes (a moved-in protobuf string, a memory-mapped file, a vector). Fixed-size types are
/// stored little-endian and densely packed (sub-byte types two or four per byte, low bits first,
/// as ONNX packs them); String tensors use `strings` instead.
/// Invariant: bytes().size() == dataTypeStorageBytes(dtype, numElements()) for fixed-size types.
class Tensor {
public:
    std::string name;
    DataType dtype = DataType::Undefined;
    std::vector<int64_t> dims;
    std::vector<std::string> strings; ///< String tensors only
    std::string docString;
    std::optional<ExternalDataRef> external; ///< set when imported from external data
    std::vector<std::pair<std::string, std::string>> metadataProps;
    std::string extraFields; ///< wire-format fields the linked libonnx does not know

    Tensor() = default;
    /// Wraps bytes owned by `owner`. The caller has checked the size.
    Tensor(std::string name, DataType dtype, std::vector<int64_t> dims,
           std::shared_ptr<const void> owner, const std::byte* data, std::size_t nbytes)
        : name(std::move(name)), dtype(dtype), dims(std::move(dims)), m_owner(std::move(owner)),
          m_data(data), m_nbytes(nbytes) {}

    /// Builds a tensor from a vector of T (T must match the dtype's width).
    template <typename T>
    static Tensor fromVector(std::string name, DataType dtype, std::vector<int64_t> dims,
                             std::vector<T> values) {
        auto holder = std::make_shared<std::vector<T>>(std::move(values));
        const auto* p = reinterpret_cast<const std::byte*>(holder->data());
        std::size_t n = holder->size() * sizeof(T);
        return Tensor(std::move(name), dtype, std::move(dims), std::move(holder), p, n);
    }
    /// Takes ownership of a byte string (e.g. a protobuf raw_data field) without copying.
    static Tensor fromBytes(std::string name, DataType dtype, std::vector<int64_t> dims,
                            std::string&& bytes);

    std::span<const std::byte> bytes() const { return {m_data, m_nbytes}; }
    std::size_t byteSize() const { return m_nbytes; }
    /// Element count (product of dims; 1 for scalars). Valid after verification.
    int64_t numElements() const;
    Shape shape() const { return Shape::of(dims); }
    bool isScalar() const { return dims.empty(); }

    /// Element i read as double / int64 whatever the storage type (float16, int4, ... included).
    double valueAsDouble(int64_t i) const;
    int64_t valueAsInt(int64_t i) const;
    /// All elements as T, converting; handy for small shape tensors and statistics.
    std::vector<int64_t> toInt64() const;
    std::vector<double> toDouble() const;
    std::vector<float> toFloat() const;

    /// True when dtype, dims and the bytes (or strings) are identical.
    bool sameContent(const Tensor& o) const;
    /// FNV-1a of the bytes, for dumps and cheap equality hints.
    uint64_t contentHash() const;

private:
    std::shared_ptr<const void> m_owner;
    const std::byte* m_data = nullptr;
    std::size_t m_nbytes = 0;
};

/// Checks dims (non-negative, product and byte size without overflow, within `maxBytes`)
/// before anything allocates. Returns the element count.
Result<int64_t> checkedElementCount(const std::vector<int64_t>& dims,
                                    uint64_t maxElements = (uint64_t(1) << 40));

float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bfloat16ToFloat(uint16_t h);

/// ONNX sparse tensors (values + indices + dense dims), kept as they are.
struct SparseTensor {
    Tensor values;
    Tensor indices;
    std::vector<int64_t> dims;
};

} // namespace ew::ir
