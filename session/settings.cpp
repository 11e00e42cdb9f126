#include "session/settings.h"

namespace paramscope {

namespace {

QString g_settingsFile;

const QString kRecentKey = QStringLiteral("recentFiles");

}  // namespace

void setSettingsFile(const QString& path)
{
    g_settingsFile = path;
}

std::unique_ptr<QSettings> openSettings()
{
    if (!g_settingsFile.isEmpty())
        return std::make_unique<QSettings>(g_settingsFile, QSettings::IniFormat);
    return std::make_unique<QSettings>(QStringLiteral("ParamScope"), QStringLiteral("ParamScope"));
}

QStringList recentFiles()
{
    return openSettings()->value(kRecentKey).toStringList();
}

void addRecentFile(const QString& path)
{
    QStringList files = recentFiles();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    openSettings()->setValue(kRecentKey, files);
}

void clearRecentFiles()
{
    openSettings()->remove(kRecentKey);
}

}  // namespace paramscope
