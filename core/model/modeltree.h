#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paramscope {

class ModelIndex;

/// A node's children, in order: a view of the tree's one array of child ids (no
/// allocation per node; the tree owns the ids).
class ChildList {
public:
    const int* begin() const { return m_data; }
    const int* end() const { return m_data + m_size; }
    std::reverse_iterator<const int*> rbegin() const { return std::reverse_iterator<const int*>(end()); }
    std::reverse_iterator<const int*> rend() const { return std::reverse_iterator<const int*>(begin()); }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    int operator[](std::size_t i) const { return m_data[i]; }
    int front() const { return m_data[0]; }
    int back() const { return m_data[m_size - 1]; }

private:
    friend class ModelTree;
    int* m_data = nullptr;
    std::uint32_t m_size = 0;
};

/// One node of the module tree. Node 0 is the root (the model itself).
struct TreeNode {
    // A view of the names the tree holds (a node's full name is a prefix of the name of
    // the entry that made it), so memory grows with the names' total length, not with
    // depth squared.
    std::string_view fullName;  // dotted path from the root ("" for the root)
    /// The last segment ("weight", "3", "q_proj"): segments never hold a dot.
    std::string_view name() const
    {
        const std::size_t dot = fullName.rfind('.');
        return dot == std::string_view::npos ? fullName : fullName.substr(dot + 1);
    }
    int parent = -1;
    int row = 0;  // position among the parent's children: O(1) row lookups
    ChildList children;
    // Aggregates over the subtree. Storage shared by several tensors of the subtree
    // (tied weights) is counted once.
    std::int64_t numel = 0;
    std::int64_t bytes = 0;
    int entry = -1;      // tensor entry shown by this node, or -1 for a pure module
    int parameters = 0;  // tensors of each kind in the subtree, by name
    int buffers = 0;
    int tensors = 0;
    // (A node's id is its first appearance in the file: nodes are made in the model's order.)

    bool isTensor() const { return entry >= 0; }
    bool isModule() const { return entry < 0 || !children.empty(); }
};
// A node per tensor and per module: 1M tensors make 1.1M of them.
static_assert(sizeof(TreeNode) <= 72, "TreeNode grew: the index of a large model grows with it");

/// The dotted names of a model as a tree of modules with aggregated counts.
/// Children keep the model's order (a module's own parameters, then its buffers, then
/// its sub-modules, as state_dict() lists them) unless re-sorted.
class ModelTree {
public:
    ModelTree();
    // Copies point their nodes' children into their own array; moves keep it.
    ModelTree(const ModelTree& other);
    ModelTree& operator=(const ModelTree& other);
    ModelTree(ModelTree&&) noexcept = default;
    ModelTree& operator=(ModelTree&&) noexcept = default;
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
    /// Calls f(node id) for `node` and every node under it, depth first.
    template <typename F>
    void forEachUnder(int node, F&& f) const
    {
        std::vector<int> stack{node};
        while (!stack.empty()) {
            const int id = stack.back();
            stack.pop_back();
            f(id);
            const ChildList& ch = m_nodes[size_t(id)].children;
            stack.insert(stack.end(), ch.begin(), ch.end());
        }
    }

private:
    int addChild(int parent, std::string_view full);
    void insertNames(const ModelIndex& index, bool copyNames);
    void aggregate(const ModelIndex& index);
    void renumberRows(int node);
    /// Lays every node's children out in m_children, in creation order, and numbers the rows.
    void linkChildren();
    void rebase(const ModelTree& from);
    // What the nodes' names view: a copy of every entry name, back to back, or the index itself.
    std::shared_ptr<const std::string> m_names;
    std::shared_ptr<const ModelIndex> m_index;
    std::vector<TreeNode> m_nodes;
    std::vector<int> m_children;  // every node's children, node after node (TreeNode::children views it)
    std::vector<int> m_nodeForEntry;
};

/// Natural order: digit runs compare by value, the rest byte-wise.
/// Returns <0, 0 or >0.
int naturalCompare(std::string_view a, std::string_view b);

}  // namespace paramscope
