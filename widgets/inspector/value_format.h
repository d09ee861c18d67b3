#pragma once
#include <QString>

namespace ew::ui {

/// A statistic or parameter for display: plain decimals while they stay short ("0.00032091",
/// "-1.2345"), scientific notation for very small or very large magnitudes ("3.125e-08"),
/// locale-aware. Five significant digits: enough to compare channels, short enough for a dock.
QString formatStatNumber(double v);

/// A measured or computed quantity with SI suffixes above ten thousand ("118.01 M", "0.0123",
/// "4,096"), for overlays whose values span orders of magnitude.
QString formatQuantity(double v);

} // namespace ew::ui
