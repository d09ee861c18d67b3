#pragma once
#include "overlay_controller.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTableWidget;

namespace ew::ui {

/// The colour scale of the current overlay: the gradient from min to max with the unit, and the
/// part below the threshold greyed out (those nodes are not highlighted).
class OverlayLegend : public QWidget {
    Q_OBJECT
  public:
    explicit OverlayLegend(OverlayController* controller, QWidget* parent = nullptr);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

  protected:
    void paintEvent(QPaintEvent* event) override;

  private:
    OverlayController* m_controller;
};

/// Dock content for overlays: a picker (None, the built-ins, then loaded files), "Load…", the
/// legend, a threshold slider, a line on what is shown (and how many names in the file are not
/// in the model), and the overlay's nodes sorted by value, largest first. Clicking a row emits
/// nodeActivated with the node's name; MainWindow selects it. Reads and drives the controller;
/// never touches the model.
class OverlayPanel : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kSliderSteps = 1000;
    enum Column { ColNode, ColOp, ColValue, ColumnCount };
    static constexpr int NodeNameRole = Qt::UserRole + 1;

    explicit OverlayPanel(OverlayController* controller, QWidget* parent = nullptr);

    QComboBox* picker() const { return m_picker; }
    QSlider* thresholdSlider() const { return m_slider; }
    QTableWidget* table() const { return m_table; }
    OverlayLegend* legend() const { return m_legend; }
    QLabel* infoLabel() const { return m_info; }
    QCheckBox* logScaleBox() const { return m_log; }

  signals:
    void nodeActivated(const QString& name);
    void loadRequested();

  private:
    void rebuildPicker();
    void rebuildTable();
    void onChanged();
    void onSliderMoved(int position);

    OverlayController* m_controller;
    QComboBox* m_picker = nullptr;
    QPushButton* m_load = nullptr;
    OverlayLegend* m_legend = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_thresholdLabel = nullptr;
    QCheckBox* m_log = nullptr;
    QLabel* m_info = nullptr;
    QTableWidget* m_table = nullptr;
    int m_tableOverlay = -2; ///< which overlay the table rows show
};

} // namespace ew::ui
