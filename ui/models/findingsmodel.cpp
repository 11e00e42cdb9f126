#include "ui/models/findingsmodel.h"

#include "base/textutil.h"
#include "model/modelindex.h"
#include "model/searchmatches.h"
#include "scan/findings.h"
#include "scan/scantable.h"
#include "ui/plotpalette.h"

#include <QColor>
#include <QGuiApplication>
#include <QPalette>

namespace paramscope {

FindingsModel::FindingsModel(QObject* parent) : QAbstractTableModel(parent) {}

void FindingsModel::setTable(const ScanTable* table)
{
    m_table = table;
    m_matchMask.clear();
    refresh();
}

void FindingsModel::refresh()
{
    beginResetModel();
    rebuild();
    endResetModel();
}

void FindingsModel::setKinds(std::uint16_t kinds)
{
    m_kinds = kinds;
    refresh();
}

void FindingsModel::setMatches(std::shared_ptr<const SearchMatches> matches)
{
    m_matches = std::move(matches);
    m_matchMask.clear();  // rebuilt for the table by rebuild()
    refresh();
}

void FindingsModel::rebuild()
{
    m_rows.clear();
    if (!m_table)
        return;
    if (m_matches && m_matchMask.size() != size_t(m_table->tensorCount())) {
        m_matchMask.assign(size_t(m_table->tensorCount()), 0);
        for (int e : m_matches->entries)
            if (e >= 0 && size_t(e) < m_matchMask.size())
                m_matchMask[size_t(e)] = 1;
    }
    const auto& all = m_table->findings();
    for (size_t i = 0; i < all.size(); ++i) {
        const Finding& f = all[i];
        if (!(m_kinds & (1u << unsigned(f.kind))))
            continue;
        if (m_matches && (f.entry < 0 || size_t(f.entry) >= m_matchMask.size() || !m_matchMask[size_t(f.entry)]))
            continue;
        m_rows.push_back(int(i));
    }
}

int FindingsModel::totalCount() const
{
    return m_table ? int(m_table->findings().size()) : 0;
}

int FindingsModel::errorCount() const
{
    int n = 0;
    if (m_table)
        for (const Finding& f : m_table->findings())
            n += findingIsError(f.kind) ? 1 : 0;
    return n;
}

int FindingsModel::entryAt(int row) const
{
    if (!m_table || row < 0 || size_t(row) >= m_rows.size())
        return -1;
    return m_table->findings()[size_t(m_rows[size_t(row)])].entry;
}

int FindingsModel::rowOfEntry(int entry) const
{
    for (size_t r = 0; r < m_rows.size(); ++r)
        if (entryAt(int(r)) == entry)
            return int(r);
    return -1;
}

int FindingsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int FindingsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FindingsModel::data(const QModelIndex& index, int role) const
{
    if (!m_table || !index.isValid() || size_t(index.row()) >= m_rows.size())
        return {};
    const Finding& f = m_table->findings()[size_t(m_rows[size_t(index.row())])];
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case KindColumn:
                    return findingKindTitle(f.kind);
                case TensorColumn:
                    return utf8ToQString(m_table->index()->entries[size_t(f.entry)].name);
                case DetailColumn:
                    return f.detail;
            }
            return {};
        case Qt::ToolTipRole:
            return QStringLiteral("%1 (%2): %3").arg(findingKindTitle(f.kind), findingKindId(f.kind), f.detail);
        case Qt::ForegroundRole:
            if (index.column() == KindColumn)
                return toneColor(QGuiApplication::palette(), findingIsError(f.kind) ? Tone::Alert : Tone::Warning);
            return {};
        case EntryRole:
            return f.entry;
        case KindRole:
            return int(f.kind);
        case SeverityRole:
            return findingIsError(f.kind) ? 0 : 1;
    }
    return {};
}

QVariant FindingsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case KindColumn:
            return tr("Problem");
        case TensorColumn:
            return tr("Tensor");
        case DetailColumn:
            return tr("Detail");
    }
    return {};
}

}  // namespace paramscope
