// Pieces of the loader API that every engine uses, the LibTorch plug-in included (it
// links only paramscope_model, not the whole core).
#include "loader.h"

#include <QFileInfo>

namespace paramscope {

QString loaderEngineName(LoaderEngine e)
{
    switch (e) {
    case LoaderEngine::Auto: return QStringLiteral("auto");
    case LoaderEngine::Native: return QStringLiteral("native");
    case LoaderEngine::LibTorch: return QStringLiteral("libtorch");
    }
    return {};
}

QString cancelledMessage(const QString& path)
{
    return QStringLiteral("Opening '%1' was cancelled").arg(QFileInfo(path).fileName());
}

}  // namespace paramscope
