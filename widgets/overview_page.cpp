#include "overview_page.h"

#include "format_util.h"
#include "summary_panel.h"

#include <QFileInfo>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace ew::ui {

namespace {

BarSeries fold(std::vector<std::pair<std::string, double>> items, int maxBars) {
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    BarSeries s;
    double other = 0.0;
    int otherTypes = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (int(i) < maxBars - 1 || items.size() <= std::size_t(maxBars)) {
            s.labels << qstr(items[i].first);
            s.values << items[i].second;
        } else {
            other += items[i].second;
            ++otherTypes;
        }
    }
    if (otherTypes > 0) {
        s.labels << OverviewPage::tr("other (%n type(s))", nullptr, otherTypes);
        s.values << other;
    }
    return s;
}

} // namespace

BarSeries opCountSeries(const ModelDocument& doc, int maxBars) {
    std::vector<std::pair<std::string, double>> items;
    for (const auto& [op, count] : doc.summary.opHistogram)
        items.emplace_back(op, double(count));
    return fold(std::move(items), maxBars);
}

BarSeries macsSeries(const ModelDocument& doc, int maxBars) {
    std::map<std::string, double> byOp;
    if (const ir::Graph* g = doc.graph())
        for (const auto& n : g->nodes())
            if (const ir::NodeCost* c = doc.costFor(n.get()); c && c->macs > 0)
                byOp[n->qualifiedOp()] += double(c->macs);
    return fold({byOp.begin(), byOp.end()}, maxBars);
}

OverviewPage::OverviewPage(QWidget* parent) : QWidget(parent) {
    m_stack = new QStackedWidget(this);

    // Empty state: tell a first-time user exactly what to do.
    auto* empty = new QWidget(m_stack);
    auto* emptyLayout = new QVBoxLayout(empty);
    auto* emptyTitle = new QLabel(tr("No model open"), empty);
    QFont big = emptyTitle->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    emptyTitle->setFont(big);
    emptyTitle->setAlignment(Qt::AlignCenter);
    auto* emptyHint = new QLabel(
        tr("Open an ONNX or TFLite model with File > Open (Ctrl+O), pick one from File > Open "
           "Recent, or drop a model file onto this window."),
        empty);
    emptyHint->setWordWrap(true);
    emptyHint->setAlignment(Qt::AlignCenter);
    auto* openButton = new QPushButton(tr("Open Model…"), empty);
    openButton->setObjectName(QStringLiteral("overviewOpenButton"));
    connect(openButton, &QPushButton::clicked, this, &OverviewPage::openRequested);
    emptyLayout->addStretch(2);
    emptyLayout->addWidget(emptyTitle);
    emptyLayout->addWidget(emptyHint);
    emptyLayout->addSpacing(12);
    emptyLayout->addWidget(openButton, 0, Qt::AlignCenter);
    emptyLayout->addStretch(3);
    m_stack->addWidget(empty);

    // Loaded state.
    auto* page = new QWidget(m_stack);
    auto* layout = new QVBoxLayout(page);
    m_title = new QLabel(page);
    m_title->setObjectName(QStringLiteral("overviewTitle"));
    QFont tf = m_title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.6);
    tf.setBold(true);
    m_title->setFont(tf);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_subtitle = new QLabel(page);
    m_subtitle->setObjectName(QStringLiteral("overviewSubtitle"));
    m_subtitle->setWordWrap(true);
    m_subtitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_title);
    layout->addWidget(m_subtitle);

    auto* cards = new QHBoxLayout;
    cards->addWidget(makeCard(tr("Nodes"), &m_nodes));
    cards->addWidget(makeCard(tr("Parameters"), &m_params));
    cards->addWidget(makeCard(tr("MACs per inference"), &m_macs));
    cards->addWidget(makeCard(tr("Weights in memory"), &m_size));
    layout->addLayout(cards);
    m_note = new QLabel(page);
    m_note->setObjectName(QStringLiteral("overviewNote"));
    m_note->setWordWrap(true);
    m_note->setText(
        tr("≥ marks a lower bound: symbolic or unknown dimensions (such as a batch size "
           "N) are counted as 1."));
    layout->addWidget(m_note);

    m_io = new QLabel(page);
    m_io->setObjectName(QStringLiteral("overviewIo"));
    m_io->setTextFormat(Qt::RichText);
    m_io->setWordWrap(true);
    m_io->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_io);

    auto* plots = new QHBoxLayout;
    m_opPlot = new QCustomPlot(page);
    m_opPlot->setObjectName(QStringLiteral("opHistogramPlot"));
    m_macsPlot = new QCustomPlot(page);
    m_macsPlot->setObjectName(QStringLiteral("macsPlot"));
    for (QCustomPlot* p : {m_opPlot, m_macsPlot}) {
        p->setMinimumHeight(220);
        p->plotLayout()->insertRow(0);
        auto* title = new QCPTextElement(p, QString(), QFont(font().family(), -1, QFont::Bold));
        p->plotLayout()->addElement(0, 0, title);
        plots->addWidget(p, 1);
    }
    layout->addLayout(plots, 1);
    m_stack->addWidget(page);

    // Scrolls rather than imposing its minimum size on the window, so on a small screen the
    // docks keep their share of the width.
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(m_stack);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
    m_stack->setCurrentIndex(0);
}

QWidget* OverviewPage::makeCard(const QString& caption, QLabel** valueLabel) {
    auto* card = new QFrame(this);
    card->setFrameShape(QFrame::StyledPanel);
    card->setAutoFillBackground(true);
    auto* l = new QVBoxLayout(card);
    auto* value = new QLabel(card);
    QFont f = value->font();
    f.setPointSizeF(f.pointSizeF() * 1.5);
    f.setBold(true);
    value->setFont(f);
    auto* cap = new QLabel(caption, card);
    QPalette pal = cap->palette();
    pal.setColor(QPalette::WindowText, pal.color(QPalette::PlaceholderText));
    cap->setPalette(pal);
    l->addWidget(value);
    l->addWidget(cap);
    *valueLabel = value;
    return card;
}

void OverviewPage::fillBars(QCustomPlot* plot, const BarSeries& series, const QString& valueUnit,
                            const QColor& color) {
    plot->clearPlottables();
    plot->clearItems();
    if (series.values.isEmpty()) {
        auto* text = new QCPItemText(plot);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.5, 0.5);
        text->setText(tr("No multiply-accumulate ops in this graph"));
        plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        plot->xAxis->setRange(0, 1);
        plot->yAxis->setRange(0, 1);
        plot->xAxis->setTickLabels(false);
        plot->yAxis->setTickLabels(false);
        plot->replot();
        return;
    }
    plot->xAxis->setTickLabels(true);
    plot->yAxis->setTickLabels(true);
    // Horizontal bars: op names are long, and a vertical key axis keeps them readable.
    auto* bars = new QCPBars(plot->yAxis, plot->xAxis);
    bars->setWidth(0.7);
    bars->setPen(QPen(color.darker(130)));
    bars->setBrush(color);
    QVector<double> keys;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < series.values.size(); ++i) {
        keys << i + 1;
        ticker->addTick(i + 1, series.labels[i]);
    }
    bars->setData(keys, series.values, true);
    plot->yAxis->setTicker(ticker);
    plot->yAxis->setRangeReversed(true); // largest at the top
    plot->yAxis->setRange(0.4, series.values.size() + 0.6);
    plot->yAxis->grid()->setVisible(false);
    plot->yAxis->setSubTicks(false);
    plot->yAxis->setTickLength(0, 2);
    double maxV = *std::max_element(series.values.begin(), series.values.end());
    plot->xAxis->setRange(0, maxV * 1.25); // room for the value labels
    plot->xAxis->setLabel(valueUnit);
    plot->xAxis->ticker()->setTickCount(4); // narrow docks-side layouts crowd more labels
    for (int i = 0; i < series.values.size(); ++i) {
        auto* label = new QCPItemText(plot);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->position->setAxes(plot->xAxis, plot->yAxis);
        label->position->setCoords(series.values[i], keys[i]);
        label->setPadding(QMargins(4, 0, 0, 0));
        double v = series.values[i];
        label->setText(v == std::floor(v) && v < 1e6 ? QLocale().toString(qlonglong(v))
                                                     : QLocale().toString(v, 'g', 3));
        label->setClipToAxisRect(false);
    }
    plot->replot();
}

void OverviewPage::setDocument(DocumentPtr doc) {
    if (!doc) {
        m_stack->setCurrentIndex(0);
        return;
    }
    const ir::ModelSummary& s = doc->summary;
    m_title->setText(QFileInfo(doc->path).fileName());
    m_title->setToolTip(doc->path);
    QStringList sub;
    sub << qstr(s.format).toUpper();
    if (s.irVersion > 0) sub << tr("IR version %1").arg(s.irVersion);
    if (!s.opsets.empty()) sub << tr("opsets: %1").arg(opsetsText(s.opsets));
    if (!s.producer.empty()) sub << tr("produced by %1").arg(qstr(s.producer));
    sub << formatBytes(s.fileBytes);
    m_subtitle->setText(sub.join(QStringLiteral("  ·  ")));

    m_nodes->setText(
        s.nodeCountRecursive != s.nodeCount
            ? tr("%1 (+%2 nested)").arg(s.nodeCount).arg(s.nodeCountRecursive - s.nodeCount)
            : QString::number(s.nodeCount));
    m_params->setText(formatCount(s.parameterCount));
    m_macs->setText(formatMacs(s.macs, s.macsExact));
    m_note->setVisible(!s.macsExact);
    m_size->setText(formatBytes(uint64_t(s.parameterBytes)));

    QString io = QStringLiteral("<table cellspacing=\"2\">");
    auto addIo = [&io](const QString& kind, const ir::ModelSummary::Io& x) {
        io += QStringLiteral("<tr><td><b>%1</b>&nbsp;&nbsp;</td><td><tt>%2</tt>&nbsp;&nbsp;</"
                             "td><td><tt>%3</tt></td></tr>")
                  .arg(kind, qstr(x.name).toHtmlEscaped(), ioTypeText(x).toHtmlEscaped());
    };
    for (const auto& x : s.inputs)
        addIo(tr("Input"), x);
    for (const auto& x : s.outputs)
        addIo(tr("Output"), x);
    io += QStringLiteral("</table>");
    m_io->setText(io);

    auto setTitle = [](QCustomPlot* p, const QString& t) {
        if (auto* e = qobject_cast<QCPTextElement*>(p->plotLayout()->element(0, 0))) e->setText(t);
    };
    setTitle(m_opPlot, tr("Nodes per op type"));
    fillBars(m_opPlot, opCountSeries(*doc, kMaxBars), tr("nodes"), QColor(0x4c, 0x78, 0xa8));

    BarSeries macs = macsSeries(*doc, kMaxBars);
    double maxMacs =
        macs.values.isEmpty() ? 0.0 : *std::max_element(macs.values.begin(), macs.values.end());
    // One unit for the whole axis, picked so the largest bar reads as a small number.
    double scale = 1.0;
    QString unit = tr("MACs");
    if (maxMacs >= 1e9) {
        scale = 1e9;
        unit = tr("GMACs");
    } else if (maxMacs >= 1e6) {
        scale = 1e6;
        unit = tr("MMACs");
    } else if (maxMacs >= 1e3) {
        scale = 1e3;
        unit = tr("kMACs");
    }
    for (double& v : macs.values)
        v /= scale;
    setTitle(m_macsPlot, tr("MACs per op type (%1 total)").arg(formatMacs(s.macs, s.macsExact)));
    fillBars(m_macsPlot, macs, unit, QColor(0xf5, 0x85, 0x18));
    m_stack->setCurrentIndex(1);
}

QString OverviewPage::headline() const {
    return m_stack->currentIndex() == 1 ? m_title->text() + QLatin1Char('\n') + m_subtitle->text()
                                        : QString();
}

} // namespace ew::ui
