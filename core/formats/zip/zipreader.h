#pragma once

#include "base/mappedfile.h"
#include "model/modelindex.h"
#include "base/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

/// One member of a zip archive, with every offset already checked against the file.
struct ZipEntry {
    /// The name's bytes in the mapped central directory (valid while the reader's file is
    /// mapped): no copy, a record per storage.
    std::string_view name;
    std::uint16_t method = 0;  // 0 stored, 8 deflate
    std::uint32_t crc32 = 0;
    std::uint64_t compressedSize = 0;
    std::uint64_t uncompressedSize = 0;
    std::uint64_t dataOffset = 0;  // first byte of the (compressed) data in the file

    bool isStored() const { return method == 0; }
};

/// Reads the central directory of a memory-mapped zip file (ZIP64 included). Never
/// trusts a declared size or offset: each is checked against the file with
/// overflow-safe arithmetic before use, and compressed members are inflated only up to
/// their declared size, which must itself be plausible (zip-bomb safe).
class ZipReader {
public:
    /// Deflate cannot expand data by more than about 1032:1; a larger declared ratio is a lie.
    static constexpr std::uint64_t kMaxDeflateRatio = 1032;

    static Result<ZipReader> open(std::shared_ptr<const MappedFile> file);

    // Movable only (one owner of the directory; the names view the mapping).
    ZipReader() = default;
    ZipReader(ZipReader&&) = default;
    ZipReader& operator=(ZipReader&&) = default;
    ZipReader(const ZipReader&) = delete;
    ZipReader& operator=(const ZipReader&) = delete;

    const std::vector<ZipEntry>& entries() const { return m_entries; }
    const ZipEntry* find(std::string_view name) const;
    const std::shared_ptr<const MappedFile>& file() const { return m_file; }
    /// Lets the mapped pages of the central directory go once a loader has looked up what it
    /// needs (70 MB for 1M records): the names are read again from the file if touched.
    void releaseDirectoryPages() const;

    /// The member's bytes: a span into the mapping for stored members (zero copy), an
    /// inflated buffer for deflated ones. Fails when the member would need more than
    /// `maxBytes` once inflated, or when its data is corrupt. `verifyCrc` checks the
    /// CRC-32 (only sensible for small members: it reads every byte).
    Result<StorageBytes> read(const ZipEntry& e, std::uint64_t maxBytes, bool verifyCrc) const
    {
        return readMember(m_file, e, maxBytes, verifyCrc);
    }
    /// The same for an entry of `file` kept without its reader (a loaded index keeps only
    /// the records it reads, not the whole directory).
    static Result<StorageBytes> readMember(const std::shared_ptr<const MappedFile>& file, const ZipEntry& e,
                                           std::uint64_t maxBytes, bool verifyCrc);

private:
    std::shared_ptr<const MappedFile> m_file;
    std::vector<ZipEntry> m_entries;
    // Name -> entry: open addressing over 1 + entry index (0: empty), twice the entries in
    // slots; 8 bytes an entry where a hash map of views cost about 56 (an archive holds a
    // record per storage, and the index keeps the directory while it is open).
    std::vector<std::uint32_t> m_byName;
    std::size_t slotOf(std::string_view name) const;  // the slot holding `name`, or the empty one to fill
};

}  // namespace paramscope
