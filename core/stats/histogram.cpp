// Histogram planning: the edges of the bins shown to the user, chosen from the
// statistics of the finite values (min, max, IQR, count) before anything is counted.
#include "stats/histogram_p.h"

namespace paramscope::stats_internal {

std::vector<double> linspaceEdges(double lo, double hi, int bins)
{
    std::vector<double> e(size_t(bins) + 1);
    const double step = (hi - lo) / double(bins);
    for (int i = 0; i <= bins; ++i)
        e[size_t(i)] =
            std::isfinite(step) ? double(i) * step + lo : lo * (1.0 - double(i) / bins) + hi * (double(i) / bins);
    e[size_t(bins)] = hi;
    return e;
}

bool integerValued(DType t)
{
    return dtypeIsInteger(t) || t == DType::Bool || dtypeIsQuantized(t);
}

StatsHistogram planHistogram(const TensorView& v, const TensorStats& s, int userBins, bool roundToPowerOfTwo)
{
    StatsHistogram h;
    h.automatic = userBins <= 0;
    if (s.finite == 0)
        return h;
    const double iqr = s.quantiles.p75() - s.quantiles.p25();
    if (integerValued(v.dtype) && !v.qChannels) {
        // Values are (code - zp) * unit with integer codes: bins hold whole codes, edges sit
        // halfway between them.
        const double unit = dtypeIsQuantized(v.dtype) ? v.qScale : 1.0;
        const double cmin = std::round(s.min / unit), cmax = std::round(s.max / unit);
        const double m = cmax - cmin + 1;  // codes spanned
        double k;                          // codes per bin
        if (userBins > 0) {
            k = std::ceil(m / std::min(userBins, kMaxBins));
        } else {
            const double w = 2.0 * iqr / std::cbrt(double(s.finite));
            if (w > 0)
                k = std::max(1.0, std::ceil(w / unit));
            else
                k = std::ceil(m / (std::ceil(std::log2(double(s.finite))) + 1.0));
            k = std::max(k, std::ceil(m / kMaxAutoBins));
        }
        k = std::max(k, 1.0);
        const int bins = int(std::ceil(m / k));
        h.edges.resize(size_t(bins) + 1);
        for (int i = 0; i <= bins; ++i)
            h.edges[size_t(i)] = (cmin - 0.5 + double(i) * k) * unit;
        h.integerAligned = true;
        return h;
    }
    if (s.min == s.max) {
        // One bin around the constant, as np.histogram does (±0.5, or relative when 0.5
        // would vanish in rounding).
        double lo = s.min - 0.5, hi = s.max + 0.5;
        if (!(lo < s.min) || !(hi > s.max)) {
            lo = s.min - std::fabs(s.min) * 0x1p-20;
            hi = s.max + std::fabs(s.max) * 0x1p-20;
        }
        h.edges = {lo, hi};
        return h;
    }
    int bins = userBins > 0 ? std::min(userBins, kMaxBins) : freedmanDiaconisBins(s.min, s.max, iqr, s.finite);
    if (roundToPowerOfTwo)
        bins = 1 << std::clamp(int(std::lround(std::log2(double(bins)))), 0, 9);
    h.edges = linspaceEdges(s.min, s.max, bins);
    return h;
}

}  // namespace paramscope::stats_internal
