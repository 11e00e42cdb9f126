// Comparing two models (core/diff) against reading both, measured in the same run:
//
// - warm: both files page-cached; the diff (all cores, one fused two-input pass) vs a read()
//   loop over both files' tensor records: goal <= 2x;
// - cold: both files' pages dropped first (posix_fadvise DONTNEED); the same two: shown;
// - the Python loop a user writes (torch.load both, then per tensor (b-a).abs().max(),
//   torch.norm(b-a), cosine_similarity): goal >= 10x slower than the diff;
// - peak memory beyond both indexes, in a fresh process: goal <= 64 MB whatever the size.
//
//   /usr/bin/python3 scripts/make_big_model.py /tmp/bigmodels
//   /usr/bin/python3 bench/make_diff_pair.py /tmp/bigmodels/big_ts_350m.pt /tmp/bigmodels/big_ts_350m_b.pt
//   build/bench/bench_diff /tmp/bigmodels/big_ts_350m.pt /tmp/bigmodels/big_ts_350m_b.pt [A2 B2 ...]
#include "diff/diff.h"
#include "formats/loader.h"

#include "benchio.h"
#include "benchtable.h"
#include "childprocess.h"

#include <QCoreApplication>
#include <QFileInfo>

#include <thread>

using namespace paramscope;
using namespace paramscope::bench;

namespace {

std::uint64_t g_sliceBytes = DiffOptions{}.sliceBytes;

double diffOnce(const ModelIndex& a, const ModelIndex& b, int threads, DiffResult* out = nullptr)
{
    DiffOptions o;
    o.threads = threads;
    o.sliceBytes = g_sliceBytes;
    const auto t0 = Clock::now();
    const Alignment al = alignModels(a, b);
    DiffResult r = diffModels(a, b, al, o);
    const double s = since(t0);
    if (out)
        *out = std::move(r);
    return s;
}

/// In a fresh process: opens both, resets the peak RSS, diffs, writes "indexKb peakKb" to fd.
int memoryChild(const QString& a, const QString& b, int fd)
{
    auto ia = loadModel(a), ib = loadModel(b);
    std::string out = "fail";
    if (ia && ib) {
        const long idx = procStatusKb("VmRSS:");
        std::ofstream("/proc/self/clear_refs") << "5";
        diffOnce(*ia.value(), *ib.value(), 0);
        out = std::to_string(idx) + " " + std::to_string(procStatusKb("VmHWM:"));
    }
    return ::write(fd, out.data(), out.size()) == ssize_t(out.size()) ? 0 : 1;
}

bool diffMemory(const QString& a, const QString& b, long* indexKb, long* peakKb)
{
    const std::string text = answerOf("/proc/self/exe", {"bench_diff", "--slice-mb", std::to_string(g_sliceBytes >> 20),
                                                         "--memory-child", a.toStdString(), b.toStdString()});
    return std::sscanf(text.c_str(), "%ld %ld", indexKb, peakKb) == 2;
}

double pythonLoop(const QString& a, const QString& b)
{
    const char* code =
        "import os, sys, time, warnings, torch\n"
        "warnings.filterwarnings('ignore')\n"
        "def sd(p):\n"
        "    o = torch.load(p, map_location='cpu')\n"
        "    return o.state_dict() if isinstance(o, torch.nn.Module) else o\n"
        "t = time.perf_counter()\n"
        "A, B = sd(sys.argv[1]), sd(sys.argv[2])\n"
        "for k, a in A.items():\n"
        "    b = B.get(k)\n"
        "    if not isinstance(a, torch.Tensor) or b is None or a.shape != b.shape: continue\n"
        "    a, b = a.double(), b.double()\n"
        "    d = b - a\n"
        "    d.abs().max(); torch.norm(d)\n"
        "    torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0)\n"
        "os.write(int(sys.argv[3]), ('%.6f' % (time.perf_counter() - t)).encode())\n";
    double s = -1;
    const std::string text = answerOf("/usr/bin/python3", {"python3", "-c", code, a.toStdString(), b.toStdString()});
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
        const std::string arg = argv[i];
        if (arg == "--memory-child" && i + 3 < argc)
            return memoryChild(QString::fromLocal8Bit(argv[i + 1]), QString::fromLocal8Bit(argv[i + 2]),
                               std::atoi(argv[i + 3]));
        if (arg == "--slice-mb" && i + 1 < argc)
            g_sliceBytes = std::uint64_t(std::max(1, std::atoi(argv[++i]))) << 20;
        else if (arg == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--no-python")
            python = false;
        else if (arg == "--no-cold")
            cold = false;
        else
            files << QString::fromLocal8Bit(argv[i]);
    }
    if (files.isEmpty() || files.size() % 2) {
        std::fprintf(stderr, "usage: bench_diff [--runs N] [--slice-mb N] [--no-python] [--no-cold] A B [A2 B2 ...]\n");
        return 2;
    }
    int failures = 0;
    for (qsizetype k = 0; k + 1 < files.size(); k += 2) {
        const QString pa = files[k], pb = files[k + 1];
        auto la = loadModel(pa), lb = loadModel(pb);
        if (!la || !lb) {
            std::printf("%s\n", qPrintable(!la ? la.error() : lb.error()));
            ++failures;
            continue;
        }
        const ModelIndex& a = *la.value();
        const ModelIndex& b = *lb.value();
        std::vector<Range> records = tensorRecords(a);
        const std::vector<Range> rb = tensorRecords(b);
        records.insert(records.end(), rb.begin(), rb.end());
        QStringList paths;
        for (const Range& r : records)
            if (!paths.contains(r.file))
                paths << r.file;
        const double mb = double(totalBytes(records)) / 1e6;
        const std::string label =
            (QFileInfo(pa).fileName() + QStringLiteral(" vs ") + QFileInfo(pb).fileName()).toStdString();
        std::printf("%s: %zu and %zu tensors, %.1f MB of tensor records, %u core(s)\n", label.c_str(), a.entries.size(),
                    b.entries.size(), mb, std::thread::hardware_concurrency());

        readLoop(records);
        double readWarm = 1e300, diffWarm = 1e300;
        DiffResult result;
        for (int r = 0; r < runs; ++r) {
            readWarm = std::min(readWarm, readLoop(records));
            diffWarm = std::min(diffWarm, diffOnce(a, b, 0, &result));
        }
        const auto counts = result.counts();
        std::printf(
            "  warm: read() of both %.3f s (%.0f MB/s), diff %.3f s (%.0f MB/s), %.2fx; %d identical, %d close, "
            "%d changed, %d other\n",
            readWarm, mb / readWarm, diffWarm, mb / diffWarm, diffWarm / readWarm,
            counts[size_t(DiffStatus::Identical)], counts[size_t(DiffStatus::Close)],
            counts[size_t(DiffStatus::Changed)],
            int(result.pairs.size()) - counts[size_t(DiffStatus::Identical)] - counts[size_t(DiffStatus::Close)] -
                counts[size_t(DiffStatus::Changed)]);
        const double one = diffOnce(a, b, 1);
        std::printf("  warm, one thread: diff %.3f s (%.0f MB/s)\n", one, mb / one);
        printRow("diff warm, " + label, diffWarm, "s", "read() of both (warm)", readWarm, "<= 2x");

        if (cold) {
            double readCold = 1e300, diffCold = 1e300;
            for (int r = 0; r < runs; ++r) {
                dropCaches(paths);
                readCold = std::min(readCold, readLoop(records));
                dropCaches(paths);
                diffCold = std::min(diffCold, diffOnce(a, b, 0));
            }
            std::printf("  cold: read() of both %.3f s (%.0f MB/s), diff %.3f s (%.0f MB/s), %.2fx\n", readCold,
                        mb / readCold, diffCold, mb / diffCold, diffCold / readCold);
            printRow("diff cold, " + label, diffCold, "s", "read() of both (cold)", readCold, "<= 2x");
            readLoop(records);
        }

        long indexKb = 0, peakKb = 0;
        if (diffMemory(pa, pb, &indexKb, &peakKb)) {
            std::printf("  memory: %.1f MB with both indexes open, peak %.1f MB while comparing: +%.1f MB\n",
                        indexKb / 1024.0, peakKb / 1024.0, (peakKb - indexKb) / 1024.0);
            printRow("diff peak RSS beyond the indexes, " + label, peakKb / 1024.0, "MB", "RSS with both indexes open",
                     indexKb / 1024.0, "<= +64 MB");
        } else {
            std::printf("  memory: the child failed\n");
            ++failures;
        }

        if (python) {
            const double py = pythonLoop(pa, pb);
            if (py > 0) {
                std::printf(
                    "  Python torch.load both + per-tensor max|b-a|, norm, cosine: %.3f s; the diff is %.1fx "
                    "faster\n",
                    py, py / diffWarm);
                printRow("diff warm vs Python loop, " + label, diffWarm, "s", "Python torch.load + loop", py,
                         "<= 0.1x");
            } else {
                std::printf("  Python loop failed\n");
            }
        }
    }
    return failures ? 1 : 0;
}
