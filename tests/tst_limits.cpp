// Issue 10: every resource limit of the readers reached by a file
// (tests/fixtures/make_limit_fixtures.py): pickle memo slots, values, container items,
// tensors, dimensions and stack entries; the inflated size of data.pkl and of a compressed
// storage; the per-file and total caps of TorchScript class sources; per-channel
// quantization channels; the walk over shared sub-graphs; the size of a sharded
// safetensors index. Each file just past a limit must end in the message that names the
// file and the limit, within a stated address-space bound (paramscope-cli under prlimit
// --as); each file exactly at a limit, where that is cheap, must open. The limits that
// other tests reach are listed in README "Robustness".
#include "formats/loader.h"
#include "base/mappedfile.h"
#include "formats/pickle/pickle.h"
#include "testutil.h"
#include "formats/zip/zipreader.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <map>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString limitFile(const QString& name)
{
    return fixture(QStringLiteral("limits/") + name);
}

QJsonObject truth(const QString& key)
{
    return readJson(limitFile(QStringLiteral("expected.json"))).value(key).toObject();
}

constexpr qint64 MiB = qint64(1) << 20;

/// name -> kind of `list --json`.
std::map<QString, QString> kinds(const CliRun& r)
{
    std::map<QString, QString> out;
    const QJsonArray entries =
        QJsonDocument::fromJson(r.out.toUtf8()).object().value(QStringLiteral("entries")).toArray();
    for (const auto& e : entries)
        out[e.toObject().value(QStringLiteral("name")).toString()] =
            e.toObject().value(QStringLiteral("kind")).toString();
    return out;
}

std::map<QString, QString> kinds(const QJsonObject& expected)
{
    std::map<QString, QString> out;
    const QJsonObject k = expected.value(QStringLiteral("kinds")).toObject();
    for (auto it = k.begin(); it != k.end(); ++it)
        out[it.key()] = it.value().toString();
    return out;
}

QString dump(const std::map<QString, QString>& m)
{
    QStringList s;
    for (const auto& [k, v] : m)
        s << k + QLatin1Char('=') + v;
    return s.join(QLatin1Char(' '));
}

}  // namespace

class TestLimits : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void pickleLimits_data();
    void pickleLimits();
    void realCheckpointIsFarBelowThePickleLimits();
    void dimensionsBoundedBeforeCopying();
    void sharedGraphWalkBounded();
    void quantChannelsBounded();
    void shardIndexSize();
    void dataPklInflatedSize();
    void compressedStorageInflatedSize();
    void codeFileCap();
    void codeTotalCap();
};

void TestLimits::initTestCase()
{
    // The generator and the reader agree on the limits (a change to one must change both).
    const pickle::Limits l;
    QCOMPARE(truth(QStringLiteral("memo")).value(QStringLiteral("limit")).toInteger(), qint64(l.maxMemo));
    QCOMPARE(truth(QStringLiteral("values")).value(QStringLiteral("limit")).toInteger(), qint64(l.maxValues));
    QCOMPARE(truth(QStringLiteral("stack")).value(QStringLiteral("limit")).toInteger(), qint64(l.maxStack));
    QCOMPARE(l.maxValues, std::size_t(20'000'000));  // 64-byte values: 1.28 GB for one open at most
    QCOMPARE(l.maxMemo, std::size_t(20'000'000));
    QCOMPARE(truth(QStringLiteral("items")).value(QStringLiteral("limit")).toInteger(), qint64(l.maxItems));
    QCOMPARE(truth(QStringLiteral("tensors")).value(QStringLiteral("limit")).toInteger(), qint64(l.maxTensors));
}

void TestLimits::pickleLimits_data()
{
    QTest::addColumn<QString>("stem");
    QTest::addColumn<QString>("message");
    QTest::addColumn<qint64>("failsAtByte");  // the opcode past the limit
    QTest::addColumn<qint64>("addressSpace");
    const pickle::Limits l;
    // One value memoized under limit+1 distinct LONG_BINPUT indices (5 bytes each, after
    // PROTO 2 and EMPTY_DICT); the dense memo of 20M slots is 160-256 MB.
    QTest::newRow("memo") << QStringLiteral("memo") << QStringLiteral("too many memo entries (limit 20000000)")
                          << qint64(3 + 5 * qint64(l.maxMemo)) << 1024 * MiB;
    // EMPTY_DICT POP pairs: a new 64-byte value each; at the limit 1.28 GB of values.
    QTest::newRow("values") << QStringLiteral("values") << QStringLiteral("too many objects (limit 20000000)")
                            << qint64(2 + 2 * qint64(l.maxValues)) << 1536 * MiB;
    // One memoized dict appended to a list 40M times in APPENDS batches of 1M (MARK, 1M
    // BINGET, APPENDS), then one APPEND more; 1.1 GB at the limit (the arena keeps the
    // blocks the list grew out of).
    QTest::newRow("items") << QStringLiteral("items")
                           << QStringLiteral("containers hold more than 40000000 items in total")
                           << qint64(7 + 40 * (2 + 2 * 1'000'000) + 2) << 1536 * MiB;
    // One memoized _rebuild_tensor_v2 and argument tuple REDUCEd 4M (+1) times: a value
    // each, but a TensorRef and its size and stride vectors too: 1.2 GB at the limit
    // (1.75 GiB of address space).
    QTest::newRow("tensors") << QStringLiteral("tensors") << QStringLiteral("more than 4000000 tensors")
                             << qint64(truth(QStringLiteral("tensors")).value(QStringLiteral("fails_at")).toInteger())
                             << 2048 * MiB;
    // BINGET of one memoized dict, again and again: entries, no values.
    QTest::newRow("stack") << QStringLiteral("stack") << QStringLiteral("the stack grows beyond 10000000 entries")
                           << qint64(3 + 2 * qint64(l.maxStack)) << 512 * MiB;
}

void TestLimits::pickleLimits()
{
    QFETCH(QString, stem);
    QFETCH(QString, message);
    QFETCH(qint64, failsAtByte);
    QFETCH(qint64, addressSpace);
    // Exactly at the limit: opens (an empty model), within the address-space bound.
    const CliRun at = runCliLimited(
        addressSpace,
        {QStringLiteral("list"), limitFile(stem + QStringLiteral("_at_limit.pt")), QStringLiteral("--json")});
    QVERIFY2(at.code == 0, qPrintable(at.err));
    QVERIFY2(at.out.contains(QStringLiteral("\"entries\": []")), qPrintable(at.out));
    // One past it: the limit's message, naming the file and where in data.pkl it was reached
    // (not "out of memory": the limit comes first).
    const QString over = stem + QStringLiteral("_over_limit.pt");
    const CliRun r = runCliLimited(addressSpace, {QStringLiteral("list"), limitFile(over)});
    QCOMPARE(r.code, 1);
    const QString want = QStringLiteral("'%1' cannot be opened: data.pkl cannot be read: %2 (at byte %3)")
                             .arg(over, message, QString::number(failsAtByte));
    QVERIFY2(r.err.contains(want), qPrintable(r.err + QStringLiteral("\nwanted: ") + want));
}

void TestLimits::realCheckpointIsFarBelowThePickleLimits()
{
    // A state_dict saved by torch.save (2500 Linear layers: 5000 tensors and the per-module
    // _metadata dicts). What it costs per tensor in values, memo slots and stack entries is
    // measured with the limits themselves (the smallest limit it opens with), and a
    // checkpoint of 1M such tensors must fit within the default limits.
    const QString path = limitFile(QStringLiteral("checkpoint_5000.pt"));
    auto file = MappedFile::open(path);
    QVERIFY2(file, qPrintable(file.error()));
    auto zip = ZipReader::open(file.value());
    QVERIFY2(zip, qPrintable(zip.error()));
    const ZipEntry* pkl = zip->find("checkpoint_5000/data.pkl");
    QVERIFY(pkl);
    auto bytes = zip->read(*pkl, std::uint64_t(1) << 30, true);
    QVERIFY2(bytes, qPrintable(bytes.error()));
    const std::size_t tensors =
        std::size_t(truth(QStringLiteral("checkpoint_5000")).value(QStringLiteral("tensors")).toInt());
    QCOMPARE(tensors, std::size_t(5000));
    auto doc = pickle::unpickle(bytes->data, size_t(bytes->size));
    QVERIFY2(doc, qPrintable(doc ? QString() : doc.error()));
    QCOMPARE(doc->tensorCount(), tensors);

    // The smallest value of one limit the pickle opens with (binary search; every other limit
    // at its default), and that one less fails with that limit's message.
    auto smallest = [&](std::size_t pickle::Limits::*field, const char* message) -> std::size_t {
        std::size_t lo = 1, hi = pickle::Limits{}.*field;
        auto opens = [&](std::size_t n) {
            pickle::Limits l;
            l.*field = n;
            auto r = pickle::unpickle(bytes->data, size_t(bytes->size), l);
            if (!r && !r.error().contains(QLatin1String(message)))
                qWarning() << r.error();
            return bool(r);
        };
        if (!opens(hi))
            return 0;
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            if (opens(mid))
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo;
    };
    const pickle::Limits defaults;
    const std::size_t values = smallest(&pickle::Limits::maxValues, "too many objects");
    const std::size_t memo = smallest(&pickle::Limits::maxMemo, "too many memo entries");
    const std::size_t stack = smallest(&pickle::Limits::maxStack, "the stack grows beyond");
    const std::size_t items = smallest(&pickle::Limits::maxItems, "items in total");
    QCOMPARE(values, doc->valueCount());
    qInfo(
        "torch.save state_dict of %zu tensors: %zu values, %zu memo slots, %zu container items, %zu stack "
        "entries (per tensor: %.2f, %.2f, %.2f, %.4f)",
        tensors, values, memo, items, stack, double(values) / double(tensors), double(memo) / double(tensors),
        double(items) / double(tensors), double(stack) / double(tensors));
    const std::size_t million = 1'000'000 / tensors;  // 200 such checkpoints
    QVERIFY2(values * million <= defaults.maxValues, qPrintable(QString::number(values * million)));
    QVERIFY2(memo * million <= defaults.maxMemo, qPrintable(QString::number(memo * million)));
    QVERIFY2(items * million <= defaults.maxItems, qPrintable(QString::number(items * million)));
    QVERIFY(stack < 10000);  // bounded by pickle's batches of 1000, not by the tensor count
}

void TestLimits::dimensionsBoundedBeforeCopying()
{
    // 1000 tensors rebuilt from one memoized argument tuple whose size and stride have 1M
    // dimensions (copied per tensor, 16 GB from an 18 KB file), beside a real 64-dimension
    // tensor written by PyTorch: the wide ones are skipped with the reason before anything is
    // copied (256 MiB of address space is enough), the 64-dimension one opens.
    const QJsonObject t = truth(QStringLiteral("dims"));
    QCOMPARE(t.value(QStringLiteral("limit")).toInt(), 64);
    const QString path = limitFile(QStringLiteral("dims.pt"));
    const CliRun r = runCliLimited(256 * MiB, {QStringLiteral("list"), path, QStringLiteral("--json")});
    QVERIFY2(r.code == 0, qPrintable(r.err.left(2000)));
    const QJsonArray entries =
        QJsonDocument::fromJson(r.out.toUtf8()).object().value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), 1);
    QCOMPARE(entries[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("ok64"));
    QCOMPARE(entries[0].toObject().value(QStringLiteral("shape")).toArray(),
             t.value(QStringLiteral("ok64_shape")).toArray());
    QCOMPARE(int(r.err.count(QStringLiteral("skipped: it has 1000000 dimensions (more than 64)"))),
             t.value(QStringLiteral("copies")).toInt());
    QVERIFY(r.err.contains(QStringLiteral("'w.999' skipped")));
    const CliRun s =
        runCliLimited(256 * MiB, {QStringLiteral("stats"), path, QStringLiteral("ok64"), QStringLiteral("--json")});
    QVERIFY2(s.code == 0, qPrintable(s.err.left(500)));
    const QJsonObject st = QJsonDocument::fromJson(s.out.toUtf8()).object();
    QCOMPARE(st.value(QStringLiteral("min")).toDouble(), 0.0);
    QCOMPARE(st.value(QStringLiteral("max")).toDouble(), 1.0);
    QCOMPARE(st.value(QStringLiteral("elements")).toInteger(), qint64(2));
}

void TestLimits::sharedGraphWalkBounded()
{
    // L0 = [t, t], L(i+1) = [Li, Li]: 41 values that a walk following every reference would
    // visit 2^41 times (checked by Python's unpickler in the generator's layout). The walk is
    // bounded by 4 visits per value + 100,000: a clear refusal, at once. With 10 levels the
    // same shape opens with its 1024 names, all of one storage.
    const CliRun r = runCliLimited(256 * MiB, {QStringLiteral("list"), limitFile(QStringLiteral("shared_dag.pt"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(
                 QStringLiteral("'shared_dag.pt' cannot be opened: data.pkl's object graph is too large to walk")),
             qPrintable(r.err));
    const CliRun ok = runCliLimited(
        256 * MiB, {QStringLiteral("list"), limitFile(QStringLiteral("shared_dag10.pt")), QStringLiteral("--json")});
    QVERIFY2(ok.code == 0, qPrintable(ok.err));
    const QJsonArray entries =
        QJsonDocument::fromJson(ok.out.toUtf8()).object().value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), truth(QStringLiteral("shared_dag")).value(QStringLiteral("control_entries")).toInt());
    QCOMPARE(entries[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("0.0.0.0.0.0.0.0.0.0"));
    QCOMPARE(entries[1023].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("1.1.1.1.1.1.1.1.1.1"));
}

void TestLimits::quantChannelsBounded()
{
    // 50 per-channel qint8 tensors of 2^24 channels each, rebuilt from one memoized argument
    // tuple (a 2 KB file): each index entry holds its scales and zero points, 256 MB a tensor,
    // 12.8 GB in all. The file's channels are bounded by 2^24: the first tensor opens, the
    // other 49 are skipped with the reason, in 768 MiB of address space.
    const QJsonObject t = truth(QStringLiteral("quant_channels"));
    QCOMPARE(t.value(QStringLiteral("limit")).toInteger(), qint64(1) << 24);
    const CliRun r = runCliLimited(
        768 * MiB, {QStringLiteral("list"), limitFile(QStringLiteral("quant_channels.pt")), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, qPrintable(r.err.left(2000)));
    const QJsonArray entries =
        QJsonDocument::fromJson(r.out.toUtf8()).object().value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), 1);
    QCOMPARE(entries[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("q0"));
    QCOMPARE(entries[0].toObject().value(QStringLiteral("dtype")).toString(), QStringLiteral("qint8"));
    QCOMPARE(entries[0].toObject().value(QStringLiteral("numel")).toInteger(), qint64(1) << 24);
    QCOMPARE(
        int(r.err.count(QStringLiteral("skipped: its per-channel quantization parameters would bring the file's total "
                                       "past 16777216 channels"))),
        t.value(QStringLiteral("count")).toInt() - 1);
    // The same hand-made layout, small, is what torch.load reads (the generator checks it):
    // both tensors open and dequantize to what PyTorch says.
    const CliRun small = runCliLimited(512 * MiB, {QStringLiteral("stats"), limitFile(QStringLiteral("quant_small.pt")),
                                                   QStringLiteral("q1"), QStringLiteral("--json")});
    QVERIFY2(small.code == 0, qPrintable(small.err));
    const QJsonObject s = QJsonDocument::fromJson(small.out.toUtf8()).object();
    QCOMPARE(s.value(QStringLiteral("elements")).toInteger(), qint64(4));
    QCOMPARE(s.value(QStringLiteral("mean")).toDouble(), t.value(QStringLiteral("value")).toDouble());
    QCOMPARE(s.value(QStringLiteral("max")).toDouble(), 3.0);
    // Statistics of the 2^24-channel tensor: channels are counted in blocks, so memory stays
    // that of one block plus the distinct values (a table per channel took 32 GB).
    const CliRun big =
        runCliLimited(2048 * MiB, {QStringLiteral("stats"), limitFile(QStringLiteral("quant_channels.pt")),
                                   QStringLiteral("q0"), QStringLiteral("--json")});
    QVERIFY2(big.code == 0, qPrintable(big.err.right(500)));
    const QJsonObject b = QJsonDocument::fromJson(big.out.toUtf8()).object();
    QCOMPARE(b.value(QStringLiteral("elements")).toInteger(), qint64(1) << 24);
    QCOMPARE(b.value(QStringLiteral("finite")).toInteger(), qint64(1) << 24);
    QCOMPARE(b.value(QStringLiteral("mean")).toDouble(), t.value(QStringLiteral("value")).toDouble());
}

void TestLimits::shardIndexSize()
{
    // A sharded safetensors index of 100 MB + 1 byte (a sparse file): refused by its size,
    // before it is read (256 MiB of address space).
    const QJsonObject t = truth(QStringLiteral("index_over"));
    const QString path = limitFile(QStringLiteral("index_over/model.safetensors.index.json"));
    QCOMPARE(QFileInfo(path).size(), t.value(QStringLiteral("size")).toInteger());
    const CliRun r = runCliLimited(256 * MiB, {QStringLiteral("list"), path});
    QCOMPARE(r.code, 1);
    QVERIFY2(
        r.err.contains(QStringLiteral("'model.safetensors.index.json' is not a valid sharded safetensors index: it is "
                                      "100000001 bytes, above the limit of 100000000")),
        qPrintable(r.err));
}

void TestLimits::dataPklInflatedSize()
{
    // A real deflate stream of 1 GiB + 1 byte (a valid pickle) in a 1 MB file: within the
    // deflate ratio, past the data.pkl limit. Refused before anything is inflated: 256 MiB of
    // address space is enough (inflating would need 1 GiB).
    const QJsonObject t = truth(QStringLiteral("pickle_1g"));
    QCOMPARE(t.value(QStringLiteral("limit")).toInteger(), qint64(1) << 30);
    QVERIFY(t.value(QStringLiteral("file_bytes")).toInteger() * qint64(ZipReader::kMaxDeflateRatio) >
            t.value(QStringLiteral("declared")).toInteger());
    const CliRun r = runCliLimited(256 * MiB, {QStringLiteral("list"), limitFile(QStringLiteral("pickle_1g.pt"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(
        r.err.contains(QStringLiteral("'pickle_1g/data.pkl' in 'pickle_1g.pt' is too large to read (1073741825 bytes, "
                                      "limit 1073741824)")),
        qPrintable(r.err));
}

void TestLimits::compressedStorageInflatedSize()
{
    // A deflated storage record of 4 GiB + 4 bytes (4 MB in the file, ZIP64): 'w', a view of
    // its first 4 floats, is skipped with the reason; 'ok', stored beside it, opens and its
    // statistics are those of [0, 1, 2]. Nothing is inflated: 256 MiB of address space.
    const QJsonObject t = truth(QStringLiteral("storage_4g"));
    QCOMPARE(t.value(QStringLiteral("limit")).toInteger(), qint64(4) << 30);
    QCOMPARE(t.value(QStringLiteral("declared")).toInteger(), (qint64(4) << 30) + 4);
    const QString path = limitFile(QStringLiteral("storage_4g.pt"));
    const CliRun list = runCliLimited(256 * MiB, {QStringLiteral("list"), path, QStringLiteral("--json")});
    QVERIFY2(list.code == 0, qPrintable(list.err));
    const auto k = kinds(list);
    QCOMPARE(int(k.size()), 1);
    QVERIFY(k.count(QStringLiteral("ok")));
    QVERIFY2(list.err.contains(QStringLiteral("'w' skipped: its storage data/0 is compressed and too large to inflate "
                                              "(4294967300 bytes)")),
             qPrintable(list.err));
    const CliRun stats =
        runCliLimited(256 * MiB, {QStringLiteral("stats"), path, QStringLiteral("ok"), QStringLiteral("--json")});
    QVERIFY2(stats.code == 0, qPrintable(stats.err));
    const QJsonObject s = QJsonDocument::fromJson(stats.out.toUtf8()).object();
    QCOMPARE(s.value(QStringLiteral("elements")).toInteger(), qint64(3));
    QCOMPARE(s.value(QStringLiteral("min")).toDouble(), 0.0);
    QCOMPARE(s.value(QStringLiteral("max")).toDouble(), 2.0);
    QCOMPARE(s.value(QStringLiteral("mean")).toDouble(), 1.0);
    // The one-member request for 'w' says it is not there (it was skipped, not half-read).
    const CliRun w = runCliLimited(256 * MiB, {QStringLiteral("stats"), path, QStringLiteral("w")});
    QCOMPARE(w.code, 1);
    QVERIFY2(w.err.contains(QStringLiteral("no tensor named 'w' in 'storage_4g.pt'")), qPrintable(w.err));
}

void TestLimits::codeFileCap()
{
    // A real torch.jit.save archive whose Linear class source is padded with comment lines
    // to exactly 16 MiB (read: every kind as Python's named_parameters/named_buffers say)
    // and to 16 MiB + 1 byte (not read: Linear's tensors have kind 'tensor', the others
    // keep theirs, and a warning names the source, the file and the limit).
    const CliRun at = runCliLimited(
        512 * MiB,
        {QStringLiteral("list"), limitFile(QStringLiteral("code_file_at_limit.pt")), QStringLiteral("--json")});
    QVERIFY2(at.code == 0, qPrintable(at.err));
    QCOMPARE(dump(kinds(at)), dump(kinds(truth(QStringLiteral("code_file_at_limit")))));
    QVERIFY2(!at.err.contains(QStringLiteral("too large")), qPrintable(at.err));

    const QJsonObject t = truth(QStringLiteral("code_file_over_limit"));
    const CliRun over = runCliLimited(
        512 * MiB,
        {QStringLiteral("list"), limitFile(QStringLiteral("code_file_over_limit.pt")), QStringLiteral("--json")});
    QVERIFY2(over.code == 0, qPrintable(over.err));
    QCOMPARE(dump(kinds(over)), dump(kinds(t)));
    QCOMPARE(t.value(QStringLiteral("size")).toInteger(), qint64(16) * MiB + 1);
    const QString want = QStringLiteral(
                             "'code_file_over_limit/%1' in 'code_file_over_limit.pt' is too large to read "
                             "(16777217 bytes, limit 16777216)")
                             .arg(t.value(QStringLiteral("file")).toString());
    QVERIFY2(over.err.contains(want), qPrintable(over.err + QStringLiteral("\nwanted: ") + want));
}

void TestLimits::codeTotalCap()
{
    // Every class source of the archive padded to 15 MiB (six of them, 90 MiB): the first
    // four the reader meets (the root's, then its children's in attribute order) fit in
    // 64 MiB and are read, the last two are not, each with a warning; their modules'
    // tensors have kind 'tensor'. 512 MiB of address space is enough.
    const QJsonObject t = truth(QStringLiteral("code_total_over_limit"));
    QCOMPARE(t.value(QStringLiteral("limit")).toInteger(), qint64(64) * MiB);
    const CliRun r = runCliLimited(
        512 * MiB,
        {QStringLiteral("list"), limitFile(QStringLiteral("code_total_over_limit.pt")), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(dump(kinds(r)), dump(kinds(t)));
    for (const auto& f : t.value(QStringLiteral("unread")).toArray()) {
        const QString want = QStringLiteral(
                                 "'code_total_over_limit.pt': the class sources under code/ add up to more than "
                                 "64 MiB; code_total_over_limit/%1 is not read")
                                 .arg(f.toString());
        QVERIFY2(r.err.contains(want), qPrintable(r.err + QStringLiteral("\nwanted: ") + want));
    }
    for (const auto& f : t.value(QStringLiteral("read")).toArray())
        QVERIFY2(!r.err.contains(f.toString() + QStringLiteral(" is not read")), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestLimits)
#include "tst_limits.moc"
