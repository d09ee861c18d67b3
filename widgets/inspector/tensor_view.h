#pragma once
#include "tensor_analysis.h"

#include <QFutureWatcher>
#include <QHash>
#include <QPointer>
#include <QString>
#include <QWidget>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QMessageBox;
class QPushButton;

namespace ew::ui {

/// One constant tensor the inspector can show: an initializer input of the selected node, a
/// Constant node's value, or the integer initializer behind a DequantizeLinear feeding the node.
/// The tensor shares its bytes with the model (copying it copies a pointer).
struct TensorSource {
    QString key;    ///< stable id within the node: "input:1", "input:1:quantized"
    QString label;  ///< what the picker shows
    QString name;   ///< the tensor's (value's) name
    QString origin; ///< "initializer", "Constant node", ...
    ir::Tensor tensor;
    std::optional<ir::QuantParams> quant;
    int channelAxis = -1; ///< output-channel axis for the per-channel plot, -1 for none
    QString axisNote;     ///< why that axis ("output channels of Conv")
};

/// The tensor half of the inspector: name, dtype, shape, statistics, a histogram (log-scale
/// toggle on the count axis), a per-output-channel min/max plot, "Copy values" and
/// "Save as .npy…". Analysis of tensors above kSyncElements runs on the thread pool: a busy hint
/// shows meanwhile, a newer request cancels the older one, and a result that arrives for a
/// tensor no longer shown is dropped (each request has a generation number).
class TensorView : public QWidget {
    Q_OBJECT
  public:
    /// Tensors up to this many elements are analysed on the spot (well under a millisecond).
    static constexpr int64_t kSyncElements = 1 << 16;
    /// "Copy values" puts at most this many values on the clipboard.
    static constexpr int64_t kMaxCopyValues = 100000;

    explicit TensorView(QWidget* parent = nullptr);
    ~TensorView() override;

    /// Offers `sources` in the picker and shows `current` (-1: none; the hint explains why).
    void setSources(std::vector<TensorSource> sources, int current, const QString& hint = {});
    void clear(const QString& hint);
    const std::vector<TensorSource>& sources() const { return m_sources; }
    int currentIndex() const { return m_current; }
    const TensorSource* current() const;
    /// Shows the source with `key`; false if there is none.
    bool selectSource(const QString& key);
    void selectIndex(int index);

    bool isBusy() const { return m_watcher != nullptr; }
    /// The analysis of the shown tensor; nullptr while it is being computed or when none.
    const TensorAnalysis* analysis() const { return m_analysis ? &*m_analysis : nullptr; }
    /// The text of a statistics field ("dtype", "shape", "elements", "min", "max", "mean",
    /// "std", "sparsity", "quant"), for tests.
    QString valueOf(const QString& key) const;

    void setLogScale(bool on);
    bool logScale() const;
    void setDequantize(bool on);

    QCustomPlot* histogramPlot() const { return m_histPlot; }
    QCustomPlot* channelPlot() const { return m_channelPlot; }
    QLabel* busyLabel() const { return m_busy; }

    /// Puts the values as text on the clipboard (see formatTensorValues) and returns it.
    QString copyValues();
    /// Starts writing the shown tensor as .npy to `path` in the background; false when nothing
    /// is shown or a save is running. Ends with saved or saveFailed (and an error box).
    bool saveNpy(const QString& path);
    void showSaveDialog();
    QString lastError() const { return m_lastError; }
    QMessageBox* errorBox() const;
    bool isSaving() const { return m_saveWatcher != nullptr; }

  signals:
    void analysisReady();
    void saved(const QString& path);
    void saveFailed(const QString& message);

  private:
    void startAnalysis();
    void applyAnalysis();
    void showHeader();
    void plotHistogram();
    void plotChannels();
    void clearPlots(const QString& histText, const QString& channelText);
    void updateButtons();

    std::vector<TensorSource> m_sources;
    int m_current = -1;
    std::optional<TensorAnalysis> m_analysis;
    uint64_t m_generation = 0;
    QFutureWatcher<TensorAnalysis>* m_watcher = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    QFutureWatcher<QString>* m_saveWatcher = nullptr;
    QString m_lastError;
    QPointer<QMessageBox> m_errorBox;
    QString m_lastSaveDir;

    QComboBox* m_picker = nullptr;
    QLabel* m_hint = nullptr;
    QWidget* m_body = nullptr;
    QLabel* m_header = nullptr;
    QWidget* m_statsBox = nullptr;
    QHash<QString, QLabel*> m_fields; ///< statistics value labels by key
    QLabel* m_busy = nullptr;
    QCheckBox* m_log = nullptr;
    QCheckBox* m_dequant = nullptr;
    QPushButton* m_copy = nullptr;
    QPushButton* m_save = nullptr;
    QCustomPlot* m_histPlot = nullptr;
    QCustomPlot* m_channelPlot = nullptr;
};

} // namespace ew::ui
