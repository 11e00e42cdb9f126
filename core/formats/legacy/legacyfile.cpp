// The legacy torch.save format (legacyreader.h), as torch/serialization.py's _legacy_save
// writes it and _legacy_load reads it: five things back to back.
//   1. a pickled int, the magic number 0x1950a86a20f9469cfc6c
//   2. a pickled int, the protocol version 1001
//   3. a pickled dict sys_info: protocol_version, little_endian, type_sizes
//   4. the main pickle; its persistent ids name storages ('storage', type, root key,
//      location, root numel, view or None) and module classes ('module', class, file, source)
//   5. a pickled list of storage keys, then per key in that order an int64 element count
//      (which must equal the persistent id's numel) and the elements' bytes.
// A file whose sys_info says it was written on a big-endian machine is refused (Unsupported),
// not byte-swapped; so is the tar format's (legacytar.cpp).

#include "formats/legacy/legacy_p.h"
#include "formats/legacy/legacyreader.h"

#include "base/checkedsize.h"
#include "base/dtype.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

namespace legacy {

using pickle::Value;
using VT = pickle::Value::Type;

Result<pickle::Document> readPickle(Cursor& c, const QString& what, pickle::TorchPickleOptions options)
{
    using R = Result<pickle::Document>;
    if (c.pos >= c.end)
        return fail<pickle::Document>(
            *c.file, ErrorKind::Corrupt,
            QStringLiteral("%1 ends before %2 (at byte %3)").arg(argText(c.where), argText(what), argText(c.pos)));
    std::size_t consumed = 0;
    options.consumed = &consumed;
    auto doc = pickle::unpickle(c.file->data() + c.pos, std::size_t(c.left()), options);
    if (!doc)
        return R::failure(doc.kind(), cannotOpen(*c.file, QStringLiteral("%1 (at byte %2 of %3) cannot be read: %4")
                                                              .arg(argText(what), argText(c.pos), argText(c.where),
                                                                   argText(doc.error()))));
    c.pos += consumed;
    return doc;
}

Result<std::int64_t> readInt(Cursor& c, int bytes, const QString& what)
{
    if (c.left() < std::uint64_t(bytes))
        return fail<std::int64_t>(
            *c.file, ErrorKind::Corrupt,
            QStringLiteral("%1 ends inside %2 (at byte %3, %4 bytes needed, %5 left)")
                .arg(argText(c.where), argText(what), argText(c.pos), argText(bytes), argText(c.left())));
    const std::uint8_t* p = c.file->data() + c.pos;
    std::uint64_t v = 0;
    for (int i = bytes; i-- > 0;)
        v = (v << 8) | p[i];
    c.pos += std::uint64_t(bytes);
    if (bytes == 4)
        return std::int64_t(std::int32_t(std::uint32_t(v)));
    return std::int64_t(v);
}

std::optional<std::string> keyText(const Value* v)
{
    if (v && v->type == VT::String)
        return std::string(v->text);
    if (v && v->type == VT::Int && !v->bigInt)
        return std::to_string(v->integer);
    return std::nullopt;
}

namespace {

constexpr std::uint8_t kMagicLong[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kProtocolVersion = 1001;

/// Offset of the magic number's LONG1 opcode in the first 32 bytes, or -1.
std::int64_t magicOffset(const std::uint8_t* d, std::uint64_t n)
{
    if (n < 2 || d[0] != 0x80 || d[1] < 2)
        return -1;
    const std::uint64_t scan = std::min<std::uint64_t>(n, 32);
    for (std::uint64_t i = 2; i + sizeof kMagicLong <= scan; ++i)
        if (std::memcmp(d + i, kMagicLong, sizeof kMagicLong) == 0)
            return std::int64_t(i);
    return -1;
}

Status checkHeader(Cursor& c)
{
    const MappedFile& f = *c.file;
    auto failed = [&](ErrorKind k, const QString& what) { return Status::failure(k, cannotOpen(f, what)); };
    auto magic = readPickle(c, QStringLiteral("the magic number"));
    if (!magic)
        return Status::failureFrom(magic);
    const Value* m = magic->root;
    const std::int64_t at = magicOffset(f.data(), f.size());
    if (!m || m->type != VT::Int || !m->bigInt || at < 0 || std::uint64_t(at) + sizeof kMagicLong > c.pos)
        return failed(ErrorKind::Corrupt,
                      QStringLiteral("its first pickle is not the legacy torch.save magic number (not a torch.save "
                                     "file, or damaged)"));
    auto protocol = readPickle(c, QStringLiteral("the protocol version"));
    if (!protocol)
        return Status::failureFrom(protocol);
    const Value* p = protocol->root;
    if (!p || p->type != VT::Int || p->bigInt)
        return failed(ErrorKind::Corrupt,
                      QStringLiteral("its protocol version is a %1, not an integer").arg(qs(pickle::describe(p))));
    if (p->integer != kProtocolVersion)
        return failed(ErrorKind::Unsupported, QStringLiteral("its protocol version is %1 (ParamScope reads %2)")
                                                  .arg(argText(p->integer), argText(kProtocolVersion)));
    auto sys = readPickle(c, QStringLiteral("sys_info"));
    if (!sys)
        return Status::failureFrom(sys);
    const Value* info = sys->root;
    const Value* little = info && info->type == VT::Dict ? info->get("little_endian") : nullptr;
    if (!little || little->type != VT::Bool)
        return failed(
            ErrorKind::Corrupt,
            QStringLiteral("its sys_info (a %1) does not say its byte order").arg(qs(pickle::describe(info))));
    if (!little->boolean)
        return failed(ErrorKind::Unsupported,
                      QStringLiteral("it was written on a big-endian machine, which is not supported"));
    return {};
}

/// The storage key list and the records after it.
Status readRecords(Cursor& c, LegacyContainer& out)
{
    const MappedFile& f = *c.file;
    auto failed = [&](ErrorKind k, const QString& what) { return Status::failure(k, cannotOpen(f, what)); };
    auto keys = readPickle(c, QStringLiteral("the storage key list"));
    if (!keys)
        return Status::failureFrom(keys);
    const Value* list = keys->root;
    if (!list || (list->type != VT::List && list->type != VT::Tuple))
        return failed(ErrorKind::Corrupt,
                      QStringLiteral("its storage key list is a %1, not a list").arg(qs(pickle::describe(list))));
    std::unordered_map<std::string_view, std::size_t> byKey;
    byKey.reserve(out.doc.storages.size());
    for (std::size_t i = 0; i < out.doc.storages.size(); ++i)
        byKey.emplace(out.doc.storages[i].key, i);
    std::unordered_set<std::string> seen;
    seen.reserve(list->items.size());
    out.records.reserve(list->items.size());
    for (const Value* k : list->items) {
        const auto key = keyText(k);
        if (!key)
            return failed(ErrorKind::Corrupt,
                          QStringLiteral("its storage key list holds a %1, not a key").arg(qs(pickle::describe(k))));
        const QString name = qs(*key);
        auto it = byKey.find(*key);
        if (it == byKey.end())
            return failed(
                ErrorKind::Corrupt,
                QStringLiteral("its storage key list names storage '%1', which the pickle does not use").arg(name));
        if (!seen.insert(*key).second)
            return failed(ErrorKind::Corrupt,
                          QStringLiteral("its storage key list names storage '%1' twice").arg(name));
        const pickle::StorageRef& s = out.doc.storages[it->second];
        if (!s.dtype)
            return failed(ErrorKind::Unsupported,
                          QStringLiteral("storage '%1' has the unknown type '%2', so neither its bytes nor the "
                                         "storages after it can be found")
                              .arg(argText(name), argText(qs(s.typeName))));
        auto counted = readInt(c, 8, QStringLiteral("the element count of storage '%1'").arg(name));
        if (!counted)
            return Status::failureFrom(counted);
        const std::int64_t* count = &counted.value();
        if (*count != s.numel)
            return failed(ErrorKind::Corrupt,
                          QStringLiteral("storage '%1' holds %2 elements, but the pickle says it has %3")
                              .arg(argText(name), argText(*count), argText(s.numel)));
        const auto bytes = checkedMul(*count, dtypeItemSize(*s.dtype));
        if (!bytes || std::uint64_t(*bytes) > c.left())
            return failed(ErrorKind::Corrupt,
                          QStringLiteral("storage '%1' (%2 x %3) runs past the end of the file (it starts at byte "
                                         "%4; the file has %5 bytes)")
                              .arg(argText(name), argText(*count), argText(qs(dtypeName(*s.dtype))), argText(c.pos),
                                   argText(f.size())));
        out.records.push_back(LegacyRecord{*key, c.pos, std::uint64_t(*bytes)});
        c.pos += std::uint64_t(*bytes);
    }
    if (c.pos < c.end)
        out.warnings << QStringLiteral("%1 bytes after the last storage are not read").arg(argText(c.left()));
    return {};
}

}  // namespace

}  // namespace legacy

bool startsLikeLegacyTorchSave(const std::uint8_t* data, std::uint64_t size)
{
    return legacy::magicOffset(data, size) >= 0;
}

Result<LegacyContainer> readLegacyTorchSave(const MappedFile& file, const LoadOptions& options)
{
    using R = Result<LegacyContainer>;
    legacy::Cursor c{&file, 0, file.size(), QStringLiteral("the file")};
    if (auto st = legacy::checkHeader(c); !st)
        return R::failureFrom(st);
    if (auto st = legacy::checkCancel(file, options); !st)
        return R::failureFrom(st);
    if (options.progress)
        options.progress(0.1, QStringLiteral("Reading the pickle"));
    LegacyContainer out;
    out.format = ModelFormat::TorchSaveLegacy;
    auto doc = legacy::readPickle(c, QStringLiteral("the main pickle"));
    if (!doc)
        return R::failureFrom(doc);
    out.doc = std::move(doc.value());
    if (auto st = legacy::checkCancel(file, options); !st)
        return R::failureFrom(st);
    if (auto st = legacy::readRecords(c, out); !st)
        return R::failureFrom(st);
    return out;
}

}  // namespace paramscope
