// Internal to core/stats, included ONLY by the per-instruction-set kernel files
// (kernels_sse2.cpp, kernels_avx2.cpp), each after defining PARAMSCOPE_STATS_ISA (the
// name of a namespace of its own) and PARAMSCOPE_STATS_ENTRY (attributes of the entry
// points). It holds the chunk loops of the wide passes as templates over a kernel set K:
//   K::finite(x, n)             sums, min, max, zeros of a block of finite doubles
//   K::deviations(x, n, mean)   the block's squared deviations about `mean`
//   K::cellsOfBlock<Out, NI>    cells of a double block; K::cellsOfFloats<Out, NI> of floats
//   K::fusedCells(p, n, sf, coarse, fine)  pass 1's coarse and windowed fine cells of floats
//   K::kFloatLoopNeedsFloatCells, K::kIntervalVectors (see cellsChunkBody, makeKernels)
// Everything here lives in the ISA's own namespace, so the two compilations of these
// templates never share a symbol; the AVX2 entry points are also `flatten`, which pulls
// the shared inline helpers (decoders, walking, counters) into them.
#ifndef PARAMSCOPE_STATS_ISA
#error "define PARAMSCOPE_STATS_ISA before including chunks_impl_p.h"
#endif

#include "stats/kernels_p.h"

#include <cmath>
#include <type_traits>

namespace paramscope::stats_internal::PARAMSCOPE_STATS_ISA {

// The scalar tail (the last n % 8 values) of K::finite, the same in every kernel set.
inline void accumulateTail(const double* x, int i, int n, Acc& r)
{
    for (; i < n; ++i) {
        const double v = x[i];
        r.sum += v;
        r.sumAbs += std::fabs(v);
        r.sumSq += v * v;
        r.min = v < r.min ? v : r.min;
        r.max = v > r.max ? v : r.max;
        r.zeros += v == 0.0;
    }
}

/// A strided tile's cell counting is split in this many parts, each after a prefetch of a
/// part of the next tile (at most kGatherAheadMax bytes in all).
constexpr int kGatherParts = 8;
constexpr std::int64_t kGatherAheadMax = std::int64_t(64) << 10;

/// Cells of n values at p (type T, contiguous): all of them to out (All), or only those in
/// a target interval, packed (Targets); returns how many were written. The reference
/// version, used for tails and without AVX2.
template <CellsOut Out, typename T>
int cellsScalar(const std::uint8_t* p, int n, const Cells& c, const Targets* tg, std::int32_t* out)
{
    int m = 0;
    for (int i = 0; i < n; ++i) {
        const double v = double(load<T>(p + std::int64_t(i) * std::int64_t(sizeof(T))));
        const double t = c.cellFloor(v) - c.origin;
        const std::int32_t r = t >= 0 && t < double(c.limit) ? std::int32_t(t) : c.limit;
        if constexpr (Out == CellsOut::All)
            out[m++] = r;
        else if (tg->contains(r))
            out[m++] = r;
    }
    return m;
}

/// The fine cells (of sf.cells) of n floats at p: each value's coarse cell, its fine cell
/// shifted right, to coarse[0..n); the fine cells inside sf's windows packed into fine;
/// returns how many of those. The reference version, used for tails and without AVX2.
inline int fusedCellsScalar(const std::uint8_t* p, int n, const SpecFine& sf, std::int32_t* coarse, std::int32_t* fine)
{
    int m = 0;
    for (int i = 0; i < n; ++i) {
        std::int32_t r = 0;
        cellsScalar<CellsOut::All, float>(p + std::int64_t(i) * 4, 1, sf.cells, nullptr, &r);
        coarse[i] = r >> kSpecFineShift;
        if (sf.windows.contains(r))
            fine[m++] = r;
    }
    return m;
}

/// Adds the block x[0..n) to `chunk` (reordering x when it holds NaN or ±Inf).
template <typename K>
void addBlock(double* x, int n, Acc& chunk)
{
    Acc b = K::finite(x, n);
    if (!std::isfinite(b.sum)) {
        // Rare: the block holds NaN or ±Inf. Count them and keep the finite values.
        Acc counts;
        int m = 0;
        for (int i = 0; i < n; ++i) {
            const double v = x[i];
            if (std::isnan(v))
                ++counts.nan;
            else if (std::isinf(v))
                ++(v > 0 ? counts.posInf : counts.negInf);
            else
                x[m++] = v;
        }
        b = K::finite(x, m);
        b.nan = counts.nan, b.posInf = counts.posInf, b.negInf = counts.negInf;
        n = m;
    }
    if (n > 0) {
        // Second sweep over the cached block: its squared deviations about its own mean.
        b.mean = b.sum / double(n);
        b.m2 = K::deviations(x, n, b.mean);
    }
    merge(chunk, b);
}
/// Pass 1 over elements [begin, end) of L: moments and counts into `out`, and, when
/// `coarse` is given, every value's cell counted into `counts` (which the caller made room
/// for). Float32 has its cells found from the floats themselves (8 lanes); a strided view
/// gathers each block of floats into a tile first. The blocks are those of the general
/// loop (kBlock elements from `begin`), so the sums are the same.
template <typename Dec, typename K>
void pass1ChunkBody(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, Acc& out,
                    const Cells* coarse, Counters* counts, const SpecFine* fine, std::int64_t* fineTable)
{
    alignas(32) double buf[kBlock];
    alignas(32) std::int32_t cells[kBlock + 8];
    if constexpr (std::is_same_v<Dec, Plain<float>>) {
        if (coarse && coarse->floats) {
            alignas(32) std::int32_t fineCells[kBlock + 8];
            const bool contiguous = isContiguousRun(L);
            alignas(32) float tile[kBlock];
            Layout T;  // the tile, as a contiguous run
            T.base = reinterpret_cast<const std::uint8_t*>(tile);
            T.item = 4;
            T.shape = {kBlock};
            T.strides = {1};
            for (std::int64_t at = begin; at < end; at += kBlock) {
                const int n = int(std::min<std::int64_t>(kBlock, end - at));
                const std::uint8_t* p = L.base + at * 4;
                GatherSpan span;
                if (!contiguous) {
                    span = gather(L, at, at + n, reinterpret_cast<std::uint8_t*>(tile));
                    p = T.base;
                }
                // A strided tile's cells are counted in parts, each after asking for a part
                // of the bytes the next tile most likely spans (x[:, ::2]: the gather waited
                // on memory for a third of pass 1, perf).
                const int parts = contiguous || at + n >= end ? 1 : kGatherParts;
                const std::int64_t ahead = std::min<std::int64_t>(span.end - span.begin, kGatherAheadMax);
                for (int part = 0; part < parts; ++part) {
                    const int from = n * part / parts, count = n * (part + 1) / parts - from;
                    if (parts > 1)
                        prefetchPart(span.end, ahead, part, parts);
                    const std::uint8_t* q = p + std::int64_t(from) * 4;
                    if (fine) {
                        const int m = K::fusedCells(q, count, *fine, cells, fineCells);
                        counts->add(cells, count);
                        for (int i = 0; i < m; ++i)
                            ++fineTable[fineCells[i]];
                    } else {
                        counts->add(cells,
                                    K::template cellsOfFloats<CellsOut::All, 0>(q, count, *coarse, nullptr, cells));
                    }
                }
                T.shape[0] = T.numel = n;
                const auto block = [&](double* x, int m) { addBlock<K>(x, m, out); };
                if (contiguous)
                    forBlocks(L, dec, at, at + n, buf, block);
                else
                    forBlocks(T, dec, 0, n, buf, block);
            }
            return;
        }
    }
    auto blocks = [&](const auto& d) {
        forBlocks(L, d, begin, end, buf, [&](double* x, int n) {
            if (coarse)  // before addBlock, which may reorder a block holding NaN or ±Inf
                counts->add(cells, K::template cellsOfBlock<CellsOut::All, 0>(x, n, *coarse, nullptr, cells));
            addBlock<K>(x, n, out);
        });
    };
    if constexpr (kWideInt<Dec>) {
        // The exact min and max, by integer compares while the same values are decoded.
        using T = std::conditional_t<std::is_same_v<Dec, Plain<std::int64_t>>, std::int64_t, std::uint64_t>;
        const PlainTracked<T> tracked{};
        blocks(tracked);
        if (end > begin) {
            out.keyLo = std::min(out.keyLo, tracked.lo);
            out.keyHi = std::max(out.keyHi, tracked.hi);
        }
    } else {
        blocks(dec);
    }
}

/// Cells of elements [begin, end) of L, kBlock values at a time, passed to
/// sink(cells, count) as Out says. NI: interval tests per vector (>= the targets' count).
template <CellsOut Out, int NI, typename K, typename Dec, typename Sink>
void cellsChunkBody(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, const Cells& c,
                    const Targets* tg, Sink&& sink)
{
    alignas(32) std::int32_t cells[kBlock + 8];  // + room for the last full-width store
    if constexpr (std::is_same_v<Dec, Plain<float>>) {
        // (With AVX2 but cells float arithmetic cannot find, the double loop below is faster.)
        // A strided view's floats are gathered into a tile first.
        if (!K::kFloatLoopNeedsFloatCells || c.floats) {
            const bool contiguous = isContiguousRun(L);
            alignas(32) float tile[kBlock];
            for (std::int64_t at = begin; at < end; at += kBlock) {
                const int n = int(std::min<std::int64_t>(kBlock, end - at));
                const std::uint8_t* p = L.base + at * 4;
                if (!contiguous) {
                    gather(L, at, at + n, reinterpret_cast<std::uint8_t*>(tile));
                    p = reinterpret_cast<const std::uint8_t*>(tile);
                }
                sink(static_cast<const std::int32_t*>(cells), K::template cellsOfFloats<Out, NI>(p, n, c, tg, cells));
            }
            return;
        }
    }
    alignas(32) double buf[kBlock];
    forBlocks(L, dec, begin, end, buf, [&](const double* x, int n) {
        sink(static_cast<const std::int32_t*>(cells), K::template cellsOfBlock<Out, NI>(x, n, c, tg, cells));
    });
}

template <typename Dec, typename K>
PARAMSCOPE_STATS_ENTRY void pass1Entry(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, Acc& out,
                                       const Cells* coarse, Counters* counts, const SpecFine* fine,
                                       std::int64_t* fineTable)
{
    pass1ChunkBody<Dec, K>(L, dec, begin, end, out, coarse, counts, fine, fineTable);
}

template <typename Dec, typename K>
PARAMSCOPE_STATS_ENTRY void countCellsEntry(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end,
                                            const Cells& c, Counters& counts)
{
    cellsChunkBody<CellsOut::All, 0, K>(L, dec, begin, end, c, nullptr,
                                        [&](const std::int32_t* r, int n) { counts.add(r, n); });
}

template <int NI, typename Dec, typename K>
PARAMSCOPE_STATS_ENTRY void countTargetsEntry(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end,
                                              const Cells& c, const Targets& tg, std::int64_t* table)
{
    cellsChunkBody<CellsOut::Targets, NI, K>(L, dec, begin, end, c, &tg, [&](const std::int32_t* r, int n) {
        for (int i = 0; i < n; ++i)
            ++table[r[i]];
    });
}

/// Target tests per vector: five quantiles usually make five intervals; ten is the most
/// there can be. Kernel sets without interval vectors test in scalar code (NI unused).
template <typename Dec, typename K, int NI>
void countTargetsBy(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, const Cells& c,
                    const Targets& tg, std::int64_t* table)
{
    if (tg.count <= 5)
        return countTargetsEntry<5, Dec, K>(L, dec, begin, end, c, tg, table);
    countTargetsEntry<NI, Dec, K>(L, dec, begin, end, c, tg, table);
}

template <typename Dec, typename K>
ChunkKernels<Dec> makeKernels()
{
    ChunkKernels<Dec> k{};
    k.pass1 = &pass1Entry<Dec, K>;
    k.countCells = &countCellsEntry<Dec, K>;
    if constexpr (K::kIntervalVectors)
        k.countTargets = &countTargetsBy<Dec, K, Targets::kMax>;
    else
        k.countTargets = &countTargetsEntry<0, Dec, K>;
    return k;
}

}  // namespace paramscope::stats_internal::PARAMSCOPE_STATS_ISA
