// Element conversions for export: the dtype each tensor is written as (the rules every
// format shares, then the format's own from the writer table), the widening, dequantizing
// and narrowing of element runs (float16/bfloat16/float8 through base/floatcodec.h), and
// an entry's elements in C order for the writers.
#include "base/floatcodec.h"
#include "base/textutil.h"
#include "export/conversion_p.h"
#include "export/writers_p.h"

#include <QFileInfo>

namespace paramscope::exportdetail {

QString entryLabel(const TensorEntry& e)
{
    return QLatin1Char('\'') + utf8ToQString(e.name) + QLatin1Char('\'');
}

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
        if (e.qChannels())
            p.note = QStringLiteral(
                         "%1 is quantized (%2, per channel along dimension %3): written as dequantized "
                         "float32 values")
                         .arg(argText(name), argText(dt), argText(e.qChannels()->axis));
        else
            p.note =
                QStringLiteral("%1 is quantized (%2): written as dequantized float32 values (scale %3, zero point %4)")
                    .arg(argText(name), argText(dt), argText(e.qScale()), argText(e.qZeroPoint()));
        return p;
    }
    exportWriter(f).plan(e, name, dt, p);
    return p;
}

namespace {

template <typename Fn>
void storeFloats(std::uint8_t* dst, std::int64_t n, Fn&& value)
{
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = value(i);
        std::memcpy(dst + i * 4, &v, 4);
    }
}

}  // namespace

QString convertElements(const std::uint8_t* src, std::int64_t n, DType from, DType to, const Dequant& dq,
                        std::int64_t first, std::uint8_t* dst)
{
    if (from == to) {
        std::memcpy(dst, src, size_t(n) * size_t(dtypeItemSize(from)));
        return {};
    }
    switch (from) {
        case DType::BFloat16:
            storeFloats(dst, n, [&](std::int64_t i) { return bfloat16ToFloat(load<std::uint16_t>(src + 2 * i)); });
            return {};
        case DType::Float8E5M2:
            storeFloats(dst, n, [&](std::int64_t i) { return float8e5m2ToFloat(src[i]); });
            return {};
        case DType::Float8E4M3:
            storeFloats(dst, n, [&](std::int64_t i) { return float8e4m3fnToFloat(src[i]); });
            return {};
        case DType::Float8E4M3FNUZ:
            storeFloats(dst, n, [&](std::int64_t i) { return float8e4m3fnuzToFloat(src[i]); });
            return {};
        case DType::Float8E5M2FNUZ:
            storeFloats(dst, n, [&](std::int64_t i) { return float8e5m2fnuzToFloat(src[i]); });
            return {};
        case DType::QInt8:
            storeFloats(dst, n, [&](std::int64_t i) { return dq(first + i, std::int8_t(src[i])); });
            return {};
        case DType::QUInt8:
            storeFloats(dst, n, [&](std::int64_t i) { return dq(first + i, src[i]); });
            return {};
        case DType::QInt32:
            storeFloats(dst, n, [&](std::int64_t i) { return dq(first + i, load<std::int32_t>(src + 4 * i)); });
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
        default:
            break;
    }
    return QStringLiteral("cannot convert %1 to %2")
        .arg(QLatin1String(dtypeName(from).data()), QLatin1String(dtypeName(to).data()));
}

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
            return Result<Elements>::failure(
                ErrorKind::Limit,
                QStringLiteral("not enough memory for a copy of '%1' from '%2' (%3)")
                    .arg(utf8ToQString(index.entries[size_t(entry)].name), QFileInfo(index.filePath).fileName(),
                         formatBytes(index.entries[size_t(entry)].bytes)));
        }
        el.view.copyContiguous(el.copy.data());
        el.data = el.copy.data();
    }
    return el;
}

}  // namespace paramscope::exportdetail
