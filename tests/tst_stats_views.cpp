// Statistics of strided views as PyTorch stores them (transposes, 3-D and 4-D permutes,
// slices with a step and an offset, broadcast dimensions, and mixes of those) against the
// statistics of their contiguous copy, made by TensorView::copyContiguous (core/model's own
// walk of the view): counts, extremes, quantiles and histogram exactly, and mean, std and
// the norms within rounding (a view is walked in storage order, its copy in logical order).
// For float32, float64, float16, bfloat16, int8 and int64, with NaN and ±Inf among the
// values, sizes that are no multiple of the block (2048) or chunk (65536) sizes, on the
// exact and the approximate quantile paths, with automatic and given bins. The counts and
// extremes of float32/float64 views are also checked against a plain loop over the copy.
#include "stats/stats.h"
#include "statstestutil.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace paramscope;
using namespace paramscope::test;

namespace {

struct ViewShape {
    std::vector<std::int64_t> shape, strides;
    std::int64_t offset = 0;
};

// Storage of kStored elements; every view below fits in it.
constexpr std::int64_t kRows = 37, kCols = 3001;  // a [37, 3001] matrix: 111037 elements
constexpr std::int64_t kStored = 7 * 19 * 1001;   // 133133, the largest (3-D) storage

ViewShape viewNamed(const QString& name)
{
    const std::int64_t R = kRows, C = kCols;
    if (name == QLatin1String("transposed"))  // x.t() of [R, C]
        return {{C, R}, {1, C}, 0};
    if (name == QLatin1String("permute3d"))  // [7, 19, 1001].permute(2, 0, 1)
        return {{1001, 7, 19}, {1, 19 * 1001, 1001}, 0};
    if (name == QLatin1String("permute4d"))  // [3, 5, 7, 1103].permute(3, 1, 0, 2)
        return {{1103, 5, 3, 7}, {1, 7 * 1103, 5 * 7 * 1103, 1103}, 0};
    if (name == QLatin1String("slice step 2"))  // x[:, ::2]
        return {{R, (C + 1) / 2}, {C, 2}, 0};
    if (name == QLatin1String("short rows step 2"))  // [14792, 9][:, ::2]: runs of 5
        return {{14792, 5}, {9, 2}, 0};
    if (name == QLatin1String("step 2 to the end"))  // x[::2], its last element the storage's last
        return {{(kStored + 1) / 2}, {2}, 0};
    if (name == QLatin1String("slice offset step 3"))  // x[2:, 5::3]
        return {{R - 2, (C - 5 + 2) / 3}, {C, 3}, 2 * C + 5};
    if (name == QLatin1String("transposed slice"))  // x.t()[::2, 3:]
        return {{(C + 1) / 2, R - 3}, {2, C}, 3 * C};
    if (name == QLatin1String("column"))  // [13313, 10][:, 7]
        return {{13313}, {10}, 7};
    if (name == QLatin1String("permuted slice"))  // [7, 19, 1001][:, ::2, 1:].permute(2, 1, 0)
        return {{1000, 10, 7}, {1, 2 * 1001, 19 * 1001}, 1};
    if (name == QLatin1String("broadcast"))  // x[0].expand(5, C)
        return {{5, C}, {0, 1}, 0};
    if (name == QLatin1String("broadcast transposed"))  // x.t().unsqueeze(1).expand(C, 4, R)
        return {{C, 4, R}, {1, 0, C}, 0};
    if (name == QLatin1String("broadcast permuted slice"))  // x[:, 1::2].t().unsqueeze(0).expand(3, ...)
        return {{3, C / 2, R}, {0, 2, C}, 1};
    return {};
}

const char* const kViews[] = {"transposed",
                              "permute3d",
                              "permute4d",
                              "slice step 2",
                              "short rows step 2",
                              "step 2 to the end",
                              "slice offset step 3",
                              "transposed slice",
                              "column",
                              "permuted slice",
                              "broadcast",
                              "broadcast transposed",
                              "broadcast permuted slice"};

/// kStored elements of `dt` as bytes: normal values with zeros (both signs), NaN and ±Inf
/// for the float dtypes; random bit patterns for float16 and bfloat16 (NaN and ±Inf
/// among them); every int8; int64 from the whole range and small ones.
std::vector<std::uint8_t> storageBytes(DType dt)
{
    std::mt19937_64 rng(42);
    std::normal_distribution<double> nd(1.0, 3.0);
    std::uniform_int_distribution<int> pick(0, 999);
    const size_t n = size_t(kStored);
    std::vector<std::uint8_t> bytes(n * size_t(dtypeItemSize(dt)));
    auto special = [&](double x) {
        const int k = pick(rng);
        if (k < 10)
            return std::numeric_limits<double>::quiet_NaN();
        if (k < 12)
            return std::numeric_limits<double>::infinity();
        if (k < 14)
            return -std::numeric_limits<double>::infinity();
        if (k < 24)
            return k % 2 ? 0.0 : -0.0;
        return x;
    };
    for (size_t i = 0; i < n; ++i) {
        switch (dt) {
            case DType::Float32: {
                const float f = float(special(nd(rng)));
                std::memcpy(&bytes[i * 4], &f, 4);
                break;
            }
            case DType::Float64: {
                const double d = special(nd(rng));
                std::memcpy(&bytes[i * 8], &d, 8);
                break;
            }
            case DType::Float16:
            case DType::BFloat16: {
                const auto h = std::uint16_t(rng());
                std::memcpy(&bytes[i * 2], &h, 2);
                break;
            }
            case DType::Int8:
                bytes[i] = std::uint8_t(rng());
                break;
            case DType::Int64: {
                const auto v = pick(rng) < 500 ? std::int64_t(rng()) : std::int64_t(pick(rng)) - 500;
                std::memcpy(&bytes[i * 8], &v, 8);
                break;
            }
            default:
                break;
        }
    }
    return bytes;
}

OwnedView viewOver(const std::vector<std::uint8_t>& bytes, DType dt, const ViewShape& vs)
{
    OwnedView o = makeView(bytes, DType::UInt8);
    o.view.dtype = dt;
    o.view.shape = vs.shape;
    o.view.strides = vs.strides;
    o.view.offset = vs.offset;
    return o;
}

OwnedView contiguousCopy(const TensorView& v)
{
    std::vector<std::uint8_t> bytes(size_t(v.numel()) * size_t(dtypeItemSize(v.dtype)));
    v.copyContiguous(bytes.data());
    OwnedView o = makeView(bytes, DType::UInt8);
    o.view.dtype = v.dtype;
    o.view.shape = v.shape;
    o.view.strides = contiguousStrides(v.shape);
    return o;
}

bool bitEqual(double a, double b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Sums equal up to rounding: relative to `scale` (the largest magnitude involved).
bool sumClose(double a, double b, double scale, double rel)
{
    return std::fabs(a - b) <= rel * std::max(scale, std::numeric_limits<double>::min());
}

}  // namespace

class TestStatsViews : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void viewEqualsCopy_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<QString>("view");
        QTest::addColumn<bool>("approximate");  // exactQuantileLimit below the element count
        QTest::addColumn<int>("bins");
        const std::pair<DType, const char*> dtypes[] = {{DType::Float32, "float32"}, {DType::Float64, "float64"},
                                                        {DType::Float16, "float16"}, {DType::BFloat16, "bfloat16"},
                                                        {DType::Int8, "int8"},       {DType::Int64, "int64"}};
        for (const auto& [dt, dtName] : dtypes)
            for (const char* view : kViews)
                for (bool approximate : {false, true})
                    for (int bins : {0, 37}) {
                        // A broadcast view chooses its automatic bin count from the elements
                        // stored, its copy from all of them (TensorStats::broadcast).
                        if (bins == 0 && QString::fromLatin1(view).startsWith(QLatin1String("broadcast")))
                            continue;
                        QTest::addRow("%s %s %s bins=%d", dtName, view, approximate ? "approx" : "exact", bins)
                            << int(dt) << QString::fromLatin1(view) << approximate << bins;
                    }
    }

    void viewEqualsCopy()
    {
        QFETCH(int, dtype);
        QFETCH(QString, view);
        QFETCH(bool, approximate);
        QFETCH(int, bins);
        const DType dt = DType(dtype);
        const std::vector<std::uint8_t> bytes = storageBytes(dt);
        const OwnedView v = viewOver(bytes, dt, viewNamed(view));
        QVERIFY(v.view.numel() > 0);
        QVERIFY(requiredStorageElements(v.view.shape, v.view.strides, v.view.offset) <= kStored);
        QVERIFY(!v.view.isContiguous());
        const OwnedView copy = contiguousCopy(v.view);

        StatsOptions o;
        o.bins = bins;
        o.threads = 2;
        if (approximate)
            o.exactQuantileLimit = 1000;
        StatsOptions one = o;
        one.threads = 1;
        auto a = computeStats(v.view, o);
        auto b = computeStats(copy.view, o);
        auto c = computeStats(v.view, one);
        QVERIFY2(a.ok(), qPrintable(a.error()));
        QVERIFY2(b.ok(), qPrintable(b.error()));
        QVERIFY(c.ok());
        const TensorStats& s = a.value();
        const TensorStats& t = b.value();
        const bool narrow = dtypeItemSize(dt) <= 2;
        // 16-bit and 8-bit dtypes take the table path (below the approximate path's limit
        // too): exact quantiles, and sums over the table, the same for any order.
        if (!narrow)
            QCOMPARE(s.quantiles.approximate, approximate);

        QCOMPARE(s.elements, t.elements);
        QVERIFY(s.shape == t.shape);
        QCOMPARE(s.finite, t.finite);
        QCOMPARE(s.nan, t.nan);
        QCOMPARE(s.posInf, t.posInf);
        QCOMPARE(s.negInf, t.negInf);
        QCOMPARE(s.zeros, t.zeros);
        QCOMPARE(s.zerosPercent, t.zerosPercent);
        QVERIFY(bitEqual(s.min, t.min) && bitEqual(s.max, t.max) && bitEqual(s.maxAbs, t.maxAbs));
        QVERIFY(s.minExact == t.minExact && s.maxExact == t.maxExact);
        const double scale = s.maxAbs;
        // A broadcast view sums its stored elements and weights the sums (and places its
        // quantiles among n stored values standing for n * w, in long double), its copy sums
        // all of them: the same up to rounding, as before views were walked in storage order.
        const bool broadcast = view.startsWith(QLatin1String("broadcast"));
        if (narrow && !broadcast) {
            QVERIFY(bitEqual(s.mean, t.mean) && bitEqual(s.std, t.std));
            QVERIFY(bitEqual(s.l1, t.l1) && bitEqual(s.l2, t.l2));
        } else {
            const double rel = dt == DType::Int64 ? 1e-9 : 1e-12;
            QVERIFY2(sumClose(s.mean, t.mean, scale, rel),
                     qPrintable(num(s.mean) + QLatin1String(" vs ") + num(t.mean)));
            QVERIFY2(sumClose(s.std, t.std, t.std, rel), qPrintable(num(s.std) + QLatin1String(" vs ") + num(t.std)));
            QVERIFY(sumClose(s.l1, t.l1, t.l1, rel));
            QVERIFY(sumClose(s.l2, t.l2, t.l2, rel));
        }
        QCOMPARE(s.quantiles.approximate, t.quantiles.approximate);
        QVERIFY(bitEqual(s.quantiles.errorBound, t.quantiles.errorBound));
        for (size_t i = 0; i < s.quantiles.values.size(); ++i)
            // (Positions (N - 1) * q rounded differently move t by up to N ulps of 1.)
            QVERIFY2(broadcast ? std::fabs(s.quantiles.values[i] - t.quantiles.values[i]) <=
                                     double(s.elements) * 0x1p-52 * (s.max - s.min)
                               : bitEqual(s.quantiles.values[i], t.quantiles.values[i]),
                     qPrintable(QStringLiteral("q%1: %2 vs %3")
                                    .arg(i)
                                    .arg(num(s.quantiles.values[i]), num(t.quantiles.values[i]))));
        QVERIFY(s.quantiles.exact == t.quantiles.exact);
        QVERIFY(s.histogram.edges == t.histogram.edges);
        QVERIFY(s.histogram.integerEdges == t.histogram.integerEdges);
        QVERIFY(s.histogram.counts == t.histogram.counts);
        QCOMPARE(s.histogram.integerAligned, t.histogram.integerAligned);
        if (bins > 0)
            QVERIFY(s.histogram.bins() <= bins);

        // One thread gives exactly what two give.
        const TensorStats& u = c.value();
        QVERIFY(bitEqual(s.mean, u.mean) && bitEqual(s.std, u.std) && bitEqual(s.l1, u.l1) && bitEqual(s.l2, u.l2));
        QVERIFY(s.quantiles.values == u.quantiles.values);
        QVERIFY(s.histogram.counts == u.histogram.counts);

        // float32/float64: counts and extremes against a plain loop over the copy.
        if (dt != DType::Float32 && dt != DType::Float64)
            return;
        std::int64_t nan = 0, pinf = 0, ninf = 0, zeros = 0, finite = 0;
        double lo = qInf(), hi = -qInf();
        const std::int64_t n = copy.view.numel();
        for (std::int64_t i = 0; i < n; ++i) {
            double x;
            if (dt == DType::Float32) {
                float f;
                std::memcpy(&f, copy.bytes->data() + i * 4, 4);
                x = f;
            } else {
                std::memcpy(&x, copy.bytes->data() + i * 8, 8);
            }
            if (std::isnan(x)) {
                ++nan;
            } else if (std::isinf(x)) {
                ++(x > 0 ? pinf : ninf);
            } else {
                ++finite;
                zeros += x == 0.0;
                lo = std::min(lo, x);
                hi = std::max(hi, x);
            }
        }
        QVERIFY(nan > 0 && pinf > 0 && ninf > 0 && zeros > 0);
        QCOMPARE(s.nan, nan);
        QCOMPARE(s.posInf, pinf);
        QCOMPARE(s.negInf, ninf);
        QCOMPARE(s.zeros, zeros);
        QCOMPARE(s.finite, finite);
        QCOMPARE(s.min, lo);
        QCOMPARE(s.max, hi);
    }

    // A contiguous tensor reached through a view in storage order keeps its logical order:
    // a slice with a step gives bit-identical sums to its copy (the same elements in the
    // same order), as it did before views were walked in storage order.
    void storageOrderViewsKeepTheirSums()
    {
        const std::vector<std::uint8_t> bytes = storageBytes(DType::Float32);
        for (const char* name : {"slice step 2", "slice offset step 3", "column"}) {
            const OwnedView v = viewOver(bytes, DType::Float32, viewNamed(QString::fromLatin1(name)));
            const OwnedView copy = contiguousCopy(v.view);
            auto a = computeStats(v.view);
            auto b = computeStats(copy.view);
            QVERIFY(a.ok() && b.ok());
            QVERIFY2(bitEqual(a->mean, b->mean) && bitEqual(a->std, b->std), name);
            QVERIFY(bitEqual(a->l1, b->l1) && bitEqual(a->l2, b->l2));
        }
    }
};

QTEST_GUILESS_MAIN(TestStatsViews)
#include "tst_stats_views.moc"
