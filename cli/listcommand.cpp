// paramscope-cli list FILE [search] [--json]: the tensors in state_dict order, one per
// line (name, kind, dtype, shape, elements), or one JSON object.
#include "cli/commandline_p.h"

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

}  // namespace

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
            out << shown(e.name) << '\t' << tensorKindName(e.kind).data() << '\t' << dtypeName(e.dtype).data() << '\t'
                << formatShape(e.shape) << '\t' << entryNumelDecimal(e).c_str() << '\n';
        }
    }
    return kExitOk;
}

}  // namespace paramscope::cli
