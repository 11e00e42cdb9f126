#pragma once

#include <QStringList>

class QTextStream;

namespace paramscope {

/// paramscope-cli: `args` without the program name. Output goes to `out`, errors to
/// `err`. Returns the process exit code: 0 success, 1 a file or data error, 2 a usage error.
int runCommandLine(const QStringList& args, QTextStream& out, QTextStream& err);

}  // namespace paramscope
