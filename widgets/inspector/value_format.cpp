#include "value_format.h"

#include <QLocale>

#include <cmath>

namespace ew::ui {

QString formatStatNumber(double v) {
    if (v == 0.0) return QStringLiteral("0");
    if (std::isnan(v)) return QStringLiteral("NaN");
    if (std::isinf(v)) return v > 0 ? QStringLiteral("∞") : QStringLiteral("-∞");
    double a = std::fabs(v);
    // Weights around 1e-4 read better as 0.00032091 than as 3.2091e-04.
    if (a >= 1e-5 && a < 1e7) return QLocale().toString(v, 'g', 5);
    return QLocale().toString(v, 'e', 3);
}

QString formatQuantity(double v) {
    if (!std::isfinite(v)) return formatStatNumber(v);
    double a = std::fabs(v);
    if (a < 10000.0) {
        if (v == std::floor(v)) return QLocale().toString(qlonglong(v));
        return QLocale().toString(v, 'g', a < 1e-3 ? 3 : 4);
    }
    static const char* const kSuffix[] = {"k", "M", "G", "T", "P", "E"};
    int k = -1;
    while (a >= 1000.0 && k < 5) {
        a /= 1000.0;
        v /= 1000.0;
        ++k;
    }
    int decimals = a >= 100.0 ? 1 : 2;
    return QLocale().toString(v, 'f', decimals) + QLatin1Char(' ') + QLatin1String(kSuffix[k]);
}

} // namespace ew::ui
