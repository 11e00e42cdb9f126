#pragma once
// Statistics and histogram of one tensor: pure functions over a TensorView, no LibTorch.

#include "base/cancel.h"
#include "base/floatcodec.h"
#include "model/modelindex.h"
#include "base/result.h"

#include <QString>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace paramscope {

/// An exact integer value of an int64 or uint64 tensor (sign and magnitude hold both
/// ranges). Those dtypes hold integers a double cannot (beyond 2^53), so their min, max,
/// integer quantiles and histogram edges are kept this way too.
struct StatsInteger {
    bool negative = false;  // never true with magnitude 0
    std::uint64_t magnitude = 0;
    static StatsInteger fromSigned(std::int64_t v);
    static StatsInteger fromUnsigned(std::uint64_t v);
    QString toString() const;  // exact decimal text
    double toDouble() const;   // the nearest double
    friend bool operator==(const StatsInteger& a, const StatsInteger& b)
    {
        return a.negative == b.negative && a.magnitude == b.magnitude;
    }
    friend bool operator!=(const StatsInteger& a, const StatsInteger& b) { return !(a == b); }
};

/// What the numbers describe.
enum class StatsValues : std::uint8_t {
    Real,         // the stored values (floats, integers, bool as 0/1)
    Magnitude,    // complex tensors: |z|, computed in double
    Dequantized,  // quantized tensors: (q - zero_point) * scale, in double
};
/// What the statistics are of: "stored" (the values as stored), "magnitude" (|z| of a
/// complex tensor), "dequantized" (a quantized tensor's real values)
QString statsValuesName(StatsValues v);

struct StatsOptions {
    /// Histogram bins: 0 chooses them (Freedman–Diaconis, clamped to [1, kMaxAutoBins]).
    /// Integer-valued dtypes get at most this many bins, each a whole number of integers wide.
    int bins = 0;
    bool histogram = true;  // false: skip the histogram
    /// false (with histogram false too): only the fused pass; quantiles are left at 0 and
    /// `quantiles.computed` is false. Used to time the pass alone.
    bool quantiles = true;
    /// Up to this many finite values, quantiles are exact (the finite values are copied
    /// and partially sorted). Above it they come from counts in cells of a power-of-two
    /// width at most 1/2^16 of the range, marked approximate with their error bound (half
    /// a cell, at most (max - min) / 2^17). Dtypes of 16 bits or less are always exact.
    std::int64_t exactQuantileLimit = std::int64_t(1) << 24;
    int threads = 0;  // 0: one per core
    CancelToken cancel;
    /// Called from worker threads with a fraction in [0, 1]; must be thread-safe and cheap.
    std::function<void(double)> progress;
};

constexpr int kMaxAutoBins = 512;
constexpr int kMaxBins = 100000;  // user-given bin counts are clamped to this

/// Automatic bins: Freedman–Diaconis over [min, max] (edges np.linspace(min, max, bins + 1))
/// up to exactQuantileLimit finite values; above it, bins a power of two wide (the one
/// nearest the Freedman–Diaconis width) at multiples of their width, the first holding min
/// and the last max, so that they are counted in the same pass as everything else.
struct StatsHistogram {
    std::vector<double> edges;         // bins + 1, ascending; the last bin includes its right edge
    std::vector<std::int64_t> counts;  // per bin, over finite values; they sum to `finite`
    bool integerAligned = false;       // edges sit halfway between representable integers (codes)
    bool automatic = true;             // bin count chosen by Freedman–Diaconis (or the fallback)
    /// int64/uint64 integer-aligned bins whose half-integer edges a double may not hold (an
    /// edge reaching 2^51 in magnitude); empty otherwise. Then the bins are given by integers:
    /// bin i holds the values v with integerEdges[i] <= v < integerEdges[i+1], the last one
    /// also integerEdges.back(), which is the maximum (the first edge is the minimum): the
    /// edges never leave the dtype's range, and np.histogram with these edges (as int64 /
    /// uint64) gives the same counts. `edges` then holds them as doubles rounded toward
    /// zero (for drawing; they can be equal where bins are narrower than a double's ulp).
    std::vector<StatsInteger> integerEdges;
    int bins() const { return int(counts.size()); }
};

/// Quantiles use NumPy's default definition (np.quantile method='linear', Hyndman-Fan
/// type 7): position q*(n-1) in the sorted finite values, linear interpolation between
/// neighbours.
struct StatsQuantiles {
    static constexpr std::array<double, 5> kLevels{0.01, 0.25, 0.5, 0.75, 0.99};
    std::array<double, 5> values{};  // p1, p25, median, p75, p99
    bool computed = true;
    bool approximate = false;
    double errorBound = 0.0;  // when approximate: max |estimate - exact| over the five
    /// int64/uint64, exact quantiles only: the quantile exactly, when it is an integer (an
    /// order statistic, or an interpolation between two that lands on an integer); `values`
    /// is then its nearest double. Otherwise (or approximate) only `values`.
    std::array<std::optional<StatsInteger>, 5> exact{};
    double p1() const { return values[0]; }
    double p25() const { return values[1]; }
    double median() const { return values[2]; }
    double p75() const { return values[3]; }
    double p99() const { return values[4]; }
};

/// Everything computeStats() finds. min/max/mean/std/L1/L2/max|x| and quantiles are over
/// the FINITE values only (NaN and ±Inf are counted separately); they are 0 when
/// `finite == 0` (check `hasFinite()`), never NaN. std is the population standard
/// deviation (ddof = 0, like torch.std(unbiased=False) / np.std).
struct TensorStats {
    DType dtype = DType::Unknown;
    StatsValues values = StatsValues::Real;
    std::vector<std::int64_t> shape;
    std::int64_t elements = 0;
    bool empty = false;   // no elements at all
    bool scalar = false;  // 0-d tensor (one element)
    bool cancelled = false;
    /// A broadcast view (stride-0 dimensions): each stored element stands for this many
    /// logical ones. Counts, L1 and L2 are of the logical tensor; the automatic histogram's
    /// bin count is chosen from the stored elements.
    std::int64_t broadcast = 1;

    std::int64_t finite = 0;
    std::int64_t nan = 0, posInf = 0, negInf = 0;
    std::int64_t zeros = 0;     // elements equal to 0 (−0.0 included)
    double zerosPercent = 0.0;  // of all elements; 0 for an empty tensor

    double min = 0.0, max = 0.0, mean = 0.0, std = 0.0;
    double l1 = 0.0, l2 = 0.0, maxAbs = 0.0;
    /// int64/uint64 with a finite value: min and max exactly (integer compares in the fused
    /// pass; `min`/`max` are their nearest doubles). mean, std, L1, L2 and max|x| stay
    /// doubles (sums of 64-bit integers are rounded like any other sum).
    std::optional<StatsInteger> minExact, maxExact;
    StatsQuantiles quantiles;
    StatsHistogram histogram;  // empty when no finite value or options.histogram == false

    bool hasFinite() const { return finite > 0; }
    bool constant() const
    {
        if (minExact && maxExact)
            return finite > 0 && *minExact == *maxExact;
        return finite > 0 && min == max;
    }
    /// min / max / quantile i as exact text: the exact integer when there is one, else the
    /// shortest text reading back as the double.
    QString minText() const;
    QString maxText() const;
    QString quantileText(size_t i) const;
};

/// Computes every statistic of `v` in one fused multi-threaded pass (plus, for dtypes wider
/// than 16 bits, passes for the quantiles and the histogram; see wide.cpp). Non-contiguous
/// views give the same counts, extremes, quantiles and histogram as their contiguous copy;
/// views whose dimensions are not in storage order (transposes, permutes) are walked in
/// storage order, so mean, std and the norms may differ from the copy's in rounding. Fails only when cancelled, for a
/// dtype without statistics, a view that does not fit its storage or holds more than 2^62
/// elements, or a file whose pages were lost while being read.
Result<TensorStats> computeStats(const TensorView& v, const StatsOptions& o = {});

/// Convenience: the statistics of entry `entry` of `index` (errors name file and tensor).
Result<TensorStats> computeStats(const ModelIndex& index, int entry, const StatsOptions& o = {});

/// Histogram bins a finite sample would get: Freedman–Diaconis (2·IQR/n^(1/3)), Sturges
/// when the IQR is 0, clamped to [1, kMaxAutoBins]. Exposed for tests.
int freedmanDiaconisBins(double min, double max, double iqr, std::int64_t n);

}  // namespace paramscope
