#pragma once

// JobTracker: one background job at a time for an object that lives on one thread. Each
// start() gets a new job id and a cancel token, cancels the job before it, runs the new
// one on Qt's thread pool and hands its result back, queued to the owner's thread, only
// if it is still the current job; anything a superseded or cancelled job returns (or
// posts as progress) is dropped.

#include "base/cancel.h"

#include <QFuture>
#include <QList>
#include <QObject>
#include <QtConcurrent/QtConcurrentRun>

#include <utility>

namespace paramscope {

/// What a running job sees: its id (for post()) and its cancel token.
struct JobHandle {
    quint64 id = 0;
    CancelToken cancel;
    bool cancelled() const { return isCancelled(cancel); }
};

/// Hand-backs run on `context`'s thread. The tracker must be a member of `context` (or
/// outlive it): its destructor cancels the running job and waits for every worker.
class JobTracker {
public:
    explicit JobTracker(QObject* context) : m_context(context) {}
    ~JobTracker()
    {
        cancel();
        waitForFinished();
    }
    JobTracker(const JobTracker&) = delete;
    JobTracker& operator=(const JobTracker&) = delete;

    /// Cancels the current job and starts `job(const JobHandle&) -> R` on a worker. When
    /// it returns while still current and not cancelled, `done(R)` runs on the context's
    /// thread. Returns the new job's id.
    template <typename Job, typename Done>
    quint64 start(Job job, Done done)
    {
        cancel();
        JobHandle handle{++m_current, makeCancelToken()};
        m_cancel = handle.cancel;
        m_running = true;
        prune();
        m_futures.append(QtConcurrent::run([this, handle, job = std::move(job), done = std::move(done)]() mutable {
            auto result = job(std::as_const(handle));
            if (handle.cancelled())
                return;
            post(handle.id, [this, result = std::move(result), done = std::move(done)]() mutable {
                m_running = false;
                m_cancel.reset();
                done(std::move(result));
            });
        }));
        return handle.id;
    }

    /// Cancels the current job (if any): it is told to stop and whatever it returns or
    /// posts from now on is dropped.
    void cancel()
    {
        if (m_cancel)
            m_cancel->store(true);
        m_cancel.reset();
        if (m_running)
            ++m_current;
        m_running = false;
    }

    /// Queues `fn` to the context's thread, where it runs only if job `id` is still the
    /// current one. Callable from any thread (progress reports).
    template <typename F>
    void post(quint64 id, F fn) const
    {
        QMetaObject::invokeMethod(
            m_context,
            [this, id, fn = std::move(fn)]() mutable {
                if (id == m_current)
                    fn();
            },
            Qt::QueuedConnection);
    }

    bool isRunning() const { return m_running; }
    quint64 currentId() const { return m_current; }
    /// Blocks until every worker started so far has returned (results stay queued).
    void waitForFinished()
    {
        for (QFuture<void>& f : m_futures)
            f.waitForFinished();
        m_futures.clear();
    }

private:
    void prune()
    {
        m_futures.removeIf([](const QFuture<void>& f) { return f.isFinished(); });
    }

    QObject* m_context;
    std::atomic<quint64> m_current{0};  // read by hand-backs, written on the context's thread
    CancelToken m_cancel;
    bool m_running = false;
    QList<QFuture<void>> m_futures;
};

}  // namespace paramscope
