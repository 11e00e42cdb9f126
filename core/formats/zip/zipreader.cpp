#include "formats/zip/zipreader.h"
#include "base/pagereleaser.h"
#include "base/textutil.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

namespace paramscope {

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kEocd64Sig = 0x06064b50;
constexpr std::uint32_t kEocd64LocatorSig = 0x07064b50;
constexpr std::uint64_t kEocdSize = 22;
constexpr std::uint64_t kEocd64LocatorSize = 20;
constexpr std::uint64_t kEocd64Size = 56;
constexpr std::uint64_t kCentralSize = 46;
constexpr std::uint64_t kLocalSize = 30;

std::uint16_t le16(const std::uint8_t* p)
{
    return std::uint16_t(p[0] | (p[1] << 8));
}
std::uint32_t le32(const std::uint8_t* p)
{
    return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}
std::uint64_t le64(const std::uint8_t* p)
{
    return std::uint64_t(le32(p)) | (std::uint64_t(le32(p + 4)) << 32);
}

QString displayName(std::string_view s)
{
    return utf8ToQString(s);
}

/// Why a directory entry cannot be used.
struct Problem {
    ErrorKind kind = ErrorKind::Corrupt;
    QString what;
};

/// Reads and checks directory entry `i` at `pos` (the directory spans [cdOffset, cdEnd)):
/// its sizes (ZIP64 extra field included), features, local header and data extent. `total`
/// gets the entry's size in the directory, `localHeader` the offset of its local header.
bool readEntry(const MappedFile& file, std::uint64_t pos, std::uint64_t cdOffset, std::uint64_t cdEnd, std::uint64_t i,
               ZipEntry& e, std::uint64_t& total, std::uint64_t& localHeader, Problem& problem)
{
    const std::uint8_t* d = file.data();
    const auto bad = [&](ErrorKind kind, const QString& what) {
        problem = Problem{kind, what};
        return false;
    };
    if (pos > cdEnd || cdEnd - pos < kCentralSize || le32(d + pos) != kCentralSig)
        return bad(ErrorKind::Corrupt, QStringLiteral("directory entry %1 is damaged").arg(i));
    const std::uint8_t* c = d + pos;
    const std::uint16_t flags = le16(c + 8);
    e.method = le16(c + 10);
    e.crc32 = le32(c + 16);
    e.compressedSize = le32(c + 20);
    e.uncompressedSize = le32(c + 24);
    const std::uint64_t nameLen = le16(c + 28), extraLen = le16(c + 30), commentLen2 = le16(c + 32);
    const std::uint16_t disk = le16(c + 34);
    std::uint64_t localHeaderOffset = le32(c + 42);  // needed only here, to find the data
    total = kCentralSize + nameLen + extraLen + commentLen2;
    if (cdEnd - pos < total)
        return bad(ErrorKind::Corrupt, QStringLiteral("directory entry %1 runs past the end of the directory").arg(i));
    e.name = std::string_view(reinterpret_cast<const char*>(c + kCentralSize), size_t(nameLen));
    // ZIP64 extended information: only the fields whose 32-bit value is saturated.
    const std::uint8_t* x = c + kCentralSize + nameLen;
    const std::uint8_t* xEnd = x + extraLen;
    while (xEnd - x >= 4) {
        const std::uint16_t id = le16(x), len = le16(x + 2);
        if (xEnd - x - 4 < len)
            return bad(ErrorKind::Corrupt,
                       QStringLiteral("entry '%1' has a damaged extra field").arg(displayName(e.name)));
        if (id == 0x0001) {
            const std::uint8_t* f = x + 4;
            const std::uint8_t* fEnd = f + len;
            auto take = [&](std::uint64_t& v) {
                if (v != 0xffffffffu)
                    return true;
                if (fEnd - f < 8)
                    return false;
                v = le64(f);
                f += 8;
                return true;
            };
            if (!take(e.uncompressedSize) || !take(e.compressedSize) || !take(localHeaderOffset))
                return bad(ErrorKind::Corrupt,
                           QStringLiteral("entry '%1' has a short ZIP64 extra field").arg(displayName(e.name)));
        }
        x += 4 + len;
    }
    if (flags & 1)
        return bad(ErrorKind::Unsupported, QStringLiteral("entry '%1' is encrypted").arg(displayName(e.name)));
    if (disk != 0)
        return bad(ErrorKind::Unsupported,
                   QStringLiteral("entry '%1' lives on another disk of a split archive").arg(displayName(e.name)));
    if (e.method != 0 && e.method != 8)
        return bad(ErrorKind::Unsupported,
                   QStringLiteral("entry '%1' uses compression method %2 (only stored and deflate are supported)")
                       .arg(argText(displayName(e.name)), argText(e.method)));
    // The local header repeats the name and has its own extra field; the data follows.
    const std::uint64_t lho = localHeaderOffset;
    if (!file.contains(lho, kLocalSize) || lho + kLocalSize > cdOffset || le32(d + lho) != kLocalSig)
        return bad(ErrorKind::Corrupt,
                   QStringLiteral("entry '%1' points at a missing or damaged local header (offset %2)")
                       .arg(argText(displayName(e.name)), argText(lho)));
    e.dataOffset = lho + kLocalSize + le16(d + lho + 26) + le16(d + lho + 28);
    localHeader = lho;
    if (e.dataOffset > cdOffset || e.compressedSize > cdOffset - e.dataOffset)
        return bad(
            ErrorKind::Corrupt,
            QStringLiteral(
                "the data of entry '%1' (%2 bytes at offset %3) runs past the end of the archive data (truncated?)")
                .arg(argText(displayName(e.name)), argText(e.compressedSize), argText(e.dataOffset)));
    if (e.method == 0 && e.compressedSize != e.uncompressedSize)
        return bad(ErrorKind::Corrupt,
                   QStringLiteral("stored entry '%1' declares %2 bytes but holds %3")
                       .arg(argText(displayName(e.name)), argText(e.uncompressedSize), argText(e.compressedSize)));
    if (e.method == 8 && e.uncompressedSize > e.compressedSize * ZipReader::kMaxDeflateRatio + 1024)
        return bad(
            ErrorKind::Corrupt,
            QStringLiteral(
                "entry '%1' declares %2 bytes from %3 compressed bytes, more than deflate can produce (zip bomb?)")
                .arg(argText(displayName(e.name)), argText(e.uncompressedSize), argText(e.compressedSize)));
    return true;
}

}  // namespace

Result<ZipReader> ZipReader::open(std::shared_ptr<const MappedFile> file)
{
    using R = Result<ZipReader>;
    const QString name = file->label();
    const std::uint8_t* d = file->data();
    const std::uint64_t size = file->size();
    auto fail = [&](const QString& what, ErrorKind kind = ErrorKind::Corrupt) {
        return R::failure(kind, QStringLiteral("'%1' is not a valid zip archive: %2").arg(name, what));
    };

    if (size < kEocdSize)
        return fail(QStringLiteral("the file is too short (%1 bytes) to hold a zip directory").arg(size));

    // The end-of-central-directory record sits at the end, possibly followed by a
    // comment of at most 65535 bytes: search backwards for its signature.
    std::uint64_t eocd = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t searchFloor = size > kEocdSize + 0xffff ? size - kEocdSize - 0xffff : 0;
    for (std::uint64_t pos = size - kEocdSize + 1; pos-- > searchFloor;) {
        if (le32(d + pos) == kEocdSig) {
            eocd = pos;
            break;
        }
    }
    if (eocd == std::numeric_limits<std::uint64_t>::max())
        return fail(QStringLiteral("no end-of-central-directory record (the file is truncated or not a zip)"));
    const std::uint64_t commentLen = le16(d + eocd + 20);
    if (eocd + kEocdSize + commentLen != size) {
        if (eocd + kEocdSize + commentLen > size)
            return fail(QStringLiteral("the zip comment runs past the end of the file (truncated?)"));
        return fail(QStringLiteral("%1 bytes of unexpected data after the end of the zip directory")
                        .arg(size - eocd - kEocdSize - commentLen));
    }
    if (le16(d + eocd + 4) != 0 || le16(d + eocd + 6) != 0)
        return fail(QStringLiteral("multi-disk (split) archives are not supported"), ErrorKind::Unsupported);

    std::uint64_t count = le16(d + eocd + 10);
    std::uint64_t cdSize = le32(d + eocd + 12);
    std::uint64_t cdOffset = le32(d + eocd + 16);

    // ZIP64: a locator just before the EOCD points at the 64-bit record.
    if (eocd >= kEocd64LocatorSize && le32(d + eocd - kEocd64LocatorSize) == kEocd64LocatorSig) {
        const std::uint8_t* loc = d + eocd - kEocd64LocatorSize;
        const std::uint64_t rec = le64(loc + 8);
        if (!file->contains(rec, kEocd64Size) || rec + kEocd64Size > eocd - kEocd64LocatorSize)
            return fail(QStringLiteral("the ZIP64 directory record lies outside the file"));
        if (le32(d + rec) != kEocd64Sig)
            return fail(QStringLiteral("the ZIP64 directory record has a bad signature"));
        count = le64(d + rec + 32);
        cdSize = le64(d + rec + 40);
        cdOffset = le64(d + rec + 48);
        if (cdOffset > rec || cdSize > rec - cdOffset)
            return fail(QStringLiteral("the central directory (offset %1, %2 bytes) lies outside the file")
                            .arg(argText(cdOffset), argText(cdSize)));
    } else if (cdOffset > eocd || cdSize > eocd - cdOffset) {
        return fail(QStringLiteral("the central directory (offset %1, %2 bytes) lies outside the file")
                        .arg(argText(cdOffset), argText(cdSize)));
    }
    if (count > cdSize / kCentralSize)
        return fail(QStringLiteral("the directory claims %1 entries but has room for at most %2")
                        .arg(argText(count), argText(cdSize / kCentralSize)));
    if (count == 0)
        return fail(QStringLiteral("the archive is empty"));

    ZipReader z;
    z.m_file = file;
    if (count >= (std::uint64_t(1) << 31))
        return fail(
            QStringLiteral("the directory claims %1 entries, more than ParamScope reads (2^31)").arg(argText(count)),
            ErrorKind::Limit);
    z.m_entries.reserve(size_t(count));
    std::size_t slots = 16;
    while (slots < 2 * count)
        slots *= 2;
    z.m_byName.assign(slots, 0);
    std::uint64_t pos = cdOffset;
    const std::uint64_t cdEnd = cdOffset + cdSize;
    // Each entry's local header lies beside its data, so checking them all touches a page
    // per record across the whole file (a checkpoint of 1M small tensors: every page of it,
    // 294 MB of resident memory for 70 MB of directory). They are not read again: let
    // their pages go as the walk passes them. (The directory itself stays: the names view it.)
    PageReleaser localHeaders(true);
    for (std::uint64_t i = 0; i < count; ++i) {
        ZipEntry e;
        std::uint64_t total = 0, localHeader = 0;
        Problem problem;
        if (!readEntry(*file, pos, cdOffset, cdEnd, i, e, total, localHeader, problem))
            return fail(problem.what, problem.kind);
        // Reserved above, so the entries (and the names the map views) never move.
        z.m_entries.push_back(std::move(e));
        localHeaders.add(d + localHeader, z.m_entries.back().dataOffset - localHeader);
        const std::string_view name = z.m_entries.back().name;
        std::uint32_t& slot = z.m_byName[z.slotOf(name)];
        if (slot != 0)
            return fail(QStringLiteral("entry '%1' appears twice").arg(displayName(name)));
        slot = std::uint32_t(z.m_entries.size());
        pos += total;
    }
    // A count smaller than the directory's real entries would hide the rest (and with them
    // records the pickle names): the directory must end where its size says.
    if (pos != cdEnd)
        return fail(QStringLiteral("the directory claims %1 entries, but %2 more bytes of entries follow them")
                        .arg(argText(count), argText(cdEnd - pos)));
    return R(std::move(z));
}

void ZipReader::releaseDirectoryPages() const
{
    if (m_entries.empty())
        return;
    const char* first = m_entries.front().name.data();
    const char* last = m_entries.back().name.data() + m_entries.back().name.size();
    if (last > first)
        MappedFile::advise(first, std::uint64_t(last - first), MappedFile::Advice::Release);
}

std::size_t ZipReader::slotOf(std::string_view name) const
{
    const std::size_t mask = m_byName.size() - 1;
    for (std::size_t i = std::hash<std::string_view>()(name) & mask;; i = (i + 1) & mask)
        if (m_byName[i] == 0 || m_entries[m_byName[i] - 1].name == name)
            return i;
}

const ZipEntry* ZipReader::find(std::string_view name) const
{
    if (m_byName.empty())
        return nullptr;
    const std::uint32_t at = m_byName[slotOf(name)];
    return at == 0 ? nullptr : &m_entries[at - 1];
}

Result<StorageBytes> ZipReader::readMember(const std::shared_ptr<const MappedFile>& file, const ZipEntry& e,
                                           std::uint64_t maxBytes, bool verifyCrc)
{
    using R = Result<StorageBytes>;
    // Named only in an error: reading a stored record is on the scan's path once per tensor.
    const auto where = [&] { return QStringLiteral("'%1' in '%2'").arg(displayName(e.name), file->label()); };
    if (auto st = file->check(); !st)
        return R::failureFrom(st);
    if (e.uncompressedSize > maxBytes)
        return R::failure(ErrorKind::Limit, QStringLiteral("%1 is too large to read (%2 bytes, limit %3)")
                                                .arg(argText(where()), argText(e.uncompressedSize), argText(maxBytes)));
    const std::uint8_t* src = file->data() + e.dataOffset;
    if (e.isStored()) {
        if (verifyCrc) {
            uLong crc = ::crc32(0L, Z_NULL, 0);
            for (std::uint64_t done = 0; done < e.compressedSize;) {
                const auto chunk = std::min<std::uint64_t>(e.compressedSize - done, 1u << 30);
                crc = ::crc32(crc, src + done, uInt(chunk));
                done += chunk;
            }
            if (std::uint32_t(crc) != e.crc32)
                return R::failure(ErrorKind::Corrupt, QStringLiteral("%1 is corrupt (CRC mismatch)").arg(where()));
        }
        StorageBytes b;
        b.owner = file;
        b.data = src;
        b.size = e.compressedSize;
        return b;
    }
    // Inflate into a buffer of exactly the declared size; more or less output is an error.
    auto buf = std::make_shared<std::vector<std::uint8_t>>();
    try {
        buf->resize(size_t(e.uncompressedSize));
    } catch (const std::bad_alloc&) {
        return R::failure(ErrorKind::Limit, QStringLiteral("%1 is too large to inflate (%2 bytes): out of memory")
                                                .arg(argText(where()), argText(e.uncompressedSize)));
    }
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return R::failure(ErrorKind::Failed, QStringLiteral("%1: cannot start the decompressor").arg(where()));
    std::uint64_t inDone = 0, outDone = 0;
    int rc = Z_OK;
    std::uint8_t sink[1];
    while (rc == Z_OK) {
        const auto inChunk = std::min<std::uint64_t>(e.compressedSize - inDone, 1u << 30);
        const bool outFull = outDone == e.uncompressedSize;
        const auto outChunk = outFull ? 1 : std::min<std::uint64_t>(e.uncompressedSize - outDone, 1u << 30);
        zs.next_in = const_cast<Bytef*>(src + inDone);
        zs.avail_in = uInt(inChunk);
        // When the declared size is reached, offer a 1-byte sink: any output there
        // means the member inflates to more than it declares.
        zs.next_out = outFull ? sink : buf->data() + outDone;
        zs.avail_out = uInt(outChunk);
        rc = ::inflate(&zs, Z_NO_FLUSH);
        const std::uint64_t consumed = inChunk - zs.avail_in;
        inDone += consumed;
        const std::uint64_t produced = outChunk - zs.avail_out;
        if (rc != Z_STREAM_END && consumed == 0 && produced == 0) {
            rc = Z_DATA_ERROR;  // no progress: never loop forever on odd input
            break;
        }
        if (outFull && produced > 0) {
            rc = Z_DATA_ERROR;
            break;
        }
        outDone += produced;
        if (rc == Z_BUF_ERROR && inDone == e.compressedSize)
            break;  // input exhausted before the end of the stream
        if (rc == Z_BUF_ERROR)
            rc = Z_OK;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || outDone != e.uncompressedSize)
        return R::failure(ErrorKind::Corrupt,
                          QStringLiteral("%1 is corrupt: its compressed data does not inflate to the declared %2 bytes")
                              .arg(argText(where()), argText(e.uncompressedSize)));
    if (verifyCrc) {
        uLong crc = ::crc32(0L, Z_NULL, 0);
        for (std::uint64_t done = 0; done < outDone;) {
            const auto chunk = std::min<std::uint64_t>(outDone - done, 1u << 30);
            crc = ::crc32(crc, buf->data() + done, uInt(chunk));
            done += chunk;
        }
        if (std::uint32_t(crc) != e.crc32)
            return R::failure(ErrorKind::Corrupt, QStringLiteral("%1 is corrupt (CRC mismatch)").arg(where()));
    }
    StorageBytes b;
    b.data = buf->data();
    b.size = buf->size();
    b.owner = std::move(buf);
    return b;
}

}  // namespace paramscope
