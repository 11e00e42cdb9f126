#pragma once
// Internal to core/scan: the work plan of a scan and one unit of it.

#include "base/pagereleaser.h"
#include "scan/scan.h"

#include <QString>

#include <cstdint>
#include <vector>

namespace paramscope {
class ModelIndex;
}

namespace paramscope::scan_internal {

/// One unit of work: a whole tensor, or a slice of a contiguous one (whole rows of its
/// first dimension, or a run of elements when one row is larger than a slice).
struct ScanItem {
    int entry = -1;
    int part = 0;   // which slice
    int parts = 1;  // slices of this tensor
    bool sliced = false;
    bool byRows = false;  // sliced by rows: first/count are rows of rowElements
    std::int64_t rowElements = 0;
    std::int64_t first = 0, count = 0;  // rows or elements
    std::uint64_t bytes = 0;            // for progress
    std::uint64_t order = 0;            // where the bytes lie: the storage's read order
    std::int64_t offset = 0;            // and the slice's element offset in its storage
};

struct ScanPlan {
    std::vector<ScanItem> items;  // in read order
    std::int64_t tensors = 0;
    std::uint64_t bytes = 0;
};

ScanPlan planScan(const ModelIndex& index, std::uint64_t sliceBytes);

/// The all-zero rows and columns the parts of one tensor found.
struct ZeroLines {
    bool applies = false;      // the tensor has rows to check (two or more dimensions)
    bool wantColumns = false;  // and columns (2-D)
    bool rowsUnknown = false;  // a part could not check its rows
    std::int64_t deadRows = 0;
    bool columnsLive = false;                 // some part had a nonzero in every column
    std::vector<std::uint8_t> columnNonzero;  // otherwise: per column, a nonzero seen

    void merge(const ZeroLines& o);
    /// Sets t.deadRows / t.deadColumns (-1 when they do not apply).
    void finish(TensorScan& t) const;
};

/// The bytes an item read, for letting go of their pages afterwards.
struct Extent {
    const std::uint8_t* data = nullptr;
    std::uint64_t length = 0;
};

/// Starts reading an item's bytes from disk (MADV_WILLNEED), without waiting.
void prefetchItem(const ModelIndex& index, const ScanItem& item);

/// Scans one item into `out` and `lines`; `read` is set to the bytes it read (to hand to a
/// PageReleaser, base/pagereleaser.h). Returns false only when cancelled before it finished; a tensor that
/// cannot be read sets `error` (naming the tensor and its file).
bool scanItem(const ModelIndex& index, const ScanItem& item, const ScanOptions& o, TensorScan& out, ZeroLines& lines,
              QString& error, Extent& read);

}  // namespace paramscope::scan_internal
