#pragma once
#include "common/status.h"
#include "ir/dtype.h"
#include "ir/tensor.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ew::rt {

using ir::DataType;

/// Alignment of every buffer the runtime allocates (arena, owned tensors, arena offsets).
constexpr std::size_t kAlignment = 64;

/// Bytes per element for the fixed-size types the runtime holds; 0 for String, Undefined and the
/// sub-byte types it does not run (float4). The sub-byte integers (int4, uint4, int2, uint2) are
/// held unpacked, one value per byte (sign-extended for the signed ones), so kernels index them
/// like int8/uint8; fromIr unpacks ONNX's packed storage and toIr packs it again.
std::size_t elementSize(DataType t);
/// int4, uint4, int2 or uint2: packed in IR tensors and files, one value per byte in the runtime.
bool isSubByteInteger(DataType t);

/// 64-byte aligned, uninitialised storage; freed with freeAligned.
std::byte* allocateAligned(std::size_t bytes);
void freeAligned(std::byte* p);

/// A dense tensor the runtime reads and writes: dtype, dims and contiguous row-major data.
/// Either owning (64-B aligned storage shared between copies, like a shared_ptr) or borrowed (the
/// caller keeps the bytes alive; used for inputs and for the session's arena views).
/// Invariant: byteSize() == numElements() * elementSize(dtype()) and data() spans that many bytes.
class Tensor {
public:
    Tensor() = default;

    /// Owning, zero-filled.
    static Tensor allocate(DataType dtype, std::vector<int64_t> dims);
    /// Borrowed: `data` must outlive every use. The const overload is for inputs the runtime only
    /// reads (the session never writes to a graph input).
    static Tensor borrow(DataType dtype, std::vector<int64_t> dims, void* data);
    static Tensor borrow(DataType dtype, std::vector<int64_t> dims, const void* data);
    /// Owning copy of `values` (sizeof(T) must be the dtype's element size).
    template <typename T>
    static Tensor fromVector(DataType dtype, std::vector<int64_t> dims, const std::vector<T>& values) {
        Tensor t = allocate(dtype, std::move(dims));
        EW_ASSERT_SIZE(t, values.size() * sizeof(T));
        if (!values.empty()) std::memcpy(t.m_data, values.data(), values.size() * sizeof(T));
        return t;
    }
    /// Copies an IR constant (initializer, attribute) into owned, aligned storage (sub-byte
    /// integers unpacked, one per byte).
    static Result<Tensor> fromIr(const ir::Tensor& t);
    /// An IR tensor holding a copy of the bytes (for export, comparison and the quantizer);
    /// sub-byte integers packed as ONNX stores them (low bits first; the value's own bits only).
    ir::Tensor toIr(std::string name) const;
    /// Owning deep copy.
    Tensor clone() const;

    DataType dtype() const { return m_dtype; }
    const std::vector<int64_t>& dims() const { return m_dims; }
    std::size_t rank() const { return m_dims.size(); }
    int64_t numElements() const { return m_numel; }
    std::size_t byteSize() const { return m_bytes; }
    bool isOwning() const { return m_owner != nullptr; }
    bool empty() const { return m_dtype == DataType::Undefined; }

    std::byte* raw() { return m_data; }
    const std::byte* raw() const { return m_data; }
    template <typename T>
    T* data() {
        return reinterpret_cast<T*>(m_data);
    }
    template <typename T>
    const T* data() const {
        return reinterpret_cast<const T*>(m_data);
    }
    template <typename T>
    std::vector<T> toVector() const {
        std::vector<T> v(static_cast<std::size_t>(m_numel));
        if (m_numel) std::memcpy(v.data(), m_data, m_bytes);
        return v;
    }
    /// Elements as int64 / double whatever the (numeric or bool) dtype; for shape inputs and tests.
    int64_t intAt(int64_t i) const;
    double doubleAt(int64_t i) const;

    /// Points this tensor at borrowed bytes with new dtype and dims, reusing the dims vector's
    /// capacity (the session's steady state relies on this not allocating).
    void rebind(DataType dtype, std::span<const int64_t> dims, std::byte* data);
    /// Makes this an owning tensor of the given type and dims, reusing the current owned buffer
    /// when it is not shared and large enough (Session::run's output reuse).
    void reshapeOwned(DataType dtype, std::span<const int64_t> dims);

private:
    static void EW_ASSERT_SIZE(const Tensor& t, std::size_t bytes);
    void setMeta(DataType dtype, std::span<const int64_t> dims);

    DataType m_dtype = DataType::Undefined;
    std::vector<int64_t> m_dims;
    int64_t m_numel = 0;
    std::size_t m_bytes = 0;
    std::byte* m_data = nullptr;
    std::shared_ptr<std::byte> m_owner;
    std::size_t m_capacity = 0; ///< owned bytes available at m_data
};

/// Product of dims (1 for a scalar).
inline int64_t numElementsOf(std::span<const int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

/// "float32[1,3,224,224]".
std::string describe(DataType dtype, std::span<const int64_t> dims);

} // namespace ew::rt
