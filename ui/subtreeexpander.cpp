#include "ui/subtreeexpander.h"

#include "ui/modeltreeview.h"
#include "ui/models/treefilterproxy.h"

namespace paramscope {

SubtreeExpander::SubtreeExpander(ModelTreeView* view, TreeFilterProxy* proxy, QObject* parent)
    : QObject(parent), m_view(view), m_proxy(proxy)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(0);
    connect(&m_timer, &QTimer::timeout, this, &SubtreeExpander::runStep);
    // Node ids of the old rows mean nothing after a reset.
    connect(proxy, &QAbstractItemModel::modelAboutToBeReset, this, &SubtreeExpander::cancel);
    connect(proxy, &QAbstractItemModel::layoutAboutToBeChanged, this, &SubtreeExpander::cancel);
}

void SubtreeExpander::cancel()
{
    m_timer.stop();
    m_steps.clear();
    m_next = 0;
}

void SubtreeExpander::expand(int node)
{
    cancel();
    // Every module of the subtree in pre-order, packed into steps by the rows each opens.
    int cost = 0;
    std::vector<int> stack{node};
    while (!stack.empty()) {
        const int n = stack.back();
        stack.pop_back();
        const int count = m_proxy->shownChildCount(n);
        if (count == 0)
            continue;
        if (m_steps.empty() || (cost > 0 && cost + count > m_budget)) {
            m_steps.emplace_back();
            cost = 0;
        }
        cost += count;
        m_steps.back().push_back(n);
        for (int r = count - 1; r >= 0; --r) {
            const int c = m_proxy->shownChild(n, r);
            if (m_proxy->shownChildCount(c) > 0)
                stack.push_back(c);
        }
    }
    runStep();
}

void SubtreeExpander::runStep()
{
    if (m_next >= m_steps.size()) {
        cancel();
        return;
    }
    for (int n : m_steps[m_next]) {
        const QModelIndex i = m_proxy->indexForNode(n);
        if (i.isValid())
            m_view->expand(i);
    }
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
