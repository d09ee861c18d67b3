#include "tensor_view.h"

#include "value_format.h"
#include "widgets/format_util.h"

#include "ir/npy.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

const QColor kHistColor(0x4c, 0x78, 0xa8);
const QColor kMaxColor(0xe4, 0x57, 0x1b);
const QColor kMinColor(0x2c, 0x6f, 0xbb);

QCustomPlot* makePlot(QWidget* parent, const QString& objectName) {
    auto* p = new QCustomPlot(parent);
    p->setObjectName(objectName);
    p->setMinimumHeight(140);
    p->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    // Row 0 is a header of its own: the title, and room on its right for a legend, so the
    // legend never sits on the data.
    p->plotLayout()->insertRow(0);
    auto* header = new QCPLayoutGrid;
    p->plotLayout()->addElement(0, 0, header);
    QFont bold = parent->font();
    bold.setBold(true);
    header->addElement(0, 0, new QCPTextElement(p, QString(), bold));
    QFont small = parent->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    for (QCPAxis* a : {p->xAxis, p->yAxis}) {
        a->setTickLabelFont(small);
        a->setLabelFont(small);
    }
    return p;
}

QCPLayoutGrid* plotHeader(QCustomPlot* p) {
    return qobject_cast<QCPLayoutGrid*>(p->plotLayout()->element(0, 0));
}

void setPlotTitle(QCustomPlot* p, const QString& text) {
    if (QCPLayoutGrid* h = plotHeader(p))
        if (auto* e = qobject_cast<QCPTextElement*>(h->element(0, 0))) e->setText(text);
}

/// An empty plot that says why it is empty, instead of bare axes.
void showPlotMessage(QCustomPlot* p, const QString& text) {
    p->clearPlottables();
    p->clearItems();
    p->yAxis->setScaleType(QCPAxis::stLinear);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    p->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    p->xAxis->setRange(0, 1);
    p->yAxis->setRange(0, 1);
    p->xAxis->setTickLabels(false);
    p->yAxis->setTickLabels(false);
    p->xAxis->setLabel(QString());
    p->yAxis->setLabel(QString());
    if (p->legend) p->legend->setVisible(false);
    if (!text.isEmpty()) {
        auto* item = new QCPItemText(p);
        item->position->setType(QCPItemPosition::ptAxisRectRatio);
        item->position->setCoords(0.5, 0.5);
        item->setText(text);
        item->setColor(p->palette().color(QPalette::PlaceholderText));
    }
    p->replot();
}

QString fileNameFor(const QString& tensorName) {
    QString base = tensorName;
    for (QChar& c : base)
        if (!c.isLetterOrNumber() && c != QLatin1Char('_') && c != QLatin1Char('-') &&
            c != QLatin1Char('.'))
            c = QLatin1Char('_');
    if (base.isEmpty()) base = QStringLiteral("tensor");
    return base + QStringLiteral(".npy");
}

} // namespace

TensorView::TensorView(QWidget* parent) : QWidget(parent) {
    m_picker = new QComboBox(this);
    m_picker->setObjectName(QStringLiteral("tensorPicker"));
    m_picker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_picker->setMinimumContentsLength(16);
    m_picker->setToolTip(tr("Constant inputs of the selected node"));
    auto* pickerLabel = new QLabel(tr("Tensor:"), this);

    m_hint = new QLabel(this);
    m_hint->setObjectName(QStringLiteral("tensorHint"));
    m_hint->setWordWrap(true);
    m_hint->setTextFormat(Qt::RichText);

    m_body = new QWidget(this);
    m_header = new QLabel(m_body);
    m_header->setObjectName(QStringLiteral("tensorHeader"));
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // Statistics as a compact grid of three label/value pairs per row.
    m_statsBox = new QWidget(m_body);
    auto* grid = new QGridLayout(m_statsBox);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(2);
    struct Field {
        const char* key;
        QString label;
    };
    const Field fields[] = {
        {"min", tr("Min")},     {"max", tr("Max")},           {"mean", tr("Mean")},
        {"std", tr("Std dev")}, {"sparsity", tr("Sparsity")}, {"nonfinite", tr("NaN / inf")},
    };
    QPalette dim = palette();
    dim.setColor(QPalette::WindowText, dim.color(QPalette::PlaceholderText));
    int i = 0;
    for (const Field& f : fields) {
        auto* name = new QLabel(f.label, m_statsBox);
        name->setPalette(dim);
        auto* value = new QLabel(m_statsBox);
        value->setObjectName(QStringLiteral("stat_") + QLatin1String(f.key));
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        grid->addWidget(name, i / 3, (i % 3) * 2);
        grid->addWidget(value, i / 3, (i % 3) * 2 + 1);
        m_fields.insert(QLatin1String(f.key), value);
        ++i;
    }
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    grid->setColumnStretch(5, 1);

    m_busy = new QLabel(tr("Computing statistics…"), m_body);
    m_busy->setObjectName(QStringLiteral("tensorBusy"));
    m_busy->setAlignment(Qt::AlignCenter);
    m_busy->setStyleSheet(QStringLiteral("QLabel { background: palette(highlight); color: "
                                         "palette(highlighted-text); padding: 3px; }"));
    m_busy->hide();

    m_log = new QCheckBox(tr("Log scale"), m_body);
    m_log->setObjectName(QStringLiteral("histLogScale"));
    m_log->setToolTip(tr("Logarithmic count axis: rare outlier values stay visible"));
    m_dequant = new QCheckBox(tr("Dequantize"), m_body);
    m_dequant->setObjectName(QStringLiteral("dequantize"));
    m_dequant->setToolTip(tr("Show (value − zero point) × scale instead of the stored integers"));
    m_copy = new QPushButton(tr("Copy Values"), m_body);
    m_copy->setObjectName(QStringLiteral("copyValues"));
    m_copy->setToolTip(
        tr("Copy the values as tab-separated text (at most %L1 values)").arg(kMaxCopyValues));
    m_save = new QPushButton(tr("Save as .npy…"), m_body);
    m_save->setObjectName(QStringLiteral("saveNpy"));

    m_histPlot = makePlot(m_body, QStringLiteral("histogramPlot"));
    m_channelPlot = makePlot(m_body, QStringLiteral("channelPlot"));

    auto* top = new QHBoxLayout;
    top->addWidget(pickerLabel);
    top->addWidget(m_picker, 1);

    auto* options = new QHBoxLayout;
    options->addWidget(m_log);
    options->addWidget(m_dequant);
    options->addStretch(1);
    options->addWidget(m_copy);
    options->addWidget(m_save);

    auto* bodyLayout = new QVBoxLayout(m_body);
    bodyLayout->setContentsMargins(0, 0, 0, 0);
    bodyLayout->setSpacing(4);
    bodyLayout->addWidget(m_header);
    bodyLayout->addWidget(m_statsBox);
    bodyLayout->addLayout(options);
    bodyLayout->addWidget(m_busy);
    bodyLayout->addWidget(m_histPlot, 1);
    bodyLayout->addWidget(m_channelPlot, 1);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(top);
    layout->addWidget(m_hint);
    layout->addWidget(m_body, 1);

    connect(m_picker, &QComboBox::currentIndexChanged, this, &TensorView::selectIndex);
    connect(m_log, &QCheckBox::toggled, this, [this] { plotHistogram(); });
    connect(m_dequant, &QCheckBox::toggled, this, [this] { startAnalysis(); });
    connect(m_copy, &QPushButton::clicked, this, [this] { copyValues(); });
    connect(m_save, &QPushButton::clicked, this, &TensorView::showSaveDialog);
    clear(QString());
}

TensorView::~TensorView() {
    // Workers hold their own copy of the tensor; they only need to be told to stop.
    if (m_cancel) m_cancel->store(true);
    if (m_saveWatcher) m_saveWatcher->waitForFinished();
}

QMessageBox* TensorView::errorBox() const {
    return m_errorBox.data();
}

void TensorView::clear(const QString& hint) {
    setSources({}, -1, hint);
}

void TensorView::setSources(std::vector<TensorSource> sources, int current, const QString& hint) {
    m_sources = std::move(sources);
    {
        QSignalBlocker block(m_picker);
        m_picker->clear();
        for (const TensorSource& s : m_sources)
            m_picker->addItem(s.label, s.key);
        m_picker->setEnabled(m_sources.size() > 1);
    }
    m_hint->setText(hint);
    m_hint->setVisible(!hint.isEmpty());
    m_current = -1;
    selectIndex(current >= 0 && current < int(m_sources.size()) ? current : -1);
}

const TensorSource* TensorView::current() const {
    return m_current >= 0 && m_current < int(m_sources.size()) ? &m_sources[std::size_t(m_current)]
                                                               : nullptr;
}

bool TensorView::selectSource(const QString& key) {
    for (std::size_t i = 0; i < m_sources.size(); ++i)
        if (m_sources[i].key == key) {
            selectIndex(int(i));
            return true;
        }
    return false;
}

void TensorView::selectIndex(int index) {
    if (index == m_current && index >= 0) return;
    m_current = index >= 0 && index < int(m_sources.size()) ? index : -1;
    {
        QSignalBlocker block(m_picker);
        m_picker->setCurrentIndex(m_current);
    }
    const TensorSource* s = current();
    m_body->setVisible(s != nullptr);
    if (!s) {
        if (m_cancel) m_cancel->store(true);
        ++m_generation;
        m_analysis.reset();
        if (m_watcher) {
            m_watcher->disconnect(this);
            m_watcher->deleteLater();
            m_watcher = nullptr;
        }
        m_busy->hide();
        return;
    }
    {
        QSignalBlocker block(m_dequant);
        bool canDequant = s->quant && !s->quant->scales.empty() && ir::isInteger(s->tensor.dtype);
        m_dequant->setVisible(canDequant);
        m_dequant->setChecked(false);
    }
    showHeader();
    startAnalysis();
}

void TensorView::showHeader() {
    const TensorSource* s = current();
    if (!s) return;
    const ir::Tensor& t = s->tensor;
    int64_t n = t.dtype == ir::DataType::String ? int64_t(t.strings.size()) : t.numElements();
    QString dtype = qstr(ir::dataTypeName(t.dtype));
    QString shape = qstr(ir::Shape::of(t.dims).toString());
    // The picker names the tensor; this line says what it is.
    QStringList lines;
    lines << tr("%1 %2 · %3 values (%4) · %5")
                 .arg(dtype, shape, formatCount(n), formatBytes(t.byteSize()), s->origin)
                 .toHtmlEscaped();
    QString quant;
    if (s->quant && !s->quant->scales.empty()) {
        const ir::QuantParams& q = *s->quant;
        if (q.isPerAxis())
            quant =
                tr("quantized per channel (axis %1, %2 channels)").arg(q.axis).arg(q.scales.size());
        else
            quant = tr("quantized: scale %1, zero point %2")
                        .arg(formatStatNumber(q.scales[0]))
                        .arg(q.zeroPoints.empty() ? 0 : q.zeroPoints[0]);
        lines << quant.toHtmlEscaped();
    }
    m_header->setText(lines.join(QStringLiteral("<br>")));
    m_header->setToolTip(s->name);
    m_header->setProperty("dtype", dtype);
    m_header->setProperty("shape", shape);
    m_header->setProperty("elements", formatCount(n));
    m_header->setProperty("quant", quant);
}

QString TensorView::valueOf(const QString& key) const {
    if (key == QLatin1String("dtype") || key == QLatin1String("shape") ||
        key == QLatin1String("elements") || key == QLatin1String("quant"))
        return current() ? m_header->property(key.toLatin1().constData()).toString() : QString();
    if (QLabel* l = m_fields.value(key)) return l->text();
    return {};
}

void TensorView::startAnalysis() {
    const TensorSource* s = current();
    if (!s) return;
    if (m_cancel) m_cancel->store(true);
    if (m_watcher) {
        m_watcher->disconnect(this);
        m_watcher->deleteLater();
        m_watcher = nullptr;
    }
    ++m_generation;
    m_analysis.reset();

    AnalysisOptions opt;
    opt.channelAxis = s->channelAxis;
    opt.quant = s->quant;
    opt.dequantize = m_dequant->isVisible() && m_dequant->isChecked();
    ir::Tensor tensor = s->tensor; // shares the bytes; the worker keeps them alive

    if (tensor.numElements() <= kSyncElements) {
        m_busy->hide();
        m_analysis = analyzeTensor(tensor, opt);
        applyAnalysis();
        return;
    }
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    auto cancel = m_cancel;
    uint64_t generation = m_generation;
    m_busy->setText(
        tr("Computing statistics of %1 values…").arg(formatCount(tensor.numElements())));
    m_busy->show();
    for (QLabel* l : std::as_const(m_fields))
        l->setText(QStringLiteral("…"));
    clearPlots(tr("Computing…"), tr("Computing…"));
    updateButtons();
    m_watcher = new QFutureWatcher<TensorAnalysis>(this);
    connect(m_watcher, &QFutureWatcher<TensorAnalysis>::finished, this, [this, generation] {
        auto* w = m_watcher;
        m_watcher = nullptr;
        if (!w) return;
        w->deleteLater();
        if (generation != m_generation) return;
        TensorAnalysis a = w->result();
        if (a.cancelled) return;
        m_analysis = std::move(a);
        m_busy->hide();
        applyAnalysis();
    });
    m_watcher->setFuture(QtConcurrent::run(
        [tensor, opt, cancel] { return analyzeTensor(tensor, opt, cancel.get()); }));
}

void TensorView::applyAnalysis() {
    const TensorStats& st = m_analysis->stats;
    auto set = [this](const char* key, const QString& text) {
        if (QLabel* l = m_fields.value(QLatin1String(key))) l->setText(text);
    };
    bool numeric = st.numeric && st.count > 0;
    set("min", numeric ? formatStatNumber(st.min) : QStringLiteral("—"));
    set("max", numeric ? formatStatNumber(st.max) : QStringLiteral("—"));
    set("mean", numeric ? formatStatNumber(st.mean) : QStringLiteral("—"));
    set("std", numeric ? formatStatNumber(st.stddev) : QStringLiteral("—"));
    set("sparsity", numeric
                        ? tr("%1 % zeros").arg(QLocale().toString(st.sparsity() * 100.0, 'f', 1))
                        : QStringLiteral("—"));
    set("nonfinite", numeric ? formatCount(st.nonFinite) : QStringLiteral("—"));
    if (QLabel* l = m_fields.value(QStringLiteral("sparsity")))
        l->setToolTip(tr("%1 of %2 values are exactly zero")
                          .arg(formatCount(st.zeros), formatCount(st.count)));
    plotHistogram();
    plotChannels();
    updateButtons();
    emit analysisReady();
}

void TensorView::clearPlots(const QString& histText, const QString& channelText) {
    setPlotTitle(m_histPlot, tr("Histogram"));
    setPlotTitle(m_channelPlot, tr("Per-channel range"));
    showPlotMessage(m_histPlot, histText);
    showPlotMessage(m_channelPlot, channelText);
}

void TensorView::plotHistogram() {
    QCustomPlot* p = m_histPlot;
    if (!m_analysis || m_analysis->histogram.counts.empty()) {
        setPlotTitle(p, tr("Histogram"));
        showPlotMessage(p, m_analysis ? tr("No finite values to plot") : QString());
        return;
    }
    const Histogram& h = m_analysis->histogram;
    p->clearPlottables();
    p->clearItems();
    p->xAxis->setTickLabels(true);
    p->yAxis->setTickLabels(true);
    p->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    p->xAxis->ticker()->setTickCount(5);

    auto* bars = new QCPBars(p->xAxis, p->yAxis);
    bars->setName(tr("count"));
    bars->setWidthType(QCPBars::wtPlotCoords);
    // Adjacent bins touch; integer bins keep a hairline gap so single values read as bars.
    bars->setWidth(h.integerBins ? h.width * 0.85 : h.width);
    bars->setPen(h.integerBins || h.counts.size() <= 40 ? QPen(kHistColor.darker(140))
                                                        : QPen(Qt::NoPen));
    bars->setBrush(kHistColor);
    QVector<double> keys, values;
    keys.reserve(qsizetype(h.counts.size()));
    values.reserve(qsizetype(h.counts.size()));
    int64_t maxCount = 0;
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
        keys << h.binCenter(i);
        values << double(h.counts[i]);
        maxCount = std::max(maxCount, h.counts[i]);
    }
    bars->setData(keys, values, true);

    double lo = h.lower, hi = h.lower + h.width * double(h.counts.size());
    double pad = (hi - lo) * 0.03;
    p->xAxis->setRange(lo - pad, hi + pad);
    p->xAxis->setLabel(m_analysis->dequantized ? tr("value (dequantized)") : tr("value"));
    if (m_log->isChecked()) {
        p->yAxis->setScaleType(QCPAxis::stLogarithmic);
        QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
        ticker->setLogBase(10);
        ticker->setSubTickCount(0);
        p->yAxis->setTicker(ticker);
        p->yAxis->setNumberFormat(QStringLiteral("eb"));
        p->yAxis->setNumberPrecision(0);
        p->yAxis->setRange(0.7, std::max<double>(10.0, double(maxCount) * 2.0));
        p->yAxis->setLabel(tr("count (log)"));
    } else {
        p->yAxis->setScaleType(QCPAxis::stLinear);
        p->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        p->yAxis->ticker()->setTickCount(4);
        p->yAxis->setNumberFormat(QStringLiteral("gb"));
        p->yAxis->setNumberPrecision(6);
        p->yAxis->setRange(0, std::max<double>(1.0, double(maxCount) * 1.08));
        p->yAxis->setLabel(tr("count"));
    }
    if (lo < 0.0 && hi > 0.0) {
        auto* zero = new QCPItemStraightLine(p);
        zero->point1->setCoords(0, 0);
        zero->point2->setCoords(0, 1);
        zero->setPen(QPen(QColor(0, 0, 0, 90), 1, Qt::DashLine));
    }
    setPlotTitle(p, h.integerBins ? tr("Histogram (one bin per value)")
                                  : tr("Histogram (%n bin(s))", nullptr, int(h.counts.size())));
    p->replot();
}

void TensorView::plotChannels() {
    QCustomPlot* p = m_channelPlot;
    const TensorSource* s = current();
    const ChannelRanges* ch = m_analysis ? &m_analysis->channels : nullptr;
    if (!s || !ch || ch->axis < 0 || ch->min.empty()) {
        setPlotTitle(p, tr("Per-channel range"));
        QString why;
        if (s && s->tensor.dims.size() < 2)
            why = tr("Per-channel ranges need a tensor of rank 2 or more");
        else if (m_analysis)
            why = tr("No per-channel ranges for this tensor");
        showPlotMessage(p, why);
        return;
    }
    p->clearPlottables();
    p->clearItems();
    p->xAxis->setTickLabels(true);
    p->yAxis->setTickLabels(true);
    p->yAxis->setScaleType(QCPAxis::stLinear);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    p->yAxis->ticker()->setTickCount(4);
    QSharedPointer<QCPAxisTickerFixed> xt(new QCPAxisTickerFixed);
    xt->setTickStep(1.0);
    xt->setScaleStrategy(QCPAxisTickerFixed::ssMultiples); // whole channels only
    p->xAxis->setTicker(xt);

    const int n = int(ch->min.size());
    QVector<double> keys(n), mins(n), maxs(n);
    double lo = 0.0, hi = 0.0;
    for (int c = 0; c < n; ++c) {
        keys[c] = c;
        mins[c] = ch->min[std::size_t(c)];
        maxs[c] = ch->max[std::size_t(c)];
        lo = c == 0 ? mins[c] : std::min(lo, mins[c]);
        hi = c == 0 ? maxs[c] : std::max(hi, maxs[c]);
    }
    // A band from min to max per channel: outlier channels (what per-tensor quantization
    // suffers from) stand out as spikes.
    auto* gMin = p->addGraph();
    gMin->setName(tr("min"));
    auto* gMax = p->addGraph();
    gMax->setName(tr("max"));
    for (QCPGraph* g : {gMin, gMax}) {
        g->setLineStyle(n <= 256 ? QCPGraph::lsStepCenter : QCPGraph::lsLine);
        if (n <= 32) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3.5));
    }
    gMin->setPen(QPen(kMinColor, 1.2));
    gMax->setPen(QPen(kMaxColor, 1.2));
    QColor fill = kHistColor;
    fill.setAlpha(60);
    gMax->setBrush(fill);
    gMax->setChannelFillGraph(gMin);
    gMin->setData(keys, mins, true);
    gMax->setData(keys, maxs, true);

    if (lo < 0.0 && hi > 0.0) {
        auto* zero = new QCPItemStraightLine(p);
        zero->point1->setCoords(0, 0);
        zero->point2->setCoords(1, 0);
        zero->setPen(QPen(QColor(0, 0, 0, 90), 1, Qt::DashLine));
    }
    double pad = (hi - lo) * 0.06;
    if (pad <= 0.0) pad = std::max(1e-6, std::fabs(hi) * 0.1);
    p->yAxis->setRange(lo - pad, hi + pad);
    p->xAxis->setRange(-0.6, n - 0.4);
    p->xAxis->setLabel(s->axisNote.isEmpty() ? tr("channel (axis %1)").arg(ch->axis)
                                             : tr("%1 (axis %2)").arg(s->axisNote).arg(ch->axis));
    p->yAxis->setLabel(m_analysis->dequantized ? tr("value (dequantized)") : tr("value"));
    if (!p->legend->visible()) {
        p->legend->setVisible(true);
        QFont small = font();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        p->legend->setFont(small);
        // Beside the title rather than inside the axis rect.
        if (QCPLayoutGrid* h = plotHeader(p); h && p->axisRect()->insetLayout()->take(p->legend)) {
            p->axisRect()->insetLayout()->simplify();
            h->addElement(0, 1, p->legend);
            h->setColumnStretchFactor(0, 3);
            h->setColumnStretchFactor(1, 1);
        }
        p->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
        p->legend->setColumnSpacing(10);
        p->legend->setIconSize(14, 8);
        p->legend->setBorderPen(Qt::NoPen);
        p->legend->setBrush(Qt::NoBrush);
        p->legend->setMargins(QMargins(4, 1, 4, 1));
    }
    setPlotTitle(p, tr("Min/max per channel (%n channel(s))", nullptr, n));
    p->replot();
}

void TensorView::setLogScale(bool on) {
    m_log->setChecked(on);
}

bool TensorView::logScale() const {
    return m_log->isChecked();
}

void TensorView::setDequantize(bool on) {
    m_dequant->setChecked(on);
}

void TensorView::updateButtons() {
    const TensorSource* s = current();
    m_copy->setEnabled(s != nullptr);
    bool npyOk = s && !ir::npyDescr(s->tensor.dtype).empty();
    m_save->setEnabled(npyOk && !m_saveWatcher);
    m_save->setToolTip(
        s && !npyOk
            ? tr("NumPy has no standard type for %1").arg(qstr(ir::dataTypeName(s->tensor.dtype)))
            : tr("Write the tensor as stored to a NumPy .npy file"));
}

QString TensorView::copyValues() {
    const TensorSource* s = current();
    if (!s) return {};
    QString text = qstr(formatTensorValues(s->tensor, kMaxCopyValues));
    QApplication::clipboard()->setText(text);
    return text;
}

void TensorView::showSaveDialog() {
    const TensorSource* s = current();
    if (!s) return;
    QString dir = m_lastSaveDir.isEmpty()
                      ? QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation)
                      : m_lastSaveDir;
    QString path = QFileDialog::getSaveFileName(this, tr("Save Tensor as .npy"),
                                                dir + QLatin1Char('/') + fileNameFor(s->name),
                                                tr("NumPy arrays (*.npy)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".npy");
    m_lastSaveDir = QFileInfo(path).absolutePath();
    saveNpy(path);
}

bool TensorView::saveNpy(const QString& path) {
    const TensorSource* s = current();
    if (!s || m_saveWatcher) return false;
    QString abs = QFileInfo(path).absoluteFilePath();
    ir::Tensor tensor = s->tensor;
    m_lastError.clear();
    m_saveWatcher = new QFutureWatcher<QString>(this);
    connect(m_saveWatcher, &QFutureWatcher<QString>::finished, this, [this, abs] {
        QString error = m_saveWatcher->result();
        m_saveWatcher->deleteLater();
        m_saveWatcher = nullptr;
        updateButtons();
        if (error.isEmpty()) {
            emit saved(abs);
            return;
        }
        QString file = QDir::toNativeSeparators(abs);
        // The core message usually names the file already; make sure the user always sees it.
        m_lastError =
            error.contains(abs) || error.contains(file) ? error : tr("%1: %2").arg(file, error);
        if (m_errorBox) m_errorBox->close();
        auto* box = new QMessageBox(QMessageBox::Critical, tr("Cannot Save Tensor"),
                                    tr("Could not save %1.").arg(QFileInfo(abs).fileName()),
                                    QMessageBox::Ok, this);
        box->setObjectName(QStringLiteral("tensorSaveError"));
        box->setInformativeText(m_lastError);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setWindowModality(Qt::WindowModal);
        m_errorBox = box;
        box->open();
        emit saveFailed(m_lastError);
    });
    m_saveWatcher->setFuture(QtConcurrent::run([tensor, abs]() -> QString {
        VoidResult r = ir::writeNpy(abs.toStdString(), tensor);
        return r ? QString() : qstr(r.error().toString());
    }));
    updateButtons();
    return true;
}

} // namespace ew::ui
