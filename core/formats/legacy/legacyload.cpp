// Loading a legacy torch.save or tar file (legacyreader.h): the container is read by
// legacyfile.cpp or legacytar.cpp, then the main pickle is walked (torch/walker.h) with
// storage records that point into the memory-mapped file, read lazily.

#include "formats/legacy/legacyreader.h"

#include "base/mappedfile.h"
#include "formats/engines_p.h"
#include "formats/legacy/legacy_p.h"
#include "formats/torch/walker.h"

#include <QFileInfo>

#include <algorithm>
#include <unordered_map>

namespace paramscope {

namespace {

/// Index storage i is the bytes [offsets[i], offsets[i] + bytes[i]) of the mapped file.
class MappedStorages final : public StorageProvider {
public:
    std::shared_ptr<const MappedFile> file;
    std::vector<std::uint64_t> offsets, bytes;

    Result<StorageBytes> storageBytes(int i) const override
    {
        if (i < 0 || std::size_t(i) >= offsets.size())
            return Result<StorageBytes>::failure(
                ErrorKind::Failed, QStringLiteral("'%1' has no storage #%2").arg(argText(file->label()), argText(i)));
        StorageBytes b;
        b.owner = file;
        b.data = file->data() + offsets[std::size_t(i)];
        b.size = bytes[std::size_t(i)];
        return b;
    }
    std::uint64_t readOrder(int i) const override
    {
        return i >= 0 && std::size_t(i) < offsets.size() ? offsets[std::size_t(i)] : std::uint64_t(i);
    }
};

/// The records of a legacy container, for the walk (which must not outlive them).
class LegacyRecords final : public detail::StorageRecords {
public:
    LegacyRecords(std::shared_ptr<const MappedFile> file, const std::vector<LegacyRecord>& records)
        : m_file(std::move(file)), m_first(records.data())
    {
        m_byKey.reserve(records.size());
        for (const auto& r : records)
            m_byKey.emplace(r.key, &r);
    }
    /// The handle is the record's index in the container's list.
    std::optional<detail::StorageRecord> find(std::string_view key) const override
    {
        const LegacyRecord* r = byKey(key);
        return r ? std::optional<detail::StorageRecord>(detail::StorageRecord{r->bytes, std::uint64_t(r - m_first)})
                 : std::nullopt;
    }
    Result<StorageBytes> read(const detail::StorageRecord& record, std::uint64_t bytes) const override
    {
        const LegacyRecord& r = m_first[record.handle];
        StorageBytes b;
        b.owner = m_file;
        b.data = m_file->data() + r.offset;
        b.size = std::min(bytes, r.bytes);
        return b;
    }
    std::shared_ptr<const StorageProvider> provider(std::vector<detail::StorageRecord> records,
                                                    std::vector<std::uint64_t> bytes) const override
    {
        auto p = std::make_shared<MappedStorages>();
        p->file = m_file;
        p->offsets.reserve(records.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            const LegacyRecord& r = m_first[records[i].handle];
            p->offsets.push_back(r.offset);
            bytes[i] = std::min(bytes[i], r.bytes);
        }
        p->bytes = std::move(bytes);
        return p;
    }

private:
    const LegacyRecord* byKey(std::string_view key) const
    {
        auto it = m_byKey.find(key);
        return it == m_byKey.end() ? nullptr : it->second;
    }
    std::shared_ptr<const MappedFile> m_file;
    const LegacyRecord* m_first;  // the container's records (a vector that outlives the walk)
    std::unordered_map<std::string_view, const LegacyRecord*> m_byKey;  // views of the records' keys
};

LoadResult load(const QString& path, const LoadOptions& options)
{
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return LoadResult::failureFrom(mapped);
    std::shared_ptr<const MappedFile> file = mapped.value();
    const bool tar = startsLikeTar(file->data(), file->size());
    if (!tar && !startsLikeLegacyTorchSave(file->data(), file->size()))
        return legacy::fail<std::shared_ptr<const ModelIndex>>(
            *file, ErrorKind::Unsupported, QStringLiteral("it is neither a legacy torch.save file nor a tar file"));
    auto container = tar ? readLegacyTar(*file, options) : readLegacyTorchSave(*file, options);
    if (!container)
        return LoadResult::failureFrom(container);
    if (options.progress)
        options.progress(0.5, QStringLiteral("Indexing tensors"));
    auto index = std::make_shared<ModelIndex>();
    index->filePath = path;
    index->engine = loaderEngineName(LoaderEngine::Native);
    index->format = container->format;
    index->warnings = container->warnings;
    const LegacyRecords records(file, container->records);
    detail::WalkOptions walk;
    walk.load = &options;
    walk.fileLabel = file->label();
    walk.pickleName = tar ? QStringLiteral("the pickle member") : QStringLiteral("the main pickle");
    if (auto st = detail::indexDocument(container->doc, records, walk, *index); !st)
        return LoadResult::failureFrom(st);
    if (auto st = file->check(); !st)  // truncated while it was read
        return LoadResult::failureFrom(st);
    if (options.progress)
        options.progress(1.0, QStringLiteral("Done"));
    return LoadResult(std::shared_ptr<const ModelIndex>(std::move(index)));
}

}  // namespace

namespace detail {

LoadResult loadLegacy(const QString& path, const LoadOptions& options)
{
    return guardedLoad(path, [&] { return load(path, options); });
}

}  // namespace detail

}  // namespace paramscope
