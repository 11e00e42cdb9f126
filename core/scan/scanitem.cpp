// One unit of a scan: the plan that slices large contiguous tensors, the fused statistics
// of an item, its all-zero rows and columns, and the page hints around it.

#include "scan/scan_p.h"

#include "base/dtype.h"
#include "base/mappedfile.h"
#include "base/textutil.h"
#include "model/modelindex.h"

#include <QFileInfo>

#include <algorithm>
#include <cstring>
#include <limits>

namespace paramscope::scan_internal {

namespace {

bool sliceable(const TensorEntry& e)
{
    if (e.sizeOverflow || dtypeIsQuantized(e.dtype) || dtypeIsComplex(e.dtype) || dtypeItemSize(e.dtype) <= 0)
        return false;
    // C-contiguous: each stride the product of the sizes after it (size-1 dimensions aside).
    std::int64_t expect = 1;
    for (size_t i = e.shape.size(); i-- > 0;) {
        if (e.shape[i] != 1 && e.strides[i] != expect)
            return false;
        expect *= e.shape[i];
    }
    return e.strides.size() == e.shape.size();
}

bool rowsApply(const std::vector<std::int64_t>& shape, DType t)
{
    return shape.size() >= 2 && shape[0] >= 2 && !dtypeIsQuantized(t) && !dtypeIsComplex(t);
}

}  // namespace

ScanPlan planScan(const ModelIndex& index, std::uint64_t sliceBytes)
{
    ScanPlan plan;
    sliceBytes = std::max<std::uint64_t>(sliceBytes, 4096);
    plan.tensors = std::int64_t(index.entries.size());
    plan.items.reserve(index.entries.size());
    for (size_t i = 0; i < index.entries.size(); ++i) {
        const TensorEntry& e = index.entries[i];
        ScanItem item;
        item.entry = int(i);
        item.order = index.provider && e.storage >= 0 ? index.provider->readOrder(e.storage)
                                                      : std::numeric_limits<std::uint64_t>::max();
        item.offset = e.storageOffset;
        item.bytes = e.sizeOverflow || e.bytes < 0 ? 0 : std::uint64_t(e.bytes);
        plan.bytes += item.bytes;
        const std::uint64_t isz = std::uint64_t(std::max(1, dtypeItemSize(e.dtype)));
        if (!sliceable(e) || item.bytes <= sliceBytes + sliceBytes / 2 || e.numel <= 1) {
            plan.items.push_back(item);
            continue;
        }
        const std::int64_t rows = e.shape.empty() ? 0 : e.shape[0];
        const std::int64_t rowElements = rows > 0 ? e.numel / rows : 0;
        if (e.shape.size() >= 2 && rows >= 2 && std::uint64_t(rowElements) * isz <= sliceBytes) {
            const std::int64_t per =
                std::int64_t(std::max<std::uint64_t>(1, sliceBytes / (std::uint64_t(rowElements) * isz)));
            const std::int64_t parts = (rows + per - 1) / per;
            for (std::int64_t p = 0; p < parts; ++p) {
                ScanItem s = item;
                s.sliced = s.byRows = true;
                s.rowElements = rowElements;
                s.part = int(p);
                s.parts = int(parts);
                s.first = p * per;
                s.count = std::min(per, rows - s.first);
                s.bytes = std::uint64_t(s.count) * std::uint64_t(rowElements) * isz;
                s.offset = e.storageOffset + s.first * rowElements;
                plan.items.push_back(s);
            }
        } else {
            const std::int64_t per = std::int64_t(sliceBytes / isz);
            const std::int64_t parts = (e.numel + per - 1) / per;
            for (std::int64_t p = 0; p < parts; ++p) {
                ScanItem s = item;
                s.sliced = true;
                s.part = int(p);
                s.parts = int(parts);
                s.first = p * per;
                s.count = std::min(per, e.numel - s.first);
                s.bytes = std::uint64_t(s.count) * isz;
                s.offset = e.storageOffset + s.first;
                plan.items.push_back(s);
            }
        }
    }
    std::stable_sort(plan.items.begin(), plan.items.end(), [](const ScanItem& a, const ScanItem& b) {
        if (a.order != b.order)
            return a.order < b.order;
        return a.offset < b.offset;
    });
    return plan;
}

void ZeroLines::merge(const ZeroLines& o)
{
    if (!o.applies)
        return;
    applies = true;
    wantColumns = wantColumns || o.wantColumns;
    rowsUnknown = rowsUnknown || o.rowsUnknown;
    deadRows += o.deadRows;
    if (columnsLive || o.columnsLive) {
        columnsLive = true;
        columnNonzero = {};
        return;
    }
    if (columnNonzero.empty()) {
        columnNonzero = o.columnNonzero;
        return;
    }
    for (size_t c = 0; c < columnNonzero.size() && c < o.columnNonzero.size(); ++c)
        columnNonzero[c] |= o.columnNonzero[c];
}

void ZeroLines::finish(TensorScan& t) const
{
    t.deadRows = applies && !rowsUnknown ? deadRows : -1;
    t.deadColumns = -1;
    if (applies && wantColumns && !rowsUnknown)
        t.deadColumns = columnsLive ? 0 : std::int64_t(std::count(columnNonzero.begin(), columnNonzero.end(), 0));
}

namespace {

/// Counts the all-zero rows of `rows` x `cols` elements (C order) of `v`, and marks the
/// columns that hold a nonzero. Zero is +0 or -0 for floats (0x00 only for the FNUZ
/// float8 formats, whose 0x80 is NaN), 0 for integers and false for bool.
template <typename Word>
void zeroLinesOf(const TensorView& v, std::int64_t rows, std::int64_t cols, Word mask, ZeroLines& out,
                 const CancelToken& cancel)
{
    const bool contiguous = v.isContiguous();
    std::vector<Word> buffer(contiguous ? 0 : size_t(cols));
    if (out.wantColumns)
        out.columnNonzero.assign(size_t(cols), 0);
    std::uint8_t* nonzero = out.columnNonzero.data();
    for (std::int64_t r = 0; r < rows; ++r) {
        if ((r & 255) == 0 && isCancelled(cancel))
            return;
        const Word* row;
        if (contiguous) {
            row = reinterpret_cast<const Word*>(v.base()) + r * cols;
        } else {
            v.copyRange(r * cols, cols, reinterpret_cast<std::uint8_t*>(buffer.data()));
            row = buffer.data();
        }
        bool any = false;
        if (out.wantColumns) {
            for (std::int64_t c = 0; c < cols; ++c) {
                Word w;
                std::memcpy(&w, row + c, sizeof w);
                if (w & mask) {
                    any = true;
                    nonzero[c] = 1;
                }
            }
        } else {
            for (std::int64_t c = 0; c < cols && !any; ++c) {
                Word w;
                std::memcpy(&w, row + c, sizeof w);
                any = (w & mask) != 0;
            }
        }
        out.deadRows += any ? 0 : 1;
    }
}

void findZeroLines(const TensorView& v, const TensorScan& s, std::int64_t rows, std::int64_t cols, bool twoD,
                   ZeroLines& out, const CancelToken& cancel)
{
    out.applies = true;
    out.wantColumns = twoD;
    // An all-zero row needs `cols` zeros, an all-zero column `rows` of them.
    const bool rowsPossible = s.zeros >= cols;
    const bool columnsPossible = twoD && s.zeros >= rows;
    out.columnsLive = !columnsPossible;
    if (!rowsPossible && !columnsPossible)
        return;
    ZeroLines lines;
    lines.wantColumns = columnsPossible;
    const DType t = v.dtype;
    const bool signedZero = dtypeIsFloating(t) && t != DType::Float8E4M3FNUZ && t != DType::Float8E5M2FNUZ;
    switch (dtypeItemSize(t)) {
        case 1:
            zeroLinesOf<std::uint8_t>(v, rows, cols, signedZero ? 0x7f : 0xff, lines, cancel);
            break;
        case 2:
            zeroLinesOf<std::uint16_t>(v, rows, cols, signedZero ? 0x7fff : 0xffff, lines, cancel);
            break;
        case 4:
            zeroLinesOf<std::uint32_t>(v, rows, cols, signedZero ? 0x7fffffffu : 0xffffffffu, lines, cancel);
            break;
        case 8:
            zeroLinesOf<std::uint64_t>(v, rows, cols, signedZero ? 0x7fffffffffffffffull : ~0ull, lines, cancel);
            break;
        default:
            out.rowsUnknown = true;
            return;
    }
    out.deadRows = lines.deadRows;
    if (columnsPossible)
        out.columnNonzero = std::move(lines.columnNonzero);
}

/// The bytes of `v`'s elements: from its first to past its last addressed element.
std::pair<const std::uint8_t*, std::uint64_t> extentOf(const TensorView& v)
{
    const std::int64_t n = v.numel();
    if (n <= 0 || !v.storage.data)
        return {nullptr, 0};
    const std::int64_t need = requiredStorageElements(v.shape, v.strides, v.offset);
    if (need <= v.offset)
        return {nullptr, 0};
    const auto isz = std::uint64_t(dtypeItemSize(v.dtype));
    return {v.base(), std::uint64_t(need - v.offset) * isz};
}

/// The view of a tensor narrowed to an item's slice (rows or elements of its storage).
void narrowToItem(TensorView& v, const ScanItem& item)
{
    if (item.sliced && item.byRows) {
        v.shape = {item.count, item.rowElements};
        v.strides = {item.rowElements, 1};
        v.offset += item.first * item.rowElements;
    } else if (item.sliced) {
        v.shape = {item.count};
        v.strides = {1};
        v.offset += item.first;
    }
}

}  // namespace

void prefetchItem(const ModelIndex& index, const ScanItem& item)
{
    auto viewed = index.view(item.entry);
    if (!viewed)
        return;
    TensorView& v = viewed.value();
    narrowToItem(v, item);
    const auto [bytes, length] = extentOf(v);
    if (length > 0)
        MappedFile::advise(bytes, length, MappedFile::Advice::WillNeed);
}

bool scanItem(const ModelIndex& index, const ScanItem& item, const ScanOptions& o, TensorScan& out, ZeroLines& lines,
              QString& error, Extent& read)
{
    read = {};
    const TensorEntry& e = index.entries[size_t(item.entry)];
    auto viewed = index.view(item.entry);
    if (!viewed) {
        error = viewed.error();
        return true;
    }
    TensorView v = std::move(viewed.value());
    const std::vector<std::int64_t> logicalShape = v.shape;
    narrowToItem(v, item);
    const auto [bytes, length] = extentOf(v);
    if (o.releasePages && length >= (std::uint64_t(1) << 20))
        MappedFile::advise(bytes, length, MappedFile::Advice::Sequential);

    StatsOptions so;
    so.histogram = false;
    so.quantiles = false;
    so.cancel = o.cancel;
    // A large tensor the plan could not slice (strided, quantized, complex) runs on every
    // thread; everything else runs on the thread that took it.
    so.threads = !item.sliced && e.numel > (std::int64_t(1) << 23) ? o.threads : 1;
    auto stats = computeStats(v, so);
    if (!stats) {
        if (stats.cancelled())
            return false;
        error = QStringLiteral("'%1' in '%2': %3")
                    .arg(utf8ToQString(e.name), QFileInfo(index.filePath).fileName(), stats.error());
        return true;
    }
    out = TensorScan::fromStats(stats.value());

    if (rowsApply(logicalShape, v.dtype) && out.elements > 0) {
        const bool twoD = logicalShape.size() == 2;
        if (item.sliced && !item.byRows) {
            lines.applies = true;
            lines.wantColumns = twoD;
            lines.rowsUnknown = true;
        } else if (item.sliced) {
            findZeroLines(v, out, item.count, item.rowElements, twoD, lines, o.cancel);
        } else {
            const std::int64_t rows = logicalShape[0];
            findZeroLines(v, out, rows, out.elements / rows, twoD, lines, o.cancel);
        }
        if (isCancelled(o.cancel))
            return false;
    }
    read = {bytes, length};
    return true;
}

}  // namespace paramscope::scan_internal
