// Time to an opened index and memory, for safetensors files and sharded checkpoints,
// against a baseline measured in the same run: reading every byte of the same files
// (the least a loader that reads the tensors up front pays, in time and in memory).
//
//   /usr/bin/python3 bench/make_big_safetensors.py /tmp/st_big      (about 2.7 GB; never commit)
//   bench_safetensors_open /tmp/st_big/big.safetensors /tmp/st_big/sharded/model.safetensors.index.json
//
// "Cold" runs first evict the files' pages from the page cache with
// posix_fadvise(POSIX_FADV_DONTNEED), which touches only these files.
#include "formats/loader.h"

#include "benchtable.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace paramscope;

namespace {

/// A field of /proc/self/status in kB (VmRSS, VmHWM).
long statusKb(const char* field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').value(0).toLong();
    return -1;
}

/// Resets VmHWM to the current RSS, so the next reading is the peak of what follows.
void resetPeak()
{
    QFile f(QStringLiteral("/proc/self/clear_refs"));
    if (f.open(QIODevice::WriteOnly))
        f.write("5");
}

void evict(const QStringList& files)
{
    for (const QString& path : files) {
        const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY);
        if (fd >= 0) {
            ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            ::close(fd);
        }
    }
}

/// The files a checkpoint consists of: the file itself, or the index and its shards.
QStringList filesOf(const QString& path)
{
    if (!path.endsWith(QLatin1String(".json")))
        return {path};
    QStringList files{path};
    const QDir dir = QFileInfo(path).absoluteDir();
    for (const QString& f : dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name))
        files << dir.filePath(f);
    return files;
}

/// Reads every byte through an 8 MiB buffer; returns a checksum so nothing is optimised away.
std::uint64_t readAll(const QStringList& files, std::uint64_t* bytes)
{
    std::vector<char> buf(8 << 20);
    std::uint64_t sum = 0;
    *bytes = 0;
    for (const QString& path : files) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        qint64 n = 0;
        while ((n = f.read(buf.data(), qint64(buf.size()))) > 0) {
            *bytes += std::uint64_t(n);
            for (qint64 i = 0; i < n; i += 4096)
                sum += std::uint8_t(buf[size_t(i)]);
        }
    }
    return sum;
}

double ms(const QElapsedTimer& t)
{
    return double(t.nsecsElapsed()) / 1e6;
}

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QStringList paths = app.arguments().mid(1);
    if (paths.isEmpty()) {
        std::fprintf(stderr,
                     "usage: bench_safetensors_open FILE.safetensors|INDEX.json ...\n"
                     "  generate one: /usr/bin/python3 bench/make_big_safetensors.py /tmp/st_big\n");
        return 2;
    }
    for (const QString& path : paths) {
        const QStringList files = filesOf(path);
        std::printf("== %s (%lld files)\n", qPrintable(path), static_cast<long long>(files.size()));

        // Cold open: the files' pages evicted first.
        evict(files);
        const long rss0 = statusKb("VmRSS");
        resetPeak();
        QElapsedTimer t;
        t.start();
        LoadResult r = loadModel(path);
        const double coldOpen = ms(t);
        if (!r) {
            std::printf("error: %s\n", qPrintable(r.error()));
            return 1;
        }
        const long peakOpen = statusKb("VmHWM") - rss0;
        const long heldOpen = statusKb("VmRSS") - rss0;
        const auto& idx = *r.value();
        const auto totals = idx.totals();
        std::printf("tensors: %zu, data: %.2f GB\n", idx.entries.size(), double(totals.bytes) / 1e9);

        // Warm opens (header pages cached): best of 5.
        double warmOpen = 1e30;
        for (int i = 0; i < 5; ++i) {
            t.restart();
            LoadResult again = loadModel(path);
            warmOpen = std::min(warmOpen, ms(t));
        }

        // Lazy access: the largest tensor's bytes, read through the index.
        int largest = 0;
        for (size_t i = 0; i < idx.entries.size(); ++i)
            if (idx.entries[i].bytes > idx.entries[size_t(largest)].bytes)
                largest = int(i);
        const long rss1 = statusKb("VmRSS");
        t.restart();
        auto view = idx.view(largest);
        std::uint64_t touched = 0;
        if (view)
            for (std::uint64_t i = 0; i < view->storage.size; i += 4096)
                touched += view->storage.data[i];
        const double firstTensor = ms(t);
        const long rssTensor = statusKb("VmRSS") - rss1;

        // Baseline: every byte of the same files, cold then warm.
        std::uint64_t bytes = 0;
        evict(files);
        t.restart();
        std::uint64_t sum = readAll(files, &bytes);
        const double coldRead = ms(t);
        t.restart();
        sum += readAll(files, &bytes);
        const double warmRead = ms(t);

        std::printf("open, cold cache:   %9.2f ms   (read every byte: %9.1f ms, %.0fx faster)\n", coldOpen, coldRead,
                    coldRead / coldOpen);
        std::printf("open, warm cache:   %9.2f ms   (read every byte: %9.1f ms, %.0fx faster)\n", warmOpen, warmRead,
                    warmRead / warmOpen);
        std::printf("memory during open: peak +%.1f MB, held +%.1f MB (file: %.0f MB, %.3f%% of it)\n",
                    double(peakOpen) / 1024, double(heldOpen) / 1024, double(bytes) / 1e6,
                    100.0 * double(peakOpen) * 1024 / double(bytes));
        std::printf("first touch of '%s' (%.0f MB, mapped lazily): %.1f ms, RSS +%.1f MB\n",
                    idx.entries[size_t(largest)].name.c_str(), double(idx.entries[size_t(largest)].bytes) / 1e6,
                    firstTensor, double(rssTensor) / 1024);
        // Goals: opening reads the header only, so it costs at most a hundredth of reading
        // the data, in time and in memory.
        const std::string name = QFileInfo(path).fileName().toStdString() + " (" +
                                 std::to_string(std::int64_t(double(bytes) / 1e6)) + " MB in " +
                                 std::to_string(files.size()) + (files.size() == 1 ? " file)" : " files)");
        paramscope::bench::printRow("open " + name + ", cold cache", coldOpen, "ms", "read every byte, cold", coldRead,
                                    "<= 0.01x");
        paramscope::bench::printRow("open " + name + ", warm cache", warmOpen, "ms", "read every byte, warm", warmRead,
                                    "<= 0.01x");
        paramscope::bench::printRow("open " + name + ", peak added memory", double(peakOpen) / 1024, "MB",
                                    "the files' size", double(bytes) / 1e6, "<= 0.01x");
        std::printf("(checksums %llu %llu)\n", static_cast<unsigned long long>(sum),
                    static_cast<unsigned long long>(touched));
    }
    return 0;
}
