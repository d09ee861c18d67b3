// ai.onnx.ml elementwise/selection ops: Binarizer (x > threshold -> 1 else 0) and
// ArrayFeatureExtractor (picks elements along the last axis by index).
#include "kernel_util.h"

namespace ew::rt {
namespace cpu {
namespace {

class BinarizerKernel final : public Kernel {
public:
    VoidResult init(InitContext& ctx) override {
        m_threshold = ctx.node().attrFloat("threshold", 0.f);
        return {};
    }
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        m_fn = nullptr;
        dispatch<float, double, int32_t, int64_t>(x.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            m_fn = [](const Tensor& in, Tensor& out, double th) {
                const T* a = in.data<T>();
                T* y = out.data<T>();
                for (int64_t i = 0; i < in.numElements(); ++i) y[i] = static_cast<double>(a[i]) > th ? T(1) : T(0);
            };
        });
        if (!m_fn) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()) + " is not supported");
        ctx.setOutput(0, x.dtype(), x.dims());
        return {};
    }
    void run(RunContext& ctx) override { m_fn(ctx.input(0), ctx.output(0), m_threshold); }
    int inPlaceInput() const override { return 0; }

private:
    double m_threshold = 0;
    void (*m_fn)(const Tensor&, Tensor&, double) = nullptr;
};

class ArrayFeatureExtractorKernel final : public Kernel {
public:
    VoidResult prepare(PrepareContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        if (x.rank() == 0) return ctx.error(StatusCode::InvalidInput, "X must have at least one dimension");
        if (idx.dtype() != DataType::Int64) return ctx.error(StatusCode::InvalidInput, "Y (indices) must be int64");
        const int64_t last = x.dims().back();
        for (int64_t i = 0; i < idx.numElements(); ++i) {
            const int64_t v = idx.intAt(i);
            if (v < 0 || v >= last)
                return ctx.error(StatusCode::InvalidInput, "index " + std::to_string(v) + " is outside the last axis (" +
                                                               std::to_string(last) + ")");
        }
        m_dims = x.dims();
        if (m_dims.size() == 1) m_dims.insert(m_dims.begin(), 1);
        m_dims.back() = idx.numElements();
        if (elementSize(x.dtype()) == 0) return ctx.error(StatusCode::Unsupported, "type " + typeName(x.dtype()));
        ctx.setOutput(0, x.dtype(), m_dims);
        return {};
    }
    void run(RunContext& ctx) override {
        const Tensor& x = ctx.input(0);
        const Tensor& idx = ctx.input(1);
        const std::size_t es = elementSize(x.dtype());
        const int64_t last = x.dims().back(), k = idx.numElements();
        const int64_t rows = last ? x.numElements() / last : 0;
        const int64_t* ix = idx.data<int64_t>();
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < k; ++j)
                std::memcpy(ctx.output(0).raw() + (r * k + j) * es, x.raw() + (r * last + ix[j]) * es, es);
    }
    /// The indices are read in prepare to validate them, so prepare must see every run's values.
    bool dataDependentShapes() const override { return true; }

private:
    std::vector<int64_t> m_dims;
};

} // namespace
} // namespace cpu

std::unique_ptr<Kernel> makeBinarizer() { return std::make_unique<cpu::BinarizerKernel>(); }
std::unique_ptr<Kernel> makeArrayFeatureExtractor() { return std::make_unique<cpu::ArrayFeatureExtractorKernel>(); }

} // namespace ew::rt
