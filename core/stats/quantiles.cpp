// Quantiles: the ranks type-7 interpolation needs (also for broadcast views, whose stored
// values each stand for several logical ones), exact quantiles by selection, and
// approximate ones from a fine histogram with their error bound.
#include "stats/quantiles_p.h"

namespace paramscope::stats_internal {

QuantileRank quantileRank(std::int64_t n, std::int64_t weight, size_t i)
{
    const double q = StatsQuantiles::kLevels[i];
    if (weight <= 1) {
        const double pos = double(n - 1) * q;
        const auto lo = std::int64_t(std::floor(pos));
        return {lo, std::min(lo + 1, n - 1), pos - double(lo)};
    }
    // Among the n * weight logical values (at most 2^62), the k-th smallest is the
    // (k / weight)-th of the n distinct ones.
    const std::int64_t N = n * weight;
    const long double pos = (long double)(N - 1) * (long double)q;
    const auto lo = std::int64_t(std::floor(pos));
    const auto hi = std::min(lo + 1, N - 1);
    return {lo / weight, hi / weight, double(pos - (long double)lo)};
}

std::vector<std::int64_t> quantileRankList(std::int64_t n, std::int64_t weight)
{
    std::vector<std::int64_t> ranks;
    for (size_t i = 0; i < StatsQuantiles::kLevels.size(); ++i) {
        const QuantileRank r = quantileRank(n, weight, i);
        ranks.push_back(r.lo);
        ranks.push_back(r.hi);
    }
    std::sort(ranks.begin(), ranks.end());
    ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
    return ranks;
}

std::array<double, 5> exactQuantiles(std::vector<double>& x, std::int64_t weight)
{
    const auto n = std::int64_t(x.size());
    const std::vector<std::int64_t> ranks = quantileRankList(n, weight);
    const std::vector<double> picked = selectRanks(x, ranks);
    return linearQuantiles(n, weight, [&](std::int64_t k) {
        return picked[size_t(std::lower_bound(ranks.begin(), ranks.end(), k) - ranks.begin())];
    });
}

/// Quantiles from a fine histogram. The exact answer is lerp(x[lo], x[hi], t) with x[lo]
/// in fine bin [a0, a1) and x[hi] in [b0, b1), so it lies in [lerp(a0, b0, t), lerp(a1, b1, t)],
/// an interval exactly one fine bin wide: report its midpoint, error at most half a bin.
void approximateQuantiles(TensorStats& s, const Binner& fine, const std::vector<std::int64_t>& counts)
{
    std::vector<std::int64_t> cum(counts.size() + 1, 0);
    for (size_t j = 0; j < counts.size(); ++j)
        cum[j + 1] = cum[j] + counts[j];
    auto binOf = [&](std::int64_t k) { return size_t(std::upper_bound(cum.begin(), cum.end(), k) - cum.begin()) - 1; };
    s.quantiles.approximate = true;
    s.quantiles.errorBound = 0;
    for (size_t i = 0; i < s.quantiles.values.size(); ++i) {
        const QuantileRank r = quantileRank(s.finite, s.broadcast, i);
        const double t = r.t;
        const size_t A = binOf(r.lo), B = binOf(r.hi);
        const double low = std::clamp(lerp(fine.edges[A], fine.edges[B], t), s.min, s.max);
        const double high = std::clamp(lerp(fine.edges[A + 1], fine.edges[B + 1], t), s.min, s.max);
        s.quantiles.values[i] = low + (high - low) / 2;
        s.quantiles.errorBound = std::max(s.quantiles.errorBound, (high - low) / 2);
    }
}

}  // namespace paramscope::stats_internal
