// The rules that turn a scan's figures into findings (see findings.h for the rules).

#include "scan/findings.h"

#include "base/dtype.h"
#include "base/textutil.h"
#include "model/modelindex.h"

#include <QLocale>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace paramscope {

namespace {

struct KindInfo {
    FindingKind kind;
    const char* id;
    const char* title;
};
constexpr KindInfo kKinds[kFindingKinds] = {
    {FindingKind::NaN, "nan", "NaN values"},
    {FindingKind::Inf, "inf", "Infinite values"},
    {FindingKind::AllZeros, "zeros", "All zeros"},
    {FindingKind::Constant, "constant", "Constant"},
    {FindingKind::DeadRows, "dead-rows", "All-zero rows"},
    {FindingKind::DeadColumns, "dead-columns", "All-zero columns"},
    {FindingKind::Outlier, "outlier", "Outlier among siblings"},
    {FindingKind::Float16Limit, "fp16-limit", "Near float16's limit"},
};

QString count(std::int64_t n)
{
    return formatCount(n);
}

QString number(double v)
{
    return QString::number(v, 'g', 5);
}

QString percent(std::int64_t part, std::int64_t whole)
{
    const double p = whole > 0 ? 100.0 * double(part) / double(whole) : 0.0;
    return p >= 1 || p == 0 ? QString::number(p, 'f', p >= 10 ? 0 : 1) + QLatin1Char('%')
                            : QString::number(p, 'g', 2) + QLatin1Char('%');
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(mid), v.end());
    double m = v[mid];
    if (v.size() % 2 == 0) {
        const double lower = *std::max_element(v.begin(), v.begin() + std::ptrdiff_t(mid));
        m = (m + lower) / 2;
    }
    return m;
}

bool allDigits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

QString ratioText(double v, double med)
{
    const double r = v / med;
    if (r >= 1)
        return QStringLiteral("%1x").arg(number(r));
    return QStringLiteral("1/%1").arg(number(1 / r));
}

}  // namespace

QString findingKindId(FindingKind k)
{
    return QString::fromLatin1(kKinds[int(k)].id);
}

std::optional<FindingKind> findingKindFromId(const QString& id)
{
    for (const KindInfo& k : kKinds)
        if (id == QLatin1String(k.id))
            return k.kind;
    return std::nullopt;
}

QString findingKindTitle(FindingKind k)
{
    return QString::fromLatin1(kKinds[int(k)].title);
}

bool findingIsError(FindingKind k)
{
    return k == FindingKind::NaN || k == FindingKind::Inf;
}

std::string namePattern(std::string_view name)
{
    std::string out;
    out.reserve(name.size());
    size_t start = 0;
    for (;;) {
        const size_t dot = name.find('.', start);
        const std::string_view seg = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (allDigits(seg))
            out += '*';
        else
            out.append(seg);
        if (dot == std::string_view::npos)
            break;
        out += '.';
        start = dot + 1;
    }
    return out;
}

void tensorFindings(const ModelIndex& index, int entry, const TensorScan& s, std::vector<Finding>& out)
{
    if (!s.done() || entry < 0 || size_t(entry) >= index.entries.size())
        return;
    const TensorEntry& e = index.entries[size_t(entry)];
    const std::int64_t n = s.elements;
    auto add = [&](FindingKind k, QString detail) { out.push_back(Finding{entry, k, std::move(detail)}); };
    if (s.nan > 0)
        add(FindingKind::NaN,
            QStringLiteral("%1 of %2 values are NaN (%3)").arg(count(s.nan), count(n), percent(s.nan, n)));
    if (s.posInf + s.negInf > 0) {
        QString d = QStringLiteral("%1 of %2 values are infinite").arg(count(s.posInf + s.negInf), count(n));
        if (s.posInf && s.negInf)
            d += QStringLiteral(" (%1 +Inf, %2 -Inf)").arg(count(s.posInf), count(s.negInf));
        else
            d += s.posInf ? QStringLiteral(" (+Inf)") : QStringLiteral(" (-Inf)");
        add(FindingKind::Inf, d);
    }
    if (n > 1 && s.zeros == n) {
        add(FindingKind::AllZeros, QStringLiteral("all %1 values are 0").arg(count(n)));
    } else if (n > 1 && s.finite == n && s.constant()) {
        add(FindingKind::Constant, QStringLiteral("all %1 values are %2").arg(count(n), s.minText()));
    } else if (s.zeros < n) {
        const std::int64_t rows = e.shape.size() >= 2 ? e.shape[0] : 0;
        if (s.deadRows > 0)
            add(FindingKind::DeadRows,
                QStringLiteral("%1 of %2 rows (dimension 0) are all zero").arg(count(s.deadRows), count(rows)));
        if (s.deadColumns > 0 && e.shape.size() == 2)
            add(FindingKind::DeadColumns, QStringLiteral("%1 of %2 columns (dimension 1) are all zero")
                                              .arg(count(s.deadColumns), count(e.shape[1])));
    }
    if (e.dtype == DType::Float16 && s.maxAbs >= kFloat16Max / 2)
        add(FindingKind::Float16Limit,
            QStringLiteral("max |x| %1 is %2 of float16's largest finite value 65,504 (one doubling overflows to Inf)")
                .arg(number(s.maxAbs), percent(std::int64_t(s.maxAbs), std::int64_t(kFloat16Max))));
}

void outlierFindings(const ModelIndex& index, const std::vector<TensorScan>& scans, std::vector<Finding>& out)
{
    // Groups of tensors whose names differ only in numeric segments.
    std::unordered_map<std::string, std::vector<int>> groups;
    for (size_t i = 0; i < index.entries.size() && i < scans.size(); ++i) {
        if (!scans[i].done() || !scans[i].hasFinite() || scans[i].elements < 2)
            continue;
        std::string p = namePattern(index.entries[i].name);
        if (p.find('*') == std::string::npos)
            continue;
        groups[std::move(p)].push_back(int(i));
    }
    std::vector<std::pair<int, QString>> found;
    for (const auto& [pattern, members] : groups) {
        if (int(members.size()) < kMinOutlierGroup)
            continue;
        struct Metric {
            const char* name;
            double TensorScan::*field;
        };
        for (const Metric m : {Metric{"std", &TensorScan::std}, Metric{"max |x|", &TensorScan::maxAbs}}) {
            std::vector<double> logs;
            std::vector<double> values;
            for (int i : members) {
                const double v = scans[size_t(i)].*m.field;
                if (v > 0 && std::isfinite(v)) {
                    logs.push_back(std::log10(v));
                    values.push_back(v);
                }
            }
            if (int(logs.size()) < kMinOutlierGroup)
                continue;
            const double med = median(logs);
            std::vector<double> dev;
            dev.reserve(logs.size());
            for (double l : logs)
                dev.push_back(std::abs(l - med));
            const double limit = std::max(1.0, 5 * 1.4826 * median(dev));
            const double medValue = median(values);
            for (int i : members) {
                const double v = scans[size_t(i)].*m.field;
                // A tensor whose figure is 0 lies infinitely far below: all zeros or
                // constant says that better.
                if (!(v > 0) || std::abs(std::log10(v) - med) <= limit)
                    continue;
                found.emplace_back(
                    i, QStringLiteral("%1 %2 is %3 the median %4 of the %5 tensors named %6")
                           .arg(QString::fromLatin1(m.name), number(v), ratioText(v, medValue), number(medValue),
                                QString::number(members.size()), utf8ToQString(pattern)));
            }
        }
    }
    // One finding per tensor (both metrics in it when both are off).
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < found.size(); ++i) {
        if (i > 0 && found[i].first == found[i - 1].first) {
            out.back().detail += QStringLiteral("; ") + found[i].second;
            continue;
        }
        out.push_back(Finding{found[i].first, FindingKind::Outlier, found[i].second});
    }
}

std::vector<Finding> allFindings(const ModelIndex& index, const std::vector<TensorScan>& scans)
{
    std::vector<Finding> out;
    for (size_t i = 0; i < scans.size() && i < index.entries.size(); ++i)
        tensorFindings(index, int(i), scans[i], out);
    outlierFindings(index, scans, out);
    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
        return a.entry != b.entry ? a.entry < b.entry : a.kind < b.kind;
    });
    return out;
}

}  // namespace paramscope
