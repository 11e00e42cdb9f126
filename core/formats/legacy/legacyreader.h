#pragma once

// Readers for the torch.save formats before the zip archive: the legacy format of PyTorch
// 0.4-1.5 (and of torch.save(..., _use_new_zipfile_serialization=False) since) and the tar
// format of PyTorch 0.1-0.3. Each reads its container (the pickles, the storage records and,
// for tar, the tensor table) into a LegacyContainer; loadLegacy then walks the main pickle
// (torch/walker.h) with storages that point into the memory-mapped file. Every count, size
// and offset read from the file is checked against the file (or tar member) it lies in.

#include "base/result.h"
#include "formats/pickle/pickle.h"
#include "model/loadtypes.h"
#include "model/modelindex.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <string>
#include <vector>

namespace paramscope {

class MappedFile;

/// Where the raw bytes of one storage lie in the file.
struct LegacyRecord {
    std::string key;           // the storage key of the persistent ids ("140230958", "101")
    std::uint64_t offset = 0;  // of the first byte, in the file
    std::uint64_t bytes = 0;   // element count x item size
};

/// A legacy file's container, read: the main pickle and the storage records it names.
struct LegacyContainer {
    ModelFormat format = ModelFormat::Unknown;  // TorchSaveLegacy or TorchSaveTar
    pickle::Document doc;
    std::vector<LegacyRecord> records;  // in file order
    QStringList warnings;
};

/// The legacy format's first pickle: protocol 2 or later and the magic number
/// 0x1950a86a20f9469cfc6c within the first 32 bytes.
bool startsLikeLegacyTorchSave(const std::uint8_t* data, std::uint64_t size);
/// A tar header: "ustar" at byte 257.
bool startsLikeTar(const std::uint8_t* data, std::uint64_t size);

/// The legacy format (magic number, protocol version 1001, sys_info, the main pickle, the
/// storage key list, then per key an int64 element count and the raw little-endian bytes).
/// Errors name the file and the record.
Result<LegacyContainer> readLegacyTorchSave(const MappedFile& file, const LoadOptions& options);
/// The tar format (members sys_info, storages, tensors, pickle). Errors name the file and
/// the member.
Result<LegacyContainer> readLegacyTar(const MappedFile& file, const LoadOptions& options);

namespace detail {

/// Opens a legacy torch.save or tar file (chosen by its first bytes) and indexes it.
LoadResult loadLegacy(const QString& path, const LoadOptions& options);

}  // namespace detail

}  // namespace paramscope
