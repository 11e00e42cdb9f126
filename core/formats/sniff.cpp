// Format sniffing (sniff.h): file names and magic bytes, for the dispatcher and for the
// archive reader's message about a file that is not a zip archive.

#include "formats/sniff.h"

#include "base/mappedfile.h"
#include "formats/legacy/legacyreader.h"
#include "formats/safetensors/safetensors_p.h"
#include "formats/safetensors/safetensorsreader.h"

#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cstring>

namespace paramscope::detail {

bool startsLikeSafetensors(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray head = f.read(9);
    if (head.size() < 9 || head.at(8) != '{')
        return false;
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | std::uint8_t(head.at(i));
    return n >= 2 && n <= kSafetensorsMaxHeaderBytes && n <= std::uint64_t(f.size()) - 8;
}

bool startsLikeZip(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) && f.read(4) == QByteArrayLiteral("PK\x03\x04");
}

bool startsLikeLegacy(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray head = f.read(512);
    const auto* d = reinterpret_cast<const std::uint8_t*>(head.constData());
    return startsLikeLegacyTorchSave(d, std::uint64_t(head.size())) || startsLikeTar(d, std::uint64_t(head.size()));
}

bool hasZipMagic(const std::uint8_t* data, std::uint64_t size)
{
    return size >= 4 && std::memcmp(data, "PK", 2) == 0;
}

SniffedFormat sniffFormat(const QString& path)
{
    const auto endsWith = [&](const char* suffix) { return path.endsWith(QLatin1String(suffix), Qt::CaseInsensitive); };
    if (endsWith(".safetensors"))  // a misnamed PyTorch archive goes to the archive reader
        return startsLikeZip(path) ? SniffedFormat::Other : SniffedFormat::SafetensorsFile;
    if (endsWith(".safetensors.index.json"))
        return startsLikeSafetensors(path) ? SniffedFormat::SafetensorsFile : SniffedFormat::ShardIndex;
    if (endsWith(".index.json"))
        return safetensors::isShardIndex(path) ? SniffedFormat::ShardIndex : SniffedFormat::Other;
    if (startsLikeSafetensors(path))
        return SniffedFormat::SafetensorsFile;
    return startsLikeLegacy(path) ? SniffedFormat::LegacyTorchSave : SniffedFormat::Other;
}

bool isSafetensorsFile(const QString& path)
{
    const SniffedFormat f = sniffFormat(path);
    return f == SniffedFormat::SafetensorsFile || f == SniffedFormat::ShardIndex;
}

Status checkNotGitLfsPointer(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly) || f.size() > kMaxGitLfsPointerBytes)
        return {};
    const QByteArray text = f.read(kMaxGitLfsPointerBytes);
    if (!text.startsWith("version https://git-lfs.github.com/spec/v1\n"))
        return {};
    // The specification's other required keys: "oid sha256:<64 hex>" and "size <bytes>".
    bool oid = false;
    QByteArray size;
    for (const QByteArray& line : text.split('\n')) {
        if (line.startsWith("oid sha256:"))
            oid = true;
        else if (line.startsWith("size "))
            size = line.mid(5).trimmed();
    }
    bool ok = false;
    const qulonglong bytes = size.toULongLong(&ok);
    if (!oid || !ok || size.size() > 20 ||
        !std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return {};
    const QString name = QFileInfo(path).fileName();
    return Status::failure(
        ErrorKind::Unsupported,
        QStringLiteral("'%1' is a Git LFS pointer (the real file is %2 bytes, not downloaded): run git lfs pull")
            .arg(name, QString::number(bytes)));
}

Status describeNonZip(const MappedFile& f)
{
    const std::uint8_t* d = f.data();
    const std::uint64_t n = f.size();
    const QString name = f.label();
    const auto unsupported = [](const QString& message) { return Status::failure(ErrorKind::Unsupported, message); };
    // Legacy torch.save files (the magic pickle, or a tar header) go to the legacy reader;
    // what is left here are pickles and tar files of other kinds.
    if (n >= 2 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5)
        return unsupported(
            QStringLiteral("'%1' is a Python pickle without the torch.save magic number, not a PyTorch model")
                .arg(name));
    if (n >= 262 && std::memcmp(d + 257, "ustar", 5) == 0)
        return unsupported(QStringLiteral("'%1' is a tar file, not a PyTorch model").arg(name));
    if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return unsupported(QStringLiteral("'%1' is a PNG image, not a PyTorch model").arg(name));
    bool text = true;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(n, 512); ++i)
        if (d[i] < 0x09 || (d[i] > 0x0d && d[i] < 0x20) || d[i] == 0x7f)
            text = false;
    if (text)
        return unsupported(QStringLiteral("'%1' is a text file, not a PyTorch model").arg(name));
    return unsupported(QStringLiteral("'%1' is not a PyTorch archive: it does not start with a zip header").arg(name));
}

}  // namespace paramscope::detail
