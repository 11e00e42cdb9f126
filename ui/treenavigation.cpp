#include "ui/treenavigation.h"

#include <QAbstractItemModel>

namespace paramscope {

namespace {

QModelIndex lastDescendant(const QAbstractItemModel* m, QModelIndex i)
{
    while (m->rowCount(i) > 0)
        i = m->index(m->rowCount(i) - 1, 0, i);
    return i;
}

}  // namespace

QModelIndex nextInPreorder(const QAbstractItemModel* m, const QModelIndex& i)
{
    if (m->rowCount(i) > 0)
        return m->index(0, 0, i);
    QModelIndex cur = i;
    while (cur.isValid()) {
        const QModelIndex parent = cur.parent();
        if (cur.row() + 1 < m->rowCount(parent))
            return m->index(cur.row() + 1, 0, parent);
        cur = parent;
    }
    return m->index(0, 0);
}

QModelIndex previousInPreorder(const QAbstractItemModel* m, const QModelIndex& i)
{
    if (!i.isValid())
        return lastDescendant(m, {});
    if (i.row() > 0)
        return lastDescendant(m, m->index(i.row() - 1, 0, i.parent()));
    if (i.parent().isValid())
        return i.parent();
    return lastDescendant(m, {});
}

}  // namespace paramscope
