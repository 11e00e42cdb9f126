// paramscope-cli list FILE [search] [--all] [--table | --tsv | --json]: the tensors in
// state_dict order, as an aligned table with a summary (on a terminal, or --table), one
// tab-separated line each (name, kind, dtype, shape, elements: piped, or --tsv), or one JSON
// object; --all adds what is not a tensor (metadata entries, classes not imported).
#include "cli/commandline_p.h"
#include "cli/commandoutput.h"

#include <QFileInfo>

#include <algorithm>
#include <array>
#include <map>
#include <unordered_set>

namespace paramscope::cli {

namespace {

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

/// The file name of an entry's shard, or empty when it is read from the model file.
QString shardName(const ModelIndex& index, const TensorEntry& e)
{
    if (e.sourceFile < 0 || e.sourceFile >= index.sourceFiles.size())
        return {};
    return QFileInfo(index.sourceFiles[e.sourceFile]).fileName();
}

QString belongsToName(const ModelIndex& index, const TensorEntry& e)
{
    if (e.belongsTo < 0 || size_t(e.belongsTo) >= index.entries.size())
        return {};
    return utf8ToQString(index.entries[size_t(e.belongsTo)].name);
}

void writeJson(const ModelIndex& index, const std::vector<int>& hits, const QString& file, bool all, QTextStream& out)
{
    const QString null = QStringLiteral("null");
    out << "{\"file\": " << jsonString(file) << ", \"format\": " << jsonString(modelFormatId(index.format))
        << ", \"engine\": " << jsonString(index.engine) << ", \"entries\": [";
    bool first = true;
    for (int i : hits) {
        const auto& e = index.entries[size_t(i)];
        out << (first ? "\n  " : ",\n  ");
        first = false;
        out << "{\"name\": " << jsonString(e.name) << ", \"kind\": \"" << tensorKindName(e.kind).data()
            << "\", \"dtype\": \"" << dtypeName(e.dtype).data() << "\", \"shape\": " << shapeJson(e.shape)
            << ", \"numel\": " << entryNumelDecimal(e).c_str() << ", \"bytes\": " << entryBytesDecimal(e).c_str()
            << ", \"requires_grad\": " << (e.requiresGrad ? "true" : "false") << ", \"shared_with\": "
            << (e.sharedWith >= 0 ? jsonString(index.entries[size_t(e.sharedWith)].name) : null);
        if (all) {
            const QString belongs = belongsToName(index, e), shard = shardName(index, e);
            const std::string access = index.access(i);
            out << ", \"belongs_to\": " << (belongs.isEmpty() ? null : jsonString(belongs))
                << ", \"shard\": " << (shard.isEmpty() ? null : jsonString(shard))
                << ", \"access\": " << (access.empty() ? null : jsonString(access));
        }
        out << "}";
    }
    out << (first ? "]" : "\n]");
    if (all) {
        out << ",\n\"metadata\": [";
        first = true;
        for (const MetadataEntry& m : index.metadataEntries) {
            out << (first ? "\n  " : ",\n  ") << "{\"name\": " << jsonString(m.name)
                << ", \"type\": " << jsonString(m.type) << ", \"value\": " << jsonString(m.value) << "}";
            first = false;
        }
        out << (first ? "]" : "\n]") << ",\n\"foreign_classes\": [";
        for (qsizetype k = 0; k < index.foreignClasses.size(); ++k)
            out << (k ? ", " : "") << jsonString(index.foreignClasses[k]);
        out << "],\n\"no_tensors_reason\": "
            << (index.noTensorsReason.isEmpty() ? null : jsonString(index.noTensorsReason));
    }
    out << "}\n";
}

/// "3 parameters", "1 buffer".
QString counted(std::int64_t n, const char* one, const char* many)
{
    return formatCount(n) + QLatin1Char(' ') + QLatin1String(n == 1 ? one : many);
}

/// The table's summary: tensors and elements per kind, the size per dtype and in all. An
/// entry sharing the storage of one listed before it (tied weights, views) adds nothing to
/// the elements and sizes, as in `tree`.
void writeSummary(const ModelIndex& index, const std::vector<int>& entries, QTextStream& out)
{
    struct Sum {
        std::int64_t tensors = 0, numel = 0, bytes = 0;
        void add(const TensorEntry& e, bool counted)
        {
            ++tensors;
            if (counted) {
                numel = saturatingAdd(numel, e.numel);
                bytes = saturatingAdd(bytes, e.bytes);
            }
        }
    };
    Sum kinds[4], total;
    std::map<std::string_view, Sum> dtypes;  // by name: alphabetical
    std::unordered_set<int> groups;          // the first entry of each storage counted
    std::int64_t shared = 0;
    for (int i : entries) {
        const auto& e = index.entries[size_t(i)];
        const bool counted = groups.insert(e.sharedWith >= 0 ? e.sharedWith : i).second;
        shared += counted ? 0 : 1;
        kinds[int(e.kind)].add(e, counted);
        dtypes[dtypeName(e.dtype)].add(e, counted);
        total.add(e, counted);
    }
    const auto elements = [](std::int64_t n) {
        return formatSize(n, false) + QLatin1String(n == 1 ? " element" : " elements");
    };
    out << "\n"
        << counted(total.tensors, "tensor", "tensors") << ": "
        << counted(kinds[int(TensorKind::Parameter)].tensors, "parameter", "parameters") << " ("
        << elements(kinds[int(TensorKind::Parameter)].numel) << "), "
        << counted(kinds[int(TensorKind::Buffer)].tensors, "buffer", "buffers") << " ("
        << elements(kinds[int(TensorKind::Buffer)].numel) << ")";
    if (const Sum& t = kinds[int(TensorKind::Tensor)]; t.tensors)
        out << ", " << formatCount(t.tensors) << " of kind tensor (" << elements(t.numel) << ")";
    if (const Sum& a = kinds[int(TensorKind::Array)]; a.tensors)
        out << ", " << counted(a.tensors, "NumPy array", "NumPy arrays") << " (" << elements(a.numel) << ")";
    out << "\n";
    // One aligned line per dtype, then the total: label, elements, size.
    std::vector<std::array<QString, 3>> lines;
    for (const auto& [name, sum] : dtypes)
        lines.push_back(
            {QLatin1String(name.data(), qsizetype(name.size())), elements(sum.numel), formatSize(sum.bytes, true)});
    lines.push_back({QStringLiteral("total"), elements(total.numel), formatSize(total.bytes, true)});
    int w[3] = {0, 0, 0};
    for (const auto& l : lines)
        for (int k = 0; k < 3; ++k)
            w[k] = std::max(w[k], int(l[size_t(k)].size()));
    for (size_t k = 0; k < lines.size(); ++k) {
        const bool last = k + 1 == lines.size();
        out << lines[k][0].leftJustified(w[0]) << "  " << lines[k][1].rightJustified(w[1]) << "  "
            << lines[k][2].rightJustified(w[2]);
        if (last) {
            out << "  (" << formatSize(total.bytes, false) << " bytes";
            if (shared)
                out << "; " << counted(shared, "tensor shares", "tensors share")
                    << " the storage of one listed before, counted once";
            out << ")";
        }
        out << "\n";
    }
}

/// The aligned table: a header row, one row per entry (a name wider than the name column
/// on a line of its own, the row's other columns below it), the summary.
void writeTable(const ModelIndex& index, const std::vector<int>& entries, bool all, QTextStream& out)
{
    const QStringList header{QStringLiteral("NAME"),  QStringLiteral("KIND"),     QStringLiteral("DTYPE"),
                             QStringLiteral("SHAPE"), QStringLiteral("ELEMENTS"), QStringLiteral("SIZE")};
    std::vector<QStringList> rows;
    rows.reserve(entries.size());
    std::vector<int> names;
    for (int i : entries) {
        const auto& e = index.entries[size_t(i)];
        rows.push_back({shown(e.name), QLatin1String(tensorKindName(e.kind).data()),
                        QLatin1String(dtypeName(e.dtype).data()), formatShape(e.shape), entryNumelText(e),
                        entryBytesText(e)});
        names.push_back(int(rows.back()[0].size()));
    }
    int w[6];
    w[0] = std::max(int(header[0].size()), cappedColumnWidth(std::move(names)));
    for (int k = 1; k < 6; ++k) {
        w[k] = int(header[k].size());
        for (const auto& r : rows)
            w[k] = std::max(w[k], int(r[k].size()));
    }
    const auto writeRow = [&](const QStringList& r) {
        if (r[0].size() > w[0])
            out << r[0] << "\n" << QString(w[0], QLatin1Char(' '));
        else
            out << r[0].leftJustified(w[0]);
        out << "  " << r[1].leftJustified(w[1]) << "  " << r[2].leftJustified(w[2]) << "  " << r[3].leftJustified(w[3])
            << "  " << r[4].rightJustified(w[4]) << "  " << r[5].rightJustified(w[5]) << "\n";
    };
    writeRow(header);
    for (const auto& r : rows)
        writeRow(r);
    writeSummary(index, entries, out);
    if (!all)
        return;
    out << "\n"
        << counted(qint64(index.metadataEntries.size()), "metadata value", "metadata values")
        << " (values of the file that are not tensors)\n";
    if (index.metadataEntries.empty())
        return;
    std::vector<QStringList> meta;
    std::vector<int> metaNames;
    int wType = int(QStringLiteral("TYPE").size());
    for (const MetadataEntry& m : index.metadataEntries) {
        meta.push_back({shown(m.name), shown(m.type), shown(m.value)});
        metaNames.push_back(int(meta.back()[0].size()));
        wType = std::max(wType, int(meta.back()[1].size()));
    }
    const int wName = std::max(int(QStringLiteral("NAME").size()), cappedColumnWidth(std::move(metaNames)));
    meta.insert(meta.begin(), QStringList{QStringLiteral("NAME"), QStringLiteral("TYPE"), QStringLiteral("VALUE")});
    for (const auto& m : meta) {
        if (m[0].size() > wName)
            out << m[0] << "\n" << QString(wName, QLatin1Char(' '));
        else
            out << m[0].leftJustified(wName);
        out << "  " << m[1].leftJustified(wType) << "  " << m[2] << "\n";
    }
}

}  // namespace

void writeList(const ModelIndex& index, const std::vector<int>& entries, const QString& file, ListOutput options,
               QTextStream& out)
{
    if (options.json) {
        writeJson(index, entries, file, options.all, out);
        return;
    }
    if (options.table) {
        writeTable(index, entries, options.all, out);
        return;
    }
    for (int i : entries) {
        const auto& e = index.entries[size_t(i)];
        out << shown(e.name) << '\t' << tensorKindName(e.kind).data() << '\t' << dtypeName(e.dtype).data() << '\t'
            << formatShape(e.shape) << '\t' << entryNumelDecimal(e).c_str() << '\n';
    }
    if (!options.all)
        return;
    out << "# metadata: " << index.metadataEntries.size() << (index.metadataEntries.size() == 1 ? " value" : " values")
        << " (name, type, value)\n";
    for (const MetadataEntry& m : index.metadataEntries)
        out << shown(m.name) << '\t' << shown(m.type) << '\t' << shown(m.value) << '\n';
}

int cmdList(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "List the tensors of FILE in state_dict order. On a terminal (or with --table): an aligned table (name, "
        "kind, dtype, shape, elements, size) and a summary (tensors and elements per kind, size per dtype, the total "
        "with storage shared by several names counted once). Piped (or with --tsv): one line per tensor, name, kind, "
        "dtype, shape, elements tab-separated, no header. Without a search option every tensor is listed."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    addSearchOptions(p);
    p.addOption({QStringLiteral("all"),
                 QStringLiteral("Also list what is not a tensor: after the tensors a '# metadata' line, then "
                                "name, type, value (tab-separated; in the table, aligned under a header). With "
                                "--json: the \"metadata\", \"foreign_classes\" and \"no_tensors_reason\" members.")});
    p.addOption({QStringLiteral("table"),
                 QStringLiteral("Print the aligned table with its summary even when the output is not a terminal.")});
    p.addOption({QStringLiteral("tsv"),
                 QStringLiteral("Print tab-separated lines (no header, no summary) even on a terminal.")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object instead.")});
    addEngineOption(p);
    if (int rc = parse(p, "list", args, out, err); rc >= 0)
        return rc;
    if (p.positionalArguments().size() != 1) {
        err << "paramscope-cli list: expected one FILE (see --help)\n";
        return kExitUsage;
    }
    const int forms = int(p.isSet(QStringLiteral("table"))) + int(p.isSet(QStringLiteral("tsv"))) +
                      int(p.isSet(QStringLiteral("json")));
    if (forms > 1) {
        err << "paramscope-cli list: give only one of --table, --tsv, --json\n";
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
    ListOutput o;
    o.json = p.isSet(QStringLiteral("json"));
    o.all = p.isSet(QStringLiteral("all"));
    o.table = p.isSet(QStringLiteral("table")) || (!o.json && !p.isSet(QStringLiteral("tsv")) && writesToTerminal(out));
    writeList(*index, hits, file, o, out);
    return kExitOk;
}

}  // namespace paramscope::cli
