// Export: every dtype in every format, read back by independent readers (NumPy's np.load,
// PyTorch's torch.load, a json+struct safetensors parser, Python's csv module) through
// tests/fixtures/check_export.py, and compared bit for bit with what PyTorch itself
// loads from the model. Failure cases must leave the destination untouched and no
// temporary file behind.
#include "export/export.h"
#include "formats/loader.h"
#include "model/torchbackend.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace paramscope;

namespace {

const QString kModel = QStringLiteral(PARAMSCOPE_FIXTURES "/export/export_model.pt");
const QString kChecker = QStringLiteral(PARAMSCOPE_SOURCE_DIR "/tests/fixtures/check_export.py");

/// A model index over bytes in memory: for sizes and dtypes no fixture file needs to hold
/// (a large tensor to cancel, float8, uint16).
class MemoryStorage final : public StorageProvider {
public:
    std::vector<std::shared_ptr<std::vector<std::uint8_t>>> buffers;
    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || size_t(i) >= buffers.size())
            return Result<StorageBytes>::failure(QStringLiteral("no storage"));
        StorageBytes b;
        b.owner = buffers[size_t(i)];
        b.data = buffers[size_t(i)]->data();
        b.size = buffers[size_t(i)]->size();
        return b;
    }
};

std::shared_ptr<ModelIndex> memoryIndex(const std::string& name, DType t, std::vector<std::int64_t> shape,
                                        std::vector<std::uint8_t> bytes)
{
    auto storage = std::make_shared<MemoryStorage>();
    storage->buffers.push_back(std::make_shared<std::vector<std::uint8_t>>(std::move(bytes)));
    auto index = std::make_shared<ModelIndex>();
    index->filePath = QStringLiteral("memory.pt");
    index->provider = storage;
    StorageInfo si;
    si.key = "data/0";
    si.dtype = t;
    si.byteSize = storage->buffers[0]->size();
    index->storages.push_back(si);
    TensorEntry e;
    e.name = name;
    e.dtype = t;
    e.shape = std::move(shape);
    e.storage = 0;
    index->entries.push_back(e);
    index->finalize();
    return index;
}

std::shared_ptr<ModelIndex> bigFloatIndex(std::int64_t numel)
{
    std::vector<std::uint8_t> bytes(size_t(numel) * 4);
    for (std::int64_t i = 0; i < numel; ++i) {
        const float v = float(i % 1000) * 0.5f;
        std::memcpy(bytes.data() + 4 * i, &v, 4);
    }
    return memoryIndex("big", DType::Float32, {numel}, std::move(bytes));
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeFile(const QString& path, const QByteArray& data)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

QStringList dirEntries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

}  // namespace

class TestExport : public QObject {
    Q_OBJECT

    std::shared_ptr<const ModelIndex> m_index;
    QJsonArray m_truthEntries;

    /// Runs the independent reader over `jobs` ({path, names}); fails the test with its
    /// report when any file does not read back identically.
    void runChecker(const QJsonArray& jobs, const QString& dir)
    {
        const QString manifest = dir + QStringLiteral("/manifest.json");
        QVERIFY(writeFile(manifest, QJsonDocument(jobs).toJson()));
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral(PARAMSCOPE_PYTHON), {kChecker, kModel, QStringLiteral("--manifest"), manifest});
        QVERIFY2(p.waitForFinished(300000), "check_export.py did not finish");
        const QString report = QString::fromUtf8(p.readAll());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(report));
        // Every job was read (the checker prints one OK line per file).
        QCOMPARE(report.count(QStringLiteral("OK ")), jobs.size());
    }

    static QJsonObject job(const QString& path, const QStringList& names)
    {
        return QJsonObject{{QStringLiteral("path"), path},
                           {QStringLiteral("names"), QJsonArray::fromStringList(names)}};
    }

    QStringList allNames() const
    {
        QStringList names;
        for (const auto& e : m_index->entries)
            names << QString::fromStdString(e.name);
        return names;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo::exists(kModel), qPrintable(kModel));
        LoadOptions o;
        o.engine = LoaderEngine::LibTorch;
        auto r = loadModel(kModel, o);
        QVERIFY2(r, qPrintable(r.error()));
        m_index = r.value();
        // The index lists what Python lists, in the same order.
        const QJsonObject truth = [] {
            QFile f(QStringLiteral(PARAMSCOPE_FIXTURES "/export/export_model.json"));
            return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
        }();
        m_truthEntries = truth.value(QStringLiteral("entries")).toArray();
        QCOMPARE(int(m_index->entries.size()), m_truthEntries.size());
        for (int i = 0; i < m_truthEntries.size(); ++i)
            QCOMPARE(QString::fromStdString(m_index->entries[size_t(i)].name),
                     m_truthEntries[i].toObject().value(QStringLiteral("name")).toString());
        // The fixture really has what the tests below rely on.
        QVERIFY(!m_truthEntries[m_index->findEntry("base_t")].toObject().value(QStringLiteral("contiguous")).toBool());
        QCOMPARE(m_index->entries[size_t(m_index->findEntry("head.weight"))].sharedWith,
                 m_index->findEntry("embed.weight"));
        QCOMPARE(m_index->entries[size_t(m_index->findEntry("base_slice"))].sharedWith, m_index->findEntry("base"));
    }

    void formatNames()
    {
        QCOMPARE(exportFormatFromPath(QStringLiteral("/a/b.NPY")), std::optional<ExportFormat>(ExportFormat::Npy));
        QCOMPARE(exportFormatFromPath(QStringLiteral("w.safetensors")),
                 std::optional<ExportFormat>(ExportFormat::Safetensors));
        QCOMPARE(exportFormatFromPath(QStringLiteral("w.pth")), std::optional<ExportFormat>(ExportFormat::Pt));
        QCOMPARE(exportFormatFromPath(QStringLiteral("w.csv")), std::optional<ExportFormat>(ExportFormat::Csv));
        QVERIFY(!exportFormatFromPath(QStringLiteral("weights")));
        QVERIFY(!exportFormatFromId(QStringLiteral("h5")));
        QCOMPARE(exportFormatsFor(1).size(), size_t(4));
        const auto several = exportFormatsFor(3);
        QCOMPARE(several.size(), size_t(2));
        for (auto f : several)
            QVERIFY(exportFormatHoldsSeveral(f));
    }

    /// Every tensor of the fixture in every format, read back by NumPy/PyTorch/csv; the
    /// model read by LibTorch and by the native reader (whose views are memory-mapped).
    void everyTensorEveryFormat_data()
    {
        QTest::addColumn<LoaderEngine>("engine");
        QTest::newRow("libtorch") << LoaderEngine::LibTorch;
        QTest::newRow("native") << LoaderEngine::Native;
    }
    void everyTensorEveryFormat()
    {
        QFETCH(LoaderEngine, engine);
        std::shared_ptr<const ModelIndex> index = m_index;
        if (engine != LoaderEngine::LibTorch) {
            LoadOptions lo;
            lo.engine = engine;
            auto loaded = loadModel(kModel, lo);
            QVERIFY2(loaded, qPrintable(loaded.error()));
            index = loaded.value();
            QCOMPARE(index->entries.size(), m_index->entries.size());
        }
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QJsonArray jobs;
        for (size_t i = 0; i < index->entries.size(); ++i) {
            const auto& e = index->entries[i];
            const QString name = QString::fromStdString(e.name);
            for (auto f : exportFormatsFor(1)) {
                const QString out = dir.filePath(name + QLatin1Char('.') + exportFormatSuffix(f));
                const auto r = exportTensors(*index, {int(i)}, out, f);
                if (e.dtype == DType::Complex128 && f == ExportFormat::Safetensors) {
                    // safetensors has no complex128 code: a clear refusal, and no file.
                    QVERIFY(!r);
                    QCOMPARE(r.kind(), ErrorKind::Unsupported);
                    QVERIFY2(r.error().contains(QLatin1String("complex128")) && r.error().contains(name),
                             qPrintable(r.error()));
                    QVERIFY(!QFileInfo::exists(out));
                    continue;
                }
                QVERIFY2(r, qPrintable(name + QStringLiteral(": ") + r.error()));
                QCOMPARE(r->tensors, 1);
                QCOMPARE(r->bytesWritten, QFileInfo(out).size());
                jobs.append(job(out, {name}));
            }
        }
        QCOMPARE(dirEntries(dir.path()).size(), jobs.size());  // no temporary files left
        runChecker(jobs, dir.path());
    }

    void notesSayWhatChanged()
    {
        const int bf16 = m_index->findEntry("bf16");
        const int q8 = m_index->findEntry("q8");
        const int f32 = m_index->findEntry("f32");
        QVERIFY(bf16 >= 0 && q8 >= 0 && f32 >= 0);
        const auto npy = exportNotes(*m_index, {bf16}, ExportFormat::Npy);
        QCOMPARE(npy.size(), 1);
        QVERIFY(npy[0].contains(QLatin1String("bfloat16")) && npy[0].contains(QLatin1String("float32")));
        QVERIFY(exportNotes(*m_index, {bf16}, ExportFormat::Pt).isEmpty());  // .pt keeps bfloat16
        QVERIFY(exportNotes(*m_index, {bf16}, ExportFormat::Safetensors).isEmpty());
        QVERIFY(exportNotes(*m_index, {f32}, ExportFormat::Npy).isEmpty());
        QVERIFY(exportNotes(*m_index, {q8}, ExportFormat::Safetensors)
                    .join(QString())
                    .contains(QLatin1String("dequantized")));
        // The report of a real export carries the same notes.
        QTemporaryDir dir;
        const auto r = exportTensors(*m_index, {bf16}, dir.filePath(QStringLiteral("b.npy")), ExportFormat::Npy);
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(r->notes, npy);
        // Shared storage is mentioned for the formats that hold several tensors.
        const int embed = m_index->findEntry("embed.weight"), head = m_index->findEntry("head.weight");
        QVERIFY(
            exportNotes(*m_index, {embed, head}, ExportFormat::Pt).join(QString()).contains(QLatin1String("share")));
    }

    /// Several tensors into one .pt (a dict) and one .safetensors: names and order
    /// preserved, tied weights and views each with their own correct values.
    void severalTensors()
    {
        QTemporaryDir dir;
        QJsonArray jobs;
        std::vector<int> all, noC128;
        QStringList allN, noC128N;
        for (size_t i = 0; i < m_index->entries.size(); ++i) {
            all.push_back(int(i));
            allN << QString::fromStdString(m_index->entries[i].name);
            if (m_index->entries[i].dtype != DType::Complex128) {
                noC128.push_back(int(i));
                noC128N << allN.back();
            }
        }
        const QString pt = dir.filePath(QStringLiteral("all.pt"));
        auto r = exportTensors(*m_index, all, pt, ExportFormat::Pt);
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(r->tensors, int(all.size()));
        jobs.append(job(pt, allN));

        const QString st = dir.filePath(QStringLiteral("all.safetensors"));
        r = exportTensors(*m_index, noC128, st, ExportFormat::Safetensors);
        QVERIFY2(r, qPrintable(r.error()));
        jobs.append(job(st, noC128N));

        // A subset in a different order: the shared ones, the views first.
        const QStringList subset{QStringLiteral("base_slice"), QStringLiteral("head.weight"), QStringLiteral("base_t"),
                                 QStringLiteral("embed.weight"), QStringLiteral("base")};
        std::vector<int> ids;
        for (const auto& n : subset)
            ids.push_back(m_index->findEntry(n.toStdString()));
        for (auto f : {ExportFormat::Pt, ExportFormat::Safetensors}) {
            const QString out = dir.filePath(QStringLiteral("shared.") + exportFormatSuffix(f));
            r = exportTensors(*m_index, ids, out, f);
            QVERIFY2(r, qPrintable(r.error()));
            jobs.append(job(out, subset));
        }

        // complex128 in a multi-tensor safetensors: refused as a whole, nothing written.
        const QString bad = dir.filePath(QStringLiteral("bad.safetensors"));
        r = exportTensors(*m_index, all, bad, ExportFormat::Safetensors);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Unsupported);
        QVERIFY2(r.error().contains(QLatin1String("c128")), qPrintable(r.error()));
        QVERIFY(!QFileInfo::exists(bad));
        QCOMPARE(dirEntries(dir.path()).size(), jobs.size());
        runChecker(jobs, dir.path());
    }

    /// The streamed .pt archive is byte for byte what torch::pickle_save writes.
    void ptIsWhatPickleSaveWrites()
    {
        QTemporaryDir dir;
        const std::vector<std::string> names{"f32", "bf16", "base_t", "i64", "flags", "scalar", "empty", "c128"};
        std::vector<int> ids;
        std::vector<std::vector<std::uint8_t>> bytes;
        std::vector<detail::PtTensor> tensors;
        for (const auto& n : names) {
            const int i = m_index->findEntry(n);
            QVERIFY(i >= 0);
            ids.push_back(i);
            auto b = m_index->contiguousBytes(i);
            QVERIFY2(b, qPrintable(b.error()));
            bytes.push_back(std::move(b.value()));
        }
        for (size_t k = 0; k < ids.size(); ++k) {
            const auto& e = m_index->entries[size_t(ids[k])];
            tensors.push_back({e.name, e.dtype, e.shape, bytes[k].empty() ? nullptr : bytes[k].data()});
        }
        const QString several = dir.filePath(QStringLiteral("several.pt"));
        auto r = exportTensors(*m_index, ids, several, ExportFormat::Pt);
        QVERIFY2(r, qPrintable(r.error()));
        auto ref = detail::picklePt(tensors, true);
        QVERIFY2(ref, qPrintable(ref.error()));
        QCOMPARE(readAll(several), QByteArray(ref->data(), qsizetype(ref->size())));

        const QString one = dir.filePath(QStringLiteral("one.pt"));
        r = exportTensors(*m_index, {ids[2]}, one, ExportFormat::Pt);
        QVERIFY2(r, qPrintable(r.error()));
        ref = detail::picklePt({tensors[2]}, false);
        QVERIFY2(ref, qPrintable(ref.error()));
        QCOMPARE(readAll(one), QByteArray(ref->data(), qsizetype(ref->size())));
    }

    void severalIntoOneTensorFormatIsAnError_data()
    {
        QTest::addColumn<ExportFormat>("format");
        QTest::newRow("npy") << ExportFormat::Npy;
        QTest::newRow("csv") << ExportFormat::Csv;
    }
    void severalIntoOneTensorFormatIsAnError()
    {
        QFETCH(ExportFormat, format);
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("two.") + exportFormatSuffix(format));
        const auto r = exportTensors(*m_index, {0, 1}, out, format);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Unsupported);
        QVERIFY2(r.error().contains(QLatin1String("one tensor")) && r.error().contains(QLatin1String(".safetensors")),
                 qPrintable(r.error()));
        QVERIFY(dirEntries(dir.path()).isEmpty());
        // Nothing selected, or an index out of range: errors too.
        QCOMPARE(exportTensors(*m_index, {}, out, format).kind(), ErrorKind::Failed);
        QCOMPARE(exportTensors(*m_index, {9999}, out, format).kind(), ErrorKind::Failed);
        QVERIFY(dirEntries(dir.path()).isEmpty());
    }

    /// File names with spaces and non-ASCII characters; an existing file is replaced.
    void unicodeAndSpacesAndReplace()
    {
        QTemporaryDir dir;
        const QString sub = dir.filePath(QStringLiteral("Ordner mit Leerzeichen – ü"));
        QVERIFY(QDir().mkpath(sub));
        const QString out = sub + QStringLiteral("/Gewicht ä 名前 (1).npy");
        QVERIFY(writeFile(out, "old contents"));
        const int i = m_index->findEntry("base_t");
        auto r = exportTensors(*m_index, {i}, out, ExportFormat::Npy);
        QVERIFY2(r, qPrintable(r.error()));
        const QString st = sub + QStringLiteral("/ünïcode ✓.safetensors");
        r = exportTensors(*m_index, {i, m_index->findEntry("bf16")}, st, ExportFormat::Safetensors);
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(dirEntries(sub).size(), 2);
        runChecker({job(out, {QStringLiteral("base_t")}), job(st, {QStringLiteral("base_t"), QStringLiteral("bf16")})},
                   dir.path());
    }

    void pathIsAFolder()
    {
        QTemporaryDir dir;
        const QString folder = dir.filePath(QStringLiteral("weights.npy"));
        QVERIFY(QDir().mkpath(folder));
        const auto r = exportTensors(*m_index, {0}, folder, ExportFormat::Npy);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Io);
        QVERIFY2(r.error().contains(QLatin1String("is a folder")), qPrintable(r.error()));
        QVERIFY(QFileInfo(folder).isDir());
        QCOMPARE(dirEntries(dir.path()), QStringList{QStringLiteral("weights.npy")});
        QVERIFY(dirEntries(folder).isEmpty());
    }

    void missingFolderOrParentIsAFile()
    {
        QTemporaryDir dir;
        auto r = exportTensors(*m_index, {0}, dir.filePath(QStringLiteral("no/such/dir/w.npy")), ExportFormat::Npy);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Io);
        QVERIFY2(r.error().contains(QLatin1String("does not exist")), qPrintable(r.error()));
        QVERIFY(dirEntries(dir.path()).isEmpty());  // the folder is not created behind the user's back

        const QString file = dir.filePath(QStringLiteral("plain"));
        QVERIFY(writeFile(file, "x"));
        r = exportTensors(*m_index, {0}, file + QStringLiteral("/w.npy"), ExportFormat::Npy);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Io);
        QVERIFY2(r.error().contains(QLatin1String("not a folder")), qPrintable(r.error()));
        QCOMPARE(readAll(file), QByteArray("x"));
    }

    /// A folder the process cannot write into. Root ignores permission bits, so as root
    /// the test uses /sys, where even root cannot create files.
    void readOnlyFolder()
    {
        QTemporaryDir dir;
        QString folder;
        if (::geteuid() != 0) {
            folder = dir.filePath(QStringLiteral("ro"));
            QVERIFY(QDir().mkpath(folder));
            QVERIFY(::chmod(QFile::encodeName(folder).constData(), 0555) == 0);
        } else {
            folder = QStringLiteral("/sys");
            const QByteArray probe = QFile::encodeName(folder + QStringLiteral("/paramscope-probe"));
            const int fd = ::open(probe.constData(), O_CREAT | O_WRONLY, 0644);
            if (fd >= 0) {
                ::close(fd);
                ::unlink(probe.constData());
                QSKIP("running as root and /sys is writable here: no read-only folder to test with");
            }
        }
        const QStringList before = dirEntries(folder);
        const QString out = folder + QStringLiteral("/paramscope-export-test.npy");
        const auto r = exportTensors(*m_index, {0}, out, ExportFormat::Npy);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Io);
        QVERIFY2(r.error().contains(QLatin1String("paramscope-export-test.npy")) &&
                     r.error().contains(QLatin1String("cannot write")),
                 qPrintable(r.error()));
        QVERIFY(!QFileInfo::exists(out));
        QCOMPARE(dirEntries(folder), before);
        if (::geteuid() != 0)
            ::chmod(QFile::encodeName(folder).constData(), 0755);
    }

    /// A full disk, the device way: /dev/full fails every write with ENOSPC. It is not a
    /// regular file, so it is written directly; it must still be the device afterwards.
    void devFull()
    {
        if (!QFileInfo::exists(QStringLiteral("/dev/full")))
            QSKIP("no /dev/full on this system");
        const QStringList before =
            QDir(QStringLiteral("/dev")).entryList({QStringLiteral("full*")}, QDir::AllEntries | QDir::System);
        auto big = bigFloatIndex(1 << 18);  // 1 MiB
        for (auto f : exportFormatsFor(1)) {
            const auto r = exportTensors(*big, {0}, QStringLiteral("/dev/full"), f);
            QVERIFY(!r);
            QCOMPARE(r.kind(), ErrorKind::Io);
            QVERIFY2(
                r.error().contains(QLatin1String("/dev/full")) && r.error().contains(QLatin1String("No space left")),
                qPrintable(r.error()));
        }
        struct stat st {};
        QVERIFY(::stat("/dev/full", &st) == 0);
        QVERIFY(S_ISCHR(st.st_mode));
        QCOMPARE(QDir(QStringLiteral("/dev")).entryList({QStringLiteral("full*")}, QDir::AllEntries | QDir::System),
                 before);
    }

    /// A full disk, the regular-file way: a file size limit (RLIMIT_FSIZE, which binds
    /// root too) makes writes to the temporary file fail part-way. The existing
    /// destination keeps its old contents and the temporary file is gone.
    void diskFullKeepsDestination_data()
    {
        QTest::addColumn<ExportFormat>("format");
        for (auto f : exportFormatsFor(1))
            QTest::newRow(qPrintable(exportFormatId(f))) << f;
    }
    void diskFullKeepsDestination()
    {
        QFETCH(ExportFormat, format);
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("w.") + exportFormatSuffix(format));
        QVERIFY(writeFile(out, "previous export"));
        auto big = bigFloatIndex(1 << 19);  // 2 MiB of data, more as text

        std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
        rlimit old{};
        QVERIFY(::getrlimit(RLIMIT_FSIZE, &old) == 0);
        rlimit small = old;
        small.rlim_cur = 256 * 1024;
        QVERIFY(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        const auto r = exportTensors(*big, {0}, out, format);
        QVERIFY(::setrlimit(RLIMIT_FSIZE, &old) == 0);

        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Io);
        QVERIFY2(r.error().contains(QLatin1String("could not write")) && r.error().contains(QLatin1String("w.")),
                 qPrintable(r.error()));
        QCOMPARE(readAll(out), QByteArray("previous export"));
        QCOMPARE(dirEntries(dir.path()), QStringList{QFileInfo(out).fileName()});
    }

    /// Cancel part-way: the destination keeps its old contents, no temporary file remains.
    void cancelLeavesNothing_data()
    {
        QTest::addColumn<ExportFormat>("format");
        for (auto f : exportFormatsFor(1))
            QTest::newRow(qPrintable(exportFormatId(f))) << f;
    }
    void cancelLeavesNothing()
    {
        QFETCH(ExportFormat, format);
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("big.") + exportFormatSuffix(format));
        QVERIFY(writeFile(out, "previous export"));
        auto big = bigFloatIndex(8 << 20);  // 32 MiB: many chunks
        ExportOptions o;
        o.cancel = makeCancelToken();
        int calls = 0;
        double last = 0;
        o.progress = [&](double f) {
            ++calls;
            last = f;
            o.cancel->store(true);  // cancel at the first progress report
        };
        const auto r = exportTensors(*big, {0}, out, format, o);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Cancelled);
        QCOMPARE(r.error(), exportCancelledMessage(out));
        QVERIFY(calls >= 1);
        QVERIFY(last < 1.0);
        QCOMPARE(readAll(out), QByteArray("previous export"));
        QCOMPARE(dirEntries(dir.path()), QStringList{QFileInfo(out).fileName()});
    }

    /// A cancel before the first byte (every format, .pt's preparing pass included) is a
    /// cancel too, with the same message, and leaves nothing.
    void cancelBeforeStart()
    {
        QTemporaryDir dir;
        auto small = bigFloatIndex(1024);
        ExportOptions o;
        o.cancel = makeCancelToken();
        o.cancel->store(true);
        for (auto f : exportFormatsFor(1)) {
            const QString out = dir.filePath(QStringLiteral("c.") + exportFormatSuffix(f));
            const auto r = exportTensors(*small, {0}, out, f, o);
            QVERIFY(!r);
            QCOMPARE(r.kind(), ErrorKind::Cancelled);
            QCOMPARE(r.error(), exportCancelledMessage(out));
        }
        QVERIFY(dirEntries(dir.path()).isEmpty());
    }

    /// The file the model is read from (by its own name or through a symbolic link) is
    /// never the destination: an I/O refusal, and the model file keeps its bytes.
    void overwritingTheSourceIsRefused()
    {
        QTemporaryDir dir;
        const QString copy = dir.filePath(QStringLiteral("model.pt"));
        QVERIFY(QFile::copy(kModel, copy));
        LoadOptions lo;
        lo.engine = LoaderEngine::Native;
        const auto loaded = loadModel(copy, lo);
        QVERIFY2(loaded, qPrintable(loaded.error()));
        const QByteArray before = readAll(copy);
        const QString link = dir.filePath(QStringLiteral("link.pt"));
        QVERIFY(QFile::link(copy, link));
        for (const QString& out : {copy, link}) {
            const auto r = exportTensors(*loaded.value(), {0}, out, ExportFormat::Pt);
            QVERIFY(!r);
            QCOMPARE(r.kind(), ErrorKind::Io);
            QVERIFY2(r.error().contains(QLatin1String("it is the file the model is read from")), qPrintable(r.error()));
        }
        QCOMPARE(readAll(copy), before);
        QCOMPARE(dirEntries(dir.path()), (QStringList{QStringLiteral("link.pt"), QStringLiteral("model.pt")}));
    }

    /// What a format cannot hold is Unsupported; past the 1 TiB an export writes is Limit.
    void unsupportedAndLimitKinds()
    {
        QTemporaryDir dir;
        // A uint64 above INT64_MAX has no int64 for .pt (torch has no uint64 here);
        // one below it is written.
        std::vector<std::uint8_t> bytes(16);
        const std::uint64_t values[2] = {std::uint64_t(1) << 63, 5};
        std::memcpy(bytes.data(), values, 16);
        auto u64 = memoryIndex("u64", DType::UInt64, {2}, bytes);
        const QString pt = dir.filePath(QStringLiteral("u64.pt"));
        auto r = exportTensors(*u64, {0}, pt, ExportFormat::Pt);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Unsupported);
        QVERIFY2(r.error().contains(QLatin1String("9223372036854775808")), qPrintable(r.error()));
        std::memcpy(bytes.data(), &values[1], 8);
        auto fits = memoryIndex("u64", DType::UInt64, {1}, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 8));
        QVERIFY(exportTensors(*fits, {0}, pt, ExportFormat::Pt));
        QVERIFY(QFile::remove(pt));
        // safetensors keeps "__metadata__" for itself.
        auto meta = memoryIndex("__metadata__", DType::Float32, {1}, std::vector<std::uint8_t>(4));
        r = exportTensors(*meta, {0}, dir.filePath(QStringLiteral("m.safetensors")), ExportFormat::Safetensors);
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Unsupported);
        // 2^39 float32 elements are 2 TiB: refused before any storage byte is read.
        auto huge = memoryIndex("huge", DType::Float32, {std::int64_t(1) << 39}, std::vector<std::uint8_t>(4));
        for (auto f : exportFormatsFor(1)) {
            r = exportTensors(*huge, {0}, dir.filePath(QStringLiteral("h.") + exportFormatSuffix(f)), f);
            QVERIFY(!r);
            QCOMPARE(r.kind(), ErrorKind::Limit);
            QVERIFY2(r.error().contains(QLatin1String("1 TiB")), qPrintable(r.error()));
        }
        QVERIFY(dirEntries(dir.path()).isEmpty());
    }

    /// A source file cut short while it is exported: the pages under the view vanish. The
    /// export fails as Corrupt (the source no longer is what was indexed), not as the
    /// write error the vanished pages caused, and commits nothing.
    void sourceTruncatedWhileExportingIsCorrupt()
    {
        QTemporaryDir dir;
        const QString src = dir.filePath(QStringLiteral("big.safetensors"));
        QVERIFY(exportTensors(*bigFloatIndex(8 << 20), {0}, src, ExportFormat::Safetensors));  // 32 MiB
        LoadOptions lo;
        lo.engine = LoaderEngine::Native;
        const auto loaded = loadModel(src, lo);
        QVERIFY2(loaded, qPrintable(loaded.error()));
        std::atomic<bool> cut{false};
        ExportOptions o;
        o.progress = [&](double x) {
            if (x > 0.05 && !cut.exchange(true))
                QVERIFY(::truncate(QFile::encodeName(src).constData(), 1000) == 0);
        };
        const QString out = dir.filePath(QStringLiteral("w.npy"));
        const auto r = exportTensors(*loaded.value(), {0}, out, ExportFormat::Npy, o);
        QVERIFY(cut.load());
        QVERIFY(!r);
        QCOMPARE(r.kind(), ErrorKind::Corrupt);
        QVERIFY2(r.error().contains(QLatin1String("big.safetensors")) && r.error().contains(QLatin1String("truncated")),
                 qPrintable(r.error()));
        QVERIFY(!QFileInfo::exists(out));
    }

    void progressRisesToOne()
    {
        QTemporaryDir dir;
        auto big = bigFloatIndex(4 << 20);  // 16 MiB
        for (auto f : {ExportFormat::Npy, ExportFormat::Pt, ExportFormat::Safetensors}) {
            std::vector<double> seen;
            ExportOptions o;
            o.progress = [&](double x) { seen.push_back(x); };
            const auto r = exportTensors(*big, {0}, dir.filePath(QStringLiteral("p.") + exportFormatSuffix(f)), f, o);
            QVERIFY2(r, qPrintable(r.error()));
            QVERIFY(seen.size() >= 3);
            QVERIFY(std::is_sorted(seen.begin(), seen.end()));
            QCOMPARE(seen.back(), 1.0);
        }
    }

    /// Conversions on dtypes no 1.13 fixture can hold, against closed-form values.
    void conversionsWithoutFixture()
    {
        QTemporaryDir dir;
        // float8_e4m3fn: 0x38 = 1.0, 0xC0 = -2.0, 0x01 = 2^-9 (subnormal), 0x7E = 448 (max).
        auto f8 = memoryIndex("f8", DType::Float8E4M3, {4}, {0x38, 0xC0, 0x01, 0x7E});
        QString out = dir.filePath(QStringLiteral("f8.csv"));
        auto r = exportTensors(*f8, {0}, out, ExportFormat::Csv);
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(readAll(out), QByteArray("1\n-2\n0.001953125\n448\n"));
        // float8_e5m2 is the top byte of a half: 0x3C = 1.0, 0x7C = inf.
        auto e5 = memoryIndex("e5", DType::Float8E5M2, {1, 2}, {0x3C, 0x7C});
        out = dir.filePath(QStringLiteral("e5.csv"));
        QVERIFY(exportTensors(*e5, {0}, out, ExportFormat::Csv));
        QCOMPARE(readAll(out), QByteArray("1,inf\n"));
        // uint16 stays uint16 in .npy ('<u2') and .csv.
        auto u16 = memoryIndex("u16", DType::UInt16, {2}, {0xff, 0xff, 0x01, 0x00});
        out = dir.filePath(QStringLiteral("u16.npy"));
        QVERIFY(exportTensors(*u16, {0}, out, ExportFormat::Npy));
        const QByteArray npy = readAll(out);
        QVERIFY(npy.contains("'descr': '<u2'"));
        QCOMPARE(npy.size(), 128 + 4);
        QCOMPARE(npy.right(4), QByteArray("\xff\xff\x01\x00", 4));
        out = dir.filePath(QStringLiteral("u16.csv"));
        QVERIFY(exportTensors(*u16, {0}, out, ExportFormat::Csv));
        QCOMPARE(readAll(out), QByteArray("65535\n1\n"));
        // Bool as words on request.
        auto b = memoryIndex("b", DType::Bool, {2}, {1, 0});
        out = dir.filePath(QStringLiteral("b.csv"));
        ExportOptions words;
        words.csvBoolAsWords = true;
        QVERIFY(exportTensors(*b, {0}, out, ExportFormat::Csv, words));
        QCOMPARE(readAll(out), QByteArray("true\nfalse\n"));
    }

    /// A header too long for .npy 1.0 switches to 2.0 (4-byte length), still aligned.
    void npyVersion2Header()
    {
        std::vector<std::int64_t> shape(30000, 1);
        float one = 1.0f;
        std::vector<std::uint8_t> bytes(4);
        std::memcpy(bytes.data(), &one, 4);
        auto idx = memoryIndex("deep", DType::Float32, shape, bytes);
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("deep.npy"));
        const auto r = exportTensors(*idx, {0}, out, ExportFormat::Npy);
        QVERIFY2(r, qPrintable(r.error()));
        const QByteArray d = readAll(out);
        QCOMPARE(d.left(8), QByteArray("\x93NUMPY\x02\x00", 8));
        quint32 hlen = 0;
        std::memcpy(&hlen, d.constData() + 8, 4);
        QVERIFY(hlen > 65535);
        QCOMPARE((12 + hlen) % 64, 0u);
        QCOMPARE(d.at(int(12 + hlen - 1)), '\n');
        QCOMPARE(qsizetype(12 + hlen + 4), d.size());
    }

    /// paramscope-cli export, through the real executable.
    void commandLine()
    {
        QTemporaryDir dir;
        auto run = [](const QStringList& args, QString* err = nullptr) {
            QProcess p;
            p.start(QStringLiteral(PARAMSCOPE_CLI), args);
            if (!p.waitForFinished(120000))
                return -1;
            if (err)
                *err = QString::fromUtf8(p.readAllStandardError());
            return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        };
        const QString engine = QStringLiteral("--engine=libtorch");
        QJsonArray jobs;
        const QString one = dir.filePath(QStringLiteral("slice one.npy"));
        QString err;
        QCOMPARE(
            run({QStringLiteral("export"), kModel, QStringLiteral("base_slice"), QStringLiteral("-o"), one, engine},
                &err),
            0);
        jobs.append(job(one, {QStringLiteral("base_slice")}));

        // --format wins over the extension.
        const QString txt = dir.filePath(QStringLiteral("bf16.txt"));
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("bf16"), QStringLiteral("-o"), txt,
                      QStringLiteral("--format"), QStringLiteral("pt"), engine},
                     &err),
                 0);
        jobs.append(QJsonObject{{QStringLiteral("path"), txt},
                                {QStringLiteral("names"), QJsonArray{QStringLiteral("bf16")}},
                                {QStringLiteral("format"), QStringLiteral("pt")}});

        // A search: every name containing "weight", in model order, into one file.
        QStringList weights;
        for (const auto& n : allNames())
            if (n.contains(QLatin1String("weight")))
                weights << n;
        QVERIFY(weights.size() >= 3);
        for (const QString& suffix : {QStringLiteral("safetensors"), QStringLiteral("pt")}) {
            const QString out = dir.filePath(QStringLiteral("weights.") + suffix);
            QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("--contains"), QStringLiteral("weight"),
                          QStringLiteral("-o"), out, engine},
                         &err),
                     0);
            jobs.append(job(out, weights));
        }
        // The regex mode picks the bf16 tensor alone; its note goes to stderr.
        const QString csv = dir.filePath(QStringLiteral("q.csv"));
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("--regex"), QStringLiteral("^q\\d$"),
                      QStringLiteral("-o"), csv, engine},
                     &err),
                 0);
        QVERIFY2(err.contains(QLatin1String("dequantized")), qPrintable(err));
        jobs.append(job(csv, {QStringLiteral("q8")}));

        // A device as OUT: the data alone on stdout.
        {
            QProcess p;
            p.start(QStringLiteral(PARAMSCOPE_CLI),
                    {QStringLiteral("export"), kModel, QStringLiteral("i16"), QStringLiteral("-o"),
                     QStringLiteral("/dev/stdout"), QStringLiteral("--format=csv"), engine});
            QVERIFY(p.waitForFinished(120000));
            QCOMPARE(p.exitCode(), 0);
            QCOMPARE(p.readAllStandardOutput(), QByteArray("-32768,0\n7,32767\n"));
        }

        // Errors: non-zero exit, a message on stderr, no file.
        const QStringList before = dirEntries(dir.path());
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("nope"), QStringLiteral("-o"),
                      dir.filePath(QStringLiteral("n.npy")), engine},
                     &err),
                 1);
        QVERIFY2(err.contains(QLatin1String("no tensor named 'nope'")), qPrintable(err));
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("--contains"), QStringLiteral("weight"),
                      QStringLiteral("-o"), dir.filePath(QStringLiteral("w.npy")), engine},
                     &err),
                 1);
        QVERIFY2(err.contains(QLatin1String("one tensor")), qPrintable(err));
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("f32"), QStringLiteral("-o"),
                      dir.filePath(QStringLiteral("w.h5")), engine},
                     &err),
                 2);
        QVERIFY2(err.contains(QLatin1String("--format")), qPrintable(err));
        QCOMPARE(
            run({QStringLiteral("export"), kModel, QStringLiteral("f32"), QStringLiteral("-o"),
                 dir.filePath(QStringLiteral("w.npy")), QStringLiteral("--format"), QStringLiteral("hdf5"), engine},
                &err),
            2);
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("f32"), engine}, &err), 2);
        QVERIFY2(err.contains(QLatin1String("-o")), qPrintable(err));
        QCOMPARE(run({QStringLiteral("export"), kModel, QStringLiteral("f32"), QStringLiteral("-o"),
                      dir.path() + QStringLiteral("/"), QStringLiteral("--format=npy"), engine},
                     &err),
                 1);
        QVERIFY2(err.contains(QLatin1String("is a folder")), qPrintable(err));
        QCOMPARE(run({QStringLiteral("export"), dir.filePath(QStringLiteral("missing.pt")), QStringLiteral("-o"),
                      dir.filePath(QStringLiteral("m.npy")), engine},
                     &err),
                 1);
        QVERIFY(!err.isEmpty());
        QCOMPARE(dirEntries(dir.path()), before);

        runChecker(jobs, dir.path());
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
