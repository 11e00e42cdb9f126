#pragma once
// Internal to core/stats. The work pool: units of work (chunks of a Layout's index space,
// or channels) taken from a shared counter by a few threads, the caller being one of
// them; cancellation checked between units; progress reported at most once per percent.

#include "stats/stats.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace paramscope::stats_internal {

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

inline bool isCancelled(const StatsOptions& o)
{
    return paramscope::isCancelled(o.cancel);
}

inline int threadCount(const StatsOptions& o, std::int64_t units)
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

inline Result<TensorStats> cancelledResult()
{
    return Result<TensorStats>::failure(ErrorKind::Cancelled, QStringLiteral("Statistics cancelled"));
}

}  // namespace paramscope::stats_internal
