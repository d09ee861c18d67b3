#pragma once
#include "optimize/pipeline.h"
#include "widgets/model_document.h"
#include "widgets/overlay/overlay.h"
#include "widgets/overlay/overlay_controller.h"

#include <QPointer>

#include <QUndoCommand>

#include <functional>

namespace ew::ui {

/// The overlay that shows an optimize run on the optimized graph, valued by how many changes
/// touch each node: a node a pass added or rewrote, or that absorbed others (fused), and the
/// surviving neighbours of every node removed or fused away (its producers and consumers in
/// `before`'s main graph, looking through chains of removed nodes), whose edges were rewired.
/// Names that are not in `after` are dropped when the overlay is matched to the graph.
Overlay optimizedNodesOverlay(const opt::OptimizeReport& report, const ir::Graph& before,
                              const ir::Graph& after);
/// The same for the original graph: the nodes the run removed or fused away.
Overlay removedNodesOverlay(const opt::OptimizeReport& report);

/// One optimize run as an undoable edit. The documents are immutable and shared, so undo and redo
/// only swap which one the window shows: redo() shows `after` with the optimizedNodesOverlay,
/// undo() shows `before` (the very object the run started from) with the removedNodesOverlay.
/// Nothing is recomputed either way.
class OptimizeCommand : public QUndoCommand {
  public:
    /// Replaces the window's document (MainWindow::replaceDocument).
    using Apply = std::function<void(const DocumentPtr&)>;

    OptimizeCommand(DocumentPtr before, DocumentPtr after, const opt::OptimizeReport& report,
                    Apply apply, OverlayController* overlays);

    void undo() override;
    void redo() override;

    const DocumentPtr& before() const { return m_before; }
    const DocumentPtr& after() const { return m_after; }

  private:
    void show(const DocumentPtr& doc, const Overlay& overlay);

    DocumentPtr m_before, m_after;
    Overlay m_beforeOverlay, m_afterOverlay;
    Apply m_apply;
    QPointer<OverlayController> m_overlays;
};

} // namespace ew::ui
