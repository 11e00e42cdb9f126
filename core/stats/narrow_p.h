#pragma once
// Internal to core/stats. Dtypes of 16 bits or less (bool, int8, uint8, qint8, quint8,
// float8, int16, uint16, float16, bfloat16), whose statistics all come from one pass that
// counts how often each bit pattern occurs.

#include "stats/stats.h"
#include "stats/walk_p.h"

namespace paramscope::stats_internal {

/// Item size of at most 2 bytes, and not complex.
bool narrowDType(DType t);

/// Every statistic of a narrow-dtype view (L its collapsed layout), into `s`.
Result<TensorStats> narrowStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s);

}  // namespace paramscope::stats_internal
