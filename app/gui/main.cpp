// edgewise: the desktop workbench. Opens the model given on the command line, if any.
#include "widgets/graph/graph_page.h"
#include "widgets/i18n.h"
#include "widgets/main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QGuiApplication>
#include <QIcon>
#include <QPixmap>
#include <QScreen>
#include <QTimer>

#include <cstdio>

namespace {

/// Writes what the user would see: the whole X screen under a real display server (Xvfb
/// included), otherwise the window as Qt renders it (offscreen platform).
bool saveScreenshot(QWidget& window, const QString& file) {
    QPixmap shot;
    if (QGuiApplication::platformName() == QLatin1String("xcb"))
        if (QScreen* screen = window.screen()) shot = screen->grabWindow(0);
    if (shot.isNull()) shot = window.grab();
    bool ok = shot.save(file);
    std::fprintf(stderr,
                 ok ? "edgewise: screenshot written to %s\n" : "edgewise: cannot write %s\n",
                 qPrintable(file));
    return ok;
}

/// The value of --lang (as "--lang X" or "--lang=X"), or empty.
QString languageArgument(const QStringList& args) {
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--lang") && i + 1 < args.size()) return args[i + 1];
        if (args[i].startsWith(QLatin1String("--lang="))) return args[i].mid(7);
    }
    return {};
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Edgewise"));
    QApplication::setApplicationName(QStringLiteral("Edgewise"));
    QApplication::setApplicationVersion(QStringLiteral(EW_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/edgewise.svg")));

    // The translators must be installed before the option texts below are translated, so --lang
    // is picked out of the arguments ahead of the parser.
    ew::ui::installTranslations(app, languageArgument(QCoreApplication::arguments()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Edgewise: inspect and optimize neural-network models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("model"),
        QCoreApplication::translate("main", "Model file to open (.onnx, .tflite)."),
        QStringLiteral("[model]"));
    QCommandLineOption langOption(
        QStringLiteral("lang"),
        QCoreApplication::translate("main", "User interface language, e.g. de or en (default: "
                                            "EDGEWISE_LANG, then the system locale)."),
        QStringLiteral("language"));
    parser.addOption(langOption);
    QCommandLineOption overlayOption(
        QStringLiteral("overlay"),
        QCoreApplication::translate("main", "Show the per-node values of this overlay JSON file "
                                            "once the model is open."),
        QStringLiteral("file"));
    parser.addOption(overlayOption);
    // For scripts and docs: grab the window once the model is loaded, then exit.
    QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a screenshot to FILE after loading and exit."),
        QStringLiteral("file"));
    screenshotOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(screenshotOption);
    QCommandLineOption selectOption(QStringLiteral("select"),
                                    QStringLiteral("Select this node after loading."),
                                    QStringLiteral("node"));
    selectOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(selectOption);

    parser.process(app);

    ew::ui::MainWindow window;
    window.show();

    const QStringList args = parser.positionalArguments();
    const QString screenshot = parser.value(screenshotOption);
    const QString select = parser.value(selectOption);
    const QString overlay = parser.value(overlayOption);
    if (!overlay.isEmpty() && args.isEmpty())
        std::fprintf(stderr, "edgewise: %s\n",
                     qPrintable(QCoreApplication::translate(
                                    "main", "--overlay %1 needs a model to show it on")
                                    .arg(overlay)));

    auto afterLoad = [&window, screenshot, select, overlay](bool loaded) {
        // The overlay comes after the model; a bad file is reported (message box and stderr)
        // and the model stays open.
        bool overlayOk = true;
        if (loaded && !overlay.isEmpty() && !window.loadOverlay(overlay)) {
            overlayOk = false;
            std::fprintf(stderr, "edgewise: %s\n", qPrintable(window.lastError()));
        }
        if (loaded && !select.isEmpty() && !window.selectNode(select))
            std::fprintf(stderr, "edgewise: no node named %s\n", qPrintable(select));
        if (screenshot.isEmpty()) return;
        // The graph is laid out in the background after loading: wait for it, then give the
        // window a moment to paint before grabbing it.
        auto grab = [&window, screenshot, loaded, overlayOk] {
            QTimer::singleShot(500, &window, [&window, screenshot, loaded, overlayOk] {
                bool ok = saveScreenshot(window, screenshot);
                QCoreApplication::exit(ok && loaded && overlayOk ? 0 : 1);
            });
        };
        ew::ui::GraphPage* graph = window.graphPage();
        if (loaded && graph->isLayingOut())
            QObject::connect(graph, &ew::ui::GraphPage::layoutFinished, &window, grab,
                             Qt::SingleShotConnection);
        else
            grab();
    };
    QObject::connect(&window, &ew::ui::MainWindow::modelLoaded, &window,
                     [afterLoad] { afterLoad(true); });
    QObject::connect(&window, &ew::ui::MainWindow::loadFailed, &window,
                     [afterLoad](const QString& msg) {
                         std::fprintf(stderr, "edgewise: %s\n", qPrintable(msg));
                         afterLoad(false);
                     });

    if (!args.isEmpty())
        window.openModel(args.first());
    else if (!screenshot.isEmpty())
        afterLoad(true);
    return app.exec();
}
