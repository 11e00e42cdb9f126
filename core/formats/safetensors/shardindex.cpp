// Sharded safetensors checkpoints: the index (`*.safetensors.index.json`, read with the
// strict JSON reader) maps every tensor name to its shard file; each shard is read as a
// single file and its tensors are checked against what the index lists for it.

#include "formats/safetensors/safetensors_p.h"
#include "formats/safetensors/safetensorsreader.h"
#include "formats/safetensors/strictjson.h"

#include "base/textutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace paramscope::safetensors {

namespace {

QString qs(const std::string& s)
{
    return utf8ToQString(s);
}

/// What an index holds: weight_map's entries (in the text's order, with a hash table by
/// name) and the metadata. Names are views into the index's text, or into `decoded` for the
/// few written with escapes; shard names are kept once each, however many tensors name them.
/// Move-only: the views must go on pointing into the same buffers.
struct ShardIndex {
    struct Shard {
        bool isString = false;
        QString text;  // the file name, or the value rendered for messages
    };
    struct Mapping {
        std::string_view name;
        std::uint32_t shard = 0;  // index into shards
        std::uint64_t seq = 0;    // which member of the text it was (for the first duplicate)
    };
    static constexpr std::uint32_t kEmpty = UINT32_MAX;
    QByteArray text;
    std::vector<std::unique_ptr<std::string>> decoded;
    std::vector<Shard> shards;
    std::vector<Mapping> weightMap;
    std::vector<std::uint32_t> slots;  // open addressing: weightMap indices by name, kEmpty if free
    QMap<QString, QString> metadata;
    std::vector<MetadataEntry> metadataEntries;  // "metadata.<key>", in the index's order

    /// Where `name` goes in slots: its slot, or the free one that ends its probe (slots
    /// not empty).
    std::size_t slotOf(std::string_view name) const
    {
        const std::size_t mask = slots.size() - 1;
        for (std::size_t k = std::hash<std::string_view>()(name) & mask;; k = (k + 1) & mask)
            if (slots[k] == kEmpty || weightMap[slots[k]].name == name)
                return k;
    }
    /// find(), trying first the entry after `previous` (a header mostly lists its tensors in
    /// weight_map's order: the next name is read where the last one was, not at a random slot).
    const Mapping* findAfter(std::string_view name, const Mapping* previous) const
    {
        if (previous && previous + 1 < weightMap.data() + weightMap.size() && previous[1].name == name)
            return previous + 1;
        return find(name);
    }
    /// The mapping of `name`, or null.
    const Mapping* find(std::string_view name) const
    {
        if (slots.empty())
            return nullptr;
        const std::uint32_t i = slots[slotOf(name)];
        return i == kEmpty ? nullptr : &weightMap[i];
    }
};

/// The Python type json.load gives a JSON value that is not a string, from its text.
std::string jsonValueType(const QString& text)
{
    if (text.startsWith(QLatin1Char('{')))
        return "dict";
    if (text.startsWith(QLatin1Char('[')))
        return "list";
    if (text == QLatin1String("true") || text == QLatin1String("false"))
        return "bool";
    if (text == QLatin1String("null"))
        return "NoneType";
    return text.contains(QLatin1Char('.')) || text.contains(QLatin1Char('e')) || text.contains(QLatin1Char('E'))
               ? "float"
               : "int";
}

/// A key written twice: in the top-level object (depth 1) or in an object directly inside it.
struct DuplicateKey {
    int depth = 0;
    std::string parent;  // the top-level key holding it (depth 2)
    std::string key;
    std::uint64_t seq = 0;  // the member that repeated it
};

/// Reads the index's text: the top-level object, and the objects directly inside it member
/// by member (weight_map's and metadata's values kept). The first key written twice is
/// remembered in `dup` and reported only once the whole text has proved to be JSON, so a
/// syntax error anywhere comes first. weight_map's own repeats are found by its hash table
/// (finishWeightMap), not by a set of copies of its names.
class IndexParser {
public:
    explicit IndexParser(const QByteArray& text) : m_json(text.constData(), std::size_t(text.size()))
    {
        m_json.setSyntaxPrefix(QStringLiteral("it is not valid JSON"));
    }
    const QString& error() const { return m_json.error(); }
    std::optional<DuplicateKey> dup;
    bool hasWeightMap = false;

    bool parse(ShardIndex& index)
    {
        if (!m_json.at('{')) {
            // Not an object: still tell invalid JSON from a well-formed array or scalar.
            if (!m_json.skipValue(nullptr) || !m_json.finish("unexpected text after the value"))
                return false;
            return m_json.fail(QStringLiteral("it is not a JSON object"));
        }
        std::unordered_set<std::string> keys;
        std::unordered_map<std::string, std::uint32_t> shardIds;  // a shard's file name -> index
        std::string_view value;  // a string member's value: in the text, or in valueScratch
        std::string valueScratch;
        std::string lastShardName;                     // the shard of the previous entry
        std::uint32_t lastShard = ShardIndex::kEmpty;  // and its index
        const bool ok = m_json.readObject([&](std::string&& key) {
            ++m_seq;
            if (!keys.insert(key).second)
                noteDuplicate(1, std::string(), key);
            const bool weightMap = key == "weight_map";
            const bool metadata = key == "metadata";
            if (!m_json.at('{'))
                return m_json.skipValue(nullptr);
            if (weightMap)
                hasWeightMap = true;
            std::unordered_set<std::string> inner;
            return m_json.readObjectViews([&](std::string_view member) {
                ++m_seq;
                if (!weightMap && !inner.insert(std::string(member)).second)
                    noteDuplicate(2, key, std::string(member));
                if (!weightMap && !metadata)
                    return m_json.skipValue(nullptr);
                ShardIndex::Shard shard;
                shard.isString = m_json.at('"');
                if (shard.isString) {
                    if (!m_json.parseStringView(value, valueScratch))
                        return false;
                } else if (!m_json.skipValue(&shard.text)) {
                    return false;
                }
                if (weightMap) {
                    std::uint32_t id = 0;
                    if (shard.isString && lastShard != ShardIndex::kEmpty && value == lastShardName) {
                        id = lastShard;  // writers list a shard's tensors together
                    } else if (shard.isString) {
                        const auto it = shardIds.find(std::string(value));
                        if (it != shardIds.end()) {
                            id = it->second;
                        } else {
                            id = std::uint32_t(index.shards.size());
                            shard.text = utf8ToQString(value);
                            index.shards.push_back(std::move(shard));
                            shardIds.emplace(std::string(value), id);
                        }
                        lastShard = id;
                        lastShardName.assign(value);
                    } else {
                        id = std::uint32_t(index.shards.size());
                        index.shards.push_back(std::move(shard));
                    }
                    std::string_view name = member;
                    if (!m_json.inText(member)) {  // decoded from escapes: kept beside the text
                        index.decoded.push_back(std::make_unique<std::string>(member));
                        name = *index.decoded.back();
                    }
                    index.weightMap.push_back(ShardIndex::Mapping{name, id, m_seq});
                } else {
                    const QString text = shard.isString ? utf8ToQString(value) : shard.text;
                    index.metadataEntries.push_back(MetadataEntry{"metadata." + std::string(member),
                                                                  shard.isString ? "str" : jsonValueType(text),
                                                                  text.toStdString()});
                    index.metadata.insert(utf8ToQString(member), text);
                }
                return true;
            });
        });
        return ok && m_json.finish("unexpected text after the top-level object");
    }

    /// Builds weight_map's hash table and notes its first repeated name (in the text's order).
    void finishWeightMap(ShardIndex& index)
    {
        const auto& map = index.weightMap;
        std::size_t cap = 16;
        while (cap < map.size() * 2)
            cap *= 2;
        index.slots.assign(cap, ShardIndex::kEmpty);
        const ShardIndex::Mapping* first = nullptr;  // the repeat written first
        for (std::size_t i = 0; i < map.size(); ++i) {
            std::uint32_t& slot = index.slots[index.slotOf(map[i].name)];
            if (slot == ShardIndex::kEmpty)
                slot = std::uint32_t(i);
            else if (!first)
                first = &map[i];
        }
        if (first && (!dup || first->seq < dup->seq))
            dup = DuplicateKey{2, "weight_map", std::string(first->name), first->seq};
    }

private:
    void noteDuplicate(int depth, const std::string& parent, const std::string& key)
    {
        if (!dup)
            dup = DuplicateKey{depth, parent, key, m_seq};
    }

    json::StrictReader m_json;
    std::uint64_t m_seq = 0;  // members read so far, at any depth
};

/// A shard named in weight_map must stay inside the index's folder: the index is as
/// untrusted as the shards, and must not make the reader open arbitrary files.
bool shardNameIsSafe(const QString& shard)
{
    if (shard.isEmpty() || QDir::isAbsolutePath(shard) || shard.contains(QLatin1Char('\\')) || shard.contains(QChar(0)))
        return false;
    for (const QString& part : shard.split(QLatin1Char('/')))
        if (part == QLatin1String(".."))
            return false;
    return true;
}

QString badIndex(const QString& path, const QString& problem)
{
    return QStringLiteral("'%1' is not a valid sharded safetensors index: %2").arg(fileLabel(path), problem);
}

Result<ShardIndex> readIndex(const QString& path)
{
    using R = Result<ShardIndex>;
    auto bad = [&](const QString& problem, ErrorKind kind = ErrorKind::Corrupt) {
        return R::failure(kind, badIndex(path, problem));
    };
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return R::failure(ErrorKind::Io,
                          QStringLiteral("'%1' cannot be opened: %2").arg(fileLabel(path), f.errorString()));
    if (std::uint64_t(f.size()) > kSafetensorsMaxHeaderBytes)
        return bad(QStringLiteral("it is %1 bytes, above the limit of %2")
                       .arg(argText(f.size()), argText(kSafetensorsMaxHeaderBytes)),
                   ErrorKind::Limit);
    ShardIndex index;
    index.text = f.readAll();
    const QByteArray& text = index.text;
    if (const auto at =
            json::invalidUtf8At(reinterpret_cast<const std::uint8_t*>(text.constData()), size_t(text.size()));
        at >= 0)
        return bad(QStringLiteral("it is not valid UTF-8 (byte %1)").arg(at));
    IndexParser parser(text);
    if (!parser.parse(index))
        return bad(parser.error());
    parser.finishWeightMap(index);
    if (parser.dup) {
        if (parser.dup->depth == 2 && parser.dup->parent == "weight_map")
            return bad(QStringLiteral("the tensor '%1' is listed twice in weight_map").arg(qs(parser.dup->key)));
        return bad(QStringLiteral("the key '%1' appears twice").arg(qs(parser.dup->key)));
    }
    if (!parser.hasWeightMap)
        return bad(QStringLiteral("it has no \"weight_map\" object"));
    return index;
}

/// The shards and their tensors, from weight_map.
struct ShardPlan {
    // Shards in name order: writers number them (model-00001-of-00003.safetensors), so
    // that is the order they were written in.
    std::vector<std::uint32_t> order;
    std::vector<std::vector<std::uint32_t>> members;  // per shard: its weight_map entries, in the text's order
};

Result<ShardPlan> planShards(const ShardIndex& index, const QString& indexPath)
{
    ShardPlan plan;
    plan.members.resize(index.shards.size());
    enum : unsigned char { Unchecked, Safe, Unsafe };
    std::vector<unsigned char> state(index.shards.size(), Unchecked);
    const ShardIndex::Mapping* firstBad = nullptr;  // of the entries in a bad shard, the first by name
    for (std::size_t i = 0; i < index.weightMap.size(); ++i) {
        const ShardIndex::Mapping& m = index.weightMap[i];
        unsigned char& st = state[m.shard];
        if (st == Unchecked) {
            const ShardIndex::Shard& shard = index.shards[m.shard];
            st = shard.isString && shardNameIsSafe(shard.text) ? Safe : Unsafe;
        }
        if (st == Unsafe) {
            if (!firstBad || m.name < firstBad->name)
                firstBad = &m;
            continue;
        }
        plan.members[m.shard].push_back(std::uint32_t(i));
    }
    if (firstBad) {
        const ShardIndex::Shard& shard = index.shards[firstBad->shard];
        if (!shard.isString)
            return Result<ShardPlan>::failure(
                ErrorKind::Corrupt,
                badIndex(indexPath, QStringLiteral("weight_map entry '%1' is %2, not a shard file name")
                                        .arg(utf8ToQString(firstBad->name), shard.text)));
        return Result<ShardPlan>::failure(
            ErrorKind::Corrupt,
            badIndex(indexPath,
                     QStringLiteral("weight_map puts '%1' in '%2', which is not a file inside the index's folder")
                         .arg(utf8ToQString(firstBad->name), shard.text)));
    }
    for (std::uint32_t id = 0; id < index.shards.size(); ++id)
        if (!plan.members[id].empty())
            plan.order.push_back(id);
    std::sort(plan.order.begin(), plan.order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return index.shards[a].text < index.shards[b].text; });
    return plan;
}

/// Checks that a shard holds every tensor weight_map puts in it, then adds its tensors to
/// `index`; a tensor weight_map does not list is added with a warning, one it puts in
/// another shard is left out with one. `unlisted`: the names weight_map does not list that
/// earlier shards added.
Status addShard(ModelIndex& index, SpanTable& spans, std::unordered_set<std::string>& unlisted, const ShardIndex& map,
                std::uint32_t shardId, const std::vector<std::uint32_t>& members, OpenedFile& opened,
                const std::vector<const ShardIndex::Mapping*>& where, const QString& indexName)
{
    const QString& shard = map.shards[shardId].text;
    auto& tensors = opened.header.tensors;
    // Each header name looked up in weight_map (`where`): listed here, put in another shard,
    // or not listed. Names are unique on both sides, so the listed ones number the shard's
    // entries exactly when none is missing.
    std::size_t listed = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i)
        listed += where[i] && where[i]->shard == shardId;
    if (listed < members.size()) {
        std::unordered_set<std::string_view> held;
        for (const HeaderTensor& t : tensors)
            held.insert(t.name);
        std::string_view firstMissing;  // the missing name that sorts first
        std::size_t missing = 0;
        for (const std::uint32_t m : members) {
            const std::string_view name = map.weightMap[m].name;
            if (held.count(name))
                continue;
            if (missing++ == 0 || name < firstMissing)
                firstMissing = name;
        }
        return Status::failure(
            ErrorKind::Corrupt,
            QStringLiteral("Sharded checkpoint '%1': weight_map puts '%2' in shard '%3', but that shard does not "
                           "contain it%4")
                .arg(indexName, utf8ToQString(firstMissing), shard,
                     missing > 1 ? QStringLiteral(" (nor %1 other listed tensors)").arg(missing - 1) : QString()));
    }
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        HeaderTensor& t = tensors[i];
        const ShardIndex::Mapping* other = where[i];
        if (!other || other->shard != shardId) {
            if (other || unlisted.count(t.name)) {
                index.warnings << QStringLiteral(
                                      "Shard '%1' also holds '%2', which weight_map puts in '%3'; that "
                                      "copy is ignored")
                                      .arg(shard, qs(t.name), other ? map.shards[other->shard].text : QString());
                continue;
            }
            index.warnings
                << QStringLiteral("Shard '%1' holds '%2', which weight_map does not list").arg(shard, qs(t.name));
            unlisted.insert(t.name);
        }
        appendTensor(index, spans, opened, std::move(t));
    }
    index.warnings << opened.header.warnings;
    QMap<QString, QString> added;  // the shard's __metadata__ keys no earlier shard or the index gave
    for (auto it = opened.header.metadata.cbegin(); it != opened.header.metadata.cend(); ++it)
        if (!index.metadata.contains(it.key())) {
            index.metadata.insert(it.key(), it.value());
            added.insert(it.key(), it.value());
        }
    appendMetadataEntries(index, added);
    return {};
}

/// Opens the shards and parses their headers on worker threads, ahead of the thread that adds
/// them to the index in shard order (which reads the next unclaimed one itself rather than
/// wait); each header's names are looked up in weight_map there too. Every shard is read
/// exactly as on its own; only when is different. The workers stop at a cancel and are joined
/// when the reader goes.
class ShardReader {
public:
    struct Shard {
        std::optional<Result<OpenedFile>> opened;
        std::vector<const ShardIndex::Mapping*> where;  // per header tensor: its weight_map entry, or null
    };

    ShardReader(const ShardIndex& map, std::vector<QString> paths, const LoadOptions& options)
        : m_map(map), m_paths(std::move(paths)), m_options(options), m_shards(m_paths.size())
    {
        const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
        const std::size_t workers =
            std::min({cores - 1, kMaxWorkers, m_paths.size() - std::min<std::size_t>(1, m_paths.size())});
        for (std::size_t i = 0; i < workers; ++i)
            m_threads.emplace_back([this] {
                while (!m_stop && !cancelled(m_options) && readNext()) {
                }
            });
    }
    ~ShardReader()
    {
        m_stop = true;
        for (std::thread& t : m_threads)
            t.join();
    }
    ShardReader(const ShardReader&) = delete;
    ShardReader& operator=(const ShardReader&) = delete;

    /// Shard k, once read.
    Shard& get(std::size_t k)
    {
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                if (m_shards[k].opened)
                    return m_shards[k];
            }
            if (!readNext())
                break;  // every shard is claimed: k is being read
        }
        std::unique_lock<std::mutex> lock(m_mutex);
        m_ready.wait(lock, [&] { return bool(m_shards[k].opened); });
        return m_shards[k];
    }

private:
    static constexpr std::size_t kMaxWorkers = 3;

    /// Claims the next shard and reads it; false when none is left.
    bool readNext()
    {
        const std::size_t k = m_next.fetch_add(1);
        if (k >= m_paths.size())
            return false;
        Shard s = read(m_paths[k]);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_shards[k] = std::move(s);
        }
        m_ready.notify_all();
        return true;
    }

    Shard read(const QString& path) const
    {
        Shard s;
        try {
            auto opened = openFile(path);
            if (opened) {
                s.where.reserve(opened->header.tensors.size());
                const ShardIndex::Mapping* last = nullptr;
                for (const HeaderTensor& t : opened->header.tensors) {
                    last = m_map.findAfter(t.name, last);
                    s.where.push_back(last);
                }
            }
            s.opened = std::move(opened);
        } catch (const std::bad_alloc&) {
            s.where.clear();
            s.opened = Result<OpenedFile>::failure(
                ErrorKind::Limit, QStringLiteral("'%1' cannot be opened: out of memory").arg(fileLabel(path)));
        }
        return s;
    }

    const ShardIndex& m_map;
    const std::vector<QString> m_paths;
    const LoadOptions& m_options;
    std::vector<Shard> m_shards;
    std::atomic<std::size_t> m_next{0};
    std::atomic<bool> m_stop{false};
    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::vector<std::thread> m_threads;  // last: started once everything else is
};

}  // namespace

bool isShardIndex(const QString& path)
{
    return bool(readIndex(path));
}

LoadResult loadSharded(const QString& indexPath, const LoadOptions& options)
{
    const QString indexName = fileLabel(indexPath);
    report(options, 0.0, QStringLiteral("Reading shard index"));
    auto parsed = readIndex(indexPath);
    if (!parsed)
        return LoadResult::failureFrom(parsed);
    auto plan = planShards(parsed.value(), indexPath);
    if (!plan)
        return LoadResult::failureFrom(plan);

    auto index = std::make_shared<ModelIndex>();
    index->filePath = indexPath;
    index->format = ModelFormat::ShardedSafetensors;
    index->engine = QStringLiteral("native");
    index->metadata = parsed->metadata;
    index->metadataEntries = parsed->metadataEntries;

    const QDir folder = QFileInfo(indexPath).absoluteDir();
    SpanTable spans;
    spans.spans.reserve(parsed->weightMap.size());
    index->entries.reserve(parsed->weightMap.size());
    index->storages.reserve(parsed->weightMap.size());
    std::unordered_set<std::string> unlisted;
    std::vector<QString> paths;
    paths.reserve(plan->order.size());
    for (const std::uint32_t id : plan->order)
        paths.push_back(folder.filePath(parsed->shards[id].text));
    ShardReader reader(parsed.value(), paths, options);
    for (std::size_t k = 0; k < plan->order.size(); ++k) {
        const std::uint32_t id = plan->order[k];
        const QString& shard = parsed->shards[id].text;
        const auto& names = plan->members[id];
        if (cancelled(options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
        report(options, double(k) / double(plan->order.size()), QStringLiteral("Reading shard %1").arg(shard));
        index->sourceFiles << paths[k];
        ShardReader::Shard& read = reader.get(k);
        Result<OpenedFile>& opened = *read.opened;
        if (!opened)
            return LoadResult::failure(
                opened.kind(),
                QStringLiteral("Sharded checkpoint '%1': shard '%2' (%3 tensors in weight_map) cannot be read: %4")
                    .arg(argText(indexName), argText(shard), argText(names.size()), argText(opened.error())));
        if (auto st =
                addShard(*index, spans, unlisted, parsed.value(), id, names, opened.value(), read.where, indexName);
            !st)
            return LoadResult::failureFrom(st);
        read = ShardReader::Shard();  // its tensors are the index's now
    }
    if (cancelled(options))
        return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
    finishIndex(*index, std::move(spans));
    report(options, 1.0, QStringLiteral("Done"));
    return std::shared_ptr<const ModelIndex>(std::move(index));
}

}  // namespace paramscope::safetensors
