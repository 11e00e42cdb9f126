// The heatmap's reduction (core/heatmap) against NumPy's block pooling on PyTorch-written
// matrices (make_heatmap_fixtures.py): exact blocks and ragged edges, a transposed view,
// float16 and bfloat16, NaN/Inf cells, a conv weight as dim 0 x the rest and as a chosen
// slice, a vector, on one thread and on several; a region; the colour scale; and the PNG
// paramscope-cli heatmap writes, decoded by Python's zlib, with the colours of known cells.
#include "formats/loader.h"
#include "heatmap/heatmap.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QJsonArray expectedCases()
{
    QFile f(fixture(QStringLiteral("heatmap_expected.json")));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).array();
}

/// The colours at pixel centres (x, y) of a PNG, decoded by Python (8-bit RGB, filter 0 rows).
std::vector<std::uint32_t> pngPixels(const QString& path, const std::vector<std::pair<int, int>>& at, int* w, int* h)
{
    QStringList pts;
    for (const auto& [x, y] : at)
        pts << QStringLiteral("(%1,%2)").arg(x).arg(y);
    const QString code = QStringLiteral(
                             "import struct, sys, zlib, json\n"
                             "d = open(sys.argv[1], 'rb').read()\n"
                             "assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
                             "p, idat, w, h = 8, b'', 0, 0\n"
                             "while p < len(d):\n"
                             "    n, t = struct.unpack('>I4s', d[p:p+8]); body = d[p+8:p+8+n]\n"
                             "    assert zlib.crc32(t + body) == struct.unpack('>I', d[p+8+n:p+12+n])[0]\n"
                             "    if t == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10]); "
                             "assert (depth, ctype) == (8, 2)\n"
                             "    if t == b'IDAT': idat += body\n"
                             "    p += 12 + n\n"
                             "raw = zlib.decompress(idat); stride = 1 + 3 * w\n"
                             "assert len(raw) == h * stride and all(raw[y * stride] == 0 for y in range(h))\n"
                             "px = lambda x, y: int.from_bytes(raw[y*stride+1+3*x:y*stride+4+3*x], 'big')\n"
                             "print(json.dumps([w, h] + [px(x, y) for x, y in [%1]]))\n")
                             .arg(pts.join(QLatin1Char(',')));
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON), {QStringLiteral("-c"), code, path});
    p.waitForFinished(60000);
    const QJsonArray a = QJsonDocument::fromJson(p.readAllStandardOutput()).array();
    if (a.size() < 2) {
        qWarning("%s", p.readAllStandardError().constData());
        return {};
    }
    *w = a[0].toInt();
    *h = a[1].toInt();
    std::vector<std::uint32_t> out;
    for (qsizetype i = 2; i < a.size(); ++i)
        out.push_back(std::uint32_t(a[i].toInteger()));
    return out;
}

}  // namespace

class TestHeatmap : public QObject {
    Q_OBJECT
    std::shared_ptr<const ModelIndex> m_index;
    QJsonArray m_cases;

    Result<Matrix> matrixFor(const QJsonObject& c)
    {
        const int entry = m_index->findEntry(c.value(QStringLiteral("name")).toString().toStdString());
        auto v = m_index->view(entry);
        if (!v)
            return Result<Matrix>::failure(v.error());
        MatrixChoice choice;
        const QJsonArray slice = c.value(QStringLiteral("slice")).toArray();
        if (!slice.isEmpty()) {
            choice.rowDim = slice[0].toInt();
            choice.colDim = slice[1].toInt();
            for (qsizetype k = 2; k < slice.size(); ++k)
                choice.fixed.push_back(slice[k].toInteger());
        }
        return matrixOf(v.value(), choice);
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto r = loadModel(fixture(QStringLiteral("heatmap.pt")));
        QVERIFY2(r, "heatmap.pt missing: run the fixtures_heatmap test first");
        m_index = r.value();
        m_cases = expectedCases();
        QVERIFY(m_cases.size() > 5);
    }

    void poolingEqualsNumpy_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("threads");
        QTest::addColumn<bool>("mean");
        for (int i = 0; i < int(m_cases.size()); ++i) {
            const QJsonObject c = m_cases[i].toObject();
            const QByteArray n = c.value(QStringLiteral("name")).toString().toUtf8();
            const int h = c.value(QStringLiteral("ask_height")).toInt(),
                      w = c.value(QStringLiteral("ask_width")).toInt();
            const char* slice = c.contains(QStringLiteral("slice"))   ? " slice"
                                : c.contains(QStringLiteral("minus")) ? " b-a"
                                                                      : "";
            for (int threads : {1, 3}) {
                QTest::addRow("%s%s %dx%d max|x|, %d thread(s)", n.constData(), slice, h, w, threads)
                    << i << threads << false;
                QTest::addRow("%s%s %dx%d mean, %d thread(s)", n.constData(), slice, h, w, threads)
                    << i << threads << true;
            }
        }
    }
    void poolingEqualsNumpy()
    {
        QFETCH(int, index);
        QFETCH(int, threads);
        QFETCH(bool, mean);
        const QJsonObject c = m_cases[index].toObject();
        auto m = matrixFor(c);
        QVERIFY2(m, qPrintable(m.error()));
        QCOMPARE(m->rows, c.value(QStringLiteral("rows")).toInteger());
        QCOMPARE(m->cols, c.value(QStringLiteral("cols")).toInteger());
        HeatmapOptions o;
        o.height = c.value(QStringLiteral("ask_height")).toInt();
        o.width = c.value(QStringLiteral("ask_width")).toInt();
        o.threads = threads;
        o.pooling = mean ? Pooling::Mean : Pooling::MaxAbs;
        Result<Heatmap> h = Result<Heatmap>::failure(QString());
        if (c.contains(QStringLiteral("minus"))) {
            // The heatmap of a comparison's b - a.
            QJsonObject other = c;
            other.insert(QStringLiteral("name"), c.value(QStringLiteral("minus")));
            auto b = matrixFor(other);
            QVERIFY(b);
            h = reduceDifference(m.value(), b.value(), o);
        } else {
            h = reduceMatrix(m.value(), o);
        }
        QVERIFY2(h, qPrintable(h.error()));
        QCOMPARE(h->height, c.value(QStringLiteral("height")).toInt());
        QCOMPARE(h->width, c.value(QStringLiteral("width")).toInt());
        const QJsonArray values = c.value(mean ? QStringLiteral("mean") : QStringLiteral("maxabs")).toArray();
        const QJsonArray flags = c.value(QStringLiteral("flags")).toArray();
        QCOMPARE(qsizetype(h->values.size()), values.size());
        for (int k = 0; k < int(values.size()); ++k) {
            const int i = k / h->width, j = k % h->width;
            QCOMPARE(int(h->flag(i, j)), flags[k].toInt());
            if (values[k].isNull()) {
                QVERIFY2(std::isnan(h->value(i, j)), qPrintable(QStringLiteral("cell %1,%2").arg(i).arg(j)));
                continue;
            }
            const double want = values[k].toDouble(), got = h->value(i, j);
            // max |x| picks an element: exactly NumPy's; a mean may round differently.
            QVERIFY2(mean ? std::abs(got - want) <= 1e-12 * std::max(1.0, std::abs(want)) : got == want,
                     qPrintable(QStringLiteral("cell %1,%2: %3, NumPy %4")
                                    .arg(i)
                                    .arg(j)
                                    .arg(got, 0, 'g', 17)
                                    .arg(want, 0, 'g', 17)));
        }
        const QJsonArray rows = c.value(QStringLiteral("row_norms")).toArray(),
                         cols = c.value(QStringLiteral("col_norms")).toArray();
        QCOMPARE(qsizetype(h->rowNorms.size()), rows.size());
        QCOMPARE(qsizetype(h->colNorms.size()), cols.size());
        for (qsizetype r = 0; r < rows.size(); ++r)
            QVERIFY(std::abs(h->rowNorms[size_t(r)] - rows[r].toDouble()) <= 1e-9 * std::max(1.0, rows[r].toDouble()));
        for (qsizetype k = 0; k < cols.size(); ++k)
            QVERIFY(std::abs(h->colNorms[size_t(k)] - cols[k].toDouble()) <= 1e-9 * std::max(1.0, cols[k].toDouble()));
    }

    // A region at full resolution: each cell is the element itself.
    void regionCellsAreItsElements()
    {
        const int entry = m_index->findEntry("exact");
        auto m = matrixOf(m_index->view(entry).value());
        QVERIFY(m);
        HeatmapOptions full;
        full.width = 48;
        full.height = 64;
        auto all = reduceMatrix(m.value(), full);
        HeatmapOptions o;
        o.rowBegin = 10;
        o.rowEnd = 40;
        o.colBegin = 5;
        o.colEnd = 30;
        auto part = reduceMatrix(m.value(), o);
        QVERIFY(all && part);
        QCOMPARE(part->height, 30);
        QCOMPARE(part->width, 25);
        for (int i = 0; i < 30; ++i)
            for (int j = 0; j < 25; ++j)
                QCOMPARE(part->value(i, j), all->value(10 + i, 5 + j));
        QCOMPARE(part->cellRow(10), 0);
        QCOMPARE(part->cellRow(9), -1);
        QCOMPARE(part->cellCol(29), 24);
        QCOMPARE(part->cellRowBegin(3), std::int64_t(13));
        QVERIFY(!reduceMatrix(m.value(), [] {
            HeatmapOptions e;
            e.rowBegin = 5;
            e.rowEnd = 5;
            return e;
        }()));
    }

    void matrixChoices()
    {
        auto conv = m_index->view(m_index->findEntry("conv"));
        QVERIFY(conv);
        MatrixChoice bad;
        bad.rowDim = 0;
        bad.colDim = 0;
        QVERIFY(!matrixOf(conv.value(), bad));
        MatrixChoice outside;
        outside.rowDim = 2;
        outside.colDim = 3;
        outside.fixed = {8, 0, 0, 0};  // dimension 0 has 8 entries: index 8 is outside
        QVERIFY(!matrixOf(conv.value(), outside));
        auto vec = matrixOf(m_index->view(m_index->findEntry("vector")).value());
        QVERIFY(vec);
        QCOMPARE(vec->rows, std::int64_t(1));
        QCOMPARE(vec->cols, std::int64_t(100));
    }

    void colourScale()
    {
        Heatmap h;
        h.width = 3;
        h.height = 1;
        h.values = {-2.0, 0.0, 1.0};
        h.flags = {0, 0, 0};
        h.min = -2;
        h.max = 1;
        h.hasFinite = true;
        const ColorLimits l = colorLimits(h, 0, 1);
        QCOMPARE(l.scale, ColorScale::Diverging);
        QCOMPARE(l.low, -2.0);
        QCOMPARE(l.high, 2.0);  // symmetric about 0
        QCOMPARE(colorOf(0.0, l), std::uint32_t(0xf7f7f7));
        QCOMPARE(colorOf(-2.0, l), std::uint32_t(0x3b4cc0));
        QCOMPARE(colorOf(5.0, l), std::uint32_t(0xb40426));  // clamped
        QCOMPARE(colorOf(std::nan(""), l), kNaNColor);
        h.values = {0.0, 0.5, 1.0};
        h.min = 0;
        const ColorLimits s = colorLimits(h, 0, 1);
        QCOMPARE(s.scale, ColorScale::Sequential);
        QCOMPARE(colorOf(0.0, s), std::uint32_t(0x440154));
        QCOMPARE(colorOf(1.0, s), std::uint32_t(0xfde725));
        // Clamped to quantiles: one outlier does not set the limits.
        Heatmap o = h;
        o.width = 101;
        o.values.assign(101, 1.0);
        o.flags.assign(101, 0);
        o.values[50] = 1000;
        o.max = 1000;
        QCOMPARE(colorLimits(o, 0.01, 0.99).high, 1000.0);  // p1 = p99: the extremes instead
        o.values[49] = 0.5;
        o.min = 0.5;
        for (int k = 0; k < 20; ++k)
            o.values[size_t(k)] = 0.9 + 0.001 * k;
        QVERIFY(colorLimits(o, 0.01, 0.99).high < 2);  // one outlier does not set the limits
        QCOMPARE(colorLimits(o, 0, 1).high, 1000.0);
    }

    void cliWritesThePng()
    {
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("nonfinite.png"));
        const CliRun r = runCli({QStringLiteral("heatmap"), fixture(QStringLiteral("heatmap.pt")),
                                 QStringLiteral("nonfinite"), QStringLiteral("-o"), png, QStringLiteral("--size"),
                                 QStringLiteral("5x5"), QStringLiteral("--clamp"), QStringLiteral("minmax")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto m = matrixOf(m_index->view(m_index->findEntry("nonfinite")).value());
        HeatmapOptions o;
        o.width = o.height = 5;
        auto h = reduceMatrix(m.value(), o);
        QVERIFY(h);
        // The largest |value| among the unflagged cells: the end of the scale of its sign.
        int bi = -1, bj = -1;
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j)
                if (!h->flag(i, j) && (bi < 0 || std::abs(h->value(i, j)) > std::abs(h->value(bi, bj)))) {
                    bi = i;
                    bj = j;
                }
        const int cell = 51;  // 5 cells scaled up to 255 pixels
        auto centre = [&](int i, int j) { return std::pair<int, int>{j * cell + cell / 2, i * cell + cell / 2}; };
        int w = 0, hh = 0;
        const auto px =
            pngPixels(png, {centre(0, 0), centre(0, 4), centre(2, 3), centre(4, 0), centre(bi, bj)}, &w, &hh);
        QCOMPARE(int(px.size()), 5);
        QCOMPARE(w, 255);
        QCOMPARE(hh, 255);
        QCOMPARE(px[0], kNaNColor);     // NaN at (3, 3)
        QCOMPARE(px[1], kNaNColor);     // a cell of NaN only
        QCOMPARE(px[2], kPosInfColor);  // +Inf at (10, 15)
        QCOMPARE(px[3], kNegInfColor);  // -Inf at (18, 2)
        QCOMPARE(px[4], h->value(bi, bj) > 0 ? std::uint32_t(0xb40426) : std::uint32_t(0x3b4cc0));

        QCOMPARE(
            runCli({QStringLiteral("heatmap"), fixture(QStringLiteral("heatmap.pt")), QStringLiteral("exact")}).code,
            2);
        QCOMPARE(runCli({QStringLiteral("heatmap"), fixture(QStringLiteral("heatmap.pt")), QStringLiteral("nope"),
                         QStringLiteral("-o"), png})
                     .code,
                 1);
        QCOMPARE(runCli({QStringLiteral("heatmap"), fixture(QStringLiteral("heatmap.pt")), QStringLiteral("exact"),
                         QStringLiteral("-o"), png, QStringLiteral("--size"), QStringLiteral("0x5")})
                     .code,
                 2);
        QCOMPARE(runCli({QStringLiteral("heatmap"), fixture(QStringLiteral("heatmap.pt")), QStringLiteral("conv"),
                         QStringLiteral("-o"), png, QStringLiteral("--slice"), QStringLiteral("0,1,0,0,1,2")})
                     .code,
                 0);
    }
};

QTEST_GUILESS_MAIN(TestHeatmap)
#include "tst_heatmap.moc"
