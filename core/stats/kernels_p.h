#pragma once
// Internal to core/stats. The hot chunk loops of the wide-dtype passes, compiled once per
// instruction set (kernels_sse2.cpp for baseline x86-64 and every other CPU,
// kernels_avx2.cpp with -mavx2) and chosen once at run time: chunkKernels<Dec>() gives the
// table of the set this CPU runs. Both sets add the same values in the same order, so they
// give bit-identical results.

#include "stats/cells_p.h"
#include "stats/histogram_p.h"
#include "stats/moments_p.h"
#include "stats/walk_p.h"

#include <cstdint>

namespace paramscope::stats_internal {

/// The chunk loops for one decoder, over elements [begin, end) of L (in its order).
template <typename Dec>
struct ChunkKernels {
    /// Pass 1: moments and counts into `out`; when `coarse` is given, every value's cell
    /// counted into `counts` too (the caller made room for end - begin values); when
    /// `fine` is given too (float32 with coarse->floats, coarse being the cells fine was
    /// made for), the values inside fine's windows counted into fineTable[fine cell].
    void (*pass1)(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, Acc& out, const Cells* coarse,
                  Counters* counts, const SpecFine* fine, std::int64_t* fineTable);
    /// Every value's cell counted into `counts` (the caller made room).
    void (*countCells)(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, const Cells& c,
                       Counters& counts);
    /// The cells of the values inside a target interval counted into table[cell].
    void (*countTargets)(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, const Cells& c,
                         const Targets& tg, std::int64_t* table);
};

/// The decoders the wide passes are instantiated for (X(type) once each).
#define PARAMSCOPE_STATS_DECODERS(X) \
    X(Plain<float>)                  \
    X(Plain<double>)                 \
    X(Plain<std::int32_t>)           \
    X(Plain<std::int64_t>)           \
    X(Plain<std::uint32_t>)          \
    X(Plain<std::uint64_t>)          \
    X(Magnitude<float>)              \
    X(Magnitude<double>)             \
    X(DequantI32)

template <typename Dec>
ChunkKernels<Dec> sse2Kernels();
template <typename Dec>
ChunkKernels<Dec> avx2Kernels();  // only where the CPU has AVX2 (see useAvx2)

#define PARAMSCOPE_STATS_DECLARE(Dec)                     \
    extern template ChunkKernels<Dec> sse2Kernels<Dec>(); \
    extern template ChunkKernels<Dec> avx2Kernels<Dec>();
PARAMSCOPE_STATS_DECODERS(PARAMSCOPE_STATS_DECLARE)
#undef PARAMSCOPE_STATS_DECLARE

/// True when this build has the AVX2 kernels, the CPU runs them, and
/// PARAMSCOPE_STATS_NO_AVX2=1 is not set (the test suite runs tst_stats both ways, with
/// the same expectations). Decided once.
bool useAvx2();

template <typename Dec>
const ChunkKernels<Dec>& chunkKernels()
{
    static const ChunkKernels<Dec> k = useAvx2() ? avx2Kernels<Dec>() : sse2Kernels<Dec>();
    return k;
}

}  // namespace paramscope::stats_internal
