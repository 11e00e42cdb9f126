#pragma once

#include "base/cancel.h"
#include "model/modelindex.h"
#include "base/result.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace paramscope {

/// File formats tensors can be exported to.
enum class ExportFormat {
    Npy,          // NumPy .npy: one tensor
    Pt,           // torch.load-able .pt: one tensor, or a dict name -> tensor
    Safetensors,  // .safetensors: any number of tensors
    Csv,          // text: one tensor
};

QString exportFormatId(ExportFormat f);                                 // "npy", "pt", "safetensors", "csv"
QString exportFormatSuffix(ExportFormat f);                             // file suffix without the dot
QString exportFormatFilter(ExportFormat f);                             // "NumPy array (*.npy)", for file dialogs
std::optional<ExportFormat> exportFormatFromId(const QString& id);      // case-insensitive
std::optional<ExportFormat> exportFormatFromPath(const QString& path);  // by suffix
/// Whether one file of this format can hold several tensors (.pt and .safetensors).
bool exportFormatHoldsSeveral(ExportFormat f);
/// The formats that can take `tensorCount` tensors into one file, best first.
std::vector<ExportFormat> exportFormatsFor(int tensorCount);

struct ExportOptions {
    CancelToken cancel;  // checked between chunks; a cancelled export leaves nothing behind
    /// Called from the exporting thread with the fraction done, in [0, 1].
    std::function<void(double)> progress;
    /// CSV only: write bool tensors as true/false instead of 0/1 (0/1 is what
    /// np.loadtxt reads as numbers).
    bool csvBoolAsWords = false;
};

struct ExportReport {
    QString path;
    ExportFormat format = ExportFormat::Npy;
    int tensors = 0;
    std::int64_t bytesWritten = 0;
    /// What the file holds differently from the model, for the user to read
    /// ("'w' is bfloat16, which NumPy lacks: written as float32").
    QStringList notes;
};
using ExportResult = Result<ExportReport>;

/// The notes an export would produce (dtype conversions), known before writing, so a
/// dialog can show them up front.
QStringList exportNotes(const ModelIndex& index, const std::vector<int>& entries, ExportFormat f);

/// Writes `entries` (indices into index.entries) to `outPath`.
///
/// - .npy (one tensor): format 1.0, or 2.0 when the header needs it; data 64-byte aligned.
///   bfloat16 and float8 are widened to float32, quantized tensors dequantized to float32.
/// - .pt: torch::pickle_save of the tensor (one entry) or of a dict name -> tensor in model
///   order (several); torch.load returns it with the same dtype (bfloat16 included).
///   Tensors that share storage (tied weights, views) are written as separate contiguous
///   copies, one per name, so every name loads with its own correct values.
///   Quantized and float8 tensors become float32; uint16/uint32 widen to int32/int64.
/// - .safetensors: any number of tensors, names and model order preserved, header padded
///   to 8 bytes, __metadata__ {"format": "pt", "source": <model file name>}. Shared
///   tensors are separate copies (the format forbids overlap).
/// - .csv (one tensor): 1-D one value per line, 2-D one row per line, comma-separated;
///   other ranks flattened to (shape[0], rest), and a "# shape: [...]" comment line comes
///   first whenever the rows alone do not give the shape (0-d, rank >= 3, empty).
///   Floats use the shortest text that reads back to the same value; complex numbers
///   are written like Python, "1.5-2j"; bool as 0/1 (or true/false, see options).
///
/// The write is atomic: on any failure or cancel the destination is left as it was and
/// no temporary file remains. An existing destination that is not a regular file (a
/// device such as /dev/null) is written directly, without a temporary file.
///
/// A failure says its kind: Cancelled; Io when the destination cannot be opened, written
/// or renamed into place, or is a file the model is read from; Unsupported for a dtype, a
/// value or a number of tensors the format cannot take; Limit past the 1 TiB an export
/// writes, or out of memory; Corrupt when the source's pages vanished while it was read
/// (the file was truncated); Failed for an empty selection or an entry out of range.
ExportResult exportTensors(const ModelIndex& index, const std::vector<int>& entries, const QString& outPath,
                           ExportFormat f, const ExportOptions& o = {});

/// The message of a cancelled export.
QString exportCancelledMessage(const QString& outPath);

}  // namespace paramscope
