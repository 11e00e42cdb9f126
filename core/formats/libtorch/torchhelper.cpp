// The LibTorch engine out of process: the client (loadWithLibTorch, run in the calling
// program), the result format, and the helper's side (torchHelperMain). See torchhelper.h.
#include "formats/engines_p.h"
#include "formats/libtorch/torchhelper.h"
#include "formats/loader.h"

#include "base/sanitizer.h"

#include "base/mappedfile.h"
#include "model/torchbackend.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryFile>
#include <QtEndian>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <unordered_map>

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/resource.h>


namespace paramscope::detail {

namespace {

constexpr char kMagic[8] = {'P', 'S', 'T', 'O', 'R', 'C', 'H', '1'};
constexpr std::uint64_t kAlign = 64;
constexpr std::uint32_t kMaxRank = 1024;            // far above anything PyTorch writes
constexpr std::uint32_t kMaxString = 64u << 20;     // one name or warning
constexpr int kExitLoadError = 3;

QString fileLabel(const QString& path)
{
    const QString n = QFileInfo(path).fileName();
    return n.isEmpty() ? path : n;
}

// ---------------------------------------------------------------- result format

class Writer {
public:
    QByteArray bytes;
    template <typename T>
    void put(T v)
    {
        const T le = qToLittleEndian(v);
        bytes.append(reinterpret_cast<const char*>(&le), sizeof le);
    }
    void putF64(double d)
    {
        std::uint64_t u;
        std::memcpy(&u, &d, sizeof u);
        put<std::uint64_t>(u);
    }
    void putString(const std::string& s)
    {
        put<std::uint32_t>(std::uint32_t(s.size()));
        bytes.append(s.data(), qsizetype(s.size()));
    }
    void putString(const QString& s) { putString(s.toStdString()); }
};

/// Reads from untrusted bytes: every read is bounds-checked; after the first failure
/// every read fails and returns zero.
class Reader {
public:
    Reader(const std::uint8_t* p, std::uint64_t n) : m_p(p), m_left(n) {}
    bool ok() const { return m_ok; }
    std::uint64_t left() const { return m_left; }
    template <typename T>
    T get()
    {
        if (!m_ok || m_left < sizeof(T)) {
            m_ok = false;
            return T{};
        }
        T v;
        std::memcpy(&v, m_p, sizeof v);
        m_p += sizeof v;
        m_left -= sizeof v;
        return qFromLittleEndian(v);
    }
    double getF64()
    {
        const auto u = get<std::uint64_t>();
        double d;
        std::memcpy(&d, &u, sizeof d);
        return d;
    }
    std::string getString()
    {
        const auto n = get<std::uint32_t>();
        if (!m_ok || n > kMaxString || n > m_left) {
            m_ok = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(m_p), n);
        m_p += n;
        m_left -= n;
        return s;
    }
    /// A count of items of at least `minItemBytes` each that must fit in what is left.
    std::uint64_t getCount(std::uint64_t minItemBytes)
    {
        const auto n = get<std::uint32_t>();
        if (m_ok && minItemBytes > 0 && n > m_left / minItemBytes)
            m_ok = false;
        return m_ok ? n : 0;
    }
    void fail() { m_ok = false; }

private:
    const std::uint8_t* m_p;
    std::uint64_t m_left;
    bool m_ok = true;
};

class HelperStorage final : public StorageProvider {
public:
    std::shared_ptr<const MappedFile> file;
    QString modelName;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // offset, size

    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || size_t(i) >= ranges.size())
            return Result<StorageBytes>::failure(QStringLiteral("'%1' has no storage #%2").arg(modelName, QString::number(i)));
        if (auto st = file->check(); !st)
            return Result<StorageBytes>::failureFrom(st);
        StorageBytes b;
        b.owner = file;
        b.data = file->data() + ranges[size_t(i)].first;
        b.size = ranges[size_t(i)].second;
        return b;
    }
};

// ---------------------------------------------------------------- the helper's side

/// Keeps the storages of a filtered index reachable under their new numbers.
class RemappedStorage final : public StorageProvider {
public:
    std::shared_ptr<const StorageProvider> inner;
    std::vector<int> oldIndex;
    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || size_t(i) >= oldIndex.size())
            return Result<StorageBytes>::failure(QStringLiteral("no storage #%1").arg(i));
        return inner->storageBytes(oldIndex[size_t(i)]);
    }
};

}  // namespace

LoadResult checkTorchIndexAgainstNative(const ModelIndex& lt, const ModelIndex& native)
{
    const QString name = fileLabel(lt.filePath);
    std::unordered_map<std::string_view, int> byName;
    byName.reserve(native.entries.size());
    for (size_t i = 0; i < native.entries.size(); ++i)
        byName.emplace(native.entries[i].name, int(i));

    auto out = std::make_shared<ModelIndex>();
    out->filePath = lt.filePath;
    out->format = lt.format;
    out->engine = lt.engine;
    out->warnings = lt.warnings;
    out->metadata = lt.metadata;
    auto provider = std::make_shared<RemappedStorage>();
    provider->inner = lt.provider;
    std::unordered_map<int, int> newStorage;
    for (const TensorEntry& e : lt.entries) {
        const QString tensor = QString::fromStdString(e.name);
        const auto it = byName.find(e.name);
        if (it == byName.end() || native.entries[size_t(it->second)].storage < 0) {
            // Give the native reader's reason when it named this tensor.
            QString why;
            const QString quoted = QLatin1Char('\'') + tensor + QLatin1Char('\'');
            for (const QString& w : native.warnings)
                if (w.contains(quoted)) {
                    why = w;
                    break;
                }
            out->warnings << (why.isEmpty() ? QLatin1Char('\'') + tensor
                                                  + QStringLiteral("' skipped: the native reader does not list it, so its "
                                                                   "storage could not be checked")
                                            : why);
            continue;
        }
        const TensorEntry& ne = native.entries[size_t(it->second)];
        if (e.storage < 0) {
            out->entries.push_back(e);
            continue;
        }
        if (size_t(e.storage) >= lt.storages.size() || size_t(ne.storage) >= native.storages.size())
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' was refused: tensor '") + tensor
                                       + QStringLiteral("' has no storage"));
        const StorageInfo& ls = lt.storages[size_t(e.storage)];
        const StorageInfo& ns = native.storages[size_t(ne.storage)];
        if (ls.byteSize != ns.byteSize)
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' was refused: LibTorch gives tensor '") + tensor
                                       + QStringLiteral("' a storage of ") + QString::number(ls.byteSize)
                                       + QStringLiteral(" bytes, but the file's record for it holds ") + QString::number(ns.byteSize)
                                       + QStringLiteral(" (the sizes the file declares do not match its data)"));
        if (e.dtype != ne.dtype)
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' was refused: LibTorch reads tensor '") + tensor
                                       + QStringLiteral("' as ") + QString::fromLatin1(dtypeName(e.dtype).data())
                                       + QStringLiteral(" but its storage holds ") + QString::fromLatin1(dtypeName(ne.dtype).data()));
        TensorEntry copy = e;
        auto [sit, inserted] = newStorage.emplace(e.storage, int(out->storages.size()));
        if (inserted) {
            out->storages.push_back(ls);
            provider->oldIndex.push_back(e.storage);
        }
        copy.storage = sit->second;
        out->entries.push_back(std::move(copy));
    }
    out->provider = provider;
    out->finalize();
    return LoadResult(std::shared_ptr<const ModelIndex>(std::move(out)));
}

namespace {

/// One protocol line: `kind`, then each field after a tab; control characters in a
/// field (a newline in a message) become spaces so a field never breaks the line.
void emitLine(const char* kind, const QStringList& fields)
{
    QByteArray line(kind);
    for (QString t : fields) {
        for (QChar& c : t)
            if (c.unicode() < 0x20 || c.unicode() == 0x7f)
                c = QLatin1Char(' ');
        line += '\t' + t.toUtf8();
    }
    line += '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fflush(stdout);
}

void emitError(const QString& message) { emitLine("error", {message}); }

int runHelper(const QString& model, const QString& output)
{
    LoadOptions nativeOptions;
    nativeOptions.engine = LoaderEngine::Native;
    const LoadResult native = loadModel(model, nativeOptions);
    if (!native) {
        emitError(native.error());
        return kExitLoadError;
    }
    LoadOptions o;
    o.progress = [](double f, const QString& text) {
        emitLine("progress", {QString::number(f, 'g', 6), text});
    };
    const LoadResult lt = loadWithLibTorchInProcess(model, o);
    if (!lt) {
        emitError(lt.error());
        return kExitLoadError;
    }
    const LoadResult checked = checkTorchIndexAgainstNative(*lt.value(), *native.value());
    if (!checked) {
        emitError(checked.error());
        return kExitLoadError;
    }
    if (auto st = writeTorchHelperResult(*checked.value(), output); !st) {
        emitError(st.error());
        return kExitLoadError;
    }
    return 0;
}

// ---------------------------------------------------------------- the client

std::uint64_t defaultMemoryCap(const QString& path)
{
    // LibTorch reads every record into memory (about 1.4x the file at peak) and maps its
    // libraries and thread stacks (the demo model opens under a 1 GiB cap): 2 GiB plus 4x
    // the file stops a runaway allocation long before the machine swaps and leaves room
    // for real models. PARAMSCOPE_TORCH_HELPER_MAX_MEMORY (bytes, 0 = none) overrides it.
    const auto size = std::uint64_t(std::max<qint64>(0, QFileInfo(path).size()));
    if (size > (std::uint64_t(1) << 60) / 4)
        return 0;
    return (2ull << 30) + 4 * size;
}

QString lastLine(const QByteArray& text)
{
    const QList<QByteArray> lines = text.split('\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        const QString l = QString::fromUtf8(it->trimmed());
        if (!l.isEmpty())
            return l.left(300);
    }
    return {};
}

QString clean(const QByteArray& raw)
{
    QString s = QString::fromUtf8(raw).left(4000);
    for (QChar& c : s)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = QLatin1Char(' ');
    return s.trimmed();
}

}  // namespace

QString findTorchHelper(QStringList* tried)
{
    QStringList candidates;
    const QString env = qEnvironmentVariable("PARAMSCOPE_TORCH_HELPER");
    if (!env.isEmpty())
        candidates << env;
    if (QCoreApplication::instance())
        candidates << QDir(QCoreApplication::applicationDirPath()).filePath(QString::fromLatin1(kTorchHelperName));
#ifdef PARAMSCOPE_TORCH_HELPER_BUILD_PATH
    candidates << QStringLiteral(PARAMSCOPE_TORCH_HELPER_BUILD_PATH);
#endif
    for (const QString& c : candidates) {
        const QFileInfo fi(c);
        if (fi.isFile() && fi.isExecutable())
            return fi.absoluteFilePath();
        if (tried)
            *tried << c + QStringLiteral(" (not found)");
    }
    return {};
}

Status writeTorchHelperResult(const ModelIndex& index, const QString& outputPath)
{
    const QString name = fileLabel(index.filePath);
    auto fail = [&](const QString& why) {
        return Status::failure(QLatin1Char('\'') + name + QStringLiteral("' could not be passed on by the LibTorch engine: ") + why);
    };
    std::vector<StorageBytes> data;
    data.reserve(index.storages.size());
    for (size_t i = 0; i < index.storages.size(); ++i) {
        if (!index.provider)
            return fail(QStringLiteral("no storage provider"));
        auto b = index.provider->storageBytes(int(i));
        if (!b)
            return fail(b.error());
        if (b->size != index.storages[i].byteSize)
            return fail(QStringLiteral("storage #%1 changed size").arg(i));
        data.push_back(b.value());
    }
    Writer h;
    h.put<std::uint8_t>(std::uint8_t(index.format));
    h.put<std::uint32_t>(std::uint32_t(index.warnings.size()));
    for (const QString& w : index.warnings)
        h.putString(w);
    // Storage offsets need the header size: lay out the header with placeholder offsets,
    // then patch them.
    h.put<std::uint32_t>(std::uint32_t(index.storages.size()));
    std::vector<qsizetype> offsetSlots;
    for (const StorageInfo& s : index.storages) {
        h.putString(s.key);
        h.put<std::uint8_t>(std::uint8_t(s.dtype));
        h.put<std::uint64_t>(s.byteSize);
        offsetSlots.push_back(h.bytes.size());
        h.put<std::uint64_t>(0);
    }
    h.put<std::uint32_t>(std::uint32_t(index.entries.size()));
    for (const TensorEntry& e : index.entries) {
        h.putString(e.name);
        h.put<std::uint8_t>(std::uint8_t(e.kind));
        h.put<std::uint8_t>(std::uint8_t(e.dtype));
        h.put<std::uint32_t>(std::uint32_t(e.shape.size()));
        for (auto v : e.shape)
            h.put<std::int64_t>(v);
        for (size_t k = 0; k < e.shape.size(); ++k)
            h.put<std::int64_t>(k < e.strides.size() ? e.strides[k] : 0);
        h.put<std::int64_t>(e.storageOffset);
        h.put<std::uint8_t>(e.requiresGrad ? 1 : 0);
        h.put<std::int32_t>(e.storage);
        h.putF64(e.qScale);
        h.put<std::int64_t>(e.qZeroPoint);
        h.put<std::uint8_t>(e.qChannels ? 1 : 0);
        if (e.qChannels) {
            h.put<std::int32_t>(e.qChannels->axis);
            h.put<std::uint64_t>(e.qChannels->scales.size());
            for (double s : e.qChannels->scales)
                h.putF64(s);
            if (e.qChannels->zeroPoints.size() != e.qChannels->scales.size())
                return fail(QStringLiteral("per-channel parameters of '%1' differ in length").arg(QString::fromStdString(e.name)));
            for (auto z : e.qChannels->zeroPoints)
                h.put<std::int64_t>(z);
        }
    }
    const std::uint64_t headerSize = std::uint64_t(h.bytes.size());
    std::uint64_t pos = 16 + headerSize;
    std::vector<std::uint64_t> offsets;
    for (size_t i = 0; i < data.size(); ++i) {
        pos = (pos + kAlign - 1) / kAlign * kAlign;
        offsets.push_back(pos);
        std::uint64_t le = qToLittleEndian(pos);
        std::memcpy(h.bytes.data() + offsetSlots[i], &le, sizeof le);
        pos += data[i].size;
    }
    QFile f(outputPath);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return fail(QStringLiteral("cannot write '%1': %2").arg(outputPath, f.errorString()));
    Writer top;
    top.bytes.append(kMagic, sizeof kMagic);
    top.put<std::uint64_t>(headerSize);
    auto write = [&](const char* p, std::uint64_t n) {
        while (n > 0) {
            const qint64 chunk = qint64(std::min<std::uint64_t>(n, 64u << 20));
            const qint64 w = f.write(p, chunk);
            if (w <= 0)
                return false;
            p += w;
            n -= std::uint64_t(w);
        }
        return true;
    };
    bool ok = write(top.bytes.constData(), std::uint64_t(top.bytes.size())) && write(h.bytes.constData(), headerSize);
    static const char zeros[kAlign] = {};
    for (size_t i = 0; ok && i < data.size(); ++i) {
        const std::uint64_t here = std::uint64_t(f.pos());
        ok = write(zeros, offsets[i] - here) && write(reinterpret_cast<const char*>(data[i].data), data[i].size);
    }
    if (ok)
        ok = f.flush();
    if (!ok)
        return fail(QStringLiteral("cannot write '%1': %2").arg(outputPath, f.errorString()));
    return {};
}

LoadResult readTorchHelperResult(const QString& resultPath, const QString& modelPath)
{
    const QString name = fileLabel(modelPath);
    auto damaged = [&](const QString& why) {
        return LoadResult::failure(QLatin1Char('\'') + name
                                   + QStringLiteral("' could not be read with the LibTorch engine: its helper returned a damaged result (")
                                   + why + QLatin1Char(')'));
    };
    auto mapped = MappedFile::open(resultPath);
    if (!mapped)
        return damaged(mapped.error());
    const std::shared_ptr<const MappedFile> file = mapped.value();
    const std::uint64_t size = file->size();
    if (size < 16 || std::memcmp(file->data(), kMagic, sizeof kMagic) != 0)
        return damaged(QStringLiteral("no result header"));
    Reader top(file->data() + 8, 8);
    const auto headerSize = top.get<std::uint64_t>();
    if (headerSize > size - 16)
        return damaged(QStringLiteral("header runs past the end"));
    Reader r(file->data() + 16, headerSize);

    auto index = std::make_shared<ModelIndex>();
    index->filePath = modelPath;
    index->engine = loaderEngineName(LoaderEngine::LibTorch);
    const auto format = r.get<std::uint8_t>();
    if (format >= std::uint8_t(ModelFormat::Unknown))
        return damaged(QStringLiteral("unknown format %1").arg(format));
    index->format = ModelFormat(format);
    const auto nWarnings = r.getCount(4);
    for (std::uint64_t i = 0; i < nWarnings && r.ok(); ++i)
        index->warnings << QString::fromStdString(r.getString());

    auto provider = std::make_shared<HelperStorage>();
    provider->file = file;
    provider->modelName = name;
    const std::uint64_t dataStart = 16 + headerSize;
    const auto nStorages = r.getCount(4 + 1 + 8 + 8);
    index->storages.reserve(nStorages);
    for (std::uint64_t i = 0; i < nStorages && r.ok(); ++i) {
        StorageInfo s;
        s.key = r.getString();
        const auto dt = r.get<std::uint8_t>();
        s.byteSize = r.get<std::uint64_t>();
        const auto offset = r.get<std::uint64_t>();
        if (!r.ok())
            break;
        if (dt > std::uint8_t(DType::Unknown))
            return damaged(QStringLiteral("storage #%1 has an unknown dtype").arg(i));
        s.dtype = DType(dt);
        if (offset < dataStart || offset % kAlign != 0 || !file->contains(offset, s.byteSize))
            return damaged(QStringLiteral("storage #%1 lies outside the result").arg(i));
        provider->ranges.emplace_back(offset, s.byteSize);
        index->storages.push_back(std::move(s));
    }
    const auto nEntries = r.getCount(4 + 1 + 1 + 4 + 8 + 1 + 4 + 8 + 8 + 1);
    index->entries.reserve(nEntries);
    for (std::uint64_t i = 0; i < nEntries && r.ok(); ++i) {
        TensorEntry e;
        e.name = r.getString();
        const auto kind = r.get<std::uint8_t>();
        const auto dt = r.get<std::uint8_t>();
        const auto rank = r.get<std::uint32_t>();
        if (!r.ok())
            break;
        if (kind > std::uint8_t(TensorKind::Tensor) || dt > std::uint8_t(DType::Unknown) || rank > kMaxRank
            || std::uint64_t(rank) * 16 > r.left())
            return damaged(QStringLiteral("entry #%1 is malformed").arg(i));
        e.kind = TensorKind(kind);
        e.dtype = DType(dt);
        e.shape.resize(rank);
        e.strides.resize(rank);
        for (auto& v : e.shape)
            v = r.get<std::int64_t>();
        for (auto& v : e.strides)
            v = r.get<std::int64_t>();
        e.storageOffset = r.get<std::int64_t>();
        e.requiresGrad = r.get<std::uint8_t>() != 0;
        e.storage = r.get<std::int32_t>();
        e.qScale = r.getF64();
        e.qZeroPoint = r.get<std::int64_t>();
        const bool perChannel = r.get<std::uint8_t>() != 0;
        if (perChannel) {
            auto qc = std::make_shared<QuantChannels>();
            qc->axis = r.get<std::int32_t>();
            const auto n = r.get<std::uint64_t>();
            if (!r.ok() || n > r.left() / 16)
                return damaged(QStringLiteral("entry #%1 has malformed per-channel parameters").arg(i));
            qc->scales.resize(n);
            qc->zeroPoints.resize(n);
            for (auto& s : qc->scales)
                s = r.getF64();
            for (auto& z : qc->zeroPoints)
                z = r.get<std::int64_t>();
            e.qChannels = std::move(qc);
        }
        if (!r.ok())
            break;
        if (e.storage < -1 || (e.storage >= 0 && std::uint64_t(e.storage) >= index->storages.size()))
            return damaged(QStringLiteral("entry #%1 names storage #%2, which does not exist").arg(i).arg(e.storage));
        if (e.storageOffset < 0)
            return damaged(QStringLiteral("entry #%1 has a negative storage offset").arg(i));
        index->entries.push_back(std::move(e));
    }
    if (!r.ok())
        return damaged(QStringLiteral("header is cut short"));
    if (r.left() != 0)
        return damaged(QStringLiteral("header has trailing bytes"));
    index->provider = provider;
    index->finalize();
    return LoadResult(std::shared_ptr<const ModelIndex>(std::move(index)));
}

int torchHelperMain(const QStringList& arguments)
{
    QStringList positional;
    std::uint64_t maxMemory = 0;
    for (const QString& a : arguments) {
        if (a.startsWith(QLatin1String("--max-memory="))) {
            bool ok = false;
            maxMemory = a.mid(13).toULongLong(&ok);
            if (!ok) {
                std::fprintf(stderr, "paramscope-torch-helper: bad --max-memory\n");
                return 2;
            }
        } else {
            positional << a;
        }
    }
    if (positional.size() != 2) {
        std::fprintf(stderr, "usage: paramscope-torch-helper MODEL OUTPUT [--max-memory=BYTES]\n"
                             "Runs ParamScope's LibTorch engine on MODEL for the ParamScope program that started it.\n");
        return 2;
    }
    // No core files from a crash on a crafted file; an address-space cap so a lying size
    // ends in an allocation failure, not in swapping.
    struct rlimit none {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    // Ends with the program that started it (no orphan LibTorch run).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        return kExitLoadError;
#if PARAMSCOPE_ASAN
    // AddressSanitizer reserves terabytes of shadow address space: no RLIMIT_AS there.
    maxMemory = 0;
#endif
    if (maxMemory > 0) {
        struct rlimit cap {rlim_t(maxMemory), rlim_t(maxMemory)};
        setrlimit(RLIMIT_AS, &cap);
    }
    try {
        return runHelper(positional[0], positional[1]);
    } catch (const std::bad_alloc&) {
        emitError(QLatin1Char('\'') + fileLabel(positional[0])
                              + QStringLiteral("' could not be loaded by LibTorch: out of memory (corrupt sizes?)"));
    } catch (const std::exception& e) {
        emitError(QLatin1Char('\'') + fileLabel(positional[0]) + QStringLiteral("' could not be loaded by LibTorch: ")
                              + QString::fromUtf8(e.what()));
    } catch (...) {
        emitError(QLatin1Char('\'') + fileLabel(positional[0]) + QStringLiteral("' could not be loaded by LibTorch: unknown error"));
    }
    return kExitLoadError;
}

LoadResult loadWithLibTorch(const QString& path, const LoadOptions& options)
{
    try {
        const QString name = fileLabel(path);
        auto cancelled = [&] { return options.cancel && options.cancel->load(); };
        double shown = 0.0;
        auto progress = [&](double f, const QString& text) {
            if (!options.progress)
                return;
            shown = std::max(shown, std::clamp(f, 0.0, 1.0));
            options.progress(shown, text);
        };
        if (cancelled())
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));

        // 1. The native checks first: what they refuse, LibTorch never sees.
        progress(0.0, QStringLiteral("Checking the file"));
        LoadOptions nativeOptions;
        nativeOptions.engine = LoaderEngine::Native;
        nativeOptions.cancel = options.cancel;
        const LoadResult native = loadModel(path, nativeOptions);
        if (!native) {
            if (cancelled())
                return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
            return LoadResult::failure(native.kind(), native.error() + QStringLiteral(" (refused by the native checks, so LibTorch did not read it)"));
        }

        // 2. LibTorch in the helper.
        QStringList tried;
        const QString helper = findTorchHelper(&tried);
        if (helper.isEmpty())
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' cannot be opened with the LibTorch engine: its helper program ")
                                       + QString::fromLatin1(kTorchHelperName) + QStringLiteral(" was not found (")
                                       + tried.join(QStringLiteral("; ")) + QLatin1Char(')'));
        QTemporaryFile result(QDir(QDir::tempPath()).filePath(QStringLiteral("paramscope-torch-XXXXXX.result")));
        if (!result.open())
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' cannot be opened with the LibTorch engine: no temporary file (")
                                       + result.errorString() + QLatin1Char(')'));
        const QString resultPath = result.fileName();
        result.close();

        std::uint64_t cap = defaultMemoryCap(path);
        if (qEnvironmentVariableIsSet("PARAMSCOPE_TORCH_HELPER_MAX_MEMORY")) {
            bool ok = false;
            const auto v = qEnvironmentVariable("PARAMSCOPE_TORCH_HELPER_MAX_MEMORY").toULongLong(&ok);
            if (ok)
                cap = v;
        }
        QStringList args{QFileInfo(path).absoluteFilePath(), resultPath};
        if (cap > 0)
            args << QStringLiteral("--max-memory=") + QString::number(cap);
        QProcess p;
        p.setProgram(helper);
        p.setArguments(args);
        p.setProcessChannelMode(QProcess::SeparateChannels);
        p.setStandardInputFile(QProcess::nullDevice());
#if PARAMSCOPE_ASAN
        // In a sanitizer build the helper's own crash must stay a signal (what a user's
        // build reports), not become AddressSanitizer's report and exit code 1.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
        if (!asan.isEmpty())
            asan += QLatin1Char(':');
        env.insert(QStringLiteral("ASAN_OPTIONS"), asan + QStringLiteral("handle_segv=0:handle_sigbus=0:handle_abort=0"));
        p.setProcessEnvironment(env);
#endif
        progress(0.05, QStringLiteral("Starting the LibTorch engine"));
        p.start();
        if (!p.waitForStarted(30000))
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' cannot be opened with the LibTorch engine: its helper ")
                                       + helper + QStringLiteral(" did not start (") + p.errorString() + QLatin1Char(')'));

        QByteArray pending, errTail;
        QString helperError;
        auto drain = [&] {
            pending += p.readAllStandardOutput();
            qsizetype nl;
            while ((nl = pending.indexOf('\n')) >= 0) {
                const QByteArray line = pending.left(nl);
                pending.remove(0, nl + 1);
                const QList<QByteArray> parts = line.split('\t');
                if (parts.size() >= 3 && parts[0] == "progress") {
                    bool ok = false;
                    const double f = parts[1].toDouble(&ok);
                    if (ok && std::isfinite(f))
                        progress(0.05 + 0.85 * std::clamp(f, 0.0, 1.0), clean(parts[2]));
                } else if (parts.size() >= 2 && parts[0] == "error") {
                    helperError = clean(line.mid(6));
                }
            }
            if (pending.size() > (1 << 20))  // a line this long is not from the protocol
                pending.clear();
            errTail += p.readAllStandardError();
            if (errTail.size() > 8192)
                errTail = errTail.right(4096);
        };
        while (!p.waitForFinished(50)) {
            drain();
            if (cancelled()) {
                p.kill();
                p.waitForFinished(10000);
                return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
            }
            if (p.state() == QProcess::NotRunning)
                break;
        }
        drain();
        if (!pending.isEmpty()) {
            pending += '\n';
            drain();
        }
        if (p.exitStatus() == QProcess::CrashExit || p.error() == QProcess::Crashed) {
            const int sig = p.exitCode();
            const char* what = sig > 0 ? strsignal(sig) : nullptr;
            return LoadResult::failure(QStringLiteral("the LibTorch engine crashed while reading '") + name + QStringLiteral("' (signal ")
                                       + QString::number(sig)
                                       + (what ? QStringLiteral(", ") + QString::fromLocal8Bit(what) : QString()) + QLatin1Char(')'));
        }
        if (p.exitCode() != 0) {
            if (!helperError.isEmpty())
                return LoadResult::failure(helperError);
            const QString tail = lastLine(errTail);
            return LoadResult::failure(QStringLiteral("the LibTorch engine failed while reading '") + name + QStringLiteral("' (exit code ")
                                       + QString::number(p.exitCode()) + (tail.isEmpty() ? QString() : QStringLiteral(": ") + clean(tail.toUtf8()))
                                       + QLatin1Char(')'));
        }
        if (cancelled())
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));

        // 3. The result, checked like any untrusted file; the name is unlinked once mapped.
        progress(0.95, QStringLiteral("Reading the LibTorch engine's result"));
        LoadResult r = readTorchHelperResult(resultPath, path);
        QFile::remove(resultPath);
        if (r)
            progress(1.0, QStringLiteral("Done"));
        return r;
    } catch (const std::bad_alloc&) {
        return LoadResult::failure(QLatin1Char('\'') + fileLabel(path) + QStringLiteral("' could not be opened with the LibTorch engine: out of memory"));
    } catch (const std::exception& e) {
        return LoadResult::failure(QLatin1Char('\'') + fileLabel(path) + QStringLiteral("' could not be opened with the LibTorch engine: ")
                                   + QString::fromUtf8(e.what()));
    }
}

}  // namespace paramscope::detail
