// Statistics and histograms (core/stats/stats.h) against NumPy's numbers for tensors written
// by real PyTorch (tests/fixtures/make_stats_fixtures.py), against closed forms, and
// through `paramscope-cli stats --json`.
#include "formats/loader.h"
#include "stats/stats.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <mutex>
#include <random>

using namespace paramscope;

namespace {

bool close(double a, double b, double rel)
{
    if (a == b)
        return true;
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

QString num(double v)
{
    return QString::number(v, 'g', 17);
}

/// A view over bytes we own.
struct OwnedView {
    std::shared_ptr<std::vector<std::uint8_t>> bytes;
    TensorView view;
};

template <typename T>
OwnedView makeView(const std::vector<T>& data, DType dt, std::vector<std::int64_t> shape = {},
                   std::vector<std::int64_t> strides = {}, std::int64_t offset = 0)
{
    OwnedView o;
    o.bytes = std::make_shared<std::vector<std::uint8_t>>(data.size() * sizeof(T));
    if (!data.empty())
        std::memcpy(o.bytes->data(), data.data(), o.bytes->size());
    o.view.storage.owner = o.bytes;
    o.view.storage.data = o.bytes->data();
    o.view.storage.size = o.bytes->size();
    o.view.dtype = dt;
    o.view.shape = shape.empty() && strides.empty() ? std::vector<std::int64_t>{std::int64_t(data.size())} : shape;
    o.view.strides = strides.empty() ? contiguousStrides(o.view.shape) : strides;
    o.view.offset = offset;
    return o;
}

OwnedView contiguousCopy(const TensorView& v)
{
    OwnedView o;
    o.bytes = std::make_shared<std::vector<std::uint8_t>>(size_t(v.numel()) * size_t(dtypeItemSize(v.dtype)));
    v.copyContiguous(o.bytes->data());
    o.view = v;
    o.view.storage.owner = o.bytes;
    o.view.storage.data = o.bytes->data();
    o.view.storage.size = o.bytes->size();
    o.view.strides = contiguousStrides(v.shape);
    o.view.offset = 0;
    return o;
}

/// Bit-for-bit equality of two results (NaN-free by contract, so == is exact).
void compareIdentical(const TensorStats& a, const TensorStats& b)
{
    QCOMPARE(a.elements, b.elements);
    QCOMPARE(a.finite, b.finite);
    QCOMPARE(a.nan, b.nan);
    QCOMPARE(a.posInf, b.posInf);
    QCOMPARE(a.negInf, b.negInf);
    QCOMPARE(a.zeros, b.zeros);
    const double fa[] = {a.min, a.max, a.mean, a.std, a.l1, a.l2, a.maxAbs, a.zerosPercent};
    const double fb[] = {b.min, b.max, b.mean, b.std, b.l1, b.l2, b.maxAbs, b.zerosPercent};
    for (size_t i = 0; i < std::size(fa); ++i)
        QVERIFY2(std::memcmp(&fa[i], &fb[i], sizeof(double)) == 0,
                 qPrintable(QStringLiteral("field %1: %2 vs %3").arg(i).arg(num(fa[i]), num(fb[i]))));
    QVERIFY(a.quantiles.values == b.quantiles.values);
    QVERIFY(a.histogram.edges == b.histogram.edges);
    QVERIFY(a.histogram.counts == b.histogram.counts);
}

std::shared_ptr<const ModelIndex> g_index;   // LibTorch engine
std::shared_ptr<const ModelIndex> g_native;  // ParamScope's own reader (memory-mapped)
QJsonObject g_expected;

}  // namespace

class TestStats : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        LoadOptions o;
        o.engine = LoaderEngine::LibTorch;
        auto r = loadModel(test::fixture(QStringLiteral("stats_model.pt")), o);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        g_index = r.value();
        o.engine = LoaderEngine::Native;
        auto n = loadModel(test::fixture(QStringLiteral("stats_model.pt")), o);
        QVERIFY2(n.ok(), qPrintable(n.error()));
        g_native = n.value();
        g_expected = test::readJson(test::fixture(QStringLiteral("stats_expected.json")));
        QVERIFY(g_expected.size() > 30);
    }

    void againstNumPy_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<bool>("native");
        for (const QString& k : g_expected.keys()) {
            QTest::newRow(qPrintable(k + QStringLiteral(" libtorch"))) << k << false;
            QTest::newRow(qPrintable(k + QStringLiteral(" native"))) << k << true;
        }
    }

    void againstNumPy()
    {
        QFETCH(QString, key);
        QFETCH(bool, native);
        const auto& index = native ? g_native : g_index;
        const QJsonObject e = g_expected.value(key).toObject();
        const QString name = key.section(QLatin1Char('@'), 0, 0);
        StatsOptions o;
        if (key.contains(QLatin1String("@bins=")))
            o.bins = key.section(QLatin1String("@bins="), 1).toInt();
        const int entry = index->findEntry(name.toStdString());
        QVERIFY(entry >= 0);
        const TensorEntry& te = index->entries[size_t(entry)];
        // The loader kept the layout PyTorch wrote (views stay views).
        QJsonArray strides = e.value(QLatin1String("strides")).toArray();
        if (!strides.isEmpty() || e.contains(QLatin1String("strides"))) {
            QCOMPARE(te.strides.size(), size_t(strides.size()));
            for (int i = 0; i < strides.size(); ++i)
                QCOMPARE(te.strides[size_t(i)], std::int64_t(strides[i].toInteger()));
            QCOMPARE(te.storageOffset, std::int64_t(e.value(QLatin1String("storage_offset")).toInteger()));
        }
        auto r = computeStats(*index, entry, o);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        const TensorStats& s = r.value();
        QCOMPARE(QString::fromLatin1(dtypeName(s.dtype).data()), e.value(QLatin1String("dtype")).toString());
        QCOMPARE(s.elements, std::int64_t(e.value(QLatin1String("elements")).toInteger()));
        QCOMPARE(s.empty, s.elements == 0);
        QCOMPARE(s.scalar, e.value(QLatin1String("shape")).toArray().isEmpty());
        QCOMPARE(s.finite, std::int64_t(e.value(QLatin1String("finite")).toInteger()));
        QCOMPARE(s.nan, std::int64_t(e.value(QLatin1String("nan")).toInteger()));
        QCOMPARE(s.posInf, std::int64_t(e.value(QLatin1String("pos_inf")).toInteger()));
        QCOMPARE(s.negInf, std::int64_t(e.value(QLatin1String("neg_inf")).toInteger()));
        QCOMPARE(s.zeros, std::int64_t(e.value(QLatin1String("zeros")).toInteger()));
        if (e.contains(QLatin1String("torch_nan"))) {  // counted by PyTorch too
            QCOMPARE(s.nan, std::int64_t(e.value(QLatin1String("torch_nan")).toInteger()));
            QCOMPARE(s.posInf, std::int64_t(e.value(QLatin1String("torch_pos_inf")).toInteger()));
            QCOMPARE(s.negInf, std::int64_t(e.value(QLatin1String("torch_neg_inf")).toInteger()));
        }
        QCOMPARE(s.values, dtypeIsComplex(s.dtype)     ? StatsValues::Magnitude
                           : dtypeIsQuantized(s.dtype) ? StatsValues::Dequantized
                                                       : StatsValues::Real);
        // Never NaN, whatever the input.
        for (double v : {s.min, s.max, s.mean, s.std, s.l1, s.l2, s.maxAbs, s.zerosPercent})
            QVERIFY(std::isfinite(v));
        if (s.finite == 0) {
            QVERIFY(!s.hasFinite());
            QVERIFY(s.histogram.counts.empty());
            QCOMPARE(s.mean, 0.0);
            return;
        }
        auto check = [&](const char* field, double got, double rel) {
            const double want = e.value(QLatin1String(field)).toDouble();
            QVERIFY2(close(got, want, rel),
                     qPrintable(QStringLiteral("%1: got %2, NumPy %3").arg(QLatin1String(field), num(got), num(want))));
        };
        check("min", s.min, 0);
        check("max", s.max, 0);
        check("max_abs", s.maxAbs, 0);
        check("mean", s.mean, 1e-12);
        check("std", s.std, 1e-10);
        check("l1", s.l1, 1e-13);
        check("l2", s.l2, 1e-13);
        const QJsonArray q = e.value(QLatin1String("quantiles")).toArray();
        QVERIFY(!s.quantiles.approximate);
        for (int i = 0; i < 5; ++i)
            QVERIFY2(close(s.quantiles.values[size_t(i)], q[i].toDouble(), 1e-15),
                     qPrintable(QStringLiteral("quantile %1: got %2, NumPy %3")
                                    .arg(i)
                                    .arg(num(s.quantiles.values[size_t(i)]), num(q[i].toDouble()))));
        const QJsonArray edges = e.value(QLatin1String("edges")).toArray();
        const QJsonArray counts = e.value(QLatin1String("counts")).toArray();
        QCOMPARE(s.histogram.edges.size(), size_t(edges.size()));
        for (int i = 0; i < edges.size(); ++i)
            QVERIFY2(s.histogram.edges[size_t(i)] == edges[i].toDouble(),
                     qPrintable(QStringLiteral("edge %1: %2 vs %3")
                                    .arg(i)
                                    .arg(num(s.histogram.edges[size_t(i)]), num(edges[i].toDouble()))));
        std::int64_t total = 0;
        for (int i = 0; i < counts.size(); ++i) {
            QCOMPARE(s.histogram.counts[size_t(i)], std::int64_t(counts[i].toInteger()));
            total += s.histogram.counts[size_t(i)];
        }
        QCOMPARE(total, s.finite);
        QCOMPARE(s.histogram.integerAligned, e.value(QLatin1String("integer_aligned")).toBool());
        QCOMPARE(s.histogram.automatic, o.bins == 0);
    }

    // The rows againstNumPy needs for two rules that once rested on too little data:
    // float16/bfloat16 NaN and ±Inf repeated (the code-table path counts bit patterns and
    // must count elements), and the histogram's edge rule over several dtypes and ranges.
    void fixtureRows()
    {
        int specials = 0;
        for (const char* k : {"f16_specials", "f16_specials_t", "bf16_specials", "bf16_specials_t", "f16_all_nan"}) {
            const QJsonObject e = g_expected.value(QLatin1String(k)).toObject();
            QVERIFY2(e.contains(QLatin1String("torch_nan")), k);
            // More NaNs than NaN bit patterns (six payloads), and repeated infinities.
            QVERIFY(e.value(QLatin1String("nan")).toInteger() > 6);
            specials +=
                e.value(QLatin1String("pos_inf")).toInteger() > 1 && e.value(QLatin1String("neg_inf")).toInteger() > 1;
        }
        QCOMPARE(specials, 4);
        int edgeRows = 0;
        for (const QString& k : g_expected.keys())
            edgeRows += k.startsWith(QLatin1String("edge_")) && k.contains(QLatin1String("@bins=")) ? 1 : 0;
        QVERIFY(edgeRows >= 11);
    }

    // Each failure says what kind it is: cancelled (both paths), past the 2^62-element
    // limit, a dtype without statistics, a view that lies about its storage.
    void errorKinds()
    {
        const std::vector<float> data(300000, 0.5f);
        const std::vector<std::uint16_t> half(300000, 0x3c00);
        StatsOptions cancel;
        cancel.cancel = makeCancelToken();
        cancel.cancel->store(true);
        auto r = computeStats(makeView(data, DType::Float32).view, cancel);
        QVERIFY(!r.ok());
        QCOMPARE(r.kind(), ErrorKind::Cancelled);
        r = computeStats(makeView(half, DType::Float16).view, cancel);
        QVERIFY(!r.ok());
        QCOMPARE(r.kind(), ErrorKind::Cancelled);

        // A broadcast view of one float: 2^62 elements are computed (weighted), one more is not.
        const std::int64_t side = std::int64_t(1) << 31;
        auto most = makeView(std::vector<float>{2.0f}, DType::Float32, {side, side}, {0, 0});
        r = computeStats(most.view);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        QCOMPARE(r->elements, std::int64_t(1) << 62);
        QCOMPARE(r->finite, std::int64_t(1) << 62);
        auto over = makeView(std::vector<float>{2.0f}, DType::Float32, {side, side + 1}, {0, 0});
        r = computeStats(over.view);
        QVERIFY(!r.ok());
        QCOMPARE(r.kind(), ErrorKind::Limit);

        r = computeStats(makeView(data, DType::Unknown).view);
        QVERIFY(!r.ok());
        QCOMPARE(r.kind(), ErrorKind::Unsupported);
        r = computeStats(makeView(data, DType::Float32, {300001}, {1}).view);
        QVERIFY(!r.ok());
        QCOMPARE(r.kind(), ErrorKind::Corrupt);
    }

    // A given bin count does not depend on the quantiles, so above the exact limit (where
    // the wide dtypes bin in a pass of their own) the histogram is still np.histogram's.
    void histogramAboveLimit_data()
    {
        QTest::addColumn<QString>("key");
        for (const QString& k : g_expected.keys())
            if (k.contains(QLatin1String("@bins=")))
                QTest::newRow(qPrintable(k)) << k;
    }

    void histogramAboveLimit()
    {
        QFETCH(QString, key);
        const QJsonObject e = g_expected.value(key).toObject();
        const int entry = g_native->findEntry(key.section(QLatin1Char('@'), 0, 0).toStdString());
        QVERIFY(entry >= 0);
        StatsOptions o;
        o.bins = key.section(QLatin1String("@bins="), 1).toInt();
        o.exactQuantileLimit = 1;
        auto r = computeStats(*g_native, entry, o);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        const QJsonArray edges = e.value(QLatin1String("edges")).toArray();
        const QJsonArray counts = e.value(QLatin1String("counts")).toArray();
        QCOMPARE(r->histogram.edges.size(), size_t(edges.size()));
        for (int i = 0; i < edges.size(); ++i)
            QCOMPARE(r->histogram.edges[size_t(i)], edges[i].toDouble());
        QCOMPARE(r->histogram.counts.size(), size_t(counts.size()));
        for (int i = 0; i < counts.size(); ++i)
            QCOMPARE(r->histogram.counts[size_t(i)], std::int64_t(counts[i].toInteger()));
    }

    // Every tensor of the fixture: the view (strided, offset, shared) gives exactly the
    // numbers of its contiguous copy, and one thread gives exactly what two give.
    void stridedEqualsContiguous()
    {
        int strided = 0;
        for (size_t i = 0; i < g_index->entries.size(); ++i) {
            auto v = g_index->view(int(i));
            QVERIFY(v.ok());
            strided += v->isContiguous() ? 0 : 1;
            const OwnedView copy = contiguousCopy(v.value());
            StatsOptions two;
            two.threads = 2;
            StatsOptions one;
            one.threads = 1;
            auto a = computeStats(v.value(), two);
            auto b = computeStats(copy.view, two);
            auto c = computeStats(copy.view, one);
            QVERIFY(a.ok() && b.ok() && c.ok());
            compareIdentical(a.value(), b.value());
            compareIdentical(b.value(), c.value());
        }
        QVERIFY(strided >= 4);  // mat_t, mat_slice, mat_col, h_t, i32_view
    }

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

    void conversions()
    {
        QCOMPARE(halfToFloat(0x3c00), 1.0f);
        QCOMPARE(halfToFloat(0x0001), std::ldexp(1.0f, -24));
        QCOMPARE(halfToFloat(0x03ff), std::ldexp(1023.0f, -24));
        QCOMPARE(halfToFloat(0x7bff), 65504.0f);
        QCOMPARE(halfToFloat(0xc000), -2.0f);
        QVERIFY(std::isinf(halfToFloat(0x7c00)) && halfToFloat(0xfc00) < 0);
        QVERIFY(std::isnan(halfToFloat(0x7e00)));
        QCOMPARE(bfloat16ToFloat(0x3f80), 1.0f);
        QCOMPARE(bfloat16ToFloat(0xc2f7), -123.5f);
        QCOMPARE(float8e5m2ToFloat(0x3c), 1.0f);
        QVERIFY(std::isinf(float8e5m2ToFloat(0x7c)));
        QCOMPARE(float8e4m3fnToFloat(0x38), 1.0f);
        QCOMPARE(float8e4m3fnToFloat(0x7e), 448.0f);
        QCOMPARE(float8e4m3fnToFloat(0x01), std::ldexp(1.0f, -9));
        QCOMPARE(float8e4m3fnToFloat(0xb8), -1.0f);
        QVERIFY(std::isnan(float8e4m3fnToFloat(0x7f)));
        QVERIFY(std::isnan(float8e4m3fnToFloat(0xff)));
        // Every half bit pattern against Qt's own qfloat16.
        for (std::uint32_t h = 0; h < 65536; ++h) {
            qfloat16 q;
            const std::uint16_t b = std::uint16_t(h);
            std::memcpy(static_cast<void*>(&q), &b, 2);
            const float want = float(q), got = halfToFloat(b);
            QVERIFY(std::isnan(want) ? std::isnan(got) : std::memcmp(&want, &got, 4) == 0);
        }
    }

    // The code-table path (<= 16-bit dtypes) and the fused pass (wider dtypes) are two
    // implementations: the same values must give the same numbers.
    void narrowAgreesWithWide()
    {
        std::mt19937 rng(3);
        std::uniform_int_distribution<int> d(-30000, 30000);
        std::vector<std::int16_t> i16(70001);
        for (auto& x : i16)
            x = std::int16_t(d(rng));
        const auto a = computeStats(makeView(i16, DType::Int16).view);
        const auto b = computeStats(makeView(std::vector<std::int32_t>(i16.begin(), i16.end()), DType::Int32).view);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->min, b->min);
        QCOMPARE(a->max, b->max);
        QVERIFY(close(a->mean, b->mean, 1e-12));
        QVERIFY(close(a->std, b->std, 1e-12));
        QCOMPARE(a->l1, b->l1);
        QVERIFY(a->quantiles.values == b->quantiles.values);
        QVERIFY(a->histogram.edges == b->histogram.edges);
        QVERIFY(a->histogram.counts == b->histogram.counts);

        // float16 bit patterns (all of them except NaN/Inf) against the same values in float32.
        std::vector<std::uint16_t> h;
        std::vector<float> f;
        for (std::uint32_t c = 0; c < 65536; ++c) {
            const float v = halfToFloat(std::uint16_t(c));
            h.push_back(std::uint16_t(c));
            f.push_back(v);
        }
        const auto ha = computeStats(makeView(h, DType::Float16).view);
        const auto fa = computeStats(makeView(f, DType::Float32).view);
        QVERIFY(ha.ok() && fa.ok());
        QCOMPARE(ha->nan, fa->nan);
        QCOMPARE(ha->nan, std::int64_t(2046));
        QCOMPARE(ha->posInf, std::int64_t(1));
        QCOMPARE(ha->negInf, std::int64_t(1));
        QCOMPARE(ha->zeros, std::int64_t(2));
        QCOMPARE(ha->min, -65504.0);
        QCOMPARE(ha->max, 65504.0);
        QVERIFY(std::fabs(ha->mean - fa->mean) <= 1e-12 * fa->l1 / double(fa->finite));
        QVERIFY(close(ha->std, fa->std, 1e-12));
        QVERIFY(ha->quantiles.values == fa->quantiles.values);
        QVERIFY(ha->histogram.counts == fa->histogram.counts);
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

    void float8Tensor()
    {
        // e4m3fn: 1, -1, 448, NaN, 0  -> finite {1, -1, 448, 0}
        const auto ov = makeView(std::vector<std::uint8_t>{0x38, 0xb8, 0x7e, 0x7f, 0x00}, DType::Float8E4M3);
        auto r = computeStats(ov.view);
        QVERIFY(r.ok());
        QCOMPARE(r->nan, std::int64_t(1));
        QCOMPARE(r->finite, std::int64_t(4));
        QCOMPARE(r->zeros, std::int64_t(1));
        QCOMPARE(r->min, -1.0);
        QCOMPARE(r->max, 448.0);
        QCOMPARE(r->mean, 112.0);
    }

    // Hand-made views: empty with a weird shape, a 0-d view into the middle of a storage,
    // a broadcast (stride 0) view, and one that lies about its storage.
    void edgeViews()
    {
        const std::vector<float> data{1, 2, 3, 4, 5, 6};
        auto empty = makeView(data, DType::Float32, {3, 0, 2}, {0, 2, 1});
        auto r = computeStats(empty.view);
        QVERIFY(r.ok());
        QVERIFY(r->empty);
        QCOMPARE(r->zerosPercent, 0.0);
        QVERIFY(r->histogram.counts.empty());

        auto scalar = makeView(data, DType::Float32, {}, {}, 4);
        scalar.view.shape = {};
        scalar.view.strides = {};
        r = computeStats(scalar.view);
        QVERIFY(r.ok());
        QVERIFY(r->scalar);
        QCOMPARE(r->elements, std::int64_t(1));
        QCOMPARE(r->mean, 5.0);
        QCOMPARE(r->std, 0.0);
        QCOMPARE(r->histogram.bins(), 1);
        QCOMPARE(r->histogram.edges, (std::vector<double>{4.5, 5.5}));

        auto bcast = makeView(data, DType::Float32, {4, 3}, {0, 2}, 1);  // rows of {2, 4, 6}
        r = computeStats(bcast.view);
        QVERIFY(r.ok());
        QCOMPARE(r->elements, std::int64_t(12));
        QCOMPARE(r->mean, 4.0);
        QCOMPARE(r->l1, 48.0);

        auto bad = makeView(data, DType::Float32, {10}, {1}, 0);
        r = computeStats(bad.view);
        QVERIFY(!r.ok());
        QVERIFY(r.error().contains(QLatin1String("outside")));

        auto unknown = makeView(data, DType::Unknown);
        QVERIFY(!computeStats(unknown.view).ok());
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
            // Text: "[first, next)" per bin, the last one closed at the maximum.
            QVERIFY(text.out.contains(QStringLiteral("  [") + want[want.size() - 2] + QStringLiteral(", ") +
                                      want.back() + QStringLiteral("]\t")));
        }
    }

    void cancelAndProgress()
    {
        std::vector<float> data(2000000, 1.5f);
        const auto ov = makeView(data, DType::Float32);
        StatsOptions o;
        o.cancel = makeCancelToken();
        o.cancel->store(true);
        auto r = computeStats(ov.view, o);
        QVERIFY(!r.ok());
        QVERIFY(r.cancelled());

        StatsOptions p;
        std::mutex m;
        std::vector<double> seen;
        p.progress = [&](double f) {
            std::lock_guard<std::mutex> lock(m);
            seen.push_back(f);
        };
        r = computeStats(ov.view, p);
        QVERIFY(r.ok());
        QVERIFY(r->constant());
        QVERIFY(!seen.empty());
        QCOMPARE(seen.back(), 1.0);
        for (double f : seen)
            QVERIFY(f >= 0 && f <= 1);
    }

    // paramscope-cli stats --json prints the same numbers.
    void commandLine_data()
    {
        QTest::addColumn<QString>("key");
        QTest::newRow("f32") << QStringLiteral("f32");
        QTest::newRow("mat_t bins") << QStringLiteral("mat_t@bins=33");
        QTest::newRow("q8") << QStringLiteral("q8");
        QTest::newRow("all_nan") << QStringLiteral("all_nan");
        QTest::newRow("empty") << QStringLiteral("empty");
    }

    void commandLine()
    {
        QFETCH(QString, key);
        const QJsonObject e = g_expected.value(key).toObject();
        const QString name = key.section(QLatin1Char('@'), 0, 0);
        QStringList args{QStringLiteral("stats"),
                         test::fixture(QStringLiteral("stats_model.pt")),
                         name,
                         QStringLiteral("--json"),
                         QStringLiteral("--engine"),
                         QStringLiteral("libtorch")};
        if (key.contains(QLatin1String("@bins=")))
            args << QStringLiteral("--bins") << key.section(QLatin1String("@bins="), 1);
        QProcess p;
        p.start(QStringLiteral(PARAMSCOPE_CLI), args);
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 0);
        QJsonParseError err;
        const QJsonObject j = QJsonDocument::fromJson(p.readAllStandardOutput(), &err).object();
        QVERIFY2(err.error == QJsonParseError::NoError, qPrintable(err.errorString()));
        QCOMPARE(j.value(QLatin1String("name")).toString(), name);
        for (const char* f : {"elements", "finite", "nan", "pos_inf", "neg_inf", "zeros"})
            QCOMPARE(j.value(QLatin1String(f)).toInteger(), e.value(QLatin1String(f)).toInteger());
        QCOMPARE(j.value(QLatin1String("empty")).toBool(), e.value(QLatin1String("elements")).toInteger() == 0);
        if (!e.contains(QLatin1String("mean"))) {
            QVERIFY(j.value(QLatin1String("mean")).isNull());
            QVERIFY(j.value(QLatin1String("histogram")).toObject().value(QLatin1String("counts")).toArray().isEmpty());
            return;
        }
        for (const char* f : {"min", "max", "max_abs"})
            QCOMPARE(j.value(QLatin1String(f)).toDouble(), e.value(QLatin1String(f)).toDouble());
        for (const char* f : {"mean", "std", "l1", "l2"})
            QVERIFY(close(j.value(QLatin1String(f)).toDouble(), e.value(QLatin1String(f)).toDouble(), 1e-10));
        const QJsonObject q = j.value(QLatin1String("quantiles")).toObject();
        const QJsonArray eq = e.value(QLatin1String("quantiles")).toArray();
        const char* qn[] = {"p1", "p25", "median", "p75", "p99"};
        for (int i = 0; i < 5; ++i)
            QVERIFY(close(q.value(QLatin1String(qn[i])).toDouble(), eq[i].toDouble(), 1e-15));
        QCOMPARE(q.value(QLatin1String("approximate")).toBool(), false);
        const QJsonObject h = j.value(QLatin1String("histogram")).toObject();
        QCOMPARE(h.value(QLatin1String("edges")).toArray().size(), e.value(QLatin1String("edges")).toArray().size());
        const QJsonArray ee = e.value(QLatin1String("edges")).toArray(), ge = h.value(QLatin1String("edges")).toArray();
        for (int i = 0; i < ee.size(); ++i)
            QCOMPARE(ge[i].toDouble(), ee[i].toDouble());
        QCOMPARE(h.value(QLatin1String("counts")).toArray(), e.value(QLatin1String("counts")).toArray());
        QCOMPARE(j.value(QLatin1String("values")).toString(),
                 name == QLatin1String("q8") ? QStringLiteral("dequantized") : QStringLiteral("values"));
    }

    void commandLineErrors()
    {
        QProcess p;
        p.start(QStringLiteral(PARAMSCOPE_CLI),
                {QStringLiteral("stats"), test::fixture(QStringLiteral("stats_model.pt")),
                 QStringLiteral("no.such.tensor"), QStringLiteral("--engine"), QStringLiteral("libtorch")});
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QLatin1String("no.such.tensor")));
        p.start(QStringLiteral(PARAMSCOPE_CLI), {QStringLiteral("stats"), QStringLiteral("x.pt"), QStringLiteral("a"),
                                                 QStringLiteral("--bins"), QStringLiteral("zero")});
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 2);
    }
};

QTEST_GUILESS_MAIN(TestStats)
#include "tst_stats.moc"
