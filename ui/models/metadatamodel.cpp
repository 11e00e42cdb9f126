#include "ui/models/metadatamodel.h"

#include "base/textutil.h"
#include "model/modelindex.h"
#include "model/search.h"
#include "model/searchmatches.h"

namespace paramscope {

namespace {

bool isFilteringWith(const NameMatcher& matcher)
{
    return !matcher.isEmpty() && matcher.isValid();
}

// Not QString::fromUtf8: it drops a leading U+FEFF, and two names would look the same.
QString u8(const std::string& s)
{
    return utf8ToQString(s);
}

/// One line for a cell: escaped like names in plain text, long text cut with its length.
QString shownValue(const std::string& value)
{
    const QString full = u8(value);
    if (full.size() <= MetadataModel::kShownValueChars)
        return escapeForTerminal(full);
    return escapeForTerminal(full.left(MetadataModel::kShownValueChars)) +
           MetadataModel::tr("… (%1 characters)").arg(formatCount(full.size()));
}

}  // namespace

MetadataModel::MetadataModel(QObject* parent) : QAbstractTableModel(parent) {}

void MetadataModel::setModel(std::shared_ptr<const ModelIndex> index)
{
    beginResetModel();
    m_index = std::move(index);
    endResetModel();
}

int MetadataModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !m_index ? 0 : int(m_index->metadataEntries.size());
}

int MetadataModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MetadataModel::data(const QModelIndex& index, int role) const
{
    if (!m_index || !index.isValid() || index.row() >= rowCount())
        return {};
    const MetadataEntry& m = m_index->metadataEntries[size_t(index.row())];
    const std::string& text = index.column() == NameColumn ? m.name : index.column() == TypeColumn ? m.type : m.value;
    switch (role) {
        case Qt::DisplayRole:
            return index.column() == ValueColumn ? shownValue(text) : escapeForTerminal(u8(text));
        case Qt::ToolTipRole: {
            // The whole value, with its name and type: the cell shows one line of it.
            const QString value = u8(m.value);
            return QStringLiteral("<b>%1</b> (%2)<br><pre style='white-space:pre-wrap'>%3</pre>")
                .arg(u8(m.name).toHtmlEscaped(), u8(m.type).toHtmlEscaped(), value.toHtmlEscaped());
        }
        case Qt::EditRole:  // copying a cell copies the exact text
            return u8(text);
    }
    return {};
}

QVariant MetadataModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case NameColumn:
            return tr("Name");
        case TypeColumn:
            return tr("Type");
        case ValueColumn:
            return tr("Value");
    }
    return {};
}

MetadataFilterProxy::MetadataFilterProxy(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(Qt::DisplayRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

MetadataFilterProxy::~MetadataFilterProxy() = default;

void MetadataFilterProxy::setMatches(std::shared_ptr<const SearchMatches> matches)
{
    if (matches == m_matches)
        return;
    const bool was = isFiltering();
    m_matches = std::move(matches);
    if (was || isFiltering())
        invalidateFilter();
}

void MetadataFilterProxy::setMatcher(const NameMatcher& matcher)
{
    auto m = std::make_shared<SearchMatches>();
    m->matcher = matcher;
    const auto* model = static_cast<const MetadataModel*>(sourceModel());
    if (model && model->modelIndex() && isFilteringWith(matcher))
        for (const MetadataEntry& e : model->modelIndex()->metadataEntries)
            m->metadataMatch.push_back(matcher.matches(std::string_view(e.name)) ? 1 : 0);
    setMatches(std::move(m));
}

bool MetadataFilterProxy::isFiltering() const
{
    return m_matches && isFilteringWith(m_matches->matcher);
}

bool MetadataFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex&) const
{
    if (!isFiltering())
        return true;
    const auto* model = static_cast<const MetadataModel*>(sourceModel());
    const auto& index = model->modelIndex();
    if (!index || sourceRow < 0 || size_t(sourceRow) >= index->metadataEntries.size())
        return false;
    const auto& mask = m_matches->metadataMatch;
    if (mask.size() == index->metadataEntries.size())
        return mask[size_t(sourceRow)] != 0;
    return m_matches->matcher.matches(std::string_view(index->metadataEntries[size_t(sourceRow)].name));
}

}  // namespace paramscope
