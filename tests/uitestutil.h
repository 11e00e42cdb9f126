#pragma once
// Helpers shared by the window and item-model tests.

#include "ui/models/modeltreemodel.h"

#include <QAbstractItemModel>

#include <set>
#include <string>

namespace paramscope::test {

// Full names of every tensor row reachable in `m` (which may be a proxy).
std::set<std::string> visibleTensors(const QAbstractItemModel* m, const QModelIndex& parent = {})
{
    std::set<std::string> out;
    for (int r = 0; r < m->rowCount(parent); ++r) {
        const QModelIndex i = m->index(r, 0, parent);
        if (i.data(ModelTreeModel::EntryRole).toInt() >= 0)
            out.insert(i.data(ModelTreeModel::FullNameRole).toString().toStdString());
        const auto sub = visibleTensors(m, i);
        out.insert(sub.begin(), sub.end());
    }
    return out;
}

}  // namespace paramscope::test
