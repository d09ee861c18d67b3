#include "optimize_panel.h"

#include "optimize_command.h"
#include "widgets/format_util.h"
#include "widgets/overlay/overlay.h"
#include "widgets/qt_reporter.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSet>
#include <QSplitter>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

constexpr int kMaxChangeRows = 2000; // per pass; a list longer than that is not read anyway

QSet<QString> presetSet(const QString& pipeline, opt::Target target) {
    QSet<QString> s;
    if (auto names = opt::pipelinePasses(pipeline.toStdString(), target))
        for (std::string_view n : *names) s.insert(qstr(n));
    return s;
}

QString signedCount(int64_t d) {
    if (d == 0) return QStringLiteral("0");
    return (d > 0 ? QStringLiteral("+") : QStringLiteral("−")) + formatCount(d > 0 ? d : -d);
}

/// "−12 (−7.1 %)" from before to after.
QString changeText(double before, double after, const QString& absolute) {
    if (before == 0) return absolute;
    const double pct = (after - before) / before * 100.0;
    QString p = QLocale().toString(std::abs(pct), 'f', std::abs(pct) < 10 ? 1 : 0);
    if (pct < 0 && p != QLocale().toString(0.0, 'f', 1)) p.prepend(QStringLiteral("−"));
    else if (pct > 0) p.prepend(QLatin1Char('+'));
    return QStringLiteral("%1 (%2 %)").arg(absolute, p);
}

QString msText(double ms) {
    return QStringLiteral("%1 ms").arg(QLocale().toString(ms, 'f', ms < 10 ? 2 : 1));
}

QTableWidgetItem* cell(const QString& text, const QVariant& value = {}, const QString& tip = {}) {
    auto* it = new QTableWidgetItem(text);
    it->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    if (value.isValid()) it->setData(OptimizePanel::ValueRole, value);
    if (!tip.isEmpty()) it->setToolTip(tip);
    return it;
}

QString changeKindText(opt::NodeChange::Kind k) {
    switch (k) {
    case opt::NodeChange::Kind::Removed: return OptimizePanel::tr("removed");
    case opt::NodeChange::Kind::Fused: return OptimizePanel::tr("fused");
    case opt::NodeChange::Kind::Added: return OptimizePanel::tr("added");
    case opt::NodeChange::Kind::Rewritten: return OptimizePanel::tr("rewritten");
    }
    return {};
}

bool graphHasNode(const DocumentPtr& doc, const QString& key) {
    if (!doc || !doc->graph()) return false;
    for (const auto& n : doc->graph()->nodes())
        if (overlayKey(*n) == key) return true;
    return false;
}

/// Word-wraps the pass descriptions at the column's width: QTreeView asks delegates for row
/// heights without telling them the width, so the stock delegate never wraps.
class WrappingDelegate : public QStyledItemDelegate {
  public:
    WrappingDelegate(QTreeView* view, int column)
        : QStyledItemDelegate(view), m_view(view), m_column(column) {}
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QSize s = QStyledItemDelegate::sizeHint(option, index);
        if (index.column() != m_column) return s;
        QStyleOptionViewItem o = option;
        initStyleOption(&o, index);
        const int margin = 2 * (m_view->style()->pixelMetric(QStyle::PM_FocusFrameHMargin) + 1);
        const int width = std::max(40, m_view->header()->sectionSize(m_column) - margin);
        const QRect r = o.fontMetrics.boundingRect(QRect(0, 0, width, 100000),
                                                   Qt::TextWordWrap, o.text);
        return {s.width(), std::max(s.height(), r.height() + 4)};
    }

  private:
    QTreeView* m_view;
    int m_column;
};

} // namespace

OptimizePanel::OptimizePanel(QUndoStack* undoStack, OverlayController* overlays,
                             std::function<void(const DocumentPtr&)> apply, QWidget* parent)
    : QWidget(parent), m_undoStack(undoStack), m_overlays(overlays), m_apply(std::move(apply)) {
    setObjectName(QStringLiteral("optimizePanel"));

    // Settings: preset, target, the passes.
    auto* settings = new QWidget(this);
    auto* sl = new QVBoxLayout(settings);
    sl->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout;
    form->setContentsMargins(0, 0, 0, 0);
    m_preset = new QComboBox(settings);
    m_preset->setObjectName(QStringLiteral("optimizePreset"));
    for (std::string_view p : opt::pipelineNames()) m_preset->addItem(qstr(p), qstr(p));
    m_preset->addItem(tr("Custom"), QString());
    m_preset->setToolTip(tr("A pipeline checks its passes; changing a checkbox makes it Custom"));
    form->addRow(tr("Preset:"), m_preset);
    sl->addLayout(form);
    m_target = new QCheckBox(tr("Target: Edgewise runtime"), settings);
    m_target->setObjectName(QStringLiteral("optimizeTarget"));
    m_target->setToolTip(tr("Also run the runtime fusions. The result uses Edgewise's own fused "
                            "ops (ai.edgewise) and runs only on Edgewise's runtime and agent."));
    sl->addWidget(m_target);
    m_passes = new QTreeWidget(settings);
    m_passes->setObjectName(QStringLiteral("optimizePasses"));
    m_passes->setColumnCount(2);
    m_passes->setHeaderLabels({tr("Pass"), tr("Description")});
    m_passes->setRootIsDecorated(false);
    m_passes->setAlternatingRowColors(true);
    // The dock is narrow: descriptions wrap instead of being cut off.
    m_passes->setWordWrap(true);
    m_passes->setTextElideMode(Qt::ElideNone);
    m_passes->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_passes->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_passes->header()->setStretchLastSection(true);
    m_passes->setItemDelegateForColumn(1, new WrappingDelegate(m_passes, 1));
    connect(m_passes->header(), &QHeaderView::sectionResized, m_passes,
            [this](int section) {
                if (section == 1) m_passes->doItemsLayout(); // heights follow the new width
            });
    sl->addWidget(m_passes, 1);
    m_bench = new QCheckBox(tr("Measure latency (quick local bench)"), settings);
    m_bench->setObjectName(QStringLiteral("optimizeBench"));
    m_bench->setChecked(true);
    m_bench->setToolTip(tr("Runs both models a few times on this computer's CPU with random "
                           "inputs and shows the median"));
    sl->addWidget(m_bench);
    auto* runRow = new QHBoxLayout;
    m_run = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Run"), settings);
    m_run->setObjectName(QStringLiteral("optimizeRun"));
    m_run->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), settings);
    m_cancel->setObjectName(QStringLiteral("optimizeCancel"));
    m_progress = new QProgressBar(settings);
    m_progress->setRange(0, 100);
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(m_run->sizeHint().height() / 2);
    runRow->addWidget(m_run);
    runRow->addWidget(m_cancel);
    runRow->addWidget(m_progress, 1);
    sl->addLayout(runRow);
    m_status = new QLabel(settings);
    m_status->setObjectName(QStringLiteral("optimizeStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    sl->addWidget(m_status);

    // Results: the summary, per-pass statistics with their changes, undo/redo, save.
    auto* results = new QWidget(this);
    auto* rl = new QVBoxLayout(results);
    rl->setContentsMargins(0, 0, 0, 0);
    m_header = new QLabel(results);
    m_header->setObjectName(QStringLiteral("optimizeHeader"));
    m_header->setWordWrap(true);
    rl->addWidget(m_header);
    m_summary = new QTableWidget(SummaryRowCount, 3, results);
    m_summary->setObjectName(QStringLiteral("optimizeSummary"));
    m_summary->setHorizontalHeaderLabels({tr("Before"), tr("After"), tr("Change")});
    m_summary->setVerticalHeaderLabels(
        {tr("Nodes"), tr("Parameters"), tr("MACs"), tr("Size"), tr("Latency")});
    m_summary->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_summary->setSelectionMode(QAbstractItemView::ContiguousSelection);
    m_summary->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_summary->horizontalHeader()->setSectionResizeMode(ColChange, QHeaderView::ResizeToContents);
    m_summary->setWordWrap(false);
    m_summary->setTextElideMode(Qt::ElideMiddle);
    m_summary->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_summary->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
    m_summary->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_summary->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Exactly tall enough for its five rows: it is a summary, never a scrolling list.
    m_summary->setFixedHeight(m_summary->horizontalHeader()->sizeHint().height() +
                              SummaryRowCount * (fontMetrics().height() + 8) +
                              2 * m_summary->frameWidth());
    rl->addWidget(m_summary);
    m_results = new QTreeWidget(results);
    m_results->setObjectName(QStringLiteral("optimizeResults"));
    m_results->setColumnCount(PassColumnCount);
    m_results->setHeaderLabels({tr("Pass"), tr("Δ Nodes"), tr("Removed"), tr("Fused"), tr("Added"),
                                tr("Rewritten"), tr("Δ Params"), tr("Δ MACs"), tr("Runs"),
                                tr("Time")});
    m_results->headerItem()->setToolTip(PassColRuns,
                                        tr("Runs that changed something / runs (one per round)"));
    m_results->setUniformRowHeights(true);
    m_results->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_results->header()->setStretchLastSection(false);
    rl->addWidget(m_results, 1);
    auto* bottom = new QHBoxLayout;
    m_undo = new QToolButton(results);
    m_undo->setObjectName(QStringLiteral("optimizeUndo"));
    m_undo->setText(tr("Undo"));
    m_undo->setIcon(style()->standardIcon(QStyle::SP_ArrowBack));
    m_undo->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_redo = new QToolButton(results);
    m_redo->setObjectName(QStringLiteral("optimizeRedo"));
    m_redo->setText(tr("Redo"));
    m_redo->setIcon(style()->standardIcon(QStyle::SP_ArrowForward));
    m_redo->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_save = new QPushButton(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Save…"),
                             results);
    m_save->setObjectName(QStringLiteral("optimizeSave"));
    m_save->setToolTip(tr("Save the model shown (the optimized one after a run) to a new file"));
    bottom->addWidget(m_undo);
    bottom->addWidget(m_redo);
    bottom->addStretch(1);
    bottom->addWidget(m_save);
    rl->addLayout(bottom);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    split->addWidget(settings);
    split->addWidget(results);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split);

    buildPassList();
    choosePreset(m_preset->itemData(0).toString());

    connect(m_preset, &QComboBox::activated, this, &OptimizePanel::onPresetChosen);
    connect(m_target, &QCheckBox::toggled, this, &OptimizePanel::onTargetToggled);
    connect(m_passes, &QTreeWidget::itemChanged, this, &OptimizePanel::onItemChanged);
    connect(m_run, &QPushButton::clicked, this, &OptimizePanel::run);
    connect(m_cancel, &QPushButton::clicked, this, &OptimizePanel::cancel);
    connect(m_save, &QPushButton::clicked, this, &OptimizePanel::saveRequested);
    connect(m_results, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
        const QString name = item->data(0, NodeNameRole).toString();
        if (name.isEmpty()) return;
        if (graphHasNode(m_doc, name))
            emit nodeActivated(name);
        else
            m_status->setText(tr("%1 is not in the graph shown.").arg(name));
    });
    connect(m_results, &QTreeWidget::itemClicked, m_results, &QTreeWidget::itemActivated);
    if (m_undoStack) {
        connect(m_undo, &QToolButton::clicked, m_undoStack, &QUndoStack::undo);
        connect(m_redo, &QToolButton::clicked, m_undoStack, &QUndoStack::redo);
        connect(m_undoStack, &QUndoStack::indexChanged, this, &OptimizePanel::updateState);
        connect(m_undoStack, &QUndoStack::cleanChanged, this, &OptimizePanel::updateState);
    }
    updateState();
}

OptimizePanel::~OptimizePanel() {
    // The worker uses m_reporter and the document; it must finish before they go away.
    if (m_watcher) {
        m_reporter->cancel();
        m_watcher->disconnect(this);
        m_watcher->waitForFinished();
    }
}

void OptimizePanel::buildPassList() {
    m_settingChecks = true;
    m_passes->clear();
    for (const opt::PassInfo& p : opt::allPasses()) {
        auto* it = new QTreeWidgetItem(m_passes);
        const bool runtime = p.kind == opt::PassKind::Runtime;
        it->setText(0, qstr(p.name));
        it->setText(1, runtime ? tr("[runtime] %1").arg(qstr(p.description)) : qstr(p.description));
        it->setData(0, PassNameRole, qstr(p.name));
        it->setData(0, Qt::UserRole, runtime);
        it->setToolTip(0, qstr(p.description));
        it->setToolTip(1, runtime ? tr("Runtime pass: writes ai.edgewise ops; enable it with "
                                       "\"Target: Edgewise runtime\"")
                                  : qstr(p.description));
        it->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsSelectable |
                     (runtime && !m_target->isChecked() ? Qt::NoItemFlags : Qt::ItemIsEnabled));
        it->setCheckState(0, Qt::Unchecked);
    }
    m_settingChecks = false;
}

void OptimizePanel::choosePreset(const QString& pipeline) {
    const int index = m_preset->findData(pipeline);
    if (index < 0 || pipeline.isEmpty()) return;
    m_preset->setCurrentIndex(index);
    const QSet<QString> on =
        presetSet(pipeline, m_target->isChecked() ? opt::Target::Edgewise : opt::Target::Onnx);
    m_settingChecks = true;
    for (int i = 0; i < m_passes->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_passes->topLevelItem(i);
        it->setCheckState(0, on.contains(it->data(0, PassNameRole).toString()) ? Qt::Checked
                                                                              : Qt::Unchecked);
    }
    m_settingChecks = false;
    updateState();
}

void OptimizePanel::onPresetChosen(int index) {
    const QString pipeline = m_preset->itemData(index).toString();
    if (!pipeline.isEmpty()) choosePreset(pipeline); // "Custom" keeps the checkboxes as they are
}

void OptimizePanel::onTargetToggled(bool on) {
    m_settingChecks = true;
    for (int i = 0; i < m_passes->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_passes->topLevelItem(i);
        if (!it->data(0, Qt::UserRole).toBool()) continue;
        Qt::ItemFlags f = it->flags();
        it->setFlags(on ? f | Qt::ItemIsEnabled : f & ~Qt::ItemIsEnabled);
        if (!on) it->setCheckState(0, Qt::Unchecked); // never run a disabled pass
    }
    m_settingChecks = false;
    const QString pipeline = m_preset->currentData().toString();
    if (!pipeline.isEmpty())
        choosePreset(pipeline); // the preset's list depends on the target
    else
        syncPresetToChecks();
}

void OptimizePanel::onItemChanged(QTreeWidgetItem* item) {
    Q_UNUSED(item);
    if (m_settingChecks) return;
    syncPresetToChecks();
}

void OptimizePanel::syncPresetToChecks() {
    const QStringList checked = checkedPasses();
    const QSet<QString> set(checked.begin(), checked.end());
    const opt::Target target = m_target->isChecked() ? opt::Target::Edgewise : opt::Target::Onnx;
    int match = m_preset->findData(QString());
    for (int i = 0; i < m_preset->count(); ++i) {
        const QString p = m_preset->itemData(i).toString();
        if (!p.isEmpty() && presetSet(p, target) == set) {
            match = i;
            break;
        }
    }
    m_preset->setCurrentIndex(match);
    updateState();
}

QStringList OptimizePanel::checkedPasses() const {
    QStringList out;
    for (int i = 0; i < m_passes->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_passes->topLevelItem(i);
        if (it->checkState(0) == Qt::Checked && (it->flags() & Qt::ItemIsEnabled))
            out << it->data(0, PassNameRole).toString();
    }
    return out;
}

void OptimizePanel::setPassChecked(const QString& name, bool on) {
    for (int i = 0; i < m_passes->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_passes->topLevelItem(i);
        if (it->data(0, PassNameRole).toString() == name)
            it->setCheckState(0, on ? Qt::Checked : Qt::Unchecked);
    }
}

opt::OptimizeOptions OptimizePanel::currentOptions() const {
    opt::OptimizeOptions o;
    o.target = m_target->isChecked() ? opt::Target::Edgewise : opt::Target::Onnx;
    const QString preset = m_preset->currentData().toString();
    if (!preset.isEmpty()) {
        // Exactly a pipeline: run it as such, so the aggressive flag and the report's name apply.
        o.pipeline = preset.toStdString();
        return o;
    }
    const QStringList checked = checkedPasses();
    auto isChecked = [&](std::string_view n) { return checked.contains(qstr(n)); };
    // The aggressive pipeline holds every portable pass in a sensible order (and the runtime
    // list after it), so a custom selection runs in that order; a pass in neither list (there
    // should be none) runs last, in passes.def order.
    if (auto order = opt::pipelinePasses("aggressive", o.target))
        for (std::string_view n : *order)
            if (isChecked(n)) o.passes.emplace_back(n);
    for (const opt::PassInfo& p : opt::allPasses())
        if (isChecked(p.name) &&
            std::find(o.passes.begin(), o.passes.end(), std::string(p.name)) == o.passes.end())
            o.passes.emplace_back(p.name);
    return o;
}

void OptimizePanel::setDocument(DocumentPtr doc) {
    m_doc = std::move(doc);
    updateState();
}

bool OptimizePanel::run() {
    if (m_watcher || !m_doc || checkedPasses().isEmpty()) return false;
    const opt::OptimizeOptions options = currentOptions();
    const bool bench = m_bench->isChecked();
    DocumentPtr doc = m_doc;
    m_lastError.clear();
    m_reporter = std::make_unique<QtReporter>();
    connect(m_reporter.get(), &QtReporter::progressChanged, this, &OptimizePanel::onProgress);
    connect(m_reporter.get(), &QtReporter::logMessage, this, &OptimizePanel::logLine);
    QtReporter* reporter = m_reporter.get();
    emit logLine(int(Severity::Info),
                 tr("Optimizing %1 (%2)…")
                     .arg(QFileInfo(doc->path).fileName(),
                          options.passes.empty() ? qstr(options.pipeline) : tr("custom")));
    m_status->setStyleSheet(QString());
    m_status->setText(tr("Optimizing…"));
    m_progress->setValue(0);
    m_watcher = new QFutureWatcher<OptimizeOutcome>(this);
    connect(m_watcher, &QFutureWatcher<OptimizeOutcome>::finished, this,
            &OptimizePanel::onFinished);
    m_watcher->setFuture(QtConcurrent::run([doc, options, bench, reporter] {
        return runOptimizeJob(doc, options, bench, *reporter);
    }));
    updateState();
    return true;
}

void OptimizePanel::cancel() {
    if (!m_watcher) return;
    m_reporter->cancel();
    m_status->setText(tr("Cancelling…"));
}

void OptimizePanel::onProgress(const QString& stage, double fraction) {
    if (!m_watcher) return;
    m_progress->setValue(int(std::clamp(fraction, 0.0, 1.0) * 100.0));
    m_status->setText(tr("Optimizing… %1").arg(stage));
}

void OptimizePanel::onFinished() {
    OptimizeOutcome out = m_watcher->result();
    const bool cancelled =
        m_reporter->isCancelled() || out.status.code == StatusCode::Cancelled;
    m_watcher->deleteLater();
    m_watcher = nullptr;
    m_reporter.reset(); // queued signals may still arrive; onProgress ignores them
    m_progress->setValue(0);

    if (cancelled) {
        m_lastError = tr("Optimization cancelled; the model is unchanged.");
        m_status->setStyleSheet(QString());
        m_status->setText(m_lastError);
        emit logLine(int(Severity::Info), m_lastError);
        updateState();
        emit finished(false);
        return;
    }
    if (!out.status.ok() || !out.document) {
        const QString details = qstr(out.status.toString());
        m_lastError = tr("Optimization failed; the model is unchanged: %1").arg(details);
        emit logLine(int(Severity::Error), m_lastError);
        showError(tr("The optimizer stopped with an error. The model is unchanged."), details);
        updateState();
        emit finished(false);
        return;
    }
    if (out.before != m_doc) {
        // Another model was opened (or the edit undone) meanwhile: this result belongs to a
        // document that is no longer shown.
        m_lastError = tr("The model changed while optimizing; the result was discarded.");
        m_status->setStyleSheet(QString());
        m_status->setText(m_lastError);
        emit logLine(int(Severity::Warning), m_lastError);
        updateState();
        emit finished(false);
        return;
    }
    showResults(out);
    m_last = out;
    if (m_undoStack)
        m_undoStack->push(
            new OptimizeCommand(out.before, out.document, out.report, m_apply, m_overlays));
    else if (m_apply)
        m_apply(out.document);
    const opt::OptimizeReport& r = out.report;
    emit logLine(int(Severity::Info),
                 tr("Optimized: %1 → %2 nodes, %3 → %4 parameters in %5 round(s), %6")
                     .arg(r.before.nodes)
                     .arg(r.after.nodes)
                     .arg(r.before.parameters)
                     .arg(r.after.parameters)
                     .arg(r.rounds)
                     .arg(msText(r.ms)));
    updateState();
    emit finished(true);
}

void OptimizePanel::showResults(const OptimizeOutcome& out) {
    const opt::OptimizeReport& r = out.report;
    m_header->setText(
        tr("<b>%1</b> · target %2 · %n round(s) · %3", nullptr, r.rounds)
            .arg(r.pipeline == "custom" ? tr("Custom pass list") : tr("Pipeline %1").arg(qstr(r.pipeline)),
                 r.target == opt::Target::Edgewise ? tr("Edgewise runtime") : tr("ONNX"),
                 msText(r.ms)));

    auto setRow = [this](int row, QTableWidgetItem* before, QTableWidgetItem* after,
                         QTableWidgetItem* change) {
        m_summary->setItem(row, ColBefore, before);
        m_summary->setItem(row, ColAfter, after);
        m_summary->setItem(row, ColChange, change);
    };
    auto countRow = [&](int row, int64_t b, int64_t a, QString bt, QString at, QString dt) {
        setRow(row, cell(bt, qlonglong(b)), cell(at, qlonglong(a)),
               cell(changeText(double(b), double(a), dt), qlonglong(a - b)));
    };
    countRow(RowNodes, r.before.nodes, r.after.nodes, formatCount(r.before.nodes),
             formatCount(r.after.nodes), signedCount(r.after.nodes - r.before.nodes));
    countRow(RowParameters, r.before.parameters, r.after.parameters,
             formatCount(r.before.parameters), formatCount(r.after.parameters),
             signedCount(r.after.parameters - r.before.parameters));
    {
        const int64_t d = r.after.macs - r.before.macs;
        countRow(RowMacs, r.before.macs, r.after.macs, formatMacs(r.before.macs, r.before.exact),
                 formatMacs(r.after.macs, r.after.exact),
                 (d < 0 ? QStringLiteral("−") : d > 0 ? QStringLiteral("+") : QString()) +
                     formatMacs(d < 0 ? -d : d));
    }
    if (out.sizeBefore.bytes && out.sizeAfter.bytes) {
        const int64_t b = *out.sizeBefore.bytes, a = *out.sizeAfter.bytes;
        const QString tip = tr("Serialized as ONNX, all tensors inline");
        setRow(RowSize, cell(formatBytes(uint64_t(b)), qlonglong(b), tip),
               cell(formatBytes(uint64_t(a)), qlonglong(a), tip),
               cell(changeText(double(b), double(a),
                               (a < b ? QStringLiteral("−") : a > b ? QStringLiteral("+") : QString()) +
                                   formatBytes(uint64_t(a < b ? b - a : a - b))),
                    qlonglong(a - b)));
    } else {
        const QString why = out.sizeBefore.bytes ? out.sizeAfter.note : out.sizeBefore.note;
        setRow(RowSize, cell(tr("n/a"), {}, why), cell(tr("n/a"), {}, why), cell(QString()));
    }
    auto latencyCell = [&](const QuickBench& b) {
        if (!out.benchmarked) return cell(tr("not measured"), {}, tr("Measure latency was off"));
        if (!b.medianMs) return cell(tr("n/a"), {}, b.note);
        return cell(msText(*b.medianMs), *b.medianMs, b.note);
    };
    {
        const auto& lb = out.latencyBefore;
        const auto& la = out.latencyAfter;
        QTableWidgetItem* change = cell(QString());
        if (out.benchmarked && lb.medianMs && la.medianMs) {
            const double d = *la.medianMs - *lb.medianMs;
            change = cell(changeText(*lb.medianMs, *la.medianMs,
                                     (d < 0 ? QStringLiteral("−") : QStringLiteral("+")) +
                                         msText(std::abs(d))),
                          d, tr("Single measurements on a shared machine vary by a few percent"));
        }
        setRow(RowLatency, latencyCell(lb), latencyCell(la), change);
    }

    m_results->clear();
    for (const opt::PassStats& s : r.passes) {
        auto* it = new QTreeWidgetItem(m_results);
        it->setText(PassColName, qstr(s.name));
        it->setData(PassColName, PassNameRole, qstr(s.name));
        auto num = [&](int col, qlonglong v, const QString& text) {
            it->setText(col, text);
            it->setData(col, ValueRole, v);
            it->setTextAlignment(col, Qt::AlignRight | Qt::AlignVCenter);
        };
        num(PassColRuns, s.changedRuns, QStringLiteral("%1/%2").arg(s.changedRuns).arg(s.runs));
        num(PassColRemoved, s.removed, QString::number(s.removed));
        num(PassColFused, s.fused, QString::number(s.fused));
        num(PassColAdded, s.added, QString::number(s.added));
        num(PassColRewritten, s.rewritten, QString::number(s.rewritten));
        num(PassColNodes, s.nodesDelta, signedCount(s.nodesDelta));
        num(PassColParams, s.parametersDelta, signedCount(s.parametersDelta));
        num(PassColMacs, s.macsDelta,
            (s.macsDelta < 0 ? QStringLiteral("−") : s.macsDelta > 0 ? QStringLiteral("+") : QString()) +
                formatMacs(std::abs(s.macsDelta)));
        it->setText(PassColMs, msText(s.ms));
        it->setData(PassColMs, ValueRole, s.ms);
        it->setTextAlignment(PassColMs, Qt::AlignRight | Qt::AlignVCenter);
        const QString tip =
            tr("%1: %2 removed, %3 fused, %4 added, %5 rewritten; nodes %6, parameters %7, MACs %8; "
               "changed something in %9 of %n run(s)", nullptr, s.runs)
                .arg(qstr(s.name))
                .arg(s.removed)
                .arg(s.fused)
                .arg(s.added)
                .arg(s.rewritten)
                .arg(signedCount(s.nodesDelta), signedCount(s.parametersDelta),
                     it->text(PassColMacs))
                .arg(s.changedRuns);
        for (int c = 0; c < PassColumnCount; ++c) {
            it->setToolTip(c, tip);
            if (s.changedRuns == 0) it->setForeground(c, palette().placeholderText());
        }
        int shown = 0;
        for (const opt::NodeChange& c : s.changes) {
            if (shown++ == kMaxChangeRows) {
                auto* more = new QTreeWidgetItem(it);
                more->setText(0, tr("… %n more", nullptr, int(s.changes.size()) - kMaxChangeRows));
                more->setFirstColumnSpanned(true);
                break;
            }
            auto* ch = new QTreeWidgetItem(it);
            const QString node = c.node.empty() ? tr("(unnamed)") : qstr(c.node);
            QString text = tr("%1 %2 (%3)").arg(changeKindText(c.kind), node, qstr(c.op));
            // A fused node is gone; the one that absorbed it is what can be shown.
            QString target = qstr(c.node);
            if (c.kind == opt::NodeChange::Kind::Fused) {
                text += tr(" into %1").arg(qstr(c.into));
                target = qstr(c.into);
            }
            ch->setText(0, text);
            ch->setToolTip(0, text);
            ch->setData(0, NodeNameRole, target);
            ch->setData(0, Qt::UserRole, int(c.kind));
            ch->setFirstColumnSpanned(true);
        }
    }
    // Passes that changed something first catch the eye when they are expanded.
    for (int i = 0; i < m_results->topLevelItemCount(); ++i) {
        QTreeWidgetItem* it = m_results->topLevelItem(i);
        it->setExpanded(it->childCount() > 0 && it->childCount() <= 20);
    }
}

QMessageBox* OptimizePanel::errorBox() const {
    return m_errorBox.data();
}

void OptimizePanel::showError(const QString& text, const QString& details) {
    m_status->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_status->setText(m_lastError);
    if (m_errorBox) m_errorBox->close();
    auto* box = new QMessageBox(QMessageBox::Critical, tr("Optimization Failed"), text,
                                QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("optimizeErrorBox"));
    box->setInformativeText(details);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    m_errorBox = box;
    box->open(); // not exec(): the window (and tests) keep processing events
}

void OptimizePanel::updateState() {
    const bool running = m_watcher != nullptr;
    const bool any = !checkedPasses().isEmpty();
    m_run->setEnabled(!running && m_doc && any);
    m_run->setToolTip(!m_doc ? tr("Open a model first")
                      : !any ? tr("Check at least one pass")
                             : tr("Optimize a copy of the model; the result can be undone"));
    m_cancel->setEnabled(running);
    m_progress->setVisible(running);
    m_preset->setEnabled(!running);
    m_target->setEnabled(!running);
    m_passes->setEnabled(!running);
    m_bench->setEnabled(!running);
    m_save->setEnabled(!running && m_doc);
    const bool canUndo = m_undoStack && m_undoStack->canUndo();
    const bool canRedo = m_undoStack && m_undoStack->canRedo();
    m_undo->setEnabled(!running && canUndo);
    m_redo->setEnabled(!running && canRedo);
    m_undo->setToolTip(canUndo ? m_undoStack->undoText() : QString());
    m_redo->setToolTip(canRedo ? m_undoStack->redoText() : QString());
    if (!running && m_lastError.isEmpty() && m_last) {
        if (m_doc && m_doc == m_last->document)
            m_status->setText(tr("Showing the optimized model. Changed nodes are highlighted in "
                                 "the graph (overlay \"Optimizer: changed nodes\")."));
        else if (m_doc && m_doc == m_last->before)
            m_status->setText(tr("Undone: showing the original model (overlay \"Optimizer: "
                                 "removed nodes\")."));
        else
            m_status->clear();
    } else if (!running && m_lastError.isEmpty() && !m_last) {
        m_status->setText(m_doc ? tr("Choose passes and press Run.") : tr("Open a model first."));
    }
}

} // namespace ew::ui
