#pragma once

// CompareController: a comparison of two models, without widgets. open() loads both files
// on a worker, aligns their names (core/diff: a wrapper's prefix detected and stripped, or
// the user's choice), builds the merged model the view shows (one entry per aligned pair)
// and its tree, then compares every pair on worker threads; results arrive in batches and
// go into a DiffTable the view reads. Changing the alignment or the tolerance compares
// again; cancel() stops and leaves what was compared.

#include "diff/diff.h"
#include "diff/difftable.h"
#include "model/loadtypes.h"
#include "session/jobtracker.h"

#include <QObject>
#include <QString>

#include <memory>

namespace paramscope {

class ModelIndex;
class ModelTree;

class CompareController : public QObject {
    Q_OBJECT
public:
    explicit CompareController(QObject* parent = nullptr);
    ~CompareController() override;

    /// Loads A and B (on a worker), then aligns and compares them.
    void open(const QString& fileA, const QString& fileB, LoaderEngine engine = LoaderEngine::Auto);
    /// Compares a model already open (A) with a file, loaded on a worker.
    void openAgainst(std::shared_ptr<const ModelIndex> a, const QString& fileB,
                     LoaderEngine engine = LoaderEngine::Auto);
    /// Compares two models already open.
    void setModels(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b);
    /// Aligns the names again this way (detection on or off, a prefix, mappings) and compares.
    void setAlignOptions(const AlignOptions& options);
    const AlignOptions& alignOptions() const { return m_alignOptions; }
    /// Compares again with this tolerance (|b - a| <= atol + rtol * |a|).
    void setTolerance(double atol, double rtol);
    double atol() const { return m_atol; }
    double rtol() const { return m_rtol; }
    void setThreads(int threads) { m_threads = threads; }
    /// Stops the comparison: finished(false) follows at once; the pairs compared stay.
    void cancel();

    bool isLoading() const { return m_loading; }
    bool isRunning() const { return m_jobs.isRunning(); }
    const std::shared_ptr<const ModelIndex>& modelA() const { return m_a; }
    const std::shared_ptr<const ModelIndex>& modelB() const { return m_b; }
    const Alignment& alignment() const { return m_alignment; }
    /// The merged model and its tree (null until aligned).
    const std::shared_ptr<const ModelIndex>& merged() const { return m_merged; }
    const std::shared_ptr<const ModelTree>& tree() const { return m_tree; }
    /// The comparison so far (null until aligned).
    const DiffTable* table() const { return m_table.get(); }
    DiffProgress progress() const { return m_progress; }

Q_SIGNALS:
    /// A file could not be read (the message names it); nothing else changed.
    void loadFailed(const QString& message);
    /// A new alignment: new merged model, tree and (empty) table.
    void modelsChanged();
    void started();
    /// New pairs are in the table.
    void pairsCompared(int count);
    void progressChanged(const DiffProgress& progress);
    /// The comparison ended: every pair compared, or cancelled.
    void finished(bool complete);

private:
    struct Aligned;
    static std::shared_ptr<Aligned> alignBoth(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b,
                                              const AlignOptions& o);
    void align();
    void applyAligned(const std::shared_ptr<Aligned>& aligned);
    /// A load's end: its error reported, or the models it aligned shown and compared.
    void onLoaded(const std::shared_ptr<Aligned>& aligned);
    void compare();

    JobTracker m_jobs{this};
    std::shared_ptr<const ModelIndex> m_a, m_b, m_merged;
    std::shared_ptr<const ModelTree> m_tree;
    Alignment m_alignment;
    AlignOptions m_alignOptions;
    std::unique_ptr<DiffTable> m_table;
    DiffProgress m_progress;
    double m_atol = 0, m_rtol = 0;
    int m_threads = 0;
    bool m_loading = false;
};

}  // namespace paramscope
