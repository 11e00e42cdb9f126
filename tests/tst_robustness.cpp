// Issue 10: the crafted files of the attack runs (tests/fixtures/make_attack_fixtures.py) and
// the defects they found, each checked against what the file really holds: sizes past 64 bits,
// broadcast views, allocation failures, memo and name amplification, names that collide,
// printf markers in names, export over its own input, and a file truncated while it is read.
#include "export/export.h"
#include "formats/loader.h"
#include "base/mappedfile.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "base/resourcelimits.h"
#include "stats/stats.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString attack(const QString& name)
{
    return fixture(QStringLiteral("attack/") + name);
}

std::shared_ptr<const ModelIndex> open(const QString& path)
{
    LoadOptions o;
    o.engine = LoaderEngine::Native;
    auto r = loadModel(path, o);
    if (!r)
        qWarning() << r.error();
    return r ? r.value() : nullptr;
}

// AddressSanitizer reserves terabytes of address space, so an address-space limit cannot
// apply to a sanitized paramscope-cli: those checks run in the normal build only.
#define SKIP_UNDER_ASAN()                                                                                           \
    do {                                                                                                            \
        if (PARAMSCOPE_ASAN)                                                                                        \
            QSKIP(                                                                                                  \
                "an address-space limit (prlimit --as) cannot apply under AddressSanitizer; the normal build runs " \
                "this");                                                                                            \
    } while (false)

QByteArray sha(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

long maxRssKb()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

}  // namespace

class TestRobustness : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void checkedSizeHelpers();
    void lyingSizes_data();
    void lyingSizes();
    void broadcastStatsMatchNumpy_data();
    void broadcastStatsMatchNumpy();
    void broadcastExportReadsBack();
    void allocationFailureIsAMessage();
    void memoAmplificationBounded();
    void longNamesBounded();
    void nameBudget();
    void collidingNamesUnique();
    void percentInNamesAndPaths();
    void shortZipDirectoryCount();
    void exportNeverOverwritesItsSource();
    void deepNameTreeIsLinear();
    void overlappingStridesBounded();
    void truncatedWhileStatsRun();
    void truncatedWhileExporting();
};

void TestRobustness::checkedSizeHelpers()
{
    QVERIFY(!checkedNumel({std::int64_t(1) << 62, 4}));
    QCOMPARE(*checkedNumel({std::int64_t(1) << 31, std::int64_t(1) << 31}), std::int64_t(1) << 62);
    QCOMPARE(*checkedNumel({5, 0, std::int64_t(1) << 62, std::int64_t(1) << 62}), std::int64_t(0));
    QVERIFY(!checkedNumel({3, -1}));
    QVERIFY(!checkedBytes({(std::int64_t(1) << 62) + 1}, 4));
    // Exact decimal products, checked against Python's integers.
    QCOMPARE(exactProductText({(std::int64_t(1) << 62) + 1}, 4), std::string("18446744073709551620"));
    QCOMPARE(exactProductText({std::int64_t(1) << 62, std::int64_t(1) << 62, 7}),
             std::string("148873535527910577765226390751398592512"));  // 7 * 2**124
    QCOMPARE(exactProductText({}, 1), std::string("1"));
    QCOMPARE(saturatingAdd(std::numeric_limits<std::int64_t>::max(), 5), std::numeric_limits<std::int64_t>::max());
}

void TestRobustness::lyingSizes_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("statsOk");  // within 2^62 elements
    const QJsonObject expected = readJson(attack(QStringLiteral("expected.json")));
    for (const QString& k : {QStringLiteral("overflow_2p62p1"), QStringLiteral("overflow_2p62"),
                             QStringLiteral("square_2p31"), QStringLiteral("bytes_2p61"), QStringLiteral("cube_2p30"),
                             QStringLiteral("hang_2p40"), QStringLiteral("broadcast_2p20")})
        QTest::newRow(qPrintable(k)) << k << (k != QLatin1String("overflow_2p62p1"));
    QVERIFY(expected.size() >= 7);
}

void TestRobustness::lyingSizes()
{
    QFETCH(QString, file);
    QFETCH(bool, statsOk);
    const QJsonObject truth = readJson(attack(QStringLiteral("expected.json"))).value(file).toObject();
    const QString path = attack(file + QStringLiteral(".pt"));

    // list --json: the true element and byte counts, as Python computes them, even past 64 bits.
    const CliRun list = runCli({QStringLiteral("list"), path, QStringLiteral("--json")});
    QCOMPARE(list.code, 0);
    QVERIFY2(list.out.contains(QStringLiteral("\"numel\": ") + truth.value(QStringLiteral("numel")).toString()),
             qPrintable(list.out));
    QVERIFY2(list.out.contains(QStringLiteral("\"bytes\": ") + truth.value(QStringLiteral("bytes")).toString()),
             qPrintable(list.out));
    const CliRun tree = runCli({QStringLiteral("tree"), path});
    QCOMPARE(tree.code, 0);
    QVERIFY2(!tree.out.contains(QStringLiteral(" 0 B")), qPrintable(tree.out));

    // stats: over the one stored value (3.0) however many logical elements; refused past 2^62.
    const CliRun stats = runCli({QStringLiteral("stats"), path, QStringLiteral("w"), QStringLiteral("--json")});
    if (!statsOk) {
        QCOMPARE(stats.code, 1);
        QVERIFY2(stats.err.contains(QStringLiteral("more than ParamScope computes with")), qPrintable(stats.err));
        QVERIFY(stats.err.contains(file + QStringLiteral(".pt")));
    } else {
        QCOMPARE(stats.code, 0);
        const QJsonObject s = QJsonDocument::fromJson(stats.out.toUtf8()).object();
        QCOMPARE(QString::number(s.value(QStringLiteral("elements")).toDouble(), 'f', 0),
                 QString::number(truth.value(QStringLiteral("numel")).toString().toDouble(), 'f', 0));
        QCOMPARE(s.value(QStringLiteral("mean")).toDouble(), 3.0);
        QCOMPARE(s.value(QStringLiteral("max")).toDouble(), 3.0);
        QCOMPARE(s.value(QStringLiteral("std")).toDouble(), 0.0);
    }

    // export: bounded; either the file reads back or a clear refusal, never a crash.
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("out.npy"));
    const CliRun ex = runCli({QStringLiteral("export"), path, QStringLiteral("w"), QStringLiteral("-o"), out});
    QVERIFY2(ex.code == 0 || ex.code == 1, qPrintable(ex.err));
    if (file == QLatin1String("broadcast_2p20")) {
        QCOMPARE(ex.code, 0);
        QCOMPARE(QFileInfo(out).size(), qint64(128 + 4 * (1 << 20)));
    } else {
        QCOMPARE(ex.code, 1);
        QVERIFY2(ex.err.contains(QStringLiteral("more than one export writes")), qPrintable(ex.err));
        QVERIFY(!QFileInfo::exists(out));
    }
}

void TestRobustness::broadcastStatsMatchNumpy_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"bc_rows", "bc_cols", "bc_mixed", "bc_int", "bc_big"})
        QTest::newRow(n) << QString::fromLatin1(n);
}

void TestRobustness::broadcastStatsMatchNumpy()
{
    QFETCH(QString, name);
    const QJsonObject t = readJson(attack(QStringLiteral("broadcast_stats.json"))).value(name).toObject();
    auto index = open(attack(name + QStringLiteral(".pt")));
    QVERIFY(index);
    StatsOptions o;
    o.bins = 10;
    auto r = computeStats(*index, 0, o);
    QVERIFY2(r, qPrintable(r.error()));
    const TensorStats& s = r.value();
    QVERIFY(s.broadcast > 1);
    QCOMPARE(s.elements, std::int64_t(t.value(QStringLiteral("elements")).toDouble()));
    QCOMPARE(s.finite, std::int64_t(t.value(QStringLiteral("finite")).toDouble()));
    QCOMPARE(s.zeros, std::int64_t(t.value(QStringLiteral("zeros")).toDouble()));
    auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); };
    QCOMPARE(s.min, t.value(QStringLiteral("min")).toDouble());
    QCOMPARE(s.max, t.value(QStringLiteral("max")).toDouble());
    QVERIFY2(near(s.mean, t.value(QStringLiteral("mean")).toDouble()), qPrintable(QString::number(s.mean, 'g', 17)));
    QVERIFY2(near(s.std, t.value(QStringLiteral("std")).toDouble()), qPrintable(QString::number(s.std, 'g', 17)));
    QVERIFY(near(s.l1, t.value(QStringLiteral("l1")).toDouble()));
    QVERIFY(near(s.l2, t.value(QStringLiteral("l2")).toDouble()));
    const QJsonArray q = t.value(QStringLiteral("quantiles")).toArray();
    for (int i = 0; i < 5; ++i) {
        const double want = q[i].toDouble();
        const double bound = s.quantiles.approximate ? s.quantiles.errorBound : 1e-12 * std::max(1.0, std::fabs(want));
        QVERIFY2(std::fabs(s.quantiles.values[size_t(i)] - want) <= bound,
                 qPrintable(QStringLiteral("q%1: %2 vs numpy %3")
                                .arg(i)
                                .arg(s.quantiles.values[size_t(i)], 0, 'g', 17)
                                .arg(want, 0, 'g', 17)));
    }
    if (name != QLatin1String("bc_int")) {  // integer bins are aligned to integers, not linspace
        const QJsonArray h = t.value(QStringLiteral("hist10")).toArray();
        QCOMPARE(s.histogram.bins(), 10);
        for (int i = 0; i < 10; ++i)
            QCOMPARE(s.histogram.counts[size_t(i)], std::int64_t(h[i].toDouble()));
    }
    // The same numbers as the materialised tensor, through a hand-made contiguous view.
    if (name == QLatin1String("bc_rows")) {
        auto v = index->view(0);
        QVERIFY(v);
        auto bytes = index->contiguousBytes(0);
        QVERIFY(bytes);
        TensorView flat;
        auto keep = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes.value()));
        flat.storage = StorageBytes{keep, keep->data(), keep->size()};
        flat.dtype = v->dtype;
        flat.shape = v->shape;
        flat.strides = contiguousStrides(v->shape);
        auto m = computeStats(flat, o);
        QVERIFY(m);
        QCOMPARE(m->broadcast, std::int64_t(1));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(m->quantiles.values[size_t(i)], s.quantiles.values[size_t(i)]);
        QCOMPARE(m->histogram.counts, s.histogram.counts);
        QCOMPARE(m->nan, s.nan);
    }
}

void TestRobustness::broadcastExportReadsBack()
{
    // A [4, 5] view with strides [0, 1] over 5 values (one NaN): the .npy holds the row 4 times.
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("row.npy"));
    const CliRun ex = runCli({QStringLiteral("export"), attack(QStringLiteral("broadcast_row.pt")), QStringLiteral("w"),
                              QStringLiteral("-o"), out});
    QCOMPARE(ex.code, 0);
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON),
             {QStringLiteral("-c"),
              QStringLiteral("import numpy as np,sys; a=np.load(sys.argv[1]); r=np.array([1,-2,np.nan,0,7.5],'f4'); "
                             "assert a.shape==(4,5) and a.dtype==np.float32, a; "
                             "assert all(np.array_equal(a[i], r, equal_nan=True) for i in range(4)), a; print('ok')"),
              out});
    py.waitForFinished(60000);
    QCOMPARE(QString::fromUtf8(py.readAllStandardOutput()).trimmed(), QStringLiteral("ok"));
}

void TestRobustness::allocationFailureIsAMessage()
{
    SKIP_UNDER_ASAN();
    // A CSV of 2^33 broadcast floats needs a 32 GiB copy: under a 2 GiB address-space limit
    // the allocation fails, and that is a message naming the file, not terminate().
    QTemporaryDir dir;
    const CliRun r = runCliLimited(
        qint64(2) << 30, {QStringLiteral("export"), attack(QStringLiteral("alloc_2p33.pt")), QStringLiteral("w"),
                          QStringLiteral("-o"), dir.filePath(QStringLiteral("w.csv"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("not enough memory")) && r.err.contains(QStringLiteral("alloc_2p33.pt")),
             qPrintable(r.err));
    QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("w.csv"))));
}

void TestRobustness::memoAmplificationBounded()
{
    SKIP_UNDER_ASAN();
    // LONG_BINPUT 2**27-16 in a 128 MB pickle: a memo grown to the index would take 1 GiB;
    // kept sparse, the whole open fits in 768 MB of address space (the pickle itself is 128 MB).
    const CliRun r = runCliLimited(
        qint64(768) << 20, {QStringLiteral("list"), attack(QStringLiteral("memo.pt")), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains(QStringLiteral("\"entries\": [")));
}

void TestRobustness::longNamesBounded()
{
    SKIP_UNDER_ASAN();
    // A 1 MB key over 2000 memo references to one tensor: every flattened name would be a
    // 1 MB copy (2 GB). Names past 64 KiB are skipped with the reason, in bounded memory.
    const CliRun r = runCliLimited(qint64(1) << 30, {QStringLiteral("list"), attack(QStringLiteral("longkey.pt"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("longer than 65536 bytes are skipped")), qPrintable(r.err.left(300)));
    QVERIFY(r.err.size() < 2000);  // the message quotes only the start of the name
}

void TestRobustness::nameBudget()
{
    // 4600 names of 60,000 bytes: 276 MB of names, past the 256 MiB limit.
    const CliRun r = runCli({QStringLiteral("list"), attack(QStringLiteral("namebudget.pt"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("names add up to more than 256 MiB")), qPrintable(r.err.left(300)));
}

void TestRobustness::collidingNamesUnique()
{
    for (const auto& [file, first, second] :
         {std::tuple{"collide.pt", "a.b", "a.b#2"}, std::tuple{"collide_empty.pt", "tensor", "tensor#2"}}) {
        auto index = open(attack(QString::fromLatin1(file)));
        QVERIFY(index);
        QCOMPARE(int(index->entries.size()), 2);
        QCOMPARE(index->entries[0].name, std::string(first));
        QCOMPARE(index->entries[1].name, std::string(second));
        QVERIFY(index->warnings.join(QLatin1Char('\n')).contains(QString::fromLatin1(second)));
        // Every export holds what it says it wrote: two distinct keys, read back by Python.
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("all.safetensors"));
        auto r = exportTensors(*index, {0, 1}, out, ExportFormat::Safetensors);
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(r->tensors, 2);
        auto back = open(out);
        QVERIFY(back);
        QCOMPARE(int(back->entries.size()), 2);
        QCOMPARE(back->entries[1].name, std::string(second));
        QCOMPARE(back->entries[1].numel, index->entries[1].numel);
    }
}

void TestRobustness::percentInNamesAndPaths()
{
    // User text is never re-interpreted by a later QString::arg.
    const CliRun zbad = runCli({QStringLiteral("list"), attack(QStringLiteral("zbad.pt"))});
    QCOMPARE(zbad.code, 1);
    QVERIFY2(zbad.err.contains(QStringLiteral("'zbad/x%2y%1' uses compression method 12")), qPrintable(zbad.err));
    // A name with markers in a view error, and a path with markers in a load error.
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("/tmp/m%1%2.pt");
    TensorEntry e;
    e.name = "a12b%2c";
    e.dtype = DType::Float32;
    e.shape = {4};
    e.storage = -1;
    index->entries.push_back(e);
    index->finalize();
    auto v = index->view(0);
    QVERIFY(!v);
    QCOMPARE(v.error(), QStringLiteral("'a12b%2c' in 'm%1%2.pt' has no data in this file"));
    QTemporaryDir dir;
    const QString odd = dir.filePath(QStringLiteral("bad%1%2%3.pt"));
    QFile f(odd);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("PK\x03\x04 not really a zip");
    f.close();
    auto r = loadModel(odd);
    QVERIFY(!r);
    QVERIFY2(r.error().contains(QStringLiteral("bad%1%2%3.pt")), qPrintable(r.error()));
}

void TestRobustness::shortZipDirectoryCount()
{
    const CliRun r = runCli({QStringLiteral("list"), attack(QStringLiteral("shortcount.pt"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("the directory claims 2 entries, but")), qPrintable(r.err));
}

void TestRobustness::exportNeverOverwritesItsSource()
{
    QTemporaryDir dir;
    const QString model = dir.filePath(QStringLiteral("model.safetensors"));
    QVERIFY(QFile::copy(attack(QStringLiteral("small.safetensors")), model));
    const QByteArray before = sha(model);
    const QString link = dir.filePath(QStringLiteral("link.safetensors"));
    QVERIFY(QFile::link(model, link));
    const QString hard = dir.filePath(QStringLiteral("hard.safetensors"));
    QCOMPARE(::link(QFile::encodeName(model).constData(), QFile::encodeName(hard).constData()), 0);
    for (const QString& target : {model, link, hard}) {
        for (const QString& opened : {model, link}) {
            const CliRun r =
                runCli({QStringLiteral("export"), opened, QStringLiteral("a"), QStringLiteral("-o"), target});
            QCOMPARE(r.code, 1);
            QVERIFY2(r.err.contains(QStringLiteral("it is the file the model is read from")), qPrintable(r.err));
            QCOMPARE(sha(model), before);
        }
    }
    // Another name still works.
    const CliRun ok = runCli({QStringLiteral("export"), model, QStringLiteral("a"), QStringLiteral("-o"),
                              dir.filePath(QStringLiteral("a.safetensors"))});
    QCOMPARE(ok.code, 0);
}

void TestRobustness::deepNameTreeIsLinear()
{
    // One name of 50,000 dotted parts: a node holding its full path would make the tree
    // quadratic (~3.7 GB here); views into one copy keep it linear.
    std::string name;
    for (int i = 0; i < 50000; ++i)
        name += (i ? ".p" : "p") + std::to_string(i % 10);
    ModelIndex index;
    TensorEntry e;
    e.name = name;
    e.dtype = DType::Float32;
    e.shape = {1};
    index.entries.push_back(e);
    index.finalize();
    const long before = maxRssKb();
    const ModelTree tree = ModelTree::build(index);
    const long grown = maxRssKb() - before;
    QCOMPARE(tree.size(), 50001);
    const TreeNode& leaf = tree.node(tree.nodeForEntry(0));
    QCOMPARE(leaf.fullName.size(), name.size());
    QCOMPARE(tree.depth(tree.nodeForEntry(0)), 50000);
    QVERIFY2(grown < 200 * 1024, qPrintable(QStringLiteral("tree grew RSS by %1 KB").arg(grown)));
}

void TestRobustness::overlappingStridesBounded()
{
    // Strides [1, 1] over 2N elements address N*N logical elements: walking them is bounded
    // by limits::kMaxReadsPerStoredElement reads per stored element.
    auto data = std::make_shared<std::vector<float>>(2000, 1.0f);
    ModelIndex index;
    struct Provider : StorageProvider {
        std::shared_ptr<std::vector<float>> d;
        Result<StorageBytes> storageBytes(int) const override
        {
            return StorageBytes{d, reinterpret_cast<const std::uint8_t*>(d->data()), d->size() * 4};
        }
    };
    auto p = std::make_shared<Provider>();
    p->d = data;
    index.provider = p;
    index.storages.push_back(StorageInfo{"s", DType::Float32, 8000});
    for (std::int64_t n : {1000, 64}) {
        TensorEntry e;
        e.name = "w" + std::to_string(n);
        e.dtype = DType::Float32;
        e.shape = {n, n};
        e.strides = {1, 1};
        e.storage = 0;
        index.entries.push_back(e);
    }
    index.finalize();
    auto big = index.view(0);
    QVERIFY(!big);
    QVERIFY2(big.error().contains(QStringLiteral("overlapping strides")), qPrintable(big.error()));
    auto small = index.view(1);  // 4096 reads of 127 stored elements: 32x, allowed
    QVERIFY2(small, qPrintable(small.error()));
    auto s = computeStats(index, 1);
    QVERIFY(s);
    QCOMPARE(s->elements, std::int64_t(4096));
    QCOMPARE(s->mean, 1.0);
}

namespace {

/// A float32 safetensors file of `count` values 1.0 (big enough that statistics take many chunks).
QString writeBigSafetensors(const QString& path, std::int64_t count)
{
    const QByteArray header = QStringLiteral("{\"w\":{\"dtype\":\"F32\",\"shape\":[%1],\"data_offsets\":[0,%2]}}")
                                  .arg(count)
                                  .arg(count * 4)
                                  .toUtf8();
    QByteArray padded = header + QByteArray((8 - header.size() % 8) % 8, ' ');
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    const std::uint64_t n = std::uint64_t(padded.size());
    char len[8];
    for (int i = 0; i < 8; ++i)
        len[i] = char((n >> (8 * i)) & 0xff);
    f.write(len, 8);
    f.write(padded);
    std::vector<float> block(1 << 20, 1.0f);
    for (std::int64_t done = 0; done < count; done += std::int64_t(block.size()))
        f.write(reinterpret_cast<const char*>(block.data()),
                qint64(std::min<std::int64_t>(std::int64_t(block.size()), count - done)) * 4);
    f.close();
    return path;
}

}  // namespace

void TestRobustness::truncatedWhileStatsRun()
{
    // The file is cut to 1000 bytes from inside the first progress callback, while the
    // worker threads are reading its pages: reads past the new end raise SIGBUS.
    QTemporaryDir dir;
    const QString path = writeBigSafetensors(dir.filePath(QStringLiteral("big.safetensors")), std::int64_t(64) << 20);
    auto index = open(path);
    QVERIFY(index);
    std::atomic<bool> cut{false};
    StatsOptions o;
    o.progress = [&](double) {
        if (!cut.exchange(true))
            QVERIFY(::truncate(QFile::encodeName(path).constData(), 1000) == 0);
    };
    auto r = computeStats(*index, 0, o);
    QVERIFY(cut.load());
    QVERIFY(!r);
    // "cut short while it was being read": a read faulted, the handler mapped zeros over the
    // lost page and marked the mapping (without the handler this process dies of SIGBUS).
    QVERIFY2(r.error().contains(QStringLiteral("'big.safetensors' was truncated or cut short while it was being read")),
             qPrintable(r.error()));
    // The process is alive and the next request says the same, without a fault.
    auto again = computeStats(*index, 0);
    QVERIFY(!again);
    QVERIFY(again.error().contains(QStringLiteral("truncated")));
}

void TestRobustness::truncatedWhileExporting()
{
    QTemporaryDir dir;
    const QString path = writeBigSafetensors(dir.filePath(QStringLiteral("big.safetensors")), std::int64_t(32) << 20);
    auto index = open(path);
    QVERIFY(index);
    std::atomic<bool> cut{false};
    ExportOptions o;
    o.progress = [&](double f) {
        if (f > 0.05 && !cut.exchange(true))
            QVERIFY(::truncate(QFile::encodeName(path).constData(), 1000) == 0);
    };
    const QString out = dir.filePath(QStringLiteral("w.npy"));
    auto r = exportTensors(*index, {0}, out, ExportFormat::Npy, o);
    QVERIFY(cut.load());
    QVERIFY(!r);
    QVERIFY2(r.error().contains(QStringLiteral("big.safetensors")) && r.error().contains(QStringLiteral("truncated")),
             qPrintable(r.error()));
    QVERIFY(!QFileInfo::exists(out));  // nothing made of zeros was committed
}

QTEST_GUILESS_MAIN(TestRobustness)
#include "tst_robustness.moc"
