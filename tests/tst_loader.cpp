// The LibTorch loader against what Python reports for fixtures written by real PyTorch,
// its behaviour on bad files (missing, empty, not a model, truncated, damaged archives), and
// the kind of failure (ErrorKind) every engine reports for representative bad files.
#include "formats/loader.h"
#include "testutil.h"

#include <QFileInfo>
#include <QtTest>

#include <unistd.h>

using namespace paramscope;
using namespace paramscope::test;

class TestLoader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesPython_data();
    void matchesPython();
    void badFiles_data();
    void badFiles();
    void unreadableFile();
    void cancelBeforeStart();
    void asyncLoadAndProgress();
    void viewRejectsLyingExtent();
    void failureKinds_data();
    void failureKinds();
    void cancelledKind();
    void refusedGlobalIsNoFailure();
};

void TestLoader::matchesPython_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"seed", "nested", "batchnorm", "frozen", "tied", "dtypes", "views"})
        QTest::newRow(n) << QString::fromLatin1(n);
}

void TestLoader::matchesPython()
{
    QFETCH(QString, name);
    const QJsonObject truth = readJson(fixture(name + ".json"));
    QVERIFY2(!truth.isEmpty(), "fixture truth missing: run the fixtures_generate test");
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    const auto r = loadModel(fixture(name + ".pt"), o);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(idx.format, ModelFormat::TorchScript);
    QCOMPARE(idx.engine, QStringLiteral("libtorch"));
    const QJsonArray expected = truth.value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(idx.entries.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject x = expected[i].toObject();
        const TensorEntry& e = idx.entries[size_t(i)];
        const QByteArray where = (name + QLatin1Char('/') + x.value(QStringLiteral("name")).toString()).toUtf8();
        QCOMPARE(QString::fromStdString(e.name), x.value(QStringLiteral("name")).toString());
        QCOMPARE(QString::fromLatin1(tensorKindName(e.kind).data()), x.value(QStringLiteral("kind")).toString());
        QCOMPARE(QString::fromLatin1(dtypeName(e.dtype).data()), x.value(QStringLiteral("dtype")).toString());
        std::vector<std::int64_t> shape, strides;
        for (const auto& v : x.value(QStringLiteral("shape")).toArray())
            shape.push_back(v.toInteger());
        for (const auto& v : x.value(QStringLiteral("strides")).toArray())
            strides.push_back(v.toInteger());
        QVERIFY2(e.shape == shape, where.constData());
        QVERIFY2(e.strides == strides, where.constData());
        QCOMPARE(e.storageOffset, x.value(QStringLiteral("storage_offset")).toInteger());
        QCOMPARE(e.requiresGrad, x.value(QStringLiteral("requires_grad")).toBool());
        const QJsonValue shared = x.value(QStringLiteral("shared_with"));
        if (shared.isNull())
            QVERIFY2(e.sharedWith < 0, where.constData());
        else
            QCOMPARE(QString::fromStdString(idx.entries[size_t(e.sharedWith)].name), shared.toString());
        // Values, through the index's checked, stride-aware copy.
        const QJsonValue values = x.value(QStringLiteral("values"));
        if (values.isArray()) {
            const auto bytes = idx.contiguousBytes(i);
            QVERIFY2(bytes.ok(), qPrintable(bytes.error()));
            QCOMPARE(std::int64_t(bytes->size()), e.bytes);
            const auto got = decode(e.dtype, bytes->data(), e.numel);
            const auto want = truthValues(values.toArray());
            QCOMPARE(got.size(), want.size());
            for (size_t k = 0; k < got.size(); ++k)
                QVERIFY2(got[k] == want[k], qPrintable(QStringLiteral("%1[%2]: %3 != %4")
                                                           .arg(QString::fromUtf8(where))
                                                           .arg(k)
                                                           .arg(got[k])
                                                           .arg(want[k])));
        }
    }
}

void TestLoader::badFiles_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");  // a part of the message naming the problem
    // Files the native checks refuse never reach LibTorch: the native reason.
    QTest::newRow("empty") << "bad/empty.pt"
                           << "is empty";
    QTest::newRow("folder") << "bad/folder.pt"
                            << "is a folder";
    QTest::newRow("missing") << "bad/does_not_exist.pt"
                             << "does not exist";
    QTest::newRow("text") << "bad/text.pt"
                          << "is a text file, not a PyTorch model";
    QTest::newRow("png") << "bad/image.pt"
                         << "is a PNG image";
    QTest::newRow("legacy torch.save") << "bad/legacy.pt"
                                       << "is a legacy torch.save file";
    QTest::newRow("truncated header") << "bad/trunc_header.pt"
                                      << "too short (20 bytes) to hold a zip directory";
    QTest::newRow("truncated middle") << "bad/trunc_middle.pt"
                                      << "no end-of-central-directory record";
    QTest::newRow("truncated last byte") << "bad/trunc_lastbyte.pt"
                                         << "no end-of-central-directory record";
    QTest::newRow("no central directory") << "bad/no_central_directory.pt"
                                          << "no end-of-central-directory record";
    QTest::newRow("no top folder") << "bad/no_top_folder.pt"
                                   << "not under one top folder";
    QTest::newRow("missing data.pkl") << "bad/missing_data_pkl.pt"
                                      << "has no seed/data.pkl";
    QTest::newRow("missing version") << "bad/missing_version.pt"
                                     << "has no seed/version record";
    QTest::newRow("missing data record") << "bad/missing_record.pt"
                                         << "has no 'data/0' record";
    QTest::newRow("non-numeric version") << "bad/bad_version.pt"
                                         << "version record is not a number ('banana')";
    QTest::newRow("unsupported version") << "bad/future_version.pt"
                                         << "version 999";
    QTest::newRow("torch.save file") << "bad/state_dict.pt"
                                     << "not a TorchScript archive";
}

void TestLoader::badFiles()
{
    QFETCH(QString, file);
    QFETCH(QString, expected);
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    const auto r = loadModel(fixture(file), o);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(QFileInfo(file).fileName()), qPrintable(r.error()));
    QVERIFY2(r.error().contains(expected), qPrintable(r.error()));
    // One line, no LibTorch backtrace.
    QVERIFY2(!r.error().contains(QLatin1Char('\n')), qPrintable(r.error()));
}

void TestLoader::unreadableFile()
{
    if (geteuid() == 0)
        QSKIP("running as root: file permissions cannot deny reading");
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("secret.pt"));
    QVERIFY(QFile::copy(fixture(QStringLiteral("seed.pt")), path));
    QVERIFY(QFile::setPermissions(path, QFileDevice::Permissions()));
    const auto r = loadModel(path, {});
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(QStringLiteral("'secret.pt' cannot be read: permission denied")),
             qPrintable(r.error()));
}

void TestLoader::cancelBeforeStart()
{
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    o.cancel = makeCancelToken();
    o.cancel->store(true);
    const auto r = loadModel(fixture(QStringLiteral("seed.pt")), o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), cancelledMessage(fixture(QStringLiteral("seed.pt"))));
}

void TestLoader::asyncLoadAndProgress()
{
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    QList<double> fractions;
    QMutex mutex;
    Qt::HANDLE caller = QThread::currentThreadId();
    bool offThread = true;
    o.progress = [&](double f, const QString&) {
        QMutexLocker lock(&mutex);
        fractions << f;
        if (QThread::currentThreadId() == caller)
            offThread = false;
    };
    QFuture<LoadResult> fut = loadModelAsync(fixture(QStringLiteral("nested.pt")), o);
    fut.waitForFinished();
    const LoadResult r = fut.result();
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QVERIFY(offThread);
    QVERIFY(!fractions.isEmpty());
    QCOMPARE(fractions.last(), 1.0);
    QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    // 3 + 12 + 2 + 1 Linear layers, weight and bias each, except alpha without bias.
    QCOMPARE(int(r.value()->entries.size()), 2 * (2 + 12 + 2 + 1) - 1);
}

void TestLoader::viewRejectsLyingExtent()
{
    // A tensor whose declared extent runs past its storage must give an error, not a read.
    LoadOptions o;
    o.engine = LoaderEngine::LibTorch;
    const auto r = loadModel(fixture(QStringLiteral("seed.pt")), o);
    QVERIFY(r.ok());
    ModelIndex lying = *r.value();
    lying.entries[0].shape = {8, 5};  // 40 elements over a 32-element storage
    lying.entries[0].strides = {5, 1};
    lying.finalize();
    const auto v = lying.view(0);
    QVERIFY(!v.ok());
    QVERIFY2(v.error().contains(QStringLiteral("needs 160 bytes but its storage holds only 128")),
             qPrintable(v.error()));
    QVERIFY2(v.error().contains(QStringLiteral("linear1.weight")), qPrintable(v.error()));
    lying.entries[0].shape = {4};
    lying.entries[0].strides = {1};
    lying.entries[0].storageOffset = 30;
    QVERIFY(!lying.view(0).ok());
    lying.entries[0].storageOffset = 28;
    QVERIFY(lying.view(0).ok());
}

void TestLoader::failureKinds_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("engine");
    QTest::addColumn<int>("kind");
    const int native = int(LoaderEngine::Native), libtorch = int(LoaderEngine::LibTorch);
    const auto add = [&](const char* row, const char* file, ErrorKind kind) {
        QTest::newRow(qPrintable(QStringLiteral("%1, native").arg(QLatin1String(row))))
            << QString::fromLatin1(file) << native << int(kind);
        if (!QByteArray(file).contains("safetensors"))  // LibTorch reads no safetensors files
            QTest::newRow(qPrintable(QStringLiteral("%1, libtorch").arg(QLatin1String(row))))
                << QString::fromLatin1(file) << libtorch << int(kind);
    };
    // Io: the file cannot be opened or read as a file.
    add("missing file", "bad/does_not_exist.pt", ErrorKind::Io);
    add("a folder", "bad/folder.pt", ErrorKind::Io);
    // Corrupt: malformed, truncated, or lying about itself.
    add("empty file", "bad/empty.pt", ErrorKind::Corrupt);
    add("truncated zip", "bad/trunc_middle.pt", ErrorKind::Corrupt);
    add("truncated zip header", "bad/trunc_header.pt", ErrorKind::Corrupt);
    add("archive without data.pkl", "bad/missing_data_pkl.pt", ErrorKind::Corrupt);
    add("non-numeric version", "bad/bad_version.pt", ErrorKind::Corrupt);
    add("safetensors offsets out of bounds", "safetensors/bad/offsets_out_of_bounds.safetensors", ErrorKind::Corrupt);
    add("shard listed twice", "safetensors/bad/sharded/duplicate_entry/model.safetensors.index.json",
        ErrorKind::Corrupt);
    // Unsupported: well-formed, but not something ParamScope reads.
    add("text file", "bad/text.pt", ErrorKind::Unsupported);
    add("PNG image", "bad/image.pt", ErrorKind::Unsupported);
    // The native engine reads legacy torch.save files (tst_legacy); torch::jit::load does not.
    QTest::newRow("legacy torch.save, libtorch")
        << QStringLiteral("bad/legacy.pt") << libtorch << int(ErrorKind::Unsupported);
    add("legacy torch.save of an unknown storage type", "legacy/bad/unknown_storage_type.pt", ErrorKind::Unsupported);
    add("future archive version", "bad/future_version.pt", ErrorKind::Unsupported);
    add("compression method 12", "attack/zbad.pt", ErrorKind::Unsupported);
    add("safetensors unknown dtype", "safetensors/bad/unknown_dtype.safetensors", ErrorKind::Unsupported);
    // Limit: past a resource limit (the limit fixtures are refused before anything large is read).
    add("data.pkl over 1 GiB inflated", "limits/pickle_1g.pt", ErrorKind::Limit);
    add("safetensors header above the limit", "safetensors/bad/header_above_limit.safetensors", ErrorKind::Limit);
    add("shard index above the limit", "limits/index_over/model.safetensors.index.json", ErrorKind::Limit);
}

void TestLoader::failureKinds()
{
    QFETCH(QString, file);
    QFETCH(int, engine);
    QFETCH(int, kind);
    LoadOptions o;
    o.engine = LoaderEngine(engine);
    const auto r = loadModel(fixture(file), o);
    QVERIFY2(!r.ok(), qPrintable(file));
    QVERIFY2(int(r.kind()) == kind, qPrintable(QStringLiteral("%1: kind '%2', expected '%3': %4")
                                                   .arg(file, QLatin1String(errorKindName(r.kind())),
                                                        QLatin1String(errorKindName(ErrorKind(kind))), r.error())));
}

void TestLoader::cancelledKind()
{
    for (const auto engine : {LoaderEngine::Native, LoaderEngine::LibTorch}) {
        for (const char* file : {"seed.pt", "safetensors/all_dtypes.safetensors"}) {
            if (engine == LoaderEngine::LibTorch && QByteArray(file).startsWith("safetensors/"))
                continue;
            LoadOptions o;
            o.engine = engine;
            o.cancel = makeCancelToken();
            o.cancel->store(true);
            const auto r = loadModel(fixture(QString::fromLatin1(file)), o);
            QVERIFY2(!r.ok(), file);
            QCOMPARE(r.kind(), ErrorKind::Cancelled);
            QVERIFY(r.cancelled());
        }
    }
}

void TestLoader::refusedGlobalIsNoFailure()
{
    // A GLOBAL off the allow-list (os.system) is not called: what it builds is skipped with a
    // warning, and the rest of the file loads (no failure, so no kind).
    const auto r = loadModel(fixture(QStringLiteral("archive/bad/global_os_system.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.kind(), ErrorKind::None);
    QCOMPARE(int(r.value()->entries.size()), 1);
    QVERIFY2(r.value()->warnings.join(QLatin1Char('\n')).contains(QLatin1String("'posix.system'")),
             qPrintable(r.value()->warnings.join(QLatin1Char('\n'))));
}

QTEST_GUILESS_MAIN(TestLoader)
#include "tst_loader.moc"
