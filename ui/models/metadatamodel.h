#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class NameMatcher;

/// The values of a file that are not tensors (ModelIndex::metadataEntries) as a table:
/// Name, Type, Value. The shown value is one line (control characters escaped, long text
/// cut); the tooltip holds the whole value.
class MetadataModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, TypeColumn, ValueColumn, ColumnCount };
    static constexpr int kShownValueChars = 300;  // past this a cell shows the start and the length

    explicit MetadataModel(QObject* parent = nullptr);

    /// Replaces the whole table with one reset; null clears it.
    void setModel(std::shared_ptr<const ModelIndex> index);
    const std::shared_ptr<const ModelIndex>& modelIndex() const { return m_index; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const ModelIndex> m_index;
};

/// Filters MetadataModel rows by name with the window's search (the same matcher as the
/// tensor tree); sorts by the shown text.
class MetadataFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit MetadataFilterProxy(QObject* parent = nullptr);
    ~MetadataFilterProxy() override;
    /// Keeps the rows whose name `matcher` matches (an empty matcher keeps every row).
    void setMatcher(const NameMatcher& matcher);
    bool isFiltering() const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    std::unique_ptr<NameMatcher> m_matcher;
};

}  // namespace paramscope
