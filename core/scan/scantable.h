#pragma once

// The results of a scan laid over a model's tree: each tensor's figures and findings, and
// each module's aggregate of the tensors below it (NaN/Inf/zero totals, the extremes, the
// largest max |x|, pooled mean and std, the norm of the whole), kept up to date as tensors
// arrive (O(depth) per tensor), for the tree's statistic columns, their sort keys and the
// Problems panel.

#include "scan/findings.h"
#include "scan/scan.h"

#include <QString>

#include <cstdint>
#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;

/// A statistic column of the tree.
enum class ScanColumn : std::uint8_t { Min, Max, Mean, Std, MaxAbs, L2, Zeros, NaN, Inf, Problems };
constexpr int kScanColumns = 10;
/// "Min", "Max", "Mean", "Std", "Max |x|", "L2", "Zeros", "NaN", "Inf", "Problems"
QString scanColumnTitle(ScanColumn c);

/// A module's aggregate of its scanned tensors.
struct NodeScan {
    int tensors = 0;   // scanned tensors in the subtree (the node's own included)
    int problems = 0;  // of them, tensors with a finding
    std::int64_t elements = 0, finite = 0, nan = 0, posInf = 0, negInf = 0, zeros = 0;
    double min = 0, max = 0, maxAbs = 0;
    double sum = 0, sumSquares = 0;  // of the finite values (from each tensor's mean and std)
    double l2Squared = 0;
    double mean() const { return finite ? sum / double(finite) : 0.0; }
    double std() const;
};

class ScanTable {
public:
    ScanTable(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree);

    /// Records the figures of `entry` (once per entry; a second call is ignored) and its
    /// own findings (every rule but outlier), and updates the modules above it.
    void add(int entry, const TensorScan& scan);
    /// The scan finished: every finding (outliers included) replaces those found so far.
    void setFindings(std::vector<Finding> findings);
    /// Whether the whole model was scanned (false while running or after a cancel).
    void setComplete(bool complete) { m_complete = complete; }
    bool isComplete() const { return m_complete; }

    const std::shared_ptr<const ModelIndex>& index() const { return m_index; }
    const std::shared_ptr<const ModelTree>& tree() const { return m_tree; }
    int scannedCount() const { return m_scanned; }
    int tensorCount() const { return int(m_tensors.size()); }

    const TensorScan& tensor(int entry) const { return m_tensors[size_t(entry)]; }
    const NodeScan& node(int node) const { return m_nodes[size_t(node)]; }
    /// Every tensor's figures, per entry (Pending where not scanned).
    const std::vector<TensorScan>& tensors() const { return m_tensors; }
    const std::vector<Finding>& findings() const { return m_findings; }
    /// Bit k set: the entry has a finding of FindingKind k.
    std::uint16_t findingKinds(int entry) const { return m_kinds[size_t(entry)]; }
    /// The findings of one entry.
    std::vector<const Finding*> findingsOf(int entry) const;
    /// Per entry: 1 when it has a finding (for the "only problems" filter).
    std::vector<unsigned char> problemMask() const;

    /// The value a column shows for a tree node (the tensor's figure, or the module's
    /// aggregate), NaN when there is none yet. Problems: the number of findings of a tensor,
    /// of tensors with findings under a module.
    double value(int node, ScanColumn c) const;
    /// Its text: shortest round-trip numbers, counts with separators, kind ids for Problems.
    QString text(int node, ScanColumn c) const;
    /// Every node's value of `c`, as the sort key of the tree's layout.
    std::shared_ptr<const std::vector<double>> sortKeys(ScanColumn c) const;

private:
    void addToNode(NodeScan& n, const TensorScan& t, bool first);
    void markProblem(int entry, std::uint16_t kinds);

    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    std::vector<TensorScan> m_tensors;
    std::vector<NodeScan> m_nodes;
    std::vector<std::uint16_t> m_kinds;
    std::vector<Finding> m_findings;
    int m_scanned = 0;
    bool m_complete = false;
};

}  // namespace paramscope
