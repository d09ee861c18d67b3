#include "main_window.h"

#include "about_dialog.h"
#include "format_util.h"
#include "graph/graph_page.h"
#include "inspector/inspector_panel.h"
#include "log_panel.h"
#include "node_list_panel.h"
#include "node_table_model.h"
#include "optimize/optimize_panel.h"
#include "overlay/overlay_controller.h"
#include "overlay/overlay_panel.h"
#include "overview_page.h"
#include "properties_panel.h"
#include "qt_reporter.h"
#include "summary_panel.h"

#include "ir/io/model_io.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressDialog>
#include <QScreen>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QUndoStack>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

static void initEdgewiseResources() {
    // A .qrc compiled into a static library is only registered if something references it.
    Q_INIT_RESOURCE(edgewise);
#ifdef EW_HAS_SAMPLE
    Q_INIT_RESOURCE(samples);
#endif
}

namespace ew::ui {

namespace {

constexpr int kMaxRecentFiles = 10;
const char* const kRecentKey = "recentFiles";
const char* const kSampleResource = ":/samples/digits_cnn.onnx";

QStringList extensionPatterns() {
    QStringList patterns;
    for (const std::string& ext : ir::supportedExtensions()) {
        QString e = qstr(ext);
        if (e.startsWith(QLatin1Char('.'))) e.remove(0, 1);
        patterns << QStringLiteral("*.") + e;
    }
    return patterns;
}

bool hasSupportedExtension(const QString& path) {
    QString lower = path.toLower();
    for (const QString& p : extensionPatterns())
        if (lower.endsWith(p.mid(1))) return true;
    return false;
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    initEdgewiseResources();
    setObjectName(QStringLiteral("EdgewiseMainWindow"));
    setWindowTitle(tr("Edgewise"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/edgewise.svg")));
    setAcceptDrops(true);
    setDockNestingEnabled(true);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("centralTabs"));
    m_tabs->setDocumentMode(true);
    m_graphPage = new GraphPage(m_tabs);
    m_tabs->addTab(m_graphPage, tr("Graph"));
    m_overview = new OverviewPage(m_tabs);
    m_tabs->addTab(m_overview, tr("Overview"));
    setCentralWidget(m_tabs);

    m_undo = new QUndoStack(this);
    createActions();
    createDocks();
    createMenus();

    m_statusModel = new QLabel(this);
    statusBar()->addPermanentWidget(m_statusModel);
    statusBar()->showMessage(tr("Ready. Open a model with File > Open or drop one here."));

    connect(m_overview, &OverviewPage::openRequested, this, &MainWindow::showOpenDialog);
    connect(m_nodeList, &NodeListPanel::nodeSelected, this, &MainWindow::onNodeSelected);
    // Graph <-> node list and inspector: a node chosen in the graph is selected in the list
    // (which shows it in the inspector); nodes of nested graphs are not in the list.
    m_graphPage->setOverlayController(m_overlays);
    connect(m_graphPage, &GraphPage::nodeActivated, this,
            [this](const ir::Node* node, const QString& key) {
                if (!selectNode(key)) m_inspector->showNode(node);
            });
    connect(m_graphPage, &GraphPage::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 5000); });

    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) {
        // First start: room for three columns, but never larger than the screen.
        QSize size(1500, 920);
        if (QScreen* s = screen()) size = size.boundedTo(s->availableGeometry().size() * 0.95);
        resize(size);
    }
    m_needsDockSizes = !restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    setDocument(nullptr);
}

MainWindow::~MainWindow() {
    // The worker thread uses m_reporter; it must finish before the reporter goes away.
    if (m_task) {
        m_reporter->cancel();
        m_task->disconnect(this);
        m_task->waitForFinished();
    }
}

void MainWindow::createActions() {
    m_openAction =
        new QAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open…"), this);
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setStatusTip(tr("Open an ONNX or TFLite model"));
    connect(m_openAction, &QAction::triggered, this, &MainWindow::showOpenDialog);

    m_openSampleAction = new QAction(tr("Open &Sample Model"), this);
    m_openSampleAction->setObjectName(QStringLiteral("openSampleAction"));
    m_openSampleAction->setStatusTip(tr("Open the bundled digits_cnn.onnx example"));
    m_openSampleAction->setVisible(QFile::exists(QLatin1String(kSampleResource)));
    connect(m_openSampleAction, &QAction::triggered, this, &MainWindow::openSample);

    m_saveAsAction =
        new QAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Save &As…"), this);
    m_saveAsAction->setShortcut(QKeySequence::SaveAs);
    m_saveAsAction->setStatusTip(tr("Save the model to a new file"));
    connect(m_saveAsAction, &QAction::triggered, this, &MainWindow::showSaveAsDialog);

    m_exportOnnxAction = new QAction(tr("&Export to ONNX…"), this);
    m_exportOnnxAction->setStatusTip(tr("Write the model as an ONNX file"));
    connect(m_exportOnnxAction, &QAction::triggered, this, &MainWindow::showExportOnnxDialog);

    m_loadOverlayAction = new QAction(tr("Load &Overlay…"), this);
    m_loadOverlayAction->setObjectName(QStringLiteral("loadOverlayAction"));
    m_loadOverlayAction->setStatusTip(
        tr("Colour the nodes by per-node values from a JSON file (latency, error, …)"));
    connect(m_loadOverlayAction, &QAction::triggered, this, &MainWindow::showLoadOverlayDialog);

    m_optimizeAction = new QAction(tr("&Optimize…"), this);
    m_optimizeAction->setObjectName(QStringLiteral("optimizeAction"));
    m_optimizeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_optimizeAction->setStatusTip(tr("Simplify and fuse the graph with the optimizer's passes"));
    connect(m_optimizeAction, &QAction::triggered, this, &MainWindow::showOptimizePanel);

    m_closeAction = new QAction(tr("&Close Model"), this);
    m_closeAction->setShortcut(QKeySequence::Close);
    connect(m_closeAction, &QAction::triggered, this, &MainWindow::closeModel);

    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    m_clearRecentAction = new QAction(tr("&Clear Recent Files"), this);
    connect(m_clearRecentAction, &QAction::triggered, this, [this] {
        QSettings().remove(QLatin1String(kRecentKey));
        rebuildRecentMenu();
    });

    m_aboutAction = new QAction(tr("&About Edgewise"), this);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
    m_aboutQtAction = new QAction(tr("About &Qt"), this);
    m_aboutQtAction->setMenuRole(QAction::AboutQtRole);
    connect(m_aboutQtAction, &QAction::triggered, qApp, &QApplication::aboutQt);
}

void MainWindow::createDocks() {
    auto makeDock = [this](const QString& title, const QString& name, QWidget* content,
                           Qt::DockWidgetArea area) {
        auto* dock = new QDockWidget(title, this);
        dock->setObjectName(name); // saveState() keys on it
        dock->setWidget(content);
        addDockWidget(area, dock);
        return dock;
    };
    m_nodeList = new NodeListPanel(this);
    m_nodeDock =
        makeDock(tr("Nodes"), QStringLiteral("nodesDock"), m_nodeList, Qt::LeftDockWidgetArea);
    m_inspector = new InspectorPanel(this);
    m_propertiesDock = makeDock(tr("Inspector"), QStringLiteral("propertiesDock"), m_inspector,
                                Qt::RightDockWidgetArea);
    m_summary = new SummaryPanel(this);
    m_summaryDock = makeDock(tr("Model Summary"), QStringLiteral("summaryDock"), m_summary,
                             Qt::RightDockWidgetArea);
    m_log = new LogPanel(this);
    m_logDock = makeDock(tr("Log"), QStringLiteral("logDock"), m_log, Qt::BottomDockWidgetArea);

    // Overlays: below the node list, whose rows they tint; hidden until one is wanted.
    m_overlays = new OverlayController(this);
    m_nodeList->sourceModel()->setOverlay(m_overlays);
    m_overlayPanel = new OverlayPanel(m_overlays, this);
    m_overlayDock = makeDock(tr("Overlays"), QStringLiteral("overlayDock"), m_overlayPanel,
                             Qt::LeftDockWidgetArea);
    splitDockWidget(m_nodeDock, m_overlayDock, Qt::Vertical);
    m_overlayDock->hide();
    connect(m_overlayPanel, &OverlayPanel::nodeActivated, this, &MainWindow::selectNode);
    connect(m_overlayPanel, &OverlayPanel::loadRequested, this, &MainWindow::showLoadOverlayDialog);

    // Properties and summary share the right column as tabs so each gets its full height; the
    // summary comes to the front when a model opens, the properties when a node is selected.
    tabifyDockWidget(m_propertiesDock, m_summaryDock);
    // The optimizer: a third tab there, so the graph stays in view while it runs.
    m_optimize = new OptimizePanel(m_undo, m_overlays,
                                   [this](const DocumentPtr& doc) { replaceDocument(doc); }, this);
    m_optimizeDock = makeDock(tr("Optimize"), QStringLiteral("optimizeDock"), m_optimize,
                              Qt::RightDockWidgetArea);
    tabifyDockWidget(m_summaryDock, m_optimizeDock);
    connect(m_optimize, &OptimizePanel::nodeActivated, this, &MainWindow::selectNode);
    connect(m_optimize, &OptimizePanel::saveRequested, this, &MainWindow::showSaveAsDialog);
    connect(m_optimize, &OptimizePanel::logLine, m_log, &LogPanel::appendReporterLine);
    setTabPosition(Qt::RightDockWidgetArea, QTabWidget::North);
}

void MainWindow::createMenus() {
    m_fileMenu = menuBar()->addMenu(tr("&File"));
    m_fileMenu->addAction(m_openAction);
    m_recentMenu = m_fileMenu->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    m_fileMenu->addAction(m_openSampleAction);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_saveAsAction);
    m_fileMenu->addAction(m_exportOnnxAction);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_loadOverlayAction);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_closeAction);
    m_fileMenu->addAction(m_quitAction);
    rebuildRecentMenu();

    m_editMenu = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_undo->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = m_undo->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    m_editMenu->addAction(undo);
    m_editMenu->addAction(redo);
    m_editMenu->addSeparator();
    m_editMenu->addAction(m_optimizeAction);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* d : {m_nodeDock, m_propertiesDock, m_summaryDock, m_optimizeDock,
                           m_overlayDock, m_logDock})
        m_viewMenu->addAction(d->toggleViewAction());

    m_helpMenu = menuBar()->addMenu(tr("&Help"));
    m_helpMenu->addAction(m_aboutAction);
    m_helpMenu->addAction(m_aboutQtAction);

    auto* tb = addToolBar(tr("Main"));
    tb->setObjectName(QStringLiteral("mainToolBar"));
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->setMovable(false);
    tb->addAction(m_openAction);
    tb->addAction(m_saveAsAction);
}

QString MainWindow::openFilter() {
    return tr("Models (%1)").arg(extensionPatterns().join(QLatin1Char(' '))) +
           QStringLiteral(";;") + tr("All files (*)");
}

void MainWindow::showOpenDialog() {
    QString dir = m_doc ? QFileInfo(m_doc->path).absolutePath() : QString();
    if (dir.isEmpty() && !recentFiles().isEmpty())
        dir = QFileInfo(recentFiles().first()).absolutePath();
    QString path = QFileDialog::getOpenFileName(this, tr("Open Model"), dir, openFilter());
    if (!path.isEmpty()) openModel(path);
}

void MainWindow::showSaveAsDialog() {
    if (!m_doc) return;
    QFileInfo src(m_doc->path);
    // Suggest a new name: saving over the source is refused anyway.
    QString suggested = src.absolutePath() + QLatin1Char('/') + src.completeBaseName() +
                        QStringLiteral("_edited.") + src.suffix();
    QString path = QFileDialog::getSaveFileName(this, tr("Save Model As"), suggested, openFilter());
    if (!path.isEmpty()) saveModelAs(path);
}

void MainWindow::showExportOnnxDialog() {
    if (!m_doc) return;
    QFileInfo src(m_doc->path);
    QString suggested = src.absolutePath() + QLatin1Char('/') + src.completeBaseName() +
                        (src.suffix().compare(QLatin1String("onnx"), Qt::CaseInsensitive) == 0
                             ? QStringLiteral("_export.onnx")
                             : QStringLiteral(".onnx"));
    QString path = QFileDialog::getSaveFileName(this, tr("Export to ONNX"), suggested,
                                                tr("ONNX models (*.onnx)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".onnx");
    saveModelAs(path);
}

bool MainWindow::openModel(const QString& path) {
    if (m_task) {
        m_log->append(Severity::Warning,
                      tr("Still busy; ignoring the request to open %1").arg(path));
        return false;
    }
    QString abs = QFileInfo(path).absoluteFilePath();
    startTask(TaskKind::Load, abs, [abs](Reporter& r) { return loadModelDocument(abs, r); });
    return true;
}

bool MainWindow::saveModelAs(const QString& path) {
    if (!m_doc || m_task) {
        if (m_task)
            m_log->append(Severity::Warning,
                          tr("Still busy; ignoring the request to save %1").arg(path));
        return false;
    }
    QString abs = QFileInfo(path).absoluteFilePath();
    DocumentPtr doc = m_doc;
    startTask(TaskKind::Save, abs,
              [doc, abs](Reporter& r) { return saveModelDocument(doc, abs, r); });
    return true;
}

void MainWindow::startTask(TaskKind kind, const QString& path,
                           std::function<TaskOutcome(Reporter&)> work) {
    m_taskKind = kind;
    m_taskPath = path;
    m_lastError.clear();
    m_reporter = std::make_unique<QtReporter>();
    connect(m_reporter.get(), &QtReporter::logMessage, m_log, &LogPanel::appendReporterLine);
    connect(m_reporter.get(), &QtReporter::progressChanged, this, &MainWindow::onTaskProgress);

    QString file = QFileInfo(path).fileName();
    QString label =
        kind == TaskKind::Load ? tr("Loading %1…").arg(file) : tr("Saving %1…").arg(file);
    m_log->append(Severity::Info, label);
    statusBar()->showMessage(label);

    m_progress = new QProgressDialog(label, tr("Cancel"), 0, 100, this);
    m_progress->setObjectName(QStringLiteral("taskProgress"));
    m_progress->setWindowTitle(kind == TaskKind::Load ? tr("Opening Model") : tr("Saving Model"));
    m_progress->setWindowModality(Qt::WindowModal);
    m_progress->setAutoClose(false);
    m_progress->setAutoReset(false);
    m_progress->setMinimumDuration(400); // small models load faster than the dialog would flash
    m_progress->setValue(0);
    QtReporter* reporter = m_reporter.get();
    connect(m_progress, &QProgressDialog::canceled, this, [this, reporter] {
        reporter->cancel();
        m_log->append(Severity::Info, tr("Cancelling…"));
    });

    m_task = new QFutureWatcher<TaskOutcome>(this);
    connect(m_task, &QFutureWatcher<TaskOutcome>::finished, this, &MainWindow::onTaskFinished);
    m_task->setFuture(
        QtConcurrent::run([work = std::move(work), reporter] { return work(*reporter); }));
    updateActions();
}

void MainWindow::onTaskProgress(const QString& stage, double fraction) {
    if (!m_progress) return;
    QString file = QFileInfo(m_taskPath).fileName();
    QString head =
        m_taskKind == TaskKind::Load ? tr("Loading %1…").arg(file) : tr("Saving %1…").arg(file);
    m_progress->setLabelText(head + QLatin1Char('\n') + tr("Stage: %1").arg(stage));
    m_progress->setValue(int(fraction * 100.0));
}

void MainWindow::onTaskFinished() {
    TaskOutcome out = m_task->result();
    bool cancelled = m_reporter->isCancelled() || out.status.code == StatusCode::Cancelled;
    TaskKind kind = m_taskKind;
    QString path = m_taskPath;
    m_task->deleteLater();
    m_task = nullptr;
    if (m_progress) {
        // QProgressDialog's closeEvent emits canceled(); the task is over, so nothing is to cancel.
        m_progress->disconnect(this);
        m_progress->close();
        m_progress->deleteLater();
    }
    // Queued reporter signals may still be in flight; the reporter itself is no longer used.
    m_reporter.reset();
    QString file = QFileInfo(path).fileName();

    if (kind == TaskKind::Load) {
        if (cancelled) {
            m_log->append(Severity::Info,
                          tr("Loading %1 was cancelled; the previous model stays open.").arg(file));
            statusBar()->showMessage(tr("Loading cancelled"), 5000);
        } else if (!out.status.ok() || !out.document) {
            m_lastError = qstr(out.status.toString());
            m_log->append(Severity::Error, m_lastError);
            statusBar()->showMessage(tr("Could not open %1").arg(file), 8000);
            showError(tr("Cannot Open Model"), tr("Could not open %1.").arg(file), m_lastError);
            emit loadFailed(m_lastError);
        } else {
            m_undo->clear(); // edits belong to the previous model
            setDocument(out.document);
            addRecentFile(path);
            statusBar()->showMessage(tr("Opened %1").arg(file), 5000);
            emit modelLoaded(path);
        }
    } else {
        if (cancelled) {
            m_log->append(Severity::Info, tr("Saving %1 was cancelled.").arg(file));
        } else if (!out.status.ok()) {
            m_lastError = qstr(out.status.toString());
            m_log->append(Severity::Error, m_lastError);
            showError(tr("Cannot Save Model"), tr("Could not save %1.").arg(file), m_lastError);
            emit saveFailed(m_lastError);
        } else {
            m_log->append(Severity::Info, tr("Saved %1").arg(QDir::toNativeSeparators(path)));
            statusBar()->showMessage(tr("Saved %1").arg(file), 5000);
            emit modelSaved(path);
        }
    }
    updateActions();
}

QMessageBox* MainWindow::errorBox() const {
    return m_errorBox.data();
}

void MainWindow::showError(const QString& title, const QString& text, const QString& details) {
    if (m_errorBox) m_errorBox->close();
    auto* box = new QMessageBox(QMessageBox::Critical, title, text, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorBox"));
    box->setInformativeText(details);
    // Importer messages carry a full path; a wider box keeps them from wrapping word by word.
    box->setStyleSheet(QStringLiteral("QLabel { min-width: 460px; }"));
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    m_errorBox = box;
    // open(), not exec(): the window keeps processing events (and tests keep running).
    box->open();
}

void MainWindow::setDocument(DocumentPtr doc) {
    m_doc = std::move(doc);
    m_inspector->setDocument(m_doc);
    m_overlays->setDocument(m_doc);
    m_nodeList->setDocument(m_doc);
    m_summary->setDocument(m_doc);
    m_overview->setDocument(m_doc);
    m_graphPage->setDocument(m_doc);
    m_optimize->setDocument(m_doc);
    if (m_doc) {
        setWindowTitle(tr("%1 — Edgewise").arg(QFileInfo(m_doc->path).fileName()));
        setWindowFilePath(m_doc->path);
        m_statusModel->setText(tr("%1 · %n node(s)", nullptr, int(m_doc->summary.nodeCount))
                                   .arg(QDir::toNativeSeparators(m_doc->path)));
        m_tabs->setCurrentWidget(m_graphPage);
        m_summaryDock->raise();
    } else {
        setWindowTitle(tr("Edgewise"));
        setWindowFilePath(QString());
        m_statusModel->clear();
    }
    updateActions();
}

void MainWindow::closeModel() {
    if (m_task || !m_doc) return;
    m_log->append(Severity::Info, tr("Closed %1").arg(QFileInfo(m_doc->path).fileName()));
    m_undo->clear();
    setDocument(nullptr);
}

void MainWindow::updateActions() {
    bool idle = m_task == nullptr;
    m_openAction->setEnabled(idle);
    m_openSampleAction->setEnabled(idle);
    m_recentMenu->setEnabled(idle);
    m_saveAsAction->setEnabled(idle && m_doc);
    m_exportOnnxAction->setEnabled(idle && m_doc);
    m_closeAction->setEnabled(idle && m_doc);
    m_loadOverlayAction->setEnabled(idle && m_doc);
}

void MainWindow::showOptimizePanel() {
    m_optimizeDock->show();
    m_optimizeDock->raise();
    // Its statistics table has many columns: a little more room than the inspector needs.
    if (!m_optimizeDock->isFloating() && m_optimizeDock->width() < width() * 36 / 100)
        resizeDocks({m_optimizeDock}, {width() * 36 / 100}, Qt::Horizontal);
}

void MainWindow::replaceDocument(const DocumentPtr& doc) {
    setDocument(doc);
    // setDocument brings the summary forward, which would hide the run's results.
    if (m_optimizeDock->toggleViewAction()->isChecked()) m_optimizeDock->raise();
}

PropertiesPanel* MainWindow::properties() const {
    return m_inspector->nodeView();
}

void MainWindow::showLoadOverlayDialog() {
    if (!m_doc) return;
    QString dir = QSettings().value(QStringLiteral("overlay/lastDir")).toString();
    if (dir.isEmpty()) dir = QFileInfo(m_doc->path).absolutePath();
    QString path = QFileDialog::getOpenFileName(this, tr("Load Overlay"), dir,
                                                tr("Overlay files (*.json)") +
                                                    QStringLiteral(";;") + tr("All files (*)"));
    if (path.isEmpty()) return;
    QSettings().setValue(QStringLiteral("overlay/lastDir"), QFileInfo(path).absolutePath());
    loadOverlay(path);
}

bool MainWindow::loadOverlay(const QString& path) {
    QString file = QFileInfo(path).fileName();
    m_lastError.clear();
    if (!m_doc) {
        m_lastError = tr("%1: open a model before loading an overlay for it")
                          .arg(QDir::toNativeSeparators(path));
        m_log->append(Severity::Error, m_lastError);
        return false;
    }
    auto overlay = loadOverlayJson(path);
    if (!overlay) {
        m_lastError = overlay.error();
        m_log->append(Severity::Error, m_lastError);
        statusBar()->showMessage(tr("Could not load overlay %1").arg(file), 8000);
        showError(tr("Cannot Load Overlay"), tr("Could not load the overlay %1.").arg(file),
                  m_lastError);
        return false;
    }
    int index = m_overlays->addOverlay(std::move(*overlay));
    const Overlay& o = m_overlays->overlays()[std::size_t(index)];
    m_log->append(Severity::Info,
                  tr("Loaded overlay \"%1\" from %2: %n node(s)", nullptr, int(o.values.size()))
                      .arg(o.name, QDir::toNativeSeparators(path)));
    if (!o.unmatched.isEmpty()) {
        QStringList some = o.unmatched.mid(0, 5);
        if (o.unmatched.size() > 5) some << QStringLiteral("…");
        m_log->append(
            Severity::Warning,
            tr("%1: %n name(s) are not nodes of this model: %2", nullptr, int(o.unmatched.size()))
                .arg(QDir::toNativeSeparators(path), some.join(QStringLiteral(", "))));
    }
    if (!m_overlayDock->isVisible()) {
        // First appearance: half of the left column, so the sorted table shows some rows.
        int column = m_nodeDock->height();
        m_overlayDock->show();
        if (!m_overlayDock->isFloating() && column > 0)
            resizeDocks({m_nodeDock, m_overlayDock}, {column / 2, column / 2}, Qt::Vertical);
    }
    m_overlayDock->raise();
    statusBar()->showMessage(tr("Showing overlay %1").arg(o.name), 5000);
    return true;
}

bool MainWindow::selectNode(const QString& name) {
    if (!m_doc || !m_nodeList->selectNode(name)) return false;
    m_propertiesDock->show();
    m_propertiesDock->raise(); // also when the node was already selected
    return true;
}

void MainWindow::onNodeSelected(const ir::Node* node) {
    m_inspector->showNode(node);
    if (node) {
        m_graphPage->showNode(node); // no-op when the click came from the graph
        m_propertiesDock->raise();
    }
    if (node)
        statusBar()->showMessage(
            tr("Selected %1 (%2)").arg(qstr(node->displayName()), qstr(node->qualifiedOp())));
}

QStringList MainWindow::recentFiles() const {
    return QSettings().value(QLatin1String(kRecentKey)).toStringList();
}

void MainWindow::addRecentFile(const QString& path) {
    QStringList files = recentFiles();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    QSettings().setValue(QLatin1String(kRecentKey), files);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList files = recentFiles();
    int i = 0;
    for (const QString& f : files) {
        ++i;
        // Mnemonics 1..9 for the most recent files; the full path is in the tooltip.
        QString text = (i < 10 ? QStringLiteral("&%1  ").arg(i) : QStringLiteral("    ")) +
                       QFileInfo(f).fileName();
        QAction* a = m_recentMenu->addAction(text);
        a->setData(f);
        a->setToolTip(QDir::toNativeSeparators(f));
        a->setStatusTip(QDir::toNativeSeparators(f));
        a->setEnabled(QFileInfo::exists(f));
        connect(a, &QAction::triggered, this, [this, f] { openModel(f); });
    }
    if (files.isEmpty()) {
        QAction* none = m_recentMenu->addAction(tr("(no recent files)"));
        none->setEnabled(false);
    }
    m_recentMenu->addSeparator();
    m_recentMenu->addAction(m_clearRecentAction);
    m_clearRecentAction->setEnabled(!files.isEmpty());
}

void MainWindow::openSample() {
    // loadModel needs a real file, so the embedded sample is copied out once.
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                  QStringLiteral("/samples");
    QDir().mkpath(dir);
    QString target = dir + QStringLiteral("/digits_cnn.onnx");
    QFile src{QString::fromLatin1(kSampleResource)};
    if (!QFileInfo::exists(target) || QFileInfo(target).size() != src.size()) {
        QFile::remove(target);
        if (!src.copy(target)) {
            showError(tr("Cannot Open Sample"), tr("Could not copy the sample model."),
                      tr("%1: %2").arg(target, src.errorString()));
            return;
        }
        QFile::setPermissions(target, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ReadGroup);
    }
    openModel(target);
}

void MainWindow::showAbout() {
    auto* dlg = new AboutDialog(this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    dlg->open();
}

QString MainWindow::localFileFromDrop(const QMimeData* mime) const {
    if (!mime || !mime->hasUrls()) return {};
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile() && hasSupportedExtension(url.toLocalFile())) return url.toLocalFile();
    return {};
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (!m_task && !localFileFromDrop(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();
}

void MainWindow::dropEvent(QDropEvent* event) {
    QString path = localFileFromDrop(event->mimeData());
    if (path.isEmpty()) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    openModel(path);
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (!m_needsDockSizes) return;
    m_needsDockSizes = false;
    // Dock sizes only stick once the window has its real size. Proportions, so a small screen
    // still gets usable docks; at 1500 px the node list shows every column.
    resizeDocks({m_nodeDock, m_propertiesDock}, {width() * 33 / 100, width() * 28 / 100},
                Qt::Horizontal);
    resizeDocks({m_logDock}, {height() * 14 / 100}, Qt::Vertical);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_task) {
        // Loading cannot be abandoned mid-parse; cancel and wait so no worker outlives the window.
        m_reporter->cancel();
        m_task->waitForFinished();
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    event->accept();
}

} // namespace ew::ui
