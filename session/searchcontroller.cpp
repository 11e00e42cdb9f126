#include "session/searchcontroller.h"

#include "model/modelindex.h"
#include "model/modeltree.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

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
}

void SearchController::setQuery(const SearchQuery& query)
{
    m_query = query;
    m_timer.start();
}

void SearchController::flush()
{
    if (m_timer.isActive())
        run();
}

void SearchController::run()
{
    m_timer.stop();
    m_jobs.cancel();  // a newer query replaces the one on the worker
    const NameMatcher matcher(m_query);
    if (!matcher.isValid()) {
        Q_EMIT rejected(matcher);
        return;
    }
    const bool async = m_index && m_tree && !matcher.isEmpty() && m_index->entries.size() >= m_asyncThreshold;
    Q_EMIT accepted(async);
    if (!m_index || !m_tree || matcher.isEmpty()) {
        Q_EMIT matchesReady(nullptr);
        return;
    }
    if (!async) {
        Q_EMIT matchesReady(SearchMatches::compute(*m_index, *m_tree, matcher));
        return;
    }
    m_jobs.start(
        [index = m_index, tree = m_tree, matcher](const JobHandle&) {
            QElapsedTimer t;
            t.start();
            auto m = SearchMatches::compute(*index, *tree, matcher);
            qCDebug(lcSearchTiming, "search matched %zu names on a worker in %lld ms", index->entries.size(),
                    t.elapsed());
            return m;
        },
        [this](std::shared_ptr<const SearchMatches> m) { Q_EMIT matchesReady(std::move(m)); });
}

std::vector<int> SearchController::nodesToOpen(const SearchMatches& matches) const
{
    return m_tree ? nodesToExpand(*m_tree, matches, kMaxExpandedNodes) : std::vector<int>{};
}

}  // namespace paramscope
