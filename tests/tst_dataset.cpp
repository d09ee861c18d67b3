// The dataset module (core/optimize/dataset): image decoding (hand-made BMP and PNG files with
// known pixels, the real JPEG and BMP test images), hostile images, every preprocessing step with
// exact values, the preprocess JSON, and each source kind (random, image folders with class
// subfolders, .npy batches, TensorProto files, test_data_set folders, labels files), plus a
// streaming check: heap in use stays flat over 10,000 random samples and 2,000 .npy files.
#include "test_util.h"

#include "common/file_util.h"
#include "ir/npy.h"
#include "ir/onnx/onnx_export.h"
#include "ir/onnx/onnx_import.h"
#include "optimize/dataset/dataset.h"
#include "optimize/dataset/image.h"

#include <QTemporaryDir>

#include <malloc.h>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace ew;
using namespace ew::opt::data;
using ew::ir::DataType;

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint32_t v) {
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
}
void put32(Bytes& b, uint32_t v) {
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}
void putBE32(Bytes& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

bool writeBytes(const QString& path, const Bytes& b) {
    std::ofstream f(path.toStdString(), std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    return bool(f);
}

std::span<const std::byte> span(const Bytes& b) { return {reinterpret_cast<const std::byte*>(b.data()), b.size()}; }

/// A BMP with a 40-byte header (or a 12-byte core header). `rgb` is top-to-bottom RGB.
Bytes makeBmp(int w, int h, const Bytes& rgb, int bpp, bool topDown, bool bitfields = false, bool coreHeader = false,
              const std::vector<std::array<uint8_t, 3>>& palette = {}, const Bytes& indices = {}) {
    const uint32_t stride = ((uint32_t(bpp) * w + 31) / 32) * 4;
    const uint32_t header = coreHeader ? 12 : 40;
    const uint32_t masks = bitfields ? 12 : 0;
    const uint32_t pal = uint32_t(palette.size()) * (coreHeader ? 3 : 4);
    const uint32_t offset = 14 + header + masks + pal;
    Bytes b = {'B', 'M'};
    put32(b, offset + stride * h);
    put32(b, 0);
    put32(b, offset);
    put32(b, header);
    if (coreHeader) {
        put16(b, uint32_t(w));
        put16(b, uint32_t(h));
        put16(b, 1);
        put16(b, uint32_t(bpp));
    } else {
        put32(b, uint32_t(w));
        put32(b, uint32_t(topDown ? -h : h));
        put16(b, 1);
        put16(b, uint32_t(bpp));
        put32(b, bitfields ? 3 : 0);
        put32(b, stride * h);
        put32(b, 2835);
        put32(b, 2835);
        put32(b, uint32_t(palette.size()));
        put32(b, 0);
    }
    if (bitfields) { // R in the high byte, then G, then B in bits 8..15 (an unusual order on purpose)
        put32(b, 0xff000000u);
        put32(b, 0x00ff0000u);
        put32(b, 0x0000ff00u);
    }
    for (const auto& c : palette) {
        b.push_back(c[2]);
        b.push_back(c[1]);
        b.push_back(c[0]);
        if (!coreHeader) b.push_back(0);
    }
    for (int row = 0; row < h; ++row) {
        const int y = topDown ? row : h - 1 - row;
        Bytes line;
        for (int x = 0; x < w; ++x) {
            const uint8_t* p = &rgb[(std::size_t(y) * w + x) * 3];
            if (bpp == 8) line.push_back(indices[std::size_t(y) * w + x]);
            else if (bpp == 24) line.insert(line.end(), {p[2], p[1], p[0]});
            else if (bitfields) line.insert(line.end(), {0, p[2], p[1], p[0]});
            else line.insert(line.end(), {p[2], p[1], p[0], 0x7f});
        }
        line.resize(stride, 0);
        b.insert(b.end(), line.begin(), line.end());
    }
    return b;
}

uint32_t crc32(const uint8_t* p, std::size_t n, uint32_t crc = 0) {
    crc = ~crc;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

void pngChunk(Bytes& b, const char* type, const Bytes& data) {
    putBE32(b, uint32_t(data.size()));
    Bytes td(type, type + 4);
    td.insert(td.end(), data.begin(), data.end());
    b.insert(b.end(), td.begin(), td.end());
    putBE32(b, crc32(td.data(), td.size()));
}

/// An 8-bit PNG (colour type 0 gray, 2 RGB, 6 RGBA) with stored (uncompressed) deflate blocks:
/// an encoder independent of the decoder under test.
Bytes makePng(int w, int h, int colorType, const Bytes& pixels, int64_t fakeW = 0, int64_t fakeH = 0,
              int bitDepth = 8) {
    const int ch = (colorType == 0 ? 1 : colorType == 2 ? 3 : 4) * bitDepth / 8;
    Bytes raw;
    for (int y = 0; y < h; ++y) {
        raw.push_back(0); // filter: none
        raw.insert(raw.end(), pixels.begin() + std::ptrdiff_t(y) * w * ch, pixels.begin() + std::ptrdiff_t(y + 1) * w * ch);
    }
    Bytes z = {0x78, 0x01};
    std::size_t pos = 0;
    do {
        const std::size_t n = std::min<std::size_t>(raw.size() - pos, 65535);
        z.push_back(pos + n == raw.size() ? 1 : 0);
        put16(z, uint32_t(n));
        put16(z, uint32_t(~n & 0xffff));
        z.insert(z.end(), raw.begin() + std::ptrdiff_t(pos), raw.begin() + std::ptrdiff_t(pos + n));
        pos += n;
    } while (pos < raw.size());
    uint32_t a = 1, bsum = 0;
    for (uint8_t v : raw) {
        a = (a + v) % 65521;
        bsum = (bsum + a) % 65521;
    }
    putBE32(z, (bsum << 16) | a);
    Bytes png = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    Bytes ihdr;
    putBE32(ihdr, uint32_t(fakeW ? fakeW : w));
    putBE32(ihdr, uint32_t(fakeH ? fakeH : h));
    ihdr.insert(ihdr.end(), {uint8_t(bitDepth), uint8_t(colorType), 0, 0, 0});
    pngChunk(png, "IHDR", ihdr);
    pngChunk(png, "IDAT", z);
    pngChunk(png, "IEND", {});
    return png;
}

/// 3x2 RGB test image, top row then bottom row.
const Bytes kRgb = {10, 20, 30, 40, 50, 60, 70, 80, 90, 255, 0, 0, 0, 255, 0, 0, 0, 255};

rt::TensorInfo info(const std::string& name, DataType t, std::vector<ir::Dim> dims) {
    rt::TensorInfo i;
    i.name = name;
    i.dtype = t;
    i.shape = ir::Shape(std::move(dims));
    return i;
}
ir::Dim K(int64_t v) { return ir::Dim::known(v); }
ir::Dim S(const char* s) { return ir::Dim::symbolic(s); }

ir::Tensor floatTensor(std::vector<int64_t> dims, float start) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::vector<float> v(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[std::size_t(i)] = start + float(i);
    return ir::Tensor::fromVector("", DataType::Float, std::move(dims), std::move(v));
}

bool writePb(const QString& path, ir::Tensor t, const std::string& name) {
    t.name = name;
    auto bytes = onnxfmt::serializeTensorProto(t);
    if (!bytes) return false;
    return writeBytes(path, Bytes(bytes->begin(), bytes->end()));
}

std::vector<float> values(const rt::Tensor& t) {
    std::vector<float> v;
    for (int64_t i = 0; i < t.numElements(); ++i) v.push_back(float(t.doubleAt(i)));
    return v;
}

/// Heap bytes in use (malloc arenas plus mmapped chunks): operator new and the runtime's aligned
/// tensors both come from malloc.
std::size_t heapInUse() {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

} // namespace

class TestDataset : public QObject {
    Q_OBJECT
private slots:
    // ------------------------------------------------------------ decoding
    void bmpVariants_data() {
        QTest::addColumn<int>("bpp");
        QTest::addColumn<bool>("topDown");
        QTest::addColumn<bool>("bitfields");
        QTest::addColumn<bool>("core");
        QTest::newRow("24-bit bottom-up") << 24 << false << false << false;
        QTest::newRow("24-bit top-down") << 24 << true << false << false;
        QTest::newRow("32-bit BI_RGB") << 32 << false << false << false;
        QTest::newRow("32-bit BI_BITFIELDS") << 32 << true << true << false;
        QTest::newRow("24-bit core header") << 24 << false << false << true;
    }
    void bmpVariants() {
        QFETCH(int, bpp);
        QFETCH(bool, topDown);
        QFETCH(bool, bitfields);
        QFETCH(bool, core);
        const Bytes bmp = makeBmp(3, 2, kRgb, bpp, topDown, bitfields, core);
        auto img = decodeImage(span(bmp), "t.bmp");
        QVERIFY2(img, img ? "" : img.error().toString().c_str());
        QCOMPARE(img->width, 3);
        QCOMPARE(img->height, 2);
        QCOMPARE(img->channels, 3);
        QCOMPARE(img->pixels, kRgb);
    }

    void bmpPalette() {
        // Gray palette -> 1 channel; colour palette -> RGB.
        std::vector<std::array<uint8_t, 3>> gray;
        for (int i = 0; i < 256; ++i) gray.push_back({uint8_t(i), uint8_t(i), uint8_t(i)});
        const Bytes idx = {0, 64, 128, 200, 255, 7};
        auto g = decodeImage(span(makeBmp(3, 2, {}, 8, false, false, false, gray, idx)), "g.bmp");
        QVERIFY2(g, g ? "" : g.error().toString().c_str());
        QCOMPARE(g->channels, 1);
        QCOMPARE(g->pixels, idx);

        std::vector<std::array<uint8_t, 3>> pal = {{255, 0, 0}, {0, 255, 0}, {1, 2, 3}};
        const Bytes cidx = {2, 1, 0, 0, 1, 2};
        auto c = decodeImage(span(makeBmp(3, 2, {}, 8, true, false, false, pal, cidx)), "c.bmp");
        QVERIFY2(c, c ? "" : c.error().toString().c_str());
        QCOMPARE(c->channels, 3);
        QCOMPARE(c->pixels, (Bytes{1, 2, 3, 0, 255, 0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 1, 2, 3}));

        // An index beyond the palette is an error, not a read past it.
        const Bytes bad = {0, 1, 2, 3, 0, 0};
        auto e = decodeImage(span(makeBmp(3, 2, {}, 8, true, false, false, pal, bad)), "bad.bmp");
        QVERIFY(!e);
        QVERIFY(e.error().message.find("palette index 3") != std::string::npos);
        QCOMPARE(e.error().file, std::string("bad.bmp"));
    }

    void pngVariants() {
        auto rgb = decodeImage(span(makePng(3, 2, 2, kRgb)), "t.png");
        QVERIFY2(rgb, rgb ? "" : rgb.error().toString().c_str());
        QCOMPARE(rgb->channels, 3);
        QCOMPARE(rgb->pixels, kRgb);

        const Bytes grayPix = {0, 50, 100, 150, 200, 250};
        auto gray = decodeImage(span(makePng(3, 2, 0, grayPix)), "g.png");
        QVERIFY2(gray, gray ? "" : gray.error().toString().c_str());
        QCOMPARE(gray->channels, 1);
        QCOMPARE(gray->pixels, grayPix);

        // 16-bit samples without gamma chunks are taken as sRGB: value / 257, rounded (the
        // high byte, as PIL gives), not brightened as linear light.
        const Bytes gray16 = {0x00, 0x1f, 0x3e, 0x5d, 0x7c, 0x9b, 0xff, 0xff, 0x80, 0x80, 0x01, 0x00};
        auto g16 = decodeImage(span(makePng(3, 2, 0, gray16, 0, 0, 16)), "g16.png");
        QVERIFY2(g16, g16 ? "" : g16.error().toString().c_str());
        QCOMPARE(g16->pixels, (Bytes{0, 62, 124, 255, 128, 1}));

        Bytes rgba;
        for (std::size_t i = 0; i < 6; ++i) {
            rgba.insert(rgba.end(), kRgb.begin() + std::ptrdiff_t(3 * i), kRgb.begin() + std::ptrdiff_t(3 * i + 3));
            rgba.push_back(uint8_t(40 * i)); // alpha dropped, colours untouched
        }
        auto a = decodeImage(span(makePng(3, 2, 6, rgba)), "a.png");
        QVERIFY2(a, a ? "" : a.error().toString().c_str());
        QCOMPARE(a->channels, 3);
        QCOMPARE(a->pixels, kRgb);
    }

    void realImages() {
        EW_REQUIRE_MODELS();
        const QString dir = test::modelsDir();
        auto jpg = readImage(test::str(dir + "/tflite/tflite-support/burger.jpg"));
        QVERIFY2(jpg, jpg ? "" : jpg.error().toString().c_str());
        QCOMPARE(jpg->width, 480);
        QCOMPARE(jpg->height, 325);
        QCOMPARE(jpg->channels, 3);
        auto bmp = readImage(test::str(dir + "/tflite/tflite-micro/person.bmp"));
        QVERIFY2(bmp, bmp ? "" : bmp.error().toString().c_str());
        QCOMPARE(bmp->width, 96);
        QCOMPARE(bmp->height, 96);
        QCOMPARE(bmp->channels, 1);
        // A photo is not flat: the decoder produced real content.
        const auto [lo, hi] = std::minmax_element(jpg->pixels.begin(), jpg->pixels.end());
        QVERIFY(*hi - *lo > 100);
    }

    void hostileImages() {
        // Every truncation of valid files fails with the file named (never a crash or a read
        // past the end; ASan builds check the latter).
        const Bytes bmp = makeBmp(3, 2, kRgb, 24, false);
        for (std::size_t n = 0; n < bmp.size(); ++n) {
            Bytes cut(bmp.begin(), bmp.begin() + std::ptrdiff_t(n));
            auto r = decodeImage(span(cut), "cut.bmp");
            QVERIFY2(!r, qPrintable(QString("BMP cut at %1 decoded").arg(n)));
            QCOMPARE(r.error().file, std::string("cut.bmp"));
        }
        const Bytes png = makePng(3, 2, 2, kRgb);
        for (std::size_t n = 0; n + 12 < png.size(); ++n) { // the last 12 bytes are IEND
            Bytes cut(png.begin(), png.begin() + std::ptrdiff_t(n));
            auto r = decodeImage(span(cut), "cut.png");
            QVERIFY2(!r, qPrintable(QString("PNG cut at %1 decoded").arg(n)));
            QCOMPARE(r.error().file, std::string("cut.png"));
        }
        if (!test::modelsDir().isEmpty()) {
            std::ifstream f(test::str(test::modelsDir() + "/tflite/tflite-support/burger.jpg"), std::ios::binary);
            const Bytes jpg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            QVERIFY(jpg.size() > 1000);
            for (std::size_t n : {std::size_t(0), std::size_t(3), std::size_t(100), std::size_t(600), jpg.size() / 2,
                                  jpg.size() - 10}) {
                Bytes cut(jpg.begin(), jpg.begin() + std::ptrdiff_t(n));
                auto r = decodeImage(span(cut), "cut.jpg");
                QVERIFY2(!r, qPrintable(QString("JPEG cut at %1 decoded").arg(n)));
                QCOMPARE(r.error().file, std::string("cut.jpg"));
            }
            // Bogus dimensions in the SOF0 marker: zero height and 60000 wide.
            Bytes bogus = jpg;
            for (std::size_t i = 2; i + 9 < bogus.size(); ++i)
                if (bogus[i] == 0xff && bogus[i + 1] == 0xc0) {
                    bogus[i + 5] = 0, bogus[i + 6] = 0;       // height 0
                    bogus[i + 7] = 0xea, bogus[i + 8] = 0x60; // width 60000
                    break;
                }
            auto r = decodeImage(span(bogus), "bogus.jpg");
            QVERIFY(!r);
            QCOMPARE(r.error().file, std::string("bogus.jpg"));
        }
        // Oversized and nonsensical headers are refused before anything is allocated.
        auto huge = decodeImage(span(makePng(3, 2, 2, kRgb, 100000, 100000)), "huge.png");
        QVERIFY(!huge);
        QCOMPARE(huge.error().file, std::string("huge.png"));
        Bytes bigBmp = makeBmp(3, 2, kRgb, 24, false);
        bigBmp[18] = 0xff, bigBmp[19] = 0xff, bigBmp[20] = 0xff, bigBmp[21] = 0x00; // width 16M
        auto big = decodeImage(span(bigBmp), "big.bmp");
        QVERIFY(!big);
        QVERIFY2(big.error().message.find("too large") != std::string::npos, big.error().message.c_str());
        Bytes negBmp = makeBmp(3, 2, kRgb, 24, false);
        negBmp[21] = 0x80; // negative width
        QVERIFY(!decodeImage(span(negBmp), "neg.bmp"));
        Bytes bpp16 = makeBmp(3, 2, kRgb, 24, false);
        bpp16[28] = 16;
        auto e16 = decodeImage(span(bpp16), "16.bmp");
        QVERIFY(!e16);
        QVERIFY(e16.error().message.find("16 bits") != std::string::npos);
        Bytes garbage(100, 0x42);
        QVERIFY(!decodeImage(span(garbage), "garbage.png"));
        QVERIFY(!decodeImage(span(Bytes{}), "empty.png"));
        // Seeded byte mutations of valid files: any outcome but a crash (or, under ASan, a bad
        // read) is fine; a decoded image must keep its invariant.
        std::vector<Bytes> seeds = {makeBmp(3, 2, kRgb, 24, false), makeBmp(3, 2, kRgb, 32, true, true),
                                    makePng(3, 2, 6, Bytes(24, 9))};
        if (!test::modelsDir().isEmpty()) {
            std::ifstream f(test::str(test::modelsDir() + "/tflite/tflite-micro/person.bmp"), std::ios::binary);
            seeds.emplace_back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            std::ifstream j(test::str(test::modelsDir() + "/tflite/tflite-support/burger.jpg"), std::ios::binary);
            seeds.emplace_back((std::istreambuf_iterator<char>(j)), std::istreambuf_iterator<char>());
        }
        uint32_t rng = 12345;
        auto rnd = [&] {
            rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
            return rng;
        };
        for (const Bytes& seed : seeds) {
            for (int iter = 0; iter < 300; ++iter) {
                Bytes m = seed;
                const int flips = 1 + int(rnd() % 4);
                for (int k = 0; k < flips; ++k) {
                    // Mostly the header, where the dimensions and offsets live.
                    const std::size_t limit = (rnd() % 4) ? std::min<std::size_t>(m.size(), 64) : m.size();
                    m[rnd() % limit] = uint8_t(rnd());
                }
                auto r = decodeImage(span(m), "fuzz");
                if (r) QCOMPARE(r->pixels.size(), std::size_t(r->width) * r->height * r->channels);
                else QCOMPARE(r.error().file, std::string("fuzz"));
            }
        }
        auto missing = readImage("/nonexistent/x.png");
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, StatusCode::NotFound);
    }

    // ------------------------------------------------------------ preprocessing steps
    void channelConversion() {
        Image img{3, 2, 3, kRgb};
        Image g = convertChannels(img, Preprocess::Channels::Gray);
        QCOMPARE(g.channels, 1);
        // 0.299 R + 0.587 G + 0.114 B rounded: (10,20,30) -> 18.15 -> 18; red -> 76; green -> 150;
        // blue -> 29.
        QCOMPARE(g.pixels, (Bytes{18, 48, 78, 76, 150, 29}));
        Image bgr = convertChannels(img, Preprocess::Channels::BGR);
        QCOMPARE(bgr.pixels[0], uint8_t(30));
        QCOMPARE(bgr.pixels[2], uint8_t(10));
        QCOMPARE(bgr.pixels[9], uint8_t(0));
        QCOMPARE(bgr.pixels[11], uint8_t(255));
        Image fromGray = convertChannels(Image{1, 1, 1, {77}}, Preprocess::Channels::RGB);
        QCOMPARE(fromGray.pixels, (Bytes{77, 77, 77}));
    }

    void resizeExact() {
        // Upscaling is half-pixel bilinear with clamped edges: [0,100] -> [0,25,75,100].
        Image row{2, 1, 1, {0, 100}};
        FloatImage up = resizeBilinear(row, 1, 4);
        QCOMPARE(up.pixels, (std::vector<float>{0, 25, 75, 100}));
        // Downscaling by 2 widens the triangle filter (antialiasing): weights .75 .75 .25 over
        // pixels 0..2 for the first output, .25 .75 .75 over 1..3 for the second.
        Image four{4, 1, 1, {0, 100, 200, 40}};
        FloatImage down = resizeBilinear(four, 1, 2);
        QCOMPARE(down.pixels.size(), std::size_t(2));
        QVERIFY(std::abs(down.pixels[0] - 125.0f / 1.75f) < 1e-4f);
        QVERIFY(std::abs(down.pixels[1] - 205.0f / 1.75f) < 1e-4f);
        // Vertical axis and channels behave the same; the same size is an exact copy.
        Image col{1, 2, 3, {0, 10, 20, 100, 110, 120}};
        FloatImage tall = resizeBilinear(col, 4, 1);
        QCOMPARE(tall.pixels, (std::vector<float>{0, 10, 20, 25, 35, 45, 75, 85, 95, 100, 110, 120}));
        FloatImage same = resizeBilinear(Image{3, 2, 3, kRgb}, 2, 3);
        QCOMPARE(same.pixels, std::vector<float>(kRgb.begin(), kRgb.end()));
    }

    void cropExact() {
        FloatImage img{4, 4, 1, {}};
        for (int i = 0; i < 16; ++i) img.pixels.push_back(float(i));
        auto c = centerCrop(img, 2, 2, "x");
        QVERIFY(c);
        QCOMPARE(c->pixels, (std::vector<float>{5, 6, 9, 10}));
        auto odd = centerCrop(img, 1, 3, "x"); // offsets floor(3/2) = 1 and floor(1/2) = 0
        QVERIFY(odd);
        QCOMPARE(odd->pixels, (std::vector<float>{4, 5, 6}));
        auto tooBig = centerCrop(img, 5, 2, "big.png");
        QVERIFY(!tooBig);
        QCOMPARE(tooBig.error().file, std::string("big.png"));
    }

    void imageToTensorExact() {
        const Image img{3, 2, 3, kRgb};
        Preprocess pp; // RGB, scale 1/255, NCHW, resize to the input's size (the same here)
        pp.mean = {0.5f, 0.25f, 0.0f};
        pp.std = {0.5f, 2.0f, 1.0f};
        auto t = imageToTensor(img, pp, info("x", DataType::Float, {S("N"), K(3), K(2), K(3)}), "t.bmp");
        QVERIFY2(t, t ? "" : t.error().toString().c_str());
        QCOMPARE(t->dims(), (std::vector<int64_t>{1, 3, 2, 3}));
        auto f = [&](float v, int c) { return (v * (1.0f / 255.0f) - pp.mean[c]) / pp.std[c]; };
        const std::vector<float> got = values(*t);
        // NCHW: channel R plane first: pixels 10,40,70,255,0,0.
        const float rPlane[6] = {10, 40, 70, 255, 0, 0};
        for (int i = 0; i < 6; ++i) QCOMPARE(got[std::size_t(i)], f(rPlane[i], 0));
        QCOMPARE(got[6], f(20, 1));
        QCOMPARE(got[12 + 5], f(255, 2));

        // NHWC + BGR: the first pixel is (30, 20, 10) with mean/std in output order.
        Preprocess nhwc = pp;
        nhwc.layout = Preprocess::Layout::NHWC;
        nhwc.channels = Preprocess::Channels::BGR;
        auto u = imageToTensor(img, nhwc, info("x", DataType::Float, {K(1), K(2), K(3), K(3)}), "t.bmp");
        QVERIFY2(u, u ? "" : u.error().toString().c_str());
        QCOMPARE(u->dims(), (std::vector<int64_t>{1, 2, 3, 3}));
        const std::vector<float> h = values(*u);
        QCOMPARE(h[0], f(30, 0));
        QCOMPARE(h[1], f(20, 1));
        QCOMPARE(h[2], f(10, 2));

        // uint8 and int8 inputs take raw pixels (no scale, mean or std).
        auto q = imageToTensor(img, pp, info("x", DataType::UInt8, {K(1), K(3), K(2), K(3)}), "t.bmp");
        QVERIFY(q);
        QCOMPARE(q->data<uint8_t>()[3], uint8_t(255));
        QCOMPARE(q->data<uint8_t>()[0], uint8_t(10));
        auto s8 = imageToTensor(img, pp, info("x", DataType::Int8, {K(1), K(3), K(2), K(3)}), "t.bmp");
        QVERIFY(s8);
        QCOMPARE(s8->data<int8_t>()[0], int8_t(10 - 128));
        QCOMPARE(s8->data<int8_t>()[3], int8_t(127));

        // Gray through resize (2x) and crop back to the middle.
        Preprocess gray;
        gray.channels = Preprocess::Channels::Gray;
        gray.scale = 1.0f;
        gray.resizeHeight = 4;
        gray.resizeWidth = 4;
        gray.cropHeight = 2;
        gray.cropWidth = 2;
        Image g2{2, 2, 1, {0, 100, 200, 40}};
        auto gt = imageToTensor(g2, gray, info("x", DataType::Float, {K(1), K(1), K(2), K(2)}), "g.png");
        QVERIFY2(gt, gt ? "" : gt.error().toString().c_str());
        // Rows after the 2x resize: y=1 blends rows .75/.25, y=2 .25/.75; columns likewise.
        const float r0[2] = {0, 100}, r1[2] = {200, 40};
        auto bil = [](float a, float b, float w) { return a * w + b * (1 - w); };
        const float row1[2] = {bil(r0[0], r1[0], .75f), bil(r0[1], r1[1], .75f)};
        const float row2[2] = {bil(r0[0], r1[0], .25f), bil(r0[1], r1[1], .25f)};
        const std::vector<float> gv = values(*gt);
        QVERIFY(std::abs(gv[0] - bil(row1[0], row1[1], .75f)) < 1e-3f);
        QVERIFY(std::abs(gv[1] - bil(row1[0], row1[1], .25f)) < 1e-3f);
        QVERIFY(std::abs(gv[2] - bil(row2[0], row2[1], .75f)) < 1e-3f);
        QVERIFY(std::abs(gv[3] - bil(row2[0], row2[1], .25f)) < 1e-3f);

        // Shorter-side resize keeps the aspect: 2x3 -> shorter side 4 -> 4x6, crop 4x4.
        Preprocess ss;
        ss.resizeShorterSide = true;
        ss.resizeHeight = 4;
        ss.cropHeight = 4;
        ss.cropWidth = 4;
        QVERIFY(imageToTensor(img, ss, info("x", DataType::Float, {K(1), K(3), K(4), K(4)}), "t.bmp"));
        // Mismatches are errors naming the file: wrong size after crop, wrong channel count.
        auto wrong = imageToTensor(img, ss, info("x", DataType::Float, {K(1), K(3), K(5), K(5)}), "t.bmp");
        QVERIFY(!wrong);
        QCOMPARE(wrong.error().file, std::string("t.bmp"));
        // The input's channel count wins over pp.channels: RGB into a 1-channel input is luma,
        // Gray into a 3-channel input is luma three times.
        Preprocess raw = *Preprocess::preset("raw");
        auto luma = imageToTensor(img, raw, info("x", DataType::Float, {K(1), K(1), K(2), K(3)}), "t.bmp");
        QVERIFY(luma);
        QCOMPARE(values(*luma), (std::vector<float>{18, 48, 78, 76, 150, 29}));
        raw.channels = Preprocess::Channels::Gray;
        auto rep = imageToTensor(img, raw, info("x", DataType::Float, {K(1), K(3), K(2), K(3)}), "t.bmp");
        QVERIFY(rep);
        const std::vector<float> rv = values(*rep);
        QCOMPARE(std::vector<float>(rv.begin() + 6, rv.begin() + 12), (std::vector<float>{18, 48, 78, 76, 150, 29}));
        QCOMPARE(rv[12], 18.0f);
    }

    // ------------------------------------------------------------ preprocess JSON, presets, guesses
    void jsonRoundTrip() {
        Preprocess p;
        p.resizeHeight = 256;
        p.resizeShorterSide = true;
        p.cropHeight = 224;
        p.cropWidth = 200;
        p.channels = Preprocess::Channels::BGR;
        p.scale = 1.0f / 255.0f;
        p.mean = {0.485f, 0.456f, 0.406f};
        p.std = {0.229f, 0.224f, 0.225f};
        p.layout = Preprocess::Layout::NHWC;
        const std::string json = p.toJson();
        auto back = Preprocess::fromJson(json);
        QVERIFY2(back, back ? "" : back.error().toString().c_str());
        QCOMPARE(back->toJson(), json);
        QCOMPARE(back->scale, p.scale);
        QCOMPARE(back->mean, p.mean);
        QCOMPARE(back->std, p.std);
        QCOMPARE(back->cropWidth, 200);
        QVERIFY(back->layout == Preprocess::Layout::NHWC);
        QVERIFY(back->channels == Preprocess::Channels::BGR);
        QVERIFY(back->resizeShorterSide);

        // A preset as the base, with overrides; a single number for mean/std.
        auto pr = Preprocess::fromJson(R"({"preset": "imagenet", "layout": "NHWC", "std": [0.5]})");
        QVERIFY2(pr, pr ? "" : pr.error().toString().c_str());
        QCOMPARE(pr->mean[1], 0.456f);
        QCOMPARE(pr->std[2], 0.5f);

        // Loading from a file names the file in errors.
        QTemporaryDir dir;
        const QString path = dir.filePath("pp.json");
        QVERIFY(writeBytes(path, Bytes(json.begin(), json.end())));
        auto loaded = Preprocess::load(test::str(path));
        QVERIFY(loaded);
        QCOMPARE(loaded->toJson(), json);
        QVERIFY(writeBytes(path, Bytes{'{', 'x'}));
        auto bad = Preprocess::load(test::str(path));
        QVERIFY(!bad);
        QCOMPARE(bad.error().file, test::str(path));
        QCOMPARE(Preprocess::load("/nonexistent.json").error().code, StatusCode::NotFound);
    }

    void jsonErrors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown key") << R"({"sclae": 1})" << "unknown key";
        QTest::newRow("trailing comma") << R"({"scale": 1,})" << "expected a string";
        QTest::newRow("wrong type") << R"({"scale": "1"})" << "\"scale\"";
        QTest::newRow("negative size") << R"({"crop_height": -1, "crop_width": 2})" << "crop_height";
        QTest::newRow("fractional size") << R"({"resize_height": 2.5, "resize_width": 2})" << "resize_height";
        QTest::newRow("std zero") << R"({"std": [1, 0, 1]})" << "must not contain 0";
        QTest::newRow("mean of 2") << R"({"mean": [1, 2]})" << "\"mean\"";
        QTest::newRow("one crop side") << R"({"crop_height": 2})" << "crop_width";
        QTest::newRow("shorter side without size") << R"({"resize_shorter_side": true})" << "resize_height";
        QTest::newRow("bad channels") << R"({"channels": "CMYK"})" << "CMYK";
        QTest::newRow("bad layout") << R"({"layout": "CHW"})" << "layout";
        QTest::newRow("unknown preset") << R"({"preset": "cifar"})" << "preset";
        QTest::newRow("nested object") << R"({"mean": {"r": 1}})" << "nested";
        QTest::newRow("duplicate key") << R"({"scale": 1, "scale": 2})" << "duplicate";
        QTest::newRow("trailing garbage") << R"({"scale": 1} x)" << "after the object";
        QTest::newRow("unterminated") << "{\"channels\": \"RGB" << "unterminated";
        QTest::newRow("not an object") << "[1]" << "expected '{'";
        QTest::newRow("empty") << "" << "expected '{'";
        QTest::newRow("leading zero") << R"({"scale": 01})" << "expected ','";
        QTest::newRow("huge number") << R"({"scale": 1e999})" << "out of range";
    }
    void jsonErrors() {
        QFETCH(QString, json);
        QFETCH(QString, mentions);
        auto r = Preprocess::fromJson(test::str(json));
        QVERIFY(!r);
        QCOMPARE(r.error().code, StatusCode::InvalidInput);
        QVERIFY2(r.error().message.find(test::str(mentions)) != std::string::npos, r.error().message.c_str());
    }

    void presets() {
        QCOMPARE(Preprocess::presetNames().size(), std::size_t(4));
        for (const std::string& n : Preprocess::presetNames()) QVERIFY(Preprocess::preset(n));
        QVERIFY(!Preprocess::preset("cifar"));
        // Each preset maps pixel 0 and 255 to its documented range.
        auto map = [](const Preprocess& p, float v) { return (v * p.scale - p.mean[0]) / p.std[0]; };
        QCOMPARE(map(*Preprocess::preset("minus1to1"), 0), -1.0f);
        QCOMPARE(map(*Preprocess::preset("minus1to1"), 255), 1.0f);
        QCOMPARE(map(*Preprocess::preset("zero1"), 255), 1.0f);
        QCOMPARE(map(*Preprocess::preset("raw"), 255), 255.0f);
        const Preprocess in = *Preprocess::preset("imagenet");
        QCOMPARE(in.mean[0], 0.485f);
        QCOMPARE(in.std[2], 0.225f);
    }

    void guesses() {
        Preprocess a = guessPreprocess(info("x", DataType::Float, {S("N"), K(3), K(224), K(224)}));
        QVERIFY(a.layout == Preprocess::Layout::NCHW);
        QCOMPARE(a.mean[0], 0.485f);
        QVERIFY(a.resizeShorterSide);
        QCOMPARE(a.resizeHeight, 256);
        QCOMPARE(a.cropHeight, 224);
        Preprocess b = guessPreprocess(info("x", DataType::Float, {K(1), K(224), K(224), K(3)}));
        QVERIFY(b.layout == Preprocess::Layout::NHWC);
        QCOMPARE(b.std[1], 0.224f);
        Preprocess c = guessPreprocess(info("x", DataType::Float, {K(1), K(1), K(28), K(28)}));
        QVERIFY(c.channels == Preprocess::Channels::Gray);
        QCOMPARE(c.mean[0], 0.0f);
        QCOMPARE(c.scale, 1.0f / 255.0f);
        Preprocess d = guessPreprocess(info("x", DataType::Float, {K(1), K(3), K(32), K(32)}));
        QCOMPARE(d.mean[0], 0.0f);
        QCOMPARE(d.cropHeight, 0);
        QCOMPARE(d.resizeHeight, 0);
    }

    // ------------------------------------------------------------ sources
    void randomSource() {
        const std::vector<rt::TensorInfo> inputs = {info("img", DataType::Float, {S("N"), K(3), K(4), K(4)}),
                                                    info("vec", DataType::Float, {K(1), K(6)}),
                                                    info("ids", DataType::Int64, {S("N"), K(5)})};
        OpenOptions o;
        o.seed = 7;
        auto a = openDataset("random:5", inputs, o);
        QVERIFY2(a, a ? "" : a.error().toString().c_str());
        QVERIFY((*a)->isRandom());
        QCOMPARE((*a)->size(), int64_t(5));
        QVERIFY((*a)->describe().find("random") != std::string::npos);
        QVERIFY((*a)->describe().find("seed 7") != std::string::npos);
        QVERIFY(!(*a)->hasLabels());
        std::vector<std::vector<float>> first;
        Sample s;
        int n = 0;
        while (true) {
            auto more = (*a)->next(s);
            QVERIFY(more);
            if (!*more) break;
            ++n;
            QCOMPARE(s.inputs.size(), std::size_t(3));
            QCOMPARE(s.inputs[0].first, std::string("img"));
            QCOMPARE(s.inputs[0].second.dims(), (std::vector<int64_t>{1, 3, 4, 4})); // symbolic -> 1
            QCOMPARE(s.inputs[2].second.dims(), (std::vector<int64_t>{1, 5}));
            for (float v : values(s.inputs[0].second)) QVERIFY(v >= 0 && v < 1); // image-like
            bool negative = false;
            for (float v : values(s.inputs[1].second)) {
                QVERIFY(v >= -1 && v < 1);
                negative |= v < 0;
            }
            QVERIFY(negative);
            for (float v : values(s.inputs[2].second)) QVERIFY(v >= 0 && v < 8 && v == std::floor(v));
            QVERIFY(!s.label);
            QCOMPARE(s.source, "random #" + std::to_string(n - 1));
            first.push_back(values(s.inputs[0].second));
        }
        QCOMPARE(n, 5);
        QVERIFY(first[0] != first[1]);
        // Reset and a fresh open with the same seed reproduce; another seed does not.
        (*a)->reset();
        QVERIFY(*(*a)->next(s));
        QCOMPARE(values(s.inputs[0].second), first[0]);
        auto b = openDataset("random:5", inputs, o);
        QVERIFY(*(*b)->next(s));
        QCOMPARE(values(s.inputs[0].second), first[0]);
        o.seed = 8;
        auto c = openDataset("random:5", inputs, o);
        QVERIFY(*(*c)->next(s));
        QVERIFY(values(s.inputs[0].second) != first[0]);
        // The default count, the limit, and bad specs.
        OpenOptions d;
        d.randomCount = 3;
        QCOMPARE((*openDataset("random", inputs, d))->size(), int64_t(3));
        d.limit = 2;
        QCOMPARE((*openDataset("random:10", inputs, d))->size(), int64_t(2));
        QCOMPARE(openDataset("random:x", inputs).error().code, StatusCode::Usage);
        QCOMPARE(openDataset("random:0", inputs).error().code, StatusCode::Usage);
        OpenOptions withLabels;
        withLabels.labels = "labels.npy";
        QCOMPARE(openDataset("random", inputs, withLabels).error().code, StatusCode::Usage);
    }

    void imageFolders() {
        QTemporaryDir dir;
        // Class subfolders (created out of order) give sorted class names and labels.
        for (const char* cls : {"zebra", "ant", "mouse"}) QVERIFY(QDir(dir.path()).mkpath(cls));
        auto put = [&](const QString& rel, uint8_t v) {
            Bytes px(std::size_t(3 * 2 * 3), v);
            QVERIFY(writeBytes(dir.filePath(rel), rel.endsWith(".png") ? makePng(3, 2, 2, px)
                                                                       : makeBmp(3, 2, px, 24, false)));
        };
        put("zebra/b.bmp", 30);
        put("zebra/a.png", 20);
        put("ant/x.bmp", 10);
        put("mouse/m.PNG", 40);
        QVERIFY(writeBytes(dir.filePath("mouse/notes.txt"), Bytes{'h', 'i'}));
        const std::vector<rt::TensorInfo> in = {info("x", DataType::Float, {S("N"), K(3), K(4), K(6)})};
        OpenOptions o;
        o.preprocess = *Preprocess::preset("raw");
        auto ds = openDataset(test::str(dir.path()), in, o);
        QVERIFY2(ds, ds ? "" : ds.error().toString().c_str());
        QCOMPARE((*ds)->size(), int64_t(4));
        QVERIFY((*ds)->hasLabels());
        QVERIFY(!(*ds)->isRandom());
        QCOMPARE((*ds)->classNames(), (std::vector<std::string>{"ant", "mouse", "zebra"}));
        QVERIFY((*ds)->describe().find("4 files in 3 classes") != std::string::npos);
        std::vector<int64_t> labels;
        std::vector<float> firstValue;
        std::vector<std::string> sources;
        Sample s;
        while (*(*ds)->next(s)) {
            QVERIFY(s.label);
            labels.push_back(*s.label);
            QCOMPARE(s.inputs[0].second.dims(), (std::vector<int64_t>{1, 3, 4, 6})); // resized to the input
            firstValue.push_back(values(s.inputs[0].second)[0]);
            sources.push_back(QFileInfo(QString::fromStdString(s.source)).fileName().toStdString());
        }
        QCOMPARE(labels, (std::vector<int64_t>{0, 1, 2, 2}));
        QCOMPARE(firstValue, (std::vector<float>{10, 40, 20, 30})); // raw preset: pixel values
        QCOMPARE(sources, (std::vector<std::string>{"x.bmp", "m.PNG", "a.png", "b.bmp"}));

        // Shuffling is a seeded permutation that keeps every file with its label.
        o.shuffle = true;
        o.seed = 3;
        auto sh = openDataset(test::str(dir.path()), in, o);
        QVERIFY(sh);
        std::vector<std::pair<float, int64_t>> pairs;
        while (*(*sh)->next(s)) pairs.emplace_back(values(s.inputs[0].second)[0], *s.label);
        auto sorted = pairs;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted, (std::vector<std::pair<float, int64_t>>{{10, 0}, {20, 2}, {30, 2}, {40, 1}}));
        auto sh2 = openDataset(test::str(dir.path()), in, o);
        std::vector<std::pair<float, int64_t>> pairs2;
        while (*(*sh2)->next(s)) pairs2.emplace_back(values(s.inputs[0].second)[0], *s.label);
        QCOMPARE(pairs2, pairs);

        // A flat folder: no labels; a single image file works too.
        QTemporaryDir flat;
        QVERIFY(writeBytes(flat.filePath("one.bmp"), makeBmp(3, 2, kRgb, 24, true)));
        QVERIFY(writeBytes(flat.filePath("two.png"), makePng(3, 2, 2, kRgb)));
        auto f = openDataset(test::str(flat.path()), in, o);
        QVERIFY(f);
        QVERIFY(!(*f)->hasLabels());
        QCOMPARE((*f)->size(), int64_t(2));
        QVERIFY(*(*f)->next(s));
        QVERIFY(!s.label);
        auto single = openDataset(test::str(flat.filePath("one.bmp")), in, o);
        QVERIFY(single);
        QCOMPARE((*single)->size(), int64_t(1));

        // A broken image fails at next() naming the file; the guess is used without --preprocess.
        QVERIFY(writeBytes(flat.filePath("zz_broken.png"), Bytes{0x89, 'P', 'N', 'G'}));
        OpenOptions guess;
        auto br = openDataset(test::str(flat.path()), in, guess);
        QVERIFY(br);
        QVERIFY((*br)->describe().find("guessed") != std::string::npos);
        QVERIFY(*(*br)->next(s));
        QVERIFY(*(*br)->next(s));
        auto err = (*br)->next(s);
        QVERIFY(!err);
        QVERIFY(err.error().file.find("zz_broken.png") != std::string::npos);

        // Images cannot feed a two-input model, or a non-image input.
        const std::vector<rt::TensorInfo> two = {in[0], info("mask", DataType::Float, {K(1), K(4)})};
        auto e2 = openDataset(test::str(flat.path()), two, o);
        QVERIFY(!e2);
        QVERIFY(e2.error().message.find("'mask'") != std::string::npos);
        QVERIFY(!openDataset(test::str(flat.path()), {info("v", DataType::Float, {K(1), K(10)})}, o));
        // Mixed folders are refused.
        QVERIFY(writeBytes(flat.filePath("t.npy"), Bytes{}));
        QCOMPARE(openDataset(test::str(flat.path()), in, o).error().code, StatusCode::InvalidInput);
        QCOMPARE(openDataset("/nonexistent/data", in, o).error().code, StatusCode::NotFound);
    }

    void npySources() {
        QTemporaryDir dir;
        const std::vector<rt::TensorInfo> in = {info("x", DataType::Float, {S("N"), K(1), K(2), K(2)})};
        // A batch of 5 along dim 0 splits into 5 samples.
        const QString batch = dir.filePath("batch.npy");
        QVERIFY(ir::writeNpy(test::str(batch), floatTensor({5, 1, 2, 2}, 0)));
        auto ds = openDataset(test::str(batch), in);
        QVERIFY2(ds, ds ? "" : ds.error().toString().c_str());
        QCOMPARE((*ds)->size(), int64_t(5));
        Sample s;
        for (int k = 0; k < 5; ++k) {
            QVERIFY(*(*ds)->next(s));
            QCOMPARE(s.inputs[0].second.dims(), (std::vector<int64_t>{1, 1, 2, 2}));
            QCOMPARE(values(s.inputs[0].second),
                     (std::vector<float>{4.f * k, 4.f * k + 1, 4.f * k + 2, 4.f * k + 3}));
        }
        QVERIFY(!*(*ds)->next(s));

        // A folder of single samples (one without its batch dim, one float64), sorted by name.
        QTemporaryDir folder;
        QVERIFY(ir::writeNpy(test::str(folder.filePath("a.npy")), floatTensor({1, 1, 2, 2}, 100)));
        QVERIFY(ir::writeNpy(test::str(folder.filePath("b.npy")), floatTensor({1, 2, 2}, 200)));
        std::vector<double> dv = {1.5, 2.5, 3.5, 4.5};
        QVERIFY(ir::writeNpy(test::str(folder.filePath("c.npy")),
                             ir::Tensor::fromVector("", DataType::Double, {1, 1, 2, 2}, dv)));
        auto f = openDataset(test::str(folder.path()), in);
        QVERIFY2(f, f ? "" : f.error().toString().c_str());
        QCOMPARE((*f)->size(), int64_t(3));
        QVERIFY(*(*f)->next(s));
        QCOMPARE(values(s.inputs[0].second)[0], 100.0f);
        QVERIFY(*(*f)->next(s));
        QCOMPARE(s.inputs[0].second.dims(), (std::vector<int64_t>{1, 1, 2, 2}));
        QCOMPARE(values(s.inputs[0].second)[3], 203.0f);
        QVERIFY(*(*f)->next(s));
        QCOMPARE(s.inputs[0].second.dtype(), DataType::Float);
        QCOMPARE(values(s.inputs[0].second), (std::vector<float>{1.5f, 2.5f, 3.5f, 4.5f}));

        // Shapes that do not fit name the file and both shapes.
        QTemporaryDir badDir;
        const QString bad = badDir.filePath("bad.npy");
        QVERIFY(ir::writeNpy(test::str(bad), floatTensor({2, 1, 3, 2}, 0)));
        auto e = openDataset(test::str(bad), in);
        QVERIFY(!e);
        QCOMPARE(e.error().code, StatusCode::InvalidInput);
        QCOMPARE(e.error().file, test::str(bad));
        QVERIFY(e.error().message.find("[2,1,3,2]") != std::string::npos);
        QVERIFY(e.error().message.find("float32[N,1,2,2]") != std::string::npos);
        const QString ints = badDir.filePath("ints.npy");
        QVERIFY(ir::writeNpy(test::str(ints), ir::Tensor::fromVector("", DataType::Int32, {1, 1, 2, 2},
                                                                     std::vector<int32_t>{1, 2, 3, 4})));
        QVERIFY(!openDataset(test::str(ints), in));
        // A static batch of 2 takes the file's dim 0 two at a time.
        const std::vector<rt::TensorInfo> two = {info("x", DataType::Float, {K(2), K(1), K(2), K(2)})};
        auto b2 = openDataset(test::str(batch), two);
        QVERIFY(!b2); // 5 is not a multiple of 2
        const QString six = badDir.filePath("six.npy");
        QVERIFY(ir::writeNpy(test::str(six), floatTensor({6, 1, 2, 2}, 0)));
        auto b3 = openDataset(test::str(six), two);
        QVERIFY(b3);
        QCOMPARE((*b3)->size(), int64_t(3));
        QVERIFY(*(*b3)->next(s));
        QCOMPARE(s.inputs[0].second.dims(), (std::vector<int64_t>{2, 1, 2, 2}));
    }

    void testDataSetFolders() {
        // A two-input model fed from test_data_set_N folders (input_K.pb, outputs ignored) and
        // from a folder of NAME.npy files holding batches.
        const std::vector<rt::TensorInfo> in = {info("a", DataType::Float, {S("N"), K(2)}),
                                                info("b/1", DataType::Float, {S("N"), K(3)})};
        QTemporaryDir dir;
        for (int k = 0; k < 2; ++k) {
            const QString sub = dir.filePath(QString("test_data_set_%1").arg(k));
            QVERIFY(QDir().mkpath(sub));
            QVERIFY(writePb(sub + "/input_0.pb", floatTensor({1, 2}, float(10 * k)), "a"));
            QVERIFY(writePb(sub + "/input_1.pb", floatTensor({1, 3}, float(10 * k + 5)), "b/1"));
            QVERIFY(writePb(sub + "/output_0.pb", floatTensor({1, 7}, 0), "y"));
        }
        auto ds = openDataset(test::str(dir.path()), in);
        QVERIFY2(ds, ds ? "" : ds.error().toString().c_str());
        QCOMPARE((*ds)->size(), int64_t(2));
        QVERIFY((*ds)->describe().find("2 sample folders") != std::string::npos);
        Sample s;
        QVERIFY(*(*ds)->next(s));
        QCOMPARE(s.inputs[1].first, std::string("b/1"));
        QCOMPARE(values(s.inputs[0].second), (std::vector<float>{0, 1}));
        QCOMPARE(values(s.inputs[1].second), (std::vector<float>{5, 6, 7}));
        QVERIFY(*(*ds)->next(s));
        QCOMPARE(values(s.inputs[1].second), (std::vector<float>{15, 16, 17}));
        QVERIFY(!*(*ds)->next(s));
        // One test_data_set folder on its own.
        auto one = openDataset(test::str(dir.filePath("test_data_set_1")), in);
        QVERIFY2(one, one ? "" : one.error().toString().c_str());
        QCOMPARE((*one)->size(), int64_t(1));

        QTemporaryDir named;
        QVERIFY(ir::writeNpy(test::str(named.filePath("a.npy")), floatTensor({3, 2}, 0)));
        QVERIFY(ir::writeNpy(test::str(named.filePath("b_1.npy")), floatTensor({3, 3}, 50)));
        auto n = openDataset(test::str(named.path()), in);
        QVERIFY2(n, n ? "" : n.error().toString().c_str());
        QCOMPARE((*n)->size(), int64_t(3));
        QVERIFY(*(*n)->next(s));
        QVERIFY(*(*n)->next(s));
        QCOMPARE(values(s.inputs[0].second), (std::vector<float>{2, 3}));
        QCOMPARE(values(s.inputs[1].second), (std::vector<float>{53, 54, 55}));
        // Batches that disagree, and a missing input file, are errors naming the file/folder.
        QVERIFY(ir::writeNpy(test::str(named.filePath("b_1.npy")), floatTensor({4, 3}, 50)));
        auto e = openDataset(test::str(named.path()), in);
        QVERIFY(!e);
        QVERIFY(e.error().message.find("holds 4 samples") != std::string::npos);
        QVERIFY(QFile::remove(named.filePath("b_1.npy")));
        auto m = openDataset(test::str(named.path()), in);
        QVERIFY(!m);
        QVERIFY(m.error().message.find("b_1.npy") != std::string::npos);
        // One file cannot feed two inputs.
        QVERIFY(!openDataset(test::str(named.filePath("a.npy")), in));
    }

    void labelsAndRealPb() {
        EW_REQUIRE_MODELS();
        const QString d = test::modelsDir() + "/onnx/digits-cnn";
        const std::vector<rt::TensorInfo> in = {info("input", DataType::Float, {S("N"), K(1), K(8), K(8)})};
        auto cal = openDataset(test::str(d + "/calibration_input.pb"), in);
        QVERIFY2(cal, cal ? "" : cal.error().toString().c_str());
        QCOMPARE((*cal)->size(), int64_t(256));
        QVERIFY(!(*cal)->hasLabels());
        // labels.pb labels the 360 test images, not the 256 calibration images.
        OpenOptions o;
        o.labels = test::str(d + "/labels.pb");
        auto wrong = openDataset(test::str(d + "/calibration_input.pb"), in, o);
        QVERIFY(!wrong);
        QVERIFY2(wrong.error().message.find("360 labels but the data has 256") != std::string::npos,
                 wrong.error().message.c_str());
        auto test = openDataset(test::str(d + "/test_data_set_0"), in, o);
        QVERIFY2(test, test ? "" : test.error().toString().c_str());
        QCOMPARE((*test)->size(), int64_t(360));
        QVERIFY((*test)->hasLabels());
        auto labels = onnxfmt::readTensorProtoFile(test::str(d + "/labels.pb"));
        QVERIFY(labels);
        const std::vector<int64_t> want = labels->toInt64();
        auto all = onnxfmt::readTensorProtoFile(test::str(d + "/test_data_set_0/input_0.pb"));
        QVERIFY(all);
        const std::vector<float> px = all->toFloat();
        Sample s;
        for (std::size_t k = 0; k < 360; ++k) {
            QVERIFY(*(*test)->next(s));
            QCOMPARE(*s.label, want[k]);
            if (k == 123) {
                const std::vector<float> got = values(s.inputs[0].second);
                QCOMPARE(got, std::vector<float>(px.begin() + 123 * 64, px.begin() + 124 * 64));
            }
        }
        // The limit keeps the labels in step.
        o.limit = 10;
        auto lim = openDataset(test::str(d + "/test_data_set_0/input_0.pb"), in, o);
        QVERIFY(lim);
        QCOMPARE((*lim)->size(), int64_t(10));
        QVERIFY((*lim)->describe().find("limited to 10") != std::string::npos);
        // A float tensor is not a labels file.
        o.labels = test::str(d + "/calibration_input.pb");
        QVERIFY(!openDataset(test::str(d + "/test_data_set_0"), in, o));
    }

    // ------------------------------------------------------------ streaming
    void streamingMemoryIsFlat() {
        // 10,000 random samples, then 2,000 .npy files: heap in use after the first samples
        // does not grow (slack 256 KiB for allocator bookkeeping; the set itself is 120 MB / 24 MB).
        auto check = [](Dataset& ds, int64_t expected) {
            Sample s;
            int64_t n = 0;
            std::size_t base = 0, peak = 0;
            for (;;) {
                auto more = ds.next(s);
                if (!more || !*more) {
                    if (!more) qWarning("%s", more.error().toString().c_str());
                    break;
                }
                ++n;
                const std::size_t now = heapInUse();
                if (n == 50) base = now;
                if (n > 50) peak = std::max(peak, now);
            }
            QCOMPARE(n, expected);
            QVERIFY2(peak < base + 256 * 1024,
                     qPrintable(QString("heap grew from %1 to %2 bytes").arg(base).arg(peak)));
        };
        {
            // The measure must see allocations (it would not under a sanitizer's allocator).
            const std::size_t before = heapInUse();
            auto probe = std::make_unique<std::vector<char>>(1 << 20, 'x');
            if (heapInUse() < before + (1 << 20)) QSKIP("[ew-skip] mallinfo2 does not track this allocator");
        }
        const std::vector<rt::TensorInfo> in = {info("x", DataType::Float, {S("N"), K(3), K(32), K(32)})};
        auto r = openDataset("random:10000", in);
        QVERIFY(r);
        check(**r, 10000);

        QTemporaryDir dir;
        const std::vector<rt::TensorInfo> small = {info("x", DataType::Float, {S("N"), K(3), K(16), K(16)})};
        for (int k = 0; k < 2000; ++k)
            QVERIFY(ir::writeNpy(test::str(dir.filePath(QString("s%1.npy").arg(k, 5, 10, QChar('0')))),
                                 floatTensor({1, 3, 16, 16}, float(k))));
        auto f = openDataset(test::str(dir.path()), small);
        QVERIFY2(f, f ? "" : f.error().toString().c_str());
        QCOMPARE((*f)->size(), int64_t(2000));
        check(**f, 2000);
    }
};

QTEST_GUILESS_MAIN(TestDataset)
#include "tst_dataset.moc"
