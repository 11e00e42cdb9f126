#include "model/exportselection.h"

#include "base/textutil.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/searchmatches.h"

#include <QFileInfo>

namespace paramscope {

std::vector<int> exportCandidates(const ModelIndex& index, const ModelTree& tree, const std::vector<int>& selectedNodes,
                                  const SearchMatches* matches)
{
    std::vector<int> out;
    if (selectedNodes.empty())
        return matches ? matches->entries : out;
    auto isMatch = [matches](int node) {
        return !matches || (size_t(node) < matches->matchNode.size() && matches->matchNode[size_t(node)]);
    };
    std::vector<unsigned char> taken(index.entries.size(), 0);
    for (const int node : selectedNodes) {
        const TreeNode& n = tree.node(node);
        if (n.entry >= 0 && n.children.empty()) {
            taken[size_t(n.entry)] = 1;
            continue;
        }
        tree.forEachUnder(node, [&](int c) {
            const int entry = tree.node(c).entry;
            if (entry >= 0 && isMatch(c))
                taken[size_t(entry)] = 1;
        });
    }
    for (size_t i = 0; i < taken.size(); ++i)
        if (taken[i])
            out.push_back(int(i));
    return out;
}

QString exportSuggestedBaseName(const ModelIndex& index, const std::vector<int>& entries, int selectedRows,
                                const QString& selectedName, const QString& modelDisplayName, bool filtering)
{
    if (entries.size() == 1 && entries.front() >= 0 && size_t(entries.front()) < index.entries.size())
        return utf8ToQString(index.entries[size_t(entries.front())].name);
    if (selectedRows == 1)
        return selectedName;
    QString base = QFileInfo(modelDisplayName).completeBaseName();
    if (selectedRows == 0 && filtering)
        base += QStringLiteral("_matches");
    return base;
}

}  // namespace paramscope
