// The heatmap in the window: selecting a 2-D tensor and opening the Heatmap tab shows its
// map; the hover text names the element and its value (checked against the element itself);
// a matrix larger than the plot is pooled, and zooming in reduces the visible region again
// at full resolution; a conv weight's slice; the comparison's heatmap of b - a.
#include "formats/loader.h"
#include "heatmap/heatmap.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/comparecontroller.h"
#include "stats/decode.h"
#include "testutil.h"
#include "ui/comparewindow.h"
#include "ui/heatmapwidget.h"
#include "ui/histogramwidget.h"
#include "ui/mainwindow.h"
#include "ui/statspanel.h"

#include <QProcess>
#include <qcustomplot.h>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

double element(const ModelIndex& index, const std::string& name, std::int64_t at)
{
    auto v = index.view(index.findEntry(name));
    const ValueDecoder d(v.value());
    double x = 0;
    d.decode(at, at + 1, &x);
    return x;
}

}  // namespace

class TestHeatmapWidget : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_big;

private Q_SLOTS:
    void initTestCase()
    {
        MainWindow::setSettingsFile(m_dir.filePath(QStringLiteral("settings.ini")));
        // A 3000 x 2000 matrix (larger than any plot), written by NumPy as safetensors.
        m_big = m_dir.filePath(QStringLiteral("big.safetensors"));
        QProcess p;
        p.start(QStringLiteral(PARAMSCOPE_PYTHON),
                {QStringLiteral("-c"),
                 QStringLiteral("import json, struct, sys, numpy as np\n"
                                "a = (np.arange(6000000, dtype=np.float32).reshape(3000, 2000) % 1000) / 1000\n"
                                "a[1234, 567] = 50.0\n"
                                "h = json.dumps({'big': {'dtype': 'F32', 'shape': [3000, 2000], 'data_offsets': [0, "
                                "a.nbytes]}}).encode()\n"
                                "open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + a.tobytes())\n"),
                 m_big});
        QVERIFY(p.waitForFinished(60000) && p.exitCode() == 0);
    }

    void selectingATensorShowsItsMap()
    {
        MainWindow w;
        w.resize(1280, 800);
        w.show();
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.openFile(fixture(QStringLiteral("heatmap.pt")));
        QVERIFY(loaded.wait(20000));
        auto* stats = w.findChild<StatsPanel*>();
        QVERIFY(stats);
        HeatmapWidget* map = stats->heatmap();
        QSignalSpy shown(map, &HeatmapWidget::heatmapShown);
        w.selectNode(w.modelTree()->find("exact"));
        stats->views()->setCurrentWidget(map);
        QVERIFY(shown.wait(10000));
        QVERIFY(map->heatmap());
        QCOMPARE(map->heatmap()->rows, std::int64_t(64));
        QCOMPARE(map->heatmap()->cols, std::int64_t(48));
        // Hover: the element and its value.
        const QString hover = map->hoverText(3, 5);
        const double want = element(*w.modelIndex(), "exact", 3 * 48 + 5);
        QVERIFY2(hover.startsWith(QStringLiteral("[3, 5] = %1").arg(QString::number(want, 'g', 7))), qPrintable(hover));
        QVERIFY(hover.contains(QLatin1String("row norm")));
        QVERIFY(map->hoverText(64, 0).isEmpty());
        if (const char* shot = std::getenv("PARAMSCOPE_HEATMAP_SHOT")) {  // a look at it
            QTest::qWait(200);
            w.grab().save(QString::fromLocal8Bit(shot));
        }
        QVERIFY(map->rowStripPoints() > 0);
        QVERIFY(map->rowStripMin() > 0);  // no dead row in "exact"
        // A conv weight: dim 0 x the rest, then a slice.
        shown.clear();
        w.selectNode(w.modelTree()->find("conv"));
        QVERIFY(shown.wait(10000));
        QCOMPARE(map->heatmap()->cols, std::int64_t(27));
        shown.clear();
        map->setSlice({1, 2});
        QVERIFY(shown.wait(10000));
        QCOMPARE(map->heatmap()->rows, std::int64_t(8));
        QCOMPARE(map->heatmap()->cols, std::int64_t(3));
    }

    // A weight with all-zero rows: its row-norm strip drops to 0 there.
    void deadRowsShowInTheNormStrip()
    {
        auto index = loadModel(fixture(QStringLiteral("scan_problems.pt")));
        QVERIFY(index);
        HeatmapWidget map;
        map.resize(800, 600);
        map.show();
        QSignalSpy shown(&map, &HeatmapWidget::heatmapShown);
        map.showTensor(index.value(), index.value()->findEntry("model.layers.4.mlp.down.weight"));
        QVERIFY(shown.wait(10000));
        QCOMPARE(map.heatmap()->rows, std::int64_t(16));
        QCOMPARE(map.rowStripPoints(), 16 + 1);
        QCOMPARE(map.rowStripMin(), 0.0);
        QCOMPARE(map.heatmap()->rowNorms[2], 0.0);
        QVERIFY(map.heatmap()->rowNorms[3] > 0);
    }

    void zoomRefinesTheVisibleRegion()
    {
        auto index = loadModel(m_big);
        QVERIFY(index);
        HeatmapWidget map;
        map.resize(900, 700);
        map.show();
        QSignalSpy shown(&map, &HeatmapWidget::heatmapShown);
        map.showTensor(index.value(), 0);
        QVERIFY(shown.wait(20000));
        const Heatmap* whole = map.heatmap();
        QVERIFY(whole);
        QVERIFY2(whole->height < 3000 && whole->width < 2000, "a matrix larger than the plot is pooled");
        // Max |x| pooling keeps the one outlier visible at any size.
        QCOMPARE(whole->max, 50.0);
        QVERIFY(map.message().contains(QLatin1String("max |x|")));
        // Zoom into 100 x 80 elements around the outlier: recomputed at full resolution.
        shown.clear();
        const int before = map.computeCount();
        map.setVisibleRegion(1200, 1300, 520, 600);
        QVERIFY(shown.wait(20000));
        QCOMPARE(map.computeCount(), before + 1);
        const Heatmap* zoomed = map.heatmap();
        QCOMPARE(zoomed->rowBegin, std::int64_t(1200));
        QCOMPARE(zoomed->colBegin, std::int64_t(520));
        QCOMPARE(zoomed->height, 100);
        QCOMPARE(zoomed->width, 80);
        QCOMPARE(zoomed->value(1234 - 1200, 567 - 520), 50.0);
        QCOMPARE(zoomed->value(0, 0), double(((1200 * 2000 + 520) % 1000) / 1000.0f));
        // Save as PNG.
        const QString png = m_dir.filePath(QStringLiteral("map.png"));
        QVERIFY(map.savePng(png, 640, 480));
        QCOMPARE(QImage(png).size(), QSize(640, 480));
    }

    // A dark palette (a dark desktop theme) colours the plots: base behind, text for axes.
    void plotsFollowThePalette()
    {
        QPalette dark;
        dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
        dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
        HeatmapWidget map;
        HistogramWidget hist;
        for (QWidget* w : {static_cast<QWidget*>(&map), static_cast<QWidget*>(&hist)})
            w->setPalette(dark);
        for (QCustomPlot* plot : {map.plot(), hist.plot()}) {
            QCOMPARE(plot->xAxis->tickLabelColor(), QColor(0xe0, 0xe0, 0xe0));
            QCOMPARE(plot->yAxis->basePen().color(), QColor(0xe0, 0xe0, 0xe0));
            QCOMPARE(plot->axisRect()->backgroundBrush().color(), QColor(0x1e, 0x1e, 0x1e));
        }
        // And back to a light one.
        QPalette light;
        light.setColor(QPalette::Base, Qt::white);
        light.setColor(QPalette::Text, Qt::black);
        map.setPalette(light);
        QCOMPARE(map.plot()->xAxis->tickLabelColor(), QColor(Qt::black));
    }

    void comparisonShowsTheHeatmapOfTheDifference()
    {
        CompareWindow w;
        w.show();
        QSignalSpy done(&w, &CompareWindow::comparisonFinished);
        w.openFiles(fixture(QStringLiteral("diff_a.pt")), fixture(QStringLiteral("diff_b.pt")));
        QVERIFY(done.wait(20000));
        QSignalSpy shown(w.diffHeatmap(), &HeatmapWidget::heatmapShown);
        w.diffViews()->setCurrentWidget(w.diffHeatmap());
        w.selectNode(w.controller()->tree()->find("embed.weight"));
        QVERIFY(shown.wait(10000));
        const Heatmap* h = w.diffHeatmap()->heatmap();
        QVERIFY(h);
        // embed.weight's row 5 was scaled by 1.5: only that row of b - a is nonzero.
        QCOMPARE(h->rows, std::int64_t(100));
        for (int j = 0; j < h->width; ++j)
            QCOMPARE(h->value(h->cellRow(0), j), 0.0);
        bool nonzero = false;
        for (int j = 0; j < h->width; ++j)
            nonzero = nonzero || h->value(h->cellRow(5), j) != 0.0;
        QVERIFY(nonzero);
        if (const char* shot = std::getenv("PARAMSCOPE_HEATMAP_SHOT2")) {
            w.resize(1280, 760);
            QTest::qWait(300);
            w.grab().save(QString::fromLocal8Bit(shot));
        }
        QVERIFY(w.diffHeatmap()->hoverText(5, 0).startsWith(QStringLiteral("b − a [5, 0]")));
    }
};

QTEST_MAIN(TestHeatmapWidget)
#include "tst_heatmapwidget.moc"
