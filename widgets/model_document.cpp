#include "model_document.h"

#include "ir/io/model_io.h"

#include <QFileInfo>

namespace ew::ui {

TaskOutcome loadModelDocument(const QString& path, Reporter& reporter) {
    TaskOutcome out;
    std::string p = path.toStdString();
    reporter.log(Severity::Info, "loading " + p);
    auto loaded = ir::loadModel(p, {}, reporter);
    if (!loaded) {
        out.status = std::move(loaded).error();
        out.status.withFile(p);
        return out;
    }
    if (reporter.isCancelled()) {
        out.status = makeError(StatusCode::Cancelled, "loading cancelled");
        return out;
    }
    auto doc = std::make_shared<ModelDocument>();
    doc->path = QFileInfo(path).absoluteFilePath();
    std::shared_ptr<const ir::Model> model = std::move(*loaded);
    reporter.progress("summary", 0.0);
    doc->summary = ir::summarize(*model);
    doc->cost = ir::modelCost(*model);
    reporter.progress("summary", 1.0);
    auto stats = computeInitializerStats(*model, reporter);
    if (!stats) {
        out.status = makeError(StatusCode::Cancelled, "loading cancelled");
        return out;
    }
    doc->stats = std::move(*stats);
    doc->model = std::move(model);
    reporter.log(Severity::Info,
                 "loaded " + p + ": " + std::to_string(doc->summary.nodeCount) + " nodes");
    out.document = std::move(doc);
    return out;
}

TaskOutcome saveModelDocument(const DocumentPtr& document, const QString& path,
                              Reporter& reporter) {
    TaskOutcome out;
    if (!document || !document->model) {
        out.status = makeError(StatusCode::Usage, "no model is open");
        return out;
    }
    std::string p = path.toStdString();
    reporter.log(Severity::Info, "saving " + p);
    auto saved = ir::saveModel(*document->model, p, {}, reporter);
    if (!saved) {
        out.status = std::move(saved).error();
        out.status.withFile(p);
        return out;
    }
    reporter.log(Severity::Info, "saved " + p);
    return out;
}

} // namespace ew::ui
