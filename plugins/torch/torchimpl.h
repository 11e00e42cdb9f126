#pragma once

// Internal to the plug-in: what its sources implement and torchplugin.cpp hands to core.

#include "model/torchbackend.h"

namespace paramscope {

namespace torchimpl {
// Implemented inside the plug-in (libtorchloader.cpp, export_pt.cpp).
LoadResult load(const QString& path, const LoadOptions& options);
Status writePtArchive(const std::vector<detail::PtTensor>& tensors, bool asDict,
                      const std::function<bool(const void*, std::size_t)>& sink);
Result<std::vector<char>> picklePt(const std::vector<detail::PtTensor>& tensors, bool asDict);
}  // namespace torchimpl

}  // namespace paramscope
