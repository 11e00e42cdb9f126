#pragma once

// StartPage: what the window shows while no model is open: the name, one line on what
// ParamScope does, Open… and Open demo model buttons, and a hint that files can be dropped.

#include <QWidget>

namespace paramscope {

class StartPage : public QWidget {
    Q_OBJECT
public:
    explicit StartPage(QWidget* parent = nullptr);

Q_SIGNALS:
    void openRequested();
    void demoRequested();
};

}  // namespace paramscope
