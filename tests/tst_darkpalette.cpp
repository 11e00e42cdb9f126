// The whole window under a dark and a light application palette (issue 17): the demo open
// with a tensor selected (statistics and histogram shown), the error banner of a bad file
// and an invalid regular expression; the grabbed window's tree, details and histogram
// backgrounds follow the palette, and the error banner, the search error and the match
// label read (WCAG contrast >= 4.5 against what is behind them). Also the status colours
// the item models use, against the palette's Base and Window.
#include "windowtestutil.h"
#include "model/modeltree.h"
#include "ui/detailspanel.h"
#include "ui/histogramwidget.h"
#include "ui/mainwindow.h"
#include "ui/modeltreeview.h"
#include "ui/plotpalette.h"
#include "ui/statspanel.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStyle>
#include <QStyleFactory>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

/// The colour of the pixel of `shot` at `p`.
QColor pixel(const QImage& shot, QPoint p)
{
    return shot.pixelColor(p);
}

/// `w`'s rectangle in `window`'s coordinates, scaled to the grabbed image.
QRect rectIn(const QWidget* w, const QWidget* window, qreal dpr)
{
    const QRect r(w->mapTo(window, QPoint(0, 0)), w->size());
    return QRectF(QPointF(r.topLeft()) * dpr, QSizeF(r.size()) * dpr).toRect();
}

QString describe(const QColor& c)
{
    return c.name();
}

}  // namespace

class TestDarkPalette : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QPalette m_original;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        MainWindow::setSettingsFile(m_tmp.filePath(QStringLiteral("settings.ini")));
        MainWindow::setAutoScanLimitMB(0);
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        m_original = QApplication::palette();
    }
    void cleanup() { QApplication::setPalette(m_original); }

    void windowFollowsThePalette_data()
    {
        QTest::addColumn<bool>("dark");
        QTest::newRow("dark") << true;
        QTest::newRow("light") << false;
    }

    void windowFollowsThePalette()
    {
        QFETCH(bool, dark);
        const QPalette light = QApplication::style()->standardPalette();
        // The window is built under the other palette, the one to check comes once everything
        // is on screen: the desktop switching at run time.
        QApplication::setPalette(dark ? light : darkPalette());
        const auto isDarkColor = [](const QColor& c) { return relativeLuminance(c) < 0.1; };

        MainWindow w;
        w.resize(1280, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(openAndWait(w, kDemo));

        // A tensor: its statistics and histogram.
        auto* stats = w.findChild<StatsPanel*>();
        QVERIFY(stats);
        QSignalSpy shown(stats, &StatsPanel::statsShown);
        w.selectNode(w.modelTree()->find("embed.weight"));
        QVERIFY(shown.wait(15000));
        QVERIFY(stats->histogram()->isVisible());

        // The error banner: a file that is not a model.
        const QString bad = m_tmp.filePath(QStringLiteral("junk.pt"));
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("\x01\x02junk bytes, not a model\xff\xfe");
        }
        QSignalSpy failed(&w, &MainWindow::loadFailed);
        w.openFile(bad);
        QVERIFY(failed.wait(15000));
        QVERIFY(w.errorBanner()->isVisible());

        // An invalid regular expression.
        w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findText(QStringLiteral("Regex")));
        w.searchEdit()->setText(QStringLiteral("embed(["));
        w.flushSearch();
        QTRY_VERIFY(w.searchErrorLabel()->isVisible());
        QApplication::setPalette(dark ? darkPalette() : light);
        QCOMPARE(isDark(QApplication::palette()), dark);
        QTest::qWait(50);

        const QPixmap grabbed = w.grab();
        const QImage shot = grabbed.toImage().convertToFormat(QImage::Format_RGB32);
        const qreal dpr = grabbed.devicePixelRatio();

        // The tree's and the details' backgrounds.
        QWidget* viewport = w.treeView()->viewport();
        const QRect treeRect = rectIn(viewport, &w, dpr);
        const QColor treeBg = pixel(shot, treeRect.bottomRight() - QPoint(6, 6));
        QVERIFY2(isDarkColor(treeBg) == dark, qPrintable(QStringLiteral("tree background %1").arg(describe(treeBg))));
        const QRect detailsRect = rectIn(w.detailsPanel(), &w, dpr);
        const QColor detailsBg = pixel(shot, detailsRect.topLeft() + QPoint(3, 3));
        QVERIFY2(isDarkColor(detailsBg) == dark,
                 qPrintable(QStringLiteral("details background %1").arg(describe(detailsBg))));

        // The histogram's plot.
        QCustomPlot* plot = stats->histogram()->plot();
        const QRect plotRect = rectIn(plot, &w, dpr);
        const QColor plotBg = pixel(shot, plotRect.topLeft() + QPoint(3, 3));
        QVERIFY2(isDarkColor(plotBg) == dark,
                 qPrintable(QStringLiteral("histogram background %1").arg(describe(plotBg))));

        // The error banner: its background follows the palette, its text reads on it.
        QWidget* banner = w.errorBanner();
        const QColor bannerBg = pixel(shot, rectIn(banner, &w, dpr).topLeft() + QPoint(3, 3));
        QVERIFY2(isDarkColor(bannerBg) == dark,
                 qPrintable(QStringLiteral("error banner background %1").arg(describe(bannerBg))));
        auto* bannerText = banner->findChild<QLabel*>(QStringLiteral("errorBannerText"));
        QVERIFY(bannerText);
        const QColor bannerFg = bannerText->palette().color(bannerText->foregroundRole());
        QVERIFY2(contrastRatio(bannerFg, bannerBg) >= 4.5, qPrintable(QStringLiteral("error banner %1 on %2: %3")
                                                                          .arg(describe(bannerFg), describe(bannerBg))
                                                                          .arg(contrastRatio(bannerFg, bannerBg))));

        // The search error and the match label, on the window behind them.
        for (QLabel* label : {w.searchErrorLabel(), w.matchCountLabel()}) {
            QVERIFY(label->isVisible());
            const QColor fg = label->palette().color(label->foregroundRole());
            const QColor bg = pixel(shot, rectIn(label, &w, dpr).topLeft() + QPoint(1, 1));
            QVERIFY2(isDarkColor(bg) == dark,
                     qPrintable(QStringLiteral("%1 background %2").arg(label->objectName(), describe(bg))));
            QVERIFY2(contrastRatio(fg, bg) >= 4.5, qPrintable(QStringLiteral("%1: %2 on %3: %4")
                                                                  .arg(label->objectName(), describe(fg), describe(bg))
                                                                  .arg(contrastRatio(fg, bg))));
        }
        // The match label says the pattern is invalid in the alert colour.
        QCOMPARE(w.matchCountLabel()->palette().color(w.matchCountLabel()->foregroundRole()),
                 toneColor(QApplication::palette(), Tone::Alert));

        // A search that matches nothing: the match label's "no match" reads too.
        w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findText(QStringLiteral("Contains")));
        w.searchEdit()->setText(QStringLiteral("no-tensor-is-named-this"));
        w.flushSearch();
        QTRY_VERIFY(w.matchCountLabel()->text().startsWith(QStringLiteral("no match")));
        QTest::qWait(50);
        QLabel* match = w.matchCountLabel();
        const QPixmap again = w.grab();
        const QImage shot2 = again.toImage().convertToFormat(QImage::Format_RGB32);
        const QColor fg = match->palette().color(match->foregroundRole());
        const QColor bg = pixel(shot2, rectIn(match, &w, dpr).topLeft() + QPoint(1, 1));
        QVERIFY2(
            contrastRatio(fg, bg) >= 4.5,
            qPrintable(
                QStringLiteral("no match: %1 on %2: %3").arg(describe(fg), describe(bg)).arg(contrastRatio(fg, bg))));
    }

    void statusColorsRead_data()
    {
        QTest::addColumn<bool>("dark");
        QTest::newRow("dark") << true;
        QTest::newRow("light") << false;
    }

    void statusColorsRead()
    {
        QFETCH(bool, dark);
        const QPalette p = dark ? darkPalette() : QApplication::style()->standardPalette();
        for (Tone t : {Tone::Alert, Tone::Warning, Tone::Good, Tone::Close, Tone::Layout, Tone::Missing})
            for (QPalette::ColorRole role : {QPalette::Base, QPalette::Window, QPalette::AlternateBase}) {
                const QColor fg = toneColor(p, t), bg = p.color(role);
                QVERIFY2(contrastRatio(fg, bg) >= 4.5, qPrintable(QStringLiteral("tone %1 %2 on %3: %4")
                                                                      .arg(int(t))
                                                                      .arg(fg.name(), bg.name())
                                                                      .arg(contrastRatio(fg, bg))));
            }
        const BannerColors b = errorBannerColors(p);
        QVERIFY(contrastRatio(b.text, b.background) >= 4.5);
        QCOMPARE(relativeLuminance(b.background) < 0.1, dark);
    }
};

QTEST_MAIN(TestDarkPalette)
#include "tst_darkpalette.moc"
