#pragma once
#include "common/status.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// Calibration and evaluation data for the quantizer, `edgewise-cli quantize/evaluate` and the
/// GUI wizard. Datasets stream: one sample at a time, never the whole set in memory.
namespace ew::opt::data {

/// How an image becomes a model input. Saved as JSON (`--preprocess FILE.json`) and guessed from
/// common presets. Applied in this order: decode -> grayscale/RGB/BGR -> resize -> center crop ->
/// scale -> (x - mean) / std -> layout -> element type.
struct Preprocess {
    int resizeHeight = 0, resizeWidth = 0; ///< 0: take the model input's H/W (after crop)
    bool resizeShorterSide = false;        ///< resize so the shorter side is resizeHeight, keep aspect
    int cropHeight = 0, cropWidth = 0;     ///< 0: no crop
    enum class Channels { RGB, BGR, Gray } channels = Channels::RGB;
    float scale = 1.0f / 255.0f;           ///< multiplies the 0..255 pixel value first
    std::array<float, 3> mean{0, 0, 0};
    std::array<float, 3> std{1, 1, 1};
    enum class Layout { NCHW, NHWC } layout = Layout::NCHW;

    std::string toJson() const;
    static Result<Preprocess> fromJson(const std::string& json);
    static Result<Preprocess> load(const std::string& path);
    /// "imagenet" (scale 1/255, mean .485 .456 .406, std .229 .224 .225), "minus1to1"
    /// ((x - 127.5) / 127.5), "zero1" (x / 255), "raw" (0..255 floats).
    static std::optional<Preprocess> preset(const std::string& name);
    static std::vector<std::string> presetNames();
};

/// One input set for one model run, with the label when the source has one.
struct Sample {
    rt::Session::NamedTensors inputs; ///< in the model's input order
    std::optional<int64_t> label;     ///< class index (image class subfolders, labels file)
    std::string source;               ///< file it came from, or "random #k"
};

/// A stream of samples shaped for one model's inputs.
class Dataset {
public:
    virtual ~Dataset() = default;
    /// Number of samples (after any limit).
    virtual int64_t size() const = 0;
    /// Fills `s` with the next sample; false at the end. Errors name the file.
    virtual Result<bool> next(Sample& s) = 0;
    virtual void reset() = 0;
    /// True for generated data: every report says so.
    virtual bool isRandom() const { return false; }
    /// "images: 500 files in 10 classes under DIR", "random: 64 samples, seed 1", ...
    virtual std::string describe() const = 0;
    /// Class names when labels come from subfolders (index = label).
    virtual std::vector<std::string> classNames() const { return {}; }
    /// True when every sample carries a label (class subfolders or OpenOptions::labels).
    virtual bool hasLabels() const { return false; }
};

struct OpenOptions {
    std::optional<Preprocess> preprocess; ///< images: nullopt = guess (see guessPreprocess)
    int64_t limit = 0;                    ///< 0: all samples
    uint32_t seed = 1;                    ///< random data and shuffling
    int64_t randomCount = 32;             ///< samples of "random" when no count is given
    /// A .npy or TensorProto .pb file of integer labels, one per sample in the source's order
    /// (shape [N] or [N,1]; N must equal the source's sample count before `limit`). Overrides
    /// labels from class subfolders. Empty: none.
    std::string labels;
    /// Visit files in a seeded random order instead of sorted (images and tensor files), so that
    /// `limit` takes samples from every class.
    bool shuffle = false;
};

/// Opens SOURCE for the given model inputs (use Session::inputInfo()):
///   "random" or "random:N"       seeded random data of the inputs' shapes (marked isRandom)
///   DIR of images (.png/.jpg/.jpeg/.bmp), optionally one subfolder per class (labels)
///   DIR or FILE of .npy           one tensor per file, or a batch along dim 0
///   DIR or FILE of .pb            ONNX TensorProto files (input_0.pb ... as in test_data_set_N)
/// Details (see dataset.cpp):
///  - random: symbolic/unknown dims become 1; image-like float inputs get [0,1), other floats
///    [-1,1), uint8/int8 image inputs their full range, other integers [0,8); sample order is one
///    xorshift32 stream from `seed`, so reset() and a new open reproduce it.
///  - images: files sorted by path (or shuffled with `seed`); class subfolders sorted by name give
///    labels 0..K-1; only a single-input model with a 4-D 1/3-channel input takes images.
///  - tensors: a file of rank R (the input's) is split along dim 0 into samples of the input's
///    static dim 0 (1 when symbolic); rank R-1 is one sample. float64 files feed float32 inputs.
///    A folder of files feeds a single-input model one file after another (output_*.pb skipped);
///    a multi-input model reads one file per input named "<input name>.npy|.pb" or
///    "input_<K>.npy|.pb", from the folder itself or from each subfolder (test_data_set_N).
/// Errors: NotFound for a missing path, InvalidInput for a file that does not decode or does not
/// fit the model's input (naming the file, expected and actual shapes).
Result<std::unique_ptr<Dataset>> openDataset(const std::string& source,
                                             const std::vector<rt::TensorInfo>& inputs,
                                             const OpenOptions& options = {});

/// A preprocessing guess for a model input from its name, shape and value range hints:
/// ImageNet statistics for 3-channel 224-ish inputs, [0,1] otherwise.
Preprocess guessPreprocess(const rt::TensorInfo& input);

} // namespace ew::opt::data
