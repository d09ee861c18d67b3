#include "run_support.h"

#include "ir/dtype.h"
#include "ir/npy.h"
#include "ir/onnx/onnx_import.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ew::cli {

using ir::DataType;

namespace {

/// bench/ort/tensor_io.mjs makeRng: xorshift32 to [0,1); seed 0 becomes 0x9e3779b9 there too.
class XorShift32 {
  public:
    explicit XorShift32(uint32_t seed) : m_s(seed ? seed : 0x9e3779b9u) {}
    double next() {
        m_s ^= m_s << 13;
        m_s ^= m_s >> 17;
        m_s ^= m_s << 5;
        return m_s / 4294967296.0;
    }

  private:
    uint32_t m_s;
};

template <typename T> void fillInts(rt::Tensor& t, XorShift32& rng) {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numElements(); ++i)
        p[i] = static_cast<T>(static_cast<int>(rng.next() * 8));
}

/// tensor_io.mjs randomTensor: floats uniform in [-1,1), float16 in the 1.0..2.0 bit region,
/// integers in [0,8), bools 0/1.
VoidResult fillRandom(rt::Tensor& t, XorShift32& rng) {
    const int64_t n = t.numElements();
    switch (t.dtype()) {
    case DataType::Float: {
        float* p = t.data<float>();
        for (int64_t i = 0; i < n; ++i)
            p[i] = static_cast<float>(2 * rng.next() - 1);
        return {};
    }
    case DataType::Double: {
        double* p = t.data<double>();
        for (int64_t i = 0; i < n; ++i)
            p[i] = 2 * rng.next() - 1;
        return {};
    }
    case DataType::Float16: {
        uint16_t* p = t.data<uint16_t>();
        for (int64_t i = 0; i < n; ++i)
            p[i] = static_cast<uint16_t>(0x3c00 ^ static_cast<int>(rng.next() * 1024));
        return {};
    }
    case DataType::Bool: {
        uint8_t* p = t.data<uint8_t>();
        for (int64_t i = 0; i < n; ++i)
            p[i] = rng.next() < 0.5 ? 0 : 1;
        return {};
    }
    case DataType::Int8:
        fillInts<int8_t>(t, rng);
        return {};
    case DataType::UInt8:
        fillInts<uint8_t>(t, rng);
        return {};
    case DataType::Int16:
        fillInts<int16_t>(t, rng);
        return {};
    case DataType::UInt16:
        fillInts<uint16_t>(t, rng);
        return {};
    case DataType::Int32:
        fillInts<int32_t>(t, rng);
        return {};
    case DataType::UInt32:
        fillInts<uint32_t>(t, rng);
        return {};
    case DataType::Int64:
        fillInts<int64_t>(t, rng);
        return {};
    case DataType::UInt64:
        fillInts<uint64_t>(t, rng);
        return {};
    default:
        return fail(StatusCode::Unsupported,
                    "no random data for element type " + std::string(ir::dataTypeName(t.dtype())));
    }
}

std::string shapeText(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i)
        s += (i ? "," : "") + std::to_string(dims[i]);
    return s + "]";
}

/// Checks a file's tensor against the declared input; the message says both sides.
VoidResult checkAgainst(const rt::TensorInfo& info, const ir::Tensor& t, const std::string& file) {
    bool ok = t.dtype == info.dtype;
    if (ok && info.shape) {
        ok = info.shape->rank() == t.dims.size();
        for (std::size_t d = 0; ok && d < t.dims.size(); ++d)
            if (info.shape->dims[d].isKnown() && info.shape->dims[d].value != t.dims[d]) ok = false;
    }
    if (ok) return {};
    return fail(Status{StatusCode::InvalidInput,
                       "input '" + info.name + "' is " + std::string(ir::dataTypeName(t.dtype)) +
                           shapeText(t.dims) + " but the model expects " + info.toString(),
                       file,
                       {}});
}

} // namespace

std::string expectedInputsText(const rt::Session& session) {
    std::string s;
    for (const rt::TensorInfo& i : session.inputInfo())
        if (!i.outerScope) s += (s.empty() ? "" : ", ") + i.toString();
    return s.empty() ? std::string("(no inputs)") : s;
}

Result<ir::Tensor> readTensorFile(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(Status{StatusCode::NotFound, "no such file", path, {}});
    char head[6] = {};
    {
        std::ifstream f(path, std::ios::binary);
        f.read(head, sizeof head);
    }
    if (ir::isNpy(
            std::span<const std::byte>(reinterpret_cast<const std::byte*>(head), sizeof head)))
        return ir::readNpy(path);
    auto t = onnxfmt::readTensorProtoFile(path);
    if (!t) {
        Status s = t.error();
        if (s.code != StatusCode::NotFound && s.code != StatusCode::IoError)
            s.code = StatusCode::InvalidInput;
        s.message = "neither .npy nor a TensorProto .pb: " + s.message;
        return fail(std::move(s).withFile(path));
    }
    return t;
}

Result<PreparedInputs> prepareInputs(const rt::Session& session,
                                     const std::vector<std::string>& inputOptions, uint32_t seed) {
    const auto& infos = session.inputInfo();
    std::vector<std::optional<ir::Tensor>> given(infos.size());
    std::vector<std::string> files(infos.size());
    auto indexOf = [&](const std::string& name) -> std::size_t {
        for (std::size_t k = 0; k < infos.size(); ++k)
            if (infos[k].name == name && !infos[k].outerScope) return k;
        return infos.size();
    };
    for (const std::string& opt : inputOptions) {
        std::string name, file = opt;
        if (auto eq = opt.find('='); eq != std::string::npos) {
            name = opt.substr(0, eq);
            file = opt.substr(eq + 1);
            if (file.empty())
                return fail(StatusCode::Usage, "--input " + opt + ": no file after '='");
        }
        if (!name.empty() && indexOf(name) == infos.size())
            return fail(StatusCode::Usage, "--input " + opt + ": the model has no input named '" +
                                               name +
                                               "'; it expects: " + expectedInputsText(session));
        EW_TRY_ASSIGN(ir::Tensor t, readTensorFile(file));
        std::size_t k = infos.size();
        if (!name.empty()) {
            k = indexOf(name);
        } else {
            if (!t.name.empty()) k = indexOf(t.name);
            if (k == infos.size())
                for (std::size_t j = 0; j < infos.size(); ++j)
                    if (!given[j] && !infos[j].outerScope) {
                        k = j;
                        break;
                    }
            if (k == infos.size())
                return fail(StatusCode::Usage,
                            "--input " + opt +
                                ": every input is already given; the model expects: " +
                                expectedInputsText(session));
        }
        if (given[k]) return fail(StatusCode::Usage, "input '" + infos[k].name + "' given twice");
        EW_TRY(checkAgainst(infos[k], t, file));
        given[k] = std::move(t);
        files[k] = file;
    }

    PreparedInputs out;
    XorShift32 rng(seed);
    for (std::size_t k = 0; k < infos.size(); ++k) {
        const rt::TensorInfo& info = infos[k];
        if (info.outerScope) continue;
        if (given[k]) {
            auto t = rt::Tensor::fromIr(*given[k]);
            if (!t) {
                Status s = t.error();
                s.message = "input '" + info.name + "': " + s.message;
                return fail(std::move(s).withFile(files[k]));
            }
            out.tensors.emplace_back(info.name, std::move(*t));
            out.sources.push_back(std::filesystem::path(files[k]).filename().string());
            continue;
        }
        if (!info.shape)
            return fail(StatusCode::Usage,
                        "input '" + info.name +
                            "' has no declared shape to fill with random data; pass --input " +
                            info.name + "=FILE");
        if (rt::elementSize(info.dtype) == 0 || info.dtype == DataType::BFloat16)
            return fail(StatusCode::Unsupported,
                        "input '" + info.name + "' is " + info.toString() +
                            ": no random data for that element type; pass --input " + info.name +
                            "=FILE");
        std::vector<int64_t> dims;
        bool symbolic = false;
        for (const ir::Dim& d : info.shape->dims) {
            dims.push_back(d.isKnown() ? d.value : 1);
            symbolic = symbolic || !d.isKnown();
        }
        rt::Tensor t = rt::Tensor::allocate(info.dtype, dims);
        EW_TRY(fillRandom(t, rng));
        out.randomNotes.push_back(
            "input '" + info.name + "' not given: filled with seeded random data (seed " +
            std::to_string(seed) + ") of shape " + rt::describe(info.dtype, dims) +
            (symbolic ? " (declared " + info.shape->toString() + ", symbolic/unknown dims set to 1)"
                      : ""));
        out.tensors.emplace_back(info.name, std::move(t));
        out.sources.push_back("random");
    }
    return out;
}

std::string outputFileStem(const std::string& name) {
    std::string s = name;
    for (char& c : s)
        if (c == '/' || c == '\\') c = '_';
    return s;
}

TensorStats tensorStats(const rt::Tensor& t) {
    TensorStats s;
    switch (t.dtype()) {
    case DataType::Float:
    case DataType::Double:
    case DataType::Float16:
    case DataType::BFloat16:
    case DataType::Int8:
    case DataType::UInt8:
    case DataType::Int16:
    case DataType::UInt16:
    case DataType::Int32:
    case DataType::UInt32:
    case DataType::Int64:
    case DataType::UInt64:
    case DataType::Bool:
        s.numeric = true;
        break;
    default:
        return s;
    }
    double sum = 0;
    for (int64_t i = 0; i < t.numElements(); ++i) {
        double v = t.doubleAt(i);
        if (std::isnan(v)) {
            ++s.nanCount;
            continue;
        }
        if (s.count == 0 || v < s.min) s.min = v;
        if (s.count == 0 || v > s.max) s.max = v;
        sum += v;
        ++s.count;
    }
    s.mean = s.count ? sum / static_cast<double>(s.count) : 0;
    return s;
}

int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double msSince(int64_t startNs) {
    return static_cast<double>(nowNs() - startNs) / 1e6;
}

std::optional<int64_t> parseCount(const std::string& text) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

} // namespace ew::cli
