#include "ui/errorbanner.h"

#include "ui/plotpalette.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

namespace paramscope {

ErrorBanner::ErrorBanner(QWidget* parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("errorBanner"));
    // A light red strip on a light palette, a dark red one on a dark palette.
    setPaletteStyleSheet(this, [](const QPalette& palette) {
        const BannerColors c = errorBannerColors(palette);
        return QStringLiteral(
                   "#errorBanner { background: %1; border-bottom: 1px solid %2; }"
                   "#errorBanner QLabel, #errorBanner QToolButton { color: %3; }")
            .arg(c.background.name(), c.border.name(), c.text.name());
    });
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    auto* icon = new QLabel(this);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxCritical).pixmap(20, 20));
    layout->addWidget(icon, 0, Qt::AlignTop);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("errorBannerText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_text, 1);
    auto* close = new QToolButton(this);
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    layout->addWidget(close, 0, Qt::AlignTop);
    hide();
}

void ErrorBanner::showMessage(const QString& message)
{
    m_text->setText(message);
    show();
}

QString ErrorBanner::text() const
{
    return isHidden() ? QString() : m_text->text();
}

}  // namespace paramscope
