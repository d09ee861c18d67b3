#pragma once
#include "ir/graph.h"

#include <QCoreApplication>
#include <QHash>
#include <QString>
#include <QStringList>

#include <expected>

namespace ew::ui {

struct ModelDocument;

/// A named per-node quantity (latency, quantization error, MACs, ...) to show on the graph:
/// a map from node name to a number, with a unit. Built-in overlays are computed from the
/// document; others come from JSON files now and from profiling and quantization later.
/// Invariant after matchOverlay(): `values` holds only names of nodes of the main graph (the
/// others are listed in `unmatched`), and minValue/maxValue span `values`.
struct Overlay {
    Q_DECLARE_TR_FUNCTIONS(ew::ui::Overlay)

  public:
    QString name;
    QString unit;
    QString source; ///< the file it was loaded from; empty for built-ins
    QHash<QString, double> values;
    QStringList unmatched; ///< names in the file that are not nodes of the model
    double minValue = 0.0;
    double maxValue = 0.0;

    bool isBuiltIn() const { return source.isEmpty(); }
    /// Recomputes minValue/maxValue from `values`.
    void updateRange();
};

/// The overlay key of a node: its name, or its display name when it has none (as the node list
/// and MainWindow::selectNode name it).
QString overlayKey(const ir::Node& node);

/// Parses overlay JSON: `{ "name": "...", "unit": "...", "values": { "<node>": number } }`.
/// "name" defaults to the file's base name and "unit" to empty. Every error names `source` and
/// says what is wrong: not JSON (with the offset), not an object, no "values" object, no
/// entries, a value that is not a number (naming the node), a name or unit that is not a string.
std::expected<Overlay, QString> parseOverlayJson(const QByteArray& json, const QString& source);

/// Reads and parses an overlay file (at most 64 MiB); errors name the file.
std::expected<Overlay, QString> loadOverlayJson(const QString& path);

/// Keeps the values whose names are nodes of `graph` (main graph only) and moves the other
/// names to `unmatched` (sorted); then updates the range.
void matchOverlay(Overlay& overlay, const ir::Graph& graph);

/// The built-in "MACs" overlay: core/ir/cost.h's per-node multiply-accumulates for every
/// main-graph node that has any.
Overlay macsOverlay(const ModelDocument& doc);

} // namespace ew::ui
