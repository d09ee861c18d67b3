#pragma once
#include <QDialog>

namespace ew::ui {

/// Help > About: the Edgewise version, the Qt it was built with and runs on, and where the
/// bundled sample model and the third-party libraries come from and under which licences.
class AboutDialog : public QDialog {
    Q_OBJECT
  public:
    explicit AboutDialog(QWidget* parent = nullptr);
    /// The rich text shown, for tests.
    QString text() const { return m_text; }

  private:
    QString m_text;
};

} // namespace ew::ui
