// The legacy torch.save readers (formats/legacy/) against independent truth: files written by
// torch.save(..., _use_new_zipfile_serialization=False) and files built by hand in the layouts
// PyTorch 1.13 still reads (storage views, the tar format), each compared with what torch.load
// returned for it (tests/fixtures/make_legacy_fixtures.py). The container level (pickles,
// storage records, tensor table) is checked on its own with a strided gather written here;
// bad inputs and truncation at every byte end in messages that name the file.
#include "base/mappedfile.h"
#include "formats/legacy/legacyreader.h"
#include "formats/loader.h"
#include "model/modelindex.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>
#include <set>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString legacyFixture(const QString& name)
{
    return fixture(QStringLiteral("legacy/") + name);
}

Result<LegacyContainer> readContainer(const QString& path)
{
    auto f = MappedFile::open(path);
    if (!f)
        return Result<LegacyContainer>::failureFrom(f);
    const MappedFile& m = *f.value();
    LoadOptions o;
    return startsLikeTar(m.data(), m.size()) ? readLegacyTar(m, o) : readLegacyTorchSave(m, o);
}

/// A tensor of the main pickle, reached by its key path.
struct Found {
    std::string name;
    const pickle::TensorRef* tensor = nullptr;
};

void collect(const pickle::Value* v, const std::string& prefix, std::vector<Found>& out, int depth = 0)
{
    using VT = pickle::Value::Type;
    if (!v || depth > 32)
        return;
    auto join = [&](const std::string& k) { return prefix.empty() ? k : prefix + "." + k; };
    if (v->type == VT::Tensor) {
        out.push_back({prefix, v->tensor});
    } else if (v->type == VT::Dict) {
        for (std::size_t i = 0; i < v->dictSize(); ++i) {
            const pickle::Value* k = v->key(i);
            const std::string key = k->type == VT::String ? std::string(k->text) : std::to_string(k->integer);
            collect(v->value(i), join(key), out, depth + 1);
        }
    } else if (v->type == VT::List || v->type == VT::Tuple) {
        for (std::size_t i = 0; i < v->items.size(); ++i)
            collect(v->items[i], join(std::to_string(i)), out, depth + 1);
    }
}

/// The tensor's elements in C order, gathered from its record by its strides.
QByteArray gather(const MappedFile& f, const LegacyRecord& r, const pickle::TensorRef& t, int item)
{
    std::int64_t numel = 1;
    for (auto d : t.shape)
        numel *= d;
    QByteArray out;
    std::vector<std::int64_t> index(t.shape.size(), 0);
    for (std::int64_t n = 0; n < numel; ++n) {
        std::int64_t at = t.offset;
        for (std::size_t d = 0; d < index.size(); ++d)
            at += index[d] * t.strides[d];
        if (at < 0 || std::uint64_t(at + 1) * std::uint64_t(item) > r.bytes)
            return QByteArray("OUT OF RANGE");
        out.append(reinterpret_cast<const char*>(f.data() + r.offset + std::uint64_t(at) * std::uint64_t(item)), item);
        for (std::size_t d = index.size(); d-- > 0;) {
            if (++index[d] < t.shape[d])
                break;
            index[d] = 0;
        }
    }
    return out;
}

}  // namespace

class TestLegacy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void containerMatchesPython_data();
    void containerMatchesPython();
    void sniffing();
    void badContainers_data();
    void badContainers();
    void truncatedEverywhere_data();
    void truncatedEverywhere();
    void loadMatchesPython_data();
    void loadMatchesPython();
    void viewsShareOneStorage();
    void badFilesThroughLoader_data();
    void badFilesThroughLoader();
    void truncatedThroughLoader();
    void commandLineLists();
    void libTorchEngineRefusesClearly();
    void cancelledAndProgress();
};

void TestLegacy::containerMatchesPython_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("format");
    for (const char* n :
         {"state_dict", "views", "checkpoint", "protocol4", "storage_views", "simple", "cuda_storage", "python2"})
        QTest::newRow(n) << QString::fromLatin1(n) << int(ModelFormat::TorchSaveLegacy);
    QTest::newRow("old_tar") << QStringLiteral("old_tar") << int(ModelFormat::TorchSaveTar);
    QTest::newRow("old_tar_pax") << QStringLiteral("old_tar_pax") << int(ModelFormat::TorchSaveTar);
}

// Every tensor torch.load found, by key path: dtype, shape, strides, offset into its root
// storage, and its values gathered from the storage record, as torch.load reported them.
void TestLegacy::containerMatchesPython()
{
    QFETCH(QString, name);
    QFETCH(int, format);
    const QJsonObject truth = readJson(legacyFixture(name + QStringLiteral(".truth.json")));
    const QByteArray values = readAll(legacyFixture(name + QStringLiteral(".values.bin")));
    QVERIFY2(!truth.isEmpty(), "truth missing");
    auto c = readContainer(legacyFixture(name + QStringLiteral(".pt")));
    QVERIFY2(c.ok(), qPrintable(c.error()));
    QCOMPARE(int(c->format), format);
    QVERIFY2(c->warnings.isEmpty(), qPrintable(c->warnings.join(QLatin1Char('\n'))));
    auto file = MappedFile::open(legacyFixture(name + QStringLiteral(".pt")));
    QVERIFY(file.ok());
    std::map<std::string, const LegacyRecord*> records;
    for (const auto& r : c->records)
        records[r.key] = &r;
    std::vector<Found> found;
    collect(c->doc.root, std::string(), found);
    const QJsonArray expected = truth.value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(found.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject x = expected[i].toObject();
        const Found& f = found[std::size_t(i)];
        const QByteArray where = (name + QLatin1Char(':') + x.value(QStringLiteral("name")).toString()).toUtf8();
        QCOMPARE(QString::fromStdString(f.name), x.value(QStringLiteral("name")).toString());
        QVERIFY2(f.tensor->error.empty(), f.tensor->error.c_str());
        QVERIFY(f.tensor->storage >= 0 && std::size_t(f.tensor->storage) < c->doc.storages.size());
        const pickle::StorageRef& s = c->doc.storages[std::size_t(f.tensor->storage)];
        QVERIFY2(s.dtype.has_value(), where.constData());
        QCOMPARE(QString::fromLatin1(dtypeName(*s.dtype).data()), x.value(QStringLiteral("dtype")).toString());
        QVERIFY2(f.tensor->shape == ints(x.value(QStringLiteral("shape"))), where.constData());
        QVERIFY2(f.tensor->strides == ints(x.value(QStringLiteral("strides"))), where.constData());
        QCOMPARE(f.tensor->offset, x.value(QStringLiteral("root_offset")).toInteger());
        const auto rec = records.find(std::string(s.key));
        QVERIFY2(rec != records.end(), where.constData());
        QCOMPARE(rec->second->bytes, std::uint64_t(s.numel) * std::uint64_t(dtypeItemSize(*s.dtype)));
        const QByteArray want =
            values.mid(x.value(QStringLiteral("value_offset")).toInt(), x.value(QStringLiteral("value_bytes")).toInt());
        QVERIFY2(gather(*file.value(), *rec->second, *f.tensor, dtypeItemSize(*s.dtype)) == want, where.constData());
    }
}

void TestLegacy::sniffing()
{
    const QByteArray legacy = readAll(legacyFixture(QStringLiteral("simple.pt")));
    const QByteArray tar = readAll(legacyFixture(QStringLiteral("old_tar.pt")));
    const QByteArray p4 = readAll(legacyFixture(QStringLiteral("protocol4.pt")));
    auto bytes = [](const QByteArray& b) { return reinterpret_cast<const std::uint8_t*>(b.constData()); };
    QVERIFY(startsLikeLegacyTorchSave(bytes(legacy), std::uint64_t(legacy.size())));
    QVERIFY(startsLikeLegacyTorchSave(bytes(p4), std::uint64_t(p4.size())));
    QVERIFY(!startsLikeTar(bytes(legacy), std::uint64_t(legacy.size())));
    QVERIFY(startsLikeTar(bytes(tar), std::uint64_t(tar.size())));
    QVERIFY(!startsLikeLegacyTorchSave(bytes(tar), std::uint64_t(tar.size())));
    // A plain protocol-2 pickle of another int is not a torch.save file.
    const QByteArray other("\x80\x02\x8a\x0a\x6d\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e", 15);
    QVERIFY(!startsLikeLegacyTorchSave(bytes(other), std::uint64_t(other.size())));
    QVERIFY(!startsLikeLegacyTorchSave(bytes(legacy), 13));
}

namespace {

/// The damaged files, each with its kind and a part of its message. Through the loader a file
/// without the magic number is no torch.save file: the loader says what it is instead.
void addBadFiles(bool loader)
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message");
    const int corrupt = int(ErrorKind::Corrupt), unsupported = int(ErrorKind::Unsupported);
    auto row = [&](const char* n, int kind, const char* m) {
        QTest::newRow(n) << QString::fromLatin1(n) << kind << QString::fromUtf8(m);
    };
    row("lying_numel.pt", corrupt, "storage '1' holds 6 elements, but the pickle says it has 7");
    row("lying_count.pt", corrupt, "storage '2' holds 4 elements, but the pickle says it has 3");
    row("huge_count.pt", corrupt, "storage '2' holds 4611686018427387904 elements, but the pickle says it has 3");
    row("key_list_unknown.pt", corrupt, "its storage key list names storage '9', which the pickle does not use");
    row("key_list_not_list.pt", corrupt, "its storage key list is a int, not a list");
    row("unknown_storage_type.pt", unsupported, "storage '1' has the unknown type 'torch.nn.modules.linear.Linear'");
    if (loader)
        row("bad_magic.pt", unsupported, "is a Python pickle without the torch.save magic number");
    else
        row("bad_magic.pt", corrupt, "is not the legacy torch.save magic number");
    row("bad_protocol.pt", unsupported, "its protocol version is 1002 (ParamScope reads 1001)");
    row("truncated_storage.pt", corrupt, "storage '2' (3 x int64) runs past the end of the file");
    row("view_past_root.pt", corrupt, "storage view of 3 elements at offset 3 lies outside its storage of 4 elements");
    // The count says 4 storages but 3 follow: the view list is read as a fourth header.
    row("tar_count_mismatch.pt", corrupt, "the header of storage #3 is a list, not (key, location, storage type)");
    row("tar_missing_member.pt", corrupt, "it is a tar file without the member 'tensors'");
    row("tar_view_past_root.pt", corrupt, "storage view '104' (7 elements at offset 6) lies outside storage '101'");
    row("tar_unknown_storage_type.pt", unsupported,
        "storage '101' has the unknown type 'torch.nn.modules.linear.Linear'");
    row("big_endian.pt", unsupported, "it was written on a big-endian machine, which is not supported");
    row("tar_big_endian.pt", unsupported, "it was written on a big-endian machine, which is not supported");
}

}  // namespace

void TestLegacy::badContainers_data()
{
    addBadFiles(false);
}

// Each damaged file (which torch.load refuses too) is refused with its kind and a message
// that names the file and the fault.
void TestLegacy::badContainers()
{
    QFETCH(QString, name);
    QFETCH(int, kind);
    QFETCH(QString, message);
    auto c = readContainer(legacyFixture(QStringLiteral("bad/") + name));
    QVERIFY(!c.ok());
    QCOMPARE(int(c.kind()), kind);
    QVERIFY2(c.error().startsWith(QStringLiteral("'%1' cannot be opened: ").arg(name)), qPrintable(c.error()));
    QVERIFY2(c.error().contains(message), qPrintable(c.error()));
}

void TestLegacy::truncatedEverywhere_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"simple", "storage_views", "state_dict", "module", "old_tar"})
        QTest::newRow(n) << QString::fromLatin1(n);
}

// Prefixes of a good file, cut at every byte of a small file (every 7th of a larger one)
// and around every storage record's count and bytes. The legacy format needs every byte (its
// last storage ends the file), so each prefix is refused as corrupt; a tar prefix is refused
// until it holds the last storage whole (the tar padding after it is not needed), and then
// it reads the same records.
void TestLegacy::truncatedEverywhere()
{
    QFETCH(QString, name);
    const QByteArray whole = readAll(legacyFixture(name + QStringLiteral(".pt")));
    QVERIFY(!whole.isEmpty());
    auto full = readContainer(legacyFixture(name + QStringLiteral(".pt")));
    QVERIFY2(full.ok(), qPrintable(full.error()));
    const bool tar = full->format == ModelFormat::TorchSaveTar;
    std::set<qint64> cuts;
    std::uint64_t needed = 0;  // bytes up to the end of the last record
    for (qint64 n = 1; n < whole.size(); ++n)
        if (whole.size() <= 4096 || n % 7 == 0)
            cuts.insert(n);
    for (const auto& r : full->records) {
        for (std::int64_t d : {-9, -8, -7, -1, 0, 1})
            cuts.insert(qint64(r.offset) + d);
        for (std::int64_t d : {-1, 0, 1})
            cuts.insert(qint64(r.offset + r.bytes) + d);
        needed = std::max(needed, r.offset + r.bytes);
    }
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("cut.pt"));
    for (qint64 n : cuts) {
        if (n <= 0 || n >= whole.size())
            continue;
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(whole.constData(), n);
        f.close();
        auto c = readContainer(path);
        const QByteArray where = QByteArray::number(n) + " bytes: " + c.error().toUtf8();
        if (!tar || std::uint64_t(n) < needed) {
            QVERIFY2(!c.ok(), where.constData());
        } else if (c.ok()) {
            QCOMPARE(c->records.size(), full->records.size());
            continue;
        }
        QVERIFY2(c.kind() == ErrorKind::Corrupt, where.constData());
        QVERIFY2(c.error().startsWith(QLatin1String("'cut.pt' cannot be opened: ")), where.constData());
    }
}

void TestLegacy::loadMatchesPython_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("format");
    for (const char* n : {"state_dict", "views", "checkpoint", "module", "protocol4", "storage_views", "simple",
                          "cuda_storage", "python2"})
        QTest::newRow(n) << QString::fromLatin1(n) << int(ModelFormat::TorchSaveLegacy);
    QTest::newRow("old_tar") << QStringLiteral("old_tar") << int(ModelFormat::TorchSaveTar);
    QTest::newRow("old_tar_pax") << QStringLiteral("old_tar_pax") << int(ModelFormat::TorchSaveTar);
}

// Through loadModel, as the window and paramscope-cli open a file: the entries in order with
// name, kind, dtype, shape, strides, offset, requires_grad and every byte of their values
// (ModelIndex::contiguousBytes, read from the mapped file) as torch.load reported them.
void TestLegacy::loadMatchesPython()
{
    QFETCH(QString, name);
    QFETCH(int, format);
    const QJsonObject truth = readJson(legacyFixture(name + QStringLiteral(".truth.json")));
    const QByteArray values = readAll(legacyFixture(name + QStringLiteral(".values.bin")));
    QVERIFY2(!truth.isEmpty(), "truth missing");
    const auto r = loadModel(legacyFixture(name + QStringLiteral(".pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(int(idx.format), format);
    QCOMPARE(idx.engine, QStringLiteral("native"));
    if (name == QLatin1String("module")) {
        // A whole pickled nn.Sequential: its classes are named (as ('module', class, ...) ids and
        // GLOBALs) and never imported; its tensors are listed as its state_dict() lists them.
        QVERIFY2(idx.warnings.join(QLatin1Char('\n')).contains(QLatin1String("torch.nn.modules.linear.Linear")),
                 qPrintable(idx.warnings.join(QLatin1Char('\n'))));
    } else {
        QVERIFY2(idx.warnings.isEmpty(), qPrintable(idx.warnings.join(QLatin1Char('\n'))));
    }
    const QJsonArray expected = truth.value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(idx.entries.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject x = expected[i].toObject();
        const TensorEntry& e = idx.entries[std::size_t(i)];
        const QByteArray where = (name + QLatin1Char(':') + x.value(QStringLiteral("name")).toString()).toUtf8();
        QCOMPARE(QString::fromStdString(e.name), x.value(QStringLiteral("name")).toString());
        QCOMPARE(QString::fromLatin1(tensorKindName(e.kind).data()), x.value(QStringLiteral("kind")).toString());
        QCOMPARE(QString::fromLatin1(dtypeName(e.dtype).data()), x.value(QStringLiteral("dtype")).toString());
        QVERIFY2(e.shape == ints(x.value(QStringLiteral("shape"))), where.constData());
        QVERIFY2(e.strides == ints(x.value(QStringLiteral("strides"))), where.constData());
        QCOMPARE(e.storageOffset, x.value(QStringLiteral("root_offset")).toInteger());
        QCOMPARE(e.requiresGrad, x.value(QStringLiteral("requires_grad")).toBool());
        const QByteArray want =
            values.mid(x.value(QStringLiteral("value_offset")).toInt(), x.value(QStringLiteral("value_bytes")).toInt());
        QCOMPARE(qint64(e.bytes), qint64(want.size()));
        auto got = idx.contiguousBytes(i);
        QVERIFY2(got.ok(), qPrintable(got.error()));
        QVERIFY2(QByteArray(reinterpret_cast<const char*>(got->data()), qsizetype(got->size())) == want,
                 where.constData());
    }
}

// Views of one storage (t[1:], t.view, a transposed view, a column) are one storage in the
// index, counted once in the totals, as they are one storage in the file.
void TestLegacy::viewsShareOneStorage()
{
    const auto r = loadModel(legacyFixture(QStringLiteral("views.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(QString::fromStdString(idx.entries[0].name), QStringLiteral("base"));
    for (int i = 1; i <= 4; ++i)
        QVERIFY2(idx.entries[std::size_t(i)].sharedWith == 0, idx.entries[std::size_t(i)].name.c_str());
    QCOMPARE(idx.entries[1].storage, idx.entries[0].storage);
    // base's 24 floats, the empty tensor's nothing, the two scalars' 4 and 8 bytes.
    QCOMPARE(qint64(idx.totals().bytes), qint64(24 * 4 + 4 + 8));
    const auto tar = loadModel(legacyFixture(QStringLiteral("old_tar.pt")));
    QVERIFY2(tar.ok(), qPrintable(tar.error()));
    QCOMPARE(tar.value()->entries[2].sharedWith, 0);  // over a storage view of the first storage
}

void TestLegacy::badFilesThroughLoader_data()
{
    addBadFiles(true);
    QTest::newRow("tar_tensor_past_storage.pt")
        << QStringLiteral("tar_tensor_past_storage.pt") << int(ErrorKind::Corrupt) << QStringLiteral("state.weight");
    QTest::newRow("key_list_short.pt") << QStringLiteral("key_list_short.pt") << int(ErrorKind::Corrupt)
                                       << QStringLiteral("'y' skipped: its data record '2' is missing");
}

// The same files through loadModel: refused with the same kind and message. A tar tensor
// larger than its storage, or a tensor whose storage the key list leaves out (both read by
// torch.load with values nobody wrote), is left out with a warning naming it; the file then
// opens with the other tensors.
void TestLegacy::badFilesThroughLoader()
{
    QFETCH(QString, name);
    QFETCH(int, kind);
    QFETCH(QString, message);
    const auto r = loadModel(legacyFixture(QStringLiteral("bad/") + name));
    if (name == QLatin1String("key_list_short.pt")) {
        // Storage '2' is missing from the key list and the file (torch.load leaves it
        // uninitialized): its tensor is left out, naming it; 'x' opens.
        QVERIFY2(r.ok(), qPrintable(r.error()));
        QCOMPARE(int(r.value()->entries.size()), 1);
        QCOMPARE(QString::fromStdString(r.value()->entries[0].name), QStringLiteral("x"));
        QVERIFY2(r.value()->warnings.join(QLatin1Char('\n')).contains(message),
                 qPrintable(r.value()->warnings.join(QLatin1Char('\n'))));
        return;
    }
    if (name == QLatin1String("tar_tensor_past_storage.pt")) {
        QVERIFY2(r.ok(), qPrintable(r.error()));
        QCOMPARE(int(r.value()->entries.size()), 5);
        QVERIFY2(r.value()->warnings.join(QLatin1Char('\n')).contains(message),
                 qPrintable(r.value()->warnings.join(QLatin1Char('\n'))));
        QVERIFY2(r.value()
                     ->warnings.join(QLatin1Char('\n'))
                     .contains(QLatin1String("need 16 elements but its storage 101 holds 12")),
                 qPrintable(r.value()->warnings.join(QLatin1Char('\n'))));
        return;
    }
    QVERIFY(!r.ok());
    QCOMPARE(int(r.kind()), kind);
    QVERIFY2(r.error().startsWith(QStringLiteral("'%1' ").arg(name)), qPrintable(r.error()));
    QVERIFY2(r.error().contains(message), qPrintable(r.error()));
}

// Every prefix of two small files through loadModel: refused, naming the file, never a crash.
void TestLegacy::truncatedThroughLoader()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("cut.pt"));
    for (const char* name : {"simple.pt", "storage_views.pt"}) {
        const QByteArray whole = readAll(legacyFixture(QString::fromLatin1(name)));
        QVERIFY(!whole.isEmpty());
        for (int n = 1; n < whole.size(); ++n) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(whole.constData(), n);
            f.close();
            const auto r = loadModel(path);
            QVERIFY2(!r.ok(), qPrintable(QStringLiteral("%1 cut to %2 bytes opens").arg(QLatin1String(name)).arg(n)));
            QVERIFY2(r.error().startsWith(QLatin1String("'cut.pt' ")), qPrintable(r.error()));
        }
    }
}

// paramscope-cli list on a legacy and a tar file: one row per tensor, in torch.load's order;
// --json names the format.
void TestLegacy::commandLineLists()
{
    for (const char* name : {"state_dict", "old_tar"}) {
        const QString file = legacyFixture(QString::fromLatin1(name) + QStringLiteral(".pt"));
        const QJsonArray expected = readJson(legacyFixture(QString::fromLatin1(name) + QStringLiteral(".truth.json")))
                                        .value(QStringLiteral("entries"))
                                        .toArray();
        const CliRun plain = runCli({QStringLiteral("list"), file});
        QCOMPARE(plain.code, 0);
        const QStringList rows = plain.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(rows.size(), expected.size());
        for (int i = 0; i < rows.size(); ++i)
            QVERIFY2(
                rows[i].startsWith(expected[i].toObject().value(QStringLiteral("name")).toString() + QLatin1Char('\t')),
                qPrintable(rows[i]));
        const CliRun json = runCli({QStringLiteral("list"), file, QStringLiteral("--json")});
        QCOMPARE(json.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(json.out.toUtf8()).object();
        QCOMPARE(o.value(QStringLiteral("format")).toString(),
                 QString::fromLatin1(qstrcmp(name, "old_tar") == 0 ? "torch.save-tar" : "torch.save-legacy"));
        QCOMPARE(o.value(QStringLiteral("entries")).toArray().size(), expected.size());
    }
    const CliRun bad = runCli({QStringLiteral("list"), legacyFixture(QStringLiteral("bad/lying_numel.pt"))});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains(QLatin1String("'lying_numel.pt' cannot be opened: storage '1' holds 6 elements")),
             qPrintable(bad.err));
}

// The LibTorch engine (torch::jit::load) cannot read legacy files: it says so and names the
// engine that can, without starting its helper.
void TestLegacy::libTorchEngineRefusesClearly()
{
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    const auto r = loadModel(legacyFixture(QStringLiteral("simple.pt")), o);
    QVERIFY(!r.ok());
    QCOMPARE(r.kind(), ErrorKind::Unsupported);
    QVERIFY2(r.error().contains(QLatin1String("'simple.pt' is a legacy torch.save file")), qPrintable(r.error()));
    QVERIFY2(r.error().contains(QLatin1String("the native engine reads it")), qPrintable(r.error()));
}

// A cancelled load ends as cancelled, for both formats; an uncancelled one reports progress
// up to 1.
void TestLegacy::cancelledAndProgress()
{
    for (const char* name : {"state_dict.pt", "old_tar.pt"}) {
        LoadOptions o;
        o.cancel = makeCancelToken();
        o.cancel->store(true);
        const auto r = loadModel(legacyFixture(QString::fromLatin1(name)), o);
        QVERIFY(!r.ok());
        QCOMPARE(r.kind(), ErrorKind::Cancelled);
        LoadOptions p;
        double last = 0;
        p.progress = [&](double f, const QString&) { last = std::max(last, f); };
        QVERIFY(loadModel(legacyFixture(QString::fromLatin1(name)), p).ok());
        QCOMPARE(last, 1.0);
    }
}

QTEST_GUILESS_MAIN(TestLegacy)
#include "tst_legacy.moc"
