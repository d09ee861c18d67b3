#include "i18n.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

namespace ew::ui {

QString installTranslations(QCoreApplication& app, const QString& language) {
    QString lang = language;
    if (lang.isEmpty()) lang = qEnvironmentVariable("EDGEWISE_LANG");
    QLocale locale = lang.isEmpty() ? QLocale::system() : QLocale(lang);
    if (!lang.isEmpty()) QLocale::setDefault(locale);

    // Qt's own strings (standard buttons, file dialogs) where the distribution ships them.
    auto* qt = new QTranslator(&app);
    if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qt);
    else
        delete qt;

    auto* ours = new QTranslator(&app);
    // English is the source language, but its catalogue holds the plural forms ("1 node",
    // "2 nodes"), so it is the fallback for locales without a catalogue (and for "C").
    if (ours->load(locale, QStringLiteral("edgewise"), QStringLiteral("_"),
                   QStringLiteral(":/i18n")) ||
        ours->load(QStringLiteral(":/i18n/edgewise_en.qm"))) {
        QCoreApplication::installTranslator(ours);
        return ours->language();
    }
    delete ours;
    return {};
}

} // namespace ew::ui
