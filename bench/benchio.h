#pragma once

// What the scan and diff benchmarks share: where a model's tensor records lie in its files
// (from this process's own mappings, /proc/self/maps), the read() loop over them that is
// their baseline, dropping files from the page cache for cold runs, and this process's
// memory figures.

#include "base/mappedfile.h"
#include "model/modelindex.h"

#include "childprocess.h"

#include <QFile>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace paramscope::bench {

using Clock = std::chrono::steady_clock;

inline double since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// A byte range of one file that holds tensor data.
struct Range {
    QString file;
    std::uint64_t offset = 0, length = 0;
};

/// A file mapping of this process, from /proc/self/maps.
struct Mapping {
    std::uintptr_t begin = 0, end = 0;
    std::uint64_t fileOffset = 0;
    QString file;
};

inline std::vector<Mapping> fileMappings()
{
    std::vector<Mapping> out;
    std::ifstream f("/proc/self/maps");
    std::string line;
    while (std::getline(f, line)) {
        unsigned long long b = 0, e = 0, off = 0;
        char perms[8] = {0}, dev[16] = {0};
        unsigned long long inode = 0;
        int pathAt = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %15s %llu %n", &b, &e, perms, &off, dev, &inode, &pathAt) <
                6 ||
            inode == 0 || pathAt <= 0)
            continue;
        out.push_back({std::uintptr_t(b), std::uintptr_t(e), off, QString::fromLocal8Bit(line.c_str() + pathAt)});
    }
    return out;
}

/// The byte ranges of the tensors' records in their files, one per storage (overlapping ones
/// merged), in file order: where each storage's bytes are mapped, from /proc/self/maps, so
/// the baseline reads exactly the bytes the scan reads, whatever the format.
/// `onlyStorage` >= 0: that storage's record alone.
inline std::vector<Range> tensorRecords(const ModelIndex& index, int onlyStorage = -1)
{
    std::vector<std::pair<const std::uint8_t*, std::uint64_t>> spans;
    std::vector<StorageBytes> keep;  // mapped while the ranges are located
    for (int s = 0; s < int(index.storages.size()); ++s) {
        if (!index.provider)
            break;
        if (onlyStorage >= 0 && s != onlyStorage)
            continue;
        auto b = index.provider->storageBytes(s);
        if (!b || b->size == 0)
            continue;
        spans.emplace_back(b->data, b->size);
        keep.push_back(std::move(b.value()));
    }
    const std::vector<Mapping> maps = fileMappings();
    std::map<QString, std::vector<std::pair<std::uint64_t, std::uint64_t>>> byFile;
    for (const auto& [data, size] : spans) {
        const auto p = reinterpret_cast<std::uintptr_t>(data);
        for (const Mapping& m : maps)
            if (p >= m.begin && p < m.end) {
                const std::uint64_t at = m.fileOffset + (p - m.begin);
                byFile[m.file].emplace_back(at, at + size);
                break;
            }
    }
    std::vector<Range> out;
    for (auto& [file, ranges] : byFile) {
        std::sort(ranges.begin(), ranges.end());
        std::uint64_t from = 0, to = 0;
        bool open = false;
        for (const auto& [a, b] : ranges) {
            if (open && a <= to) {
                to = std::max(to, b);
                continue;
            }
            if (open)
                out.push_back({file, from, to - from});
            from = a;
            to = b;
            open = true;
        }
        if (open)
            out.push_back({file, from, to - from});
    }
    return out;
}

inline std::uint64_t totalBytes(const std::vector<Range>& ranges)
{
    std::uint64_t n = 0;
    for (const Range& r : ranges)
        n += r.length;
    return n;
}

/// The baseline: pread() of every record in 1 MiB chunks into one buffer, touching each
/// chunk's first byte so the loop cannot be optimised away. Returns seconds (or -1).
inline double readLoop(const std::vector<Range>& ranges)
{
    std::vector<char> buf(std::size_t(1) << 20);
    volatile char sink = 0;
    const auto t0 = Clock::now();
    QString openName;
    int fd = -1;
    for (const Range& r : ranges) {
        if (r.file != openName) {
            if (fd >= 0)
                ::close(fd);
            fd = ::open(QFile::encodeName(r.file).constData(), O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return -1;
            openName = r.file;
        }
        for (std::uint64_t done = 0; done < r.length;) {
            const std::size_t want = std::size_t(std::min<std::uint64_t>(buf.size(), r.length - done));
            const ssize_t n = ::pread(fd, buf.data(), want, off_t(r.offset + done));
            if (n <= 0) {
                ::close(fd);
                return -1;
            }
            sink = char(sink + buf[0]);
            done += std::uint64_t(n);
        }
    }
    if (fd >= 0)
        ::close(fd);
    return since(t0);
}

/// Drops the files' pages from the page cache (clean pages only: they were only read).
inline void dropCaches(const QStringList& files)
{
    for (const QString& f : files) {
        const int fd = ::open(QFile::encodeName(f).constData(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

/// How much of the files is in the page cache (0..1), from mincore over a mapping.
inline double residentFraction(const QStringList& files)
{
    std::uint64_t pages = 0, resident = 0;
    for (const QString& f : files) {
        auto opened = MappedFile::open(f);
        if (!opened || opened.value()->size() == 0)
            continue;
        const MappedFile& m = *opened.value();
        const auto page = std::uint64_t(::sysconf(_SC_PAGESIZE));
        const std::uint64_t n = (m.size() + page - 1) / page;
        std::vector<unsigned char> v(n);
        if (::mincore(const_cast<std::uint8_t*>(m.data()), m.size(), v.data()) != 0)
            continue;
        pages += n;
        for (unsigned char c : v)
            resident += c & 1;
    }
    return pages ? double(resident) / double(pages) : 0.0;
}

inline long procStatusKb(const char* key)
{
    std::ifstream f("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(key);
    while (std::getline(f, line))
        if (line.compare(0, n, key) == 0)
            return std::atol(line.c_str() + n + 1);
    return -1;
}

/// Runs `argv` (argv[0] names the program, `path` is where it is) in a child process with one
/// more argument, the number of a pipe it writes its answer to, and returns the answer (empty
/// when it could not run).
inline std::string answerOf(const char* path, std::vector<std::string> argv)
{
    const ChildRun run = runInChild([&](int writeFd) -> std::string {
        argv.push_back(std::to_string(writeFd));
        std::vector<char*> args;
        for (std::string& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        execv(path, args.data());
        _exit(127);
    });
    return run.started ? run.text : std::string();
}

}  // namespace paramscope::bench
