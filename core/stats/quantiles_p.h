#pragma once
// Internal to core/stats. Type-7 quantiles (np.quantile method='linear'): where each of
// the five levels sits among the sorted finite values (QuantileRank), exact quantiles by
// selection from a copy, and approximate ones from a fine histogram.

#include "stats/histogram_p.h"
#include "stats/stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace paramscope::stats_internal {

/// NumPy's lerp for method='linear' (the same rounding on each side of t = 0.5).
inline double lerp(double a, double b, double t)
{
    const double d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/// Where type-7 quantile `i` sits among `n` sorted values each standing for `weight`
/// logical elements (a broadcast view, TensorStats::broadcast): it interpolates between
/// the `lo`-th and `hi`-th of the n by `t`. With weight 1, position (n - 1) * q.
struct QuantileRank {
    std::int64_t lo = 0, hi = 0;
    double t = 0.0;
};
QuantileRank quantileRank(std::int64_t n, std::int64_t weight, size_t i);

/// Type-7 quantiles given a function returning the k-th smallest finite value.
template <typename OrderStat>
std::array<double, 5> linearQuantiles(std::int64_t n, std::int64_t weight, OrderStat&& kth)
{
    std::array<double, 5> out{};
    for (size_t i = 0; i < out.size(); ++i) {
        const QuantileRank r = quantileRank(n, weight, i);
        out[i] = lerp(kth(r.lo), kth(r.hi), r.t);
    }
    return out;
}

/// The ranks (ascending, unique) of the order statistics the five type-7 quantiles need.
std::vector<std::int64_t> quantileRankList(std::int64_t n, std::int64_t weight);

/// Selects the k-th smallest values for the given (ascending, unique) ranks, reordering x.
template <typename T>
std::vector<T> selectRanks(std::vector<T>& x, const std::vector<std::int64_t>& ranks)
{
    std::vector<T> out;
    auto from = x.begin();
    for (std::int64_t k : ranks) {
        auto nth = x.begin() + k;
        std::nth_element(from, nth, x.end());
        out.push_back(*nth);
        from = nth + 1;  // later ranks lie right of this one
    }
    return out;
}

/// Exact type-7 quantiles of `x` (reordered in place).
std::array<double, 5> exactQuantiles(std::vector<double>& x, std::int64_t weight);

/// Quantiles from a fine histogram (bins of `fine`, counts per bin): see quantiles.cpp.
void approximateQuantiles(TensorStats& s, const Binner& fine, const std::vector<std::int64_t>& counts);

}  // namespace paramscope::stats_internal
