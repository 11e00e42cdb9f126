// matrixOf and reduceMatrix: one pass over the region's rows (decoded by ValueDecoder in
// logical order), each element binned into its cell by a per-column table, output bands
// of rows shared out to threads.
#include "heatmap/heatmap.h"

#include "base/checkedsize.h"
#include "stats/decode.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

namespace paramscope {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

Result<Matrix> matrixOf(const TensorView& v, const MatrixChoice& choice)
{
    using R = Result<Matrix>;
    const size_t rank = v.shape.size();
    Matrix m;
    m.view = v;
    if (choice.rowDim < 0 && choice.colDim < 0) {
        const std::int64_t n = v.numel();
        if (n < 0)
            return R::failure(QStringLiteral("the tensor has too many elements"));
        if (rank == 0) {
            m.rows = m.cols = 1;
        } else if (rank == 1) {
            m.rows = 1;
            m.cols = v.shape[0];
        } else {
            m.rows = v.shape[0];
            m.cols = m.rows > 0 ? n / m.rows : 0;
            if (m.rows == 0)
                for (size_t d = 1; d < rank; ++d)
                    m.cols = d == 1 ? v.shape[d] : m.cols * v.shape[d];
        }
        return m;
    }
    const int rd = choice.rowDim, cd = choice.colDim;
    if (rd < 0 || cd < 0 || size_t(rd) >= rank || size_t(cd) >= rank || rd == cd)
        return R::failure(QStringLiteral("choose two different dimensions of the %1-D tensor").arg(rank));
    std::int64_t offset = v.offset;
    for (size_t d = 0; d < rank; ++d) {
        if (int(d) == rd || int(d) == cd)
            continue;
        const std::int64_t idx = d < choice.fixed.size() ? choice.fixed[d] : 0;
        if (idx < 0 || idx >= v.shape[d])
            return R::failure(
                QStringLiteral("index %1 of dimension %2 is outside 0..%3").arg(idx).arg(d).arg(v.shape[d] - 1));
        offset += idx * v.strides[d];
    }
    m.view.offset = offset;
    m.view.shape = {v.shape[size_t(rd)], v.shape[size_t(cd)]};
    m.view.strides = {v.strides[size_t(rd)], v.strides[size_t(cd)]};
    // Per-channel quantization follows its axis only when the axis is kept.
    if (v.qChannels && v.qChannels->axis != rd && v.qChannels->axis != cd)
        return R::failure(QStringLiteral("a slice across the quantization axis of a per-channel quantized tensor"));
    if (v.qChannels) {
        auto qc = std::make_shared<QuantChannels>(*v.qChannels);
        qc->axis = v.qChannels->axis == rd ? 0 : 1;
        m.view.qChannels = qc;
    }
    m.rows = m.view.shape[0];
    m.cols = m.view.shape[1];
    return m;
}

int Heatmap::cellRow(std::int64_t r) const
{
    if (r < rowBegin || r >= rowEnd || height <= 0)
        return -1;
    return int(((r - rowBegin + 1) * height - 1) / (rowEnd - rowBegin));  // the last i with cellRowBegin(i) <= r
}

int Heatmap::cellCol(std::int64_t c) const
{
    if (c < colBegin || c >= colEnd || width <= 0)
        return -1;
    return int(((c - colBegin + 1) * width - 1) / (colEnd - colBegin));
}

double Heatmap::quantile(double q) const
{
    std::vector<double> v;
    v.reserve(values.size());
    for (double x : values)
        if (std::isfinite(x))
            v.push_back(x);
    if (v.empty())
        return kNaN;
    std::sort(v.begin(), v.end());
    const double pos = std::clamp(q, 0.0, 1.0) * double(v.size() - 1);
    const auto lo = size_t(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

namespace {

QString noValues(DType t)
{
    return QStringLiteral("no values to show for dtype %1").arg(QLatin1String(dtypeName(t).data()));
}

/// The reduction of a matrix's values, or of b - a when `other` is given (same shape).
Result<Heatmap> reduce(const Matrix& m, const Matrix* other, const HeatmapOptions& o)
{
    using R = Result<Heatmap>;
    const ValueDecoder dec(m.view);
    if (!dec.ok())
        return R::failure(noValues(m.view.dtype));
    std::int64_t cells = 0;
    const auto product = checkedMul(m.rows, m.cols);
    if (m.rows < 0 || m.cols < 0 || !product || (cells = *product) != dec.numel())
        return R::failure(QStringLiteral("the matrix does not match the tensor's elements"));
    std::unique_ptr<ValueDecoder> decB;
    if (other) {
        decB = std::make_unique<ValueDecoder>(other->view);
        if (!decB->ok())
            return R::failure(noValues(other->view.dtype));
        if (other->rows != m.rows || other->cols != m.cols || decB->numel() != cells)
            return R::failure(QStringLiteral("the two matrices differ in shape"));
    }
    Heatmap h;
    h.rows = m.rows;
    h.cols = m.cols;
    h.pooling = o.pooling;
    h.rowBegin = std::clamp<std::int64_t>(o.rowBegin, 0, m.rows);
    h.rowEnd = o.rowEnd < 0 ? m.rows : std::clamp<std::int64_t>(o.rowEnd, h.rowBegin, m.rows);
    h.colBegin = std::clamp<std::int64_t>(o.colBegin, 0, m.cols);
    h.colEnd = o.colEnd < 0 ? m.cols : std::clamp<std::int64_t>(o.colEnd, h.colBegin, m.cols);
    const std::int64_t R0 = h.rowEnd - h.rowBegin, C0 = h.colEnd - h.colBegin;
    if (R0 <= 0 || C0 <= 0)
        return R::failure(QStringLiteral("the region is empty"));
    h.height = int(std::min<std::int64_t>(std::max(1, o.height), R0));
    h.width = int(std::min<std::int64_t>(std::max(1, o.width), C0));
    const size_t ncells = size_t(h.height) * size_t(h.width);
    h.values.assign(ncells, kNaN);
    h.flags.assign(ncells, 0);
    h.rowNorms.assign(size_t(R0), 0.0);
    std::vector<double> counts(o.pooling == Pooling::Mean ? ncells : 0, 0.0);
    std::vector<double> sums(counts.size(), 0.0);
    // The cell column of each matrix column of the region.
    std::vector<std::uint32_t> binOf(static_cast<size_t>(C0));
    for (std::int64_t c = 0; c < C0; ++c)
        binOf[size_t(c)] = std::uint32_t(((c + 1) * h.width - 1) / C0);  // the last j with j*C0/W <= c

    // A contiguous float32 matrix (the common case) is read in place.
    const bool f32 = !decB && m.view.dtype == DType::Float32 && m.view.isContiguous() && m.view.numel() > 0;
    const int threads =
        std::max(1, std::min<int>(o.threads > 0 ? o.threads : int(std::thread::hardware_concurrency()), h.height));
    std::vector<std::vector<double>> colSq(size_t(threads), std::vector<double>(size_t(C0), 0.0));
    std::atomic<int> nextBand{0};
    std::atomic<bool> stopped{false};
    auto work = [&](int t) {
        constexpr std::int64_t kChunk = 1 << 16;
        std::vector<double> buf(size_t(std::min<std::int64_t>(C0, kChunk)));
        std::vector<double> bufB(decB ? buf.size() : 0);
        std::vector<double>& cs = colSq[size_t(t)];
        for (;;) {
            const int i = nextBand.fetch_add(1);
            if (i >= h.height)
                return;
            const std::int64_t r0 = h.rowBegin + std::int64_t(i) * R0 / h.height;
            const std::int64_t r1 = h.rowBegin + std::int64_t(i + 1) * R0 / h.height;
            double* val = &h.values[size_t(i) * size_t(h.width)];
            std::uint8_t* fl = &h.flags[size_t(i) * size_t(h.width)];
            double* sum = sums.empty() ? nullptr : &sums[size_t(i) * size_t(h.width)];
            double* cnt = counts.empty() ? nullptr : &counts[size_t(i) * size_t(h.width)];
            for (std::int64_t r = r0; r < r1; ++r) {
                if (isCancelled(o.cancel)) {
                    stopped = true;
                    return;
                }
                double rowSq = 0;
                for (std::int64_t c0 = 0; c0 < C0; c0 += kChunk) {
                    const std::int64_t n = std::min(kChunk, C0 - c0);
                    const std::int64_t at = r * m.cols + h.colBegin + c0;
                    const float* direct = nullptr;
                    if (f32) {
                        direct = reinterpret_cast<const float*>(m.view.base()) + at;  // no decoding
                    } else {
                        dec.decode(at, at + n, buf.data());
                        if (decB) {
                            decB->decode(at, at + n, bufB.data());
                            for (std::int64_t k = 0; k < n; ++k)
                                buf[size_t(k)] = bufB[size_t(k)] - buf[size_t(k)];
                        }
                    }
                    for (std::int64_t k = 0; k < n; ++k) {
                        float f = 0;
                        if (direct)
                            std::memcpy(&f, direct + k, sizeof f);
                        const double x = direct ? double(f) : buf[size_t(k)];
                        const std::uint32_t j = binOf[size_t(c0 + k)];
                        if (!std::isfinite(x)) {
                            fl[j] |= std::isnan(x) ? Heatmap::kHasNaN
                                     : x > 0       ? Heatmap::kHasPosInf
                                                   : Heatmap::kHasNegInf;
                            continue;
                        }
                        rowSq += x * x;
                        cs[size_t(c0 + k)] += x * x;
                        if (sum) {
                            sum[j] += x;
                            cnt[j] += 1;
                        } else if (!(std::abs(x) <= std::abs(val[j]))) {  // NaN (empty) or larger
                            val[j] = x;
                        }
                    }
                }
                h.rowNorms[size_t(r - h.rowBegin)] = std::sqrt(rowSq);
            }
            if (sum)
                for (int j = 0; j < h.width; ++j)
                    val[j] = cnt[j] > 0 ? sum[j] / cnt[j] : kNaN;
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool)
        t.join();
    if (stopped || isCancelled(o.cancel))
        return R::failure(ErrorKind::Cancelled, QStringLiteral("cancelled"));
    h.colNorms.assign(size_t(C0), 0.0);
    for (const auto& cs : colSq)
        for (size_t c = 0; c < cs.size(); ++c)
            h.colNorms[c] += cs[c];
    for (double& c : h.colNorms)
        c = std::sqrt(c);
    bool first = true;
    for (double v : h.values) {
        if (!std::isfinite(v))
            continue;
        h.min = first ? v : std::min(h.min, v);
        h.max = first ? v : std::max(h.max, v);
        first = false;
    }
    h.hasFinite = !first;
    return h;
}

}  // namespace

Result<Heatmap> reduceMatrix(const Matrix& m, const HeatmapOptions& o)
{
    return reduce(m, nullptr, o);
}

Result<Heatmap> reduceDifference(const Matrix& a, const Matrix& b, const HeatmapOptions& o)
{
    return reduce(a, &b, o);
}

}  // namespace paramscope
