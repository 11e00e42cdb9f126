#include "base/mappedfile.h"

#include <QFileInfo>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace paramscope {

namespace {

// Live mappings, for the SIGBUS handler: it may only touch lock-free atomics.
struct Slot {
    std::atomic<std::uintptr_t> begin{0}, end{0};
    std::atomic<bool> faulted{false};
    std::atomic<const MappedFile*> file{nullptr};
};
constexpr int kSlots = 1024;
Slot g_slots[kSlots];
struct sigaction g_previous {};

void onSigbus(int sig, siginfo_t* info, void* context)
{
    const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (auto& s : g_slots) {
        const std::uintptr_t b = s.begin.load(std::memory_order_acquire);
        if (b != 0 && addr >= b && addr < s.end.load(std::memory_order_acquire)) {
            const long page = ::sysconf(_SC_PAGESIZE);
            void* at = reinterpret_cast<void*>(addr & ~std::uintptr_t(page - 1));
            if (::mmap(at, size_t(page), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                s.faulted.store(true, std::memory_order_release);
                return;  // the faulting read runs again and sees zeros
            }
            break;
        }
    }
    // Not ours: hand it on, or die the way SIGBUS dies.
    if (g_previous.sa_flags & SA_SIGINFO) {
        if (g_previous.sa_sigaction) {
            g_previous.sa_sigaction(sig, info, context);
            return;
        }
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler) {
        g_previous.sa_handler(sig);
        return;
    }
    ::signal(SIGBUS, SIG_DFL);
    ::raise(SIGBUS);
}

void installHandler()
{
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_sigaction = onSigbus;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGBUS, &sa, &g_previous);
    });
}

int registerMapping(const MappedFile* f, const std::uint8_t* data, std::uint64_t size)
{
    installHandler();
    for (int i = 0; i < kSlots; ++i) {
        const MappedFile* expected = nullptr;
        if (g_slots[i].file.compare_exchange_strong(expected, f)) {
            g_slots[i].faulted.store(false);
            g_slots[i].end.store(reinterpret_cast<std::uintptr_t>(data) + size, std::memory_order_release);
            g_slots[i].begin.store(reinterpret_cast<std::uintptr_t>(data), std::memory_order_release);
            return i;
        }
    }
    return -1;  // more than kSlots files open at once: still works, without the guard
}

void unregisterMapping(int slot)
{
    if (slot < 0)
        return;
    g_slots[slot].begin.store(0, std::memory_order_release);
    g_slots[slot].end.store(0, std::memory_order_release);
    g_slots[slot].file.store(nullptr, std::memory_order_release);
}

}  // namespace

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const QString& path)
{
    using R = Result<std::shared_ptr<const MappedFile>>;
    const QString name = QFileInfo(path).fileName();
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return R::failure(
            ErrorKind::Io,
            QStringLiteral("'%1' cannot be opened: %2").arg(name, QString::fromLocal8Bit(std::strerror(errno))));
    std::shared_ptr<MappedFile> f(new MappedFile);
    f->m_path = path;
    f->m_fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return R::failure(
            ErrorKind::Io,
            QStringLiteral("'%1' cannot be read: %2").arg(name, QString::fromLocal8Bit(std::strerror(errno))));
    if (!S_ISREG(st.st_mode))
        return R::failure(ErrorKind::Io, QStringLiteral("'%1' is not a regular file").arg(name));
    f->m_size = std::uint64_t(st.st_size);
    if (f->m_size == 0)
        return R(std::shared_ptr<const MappedFile>(std::move(f)));
    void* p = ::mmap(nullptr, size_t(f->m_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        const int error = errno;
        return R::failure(error == ENOMEM ? ErrorKind::Limit : ErrorKind::Io,
                          QStringLiteral("'%1' cannot be mapped into memory: %2")
                              .arg(name, QString::fromLocal8Bit(std::strerror(error))));
    }
    f->m_data = static_cast<const std::uint8_t*>(p);
    f->m_slot = registerMapping(f.get(), f->m_data, f->m_size);
    return R(std::shared_ptr<const MappedFile>(std::move(f)));
}

MappedFile::~MappedFile()
{
    unregisterMapping(m_slot);
    if (m_data)
        ::munmap(const_cast<std::uint8_t*>(m_data), size_t(m_size));
    if (m_fd >= 0)
        ::close(m_fd);
}

QString MappedFile::label() const
{
    return QFileInfo(m_path).fileName();
}

bool MappedFile::faulted() const
{
    return m_slot >= 0 && g_slots[m_slot].faulted.load(std::memory_order_acquire);
}

Status MappedFile::checkAddress(const void* p)
{
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    for (auto& s : g_slots) {
        const std::uintptr_t b = s.begin.load(std::memory_order_acquire);
        if (b != 0 && addr >= b && addr < s.end.load(std::memory_order_acquire)) {
            // The caller holds the bytes, so it holds their mapping: the file is alive.
            if (const MappedFile* f = s.file.load(std::memory_order_acquire))
                return f->check();
        }
    }
    return {};
}

bool MappedFile::advise(const void* p, std::uint64_t length, Advice advice)
{
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    if (length == 0)
        return false;
    for (auto& s : g_slots) {
        const std::uintptr_t b = s.begin.load(std::memory_order_acquire);
        const std::uintptr_t e = s.end.load(std::memory_order_acquire);
        if (b == 0 || addr < b || addr >= e)
            continue;
        const auto page = std::uintptr_t(::sysconf(_SC_PAGESIZE));
        const std::uintptr_t last = length > e - addr ? e : addr + std::uintptr_t(length);
        // Whole pages: the mapping starts on a page, so rounding down stays inside it.
        const std::uintptr_t from = addr & ~(page - 1);
        // Releasing stops short of the page the range ends in (unless it is the mapping's
        // last): the next record in the file begins there, and a scan reading front to back
        // would fault it in again. That page goes with the next record's release.
        const std::uintptr_t to =
            advice == Advice::Release && last < e ? last & ~(page - 1) : (last + page - 1) & ~(page - 1);
        if (to <= from)
            return true;
        const int how = advice == Advice::Sequential ? MADV_SEQUENTIAL
                        : advice == Advice::WillNeed ? MADV_WILLNEED
                                                     : MADV_DONTNEED;
        return ::madvise(reinterpret_cast<void*>(from), size_t(to - from), how) == 0;
    }
    return false;
}

Status MappedFile::check() const
{
    if (faulted())
        return Status::failure(
            ErrorKind::Io,
            QStringLiteral("'%1' was truncated or cut short while it was being read: reopen it").arg(label()));
    struct stat st {};
    if (::fstat(m_fd, &st) != 0)
        return Status::failure(ErrorKind::Io, QStringLiteral("'%1' can no longer be read: %2")
                                                  .arg(label(), QString::fromLocal8Bit(std::strerror(errno))));
    if (std::uint64_t(st.st_size) < m_size)
        return Status::failure(ErrorKind::Io,
                               QStringLiteral("'%1' was truncated while open (now %2 bytes, was %3): reopen it")
                                   .arg(argText(label()), argText(qint64(st.st_size)), argText(qulonglong(m_size))));
    return {};
}

}  // namespace paramscope
