#pragma once
// Internal to cli/: what the command-line tool's commands share (options.cpp,
// jsonstring.cpp) and the commands themselves, one source file each.

#include "formats/loader.h"
#include "model/search.h"
#include "base/textutil.h"

#include <QCommandLineParser>
#include <QString>
#include <QTextStream>

#include <optional>
#include <string_view>
#include <vector>

namespace paramscope::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

/// Adds --engine to a subcommand's parser.
void addEngineOption(QCommandLineParser& p);
/// Adds --exact/--contains/--glob/--regex and --ignore-case.
void addSearchOptions(QCommandLineParser& p);
/// The search given on the command line (nullopt: none given). Sets `error` on misuse
/// (two modes at once).
std::optional<SearchQuery> searchFromOptions(const QCommandLineParser& p, QString* error);
/// Whether `out` writes to a terminal (false for a pipe, a file, a string).
bool writesToTerminal(QTextStream& out);
/// Loads FILE with the engine chosen by --engine; prints the error and returns null on failure.
std::shared_ptr<const ModelIndex> load(const QCommandLineParser& p, const QString& file, QTextStream& err);
/// Parses subcommand `command`'s arguments; handles --help and --help-all (their usage line
/// says "paramscope-cli COMMAND [options] ...", whatever path the tool was run by) and checks
/// --engine (a usage error). Returns an exit code to stop with, or -1 to go on.
int parse(QCommandLineParser& p, const char* command, const QStringList& args, QTextStream& out, QTextStream& err);
/// Compiles the search given on the command line (none: every name). Prints a usage
/// error naming the pattern and returns nullopt when it is misused or invalid.
std::optional<NameMatcher> matcherFromOptions(const QCommandLineParser& p, const char* command, QTextStream& err);
/// Runs the search; names the regular expression could not decide are reported on
/// stderr (count and the first few names), and are not part of the result.
std::vector<int> searchAndReport(const ModelIndex& index, const NameMatcher& matcher, const char* command,
                                 QTextStream& err);

/// The width of a table's name column (columns.cpp): as wide as 95% of the names need, so
/// that one very long name overflows its own line instead of padding every line to its
/// length. `lengths`: each name's length as printed. 0 when there are none.
int cappedColumnWidth(std::vector<int> lengths);

/// Text from a file (a name, a message quoting one) for plain-text output: see
/// escapeForTerminal in textutil.h. --json output uses jsonString instead.
inline QString shown(std::string_view utf8)
{
    return escapeForTerminal(utf8);
}
inline QString shown(const QString& s)
{
    return escapeForTerminal(s);
}

QString jsonString(std::string_view utf8);
QString jsonString(const QString& s);

/// `list FILE [search] [--json]` (listcommand.cpp).
int cmdList(const QStringList& args, QTextStream& out, QTextStream& err);
/// `tree FILE [--depth N] [--natural-sort]` (treecommand.cpp).
int cmdTree(const QStringList& args, QTextStream& out, QTextStream& err);
/// `stats FILE [NAME | search] [--bins N] [--threads N] [--json]` (statscommand.cpp).
int cmdStats(const QStringList& args, QTextStream& out, QTextStream& err);
/// `export FILE [NAME | search] -o OUT [--format F]` (exportcommand.cpp).
int cmdExport(const QStringList& args, QTextStream& out, QTextStream& err);
/// `scan FILE [--json | --csv] [--problems-only] [--fail-on KINDS] [--threads N]` (scancommand.cpp).
int cmdScan(const QStringList& args, QTextStream& out, QTextStream& err);
/// `diff A B [--json] [--atol X --rtol Y] [--map FROM=TO] [--strip-prefix P]` (diffcommand.cpp).
int cmdDiff(const QStringList& args, QTextStream& out, QTextStream& err);
/// `heatmap FILE NAME -o OUT.png [--size WxH] [--clamp ...]` (heatmapcommand.cpp).
int cmdHeatmap(const QStringList& args, QTextStream& out, QTextStream& err);

}  // namespace paramscope::cli
