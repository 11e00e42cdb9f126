#pragma once
// Internal to core/export: where an export's bytes go. Output writes through a QSaveFile
// (a temporary file in the destination's folder, renamed over the destination on commit,
// removed on any failure or cancel, so the destination is either the old file or the
// whole new one), or directly to a destination that is not a regular file (a device such
// as /dev/null or /dev/stdout, which a rename would destroy). It checks cancel and reports
// progress between chunks. isSourceFile refuses an export over a file the model reads.

#include "base/result.h"
#include "export/export.h"

#include <QFile>
#include <QSaveFile>
#include <QString>

#include <cstdint>
#include <memory>
#include <string>

namespace paramscope::exportdetail {

class Output {
public:
    Output(QString path, const ExportOptions& o, std::int64_t totalWork);
    ~Output();
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    /// Checks the destination and opens the temporary file (or the device).
    Status open();
    bool cancelled() const { return isCancelled(m_options.cancel); }

    /// Accounts work done without writing (preparing data), for the progress bar.
    void advance(std::int64_t work)
    {
        m_done += work;
        report();
    }

    /// Writes in chunks, checking cancel and reporting progress between them. `work` is
    /// how much of the total these bytes stand for (defaults to their size).
    Status write(const void* data, std::int64_t size, std::int64_t work = -1);
    Status write(const std::string& s) { return write(s.data(), std::int64_t(s.size())); }

    /// Renames the temporary file over the destination (or flushes the device).
    Status commit();

    std::int64_t written() const { return m_written; }

private:
    QFileDevice* device() { return m_save ? static_cast<QFileDevice*>(m_save.get()) : m_direct.get(); }
    QString displayName() const;
    Status writeError(const QString& why) const;
    void report();

    QString m_path;
    const ExportOptions& m_options;
    std::unique_ptr<QSaveFile> m_save;
    std::unique_ptr<QFile> m_direct;
    std::int64_t m_total = 1, m_done = 0, m_written = 0;
    double m_lastReported = -1.0;
};

/// The same file (device and inode; symbolic links followed) as one the model reads from.
bool isSourceFile(const ModelIndex& index, const QString& outPath);

}  // namespace paramscope::exportdetail
