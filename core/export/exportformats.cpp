// The table of export writers, one entry per format, and the public questions about
// formats (names, suffixes, file-dialog filters, which formats take several tensors)
// answered from it.
#include "export/writers_p.h"

#include <QFileInfo>

#include <algorithm>
#include <array>

namespace paramscope {

namespace exportdetail {

namespace {

constexpr std::array<ExportWriter, kExportFormatCount> kWriters{{
    {ExportFormat::Npy, "npy", "NumPy array (*.npy)", false, 0, 1, planNpy, writeNpy},
    // Preparing the tensors is a pass of its own, then the archive is written.
    {ExportFormat::Pt, "pt", "PyTorch tensor file (*.pt)", true, 2, 2, planPt, writePt},
    {ExportFormat::Safetensors, "safetensors", "safetensors (*.safetensors)", true, 1, 1, planSafetensors,
     writeSafetensors},
    {ExportFormat::Csv, "csv", "CSV text (*.csv)", false, 0, 1, planCsv, writeCsv},
}};

constexpr bool inFormatOrder()
{
    for (size_t i = 0; i < kWriters.size(); ++i)
        if (kWriters[i].format != ExportFormat(i))
            return false;
    return true;
}
static_assert(inFormatOrder(), "the writer table is indexed by ExportFormat");

}  // namespace

const std::array<ExportWriter, kExportFormatCount>& exportWriters()
{
    return kWriters;
}

const ExportWriter& exportWriter(ExportFormat f)
{
    return kWriters[size_t(f)];
}

}  // namespace exportdetail

using exportdetail::exportWriter;
using exportdetail::exportWriters;

QString exportFormatId(ExportFormat f)
{
    return QLatin1String(exportWriter(f).id);
}

QString exportFormatSuffix(ExportFormat f)
{
    return exportFormatId(f);
}

QString exportFormatFilter(ExportFormat f)
{
    return QLatin1String(exportWriter(f).filter);
}

std::optional<ExportFormat> exportFormatFromId(const QString& id)
{
    const QString s = id.trimmed().toLower();
    for (const auto& w : exportWriters())
        if (s == QLatin1String(w.id))
            return w.format;
    if (s == QLatin1String("pth"))
        return ExportFormat::Pt;
    return std::nullopt;
}

std::optional<ExportFormat> exportFormatFromPath(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix();
    if (suffix.isEmpty())
        return std::nullopt;
    return exportFormatFromId(suffix);
}

bool exportFormatHoldsSeveral(ExportFormat f)
{
    return exportWriter(f).holdsSeveral;
}

std::vector<ExportFormat> exportFormatsFor(int tensorCount)
{
    std::vector<const exportdetail::ExportWriter*> fit;
    for (const auto& w : exportWriters())
        if (tensorCount == 1 || (tensorCount > 1 && w.holdsSeveral))
            fit.push_back(&w);
    if (tensorCount > 1)
        std::stable_sort(fit.begin(), fit.end(), [](auto* a, auto* b) { return a->severalRank < b->severalRank; });
    std::vector<ExportFormat> formats;
    for (const auto* w : fit)
        formats.push_back(w->format);
    return formats;
}

}  // namespace paramscope
