#pragma once
// Internal to core/export: the table of export writers, one entry per format (its id, the
// file-dialog filter, whether one file holds several tensors, which dtypes it takes as
// they are and which it converts, and the function that writes it), and the writers
// themselves, one source file each (npywriter.cpp, ptwriter.cpp, safetensorswriter.cpp,
// csvwriter.cpp). exportformats.cpp holds the table; export.cpp drives a write through it.

#include "export/conversion_p.h"
#include "export/export.h"

#include <array>
#include <vector>

namespace paramscope::exportdetail {

class Output;

/// One export, checked and planned: the entries (each once, in the order given, at least
/// one; one alone for a format that holds one), what each becomes, and where it goes.
struct WriteJob {
    const ModelIndex& index;
    const std::vector<int>& entries;
    const std::vector<Plan>& plans;  // one per entry
    const ExportOptions& options;
    Output& out;
};

struct ExportWriter {
    ExportFormat format;
    const char* id;      // also the file suffix
    const char* filter;  // for file dialogs
    bool holdsSeveral;   // one file can hold several tensors
    int severalRank;     // holdsSeveral: its place among those formats, best first
    int workPasses;      // how many times the data is walked (progress accounting)
    /// What a tensor of a plain (not quantized, known) dtype becomes in this format: sets
    /// `p.out` (and `p.note`) when it is converted, or `p.out = Unknown` and `p.error`.
    void (*plan)(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p);
    Status (*write)(const WriteJob& job);
};

constexpr size_t kExportFormatCount = 4;
/// Every format, in ExportFormat order.
const std::array<ExportWriter, kExportFormatCount>& exportWriters();
const ExportWriter& exportWriter(ExportFormat f);

/// What `e` becomes in format `f` (common rules, then the format's own).
Plan planFor(const TensorEntry& e, ExportFormat f);

void planNpy(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p);
Status writeNpy(const WriteJob& job);
void planPt(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p);
Status writePt(const WriteJob& job);
void planSafetensors(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p);
Status writeSafetensors(const WriteJob& job);
void planCsv(const TensorEntry& e, const QString& name, const QString& dtype, Plan& p);
Status writeCsv(const WriteJob& job);

}  // namespace paramscope::exportdetail
