#pragma once
#include "overlay.h"
#include "widgets/model_document.h"

#include <QColor>
#include <QObject>

#include <optional>
#include <vector>

namespace ew::ui {

/// The overlays of the open document and which one is shown: the built-in ones (MACs) first,
/// then those loaded from files. Maps the current overlay's values to colours for whatever
/// draws nodes (the node list now, the graph canvas later): a sequential yellow-orange-red
/// gradient over [min, max] of the overlay (linear, or logarithmic when all values are
/// positive and log scale is on). Nodes below the threshold, or not in the overlay, get no
/// colour. Emits changed() whenever anything that colorFor depends on changes.
/// Invariant: -1 <= currentIndex() < overlays().size(); -1 means no overlay is shown.
class OverlayController : public QObject {
    Q_OBJECT
  public:
    explicit OverlayController(QObject* parent = nullptr);

    /// Rebuilds the built-in overlays for `doc`; overlays loaded for the previous model are
    /// dropped (their node names belong to it) and no overlay is shown.
    void setDocument(DocumentPtr doc);
    DocumentPtr document() const { return m_doc; }

    /// Matches `overlay` against the document's main graph, appends it and shows it.
    /// Returns its index.
    int addOverlay(Overlay overlay);
    const std::vector<Overlay>& overlays() const { return m_overlays; }
    int builtInCount() const { return m_builtIns; }

    int currentIndex() const { return m_current; }
    const Overlay* current() const;
    void setCurrentIndex(int index);

    /// Nodes whose value is below the threshold are not highlighted. Clamped to the current
    /// overlay's range; reset to its minimum when the overlay changes.
    void setThreshold(double value);
    double threshold() const { return m_threshold; }
    void setLogScale(bool on);
    bool logScale() const { return m_logScale; }
    /// Whether log scale applies to the current overlay (all values positive).
    bool logScaleUsable() const;

    /// The current overlay's value for a node (by overlayKey), if it has one.
    std::optional<double> valueFor(const QString& nodeName) const;
    /// The colour to tint the node with, or nullopt (no overlay, no value, below threshold).
    std::optional<QColor> colorFor(const QString& nodeName) const;
    /// Position of `value` on the gradient, 0..1 (linear or log, clamped).
    double normalized(double value) const;
    /// The value at gradient position t (the inverse of normalized).
    double valueAt(double t) const;

    /// The gradient itself, t in [0, 1] (pale yellow to dark red).
    static QColor gradientColor(double t);

  signals:
    void changed();
    /// The list of overlays changed (one added, or the document replaced).
    void overlaysChanged();

  private:
    DocumentPtr m_doc;
    std::vector<Overlay> m_overlays;
    int m_builtIns = 0;
    int m_current = -1;
    double m_threshold = 0.0;
    bool m_logScale = false;
};

} // namespace ew::ui
