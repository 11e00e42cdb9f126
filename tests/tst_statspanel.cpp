// StatsPanel and HistogramWidget under the offscreen platform: results arrive off the GUI
// thread, stale ones are dropped, special tensors render with labels, saving is atomic.
#include "ui/histogramwidget.h"
#include "formats/loader.h"
#include "ui/statspanel.h"
#include "testutil.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QImage>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace paramscope;

namespace {

/// Storage held in memory, for models built by the test.
class VectorProvider final : public StorageProvider {
public:
    std::vector<std::shared_ptr<std::vector<float>>> storages;
    Result<StorageBytes> storageBytes(int i) const override
    {
        const auto& s = storages[size_t(i)];
        StorageBytes b;
        b.owner = s;
        b.data = reinterpret_cast<const std::uint8_t*>(s->data());
        b.size = s->size() * sizeof(float);
        return b;
    }
};

/// "big" (20M ramp values) and "small" ({1, 2, 3, 4}).
std::shared_ptr<const ModelIndex> makeBigModel()
{
    auto provider = std::make_shared<VectorProvider>();
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("memory.pt");
    const std::vector<std::pair<std::string, std::int64_t>> tensors{{"big", 20'000'000}, {"small", 4}};
    for (const auto& [name, n] : tensors) {
        auto data = std::make_shared<std::vector<float>>(static_cast<size_t>(n));
        for (std::int64_t i = 0; i < n; ++i)
            (*data)[size_t(i)] = float(i + 1);
        TensorEntry e;
        e.name = name;
        e.dtype = DType::Float32;
        e.shape = {n};
        e.storage = int(provider->storages.size());
        provider->storages.push_back(data);
        StorageInfo si;
        si.key = name;
        si.dtype = DType::Float32;
        si.byteSize = std::uint64_t(n) * 4;
        index->storages.push_back(si);
        index->entries.push_back(e);
    }
    index->provider = provider;
    index->finalize();
    return index;
}

std::shared_ptr<const ModelIndex> g_index;
QJsonObject g_expected;

int entryOf(const char* name)
{
    return g_index->findEntry(name);
}

}  // namespace

class TestStatsPanel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        LoadOptions o;
        o.engine = LoaderEngine::LibTorch;
        auto r = loadModel(test::fixture(QStringLiteral("stats_model.pt")), o);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        g_index = r.value();
        g_expected = test::readJson(test::fixture(QStringLiteral("stats_expected.json")));
        QVERIFY(!g_expected.isEmpty());
    }

    // int64 / uint64 beyond 2^53: the window shows min, max and integer quantiles exactly
    // (the truth: Python's integers in stats_int64_expected.json, see make_stats_fixtures.py).
    void showsExactIntegers()
    {
        const QJsonObject all = test::readJson(test::fixture(QStringLiteral("stats_int64_expected.json")));
        LoadOptions o;
        o.engine = LoaderEngine::Native;
        for (const char* name : {"extremes", "big53", "u64"}) {
            const bool u = QLatin1String(name) == QLatin1String("u64");
            auto r = loadModel(
                test::fixture(u ? QStringLiteral("stats_uint64.safetensors") : QStringLiteral("stats_int64.pt")), o);
            QVERIFY2(r.ok(), qPrintable(r.error()));
            const QJsonObject e = all.value(QLatin1String(name)).toObject();
            QVERIFY(!e.isEmpty());
            StatsPanel panel;
            panel.showTensor(r.value(), r.value()->findEntry(name));
            QTRY_VERIFY(panel.currentStats() != nullptr);
            QCOMPARE(panel.valueText(QStringLiteral("min")), e.value(QLatin1String("min")).toString());
            QCOMPARE(panel.valueText(QStringLiteral("max")), e.value(QLatin1String("max")).toString());
            const QJsonArray q = e.value(QLatin1String("quantiles_exact")).toArray();
            const char* keys[] = {"p1", "p25", "median", "p75", "p99"};
            for (int i = 0; i < 5; ++i)
                if (!q[i].isNull())
                    QCOMPARE(panel.valueText(QLatin1String(keys[i])), q[i].toString());
        }
    }

    void showsNumbersAndBars()
    {
        StatsPanel panel;
        QSignalSpy shown(&panel, &StatsPanel::statsShown);
        panel.showTensor(g_index, entryOf("f32"));
        QVERIFY(panel.isComputing());
        QCOMPARE(panel.statusText(), QStringLiteral("Computing…"));
        QTRY_VERIFY(panel.currentStats() != nullptr);
        QCOMPARE(shown.count(), 1);
        const QJsonObject e = g_expected.value(QLatin1String("f32")).toObject();
        QCOMPARE(panel.valueText(QStringLiteral("mean")),
                 QString::number(e.value(QLatin1String("mean")).toDouble(), 'g', 7));
        QCOMPARE(panel.valueText(QStringLiteral("nan")), QStringLiteral("1"));
        QCOMPARE(panel.valueText(QStringLiteral("median")),
                 QString::number(e.value(QLatin1String("quantiles")).toArray()[2].toDouble(), 'g', 7));
        const int bins = int(e.value(QLatin1String("counts")).toArray().size());
        QCOMPARE(panel.histogram()->barCount(), bins);
        auto* bars = qobject_cast<QCPBars*>(panel.histogram()->plot()->plottable(0));
        QVERIFY(bars);
        QCOMPARE(bars->dataCount(), bins);
        QVERIFY(panel.histogram()->nonFiniteText().contains(QLatin1String("NaN  1")));
        QVERIFY(panel.statusText().contains(QLatin1String("finite values")));

        // Hover text of the first bin: its range and its count.
        const QJsonArray edges = e.value(QLatin1String("edges")).toArray();
        const double mid = (edges[0].toDouble() + edges[1].toDouble()) / 2;
        const QString tip = panel.histogram()->binToolTip(mid);
        QVERIFY2(tip.endsWith(QStringLiteral(": %1").arg(e.value(QLatin1String("counts")).toArray()[0].toInteger())),
                 qPrintable(tip));
        QVERIFY(panel.histogram()->binToolTip(edges.last().toDouble() + 1).isEmpty());

        // Cached: showing it again is immediate.
        panel.showTensor(g_index, entryOf("i8"));
        QTRY_VERIFY(panel.currentStats() && panel.currentStats()->dtype == DType::Int8);
        panel.showTensor(g_index, entryOf("f32"));
        QVERIFY(panel.currentStats() && panel.currentStats()->dtype == DType::Float32);
        QCOMPARE(panel.cachedCount(), 2);
    }

    void userBinsAndLogScale()
    {
        StatsPanel panel;
        panel.showTensor(g_index, entryOf("f32"));
        QTRY_VERIFY(panel.currentStats() != nullptr);
        auto* spin = panel.histogram()->findChild<QSpinBox*>();
        QVERIFY(spin);
        spin->setValue(7);  // as the user would
        QTRY_VERIFY(panel.currentStats() && panel.currentStats()->histogram.bins() == 7);
        QCOMPARE(panel.histogram()->barCount(), 7);
        const QJsonArray counts =
            g_expected.value(QLatin1String("f32@bins=7")).toObject().value(QLatin1String("counts")).toArray();
        for (int i = 0; i < 7; ++i)
            QCOMPARE(panel.currentStats()->histogram.counts[size_t(i)], std::int64_t(counts[i].toInteger()));
        QCOMPARE(panel.histogram()->requestedBins(), 7);

        panel.histogram()->setLogScale(true);
        QCOMPARE(panel.histogram()->plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(panel.histogram()->plot()->yAxis->range().lower > 0);
        panel.histogram()->setLogScale(false);
        QCOMPARE(panel.histogram()->plot()->yAxis->scaleType(), QCPAxis::stLinear);
    }

    // Quick switching: only the last request's result is shown; the big tensor's
    // computation is cancelled and its result never appears nor is cached.
    void staleResultsDiscarded()
    {
        auto big = makeBigModel();
        StatsPanel panel;
        QSignalSpy shown(&panel, &StatsPanel::statsShown);
        panel.showTensor(big, 0);
        panel.showTensor(g_index, entryOf("f64"));
        panel.showTensor(g_index, entryOf("c64"));
        QTRY_VERIFY(panel.currentStats() != nullptr);
        QCOMPARE(panel.currentStats()->dtype, DType::Complex64);
        QTest::qWait(300);  // give the stale jobs time to finish and (wrongly) deliver
        QCOMPARE(shown.count(), 1);
        QCOMPARE(panel.currentStats()->dtype, DType::Complex64);
        QCOMPARE(panel.cachedCount(), 1);
        QVERIFY(!panel.isComputing());
        QVERIFY(panel.statusText().contains(QLatin1String("magnitude")));

        // Within one model: big, then small at once.
        panel.showTensor(big, 0);
        QVERIFY(panel.isComputing());
        panel.showTensor(big, 1);
        QTRY_VERIFY(panel.currentStats() != nullptr);
        QCOMPARE(panel.currentStats()->elements, std::int64_t(4));
        QTest::qWait(300);
        QCOMPARE(panel.currentStats()->elements, std::int64_t(4));
        QCOMPARE(panel.valueText(QStringLiteral("mean")), QStringLiteral("2.5"));

        // The big one, to the end: approximate quantiles marked with their bound.
        panel.showTensor(big, 0);
        QTRY_VERIFY_WITH_TIMEOUT(panel.currentStats() != nullptr, 60000);
        QCOMPARE(panel.currentStats()->elements, std::int64_t(20'000'000));
        QVERIFY(panel.currentStats()->quantiles.approximate);
        QVERIFY(panel.valueText(QStringLiteral("median")).startsWith(QStringLiteral("≈")));
        QVERIFY(panel.statusText().contains(QLatin1String("approximate")));
        QVERIFY(panel.statusText().contains(QStringLiteral("±")));  // the bound, once for all five
    }

    void destroyWhileComputing()
    {
        auto big = makeBigModel();
        auto* panel = new StatsPanel;
        panel->showTensor(big, 0);
        QVERIFY(panel->isComputing());
        delete panel;  // cancels and waits; no crash, no late delivery
        QTest::qWait(50);
    }

    void specialTensors_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("message");
        QTest::addColumn<int>("bars");
        QTest::addColumn<QString>("mean");
        QTest::newRow("bool") << "b"
                              << "Boolean" << 2 << QString();
        QTest::newRow("all NaN") << "all_nan"
                                 << "No finite values" << 0 << "—";
        QTest::newRow("empty") << "empty"
                               << "Empty tensor" << 0 << "—";
        QTest::newRow("constant") << "const"
                                  << "Constant" << 1 << "2.5";
        QTest::newRow("constant int") << "const_i"
                                      << "Constant" << 1 << "-3";
        QTest::newRow("single") << "one"
                                << "single value" << 1 << "0.125";
        QTest::newRow("0-d") << "scalar"
                             << "single value" << 1 << "-2.75";
        QTest::newRow("only inf") << "inf_only"
                                  << "No finite values" << 0 << "—";
        QTest::newRow("quantized") << "q8"
                                   << "dequantized" << -1 << QString();
    }

    void specialTensors()
    {
        QFETCH(QString, name);
        QFETCH(QString, message);
        QFETCH(int, bars);
        QFETCH(QString, mean);
        StatsPanel panel;
        panel.resize(720, 560);
        panel.showTensor(g_index, g_index->findEntry(name.toStdString()));
        QTRY_VERIFY(panel.currentStats() != nullptr);
        QVERIFY2(panel.histogram()->message().contains(message, Qt::CaseInsensitive),
                 qPrintable(panel.histogram()->message()));
        if (bars >= 0)
            QCOMPARE(panel.histogram()->barCount(), bars);
        if (!mean.isNull())
            QCOMPARE(panel.valueText(QStringLiteral("mean")), mean);
        // It renders.
        const QImage img = panel.grab().toImage();
        QVERIFY(!img.isNull());
        if (name == QLatin1String("b") || name == QLatin1String("all_nan") || name == QLatin1String("f32") ||
            name == QLatin1String("q8"))
            img.save(QStringLiteral("%1/statspanel_%2.png").arg(QStringLiteral(PARAMSCOPE_FIXTURES), name));
    }

    void renderAndSave()
    {
        StatsPanel panel;
        panel.resize(760, 600);
        panel.showTensor(g_index, entryOf("f32"));
        QTRY_VERIFY(panel.currentStats() != nullptr);
        QVERIFY(panel.grab().save(QStringLiteral(PARAMSCOPE_FIXTURES "/statspanel_f32.png")));
        panel.histogram()->setLogScale(true);
        QVERIFY(panel.grab().save(QStringLiteral(PARAMSCOPE_FIXTURES "/statspanel_f32_log.png")));
        panel.showTensor(g_index, entryOf("i16"));
        QTRY_VERIFY(panel.currentStats() != nullptr);
        QVERIFY(panel.grab().save(QStringLiteral(PARAMSCOPE_FIXTURES "/statspanel_i16.png")));
        panel.showTensor(g_index, entryOf("f32"));
        QVERIFY(panel.currentStats() != nullptr);  // cached

        // Zoom into the values, then back to the whole histogram; the counts axis never zooms.
        QCustomPlot* plot = panel.histogram()->plot();
        const QCPRange whole = plot->xAxis->range(), counts = plot->yAxis->range();
        QCOMPARE(plot->axisRect()->rangeZoom(), Qt::Horizontal);
        plot->xAxis->setRange(whole.center(), whole.size() / 10, Qt::AlignCenter);
        QVERIFY(plot->xAxis->range().size() < whole.size());
        QTest::mouseDClick(plot, Qt::LeftButton, Qt::NoModifier, plot->axisRect()->center());
        QCOMPARE(plot->xAxis->range(), whole);
        QCOMPARE(plot->yAxis->range(), counts);
        plot->xAxis->setRange(whole.center(), whole.size() / 10, Qt::AlignCenter);
        QTest::mousePress(plot, Qt::RightButton, Qt::NoModifier, plot->axisRect()->center());
        QCOMPARE(plot->xAxis->range(), whole);

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QString why;
        const QString png = dir.filePath(QStringLiteral("h.png")), pdf = dir.filePath(QStringLiteral("h.pdf"));
        QVERIFY2(panel.histogram()->saveImage(png, &why), qPrintable(why));
        QVERIFY2(panel.histogram()->saveImage(pdf, &why), qPrintable(why));
        QImage img(png);
        QVERIFY(!img.isNull());
        QVERIFY(img.width() >= 1200 && img.height() >= 675);  // a picture for a report
        // The tensor's name as its title: ink across the top band's middle, which an image
        // saved without a title lacks.
        const auto inkOnTop = [](const QImage& im) {
            const QColor bg = im.pixelColor(0, 0);
            int n = 0;
            for (int y = 0; y < 28; ++y)
                for (int x = im.width() / 4; x < im.width() * 3 / 4; ++x)
                    n += im.pixelColor(x, y) != bg;
            return n;
        };
        {
            const QString bare = dir.filePath(QStringLiteral("bare.png"));
            panel.histogram()->setTitle(QString());
            QVERIFY(panel.histogram()->saveImage(bare, &why));
            panel.histogram()->setTitle(QStringLiteral("f32"));
            const int titled = inkOnTop(img), untitled = inkOnTop(QImage(bare));
            QVERIFY2(titled > 40 && untitled * 4 < titled,
                     qPrintable(QStringLiteral("%1 vs %2").arg(titled).arg(untitled)));
            QFile::remove(bare);
        }
        // The mode any new file gets (the umask's), not the temporary file's 0600.
        const mode_t mask = ::umask(0);
        ::umask(mask);
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(png).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), int(0666 & ~mask));
        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.read(5) == "%PDF-");
        // Overwrite works, and nothing but the two files is left behind.
        QVERIFY(panel.histogram()->saveImage(png, &why));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 2);
        // Failures: a missing folder, a folder as the destination; nothing written.
        QVERIFY(!panel.histogram()->saveImage(dir.filePath(QStringLiteral("no/such/h.png")), &why));
        QVERIFY(why.contains(QLatin1String("h.png")));
        QVERIFY(!panel.histogram()->saveImage(dir.path(), &why));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 2);
    }

    void clearShowsNothing()
    {
        StatsPanel panel;
        panel.showTensor(g_index, entryOf("f32"));
        panel.clear();
        QVERIFY(!panel.isComputing());
        QTest::qWait(200);
        QVERIFY(panel.currentStats() == nullptr);
        QCOMPARE(panel.valueText(QStringLiteral("mean")), QStringLiteral("—"));
        QCOMPARE(panel.histogram()->barCount(), 0);
    }
};

QTEST_MAIN(TestStatsPanel)
#include "tst_statspanel.moc"
