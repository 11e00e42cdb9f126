#pragma once
// Internal to core/stats. Dtypes wider than 16 bits (float32/64, int32/64, uint32/64,
// complex as |z|, qint32 dequantized): a fused pass for counts and moments, then the
// passes for quantiles and the histogram (see wide.cpp).

#include "stats/stats.h"
#include "stats/walk_p.h"

namespace paramscope::stats_internal {

/// Every statistic of a wide-dtype view (L its collapsed layout), into `s`. Fails when
/// cancelled, or for a dtype no decoder reads.
Result<TensorStats> wideStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s);

}  // namespace paramscope::stats_internal
