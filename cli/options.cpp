// The option handling every paramscope-cli command shares: --engine, the search options
// (--exact/--contains/--glob/--regex, --ignore-case), parsing a command's arguments with
// --help, loading FILE with the chosen engine and running a search with its warnings.
#include "cli/commandline_p.h"

#include <QFile>

#include <unistd.h>

namespace paramscope::cli {

void addEngineOption(QCommandLineParser& p)
{
    p.addOption({QStringLiteral("engine"),
                 QStringLiteral("Loader: 'auto' (default), 'native' (never runs code from the file) or 'libtorch' "
                                "(torch::jit::load, TorchScript only)."),
                 QStringLiteral("engine"), QStringLiteral("auto")});
}

void addSearchOptions(QCommandLineParser& p)
{
    p.addOption({QStringLiteral("exact"), QStringLiteral("Names equal to S."), QStringLiteral("S")});
    p.addOption({QStringLiteral("contains"), QStringLiteral("Names containing S."), QStringLiteral("S")});
    p.addOption({QStringLiteral("glob"),
                 QStringLiteral("Names matching wildcard S ('*' crosses dots, '?' is one character)."),
                 QStringLiteral("S")});
    p.addOption({QStringLiteral("regex"),
                 QStringLiteral("Names in which regular expression S matches (like re.search)."), QStringLiteral("S")});
    p.addOption({QStringLiteral("ignore-case"), QStringLiteral("Match case-insensitively.")});
}

std::optional<SearchQuery> searchFromOptions(const QCommandLineParser& p, QString* error)
{
    const std::pair<const char*, MatchMode> modes[] = {{"exact", MatchMode::Exact},
                                                       {"contains", MatchMode::Contains},
                                                       {"glob", MatchMode::Wildcard},
                                                       {"regex", MatchMode::Regex}};
    std::optional<SearchQuery> q;
    for (const auto& [opt, mode] : modes) {
        if (!p.isSet(QLatin1String(opt)))
            continue;
        if (q) {
            *error = QStringLiteral("give only one of --exact, --contains, --glob, --regex");
            return std::nullopt;
        }
        q = SearchQuery{mode, p.value(QLatin1String(opt)), !p.isSet(QStringLiteral("ignore-case"))};
    }
    return q;
}

namespace {

/// --engine's value; nullopt when it names no engine.
std::optional<LoaderEngine> engineFromOptions(const QCommandLineParser& p)
{
    const QString engine = p.value(QStringLiteral("engine"));
    if (engine == QLatin1String("native"))
        return LoaderEngine::Native;
    if (engine == QLatin1String("libtorch"))
        return LoaderEngine::LibTorch;
    if (engine == QLatin1String("auto") || engine.isEmpty())
        return LoaderEngine::Auto;
    return std::nullopt;
}

}  // namespace

bool writesToTerminal(QTextStream& out)
{
    // QTextStream(stdout) writes through a QFile it opened on the FILE*.
    const auto* file = qobject_cast<const QFile*>(out.device());
    return file && file->handle() >= 0 && ::isatty(file->handle()) == 1;
}

std::shared_ptr<const ModelIndex> load(const QCommandLineParser& p, const QString& file, QTextStream& err)
{
    LoadOptions o;
    o.engine = engineFromOptions(p).value_or(LoaderEngine::Auto);  // checked by parse()
    auto r = loadModel(file, o);
    if (!r) {
        err << "paramscope-cli: " << shown(r.error()) << "\n";
        return nullptr;
    }
    const ModelIndex& index = *r.value();
    for (const auto& w : index.warnings)
        err << "paramscope-cli: warning: " << shown(w) << "\n";
    // Once, however many objects of each class the file holds.
    if (!index.foreignClasses.isEmpty())
        err << "paramscope-cli: classes not imported: " << shown(index.foreignClasses.join(QStringLiteral(", ")))
            << "\n";
    if (index.entries.empty() && !index.noTensorsReason.isEmpty())
        err << "paramscope-cli: no tensors: " << shown(index.noTensorsReason) << "\n";
    return r.value();
}

namespace {

/// Qt's help text with its usage line naming the tool and the command: QCommandLineParser
/// starts it with the path the process was run by ("Usage: build/app/paramscope-cli [options]
/// FILE NAME"), which says neither.
QString helpText(const QCommandLineParser& p, const char* command)
{
    QString text = p.helpText();
    const QString usage = QStringLiteral("Usage: ");
    const qsizetype end = text.indexOf(QLatin1Char('\n'));
    const qsizetype options = text.indexOf(QStringLiteral(" [options]"));
    if (text.startsWith(usage) && options > 0 && (end < 0 || options < end))
        text.replace(0, options, usage + QStringLiteral("paramscope-cli ") + QLatin1String(command));
    return text;
}

}  // namespace

int parse(QCommandLineParser& p, const char* command, const QStringList& args, QTextStream& out, QTextStream& err)
{
    // addHelpOption() adds -h, --help and --help-all; the last is Qt's "with the Qt
    // options", of which a QCoreApplication tool has none: both print the same help.
    p.addHelpOption();
    if (!p.parse(QStringList{QStringLiteral("paramscope-cli")} + args)) {
        err << "paramscope-cli: " << shown(p.errorText()) << "\n";
        return kExitUsage;
    }
    if (p.isSet(QStringLiteral("help")) || p.isSet(QStringLiteral("help-all"))) {
        out << helpText(p, command);
        return kExitOk;
    }
    if (p.optionNames().contains(QStringLiteral("engine")) && !engineFromOptions(p)) {
        err << "paramscope-cli: unknown engine '" << shown(p.value(QStringLiteral("engine")))
            << "' (auto, native, libtorch)\n";
        return kExitUsage;
    }
    return -1;
}

std::optional<NameMatcher> matcherFromOptions(const QCommandLineParser& p, const char* command, QTextStream& err)
{
    QString why;
    const auto query = searchFromOptions(p, &why);
    if (!why.isEmpty()) {
        err << "paramscope-cli " << command << ": " << why << "\n";
        return std::nullopt;
    }
    NameMatcher matcher(query.value_or(SearchQuery{}));
    if (!matcher.isValid()) {
        // Only a regular expression can be invalid (wildcards compile to a matcher of
        // their own); the position counts in the pattern as typed.
        err << "paramscope-cli " << command << ": invalid regular expression '" << shown(matcher.query().pattern)
            << "' at position " << matcher.errorOffset() << ": " << matcher.errorString() << "\n";
        return std::nullopt;
    }
    return matcher;
}

std::vector<int> searchAndReport(const ModelIndex& index, const NameMatcher& matcher, const char* command,
                                 QTextStream& err)
{
    SearchResult r = searchModel(index, matcher);
    if (!r.undecided.empty()) {
        constexpr size_t kShown = 5;
        err << "paramscope-cli " << command << ": warning: " << r.undecided.size()
            << (r.undecided.size() == 1 ? " name" : " names")
            << " could not be decided: the regular expression reached its backtracking limit on "
            << (r.undecided.size() == 1 ? "it" : "them") << ", so " << (r.undecided.size() == 1 ? "it is" : "they are")
            << " left out:";
        for (size_t k = 0; k < r.undecided.size() && k < kShown; ++k)
            err << (k ? ", '" : " '") << shown(index.entries[size_t(r.undecided[k])].name) << "'";
        if (r.undecided.size() > kShown)
            err << ", ...";
        err << " (simplify the pattern, e.g. avoid nested repeats like (a+)+)\n";
    }
    return std::move(r.entries);
}

}  // namespace paramscope::cli
