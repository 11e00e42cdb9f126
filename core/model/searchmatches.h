#pragma once

// The match set of one search over a model: which tensors match and which tree nodes a
// filtered view shows (the matches and their ancestors). Computed in one pass, off the GUI
// thread if need be; immutable afterwards.

#include "model/search.h"

#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;
class NameCorpus;

/// The result of one search over a model and its tree.
struct SearchMatches {
    NameMatcher matcher;
    std::vector<int> entries;              // matching entries, in the file's order
    std::vector<int> undecided;            // entries the regular expression could not decide (not shown)
    std::vector<unsigned char> matchNode;  // per tree node: a matching tensor
    std::vector<unsigned char> visible;    // per tree node: a match or an ancestor of one
    /// Per ModelIndex::metadataEntries entry: its name matches. Computed with the tensors'
    /// matches (off the GUI thread) so the Metadata view only looks its rows up; empty when
    /// nothing is searched.
    std::vector<unsigned char> metadataMatch;

    /// An empty or invalid matcher gives an empty result (a view then shows everything).
    static std::shared_ptr<const SearchMatches> compute(const ModelIndex& index, const ModelTree& tree,
                                                        const NameMatcher& matcher);
    /// The same, faster: `corpus` holds the names of `index` (built once per model).
    static std::shared_ptr<const SearchMatches> compute(const ModelIndex& index, const ModelTree& tree,
                                                        const NameCorpus& corpus, const NameMatcher& matcher);
    /// The entries of `base` (every entry when null) that `entryMask` marks (a filter such as
    /// "only tensors with problems"), with `base`'s matcher.
    static std::shared_ptr<const SearchMatches> restricted(const ModelTree& tree, const SearchMatches* base,
                                                           const std::vector<unsigned char>& entryMask);
};

}  // namespace paramscope
