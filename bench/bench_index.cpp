// What an opened index costs at scale, each figure beside a baseline measured in the same run:
//
// 1. 1M one-element tensors (torch.save state dict): the heap the index + module tree keep
//    and the peak RSS of opening them (as `paramscope-cli list` / `tree` do), per tensor beyond
//    the names themselves (the same names read into a std::vector<std::string>); also the
//    peak of opening a 100k-tensor state dict. Each runs in a fresh child process (peak RSS
//    from wait4), minus an idle child.
// 2. Opening a sharded safetensors checkpoint of 160 shards x 600 tensors, against reading
//    the same index and header bytes.
// 3. ModelTree::build + ModelTreeModel::setModel (dtypes, module classes) for 100k tensors,
//    against a plain loop building a std::map of the names.
//
// One command: it writes its fixtures with bench/make_index_fixtures.py (PyTorch) into a
// temporary folder, or takes a folder of them:
//
//   build/bench/bench_index [FIXTURE_DIR [memory|sharded|tree]]   (the last: only that part)
#include "bench/benchtable.h"
#include "bench/childprocess.h"

#include "formats/loader.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/models/modeltreemodel.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace paramscope;

#ifndef PARAMSCOPE_SOURCE_DIR
#define PARAMSCOPE_SOURCE_DIR "."
#endif

namespace {

std::size_t heapInUse()
{
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

struct ChildResult {
    bool ok = false;
    long peakKb = 0;            // the child's ru_maxrss
    double heapBytes = 0;       // heap still in use at the end, minus at the start
    long count = 0;             // tensors / names
    double indexHeapBytes = 0;  // of heapBytes, what the index alone keeps (before the tree)
    std::string message;
};

// Set by the work of a child that opens a file: the heap its index alone keeps.
double g_indexKept = 0;

// Runs `work` in a fresh child; it returns an error message or "", sets `count` and measures
// (heapInUse() at its end minus heapBefore) the heap it keeps while it still holds it.
using Work = std::function<std::string(long& count, double& heapKept, std::size_t heapBefore)>;
ChildResult inChild(const Work& work)
{
    const bench::ChildRun run = bench::runInChild([&](int) {
        long count = 0;
        double kept = 0;
        const std::string msg = work(count, kept, heapInUse());
        return std::to_string(count) + " " + std::to_string(kept) + " " + std::to_string(g_indexKept) + " " +
               (msg.empty() ? "ok" : msg);
    });
    const std::string& text = run.text;
    const int status = run.status;
    ChildResult r;
    r.peakKb = run.maxRssKb;
    char msg[400] = {0};
    if (std::sscanf(text.c_str(), "%ld %lf %lf %399[^\n]", &r.count, &r.heapBytes, &r.indexHeapBytes, msg) >= 3) {
        r.message = msg;
        r.ok = r.message == "ok";
    } else {
        r.message = "child failed (status " + std::to_string(status) + ")";
    }
    return r;
}

std::string openAndBuild(const QString& path, long& count, double& kept, std::size_t before)
{
    LoadOptions o;
    o.engine = LoaderEngine::Native;
    auto r = loadModel(path, o);
    if (!r)
        return r.error().toStdString();
    const double indexOnly = double(heapInUse()) - double(before);
    g_indexKept = indexOnly;
    const ModelTree tree = ModelTree::build(r.value());
    count = long(r.value()->entries.size());
    std::printf("  (%s: index %.0f B/tensor, tree %.0f B/tensor of heap)\n", qPrintable(path.section('/', -1)),
                indexOnly / double(count), (double(heapInUse()) - double(before) - indexOnly) / double(count));
    kept = double(heapInUse()) - double(before);
    return tree.size() > 0 ? std::string() : std::string("empty tree");
}

double bestMs(int runs, const std::function<void()>& f)
{
    double best = 1e300;
    for (int i = 0; i < runs; ++i) {
        QElapsedTimer t;
        t.start();
        f();
        best = std::min(best, double(t.nsecsElapsed()) / 1e6);
    }
    return best;
}

void warm(const QString& path)
{
    QFile f(path);
    if (f.open(QIODevice::ReadOnly))
        while (!f.read(1 << 20).isEmpty()) {
        }
}

// Reads the index and every shard's 8-byte length and JSON header, as the reader must.
std::size_t readHeaderBytes(const QString& folder, const QStringList& shards)
{
    std::size_t total = 0;
    {
        QFile f(folder + QStringLiteral("/model.safetensors.index.json"));
        if (f.open(QIODevice::ReadOnly))
            total += size_t(f.readAll().size());
    }
    std::vector<char> buf;
    for (const QString& s : shards) {
        const int fd = open(QFile::encodeName(folder + QLatin1Char('/') + s).constData(), O_RDONLY);
        if (fd < 0)
            continue;
        std::uint64_t len = 0;
        if (read(fd, &len, 8) == 8 && len < (1u << 30)) {
            buf.resize(size_t(len));
            total += size_t(std::max<ssize_t>(0, read(fd, buf.data(), buf.size())));
        }
        close(fd);
    }
    return total;
}

}  // namespace

int main(int argc, char** argv)
{
    QString dir;
    QTemporaryDir tmp;
    if (argc > 1) {
        dir = QString::fromLocal8Bit(argv[1]);
    } else {
        if (!tmp.isValid()) {
            std::fprintf(stderr, "bench_index: no temporary folder\n");
            return 1;
        }
        dir = tmp.path();
    }
    {
        std::printf("Writing fixtures into %s (bench/make_index_fixtures.py)...\n", qPrintable(dir));
        std::fflush(stdout);
        const int rc = QProcess::execute(QStringLiteral("/usr/bin/python3"),
                                         {QStringLiteral(PARAMSCOPE_SOURCE_DIR "/bench/make_index_fixtures.py"), dir});
        if (rc != 0) {
            std::fprintf(stderr, "bench_index: the fixture script failed (%d)\n", rc);
            return 1;
        }
    }
    const std::string only = argc > 2 ? argv[2] : "";
    const auto part = [&](const char* name) { return only.empty() || only == name; };
    const QString t1m = dir + QStringLiteral("/t1m.pt");
    const QString t100k = dir + QStringLiteral("/t100k.pt");
    const QString sharded = dir + QStringLiteral("/sharded");
    warm(t1m);
    warm(t100k);

    // 1. Memory, each in a fresh child.
    if (part("memory")) {
        const ChildResult idle = inChild([](long&, double&, std::size_t) { return std::string(); });
        const ChildResult names = inChild([&](long& count, double& kept, std::size_t before) {
            std::vector<std::string> v;
            v.reserve(1'000'000);
            std::ifstream in((dir + QStringLiteral("/names1m.txt")).toStdString());
            std::string line;
            while (std::getline(in, line))
                v.push_back(line);
            count = long(v.size());
            kept = double(heapInUse()) - double(before);
            return std::string();
        });
        const ChildResult open1m =
            inChild([&](long& c, double& k, std::size_t b) { return openAndBuild(t1m, c, k, b); });
        const ChildResult open100k =
            inChild([&](long& c, double& k, std::size_t b) { return openAndBuild(t100k, c, k, b); });
        for (const ChildResult* r : {&idle, &names, &open1m, &open100k})
            if (!r->ok) {
                std::fprintf(stderr, "bench_index: a measurement failed: %s\n", r->message.c_str());
                return 1;
            }
        const double n = double(open1m.count);
        const double keptBeyond = (open1m.heapBytes - names.heapBytes) / n;
        const double indexBeyond = (open1m.indexHeapBytes - names.heapBytes) / n;
        const double peakBeyond = double(open1m.peakKb - names.peakKb) * 1024.0 / n;
        std::printf("\n1M tensors (%ld): names as std::string: heap %.1f MB, peak RSS %.1f MB (idle child %.1f MB)\n",
                    open1m.count, names.heapBytes / 1e6, names.peakKb / 1024.0, idle.peakKb / 1024.0);
        std::printf(
            "  open + tree build: heap kept %.1f MB = %.0f B/tensor beyond the names; peak RSS %.1f MB = %.0f "
            "B/tensor beyond the names\n",
            open1m.heapBytes / 1e6, keptBeyond, open1m.peakKb / 1024.0, peakBeyond);
        std::printf("100k tensors: open + tree build peak RSS %.1f MB (idle child %.1f MB), heap kept %.1f MB\n",
                    open100k.peakKb / 1024.0, idle.peakKb / 1024.0, open100k.heapBytes / 1e6);
        // The figure: what the index of 1M tensors costs beyond its names (all that
        // `paramscope-cli list` keeps); the module tree of `tree` and of the window comes on top.
        bench::printRow("index 1M tensors (as list keeps it): heap beyond the names", indexBeyond, "B/tensor",
                        "names as std::string (heap)", names.heapBytes / n, "<= 200 B/tensor");
        bench::printRow("index + module tree 1M tensors (as tree, the window): heap beyond the names", keptBeyond,
                        "B/tensor", "names as std::string (heap)", names.heapBytes / n, "-");
        bench::printRow("index 1M tensors: peak RSS of open + tree beyond the names", peakBeyond, "B/tensor",
                        "names as std::string (peak RSS)", double(names.peakKb) * 1024.0 / n, "<= 200 B/tensor");
        bench::printRow("index 100k torch.save: peak RSS of open + tree", open100k.peakKb / 1024.0, "MB",
                        "idle child (peak RSS)", idle.peakKb / 1024.0, "-");
    }

    // 2. The sharded checkpoint.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QStringList shards = QDir(sharded).entryList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name);
    if (part("sharded")) {
        warm(sharded + QStringLiteral("/model.safetensors.index.json"));
        for (const QString& s : shards)
            warm(sharded + QLatin1Char('/') + s);
        std::size_t headerBytes = 0;
        const double readMs = bestMs(5, [&] { headerBytes = readHeaderBytes(sharded, shards); });
        long shardedTensors = 0;
        const double shardedMs = bestMs(5, [&] {
            LoadOptions o;
            o.engine = LoaderEngine::Native;
            auto r = loadModel(sharded + QStringLiteral("/model.safetensors.index.json"), o);
            shardedTensors = r ? long(r.value()->entries.size()) : -1;
        });
        std::printf(
            "\nSharded safetensors, %d shards, %ld tensors: open %.1f ms (best of 5); reading the same %.1f MB "
            "of index and headers %.1f ms\n",
            int(shards.size()), shardedTensors, shardedMs, double(headerBytes) / 1e6, readMs);
        bench::printRow("sharded safetensors 160x600 open", shardedMs, "ms", "read index + headers", readMs,
                        "<= 50 ms");
    }
    if (!part("tree"))
        return 0;

    // 3. Tree build + item model reset, 100k tensors, every module with a class.
    LoadOptions o;
    o.engine = LoaderEngine::Native;
    auto loaded = loadModel(t100k, o);
    if (!loaded) {
        std::fprintf(stderr, "bench_index: %s\n", qPrintable(loaded.error()));
        return 1;
    }
    auto index = std::make_shared<ModelIndex>(*loaded.value());
    for (const TensorEntry& e : index->entries)
        for (size_t dot = e.name.find('.'); dot != std::string::npos; dot = e.name.find('.', dot + 1))
            index->moduleTypes.emplace(e.name.substr(0, dot), "torch.nn.modules.linear.Linear");
    index->moduleTypes.emplace("", "models.Net");
    const std::shared_ptr<const ModelIndex> shared = index;
    ModelTreeModel model;
    int nodes = 0;
    const double treeMs = bestMs(5, [&] {
        auto tree = std::make_shared<const ModelTree>(ModelTree::build(*shared));
        nodes = tree->size();
        model.setModel(shared, tree);
    });
    const double buildMs = bestMs(5, [&] { nodes = ModelTree::build(*shared).size(); });
    std::size_t mapSize = 0;
    const double mapMs = bestMs(5, [&] {
        std::map<std::string, int> m;
        for (size_t i = 0; i < shared->entries.size(); ++i)
            m.emplace(shared->entries[i].name, int(i));
        mapSize = m.size();
    });
    std::printf(
        "\nTree, %zu tensors, %d nodes, %zu module classes: build + setModel %.1f ms (build alone %.1f ms); "
        "std::map of the names %.1f ms (%zu)\n",
        shared->entries.size(), nodes, shared->moduleTypes.size(), treeMs, buildMs, mapMs, mapSize);
    bench::printRow("tree build + model reset 100k tensors", treeMs, "ms", "std::map of the names", mapMs, "<= 100 ms");
    return 0;
}
