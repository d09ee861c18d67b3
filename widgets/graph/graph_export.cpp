#include "graph_export.h"

#include "graph_scene.h"
#include "graph_style.h"
#include "graph_view.h"

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QImageWriter>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>

#include <algorithm>
#include <cmath>

namespace ew::ui {

namespace {

QRectF sourceRect(GraphView* view, GraphExport::Scope scope) {
    if (scope == GraphExport::Scope::View) return view->visibleSceneRect();
    return view->graphScene()->drawingRect().adjusted(-24, -24, 24, 24);
}

double pngScale(GraphView* view, GraphExport::Scope scope, const QRectF& src) {
    double s = scope == GraphExport::Scope::View ? view->zoom() : 1.0;
    s = std::min(s, GraphExport::kMaxSide / std::max(src.width(), src.height()));
    s = std::min(s, std::sqrt(GraphExport::kMaxPixels / (src.width() * src.height())));
    return s;
}

} // namespace

QSize GraphExport::pngSize(GraphView* view, Scope scope) {
    const QRectF src = sourceRect(view, scope);
    const double s = pngScale(view, scope, src);
    return {std::max(1, int(std::lround(src.width() * s))),
            std::max(1, int(std::lround(src.height() * s)))};
}

QString GraphExport::write(GraphView* view, Scope scope, const QString& path) {
    const QString file = QDir::toNativeSeparators(QFileInfo(path).absoluteFilePath());
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("png") && suffix != QLatin1String("svg"))
        return tr("%1: unknown image format; use .png or .svg").arg(file);
    GraphScene* scene = view->graphScene();
    if (!scene->hasDrawing()) return tr("%1: there is no graph to export").arg(file);

    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return tr("Cannot write %1: %2").arg(file, out.errorString());

    const QRectF src = sourceRect(view, scope);
    const QColor bg = GraphStyle::get().background;
    if (suffix == QLatin1String("png")) {
        const QSize size = pngSize(view, scope);
        QImage img(size, QImage::Format_ARGB32_Premultiplied);
        if (img.isNull()) {
            out.cancelWriting();
            return tr("Cannot write %1: the image (%2 x %3 pixels) does not fit in memory")
                .arg(file)
                .arg(size.width())
                .arg(size.height());
        }
        img.fill(bg);
        QPainter p(&img);
        p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
        scene->render(&p, QRectF(img.rect()), src, Qt::KeepAspectRatio);
        p.end();
        QImageWriter writer(&out, "png");
        if (!writer.write(img)) {
            out.cancelWriting();
            return tr("Cannot write %1: %2").arg(file, writer.errorString());
        }
    } else {
        QSvgGenerator svg;
        svg.setOutputDevice(&out);
        svg.setSize(src.size().toSize());
        svg.setViewBox(QRectF(QPointF(0, 0), src.size()));
        svg.setTitle(tr("Edgewise graph"));
        svg.setDescription(scope == Scope::View ? tr("The visible part of the graph")
                                                : tr("The whole graph"));
        QPainter p;
        if (!p.begin(&svg)) {
            out.cancelWriting();
            return tr("Cannot write %1: the SVG generator could not start").arg(file);
        }
        p.fillRect(QRectF(QPointF(0, 0), src.size()), bg);
        scene->render(&p, QRectF(QPointF(0, 0), src.size()), src, Qt::KeepAspectRatio);
        p.end();
    }
    if (!out.commit()) return tr("Cannot write %1: %2").arg(file, out.errorString());
    return {};
}

} // namespace ew::ui
