#include "scan/scantable.h"

#include "model/modelindex.h"
#include "model/modeltree.h"

#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>

namespace paramscope {

namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

int bits(std::uint16_t v)
{
    int n = 0;
    for (; v; v &= std::uint16_t(v - 1))
        ++n;
    return n;
}

}  // namespace

QString scanColumnTitle(ScanColumn c)
{
    switch (c) {
        case ScanColumn::Min:
            return QStringLiteral("Min");
        case ScanColumn::Max:
            return QStringLiteral("Max");
        case ScanColumn::Mean:
            return QStringLiteral("Mean");
        case ScanColumn::Std:
            return QStringLiteral("Std");
        case ScanColumn::MaxAbs:
            return QStringLiteral("Max |x|");
        case ScanColumn::L2:
            return QStringLiteral("L2");
        case ScanColumn::Zeros:
            return QStringLiteral("Zeros");
        case ScanColumn::NaN:
            return QStringLiteral("NaN");
        case ScanColumn::Inf:
            return QStringLiteral("Inf");
        case ScanColumn::Problems:
            return QStringLiteral("Problems");
    }
    return {};
}

double NodeScan::std() const
{
    if (!finite)
        return 0.0;
    const double m = mean();
    return std::sqrt(std::max(0.0, sumSquares / double(finite) - m * m));
}

ScanTable::ScanTable(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree)
    : m_index(std::move(index)), m_tree(std::move(tree))
{
    m_tensors.resize(m_index ? m_index->entries.size() : 0);
    m_kinds.assign(m_tensors.size(), 0);
    m_nodes.resize(m_tree ? size_t(m_tree->size()) : 0);
}

void ScanTable::addToNode(NodeScan& n, const TensorScan& t, bool first)
{
    n.tensors += 1;
    n.elements += t.elements;
    n.nan += t.nan;
    n.posInf += t.posInf;
    n.negInf += t.negInf;
    n.zeros += t.zeros;
    n.l2Squared += t.l2 * t.l2;
    if (!t.hasFinite())
        return;
    const bool none = n.finite == 0 || first;
    n.min = none ? t.min : std::min(n.min, t.min);
    n.max = none ? t.max : std::max(n.max, t.max);
    n.maxAbs = none ? t.maxAbs : std::max(n.maxAbs, t.maxAbs);
    n.finite += t.finite;
    n.sum += t.mean * double(t.finite);
    n.sumSquares += (t.std * t.std + t.mean * t.mean) * double(t.finite);
}

void ScanTable::add(int entry, const TensorScan& scan)
{
    if (entry < 0 || size_t(entry) >= m_tensors.size() || m_tensors[size_t(entry)].state != TensorScan::State::Pending)
        return;
    m_tensors[size_t(entry)] = scan;
    if (scan.state == TensorScan::State::Pending)
        return;
    ++m_scanned;
    if (scan.done() && m_tree) {
        for (int node = m_tree->nodeForEntry(entry); node >= 0; node = m_tree->node(node).parent)
            addToNode(m_nodes[size_t(node)], scan, false);
    }
    std::vector<Finding> own;
    tensorFindings(*m_index, entry, scan, own);
    std::uint16_t kinds = 0;
    for (Finding& f : own) {
        kinds |= std::uint16_t(1u << unsigned(f.kind));
        m_findings.push_back(std::move(f));
    }
    markProblem(entry, kinds);
}

void ScanTable::markProblem(int entry, std::uint16_t kinds)
{
    const bool had = m_kinds[size_t(entry)] != 0;
    m_kinds[size_t(entry)] = kinds;
    const int delta = int(kinds != 0) - int(had);
    if (delta == 0 || !m_tree)
        return;
    for (int node = m_tree->nodeForEntry(entry); node >= 0; node = m_tree->node(node).parent)
        m_nodes[size_t(node)].problems += delta;
}

void ScanTable::setFindings(std::vector<Finding> findings)
{
    std::vector<std::uint16_t> kinds(m_kinds.size(), 0);
    for (const Finding& f : findings)
        if (f.entry >= 0 && size_t(f.entry) < kinds.size())
            kinds[size_t(f.entry)] |= std::uint16_t(1u << unsigned(f.kind));
    for (size_t e = 0; e < kinds.size(); ++e)
        if (kinds[e] != m_kinds[e])
            markProblem(int(e), kinds[e]);
    m_findings = std::move(findings);
}

std::vector<const Finding*> ScanTable::findingsOf(int entry) const
{
    std::vector<const Finding*> out;
    if (entry < 0 || size_t(entry) >= m_kinds.size() || !m_kinds[size_t(entry)])
        return out;
    for (const Finding& f : m_findings)
        if (f.entry == entry)
            out.push_back(&f);
    return out;
}

std::vector<unsigned char> ScanTable::problemMask() const
{
    std::vector<unsigned char> mask(m_kinds.size());
    for (size_t e = 0; e < m_kinds.size(); ++e)
        mask[e] = m_kinds[e] != 0;
    return mask;
}

double ScanTable::value(int node, ScanColumn c) const
{
    if (!m_tree || node < 0 || node >= m_tree->size())
        return kNone;
    const TreeNode& tn = m_tree->node(node);
    // A tensor's own figures (a node that is a tensor and a module too shows the tensor).
    if (tn.entry >= 0) {
        const TensorScan& t = m_tensors[size_t(tn.entry)];
        if (!t.done())
            return kNone;
        const bool finite = t.hasFinite();
        switch (c) {
            case ScanColumn::Min:
                return finite ? t.min : kNone;
            case ScanColumn::Max:
                return finite ? t.max : kNone;
            case ScanColumn::Mean:
                return finite ? t.mean : kNone;
            case ScanColumn::Std:
                return finite ? t.std : kNone;
            case ScanColumn::MaxAbs:
                return finite ? t.maxAbs : kNone;
            case ScanColumn::L2:
                return t.l2;
            case ScanColumn::Zeros:
                return double(t.zeros);
            case ScanColumn::NaN:
                return double(t.nan);
            case ScanColumn::Inf:
                return double(t.posInf + t.negInf);
            case ScanColumn::Problems:
                return double(bits(m_kinds[size_t(tn.entry)]));
        }
        return kNone;
    }
    const NodeScan& n = m_nodes[size_t(node)];
    if (n.tensors == 0)
        return kNone;
    const bool finite = n.finite > 0;
    switch (c) {
        case ScanColumn::Min:
            return finite ? n.min : kNone;
        case ScanColumn::Max:
            return finite ? n.max : kNone;
        case ScanColumn::Mean:
            return finite ? n.mean() : kNone;
        case ScanColumn::Std:
            return finite ? n.std() : kNone;
        case ScanColumn::MaxAbs:
            return finite ? n.maxAbs : kNone;
        case ScanColumn::L2:
            return std::sqrt(n.l2Squared);
        case ScanColumn::Zeros:
            return double(n.zeros);
        case ScanColumn::NaN:
            return double(n.nan);
        case ScanColumn::Inf:
            return double(n.posInf + n.negInf);
        case ScanColumn::Problems:
            return double(n.problems);
    }
    return kNone;
}

QString ScanTable::text(int node, ScanColumn c) const
{
    const double v = value(node, c);
    if (std::isnan(v))
        return {};
    const TreeNode& tn = m_tree->node(node);
    switch (c) {
        case ScanColumn::Zeros:
        case ScanColumn::NaN:
        case ScanColumn::Inf:
            return formatCount(std::int64_t(v));
        case ScanColumn::Problems: {
            if (tn.entry < 0)
                return v > 0 ? formatCount(std::int64_t(v)) : QString();
            QStringList ids;
            for (int k = 0; k < kFindingKinds; ++k)
                if (m_kinds[size_t(tn.entry)] & (1u << unsigned(k)))
                    ids << findingKindId(FindingKind(k));
            return ids.join(QStringLiteral(", "));
        }
        case ScanColumn::Min:
        case ScanColumn::Max:
            if (tn.entry >= 0) {
                const TensorScan& t = m_tensors[size_t(tn.entry)];
                return c == ScanColumn::Min ? t.minText() : t.maxText();
            }
            return QString::number(v, 'g', 6);
        default:
            return QString::number(v, 'g', 6);
    }
}

std::shared_ptr<const std::vector<double>> ScanTable::sortKeys(ScanColumn c) const
{
    auto keys = std::make_shared<std::vector<double>>(m_nodes.size(), kNone);
    for (size_t i = 0; i < m_nodes.size(); ++i)
        (*keys)[i] = value(int(i), c);
    return keys;
}

}  // namespace paramscope
