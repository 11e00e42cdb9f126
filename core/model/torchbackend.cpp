#include "model/torchbackend.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibrary>

#include <mutex>

namespace paramscope::detail {

namespace {

struct Loaded {
    const TorchBackend* backend = nullptr;
    QString error;
};

Loaded loadPlugin()
{
    // Where to look, first hit wins: $PARAMSCOPE_TORCH_PLUGIN, next to the program, where
    // `cmake --install` puts it (relative to the installed program or helper), then where
    // the build put it (not with PARAMSCOPE_NO_BUILD_PATHS set: a test of an installed tree).
    QStringList candidates;
    const QString env = qEnvironmentVariable("PARAMSCOPE_TORCH_PLUGIN");
    if (!env.isEmpty())
        candidates << env;
    if (QCoreApplication::instance()) {
        const QDir here(QCoreApplication::applicationDirPath());
        const QString name = QStringLiteral(PARAMSCOPE_TORCH_PLUGIN_NAME);
        candidates << here.filePath(name)
                   << QDir::cleanPath(here.filePath(QStringLiteral(PARAMSCOPE_PLUGIN_FROM_BIN "/") + name))
                   << QDir::cleanPath(here.filePath(QStringLiteral(PARAMSCOPE_PLUGIN_FROM_LIBEXEC "/") + name));
    }
    if (!qEnvironmentVariableIsSet("PARAMSCOPE_NO_BUILD_PATHS"))
        candidates << QStringLiteral(PARAMSCOPE_TORCH_PLUGIN_BUILD_PATH);
    QStringList tried;
    for (const QString& path : candidates) {
        if (!QFileInfo::exists(path)) {
            tried << path + QStringLiteral(" (not found)");
            continue;
        }
        // Destroying a QLibrary does not unload the library (only unload() does), which is
        // what we need: tensors and storages handed out keep pointing into it.
        QLibrary lib(path);
        lib.setLoadHints(QLibrary::ResolveAllSymbolsHint);
        using Entry = const TorchBackend* (*)();
        auto entry = reinterpret_cast<Entry>(lib.resolve("paramscope_torch_backend"));
        if (!entry) {
            tried << QStringLiteral("%1 (%2)").arg(path, lib.errorString());
            continue;
        }
        const TorchBackend* b = entry();
        if (!b || b->version != kTorchBackendVersion) {
            tried << path + QStringLiteral(" (built for another version of ParamScope)");
            continue;
        }
        return {b, QString()};
    }
    return {nullptr,
            QStringLiteral("the LibTorch plug-in could not be loaded: %1").arg(tried.join(QStringLiteral("; ")))};
}

}  // namespace

const TorchBackend* torchBackend(QString* error)
{
    static std::once_flag once;
    static Loaded loaded;
    std::call_once(once, [] { loaded = loadPlugin(); });
    if (!loaded.backend && error)
        *error = loaded.error;
    return loaded.backend;
}

LoadResult loadWithLibTorchInProcess(const QString& path, const LoadOptions& options)
{
    QString why;
    const TorchBackend* b = torchBackend(&why);
    if (!b)
        return LoadResult::failure(
            QStringLiteral("'%1' cannot be opened with the LibTorch engine: %2").arg(QFileInfo(path).fileName(), why));
    return b->load(path, options);
}

Status writePtArchive(const std::vector<PtTensor>& tensors, bool asDict,
                      const std::function<bool(const void*, std::size_t)>& sink)
{
    QString why;
    const TorchBackend* b = torchBackend(&why);
    if (!b)
        return Status::failure(QStringLiteral("cannot write .pt: %1").arg(why));
    return b->writePtArchive(tensors, asDict, sink);
}

Result<std::vector<char>> picklePt(const std::vector<PtTensor>& tensors, bool asDict)
{
    QString why;
    const TorchBackend* b = torchBackend(&why);
    if (!b)
        return Result<std::vector<char>>::failure(QStringLiteral("cannot write .pt: %1").arg(why));
    return b->picklePt(tensors, asDict);
}

}  // namespace paramscope::detail
