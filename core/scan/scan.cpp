// The whole-model scan's driver: plans the work (each tensor whole, or in slices when it is
// large and contiguous), orders it as the bytes lie in the files, runs it on a few threads
// with computeStats' fused pass, merges the slices of a tensor, checks 2-D and wider
// tensors for all-zero rows and columns, lets go of scanned pages and hands finished
// tensors back in batches.

#include "scan/scan.h"

#include "base/batchhandoff.h"
#include "scan/scan_p.h"

#include "base/mappedfile.h"
#include "base/textutil.h"
#include "model/modelindex.h"

#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

namespace paramscope {

namespace {

bool integerLess(const StatsInteger& a, const StatsInteger& b)
{
    if (a.negative != b.negative)
        return a.negative;
    return a.negative ? a.magnitude > b.magnitude : a.magnitude < b.magnitude;
}

QString shortest(double v)
{
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

}  // namespace

bool TensorScan::constant() const
{
    if (minExact && maxExact)
        return finite > 0 && *minExact == *maxExact;
    return finite > 0 && min == max;
}

QString TensorScan::minText() const
{
    return minExact ? minExact->toString() : shortest(min);
}

QString TensorScan::maxText() const
{
    return maxExact ? maxExact->toString() : shortest(max);
}

TensorScan TensorScan::fromStats(const TensorStats& s)
{
    TensorScan t;
    t.state = State::Done;
    t.values = s.values;
    t.elements = s.elements;
    t.finite = s.finite;
    t.nan = s.nan;
    t.posInf = s.posInf;
    t.negInf = s.negInf;
    t.zeros = s.zeros;
    t.min = s.min;
    t.max = s.max;
    t.mean = s.mean;
    t.std = s.std;
    t.maxAbs = s.maxAbs;
    t.l1 = s.l1;
    t.l2 = s.l2;
    t.minExact = s.minExact;
    t.maxExact = s.maxExact;
    return t;
}

TensorScan mergeScans(const std::vector<TensorScan>& parts)
{
    TensorScan m;
    if (parts.empty())
        return m;
    m.state = TensorScan::State::Done;
    m.values = parts.front().values;
    double sum = 0, l2sq = 0;
    bool first = true;
    for (const TensorScan& p : parts) {
        m.elements += p.elements;
        m.nan += p.nan;
        m.posInf += p.posInf;
        m.negInf += p.negInf;
        m.zeros += p.zeros;
        m.l1 += p.l1;
        l2sq += p.l2 * p.l2;
        if (p.finite == 0)
            continue;
        m.finite += p.finite;
        sum += p.mean * double(p.finite);
        m.maxAbs = std::max(m.maxAbs, p.maxAbs);
        if (first || p.min < m.min)
            m.min = p.min;
        if (first || p.max > m.max)
            m.max = p.max;
        if (p.minExact && (first || !m.minExact || integerLess(*p.minExact, *m.minExact)))
            m.minExact = p.minExact;
        if (p.maxExact && (first || !m.maxExact || integerLess(*m.maxExact, *p.maxExact)))
            m.maxExact = p.maxExact;
        first = false;
    }
    m.l2 = std::sqrt(l2sq);
    if (m.finite > 0) {
        m.mean = sum / double(m.finite);
        // Chan et al.: the parts' squared deviations about their own means, plus each part's
        // offset from the overall mean.
        double m2 = 0;
        for (const TensorScan& p : parts) {
            if (p.finite == 0)
                continue;
            const double d = p.mean - m.mean;
            m2 += p.std * p.std * double(p.finite) + d * d * double(p.finite);
        }
        m.std = std::sqrt(std::max(0.0, m2 / double(m.finite)));
    }
    return m;
}

namespace {

/// A tensor in flight: its parts' figures until the last one finishes.
struct EntryWork {
    std::mutex mutex;
    std::vector<TensorScan> parts;
    scan_internal::ZeroLines lines;
    int remaining = 0;
    QString error;
};

class Scanner {
public:
    Scanner(const ModelIndex& index, const ScanOptions& o) : m_index(index), m_o(o) {}

    ScanResult run()
    {
        ScanResult result;
        result.tensors.assign(m_index.entries.size(), TensorScan{});
        m_result = &result;
        m_plan = scan_internal::planScan(m_index, m_o.sliceBytes);
        m_work.resize(m_index.entries.size());
        for (const auto& item : m_plan.items) {
            auto& w = m_work[size_t(item.entry)];
            if (!w) {
                w = std::make_unique<EntryWork>();
                w->parts.resize(size_t(item.parts));
                w->remaining = item.parts;
            }
        }
        m_progress.tensorsTotal = int(m_plan.tensors);
        m_progress.bytesTotal = m_plan.bytes;

        const int threads = m_o.threads > 0 ? m_o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
        m_threads = threads;
        std::vector<std::thread> pool;
        for (int t = 1; t < threads && size_t(t) < m_plan.items.size(); ++t)
            pool.emplace_back([this] { loop(); });
        loop();
        for (auto& t : pool)
            t.join();

        result.cancelled = isCancelled(m_o.cancel) && m_tensorsDone.load() < int(m_plan.tensors);
        m_batches.flush(true, [this] { return currentProgress(); });
        std::sort(result.errors.begin(), result.errors.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        result.progress = currentProgress();
        return result;
    }

private:
    ScanProgress currentProgress() const
    {
        ScanProgress p = m_progress;
        p.tensorsDone = m_tensorsDone.load();
        p.bytesDone = m_bytesDone.load();
        return p;
    }

    void loop()
    {
        PageReleaser releaser(m_o.releasePages);
        for (;;) {
            if (isCancelled(m_o.cancel))
                return;
            const size_t i = m_next.fetch_add(1, std::memory_order_relaxed);
            if (i >= m_plan.items.size())
                return;
            prefetch(i + size_t(std::max(1, m_threads)));
            runItem(m_plan.items[i], releaser);
        }
    }

    /// Asks the kernel to start reading item `i` from disk (a cold file): by the time a
    /// thread takes it, its pages are on their way. Small items are left to readahead.
    void prefetch(size_t i)
    {
        if (!m_o.releasePages || i >= m_plan.items.size() || m_plan.items[i].bytes < (std::uint64_t(1) << 20))
            return;
        scan_internal::prefetchItem(m_index, m_plan.items[i]);
    }

    void runItem(const scan_internal::ScanItem& item, PageReleaser& releaser)
    {
        EntryWork& w = *m_work[size_t(item.entry)];
        TensorScan part;
        scan_internal::ZeroLines lines;
        QString error;
        scan_internal::Extent read;
        const bool finished = scan_internal::scanItem(m_index, item, m_o, part, lines, error, read);
        releaser.add(read.data, read.length);
        if (!finished && isCancelled(m_o.cancel))
            return;  // unfinished: the tensor stays Pending
        m_bytesDone.fetch_add(item.bytes, std::memory_order_relaxed);

        bool last = false;
        {
            std::lock_guard<std::mutex> lock(w.mutex);
            if (!error.isEmpty() && w.error.isEmpty())
                w.error = error;
            w.parts[size_t(item.part)] = std::move(part);
            w.lines.merge(lines);
            last = --w.remaining == 0;
        }
        if (last)
            finishEntry(item.entry, w);
    }

    void finishEntry(int entry, EntryWork& w)
    {
        TensorScan t;
        if (w.error.isEmpty()) {
            t = w.parts.size() == 1 ? std::move(w.parts.front()) : mergeScans(w.parts);
            w.lines.finish(t);
        } else {
            t.state = TensorScan::State::Failed;
        }
        w.parts = {};
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_result->tensors[size_t(entry)] = t;
            if (!w.error.isEmpty())
                m_result->errors.emplace_back(entry, w.error);
        }
        m_batches.add(entry, std::move(t));
        m_tensorsDone.fetch_add(1, std::memory_order_relaxed);
        m_batches.flush(false, [this] { return currentProgress(); });
    }

    const ModelIndex& m_index;
    const ScanOptions& m_o;
    ScanResult* m_result = nullptr;
    scan_internal::ScanPlan m_plan;
    std::vector<std::unique_ptr<EntryWork>> m_work;
    ScanProgress m_progress;
    std::atomic<size_t> m_next{0};
    int m_threads = 1;
    std::atomic<int> m_tensorsDone{0};
    std::atomic<std::uint64_t> m_bytesDone{0};
    std::mutex m_mutex;  // m_result's tensors and errors
    BatchHandoff<TensorScan, ScanProgress> m_batches{m_o.onBatch, m_o.batchIntervalMs};
};

}  // namespace

ScanResult scanModel(const ModelIndex& index, const ScanOptions& options)
{
    Scanner s(index, options);
    return s.run();
}

}  // namespace paramscope
