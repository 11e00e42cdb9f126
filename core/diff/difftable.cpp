#include "diff/difftable.h"

#include "model/modelindex.h"
#include "model/modeltree.h"

#include <QLocale>

#include <cmath>
#include <limits>

namespace paramscope {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool differs(DiffStatus s)
{
    return s != DiffStatus::Identical && s != DiffStatus::Close && s != DiffStatus::Pending;
}

double severity(DiffStatus s)
{
    switch (s) {
        case DiffStatus::Identical:
            return 0;
        case DiffStatus::Close:
            return 1;
        case DiffStatus::Changed:
            return 2;
        case DiffStatus::DTypeChanged:
            return 3;
        case DiffStatus::ShapeChanged:
            return 4;
        case DiffStatus::OnlyA:
        case DiffStatus::OnlyB:
            return 5;
        case DiffStatus::Failed:
            return 6;
        case DiffStatus::Pending:
            break;
    }
    return kNaN;
}

QString figure(double v)
{
    if (std::isnan(v))
        return {};
    if (std::isinf(v))
        return v > 0 ? QStringLiteral("∞") : QStringLiteral("-∞");
    if (v == 0)
        return QStringLiteral("0");
    return QString::number(v, 'g', 4);
}

}  // namespace

int NodeDiff::differing() const
{
    int n = 0;
    for (int k = 0; k < kDiffStatuses; ++k)
        if (differs(DiffStatus(k)))
            n += counts[size_t(k)];
    return n;
}

std::shared_ptr<ModelIndex> mergedIndex(const ModelIndex& a, const ModelIndex& b, const Alignment& al)
{
    auto m = std::make_shared<ModelIndex>();
    m->filePath = b.filePath;
    m->format = b.format;
    m->engine = b.engine;
    m->entries.reserve(al.pairs.size());
    for (const Alignment::Pair& p : al.pairs) {
        const TensorEntry& src = p.b >= 0 ? b.entries[size_t(p.b)] : a.entries[size_t(p.a)];
        TensorEntry e;
        e.name = p.key;
        e.kind = src.kind;
        e.dtype = src.dtype;
        e.shape = src.shape;
        e.strides = src.strides;
        e.requiresGrad = src.requiresGrad;
        m->entries.push_back(std::move(e));
    }
    m->finalize();
    return m;
}

DiffTable::DiffTable(std::shared_ptr<const ModelIndex> merged, std::shared_ptr<const ModelTree> tree)
    : m_index(std::move(merged)), m_tree(std::move(tree))
{
    const size_t n = m_index ? m_index->entries.size() : 0;
    m_pairs.resize(n);
    m_nodes.resize(m_tree ? size_t(m_tree->size()) : 0);
    m_nodeOf.assign(n, -1);
    for (size_t i = 0; i < n && m_tree; ++i)
        m_nodeOf[i] = m_tree->nodeForEntry(int(i));
}

void DiffTable::add(int pair, const PairDiff& d)
{
    if (pair < 0 || size_t(pair) >= m_pairs.size() || d.status == DiffStatus::Pending)
        return;
    if (m_pairs[size_t(pair)].status != DiffStatus::Pending)
        return;  // once per pair (a comparison's batches never repeat one)
    m_pairs[size_t(pair)] = d;
    ++m_done;
    for (int node = m_nodeOf[size_t(pair)]; node >= 0; node = m_tree->node(node).parent) {
        NodeDiff& n = m_nodes[size_t(node)];
        ++n.counts[size_t(d.status)];
        ++n.tensors;
        if (!d.compared())
            continue;
        ++n.compared;
        n.elements += d.elements;
        n.bothFinite += d.bothFinite;
        n.changed += d.changed;
        n.newNonFinite += d.nanAppeared + d.infAppeared;
        n.maxAbsDiff = std::max(n.maxAbsDiff, d.maxAbsDiff);
        n.sumAbsDiff += d.sumAbsDiff;
        n.sumSqDiff += d.sumSqDiff;
        n.sumSqA += d.sumSqA;
        n.sumSqB += d.sumSqB;
        n.dot += d.dot;
        const double rel = d.relL2(), cos = d.cosine();
        if (!std::isnan(rel) && !(rel <= n.maxRelL2))
            n.maxRelL2 = rel;
        if (!std::isnan(cos) && !(cos >= n.minCosine))
            n.minCosine = cos;
    }
}

double DiffTable::value(int node, DiffColumn c) const
{
    if (node < 0 || size_t(node) >= m_nodes.size())
        return kNaN;
    const TreeNode& tn = m_tree->node(node);
    const bool tensor = tn.entry >= 0 && tn.children.empty();
    const NodeDiff& n = m_nodes[size_t(node)];
    if (c == DiffColumn::Status) {
        if (tensor)
            return severity(m_pairs[size_t(tn.entry)].status);
        return n.tensors ? double(n.differing()) : kNaN;
    }
    if (n.compared == 0)
        return kNaN;
    // A module's figures are its tensors' taken as one vector.
    PairDiff d;
    d.elements = n.elements;
    d.bothFinite = n.bothFinite;
    d.changed = n.changed;
    d.sumAbsDiff = n.sumAbsDiff;
    d.sumSqDiff = n.sumSqDiff;
    d.sumSqA = n.sumSqA;
    d.sumSqB = n.sumSqB;
    d.dot = n.dot;
    switch (c) {
        case DiffColumn::MaxAbsDiff:
            return n.maxAbsDiff;
        case DiffColumn::MeanAbsDiff:
            return d.meanAbsDiff();
        case DiffColumn::RelL2:
            return tensor ? d.relL2() : n.maxRelL2;
        case DiffColumn::Cosine:
            return tensor ? d.cosine() : n.minCosine;
        case DiffColumn::Changed:
            return d.changedFraction();
        case DiffColumn::NewNonFinite:
            return double(n.newNonFinite);
        case DiffColumn::Status:
            break;
    }
    return kNaN;
}

QString DiffTable::text(int node, DiffColumn c) const
{
    if (node < 0 || size_t(node) >= m_nodes.size())
        return {};
    const TreeNode& tn = m_tree->node(node);
    const bool tensor = tn.entry >= 0 && tn.children.empty();
    const NodeDiff& n = m_nodes[size_t(node)];
    if (c == DiffColumn::Status) {
        if (tensor) {
            const DiffStatus s = m_pairs[size_t(tn.entry)].status;
            return s == DiffStatus::Pending ? QString() : diffStatusTitle(s);
        }
        if (!n.tensors)
            return {};
        const int d = n.differing();
        return d == 0 ? QStringLiteral("Same") : QStringLiteral("%1 of %2 differ").arg(d).arg(n.tensors);
    }
    const double v = value(node, c);
    if (std::isnan(v))
        return c == DiffColumn::Cosine && n.compared ? QStringLiteral("—") : QString();
    if (c == DiffColumn::Changed)
        return v == 0 ? QStringLiteral("0%") : QStringLiteral("%1%").arg(QString::number(100.0 * v, 'g', 3));
    if (c == DiffColumn::NewNonFinite)
        return v == 0 ? QString() : QLocale().toString(qint64(v));
    return figure(v);
}

std::shared_ptr<const std::vector<double>> DiffTable::sortKeys(DiffColumn c) const
{
    auto keys = std::make_shared<std::vector<double>>(m_nodes.size());
    for (size_t i = 0; i < m_nodes.size(); ++i)
        (*keys)[i] = value(int(i), c);
    return keys;
}

std::vector<unsigned char> DiffTable::statusMask(std::uint32_t statuses) const
{
    std::vector<unsigned char> mask(m_pairs.size(), 0);
    for (size_t i = 0; i < m_pairs.size(); ++i)
        mask[i] = (statuses >> unsigned(m_pairs[i].status)) & 1u;
    return mask;
}

std::uint32_t DiffTable::differingStatuses()
{
    std::uint32_t s = 0;
    for (int k = 0; k < kDiffStatuses; ++k)
        if (differs(DiffStatus(k)))
            s |= 1u << unsigned(k);
    return s;
}

}  // namespace paramscope
