#pragma once
// Internal to core/stats. How a tensor's elements are reached: the view collapsed to the
// fewest dimensions, in logical or in storage order (Layout), the runs of elements a
// Layout is walked in (forRuns, an odometer over the outer dimensions and a strided inner
// run), the decoders that turn one stored element of a wide dtype into a double, and
// forBlocks, which decodes runs into small double blocks that stay in L1.

#include "model/modelindex.h"
#include "stats/stats.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace paramscope::stats_internal {

constexpr std::int64_t kChunk = std::int64_t(1) << 16;  // elements per unit of work
constexpr int kBlock = 2048;                            // doubles decoded at once (16 KiB)

// ---------------------------------------------------------------- layout and iteration

/// The view with size-1 dimensions dropped and mergeable neighbours fused, so a
/// contiguous tensor is one run however many dimensions it has.
struct Layout {
    const std::uint8_t* base = nullptr;
    int item = 0;
    std::vector<std::int64_t> shape, strides;  // rank >= 1
    std::int64_t numel = 0;
};

/// Size-1 dimensions dropped and mergeable neighbours fused, in the order given by
/// `order` (indices of the view's dimensions, outermost first).
inline Layout collapseIn(const TensorView& v, const std::vector<size_t>& order)
{
    Layout L;
    L.item = dtypeItemSize(v.dtype);
    L.numel = v.numel();
    L.base = L.numel > 0 ? v.base() : nullptr;
    for (size_t d : order) {
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

/// The view in its logical (C) order, collapsed: a contiguous tensor is one run however
/// many dimensions it has.
inline Layout collapse(const TensorView& v)
{
    std::vector<size_t> order(v.shape.size());
    for (size_t d = 0; d < order.size(); ++d)
        order[d] = d;
    return collapseIn(v, order);
}

/// The same elements in storage order: the dimensions sorted by stride, largest first
/// (stable, so a view already in that order keeps its logical order), then collapsed. A
/// transposed or permuted view of a contiguous tensor becomes one contiguous run, and any
/// other view walks its storage forward with the smallest stride innermost, so every cache
/// line and page it loads is used up before the walk moves on (in logical order a
/// transposed 10000x10000 float32 view touches a new page per element: 14-20x a memcpy).
/// Every statistic but the sums is independent of the order the elements come in, and
/// the sums keep their accuracy class (blocks in lanes, Chan's merge), only their rounding.
/// The passes of one computation must all walk the same layout (pass 2 puts the values
/// of chunk c where pass 1's counts of chunk c say).
inline Layout collapseInStorageOrder(const TensorView& v)
{
    std::vector<size_t> order(v.shape.size());
    for (size_t d = 0; d < order.size(); ++d)
        order[d] = d;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v.strides[a] > v.strides[b]; });
    return collapseIn(v, order);
}

/// Calls f(first byte, count, stride in bytes) for the runs of elements [begin, end) of L
/// (in L's order: C order over L.shape).
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

/// True when L is one run of adjacent elements.
inline bool isContiguousRun(const Layout& L)
{
    return L.shape.size() == 1 && L.strides[0] == 1;
}

// Four-wide float vectors (SSE2 on x86-64, NEON on arm64): strided gathers and the
// widening of floats to doubles.
typedef float F4 __attribute__((vector_size(16)));
typedef std::int32_t I4 __attribute__((vector_size(16)));

/// Bytes ahead of a strided walk that gather() asks the cache for: a strided view spreads
/// its elements over more cache lines than it uses whole, and without it the gather
/// waits on each line (perf: most of x[:, ::2]'s pass-1 samples on the gather's loads).
constexpr std::int64_t kGatherPrefetch = 4096;

/// Copies n 4-byte elements `stepBytes` apart from p to out, adjacent.
inline void gather4(const std::uint8_t* p, std::int64_t n, std::int64_t stepBytes, std::uint8_t* out)
{
    std::int64_t i = 0;
    if (stepBytes == 8) {
        // Every other float: two vectors of four, their even lanes. The last vector read
        // ends at the last element (i + 4 < n), never past it.
        for (; i + 4 < n; i += 4) {
            if ((i & 7) == 0)
                __builtin_prefetch(p + i * 8 + kGatherPrefetch);
            F4 a, b;
            std::memcpy(&a, p + i * 8, 16);
            std::memcpy(&b, p + i * 8 + 16, 16);
#if defined(__clang__)
            const F4 even = __builtin_shufflevector(a, b, 0, 2, 4, 6);
#else
            const F4 even = __builtin_shuffle(a, b, I4{0, 2, 4, 6});
#endif
            std::memcpy(out + i * 4, &even, 16);
        }
    } else if (stepBytes < 64) {
        for (; i < n; ++i) {
            if ((i & 7) == 0)
                __builtin_prefetch(p + i * stepBytes + kGatherPrefetch);
            std::memcpy(out + i * 4, p + i * stepBytes, 4);
        }
    } else {
        // A cache line per element: ask for the one 16 elements ahead.
        for (; i < n; ++i) {
            __builtin_prefetch(p + (i + 16) * stepBytes);
            std::memcpy(out + i * 4, p + i * stepBytes, 4);
        }
    }
    for (; i < n; ++i)
        std::memcpy(out + i * 4, p + i * stepBytes, 4);
}

/// The bytes a gather read: from its first run's first byte to its last run's end (a
/// walk in storage order goes forward, so the next tile most likely starts at `end`).
struct GatherSpan {
    const std::uint8_t* begin = nullptr;
    const std::uint8_t* end = nullptr;
};

/// Copies elements [begin, end) of L into `out`, adjacent (the tiles a strided float32
/// view is gathered into, so the contiguous float loops can run on them).
inline GatherSpan gather(const Layout& L, std::int64_t begin, std::int64_t end, std::uint8_t* out)
{
    const auto item = std::int64_t(L.item);
    GatherSpan span;
    forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t stepBytes) {
        if (!span.begin)
            span.begin = p;
        span.end = p + (n - 1) * stepBytes + item;
        if (stepBytes == item) {
            std::memcpy(out, p, size_t(n * item));
        } else if (item == 4) {
            gather4(p, n, stepBytes, out);
        } else {
            for (std::int64_t i = 0; i < n; ++i)
                std::memcpy(out + i * item, p + i * stepBytes, size_t(item));
        }
        out += n * item;
    });
    return span;
}

/// Asks the cache for part `part` of `parts` of the `bytes` after `from` (a line at a time):
/// the next tile's bytes, spread over the work on this one, so that its gather finds them
/// there instead of waiting on memory with nothing else to do. A prefetch never faults.
inline void prefetchPart(const std::uint8_t* from, std::int64_t bytes, int part, int parts)
{
    const std::int64_t lo = bytes * part / parts, hi = bytes * (part + 1) / parts;
    for (std::int64_t at = lo; at < hi; at += 64)
        __builtin_prefetch(from + at);
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
inline StatsInteger keyInteger(std::uint64_t key, bool isSigned)
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
// Two-wide double vectors (GCC/Clang vector extensions: plain SSE2 on x86-64, NEON on
// arm64). The moments kernels keep their lanes in them; forBlocks widens floats with them.
typedef double V2 __attribute__((vector_size(16)));
typedef std::int64_t V2i __attribute__((vector_size(16)));

/// Decodes elements [begin, end) of L into double blocks of up to kBlock values and
/// calls f(block, count) for each; `buf` is the caller's kBlock-sized scratch.
template <typename Dec, typename F>
void forBlocks(const Layout& L, const Dec& dec, std::int64_t begin, std::int64_t end, double* buf, F&& f)
{
    int fill = 0;
    alignas(16) float tile[std::is_same_v<Dec, Plain<float>> ? kBlock : 1];  // a strided run of floats
    (void)tile;
    forRuns(L, begin, end, [&](const std::uint8_t* p, std::int64_t n, std::int64_t stepBytes) {
        std::int64_t i = 0;
        while (i < n) {
            const int take = int(std::min<std::int64_t>(n - i, kBlock - fill));
            const std::uint8_t* q = p + i * stepBytes;
            if constexpr (std::is_same_v<Dec, Plain<float>>) {
                {
                    // Four floats widened at a time (one vcvtps2pd with AVX2, two cvtps2pd
                    // without); a strided run is gathered into `tile` first.
                    const std::uint8_t* src = q;
                    if (stepBytes != 4) {
                        gather4(q, take, stepBytes, reinterpret_cast<std::uint8_t*>(tile));
                        src = reinterpret_cast<const std::uint8_t*>(tile);
                    }
                    typedef double V4d __attribute__((vector_size(32)));
                    int j = 0;
                    for (; j + 4 <= take; j += 4) {
                        F4 w;
                        std::memcpy(&w, src + std::int64_t(j) * 4, sizeof w);
                        const V4d d = __builtin_convertvector(w, V4d);
                        std::memcpy(buf + fill + j, &d, sizeof d);
                    }
                    for (; j < take; ++j)
                        buf[fill + j] = dec(src + std::int64_t(j) * 4);
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

}  // namespace paramscope::stats_internal
