#pragma once
// Helpers shared by the CPU kernels: element types and dtype dispatch, multidirectional
// broadcasting, axis and attribute handling, output-shape arithmetic for windows (conv/pool).
#include "common/assert.h"
#include "runtime/kernel.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace ew::rt::cpu {

/// IEEE half stored as bits; arithmetic happens in float (Compute<Half> = float).
struct Half {
    uint16_t bits;
};

template <typename T>
struct ComputeOf {
    using type = T;
};
template <>
struct ComputeOf<Half> {
    using type = float;
};
/// The type arithmetic on T is done in.
template <typename T>
using Compute = typename ComputeOf<T>::type;

float halfToFloatFast(uint16_t h);
uint16_t floatToHalfFast(float f);

template <typename T>
inline Compute<T> load(T v) {
    if constexpr (std::is_same_v<T, Half>)
        return halfToFloatFast(v.bits);
    else
        return v;
}
template <typename T, typename C>
inline T store(C v) {
    if constexpr (std::is_same_v<T, Half>)
        return Half{floatToHalfFast(static_cast<float>(v))};
    else
        return static_cast<T>(v);
}

template <typename T>
struct TypeTag {
    using type = T;
};

template <typename T>
constexpr DataType dtypeOf() {
    if constexpr (std::is_same_v<T, float>) return DataType::Float;
    else if constexpr (std::is_same_v<T, double>) return DataType::Double;
    else if constexpr (std::is_same_v<T, Half>) return DataType::Float16;
    else if constexpr (std::is_same_v<T, int8_t>) return DataType::Int8;
    else if constexpr (std::is_same_v<T, uint8_t>) return DataType::UInt8;
    else if constexpr (std::is_same_v<T, int16_t>) return DataType::Int16;
    else if constexpr (std::is_same_v<T, uint16_t>) return DataType::UInt16;
    else if constexpr (std::is_same_v<T, int32_t>) return DataType::Int32;
    else if constexpr (std::is_same_v<T, int64_t>) return DataType::Int64;
    else if constexpr (std::is_same_v<T, uint32_t>) return DataType::UInt32;
    else if constexpr (std::is_same_v<T, uint64_t>) return DataType::UInt64;
    else if constexpr (std::is_same_v<T, bool>) return DataType::Bool;
    else static_assert(!sizeof(T), "no DataType for this C++ type");
}

/// Calls f(TypeTag<T>{}) for the T among Ts whose DataType is `t`; false when none matches.
template <typename... Ts, typename F>
bool dispatch(DataType t, F&& f) {
    return ((t == dtypeOf<Ts>() ? (f(TypeTag<Ts>{}), true) : false) || ...);
}

// Type lists for dispatch<...>: expand with EW_..._TYPES.
#define EW_FLOAT_TYPES float, double, ::ew::rt::cpu::Half
#define EW_SIGNED_INT_TYPES int8_t, int16_t, int32_t, int64_t
#define EW_UNSIGNED_INT_TYPES uint8_t, uint16_t, uint32_t, uint64_t
#define EW_INT_TYPES EW_SIGNED_INT_TYPES, EW_UNSIGNED_INT_TYPES
#define EW_NUMERIC_TYPES EW_FLOAT_TYPES, EW_INT_TYPES
#define EW_ALL_TYPES EW_NUMERIC_TYPES, bool

/// "float32" for messages.
std::string typeName(DataType t);
std::string dimsText(std::span<const int64_t> dims);

/// Normalizes a possibly negative axis into [0, rank); false when out of range.
bool normalizeAxis(int64_t& axis, int64_t rank);

/// Integer values of a 1-D (or scalar) int32/int64 tensor, appended to `out` after clearing it
/// (reuses capacity: prepare() of data-dependent kernels must not allocate in steady state).
void readInts(const Tensor& t, std::vector<int64_t>& out);

/// Multidirectional (numpy) broadcast of `a` and `b` into `out`; false when incompatible.
bool broadcastShapes(std::span<const int64_t> a, std::span<const int64_t> b, std::vector<int64_t>& out);

constexpr int kMaxRank = 16;

/// Walks an output of shape `outDims` together with K inputs broadcast to it. Dimensions are
/// collapsed where every operand is contiguous across them, so the inner loop is long.
/// Use: make() in prepare, forRange() in run (it never allocates).
template <int K>
struct Broadcaster {
    int rank = 0;
    int64_t dims[kMaxRank] = {};
    int64_t strides[K][kMaxRank] = {}; ///< per input, elements; 0 on broadcast dims

    bool make(std::span<const int64_t> outDims, const std::array<std::span<const int64_t>, K>& ins) {
        int r = static_cast<int>(outDims.size());
        if (r > kMaxRank) return false;
        // Full-rank strides, right-aligned.
        int64_t full[K][kMaxRank];
        for (int k = 0; k < K; ++k) {
            int ir = static_cast<int>(ins[k].size());
            if (ir > r) return false;
            int64_t s = 1;
            for (int d = r - 1; d >= 0; --d) {
                int id = d - (r - ir);
                int64_t n = id >= 0 ? ins[k][id] : 1;
                if (n != 1 && n != outDims[d]) return false;
                full[k][d] = n == 1 ? 0 : s;
                s *= n;
            }
        }
        // Collapse: merge dim d into the running inner dim when every operand's stride chains.
        rank = 0;
        for (int d = 0; d < r; ++d) {
            if (outDims[d] == 1) continue;
            if (rank > 0) {
                bool merge = true;
                for (int k = 0; k < K; ++k)
                    if (strides[k][rank - 1] != full[k][d] * outDims[d]) merge = false;
                if (merge) {
                    dims[rank - 1] *= outDims[d];
                    for (int k = 0; k < K; ++k) strides[k][rank - 1] = full[k][d];
                    continue;
                }
            }
            dims[rank] = outDims[d];
            for (int k = 0; k < K; ++k) strides[k][rank] = full[k][d];
            ++rank;
        }
        if (rank == 0) {
            rank = 1;
            dims[0] = 1;
            for (int k = 0; k < K; ++k) strides[k][0] = 0;
        }
        return true;
    }

    int64_t innerSize() const { return dims[rank - 1]; }
    int64_t outerSize() const {
        int64_t n = 1;
        for (int d = 0; d < rank - 1; ++d) n *= dims[d];
        return n;
    }
    /// f(outOffset, const int64_t* inOffsets, innerCount, const int64_t* innerStrides) for each
    /// outer row in [rowBegin, rowEnd) (rows of innerSize() elements).
    template <typename F>
    void forRows(int64_t rowBegin, int64_t rowEnd, F&& f) const {
        int64_t idx[kMaxRank] = {};
        int64_t off[K] = {};
        int64_t rem = rowBegin;
        for (int d = rank - 2; d >= 0; --d) {
            idx[d] = rem % dims[d];
            rem /= dims[d];
            for (int k = 0; k < K; ++k) off[k] += idx[d] * strides[k][d];
        }
        int64_t inner[K];
        for (int k = 0; k < K; ++k) inner[k] = strides[k][rank - 1];
        const int64_t n = dims[rank - 1];
        for (int64_t row = rowBegin; row < rowEnd; ++row) {
            f(row * n, off, n, inner);
            for (int d = rank - 2; d >= 0; --d) {
                for (int k = 0; k < K; ++k) off[k] += strides[k][d];
                if (++idx[d] < dims[d]) break;
                for (int k = 0; k < K; ++k) off[k] -= idx[d] * strides[k][d];
                idx[d] = 0;
            }
        }
    }
};

/// A strided view for Broadcaster<1>: element (i0, i1, ...) of `dims` lives at
/// sum(i_d * strides[d]) (strides in elements, may be 0 or negative). Adjacent dims that chain
/// are collapsed. False when the rank exceeds kMaxRank.
bool makeStridedView(Broadcaster<1>& v, std::span<const int64_t> dims, std::span<const int64_t> strides);

/// out[i] = in[base + offset(i)] over a strided view, for elements `width` bytes wide (1, 2, 4, 8).
void copyStrided(const Broadcaster<1>& v, std::size_t width, const std::byte* in, int64_t base, std::byte* out,
                 ThreadPool& pool);

/// Types data-movement kernels copy by width (1, 2, 4 or 8 bytes per element).
inline bool isMovable(DataType t) {
    std::size_t w = elementSize(t);
    return w == 1 || w == 2 || w == 4 || w == 8;
}

/// Row-major strides (in elements) of `dims`.
void rowMajorStrides(std::span<const int64_t> dims, std::vector<int64_t>& strides);

/// Rows per parallel chunk so a chunk holds about `grain` elements.
/// Multiply-accumulates below which a GEMM-like kernel runs on the calling thread alone: about
/// 5 microseconds of work, less than handing half of it to another core costs (measured on small
/// 1-D convs and SE blocks, where 2 threads were slower than 1). Used with ThreadPool::InlineScope.
inline constexpr int64_t kMinParallelMacs = int64_t(1) << 18;

inline int64_t chunkRows(int64_t rowSize, int64_t grain = 16384) {
    return rowSize >= grain ? 1 : grain / (rowSize > 0 ? rowSize : 1);
}

/// Spatial window geometry shared by Conv, ConvTranspose and the pools (ONNX attribute rules).
struct WindowParams {
    std::vector<int64_t> kernel, strides, dilations, padBegin, padEnd;
    std::string autoPad = "NOTSET";
    bool ceilMode = false;
};
/// Reads kernel_shape (or uses `kernelFromWeights`), strides, dilations, pads, auto_pad for
/// `spatial` dims; errors on malformed attributes.
VoidResult readWindow(const ir::Node& node, std::size_t spatial, std::span<const int64_t> kernelFromWeights,
                      WindowParams& w);
/// Output spatial sizes for inputs `in`; resolves SAME_* pads into padBegin/padEnd. False when
/// an output size would be < 1 ... or the window is larger than the padded input.
bool windowOutput(WindowParams& w, std::span<const int64_t> in, std::vector<int64_t>& out);

/// [lo, hi) of positions q in [0, count) for which q*s - p + tap lies in [0, bound): the taps of
/// a strided window that land inside the other side's extent (conv: output positions reading the
/// input; transposed conv: input positions writing the output).
inline void stridedTapRange(int64_t count, int64_t bound, int64_t s, int64_t p, int64_t tap, int64_t& lo, int64_t& hi) {
    const int64_t shift = tap - p;
    lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
    hi = bound - shift <= 0 ? 0 : (bound - shift - 1) / s + 1;
    if (hi > count) hi = count;
    if (lo > hi) lo = hi;
}

/// Copies `bytes` unless source and destination are the same buffer (in-place aliasing).
inline void copyBytes(void* dst, const void* src, std::size_t bytes) {
    if (dst != src && bytes) std::memmove(dst, src, bytes);
}

} // namespace ew::rt::cpu
