#include "json_writer.h"

#include "assert.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ew {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is malformed (overlong
// forms, surrogates and code points above U+10FFFF included, as RFC 3629 requires).
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    std::size_t n = s.size() - i;
    auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
        if (c == 0xE0 && b(i + 1) < 0xA0) return 0; // overlong
        if (c == 0xED && b(i + 1) > 0x9F) return 0; // UTF-16 surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        if (c == 0xF0 && b(i + 1) < 0x90) return 0; // overlong
        if (c == 0xF4 && b(i + 1) > 0x8F) return 0; // above U+10FFFF
        return 4;
    }
    return 0;
}

void appendEscaped(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
            }
            ++i;
            continue;
        }
        std::size_t len = utf8SequenceLength(s, i);
        if (len == 0) {
            out += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    out += '"';
}

} // namespace

std::string JsonWriter::quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    appendEscaped(out, s);
    return out;
}

void JsonWriter::newline() {
    if (m_indent <= 0) return;
    m_out += '\n';
    m_out.append(m_stack.size() * static_cast<std::size_t>(m_indent), ' ');
}

void JsonWriter::beforeValue() {
    if (m_stack.empty()) {
        EW_ASSERT(!m_hasRoot); // one root value per document
        m_hasRoot = true;
        return;
    }
    Level& top = m_stack.back();
    if (top.ctx == Ctx::Object) {
        EW_ASSERT(top.keyPending); // key() must come first inside an object
        top.keyPending = false;
        return;
    }
    if (!top.empty) m_out += top.compact ? ", " : ",";
    top.empty = false;
    if (!top.compact) newline();
}

JsonWriter& JsonWriter::key(std::string_view k) {
    EW_ASSERT(!m_stack.empty() && m_stack.back().ctx == Ctx::Object && !m_stack.back().keyPending);
    Level& top = m_stack.back();
    if (!top.empty) m_out += top.compact ? ", " : ",";
    top.empty = false;
    top.keyPending = true;
    if (!top.compact) newline();
    appendEscaped(m_out, k);
    m_out += m_indent > 0 ? ": " : ":";
    return *this;
}

JsonWriter& JsonWriter::open(Ctx ctx, char c, bool compact) {
    beforeValue();
    m_out += c;
    // Everything inside a compact container stays on its line.
    m_stack.push_back(Level{ctx, true, false, (compact || compactHere()) && m_indent > 0});
    return *this;
}

JsonWriter& JsonWriter::close(Ctx ctx, char c) {
    EW_ASSERT(!m_stack.empty() && m_stack.back().ctx == ctx && !m_stack.back().keyPending);
    bool empty = m_stack.back().empty;
    bool compact = m_stack.back().compact;
    m_stack.pop_back();
    if (!empty && !compact) newline();
    m_out += c;
    return *this;
}

JsonWriter& JsonWriter::beginObject() {
    return open(Ctx::Object, '{', false);
}
JsonWriter& JsonWriter::endObject() {
    return close(Ctx::Object, '}');
}
JsonWriter& JsonWriter::beginArray(bool compact) {
    return open(Ctx::Array, '[', compact);
}
JsonWriter& JsonWriter::endArray() {
    return close(Ctx::Array, ']');
}

JsonWriter& JsonWriter::value(std::string_view s) {
    beforeValue();
    appendEscaped(m_out, s);
    return *this;
}

JsonWriter& JsonWriter::value(int64_t v) {
    beforeValue();
    m_out += std::to_string(v);
    return *this;
}

JsonWriter& JsonWriter::value(uint64_t v) {
    beforeValue();
    m_out += std::to_string(v);
    return *this;
}

JsonWriter& JsonWriter::value(double v) {
    beforeValue();
    if (!std::isfinite(v)) {
        m_out += "null";
        return *this;
    }
    // Shortest text that reads back as the same double.
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    EW_ASSERT(ec == std::errc());
    m_out.append(buf, end);
    return *this;
}

JsonWriter& JsonWriter::value(bool v) {
    beforeValue();
    m_out += v ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null() {
    beforeValue();
    m_out += "null";
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    beforeValue();
    m_out.append(json);
    return *this;
}

} // namespace ew
