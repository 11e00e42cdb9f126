// The single-file safetensors reader: maps the file, validates its header (header.cpp) and
// lists its tensors in data order, each backed by a zero-copy slice of the mapping. Also the
// pieces the sharded-checkpoint reader (shardindex.cpp) uses for each of its shards.

#include "formats/safetensors/safetensorsreader.h"
#include "formats/safetensors/safetensors_p.h"

#include "base/resourcelimits.h"
#include "base/textutil.h"
#include "formats/engines_p.h"

#include <algorithm>
#include <unordered_map>

namespace paramscope::safetensors {

namespace {

QString qs(const std::string& s)
{
    return utf8ToQString(s);
}

/// One storage per tensor, each a slice of a mapped file (of its shard).
class SafetensorsProvider final : public StorageProvider {
public:
    explicit SafetensorsProvider(std::vector<StorageSpan> spans) : m_spans(std::move(spans))
    {
        // Shards in the order their first tensor comes, each front to back.
        std::unordered_map<const MappedFile*, std::uint64_t> shard;
        m_order.reserve(m_spans.size());
        for (const StorageSpan& s : m_spans) {
            const auto n = shard.emplace(s.file.get(), std::uint64_t(shard.size())).first->second;
            m_order.push_back((n << 40) | std::min<std::uint64_t>(s.offset, (std::uint64_t(1) << 40) - 1));
        }
    }
    std::uint64_t readOrder(int index) const override
    {
        return index >= 0 && size_t(index) < m_order.size() ? m_order[size_t(index)] : std::uint64_t(index);
    }

    Result<StorageBytes> storageBytes(int index) const override
    {
        if (index < 0 || size_t(index) >= m_spans.size())
            return Result<StorageBytes>::failure(ErrorKind::Failed, QStringLiteral("no storage #%1").arg(index));
        const StorageSpan& s = m_spans[size_t(index)];
        // A file truncated in place since it was mapped would raise SIGBUS on access;
        // check() catches that before the bytes are handed out.
        if (auto st = s.file->check(); !st)
            return Result<StorageBytes>::failure(st.kind(),
                                                 QStringLiteral("'%1' cannot be read: %2").arg(qs(s.name), st.error()));
        StorageBytes b;
        b.owner = s.file;
        b.data = s.file->data() + s.offset;
        b.size = s.size;
        return b;
    }

private:
    std::vector<StorageSpan> m_spans;
    std::vector<std::uint64_t> m_order;
};

}  // namespace

Result<OpenedFile> openFile(const QString& path)
{
    if (auto st = detail::checkReadableFile(path); !st)
        return Result<OpenedFile>::failureFrom(st);
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return Result<OpenedFile>::failureFrom(mapped);
    if (mapped.value()->size() == 0)
        return Result<OpenedFile>::failure(ErrorKind::Corrupt,
                                           QStringLiteral("'%1' is empty (0 bytes)").arg(fileLabel(path)));
    auto header = parseHeader(mapped.value()->data(), mapped.value()->size(), path);
    if (auto st = mapped.value()->check(); !st)  // truncated while the header was read
        return Result<OpenedFile>::failureFrom(st);
    if (!header)
        return Result<OpenedFile>::failureFrom(header);
    return OpenedFile{std::move(mapped.value()), std::move(header.value())};
}

void appendTensor(ModelIndex& index, std::vector<StorageSpan>& spans, const OpenedFile& f, HeaderTensor&& t)
{
    if (t.name.size() > limits::kMaxNameBytes) {
        index.warnings << QStringLiteral("a tensor whose name is longer than %1 bytes is skipped (it starts '%2…')")
                              .arg(argText(std::int64_t(limits::kMaxNameBytes)), qs(t.name.substr(0, 60)));
        return;
    }
    index.storages.push_back(StorageInfo{t.name, t.dtype, t.end - t.begin});
    spans.push_back(StorageSpan{f.file, f.header.dataStart + t.begin, t.end - t.begin, t.name});
    TensorEntry e;
    e.kind = TensorKind::Tensor;
    e.dtype = t.dtype;
    e.strides = contiguousStrides(t.shape);
    e.shape = std::move(t.shape);
    e.name = std::move(t.name);
    e.storage = int(index.storages.size()) - 1;
    e.sourceFile = int(index.sourceFiles.size()) - 1;  // the shard being added, or -1 for filePath
    index.entries.push_back(std::move(e));
}

void appendMetadataEntries(ModelIndex& index, const QMap<QString, QString>& metadata)
{
    for (auto it = metadata.cbegin(); it != metadata.cend(); ++it)
        index.metadataEntries.push_back(
            MetadataEntry{"__metadata__." + it.key().toStdString(), "str", it.value().toStdString()});
}

void finishIndex(ModelIndex& index, std::vector<StorageSpan> spans)
{
    index.provider = std::make_shared<SafetensorsProvider>(std::move(spans));
    // finalize() sizes entries from their dtype; dtypes ParamScope lacks still occupy bytes.
    index.finalize();
    for (auto& e : index.entries)
        if (e.dtype == DType::Unknown && e.storage >= 0)
            e.bytes = std::int64_t(index.storages[size_t(e.storage)].byteSize);
}

LoadResult loadFile(const QString& path, const LoadOptions& options)
{
    report(options, 0.0, QStringLiteral("Reading safetensors header"));
    auto opened = openFile(path);
    if (!opened)
        return LoadResult::failureFrom(opened);
    if (cancelled(options))
        return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(path));
    auto index = std::make_shared<ModelIndex>();
    index->filePath = path;
    index->format = ModelFormat::Safetensors;
    index->engine = QStringLiteral("native");
    index->metadata = opened->header.metadata;
    appendMetadataEntries(*index, opened->header.metadata);
    index->warnings = opened->header.warnings;
    std::vector<StorageSpan> spans;
    spans.reserve(opened->header.tensors.size());
    index->entries.reserve(opened->header.tensors.size());
    index->storages.reserve(opened->header.tensors.size());
    for (HeaderTensor& t : opened->header.tensors)
        appendTensor(*index, spans, opened.value(), std::move(t));
    finishIndex(*index, std::move(spans));
    report(options, 1.0, QStringLiteral("Done"));
    return std::shared_ptr<const ModelIndex>(std::move(index));
}

}  // namespace paramscope::safetensors
