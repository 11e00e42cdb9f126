#pragma once

// What File > Export… writes for a selection in the tree: the tensors of the selected
// rows (every tensor under a selected module, only the matching ones while a search
// filters the tree) or, with nothing selected during a search, every match; and the base
// name suggested for the file.

#include <QString>

#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;
struct SearchMatches;

/// `selectedNodes`: tree nodes of the selected rows. `matches`: the search filtering the
/// tree, or null. File order, no duplicates; empty when there is nothing to export.
std::vector<int> exportCandidates(const ModelIndex& index, const ModelTree& tree, const std::vector<int>& selectedNodes,
                                  const SearchMatches* matches);

/// The tensor's name for one tensor, `selectedName` when exactly one row is selected,
/// otherwise the model file's base name (+ "_matches" when nothing is selected during a
/// search).
QString exportSuggestedBaseName(const ModelIndex& index, const std::vector<int>& entries, int selectedRows,
                                const QString& selectedName, const QString& modelDisplayName, bool filtering);

}  // namespace paramscope
