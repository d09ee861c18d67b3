#pragma once
#include "model_document.h"

#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QLabel;
class QStackedWidget;

namespace ew::ui {

/// Labels and values of one horizontal bar chart, largest first.
struct BarSeries {
    QStringList labels;
    QVector<double> values;
};

/// Nodes per op type of the main graph, largest first; beyond `maxBars` the rest is folded into
/// one "other" bar so the chart stays legible for models with many op types.
BarSeries opCountSeries(const ModelDocument& doc, int maxBars);
/// MACs per op type of the main graph (ops without MACs left out), largest first, folded alike.
BarSeries macsSeries(const ModelDocument& doc, int maxBars);

/// The central "Overview" tab: the model's headline numbers as cards, its inputs and outputs,
/// and two bar charts (nodes per op type, MACs per op type). Without a model it shows how to
/// open one. Charts are QCustomPlot on the raster paint path, so the page renders under
/// QT_QPA_PLATFORM=offscreen.
class OverviewPage : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kMaxBars = 16;

    explicit OverviewPage(QWidget* parent = nullptr);
    void setDocument(DocumentPtr doc);

    QCustomPlot* opPlot() const { return m_opPlot; }
    QCustomPlot* macsPlot() const { return m_macsPlot; }
    /// The headline text (file name, format, producer), for tests.
    QString headline() const;

  signals:
    /// The empty state's "Open Model…" button.
    void openRequested();

  private:
    QWidget* makeCard(const QString& caption, QLabel** valueLabel);
    void fillBars(QCustomPlot* plot, const BarSeries& series, const QString& valueUnit,
                  const QColor& color);

    QStackedWidget* m_stack = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_subtitle = nullptr;
    QLabel* m_nodes = nullptr;
    QLabel* m_params = nullptr;
    QLabel* m_macs = nullptr;
    QLabel* m_size = nullptr;
    QLabel* m_note = nullptr;
    QLabel* m_io = nullptr;
    QCustomPlot* m_opPlot = nullptr;
    QCustomPlot* m_macsPlot = nullptr;
};

} // namespace ew::ui
