#pragma once

#include <QHeaderView>
#include <QPainter>
#include <QResizeEvent>
#include <QTreeView>

#include <algorithm>

namespace paramscope {

/// The tree view of the window. Adds a batched expand: expanding thousands of search
/// paths one by one would lay out the tree after each call.
class ModelTreeView : public QTreeView {
public:
    explicit ModelTreeView(QWidget* parent = nullptr) : QTreeView(parent)
    {
        setUniformRowHeights(true);  // lets the view skip per-row size hints at 100k rows
        // The user's own width for the Name column is kept; until then it follows the view.
        connect(header(), &QHeaderView::sectionResized, this, [this](int section, int, int) {
            if (section == 0 && !m_sizingName)
                m_userSizedName = true;
        });
    }

    /// Expands `indexes` (each already a valid index of this view's model) with one
    /// layout pass: while a layout is pending, QTreeView::expand only records the index.
    void expandMany(const QModelIndexList& indexes)
    {
        scheduleDelayedItemsLayout();
        for (const QModelIndex& i : indexes)
            expand(i);
    }

    /// Puts the layout off to the next paint: expand() then only records indexes, and the
    /// paint lays out every shown row once.
    void deferLayout() { scheduleDelayedItemsLayout(); }

    /// Runs a pending layout now (to measure what the next paint would cost).
    void layoutNow() { executeDelayedItemsLayout(); }

    /// Text drawn in the empty viewport while the model has no rows (a file without tensors
    /// says why); empty draws nothing.
    void setPlaceholderText(const QString& text)
    {
        m_placeholder = text;
        viewport()->update();
    }
    QString placeholderText() const { return m_placeholder; }

protected:
    /// The Name column takes 40% of the view (at least 22 characters) instead of what the
    /// other columns leave: with Type, Belongs to and Shard shown they leave it nothing, and a
    /// deep tree needs its indentation too. The columns to its right scroll.
    void resizeEvent(QResizeEvent* event) override
    {
        QTreeView::resizeEvent(event);
        if (m_userSizedName)
            return;
        m_sizingName = true;
        header()->setSectionResizeMode(0, QHeaderView::Interactive);
        header()->resizeSection(0, std::max(fontMetrics().averageCharWidth() * 22, viewport()->width() * 2 / 5));
        m_sizingName = false;
    }

    void paintEvent(QPaintEvent* event) override
    {
        QTreeView::paintEvent(event);
        if (m_placeholder.isEmpty() || !model() || model()->rowCount() > 0)
            return;
        QPainter p(viewport());
        p.setPen(palette().color(QPalette::Disabled, QPalette::Text));
        const int m = fontMetrics().averageCharWidth() * 3;
        p.drawText(viewport()->rect().adjusted(m, m, -m, -m), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
    }

private:
    QString m_placeholder;
    bool m_sizingName = false;
    bool m_userSizedName = false;
};

}  // namespace paramscope
