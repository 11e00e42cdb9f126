#pragma once

// Where the window's settings live (recent files, geometry, last folder, engine) and the
// recent-files list kept in them.

#include <QSettings>
#include <QString>
#include <QStringList>

#include <memory>

namespace paramscope {

/// Empty (the default): the platform's QSettings for ParamScope. Tests and the screenshot
/// tool pass a temporary file so they never touch the user's settings.
void setSettingsFile(const QString& path);
std::unique_ptr<QSettings> openSettings();

/// Most recent first, at most kMaxRecentFiles.
constexpr int kMaxRecentFiles = 10;
QStringList recentFiles();
/// Moves `path` to the front of the list (adding it when new).
void addRecentFile(const QString& path);
void clearRecentFiles();

}  // namespace paramscope
