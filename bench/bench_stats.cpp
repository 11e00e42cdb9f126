// Benchmark (not a test): computeStats over 100M float32 values against a plain memory
// copy of the same bytes and against LibTorch's own ops (std_mean + histc + isnan().sum()),
// all measured in the same run. Goal, for statistics + histogram + quantiles together:
// within 3x of the copy, >= 10x faster than torch. The same for strided views of the same
// data (a transposed 10000x10000 view, a 3-D permute, the slice x[:, ::2]), each against a
// memcpy of as many bytes as the view holds.
//
// Usage: bench_stats [N=100000000]
#include "stats/stats.h"

#include "bench/benchtable.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace paramscope;

namespace {

/// CPU seconds of the whole process (all threads): less sensitive than wall time to other
/// work on a shared machine.
double cpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Timing {
    double wall = 1e300, cpu = 1e300;
};

/// Best wall and best CPU time over `reps` runs.
Timing bestOf(int reps, const std::function<void()>& f)
{
    Timing best;
    for (int i = 0; i < reps; ++i) {
        const double c0 = cpuSeconds();
        const auto t0 = std::chrono::steady_clock::now();
        f();
        const auto t1 = std::chrono::steady_clock::now();
        const double c1 = cpuSeconds();
        best.wall = std::min(best.wall, std::chrono::duration<double>(t1 - t0).count());
        best.cpu = std::min(best.cpu, c1 - c0);
    }
    return best;
}

TensorView viewOf(const torch::Tensor& t)
{
    auto keep = std::make_shared<torch::Tensor>(t);
    TensorView v;
    v.storage.owner = std::shared_ptr<const void>(keep, keep.get());
    v.storage.data = static_cast<const std::uint8_t*>(t.storage().data());
    v.storage.size = t.storage().nbytes();
    v.dtype = DType::Float32;
    v.shape = t.sizes().vec();
    v.strides = t.strides().vec();
    v.offset = t.storage_offset();
    return v;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::int64_t n = argc > 1 ? std::stoll(argv[1]) : 100'000'000;
    const int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
    std::printf("bench_stats: %lld float32 values (%.0f MB), %d threads (ours and LibTorch's)\n", (long long)n,
                double(n) * 4 / 1e6, threads);

    torch::manual_seed(1);
    torch::Tensor t = torch::randn({n}) * 3.0 + 1.0;
    {
        auto a = t.accessor<float, 1>();
        for (std::int64_t i = 0; i < n; i += n / 1000)
            a[i] = std::numeric_limits<float>::quiet_NaN();  // a few NaNs, as the torch ops must handle them
    }
    const TensorView v = viewOf(t);
    std::vector<std::uint8_t> dst(size_t(n) * 4);
    std::memset(dst.data(), 1, dst.size());  // fault the pages in before timing

    const int reps = 3;
    const Timing copy = bestOf(reps, [&] { std::memcpy(dst.data(), v.storage.data, dst.size()); });

    StatsOptions noHist;
    noHist.histogram = false;
    noHist.quantiles = false;
    TensorStats s1, s2;
    const Timing fused = bestOf(reps, [&] { s1 = computeStats(v, noHist).value(); });
    const Timing withHist = bestOf(reps, [&] { s2 = computeStats(v).value(); });
    StatsOptions exactOpt;
    exactOpt.exactQuantileLimit = n;  // exact quantiles: copy finite values + nth_element
    TensorStats s3;
    const Timing exact = bestOf(1, [&] { s3 = computeStats(v, exactOpt).value(); });

    Timing torchStdMean, torchHistc, torchIsnan;
    double tMean = 0, tStd = 0;
    std::int64_t tNan = 0;
    torchStdMean = bestOf(reps, [&] {
        auto [sd, mean] = torch::std_mean(t, /*unbiased=*/false);
        tStd = sd.item<double>();
        tMean = mean.item<double>();
    });
    torchHistc = bestOf(reps, [&] {
        auto h = torch::histc(t, 512, s1.min, s1.max);
        (void)h;
    });
    torchIsnan = bestOf(reps, [&] { tNan = t.isnan().sum().item<std::int64_t>(); });
    const Timing torchTotal{torchStdMean.wall + torchHistc.wall + torchIsnan.wall,
                            torchStdMean.cpu + torchHistc.cpu + torchIsnan.cpu};

    // Strided views of the same data, each against a memcpy of as many bytes as it holds
    // (the copy a contiguous tensor of its shape would take), measured here.
    struct ViewCase {
        const char* name;
        const char* figure;
        Timing copy, stats, withHist;
        Timing spanCopy;  // a memcpy of the storage the view spans, when that is more
    };
    std::vector<ViewCase> views;
    const std::int64_t side = 10000;
    if (n >= side * side) {
        const torch::Tensor square = t.narrow(0, 0, side * side).view({side, side});
        const std::pair<const char*, torch::Tensor> cases[] = {
            {"transposed 10000x10000 view (x.t())", square.t()},
            {"3-D permute of [1000, 100, 1000] (permute(2, 0, 1))", square.view({1000, 100, 1000}).permute({2, 0, 1})},
            {"strided slice x[:, ::2] of 10000x10000", square.slice(1, 0, side, 2)},
        };
        const char* figures[] = {"stats of a transposed 10000x10000 float32 view", "stats of a 3-D permuted view",
                                 "stats of a strided slice x[:, ::2]"};
        for (size_t i = 0; i < std::size(cases); ++i) {
            const TensorView sv = viewOf(cases[i].second);
            const size_t bytes = size_t(sv.numel()) * 4;
            ViewCase c{cases[i].first, figures[i], {}, {}, {}, {0, 0}};
            c.copy = bestOf(reps, [&] { std::memcpy(dst.data(), sv.storage.data, bytes); });
            // A slice with a step reads every cache line of what it spans: that copy too.
            const size_t span = size_t(requiredStorageElements(sv.shape, sv.strides, sv.offset) - sv.offset) * 4;
            if (span > bytes)
                c.spanCopy = bestOf(reps, [&] { std::memcpy(dst.data(), sv.base(), span); });
            c.stats = bestOf(reps, [&] { (void)computeStats(sv, noHist); });
            TensorStats sw;
            c.withHist = bestOf(reps, [&] { sw = computeStats(sv).value(); });
            // The numbers of the contiguous copy (counts exactly, sums up to rounding).
            if (sv.numel() == n && sw.nan != s2.nan)
                std::printf("warning: %s: %lld NaN, the contiguous tensor has %lld\n", c.name, (long long)sw.nan,
                            (long long)s2.nan);
            views.push_back(c);
        }
    }

    std::printf("\n%-58s %8s %8s %8s %8s\n", "", "wall s", "x copy", "cpu s", "x copy");
    auto row = [&](const char* what, const Timing& t) {
        std::printf("%-58s %8.3f %8.2f %8.3f %8.2f\n", what, t.wall, t.wall / copy.wall, t.cpu, t.cpu / copy.cpu);
    };
    row("memcpy of the same bytes (baseline)", copy);
    row("computeStats, statistics alone (no hist., no quantiles)", fused);
    row("computeStats, statistics + histogram + approx. quantiles", withHist);
    row("computeStats, exact quantiles (copy + nth_element)", exact);
    row("torch::std_mean", torchStdMean);
    row("torch::histc (512 bins)", torchHistc);
    row("isnan().sum()", torchIsnan);
    row("torch total (std_mean + histc + isnan().sum())", torchTotal);
    // The goals are for everything the details panel shows: statistics, histogram, quantiles.
    std::printf("\nratios (wall): with histogram / copy = %.2f (goal <= 3), statistics alone / copy = %.2f\n",
                withHist.wall / copy.wall, fused.wall / copy.wall);
    std::printf(
        "               torch total / with histogram = %.1f (goal >= 10), torch total / statistics alone = %.1f\n",
        torchTotal.wall / withHist.wall, torchTotal.wall / fused.wall);
    std::printf(
        "ratios (cpu):  with histogram / copy = %.2f, torch total / with histogram = %.1f, torch total / "
        "statistics alone = %.1f\n",
        withHist.cpu / copy.cpu, torchTotal.cpu / withHist.cpu, torchTotal.cpu / fused.cpu);
    std::printf("\ncross-check: NaN %lld (torch %lld), mean %.9g (torch, NaN-propagating: %.9g), std %.9g\n",
                (long long)s1.nan, (long long)tNan, s1.mean, tMean, s1.std);
    std::printf("             median %.6g ±%.2g (exact %.6g), bins %d\n", s2.quantiles.median(),
                s2.quantiles.errorBound, s3.quantiles.median(), s2.histogram.bins());
    std::printf("\nstrided views (each against a memcpy of as many bytes as the view holds)\n");
    for (const ViewCase& c : views) {
        std::printf("%s\n", c.name);
        auto viewRow = [&](const char* what, const Timing& t) {
            std::printf("  %-56s %8.3f %8.2f %8.3f %8.2f\n", what, t.wall, t.wall / c.copy.wall, t.cpu,
                        t.cpu / c.copy.cpu);
        };
        viewRow("memcpy of as many bytes (baseline)", c.copy);
        if (c.spanCopy.wall > 0)
            viewRow("memcpy of the storage it spans", c.spanCopy);
        viewRow("computeStats, statistics alone", c.stats);
        viewRow("computeStats, statistics + histogram + quantiles", c.withHist);
    }
    std::printf("\n");
    // Wall times: the statistics alone (the fused pass) and with histogram + quantiles
    // (everything the details panel shows).
    auto rows = [&](const std::string& what, const Timing& alone, const Timing& all, const Timing& base) {
        paramscope::bench::printRow("bench_stats: " + what + ", statistics alone", alone.wall * 1e3, "ms",
                                    "memcpy of the same bytes", base.wall * 1e3, "<= 3x");
        paramscope::bench::printRow("bench_stats: " + what + ", with histogram + quantiles", all.wall * 1e3, "ms",
                                    "memcpy of the same bytes", base.wall * 1e3, "<= 3x");
    };
    rows("stats of a contiguous float32 tensor", fused, withHist, copy);
    for (const ViewCase& c : views)
        rows(c.figure, c.stats, c.withHist, c.copy);
    (void)tStd;
    return 0;
}
