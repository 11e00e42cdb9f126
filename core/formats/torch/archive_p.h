#pragma once

// Internal to core/formats/torch: reading the small tensors of per-channel quantization (the
// scales and zero points of a torch.per_channel_affine tensor) straight from their records.

#include "formats/pickle/pickle.h"
#include "formats/zip/zipreader.h"

#include <QString>

#include <vector>

namespace paramscope {

/// The values of a small 1-D tensor `r` of the pickle in `record` (storage `s`): per-channel
/// scales (double, finite) or zero points (int64, from an integer storage). False, with
/// `why`, when it is not usable. `s` must have a dtype.
template <typename Out>
bool readChannelValues(const ZipReader& zip, const ZipEntry& record, const pickle::StorageRef& s,
                       const pickle::TensorRef& r, std::vector<Out>& out, QString& why);

}  // namespace paramscope
