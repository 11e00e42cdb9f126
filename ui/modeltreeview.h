#pragma once

#include <QTreeView>

namespace paramscope {

/// The tree view of the window. Adds a batched expand: expanding thousands of search
/// paths one by one would lay out the tree after each call.
class ModelTreeView : public QTreeView {
public:
    explicit ModelTreeView(QWidget* parent = nullptr) : QTreeView(parent)
    {
        setUniformRowHeights(true);  // lets the view skip per-row size hints at 100k rows
    }

    /// Expands `indexes` (each already a valid index of this view's model) with one
    /// layout pass: while a layout is pending, QTreeView::expand only records the index.
    void expandMany(const QModelIndexList& indexes)
    {
        scheduleDelayedItemsLayout();
        for (const QModelIndex& i : indexes)
            expand(i);
    }

    /// Runs a pending layout now (to measure what the next paint would cost).
    void layoutNow() { executeDelayedItemsLayout(); }
};

}  // namespace paramscope
