#pragma once

// A tensor as a picture: any tensor seen as a matrix (2-D as it is, 1-D as one row, higher
// ranks as dim 0 x the rest, or a chosen 2-D slice), reduced to about a view's pixels in
// one pass at memory speed (each cell the element of largest |x| in its block, so an
// outlier stays visible, or the block's mean), with each cell's NaN and Inf marked and the
// norm of every row and column of the region; the colours of a diverging or sequential
// scale, and the picture written as a PNG.

#include "base/cancel.h"
#include "base/result.h"
#include "model/modelindex.h"

#include <QString>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace paramscope {

/// Which matrix of a tensor to show.
struct MatrixChoice {
    /// -1, -1: the default (2-D as is, 1-D as one row, N-D as dim 0 x the product of the
    /// rest). Otherwise the two dimensions shown as rows and columns, the others fixed at
    /// `fixed` (one index per dimension; the entries of rowDim and colDim are ignored).
    int rowDim = -1, colDim = -1;
    std::vector<std::int64_t> fixed;
};

/// A tensor seen as a matrix: `view`'s elements in its logical (C) order are the matrix's
/// in row-major order (rows x cols == numel), so a conv weight needs no copy.
struct Matrix {
    TensorView view;
    std::int64_t rows = 0, cols = 0;
};

/// The matrix of `v` under `choice` (a chosen slice is a 2-D view of the same storage).
Result<Matrix> matrixOf(const TensorView& v, const MatrixChoice& choice = {});

enum class Pooling : std::uint8_t {
    MaxAbs,  // the block's element of largest |x| (with its sign)
    Mean,    // the mean of the block's finite elements
};

struct HeatmapOptions {
    /// At most this many cells across and down (the region's own size when smaller).
    int width = 1024, height = 1024;
    Pooling pooling = Pooling::MaxAbs;
    /// The region of the matrix to reduce: rows [rowBegin, rowEnd), columns [colBegin,
    /// colEnd); -1 ends mean the matrix's.
    std::int64_t rowBegin = 0, rowEnd = -1, colBegin = 0, colEnd = -1;
    int threads = 0;  // 0: one per core
    CancelToken cancel;
};

/// A matrix region reduced to cells. Cell (i, j) covers rows [rowBegin + i*R/H,
/// rowBegin + (i+1)*R/H) and columns likewise (R, H: the region's rows and cells down).
struct Heatmap {
    int width = 0, height = 0;        // cells across, down
    std::int64_t rows = 0, cols = 0;  // the whole matrix
    std::int64_t rowBegin = 0, rowEnd = 0, colBegin = 0, colEnd = 0;
    Pooling pooling = Pooling::MaxAbs;
    std::vector<double> values;       // height x width, row-major; NaN where no finite element
    std::vector<std::uint8_t> flags;  // per cell: kHasNaN | kHasPosInf | kHasNegInf
    std::vector<double> rowNorms;     // per matrix row of the region: L2 over its finite elements
    std::vector<double> colNorms;     // per matrix column of the region
    double min = 0, max = 0;          // over the cells' finite values
    bool hasFinite = false;
    static constexpr std::uint8_t kHasNaN = 1, kHasPosInf = 2, kHasNegInf = 4;

    double value(int i, int j) const { return values[size_t(i) * size_t(width) + size_t(j)]; }
    std::uint8_t flag(int i, int j) const { return flags[size_t(i) * size_t(width) + size_t(j)]; }
    /// The matrix rows and columns cell (i, j) covers.
    std::int64_t cellRowBegin(int i) const { return rowBegin + std::int64_t(i) * (rowEnd - rowBegin) / height; }
    std::int64_t cellColBegin(int j) const { return colBegin + std::int64_t(j) * (colEnd - colBegin) / width; }
    /// The cell holding matrix element (r, c), or -1 outside the region.
    int cellRow(std::int64_t r) const;
    int cellCol(std::int64_t c) const;
    /// The q-quantile (0..1) of the cells' finite values (linear, as NumPy's default).
    double quantile(double q) const;
};

/// Reduces `matrix` to cells. Fails for a dtype without values or an empty region.
Result<Heatmap> reduceMatrix(const Matrix& matrix, const HeatmapOptions& options = {});
/// The same of b - a (two matrices of one shape: a comparison's pair), element by element.
Result<Heatmap> reduceDifference(const Matrix& a, const Matrix& b, const HeatmapOptions& options = {});

// ---------------------------------------------------------------- colours

enum class ColorScale : std::uint8_t {
    Diverging,   // blue - white - red, centred on 0
    Sequential,  // viridis, for non-negative data
};

struct ColorLimits {
    double low = 0, high = 1;
    ColorScale scale = ColorScale::Diverging;
};

/// The limits of the colours: the cells' min and max, or their quantiles (`clampLow`,
/// `clampHigh` in 0..1, e.g. 0.01 and 0.99) so one outlier does not wash the picture out;
/// sequential when every finite value is >= 0 (unless `scale` is given), and a diverging
/// scale symmetric about 0. Quantiles that leave no range (most cells equal) fall back to
/// the extremes.
ColorLimits colorLimits(const Heatmap& h, double clampLow = 0.01, double clampHigh = 0.99,
                        std::optional<ColorScale> scale = std::nullopt);

/// The scale's colour stops (position 0..1, 0xRRGGBB), for a colour bar.
std::vector<std::pair<double, std::uint32_t>> colorStops(ColorScale scale);
/// 0xRRGGBB of a value; NaN, +Inf and -Inf have their own colours (kNaNColor, ...).
std::uint32_t colorOf(double value, const ColorLimits& limits);
/// A cell's colour: NaN/Inf flagged cells in their colours (NaN first), else its value's.
std::uint32_t cellColor(const Heatmap& h, int i, int j, const ColorLimits& limits);
constexpr std::uint32_t kNaNColor = 0xff00ff, kPosInfColor = 0x7f0000, kNegInfColor = 0x00007f, kEmptyColor = 0xc0c0c0;

/// Writes an 8-bit RGB PNG (rows top to bottom, 3 bytes a pixel) to `path` through a
/// temporary file renamed over it.
Status writePng(const QString& path, int width, int height, const std::vector<std::uint8_t>& rgb);

/// The heatmap as an image of `pixelsWide` x `pixelsHigh` (each cell a block of pixels,
/// nearest cell), row-major RGB.
std::vector<std::uint8_t> renderRgb(const Heatmap& h, const ColorLimits& limits, int pixelsWide, int pixelsHigh);

}  // namespace paramscope
