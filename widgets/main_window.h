#pragma once
#include "model_document.h"

#include <QFutureWatcher>
#include <QMainWindow>
#include <QPointer>
#include <QStringList>

#include <functional>
#include <memory>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QMessageBox;
class QMimeData;
class QProgressDialog;
class QTabWidget;
class QUndoStack;

namespace ew::ui {

class GraphPage;
class InspectorPanel;
class LogPanel;
class NodeListPanel;
class OverlayController;
class OptimizePanel;
class OverlayPanel;
class OverviewPage;
class PropertiesPanel;
class QtReporter;
class SummaryPanel;

/// The Edgewise main window: menus, the central tab area (the graph canvas first, then the
/// Overview), and docks for the node list, the inspector (node properties and tensors), model
/// summary, overlays and log. Selecting a node in the graph selects it in the node list (and so
/// in the inspector); selecting one in the list selects and centres it in the graph.
/// Invariants: at most one background task (load or save) runs at a time, driven through a
/// QtReporter whose cancel flag the progress dialog's Cancel sets; the open document is replaced
/// only when a load succeeds, so a failed or cancelled load leaves the previous model open.
class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Starts loading `path` in the background; false if another task is still running.
    bool openModel(const QString& path);
    /// Starts saving the open model to `path` in the background; false if there is no model or
    /// a task is running. Errors (including "refuses to overwrite the source") arrive through
    /// saveFailed and a message box.
    bool saveModelAs(const QString& path);

    DocumentPtr document() const { return m_doc; }
    bool isBusy() const { return m_task != nullptr; }
    /// The last load or save error as shown to the user (Status::toString()); empty if none.
    QString lastError() const { return m_lastError; }
    QStringList recentFiles() const;
    /// The error message box of the last failure while it is open, for tests.
    QMessageBox* errorBox() const;

    NodeListPanel* nodeList() const { return m_nodeList; }
    /// The inspector's node view (attributes, inputs/outputs, quantization, cost).
    PropertiesPanel* properties() const;
    InspectorPanel* inspector() const { return m_inspector; }
    OverlayController* overlays() const { return m_overlays; }
    OverlayPanel* overlayPanel() const { return m_overlayPanel; }
    SummaryPanel* summary() const { return m_summary; }
    OptimizePanel* optimizePanel() const { return m_optimize; }
    /// Edits of the open model (optimize runs); cleared when another model opens or it closes.
    QUndoStack* undoStack() const { return m_undo; }
    LogPanel* logPanel() const { return m_log; }
    OverviewPage* overview() const { return m_overview; }
    GraphPage* graphPage() const { return m_graphPage; }
    QTabWidget* centralTabs() const { return m_tabs; }

    /// The open-dialog filter built from ew::ir::supportedExtensions().
    static QString openFilter();

  public slots:
    /// Selects the node (by name, or display name for unnamed nodes) in the node list and shows
    /// it in the properties panel. False if the open model has no such node.
    bool selectNode(const QString& name);
    void showOpenDialog();
    void showSaveAsDialog();
    void showExportOnnxDialog();
    void closeModel();
    void showAbout();
    /// Loads an overlay JSON file for the open model and shows it. False (with the error in
    /// lastError() and a message box naming the file) when it cannot be read or parsed; names
    /// that are not nodes of the model are a warning in the log, not an error.
    bool loadOverlay(const QString& path);
    void showLoadOverlayDialog();
    /// Shows the Optimize dock.
    void showOptimizePanel();
    /// Shows `doc` as the open model without loading anything: an edit's result or its undo.
    void replaceDocument(const DocumentPtr& doc);

  signals:
    void modelLoaded(const QString& path);
    void loadFailed(const QString& message);
    void modelSaved(const QString& path);
    void saveFailed(const QString& message);

  protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

  private:
    enum class TaskKind { Load, Save };

    void createActions();
    void createMenus();
    void createDocks();
    void setDocument(DocumentPtr doc);
    void addRecentFile(const QString& path);
    void rebuildRecentMenu();
    void openSample();
    /// Runs `work` on the thread pool with a fresh reporter and a progress dialog.
    void startTask(TaskKind kind, const QString& path, std::function<TaskOutcome(Reporter&)> work);
    void onTaskFinished();
    void onTaskProgress(const QString& stage, double fraction);
    void showError(const QString& title, const QString& text, const QString& details);
    void updateActions();
    void onNodeSelected(const ir::Node* node);
    QString localFileFromDrop(const QMimeData* mime) const;

    DocumentPtr m_doc;

    QTabWidget* m_tabs = nullptr;
    OverviewPage* m_overview = nullptr;
    GraphPage* m_graphPage = nullptr;
    NodeListPanel* m_nodeList = nullptr;
    InspectorPanel* m_inspector = nullptr;
    OverlayController* m_overlays = nullptr;
    OverlayPanel* m_overlayPanel = nullptr;
    OptimizePanel* m_optimize = nullptr;
    QUndoStack* m_undo = nullptr;
    SummaryPanel* m_summary = nullptr;
    LogPanel* m_log = nullptr;
    QDockWidget* m_nodeDock = nullptr;
    QDockWidget* m_propertiesDock = nullptr;
    QDockWidget* m_summaryDock = nullptr;
    QDockWidget* m_logDock = nullptr;
    QDockWidget* m_overlayDock = nullptr;
    QDockWidget* m_optimizeDock = nullptr;
    QLabel* m_statusModel = nullptr;

    QMenu* m_fileMenu = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_editMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_helpMenu = nullptr;
    QAction* m_openAction = nullptr;
    QAction* m_openSampleAction = nullptr;
    QAction* m_saveAsAction = nullptr;
    QAction* m_exportOnnxAction = nullptr;
    QAction* m_loadOverlayAction = nullptr;
    QAction* m_optimizeAction = nullptr;
    QAction* m_closeAction = nullptr;
    QAction* m_quitAction = nullptr;
    QAction* m_clearRecentAction = nullptr;
    QAction* m_aboutAction = nullptr;
    QAction* m_aboutQtAction = nullptr;

    // Background task state; all null when idle.
    QFutureWatcher<TaskOutcome>* m_task = nullptr;
    std::unique_ptr<QtReporter> m_reporter;
    QPointer<QProgressDialog> m_progress;
    TaskKind m_taskKind = TaskKind::Load;
    QString m_taskPath;

    bool m_needsDockSizes = true; ///< no saved layout: size the docks on first show
    QString m_lastError;
    QPointer<QMessageBox> m_errorBox;
};

} // namespace ew::ui
