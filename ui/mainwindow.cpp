#include "ui/mainwindow.h"

#include "model/exportselection.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "session/modelsession.h"
#include "session/scancontroller.h"
#include "session/searchcontroller.h"
#include "session/settings.h"
#include "ui/clipboard.h"
#include "ui/detailspanel.h"
#include "ui/errorbanner.h"
#include "ui/exportdialog.h"
#include "ui/metadataview.h"
#include "ui/models/modeltreemodel.h"
#include "ui/models/treefilterproxy.h"
#include "ui/subtreeexpander.h"
#include "ui/modeltreeview.h"
#include "ui/problemspanel.h"
#include "ui/startpage.h"
#include "ui/statspanel.h"
#include "ui/treenavigation.h"

#include <QAction>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QMenu>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStyle>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace paramscope {

Q_LOGGING_CATEGORY(lcTiming, "paramscope.timing", QtWarningMsg)

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("ParamScope"));
    setAcceptDrops(true);

    m_model = new ModelTreeModel(this);
    m_proxy = new TreeFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    m_session = new ModelSession(this);
    m_search = new SearchController(this);
    m_scan = new ScanController(this);

    auto* central = new QWidget(this);
    auto* cv = new QVBoxLayout(central);
    cv->setContentsMargins(0, 0, 0, 0);
    cv->setSpacing(0);

    m_errorBanner = new ErrorBanner(central);
    cv->addWidget(m_errorBanner);

    m_pages = new QStackedWidget(central);
    m_emptyPage = new StartPage(this);
    connect(m_emptyPage, &StartPage::openRequested, this, [this] { m_openAction->trigger(); });
    connect(m_emptyPage, &StartPage::demoRequested, this, &MainWindow::openDemoModel);
    m_browserPage = createBrowserPage();
    m_pages->addWidget(m_emptyPage);
    m_pages->addWidget(m_browserPage);
    m_pages->setCurrentWidget(m_emptyPage);
    cv->addWidget(m_pages, 1);
    setCentralWidget(central);

    createActions();
    createMenus();
    createScanUi();
    createHelpMenu();
    createStatusBar();
    connectSession();
    connectSearch();
    restoreSettings();
    updateActions();
    updateStatusLabel();
}

void MainWindow::enableExportDialog()
{
    connect(this, &MainWindow::exportRequested, this, [this](std::vector<int> entries) {
        const QString base = exportSuggestedBaseName(entries);
        const bool onlyMatches = exportLeavesOutUnmatched(entries);
        ExportJob* job = exportWithDialog(this, modelIndex(), std::move(entries), base, onlyMatches);
        // The confirmation: what was written where, in the status bar (notes, when there
        // are any, come in a message box as well).
        if (job)
            connect(job, &ExportJob::finished, this, [this](bool ok, const QString& message, const QStringList&) {
                if (ok)
                    statusBar()->showMessage(message, 20000);
            });
    });
}

// The session and the search controller wait for their workers when they go.
MainWindow::~MainWindow() = default;

void MainWindow::setSettingsFile(const QString& path)
{
    paramscope::setSettingsFile(path);
}

void MainWindow::fitDetailsWidth()
{
    const int width = std::max(
        280, m_details->minimumSizeHint().width() + m_detailsScroll->style()->pixelMetric(QStyle::PM_ScrollBarExtent));
    if (width != m_detailsScroll->minimumWidth())
        m_detailsScroll->setMinimumWidth(width);
}

QWidget* MainWindow::createBrowserPage()
{
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("browserPage"));
    m_browserSplit = splitter;

    auto* left = new QWidget(splitter);
    auto* lv = new QVBoxLayout(left);
    lv->setContentsMargins(6, 6, 0, 0);
    lv->setSpacing(4);

    createSearchBar(left, lv);

    m_tree = new ModelTreeView(left);
    m_expander = new SubtreeExpander(m_tree, m_proxy, this);
    m_tree->setObjectName(QStringLiteral("modelTree"));
    m_tree->setModel(m_proxy);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tree->setAlternatingRowColors(true);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->setAllColumnsShowFocus(true);
    QHeaderView* header = m_tree->header();
    header->setSortIndicatorClearable(true);  // a third click returns to the model's order
    header->setSortIndicator(-1, Qt::AscendingOrder);
    m_tree->setSortingEnabled(true);
    header->setSectionResizeMode(ModelTreeModel::NameColumn, QHeaderView::Interactive);
    const QFontMetrics fm = m_tree->fontMetrics();
    const int pad = fm.averageCharWidth() * 3;
    auto fixed = [&](int column, const QString& sample) {
        header->setSectionResizeMode(column, QHeaderView::Interactive);
        header->resizeSection(column, fm.horizontalAdvance(sample) + pad);
    };
    fixed(ModelTreeModel::TypeColumn, QStringLiteral("BatchNorm2d"));
    fixed(ModelTreeModel::ShapeColumn, QStringLiteral("[1024, 1024, 3, 3]"));
    fixed(ModelTreeModel::DTypeColumn, QStringLiteral("bfloat16"));
    fixed(ModelTreeModel::ElementsColumn, QStringLiteral("123,456,789"));
    fixed(ModelTreeModel::SizeColumn, QStringLiteral("1023.9 MiB"));
    fixed(ModelTreeModel::BelongsToColumn, QStringLiteral("layers.10.attn.weight"));
    fixed(ModelTreeModel::ShardColumn, QStringLiteral("model-00001-of-00003"));  // whole in the details
    header->setMinimumSectionSize(fm.averageCharWidth() * 6);
    connect(m_tree, &QTreeView::customContextMenuRequested, this, &MainWindow::showTreeContextMenu);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &MainWindow::onCurrentChanged);
    connect(m_tree->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateActions);
    m_foreignClasses = new QLabel(left);
    m_foreignClasses->setObjectName(QStringLiteral("foreignClassesLabel"));
    m_foreignClasses->setTextFormat(Qt::PlainText);
    m_foreignClasses->setWordWrap(true);
    m_foreignClasses->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_foreignClasses->hide();
    lv->addWidget(m_foreignClasses);

    m_tabs = new QTabWidget(left);
    m_tabs->setObjectName(QStringLiteral("browserTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_tree, tr("Tensors"));
    m_metadata = new MetadataView(m_tabs);
    m_metadata->setObjectName(QStringLiteral("metadataView"));
    m_tabs->addTab(m_metadata, tr("Metadata"));
    m_tabs->setTabToolTip(1, tr("What the file holds besides tensors: epoch, arguments, configuration, metadata"));
    connect(m_metadata, &MetadataView::countChanged, this, &MainWindow::updateMetadataTab);
    m_leftSplit = new QSplitter(Qt::Vertical, left);
    m_leftSplit->setObjectName(QStringLiteral("treeAndProblems"));
    m_leftSplit->addWidget(m_tabs);
    m_problems = new ProblemsPanel(m_scan, m_leftSplit);
    m_problems->setObjectName(QStringLiteral("problemsPanel"));
    m_problems->hide();  // until a scan runs (or Scan → Show Problems panel)
    m_leftSplit->addWidget(m_problems);
    m_leftSplit->setStretchFactor(0, 3);
    m_leftSplit->setStretchFactor(1, 1);
    m_leftSplit->setChildrenCollapsible(false);
    lv->addWidget(m_leftSplit, 1);

    m_details = new DetailsPanel(splitter);
    m_details->setObjectName(QStringLiteral("detailsPanel"));
    auto* scroll = new QScrollArea(splitter);
    scroll->setWidget(m_details);
    scroll->setWidgetResizable(true);
    // The pane reflows to its width (the statistics stack, long texts wrap); it never
    // scrolls sideways.
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFrameShape(QFrame::NoFrame);
    connect(m_details, &DetailsPanel::nodeActivated, this, &MainWindow::selectNode);

    // Statistics and histogram of the selected tensor, computed off the GUI thread.
    m_stats = new StatsPanel;
    m_stats->setObjectName(QStringLiteral("statsPanel"));
    m_details->setStatsWidget(m_stats);
    // Never narrower than the pane's narrowest layout, so nothing in it is cut off; that
    // layout changes with what is shown (MainWindow::eventFilter follows it).
    m_detailsScroll = scroll;
    fitDetailsWidth();
    m_details->installEventFilter(this);
    connect(m_details, &DetailsPanel::tensorShown, m_stats, &StatsPanel::showTensor);
    connect(m_details, &DetailsPanel::tensorCleared, m_stats, &StatsPanel::clear);

    splitter->addWidget(left);
    splitter->addWidget(scroll);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    // First-run split: room for the statistics grid without a horizontal scroll bar.
    splitter->setSizes({740, 540});
    splitter->setChildrenCollapsible(false);
    return splitter;
}

// ---- Loading ---------------------------------------------------------------------------

void MainWindow::connectSession()
{
    connect(m_session, &ModelSession::loadStarted, this,
            [this](const QString&, const QString& displayName) { setLoadingUi(true, displayName); });
    connect(m_session, &ModelSession::loadProgress, this, &MainWindow::onLoadProgress);
    connect(m_session, &ModelSession::loadCancelled, this, [this](const QString& path) {
        setLoadingUi(false);
        statusBar()->showMessage(cancelledMessage(path), 5000);
    });
    connect(m_session, &ModelSession::loadFailed, this,
            [this](const QString& path, const QString& displayName, ErrorKind, const QString& message) {
                onLoadFailed(path, displayName, message);
            });
    connect(m_session, &ModelSession::modelChanged, this, [this](const QString& path) {
        setLoadingUi(false);
        hideError();
        showModel();
        if (path.isEmpty())
            return;  // a model handed over in memory
        const qint64 ms = m_session->lastLoadMs();
        qCDebug(lcTiming, "open %s: %lld ms (load and tree on the worker, model reset on the GUI thread)",
                qPrintable(m_session->displayName()), ms);
        m_statusLabel->setToolTip(m_statusLabel->toolTip() +
                                  tr("\nopened in %1 s").arg(double(ms) / 1000.0, 0, 'f', 2));
        Q_EMIT modelLoaded(path);
    });
}

void MainWindow::openDemoModel()
{
    const Result<QString> path = ModelSession::extractDemoModel();
    if (!path) {
        showError(path.error());
        return;
    }
    openFile(path.value());
}

void MainWindow::openFile(const QString& path)
{
    m_session->open(path, m_engine);
}

void MainWindow::cancelLoading()
{
    m_session->cancel();
}

bool MainWindow::isLoading() const
{
    return m_session->isLoading();
}

QString MainWindow::currentFile() const
{
    return m_session->currentFile();
}

void MainWindow::setLoadingUi(bool loading, const QString& displayName)
{
    m_progress->setVisible(loading);
    m_cancelButton->setVisible(loading);
    if (loading) {
        m_progress->setRange(0, 0);  // busy until the loader reports a fraction
        statusBar()->showMessage(tr("Opening %1…").arg(displayName));
    } else {
        statusBar()->clearMessage();
    }
    updateActions();
}

void MainWindow::onLoadProgress(double fraction, const QString& stage)
{
    if (fraction > 0.0) {
        m_progress->setRange(0, 1000);
        m_progress->setValue(int(fraction * 1000));
    }
    if (!stage.isEmpty())
        m_progress->setToolTip(stage);
}

void MainWindow::onLoadFailed(const QString& path, const QString& displayName, const QString& reason)
{
    setLoadingUi(false);
    QString message = tr("Could not open '%1': %2").arg(displayName, reason);
    if (m_session->index())
        message += tr("\n%1 is still open.").arg(m_session->displayName());
    showError(message);
    Q_EMIT loadFailed(path, reason);
}

void MainWindow::setModel(std::shared_ptr<const ModelIndex> index, std::shared_ptr<const ModelTree> tree)
{
    if (!index)
        return;
    const QString name = QFileInfo(index->filePath).fileName();
    m_session->setModel(std::move(index), std::move(tree), name.isEmpty() ? tr("(unnamed)") : name);
}

void MainWindow::showModel()
{
    QElapsedTimer timer;
    timer.start();
    const auto index = m_session->index();
    const auto tree = m_session->tree();
    const QString path = m_session->currentFile();
    const QString displayName = m_session->displayName();
    m_search->setModel(index, tree);
    m_model->setScanTable(nullptr);  // the old model's scan is about to go
    m_model->setModel(index, tree);
    m_scan->setModel(index, tree);
    m_details->setModel(index, tree);
    showWhatIsNotATensor();
    setWindowTitle(tr("%1 — ParamScope").arg(displayName));
    setWindowFilePath(path);
    m_pages->setCurrentWidget(m_browserPage);

    // Recent files and the last folder (not for the bundled demo, which lives in a temp
    // folder, nor for models handed over in memory).
    if (!path.isEmpty() && !ModelSession::isDemoPath(path)) {
        addRecentFile(path);
        rebuildRecentMenu();
        openSettings()->setValue(QStringLiteral("lastFolder"), QFileInfo(path).absolutePath());
    }
    updateStatusLabel();
    // Re-apply the search the user had typed to the new model.
    m_search->setQuery(currentQuery());
    m_search->run();
    if (!m_proxy->isFiltering())
        restoreDefaultExpansion();
    m_details->showNode(ModelTree::root());
    updateActions();
    scanIfSmall();
    qCDebug(lcTiming, "show model: %lld ms on the GUI thread", timer.elapsed());
}

void MainWindow::showWhatIsNotATensor()
{
    const auto index = m_model->modelIndex();
    m_metadata->setModel(index);
    m_tree->setColumnHidden(ModelTreeModel::TypeColumn, !m_model->hasModuleTypes());
    m_tree->setColumnHidden(ModelTreeModel::BelongsToColumn, !m_model->hasBelongsTo());
    m_tree->setColumnHidden(ModelTreeModel::ShardColumn, !m_model->hasShards());
    m_tree->fitNameColumn();
    // The classes, once each, however many objects the file holds of them.
    const QStringList classes = index ? index->foreignClasses : QStringList();
    constexpr int kNamed = 6;
    QString line = tr("Classes not imported: %1").arg(classes.mid(0, kNamed).join(QStringLiteral(", ")));
    if (classes.size() > kNamed)
        line += tr(" and %n more", nullptr, int(classes.size() - kNamed));
    m_foreignClasses->setText(line);
    m_foreignClasses->setToolTip(
        tr("The file pickles objects of these classes. ParamScope never imports or runs them; their tensors "
           "and values are read as data.\n\n%1")
            .arg(classes.join(QLatin1Char('\n'))));
    m_foreignClasses->setVisible(!classes.isEmpty());
    QString empty;
    if (index && index->entries.empty())
        empty = index->noTensorsReason.isEmpty() ? tr("This file holds no tensors.")
                                                 : tr("This file holds no tensors: %1.").arg(index->noTensorsReason);
    m_tree->setPlaceholderText(empty);
    // A file of values only opens on them.
    m_tabs->setCurrentWidget(index && index->entries.empty() && !index->metadataEntries.empty()
                                 ? static_cast<QWidget*>(m_metadata)
                                 : m_tree);
    updateMetadataTab();
}

void MainWindow::updateMetadataTab()
{
    const int shown = m_metadata->shownCount(), total = m_metadata->totalCount();
    m_tabs->setTabText(
        1, shown == total ? tr("Metadata (%1)").arg(total) : tr("Metadata (%1 of %2)").arg(shown).arg(total));
}

void MainWindow::showError(const QString& message)
{
    m_errorBanner->showMessage(message);
}

void MainWindow::hideError()
{
    m_errorBanner->hide();
}

QString MainWindow::errorBannerText() const
{
    return m_errorBanner->text();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile())
        return;
    event->acceptProposedAction();
    openFile(urls.first().toLocalFile());
}

std::shared_ptr<const ModelIndex> MainWindow::modelIndex() const
{
    return m_model->modelIndex();
}

std::shared_ptr<const ModelTree> MainWindow::modelTree() const
{
    return m_model->tree();
}

// ---- Selection and actions -------------------------------------------------------------

int MainWindow::currentNode() const
{
    const QModelIndex cur = m_tree->currentIndex();
    if (!cur.isValid() || !m_model->tree())
        return -1;
    return m_model->nodeForIndex(m_proxy->mapToSource(cur));
}

void MainWindow::onCurrentChanged()
{
    if (m_restoringView)
        return;
    const int node = currentNode();
    m_details->showNode(node > 0 ? node : ModelTree::root());
    updateActions();
}

void MainWindow::selectNode(int node)
{
    const QModelIndex src = m_model->indexForNode(node);
    if (!src.isValid())
        return;
    QModelIndex pi = m_proxy->mapFromSource(src);
    if (!pi.isValid()) {
        // Hidden by the search: show everything again rather than refuse to jump. On a large
        // model the unfiltered layout may come from the worker: the jump then waits for it.
        m_pendingSelection = node;
        m_searchEdit->clear();
        flushSearch();
        pi = m_proxy->mapFromSource(src);
    }
    if (!pi.isValid())
        return;
    m_pendingSelection = -1;
    selectProxyIndex(pi);
}

void MainWindow::selectProxyIndex(const QModelIndex& index)
{
    // Replace the selection (a jump is not an extension of a multi-selection).
    m_tree->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_tree->scrollTo(index, QAbstractItemView::EnsureVisible);
}

void MainWindow::selectEntry(int entry)
{
    if (m_model->tree())
        selectNode(m_model->tree()->nodeForEntry(entry));
}

void MainWindow::copyName()
{
    if (m_model->tree())
        copyNodeName(*m_model->tree(), currentNode());
}

void MainWindow::copySnippet()
{
    if (m_model->tree())
        copyNodeSnippet(*m_model->modelIndex(), *m_model->tree(), currentNode());
}

void MainWindow::expandSubtree()
{
    const QModelIndex cur = m_tree->currentIndex().siblingAtColumn(0);
    if (cur.isValid())
        m_expander->expand(m_model->nodeForIndex(cur));  // in steps of a frame each
}

void MainWindow::collapseSubtree()
{
    const QModelIndex cur = m_tree->currentIndex().siblingAtColumn(0);
    if (cur.isValid())
        m_expander->collapse(m_model->nodeForIndex(cur));  // the modules below in steps
}

std::vector<int> MainWindow::exportCandidates() const
{
    const auto index = m_model->modelIndex();
    const auto tree = m_model->tree();
    if (!index || !tree)
        return {};
    std::vector<int> nodes;
    for (const QModelIndex& r : m_tree->selectionModel()->selectedRows(0))
        nodes.push_back(m_model->nodeForIndex(m_proxy->mapToSource(r)));
    return paramscope::exportCandidates(*index, *tree, nodes, m_proxy->matches().get());
}

bool MainWindow::exportLeavesOutUnmatched(const std::vector<int>& entries) const
{
    const auto index = m_model->modelIndex();
    const auto tree = m_model->tree();
    if (!index || !tree || !m_proxy->isFiltering())
        return false;
    std::vector<int> nodes;
    for (const QModelIndex& r : m_tree->selectionModel()->selectedRows(0))
        nodes.push_back(m_model->nodeForIndex(m_proxy->mapToSource(r)));
    if (nodes.empty())
        return true;  // every match of the model
    return paramscope::exportCandidates(*index, *tree, nodes, nullptr).size() > entries.size();
}

QString MainWindow::exportSuggestedBaseName(const std::vector<int>& entries) const
{
    const auto index = m_model->modelIndex();
    if (!index)
        return {};
    const QModelIndexList rows = m_tree->selectionModel()->selectedRows(0);
    const QString selected = rows.size() == 1 ? rows.first().data(ModelTreeModel::FullNameRole).toString() : QString();
    return paramscope::exportSuggestedBaseName(*index, entries, int(rows.size()), selected, m_session->displayName(),
                                               m_proxy->isFiltering());
}

void MainWindow::triggerExport()
{
    const std::vector<int> entries = exportCandidates();
    if (entries.empty()) {
        statusBar()->showMessage(tr("Nothing to export: select a tensor or a module, or search for tensors"), 5000);
        return;
    }
    Q_EMIT exportRequested(entries);
}

void MainWindow::showTreeContextMenu(const QPoint& pos)
{
    const QModelIndex at = m_tree->indexAt(pos);
    if (at.isValid() && !m_tree->selectionModel()->isSelected(at))
        m_tree->setCurrentIndex(at);
    QMenu menu(this);
    menu.addAction(m_copyNameAction);
    menu.addAction(m_copySnippetAction);
    menu.addSeparator();
    menu.addAction(m_expandSubtreeAction);
    menu.addAction(m_collapseSubtreeAction);
    menu.addSeparator();
    menu.addAction(m_exportAction);
    menu.exec(m_tree->viewport()->mapToGlobal(pos));
}

}  // namespace paramscope
