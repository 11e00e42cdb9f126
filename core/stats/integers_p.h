#pragma once
// Internal to core/stats. int64 and uint64 exactly: their values are kept as keys (intKey)
// wherever exactness matters: min and max (pass 1), the copy the exact quantiles select
// from, and the integer-aligned histogram, whose bin of a value is
// (key - min key) / width, an integer division (no double edges involved).

#include "stats/stats.h"
#include "stats/walk_p.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace paramscope::stats_internal {

template <typename T, typename F>
void forIntKeys(const Layout& L, std::int64_t begin, std::int64_t end, F&& f)
{
    forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t step) {
        for (std::int64_t i = 0; i < n; ++i)
            f(intKey(load<T>(p + i * step)));
    });
}

/// The key's value as the nearest double not farther from zero, so it stays inside the
/// dtype's range (2^63 - 1 gives 2^63 - 1024, not 2^63).
double keyTowardZero(std::uint64_t key, bool isSigned);

/// exactQuantiles() over int64/uint64 keys (reordered in place): the same order
/// statistics and doubles, plus each quantile exactly when it is an integer.
void exactIntegerQuantiles(std::vector<std::uint64_t>& keys, std::int64_t weight, bool isSigned, StatsQuantiles& q);

/// Integer-aligned histogram of an int64/uint64 tensor over keys [keyLo, keyHi]: the bin
/// width (in integers, `width`) as planHistogram() chooses it for the narrower integer
/// dtypes (in doubles there, exact below 2^53), made to cover every value with at most the
/// allowed bins by integer steps. Edges: half-integers as for the other integer dtypes when
/// doubles hold them exactly, else integerEdges (see StatsHistogram).
StatsHistogram planIntegerHistogram(const TensorStats& s, std::uint64_t keyLo, std::uint64_t keyHi, bool isSigned,
                                    int userBins, std::uint64_t& width);

}  // namespace paramscope::stats_internal
