#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class NameMatcher;
struct SearchMatches;

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
/// tensor tree); sorts by the shown text. The window hands it the search's result, whose
/// metadataMatch the search controller computed off the GUI thread: filtering then only
/// looks each row up.
class MetadataFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit MetadataFilterProxy(QObject* parent = nullptr);
    ~MetadataFilterProxy() override;
    /// Keeps the rows `matches` marks in metadataMatch (null or an empty matcher keeps every
    /// row). The same result as before changes nothing (a sort of the tensors). A result
    /// whose mask does not fit the model (computed for another file) runs its matcher.
    void setMatches(std::shared_ptr<const SearchMatches> matches);
    /// Keeps the rows whose name `matcher` matches, matching them on this thread (an empty
    /// matcher keeps every row).
    void setMatcher(const NameMatcher& matcher);
    bool isFiltering() const;
    /// The search result the rows are filtered with (null: none).
    const std::shared_ptr<const SearchMatches>& matches() const { return m_matches; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    std::shared_ptr<const SearchMatches> m_matches;
};

}  // namespace paramscope
