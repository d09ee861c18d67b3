// Image decoding for the dataset module: PNG through libpng's simplified API, JPEG through
// libjpeg-turbo with a longjmp error manager, BMP by hand. Every path checks the header's
// dimensions against kMaxImageSide / kMaxImagePixels before allocating pixels.
#include "optimize/dataset/image.h"

#include "common/file_util.h"

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <jpeglib.h>
#include <png.h>

namespace ew::opt::data {

namespace {

Status imageError(const std::string& source, std::string message) {
    return Status{StatusCode::InvalidInput, std::move(message), source, {}};
}

VoidResult checkDims(int64_t w, int64_t h, const std::string& source, const char* format) {
    if (w <= 0 || h <= 0)
        return fail(imageError(source, std::string(format) + " image has invalid dimensions " +
                                           std::to_string(w) + "x" + std::to_string(h)));
    if (w > kMaxImageSide || h > kMaxImageSide || w * h > kMaxImagePixels)
        return fail(imageError(source, std::string(format) + " image is too large: " + std::to_string(w) +
                                           "x" + std::to_string(h) + " (limit " +
                                           std::to_string(kMaxImageSide) + " per side, " +
                                           std::to_string(kMaxImagePixels) + " pixels)"));
    return {};
}

// ---------------------------------------------------------------- PNG

Result<Image> decodePng(std::span<const std::byte> bytes, const std::string& source) {
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
        return fail(imageError(source, std::string("PNG does not decode: ") + png.message));
    if (auto ok = checkDims(png.width, png.height, source, "PNG"); !ok) {
        png_image_free(&png);
        return std::unexpected(ok.error());
    }
    // 16-bit files without gamma chunks are sRGB-encoded in practice (PIL keeps their high byte);
    // libpng's default would take them as linear and brighten them when reducing to 8 bits.
    png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    // Read with alpha and drop it ourselves: the simplified API would otherwise composite onto
    // the buffer's contents, and PIL (the reference most recipes assume) simply discards alpha.
    const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
    png.format = color ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
    const int inChannels = color ? 4 : 2;
    std::vector<uint8_t> buf(std::size_t(png.width) * png.height * inChannels);
    if (!png_image_finish_read(&png, nullptr, buf.data(), 0, nullptr)) {
        std::string msg = png.message;
        png_image_free(&png);
        return fail(imageError(source, "PNG does not decode: " + msg));
    }
    Image img;
    img.width = int(png.width);
    img.height = int(png.height);
    img.channels = color ? 3 : 1;
    const std::size_t n = std::size_t(img.width) * img.height;
    img.pixels.resize(n * img.channels);
    for (std::size_t i = 0; i < n; ++i)
        for (int c = 0; c < img.channels; ++c) img.pixels[i * img.channels + c] = buf[i * inChannels + c];
    png_image_free(&png);
    return img;
}

// ---------------------------------------------------------------- JPEG

struct JpegErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool warned;
};

extern "C" void jpegErrorExit(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

extern "C" void jpegEmitMessage(j_common_ptr cinfo, int level) {
    // level -1 is a warning about corrupt data (truncation, bad Huffman codes): keep the first.
    auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    if (level < 0 && !err->warned) {
        (*cinfo->err->format_message)(cinfo, err->message);
        err->warned = true;
    }
}

/// The libjpeg calls, kept free of objects with destructors between setjmp and any longjmp (a
/// longjmp across them would be undefined). `out` is sized only after the header is checked.
/// Returns 0 on success, 1 on a libjpeg error or corrupt-data warning (message in err), 2 when
/// the header's dimensions are refused, 3 for an unsupported colour space.
int decodeJpegRaw(const unsigned char* data, unsigned long size, JpegErrorManager& err,
                  jpeg_decompress_struct& cinfo, std::vector<uint8_t>& out, int& width, int& height,
                  int& channels) {
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpegErrorExit;
    err.pub.emit_message = jpegEmitMessage;
    err.warned = false;
    err.message[0] = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    width = int(cinfo.image_width);
    height = int(cinfo.image_height);
    if (width <= 0 || height <= 0 || width > kMaxImageSide || height > kMaxImageSide ||
        int64_t(width) * height > kMaxImagePixels) {
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    channels = cinfo.output_components;
    if (int(cinfo.output_width) != width || int(cinfo.output_height) != height ||
        (channels != 1 && channels != 3)) {
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    out.resize(std::size_t(width) * height * channels);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out.data() + std::size_t(cinfo.output_scanline) * width * channels;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return err.warned ? 1 : 0;
}

Result<Image> decodeJpeg(std::span<const std::byte> bytes, const std::string& source) {
    JpegErrorManager err;
    jpeg_decompress_struct cinfo;
    std::vector<uint8_t> pixels;
    int w = 0, h = 0, c = 0;
    const int rc = decodeJpegRaw(reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<unsigned long>(bytes.size()), err, cinfo, pixels, w, h, c);
    if (rc == 1) return fail(imageError(source, std::string("JPEG does not decode: ") + err.message));
    if (rc == 2) {
        EW_TRY(checkDims(w, h, source, "JPEG"));
        return fail(imageError(source, "JPEG header is inconsistent"));
    }
    if (rc == 3) return fail(imageError(source, "JPEG colour space not supported (CMYK/YCCK)"));
    Image img;
    img.width = w;
    img.height = h;
    img.channels = c;
    img.pixels = std::move(pixels);
    return img;
}

// ---------------------------------------------------------------- BMP

uint32_t le32(const std::byte* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t le16(const std::byte* p) { return uint16_t(uint32_t(p[0]) | uint32_t(p[1]) << 8); }

/// Extracts a BI_BITFIELDS channel and scales it to 8 bits.
uint8_t maskedChannel(uint32_t v, uint32_t mask) {
    if (!mask) return 0;
    int shift = 0;
    while (!((mask >> shift) & 1)) ++shift;
    const uint32_t m = mask >> shift;
    const uint32_t x = (v >> shift) & m;
    return uint8_t((uint64_t(x) * 255 + m / 2) / m);
}

Result<Image> decodeBmp(std::span<const std::byte> b, const std::string& source) {
    const std::size_t size = b.size();
    if (size < 26) return fail(imageError(source, "BMP is truncated (no complete header)"));
    const uint32_t dataOffset = le32(&b[10]);
    const uint32_t headerSize = le32(&b[14]);
    if (headerSize != 12 && headerSize != 40 && headerSize != 52 && headerSize != 56 &&
        headerSize != 108 && headerSize != 124)
        return fail(imageError(source, "BMP header size " + std::to_string(headerSize) + " is not supported"));
    if (14 + uint64_t(headerSize) > size) return fail(imageError(source, "BMP is truncated inside its header"));
    int64_t width, height;
    uint16_t planes, bpp;
    uint32_t compression = 0, colorsUsed = 0;
    if (headerSize == 12) {
        width = le16(&b[18]);
        height = int16_t(le16(&b[20]));
        planes = le16(&b[22]);
        bpp = le16(&b[24]);
    } else {
        width = int32_t(le32(&b[18]));
        height = int32_t(le32(&b[22]));
        planes = le16(&b[26]);
        bpp = le16(&b[28]);
        compression = le32(&b[30]);
        colorsUsed = le32(&b[46]);
    }
    const bool topDown = height < 0;
    if (topDown) height = -height;
    if (planes != 1) return fail(imageError(source, "BMP has " + std::to_string(planes) + " planes (must be 1)"));
    EW_TRY(checkDims(width, height, source, "BMP"));
    if (bpp != 8 && bpp != 24 && bpp != 32)
        return fail(imageError(source, "BMP with " + std::to_string(bpp) +
                                           " bits per pixel is not supported (8, 24 and 32 are)"));
    // 0 = BI_RGB, 3 = BI_BITFIELDS, 6 = BI_ALPHABITFIELDS; RLE and embedded JPEG/PNG are refused.
    const bool bitfields = compression == 3 || compression == 6;
    if (!(compression == 0 || (bitfields && bpp == 32)))
        return fail(imageError(source, "BMP compression " + std::to_string(compression) + " is not supported"));

    uint32_t masks[3] = {0x00ff0000u, 0x0000ff00u, 0x000000ffu};
    if (bitfields) {
        // The masks follow a 40-byte header; larger headers hold them at the same offset.
        if (14 + 40 + 12 > size) return fail(imageError(source, "BMP is truncated inside its colour masks"));
        for (int i = 0; i < 3; ++i) masks[i] = le32(&b[54 + 4 * i]);
        if (!masks[0] || !masks[1] || !masks[2])
            return fail(imageError(source, "BMP has an empty colour mask"));
    }

    // Palette for 8-bit images: after the header (and the masks a 40-byte BITFIELDS header has).
    std::vector<std::array<uint8_t, 3>> palette;
    bool grayPalette = true;
    if (bpp == 8) {
        const uint32_t count = colorsUsed ? colorsUsed : 256;
        if (count > 256) return fail(imageError(source, "BMP palette has " + std::to_string(count) + " entries (max 256)"));
        const std::size_t entry = headerSize == 12 ? 3 : 4;
        const uint64_t start = 14 + uint64_t(headerSize);
        if (start + uint64_t(count) * entry > size)
            return fail(imageError(source, "BMP is truncated inside its palette"));
        palette.resize(count);
        for (uint32_t i = 0; i < count; ++i) {
            const std::byte* p = &b[start + i * entry];
            palette[i] = {uint8_t(p[2]), uint8_t(p[1]), uint8_t(p[0])}; // stored B, G, R
            if (palette[i][0] != palette[i][1] || palette[i][1] != palette[i][2]) grayPalette = false;
        }
    }

    const uint64_t stride = ((uint64_t(bpp) * width + 31) / 32) * 4;
    if (dataOffset < 14 + uint64_t(headerSize) || dataOffset > size ||
        stride * uint64_t(height) > size - dataOffset)
        return fail(imageError(source, "BMP pixel data is truncated: " + std::to_string(width) + "x" +
                                           std::to_string(height) + " at " + std::to_string(bpp) +
                                           " bits needs " + std::to_string(stride * height) +
                                           " bytes from offset " + std::to_string(dataOffset) +
                                           ", the file has " + std::to_string(size)));

    Image img;
    img.width = int(width);
    img.height = int(height);
    img.channels = (bpp == 8 && grayPalette) ? 1 : 3;
    img.pixels.resize(std::size_t(width) * height * img.channels);
    for (int64_t y = 0; y < height; ++y) {
        const int64_t srcRow = topDown ? y : height - 1 - y;
        const std::byte* row = &b[dataOffset + srcRow * stride];
        uint8_t* out = &img.pixels[std::size_t(y) * width * img.channels];
        for (int64_t x = 0; x < width; ++x) {
            if (bpp == 8) {
                const uint8_t idx = uint8_t(row[x]);
                if (idx >= palette.size())
                    return fail(imageError(source, "BMP pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                                                       ") uses palette index " + std::to_string(idx) +
                                                       " of " + std::to_string(palette.size())));
                if (img.channels == 1) out[x] = palette[idx][0];
                else std::memcpy(out + 3 * x, palette[idx].data(), 3);
            } else if (bpp == 24) {
                const std::byte* p = row + 3 * x;
                out[3 * x] = uint8_t(p[2]);
                out[3 * x + 1] = uint8_t(p[1]);
                out[3 * x + 2] = uint8_t(p[0]);
            } else {
                const uint32_t v = le32(row + 4 * x);
                for (int c = 0; c < 3; ++c) out[3 * x + c] = maskedChannel(v, masks[c]);
            }
        }
    }
    return img;
}

bool startsWith(std::span<const std::byte> b, std::initializer_list<int> magic) {
    if (b.size() < magic.size()) return false;
    std::size_t i = 0;
    for (int m : magic)
        if (int(b[i++]) != m) return false;
    return true;
}

} // namespace

bool isImagePath(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

Result<Image> decodeImage(std::span<const std::byte> bytes, const std::string& source) {
    if (startsWith(bytes, {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a})) return decodePng(bytes, source);
    if (startsWith(bytes, {0xff, 0xd8, 0xff})) return decodeJpeg(bytes, source);
    if (startsWith(bytes, {'B', 'M'})) return decodeBmp(bytes, source);
    return fail(imageError(source, "not a PNG, JPEG or BMP image (unknown magic bytes)"));
}

Result<Image> readImage(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(Status{StatusCode::NotFound, "no such image file", path, {}});
    EW_TRY_ASSIGN(auto file, MappedFile::open(path));
    return decodeImage(file->bytes(), path);
}

} // namespace ew::opt::data
