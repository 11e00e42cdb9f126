#pragma once

// Internal to core/formats: format sniffing, in one place. What a file's name and first bytes
// say it is (for the dispatcher, loader.cpp), and why a file that is no zip archive is not a
// PyTorch model (for the archive reader's message). Reads at most a few bytes of a file, or
// the whole of a small `.index.json` to tell a shard index from other JSON.

#include "base/result.h"

#include <QString>

#include <cstdint>

namespace paramscope {

class MappedFile;

namespace detail {

enum class SniffedFormat {
    SafetensorsFile,  // one .safetensors file (by name or by content)
    ShardIndex,       // the index of a sharded safetensors checkpoint
    LegacyTorchSave,  // torch.save before the zip format: the legacy pickles, or a tar file
    Other,            // anything else: the PyTorch archive reader decides
};

/// What `path` is for the dispatcher. A `.safetensors` name that holds a zip archive (a
/// misnamed PyTorch file) is Other; `*.safetensors.index.json` is a ShardIndex unless it
/// starts like a safetensors file; another `*.index.json` is one when it reads as an index
/// with a "weight_map"; any other file is a SafetensorsFile when it starts like one, and
/// LegacyTorchSave when it starts with the legacy magic pickle or a tar header.
SniffedFormat sniffFormat(const QString& path);

/// True when `path` is for the safetensors readers (sniffFormat is not Other).
bool isSafetensorsFile(const QString& path);

/// A plausible 8-byte header length (fits the file and kSafetensorsMaxHeaderBytes, at least 2)
/// followed by '{'.
bool startsLikeSafetensors(const QString& path);
/// The file starts with the legacy torch.save magic pickle, or is a tar archive (legacy/legacyreader.h).
bool startsLikeLegacy(const QString& path);
/// The file starts with a zip local-file header ("PK\3\4").
bool startsLikeZip(const QString& path);
/// Whether the archive reader should read `data` as a zip: at least 4 bytes starting "PK".
bool hasZipMagic(const std::uint8_t* data, std::uint64_t size);

/// A failure (kind Unsupported) when `path` is a Git LFS pointer file — the small text file
/// a clone holds in place of a large file it has not downloaded: "'x.pt' is a Git LFS
/// pointer (the real file is N bytes, not downloaded): run git lfs pull". Success otherwise.
/// Reads at most the first kMaxGitLfsPointerBytes bytes.
Status checkNotGitLfsPointer(const QString& path);
constexpr int kMaxGitLfsPointerBytes = 1024;  // the Git LFS specification's bound

/// Why a mapped file that does not start like a zip archive is not a PyTorch archive: a
/// legacy (pre-1.6) torch.save pickle, a tar file, a PNG image, a text file, or unknown
/// bytes. Always a failure of kind Unsupported, naming the file.
Status describeNonZip(const MappedFile& f);

}  // namespace detail

}  // namespace paramscope
