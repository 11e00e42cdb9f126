// Time to an opened index and peak memory: the native archive reader vs LibTorch's
// loader vs Python's torch.jit.load / torch.load, measured in the same run on the same
// (page-cached) files. Each measurement runs in a fresh child process; its peak RSS is
// the child's ru_maxrss from wait4, and the baseline child (which only starts, with the
// same libraries loaded) is subtracted to show what opening the file cost.
//
//   /usr/bin/python3 scripts/make_big_model.py /tmp/bigmodels
//   build/bench/bench_open /tmp/bigmodels/big_ts_350m.pt /tmp/bigmodels/big_ts_3g.pt /tmp/bigmodels/big_sv_4g.pt
#include "formats/loader.h"
#include "base/mappedfile.h"
#include "model/torchbackend.h"
#include "formats/zip/zipreader.h"

#include "benchtable.h"
#include "childprocess.h"

#include <QCoreApplication>
#include <QFileInfo>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace paramscope;

namespace {

struct Sample {
    bool ok = false;
    double seconds = 0;
    long maxRssKb = 0;
    long entries = 0;
    std::string message;
};

enum class Method { Baseline, Native, LibTorch, LibTorchBaseline, Python, PythonBaseline };

const char* methodName(Method m)
{
    switch (m) {
        case Method::Baseline:
            return "baseline (no load)";
        case Method::Native:
            return "native reader";
        case Method::LibTorch:
            return "LibTorch jit::load";
        case Method::LibTorchBaseline:
            return "LibTorch plug-in only";
        case Method::Python:
            return "Python torch";
        case Method::PythonBaseline:
            return "Python import torch";
    }
    return "?";
}

// Runs one measurement in a child; the child writes "ok seconds entries message" to a pipe.
Sample measure(Method method, const QString& path, bool torchScript)
{
    const bench::ChildRun run = bench::runInChild([&](int writeFd) {
        if (method == Method::Python || method == Method::PythonBaseline) {
            // The timer starts after `import torch`, as for the C++ loaders (libraries loaded).
            const std::string code = std::string("import sys,time,torch\n") + "t=time.perf_counter()\n" +
                                     (method == Method::PythonBaseline ? "n=0\n"
                                      : torchScript ? "m=torch.jit.load(sys.argv[1]); n=len(m.state_dict())\n"
                                                    : "m=torch.load(sys.argv[1]); n=len(m)\n") +
                                     "d=time.perf_counter()-t\n"
                                     "import os\nos.write(int(sys.argv[2]), ('1 %.6f %d ok' % (d, n)).encode())\n";
            const std::string fd = std::to_string(writeFd);
            const std::string p = path.toStdString();
            execl("/usr/bin/python3", "python3", "-c", code.c_str(), p.c_str(), fd.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        std::string out;
        if (method == Method::LibTorch || method == Method::LibTorchBaseline) {
            // LibTorch is a plug-in loaded on first use: load it before the timer starts,
            // like Python's `import torch`, so only opening the file is timed.
            QString error;
            if (!detail::torchBackend(&error)) {
                out = "0 0 0 " + error.toStdString();
                method = Method::Baseline;
            }
        }
        if (method == Method::Baseline || method == Method::LibTorchBaseline) {
            if (out.empty())
                out = "1 0 0 ok";
        } else {
            LoadOptions o;
            o.engine = method == Method::Native ? LoaderEngine::Native : LoaderEngine::LibTorch;
            const auto t0 = std::chrono::steady_clock::now();
            // LibTorch's own cost, in this process (so wait4 counts its memory): the LibTorch
            // engine of the product runs the same load inside its helper process.
            const auto r = method == Method::LibTorch ? detail::loadWithLibTorchInProcess(path, o) : loadModel(path, o);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r.ok())
                out = "1 " + std::to_string(s) + " " + std::to_string(r.value()->entries.size()) + " ok";
            else
                out = "0 " + std::to_string(s) + " 0 " + r.error().left(160).toStdString();
        }
        return out;
    });
    if (!run.started)
        return {};
    const std::string& text = run.text;
    const int status = run.status;
    Sample s;
    s.maxRssKb = run.maxRssKb;
    int ok = 0;
    char msg[400] = {0};
    if (std::sscanf(text.c_str(), "%d %lf %ld %399[^\n]", &ok, &s.seconds, &s.entries, msg) >= 3) {
        s.ok = ok == 1;
        s.message = msg;
    } else {
        s.message = "child failed (exit status " + std::to_string(status) + ")";
    }
    return s;
}

// The fastest of `runs` (times) and the largest peak RSS (memory).
Sample best(Method m, const QString& path, bool ts, int runs)
{
    Sample b;
    for (int i = 0; i < runs; ++i) {
        Sample s = measure(m, path, ts);
        if (i == 0 || (s.ok && s.seconds < b.seconds))
            b.seconds = s.seconds, b.ok = s.ok, b.entries = s.entries, b.message = s.message;
        b.maxRssKb = std::max(b.maxRssKb, s.maxRssKb);
    }
    return b;
}

bool isTorchScript(const QString& path)
{
    // Only the zip directory is read here, so the parent stays small: every child is
    // forked from it and the baseline child shows what the parent costs.
    auto file = MappedFile::open(path);
    if (!file)
        return false;
    auto zip = ZipReader::open(file.value());
    if (!zip)
        return false;
    for (const auto& e : zip->entries())
        if (e.name.size() >= 14 && e.name.compare(e.name.size() - 14, 14, "/constants.pkl") == 0)
            return true;
    return false;
}

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QStringList files = app.arguments().mid(1);
    if (files.isEmpty()) {
        std::fprintf(stderr, "usage: bench_open MODEL.pt...  (make them with scripts/make_big_model.py)\n");
        return 2;
    }
    const int runs = 3;
    for (const QString& f : files) {
        const double mb = double(QFileInfo(f).size()) / 1e6;
        const bool ts = isTorchScript(f);
        // Warm the page cache so every method reads the same cached file.
        if (int fd = open(f.toLocal8Bit().constData(), O_RDONLY); fd >= 0) {
            static char buf[1 << 20];
            while (read(fd, buf, sizeof buf) > 0) {
            }
            close(fd);
        }
        std::printf("\n%s: %.0f MB, %s (best of %d runs; RSS = child peak, delta = minus its baseline)\n",
                    qPrintable(QFileInfo(f).fileName()), mb, ts ? "TorchScript" : "torch.save", runs);
        const Sample base = best(Method::Baseline, f, ts, 1);
        const Sample pyBase = best(Method::PythonBaseline, f, ts, 1);
        const Sample native = best(Method::Native, f, ts, runs);
        const Sample lib = ts ? best(Method::LibTorch, f, ts, runs) : Sample{};
        const Sample libBase = ts ? best(Method::LibTorchBaseline, f, ts, 1) : Sample{};
        const Sample py = best(Method::Python, f, ts, runs);
        auto row = [&](Method m, const Sample& s, const Sample& baseline) {
            const double delta = double(s.maxRssKb - baseline.maxRssKb) / 1024.0;
            std::printf("  %-22s %10.4f s  peak RSS %8.1f MB  delta %8.1f MB (%5.1f%% of file)  %ld tensors%s%s\n",
                        methodName(m), s.seconds, s.maxRssKb / 1024.0, delta, 100.0 * delta / mb, s.entries,
                        s.ok ? "" : "  FAILED: ", s.ok ? "" : s.message.c_str());
        };
        row(Method::Baseline, base, base);
        row(Method::Native, native, base);
        if (ts) {
            row(Method::LibTorchBaseline, libBase, libBase);
            row(Method::LibTorch, lib, libBase);
        } else
            std::printf("  %-22s (cannot open torch.save files)\n", methodName(Method::LibTorch));
        row(Method::PythonBaseline, pyBase, pyBase);
        row(Method::Python, py, pyBase);
        auto ratio = [&](const char* what, const Sample& other, const Sample& otherBase) {
            if (!other.ok || !native.ok)
                return;
            const double nd = std::max(1.0, double(native.maxRssKb - base.maxRssKb));
            std::printf("  native vs %-12s %7.1fx faster to open, %7.1fx less added memory\n", what,
                        other.seconds / std::max(native.seconds, 1e-9),
                        double(other.maxRssKb - otherBase.maxRssKb) / nd);
        };
        if (ts)
            ratio("LibTorch", lib, libBase);
        ratio("Python", py, pyBase);
        // Goals: the index is read without the tensors, so opening costs a small fraction
        // of what a loader that reads every tensor pays: 100x less time, 20x less memory.
        auto rows = [&](const char* what, const Sample& other, const Sample& otherBase) {
            if (!other.ok || !native.ok)
                return;
            const std::string file = QFileInfo(f).fileName().toStdString() + " (" + std::to_string(std::int64_t(mb)) +
                                     " MB, " + (ts ? "TorchScript" : "torch.save") + ")";
            paramscope::bench::printRow("open " + file + ": native reader, time", native.seconds * 1e3, "ms", what,
                                        other.seconds * 1e3, "<= 0.01x");
            paramscope::bench::printRow("open " + file + ": native reader, added peak memory",
                                        double(std::max(0L, native.maxRssKb - base.maxRssKb)) / 1024.0, "MB", what,
                                        double(other.maxRssKb - otherBase.maxRssKb) / 1024.0, "<= 0.05x");
        };
        if (ts)
            rows("LibTorch jit::load", lib, libBase);
        rows(ts ? "Python torch.jit.load" : "Python torch.load", py, pyBase);
        std::fflush(stdout);
    }
    return 0;
}
