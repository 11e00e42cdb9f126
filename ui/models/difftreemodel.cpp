#include "ui/models/difftreemodel.h"

#include "diff/difftable.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/plotpalette.h"

#include <QColor>
#include <QGuiApplication>
#include <QPalette>
#include <QFont>

namespace paramscope {

namespace {

/// A status's colour, its light or dark variant by the application's palette.
QColor statusColor(DiffStatus s)
{
    const QPalette palette = QGuiApplication::palette();
    switch (s) {
        case DiffStatus::Identical:
            return toneColor(palette, Tone::Good);
        case DiffStatus::Close:
            return toneColor(palette, Tone::Close);
        case DiffStatus::Changed:
            return toneColor(palette, Tone::Warning);
        case DiffStatus::DTypeChanged:
        case DiffStatus::ShapeChanged:
            return toneColor(palette, Tone::Layout);
        case DiffStatus::OnlyA:
        case DiffStatus::OnlyB:
            return toneColor(palette, Tone::Missing);
        case DiffStatus::Failed:
            return toneColor(palette, Tone::Alert);
        case DiffStatus::Pending:
            break;
    }
    return {};
}

const char* columnTitle(int column)
{
    switch (column) {
        case DiffTreeModel::StatusColumn:
            return "Status";
        case DiffTreeModel::MaxAbsDiffColumn:
            return "Max |b−a|";
        case DiffTreeModel::MeanAbsDiffColumn:
            return "Mean |b−a|";
        case DiffTreeModel::RelL2Column:
            return "Rel. change";
        case DiffTreeModel::CosineColumn:
            return "Cosine";
        case DiffTreeModel::ChangedColumn:
            return "Changed";
        case DiffTreeModel::NewNonFiniteColumn:
            return "New NaN/Inf";
        default:
            return "";
    }
}

const char* columnTip(int column)
{
    switch (column) {
        case DiffTreeModel::StatusColumn:
            return "Identical: the same bytes. Within tolerance: every value within |b−a| <= atol + rtol·|a|. "
                   "Changed, dtype changed (compared after widening), shape changed (not compared), only in A, "
                   "only in B. A module: how many of its tensors differ.";
        case DiffTreeModel::MaxAbsDiffColumn:
            return "The largest |b−a| over the elements finite in both";
        case DiffTreeModel::MeanAbsDiffColumn:
            return "The mean |b−a| over the elements finite in both";
        case DiffTreeModel::RelL2Column:
            return "||b−a|| / ||a||: the size of the change relative to the tensor (a module: its most changed "
                   "tensor's)";
        case DiffTreeModel::CosineColumn:
            return "a·b / (||a|| ||b||): 1 when only the scale changed or nothing did (a module: its lowest)";
        case DiffTreeModel::ChangedColumn:
            return "The fraction of elements beyond the tolerance";
        case DiffTreeModel::NewNonFiniteColumn:
            return "Elements that are NaN or ±Inf in B where A is finite";
        default:
            return "";
    }
}

}  // namespace

DiffTreeModel::DiffTreeModel(QObject* parent) : ModelTreeModel(parent) {}

void DiffTreeModel::setDiffTable(const DiffTable* table)
{
    m_diff = table;
    diffUpdated();
}

void DiffTreeModel::setSides(std::shared_ptr<const ModelIndex> a, std::shared_ptr<const ModelIndex> b,
                             std::vector<std::pair<int, int>> pairs)
{
    m_a = std::move(a);
    m_b = std::move(b);
    m_pairs = std::move(pairs);
}

void DiffTreeModel::diffUpdated()
{
    scanUpdated();  // the same repaint: every row, every column this model has
}

int DiffTreeModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() && parent.column() != 0 ? 0 : DiffColumnCount;
}

QString DiffTreeModel::sideText(int entry, bool shape) const
{
    if (entry < 0 || size_t(entry) >= m_pairs.size() || !m_a || !m_b)
        return {};
    const auto [ia, ib] = m_pairs[size_t(entry)];
    auto text = [&](const ModelIndex& m, int i) {
        const TensorEntry& e = m.entries[size_t(i)];
        return shape ? formatShape(e.shape) : QString::fromLatin1(dtypeName(e.dtype).data());
    };
    if (ia < 0 || ib < 0)
        return {};
    const QString ta = text(*m_a, ia), tb = text(*m_b, ib);
    return ta == tb ? QString() : ta + QStringLiteral(" → ") + tb;
}

QVariant DiffTreeModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || !tree())
        return {};
    const int node = int(index.internalId());
    const int column = index.column();
    const int entry = tree()->node(node).entry;
    if (!isDiffColumn(column)) {
        if (role == Qt::DisplayRole && (column == DTypeColumn || column == ShapeColumn) && entry >= 0) {
            const QString both = sideText(entry, column == ShapeColumn);
            if (!both.isEmpty())
                return both;
        }
        if (role == Qt::ForegroundRole && column == NameColumn && m_diff && entry >= 0 &&
            tree()->node(node).children.empty()) {
            const DiffStatus s = m_diff->pair(entry).status;
            if (s != DiffStatus::Identical && s != DiffStatus::Pending)
                return statusColor(s);
        }
        return ModelTreeModel::data(index, role);
    }
    const auto c = DiffColumn(column - StatusColumn);
    switch (role) {
        case Qt::DisplayRole:
            return m_diff ? m_diff->text(node, c) : QString();
        case SortRole:
            return m_diff ? m_diff->value(node, c) : 0.0;
        case Qt::TextAlignmentRole:
            return QVariant::fromValue(
                Qt::Alignment((column == StatusColumn ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter));
        case Qt::ForegroundRole:
            if (m_diff && column == StatusColumn && entry >= 0 && tree()->node(node).children.empty())
                return statusColor(m_diff->pair(entry).status);
            if (m_diff && column == NewNonFiniteColumn && m_diff->value(node, c) > 0)
                return toneColor(QGuiApplication::palette(), Tone::Alert);
            return {};
        case Qt::ToolTipRole:
            if (m_diff && entry >= 0 && m_diff->pair(entry).status == DiffStatus::Failed)
                return m_diff->pair(entry).error;
            if (m_diff && column == StatusColumn && (entry < 0 || !tree()->node(node).children.empty())) {
                // A module: its tensors by status.
                QStringList lines;
                const NodeDiff& n = m_diff->node(node);
                for (int k = 0; k < kDiffStatuses; ++k)
                    if (n.counts[size_t(k)] > 0)
                        lines << QStringLiteral("%1: %2").arg(diffStatusTitle(DiffStatus(k))).arg(n.counts[size_t(k)]);
                if (!lines.isEmpty())
                    return lines.join(QLatin1Char('\n'));
            }
            return tr(columnTip(column));
        default:
            return ModelTreeModel::data(index, role);
    }
}

QVariant DiffTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && isDiffColumn(section)) {
        if (role == Qt::DisplayRole)
            return tr(columnTitle(section));
        if (role == Qt::ToolTipRole)
            return tr(columnTip(section));
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(
                Qt::Alignment((section == StatusColumn ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter));
        return {};
    }
    return ModelTreeModel::headerData(section, orientation, role);
}

std::shared_ptr<const std::vector<double>> DiffTreeModel::numericSortKeys(int column) const
{
    if (isDiffColumn(column))
        return m_diff ? m_diff->sortKeys(DiffColumn(column - StatusColumn)) : nullptr;
    return ModelTreeModel::numericSortKeys(column);
}

}  // namespace paramscope
