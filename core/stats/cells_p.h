#pragma once
// Internal to core/stats. Power-of-two cells, the approximate path for tensors above the
// exact-quantile limit: the cell grid (Cells), the intervals of fine cells the quantiles
// need (Targets), and how counts per cell become quantiles and the automatic histogram.
// The loops that find the cells of many values are in the per-instruction-set kernels.

#include "stats/stats.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace paramscope::stats_internal {

// Above the exact-quantile limit, values are counted in cells 2^e wide, aligned to
// multiples of their width: cell(x) = floor(x * 2^-e) - origin. Scaling by a power of two
// is exact (a product that underflows to -0 is the one case to mend, see cellFloor) and so
// is floor(), so every value lands in its cell with no edge comparisons: 8 floats per AVX2
// instruction. Cells of power-of-two widths nest, so coarse cells hold whole fine cells and
// whole coarse cells make the bins of the histogram shown (see gridHistogram).
//
// The COARSE cells are counted inside the fused pass 1 itself: before it, a sample of the
// data predicts the range, and pass 1 counts every value in a table of kSpecCells cells
// spanning at least twice the sample's range. When a finite value falls outside after
// all (a range the sample could not foresee), a separate pass 2 counts coarse cells over
// the real [min, max] instead. Then the ranks the quantiles need fall in known coarse
// cells, and pass 3 counts the FINE cells (the smallest width giving at most kFineCells over
// [min, max]; a quantile is off by at most half of one, under (max - min) / 2^17) of just those
// coarse cells (at most ten).
constexpr std::int32_t kFineCells = 1 << 17;
constexpr std::int32_t kSpecCells = 4096;   // the table counted in pass 1 (16 KiB)
constexpr std::int32_t kSampleSpan = 2048;  // cells the sample's range spans at most

/// Cells of width 2^e numbered from `origin` (an absolute cell number): cell(x) =
/// floor(x * 2^-e) - origin, in [0, limit); `limit` stands for NaN, ±Inf and anything
/// outside.
struct Cells {
    int e = 0;
    double scale = 1.0;      // 2^-e
    double origin = 0.0;     // absolute number of cell 0
    std::int32_t limit = 0;  // cells 0 .. limit - 1
    bool floats = false;     // float32 arithmetic finds the same cells (see makeCells)

    /// floor(x * 2^-e), exactly: the product is exact unless it underflows, and an
    /// underflowing product keeps its floor, except a negative one rounded to -0.
    double cellFloor(double x) const
    {
        const double t = std::floor(x * scale);
        return t == 0 && x < 0 ? -1.0 : t;
    }
    /// Left edge of cell r.
    double edge(std::int64_t r) const { return std::ldexp(origin + double(r), e); }
};

/// `limit` cells of width 2^e, the first being the one holding `from`; nothing when the
/// cell numbers of values up to `magnitude` could not be exact doubles.
std::optional<Cells> makeCells(int e, double from, std::int32_t limit, double magnitude);

/// The smallest e for which `range` spans at most `cells` cells of width 2^e.
int widthExponent(double range, std::int32_t cells);

/// Fine-cell intervals [lo, lo + len) that pass 3 counts (at most ten: two order
/// statistics for each of five quantiles).
struct Targets {
    static constexpr int kMax = 10;
    std::array<std::int32_t, kMax> lo{}, len{};
    int count = 0;
    bool contains(std::int32_t r) const
    {
        for (int j = 0; j < count; ++j)
            if (std::uint32_t(r - lo[size_t(j)]) < std::uint32_t(len[size_t(j)]))
                return true;
        return false;
    }
};

enum class CellsOut { All, Targets };

/// Coarse cells for a sample's finite range [lo, hi] (to be counted in pass 1): the sample
/// range spans at most kSampleSpan of the kSpecCells cells, with room on both sides.
std::optional<Cells> speculativeCells(double lo, double hi);

/// Fine cells counted inside pass 1 (float32 with float cells only), so that pass 3 is
/// not needed when they hold every order statistic the quantiles want. They are
/// kSpecFineShift bits finer than the coarse cells `spec` counts (the finest width fine
/// cells over [min, max] can have: the range spans at least the sample's, so its fine
/// cells of at most kFineCells are never narrower), numbered from spec's first cell, so
/// each value's coarse cell is its fine cell shifted right. Only the fine cells inside
/// `windows` (whole coarse cells around where the sample puts the quantiles) are counted;
/// when pass 3's targets fall outside them, pass 3 runs as before.
constexpr int kSpecFineShift = 6;
struct SpecFine {
    Cells cells;      // limit = spec.limit << kSpecFineShift
    Targets windows;  // intervals of `cells`, at most five, each whole coarse cells
};

/// Pass 1's fine cells for `spec` from the finite values of the sample that predicted it;
/// nothing when float32 arithmetic cannot find them (see makeCells) or the sample is empty.
std::optional<SpecFine> speculativeFine(const Cells& spec, const std::vector<double>& sample);

/// Pass 3's counts (of the fine cells in `target`, a table of fine.limit + 1 entries)
/// summed from pass 1's counts `specCounts` of `sf.cells`, when every target cell is made
/// of cells inside sf's windows; false (and `out` untouched) otherwise.
bool fineCountsFromSpec(const SpecFine& sf, const std::vector<std::int64_t>& specCounts, const Cells& fine,
                        const Targets& target, std::vector<std::int64_t>& out);

/// Cells of width 2^e from the one holding min to the one holding max.
std::optional<Cells> cellsSpanning(int e, double min, double max);

/// The fine cells of the coarse cells the quantiles' order statistics fall in.
Targets quantileTargets(const TensorStats& s, const Cells& coarse, const std::vector<std::int64_t>& counts,
                        const Cells& fine);

/// Type-7 quantiles from `counts` of every coarse cell and `fineCounts` of the fine cells
/// of every coarse cell an order statistic falls in, with their error bound.
void gridQuantiles(TensorStats& s, const Cells& coarse, const std::vector<std::int64_t>& counts, const Cells& fine,
                   const std::vector<std::int64_t>& fineCounts);

/// The automatic histogram of a tensor counted in coarse cells (bins a power of two wide).
StatsHistogram gridHistogram(const TensorStats& s, const Cells& coarse, const std::vector<std::int64_t>& counts);

}  // namespace paramscope::stats_internal
