#include "cli/commandline.h"

#include "cli/commandline_p.h"
#include "model/modeltree.h"

#include <QFileInfo>

#include <functional>
#include <map>

namespace paramscope {

namespace cli {

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
    p.addOption({QStringLiteral("glob"), QStringLiteral("Names matching wildcard S ('*' crosses dots, '?' is one character)."),
                 QStringLiteral("S")});
    p.addOption({QStringLiteral("regex"), QStringLiteral("Names in which regular expression S matches (like re.search)."),
                 QStringLiteral("S")});
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

std::shared_ptr<const ModelIndex> load(const QCommandLineParser& p, const QString& file, QTextStream& err)
{
    LoadOptions o;
    o.engine = engineFromOptions(p).value_or(LoaderEngine::Auto);  // checked by parse()
    auto r = loadModel(file, o);
    if (!r) {
        err << "paramscope-cli: " << shown(r.error()) << "\n";
        return nullptr;
    }
    for (const auto& w : r.value()->warnings)
        err << "paramscope-cli: warning: " << shown(w) << "\n";
    return r.value();
}

int parse(QCommandLineParser& p, const QStringList& args, QTextStream& out, QTextStream& err)
{
    // addHelpOption() adds -h, --help and --help-all; the last is Qt's "with the Qt
    // options", of which a QCoreApplication tool has none: both print the same help.
    p.addHelpOption();
    if (!p.parse(QStringList{QStringLiteral("paramscope-cli")} + args)) {
        err << "paramscope-cli: " << shown(p.errorText()) << "\n";
        return kExitUsage;
    }
    if (p.isSet(QStringLiteral("help")) || p.isSet(QStringLiteral("help-all"))) {
        out << p.helpText();
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
            << (r.undecided.size() == 1 ? "it" : "them") << ", so "
            << (r.undecided.size() == 1 ? "it is" : "they are") << " left out:";
        for (size_t k = 0; k < r.undecided.size() && k < kShown; ++k)
            err << (k ? ", '" : " '") << shown(index.entries[size_t(r.undecided[k])].name) << "'";
        if (r.undecided.size() > kShown)
            err << ", ...";
        err << " (simplify the pattern, e.g. avoid nested repeats like (a+)+)\n";
    }
    return std::move(r.entries);
}

QString jsonString(const QString& s)
{
    // Exact: a JSON parser gets back every character. Control characters and the other
    // non-printables (U+2028, U+FEFF, C1 controls, ...) are written as \uXXXX escapes (as
    // UTF-16 units), so the JSON text itself stays safe to show in a terminal.
    QString o;
    o.reserve(s.size() + 2);
    o += QLatin1Char('"');
    for (qsizetype i = 0; i < s.size(); ++i) {
        const QChar c = s.at(i);
        switch (c.unicode()) {
        case '"': o += QStringLiteral("\\\""); continue;
        case '\\': o += QStringLiteral("\\\\"); continue;
        case '\n': o += QStringLiteral("\\n"); continue;
        case '\r': o += QStringLiteral("\\r"); continue;
        case '\t': o += QStringLiteral("\\t"); continue;
        default: break;
        }
        char32_t cp = c.unicode();
        qsizetype units = 1;
        if (c.isHighSurrogate() && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            cp = QChar::surrogateToUcs4(c, s.at(i + 1));
            units = 2;
        }
        if (textdetail::isPrintable(cp)) {
            o += s.mid(i, units);
        } else {
            for (qsizetype k = 0; k < units; ++k)
                o += QStringLiteral("\\u") + QString::number(s.at(i + k).unicode(), 16).rightJustified(4, QLatin1Char('0'));
        }
        i += units - 1;
    }
    o += QLatin1Char('"');
    return o;
}

QString jsonString(std::string_view utf8) { return jsonString(utf8ToQString(utf8)); }

}  // namespace cli

namespace {

using namespace cli;

QString shapeJson(const std::vector<std::int64_t>& shape)
{
    QString s = QStringLiteral("[");
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += QLatin1Char(',');
        s += QString::number(shape[i]);
    }
    return s + QLatin1Char(']');
}

int cmdList(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("List the tensors of FILE in state_dict order, one per line: name, kind, dtype, shape, "
                       "elements (tab-separated). Without a search option every tensor is listed."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    addSearchOptions(p);
    p.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object instead.")});
    addEngineOption(p);
    if (int rc = parse(p, args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 1) {
        err << "paramscope-cli list: expected one FILE (see --help)\n";
        return kExitUsage;
    }
    const auto matcher = matcherFromOptions(p, "list", err);
    if (!matcher)
        return kExitUsage;
    const QString file = p.positionalArguments().first();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    const auto hits = searchAndReport(*index, *matcher, "list", err);
    if (p.isSet(QStringLiteral("json"))) {
        out << "{\"file\": " << jsonString(file) << ", \"format\": " << jsonString(modelFormatId(index->format))
            << ", \"engine\": " << jsonString(index->engine) << ", \"entries\": [";
        bool first = true;
        for (int i : hits) {
            const auto& e = index->entries[size_t(i)];
            out << (first ? "\n  " : ",\n  ");
            first = false;
            out << "{\"name\": " << jsonString(e.name) << ", \"kind\": \"" << tensorKindName(e.kind).data()
                << "\", \"dtype\": \"" << dtypeName(e.dtype).data() << "\", \"shape\": " << shapeJson(e.shape)
                << ", \"numel\": " << entryNumelDecimal(e).c_str() << ", \"bytes\": " << entryBytesDecimal(e).c_str()
                << ", \"requires_grad\": " << (e.requiresGrad ? "true" : "false") << ", \"shared_with\": "
                << (e.sharedWith >= 0 ? jsonString(index->entries[size_t(e.sharedWith)].name) : QStringLiteral("null"))
                << "}";
        }
        out << (first ? "]}\n" : "\n]}\n");
    } else {
        for (int i : hits) {
            const auto& e = index->entries[size_t(i)];
            out << shown(e.name) << '\t' << tensorKindName(e.kind).data() << '\t'
                << dtypeName(e.dtype).data() << '\t' << formatShape(e.shape) << '\t' << entryNumelDecimal(e).c_str() << '\n';
        }
    }
    return kExitOk;
}

int cmdTree(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Print FILE's module tree with element counts and sizes per module (shared storage counted once)."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addOption({QStringLiteral("depth"), QStringLiteral("Show modules down to depth N only (0: the model alone)."),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("natural-sort"), QStringLiteral("Order children naturally by name (layers.2 before layers.10).")});
    addEngineOption(p);
    if (int rc = parse(p, args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 1) {
        err << "paramscope-cli tree: expected one FILE (see --help)\n";
        return kExitUsage;
    }
    int maxDepth = std::numeric_limits<int>::max();
    if (p.isSet(QStringLiteral("depth"))) {
        bool ok = false;
        maxDepth = p.value(QStringLiteral("depth")).toInt(&ok);
        if (!ok || maxDepth < 0) {
            err << "paramscope-cli tree: --depth takes a whole number >= 0\n";
            return kExitUsage;
        }
    }
    const QString file = p.positionalArguments().first();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    ModelTree tree = ModelTree::build(*index);
    if (p.isSet(QStringLiteral("natural-sort")))
        tree.sortNatural(true);

    struct Row {
        QString label, detail, elements, size;
    };
    std::vector<Row> rows;
    const auto t = index->totals();
    rows.push_back({shown(QFileInfo(file).fileName()), modelFormatName(index->format), formatSize(t.numel, false),
                    formatSize(t.bytes, true)});
    // Depth-first, iterative (single-child chains can be deep).
    std::vector<std::pair<int, QString>> stack;  // node, indent prefix for its children
    auto pushChildren = [&](int node, const QString& prefix) {
        const auto& ch = tree.node(node).children;
        for (size_t k = ch.size(); k-- > 0;)
            stack.emplace_back(ch[k], prefix);
    };
    pushChildren(ModelTree::root(), QString());
    while (!stack.empty()) {
        auto [id, prefix] = stack.back();
        stack.pop_back();
        const TreeNode& n = tree.node(id);
        const TreeNode& parent = tree.node(n.parent);
        const bool lastChild = n.row == int(parent.children.size()) - 1;
        const int d = tree.depth(id);
        if (d > maxDepth)  // tensors that are also modules (names 'a' and 'a.b') included
            continue;
        Row r;
        r.label = prefix + (lastChild ? QStringLiteral("└─ ") : QStringLiteral("├─ ")) + shown(n.name);
        if (n.isTensor()) {
            const auto& e = index->entries[size_t(n.entry)];
            r.detail = QStringLiteral("%1 %2 %3").arg(QLatin1String(tensorKindName(e.kind).data()),
                                                      QLatin1String(dtypeName(e.dtype).data()), formatShape(e.shape));
            if (e.sharedWith >= 0)
                r.detail += QStringLiteral(" = ") + shown(index->entries[size_t(e.sharedWith)].name);
        } else {
            const int count = n.parameters + n.buffers + n.tensors;
            r.detail = QString::number(count) + (count == 1 ? QStringLiteral(" tensor") : QStringLiteral(" tensors"));
        }
        if (n.entry >= 0 && n.children.empty()) {
            r.elements = entryNumelText(index->entries[size_t(n.entry)]);
            r.size = entryBytesText(index->entries[size_t(n.entry)]);
        } else {
            r.elements = formatSize(n.numel, false);
            r.size = formatSize(n.bytes, true);
        }
        rows.push_back(r);
        if (d < maxDepth)
            pushChildren(id, prefix + (lastChild ? QStringLiteral("   ") : QStringLiteral("│  ")));
    }
    int wLabel = 0, wDetail = 0, wElems = 0, wSize = 0;
    for (const auto& r : rows) {
        wLabel = std::max(wLabel, int(r.label.size()));
        wDetail = std::max(wDetail, int(r.detail.size()));
        wElems = std::max(wElems, int(r.elements.size()));
        wSize = std::max(wSize, int(r.size.size()));
    }
    for (const auto& r : rows)
        out << r.label.leftJustified(wLabel) << "  " << r.detail.leftJustified(wDetail) << "  "
            << r.elements.rightJustified(wElems) << "  " << r.size.rightJustified(wSize) << "\n";
    return kExitOk;
}

const char* kUsage =
    "Usage: paramscope-cli COMMAND [options]\n"
    "\n"
    "Look inside PyTorch model files (TorchScript archives, torch.save checkpoints, safetensors).\n"
    "\n"
    "Commands:\n"
    "  list FILE [--exact S | --contains S | --glob S | --regex S] [--ignore-case] [--json]\n"
    "                      List tensors: name, kind, dtype, shape, elements.\n"
    "  tree FILE [--depth N] [--natural-sort]\n"
    "                      The module tree with element counts and sizes.\n"
    "  stats FILE NAME [--bins N] [--json]\n"
    "                      Statistics and histogram of one tensor.\n"
    "  export FILE [NAME | --exact S | --contains S | --glob S | --regex S] -o OUT\n"
    "         [--format npy|pt|safetensors|csv]\n"
    "                      Write tensors to OUT (format from its extension unless --format).\n"
    "\n"
    "Every command takes --engine auto|native|libtorch and --help.\n"
    "Plain-text output shows names with control and other non-printable characters escaped\n"
    "(\\n, \\t, \\x1b, \\u2028, \\ufeff, ...) and the backslash as \\\\; --json keeps them exact.\n"
    "Exit codes: 0 success, 1 the file could not be read, 2 wrong usage. A --regex search\n"
    "that cannot decide some names (backtracking limit) names them on stderr and still exits 0.\n";

}  // namespace

int runCommandLine(const QStringList& args, QTextStream& out, QTextStream& err)
{
    using Command = std::function<int(const QStringList&, QTextStream&, QTextStream&)>;
    static const std::map<QString, Command> commands{
        {QStringLiteral("list"), cmdList},
        {QStringLiteral("tree"), cmdTree},
        {QStringLiteral("stats"), cli::cmdStats},
        {QStringLiteral("export"), cli::cmdExport},
    };
    if (args.isEmpty()) {
        err << kUsage;
        return kExitUsage;
    }
    const QString cmd = args.first();
    if (cmd == QLatin1String("--help") || cmd == QLatin1String("-h") || cmd == QLatin1String("--help-all") ||
        cmd == QLatin1String("help")) {
        out << kUsage;
        return kExitOk;
    }
    auto it = commands.find(cmd);
    if (it == commands.end()) {
        err << "paramscope-cli: unknown command '" << shown(cmd) << "'\n\n" << kUsage;
        return kExitUsage;
    }
    return it->second(args.mid(1), out, err);
}

}  // namespace paramscope
