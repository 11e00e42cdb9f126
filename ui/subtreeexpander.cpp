#include "ui/subtreeexpander.h"

#include "ui/modeltreeview.h"
#include "ui/models/treefilterproxy.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

namespace paramscope {

Q_DECLARE_LOGGING_CATEGORY(lcTiming)

SubtreeExpander::SubtreeExpander(ModelTreeView* view, TreeFilterProxy* proxy, QObject* parent)
    : QObject(parent), m_view(view), m_proxy(proxy)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(0);
    connect(&m_timer, &QTimer::timeout, this, &SubtreeExpander::runStep);
    // After a reset the rows are others (a new search or model). A layout change (a sort) only
    // moves rows: node ids stay valid and each step looks its nodes up again.
    connect(proxy, &QAbstractItemModel::modelAboutToBeReset, this, &SubtreeExpander::cancel);
}

void SubtreeExpander::cancel()
{
    m_timer.stop();
    m_steps.clear();
    m_next = 0;
    m_collapse.clear();
}

void SubtreeExpander::collapse(int node)
{
    cancel();
    const QModelIndex i = m_proxy->indexForNode(node);
    if (!i.isValid())
        return;
    // With the layout deferred, each collapse only leaves the view's expanded set, and the next
    // paint lays out what is left once (instead of moving the rows below each module).
    m_view->deferLayout();
    m_view->collapse(i);
    for (int r = m_proxy->shownChildCount(node) - 1; r >= 0; --r) {
        const int c = m_proxy->shownChild(node, r);
        if (m_proxy->shownChildCount(c) > 0)
            m_collapse.push_back(c);
    }
    collapseStep();
}

void SubtreeExpander::collapseStep()
{
    QElapsedTimer timer;
    timer.start();
    m_view->deferLayout();
    int visited = 0;
    while (!m_collapse.empty() && visited < kMaxModulesPerStep * 4) {
        const int n = m_collapse.back();
        m_collapse.pop_back();
        ++visited;
        const QModelIndex i = m_proxy->indexForNode(n);
        // Only an open module can hold open modules.
        if (!i.isValid() || !m_view->isExpanded(i))
            continue;
        m_view->collapse(i);
        for (int r = m_proxy->shownChildCount(n) - 1; r >= 0; --r) {
            const int c = m_proxy->shownChild(n, r);
            if (m_proxy->shownChildCount(c) > 0)
                m_collapse.push_back(c);
        }
    }
    qCDebug(lcTiming, "collapse step: %d modules in %lld ms, %zu left", visited, timer.elapsed(), m_collapse.size());
    if (m_collapse.empty()) {
        Q_EMIT finished();
        return;
    }
    m_timer.start();
}

void SubtreeExpander::expand(int node)
{
    // Every module of the subtree in pre-order.
    std::vector<int> modules;
    std::vector<int> stack{node};
    while (!stack.empty()) {
        const int n = stack.back();
        stack.pop_back();
        const int count = m_proxy->shownChildCount(n);
        if (count == 0)
            continue;
        modules.push_back(n);
        for (int r = count - 1; r >= 0; --r) {
            const int c = m_proxy->shownChild(n, r);
            if (m_proxy->shownChildCount(c) > 0)
                stack.push_back(c);
        }
    }
    open(modules);
}

void SubtreeExpander::open(const std::vector<int>& modules)
{
    cancel();
    // Packed into steps by the rows each module opens.
    int cost = 0;
    for (int n : modules) {
        const int count = m_proxy->shownChildCount(n);
        if (count == 0)
            continue;
        if (m_steps.empty() || (cost > 0 && cost + count > m_budget) ||
            int(m_steps.back().size()) >= kMaxModulesPerStep) {
            m_steps.emplace_back();
            cost = 0;
        }
        cost += count;
        m_steps.back().push_back(n);
    }
    runStep();
}

void SubtreeExpander::runStep()
{
    if (!m_collapse.empty()) {
        collapseStep();
        return;
    }
    if (m_next >= m_steps.size()) {
        cancel();
        return;
    }
    QElapsedTimer timer;
    timer.start();
    // Each expand() then only records its index, and the next paint lays out every shown row
    // once (about 10 ms for 100k rows): opening modules one by one in a laid-out view would
    // move every row below each of them, quadratic under a wide module.
    m_view->deferLayout();
    for (int n : m_steps[m_next]) {
        const QModelIndex i = m_proxy->indexForNode(n);
        if (i.isValid())
            m_view->expand(i);
    }
    qCDebug(lcTiming, "expansion step %zu of %zu: %zu modules in %lld ms", m_next + 1, m_steps.size(),
            m_steps[m_next].size(), timer.elapsed());
    ++m_next;
    if (m_next >= m_steps.size()) {
        cancel();
        Q_EMIT finished();
        return;
    }
    m_timer.start();
}

void SubtreeExpander::finish()
{
    while (isRunning())
        runStep();
}

}  // namespace paramscope
