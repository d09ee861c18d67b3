#pragma once
// Helpers shared by the index-family kernels (index_*.cpp): index tensors, single-axis geometry
// and reduction-axis geometry.
//
// Index inputs are validated in prepare(), never in run() (run cannot fail): a kernel whose index
// input is not a session constant declares dataDependentShapes(), so the session calls prepare()
// before every run with the values bound, and prepare() rejects out-of-range indices naming the
// node. The scan is O(#indices), small next to the gather/scatter it guards, and allocates nothing.
#include "kernel_util.h"

#include <span>
#include <string>

namespace ew::rt::cpu {

inline bool isIndexType(DataType t) { return t == DataType::Int32 || t == DataType::Int64; }

/// Index element i of an int32/int64 tensor.
inline int64_t indexAt(const Tensor& t, int64_t i) {
    return t.dtype() == DataType::Int64 ? t.data<int64_t>()[i] : static_cast<int64_t>(t.data<int32_t>()[i]);
}

/// Maps a possibly negative index into [0, n); -1 when outside [-n, n).
inline int64_t wrapIndex(int64_t k, int64_t n) {
    if (k < 0) k += n;
    return k >= 0 && k < n ? k : -1;
}

/// A tensor viewed as [outer, len, inner] around one axis.
struct AxisGeom {
    int64_t outer = 1, len = 1, inner = 1;
    void make(std::span<const int64_t> dims, int64_t axis) {
        outer = numElementsOf(dims.first(static_cast<std::size_t>(axis)));
        len = dims[static_cast<std::size_t>(axis)];
        inner = numElementsOf(dims.subspan(static_cast<std::size_t>(axis) + 1));
    }
};

/// Kept and reduced sub-spaces of a multi-axis reduction: output element o walks the reduced
/// sub-space (row-major) from the base offset of its kept coordinates.
struct ReduceAxes {
    int keptRank = 0, redRank = 0;
    int64_t keptDims[kMaxRank] = {}, keptStrides[kMaxRank] = {};
    int64_t redDims[kMaxRank] = {}, redStrides[kMaxRank] = {};
    int64_t outCount = 1, redCount = 1;

    int64_t baseOf(int64_t o) const {
        int64_t base = 0;
        for (int d = keptRank - 1; d >= 0; --d) {
            base += (o % keptDims[d]) * keptStrides[d];
            o /= keptDims[d];
        }
        return base;
    }
    /// f(offset) for every element of the reduced sub-space of the output element at `base`.
    template <typename F>
    void forReduced(int64_t base, F&& f) const {
        int64_t idx[kMaxRank] = {};
        int64_t off = base;
        for (int64_t i = 0; i < redCount; ++i) {
            f(off);
            for (int d = redRank - 1; d >= 0; --d) {
                off += redStrides[d];
                if (++idx[d] < redDims[d]) break;
                off -= idx[d] * redStrides[d];
                idx[d] = 0;
            }
        }
    }
};

/// Reduction axes as ONNX reductions define them: `axes` (possibly negative, duplicates allowed);
/// empty means all axes, or none when `noopEmpty`. Fills `g` and the output dims; false with
/// `why` set on a bad axis.
bool makeReduceAxes(std::span<const int64_t> dims, std::span<const int64_t> axes, bool keepDims, bool noopEmpty,
                    ReduceAxes& g, std::vector<int64_t>& outDims, std::string& why);

} // namespace ew::rt::cpu
