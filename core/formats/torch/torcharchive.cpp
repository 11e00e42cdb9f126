// The PyTorch archive reader (torcharchive.h): opens the zip, checks its layout and version,
// unpickles data.pkl with PyTorch's resolver, then hands the value tree to the pickle walk
// (walker.h) with the archive's data/ records as its storages and, for TorchScript, the class
// headers under code/.

#include "formats/torch/torcharchive.h"

#include "base/textutil.h"
#include "formats/engines_p.h"
#include "formats/torch/walker.h"

#include "base/mappedfile.h"
#include "base/resourcelimits.h"
#include "formats/pickle/pickle.h"
#include "formats/sniff.h"
#include "formats/zip/zipreader.h"

#include <QFileInfo>
#include <QLocale>

#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

namespace {

constexpr std::uint64_t kMaxPickleBytes = std::uint64_t(1) << 30;  // data.pkl, inflated
constexpr std::uint64_t kMaxCodeBytes = std::uint64_t(16) << 20;   // one code/ source, inflated
constexpr std::uint64_t kMaxCodeTotal = std::uint64_t(64) << 20;   // all code/ sources read for one open
constexpr std::uint64_t kMaxInflatedStorage = std::uint64_t(4) << 30;
constexpr std::int64_t kMinVersion = 1;
constexpr std::int64_t kMaxVersion = 20;       // 1.13 writes 10; later writers stay close
constexpr std::int64_t kMaxFormatVersion = 3;  // .format_version: PyTorch 2.x writes 1

QString qs(std::string_view s)
{
    return utf8ToQString(s);
}

bool cancelled(const LoadOptions& o)
{
    return isCancelled(o.cancel);
}

/// Storage records are mapped in place when stored, inflated (and cached) when a
/// writer compressed them. Once loaded, an archive's storages need no zip directory: a
/// stored record is an offset and a size into the mapped file (16 bytes a storage, where
/// the directory's entries cost 48 more), and the rare compressed one keeps its entry.
class ArchiveStorage final : public StorageProvider {
public:
    static constexpr std::uint64_t kMissing = std::numeric_limits<std::uint64_t>::max();
    struct Record {
        std::uint64_t dataOffset = kMissing;  // first byte in the file (kMissing: no record)
        std::uint64_t size = 0;               // the record's size, at most the declared one
    };
    std::shared_ptr<const MappedFile> file;
    std::vector<Record> records;                   // per storage index
    std::unordered_map<int, ZipEntry> compressed;  // storage index -> its deflated record

    Result<StorageBytes> storageBytes(int i) const override
    {
        using R = Result<StorageBytes>;
        if (i < 0 || size_t(i) >= records.size() || records[size_t(i)].dataOffset == kMissing)
            return R::failure(ErrorKind::Failed,
                              QStringLiteral("'%1' has no storage #%2").arg(argText(file->label()), argText(i)));
        const Record& r = records[size_t(i)];
        const auto packed = compressed.find(i);
        if (packed == compressed.end()) {
            if (auto st = file->check(); !st)
                return R::failureFrom(st);
            StorageBytes b;
            b.owner = file;
            b.data = file->data() + r.dataOffset;
            b.size = r.size;
            return b;
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        if (auto it = m_inflated.find(i); it != m_inflated.end())
            return it->second;
        auto b = ZipReader::readMember(file, packed->second, kMaxInflatedStorage, true);
        if (!b)
            return b;
        b->size = std::min(b->size, r.size);
        m_inflated.emplace(i, b.value());
        return b;
    }

    std::uint64_t readOrder(int i) const override
    {
        if (i < 0 || size_t(i) >= records.size())
            return kMissing;
        return records[size_t(i)].dataOffset;
    }

private:
    mutable std::mutex m_mutex;
    mutable std::unordered_map<int, StorageBytes> m_inflated;
};

/// The storages of a PyTorch archive: its data/<key> records (constants/<key> for the tensors
/// of constants.pkl); a record's handle is its entry's index.
class ZipRecords final : public detail::StorageRecords {
public:
    ZipRecords(std::shared_ptr<const ZipReader> zip, std::string top, std::string folder = "data/")
        : m_zip(std::move(zip)), m_top(std::move(top)), m_folder(std::move(folder))
    {
    }

    std::optional<detail::StorageRecord> find(std::string_view key) const override
    {
        const ZipEntry* e = m_zip->find(m_top + m_folder + std::string(key));
        if (!e)
            return std::nullopt;
        return detail::StorageRecord{e->uncompressedSize, std::uint64_t(e - m_zip->entries().data())};
    }
    QString unusable(const detail::StorageRecord& r, std::uint64_t, const QString& name) const override
    {
        const ZipEntry& e = entry(r);
        if (!e.isStored() && e.uncompressedSize > kMaxInflatedStorage)
            return QStringLiteral("its storage %1 is compressed and too large to inflate (%2 bytes)")
                .arg(argText(name), argText(e.uncompressedSize));
        return {};
    }
    Result<StorageBytes> read(const detail::StorageRecord& r, std::uint64_t bytes) const override
    {
        return m_zip->read(entry(r), bytes, true);
    }
    std::shared_ptr<const StorageProvider> provider(std::vector<detail::StorageRecord> records,
                                                    std::vector<std::uint64_t> bytes) const override
    {
        auto p = std::make_shared<ArchiveStorage>();
        p->file = m_zip->file();
        p->records.resize(records.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            const ZipEntry& e = entry(records[i]);
            const std::uint64_t declared = i < bytes.size() ? bytes[i] : 0;
            p->records[i].dataOffset = e.dataOffset;
            p->records[i].size = std::min(e.isStored() ? e.compressedSize : e.uncompressedSize, declared);
            if (!e.isStored())
                p->compressed.emplace(int(i), e);
        }
        return p;
    }
    std::string recordName(std::string_view key) const override { return m_folder + std::string(key); }

private:
    const ZipEntry& entry(const detail::StorageRecord& r) const { return m_zip->entries()[size_t(r.handle)]; }
    std::shared_ptr<const ZipReader> m_zip;
    std::string m_top;
    std::string m_folder;
};

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
        if (hasCode && m_zip->find(m_top + "bytecode.pkl"))
            m_index->format = ModelFormat::TorchScriptMobile;  // _save_for_lite_interpreter

        progress(0.15, QStringLiteral("Reading data.pkl"));
        auto bytes = m_zip->read(*pkl, kMaxPickleBytes, true);
        if (!bytes)
            return LoadResult::failureFrom(bytes);
        auto doc = pickle::unpickle(bytes->data, size_t(bytes->size));
        // The Document holds copies of everything it keeps: the pickle's bytes (100 MB for 1M
        // tensors), mapped or inflated, are not read again.
        MappedFile::advise(bytes->data, bytes->size, MappedFile::Advice::Release);
        bytes->owner.reset();
        if (!doc)
            return fail(doc.kind(), QStringLiteral("data.pkl cannot be read: %1").arg(doc.error()));
        m_doc = std::move(doc.value());
        if (cancelled(m_options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(m_path));

        progress(0.5, QStringLiteral("Indexing tensors"));
        detail::WalkOptions walk;
        walk.load = &m_options;
        walk.fileLabel = m_name;
        walk.torchScriptRoot = m_index->format != ModelFormat::TorchSave;
        walk.classOf = [this](std::string_view q) { return classOf(q); };
        std::string folder = "data/";
        if (walk.torchScriptRoot && m_doc.tensorCount() == 0) {
            // A frozen model (optimize_for_mobile, torch.jit.freeze): its weights are the unnamed
            // tensors of constants.pkl.
            auto st = readConstants(walk);
            if (!st)
                return LoadResult::failureFrom(st);
            if (walk.pickleName == QStringLiteral("constants.pkl"))
                folder = "constants/";
        }
        ZipRecords records(m_zip, m_top, folder);
        if (auto st = detail::indexDocument(m_doc, records, walk, *m_index); !st)
            return LoadResult::failureFrom(st);
        if (auto st = m_file->check(); !st)  // truncated while its directory or pickle was read
            return LoadResult::failureFrom(st);
        // The index's provider keeps the records it reads: the directory goes with this loader.
        m_zip->releaseDirectoryPages();
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
        const std::string first(m_zip->entries().front().name);
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
        return checkRecords2x();
    }

    /// When constants.pkl holds tensors, makes it the document walked, as {"constants": its
    /// tuple} with each torchbind object (an xnnpack op context) replaced by its state.
    Status readConstants(detail::WalkOptions& walk)
    {
        const ZipEntry* c = m_zip->find(m_top + "constants.pkl");
        if (!c)
            return {};
        auto bytes = m_zip->read(*c, kMaxPickleBytes, true);
        if (!bytes)
            return Status::failureFrom(bytes);
        auto doc = pickle::unpickle(bytes->data, size_t(bytes->size));
        if (!doc)
            return failStatus(doc.kind(), QStringLiteral("constants.pkl cannot be read: %1").arg(doc.error()));
        if (doc->tensorCount() == 0 || !doc->root)
            return {};
        pickle::Document& d = doc.value();
        pickle::Value* list = d.make(pickle::Value::Type::List);
        if (d.root->type == pickle::Value::Type::Tuple || d.root->type == pickle::Value::Type::List) {
            for (pickle::Value* v : d.root->items) {
                pickle::Value* item = v;
                const pickle::Value* weight = nullptr;
                const pickle::Value* bias = nullptr;
                if (v && v->type == pickle::Value::Type::Object && detail::convPackedTensors(v->state, weight, bias)) {
                    // Quantized conv packed params: {"weight": ..., "bias": ...}, not their config.
                    item = d.make(pickle::Value::Type::Dict);
                    for (const auto& [name, t] : {std::pair{"weight", weight}, std::pair{"bias", bias}}) {
                        if (!t)
                            continue;
                        pickle::Value* k = d.make(pickle::Value::Type::String);
                        k->text = name;
                        pickle::Value* kv[] = {k, const_cast<pickle::Value*>(t)};
                        d.append(item, kv, 2);
                    }
                } else if (v && v->type == pickle::Value::Type::Object && v->state &&
                           (v->state->type == pickle::Value::Type::Tuple ||
                            v->state->type == pickle::Value::Type::List)) {
                    item = v->state;  // a torchbind object (an xnnpack op context): its state
                }
                d.append(list, &item, 1);
            }
        } else {
            d.append(list, &d.root, 1);
        }
        pickle::Value* root = d.make(pickle::Value::Type::Dict);
        pickle::Value* key = d.make(pickle::Value::Type::String);
        key->text = "constants";
        pickle::Value* kv[] = {key, list};
        d.append(root, kv, 2);
        d.root = root;
        m_doc = std::move(d);
        walk.torchScriptRoot = false;
        walk.pickleName = QStringLiteral("constants.pkl");
        walk.unnamedConstants = true;
        m_index->warnings << QStringLiteral(
            "data.pkl holds no tensors (a frozen model keeps its weights as unnamed constants): the tensors of "
            "constants.pkl are listed as constants.<i>, in its order");
        return {};
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

    /// A small text record (`byteorder`, `.format_version`, `.storage_alignment`), trimmed; empty
    /// optional when absent.
    Result<std::optional<QString>> smallRecord(const char* name)
    {
        using R = Result<std::optional<QString>>;
        const ZipEntry* e = m_zip->find(m_top + name);
        if (!e)
            return R(std::optional<QString>());
        if (e->uncompressedSize > 64)
            return R::failure(ErrorKind::Corrupt,
                              QStringLiteral("'%1' cannot be opened: its %2 record is %3 bytes long "
                                             "(at most 64 expected)")
                                  .arg(m_name, QString::fromLatin1(name), argText(e->uncompressedSize)));
        auto b = m_zip->read(*e, 64, true);
        if (!b)
            return R::failureFrom(b);
        return R(std::optional<QString>(
            QString::fromLatin1(reinterpret_cast<const char*>(b->data), int(b->size)).trimmed()));
    }

    /// The records PyTorch 2.x adds: byteorder ("little"; "big" is refused, its storages would
    /// need swapping), .format_version (1) and .storage_alignment (a power of two).
    Status checkRecords2x()
    {
        auto orderRecord = smallRecord("byteorder");
        if (!orderRecord)
            return Status::failureFrom(orderRecord);
        if (const std::optional<QString>& order = orderRecord.value(); order && *order == QStringLiteral("big"))
            return failStatus(
                ErrorKind::Unsupported,
                QStringLiteral("it was written on a big-endian machine (its byteorder record says 'big'); "
                               "ParamScope reads little-endian archives only"));
        else if (order && *order != QStringLiteral("little"))
            return failStatus(
                ErrorKind::Corrupt,
                QStringLiteral("its byteorder record says '%1', not 'little' or 'big'").arg(order->left(20)));
        auto formatRecord = smallRecord(".format_version");
        if (!formatRecord)
            return Status::failureFrom(formatRecord);
        if (const std::optional<QString>& format = formatRecord.value()) {
            bool ok = false;
            const qlonglong v = format->toLongLong(&ok);
            if (!ok || format->isEmpty() || !format->at(0).isDigit())
                return failStatus(
                    ErrorKind::Corrupt,
                    QStringLiteral("its .format_version record is not a number ('%1')").arg(format->left(20)));
            if (v < 1 || v > kMaxFormatVersion)
                return failStatus(ErrorKind::Unsupported,
                                  QStringLiteral("its .format_version %1 is newer than ParamScope reads (1 to %2)")
                                      .arg(argText(v), argText(kMaxFormatVersion)));
        }
        auto alignmentRecord = smallRecord(".storage_alignment");
        if (!alignmentRecord)
            return Status::failureFrom(alignmentRecord);
        if (const std::optional<QString>& alignment = alignmentRecord.value()) {
            bool ok = false;
            const qlonglong a = alignment->toLongLong(&ok);
            if (!ok || a <= 0 || (a & (a - 1)) != 0 || a > (1 << 20))
                return failStatus(ErrorKind::Corrupt,
                                  QStringLiteral("its .storage_alignment record is not a power of two ('%1')")
                                      .arg(alignment->left(20)));
        }
        return {};
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

    // ---- TorchScript: the class headers under code/ ----
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

    QString m_path;
    const LoadOptions& m_options;
    QString m_name;
    std::shared_ptr<const MappedFile> m_file;
    std::shared_ptr<const ZipReader> m_zip;
    std::string m_top;
    std::shared_ptr<ModelIndex> m_index;
    pickle::Document m_doc;
    std::unordered_map<std::string, TorchScriptClass> m_classes;
    std::unordered_set<std::string> m_parsedFiles;
    std::uint64_t m_codeBytes = 0;  // code/ sources read so far
};

}  // namespace

namespace detail {

LoadResult loadTorchArchive(const QString& path, const LoadOptions& options)
{
    return guardedLoad(path, [&] {
        ArchiveLoader loader(path, options);
        return loader.run();
    });
}

}  // namespace detail

}  // namespace paramscope
