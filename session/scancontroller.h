#pragma once

// ScanController: the whole-model scan of the open model, without widgets. start() scans
// every tensor on worker threads (core/scan); finished tensors arrive in batches, at most
// about every 100 ms, and go into a ScanTable the window's tree and Problems panel read;
// cancel() stops it and leaves what was scanned marked incomplete. Complete results are
// kept for the session per file (its path, size and modification time, every shard's
// too), so re-opening a file shows them at once.

#include "scan/scan.h"
#include "scan/scantable.h"
#include "session/jobtracker.h"

#include <QObject>
#include <QString>

#include <memory>

namespace paramscope {

class ModelIndex;
class ModelTree;

class ScanController : public QObject {
    Q_OBJECT
public:
    explicit ScanController(QObject* parent = nullptr);
    ~ScanController() override;

    /// The model scans are of. A scan of the previous model is cancelled; results cached
    /// for this model's files are shown at once (tableChanged, then finished(true)).
    void setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree);
    /// Scans the model (again, from the start, when it was scanned); nothing while one runs.
    void start();
    /// Stops the running scan: finished(false) follows at once; the tensors scanned so far
    /// stay in the table, which is not complete.
    void cancel();

    bool isRunning() const { return m_jobs.isRunning(); }
    /// The scan's results so far (null before any scan of this model).
    const ScanTable* table() const { return m_table.get(); }
    ScanProgress progress() const { return m_progress; }
    /// Threads the scan runs on (0: one per core).
    void setThreads(int threads) { m_threads = threads; }

    /// The key results are cached under: every file of the model with its size and
    /// modification time; empty for a model with no file.
    static QString cacheKey(const ModelIndex& index);
    /// Forgets every cached result (tests).
    static void clearCache();

Q_SIGNALS:
    /// A new table replaced the old one (a scan started, a model changed, cached results).
    void tableChanged();
    void started();
    /// New tensors are in the table (and their findings).
    void tensorsScanned(int count);
    void progressChanged(const ScanProgress& progress);
    /// The scan ended: complete (every tensor scanned, every finding in the table, outliers
    /// included), or cancelled.
    void finished(bool complete);

private:
    struct Outcome;
    void onFinished(const std::shared_ptr<Outcome>& outcome);

    JobTracker m_jobs{this};
    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    std::unique_ptr<ScanTable> m_table;
    ScanProgress m_progress;
    int m_threads = 0;
};

}  // namespace paramscope
