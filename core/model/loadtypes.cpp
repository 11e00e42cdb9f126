// The load types every engine uses, the LibTorch plug-in included (it links only the
// model library, not the readers).
#include "model/loadtypes.h"

#include <QFileInfo>

namespace paramscope {

QString loaderEngineName(LoaderEngine e)
{
    switch (e) {
        case LoaderEngine::Auto:
            return QStringLiteral("auto");
        case LoaderEngine::Native:
            return QStringLiteral("native");
        case LoaderEngine::LibTorch:
            return QStringLiteral("libtorch");
    }
    return {};
}

QString cancelledMessage(const QString& path)
{
    return QStringLiteral("Opening '%1' was cancelled").arg(QFileInfo(path).fileName());
}

}  // namespace paramscope
