#pragma once

// Internal to core/formats/torch: reading the small tensors of per-channel quantization (the
// scales and zero points of a torch.per_channel_affine tensor) straight from their records.

#include "formats/pickle/pickle.h"
#include "model/modelindex.h"

#include <QString>

#include <functional>
#include <vector>

namespace paramscope {

/// Reads the first n bytes of a storage's record.
using RecordRead = std::function<Result<StorageBytes>(std::uint64_t n)>;

/// The values of a small 1-D tensor `r` of the pickle whose storage `s` is read by `read`:
/// per-channel scales (double, finite) or zero points (int64, from an integer storage).
/// False, with `why`, when it is not usable. `s` must have a dtype.
template <typename Out>
bool readChannelValues(const RecordRead& read, const pickle::StorageRef& s, const pickle::TensorRef& r,
                       std::vector<Out>& out, QString& why);

}  // namespace paramscope
