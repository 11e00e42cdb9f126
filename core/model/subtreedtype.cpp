#include "model/subtreedtype.h"

#include "model/modelindex.h"
#include "model/modeltree.h"

namespace paramscope {

SubtreeDTypes SubtreeDTypes::compute(const ModelIndex& index, const ModelTree& tree)
{
    SubtreeDTypes out;
    const int n = tree.size();
    out.dtype.assign(size_t(n), DType::Unknown);
    out.mixed.assign(size_t(n), 0);
    std::vector<unsigned char> seen(size_t(n), 0);
    // Children are created after their parents: a reverse sweep sees children first.
    for (int i = n - 1; i >= 0; --i) {
        const TreeNode& node = tree.node(i);
        if (node.entry >= 0) {
            const DType t = index.entries[size_t(node.entry)].dtype;
            if (seen[size_t(i)] && out.dtype[size_t(i)] != t)
                out.mixed[size_t(i)] = 1;
            out.dtype[size_t(i)] = t;
            seen[size_t(i)] = 1;
        }
        if (node.parent >= 0 && seen[size_t(i)]) {
            const size_t p = size_t(node.parent);
            if (out.mixed[size_t(i)] || (seen[p] && out.dtype[p] != out.dtype[size_t(i)]))
                out.mixed[p] = 1;
            if (!seen[p])
                out.dtype[p] = out.dtype[size_t(i)];
            seen[p] = 1;
        }
    }
    return out;
}

}  // namespace paramscope
