#pragma once

#include "session/exportjob.h"

#include <QString>

#include <memory>
#include <vector>

class QWidget;

namespace paramscope {

/// File > Export…: asks for a file (only the formats that can hold entries.size()
/// tensors are offered; the format follows the chosen filter or typed extension), then
/// exports on a worker thread behind a cancellable progress dialog. A failure shows a
/// message box naming the file and the cause; notes (bfloat16 widened, quantized values
/// dequantized, shared tensors copied) are shown when the export finishes. Returns the
/// running job (owned by `parent`, deleted when done) so the caller may connect to
/// ExportJob::finished, e.g. for a status-bar message; nullptr when the user cancelled
/// the file dialog or nothing can be exported.
/// `onlyMatches`: the tensors are a search's matches (under the selection), which the
/// dialog's title says, so a module is not thought exported whole.
ExportJob* exportWithDialog(QWidget* parent, std::shared_ptr<const ModelIndex> index, std::vector<int> entries,
                            const QString& suggestedBaseName, bool onlyMatches = false);

}  // namespace paramscope
