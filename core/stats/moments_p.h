#pragma once
// Internal to core/stats. Finite-value moments and counts of a block or a chunk (Acc),
// combined with Chan et al.'s pairwise update, and how they become a TensorStats.

#include "stats/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace paramscope::stats_internal {

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

inline void merge(Acc& a, const Acc& b)
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

inline void finishMoments(TensorStats& s, const Acc& a)
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

}  // namespace paramscope::stats_internal
