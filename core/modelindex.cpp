#include "modelindex.h"

#include <QFileInfo>
#include <QLocale>

#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

std::string_view tensorKindName(TensorKind k)
{
    switch (k) {
    case TensorKind::Parameter: return "parameter";
    case TensorKind::Buffer: return "buffer";
    case TensorKind::Tensor: return "tensor";
    }
    return "tensor";
}

QString modelFormatName(ModelFormat f)
{
    switch (f) {
    case ModelFormat::TorchScript: return QStringLiteral("TorchScript archive");
    case ModelFormat::TorchSave: return QStringLiteral("torch.save checkpoint");
    case ModelFormat::Safetensors: return QStringLiteral("safetensors");
    case ModelFormat::ShardedSafetensors: return QStringLiteral("sharded safetensors");
    case ModelFormat::Unknown: break;
    }
    return QStringLiteral("unknown");
}

QString modelFormatId(ModelFormat f)
{
    switch (f) {
    case ModelFormat::TorchScript: return QStringLiteral("torchscript");
    case ModelFormat::TorchSave: return QStringLiteral("torch.save");
    case ModelFormat::Safetensors: return QStringLiteral("safetensors");
    case ModelFormat::ShardedSafetensors: return QStringLiteral("safetensors-sharded");
    case ModelFormat::Unknown: break;
    }
    return QStringLiteral("unknown");
}

namespace {

bool mulOverflow(std::int64_t a, std::int64_t b, std::int64_t* out)
{
    return __builtin_mul_overflow(a, b, out);
}

QString fileLabel(const QString& path) { return QFileInfo(path).fileName(); }

}  // namespace

std::int64_t requiredStorageElements(const std::vector<std::int64_t>& shape,
                                     const std::vector<std::int64_t>& strides, std::int64_t offset)
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
    std::vector<std::int64_t> strides(shape.size(), 1);
    std::int64_t acc = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = acc;
        acc *= std::max<std::int64_t>(shape[i], 1);
    }
    return strides;
}

std::int64_t TensorView::numel() const
{
    std::int64_t n = 1;
    for (auto s : shape)
        n *= s;
    return n;
}

bool TensorView::isContiguous() const
{
    std::int64_t expected = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] != 1 && strides[i] != expected)
            return false;
        expected *= shape[i];
    }
    return true;
}

void TensorView::copyContiguous(std::uint8_t* out) const
{
    const std::int64_t n = numel();
    if (n <= 0)
        return;
    const int item = dtypeItemSize(dtype);
    if (isContiguous()) {
        std::memcpy(out, base(), size_t(n) * size_t(item));
        return;
    }
    // Walk the index space with an odometer; the innermost dimension is copied as a run
    // when its stride is 1.
    const size_t rank = shape.size();
    std::vector<std::int64_t> idx(rank, 0);
    const std::uint8_t* src = base();
    const std::int64_t inner = shape[rank - 1];
    const std::int64_t innerStride = strides[rank - 1];
    std::int64_t outer = n / inner;
    for (std::int64_t o = 0; o < outer; ++o) {
        std::int64_t off = 0;
        for (size_t d = 0; d + 1 < rank; ++d)
            off += idx[d] * strides[d];
        const std::uint8_t* row = src + off * item;
        if (innerStride == 1) {
            std::memcpy(out, row, size_t(inner) * size_t(item));
            out += inner * item;
        } else {
            for (std::int64_t i = 0; i < inner; ++i) {
                std::memcpy(out, row + i * innerStride * item, size_t(item));
                out += item;
            }
        }
        for (size_t d = rank - 1; d-- > 0;) {
            if (++idx[d] < shape[d])
                break;
            idx[d] = 0;
        }
    }
}

void ModelIndex::finalize()
{
    std::unordered_map<int, int> firstInStorage;
    for (size_t i = 0; i < entries.size(); ++i) {
        auto& e = entries[i];
        std::int64_t n = 1;
        bool bad = false;
        for (auto s : e.shape) {
            if (s < 0 || mulOverflow(n, s, &n)) {
                bad = true;
                break;
            }
        }
        e.numel = bad ? 0 : n;
        if (mulOverflow(e.numel, dtypeItemSize(e.dtype), &e.bytes))
            e.bytes = 0;
        if (e.strides.empty() && !e.shape.empty())
            e.strides = contiguousStrides(e.shape);
        e.sharedWith = -1;
        if (e.storage >= 0) {
            auto [it, inserted] = firstInStorage.emplace(e.storage, int(i));
            if (!inserted)
                e.sharedWith = it->second;
        }
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
        return Result<TensorView>::failure(QStringLiteral("no tensor #%1 in '%2'").arg(entry).arg(fileLabel(filePath)));
    const auto& e = entries[size_t(entry)];
    const QString where = QStringLiteral("'%1' in '%2'").arg(QString::fromStdString(e.name), fileLabel(filePath));
    const int item = dtypeItemSize(e.dtype);
    if (item == 0)
        return Result<TensorView>::failure(QStringLiteral("%1 has an unsupported dtype").arg(where));
    if (!provider || e.storage < 0)
        return Result<TensorView>::failure(QStringLiteral("%1 has no data in this file").arg(where));
    auto bytes = provider->storageBytes(e.storage);
    if (!bytes)
        return Result<TensorView>::failure(bytes.error());
    TensorView v;
    v.storage = std::move(bytes.value());
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.strides = e.strides.size() == e.shape.size() ? e.strides : contiguousStrides(e.shape);
    v.offset = e.storageOffset;
    v.qScale = e.qScale;
    v.qZeroPoint = e.qZeroPoint;
    v.qChannels = e.qChannels;
    const std::int64_t needed = requiredStorageElements(v.shape, v.strides, v.offset);
    if (needed < 0)
        return Result<TensorView>::failure(QStringLiteral("%1 has invalid sizes, strides or offset").arg(where));
    std::int64_t neededBytes = 0;
    if (mulOverflow(needed, item, &neededBytes) || std::uint64_t(neededBytes) > v.storage.size)
        return Result<TensorView>::failure(
            QStringLiteral("%1 needs %2 bytes but its storage holds only %3").arg(where).arg(neededBytes).arg(v.storage.size));
    return v;
}

Result<std::vector<std::uint8_t>> ModelIndex::contiguousBytes(int entry) const
{
    auto v = view(entry);
    if (!v)
        return Result<std::vector<std::uint8_t>>::failure(v.error());
    std::vector<std::uint8_t> out(size_t(v->numel()) * size_t(dtypeItemSize(v->dtype)));
    v->copyContiguous(out.data());
    return out;
}

ModelIndex::Totals ModelIndex::totals() const
{
    Totals t;
    for (const auto& e : entries) {
        switch (e.kind) {
        case TensorKind::Parameter: ++t.parameters; break;
        case TensorKind::Buffer: ++t.buffers; break;
        case TensorKind::Tensor: ++t.tensors; break;
        }
        if (e.sharedWith < 0) {
            t.numel += e.numel;
            t.bytes += e.bytes;
        }
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

QString formatBytes(std::int64_t bytes)
{
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 2 : 1).arg(QLatin1String(units[u]));
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
