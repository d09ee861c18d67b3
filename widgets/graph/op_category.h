#pragma once
#include <QColor>
#include <QString>
#include <QWidget>

#include <string_view>

namespace ew::ui {

/// The families the graph canvas colours op nodes by. `Other` collects standard ops that fit no
/// family (RandomNormal, NonMaxSuppression, ...); `Custom` is any op from a domain the table
/// does not know (and unknown com.microsoft contrib ops).
enum class OpCategory {
    Convolution,
    Matrix,
    Activation,
    Normalization,
    Pooling,
    Elementwise,
    Shape,
    Quantization,
    ControlFlow,
    Custom,
    Other,
};
inline constexpr int kOpCategoryCount = int(OpCategory::Other) + 1;

/// The category of an op: a fixed table of ONNX ops (and the com.microsoft contrib ops that
/// mirror them); any op of another non-default domain is Custom.
OpCategory opCategory(std::string_view opType, std::string_view domain = {});
/// Translated display name ("Convolution", "Shape / tensor", ...).
QString opCategoryName(OpCategory category);
/// The header colour of a node box of this category: saturated enough for white text.
QColor opCategoryColor(OpCategory category);

/// A one-line legend: a swatch and a name per category, wrapping when narrow.
class OpLegend : public QWidget {
    Q_OBJECT
  public:
    explicit OpLegend(QWidget* parent = nullptr);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;

  protected:
    void paintEvent(QPaintEvent* event) override;

  private:
    /// Lays the entries out for `width`; returns the height used (and paints when p is set).
    int layoutEntries(int width, class QPainter* p) const;
};

} // namespace ew::ui
