#pragma once
// LibTorch lives in a plug-in module (libparamscope_torch.so) that core loads on first
// use: the LibTorch engine and the .pt writer. Loading LibTorch costs over a second and
// 150 MB at start-up, and Debian's build drags in OpenCV and Qt 5 with it, so programs
// that never read with LibTorch or write .pt (most runs) never load it.
// No LibTorch header here: the interface is plain core types.

#include "base/dtype.h"
#include "model/loadtypes.h"

#include <cstdint>
#include <string>

#include <functional>
#include <vector>

namespace paramscope {

namespace detail {
/// One tensor for the .pt writer: contiguous C-order bytes in a dtype LibTorch has.
struct PtTensor {
    std::string name;
    DType dtype = DType::Unknown;
    std::vector<std::int64_t> shape;
    const void* data = nullptr;
};
/// Writes what torch::pickle_save writes for one tensor (asDict false) or for a dict
/// name -> tensor in the order given (byte for byte the same archive), but streams it
/// through `sink` instead of building it in memory. Once `sink` returns false nothing
/// more is passed to it. Implemented in the plug-in (plugins/torch/export_pt.cpp);
/// these forward to it, loading it on first use.
Status writePtArchive(const std::vector<PtTensor>& tensors, bool asDict,
                      const std::function<bool(const void*, std::size_t)>& sink);
/// torch::pickle_save itself, for tests that compare the two.
Result<std::vector<char>> picklePt(const std::vector<PtTensor>& tensors, bool asDict);
}  // namespace detail

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
