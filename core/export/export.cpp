// Export: checks a selection against the format, plans each tensor's dtype, and drives
// the format's writer (writers_p.h) into an atomic output (atomicoutput_p.h). A source
// truncated while it was read never commits, and the destination is never the file the
// model is read from.
#include "export/export.h"
#include "base/checkedsize.h"
#include "base/mappedfile.h"
#include "base/resourcelimits.h"
#include "base/textutil.h"
#include "export/atomicoutput_p.h"
#include "export/writers_p.h"

#include <QFileInfo>

#include <unordered_set>

namespace paramscope {

using namespace exportdetail;

QString exportCancelledMessage(const QString& outPath)
{
    return QStringLiteral("export to '%1' cancelled; nothing was written").arg(QFileInfo(outPath).fileName());
}

QStringList exportNotes(const ModelIndex& index, const std::vector<int>& entries, ExportFormat f)
{
    QStringList notes;
    bool shared = false;
    std::unordered_set<int> storages;
    for (int i : entries) {
        if (i < 0 || size_t(i) >= index.entries.size())
            continue;
        const auto& e = index.entries[size_t(i)];
        const Plan p = planFor(e, f);
        if (!p.note.isEmpty())
            notes << p.note;
        if (e.storage >= 0 && !storages.insert(e.storage).second)
            shared = true;
    }
    if (shared && exportFormatHoldsSeveral(f))
        notes << QStringLiteral(
            "some tensors share storage (tied weights or views): each name is written as its own copy");
    return notes;
}

namespace {

/// The selection, each entry once in the order given; fails on an index out of range, an
/// empty selection or several entries for a format that holds one.
Result<std::vector<int>> checkedSelection(const ModelIndex& index, const std::vector<int>& entriesIn,
                                          const QString& fileName, ExportFormat f)
{
    using R = Result<std::vector<int>>;
    std::vector<int> entries;
    std::unordered_set<int> seen;
    for (int i : entriesIn) {
        if (i < 0 || size_t(i) >= index.entries.size())
            return R::failure(
                ErrorKind::Failed,
                QStringLiteral("no tensor #%1 in '%2'").arg(QString::number(i), QFileInfo(index.filePath).fileName()));
        if (seen.insert(i).second)
            entries.push_back(i);
    }
    if (entries.empty())
        return R::failure(ErrorKind::Failed,
                          QStringLiteral("nothing to export to '%1': no tensor selected").arg(fileName));
    if (entries.size() > 1 && !exportFormatHoldsSeveral(f))
        return R::failure(ErrorKind::Unsupported,
                          QStringLiteral("a .%1 file holds one tensor, but %2 were selected; export them to "
                                         ".safetensors or .pt instead")
                              .arg(argText(exportFormatId(f)), argText(entries.size())));
    return entries;
}

/// What each entry becomes; fails on a dtype the format cannot take or past the export
/// size limit. `work` gets the bytes the writer walks, for progress.
Result<std::vector<Plan>> planAll(const ModelIndex& index, const std::vector<int>& entries, ExportFormat f,
                                  std::int64_t& work)
{
    using R = Result<std::vector<Plan>>;
    std::vector<Plan> plans;
    std::int64_t outBytes = 0;
    work = 0;
    for (int i : entries) {
        const auto& e = index.entries[size_t(i)];
        Plan p = planFor(e, f);
        if (p.out == DType::Unknown)
            return R::failure(ErrorKind::Unsupported, p.error);
        const auto size = e.sizeOverflow ? std::nullopt : checkedMul(e.numel, dtypeItemSize(p.out));
        if (!size || e.numel > limits::kMaxLogicalElements || *size > limits::kMaxExportBytes ||
            !(outBytes = saturatingAdd(outBytes, *size), outBytes <= limits::kMaxExportBytes))
            return R::failure(
                ErrorKind::Limit,
                QStringLiteral("cannot export %1 from '%2': %3 elements (%4) are more than one export writes (1 TiB)")
                    .arg(entryLabel(e), QFileInfo(index.filePath).fileName(), entryNumelText(e), entryBytesText(e)));
        plans.push_back(p);
        work = saturatingAdd(work, e.bytes);
    }
    work *= exportWriter(f).workPasses;
    return plans;
}

/// A source truncated while it was read gave zeros (or, written straight from the
/// mapping, EFAULT): never commit those, and say why the write failed.
Status checkSourcesStillThere(const ModelIndex& index, const std::vector<int>& entries, const QString& fileName)
{
    for (int entry : entries) {
        // The view worked when the writer took it: failing now, the source changed under
        // the export (the file shrank, or its disk went away).
        auto v = index.view(entry);
        Status src = v ? MappedFile::checkAddress(v->storage.data) : Status::failureFrom(v);
        if (!src)
            return Status::failure(ErrorKind::Corrupt, src.error() + QStringLiteral("; nothing was written to '") +
                                                           fileName + QLatin1Char('\''));
    }
    return {};
}

ExportResult exportTensorsChecked(const ModelIndex& index, const std::vector<int>& entriesIn, const QString& outPath,
                                  ExportFormat f, const ExportOptions& opt)
{
    const QString fileName = QFileInfo(outPath).fileName();
    if (isSourceFile(index, outPath))
        return ExportResult::failure(ErrorKind::Io,
                                     QStringLiteral("cannot export to '%1': it is the file the model is read from "
                                                    "(it would be replaced by the selection); choose another name")
                                         .arg(fileName));
    const auto entries = checkedSelection(index, entriesIn, fileName, f);
    if (!entries)
        return ExportResult::failureFrom(entries);
    std::int64_t work = 0;
    const auto plans = planAll(index, entries.value(), f, work);
    if (!plans)
        return ExportResult::failureFrom(plans);
    ExportReport report;
    report.path = outPath;
    report.format = f;
    report.tensors = int(entries->size());
    report.notes = exportNotes(index, entries.value(), f);

    Output out(outPath, opt, work);
    if (Status s = out.open(); !s)
        return ExportResult::failureFrom(s);
    Status s = exportWriter(f).write(WriteJob{index, entries.value(), plans.value(), opt, out});
    if (!out.cancelled())
        if (Status src = checkSourcesStillThere(index, entries.value(), fileName); !src)
            s = src;
    if (s)
        s = out.commit();
    if (!s) {
        if (out.cancelled())
            return ExportResult::failure(ErrorKind::Cancelled, exportCancelledMessage(outPath));
        return ExportResult::failureFrom(s);
    }
    report.bytesWritten = out.written();
    return report;
}

}  // namespace

ExportResult exportTensors(const ModelIndex& index, const std::vector<int>& entriesIn, const QString& outPath,
                           ExportFormat f, const ExportOptions& opt)
{
    // Allocation failures on a lying size end here as a message, never in terminate().
    auto failed = [&](ErrorKind kind, const QString& why) {
        return ExportResult::failure(
            kind, QStringLiteral("could not export to '%1' from '%2': %3; nothing was written")
                      .arg(QFileInfo(outPath).fileName(), QFileInfo(index.filePath).fileName(), why));
    };
    try {
        return exportTensorsChecked(index, entriesIn, outPath, f, opt);
    } catch (const std::bad_alloc&) {
        return failed(ErrorKind::Limit, QStringLiteral("not enough memory"));
    } catch (const std::exception& e) {
        return failed(ErrorKind::Failed, QString::fromUtf8(e.what()));
    }
}

}  // namespace paramscope
