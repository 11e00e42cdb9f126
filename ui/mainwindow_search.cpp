// MainWindow's search: the search bar, handing queries to the SearchController, applying
// its match sets to the tree (filter, expansion, match count) and Find next / previous.
#include "ui/mainwindow.h"
#include "ui/metadataview.h"

#include "base/textutil.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/searchmatches.h"
#include "session/searchcontroller.h"
#include "ui/models/modeltreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/detailspanel.h"
#include "ui/modeltreeview.h"
#include "ui/plotpalette.h"
#include "ui/subtreeexpander.h"
#include "ui/treenavigation.h"

#include <QComboBox>
#include <QItemSelection>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace paramscope {

namespace {

/// The match count in the alert colour: nothing matches, or some names could not be decided.
QString alertTextStyle(const QPalette& palette)
{
    return QStringLiteral("color: %1;").arg(toneColor(palette, Tone::Alert).name());
}

}  // namespace

Q_DECLARE_LOGGING_CATEGORY(lcTiming)

void MainWindow::createSearchBar(QWidget* left, QVBoxLayout* lv)
{
    auto* bar = new QHBoxLayout;
    m_searchEdit = new QLineEdit(left);
    m_searchEdit->setObjectName(QStringLiteral("searchEdit"));
    m_searchEdit->setPlaceholderText(tr("Search tensor names (Ctrl+F)"));
    m_searchEdit->setClearButtonEnabled(true);
    m_searchEdit->installEventFilter(this);
    m_modeBox = new QComboBox(left);
    m_modeBox->setObjectName(QStringLiteral("searchMode"));
    m_modeBox->addItem(tr("Contains"), int(MatchMode::Contains));
    m_modeBox->addItem(tr("Exact"), int(MatchMode::Exact));
    m_modeBox->addItem(tr("Wildcard"), int(MatchMode::Wildcard));
    m_modeBox->addItem(tr("Regex"), int(MatchMode::Regex));
    m_modeBox->setItemData(0, tr("Names containing the text"), Qt::ToolTipRole);
    m_modeBox->setItemData(1, tr("The whole name, as in dict(model.named_parameters())[name]"), Qt::ToolTipRole);
    m_modeBox->setItemData(2, tr("The whole name with * (any run, dots included) and ? (one character)"),
                           Qt::ToolTipRole);
    m_modeBox->setItemData(3, tr("A regular expression found anywhere in the name, like re.search"), Qt::ToolTipRole);
    m_modeBox->setToolTip(tr("How the text is matched against full dotted names"));
    m_caseButton = new QToolButton(left);
    m_caseButton->setObjectName(QStringLiteral("caseSensitive"));
    m_caseButton->setText(QStringLiteral("Aa"));
    m_caseButton->setCheckable(true);
    m_caseButton->setToolTip(tr("Match case"));
    // Pressed must be plain to see in any style and palette: highlighted and bold.
    m_caseButton->setStyleSheet(QStringLiteral(
        "QToolButton#caseSensitive:checked { background: palette(highlight); color: palette(highlighted-text);"
        " font-weight: bold; border: 1px solid palette(dark); border-radius: 3px; }"));
    m_problemsOnlyButton = new QToolButton(left);
    m_problemsOnlyButton->setObjectName(QStringLiteral("problemsOnly"));
    m_problemsOnlyButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_matchLabel = new QLabel(left);
    m_matchLabel->setObjectName(QStringLiteral("matchCountLabel"));
    m_matchLabel->setMinimumWidth(
        m_matchLabel->fontMetrics().horizontalAdvance(QStringLiteral("000,000 of 000,000 tensors")));
    m_matchLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    bar->addWidget(m_searchEdit, 1);
    bar->addWidget(m_modeBox);
    bar->addWidget(m_caseButton);
    bar->addWidget(m_problemsOnlyButton);
    bar->addWidget(m_matchLabel);
    lv->addLayout(bar);

    m_searchError = new QLabel(left);
    m_searchError->setObjectName(QStringLiteral("searchErrorLabel"));
    m_searchError->setWordWrap(true);
    m_searchError->setTextFormat(Qt::PlainText);  // the pattern is shown as typed
    m_searchError->setTextInteractionFlags(Qt::TextSelectableByMouse);
    setPaletteStyleSheet(m_searchError, [](const QPalette& palette) {
        return QStringLiteral("color: %1; font-weight: bold;").arg(toneColor(palette, Tone::Alert).name());
    });
    m_searchError->hide();
    lv->addWidget(m_searchError);

    connect(m_searchEdit, &QLineEdit::textChanged, this, &MainWindow::queryChanged);
    connect(m_searchEdit, &QLineEdit::returnPressed, this, [this] {
        flushSearch();
        findNext();
    });
    connect(m_modeBox, qOverload<int>(&QComboBox::currentIndexChanged), this, &MainWindow::queryChanged);
    connect(m_caseButton, &QToolButton::toggled, this, &MainWindow::queryChanged);
}

SearchQuery MainWindow::currentQuery() const
{
    SearchQuery q;
    q.mode = MatchMode(m_modeBox->currentData().toInt());
    q.pattern = m_searchEdit->text();
    q.caseSensitive = m_caseButton->isChecked();
    return q;
}

void MainWindow::flushSearch()
{
    m_search->flush();
}

void MainWindow::queryChanged()
{
    m_search->setQuery(currentQuery());
}

void MainWindow::connectSearch()
{
    connect(m_search, &SearchController::rejected, this, [this](const NameMatcher& matcher) {
        showSearchError(matcher);  // the tree keeps its last valid filter
        Q_EMIT searchApplied();
    });
    connect(m_search, &SearchController::accepted, this, [this](bool async) {
        m_searchError->hide();
        setPaletteStyleSheet(m_searchEdit, nullptr);
        if (async)
            m_matchLabel->setText(tr("Searching…"));
    });
    connect(m_search, &SearchController::viewReady, this, &MainWindow::applyView);
    // Sorting a large tree is done on the search's worker too: the header's click only asks.
    m_proxy->setAsyncSort(true);
    connect(m_proxy, &TreeFilterProxy::sortRequested, m_search, &SearchController::setSort);
}

void MainWindow::showSearchError(const NameMatcher& matcher)
{
    QString text = tr("Invalid pattern: %1").arg(matcher.errorString());
    if (matcher.errorOffset() >= 0) {
        const QString p = matcher.query().pattern;
        const int at = std::min<int>(matcher.errorOffset(), int(p.size()));
        text += tr(" at position %1: %2▸%3").arg(QString::number(at), p.left(at), p.mid(at));
    }
    m_searchError->setText(text);
    m_searchError->show();
    setPaletteStyleSheet(m_searchEdit, [](const QPalette& palette) {
        return QStringLiteral("QLineEdit { border: 2px solid %1; border-radius: 3px; }")
            .arg(toneColor(palette, Tone::Alert).name());
    });
    m_matchLabel->setText(tr("invalid"));
    setPaletteStyleSheet(m_matchLabel, alertTextStyle);
}

namespace {

/// The rows of `nodes` still shown by `proxy`, as few row ranges as there are runs of
/// adjacent rows under one parent (a whole selected module is one range, not a row each).
QItemSelection selectionOfNodes(const TreeFilterProxy* proxy, const std::vector<int>& nodes)
{
    std::vector<QModelIndex> shown;
    shown.reserve(nodes.size());
    for (int n : nodes)
        if (const QModelIndex pi = proxy->indexForNode(n); pi.isValid())
            shown.push_back(pi);
    // By parent (its node id), then row: runs of adjacent rows are then neighbours.
    const auto parentOf = [](const QModelIndex& i) { return i.parent().internalId(); };
    std::sort(shown.begin(), shown.end(), [&](const QModelIndex& a, const QModelIndex& b) {
        return parentOf(a) != parentOf(b) ? parentOf(a) < parentOf(b) : a.row() < b.row();
    });
    QItemSelection selection;
    const int last = ModelTreeModel::ColumnCount - 1;
    for (size_t i = 0; i < shown.size();) {
        size_t j = i + 1;
        while (j < shown.size() && parentOf(shown[j]) == parentOf(shown[i]) && shown[j].row() == shown[j - 1].row() + 1)
            ++j;
        selection.select(shown[i], shown[j - 1].siblingAtColumn(last));
        i = j;
    }
    return selection;
}

}  // namespace

void MainWindow::applyView(std::shared_ptr<const SearchMatches> matches, std::shared_ptr<const TreeLayout> layout)
{
    QElapsedTimer timer;
    timer.start();
    // The Metadata view's rows, matched with the tensors' off this thread: it looks them up.
    m_metadata->setMatches(matches);
    if (matches == m_proxy->matches()) {
        // Only the order changed (a sort): the proxy moves the rows, the view keeps its
        // expanded modules and selection.
        m_proxy->setView(std::move(matches), std::move(layout));
        updateMatchLabel();
        Q_EMIT searchApplied();
        return;
    }
    // A new match set replaces the proxy's rows with one reset: the current row and the
    // selection are kept by node and put back where they are still shown.
    const int current = currentNode();
    std::vector<int> selected;
    for (const QModelIndex& r : m_tree->selectionModel()->selectedRows(0))
        selected.push_back(m_model->nodeForIndex(r));
    m_restoringView = true;
    m_proxy->setView(std::move(matches), std::move(layout));
    if (!selected.empty())
        m_tree->selectionModel()->select(selectionOfNodes(m_proxy, selected), QItemSelectionModel::Select);
    if (current > 0) {
        const QModelIndex cur = m_proxy->indexForNode(current);
        if (cur.isValid())
            m_tree->selectionModel()->setCurrentIndex(cur, QItemSelectionModel::NoUpdate);
    }
    m_restoringView = false;
    if (currentNode() != current)
        onCurrentChanged();  // the current row was filtered out: the details show the model
    const qint64 filterMs = timer.restart();
    if (m_proxy->isFiltering())
        expandMatches();
    else
        restoreDefaultExpansion();  // the reset closed every module
    const qint64 expandMs = timer.restart();
    if (lcTiming().isDebugEnabled()) {
        m_tree->layoutNow();  // otherwise done before the next paint
        qCDebug(lcTiming,
                "search applied on the GUI thread: filter %lld ms, expand %lld ms, layout %lld ms (%d matches)",
                filterMs, expandMs, timer.elapsed(), m_proxy->matchCount());
    }
    updateMatchLabel();
    if (m_pendingSelection > 0 && !m_proxy->isFiltering()) {
        const QModelIndex pi = m_proxy->indexForNode(m_pendingSelection);
        m_pendingSelection = -1;
        if (pi.isValid())
            selectProxyIndex(pi);
    }
    // Keep the current row in view when it survived the filter.
    if (m_tree->currentIndex().isValid())
        m_tree->scrollTo(m_tree->currentIndex());
    Q_EMIT searchApplied();
}

void MainWindow::expandMatches()
{
    const auto matches = m_proxy->matches();
    const auto layout = m_proxy->layout();
    if (!matches || !layout)
        return;
    // Every module the filtered layout shows leads to a match: they open in display
    // pre-order (each next to the one before it, which the view lays out cheaply), a bounded
    // number of rows per event-loop turn, the first screens at once.
    m_expander->open(SearchController::nodesToOpen(*layout));
}

void MainWindow::restoreDefaultExpansion()
{
    // The top level open: a model's first screen then shows its main blocks.
    QModelIndexList top;
    for (int r = 0; r < m_proxy->rowCount(); ++r)
        top.append(m_proxy->index(r, 0));
    if (top.size() <= SearchController::kMaxExpandedTopLevel)
        m_tree->expandMany(top);
    if (m_tree->currentIndex().isValid())
        m_tree->scrollTo(m_tree->currentIndex());
}

void MainWindow::updateMatchLabel()
{
    const auto index = m_model->modelIndex();
    const qint64 total = index ? qint64(index->entries.size()) : 0;
    if (!m_proxy->isFiltering()) {
        m_matchLabel->setText(index ? tr("%1 tensors").arg(formatCount(total)) : QString());
        setPaletteStyleSheet(m_matchLabel, nullptr);
    } else if (m_proxy->matchCount() == 0) {
        m_matchLabel->setText(tr("no match in %1").arg(formatCount(total)));
        setPaletteStyleSheet(m_matchLabel, alertTextStyle);
    } else {
        m_matchLabel->setText(tr("%1 of %2 tensors").arg(formatCount(m_proxy->matchCount()), formatCount(total)));
        setPaletteStyleSheet(m_matchLabel, nullptr);
    }
    // A regular expression that reached PCRE2's backtracking limit on some names: say so,
    // they are neither shown nor counted as "no match".
    m_matchLabel->setToolTip(QString());
    if (const int undecided = m_proxy->undecidedCount(); undecided > 0 && index) {
        m_matchLabel->setText(m_matchLabel->text() + QStringLiteral("; ") +
                              (undecided == 1 ? tr("1 name could not be decided")
                                              : tr("%1 names could not be decided").arg(formatCount(undecided))));
        setPaletteStyleSheet(m_matchLabel, alertTextStyle);
        QStringList first;
        for (int e : m_proxy->matches()->undecided) {
            if (first.size() == 10)
                break;
            first << escapeForTerminal(index->entries[size_t(e)].name);
        }
        m_matchLabel->setToolTip(tr("The regular expression reached its backtracking limit on these names, so "
                                    "whether they match is unknown; simplify the pattern (e.g. avoid nested "
                                    "repeats like (a+)+):\n") +
                                 first.join(QLatin1Char('\n')) +
                                 (undecided > first.size() ? QStringLiteral("\n…") : QString()));
    }
}

void MainWindow::findNext()
{
    findMatch(true);
}

void MainWindow::findPrevious()
{
    findMatch(false);
}

void MainWindow::findMatch(bool forward)
{
    flushSearch();
    if (!m_proxy->isFiltering() || m_proxy->matchCount() == 0 || m_proxy->rowCount() == 0)
        return;
    QModelIndex start = m_tree->currentIndex().siblingAtColumn(0);
    QModelIndex cur = start;
    // Each step visits one visible row; a full cycle ends the walk.
    const int limit = m_model->tree()->size() + 1;
    for (int steps = 0; steps < limit; ++steps) {
        cur = forward ? nextInPreorder(m_proxy, cur) : previousInPreorder(m_proxy, cur);
        if (!cur.isValid())
            return;
        if (m_proxy->isMatchNode(m_model->nodeForIndex(m_proxy->mapToSource(cur)))) {
            selectProxyIndex(cur);
            return;
        }
        if (cur == start)
            return;
    }
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == static_cast<QObject*>(m_details) && event->type() == QEvent::LayoutRequest)
        fitDetailsWidth();
    // Ctrl+E is the line edit's "end of line" on X11 desktops, but in the search box a user
    // who has just searched means Export (of the matches); Home/End still move the cursor.
    if (watched == m_searchEdit && event->type() == QEvent::ShortcutOverride) {
        auto* ke = static_cast<QKeyEvent*>(event);
        if (m_exportAction->isEnabled() && QKeySequence(ke->keyCombination()) == m_exportAction->shortcut()) {
            event->ignore();
            return true;  // not overridden: the window's shortcut runs
        }
    }
    if (watched == m_searchEdit && event->type() == QEvent::KeyPress) {
        auto* ke = static_cast<QKeyEvent*>(event);
        if (ke->key() == Qt::Key_Escape && !m_searchEdit->text().isEmpty()) {
            m_searchEdit->clear();
            return true;
        }
        if ((ke->key() == Qt::Key_Return || ke->key() == Qt::Key_Enter) && (ke->modifiers() & Qt::ShiftModifier)) {
            flushSearch();
            findPrevious();
            return true;
        }
        if (ke->key() == Qt::Key_Down) {
            m_tree->setFocus(Qt::TabFocusReason);
            return true;
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

}  // namespace paramscope
