// The AVX2 kernel set, compiled with -mavx2 (and no -mfma: without FMA no multiply-add is
// contracted, so every sum rounds as in the baseline set and the results are
// bit-identical) and chosen at run time when the CPU has AVX2. The block sums keep the
// same eight lanes as the baseline set in two four-wide vectors (lanes 0-3 in the first,
// 4-7 in the second) and combine them in the same order. Cells are found 8 floats or
// 4 doubles per instruction; target intervals are tested in vectors and the kept cells
// left-packed with a permute table.
//
// Nothing here may run before the CPU check: no dynamic initialisers (the permute table
// is a constant expression), and the entry points are `flatten`, so the inline helpers
// shared with the baseline set are inlined here rather than emitted as AVX2 copies the
// linker could pick for the baseline code.
#define PARAMSCOPE_STATS_ISA avx2
#define PARAMSCOPE_STATS_ENTRY __attribute__((flatten))
#include "stats/chunks_impl_p.h"

#include <immintrin.h>

namespace paramscope::stats_internal::avx2 {

namespace {

typedef double V4 __attribute__((vector_size(32)));
typedef std::int64_t V4i __attribute__((vector_size(32)));

inline V4 loadV4(const double* p)
{
    V4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline double hsum8(V4 a, V4 b)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}

Acc finiteBlock4(const double* x, int n)
{
    const double inf = std::numeric_limits<double>::infinity();
    V4 s0{0, 0, 0, 0}, s1{0, 0, 0, 0}, a0{0, 0, 0, 0}, a1{0, 0, 0, 0}, q0{0, 0, 0, 0}, q1{0, 0, 0, 0};
    V4 mn{inf, inf, inf, inf}, mx{-inf, -inf, -inf, -inf};
    V4i z{0, 0, 0, 0};
    const V4 zero{0, 0, 0, 0};
    const V4i absMask{INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const V4 u0 = loadV4(x + i), u1 = loadV4(x + i + 4);
        s0 += u0, s1 += u1;
        a0 += V4(V4i(u0) & absMask), a1 += V4(V4i(u1) & absMask);
        q0 += u0 * u0, q1 += u1 * u1;
        const V4 l = u0 < u1 ? u0 : u1, h = u0 > u1 ? u0 : u1;
        mn = l < mn ? l : mn;
        mx = h > mx ? h : mx;
        z -= V4i(u0 == zero) + V4i(u1 == zero);
    }
    Acc r;
    r.n = n;
    r.sum = hsum8(s0, s1);
    r.sumAbs = hsum8(a0, a1);
    r.sumSq = hsum8(q0, q1);
    r.min = std::min(std::min(mn[0], mn[1]), std::min(mn[2], mn[3]));
    r.max = std::max(std::max(mx[0], mx[1]), std::max(mx[2], mx[3]));
    r.zeros = z[0] + z[1] + z[2] + z[3];
    accumulateTail(x, i, n, r);
    return r;
}

double squaredDeviations4(const double* x, int n, double mean)
{
    const V4 m{mean, mean, mean, mean};
    V4 d0{0, 0, 0, 0}, d1{0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const V4 u0 = loadV4(x + i) - m, u1 = loadV4(x + i + 4) - m;
        d0 += u0 * u0, d1 += u1 * u1;
    }
    double r = hsum8(d0, d1);
    for (; i < n; ++i)
        r += (x[i] - mean) * (x[i] - mean);
    return r;
}

/// For each 8-bit lane mask, the lanes to keep, packed to the front (a left-pack table).
struct PackTable {
    std::uint64_t lanes[256] = {};
    constexpr PackTable()
    {
        for (int m = 0; m < 256; ++m) {
            std::uint64_t v = 0;
            int k = 0;
            for (int l = 0; l < 8; ++l)
                if (m & (1 << l))
                    v |= std::uint64_t(l) << (8 * k++);
            lanes[m] = v;
        }
    }
};
constexpr PackTable kPack;

/// The target intervals as NI signed comparisons: r - lo <u len is
/// r + (2^31 - lo) <s len - 2^31 (with wrap-around); unused slots have len 0 (never true).
template <int NI>
struct IntervalTest {
    __m256i add[NI > 0 ? NI : 1], lim[NI > 0 ? NI : 1];
};

template <int NI>
IntervalTest<NI> intervalTest(const Targets* tg)
{
    IntervalTest<NI> t;
    for (int j = 0; j < NI; ++j) {
        const bool used = tg && j < tg->count;
        const std::uint32_t lo = used ? std::uint32_t(tg->lo[size_t(j)]) : 0u;
        const std::uint32_t len = used ? std::uint32_t(tg->len[size_t(j)]) : 0u;
        t.add[j] = _mm256_set1_epi32(std::int32_t(0x80000000u - lo));
        t.lim[j] = _mm256_set1_epi32(std::int32_t(0x80000000u + len));
    }
    return t;
}

/// Writes cells r (8 lanes): all of them (All), or those in a target interval, left-packed
/// (Targets); returns the new m. out needs 8 spare slots.
template <CellsOut Out, int NI>
inline int writeCells(__m256i r, const IntervalTest<NI>& t, std::int32_t* out, int m)
{
    if constexpr (Out == CellsOut::All) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + m), r);
        return m + 8;
    } else {
        __m256i in = _mm256_cmpgt_epi32(t.lim[0], _mm256_add_epi32(r, t.add[0]));
        for (int j = 1; j < NI; ++j)
            in = _mm256_or_si256(in, _mm256_cmpgt_epi32(t.lim[j], _mm256_add_epi32(r, t.add[j])));
        const int mask = _mm256_movemask_ps(_mm256_castsi256_ps(in));
        const __m256i perm =
            _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&kPack.lanes[mask])));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + m), _mm256_permutevar8x32_epi32(r, perm));
        return m + __builtin_popcount(unsigned(mask));
    }
}

/// cellsScalar() for float32, 8 per step (c.floats): the product and floor are exact in
/// float; cvttps2dq gives NaN, ±Inf and products beyond 2^31 0x80000000, and an unsigned
/// min sends whatever is outside [0, limit) to limit (see makeCells).
template <CellsOut Out, int NI>
int cellsFloat(const std::uint8_t* p, int n, const Cells& c, const Targets* tg, std::int32_t* out)
{
    const IntervalTest<NI> test = intervalTest<NI>(tg);
    const __m256 s = _mm256_set1_ps(float(c.scale));
    const __m256i origin = _mm256_set1_epi32(std::int32_t(c.origin)), limit = _mm256_set1_epi32(c.limit);
    int i = 0, m = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(reinterpret_cast<const float*>(p + std::int64_t(i) * 4));
        const __m256i r = _mm256_sub_epi32(_mm256_cvttps_epi32(_mm256_floor_ps(_mm256_mul_ps(v, s))), origin);
        m = writeCells<Out>(_mm256_min_epu32(r, limit), test, out, m);
    }
    return m + cellsScalar<Out, float>(p + std::int64_t(i) * 4, n - i, c, tg, out + m);
}

/// Bytes ahead that the fused pass-1 loop asks the cache for: it does enough work per
/// value that the hardware prefetcher alone leaves it waiting on memory at each block.
constexpr int kPrefetchBytes = 4096;

/// fusedCellsScalar(), 8 per step: the fine cells as cellsFloat() finds them (sf.cells has
/// floats), the coarse ones by a shift, the windowed fine ones left-packed.
int fusedCellsFloat(const std::uint8_t* p, int n, const SpecFine& sf, std::int32_t* coarse, std::int32_t* fine)
{
    const Cells& c = sf.cells;
    const IntervalTest<5> test = intervalTest<5>(&sf.windows);
    const __m256 s = _mm256_set1_ps(float(c.scale));
    const __m256i origin = _mm256_set1_epi32(std::int32_t(c.origin)), limit = _mm256_set1_epi32(c.limit);
    int i = 0, m = 0;
    for (; i + 8 <= n; i += 8) {
        __builtin_prefetch(p + std::int64_t(i) * 4 + kPrefetchBytes);
        const __m256 v = _mm256_loadu_ps(reinterpret_cast<const float*>(p + std::int64_t(i) * 4));
        const __m256i r = _mm256_min_epu32(
            _mm256_sub_epi32(_mm256_cvttps_epi32(_mm256_floor_ps(_mm256_mul_ps(v, s))), origin), limit);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(coarse + i), _mm256_srli_epi32(r, kSpecFineShift));
        m = writeCells<CellsOut::Targets>(r, test, fine, m);
    }
    return m + fusedCellsScalar(p + std::int64_t(i) * 4, n - i, sf, coarse + i, fine + m);
}

/// cellsScalar() for doubles, 4 per step, with the same -0 mending; max(t, -1) turns NaN
/// into -1 and the unsigned min sends -1 (and anything outside) to limit.
template <CellsOut Out, int NI>
int cellsDouble(const double* x, int n, const Cells& c, const Targets* tg, std::int32_t* out)
{
    const IntervalTest<NI> test = intervalTest<NI>(tg);
    const __m256d s = _mm256_set1_pd(c.scale), origin = _mm256_set1_pd(c.origin), one = _mm256_set1_pd(1.0),
                  neg1 = _mm256_set1_pd(-1.0), top = _mm256_set1_pd(double(c.limit)), zero = _mm256_setzero_pd();
    const __m128i limit = _mm_set1_epi32(c.limit);
    int i = 0, m = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i r[2];
        for (int h = 0; h < 2; ++h) {
            const __m256d v = _mm256_loadu_pd(x + i + 4 * h);
            __m256d t = _mm256_floor_pd(_mm256_mul_pd(v, s));
            const __m256d minus0 =
                _mm256_and_pd(_mm256_cmp_pd(t, zero, _CMP_EQ_OQ), _mm256_cmp_pd(v, zero, _CMP_LT_OQ));
            t = _mm256_sub_pd(_mm256_sub_pd(t, _mm256_and_pd(minus0, one)), origin);
            t = _mm256_min_pd(_mm256_max_pd(t, neg1), top);
            r[h] = _mm_min_epu32(_mm256_cvttpd_epi32(t), limit);
        }
        m = writeCells<Out>(_mm256_set_m128i(r[1], r[0]), test, out, m);
    }
    return m + cellsScalar<Out, double>(reinterpret_cast<const std::uint8_t*>(x + i), n - i, c, tg, out + m);
}

struct Kernels {
    static constexpr bool kFloatLoopNeedsFloatCells = true;
    static constexpr bool kIntervalVectors = true;
    static Acc finite(const double* x, int n) { return finiteBlock4(x, n); }
    static double deviations(const double* x, int n, double mean) { return squaredDeviations4(x, n, mean); }
    template <CellsOut Out, int NI>
    static int cellsOfBlock(const double* x, int n, const Cells& c, const Targets* tg, std::int32_t* out)
    {
        return cellsDouble<Out, NI>(x, n, c, tg, out);
    }
    template <CellsOut Out, int NI>
    static int cellsOfFloats(const std::uint8_t* p, int n, const Cells& c, const Targets* tg, std::int32_t* out)
    {
        if (c.floats)
            return cellsFloat<Out, NI>(p, n, c, tg, out);
        return cellsScalar<Out, float>(p, n, c, tg, out);
    }
    static int fusedCells(const std::uint8_t* p, int n, const SpecFine& sf, std::int32_t* coarse, std::int32_t* fine)
    {
        return fusedCellsFloat(p, n, sf, coarse, fine);
    }
};

}  // namespace

}  // namespace paramscope::stats_internal::avx2

namespace paramscope::stats_internal {

template <typename Dec>
ChunkKernels<Dec> avx2Kernels()
{
    return avx2::makeKernels<Dec, avx2::Kernels>();
}

#define PARAMSCOPE_STATS_INSTANTIATE(Dec) template ChunkKernels<Dec> avx2Kernels<Dec>();
PARAMSCOPE_STATS_DECODERS(PARAMSCOPE_STATS_INSTANTIATE)
#undef PARAMSCOPE_STATS_INSTANTIATE

}  // namespace paramscope::stats_internal
