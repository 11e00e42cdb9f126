#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

class ModelIndex;

/// One node of the module tree. Node 0 is the root (the model itself).
struct TreeNode {
    // Views into the tree's one copy of the names (a node's full name is a prefix of
    // the name of the entry that made it), so memory grows with the names' total length,
    // not with depth squared.
    std::string_view name;      // last segment ("weight", "3", "q_proj")
    std::string_view fullName;  // dotted path from the root ("" for the root)
    int parent = -1;
    int row = 0;  // position among the parent's children: O(1) row lookups
    std::vector<int> children;
    int entry = -1;  // tensor entry shown by this node, or -1 for a pure module
    // Aggregates over the subtree. Storage shared by several tensors of the subtree
    // (tied weights) is counted once.
    std::int64_t numel = 0;
    std::int64_t bytes = 0;
    int parameters = 0;  // tensors of each kind in the subtree, by name
    int buffers = 0;
    int tensors = 0;
    int order = 0;  // first appearance in the file: the model's own order

    bool isTensor() const { return entry >= 0; }
    bool isModule() const { return entry < 0 || !children.empty(); }
};

/// The dotted names of a model as a tree of modules with aggregated counts.
/// Children keep the model's order (a module's own parameters, then its buffers, then
/// its sub-modules, as state_dict() lists them) unless re-sorted.
class ModelTree {
public:
    ModelTree();
    /// Builds the tree of every entry of `index` (with a copy of the names its nodes view).
    static ModelTree build(const ModelIndex& index);
    /// The same, its nodes viewing the index's own names: the tree keeps the index alive
    /// instead of a second copy of every name (18-60 bytes a tensor).
    static ModelTree build(std::shared_ptr<const ModelIndex> index);

    const TreeNode& node(int i) const { return m_nodes[size_t(i)]; }
    int size() const { return int(m_nodes.size()); }
    static constexpr int root() { return 0; }
    /// Node showing `entry`, or -1.
    int nodeForEntry(int entry) const;
    /// Node with this dotted path (a module or a tensor), or -1.
    int find(std::string_view fullName) const;
    int depth(int node) const;

    /// Re-orders every node's children in natural order of their names
    /// ("layers.2" before "layers.10"); `false` restores the model's order.
    void sortNatural(bool natural);

    /// The node's children sorted by size (bytes), largest first (ties in the tree's order),
    /// at most `limit` (O(children x log limit)).
    std::vector<int> largestChildren(int node, int limit) const;

    /// The tensor entries under `node` (itself included), in file order: a module's tensors.
    /// O(subtree): callers with a large module run it off the GUI thread.
    std::vector<int> entriesUnder(int node) const;

private:
    int addChild(int parent, std::string_view segment, std::string_view full);
    void insertNames(const ModelIndex& index, bool copyNames);
    void aggregate(const ModelIndex& index);
    void renumberRows(int node);
    // What the nodes' names view: a copy of every entry name, back to back, or the index itself.
    std::shared_ptr<const std::string> m_names;
    std::shared_ptr<const ModelIndex> m_index;
    std::vector<TreeNode> m_nodes;
    std::vector<int> m_nodeForEntry;
};

/// Natural order: digit runs compare by value, the rest byte-wise.
/// Returns <0, 0 or >0.
int naturalCompare(std::string_view a, std::string_view b);

}  // namespace paramscope
