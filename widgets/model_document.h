#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/cost.h"
#include "ir/graph.h"
#include "ir/summary.h"
#include "tensor_stats.h"

#include <QMetaType>
#include <QString>

#include <memory>

namespace ew::ui {

/// A loaded model plus everything the panels derive from it (summary, costs, weight statistics),
/// computed once on the loading thread. Immutable once built: the panels, the overview page and
/// background saves share it through shared_ptr<const ModelDocument>, so a save can keep running
/// while the user opens another model.
struct ModelDocument {
    QString path;
    std::shared_ptr<const ir::Model> model;
    ir::ModelSummary summary;
    ir::ModelCost cost;
    TensorStatsMap stats;

    const ir::Graph* graph() const { return model ? model->graph.get() : nullptr; }
    const TensorStats* statsFor(const ir::Value* v) const {
        auto it = stats.find(v);
        return it == stats.end() ? nullptr : &it->second;
    }
    const ir::NodeCost* costFor(const ir::Node* n) const {
        auto it = cost.perNode.find(n);
        return it == cost.perNode.end() ? nullptr : &it->second;
    }
};

using DocumentPtr = std::shared_ptr<const ModelDocument>;

/// What a background load or save hands back to the GUI thread. Default-constructible and
/// copyable because QFuture stores results by value.
struct TaskOutcome {
    DocumentPtr document; ///< set by a successful load
    Status status;        ///< Ok, Cancelled or the core error
};

/// Imports `path`, then summarizes it, computes costs and initializer statistics. Runs on a
/// worker thread; `reporter` carries progress, log lines and the cancel flag.
TaskOutcome loadModelDocument(const QString& path, Reporter& reporter);

/// Exports `document`'s model to `path` through ew::ir::saveModel (which refuses to overwrite the
/// model's own source file).
TaskOutcome saveModelDocument(const DocumentPtr& document, const QString& path, Reporter& reporter);

} // namespace ew::ui
