#pragma once

// Driving a MainWindow in a test: the bundled demo model and opening a file until it loaded.

#include "ui/mainwindow.h"

#include <QSignalSpy>
#include <QString>
#include <QTest>

namespace paramscope::test {

inline const QString kDemo = QStringLiteral(PARAMSCOPE_SOURCE_DIR "/resources/demo_model.pt");

/// Opens `path` in `w` and waits (up to 15 s) until it loaded or failed; true when it loaded.
inline bool openAndWait(MainWindow& w, const QString& path)
{
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    QSignalSpy failed(&w, &MainWindow::loadFailed);
    w.openFile(path);
    for (int i = 0; i < 300 && loaded.isEmpty() && failed.isEmpty(); ++i)
        QTest::qWait(50);
    return !loaded.isEmpty();
}

}  // namespace paramscope::test
