#include "model/modelindex.h"
#include "base/textutil.h"

#include "base/resourcelimits.h"

#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

std::string_view tensorKindName(TensorKind k)
{
    switch (k) {
        case TensorKind::Parameter:
            return "parameter";
        case TensorKind::Buffer:
            return "buffer";
        case TensorKind::Tensor:
            return "tensor";
        case TensorKind::Array:
            return "array";
    }
    return "tensor";
}

QString modelFormatName(ModelFormat f)
{
    switch (f) {
        case ModelFormat::TorchScript:
            return QStringLiteral("TorchScript archive");
        case ModelFormat::TorchSave:
            return QStringLiteral("torch.save checkpoint");
        case ModelFormat::TorchSaveLegacy:
            return QStringLiteral("torch.save checkpoint (legacy format)");
        case ModelFormat::TorchSaveTar:
            return QStringLiteral("torch.save checkpoint (tar format)");
        case ModelFormat::TorchScriptMobile:
            return QStringLiteral("TorchScript mobile archive");
        case ModelFormat::Safetensors:
            return QStringLiteral("safetensors");
        case ModelFormat::ShardedSafetensors:
            return QStringLiteral("sharded safetensors");
        case ModelFormat::Unknown:
            break;
    }
    return QStringLiteral("unknown");
}

QString modelFormatId(ModelFormat f)
{
    switch (f) {
        case ModelFormat::TorchScript:
            return QStringLiteral("torchscript");
        case ModelFormat::TorchSave:
            return QStringLiteral("torch.save");
        case ModelFormat::TorchSaveLegacy:
            return QStringLiteral("torch.save-legacy");
        case ModelFormat::TorchSaveTar:
            return QStringLiteral("torch.save-tar");
        case ModelFormat::TorchScriptMobile:
            return QStringLiteral("torchscript-mobile");
        case ModelFormat::Safetensors:
            return QStringLiteral("safetensors");
        case ModelFormat::ShardedSafetensors:
            return QStringLiteral("safetensors-sharded");
        case ModelFormat::Unknown:
            break;
    }
    return QStringLiteral("unknown");
}

QString shortClassName(const std::string& qualified)
{
    const auto dot = qualified.rfind('.');
    return utf8ToQString(dot == std::string::npos ? qualified : qualified.substr(dot + 1));
}

namespace {

bool mulOverflow(std::int64_t a, std::int64_t b, std::int64_t* out)
{
    return __builtin_mul_overflow(a, b, out);
}

QString fileLabel(const QString& path)
{
    return QFileInfo(path).fileName();
}

constexpr std::int64_t kSaturated = std::numeric_limits<std::int64_t>::max();

/// checkedNumel() over an entry's Dims, without a std::vector copy.
std::optional<std::int64_t> checkedNumel(const std::int64_t* first, const std::int64_t* last)
{
    for (const std::int64_t* d = first; d != last; ++d) {
        if (*d < 0)
            return std::nullopt;
        if (*d == 0)
            return 0;  // an empty tensor, whatever the other dimensions say
    }
    std::int64_t n = 1;
    for (const std::int64_t* d = first; d != last; ++d) {
        auto m = checkedMul(n, *d);
        if (!m)
            return std::nullopt;
        n = *m;
    }
    return n;
}

}  // namespace

std::int64_t requiredStorageElements(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& strides,
                                     std::int64_t offset)
{
    if (shape.size() != strides.size() || offset < 0)
        return -1;
    std::int64_t last = 0;  // index of the highest element, relative to offset
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] < 0 || strides[i] < 0)
            return -1;
        if (shape[i] == 0)
            return 0;
    }
    for (size_t i = 0; i < shape.size(); ++i) {
        std::int64_t term = 0;
        if (mulOverflow(shape[i] - 1, strides[i], &term) || __builtin_add_overflow(last, term, &last))
            return -1;
    }
    std::int64_t end = 0;
    if (__builtin_add_overflow(offset, last, &end) || __builtin_add_overflow(end, std::int64_t(1), &end))
        return -1;
    return end;
}

std::vector<std::int64_t> contiguousStrides(const std::vector<std::int64_t>& shape)
{
    // Strides of an overflowing shape are never used to address memory (view() refuses
    // such tensors), but must not be undefined behaviour either: saturate.
    std::vector<std::int64_t> strides(shape.size(), 1);
    std::int64_t acc = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = acc;
        if (mulOverflow(acc, std::max<std::int64_t>(shape[i], 1), &acc))
            acc = kSaturated;
    }
    return strides;
}

std::int64_t TensorView::numel() const
{
    auto n = checkedNumel(shape);
    return n ? *n : -1;
}

bool TensorView::isContiguous() const
{
    std::int64_t expected = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] != 1 && strides[i] != expected)
            return false;
        if (mulOverflow(expected, shape[i], &expected))
            return false;
    }
    return true;
}

std::int64_t TensorView::broadcastFactor() const
{
    std::int64_t m = 1;
    for (size_t d = 0; d < shape.size() && d < strides.size(); ++d)
        if (strides[d] == 0 && shape[d] > 1)
            if (mulOverflow(m, shape[d], &m))
                return -1;
    return m;
}

TensorView TensorView::withoutBroadcast() const
{
    TensorView r = *this;
    for (size_t d = 0; d < r.shape.size() && d < r.strides.size(); ++d)
        if (r.strides[d] == 0 && r.shape[d] > 1)
            r.shape[d] = 1;
    // Per-channel parameters along a reduced axis keep only channel 0's; such a view
    // gets no statistics shortcut (computeStats checks that the axis is intact).
    return r;
}

void TensorView::copyContiguous(std::uint8_t* out) const
{
    const std::int64_t n = numel();
    if (n <= 0)
        return;
    copyRange(0, n, out);
}

void TensorView::copyRange(std::int64_t begin, std::int64_t count, std::uint8_t* out) const
{
    const std::int64_t n = numel();
    if (count <= 0 || begin < 0 || n <= 0 || begin >= n)
        return;
    count = std::min(count, n - begin);
    const size_t item = size_t(dtypeItemSize(dtype));
    if (isContiguous()) {
        std::memcpy(out, base() + size_t(begin) * item, size_t(count) * item);
        return;
    }
    // Walk the index space with an odometer started at `begin`; the innermost dimension is
    // copied as a run when its stride is 1.
    const size_t rank = shape.size();
    std::vector<std::int64_t> idx(rank, 0);
    std::int64_t rest = begin;
    for (size_t d = rank; d-- > 0;) {
        idx[d] = rest % shape[d];
        rest /= shape[d];
    }
    const std::uint8_t* src = base();
    const std::int64_t inner = shape[rank - 1];
    const std::int64_t innerStride = strides[rank - 1];
    while (count > 0) {
        std::int64_t off = 0;
        for (size_t d = 0; d + 1 < rank; ++d)
            off += idx[d] * strides[d];
        const std::uint8_t* row = src + off * std::int64_t(item);
        const std::int64_t from = idx[rank - 1];
        const std::int64_t take = std::min(inner - from, count);
        if (innerStride == 1) {
            std::memcpy(out, row + from * std::int64_t(item), size_t(take) * item);
            out += size_t(take) * item;
        } else {
            for (std::int64_t i = from; i < from + take; ++i) {
                std::memcpy(out, row + i * innerStride * std::int64_t(item), item);
                out += item;
            }
        }
        count -= take;
        idx[rank - 1] = 0;
        for (size_t d = rank - 1; d-- > 0;) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
}

void ModelIndex::finalize()
{
    // First entry per storage: a table when the storage indices are dense (they index
    // `storages`), a hash map otherwise.
    int maxStorage = -1;
    for (const auto& e : entries)
        maxStorage = std::max(maxStorage, e.storage);
    const bool dense = size_t(maxStorage) < 4 * entries.size() + 64;
    std::vector<int> firstDense(dense ? size_t(maxStorage + 1) : 0, -1);
    std::unordered_map<int, int> firstInStorage;
    for (size_t i = 0; i < entries.size(); ++i) {
        auto& e = entries[i];
        const auto n = checkedNumel(e.shape.begin(), e.shape.end());
        const auto b = n ? checkedMul(*n, dtypeItemSize(e.dtype)) : std::nullopt;
        e.sizeOverflow = !n || !b;
        e.numel = n ? *n : kSaturated;
        e.bytes = b ? *b : kSaturated;
        if (e.strides.empty() && !e.shape.empty())
            e.strides = contiguousStrides(e.shape);
        e.sharedWith = -1;
        if (e.storage >= 0 && dense) {
            int& first = firstDense[size_t(e.storage)];
            if (first >= 0)
                e.sharedWith = first;
            else
                first = int(i);
        } else if (e.storage >= 0) {
            auto [it, inserted] = firstInStorage.emplace(e.storage, int(i));
            if (!inserted)
                e.sharedWith = it->second;
        }
    }
    makeNamesUnique();
}

void ModelIndex::makeNamesUnique()
{
    // Flattening can give two tensors one name ({'a': {'b': t}, 'a.b': u}; a key '' at the
    // top becomes "tensor" beside a real "tensor"). Every later one gets "#2", "#3", ...
    // (the first unused), so each name selects one tensor and exports hold what they say.
    // Any name twice? An open-addressing set of entry indices: no allocation per name.
    {
        std::size_t cap = 16;
        while (cap < entries.size() * 2)
            cap *= 2;
        std::vector<int> slots(cap, -1);
        bool clash = false;
        for (size_t i = 0; i < entries.size() && !clash; ++i) {
            const std::string& name = entries[i].name;
            for (std::size_t k = std::hash<std::string_view>()(name) & (cap - 1);; k = (k + 1) & (cap - 1)) {
                if (slots[k] < 0) {
                    slots[k] = int(i);
                    break;
                }
                if (entries[size_t(slots[k])].name == name) {
                    clash = true;
                    break;
                }
            }
        }
        if (!clash)
            return;
    }
    std::unordered_set<std::string> taken;
    for (const auto& e : entries)
        taken.insert(e.name);
    std::unordered_map<std::string, int> seen;
    for (auto& e : entries) {
        int& k = seen[e.name];
        if (++k == 1)
            continue;
        std::string candidate;
        do {
            candidate = e.name + "#" + std::to_string(k++);
        } while (taken.count(candidate));
        taken.insert(candidate);
        warnings << QStringLiteral("two or more tensors are named '") + utf8ToQString(e.name) +
                        QStringLiteral("'; this one is listed as '") + utf8ToQString(candidate) + QLatin1Char('\'');
        e.name = std::move(candidate);
    }
}

int ModelIndex::findEntry(std::string_view name) const
{
    for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].name == name)
            return int(i);
    return -1;
}

Result<TensorView> ModelIndex::view(int entry) const
{
    if (entry < 0 || size_t(entry) >= entries.size())
        return Result<TensorView>::failure(
            QStringLiteral("no tensor #%1 in '%2'").arg(QString::number(entry), fileLabel(filePath)));
    const auto& e = entries[size_t(entry)];
    // Named only in an error: a whole-model scan views every tensor.
    const auto where = [&] { return QStringLiteral("'%1' in '%2'").arg(utf8ToQString(e.name), fileLabel(filePath)); };
    const int item = dtypeItemSize(e.dtype);
    if (item == 0)
        return Result<TensorView>::failure(where() + QStringLiteral(" has an unsupported dtype"));
    if (!provider || e.storage < 0)
        return Result<TensorView>::failure(where() + QStringLiteral(" has no data in this file"));
    const auto numel = checkedNumelOf(e.shape);
    if (!numel || *numel > limits::kMaxLogicalElements)
        return Result<TensorView>::failure(
            where() +
            QStringLiteral(" has %1 elements, more than ParamScope computes with (2^62)").arg(entryNumelText(e)));
    auto bytes = provider->storageBytes(e.storage);
    if (!bytes)
        return Result<TensorView>::failureFrom(bytes);
    TensorView v;
    v.storage = std::move(bytes.value());
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.strides = e.strides.size() == e.shape.size() ? e.strides.toVector() : contiguousStrides(e.shape);
    v.offset = e.storageOffset;
    v.qScale = e.qScale();
    v.qZeroPoint = e.qZeroPoint();
    v.qChannels = e.qChannels();
    const std::int64_t needed = requiredStorageElements(v.shape, v.strides, v.offset);
    if (needed < 0)
        return Result<TensorView>::failure(where() + QStringLiteral(" has invalid sizes, strides or offset"));
    std::int64_t neededBytes = 0;
    if (mulOverflow(needed, item, &neededBytes) || std::uint64_t(neededBytes) > v.storage.size)
        return Result<TensorView>::failure(where() + QStringLiteral(" needs %1 bytes but its storage holds only %2")
                                                         .arg(QString::fromStdString(exactProductText({needed}, item)),
                                                              QString::number(v.storage.size)));
    // Overlapping strides make a view read stored elements many times over: bound the
    // work by what is stored (broadcast dimensions are not walked, see computeStats).
    const std::int64_t distinct = v.withoutBroadcast().numel();
    const std::int64_t stored = std::max<std::int64_t>(needed, 1);
    if (distinct / stored > limits::kMaxReadsPerStoredElement)
        return Result<TensorView>::failure(
            where() +
            QStringLiteral(" has overlapping strides that read its %1 stored elements %2 times over (at most %3)")
                .arg(QString::number(stored), QString::number(distinct / stored),
                     QString::number(limits::kMaxReadsPerStoredElement)));
    return v;
}

Result<std::vector<std::uint8_t>> ModelIndex::contiguousBytes(int entry) const
{
    using R = Result<std::vector<std::uint8_t>>;
    auto v = view(entry);
    if (!v)
        return R::failureFrom(v);
    const auto& e = entries[size_t(entry)];
    const auto size = checkedMul(v->numel(), dtypeItemSize(v->dtype));
    const QString where = QStringLiteral("'%1' in '%2'").arg(utf8ToQString(e.name), fileLabel(filePath));
    if (!size || *size > limits::kMaxExportBytes)
        return R::failure(where + QStringLiteral(" is too large for a copy in memory (%1)").arg(entryBytesText(e)));
    try {
        std::vector<std::uint8_t> out(static_cast<size_t>(*size));
        v->copyContiguous(out.data());
        return out;
    } catch (const std::bad_alloc&) {
        return R::failure(QStringLiteral("not enough memory for a copy of ") + where +
                          QStringLiteral(" (%1)").arg(formatBytes(*size)));
    } catch (const std::length_error&) {
        return R::failure(QStringLiteral("not enough memory for a copy of ") + where +
                          QStringLiteral(" (%1)").arg(formatBytes(*size)));
    }
}

std::string ModelIndex::access(int entry) const
{
    if (entry < 0 || size_t(entry) >= accessOf.size() || accessOf[size_t(entry)] == 0 ||
        accessOf[size_t(entry)] > accessBases.size())
        return {};
    const AccessBase& b = accessBases[accessOf[size_t(entry)] - 1];
    const std::string& name = entries[size_t(entry)].name;
    const std::string rest = b.nameOffset <= name.size() ? name.substr(b.nameOffset) : std::string();
    const auto literal = [](const std::string& s) { return pythonStringLiteral(s).toStdString(); };
    switch (b.step) {
        case AccessBase::Step::Subscript:
            return b.prefix + "[" + literal(rest) + "]";
        case AccessBase::Step::GetParameter:
            return b.prefix + ".get_parameter(" + literal(rest) + ")";
        case AccessBase::Step::GetBuffer:
            return b.prefix + ".get_buffer(" + literal(rest) + ")";
        case AccessBase::Step::Exact:
        case AccessBase::Step::Expression:
            break;
    }
    return b.prefix;
}

std::string ModelIndex::pythonPath(int entry, std::string_view var) const
{
    const std::string chain = access(entry);
    if (chain.empty())
        return {};
    if (accessBases[accessOf[size_t(entry)] - 1].step != AccessBase::Step::Expression)
        return std::string(var) + chain;
    std::string out;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        if (chain.compare(i, 2, "{}") == 0) {
            out += var;
            ++i;
        } else {
            out += chain[i];
        }
    }
    return out;
}

namespace {

/// Adds `e` to `t`; `tied`: its storage is already counted.
void accumulate(ModelIndex::Totals& t, const TensorEntry& e, bool tied)
{
    switch (e.kind) {
        case TensorKind::Parameter:
            ++t.parameters;
            break;
        case TensorKind::Buffer:
            ++t.buffers;
            break;
        case TensorKind::Tensor:
        case TensorKind::Array:
            ++t.tensors;
            break;
    }
    if (tied) {
        ++t.tied;
        return;
    }
    t.numel = saturatingAdd(t.numel, e.numel);
    t.bytes = saturatingAdd(t.bytes, e.bytes);
    std::int64_t& byKind = e.kind == TensorKind::Parameter ? t.parameterNumel
                           : e.kind == TensorKind::Buffer  ? t.bufferNumel
                                                           : t.tensorNumel;
    byKind = saturatingAdd(byKind, e.numel);
    if (e.kind == TensorKind::Parameter) {
        std::int64_t& grad = e.requiresGrad ? t.trainableNumel : t.frozenNumel;
        grad = saturatingAdd(grad, e.numel);
    }
    std::int64_t& dt = t.bytesByDType[e.dtype];
    dt = saturatingAdd(dt, e.bytes);
}

}  // namespace

ModelIndex::Totals ModelIndex::totals() const
{
    Totals t;
    for (const auto& e : entries)
        accumulate(t, e, e.sharedWith >= 0);
    return t;
}

ModelIndex::Totals ModelIndex::totals(const std::vector<int>& subset) const
{
    Totals t;
    std::unordered_set<int> counted;  // the first entry of each storage counted
    for (int i : subset) {
        if (i < 0 || size_t(i) >= entries.size())
            continue;
        const TensorEntry& e = entries[size_t(i)];
        accumulate(t, e, !counted.insert(e.sharedWith >= 0 ? e.sharedWith : i).second);
    }
    return t;
}

QString formatShape(const std::vector<std::int64_t>& shape)
{
    QString s = QStringLiteral("[");
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += QStringLiteral(", ");
        s += QString::number(shape[i]);
    }
    return s + QLatin1Char(']');
}

QString entryNumelText(const TensorEntry& e)
{
    if (!e.sizeOverflow)
        return formatCount(e.numel);
    const std::string exact = exactProductText(e.shape);
    QString out;
    for (size_t i = 0; i < exact.size(); ++i) {
        if (i && (exact.size() - i) % 3 == 0)
            out += QLatin1Char(',');
        out += QLatin1Char(exact[i]);
    }
    return out;
}

QString entryBytesText(const TensorEntry& e)
{
    if (!e.sizeOverflow)
        return formatBytes(e.bytes);
    const double b = approxProduct(e.shape, dtypeItemSize(e.dtype));
    const double eib = b / double(std::uint64_t(1) << 60);
    if (eib < 1e6)
        return QString::number(eib, 'f', eib < 10 ? 2 : 1) + QStringLiteral(" EiB");
    return QString::number(b, 'g', 3) + QStringLiteral(" B");
}

std::string entryNumelDecimal(const TensorEntry& e)
{
    return e.sizeOverflow ? exactProductText(e.shape) : std::to_string(e.numel);
}

std::string entryBytesDecimal(const TensorEntry& e)
{
    return e.sizeOverflow ? exactProductText(e.shape, dtypeItemSize(e.dtype)) : std::to_string(e.bytes);
}

QString formatBytes(std::int64_t bytes)
{
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0)
        return QString::number(bytes) + QStringLiteral(" B");
    return QString::number(v, 'f', v < 10 ? 2 : 1) + QLatin1Char(' ') + QLatin1String(units[u]);
}

QString formatSize(std::int64_t n, bool bytes)
{
    const QString text = bytes ? formatBytes(n) : formatCount(n);
    return n == kSaturated ? QStringLiteral("> ") + text : text;
}

QString formatCount(std::int64_t n)
{
    QString digits = QString::number(n < 0 ? -n : n);
    QString out;
    for (int i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += QLatin1Char(',');
        out += digits[i];
    }
    return n < 0 ? QLatin1Char('-') + out : out;
}

}  // namespace paramscope
