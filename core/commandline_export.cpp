// paramscope-cli export: write tensors to .npy, .pt, .safetensors or .csv.
#include "commandline_p.h"
#include "export.h"

#include <QFileInfo>

namespace paramscope::cli {

int cmdExport(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Export tensors of FILE to OUT. With NAME, the tensor of that exact name; with a search option, every "
        "match; with neither, every tensor. .npy and .csv hold one tensor; .pt (a dict name -> tensor for several) "
        "and .safetensors hold any number. The format follows OUT's extension unless --format is given. "
        "bfloat16 is widened to float32 in .npy; quantized tensors are written dequantized; the notes on stderr say so. "
        "The file is replaced atomically; OUT may also be a device such as /dev/stdout (with --format)."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("Full dotted name of one tensor (optional)."),
                            QStringLiteral("[NAME]"));
    p.addOption({{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("The file to write."),
                 QStringLiteral("OUT")});
    p.addOption({QStringLiteral("format"), QStringLiteral("npy, pt, safetensors or csv (default: from OUT's extension)."),
                 QStringLiteral("FORMAT")});
    p.addOption({QStringLiteral("csv-bool-words"), QStringLiteral("In .csv, write bool values as true/false (default 0/1).")});
    addSearchOptions(p);
    addEngineOption(p);
    if (int rc = parse(p, args, out, err); rc >= 0)
        return rc;

    const QStringList pos = p.positionalArguments();
    if (pos.isEmpty() || pos.size() > 2) {
        err << "paramscope-cli export: expected FILE and at most one NAME (see --help)\n";
        return kExitUsage;
    }
    const QString outPath = p.value(QStringLiteral("output"));
    if (outPath.isEmpty()) {
        err << "paramscope-cli export: give the output file with -o OUT\n";
        return kExitUsage;
    }
    std::optional<ExportFormat> format;
    if (p.isSet(QStringLiteral("format"))) {
        format = exportFormatFromId(p.value(QStringLiteral("format")));
        if (!format) {
            err << "paramscope-cli export: unknown format '" << p.value(QStringLiteral("format"))
                << "' (npy, pt, safetensors, csv)\n";
            return kExitUsage;
        }
    } else {
        format = exportFormatFromPath(outPath);
        if (!format) {
            err << "paramscope-cli export: cannot tell the format from '" << QFileInfo(outPath).fileName()
                << "'; use an extension .npy, .pt, .safetensors or .csv, or --format\n";
            return kExitUsage;
        }
    }
    QString why;
    const auto query = searchFromOptions(p, &why);
    if (!why.isEmpty()) {
        err << "paramscope-cli export: " << why << "\n";
        return kExitUsage;
    }
    if (query && pos.size() == 2) {
        err << "paramscope-cli export: give either NAME or a search option, not both\n";
        return kExitUsage;
    }
    NameMatcher matcher(query.value_or(SearchQuery{}));
    if (!matcher.isValid()) {
        err << "paramscope-cli export: invalid pattern at position " << matcher.errorOffset() << ": "
            << matcher.errorString() << "\n";
        return kExitUsage;
    }

    const QString file = pos.first();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    std::vector<int> entries;
    if (pos.size() == 2) {
        const int i = index->findEntry(pos[1].toStdString());
        if (i < 0) {
            err << "paramscope-cli export: no tensor named '" << pos[1] << "' in '" << QFileInfo(file).fileName()
                << "' (try: paramscope-cli list FILE --contains ...)\n";
            return kExitError;
        }
        entries.push_back(i);
    } else {
        entries = searchEntries(*index, matcher);
        if (entries.empty()) {
            err << "paramscope-cli export: no tensor of '" << QFileInfo(file).fileName() << "' matches\n";
            return kExitError;
        }
    }

    ExportOptions o;
    o.csvBoolAsWords = p.isSet(QStringLiteral("csv-bool-words"));
    const auto r = exportTensors(*index, entries, outPath, *format, o);
    if (!r) {
        err << "paramscope-cli export: " << r.error() << "\n";
        return kExitError;
    }
    for (const auto& n : r->notes)
        err << "paramscope-cli: note: " << n << "\n";
    // Writing to a device (-o /dev/stdout): keep that stream for the data alone.
    if (!QFileInfo(outPath).isFile())
        return kExitOk;
    out << "wrote " << r->tensors << (r->tensors == 1 ? " tensor" : " tensors") << " (" << formatBytes(r->bytesWritten)
        << ") to " << outPath << "\n";
    return kExitOk;
}

}  // namespace paramscope::cli
