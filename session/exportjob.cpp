#include "session/exportjob.h"

#include <QDir>
#include <QtConcurrent/QtConcurrentRun>

namespace paramscope {

ExportJob::ExportJob(std::shared_ptr<const ModelIndex> index, std::vector<int> entries, QString outPath,
                     ExportFormat format, QObject* parent)
    : QObject(parent),
      m_index(std::move(index)),
      m_entries(std::move(entries)),
      m_outPath(std::move(outPath)),
      m_format(format),
      m_cancel(makeCancelToken()),
      m_permille(std::make_shared<std::atomic<int>>(0))
{
    // The worker only stores a number; the job's own thread turns it into signals, so no
    // signal is emitted per chunk and nothing touches this QObject from the worker.
    m_poll.setInterval(100);
    connect(&m_poll, &QTimer::timeout, this, [this] {
        const int p = m_permille->load();
        if (p != m_lastPermille) {
            m_lastPermille = p;
            Q_EMIT progress(p);
        }
    });
    connect(&m_watcher, &QFutureWatcher<ExportResult>::finished, this, &ExportJob::onFinished);
}

ExportJob::~ExportJob()
{
    if (m_watcher.isRunning()) {
        m_cancel->store(true);
        m_watcher.waitForFinished();
    }
}

void ExportJob::start()
{
    if (m_watcher.isRunning())
        return;
    ExportOptions o;
    o.cancel = m_cancel;
    auto permille = m_permille;
    o.progress = [permille](double f) { permille->store(int(f * 1000.0)); };
    // Copies: the worker must not reach into this object, which may go away first.
    m_watcher.setFuture(QtConcurrent::run([index = m_index, entries = m_entries, path = m_outPath, format = m_format,
                                           o] { return exportTensors(*index, entries, path, format, o); }));
    m_poll.start();
    Q_EMIT started();
}

void ExportJob::cancel()
{
    m_cancel->store(true);
}

void ExportJob::onFinished()
{
    m_poll.stop();
    const ExportResult r = m_watcher.result();
    if (!r) {
        Q_EMIT finished(false, r.error(), {});
        return;
    }
    Q_EMIT progress(1000);
    const QString summary =
        (r->tensors == 1 ? tr("Exported 1 tensor (%2) to %3") : tr("Exported %1 tensors (%2) to %3").arg(r->tensors))
            .arg(formatBytes(r->bytesWritten), QDir::toNativeSeparators(r->path));
    Q_EMIT finished(true, summary, r->notes);
}

}  // namespace paramscope
