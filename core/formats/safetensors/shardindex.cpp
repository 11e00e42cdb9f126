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
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace paramscope::safetensors {

namespace {

QString qs(const std::string& s)
{
    return utf8ToQString(s);
}

/// What an index holds: weight_map's entries (sorted by name once read) and the metadata.
struct ShardIndex {
    struct Shard {
        bool isString = false;
        QString text;  // the file name, or the value rendered for messages
    };
    std::vector<std::pair<std::string, Shard>> weightMap;
    QMap<QString, QString> metadata;
    std::vector<MetadataEntry> metadataEntries;  // "metadata.<key>", in the index's order
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
};

/// Reads the index's text: the top-level object, and the objects directly inside it member
/// by member (weight_map's and metadata's values kept). The first key written twice is
/// remembered in `dup` and reported only once the whole text has proved to be JSON, so a
/// syntax error anywhere comes first.
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
        const bool ok = m_json.readObject([&](std::string&& key) {
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
                if (!inner.insert(member).second)
                    noteDuplicate(2, key, member);
                if (!weightMap && !metadata)
                    return m_json.skipValue(nullptr);
                ShardIndex::Shard value;
                value.isString = m_json.at('"');
                if (value.isString) {
                    std::string s;
                    if (!m_json.parseString(s))
                        return false;
                    value.text = qs(s);
                } else if (!m_json.skipValue(&value.text)) {
                    return false;
                }
                if (weightMap)
                    index.weightMap.emplace_back(std::move(member), std::move(value));
                else {
                    index.metadataEntries.push_back(MetadataEntry{"metadata." + member,
                                                                  value.isString ? "str" : jsonValueType(value.text),
                                                                  value.text.toStdString()});
                    index.metadata.insert(qs(member), value.text);
                }
                return true;
            });
        });
        return ok && m_json.finish("unexpected text after the top-level object");
    }

private:
    void noteDuplicate(int depth, const std::string& parent, const std::string& key)
    {
        if (!dup)
            dup = DuplicateKey{depth, parent, key};
    }

    json::StrictReader m_json;
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
    if (parser.dup) {
        if (parser.dup->depth == 2 && parser.dup->parent == "weight_map")
            return bad(QStringLiteral("the tensor '%1' is listed twice in weight_map").arg(qs(parser.dup->key)));
        return bad(QStringLiteral("the key '%1' appears twice").arg(qs(parser.dup->key)));
    }
    if (!parser.hasWeightMap)
        return bad(QStringLiteral("it has no \"weight_map\" object"));
    std::sort(index.weightMap.begin(), index.weightMap.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return index;
}

/// The shards and their tensors, from weight_map.
struct ShardPlan {
    // Shards in name order: writers number them (model-00001-of-00003.safetensors), so
    // that is the order they were written in.
    std::map<QString, std::unordered_set<std::string>> shards;
    std::unordered_map<std::string, QString> shardOf;
};

Result<ShardPlan> planShards(const ShardIndex& index, const QString& indexPath)
{
    ShardPlan plan;
    for (const auto& [name, shard] : index.weightMap) {
        if (!shard.isString)
            return Result<ShardPlan>::failure(
                ErrorKind::Corrupt,
                badIndex(
                    indexPath,
                    QStringLiteral("weight_map entry '%1' is %2, not a shard file name").arg(qs(name), shard.text)));
        if (!shardNameIsSafe(shard.text))
            return Result<ShardPlan>::failure(
                ErrorKind::Corrupt,
                badIndex(indexPath,
                         QStringLiteral("weight_map puts '%1' in '%2', which is not a file inside the index's folder")
                             .arg(qs(name), shard.text)));
        plan.shards[shard.text].insert(name);
        plan.shardOf.emplace(name, shard.text);
    }
    return plan;
}

/// Checks that a shard holds every tensor weight_map puts in it, then adds its tensors to
/// `index`; a tensor weight_map does not list is added with a warning, one it puts in
/// another shard is left out with one.
Status addShard(ModelIndex& index, std::vector<StorageSpan>& spans, std::unordered_set<std::string>& seen,
                const ShardPlan& plan, const QString& shard, const std::unordered_set<std::string>& names,
                const OpenedFile& opened, const QString& indexName)
{
    std::unordered_set<std::string> present;
    for (const HeaderTensor& t : opened.header.tensors)
        present.insert(t.name);
    // Report the missing name that sorts first, so the message does not depend on hashing.
    std::set<std::string> missing;
    for (const std::string& name : names)
        if (!present.count(name))
            missing.insert(name);
    if (!missing.empty())
        return Status::failure(
            ErrorKind::Corrupt,
            QStringLiteral("Sharded checkpoint '%1': weight_map puts '%2' in shard '%3', but that shard does not "
                           "contain it%4")
                .arg(indexName, qs(*missing.begin()), shard,
                     missing.size() > 1 ? QStringLiteral(" (nor %1 other listed tensors)").arg(missing.size() - 1)
                                        : QString()));
    for (const HeaderTensor& t : opened.header.tensors) {
        if (!names.count(t.name)) {
            const auto other = plan.shardOf.find(t.name);
            if (other != plan.shardOf.end() || seen.count(t.name)) {
                index.warnings << QStringLiteral(
                                      "Shard '%1' also holds '%2', which weight_map puts in '%3'; that "
                                      "copy is ignored")
                                      .arg(shard, qs(t.name), other != plan.shardOf.end() ? other->second : QString());
                continue;
            }
            index.warnings
                << QStringLiteral("Shard '%1' holds '%2', which weight_map does not list").arg(shard, qs(t.name));
        }
        seen.insert(t.name);
        appendTensor(index, spans, opened, t);
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
    std::unordered_set<std::string> seen;
    int done = 0;
    for (const auto& [shard, names] : plan->shards) {
        if (cancelled(options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(indexPath));
        report(options, double(done) / double(plan->shards.size()), QStringLiteral("Reading shard %1").arg(shard));
        index->sourceFiles << folder.filePath(shard);
        auto opened = openFile(folder.filePath(shard));
        if (!opened)
            return LoadResult::failure(
                opened.kind(),
                QStringLiteral("Sharded checkpoint '%1': shard '%2' (%3 tensors in weight_map) cannot be read: %4")
                    .arg(argText(indexName), argText(shard), argText(names.size()), argText(opened.error())));
        if (auto st = addShard(*index, spans, seen, plan.value(), shard, names, opened.value(), indexName); !st)
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
