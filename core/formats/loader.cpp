#include "formats/engines_p.h"
#include "formats/loader.h"
#include "formats/safetensors/safetensorsreader.h"
#include "formats/torch/torcharchive.h"

#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace paramscope {

namespace detail {

Status checkReadableFile(const QString& path)
{
    const QFileInfo fi(path);
    const QString name = fi.fileName().isEmpty() ? path : fi.fileName();
    if (path.isEmpty())
        return Status::failure(QStringLiteral("No file name given"));
    if (!fi.exists())
        return Status::failure(QStringLiteral("'%1' does not exist").arg(path));
    if (fi.isDir())
        return Status::failure(QStringLiteral("'%1' is a folder, not a model file").arg(name));
    if (!fi.isReadable())
        return Status::failure(QStringLiteral("'%1' cannot be read: permission denied").arg(name));
    if (fi.size() == 0)
        return Status::failure(QStringLiteral("'%1' is empty (0 bytes)").arg(name));
    return {};
}

}  // namespace detail

LoadResult loadModel(const QString& path, const LoadOptions& options)
{
    if (auto st = detail::checkReadableFile(path); !st)
        return LoadResult::failureFrom(st);
    // safetensors is read natively whatever the engine, except when LibTorch is asked for.
    if (options.engine != LoaderEngine::LibTorch && detail::isSafetensorsFile(path))
        return detail::loadSafetensors(path, options);
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
