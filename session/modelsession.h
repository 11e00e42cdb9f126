#pragma once

// ModelSession: the model the window shows and its loading. Opening a file loads it on a
// worker (the index and its tree), cancels a load still running, reports progress, and
// swaps the new model in only when it loaded; a failure leaves the open model in place.
// Also extracts the demo model bundled in the application's resources to a file.

#include "base/result.h"
#include "model/loadtypes.h"
#include "session/jobtracker.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <memory>

namespace paramscope {

class ModelIndex;
class ModelTree;

class ModelSession : public QObject {
    Q_OBJECT
public:
    explicit ModelSession(QObject* parent = nullptr);
    ~ModelSession() override;

    /// Starts loading `path` with `engine` on a worker; a load already running is
    /// cancelled and its result dropped.
    void open(const QString& path, LoaderEngine engine);
    /// Shows a model already in memory; the tree is built when not given.
    void setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree,
                  const QString& displayName);
    /// Cancels the running load (loadCancelled follows at once); false when none runs.
    bool cancel();

    bool isLoading() const { return m_jobs.isRunning(); }
    QString loadingPath() const { return m_loadingPath; }
    std::shared_ptr<const ModelIndex> index() const { return m_index; }
    std::shared_ptr<const ModelTree> tree() const { return m_tree; }
    /// The file the open model came from (empty for none or one set in memory).
    QString currentFile() const { return m_currentFile; }
    QString displayName() const { return m_displayName; }
    /// Bumped each time another model is swapped in.
    quint64 generation() const { return m_generation; }
    /// Milliseconds the last successful load took (worker time until the hand-back).
    qint64 lastLoadMs() const { return m_lastLoadMs; }

    /// Copies the bundled demo model (resource :/paramscope/demo_model.pt) to a per-user
    /// file in the temp folder, once, and returns its path.
    static Result<QString> extractDemoModel();
    /// Whether `path` is where extractDemoModel() puts the demo (not a recent file).
    static bool isDemoPath(const QString& path);
    /// The tree the window shows of `index`: the model's order, but natural order ("2" before
    /// "10") for safetensors files, whose header keeps no model order.
    static std::shared_ptr<const ModelTree> buildTree(const std::shared_ptr<const ModelIndex>& index);

Q_SIGNALS:
    void loadStarted(const QString& path, const QString& displayName);
    /// At most about once per percent; `fraction` 0 means busy without a fraction yet.
    void loadProgress(double fraction, const QString& stage);
    /// The model of `path` is now index() / tree().
    void modelChanged(const QString& path);
    void loadFailed(const QString& path, const QString& displayName, ErrorKind kind, const QString& message);
    void loadCancelled(const QString& path);

private:
    struct Outcome;
    void onLoaded(const QString& path, const QString& displayName, const Outcome& outcome);

    JobTracker m_jobs{this};
    QString m_loadingPath;
    QElapsedTimer m_loadTimer;
    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    QString m_currentFile;
    QString m_displayName;
    quint64 m_generation = 0;
    qint64 m_lastLoadMs = 0;
};

}  // namespace paramscope
