// Narrow dtypes (16 bits or less): ONE pass counts how often each code (bit pattern)
// occurs, in a 256- or 65536-entry table per thread. Every statistic, the exact quantiles
// and the histogram then come from that table of distinct values and their counts,
// without touching the data again. Per-channel quantized tensors count each channel on
// its own, since one code means a different value in each.
#include "stats/narrow_p.h"

#include "stats/histogram_p.h"
#include "stats/moments_p.h"
#include "stats/quantiles_p.h"
#include "stats/threadpool_p.h"

namespace paramscope::stats_internal {

namespace {

double codeValue(const TensorView& v, std::uint32_t code)
{
    switch (v.dtype) {
        case DType::Bool:
            return code != 0 ? 1.0 : 0.0;
        case DType::Int8:
            return double(std::int8_t(code));
        case DType::UInt8:
            return double(code);
        case DType::Int16:
            return double(std::int16_t(code));
        case DType::UInt16:
            return double(code);
        case DType::Float16:
            return double(halfToFloat(std::uint16_t(code)));
        case DType::BFloat16:
            return double(bfloat16ToFloat(std::uint16_t(code)));
        case DType::Float8E5M2:
            return double(float8e5m2ToFloat(std::uint8_t(code)));
        case DType::Float8E4M3:
            return double(float8e4m3fnToFloat(std::uint8_t(code)));
        case DType::Float8E4M3FNUZ:
            return double(float8e4m3fnuzToFloat(std::uint8_t(code)));
        case DType::Float8E5M2FNUZ:
            return double(float8e5m2fnuzToFloat(std::uint8_t(code)));
        case DType::QInt8:
            return double(std::int64_t(std::int8_t(code)) - v.qZeroPoint) * v.qScale;
        case DType::QUInt8:
            return double(std::int64_t(code) - v.qZeroPoint) * v.qScale;
        default:
            return 0.0;
    }
}

}  // namespace

bool narrowDType(DType t)
{
    return dtypeItemSize(t) <= 2 && !dtypeIsComplex(t);
}

namespace {

/// How often each code (bit pattern) occurs in elements [0, L.numel) of L, in
/// tables[thread] (codes entries, 8-bit codes counted in four interleaved copies so runs
/// of one value do not serialise on one counter). False when cancelled.
bool countCodes(const Layout& L, const StatsOptions& o, Progress& prog, std::vector<std::int64_t>& count)
{
    const int codes = L.item == 1 ? 256 : 65536;
    const int copies = L.item == 1 ? 4 : 1;
    const std::int64_t chunks = (L.numel + kChunk - 1) / kChunk;
    const int threads = threadCount(o, chunks);
    std::vector<std::vector<std::int64_t>> tables(size_t(threads), std::vector<std::int64_t>(size_t(codes) * copies));
    prog.total = chunks;
    const bool ok = parallelFor(chunks, threads, o, prog, [&](int t, std::int64_t c) {
        std::int64_t* tab = tables[size_t(t)].data();
        const std::int64_t begin = c * kChunk, end = std::min(L.numel, begin + kChunk);
        forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t step) {
            if (L.item == 1) {
                std::int64_t i = 0;
                for (; i + 4 <= n; i += 4)
                    for (int k = 0; k < 4; ++k)
                        ++tab[k * 256 + p[(i + k) * step]];
                for (; i < n; ++i)
                    ++tab[p[i * step]];
            } else {
                for (std::int64_t i = 0; i < n; ++i)
                    ++tab[load<std::uint16_t>(p + i * step)];
            }
        });
    });
    count.assign(size_t(codes), 0);
    for (const auto& tab : tables)
        for (int k = 0; k < copies; ++k)
            for (int c = 0; c < codes; ++c)
                count[size_t(c)] += tab[size_t(k * codes + c)];
    return ok;
}

/// Per-channel quantized int8/uint8: the codes of each channel (the view with the channel
/// axis fixed) are counted on their own and become values with that channel's scale and
/// zero point; the caller sorts them as it does any table of distinct values.
bool perChannelValues(const TensorView& v, const StatsOptions& o, std::vector<std::pair<double, std::int64_t>>& vals)
{
    const QuantChannels& qc = *v.qChannels;
    const auto axis = size_t(qc.axis);
    const std::int64_t channels = v.shape[axis];
    Progress prog;
    prog.o = &o;
    prog.total = channels;
    prog.span = 0.9;
    // Channels are the units of work; each is counted by one thread. They go in blocks,
    // each block's code counts folded into `vals` before the next, so memory stays that of
    // one block (a file may declare 2^24 channels of one element each).
    StatsOptions one = o;
    one.threads = 1;
    one.progress = nullptr;
    constexpr std::int64_t kBlockChannels = 4096;
    std::vector<std::vector<std::int64_t>> counts(size_t(std::min(channels, kBlockChannels)));
    for (std::int64_t first = 0; first < channels; first += kBlockChannels) {
        const std::int64_t n = std::min(kBlockChannels, channels - first);
        const bool ok = parallelFor(n, threadCount(o, n), o, prog, [&](int, std::int64_t k) {
            const std::int64_t c = first + k;
            TensorView sub = v;
            sub.offset += c * v.strides[axis];
            sub.shape.erase(sub.shape.begin() + std::ptrdiff_t(axis));
            sub.strides.erase(sub.strides.begin() + std::ptrdiff_t(axis));
            Progress quiet;
            quiet.o = &one;
            countCodes(collapseInStorageOrder(sub), one, quiet, counts[size_t(k)]);
        });
        if (!ok)
            return false;
        for (std::int64_t k = 0; k < n; ++k) {
            const std::int64_t c = first + k;
            for (int code = 0; code < 256; ++code)
                if (const std::int64_t m = counts[size_t(k)][size_t(code)]) {
                    const std::int64_t q = v.dtype == DType::QInt8 ? std::int64_t(std::int8_t(code)) : code;
                    vals.emplace_back(double(q - qc.zeroPoints[size_t(c)]) * qc.scales[size_t(c)], m);
                }
        }
    }
    return true;
}

}  // namespace

Result<TensorStats> narrowStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s)
{
    // Distinct finite values in ascending order with their counts.
    std::vector<std::pair<double, std::int64_t>> vals;
    if (v.qChannels) {
        if (!perChannelValues(v, o, vals))
            return cancelledResult();
    } else {
        Progress prog;
        prog.o = &o;
        prog.span = 0.9;
        std::vector<std::int64_t> count;
        if (!countCodes(L, o, prog, count))
            return cancelledResult();
        for (size_t c = 0; c < count.size(); ++c) {
            const std::int64_t n = count[c];
            if (n == 0)
                continue;
            const double x = codeValue(v, std::uint32_t(c));
            if (std::isnan(x))
                s.nan += n;
            else if (std::isinf(x))
                (x > 0 ? s.posInf : s.negInf) += n;
            else
                vals.emplace_back(x, n);
        }
    }
    std::sort(vals.begin(), vals.end());
    std::vector<std::pair<double, std::int64_t>> merged;  // +0 and -0 (and bool codes) collapse
    for (const auto& [x, n] : vals) {
        if (!merged.empty() && merged.back().first == x)
            merged.back().second += n;
        else
            merged.emplace_back(x, n);
    }
    Acc a;
    for (const auto& [x, n] : merged) {
        const double dn = double(n);
        a.n += n;
        a.sum += x * dn;
        a.sumAbs += std::fabs(x) * dn;
        a.sumSq += x * x * dn;
        if (x == 0.0)
            a.zeros += n;
    }
    if (a.n > 0) {
        a.min = merged.front().first;
        a.max = merged.back().first;
        a.mean = a.sum / double(a.n);
        for (const auto& [x, n] : merged)
            a.m2 += (x - a.mean) * (x - a.mean) * double(n);
    }
    a.nan = s.nan, a.posInf = s.posInf, a.negInf = s.negInf;
    finishMoments(s, a);
    if (a.n == 0)
        return s;
    std::vector<std::int64_t> cum(merged.size() + 1, 0);
    for (size_t j = 0; j < merged.size(); ++j)
        cum[j + 1] = cum[j] + merged[j].second;
    s.quantiles.values = linearQuantiles(a.n, s.broadcast, [&](std::int64_t k) {
        const auto it = std::upper_bound(cum.begin(), cum.end(), k);
        return merged[size_t(it - cum.begin()) - 1].first;
    });
    if (o.histogram) {
        s.histogram = planHistogram(v, s, o.bins, false);
        const Binner b(s.histogram.edges);
        s.histogram.counts.assign(size_t(b.bins), 0);
        for (const auto& [x, n] : merged)
            s.histogram.counts[size_t(b.index(x))] += n;
    }
    if (o.progress)
        o.progress(1.0);
    return s;
}

}  // namespace paramscope::stats_internal
