// The heatmap's reduction (core/heatmap) of a large matrix to 1024 x 1024 cells against a
// read() of the same bytes, warm, measured in the same run: goal <= 2x. With no arguments
// it writes its own 1 GiB float32 matrix (16384 x 16384, safetensors) into a temporary
// folder; FILE NAME measures a tensor of a model instead.
//
//   build/bench/bench_heatmap [--runs N] [FILE NAME]
#include "formats/loader.h"
#include "heatmap/heatmap.h"

#include "benchio.h"
#include "benchtable.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QTemporaryDir>

#include <random>

using namespace paramscope;
using namespace paramscope::bench;

namespace {

/// A safetensors file holding one rows x cols float32 matrix of noise.
bool writeMatrix(const QString& path, std::int64_t rows, std::int64_t cols)
{
    const std::string header = "{\"m\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(rows) + "," +
                               std::to_string(cols) + "],\"data_offsets\":[0," + std::to_string(rows * cols * 4) +
                               "]}}";
    std::FILE* f = std::fopen(QFile::encodeName(path).constData(), "wb");
    if (!f)
        return false;
    const std::uint64_t n = header.size();
    std::fwrite(&n, 8, 1, f);
    std::fwrite(header.data(), 1, header.size(), f);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0, 0.02f);
    std::vector<float> row(static_cast<size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        for (auto& x : row)
            x = normal(rng);
        std::fwrite(row.data(), 4, row.size(), f);
    }
    return std::fclose(f) == 0;
}

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    int runs = 3;
    QStringList rest;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else
            rest << QString::fromLocal8Bit(argv[i]);
    }
    QTemporaryDir dir;
    QString file;
    std::string name = "m";
    if (rest.size() == 2) {
        file = rest[0];
        name = rest[1].toStdString();
    } else {
        file = dir.filePath(QStringLiteral("matrix.safetensors"));
        std::printf("writing a 16384 x 16384 float32 matrix (1 GiB)...\n");
        if (!writeMatrix(file, 16384, 16384)) {
            std::printf("could not write %s\n", qPrintable(file));
            return 1;
        }
    }
    auto loaded = loadModel(file);
    if (!loaded) {
        std::printf("%s\n", qPrintable(loaded.error()));
        return 1;
    }
    const ModelIndex& index = *loaded.value();
    const int entry = index.findEntry(name);
    if (entry < 0) {
        std::printf("no tensor '%s'\n", name.c_str());
        return 1;
    }
    auto view = index.view(entry);
    auto matrix = view ? matrixOf(view.value()) : Result<Matrix>::failure(view.error());
    if (!matrix) {
        std::printf("%s\n", qPrintable(matrix.error()));
        return 1;
    }
    const std::vector<Range> records = tensorRecords(index, index.entries[size_t(entry)].storage);
    const double mb = double(totalBytes(records)) / 1e6;
    std::printf("%s in %s: %lld x %lld, %.1f MB\n", name.c_str(), qPrintable(QFileInfo(file).fileName()),
                static_cast<long long>(matrix->rows), static_cast<long long>(matrix->cols), mb);
    readLoop(records);
    double read = 1e300, reduceMax = 1e300, reduceMean = 1e300, reduce1 = 1e300;
    for (int r = 0; r < runs; ++r) {
        read = std::min(read, readLoop(records));
        for (auto [pooling, threads, best] :
             {std::tuple{Pooling::MaxAbs, 0, &reduceMax}, std::tuple{Pooling::Mean, 0, &reduceMean},
              std::tuple{Pooling::MaxAbs, 1, &reduce1}}) {
            HeatmapOptions o;
            o.pooling = pooling;
            o.threads = threads;
            const auto t0 = Clock::now();
            auto h = reduceMatrix(matrix.value(), o);
            const double s = since(t0);
            if (!h) {
                std::printf("%s\n", qPrintable(h.error()));
                return 1;
            }
            *best = std::min(*best, s);
        }
    }
    std::printf("  read() of the tensor's bytes %.3f s (%.0f MB/s)\n", read, mb / read);
    std::printf(
        "  reduce to 1024 x 1024, max |x|: %.3f s (%.0f MB/s), %.2fx; mean: %.3f s, %.2fx; max |x| on one thread: "
        "%.3f s\n",
        reduceMax, mb / reduceMax, reduceMax / read, reduceMean, reduceMean / read, reduce1);
    const std::string label = name + " (" + std::to_string(matrix->rows) + "x" + std::to_string(matrix->cols) + ")";
    printRow("heatmap 1024x1024 of " + label + ", max |x|", reduceMax, "s", "read() of the same bytes (warm)", read,
             "<= 2x");
    printRow("heatmap 1024x1024 of " + label + ", mean", reduceMean, "s", "read() of the same bytes (warm)", read,
             "<= 2x");
    return 0;
}
