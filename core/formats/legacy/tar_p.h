#pragma once

// Internal to core/formats/legacy: the members of a tar archive (POSIX ustar, with pax and
// GNU long-name headers), as byte ranges of the mapped file. Nothing is extracted.

#include "base/mappedfile.h"
#include "base/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramscope::legacy {

struct TarMember {
    std::string name;          // "./" prefixes removed
    std::uint64_t offset = 0;  // of the member's data in the file
    std::uint64_t size = 0;
};

/// The regular-file members of the tar archive `f`, in order. Every header's checksum, size
/// and position is checked against the file; errors name the file and the header.
Result<std::vector<TarMember>> readTarMembers(const MappedFile& f);

}  // namespace paramscope::legacy
