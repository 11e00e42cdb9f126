#pragma once

// The one entry point for opening a model file: sniffs the format and dispatches to the
// reader (core/formats/*) or to the LibTorch engine.

#include "model/loadtypes.h"

#include <QFuture>
#include <QString>

namespace paramscope {

/// Opens a model file. Every failure (missing file, not a model, corrupt data, cancel)
/// comes back as an error naming the file and the cause.
LoadResult loadModel(const QString& path, const LoadOptions& options = {});

/// The same on a worker thread.
QFuture<LoadResult> loadModelAsync(const QString& path, const LoadOptions& options = {});

}  // namespace paramscope
