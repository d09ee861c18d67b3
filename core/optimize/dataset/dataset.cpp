// openDataset: random data, image folders and tensor files (.npy / TensorProto .pb) as streams of
// samples for one model's inputs.
//
// Memory: a source keeps its file list (paths only) and, while iterating, at most one decoded
// image or one group of tensor files (memory-mapped where .npy allows). Samples are copied out of
// it into the caller's Sample, whose owned buffers are reused when nobody else holds them.
#include "optimize/dataset/dataset.h"

#include "ir/dtype.h"
#include "ir/npy.h"
#include "ir/onnx/onnx_import.h"
#include "optimize/dataset/image.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ew::opt::data {

namespace fs = std::filesystem;
using Dims = std::vector<int64_t>;
using ir::DataType;

namespace {

/// xorshift32 as in app/cli/run_support.cpp and bench/ort/tensor_io.mjs (seed 0 remapped).
class XorShift32 {
public:
    explicit XorShift32(uint32_t seed) : m_s(seed ? seed : 0x9e3779b9u) {}
    uint32_t nextU32() {
        m_s ^= m_s << 13;
        m_s ^= m_s >> 17;
        m_s ^= m_s << 5;
        return m_s;
    }
    double next() { return nextU32() / 4294967296.0; }

private:
    uint32_t m_s;
};

std::string dimsText(const Dims& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
    return s + "]";
}

Status dataError(StatusCode code, const std::string& file, std::string message) {
    return Status{code, std::move(message), file, {}};
}

/// Seeded Fisher-Yates (std::shuffle's algorithm is implementation-defined; this order must be
/// the same on every platform for a given seed).
template <typename T>
void shuffleWithSeed(std::vector<T>& v, uint32_t seed) {
    XorShift32 rng(seed * 2654435761u + 0x5bd1e995u);
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.nextU32() % i]);
}

/// Points sample slot k at input k (name) and returns its tensor for reuse.
rt::Tensor& slot(Sample& s, const std::vector<rt::TensorInfo>& inputs, std::size_t k) {
    if (s.inputs.size() != inputs.size()) s.inputs.resize(inputs.size());
    if (s.inputs[k].first != inputs[k].name) s.inputs[k].first = inputs[k].name;
    return s.inputs[k].second;
}

/// Every dataset: the limit and an optional labels file on top of a sequential fetch.
class DatasetBase : public Dataset {
public:
    int64_t size() const override { return m_limit > 0 ? std::min(m_total, m_limit) : m_total; }

    Result<bool> next(Sample& s) override {
        if (m_index >= size()) return false;
        s.label.reset();
        EW_TRY(fetch(m_index, s));
        if (!m_fileLabels.empty()) s.label = m_fileLabels[std::size_t(m_index)];
        ++m_index;
        return true;
    }

    void reset() override {
        m_index = 0;
        rewind();
    }

    std::string describe() const override {
        std::string d = describeSource();
        if (m_limit > 0 && m_limit < m_total) d += ", limited to " + std::to_string(m_limit);
        if (!m_labelsFile.empty()) d += "; labels from " + m_labelsFile;
        return d;
    }

    bool hasLabels() const override { return !m_fileLabels.empty() || hasOwnLabels(); }

    /// Attaches a labels file; its count must equal the source's (before the limit).
    VoidResult attachLabels(const std::string& path);
    void setLimit(int64_t limit) { m_limit = limit; }

protected:
    virtual VoidResult fetch(int64_t index, Sample& s) = 0;
    virtual void rewind() = 0;
    virtual std::string describeSource() const = 0;
    virtual bool hasOwnLabels() const { return false; }

    int64_t m_total = 0;

private:
    int64_t m_limit = 0;
    int64_t m_index = 0;
    std::vector<int64_t> m_fileLabels;
    std::string m_labelsFile;
};

/// A .npy (by magic bytes) or TensorProto file. Errors name the file.
Result<ir::Tensor> readTensorFile(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return fail(dataError(StatusCode::NotFound, path, "no such file"));
    char head[6] = {};
    {
        std::ifstream f(path, std::ios::binary);
        f.read(head, sizeof head);
    }
    if (ir::isNpy(std::span<const std::byte>(reinterpret_cast<const std::byte*>(head), sizeof head))) {
        auto t = ir::readNpy(path);
        if (!t) return fail(std::move(t.error()).withFile(path));
        return t;
    }
    auto t = onnxfmt::readTensorProtoFile(path);
    if (!t) {
        Status s = t.error();
        if (s.code != StatusCode::NotFound && s.code != StatusCode::IoError) s.code = StatusCode::InvalidInput;
        s.message = "neither .npy nor a TensorProto .pb: " + s.message;
        return fail(std::move(s).withFile(path));
    }
    return t;
}

VoidResult DatasetBase::attachLabels(const std::string& path) {
    EW_TRY_ASSIGN(ir::Tensor t, readTensorFile(path));
    if (!ir::isInteger(t.dtype))
        return fail(dataError(StatusCode::InvalidInput, path,
                              "labels must be an integer tensor, not " + std::string(ir::dataTypeName(t.dtype))));
    if (!(t.dims.size() == 1 || (t.dims.size() == 2 && t.dims[1] == 1)))
        return fail(dataError(StatusCode::InvalidInput, path,
                              "labels must have shape [N] or [N,1], not " + dimsText(t.dims)));
    if (t.dims[0] != m_total)
        return fail(dataError(StatusCode::InvalidInput, path,
                              "holds " + std::to_string(t.dims[0]) + " labels but the data has " +
                                  std::to_string(m_total) + " samples (" + describeSource() + ")"));
    std::vector<int64_t> labels = t.toInt64();
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] < 0)
            return fail(dataError(StatusCode::InvalidInput, path,
                                  "label " + std::to_string(i) + " is negative (" + std::to_string(labels[i]) + ")"));
    m_fileLabels = std::move(labels);
    m_labelsFile = path;
    return {};
}

// ---------------------------------------------------------------- random

class RandomDataset final : public DatasetBase {
public:
    RandomDataset(std::vector<rt::TensorInfo> inputs, std::vector<Dims> dims, int64_t count, uint32_t seed)
        : m_inputs(std::move(inputs)), m_dims(std::move(dims)), m_seed(seed), m_rng(seed) {
        m_total = count;
        for (const auto& in : m_inputs) m_imageLike.push_back(isImageInput(in));
    }
    bool isRandom() const override { return true; }

protected:
    VoidResult fetch(int64_t index, Sample& s) override {
        for (std::size_t k = 0; k < m_inputs.size(); ++k) {
            rt::Tensor& t = slot(s, m_inputs, k);
            t.reshapeOwned(m_inputs[k].dtype, m_dims[k]);
            fill(t, m_imageLike[k]);
        }
        s.source = "random #" + std::to_string(index);
        return {};
    }
    void rewind() override { m_rng = XorShift32(m_seed); }
    std::string describeSource() const override {
        return "random: " + std::to_string(m_total) + " samples, seed " + std::to_string(m_seed) +
               " (generated data, not real inputs)";
    }

private:
    /// Image-like inputs get pixel-like values ([0,1) floats, the full uint8/int8 range), other
    /// floats [-1,1), other integers [0,8), bools 0/1.
    void fill(rt::Tensor& t, bool image) {
        const int64_t n = t.numElements();
        switch (t.dtype()) {
        case DataType::Float: {
            float* p = t.data<float>();
            for (int64_t i = 0; i < n; ++i) p[i] = float(image ? m_rng.next() : 2 * m_rng.next() - 1);
            break;
        }
        case DataType::Double: {
            double* p = t.data<double>();
            for (int64_t i = 0; i < n; ++i) p[i] = image ? m_rng.next() : 2 * m_rng.next() - 1;
            break;
        }
        case DataType::Float16: {
            uint16_t* p = t.data<uint16_t>();
            for (int64_t i = 0; i < n; ++i)
                p[i] = ir::floatToHalf(float(image ? m_rng.next() : 2 * m_rng.next() - 1));
            break;
        }
        case DataType::Bool: {
            uint8_t* p = t.data<uint8_t>();
            for (int64_t i = 0; i < n; ++i) p[i] = m_rng.next() < 0.5 ? 0 : 1;
            break;
        }
        case DataType::UInt8: {
            uint8_t* p = t.data<uint8_t>();
            for (int64_t i = 0; i < n; ++i) p[i] = uint8_t(int(m_rng.next() * (image ? 256 : 8)));
            break;
        }
        case DataType::Int8: {
            int8_t* p = t.data<int8_t>();
            for (int64_t i = 0; i < n; ++i)
                p[i] = int8_t(image ? int(m_rng.next() * 256) - 128 : int(m_rng.next() * 8));
            break;
        }
        default: {
            // The remaining integer types (checked at open): [0,8).
            const std::size_t es = rt::elementSize(t.dtype());
            std::byte* p = t.raw();
            for (int64_t i = 0; i < n; ++i) {
                const int64_t v = int64_t(m_rng.next() * 8);
                // Little-endian: the low bytes of v are the value in any narrower integer type.
                std::memcpy(p + i * es, &v, es);
            }
        }
        }
    }

    std::vector<rt::TensorInfo> m_inputs;
    std::vector<Dims> m_dims;
    std::vector<bool> m_imageLike;
    uint32_t m_seed;
    XorShift32 m_rng;
};

bool randomFillable(DataType t) {
    switch (t) {
    case DataType::Float: case DataType::Double: case DataType::Float16: case DataType::Bool:
    case DataType::Int8: case DataType::UInt8: case DataType::Int16: case DataType::UInt16:
    case DataType::Int32: case DataType::UInt32: case DataType::Int64: case DataType::UInt64:
        return true;
    default:
        return false;
    }
}

// ---------------------------------------------------------------- images

class ImageDataset final : public DatasetBase {
public:
    ImageDataset(std::vector<rt::TensorInfo> inputs, Preprocess pp, bool guessed, std::vector<std::string> files,
                 std::vector<int64_t> labels, std::vector<std::string> classes, std::string description)
        : m_inputs(std::move(inputs)), m_pp(pp), m_guessed(guessed), m_files(std::move(files)),
          m_labels(std::move(labels)), m_classes(std::move(classes)), m_description(std::move(description)) {
        m_total = int64_t(m_files.size());
    }
    std::vector<std::string> classNames() const override { return m_classes; }

protected:
    VoidResult fetch(int64_t index, Sample& s) override {
        const std::string& file = m_files[std::size_t(index)];
        EW_TRY_ASSIGN(Image img, readImage(file));
        EW_TRY_ASSIGN(slot(s, m_inputs, 0), imageToTensor(img, m_pp, m_inputs[0], file));
        if (!m_labels.empty()) s.label = m_labels[std::size_t(index)];
        s.source = file;
        return {};
    }
    void rewind() override {}
    std::string describeSource() const override {
        return m_description + (m_guessed ? "; preprocess guessed: " : "; preprocess: ") + describePreprocess(m_pp);
    }
    bool hasOwnLabels() const override { return !m_labels.empty(); }

private:
    std::vector<rt::TensorInfo> m_inputs;
    Preprocess m_pp;
    bool m_guessed;
    std::vector<std::string> m_files;
    std::vector<int64_t> m_labels;
    std::vector<std::string> m_classes;
    std::string m_description;
};

// ---------------------------------------------------------------- tensor files

/// How one file maps onto one model input: samples along dim 0 and each sample's dims.
struct Layout {
    int64_t count = 0;
    Dims sampleDims;
};

/// The model input's leading (batch) extent a sample takes: its static dim 0, or 1 when symbolic.
Result<Layout> layoutFor(const rt::TensorInfo& info, const ir::Tensor& t, const std::string& file) {
    auto mismatch = [&](const std::string& why) {
        return fail(dataError(StatusCode::InvalidInput, file,
                              "tensor " + std::string(ir::dataTypeName(t.dtype)) + dimsText(t.dims) +
                                  " does not fit input " + info.toString() + ": " + why));
    };
    const bool dtypeOk = t.dtype == info.dtype || (t.dtype == DataType::Double && info.dtype == DataType::Float);
    if (!dtypeOk) return mismatch("element type differs");
    if (rt::elementSize(t.dtype) == 0) return mismatch("element type not supported");
    Layout l;
    if (!info.shape) { // rank unknown: the whole tensor is one sample
        l.count = 1;
        l.sampleDims = t.dims;
        return l;
    }
    const ir::Shape& s = *info.shape;
    const std::size_t r = s.rank();
    if (r == 0) {
        if (!t.dims.empty()) return mismatch("the input is a scalar");
        l.count = 1;
        return l;
    }
    const int64_t m = s.dims[0].isKnown() ? s.dims[0].value : 1;
    Dims rest;
    int64_t lead = 0;
    if (t.dims.size() == r) {
        lead = t.dims[0];
        rest.assign(t.dims.begin() + 1, t.dims.end());
    } else if (t.dims.size() + 1 == r && m == 1) {
        lead = 1; // one sample without its batch dimension
        rest = t.dims;
    } else {
        return mismatch("rank " + std::to_string(t.dims.size()) + ", expected " + std::to_string(r) +
                        (m == 1 ? " (or " + std::to_string(r - 1) + " without the batch dimension)" : ""));
    }
    for (std::size_t d = 1; d < r; ++d)
        if (s.dims[d].isKnown() && s.dims[d].value != rest[d - 1])
            return mismatch("dimension " + std::to_string(d) + " is " + std::to_string(rest[d - 1]) + ", expected " +
                            std::to_string(s.dims[d].value));
    if (lead <= 0) return mismatch("no samples along dimension 0");
    if (lead % m != 0)
        return mismatch("dimension 0 (" + std::to_string(lead) + ") is not a multiple of the model's batch " +
                        std::to_string(m));
    l.count = lead / m;
    l.sampleDims.push_back(m);
    l.sampleDims.insert(l.sampleDims.end(), rest.begin(), rest.end());
    return l;
}

/// One sample group: a file per model input (all with the same sample count).
struct Group {
    std::vector<std::string> files;
};

class TensorDataset final : public DatasetBase {
public:
    TensorDataset(std::vector<rt::TensorInfo> inputs, std::vector<Group> groups, std::vector<int64_t> counts,
                  std::string description)
        : m_inputs(std::move(inputs)), m_groups(std::move(groups)), m_counts(std::move(counts)),
          m_description(std::move(description)) {
        for (int64_t c : m_counts) m_total += c;
    }

protected:
    VoidResult fetch(int64_t, Sample& s) override {
        while (m_group < 0 || m_offset >= m_counts[std::size_t(m_group)]) {
            ++m_group;
            m_offset = 0;
            m_loaded.clear(); // drop the previous group's tensors (and mappings) first
            EW_TRY(load());
        }
        const Group& g = m_groups[std::size_t(m_group)];
        for (std::size_t k = 0; k < m_inputs.size(); ++k) {
            const ir::Tensor& src = m_loaded[k];
            const Layout& l = m_layouts[k];
            rt::Tensor& dst = slot(s, m_inputs, k);
            dst.reshapeOwned(m_inputs[k].dtype, l.sampleDims);
            const int64_t n = dst.numElements();
            if (src.dtype == DataType::Double && m_inputs[k].dtype == DataType::Float) {
                const double* p = reinterpret_cast<const double*>(src.bytes().data()) + m_offset * n;
                float* o = dst.data<float>();
                for (int64_t i = 0; i < n; ++i) o[i] = float(p[i]);
            } else {
                std::memcpy(dst.raw(), src.bytes().data() + std::size_t(m_offset) * dst.byteSize(), dst.byteSize());
            }
        }
        s.source = g.files[0];
        if (m_counts[std::size_t(m_group)] > 1) s.source += " [" + std::to_string(m_offset) + "]";
        ++m_offset;
        return {};
    }
    void rewind() override {
        m_group = -1;
        m_offset = 0;
        m_loaded.clear();
    }
    std::string describeSource() const override { return m_description; }

private:
    VoidResult load() {
        const Group& g = m_groups[std::size_t(m_group)];
        m_layouts.clear();
        for (std::size_t k = 0; k < m_inputs.size(); ++k) {
            EW_TRY_ASSIGN(ir::Tensor t, readTensorFile(g.files[k]));
            EW_TRY_ASSIGN(Layout l, layoutFor(m_inputs[k], t, g.files[k]));
            if (l.count != m_counts[std::size_t(m_group)]) // the file changed since open
                return fail(dataError(StatusCode::InvalidInput, g.files[k], "changed while it was being read"));
            m_loaded.push_back(std::move(t));
            m_layouts.push_back(std::move(l));
        }
        return {};
    }

    std::vector<rt::TensorInfo> m_inputs;
    std::vector<Group> m_groups;
    std::vector<int64_t> m_counts;
    std::string m_description;
    int64_t m_group = -1, m_offset = 0;
    std::vector<ir::Tensor> m_loaded;
    std::vector<Layout> m_layouts;
};

// ---------------------------------------------------------------- folder scanning

bool isTensorPath(const fs::path& p) {
    const std::string ext = p.extension().string();
    return ext == ".npy" || ext == ".pb";
}

bool hidden(const fs::path& p) { return p.filename().string().starts_with("."); }

/// Sorted regular files and subfolders of `dir` (hidden entries skipped).
struct Listing {
    std::vector<fs::path> files, dirs;
};

Result<Listing> listDir(const fs::path& dir) {
    Listing l;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (hidden(p)) continue;
        std::error_code e2;
        if (it->is_directory(e2)) l.dirs.push_back(p);
        else if (it->is_regular_file(e2)) l.files.push_back(p);
    }
    if (ec) return fail(dataError(StatusCode::IoError, dir.string(), "cannot list the folder: " + ec.message()));
    std::sort(l.files.begin(), l.files.end());
    std::sort(l.dirs.begin(), l.dirs.end());
    return l;
}

/// Tensor files of a folder that can hold inputs: .npy/.pb, minus output_K files (a
/// test_data_set_N folder holds the expected outputs next to the inputs).
std::vector<fs::path> inputTensorFiles(const Listing& l) {
    std::vector<fs::path> out;
    for (const fs::path& p : l.files)
        if (isTensorPath(p) && !p.stem().string().starts_with("output_")) out.push_back(p);
    return out;
}

/// The files of one sample folder: per input, "<input name>.npy|.pb" ('/' and '\\' in the name
/// read as '_') or "input_<k>.npy|.pb"; a single-input model also takes the folder's only file.
Result<Group> pickInputs(const fs::path& dir, const std::vector<fs::path>& files,
                         const std::vector<rt::TensorInfo>& inputs) {
    Group g;
    std::string missing;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        std::string safe = inputs[k].name;
        std::replace(safe.begin(), safe.end(), '/', '_');
        std::replace(safe.begin(), safe.end(), '\\', '_');
        const std::string byIndex = "input_" + std::to_string(k);
        const fs::path* found = nullptr;
        for (const fs::path& f : files)
            if (f.stem() == safe || f.stem() == byIndex) {
                found = &f;
                break;
            }
        if (!found && inputs.size() == 1 && files.size() == 1) found = &files[0];
        if (!found) {
            missing += (missing.empty() ? "" : ", ") + safe + ".npy|.pb or " + byIndex + ".npy|.pb";
            continue;
        }
        g.files.push_back(found->string());
    }
    if (!missing.empty())
        return fail(dataError(StatusCode::InvalidInput, dir.string(), "no file for model input(s): " + missing));
    return g;
}

std::string plural(int64_t n, const std::string& word, const std::string& many = {}) {
    return std::to_string(n) + " " + (n == 1 ? word : many.empty() ? word + "s" : many);
}

Result<std::unique_ptr<DatasetBase>> openTensors(const fs::path& path, const std::vector<rt::TensorInfo>& inputs,
                                                 const OpenOptions& options) {
    std::vector<Group> groups;
    std::string what;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        if (inputs.size() != 1)
            return fail(dataError(StatusCode::InvalidInput, path.string(),
                                  "one tensor file cannot feed a model with " + std::to_string(inputs.size()) +
                                      " inputs; give a folder with a file per input (NAME.npy or input_K.pb)"));
        groups.push_back(Group{{path.string()}});
        what = "tensors: " + path.string();
    } else {
        EW_TRY_ASSIGN(Listing l, listDir(path));
        const std::vector<fs::path> files = inputTensorFiles(l);
        if (!files.empty()) {
            if (inputs.size() == 1) {
                for (const fs::path& f : files) groups.push_back(Group{{f.string()}});
                what = "tensors: " + plural(int64_t(files.size()), "file") + " in " + path.string();
            } else {
                EW_TRY_ASSIGN(Group g, pickInputs(path, files, inputs));
                groups.push_back(std::move(g));
                what = "tensors: one file per input in " + path.string();
            }
        } else {
            for (const fs::path& d : l.dirs) {
                EW_TRY_ASSIGN(Listing sub, listDir(d));
                const std::vector<fs::path> subFiles = inputTensorFiles(sub);
                if (subFiles.empty()) continue;
                EW_TRY_ASSIGN(Group g, pickInputs(d, subFiles, inputs));
                groups.push_back(std::move(g));
            }
            what = "tensors: " + plural(int64_t(groups.size()), "sample folder") + " under " + path.string();
        }
        if (groups.empty())
            return fail(dataError(StatusCode::InvalidInput, path.string(), "holds no .npy or .pb input files"));
    }
    if (options.shuffle) shuffleWithSeed(groups, options.seed);

    // Validate every file against the model and count its samples now, so that size() is exact
    // and a bad file is reported before a long run starts. One file is held at a time.
    std::vector<int64_t> counts;
    bool split = false;
    for (const Group& g : groups) {
        int64_t count = -1;
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            EW_TRY_ASSIGN(ir::Tensor t, readTensorFile(g.files[k]));
            EW_TRY_ASSIGN(Layout l, layoutFor(inputs[k], t, g.files[k]));
            if (count >= 0 && l.count != count)
                return fail(dataError(StatusCode::InvalidInput, g.files[k],
                                      "holds " + std::to_string(l.count) + " samples but " + g.files[0] + " holds " +
                                          std::to_string(count)));
            count = l.count;
        }
        if (count > 1) split = true;
        counts.push_back(count);
    }
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    what += ", " + plural(total, "sample");
    if (split) what += " (batches split along dim 0)";
    if (options.shuffle) what += ", shuffled with seed " + std::to_string(options.seed);
    return std::unique_ptr<DatasetBase>(new TensorDataset(inputs, std::move(groups), std::move(counts), what));
}

Result<std::unique_ptr<DatasetBase>> openImages(const fs::path& path, std::vector<fs::path> topImages,
                                                const Listing& listing, const std::vector<rt::TensorInfo>& inputs,
                                                const OpenOptions& options) {
    if (inputs.size() != 1) {
        std::string others;
        for (std::size_t k = 1; k < inputs.size(); ++k) others += (others.empty() ? "'" : ", '") + inputs[k].name + "'";
        return fail(dataError(StatusCode::InvalidInput, path.string(),
                              "images feed only the model's first input '" + inputs[0].name +
                                  "'; the model also takes " + others +
                                  ": use tensor files (a folder per sample with NAME.npy per input) or random"));
    }
    if (!isImageInput(inputs[0]))
        return fail(dataError(StatusCode::InvalidInput, path.string(),
                              "input " + inputs[0].toString() +
                                  " does not take images (4-D, 1 or 3 channels, float/uint8/int8)"));
    const bool guessed = !options.preprocess;
    const Preprocess pp = options.preprocess ? *options.preprocess : guessPreprocess(inputs[0]);
    // Check the preprocess against the input once, before any file is read.
    if (auto s = imageInputShape(inputs[0], pp.layout); !s) return fail(std::move(s.error()).withFile(path.string()));

    std::vector<std::string> files;
    std::vector<int64_t> labels;
    std::vector<std::string> classes;
    std::string what;
    if (!topImages.empty()) {
        for (const fs::path& p : topImages) files.push_back(p.string());
        what = "images: " + plural(int64_t(files.size()), "file") + " in " + path.string();
    } else {
        for (const fs::path& d : listing.dirs) {
            EW_TRY_ASSIGN(Listing sub, listDir(d));
            bool any = false;
            for (const fs::path& f : sub.files)
                if (isImagePath(f.string())) {
                    files.push_back(f.string());
                    labels.push_back(int64_t(classes.size()));
                    any = true;
                }
            if (any) classes.push_back(d.filename().string());
        }
        what = "images: " + plural(int64_t(files.size()), "file") + " in " + plural(int64_t(classes.size()), "class", "classes") +
               " under " + path.string();
    }
    if (options.shuffle) {
        std::vector<std::size_t> order(files.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        shuffleWithSeed(order, options.seed);
        std::vector<std::string> f2;
        std::vector<int64_t> l2;
        for (std::size_t i : order) {
            f2.push_back(std::move(files[i]));
            if (!labels.empty()) l2.push_back(labels[i]);
        }
        files = std::move(f2);
        labels = std::move(l2);
        what += ", shuffled with seed " + std::to_string(options.seed);
    }
    return std::unique_ptr<DatasetBase>(
        new ImageDataset(inputs, pp, guessed, std::move(files), std::move(labels), std::move(classes), what));
}

Result<std::unique_ptr<DatasetBase>> openRandom(const std::string& source, const std::vector<rt::TensorInfo>& inputs,
                                                const OpenOptions& options) {
    int64_t count = options.randomCount;
    if (source.size() > 6) {
        const std::string n = source.substr(7);
        if (source[6] != ':' || n.empty() || n.size() > 12 ||
            !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return fail(StatusCode::Usage, "random data is \"random\" or \"random:N\", not \"" + source + "\"");
        count = std::stoll(n);
    }
    if (count <= 0) return fail(StatusCode::Usage, "random data needs at least one sample");
    std::vector<Dims> dims;
    for (const rt::TensorInfo& in : inputs) {
        if (!in.shape)
            return fail(StatusCode::InvalidInput,
                        "input '" + in.name + "' has no declared shape to fill with random data");
        if (!randomFillable(in.dtype))
            return fail(StatusCode::InvalidInput, "input '" + in.name + "' is " +
                                                      std::string(ir::dataTypeName(in.dtype)) +
                                                      ": no random data for that element type");
        Dims d;
        for (const auto& dim : in.shape->dims) d.push_back(dim.isKnown() ? dim.value : 1);
        dims.push_back(std::move(d));
    }
    return std::unique_ptr<DatasetBase>(new RandomDataset(inputs, std::move(dims), count, options.seed));
}

} // namespace

Result<std::unique_ptr<Dataset>> openDataset(const std::string& source, const std::vector<rt::TensorInfo>& inputs,
                                             const OpenOptions& options) {
    if (inputs.empty()) return fail(StatusCode::InvalidInput, "the model has no inputs to feed");
    if (options.limit < 0) return fail(StatusCode::Usage, "the sample limit must not be negative");
    std::unique_ptr<DatasetBase> ds;
    if (source == "random" || source.starts_with("random:")) {
        if (!options.labels.empty())
            return fail(StatusCode::Usage, "random data has no labels; drop the labels file or give real data");
        EW_TRY_ASSIGN(ds, openRandom(source, inputs, options));
    } else {
        const fs::path path(source);
        std::error_code ec;
        const auto st = fs::status(path, ec);
        if (ec || !fs::exists(st))
            return fail(dataError(StatusCode::NotFound, source, "no such file or folder (nor \"random[:N]\")"));
        if (fs::is_regular_file(st)) {
            if (isImagePath(source)) {
                Listing l;
                EW_TRY_ASSIGN(ds, openImages(path, {path}, l, inputs, options));
            } else {
                EW_TRY_ASSIGN(ds, openTensors(path, inputs, options));
            }
        } else if (fs::is_directory(st)) {
            EW_TRY_ASSIGN(Listing l, listDir(path));
            // Images or tensors, at the top or one level down (class / sample subfolders).
            std::vector<fs::path> topImages;
            int64_t tensors = 0, subImages = 0;
            for (const fs::path& f : l.files) {
                if (isImagePath(f.string())) topImages.push_back(f);
                else if (isTensorPath(f)) ++tensors;
            }
            for (const fs::path& d : l.dirs) {
                EW_TRY_ASSIGN(Listing sub, listDir(d));
                for (const fs::path& f : sub.files) {
                    if (isImagePath(f.string())) ++subImages;
                    else if (isTensorPath(f)) ++tensors;
                }
            }
            const int64_t images = int64_t(topImages.size()) + subImages;
            if (images > 0 && tensors > 0)
                return fail(dataError(StatusCode::InvalidInput, source,
                                      "mixes images and tensor files; give one kind of data"));
            if (!topImages.empty() && subImages > 0)
                return fail(dataError(StatusCode::InvalidInput, source,
                                      "holds images both at its top level and in subfolders; put every image in "
                                      "a class subfolder, or all at the top"));
            if (images > 0) {
                EW_TRY_ASSIGN(ds, openImages(path, std::move(topImages), l, inputs, options));
            } else if (tensors > 0) {
                EW_TRY_ASSIGN(ds, openTensors(path, inputs, options));
            } else {
                return fail(dataError(StatusCode::InvalidInput, source,
                                      "holds no images (.png .jpg .jpeg .bmp) or tensor files (.npy .pb)"));
            }
        } else {
            return fail(dataError(StatusCode::InvalidInput, source, "is neither a file nor a folder"));
        }
        if (!options.labels.empty()) EW_TRY(ds->attachLabels(options.labels));
    }
    ds->setLimit(options.limit);
    return std::unique_ptr<Dataset>(std::move(ds));
}

} // namespace ew::opt::data
