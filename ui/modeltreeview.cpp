#include "ui/modeltreeview.h"

#include <QHeaderView>
#include <QPainter>
#include <QResizeEvent>
#include <QStyledItemDelegate>

#include <algorithm>

namespace paramscope {

namespace {

/// Names elide from the left ("…proj.weight"): the end of a name tells rows apart.
class NameDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        option->textElideMode = Qt::ElideLeft;
    }
};

int depthOf(QModelIndex index)
{
    int depth = 0;
    for (index = index.parent(); index.isValid(); index = index.parent())
        ++depth;
    return depth;
}

}  // namespace

ModelTreeView::ModelTreeView(QWidget* parent) : QTreeView(parent)
{
    setUniformRowHeights(true);  // lets the view skip per-row size hints at 100k rows
    setItemDelegateForColumn(0, new NameDelegate(this));
    header()->setStretchLastSection(false);  // the Name column takes the spare width instead
    // The user's own width for the Name column is kept; until then it follows the view.
    connect(header(), &QHeaderView::sectionResized, this, [this](int section, int, int) {
        if (section == 0 && !m_sizingName)
            m_userSizedName = true;
    });
    connect(this, &QTreeView::expanded, this, &ModelTreeView::noteExpanded);
}

void ModelTreeView::setModel(QAbstractItemModel* model)
{
    QTreeView::setModel(model);
    m_deepest = 0;
    if (model)
        connect(model, &QAbstractItemModel::modelReset, this, [this] { m_deepest = 0; });
}

void ModelTreeView::expandMany(const QModelIndexList& indexes)
{
    scheduleDelayedItemsLayout();
    for (const QModelIndex& i : indexes)
        expand(i);
}

void ModelTreeView::setPlaceholderText(const QString& text)
{
    m_placeholder = text;
    viewport()->update();
}

int ModelTreeView::nameWidthForDepth(int depth) const
{
    const int levels = depth + (rootIsDecorated() ? 1 : 0);
    return levels * indentation() + iconSize().width() + fontMetrics().averageCharWidth() * 16;
}

void ModelTreeView::noteExpanded(const QModelIndex& index)
{
    // Expanding a row shows its children, one level below it.
    const int depth = depthOf(index) + 1;
    if (depth <= m_deepest)
        return;
    m_deepest = depth;
    // Even a width the user set grows for a level it leaves no room for.
    const int need = nameWidthForDepth(m_deepest);
    if (header()->sectionSize(0) < need)
        setNameWidth(need);
}

void ModelTreeView::setNameWidth(int width)
{
    m_sizingName = true;
    header()->setSectionResizeMode(0, QHeaderView::Interactive);
    header()->resizeSection(0, width);
    m_sizingName = false;
}

void ModelTreeView::fitNameColumn()
{
    QHeaderView* h = header();
    if (h->count() == 0 || m_userSizedName)
        return;
    // What the other shown columns leave: the Name column, not the last one, stretches.
    int others = 0;
    for (int c = 1; c < h->count(); ++c)
        if (!h->isSectionHidden(c))
            others += h->sectionSize(c);
    const int width = std::max({fontMetrics().averageCharWidth() * 22, viewport()->width() * 2 / 5,
                                viewport()->width() - others, nameWidthForDepth(m_deepest)});
    if (width != h->sectionSize(0))
        setNameWidth(width);
}

void ModelTreeView::resizeEvent(QResizeEvent* event)
{
    QTreeView::resizeEvent(event);
    fitNameColumn();
}

void ModelTreeView::paintEvent(QPaintEvent* event)
{
    QTreeView::paintEvent(event);
    if (m_placeholder.isEmpty() || !model() || model()->rowCount() > 0)
        return;
    QPainter p(viewport());
    p.setPen(palette().color(QPalette::Disabled, QPalette::Text));
    const int m = fontMetrics().averageCharWidth() * 3;
    p.drawText(viewport()->rect().adjusted(m, m, -m, -m), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
}

}  // namespace paramscope
