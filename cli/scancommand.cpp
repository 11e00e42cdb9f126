// paramscope-cli scan FILE [--json | --csv] [--problems-only] [--fail-on KINDS] [--threads N]:
// the whole-model scan (core/scan): every tensor's statistics and the findings, as a table,
// JSON or CSV; --fail-on makes the exit status say whether such a finding exists, so a
// training or release pipeline can refuse a broken checkpoint.
#include "cli/commandline_p.h"
#include "scan/findings.h"
#include "scan/scan.h"

#include <QElapsedTimer>
#include <QLocale>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace paramscope::cli {

namespace {

constexpr int kExitFinding = 3;

QString number(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

/// JSON has no NaN or Inf (a sum of squares near 1e308 can overflow): null then.
QString jsonNumber(bool valid, double v)
{
    return valid && std::isfinite(v) ? number(v) : QStringLiteral("null");
}

QString shapeCompact(const Dims& shape)
{
    QString s = QStringLiteral("[");
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? QStringLiteral(",") : QString()) + QString::number(shape[i]);
    return s + QLatin1Char(']');
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled.
QString csvField(const QString& s)
{
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n')) &&
        !s.contains(QLatin1Char('\r')))
        return s;
    QString q = s;
    q.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

struct Report {
    const ModelIndex& index;
    const ScanResult& scan;
    const std::vector<Finding>& findings;
    std::vector<std::vector<FindingKind>> kindsOf;  // per entry
    std::vector<int> rows;                          // entries to print
};

/// "nan;outlier" (the kinds of one tensor's findings, in order).
QString kindsText(const std::vector<FindingKind>& kinds, const QString& sep)
{
    QStringList ids;
    for (FindingKind k : kinds)
        ids << findingKindId(k);
    return ids.join(sep);
}

void writeJson(const Report& r, const QString& file, QTextStream& out)
{
    const ModelIndex& index = r.index;
    out << "{\"file\": " << jsonString(file) << ", \"format\": " << jsonString(modelFormatId(index.format))
        << ", \"complete\": " << (r.scan.complete() ? "true" : "false") << ",\n\"tensors\": [";
    bool first = true;
    for (int i : r.rows) {
        const TensorEntry& e = index.entries[size_t(i)];
        const TensorScan& t = r.scan.tensors[size_t(i)];
        out << (first ? "\n  " : ",\n  ");
        first = false;
        out << "{\"name\": " << jsonString(e.name) << ", \"dtype\": \"" << dtypeName(e.dtype).data()
            << "\", \"shape\": " << shapeCompact(e.shape) << ", \"numel\": " << entryNumelDecimal(e).c_str();
        if (!t.done()) {
            out << ", \"error\": ";
            auto it =
                std::find_if(r.scan.errors.begin(), r.scan.errors.end(), [&](const auto& er) { return er.first == i; });
            out << jsonString(it != r.scan.errors.end() ? it->second : QStringLiteral("not scanned")) << "}";
            continue;
        }
        const bool f = t.hasFinite();
        const QString null = QStringLiteral("null");
        out << ", \"min\": " << (f ? t.minText() : null) << ", \"max\": " << (f ? t.maxText() : null)
            << ", \"mean\": " << jsonNumber(f, t.mean) << ", \"std\": " << jsonNumber(f, t.std)
            << ", \"max_abs\": " << jsonNumber(f, t.maxAbs) << ", \"l2\": " << jsonNumber(f, t.l2)
            << ", \"zeros\": " << t.zeros << ", \"nan\": " << t.nan << ", \"pos_inf\": " << t.posInf
            << ", \"neg_inf\": " << t.negInf << ", \"findings\": [";
        const auto& kinds = r.kindsOf[size_t(i)];
        for (size_t k = 0; k < kinds.size(); ++k)
            out << (k ? ", " : "") << jsonString(findingKindId(kinds[k]));
        out << "]}";
    }
    out << (first ? "]" : "\n]") << ",\n\"findings\": [";
    first = true;
    for (const Finding& f : r.findings) {
        out << (first ? "\n  " : ",\n  ");
        first = false;
        out << "{\"name\": " << jsonString(index.entries[size_t(f.entry)].name) << ", \"kind\": \""
            << findingKindId(f.kind) << "\", \"severity\": \"" << (findingIsError(f.kind) ? "error" : "warning")
            << "\", \"detail\": " << jsonString(f.detail) << "}";
    }
    out << (first ? "]" : "\n]") << ",\n\"errors\": [";
    first = true;
    for (const auto& [entry, why] : r.scan.errors) {
        out << (first ? "\n  " : ",\n  ") << "{\"name\": " << jsonString(index.entries[size_t(entry)].name)
            << ", \"error\": " << jsonString(why) << "}";
        first = false;
    }
    out << (first ? "]" : "\n]") << "}\n";
}

void writeCsv(const Report& r, QTextStream& out)
{
    out << "name,dtype,shape,numel,min,max,mean,std,max_abs,l2,zeros,nan,pos_inf,neg_inf,findings\n";
    for (int i : r.rows) {
        const TensorEntry& e = r.index.entries[size_t(i)];
        const TensorScan& t = r.scan.tensors[size_t(i)];
        out << csvField(utf8ToQString(e.name)) << ',' << dtypeName(e.dtype).data() << ','
            << csvField(shapeCompact(e.shape)) << ',' << entryNumelDecimal(e).c_str();
        if (!t.done()) {
            out << ",,,,,,,,,,,unreadable\n";
            continue;
        }
        const bool f = t.hasFinite();
        auto num = [&](double v) { return f && std::isfinite(v) ? number(v) : QString(); };
        out << ',' << (f ? t.minText() : QString()) << ',' << (f ? t.maxText() : QString()) << ',' << num(t.mean) << ','
            << num(t.std) << ',' << num(t.maxAbs) << ',' << num(t.l2) << ',' << t.zeros << ',' << t.nan << ','
            << t.posInf << ',' << t.negInf << ',' << kindsText(r.kindsOf[size_t(i)], QStringLiteral(";")) << '\n';
    }
}

/// Six significant digits for the table (the JSON and CSV keep every digit).
QString brief(double v)
{
    return std::isfinite(v) ? QString::number(v, 'g', 6) : QString::number(v);
}

void writeText(const Report& r, const QString& file, qint64 elapsedMs, QTextStream& out)
{
    const ModelIndex& index = r.index;
    const QStringList header{QStringLiteral("name"), QStringLiteral("dtype"),  QStringLiteral("shape"),
                             QStringLiteral("min"),  QStringLiteral("max"),    QStringLiteral("mean"),
                             QStringLiteral("std"),  QStringLiteral("max|x|"), QStringLiteral("nan"),
                             QStringLiteral("inf"),  QStringLiteral("zeros"),  QStringLiteral("findings")};
    std::vector<QStringList> table;
    table.reserve(r.rows.size());
    for (int i : r.rows) {
        const TensorEntry& e = index.entries[size_t(i)];
        const TensorScan& t = r.scan.tensors[size_t(i)];
        QStringList row{shown(e.name), QString::fromLatin1(dtypeName(e.dtype).data()), formatShape(e.shape)};
        if (!t.done()) {
            row << QString() << QString() << QString() << QString() << QString() << QString() << QString() << QString()
                << QStringLiteral("(not read)");
        } else {
            const bool f = t.hasFinite();
            const QString none = QStringLiteral("-");
            row << (f ? (t.minExact ? t.minText() : brief(t.min)) : none)
                << (f ? (t.maxExact ? t.maxText() : brief(t.max)) : none) << (f ? brief(t.mean) : none)
                << (f ? brief(t.std) : none) << (f ? brief(t.maxAbs) : none) << QString::number(t.nan)
                << QString::number(t.posInf + t.negInf) << QString::number(t.zeros)
                << kindsText(r.kindsOf[size_t(i)], QStringLiteral(", "));
        }
        table.push_back(std::move(row));
    }
    std::vector<int> width(size_t(header.size()));
    for (int c = 0; c < header.size(); ++c)
        width[size_t(c)] = int(header[c].size());
    for (const QStringList& row : table)
        for (int c = 0; c < row.size(); ++c)
            width[size_t(c)] = std::max(width[size_t(c)], int(row[c].size()));
    auto printRow = [&](const QStringList& row) {
        QString line;
        for (int c = 0; c < row.size(); ++c) {
            const bool last = c + 1 == row.size();
            const bool left = c < 3 || last;  // text columns left, numbers right
            if (c)
                line += QStringLiteral("  ");
            line += last   ? row[c]
                    : left ? row[c].leftJustified(width[size_t(c)])
                           : row[c].rightJustified(width[size_t(c)]);
        }
        while (line.endsWith(QLatin1Char(' ')))
            line.chop(1);
        out << line << '\n';
    };
    if (!table.empty()) {
        printRow(header);
        for (const QStringList& row : table)
            printRow(row);
    }

    int errors = 0;
    for (const Finding& f : r.findings)
        errors += findingIsError(f.kind) ? 1 : 0;
    const int warnings = int(r.findings.size()) - errors;
    if (!r.findings.empty()) {
        out << (table.empty() ? "" : "\n") << "Findings: " << errors << (errors == 1 ? " error, " : " errors, ")
            << warnings << (warnings == 1 ? " warning" : " warnings") << "\n";
        for (const Finding& f : r.findings)
            out << "  " << (findingIsError(f.kind) ? "error  " : "warning") << "  "
                << findingKindId(f.kind).leftJustified(12) << "  " << shown(index.entries[size_t(f.entry)].name) << ": "
                << shown(f.detail) << '\n';
    }
    const ScanProgress& p = r.scan.progress;
    const QLocale c = QLocale::c();
    out << (table.empty() && r.findings.empty() ? "" : "\n") << "Scanned " << c.toString(p.tensorsDone) << " of "
        << c.toString(p.tensorsTotal) << " tensors (" << formatBytes(std::int64_t(p.bytesTotal)) << ") of '"
        << shown(file) << "' in " << QString::number(double(elapsedMs) / 1000.0, 'f', 2) << " s: "
        << (r.findings.empty() ? QStringLiteral("no problems found")
                               : QStringLiteral("%1 %2, %3 %4")
                                     .arg(errors)
                                     .arg(errors == 1 ? QStringLiteral("error") : QStringLiteral("errors"))
                                     .arg(warnings)
                                     .arg(warnings == 1 ? QStringLiteral("warning") : QStringLiteral("warnings")));
    if (!r.scan.errors.empty())
        out << "; " << r.scan.errors.size() << (r.scan.errors.size() == 1 ? " tensor" : " tensors")
            << " could not be read";
    out << ".\n";
}

}  // namespace

int cmdScan(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Scan every tensor of FILE on all cores: min, max, mean, std (population), max|x| and L2 over the finite "
        "values, zero, NaN, +Inf and -Inf counts, and the findings: nan, inf, zeros (all zeros), constant, "
        "dead-rows and dead-columns (all-zero rows/columns), outlier (std or max|x| far from the same-named "
        "tensors of the other layers), fp16-limit (float16 values near overflow).\n"
        "Exit codes: 0 scanned (and no --fail-on finding), 1 the file or some of its tensors could not be read, "
        "2 wrong usage, 3 a finding of a --fail-on kind exists."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object.")});
    p.addOption({QStringLiteral("csv"), QStringLiteral("Print CSV: a header row, then one row per tensor.")});
    p.addOption({QStringLiteral("problems-only"), QStringLiteral("Only the tensors with findings (or unreadable).")});
    p.addOption({QStringLiteral("fail-on"),
                 QStringLiteral("Exit with status 3 when a finding of one of KINDS exists: comma-separated kinds "
                                "(nan,inf,zeros,constant,dead-rows,dead-columns,outlier,fp16-limit), 'errors' "
                                "(nan,inf) or 'any'."),
                 QStringLiteral("KINDS")});
    p.addOption(
        {QStringLiteral("threads"), QStringLiteral("Scanning threads (default: one per core)."), QStringLiteral("N")});
    addEngineOption(p);
    if (int rc = parse(p, "scan", args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 1) {
        err << "paramscope-cli scan: expected one FILE (see --help)\n";
        return kExitUsage;
    }
    const bool json = p.isSet(QStringLiteral("json")), csv = p.isSet(QStringLiteral("csv"));
    if (json && csv) {
        err << "paramscope-cli scan: give only one of --json and --csv\n";
        return kExitUsage;
    }
    QSet<int> failOn;
    if (p.isSet(QStringLiteral("fail-on"))) {
        const QStringList ids = p.value(QStringLiteral("fail-on")).split(QLatin1Char(','), Qt::SkipEmptyParts);
        if (ids.isEmpty()) {
            err << "paramscope-cli scan: --fail-on takes finding kinds (see --help)\n";
            return kExitUsage;
        }
        for (const QString& raw : ids) {
            const QString id = raw.trimmed().toLower();
            if (id == QLatin1String("any")) {
                for (int k = 0; k < kFindingKinds; ++k)
                    failOn.insert(k);
            } else if (id == QLatin1String("errors")) {
                failOn.insert(int(FindingKind::NaN));
                failOn.insert(int(FindingKind::Inf));
            } else if (auto k = findingKindFromId(id)) {
                failOn.insert(int(*k));
            } else {
                err << "paramscope-cli scan: --fail-on: unknown finding kind '" << shown(raw)
                    << "' (nan, inf, zeros, constant, dead-rows, dead-columns, outlier, fp16-limit, errors, any)\n";
                return kExitUsage;
            }
        }
    }
    ScanOptions so;
    if (p.isSet(QStringLiteral("threads"))) {
        bool ok = false;
        so.threads = p.value(QStringLiteral("threads")).toInt(&ok);
        if (!ok || so.threads < 1 || so.threads > 256) {
            err << "paramscope-cli scan: --threads takes a whole number from 1 to 256\n";
            return kExitUsage;
        }
    }
    const QString file = p.positionalArguments().first();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;

    QElapsedTimer timer;
    timer.start();
    const ScanResult scan = scanModel(*index, so);
    const qint64 elapsed = timer.elapsed();
    const std::vector<Finding> findings = allFindings(*index, scan.tensors);

    Report r{*index, scan, findings, std::vector<std::vector<FindingKind>>(index->entries.size()), {}};
    for (const Finding& f : findings)
        r.kindsOf[size_t(f.entry)].push_back(f.kind);
    const bool problemsOnly = p.isSet(QStringLiteral("problems-only"));
    for (int i = 0; i < int(index->entries.size()); ++i)
        if (!problemsOnly || !r.kindsOf[size_t(i)].empty() || !scan.tensors[size_t(i)].done())
            r.rows.push_back(i);

    if (json)
        writeJson(r, file, out);
    else if (csv)
        writeCsv(r, out);
    else
        writeText(r, file, elapsed, out);
    for (const auto& [entry, why] : scan.errors)
        err << "paramscope-cli scan: " << shown(why) << "\n";

    bool failed = false;
    for (const Finding& f : findings)
        failed = failed || failOn.contains(int(f.kind));
    if (failed)
        return kExitFinding;
    return scan.errors.empty() ? kExitOk : kExitError;
}

}  // namespace paramscope::cli
