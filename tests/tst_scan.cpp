// The whole-model scan (core/scan) against NumPy and against per-tensor statistics, on
// checkpoints written by PyTorch with planted problems (make_scan_fixtures.py): every
// tensor's figures, whole and in slices, on one thread and on several; each finding found
// and none on a healthy model; a sharded safetensors checkpoint scanned as one model;
// batches that deliver each tensor once; a cancelled scan that leaves the rest pending.
#include "formats/loader.h"
#include "model/modelindex.h"
#include "scan/findings.h"
#include "scan/scan.h"
#include "stats/stats.h"
#include "testutil.h"

#include <QTest>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>

using namespace paramscope;
using namespace paramscope::test;

namespace {

std::shared_ptr<const ModelIndex> load(const QString& name)
{
    auto r = loadModel(fixture(name));
    if (!r) {
        qWarning("%s", qPrintable(r.error()));
        return {};
    }
    return r.value();
}

bool close(double a, double b, double rel = 1e-9)
{
    return std::abs(a - b) <= rel * std::max({1.0, std::abs(a), std::abs(b)});
}

std::set<std::pair<std::string, QString>> findingSet(const ModelIndex& index, const std::vector<Finding>& f)
{
    std::set<std::pair<std::string, QString>> out;
    for (const Finding& x : f)
        out.emplace(index.entries[size_t(x.entry)].name, findingKindId(x.kind));
    return out;
}

std::set<std::pair<std::string, QString>> expectedFindings(const QJsonObject& file)
{
    std::set<std::pair<std::string, QString>> out;
    for (const auto& v : file.value(QStringLiteral("findings")).toArray()) {
        const auto a = v.toArray();
        out.emplace(a.at(0).toString().toStdString(), a.at(1).toString());
    }
    return out;
}

}  // namespace

class TestScan : public QObject {
    Q_OBJECT
private:
    QJsonObject m_expected;

    /// Every tensor's figures against NumPy's.
    void compareWithNumpy(const ModelIndex& index, const ScanResult& r, const QJsonObject& tensors)
    {
        QCOMPARE(r.tensors.size(), index.entries.size());
        QCOMPARE(int(index.entries.size()), tensors.size());
        for (size_t i = 0; i < index.entries.size(); ++i) {
            const QString name = QString::fromStdString(index.entries[i].name);
            const QJsonObject e = tensors.value(name).toObject();
            QVERIFY2(!e.isEmpty(), qPrintable(name + QStringLiteral(": not in the truth file")));
            const TensorScan& t = r.tensors[i];
            QVERIFY2(t.done(), qPrintable(name));
            QCOMPARE(t.elements, e.value(QStringLiteral("numel")).toInteger());
            QCOMPARE(t.zeros, e.value(QStringLiteral("zeros")).toInteger());
            QCOMPARE(t.nan, e.value(QStringLiteral("nan")).toInteger());
            QCOMPARE(t.posInf, e.value(QStringLiteral("pos_inf")).toInteger());
            QCOMPARE(t.negInf, e.value(QStringLiteral("neg_inf")).toInteger());
            QCOMPARE(t.deadRows, e.value(QStringLiteral("dead_rows")).toInteger());
            QCOMPARE(t.deadColumns, e.value(QStringLiteral("dead_columns")).toInteger());
            QCOMPARE(t.min, e.value(QStringLiteral("min")).toDouble());
            QCOMPARE(t.max, e.value(QStringLiteral("max")).toDouble());
            QCOMPARE(t.maxAbs, e.value(QStringLiteral("max_abs")).toDouble());
            for (const auto& [key, value] : {std::pair{"mean", t.mean}, {"std", t.std}, {"l1", t.l1}, {"l2", t.l2}}) {
                const double want = e.value(QLatin1String(key)).toDouble();
                QVERIFY2(close(value, want, 1e-6), qPrintable(QStringLiteral("%1 %2: %3, NumPy %4")
                                                                  .arg(name, QLatin1String(key))
                                                                  .arg(value, 0, 'g', 17)
                                                                  .arg(want, 0, 'g', 17)));
            }
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_expected = readJson(fixture(QStringLiteral("scan_expected.json")));
        QVERIFY2(!m_expected.isEmpty(), "scan_expected.json missing: run the fixtures_scan test first");
    }

    void figuresEqualNumpy_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("threads");
        QTest::addColumn<qint64>("sliceBytes");
        for (const char* f : {"scan_problems.pt", "scan_clean.pt", "scan_sharded"}) {
            QTest::addRow("%s whole, 1 thread", f) << QString::fromLatin1(f) << 1 << (qint64(32) << 20);
            QTest::addRow("%s whole, 2 threads", f) << QString::fromLatin1(f) << 2 << (qint64(32) << 20);
            // 4 KiB slices: big.weight (75 KiB) in 18 slices of 16 rows, merged.
            QTest::addRow("%s sliced, 3 threads", f) << QString::fromLatin1(f) << 3 << qint64(4096);
        }
    }
    void figuresEqualNumpy()
    {
        QFETCH(QString, file);
        QFETCH(int, threads);
        QFETCH(qint64, sliceBytes);
        const QString path =
            file == QLatin1String("scan_sharded") ? QStringLiteral("scan_sharded/model.safetensors.index.json") : file;
        auto index = load(path);
        QVERIFY(index);
        ScanOptions o;
        o.threads = threads;
        o.sliceBytes = std::uint64_t(sliceBytes);
        const ScanResult r = scanModel(*index, o);
        QVERIFY(r.complete());
        QVERIFY(r.errors.empty());
        QCOMPARE(r.progress.tensorsDone, int(index->entries.size()));
        QCOMPARE(r.progress.bytesDone, r.progress.bytesTotal);
        const QJsonObject truth = m_expected.value(file).toObject();
        compareWithNumpy(*index, r, truth.value(QStringLiteral("tensors")).toObject());
        QCOMPARE(findingSet(*index, allFindings(*index, r.tensors)), expectedFindings(truth));
    }

    // The scan's figures are computeStats' own (unsliced: bit for bit).
    void figuresEqualPerTensorStats()
    {
        auto index = load(QStringLiteral("scan_problems.pt"));
        QVERIFY(index);
        ScanOptions o;
        o.threads = 2;
        const ScanResult r = scanModel(*index, o);
        for (size_t i = 0; i < index->entries.size(); ++i) {
            auto s = computeStats(*index, int(i));
            QVERIFY2(s.ok(), qPrintable(s.error()));
            const TensorScan& t = r.tensors[i];
            QCOMPARE(t.min, s->min);
            QCOMPARE(t.max, s->max);
            QCOMPARE(t.mean, s->mean);
            QCOMPARE(t.std, s->std);
            QCOMPARE(t.l2, s->l2);
            QCOMPARE(t.maxAbs, s->maxAbs);
            QCOMPARE(t.zeros, s->zeros);
            QCOMPARE(t.nan, s->nan);
            QCOMPARE(t.minText(), s->minText());
        }
    }

    void findingsSayWhatAndWhy()
    {
        auto index = load(QStringLiteral("scan_problems.pt"));
        QVERIFY(index);
        const ScanResult r = scanModel(*index);
        const auto findings = allFindings(*index, r.tensors);
        auto detailOf = [&](const char* name, FindingKind k) {
            for (const Finding& f : findings)
                if (index->entries[size_t(f.entry)].name == name && f.kind == k)
                    return f.detail;
            return QString();
        };
        QCOMPARE(detailOf("model.layers.2.mlp.up.weight", FindingKind::NaN),
                 QStringLiteral("3 of 512 values are NaN (0.59%)"));
        QCOMPARE(detailOf("model.layers.3.attn.bias", FindingKind::Inf),
                 QStringLiteral("2 of 16 values are infinite (1 +Inf, 1 -Inf)"));
        QCOMPARE(detailOf("model.head.bias", FindingKind::AllZeros), QStringLiteral("all 10 values are 0"));
        QCOMPARE(detailOf("model.layers.1.norm.weight", FindingKind::Constant),
                 QStringLiteral("all 16 values are 0.5"));
        QCOMPARE(detailOf("model.layers.4.mlp.down.weight", FindingKind::DeadRows),
                 QStringLiteral("3 of 16 rows (dimension 0) are all zero"));
        QCOMPARE(detailOf("model.layers.4.mlp.down.weight", FindingKind::DeadColumns),
                 QStringLiteral("2 of 32 columns (dimension 1) are all zero"));
        const QString outlier = detailOf("model.layers.5.mlp.up.weight", FindingKind::Outlier);
        QVERIFY2(outlier.contains(QStringLiteral("the 6 tensors named model.layers.*.mlp.up.weight")),
                 qPrintable(outlier));
        QVERIFY2(outlier.startsWith(QStringLiteral("std ")), qPrintable(outlier));
        QVERIFY(detailOf("model.act_scale", FindingKind::Float16Limit)
                    .startsWith(QStringLiteral("max |x| 60000 is 92% of float16")));
        for (const Finding& f : findings)
            QCOMPARE(findingIsError(f.kind), f.kind == FindingKind::NaN || f.kind == FindingKind::Inf);
    }

    void batchesDeliverEachTensorOnce()
    {
        auto index = load(QStringLiteral("scan_problems.pt"));
        QVERIFY(index);
        std::mutex m;
        std::vector<int> seen(index->entries.size(), 0);
        int calls = 0;
        bool overlapped = false;
        std::atomic<int> inside{0};
        ScanOptions o;
        o.threads = 3;
        o.sliceBytes = 4096;
        o.batchIntervalMs = 0;
        int lastDone = 0;
        bool allDone = true, monotonic = true;
        o.onBatch = [&](std::vector<std::pair<int, TensorScan>>&& batch, const ScanProgress& p) {
            overlapped = overlapped || inside.fetch_add(1) > 0;
            std::lock_guard<std::mutex> lock(m);
            ++calls;
            for (const auto& [entry, t] : batch) {
                ++seen[size_t(entry)];
                allDone = allDone && t.done();
            }
            monotonic = monotonic && p.tensorsDone >= lastDone;
            lastDone = p.tensorsDone;
            inside.fetch_sub(1);
        };
        const ScanResult r = scanModel(*index, o);
        QVERIFY(r.complete());
        QVERIFY(!overlapped);
        QVERIFY(allDone);
        QVERIFY(monotonic);
        QVERIFY(calls >= 2);
        for (size_t i = 0; i < seen.size(); ++i)
            QVERIFY2(seen[i] == 1, index->entries[i].name.c_str());
        QCOMPARE(lastDone, int(index->entries.size()));
    }

    void cancelLeavesTheRestPending()
    {
        auto index = load(QStringLiteral("scan_problems.pt"));
        QVERIFY(index);
        {  // cancelled before it starts: nothing is done, nothing claims to be
            ScanOptions o;
            o.cancel = makeCancelToken();
            o.cancel->store(true);
            const ScanResult r = scanModel(*index, o);
            QVERIFY(r.cancelled);
            for (const TensorScan& t : r.tensors)
                QCOMPARE(t.state, TensorScan::State::Pending);
            QCOMPARE(r.progress.tensorsDone, 0);
        }
        {  // cancelled after the first batch, one thread: the rest stays Pending
            ScanOptions o;
            o.threads = 1;
            o.batchIntervalMs = 0;
            o.cancel = makeCancelToken();
            o.onBatch = [&](std::vector<std::pair<int, TensorScan>>&&, const ScanProgress&) { o.cancel->store(true); };
            const ScanResult r = scanModel(*index, o);
            QVERIFY(r.cancelled);
            int done = 0, pending = 0;
            for (const TensorScan& t : r.tensors)
                (t.done() ? done : pending) += 1;
            QVERIFY(done >= 1);
            QVERIFY(pending >= 1);
            QCOMPARE(done, r.progress.tensorsDone);
        }
    }

    void releasingPagesChangesNothing()
    {
        auto index = load(QStringLiteral("scan_problems.pt"));
        QVERIFY(index);
        ScanOptions keep;
        keep.releasePages = false;
        keep.sliceBytes = 4096;
        ScanOptions drop;
        drop.sliceBytes = 4096;
        const ScanResult a = scanModel(*index, keep);
        const ScanResult b = scanModel(*index, drop);
        const ScanResult c = scanModel(*index, drop);  // pages read again after release
        for (size_t i = 0; i < a.tensors.size(); ++i) {
            QCOMPARE(a.tensors[i].l2, b.tensors[i].l2);
            QCOMPARE(b.tensors[i].l2, c.tensors[i].l2);
            QCOMPARE(a.tensors[i].deadRows, c.tensors[i].deadRows);
        }
    }

    void mergeEqualsWhole()
    {
        TensorScan a, b;
        a.state = b.state = TensorScan::State::Done;
        // a = {1, 2, 3}, b = {10, NaN}: whole finite = {1, 2, 3, 10}
        a.elements = 3, a.finite = 3, a.min = 1, a.max = 3, a.mean = 2, a.std = std::sqrt(2.0 / 3), a.maxAbs = 3;
        a.l1 = 6, a.l2 = std::sqrt(14.0);
        b.elements = 2, b.finite = 1, b.nan = 1, b.min = b.max = b.mean = 10, b.maxAbs = 10, b.l1 = 10, b.l2 = 10;
        const TensorScan m = mergeScans({a, b});
        QCOMPARE(m.elements, 5);
        QCOMPARE(m.finite, 4);
        QCOMPARE(m.nan, 1);
        QCOMPARE(m.min, 1.0);
        QCOMPARE(m.max, 10.0);
        QVERIFY(close(m.mean, 4.0));
        QVERIFY(close(m.std, std::sqrt((9 + 4 + 1 + 36) / 4.0)));
        QVERIFY(close(m.l2, std::sqrt(114.0)));
        QCOMPARE(m.l1, 16.0);
    }

    void namePatterns()
    {
        QCOMPARE(namePattern("layers.3.mlp.up.weight"), std::string("layers.*.mlp.up.weight"));
        QCOMPARE(namePattern("h.10.attn.c_attn.bias"), std::string("h.*.attn.c_attn.bias"));
        QCOMPARE(namePattern("conv2.weight"), std::string("conv2.weight"));
        QCOMPARE(namePattern("experts.7.w1.12"), std::string("experts.*.w1.*"));
        QCOMPARE(namePattern(""), std::string(""));
        QCOMPARE(findingKindFromId(QStringLiteral("dead-rows")), std::optional<FindingKind>(FindingKind::DeadRows));
        QCOMPARE(findingKindFromId(QStringLiteral("bogus")), std::optional<FindingKind>());
    }
};

QTEST_GUILESS_MAIN(TestScan)
#include "tst_scan.moc"
