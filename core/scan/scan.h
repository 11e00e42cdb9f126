#pragma once

// The whole-model scan: the statistics of every tensor of a model (the fused pass of
// computeStats: extremes, moments, norms, zeros, NaN, ±Inf), on worker threads, reading
// the files front to back and letting go of the pages already scanned, with the findings
// that say which tensors look broken (findings.h).

#include "base/cancel.h"
#include "base/result.h"
#include "stats/stats.h"

#include <QString>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace paramscope {

class ModelIndex;

/// What the scan keeps of one tensor: the figures of computeStats' fused pass (no quantiles
/// or histogram), over the same values (stored, |z| of complex, dequantized), with min, max,
/// mean, std, max |x| and the norms over the finite values only.
struct TensorScan {
    enum class State : std::uint8_t {
        Pending,  // not scanned (yet)
        Done,
        Failed,  // could not be read or has no statistics (ScanResult::errors says why)
    };
    State state = State::Pending;
    StatsValues values = StatsValues::Real;
    std::int64_t elements = 0, finite = 0, nan = 0, posInf = 0, negInf = 0, zeros = 0;
    double min = 0, max = 0, mean = 0, std = 0, maxAbs = 0, l1 = 0, l2 = 0;
    /// int64/uint64: min and max exactly (as TensorStats keeps them).
    std::optional<StatsInteger> minExact, maxExact;
    /// Tensors of two or more dimensions (floating and integer dtypes): how many rows
    /// (indices of the first dimension) are all zero; -1 when not checked.
    std::int64_t deadRows = -1;
    /// 2-D tensors: how many columns are all zero; -1 when not checked.
    std::int64_t deadColumns = -1;

    bool done() const { return state == State::Done; }
    bool hasFinite() const { return finite > 0; }
    bool constant() const;
    /// Exact text of min / max (the exact integer when there is one).
    QString minText() const;
    QString maxText() const;

    /// The scan figures of full statistics.
    static TensorScan fromStats(const TensorStats& s);
};

/// How far a scan has come.
struct ScanProgress {
    int tensorsDone = 0;
    int tensorsTotal = 0;
    std::uint64_t bytesDone = 0;
    std::uint64_t bytesTotal = 0;
    double fraction() const
    {
        return bytesTotal ? double(bytesDone) / double(bytesTotal)
                          : (tensorsTotal ? double(tensorsDone) / double(tensorsTotal) : 1.0);
    }
};

struct ScanOptions {
    int threads = 0;  // 0: one per core
    CancelToken cancel;
    /// Drop the pages of a file mapping once they are scanned, so memory stays bounded
    /// whatever the model's size (the page cache keeps them for a second reader).
    bool releasePages = true;
    /// Tensors are read in slices of about this many bytes (contiguous ones; the slices of
    /// one tensor run on several threads and their figures are merged). A slice's pages are
    /// let go when it is done, so the scan's peak memory is about threads x sliceBytes
    /// (bench_scan: 16 MiB reads as fast as 32 MiB with half the peak).
    std::uint64_t sliceBytes = std::uint64_t(16) << 20;
    /// Called with the tensors finished since the last call (entry, figures), at most about
    /// every `batchIntervalMs` and once at the end; from a scanning thread, never two at once.
    std::function<void(std::vector<std::pair<int, TensorScan>>&& batch, const ScanProgress& progress)> onBatch;
    int batchIntervalMs = 50;
};

struct ScanResult {
    std::vector<TensorScan> tensors;              // per entry of the index
    std::vector<std::pair<int, QString>> errors;  // entries that failed, with why (names the tensor)
    bool cancelled = false;                       // stopped early: tensors still Pending
    ScanProgress progress;
    bool complete() const { return !cancelled; }
};

/// Scans every entry of `index`. Never fails as a whole: a tensor that cannot be read is
/// Failed with its error, and a cancelled scan returns what it finished (cancelled = true).
ScanResult scanModel(const ModelIndex& index, const ScanOptions& options = {});

/// Merges the figures of consecutive pieces of one tensor (slices of its elements), as if
/// computed over the whole. Exposed for tests.
TensorScan mergeScans(const std::vector<TensorScan>& parts);

}  // namespace paramscope
