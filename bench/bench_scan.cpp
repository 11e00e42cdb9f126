// The whole-model scan (core/scan) against reading the same bytes, measured in the same run:
//
// - warm: every file page-cached; the scan (all cores) vs a read() loop over the file's
//   tensor records (each storage's byte range, located through /proc/self/maps, in file
//   order, read in 1 MiB chunks into one buffer): goal <= 1.5x;
// - cold: the file's pages dropped before each run (posix_fadvise DONTNEED); the scan vs the
//   same read() loop: goal <= 1.2x;
// - the Python loop a user would write (torch.load, then per tensor isnan().any(),
//   abs().max(), std_mean): goal >= 10x slower than the scan;
// - peak memory beyond the index: a child process opens the file, resets its peak RSS
//   (/proc/self/clear_refs), scans, and reports how far the peak rose: goal <= 64 MB
//   whatever the file's size (pages already scanned are let go).
//
//   /usr/bin/python3 scripts/make_big_model.py /tmp/bigmodels
//   build/bench/bench_scan /tmp/bigmodels/big_ts_350m.pt /tmp/bigmodels/big_sv_4g.pt
//   build/bench/bench_scan --no-python --runs 5 --slice-mb 8 FILE...   (--slice-mb: ScanOptions::sliceBytes)
#include "base/mappedfile.h"
#include "formats/loader.h"
#include "model/modelindex.h"
#include "scan/findings.h"
#include "scan/scan.h"

#include "benchio.h"
#include "benchtable.h"
#include "childprocess.h"

#include <QCoreApplication>
#include <QFileInfo>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace paramscope;
using namespace paramscope::bench;

namespace {

std::uint64_t g_sliceBytes = ScanOptions{}.sliceBytes;

double scanOnce(const ModelIndex& index, int threads, int* findings = nullptr)
{
    ScanOptions o;
    o.threads = threads;
    o.sliceBytes = g_sliceBytes;
    const auto t0 = Clock::now();
    const ScanResult r = scanModel(index, o);
    const double s = since(t0);
    if (!r.complete() || !r.errors.empty())
        std::printf("  warning: scan incomplete or with %zu errors\n", r.errors.size());
    if (findings)
        *findings = int(allFindings(index, r.tensors).size());
    return s;
}

/// The child of scanMemory, a fresh process (nothing of the parent's heap in its RSS): opens
/// the file, resets its peak RSS, scans, writes "indexKb peakKb" to `fd`.
int memoryChild(const QString& path, int fd)
{
    auto r = loadModel(path);
    std::string out = "fail";
    if (r) {
        const long idx = procStatusKb("VmRSS:");
        std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
        scanOnce(*r.value(), 0);
        out = std::to_string(idx) + " " + std::to_string(procStatusKb("VmHWM:"));
    }
    return ::write(fd, out.data(), out.size()) == ssize_t(out.size()) ? 0 : 1;
}

/// Peak RSS growth of a scan beyond the opened index, measured in a fresh process.
bool scanMemory(const QString& path, long* indexKb, long* peakKb)
{
    const std::string text = answerOf("/proc/self/exe", {"bench_scan", "--slice-mb", std::to_string(g_sliceBytes >> 20),
                                                         "--memory-child", path.toStdString()});
    return std::sscanf(text.c_str(), "%ld %ld", indexKb, peakKb) == 2;
}

/// The Python loop a user writes, timed from after `import torch` (seconds, or -1).
double pythonLoop(const QString& path)
{
    const char* code =
        "import os, sys, time, torch\n"
        "t = time.perf_counter()\n"
        "obj = torch.load(sys.argv[1], map_location='cpu')\n"
        "if isinstance(obj, torch.nn.Module): obj = obj.state_dict()\n"
        "def tensors(o):\n"
        "    if isinstance(o, torch.Tensor): yield o\n"
        "    elif isinstance(o, dict):\n"
        "        for v in o.values(): yield from tensors(v)\n"
        "    elif isinstance(o, (list, tuple)):\n"
        "        for v in o: yield from tensors(v)\n"
        "bad = 0\n"
        "for x in tensors(obj):\n"
        "    x = x.float()\n"
        "    bad += bool(x.isnan().any())\n"
        "    x.abs().max()\n"
        "    torch.std_mean(x)\n"
        "d = time.perf_counter() - t\n"
        "os.write(int(sys.argv[2]), ('%.6f' % d).encode())\n";
    double s = -1;
    const std::string text = answerOf("/usr/bin/python3", {"python3", "-c", code, path.toStdString()});
    return std::sscanf(text.c_str(), "%lf", &s) == 1 ? s : -1;
}

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QStringList files;
    int runs = 3;
    bool python = true, cold = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (a == "--slice-mb" && i + 1 < argc)
            g_sliceBytes = std::uint64_t(std::max(1, std::atoi(argv[++i]))) << 20;
        else if (a == "--memory-child" && i + 2 < argc)
            return memoryChild(QString::fromLocal8Bit(argv[i + 1]), std::atoi(argv[i + 2]));
        else if (a == "--no-python")
            python = false;
        else if (a == "--no-cold")
            cold = false;
        else if (a == "-h" || a == "--help") {
            std::printf("usage: bench_scan [--runs N] [--slice-mb N] [--no-python] [--no-cold] FILE...\n");
            return 0;
        } else
            files << QString::fromLocal8Bit(argv[i]);
    }
    if (files.isEmpty()) {
        std::fprintf(
            stderr, "usage: bench_scan [--runs N] [--slice-mb N] [--no-python] [--no-cold] FILE... (see the source)\n");
        return 2;
    }
    int failures = 0;
    for (const QString& path : files) {
        auto loaded = loadModel(path);
        if (!loaded) {
            std::printf("%s: %s\n", qPrintable(path), qPrintable(loaded.error()));
            ++failures;
            continue;
        }
        const ModelIndex& index = *loaded.value();
        const std::vector<Range> records = tensorRecords(index);
        const std::uint64_t bytes = totalBytes(records);
        QStringList paths;
        for (const Range& r : records)
            if (!paths.contains(r.file))
                paths << r.file;
        const QString name = QFileInfo(path).fileName();
        const double mb = double(bytes) / 1e6;
        std::printf("%s: %zu tensors, %.1f MB of tensor records in %lld file(s), %d core(s)\n", qPrintable(name),
                    index.entries.size(), mb, static_cast<long long>(paths.size()),
                    int(std::thread::hardware_concurrency()));
        if (bytes == 0) {
            std::printf("  no tensor records found (the format names no byte ranges)\n");
            ++failures;
            continue;
        }

        // Warm: read once to fill the cache, then the best of `runs` of each.
        readLoop(records);
        double readWarm = 1e300, scanWarm = 1e300;
        int findings = 0;
        for (int r = 0; r < runs; ++r) {
            readWarm = std::min(readWarm, readLoop(records));
            scanWarm = std::min(scanWarm, scanOnce(index, 0, &findings));
        }
        std::printf("  warm: read() loop %.3f s (%.0f MB/s), scan %.3f s (%.0f MB/s), %.2fx; %d finding(s)\n", readWarm,
                    mb / readWarm, scanWarm, mb / scanWarm, scanWarm / readWarm, findings);
        const double scan1 = scanOnce(index, 1);
        std::printf("  warm, one thread: scan %.3f s (%.0f MB/s)\n", scan1, mb / scan1);
        const std::string label = name.toStdString();
        bench::printRow("scan warm, " + label, scanWarm, "s", "read() loop (warm)", readWarm, "<= 1.5x");

        if (cold) {
            double readCold = 1e300, scanCold = 1e300, residentRead = 0, residentScan = 0;
            for (int r = 0; r < runs; ++r) {
                dropCaches(paths);
                residentRead = std::max(residentRead, residentFraction(paths));
                readCold = std::min(readCold, readLoop(records));
                dropCaches(paths);
                residentScan = std::max(residentScan, residentFraction(paths));
                scanCold = std::min(scanCold, scanOnce(index, 0));
            }
            std::printf(
                "  cold (%.0f%% / %.0f%% still cached after dropping): read() loop %.3f s (%.0f MB/s), scan "
                "%.3f s (%.0f MB/s), %.2fx\n",
                100 * residentRead, 100 * residentScan, readCold, mb / readCold, scanCold, mb / scanCold,
                scanCold / readCold);
            bench::printRow("scan cold, " + label, scanCold, "s", "read() loop (cold)", readCold, "<= 1.2x");
            readLoop(records);  // warm again for what follows
        }

        long indexKb = 0, peakKb = 0;
        if (scanMemory(path, &indexKb, &peakKb)) {
            const double growth = double(peakKb - indexKb) / 1024.0;
            std::printf(
                "  memory: %.1f MB with the index open, peak %.1f MB while scanning: +%.1f MB (%.2f%% of the "
                "tensor bytes)\n",
                indexKb / 1024.0, peakKb / 1024.0, growth, 100.0 * growth * 1.048576 / mb);
            bench::printRow("scan peak RSS beyond the index, " + label, double(peakKb) / 1024.0, "MB",
                            "RSS with the index open", double(indexKb) / 1024.0, "<= +64 MB");
        } else {
            std::printf("  memory: the child failed\n");
            ++failures;
        }

        if (python && paths.size() == 1 && !path.endsWith(QLatin1String(".json"))) {
            const double py = pythonLoop(path);
            if (py > 0) {
                std::printf("  Python torch.load + isnan/abs().max/std_mean loop: %.3f s; the scan is %.1fx faster\n",
                            py, py / scanWarm);
                bench::printRow("scan warm vs Python loop, " + label, scanWarm, "s", "Python torch.load + loop", py,
                                "<= 0.1x");
            } else {
                std::printf("  Python loop failed\n");
            }
        }
    }
    return failures ? 1 : 0;
}
