#include "overlay.h"

#include "widgets/format_util.h"
#include "widgets/model_document.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

constexpr qint64 kMaxOverlayBytes = qint64(64) << 20;

QString jsonTypeName(const QJsonValue& v) {
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("boolean");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    default:
        return QStringLiteral("undefined");
    }
}

} // namespace

void Overlay::updateRange() {
    bool first = true;
    minValue = maxValue = 0.0;
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        if (first) {
            minValue = maxValue = it.value();
            first = false;
        } else {
            minValue = std::min(minValue, it.value());
            maxValue = std::max(maxValue, it.value());
        }
    }
}

QString overlayKey(const ir::Node& node) {
    return qstr(node.name.empty() ? node.displayName() : node.name);
}

std::expected<Overlay, QString> parseOverlayJson(const QByteArray& json, const QString& source) {
    const QString file = QDir::toNativeSeparators(source);
    QJsonParseError err;
    QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    if (err.error != QJsonParseError::NoError)
        return std::unexpected(Overlay::tr("%1: not valid JSON: %2 at offset %3")
                                   .arg(file, err.errorString())
                                   .arg(err.offset));
    if (!doc.isObject())
        return std::unexpected(
            Overlay::tr(
                "%1: the top level must be a JSON object with \"name\", \"unit\" and \"values\"")
                .arg(file));
    const QJsonObject root = doc.object();

    Overlay o;
    o.source = source;
    o.name = QFileInfo(source).completeBaseName();
    if (root.contains(QLatin1String("name"))) {
        QJsonValue n = root.value(QLatin1String("name"));
        if (!n.isString())
            return std::unexpected(
                Overlay::tr("%1: \"name\" must be a string, not %2").arg(file, jsonTypeName(n)));
        if (!n.toString().trimmed().isEmpty()) o.name = n.toString().trimmed();
    }
    if (root.contains(QLatin1String("unit"))) {
        QJsonValue u = root.value(QLatin1String("unit"));
        if (!u.isString())
            return std::unexpected(
                Overlay::tr("%1: \"unit\" must be a string, not %2").arg(file, jsonTypeName(u)));
        o.unit = u.toString().trimmed();
    }
    if (!root.contains(QLatin1String("values")))
        return std::unexpected(
            Overlay::tr("%1: missing \"values\" (an object mapping node names to numbers)")
                .arg(file));
    QJsonValue values = root.value(QLatin1String("values"));
    if (!values.isObject())
        return std::unexpected(
            Overlay::tr("%1: \"values\" must be an object mapping node names to numbers, not %2")
                .arg(file, jsonTypeName(values)));
    const QJsonObject map = values.toObject();
    if (map.isEmpty()) return std::unexpected(Overlay::tr("%1: \"values\" is empty").arg(file));

    QStringList bad;
    int badCount = 0;
    for (auto it = map.constBegin(); it != map.constEnd(); ++it) {
        if (!it.value().isDouble()) {
            if (++badCount <= 3)
                bad << QStringLiteral("\"%1\" (%2)").arg(it.key(), jsonTypeName(it.value()));
            continue;
        }
        o.values.insert(it.key(), it.value().toDouble());
    }
    if (badCount > 0) {
        QString list = bad.join(QStringLiteral(", "));
        if (badCount > bad.size()) list += Overlay::tr(" and %1 more").arg(badCount - bad.size());
        return std::unexpected(Overlay::tr("%1: %2 value(s) in \"values\" are not numbers: %3")
                                   .arg(file)
                                   .arg(badCount)
                                   .arg(list));
    }
    o.updateRange();
    return o;
}

std::expected<Overlay, QString> loadOverlayJson(const QString& path) {
    const QString file = QDir::toNativeSeparators(path);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return std::unexpected(Overlay::tr("%1: cannot read: %2").arg(file, f.errorString()));
    if (f.size() > kMaxOverlayBytes)
        return std::unexpected(Overlay::tr("%1: too large for an overlay (%2; at most %3)")
                                   .arg(file, formatBytes(uint64_t(f.size())),
                                        formatBytes(uint64_t(kMaxOverlayBytes))));
    QByteArray bytes = f.readAll();
    if (f.error() != QFileDevice::NoError)
        return std::unexpected(Overlay::tr("%1: cannot read: %2").arg(file, f.errorString()));
    return parseOverlayJson(bytes, path);
}

void matchOverlay(Overlay& overlay, const ir::Graph& graph) {
    QSet<QString> names;
    for (const auto& n : graph.nodes()) {
        names.insert(overlayKey(*n));
    }
    QHash<QString, double> kept;
    QStringList unmatched = overlay.unmatched;
    for (auto it = overlay.values.cbegin(); it != overlay.values.cend(); ++it) {
        if (names.contains(it.key()))
            kept.insert(it.key(), it.value());
        else
            unmatched << it.key();
    }
    unmatched.sort();
    overlay.values = std::move(kept);
    overlay.unmatched = std::move(unmatched);
    overlay.updateRange();
}

Overlay macsOverlay(const ModelDocument& doc) {
    Overlay o;
    o.name = Overlay::tr("MACs");
    o.unit = Overlay::tr("MACs");
    if (const ir::Graph* g = doc.graph())
        for (const auto& n : g->nodes())
            if (const ir::NodeCost* c = doc.costFor(n.get()); c && c->macs > 0)
                o.values.insert(overlayKey(*n), double(c->macs));
    o.updateRange();
    return o;
}

} // namespace ew::ui
