#pragma once
// LibTorch lives in a plug-in module (libparamscope_torch.so) that core loads on first
// use: the LibTorch engine and the .pt writer. Loading LibTorch costs over a second and
// 150 MB at start-up, and Debian's build drags in OpenCV and Qt 5 with it, so programs
// that never read with LibTorch or write .pt (most runs) never load it.
// No LibTorch header here: the interface is plain core types.

#include "export.h"
#include "loader.h"

#include <functional>
#include <vector>

namespace paramscope {

namespace torchimpl {
// Implemented inside the plug-in (libtorchloader.cpp, export_pt.cpp).
LoadResult load(const QString& path, const LoadOptions& options);
Status writePtArchive(const std::vector<detail::PtTensor>& tensors, bool asDict,
                      const std::function<bool(const void*, std::size_t)>& sink);
Result<std::vector<char>> picklePt(const std::vector<detail::PtTensor>& tensors, bool asDict);
}  // namespace torchimpl

namespace detail {

/// What the plug-in hands to core. Bump kTorchBackendVersion when it changes.
struct TorchBackend {
    int version;
    LoadResult (*load)(const QString& path, const LoadOptions& options);
    Status (*writePtArchive)(const std::vector<PtTensor>& tensors, bool asDict,
                             const std::function<bool(const void*, std::size_t)>& sink);
    Result<std::vector<char>> (*picklePt)(const std::vector<PtTensor>& tensors, bool asDict);
};
constexpr int kTorchBackendVersion = 1;

/// Loads the plug-in once (thread-safe); null with `error` set when it cannot be loaded.
const TorchBackend* torchBackend(QString* error);

/// torch::jit::load in this process, through the plug-in. Only the helper process
/// (torchhelper.h) calls it: a crafted file can crash LibTorch, and the LibTorch engine
/// of every program (loadWithLibTorch) runs it there.
LoadResult loadWithLibTorchInProcess(const QString& path, const LoadOptions& options);

}  // namespace detail

}  // namespace paramscope

/// The plug-in's one exported symbol.
extern "C" const paramscope::detail::TorchBackend* paramscope_torch_backend();
