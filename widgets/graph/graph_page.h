#pragma once
#include "graph_export.h"
#include "graph_model.h"

#include <QFutureWatcher>
#include <QPointer>
#include <QWidget>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QAction;
class QLabel;
class QProgressDialog;
class QPushButton;
class QSplitter;
class QToolBar;

namespace ew::ui {

class GraphScene;
class GraphSearch;
class GraphView;
class OpLegend;
class OverlayController;
class QtReporter;
struct SearchHit;

/// The Graph tab: toolbar (search, fit, zoom to selection, 100 %, shape labels, minimap,
/// legend, expand all / collapse all / default grouping, export), the search results beside the
/// canvas, the legend and a status line with the layout's numbers.
/// Layout runs on the thread pool (QtConcurrent) through a QtReporter, with a progress dialog
/// whose Cancel stops it; the model's one Layout makes expand/collapse incremental. A cancelled
/// re-layout leaves the previous drawing on screen; a cancelled first layout leaves an empty
/// canvas with a "Lay Out Again" button. Requests made while a layout runs are queued; only the
/// newest is kept.
/// Invariant: at most one layout job runs; the scene always shows a drawing of m_shownState.
class GraphPage : public QWidget {
    Q_OBJECT
  public:
    explicit GraphPage(QWidget* parent = nullptr);
    ~GraphPage() override;

    /// Shows the document's main graph (nullptr: empty canvas), laid out at the default depth.
    void setDocument(DocumentPtr doc);
    /// Shows a graph without IR (the bench's synthetic graphs), laid out at its default depth.
    void setLayoutGraph(layout::LayoutGraph graph);
    /// Node headers follow this controller's current overlay.
    void setOverlayController(OverlayController* overlays);

    GraphScene* scene() const { return m_scene; }
    GraphView* view() const { return m_view; }
    GraphSearch* search() const { return m_search; }
    OpLegend* legend() const { return m_legend; }
    QToolBar* toolBar() const { return m_toolBar; }
    const GraphModelPtr& model() const { return m_model; }
    bool isLayingOut() const { return m_watcher != nullptr; }
    /// The collapse state of the drawing on screen.
    const layout::CollapseState& shownState() const { return m_shownState; }
    QString statusText() const;

    /// Selects and centres `node` (expanding the groups around it first, off the GUI thread).
    /// Does not emit nodeActivated. False when the graph has no such node.
    bool showNode(const ir::Node* node);
    /// The same by layout id; `center` false only scrolls it into view.
    bool revealNode(layout::NodeId id, bool center = true);

    /// Collapses or expands one group and lays out again; the group's corner stays where it is
    /// on screen.
    void toggleGroup(layout::GroupId group);
    /// Lays out with `state` (queued when a layout is running).
    void setCollapseState(const layout::CollapseState& state, std::function<void()> then = {});

    /// Writes the view or the whole graph (.png or .svg); empty on success, else the error
    /// (naming the file), also shown in a message box.
    QString exportImage(GraphExport::Scope scope, const QString& path);

  public slots:
    void expandAll();
    void collapseAll();
    void collapseToDefault();
    /// Cancels the running layout (the previous drawing stays).
    void cancelLayout();
    /// Alt+Up: to a producer; Alt+Down: to a consumer; Alt+Left/Right: to the previous / next
    /// of the producers or consumers last moved among.
    void navigate(int key);
    void focusSearch();

  signals:
    /// The user selected an op in the graph (click, keyboard, search): sync the node list and
    /// the inspector. `key` is what MainWindow::selectNode takes.
    void nodeActivated(const ew::ir::Node* node, const QString& key);
    /// A layout job ended: true when its drawing is now on screen.
    void layoutFinished(bool ok);
    /// One-line notices for the status bar / log.
    void message(const QString& text);

  private:
    void createToolBar();
    void showModel(GraphModelPtr model);
    void startLayout(const layout::CollapseState& state, std::function<void()> then);
    void onLayoutFinished();
    void onProgress(const QString& stage, double fraction);
    void onSceneSelection();
    void onHitActivated(const SearchHit& hit);
    void onHitsChanged();
    void selectAndCenter(layout::ItemRef ref, bool center);
    void updateStatus();
    void exportWithDialog(GraphExport::Scope scope, const QString& suffix);
    void showContextMenu(const QPoint& viewportPos);
    void updateActions();

    GraphModelPtr m_model;
    layout::CollapseState m_shownState;
    GraphScene* m_scene = nullptr;
    GraphView* m_view = nullptr;
    GraphSearch* m_search = nullptr;
    OpLegend* m_legend = nullptr;
    QToolBar* m_toolBar = nullptr;
    QSplitter* m_splitter = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_retry = nullptr;
    QAction* m_fitAction = nullptr;
    QAction* m_zoomSelectionAction = nullptr;
    QAction* m_zoom100Action = nullptr;
    QAction* m_shapesAction = nullptr;
    QAction* m_minimapAction = nullptr;
    QAction* m_legendAction = nullptr;
    QAction* m_expandAllAction = nullptr;
    QAction* m_collapseAllAction = nullptr;
    QAction* m_defaultAction = nullptr;
    QAction* m_exportAction = nullptr;

    // The running layout job; all null/empty when idle.
    QFutureWatcher<layout::Drawing>* m_watcher = nullptr;
    std::unique_ptr<QtReporter> m_reporter;
    QPointer<QProgressDialog> m_progress;
    GraphModelPtr m_jobModel;
    layout::CollapseState m_jobState;
    std::function<void()> m_jobThen;
    struct Pending {
        layout::CollapseState state;
        std::function<void()> then;
    };
    std::optional<Pending> m_pending;

    bool m_syncing = false; ///< selecting on behalf of MainWindow: do not echo nodeActivated
    std::vector<layout::ItemRef> m_navList; ///< the producers/consumers last moved among
    QString m_layoutNote;                   ///< "cancelled" and similar, for the status line
};

} // namespace ew::ui
