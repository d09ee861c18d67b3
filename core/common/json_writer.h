#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ew {

/// A small streaming JSON writer for machine-readable CLI output and reports.
/// The caller opens and closes objects and arrays; the writer inserts commas, indentation and
/// string escapes. Invariant: inside an object every value is preceded by key(). Strings are
/// emitted as valid UTF-8 whatever the input (model files are untrusted, so invalid sequences
/// become U+FFFD instead of producing a document no parser accepts). Integers are written
/// exactly in 64 bits; non-finite doubles become null because JSON has no spelling for them.
class JsonWriter {
  public:
    /// indent = 0 writes everything on one line.
    explicit JsonWriter(int indent = 2) : m_indent(indent) {}

    JsonWriter& beginObject();
    JsonWriter& endObject();
    /// `compact` keeps the array on one line ("[1, 3, 224, 224]") whatever the indentation:
    /// short lists of scalars read better that way.
    JsonWriter& beginArray(bool compact = false);
    JsonWriter& endArray();
    JsonWriter& key(std::string_view k);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(int64_t v);
    JsonWriter& value(uint64_t v);
    JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(double v);
    JsonWriter& value(bool v);
    JsonWriter& null();
    /// Inserts an already serialized JSON value (e.g. an object built by another writer).
    JsonWriter& raw(std::string_view json);

    /// The document so far; complete once every container is closed.
    const std::string& str() const { return m_out; }
    bool complete() const { return m_stack.empty() && m_hasRoot; }

    /// `s` as a quoted JSON string literal.
    static std::string quote(std::string_view s);

  private:
    enum class Ctx { Object, Array };
    struct Level {
        Ctx ctx;
        bool empty = true;
        bool keyPending = false;
        bool compact = false;
    };
    void beforeValue();
    void newline();
    JsonWriter& open(Ctx ctx, char c, bool compact);
    bool compactHere() const { return !m_stack.empty() && m_stack.back().compact; }
    JsonWriter& close(Ctx ctx, char c);

    int m_indent;
    bool m_hasRoot = false;
    std::vector<Level> m_stack;
    std::string m_out;
};

} // namespace ew
