#include "cli/commandline.h"
#include "base/textutil.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("paramscope-cli"));
    QTextStream out(stdout);
    QTextStream err(stderr);
    // Not QCoreApplication::arguments(): it drops a leading U+FEFF of each argument, so
    // `stats FILE $'\ufeffw'` would look up 'w'.
    const int rc = paramscope::runCommandLine(paramscope::argumentsFromArgv(argc, argv).mid(1), out, err);
    out.flush();
    err.flush();
    return rc;
}
