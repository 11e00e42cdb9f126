#pragma once
// Native reader for safetensors files and sharded safetensors checkpoints. The entry
// point, detail::loadSafetensors, is declared in loader.h beside the other engines.

#include <QString>

#include <cstdint>

namespace paramscope {

/// Largest JSON header accepted. The reference implementation (huggingface/safetensors)
/// refuses headers above 100,000,000 bytes; a larger one is a crafted file.
constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

namespace detail {

/// True when `path` is for loadSafetensors: a name ending in `.safetensors` or
/// `.index.json` (an index with a `weight_map`), or content that starts like a
/// safetensors file (a plausible 8-byte header length followed by '{').
bool isSafetensorsFile(const QString& path);

}  // namespace detail

}  // namespace paramscope
