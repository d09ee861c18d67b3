#pragma once
#include "graph_model.h"

#include <QWidget>

#include <vector>

class QLabel;
class QLineEdit;
class QListWidget;
class QTimer;

namespace ew::ui {

/// One search result: a node (matched by its name or op type) or a tensor (by its name).
struct SearchHit {
    enum class Kind { Node, Tensor };
    Kind kind = Kind::Node;
    /// The node to show: the op itself, or for a tensor its producer (an op or the graph input),
    /// or, for weights, their first consumer.
    layout::NodeId node = -1;
    const ir::Value* value = nullptr; ///< for tensor hits
    QString text;                     ///< node or tensor name
    QString detail;                   ///< op type, or the tensor's shape
    int rank = 0;                     ///< 0 exact, 1 prefix, 2 substring match
};

/// Case-insensitive search of node names, op types and tensor names (main graph and nested
/// graphs): exact matches first, then prefixes, then substrings, each in file order; nodes
/// before tensors of the same rank. At most `limit` hits; `truncated` says whether more matched.
std::vector<SearchHit> searchGraph(const GraphModel& model, const QString& query,
                                   std::size_t limit = 500, bool* truncated = nullptr);

/// The canvas' search: a box (placed in the page's toolbar) and a result list (this widget,
/// shown beside the canvas while there is a query). Typing searches after a short pause;
/// Enter in the box or choosing a row activates that hit.
class GraphSearch : public QWidget {
    Q_OBJECT
  public:
    explicit GraphSearch(QWidget* parent = nullptr);

    void setModel(GraphModelPtr model);
    QLineEdit* lineEdit() const { return m_edit; }
    QListWidget* resultList() const { return m_list; }
    const std::vector<SearchHit>& hits() const { return m_hits; }

  public slots:
    /// Searches now (instead of after the typing pause).
    void runSearch();
    /// Activates hit `row` of the list (selects its row, emits hitActivated).
    void activate(int row);

  signals:
    /// The result set changed (empty when the query was cleared).
    void hitsChanged();
    void hitActivated(const ew::ui::SearchHit& hit);

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    GraphModelPtr m_model;
    QLineEdit* m_edit = nullptr;
    QLabel* m_count = nullptr;
    QListWidget* m_list = nullptr;
    QTimer* m_timer = nullptr;
    std::vector<SearchHit> m_hits;
    bool m_filling = false;
};

} // namespace ew::ui
