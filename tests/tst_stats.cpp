// Statistics and histograms (core/stats/stats.h) against NumPy's numbers for tensors written
// by real PyTorch (tests/fixtures/make_stats_fixtures.py), against closed forms, and
// through `paramscope-cli stats --json`. The larger paths (above the exact-quantile limit,
// the two kernel sets, int64/uint64 beyond 2^53) are in tst_stats_paths.cpp.
#include "formats/loader.h"
#include "stats/stats.h"
#include "statstestutil.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>

using namespace paramscope;
using namespace paramscope::test;

namespace {

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

/// Bit-for-bit equality of two results (NaN-free by contract, so == is exact). With
/// `sumsExact` false, mean, std, L1 and L2 only up to rounding (sums in another order).
void compareIdentical(const TensorStats& a, const TensorStats& b, bool sumsExact = true)
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
        QVERIFY2((!sumsExact && i >= 2 && i <= 5)
                     ? close(fa[i], fb[i], 1e-12) || std::fabs(fa[i] - fb[i]) <= 1e-12 * a.maxAbs
                     : std::memcmp(&fa[i], &fb[i], sizeof(double)) == 0,
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
    // numbers of its contiguous copy, and one thread gives exactly what two give. A view
    // whose dimensions are not in storage order (mat_t, h_t) is summed in storage order:
    // its wide-dtype sums equal the copy's up to rounding (tst_stats_views has more).
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
            std::int64_t last = std::numeric_limits<std::int64_t>::max();
            bool storageOrder = true;
            for (size_t d = 0; d < v->shape.size(); ++d)
                if (v->shape[d] > 1) {
                    storageOrder = storageOrder && v->strides[d] <= last;
                    last = v->strides[d];
                }
            compareIdentical(a.value(), b.value(), storageOrder || dtypeItemSize(v->dtype) <= 2);
            compareIdentical(b.value(), c.value());
        }
        QVERIFY(strided >= 4);  // mat_t, mat_slice, mat_col, h_t, i32_view
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

    void float8FnuzTensors()
    {
        // e4m3fnuz (bias 8, NaN only 0x80, no -0): 1, -1, 240 (the largest), NaN, 0, 2^-10
        const auto a = makeView(std::vector<std::uint8_t>{0x40, 0xc0, 0x7f, 0x80, 0x00, 0x01}, DType::Float8E4M3FNUZ);
        auto r = computeStats(a.view);
        QVERIFY(r.ok());
        QCOMPARE(r->nan, std::int64_t(1));
        QCOMPARE(r->finite, std::int64_t(5));
        QCOMPARE(r->zeros, std::int64_t(1));
        QCOMPARE(r->min, -1.0);
        QCOMPARE(r->max, 240.0);
        QCOMPARE(r->l1, 1.0 + 1.0 + 240.0 + std::ldexp(1.0, -10));
        // e5m2fnuz (bias 16): 1, 57344 (the largest: exponent 31 is a number here), NaN, 2^-17
        const auto b = makeView(std::vector<std::uint8_t>{0x40, 0x7f, 0x80, 0x01}, DType::Float8E5M2FNUZ);
        r = computeStats(b.view);
        QVERIFY(r.ok());
        QCOMPARE(r->nan, std::int64_t(1));
        QCOMPARE(r->posInf + r->negInf, std::int64_t(0));
        QCOMPARE(r->max, 57344.0);
        QCOMPARE(r->min, std::ldexp(1.0, -17));
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
                 name == QLatin1String("q8") ? QStringLiteral("dequantized") : QStringLiteral("stored"));
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
