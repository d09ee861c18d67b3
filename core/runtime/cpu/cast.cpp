// Cast between the numeric types, bool and float16 (the `to` attribute), and from/to the sub-byte
// integers (int4, uint4, int2, uint2; held one value per byte): to them the value converts like
// to a wider integer (floats toward zero) and keeps its low bits, wrapping as the ONNX node
// suite's Cast data expects (float 8 -> int4 -8, -9 -> 7).
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace ew::rt {
namespace cpu {
namespace {

template <typename From, typename To>
void runCast(const void* iv, void* ov, int64_t n, ThreadPool& pool) {
    const From* in = static_cast<const From*>(iv);
    To* out = static_cast<To*>(ov);
    pool.parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            auto v = load(in[i]);
            if constexpr (std::is_same_v<To, bool>) {
                out[i] = v != decltype(v)(0);
            } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<decltype(v)>) {
                // NaN and out-of-range values are undefined in C++; pin them (ONNX leaves them open).
                if (std::isnan(v)) out[i] = To(0);
                else if (v <= static_cast<decltype(v)>(std::numeric_limits<To>::lowest())) out[i] = std::numeric_limits<To>::lowest();
                else if (v >= static_cast<decltype(v)>(std::numeric_limits<To>::max())) out[i] = std::numeric_limits<To>::max();
                else out[i] = static_cast<To>(v);
            } else {
                out[i] = store<To>(v);
            }
        }
    });
}

/// To a sub-byte integer type of `Bits` held in a byte: the low bits of the integer value
/// (sign-extended when `Signed`); NaN and values beyond int64 give 0.
template <typename From, int Bits, bool Signed>
void runCastToSubByte(const void* iv, void* ov, int64_t n, ThreadPool& pool) {
    const From* in = static_cast<const From*>(iv);
    using Store = std::conditional_t<Signed, int8_t, uint8_t>;
    Store* out = static_cast<Store*>(ov);
    pool.parallelFor(0, n, 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            int64_t q = 0;
            if constexpr (std::is_floating_point_v<decltype(load(in[i]))>) {
                const double v = static_cast<double>(load(in[i]));
                q = std::abs(v) < 9.2e18 ? static_cast<int64_t>(v) : 0; // NaN fails the test too
            } else {
                q = static_cast<int64_t>(in[i]);
            }
            int64_t low = q & ((int64_t(1) << Bits) - 1);
            if (Signed && low >= (int64_t(1) << (Bits - 1))) low -= int64_t(1) << Bits;
            out[i] = static_cast<Store>(low);
        }
    });
}

class CastKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        int64_t to = ctx.node().attrInt("to", 0);
        if (!ir::isValidDataType(static_cast<int32_t>(to)))
            return ctx.error(StatusCode::InvalidInput, "invalid 'to' type " + std::to_string(to));
        m_to = static_cast<DataType>(to);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        m_fn = nullptr;
        // A sub-byte source reads as its storage type (every value is exact there).
        DataType from = x.dtype();
        if (from == DataType::Int4 || from == DataType::Int2) from = DataType::Int8;
        if (from == DataType::UInt4 || from == DataType::UInt2) from = DataType::UInt8;
        dispatch<EW_NUMERIC_TYPES>(from, [&](auto tf) {
            using F = typename decltype(tf)::type;
            switch (m_to) {
            case DataType::Int4: m_fn = &runCastToSubByte<F, 4, true>; break;
            case DataType::UInt4: m_fn = &runCastToSubByte<F, 4, false>; break;
            case DataType::Int2: m_fn = &runCastToSubByte<F, 2, true>; break;
            case DataType::UInt2: m_fn = &runCastToSubByte<F, 2, false>; break;
            default: break;
            }
        });
        if (!isSubByteInteger(m_to))
            dispatch<EW_ALL_TYPES>(from, [&](auto tf) {
                dispatch<EW_ALL_TYPES>(m_to, [&](auto tt) {
                    m_fn = &runCast<typename decltype(tf)::type, typename decltype(tt)::type>;
                });
            });
        if (!m_fn)
            return ctx.error(StatusCode::Unsupported,
                             "cast from " + typeName(x.dtype()) + " to " + typeName(m_to) + " is not supported");
        ctx.setOutput(0, m_to, x.dims());
        return {};
    }
    void run(RunContext& ctx) override {
        m_fn(ctx.input(0).raw(), ctx.output(0).raw(), ctx.input(0).numElements(), ctx.pool());
    }
    // Same-width casts can run in place (element i is read before it is written).
    int inPlaceInput() const override { return 0; }

private:
    DataType m_to = DataType::Undefined;
    void (*m_fn)(const void*, void*, int64_t, ThreadPool&) = nullptr;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeCast() { return std::make_unique<cpu::CastKernel>(); }

} // namespace ew::rt
