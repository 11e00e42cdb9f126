// Power-of-two cells: building the grids (coarse cells for pass 1 from a sample's range,
// cells spanning [min, max]), choosing the fine cells pass 3 counts, and turning cell
// counts into approximate quantiles and the automatic power-of-two histogram.
#include "stats/cells_p.h"

#include "stats/quantiles_p.h"

#include <algorithm>

namespace paramscope::stats_internal {

std::optional<Cells> makeCells(int e, double from, std::int32_t limit, double magnitude)
{
    // Up to 2^1020 the scale 2^-e is a normal double, and no range a double can hold needs
    // wider cells (fine cells of at most 2^1007, coarse ones 64 times wider), so whenever
    // fine cells exist, the coarse ones over the same range do too.
    if (e < -1000 || e > 1020)
        return std::nullopt;
    Cells c;
    c.e = e;
    c.scale = std::ldexp(1.0, -e);
    if (!(magnitude * c.scale < 0x1p52))
        return std::nullopt;
    c.origin = c.cellFloor(from);
    c.limit = limit;
    // In float32 (8 lanes): the scale is a normal float >= 1, so no product underflows, and
    // with |origin| < 2^30 the int32 arithmetic of the kernel cannot wrap into [0, limit)
    // (products of 2^31 and more convert to 0x80000000 and land outside).
    c.floats = e <= 0 && e >= -120 && std::fabs(c.origin) < 0x1p30;
    return c;
}

/// The smallest e for which `range` spans at most `cells` cells of width 2^e.
int widthExponent(double range, std::int32_t cells)
{
    int p = 0;
    const double m = std::frexp(range / double(cells), &p);  // = m * 2^p, m in [0.5, 1)
    return m == 0.5 ? p - 1 : p;
}

std::optional<Cells> speculativeCells(double lo, double hi)
{
    const double range = hi - lo;
    if (!(range > 0) || !std::isfinite(range))
        return std::nullopt;
    const int e = widthExponent(range, kSampleSpan);
    const double margin = std::ldexp(double(kSpecCells - kSampleSpan) / 2, e);
    return makeCells(e, lo - margin, kSpecCells, std::max(std::fabs(lo), std::fabs(hi)) + 2 * margin);
}

std::optional<SpecFine> speculativeFine(const Cells& spec, const std::vector<double>& sample)
{
    if (!spec.floats || sample.empty())
        return std::nullopt;
    SpecFine sf;
    Cells& f = sf.cells;
    f.e = spec.e - kSpecFineShift;
    f.scale = std::ldexp(1.0, -f.e);
    f.origin = spec.origin * double(1 << kSpecFineShift);
    f.limit = spec.limit << kSpecFineShift;
    // As makeCells: the scale a normal float, fine cell numbers of values inside spec
    // within int32, and those of values outside it never wrapping into [0, limit).
    f.floats = f.e >= -120 && std::fabs(f.origin) < 0x1p30;
    if (!f.floats)
        return std::nullopt;
    // The sample's counts per coarse cell; the windows take the coarse cells between the
    // sample's ranks q -+ 5 standard errors of each level, and one more cell on each side.
    std::vector<std::int64_t> counts(size_t(spec.limit) + 1, 0);
    for (double x : sample) {
        const double t = spec.cellFloor(x) - spec.origin;
        ++counts[t >= 0 && t < double(spec.limit) ? size_t(t) : size_t(spec.limit)];
    }
    std::vector<std::int64_t> cum(counts.size(), 0);  // cum[j]: sample values before cell j
    for (size_t j = 1; j < counts.size(); ++j)
        cum[j] = cum[j - 1] + counts[j - 1];
    const auto m = double(sample.size());
    auto cellOf = [&](double q) {
        const auto k = std::int64_t(std::clamp(q, 0.0, 1.0) * (m - 1));
        return std::int64_t(std::upper_bound(cum.begin(), cum.end(), k) - cum.begin()) - 1;
    };
    std::vector<std::pair<std::int64_t, std::int64_t>> cells;  // coarse cells [lo, hi]
    for (double q : StatsQuantiles::kLevels) {
        const double d = 5.0 * std::sqrt(q * (1 - q) / m) + 1.0 / m;
        const std::int64_t lo = std::max<std::int64_t>(0, cellOf(q - d) - 1);
        const std::int64_t hi = std::min<std::int64_t>(spec.limit - 1, cellOf(q + d) + 1);
        cells.emplace_back(lo, hi);
    }
    std::sort(cells.begin(), cells.end());
    for (const auto& [lo, hi] : cells) {
        auto& t = sf.windows;
        const auto flo = std::int32_t(lo << kSpecFineShift), fhi = std::int32_t((hi + 1) << kSpecFineShift);
        if (t.count > 0 && t.lo[size_t(t.count - 1)] + t.len[size_t(t.count - 1)] >= flo) {
            const std::int32_t end = std::max(t.lo[size_t(t.count - 1)] + t.len[size_t(t.count - 1)], fhi);
            t.len[size_t(t.count - 1)] = end - t.lo[size_t(t.count - 1)];
        } else {
            t.lo[size_t(t.count)] = flo;
            t.len[size_t(t.count)] = fhi - flo;
            ++t.count;
        }
    }
    return sf;
}

bool fineCountsFromSpec(const SpecFine& sf, const std::vector<std::int64_t>& specCounts, const Cells& fine,
                        const Targets& target, std::vector<std::int64_t>& out)
{
    const int k = fine.e - sf.cells.e;  // each fine cell is 2^k of sf's
    if (k < 0 || k > 30)
        return false;
    const auto fineOrigin = std::int64_t(fine.origin), sfOrigin = std::int64_t(sf.cells.origin);
    // The interval of sf's cells making up fine cells [lo, lo + len).
    auto span = [&](std::int32_t lo, std::int32_t len) {
        const std::int64_t per = std::int64_t(1) << k;
        return std::make_pair((fineOrigin + lo) * per - sfOrigin, (fineOrigin + lo + len) * per - sfOrigin);
    };
    for (int j = 0; j < target.count; ++j) {
        const auto [b, e] = span(target.lo[size_t(j)], target.len[size_t(j)]);
        bool inside = false;
        for (int w = 0; w < sf.windows.count && !inside; ++w)
            inside = b >= sf.windows.lo[size_t(w)] &&
                     e <= std::int64_t(sf.windows.lo[size_t(w)]) + sf.windows.len[size_t(w)];
        if (!inside)
            return false;
    }
    out.assign(size_t(fine.limit) + 1, 0);
    for (int j = 0; j < target.count; ++j)
        for (std::int32_t r = target.lo[size_t(j)]; r < target.lo[size_t(j)] + target.len[size_t(j)]; ++r) {
            const auto [b, e] = span(r, 1);
            std::int64_t c = 0;
            for (std::int64_t i = b; i < e; ++i)
                c += specCounts[size_t(i)];
            out[size_t(r)] = c;
        }
    return true;
}

/// Cells of width 2^e from the one holding min to the one holding max (numbered with
/// cellFloor, like every value they will count).
std::optional<Cells> cellsSpanning(int e, double min, double max)
{
    auto c = makeCells(e, min, 0, std::max(std::fabs(min), std::fabs(max)));
    if (c)
        c->limit = std::int32_t(c->cellFloor(max) - c->origin) + 1;
    return c;
}

namespace {

/// Coarse cell j's fine cells as an interval of `fine` cell numbers, clipped to [0, limit).
std::pair<std::int64_t, std::int64_t> fineSpan(const Cells& coarse, const Cells& fine, std::int64_t j)
{
    const double k = std::ldexp(1.0, coarse.e - fine.e);  // fine cells per coarse cell
    const auto lo = std::int64_t((coarse.origin + double(j)) * k - fine.origin);
    return {std::max<std::int64_t>(lo, 0), std::min<std::int64_t>(lo + std::int64_t(k), fine.limit)};
}

/// Cumulative counts: cum[j] = counts of cells before j.
std::vector<std::int64_t> cumulative(const std::vector<std::int64_t>& counts)
{
    std::vector<std::int64_t> cum(counts.size() + 1, 0);
    for (size_t j = 0; j < counts.size(); ++j)
        cum[j + 1] = cum[j] + counts[j];
    return cum;
}

/// Cell holding the k-th smallest value (k from 0).
std::int64_t cellOfRank(const std::vector<std::int64_t>& cum, std::int64_t k)
{
    return std::int64_t(std::upper_bound(cum.begin(), cum.end(), k) - cum.begin()) - 1;
}

/// Ranks (from 0) of the order statistics type-7 quantiles interpolate between.
std::array<std::int64_t, 10> quantileRanks(std::int64_t n, std::int64_t weight)
{
    std::array<std::int64_t, 10> r{};
    for (size_t i = 0; i < StatsQuantiles::kLevels.size(); ++i) {
        const QuantileRank q = quantileRank(n, weight, i);
        r[2 * i] = q.lo;
        r[2 * i + 1] = q.hi;
    }
    return r;
}

}  // namespace

/// The fine cells of the coarse cells the quantiles' order statistics fall in.
Targets quantileTargets(const TensorStats& s, const Cells& coarse, const std::vector<std::int64_t>& counts,
                        const Cells& fine)
{
    const std::vector<std::int64_t> cum = cumulative(counts);
    std::vector<std::int64_t> cells;
    for (std::int64_t k : quantileRanks(s.finite, s.broadcast))
        cells.push_back(cellOfRank(cum, k));
    std::sort(cells.begin(), cells.end());
    cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
    Targets t;
    for (std::int64_t j : cells) {
        const auto [lo, hi] = fineSpan(coarse, fine, j);
        if (t.count > 0 && t.lo[size_t(t.count - 1)] + t.len[size_t(t.count - 1)] == lo) {
            t.len[size_t(t.count - 1)] += std::int32_t(hi - lo);
        } else {
            t.lo[size_t(t.count)] = std::int32_t(lo);
            t.len[size_t(t.count)] = std::int32_t(hi - lo);
            ++t.count;
        }
    }
    return t;
}

/// Type-7 quantiles from the cells: `counts` of every coarse cell, `fineCounts` of the fine
/// cells of every coarse cell an order statistic falls in. As approximateQuantiles(): the
/// exact answer lies in an interval one fine cell wide; report its midpoint.
void gridQuantiles(TensorStats& s, const Cells& coarse, const std::vector<std::int64_t>& counts, const Cells& fine,
                   const std::vector<std::int64_t>& fineCounts)
{
    const std::vector<std::int64_t> cum = cumulative(counts);
    // Fine cell of the k-th smallest finite value.
    auto cellOf = [&](std::int64_t k) {
        const std::int64_t j = cellOfRank(cum, k);
        std::int64_t left = k - cum[size_t(j)];
        auto [r, end] = fineSpan(coarse, fine, j);
        for (; r < end - 1 && left >= fineCounts[size_t(r)]; ++r)
            left -= fineCounts[size_t(r)];
        return r;
    };
    s.quantiles.approximate = true;
    s.quantiles.errorBound = 0;
    const auto ranks = quantileRanks(s.finite, s.broadcast);
    for (size_t i = 0; i < s.quantiles.values.size(); ++i) {
        const double t = quantileRank(s.finite, s.broadcast, i).t;
        const std::int64_t A = cellOf(ranks[2 * i]), B = cellOf(ranks[2 * i + 1]);
        const double low = std::clamp(lerp(fine.edge(A), fine.edge(B), t), s.min, s.max);
        const double high = std::clamp(lerp(fine.edge(A + 1), fine.edge(B + 1), t), s.min, s.max);
        s.quantiles.values[i] = low + (high - low) / 2;
        s.quantiles.errorBound = std::max(s.quantiles.errorBound, (high - low) / 2);
    }
}

namespace {
/// floor(a / 2^shift) for any sign.
std::int64_t floorShift(std::int64_t a, int shift)
{
    return a >= 0 ? a >> shift : -((-a - 1) >> shift) - 1;
}
}  // namespace

/// The automatic histogram of a tensor counted in coarse cells: bins a power of two wide
/// (the one nearest the Freedman–Diaconis width, widened until at most kMaxAutoBins bins
/// span [min, max], never narrower than a coarse cell), edges at multiples of the width.
/// Each bin is a run of whole coarse cells, so the counts are sums of `counts`.
StatsHistogram gridHistogram(const TensorStats& s, const Cells& coarse, const std::vector<std::int64_t>& counts)
{
    StatsHistogram h;
    const int fd = freedmanDiaconisBins(s.min, s.max, s.quantiles.p75() - s.quantiles.p25(), s.finite);
    int shift = std::max(0, int(std::lround(std::log2((s.max - s.min) / fd))) - coarse.e);
    // Absolute numbers of the coarse cells holding min and max.
    const auto c0 = std::int64_t(coarse.cellFloor(s.min)), c1 = std::int64_t(coarse.cellFloor(s.max));
    std::int64_t first = 0, last = 0;
    for (;; ++shift) {
        first = floorShift(c0, shift);
        last = floorShift(c1, shift);
        if (last - first + 1 <= kMaxAutoBins)
            break;
    }
    const int ew = coarse.e + shift;  // bin width 2^ew
    const int bins = int(last - first + 1);
    h.edges.resize(size_t(bins) + 1);
    for (int i = 0; i <= bins; ++i)
        h.edges[size_t(i)] = std::ldexp(double(first + i), ew);
    h.counts.assign(size_t(bins), 0);
    const auto origin = std::int64_t(coarse.origin);
    for (std::int64_t j = c0 - origin; j <= c1 - origin; ++j)
        h.counts[size_t(floorShift(origin + j, shift) - first)] += counts[size_t(j)];
    return h;
}

}  // namespace paramscope::stats_internal
