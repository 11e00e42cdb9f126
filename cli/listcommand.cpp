// paramscope-cli list FILE [search] [--all] [--json]: the tensors in state_dict order, one
// per line (name, kind, dtype, shape, elements), or one JSON object; --all adds what is not
// a tensor (metadata entries, classes not imported).
#include "cli/commandline_p.h"
#include "cli/commandoutput.h"

#include <QFileInfo>

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

}  // namespace

void writeList(const ModelIndex& index, const std::vector<int>& entries, const QString& file, ListOutput options,
               QTextStream& out)
{
    if (options.json) {
        writeJson(index, entries, file, options.all, out);
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
    p.setApplicationDescription(
        QStringLiteral("List the tensors of FILE in state_dict order, one per line: name, kind, dtype, shape, "
                       "elements (tab-separated). Without a search option every tensor is listed."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    addSearchOptions(p);
    p.addOption({QStringLiteral("all"),
                 QStringLiteral("Also list what is not a tensor: after the tensors a '# metadata' line, then "
                                "name, type, value (tab-separated). With --json: the \"metadata\", "
                                "\"foreign_classes\" and \"no_tensors_reason\" members.")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object instead.")});
    addEngineOption(p);
    if (int rc = parse(p, "list", args, out, err); rc >= 0)
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
    writeList(*index, hits, file, ListOutput{p.isSet(QStringLiteral("json")), p.isSet(QStringLiteral("all"))}, out);
    return kExitOk;
}

}  // namespace paramscope::cli
