// paramscope-cli diff A B [--json] [--atol X] [--rtol Y] [--map FROM=TO]... [--strip-prefix P]
// [--no-detect] [--changed-only] [--threads N]: two models compared tensor by tensor
// (core/diff), with an exit status like diff(1)'s.
#include "cli/commandline_p.h"
#include "diff/diff.h"

#include <QElapsedTimer>
#include <QLocale>

#include <cmath>

namespace paramscope::cli {

namespace {

constexpr int kDiffSame = 0, kDiffDifferent = 1, kDiffTrouble = 2;

QString number(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

QString jsonNumber(bool valid, double v)
{
    return valid && std::isfinite(v) ? number(v) : QStringLiteral("null");
}

QString shapeJson(const Dims& shape)
{
    QString s = QStringLiteral("[");
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? QStringLiteral(",") : QString()) + QString::number(shape[i]);
    return s + QLatin1Char(']');
}

QString brief(double v)
{
    if (std::isnan(v))
        return QStringLiteral("-");
    return QString::number(v, 'g', 4);
}

struct Sides {
    const ModelIndex& a;
    const ModelIndex& b;
    const TensorEntry* ea(const Alignment::Pair& p) const { return p.a >= 0 ? &a.entries[size_t(p.a)] : nullptr; }
    const TensorEntry* eb(const Alignment::Pair& p) const { return p.b >= 0 ? &b.entries[size_t(p.b)] : nullptr; }
};

QString mappingText(const Alignment& al)
{
    QStringList parts;
    if (!al.stripA.empty())
        parts << QStringLiteral("'%1' stripped from A's names").arg(shown(al.stripA));
    if (!al.stripB.empty())
        parts << QStringLiteral("'%1' stripped from B's names").arg(shown(al.stripB));
    for (const NameMapping& m : al.map)
        parts << QStringLiteral("A's '%1' read as '%2'").arg(shown(m.from), shown(m.to));
    if (parts.isEmpty())
        return QStringLiteral("names as they are");
    return parts.join(QStringLiteral(", ")) + (al.detected ? QStringLiteral(" (detected)") : QString());
}

void writeJson(const DiffResult& r, const Sides& s, const QString& fileA, const QString& fileB,
               const std::vector<int>& rows, QTextStream& out)
{
    const Alignment& al = r.alignment;
    const QString null = QStringLiteral("null");
    out << "{\"a\": " << jsonString(fileA) << ", \"b\": " << jsonString(fileB)
        << ", \"format_a\": " << jsonString(modelFormatId(s.a.format))
        << ", \"format_b\": " << jsonString(modelFormatId(s.b.format))
        << ",\n\"mapping\": {\"strip_a\": " << jsonString(al.stripA) << ", \"strip_b\": " << jsonString(al.stripB)
        << ", \"detected\": " << (al.detected ? "true" : "false") << ", \"map\": [";
    for (size_t i = 0; i < al.map.size(); ++i)
        out << (i ? ", " : "") << "{\"from\": " << jsonString(al.map[i].from)
            << ", \"to\": " << jsonString(al.map[i].to) << "}";
    out << "], \"matched\": " << al.matched() << ", \"matched_without_mapping\": " << al.matchedBefore
        << "},\n\"tolerance\": {\"atol\": " << number(r.atol) << ", \"rtol\": " << number(r.rtol)
        << "},\n\"summary\": {";
    const auto counts = r.counts();
    bool first = true;
    for (int k = 0; k < kDiffStatuses; ++k) {
        const auto st = DiffStatus(k);
        if (st == DiffStatus::Pending && counts[size_t(k)] == 0)
            continue;
        out << (first ? "" : ", ") << jsonString(diffStatusId(st)) << ": " << counts[size_t(k)];
        first = false;
    }
    out << ", \"same\": " << (r.same() ? "true" : "false") << "},\n\"tensors\": [";
    first = true;
    for (int i : rows) {
        const Alignment::Pair& p = al.pairs[size_t(i)];
        const PairDiff& d = r.pairs[size_t(i)];
        const TensorEntry* ea = s.ea(p);
        const TensorEntry* eb = s.eb(p);
        out << (first ? "\n  " : ",\n  ");
        first = false;
        const bool c = d.compared();
        out << "{\"name\": " << jsonString(p.key) << ", \"status\": \"" << diffStatusId(d.status) << "\""
            << ", \"name_a\": " << (ea ? jsonString(ea->name) : null)
            << ", \"name_b\": " << (eb ? jsonString(eb->name) : null) << ", \"dtype_a\": "
            << (ea ? QStringLiteral("\"%1\"").arg(QLatin1String(dtypeName(ea->dtype).data())) : null)
            << ", \"dtype_b\": "
            << (eb ? QStringLiteral("\"%1\"").arg(QLatin1String(dtypeName(eb->dtype).data())) : null)
            << ", \"shape_a\": " << (ea ? shapeJson(ea->shape) : null)
            << ", \"shape_b\": " << (eb ? shapeJson(eb->shape) : null)
            << ", \"max_abs_diff\": " << jsonNumber(c, d.maxAbsDiff)
            << ", \"mean_abs_diff\": " << jsonNumber(c, d.meanAbsDiff()) << ", \"rel_l2\": " << jsonNumber(c, d.relL2())
            << ", \"cosine\": " << jsonNumber(c, d.cosine())
            << ", \"changed_fraction\": " << jsonNumber(c, d.changedFraction());
        if (c)
            out << ", \"changed\": " << d.changed << ", \"elements\": " << d.elements << ", \"nan_a\": " << d.nanA
                << ", \"nan_b\": " << d.nanB << ", \"inf_a\": " << d.infA << ", \"inf_b\": " << d.infB
                << ", \"nan_appeared\": " << d.nanAppeared << ", \"inf_appeared\": " << d.infAppeared;
        if (d.status == DiffStatus::Failed)
            out << ", \"error\": " << jsonString(d.error);
        out << "}";
    }
    out << (first ? "]" : "\n]") << "}\n";
}

void writeText(const DiffResult& r, const Sides& s, const QString& fileA, const QString& fileB,
               const std::vector<int>& rows, qint64 ms, QTextStream& out)
{
    const Alignment& al = r.alignment;
    const QLocale c = QLocale::c();
    out << "A: " << shown(fileA) << " (" << modelFormatId(s.a.format) << ", "
        << c.toString(qlonglong(s.a.entries.size())) << " tensors)\n"
        << "B: " << shown(fileB) << " (" << modelFormatId(s.b.format) << ", "
        << c.toString(qlonglong(s.b.entries.size())) << " tensors)\n"
        << "Names: " << mappingText(al) << "; " << c.toString(al.matched()) << " aligned, " << al.onlyA()
        << " only in A, " << al.onlyB() << " only in B\n"
        << "Tolerance: |b - a| <= " << number(r.atol) << " + " << number(r.rtol) << " * |a|\n\n";
    const QStringList header{QStringLiteral("status"),     QStringLiteral("name"),     QStringLiteral("dtype"),
                             QStringLiteral("shape"),      QStringLiteral("max|b-a|"), QStringLiteral("mean|b-a|"),
                             QStringLiteral("rel L2"),     QStringLiteral("cosine"),   QStringLiteral("changed"),
                             QStringLiteral("new NaN/Inf")};
    std::vector<QStringList> table;
    for (int i : rows) {
        const Alignment::Pair& p = al.pairs[size_t(i)];
        const PairDiff& d = r.pairs[size_t(i)];
        const TensorEntry* ea = s.ea(p);
        const TensorEntry* eb = s.eb(p);
        auto dt = [](const TensorEntry* e) { return e ? QString::fromLatin1(dtypeName(e->dtype).data()) : QString(); };
        auto sh = [](const TensorEntry* e) { return e ? formatShape(e->shape) : QString(); };
        QString dtype =
            ea && eb && ea->dtype != eb->dtype ? dt(ea) + QStringLiteral(" -> ") + dt(eb) : dt(ea ? ea : eb);
        QString shape =
            ea && eb && ea->shape != eb->shape ? sh(ea) + QStringLiteral(" -> ") + sh(eb) : sh(ea ? ea : eb);
        QStringList row{diffStatusId(d.status), shown(p.key), dtype, shape};
        if (d.compared())
            row << brief(d.maxAbsDiff) << brief(d.meanAbsDiff()) << brief(d.relL2()) << brief(d.cosine())
                << QStringLiteral("%1%").arg(QString::number(100.0 * d.changedFraction(), 'g', 3))
                << (d.nanAppeared + d.infAppeared ? QString::number(d.nanAppeared + d.infAppeared) : QString());
        else if (d.status == DiffStatus::Failed)
            row << shown(d.error);
        table.push_back(std::move(row));
    }
    std::vector<int> width(size_t(header.size()), 0);
    for (int k = 0; k < header.size(); ++k)
        width[size_t(k)] = int(header[k].size());
    for (const QStringList& row : table)
        if (row.size() == header.size())
            for (int k = 0; k < row.size(); ++k)
                width[size_t(k)] = std::max(width[size_t(k)], int(row[k].size()));
        else
            for (int k = 0; k < std::min<int>(4, int(row.size())); ++k)
                width[size_t(k)] = std::max(width[size_t(k)], int(row[k].size()));
    auto print = [&](const QStringList& row) {
        QString line;
        for (int k = 0; k < row.size(); ++k) {
            if (k)
                line += QStringLiteral("  ");
            const bool last = k + 1 == row.size();
            if (last)
                line += row[k];
            else if (k < 4)
                line += row[k].leftJustified(width[size_t(k)]);
            else
                line += row[k].rightJustified(width[size_t(k)]);
        }
        while (line.endsWith(QLatin1Char(' ')))
            line.chop(1);
        out << line << '\n';
    };
    if (!table.empty()) {
        print(header);
        for (const QStringList& row : table)
            print(row);
        out << '\n';
    }
    const auto counts = r.counts();
    QStringList parts;
    for (int k = 0; k < kDiffStatuses; ++k)
        if (counts[size_t(k)] > 0)
            parts << QStringLiteral("%1 %2").arg(c.toString(counts[size_t(k)]), diffStatusId(DiffStatus(k)));
    out << (r.same() ? "Same" : "Different") << " (" << parts.join(QStringLiteral(", ")) << ") in "
        << QString::number(double(ms) / 1000.0, 'f', 2) << " s.\n";
}

}  // namespace

int cmdDiff(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Compare the tensors of A and B (any two formats ParamScope reads) by name: each pair identical (same bytes), "
        "close (every value within the tolerance), changed, dtype-changed (compared after widening), "
        "shape-changed, only-a, only-b or error, with max|b-a|, mean|b-a|, ||b-a||/||a||, cosine similarity and the "
        "fraction of elements changed. A prefix one side's names have and the other's lack (module., _orig_mod., "
        "model., ...) is detected and stripped unless --strip-prefix, --map or --no-detect say otherwise.\n"
        "Exit codes (like diff's): 0 the same within the tolerance, 1 different, 2 trouble (a file that cannot be "
        "read, wrong usage)."));
    p.addPositionalArgument(QStringLiteral("A"), QStringLiteral("The first model file."));
    p.addPositionalArgument(QStringLiteral("B"), QStringLiteral("The second model file."));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object.")});
    p.addOption({QStringLiteral("atol"), QStringLiteral("Absolute tolerance (default 0)."), QStringLiteral("X")});
    p.addOption(
        {QStringLiteral("rtol"), QStringLiteral("Relative tolerance, of |a| (default 0)."), QStringLiteral("Y")});
    p.addOption({QStringLiteral("map"),
                 QStringLiteral("Read A's names starting with FROM as starting with TO (repeatable)."),
                 QStringLiteral("FROM=TO")});
    p.addOption({QStringLiteral("strip-prefix"),
                 QStringLiteral("Strip P from the names of both files that start with it (no detection)."),
                 QStringLiteral("P")});
    p.addOption({QStringLiteral("no-detect"), QStringLiteral("Do not detect a prefix to strip.")});
    p.addOption({QStringLiteral("changed-only"),
                 QStringLiteral("List only the tensors that are not identical or within tolerance.")});
    p.addOption(
        {QStringLiteral("threads"), QStringLiteral("Comparing threads (default: one per core)."), QStringLiteral("N")});
    addEngineOption(p);
    if (int rc = parse(p, "diff", args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 2) {
        err << "paramscope-cli diff: expected two files, A and B (see --help)\n";
        return kDiffTrouble;
    }
    DiffOptions o;
    for (const char* name : {"atol", "rtol"}) {
        if (!p.isSet(QLatin1String(name)))
            continue;
        bool ok = false;
        const double v = p.value(QLatin1String(name)).toDouble(&ok);
        if (!ok || !(v >= 0) || !std::isfinite(v)) {
            err << "paramscope-cli diff: --" << name << " takes a number >= 0\n";
            return kDiffTrouble;
        }
        (name[0] == 'a' ? o.atol : o.rtol) = v;
    }
    if (p.isSet(QStringLiteral("threads"))) {
        bool ok = false;
        o.threads = p.value(QStringLiteral("threads")).toInt(&ok);
        if (!ok || o.threads < 1 || o.threads > 256) {
            err << "paramscope-cli diff: --threads takes a whole number from 1 to 256\n";
            return kDiffTrouble;
        }
    }
    AlignOptions ao;
    for (const QString& m : p.values(QStringLiteral("map"))) {
        auto nm = parseNameMapping(m);
        if (!nm) {
            err << "paramscope-cli diff: --map takes FROM=TO, not '" << shown(m) << "'\n";
            return kDiffTrouble;
        }
        ao.map.push_back(*nm);
    }
    if (p.isSet(QStringLiteral("strip-prefix"))) {
        const std::string prefix = p.value(QStringLiteral("strip-prefix")).toStdString();
        ao.stripA = prefix;
        ao.stripB = prefix;
    }
    ao.detect = !p.isSet(QStringLiteral("no-detect")) && ao.map.empty();

    const QString fileA = p.positionalArguments().at(0), fileB = p.positionalArguments().at(1);
    auto a = load(p, fileA, err);
    if (!a)
        return kDiffTrouble;
    auto b = load(p, fileB, err);
    if (!b)
        return kDiffTrouble;

    QElapsedTimer timer;
    timer.start();
    const Alignment al = alignModels(*a, *b, ao);
    const DiffResult r = diffModels(*a, *b, al, o);
    const qint64 ms = timer.elapsed();

    std::vector<int> rows;
    const bool changedOnly = p.isSet(QStringLiteral("changed-only"));
    for (int i = 0; i < int(al.pairs.size()); ++i) {
        const DiffStatus st = r.pairs[size_t(i)].status;
        if (!changedOnly || (st != DiffStatus::Identical && st != DiffStatus::Close))
            rows.push_back(i);
    }
    const Sides sides{*a, *b};
    if (p.isSet(QStringLiteral("json")))
        writeJson(r, sides, fileA, fileB, rows, out);
    else
        writeText(r, sides, fileA, fileB, rows, ms, out);
    bool failed = false;
    for (const PairDiff& d : r.pairs)
        if (d.status == DiffStatus::Failed) {
            err << "paramscope-cli diff: " << shown(d.error) << "\n";
            failed = true;
        }
    if (failed)
        return kDiffTrouble;
    return r.same() ? kDiffSame : kDiffDifferent;
}

}  // namespace paramscope::cli
