#pragma once
#include "ir/shape.h"

#include <QString>

#include <cstdint>
#include <string_view>

namespace ew::ui {

/// Converts core UTF-8 strings at the widget border.
inline QString qstr(std::string_view s) {
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

/// "11.69 M", "5,328" (locale-aware; exact below ten thousand so small counts stay readable).
QString formatCount(int64_t n);
/// "44.6 MiB" (locale-aware, binary units as file managers show them).
QString formatBytes(uint64_t bytes);
/// "1.82 G" MACs; a trailing "≥" marks a lower bound when some shape was unknown.
QString formatMacs(int64_t macs, bool exact = true);
/// A value's element type: "float32", or "?" when unknown; composite types spelled as core does.
QString dtypeText(const ir::Type& t);
/// "[1,3,224,224]", "[N,3,?,?]", "unknown rank", or the composite type text.
QString shapeText(const ir::Type& t);

} // namespace ew::ui
