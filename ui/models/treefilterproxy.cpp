#include "ui/models/treefilterproxy.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/models/modeltreemodel.h"

namespace paramscope {

TreeFilterProxy::TreeFilterProxy(QObject* parent) : QSortFilterProxyModel(parent)
{
    // One mechanism keeps the ancestors of a match: SearchMatches::visible marks them, so
    // filterAcceptsRow accepts them directly. Qt's recursive filtering stays off: it would
    // descend into every rejected subtree to find what the visible set already says.
    setRecursiveFilteringEnabled(false);
    setSortRole(ModelTreeModel::SortRole);
    setDynamicSortFilter(false);
}

void TreeFilterProxy::setSourceModel(QAbstractItemModel* source)
{
    m_model = qobject_cast<ModelTreeModel*>(source);
    if (m_model)
        connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this, [this] { m_matches.reset(); });
    QSortFilterProxyModel::setSourceModel(source);
}

bool TreeFilterProxy::setQuery(const SearchQuery& query)
{
    const NameMatcher matcher(query);
    if (!matcher.isValid()) {
        m_lastInvalid = matcher;
        return false;
    }
    if (matcher.isEmpty() || !m_model || !m_model->modelIndex()) {
        clearQuery();
        return true;
    }
    setMatches(SearchMatches::compute(*m_model->modelIndex(), *m_model->tree(), matcher));
    return true;
}

void TreeFilterProxy::setMatches(std::shared_ptr<const SearchMatches> matches)
{
    if (matches && (matches->matcher.isEmpty() || !matches->matcher.isValid()))
        matches.reset();
    if (matches && (!m_model || !m_model->tree() || matches->visible.size() != size_t(m_model->tree()->size())))
        return;
    if (!matches && !m_matches)
        return;
    m_matches = std::move(matches);
    invalidateFilter();
}

void TreeFilterProxy::clearQuery()
{
    setMatches(nullptr);
}

bool TreeFilterProxy::isMatchNode(int node) const
{
    return m_matches && node >= 0 && size_t(node) < m_matches->matchNode.size() && m_matches->matchNode[size_t(node)];
}

bool TreeFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    if (!m_matches)
        return true;
    if (!m_model)
        return true;
    const QModelIndex idx = m_model->index(sourceRow, 0, sourceParent);
    const int node = m_model->nodeForIndex(idx);
    return size_t(node) < m_matches->visible.size() && m_matches->visible[size_t(node)];
}

bool TreeFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    if (!m_model || !m_model->tree())
        return QSortFilterProxyModel::lessThan(left, right);
    const ModelTree& tree = *m_model->tree();
    const ModelIndex& index = *m_model->modelIndex();
    const TreeNode& a = tree.node(m_model->nodeForIndex(left));
    const TreeNode& b = tree.node(m_model->nodeForIndex(right));
    const TensorEntry* ea = a.entry >= 0 ? &index.entries[size_t(a.entry)] : nullptr;
    const TensorEntry* eb = b.entry >= 0 ? &index.entries[size_t(b.entry)] : nullptr;
    int c = 0;
    switch (left.column()) {
        case ModelTreeModel::NameColumn:
            c = naturalCompare(a.name, b.name);
            break;
        case ModelTreeModel::ShapeColumn:
            // Modules (no shape) first, then by rank, then dimension by dimension.
            if (!ea || !eb) {
                c = int(ea != nullptr) - int(eb != nullptr);
            } else if (ea->shape.size() != eb->shape.size()) {
                c = ea->shape.size() < eb->shape.size() ? -1 : 1;
            } else {
                for (size_t i = 0; i < ea->shape.size() && c == 0; ++i)
                    if (ea->shape[i] != eb->shape[i])
                        c = ea->shape[i] < eb->shape[i] ? -1 : 1;
            }
            break;
        case ModelTreeModel::DTypeColumn:
            c = left.data(Qt::DisplayRole).toString().compare(right.data(Qt::DisplayRole).toString());
            break;
        case ModelTreeModel::ElementsColumn: {
            const qint64 x = ea ? ea->numel : a.numel, y = eb ? eb->numel : b.numel;
            c = x < y ? -1 : (x > y ? 1 : 0);
            break;
        }
        case ModelTreeModel::SizeColumn: {
            const qint64 x = ea ? ea->bytes : a.bytes, y = eb ? eb->bytes : b.bytes;
            c = x < y ? -1 : (x > y ? 1 : 0);
            break;
        }
        default:
            return QSortFilterProxyModel::lessThan(left, right);
    }
    if (c != 0)
        return c < 0;
    return a.order < b.order;  // ties keep the model's order
}

}  // namespace paramscope
