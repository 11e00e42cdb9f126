#include "mappedfile.h"

#include <QFileInfo>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace paramscope {

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const QString& path)
{
    using R = Result<std::shared_ptr<const MappedFile>>;
    const QString name = QFileInfo(path).fileName();
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return R::failure(QStringLiteral("'%1' cannot be opened: %2").arg(name, QString::fromLocal8Bit(std::strerror(errno))));
    std::shared_ptr<MappedFile> f(new MappedFile);
    f->m_path = path;
    f->m_fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return R::failure(QStringLiteral("'%1' cannot be read: %2").arg(name, QString::fromLocal8Bit(std::strerror(errno))));
    if (!S_ISREG(st.st_mode))
        return R::failure(QStringLiteral("'%1' is not a regular file").arg(name));
    f->m_size = std::uint64_t(st.st_size);
    if (f->m_size == 0)
        return R(std::shared_ptr<const MappedFile>(std::move(f)));
    void* p = ::mmap(nullptr, size_t(f->m_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return R::failure(QStringLiteral("'%1' cannot be mapped into memory: %2").arg(name, QString::fromLocal8Bit(std::strerror(errno))));
    f->m_data = static_cast<const std::uint8_t*>(p);
    return R(std::shared_ptr<const MappedFile>(std::move(f)));
}

MappedFile::~MappedFile()
{
    if (m_data)
        ::munmap(const_cast<std::uint8_t*>(m_data), size_t(m_size));
    if (m_fd >= 0)
        ::close(m_fd);
}

QString MappedFile::label() const { return QFileInfo(m_path).fileName(); }

Status MappedFile::check() const
{
    struct stat st {};
    if (::fstat(m_fd, &st) != 0)
        return Status::failure(QStringLiteral("'%1' can no longer be read: %2").arg(label(), QString::fromLocal8Bit(std::strerror(errno))));
    if (std::uint64_t(st.st_size) < m_size)
        return Status::failure(QStringLiteral("'%1' was truncated while open (now %2 bytes, was %3): reopen it")
                                   .arg(argText(label()), argText(qint64(st.st_size)), argText(qulonglong(m_size))));
    return {};
}

}  // namespace paramscope
