// The public entry points of core/stats (stats.h): the checks of a view, broadcast views
// reduced to their stored elements, the choice between the narrow path (dtypes of 16 bits
// or less: one pass counting bit patterns, narrow.cpp) and the wide one (a fused pass and
// the passes for quantiles and the histogram, wide.cpp), and the small value types.
//
// The other files, each internal to core/stats: walk_p.h (layout, runs, decoders, blocks),
// threadpool_p.h (work units on threads, cancel, progress), moments_p.h (Acc and its
// merge), histogram (edges, Binner, Counters), quantiles, cells (power-of-two cells above
// the exact limit), integers (int64/uint64 exactly), kernels_p.h with kernels_sse2.cpp and
// kernels_avx2.cpp (the hot chunk loops per instruction set, chosen at run time).
#include "stats/stats.h"

#include "base/mappedfile.h"
#include "base/resourcelimits.h"
#include "base/textutil.h"
#include "stats/narrow_p.h"
#include "stats/walk_p.h"
#include "stats/wide_p.h"

#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <new>

namespace paramscope {

QString statsValuesName(StatsValues v)
{
    switch (v) {
        case StatsValues::Real:
            return QStringLiteral("stored");
        case StatsValues::Magnitude:
            return QStringLiteral("magnitude");
        case StatsValues::Dequantized:
            return QStringLiteral("dequantized");
    }
    return {};
}

StatsInteger StatsInteger::fromSigned(std::int64_t v)
{
    StatsInteger r;
    r.negative = v < 0;
    // |v| without overflow at -2^63.
    r.magnitude = v < 0 ? ~std::uint64_t(v) + 1 : std::uint64_t(v);
    return r;
}

StatsInteger StatsInteger::fromUnsigned(std::uint64_t v)
{
    StatsInteger r;
    r.magnitude = v;
    return r;
}

QString StatsInteger::toString() const
{
    const QString m = QString::number(qulonglong(magnitude));
    return negative ? QLatin1Char('-') + m : m;
}

double StatsInteger::toDouble() const
{
    const double m = double(magnitude);  // round to nearest
    return negative ? -m : m;
}

namespace {
QString shortestNumber(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}
}  // namespace

QString TensorStats::minText() const
{
    return minExact ? minExact->toString() : shortestNumber(min);
}

QString TensorStats::maxText() const
{
    return maxExact ? maxExact->toString() : shortestNumber(max);
}

QString TensorStats::quantileText(size_t i) const
{
    if (i >= quantiles.values.size())
        return {};
    return quantiles.exact[i] ? quantiles.exact[i]->toString() : shortestNumber(quantiles.values[i]);
}

int freedmanDiaconisBins(double min, double max, double iqr, std::int64_t n)
{
    if (n <= 0 || !(max > min))
        return 1;
    const double h = 2.0 * iqr / std::cbrt(double(n));
    double bins;
    if (h > 0 && std::isfinite((max - min) / h))
        bins = std::ceil((max - min) / h);
    else
        bins = std::ceil(std::log2(double(n))) + 1.0;  // Sturges
    return int(std::clamp(bins, 1.0, double(kMaxAutoBins)));
}

namespace {

Result<TensorStats> computeStatsOfView(const TensorView& v, const StatsOptions& o, std::int64_t weight)
{
    TensorStats s;
    s.broadcast = weight;
    s.dtype = v.dtype;
    s.shape = v.shape;
    s.scalar = v.shape.empty();
    s.values = dtypeIsComplex(v.dtype)     ? StatsValues::Magnitude
               : dtypeIsQuantized(v.dtype) ? StatsValues::Dequantized
                                           : StatsValues::Real;
    const int item = dtypeItemSize(v.dtype);
    if (item == 0 || v.dtype == DType::Unknown)
        return Result<TensorStats>::failure(
            ErrorKind::Unsupported,
            QStringLiteral("no statistics for dtype '%1'").arg(QLatin1String(dtypeName(v.dtype).data())));
    if (v.qChannels) {
        const QuantChannels& qc = *v.qChannels;
        if (v.dtype != DType::QInt8 && v.dtype != DType::QUInt8)
            return Result<TensorStats>::failure(
                ErrorKind::Unsupported,
                QStringLiteral("no statistics for per-channel quantized %1 (only qint8 and quint8)")
                    .arg(QLatin1String(dtypeName(v.dtype).data())));
        if (qc.axis < 0 || size_t(qc.axis) >= v.shape.size() || v.strides.size() != v.shape.size() ||
            std::int64_t(qc.scales.size()) != v.shape[size_t(qc.axis)] || qc.zeroPoints.size() != qc.scales.size())
            return Result<TensorStats>::failure(
                ErrorKind::Corrupt, QStringLiteral("per-channel quantization parameters do not match the shape"));
    }
    if (v.strides.size() != v.shape.size())
        return Result<TensorStats>::failure(ErrorKind::Corrupt,
                                            QStringLiteral("tensor view has %1 strides for %2 dimensions")
                                                .arg(argText(v.strides.size()), argText(v.shape.size())));
    for (auto d : v.shape)
        if (d < 0)
            return Result<TensorStats>::failure(ErrorKind::Corrupt, QStringLiteral("tensor view has a negative size"));
    s.elements = v.numel();
    s.empty = s.elements == 0;
    if (s.empty) {
        if (o.progress)
            o.progress(1.0);
        return s;
    }
    // Views from ModelIndex::view() are checked already; re-check so a hand-made view
    // cannot make us read outside its storage.
    const std::int64_t needed = requiredStorageElements(v.shape, v.strides, v.offset);
    if (needed < 0 || v.storage.data == nullptr || double(needed) * item > double(v.storage.size))
        return Result<TensorStats>::failure(ErrorKind::Corrupt,
                                            QStringLiteral("tensor view reaches outside its storage"));
    const stats_internal::Layout L = stats_internal::collapseInStorageOrder(v);
    const std::int64_t elements = s.elements;
    try {
        if (stats_internal::narrowDType(v.dtype))
            return stats_internal::narrowStats(v, L, o, std::move(s));
        return stats_internal::wideStats(v, L, o, std::move(s));
    } catch (const std::bad_alloc&) {
        // The copy for exact quantiles (up to exactQuantileLimit values) or the tables.
        return Result<TensorStats>::failure(
            ErrorKind::Limit, QStringLiteral("not enough memory for the statistics of %1 elements").arg(elements));
    }
}

}  // namespace

Result<TensorStats> computeStats(const TensorView& v, const StatsOptions& o)
{
    using R = Result<TensorStats>;
    if (v.strides.size() != v.shape.size())
        return R::failure(ErrorKind::Corrupt,
                          QStringLiteral("tensor view has %1 strides for %2 dimensions")
                              .arg(QString::number(v.strides.size()), QString::number(v.shape.size())));
    const std::int64_t numel = v.numel();
    const bool negative = std::any_of(v.shape.begin(), v.shape.end(), [](std::int64_t d) { return d < 0; });
    if (numel < 0 || numel > limits::kMaxLogicalElements)
        return R::failure(negative ? ErrorKind::Corrupt : ErrorKind::Limit,
                          QStringLiteral("%1 elements are more than ParamScope computes statistics of (2^62)")
                              .arg(QString::fromStdString(exactProductText(v.shape))));
    // Broadcast (stride-0) dimensions repeat the same elements: compute over what is
    // stored, each element weighted by the repetition, instead of walking every logical
    // element (a [2**40] view of one float would take hours). Per-channel quantized views
    // keep their channel axis.
    TensorView distinct = v;
    std::int64_t weight = 1;
    for (size_t d = 0; d < v.shape.size(); ++d) {
        if (v.strides[d] != 0 || v.shape[d] <= 1 || (v.qChannels && int(d) == v.qChannels->axis))
            continue;
        weight *= v.shape[d];  // cannot overflow: the product of all sizes fits
        distinct.shape[d] = 1;
    }
    auto r = computeStatsOfView(weight == 1 ? v : distinct, o, weight);
    // A file truncated while its pages were read gave zeros, not numbers: say so.
    // (MappedFile reports it as a plain failure; here it is what it is: the file's pages
    // could not be read.)
    if (Status st = MappedFile::checkAddress(v.storage.data); !st)
        return R::failure(ErrorKind::Io, st.error());
    if (!r || weight == 1)
        return r;
    TensorStats& s = r.value();
    s.shape = v.shape;
    s.elements = numel;
    s.empty = numel == 0;
    s.finite *= weight;
    s.nan *= weight;
    s.posInf *= weight;
    s.negInf *= weight;
    s.zeros *= weight;
    s.l1 *= double(weight);
    s.l2 *= std::sqrt(double(weight));
    for (auto& c : s.histogram.counts)
        c *= weight;
    return r;
}

Result<TensorStats> computeStats(const ModelIndex& index, int entry, const StatsOptions& o)
{
    auto v = index.view(entry);
    if (!v)
        return Result<TensorStats>::failureFrom(v);
    auto r = computeStats(v.value(), o);
    if (!r && entry >= 0 && size_t(entry) < index.entries.size() && !r.cancelled())
        return Result<TensorStats>::failure(r.kind(), QStringLiteral("'%1' in '%2': %3")
                                                          .arg(utf8ToQString(index.entries[size_t(entry)].name),
                                                               QFileInfo(index.filePath).fileName(), r.error()));
    return r;
}

}  // namespace paramscope
