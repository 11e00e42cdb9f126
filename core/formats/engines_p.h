#pragma once

// Internal to core/formats: the engines the dispatcher (loader.cpp) chooses between, and
// checks they share. Not for code outside core/formats (fuzz targets and format tests aside).

#include "model/loadtypes.h"

#include <functional>

namespace paramscope::detail {

/// The LibTorch engine: only files the native reader accepts, read by torch::jit::load in
/// the helper process paramscope-torch-helper (libtorch/torchhelper.h); its crash is an error here.
LoadResult loadWithLibTorch(const QString& path, const LoadOptions& options);
/// `.safetensors` files and sharded checkpoints (`*.safetensors.index.json`): a name ending in
/// `.json` that does not start like a safetensors file is read as a shard index.
LoadResult loadSafetensors(const QString& path, const LoadOptions& options);
/// PyTorch zip archives (torch.save and TorchScript), read natively (torch/torcharchive.cpp).
LoadResult loadTorchArchive(const QString& path, const LoadOptions& options);
/// Runs a reader's load, turning an escaped std::bad_alloc into a Limit failure ("out of
/// memory") and any other exception into a Failed one, each naming the file.
LoadResult guardedLoad(const QString& path, const std::function<LoadResult()>& load);
/// Checks that `path` is a readable regular, non-empty file; the error names it. Kinds: Io
/// for a missing, unreadable or non-regular file, Corrupt for an empty one, Unsupported for
/// a Git LFS pointer file (checkNotGitLfsPointer in sniff.h).
Status checkReadableFile(const QString& path);

}  // namespace paramscope::detail
