// The native archive reader (formats/torch/torcharchive.cpp) against independent truth: what
// Python's torch.jit.load / torch.load report for fixtures written by real PyTorch (names,
// order, kinds, dtypes, shapes, strides, offsets, requires_grad and the raw values), what
// LibTorch's loader reads from the same TorchScript files, and bad inputs (not a model,
// truncated or damaged archives, lying tensors, hostile pickles), each with its expected message.
#include "formats/loader.h"
#include "stats/stats.h"
#include "formats/torch/torcharchive.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace paramscope;
using namespace paramscope::test;

namespace {

QString archive(const QString& name)
{
    return fixture(QStringLiteral("archive/") + name);
}

LoadResult load(const QString& path, LoaderEngine engine = LoaderEngine::Native)
{
    LoadOptions o;
    o.engine = engine;
    return loadModel(path, o);
}

QByteArray bytesOf(const ModelIndex& idx, int i)
{
    auto b = idx.contiguousBytes(i);
    if (!b)
        return QByteArray("ERROR: ") + b.error().toUtf8();
    return QByteArray(reinterpret_cast<const char*>(b->data()), int(b->size()));
}

}  // namespace

class TestNativeLoader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void matchesPython_data();
    void matchesPython();
    void torchScriptMatchesLibTorch_data();
    void torchScriptMatchesLibTorch();
    void autoUsesNativeReader();
    void codeLibTorchCannotCompile();
    void sharedStorageCountedOnce();
    void badInputs_data();
    void badInputs();
    void globalIsNeverCalled();
    void oneBadTensorAmongGood();
    void perChannelQuantization();
    void missingPathAndFolder();
    void truncatedWhileOpen();
    void classHeaders();
    void cancel();
    void mutatedPicklesNeverCrash();
    void mutatedZipsNeverCrash();
};

void TestNativeLoader::initTestCase()
{
    QVERIFY2(QFileInfo::exists(archive(QStringLiteral("ts_seed.pt"))),
             "archive fixtures missing: run the fixtures_archive test (make_archive_fixtures.py)");
}

void TestNativeLoader::matchesPython_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("format");
    const int ts = int(ModelFormat::TorchScript), sv = int(ModelFormat::TorchSave);
    for (const char* n : {"ts_seed", "ts_nested", "ts_norms", "ts_frozen", "ts_tied", "ts_dtypes", "ts_attrs",
                          "ts_unknown_op", "var_bad_constants"})
        QTest::newRow(n) << QString::fromLatin1(n) << ts;
    for (const char* n : {"sv_state_dict", "sv_checkpoint", "sv_shared", "sv_dtypes", "sv_params", "sv_tensor",
                          "var_deflated", "var_comment", "var_zip64"})
        QTest::newRow(n) << QString::fromLatin1(n) << sv;
}

// Names in order, kind, dtype, shape, strides, offset, requires_grad and every byte of the
// values equal what Python reported for the same file.
void TestNativeLoader::matchesPython()
{
    QFETCH(QString, name);
    QFETCH(int, format);
    const QJsonObject truth = readJson(archive(name + QStringLiteral(".truth.json")));
    const QByteArray values = readAll(archive(name + QStringLiteral(".values.bin")));
    QVERIFY2(!truth.isEmpty(), "truth missing");
    const auto r = load(archive(name + QStringLiteral(".pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(int(idx.format), format);
    QCOMPARE(idx.engine, QStringLiteral("native"));
    QVERIFY2(idx.warnings.isEmpty(), qPrintable(idx.warnings.join(QLatin1Char('\n'))));
    const QJsonArray expected = truth.value(QStringLiteral("entries")).toArray();
    QVERIFY(!expected.isEmpty());
    QCOMPARE(int(idx.entries.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject x = expected[i].toObject();
        const TensorEntry& e = idx.entries[size_t(i)];
        const QByteArray where = (name + QLatin1Char(':') + x.value(QStringLiteral("name")).toString()).toUtf8();
        QCOMPARE(QString::fromStdString(e.name), x.value(QStringLiteral("name")).toString());
        QCOMPARE(QString::fromLatin1(tensorKindName(e.kind).data()), x.value(QStringLiteral("kind")).toString());
        QCOMPARE(QString::fromLatin1(dtypeName(e.dtype).data()), x.value(QStringLiteral("dtype")).toString());
        QVERIFY2(e.shape == ints(x.value(QStringLiteral("shape"))), where.constData());
        QVERIFY2(e.strides == ints(x.value(QStringLiteral("strides"))), where.constData());
        QCOMPARE(e.storageOffset, x.value(QStringLiteral("offset")).toInteger());
        QCOMPARE(e.requiresGrad, x.value(QStringLiteral("requires_grad")).toBool());
        if (x.contains(QStringLiteral("q_scale"))) {
            QCOMPARE(e.qScale(), x.value(QStringLiteral("q_scale")).toDouble());
            QCOMPARE(e.qZeroPoint(), x.value(QStringLiteral("q_zero_point")).toInteger());
            QVERIFY(!e.qChannels());
        }
        if (x.contains(QStringLiteral("q_axis"))) {
            QVERIFY2(e.qChannels(), where.constData());
            QCOMPARE(e.qChannels()->axis, x.value(QStringLiteral("q_axis")).toInt());
            std::vector<double> scales;
            for (const auto& s : x.value(QStringLiteral("q_scales")).toArray())
                scales.push_back(s.toDouble());
            QVERIFY2(e.qChannels()->scales == scales, where.constData());
            QVERIFY2(e.qChannels()->zeroPoints == ints(x.value(QStringLiteral("q_zero_points"))), where.constData());
        }
        const QByteArray want =
            values.mid(x.value(QStringLiteral("value_offset")).toInt(), x.value(QStringLiteral("value_bytes")).toInt());
        QCOMPARE(int(e.bytes), want.size());
        QVERIFY2(bytesOf(idx, i) == want, where.constData());
    }
}

void TestNativeLoader::torchScriptMatchesLibTorch_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"ts_seed", "ts_nested", "ts_norms", "ts_frozen", "ts_tied", "ts_dtypes", "ts_attrs"})
        QTest::newRow(n) << QString::fromLatin1(n);
    // The demo model: conv stem, transformer blocks, a tied output projection.
    QTest::newRow("demo_model") << QStringLiteral(PARAMSCOPE_SOURCE_DIR "/resources/demo_model.pt");
}

void TestNativeLoader::torchScriptMatchesLibTorch()
{
    QFETCH(QString, name);
    const QString path = name.endsWith(QLatin1String(".pt")) ? name : archive(name + QStringLiteral(".pt"));
    const auto n = load(path);
    const auto l = load(path, LoaderEngine::LibTorch);
    QVERIFY2(n.ok(), qPrintable(n.error()));
    QVERIFY2(l.ok(), qPrintable(l.error()));
    const ModelIndex& a = *n.value();
    const ModelIndex& b = *l.value();
    QCOMPARE(b.engine, QStringLiteral("libtorch"));
    QCOMPARE(a.entries.size(), b.entries.size());
    for (size_t i = 0; i < a.entries.size(); ++i) {
        const auto& x = a.entries[i];
        const auto& y = b.entries[i];
        QCOMPARE(x.name, y.name);
        QCOMPARE(x.kind, y.kind);
        QCOMPARE(x.dtype, y.dtype);
        QVERIFY(x.shape == y.shape);
        QVERIFY(x.strides == y.strides);
        QCOMPARE(x.storageOffset, y.storageOffset);
        QCOMPARE(x.requiresGrad, y.requiresGrad);
        QCOMPARE(x.sharedWith, y.sharedWith);
        QVERIFY2(bytesOf(a, int(i)) == bytesOf(b, int(i)), x.name.c_str());
    }
    QCOMPARE(a.totals().bytes, b.totals().bytes);
}

void TestNativeLoader::autoUsesNativeReader()
{
    const auto r = loadModel(archive(QStringLiteral("sv_state_dict.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value()->engine, QStringLiteral("native"));
    // A failure of the native reader is reported as is: no silent fallback to LibTorch.
    const auto bad = loadModel(archive(QStringLiteral("bad/missing_record.pt")));
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().contains(QLatin1String("data record 'data/0' is missing")), qPrintable(bad.error()));
}

// Code that LibTorch 1.13 cannot compile (as in files written by newer PyTorch): the
// native reader never compiles it and lists the parameters; LibTorch fails clearly.
void TestNativeLoader::codeLibTorchCannotCompile()
{
    const QString path = archive(QStringLiteral("ts_unknown_op.pt"));
    const auto n = load(path);
    QVERIFY2(n.ok(), qPrintable(n.error()));
    QCOMPARE(n.value()->entries.size(), size_t(4));
    const auto l = load(path, LoaderEngine::LibTorch);
    QVERIFY(!l.ok());
    QVERIFY2(l.error().contains(QLatin1String("ts_unknown_op.pt")), qPrintable(l.error()));
    QVERIFY2(l.error().contains(QLatin1String("not_an_op_xyz")), qPrintable(l.error()));
}

void TestNativeLoader::sharedStorageCountedOnce()
{
    const auto r = load(archive(QStringLiteral("sv_shared.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(idx.storages.size(), size_t(1));
    QCOMPARE(idx.storages[0].byteSize, std::uint64_t(60 * 4));
    for (size_t i = 1; i < idx.entries.size(); ++i)
        QCOMPARE(idx.entries[i].sharedWith, 0);
    QCOMPARE(idx.totals().bytes, std::int64_t(60 * 4));
    const auto t = load(archive(QStringLiteral("ts_tied.pt")));
    QVERIFY2(t.ok(), qPrintable(t.error()));
    QCOMPARE(t.value()->entries[1].sharedWith, 0);
}

void TestNativeLoader::badInputs_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* file, const char* expected) {
        QTest::newRow(file) << QString::fromLatin1(file) << QString::fromLatin1(expected);
    };
    // 1-2
    row("empty.pt", "is empty");
    row("folder.pt", "is a folder");
    row("text.pt", "is a text file, not a PyTorch model");
    row("image.pt", "is a PNG image");
    // legacy.pt (the pre-zip torch.save format) is read by the legacy reader: tst_legacy.
    // 3
    row("trunc_header.pt", "too short");
    row("trunc_middle.pt", "no end-of-central-directory record");
    row("trunc_lastbyte.pt", "no end-of-central-directory record");
    row("trailing_garbage.pt", "70 bytes of unexpected data after the end of the zip directory");
    row("cd_outside.pt", "central directory");
    // 4
    row("no_top_folder.pt", "is not inside a top folder");
    row("two_top_folders.pt", "not under one top folder");
    row("no_data_pkl.pt", "no archive/data.pkl");
    row("no_version.pt", "no archive/version record");
    row("missing_record.pt", "data record 'data/0' is missing");
    row("version_text.pt", "version record is not a number ('three')");
    row("version_future.pt", "format version 9999 is not supported");
    // 5
    row("zip_bomb.pt", "declares 3000000000 bytes from");
    // 7-10
    row("pkl_tuple1_empty.pt", "TUPLE1 pops from an empty stack");
    row("pkl_tuple3_short.pt", "TUPLE3 pops from an empty stack");
    row("pkl_reduce_mark.pt", "REDUCE pops");
    row("pkl_build_empty.pt", "BUILD pops from an empty stack");
    row("pkl_newobj_mark.pt", "NEWOBJ pops past a MARK");
    row("pkl_binpersid_empty.pt", "BINPERSID pops from an empty stack");
    row("pkl_setitems_nomark.pt", "SETITEMS without a MARK");
    row("pkl_memo_unset.pt", "memo slot 5 is read before it is written");
    row("pkl_long_binget.pt", "memo slot 2147483647 is read before it is written");
    row("pkl_dict_odd.pt", "DICT with an odd number of items");
    row("pkl_setitems_odd.pt", "SETITEMS with an odd number of items");
    row("pkl_setitem_list.pt", "SETITEM on a list, not a dict");
    row("pkl_unicode_overrun.pt", "BINUNICODE of 16777215 bytes runs past the end");
    row("pkl_bytes_overrun.pt", "BINBYTES of 268435456 bytes runs past the end");
    row("pkl_unknown_opcode.pt", "unknown or unsupported opcode 0xff");
    row("pkl_protocol_6.pt", "pickle protocol 6 is not supported");
    row("pkl_no_stop.pt", "ends without STOP");
    row("pkl_deep_marks.pt", "MARKs nested deeper than");
    row("pkl_deep_lists.pt", "nests deeper than 256 levels");
    row("pkl_bad_persid.pt", "persistent id is a str");
    // 12
    row("lie_storage_numel.pt",
        "'w' skipped: its storage data/0 declares 400 bytes (100 x float32) but the record holds only 40");
    row("lie_offset.pt", "'w' skipped: its storage offset 1000 lies past the end of its storage (10 elements)");
    row("lie_size.pt",
        "'w' skipped: size [100], stride [1] and offset 0 need 100 elements but its storage data/0 holds 10");
    row("lie_stride.pt", "stride [20, 1] and offset 0 need 25 elements");
    row("neg_size.pt", "'w' skipped: it has a negative size or stride");
    row("overflow_stride.pt", "'w' skipped: its sizes and strides overflow");
    row("rank_mismatch.pt", "its size has 2 dimensions but its stride 1");
    row("unknown_storage.pt", "unknown type 'torch.WeirdStorage'");
}

void TestNativeLoader::badInputs()
{
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const QString path = archive(QStringLiteral("bad/") + file);
    QVERIFY2(QFileInfo::exists(path), qPrintable(path));
    for (auto engine : {LoaderEngine::Native, LoaderEngine::Auto}) {
        const auto r = load(path, engine);
        QVERIFY2(!r.ok(), qPrintable(file + QStringLiteral(" was accepted")));
        QVERIFY2(r.error().contains(file), qPrintable(r.error()));
        QVERIFY2(r.error().contains(expected), qPrintable(r.error()));
    }
}

// A GLOBAL off the allow-list (os.system) is reported by name and never called.
void TestNativeLoader::globalIsNeverCalled()
{
    QFile::remove(QStringLiteral("/tmp/paramscope_pwned_marker"));
    const auto r = load(archive(QStringLiteral("bad/global_os_system.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QVERIFY(!QFileInfo::exists(QStringLiteral("/tmp/paramscope_pwned_marker")));
    const QString w = r.value()->warnings.join(QLatin1Char('\n'));
    QVERIFY2(w.contains(QLatin1String("not on the allow-list: none was imported or called, what they build is read as "
                                      "plain data ('posix.system')")),
             qPrintable(w));
    QCOMPARE(r.value()->entries.size(), size_t(1));
    QCOMPARE(r.value()->entries[0].name, std::string("w"));
    // A huge LONG_BINPUT index allocates nothing: a valid, empty checkpoint.
    const auto e = load(archive(QStringLiteral("bad/pkl_huge_binput.pt")));
    QVERIFY2(e.ok(), qPrintable(e.error()));
    QVERIFY(e.value()->entries.empty());
}

void TestNativeLoader::oneBadTensorAmongGood()
{
    const auto r = load(archive(QStringLiteral("bad/one_bad_tensor.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(idx.entries.size(), size_t(2));
    QCOMPARE(idx.entries[0].name, std::string("good"));
    QCOMPARE(idx.entries[1].name, std::string("good2"));
    QCOMPARE(idx.warnings.size(), 1);
    QVERIFY2(
        idx.warnings[0].contains(QLatin1String("'bad' skipped: size [5], stride [1] and offset 8 need 13 elements")),
        qPrintable(idx.warnings[0]));
    // good2 = storage[2::2][:3] of 0..9 -> 2, 4, 6.
    const QByteArray b = bytesOf(idx, 1);
    QCOMPARE(b.size(), 12);
    const auto v = decode(DType::Float32, reinterpret_cast<const std::uint8_t*>(b.constData()), 3);
    QCOMPARE(v, (std::vector<double>{2, 4, 6}));
}

// Per-channel quantization parameters are separate small tensors: read them, or skip the
// tensor with the reason when they do not fit it.
void TestNativeLoader::perChannelQuantization()
{
    const auto ok = load(archive(QStringLiteral("bad/qc_ok.pt")));
    QVERIFY2(ok.ok(), qPrintable(ok.error()));
    QCOMPARE(ok.value()->entries.size(), size_t(2));
    const TensorEntry& q = ok.value()->entries[1];
    QCOMPARE(q.name, std::string("qc"));
    QCOMPARE(q.dtype, DType::QInt8);
    QVERIFY(q.qChannels());
    QCOMPARE(q.qChannels()->axis, 0);
    QCOMPARE(q.qChannels()->scales, (std::vector<double>{0.5, 0.5, 0.5}));
    QCOMPARE(q.qChannels()->zeroPoints, (std::vector<std::int64_t>{0, 0, 0}));
    // Codes 0..11, scale 0.5: statistics of the dequantized values 0, 0.5, ..., 5.5.
    const auto st = computeStats(*ok.value(), 1);
    QVERIFY2(st.ok(), qPrintable(st.error()));
    QCOMPARE(st->max, 5.5);
    QCOMPARE(st->mean, 2.75);

    const struct {
        const char* file;
        const char* why;
    } bad[] = {{"bad/qc_scales_short.pt", "it has 3 channels along dimension 0 but 2 scales and 2 zero points"},
               {"bad/qc_bad_axis.pt", "its per-channel quantization axis 2 is not one of its 2 dimensions"}};
    for (const auto& b : bad) {
        const auto r = load(archive(QString::fromLatin1(b.file)));
        QVERIFY2(r.ok(), qPrintable(r.error()));
        QCOMPARE(r.value()->entries.size(), size_t(1));
        QCOMPARE(r.value()->entries[0].name, std::string("good"));
        const QString w = r.value()->warnings.join(QLatin1Char('\n'));
        QVERIFY2(w.contains(QLatin1String("'qc' skipped: ")) && w.contains(QLatin1String(b.why)), qPrintable(w));
    }
}

void TestNativeLoader::missingPathAndFolder()
{
    const auto r = load(archive(QStringLiteral("bad/does_not_exist.pt")));
    QVERIFY(!r.ok());
    QVERIFY2(
        r.error().contains(QLatin1String("does_not_exist.pt")) && r.error().contains(QLatin1String("does not exist")),
        qPrintable(r.error()));
}

// A file cut short while mapped is reported, not read (no SIGBUS).
void TestNativeLoader::truncatedWhileOpen()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString copy = dir.filePath(QStringLiteral("cut.pt"));
    QVERIFY(QFile::copy(archive(QStringLiteral("sv_dtypes.pt")), copy));
    QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
    const auto r = load(copy);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QVERIFY(idx.view(0).ok());
    QVERIFY(QFile::resize(copy, 100));
    const auto v = idx.view(0);
    QVERIFY(!v.ok());
    QVERIFY2(v.error().contains(QLatin1String("cut.pt")) && v.error().contains(QLatin1String("truncated while open")),
             qPrintable(v.error()));
}

void TestNativeLoader::classHeaders()
{
    const std::string src =
        "class Sequential(Module):\n"
        "  __parameters__ = []\n"
        "  __buffers__ = []\n"
        "  training : bool\n"
        "  def forward(self: __torch__.A,\n"
        "    x: Tensor) -> Tensor:\n"
        "    __parameters__ = [\"not_me\", ]\n"
        "    return x\n"
        "class BatchNorm1d(Module):\n"
        "  __parameters__ = [\"weight\", \"bias\", ]\n"
        "  __buffers__ = [\"running_mean\", \"running_var\", \"num_batches_tracked\", ]\n"
        "class Helper(object):\n"
        "  __parameters__ = [\"x\", ]\n";
    const auto c = parseTorchScriptClasses(src, "__torch__.m");
    QCOMPARE(c.size(), size_t(3));
    QCOMPARE(c[0].qualifiedName, std::string("__torch__.m.Sequential"));
    QVERIFY(c[0].isModule);
    QVERIFY(c[0].parameters.empty());
    QCOMPARE(c[1].qualifiedName, std::string("__torch__.m.BatchNorm1d"));
    QCOMPARE(c[1].parameters, (std::vector<std::string>{"weight", "bias"}));
    QCOMPARE(c[1].buffers, (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
    QVERIFY(!c[2].isModule);
}

void TestNativeLoader::cancel()
{
    LoadOptions o;
    o.engine = LoaderEngine::Native;
    o.cancel = makeCancelToken();
    o.cancel->store(true);
    const auto r = loadModel(archive(QStringLiteral("ts_nested.pt")), o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), cancelledMessage(archive(QStringLiteral("ts_nested.pt"))));
}

namespace {

// Opening `path` either fails with a message naming it, or gives an index whose every
// tensor can be read (or refuses with a message): never a crash, hang or wild read.
void openAndReadEverything(const QString& path)
{
    const auto r = load(path);
    if (!r.ok()) {
        QVERIFY2(!r.error().isEmpty() && r.error().contains(QFileInfo(path).fileName()), qPrintable(r.error()));
        return;
    }
    const ModelIndex& idx = *r.value();
    for (size_t i = 0; i < idx.entries.size(); ++i) {
        const auto b = idx.contiguousBytes(int(i));
        if (b)
            QCOMPARE(std::int64_t(b->size()), idx.entries[i].bytes);
        else
            QVERIFY(!b.error().isEmpty());
    }
}

}  // namespace

// Damaged data.pkl inside valid zips (fixture script: fuzz_pickles).
void TestNativeLoader::mutatedPicklesNeverCrash()
{
    const QDir dir(archive(QStringLiteral("bad/fuzz")));
    const QStringList files = dir.entryList({QStringLiteral("*.pt")}, QDir::Files, QDir::Name);
    QVERIFY(files.size() >= 100);
    int opened = 0;
    for (const QString& f : files) {
        openAndReadEverything(dir.filePath(f));
        if (QTest::currentTestFailed())
            QFAIL(qPrintable(QStringLiteral("on ") + f));
        opened += load(dir.filePath(f)).ok() ? 1 : 0;
    }
    // Both outcomes occur: the mutations are neither all fatal nor all harmless.
    QVERIFY(opened > 0 && opened < files.size());
}

// Random byte damage anywhere in whole archives (directory, headers, records).
void TestNativeLoader::mutatedZipsNeverCrash()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    std::mt19937 rng(6);
    for (const char* name : {"ts_seed.pt", "sv_dtypes.pt"}) {
        const QByteArray good = readAll(archive(QString::fromLatin1(name)));
        QVERIFY(!good.isEmpty());
        for (int round = 0; round < 250; ++round) {
            QByteArray b = good;
            const int edits = 1 + int(rng() % 4);
            for (int e = 0; e < edits; ++e) {
                // Favour the tail, where the directory lives.
                const int pos =
                    rng() % 2 ? int(rng() % b.size()) : b.size() - 1 - int(rng() % std::min<int>(b.size(), 400));
                b[pos] = char(rng() % 3 == 0 ? 0xff : rng() % 256);
            }
            const QString path = tmp.filePath(QStringLiteral("m%1_%2").arg(round).arg(QString::fromLatin1(name)));
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(b);
            f.close();
            openAndReadEverything(path);
            if (QTest::currentTestFailed())
                QFAIL(qPrintable(QStringLiteral("on mutation %1 of %2").arg(round).arg(QString::fromLatin1(name))));
            QFile::remove(path);
        }
    }
}

QTEST_GUILESS_MAIN(TestNativeLoader)
#include "tst_nativeloader.moc"
