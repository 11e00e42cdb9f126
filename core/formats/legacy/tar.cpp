// Tar members as byte ranges of the mapped file (tar_p.h). A header is a 512-byte block:
// name at 0 (100 bytes), size at 124 (12 bytes, octal, or base-256 when its first byte has
// the high bit set), checksum at 148 (8 bytes, octal), type at 156, "ustar" at 257, name
// prefix at 345 (155 bytes). The data follows, padded to 512 bytes; a zero block ends the
// archive. pax headers (type 'x') override the next member's path and size; GNU 'L' headers
// hold the next member's long name.

#include "formats/legacy/tar_p.h"

#include "base/checkedsize.h"
#include "formats/legacy/legacy_p.h"

#include <cstring>
#include <string_view>

namespace paramscope::legacy {

namespace {

constexpr std::uint64_t kBlock = 512;
constexpr std::size_t kMaxMembers = 100000;                       // a legacy file has 4
constexpr std::uint64_t kMaxHeaderData = std::uint64_t(1) << 20;  // a pax or long-name header's data

std::string field(const std::uint8_t* h, std::size_t at, std::size_t len)
{
    const char* p = reinterpret_cast<const char*>(h + at);
    return std::string(p, strnlen(p, len));
}

/// An octal (or base-256) number field; nullopt when it is neither.
std::optional<std::uint64_t> number(const std::uint8_t* h, std::size_t at, std::size_t len)
{
    const std::uint8_t* p = h + at;
    std::uint64_t v = 0;
    if (p[0] & 0x80) {
        if (p[0] != 0x80)  // negative, or more than 88 bits
            return std::nullopt;
        for (std::size_t i = 1; i < len; ++i) {
            if (v >> 56)
                return std::nullopt;
            v = (v << 8) | p[i];
        }
        return v;
    }
    std::size_t i = 0;
    while (i < len && p[i] == ' ')
        ++i;
    bool digits = false;
    for (; i < len && p[i] >= '0' && p[i] <= '7'; ++i) {
        if (v >> 60)
            return std::nullopt;
        v = (v << 3) | std::uint64_t(p[i] - '0');
        digits = true;
    }
    for (; i < len; ++i)
        if (p[i] != ' ' && p[i] != 0)
            return std::nullopt;
    if (!digits)
        return std::nullopt;
    return v;
}

bool checksumOk(const std::uint8_t* h)
{
    const auto stored = number(h, 148, 8);
    if (!stored)
        return false;
    std::uint64_t sum = 0;
    std::int64_t signedSum = 0;
    for (std::uint64_t i = 0; i < kBlock; ++i) {
        const std::uint8_t b = i >= 148 && i < 156 ? std::uint8_t(' ') : h[i];
        sum += b;
        signedSum += std::int8_t(b);
    }
    return *stored == sum || std::int64_t(*stored) == signedSum;
}

bool zeroBlock(const std::uint8_t* h)
{
    for (std::uint64_t i = 0; i < kBlock; ++i)
        if (h[i])
            return false;
    return true;
}

/// The "path" and "size" records of a pax header ("<length> <key>=<value>\n" each).
bool parsePax(std::string_view data, std::string& path, std::uint64_t& size, bool& hasSize)
{
    while (!data.empty()) {
        std::size_t i = 0;
        std::uint64_t len = 0;
        while (i < data.size() && data[i] >= '0' && data[i] <= '9' && len < kMaxHeaderData)
            len = len * 10 + std::uint64_t(data[i++] - '0');
        if (i == 0 || i >= data.size() || data[i] != ' ' || len <= i + 1 || len > data.size() || data[len - 1] != '\n')
            return false;
        const std::string_view record = data.substr(i + 1, len - i - 2);
        const auto eq = record.find('=');
        if (eq == std::string_view::npos)
            return false;
        const std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
        if (key == "path") {
            path = std::string(value);
        } else if (key == "size") {
            std::uint64_t v = 0;
            if (value.empty() || value.size() > 19)
                return false;
            for (char c : value) {
                if (c < '0' || c > '9')
                    return false;
                v = v * 10 + std::uint64_t(c - '0');
            }
            size = v;
            hasSize = true;
        }
        data.remove_prefix(len);
    }
    return true;
}

}  // namespace

Result<std::vector<TarMember>> readTarMembers(const MappedFile& f)
{
    std::vector<TarMember> members;
    std::string nextName;
    std::uint64_t nextSize = 0;  // from a pax header, when hasNextSize
    bool hasNextSize = false;
    std::uint64_t pos = 0;
    auto bad = [&](const QString& what) {
        return fail<std::vector<TarMember>>(f, ErrorKind::Corrupt,
                                            QStringLiteral("its tar header at byte %1 %2").arg(argText(pos), what));
    };
    while (true) {
        if (!f.contains(pos, kBlock)) {
            if (pos == f.size() && !members.empty())
                break;  // no end-of-archive block: tolerated, as Python's tarfile does
            return bad(QStringLiteral("is cut short (the file has %1 bytes)").arg(argText(f.size())));
        }
        const std::uint8_t* h = f.data() + pos;
        if (zeroBlock(h))
            break;
        if (!checksumOk(h))
            return bad(QStringLiteral("has a wrong checksum"));
        const auto declared = number(h, 124, 12);
        if (!declared)
            return bad(QStringLiteral("has no valid size"));
        const char type = char(h[156]);
        const bool regular = type == '0' || type == '\0' || type == '7';
        const std::uint64_t size = regular && hasNextSize ? nextSize : declared.value();
        const std::uint64_t data = pos + kBlock;
        if (!f.contains(data, size))
            return bad(QStringLiteral("declares %1 bytes of data, past the end of the file (%2 bytes)")
                           .arg(argText(size), argText(f.size())));
        const std::uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;  // size < file size: no overflow
        const std::string_view content(reinterpret_cast<const char*>(f.data() + data), std::size_t(size));
        if (type == 'x' || type == 'L') {
            if (size > kMaxHeaderData)
                return bad(QStringLiteral("has %1 bytes of extended header data (at most %2 are read)")
                               .arg(argText(size), argText(kMaxHeaderData)));
            if (type == 'L')
                nextName = std::string(content.substr(0, strnlen(content.data(), content.size())));
            else if (!parsePax(content, nextName, nextSize, hasNextSize))
                return bad(QStringLiteral("holds a malformed pax header"));
        } else if (regular) {
            if (members.size() >= kMaxMembers)
                return fail<std::vector<TarMember>>(
                    f, ErrorKind::Limit, QStringLiteral("it has more than %1 tar members").arg(argText(kMaxMembers)));
            std::string name = nextName;
            if (name.empty()) {
                name = field(h, 0, 100);
                if (std::memcmp(h + 257, "ustar", 5) == 0)
                    if (const std::string prefix = field(h, 345, 155); !prefix.empty())
                        name = prefix + "/" + name;
            }
            while (name.compare(0, 2, "./") == 0)
                name.erase(0, 2);
            members.push_back({std::move(name), data, size});
            nextName.clear();
            hasNextSize = false;
        }
        // Other types (directories, links, pax global headers) hold nothing a model needs.
        pos = data + padded;
    }
    return members;
}

}  // namespace paramscope::legacy
