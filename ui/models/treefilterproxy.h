#pragma once

#include "model/searchmatches.h"
#include "model/treelayout.h"

#include <QAbstractProxyModel>

#include <memory>

namespace paramscope {

class ModelTreeModel;

/// Shows a ModelTreeModel through a TreeLayout: the rows a search leaves and the order a
/// sort gives. Filtering and sorting are not done row by row here: a layout (computed in
/// core, on a worker for large models) is applied whole with one model reset, so applying a
/// search or a sort costs the GUI thread O(1) plus the view's layout of what it shows,
/// whatever the number of tensors or of earlier searches. Every index carries its tree node
/// id, as the source's do; index(), parent(), rowCount() and the mappings are O(1).
///
/// Sorting: natural order on names (layers.2 before layers.10), numbers as numbers; sort
/// column -1 is the model's own order. By default sort() computes the layout at once; with
/// setAsyncSort(true) it only emits sortRequested() and whoever computes layouts (the
/// window's SearchController) hands the result to setView().
class TreeFilterProxy : public QAbstractProxyModel {
    Q_OBJECT
public:
    explicit TreeFilterProxy(QObject* parent = nullptr);

    void setSourceModel(QAbstractItemModel* source) override;

    /// Computes the matches and the layout synchronously and applies them. Returns false, and
    /// leaves the current filter as it was, when the query is invalid (see lastInvalidMatcher()).
    bool setQuery(const SearchQuery& query);
    /// Applies matches computed elsewhere, filtering the current order here (O(n)). Ignored
    /// when they belong to another model (size mismatch).
    void setMatches(std::shared_ptr<const SearchMatches> matches);
    /// Applies matches and the layout computed from them elsewhere (on a worker): O(1).
    /// `layout` null shows every row in the model's order. Ignored when either belongs to
    /// another model.
    void setView(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout);
    /// Shows every row again (in the current order).
    void clearQuery();

    bool isFiltering() const { return m_matches != nullptr; }
    const std::shared_ptr<const SearchMatches>& matches() const { return m_matches; }
    const std::shared_ptr<const TreeLayout>& layout() const { return m_layout; }
    /// Matching tensors (0 when not filtering).
    int matchCount() const { return m_matches ? int(m_matches->entries.size()) : 0; }
    /// Names the regular expression could not decide (backtracking limit; 0 when not filtering).
    int undecidedCount() const { return m_matches ? int(m_matches->undecided.size()) : 0; }
    /// Whether the source node `node` is a matching tensor (false when not filtering).
    bool isMatchNode(int node) const;
    const NameMatcher& lastInvalidMatcher() const { return m_lastInvalid; }

    /// The shown children of tree node `node` (the root is 0), without building indexes.
    int shownChildCount(int node) const;
    int shownChild(int node, int row) const;
    /// The proxy index (column 0) of tree node `node`, or invalid when it is hidden or the root.
    QModelIndex indexForNode(int node) const;

    /// The sort a column stands for (-1: the model's order). A statistic column sorts by
    /// the scan table's values at the time of the call.
    TreeSort sortFor(int column, Qt::SortOrder order) const;
    /// The sort last asked for (shown once its layout is applied).
    const TreeSort& requestedSort() const { return m_sort; }
    void setAsyncSort(bool async) { m_asyncSort = async; }

    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    QModelIndex mapToSource(const QModelIndex& proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex& sourceIndex) const override;
    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    QModelIndex sibling(int row, int column, const QModelIndex& idx) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    bool hasChildren(const QModelIndex& parent = {}) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    /// setAsyncSort(true) and sort() was called: compute the layout for `sort` and hand it to setView().
    void sortRequested(const TreeSort& sort);

private:
    int nodeOf(const QModelIndex& proxyIndex) const;
    int rowOf(int node) const;
    /// The layout of every node in the requested order (cached; built here when missing).
    std::shared_ptr<const TreeLayout> fullLayout();
    void apply(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout);
    void applyOrder(std::shared_ptr<const TreeLayout> layout);
    bool fitsModel(const SearchMatches* matches, const TreeLayout* layout) const;

    ModelTreeModel* m_model = nullptr;
    std::shared_ptr<const SearchMatches> m_matches;
    std::shared_ptr<const TreeLayout> m_layout;  // null: the tree's own children and rows
    std::shared_ptr<const TreeLayout> m_full;    // every node in m_sort's order (a cache)
    TreeSort m_sort;
    bool m_asyncSort = false;
    NameMatcher m_lastInvalid;
};

}  // namespace paramscope
