#include "about_dialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QSysInfo>
#include <QTextBrowser>
#include <QVBoxLayout>

#ifndef EW_VERSION
#error "EW_VERSION must be defined by the build (project version)"
#endif

namespace ew::ui {

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("aboutDialog"));
    setWindowTitle(tr("About Edgewise"));

    auto* icon = new QLabel(this);
    icon->setPixmap(QIcon(QStringLiteral(":/icons/edgewise.svg")).pixmap(64, 64));
    icon->setAlignment(Qt::AlignTop);

    m_text =
        QStringLiteral("<h2>Edgewise %1</h2>").arg(QStringLiteral(EW_VERSION)) +
        tr("<p>A workbench for inspecting, optimizing and deploying neural-network models.</p>") +
        tr("<p>Built with Qt %1, running on Qt %2 (%3).</p>")
            .arg(QStringLiteral(QT_VERSION_STR), QString::fromLatin1(qVersion()),
                 QSysInfo::prettyProductName().toHtmlEscaped()) +
        tr("<h3>Bundled sample model</h3>"
           "<p><b>digits_cnn.onnx</b> was made by the Edgewise team: a small CNN trained on "
           "scikit-learn's <i>load_digits</i>, a copy of the UCI Optical Recognition of "
           "Handwritten Digits data set, licensed under "
           "<a href=\"https://creativecommons.org/licenses/by/4.0/\">CC BY 4.0</a> "
           "(E. Alpaydin, C. Kaynak).</p>") +
        tr("<h3>Third-party software</h3>"
           "<ul>"
           "<li>Qt 6: LGPL-3.0</li>"
           "<li>QCustomPlot: GPL-3.0</li>"
           "<li>ONNX: Apache-2.0</li>"
           "<li>Protocol Buffers: BSD-3-Clause</li>"
           "<li>FlatBuffers: Apache-2.0</li>"
           "<li>Eigen: MPL-2.0</li>"
           "</ul>");

    auto* text = new QTextBrowser(this);
    text->setObjectName(QStringLiteral("aboutText"));
    text->setOpenExternalLinks(true);
    text->setFrameShape(QFrame::NoFrame);
    // Read as part of the dialog, not as an embedded document.
    QPalette pal = text->palette();
    pal.setColor(QPalette::Base, pal.color(QPalette::Window));
    text->setPalette(pal);
    text->setHtml(m_text);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* top = new QHBoxLayout;
    top->addWidget(icon);
    top->addWidget(text, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top, 1);
    layout->addWidget(buttons);
    resize(560, 480);
}

} // namespace ew::ui
