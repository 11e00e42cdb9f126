#pragma once

#include <QTreeView>

namespace paramscope {

/// The tree view of the window. Adds a batched expand (expanding thousands of search paths
/// one by one would lay out the tree after each call), a Name column sized to what it shows,
/// and a placeholder text for a model without rows.
class ModelTreeView : public QTreeView {
public:
    explicit ModelTreeView(QWidget* parent = nullptr);

    /// Expands `indexes` (each already a valid index of this view's model) with one
    /// layout pass: while a layout is pending, QTreeView::expand only records the index.
    void expandMany(const QModelIndexList& indexes);

    /// Puts the layout off to the next paint: expand() then only records indexes, and the
    /// paint lays out every shown row once.
    void deferLayout() { scheduleDelayedItemsLayout(); }

    /// Runs a pending layout now (to measure what the next paint would cost).
    void layoutNow() { executeDelayedItemsLayout(); }

    /// Text drawn in the empty viewport while the model has no rows (a file without tensors
    /// says why); empty draws nothing.
    void setPlaceholderText(const QString& text);
    QString placeholderText() const { return m_placeholder; }

    /// Sizes the Name column (column 0); the window calls it when it shows or hides a column.
    /// Until the user drags its edge, the column takes the width the other shown columns
    /// leave, but at least 40% of the view and 22 characters. Whoever sized it, expanding a
    /// row deeper than any before widens it to that level's indentation plus 16 characters
    /// (nameWidthForDepth), so names deep in the tree keep their text and the view scrolls
    /// sideways instead.
    void fitNameColumn();

    /// The Name column's least width for rows `depth` levels below the top (0: top rows).
    int nameWidthForDepth(int depth) const;

    /// How many levels below the top the deepest row shown since the last reset lies.
    int deepestShownDepth() const { return m_deepest; }

    void setModel(QAbstractItemModel* model) override;

protected:
    void resizeEvent(QResizeEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

private:
    void noteExpanded(const QModelIndex& index);
    void setNameWidth(int width);

    QString m_placeholder;
    int m_deepest = 0;
    bool m_sizingName = false;
    bool m_userSizedName = false;
};

}  // namespace paramscope
