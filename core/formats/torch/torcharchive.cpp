// The PyTorch archive reader (torcharchive.h): opens the zip, checks its layout and version,
// unpickles data.pkl with PyTorch's resolver, then walks the value tree (torch.save: every
// reachable tensor by key path; TorchScript: state_dict order, with parameters and buffers
// from the class headers under code/) and validates each tensor against its storage record.

#include "formats/torch/torcharchive.h"

#include "base/textutil.h"
#include "formats/engines_p.h"
#include "formats/torch/archive_p.h"

#include "base/mappedfile.h"
#include "base/resourcelimits.h"
#include "formats/pickle/pickle.h"
#include "formats/sniff.h"
#include "formats/zip/zipreader.h"

#include <QFileInfo>
#include <QLocale>

#include <cmath>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

namespace {

using pickle::Value;
using VT = pickle::Value::Type;

constexpr std::uint64_t kMaxPickleBytes = std::uint64_t(1) << 30;  // data.pkl, inflated
constexpr std::uint64_t kMaxCodeBytes = std::uint64_t(16) << 20;   // one code/ source, inflated
constexpr std::uint64_t kMaxCodeTotal = std::uint64_t(64) << 20;   // all code/ sources read for one open
constexpr std::uint64_t kMaxInflatedStorage = std::uint64_t(4) << 30;
constexpr std::uint64_t kMaxChannelValues = std::uint64_t(1)
                                            << 24;  // per-channel quantization channels, all entries (256 MB)
constexpr int kMaxDepth = 256;                      // nesting of modules / containers we follow
constexpr std::int64_t kMinVersion = 1;
constexpr std::int64_t kMaxVersion = 20;  // 1.13 writes 10; later writers stay close

QString qs(std::string_view s)
{
    return utf8ToQString(s);
}

bool cancelled(const LoadOptions& o)
{
    return isCancelled(o.cancel);
}

/// Storage records are mapped in place when stored, inflated (and cached) when a
/// writer compressed them.
class ArchiveStorage final : public StorageProvider {
public:
    std::shared_ptr<const ZipReader> zip;
    std::vector<const ZipEntry*> records;  // per storage index
    std::vector<std::uint64_t> bytes;      // declared size (numel * item size)

    Result<StorageBytes> storageBytes(int i) const override
    {
        using R = Result<StorageBytes>;
        if (i < 0 || size_t(i) >= records.size() || !records[size_t(i)])
            return R::failure(ErrorKind::Failed,
                              QStringLiteral("'%1' has no storage #%2").arg(argText(zip->file()->label()), argText(i)));
        const ZipEntry& e = *records[size_t(i)];
        if (e.isStored()) {
            auto r = zip->read(e, std::numeric_limits<std::uint64_t>::max(), false);
            if (r)
                r->size = std::min(r->size, bytes[size_t(i)]);
            return r;
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        if (auto it = m_inflated.find(i); it != m_inflated.end())
            return it->second;
        auto r = zip->read(e, kMaxInflatedStorage, true);
        if (!r)
            return r;
        r->size = std::min(r->size, bytes[size_t(i)]);
        m_inflated.emplace(i, r.value());
        return r;
    }

private:
    mutable std::mutex m_mutex;
    mutable std::unordered_map<int, StorageBytes> m_inflated;
};

std::string keyName(const Value* k)
{
    if (!k)
        return "?";
    switch (k->type) {
        case VT::String:
            return std::string(k->text);
        case VT::Int:
            return k->bigInt ? std::string("<int>") : std::to_string(k->integer);
        case VT::Bool:
            return k->boolean ? "True" : "False";
        case VT::None:
            return "None";
        case VT::Float: {
            // Shortest round-trip form, as Python's str() prints a float key.
            return QString::number(k->real, 'g', QLocale::FloatingPointShortest).toStdString();
        }
        default:
            return "<" + pickle::describe(k) + ">";
    }
}

std::string join(const std::string& prefix, const std::string& name)
{
    return prefix.empty() ? name : prefix + "." + name;
}

class ArchiveLoader {
public:
    ArchiveLoader(const QString& path, const LoadOptions& o) : m_path(path), m_options(o) {}

    LoadResult run()
    {
        if (auto st = openArchive(); !st)
            return LoadResult::failureFrom(st);
        const ZipEntry* pkl = m_zip->find(m_top + "data.pkl");
        if (!pkl)
            return fail(ErrorKind::Corrupt,
                        QStringLiteral("it has no %1data.pkl (not a PyTorch archive, or damaged)").arg(qs(m_top)));
        bool hasCode = m_zip->find(m_top + "constants.pkl") != nullptr;
        for (const auto& e : m_zip->entries())
            if (e.name.compare(m_top.size(), 5, "code/") == 0)
                hasCode = true;
        m_index = std::make_shared<ModelIndex>();
        m_index->filePath = m_path;
        m_index->engine = loaderEngineName(LoaderEngine::Native);
        m_index->format = hasCode ? ModelFormat::TorchScript : ModelFormat::TorchSave;

        progress(0.15, QStringLiteral("Reading data.pkl"));
        auto bytes = m_zip->read(*pkl, kMaxPickleBytes, true);
        if (!bytes)
            return LoadResult::failureFrom(bytes);
        auto doc = pickle::unpickle(bytes->data, size_t(bytes->size));
        if (!doc)
            return fail(doc.kind(), QStringLiteral("data.pkl cannot be read: %1").arg(doc.error()));
        m_doc = std::move(doc.value());
        for (const auto& w : m_doc.warnings)
            m_index->warnings << QStringLiteral(
                                     "data.pkl names '%1', which is not on the allow-list: it was not called, and what "
                                     "it builds is skipped")
                                     .arg(qs(w));
        if (cancelled(m_options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(m_path));

        progress(0.5, QStringLiteral("Indexing tensors"));
        prepareStorages();
        m_index->entries.reserve(m_doc.tensorCount());  // no reallocation peak while walking
        if (m_index->format == ModelFormat::TorchScript) {
            if (m_doc.root->type != VT::Object)
                return fail(ErrorKind::Unsupported, QStringLiteral("data.pkl holds a %1, not a TorchScript module")
                                                        .arg(qs(pickle::describe(m_doc.root))));
            if (auto st = walkModule(m_doc.root, std::string(), 0); !st)
                return LoadResult::failureFrom(st);
        } else {
            if (auto st = walkValue(m_doc.root, std::string(), 0); !st)
                return LoadResult::failureFrom(st);
        }
        if (m_nameBytes > limits::kMaxTotalNameBytes)
            return fail(ErrorKind::Limit, QStringLiteral("its tensor names add up to more than %1 MiB")
                                              .arg(argText(std::int64_t(limits::kMaxTotalNameBytes >> 20))));
        if (m_index->entries.empty() && m_skipped > 0)
            return fail(ErrorKind::Corrupt, QStringLiteral("no tensor can be read: %1").arg(m_firstProblem));
        keepUsedStorages();
        if (auto st = m_file->check(); !st)  // truncated while its directory or pickle was read
            return LoadResult::failureFrom(st);
        progress(1.0, QStringLiteral("Done"));
        return LoadResult(std::shared_ptr<const ModelIndex>(std::move(m_index)));
    }

private:
    /// Maps the file, reads its zip directory and checks the archive's layout, version and
    /// byte order.
    Status openArchive()
    {
        auto mapped = MappedFile::open(m_path);
        if (!mapped)
            return Status::failureFrom(mapped);
        m_file = mapped.value();
        m_name = m_file->label();
        if (m_file->size() == 0)
            return failStatus(ErrorKind::Corrupt, QStringLiteral("the file is empty (0 bytes)"));
        if (!detail::hasZipMagic(m_file->data(), m_file->size()))
            return detail::describeNonZip(*m_file);
        progress(0.05, QStringLiteral("Reading the zip directory"));
        auto zip = ZipReader::open(m_file);
        if (!zip)
            return Status::failureFrom(zip);
        m_zip = std::make_shared<const ZipReader>(std::move(zip.value()));
        if (cancelled(m_options))
            return Status::failure(ErrorKind::Cancelled, cancelledMessage(m_path));

        // Every entry lives under one top folder, named after the file when it was written.
        const std::string& first = m_zip->entries().front().name;
        const auto slash = first.find('/');
        if (slash == std::string::npos || slash == 0)
            return failStatus(
                ErrorKind::Unsupported,
                QStringLiteral("entry '%1' is not inside a top folder (not a PyTorch archive)").arg(qs(first)));
        m_top = first.substr(0, slash + 1);
        for (const auto& e : m_zip->entries())
            if (e.name.compare(0, m_top.size(), m_top) != 0)
                return failStatus(
                    ErrorKind::Unsupported,
                    QStringLiteral("entries are not under one top folder ('%1' and '%2')").arg(qs(first), qs(e.name)));
        if (auto st = checkVersion(); !st)
            return st;
        if (const ZipEntry* bo = m_zip->find(m_top + "byteorder")) {
            auto b = m_zip->read(*bo, 64, true);
            if (b && std::string(reinterpret_cast<const char*>(b->data), size_t(b->size)).rfind("big", 0) == 0)
                return failStatus(ErrorKind::Unsupported,
                                  QStringLiteral("it was written on a big-endian machine, which is not supported"));
        }
        return {};
    }

    /// Keeps only the storages that surviving entries use, renumbered in order, and gives the
    /// index its provider. Frees the value tree first: it is no longer needed.
    void keepUsedStorages()
    {
        const size_t storageCount = m_doc.storages.size();
        m_doc = pickle::Document();
        std::vector<int> remap(storageCount, -1);
        auto provider = std::make_shared<ArchiveStorage>();
        provider->zip = m_zip;
        for (auto& e : m_index->entries) {
            int& r = remap[size_t(e.storage)];
            if (r < 0) {
                if (m_index->storages.empty()) {
                    m_index->storages.reserve(storageCount);
                    provider->records.reserve(storageCount);
                    provider->bytes.reserve(storageCount);
                }
                r = int(m_index->storages.size());
                m_index->storages.push_back(m_storageInfo[size_t(e.storage)]);
                provider->records.push_back(m_records[size_t(e.storage)]);
                provider->bytes.push_back(m_storageInfo[size_t(e.storage)].byteSize);
            }
            e.storage = r;
        }
        m_index->provider = provider;
        m_index->finalize();
    }

    LoadResult fail(ErrorKind kind, const QString& what) const
    {
        return LoadResult::failure(kind, QStringLiteral("'%1' cannot be opened: %2").arg(m_name, what));
    }
    Status failStatus(ErrorKind kind, const QString& what) const
    {
        return Status::failure(kind, QStringLiteral("'%1' cannot be opened: %2").arg(m_name, what));
    }
    void progress(double f, const QString& s) const
    {
        if (m_options.progress)
            m_options.progress(f, s);
    }

    Status checkVersion()
    {
        const ZipEntry* v = m_zip->find(m_top + ".data/version");
        if (!v)
            v = m_zip->find(m_top + "version");
        auto bad = [&](const QString& w, ErrorKind kind = ErrorKind::Corrupt) { return failStatus(kind, w); };
        if (!v)
            return bad(QStringLiteral("it has no %1version record (not a PyTorch archive, or damaged)").arg(qs(m_top)));
        auto b = m_zip->read(*v, 64, true);
        if (!b)
            return bad(QStringLiteral("its version record is %1")
                           .arg(v->uncompressedSize > 64 ? QStringLiteral("too long") : b.error()));
        const QString text = QString::fromLatin1(reinterpret_cast<const char*>(b->data), int(b->size)).trimmed();
        bool ok = false;
        const qlonglong n = text.toLongLong(&ok);
        if (!ok || text.isEmpty() || !text[0].isDigit())
            return bad(QStringLiteral("its version record is not a number ('%1')").arg(text.left(20)));
        if (n < kMinVersion || n > kMaxVersion)
            return bad(QStringLiteral("archive format version %1 is not supported (supported: %2 to %3)")
                           .arg(argText(n), argText(kMinVersion), argText(kMaxVersion)),
                       ErrorKind::Unsupported);
        return {};
    }

    // Per storage of the pickle: its record, its dtype and size, or why it is unusable.
    void prepareStorages()
    {
        const auto n = m_doc.storages.size();
        m_records.assign(n, nullptr);
        m_storageInfo.assign(n, {});
        m_storageProblem.assign(n, {});
        for (size_t i = 0; i < n; ++i) {
            const auto& s = m_doc.storages[i];
            StorageInfo& info = m_storageInfo[i];
            info.key = std::string("data/").append(s.key);
            if (!s.dtype) {
                m_storageProblem[i] = QStringLiteral("its storage has the unknown type '%1'").arg(qs(s.typeName));
                continue;
            }
            info.dtype = *s.dtype;
            std::int64_t byteSize = 0;
            if (s.numel < 0 || __builtin_mul_overflow(s.numel, std::int64_t(dtypeItemSize(*s.dtype)), &byteSize)) {
                m_storageProblem[i] = QStringLiteral("its storage %1 declares an impossible size").arg(qs(info.key));
                continue;
            }
            info.byteSize = std::uint64_t(byteSize);
            const ZipEntry* rec = m_zip->find(m_top + info.key);
            if (!rec) {
                m_storageProblem[i] = QStringLiteral("its data record '%1' is missing").arg(qs(info.key));
                continue;
            }
            if (rec->uncompressedSize < info.byteSize) {
                m_storageProblem[i] =
                    QStringLiteral("its storage %1 declares %2 bytes (%3 x %4) but the record holds only %5")
                        .arg(argText(qs(info.key)), argText(info.byteSize), argText(s.numel),
                             argText(qs(std::string(dtypeName(*s.dtype)))), argText(rec->uncompressedSize));
                continue;
            }
            if (!rec->isStored() && rec->uncompressedSize > kMaxInflatedStorage) {
                m_storageProblem[i] = QStringLiteral("its storage %1 is compressed and too large to inflate (%2 bytes)")
                                          .arg(argText(qs(info.key)), argText(rec->uncompressedSize));
                continue;
            }
            m_records[i] = rec;
        }
    }

    void skip(const std::string& name, const QString& why)
    {
        const QString msg = QStringLiteral("'%1' skipped: %2").arg(qs(name), why);
        if (m_skipped++ == 0)
            m_firstProblem = msg;
        m_index->warnings << msg;
    }

    // Validates a tensor against its storage and adds it.
    void addTensor(const std::string& name, const pickle::TensorRef& t, TensorKind kind)
    {
        if (name.size() > limits::kMaxNameBytes)
            return skipLongName(name);
        m_nameBytes += name.size();
        if (!t.error.empty())
            return skip(name, qs(t.error));
        if (t.storage < 0 || size_t(t.storage) >= m_doc.storages.size())
            return skip(name, QStringLiteral("it refers to no storage"));
        if (!m_storageProblem[size_t(t.storage)].isEmpty())
            return skip(name, m_storageProblem[size_t(t.storage)]);
        const auto& s = m_doc.storages[size_t(t.storage)];
        if (t.shape.size() != t.strides.size())
            return skip(name, QStringLiteral("its size has %1 dimensions but its stride %2")
                                  .arg(argText(t.shape.size()), argText(t.strides.size())));
        if (t.shape.size() > 64)
            return skip(name, QStringLiteral("it has %1 dimensions").arg(t.shape.size()));
        for (size_t d = 0; d < t.shape.size(); ++d)
            if (t.shape[d] < 0 || t.strides[d] < 0)
                return skip(name, QStringLiteral("it has a negative size or stride (%1, %2)")
                                      .arg(formatShape(t.shape), formatShape(t.strides)));
        if (t.offset < 0)
            return skip(name, QStringLiteral("its storage offset %1 is negative").arg(t.offset));
        const std::int64_t needed = requiredStorageElements(t.shape, t.strides, t.offset);
        if (needed < 0)
            return skip(name, QStringLiteral("its sizes and strides overflow (%1, %2)")
                                  .arg(formatShape(t.shape), formatShape(t.strides)));
        std::int64_t numel = 1;
        for (auto d : t.shape)
            if (__builtin_mul_overflow(numel, d, &numel))
                return skip(name, QStringLiteral("its element count overflows (%1)").arg(formatShape(t.shape)));
        if (numel > 0 && t.offset >= s.numel)
            return skip(name, QStringLiteral("its storage offset %1 lies past the end of its storage (%2 elements)")
                                  .arg(argText(t.offset), argText(s.numel)));
        if (needed > s.numel)
            return skip(name,
                        QStringLiteral("size %1, stride %2 and offset %3 need %4 elements but its storage %5 holds %6")
                            .arg(argText(formatShape(t.shape)), argText(formatShape(t.strides)), argText(t.offset),
                                 argText(needed), argText(qs(m_storageInfo[size_t(t.storage)].key)), argText(s.numel)));
        if (t.quantized != dtypeIsQuantized(*s.dtype))
            return skip(name,
                        QStringLiteral("its storage type %1 does not match how it is rebuilt").arg(qs(s.typeName)));
        TensorEntry e;
        e.name = name;
        e.kind = kind;
        e.dtype = *s.dtype;
        e.shape = t.shape;
        e.strides = t.strides;
        e.storageOffset = t.offset;
        e.requiresGrad = t.requiresGrad;
        e.storage = t.storage;
        e.qScale = t.qScale;
        e.qZeroPoint = t.qZeroPoint;
        if (t.qScales || t.qZeroPoints) {
            auto qc = std::make_shared<QuantChannels>();
            QString why;
            if (t.qAxis < 0 || t.qAxis >= std::int64_t(t.shape.size()))
                return skip(name, QStringLiteral("its per-channel quantization axis %1 is not one of its %2 dimensions")
                                      .arg(argText(t.qAxis), argText(t.shape.size())));
            qc->axis = int(t.qAxis);
            // Each entry holds its own scales and zero points (16 bytes a channel, up to 2^24
            // channels a tensor): many tensors naming one memoized pair must not multiply that.
            const std::int64_t declared = t.shape[size_t(qc->axis)];
            if (std::uint64_t(declared) > kMaxChannelValues - m_channelValues)
                return skip(name,
                            QStringLiteral(
                                "its per-channel quantization parameters would bring the file's total past %1 channels")
                                .arg(argText(std::int64_t(kMaxChannelValues))));
            m_channelValues += std::uint64_t(declared);
            if (!t.qScales || !t.qZeroPoints || !smallTensor(*t.qScales, qc->scales, why) ||
                !smallTensor(*t.qZeroPoints, qc->zeroPoints, why))
                return skip(name,
                            QStringLiteral("its per-channel quantization parameters cannot be read: %1").arg(why));
            const std::int64_t channels = t.shape[size_t(qc->axis)];
            if (std::int64_t(qc->scales.size()) != channels || std::int64_t(qc->zeroPoints.size()) != channels)
                return skip(name,
                            QStringLiteral("it has %1 channels along dimension %2 but %3 scales and %4 zero points")
                                .arg(argText(channels), argText(qc->axis), argText(qc->scales.size()),
                                     argText(qc->zeroPoints.size())));
            e.qChannels = std::move(qc);
        }
        m_index->entries.push_back(std::move(e));
    }

    /// The values of a small 1-D tensor of the pickle (per-channel scales or zero points),
    /// read from its record now. False, with `why`, when it is not usable.
    template <typename Out>
    bool smallTensor(const pickle::TensorRef& r, std::vector<Out>& out, QString& why)
    {
        if (!r.error.empty()) {
            why = qs(r.error);
            return false;
        }
        if (r.storage < 0 || size_t(r.storage) >= m_doc.storages.size() || !m_records[size_t(r.storage)]) {
            why = r.storage < 0 || size_t(r.storage) >= m_doc.storages.size()
                      ? QStringLiteral("a tensor without storage")
                      : m_storageProblem[size_t(r.storage)];
            return false;
        }
        return readChannelValues(*m_zip, *m_records[size_t(r.storage)], m_doc.storages[size_t(r.storage)], r, out, why);
    }

    Status tooDeep(const std::string& name) const
    {
        return Status::failure(
            ErrorKind::Limit,
            QStringLiteral("'%1' cannot be opened: data.pkl nests deeper than %2 levels at '%3' (cyclic?)")
                .arg(argText(m_name), argText(kMaxDepth),
                     argText(qs(name.size() > 60 ? name.substr(0, 60) + "..." : name))));
    }
    /// A name past limits::kMaxNameBytes: skipped, with one warning per prefix.
    void skipLongName(const std::string& name)
    {
        ++m_skipped;
        if (m_longNames++ == 0) {
            const QString msg =
                QStringLiteral("tensors whose names are longer than %1 bytes are skipped (the first starts '%2…')")
                    .arg(argText(std::int64_t(limits::kMaxNameBytes)), qs(name.substr(0, 60)));
            m_firstProblem = msg;
            m_index->warnings << msg;
        }
    }
    /// Whether a child of `prefix` named `key` would pass the name limit (then it is
    /// skipped whole instead of building names nobody can use).
    bool childNameTooLong(const std::string& prefix, std::string_view key)
    {
        if (prefix.size() + 1 + key.size() <= limits::kMaxNameBytes)
            return false;
        skipLongName(join(prefix.substr(0, 60), std::string(key.substr(0, 60))));
        return true;
    }
    Status visit(const std::string& name)
    {
        if (m_nameBytes > limits::kMaxTotalNameBytes)
            return Status::failure(ErrorKind::Limit,
                                   QStringLiteral("'%1' cannot be opened: its tensor names add up to more than %2 MiB")
                                       .arg(m_name, argText(std::int64_t(limits::kMaxTotalNameBytes >> 20))));
        // Shared sub-graphs are legitimate but must not blow up exponentially.
        if (++m_visits > m_doc.valueCount() * 4 + 100000)
            return Status::failure(
                ErrorKind::Limit,
                QStringLiteral(
                    "'%1' cannot be opened: data.pkl's object graph is too large to walk (shared cyclically at '%2'?)")
                    .arg(m_name, qs(name)));
        if (cancelled(m_options))
            return Status::failure(ErrorKind::Cancelled, cancelledMessage(m_path));
        return {};
    }

    // ---- torch.save: every reachable tensor, named by its key path ----
    Status walkValue(const Value* v, const std::string& name, int depth)
    {
        if (depth > kMaxDepth)
            return tooDeep(name);
        if (auto st = visit(name); !st)
            return st;
        switch (v->type) {
            case VT::Tensor:
                addTensor(name.empty() ? std::string("tensor") : name, *v->tensor,
                          v->tensor->isParameter ? TensorKind::Parameter : TensorKind::Tensor);
                return {};
            case VT::Dict:
                for (size_t i = 0; i < v->dictSize(); ++i) {
                    const Value* k = v->key(i);
                    if (k && k->type == VT::String && childNameTooLong(name, k->text))
                        continue;
                    if (auto st = walkValue(v->value(i), join(name, keyName(k)), depth + 1); !st)
                        return st;
                }
                return {};
            case VT::List:
            case VT::Tuple:
            case VT::Set:
                if (childNameTooLong(name, "01234567890123456789"))
                    return {};
                for (size_t i = 0; i < v->items.size(); ++i)
                    if (auto st = walkValue(v->items[i], join(name, std::to_string(i)), depth + 1); !st)
                        return st;
                return {};
            case VT::Object:
                // An object pickled whole (an nn.Module, say): its attributes, then what it was built from.
                if (v->state)
                    if (auto st = walkValue(v->state, name, depth + 1); !st)
                        return st;
                if (v->args && !v->opaque)
                    if (auto st = walkValue(v->args, name, depth + 1); !st)
                        return st;
                return {};
            default:
                return {};
        }
    }

    // ---- TorchScript: state_dict order (own parameters, own buffers, then children) ----
    const TorchScriptClass* classOf(std::string_view qualifiedText)
    {
        const std::string qualified(qualifiedText);
        if (auto it = m_classes.find(qualified); it != m_classes.end())
            return &it->second;
        const auto dot = qualified.rfind('.');
        if (dot == std::string::npos)
            return nullptr;
        const std::string qualifier = qualified.substr(0, dot);
        if (m_parsedFiles.insert(qualifier).second) {
            std::string path = qualifier;
            for (auto& c : path)
                if (c == '.')
                    c = '/';
            if (const ZipEntry* src = m_zip->find(m_top + "code/" + path + ".py")) {
                const bool overBudget = m_codeBytes + std::min(src->uncompressedSize, kMaxCodeBytes) > kMaxCodeTotal;
                auto b = overBudget
                             ? Result<StorageBytes>::failure(
                                   QStringLiteral("'%1': the class sources under code/ add up to more than %2 MiB; "
                                                  "%3 is not read and its tensors are listed with kind 'tensor'")
                                       .arg(m_name, argText(std::int64_t(kMaxCodeTotal >> 20)), qs(src->name)))
                             : m_zip->read(*src, kMaxCodeBytes, true);
                if (b)
                    m_codeBytes += b->size;
                if (b) {
                    const std::string text(reinterpret_cast<const char*>(b->data), size_t(b->size));
                    for (auto& c : parseTorchScriptClasses(text, qualifier))
                        m_classes.emplace(c.qualifiedName, std::move(c));
                } else {
                    m_index->warnings << b.error();
                }
            }
        }
        auto it = m_classes.find(qualified);
        return it == m_classes.end() ? nullptr : &it->second;
    }

    bool isModule(const Value* v)
    {
        if (!v || v->type != VT::Object || v->opaque)
            return false;
        if (const auto* c = classOf(v->text))
            return c->isModule;
        return v->state && v->state->get("training");  // sources missing: judge by the attributes
    }

    Status walkModule(const Value* m, const std::string& prefix, int depth)
    {
        if (depth > kMaxDepth)
            return tooDeep(prefix);
        if (auto st = visit(prefix); !st)
            return st;
        const Value* state = m->state;
        if (!state || state->type != VT::Dict) {
            if (state)
                m_index->warnings
                    << QStringLiteral(
                           "module '%1' (%2) stores its state in a custom format; its tensors are not listed")
                           .arg(qs(prefix.empty() ? std::string("(root)") : prefix), qs(m->text));
            return {};
        }
        const TorchScriptClass* cls = classOf(m->text);
        if (!cls && !m_warnedNoClass.count(std::string(m->text))) {
            m_warnedNoClass.insert(std::string(m->text));
            m_index->warnings << QStringLiteral(
                                     "no source for class %1 under code/: its tensors are listed with kind 'tensor'")
                                     .arg(qs(m->text));
        }
        // Hash sets: a class can list 100k parameters (a linear search per attribute was
        // quadratic).
        std::unordered_set<std::string_view> parameters, buffers;
        if (cls) {
            parameters.insert(cls->parameters.begin(), cls->parameters.end());
            buffers.insert(cls->buffers.begin(), cls->buffers.end());
        }
        auto listed = [](const std::unordered_set<std::string_view>& names, std::string_view n) {
            return names.count(n) > 0;
        };
        const std::string dotted = prefix.empty() ? std::string() : prefix + ".";
        // Own parameters, then own buffers, each in attribute order (LibTorch's and
        // Python's state_dict order).
        for (int pass = 0; pass < 2; ++pass) {
            for (size_t i = 0; i < state->dictSize(); ++i) {
                const Value* k = state->key(i);
                const Value* v = state->value(i);
                if (!k || k->type != VT::String || !v || v->type != VT::Tensor)
                    continue;
                TensorKind kind = TensorKind::Tensor;
                if (cls) {
                    if (listed(parameters, k->text))
                        kind = TensorKind::Parameter;
                    else if (listed(buffers, k->text))
                        kind = TensorKind::Buffer;
                    else
                        continue;  // a plain tensor attribute: not in state_dict()
                }
                const bool wanted = pass == 0 ? kind != TensorKind::Buffer : kind == TensorKind::Buffer;
                if (wanted)
                    addTensor(dotted + std::string(k->text), *v->tensor, kind);
            }
        }
        for (size_t i = 0; i < state->dictSize(); ++i) {
            const Value* k = state->key(i);
            const Value* v = state->value(i);
            if (!k || k->type != VT::String || !isModule(v))
                continue;
            if (childNameTooLong(prefix, k->text))
                continue;
            if (auto st = walkModule(v, dotted + std::string(k->text), depth + 1); !st)
                return st;
        }
        return {};
    }

    QString m_path;
    const LoadOptions& m_options;
    QString m_name;
    std::shared_ptr<const MappedFile> m_file;
    std::shared_ptr<const ZipReader> m_zip;
    std::string m_top;
    std::shared_ptr<ModelIndex> m_index;
    pickle::Document m_doc;
    std::vector<const ZipEntry*> m_records;
    std::vector<StorageInfo> m_storageInfo;
    std::vector<QString> m_storageProblem;
    std::unordered_map<std::string, TorchScriptClass> m_classes;
    std::unordered_set<std::string> m_parsedFiles;
    std::unordered_set<std::string> m_warnedNoClass;
    size_t m_visits = 0;
    std::uint64_t m_codeBytes = 0;      // code/ sources read so far
    std::uint64_t m_channelValues = 0;  // per-channel quantization channels of the entries so far
    std::size_t m_nameBytes = 0;        // of the tensors added so far
    int m_longNames = 0;
    int m_skipped = 0;
    QString m_firstProblem;
};

}  // namespace

namespace detail {

LoadResult loadTorchArchive(const QString& path, const LoadOptions& options)
{
    try {
        ArchiveLoader loader(path, options);
        return loader.run();
    } catch (const std::bad_alloc&) {
        return LoadResult::failure(
            ErrorKind::Limit, QStringLiteral("'%1' cannot be opened: out of memory").arg(QFileInfo(path).fileName()));
    } catch (const std::exception& e) {
        return LoadResult::failure(
            ErrorKind::Failed,
            QStringLiteral("'%1' cannot be opened: %2").arg(QFileInfo(path).fileName(), QString::fromUtf8(e.what())));
    }
}

}  // namespace detail

}  // namespace paramscope
