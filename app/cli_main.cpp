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
    const QStringList args = paramscope::argumentsFromArgv(argc, argv).mid(1);
    if (args == QStringList{QStringLiteral("--version")}) {
        out << "paramscope-cli " << PARAMSCOPE_VERSION << "\n";  // from project() in CMakeLists.txt
        return 0;
    }
    const int rc = paramscope::runCommandLine(args, out, err);
    out.flush();
    err.flush();
    return rc;
}
