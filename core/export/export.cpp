#include "export/export.h"
#include "base/floatcodec.h"
#include "base/textutil.h"
#include "model/torchbackend.h"

#include "base/mappedfile.h"
#include "base/resourcelimits.h"

#include <sys/stat.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <unordered_set>

namespace paramscope {

// ---------------------------------------------------------------------------------------
// Formats

QString exportFormatId(ExportFormat f)
{
    switch (f) {
    case ExportFormat::Npy: return QStringLiteral("npy");
    case ExportFormat::Pt: return QStringLiteral("pt");
    case ExportFormat::Safetensors: return QStringLiteral("safetensors");
    case ExportFormat::Csv: return QStringLiteral("csv");
    }
    return {};
}

QString exportFormatSuffix(ExportFormat f) { return exportFormatId(f); }

QString exportFormatFilter(ExportFormat f)
{
    switch (f) {
    case ExportFormat::Npy: return QStringLiteral("NumPy array (*.npy)");
    case ExportFormat::Pt: return QStringLiteral("PyTorch tensor file (*.pt)");
    case ExportFormat::Safetensors: return QStringLiteral("safetensors (*.safetensors)");
    case ExportFormat::Csv: return QStringLiteral("CSV text (*.csv)");
    }
    return {};
}

std::optional<ExportFormat> exportFormatFromId(const QString& id)
{
    const QString s = id.trimmed().toLower();
    for (auto f : {ExportFormat::Npy, ExportFormat::Pt, ExportFormat::Safetensors, ExportFormat::Csv})
        if (s == exportFormatId(f))
            return f;
    if (s == QLatin1String("pth"))
        return ExportFormat::Pt;
    return std::nullopt;
}

std::optional<ExportFormat> exportFormatFromPath(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix();
    if (suffix.isEmpty())
        return std::nullopt;
    return exportFormatFromId(suffix);
}

bool exportFormatHoldsSeveral(ExportFormat f) { return f == ExportFormat::Pt || f == ExportFormat::Safetensors; }

std::vector<ExportFormat> exportFormatsFor(int tensorCount)
{
    if (tensorCount == 1)
        return {ExportFormat::Npy, ExportFormat::Pt, ExportFormat::Safetensors, ExportFormat::Csv};
    if (tensorCount > 1)
        return {ExportFormat::Safetensors, ExportFormat::Pt};
    return {};
}

QString exportCancelledMessage(const QString& outPath)
{
    return QStringLiteral("export to '%1' cancelled; nothing was written").arg(QFileInfo(outPath).fileName());
}

namespace {

// ---------------------------------------------------------------------------------------
// Element conversions

template <typename T>
T load(const std::uint8_t* p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

/// What one tensor becomes in a given format.
struct Plan {
    DType out = DType::Unknown;  // Unknown: cannot be exported, `error` says why
    QString note;
    QString error;
};

QString entryLabel(const TensorEntry& e) { return QLatin1Char('\'') + utf8ToQString(e.name) + QLatin1Char('\''); }

Plan planFor(const TensorEntry& e, ExportFormat f)
{
    const QString name = entryLabel(e);
    const QString dt = QLatin1String(dtypeName(e.dtype).data());
    Plan p;
    p.out = e.dtype;
    if (dtypeItemSize(e.dtype) == 0) {
        p.out = DType::Unknown;
        p.error = QStringLiteral("%1 has an unsupported dtype").arg(name);
        return p;
    }
    if (dtypeIsQuantized(e.dtype)) {
        p.out = DType::Float32;
        if (e.qChannels)
            p.note = QStringLiteral("%1 is quantized (%2, per channel along dimension %3): written as dequantized "
                                    "float32 values")
                         .arg(argText(name), argText(dt), argText(e.qChannels->axis));
        else
            p.note = QStringLiteral("%1 is quantized (%2): written as dequantized float32 values (scale %3, zero point %4)")
                         .arg(argText(name), argText(dt), argText(e.qScale), argText(e.qZeroPoint));
        return p;
    }
    switch (f) {
    case ExportFormat::Npy:
        if (e.dtype == DType::BFloat16 || e.dtype == DType::Float8E4M3 || e.dtype == DType::Float8E5M2) {
            p.out = DType::Float32;
            p.note = QStringLiteral("%1 is %2, which NumPy lacks: widened to float32 (exactly)").arg(name, dt);
        }
        break;
    case ExportFormat::Pt:
        if (e.dtype == DType::Float8E4M3 || e.dtype == DType::Float8E5M2) {
            p.out = DType::Float32;
            p.note = QStringLiteral("%1 is %2, which this PyTorch lacks: widened to float32 (exactly)").arg(name, dt);
        } else if (e.dtype == DType::UInt16) {
            p.out = DType::Int32;
            p.note = QStringLiteral("%1 is uint16, which this PyTorch lacks: widened to int32").arg(name);
        } else if (e.dtype == DType::UInt32 || e.dtype == DType::UInt64) {
            p.out = DType::Int64;
            p.note = QStringLiteral("%1 is %2, which this PyTorch lacks: written as int64").arg(name, dt);
        }
        break;
    case ExportFormat::Safetensors:
        if (dtypeSafetensorsCode(e.dtype).empty()) {
            p.out = DType::Unknown;
            p.error = QStringLiteral("%1 is %2, which safetensors cannot store; export it to .npy or .pt").arg(name, dt);
        }
        break;
    case ExportFormat::Csv:
        if (e.dtype == DType::Bool)
            p.note = QStringLiteral("%1 is bool: written as 0/1").arg(name);
        break;
    }
    return p;
}

/// The dequantized value of a quantized tensor's element from its C-order index and its
/// stored integer: (q - zero point) * scale, per tensor or per channel.
class Dequant {
public:
    explicit Dequant(const TensorEntry& e) : m_scale(e.qScale), m_zero(e.qZeroPoint), m_channels(e.qChannels.get())
    {
        if (m_channels) {
            const auto axis = size_t(m_channels->axis);
            m_count = axis < e.shape.size() ? std::max<std::int64_t>(1, e.shape[axis]) : 1;
            for (size_t d = axis + 1; d < e.shape.size(); ++d)
                m_inner *= std::max<std::int64_t>(1, e.shape[d]);
        }
    }
    float operator()(std::int64_t index, std::int64_t q) const
    {
        if (!m_channels)
            return float(m_scale * double(q - m_zero));
        const auto c = size_t((index / m_inner) % m_count);
        if (c >= m_channels->scales.size() || c >= m_channels->zeroPoints.size())
            return std::numeric_limits<float>::quiet_NaN();
        return float(m_channels->scales[c] * double(q - m_channels->zeroPoints[c]));
    }

private:
    double m_scale;
    std::int64_t m_zero;
    const QuantChannels* m_channels;
    std::int64_t m_inner = 1, m_count = 1;
};

/// Converts `n` C-order elements from `src` (dtype `from`) into `dst` (dtype `to`);
/// `first` is the C-order index of src's first element (it picks quantization channels).
/// Returns an error text when a value does not fit (uint64 -> int64).
QString convertElements(const std::uint8_t* src, std::int64_t n, DType from, DType to, const Dequant& dq,
                        std::int64_t first, std::uint8_t* dst)
{
    if (from == to) {
        std::memcpy(dst, src, size_t(n) * size_t(dtypeItemSize(from)));
        return {};
    }
    auto storeF = [dst](std::int64_t i, float v) { std::memcpy(dst + i * 4, &v, 4); };
    switch (from) {
    case DType::BFloat16:
        for (std::int64_t i = 0; i < n; ++i)
            storeF(i, bfloat16ToFloat(load<std::uint16_t>(src + 2 * i)));
        return {};
    case DType::Float8E5M2:
        for (std::int64_t i = 0; i < n; ++i)
            storeF(i, float8e5m2ToFloat(src[i]));
        return {};
    case DType::Float8E4M3:
        for (std::int64_t i = 0; i < n; ++i)
            storeF(i, float8e4m3fnToFloat(src[i]));
        return {};
    case DType::QInt8:
        for (std::int64_t i = 0; i < n; ++i)
            storeF(i, dq(first + i, std::int8_t(src[i])));
        return {};
    case DType::QUInt8:
        for (std::int64_t i = 0; i < n; ++i)
            storeF(i, dq(first + i, src[i]));
        return {};
    case DType::QInt32:
        for (std::int64_t i = 0; i < n; ++i)
            storeF(i, dq(first + i, load<std::int32_t>(src + 4 * i)));
        return {};
    case DType::UInt16:
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int32_t v = load<std::uint16_t>(src + 2 * i);
            std::memcpy(dst + 4 * i, &v, 4);
        }
        return {};
    case DType::UInt32:
        for (std::int64_t i = 0; i < n; ++i) {
            const std::int64_t v = load<std::uint32_t>(src + 4 * i);
            std::memcpy(dst + 8 * i, &v, 8);
        }
        return {};
    case DType::UInt64:
        for (std::int64_t i = 0; i < n; ++i) {
            const std::uint64_t u = load<std::uint64_t>(src + 8 * i);
            if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                return QStringLiteral("holds %1, which does not fit in int64").arg(u);
            const std::int64_t v = std::int64_t(u);
            std::memcpy(dst + 8 * i, &v, 8);
        }
        return {};
    default: break;
    }
    return QStringLiteral("cannot convert %1 to %2")
        .arg(QLatin1String(dtypeName(from).data()), QLatin1String(dtypeName(to).data()));
}

// ---------------------------------------------------------------------------------------
// Output: a QSaveFile (temporary file + rename), or a direct write for devices.

class Output {
public:
    Output(QString path, const ExportOptions& o, std::int64_t totalWork)
        : m_path(std::move(path)), m_options(o), m_total(std::max<std::int64_t>(totalWork, 1))
    {
    }
    ~Output()
    {
        // Anything not committed is dropped: QSaveFile removes its temporary file.
        if (m_save)
            m_save->cancelWriting();
    }

    Status open()
    {
        const QString name = displayName();
        if (m_path.isEmpty())
            return Status::failure(QStringLiteral("no output file given"));
        const QFileInfo fi(m_path);
        if (fi.isDir())
            return Status::failure(QStringLiteral("'%1' is a folder; give a file name to export to").arg(m_path));
        const QFileInfo dir(fi.absolutePath());
        if (!dir.exists())
            return Status::failure(QStringLiteral("cannot write '%1': the folder '%2' does not exist")
                                       .arg(name, QDir::toNativeSeparators(fi.absolutePath())));
        if (!dir.isDir())
            return Status::failure(QStringLiteral("cannot write '%1': '%2' is not a folder")
                                       .arg(name, QDir::toNativeSeparators(fi.absolutePath())));
        if (fi.exists() && !fi.isFile()) {
            // A device or a pipe (/dev/null, /dev/stdout): there is nothing to replace
            // atomically, and renaming a temporary file over a device node would destroy it.
            m_direct = std::make_unique<QFile>(m_path);
            if (!m_direct->open(QIODevice::WriteOnly | QIODevice::Unbuffered))
                return Status::failure(QStringLiteral("cannot write '%1': %2").arg(m_path, m_direct->errorString()));
            return {};
        }
        m_save = std::make_unique<QSaveFile>(m_path);
        if (!m_save->open(QIODevice::WriteOnly)) {
            const QString why = m_save->errorString();
            m_save.reset();
            return Status::failure(QStringLiteral("cannot write '%1' in '%2': %3%4")
                                       .arg(name, QDir::toNativeSeparators(fi.absolutePath()), why,
                                            dir.isWritable() ? QString() : QStringLiteral(" (the folder is read-only)")));
        }
        return {};
    }

    bool cancelled() const { return m_options.cancel && m_options.cancel->load(); }

    /// Accounts work done without writing (preparing data), for the progress bar.
    void advance(std::int64_t work)
    {
        m_done += work;
        report();
    }

    /// Writes in chunks, checking cancel and reporting progress between them. `work` is
    /// how much of the total these bytes stand for (defaults to their size).
    Status write(const void* data, std::int64_t size, std::int64_t work = -1)
    {
        if (work < 0)
            work = size;
        constexpr std::int64_t kChunk = 4 << 20;
        const char* p = static_cast<const char*>(data);
        std::int64_t left = size;
        const std::int64_t doneBefore = m_done;
        while (left > 0) {
            if (cancelled())
                return Status::failure(ErrorKind::Cancelled, exportCancelledMessage(m_path));
            const std::int64_t n = std::min(left, kChunk);
            QFileDevice* dev = device();
            if (dev->write(p, n) != n)
                return writeError(dev->errorString());
            p += n;
            left -= n;
            m_written += n;
            m_done = doneBefore + (size > 0 ? work * (size - left) / size : work);
            report();
        }
        if (size == 0)
            advance(work);
        return {};
    }
    Status write(const std::string& s) { return write(s.data(), std::int64_t(s.size())); }

    Status commit()
    {
        if (cancelled())
            return Status::failure(ErrorKind::Cancelled, exportCancelledMessage(m_path));
        if (m_direct) {
            if (!m_direct->flush())
                return writeError(m_direct->errorString());
            m_direct->close();
            if (m_direct->error() != QFileDevice::NoError)
                return writeError(m_direct->errorString());
            return {};
        }
        if (!m_save->commit()) {
            const QString why = m_save->errorString();
            m_save.reset();
            return writeError(why);
        }
        m_save.reset();
        if (m_options.progress)
            m_options.progress(1.0);
        return {};
    }

    std::int64_t written() const { return m_written; }

private:
    QFileDevice* device() { return m_save ? static_cast<QFileDevice*>(m_save.get()) : m_direct.get(); }
    QString displayName() const { return QFileInfo(m_path).fileName(); }

    Status writeError(const QString& why)
    {
        return Status::failure(QStringLiteral("could not write '%1': %2; nothing was written").arg(m_path, why));
    }

    void report()
    {
        if (!m_options.progress)
            return;
        const double f = std::min(1.0, double(m_done) / double(m_total));
        // Throttle: one call per 0.1 % step is plenty for a progress bar.
        if (f - m_lastReported >= 0.001 || f >= 1.0) {
            m_lastReported = f;
            m_options.progress(f);
        }
    }

    QString m_path;
    const ExportOptions& m_options;
    std::unique_ptr<QSaveFile> m_save;
    std::unique_ptr<QFile> m_direct;
    std::int64_t m_total = 1, m_done = 0, m_written = 0;
    double m_lastReported = -1.0;
};

// ---------------------------------------------------------------------------------------
// Tensor data: contiguous bytes of one entry, converted, visited in chunks.

/// Holds an entry's elements in C order: either pointing into the storage (contiguous
/// tensors, no copy) or in a private copy (strided views).
struct Elements {
    TensorView view;
    std::vector<std::uint8_t> copy;
    const std::uint8_t* data = nullptr;
    std::int64_t numel = 0;
};

Result<Elements> elementsOf(const ModelIndex& index, int entry)
{
    auto v = index.view(entry);
    if (!v)
        return Result<Elements>::failureFrom(v);
    Elements el;
    el.view = std::move(v.value());
    el.numel = el.view.numel();
    if (el.numel == 0)
        return el;
    if (el.view.isContiguous()) {
        el.data = el.view.base();
    } else {
        try {
            el.copy.resize(size_t(el.numel) * size_t(dtypeItemSize(el.view.dtype)));
        } catch (const std::exception&) {  // bad_alloc, length_error
            return Result<Elements>::failure(QStringLiteral("not enough memory for a copy of '%1' from '%2' (%3)")
                                                 .arg(utf8ToQString(index.entries[size_t(entry)].name),
                                                      QFileInfo(index.filePath).fileName(),
                                                      formatBytes(index.entries[size_t(entry)].bytes)));
        }
        el.view.copyContiguous(el.copy.data());
        el.data = el.copy.data();
    }
    return el;
}

/// Visits an entry's elements converted to `out`, in chunks of at most kChunkElems. A
/// strided view is copied chunk by chunk, never whole: a broadcast view of a few stored
/// values can stand for gigabytes.
template <typename Fn>
Status forEachChunk(const ModelIndex& index, int entry, DType out, Fn&& fn)
{
    auto v = index.view(entry);
    if (!v)
        return Status::failureFrom(v);
    const TensorView& view = v.value();
    const std::int64_t numel = view.numel();
    const auto& e = index.entries[size_t(entry)];
    const int inItem = dtypeItemSize(e.dtype);
    const int outItem = dtypeItemSize(out);
    constexpr std::int64_t kChunkElems = 1 << 20;
    const bool contiguous = view.isContiguous();
    std::vector<std::uint8_t> strided, buf;
    for (std::int64_t start = 0; start < numel; start += kChunkElems) {
        const std::int64_t n = std::min(kChunkElems, numel - start);
        const std::uint8_t* src = nullptr;
        if (contiguous) {
            src = view.base() + start * inItem;
        } else {
            strided.resize(size_t(n) * size_t(inItem));
            view.copyRange(start, n, strided.data());
            src = strided.data();
        }
        const std::uint8_t* chunk = src;
        if (out != e.dtype) {
            buf.resize(size_t(n) * size_t(outItem));
            const QString why = convertElements(src, n, e.dtype, out, Dequant(e), start, buf.data());
            if (!why.isEmpty())
                return Status::failure(entryLabel(e) + QLatin1Char(' ') + why);
            chunk = buf.data();
        }
        if (Status s = fn(chunk, n, n * inItem); !s)
            return s;
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// .npy

std::string npyDescr(DType t)
{
    switch (t) {
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::Float16: return "<f2";
    case DType::Int8: return "|i1";
    case DType::Int16: return "<i2";
    case DType::Int32: return "<i4";
    case DType::Int64: return "<i8";
    case DType::UInt8: return "|u1";
    case DType::UInt16: return "<u2";
    case DType::UInt32: return "<u4";
    case DType::UInt64: return "<u8";
    case DType::Bool: return "|b1";
    case DType::Complex64: return "<c8";
    case DType::Complex128: return "<c16";
    default: return {};
    }
}

/// The full .npy preamble (magic, version, length, header dict, padding) for `shape`.
std::string npyHeader(const std::string& descr, const std::vector<std::int64_t>& shape)
{
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            dict += ", ";
        dict += std::to_string(shape[i]);
    }
    if (shape.size() == 1)
        dict += ",";
    dict += "), }";
    // Version 1.0 stores the header length in 2 bytes; 2.0 in 4.
    auto build = [&](int prefix) {
        const size_t unpadded = size_t(prefix) + dict.size() + 1;  // + '\n'
        const size_t pad = (64 - unpadded % 64) % 64;
        return dict + std::string(pad, ' ') + "\n";
    };
    std::string header = build(10);
    std::string out = "\x93NUMPY";
    if (header.size() <= 65535) {
        out += '\x01';
        out += '\x00';
        out += char(header.size() & 0xff);
        out += char((header.size() >> 8) & 0xff);
    } else {
        header = build(12);
        out += '\x02';
        out += '\x00';
        for (int b = 0; b < 4; ++b)
            out += char((header.size() >> (8 * b)) & 0xff);
    }
    return out + header;
}

Status writeNpy(const ModelIndex& index, int entry, DType out, Output& o)
{
    const auto& e = index.entries[size_t(entry)];
    const std::string descr = npyDescr(out);
    if (descr.empty())
        return Status::failure(QStringLiteral("%1 (%2) cannot be written to .npy")
                                   .arg(entryLabel(e), QLatin1String(dtypeName(e.dtype).data())));
    if (Status s = o.write(npyHeader(descr, e.shape)); !s)
        return s;
    return forEachChunk(index, entry, out, [&](const std::uint8_t* p, std::int64_t n, std::int64_t work) {
        return o.write(p, n * dtypeItemSize(out), work);
    });
}

// ---------------------------------------------------------------------------------------
// .safetensors

std::string jsonEscape(const std::string& s)
{
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                o += buf;
            } else {
                o += char(c);  // UTF-8 passes through
            }
        }
    }
    return o + "\"";
}

Status writeSafetensors(const ModelIndex& index, const std::vector<int>& entries, const std::vector<Plan>& plans,
                        Output& o)
{
    std::string json = "{\"__metadata__\":{\"format\":\"pt\",\"source\":" +
                       jsonEscape(QFileInfo(index.filePath).fileName().toStdString()) + "}";
    std::uint64_t offset = 0;
    for (size_t k = 0; k < entries.size(); ++k) {
        const auto& e = index.entries[size_t(entries[k])];
        if (e.name == "__metadata__")
            return Status::failure(QStringLiteral("a tensor named '__metadata__' cannot be stored in safetensors"));
        const std::uint64_t size = std::uint64_t(e.numel) * std::uint64_t(dtypeItemSize(plans[k].out));
        json += "," + jsonEscape(e.name) + ":{\"dtype\":\"" + std::string(dtypeSafetensorsCode(plans[k].out)) +
                "\",\"shape\":[";
        for (size_t i = 0; i < e.shape.size(); ++i)
            json += (i ? "," : "") + std::to_string(e.shape[i]);
        json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + size) + "]}";
        offset += size;
    }
    json += "}";
    json.append((8 - json.size() % 8) % 8, ' ');
    std::string head(8, '\0');
    for (int b = 0; b < 8; ++b)
        head[size_t(b)] = char((std::uint64_t(json.size()) >> (8 * b)) & 0xff);
    if (Status s = o.write(head + json); !s)
        return s;
    for (size_t k = 0; k < entries.size(); ++k) {
        const DType out = plans[k].out;
        Status s = forEachChunk(index, entries[k], out, [&](const std::uint8_t* p, std::int64_t n, std::int64_t work) {
            return o.write(p, n * dtypeItemSize(out), work);
        });
        if (!s)
            return s;
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// .csv

void appendFloat(std::string& s, double v, bool single)
{
    if (std::isnan(v)) {
        s += "nan";
        return;
    }
    char buf[64];
    // Shortest text that reads back to the same value (at least as exact as max_digits10).
    auto r = single ? std::to_chars(buf, buf + sizeof buf, float(v)) : std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
}

template <typename I>
void appendInt(std::string& s, I v)
{
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
}

void appendElement(std::string& s, const std::uint8_t* p, const TensorEntry& e, const Dequant& dq, std::int64_t index,
                   bool boolWords)
{
    switch (e.dtype) {
    case DType::Float32: appendFloat(s, load<float>(p), true); break;
    case DType::Float64: appendFloat(s, load<double>(p), false); break;
    case DType::Float16: appendFloat(s, halfToFloat(load<std::uint16_t>(p)), true); break;
    case DType::BFloat16: appendFloat(s, bfloat16ToFloat(load<std::uint16_t>(p)), true); break;
    case DType::Float8E5M2: appendFloat(s, float8e5m2ToFloat(*p), true); break;
    case DType::Float8E4M3: appendFloat(s, float8e4m3fnToFloat(*p), true); break;
    case DType::Int8: appendInt(s, int(std::int8_t(*p))); break;
    case DType::Int16: appendInt(s, load<std::int16_t>(p)); break;
    case DType::Int32: appendInt(s, load<std::int32_t>(p)); break;
    case DType::Int64: appendInt(s, load<std::int64_t>(p)); break;
    case DType::UInt8: appendInt(s, unsigned(*p)); break;
    case DType::UInt16: appendInt(s, load<std::uint16_t>(p)); break;
    case DType::UInt32: appendInt(s, load<std::uint32_t>(p)); break;
    case DType::UInt64: appendInt(s, load<std::uint64_t>(p)); break;
    case DType::Bool: s += (*p ? (boolWords ? "true" : "1") : (boolWords ? "false" : "0")); break;
    case DType::QInt8: appendFloat(s, dq(index, std::int8_t(*p)), true); break;
    case DType::QUInt8: appendFloat(s, dq(index, *p), true); break;
    case DType::QInt32: appendFloat(s, dq(index, load<std::int32_t>(p)), true); break;
    case DType::Complex64:
    case DType::Complex128: {
        const bool single = e.dtype == DType::Complex64;
        const double re = single ? double(load<float>(p)) : load<double>(p);
        const double im = single ? double(load<float>(p + 4)) : load<double>(p + 8);
        // Python's spelling, which NumPy's loadtxt(dtype=complex) reads: 1.5-2j, 0+1j.
        appendFloat(s, re, single);
        std::string imText;
        appendFloat(imText, im, single);
        if (imText[0] != '-')
            s += '+';
        s += imText;
        s += 'j';
        break;
    }
    case DType::Unknown: break;
    }
}

Status writeCsv(const ModelIndex& index, int entry, const ExportOptions& opt, Output& o)
{
    const auto& e = index.entries[size_t(entry)];
    const size_t rank = e.shape.size();
    std::string text;
    if (rank == 0 || rank >= 3 || e.numel == 0) {
        text = "# shape: [";
        for (size_t i = 0; i < rank; ++i)
            text += (i ? ", " : "") + std::to_string(e.shape[i]);
        text += "]\n";
    }
    const std::int64_t rowLength = rank >= 2 ? (e.shape[0] > 0 ? e.numel / e.shape[0] : 0) : 1;
    auto el = elementsOf(index, entry);
    if (!el)
        return Status::failureFrom(el);
    const int item = dtypeItemSize(e.dtype);
    const Dequant dq(e);
    std::int64_t pendingWork = 0;
    for (std::int64_t i = 0; i < el->numel; ++i) {
        appendElement(text, el->data + i * item, e, dq, i, opt.csvBoolAsWords);
        text += ((i + 1) % rowLength == 0) ? '\n' : ',';
        pendingWork += item;
        if (text.size() >= (1u << 20)) {
            if (Status s = o.write(text.data(), std::int64_t(text.size()), pendingWork); !s)
                return s;
            text.clear();
            pendingWork = 0;
        }
    }
    return o.write(text.data(), std::int64_t(text.size()), pendingWork);
}

// ---------------------------------------------------------------------------------------
// .pt

Status writePt(const ModelIndex& index, const std::vector<int>& entries, const std::vector<Plan>& plans, Output& o)
{
    // Every name gets its own contiguous tensor: views and tied weights load with their
    // own values, at the cost of writing shared data once per name.
    std::vector<Elements> keep(entries.size());
    std::vector<std::vector<std::uint8_t>> converted(entries.size());
    std::vector<detail::PtTensor> tensors;
    tensors.reserve(entries.size());
    for (size_t k = 0; k < entries.size(); ++k) {
        if (o.cancelled())
            return Status::failure(ErrorKind::Cancelled, exportCancelledMessage(QString()));
        const auto& e = index.entries[size_t(entries[k])];
        auto el = elementsOf(index, entries[k]);
        if (!el)
            return Status::failureFrom(el);
        keep[k] = std::move(el.value());
        detail::PtTensor t;
        t.name = e.name;
        t.dtype = plans[k].out;
        t.shape = e.shape;
        t.data = keep[k].data;
        if (plans[k].out != e.dtype && keep[k].numel > 0) {
            converted[k].resize(size_t(keep[k].numel) * size_t(dtypeItemSize(plans[k].out)));
            const QString why = convertElements(keep[k].data, keep[k].numel, e.dtype, plans[k].out, Dequant(e), 0,
                                                converted[k].data());
            if (!why.isEmpty())
                return Status::failure(entryLabel(e) + QLatin1Char(' ') + why);
            t.data = converted[k].data();
            std::vector<std::uint8_t>().swap(keep[k].copy);  // the strided copy is no longer needed
        }
        tensors.push_back(std::move(t));
        o.advance(e.bytes);
    }
    // The archive streams straight into the output: no second copy of the data in memory.
    Status written;
    const Status pickled = detail::writePtArchive(tensors, entries.size() > 1, [&](const void* p, std::size_t n) {
        written = o.write(p, std::int64_t(n));
        return bool(written);
    });
    if (!written)
        return written;
    return pickled;
}

}  // namespace

QStringList exportNotes(const ModelIndex& index, const std::vector<int>& entries, ExportFormat f)
{
    QStringList notes;
    bool shared = false;
    std::unordered_set<int> storages;
    for (int i : entries) {
        if (i < 0 || size_t(i) >= index.entries.size())
            continue;
        const auto& e = index.entries[size_t(i)];
        const Plan p = planFor(e, f);
        if (!p.note.isEmpty())
            notes << p.note;
        if (e.storage >= 0 && !storages.insert(e.storage).second)
            shared = true;
    }
    if (shared && exportFormatHoldsSeveral(f))
        notes << QStringLiteral("some tensors share storage (tied weights or views): each name is written as its own copy");
    return notes;
}

namespace {

/// The same file (device and inode; symbolic links followed) as one the model reads from.
bool isSourceFile(const ModelIndex& index, const QString& outPath)
{
    struct stat out {};
    if (::stat(QFile::encodeName(outPath).constData(), &out) != 0)
        return false;  // does not exist yet: cannot be a source
    QStringList sources = index.sourceFiles;
    sources << index.filePath;
    for (const QString& src : sources) {
        struct stat in {};
        if (::stat(QFile::encodeName(src).constData(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
            return true;
    }
    return false;
}

ExportResult exportTensorsChecked(const ModelIndex& index, const std::vector<int>& entriesIn, const QString& outPath,
                                  ExportFormat f, const ExportOptions& opt);

}  // namespace

ExportResult exportTensors(const ModelIndex& index, const std::vector<int>& entriesIn, const QString& outPath,
                           ExportFormat f, const ExportOptions& opt)
{
    // Allocation failures on a lying size end here as a message, never in terminate().
    auto failed = [&](const QString& why) {
        return ExportResult::failure(QStringLiteral("could not export to '%1' from '%2': %3; nothing was written")
                                         .arg(QFileInfo(outPath).fileName(), QFileInfo(index.filePath).fileName(), why));
    };
    try {
        return exportTensorsChecked(index, entriesIn, outPath, f, opt);
    } catch (const std::bad_alloc&) {
        return failed(QStringLiteral("not enough memory"));
    } catch (const std::exception& e) {
        return failed(QString::fromUtf8(e.what()));
    }
}

namespace {

ExportResult exportTensorsChecked(const ModelIndex& index, const std::vector<int>& entriesIn, const QString& outPath,
                                  ExportFormat f, const ExportOptions& opt)
{
    const QString fileName = QFileInfo(outPath).fileName();
    if (isSourceFile(index, outPath))
        return ExportResult::failure(QStringLiteral("cannot export to '%1': it is the file the model is read from "
                                                    "(it would be replaced by the selection); choose another name")
                                         .arg(fileName));
    // Each entry once, in the order given.
    std::vector<int> entries;
    std::unordered_set<int> seen;
    for (int i : entriesIn) {
        if (i < 0 || size_t(i) >= index.entries.size())
            return ExportResult::failure(
                QStringLiteral("no tensor #%1 in '%2'").arg(QString::number(i), QFileInfo(index.filePath).fileName()));
        if (seen.insert(i).second)
            entries.push_back(i);
    }
    if (entries.empty())
        return ExportResult::failure(QStringLiteral("nothing to export to '%1': no tensor selected").arg(fileName));
    if (entries.size() > 1 && !exportFormatHoldsSeveral(f))
        return ExportResult::failure(QStringLiteral("a .%1 file holds one tensor, but %2 were selected; export them to "
                                                    ".safetensors or .pt instead")
                                         .arg(argText(exportFormatId(f)), argText(entries.size())));

    std::vector<Plan> plans;
    ExportReport report;
    report.path = outPath;
    report.format = f;
    report.tensors = int(entries.size());
    std::int64_t work = 0;
    std::int64_t outBytes = 0;
    for (int i : entries) {
        const auto& e = index.entries[size_t(i)];
        Plan p = planFor(e, f);
        if (p.out == DType::Unknown)
            return ExportResult::failure(p.error);
        const auto size = e.sizeOverflow ? std::nullopt : checkedMul(e.numel, dtypeItemSize(p.out));
        if (!size || e.numel > limits::kMaxLogicalElements || *size > limits::kMaxExportBytes ||
            !(outBytes = saturatingAdd(outBytes, *size), outBytes <= limits::kMaxExportBytes))
            return ExportResult::failure(
                QStringLiteral("cannot export %1 from '%2': %3 elements (%4) are more than one export writes (1 TiB)")
                    .arg(entryLabel(e), QFileInfo(index.filePath).fileName(), entryNumelText(e), entryBytesText(e)));
        plans.push_back(p);
        work = saturatingAdd(work, e.bytes);
    }
    report.notes = exportNotes(index, entries, f);
    if (f == ExportFormat::Pt)
        work *= 2;  // preparing the tensors, then writing the archive

    Output out(outPath, opt, work);
    if (Status s = out.open(); !s)
        return ExportResult::failureFrom(s);
    Status s;
    switch (f) {
    case ExportFormat::Npy: s = writeNpy(index, entries[0], plans[0].out, out); break;
    case ExportFormat::Safetensors: s = writeSafetensors(index, entries, plans, out); break;
    case ExportFormat::Csv: s = writeCsv(index, entries[0], opt, out); break;
    case ExportFormat::Pt: s = writePt(index, entries, plans, out); break;
    }
    // A source truncated while it was read gave zeros (or, written straight from the
    // mapping, EFAULT): never commit those, and say why the write failed.
    for (size_t k = 0; k < entries.size() && !out.cancelled(); ++k) {
        auto v = index.view(entries[k]);
        Status src = v ? MappedFile::checkAddress(v->storage.data) : Status::failureFrom(v);
        if (!src) {
            s = Status::failure(src.kind(), src.error() + QStringLiteral("; nothing was written to '") + fileName + QLatin1Char('\''));
            break;
        }
    }
    if (s)
        s = out.commit();
    if (!s) {
        if (out.cancelled())
            return ExportResult::failure(ErrorKind::Cancelled, exportCancelledMessage(outPath));
        return ExportResult::failureFrom(s);
    }
    report.bytesWritten = out.written();
    return report;
}

}  // namespace

}  // namespace paramscope
