#pragma once
// Internal to core/stats. Histogram bins: the edges shown to the user (planHistogram:
// Freedman–Diaconis, integer-aligned bins for integer-valued dtypes, one bin around a
// constant), the value-to-bin mapping that agrees with np.histogram (Binner), and the
// per-thread counters the counting passes fill (Counters).

#include "stats/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace paramscope::stats_internal {

constexpr int kFineBins = 1 << 16;  // bins of the edge-comparing fallback for quantiles

/// Maps a finite value to its bin so that edges[i] <= x < edges[i+1] (the last bin closed),
/// exactly as np.histogram does with the same edges: a multiply gives the guess, edge
/// comparisons settle the values that rounding put on the wrong side.
struct Binner {
    std::vector<double> edges;
    double first = 0, inv = 0;
    double near = 1e-6;  // a guess this close to a whole number is settled by the edges
    int bins = 0;
    bool halve = false;  // the range overflows a double (±1e308 data): work on halves

    explicit Binner(std::vector<double> e) : edges(std::move(e))
    {
        bins = int(edges.size()) - 1;
        first = edges.front();
        const double range = edges.back() - edges.front();
        halve = !std::isfinite(range);
        const double r = halve ? edges.back() * 0.5 - edges.front() * 0.5 : range;
        inv = r > 0 ? double(bins) / r : 0.0;
        // Each edge was rounded to its ulp: when bins are only a few ulps wide (a narrow
        // range far from zero), that moves edges by a sizeable part of a bin.
        const double top = std::max(std::fabs(edges.front()), std::fabs(edges.back()));
        if (std::isfinite(top))
            near = std::max(near, 4 * (std::nextafter(top, HUGE_VAL) - top) * (halve ? inv * 0.5 : inv));
    }
    /// Fractional bin position of x (exact up to rounding).
    double guess(double x) const { return halve ? (x * 0.5 - first * 0.5) * inv : (x - first) * inv; }
    int index(double x) const
    {
        const double t = guess(x);
        int i = t <= 0 ? 0 : t >= double(bins) ? bins - 1 : int(t);
        // The guess is off only when x is within rounding error of an edge: skip the two
        // (cache-missing) edge loads when t is well inside its bin.
        const double frac = t - double(i);
        if (frac > near && frac < 1 - near)
            return i;
        while (i > 0 && x < edges[size_t(i)])
            --i;
        while (i < bins - 1 && x >= edges[size_t(i) + 1])
            ++i;
        return i;
    }
};

/// Uniform edges like np.linspace(lo, hi, bins + 1): lo + i * ((hi - lo) / bins), last = hi.
std::vector<double> linspaceEdges(double lo, double hi, int bins);

/// Bool, integer and (per-tensor) quantized dtypes: values on a lattice of integer codes.
bool integerValued(DType t);

/// Edges of the histogram shown to the user (counts left empty). roundToPowerOfTwo: the
/// automatic bin count rounded to a power of two (the 2^16-bin fallback's bins add up).
StatsHistogram planHistogram(const TensorView& v, const TensorStats& s, int userBins, bool roundToPowerOfTwo);

/// One thread's histogram counters. The hot table holds 32-bit counters (half the cache
/// footprint of 64-bit ones, which decides the speed of a scattered increment), flushed
/// into the 64-bit totals before any counter could overflow (make_room before adding).
struct Counters {
    std::vector<std::uint32_t> hot;
    std::vector<std::int64_t> total;
    std::int64_t pending = 0;  // values added to `hot` since the last flush

    explicit Counters(size_t n = 0) : hot(n, 0), total(n, 0) {}
    /// Call before adding up to n values.
    void make_room(std::int64_t n)
    {
        if (pending + n > std::int64_t(std::numeric_limits<std::uint32_t>::max()))
            flush();
        pending += n;
    }
    void flush()
    {
        for (size_t i = 0; i < hot.size(); ++i)
            total[i] += hot[i];
        std::fill(hot.begin(), hot.end(), 0u);
        pending = 0;
    }
    /// Counts cells r[0..n).
    void add(const std::int32_t* r, int n)
    {
        std::uint32_t* cnt = hot.data();
#pragma GCC unroll 8
        for (int i = 0; i < n; ++i)
            ++cnt[r[i]];
    }
};

}  // namespace paramscope::stats_internal
