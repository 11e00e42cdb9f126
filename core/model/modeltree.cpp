#include "model/modeltree.h"

#include "model/modelindex.h"

#include <algorithm>
#include <functional>

namespace paramscope {

ModelTree::ModelTree()
{
    m_nodes.emplace_back();
}

ModelTree::ModelTree(const ModelTree& other)
    : m_names(other.m_names),
      m_index(other.m_index),
      m_nodes(other.m_nodes),
      m_children(other.m_children),
      m_nodeForEntry(other.m_nodeForEntry)
{
    rebase(other);
}

ModelTree& ModelTree::operator=(const ModelTree& other)
{
    if (this != &other)
        *this = ModelTree(other);  // the copy rebases, the move keeps
    return *this;
}

void ModelTree::rebase(const ModelTree& from)
{
    for (TreeNode& n : m_nodes)
        if (n.children.m_data)
            n.children.m_data = m_children.data() + (n.children.m_data - from.m_children.data());
}

void ModelTree::linkChildren()
{
    // Nodes are created after their parents and siblings in their order: children of a node
    // are the nodes naming it as parent, by increasing id.
    const size_t n = m_nodes.size();
    std::vector<std::uint32_t> start(n + 1, 0);
    for (size_t i = 1; i < n; ++i)
        ++start[size_t(m_nodes[i].parent) + 1];
    for (size_t i = 0; i < n; ++i)
        start[i + 1] += start[i];
    m_children.assign(n > 0 ? n - 1 : 0, 0);
    std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
    for (size_t i = 1; i < n; ++i) {
        const size_t p = size_t(m_nodes[i].parent);
        m_nodes[i].row = int(next[p] - start[p]);
        m_children[next[p]++] = int(i);
    }
    for (size_t i = 0; i < n; ++i) {
        m_nodes[i].children.m_size = start[i + 1] - start[i];
        m_nodes[i].children.m_data = m_nodes[i].children.m_size ? m_children.data() + start[i] : nullptr;
    }
}

namespace {

/// (parent, segment) -> module node, open addressing over node ids: 4 bytes a slot and no
/// allocation per node (an unordered_map of pairs cost a node and a bucket per entry).
class ChildTable {
public:
    explicit ChildTable(std::size_t expected)
    {
        std::size_t cap = 16;
        while (cap < expected * 2)
            cap *= 2;
        m_slots.assign(cap, -1);
    }
    static std::size_t hashOf(int parent, std::string_view seg)
    {
        return std::hash<std::string_view>()(seg) ^ (std::size_t(parent) * 0x9E3779B97F4A7C15ull);
    }
    /// The node under `parent` named `seg`, or -1.
    int find(const std::vector<TreeNode>& nodes, int parent, std::string_view seg) const
    {
        const std::size_t mask = m_slots.size() - 1;
        for (std::size_t i = hashOf(parent, seg) & mask;; i = (i + 1) & mask) {
            const int id = m_slots[i];
            if (id < 0)
                return -1;
            const TreeNode& n = nodes[size_t(id)];
            if (n.parent == parent && n.name() == seg)
                return id;
        }
    }
    void insert(const std::vector<TreeNode>& nodes, int id)
    {
        if ((m_used + 1) * 2 > m_slots.size())
            grow(nodes);
        place(nodes, id);
        ++m_used;
    }

private:
    void place(const std::vector<TreeNode>& nodes, int id)
    {
        const std::size_t mask = m_slots.size() - 1;
        const TreeNode& n = nodes[size_t(id)];
        std::size_t i = hashOf(n.parent, n.name()) & mask;
        while (m_slots[i] >= 0)
            i = (i + 1) & mask;
        m_slots[i] = id;
    }
    void grow(const std::vector<TreeNode>& nodes)
    {
        std::vector<int> old(m_slots.size() * 2, -1);
        old.swap(m_slots);
        for (int id : old)
            if (id >= 0)
                place(nodes, id);
    }
    std::vector<int> m_slots;
    std::size_t m_used = 0;
};

}  // namespace

int ModelTree::addChild(int parent, std::string_view full)
{
    TreeNode n;
    n.fullName = full;  // its name is the last segment of that
    n.parent = parent;
    // Row and children: linkChildren(), once every node is made.
    m_nodes.push_back(std::move(n));
    return int(m_nodes.size()) - 1;
}

ModelTree ModelTree::build(const ModelIndex& index)
{
    ModelTree t;
    t.insertNames(index, true);
    t.linkChildren();
    t.aggregate(index);
    return t;
}

ModelTree ModelTree::build(std::shared_ptr<const ModelIndex> index)
{
    ModelTree t;
    if (!index)
        return t;
    t.insertNames(*index, false);
    t.linkChildren();
    t.aggregate(*index);
    t.m_index = std::move(index);  // immutable: its entries' names stay where they are
    return t;
}

/// One node per dotted prefix of every name, in first-seen order.
void ModelTree::insertNames(const ModelIndex& index, bool copyNames)
{
    m_nodeForEntry.assign(index.entries.size(), -1);
    // (parent, segment) -> node; a name's first node under a parent, never its duplicates.
    ChildTable childByName(index.entries.size() + index.entries.size() / 4);
    m_nodes.reserve(m_nodes.size() + index.entries.size() + index.entries.size() / 4);

    // The names the map's keys and the nodes view: one copy of them all, or the index's own.
    std::vector<std::size_t> at;
    if (copyNames) {
        auto names = std::make_shared<std::string>();
        std::size_t total = 0;
        for (const auto& e : index.entries)
            total += e.name.size();
        names->reserve(total);
        at.resize(index.entries.size());
        for (size_t ei = 0; ei < index.entries.size(); ++ei) {
            at[ei] = names->size();
            names->append(index.entries[ei].name);
        }
        m_names = names;
    }

    for (size_t ei = 0; ei < index.entries.size(); ++ei) {
        const std::string_view name = copyNames
                                          ? std::string_view(*m_names).substr(at[ei], index.entries[ei].name.size())
                                          : std::string_view(index.entries[ei].name);
        int cur = 0;
        size_t start = 0;
        while (true) {
            const size_t dot = name.find('.', start);
            const bool last = dot == std::string::npos;
            const std::string_view seg = name.substr(start, last ? std::string::npos : dot - start);
            const std::string_view full = name.substr(0, last ? name.size() : dot);
            int next = childByName.find(m_nodes, cur, seg);
            if (next < 0) {
                next = addChild(cur, full);
                childByName.insert(m_nodes, next);
            } else {
                if (last && m_nodes[size_t(next)].entry >= 0) {
                    // The same name twice (a malformed file): keep both, side by side.
                    next = addChild(cur, full);
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
    // The reserve above guesses the module count; a tree keeps what it needs.
    if (m_nodes.capacity() > m_nodes.size() + m_nodes.size() / 16)
        m_nodes.shrink_to_fit();
}

/// Counts bottom-up. Nodes are created after their parents, so a reverse sweep visits
/// children first. A storage several entries share (tied weights, views) is counted once
/// per subtree, with the first of its entries (in file order) in that subtree: those entries
/// are rare, so each walks up only until it meets a node that already counted its storage.
void ModelTree::aggregate(const ModelIndex& index)
{
    // Entries per storage: counted in a table when the indices are dense (they index
    // ModelIndex::storages), else found by sorting.
    int maxStorage = -1;
    for (const TensorEntry& e : index.entries)
        maxStorage = std::max(maxStorage, e.storage);
    std::vector<unsigned char> sharedStorage;  // per storage index: used by more than one entry
    std::vector<unsigned char> sharedEntry;    // per entry, when the indices are sparse
    if (size_t(maxStorage) < 4 * index.entries.size() + 64) {
        std::vector<int> users(size_t(maxStorage + 1), 0);
        for (const TensorEntry& e : index.entries)
            if (e.storage >= 0)
                ++users[size_t(e.storage)];
        sharedStorage.resize(users.size());
        for (size_t s = 0; s < users.size(); ++s)
            sharedStorage[s] = users[s] > 1;
    } else {
        std::vector<std::pair<int, int>> byStorage;  // storage, entry
        for (size_t ei = 0; ei < index.entries.size(); ++ei)
            if (index.entries[ei].storage >= 0)
                byStorage.emplace_back(index.entries[ei].storage, int(ei));
        std::sort(byStorage.begin(), byStorage.end());
        sharedEntry.assign(index.entries.size(), 0);
        for (size_t k = 0; k < byStorage.size(); ++k)
            if ((k > 0 && byStorage[k - 1].first == byStorage[k].first) ||
                (k + 1 < byStorage.size() && byStorage[k + 1].first == byStorage[k].first))
                sharedEntry[size_t(byStorage[k].second)] = 1;
    }
    const auto isShared = [&](const TensorEntry& e) {
        if (e.storage < 0)
            return false;
        if (!sharedEntry.empty())
            return sharedEntry[size_t(&e - index.entries.data())] != 0;
        return sharedStorage[size_t(e.storage)] != 0;
    };

    for (size_t i = m_nodes.size(); i-- > 0;) {
        TreeNode& n = m_nodes[i];
        if (n.entry >= 0) {
            const TensorEntry& e = index.entries[size_t(n.entry)];
            if (!isShared(e)) {
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
        p.numel = saturatingAdd(p.numel, n.numel);
        p.bytes = saturatingAdd(p.bytes, n.bytes);
    }

    // The shared storages, grouped by storage, each group in file order.
    std::vector<int> shared;
    for (size_t ei = 0; ei < index.entries.size(); ++ei)
        if (isShared(index.entries[ei]) && m_nodeForEntry[ei] >= 0)
            shared.push_back(int(ei));
    if (shared.empty())
        return;
    std::stable_sort(shared.begin(), shared.end(),
                     [&](int a, int b) { return index.entries[size_t(a)].storage < index.entries[size_t(b)].storage; });
    std::vector<int> countedStorage(m_nodes.size(), -1);  // the shared storage a node counted last
    for (int ei : shared) {
        const TensorEntry& e = index.entries[size_t(ei)];
        for (int a = m_nodeForEntry[size_t(ei)]; a >= 0 && countedStorage[size_t(a)] != e.storage;
             a = m_nodes[size_t(a)].parent) {
            countedStorage[size_t(a)] = e.storage;
            m_nodes[size_t(a)].numel = saturatingAdd(m_nodes[size_t(a)].numel, e.numel);
            m_nodes[size_t(a)].bytes = saturatingAdd(m_nodes[size_t(a)].bytes, e.bytes);
        }
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
            if (m_nodes[size_t(c)].name() == seg) {
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
            int* const first = n.children.m_data;
            int* const last = first + n.children.m_size;
            std::stable_sort(first, last, [this](int a, int b) {
                return naturalCompare(m_nodes[size_t(a)].name(), m_nodes[size_t(b)].name()) < 0;
            });
        } else {
            std::sort(n.children.m_data, n.children.m_data + n.children.m_size);  // ids: the model's order
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
    std::vector<int> ch(m_nodes[size_t(node)].children.begin(), m_nodes[size_t(node)].children.end());
    // Larger first, then the tree's order (a stable sort's result), without sorting them all:
    // a module of 100k children asks for its ten largest on every click.
    const auto before = [this](int a, int b) {
        const TreeNode& x = m_nodes[size_t(a)];
        const TreeNode& y = m_nodes[size_t(b)];
        return x.bytes != y.bytes ? x.bytes > y.bytes : x.row < y.row;
    };
    const size_t keep = limit >= 0 ? std::min(ch.size(), size_t(limit)) : ch.size();
    std::partial_sort(ch.begin(), ch.begin() + std::ptrdiff_t(keep), ch.end(), before);
    ch.resize(keep);
    return ch;
}

std::vector<int> ModelTree::entriesUnder(int node) const
{
    std::vector<int> entries;
    forEachUnder(node, [&](int id) {
        if (m_nodes[size_t(id)].entry >= 0)
            entries.push_back(m_nodes[size_t(id)].entry);
    });
    std::sort(entries.begin(), entries.end());
    return entries;
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
