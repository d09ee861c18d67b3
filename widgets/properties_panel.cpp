#include "properties_panel.h"

#include "format_util.h"
#include "inspector/value_format.h"

#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

// Constant-node tensors are not precomputed; scanning small ones on selection is instant and
// large ones are rare enough to skip rather than stall the GUI thread.
constexpr int64_t kMaxInlineStatsElements = 1 << 16;

QString number(double v) {
    return formatStatNumber(v);
}

/// The key of the input or attribute row `item` belongs to ("input:1", "attr:value"), or empty.
QString tensorKeyOf(QTreeWidgetItem* item) {
    for (; item; item = item->parent()) {
        QString key = item->data(1, PropertiesPanel::KeyRole).toString();
        QStringList parts = key.split(QLatin1Char(':'));
        if (parts.size() == 2 && parts[0] == QLatin1String("input")) return key;
        if (parts.size() == 2 && parts[0] == QLatin1String("attr") &&
            item->data(0, PropertiesPanel::KeyRole + 1).toBool())
            return key;
    }
    return {};
}

constexpr int kQuantTableMaxRows = 8;

} // namespace

PropertiesPanel::PropertiesPanel(QWidget* parent) : QWidget(parent) {
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("propertiesTitle"));
    m_title->setTextFormat(Qt::RichText);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_tree = new QTreeWidget(this);
    m_tree->setObjectName(QStringLiteral("propertiesTree"));
    m_tree->setColumnCount(2);
    m_tree->setHeaderLabels({tr("Property"), tr("Value")});
    m_tree->setAlternatingRowColors(true);
    // Not uniform: per-channel quantization tables sit in taller rows.
    m_tree->setUniformRowHeights(false);
    m_tree->setTextElideMode(Qt::ElideMiddle);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setColumnWidth(0, 170);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    layout->addWidget(m_tree, 1);
    connect(m_tree, &QTreeWidget::itemClicked, this, &PropertiesPanel::onItemClicked);
    showNode(nullptr);
}

void PropertiesPanel::onItemClicked(QTreeWidgetItem* item) {
    QString key = tensorKeyOf(item);
    if (!key.isEmpty()) emit tensorActivated(key);
}

void PropertiesPanel::addQuantRows(QTreeWidgetItem* item, const ir::QuantParams& q,
                                   const QString& k) {
    if (q.scales.empty()) return;
    // The storage type is the value's own element type, shown in its Type row.
    int64_t channels = int64_t(q.scales.size());
    if (!q.isPerAxis()) {
        addRow(item, tr("Quantization"), tr("per tensor"), k + QStringLiteral(":quant"));
        addRow(item, tr("Scale"), number(q.scales[0]), k + QStringLiteral(":scale"));
        addRow(item, tr("Zero point"), QString::number(q.zeroPoints.empty() ? 0 : q.zeroPoints[0]),
               k + QStringLiteral(":zero_point"));
        return;
    }
    addRow(item, tr("Quantization"),
           tr("per channel, axis %1, %n channel(s)", nullptr, int(channels)).arg(q.axis),
           k + QStringLiteral(":quant"));
    auto [smin, smax] = std::minmax_element(q.scales.begin(), q.scales.end());
    addRow(item, tr("Scale"), tr("%1 … %2").arg(number(*smin), number(*smax)),
           k + QStringLiteral(":scale"));
    QString zp;
    if (q.zeroPoints.empty()) {
        zp = tr("all 0");
    } else {
        auto [zmin, zmax] = std::minmax_element(q.zeroPoints.begin(), q.zeroPoints.end());
        zp = *zmin == *zmax ? tr("all %1").arg(*zmin) : tr("%1 … %2").arg(*zmin).arg(*zmax);
    }
    addRow(item, tr("Zero point"), zp, k + QStringLiteral(":zero_point"));

    // The per-channel parameters as a real table in a row of its own.
    auto* row = new QTreeWidgetItem(item);
    row->setFirstColumnSpanned(true);
    row->setData(1, KeyRole, k + QStringLiteral(":quant_table"));
    auto* table = new QTableWidget(int(channels), 3);
    table->setObjectName(QStringLiteral("quantTable:") + k);
    table->setHorizontalHeaderLabels({tr("Channel"), tr("Scale"), tr("Zero point")});
    table->verticalHeader()->setVisible(false);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    int rowHeight = table->fontMetrics().height() + 4;
    table->verticalHeader()->setDefaultSectionSize(rowHeight);
    for (int64_t c = 0; c < channels; ++c) {
        auto* ch = new QTableWidgetItem(QString::number(c));
        ch->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        auto* sc = new QTableWidgetItem(number(q.scales[std::size_t(c)]));
        sc->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        int64_t zv =
            q.zeroPoints.empty()
                ? 0
                : q.zeroPoints[std::min<std::size_t>(std::size_t(c), q.zeroPoints.size() - 1)];
        auto* z = new QTableWidgetItem(QString::number(zv));
        z->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        table->setItem(int(c), 0, ch);
        table->setItem(int(c), 1, sc);
        table->setItem(int(c), 2, z);
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    int shown = int(std::min<int64_t>(channels, kQuantTableMaxRows));
    int height = table->horizontalHeader()->sizeHint().height() + shown * rowHeight +
                 2 * table->frameWidth() + 2;
    table->setFixedHeight(height);
    row->setSizeHint(0, QSize(200, height + 4));
    m_tree->setItemWidget(row, 0, table);
}

QTableWidget* PropertiesPanel::quantTable(const QString& keyPrefix) const {
    return m_tree->findChild<QTableWidget*>(QStringLiteral("quantTable:") + keyPrefix);
}

void PropertiesPanel::setDocument(DocumentPtr doc) {
    m_doc = std::move(doc);
    showNode(nullptr);
}

QTreeWidgetItem* PropertiesPanel::addSection(const QString& title) {
    auto* item = new QTreeWidgetItem(m_tree, {title});
    QFont f = item->font(0);
    f.setBold(true);
    item->setFont(0, f);
    item->setFirstColumnSpanned(true);
    item->setExpanded(true);
    return item;
}

QTreeWidgetItem* PropertiesPanel::addRow(QTreeWidgetItem* parent, const QString& label,
                                         const QString& value, const QString& key) {
    auto* item = new QTreeWidgetItem(parent, {label, value});
    item->setData(1, KeyRole, key);
    item->setToolTip(1, value);
    return item;
}

void PropertiesPanel::addStatsRows(QTreeWidgetItem* item, const TensorStats& s, const ir::Tensor& t,
                                   const QString& k) {
    addRow(item, tr("Elements"),
           tr("%1 (%2)").arg(formatCount(t.numElements()), formatBytes(t.byteSize())),
           k + QStringLiteral(":elements"));
    if (!s.numeric || s.count == 0) return;
    addRow(item, tr("Min"), number(s.min), k + QStringLiteral(":min"));
    addRow(item, tr("Max"), number(s.max), k + QStringLiteral(":max"));
    addRow(item, tr("Mean"), number(s.mean), k + QStringLiteral(":mean"));
    addRow(item, tr("Std dev"), number(s.stddev), k + QStringLiteral(":std"));
    addRow(item, tr("Sparsity"),
           tr("%1 % zeros (%2 of %3)")
               .arg(QLocale().toString(s.sparsity() * 100.0, 'f', 1), formatCount(s.zeros),
                    formatCount(s.count)),
           k + QStringLiteral(":sparsity"));
    if (s.nonFinite > 0)
        addRow(item, tr("NaN / inf"), formatCount(s.nonFinite), k + QStringLiteral(":nonfinite"));
}

void PropertiesPanel::addValueRows(QTreeWidgetItem* item, const ir::Value* v, const QString& k,
                                   bool isInput) {
    addRow(item, tr("Type"), dtypeText(v->type), k + QStringLiteral(":dtype"));
    addRow(item, tr("Shape"), shapeText(v->type), k + QStringLiteral(":shape"));
    if (v->quant) addQuantRows(item, *v->quant, k);
    if (isInput) {
        QString source;
        if (v->isInitializer())
            source = tr("initializer (weight)");
        else if (v->isGraphInput())
            source = tr("graph input");
        else if (v->producer())
            source =
                tr("output of %1 (%2)")
                    .arg(qstr(v->producer()->displayName()), qstr(v->producer()->qualifiedOp()));
        else if (v->graph() != m_node->graph())
            source = tr("value of the enclosing graph");
        else
            source = tr("not produced by any node");
        addRow(item, tr("Source"), source, k + QStringLiteral(":source"));
        if (v->isInitializer()) {
            if (const TensorStats* s = m_doc ? m_doc->statsFor(v) : nullptr)
                addStatsRows(item, *s, *v->initializer, k);
        }
    } else {
        QStringList consumers;
        for (const ir::Use& u : v->uses())
            if (u.node) consumers << qstr(u.node->displayName());
        if (v->isGraphOutput()) consumers.prepend(tr("graph output"));
        constexpr int kShown = 6;
        QString text = consumers.isEmpty()
                           ? tr("unused")
                           : QStringList(consumers.mid(0, kShown)).join(QStringLiteral(", "));
        if (consumers.size() > kShown)
            text += tr(" and %n more", nullptr, int(consumers.size() - kShown));
        addRow(item, tr("Used by"), text, k + QStringLiteral(":consumers"));
    }
}

void PropertiesPanel::showNode(const ir::Node* node) {
    m_node = node;
    m_tree->clear();
    if (!node || !m_doc) {
        m_title->setText(m_doc ? tr("<i>Select a node in the node list to see its attributes, "
                                    "inputs and weights.</i>")
                               : tr("<i>No model open.</i>"));
        return;
    }
    m_title->setText(QStringLiteral("<b>%1</b> &nbsp;·&nbsp; %2")
                         .arg(qstr(node->displayName()).toHtmlEscaped(),
                              qstr(node->qualifiedOp()).toHtmlEscaped()));

    QTreeWidgetItem* sec = addSection(tr("Node"));
    addRow(sec, tr("Name"), qstr(node->name.empty() ? node->displayName() : node->name),
           QStringLiteral("name"));
    addRow(sec, tr("Op type"), qstr(node->opType), QStringLiteral("op"));
    if (!ir::canonicalDomain(node->domain).empty())
        addRow(sec, tr("Domain"), qstr(node->domain), QStringLiteral("domain"));
    if (const ir::NodeCost* c = m_doc->costFor(node)) {
        if (c->macs > 0)
            addRow(sec, tr("MACs"), formatMacs(c->macs, c->exact), QStringLiteral("macs"));
        if (c->flops > 0)
            addRow(sec, tr("FLOPs"), formatMacs(c->flops, c->exact), QStringLiteral("flops"));
        if (c->paramCount > 0)
            addRow(
                sec, tr("Parameters"),
                tr("%1 (%2)").arg(formatCount(c->paramCount), formatBytes(uint64_t(c->paramBytes))),
                QStringLiteral("params"));
    }
    auto subs = node->subgraphs();
    if (!subs.empty())
        addRow(sec, tr("Subgraphs"), tr("%n subgraph(s)", nullptr, int(subs.size())),
               QStringLiteral("subgraphs"));
    if (!node->docString.empty())
        addRow(sec, tr("Documentation"), qstr(node->docString), QStringLiteral("doc"));

    sec = addSection(tr("Attributes (%1)").arg(node->attributes.size()));
    if (node->attributes.empty()) addRow(sec, tr("(none)"), QString(), QStringLiteral("attr:none"));
    for (const ir::Attribute& a : node->attributes) {
        QString key = QStringLiteral("attr:") + qstr(a.name);
        auto* row = addRow(sec, qstr(a.name), qstr(a.valueString()), key);
        row->setToolTip(1, qstr(a.valueString(256)));
        if (a.type == ir::AttrType::Tensor) {
            row->setData(0, KeyRole + 1, true); // the inspector can show it as a tensor
            if (a.t.numElements() <= kMaxInlineStatsElements) {
                TensorStats s = computeTensorStats(a.t);
                addStatsRows(row, s, a.t, key);
                row->setExpanded(true);
            }
        }
    }

    sec = addSection(tr("Inputs (%1)").arg(node->inputs().size()));
    for (std::size_t i = 0; i < node->inputs().size(); ++i) {
        const ir::Value* v = node->inputs()[i];
        QString key = QStringLiteral("input:%1").arg(i);
        if (!v) {
            addRow(sec, tr("%1: (omitted)").arg(i), QString(), key);
            continue;
        }
        auto* item = addRow(sec, QStringLiteral("%1: %2").arg(i).arg(qstr(v->name)),
                            qstr(v->type.toString()), key);
        addValueRows(item, v, key, true);
        item->setExpanded(true);
    }

    sec = addSection(tr("Outputs (%1)").arg(node->outputs().size()));
    for (std::size_t i = 0; i < node->outputs().size(); ++i) {
        const ir::Value* v = node->outputs()[i];
        QString key = QStringLiteral("output:%1").arg(i);
        if (!v) {
            addRow(sec, tr("%1: (omitted)").arg(i), QString(), key);
            continue;
        }
        auto* item = addRow(sec, QStringLiteral("%1: %2").arg(i).arg(qstr(v->name)),
                            qstr(v->type.toString()), key);
        addValueRows(item, v, key, false);
        item->setExpanded(true);
    }
    // Measured by hand: the panel is often behind the summary tab here, where the view's own
    // sizing is unreliable.
    int need = 0;
    QFontMetrics fm(m_tree->font());
    for (QTreeWidgetItemIterator it(m_tree); *it; ++it) {
        int depth = 0;
        for (QTreeWidgetItem* p = (*it)->parent(); p; p = p->parent())
            ++depth;
        if (!(*it)->isFirstColumnSpanned())
            need = std::max(need, fm.horizontalAdvance((*it)->text(0)) +
                                      (depth + 1) * m_tree->indentation() + 12);
    }
    m_labelWidth = need;
    fitLabelColumn();
}

void PropertiesPanel::fitLabelColumn() {
    // Labels get what they need, but values keep at least half of a visible panel.
    int cap = isVisible() ? std::max(120, m_tree->viewport()->width() / 2) : 240;
    if (m_labelWidth > 0) m_tree->setColumnWidth(0, std::min(m_labelWidth, cap));
}

void PropertiesPanel::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    fitLabelColumn();
}

void PropertiesPanel::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    fitLabelColumn();
}

QString PropertiesPanel::valueOf(const QString& key) const {
    for (QTreeWidgetItemIterator it(m_tree); *it; ++it)
        if ((*it)->data(1, KeyRole).toString() == key) return (*it)->text(1);
    return {};
}

} // namespace ew::ui
