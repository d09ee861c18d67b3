#include "graph_search.h"

#include "widgets/format_util.h"

#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace ew::ui {

namespace {

/// 0 exact, 1 prefix, 2 substring, -1 no match (`q` is lower case).
int matchRank(const QString& text, const QString& q) {
    if (text.isEmpty()) return -1;
    const int at = int(text.indexOf(q, 0, Qt::CaseInsensitive));
    if (at < 0) return -1;
    if (at == 0) return text.size() == q.size() ? 0 : 1;
    return 2;
}

/// Every value of a graph and its nested graphs, in file order.
void collectValues(const ir::Graph& g, std::vector<const ir::Value*>& out) {
    for (const auto& v : g.values())
        out.push_back(v.get());
    for (const auto& n : g.nodes())
        for (const ir::Graph* sub : n->subgraphs())
            collectValues(*sub, out);
}

} // namespace

std::vector<SearchHit> searchGraph(const GraphModel& model, const QString& query, std::size_t limit,
                                   bool* truncated) {
    std::vector<SearchHit> hits;
    if (truncated) *truncated = false;
    const QString q = query.trimmed();
    if (q.isEmpty()) return hits;
    for (std::size_t i = 0; i < model.nodeCount(); ++i) {
        const GraphNodeInfo& info = model.node(layout::NodeId(i));
        if (!info.node) {
            // Synthetic graphs: match the title.
            if (!info.value && matchRank(info.title, q) >= 0)
                hits.push_back({SearchHit::Kind::Node,
                                layout::NodeId(i),
                                nullptr,
                                info.title,
                                {},
                                matchRank(info.title, q)});
            continue;
        }
        const QString name = qstr(info.node->displayName());
        const QString op = qstr(info.node->opType);
        int r = matchRank(name, q);
        const int ro = matchRank(op, q);
        if (r < 0 || (ro >= 0 && ro < r)) r = ro;
        if (r < 0) continue;
        hits.push_back({SearchHit::Kind::Node, layout::NodeId(i), nullptr, name,
                        qstr(info.node->qualifiedOp()), r});
    }
    if (const DocumentPtr& doc = model.document(); doc && doc->graph()) {
        std::vector<const ir::Value*> values;
        collectValues(*doc->graph(), values);
        for (const ir::Value* v : values) {
            const QString name = qstr(v->name);
            const int r = matchRank(name, q);
            if (r < 0) continue;
            layout::NodeId node = -1;
            if (v->producer()) node = model.nodeIdOf(v->producer());
            if (node < 0) node = model.nodeIdOfValue(v);
            if (node < 0 && !v->uses().empty()) node = model.nodeIdOf(v->uses().front().node);
            if (node < 0) continue;
            QString detail = compactShape(v->type);
            if (v->isInitializer())
                detail = GraphSearch::tr("weights %1").arg(detail);
            else if (v->isGraphInput())
                detail = GraphSearch::tr("input %1").arg(detail);
            else if (v->isGraphOutput())
                detail = GraphSearch::tr("output %1").arg(detail);
            hits.push_back({SearchHit::Kind::Tensor, node, v, name, detail, r});
        }
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const SearchHit& a, const SearchHit& b) { return a.rank < b.rank; });
    if (hits.size() > limit) {
        hits.resize(limit);
        if (truncated) *truncated = true;
    }
    return hits;
}

GraphSearch::GraphSearch(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("graphSearch"));
    m_edit = new QLineEdit(this); // the page moves it into its toolbar
    m_edit->setObjectName(QStringLiteral("graphSearchEdit"));
    m_edit->setPlaceholderText(tr("Search nodes, ops, tensors…"));
    m_edit->setClearButtonEnabled(true);
    m_edit->setToolTip(tr("Find nodes by name or op type and tensors by name (Ctrl+F)"));
    m_edit->installEventFilter(this);

    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("graphSearchCount"));
    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("graphSearchResults"));
    m_list->setUniformItemSizes(true);
    m_list->setTextElideMode(Qt::ElideMiddle);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(4, 4, 0, 4);
    lay->setSpacing(4);
    lay->addWidget(m_count);
    lay->addWidget(m_list, 1);

    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setInterval(160);
    connect(m_timer, &QTimer::timeout, this, &GraphSearch::runSearch);
    connect(m_edit, &QLineEdit::textChanged, m_timer, qOverload<>(&QTimer::start));
    connect(m_edit, &QLineEdit::returnPressed, this, [this] {
        if (m_timer->isActive()) runSearch();
        if (m_hits.empty()) return;
        // Enter steps through the hits.
        activate((m_list->currentRow() + 1) % int(m_hits.size()));
    });
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (!m_filling && row >= 0 && row < int(m_hits.size())) emit hitActivated(m_hits[row]);
    });
    connect(m_list, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { activate(m_list->row(item)); });
    hide();
}

void GraphSearch::setModel(GraphModelPtr model) {
    m_model = std::move(model);
    runSearch();
}

void GraphSearch::runSearch() {
    m_timer->stop();
    bool truncated = false;
    m_hits =
        m_model ? searchGraph(*m_model, m_edit->text(), 500, &truncated) : std::vector<SearchHit>{};
    m_filling = true;
    m_list->clear();
    for (const SearchHit& h : m_hits) {
        const QString mark =
            h.kind == SearchHit::Kind::Node ? QStringLiteral("\u25A0 ") : QStringLiteral("\u2192 ");
        auto* item = new QListWidgetItem(mark + h.text + QStringLiteral("   ") + h.detail);
        item->setToolTip(h.text + QLatin1Char('\n') + h.detail);
        m_list->addItem(item);
    }
    m_filling = false;
    const bool any = !m_edit->text().trimmed().isEmpty();
    if (!any)
        m_count->clear();
    else if (m_hits.empty())
        m_count->setText(tr("No matches"));
    else
        m_count->setText(truncated ? tr("First %n match(es)", nullptr, int(m_hits.size()))
                                   : tr("%n match(es)", nullptr, int(m_hits.size())));
    setVisible(any);
    emit hitsChanged();
}

void GraphSearch::activate(int row) {
    if (row < 0 || row >= int(m_hits.size())) return;
    if (m_list->currentRow() == row) {
        emit hitActivated(m_hits[std::size_t(row)]);
        return;
    }
    m_list->setCurrentRow(row); // emits hitActivated through currentRowChanged
}

bool GraphSearch::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_edit && event->type() == QEvent::KeyPress) {
        auto* ke = static_cast<QKeyEvent*>(event);
        if (ke->key() == Qt::Key_Escape) {
            m_edit->clear();
            runSearch();
            return true;
        }
        if (ke->key() == Qt::Key_Down && !m_hits.empty()) {
            m_list->setFocus();
            if (m_list->currentRow() < 0) activate(0);
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace ew::ui
