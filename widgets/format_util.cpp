#include "format_util.h"

#include <QCoreApplication>
#include <QLocale>

#include <cmath>

namespace ew::ui {

namespace {

QString scaled(double v) {
    static const char* const kSuffix[] = {"", "k", "M", "G", "T", "P"};
    int k = 0;
    while (std::fabs(v) >= 1000.0 && k < 5) {
        v /= 1000.0;
        ++k;
    }
    // Three significant digits are enough to compare models at a glance.
    int decimals = std::fabs(v) >= 100.0 ? 1 : 2;
    return QLocale().toString(v, 'f', decimals) + QStringLiteral(" ") + QLatin1String(kSuffix[k]);
}

} // namespace

QString formatCount(int64_t n) {
    if (std::llabs(n) < 10000) return QLocale().toString(qlonglong(n));
    return scaled(double(n)).trimmed();
}

QString formatBytes(uint64_t bytes) {
    return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeTraditionalFormat);
}

QString formatMacs(int64_t macs, bool exact) {
    QString s = macs < 10000 ? QLocale().toString(qlonglong(macs)) : scaled(double(macs)).trimmed();
    return exact ? s : QStringLiteral("≥ ") + s;
}

QString dtypeText(const ir::Type& t) {
    if (t.kind == ir::Type::Kind::Tensor || t.kind == ir::Type::Kind::SparseTensor)
        return t.elemType == ir::DataType::Undefined ? QStringLiteral("?")
                                                     : qstr(ir::dataTypeName(t.elemType));
    if (!t.isKnown()) return QStringLiteral("?");
    return qstr(t.toString());
}

QString shapeText(const ir::Type& t) {
    if (t.kind == ir::Type::Kind::Tensor || t.kind == ir::Type::Kind::SparseTensor) {
        if (!t.shape) return QCoreApplication::translate("ew::ui::Format", "unknown rank");
        return qstr(t.shape->toString());
    }
    if (!t.isKnown()) return QStringLiteral("?");
    return qstr(t.toString());
}

} // namespace ew::ui
