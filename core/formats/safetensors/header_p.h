#pragma once

// Internal to core/formats/safetensors: the parsed and validated header of one .safetensors
// file (tensor names, dtypes, shapes and byte ranges; the metadata), and the helpers its
// messages share with the single-file reader and the shard index.

#include "base/dims.h"
#include "base/dtype.h"
#include "base/result.h"

#include <QMap>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <string>
#include <vector>

namespace paramscope::safetensors {

struct HeaderTensor {
    std::string name;
    std::string code;  // dtype as written
    DType dtype = DType::Unknown;
    Dims shape;
    std::uint64_t begin = 0, end = 0;  // relative to the data buffer
};

struct Header {
    std::uint64_t dataStart = 0;  // absolute offset of the data buffer
    std::uint64_t dataSize = 0;
    std::vector<HeaderTensor> tensors;  // in data order
    QMap<QString, QString> metadata;
    QStringList warnings;
};

/// Parses and checks a whole safetensors header against the file's size, as the reference
/// implementation (huggingface/safetensors `Metadata::validate`) does: every tensor's bytes
/// inside the data buffer, sized numel x item size, the tensors tiling the buffer exactly (no
/// overlap, no gap, nothing left over). Nothing past the header is touched. Failures are
/// Corrupt, an unknown dtype Unsupported, a header above kSafetensorsMaxHeaderBytes Limit.
Result<Header> parseHeader(const std::uint8_t* file, std::uint64_t fileSize, const QString& path);

/// The file name of `path` (the path itself when it has none), for messages.
QString fileLabel(const QString& path);

}  // namespace paramscope::safetensors
