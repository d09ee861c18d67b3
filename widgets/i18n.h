#pragma once
#include <QString>

class QCoreApplication;

namespace ew::ui {

/// Installs the Edgewise and Qt translators for `language` ("de", "de_DE", "en"); an empty
/// language means EDGEWISE_LANG, then the system locale. Also makes that locale the default so
/// numbers are formatted to match. Returns the language whose Edgewise catalogue was loaded, or
/// an empty string when none matched (the UI then stays in English, the source language).
QString installTranslations(QCoreApplication& app, const QString& language = {});

} // namespace ew::ui
