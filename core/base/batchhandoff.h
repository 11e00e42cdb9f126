#pragma once

// Results that worker threads finish one by one (a scan's tensors, a diff's pairs), handed
// on to a callback in batches: at most about every `intervalMs`, once more at the end, and
// never from two threads at once (a thread that finds the callback busy leaves its results
// for the next hand-on instead of waiting).

#include <chrono>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace paramscope {

template <typename T, typename Progress>
class BatchHandoff {
public:
    using Batch = std::vector<std::pair<int, T>>;
    using Callback = std::function<void(Batch&&, const Progress&)>;

    BatchHandoff(Callback callback, int intervalMs)
        : m_callback(std::move(callback)), m_interval(intervalMs), m_last(Clock::now())
    {
    }

    /// One finished result (any thread).
    void add(int key, T value)
    {
        if (!m_callback)
            return;
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending.emplace_back(key, std::move(value));
    }

    /// Hands the results gathered so far on when the interval has passed (or `final`: always,
    /// even none); `progress()` gives the figures to hand on with them.
    template <typename ProgressFn>
    void flush(bool final, ProgressFn&& progress)
    {
        if (!m_callback)
            return;
        std::unique_lock<std::mutex> callback(m_callbackMutex, std::defer_lock);
        if (final)
            callback.lock();
        else if (!callback.try_lock())
            return;  // another thread is handing a batch on; it takes these next time
        Batch batch;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            const auto now = Clock::now();
            if (!final && (m_pending.empty() || now - m_last < m_interval))
                return;
            m_last = now;
            batch.swap(m_pending);
        }
        m_callback(std::move(batch), progress());
    }

private:
    using Clock = std::chrono::steady_clock;
    Callback m_callback;
    std::chrono::milliseconds m_interval;
    std::mutex m_mutex;  // m_pending, m_last
    std::mutex m_callbackMutex;
    Batch m_pending;
    Clock::time_point m_last;
};

}  // namespace paramscope
