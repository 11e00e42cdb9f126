// Comparing two checkpoints (core/diff and paramscope-cli diff) on PyTorch-written fixtures
// (make_diff_fixtures.py): every pair's status and figures against NumPy's, with and without
// a tolerance, on one thread and sliced on several; the DDP prefix detected, a user mapping,
// a .pt against its safetensors conversion, a training checkpoint's "model." prefix; cancel
// leaves pairs pending; the CLI's JSON and its diff-like exit codes.
#include "diff/diff.h"
#include "formats/loader.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

using namespace paramscope;
using namespace paramscope::test;

namespace {

std::shared_ptr<const ModelIndex> load(const QString& name)
{
    auto r = loadModel(fixture(name));
    if (!r) {
        qWarning("%s", qPrintable(r.error()));
        return nullptr;
    }
    return r.value();
}

bool close(double a, double b, double rel)
{
    return std::abs(a - b) <= rel * std::max({1e-300, std::abs(a), std::abs(b)});
}

}  // namespace

class TestDiff : public QObject {
    Q_OBJECT
    QJsonObject m_expected;

    /// The result's statuses and figures equal NumPy's for every tensor of `truth`.
    void compareWithNumpy(const DiffResult& r, const QJsonObject& truth)
    {
        QCOMPARE(int(r.pairs.size()), truth.size());
        for (size_t i = 0; i < r.pairs.size(); ++i) {
            const QString name = QString::fromStdString(r.alignment.pairs[i].key);
            const QJsonObject e = truth.value(name).toObject();
            QVERIFY2(!e.isEmpty(), qPrintable(name + QStringLiteral(": not in the truth file")));
            const PairDiff& d = r.pairs[i];
            QVERIFY2(diffStatusId(d.status) == e.value(QStringLiteral("status")).toString(),
                     qPrintable(QStringLiteral("%1: %2, NumPy %3")
                                    .arg(name, diffStatusId(d.status), e.value(QStringLiteral("status")).toString())));
            if (!d.compared())
                continue;
            const std::pair<const char*, double> figures[] = {{"max_abs_diff", d.maxAbsDiff},
                                                              {"mean_abs_diff", d.meanAbsDiff()},
                                                              {"rel_l2", d.relL2()},
                                                              {"cosine", d.cosine()},
                                                              {"changed_fraction", d.changedFraction()}};
            for (const auto& [key, value] : figures) {
                const QJsonValue want = e.value(QLatin1String(key));
                if (want.isNull()) {
                    QVERIFY2(std::isnan(value), qPrintable(name + QLatin1Char(' ') + QLatin1String(key)));
                    continue;
                }
                QVERIFY2(close(value, want.toDouble(), 1e-9) || std::abs(value - want.toDouble()) < 1e-15,
                         qPrintable(QStringLiteral("%1 %2: %3, NumPy %4")
                                        .arg(name, QLatin1String(key))
                                        .arg(value, 0, 'g', 17)
                                        .arg(want.toDouble(), 0, 'g', 17)));
            }
            QCOMPARE(d.nanAppeared, e.value(QStringLiteral("nan_appeared")).toInteger());
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_expected = readJson(fixture(QStringLiteral("diff_expected.json")));
        QVERIFY2(!m_expected.isEmpty(), "diff_expected.json missing: run the fixtures_diff test first");
    }

    void statusesAndFiguresEqualNumpy_data()
    {
        QTest::addColumn<double>("atol");
        QTest::addColumn<int>("threads");
        QTest::addColumn<qint64>("sliceBytes");
        QTest::addColumn<QString>("truth");
        QTest::addRow("exact, 1 thread") << 0.0 << 1 << (qint64(16) << 20) << QStringLiteral("a_b");
        QTest::addRow("exact, sliced, 3 threads") << 0.0 << 3 << qint64(512) << QStringLiteral("a_b");
        QTest::addRow("atol 1e-5, 2 threads") << 1e-5 << 2 << (qint64(16) << 20) << QStringLiteral("a_b_atol");
        QTest::addRow("atol 1e-5, sliced") << 1e-5 << 2 << qint64(1024) << QStringLiteral("a_b_atol");
    }
    void statusesAndFiguresEqualNumpy()
    {
        QFETCH(double, atol);
        QFETCH(int, threads);
        QFETCH(qint64, sliceBytes);
        QFETCH(QString, truth);
        auto a = load(QStringLiteral("diff_a.pt"));
        auto b = load(QStringLiteral("diff_b.pt"));
        QVERIFY(a && b);
        const Alignment al = alignModels(*a, *b);
        QVERIFY(al.stripA.empty() && al.stripB.empty());
        QCOMPARE(al.matched(), 24);
        QCOMPARE(al.onlyA(), 1);
        QCOMPARE(al.onlyB(), 1);
        DiffOptions o;
        o.atol = atol;
        o.threads = threads;
        o.sliceBytes = std::uint64_t(sliceBytes);
        int batches = 0, streamed = 0;
        o.onBatch = [&](std::vector<std::pair<int, PairDiff>>&& batch, const DiffProgress&) {
            ++batches;
            streamed += int(batch.size());
        };
        const DiffResult r = diffModels(*a, *b, al, o);
        QVERIFY(!r.cancelled);
        QVERIFY(!r.same());
        QCOMPARE(streamed, int(al.pairs.size()));  // every pair handed on once
        QVERIFY(batches >= 1);
        QCOMPARE(r.progress.bytesDone, r.progress.bytesTotal);
        compareWithNumpy(r, m_expected.value(truth).toObject());
        const auto counts = r.counts();
        QCOMPARE(counts[size_t(DiffStatus::OnlyA)], 1);
        QCOMPARE(counts[size_t(DiffStatus::OnlyB)], 1);
        QCOMPARE(counts[size_t(DiffStatus::ShapeChanged)], 1);
        QCOMPARE(counts[size_t(DiffStatus::DTypeChanged)], 1);
    }

    void ddpPrefixDetected()
    {
        auto a = load(QStringLiteral("diff_a.pt"));
        auto m = load(QStringLiteral("diff_module.pt"));
        QVERIFY(a && m);
        const Alignment al = alignModels(*a, *m);
        QCOMPARE(al.matchedBefore, 0);
        QCOMPARE(al.stripB, std::string("module."));
        QVERIFY(al.stripA.empty());
        QVERIFY(al.detected);
        QCOMPARE(al.matched(), int(a->entries.size()));
        const DiffResult r = diffModels(*a, *m, al);
        QVERIFY(r.same());
        QCOMPARE(r.counts()[size_t(DiffStatus::Identical)], int(a->entries.size()));
        // The other way round, the prefix is A's; without detection nothing aligns.
        const Alignment back = alignModels(*m, *a);
        QCOMPARE(back.stripA, std::string("module."));
        AlignOptions none;
        none.detect = false;
        QCOMPARE(alignModels(*a, *m, none).matched(), 0);
    }

    void userMappingAndExplicitStrip()
    {
        auto a = load(QStringLiteral("diff_a.pt"));
        auto b = load(QStringLiteral("diff_b.pt"));
        QVERIFY(a && b);
        // A's "layers.3.norm.bias" read as "lora.A": the two one-sided tensors pair up
        // (and differ in shape).
        AlignOptions o;
        o.map = {*parseNameMapping(QStringLiteral("layers.3.norm.bias=lora.A"))};
        const Alignment al = alignModels(*a, *b, o);
        QCOMPARE(al.onlyA(), 0);
        QCOMPARE(al.onlyB(), 0);
        const DiffResult r = diffModels(*a, *b, al);
        for (size_t i = 0; i < al.pairs.size(); ++i)
            if (al.pairs[i].key == "lora.A")
                QCOMPARE(r.pairs[i].status, DiffStatus::ShapeChanged);
        QVERIFY(!parseNameMapping(QStringLiteral("no-equals")));
        QVERIFY(!parseNameMapping(QStringLiteral("=x")));
        // An explicit strip on both sides.
        auto m = load(QStringLiteral("diff_module.pt"));
        AlignOptions s;
        s.stripA = "module.";
        s.stripB = "module.";
        QCOMPARE(alignModels(*m, *a, s).matched(), int(a->entries.size()));
    }

    void ptAgainstItsSafetensorsConversion()
    {
        auto a = load(QStringLiteral("diff_a.pt"));
        auto s = load(QStringLiteral("diff_a.safetensors"));
        QVERIFY(a && s);
        const DiffResult r = diffModels(*a, *s, alignModels(*a, *s));
        QVERIFY(r.same());
        QCOMPARE(r.counts()[size_t(DiffStatus::Identical)], int(a->entries.size()));
    }

    void trainingCheckpointAgainstItsStateDict()
    {
        auto b = load(QStringLiteral("diff_b.pt"));
        auto c = load(QStringLiteral("diff_ckpt.pt"));
        QVERIFY(b && c);
        const Alignment al = alignModels(*b, *c);
        QCOMPARE(al.stripB, std::string("model."));
        const DiffResult r = diffModels(*b, *c, al);
        QCOMPARE(r.counts()[size_t(DiffStatus::Identical)], int(b->entries.size()));
        QCOMPARE(r.counts()[size_t(DiffStatus::OnlyB)], int(c->entries.size() - b->entries.size()));
    }

    void cancelLeavesPairsPending()
    {
        auto a = load(QStringLiteral("diff_a.pt"));
        auto b = load(QStringLiteral("diff_b.pt"));
        QVERIFY(a && b);
        DiffOptions o;
        o.cancel = makeCancelToken();
        o.threads = 1;
        o.sliceBytes = 256;
        int seen = 0;
        o.onBatch = [&](std::vector<std::pair<int, PairDiff>>&& batch, const DiffProgress&) {
            seen += int(batch.size());
            o.cancel->store(true);
        };
        o.batchIntervalMs = 0;
        const DiffResult r = diffModels(*a, *b, alignModels(*a, *b), o);
        QVERIFY(r.cancelled);
        QVERIFY(!r.same());
        const int pending = r.counts()[size_t(DiffStatus::Pending)];
        QVERIFY2(pending > 0, "a cancelled diff compared everything");
        QVERIFY(r.progress.pairsDone < r.progress.pairsTotal);
    }

    void statusNamesRoundTrip()
    {
        for (int k = 0; k < kDiffStatuses; ++k) {
            const auto s = DiffStatus(k);
            QCOMPARE(diffStatusFromId(diffStatusId(s)), std::optional<DiffStatus>(s));
            QVERIFY(!diffStatusTitle(s).isEmpty());
        }
        QVERIFY(!diffStatusFromId(QStringLiteral("bogus")));
    }

    void cliJson()
    {
        const CliRun r = runCli({QStringLiteral("diff"), fixture(QStringLiteral("diff_a.pt")),
                                 fixture(QStringLiteral("diff_b.pt")), QStringLiteral("--json")});
        QCOMPARE(r.code, 1);
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(j.value(QStringLiteral("a")).toString(), fixture(QStringLiteral("diff_a.pt")));
        QCOMPARE(j.value(QStringLiteral("summary")).toObject().value(QStringLiteral("only-a")).toInt(), 1);
        QCOMPARE(j.value(QStringLiteral("summary")).toObject().value(QStringLiteral("same")).toBool(true), false);
        QVERIFY(j.value(QStringLiteral("mapping")).isObject());
        const QJsonObject truth = m_expected.value(QStringLiteral("a_b")).toObject();
        const QJsonArray tensors = j.value(QStringLiteral("tensors")).toArray();
        QCOMPARE(tensors.size(), truth.size());
        for (const QJsonValue& v : tensors) {
            const QJsonObject t = v.toObject();
            const QString name = t.value(QStringLiteral("name")).toString();
            const QJsonObject e = truth.value(name).toObject();
            QCOMPARE(t.value(QStringLiteral("status")).toString(), e.value(QStringLiteral("status")).toString());
            for (const char* key : {"dtype_a", "dtype_b", "shape_a", "shape_b", "max_abs_diff", "mean_abs_diff",
                                    "rel_l2", "cosine", "changed_fraction"})
                QVERIFY2(t.contains(QLatin1String(key)), key);
            if (e.contains(QStringLiteral("max_abs_diff")))
                QVERIFY(close(t.value(QStringLiteral("max_abs_diff")).toDouble(),
                              e.value(QStringLiteral("max_abs_diff")).toDouble(), 1e-9) ||
                        e.value(QStringLiteral("max_abs_diff")).toDouble() == 0);
            if (e.value(QStringLiteral("status")).toString() == QLatin1String("only-b"))
                QVERIFY(t.value(QStringLiteral("dtype_a")).isNull());
        }
    }

    void cliExitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        const QString d = QStringLiteral("diff");
        const QString a = fixture(QStringLiteral("diff_a.pt")), b = fixture(QStringLiteral("diff_b.pt"));
        const QString m = fixture(QStringLiteral("diff_module.pt")), s = fixture(QStringLiteral("diff_a.safetensors"));
        QTest::addRow("different") << QStringList{d, a, b} << 1;
        QTest::addRow("same file") << QStringList{d, a, a} << 0;
        QTest::addRow("pt vs safetensors") << QStringList{d, a, s} << 0;
        QTest::addRow("DDP prefix detected") << QStringList{d, a, m} << 0;
        QTest::addRow("DDP prefix, no detection") << QStringList{d, a, m, QStringLiteral("--no-detect")} << 1;
        QTest::addRow("explicit strip") << QStringList{d, m, a, QStringLiteral("--strip-prefix"),
                                                       QStringLiteral("module.")}
                                        << 0;
        QTest::addRow("missing file") << QStringList{d, a, QStringLiteral("/nonexistent/b.pt")} << 2;
        QTest::addRow("one file") << QStringList{d, a} << 2;
        QTest::addRow("bad atol") << QStringList{d, a, b, QStringLiteral("--atol"), QStringLiteral("-1")} << 2;
        QTest::addRow("bad map") << QStringList{d, a, b, QStringLiteral("--map"), QStringLiteral("nothing")} << 2;
        QTest::addRow("unknown option") << QStringList{d, a, b, QStringLiteral("--frobnicate")} << 2;
    }
    void cliExitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        const CliRun r = runCli(args);
        QVERIFY2(r.code == code,
                 qPrintable(QStringLiteral("exit %1, expected %2; stderr: %3").arg(r.code).arg(code).arg(r.err)));
    }

    void cliTextNamesTheMapping()
    {
        const CliRun r = runCli(
            {QStringLiteral("diff"), fixture(QStringLiteral("diff_a.pt")), fixture(QStringLiteral("diff_module.pt"))});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains(QLatin1String("'module.' stripped from B's names (detected)")), qPrintable(r.out));
        QVERIFY(r.out.contains(QLatin1String("Same (25 identical)")));
        const CliRun c = runCli({QStringLiteral("diff"), fixture(QStringLiteral("diff_a.pt")),
                                 fixture(QStringLiteral("diff_b.pt")), QStringLiteral("--changed-only")});
        QCOMPARE(c.code, 1);
        QVERIFY(!c.out.contains(QLatin1String("\nidentical ")));
        QVERIFY(c.out.contains(QLatin1String("\nshape-changed  conv.weight")));
    }
};

QTEST_GUILESS_MAIN(TestDiff)
#include "tst_diff.moc"
