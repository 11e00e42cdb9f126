// diffModels: the plan (pairs to compare, large ones in slices, in A's file order), the
// fused two-input pass (ValueDecoder blocks of both tensors, every figure of PairDiff in
// one loop, the raw bytes compared alongside), and the workers that run it.
#include "diff/diff.h"

#include "base/batchhandoff.h"
#include "base/mappedfile.h"
#include "base/pagereleaser.h"
#include "base/textutil.h"
#include "model/modelindex.h"
#include "stats/decode.h"

#include <QFileInfo>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

namespace paramscope {

namespace {

struct StatusName {
    DiffStatus status;
    const char* id;
    const char* title;
};

constexpr StatusName kStatusNames[] = {
    {DiffStatus::Identical, "identical", "Identical"},
    {DiffStatus::Close, "close", "Within tolerance"},
    {DiffStatus::Changed, "changed", "Changed"},
    {DiffStatus::DTypeChanged, "dtype-changed", "Dtype changed"},
    {DiffStatus::ShapeChanged, "shape-changed", "Shape changed"},
    {DiffStatus::OnlyA, "only-a", "Only in A"},
    {DiffStatus::OnlyB, "only-b", "Only in B"},
    {DiffStatus::Failed, "error", "Could not be read"},
    {DiffStatus::Pending, "pending", "Not compared"},
};

}  // namespace

QString diffStatusId(DiffStatus s)
{
    for (const auto& n : kStatusNames)
        if (n.status == s)
            return QLatin1String(n.id);
    return {};
}

std::optional<DiffStatus> diffStatusFromId(const QString& id)
{
    for (const auto& n : kStatusNames)
        if (id == QLatin1String(n.id))
            return n.status;
    return std::nullopt;
}

QString diffStatusTitle(DiffStatus s)
{
    for (const auto& n : kStatusNames)
        if (n.status == s)
            return QLatin1String(n.title);
    return {};
}

double PairDiff::meanAbsDiff() const
{
    return bothFinite ? sumAbsDiff / double(bothFinite) : 0.0;
}

double PairDiff::relL2() const
{
    const double na = std::sqrt(sumSqA), nd = std::sqrt(sumSqDiff);
    if (na > 0)
        return nd / na;
    return nd > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

double PairDiff::cosine() const
{
    const double d = std::sqrt(sumSqA) * std::sqrt(sumSqB);
    return d > 0 ? std::clamp(dot / d, -1.0, 1.0) : std::numeric_limits<double>::quiet_NaN();
}

double PairDiff::changedFraction() const
{
    return elements ? double(changed) / double(elements) : 0.0;
}

void mergePairDiff(PairDiff& into, const PairDiff& p)
{
    into.elements += p.elements;
    into.bothFinite += p.bothFinite;
    into.changed += p.changed;
    into.maxAbsDiff = std::max(into.maxAbsDiff, p.maxAbsDiff);
    into.sumAbsDiff += p.sumAbsDiff;
    into.sumSqDiff += p.sumSqDiff;
    into.sumSqA += p.sumSqA;
    into.sumSqB += p.sumSqB;
    into.dot += p.dot;
    into.nanA += p.nanA;
    into.nanB += p.nanB;
    into.infA += p.infA;
    into.infB += p.infB;
    into.nanAppeared += p.nanAppeared;
    into.infAppeared += p.infAppeared;
    into.sameBytes = into.sameBytes && p.sameBytes;
    if (into.error.isEmpty())
        into.error = p.error;
}

std::array<int, kDiffStatuses> DiffResult::counts() const
{
    std::array<int, kDiffStatuses> c{};
    for (const PairDiff& p : pairs)
        ++c[size_t(p.status)];
    return c;
}

bool DiffResult::same() const
{
    return !cancelled && std::all_of(pairs.begin(), pairs.end(), [](const PairDiff& p) {
        return p.status == DiffStatus::Identical || p.status == DiffStatus::Close;
    });
}

namespace {

constexpr int kBlock = 2048;

/// One unit of work: elements [first, first + count) of pair `pair`.
struct Item {
    int pair = -1;
    int part = 0, parts = 1;
    std::int64_t first = 0, count = 0;
    std::uint64_t bytes = 0;  // of both sides, for progress
    std::uint64_t order = 0;  // A's read order, then the element offset
    std::int64_t offset = 0;
};

/// The bytes of elements [first, first + count) when the view is contiguous, else of the
/// whole view (released with its last slice).
std::pair<const std::uint8_t*, std::uint64_t> sliceExtent(const TensorView& v, std::int64_t first, std::int64_t count)
{
    const auto item = std::int64_t(dtypeItemSize(v.dtype));
    if (v.numel() <= 0 || !v.storage.data)
        return {nullptr, 0};
    if (v.isContiguous())
        return {v.base() + first * item, std::uint64_t(count * item)};
    return {nullptr, 0};
}

/// The fused two-input pass over elements [first, first + count) of a and b (same numel).
void comparePass(const TensorView& va, const TensorView& vb, const ValueDecoder& da, const ValueDecoder& db,
                 std::int64_t first, std::int64_t count, double atol, double rtol, bool sameDType, PairDiff& out,
                 const CancelToken& cancel)
{
    alignas(64) double xa[kBlock];
    alignas(64) double xb[kBlock];
    out.elements = count;
    // The same bytes? (Only meaningful with the same dtype; contiguous runs by memcmp,
    // strided ones element by element as copied out.)
    const int item = dtypeItemSize(va.dtype);
    const bool bothContiguous = va.isContiguous() && vb.isContiguous();
    out.sameBytes = sameDType;
    std::vector<std::uint8_t> ra, rb;
    for (std::int64_t done = 0; done < count; done += kBlock) {
        if ((done & ((std::int64_t(kBlock) << 6) - 1)) == 0 && isCancelled(cancel))
            return;
        const std::int64_t n = std::min<std::int64_t>(kBlock, count - done);
        const std::int64_t at = first + done;
        if (out.sameBytes) {
            if (bothContiguous) {
                out.sameBytes = std::memcmp(va.base() + at * item, vb.base() + at * item, size_t(n * item)) == 0;
            } else {
                ra.resize(size_t(n * item));
                rb.resize(size_t(n * item));
                va.copyRange(at, n, ra.data());
                vb.copyRange(at, n, rb.data());
                out.sameBytes = std::memcmp(ra.data(), rb.data(), size_t(n * item)) == 0;
            }
        }
        da.decode(at, at + n, xa);
        db.decode(at, at + n, xb);
        // Block sums, added to the totals once per block (keeps the rounding of long sums small).
        double sAbs = 0, sSq = 0, sA = 0, sB = 0, sDot = 0, mx = out.maxAbsDiff;
        std::int64_t both = 0, changed = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const double x = xa[i], y = xb[i];
            const bool fx = std::isfinite(x), fy = std::isfinite(y);
            if (fx && fy) {
                const double d = y - x, ad = std::abs(d);
                mx = ad > mx ? ad : mx;
                sAbs += ad;
                sSq += d * d;
                sA += x * x;
                sB += y * y;
                sDot += x * y;
                ++both;
                changed += ad > atol + rtol * std::abs(x) ? 1 : 0;
                continue;
            }
            const bool nx = std::isnan(x), ny = std::isnan(y);
            out.nanA += nx;
            out.nanB += ny;
            out.infA += !fx && !nx;
            out.infB += !fy && !ny;
            if (fx) {
                out.nanAppeared += ny;
                out.infAppeared += !ny;
            }
            changed += (nx && ny) || x == y ? 0 : 1;
        }
        out.maxAbsDiff = mx;
        out.sumAbsDiff += sAbs;
        out.sumSqDiff += sSq;
        out.sumSqA += sA;
        out.sumSqB += sB;
        out.dot += sDot;
        out.bothFinite += both;
        out.changed += changed;
    }
}

/// A pair in flight: its slices' figures until the last one is done.
struct PairWork {
    std::mutex mutex;
    PairDiff total;
    int remaining = 0;
};

class Differ {
public:
    Differ(const ModelIndex& a, const ModelIndex& b, const Alignment& al, const DiffOptions& o)
        : m_a(a), m_b(b), m_al(al), m_o(o)
    {
    }

    DiffResult run()
    {
        DiffResult result;
        result.alignment = m_al;
        result.atol = m_o.atol;
        result.rtol = m_o.rtol;
        result.pairs.assign(m_al.pairs.size(), PairDiff{});
        m_result = &result;
        plan();
        m_work.resize(m_al.pairs.size());
        for (const Item& it : m_items) {
            auto& w = m_work[size_t(it.pair)];
            if (!w) {
                w = std::make_unique<PairWork>();
                w->remaining = it.parts;
            }
        }
        const int threads = m_o.threads > 0 ? m_o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
        std::vector<std::thread> pool;
        for (int t = 1; t < threads && size_t(t) < m_items.size(); ++t)
            pool.emplace_back([this] { loop(); });
        loop();
        for (auto& t : pool)
            t.join();
        result.cancelled = isCancelled(m_o.cancel) && m_pairsDone.load() < m_progress.pairsTotal;
        m_batches.flush(true, [this] { return currentProgress(); });
        result.progress = currentProgress();
        return result;
    }

private:
    /// Classifies what needs no reading and plans the rest.
    void plan()
    {
        for (size_t i = 0; i < m_al.pairs.size(); ++i) {
            const Alignment::Pair& p = m_al.pairs[i];
            PairDiff& r = m_result->pairs[i];
            if (p.a < 0 || p.b < 0) {
                r.status = p.a < 0 ? DiffStatus::OnlyB : DiffStatus::OnlyA;
                r.sameBytes = false;
                m_batches.add(int(i), r);
                continue;
            }
            const TensorEntry& ea = m_a.entries[size_t(p.a)];
            const TensorEntry& eb = m_b.entries[size_t(p.b)];
            if (ea.shape != eb.shape) {
                r.status = DiffStatus::ShapeChanged;
                r.sameBytes = false;
                m_batches.add(int(i), r);
                continue;
            }
            if (ea.sizeOverflow || eb.sizeOverflow) {
                r.status = DiffStatus::Failed;
                r.sameBytes = false;
                r.error =
                    QStringLiteral("'%1' has more elements than 64 bits count: not compared").arg(utf8ToQString(p.key));
                m_batches.add(int(i), r);
                continue;
            }
            const std::int64_t numel = ea.numel;
            const int wide = std::max(dtypeItemSize(ea.dtype), dtypeItemSize(eb.dtype));
            const std::uint64_t bytes = std::uint64_t(ea.bytes) + std::uint64_t(eb.bytes);
            const std::uint64_t order =
                m_a.provider && ea.storage >= 0 ? m_a.provider->readOrder(ea.storage) : std::uint64_t(p.a);
            const std::int64_t sliceElems =
                std::max<std::int64_t>(kBlock, std::int64_t(m_o.sliceBytes / std::uint64_t(std::max(1, wide))));
            const int parts = numel > sliceElems + sliceElems / 2
                                  ? int(std::min<std::int64_t>((numel + sliceElems - 1) / sliceElems, 1 << 20))
                                  : 1;
            const std::int64_t per = parts > 1 ? (numel + parts - 1) / parts : numel;
            for (int k = 0; k < parts; ++k) {
                Item it;
                it.pair = int(i);
                it.part = k;
                it.parts = parts;
                it.first = std::int64_t(k) * per;
                it.count = std::min(per, numel - it.first);
                it.bytes =
                    parts > 1
                        ? std::uint64_t(double(bytes) * double(it.count) / double(std::max<std::int64_t>(1, numel)))
                        : bytes;
                it.order = order;
                it.offset = ea.storageOffset + it.first;
                m_items.push_back(it);
            }
            m_progress.bytesTotal += bytes;
            ++m_progress.pairsTotal;
        }
        std::stable_sort(m_items.begin(), m_items.end(), [](const Item& x, const Item& y) {
            return x.order != y.order ? x.order < y.order : x.offset < y.offset;
        });
    }

    DiffProgress currentProgress() const
    {
        DiffProgress p = m_progress;
        p.pairsDone = m_pairsDone.load();
        p.bytesDone = m_bytesDone.load();
        return p;
    }

    void loop()
    {
        PageReleaser releaseA(m_o.releasePages), releaseB(m_o.releasePages);
        for (;;) {
            if (isCancelled(m_o.cancel))
                return;
            const size_t i = m_next.fetch_add(1, std::memory_order_relaxed);
            if (i >= m_items.size())
                return;
            runItem(m_items[i], releaseA, releaseB);
        }
    }

    void runItem(const Item& item, PageReleaser& releaseA, PageReleaser& releaseB)
    {
        const Alignment::Pair& p = m_al.pairs[size_t(item.pair)];
        PairDiff part;
        part.status = m_a.entries[size_t(p.a)].dtype == m_b.entries[size_t(p.b)].dtype ? DiffStatus::Changed
                                                                                       : DiffStatus::DTypeChanged;
        auto va = m_a.view(p.a);
        auto vb = va ? m_b.view(p.b) : Result<TensorView>::failure(QString());
        std::pair<const std::uint8_t*, std::uint64_t> extentA{}, extentB{};
        if (!va || !vb) {
            part.error = !va ? va.error() : vb.error();
            part.status = DiffStatus::Failed;
        } else {
            const ValueDecoder da(va.value()), db(vb.value());
            if (!da.ok() || !db.ok()) {
                part.status = DiffStatus::Failed;
                const TensorEntry& e = m_a.entries[size_t(p.a)];
                part.error =
                    QStringLiteral("'%1': no values to compare for dtype %2")
                        .arg(utf8ToQString(p.key),
                             QLatin1String(dtypeName(da.ok() ? m_b.entries[size_t(p.b)].dtype : e.dtype).data()));
            } else {
                comparePass(va.value(), vb.value(), da, db, item.first, item.count, m_o.atol, m_o.rtol,
                            part.status == DiffStatus::Changed, part, m_o.cancel);
                if (isCancelled(m_o.cancel))
                    return;  // unfinished: the pair stays Pending
                extentA = sliceExtent(va.value(), item.first, item.count);
                extentB = sliceExtent(vb.value(), item.first, item.count);
            }
        }
        releaseA.add(extentA.first, extentA.second);
        releaseB.add(extentB.first, extentB.second);
        m_bytesDone.fetch_add(item.bytes, std::memory_order_relaxed);

        PairWork& w = *m_work[size_t(item.pair)];
        bool last = false;
        {
            std::lock_guard<std::mutex> lock(w.mutex);
            if (part.status == DiffStatus::Failed || w.total.status == DiffStatus::Failed) {
                if (w.total.status != DiffStatus::Failed)
                    w.total.error = part.error;
                w.total.status = DiffStatus::Failed;
            } else {
                const DiffStatus kind = part.status;
                mergePairDiff(w.total, part);
                w.total.status = kind;
            }
            last = --w.remaining == 0;
        }
        if (last)
            finishPair(item.pair, w);
    }

    void finishPair(int pair, PairWork& w)
    {
        PairDiff r = std::move(w.total);
        if (r.status == DiffStatus::Changed) {
            if (r.sameBytes)
                r.status = DiffStatus::Identical;
            else if (r.changed == 0)
                r.status = DiffStatus::Close;
        } else if (r.status == DiffStatus::DTypeChanged) {
            r.sameBytes = false;
        } else if (r.status == DiffStatus::Failed) {
            const QString error = r.error;
            r = PairDiff{};
            r.status = DiffStatus::Failed;
            r.error = error.isEmpty()
                          ? QStringLiteral("'%1' could not be read").arg(utf8ToQString(m_al.pairs[size_t(pair)].key))
                          : error;
        }
        r.sameBytes = r.status == DiffStatus::Identical;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_result->pairs[size_t(pair)] = r;
        }
        m_batches.add(pair, std::move(r));
        m_pairsDone.fetch_add(1, std::memory_order_relaxed);
        m_batches.flush(false, [this] { return currentProgress(); });
    }

    const ModelIndex& m_a;
    const ModelIndex& m_b;
    const Alignment& m_al;
    const DiffOptions& m_o;
    DiffResult* m_result = nullptr;
    std::vector<Item> m_items;
    std::vector<std::unique_ptr<PairWork>> m_work;
    DiffProgress m_progress;
    std::atomic<size_t> m_next{0};
    std::atomic<int> m_pairsDone{0};
    std::atomic<std::uint64_t> m_bytesDone{0};
    std::mutex m_mutex;  // m_result->pairs
    BatchHandoff<PairDiff, DiffProgress> m_batches{m_o.onBatch, m_o.batchIntervalMs};
};

}  // namespace

DiffResult diffModels(const ModelIndex& a, const ModelIndex& b, const Alignment& alignment, const DiffOptions& options)
{
    Differ d(a, b, alignment, options);
    return d.run();
}

}  // namespace paramscope
