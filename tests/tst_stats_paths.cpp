// Statistics on their larger paths, against independent truth: above the exact-quantile
// limit (approximate quantiles within their stated bound, histogram counts against a direct
// count), extreme ranges, the AVX2 kernel set against the baseline one (byte-identical
// output of paramscope-cli), and int64/uint64 beyond 2^53 against Python's exact integers
// (tests/fixtures/make_stats_fixtures.py). Pass 1's fine cells (float32 above the limit)
// against pass 3's, which they replace when their windows hold every order statistic.
#include "formats/loader.h"
#include "stats/stats.h"
#include "stats/wide_p.h"  // FineCellsProbe: which way the fine cells were counted
#include "statstestutil.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <random>

using namespace paramscope;
using namespace paramscope::test;

namespace {

/// The values of one approximateQuantiles row (before rounding to float32).
std::vector<double> approximateData(const QString& data, DType dt)
{
    std::mt19937_64 rng(7);
    std::normal_distribution<double> nd(0.5, 3.0);
    std::vector<double> vals;
    if (data == QLatin1String("normal") || data == QLatin1String("strided")) {
        vals.resize(300000);
        for (auto& x : vals)
            x = dt == DType::Int64 ? std::round(nd(rng) * 100) : nd(rng);
        if (dt != DType::Int64)
            vals[5] = qQNaN();
    } else if (data == QLatin1String("edges")) {
        // Multiples of 1/64 (cell edges of every grid this range can get: cells of
        // 2^-9 here) and their neighbours one ulp down and up, in a scrambled order.
        for (int k = -5000; k <= 5000; ++k) {
            const double x = k / 64.0;
            if (dt == DType::Float32)
                vals.insert(vals.end(),
                            {double(std::nextafter(float(x), -1e9f)), x, double(std::nextafter(float(x), 1e9f))});
            else
                vals.insert(vals.end(), {std::nextafter(x, -1e9), x, std::nextafter(x, 1e9)});
        }
        std::shuffle(vals.begin(), vals.end(), rng);
        vals.insert(vals.end(), {qInf(), -qInf(), qQNaN()});
    } else if (data == QLatin1String("tiny")) {
        // Cells ~2^980 wide: x * 2^-980 underflows to -0 for the tiny negatives, which
        // still belong to the cell left of zero.
        vals = {-1e300, 1e300, -5e-324, 5e-324, -0.0, 0.0};
        std::uniform_real_distribution<double> u(-1.0, 1.0);
        for (int i = 0; i < 100000; ++i)
            vals.push_back(u(rng) * 1e-30);
        for (int i = 0; i < 1000; ++i)
            vals.push_back(u(rng) * 1e300);
    } else if (data == QLatin1String("narrow32")) {
        // 1.6e7 + k: cells of 2^-10 there; x * 2^10 passes 2^30, so float32 data takes
        // the double loop.
        for (int i = 0; i < 100000; ++i)
            vals.push_back(1.6e7 + double(i % 101));
    } else if (data == QLatin1String("wide32")) {
        // Range ~2e30: cells wider than 1 (no float32 loop), values of every magnitude.
        std::uniform_real_distribution<double> u(-30.0, 30.0);
        for (int i = 0; i < 100000; ++i)
            vals.push_back(double(float((i % 2 ? 1 : -1) * std::pow(10.0, u(rng)))));
    } else if (data == QLatin1String("cauchy")) {
        std::cauchy_distribution<double> cd(0.0, 1.0);
        vals.resize(2000000);
        for (auto& x : vals)
            x = cd(rng);
    } else if (data == QLatin1String("tinymin")) {
        std::uniform_real_distribution<double> u(0.0, 1.0);
        vals.resize(2000000);
        for (auto& x : vals)
            x = u(rng);
        vals[100] = 1e300;  // runs of the sample start at 122, 366, ...
        vals[101] = -1e-30;
    } else if (data == QLatin1String("huge")) {
        std::uniform_real_distribution<double> u(-1.0, 1.0);
        vals.resize(300000);
        for (auto& x : vals)
            x = u(rng) * 1e304;
        vals[100] = 8e304;  // outside what the sample sees: pass 2 counts coarse cells
        vals[101] = -8e304;
    } else if (data == QLatin1String("nogrid")) {
        // 2e15 + k/4 (every double there), range 30000: cells of 2^-2 would need cell
        // numbers beyond 2^52.
        std::uniform_int_distribution<int> u(0, 120000);
        for (int i = 0; i < 100000; ++i)
            vals.push_back(2e15 + double(u(rng)) / 4);
    }
    return vals;
}

}  // namespace

class TestStatsPaths : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // 0..N-1 over several chunks: closed forms.
    void integerRamp()
    {
        const std::int64_t n = 1000003;
        std::vector<std::int32_t> data(static_cast<size_t>(n));
        for (std::int64_t i = 0; i < n; ++i)
            data[size_t(i)] = std::int32_t(i);
        const auto ov = makeView(data, DType::Int32);
        auto r = computeStats(ov.view);
        QVERIFY(r.ok());
        const auto& s = r.value();
        const double N = double(n);
        QCOMPARE(s.finite, n);
        QCOMPARE(s.zeros, std::int64_t(1));
        QCOMPARE(s.min, 0.0);
        QCOMPARE(s.max, N - 1);
        QVERIFY(close(s.mean, (N - 1) / 2, 1e-15));
        QVERIFY(close(s.std, std::sqrt((N * N - 1) / 12), 1e-12));
        QVERIFY(close(s.l1, N * (N - 1) / 2, 1e-15));
        QVERIFY(close(s.l2, std::sqrt((N - 1) * N * (2 * N - 1) / 6), 1e-14));
        for (size_t i = 0; i < 5; ++i)
            QVERIFY(close(s.quantiles.values[i], StatsQuantiles::kLevels[i] * (N - 1), 1e-15));
        // Integer-aligned bins, each a whole number of integers wide, covering every value.
        QVERIFY(s.histogram.integerAligned);
        QCOMPARE(s.histogram.edges.front(), -0.5);
        const double width = s.histogram.edges[1] - s.histogram.edges[0];
        QCOMPARE(width, std::round(width));
        QVERIFY(s.histogram.edges.back() >= N - 0.5);
        QVERIFY(s.histogram.bins() <= kMaxAutoBins);
        for (int i = 0; i + 1 < s.histogram.bins(); ++i)
            QCOMPARE(s.histogram.counts[size_t(i)], std::int64_t(width));
        std::int64_t total = 0;
        for (auto c : s.histogram.counts)
            total += c;
        QCOMPARE(total, n);
        // Freedman–Diaconis: width 2*IQR/n^(1/3), rounded up to whole integers.
        QCOMPARE(width, std::ceil(2 * (s.quantiles.p75() - s.quantiles.p25()) / std::cbrt(N)));
    }

    // Above the exact limit: approximate quantiles within their stated bound, and
    // histogram counts equal to a direct count with the same edges. The rows cover the
    // float32 loop, the double loop (other dtypes, strided views, float32 beyond what
    // float arithmetic holds exactly), values sitting exactly on cell edges and one ulp
    // either side, tiny negatives under a huge range (products that underflow to -0), and
    // a range too narrow for its magnitude to have a grid (the edge-comparing fallback).
    void approximateQuantiles_data()
    {
        QTest::addColumn<QString>("data");
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("bins");
        QTest::addColumn<bool>("grid");  // an automatic float histogram on the power-of-two grid
        QTest::newRow("float32 auto") << "normal" << int(DType::Float32) << 0 << true;
        QTest::newRow("float32 bins=10") << "normal" << int(DType::Float32) << 10 << false;
        QTest::newRow("int64 auto") << "normal" << int(DType::Int64) << 0 << false;
        QTest::newRow("float64 auto") << "normal" << int(DType::Float64) << 0 << true;
        QTest::newRow("float64 bins=3") << "normal" << int(DType::Float64) << 3 << false;
        QTest::newRow("float32 strided") << "strided" << int(DType::Float32) << 0 << true;
        QTest::newRow("float32 on cell edges") << "edges" << int(DType::Float32) << 0 << true;
        QTest::newRow("float64 on cell edges") << "edges" << int(DType::Float64) << 0 << true;
        QTest::newRow("float64 tiny negatives, huge range") << "tiny" << int(DType::Float64) << 0 << true;
        QTest::newRow("float32 narrow range, large magnitude") << "narrow32" << int(DType::Float32) << 0 << true;
        QTest::newRow("float32 wide range") << "wide32" << int(DType::Float32) << 0 << true;
        QTest::newRow("float64 no grid (range narrow for magnitude)") << "nogrid" << int(DType::Float64) << 0 << false;
        // Heavy tails: the sampled range misses the extremes by far, so pass 1's coarse
        // cells cannot hold every value and pass 2 counts them again.
        QTest::newRow("float32 Cauchy (sample misses the tails)") << "cauchy" << int(DType::Float32) << 0 << true;
        // The sample sees only [0, 1); the maximum (1e300) and a tiny negative minimum sit
        // between sampled runs, so pass 2 counts coarse cells over [min, max], where
        // min * 2^-e underflows to -0.
        QTest::newRow("float64 fallback with an underflowing minimum") << "tinymin" << int(DType::Float64) << 0 << true;
        // A range of ~1e305: cells of 2^996 and more, near the top of the double range.
        QTest::newRow("float64 range near the double limit") << "huge" << int(DType::Float64) << 0 << true;
    }

    void approximateQuantiles()
    {
        QFETCH(QString, data);
        QFETCH(int, dtype);
        QFETCH(int, bins);
        QFETCH(bool, grid);
        const DType dt = DType(dtype);
        std::vector<double> vals = approximateData(data, dt);
        if (dt == DType::Float32)
            for (auto& x : vals)
                x = double(float(x));
        const std::int64_t n = std::int64_t(vals.size());
        OwnedView ov = dt == DType::Float32 ? makeView(std::vector<float>(vals.begin(), vals.end()), dt)
                       : dt == DType::Int64 ? makeView(std::vector<std::int64_t>(vals.begin(), vals.end()), dt)
                                            : makeView(vals, dt);
        if (data == QLatin1String("strided")) {
            // Every other value of a 2x longer storage: the values are vals, in order.
            std::vector<float> twice(vals.size() * 2, 123.0f);
            for (size_t i = 0; i < vals.size(); ++i)
                twice[2 * i] = float(vals[i]);
            ov = makeView(twice, dt, {n}, {2});
        }
        StatsOptions exact;
        exact.bins = bins;
        StatsOptions approx = exact;
        approx.exactQuantileLimit = 1000;
        auto a = computeStats(ov.view, exact);
        auto b = computeStats(ov.view, approx);
        QVERIFY(a.ok() && b.ok());
        QVERIFY(!a->quantiles.approximate);
        QVERIFY(b->quantiles.approximate);
        QVERIFY(b->quantiles.errorBound > 0);
        // Half of a 2^-17 slice of the range, plus one rounding of the edges (which shows
        // only when a slice is a few ulps wide, as in the "nogrid" row).
        const double top = std::max(std::fabs(b->min), std::fabs(b->max));
        QVERIFY(b->quantiles.errorBound <=
                (b->max - b->min) / 131072 * (1 + 1e-9) + (std::nextafter(top, qInf()) - top));
        for (size_t i = 0; i < 5; ++i)
            QVERIFY2(std::fabs(a->quantiles.values[i] - b->quantiles.values[i]) <= b->quantiles.errorBound * (1 + 1e-9),
                     qPrintable(QStringLiteral("q%1: exact %2 approx %3 bound %4")
                                    .arg(i)
                                    .arg(num(a->quantiles.values[i]), num(b->quantiles.values[i]),
                                         num(b->quantiles.errorBound))));
        QCOMPARE(a->mean, b->mean);
        std::int64_t finite = 0;
        for (double x : vals)
            finite += std::isfinite(x) ? 1 : 0;
        QCOMPARE(b->finite, finite);
        // Counts against a direct count with the reported edges (the last bin closed).
        const auto& e = b->histogram.edges;
        QVERIFY(e.front() <= b->min && b->max <= e.back());
        std::vector<std::int64_t> direct(e.size() - 1, 0);
        for (double x : vals) {
            if (!std::isfinite(x))
                continue;
            size_t k = size_t(std::upper_bound(e.begin(), e.end(), x) - e.begin());
            k = std::min(k, e.size() - 1) - 1;
            ++direct[k];
        }
        QVERIFY(b->histogram.counts == direct);
        if (bins > 0 && dt != DType::Int64)
            QCOMPARE(b->histogram.bins(), bins);
        const int nb = b->histogram.bins();
        if (grid) {
            // Bins a power of two wide at multiples of their width, the first holding min
            // and the last max; the width is the power of two nearest the Freedman–Diaconis
            // width unless that gave more than kMaxAutoBins bins or bins narrower than a
            // coarse cell (cells are under 1/1024 of the range wide).
            QVERIFY(nb <= kMaxAutoBins);
            const double w = e[1] - e[0];
            int ew = 0;
            QCOMPARE(std::frexp(w, &ew), 0.5);
            --ew;  // w = 2^ew
            for (size_t i = 0; i < e.size(); ++i)
                QCOMPARE(e[i], std::ldexp(std::ldexp(e[0], -ew) + double(i), ew));
            QCOMPARE(std::floor(std::ldexp(e[0], -ew)), std::ldexp(e[0], -ew));
            QVERIFY(b->min < e[1] && e[size_t(nb) - 1] <= b->max);
            const double range = b->max - b->min;
            const int fd = freedmanDiaconisBins(b->min, b->max, b->quantiles.p75() - b->quantiles.p25(), b->finite);
            const int efd = int(std::lround(std::log2(range / fd)));
            QVERIFY2(ew >= efd, qPrintable(QStringLiteral("2^%1 vs FD 2^%2").arg(ew).arg(efd)));
            if (ew > efd) {
                // Widened: half the width would have been too many bins, or too narrow.
                const double half = std::ldexp(1.0, ew - 1);
                QVERIFY(std::floor(b->max / half) - std::floor(b->min / half) + 1 > kMaxAutoBins ||
                        half < range / 1024);
            }
        } else if (bins == 0 && dt != DType::Int64) {
            // No grid: a power-of-two bin count over exactly [min, max].
            QCOMPARE(nb & (nb - 1), 0);
            QCOMPARE(e.front(), b->min);
            QCOMPARE(e.back(), b->max);
        }
    }

    void unsignedTypes()
    {
        auto r = computeStats(makeView(std::vector<std::uint16_t>{0, 65535, 1, 2}, DType::UInt16).view);
        QVERIFY(r.ok());
        QCOMPARE(r->max, 65535.0);
        QCOMPARE(r->mean, 16384.5);
        r = computeStats(makeView(std::vector<std::uint32_t>{0, 4294967295u, 7}, DType::UInt32).view);
        QVERIFY(r.ok());
        QCOMPARE(r->max, 4294967295.0);
        QCOMPARE(r->quantiles.median(), 7.0);
        r = computeStats(makeView(std::vector<std::uint64_t>{0, std::uint64_t(1) << 63, 5}, DType::UInt64).view);
        QVERIFY(r.ok());
        QCOMPARE(r->max, std::ldexp(1.0, 63));
        QCOMPARE(r->zeros, std::int64_t(1));
        std::int64_t total = 0;
        for (auto c : r->histogram.counts)
            total += c;
        QCOMPARE(total, std::int64_t(3));
        QVERIFY(r->histogram.bins() <= kMaxAutoBins);
    }

    // max - min overflows a double: binning must still be exact and fast (no linear walks
    // over the edges), on the exact and on the fine-histogram path.
    void extremeRange()
    {
        const double big = 1.7e308;
        std::vector<double> data{-big, big, 0, 1, qQNaN()};
        for (int i = 0; i < 5000; ++i)
            data.push_back(double(i) * 1e304);
        const auto ov = makeView(data, DType::Float64);
        for (std::int64_t limit : {std::int64_t(1) << 24, std::int64_t(1)}) {
            StatsOptions o;
            o.exactQuantileLimit = limit;
            auto r = computeStats(ov.view, o);
            QVERIFY(r.ok());
            QCOMPARE(r->finite, std::int64_t(5004));
            QCOMPARE(r->min, -big);
            QCOMPARE(r->max, big);
            QCOMPARE(r->histogram.edges.front(), -big);
            QCOMPARE(r->histogram.edges.back(), big);
            std::int64_t total = 0;
            for (auto c : r->histogram.counts)
                total += c;
            QCOMPARE(total, r->finite);
            QVERIFY(std::isinf(r->l2));  // the sum of squares overflows: reported as +Inf, never NaN
            QVERIFY(!std::isnan(r->std));
        }
    }

    // Above the exact limit, float32 counts the fine cells of the quantiles in pass 1,
    // inside windows a sample predicts; when the quantiles fall outside them, pass 3 counts
    // them as before. Either way the results are those of pass 3 alone, bit for bit, and
    // within their bound of the exact quantiles.
    void pass1FineCells_data()
    {
        QTest::addColumn<QString>("data");
        QTest::addColumn<int>("dtype");
        QTest::addColumn<bool>("fromPass1");  // expected: pass 3 skipped
        const int f32 = int(DType::Float32);
        QTest::newRow("normal") << "normal" << f32 << true;
        QTest::newRow("normal, many chunks") << "big" << f32 << true;
        QTest::newRow("just above the limit") << "tiny" << f32 << true;
        QTest::newRow("ties: eight values") << "ties" << f32 << true;
        QTest::newRow("NaN and Inf") << "nonfinite" << f32 << true;
        QTest::newRow("sorted") << "sorted" << f32 << true;
        QTest::newRow("all negative") << "negative" << f32 << true;
        // Cells 2^-140 wide: float32 arithmetic cannot find them, so pass 3 does.
        QTest::newRow("subnormal: pass 3") << "subnormal" << f32 << false;
        QTest::newRow("strided x[::2]") << "strided" << f32 << true;
        QTest::newRow("transposed") << "transposed" << f32 << true;
        QTest::newRow("sample misleads the windows") << "misleading" << f32 << false;
        QTest::newRow("float64: pass 3") << "normal" << int(DType::Float64) << false;
    }
    void pass1FineCells()
    {
        QFETCH(QString, data);
        QFETCH(int, dtype);
        QFETCH(bool, fromPass1);
        const DType dt = DType(dtype);
        std::mt19937_64 rng(23);
        std::normal_distribution<double> nd(-2.0, 5.0);
        std::vector<double> vals(data == QLatin1String("big")    ? 3000017
                                 : data == QLatin1String("tiny") ? 1001
                                                                 : 200003);
        std::vector<std::int64_t> shape, strides;
        for (auto& x : vals)
            x = nd(rng);
        if (data == QLatin1String("ties")) {
            for (auto& x : vals)
                x = double(std::int64_t(std::fabs(x)) % 8) * 0.5;
        } else if (data == QLatin1String("nonfinite")) {
            for (size_t i = 0; i < vals.size(); i += 97)
                vals[i] = i % 3 == 0 ? qQNaN() : i % 3 == 1 ? qInf() : -qInf();
        } else if (data == QLatin1String("sorted")) {
            std::sort(vals.begin(), vals.end());
        } else if (data == QLatin1String("negative")) {
            for (auto& x : vals)
                x = -std::fabs(x) - 1000.0;
        } else if (data == QLatin1String("subnormal")) {
            for (auto& x : vals)
                x = x * 1e-39;  // float32 subnormals
        } else if (data == QLatin1String("misleading")) {
            // The sample reads runs of 16 at (i + 0.5) * 64 for i < 8192: those hold values
            // over [0, 1], so its range covers every value (pass 1's coarse cells are kept),
            // but all the others lie in [0, 0.1], far from where it puts the quantiles.
            vals.resize(8192 * 64 + 16);
            std::uniform_real_distribution<double> u(0.0, 1.0);
            for (size_t j = 0; j < vals.size(); ++j)
                vals[j] = j % 64 >= 32 && j % 64 < 48 ? u(rng) : u(rng) * 0.1;
        }
        if (dt == DType::Float32)
            for (auto& x : vals)
                x = double(float(x));
        OwnedView ov =
            dt == DType::Float32 ? makeView(std::vector<float>(vals.begin(), vals.end()), dt) : makeView(vals, dt);
        if (data == QLatin1String("strided")) {
            std::vector<float> twice(vals.size() * 2, 1e30f);  // outside every window
            for (size_t i = 0; i < vals.size(); ++i)
                twice[2 * i] = float(vals[i]);
            ov = makeView(twice, dt, {std::int64_t(vals.size())}, {2});
        } else if (data == QLatin1String("transposed")) {
            vals.resize(400 * 500);
            ov = makeView(std::vector<float>(vals.begin(), vals.end()), dt, {500, 400}, {1, 500});
        }
        StatsOptions o;
        o.exactQuantileLimit = 1000;
        stats_internal::FineCellsProbe& probe = stats_internal::fineCellsProbe();
        probe.noPass1Fine = false;
        const std::int64_t before1 = probe.fromPass1, before3 = probe.pass3;
        auto a = computeStats(ov.view, o);
        QVERIFY(a.ok());
        QCOMPARE(probe.fromPass1 - before1, fromPass1 ? 1 : 0);
        QCOMPARE(probe.pass3 - before3, fromPass1 ? 0 : 1);
        probe.noPass1Fine = true;
        auto b = computeStats(ov.view, o);
        probe.noPass1Fine = false;
        QVERIFY(b.ok());
        QCOMPARE(probe.pass3 - before3, fromPass1 ? 1 : 2);
        QVERIFY(a->quantiles.approximate && b->quantiles.approximate);
        for (size_t i = 0; i < 5; ++i)
            QCOMPARE(num(a->quantiles.values[i]), num(b->quantiles.values[i]));
        QCOMPARE(num(a->quantiles.errorBound), num(b->quantiles.errorBound));
        QCOMPARE(a->histogram.edges, b->histogram.edges);
        QCOMPARE(a->histogram.counts, b->histogram.counts);
        QCOMPARE(a->finite, b->finite);
        QCOMPARE(a->nan, b->nan);
        QCOMPARE(num(a->mean), num(b->mean));
        QCOMPARE(num(a->std), num(b->std));
        // Against the exact quantiles of the same view.
        o.exactQuantileLimit = std::int64_t(1) << 24;
        auto exact = computeStats(ov.view, o);
        QVERIFY(exact.ok() && !exact->quantiles.approximate);
        for (size_t i = 0; i < 5; ++i)
            QVERIFY2(
                std::fabs(exact->quantiles.values[i] - a->quantiles.values[i]) <= a->quantiles.errorBound * (1 + 1e-9),
                qPrintable(QStringLiteral("q%1: exact %2 approx %3 bound %4")
                               .arg(i)
                               .arg(num(exact->quantiles.values[i]), num(a->quantiles.values[i]),
                                    num(a->quantiles.errorBound))));
    }

    // The AVX2 loops and the baseline ones (what a machine without AVX2 runs) must give
    // byte-identical results, on the grid path (above 2^24 values) and the exact one.
    void baselineLoopsAgree()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("big.safetensors"));
        std::mt19937_64 rng(11);
        std::normal_distribution<float> nd(0.25f, 2.0f);
        std::vector<float> big((std::size_t(1) << 24) + 4097);
        for (auto& x : big)
            x = nd(rng);
        big[17] = qQNaN();
        big[99] = float(qInf());
        std::normal_distribution<double> ndd(0.25, 2.0);  // full 53-bit mantissas: sums round
        std::vector<double> mid(300001);
        for (auto& x : mid)
            x = ndd(rng);
        mid[5] = -qInf();
        // safetensors: 8-byte header length, JSON header, then the two tensors' bytes.
        const qint64 bigBytes = qint64(big.size() * 4), midBytes = qint64(mid.size() * 8);
        QByteArray header = QStringLiteral(
                                "{\"big\":{\"dtype\":\"F32\",\"shape\":[%1],\"data_offsets\":[0,%2]},"
                                "\"mid\":{\"dtype\":\"F64\",\"shape\":[%3],\"data_offsets\":[%2,%4]}}")
                                .arg(big.size())
                                .arg(bigBytes)
                                .arg(mid.size())
                                .arg(bigBytes + midBytes)
                                .toUtf8();
        while (header.size() % 8)
            header.append(' ');
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const quint64 len = quint64(header.size());
        char lenBytes[8];
        for (int i = 0; i < 8; ++i)
            lenBytes[i] = char((len >> (8 * i)) & 0xff);
        f.write(lenBytes, 8);
        f.write(header);
        f.write(reinterpret_cast<const char*>(big.data()), bigBytes);
        f.write(reinterpret_cast<const char*>(mid.data()), midBytes);
        f.close();
        for (const char* name : {"big", "mid"}) {
            for (const QStringList& extra :
                 {QStringList{}, QStringList{QStringLiteral("--bins"), QStringLiteral("37")}}) {
                const QStringList args =
                    QStringList{QStringLiteral("stats"), path, QLatin1String(name), QStringLiteral("--json")} + extra;
                const test::CliRun fast = test::runCli(args);
                const test::CliRun base = test::runCli(args, {QStringLiteral("PARAMSCOPE_STATS_NO_AVX2=1")});
                QVERIFY2(fast.code == 0, qPrintable(fast.err));
                QVERIFY2(base.code == 0, qPrintable(base.err));
                QCOMPARE(base.out, fast.out);
                const QJsonObject o = QJsonDocument::fromJson(fast.out.toUtf8()).object();
                QVERIFY(!o.isEmpty());
            }
        }
    }

    // int64 / uint64 beyond 2^53, against Python's exact integers
    // (tests/fixtures/make_stats_fixtures.py: stats_int64.pt written by torch.save,
    // stats_uint64.safetensors by hand). Exact values are compared as decimal text.
    void exactIntegers_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<qint64>("limit");  // exactQuantileLimit
        const QJsonObject all = test::readJson(test::fixture(QStringLiteral("stats_int64_expected.json")));
        QVERIFY(all.size() >= 15);
        for (const QString& k : all.keys()) {
            QTest::newRow(qPrintable(k)) << k << (qint64(1) << 24);
            QTest::newRow(qPrintable(k + QStringLiteral(" above the exact limit"))) << k << qint64(1);
        }
    }

    void exactIntegers()
    {
        QFETCH(QString, key);
        QFETCH(qint64, limit);
        const QJsonObject e =
            test::readJson(test::fixture(QStringLiteral("stats_int64_expected.json"))).value(key).toObject();
        QVERIFY(!e.isEmpty());
        const bool u = e.value(QLatin1String("dtype")).toString() == QLatin1String("uint64");
        LoadOptions lo;
        lo.engine = LoaderEngine::Native;
        auto index = loadModel(
            test::fixture(u ? QStringLiteral("stats_uint64.safetensors") : QStringLiteral("stats_int64.pt")), lo);
        QVERIFY2(index.ok(), qPrintable(index.error()));
        const QString name = key.section(QLatin1Char('@'), 0, 0);
        const int entry = index.value()->findEntry(name.toStdString());
        QVERIFY(entry >= 0);
        StatsOptions o;
        o.exactQuantileLimit = limit;
        if (key.contains(QLatin1String("@bins=")))
            o.bins = key.section(QLatin1String("@bins="), 1).toInt();
        auto r = computeStats(*index.value(), entry, o);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        const TensorStats& s = r.value();
        QCOMPARE(s.dtype, u ? DType::UInt64 : DType::Int64);
        QCOMPARE(s.elements, std::int64_t(e.value(QLatin1String("elements")).toInteger()));
        QCOMPARE(s.finite, s.elements);
        QVERIFY(s.minExact && s.maxExact);
        QCOMPARE(s.minExact->toString(), e.value(QLatin1String("min")).toString());
        QCOMPARE(s.maxExact->toString(), e.value(QLatin1String("max")).toString());
        QCOMPARE(s.minText(), e.value(QLatin1String("min")).toString());
        QCOMPARE(s.min, s.minExact->toDouble());
        QCOMPARE(s.max, s.maxExact->toDouble());
        QCOMPARE(s.constant(), s.minExact == s.maxExact);

        const bool exactPath = s.elements <= limit || s.constant() || s.min == s.max;
        QCOMPARE(s.quantiles.approximate, !exactPath);
        const QJsonArray qe = e.value(QLatin1String("quantiles_exact")).toArray();
        const QJsonArray qn = e.value(QLatin1String("np_quantiles")).toArray();
        for (int i = 0; i < 5; ++i) {
            if (!exactPath) {
                QVERIFY(!s.quantiles.exact[size_t(i)]);
                QVERIFY(std::fabs(s.quantiles.values[size_t(i)] - qn[i].toDouble()) <= s.quantiles.errorBound);
                continue;
            }
            if (qe[i].isNull()) {
                QVERIFY2(!s.quantiles.exact[size_t(i)], qPrintable(s.quantileText(size_t(i))));
                QCOMPARE(s.quantiles.values[size_t(i)], qn[i].toDouble());  // NumPy's own lerp
            } else {
                QVERIFY(s.quantiles.exact[size_t(i)]);
                QCOMPARE(s.quantileText(size_t(i)), qe[i].toString());
                QCOMPARE(s.quantiles.values[size_t(i)], e.value(QLatin1String("quantiles")).toArray()[i].toDouble());
            }
        }

        // The histogram: the auto bin count depends on the (approximate) IQR above the limit.
        if (!exactPath && o.bins == 0)
            return;
        const StatsHistogram& h = s.histogram;
        QVERIFY(h.integerAligned);
        const bool integer = e.value(QLatin1String("integer_edges")).toBool();
        QCOMPARE(!h.integerEdges.empty(), integer);
        const QJsonArray ee = e.value(QLatin1String("edges")).toArray();
        QCOMPARE(qsizetype(h.edges.size()), ee.size());
        for (int i = 0; i < ee.size(); ++i) {
            if (integer) {
                QCOMPARE(h.integerEdges[size_t(i)].toString(), ee[i].toString());
                // Inside the range of the dtype even as doubles (rounded toward zero).
                QVERIFY(h.edges[size_t(i)] >= (u ? 0.0 : -0x1p63) && h.edges[size_t(i)] < (u ? 0x1p64 : 0x1p63));
                QVERIFY(i == 0 || h.edges[size_t(i)] >= h.edges[size_t(i) - 1]);
            } else {
                QCOMPARE(h.edges[size_t(i)], ee[i].toDouble());
            }
        }
        if (integer) {
            QCOMPARE(h.integerEdges.front(), *s.minExact);
            QCOMPARE(h.integerEdges.back(), *s.maxExact);
        }
        const QJsonArray ce = e.value(QLatin1String("counts")).toArray();
        QCOMPARE(h.bins(), int(ce.size()));
        std::int64_t total = 0;
        for (int i = 0; i < h.bins(); ++i) {
            QCOMPARE(h.counts[size_t(i)], std::int64_t(ce[i].toInteger()));
            total += h.counts[size_t(i)];
        }
        QCOMPARE(total, s.finite);
    }

    // The same through paramscope-cli stats, text and --json: the exact integers as printed.
    void exactIntegersCommandLine_data()
    {
        QTest::addColumn<QString>("key");
        for (const char* k : {"big53", "extremes", "mixed@bins=7", "bcast", "bcast2@bins=3", "u64", "u64_top",
                              "u64@bins=1", "near_max"})
            QTest::newRow(k) << QString::fromLatin1(k);
    }

    void exactIntegersCommandLine()
    {
        QFETCH(QString, key);
        const QJsonObject e =
            test::readJson(test::fixture(QStringLiteral("stats_int64_expected.json"))).value(key).toObject();
        const bool u = e.value(QLatin1String("dtype")).toString() == QLatin1String("uint64");
        const QString file =
            test::fixture(u ? QStringLiteral("stats_uint64.safetensors") : QStringLiteral("stats_int64.pt"));
        QStringList args{QStringLiteral("stats"), file, key.section(QLatin1Char('@'), 0, 0)};
        if (key.contains(QLatin1String("@bins=")))
            args << QStringLiteral("--bins") << key.section(QLatin1String("@bins="), 1);
        const test::CliRun json = test::runCli(args + QStringList{QStringLiteral("--json")});
        QVERIFY2(json.code == 0, qPrintable(json.err));
        const test::CliRun text = test::runCli(args);
        QVERIFY2(text.code == 0, qPrintable(text.err));
        QJsonParseError err;
        QJsonDocument::fromJson(json.out.toUtf8(), &err);
        QVERIFY2(err.error == QJsonParseError::NoError, qPrintable(err.errorString()));
        // JSON numbers as written (a JSON reader would round them to doubles).
        auto jsonNumber = [&](const QString& field) {
            const QRegularExpression re(QLatin1Char('"') + field + QStringLiteral("\": (-?[0-9.e+-]+)"));
            return re.match(json.out).captured(1);
        };
        auto textValue = [&](const QString& label) {
            const QRegularExpression re(
                QStringLiteral("^") + QRegularExpression::escape(label) + QStringLiteral(" +(\\S+)"),
                QRegularExpression::MultilineOption);
            return re.match(text.out).captured(1);
        };
        QCOMPARE(jsonNumber(QStringLiteral("min")), e.value(QLatin1String("min")).toString());
        QCOMPARE(jsonNumber(QStringLiteral("max")), e.value(QLatin1String("max")).toString());
        QCOMPARE(textValue(QStringLiteral("min")), e.value(QLatin1String("min")).toString());
        QCOMPARE(textValue(QStringLiteral("max")), e.value(QLatin1String("max")).toString());
        const QJsonArray qe = e.value(QLatin1String("quantiles_exact")).toArray();
        const char* qn[] = {"p1", "p25", "median", "p75", "p99"};
        for (int i = 0; i < 5; ++i) {
            if (qe[i].isNull())
                continue;
            QCOMPARE(jsonNumber(QLatin1String(qn[i])), qe[i].toString());
            QCOMPARE(textValue(QLatin1String(qn[i])), qe[i].toString());
        }
        if (e.value(QLatin1String("integer_edges")).toBool()) {
            QVERIFY(json.out.contains(QLatin1String("\"integer_edges\": true")));
            QStringList want;
            for (const QJsonValue& x : e.value(QLatin1String("edges")).toArray())
                want << x.toString();
            QVERIFY2(
                json.out.contains(QStringLiteral("\"edges\": [") + want.join(QStringLiteral(", ")) + QLatin1Char(']')),
                qPrintable(json.out));
            // Text: "[first, next)" per bin (edges right-aligned), the last one closed at the maximum.
            const QRegularExpression lastBin(QStringLiteral("\\n  \\[ *") +
                                             QRegularExpression::escape(want[want.size() - 2]) + QStringLiteral(", *") +
                                             QRegularExpression::escape(want.back()) + QStringLiteral("\\] +[0-9]+"));
            QVERIFY2(lastBin.match(text.out).hasMatch(), qPrintable(text.out));
        }
    }
};

QTEST_GUILESS_MAIN(TestStatsPaths)
#include "tst_stats_paths.moc"
