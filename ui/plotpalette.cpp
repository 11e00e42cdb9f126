#include "ui/plotpalette.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QGuiApplication>
#include <QPalette>
#include <QPointer>
#include <QWidget>

#include <algorithm>
#include <cmath>

namespace paramscope {

void applyPalette(QCustomPlot* plot, const QPalette& palette)
{
    const QColor base = palette.color(QPalette::Base), text = palette.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(50);
    plot->setBackground(base);
    for (int r = 0; r < plot->axisRectCount(); ++r) {
        QCPAxisRect* rect = plot->axisRect(r);
        rect->setBackground(base);
        for (QCPAxis* axis : rect->axes()) {
            axis->setBasePen(QPen(text));
            axis->setTickPen(QPen(text));
            axis->setSubTickPen(QPen(text));
            axis->setTickLabelColor(text);
            axis->setLabelColor(text);
            axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
        }
    }
    for (int e = 0; e < plot->plotLayout()->elementCount(); ++e)
        if (auto* scale = qobject_cast<QCPColorScale*>(plot->plotLayout()->elementAt(e))) {
            QCPAxis* axis = scale->axis();
            axis->setBasePen(QPen(text));
            axis->setTickPen(QPen(text));
            axis->setSubTickPen(QPen(text));
            axis->setTickLabelColor(text);
            axis->setLabelColor(text);
        }
    plot->replot();
}

bool isDark(const QPalette& palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    p.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
    p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
    p.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
    p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    p.setColor(QPalette::ButtonText, QColor(0xe0, 0xe0, 0xe0));
    p.setColor(QPalette::Highlight, QColor(0x2a, 0x82, 0xda));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(0x35, 0x35, 0x35));
    p.setColor(QPalette::ToolTipText, QColor(0xe0, 0xe0, 0xe0));
    p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    p.setColor(QPalette::Link, QColor(0x8a, 0xb4, 0xf8));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
    return p;
}

QColor toneColor(const QPalette& palette, Tone tone)
{
    // Light variants: >= 4.5 on white and on Fusion's #efefef window; dark variants: >= 4.5
    // on #1e1e1e and #2b2b2b (tst_darkpalette checks both).
    const bool dark = isDark(palette);
    switch (tone) {
        case Tone::Alert:
            return dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xb3, 0x26, 0x1e);
        case Tone::Warning:
            return dark ? QColor(0xff, 0xb7, 0x4d) : QColor(0x8a, 0x53, 0x00);
        case Tone::Good:
            return dark ? QColor(0x81, 0xc7, 0x84) : QColor(0x27, 0x6b, 0x2b);
        case Tone::Close:
            return dark ? QColor(0x4d, 0xd0, 0xe1) : QColor(0x00, 0x73, 0x7d);
        case Tone::Layout:
            return dark ? QColor(0xce, 0x93, 0xd8) : QColor(0x6a, 0x1b, 0x9a);
        case Tone::Missing:
            return dark ? QColor(0x90, 0xca, 0xf9) : QColor(0x15, 0x65, 0xc0);
    }
    return palette.color(QPalette::Text);
}

BannerColors errorBannerColors(const QPalette& palette)
{
    if (isDark(palette))
        return {QColor(0x3d, 0x1c, 0x1a), QColor(0xff, 0xda, 0xd6), QColor(0x8c, 0x3a, 0x35)};
    return {QColor(0xfd, 0xec, 0xea), QColor(0x7a, 0x17, 0x12), QColor(0xe0, 0xa3, 0xa0)};
}

namespace {

/// Runs a function whenever the application's palette changes, while its widget lives. It
/// watches the application object: a widget with a style sheet has a palette of its own, so
/// the new application palette is not passed down to it as a PaletteChange.
class PaletteWatcher : public QObject {
public:
    PaletteWatcher(QWidget* widget, std::function<void()> onChange) : QObject(widget), m_onChange(std::move(onChange))
    {
        QCoreApplication::instance()->installEventFilter(this);
    }
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (watched == QCoreApplication::instance() && event->type() == QEvent::ApplicationPaletteChange && m_onChange)
            m_onChange();
        return QObject::eventFilter(watched, event);
    }

private:
    std::function<void()> m_onChange;
};

const char* const kStyleWatcher = "paramscopePaletteStyleSheet";

}  // namespace

void onPaletteChange(QWidget* widget, std::function<void()> onChange)
{
    new PaletteWatcher(widget, std::move(onChange));
}

void setPaletteStyleSheet(QWidget* widget, std::function<QString(const QPalette&)> make)
{
    delete widget->findChild<PaletteWatcher*>(QLatin1String(kStyleWatcher), Qt::FindDirectChildrenOnly);
    if (!make) {
        widget->setStyleSheet(QString());
        return;
    }
    const auto apply = [widget, make] {
        const QString sheet = make(QGuiApplication::palette());
        if (widget->styleSheet() != sheet)  // setting one re-polishes: only when it changed
            widget->setStyleSheet(sheet);
    };
    apply();
    auto* watcher = new PaletteWatcher(widget, apply);
    watcher->setObjectName(QLatin1String(kStyleWatcher));
}

double relativeLuminance(const QColor& c)
{
    const auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrastRatio(const QColor& a, const QColor& b)
{
    const double la = relativeLuminance(a), lb = relativeLuminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

}  // namespace paramscope
