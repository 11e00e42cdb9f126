// The single-file safetensors reader: maps the file, validates its header (header.cpp) and
// lists its tensors in data order, each backed by a zero-copy slice of the mapping. Also the
// pieces the sharded-checkpoint reader (shardindex.cpp) uses for each of its shards.

#include "formats/safetensors/safetensorsreader.h"
#include "formats/safetensors/safetensors_p.h"

#include "base/resourcelimits.h"
#include "base/textutil.h"
#include "formats/engines_p.h"

#include <algorithm>
#include <limits>

namespace paramscope::safetensors {

namespace {

QString qs(const std::string& s)
{
    return utf8ToQString(s);
}

/// One storage per tensor, each a slice of a mapped file (of its shard).
class SafetensorsProvider final : public StorageProvider {
public:
    SafetensorsProvider(SpanTable spans, const std::vector<StorageInfo>& storages) : m_table(std::move(spans))
    {
        // The storages' names, for messages: back to back, not one allocation each.
        m_nameEnds.reserve(storages.size());
        std::size_t bytes = 0;
        for (const StorageInfo& s : storages)
            bytes += s.key.size();
        m_names.reserve(bytes);
        for (const StorageInfo& s : storages) {
            m_names += s.key;
            m_nameEnds.push_back(m_names.size());
        }
    }
    std::uint64_t readOrder(int index) const override
    {
        // Shards in the order their first tensor comes (the files' order), each front to back.
        if (index < 0 || size_t(index) >= m_table.spans.size())
            return std::uint64_t(index);
        const StorageSpan& s = m_table.spans[size_t(index)];
        return (std::uint64_t(s.file) << 40) | std::min<std::uint64_t>(s.offset, (std::uint64_t(1) << 40) - 1);
    }

    Result<StorageBytes> storageBytes(int index) const override
    {
        if (index < 0 || size_t(index) >= m_table.spans.size())
            return Result<StorageBytes>::failure(ErrorKind::Failed, QStringLiteral("no storage #%1").arg(index));
        const StorageSpan& s = m_table.spans[size_t(index)];
        const std::shared_ptr<const MappedFile>& file = m_table.files[s.file];
        // A file truncated in place since it was mapped would raise SIGBUS on access;
        // check() catches that before the bytes are handed out.
        if (auto st = file->check(); !st)
            return Result<StorageBytes>::failure(
                st.kind(), QStringLiteral("'%1' cannot be read: %2").arg(name(index), st.error()));
        StorageBytes b;
        b.owner = file;
        b.data = file->data() + s.offset;
        b.size = s.size;
        return b;
    }

private:
    QString name(int index) const
    {
        if (size_t(index) >= m_nameEnds.size())
            return QString();
        const std::size_t begin = index == 0 ? 0 : m_nameEnds[size_t(index) - 1];
        return utf8ToQString(std::string_view(m_names).substr(begin, m_nameEnds[size_t(index)] - begin));
    }

    SpanTable m_table;
    std::string m_names;
    std::vector<std::size_t> m_nameEnds;
};

/// contiguousStrides() straight into Dims (no std::vector in between), saturating alike.
Dims stridesOf(const Dims& shape)
{
    Dims strides(shape.size(), 1);
    std::int64_t acc = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = acc;
        if (__builtin_mul_overflow(acc, std::max<std::int64_t>(shape[i], 1), &acc))
            acc = std::numeric_limits<std::int64_t>::max();
    }
    return strides;
}

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

void appendTensor(ModelIndex& index, SpanTable& spans, const OpenedFile& f, HeaderTensor&& t)
{
    if (t.name.size() > limits::kMaxNameBytes) {
        index.warnings << QStringLiteral("a tensor whose name is longer than %1 bytes is skipped (it starts '%2…')")
                              .arg(argText(std::int64_t(limits::kMaxNameBytes)), qs(t.name.substr(0, 60)));
        return;
    }
    if (spans.files.empty() || spans.files.back() != f.file)
        spans.files.push_back(f.file);
    index.storages.push_back(StorageInfo{t.name, t.dtype, t.end - t.begin});
    spans.spans.push_back(
        StorageSpan{std::uint32_t(spans.files.size() - 1), f.header.dataStart + t.begin, t.end - t.begin});
    TensorEntry e;
    e.kind = TensorKind::Tensor;
    e.dtype = t.dtype;
    e.strides = stridesOf(t.shape);
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

void finishIndex(ModelIndex& index, SpanTable spans)
{
    index.provider = std::make_shared<SafetensorsProvider>(std::move(spans), index.storages);
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
    SpanTable spans;
    spans.spans.reserve(opened->header.tensors.size());
    index->entries.reserve(opened->header.tensors.size());
    index->storages.reserve(opened->header.tensors.size());
    for (HeaderTensor& t : opened->header.tensors)
        appendTensor(*index, spans, opened.value(), std::move(t));
    finishIndex(*index, std::move(spans));
    report(options, 1.0, QStringLiteral("Done"));
    return std::shared_ptr<const ModelIndex>(std::move(index));
}

}  // namespace paramscope::safetensors
