#pragma once

// Walking a tree view's visible rows: the depth-first successor and predecessor of a row
// (wrapping around, for Find next / previous), and collapsing a whole subtree.

#include <QModelIndex>

class QAbstractItemModel;

namespace paramscope {

/// The row after `i` in depth-first order over every row of `m` (which may be a proxy);
/// after the last row, the first.
QModelIndex nextInPreorder(const QAbstractItemModel* m, const QModelIndex& i);
/// The row before `i`; before the first row (or for an invalid `i`), the last.
QModelIndex previousInPreorder(const QAbstractItemModel* m, const QModelIndex& i);

}  // namespace paramscope
