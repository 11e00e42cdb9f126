// The baseline kernel set: the chunk loops of the wide passes compiled for the build's
// own target (SSE2 on x86-64, NEON on arm64), run by every CPU without AVX2 and whenever
// PARAMSCOPE_STATS_NO_AVX2=1. The block sums keep EIGHT independent lanes per sum (lane j
// takes x[i + j], i a multiple of 8) in four two-wide vectors: an add waits ~3 cycles for
// its previous result, so fewer lanes leave the loop waiting on that chain rather than on
// memory. Cells are found one value at a time (cellsScalar).
#define PARAMSCOPE_STATS_ISA sse2
#define PARAMSCOPE_STATS_ENTRY
#include "stats/chunks_impl_p.h"

namespace paramscope::stats_internal::sse2 {

namespace {

inline V2 loadV2(const double* p)
{
    V2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline V2 absV2(V2 v)
{
    return V2(V2i(v) & V2i{INT64_MAX, INT64_MAX});
}

inline double hsum8(V2 a, V2 b, V2 c, V2 d)
{
    return ((a[0] + a[1]) + (b[0] + b[1])) + ((c[0] + c[1]) + (d[0] + d[1]));
}

/// Sums of x[0..n) assuming every value is finite. A NaN or ±Inf makes the sum NaN or
/// ±Inf, so the caller checks it and redoes the block the slow way (a sum of finite
/// values that overflows takes that way too, and comes out the same). The lanes are named
/// variables, not arrays, so that they stay in registers.
Acc finiteBlock(const double* x, int n)
{
    const double inf = std::numeric_limits<double>::infinity();
    V2 s0{0, 0}, s1{0, 0}, s2{0, 0}, s3{0, 0}, a0{0, 0}, a1{0, 0}, a2{0, 0}, a3{0, 0};
    V2 q0{0, 0}, q1{0, 0}, q2{0, 0}, q3{0, 0};
    V2 mn0{inf, inf}, mn1{inf, inf}, mx0{-inf, -inf}, mx1{-inf, -inf};
    V2i z0{0, 0}, z1{0, 0};
    const V2 zero{0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const V2 u0 = loadV2(x + i), u1 = loadV2(x + i + 2), u2 = loadV2(x + i + 4), u3 = loadV2(x + i + 6);
        s0 += u0, s1 += u1, s2 += u2, s3 += u3;
        a0 += absV2(u0), a1 += absV2(u1), a2 += absV2(u2), a3 += absV2(u3);
        q0 += u0 * u0, q1 += u1 * u1, q2 += u2 * u2, q3 += u3 * u3;
        // min, max and the zero count do not depend on the order: fewer lanes do.
        const V2 l0 = u0 < u2 ? u0 : u2, l1 = u1 < u3 ? u1 : u3;
        const V2 h0 = u0 > u2 ? u0 : u2, h1 = u1 > u3 ? u1 : u3;
        mn0 = l0 < mn0 ? l0 : mn0, mn1 = l1 < mn1 ? l1 : mn1;
        mx0 = h0 > mx0 ? h0 : mx0, mx1 = h1 > mx1 ? h1 : mx1;
        z0 -= V2i(u0 == zero) + V2i(u2 == zero);  // comparisons give -1 for true
        z1 -= V2i(u1 == zero) + V2i(u3 == zero);
    }
    Acc r;
    r.n = n;
    r.sum = hsum8(s0, s1, s2, s3);
    r.sumAbs = hsum8(a0, a1, a2, a3);
    r.sumSq = hsum8(q0, q1, q2, q3);
    r.min = std::min(std::min(mn0[0], mn0[1]), std::min(mn1[0], mn1[1]));
    r.max = std::max(std::max(mx0[0], mx0[1]), std::max(mx1[0], mx1[1]));
    r.zeros = z0[0] + z0[1] + z1[0] + z1[1];
    accumulateTail(x, i, n, r);
    return r;
}

/// Sum of squared deviations of x[0..n) from `mean`.
double squaredDeviations(const double* x, int n, double mean)
{
    const V2 m{mean, mean};
    V2 d0{0, 0}, d1{0, 0}, d2{0, 0}, d3{0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const V2 u0 = loadV2(x + i) - m, u1 = loadV2(x + i + 2) - m, u2 = loadV2(x + i + 4) - m,
                 u3 = loadV2(x + i + 6) - m;
        d0 += u0 * u0, d1 += u1 * u1, d2 += u2 * u2, d3 += u3 * u3;
    }
    double r = hsum8(d0, d1, d2, d3);
    for (; i < n; ++i)
        r += (x[i] - mean) * (x[i] - mean);
    return r;
}

struct Kernels {
    static constexpr bool kFloatLoopNeedsFloatCells = false;
    static constexpr bool kIntervalVectors = false;
    static Acc finite(const double* x, int n) { return finiteBlock(x, n); }
    static double deviations(const double* x, int n, double mean) { return squaredDeviations(x, n, mean); }
    template <CellsOut Out, int NI>
    static int cellsOfBlock(const double* x, int n, const Cells& c, const Targets* tg, std::int32_t* out)
    {
        return cellsScalar<Out, double>(reinterpret_cast<const std::uint8_t*>(x), n, c, tg, out);
    }
    template <CellsOut Out, int NI>
    static int cellsOfFloats(const std::uint8_t* p, int n, const Cells& c, const Targets* tg, std::int32_t* out)
    {
        return cellsScalar<Out, float>(p, n, c, tg, out);
    }
    static int fusedCells(const std::uint8_t* p, int n, const SpecFine& sf, std::int32_t* coarse, std::int32_t* fine)
    {
        return fusedCellsScalar(p, n, sf, coarse, fine);
    }
};

}  // namespace

}  // namespace paramscope::stats_internal::sse2

namespace paramscope::stats_internal {

template <typename Dec>
ChunkKernels<Dec> sse2Kernels()
{
    return sse2::makeKernels<Dec, sse2::Kernels>();
}

#define PARAMSCOPE_STATS_INSTANTIATE(Dec) template ChunkKernels<Dec> sse2Kernels<Dec>();
PARAMSCOPE_STATS_DECODERS(PARAMSCOPE_STATS_INSTANTIATE)
#undef PARAMSCOPE_STATS_INSTANTIATE

}  // namespace paramscope::stats_internal
