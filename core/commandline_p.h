#pragma once
// Shared pieces of the command-line tool's subcommands (one source per subcommand).

#include "loader.h"
#include "search.h"

#include <QCommandLineParser>
#include <QString>
#include <QTextStream>

#include <optional>
#include <string_view>

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
/// Loads FILE with the engine chosen by --engine; prints the error and returns null on failure.
std::shared_ptr<const ModelIndex> load(const QCommandLineParser& p, const QString& file, QTextStream& err);
/// Parses a subcommand's arguments; handles --help. Returns an exit code to stop with, or -1 to go on.
int parse(QCommandLineParser& p, const QStringList& args, QTextStream& out, QTextStream& err);

QString jsonString(std::string_view utf8);
QString jsonString(const QString& s);

/// `stats FILE NAME [--bins N] [--json]` (commandline_stats.cpp).
int cmdStats(const QStringList& args, QTextStream& out, QTextStream& err);

/// paramscope-cli export (commandline_export.cpp).
int cmdExport(const QStringList& args, QTextStream& out, QTextStream& err);

}  // namespace paramscope::cli
