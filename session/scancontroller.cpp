#include "session/scancontroller.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "scan/findings.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QLoggingCategory>

#include <list>
#include <mutex>
#include <utility>

Q_DECLARE_LOGGING_CATEGORY(lcScanTiming)
Q_LOGGING_CATEGORY(lcScanTiming, "paramscope.timing", QtWarningMsg)

namespace paramscope {

namespace {

/// Complete results of earlier scans in this session, newest first.
struct CachedScan {
    QString key;
    std::shared_ptr<const std::vector<TensorScan>> tensors;
    std::shared_ptr<const std::vector<Finding>> findings;
};
constexpr size_t kCachedScans = 4;
std::mutex g_cacheMutex;
std::list<CachedScan> g_cache;

bool cached(const QString& key, CachedScan& out)
{
    std::lock_guard<std::mutex> lock(g_cacheMutex);
    for (auto it = g_cache.begin(); it != g_cache.end(); ++it) {
        if (it->key == key) {
            g_cache.splice(g_cache.begin(), g_cache, it);
            out = g_cache.front();
            return true;
        }
    }
    return false;
}

void remember(CachedScan scan)
{
    std::lock_guard<std::mutex> lock(g_cacheMutex);
    g_cache.remove_if([&](const CachedScan& c) { return c.key == scan.key; });
    g_cache.push_front(std::move(scan));
    while (g_cache.size() > kCachedScans)
        g_cache.pop_back();
}

}  // namespace

struct ScanController::Outcome {
    ScanResult result;
    std::vector<Finding> findings;
    qint64 ms = 0;
};

ScanController::ScanController(QObject* parent) : QObject(parent) {}

ScanController::~ScanController() = default;

QString ScanController::cacheKey(const ModelIndex& index)
{
    QStringList files;
    files << index.filePath;
    files << index.sourceFiles;
    QStringList parts;
    for (const QString& f : files) {
        if (f.isEmpty())
            continue;
        const QFileInfo info(f);
        if (!info.exists())
            return {};
        parts << QStringLiteral("%1|%2|%3")
                     .arg(info.absoluteFilePath())
                     .arg(info.size())
                     .arg(info.lastModified().toMSecsSinceEpoch());
    }
    return parts.join(QLatin1Char('\n'));
}

void ScanController::clearCache()
{
    std::lock_guard<std::mutex> lock(g_cacheMutex);
    g_cache.clear();
}

void ScanController::setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree)
{
    const bool wasRunning = m_jobs.isRunning();
    m_jobs.cancel();
    m_index = std::move(index);
    m_tree = std::move(tree);
    m_table.reset();
    m_progress = {};
    if (wasRunning)
        Q_EMIT finished(false);
    CachedScan hit;
    const QString key = m_index ? cacheKey(*m_index) : QString();
    if (m_index && m_tree && !key.isEmpty() && cached(key, hit) && hit.tensors->size() == m_index->entries.size()) {
        m_table = std::make_unique<ScanTable>(m_index, m_tree);
        for (size_t e = 0; e < hit.tensors->size(); ++e)
            m_table->add(int(e), (*hit.tensors)[e]);
        m_table->setFindings(*hit.findings);
        m_table->setComplete(true);
        m_progress.tensorsDone = m_progress.tensorsTotal = int(m_index->entries.size());
        Q_EMIT tableChanged();
        Q_EMIT finished(true);
        return;
    }
    Q_EMIT tableChanged();
}

void ScanController::start()
{
    if (!m_index || !m_tree || m_jobs.isRunning())
        return;
    m_table = std::make_unique<ScanTable>(m_index, m_tree);
    m_progress = {};
    m_progress.tensorsTotal = int(m_index->entries.size());
    Q_EMIT tableChanged();
    Q_EMIT started();
    auto index = m_index;
    const int threads = m_threads;
    m_jobs.start(
        [this, index, threads](const JobHandle& job) {
            auto out = std::make_shared<Outcome>();
            QElapsedTimer timer;
            timer.start();
            ScanOptions o;
            o.threads = threads;
            o.cancel = job.cancel;
            o.batchIntervalMs = 100;
            o.onBatch = [this, id = job.id](std::vector<std::pair<int, TensorScan>>&& batch, const ScanProgress& p) {
                auto shared = std::make_shared<std::vector<std::pair<int, TensorScan>>>(std::move(batch));
                m_jobs.post(id, [this, shared, p] {
                    if (!m_table)
                        return;
                    for (const auto& [entry, t] : *shared)
                        m_table->add(entry, t);
                    m_progress = p;
                    Q_EMIT tensorsScanned(int(shared->size()));
                    Q_EMIT progressChanged(p);
                });
            };
            out->result = scanModel(*index, o);
            if (out->result.complete())
                out->findings = allFindings(*index, out->result.tensors);
            out->ms = timer.elapsed();
            return out;
        },
        [this](std::shared_ptr<Outcome> outcome) { onFinished(outcome); });
}

void ScanController::onFinished(const std::shared_ptr<Outcome>& outcome)
{
    if (!m_table)
        return;
    if (!outcome->result.complete()) {
        m_table->setComplete(false);
        Q_EMIT finished(false);
        return;
    }
    // Batches came first (each was posted before the job returned), so every tensor is in.
    for (size_t e = 0; e < outcome->result.tensors.size(); ++e)
        m_table->add(int(e), outcome->result.tensors[e]);
    m_table->setFindings(outcome->findings);
    m_table->setComplete(true);
    m_progress = outcome->result.progress;
    qCDebug(lcScanTiming, "scan: %d tensors, %.1f MB in %lld ms", m_progress.tensorsDone,
            double(m_progress.bytesDone) / 1e6, static_cast<long long>(outcome->ms));
    const QString key = cacheKey(*m_index);
    if (!key.isEmpty())
        remember({key, std::make_shared<const std::vector<TensorScan>>(outcome->result.tensors),
                  std::make_shared<const std::vector<Finding>>(outcome->findings)});
    Q_EMIT progressChanged(m_progress);
    Q_EMIT finished(true);
}

void ScanController::cancel()
{
    if (!m_jobs.isRunning())
        return;
    m_jobs.cancel();
    if (m_table)
        m_table->setComplete(false);
    Q_EMIT finished(false);
}

}  // namespace paramscope
