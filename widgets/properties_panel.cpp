#include "properties_panel.h"

#include "format_util.h"

#include <QHeaderView>
#include <QLabel>
#include <QLocale>
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
    if (v == 0.0) return QStringLiteral("0");
    double a = std::fabs(v);
    // Plain decimals while they stay short; weights around 1e-4 read better as 0.00032091.
    if (a >= 1e-5 && a < 1e7) return QLocale().toString(v, 'g', 5);
    return QLocale().toString(v, 'e', 3);
}

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
    m_tree->setUniformRowHeights(true);
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
    showNode(nullptr);
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
        if (a.type == ir::AttrType::Tensor && a.t.numElements() <= kMaxInlineStatsElements) {
            TensorStats s = computeTensorStats(a.t);
            addStatsRows(row, s, a.t, key);
            row->setExpanded(true);
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
