#pragma once
#include "common/status.h"
#include "optimize/dataset/dataset.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

/// Image decoding and the Preprocess steps, exposed one by one so tests can check exact values.
namespace ew::opt::data {

/// Largest accepted width or height, and pixel count: checked against the header before any
/// pixel buffer is allocated (a hostile header cannot make the decoder allocate gigabytes).
constexpr int kMaxImageSide = 16384;
constexpr int64_t kMaxImagePixels = int64_t(1) << 26;

/// A decoded 8-bit image. Invariant: pixels.size() == width * height * channels; rows run top to
/// bottom, channels interleaved; channels is 1 (gray) or 3 (RGB). Alpha is dropped (as PIL's
/// convert("RGB") does), palette images are expanded (to gray when every entry is gray).
struct Image {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

/// The same in float, between preprocessing steps.
struct FloatImage {
    int width = 0, height = 0, channels = 0;
    std::vector<float> pixels;
    float at(int y, int x, int c) const { return pixels[(std::size_t(y) * width + x) * channels + c]; }
};

/// True for the extensions the image source reads (.png .jpg .jpeg .bmp, any case).
bool isImagePath(const std::string& path);

/// Decodes PNG (libpng), JPEG (libjpeg-turbo) or BMP (own decoder: 8-bit palette or gray, 24-bit,
/// 32-bit BI_RGB/BI_BITFIELDS, bottom-up or top-down), chosen by magic bytes. Every error names
/// `source`: truncated data, bogus or oversized dimensions, unsupported variants; a JPEG whose
/// decoder warns about corrupt data is an error too (calibration must not see grey filler).
Result<Image> decodeImage(std::span<const std::byte> bytes, const std::string& source);
/// Reads and decodes a file (NotFound when it does not exist).
Result<Image> readImage(const std::string& path);

/// One line for reports: "RGB, resize shorter side 256, crop 224x224, scale 0.00392157, mean
/// [0.485,0.456,0.406], std [0.229,0.224,0.225], NCHW".
std::string describePreprocess(const Preprocess& pp);

/// RGB <-> gray (ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B, rounded) and RGB -> BGR.
Image convertChannels(const Image& img, Preprocess::Channels channels);

/// Antialiased bilinear resize, the algorithm of PIL's BILINEAR and torchvision's
/// antialias=True: separable triangle filter over half-pixel centres whose support widens by the
/// scale factor when downscaling (so every source pixel contributes, like an area average), and
/// plain bilinear interpolation with clamped edges when upscaling. Results stay float (no rounding
/// between the passes or after). Same size: an exact copy.
FloatImage resizeBilinear(const Image& img, int height, int width);
/// Centre crop; the offset is floor((size - crop) / 2). Fails when the crop exceeds the image.
Result<FloatImage> centerCrop(const FloatImage& img, int height, int width, const std::string& source);

/// The model-side shape an image input takes: batch 1, channel count and H/W (0 when symbolic)
/// for the given layout.
struct ImageInputShape {
    int channels = 0, height = 0, width = 0;
    Preprocess::Layout layout = Preprocess::Layout::NCHW;
};
/// True when `input` looks like an image: rank 4 with 1 or 3 channels at dim 1 (NCHW) or dim 3
/// (NHWC), a numeric element type the image path produces (float32, float16, uint8, int8).
bool isImageInput(const rt::TensorInfo& input);
Result<ImageInputShape> imageInputShape(const rt::TensorInfo& input, Preprocess::Layout layout);

/// Applies `pp` to a decoded image for the given model input: channels (the input's channel
/// count wins: 1-channel inputs take luma whatever `pp.channels` says; for 3-channel inputs it
/// picks RGB or BGR order, Gray meaning luma replicated three times), resize, crop, then
/// float32/float16 inputs get (v * scale - mean[c]) / std[c] (mean/std in the output channel
/// order, so BGR models give B's statistics first); uint8 inputs get the raw rounded 0..255
/// value and int8 inputs value - 128, with no scale or mean (a quantized model's input
/// quantization expects raw pixels). Output [1,C,H,W] or [1,H,W,C]. Errors name `source`.
Result<rt::Tensor> imageToTensor(const Image& img, const Preprocess& pp, const rt::TensorInfo& input,
                                 const std::string& source);

} // namespace ew::opt::data
