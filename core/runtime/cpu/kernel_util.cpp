#include "kernel_util.h"

#include "ir/tensor.h"

namespace ew::rt::cpu {

float halfToFloatFast(uint16_t h) { return ir::halfToFloat(h); }
uint16_t floatToHalfFast(float f) { return ir::floatToHalf(f); }

std::string typeName(DataType t) { return std::string(ir::dataTypeName(t)); }

std::string dimsText(std::span<const int64_t> dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(dims[i]);
    }
    s += ']';
    return s;
}

bool normalizeAxis(int64_t& axis, int64_t rank) {
    if (axis < -rank || axis >= rank) return false;
    if (axis < 0) axis += rank;
    return true;
}

void readInts(const Tensor& t, std::vector<int64_t>& out) {
    out.clear();
    for (int64_t i = 0; i < t.numElements(); ++i) out.push_back(t.intAt(i));
}

bool broadcastShapes(std::span<const int64_t> a, std::span<const int64_t> b, std::vector<int64_t>& out) {
    std::size_t r = std::max(a.size(), b.size());
    out.resize(r);
    for (std::size_t i = 0; i < r; ++i) {
        int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
        int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
        if (x == y || y == 1) out[i] = x;
        else if (x == 1) out[i] = y;
        else return false;
    }
    return true;
}

VoidResult readWindow(const ir::Node& node, std::size_t spatial, std::span<const int64_t> kernelFromWeights,
                      WindowParams& w) {
    auto bad = [&](const std::string& m) { return fail(StatusCode::InvalidInput, node.opType + ": " + m, node.displayName()); };
    w.kernel = node.attrInts("kernel_shape", std::vector<int64_t>(kernelFromWeights.begin(), kernelFromWeights.end()));
    if (w.kernel.size() != spatial) return bad("kernel_shape has " + std::to_string(w.kernel.size()) +
                                              " entries for " + std::to_string(spatial) + " spatial dims");
    w.strides = node.attrInts("strides", std::vector<int64_t>(spatial, 1));
    w.dilations = node.attrInts("dilations", std::vector<int64_t>(spatial, 1));
    std::vector<int64_t> pads = node.attrInts("pads", std::vector<int64_t>(2 * spatial, 0));
    if (w.strides.size() != spatial || w.dilations.size() != spatial || pads.size() != 2 * spatial)
        return bad("strides/dilations/pads do not match the spatial rank");
    for (std::size_t i = 0; i < spatial; ++i)
        if (w.kernel[i] < 1 || w.strides[i] < 1 || w.dilations[i] < 1 || pads[i] < 0 || pads[i + spatial] < 0)
            return bad("kernel, strides and dilations must be positive and pads non-negative");
    w.padBegin.assign(pads.begin(), pads.begin() + spatial);
    w.padEnd.assign(pads.begin() + spatial, pads.end());
    w.autoPad = node.attrString("auto_pad", "NOTSET");
    if (w.autoPad != "NOTSET" && w.autoPad != "SAME_UPPER" && w.autoPad != "SAME_LOWER" && w.autoPad != "VALID")
        return bad("unknown auto_pad '" + w.autoPad + "'");
    w.ceilMode = node.attrInt("ceil_mode", 0) != 0;
    return {};
}

bool windowOutput(WindowParams& w, std::span<const int64_t> in, std::vector<int64_t>& out) {
    std::size_t n = w.kernel.size();
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        int64_t ek = (w.kernel[i] - 1) * w.dilations[i] + 1;
        int64_t s = w.strides[i];
        if (w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER") {
            int64_t o = (in[i] + s - 1) / s;
            int64_t total = std::max<int64_t>(0, (o - 1) * s + ek - in[i]);
            int64_t small = total / 2, large = total - small;
            w.padBegin[i] = w.autoPad == "SAME_UPPER" ? small : large;
            w.padEnd[i] = total - w.padBegin[i];
            out[i] = o;
            continue;
        }
        if (w.autoPad == "VALID") w.padBegin[i] = w.padEnd[i] = 0;
        int64_t span = in[i] + w.padBegin[i] + w.padEnd[i] - ek;
        if (span < 0) return false;
        int64_t o = (w.ceilMode ? (span + s - 1) / s : span / s) + 1;
        // A window must start inside the input or its begin padding (ceil_mode).
        if (w.ceilMode && (o - 1) * s >= in[i] + w.padBegin[i]) --o;
        out[i] = o;
    }
    return true;
}

bool makeStridedView(Broadcaster<1>& v, std::span<const int64_t> dims, std::span<const int64_t> strides) {
    if (dims.size() > static_cast<std::size_t>(kMaxRank)) return false;
    v.rank = 0;
    for (std::size_t d = 0; d < dims.size(); ++d) {
        if (dims[d] == 1) continue;
        if (v.rank > 0 && v.strides[0][v.rank - 1] == strides[d] * dims[d]) {
            v.dims[v.rank - 1] *= dims[d];
            v.strides[0][v.rank - 1] = strides[d];
            continue;
        }
        v.dims[v.rank] = dims[d];
        v.strides[0][v.rank] = strides[d];
        ++v.rank;
    }
    if (v.rank == 0) {
        v.rank = 1;
        v.dims[0] = 1;
        v.strides[0][0] = 0;
    }
    return true;
}

template <typename W>
static void copyStridedT(const Broadcaster<1>& v, const W* in, W* out, ThreadPool& pool) {
    pool.parallelFor(0, v.outerSize(), chunkRows(v.innerSize()), [&](int64_t r0, int64_t r1) {
        v.forRows(r0, r1, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
            const W* src = in + off[0];
            W* dst = out + o;
            if (st[0] == 1) std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(W));
            else
                for (int64_t i = 0; i < n; ++i) dst[i] = src[i * st[0]];
        });
    });
}

void copyStrided(const Broadcaster<1>& v, std::size_t width, const std::byte* in, int64_t base, std::byte* out,
                 ThreadPool& pool) {
    in += base * static_cast<int64_t>(width);
    switch (width) {
    case 1: copyStridedT(v, reinterpret_cast<const uint8_t*>(in), reinterpret_cast<uint8_t*>(out), pool); break;
    case 2: copyStridedT(v, reinterpret_cast<const uint16_t*>(in), reinterpret_cast<uint16_t*>(out), pool); break;
    case 4: copyStridedT(v, reinterpret_cast<const uint32_t*>(in), reinterpret_cast<uint32_t*>(out), pool); break;
    default: copyStridedT(v, reinterpret_cast<const uint64_t*>(in), reinterpret_cast<uint64_t*>(out), pool); break;
    }
}

void rowMajorStrides(std::span<const int64_t> dims, std::vector<int64_t>& strides) {
    strides.resize(dims.size());
    int64_t s = 1;
    for (std::size_t d = dims.size(); d-- > 0;) {
        strides[d] = s;
        s *= dims[d];
    }
}

} // namespace ew::rt::cpu
