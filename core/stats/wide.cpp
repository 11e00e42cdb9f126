// The wide-dtype driver. Pass 1 is one fused pass for counts, min/max, sums and the second
// moment. Up to exactQuantileLimit finite values, pass 2 then copies them for exact
// quantiles and bins that copy in memory (the histogram's edges depend on min and max,
// known only after pass 1). Larger tensors count their values in power-of-two cells
// (cells_p.h), whose edges do not depend on the data: pass 1 itself counts the coarse
// cells over a range a sample predicts (pass 2 does it when a value falls outside), the
// automatic histogram is a sum of coarse cells, and pass 3 counts fine cells inside the
// few coarse cells the quantiles fall in. For float32, pass 1 counts those fine cells
// too, inside windows around where the sample puts the quantiles (SpecFine); pass 3 runs
// only when the quantiles fall outside them, so most tensors take one pass over memory.
// A given bin count and integer-aligned bins take a pass of their own above the limit.
// Each pass is one member function of WideStats.
//
// Work is cut into fixed chunks of the index space of the layout in storage order
// (collapseInStorageOrder: a transposed view walks its storage forward) that threads take
// from a shared counter; per-chunk results are merged in chunk order, so the numbers do
// not depend on scheduling. Only the sample that predicts the range is taken in logical
// order, so that it sees what it sees in the view's contiguous copy. The chunk loops themselves are in the kernel sets
// (kernels_p.h).
#include "stats/wide_p.h"

#include "stats/cells_p.h"
#include "stats/histogram_p.h"
#include "stats/integers_p.h"
#include "stats/kernels_p.h"
#include "stats/moments_p.h"
#include "stats/quantiles_p.h"
#include "stats/threadpool_p.h"

#include <cmath>
#include <optional>

namespace paramscope::stats_internal {

namespace {

template <typename F>
bool withWideDecoder(const TensorView& v, F&& f)
{
    switch (v.dtype) {
        case DType::Float32:
            f(Plain<float>{});
            return true;
        case DType::Float64:
            f(Plain<double>{});
            return true;
        case DType::Int32:
            f(Plain<std::int32_t>{});
            return true;
        case DType::Int64:
            f(Plain<std::int64_t>{});
            return true;
        case DType::UInt32:
            f(Plain<std::uint32_t>{});
            return true;
        case DType::UInt64:
            f(Plain<std::uint64_t>{});
            return true;
        case DType::Complex64:
            f(Magnitude<float>{});
            return true;
        case DType::Complex128:
            f(Magnitude<double>{});
            return true;
        case DType::QInt32:
            f(DequantI32{v.qScale, v.qZeroPoint});
            return true;
        default:
            return false;
    }
}

template <typename Dec, typename F>
void forFiniteValues(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, F&& f)
{
    alignas(16) double buf[kBlock];
    forBlocks(L, dec, begin, end, buf, [&](const double* x, int n) {
        for (int i = 0; i < n; ++i)
            if (std::isfinite(x[i]))
                f(x[i]);
    });
}

constexpr int kSampleRuns = 8192;
constexpr int kSampleRun = 16;

/// A sample's finite values and their range.
struct Sample {
    std::vector<double> values;
    double lo = 0, hi = 0;
};

template <typename Dec>
/// The finite values of a sample of runs at fixed logical positions (L in logical order,
/// see collapse) and their range, or nothing when too few of them are finite.
std::optional<Sample> sampleRange(const Layout& L, const Dec& dec)
{
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    std::int64_t finite = 0;
    Sample sample;
    alignas(16) double buf[kBlock];
    const std::int64_t runs = std::min<std::int64_t>(kSampleRuns, L.numel / kSampleRun);
    sample.values.reserve(size_t(runs * kSampleRun));
    for (std::int64_t i = 0; i < runs; ++i) {
        const auto at = std::int64_t((double(i) + 0.5) / double(runs) * double(L.numel - kSampleRun));
        forBlocks(L, dec, at, at + kSampleRun, buf, [&](const double* x, int n) {
            for (int j = 0; j < n; ++j)
                if (std::isfinite(x[j])) {
                    lo = std::min(lo, x[j]);
                    hi = std::max(hi, x[j]);
                    sample.values.push_back(x[j]);
                    ++finite;
                }
        });
    }
    if (runs == 0 || finite < runs * kSampleRun / 2)
        return std::nullopt;
    sample.lo = lo;
    sample.hi = hi;
    return sample;
}

/// Per-thread counters summed into one table of n counts.
std::vector<std::int64_t> mergeCounters(std::vector<Counters>& perThread, std::int32_t n)
{
    std::vector<std::int64_t> c(size_t(n), 0);
    for (auto& t : perThread) {
        t.flush();
        for (size_t j = 0; j < c.size(); ++j)
            c[j] += t.total[j];
    }
    return c;
}

/// Per-thread tables summed into the first `bins` entries of `out` (which is resized).
void mergeTables(const std::vector<std::vector<std::int64_t>>& perThread, size_t bins, std::vector<std::int64_t>& out)
{
    out.assign(bins, 0);
    for (const auto& t : perThread)
        for (size_t i = 0; i < bins; ++i)
            out[i] += t[i];
}

/// Counts bin(i) for i in [0, n) of an in-memory copy, split in one part per thread (not
/// cancellable: the copy is in memory and a part is quick).
template <typename BinOf>
std::vector<std::int64_t> countCopy(std::int64_t n, int threads, size_t bins, BinOf&& binOf)
{
    std::vector<std::vector<std::int64_t>> counts(size_t(threads), std::vector<std::int64_t>(bins, 0));
    const std::int64_t per = (n + threads - 1) / threads;
    Progress none;
    const StatsOptions quiet;
    none.o = &quiet;
    parallelFor(threads, threads, quiet, none, [&](int, std::int64_t part) {
        auto& cnt = counts[size_t(part)];
        const std::int64_t b = part * per, e = std::min(n, b + per);
        for (std::int64_t i = b; i < e; ++i)
            ++cnt[binOf(i)];
    });
    std::vector<std::int64_t> out;
    mergeTables(counts, bins, out);
    return out;
}

template <typename Dec>
class WideStats {
public:
    WideStats(const TensorView& view, const Layout& layout, const StatsOptions& options, TensorStats base,
              const Dec& decoder)
        : v(view),
          L(layout),
          o(options),
          dec(decoder),
          s(std::move(base)),
          chunks((layout.numel + kChunk - 1) / kChunk),
          threads(threadCount(options, chunks))
    {
    }
    Result<TensorStats> run();

private:
    static constexpr bool kInt = kWideInt<Dec>;  // int64/uint64: exact min, max, quantiles
    static constexpr bool kSigned = std::is_same_v<Dec, Plain<std::int64_t>>;
    using IntT = std::conditional_t<kSigned, std::int64_t, std::uint64_t>;

    std::pair<std::int64_t, std::int64_t> chunkRange(std::int64_t c) const
    {
        return {c * kChunk, std::min(L.numel, (c + 1) * kChunk)};
    }
    Result<TensorStats> done()
    {
        if (o.progress)
            o.progress(1.0);
        return std::move(s);
    }
    bool pass1();
    bool exactIntegerPass();
    bool exactPass();
    bool coarseCellsPass(const Cells& fine, Progress& prog);
    bool fineCellsPass(const Cells& fine, Progress& prog);
    bool fineBinsPass();
    bool integerHistogramPass();
    bool binsPass();
    /// Progress of a pass after the quantiles' (counted as done).
    void lastPass(Progress& p) const
    {
        p.o = &o;
        p.total = chunks;
        p.base = 1.0;
        p.span = 0.0;
    }

    const TensorView& v;
    const Layout& L;
    const StatsOptions& o;
    const Dec& dec;
    const ChunkKernels<Dec>& kernels = chunkKernels<Dec>();
    TensorStats s;
    const std::int64_t chunks;
    const int threads;
    std::vector<Acc> accs;  // per chunk, from pass 1
    Acc total;
    std::optional<Cells> spec;         // pass 1's coarse cells, from a sample's range
    std::vector<Counters> specCounts;  // per thread, over spec

    std::optional<SpecFine> specFine;                       // pass 1's fine cells (float32), from the same sample
    std::vector<std::vector<std::int64_t>> specFineCounts;  // per thread, over specFine
    bool coarseIsSpec = false;                              // pass 1's coarse cells were kept

    Progress p1, p2;                   // pass 1; everything after it
    std::optional<Cells> coarse;       // the coarse cells counted (spec, or pass 2's)
    std::vector<std::int64_t> counts;  // per coarse cell
    std::vector<std::int64_t> fc;      // the 2^16-bin histogram, when no cells fit
};

/// Pass 1: counts and moments, and, for a tensor that may be above the exact limit,
/// coarse cells over the range a sample predicts.
template <typename Dec>
bool WideStats<Dec>::pass1()
{
    if ((o.quantiles || o.histogram) && L.numel > o.exactQuantileLimit)
        if (const auto sample = sampleRange(collapse(v), dec)) {
            spec = speculativeCells(sample->lo, sample->hi);
            if (spec && std::is_same_v<Dec, Plain<float>> && !fineCellsProbe().noPass1Fine)
                specFine = speculativeFine(*spec, sample->values);
        }
    specCounts.assign(spec ? size_t(threads) : 0, Counters(spec ? size_t(spec->limit) + 1 : 0));
    specFineCounts.assign(specFine ? size_t(threads) : 0,
                          std::vector<std::int64_t>(specFine ? size_t(specFine->cells.limit) + 1 : 0, 0));
    accs.resize(static_cast<size_t>(chunks));
    p1.o = &o;
    p1.total = chunks;
    p1.span = o.histogram ? 0.6 : 0.7;
    const bool ok = parallelFor(chunks, threads, o, p1, [&](int t, std::int64_t c) {
        const auto [b, e] = chunkRange(c);
        if (spec) {
            specCounts[size_t(t)].make_room(e - b);
            kernels.pass1(L, dec, b, e, accs[size_t(c)], &*spec, &specCounts[size_t(t)],
                          specFine ? &*specFine : nullptr, specFine ? specFineCounts[size_t(t)].data() : nullptr);
        } else {
            kernels.pass1(L, dec, b, e, accs[size_t(c)], nullptr, nullptr, nullptr, nullptr);
        }
    });
    if (!ok)
        return false;
    for (const auto& a : accs)
        merge(total, a);
    finishMoments(s, total);
    if (kInt && total.n > 0) {
        s.minExact = keyInteger(total.keyLo, kSigned);
        s.maxExact = keyInteger(total.keyHi, kSigned);
    }
    return true;
}

/// Pass 2 for int64/uint64 up to the limit: copy the values as keys (a range within one
/// double's ulp goes this way too, whatever its size: doubles cannot tell its values
/// apart), exact quantiles by selection, the integer-aligned histogram from the copy.
template <typename Dec>
bool WideStats<Dec>::exactIntegerPass()
{
    // Distinct integers can share a double (beyond 2^53); only keys tell.
    const bool constant = total.keyLo == total.keyHi;
    std::vector<std::uint64_t> keys;
    if (constant) {
        s.quantiles.values.fill(s.min);
        s.quantiles.exact.fill(s.minExact);
    } else {
        keys.resize(size_t(total.n));
        std::vector<std::int64_t> at(size_t(chunks) + 1, 0);
        for (std::int64_t c = 0; c < chunks; ++c)
            at[size_t(c) + 1] = at[size_t(c)] + accs[size_t(c)].n;
        if (!parallelFor(chunks, threads, o, p2, [&](int, std::int64_t c) {
                std::uint64_t* out = keys.data() + at[size_t(c)];
                const auto [b, e] = chunkRange(c);
                forIntKeys<IntT>(L, b, e, [&](std::uint64_t k) { *out++ = k; });
            }))
            return false;
        exactIntegerQuantiles(keys, s.broadcast, kSigned, s.quantiles);
    }
    if (!o.histogram)
        return true;
    std::uint64_t width = 1;
    s.histogram = planIntegerHistogram(s, total.keyLo, total.keyHi, kSigned, o.bins, width);
    const size_t bins = s.histogram.edges.size() - 1;
    if (constant) {
        s.histogram.counts.assign(bins, 0);
        s.histogram.counts[0] = total.n;
        return true;
    }
    const std::uint64_t lo = total.keyLo;
    s.histogram.counts = countCopy(total.n, threads, bins, [&](std::int64_t i) {
        return std::min(size_t((keys[size_t(i)] - lo) / width), bins - 1);
    });
    return true;
}

/// Pass 2 up to the limit: copy the finite values (each chunk to its own slot, so C order
/// is kept), exact quantiles by selection, the histogram binned from the copy.
template <typename Dec>
bool WideStats<Dec>::exactPass()
{
    std::vector<double> vals;
    const bool constant = s.min == s.max;
    if (constant) {
        s.quantiles.values.fill(s.min);
    } else {
        vals.resize(size_t(total.n));
        std::vector<std::int64_t> at(size_t(chunks) + 1, 0);
        for (std::int64_t c = 0; c < chunks; ++c)
            at[size_t(c) + 1] = at[size_t(c)] + accs[size_t(c)].n;
        if (!parallelFor(chunks, threads, o, p2, [&](int, std::int64_t c) {
                double* out = vals.data() + at[size_t(c)];
                const auto [b, e] = chunkRange(c);
                forFiniteValues(L, dec, b, e, [&](double x) { *out++ = x; });
            }))
            return false;
        // Selection reorders the copy; binning does not care about order.
        s.quantiles.values = exactQuantiles(vals, s.broadcast);
    }
    if (!o.histogram)
        return true;
    s.histogram = planHistogram(v, s, o.bins, false);
    const Binner bin(s.histogram.edges);
    if (constant) {
        s.histogram.counts.assign(size_t(bin.bins), 0);
        s.histogram.counts[size_t(bin.index(s.min))] = total.n;
        return true;
    }
    s.histogram.counts = countCopy(total.n, threads, size_t(bin.bins),
                                   [&](std::int64_t i) { return size_t(bin.index(vals[size_t(i)])); });
    return true;
}

/// Coarse cells: pass 1's, when every finite value fell inside them (and they hold whole
/// fine cells); else pass 2 counts cells 64 fine cells wide over [min, max].
template <typename Dec>
bool WideStats<Dec>::coarseCellsPass(const Cells& fine, Progress& prog)
{
    if (spec && spec->e >= fine.e) {
        std::vector<std::int64_t> c = mergeCounters(specCounts, spec->limit + 1);
        if (c.back() == s.nan + s.posInf + s.negInf) {
            c.pop_back();
            coarse = spec;
            counts = std::move(c);
            coarseIsSpec = true;
            return true;
        }
    }
    coarse = cellsSpanning(fine.e + 6, s.min, s.max);
    std::vector<Counters> cc(size_t(threads), Counters(size_t(coarse->limit) + 1));
    if (!parallelFor(chunks, threads, o, prog, [&](int t, std::int64_t c) {
            const auto [b, e] = chunkRange(c);
            Counters& mine = cc[size_t(t)];
            mine.make_room(e - b);
            kernels.countCells(L, dec, b, e, *coarse, mine);
        }))
        return false;
    counts = mergeCounters(cc, coarse->limit);
    return true;
}

/// Pass 3: fine cells, only inside the coarse cells the order statistics fall in; then
/// the approximate quantiles.
template <typename Dec>
bool WideStats<Dec>::fineCellsPass(const Cells& fine, Progress& prog)
{
    const Targets target = quantileTargets(s, *coarse, counts, fine);
    if (coarseIsSpec && specFine) {
        // Pass 1 counted the fine cells inside its windows: enough when they hold the targets.
        std::vector<std::int64_t> sum(size_t(specFine->cells.limit) + 1, 0);
        for (int w = 0; w < specFine->windows.count; ++w) {
            const auto lo = size_t(specFine->windows.lo[size_t(w)]);
            const auto hi = lo + size_t(specFine->windows.len[size_t(w)]);
            for (const auto& t : specFineCounts)
                for (size_t i = lo; i < hi; ++i)
                    sum[i] += t[i];
        }
        std::vector<std::int64_t> fineCounts;
        if (fineCountsFromSpec(*specFine, sum, fine, target, fineCounts)) {
            ++fineCellsProbe().fromPass1;
            gridQuantiles(s, *coarse, counts, fine, fineCounts);
            return true;
        }
    }
    ++fineCellsProbe().pass3;
    std::vector<std::vector<std::int64_t>> ft(size_t(threads), std::vector<std::int64_t>(size_t(fine.limit) + 1, 0));
    if (!parallelFor(chunks, threads, o, prog, [&](int t, std::int64_t c) {
            const auto [b, e] = chunkRange(c);
            kernels.countTargets(L, dec, b, e, fine, target, ft[size_t(t)].data());
        }))
        return false;
    std::vector<std::int64_t> fineCounts;
    mergeTables(ft, size_t(fine.limit) + 1, fineCounts);
    gridQuantiles(s, *coarse, counts, fine, fineCounts);
    return true;
}

/// When no cells fit the range (wider than a double, or very narrow for its magnitude):
/// approximate quantiles from a 2^16-bin histogram over [min, max] whose bins are found
/// by edge comparisons.
template <typename Dec>
bool WideStats<Dec>::fineBinsPass()
{
    const Binner fine(linspaceEdges(s.min, s.max, kFineBins));
    std::vector<Counters> fineCounts(size_t(threads), Counters(kFineBins + 1));
    if (!parallelFor(chunks, threads, o, p2, [&](int t, std::int64_t c) {
            auto& ft = fineCounts[size_t(t)];
            const auto [b, e] = chunkRange(c);
            ft.make_room(e - b);
            std::uint32_t* hot = ft.hot.data();
            forFiniteValues(L, dec, b, e, [&](double x) { ++hot[fine.index(x)]; });
        }))
        return false;
    fc = mergeCounters(fineCounts, kFineBins);
    approximateQuantiles(s, fine, fc);
    return true;
}

/// int64/uint64 above the exact limit: integer-aligned bins counted from the keys.
template <typename Dec>
bool WideStats<Dec>::integerHistogramPass()
{
    std::uint64_t width = 1;
    s.histogram = planIntegerHistogram(s, total.keyLo, total.keyHi, kSigned, o.bins, width);
    const size_t bins = s.histogram.edges.size() - 1;
    const std::uint64_t lo = total.keyLo;
    std::vector<std::vector<std::int64_t>> perThread(size_t(threads), std::vector<std::int64_t>(bins, 0));
    Progress p3;
    lastPass(p3);
    if (!parallelFor(chunks, threads, o, p3, [&](int t, std::int64_t c) {
            auto& cnt = perThread[size_t(t)];
            const auto [b, e] = chunkRange(c);
            forIntKeys<IntT>(L, b, e, [&](std::uint64_t k) { ++cnt[std::min(size_t((k - lo) / width), bins - 1)]; });
        }))
        return false;
    mergeTables(perThread, bins, s.histogram.counts);
    return true;
}

/// Pass 4, for bins that line up with no cells (a given bin count, integer-aligned bins).
template <typename Dec>
bool WideStats<Dec>::binsPass()
{
    s.histogram = planHistogram(v, s, o.bins, false);
    const Binner bin(s.histogram.edges);
    std::vector<std::vector<std::int64_t>> perThread(size_t(threads), std::vector<std::int64_t>(size_t(bin.bins)));
    Progress p3;
    lastPass(p3);
    if (!parallelFor(chunks, threads, o, p3, [&](int t, std::int64_t c) {
            auto& cnt = perThread[size_t(t)];
            const auto [b, e] = chunkRange(c);
            forFiniteValues(L, dec, b, e, [&](double x) { ++cnt[size_t(bin.index(x))]; });
        }))
        return false;
    mergeTables(perThread, size_t(bin.bins), s.histogram.counts);
    return true;
}

template <typename Dec>
Result<TensorStats> WideStats<Dec>::run()
{
    if (!pass1())
        return cancelledResult();
    if (!o.quantiles && !o.histogram) {
        s.quantiles.computed = false;
        return done();
    }
    if (total.n == 0)
        return done();
    p2.o = &o;
    p2.total = chunks;
    p2.base = p1.span;
    p2.span = 1.0 - p1.span;
    if (total.n <= o.exactQuantileLimit || s.min == s.max) {
        if (!(kInt ? exactIntegerPass() : exactPass()))
            return cancelledResult();
        return done();
    }
    // Above the exact limit: approximate quantiles from power-of-two cells, or, when no
    // cells fit the range, from the 2^16-bin histogram.
    std::optional<Cells> fine;
    if (std::isfinite(s.max - s.min))
        fine = cellsSpanning(widthExponent(s.max - s.min, kFineCells), s.min, s.max);
    Progress p2a, p2b;  // pass 2 and pass 3 share p2's span
    p2a.o = p2b.o = &o;
    p2a.total = p2b.total = chunks;
    p2a.base = p2.base;
    p2a.span = p2.span * 0.5;
    p2b.base = p2.base + p2a.span;
    p2b.span = p2.span - p2a.span;
    if (fine ? !coarseCellsPass(*fine, p2a) || !fineCellsPass(*fine, p2b) : !fineBinsPass())
        return cancelledResult();

    const bool lattice = integerValued(v.dtype) && !v.qChannels;
    bool ok = true;
    if (!o.histogram) {
    } else if (kInt) {
        ok = integerHistogramPass();
    } else if (o.bins <= 0 && !lattice && fine) {
        s.histogram = gridHistogram(s, *coarse, counts);
    } else if (o.bins <= 0 && !lattice) {
        // A power-of-two bin count over [min, max]: its edges are exactly every
        // (2^16 / bins)-th edge of the 2^16-bin histogram, so the counts add up.
        s.histogram = planHistogram(v, s, 0, true);
        const int bins = int(s.histogram.edges.size()) - 1;
        const int shift = 16 - int(std::lround(std::log2(double(bins))));
        s.histogram.counts.assign(size_t(bins), 0);
        for (int i = 0; i < kFineBins; ++i)
            s.histogram.counts[size_t(i >> shift)] += fc[size_t(i)];
    } else {
        ok = binsPass();
    }
    if (!ok)
        return cancelledResult();
    return done();
}

}  // namespace

FineCellsProbe& fineCellsProbe()
{
    static FineCellsProbe probe;
    return probe;
}

Result<TensorStats> wideStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s)
{
    Result<TensorStats> r = Result<TensorStats>::failure(
        ErrorKind::Unsupported,
        QStringLiteral("no statistics for dtype '%1'").arg(QLatin1String(dtypeName(v.dtype).data())));
    withWideDecoder(v, [&](const auto& dec) {
        using Dec = std::decay_t<decltype(dec)>;
        r = WideStats<Dec>(v, L, o, std::move(s), dec).run();
    });
    return r;
}

}  // namespace paramscope::stats_internal
