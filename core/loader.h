#pragma once

#include "modelindex.h"
#include "result.h"

#include <QFuture>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace paramscope {

enum class LoaderEngine {
    Auto,      // the safe native reader when it can read the file
    Native,    // ParamScope's own archive / safetensors reader: never runs code from the file
    LibTorch,  // torch::jit::load (TorchScript only; compiles and runs the file's code)
};
QString loaderEngineName(LoaderEngine e);  // "auto", "native", "libtorch"

/// Shared cancel flag, checked by the loader between steps.
using CancelToken = std::shared_ptr<std::atomic<bool>>;
inline CancelToken makeCancelToken() { return std::make_shared<std::atomic<bool>>(false); }

struct LoadOptions {
    LoaderEngine engine = LoaderEngine::Auto;
    CancelToken cancel;
    /// Called from the loading thread with a fraction in [0, 1] and a short stage text.
    std::function<void(double, const QString&)> progress;
};

using LoadResult = Result<std::shared_ptr<const ModelIndex>>;

/// Opens a model file. Every failure (missing file, not a model, corrupt data, cancel)
/// comes back as an error naming the file and the cause.
LoadResult loadModel(const QString& path, const LoadOptions& options = {});

/// The same on a worker thread.
QFuture<LoadResult> loadModelAsync(const QString& path, const LoadOptions& options = {});

/// The message of a cancelled load.
QString cancelledMessage(const QString& path);

namespace detail {
// One per engine; each lives in its own source so LibTorch stays in few files.
/// The LibTorch engine: only files the native reader accepts, read by torch::jit::load in
/// the helper process paramscope-torch-helper (torchhelper.h); its crash is an error here.
LoadResult loadWithLibTorch(const QString& path, const LoadOptions& options);
/// `.safetensors` files and sharded checkpoints (`*.safetensors.index.json`); safetensorsreader.cpp.
LoadResult loadSafetensors(const QString& path, const LoadOptions& options);
/// Checks that `path` is a readable regular, non-empty file; the error names it.
Status checkReadableFile(const QString& path);
}  // namespace detail

}  // namespace paramscope
