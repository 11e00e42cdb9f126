#pragma once

// Internal to core/formats: the safetensors readers' entry points for the dispatcher
// (loader.cpp) and sniffing (sniff.cpp), and what the single-file reader shares with the
// sharded-checkpoint reader: opening one mapped file with its validated header, and turning
// its tensors into index entries backed by slices of the mapping.

#include "formats/safetensors/header_p.h"

#include "base/mappedfile.h"
#include "model/loadtypes.h"

#include <memory>
#include <string>
#include <vector>

namespace paramscope::safetensors {

/// One `.safetensors` file.
LoadResult loadFile(const QString& path, const LoadOptions& options);
/// A sharded checkpoint, from its `*.safetensors.index.json`.
LoadResult loadSharded(const QString& indexPath, const LoadOptions& options);
/// True when `path` reads as a shard index (JSON with a "weight_map" object).
bool isShardIndex(const QString& path);

/// One storage: a slice of a mapped file (of its shard).
struct StorageSpan {
    std::uint32_t file = 0;    // index into SpanTable::files
    std::uint64_t offset = 0;  // absolute, in the file
    std::uint64_t size = 0;
};

/// Every storage of an index (span i is storage i), and the files they are slices of, each
/// once, in the order their first storage comes.
struct SpanTable {
    std::vector<std::shared_ptr<const MappedFile>> files;
    std::vector<StorageSpan> spans;
};

/// One mapped file and its header.
struct OpenedFile {
    std::shared_ptr<const MappedFile> file;
    Header header;
};

/// Maps `path` and parses its header; the error names the file.
Result<OpenedFile> openFile(const QString& path);
/// Adds one tensor of `f` to `index` (its storage to `spans`), taking its name and shape; a
/// name past the length limit is skipped with a warning.
void appendTensor(ModelIndex& index, SpanTable& spans, const OpenedFile& f, HeaderTensor&& t);
/// Adds a safetensors `__metadata__` to the index's metadata entries, as `__metadata__.<key>` of type str.
void appendMetadataEntries(ModelIndex& index, const QMap<QString, QString>& metadata);
/// Gives `index` its storage provider over `spans` (one span per entry of index.storages)
/// and finalizes it (entries of dtypes ParamScope lacks keep their byte size).
void finishIndex(ModelIndex& index, SpanTable spans);

inline bool cancelled(const LoadOptions& o)
{
    return isCancelled(o.cancel);
}
inline void report(const LoadOptions& o, double fraction, const QString& stage)
{
    if (o.progress)
        o.progress(fraction, stage);
}

}  // namespace paramscope::safetensors
