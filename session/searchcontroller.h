#pragma once

// SearchController: the live search and sort of the window without its widgets. A changed
// query waits for a short pause in typing (debounce), then is matched against the model's
// names and turned into the tree layout a view shows (the matches and their ancestors, in
// the current sort order), on a worker for large models; the result is handed back only if
// no newer query, sort or model replaced it meanwhile. The layout of every node in the
// current order is kept, so clearing a search costs nothing. Also decides which modules a
// view opens to show the matches.

#include "model/searchmatches.h"
#include "model/treelayout.h"
#include "session/jobtracker.h"

#include <QObject>
#include <QTimer>

#include <memory>
#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;
class NameCorpus;

class SearchController : public QObject {
    Q_OBJECT
public:
    /// Beyond this many modules to open, expanding every match path costs more than it
    /// helps (the view opens them a few thousand rows per frame); the rest stay closed and F3
    /// walks to each match.
    static constexpr int kMaxExpandedNodes = 20000;
    /// A view opens the top level of an unfiltered tree with at most this many rows.
    static constexpr int kMaxExpandedTopLevel = 64;

    explicit SearchController(QObject* parent = nullptr);

    /// The model searched; drops a pending or running search (run() applies the query).
    void setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree);
    /// The order the layouts have; recomputes the shown layout (keeping the current matches).
    void setSort(const TreeSort& sort);
    const TreeSort& sort() const { return m_sort; }
    /// Shows only the entries `entryMask` marks (per entry, nonzero: shown), within the
    /// matches of the query when there is one ("only problems"); null shows every match.
    /// Applies at once.
    void setRestriction(std::shared_ptr<const std::vector<unsigned char>> entryMask);
    bool isRestricted() const { return m_restriction != nullptr; }
    /// Stores the query and (re)starts the debounce timer.
    void setQuery(const SearchQuery& query);
    const SearchQuery& query() const { return m_query; }
    /// Runs the query now (a pending debounce is dropped).
    void run();
    /// Runs a pending debounced search now; nothing when none is pending.
    void flush();
    bool isPending() const { return m_timer.isActive(); }
    bool isSearching() const { return m_jobs.isRunning(); }

    void setDebounceInterval(int ms) { m_timer.setInterval(ms); }
    int debounceInterval() const { return m_timer.interval(); }
    /// Models with at least this many names are searched on a worker (default 20000: a
    /// regular expression over 100k names takes tens of milliseconds).
    void setAsyncThreshold(size_t entries) { m_asyncThreshold = entries; }

    /// The modules to open so that the matches of a filtered `layout` are in view, in display
    /// pre-order (parents first), at most kMaxExpandedNodes.
    static std::vector<int> nodesToOpen(const TreeLayout& layout);

Q_SIGNALS:
    /// The query is invalid (a bad regular expression); the last valid filter stays.
    void rejected(const NameMatcher& matcher);
    /// The query is valid; matching has started (on a worker when `async`).
    void accepted(bool async);
    /// The match set of the current query (null when nothing filters: empty query, no model)
    /// and the layout that shows it in the current order (null: every node in the model's order).
    void viewReady(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout);

private:
    /// Computes matches for `matcher` (or keeps `matches`) and the layout, then emits viewReady.
    void compute(const NameMatcher* matcher, std::shared_ptr<const SearchMatches> matches, bool async);

    QTimer m_timer;
    JobTracker m_jobs{this};
    SearchQuery m_query;
    std::shared_ptr<const ModelIndex> m_index;
    std::shared_ptr<const ModelTree> m_tree;
    std::shared_ptr<const SearchMatches> m_matches;  // the last handed back
    std::shared_ptr<const TreeLayout> m_full;        // every node in m_sort's order, once computed
    std::shared_ptr<const NameCorpus> m_corpus;      // the model's names in one buffer, once searched
    std::shared_ptr<const std::vector<unsigned char>> m_restriction;
    TreeSort m_sort;
    bool m_jobSearches = false;  // the job on the worker matches a query (not only a re-sort)
    size_t m_asyncThreshold = 20000;
};

}  // namespace paramscope
