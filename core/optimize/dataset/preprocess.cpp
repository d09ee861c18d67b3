// Preprocess: JSON form, presets, the guess for a model input, and the steps that turn a decoded
// image into a model input tensor.
#include "optimize/dataset/image.h"

#include "common/file_util.h"
#include "common/json_writer.h"
#include "ir/tensor.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace ew::opt::data {

using ir::DataType;

namespace {

// ---------------------------------------------------------------- a strict JSON reader
// Enough JSON for the flat Preprocess object: one object whose values are numbers, strings,
// booleans, null or arrays of those. Everything else (nesting, trailing commas, comments,
// duplicate keys, bad escapes, trailing garbage) is an error with the byte offset.

struct JsonValue {
    enum class Kind { Null, Bool, Number, String, Array } kind = Kind::Null;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<JsonValue> items;
};

class FlatJsonReader {
public:
    explicit FlatJsonReader(const std::string& text) : m_s(text) {}

    Result<std::vector<std::pair<std::string, JsonValue>>> readObject() {
        std::vector<std::pair<std::string, JsonValue>> out;
        skipWs();
        if (!eat('{')) return error("expected '{'");
        skipWs();
        if (!eat('}')) {
            for (;;) {
                skipWs();
                EW_TRY_ASSIGN(std::string key, readString());
                for (const auto& kv : out)
                    if (kv.first == key) return error("duplicate key \"" + key + "\"");
                skipWs();
                if (!eat(':')) return error("expected ':' after key \"" + key + "\"");
                skipWs();
                EW_TRY_ASSIGN(JsonValue v, readValue(true));
                out.emplace_back(std::move(key), std::move(v));
                skipWs();
                if (eat(',')) continue;
                if (eat('}')) break;
                return error("expected ',' or '}'");
            }
        }
        skipWs();
        if (m_pos != m_s.size()) return error("unexpected text after the object");
        return out;
    }

private:
    std::unexpected<Status> error(const std::string& what) const {
        return fail(StatusCode::InvalidInput,
                    "preprocess JSON: " + what + " at offset " + std::to_string(m_pos));
    }
    void skipWs() {
        while (m_pos < m_s.size() && (m_s[m_pos] == ' ' || m_s[m_pos] == '\t' || m_s[m_pos] == '\n' ||
                                      m_s[m_pos] == '\r'))
            ++m_pos;
    }
    bool eat(char c) {
        if (m_pos < m_s.size() && m_s[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    bool eatWord(std::string_view w) {
        if (m_s.compare(m_pos, w.size(), w) == 0) {
            m_pos += w.size();
            return true;
        }
        return false;
    }

    Result<std::string> readString() {
        if (!eat('"')) return error("expected a string");
        std::string out;
        while (m_pos < m_s.size()) {
            const char c = m_s[m_pos++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) return error("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (m_pos >= m_s.size()) break;
            const char e = m_s[m_pos++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                if (m_pos + 4 > m_s.size()) return error("truncated \\u escape");
                unsigned cp = 0;
                for (int i = 0; i < 4; ++i) {
                    const char h = m_s[m_pos++];
                    cp <<= 4;
                    if (h >= '0' && h <= '9') cp |= unsigned(h - '0');
                    else if (h >= 'a' && h <= 'f') cp |= unsigned(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') cp |= unsigned(h - 'A' + 10);
                    else return error("bad \\u escape");
                }
                // Keys and values here are ASCII words; other code points are kept as UTF-8
                // (surrogate pairs are not combined: no preprocess value needs them).
                if (cp < 0x80) out += char(cp);
                else if (cp < 0x800) {
                    out += char(0xc0 | (cp >> 6));
                    out += char(0x80 | (cp & 0x3f));
                } else {
                    out += char(0xe0 | (cp >> 12));
                    out += char(0x80 | ((cp >> 6) & 0x3f));
                    out += char(0x80 | (cp & 0x3f));
                }
                break;
            }
            default: return error(std::string("bad escape \\") + e);
            }
        }
        return error("unterminated string");
    }

    Result<double> readNumber() {
        // JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const std::size_t start = m_pos;
        auto digits = [&] {
            std::size_t n = 0;
            while (m_pos < m_s.size() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9') ++m_pos, ++n;
            return n;
        };
        eat('-');
        if (eat('0')) {
        } else if (digits() == 0) return error("expected a value");
        if (eat('.') && digits() == 0) return error("expected digits after '.'");
        if (eat('e') || eat('E')) {
            if (!eat('+')) eat('-');
            if (digits() == 0) return error("expected an exponent");
        }
        double v = 0;
        auto [end, ec] = std::from_chars(m_s.data() + start, m_s.data() + m_pos, v);
        if (ec != std::errc() || end != m_s.data() + m_pos || !std::isfinite(v))
            return error("number out of range");
        return v;
    }

    Result<JsonValue> readValue(bool allowArray) {
        JsonValue v;
        if (m_pos >= m_s.size()) return error("expected a value");
        const char c = m_s[m_pos];
        if (c == '"') {
            v.kind = JsonValue::Kind::String;
            EW_TRY_ASSIGN(v.str, readString());
        } else if (c == '[') {
            if (!allowArray) return error("nested arrays are not expected here");
            ++m_pos;
            v.kind = JsonValue::Kind::Array;
            skipWs();
            if (!eat(']')) {
                for (;;) {
                    skipWs();
                    EW_TRY_ASSIGN(JsonValue item, readValue(false));
                    v.items.push_back(std::move(item));
                    skipWs();
                    if (eat(',')) continue;
                    if (eat(']')) break;
                    return error("expected ',' or ']'");
                }
            }
        } else if (c == '{') {
            return error("nested objects are not expected here");
        } else if (eatWord("true")) {
            v.kind = JsonValue::Kind::Bool;
            v.b = true;
        } else if (eatWord("false")) {
            v.kind = JsonValue::Kind::Bool;
        } else if (eatWord("null")) {
            v.kind = JsonValue::Kind::Null;
        } else {
            v.kind = JsonValue::Kind::Number;
            EW_TRY_ASSIGN(v.num, readNumber());
        }
        return v;
    }

    const std::string& m_s;
    std::size_t m_pos = 0;
};

const char* channelsName(Preprocess::Channels c) {
    switch (c) {
    case Preprocess::Channels::RGB: return "RGB";
    case Preprocess::Channels::BGR: return "BGR";
    case Preprocess::Channels::Gray: return "Gray";
    }
    return "RGB";
}

std::unexpected<Status> badKey(const std::string& key, const std::string& what) {
    return fail(StatusCode::InvalidInput, "preprocess JSON: \"" + key + "\" " + what);
}

Result<int> intField(const std::string& key, const JsonValue& v, int maxValue) {
    if (v.kind != JsonValue::Kind::Number || v.num != std::floor(v.num) || v.num < 0 || v.num > maxValue)
        return badKey(key, "must be an integer from 0 to " + std::to_string(maxValue));
    return int(v.num);
}

Result<float> floatField(const std::string& key, const JsonValue& v) {
    if (v.kind != JsonValue::Kind::Number) return badKey(key, "must be a number");
    const float f = float(v.num);
    if (!std::isfinite(f)) return badKey(key, "is out of float range");
    return f;
}

Result<std::array<float, 3>> tripleField(const std::string& key, const JsonValue& v) {
    // A single number applies to every channel (gray models give one statistic).
    if (v.kind == JsonValue::Kind::Number) {
        EW_TRY_ASSIGN(float f, floatField(key, v));
        return std::array<float, 3>{f, f, f};
    }
    if (v.kind != JsonValue::Kind::Array || (v.items.size() != 3 && v.items.size() != 1))
        return badKey(key, "must be a number or an array of 1 or 3 numbers");
    std::array<float, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) {
        EW_TRY_ASSIGN(out[i], floatField(key, v.items[v.items.size() == 1 ? 0 : i]));
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------- Preprocess

std::string Preprocess::toJson() const {
    JsonWriter w;
    w.beginObject();
    w.key("resize_height").value(resizeHeight);
    w.key("resize_width").value(resizeWidth);
    w.key("resize_shorter_side").value(resizeShorterSide);
    w.key("crop_height").value(cropHeight);
    w.key("crop_width").value(cropWidth);
    w.key("channels").value(channelsName(channels));
    w.key("scale").value(double(scale));
    w.key("mean").beginArray(true);
    for (float m : mean) w.value(double(m));
    w.endArray();
    w.key("std").beginArray(true);
    for (float s : std) w.value(double(s));
    w.endArray();
    w.key("layout").value(layout == Layout::NCHW ? "NCHW" : "NHWC");
    w.endObject();
    return w.str();
}

Result<Preprocess> Preprocess::fromJson(const std::string& json) {
    FlatJsonReader reader(json);
    EW_TRY_ASSIGN(auto fields, reader.readObject());
    Preprocess p;
    // An optional "preset" key starts from a preset; the other keys override it.
    for (const auto& [key, v] : fields) {
        if (key != "preset") continue;
        if (v.kind != JsonValue::Kind::String) return badKey(key, "must be a string");
        auto base = preset(v.str);
        if (!base) {
            std::string names;
            for (const auto& n : presetNames()) names += (names.empty() ? "" : ", ") + n;
            return badKey(key, "names no preset (known: " + names + ")");
        }
        p = *base;
    }
    for (const auto& [key, v] : fields) {
        if (key == "preset") continue;
        if (key == "resize_height") {
            EW_TRY_ASSIGN(p.resizeHeight, intField(key, v, kMaxImageSide));
        } else if (key == "resize_width") {
            EW_TRY_ASSIGN(p.resizeWidth, intField(key, v, kMaxImageSide));
        } else if (key == "resize_shorter_side") {
            if (v.kind != JsonValue::Kind::Bool) return badKey(key, "must be true or false");
            p.resizeShorterSide = v.b;
        } else if (key == "crop_height") {
            EW_TRY_ASSIGN(p.cropHeight, intField(key, v, kMaxImageSide));
        } else if (key == "crop_width") {
            EW_TRY_ASSIGN(p.cropWidth, intField(key, v, kMaxImageSide));
        } else if (key == "channels") {
            if (v.kind != JsonValue::Kind::String) return badKey(key, "must be \"RGB\", \"BGR\" or \"Gray\"");
            std::string s = v.str;
            for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
            if (s == "rgb") p.channels = Channels::RGB;
            else if (s == "bgr") p.channels = Channels::BGR;
            else if (s == "gray" || s == "grey") p.channels = Channels::Gray;
            else return badKey(key, "must be \"RGB\", \"BGR\" or \"Gray\", not \"" + v.str + "\"");
        } else if (key == "scale") {
            EW_TRY_ASSIGN(p.scale, floatField(key, v));
        } else if (key == "mean") {
            EW_TRY_ASSIGN(p.mean, tripleField(key, v));
        } else if (key == "std") {
            EW_TRY_ASSIGN(p.std, tripleField(key, v));
            for (float s : p.std)
                if (s == 0) return badKey(key, "must not contain 0");
        } else if (key == "layout") {
            if (v.kind != JsonValue::Kind::String || (v.str != "NCHW" && v.str != "NHWC"))
                return badKey(key, "must be \"NCHW\" or \"NHWC\"");
            p.layout = v.str == "NCHW" ? Layout::NCHW : Layout::NHWC;
        } else {
            return fail(StatusCode::InvalidInput,
                        "preprocess JSON: unknown key \"" + key +
                            "\" (known: preset, resize_height, resize_width, resize_shorter_side, "
                            "crop_height, crop_width, channels, scale, mean, std, layout)");
        }
    }
    if (p.resizeShorterSide && p.resizeHeight == 0)
        return fail(StatusCode::InvalidInput,
                    "preprocess JSON: resize_shorter_side needs resize_height (the shorter side's length)");
    if ((p.cropHeight == 0) != (p.cropWidth == 0))
        return fail(StatusCode::InvalidInput, "preprocess JSON: give both crop_height and crop_width, or neither");
    if (!p.resizeShorterSide && (p.resizeHeight == 0) != (p.resizeWidth == 0))
        return fail(StatusCode::InvalidInput,
                    "preprocess JSON: give both resize_height and resize_width, or neither");
    return p;
}

Result<Preprocess> Preprocess::load(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(Status{StatusCode::NotFound, "no such preprocess file", path, {}});
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (!f && !f.eof()) return fail(Status{StatusCode::IoError, "cannot read the preprocess file", path, {}});
    auto p = fromJson(ss.str());
    if (!p) return fail(std::move(p.error()).withFile(path));
    return p;
}

std::optional<Preprocess> Preprocess::preset(const std::string& name) {
    Preprocess p;
    if (name == "imagenet") {
        p.scale = 1.0f / 255.0f;
        p.mean = {0.485f, 0.456f, 0.406f};
        p.std = {0.229f, 0.224f, 0.225f};
    } else if (name == "minus1to1") {
        // (x - 127.5) / 127.5 with scale 1 keeps the arithmetic exact at 0, 127.5 and 255.
        p.scale = 1.0f;
        p.mean = {127.5f, 127.5f, 127.5f};
        p.std = {127.5f, 127.5f, 127.5f};
    } else if (name == "zero1") {
        p.scale = 1.0f / 255.0f;
    } else if (name == "raw") {
        p.scale = 1.0f;
    } else {
        return std::nullopt;
    }
    return p;
}

std::vector<std::string> Preprocess::presetNames() { return {"imagenet", "minus1to1", "zero1", "raw"}; }

std::string describePreprocess(const Preprocess& pp) {
    auto num = [](float v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", double(v));
        return std::string(buf);
    };
    auto triple = [&](const std::array<float, 3>& a) {
        return "[" + num(a[0]) + "," + num(a[1]) + "," + num(a[2]) + "]";
    };
    std::string s = channelsName(pp.channels);
    if (pp.resizeShorterSide) s += ", resize shorter side " + std::to_string(pp.resizeHeight);
    else if (pp.resizeHeight > 0) s += ", resize " + std::to_string(pp.resizeHeight) + "x" + std::to_string(pp.resizeWidth);
    else if (pp.cropHeight == 0) s += ", resize to the input size";
    if (pp.cropHeight > 0) s += ", crop " + std::to_string(pp.cropHeight) + "x" + std::to_string(pp.cropWidth);
    s += ", scale " + num(pp.scale) + ", mean " + triple(pp.mean) + ", std " + triple(pp.std);
    s += pp.layout == Preprocess::Layout::NCHW ? ", NCHW" : ", NHWC";
    return s;
}

// ---------------------------------------------------------------- input shapes

namespace {

int64_t knownDim(const ir::Shape& s, std::size_t i) {
    return s.dims[i].isKnown() ? s.dims[i].value : 0;
}

bool imageDtype(DataType t) {
    return t == DataType::Float || t == DataType::Float16 || t == DataType::UInt8 || t == DataType::Int8;
}

} // namespace

bool isImageInput(const rt::TensorInfo& input) {
    if (!input.shape || input.shape->rank() != 4 || !imageDtype(input.dtype)) return false;
    const int64_t c1 = knownDim(*input.shape, 1), c3 = knownDim(*input.shape, 3);
    return c1 == 1 || c1 == 3 || c3 == 1 || c3 == 3;
}

Result<ImageInputShape> imageInputShape(const rt::TensorInfo& input, Preprocess::Layout layout) {
    if (!input.shape || input.shape->rank() != 4)
        return fail(StatusCode::InvalidInput,
                    "input '" + input.name + "' (" + input.toString() + ") is not a 4-D image input");
    if (!imageDtype(input.dtype))
        return fail(StatusCode::InvalidInput, "input '" + input.name + "' is " +
                                                  std::string(ir::dataTypeName(input.dtype)) +
                                                  "; images feed float32, float16, uint8 or int8 inputs");
    const ir::Shape& s = *input.shape;
    const int64_t batch = knownDim(s, 0);
    if (batch > 1)
        return fail(StatusCode::InvalidInput, "input '" + input.name + "' (" + input.toString() +
                                                  ") has a fixed batch of " + std::to_string(batch) +
                                                  "; images give one per sample (batch 1)");
    ImageInputShape r;
    r.layout = layout;
    const bool nchw = layout == Preprocess::Layout::NCHW;
    const int64_t c = knownDim(s, nchw ? 1 : 3);
    const int64_t h = knownDim(s, nchw ? 2 : 1);
    const int64_t w = knownDim(s, nchw ? 3 : 2);
    if (c != 1 && c != 3)
        return fail(StatusCode::InvalidInput,
                    "input '" + input.name + "' (" + input.toString() + ") has no 1 or 3 channels at the " +
                        (nchw ? "NCHW" : "NHWC") + " channel position; check the preprocess layout");
    if (h > kMaxImageSide || w > kMaxImageSide)
        return fail(StatusCode::InvalidInput, "input '" + input.name + "' is larger than the image limit");
    r.channels = int(c);
    r.height = int(h);
    r.width = int(w);
    return r;
}

Preprocess guessPreprocess(const rt::TensorInfo& input) {
    Preprocess p; // zero1, NCHW, RGB
    if (!input.shape || input.shape->rank() != 4) return p;
    const ir::Shape& s = *input.shape;
    const int64_t c1 = knownDim(s, 1), c3 = knownDim(s, 3);
    p.layout = (c1 == 1 || c1 == 3) || !(c3 == 1 || c3 == 3) ? Preprocess::Layout::NCHW
                                                              : Preprocess::Layout::NHWC;
    const bool nchw = p.layout == Preprocess::Layout::NCHW;
    const int64_t c = nchw ? c1 : c3;
    const int64_t h = knownDim(s, nchw ? 2 : 1), w = knownDim(s, nchw ? 3 : 2);
    if (c == 1) {
        p.channels = Preprocess::Channels::Gray;
        return p;
    }
    // 3-channel inputs around ImageNet's 224 are almost always ImageNet-trained: normalise with
    // its statistics and resize/crop the torchvision way (shorter side to 256/224 of the input).
    if (c == 3 && h >= 160 && h <= 336 && w >= 160 && w <= 336) {
        p = *Preprocess::preset("imagenet");
        p.layout = nchw ? Preprocess::Layout::NCHW : Preprocess::Layout::NHWC;
        p.resizeShorterSide = true;
        p.resizeHeight = int(std::lround(double(std::min(h, w)) * 256.0 / 224.0));
        p.cropHeight = int(h);
        p.cropWidth = int(w);
    }
    return p;
}

// ---------------------------------------------------------------- image steps

Image convertChannels(const Image& img, Preprocess::Channels channels) {
    Image out;
    out.width = img.width;
    out.height = img.height;
    const std::size_t n = std::size_t(img.width) * img.height;
    if (channels == Preprocess::Channels::Gray) {
        out.channels = 1;
        if (img.channels == 1) {
            out.pixels = img.pixels;
            return out;
        }
        out.pixels.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const uint8_t* p = &img.pixels[3 * i];
            // Integer form of 0.299 R + 0.587 G + 0.114 B, rounded (PIL's convert("L")).
            out.pixels[i] = uint8_t((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        }
        return out;
    }
    out.channels = 3;
    out.pixels.resize(n * 3);
    const bool bgr = channels == Preprocess::Channels::BGR;
    for (std::size_t i = 0; i < n; ++i) {
        uint8_t r, g, b;
        if (img.channels == 1) r = g = b = img.pixels[i];
        else r = img.pixels[3 * i], g = img.pixels[3 * i + 1], b = img.pixels[3 * i + 2];
        out.pixels[3 * i] = bgr ? b : r;
        out.pixels[3 * i + 1] = g;
        out.pixels[3 * i + 2] = bgr ? r : b;
    }
    return out;
}

namespace {

/// One axis of the PIL resampling: for every output index the first source index and the
/// normalised triangle-filter weights.
struct AxisWeights {
    std::vector<int> first;
    std::vector<int> count;
    std::vector<float> weights; ///< `maxTaps` per output index
    int maxTaps = 0;
};

AxisWeights axisWeights(int inSize, int outSize) {
    AxisWeights a;
    const double scale = double(inSize) / outSize;
    const double filterScale = std::max(scale, 1.0);
    const double support = filterScale; // triangle filter support 1, widened when downscaling
    a.maxTaps = int(std::ceil(support)) * 2 + 1;
    a.first.resize(outSize);
    a.count.resize(outSize);
    a.weights.assign(std::size_t(outSize) * a.maxTaps, 0.0f);
    for (int i = 0; i < outSize; ++i) {
        const double center = (i + 0.5) * scale;
        int lo = int(center - support + 0.5);
        if (lo < 0) lo = 0;
        int hi = int(center + support + 0.5);
        if (hi > inSize) hi = inSize;
        double total = 0;
        std::vector<double> w(std::size_t(std::max(hi - lo, 0)));
        for (int j = lo; j < hi; ++j) {
            const double x = std::abs((j - center + 0.5) / filterScale);
            const double t = x < 1.0 ? 1.0 - x : 0.0;
            w[std::size_t(j - lo)] = t;
            total += t;
        }
        a.first[i] = lo;
        a.count[i] = std::min(hi - lo, a.maxTaps);
        for (int k = 0; k < a.count[i]; ++k)
            a.weights[std::size_t(i) * a.maxTaps + k] = float(total > 0 ? w[std::size_t(k)] / total : 0.0);
    }
    return a;
}

} // namespace

FloatImage resizeBilinear(const Image& img, int height, int width) {
    FloatImage out;
    out.width = width;
    out.height = height;
    out.channels = img.channels;
    const int C = img.channels;
    if (height == img.height && width == img.width) {
        out.pixels.assign(img.pixels.begin(), img.pixels.end());
        return out;
    }
    // Horizontal pass into an [inH, outW] float buffer, then the vertical pass: the intermediate
    // never holds the full-resolution image in float.
    const AxisWeights ax = axisWeights(img.width, width);
    const AxisWeights ay = axisWeights(img.height, height);
    std::vector<float> tmp(std::size_t(img.height) * width * C);
    for (int y = 0; y < img.height; ++y) {
        const uint8_t* row = &img.pixels[std::size_t(y) * img.width * C];
        float* o = &tmp[std::size_t(y) * width * C];
        for (int x = 0; x < width; ++x) {
            const float* w = &ax.weights[std::size_t(x) * ax.maxTaps];
            for (int c = 0; c < C; ++c) {
                float acc = 0;
                for (int k = 0; k < ax.count[x]; ++k) acc += w[k] * row[(ax.first[x] + k) * C + c];
                o[x * C + c] = acc;
            }
        }
    }
    out.pixels.assign(std::size_t(height) * width * C, 0.0f);
    for (int y = 0; y < height; ++y) {
        const float* w = &ay.weights[std::size_t(y) * ay.maxTaps];
        float* o = &out.pixels[std::size_t(y) * width * C];
        for (int k = 0; k < ay.count[y]; ++k) {
            const float* src = &tmp[std::size_t(ay.first[y] + k) * width * C];
            for (int i = 0; i < width * C; ++i) o[i] += w[k] * src[i];
        }
    }
    return out;
}

Result<FloatImage> centerCrop(const FloatImage& img, int height, int width, const std::string& source) {
    if (height > img.height || width > img.width)
        return fail(Status{StatusCode::InvalidInput,
                           "cannot crop " + std::to_string(height) + "x" + std::to_string(width) + " out of a " +
                               std::to_string(img.height) + "x" + std::to_string(img.width) +
                               " image (after resize)",
                           source,
                           {}});
    FloatImage out;
    out.width = width;
    out.height = height;
    out.channels = img.channels;
    out.pixels.resize(std::size_t(height) * width * img.channels);
    const int top = (img.height - height) / 2, left = (img.width - width) / 2;
    for (int y = 0; y < height; ++y)
        std::memcpy(&out.pixels[std::size_t(y) * width * img.channels],
                    &img.pixels[(std::size_t(top + y) * img.width + left) * img.channels],
                    std::size_t(width) * img.channels * sizeof(float));
    return out;
}

Result<rt::Tensor> imageToTensor(const Image& img, const Preprocess& pp, const rt::TensorInfo& input,
                                 const std::string& source) {
    auto shape = imageInputShape(input, pp.layout);
    if (!shape) return fail(std::move(shape.error()).withFile(source));
    // The input's channel count wins: a 1-channel input always takes luma, and `channels` picks
    // the order of a 3-channel input (Gray there means luma replicated into all three).
    Image conv;
    if (shape->channels == 1) {
        conv = convertChannels(img, Preprocess::Channels::Gray);
    } else if (pp.channels == Preprocess::Channels::Gray) {
        conv = convertChannels(convertChannels(img, Preprocess::Channels::Gray), Preprocess::Channels::RGB);
    } else {
        conv = convertChannels(img, pp.channels);
    }

    // Resize target: the shorter side, an explicit size, or (no resize and no crop given) the
    // model's own H/W. With a crop and no resize, the crop comes from the original.
    int rh = conv.height, rw = conv.width;
    if (pp.resizeShorterSide) {
        const int s = pp.resizeHeight;
        if (conv.height <= conv.width) {
            rh = s;
            rw = int(std::lround(double(conv.width) * s / conv.height));
        } else {
            rw = s;
            rh = int(std::lround(double(conv.height) * s / conv.width));
        }
    } else if (pp.resizeHeight > 0 && pp.resizeWidth > 0) {
        rh = pp.resizeHeight;
        rw = pp.resizeWidth;
    } else if (pp.cropHeight == 0 && shape->height > 0 && shape->width > 0) {
        rh = shape->height;
        rw = shape->width;
    }
    rh = std::max(rh, 1);
    rw = std::max(rw, 1);
    if (rh > kMaxImageSide || rw > kMaxImageSide || int64_t(rh) * rw > kMaxImagePixels)
        return fail(Status{StatusCode::InvalidInput, "resize target is too large", source, {}});
    FloatImage f = resizeBilinear(conv, rh, rw);
    if (pp.cropHeight > 0 && pp.cropWidth > 0) {
        EW_TRY_ASSIGN(f, centerCrop(f, pp.cropHeight, pp.cropWidth, source));
    }
    if ((shape->height > 0 && f.height != shape->height) || (shape->width > 0 && f.width != shape->width))
        return fail(Status{StatusCode::InvalidInput,
                           "preprocessing gives a " + std::to_string(f.height) + "x" + std::to_string(f.width) +
                               " image but input '" + input.name + "' (" + input.toString() + ") takes " +
                               std::to_string(shape->height) + "x" + std::to_string(shape->width),
                           source,
                           {}});

    const int H = f.height, W = f.width, C = f.channels;
    const bool nchw = pp.layout == Preprocess::Layout::NCHW;
    std::vector<int64_t> dims = nchw ? std::vector<int64_t>{1, C, H, W} : std::vector<int64_t>{1, H, W, C};
    rt::Tensor t = rt::Tensor::allocate(input.dtype, dims);
    auto index = [&](int y, int x, int c) -> std::size_t {
        return nchw ? (std::size_t(c) * H + y) * W + x : (std::size_t(y) * W + x) * C + c;
    };
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
            for (int c = 0; c < C; ++c) {
                const float v = f.at(y, x, c);
                const std::size_t i = index(y, x, c);
                switch (input.dtype) {
                case DataType::UInt8:
                    t.data<uint8_t>()[i] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
                    break;
                case DataType::Int8:
                    t.data<int8_t>()[i] = int8_t(std::clamp(std::lround(v), 0L, 255L) - 128);
                    break;
                default: {
                    const float n = (v * pp.scale - pp.mean[std::size_t(c)]) / pp.std[std::size_t(c)];
                    if (input.dtype == DataType::Float16) t.data<uint16_t>()[i] = ir::floatToHalf(n);
                    else t.data<float>()[i] = n;
                }
                }
            }
    return t;
}

} // namespace ew::opt::data
