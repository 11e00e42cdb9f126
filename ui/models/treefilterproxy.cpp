#include "ui/models/treefilterproxy.h"

#include "scan/scantable.h"

#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/models/modeltreemodel.h"

namespace paramscope {

TreeFilterProxy::TreeFilterProxy(QObject* parent) : QAbstractProxyModel(parent) {}

void TreeFilterProxy::setSourceModel(QAbstractItemModel* source)
{
    beginResetModel();
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = qobject_cast<ModelTreeModel*>(source);
    m_matches.reset();
    m_layout.reset();
    m_full.reset();
    QAbstractProxyModel::setSourceModel(source);
    if (m_model) {
        // The source only ever changes by a reset (a new model): the old matches and layouts
        // belong to the old tree.
        connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this, [this] { beginResetModel(); });
        connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
            m_matches.reset();
            m_layout.reset();
            m_full.reset();
            if (!m_asyncSort && m_sort.field != TreeSort::Field::ModelOrder)
                m_layout = fullLayout();
            endResetModel();
        });
        connect(m_model, &QAbstractItemModel::dataChanged, this,
                [this](const QModelIndex& tl, const QModelIndex& br, const QList<int>& roles) {
                    const QModelIndex a = mapFromSource(tl), b = mapFromSource(br);
                    if (a.isValid() && b.isValid() && a.parent() == b.parent())
                        Q_EMIT dataChanged(a, b, roles);
                });
        connect(m_model, &QAbstractItemModel::headerDataChanged, this, &QAbstractItemModel::headerDataChanged);
    }
    endResetModel();
}

bool TreeFilterProxy::fitsModel(const SearchMatches* matches, const TreeLayout* layout) const
{
    if (!m_model || !m_model->tree())
        return !matches && !layout;
    const size_t n = size_t(m_model->tree()->size());
    return (!matches || matches->visible.size() == n) && (!layout || size_t(layout->nodeCount()) == n);
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
    if (!fitsModel(matches.get(), nullptr))
        return;
    if (!matches && !m_matches && (!m_layout || !m_layout->isFiltered()))
        return;
    const bool ordered = m_sort.field != TreeSort::Field::ModelOrder;
    std::shared_ptr<const TreeLayout> layout;
    if (matches)
        layout = TreeLayout::filter(fullLayout(), matches.get());
    else if (ordered)
        layout = fullLayout();
    apply(std::move(matches), std::move(layout));
}

void TreeFilterProxy::setView(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout)
{
    if (matches && (matches->matcher.isEmpty() || !matches->matcher.isValid()))
        matches.reset();
    if (!fitsModel(matches.get(), layout.get()))
        return;
    if (matches && (!layout || !layout->isFiltered()))
        return;  // a match set needs the layout that hides the rest
    if (layout && !layout->isFiltered() && layout->sort() == m_sort)
        m_full = layout;
    if (matches == m_matches && layout == m_layout)
        return;  // what is shown already (e.g. the case toggled with an empty search)
    if (matches == m_matches && !(m_matches && !layout))
        applyOrder(std::move(layout));  // the same rows in another order (a sort)
    else
        apply(std::move(matches), std::move(layout));
}

void TreeFilterProxy::apply(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout)
{
    beginResetModel();
    m_matches = std::move(matches);
    m_layout = std::move(layout);
    endResetModel();
}

void TreeFilterProxy::clearQuery()
{
    setMatches(nullptr);
}

std::shared_ptr<const TreeLayout> TreeFilterProxy::fullLayout()
{
    if (!m_model || !m_model->tree())
        return nullptr;
    if (!m_full || m_full->sort() != m_sort)
        m_full = TreeLayout::build(*m_model->modelIndex(), *m_model->tree(), m_sort);
    return m_full;
}

TreeSort TreeFilterProxy::sortFor(int column, Qt::SortOrder order) const
{
    TreeSort s;
    s.descending = order == Qt::DescendingOrder;
    switch (column) {
        case ModelTreeModel::NameColumn:
            s.field = TreeSort::Field::Name;
            break;
        case ModelTreeModel::TypeColumn:
            s.field = TreeSort::Field::Type;
            break;
        case ModelTreeModel::ShapeColumn:
            s.field = TreeSort::Field::Shape;
            break;
        case ModelTreeModel::DTypeColumn:
            s.field = TreeSort::Field::DType;
            break;
        case ModelTreeModel::ElementsColumn:
            s.field = TreeSort::Field::Elements;
            break;
        case ModelTreeModel::SizeColumn:
            s.field = TreeSort::Field::Bytes;
            break;
        case ModelTreeModel::BelongsToColumn:
            s.field = TreeSort::Field::BelongsTo;
            break;
        case ModelTreeModel::ShardColumn:
            s.field = TreeSort::Field::Shard;
            break;
        default:
            if (auto numbers = m_model ? m_model->numericSortKeys(column) : nullptr) {
                s.field = TreeSort::Field::Numeric;
                s.key = column;
                s.numbers = std::move(numbers);
                break;
            }
            s = TreeSort();
            break;
    }
    return s;
}

void TreeFilterProxy::sort(int column, Qt::SortOrder order)
{
    const TreeSort s = sortFor(column, order);
    if (s == m_sort && (!m_layout || m_layout->sort() == s))
        return;
    m_sort = s;
    if (m_asyncSort) {
        Q_EMIT sortRequested(s);
        return;
    }
    if (!m_model || !m_model->tree())
        return;
    std::shared_ptr<const TreeLayout> layout;
    if (m_matches)
        layout = TreeLayout::filter(fullLayout(), m_matches.get());
    else if (s.field != TreeSort::Field::ModelOrder)
        layout = fullLayout();
    applyOrder(std::move(layout));
}

void TreeFilterProxy::applyOrder(std::shared_ptr<const TreeLayout> layout)
{
    // A sort keeps the rows, only their order changes: a layout change, so the view keeps
    // its expanded modules and selection (persistent indexes are moved, not dropped).
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = persistentIndexList();
    std::vector<int> nodes;
    nodes.reserve(size_t(before.size()));
    for (const QModelIndex& i : before)
        nodes.push_back(nodeOf(i));
    m_layout = std::move(layout);
    QModelIndexList after;
    after.reserve(before.size());
    for (qsizetype k = 0; k < before.size(); ++k) {
        const int node = nodes[size_t(k)];
        const int row = node > 0 ? rowOf(node) : -1;
        after.append(row >= 0 ? createIndex(row, before[k].column(), quintptr(node)) : QModelIndex());
    }
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

bool TreeFilterProxy::isMatchNode(int node) const
{
    return m_matches && node >= 0 && size_t(node) < m_matches->matchNode.size() && m_matches->matchNode[size_t(node)];
}

int TreeFilterProxy::nodeOf(const QModelIndex& proxyIndex) const
{
    return proxyIndex.isValid() ? int(proxyIndex.internalId()) : ModelTree::root();
}

int TreeFilterProxy::rowOf(int node) const
{
    if (m_layout)
        return m_layout->row(node);
    return m_model->tree()->node(node).row;
}

int TreeFilterProxy::shownChildCount(int node) const
{
    if (!m_model || !m_model->tree() || node < 0 || node >= m_model->tree()->size())
        return 0;
    return m_layout ? m_layout->childCount(node) : int(m_model->tree()->node(node).children.size());
}

int TreeFilterProxy::shownChild(int node, int row) const
{
    if (row < 0 || row >= shownChildCount(node))
        return -1;
    return m_layout ? m_layout->child(node, row) : m_model->tree()->node(node).children[size_t(row)];
}

QModelIndex TreeFilterProxy::indexForNode(int node) const
{
    if (!m_model || !m_model->tree() || node <= 0 || node >= m_model->tree()->size())
        return {};
    const int row = rowOf(node);
    return row < 0 ? QModelIndex() : createIndex(row, 0, quintptr(node));
}

QModelIndex TreeFilterProxy::mapToSource(const QModelIndex& proxyIndex) const
{
    if (!m_model || !proxyIndex.isValid())
        return {};
    return m_model->indexForNode(nodeOf(proxyIndex), proxyIndex.column());
}

QModelIndex TreeFilterProxy::mapFromSource(const QModelIndex& sourceIndex) const
{
    if (!m_model || !m_model->tree() || !sourceIndex.isValid())
        return {};
    const int node = m_model->nodeForIndex(sourceIndex);
    if (node <= 0 || node >= m_model->tree()->size())
        return {};
    const int row = rowOf(node);
    return row < 0 ? QModelIndex() : createIndex(row, sourceIndex.column(), quintptr(node));
}

QModelIndex TreeFilterProxy::index(int row, int column, const QModelIndex& parent) const
{
    if (!m_model || !m_model->tree() || row < 0 || column < 0 || column >= m_model->columnCount())
        return {};
    if (parent.isValid() && parent.column() != 0)
        return {};
    const int p = nodeOf(parent);
    int child = -1;
    if (m_layout) {
        child = m_layout->child(p, row);
    } else {
        const auto& ch = m_model->tree()->node(p).children;
        if (size_t(row) < ch.size())
            child = ch[size_t(row)];
    }
    return child < 0 ? QModelIndex() : createIndex(row, column, quintptr(child));
}

QModelIndex TreeFilterProxy::parent(const QModelIndex& child) const
{
    if (!m_model || !m_model->tree() || !child.isValid())
        return {};
    const int p = m_model->tree()->node(nodeOf(child)).parent;
    if (p <= 0)
        return {};
    return createIndex(rowOf(p), 0, quintptr(p));
}

QModelIndex TreeFilterProxy::sibling(int row, int column, const QModelIndex& idx) const
{
    if (!idx.isValid())
        return {};
    if (row == idx.row())
        return column == idx.column()
                   ? idx
                   : (column >= 0 && column < columnCount() ? createIndex(row, column, idx.internalId())
                                                            : QModelIndex());
    return index(row, column, parent(idx));
}

int TreeFilterProxy::rowCount(const QModelIndex& parent) const
{
    if (!m_model || !m_model->tree() || (parent.isValid() && parent.column() != 0))
        return 0;
    const int p = nodeOf(parent);
    return m_layout ? m_layout->childCount(p) : int(m_model->tree()->node(p).children.size());
}

int TreeFilterProxy::columnCount(const QModelIndex& parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    return m_model ? m_model->columnCount() : int(ModelTreeModel::ColumnCount);
}

bool TreeFilterProxy::hasChildren(const QModelIndex& parent) const
{
    return rowCount(parent) > 0;
}

QVariant TreeFilterProxy::headerData(int section, Qt::Orientation orientation, int role) const
{
    return m_model ? m_model->headerData(section, orientation, role) : QVariant();
}

}  // namespace paramscope
