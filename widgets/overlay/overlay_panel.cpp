#include "overlay_panel.h"

#include "widgets/format_util.h"
#include "widgets/inspector/value_format.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLinearGradient>
#include <QPainter>
#include <QPushButton>
#include <QSlider>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

QString withUnit(double v, const QString& unit) {
    QString s = formatQuantity(v);
    return unit.isEmpty() ? s : s + QLatin1Char(' ') + unit;
}

/// A numeric table cell that sorts and reads by value.
class ValueItem : public QTableWidgetItem {
  public:
    ValueItem(const QString& text, double v) : QTableWidgetItem(text), m_value(v) {
        setData(Qt::UserRole, v);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        return m_value < other.data(Qt::UserRole).toDouble();
    }

  private:
    double m_value;
};

} // namespace

OverlayLegend::OverlayLegend(OverlayController* controller, QWidget* parent)
    : QWidget(parent), m_controller(controller) {
    setObjectName(QStringLiteral("overlayLegend"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(controller, &OverlayController::changed, this, qOverload<>(&QWidget::update));
}

QSize OverlayLegend::sizeHint() const {
    return {240, fontMetrics().height() * 2 + 22};
}

QSize OverlayLegend::minimumSizeHint() const {
    return {120, sizeHint().height()};
}

void OverlayLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    const Overlay* o = m_controller->current();
    QRect bar(4, 4, width() - 8, 16);
    if (!o || o->values.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter,
                   o ? tr("This overlay has no values for this model") : tr("No overlay shown"));
        return;
    }
    QLinearGradient g(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= 10; ++i)
        g.setColorAt(i / 10.0, OverlayController::gradientColor(i / 10.0));
    p.fillRect(bar, g);
    // Below the threshold: hatched grey, as those nodes are drawn without a tint.
    double t = m_controller->normalized(m_controller->threshold());
    if (m_controller->threshold() > o->minValue && t > 0.0) {
        QRect below(bar.left(), bar.top(), int(std::round(bar.width() * t)), bar.height());
        QColor grey = palette().color(QPalette::Window);
        grey.setAlpha(210);
        p.fillRect(below, grey);
        p.fillRect(below, QBrush(palette().color(QPalette::Mid), Qt::BDiagPattern));
        p.setPen(QPen(palette().color(QPalette::WindowText), 2));
        p.drawLine(below.right() + 1, bar.top() - 2, below.right() + 1, bar.bottom() + 2);
    }
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(bar.adjusted(0, 0, -1, -1));

    p.setPen(palette().color(QPalette::WindowText));
    QRect text(bar.left(), bar.bottom() + 3, bar.width(), fontMetrics().height() + 2);
    p.drawText(text, Qt::AlignLeft | Qt::AlignVCenter, withUnit(o->minValue, o->unit));
    p.drawText(text, Qt::AlignRight | Qt::AlignVCenter, withUnit(o->maxValue, o->unit));
    if (m_controller->logScale() && m_controller->logScaleUsable())
        p.drawText(text, Qt::AlignHCenter | Qt::AlignVCenter, tr("log scale"));
}

OverlayPanel::OverlayPanel(OverlayController* controller, QWidget* parent)
    : QWidget(parent), m_controller(controller) {
    m_picker = new QComboBox(this);
    m_picker->setObjectName(QStringLiteral("overlayPicker"));
    m_picker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_picker->setMinimumContentsLength(12);
    m_load = new QPushButton(tr("Load…"), this);
    m_load->setObjectName(QStringLiteral("overlayLoad"));
    m_load->setToolTip(tr("Load an overlay from a JSON file: { \"name\": …, \"unit\": …, "
                          "\"values\": { \"node name\": number } }"));

    m_legend = new OverlayLegend(controller, this);

    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setObjectName(QStringLiteral("overlayThreshold"));
    m_slider->setRange(0, kSliderSteps);
    m_slider->setToolTip(tr("Nodes below the threshold are not highlighted"));
    m_thresholdLabel = new QLabel(this);
    m_thresholdLabel->setObjectName(QStringLiteral("overlayThresholdLabel"));
    m_log = new QCheckBox(tr("Log scale"), this);
    m_log->setObjectName(QStringLiteral("overlayLogScale"));
    m_log->setToolTip(tr("Spread values that span orders of magnitude (all values must be "
                         "positive)"));

    m_info = new QLabel(this);
    m_info->setObjectName(QStringLiteral("overlayInfo"));
    m_info->setWordWrap(true);

    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("overlayTable"));
    m_table->setHorizontalHeaderLabels({tr("Node"), tr("Op"), tr("Value")});
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->horizontalHeader()->setSectionResizeMode(ColNode, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(ColOp, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(ColValue, QHeaderView::ResizeToContents);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Overlay:"), this));
    top->addWidget(m_picker, 1);
    top->addWidget(m_load);
    auto* threshold = new QHBoxLayout;
    threshold->addWidget(new QLabel(tr("Threshold:"), this));
    threshold->addWidget(m_slider, 1);
    threshold->addWidget(m_log);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(top);
    layout->addWidget(m_legend);
    layout->addLayout(threshold);
    layout->addWidget(m_thresholdLabel);
    layout->addWidget(m_info);
    layout->addWidget(m_table, 1);

    connect(m_picker, &QComboBox::currentIndexChanged, this,
            [this](int i) { m_controller->setCurrentIndex(m_picker->itemData(i).toInt()); });
    connect(m_load, &QPushButton::clicked, this, &OverlayPanel::loadRequested);
    connect(m_slider, &QSlider::valueChanged, this, &OverlayPanel::onSliderMoved);
    connect(m_log, &QCheckBox::toggled, m_controller, &OverlayController::setLogScale);
    connect(m_table, &QTableWidget::cellClicked, this, [this](int row, int) {
        if (QTableWidgetItem* it = m_table->item(row, ColNode))
            emit nodeActivated(it->data(NodeNameRole).toString());
    });
    connect(m_controller, &OverlayController::overlaysChanged, this, &OverlayPanel::rebuildPicker);
    connect(m_controller, &OverlayController::changed, this, &OverlayPanel::onChanged);
    rebuildPicker();
    onChanged();
}

void OverlayPanel::rebuildPicker() {
    QSignalBlocker block(m_picker);
    m_picker->clear();
    m_picker->addItem(tr("None"), -1);
    const auto& list = m_controller->overlays();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Overlay& o = list[i];
        QString text = o.isBuiltIn() ? tr("%1 (built-in)").arg(o.name) : o.name;
        m_picker->addItem(text, int(i));
        m_picker->setItemData(m_picker->count() - 1,
                              o.isBuiltIn() ? tr("Computed from the model")
                                            : QDir::toNativeSeparators(o.source),
                              Qt::ToolTipRole);
    }
    m_picker->setCurrentIndex(m_picker->findData(m_controller->currentIndex()));
    m_load->setEnabled(m_controller->document() != nullptr);
    m_picker->setEnabled(m_controller->document() != nullptr);
}

void OverlayPanel::onSliderMoved(int position) {
    m_controller->setThreshold(m_controller->valueAt(double(position) / kSliderSteps));
}

void OverlayPanel::onChanged() {
    const Overlay* o = m_controller->current();
    {
        QSignalBlocker block(m_picker);
        m_picker->setCurrentIndex(m_picker->findData(m_controller->currentIndex()));
    }
    {
        QSignalBlocker block(m_slider);
        m_slider->setEnabled(o && o->maxValue > o->minValue);
        m_slider->setValue(
            o ? int(std::lround(m_controller->normalized(m_controller->threshold()) * kSliderSteps))
              : 0);
    }
    {
        QSignalBlocker block(m_log);
        m_log->setEnabled(m_controller->logScaleUsable());
        m_log->setChecked(m_controller->logScale());
    }
    if (!o) {
        m_thresholdLabel->setText(QString());
        m_info->setText(m_controller->document()
                            ? tr("Pick an overlay to colour the nodes by a per-node value.")
                            : tr("Open a model to use overlays."));
    } else {
        int shown = 0;
        for (auto it = o->values.cbegin(); it != o->values.cend(); ++it)
            if (it.value() >= m_controller->threshold()) ++shown;
        m_thresholdLabel->setText(
            tr("Highlighting %1 of %n node(s): value ≥ %2", nullptr, int(o->values.size()))
                .arg(shown)
                .arg(withUnit(m_controller->threshold(), o->unit)));
        QString info = o->isBuiltIn()
                           ? tr("Built-in overlay, computed from the model.")
                           : tr("Loaded from %1.").arg(QDir::toNativeSeparators(o->source));
        if (!o->unmatched.isEmpty()) {
            info += QLatin1Char(' ') + tr("%n name(s) in the file are not nodes of this model.",
                                          nullptr, int(o->unmatched.size()));
            QStringList some = o->unmatched.mid(0, 10);
            if (o->unmatched.size() > 10) some << QStringLiteral("…");
            m_info->setToolTip(some.join(QLatin1Char('\n')));
        } else {
            m_info->setToolTip(QString());
        }
        m_info->setText(info);
    }
    if (m_tableOverlay != m_controller->currentIndex()) rebuildTable();
    // Tint the value cells as the nodes are tinted; grey out rows below the threshold.
    QColor dim = palette().color(QPalette::PlaceholderText);
    QColor text = palette().color(QPalette::Text);
    for (int r = 0; r < m_table->rowCount(); ++r) {
        QString name = m_table->item(r, ColNode)->data(NodeNameRole).toString();
        std::optional<QColor> c = m_controller->colorFor(name);
        for (int col = 0; col < ColumnCount; ++col)
            m_table->item(r, col)->setForeground(c ? text : dim);
        QTableWidgetItem* v = m_table->item(r, ColValue);
        v->setBackground(c ? QBrush(*c) : QBrush());
        if (c) v->setForeground(QColor(c->lightnessF() < 0.45 ? Qt::white : Qt::black));
    }
}

void OverlayPanel::rebuildTable() {
    m_tableOverlay = m_controller->currentIndex();
    const Overlay* o = m_controller->current();
    m_table->setSortingEnabled(false);
    m_table->clearContents();
    m_table->setRowCount(0);
    if (!o) return;
    QHash<QString, const ir::Node*> nodes;
    QHash<QString, std::size_t> fileOrder;
    if (DocumentPtr doc = m_controller->document())
        if (const ir::Graph* g = doc->graph())
            for (std::size_t i = 0; i < g->nodes().size(); ++i) {
                QString key = overlayKey(*g->nodes()[i]);
                nodes.insert(key, g->nodes()[i].get());
                fileOrder.insert(key, i);
            }
    std::vector<std::pair<QString, double>> rows;
    rows.reserve(std::size_t(o->values.size()));
    for (auto it = o->values.cbegin(); it != o->values.cend(); ++it)
        rows.emplace_back(it.key(), it.value());
    // Largest first; ties in file order (then by name for names the model lacks).
    std::vector<std::size_t> position(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        position[i] = fileOrder.value(rows[i].first, std::size_t(-1));
    std::vector<std::size_t> idx(rows.size());
    for (std::size_t i = 0; i < idx.size(); ++i)
        idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        if (rows[a].second != rows[b].second) return rows[a].second > rows[b].second;
        if (position[a] != position[b]) return position[a] < position[b];
        return rows[a].first < rows[b].first;
    });
    m_table->setRowCount(int(rows.size()));
    m_table->horizontalHeaderItem(ColValue)->setText(
        o->unit.isEmpty() ? tr("Value") : tr("Value (%1)").arg(o->unit));
    for (int r = 0; r < int(idx.size()); ++r) {
        const auto& [name, value] = rows[idx[std::size_t(r)]];
        const ir::Node* n = nodes.value(name);
        auto* nameItem = new QTableWidgetItem(name);
        nameItem->setData(NodeNameRole, name);
        nameItem->setToolTip(name);
        m_table->setItem(r, ColNode, nameItem);
        m_table->setItem(r, ColOp, new QTableWidgetItem(n ? qstr(n->qualifiedOp()) : QString()));
        m_table->setItem(r, ColValue, new ValueItem(formatQuantity(value), value));
    }
}

} // namespace ew::ui
