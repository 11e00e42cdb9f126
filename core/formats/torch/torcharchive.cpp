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

/// The storages of a PyTorch archive: its data/<key> records (handle: the entry's index).
class ZipRecords final : public detail::StorageRecords {
public:
    ZipRecords(std::shared_ptr<const ZipReader> zip, std::string top) : m_zip(std::move(zip)), m_top(std::move(top)) {}

    std::optional<detail::StorageRecord> find(std::string_view key) const override
    {
        const ZipEntry* e = m_zip->find(m_top + "data/" + std::string(key));
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
        p->zip = m_zip;
        p->records.reserve(records.size());
        for (const auto& r : records)
            p->records.push_back(&entry(r));
        p->bytes = std::move(bytes);
        return p;
    }
    std::string recordName(std::string_view key) const override { return std::string("data/").append(key); }

private:
    const ZipEntry& entry(const detail::StorageRecord& r) const { return m_zip->entries()[size_t(r.handle)]; }
    std::shared_ptr<const ZipReader> m_zip;
    std::string m_top;
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

        progress(0.15, QStringLiteral("Reading data.pkl"));
        auto bytes = m_zip->read(*pkl, kMaxPickleBytes, true);
        if (!bytes)
            return LoadResult::failureFrom(bytes);
        auto doc = pickle::unpickle(bytes->data, size_t(bytes->size));
        if (!doc)
            return fail(doc.kind(), QStringLiteral("data.pkl cannot be read: %1").arg(doc.error()));
        m_doc = std::move(doc.value());
        if (cancelled(m_options))
            return LoadResult::failure(ErrorKind::Cancelled, cancelledMessage(m_path));

        progress(0.5, QStringLiteral("Indexing tensors"));
        ZipRecords records(m_zip, m_top);
        detail::WalkOptions walk;
        walk.load = &m_options;
        walk.fileLabel = m_name;
        walk.torchScriptRoot = m_index->format == ModelFormat::TorchScript;
        walk.classOf = [this](std::string_view q) { return classOf(q); };
        if (auto st = detail::indexDocument(m_doc, records, walk, *m_index); !st)
            return LoadResult::failureFrom(st);
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
