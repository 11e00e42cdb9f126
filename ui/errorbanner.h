#pragma once

// ErrorBanner: the inline error strip above the window's pages. The message is visible,
// selectable and dismissable; it never blocks the window the way a message box would.

#include <QFrame>

class QLabel;

namespace paramscope {

class ErrorBanner : public QFrame {
    Q_OBJECT
public:
    explicit ErrorBanner(QWidget* parent = nullptr);

    /// Shows the banner with `message`.
    void showMessage(const QString& message);
    /// The message on display; empty while the banner is hidden.
    QString text() const;

private:
    QLabel* m_text = nullptr;
};

}  // namespace paramscope
