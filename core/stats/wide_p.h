#pragma once
// Internal to core/stats. Dtypes wider than 16 bits (float32/64, int32/64, uint32/64,
// complex as |z|, qint32 dequantized): a fused pass for counts and moments, then the
// passes for quantiles and the histogram (see wide.cpp).

#include "stats/stats.h"
#include "stats/walk_p.h"

#include <atomic>

namespace paramscope::stats_internal {

/// Every statistic of a wide-dtype view (L its collapsed layout), into `s`. Fails when
/// cancelled, or for a dtype no decoder reads.
Result<TensorStats> wideStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s);

/// For tests: which way the fine cells of the approximate quantiles were counted. Every
/// computation above the exact limit that reaches the fine cells adds one to `fromPass1`
/// (pass 1's windows held every order statistic, see SpecFine) or to `pass3`. With
/// `noPass1Fine` set, pass 1 counts no fine cells (pass 3 always runs), so tests can
/// compare both ways. Not synchronised: tests set it between computations.
struct FineCellsProbe {
    std::atomic<std::int64_t> fromPass1{0}, pass3{0};
    std::atomic<bool> noPass1Fine{false};
};
FineCellsProbe& fineCellsProbe();

}  // namespace paramscope::stats_internal
