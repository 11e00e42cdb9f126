// The LibTorch engine out of process (core/formats/libtorch/torchhelper.h): loads through the
// helper give what the in-process LibTorch load gives and what Python wrote; files the
// native checks refuse never reach LibTorch; a helper that crashes, fails, is cancelled
// or hands back a damaged result ends in a clear message and this process carries on.
// Files are written by real PyTorch (python3-torch) in initTestCase; crafted variants
// are cut from them with Python's zipfile.
#include "formats/loader.h"
#include "base/mappedfile.h"
#include "testutil.h"
#include "model/torchbackend.h"
#include "formats/libtorch/torchhelper.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::test;

namespace {

const QString kDemo = QStringLiteral(PARAMSCOPE_SOURCE_DIR "/resources/demo_model.pt");
QString archive(const QString& name)
{
    return fixture(QStringLiteral("archive/") + name);
}

// Written by PyTorch, then damaged the way the attack run did.
const char* kGenerator = R"PY(
import os, sys, zipfile
import torch, torch.nn as nn
out = sys.argv[1]

class Lie(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.w = nn.Parameter(torch.arange(float(n)))
    def forward(self, x):
        return x + self.w.sum()

class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.arange(4.0) + 0.5)
        self.b = nn.Parameter(torch.arange(64.0))
    def forward(self, x):
        return x + self.a.sum() + self.b.sum()

class Quant(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("qt", torch.quantize_per_tensor(torch.linspace(-1, 1, 6), 0.05, 3, torch.qint8))
        self.register_buffer("qc", torch.quantize_per_channel(
            torch.linspace(-1, 1, 12).reshape(3, 4), torch.tensor([0.1, 0.02, 0.5], dtype=torch.float64),
            torch.tensor([0, -1, 2]), 0, torch.qint8))
        self.w = nn.Parameter(torch.randn(2, 3).t())
    def forward(self, x):
        return x

def rezip(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(zipfile.ZipInfo(info.filename), edit(info.filename, zin.read(info.filename)))

def save(m, name):
    p = os.path.join(out, name)
    torch.jit.script(m).save(p)
    return p

# Every record cut to 16 bytes while data.pkl keeps declaring the real sizes.
cut = lambda n, d: d[:16] if "/data/" in n else d
rezip(save(Lie(100000), "lie_big_src.pt"), os.path.join(out, "lie_big.pt"), cut)
rezip(save(Lie(64), "lie_small_src.pt"), os.path.join(out, "lie_small.pt"), cut)
rezip(save(Two(), "one_lie_src.pt"), os.path.join(out, "one_lie.pt"), cut)
# A 4-byte constants.pkl (TUPLE1 on an empty stack): jit::load dies of SIGSEGV; the
# native reader does not need constants.pkl.
rezip(save(Lie(3), "crash_src.pt"), os.path.join(out, "crash_constants.pt"),
      lambda n, d: b"\x80\x02\x85." if n.endswith("constants.pkl") else d)
torch.manual_seed(3)
q = save(Quant(), "quant.pt")
m = torch.jit.load(q)
with open(os.path.join(out, "quant.txt"), "w") as f:
    f.write("%r %d\n" % (m.qt.q_scale(), m.qt.q_zero_point()))
    f.write(" ".join(repr(float(s)) for s in m.qc.q_per_channel_scales()) + "\n")
    f.write(" ".join(str(int(z)) for z in m.qc.q_per_channel_zero_points()) + "\n")
    f.write(" ".join(str(int(v)) for v in m.qt.int_repr()) + "\n")
    f.write(" ".join(str(int(v)) for v in m.qc.int_repr().flatten()) + "\n")
)PY";

LoadResult loadLib(const QString& path, const LoadOptions& base = {})
{
    LoadOptions o = base;
    o.engine = LoaderEngine::LibTorch;
    return loadModel(path, o);
}

QByteArray bytesOf(const ModelIndex& idx, int i)
{
    const auto b = idx.contiguousBytes(i);
    if (!b)
        return QByteArray("error: ") + b.error().toUtf8();
    return QByteArray(reinterpret_cast<const char*>(b->data()), qsizetype(b->size()));
}

/// Everything an index says, and every entry's bytes, compared entry by entry.
void compareIndexes(const ModelIndex& a, const ModelIndex& b)
{
    QCOMPARE(a.format, b.format);
    QCOMPARE(a.engine, b.engine);
    QCOMPARE(a.warnings, b.warnings);
    QCOMPARE(a.entries.size(), b.entries.size());
    QCOMPARE(a.storages.size(), b.storages.size());
    for (size_t s = 0; s < a.storages.size(); ++s) {
        QCOMPARE(a.storages[s].byteSize, b.storages[s].byteSize);
        QCOMPARE(a.storages[s].dtype, b.storages[s].dtype);
    }
    for (size_t i = 0; i < a.entries.size(); ++i) {
        const TensorEntry& x = a.entries[i];
        const TensorEntry& y = b.entries[i];
        const QByteArray where = QByteArray::fromStdString(x.name);
        QCOMPARE(x.name, y.name);
        QCOMPARE(x.kind, y.kind);
        QCOMPARE(x.dtype, y.dtype);
        QVERIFY2(x.shape == y.shape, where.constData());
        QVERIFY2(x.strides == y.strides, where.constData());
        QCOMPARE(x.storageOffset, y.storageOffset);
        QCOMPARE(x.numel, y.numel);
        QCOMPARE(x.bytes, y.bytes);
        QCOMPARE(x.requiresGrad, y.requiresGrad);
        QCOMPARE(x.storage, y.storage);
        QCOMPARE(x.sharedWith, y.sharedWith);
        QCOMPARE(x.qScale(), y.qScale());
        QCOMPARE(x.qZeroPoint(), y.qZeroPoint());
        QCOMPARE(bool(x.qChannels()), bool(y.qChannels()));
        if (x.qChannels()) {
            QCOMPARE(x.qChannels()->axis, y.qChannels()->axis);
            QVERIFY(x.qChannels()->scales == y.qChannels()->scales);
            QVERIFY(x.qChannels()->zeroPoints == y.qChannels()->zeroPoints);
        }
        QCOMPARE(bytesOf(a, int(i)), bytesOf(b, int(i)));
    }
}

/// A fake helper: a shell script standing in for paramscope-torch-helper.
QString fakeHelper(const QString& dir, const QString& name, const QByteArray& body)
{
    const QString path = QDir(dir).filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write("#!/bin/sh\n" + body + "\n");
    f.close();
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return path;
}

class EnvGuard {
public:
    EnvGuard(const char* name, const QByteArray& value) : m_name(name) { qputenv(name, value); }
    ~EnvGuard() { qunsetenv(m_name); }

private:
    const char* m_name;
};

}  // namespace

class TestTorchHelper : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void openTimes();  // first, so that the in-process time includes loading the plug-in
    void sameAsInProcess_data();
    void sameAsInProcess();
    void valuesMatchPython_data();
    void valuesMatchPython();
    void quantizationParameters();
    void nativeRefusalNeverRunsLibTorch_data();
    void nativeRefusalNeverRunsLibTorch();
    void tensorLeftOutByNativeStaysOut();
    void secondCheckRefusesMismatch();
    void crashIsReported();
    void commandLineSurvives();
    void crashOfFakeHelper();
    void failureExitCode();
    void memoryCap();
    void progressIsForwarded();
    void cancelKillsHelper();
    void resultRoundTrip();
    void damagedResultRefused();

private:
    QTemporaryDir m_tmp;    // TMPDIR of this process: result files must not stay behind
    QTemporaryDir m_files;  // generated models
    QString gen(const QString& name) const { return m_files.filePath(name); }
};

void TestTorchHelper::initTestCase()
{
    QVERIFY(m_tmp.isValid() && m_files.isValid());
    qputenv("TMPDIR", QFile::encodeName(m_tmp.path()));
    QVERIFY2(!detail::findTorchHelper().isEmpty(), "paramscope-torch-helper not built");
    // TorchScript reads the classes' source, so the script goes to a file first.
    const QString script = m_files.filePath(QStringLiteral("make_models.py"));
    {
        QFile f(script);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(kGenerator);
    }
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON), {script, m_files.path()});
    QVERIFY(py.waitForFinished(300000));
    QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, py.readAllStandardError().constData());
    QVERIFY(QFileInfo::exists(gen(QStringLiteral("crash_constants.pt"))));
}

void TestTorchHelper::cleanup()
{
    // Every load, good or bad, unlinks its result file.
    const QStringList left = QDir(m_tmp.path()).entryList(QDir::Files | QDir::NoDotAndDotDot);
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char(' '))));
}

void TestTorchHelper::sameAsInProcess_data()
{
    QTest::addColumn<QString>("path");
    for (const char* n : {"seed", "nested", "batchnorm", "frozen", "tied", "dtypes", "views"})
        QTest::newRow(n) << fixture(QString::fromLatin1(n) + QStringLiteral(".pt"));
    for (const char* n : {"ts_norms", "ts_attrs", "ts_dtypes", "ts_tied"})
        QTest::newRow(n) << archive(QString::fromLatin1(n) + QStringLiteral(".pt"));
    QTest::newRow("quantized") << gen(QStringLiteral("quant.pt"));
    QTest::newRow("demo") << kDemo;
}

void TestTorchHelper::sameAsInProcess()
{
    QFETCH(QString, path);
    const auto viaHelper = loadLib(path);
    QVERIFY2(viaHelper.ok(), qPrintable(viaHelper.error()));
    const auto inProcess = detail::loadWithLibTorchInProcess(path, {});
    QVERIFY2(inProcess.ok(), qPrintable(inProcess.error()));
    QCOMPARE(viaHelper.value()->filePath, path);
    QVERIFY(!viaHelper.value()->entries.empty());
    compareIndexes(*viaHelper.value(), *inProcess.value());
}

void TestTorchHelper::valuesMatchPython_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"ts_seed", "ts_nested", "ts_norms", "ts_frozen", "ts_tied", "ts_dtypes"})
        QTest::newRow(n) << QString::fromLatin1(n);
}

// What Python reports (tests/fixtures/make_archive_fixtures.py: names, dtypes, shapes and
// the C-order bytes of every tensor), against the helper's index and bytes.
void TestTorchHelper::valuesMatchPython()
{
    QFETCH(QString, name);
    const QJsonObject truth = readJson(archive(name + QStringLiteral(".truth.json")));
    QVERIFY2(!truth.isEmpty(), "fixture truth missing: run the fixtures_ tests");
    QFile vf(archive(name + QStringLiteral(".values.bin")));
    QVERIFY(vf.open(QIODevice::ReadOnly));
    const QByteArray values = vf.readAll();
    const auto r = loadLib(archive(name + QStringLiteral(".pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    const QJsonArray expected = truth.value(QStringLiteral("entries")).toArray();
    QCOMPARE(int(idx.entries.size()), expected.size());
    for (int i = 0; i < expected.size(); ++i) {
        const QJsonObject x = expected[i].toObject();
        const TensorEntry& e = idx.entries[size_t(i)];
        QCOMPARE(QString::fromStdString(e.name), x.value(QStringLiteral("name")).toString());
        QCOMPARE(QString::fromLatin1(dtypeName(e.dtype).data()), x.value(QStringLiteral("dtype")).toString());
        QCOMPARE(e.storageOffset, x.value(QStringLiteral("offset")).toInteger());
        const QByteArray want =
            values.mid(x.value(QStringLiteral("value_offset")).toInt(), x.value(QStringLiteral("value_bytes")).toInt());
        QCOMPARE(bytesOf(idx, i), want);
    }
}

void TestTorchHelper::quantizationParameters()
{
    const auto r = loadLib(gen(QStringLiteral("quant.pt")));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QFile f(gen(QStringLiteral("quant.txt")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().split('\n');
    QVERIFY(lines.size() >= 5);
    const ModelIndex& idx = *r.value();
    const int qt = idx.findEntry("qt"), qc = idx.findEntry("qc");
    QVERIFY(qt >= 0 && qc >= 0);
    const QList<QByteArray> perTensor = lines[0].split(' ');
    QCOMPARE(idx.entries[size_t(qt)].qScale(), perTensor[0].toDouble());
    QCOMPARE(idx.entries[size_t(qt)].qZeroPoint(), perTensor[1].toLongLong());
    const auto& ch = idx.entries[size_t(qc)].qChannels();
    QVERIFY(ch);
    QCOMPARE(ch->axis, 0);
    std::vector<double> scales;
    for (const auto& s : lines[1].split(' '))
        scales.push_back(s.toDouble());
    std::vector<std::int64_t> zeros;
    for (const auto& z : lines[2].split(' '))
        zeros.push_back(z.toLongLong());
    QVERIFY(ch->scales == scales);
    QVERIFY(ch->zeroPoints == zeros);
    for (auto [entry, line] : {std::pair{qt, 3}, std::pair{qc, 4}}) {
        QByteArray want;
        for (const auto& v : lines[line].split(' '))
            want.append(char(std::int8_t(v.toInt())));
        QCOMPARE(bytesOf(idx, entry), want);
    }
}

void TestTorchHelper::nativeRefusalNeverRunsLibTorch_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("mentions");  // a part of the native reason
    // A 16-byte record declared as 100,000 floats (LibTorch: SIGSEGV on use) and as 64
    // floats (LibTorch: heap bytes in an export).
    QTest::newRow("100000 floats in 16 bytes") << gen(QStringLiteral("lie_big.pt")) << "data/0";
    QTest::newRow("64 floats in 16 bytes") << gen(QStringLiteral("lie_small.pt")) << "data/0";
    QTest::newRow("text") << fixture(QStringLiteral("bad/text.pt")) << "text";
}

void TestTorchHelper::nativeRefusalNeverRunsLibTorch()
{
    QFETCH(QString, file);
    QFETCH(QString, mentions);
    LoadOptions native;
    native.engine = LoaderEngine::Native;
    const auto n = loadModel(file, native);
    QVERIFY(!n.ok());
    QVERIFY2(n.error().contains(mentions), qPrintable(n.error()));
    // The native reason, from the LibTorch engine...
    const auto r = loadLib(file);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().startsWith(n.error()), qPrintable(r.error()));
    QVERIFY2(r.error().contains(QStringLiteral("refused by the native checks")), qPrintable(r.error()));
    // ...and no helper is started at all: a stand-in that leaves a mark is never run.
    const QString mark = m_files.filePath(QStringLiteral("helper_ran"));
    const QString fake =
        fakeHelper(m_files.path(), QStringLiteral("marking-helper"), "touch '" + QFile::encodeName(mark) + "'\nexit 1");
    EnvGuard env("PARAMSCOPE_TORCH_HELPER", QFile::encodeName(fake));
    const auto again = loadLib(file);
    QVERIFY(!again.ok());
    QCOMPARE(again.error(), r.error());
    QVERIFY(!QFileInfo::exists(mark));
    // The stand-in does run for a file the native checks accept (the check above can fail).
    QVERIFY(!loadLib(fixture(QStringLiteral("seed.pt"))).ok());
    QVERIFY(QFileInfo::exists(mark));
    QFile::remove(mark);
}

void TestTorchHelper::tensorLeftOutByNativeStaysOut()
{
    // 'a' fits its record, 'b' (64 floats) lies over 16 bytes: the native reader lists 'a'
    // and warns about 'b'; the LibTorch engine does the same and never reads 'b'.
    const QString path = gen(QStringLiteral("one_lie.pt"));
    LoadOptions native;
    native.engine = LoaderEngine::Native;
    const auto n = loadModel(path, native);
    QVERIFY2(n.ok(), qPrintable(n.error()));
    QString nativeWarning;
    for (const QString& w : n.value()->warnings)
        if (w.contains(QStringLiteral("'b'")))
            nativeWarning = w;
    QVERIFY2(!nativeWarning.isEmpty(), qPrintable(n.value()->warnings.join(QLatin1Char('\n'))));
    // Control: LibTorch itself lists 'b', with the size data.pkl declares.
    const auto direct = detail::loadWithLibTorchInProcess(path, {});
    QVERIFY2(direct.ok(), qPrintable(direct.error()));
    const int b = direct.value()->findEntry("b");
    QVERIFY(b >= 0);
    QCOMPARE(direct.value()->storages[size_t(direct.value()->entries[size_t(b)].storage)].byteSize, std::uint64_t(256));

    const auto r = loadLib(path);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const ModelIndex& idx = *r.value();
    QCOMPARE(idx.engine, QStringLiteral("libtorch"));
    QCOMPARE(idx.entries.size(), size_t(1));
    QCOMPARE(idx.entries[0].name, std::string("a"));
    const float want[4] = {0.5f, 1.5f, 2.5f, 3.5f};
    QCOMPARE(bytesOf(idx, 0), QByteArray(reinterpret_cast<const char*>(want), sizeof want));
    QCOMPARE(idx.storages.size(), size_t(1));
    QVERIFY2(idx.warnings.contains(nativeWarning), qPrintable(idx.warnings.join(QLatin1Char('\n'))));
}

namespace {

/// Storage bytes that must not be read: counts every access.
class TrapStorage final : public StorageProvider {
public:
    mutable std::atomic<int> reads{0};
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(64, 7);
    Result<StorageBytes> storageBytes(int) const override
    {
        ++reads;
        StorageBytes b;
        b.data = bytes.data();
        b.size = bytes.size();
        return b;
    }
};

ModelIndex oneTensor(const std::string& name, DType dtype, std::int64_t n, std::uint64_t storageBytes)
{
    ModelIndex idx;
    idx.filePath = QStringLiteral("/x/m.pt");
    idx.format = ModelFormat::TorchScript;
    TensorEntry e;
    e.name = name;
    e.dtype = dtype;
    e.shape = {n};
    e.strides = {1};
    e.storage = 0;
    idx.entries.push_back(e);
    StorageInfo s;
    s.key = "data/0";
    s.dtype = dtype;
    s.byteSize = storageBytes;
    idx.storages.push_back(s);
    idx.finalize();
    return idx;
}

}  // namespace

// The helper's own check of what LibTorch made of a file against the native index, on
// indexes built by hand (real files cannot get past the native reader with a mismatch).
void TestTorchHelper::secondCheckRefusesMismatch()
{
    auto trap = std::make_shared<TrapStorage>();
    ModelIndex lt = oneTensor("w", DType::Float32, 100000, 400000);  // what data.pkl declares
    lt.provider = trap;
    lt.engine = QStringLiteral("libtorch");
    const ModelIndex native = oneTensor("w", DType::Float32, 4, 16);
    auto r = detail::checkTorchIndexAgainstNative(lt, native);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(),
             QStringLiteral("'m.pt' was refused: LibTorch gives tensor 'w' a storage of 400000 bytes, but the "
                            "file's record for it holds 16 (the sizes the file declares do not match its data)"));
    // A dtype LibTorch sees differently: refused too.
    ModelIndex asDouble = oneTensor("w", DType::Float64, 2, 16);
    asDouble.provider = trap;
    r = detail::checkTorchIndexAgainstNative(asDouble, native);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(QStringLiteral("reads tensor 'w' as float64 but its storage holds float32")),
             qPrintable(r.error()));
    // A tensor the native reader does not list is left out, with the native reason when it gave one.
    ModelIndex other = oneTensor("v", DType::Float32, 4, 16);
    other.provider = trap;
    ModelIndex nativeWarned = native;
    nativeWarned.warnings << QStringLiteral("'v' skipped: because");
    r = detail::checkTorchIndexAgainstNative(other, nativeWarned);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QVERIFY(r.value()->entries.empty());
    QVERIFY(r.value()->storages.empty());
    QCOMPARE(r.value()->warnings, QStringList{QStringLiteral("'v' skipped: because")});
    QCOMPARE(trap->reads.load(), 0);  // no byte of any of them was read
    // What matches passes, renumbered, and reads its storage only on demand.
    ModelIndex same = oneTensor("w", DType::Float32, 4, 16);
    same.provider = trap;
    r = detail::checkTorchIndexAgainstNative(same, native);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value()->entries.size(), size_t(1));
    QCOMPARE(trap->reads.load(), 0);
    QVERIFY(r.value()->provider->storageBytes(0).ok());
    QCOMPARE(trap->reads.load(), 1);
}

void TestTorchHelper::crashIsReported()
{
    // Control: the native reader opens the file (it does not need constants.pkl).
    LoadOptions native;
    native.engine = LoaderEngine::Native;
    const QString path = gen(QStringLiteral("crash_constants.pt"));
    QVERIFY(loadModel(path, native).ok());
    const auto r = loadLib(path);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(),
             QStringLiteral(
                 "the LibTorch engine crashed while reading 'crash_constants.pt' (signal 11, Segmentation fault)"));
    // This process carries on, and so does the engine.
    const auto next = loadLib(fixture(QStringLiteral("seed.pt")));
    QVERIFY2(next.ok(), qPrintable(next.error()));
}

// The attack run's commands, as a user runs them: each ends with exit code 1 and a
// message, and the refused export writes nothing.
void TestTorchHelper::commandLineSurvives()
{
    const QString crash = gen(QStringLiteral("crash_constants.pt"));
    CliRun r = runCli(
        {QStringLiteral("stats"), crash, QStringLiteral("w"), QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral(
                 "the LibTorch engine crashed while reading 'crash_constants.pt' (signal 11, Segmentation fault)")),
             qPrintable(r.err));
    r = runCli({QStringLiteral("stats"), gen(QStringLiteral("lie_big.pt")), QStringLiteral("w"),
                QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("'lie_big.pt'")) &&
                 r.err.contains(QStringLiteral("refused by the native checks")),
             qPrintable(r.err));
    const QString npy = m_files.filePath(QStringLiteral("leak.npy"));
    r = runCli({QStringLiteral("export"), gen(QStringLiteral("lie_small.pt")), QStringLiteral("w"),
                QStringLiteral("-o"), npy, QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("'lie_small.pt'")), qPrintable(r.err));
    QVERIFY(!QFileInfo::exists(npy));
    // The same commands on a good file work through the helper.
    r = runCli({QStringLiteral("stats"), fixture(QStringLiteral("seed.pt")), QStringLiteral("linear1.weight"),
                QStringLiteral("--engine"), QStringLiteral("libtorch"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral("\"elements\": 32")), qPrintable(r.out));
    const CliRun n =
        runCli({QStringLiteral("stats"), fixture(QStringLiteral("seed.pt")), QStringLiteral("linear1.weight"),
                QStringLiteral("--engine"), QStringLiteral("native"), QStringLiteral("--json")});
    QCOMPARE(n.code, 0);
    QCOMPARE(r.out, n.out);  // the same bytes, so the same statistics
}

void TestTorchHelper::crashOfFakeHelper()
{
    EnvGuard env("PARAMSCOPE_TORCH_HELPER",
                 QFile::encodeName(fakeHelper(m_files.path(), QStringLiteral("aborting-helper"), "kill -ABRT $$")));
    const auto r = loadLib(fixture(QStringLiteral("seed.pt")));
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), QStringLiteral("the LibTorch engine crashed while reading 'seed.pt' (signal 6, Aborted)"));
}

void TestTorchHelper::failureExitCode()
{
    {
        EnvGuard env("PARAMSCOPE_TORCH_HELPER",
                     QFile::encodeName(fakeHelper(m_files.path(), QStringLiteral("failing-helper"),
                                                  "echo 'something broke' >&2\nexit 7")));
        const auto r = loadLib(fixture(QStringLiteral("seed.pt")));
        QVERIFY(!r.ok());
        QCOMPARE(r.error(),
                 QStringLiteral("the LibTorch engine failed while reading 'seed.pt' (exit code 7: something broke)"));
    }
    {
        // Exit 0 with nothing written: an empty result is damaged, not an empty model.
        EnvGuard env("PARAMSCOPE_TORCH_HELPER",
                     QFile::encodeName(fakeHelper(m_files.path(), QStringLiteral("lazy-helper"), "exit 0")));
        const auto r = loadLib(fixture(QStringLiteral("seed.pt")));
        QVERIFY(!r.ok());
        QVERIFY2(r.error().startsWith(QStringLiteral(
                     "'seed.pt' could not be read with the LibTorch engine: its helper returned a damaged result")),
                 qPrintable(r.error()));
    }
}

void TestTorchHelper::memoryCap()
{
#if PARAMSCOPE_ASAN
    QSKIP("AddressSanitizer builds do not cap the helper's address space (ASan reserves terabytes of shadow)");
#endif
    // 64 MiB of address space cannot hold LibTorch: the load fails, cleanly, and names the file.
    EnvGuard env("PARAMSCOPE_TORCH_HELPER_MAX_MEMORY", QByteArray::number(64 << 20));
    const auto r = loadLib(fixture(QStringLiteral("seed.pt")));
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(QStringLiteral("'seed.pt'")), qPrintable(r.error()));
    qInfo("under a 64 MiB cap: %s", qPrintable(r.error()));
}

void TestTorchHelper::progressIsForwarded()
{
    LoadOptions o;
    QStringList stages;
    QList<double> fractions;
    o.progress = [&](double f, const QString& text) {
        fractions << f;
        stages << text;
    };
    const auto r = loadLib(kDemo, o);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    // The helper's own stages (libtorchloader.cpp) arrive through its stdout.
    QVERIFY2(stages.contains(QStringLiteral("Reading archive")), qPrintable(stages.join(QStringLiteral(", "))));
    QVERIFY2(stages.contains(QStringLiteral("Indexing tensors")), qPrintable(stages.join(QStringLiteral(", "))));
    QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    QCOMPARE(fractions.last(), 1.0);
}

void TestTorchHelper::cancelKillsHelper()
{
    // Cancel once the helper reports that LibTorch is reading; a stand-in helper that
    // would sleep for a minute shows that the cancel does not wait for it.
    const QString fake = fakeHelper(m_files.path(), QStringLiteral("slow-helper"),
                                    "printf 'progress\\t0.05\\tReading archive\\n'\nexec sleep 60");
    EnvGuard env("PARAMSCOPE_TORCH_HELPER", QFile::encodeName(fake));
    LoadOptions o;
    o.cancel = makeCancelToken();
    o.progress = [&](double, const QString& text) {
        if (text == QLatin1String("Reading archive"))
            o.cancel->store(true);
    };
    // The option object is copied into loadModel: the callback flips the shared token.
    QElapsedTimer t;
    t.start();
    const auto r = loadLib(fixture(QStringLiteral("seed.pt")), o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), cancelledMessage(fixture(QStringLiteral("seed.pt"))));
    qInfo("cancelled after %lld ms (the stand-in would have run 60 s)", t.elapsed());
}

void TestTorchHelper::resultRoundTrip()
{
    // The format alone, on an index the native reader made (views, tied weights, every dtype).
    LoadOptions native;
    native.engine = LoaderEngine::Native;
    for (const QString& name :
         {QStringLiteral("sv_shared.pt"), QStringLiteral("sv_dtypes.pt"), QStringLiteral("ts_tied.pt")}) {
        const auto r = loadModel(archive(name), native);
        QVERIFY2(r.ok(), qPrintable(r.error()));
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("r.bin"));
        const auto st = detail::writeTorchHelperResult(*r.value(), out);
        QVERIFY2(st.ok(), qPrintable(st.error()));
        const auto back = detail::readTorchHelperResult(out, archive(name));
        QVERIFY2(back.ok(), qPrintable(back.error()));
        ModelIndex expect = *r.value();
        expect.engine = QStringLiteral("libtorch");
        compareIndexes(*back.value(), expect);
    }
}

void TestTorchHelper::damagedResultRefused()
{
    LoadOptions native;
    native.engine = LoaderEngine::Native;
    const auto r = loadModel(archive(QStringLiteral("sv_dtypes.pt")), native);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QTemporaryDir dir;
    const QString good = dir.filePath(QStringLiteral("good.bin"));
    QVERIFY(detail::writeTorchHelperResult(*r.value(), good).ok());
    QFile gf(good);
    QVERIFY(gf.open(QIODevice::ReadOnly));
    const QByteArray bytes = gf.readAll();
    const QString bad = dir.filePath(QStringLiteral("bad.bin"));
    auto readBack = [&](const QByteArray& data) {
        QFile f(bad);
        f.open(QIODevice::WriteOnly | QIODevice::Truncate);
        f.write(data);
        f.close();
        return detail::readTorchHelperResult(bad, QStringLiteral("/x/model.pt"));
    };
    // Cut at every length: always refused, naming the model.
    for (qsizetype n = 0; n < bytes.size(); n += (n < 4096 ? 1 : 61)) {
        const auto cut = readBack(bytes.left(n));
        QVERIFY2(!cut.ok(), qPrintable(QStringLiteral("accepted a result cut to %1 bytes").arg(n)));
        QVERIFY2(cut.error().startsWith(QStringLiteral(
                     "'model.pt' could not be read with the LibTorch engine: its helper returned a damaged result")),
                 qPrintable(cut.error()));
    }
    // Random damage: refused, or an index whose every view and copy is checked.
    QRandomGenerator seeded(20261201);
    int refused = 0;
    for (int round = 0; round < 3000; ++round) {
        QByteArray d = bytes;
        const int flips = 1 + int(seeded.bounded(4));
        for (int k = 0; k < flips; ++k) {
            const auto at = qsizetype(seeded.bounded(std::min<qsizetype>(d.size(), 2048)));
            d[at] = char(seeded.bounded(256));
        }
        const auto res = readBack(d);
        if (!res.ok()) {
            ++refused;
            continue;
        }
        for (size_t i = 0; i < res.value()->entries.size(); ++i) {
            const TensorEntry& e = res.value()->entries[i];
            if (e.numel <= (1 << 20) && e.bytes > 0)  // a copy's size, not its checks, is bounded here
                (void)res.value()->contiguousBytes(int(i));
        }
    }
    qInfo("random damage: %d of 3000 refused, the rest read through checked views", refused);
    QVERIFY(refused > 0);
}

void TestTorchHelper::openTimes()
{
    // Printed, never asserted: the LibTorch-engine open of the demo model in this process
    // (as the engine did before it had a helper process) and through the helper.
    QElapsedTimer t;
    t.start();
    QVERIFY(detail::loadWithLibTorchInProcess(kDemo, {}).ok());
    const qint64 firstInProcess = t.restart();
    QVERIFY(detail::loadWithLibTorchInProcess(kDemo, {}).ok());
    const qint64 warmInProcess = t.restart();
    qint64 helper = 0;
    for (int i = 0; i < 3; ++i) {
        t.restart();
        QVERIFY(loadLib(kDemo).ok());
        const qint64 ms = t.elapsed();
        helper = i == 0 ? ms : std::min(helper, ms);
    }
    qInfo(
        "demo_model.pt, LibTorch engine: in-process %lld ms first (loads the plug-in), %lld ms warm; "
        "helper process %lld ms (best of 3)",
        firstInProcess, warmInProcess, helper);
}

QTEST_GUILESS_MAIN(TestTorchHelper)
#include "tst_torchhelper.moc"
