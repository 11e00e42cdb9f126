#pragma once

// What a load asks for and what it gives back: shared by every engine (the format readers
// in core/formats and the LibTorch plug-in) and by everything that opens files.

#include "base/cancel.h"
#include "base/result.h"
#include "model/modelindex.h"

#include <QString>

#include <functional>
#include <memory>

namespace paramscope {

enum class LoaderEngine {
    Auto,      // the safe native reader when it can read the file
    Native,    // ParamScope's own archive / safetensors reader: never runs code from the file
    LibTorch,  // torch::jit::load (TorchScript only; compiles and runs the file's code)
};
QString loaderEngineName(LoaderEngine e);  // "auto", "native", "libtorch"

struct LoadOptions {
    LoaderEngine engine = LoaderEngine::Auto;
    CancelToken cancel;
    /// Called from the loading thread with a fraction in [0, 1] and a short stage text.
    std::function<void(double, const QString&)> progress;
};

using LoadResult = Result<std::shared_ptr<const ModelIndex>>;

/// The message of a cancelled load.
QString cancelledMessage(const QString& path);

}  // namespace paramscope
