// The LibTorch helper's result file (layout in torchhelper.h): written by the helper from
// LibTorch's checked index and its storages, read back by the calling program, which
// checks every count, size and offset against the file like any untrusted input.
#include "formats/libtorch/torchhelper.h"
#include "formats/libtorch/torchwire_p.h"

#include "base/mappedfile.h"
#include "model/loadtypes.h"

#include <QFile>

#include <algorithm>

namespace paramscope::detail {

using namespace torchwire;

namespace {

class HelperStorage final : public StorageProvider {
public:
    std::shared_ptr<const MappedFile> file;
    QString modelName;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // offset, size

    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || size_t(i) >= ranges.size())
            return Result<StorageBytes>::failure(
                QStringLiteral("'%1' has no storage #%2").arg(modelName, QString::number(i)));
        if (auto st = file->check(); !st)
            return Result<StorageBytes>::failureFrom(st);
        StorageBytes b;
        b.owner = file;
        b.data = file->data() + ranges[size_t(i)].first;
        b.size = ranges[size_t(i)].second;
        return b;
    }
};

/// Reads entry #i into `e`; the reason when it is malformed. A short read is left for
/// the caller to see in r.ok().
QString readEntry(Reader& r, std::uint64_t i, std::uint64_t storageCount, TensorEntry& e)
{
    e.name = r.getString();
    const auto kind = r.get<std::uint8_t>();
    const auto dt = r.get<std::uint8_t>();
    const auto rank = r.get<std::uint32_t>();
    if (!r.ok())
        return {};
    if (kind > std::uint8_t(TensorKind::Tensor) || dt > std::uint8_t(DType::Unknown) || rank > kMaxRank ||
        std::uint64_t(rank) * 16 > r.left())
        return (QStringLiteral("entry #%1 is malformed").arg(i));
    e.kind = TensorKind(kind);
    e.dtype = DType(dt);
    e.shape.resize(rank);
    e.strides.resize(rank);
    for (auto& v : e.shape)
        v = r.get<std::int64_t>();
    for (auto& v : e.strides)
        v = r.get<std::int64_t>();
    e.storageOffset = r.get<std::int64_t>();
    e.requiresGrad = r.get<std::uint8_t>() != 0;
    e.storage = r.get<std::int32_t>();
    const double scale = r.getF64();
    const auto zeroPoint = r.get<std::int64_t>();
    if (scale != 1.0 || zeroPoint != 0)
        e.setQuantization(scale, zeroPoint);
    const bool perChannel = r.get<std::uint8_t>() != 0;
    if (perChannel) {
        auto qc = std::make_shared<QuantChannels>();
        qc->axis = r.get<std::int32_t>();
        const auto n = r.get<std::uint64_t>();
        if (!r.ok() || n > r.left() / 16)
            return (QStringLiteral("entry #%1 has malformed per-channel parameters").arg(i));
        qc->scales.resize(n);
        qc->zeroPoints.resize(n);
        for (auto& s : qc->scales)
            s = r.getF64();
        for (auto& z : qc->zeroPoints)
            z = r.get<std::int64_t>();
        e.setQuantization(scale, zeroPoint, std::move(qc));
    }
    if (!r.ok())
        return {};
    if (e.storage < -1 || (e.storage >= 0 && std::uint64_t(e.storage) >= storageCount))
        return (QStringLiteral("entry #%1 names storage #%2, which does not exist").arg(i).arg(e.storage));
    if (e.storageOffset < 0)
        return (QStringLiteral("entry #%1 has a negative storage offset").arg(i));
    return {};
}

}  // namespace

Status writeTorchHelperResult(const ModelIndex& index, const QString& outputPath)
{
    const QString name = fileLabel(index.filePath);
    auto fail = [&](const QString& why) {
        return Status::failure(QLatin1Char('\'') + name +
                               QStringLiteral("' could not be passed on by the LibTorch engine: ") + why);
    };
    std::vector<StorageBytes> data;
    data.reserve(index.storages.size());
    for (size_t i = 0; i < index.storages.size(); ++i) {
        if (!index.provider)
            return fail(QStringLiteral("no storage provider"));
        auto b = index.provider->storageBytes(int(i));
        if (!b)
            return fail(b.error());
        if (b->size != index.storages[i].byteSize)
            return fail(QStringLiteral("storage #%1 changed size").arg(i));
        data.push_back(b.value());
    }
    Writer h;
    h.put<std::uint8_t>(std::uint8_t(index.format));
    h.put<std::uint32_t>(std::uint32_t(index.warnings.size()));
    for (const QString& w : index.warnings)
        h.putString(w);
    // Storage offsets need the header size: lay out the header with placeholder offsets,
    // then patch them.
    h.put<std::uint32_t>(std::uint32_t(index.storages.size()));
    std::vector<qsizetype> offsetSlots;
    for (const StorageInfo& s : index.storages) {
        h.putString(s.key.str());
        h.put<std::uint8_t>(std::uint8_t(s.dtype));
        h.put<std::uint64_t>(s.byteSize);
        offsetSlots.push_back(h.bytes.size());
        h.put<std::uint64_t>(0);
    }
    h.put<std::uint32_t>(std::uint32_t(index.entries.size()));
    for (const TensorEntry& e : index.entries) {
        h.putString(e.name);
        h.put<std::uint8_t>(std::uint8_t(e.kind));
        h.put<std::uint8_t>(std::uint8_t(e.dtype));
        h.put<std::uint32_t>(std::uint32_t(e.shape.size()));
        for (auto v : e.shape)
            h.put<std::int64_t>(v);
        for (size_t k = 0; k < e.shape.size(); ++k)
            h.put<std::int64_t>(k < e.strides.size() ? e.strides[k] : 0);
        h.put<std::int64_t>(e.storageOffset);
        h.put<std::uint8_t>(e.requiresGrad ? 1 : 0);
        h.put<std::int32_t>(e.storage);
        h.putF64(e.qScale());
        h.put<std::int64_t>(e.qZeroPoint());
        h.put<std::uint8_t>(e.qChannels() ? 1 : 0);
        if (e.qChannels()) {
            h.put<std::int32_t>(e.qChannels()->axis);
            h.put<std::uint64_t>(e.qChannels()->scales.size());
            for (double s : e.qChannels()->scales)
                h.putF64(s);
            if (e.qChannels()->zeroPoints.size() != e.qChannels()->scales.size())
                return fail(QStringLiteral("per-channel parameters of '%1' differ in length")
                                .arg(QString::fromStdString(e.name)));
            for (auto z : e.qChannels()->zeroPoints)
                h.put<std::int64_t>(z);
        }
    }
    const std::uint64_t headerSize = std::uint64_t(h.bytes.size());
    std::uint64_t pos = 16 + headerSize;
    std::vector<std::uint64_t> offsets;
    for (size_t i = 0; i < data.size(); ++i) {
        pos = (pos + kAlign - 1) / kAlign * kAlign;
        offsets.push_back(pos);
        std::uint64_t le = qToLittleEndian(pos);
        std::memcpy(h.bytes.data() + offsetSlots[i], &le, sizeof le);
        pos += data[i].size;
    }
    QFile f(outputPath);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return fail(QStringLiteral("cannot write '%1': %2").arg(outputPath, f.errorString()));
    Writer top;
    top.bytes.append(kMagic, sizeof kMagic);
    top.put<std::uint64_t>(headerSize);
    auto write = [&](const char* p, std::uint64_t n) {
        while (n > 0) {
            const qint64 chunk = qint64(std::min<std::uint64_t>(n, 64u << 20));
            const qint64 w = f.write(p, chunk);
            if (w <= 0)
                return false;
            p += w;
            n -= std::uint64_t(w);
        }
        return true;
    };
    bool ok = write(top.bytes.constData(), std::uint64_t(top.bytes.size())) && write(h.bytes.constData(), headerSize);
    static const char zeros[kAlign] = {};
    for (size_t i = 0; ok && i < data.size(); ++i) {
        const std::uint64_t here = std::uint64_t(f.pos());
        ok = write(zeros, offsets[i] - here) && write(reinterpret_cast<const char*>(data[i].data), data[i].size);
    }
    if (ok)
        ok = f.flush();
    if (!ok)
        return fail(QStringLiteral("cannot write '%1': %2").arg(outputPath, f.errorString()));
    return {};
}

LoadResult readTorchHelperResult(const QString& resultPath, const QString& modelPath)
{
    const QString name = fileLabel(modelPath);
    auto damaged = [&](const QString& why) {
        return LoadResult::failure(
            QLatin1Char('\'') + name +
            QStringLiteral("' could not be read with the LibTorch engine: its helper returned a damaged result (") +
            why + QLatin1Char(')'));
    };
    auto mapped = MappedFile::open(resultPath);
    if (!mapped)
        return damaged(mapped.error());
    const std::shared_ptr<const MappedFile> file = mapped.value();
    const std::uint64_t size = file->size();
    if (size < 16 || std::memcmp(file->data(), kMagic, sizeof kMagic) != 0)
        return damaged(QStringLiteral("no result header"));
    Reader top(file->data() + 8, 8);
    const auto headerSize = top.get<std::uint64_t>();
    if (headerSize > size - 16)
        return damaged(QStringLiteral("header runs past the end"));
    Reader r(file->data() + 16, headerSize);

    auto index = std::make_shared<ModelIndex>();
    index->filePath = modelPath;
    index->engine = loaderEngineName(LoaderEngine::LibTorch);
    const auto format = r.get<std::uint8_t>();
    if (format >= std::uint8_t(ModelFormat::Unknown))
        return damaged(QStringLiteral("unknown format %1").arg(format));
    index->format = ModelFormat(format);
    const auto nWarnings = r.getCount(4);
    for (std::uint64_t i = 0; i < nWarnings && r.ok(); ++i)
        index->warnings << QString::fromStdString(r.getString());

    auto provider = std::make_shared<HelperStorage>();
    provider->file = file;
    provider->modelName = name;
    const std::uint64_t dataStart = 16 + headerSize;
    const auto nStorages = r.getCount(4 + 1 + 8 + 8);
    index->storages.reserve(nStorages);
    for (std::uint64_t i = 0; i < nStorages && r.ok(); ++i) {
        StorageInfo s;
        s.key = r.getString();
        const auto dt = r.get<std::uint8_t>();
        s.byteSize = r.get<std::uint64_t>();
        const auto offset = r.get<std::uint64_t>();
        if (!r.ok())
            break;
        if (dt > std::uint8_t(DType::Unknown))
            return damaged(QStringLiteral("storage #%1 has an unknown dtype").arg(i));
        s.dtype = DType(dt);
        if (offset < dataStart || offset % kAlign != 0 || !file->contains(offset, s.byteSize))
            return damaged(QStringLiteral("storage #%1 lies outside the result").arg(i));
        provider->ranges.emplace_back(offset, s.byteSize);
        index->storages.push_back(std::move(s));
    }
    const auto nEntries = r.getCount(4 + 1 + 1 + 4 + 8 + 1 + 4 + 8 + 8 + 1);
    index->entries.reserve(nEntries);
    for (std::uint64_t i = 0; i < nEntries && r.ok(); ++i) {
        TensorEntry e;
        if (const QString why = readEntry(r, i, index->storages.size(), e); !why.isEmpty())
            return damaged(why);
        if (!r.ok())
            break;
        index->entries.push_back(std::move(e));
    }
    if (!r.ok())
        return damaged(QStringLiteral("header is cut short"));
    if (r.left() != 0)
        return damaged(QStringLiteral("header has trailing bytes"));
    index->provider = provider;
    index->finalize();
    return LoadResult(std::shared_ptr<const ModelIndex>(std::move(index)));
}

}  // namespace paramscope::detail
