// paramscope-cli export: write tensors to .npy, .pt, .safetensors or .csv.
#include "cli/commandline_p.h"
#include "export/export.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <sys/stat.h>
#include <unistd.h>

namespace paramscope::cli {

namespace {

/// -o -: the export goes to standard output. A pipe, terminal or device is written
/// directly (/dev/stdout); a regular file (`> out.npy`) gets a finished export copied in,
/// since replacing /dev/stdout's target by a rename would leave the shell's file behind.
ExportResult exportToStdout(const ModelIndex& index, const std::vector<int>& entries, ExportFormat format,
                            const ExportOptions& o, QTextStream& out)
{
    out.flush();
    struct stat st {};
    if (::fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
        return exportTensors(index, entries, QStringLiteral("/dev/stdout"), format, o);
    QTemporaryDir dir;
    if (!dir.isValid())
        return ExportResult::failure(
            ErrorKind::Io,
            QStringLiteral("cannot write to standard output: no temporary folder (%1)").arg(dir.errorString()));
    const QString tmp = dir.filePath(QStringLiteral("export.") + exportFormatSuffix(format));
    auto r = exportTensors(index, entries, tmp, format, o);
    if (!r)
        return r;
    QFile in(tmp), stdoutFile;
    if (!in.open(QIODevice::ReadOnly) ||
        !stdoutFile.open(STDOUT_FILENO, QIODevice::WriteOnly | QIODevice::Unbuffered, QFileDevice::DontCloseHandle))
        return ExportResult::failure(ErrorKind::Io,
                                     QStringLiteral("cannot write to standard output: ") + in.errorString());
    QByteArray buf;
    while (!(buf = in.read(1 << 20)).isEmpty()) {
        if (stdoutFile.write(buf) != buf.size())
            return ExportResult::failure(
                ErrorKind::Io, QStringLiteral("cannot write to standard output: ") + stdoutFile.errorString());
    }
    return r;
}

/// The format --format names or OUT's extension gives; nullopt after a usage error
/// (printed): an unknown --format, one that contradicts the extension, none for -o -.
std::optional<ExportFormat> formatFromOptions(const QCommandLineParser& p, const QString& outPath, bool toStdout,
                                              QTextStream& err)
{
    std::optional<ExportFormat> format;
    const auto fromExtension = toStdout ? std::nullopt : exportFormatFromPath(outPath);
    if (p.isSet(QStringLiteral("format"))) {
        format = exportFormatFromId(p.value(QStringLiteral("format")));
        if (!format) {
            err << "paramscope-cli export: unknown format '" << shown(p.value(QStringLiteral("format")))
                << "' (npy, pt, safetensors, csv)\n";
            return std::nullopt;
        }
        if (fromExtension && *fromExtension != *format) {
            err << "paramscope-cli export: '" << shown(QFileInfo(outPath).fileName()) << "' has the extension of "
                << exportFormatId(*fromExtension) << " but --format is " << exportFormatId(*format)
                << "; make them agree\n";
            return std::nullopt;
        }
    } else if (toStdout) {
        err << "paramscope-cli export: -o - (standard output) needs --format npy|pt|safetensors|csv\n";
        return std::nullopt;
    } else {
        format = fromExtension;
        if (!format) {
            err << "paramscope-cli export: cannot tell the format from '" << shown(QFileInfo(outPath).fileName())
                << "'; use an extension .npy, .pt, .safetensors or .csv, or --format\n";
            return std::nullopt;
        }
    }
    return format;
}

/// NAME's entry, or every match of the search; empty after an error (printed).
std::vector<int> selectedEntries(const ModelIndex& index, const QStringList& pos, const QString& file,
                                 const NameMatcher& matcher, QTextStream& err)
{
    std::vector<int> entries;
    if (pos.size() == 2) {
        const int i = index.findEntry(pos[1].toStdString());
        if (i < 0) {
            err << "paramscope-cli export: no tensor named '" << shown(pos[1]) << "' in '"
                << shown(QFileInfo(file).fileName()) << "' (try: paramscope-cli list FILE --contains ...)\n";
            return {};
        }
        entries.push_back(i);
    } else {
        entries = searchAndReport(index, matcher, "export", err);
        if (entries.empty()) {
            err << "paramscope-cli export: no tensor of '" << shown(QFileInfo(file).fileName()) << "' matches\n";
            return {};
        }
    }

    return entries;
}

}  // namespace

int cmdExport(const QStringList& args, QTextStream& out, QTextStream& err)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Export tensors of FILE to OUT. With NAME, the tensor of that exact name; with a search option, every "
        "match; with neither, every tensor. .npy and .csv hold one tensor; .pt (a dict name -> tensor for several) "
        "and .safetensors hold any number. The format follows OUT's extension unless --format is given. "
        "bfloat16 is widened to float32 in .npy; quantized tensors are written dequantized; the notes on stderr say "
        "so. "
        "The file is replaced atomically. OUT '-' writes to standard output (--format required); OUT may also be a "
        "device such as /dev/null (with --format). An extension of OUT that names another format than --format "
        "is refused."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The model file."));
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("Full dotted name of one tensor (optional)."),
                            QStringLiteral("[NAME]"));
    p.addOption({{QStringLiteral("o"), QStringLiteral("output")},
                 QStringLiteral("The file to write ('-': standard output)."),
                 QStringLiteral("OUT")});
    p.addOption({QStringLiteral("format"),
                 QStringLiteral("npy, pt, safetensors or csv (default: from OUT's extension)."),
                 QStringLiteral("FORMAT")});
    p.addOption(
        {QStringLiteral("csv-bool-words"), QStringLiteral("In .csv, write bool values as true/false (default 0/1).")});
    addSearchOptions(p);
    addEngineOption(p);
    if (int rc = parse(p, "export", args, out, err); rc >= 0)
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
    const bool toStdout = outPath == QLatin1String("-");
    const auto format = formatFromOptions(p, outPath, toStdout, err);
    if (!format)
        return kExitUsage;
    const bool searching = p.isSet(QStringLiteral("exact")) || p.isSet(QStringLiteral("contains")) ||
                           p.isSet(QStringLiteral("glob")) || p.isSet(QStringLiteral("regex"));
    const auto matcher = matcherFromOptions(p, "export", err);
    if (!matcher)
        return kExitUsage;
    if (searching && pos.size() == 2) {
        err << "paramscope-cli export: give either NAME or a search option, not both\n";
        return kExitUsage;
    }

    const QString file = pos.first();
    auto index = load(p, file, err);
    if (!index)
        return kExitError;
    const std::vector<int> entries = selectedEntries(*index, pos, file, *matcher, err);
    if (entries.empty())
        return kExitError;

    ExportOptions o;
    o.csvBoolAsWords = p.isSet(QStringLiteral("csv-bool-words"));
    const auto r = toStdout ? exportToStdout(*index, entries, *format, o, out)
                            : exportTensors(*index, entries, outPath, *format, o);
    if (!r) {
        err << "paramscope-cli export: " << shown(r.error()) << "\n";
        return kExitError;
    }
    for (const auto& n : r->notes)
        err << "paramscope-cli: note: " << shown(n) << "\n";
    // Writing to standard output or a device (-o -, /dev/null): keep stdout for the data alone.
    if (toStdout || !QFileInfo(outPath).isFile())
        return kExitOk;
    out << "wrote " << r->tensors << (r->tensors == 1 ? " tensor" : " tensors") << " (" << formatBytes(r->bytesWritten)
        << ") to " << shown(outPath) << "\n";
    return kExitOk;
}

}  // namespace paramscope::cli
