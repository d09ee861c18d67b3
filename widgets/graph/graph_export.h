#pragma once
#include <QCoreApplication>
#include <QSize>
#include <QString>

namespace ew::ui {

class GraphView;

/// Writes the canvas as an image: what the view shows, or the whole drawing.
/// The format follows the file's suffix: .png (raster; the whole drawing at 100 %, scaled down
/// so no side exceeds kMaxSide and the image stays under kMaxPixels) or .svg (vector, text as
/// text, through QSvgGenerator). Files are written through QSaveFile (a temporary file in the
/// same folder, renamed on success), so a failed export never leaves a half-written file.
class GraphExport {
    Q_DECLARE_TR_FUNCTIONS(ew::ui::GraphExport)

  public:
    enum class Scope { View, Whole };
    static constexpr int kMaxSide = 16384;
    static constexpr double kMaxPixels = 48e6;

    /// Empty on success; otherwise the error, naming the file.
    static QString write(GraphView* view, Scope scope, const QString& path);
    /// The pixel size a PNG export of `scope` gets.
    static QSize pngSize(GraphView* view, Scope scope);
};

} // namespace ew::ui
