#include "npy.h"

#include "common/file_util.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

static_assert(std::endian::native == std::endian::little,
              "npy.cpp assumes a little-endian host, like ir::Tensor");

namespace ew::ir {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
// Real headers are about 120 bytes; numpy itself refuses more than 10000 by default.
constexpr std::size_t kMaxHeaderLen = 64 * 1024;
constexpr std::size_t kMaxRank = 64;
constexpr std::size_t kDataAlign = 64;

struct NpyType {
    char kind; // f, i, u, b
    int bytes;
    DataType dtype;
};
constexpr NpyType kTypes[] = {
    {'f', 4, DataType::Float},  {'f', 8, DataType::Double}, {'f', 2, DataType::Float16},
    {'i', 1, DataType::Int8},   {'u', 1, DataType::UInt8},  {'i', 2, DataType::Int16},
    {'u', 2, DataType::UInt16}, {'i', 4, DataType::Int32},  {'u', 4, DataType::UInt32},
    {'i', 8, DataType::Int64},  {'u', 8, DataType::UInt64}, {'b', 1, DataType::Bool},
};

struct Header {
    DataType dtype = DataType::Undefined;
    int elemBytes = 0;
    bool bigEndian = false;
    std::vector<int64_t> dims;
    std::size_t dataOffset = 0;
    std::size_t dataBytes = 0;
};

Status bad(std::string_view source, std::string message,
           StatusCode code = StatusCode::InvalidInput) {
    return Status{code, std::move(message), std::string(source), {}};
}

/// Recursive-descent reader for the one Python literal numpy writes:
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
public:
    explicit HeaderParser(std::string_view s) : m_s(s) {}

    void skipSpace() {
        while (m_pos < m_s.size() && (m_s[m_pos] == ' ' || m_s[m_pos] == '\t' ||
                                      m_s[m_pos] == '\n' || m_s[m_pos] == '\r'))
            ++m_pos;
    }
    bool accept(char c) {
        skipSpace();
        if (m_pos < m_s.size() && m_s[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    bool peek(char c) {
        skipSpace();
        return m_pos < m_s.size() && m_s[m_pos] == c;
    }
    bool atEnd() {
        skipSpace();
        return m_pos == m_s.size();
    }
    std::optional<std::string_view> quoted() {
        skipSpace();
        if (m_pos >= m_s.size() || (m_s[m_pos] != '\'' && m_s[m_pos] != '"')) return std::nullopt;
        char q = m_s[m_pos++];
        std::size_t end = m_s.find(q, m_pos);
        if (end == std::string_view::npos) return std::nullopt;
        std::string_view out = m_s.substr(m_pos, end - m_pos);
        m_pos = end + 1;
        return out;
    }
    std::optional<bool> boolean() {
        skipSpace();
        for (auto [word, value] : {std::pair{std::string_view("True"), true}, {"False", false}}) {
            if (m_s.substr(m_pos, word.size()) == word) {
                m_pos += word.size();
                return value;
            }
        }
        return std::nullopt;
    }
    /// A non-negative Python int (Python 2 wrote a trailing L); nullopt on syntax or overflow.
    std::optional<int64_t> integer() {
        skipSpace();
        std::size_t start = m_pos;
        int64_t v = 0;
        while (m_pos < m_s.size() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9') {
            int digit = m_s[m_pos++] - '0';
            if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) return std::nullopt;
            v = v * 10 + digit;
        }
        if (m_pos == start) return std::nullopt;
        if (m_pos < m_s.size() && m_s[m_pos] == 'L') ++m_pos;
        return v;
    }
    std::size_t pos() const { return m_pos; }

private:
    std::string_view m_s;
    std::size_t m_pos = 0;
};

Result<void> parseDescr(std::string_view descr, Header& h, std::string_view source) {
    auto unsupported = [&] {
        return fail(bad(source,
                        "unsupported .npy dtype '" + std::string(descr) +
                            "' (supported: <f4 <f8 <f2 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 |b1)",
                        StatusCode::Unsupported));
    };
    if (descr.size() < 3) return unsupported();
    char order = descr[0];
    if (order != '<' && order != '>' && order != '=' && order != '|') return unsupported();
    char kind = descr[1];
    std::string_view sizeText = descr.substr(2);
    if (sizeText.size() != 1 || sizeText[0] < '1' || sizeText[0] > '8') return unsupported();
    int bytes = sizeText[0] - '0';
    const NpyType* found = nullptr;
    for (const NpyType& t : kTypes)
        if (t.kind == kind && t.bytes == bytes) found = &t;
    if (!found) return unsupported();
    if (order == '|' && bytes != 1)
        return fail(bad(source, "bad .npy dtype '" + std::string(descr) +
                                    "': byte order '|' is only for one-byte types"));
    h.dtype = found->dtype;
    h.elemBytes = bytes;
    h.bigEndian = order == '>' && bytes > 1;
    return {};
}

Result<void> parseHeaderText(std::string_view text, Header& h, std::string_view source) {
    auto syntax = [&](std::string_view what, std::size_t at) {
        return fail(bad(source, "malformed .npy header (" + std::string(what) + " at offset " +
                                    std::to_string(at) + ")"));
    };
    HeaderParser p(text);
    if (!p.accept('{')) return syntax("expected '{'", p.pos());
    bool haveDescr = false, haveOrder = false, haveShape = false;
    while (!p.accept('}')) {
        auto key = p.quoted();
        if (!key) return syntax("expected a quoted key", p.pos());
        if (!p.accept(':')) return syntax("expected ':'", p.pos());
        if (*key == "descr") {
            if (haveDescr) return syntax("duplicate 'descr'", p.pos());
            haveDescr = true;
            if (p.peek('['))
                return fail(bad(source, "structured .npy dtypes (record arrays) are not supported",
                                StatusCode::Unsupported));
            auto descr = p.quoted();
            if (!descr) return syntax("expected a quoted dtype", p.pos());
            EW_TRY(parseDescr(*descr, h, source));
        } else if (*key == "fortran_order") {
            if (haveOrder) return syntax("duplicate 'fortran_order'", p.pos());
            haveOrder = true;
            auto fortran = p.boolean();
            if (!fortran) return syntax("expected True or False", p.pos());
            if (*fortran)
                return fail(bad(source,
                                "fortran_order .npy files are not supported; save a C-ordered "
                                "array (numpy.ascontiguousarray) instead",
                                StatusCode::Unsupported));
        } else if (*key == "shape") {
            if (haveShape) return syntax("duplicate 'shape'", p.pos());
            haveShape = true;
            if (!p.accept('(')) return syntax("expected '(' for the shape", p.pos());
            while (!p.accept(')')) {
                auto d = p.integer();
                if (!d) return syntax("expected a dimension (non-negative integer)", p.pos());
                if (h.dims.size() == kMaxRank)
                    return fail(bad(source, "shape has more than " + std::to_string(kMaxRank) +
                                                " dimensions"));
                h.dims.push_back(*d);
                if (!p.accept(',')) {
                    if (!p.accept(')')) return syntax("expected ',' or ')' in the shape", p.pos());
                    break;
                }
            }
        } else {
            return syntax("unexpected key '" + std::string(*key) + "'", p.pos());
        }
        if (!p.accept(',')) {
            if (!p.accept('}')) return syntax("expected ',' or '}'", p.pos());
            break;
        }
    }
    if (!p.atEnd()) return syntax("text after the closing '}'", p.pos());
    if (!haveDescr || !haveOrder || !haveShape)
        return fail(bad(source, "malformed .npy header (needs 'descr', 'fortran_order' and 'shape')"));
    return {};
}

Result<Header> parseHeader(std::span<const std::byte> bytes, std::string_view source) {
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    if (bytes.size() < kMagicLen + 2 || std::memcmp(b, kMagic, kMagicLen) != 0)
        return fail(bad(source, "not a .npy file (no \\x93NUMPY magic)"));
    int major = b[6], minor = b[7];
    std::size_t lenBytes;
    if (major == 1)
        lenBytes = 2;
    else if (major == 2 || major == 3)
        lenBytes = 4;
    else
        return fail(bad(source, "unsupported .npy format version " + std::to_string(major) + "." +
                                    std::to_string(minor),
                        StatusCode::Unsupported));
    std::size_t prefix = kMagicLen + 2 + lenBytes;
    if (bytes.size() < prefix) return fail(bad(source, "truncated .npy header"));
    uint64_t headerLen = 0;
    for (std::size_t i = 0; i < lenBytes; ++i)
        headerLen |= uint64_t(b[kMagicLen + 2 + i]) << (8 * i);
    if (headerLen > kMaxHeaderLen)
        return fail(bad(source, ".npy header length " + std::to_string(headerLen) +
                                    " exceeds the limit of " + std::to_string(kMaxHeaderLen)));
    if (headerLen > bytes.size() - prefix)
        return fail(bad(source, ".npy header length " + std::to_string(headerLen) +
                                    " runs past the end of the file (" +
                                    std::to_string(bytes.size()) + " bytes)"));
    std::string_view text(reinterpret_cast<const char*>(b + prefix), headerLen);
    // v1/v2 headers are latin-1, v3 UTF-8; the grammar is ASCII either way.
    if (text.find('\0') != std::string_view::npos)
        return fail(bad(source, "malformed .npy header (NUL byte)"));
    Header h;
    EW_TRY(parseHeaderText(text, h, source));
    h.dataOffset = prefix + headerLen;

    auto count = checkedElementCount(h.dims);
    if (!count) return fail(bad(source, "bad .npy shape: " + count.error().message));
    auto need = dataTypeStorageBytes(h.dtype, static_cast<uint64_t>(*count));
    if (!need) return fail(bad(source, "bad .npy shape: data size overflows"));
    std::size_t have = bytes.size() - h.dataOffset;
    if (have < *need)
        return fail(bad(source, "truncated .npy data: shape " + Shape::of(h.dims).toString() +
                                    " of " + std::string(dataTypeName(h.dtype)) + " needs " +
                                    std::to_string(*need) + " bytes, the file has " +
                                    std::to_string(have)));
    if (have > *need)
        return fail(bad(source, std::to_string(have - *need) +
                                    " unexpected bytes after the .npy array data (several "
                                    "arrays in one file?)"));
    h.dataBytes = *need;
    return h;
}

/// True when the raw data can be used as it is: little-endian, and bools are 0/1.
bool needsConversion(const Header& h, const std::byte* data) {
    if (h.bigEndian) return true;
    if (h.dtype == DataType::Bool)
        return std::any_of(data, data + h.dataBytes,
                           [](std::byte v) { return std::to_integer<unsigned>(v) > 1; });
    return false;
}

Tensor convertedCopy(Header& h, const std::byte* data) {
    // uint64 storage keeps every element type naturally aligned.
    std::vector<uint64_t> storage((h.dataBytes + 7) / 8);
    auto* out = reinterpret_cast<std::byte*>(storage.data());
    if (h.dataBytes) std::memcpy(out, data, h.dataBytes);
    if (h.bigEndian) {
        for (std::size_t i = 0; i < h.dataBytes; i += std::size_t(h.elemBytes))
            std::reverse(out + i, out + i + h.elemBytes);
    }
    if (h.dtype == DataType::Bool) {
        for (std::size_t i = 0; i < h.dataBytes; ++i)
            out[i] = std::to_integer<unsigned>(out[i]) ? std::byte{1} : std::byte{0};
    }
    auto holder = std::make_shared<std::vector<uint64_t>>(std::move(storage));
    const auto* p = reinterpret_cast<const std::byte*>(holder->data());
    return Tensor({}, h.dtype, std::move(h.dims), std::move(holder), p, h.dataBytes);
}

std::string shapeLiteral(const std::vector<int64_t>& dims) {
    std::string s = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(dims[i]);
    }
    if (dims.size() == 1) s += ",";
    return s + ")";
}

} // namespace

bool isNpy(std::span<const std::byte> bytes) {
    return bytes.size() >= kMagicLen && std::memcmp(bytes.data(), kMagic, kMagicLen) == 0;
}

std::string_view npyDescr(DataType t) {
    switch (t) {
    case DataType::Float: return "<f4";
    case DataType::Double: return "<f8";
    case DataType::Float16: return "<f2";
    case DataType::Int8: return "|i1";
    case DataType::UInt8: return "|u1";
    case DataType::Int16: return "<i2";
    case DataType::UInt16: return "<u2";
    case DataType::Int32: return "<i4";
    case DataType::UInt32: return "<u4";
    case DataType::Int64: return "<i8";
    case DataType::UInt64: return "<u8";
    case DataType::Bool: return "|b1";
    default: return {};
    }
}

Result<Tensor> parseNpy(std::span<const std::byte> bytes, std::string_view source) {
    EW_TRY_ASSIGN(Header h, parseHeader(bytes, source));
    return convertedCopy(h, bytes.data() + h.dataOffset);
}

Result<Tensor> readNpy(const std::string& path) {
    EW_TRY_ASSIGN(auto file, MappedFile::open(path));
    EW_TRY_ASSIGN(Header h, parseHeader(file->bytes(), path));
    const std::byte* data = file->data() + h.dataOffset;
    // The mapping is page-aligned, so the offset decides the data's alignment.
    if (h.dataOffset % 16 != 0 || needsConversion(h, data)) return convertedCopy(h, data);
    std::size_t n = h.dataBytes;
    return Tensor({}, h.dtype, std::move(h.dims), std::move(file), data, n);
}

Result<std::string> encodeNpy(const Tensor& t) {
    std::string_view descr = npyDescr(t.dtype);
    if (descr.empty())
        return fail(StatusCode::Unsupported, "cannot write " + std::string(dataTypeName(t.dtype)) +
                                                 " tensor '" + t.name +
                                                 "' as .npy (NumPy has no standard dtype for it)");
    EW_TRY_ASSIGN(int64_t count, checkedElementCount(t.dims));
    auto need = dataTypeStorageBytes(t.dtype, static_cast<uint64_t>(count));
    if (!need || *need != t.byteSize())
        return fail(StatusCode::Internal, "tensor '" + t.name + "' holds " +
                                              std::to_string(t.byteSize()) +
                                              " bytes, its shape " + Shape::of(t.dims).toString() +
                                              " needs " + std::to_string(need.value_or(0)));
    std::string dict = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': " + shapeLiteral(t.dims) + ", }";
    // Version 1 stores the header length in 16 bits; pad header + '\n' so data is 64-aligned.
    int major = 1;
    std::size_t prefix = kMagicLen + 2 + 2;
    auto padded = [&] {
        std::size_t unpadded = prefix + dict.size() + 1;
        return dict.size() + (kDataAlign - unpadded % kDataAlign) % kDataAlign + 1;
    };
    std::size_t headerLen = padded();
    if (headerLen > 0xffff) {
        major = 2;
        prefix = kMagicLen + 2 + 4;
        headerLen = padded();
    }
    std::string out;
    out.reserve(prefix + headerLen + t.byteSize());
    out.append(kMagic, kMagicLen);
    out.push_back(char(major));
    out.push_back(char(0));
    for (std::size_t i = 0; i < prefix - kMagicLen - 2; ++i)
        out.push_back(char((headerLen >> (8 * i)) & 0xff));
    out += dict;
    out.append(headerLen - dict.size() - 1, ' ');
    out.push_back('\n');
    auto bytes = t.bytes();
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return out;
}

VoidResult writeNpy(const std::string& path, const Tensor& t) {
    auto encoded = encodeNpy(t);
    if (!encoded) return std::unexpected(std::move(encoded.error()).withFile(path));
    return writeBytesAtomically(
        path, std::span(reinterpret_cast<const std::byte*>(encoded->data()), encoded->size()));
}

} // namespace ew::ir
