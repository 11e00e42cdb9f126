// Long runs without growth: resident memory over
//   1. N open/close cycles of a real model: loadModel + ModelTree::build + the statistics
//      of one tensor (a different tensor each cycle), everything released at the end of
//      the cycle;
//   2. M consecutive tensor selections in the window (MainWindow, offscreen): each one
//      updates the details and statistics panels, and the run waits until the statistic
//      is on screen (StatsPanel::statsShown) before the next selection.
// RSS comes from /proc/self/statm, read after malloc_trim(0) so that memory glibc keeps
// free for reuse is not counted (a leak stays live and is counted). Each phase prints RSS
// at start, after its warm-up and at the end, and fails (exit 1) when
//   end - after-warm-up > bound (default 16 MB).
// Benchmark-style: not a CTest test (it takes minutes); run it by hand:
//   build/bench/bench_soak [MODEL] [--cycles N] [--selections M] [--tensors K] [--bound-mb B]
// MODEL defaults to resources/demo_model.pt. The selections go round the first K tensors
// (default: all); with K above the statistics panel's cache (1024) every selection
// computes afresh, and after the first round no new tree rows are expanded, so what
// grows then is a leak, not the window's state.
#include "formats/loader.h"
#include "ui/mainwindow.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "stats/stats.h"
#include "ui/statspanel.h"

#include "benchtable.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <string>

#include <malloc.h>
#include <unistd.h>

using namespace paramscope;

namespace {

double rssMb()
{
    malloc_trim(0);
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        std::fclose(f);
    }
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

struct Phase {
    const char* name = "";
    double start = 0, warm = 0, end = 0;
    bool ok = true;
    QString failure;
};

bool report(Phase& p, double boundMb)
{
    const double growth = p.end - p.warm;
    const bool within = growth <= boundMb;
    std::printf("%-34s start %8.1f MB  after warm-up %8.1f MB  end %8.1f MB  growth %+7.2f MB (bound %.0f MB): %s\n",
                p.name, p.start, p.warm, p.end, growth, boundMb, p.ok && within ? "ok" : "FAILED");
    if (!p.ok)
        std::printf("  %s\n", qPrintable(p.failure));
    else
        paramscope::bench::printRow(std::string("soak: ") + p.name + ", RSS at the end", p.end, "MB",
                                    "RSS after warm-up", p.warm, "<= +" + std::to_string(int(boundMb)) + " MB");
    return p.ok && within;
}

/// Phase 1: open, build the tree, compute one tensor's statistics, close.
Phase openCloseCycles(const QString& file, int cycles, int warmup)
{
    Phase p;
    p.name = "open/close cycles";
    p.start = rssMb();
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < cycles; ++i) {
        if (i == warmup)
            p.warm = rssMb();
        auto r = loadModel(file);
        if (!r) {
            p.ok = false;
            p.failure = QStringLiteral("cycle %1: %2").arg(QString::number(i), r.error());
            break;
        }
        const std::shared_ptr<const ModelIndex> index = r.value();
        const ModelTree tree = ModelTree::build(*index);
        if (index->entries.empty() || tree.size() < 1) {
            p.ok = false;
            p.failure = QStringLiteral("'%1' holds no tensor").arg(file);
            break;
        }
        const int entry = i % int(index->entries.size());
        auto s = computeStats(*index, entry);
        if (!s && index->entries[size_t(entry)].numel > 0) {
            p.ok = false;
            p.failure = QStringLiteral("cycle %1: %2").arg(QString::number(i), s.error());
            break;
        }
    }
    p.end = rssMb();
    std::printf("  %d cycles in %.1f s\n", cycles, double(t.elapsed()) / 1000.0);
    return p;
}

/// Phase 2: the window, one tensor selected after another.
Phase windowSelections(const QString& file, int selections, int warmup, int tensors)
{
    Phase p;
    p.name = "window tensor selections";
    p.start = rssMb();
    QElapsedTimer t;
    t.start();
    {
        MainWindow w;
        w.show();
        QEventLoop loop;
        bool loaded = false;
        QObject::connect(&w, &MainWindow::modelLoaded, &loop, [&] {
            loaded = true;
            loop.quit();
        });
        QObject::connect(&w, &MainWindow::loadFailed, &loop, [&](const QString&, const QString& message) {
            p.failure = message;
            loop.quit();
        });
        QTimer::singleShot(120000, &loop, &QEventLoop::quit);
        w.openFile(file);
        if (!loaded)
            loop.exec();
        auto* stats = w.findChild<StatsPanel*>(QStringLiteral("statsPanel"));
        const auto index = w.modelIndex();
        if (!loaded || !stats || !index || index->entries.empty()) {
            p.ok = false;
            if (p.failure.isEmpty())
                p.failure = QStringLiteral("the window did not open '%1'").arg(file);
            p.end = rssMb();
            return p;
        }
        // Tensors with elements only: an empty one shows no statistic to wait for.
        std::vector<int> entries;
        for (size_t i = 0; i < index->entries.size(); ++i)
            if (index->entries[i].numel > 0)
                entries.push_back(int(i));
        if (tensors > 0 && size_t(tensors) < entries.size())
            entries.resize(size_t(tensors));
        int shown = 0;
        QObject::connect(stats, &StatsPanel::statsShown, stats, [&] { ++shown; });
        for (int i = 0; i < selections && p.ok; ++i) {
            if (i == warmup)
                p.warm = rssMb();
            const int before = shown;
            w.selectEntry(entries[size_t(i) % entries.size()]);
            QElapsedTimer wait;
            wait.start();
            while (shown == before && wait.elapsed() < 30000)
                QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 50);
            // Deferred work (deleteLater, layout, paint) runs before the next selection.
            QCoreApplication::processEvents();
            if (shown == before) {
                p.ok = false;
                p.failure = QStringLiteral("selection %1 (entry %2): no statistic after 30 s (%3)")
                                .arg(QString::number(i), QString::number(entries[size_t(i) % entries.size()]),
                                     stats->statusText());
            }
        }
        p.end = rssMb();
        std::printf("  %d selections over %zu tensors in %.1f s (statistics cached per tensor: %d)\n", selections,
                    entries.size(), double(t.elapsed()) / 1000.0, stats->cachedCount());
    }
    return p;
}

}  // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);  // the window's settings stay out of the user's
    QTemporaryDir settingsDir;
    MainWindow::setSettingsFile(settingsDir.filePath(QStringLiteral("settings.ini")));

    QString file = QStringLiteral(PARAMSCOPE_SOURCE_DIR "/resources/demo_model.pt");
    int cycles = 1000, selections = 10000, tensors = 0;
    double boundMb = 16;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        auto next = [&](bool* ok) { return i + 1 < args.size() ? args[++i].toDouble(ok) : (*ok = false, 0.0); };
        bool ok = true;
        if (args[i] == QLatin1String("--cycles"))
            cycles = int(next(&ok));
        else if (args[i] == QLatin1String("--selections"))
            selections = int(next(&ok));
        else if (args[i] == QLatin1String("--tensors"))
            tensors = int(next(&ok));
        else if (args[i] == QLatin1String("--bound-mb"))
            boundMb = next(&ok);
        else if (args[i].startsWith(QLatin1String("--")))
            ok = false;
        else
            file = args[i];
        if (!ok || cycles < 2 || selections < 2) {
            std::fprintf(
                stderr, "usage: bench_soak [MODEL] [--cycles N>=2] [--selections M>=2] [--tensors K] [--bound-mb B]\n");
            return 2;
        }
    }
    if (!QFileInfo(file).isFile()) {
        std::fprintf(stderr, "bench_soak: '%s' is not a file\n", qPrintable(file));
        return 2;
    }
    std::printf("bench_soak: %s; RSS after malloc_trim(0); bound on end - after-warm-up: %.0f MB\n",
                qPrintable(QFileInfo(file).fileName()), boundMb);
    // Warm-up: a tenth of each run (caches, thread pools, fonts and lazily built tables settle).
    Phase a = openCloseCycles(file, cycles, std::max(1, cycles / 10));
    const bool okA = report(a, boundMb);
    Phase b = windowSelections(file, selections, std::max(1, selections / 10), tensors);
    const bool okB = report(b, boundMb);
    return okA && okB ? 0 : 1;
}
