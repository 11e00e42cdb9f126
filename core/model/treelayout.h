#pragma once

// What a tree view shows of a model tree: which nodes are visible (all, or the matches of a
// search and their ancestors) and in which order each node's visible children come (the
// model's order, or sorted by a column). Built in one pass off the GUI thread and immutable
// afterwards, so a view applies a new search or sort in O(1) (one model reset) instead of
// filtering and sorting row by row on the GUI thread.

#include <cstdint>
#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;
struct SearchMatches;

/// The key a tree is sorted by. Ties keep the model's order.
struct TreeSort {
    enum class Field : std::uint8_t {
        ModelOrder,  // the file's own order (no sort)
        Name,        // natural order of the last segment ("layers.2" before "layers.10")
        Type,        // the module's class (short name), tensors after none
        Shape,       // modules first, then by rank, then dimension by dimension
        DType,       // the dtype's name; a module's subtree dtype ("mixed" when several)
        Elements,    // element count (a module's subtree total)
        Bytes,       // byte count (a module's subtree total)
        BelongsTo,   // the name of the parameter an optimizer state entry belongs to
        Shard,       // the shard file's name
        Numeric,     // a number per node (`numbers`: a scan's statistic); nodes without one (NaN) last
    };
    TreeSort() = default;
    TreeSort(Field f, bool desc) : field(f), descending(desc) {}

    Field field = Field::ModelOrder;
    bool descending = false;
    /// Numeric: the value of each node, NaN for none; `key` tells the columns apart.
    std::shared_ptr<const std::vector<double>> numbers;
    int key = 0;

    bool operator==(const TreeSort& o) const
    {
        return field == o.field && descending == o.descending && key == o.key && numbers == o.numbers;
    }
    bool operator!=(const TreeSort& o) const { return !(*this == o); }
};

class TreeLayout {
public:
    /// Every node, each node's children sorted by `sort`. O(n log n) for a sort, O(n) for
    /// the model's order.
    static std::shared_ptr<const TreeLayout> build(const ModelIndex& index, const ModelTree& tree,
                                                   const TreeSort& sort);
    /// The nodes of `all` (a layout of the same tree) that `matches` shows, in `all`'s order.
    /// O(n); `matches` null or of another tree gives `all` itself.
    static std::shared_ptr<const TreeLayout> filter(const std::shared_ptr<const TreeLayout>& all,
                                                    const SearchMatches* matches);

    const TreeSort& sort() const { return m_sort; }
    /// Whether this layout hides nodes (built by filter() from matches).
    bool isFiltered() const { return m_filtered; }
    int nodeCount() const { return int(m_row.size()); }

    /// Whether `node` is shown (the root always is).
    bool isVisible(int node) const { return node >= 0 && size_t(node) < m_row.size() && m_row[size_t(node)] >= 0; }
    /// Position of a visible node among its parent's visible children, or -1.
    int row(int node) const { return isVisible(node) ? m_row[size_t(node)] : -1; }
    /// Number of visible children of a visible node (0 otherwise).
    int childCount(int node) const
    {
        return isVisible(node) ? int(m_start[size_t(node) + 1] - m_start[size_t(node)]) : 0;
    }
    /// The `row`-th visible child of `node`, or -1.
    int child(int node, int row) const
    {
        if (row < 0 || row >= childCount(node))
            return -1;
        return m_children[size_t(m_start[size_t(node)]) + size_t(row)];
    }

    /// The shown modules (nodes with shown children, the root left out) in display pre-order,
    /// at most `maxNodes`: in a filtered layout, the modules to open so every match is in view.
    std::vector<int> modulesInPreorder(int maxNodes) const;

private:
    TreeLayout() = default;
    std::vector<int> m_row;       // per node: row among the visible siblings, -1 when hidden
    std::vector<int> m_start;     // per node + 1: where its children start in m_children
    std::vector<int> m_children;  // visible children of every node, back to back, in order
    TreeSort m_sort;
    bool m_filtered = false;
};

}  // namespace paramscope
