#pragma once

// Comparing two models tensor by tensor: their names aligned (a wrapper's prefix such as
// DDP's `module.` stripped, the user's prefix mappings applied), then every pair classified
// and measured in one fused pass over both tensors' values, on worker threads, reading both
// files front to back and letting go of the pages already compared (as the scan does).

#include "base/cancel.h"

#include <QString>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paramscope {

class ModelIndex;

/// What became of a tensor from model A to model B.
enum class DiffStatus : std::uint8_t {
    Identical,     // same dtype and shape, the same bytes
    Close,         // same dtype and shape, every value within the tolerance (not the same bytes)
    Changed,       // same dtype and shape, some value beyond the tolerance
    DTypeChanged,  // same shape, another dtype: values compared after widening to double
    ShapeChanged,  // another shape: not compared
    OnlyA,         // no tensor of that name in B
    OnlyB,         // no tensor of that name in A
    Failed,        // one of the two could not be read (PairDiff::error says why)
    Pending,       // not compared (yet)
};
constexpr int kDiffStatuses = 9;

/// "identical", "close", "changed", "dtype-changed", "shape-changed", "only-a", "only-b",
/// "error", "pending"
QString diffStatusId(DiffStatus s);
std::optional<DiffStatus> diffStatusFromId(const QString& id);
/// "Identical", "Within tolerance", "Changed", "Dtype changed", ...
QString diffStatusTitle(DiffStatus s);

/// A prefix of A's names rewritten before aligning (`--map 'encoder.=transformer.'`).
struct NameMapping {
    std::string from, to;
};

struct AlignOptions {
    /// Prefixes to strip from A's / B's names (where a name starts with it). Not given:
    /// detected (detectPrefixes) when `detect` is set, else none.
    std::optional<std::string> stripA, stripB;
    bool detect = true;
    std::vector<NameMapping> map;  // applied to A's names after stripping; the first that matches
};

/// The names of two models matched up.
struct Alignment {
    struct Pair {
        int a = -1, b = -1;  // entries of A and B (-1: none)
        std::string key;     // the aligned name (what the merged tree shows)
    };
    std::vector<Pair> pairs;     // A's entries in order, then B's only-in-B entries in B's order
    std::string stripA, stripB;  // the prefixes stripped
    bool detected = false;       // chosen by detectPrefixes rather than given
    std::vector<NameMapping> map;
    int matchedBefore = 0;  // names equal without stripping or mapping

    int matched() const;
    int onlyA() const;
    int onlyB() const;
};

/// The prefixes whose stripping aligns the most names: tried are the wrappers PyTorch adds
/// (`module.` from DataParallel/DDP, `_orig_mod.` from torch.compile, `model.` of a
/// Lightning or training-loop checkpoint) and any first name segment at least 90% of one
/// side's names share, on either side, alone or together. Nothing is stripped unless it
/// aligns more names than the plain names do.
struct PrefixGuess {
    std::string stripA, stripB;
    int matchedBefore = 0, matchedAfter = 0;
};
PrefixGuess detectPrefixes(const ModelIndex& a, const ModelIndex& b, const std::vector<NameMapping>& map = {});

Alignment alignModels(const ModelIndex& a, const ModelIndex& b, const AlignOptions& o = {});

/// One pair's comparison. The sums are over the elements finite in both.
struct PairDiff {
    DiffStatus status = DiffStatus::Pending;
    std::int64_t elements = 0;    // compared elements (the shared numel)
    std::int64_t bothFinite = 0;  // of them, finite in A and in B
    std::int64_t changed = 0;     // beyond the tolerance (NaN on both sides, or the same Inf, is equal)
    double maxAbsDiff = 0, sumAbsDiff = 0, sumSqDiff = 0, sumSqA = 0, sumSqB = 0, dot = 0;
    std::int64_t nanA = 0, nanB = 0, infA = 0, infB = 0;
    std::int64_t nanAppeared = 0, infAppeared = 0;  // NaN / ±Inf in B where A is finite
    bool sameBytes = true;                          // every element's bytes equal (same dtype only)
    QString error;

    bool compared() const
    {
        return status == DiffStatus::Identical || status == DiffStatus::Close || status == DiffStatus::Changed ||
               status == DiffStatus::DTypeChanged;
    }
    double meanAbsDiff() const;      // over bothFinite (0 when none)
    double relL2() const;            // ||b - a|| / ||a||: 0 when both are 0, +Inf when only a is 0
    double cosine() const;           // a.b / (||a|| ||b||): NaN when a norm is 0
    double changedFraction() const;  // changed / elements
};

struct DiffProgress {
    int pairsDone = 0, pairsTotal = 0;
    std::uint64_t bytesDone = 0, bytesTotal = 0;  // of both files
    double fraction() const
    {
        return bytesTotal ? double(bytesDone) / double(bytesTotal)
                          : (pairsTotal ? double(pairsDone) / double(pairsTotal) : 1.0);
    }
};

struct DiffOptions {
    /// Elements equal within |b - a| <= atol + rtol * |a| (numpy.isclose(b, a), equal_nan).
    double atol = 0, rtol = 0;
    int threads = 0;  // 0: one per core
    CancelToken cancel;
    bool releasePages = true;
    /// Pairs larger than this (in the wider dtype) are compared in slices on several threads;
    /// a slice's pages of both files are let go when it is done, so the peak memory stays a
    /// small multiple of 2 x threads x sliceBytes (bench_diff on two 5 GB files: 4 MiB as
    /// fast as 16 MiB, +32-52 MB at its peak against +64-113 MB at 8 MiB).
    std::uint64_t sliceBytes = std::uint64_t(4) << 20;
    /// Pairs finished since the last call (pair index into Alignment::pairs, result), at
    /// most about every `batchIntervalMs` and once at the end; from a worker thread.
    std::function<void(std::vector<std::pair<int, PairDiff>>&& batch, const DiffProgress& progress)> onBatch;
    int batchIntervalMs = 50;
};

struct DiffResult {
    Alignment alignment;
    std::vector<PairDiff> pairs;  // per alignment pair
    bool cancelled = false;
    DiffProgress progress;
    double atol = 0, rtol = 0;

    /// Pairs per status.
    std::array<int, kDiffStatuses> counts() const;
    /// Every pair identical or within tolerance (nothing only on one side, nothing reshaped,
    /// recast or unreadable).
    bool same() const;
};

/// Compares every pair of `alignment` (from alignModels(a, b)). Never fails as a whole: a
/// pair that cannot be read is Failed with its error; a cancelled diff leaves pairs Pending.
DiffResult diffModels(const ModelIndex& a, const ModelIndex& b, const Alignment& alignment,
                      const DiffOptions& options = {});

/// Adds the figures of `part` (another slice of the same pair) to `into`.
void mergePairDiff(PairDiff& into, const PairDiff& part);

/// Parses "FROM=TO" (a --map argument); nullopt when there is no '='.
std::optional<NameMapping> parseNameMapping(const QString& text);

}  // namespace paramscope
