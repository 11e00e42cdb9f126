// The helper's side of the LibTorch engine (paramscope-torch-helper, whose main calls
// torchHelperMain): reads the file natively, runs torch::jit::load through the plug-in,
// checks LibTorch's index against the native one before any storage byte is read, and
// writes the result file; progress and errors go to stdout as protocol lines.
#include "formats/libtorch/torchhelper.h"
#include "formats/libtorch/torchwire_p.h"
#include "formats/loader.h"

#include "base/sanitizer.h"
#include "model/torchbackend.h"

#include <cstdio>
#include <exception>
#include <new>
#include <unordered_map>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace paramscope::detail {

using namespace torchwire;

namespace {

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
            out->warnings << (why.isEmpty()
                                  ? QLatin1Char('\'') + tensor +
                                        QStringLiteral("' skipped: the native reader does not list it, so its "
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
            return LoadResult::failure(QLatin1Char('\'') + name + QStringLiteral("' was refused: tensor '") + tensor +
                                       QStringLiteral("' has no storage"));
        const StorageInfo& ls = lt.storages[size_t(e.storage)];
        const StorageInfo& ns = native.storages[size_t(ne.storage)];
        if (ls.byteSize != ns.byteSize)
            return LoadResult::failure(
                QLatin1Char('\'') + name + QStringLiteral("' was refused: LibTorch gives tensor '") + tensor +
                QStringLiteral("' a storage of ") + QString::number(ls.byteSize) +
                QStringLiteral(" bytes, but the file's record for it holds ") + QString::number(ns.byteSize) +
                QStringLiteral(" (the sizes the file declares do not match its data)"));
        if (e.dtype != ne.dtype)
            return LoadResult::failure(
                QLatin1Char('\'') + name + QStringLiteral("' was refused: LibTorch reads tensor '") + tensor +
                QStringLiteral("' as ") + QString::fromLatin1(dtypeName(e.dtype).data()) +
                QStringLiteral(" but its storage holds ") + QString::fromLatin1(dtypeName(ne.dtype).data()));
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

void emitError(const QString& message)
{
    emitLine("error", {message});
}

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
    o.progress = [](double f, const QString& text) { emitLine("progress", {QString::number(f, 'g', 6), text}); };
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

}  // namespace

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
        std::fprintf(stderr,
                     "usage: paramscope-torch-helper MODEL OUTPUT [--max-memory=BYTES]\n"
                     "Runs ParamScope's LibTorch engine on MODEL for the ParamScope program that started it.\n");
        return 2;
    }
    // No core files from a crash on a crafted file; an address-space cap so a lying size
    // ends in an allocation failure, not in swapping.
    struct rlimit none {
        0, 0
    };
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
        struct rlimit cap {
            rlim_t(maxMemory), rlim_t(maxMemory)
        };
        setrlimit(RLIMIT_AS, &cap);
    }
    try {
        return runHelper(positional[0], positional[1]);
    } catch (const std::bad_alloc&) {
        emitError(QLatin1Char('\'') + fileLabel(positional[0]) +
                  QStringLiteral("' could not be loaded by LibTorch: out of memory (corrupt sizes?)"));
    } catch (const std::exception& e) {
        emitError(QLatin1Char('\'') + fileLabel(positional[0]) + QStringLiteral("' could not be loaded by LibTorch: ") +
                  QString::fromUtf8(e.what()));
    } catch (...) {
        emitError(QLatin1Char('\'') + fileLabel(positional[0]) +
                  QStringLiteral("' could not be loaded by LibTorch: unknown error"));
    }
    return kExitLoadError;
}

}  // namespace paramscope::detail
