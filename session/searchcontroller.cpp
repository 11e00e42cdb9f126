#include "session/searchcontroller.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/namecorpus.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

#include <optional>

namespace paramscope {

Q_LOGGING_CATEGORY(lcSearchTiming, "paramscope.timing", QtWarningMsg)

SearchController::SearchController(QObject* parent) : QObject(parent)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(150);
    connect(&m_timer, &QTimer::timeout, this, &SearchController::run);
}

void SearchController::setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree)
{
    m_timer.stop();
    m_jobs.cancel();
    m_index = std::move(index);
    m_tree = std::move(tree);
    m_matches.reset();
    m_full.reset();
    m_corpus.reset();
    m_restriction.reset();
    m_jobSearches = false;
}

void SearchController::setRestriction(std::shared_ptr<const std::vector<unsigned char>> entryMask)
{
    if (!entryMask && !m_restriction)
        return;
    m_restriction = std::move(entryMask);
    run();
}

void SearchController::setQuery(const SearchQuery& query)
{
    m_query = query;
    m_timer.start();
}

void SearchController::setSort(const TreeSort& sort)
{
    if (sort == m_sort && (m_full || sort.field == TreeSort::Field::ModelOrder))
        return;
    m_sort = sort;
    m_full.reset();
    if (!m_index || !m_tree)
        return;
    // A search still on the worker runs again in the new order (cancelling it for a re-sort of
    // the old matches would lose the query); otherwise the new order applies to the shown
    // matches now, and a pending (debounced) query follows in it.
    if (m_jobs.isRunning() && m_jobSearches) {
        run();
        return;
    }
    compute(nullptr, m_matches, m_index->entries.size() >= m_asyncThreshold);
}

void SearchController::flush()
{
    if (m_timer.isActive())
        run();
}

void SearchController::run()
{
    m_timer.stop();
    const NameMatcher matcher(m_query);
    if (!matcher.isValid()) {
        // The last valid filter stays: a search for an older text must not land after this.
        // (A re-sort on the worker carries on.)
        if (m_jobSearches)
            m_jobs.cancel();
        m_jobSearches = false;
        Q_EMIT rejected(matcher);
        return;
    }
    const bool async = m_index && m_tree && m_index->entries.size() >= m_asyncThreshold &&
                       (!matcher.isEmpty() || (!m_full && m_sort.field != TreeSort::Field::ModelOrder));
    Q_EMIT accepted(async && !matcher.isEmpty());
    if (!m_index || !m_tree) {
        m_jobs.cancel();
        Q_EMIT viewReady(nullptr, nullptr);
        return;
    }
    if (matcher.isEmpty() && m_restriction) {
        compute(nullptr, SearchMatches::restricted(*m_tree, nullptr, *m_restriction),
                m_index->entries.size() >= m_asyncThreshold);
        return;
    }
    compute(matcher.isEmpty() ? nullptr : &matcher, nullptr, async);
}

namespace {

struct ViewResult {
    std::shared_ptr<const NameCorpus> corpus;  // the names searched (built by the first search)
    std::shared_ptr<const SearchMatches> matches;
    std::shared_ptr<const TreeLayout> full;   // every node in the sort's order (null: the model's order)
    std::shared_ptr<const TreeLayout> shown;  // what the view shows
};

ViewResult computeView(const ModelIndex& index, const ModelTree& tree, std::shared_ptr<const NameCorpus> corpus,
                       const NameMatcher* matcher, std::shared_ptr<const SearchMatches> matches,
                       std::shared_ptr<const TreeLayout> full, const TreeSort& sort,
                       const std::vector<unsigned char>* restriction)
{
    ViewResult r;
    if (matcher) {
        // Every name once in one buffer, built by the first search of a model (a few ms at
        // 100k names) and kept: each later search scans it instead of 100k strings.
        if (!corpus)
            corpus = std::make_shared<const NameCorpus>(index);
        matches = SearchMatches::compute(index, tree, *corpus, *matcher);
        if (restriction)
            matches = SearchMatches::restricted(tree, matches.get(), *restriction);
    }
    r.corpus = std::move(corpus);
    r.matches = std::move(matches);
    // The model's order needs a layout only to hide rows.
    if (!full && (sort.field != TreeSort::Field::ModelOrder || r.matches))
        full = TreeLayout::build(index, tree, sort);
    r.full = full;
    r.shown = r.matches ? TreeLayout::filter(full, r.matches.get())
                        : (sort.field == TreeSort::Field::ModelOrder ? nullptr : full);
    return r;
}

}  // namespace

void SearchController::compute(const NameMatcher* matcher, std::shared_ptr<const SearchMatches> matches, bool async)
{
    m_jobs.cancel();  // a newer query or sort replaces the one on the worker
    m_jobSearches = async && matcher;
    const auto done = [this, sort = m_sort](ViewResult r) {
        m_jobSearches = false;
        if (sort == m_sort && r.full)
            m_full = r.full;
        if (r.corpus)
            m_corpus = r.corpus;  // a superseded model's jobs never get here
        m_matches = r.matches;
        Q_EMIT viewReady(std::move(r.matches), std::move(r.shown));
    };
    if (!async) {
        done(
            computeView(*m_index, *m_tree, m_corpus, matcher, std::move(matches), m_full, m_sort, m_restriction.get()));
        return;
    }
    std::optional<NameMatcher> owned;
    if (matcher)
        owned = *matcher;
    m_jobs.start(
        [index = m_index, tree = m_tree, corpus = m_corpus, owned = std::move(owned), matches = std::move(matches),
         full = m_full, sort = m_sort, restriction = m_restriction](const JobHandle&) {
            QElapsedTimer t;
            t.start();
            ViewResult r =
                computeView(*index, *tree, corpus, owned ? &*owned : nullptr, matches, full, sort, restriction.get());
            qCDebug(lcSearchTiming, "search and layout of %zu names on a worker in %lld ms", index->entries.size(),
                    t.elapsed());
            return r;
        },
        done);
}

std::vector<int> SearchController::nodesToOpen(const TreeLayout& layout)
{
    return layout.modulesInPreorder(kMaxExpandedNodes);
}

}  // namespace paramscope
