#include "ui/metadataview.h"

#include "model/modelindex.h"
#include "model/search.h"
#include "ui/models/metadatamodel.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLabel>
#include <QStackedWidget>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace paramscope {

MetadataView::MetadataView(QWidget* parent) : QWidget(parent)
{
    m_model = new MetadataModel(this);
    m_proxy = new MetadataFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_stack = new QStackedWidget(this);
    layout->addWidget(m_stack);

    m_view = new QTreeView(m_stack);
    m_view->setObjectName(QStringLiteral("metadataTable"));
    m_view->setModel(m_proxy);
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSortingEnabled(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->setAllColumnsShowFocus(true);
    QHeaderView* header = m_view->header();
    header->setSortIndicatorClearable(true);  // a third click returns to the file's order
    header->setSortIndicator(-1, Qt::AscendingOrder);
    header->setStretchLastSection(true);
    const QFontMetrics fm = m_view->fontMetrics();
    header->resizeSection(
        MetadataModel::NameColumn,
        fm.horizontalAdvance(QStringLiteral("hyper_parameters.batch_size")) + fm.averageCharWidth() * 4);
    header->resizeSection(MetadataModel::TypeColumn,
                          fm.horizontalAdvance(QStringLiteral("argparse.Namespace")) + fm.averageCharWidth() * 3);
    m_stack->addWidget(m_view);
    // Ctrl+C on the table copies the selected rows: name, type, value, tab-separated, exact.
    auto* copy = new QAction(tr("Copy"), m_view);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, [this] { QGuiApplication::clipboard()->setText(selectedText()); });
    m_view->addAction(copy);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);

    m_empty = new QLabel(m_stack);
    m_empty->setObjectName(QStringLiteral("metadataEmptyLabel"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setEnabled(false);
    m_stack->addWidget(m_empty);

    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MetadataView::updateState);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &MetadataView::updateState);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MetadataView::updateState);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &MetadataView::updateState);
    updateState();
}

void MetadataView::setModel(std::shared_ptr<const ModelIndex> index)
{
    m_model->setModel(std::move(index));
    m_view->header()->setSortIndicator(-1, Qt::AscendingOrder);
    m_proxy->sort(-1);
    // Names as wide as the longest, up to half the view: the value column keeps the rest.
    // Measured from the text (the view may be hidden behind the tensor tab), over the first
    // rows only: a file may hold many values.
    const QFontMetrics fm = m_view->fontMetrics();
    int widest = fm.horizontalAdvance(QStringLiteral("hyper_parameters.batch_size"));
    for (int r = 0; r < std::min(m_model->rowCount(), 500); ++r)
        widest = std::max(widest, fm.horizontalAdvance(m_model->index(r, MetadataModel::NameColumn).data().toString()));
    m_nameWidth = widest + fm.averageCharWidth() * 3;
    if (isVisible())
        applyNameWidth();
    updateState();
}

void MetadataView::applyNameWidth()
{
    if (m_nameWidth <= 0)
        return;
    // Up to half the view: the value column keeps the rest.
    const int half = std::max(width() / 2, fontMetrics().averageCharWidth() * 30);
    m_view->setColumnWidth(MetadataModel::NameColumn, std::min(m_nameWidth, half));
    m_nameWidth = 0;
}

void MetadataView::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    applyNameWidth();
}

void MetadataView::setMatches(std::shared_ptr<const SearchMatches> matches)
{
    m_proxy->setMatches(std::move(matches));
    updateState();
}

void MetadataView::setMatcher(const NameMatcher& matcher)
{
    m_proxy->setMatcher(matcher);
    updateState();
}

int MetadataView::shownCount() const
{
    return m_proxy->rowCount();
}

int MetadataView::totalCount() const
{
    return m_model->rowCount();
}

QString MetadataView::emptyText() const
{
    return m_stack->currentWidget() == m_empty ? m_empty->text() : QString();
}

QString MetadataView::selectedText() const
{
    QModelIndexList rows = m_view->selectionModel()->selectedRows(MetadataModel::NameColumn);
    std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    QStringList lines;
    for (const QModelIndex& r : rows) {
        QStringList cells;
        for (int c = 0; c < MetadataModel::ColumnCount; ++c)
            cells << r.siblingAtColumn(c).data(Qt::EditRole).toString();
        lines << cells.join(QLatin1Char('\t'));
    }
    return lines.join(QLatin1Char('\n'));
}

void MetadataView::updateState()
{
    if (totalCount() == 0) {
        m_empty->setText(m_model->modelIndex() ? tr("This file holds no values other than tensors.")
                                               : tr("No model open."));
        m_stack->setCurrentWidget(m_empty);
    } else if (shownCount() == 0) {
        m_empty->setText(tr("No value's name matches the search (%n value(s) in the file).", nullptr, totalCount()));
        m_stack->setCurrentWidget(m_empty);
    } else {
        m_stack->setCurrentWidget(m_view);
    }
    Q_EMIT countChanged();
}

}  // namespace paramscope
