#pragma once
// Resource limits for any input, in one place (README "Robustness" lists them). A file
// from a stranger can declare anything; these bound what ParamScope spends on it.

#include <cstddef>
#include <cstdint>

namespace paramscope::limits {

/// Statistics and export refuse a tensor with more logical elements than this (its true
/// size is still listed). Counts of elements stay exact in 64 bits below it.
constexpr std::int64_t kMaxLogicalElements = std::int64_t(1) << 62;
/// Export refuses to write more than this many bytes of tensor data in one file (1 TiB):
/// a broadcast view of 12 floats can declare petabytes.
constexpr std::int64_t kMaxExportBytes = std::int64_t(1) << 40;
/// A view whose strides overlap reads some stored elements many times; statistics and
/// export refuse one that would read more than this many elements per stored element
/// (broadcast dimensions, stride 0, are not walked at all: they count once, weighted).
constexpr std::int64_t kMaxReadsPerStoredElement = 64;
/// Tensors whose full dotted name is longer than this are skipped, with a warning.
constexpr std::size_t kMaxNameBytes = std::size_t(64) << 10;
/// A file whose tensor names add up to more than this is refused.
constexpr std::size_t kMaxTotalNameBytes = std::size_t(256) << 20;

}  // namespace paramscope::limits
