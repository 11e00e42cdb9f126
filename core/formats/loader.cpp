// The dispatcher on top of the format readers: checks the file, sniffs its format
// (sniff.h) and hands it to the safetensors reader, the legacy torch.save reader, the
// PyTorch archive reader or the LibTorch engine.

#include "formats/loader.h"

#include "formats/engines_p.h"
#include "formats/legacy/legacyreader.h"
#include "formats/safetensors/safetensors_p.h"
#include "formats/sniff.h"

#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace paramscope {

namespace detail {

Status checkReadableFile(const QString& path)
{
    const QFileInfo fi(path);
    const QString name = fi.fileName().isEmpty() ? path : fi.fileName();
    if (path.isEmpty())
        return Status::failure(ErrorKind::Io, QStringLiteral("No file name given"));
    if (!fi.exists())
        return Status::failure(ErrorKind::Io, QStringLiteral("'%1' does not exist").arg(path));
    if (fi.isDir())
        return Status::failure(ErrorKind::Io, QStringLiteral("'%1' is a folder, not a model file").arg(name));
    if (!fi.isReadable())
        return Status::failure(ErrorKind::Io, QStringLiteral("'%1' cannot be read: permission denied").arg(name));
    if (fi.size() == 0)
        return Status::failure(ErrorKind::Corrupt, QStringLiteral("'%1' is empty (0 bytes)").arg(name));
    return checkNotGitLfsPointer(path);  // before any reader: whatever the file's name says
}

LoadResult guardedLoad(const QString& path, const std::function<LoadResult()>& load)
{
    try {
        return load();
    } catch (const std::bad_alloc&) {
        return LoadResult::failure(
            ErrorKind::Limit, QStringLiteral("'%1' cannot be opened: out of memory").arg(QFileInfo(path).fileName()));
    } catch (const std::exception& e) {
        return LoadResult::failure(
            ErrorKind::Failed,
            QStringLiteral("'%1' cannot be opened: %2").arg(QFileInfo(path).fileName(), QString::fromUtf8(e.what())));
    }
}

LoadResult loadSafetensors(const QString& path, const LoadOptions& options)
{
    if (path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive) && !startsLikeSafetensors(path))
        return safetensors::loadSharded(path, options);
    return safetensors::loadFile(path, options);
}

}  // namespace detail

LoadResult loadModel(const QString& path, const LoadOptions& options)
{
    if (auto st = detail::checkReadableFile(path); !st)
        return LoadResult::failureFrom(st);
    // safetensors and legacy torch.save files are read natively whatever the engine, except
    // when LibTorch is asked for.
    if (options.engine != LoaderEngine::LibTorch) {
        switch (detail::sniffFormat(path)) {
            case detail::SniffedFormat::SafetensorsFile:
                return safetensors::loadFile(path, options);
            case detail::SniffedFormat::ShardIndex:
                return safetensors::loadSharded(path, options);
            case detail::SniffedFormat::LegacyTorchSave:
                return detail::loadLegacy(path, options);
            case detail::SniffedFormat::Other:
                break;
        }
    }
    switch (options.engine) {
        case LoaderEngine::LibTorch:
            return detail::loadWithLibTorch(path, options);
        case LoaderEngine::Auto:
        case LoaderEngine::Native:
            break;
    }
    // Auto never falls back to LibTorch: when the native reader refuses a file, its
    // reason is the answer (LibTorch would compile and run the file's code).
    return detail::loadTorchArchive(path, options);
}

QFuture<LoadResult> loadModelAsync(const QString& path, const LoadOptions& options)
{
    return QtConcurrent::run([path, options] { return loadModel(path, options); });
}

}  // namespace paramscope
