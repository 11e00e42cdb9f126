// Export against a file copy: the core export API (export/export.h) writing a selection
// of tensors to .safetensors, .pt and .npy, against copying the same number of bytes
// from file to file, measured in the same run on the same (page-cached) source.
//
// The fixture is written here: a float32 .safetensors file of about --mb MB (default
// 1024), half of it one tensor ("embed.weight", exported alone to .npy: NumPy's format
// holds one array) and half 16 MiB tensors; .safetensors and .pt take every tensor.
//
// The copy is what any export must at least do: read() the source in 8 MiB chunks,
// write() them to a temporary file in the destination's folder, fdatasync, rename over the
// destination; that is also how an export finishes (QSaveFile syncs and renames). Each
// figure is the best of --runs (default 3), copies and exports interleaved. The same again
// into a pipe that a thread drains (not a regular file: the export writes it directly,
// without a temporary file or a sync), which leaves out the disk and shows what the
// export itself costs.
//
//   build/bench/bench_export [--mb M] [--runs R] [--dir DIR]
#include "export/export.h"
#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/torchbackend.h"

#include "benchtable.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace paramscope;

namespace {

constexpr std::int64_t kChunkTensorBytes = 16 << 20;

/// Writes the fixture; returns false with a message on stderr.
bool writeFixture(const QString& path, std::int64_t bigBytes, int chunks)
{
    struct T {
        std::string name;
        std::int64_t bytes;
    };
    std::vector<T> tensors{{"embed.weight", bigBytes}};
    for (int i = 0; i < chunks; ++i)
        tensors.push_back({"layers." + std::to_string(i) + ".weight", kChunkTensorBytes});
    std::string header = "{";
    std::int64_t offset = 0;
    for (const T& t : tensors) {
        const std::int64_t rows = t.bytes / 4 / 1024;
        header += "\"" + t.name + "\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(rows) +
                  ",1024],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.bytes) + "]},";
        offset += t.bytes;
    }
    header += "\"__metadata__\":{\"format\":\"pt\"}}";
    header.append((8 - header.size() % 8) % 8, ' ');
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        std::fprintf(stderr, "bench_export: cannot write %s\n", qPrintable(path));
        return false;
    }
    std::uint64_t len = header.size();
    unsigned char le[8];
    for (int i = 0; i < 8; ++i)
        le[i] = static_cast<unsigned char>(len >> (8 * i));
    f.write(reinterpret_cast<const char*>(le), 8);
    f.write(header.data(), qint64(header.size()));
    // Values that vary (not a page of zeros the kernel could share): small floats.
    std::vector<float> block(1 << 20);
    for (size_t i = 0; i < block.size(); ++i)
        block[i] = float(i % 4099) * 1e-3f - 2.0f;
    for (std::int64_t left = offset; left > 0;) {
        const std::int64_t n = std::min<std::int64_t>(left, std::int64_t(block.size() * 4));
        if (f.write(reinterpret_cast<const char*>(block.data()), n) != n) {
            std::fprintf(stderr, "bench_export: writing %s failed\n", qPrintable(path));
            return false;
        }
        left -= n;
    }
    return f.flush();
}

/// Copies the first `bytes` of `from` to `to` as an atomic writer would (to what is not a
/// regular file, such as a pipe: directly, as an export does); seconds, or -1.
double copyFile(const QString& from, const QString& to, std::int64_t bytes)
{
    QElapsedTimer t;
    t.start();
    const bool device = QFileInfo::exists(to) && !QFileInfo(to).isFile();
    const QByteArray tmp = QFile::encodeName(device ? to : to + QStringLiteral(".copying"));
    const int in = ::open(QFile::encodeName(from).constData(), O_RDONLY);
    const int out = ::open(tmp.constData(), O_WRONLY | (device ? 0 : O_CREAT | O_TRUNC), 0644);
    bool ok = in >= 0 && out >= 0;
    std::vector<char> buf(8 << 20);
    for (std::int64_t left = bytes; ok && left > 0;) {
        const ssize_t n = ::read(in, buf.data(), size_t(std::min<std::int64_t>(left, std::int64_t(buf.size()))));
        ok = n > 0 && ::write(out, buf.data(), size_t(n)) == n;
        left -= n;
    }
    ok = ok && (device || ::fdatasync(out) == 0);
    if (in >= 0)
        ::close(in);
    if (out >= 0)
        ok = ::close(out) == 0 && ok;
    ok = ok && (device || ::rename(tmp.constData(), QFile::encodeName(to).constData()) == 0);
    return ok ? double(t.nsecsElapsed()) / 1e9 : -1;
}

struct Case {
    Case(const char* l, ExportFormat f, std::vector<int> e, std::int64_t b)
        : label(l), format(f), entries(std::move(e)), bytes(b)
    {
    }
    const char* label;
    ExportFormat format;
    std::vector<int> entries;
    std::int64_t bytes = 0;
    double exportS = 1e30, copyS = 1e30;
    double pipeExportS = 1e30, pipeCopyS = 1e30;  // into a pipe: no disk, only the work
    std::int64_t written = 0;
    QString error;
};

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    double mb = 1024;
    int runs = 3;
    QString dirArg;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        bool ok = i + 1 < args.size();
        if (ok && args[i] == QLatin1String("--mb"))
            mb = args[++i].toDouble(&ok);
        else if (ok && args[i] == QLatin1String("--runs"))
            runs = args[++i].toInt(&ok);
        else if (ok && args[i] == QLatin1String("--dir"))
            dirArg = args[++i];
        else
            ok = false;
        if (!ok || mb < 64 || runs < 1) {
            std::fprintf(stderr, "usage: bench_export [--mb M>=64] [--runs R>=1] [--dir DIR]\n");
            return 2;
        }
    }
    QTemporaryDir tmp(dirArg.isEmpty() ? QDir::tempPath() + QStringLiteral("/bench_export-XXXXXX")
                                       : QDir(dirArg).filePath(QStringLiteral("bench_export-XXXXXX")));
    if (!tmp.isValid()) {
        std::fprintf(stderr, "bench_export: no temporary folder\n");
        return 1;
    }
    const std::int64_t total = std::int64_t(mb * 1e6);
    const std::int64_t bigBytes = total / 2 / (4 << 10) * (4 << 10);  // whole rows of 1024 floats
    const int chunks = int(std::max<std::int64_t>(1, (total - bigBytes) / kChunkTensorBytes));
    const QString source = tmp.filePath(QStringLiteral("source.safetensors"));
    if (!writeFixture(source, bigBytes, chunks))
        return 1;
    auto loaded = loadModel(source);
    if (!loaded) {
        std::fprintf(stderr, "bench_export: %s\n", qPrintable(loaded.error()));
        return 1;
    }
    const ModelIndex& index = *loaded.value();
    std::vector<int> all(index.entries.size());
    for (size_t i = 0; i < all.size(); ++i)
        all[i] = int(i);
    std::int64_t allBytes = 0;
    for (const auto& e : index.entries)
        allBytes += e.bytes;

    std::vector<Case> cases;
    cases.emplace_back(".safetensors", ExportFormat::Safetensors, all, allBytes);
    QString torchError;
    const bool torch = detail::torchBackend(&torchError) != nullptr;  // the plug-in loads before any timer
    if (torch)
        cases.emplace_back(".pt", ExportFormat::Pt, all, allBytes);
    cases.emplace_back(".npy", ExportFormat::Npy, std::vector<int>{0}, index.entries[0].bytes);

    std::printf(
        "bench_export: %zu float32 tensors, %.0f MB, in %s; best of %d; copy = read/write 8 MiB, "
        "fdatasync, rename\n",
        index.entries.size(), double(allBytes) / 1e6, qPrintable(tmp.path()), runs);
    if (!torch)
        std::printf("(.pt skipped: %s)\n", qPrintable(torchError));
    const QString copyOut = tmp.filePath(QStringLiteral("copy.bin"));
    // A pipe drained by a thread: every byte is copied out of the source and into the pipe
    // (so the mapped pages are read), but no disk is involved.
    int pipeFds[2] = {-1, -1};
    if (::pipe(pipeFds) != 0) {
        std::fprintf(stderr, "bench_export: no pipe\n");
        return 1;
    }
    ::fcntl(pipeFds[1], F_SETPIPE_SZ, 1 << 20);
    std::atomic<std::int64_t> drained{0};
    std::thread drain([&] {
        std::vector<char> b(1 << 20);
        ssize_t n = 0;
        while ((n = ::read(pipeFds[0], b.data(), b.size())) > 0)
            drained += n;
    });
    const QString pipePath = QStringLiteral("/proc/self/fd/%1").arg(pipeFds[1]);
    auto timedExport = [&](Case& c, const QString& out, double* best) {
        QElapsedTimer t;
        t.start();
        const ExportResult res = exportTensors(index, c.entries, out, c.format);
        const double es = double(t.nsecsElapsed()) / 1e9;
        if (out != pipePath)
            QFile::remove(out);
        if (!res) {
            c.error = res.error();
            return;
        }
        c.written = res.value().bytesWritten;
        *best = std::min(*best, es);
    };
    auto timedCopy = [&](Case& c, const QString& out, double* best) {
        const double cs = copyFile(source, out, c.bytes);
        if (out != pipePath)
            QFile::remove(out);
        if (cs < 0)
            c.error = QStringLiteral("the copy to %1 failed").arg(out);
        else
            *best = std::min(*best, cs);
    };
    for (Case& c : cases) {
        const QString out = tmp.filePath(QStringLiteral("out") + QString::fromLatin1(c.label));
        for (int r = 0; r < runs && c.error.isEmpty(); ++r) {
            timedCopy(c, copyOut, &c.copyS);
            if (c.error.isEmpty())
                timedExport(c, out, &c.exportS);
            if (c.error.isEmpty())
                timedCopy(c, pipePath, &c.pipeCopyS);
            if (c.error.isEmpty())
                timedExport(c, pipePath, &c.pipeExportS);
        }
    }
    std::printf("\n%-14s %8s %8s %10s %8s %9s %8s   %12s %9s %8s\n", "format", "tensors", "MB", "export s", "GB/s",
                "copy s", "x copy", "into a pipe", "copy s", "x copy");
    for (const Case& c : cases) {
        if (!c.error.isEmpty()) {
            std::printf("%-14s failed: %s\n", c.label, qPrintable(c.error));
            continue;
        }
        std::printf("%-14s %8zu %8.0f %10.3f %8.2f %9.3f %8.2f   %12.3f %9.3f %8.2f\n", c.label, c.entries.size(),
                    double(c.written) / 1e6, c.exportS, double(c.bytes) / 1e9 / c.exportS, c.copyS, c.exportS / c.copyS,
                    c.pipeExportS, c.pipeCopyS, c.pipeExportS / c.pipeCopyS);
    }
    ::close(pipeFds[1]);
    drain.join();
    ::close(pipeFds[0]);
    std::printf(
        "(into a pipe: written directly, no file and no sync: what the export itself costs; %.0f MB "
        "drained)\n\n",
        double(drained.load()) / 1e6);
    bool ok = true;
    for (const Case& c : cases) {
        if (!c.error.isEmpty()) {
            ok = false;
            continue;
        }
        // An export reads each byte of the mapped source once and writes it once, as the
        // copy does; 2x leaves room for headers, the .pt's CRC-32 and page-fault costs of
        // the mapping, but not for a second pass or a whole extra copy of the data.
        const std::string what = "export " + std::to_string(c.entries.size()) + " tensor" +
                                 (c.entries.size() == 1 ? "" : "s") + " (" +
                                 std::to_string(std::int64_t(double(c.bytes) / 1e6)) + " MB) to " + c.label;
        paramscope::bench::printRow(what, c.exportS, "s", "file copy of the same bytes", c.copyS, "<= 2x");
        paramscope::bench::printRow(what + ", into a pipe", c.pipeExportS, "s", "copy of the same bytes into a pipe",
                                    c.pipeCopyS, "<= 2x");
    }
    return ok ? 0 : 1;
}
