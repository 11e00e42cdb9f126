#pragma once

// One export running on a worker thread, reporting progress and its outcome as signals on
// the thread that owns it: the widget-free half of File > Export…, testable on its own.

#include "export/export.h"
#include "model/modelindex.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <atomic>
#include <memory>
#include <vector>

namespace paramscope {

/// One export running on a worker thread (QtConcurrent), reporting back on the thread
/// that owns the job. The widget-free half of the export dialog.
class ExportJob : public QObject {
    Q_OBJECT
public:
    ExportJob(std::shared_ptr<const ModelIndex> index, std::vector<int> entries, QString outPath, ExportFormat format,
              QObject* parent = nullptr);
    /// Cancels and waits for the worker (a cancelled export stops within one chunk).
    ~ExportJob() override;

    void start();
    /// Asks the worker to stop; finished() follows with ok == false and cancelled() true.
    void cancel();
    bool isRunning() const { return m_watcher.isRunning(); }
    bool cancelled() const { return m_cancel->load(); }

    QString outPath() const { return m_outPath; }
    ExportFormat format() const { return m_format; }
    int tensorCount() const { return int(m_entries.size()); }

Q_SIGNALS:
    void started();
    /// Fraction done in thousandths, throttled (about ten per second).
    void progress(int permille);
    /// `message`: the error when !ok; a summary when ok. `notes` as in ExportReport.
    void finished(bool ok, const QString& message, const QStringList& notes);

private:
    void onFinished();

    std::shared_ptr<const ModelIndex> m_index;
    std::vector<int> m_entries;
    QString m_outPath;
    ExportFormat m_format;
    CancelToken m_cancel;
    std::shared_ptr<std::atomic<int>> m_permille;  // written by the worker, read by m_poll
    int m_lastPermille = -1;
    QTimer m_poll;
    QFutureWatcher<ExportResult> m_watcher;
};

}  // namespace paramscope
