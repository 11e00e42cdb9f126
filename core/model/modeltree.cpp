#include "model/modeltree.h"

#include "model/modelindex.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

ModelTree::ModelTree()
{
    m_nodes.emplace_back();
}

namespace {

struct PairHash {
    size_t operator()(const std::pair<int, std::string_view>& p) const
    {
        return std::hash<std::string_view>()(p.second) * 31u + std::hash<int>()(p.first);
    }
};

}  // namespace

int ModelTree::addChild(int parent, std::string_view segment, std::string_view full)
{
    TreeNode n;
    n.name = segment;
    n.fullName = full;
    n.parent = parent;
    n.row = int(m_nodes[size_t(parent)].children.size());
    n.order = int(m_nodes.size());
    m_nodes.push_back(std::move(n));
    const int id = int(m_nodes.size()) - 1;
    m_nodes[size_t(parent)].children.push_back(id);
    return id;
}

ModelTree ModelTree::build(const ModelIndex& index)
{
    ModelTree t;
    t.insertNames(index);
    t.aggregate(index);
    return t;
}

/// One node per dotted prefix of every name, in first-seen order.
void ModelTree::insertNames(const ModelIndex& index)
{
    m_nodeForEntry.assign(index.entries.size(), -1);
    // (parent, segment) -> module node. Names are views into the entries, which outlive
    // this function's map.
    std::unordered_map<std::pair<int, std::string_view>, int, PairHash> childByName;
    childByName.reserve(index.entries.size() * 2);

    // One copy of all names; the map's keys and the nodes view it.
    auto names = std::make_shared<std::string>();
    std::size_t total = 0;
    for (const auto& e : index.entries)
        total += e.name.size();
    names->reserve(total);
    std::vector<std::size_t> at(index.entries.size());
    for (size_t ei = 0; ei < index.entries.size(); ++ei) {
        at[ei] = names->size();
        names->append(index.entries[ei].name);
    }
    m_names = names;

    for (size_t ei = 0; ei < index.entries.size(); ++ei) {
        const std::string_view name = std::string_view(*names).substr(at[ei], index.entries[ei].name.size());
        int cur = 0;
        size_t start = 0;
        while (true) {
            const size_t dot = name.find('.', start);
            const bool last = dot == std::string::npos;
            const std::string_view seg = name.substr(start, last ? std::string::npos : dot - start);
            const std::string_view full = name.substr(0, last ? name.size() : dot);
            auto it = childByName.find({cur, seg});
            int next;
            if (it == childByName.end()) {
                next = addChild(cur, seg, full);
                childByName.emplace(std::make_pair(cur, seg), next);
            } else {
                next = it->second;
                if (last && m_nodes[size_t(next)].entry >= 0) {
                    // The same name twice (a malformed file): keep both, side by side.
                    next = addChild(cur, seg, full);
                }
            }
            cur = next;
            if (last)
                break;
            start = dot + 1;
        }
        m_nodes[size_t(cur)].entry = int(ei);
        m_nodeForEntry[ei] = cur;
    }
}

namespace {

/// Adds the tensors of the subtree at `root` that `parentSeen` has not counted yet (rare:
/// tied weights in sibling subtrees), one by one.
void recountSubtree(const std::vector<TreeNode>& nodes, const ModelIndex& index, int root, TreeNode& parent,
                    std::unordered_set<int>& parentSeen)
{
    std::vector<int> stack{root};
    while (!stack.empty()) {
        const int c = stack.back();
        stack.pop_back();
        const TreeNode& cn = nodes[size_t(c)];
        if (cn.entry >= 0) {
            const TensorEntry& e = index.entries[size_t(cn.entry)];
            if (e.storage < 0 || parentSeen.insert(e.storage).second) {
                parent.numel = saturatingAdd(parent.numel, e.numel);
                parent.bytes = saturatingAdd(parent.bytes, e.bytes);
            }
        }
        for (int ch : cn.children)
            stack.push_back(ch);
    }
}

}  // namespace

/// Counts bottom-up. Nodes are created after their parents, so a reverse sweep visits
/// children first. Shared storages are counted once per subtree: each node keeps the set
/// of storages already counted below it.
void ModelTree::aggregate(const ModelIndex& index)
{
    std::vector<std::unordered_set<int>> seen(m_nodes.size());
    for (size_t i = m_nodes.size(); i-- > 0;) {
        TreeNode& n = m_nodes[i];
        if (n.entry >= 0) {
            const TensorEntry& e = index.entries[size_t(n.entry)];
            const bool counted = e.storage >= 0 && !seen[i].insert(e.storage).second;
            if (!counted) {
                n.numel = saturatingAdd(n.numel, e.numel);
                n.bytes = saturatingAdd(n.bytes, e.bytes);
            }
            switch (e.kind) {
                case TensorKind::Parameter:
                    ++n.parameters;
                    break;
                case TensorKind::Buffer:
                    ++n.buffers;
                    break;
                case TensorKind::Tensor:
                case TensorKind::Array:
                    ++n.tensors;
                    break;
            }
        }
        if (n.parent < 0)
            continue;
        TreeNode& p = m_nodes[size_t(n.parent)];
        p.parameters += n.parameters;
        p.buffers += n.buffers;
        p.tensors += n.tensors;
        // Add this subtree's numbers, minus storages the parent already counted from an
        // earlier sibling.
        auto& ps = seen[size_t(n.parent)];
        const bool overlap = std::any_of(seen[i].begin(), seen[i].end(), [&ps](int s) { return ps.count(s) > 0; });
        if (!overlap) {
            p.numel = saturatingAdd(p.numel, n.numel);
            p.bytes = saturatingAdd(p.bytes, n.bytes);
            ps.insert(seen[i].begin(), seen[i].end());
        } else {
            recountSubtree(m_nodes, index, int(i), p, ps);
        }
        // Entries without storage identity never collide.
        seen[i].clear();
        seen[i].rehash(0);
    }
}

int ModelTree::nodeForEntry(int entry) const
{
    if (entry < 0 || size_t(entry) >= m_nodeForEntry.size())
        return -1;
    return m_nodeForEntry[size_t(entry)];
}

int ModelTree::find(std::string_view fullName) const
{
    if (fullName.empty())
        return 0;
    int cur = 0;
    size_t start = 0;
    while (true) {
        const size_t dot = fullName.find('.', start);
        const bool last = dot == std::string_view::npos;
        const auto seg = fullName.substr(start, last ? std::string_view::npos : dot - start);
        int next = -1;
        for (int c : m_nodes[size_t(cur)].children)
            if (m_nodes[size_t(c)].name == seg) {
                next = c;
                break;
            }
        if (next < 0)
            return -1;
        cur = next;
        if (last)
            return cur;
        start = dot + 1;
    }
}

int ModelTree::depth(int node) const
{
    int d = 0;
    while (node > 0) {
        node = m_nodes[size_t(node)].parent;
        ++d;
    }
    return d;
}

void ModelTree::sortNatural(bool natural)
{
    for (auto& n : m_nodes) {
        if (n.children.size() < 2)
            continue;
        if (natural) {
            std::stable_sort(n.children.begin(), n.children.end(), [this](int a, int b) {
                return naturalCompare(m_nodes[size_t(a)].name, m_nodes[size_t(b)].name) < 0;
            });
        } else {
            std::sort(n.children.begin(), n.children.end(),
                      [this](int a, int b) { return m_nodes[size_t(a)].order < m_nodes[size_t(b)].order; });
        }
    }
    for (size_t i = 0; i < m_nodes.size(); ++i)
        renumberRows(int(i));
}

void ModelTree::renumberRows(int node)
{
    const auto& ch = m_nodes[size_t(node)].children;
    for (size_t r = 0; r < ch.size(); ++r)
        m_nodes[size_t(ch[r])].row = int(r);
}

std::vector<int> ModelTree::largestChildren(int node, int limit) const
{
    std::vector<int> ch = m_nodes[size_t(node)].children;
    std::stable_sort(ch.begin(), ch.end(),
                     [this](int a, int b) { return m_nodes[size_t(a)].bytes > m_nodes[size_t(b)].bytes; });
    if (limit >= 0 && ch.size() > size_t(limit))
        ch.resize(size_t(limit));
    return ch;
}

int naturalCompare(std::string_view a, std::string_view b)
{
    size_t i = 0, j = 0;
    auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    while (i < a.size() && j < b.size()) {
        if (isDigit(a[i]) && isDigit(b[j])) {
            // Compare digit runs by value: skip leading zeros, then length, then digits.
            size_t si = i, sj = j;
            while (si < a.size() && a[si] == '0')
                ++si;
            while (sj < b.size() && b[sj] == '0')
                ++sj;
            size_t ei = si, ej = sj;
            while (ei < a.size() && isDigit(a[ei]))
                ++ei;
            while (ej < b.size() && isDigit(b[ej]))
                ++ej;
            const size_t li = ei - si, lj = ej - sj;
            if (li != lj)
                return li < lj ? -1 : 1;
            const int c = a.substr(si, li).compare(b.substr(sj, lj));
            if (c != 0)
                return c < 0 ? -1 : 1;
            // Equal values: fewer leading zeros first, for a stable total order.
            const size_t zi = si - i, zj = sj - j;
            if (zi != zj)
                return zi < zj ? -1 : 1;
            i = ei;
            j = ej;
        } else {
            if (a[i] != b[j])
                return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
            ++i;
            ++j;
        }
    }
    if (i == a.size() && j == b.size())
        return 0;
    return i == a.size() ? -1 : 1;
}

}  // namespace paramscope
