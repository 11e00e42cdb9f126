// int64 / uint64 exactly: interpolated quantiles that are integers kept as integers, and
// the integer-aligned histogram with edges a double may not hold.
#include "stats/integers_p.h"

#include "stats/quantiles_p.h"

#include <cmath>
#include <limits>

namespace paramscope::stats_internal {

double keyTowardZero(std::uint64_t key, bool isSigned)
{
    if (isSigned) {
        const auto v = std::int64_t(key ^ (std::uint64_t(1) << 63));
        const double d = double(v);
        if (d >= 0x1p63)
            return std::nextafter(0x1p63, 0.0);
        if ((d > 0 && std::int64_t(d) > v) || (d < 0 && std::int64_t(d) < v))
            return std::nextafter(d, 0.0);
        return d;
    }
    const double d = double(key);
    if (d >= 0x1p64)
        return std::nextafter(0x1p64, 0.0);
    return std::uint64_t(d) > key ? std::nextafter(d, 0.0) : d;
}

namespace {

/// a + (b - a) * t for keys a <= b, when that is an integer (t is a double, so exactly
/// M * 2^-E): the exact interpolation, else nothing.
std::optional<StatsInteger> integerLerp(std::uint64_t a, std::uint64_t b, double t, bool isSigned)
{
    if (t == 0.0 || a == b)
        return keyInteger(a, isSigned);
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 U128;
    if (!(t > 0.0 && t < 1.0))
        return std::nullopt;
    int ex = 0;
    const double fr = std::frexp(t, &ex);              // t = fr * 2^ex, fr in [0.5, 1), ex <= 0
    const auto M = std::uint64_t(std::ldexp(fr, 53));  // t = M * 2^-(53 - ex), exactly
    const int E = 53 - ex;
    const U128 P = U128(b - a) * M;  // < 2^117
    if (E >= 120 || (P & ((U128(1) << E) - 1)) != 0)
        return std::nullopt;
    return keyInteger(a + std::uint64_t(P >> E), isSigned);  // <= b: no overflow
#else
    return std::nullopt;
#endif
}

}  // namespace

void exactIntegerQuantiles(std::vector<std::uint64_t>& keys, std::int64_t weight, bool isSigned, StatsQuantiles& q)
{
    const auto n = std::int64_t(keys.size());
    const std::vector<std::int64_t> ranks = quantileRankList(n, weight);
    const std::vector<std::uint64_t> picked = selectRanks(keys, ranks);
    auto kth = [&](std::int64_t k) {
        return picked[size_t(std::lower_bound(ranks.begin(), ranks.end(), k) - ranks.begin())];
    };
    for (size_t i = 0; i < q.values.size(); ++i) {
        const QuantileRank r = quantileRank(n, weight, i);
        const std::uint64_t a = kth(r.lo), b = kth(r.hi);
        q.values[i] = lerp(keyInteger(a, isSigned).toDouble(), keyInteger(b, isSigned).toDouble(), r.t);
        q.exact[i] = integerLerp(a, b, r.t, isSigned);
        if (q.exact[i])
            q.values[i] = q.exact[i]->toDouble();
    }
}

/// Integer-aligned histogram of an int64/uint64 tensor over keys [keyLo, keyHi]: the bin
/// width (in integers, `width`) as planHistogram() chooses it for the narrower integer
/// dtypes (in doubles there, exact below 2^53), made to cover every value with at most the
/// allowed bins by integer steps. Edges: half-integers as for the other integer dtypes when
/// doubles hold them exactly, else integerEdges (see StatsHistogram).
StatsHistogram planIntegerHistogram(const TensorStats& s, std::uint64_t keyLo, std::uint64_t keyHi, bool isSigned,
                                    int userBins, std::uint64_t& width)
{
    StatsHistogram h;
    h.automatic = userBins <= 0;
    h.integerAligned = true;
    const double iqr = s.quantiles.p75() - s.quantiles.p25();
    const std::uint64_t span = keyHi - keyLo;  // values spanned, minus one
    const double m = double(span) + 1.0;
    double k;
    if (userBins > 0) {
        k = std::ceil(m / std::min(userBins, kMaxBins));
    } else {
        const double w = 2.0 * iqr / std::cbrt(double(s.finite));
        if (w > 0)
            k = std::max(1.0, std::ceil(w));
        else
            k = std::ceil(m / (std::ceil(std::log2(double(s.finite))) + 1.0));
        k = std::max(k, std::ceil(m / kMaxAutoBins));
    }
    k = std::max(k, 1.0);
    width = k >= 0x1p64 ? std::numeric_limits<std::uint64_t>::max() : std::uint64_t(k);
    const std::uint64_t cap = std::uint64_t(userBins > 0 ? std::min(userBins, kMaxBins) : kMaxAutoBins);
    if (span / width + 1 > cap)  // then span / width < cap (one bin of 2^64 saturates)
        width = span / cap == std::numeric_limits<std::uint64_t>::max() ? span : span / cap + 1;
    // The counting loops clamp (key - keyLo) / width to the last bin, which matters only for
    // that saturated bin.
    const std::uint64_t bins = std::min(span / width + 1, cap);
    h.edges.resize(size_t(bins) + 1);
    const double cmin = s.min;  // the minimum (exact in this branch)
    if (std::fabs(cmin) + double(bins) * double(width) < 0x1p51) {
        for (std::uint64_t i = 0; i <= bins; ++i)
            h.edges[size_t(i)] = (cmin - 0.5 + double(i) * double(width)) * 1.0;
        return h;
    }
    h.integerEdges.resize(size_t(bins) + 1);
    for (std::uint64_t i = 0; i < bins; ++i)  // i * width <= span: no overflow
        h.integerEdges[size_t(i)] = keyInteger(keyLo + i * width, isSigned);
    h.integerEdges[size_t(bins)] = keyInteger(keyHi, isSigned);
    for (std::uint64_t i = 0; i < bins; ++i)
        h.edges[size_t(i)] = keyTowardZero(keyLo + i * width, isSigned);
    h.edges[size_t(bins)] = keyTowardZero(keyHi, isSigned);
    return h;
}

}  // namespace paramscope::stats_internal
