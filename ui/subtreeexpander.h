#pragma once

// Expanding a whole subtree of a large tree a frame at a time. QTreeView::expandRecursively
// lays out every row of the subtree in one go, and opening modules one by one in a laid-out
// view moves every row below each of them (quadratic under a wide module: 100k rows froze
// the window for a second). This walks the proxy's node ids instead and opens the modules in
// display pre-order in steps, one step per event-loop turn: each step records at most
// kMaxModulesPerStep modules opening at most a row budget, with the view's layout deferred,
// so the paint after it lays out the shown rows once (about 10 ms per 100k rows).
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

    static constexpr int kMaxModulesPerStep = 1000;

    /// Rows a step opens (default 4,000).
    void setRowBudget(int rows) { m_budget = rows; }
    /// Plans and starts expanding the subtree of proxy node `node` (its first step runs now).
    /// Replaces an expansion still running.
    void expand(int node);
    /// Opens `modules` (proxy node ids, parents before children, best in display pre-order)
    /// in the same steps; the first step runs now. Replaces an expansion still running.
    void open(const std::vector<int>& modules);
    /// Collapses the subtree of proxy node `node`: the module at once, the modules open below
    /// it (taken out of the view's expanded set, so that opening it again shows it closed
    /// inside) kMaxModulesPerStep at a time. Replaces an expansion still running.
    void collapse(int node);
    /// Stops the expansion running (a new search, another model).
    void cancel();
    bool isRunning() const { return !m_steps.empty() || !m_collapse.empty(); }
    /// Runs every remaining step now (tests).
    void finish();

Q_SIGNALS:
    void finished();

private:
    void runStep();
    void collapseStep();

    ModelTreeView* m_view;
    TreeFilterProxy* m_proxy;
    QTimer m_timer;
    int m_budget = 4000;
    std::vector<std::vector<int>> m_steps;  // node ids to expand, step by step, in order
    size_t m_next = 0;
    std::vector<int> m_collapse;  // modules still to close below a collapsed one (a stack)
};

}  // namespace paramscope
