// Atomic export output: a temporary file renamed over the destination on commit (or a
// direct write to a device), cancel checks and progress between chunks, and the check
// that refuses to overwrite a file the model is read from.
#include "export/atomicoutput_p.h"

#include <sys/stat.h>

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace paramscope::exportdetail {

Output::Output(QString path, const ExportOptions& o, std::int64_t totalWork)
    : m_path(std::move(path)), m_options(o), m_total(std::max<std::int64_t>(totalWork, 1))
{
}

Output::~Output()
{
    // Anything not committed is dropped: QSaveFile removes its temporary file.
    if (m_save)
        m_save->cancelWriting();
}

Status Output::open()
{
    const QString name = displayName();
    if (m_path.isEmpty())
        return Status::failure(ErrorKind::Failed, QStringLiteral("no output file given"));
    const QFileInfo fi(m_path);
    if (fi.isDir())
        return Status::failure(ErrorKind::Io,
                               QStringLiteral("'%1' is a folder; give a file name to export to").arg(m_path));
    const QFileInfo dir(fi.absolutePath());
    if (!dir.exists())
        return Status::failure(ErrorKind::Io, QStringLiteral("cannot write '%1': the folder '%2' does not exist")
                                                  .arg(name, QDir::toNativeSeparators(fi.absolutePath())));
    if (!dir.isDir())
        return Status::failure(ErrorKind::Io, QStringLiteral("cannot write '%1': '%2' is not a folder")
                                                  .arg(name, QDir::toNativeSeparators(fi.absolutePath())));
    if (fi.exists() && !fi.isFile()) {
        // A device or a pipe (/dev/null, /dev/stdout): there is nothing to replace
        // atomically, and renaming a temporary file over a device node would destroy it.
        m_direct = std::make_unique<QFile>(m_path);
        if (!m_direct->open(QIODevice::WriteOnly | QIODevice::Unbuffered))
            return Status::failure(ErrorKind::Io,
                                   QStringLiteral("cannot write '%1': %2").arg(m_path, m_direct->errorString()));
        return {};
    }
    m_save = std::make_unique<QSaveFile>(m_path);
    if (!m_save->open(QIODevice::WriteOnly)) {
        const QString why = m_save->errorString();
        m_save.reset();
        return Status::failure(ErrorKind::Io,
                               QStringLiteral("cannot write '%1' in '%2': %3%4")
                                   .arg(name, QDir::toNativeSeparators(fi.absolutePath()), why,
                                        dir.isWritable() ? QString() : QStringLiteral(" (the folder is read-only)")));
    }
    return {};
}

Status Output::write(const void* data, std::int64_t size, std::int64_t work)
{
    if (work < 0)
        work = size;
    constexpr std::int64_t kChunk = 4 << 20;
    const char* p = static_cast<const char*>(data);
    std::int64_t left = size;
    const std::int64_t doneBefore = m_done;
    while (left > 0) {
        if (cancelled())
            return Status::failure(ErrorKind::Cancelled, exportCancelledMessage(m_path));
        const std::int64_t n = std::min(left, kChunk);
        QFileDevice* dev = device();
        if (dev->write(p, n) != n)
            return writeError(dev->errorString());
        p += n;
        left -= n;
        m_written += n;
        m_done = doneBefore + (size > 0 ? work * (size - left) / size : work);
        report();
    }
    if (size == 0)
        advance(work);
    return {};
}

Status Output::commit()
{
    if (cancelled())
        return Status::failure(ErrorKind::Cancelled, exportCancelledMessage(m_path));
    if (m_direct) {
        if (!m_direct->flush())
            return writeError(m_direct->errorString());
        m_direct->close();
        if (m_direct->error() != QFileDevice::NoError)
            return writeError(m_direct->errorString());
        return {};
    }
    if (!m_save->commit()) {
        const QString why = m_save->errorString();
        m_save.reset();
        return writeError(why);
    }
    m_save.reset();
    if (m_options.progress)
        m_options.progress(1.0);
    return {};
}

QString Output::displayName() const
{
    return QFileInfo(m_path).fileName();
}

Status Output::writeError(const QString& why) const
{
    return Status::failure(ErrorKind::Io,
                           QStringLiteral("could not write '%1': %2; nothing was written").arg(m_path, why));
}

void Output::report()
{
    if (!m_options.progress)
        return;
    const double f = std::min(1.0, double(m_done) / double(m_total));
    // Throttle: one call per 0.1 % step is plenty for a progress bar.
    if (f - m_lastReported >= 0.001 || f >= 1.0) {
        m_lastReported = f;
        m_options.progress(f);
    }
}

bool isSourceFile(const ModelIndex& index, const QString& outPath)
{
    struct stat out {};
    if (::stat(QFile::encodeName(outPath).constData(), &out) != 0)
        return false;  // does not exist yet: cannot be a source
    QStringList sources = index.sourceFiles;
    sources << index.filePath;
    for (const QString& src : sources) {
        struct stat in {};
        if (::stat(QFile::encodeName(src).constData(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
            return true;
    }
    return false;
}

}  // namespace paramscope::exportdetail
