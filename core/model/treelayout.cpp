#include "model/treelayout.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/searchmatches.h"
#include "model/subtreedtype.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

namespace paramscope {

namespace {

int compareInt(std::int64_t x, std::int64_t y)
{
    return x < y ? -1 : (x > y ? 1 : 0);
}

int compareText(std::string_view a, std::string_view b)
{
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string_view fileNameOf(const QString& path, std::vector<std::string>& cache, int i)
{
    if (cache[size_t(i)].empty()) {
        const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
        cache[size_t(i)] = path.mid(slash + 1).toStdString();
    }
    return cache[size_t(i)];
}

/// The per-node text a text column sorts by, computed once per build.
std::vector<std::string_view> textKeys(const ModelIndex& index, const ModelTree& tree, TreeSort::Field field,
                                       std::vector<std::string>& storage)
{
    const int n = tree.size();
    std::vector<std::string_view> keys(static_cast<size_t>(n));
    switch (field) {
        case TreeSort::Field::Type: {
            std::string path;
            for (int i = 0; i < n; ++i) {
                const TreeNode& node = tree.node(i);
                if (node.entry >= 0 && node.children.empty())
                    continue;
                path.assign(node.fullName);
                const auto it = index.moduleTypes.find(path);
                if (it == index.moduleTypes.end())
                    continue;
                // The short class name, as the Type column shows it (the last dotted part).
                const std::string_view q = it->second;
                const size_t dot = q.rfind('.');
                keys[size_t(i)] = dot == std::string_view::npos ? q : q.substr(dot + 1);
            }
            break;
        }
        case TreeSort::Field::DType: {
            const SubtreeDTypes sub = SubtreeDTypes::compute(index, tree);
            for (int i = 0; i < n; ++i) {
                const TreeNode& node = tree.node(i);
                if (node.entry >= 0)
                    keys[size_t(i)] = dtypeName(index.entries[size_t(node.entry)].dtype);
                else if (sub.mixed[size_t(i)])
                    keys[size_t(i)] = "mixed";
                else if (sub.dtype[size_t(i)] != DType::Unknown)
                    keys[size_t(i)] = dtypeName(sub.dtype[size_t(i)]);
            }
            break;
        }
        case TreeSort::Field::BelongsTo:
            for (int i = 0; i < n; ++i) {
                const TreeNode& node = tree.node(i);
                if (node.entry < 0)
                    continue;
                const int b = index.entries[size_t(node.entry)].belongsTo;
                if (b >= 0 && size_t(b) < index.entries.size())
                    keys[size_t(i)] = index.entries[size_t(b)].name;
            }
            break;
        case TreeSort::Field::Shard:
            storage.assign(size_t(index.sourceFiles.size()), std::string());
            for (int i = 0; i < n; ++i) {
                const TreeNode& node = tree.node(i);
                if (node.entry < 0)
                    continue;
                const int f = index.entries[size_t(node.entry)].sourceFile;
                if (f >= 0 && f < index.sourceFiles.size())
                    keys[size_t(i)] = fileNameOf(index.sourceFiles[f], storage, f);
            }
            break;
        default:
            break;
    }
    return keys;
}

}  // namespace

std::shared_ptr<const TreeLayout> TreeLayout::build(const ModelIndex& index, const ModelTree& tree,
                                                    const TreeSort& sort)
{
    auto layout = std::shared_ptr<TreeLayout>(new TreeLayout);
    TreeLayout& l = *layout;
    l.m_sort = sort;
    const int n = tree.size();
    l.m_row.assign(size_t(n), -1);
    l.m_start.assign(size_t(n) + 1, 0);
    l.m_children.reserve(size_t(n > 0 ? n - 1 : 0));

    std::vector<std::string> storage;
    const std::vector<std::string_view> text = textKeys(index, tree, sort.field, storage);
    const auto entryOf = [&](int node) -> const TensorEntry* {
        const int e = tree.node(node).entry;
        return e >= 0 ? &index.entries[size_t(e)] : nullptr;
    };
    const std::vector<double>* numbers = sort.numbers.get();
    const auto numberOf = [&](int node) {
        return numbers && size_t(node) < numbers->size() ? (*numbers)[size_t(node)]
                                                         : std::numeric_limits<double>::quiet_NaN();
    };
    const auto compare = [&](int a, int b) -> int {
        const TreeNode& x = tree.node(a);
        const TreeNode& y = tree.node(b);
        switch (sort.field) {
            case TreeSort::Field::ModelOrder:
                return 0;
            case TreeSort::Field::Name:
                return naturalCompare(x.name(), y.name());
            case TreeSort::Field::Shape: {
                const TensorEntry* ea = entryOf(a);
                const TensorEntry* eb = entryOf(b);
                if (!ea || !eb)
                    return int(ea != nullptr) - int(eb != nullptr);
                if (ea->shape.size() != eb->shape.size())
                    return ea->shape.size() < eb->shape.size() ? -1 : 1;
                for (size_t i = 0; i < ea->shape.size(); ++i)
                    if (ea->shape[i] != eb->shape[i])
                        return ea->shape[i] < eb->shape[i] ? -1 : 1;
                return 0;
            }
            case TreeSort::Field::Elements: {
                const TensorEntry* ea = entryOf(a);
                const TensorEntry* eb = entryOf(b);
                return compareInt(ea ? ea->numel : x.numel, eb ? eb->numel : y.numel);
            }
            case TreeSort::Field::Bytes: {
                const TensorEntry* ea = entryOf(a);
                const TensorEntry* eb = entryOf(b);
                return compareInt(ea ? ea->bytes : x.bytes, eb ? eb->bytes : y.bytes);
            }
            case TreeSort::Field::Type:
            case TreeSort::Field::DType:
                return compareText(text[size_t(a)], text[size_t(b)]);
            case TreeSort::Field::BelongsTo:
            case TreeSort::Field::Shard:
                // A module has no value in these columns: after every tensor (the place an
                // empty cell had in the QSortFilterProxyModel the tree used before).
                if ((x.entry < 0) != (y.entry < 0))
                    return x.entry < 0 ? 1 : -1;
                return compareText(text[size_t(a)], text[size_t(b)]);
            case TreeSort::Field::Numeric: {
                const double va = numberOf(a), vb = numberOf(b);
                const bool na = std::isnan(va), nb = std::isnan(vb);
                if (na || nb)  // no value: last in either direction (the flip below undone)
                    return na == nb ? 0 : ((na ? 1 : -1) * (sort.descending ? -1 : 1));
                return va < vb ? -1 : (va > vb ? 1 : 0);
            }
        }
        return 0;
    };
    // The text columns sort as QSortFilterProxyModel sorted them (a stable sort on the cell's
    // value): descending reverses the keys, equal keys keep the model's order. The others had
    // the model's order as the last key, so descending reverses ties too.
    // (The model's order compares every pair equal: the order key alone decides.)
    const bool stableTies = sort.field == TreeSort::Field::ModelOrder || sort.field == TreeSort::Field::Type ||
                            sort.field == TreeSort::Field::BelongsTo || sort.field == TreeSort::Field::Shard ||
                            sort.field == TreeSort::Field::Numeric;

    // Each sibling list sorted; ties by the model's order.
    std::vector<int> order;
    l.m_row[size_t(ModelTree::root())] = 0;
    for (int i = 0; i < n; ++i) {
        l.m_start[size_t(i)] = int(l.m_children.size());
        const ChildList& ch = tree.node(i).children;
        order.assign(ch.begin(), ch.end());
        const bool flip = sort.descending && stableTies;
        std::sort(order.begin(), order.end(), [&](int a, int b) {
            const int c = compare(a, b);
            return c != 0 ? (flip ? c > 0 : c < 0) : a < b;  // ids: the model's order
        });
        if (sort.descending && !stableTies)
            std::reverse(order.begin(), order.end());
        for (size_t r = 0; r < order.size(); ++r) {
            l.m_row[size_t(order[r])] = int(r);
            l.m_children.push_back(order[r]);
        }
    }
    l.m_start[size_t(n)] = int(l.m_children.size());
    return layout;
}

std::shared_ptr<const TreeLayout> TreeLayout::filter(const std::shared_ptr<const TreeLayout>& all,
                                                     const SearchMatches* matches)
{
    if (!all || !matches || matches->visible.size() != all->m_row.size())
        return all;
    const std::vector<unsigned char>& visible = matches->visible;
    auto layout = std::shared_ptr<TreeLayout>(new TreeLayout);
    TreeLayout& l = *layout;
    l.m_sort = all->m_sort;
    l.m_filtered = true;
    const size_t n = all->m_row.size();
    l.m_row.assign(n, -1);
    l.m_start.assign(n + 1, 0);
    l.m_row[size_t(ModelTree::root())] = 0;
    for (size_t i = 0; i < n; ++i) {
        l.m_start[i] = int(l.m_children.size());
        if (!visible[i])
            continue;
        int r = 0;
        for (int k = all->m_start[i]; k < all->m_start[i + 1]; ++k) {
            const int c = all->m_children[size_t(k)];
            if (!visible[size_t(c)])
                continue;
            l.m_row[size_t(c)] = r++;
            l.m_children.push_back(c);
        }
    }
    l.m_start[n] = int(l.m_children.size());
    return layout;
}

std::vector<int> TreeLayout::modulesInPreorder(int maxNodes) const
{
    std::vector<int> modules;
    std::vector<int> stack{ModelTree::root()};
    while (!stack.empty() && int(modules.size()) < maxNodes) {
        const int n = stack.back();
        stack.pop_back();
        if (n != ModelTree::root())
            modules.push_back(n);
        for (int r = childCount(n) - 1; r >= 0; --r) {
            const int c = child(n, r);
            if (childCount(c) > 0)
                stack.push_back(c);
        }
    }
    return modules;
}

}  // namespace paramscope
