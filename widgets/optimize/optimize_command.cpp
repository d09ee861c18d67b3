#include "optimize_command.h"

#include <QCoreApplication>

#include <unordered_map>
#include <unordered_set>

namespace ew::ui {

namespace {

struct Tr {
    Q_DECLARE_TR_FUNCTIONS(ew::ui::OptimizeCommand)
};

void count(Overlay& o, const std::string& name) {
    // Unnamed nodes cannot be found again by name; they are listed in the panel only.
    if (!name.empty()) o.values[QString::fromStdString(name)] += 1.0;
}

} // namespace

Overlay optimizedNodesOverlay(const opt::OptimizeReport& report, const ir::Graph& before,
                              const ir::Graph& after) {
    Overlay o;
    o.name = Tr::tr("Optimizer: changed nodes");
    o.unit = Tr::tr("changes");
    std::unordered_map<std::string, const ir::Node*> old;
    for (const auto& n : before.nodes())
        if (!n->name.empty()) old.emplace(n->name, n.get());
    std::unordered_set<std::string> now;
    for (const auto& n : after.nodes()) now.insert(n->name);

    // A removed node leaves no trace in the new graph; the nodes around the gap show where it was.
    auto neighbours = [&](const std::string& name) {
        auto it = old.find(name);
        if (it == old.end()) return; // nested body, or a node the run itself had added
        std::unordered_set<const ir::Node*> seen{it->second};
        std::unordered_set<std::string> touched;
        std::vector<const ir::Node*> todo{it->second};
        auto visit = [&](const ir::Node* n) {
            if (!n || n->name.empty() || !seen.insert(n).second) return; // unnamed: unmatchable
            if (now.contains(n->name))
                touched.insert(n->name);
            else
                todo.push_back(n); // gone as well: look through it
        };
        while (!todo.empty()) {
            const ir::Node* n = todo.back();
            todo.pop_back();
            for (const ir::Value* v : n->inputs())
                if (v) visit(v->producer());
            for (const ir::Value* v : n->outputs())
                if (v)
                    for (const ir::Use& u : v->uses()) visit(u.node);
        }
        for (const std::string& t : touched) count(o, t);
    };
    for (const opt::PassStats& s : report.passes)
        for (const opt::NodeChange& c : s.changes) {
            switch (c.kind) {
            case opt::NodeChange::Kind::Fused:
                count(o, c.into);
                neighbours(c.node);
                break;
            case opt::NodeChange::Kind::Removed: neighbours(c.node); break;
            case opt::NodeChange::Kind::Added:
            case opt::NodeChange::Kind::Rewritten: count(o, c.node); break;
            }
        }
    o.updateRange();
    return o;
}

Overlay removedNodesOverlay(const opt::OptimizeReport& report) {
    Overlay o;
    o.name = Tr::tr("Optimizer: removed nodes");
    o.unit = Tr::tr("changes");
    for (const opt::PassStats& s : report.passes)
        for (const opt::NodeChange& c : s.changes)
            if (c.kind == opt::NodeChange::Kind::Removed || c.kind == opt::NodeChange::Kind::Fused)
                count(o, c.node);
    o.updateRange();
    return o;
}

OptimizeCommand::OptimizeCommand(DocumentPtr before, DocumentPtr after,
                                 const opt::OptimizeReport& report, Apply apply,
                                 OverlayController* overlays)
    : m_before(std::move(before)), m_after(std::move(after)),
      m_beforeOverlay(removedNodesOverlay(report)),
      m_apply(std::move(apply)), m_overlays(overlays) {
    if (m_before && m_before->graph() && m_after && m_after->graph())
        m_afterOverlay = optimizedNodesOverlay(report, *m_before->graph(), *m_after->graph());
    const int64_t delta = report.after.nodes - report.before.nodes;
    setText(Tr::tr("Optimize (%1, %2 node(s))")
                .arg(QString::fromStdString(report.pipeline))
                .arg(delta > 0 ? QStringLiteral("+%1").arg(delta) : QString::number(delta)));
}

void OptimizeCommand::show(const DocumentPtr& doc, const Overlay& overlay) {
    m_apply(doc);
    // Replacing the document drops the previous model's overlays; this one is about the new one.
    if (m_overlays && !overlay.values.isEmpty()) m_overlays->addOverlay(overlay);
}

void OptimizeCommand::redo() {
    show(m_after, m_afterOverlay);
}

void OptimizeCommand::undo() {
    show(m_before, m_beforeOverlay);
}

} // namespace ew::ui
