// The tar format of PyTorch 0.1-0.3 (legacyreader.h), as the tar branch of
// torch/serialization.py's _legacy_load (legacy_load) reads it. Members:
//   storages  a pickled count; per storage a pickled (key, location, storage type), an int64
//             element count and the elements' bytes; then a pickled list of storage views
//             (view key, root key, element offset, element count)
//   tensors   a pickled count; per tensor a pickled (key, storage key, tensor type), an int32
//             ndim and 4 unused bytes, ndim int64 sizes, ndim int64 strides, an int64 offset
//   pickle    the main pickle, whose persistent ids are tensor or storage keys (as text) and,
//             for module classes, (class, source file, source)
//   sys_info  a pickled dict with the writer's byte order (not read by PyTorch 1.13)
// Keys are Python ids (ints) shared by storages and tensors.

#include "formats/legacy/legacy_p.h"
#include "formats/legacy/legacyreader.h"
#include "formats/legacy/tar_p.h"

#include "base/checkedsize.h"
#include "base/dtype.h"
#include "formats/pickle/resolver.h"

#include <unordered_map>

namespace paramscope {

namespace legacy {

namespace {

using pickle::Value;
using VT = pickle::Value::Type;
constexpr std::int64_t kMaxDims = 64;

struct Root {
    std::string key;
    std::string typeName;
    DType dtype = DType::Unknown;
    std::int64_t numel = 0;
    std::uint64_t offset = 0, bytes = 0;
    int docIndex = -1;  // in the main pickle's Document::storages, once named
};

/// A storage key: a root storage or a view of one.
struct StorageKey {
    std::size_t root = 0;
    std::int64_t offset = 0;  // elements into the root
    std::int64_t numel = 0;
};

struct Tensor {
    std::size_t root = 0;
    std::int64_t offset = 0;  // elements into the root, view offset included
    std::vector<std::int64_t> shape, strides;
    Value* value = nullptr;  // once the main pickle names it
};

class TarReader {
public:
    TarReader(const MappedFile& f, const LoadOptions& o) : m_file(f), m_options(o) {}

    Result<LegacyContainer> run()
    {
        using R = Result<LegacyContainer>;
        auto read = readTarMembers(m_file);
        if (!read)
            return R::failureFrom(read);
        const std::vector<TarMember>* members = &read.value();
        const TarMember* storages = find(*members, "storages");
        const TarMember* tensors = find(*members, "tensors");
        const TarMember* main = find(*members, "pickle");
        for (auto [m, name] : {std::pair{storages, "storages"}, {tensors, "tensors"}, {main, "pickle"}})
            if (!m)
                return R::failure(
                    ErrorKind::Corrupt,
                    cannotOpen(m_file,
                               QStringLiteral("it is a tar file without the member '%1' (not a legacy torch.save file, "
                                              "or damaged)")
                                   .arg(QLatin1String(name))));
        if (const TarMember* sys = find(*members, "sys_info"))
            if (auto st = checkSysInfo(*sys); !st)
                return R::failureFrom(st);
        if (auto st = readStorages(*storages); !st)
            return R::failureFrom(st);
        if (auto st = checkCancel(m_file, m_options); !st)
            return R::failureFrom(st);
        if (auto st = readTensors(*tensors); !st)
            return R::failureFrom(st);
        if (auto st = checkCancel(m_file, m_options); !st)
            return R::failureFrom(st);
        LegacyContainer out;
        out.format = ModelFormat::TorchSaveTar;
        Cursor c = cursor(*main);
        pickle::TorchPickleOptions options;
        options.persistent = [this](pickle::Machine& m, Value* pid) { return persistent(m, pid); };
        auto doc = readPickle(c, QStringLiteral("the main pickle"), options);
        if (!doc)
            return R::failureFrom(doc);
        out.doc = std::move(doc.value());
        out.records.reserve(m_roots.size());
        for (const Root& r : m_roots)
            out.records.push_back({r.key, r.offset, r.bytes});
        return out;
    }

private:
    static const TarMember* find(const std::vector<TarMember>& members, const char* name)
    {
        for (const auto& m : members)
            if (m.name == name)
                return &m;
        return nullptr;
    }
    Cursor cursor(const TarMember& m) const
    {
        return Cursor{&m_file, m.offset, m.offset + m.size, QStringLiteral("tar member '%1'").arg(qs(m.name))};
    }
    Status failed(ErrorKind kind, const QString& what) const { return Status::failure(kind, cannotOpen(m_file, what)); }

    Status checkSysInfo(const TarMember& m)
    {
        Cursor c = cursor(m);
        auto sys = readPickle(c, QStringLiteral("sys_info"));
        if (!sys)
            return Status::failureFrom(sys);
        const Value* info = sys->root;
        const Value* little = info && info->type == VT::Dict ? info->get("little_endian") : nullptr;
        if (little && little->type == VT::Bool && !little->boolean)
            return failed(ErrorKind::Unsupported,
                          QStringLiteral("it was written on a big-endian machine, which is not supported"));
        return {};
    }

    /// A pickled non-negative count of records, each at least `minBytes` long.
    Result<std::int64_t> readCount(Cursor& c, const QString& what, std::uint64_t minBytes)
    {
        auto doc = readPickle(c, what);
        if (!doc)
            return Result<std::int64_t>::failureFrom(doc);
        const Value* v = doc->root;
        if (!v || v->type != VT::Int || v->bigInt || v->integer < 0 || std::uint64_t(v->integer) > c.left() / minBytes)
            return fail<std::int64_t>(
                m_file, ErrorKind::Corrupt,
                QStringLiteral("%1 is %2, which %3 cannot hold")
                    .arg(argText(what),
                         argText(qs(v && v->type == VT::Int && !v->bigInt ? std::to_string(v->integer)
                                                                          : pickle::describe(v))),
                         argText(c.where)));
        return v->integer;
    }

    Status readStorages(const TarMember& m)
    {
        Cursor c = cursor(m);
        auto counted = readCount(c, QStringLiteral("the storage count"), 8 + 4);
        if (!counted)
            return Status::failureFrom(counted);
        const std::int64_t* count = &counted.value();
        m_roots.reserve(std::size_t(*count));
        for (std::int64_t i = 0; i < *count; ++i) {
            const QString what = QStringLiteral("the header of storage #%1").arg(argText(i));
            auto head = readPickle(c, what);
            if (!head)
                return Status::failureFrom(head);
            const Value* t = head->root;
            const auto key = keyText(pickle::Machine::item(t, 0));
            const Value* type = pickle::Machine::item(t, 2);
            if (!t || t->type != VT::Tuple || t->items.size() != 3 || !key)
                return failed(ErrorKind::Corrupt, QStringLiteral("%1 is a %2, not (key, location, storage type)")
                                                      .arg(argText(what), argText(qs(pickle::describe(t)))));
            Root r;
            r.key = *key;
            r.typeName = type && type->type == VT::Global ? std::string(type->text) : pickle::describe(type);
            if (type && type->type == VT::Global)
                if (auto d = pickle::storageDType(type->text))
                    r.dtype = *d;
            if (r.dtype == DType::Unknown)
                return failed(ErrorKind::Unsupported,
                              QStringLiteral("storage '%1' has the unknown type '%2', so neither its bytes nor the "
                                             "storages after it can be found")
                                  .arg(argText(qs(r.key)), argText(qs(r.typeName))));
            auto counted = readInt(c, 8, QStringLiteral("the element count of storage '%1'").arg(qs(r.key)));
            if (!counted)
                return Status::failureFrom(counted);
            const std::int64_t* n = &counted.value();
            const auto bytes = checkedMul(*n, dtypeItemSize(r.dtype));
            if (!bytes || std::uint64_t(*bytes) > c.left())
                return failed(ErrorKind::Corrupt, QStringLiteral("storage '%1' (%2 x %3) runs past the end of %4")
                                                      .arg(argText(qs(r.key)), argText(*n),
                                                           argText(qs(dtypeName(r.dtype))), argText(c.where)));
            r.numel = *n;
            r.offset = c.pos;
            r.bytes = std::uint64_t(*bytes);
            c.pos += r.bytes;
            if (!m_keys.emplace(r.key, StorageKey{m_roots.size(), 0, r.numel}).second)
                return failed(ErrorKind::Corrupt, QStringLiteral("storage '%1' is stored twice").arg(qs(r.key)));
            m_roots.push_back(std::move(r));
        }
        return readViews(c);
    }

    Status readViews(Cursor& c)
    {
        auto views = readPickle(c, QStringLiteral("the storage view list"));
        if (!views)
            return Status::failureFrom(views);
        const Value* list = views->root;
        if (!list || list->type != VT::List)
            return failed(ErrorKind::Corrupt,
                          QStringLiteral("its storage view list is a %1, not a list").arg(qs(pickle::describe(list))));
        for (const Value* v : list->items) {
            std::int64_t offset = 0, numel = 0;
            const auto target = keyText(pickle::Machine::item(v, 0));
            const auto root = keyText(pickle::Machine::item(v, 1));
            if (!v || v->type != VT::Tuple || v->items.size() != 4 || !target || !root ||
                !pickle::Machine::toInt(v->items[2], offset) || !pickle::Machine::toInt(v->items[3], numel))
                return failed(ErrorKind::Corrupt,
                              QStringLiteral("its storage view list holds a %1, not (key, root key, offset, size)")
                                  .arg(qs(pickle::describe(v))));
            auto it = m_keys.find(*root);
            if (it == m_keys.end())
                return failed(ErrorKind::Corrupt,
                              QStringLiteral("storage view '%1' views storage '%2', which is not stored")
                                  .arg(qs(*target), qs(*root)));
            const StorageKey base = it->second;
            if (offset < 0 || numel < 0 || offset > base.numel || numel > base.numel - offset)
                return failed(ErrorKind::Corrupt,
                              QStringLiteral("storage view '%1' (%2 elements at offset %3) lies outside storage '%4' "
                                             "of %5 elements")
                                  .arg(argText(qs(*target)), argText(numel), argText(offset), argText(qs(*root)),
                                       argText(base.numel)));
            if (!m_keys.emplace(*target, StorageKey{base.root, base.offset + offset, numel}).second)
                return failed(ErrorKind::Corrupt, QStringLiteral("storage '%1' is defined twice").arg(qs(*target)));
        }
        return {};
    }

    Status readTensors(const TarMember& m)
    {
        Cursor c = cursor(m);
        // A tensor record is at least a 4-byte pickle, 8 bytes of ndim and an 8-byte offset.
        auto counted = readCount(c, QStringLiteral("the tensor count"), 20);
        if (!counted)
            return Status::failureFrom(counted);
        const std::int64_t* count = &counted.value();
        for (std::int64_t i = 0; i < *count; ++i) {
            const QString what = QStringLiteral("the header of tensor #%1").arg(argText(i));
            auto head = readPickle(c, what);
            if (!head)
                return Status::failureFrom(head);
            const Value* t = head->root;
            const auto key = keyText(pickle::Machine::item(t, 0));
            const auto storage = keyText(pickle::Machine::item(t, 1));
            if (!t || t->type != VT::Tuple || t->items.size() != 3 || !key || !storage)
                return failed(ErrorKind::Corrupt, QStringLiteral("%1 is a %2, not (key, storage key, tensor type)")
                                                      .arg(argText(what), argText(qs(pickle::describe(t)))));
            auto it = m_keys.find(*storage);
            if (it == m_keys.end())
                return failed(
                    ErrorKind::Corrupt,
                    QStringLiteral("tensor '%1' uses storage '%2', which is not stored").arg(qs(*key), qs(*storage)));
            const QString name = QStringLiteral("tensor '%1'").arg(qs(*key));
            auto dims = readInt(c, 4, QStringLiteral("the dimension count of %1").arg(name));
            if (!dims)
                return Status::failureFrom(dims);
            const std::int64_t* ndim = &dims.value();
            if (*ndim < 0 || *ndim > kMaxDims)
                return failed(ErrorKind::Corrupt, QStringLiteral("%1 has %2 dimensions (at most %3 are read)")
                                                      .arg(argText(name), argText(*ndim), argText(kMaxDims)));
            c.pos += std::min<std::uint64_t>(4, c.left());  // the upper half of a once 8-byte ndim
            Tensor tensor;
            tensor.root = it->second.root;
            for (auto* list : {&tensor.shape, &tensor.strides})
                for (std::int64_t d = 0; d < *ndim; ++d) {
                    auto v = readInt(c, 8, QStringLiteral("the sizes and strides of %1").arg(name));
                    if (!v)
                        return Status::failureFrom(v);
                    list->push_back(v.value());
                }
            auto read = readInt(c, 8, QStringLiteral("the storage offset of %1").arg(name));
            if (!read)
                return Status::failureFrom(read);
            const std::int64_t* offset = &read.value();
            const auto total = checkedAdd(*offset, it->second.offset);
            if (!total)
                return failed(ErrorKind::Corrupt,
                              QStringLiteral("%1 has the storage offset %2").arg(argText(name), argText(*offset)));
            tensor.offset = *total;
            if (!m_tensors.emplace(*key, std::move(tensor)).second)
                return failed(ErrorKind::Corrupt, QStringLiteral("%1 is stored twice").arg(name));
        }
        return {};
    }

    /// The index in the Document's storages of root storage `i`, added when first named.
    int documentStorage(pickle::Machine& m, std::size_t i)
    {
        Root& r = m_roots[i];
        if (r.docIndex < 0) {
            pickle::StorageRef s;
            s.key = m.store(r.key);
            s.typeName = m.store(r.typeName);
            s.dtype = r.dtype;
            s.numel = r.numel;
            s.location = "cpu";
            r.docIndex = int(m.document().storages.size());
            m.document().storages.push_back(s);
        }
        return r.docIndex;
    }

    Value* persistent(pickle::Machine& m, Value* pid)
    {
        if (pid && pid->type == VT::Tuple) {  // (module class, source file, source)
            if (pid->items.empty() || pid->items[0]->type != VT::Global)
                m.fail("persistent id is a " + pickle::describe(pid) + ", not a key or a module class");
            return pid->items[0];
        }
        const auto key = keyText(pid);
        if (!key)
            m.fail("persistent id is a " + pickle::describe(pid) + ", not a key");
        if (auto t = m_tensors.find(*key); t != m_tensors.end()) {
            Tensor& d = t->second;
            if (!d.value) {
                d.value = m.make(VT::Tensor);
                d.value->tensor = m.newTensor();
                pickle::TensorRef& r = *d.value->tensor;
                r.storage = documentStorage(m, d.root);
                r.offset = d.offset;
                r.shape = d.shape;
                r.strides = d.strides;
            }
            return d.value;
        }
        if (auto s = m_keys.find(*key); s != m_keys.end()) {
            Value* v = m.make(VT::Storage);
            v->storage = documentStorage(m, s->second.root);
            v->integer = s->second.offset;
            return v;
        }
        m.fail("persistent id '" + *key + "' names no tensor or storage of the file");
    }

    const MappedFile& m_file;
    const LoadOptions& m_options;
    std::vector<Root> m_roots;
    std::unordered_map<std::string, StorageKey> m_keys;
    std::unordered_map<std::string, Tensor> m_tensors;
};

}  // namespace

}  // namespace legacy

bool startsLikeTar(const std::uint8_t* data, std::uint64_t size)
{
    return size >= 262 && std::memcmp(data + 257, "ustar", 5) == 0;
}

Result<LegacyContainer> readLegacyTar(const MappedFile& file, const LoadOptions& options)
{
    legacy::TarReader reader(file, options);
    return reader.run();
}

}  // namespace paramscope
