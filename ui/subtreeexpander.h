#pragma once

// Expanding a whole subtree of a large tree a frame at a time. QTreeView::expandRecursively
// lays out every row of the subtree in one go (100k rows: a long freeze); this walks the
// proxy's node ids instead and opens the subtree's modules in pre-order, in steps of at most
// a row budget, one step per event-loop turn. Pre-order matters: each module opened is then
// a visible row next to the one opened before it, which QTreeView finds at once and lays out
// alone (children of a closed parent would each cost a search of every visible row).
// A step is only larger than the budget when one module has more direct children.

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <vector>

namespace paramscope {

class TreeFilterProxy;
class ModelTreeView;

class SubtreeExpander : public QObject {
    Q_OBJECT
public:
    SubtreeExpander(ModelTreeView* view, TreeFilterProxy* proxy, QObject* parent = nullptr);

    /// Rows laid out per step (default 2,000).
    void setRowBudget(int rows) { m_budget = rows; }
    /// Plans and starts expanding the subtree of proxy node `node` (its first step runs now).
    /// Replaces an expansion still running.
    void expand(int node);
    /// Stops the expansion running (a new search, another model).
    void cancel();
    bool isRunning() const { return !m_steps.empty(); }
    /// Runs every remaining step now (tests).
    void finish();

Q_SIGNALS:
    void finished();

private:
    void runStep();

    ModelTreeView* m_view;
    TreeFilterProxy* m_proxy;
    QTimer m_timer;
    int m_budget = 2000;
    std::vector<std::vector<int>> m_steps;  // node ids to expand, step by step, in order
    size_t m_next = 0;
};

}  // namespace paramscope
