// paramscope-torch-helper: runs the LibTorch engine on one file for a ParamScope program,
// in its own process so that a file that crashes LibTorch cannot take the caller down
// (core/formats/libtorch/torchhelper.h describes the protocol).
#include "formats/libtorch/torchhelper.h"

#include <QCoreApplication>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("paramscope-torch-helper"));
    return paramscope::detail::torchHelperMain(QCoreApplication::arguments().mid(1));
}
