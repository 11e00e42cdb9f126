#pragma once

// What a comparison view shows: the merged model (one entry per aligned pair, so the tree,
// search and layouts of a single model serve the comparison), every pair's result as the
// diff hands it on, and per module the counts by status and the figures of its tensors
// taken together.

#include "diff/diff.h"

#include <QString>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;

/// The figures a comparison's columns show, in column order.
enum class DiffColumn : std::uint8_t { Status, MaxAbsDiff, MeanAbsDiff, RelL2, Cosine, Changed, NewNonFinite };
constexpr int kDiffColumns = 7;

/// A module's tensors together (a tensor's own row: its pair alone).
struct NodeDiff {
    std::array<int, kDiffStatuses> counts{};  // tensors per status
    int tensors = 0;
    int compared = 0;  // with figures
    std::int64_t elements = 0, bothFinite = 0, changed = 0, newNonFinite = 0;
    double maxAbsDiff = 0, sumAbsDiff = 0, sumSqDiff = 0, sumSqA = 0, sumSqB = 0, dot = 0;
    /// The most changed tensor's relative change and the lowest cosine (NaN: none), which a
    /// module shows so that sorting by them leads to the tensor that changed most.
    double maxRelL2 = std::numeric_limits<double>::quiet_NaN();
    double minCosine = std::numeric_limits<double>::quiet_NaN();
    /// Tensors neither identical nor within tolerance (nor pending).
    int differing() const;
};

/// One entry per pair of `alignment`, in its order, named by the pair's key, with B's dtype,
/// shape and kind (A's when only in A) and no data.
std::shared_ptr<ModelIndex> mergedIndex(const ModelIndex& a, const ModelIndex& b, const Alignment& alignment);

class DiffTable {
public:
    DiffTable(std::shared_ptr<const ModelIndex> merged, std::shared_ptr<const ModelTree> tree);

    /// A pair's result (pair = entry of the merged index); a pair already added is replaced.
    void add(int pair, const PairDiff& d);
    void setComplete(bool complete) { m_complete = complete; }
    bool isComplete() const { return m_complete; }

    const std::shared_ptr<const ModelIndex>& merged() const { return m_index; }
    const std::shared_ptr<const ModelTree>& tree() const { return m_tree; }
    int pairCount() const { return int(m_pairs.size()); }
    int doneCount() const { return m_done; }
    const PairDiff& pair(int p) const { return m_pairs[size_t(p)]; }
    const NodeDiff& node(int node) const { return m_nodes[size_t(node)]; }

    /// The figure of a column for a tree node (NaN when there is none: a tensor not
    /// compared, a module with nothing compared). Status: how far from identical (0
    /// identical, 1 within tolerance, 2 changed, 3 dtype changed, 4 shape changed, 5 only
    /// in one, 6 unreadable; a module: how many of its tensors differ). A module's max and
    /// mean |b-a| and changed fraction are over all its elements; its relative change is its
    /// most changed tensor's, its cosine the lowest of its tensors'.
    double value(int node, DiffColumn c) const;
    QString text(int node, DiffColumn c) const;
    /// Per node, value() of the column (for TreeSort::Field::Numeric).
    std::shared_ptr<const std::vector<double>> sortKeys(DiffColumn c) const;
    /// Per merged entry, 1 where the pair's status is in `statuses` (bit 1 << status).
    std::vector<unsigned char> statusMask(std::uint32_t statuses) const;
    /// Every status but identical, within tolerance and pending: what differs.
    static std::uint32_t differingStatuses();

private:
    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    std::vector<PairDiff> m_pairs;
    std::vector<NodeDiff> m_nodes;
    std::vector<int> m_nodeOf;  // per pair, its tree node (-1: none)
    int m_done = 0;
    bool m_complete = false;
};

}  // namespace paramscope
