#include "model/searchmatches.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/namecorpus.h"

namespace paramscope {

namespace {

void markNodes(const ModelTree& tree, SearchMatches* m)
{
    m->matchNode.assign(size_t(tree.size()), 0);
    m->visible.assign(size_t(tree.size()), 0);
    m->visible[size_t(ModelTree::root())] = 1;
    for (int e : m->entries) {
        int n = tree.nodeForEntry(e);
        if (n < 0)
            continue;
        m->matchNode[size_t(n)] = 1;
        // Mark ancestors until one is already marked: each node is visited once overall.
        while (n > 0 && !m->visible[size_t(n)]) {
            m->visible[size_t(n)] = 1;
            n = tree.node(n).parent;
        }
    }
}

template <typename Search>
std::shared_ptr<const SearchMatches> computeWith(const ModelIndex& index, const ModelTree& tree,
                                                 const NameMatcher& matcher, Search search)
{
    auto m = std::make_shared<SearchMatches>();
    m->matcher = matcher;
    if (!matcher.isValid() || matcher.isEmpty())
        return m;
    SearchResult r = search();
    m->entries = std::move(r.entries);
    m->undecided = std::move(r.undecided);
    markNodes(tree, m.get());
    m->metadataMatch.reserve(index.metadataEntries.size());
    for (const MetadataEntry& e : index.metadataEntries)
        m->metadataMatch.push_back(matcher.matches(std::string_view(e.name)) ? 1 : 0);
    return m;
}

}  // namespace

std::shared_ptr<const SearchMatches> SearchMatches::compute(const ModelIndex& index, const ModelTree& tree,
                                                            const NameMatcher& matcher)
{
    return computeWith(index, tree, matcher, [&] { return searchModel(index, matcher); });
}

std::shared_ptr<const SearchMatches> SearchMatches::compute(const ModelIndex& index, const ModelTree& tree,
                                                            const NameCorpus& corpus, const NameMatcher& matcher)
{
    // A corpus of another model (a caller's mistake) would give indices into the wrong entries.
    if (size_t(corpus.size()) != index.entries.size())
        return compute(index, tree, matcher);
    return computeWith(index, tree, matcher, [&] { return searchModel(corpus, matcher); });
}

std::shared_ptr<const SearchMatches> SearchMatches::restricted(const ModelTree& tree, const SearchMatches* base,
                                                               const std::vector<unsigned char>& entryMask)
{
    auto m = std::make_shared<SearchMatches>();
    const auto marked = [&](int e) { return e >= 0 && size_t(e) < entryMask.size() && entryMask[size_t(e)]; };
    if (base && !base->matcher.isEmpty()) {
        m->matcher = base->matcher;
        m->metadataMatch = base->metadataMatch;  // a restriction of the tensors leaves the values as searched
        for (int e : base->entries)
            if (marked(e))
                m->entries.push_back(e);
    } else {
        for (size_t e = 0; e < entryMask.size(); ++e)
            if (entryMask[e])
                m->entries.push_back(int(e));
    }
    markNodes(tree, m.get());
    return m;
}

}  // namespace paramscope
