#pragma once

#include "model/searchmatches.h"

#include <QSortFilterProxyModel>

#include <memory>
#include <vector>

namespace paramscope {

class ModelTreeModel;

/// Filters and sorts a ModelTreeModel. Filtering looks up the precomputed SearchMatches
/// (O(1) per row), so re-filtering 100k rows costs one pass, not one regex per row per
/// level. Sorting: natural order on names (layers.2 before layers.10), numbers as numbers;
/// sort column -1 is the model's own order.
class TreeFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit TreeFilterProxy(QObject* parent = nullptr);

    void setSourceModel(QAbstractItemModel* source) override;

    /// Computes the matches synchronously and applies them. Returns false, and leaves the
    /// current filter as it was, when the query is invalid (see matcher().errorString()).
    bool setQuery(const SearchQuery& query);
    /// Applies matches computed elsewhere (e.g. on a worker). Ignored when they belong to
    /// another model (size mismatch).
    void setMatches(std::shared_ptr<const SearchMatches> matches);
    /// Shows every row again.
    void clearQuery();

    bool isFiltering() const { return m_matches != nullptr; }
    const std::shared_ptr<const SearchMatches>& matches() const { return m_matches; }
    /// Matching tensors (0 when not filtering).
    int matchCount() const { return m_matches ? int(m_matches->entries.size()) : 0; }
    /// Names the regular expression could not decide (backtracking limit; 0 when not filtering).
    int undecidedCount() const { return m_matches ? int(m_matches->undecided.size()) : 0; }
    /// Whether the source node `node` is a matching tensor (false when not filtering).
    bool isMatchNode(int node) const;
    const NameMatcher& lastInvalidMatcher() const { return m_lastInvalid; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    ModelTreeModel* m_model = nullptr;
    std::shared_ptr<const SearchMatches> m_matches;
    NameMatcher m_lastInvalid;
};

}  // namespace paramscope
