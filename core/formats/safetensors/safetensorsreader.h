#pragma once

// ParamScope's native reader for safetensors files and sharded safetensors checkpoints. It is
// reached through loadModel (formats/loader.h); what it shares with the rest of the tree is its
// header limit.

#include <cstdint>

namespace paramscope {

/// Largest JSON header accepted (and largest shard index). The reference implementation
/// (huggingface/safetensors) refuses headers above 100,000,000 bytes; a larger one is a
/// crafted file.
constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

}  // namespace paramscope
