#include "summary_panel.h"

#include "format_util.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QHeaderView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace ew::ui {

QString opsetsText(const std::vector<ir::OpsetImport>& opsets) {
    QStringList parts;
    for (const auto& o : opsets) {
        auto d = ir::canonicalDomain(o.domain);
        parts << QStringLiteral("%1 %2")
                     .arg(d.empty() ? QStringLiteral("ai.onnx") : qstr(d))
                     .arg(o.version);
    }
    return parts.join(QStringLiteral(", "));
}

QString ioTypeText(const ir::ModelSummary::Io& io) {
    if (!io.rankKnown)
        return qstr(io.dtype) + QLatin1Char(' ') +
               QCoreApplication::translate("ew::ui::Format", "unknown rank");
    QStringList dims;
    for (const auto& d : io.shape)
        dims << qstr(d);
    return QStringLiteral("%1 [%2]").arg(qstr(io.dtype), dims.join(QLatin1Char(',')));
}

QString ioText(const ir::ModelSummary::Io& io) {
    return qstr(io.name) + QStringLiteral(": ") + ioTypeText(io);
}

SummaryPanel::SummaryPanel(QWidget* parent) : QWidget(parent) {
    m_tree = new QTreeWidget(this);
    m_tree->setObjectName(QStringLiteral("summaryTree"));
    m_tree->setColumnCount(2);
    m_tree->setHeaderLabels({tr("Field"), tr("Value")});
    m_tree->setAlternatingRowColors(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setRootIsDecorated(true);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setColumnWidth(0, 150);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_tree);
    setDocument(nullptr);
}

QTreeWidgetItem* SummaryPanel::addRow(QTreeWidgetItem* parent, const QString& label,
                                      const QString& value, const QString& key) {
    auto* item = parent ? new QTreeWidgetItem(parent, {label, value})
                        : new QTreeWidgetItem(m_tree, {label, value});
    item->setData(1, KeyRole, key);
    item->setToolTip(1, value);
    return item;
}

void SummaryPanel::setDocument(DocumentPtr doc) {
    m_tree->clear();
    if (!doc) {
        addRow(nullptr, tr("No model open"), QString(), QString());
        return;
    }
    const ir::ModelSummary& s = doc->summary;
    addRow(nullptr, tr("File"), QFileInfo(doc->path).fileName(), QStringLiteral("file"))
        ->setToolTip(1, doc->path);
    addRow(nullptr, tr("Format"), qstr(s.format), QStringLiteral("format"));
    addRow(nullptr, tr("File size"), formatBytes(s.fileBytes), QStringLiteral("file_bytes"));
    addRow(nullptr, tr("IR version"), QString::number(s.irVersion), QStringLiteral("ir_version"));
    addRow(nullptr, tr("Opsets"), opsetsText(s.opsets), QStringLiteral("opsets"));
    addRow(nullptr, tr("Producer"), s.producer.empty() ? tr("(not recorded)") : qstr(s.producer),
           QStringLiteral("producer"));

    auto* inputs =
        addRow(nullptr, tr("Inputs"), QString::number(s.inputs.size()), QStringLiteral("inputs"));
    for (std::size_t i = 0; i < s.inputs.size(); ++i)
        addRow(inputs, QString::number(i), ioText(s.inputs[i]), QStringLiteral("inputs:%1").arg(i));
    inputs->setExpanded(true);
    auto* outputs = addRow(nullptr, tr("Outputs"), QString::number(s.outputs.size()),
                           QStringLiteral("outputs"));
    for (std::size_t i = 0; i < s.outputs.size(); ++i)
        addRow(outputs, QString::number(i), ioText(s.outputs[i]),
               QStringLiteral("outputs:%1").arg(i));
    outputs->setExpanded(true);

    addRow(nullptr, tr("Nodes"), QString::number(s.nodeCount), QStringLiteral("node_count"));
    if (s.nodeCountRecursive != s.nodeCount)
        addRow(nullptr, tr("Nodes incl. subgraphs"), QString::number(s.nodeCountRecursive),
               QStringLiteral("node_count_recursive"));
    addRow(
        nullptr, tr("Parameters"),
        tr("%1 (%2)").arg(formatCount(s.parameterCount), formatBytes(uint64_t(s.parameterBytes))),
        QStringLiteral("parameter_count"));
    auto* macs =
        addRow(nullptr, tr("MACs"), formatMacs(s.macs, s.macsExact), QStringLiteral("macs"));
    if (!s.macsExact)
        macs->setToolTip(1, tr("A lower bound: symbolic or unknown dimensions are counted as 1."));

    // Most frequent ops first: that is what a reader scans for.
    std::vector<std::pair<std::string, int64_t>> ops(s.opHistogram.begin(), s.opHistogram.end());
    std::stable_sort(ops.begin(), ops.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    auto* hist = addRow(nullptr, tr("Op types"), QString::number(ops.size()),
                        QStringLiteral("op_histogram"));
    for (const auto& [op, count] : ops)
        addRow(hist, qstr(op), QString::number(count), QStringLiteral("op:") + qstr(op));
    hist->setExpanded(true);
    m_tree->resizeColumnToContents(0);
}

QString SummaryPanel::valueOf(const QString& key) const {
    for (QTreeWidgetItemIterator it(m_tree); *it; ++it)
        if ((*it)->data(1, KeyRole).toString() == key) return (*it)->text(1);
    return {};
}

} // namespace ew::ui
