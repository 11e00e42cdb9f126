#pragma once

#include <QAbstractTableModel>

#include <cstdint>
#include <memory>
#include <vector>

namespace paramscope {

class ScanTable;
struct SearchMatches;

/// The findings of a scan as a flat table (kind, tensor, detail), filtered by kind and,
/// optionally, to the tensors a search matches.
class FindingsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { KindColumn, TensorColumn, DetailColumn, ColumnCount };
    enum Role { EntryRole = Qt::UserRole + 1, KindRole, SeverityRole };

    explicit FindingsModel(QObject* parent = nullptr);

    /// The table whose findings are listed (null: none); call refresh() when it changed.
    void setTable(const ScanTable* table);
    void refresh();
    /// Bit k set: FindingKind k is listed (all by default).
    void setKinds(std::uint16_t kinds);
    /// Lists only findings of tensors `matches` holds (null: no such filter).
    void setMatches(std::shared_ptr<const SearchMatches> matches);

    /// Findings in the table, listed or not; those of NaN/Inf kinds.
    int totalCount() const;
    int errorCount() const;
    int entryAt(int row) const;
    /// The first row of `entry`, or -1.
    int rowOfEntry(int entry) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void rebuild();

    const ScanTable* m_table = nullptr;
    std::uint16_t m_kinds = 0xffff;
    std::shared_ptr<const SearchMatches> m_matches;
    std::vector<unsigned char> m_matchMask;  // per entry, while m_matches
    std::vector<int> m_rows;                 // listed finding indices
};

}  // namespace paramscope
