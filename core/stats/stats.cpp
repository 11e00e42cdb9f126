#include "stats/stats.h"
#include "base/textutil.h"

#include "base/mappedfile.h"
#include "base/resourcelimits.h"

#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#include <immintrin.h>  // used only inside target("avx2") functions
#endif

// How the work is split, and why:
//
// * Dtypes of 16 bits or less (bool, int8, uint8, qint8, quint8, float8, int16, uint16,
//   float16, bfloat16) take ONE pass that only counts how often each bit pattern occurs
//   (a 256- or 65536-entry table per thread). Every statistic, the exact quantiles and
//   the histogram then come from that table, without touching the data again.
// * Wider dtypes take one fused pass (pass 1) for counts, min/max, sums and the second
//   moment. Up to exactQuantileLimit finite values, pass 2 then copies them for exact
//   quantiles and bins that copy in memory (the histogram's edges depend on min and max,
//   known only after pass 1). Larger tensors count their values in power-of-two cells
//   (see Cells), whose edges do not depend on the data: pass 1 itself counts the coarse
//   cells over a range a sample predicts (pass 2 does it when a value falls outside), the
//   automatic histogram is a sum of coarse cells, and pass 3 counts fine cells inside the
//   few coarse cells the quantiles fall in. A given bin count and integer-aligned bins
//   take a pass of their own above the limit.
//
// Work is cut into fixed chunks of the logical (C-order) index space that threads take
// from a shared counter; per-chunk results are merged in chunk order, so the numbers do
// not depend on scheduling. Within a chunk, values are decoded into a small double block
// (in L1), summed with eight independent lanes, and the block's second moment is taken
// in a second sweep over the cached block about the block's own mean; blocks and chunks
// are combined with Chan et al.'s pairwise update. Non-contiguous views are walked with
// an odometer over the outer dimensions and a fast strided inner run.

namespace paramscope {

QString statsValuesName(StatsValues v)
{
    switch (v) {
        case StatsValues::Real:
            return QStringLiteral("values");
        case StatsValues::Magnitude:
            return QStringLiteral("magnitude");
        case StatsValues::Dequantized:
            return QStringLiteral("dequantized");
    }
    return {};
}

StatsInteger StatsInteger::fromSigned(std::int64_t v)
{
    StatsInteger r;
    r.negative = v < 0;
    // |v| without overflow at -2^63.
    r.magnitude = v < 0 ? ~std::uint64_t(v) + 1 : std::uint64_t(v);
    return r;
}

StatsInteger StatsInteger::fromUnsigned(std::uint64_t v)
{
    StatsInteger r;
    r.magnitude = v;
    return r;
}

QString StatsInteger::toString() const
{
    const QString m = QString::number(qulonglong(magnitude));
    return negative ? QLatin1Char('-') + m : m;
}

double StatsInteger::toDouble() const
{
    const double m = double(magnitude);  // round to nearest
    return negative ? -m : m;
}

namespace {
QString shortestNumber(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}
}  // namespace

QString TensorStats::minText() const
{
    return minExact ? minExact->toString() : shortestNumber(min);
}

QString TensorStats::maxText() const
{
    return maxExact ? maxExact->toString() : shortestNumber(max);
}

QString TensorStats::quantileText(size_t i) const
{
    if (i >= quantiles.values.size())
        return {};
    return quantiles.exact[i] ? quantiles.exact[i]->toString() : shortestNumber(quantiles.values[i]);
}

int freedmanDiaconisBins(double min, double max, double iqr, std::int64_t n)
{
    if (n <= 0 || !(max > min))
        return 1;
    const double h = 2.0 * iqr / std::cbrt(double(n));
    double bins;
    if (h > 0 && std::isfinite((max - min) / h))
        bins = std::ceil((max - min) / h);
    else
        bins = std::ceil(std::log2(double(n))) + 1.0;  // Sturges
    return int(std::clamp(bins, 1.0, double(kMaxAutoBins)));
}

namespace {

constexpr std::int64_t kChunk = std::int64_t(1) << 16;  // elements per unit of work
constexpr int kBlock = 2048;                            // doubles decoded at once (16 KiB)
constexpr int kFineBins = 1 << 16;

// ---------------------------------------------------------------- layout and iteration

/// The view with size-1 dimensions dropped and mergeable neighbours fused, so a
/// contiguous tensor is one run however many dimensions it has.
struct Layout {
    const std::uint8_t* base = nullptr;
    int item = 0;
    std::vector<std::int64_t> shape, strides;  // rank >= 1
    std::int64_t numel = 0;
};

Layout collapse(const TensorView& v)
{
    Layout L;
    L.item = dtypeItemSize(v.dtype);
    L.numel = v.numel();
    L.base = L.numel > 0 ? v.base() : nullptr;
    for (size_t d = 0; d < v.shape.size(); ++d) {
        if (v.shape[d] == 1)
            continue;
        if (!L.shape.empty() && L.strides.back() == v.strides[d] * v.shape[d]) {
            L.shape.back() *= v.shape[d];
            L.strides.back() = v.strides[d];
        } else {
            L.shape.push_back(v.shape[d]);
            L.strides.push_back(v.strides[d]);
        }
    }
    if (L.shape.empty()) {
        L.shape.push_back(L.numel > 0 ? 1 : 0);
        L.strides.push_back(1);
    }
    return L;
}

/// Calls f(first byte, count, stride in bytes) for the runs of logical elements [begin, end).
template <typename F>
void forRuns(const Layout& L, std::int64_t begin, std::int64_t end, F&& f)
{
    const size_t rank = L.shape.size();
    const std::int64_t inner = L.shape[rank - 1];
    const std::int64_t innerStride = L.strides[rank - 1];
    std::int64_t idxBuf[16];
    std::vector<std::int64_t> idxVec;
    std::int64_t* idx = idxBuf;
    if (rank > 16) {
        idxVec.resize(rank);
        idx = idxVec.data();
    }
    std::int64_t rem = begin, off = 0;
    for (size_t d = rank; d-- > 0;) {
        idx[d] = rem % L.shape[d];
        rem /= L.shape[d];
        off += idx[d] * L.strides[d];
    }
    std::int64_t pos = begin;
    while (pos < end) {
        const std::int64_t n = std::min(inner - idx[rank - 1], end - pos);
        f(L.base + off * L.item, n, innerStride * L.item);
        pos += n;
        idx[rank - 1] += n;
        off += n * innerStride;
        if (idx[rank - 1] < inner)
            continue;
        off -= inner * innerStride;
        idx[rank - 1] = 0;
        for (size_t d = rank - 1; d-- > 0;) {
            off += L.strides[d];
            if (++idx[d] < L.shape[d])
                break;
            off -= L.shape[d] * L.strides[d];
            idx[d] = 0;
        }
    }
}

// ---------------------------------------------------------------- threads, cancel, progress

struct Progress {
    const StatsOptions* o = nullptr;
    double base = 0, span = 1;
    std::int64_t total = 1;
    std::atomic<std::int64_t> done{0};
    std::atomic<int> lastPercent{-1};

    void step()
    {
        const std::int64_t d = ++done;
        if (!o->progress)
            return;
        const double f = base + span * double(d) / double(std::max<std::int64_t>(total, 1));
        const int pct = int(f * 100.0);
        int last = lastPercent.load();
        // Throttle: at most one call per percent, from whichever thread crosses it.
        if (pct > last && lastPercent.compare_exchange_strong(last, pct))
            o->progress(std::min(f, 1.0));
    }
};

bool isCancelled(const StatsOptions& o)
{
    return o.cancel && o.cancel->load(std::memory_order_relaxed);
}

int threadCount(const StatsOptions& o, std::int64_t units)
{
    int t = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    return int(std::max<std::int64_t>(1, std::min<std::int64_t>(t, units)));
}

/// Runs work(thread, unit) for every unit in [0, units) on `threads` threads (the caller
/// is one of them). Returns false when cancelled.
template <typename W>
bool parallelFor(std::int64_t units, int threads, const StatsOptions& o, Progress& prog, W&& work)
{
    std::atomic<std::int64_t> next{0};
    auto loop = [&](int t) {
        for (;;) {
            if (isCancelled(o))
                return;
            const std::int64_t u = next.fetch_add(1, std::memory_order_relaxed);
            if (u >= units)
                return;
            work(t, u);
            prog.step();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(size_t(threads - 1));
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(loop, t);
    loop(0);
    for (auto& th : pool)
        th.join();
    return !isCancelled(o);
}

// ---------------------------------------------------------------- decoders (wide dtypes)

template <typename T>
T load(const std::uint8_t* p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

template <typename T>
struct Plain {
    static constexpr int kSize = sizeof(T);
    double operator()(const std::uint8_t* p) const { return double(load<T>(p)); }
};

/// 64-bit integers as unsigned keys that compare like the values: int64 with its sign
/// bit flipped, uint64 as it is. Differences of keys are exact differences of values.
inline std::uint64_t intKey(std::int64_t v)
{
    return std::uint64_t(v) ^ (std::uint64_t(1) << 63);
}
inline std::uint64_t intKey(std::uint64_t v)
{
    return v;
}
StatsInteger keyInteger(std::uint64_t key, bool isSigned)
{
    return isSigned ? StatsInteger::fromSigned(std::int64_t(key ^ (std::uint64_t(1) << 63)))
                    : StatsInteger::fromUnsigned(key);
}

template <typename Dec>
constexpr bool kWideInt = std::is_same_v<Dec, Plain<std::int64_t>> || std::is_same_v<Dec, Plain<std::uint64_t>>;

/// Plain<T> for int64/uint64 in pass 1: decodes the same doubles and keeps the exact min
/// and max keys of what it decoded (one copy per chunk, so no sharing between threads).
template <typename T>
struct PlainTracked {
    static constexpr int kSize = sizeof(T);
    mutable std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
    double operator()(const std::uint8_t* p) const
    {
        const T v = load<T>(p);
        const std::uint64_t k = intKey(v);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
        return double(v);
    }
};

template <typename T>
struct Magnitude {
    static constexpr int kSize = 2 * sizeof(T);
    double operator()(const std::uint8_t* p) const
    {
        return std::hypot(double(load<T>(p)), double(load<T>(p + sizeof(T))));
    }
};

struct DequantI32 {
    static constexpr int kSize = 4;
    double scale;
    std::int64_t zp;
    double operator()(const std::uint8_t* p) const { return double(std::int64_t(load<std::int32_t>(p)) - zp) * scale; }
};

// ---------------------------------------------------------------- pass 1 (wide dtypes)

/// Finite-value moments of a block or a chunk, plus counts.
struct Acc {
    std::int64_t n = 0, nan = 0, posInf = 0, negInf = 0, zeros = 0;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    double sum = 0, sumAbs = 0, sumSq = 0;
    double mean = 0, m2 = 0;  // for Chan's merge
    // int64/uint64 only: exact min and max as order-preserving keys (see intKey).
    std::uint64_t keyLo = std::numeric_limits<std::uint64_t>::max(), keyHi = 0;
};

void merge(Acc& a, const Acc& b)
{
    a.nan += b.nan;
    a.posInf += b.posInf;
    a.negInf += b.negInf;
    a.zeros += b.zeros;
    if (b.n == 0)
        return;
    if (a.n == 0) {
        const auto nan = a.nan, pi = a.posInf, ni = a.negInf, z = a.zeros;
        a = b;
        a.nan = nan, a.posInf = pi, a.negInf = ni, a.zeros = z;
        return;
    }
    const double na = double(a.n), nb = double(b.n), n = na + nb;
    const double delta = b.mean - a.mean;
    a.mean += delta * (nb / n);
    a.m2 += b.m2 + delta * delta * (na * nb / n);
    a.n += b.n;
    a.min = std::min(a.min, b.min);
    a.max = std::max(a.max, b.max);
    a.keyLo = std::min(a.keyLo, b.keyLo);
    a.keyHi = std::max(a.keyHi, b.keyHi);
    a.sum += b.sum;
    a.sumAbs += b.sumAbs;
    a.sumSq += b.sumSq;
}

// Two-wide double vectors (GCC/Clang vector extensions: plain SSE2 on x86-64, NEON on
// arm64). Two of them give four independent lanes, so the adds do not wait on each other;
// written out because -O2 does not vectorise floating-point reductions by itself.
typedef double V2 __attribute__((vector_size(16)));
typedef std::int64_t V2i __attribute__((vector_size(16)));

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
inline double hsum(V2 a, V2 b)
{
    return (a[0] + a[1]) + (b[0] + b[1]);
}

// The block loops below keep EIGHT independent lanes per sum (lane j takes x[i + j], i a
// multiple of 8): an add waits ~3 cycles for its previous result, so fewer lanes leave the
// loop waiting on that chain rather than on memory. The SSE2 loop holds them in four
// two-wide vectors, the AVX2 loop in two four-wide ones; both add the same values into
// each lane and combine the lanes in the same order, so the results are bit-identical.

// The scalar tail (the last n % 8 values), shared by both versions.
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

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#define PARAMSCOPE_AVX2_CLONES 1
// Four-wide copies of finiteBlock() and squaredDeviations() for the AVX2 path: lanes 0-3
// in the first vector, 4-7 in the second (see above).
typedef double V4 __attribute__((vector_size(32)));
typedef std::int64_t V4i __attribute__((vector_size(32)));

__attribute__((target("avx2"))) inline V4 loadV4(const double* p)
{
    V4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

__attribute__((target("avx2"))) inline double hsum8(V4 a, V4 b)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}

__attribute__((target("avx2"))) Acc finiteBlock4(const double* x, int n)
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

__attribute__((target("avx2"))) double squaredDeviations4(const double* x, int n, double mean)
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
#endif

struct Sse2Kernels {
    static Acc finite(const double* x, int n) { return finiteBlock(x, n); }
    static double deviations(const double* x, int n, double mean) { return squaredDeviations(x, n, mean); }
};
#ifdef PARAMSCOPE_AVX2_CLONES
struct Avx2Kernels {
    __attribute__((target("avx2"))) static Acc finite(const double* x, int n) { return finiteBlock4(x, n); }
    __attribute__((target("avx2"))) static double deviations(const double* x, int n, double mean)
    {
        return squaredDeviations4(x, n, mean);
    }
};
#endif

template <typename K = Sse2Kernels>
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

/// Decodes logical elements [begin, end) into double blocks of up to kBlock values and
/// calls f(block, count) for each; `buf` is the caller's kBlock-sized scratch.
template <typename Dec, typename F>
void forBlocks(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, double* buf, F&& f)
{
    int fill = 0;
    forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t stepBytes) {
        std::int64_t i = 0;
        while (i < n) {
            const int take = int(std::min<std::int64_t>(n - i, kBlock - fill));
            const std::uint8_t* q = p + i * stepBytes;
            if constexpr (std::is_same_v<Dec, Plain<float>>) {
                if (stepBytes == 4) {
                    // The common case, two floats widened per instruction (cvtps2pd).
                    typedef float F2 __attribute__((vector_size(8)));
                    int j = 0;
                    for (; j + 2 <= take; j += 2) {
                        F2 f;
                        std::memcpy(&f, q + std::int64_t(j) * 4, sizeof f);
                        const V2 d = __builtin_convertvector(f, V2);
                        std::memcpy(buf + fill + j, &d, sizeof d);
                    }
                    for (; j < take; ++j)
                        buf[fill + j] = dec(q + std::int64_t(j) * 4);
                    fill += take;
                    i += take;
                    if (fill == kBlock) {
                        f(buf, fill);
                        fill = 0;
                    }
                    continue;
                }
            }
            if (stepBytes == Dec::kSize) {
                for (int j = 0; j < take; ++j)
                    buf[fill + j] = dec(q + std::int64_t(j) * Dec::kSize);
            } else {
                for (int j = 0; j < take; ++j)
                    buf[fill + j] = dec(q + std::int64_t(j) * stepBytes);
            }
            fill += take;
            i += take;
            if (fill == kBlock) {
                f(buf, fill);
                fill = 0;
            }
        }
    });
    if (fill > 0)
        f(buf, fill);
}

// The build targets baseline x86-64 (SSE2). The hot chunk loops get a second copy compiled
// for AVX2, chosen at run time: `flatten` pulls every callee (block sums, decoders, the
// binning loop) into that copy so all of it is compiled for AVX2. AVX2 does not enable FMA,
// so no multiply-add gets contracted and the results stay bit-identical to the SSE2 copy.
#ifdef PARAMSCOPE_AVX2_CLONES
#define PARAMSCOPE_AVX2 __attribute__((target("avx2"), flatten))
bool haveAvx2()
{
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
#endif

/// Set PARAMSCOPE_STATS_NO_AVX2=1 to run the baseline loops on an AVX2 machine (the test
/// suite runs tst_stats both ways, with the same expectations).
bool useAvx2()
{
#ifdef PARAMSCOPE_AVX2_CLONES
    static const bool yes = haveAvx2() && qEnvironmentVariableIntValue("PARAMSCOPE_STATS_NO_AVX2") == 0;
    return yes;
#else
    return false;
#endif
}

// ---------------------------------------------------------------- binning

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
std::vector<double> linspaceEdges(double lo, double hi, int bins)
{
    std::vector<double> e(size_t(bins) + 1);
    const double step = (hi - lo) / double(bins);
    for (int i = 0; i <= bins; ++i)
        e[size_t(i)] =
            std::isfinite(step) ? double(i) * step + lo : lo * (1.0 - double(i) / bins) + hi * (double(i) / bins);
    e[size_t(bins)] = hi;
    return e;
}

bool integerValued(DType t)
{
    return dtypeIsInteger(t) || t == DType::Bool || dtypeIsQuantized(t);
}

/// Edges of the histogram shown to the user.
StatsHistogram planHistogram(const TensorView& v, const TensorStats& s, int userBins, bool roundToPowerOfTwo)
{
    StatsHistogram h;
    h.automatic = userBins <= 0;
    if (s.finite == 0)
        return h;
    const double iqr = s.quantiles.p75() - s.quantiles.p25();
    if (integerValued(v.dtype) && !v.qChannels) {
        // Values are (code - zp) * unit with integer codes: bins hold whole codes, edges sit
        // halfway between them.
        const double unit = dtypeIsQuantized(v.dtype) ? v.qScale : 1.0;
        const double cmin = std::round(s.min / unit), cmax = std::round(s.max / unit);
        const double m = cmax - cmin + 1;  // codes spanned
        double k;                          // codes per bin
        if (userBins > 0) {
            k = std::ceil(m / std::min(userBins, kMaxBins));
        } else {
            const double w = 2.0 * iqr / std::cbrt(double(s.finite));
            if (w > 0)
                k = std::max(1.0, std::ceil(w / unit));
            else
                k = std::ceil(m / (std::ceil(std::log2(double(s.finite))) + 1.0));
            k = std::max(k, std::ceil(m / kMaxAutoBins));
        }
        k = std::max(k, 1.0);
        const int bins = int(std::ceil(m / k));
        h.edges.resize(size_t(bins) + 1);
        for (int i = 0; i <= bins; ++i)
            h.edges[size_t(i)] = (cmin - 0.5 + double(i) * k) * unit;
        h.integerAligned = true;
        return h;
    }
    if (s.min == s.max) {
        // One bin around the constant, as np.histogram does (±0.5, or relative when 0.5
        // would vanish in rounding).
        double lo = s.min - 0.5, hi = s.max + 0.5;
        if (!(lo < s.min) || !(hi > s.max)) {
            lo = s.min - std::fabs(s.min) * 0x1p-20;
            hi = s.max + std::fabs(s.max) * 0x1p-20;
        }
        h.edges = {lo, hi};
        return h;
    }
    int bins = userBins > 0 ? std::min(userBins, kMaxBins) : freedmanDiaconisBins(s.min, s.max, iqr, s.finite);
    if (roundToPowerOfTwo)
        bins = 1 << std::clamp(int(std::lround(std::log2(double(bins)))), 0, 9);
    h.edges = linspaceEdges(s.min, s.max, bins);
    return h;
}

// ---------------------------------------------------------------- quantiles

/// NumPy's lerp for method='linear' (the same rounding on each side of t = 0.5).
double lerp(double a, double b, double t)
{
    const double d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/// Where type-7 quantile `i` sits among `n` sorted values each standing for `weight`
/// logical elements (a broadcast view, TensorStats::broadcast): it interpolates between
/// the `lo`-th and `hi`-th of the n by `t`. With weight 1, position (n - 1) * q.
struct QuantileRank {
    std::int64_t lo = 0, hi = 0;
    double t = 0.0;
};
QuantileRank quantileRank(std::int64_t n, std::int64_t weight, size_t i)
{
    const double q = StatsQuantiles::kLevels[i];
    if (weight <= 1) {
        const double pos = double(n - 1) * q;
        const auto lo = std::int64_t(std::floor(pos));
        return {lo, std::min(lo + 1, n - 1), pos - double(lo)};
    }
    // Among the n * weight logical values (at most 2^62), the k-th smallest is the
    // (k / weight)-th of the n distinct ones.
    const std::int64_t N = n * weight;
    const long double pos = (long double)(N - 1) * (long double)q;
    const auto lo = std::int64_t(std::floor(pos));
    const auto hi = std::min(lo + 1, N - 1);
    return {lo / weight, hi / weight, double(pos - (long double)lo)};
}

/// Type-7 quantiles given a function returning the k-th smallest finite value.
template <typename OrderStat>
std::array<double, 5> linearQuantiles(std::int64_t n, std::int64_t weight, OrderStat&& kth)
{
    std::array<double, 5> out{};
    for (size_t i = 0; i < out.size(); ++i) {
        const QuantileRank r = quantileRank(n, weight, i);
        out[i] = lerp(kth(r.lo), kth(r.hi), r.t);
    }
    return out;
}

/// Selects the k-th smallest values for the given (ascending, unique) ranks in place.
/// The ranks (ascending, unique) of the order statistics the five type-7 quantiles need.
std::vector<std::int64_t> quantileRankList(std::int64_t n, std::int64_t weight)
{
    std::vector<std::int64_t> ranks;
    for (size_t i = 0; i < StatsQuantiles::kLevels.size(); ++i) {
        const QuantileRank r = quantileRank(n, weight, i);
        ranks.push_back(r.lo);
        ranks.push_back(r.hi);
    }
    std::sort(ranks.begin(), ranks.end());
    ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
    return ranks;
}

template <typename T>
std::vector<T> selectRanks(std::vector<T>& x, const std::vector<std::int64_t>& ranks)
{
    std::vector<T> out;
    auto from = x.begin();
    for (std::int64_t k : ranks) {
        auto nth = x.begin() + k;
        std::nth_element(from, nth, x.end());
        out.push_back(*nth);
        from = nth + 1;  // later ranks lie right of this one
    }
    return out;
}

void finishMoments(TensorStats& s, const Acc& a)
{
    s.finite = a.n;
    s.nan = a.nan;
    s.posInf = a.posInf;
    s.negInf = a.negInf;
    s.zeros = a.zeros;
    s.zerosPercent = s.elements > 0 ? 100.0 * double(a.zeros) / double(s.elements) : 0.0;
    if (a.n == 0)
        return;
    s.min = a.min;
    s.max = a.max;
    s.mean = a.sum / double(a.n);
    s.std = std::sqrt(std::max(0.0, a.m2 / double(a.n)));
    s.l1 = a.sumAbs;
    s.l2 = std::sqrt(a.sumSq);
    s.maxAbs = std::max(std::fabs(a.min), std::fabs(a.max));
}

/// Exact type-7 quantiles of `x` (reordered in place).
std::array<double, 5> exactQuantiles(std::vector<double>& x, std::int64_t weight)
{
    const auto n = std::int64_t(x.size());
    const std::vector<std::int64_t> ranks = quantileRankList(n, weight);
    const std::vector<double> picked = selectRanks(x, ranks);
    return linearQuantiles(n, weight, [&](std::int64_t k) {
        return picked[size_t(std::lower_bound(ranks.begin(), ranks.end(), k) - ranks.begin())];
    });
}

/// Quantiles from a fine histogram. The exact answer is lerp(x[lo], x[hi], t) with x[lo]
/// in fine bin [a0, a1) and x[hi] in [b0, b1), so it lies in [lerp(a0, b0, t), lerp(a1, b1, t)],
/// an interval exactly one fine bin wide: report its midpoint, error at most half a bin.
void approximateQuantiles(TensorStats& s, const Binner& fine, const std::vector<std::int64_t>& counts)
{
    std::vector<std::int64_t> cum(counts.size() + 1, 0);
    for (size_t j = 0; j < counts.size(); ++j)
        cum[j + 1] = cum[j] + counts[j];
    auto binOf = [&](std::int64_t k) { return size_t(std::upper_bound(cum.begin(), cum.end(), k) - cum.begin()) - 1; };
    s.quantiles.approximate = true;
    s.quantiles.errorBound = 0;
    for (size_t i = 0; i < s.quantiles.values.size(); ++i) {
        const QuantileRank r = quantileRank(s.finite, s.broadcast, i);
        const double t = r.t;
        const size_t A = binOf(r.lo), B = binOf(r.hi);
        const double low = std::clamp(lerp(fine.edges[A], fine.edges[B], t), s.min, s.max);
        const double high = std::clamp(lerp(fine.edges[A + 1], fine.edges[B + 1], t), s.min, s.max);
        s.quantiles.values[i] = low + (high - low) / 2;
        s.quantiles.errorBound = std::max(s.quantiles.errorBound, (high - low) / 2);
    }
}

// ---------------------------------------------------------------- narrow dtypes: code tables

double codeValue(const TensorView& v, std::uint32_t code)
{
    switch (v.dtype) {
        case DType::Bool:
            return code != 0 ? 1.0 : 0.0;
        case DType::Int8:
            return double(std::int8_t(code));
        case DType::UInt8:
            return double(code);
        case DType::Int16:
            return double(std::int16_t(code));
        case DType::UInt16:
            return double(code);
        case DType::Float16:
            return double(halfToFloat(std::uint16_t(code)));
        case DType::BFloat16:
            return double(bfloat16ToFloat(std::uint16_t(code)));
        case DType::Float8E5M2:
            return double(float8e5m2ToFloat(std::uint8_t(code)));
        case DType::Float8E4M3:
            return double(float8e4m3fnToFloat(std::uint8_t(code)));
        case DType::QInt8:
            return double(std::int64_t(std::int8_t(code)) - v.qZeroPoint) * v.qScale;
        case DType::QUInt8:
            return double(std::int64_t(code) - v.qZeroPoint) * v.qScale;
        default:
            return 0.0;
    }
}

bool narrowDType(DType t)
{
    return dtypeItemSize(t) <= 2 && !dtypeIsComplex(t);
}

/// How often each code (bit pattern) occurs in logical elements [0, L.numel) of L, in
/// tables[thread] (codes entries, 8-bit codes counted in four interleaved copies so runs
/// of one value do not serialise on one counter). False when cancelled.
bool countCodes(const Layout& L, const StatsOptions& o, Progress& prog, std::vector<std::int64_t>& count)
{
    const int codes = L.item == 1 ? 256 : 65536;
    const int copies = L.item == 1 ? 4 : 1;
    const std::int64_t chunks = (L.numel + kChunk - 1) / kChunk;
    const int threads = threadCount(o, chunks);
    std::vector<std::vector<std::int64_t>> tables(size_t(threads), std::vector<std::int64_t>(size_t(codes) * copies));
    prog.total = chunks;
    const bool ok = parallelFor(chunks, threads, o, prog, [&](int t, std::int64_t c) {
        std::int64_t* tab = tables[size_t(t)].data();
        const std::int64_t begin = c * kChunk, end = std::min(L.numel, begin + kChunk);
        forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t step) {
            if (L.item == 1) {
                std::int64_t i = 0;
                for (; i + 4 <= n; i += 4)
                    for (int k = 0; k < 4; ++k)
                        ++tab[k * 256 + p[(i + k) * step]];
                for (; i < n; ++i)
                    ++tab[p[i * step]];
            } else {
                for (std::int64_t i = 0; i < n; ++i)
                    ++tab[load<std::uint16_t>(p + i * step)];
            }
        });
    });
    count.assign(size_t(codes), 0);
    for (const auto& tab : tables)
        for (int k = 0; k < copies; ++k)
            for (int c = 0; c < codes; ++c)
                count[size_t(c)] += tab[size_t(k * codes + c)];
    return ok;
}

/// Per-channel quantized int8/uint8: the codes of each channel (the view with the channel
/// axis fixed) are counted on their own and become values with that channel's scale and
/// zero point; the caller sorts them as it does any table of distinct values.
bool perChannelValues(const TensorView& v, const StatsOptions& o, std::vector<std::pair<double, std::int64_t>>& vals)
{
    const QuantChannels& qc = *v.qChannels;
    const auto axis = size_t(qc.axis);
    const std::int64_t channels = v.shape[axis];
    Progress prog;
    prog.o = &o;
    prog.total = channels;
    prog.span = 0.9;
    // Channels are the units of work; each is counted by one thread. They go in blocks,
    // each block's code counts folded into `vals` before the next, so memory stays that of
    // one block (a file may declare 2^24 channels of one element each).
    StatsOptions one = o;
    one.threads = 1;
    one.progress = nullptr;
    constexpr std::int64_t kBlockChannels = 4096;
    std::vector<std::vector<std::int64_t>> counts(size_t(std::min(channels, kBlockChannels)));
    for (std::int64_t first = 0; first < channels; first += kBlockChannels) {
        const std::int64_t n = std::min(kBlockChannels, channels - first);
        const bool ok = parallelFor(n, threadCount(o, n), o, prog, [&](int, std::int64_t k) {
            const std::int64_t c = first + k;
            TensorView sub = v;
            sub.offset += c * v.strides[axis];
            sub.shape.erase(sub.shape.begin() + std::ptrdiff_t(axis));
            sub.strides.erase(sub.strides.begin() + std::ptrdiff_t(axis));
            Progress quiet;
            quiet.o = &one;
            countCodes(collapse(sub), one, quiet, counts[size_t(k)]);
        });
        if (!ok)
            return false;
        for (std::int64_t k = 0; k < n; ++k) {
            const std::int64_t c = first + k;
            for (int code = 0; code < 256; ++code)
                if (const std::int64_t m = counts[size_t(k)][size_t(code)]) {
                    const std::int64_t q = v.dtype == DType::QInt8 ? std::int64_t(std::int8_t(code)) : code;
                    vals.emplace_back(double(q - qc.zeroPoints[size_t(c)]) * qc.scales[size_t(c)], m);
                }
        }
    }
    return true;
}

Result<TensorStats> narrowStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s)
{
    // Distinct finite values in ascending order with their counts.
    std::vector<std::pair<double, std::int64_t>> vals;
    if (v.qChannels) {
        if (!perChannelValues(v, o, vals))
            return Result<TensorStats>::failure(ErrorKind::Cancelled, QStringLiteral("Statistics cancelled"));
    } else {
        Progress prog;
        prog.o = &o;
        prog.span = 0.9;
        std::vector<std::int64_t> count;
        if (!countCodes(L, o, prog, count))
            return Result<TensorStats>::failure(ErrorKind::Cancelled, QStringLiteral("Statistics cancelled"));
        for (size_t c = 0; c < count.size(); ++c) {
            const std::int64_t n = count[c];
            if (n == 0)
                continue;
            const double x = codeValue(v, std::uint32_t(c));
            if (std::isnan(x))
                s.nan += n;
            else if (std::isinf(x))
                (x > 0 ? s.posInf : s.negInf) += n;
            else
                vals.emplace_back(x, n);
        }
    }
    std::sort(vals.begin(), vals.end());
    std::vector<std::pair<double, std::int64_t>> merged;  // +0 and -0 (and bool codes) collapse
    for (const auto& [x, n] : vals) {
        if (!merged.empty() && merged.back().first == x)
            merged.back().second += n;
        else
            merged.emplace_back(x, n);
    }
    Acc a;
    for (const auto& [x, n] : merged) {
        const double dn = double(n);
        a.n += n;
        a.sum += x * dn;
        a.sumAbs += std::fabs(x) * dn;
        a.sumSq += x * x * dn;
        if (x == 0.0)
            a.zeros += n;
    }
    if (a.n > 0) {
        a.min = merged.front().first;
        a.max = merged.back().first;
        a.mean = a.sum / double(a.n);
        for (const auto& [x, n] : merged)
            a.m2 += (x - a.mean) * (x - a.mean) * double(n);
    }
    a.nan = s.nan, a.posInf = s.posInf, a.negInf = s.negInf;
    finishMoments(s, a);
    if (a.n == 0)
        return s;
    std::vector<std::int64_t> cum(merged.size() + 1, 0);
    for (size_t j = 0; j < merged.size(); ++j)
        cum[j + 1] = cum[j] + merged[j].second;
    s.quantiles.values = linearQuantiles(a.n, s.broadcast, [&](std::int64_t k) {
        const auto it = std::upper_bound(cum.begin(), cum.end(), k);
        return merged[size_t(it - cum.begin()) - 1].first;
    });
    if (o.histogram) {
        s.histogram = planHistogram(v, s, o.bins, false);
        const Binner b(s.histogram.edges);
        s.histogram.counts.assign(size_t(b.bins), 0);
        for (const auto& [x, n] : merged)
            s.histogram.counts[size_t(b.index(x))] += n;
    }
    if (o.progress)
        o.progress(1.0);
    return s;
}

// ---------------------------------------------------------------- wide dtypes

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

// ---------------------------------------------------------------- power-of-two cells
//
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

#ifdef PARAMSCOPE_AVX2_CLONES
/// For each 8-bit lane mask, the lanes to keep, packed to the front (a left-pack table).
struct PackTable {
    std::uint64_t lanes[256];
    PackTable()
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
const PackTable kPack;

/// The target intervals as NI signed comparisons: r - lo <u len is
/// r + (2^31 - lo) <s len - 2^31 (with wrap-around); unused slots have len 0 (never true).
template <int NI>
struct IntervalTest {
    __m256i add[NI > 0 ? NI : 1], lim[NI > 0 ? NI : 1];
};

template <int NI>
__attribute__((target("avx2"))) IntervalTest<NI> intervalTest(const Targets* tg)
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
__attribute__((target("avx2"))) inline int writeCells(__m256i r, const IntervalTest<NI>& t, std::int32_t* out, int m)
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
__attribute__((target("avx2"))) int cellsFloat(const std::uint8_t* p, int n, const Cells& c, const Targets* tg,
                                               std::int32_t* out)
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

/// cellsScalar() for doubles, 4 per step, with the same -0 mending; max(t, -1) turns NaN
/// into -1 and the unsigned min sends -1 (and anything outside) to limit.
template <CellsOut Out, int NI>
__attribute__((target("avx2"))) int cellsDouble(const double* x, int n, const Cells& c, const Targets* tg,
                                                std::int32_t* out)
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
#endif

/// Cells of the double block x[0..n) into out, as Out says; returns how many.
template <CellsOut Out, bool Avx2, int NI>
int cellsOfBlock(const double* x, int n, const Cells& c, const Targets* tg, std::int32_t* out)
{
#ifdef PARAMSCOPE_AVX2_CLONES
    if constexpr (Avx2)
        return cellsDouble<Out, NI>(x, n, c, tg, out);
#endif
    return cellsScalar<Out, double>(reinterpret_cast<const std::uint8_t*>(x), n, c, tg, out);
}

/// Cells of float32 values at p (contiguous), as Out says; returns how many.
template <CellsOut Out, bool Avx2, int NI>
int cellsOfFloats(const std::uint8_t* p, int n, const Cells& c, const Targets* tg, std::int32_t* out)
{
#ifdef PARAMSCOPE_AVX2_CLONES
    if constexpr (Avx2)
        if (c.floats)
            return cellsFloat<Out, NI>(p, n, c, tg, out);
#endif
    return cellsScalar<Out, float>(p, n, c, tg, out);
}

// ---------------------------------------------------------------- pass 1 (and coarse cells)

/// Pass 1 over logical elements [begin, end): moments and counts into `out`, and, when
/// `coarse` is given, every value's cell counted into `counts` (which the caller made room
/// for). Contiguous float32 has its cells found from the floats themselves (8 lanes).
template <typename Dec, typename K, bool Avx2>
void pass1ChunkBody(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, Acc& out,
                    const Cells* coarse, Counters* counts)
{
    alignas(32) double buf[kBlock];
    alignas(32) std::int32_t cells[kBlock + 8];
    if constexpr (std::is_same_v<Dec, Plain<float>>) {
        if (coarse && coarse->floats && L.shape.size() == 1 && L.strides[0] == 1) {
            for (std::int64_t at = begin; at < end; at += kBlock) {
                const int n = int(std::min<std::int64_t>(kBlock, end - at));
                const std::uint8_t* p = L.base + at * 4;
                counts->add(cells, cellsOfFloats<CellsOut::All, Avx2, 0>(p, n, *coarse, nullptr, cells));
                forBlocks(L, dec, at, at + n, buf, [&](double* x, int m) { addBlock<K>(x, m, out); });
            }
            return;
        }
    }
    auto blocks = [&](const auto& d) {
        forBlocks(L, d, begin, end, buf, [&](double* x, int n) {
            if (coarse)  // before addBlock, which may reorder a block holding NaN or ±Inf
                counts->add(cells, cellsOfBlock<CellsOut::All, Avx2, 0>(x, n, *coarse, nullptr, cells));
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

#ifdef PARAMSCOPE_AVX2_CLONES
template <typename Dec>
PARAMSCOPE_AVX2 void pass1ChunkAvx2(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, Acc& out,
                                    const Cells* coarse, Counters* counts)
{
    pass1ChunkBody<Dec, Avx2Kernels, true>(L, dec, begin, end, out, coarse, counts);
}
#endif

template <typename Dec>
void pass1Chunk(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, Acc& out,
                const Cells* coarse = nullptr, Counters* counts = nullptr)
{
#ifdef PARAMSCOPE_AVX2_CLONES
    if (useAvx2())
        return pass1ChunkAvx2(L, dec, begin, end, out, coarse, counts);
#endif
    pass1ChunkBody<Dec, Sse2Kernels, false>(L, dec, begin, end, out, coarse, counts);
}

// ---------------------------------------------------------------- passes 2 and 3

/// Cells of logical elements [begin, end), kBlock values at a time, passed to
/// sink(cells, count) as Out says. NI: interval tests per vector (>= the targets' count).
template <CellsOut Out, bool Avx2, int NI, typename Dec, typename Sink>
void cellsChunkBody(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, const Cells& c,
                    const Targets* tg, Sink&& sink)
{
    alignas(32) std::int32_t cells[kBlock + 8];  // + room for the last full-width store
    if constexpr (std::is_same_v<Dec, Plain<float>>) {
        // (With AVX2 but cells float arithmetic cannot find, the double loop below is faster.)
        if (L.shape.size() == 1 && L.strides[0] == 1 && (!Avx2 || c.floats)) {
            for (std::int64_t at = begin; at < end; at += kBlock) {
                const int n = int(std::min<std::int64_t>(kBlock, end - at));
                sink(static_cast<const std::int32_t*>(cells),
                     cellsOfFloats<Out, Avx2, NI>(L.base + at * 4, n, c, tg, cells));
            }
            return;
        }
    }
    alignas(32) double buf[kBlock];
    forBlocks(L, dec, begin, end, buf, [&](const double* x, int n) {
        sink(static_cast<const std::int32_t*>(cells), cellsOfBlock<Out, Avx2, NI>(x, n, c, tg, cells));
    });
}

#ifdef PARAMSCOPE_AVX2_CLONES
template <CellsOut Out, int NI, typename Dec, typename Sink>
PARAMSCOPE_AVX2 void cellsChunkAvx2(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end,
                                    const Cells& c, const Targets* tg, Sink& sink)
{
    cellsChunkBody<Out, true, NI>(L, dec, begin, end, c, tg, sink);
}
#endif

template <CellsOut Out, typename Dec, typename Sink>
void cellsChunk(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, const Cells& c,
                const Targets* tg, Sink&& sink)
{
#ifdef PARAMSCOPE_AVX2_CLONES
    if (useAvx2()) {
        // Five quantiles usually make five intervals; ten is the most there can be.
        if (Out == CellsOut::All)
            return cellsChunkAvx2<Out, 0>(L, dec, begin, end, c, tg, sink);
        if (tg->count <= 5)
            return cellsChunkAvx2<Out, 5>(L, dec, begin, end, c, tg, sink);
        return cellsChunkAvx2<Out, Targets::kMax>(L, dec, begin, end, c, tg, sink);
    }
#endif
    cellsChunkBody<Out, false, 0>(L, dec, begin, end, c, tg, sink);
}

/// Coarse cells for a sample's finite range [lo, hi] (to be counted in pass 1): the sample
/// range spans at most kSampleSpan of the kSpecCells cells, with room on both sides.
std::optional<Cells> speculativeCells(double lo, double hi)
{
    const double range = hi - lo;
    if (!(range > 0) || !std::isfinite(range))
        return std::nullopt;
    const int e = widthExponent(range, kSampleSpan);
    const double margin = std::ldexp(double(kSpecCells - kSampleSpan) / 2, e);
    return makeCells(e, lo - margin, kSpecCells, std::max(std::fabs(lo), std::fabs(hi)) + 2 * margin);
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

/// floor(a / 2^shift) for any sign.
std::int64_t floorShift(std::int64_t a, int shift)
{
    return a >= 0 ? a >> shift : -((-a - 1) >> shift) - 1;
}

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

/// A sample of the data: kSampleRuns runs of kSampleRun values (a cache line each), spread
/// evenly. Returns the finite range seen, or nothing when fewer than half were finite.
constexpr int kSampleRuns = 8192;
constexpr int kSampleRun = 16;

template <typename Dec>
std::optional<std::pair<double, double>> sampleRange(const Layout& L, const Dec& dec)
{
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    std::int64_t finite = 0;
    alignas(16) double buf[kBlock];
    const std::int64_t runs = std::min<std::int64_t>(kSampleRuns, L.numel / kSampleRun);
    for (std::int64_t i = 0; i < runs; ++i) {
        const auto at = std::int64_t((double(i) + 0.5) / double(runs) * double(L.numel - kSampleRun));
        forBlocks(L, dec, at, at + kSampleRun, buf, [&](const double* x, int n) {
            for (int j = 0; j < n; ++j)
                if (std::isfinite(x[j])) {
                    lo = std::min(lo, x[j]);
                    hi = std::max(hi, x[j]);
                    ++finite;
                }
        });
    }
    if (runs == 0 || finite < runs * kSampleRun / 2)
        return std::nullopt;
    return std::make_pair(lo, hi);
}

Result<TensorStats> cancelledResult()
{
    return Result<TensorStats>::failure(ErrorKind::Cancelled, QStringLiteral("Statistics cancelled"));
}

// ---------------------------------------------------------------- int64 / uint64 exactly
//
// Their values are kept as keys (intKey) wherever exactness matters: min and max (pass 1),
// the copy the exact quantiles select from, and the integer-aligned histogram, whose bin
// of a value is (key - min key) / width, an integer division (no double edges involved).

/// Calls f(key) for logical elements [begin, end) of an int64/uint64 (T) tensor.
template <typename T, typename F>
void forIntKeys(const Layout& L, std::int64_t begin, std::int64_t end, F&& f)
{
    forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t step) {
        for (std::int64_t i = 0; i < n; ++i)
            f(intKey(load<T>(p + i * step)));
    });
}

/// The key's value as the nearest double not farther from zero, so it stays inside the
/// dtype's range (2^63 - 1 gives 2^63 - 1024, not 2^63).
double keyTowardZero(std::uint64_t key, bool isSigned)
{
    if (isSigned) {
        const auto v = std::int64_t(key ^ (std::uint64_t(1) << 63));
        const double d = double(v);
        if (d >= 0x1p63)
            return std::nextafter(0x1p63, 0.0);
        if ((d > 0 && std::int64_t(d) > v) || (d < 0 && std::int64_t(d) < v))
            return std::nextafter(d, 0.0);
        return d;
    }
    const double d = double(key);
    if (d >= 0x1p64)
        return std::nextafter(0x1p64, 0.0);
    return std::uint64_t(d) > key ? std::nextafter(d, 0.0) : d;
}

/// a + (b - a) * t for keys a <= b, when that is an integer (t is a double, so exactly
/// M * 2^-E): the exact interpolation, else nothing.
std::optional<StatsInteger> integerLerp(std::uint64_t a, std::uint64_t b, double t, bool isSigned)
{
    if (t == 0.0 || a == b)
        return keyInteger(a, isSigned);
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 U128;
    if (!(t > 0.0 && t < 1.0))
        return std::nullopt;
    int ex = 0;
    const double fr = std::frexp(t, &ex);              // t = fr * 2^ex, fr in [0.5, 1), ex <= 0
    const auto M = std::uint64_t(std::ldexp(fr, 53));  // t = M * 2^-(53 - ex), exactly
    const int E = 53 - ex;
    const U128 P = U128(b - a) * M;  // < 2^117
    if (E >= 120 || (P & ((U128(1) << E) - 1)) != 0)
        return std::nullopt;
    return keyInteger(a + std::uint64_t(P >> E), isSigned);  // <= b: no overflow
#else
    return std::nullopt;
#endif
}

/// exactQuantiles() over int64/uint64 keys (reordered in place): the same order
/// statistics and doubles, plus each quantile exactly when it is an integer.
void exactIntegerQuantiles(std::vector<std::uint64_t>& keys, std::int64_t weight, bool isSigned, StatsQuantiles& q)
{
    const auto n = std::int64_t(keys.size());
    const std::vector<std::int64_t> ranks = quantileRankList(n, weight);
    const std::vector<std::uint64_t> picked = selectRanks(keys, ranks);
    auto kth = [&](std::int64_t k) {
        return picked[size_t(std::lower_bound(ranks.begin(), ranks.end(), k) - ranks.begin())];
    };
    for (size_t i = 0; i < q.values.size(); ++i) {
        const QuantileRank r = quantileRank(n, weight, i);
        const std::uint64_t a = kth(r.lo), b = kth(r.hi);
        q.values[i] = lerp(keyInteger(a, isSigned).toDouble(), keyInteger(b, isSigned).toDouble(), r.t);
        q.exact[i] = integerLerp(a, b, r.t, isSigned);
        if (q.exact[i])
            q.values[i] = q.exact[i]->toDouble();
    }
}

/// Integer-aligned histogram of an int64/uint64 tensor over keys [keyLo, keyHi]: the bin
/// width (in integers, `width`) as planHistogram() chooses it for the narrower integer
/// dtypes (in doubles there, exact below 2^53), made to cover every value with at most the
/// allowed bins by integer steps. Edges: half-integers as for the other integer dtypes when
/// doubles hold them exactly, else integerEdges (see StatsHistogram).
StatsHistogram planIntegerHistogram(const TensorStats& s, std::uint64_t keyLo, std::uint64_t keyHi, bool isSigned,
                                    int userBins, std::uint64_t& width)
{
    StatsHistogram h;
    h.automatic = userBins <= 0;
    h.integerAligned = true;
    const double iqr = s.quantiles.p75() - s.quantiles.p25();
    const std::uint64_t span = keyHi - keyLo;  // values spanned, minus one
    const double m = double(span) + 1.0;
    double k;
    if (userBins > 0) {
        k = std::ceil(m / std::min(userBins, kMaxBins));
    } else {
        const double w = 2.0 * iqr / std::cbrt(double(s.finite));
        if (w > 0)
            k = std::max(1.0, std::ceil(w));
        else
            k = std::ceil(m / (std::ceil(std::log2(double(s.finite))) + 1.0));
        k = std::max(k, std::ceil(m / kMaxAutoBins));
    }
    k = std::max(k, 1.0);
    width = k >= 0x1p64 ? std::numeric_limits<std::uint64_t>::max() : std::uint64_t(k);
    const std::uint64_t cap = std::uint64_t(userBins > 0 ? std::min(userBins, kMaxBins) : kMaxAutoBins);
    if (span / width + 1 > cap)  // then span / width < cap (one bin of 2^64 saturates)
        width = span / cap == std::numeric_limits<std::uint64_t>::max() ? span : span / cap + 1;
    // The counting loops clamp (key - keyLo) / width to the last bin, which matters only for
    // that saturated bin.
    const std::uint64_t bins = std::min(span / width + 1, cap);
    h.edges.resize(size_t(bins) + 1);
    const double cmin = s.min;  // the minimum (exact in this branch)
    if (std::fabs(cmin) + double(bins) * double(width) < 0x1p51) {
        for (std::uint64_t i = 0; i <= bins; ++i)
            h.edges[size_t(i)] = (cmin - 0.5 + double(i) * double(width)) * 1.0;
        return h;
    }
    h.integerEdges.resize(size_t(bins) + 1);
    for (std::uint64_t i = 0; i < bins; ++i)  // i * width <= span: no overflow
        h.integerEdges[size_t(i)] = keyInteger(keyLo + i * width, isSigned);
    h.integerEdges[size_t(bins)] = keyInteger(keyHi, isSigned);
    for (std::uint64_t i = 0; i < bins; ++i)
        h.edges[size_t(i)] = keyTowardZero(keyLo + i * width, isSigned);
    h.edges[size_t(bins)] = keyTowardZero(keyHi, isSigned);
    return h;
}

template <typename Dec>
Result<TensorStats> wideStats(const TensorView& v, const Layout& L, const StatsOptions& o, TensorStats s,
                              const Dec& dec)
{
    const std::int64_t chunks = (L.numel + kChunk - 1) / kChunk;
    const int threads = threadCount(o, chunks);
    auto chunkRange = [&](std::int64_t c) {
        return std::pair<std::int64_t, std::int64_t>(c * kChunk, std::min(L.numel, (c + 1) * kChunk));
    };

    // Pass 1: counts and moments, and, for a tensor that may be above the exact limit,
    // coarse cells over the range a sample predicts.
    std::optional<Cells> spec;
    if ((o.quantiles || o.histogram) && L.numel > o.exactQuantileLimit)
        if (const auto range = sampleRange(L, dec))
            spec = speculativeCells(range->first, range->second);
    std::vector<Counters> specCounts(spec ? size_t(threads) : 0, Counters(spec ? size_t(spec->limit) + 1 : 0));
    std::vector<Acc> accs(static_cast<size_t>(chunks));
    Progress p1;
    p1.o = &o;
    p1.total = chunks;
    p1.span = o.histogram ? 0.6 : 0.7;
    if (!parallelFor(chunks, threads, o, p1, [&](int t, std::int64_t c) {
            const auto [b, e] = chunkRange(c);
            if (spec) {
                specCounts[size_t(t)].make_room(e - b);
                pass1Chunk(L, dec, b, e, accs[size_t(c)], &*spec, &specCounts[size_t(t)]);
            } else {
                pass1Chunk(L, dec, b, e, accs[size_t(c)]);
            }
        }))
        return cancelledResult();
    Acc total;
    for (const auto& a : accs)
        merge(total, a);
    finishMoments(s, total);
    constexpr bool wideInt = kWideInt<Dec>;
    constexpr bool isSigned = std::is_same_v<Dec, Plain<std::int64_t>>;
    using IntT = std::conditional_t<isSigned, std::int64_t, std::uint64_t>;
    if (wideInt && total.n > 0) {
        s.minExact = keyInteger(total.keyLo, isSigned);
        s.maxExact = keyInteger(total.keyHi, isSigned);
    }
    // int64/uint64: distinct integers can share a double (beyond 2^53); only keys tell.
    const bool constant = wideInt ? total.keyLo == total.keyHi : s.min == s.max;
    if (!o.quantiles && !o.histogram) {
        s.quantiles.computed = false;
        if (o.progress)
            o.progress(1.0);
        return s;
    }
    if (total.n == 0) {
        if (o.progress)
            o.progress(1.0);
        return s;
    }

    Progress p2;
    p2.o = &o;
    p2.total = chunks;
    p2.base = p1.span;
    p2.span = 1.0 - p1.span;
    if (wideInt && (total.n <= o.exactQuantileLimit || s.min == s.max)) {
        // Pass 2 for int64/uint64: copy the values as keys (a range within one double's
        // ulp goes this way too, whatever its size: doubles cannot tell its values apart).
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
                return cancelledResult();
            exactIntegerQuantiles(keys, s.broadcast, isSigned, s.quantiles);
        }
        if (o.histogram) {
            std::uint64_t width = 1;
            s.histogram = planIntegerHistogram(s, total.keyLo, total.keyHi, isSigned, o.bins, width);
            const size_t bins = s.histogram.edges.size() - 1;
            s.histogram.counts.assign(bins, 0);
            if (constant) {
                s.histogram.counts[0] = total.n;
            } else {
                const std::uint64_t lo = total.keyLo;
                std::vector<std::vector<std::int64_t>> counts(size_t(threads), std::vector<std::int64_t>(bins, 0));
                const std::int64_t per = (total.n + threads - 1) / threads;
                Progress none;
                const StatsOptions quiet;
                none.o = &quiet;
                parallelFor(threads, threads, quiet, none, [&](int, std::int64_t part) {
                    auto& cnt = counts[size_t(part)];
                    const std::int64_t b = part * per, e = std::min(total.n, b + per);
                    for (std::int64_t i = b; i < e; ++i)
                        ++cnt[std::min(size_t((keys[size_t(i)] - lo) / width), bins - 1)];
                });
                for (const auto& cnt : counts)
                    for (size_t i = 0; i < bins; ++i)
                        s.histogram.counts[i] += cnt[i];
            }
        }
        if (o.progress)
            o.progress(1.0);
        return s;
    }
    if (total.n <= o.exactQuantileLimit || s.min == s.max) {
        // Pass 2: copy the finite values (each chunk to its own slot, so C order is kept).
        std::vector<double> vals;
        if (s.min == s.max) {
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
                return cancelledResult();
            // Selection reorders the copy; binning does not care about order.
            s.quantiles.values = exactQuantiles(vals, s.broadcast);
        }
        if (o.histogram) {
            s.histogram = planHistogram(v, s, o.bins, false);
            const Binner bin(s.histogram.edges);
            s.histogram.counts.assign(size_t(bin.bins), 0);
            if (s.min == s.max) {
                s.histogram.counts[size_t(bin.index(s.min))] = total.n;
            } else {
                std::vector<std::vector<std::int64_t>> counts(size_t(threads),
                                                              std::vector<std::int64_t>(size_t(bin.bins)));
                const std::int64_t per = (total.n + threads - 1) / threads;
                Progress none;
                const StatsOptions quiet;
                none.o = &quiet;
                parallelFor(threads, threads, quiet, none, [&](int, std::int64_t part) {
                    auto& cnt = counts[size_t(part)];
                    const std::int64_t b = part * per, e = std::min(total.n, b + per);
                    for (std::int64_t i = b; i < e; ++i)
                        ++cnt[size_t(bin.index(vals[size_t(i)]))];
                });
                for (const auto& cnt : counts)
                    for (int i = 0; i < bin.bins; ++i)
                        s.histogram.counts[size_t(i)] += cnt[size_t(i)];
            }
        }
        if (o.progress)
            o.progress(1.0);
        return s;
    }

    // Above the exact limit: approximate quantiles from power-of-two cells, or, when no
    // cells fit the range (wider than a double, or very narrow for its magnitude), from a
    // 2^16-bin histogram over [min, max] whose bins are found by edge comparisons.
    std::optional<Cells> fine;
    if (std::isfinite(s.max - s.min)) {
        fine = cellsSpanning(widthExponent(s.max - s.min, kFineCells), s.min, s.max);
    }
    std::optional<Cells> coarse;
    std::vector<std::int64_t> counts;  // per coarse cell
    std::vector<std::int64_t> fc;      // the 2^16-bin histogram, without cells
    Progress p2a, p2b;
    p2a.o = p2b.o = &o;
    p2a.total = p2b.total = chunks;
    p2a.base = p2.base;
    p2a.span = p2.span * 0.5;
    p2b.base = p2.base + p2a.span;
    p2b.span = p2.span - p2a.span;
    auto mergeCounts = [](std::vector<Counters>& perThread, std::int32_t n) {
        std::vector<std::int64_t> c(size_t(n), 0);
        for (auto& t : perThread) {
            t.flush();
            for (size_t j = 0; j < c.size(); ++j)
                c[j] += t.total[j];
        }
        return c;
    };
    if (fine) {
        // Coarse cells: pass 1's, when every finite value fell inside them (and they hold
        // whole fine cells); else pass 2 counts cells over [min, max].
        if (spec && spec->e >= fine->e) {
            std::vector<std::int64_t> c = mergeCounts(specCounts, spec->limit + 1);
            if (c.back() == s.nan + s.posInf + s.negInf) {
                c.pop_back();
                coarse = spec;
                counts = std::move(c);
            }
        }
        if (!coarse) {
            coarse = cellsSpanning(fine->e + 6, s.min, s.max);  // 64 fine cells wide
            std::vector<Counters> cc(size_t(threads), Counters(size_t(coarse->limit) + 1));
            if (!parallelFor(chunks, threads, o, p2a, [&](int t, std::int64_t c) {
                    const auto [b, e] = chunkRange(c);
                    Counters& mine = cc[size_t(t)];
                    mine.make_room(e - b);
                    cellsChunk<CellsOut::All>(L, dec, b, e, *coarse, nullptr,
                                              [&](const std::int32_t* r, int n) { mine.add(r, n); });
                }))
                return cancelledResult();
            counts = mergeCounts(cc, coarse->limit);
        }
        // Pass 3: fine cells, only inside the coarse cells the order statistics fall in.
        const Targets target = quantileTargets(s, *coarse, counts, *fine);
        std::vector<std::vector<std::int64_t>> ft(size_t(threads),
                                                  std::vector<std::int64_t>(size_t(fine->limit) + 1, 0));
        if (!parallelFor(chunks, threads, o, p2b, [&](int t, std::int64_t c) {
                const auto [b, e] = chunkRange(c);
                std::int64_t* f = ft[size_t(t)].data();
                cellsChunk<CellsOut::Targets>(L, dec, b, e, *fine, &target, [&](const std::int32_t* r, int n) {
                    for (int i = 0; i < n; ++i)
                        ++f[r[i]];
                });
            }))
            return cancelledResult();
        std::vector<std::int64_t> fineCounts(size_t(fine->limit) + 1, 0);
        for (const auto& t : ft)
            for (size_t r = 0; r < fineCounts.size(); ++r)
                fineCounts[r] += t[r];
        gridQuantiles(s, *coarse, counts, *fine, fineCounts);
    } else {
        const Binner fine(linspaceEdges(s.min, s.max, kFineBins));
        std::vector<Counters> fineCounts(size_t(threads), Counters(kFineBins + 1));
        if (!parallelFor(chunks, threads, o, p2, [&](int t, std::int64_t c) {
                auto& ft = fineCounts[size_t(t)];
                const auto [b, e] = chunkRange(c);
                ft.make_room(e - b);
                std::uint32_t* counts = ft.hot.data();
                forFiniteValues(L, dec, b, e, [&](double x) { ++counts[fine.index(x)]; });
            }))
            return cancelledResult();
        fc.assign(size_t(kFineBins), 0);
        for (auto& t : fineCounts) {
            t.flush();
            for (int i = 0; i < kFineBins; ++i)
                fc[size_t(i)] += t.total[size_t(i)];
        }
        approximateQuantiles(s, fine, fc);
    }

    if (!o.histogram) {
    } else if (wideInt) {
        // int64/uint64 above the exact limit: integer-aligned bins counted from the keys.
        std::uint64_t width = 1;
        s.histogram = planIntegerHistogram(s, total.keyLo, total.keyHi, isSigned, o.bins, width);
        const size_t bins = s.histogram.edges.size() - 1;
        const std::uint64_t lo = total.keyLo;
        std::vector<std::vector<std::int64_t>> counts(size_t(threads), std::vector<std::int64_t>(bins, 0));
        Progress p3;
        p3.o = &o;
        p3.total = chunks;
        p3.base = 1.0;
        p3.span = 0.0;
        if (!parallelFor(chunks, threads, o, p3, [&](int t, std::int64_t c) {
                auto& cnt = counts[size_t(t)];
                const auto [b, e] = chunkRange(c);
                forIntKeys<IntT>(L, b, e, [&](std::uint64_t k) { ++cnt[std::min(size_t((k - lo) / width), bins - 1)]; });
            }))
            return cancelledResult();
        s.histogram.counts.assign(bins, 0);
        for (const auto& t : counts)
            for (size_t i = 0; i < bins; ++i)
                s.histogram.counts[i] += t[i];
    } else if (o.bins <= 0 && !(integerValued(v.dtype) && !v.qChannels) && fine) {
        s.histogram = gridHistogram(s, *coarse, counts);
    } else if (o.bins <= 0 && !(integerValued(v.dtype) && !v.qChannels)) {
        // A power-of-two bin count over [min, max]: its edges are exactly every
        // (2^16 / bins)-th edge of the 2^16-bin histogram, so the counts add up.
        s.histogram = planHistogram(v, s, 0, true);
        const int bins = int(s.histogram.edges.size()) - 1;
        const int shift = 16 - int(std::lround(std::log2(double(bins))));
        s.histogram.counts.assign(size_t(bins), 0);
        for (int i = 0; i < kFineBins; ++i)
            s.histogram.counts[size_t(i >> shift)] += fc[size_t(i)];
    } else {
        // Bins that line up with neither (a given bin count, integer-aligned bins): pass 4.
        s.histogram = planHistogram(v, s, o.bins, false);
        const Binner bin(s.histogram.edges);
        std::vector<std::vector<std::int64_t>> counts(size_t(threads), std::vector<std::int64_t>(size_t(bin.bins)));
        Progress p3;
        p3.o = &o;
        p3.total = chunks;
        p3.base = 1.0;
        p3.span = 0.0;
        if (!parallelFor(chunks, threads, o, p3, [&](int t, std::int64_t c) {
                auto& cnt = counts[size_t(t)];
                const auto [b, e] = chunkRange(c);
                forFiniteValues(L, dec, b, e, [&](double x) { ++cnt[size_t(bin.index(x))]; });
            }))
            return cancelledResult();
        s.histogram.counts.assign(size_t(bin.bins), 0);
        for (const auto& t : counts)
            for (int i = 0; i < bin.bins; ++i)
                s.histogram.counts[size_t(i)] += t[size_t(i)];
    }
    if (o.progress)
        o.progress(1.0);
    return s;
}

}  // namespace

namespace {

Result<TensorStats> computeStatsOfView(const TensorView& v, const StatsOptions& o, std::int64_t weight)
{
    TensorStats s;
    s.broadcast = weight;
    s.dtype = v.dtype;
    s.shape = v.shape;
    s.scalar = v.shape.empty();
    s.values = dtypeIsComplex(v.dtype)     ? StatsValues::Magnitude
               : dtypeIsQuantized(v.dtype) ? StatsValues::Dequantized
                                           : StatsValues::Real;
    const int item = dtypeItemSize(v.dtype);
    if (item == 0 || v.dtype == DType::Unknown)
        return Result<TensorStats>::failure(
            QStringLiteral("no statistics for dtype '%1'").arg(QLatin1String(dtypeName(v.dtype).data())));
    if (v.qChannels) {
        const QuantChannels& qc = *v.qChannels;
        if (v.dtype != DType::QInt8 && v.dtype != DType::QUInt8)
            return Result<TensorStats>::failure(QStringLiteral("no statistics for per-channel quantized %1 (only qint8 and quint8)")
                                                    .arg(QLatin1String(dtypeName(v.dtype).data())));
        if (qc.axis < 0 || size_t(qc.axis) >= v.shape.size() || v.strides.size() != v.shape.size() ||
            std::int64_t(qc.scales.size()) != v.shape[size_t(qc.axis)] || qc.zeroPoints.size() != qc.scales.size())
            return Result<TensorStats>::failure(QStringLiteral("per-channel quantization parameters do not match the shape"));
    }
    if (v.strides.size() != v.shape.size())
        return Result<TensorStats>::failure(
            QStringLiteral("tensor view has %1 strides for %2 dimensions").arg(argText(v.strides.size()), argText(v.shape.size())));
    for (auto d : v.shape)
        if (d < 0)
            return Result<TensorStats>::failure(QStringLiteral("tensor view has a negative size"));
    s.elements = v.numel();
    s.empty = s.elements == 0;
    if (s.empty) {
        if (o.progress)
            o.progress(1.0);
        return s;
    }
    // Views from ModelIndex::view() are checked already; re-check so a hand-made view
    // cannot make us read outside its storage.
    const std::int64_t needed = requiredStorageElements(v.shape, v.strides, v.offset);
    if (needed < 0 || v.storage.data == nullptr || double(needed) * item > double(v.storage.size))
        return Result<TensorStats>::failure(QStringLiteral("tensor view reaches outside its storage"));
    const Layout L = collapse(v);
    if (narrowDType(v.dtype))
        return narrowStats(v, L, o, std::move(s));
    Result<TensorStats> r = Result<TensorStats>::failure(
        QStringLiteral("no statistics for dtype '%1'").arg(QLatin1String(dtypeName(v.dtype).data())));
    withWideDecoder(v, [&](const auto& dec) { r = wideStats(v, L, o, std::move(s), dec); });
    return r;
}

}  // namespace

Result<TensorStats> computeStats(const TensorView& v, const StatsOptions& o)
{
    using R = Result<TensorStats>;
    if (v.strides.size() != v.shape.size())
        return R::failure(QStringLiteral("tensor view has %1 strides for %2 dimensions")
                              .arg(QString::number(v.strides.size()), QString::number(v.shape.size())));
    const std::int64_t numel = v.numel();
    if (numel < 0 || numel > limits::kMaxLogicalElements)
        return R::failure(QStringLiteral("%1 elements are more than ParamScope computes statistics of (2^62)")
                              .arg(QString::fromStdString(exactProductText(v.shape))));
    // Broadcast (stride-0) dimensions repeat the same elements: compute over what is
    // stored, each element weighted by the repetition, instead of walking every logical
    // element (a [2**40] view of one float would take hours). Per-channel quantized views
    // keep their channel axis.
    TensorView distinct = v;
    std::int64_t weight = 1;
    for (size_t d = 0; d < v.shape.size(); ++d) {
        if (v.strides[d] != 0 || v.shape[d] <= 1 || (v.qChannels && int(d) == v.qChannels->axis))
            continue;
        weight *= v.shape[d];  // cannot overflow: the product of all sizes fits
        distinct.shape[d] = 1;
    }
    auto r = computeStatsOfView(weight == 1 ? v : distinct, o, weight);
    // A file truncated while its pages were read gave zeros, not numbers: say so.
    if (Status st = MappedFile::checkAddress(v.storage.data); !st)
        return R::failureFrom(st);
    if (!r || weight == 1)
        return r;
    TensorStats& s = r.value();
    s.shape = v.shape;
    s.elements = numel;
    s.empty = numel == 0;
    s.finite *= weight;
    s.nan *= weight;
    s.posInf *= weight;
    s.negInf *= weight;
    s.zeros *= weight;
    s.l1 *= double(weight);
    s.l2 *= std::sqrt(double(weight));
    for (auto& c : s.histogram.counts)
        c *= weight;
    return r;
}

Result<TensorStats> computeStats(const ModelIndex& index, int entry, const StatsOptions& o)
{
    auto v = index.view(entry);
    if (!v)
        return Result<TensorStats>::failureFrom(v);
    auto r = computeStats(v.value(), o);
    if (!r && entry >= 0 && size_t(entry) < index.entries.size() && !r.cancelled())
        return Result<TensorStats>::failure(QStringLiteral("'%1' in '%2': %3")
                                                .arg(utf8ToQString(index.entries[size_t(entry)].name),
                                                     QFileInfo(index.filePath).fileName(), r.error()));
    return r;
}

}  // namespace paramscope
