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
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace paramscope::safetensors {

namespace {

QString qs(const std::string& s)
{
    return utf8ToQString(s);
}

/// What an index holds: weight_map's entries (sorted by name once read) and the metadata.
/// Shard names are kept once each, however many tensors name them.
struct ShardIndex {
    struct Shard {
        bool isString = false;
        QString text;  // the file name, or the value rendered for messages
    };
    struct Mapping {
        std::string name;
        std::uint32_t shard = 0;  // index into shards
        std::uint64_t seq = 0;    // which member of the text it was (for the first duplicate)
    };
    std::vector<Shard> shards;
    std::vector<Mapping> weightMap;
    QMap<QString, QString> metadata;
    std::vector<MetadataEntry> metadataEntries;  // "metadata.<key>", in the index's order

    /// The mapping of `name`, or null (weightMap sorted).
    const Mapping* find(std::string_view name) const
    {
        const auto it = std::lower_bound(weightMap.begin(), weightMap.end(), name,
                                         [](const Mapping& m, std::string_view n) { return m.name < n; });
        return it != weightMap.end() && it->name == name ? &*it : nullptr;
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
/// syntax error anywhere comes first. weight_map's own repeats are found by sorting it
/// (finishWeightMap), not by a set of copies of its names.
class IndexParser {
public:
    IndexParser(const QByteArray& text) : m_json(text.constData(), std::size_t(text.size()))
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
        std::string value;
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
            return m_json.readObject([&](std::string&& member) {
                ++m_seq;
                if (!weightMap && !inner.insert(member).second)
                    noteDuplicate(2, key, member);
                if (!weightMap && !metadata)
                    return m_json.skipValue(nullptr);
                ShardIndex::Shard shard;
                shard.isString = m_json.at('"');
                if (shard.isString) {
                    if (!m_json.parseString(value))
                        return false;
                } else if (!m_json.skipValue(&shard.text)) {
                    return false;
                }
                if (weightMap) {
                    std::uint32_t id = 0;
                    if (shard.isString) {
                        const auto it = shardIds.find(value);
                        if (it != shardIds.end()) {
                            id = it->second;
                        } else {
                            id = std::uint32_t(index.shards.size());
                            shard.text = qs(value);
                            index.shards.push_back(std::move(shard));
                            shardIds.emplace(value, id);
                        }
                    } else {
                        id = std::uint32_t(index.shards.size());
                        index.shards.push_back(std::move(shard));
                    }
                    index.weightMap.push_back(ShardIndex::Mapping{std::move(member), id, m_seq});
                } else {
                    const QString text = shard.isString ? qs(value) : shard.text;
                    index.metadataEntries.push_back(MetadataEntry{
                        "metadata." + member, shard.isString ? "str" : jsonValueType(text), text.toStdString()});
                    index.metadata.insert(qs(member), text);
                }
                return true;
            });
        });
        return ok && m_json.finish("unexpected text after the top-level object");
    }

    /// Sorts weight_map by name and notes its first repeated name (in the text's order).
    void finishWeightMap(ShardIndex& index)
    {
        auto& map = index.weightMap;
        std::stable_sort(map.begin(), map.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        const ShardIndex::Mapping* first = nullptr;  // the repeat written first
        for (std::size_t i = 1; i < map.size(); ++i)
            if (map[i].name == map[i - 1].name && (!first || map[i].seq < first->seq) &&
                (i < 2 || map[i - 2].name != map[i].name))
                first = &map[i];
        if (first && (!dup || first->seq < dup->seq))
            dup = DuplicateKey{2, "weight_map", first->name, first->seq};
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
    const QByteArray text = f.readAll();
    if (const auto at =
            json::invalidUtf8At(reinterpret_cast<const std::uint8_t*>(text.constData()), size_t(text.size()));
        at >= 0)
        return bad(QStringLiteral("it is not valid UTF-8 (byte %1)").arg(at));
    ShardIndex index;
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
    std::vector<std::vector<std::uint32_t>> members;  // per shard: its weight_map entries, by name
};

Result<ShardPlan> planShards(const ShardIndex& index, const QString& indexPath)
{
    ShardPlan plan;
    plan.members.resize(index.shards.size());
    std::vector<unsigned char> checked(index.shards.size(), 0);
    for (std::size_t i = 0; i < index.weightMap.size(); ++i) {
        const auto& [name, id, seq] = index.weightMap[i];
        const ShardIndex::Shard& shard = index.shards[id];
        if (!checked[id]) {
            if (!shard.isString)
                return Result<ShardPlan>::failure(
                    ErrorKind::Corrupt,
                    badIndex(indexPath, QStringLiteral("weight_map entry '%1' is %2, not a shard file name")
                                            .arg(qs(name), shard.text)));
            if (!shardNameIsSafe(shard.text))
                return Result<ShardPlan>::failure(
                    ErrorKind::Corrupt,
                    badIndex(
                        indexPath,
                        QStringLiteral("weight_map puts '%1' in '%2', which is not a file inside the index's folder")
                            .arg(qs(name), shard.text)));
            checked[id] = 1;
        }
        plan.members[id].push_back(std::uint32_t(i));
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
Status addShard(ModelIndex& index, std::vector<StorageSpan>& spans, std::unordered_set<std::string>& unlisted,
                const ShardIndex& map, std::uint32_t shardId, const std::vector<std::uint32_t>& members,
                OpenedFile& opened, const QString& indexName)
{
    const QString& shard = map.shards[shardId].text;
    const auto& tensors = opened.header.tensors;
    // The header's names in name order, merged with the shard's weight_map entries (also in
    // name order): what is missing, and which tensors are listed here.
    std::vector<std::uint32_t> byName(tensors.size());
    for (std::uint32_t i = 0; i < byName.size(); ++i)
        byName[i] = i;
    std::sort(byName.begin(), byName.end(),
              [&](std::uint32_t a, std::uint32_t b) { return tensors[a].name < tensors[b].name; });
    std::vector<unsigned char> listed(tensors.size(), 0);
    const std::string* firstMissing = nullptr;  // the missing name that sorts first
    std::size_t missing = 0;
    std::size_t h = 0;
    for (const std::uint32_t m : members) {
        const std::string& name = map.weightMap[m].name;
        while (h < byName.size() && tensors[byName[h]].name < name)
            ++h;
        if (h < byName.size() && tensors[byName[h]].name == name) {
            listed[byName[h]] = 1;
        } else {
            if (!firstMissing)
                firstMissing = &name;
            ++missing;
        }
    }
    if (missing > 0)
        return Status::failure(
            ErrorKind::Corrupt,
            QStringLiteral("Sharded checkpoint '%1': weight_map puts '%2' in shard '%3', but that shard does not "
                           "contain it%4")
                .arg(indexName, qs(*firstMissing), shard,
                     missing > 1 ? QStringLiteral(" (nor %1 other listed tensors)").arg(missing - 1) : QString()));
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        HeaderTensor& t = opened.header.tensors[i];
        if (!listed[i]) {
            const ShardIndex::Mapping* other = map.find(t.name);
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
    std::vector<StorageSpan> spans;
    spans.reserve(parsed->weightMap.size());
    index->entries.reserve(parsed->weightMap.size());
    index->storages.reserve(parsed->weightMap.size());
    std::unordered_set<std::string> unlisted;
    int done = 0;
    for (const std::uint32_t id : plan->order) {
        const QString& shard = parsed->shards[id].text;
        const auto& names = plan->members[id];
        if (cancelled(options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
        report(options, double(done) / double(plan->order.size()), QStringLiteral("Reading shard %1").arg(shard));
        index->sourceFiles << folder.filePath(shard);
        auto opened = openFile(folder.filePath(shard));
        if (!opened)
            return LoadResult::failure(
                opened.kind(),
                QStringLiteral("Sharded checkpoint '%1': shard '%2' (%3 tensors in weight_map) cannot be read: %4")
                    .arg(argText(indexName), argText(shard), argText(names.size()), argText(opened.error())));
        if (auto st = addShard(*index, spans, unlisted, parsed.value(), id, names, opened.value(), indexName); !st)
            return LoadResult::failureFrom(st);
        ++done;
    }
    if (cancelled(options))
        return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
    finishIndex(*index, std::move(spans));
    report(options, 1.0, QStringLiteral("Done"));
    return std::shared_ptr<const ModelIndex>(std::move(index));
}

}  // namespace paramscope::safetensors
