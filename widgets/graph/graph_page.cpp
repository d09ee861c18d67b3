#include "graph_page.h"

#include "graph_items.h"
#include "graph_scene.h"
#include "graph_search.h"
#include "graph_view.h"
#include "minimap.h"
#include "op_category.h"
#include "widgets/format_util.h"
#include "widgets/qt_reporter.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <algorithm>

namespace ew::ui {

namespace {

using Kind = layout::ItemRef::Kind;

} // namespace

GraphPage::GraphPage(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("graphPage"));
    m_scene = new GraphScene(this);
    m_view = new GraphView(m_scene, this);
    m_search = new GraphSearch(this);
    m_legend = new OpLegend(this);

    createToolBar();

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(m_search);
    m_splitter->addWidget(m_view);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({260, 900});

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("graphStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // The text changes with every layout (timings, zoom): it must never widen the page, or the
    // view would resize under the user (and under an expand/collapse that keeps a group in place).
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_retry = new QPushButton(tr("Lay Out Again"), this);
    m_retry->setObjectName(QStringLiteral("graphRetry"));
    m_retry->hide();
    connect(m_retry, &QPushButton::clicked, this, [this] {
        if (m_model) setCollapseState(m_model->stateAtDepth(m_model->defaultDepth()));
    });
    auto* statusRow = new QHBoxLayout;
    statusRow->setContentsMargins(6, 0, 6, 2);
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_retry);

    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->setSpacing(0);
    lay->addWidget(m_toolBar);
    lay->addWidget(m_splitter, 1);
    lay->addWidget(m_legend);
    lay->addLayout(statusRow);

    connect(m_scene, &GraphScene::groupToggleRequested, this,
            [this](int g, const QPointF&) { toggleGroup(g); });
    connect(m_scene, &GraphScene::selectedRefChanged, this, &GraphPage::onSceneSelection);
    connect(m_view, &GraphView::navigateRequested, this, &GraphPage::navigate);
    connect(m_view, &GraphView::toggleSelectedRequested, this, [this] {
        if (auto sel = m_scene->selectedRef(); sel && sel->kind == Kind::Group)
            toggleGroup(sel->id);
    });
    connect(m_view, &GraphView::viewChanged, this, &GraphPage::updateStatus);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &GraphPage::showContextMenu);
    connect(m_search, &GraphSearch::hitActivated, this, &GraphPage::onHitActivated);
    connect(m_search, &GraphSearch::hitsChanged, this, &GraphPage::onHitsChanged);

    auto* find = new QShortcut(QKeySequence::Find, this);
    find->setContext(Qt::WidgetWithChildrenShortcut);
    connect(find, &QShortcut::activated, this, &GraphPage::focusSearch);

    setDocument(nullptr);
}

GraphPage::~GraphPage() {
    // The worker uses the reporter and the model's Layout: let it finish first.
    if (m_watcher) {
        m_reporter->cancel();
        m_watcher->disconnect(this);
        m_watcher->waitForFinished();
    }
    m_scene->setModel(nullptr);
}

void GraphPage::createToolBar() {
    m_toolBar = new QToolBar(this);
    m_toolBar->setObjectName(QStringLiteral("graphToolBar"));
    m_toolBar->setIconSize(QSize(16, 16));
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    QLineEdit* edit = m_search->lineEdit();
    edit->setMinimumWidth(180);
    edit->setMaximumWidth(320);
    m_toolBar->addWidget(edit);
    m_toolBar->addSeparator();

    auto add = [this](const QString& text, const QString& name, const QString& tip, auto&& slot) {
        QAction* a = m_toolBar->addAction(text);
        a->setObjectName(name);
        a->setToolTip(tip);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    m_fitAction = add(tr("Fit"), QStringLiteral("graphFit"), tr("Show the whole graph (0)"),
                      [this] { m_view->fitAll(); });
    m_zoomSelectionAction =
        add(tr("Selection"), QStringLiteral("graphZoomSelection"), tr("Zoom to the selected node"),
            [this] { m_view->zoomToSelection(); });
    m_zoom100Action = add(tr("100%"), QStringLiteral("graphZoom100"), tr("Actual size (1)"),
                          [this] { m_view->resetZoom(); });
    m_shapesAction =
        add(tr("Shapes"), QStringLiteral("graphShowShapes"), tr("Show tensor shapes on the edges"),
            [this](bool on) { m_scene->setShowShapes(on); });
    m_shapesAction->setCheckable(true);
    m_shapesAction->setChecked(true);
    m_toolBar->addSeparator();

    // Less frequent commands live in drop-down menus so the bar fits a narrow tab.
    auto dropDown = [this](const QString& text, const QString& name, const QString& tip) {
        auto* menu = new QMenu(this);
        menu->setObjectName(name + QStringLiteral("Menu"));
        auto* a = new QAction(text, this);
        a->setObjectName(name);
        a->setToolTip(tip);
        a->setMenu(menu);
        m_toolBar->addAction(a);
        if (auto* b = qobject_cast<QToolButton*>(m_toolBar->widgetForAction(a)))
            b->setPopupMode(QToolButton::InstantPopup);
        return menu;
    };
    QMenu* groups = dropDown(tr("Groups"), QStringLiteral("graphGroups"),
                             tr("Expand or collapse the name scopes"));
    m_expandAllAction = groups->addAction(tr("Expand All"), this, [this] { expandAll(); });
    m_expandAllAction->setObjectName(QStringLiteral("graphExpandAll"));
    m_collapseAllAction = groups->addAction(tr("Collapse All"), this, [this] { collapseAll(); });
    m_collapseAllAction->setObjectName(QStringLiteral("graphCollapseAll"));
    m_defaultAction =
        groups->addAction(tr("Default Grouping"), this, [this] { collapseToDefault(); });
    m_defaultAction->setObjectName(QStringLiteral("graphCollapseDefault"));
    m_defaultAction->setToolTip(tr("Collapse groups as when the model was opened"));

    QMenu* view = dropDown(tr("View"), QStringLiteral("graphViewOptions"), tr("Canvas options"));
    view->addAction(tr("Zoom In"), m_view, &GraphView::zoomIn);
    view->addAction(tr("Zoom Out"), m_view, &GraphView::zoomOut);
    view->addSeparator();
    m_minimapAction = view->addAction(tr("Minimap"), this, [this] { updateActions(); });
    m_minimapAction->setObjectName(QStringLiteral("graphShowMinimap"));
    m_minimapAction->setCheckable(true);
    m_minimapAction->setChecked(true);
    m_legendAction =
        view->addAction(tr("Legend"), this, [this](bool on) { m_legend->setVisible(on); });
    m_legendAction->setObjectName(QStringLiteral("graphShowLegend"));
    m_legendAction->setCheckable(true);
    m_legendAction->setChecked(true);

    auto* menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("graphExportMenu"));
    auto exportItem = [this, menu](const QString& text, const QString& name,
                                   GraphExport::Scope scope, const QString& suffix) {
        QAction* a = menu->addAction(text);
        a->setObjectName(name);
        connect(a, &QAction::triggered, this,
                [this, scope, suffix] { exportWithDialog(scope, suffix); });
    };
    exportItem(tr("View as PNG…"), QStringLiteral("graphExportViewPng"), GraphExport::Scope::View,
               QStringLiteral("png"));
    exportItem(tr("View as SVG…"), QStringLiteral("graphExportViewSvg"), GraphExport::Scope::View,
               QStringLiteral("svg"));
    menu->addSeparator();
    exportItem(tr("Whole Graph as PNG…"), QStringLiteral("graphExportWholePng"),
               GraphExport::Scope::Whole, QStringLiteral("png"));
    exportItem(tr("Whole Graph as SVG…"), QStringLiteral("graphExportWholeSvg"),
               GraphExport::Scope::Whole, QStringLiteral("svg"));
    m_exportAction = new QAction(tr("Export"), this);
    m_exportAction->setObjectName(QStringLiteral("graphExport"));
    m_exportAction->setToolTip(tr("Save the view or the whole graph as PNG or SVG"));
    m_exportAction->setMenu(menu);
    m_toolBar->addAction(m_exportAction);
    if (auto* b = qobject_cast<QToolButton*>(m_toolBar->widgetForAction(m_exportAction)))
        b->setPopupMode(QToolButton::InstantPopup);
}

void GraphPage::setDocument(DocumentPtr doc) {
    if (doc && doc->graph())
        showModel(GraphModel::fromDocument(std::move(doc)));
    else
        showModel(nullptr);
}

void GraphPage::setLayoutGraph(layout::LayoutGraph graph) {
    showModel(GraphModel::fromLayoutGraph(std::move(graph)));
}

void GraphPage::showModel(GraphModelPtr model) {
    if (m_watcher) m_reporter->cancel(); // its result is for the old model: dropped
    m_pending.reset();
    m_model = std::move(model);
    m_navList.clear();
    m_layoutNote.clear();
    m_retry->hide();
    m_scene->setModel(m_model);
    m_search->setModel(m_model);
    m_shownState = {};
    if (!m_model) {
        m_view->setPlaceholderText(tr("Open a model to see its graph."));
    } else {
        m_view->setPlaceholderText(tr("Laying out the graph…"));
        startLayout(m_model->stateAtDepth(m_model->defaultDepth()), {});
    }
    updateActions();
    updateStatus();
}

void GraphPage::setOverlayController(OverlayController* overlays) {
    m_scene->setOverlay(overlays);
}

void GraphPage::setCollapseState(const layout::CollapseState& state, std::function<void()> then) {
    if (!m_model) return;
    startLayout(state, std::move(then));
}

void GraphPage::startLayout(const layout::CollapseState& state, std::function<void()> then) {
    if (m_watcher) {
        // One job at a time; the newest request waits for the running one.
        m_pending = Pending{state, std::move(then)};
        return;
    }
    m_reporter = std::make_unique<QtReporter>();
    connect(m_reporter.get(), &QtReporter::progressChanged, this, &GraphPage::onProgress);
    QtReporter* reporter = m_reporter.get();

    m_progress = new QProgressDialog(tr("Laying out the graph…"), tr("Cancel"), 0, 100, this);
    m_progress->setObjectName(QStringLiteral("graphLayoutProgress"));
    m_progress->setWindowTitle(tr("Graph Layout"));
    m_progress->setWindowModality(Qt::WindowModal);
    m_progress->setAutoClose(false);
    m_progress->setAutoReset(false);
    m_progress->setMinimumDuration(400); // most layouts take milliseconds
    m_progress->setValue(0);
    connect(m_progress, &QProgressDialog::canceled, reporter, &QtReporter::cancel);

    m_jobModel = m_model;
    m_jobState = state;
    m_jobThen = std::move(then);
    m_layoutNote.clear();
    m_retry->hide();
    m_watcher = new QFutureWatcher<layout::Drawing>(this);
    connect(m_watcher, &QFutureWatcher<layout::Drawing>::finished, this,
            &GraphPage::onLayoutFinished);
    GraphModelPtr model = m_model;
    m_watcher->setFuture(QtConcurrent::run([model, state, reporter] {
        layout::Layout& engine = model->layout();
        engine.setCollapseState(state);
        if (reporter->isCancelled()) {
            layout::Drawing d;
            d.cancelled = true;
            return d;
        }
        return engine.run([reporter](std::string_view stage, double fraction) {
            reporter->progress(stage, fraction);
            return !reporter->isCancelled();
        });
    }));
    updateActions();
    updateStatus();
}

void GraphPage::onProgress(const QString& stage, double fraction) {
    if (!m_progress) return;
    m_progress->setLabelText(tr("Laying out the graph…") + QLatin1Char('\n') +
                             tr("Stage: %1").arg(stage));
    m_progress->setValue(int(fraction * 100.0));
}

void GraphPage::cancelLayout() {
    m_pending.reset();
    if (m_reporter) m_reporter->cancel();
}

void GraphPage::onLayoutFinished() {
    layout::Drawing drawing = m_watcher->result();
    m_watcher->deleteLater();
    m_watcher = nullptr;
    if (m_progress) {
        m_progress->disconnect();
        m_progress->close();
        m_progress->deleteLater();
    }
    const bool cancelled = m_reporter->isCancelled() || drawing.cancelled;
    m_reporter.reset();
    GraphModelPtr model = std::move(m_jobModel);
    std::function<void()> then = std::move(m_jobThen);
    m_jobThen = nullptr;

    bool ok = false;
    if (model != m_model) {
        // The document changed while this ran; its successor is pending.
    } else if (cancelled) {
        m_pending.reset();
        if (m_scene->hasDrawing()) {
            m_layoutNote = tr("Layout cancelled; the previous drawing stays.");
        } else {
            m_layoutNote = tr("Layout cancelled.");
            m_view->setPlaceholderText(tr("Layout cancelled."));
            m_retry->show();
        }
        emit message(m_layoutNote);
    } else if (!drawing.error.empty()) {
        m_layoutNote = tr("Cannot lay out the graph: %1").arg(qstr(drawing.error));
        m_view->setPlaceholderText(m_layoutNote);
        emit message(m_layoutNote);
    } else {
        const bool first = !m_scene->hasDrawing();
        m_shownState = m_jobState;
        m_scene->setDrawing(std::move(drawing));
        m_view->updateSceneRect();
        if (first) m_view->showInitialView();
        if (then) then();
        ok = true;
    }
    updateActions();
    updateStatus();
    emit layoutFinished(ok);
    if (m_pending && !m_watcher) {
        Pending next = std::move(*m_pending);
        m_pending.reset();
        startLayout(next.state, std::move(next.then));
    }
}

void GraphPage::updateActions() {
    const bool has = m_model && m_scene->hasDrawing();
    const bool groups = m_model && m_model->groupCount() > 0;
    for (QAction* a : {m_fitAction, m_zoomSelectionAction, m_zoom100Action, m_exportAction})
        a->setEnabled(has);
    for (QAction* a : {m_expandAllAction, m_collapseAllAction, m_defaultAction})
        a->setEnabled(has && groups);
    m_search->lineEdit()->setEnabled(m_model != nullptr);
    m_view->setMinimapEnabled(has && m_minimapAction->isChecked());
}

QString GraphPage::statusText() const {
    return m_status->text();
}

void GraphPage::updateStatus() {
    QString text;
    if (!m_model) {
        text = tr("No model open");
    } else if (m_scene->hasDrawing()) {
        const layout::LayoutStats& s = m_scene->drawing().stats;
        QStringList parts;
        parts
            << tr("%1 of %n node(s) shown", nullptr, int(m_model->nodeCount())).arg(s.visibleNodes);
        parts << tr("%n edge(s)", nullptr, s.drawnEdges);
        if (m_model->groupCount() > 0)
            parts << tr("%n group(s), %1 collapsed", nullptr, int(m_model->groupCount()))
                         .arg(s.collapsedGroups);
        parts << tr("layout %1 ms").arg(QString::number(s.ms, 'f', 1));
        const double pct = m_view->zoom() * 100;
        parts << tr("zoom %1%")
                     .arg(pct >= 10 ? QString::number(qRound(pct)) : QString::number(pct, 'g', 2));
        text = parts.join(QStringLiteral("  ·  "));
    }
    QStringList head;
    if (isLayingOut()) head << tr("Laying out…");
    if (!m_layoutNote.isEmpty()) head << m_layoutNote;
    if (!text.isEmpty()) head << text;
    m_status->setText(head.join(QStringLiteral("  ·  ")));
    m_status->setToolTip(m_status->text());
}

void GraphPage::expandAll() {
    if (!m_model) return;
    setCollapseState(m_model->stateAtDepth(-1), [this] { m_view->showInitialView(); });
}

void GraphPage::collapseAll() {
    if (!m_model) return;
    setCollapseState(m_model->stateAtDepth(0), [this] { m_view->showInitialView(); });
}

void GraphPage::collapseToDefault() {
    if (!m_model) return;
    setCollapseState(m_model->stateAtDepth(m_model->defaultDepth()),
                     [this] { m_view->showInitialView(); });
}

void GraphPage::toggleGroup(layout::GroupId group) {
    GroupItem* item = m_scene->groupItem(group);
    if (!m_model || !item) return;
    const bool collapse = !item->isCollapsed();
    layout::CollapseState state = m_shownState;
    state.set(group, collapse);
    // Keep the group's top-left corner where it is on screen.
    const QPointF anchor = m_view->viewportTransform().map(item->rect().topLeft());
    GraphModelPtr model = m_model;
    setCollapseState(state, [this, model, group, anchor, collapse] {
        if (model != m_model) return;
        GroupItem* g = m_scene->groupItem(group);
        if (!g) return;
        // Scrolling can itself change the viewport (a scroll bar appearing or going), so
        // correct until the corner stays put (twice is enough in practice).
        for (int pass = 0; pass < 3; ++pass) {
            const QPointF delta = m_view->viewportTransform().map(g->rect().topLeft()) - anchor;
            if (std::abs(delta.x()) < 1 && std::abs(delta.y()) < 1) break;
            m_view->horizontalScrollBar()->setValue(m_view->horizontalScrollBar()->value() +
                                                    qRound(delta.x()));
            m_view->verticalScrollBar()->setValue(m_view->verticalScrollBar()->value() +
                                                  qRound(delta.y()));
        }
        if (collapse) {
            m_syncing = true;
            m_scene->selectRef({Kind::Group, group});
            m_syncing = false;
        }
    });
}

bool GraphPage::showNode(const ir::Node* node) {
    if (!m_model || !node) return false;
    const layout::NodeId id = m_model->nodeIdOf(node);
    if (id < 0) return false;
    if (m_scene->isSelected({Kind::Node, id})) return true; // the click came from here
    return revealNode(id, true);
}

bool GraphPage::revealNode(layout::NodeId id, bool center) {
    if (!m_model || id < 0 || std::size_t(id) >= m_model->nodeCount()) return false;
    if (m_scene->nodeItem(id) && !isLayingOut()) {
        selectAndCenter({Kind::Node, id}, center);
        return true;
    }
    // Hidden in a collapsed group (or a layout is running): expand around it, then select.
    GraphModelPtr model = m_model;
    const layout::CollapseState base = m_pending ? m_pending->state : m_shownState;
    setCollapseState(m_model->revealing(base, id), [this, model, id, center] {
        if (model == m_model && m_scene->nodeItem(id)) selectAndCenter({Kind::Node, id}, center);
    });
    return true;
}

void GraphPage::selectAndCenter(layout::ItemRef ref, bool center) {
    m_syncing = true;
    m_scene->selectRef(ref);
    m_syncing = false;
    const QRectF r = m_scene->rectOf(ref);
    if (center)
        m_view->centerOnRect(r, 0.75);
    else
        m_view->ensureVisible(r, 60, 60);
}

void GraphPage::onSceneSelection() {
    updateStatus();
    if (m_syncing) return;
    const std::optional<layout::ItemRef> sel = m_scene->selectedRef();
    if (!sel || sel->kind != Kind::Node || !m_model) return;
    const GraphNodeInfo& info = m_model->node(sel->id);
    if (info.node) emit nodeActivated(info.node, info.key);
}

void GraphPage::navigate(int key) {
    if (!m_model || !m_scene->hasDrawing()) return;
    const std::optional<layout::ItemRef> sel = m_scene->selectedRef();
    auto go = [this](layout::ItemRef ref) {
        m_scene->selectRef(ref); // emits nodeActivated: the node list follows
        m_view->ensureVisible(m_scene->rectOf(ref), 80, 80);
    };
    if (!sel) {
        // Nothing selected: start at the top.
        const NodeItem* top = nullptr;
        for (const NodeItem* n : m_scene->nodeItems())
            if (!top || n->rect().top() < top->rect().top()) top = n;
        if (top) go({Kind::Node, top->id()});
        return;
    }
    if (key == Qt::Key_Up || key == Qt::Key_Down) {
        std::vector<layout::ItemRef> next =
            key == Qt::Key_Up ? m_scene->producers(*sel) : m_scene->consumers(*sel);
        if (next.empty()) return;
        m_navList = next;
        go(next.front());
        return;
    }
    // Left/Right: among the list last moved into, else among the consumers of a producer.
    auto at = std::find(m_navList.begin(), m_navList.end(), *sel);
    if (at == m_navList.end()) {
        const std::vector<layout::ItemRef> up = m_scene->producers(*sel);
        m_navList = up.empty() ? std::vector<layout::ItemRef>{} : m_scene->consumers(up.front());
        at = std::find(m_navList.begin(), m_navList.end(), *sel);
        if (at == m_navList.end()) return;
    }
    const int n = int(m_navList.size());
    int i = int(at - m_navList.begin()) + (key == Qt::Key_Right ? 1 : -1);
    i = (i + n) % n;
    go(m_navList[std::size_t(i)]);
}

void GraphPage::showContextMenu(const QPoint& pos) {
    if (!m_model || !m_scene->hasDrawing()) return;
    QMenu menu(this);
    for (QGraphicsItem* item : m_view->items(pos)) {
        if (auto* g = qgraphicsitem_cast<GroupItem*>(item)) {
            if (!g->isCollapsed() && !g->headerRect().contains(m_view->mapToScene(pos))) continue;
            const layout::GroupId id = g->id();
            menu.addAction(g->isCollapsed() ? tr("Expand Group") : tr("Collapse Group"), this,
                           [this, id] { toggleGroup(id); });
            break;
        }
        if (auto* n = qgraphicsitem_cast<NodeItem*>(item)) {
            const layout::ItemRef ref{Kind::Node, n->id()};
            menu.addAction(tr("Zoom to Node"), this, [this, ref] {
                m_scene->selectRef(ref);
                m_view->zoomToSelection();
            });
            const layout::GroupId parent = m_model->graph().nodes[std::size_t(n->id())].group;
            if (parent >= 0)
                menu.addAction(tr("Collapse Its Group"), this,
                               [this, parent] { toggleGroup(parent); });
            break;
        }
    }
    if (!menu.isEmpty()) menu.addSeparator();
    menu.addAction(m_fitAction);
    menu.addAction(m_expandAllAction);
    menu.addAction(m_collapseAllAction);
    menu.exec(m_view->viewport()->mapToGlobal(pos));
}

void GraphPage::focusSearch() {
    m_search->lineEdit()->setFocus();
    m_search->lineEdit()->selectAll();
}

void GraphPage::onHitsChanged() {
    QSet<layout::NodeId> nodes;
    QSet<const ir::Value*> tensors;
    for (const SearchHit& h : m_search->hits()) {
        if (h.kind == SearchHit::Kind::Node)
            nodes.insert(h.node);
        else if (h.value)
            tensors.insert(h.value);
    }
    m_scene->setSearchHits(nodes, tensors);
}

void GraphPage::onHitActivated(const SearchHit& hit) {
    if (!m_model || hit.node < 0) return;
    // A search result is a user choice: select (syncing the node list) and centre.
    GraphModelPtr model = m_model;
    const layout::NodeId id = hit.node;
    auto select = [this, id] {
        m_scene->selectRef({Kind::Node, id});
        m_view->centerOnRect(m_scene->rectOf({Kind::Node, id}), 0.75);
    };
    if (m_scene->nodeItem(id) && !isLayingOut()) {
        select();
        return;
    }
    setCollapseState(m_model->revealing(m_shownState, id), [this, model, id, select] {
        if (model == m_model && m_scene->nodeItem(id)) select();
    });
}

QString GraphPage::exportImage(GraphExport::Scope scope, const QString& path) {
    const QString error = GraphExport::write(m_view, scope, path);
    if (error.isEmpty()) {
        emit message(tr("Exported the graph to %1").arg(QDir::toNativeSeparators(path)));
        return {};
    }
    emit message(error);
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Cannot Export Graph"), error,
                                QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("graphExportError"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->open();
    return error;
}

void GraphPage::exportWithDialog(GraphExport::Scope scope, const QString& suffix) {
    if (!m_model) return;
    QSettings settings;
    QString dir = settings.value(QStringLiteral("graph/exportDir")).toString();
    if (dir.isEmpty() && m_model->document())
        dir = QFileInfo(m_model->document()->path).absolutePath();
    const QString base = m_model->document()
                             ? QFileInfo(m_model->document()->path).completeBaseName()
                             : QStringLiteral("graph");
    const QString filter =
        suffix == QLatin1String("png") ? tr("PNG images (*.png)") : tr("SVG drawings (*.svg)");
    QString path = QFileDialog::getSaveFileName(
        this, tr("Export Graph"), QDir(dir).filePath(base + QLatin1Char('.') + suffix), filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QLatin1Char('.') + suffix;
    settings.setValue(QStringLiteral("graph/exportDir"), QFileInfo(path).absolutePath());
    exportImage(scope, path);
}

} // namespace ew::ui
