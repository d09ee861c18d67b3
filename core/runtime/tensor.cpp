#include "tensor.h"

#include "common/assert.h"

#include <new>

namespace ew::rt {

bool isSubByteInteger(DataType t) {
    return t == DataType::Int4 || t == DataType::UInt4 || t == DataType::Int2 || t == DataType::UInt2;
}

std::size_t elementSize(DataType t) {
    if (isSubByteInteger(t)) return 1;
    int bits = ir::dataTypeBits(t);
    if (t == DataType::String || bits < 8) return 0;
    return static_cast<std::size_t>(bits / 8);
}

std::byte* allocateAligned(std::size_t bytes) {
    std::size_t n = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (n == 0) n = kAlignment;
    return static_cast<std::byte*>(::operator new(n, std::align_val_t(kAlignment)));
}

void freeAligned(std::byte* p) {
    if (p) ::operator delete(p, std::align_val_t(kAlignment));
}

void Tensor::EW_ASSERT_SIZE(const Tensor& t, std::size_t bytes) { EW_ASSERT(t.m_bytes == bytes); }

void Tensor::setMeta(DataType dtype, std::span<const int64_t> dims) {
    m_dtype = dtype;
    m_dims.assign(dims.begin(), dims.end());
    m_numel = numElementsOf(dims);
    m_bytes = static_cast<std::size_t>(m_numel) * elementSize(dtype);
}

Tensor Tensor::allocate(DataType dtype, std::vector<int64_t> dims) {
    Tensor t;
    t.setMeta(dtype, dims);
    std::byte* p = allocateAligned(t.m_bytes);
    std::memset(p, 0, t.m_bytes);
    t.m_owner = std::shared_ptr<std::byte>(p, [](std::byte* q) { freeAligned(q); });
    t.m_data = p;
    t.m_capacity = t.m_bytes;
    return t;
}

Tensor Tensor::borrow(DataType dtype, std::vector<int64_t> dims, void* data) {
    Tensor t;
    t.setMeta(dtype, dims);
    t.m_data = static_cast<std::byte*>(data);
    return t;
}

Tensor Tensor::borrow(DataType dtype, std::vector<int64_t> dims, const void* data) {
    return borrow(dtype, std::move(dims), const_cast<void*>(data));
}

Result<Tensor> Tensor::fromIr(const ir::Tensor& src) {
    if (elementSize(src.dtype) == 0)
        return fail(StatusCode::Unsupported, "tensor '" + src.name + "' has type " +
                                                 std::string(ir::dataTypeName(src.dtype)) +
                                                 ", which the CPU runtime does not run");
    for (int64_t d : src.dims)
        if (d < 0) return fail(StatusCode::InvalidInput, "tensor '" + src.name + "' has a negative dim");
    Tensor t = allocate(src.dtype, src.dims);
    if (isSubByteInteger(src.dtype)) {
        // Packed in the IR; valueAsInt extracts (and sign-extends) each value.
        auto want = ir::dataTypeStorageBytes(src.dtype, static_cast<uint64_t>(t.numElements()));
        if (!want || src.byteSize() != *want)
            return fail(StatusCode::InvalidInput, "tensor '" + src.name + "' holds " +
                                                      std::to_string(src.byteSize()) + " bytes, expected " +
                                                      std::to_string(want.value_or(0)));
        int8_t* p = t.data<int8_t>();
        for (int64_t i = 0; i < t.numElements(); ++i) p[i] = static_cast<int8_t>(src.valueAsInt(i));
        return t;
    }
    if (src.byteSize() != t.byteSize())
        return fail(StatusCode::InvalidInput, "tensor '" + src.name + "' holds " +
                                                  std::to_string(src.byteSize()) + " bytes, expected " +
                                                  std::to_string(t.byteSize()));
    if (t.byteSize()) std::memcpy(t.m_data, src.bytes().data(), t.byteSize());
    return t;
}

ir::Tensor Tensor::toIr(std::string name) const {
    if (isSubByteInteger(m_dtype)) {
        const int bits = ir::dataTypeBits(m_dtype), perByte = 8 / bits;
        const unsigned mask = (1u << bits) - 1;
        std::string bytes(*ir::dataTypeStorageBytes(m_dtype, static_cast<uint64_t>(m_numel)), '\0');
        for (int64_t i = 0; i < m_numel; ++i) {
            const unsigned v = static_cast<uint8_t>(m_data[i]) & mask;
            bytes[static_cast<std::size_t>(i / perByte)] |= static_cast<char>(v << (bits * (i % perByte)));
        }
        return ir::Tensor::fromBytes(std::move(name), m_dtype, m_dims, std::move(bytes));
    }
    std::string bytes(reinterpret_cast<const char*>(m_data), m_bytes);
    return ir::Tensor::fromBytes(std::move(name), m_dtype, m_dims, std::move(bytes));
}

Tensor Tensor::clone() const {
    Tensor t = allocate(m_dtype, m_dims);
    if (m_bytes) std::memcpy(t.m_data, m_data, m_bytes);
    return t;
}

void Tensor::rebind(DataType dtype, std::span<const int64_t> dims, std::byte* data) {
    setMeta(dtype, dims);
    m_data = data;
    m_owner.reset();
    m_capacity = 0;
}

void Tensor::reshapeOwned(DataType dtype, std::span<const int64_t> dims) {
    std::size_t need = static_cast<std::size_t>(numElementsOf(dims)) * elementSize(dtype);
    if (m_owner && m_owner.use_count() == 1 && m_capacity >= need) {
        setMeta(dtype, dims);
        return;
    }
    *this = allocate(dtype, std::vector<int64_t>(dims.begin(), dims.end()));
}

template <typename T>
static T loadAt(const std::byte* p, int64_t i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    return v;
}

int64_t Tensor::intAt(int64_t i) const {
    switch (m_dtype) {
    case DataType::Int64: return loadAt<int64_t>(m_data, i);
    case DataType::Int32: return loadAt<int32_t>(m_data, i);
    case DataType::Int16: return loadAt<int16_t>(m_data, i);
    case DataType::Int8:
    case DataType::Int4:
    case DataType::Int2: return loadAt<int8_t>(m_data, i);
    case DataType::UInt8:
    case DataType::UInt4:
    case DataType::UInt2: return loadAt<uint8_t>(m_data, i);
    case DataType::UInt16: return loadAt<uint16_t>(m_data, i);
    case DataType::UInt32: return loadAt<uint32_t>(m_data, i);
    case DataType::UInt64: return static_cast<int64_t>(loadAt<uint64_t>(m_data, i));
    case DataType::Bool: return loadAt<uint8_t>(m_data, i) != 0;
    case DataType::Float:
    case DataType::Double:
    case DataType::Float16:
    case DataType::BFloat16: return static_cast<int64_t>(doubleAt(i));
    default: return 0;
    }
}

double Tensor::doubleAt(int64_t i) const {
    switch (m_dtype) {
    case DataType::Float: return loadAt<float>(m_data, i);
    case DataType::Double: return loadAt<double>(m_data, i);
    case DataType::Float16: return ir::halfToFloat(loadAt<uint16_t>(m_data, i));
    case DataType::BFloat16: return ir::bfloat16ToFloat(loadAt<uint16_t>(m_data, i));
    default: return static_cast<double>(intAt(i));
    }
}

std::string describe(DataType dtype, std::span<const int64_t> dims) {
    std::string s(ir::dataTypeName(dtype));
    s += '[';
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(dims[i]);
    }
    return s + ']';
}

} // namespace ew::rt
