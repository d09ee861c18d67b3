#include "tensor.h"

#include <bit>
#include <cmath>
#include <limits>

namespace ew::ir {

Tensor Tensor::fromBytes(std::string name, DataType dtype, std::vector<int64_t> dims,
                         std::string&& bytes) {
    auto holder = std::make_shared<std::string>(std::move(bytes));
    const auto* p = reinterpret_cast<const std::byte*>(holder->data());
    std::size_t n = holder->size();
    return Tensor(std::move(name), dtype, std::move(dims), std::move(holder), p, n);
}

int64_t Tensor::numElements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

Result<int64_t> checkedElementCount(const std::vector<int64_t>& dims, uint64_t maxElements) {
    uint64_t n = 1;
    for (int64_t d : dims) {
        if (d < 0) return fail(StatusCode::InvalidInput, "negative dimension " + std::to_string(d));
        if (d != 0 && n > maxElements / static_cast<uint64_t>(d))
            return fail(StatusCode::InvalidInput,
                        "dimensions " + Shape::of(dims).toString() + " overflow or exceed " +
                            std::to_string(maxElements) + " elements");
        n *= static_cast<uint64_t>(d);
    }
    return static_cast<int64_t>(n);
}

float halfToFloat(uint16_t h) {
    uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            // Subnormal: renormalise.
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            mant &= 0x3ff;
            bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    return std::bit_cast<float>(bits);
}

uint16_t floatToHalf(float f) {
    uint32_t x = std::bit_cast<uint32_t>(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u); // overflow -> inf
    if (absx < 0x38800000u) {                                              // subnormal or zero
        float a = std::bit_cast<float>(absx);
        uint32_t m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)); // 2^24
        return static_cast<uint16_t>(sign | m);
    }
    // Round to nearest even on the 13 dropped bits.
    uint32_t mant = absx + 0xfffu + ((absx >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((mant - 0x38000000u) >> 13));
}

float bfloat16ToFloat(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

namespace {

template <typename T>
T load(const std::byte* p, int64_t i) {
    T v;
    std::memcpy(&v, p + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
}

double float8ToDouble(uint8_t v, DataType t) {
    // Generic decode for the float8 variants: sign, exponent bits, mantissa bits, bias.
    int ebits = 4, mbits = 3, bias = 7;
    bool fnuz = false, e5 = false;
    switch (t) {
    case DataType::Float8E4M3FN: break;
    case DataType::Float8E4M3FNUZ: bias = 8; fnuz = true; break;
    case DataType::Float8E5M2: ebits = 5; mbits = 2; bias = 15; e5 = true; break;
    case DataType::Float8E5M2FNUZ: ebits = 5; mbits = 2; bias = 16; fnuz = true; break;
    case DataType::Float8E8M0: return v == 0xff ? std::nan("") : std::ldexp(1.0, int(v) - 127);
    default: break;
    }
    if (fnuz && v == 0x80) return std::nan("");
    int sign = (v >> 7) & 1;
    int exp = (v >> mbits) & ((1 << ebits) - 1);
    int mant = v & ((1 << mbits) - 1);
    if (!fnuz) {
        if (e5 && exp == 31) return mant ? std::nan("") : (sign ? -INFINITY : INFINITY);
        if (!e5 && exp == 15 && mant == 7) return std::nan("");
    }
    double val = exp == 0 ? std::ldexp(mant, 1 - bias - mbits)
                          : std::ldexp((1 << mbits) + mant, exp - bias - mbits);
    return sign ? -val : val;
}

double float4ToDouble(uint8_t nib) {
    static constexpr double kVals[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
    double v = kVals[nib & 7];
    return (nib & 8) ? -v : v;
}

} // namespace

double Tensor::valueAsDouble(int64_t i) const {
    const std::byte* p = m_data;
    switch (dtype) {
    case DataType::Float: return load<float>(p, i);
    case DataType::Double: return load<double>(p, i);
    case DataType::Float16: return halfToFloat(load<uint16_t>(p, i));
    case DataType::BFloat16: return bfloat16ToFloat(load<uint16_t>(p, i));
    case DataType::Float8E4M3FN: case DataType::Float8E4M3FNUZ: case DataType::Float8E5M2:
    case DataType::Float8E5M2FNUZ: case DataType::Float8E8M0:
        return float8ToDouble(load<uint8_t>(p, i), dtype);
    case DataType::Float4E2M1: {
        uint8_t b = load<uint8_t>(p, i / 2);
        return float4ToDouble(i % 2 ? b >> 4 : b & 0xf);
    }
    case DataType::Complex64: return load<float>(p, 2 * i); // real part
    case DataType::Complex128: return load<double>(p, 2 * i);
    default: return static_cast<double>(valueAsInt(i));
    }
}

int64_t Tensor::valueAsInt(int64_t i) const {
    const std::byte* p = m_data;
    switch (dtype) {
    case DataType::Bool:
    case DataType::UInt8: return load<uint8_t>(p, i);
    case DataType::Int8: return load<int8_t>(p, i);
    case DataType::UInt16: return load<uint16_t>(p, i);
    case DataType::Int16: return load<int16_t>(p, i);
    case DataType::Int32: return load<int32_t>(p, i);
    case DataType::Int64: return load<int64_t>(p, i);
    case DataType::UInt32: return load<uint32_t>(p, i);
    case DataType::UInt64: return static_cast<int64_t>(load<uint64_t>(p, i));
    case DataType::UInt4: {
        uint8_t b = load<uint8_t>(p, i / 2);
        return i % 2 ? b >> 4 : b & 0xf;
    }
    case DataType::Int4: {
        uint8_t b = load<uint8_t>(p, i / 2);
        int v = i % 2 ? b >> 4 : b & 0xf;
        return v >= 8 ? v - 16 : v;
    }
    case DataType::UInt2: {
        uint8_t b = load<uint8_t>(p, i / 4);
        return (b >> (2 * (i % 4))) & 3;
    }
    case DataType::Int2: {
        uint8_t b = load<uint8_t>(p, i / 4);
        int v = (b >> (2 * (i % 4))) & 3;
        return v >= 2 ? v - 4 : v;
    }
    default: {
        double d = valueAsDouble(i);
        if (std::isnan(d)) return 0;
        return static_cast<int64_t>(d);
    }
    }
}

std::vector<int64_t> Tensor::toInt64() const {
    std::vector<int64_t> out(static_cast<std::size_t>(numElements()));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = valueAsInt(static_cast<int64_t>(i));
    return out;
}

std::vector<double> Tensor::toDouble() const {
    std::vector<double> out(static_cast<std::size_t>(numElements()));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = valueAsDouble(static_cast<int64_t>(i));
    return out;
}

std::vector<float> Tensor::toFloat() const {
    std::vector<float> out(static_cast<std::size_t>(numElements()));
    if (dtype == DataType::Float) {
        if (!out.empty()) std::memcpy(out.data(), m_data, out.size() * sizeof(float));
        return out;
    }
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<float>(valueAsDouble(static_cast<int64_t>(i)));
    return out;
}

bool Tensor::sameContent(const Tensor& o) const {
    if (dtype != o.dtype || dims != o.dims || strings != o.strings || m_nbytes != o.m_nbytes)
        return false;
    return m_nbytes == 0 || m_data == o.m_data || std::memcmp(m_data, o.m_data, m_nbytes) == 0;
}

uint64_t Tensor::contentHash() const {
    uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < m_nbytes; ++i) {
        h ^= static_cast<uint8_t>(m_data[i]);
        h *= 1099511628211ull;
    }
    for (const auto& s : strings)
        for (char c : s) {
            h ^= static_cast<uint8_t>(c);
            h *= 1099511628211ull;
        }
    return h;
}

} // namespace ew::ir
