#pragma once
#include "optimize_job.h"
#include "widgets/model_document.h"

#include <QFutureWatcher>
#include <QPointer>
#include <QWidget>

#include <functional>
#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QMessageBox;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;
class QUndoStack;

namespace ew::ui {

class OverlayController;
class QtReporter;

/// Dock content for the graph optimizer: every registered pass (ew::opt::allPasses(), whatever
/// is there) with its description and a checkbox, the pipelines as presets, the target, Run and
/// Cancel; afterwards the before/after summary (nodes, parameters, MACs, serialized size, quick
/// local latency), per-pass statistics with each pass's node changes beneath it, Undo/Redo and
/// Save.
/// A run works on a clone of the document's model on the thread pool (runOptimizeJob through a
/// QtReporter); its result enters the document only through an OptimizeCommand pushed on the
/// undo stack, so an error or cancel leaves the document exactly as it was.
/// Invariants: at most one run at a time; the checkboxes equal the preset's passes whenever the
/// preset box shows a pipeline (any edit switches it to "Custom"); runtime passes are enabled
/// only with the Edgewise target.
class OptimizePanel : public QWidget {
    Q_OBJECT
  public:
    static constexpr int ValueRole = Qt::UserRole + 1; ///< raw numbers in the result tables
    static constexpr int PassNameRole = Qt::UserRole + 2;
    static constexpr int NodeNameRole = Qt::UserRole + 3;
    enum SummaryRow { RowNodes, RowParameters, RowMacs, RowSize, RowLatency, SummaryRowCount };
    enum SummaryColumn { ColBefore, ColAfter, ColChange };
    enum PassColumn { PassColName, PassColNodes, PassColRemoved, PassColFused, PassColAdded,
                      PassColRewritten, PassColParams, PassColMacs, PassColRuns, PassColMs,
                      PassColumnCount };

    /// `apply` replaces the window's document (undo/redo go through it).
    OptimizePanel(QUndoStack* undoStack, OverlayController* overlays,
                  std::function<void(const DocumentPtr&)> apply, QWidget* parent = nullptr);
    ~OptimizePanel() override;

    /// The document the next run optimizes (called by the window whenever it changes).
    void setDocument(DocumentPtr doc);
    DocumentPtr document() const { return m_doc; }

    /// Checks the passes of `pipeline` ("default", "aggressive") for the current target.
    void choosePreset(const QString& pipeline);
    /// The options Run would use: the preset's pipeline when the checkboxes equal it, else the
    /// checked passes in pipeline order (the aggressive list holds every pass).
    opt::OptimizeOptions currentOptions() const;
    QStringList checkedPasses() const;
    void setPassChecked(const QString& name, bool on);

    /// Starts a run; false when there is no model, nothing is checked or a run is going on.
    bool run();
    void cancel();
    bool isRunning() const { return m_watcher != nullptr; }
    /// The statistics of the last successful run.
    const std::optional<OptimizeOutcome>& lastOutcome() const { return m_last; }
    /// The last error or cancel message; empty after a success.
    QString lastError() const { return m_lastError; }

    QComboBox* presetBox() const { return m_preset; }
    QCheckBox* targetBox() const { return m_target; }
    QCheckBox* benchBox() const { return m_bench; }
    QTreeWidget* passList() const { return m_passes; }
    QPushButton* runButton() const { return m_run; }
    QPushButton* cancelButton() const { return m_cancel; }
    QPushButton* saveButton() const { return m_save; }
    QToolButton* undoButton() const { return m_undo; }
    QToolButton* redoButton() const { return m_redo; }
    QTableWidget* summaryTable() const { return m_summary; }
    QTreeWidget* resultTree() const { return m_results; }
    QLabel* statusLabel() const { return m_status; }
    QMessageBox* errorBox() const;

  signals:
    /// A run ended: ok is false after an error or cancel (the document is unchanged then).
    void finished(bool ok);
    /// A change row was clicked: select that node if the shown graph still has it.
    void nodeActivated(const QString& name);
    /// Save… was clicked (the window asks where and writes atomically).
    void saveRequested();
    void logLine(int severity, const QString& message);

  private:
    void buildPassList();
    void onPresetChosen(int index);
    void onTargetToggled(bool on);
    void onItemChanged(QTreeWidgetItem* item);
    void syncPresetToChecks();
    void onProgress(const QString& stage, double fraction);
    void onFinished();
    void showResults(const OptimizeOutcome& out);
    void showError(const QString& text, const QString& details);
    void updateState();

    QPointer<QUndoStack> m_undoStack;
    QPointer<OverlayController> m_overlays;
    std::function<void(const DocumentPtr&)> m_apply;
    DocumentPtr m_doc;

    QComboBox* m_preset = nullptr;
    QCheckBox* m_target = nullptr;
    QCheckBox* m_bench = nullptr;
    QTreeWidget* m_passes = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_header = nullptr;
    QTableWidget* m_summary = nullptr;
    QTreeWidget* m_results = nullptr;
    QToolButton* m_undo = nullptr;
    QToolButton* m_redo = nullptr;
    QPushButton* m_save = nullptr;
    bool m_settingChecks = false; ///< the preset is writing the checkboxes: stay on that preset

    QFutureWatcher<OptimizeOutcome>* m_watcher = nullptr;
    std::unique_ptr<QtReporter> m_reporter;
    std::optional<OptimizeOutcome> m_last;
    QString m_lastError;
    QPointer<QMessageBox> m_errorBox;
};

} // namespace ew::ui
