// Cast between the numeric types, bool and float16 (the `to` attribute).
#include "kernel_util.h"

#include <cmath>

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
        dispatch<EW_ALL_TYPES>(x.dtype(), [&](auto tf) {
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
