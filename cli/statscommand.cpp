// paramscope-cli stats FILE [NAME | search] [--bins N] [--threads N] [--json]: the detailed
// statistics and histogram of one tensor, or one row per tensor (a module's, a search's
// matches) with the main figures.
#include "cli/commandline_p.h"
#include "stats/stats.h"

#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>

namespace paramscope::cli {

namespace {

/// Shortest text that reads back as the same double (JSON has no NaN/Inf; callers only
/// pass finite numbers).
QString number(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

/// JSON has no Inf: sums of squares of values near 1e308 can overflow, print null then.
QString jsonNumberOrNull(bool valid, double v)
{
    return valid && std::isfinite(v) ? number(v) : QStringLiteral("null");
}

/// One tensor's JSON members after "file" (or, in the "tensors" array, the first): every
/// figure at full precision (the shortest text that reads back as the same double).
void printJsonMembers(QTextStream& out, const std::string& name, const TensorStats& s)
{
    const bool f = s.hasFinite();
    QString shape = QStringLiteral("[");
    for (size_t i = 0; i < s.shape.size(); ++i)
        shape += (i ? QStringLiteral(", ") : QString()) + QString::number(s.shape[i]);
    shape += QLatin1Char(']');
    out << "\"name\": " << jsonString(name) << ",\n"
        << " \"dtype\": \"" << dtypeName(s.dtype).data() << "\", \"shape\": " << shape << ", \"values\": \""
        << statsValuesName(s.values) << "\",\n"
        << " \"elements\": " << s.elements << ", \"empty\": " << (s.empty ? "true" : "false")
        << ", \"scalar\": " << (s.scalar ? "true" : "false") << ",\n"
        << " \"finite\": " << s.finite << ", \"nan\": " << s.nan << ", \"pos_inf\": " << s.posInf
        << ", \"neg_inf\": " << s.negInf << ", \"zeros\": " << s.zeros
        << ", \"zeros_percent\": " << jsonNumberOrNull(true, s.zerosPercent) << ",\n"
        << " \"min\": " << (f ? s.minText() : QStringLiteral("null"))
        << ", \"max\": " << (f ? s.maxText() : QStringLiteral("null")) << ", \"mean\": " << jsonNumberOrNull(f, s.mean)
        << ", \"std\": " << jsonNumberOrNull(f, s.std) << ", \"std_definition\": \"population\",\n"
        << " \"l1\": " << jsonNumberOrNull(f, s.l1) << ", \"l2\": " << jsonNumberOrNull(f, s.l2)
        << ", \"max_abs\": " << jsonNumberOrNull(f, s.maxAbs) << ",\n"
        << " \"quantiles\": {";
    const char* names[] = {"p1", "p25", "median", "p75", "p99"};
    for (size_t i = 0; i < 5; ++i)
        out << "\"" << names[i] << "\": " << (f ? s.quantileText(i) : QStringLiteral("null")) << ", ";
    out << "\"method\": \"linear\", \"approximate\": " << (s.quantiles.approximate ? "true" : "false")
        << ", \"error_bound\": " << jsonNumberOrNull(true, s.quantiles.errorBound) << "},\n"
        << " \"histogram\": {\"bins\": " << s.histogram.bins()
        << ", \"automatic\": " << (s.histogram.automatic ? "true" : "false")
        << ", \"integer_aligned\": " << (s.histogram.integerAligned ? "true" : "false")
        << ", \"integer_edges\": " << (s.histogram.integerEdges.empty() ? "false" : "true") << ",\n  \"edges\": [";
    // int64/uint64 beyond 2^51: the exact integer edges (JSON numbers of any size).
    if (!s.histogram.integerEdges.empty())
        for (size_t i = 0; i < s.histogram.integerEdges.size(); ++i)
            out << (i ? ", " : "") << s.histogram.integerEdges[i].toString();
    else
        for (size_t i = 0; i < s.histogram.edges.size(); ++i)
            out << (i ? ", " : "") << number(s.histogram.edges[i]);
    out << "],\n  \"counts\": [";
    for (size_t i = 0; i < s.histogram.counts.size(); ++i)
        out << (i ? ", " : "") << s.histogram.counts[i];
    out << "]}";
}

void printJson(QTextStream& out, const QString& file, const std::string& name, const TensorStats& s)
{
    out << "{\"file\": " << jsonString(file) << ", ";
    printJsonMembers(out, name, s);
    out << "}\n";
}

/// Histogram edges short enough to read and long enough to tell apart: the fewest
/// decimals (edges below 10^7 in magnitude, up to 8 decimals), else significant digits from
/// 4 up, at which every edge reads back within a hundredth of the narrowest bin's width and
/// adjacent edges differ; the shortest exact text when no fewer do. int64/uint64 edges
/// beyond a double's reach: their exact integers.
QStringList edgeTexts(const StatsHistogram& h)
{
    QStringList texts;
    if (!h.integerEdges.empty()) {
        for (const StatsInteger& v : h.integerEdges)
            texts << v.toString();
        return texts;
    }
    double narrowest = std::numeric_limits<double>::infinity(), largest = 0;
    for (size_t i = 0; i < h.edges.size(); ++i) {
        largest = std::max(largest, std::fabs(h.edges[i]));
        if (i + 1 < h.edges.size() && h.edges[i + 1] > h.edges[i])
            narrowest = std::min(narrowest, h.edges[i + 1] - h.edges[i]);
    }
    const auto tryFormat = [&](char format, int precision) {
        texts.clear();
        for (size_t i = 0; i < h.edges.size(); ++i) {
            texts << QString::number(h.edges[i], format, precision);
            const double back = texts.back().toDouble();
            if (std::isfinite(narrowest) ? std::fabs(back - h.edges[i]) > narrowest / 100 : back != h.edges[i])
                return false;
            if (i && texts[qsizetype(i)] == texts[qsizetype(i) - 1] && h.edges[i] != h.edges[i - 1])
                return false;
        }
        return true;
    };
    if (largest < 1e7)
        for (int decimals = 0; decimals <= 8; ++decimals)
            if (tryFormat('f', decimals))
                return texts;
    for (int digits = 4; digits <= 16; ++digits)
        if (tryFormat('g', digits))
            return texts;
    texts.clear();
    for (double v : h.edges)
        texts << number(v);
    return texts;
}

constexpr int kBarWidth = 40;

/// A bin's bar: kBarWidth '#' for the largest bin, the others in proportion (rounded to
/// the nearest; at least one for a bin that is not empty).
int barLength(std::int64_t count, std::int64_t largest)
{
    if (count <= 0 || largest <= 0)
        return 0;
    return std::max(1, int(std::lround(double(kBarWidth) * double(count) / double(largest))));
}

void printText(QTextStream& out, const std::string& name, const TensorStats& s)
{
    auto line = [&](const char* label, const QString& value) {
        out << QString::fromLatin1(label).leftJustified(14) << value << "\n";
    };
    line("name", shown(name));
    QString dt = QString::fromLatin1(dtypeName(s.dtype).data());
    if (s.values != StatsValues::Real)
        dt += s.values == StatsValues::Magnitude ? QStringLiteral(" (statistics of the magnitude |z|)")
                                                 : QStringLiteral(" (statistics of the dequantized values)");
    line("dtype", dt);
    line("shape", formatShape(s.shape) + (s.scalar ? QStringLiteral(" (0-d)") : QString()));
    line("elements", QString::number(s.elements) + (s.empty ? QStringLiteral(" (empty)") : QString()));
    line("finite", QString::number(s.finite));
    line("nan", QString::number(s.nan));
    line("+inf", QString::number(s.posInf));
    line("-inf", QString::number(s.negInf));
    line("zeros", QStringLiteral("%1 (%2%)").arg(QString::number(s.zeros), QString::number(s.zerosPercent, 'g', 6)));
    if (!s.hasFinite()) {
        line("values", s.empty ? QStringLiteral("none: the tensor is empty") : QStringLiteral("none finite"));
        return;
    }
    line("min", s.minText());  // int64/uint64: exact
    line("max", s.maxText());
    line("mean", number(s.mean));
    line("std", number(s.std) + QStringLiteral(" (population)"));
    line("l1", number(s.l1));
    line("l2", number(s.l2));
    line("max|x|", number(s.maxAbs));
    const char* names[] = {"p1", "p25", "median", "p75", "p99"};
    const QString approx =
        s.quantiles.approximate ? QStringLiteral(" ±%1").arg(number(s.quantiles.errorBound)) : QString();
    for (size_t i = 0; i < 5; ++i)
        line(names[i], s.quantileText(i) + approx);
    out << "histogram     " << s.histogram.bins() << (s.histogram.bins() == 1 ? " bin" : " bins")
        << (s.histogram.automatic ? " (automatic)" : "") << (s.histogram.integerAligned ? ", integer-aligned" : "")
        << "\n";
    const QStringList edges = edgeTexts(s.histogram);
    int wLeft = 0, wRight = 0, wCount = 0;
    std::int64_t largest = 0;
    for (int i = 0; i < s.histogram.bins(); ++i) {
        wLeft = std::max(wLeft, int(edges[i].size()));
        wRight = std::max(wRight, int(edges[i + 1].size()));
        wCount = std::max(wCount, int(QString::number(s.histogram.counts[size_t(i)]).size()));
        largest = std::max(largest, s.histogram.counts[size_t(i)]);
    }
    for (int i = 0; i < s.histogram.bins(); ++i) {
        const bool last = i + 1 == s.histogram.bins();
        const std::int64_t count = s.histogram.counts[size_t(i)];
        out << "  [" << edges[i].rightJustified(wLeft) << ", " << edges[i + 1].rightJustified(wRight)
            << (last ? "]" : ")") << "  " << QString::number(count).rightJustified(wCount);
        if (const int bar = barLength(count, largest); bar > 0)
            out << "  " << QString(bar, QLatin1Char('#'));
        out << "\n";
    }
}

/// A figure in the table of several tensors: 4 significant digits, whole numbers below
/// 10^7 in full.
QString compact(double v)
{
    if (v == std::trunc(v) && std::fabs(v) < 1e7)
        return QString::number(v, 'f', 0);
    return QString::number(v, 'g', 4);
}

struct Row {
    int entry = -1;
    std::optional<TensorStats> stats;  // nullopt: failed (the reason went to stderr)
};

/// One row per tensor: name, dtype, shape, elements, then min, max, mean, std over the
/// finite values ('-' when there is none), the NaN, ±Inf and zero counts.
void printTable(QTextStream& out, const ModelIndex& index, const std::vector<Row>& rows)
{
    const QStringList header{QStringLiteral("NAME"),     QStringLiteral("DTYPE"), QStringLiteral("SHAPE"),
                             QStringLiteral("ELEMENTS"), QStringLiteral("MIN"),   QStringLiteral("MAX"),
                             QStringLiteral("MEAN"),     QStringLiteral("STD"),   QStringLiteral("NAN"),
                             QStringLiteral("INF"),      QStringLiteral("ZEROS")};
    constexpr int kColumns = 11;
    std::vector<QStringList> cells;
    std::vector<int> names;
    for (const Row& r : rows) {
        const TensorEntry& e = index.entries[size_t(r.entry)];
        QStringList c{shown(e.name), QLatin1String(dtypeName(e.dtype).data()), formatShape(e.shape), entryNumelText(e)};
        const QString none = QStringLiteral("-");
        if (!r.stats) {
            c << QStringLiteral("(failed)") << none << none << none << none << none << none;
        } else {
            const TensorStats& s = *r.stats;
            const bool f = s.hasFinite();
            c << (f ? compact(s.min) : none) << (f ? compact(s.max) : none) << (f ? compact(s.mean) : none)
              << (f ? compact(s.std) : none) << formatCount(s.nan) << formatCount(s.posInf + s.negInf)
              << formatCount(s.zeros);
        }
        names.push_back(int(c[0].size()));
        cells.push_back(c);
    }
    int w[kColumns];
    w[0] = std::max(int(header[0].size()), cappedColumnWidth(std::move(names)));
    for (int k = 1; k < kColumns; ++k) {
        w[k] = int(header[k].size());
        for (const auto& c : cells)
            w[k] = std::max(w[k], int(c[k].size()));
    }
    const auto writeRow = [&](const QStringList& c) {
        if (c[0].size() > w[0])
            out << c[0] << "\n" << QString(w[0], QLatin1Char(' '));
        else
            out << c[0].leftJustified(w[0]);
        out << "  " << c[1].leftJustified(w[1]) << "  " << c[2].leftJustified(w[2]);
        for (int k = 3; k < kColumns; ++k)
            out << "  " << c[k].rightJustified(w[k]);
        out << "\n";
    };
    writeRow(header);
    for (const auto& c : cells)
        writeRow(c);
}

/// {"file": ..., "tensors": [...]}: per tensor the members of the one-tensor object, or
/// {"name": ..., "error": ...} for one whose statistics failed.
void printJsonArray(QTextStream& out, const QString& file, const ModelIndex& index, const std::vector<Row>& rows,
                    const std::vector<QString>& errors)
{
    out << "{\"file\": " << jsonString(file) << ", \"tensors\": [";
    for (size_t k = 0; k < rows.size(); ++k) {
        const std::string& name = index.entries[size_t(rows[k].entry)].name;
        out << (k ? ",\n " : "\n ") << "{";
        if (rows[k].stats)
            printJsonMembers(out, name, *rows[k].stats);
        else
            out << "\"name\": " << jsonString(name) << ", \"error\": " << jsonString(errors[k]);
        out << "}";
    }
    out << (rows.empty() ? "]}\n" : "\n]}\n");
}

/// "--contains 'x' --ignore-case", as the search was given.
QString searchText(const SearchQuery& q)
{
    const char* option = q.mode == MatchMode::Exact      ? "--exact"
                         : q.mode == MatchMode::Contains ? "--contains"
                         : q.mode == MatchMode::Wildcard ? "--glob"
                                                         : "--regex";
    return QLatin1String(option) + QStringLiteral(" '") + shown(q.pattern) + QLatin1Char('\'') +
           (q.caseSensitive ? QString() : QStringLiteral(" --ignore-case"));
}

}  // namespace

int cmdStats(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Statistics of tensor NAME in FILE: elements, NaN/+Inf/-Inf and zero counts, then over the finite values "
        "min, max, mean, std (population), L1, L2, max|x|, quantiles p1/p25/median/p75/p99 (NumPy's 'linear' "
        "definition; approximate with an error bound above 16M values) and a histogram, a bar per bin. Complex "
        "tensors: statistics of |z|; quantized tensors: of the dequantized values. int64/uint64: min, max, "
        "quantiles that are integers and histogram edges exact (beyond 2^53 too); mean, std and norms are doubles. "
        "When NAME is a module, or a search option picks the tensors (none: every tensor), one row per tensor: "
        "name, dtype, shape, elements, min, max, mean, std, NaN, Inf and zero counts (4 significant digits); a "
        "search that finds one tensor prints its detailed statistics. --json prints full precision: one object for "
        "NAME naming a tensor, {\"file\": ..., \"tensors\": [...]} (the same members per tensor) otherwise."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addPositionalArgument(QStringLiteral("NAME"),
                            QStringLiteral("A tensor's full dotted name, or a module's (every tensor in it)."),
                            QStringLiteral("[NAME]"));
    addSearchOptions(p);
    p.addOption({QStringLiteral("bins"),
                 QStringLiteral("Histogram bins (default: Freedman-Diaconis, at most %1; integer dtypes: at most N "
                                "bins a whole number of integers wide).")
                     .arg(kMaxAutoBins),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("threads"), QStringLiteral("Threads per tensor (default: one per core)."),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead.")});
    addEngineOption(p);
    if (int rc = parse(p, "stats", args, out, err); rc >= 0)
        return rc;
    const QStringList pos = p.positionalArguments();
    if (pos.isEmpty() || pos.size() > 2) {
        err << "paramscope-cli stats: expected FILE and NAME or a search option (see --help)\n";
        return kExitUsage;
    }
    StatsOptions o;
    if (p.isSet(QStringLiteral("bins"))) {
        bool ok = false;
        o.bins = p.value(QStringLiteral("bins")).toInt(&ok);
        if (!ok || o.bins < 1 || o.bins > kMaxBins) {
            err << "paramscope-cli stats: --bins takes a whole number from 1 to " << kMaxBins << "\n";
            return kExitUsage;
        }
    }
    if (p.isSet(QStringLiteral("threads"))) {
        bool ok = false;
        o.threads = p.value(QStringLiteral("threads")).toInt(&ok);
        if (!ok || o.threads < 1 || o.threads > 256) {
            err << "paramscope-cli stats: --threads takes a whole number from 1 to 256\n";
            return kExitUsage;
        }
    }
    QString why;
    const std::optional<SearchQuery> query = searchFromOptions(p, &why);
    if (query && pos.size() == 2) {
        err << "paramscope-cli stats: give NAME or a search option, not both\n";
        return kExitUsage;
    }
    const auto matcher = matcherFromOptions(p, "stats", err);
    if (!matcher)
        return kExitUsage;
    const bool json = p.isSet(QStringLiteral("json"));
    const QString file = pos.at(0);
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    const QString fileName = shown(QFileInfo(file).fileName());
    std::vector<int> entries;
    if (pos.size() == 2) {
        const std::string name = pos.at(1).toStdString();  // keeps a leading U+FEFF
        const int entry = index->findEntry(name);
        if (entry >= 0) {  // a tensor (also when it is a module's name too): its detailed statistics
            auto r = computeStats(*index, entry, o);
            if (!r) {
                err << "paramscope-cli stats: " << shown(r.error()) << "\n";
                return kExitError;
            }
            if (json)
                printJson(out, file, name, r.value());
            else
                printText(out, name, r.value());
            return kExitOk;
        }
        const std::string prefix = name + '.';
        for (size_t i = 0; i < index->entries.size(); ++i)
            if (index->entries[i].name.compare(0, prefix.size(), prefix) == 0)
                entries.push_back(int(i));
        if (entries.empty()) {
            err << "paramscope-cli stats: no tensor named '" << shown(name) << "' in '" << fileName
                << "', nor a module of that name (see 'paramscope-cli list')\n";
            return kExitError;
        }
    } else {
        entries = searchAndReport(*index, *matcher, "stats", err);
        if (entries.empty()) {
            if (query)
                err << "paramscope-cli stats: no tensor of '" << fileName << "' matches " << searchText(*query)
                    << " (see 'paramscope-cli list')\n";
            else
                err << "paramscope-cli stats: '" << fileName << "' has no tensors\n";
            return kExitError;
        }
    }
    // The table needs no histogram nor quantiles: only the fused pass runs.
    if (!json && entries.size() > 1) {
        o.histogram = false;
        o.quantiles = false;
    }
    std::vector<Row> rows;
    std::vector<QString> errors;
    int rc = kExitOk;
    for (int entry : entries) {
        auto r = computeStats(*index, entry, o);
        rows.push_back({entry, r ? std::optional<TensorStats>(std::move(r.value())) : std::nullopt});
        errors.push_back(r ? QString() : r.error());
        if (!r) {
            err << "paramscope-cli stats: " << shown(r.error()) << "\n";
            rc = kExitError;
        }
    }
    if (json)
        printJsonArray(out, file, *index, rows, errors);
    else if (rows.size() == 1 && rows[0].stats)
        printText(out, index->entries[size_t(rows[0].entry)].name, *rows[0].stats);
    else
        printTable(out, *index, rows);
    return rc;
}

}  // namespace paramscope::cli
