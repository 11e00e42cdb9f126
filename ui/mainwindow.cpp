#include "ui/mainwindow.h"
#include "base/textutil.h"
#include "session/modelsession.h"
#include "session/searchcontroller.h"
#include "session/settings.h"

#include "ui/detailspanel.h"
#include "ui/exportdialog.h"
#include "model/exportselection.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/snippet.h"
#include "ui/models/modeltreemodel.h"
#include "ui/modeltreeview.h"
#include "ui/statspanel.h"
#include "ui/models/treefilterproxy.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <chrono>
#include <optional>

namespace paramscope {

Q_LOGGING_CATEGORY(lcTiming, "paramscope.timing", QtWarningMsg)

namespace {

// Not QString::fromUtf8: it drops a leading U+FEFF, and two names would look the same.
QString u8(std::string_view s)
{
    return utf8ToQString(s);
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("ParamScope"));
    setAcceptDrops(true);

    m_model = new ModelTreeModel(this);
    m_proxy = new TreeFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    m_session = new ModelSession(this);
    m_search = new SearchController(this);

    auto* central = new QWidget(this);
    auto* cv = new QVBoxLayout(central);
    cv->setContentsMargins(0, 0, 0, 0);
    cv->setSpacing(0);

    // Inline error banner: visible, selectable, and closable; it never blocks the window.
    m_errorBanner = new QFrame(central);
    m_errorBanner->setObjectName(QStringLiteral("errorBanner"));
    m_errorBanner->setStyleSheet(
        QStringLiteral("#errorBanner { background: #fdecea; border-bottom: 1px solid #e0a3a0; }"
                       "#errorBanner QLabel { color: #7a1712; }"));
    auto* bl = new QHBoxLayout(m_errorBanner);
    bl->setContentsMargins(10, 6, 6, 6);
    auto* icon = new QLabel(m_errorBanner);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxCritical).pixmap(20, 20));
    bl->addWidget(icon, 0, Qt::AlignTop);
    m_errorText = new QLabel(m_errorBanner);
    m_errorText->setObjectName(QStringLiteral("errorBannerText"));
    m_errorText->setWordWrap(true);
    m_errorText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bl->addWidget(m_errorText, 1);
    auto* close = new QToolButton(m_errorBanner);
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, &MainWindow::hideError);
    bl->addWidget(close, 0, Qt::AlignTop);
    m_errorBanner->hide();
    cv->addWidget(m_errorBanner);

    m_pages = new QStackedWidget(central);
    m_emptyPage = createEmptyPage();
    m_browserPage = createBrowserPage();
    m_pages->addWidget(m_emptyPage);
    m_pages->addWidget(m_browserPage);
    m_pages->setCurrentWidget(m_emptyPage);
    cv->addWidget(m_pages, 1);
    setCentralWidget(central);

    createActions();
    createMenus();
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
        exportWithDialog(this, modelIndex(), std::move(entries), base);
    });
}

// The session and the search controller wait for their workers when they go.
MainWindow::~MainWindow() = default;

void MainWindow::setSettingsFile(const QString& path)
{
    paramscope::setSettingsFile(path);
}

QWidget* MainWindow::createEmptyPage()
{
    auto* page = new QWidget(this);
    page->setObjectName(QStringLiteral("emptyPage"));
    auto* v = new QVBoxLayout(page);
    v->addStretch(2);
    auto* title = new QLabel(tr("ParamScope"), page);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 2.2);
    tf.setBold(true);
    title->setFont(tf);
    title->setAlignment(Qt::AlignCenter);
    v->addWidget(title);
    auto* sub = new QLabel(tr("Browse and search the parameters of a PyTorch model file."), page);
    sub->setAlignment(Qt::AlignCenter);
    v->addWidget(sub);
    v->addSpacing(24);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    auto* open = new QPushButton(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open…"), page);
    open->setObjectName(QStringLiteral("emptyOpenButton"));
    auto* demo = new QPushButton(tr("Open demo model"), page);
    demo->setObjectName(QStringLiteral("emptyDemoButton"));
    for (auto* b : {open, demo}) {
        QFont bf = b->font();
        bf.setPointSizeF(bf.pointSizeF() * 1.3);
        b->setFont(bf);
        b->setMinimumSize(200, 48);
        buttons->addWidget(b);
    }
    buttons->addStretch(1);
    v->addLayout(buttons);
    v->addSpacing(16);
    auto* hint = new QLabel(tr("or drop a .pt file onto this window"), page);
    hint->setAlignment(Qt::AlignCenter);
    hint->setEnabled(false);
    v->addWidget(hint);
    v->addStretch(3);
    connect(open, &QPushButton::clicked, this, [this] { m_openAction->trigger(); });
    connect(demo, &QPushButton::clicked, this, &MainWindow::openDemoModel);
    return page;
}

QWidget* MainWindow::createBrowserPage()
{
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("browserPage"));

    auto* left = new QWidget(splitter);
    auto* lv = new QVBoxLayout(left);
    lv->setContentsMargins(6, 6, 0, 0);
    lv->setSpacing(4);

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
    m_matchLabel = new QLabel(left);
    m_matchLabel->setObjectName(QStringLiteral("matchCountLabel"));
    m_matchLabel->setMinimumWidth(
        m_matchLabel->fontMetrics().horizontalAdvance(QStringLiteral("000,000 of 000,000 tensors")));
    m_matchLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    bar->addWidget(m_searchEdit, 1);
    bar->addWidget(m_modeBox);
    bar->addWidget(m_caseButton);
    bar->addWidget(m_matchLabel);
    lv->addLayout(bar);

    m_searchError = new QLabel(left);
    m_searchError->setObjectName(QStringLiteral("searchErrorLabel"));
    m_searchError->setWordWrap(true);
    m_searchError->setTextFormat(Qt::PlainText);  // the pattern is shown as typed
    m_searchError->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_searchError->setStyleSheet(QStringLiteral("color: #b3261e; font-weight: bold;"));
    m_searchError->hide();
    lv->addWidget(m_searchError);

    connect(m_searchEdit, &QLineEdit::textChanged, this, &MainWindow::queryChanged);
    connect(m_searchEdit, &QLineEdit::returnPressed, this, [this] {
        flushSearch();
        findNext();
    });
    connect(m_modeBox, qOverload<int>(&QComboBox::currentIndexChanged), this, &MainWindow::queryChanged);
    connect(m_caseButton, &QToolButton::toggled, this, &MainWindow::queryChanged);

    m_tree = new ModelTreeView(left);
    m_tree->setObjectName(QStringLiteral("modelTree"));
    m_tree->setModel(m_proxy);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tree->setAlternatingRowColors(true);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->setAllColumnsShowFocus(true);
    QHeaderView* header = m_tree->header();
    header->setStretchLastSection(false);
    header->setSortIndicatorClearable(true);  // a third click returns to the model's order
    header->setSortIndicator(-1, Qt::AscendingOrder);
    m_tree->setSortingEnabled(true);
    header->setSectionResizeMode(ModelTreeModel::NameColumn, QHeaderView::Stretch);
    const QFontMetrics fm = m_tree->fontMetrics();
    const int pad = fm.averageCharWidth() * 3;
    auto fixed = [&](int column, const QString& sample) {
        header->setSectionResizeMode(column, QHeaderView::Interactive);
        header->resizeSection(column, fm.horizontalAdvance(sample) + pad);
    };
    fixed(ModelTreeModel::ShapeColumn, QStringLiteral("[1024, 1024, 3, 3]"));
    fixed(ModelTreeModel::DTypeColumn, QStringLiteral("bfloat16"));
    fixed(ModelTreeModel::ElementsColumn, QStringLiteral("123,456,789"));
    fixed(ModelTreeModel::SizeColumn, QStringLiteral("1023.9 MiB"));
    header->setMinimumSectionSize(fm.averageCharWidth() * 6);
    connect(m_tree, &QTreeView::customContextMenuRequested, this, &MainWindow::showTreeContextMenu);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &MainWindow::onCurrentChanged);
    connect(m_tree->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateActions);
    lv->addWidget(m_tree, 1);

    m_details = new DetailsPanel(splitter);
    m_details->setObjectName(QStringLiteral("detailsPanel"));
    auto* scroll = new QScrollArea(splitter);
    scroll->setWidget(m_details);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumWidth(280);
    connect(m_details, &DetailsPanel::nodeActivated, this, &MainWindow::selectNode);

    // Statistics and histogram of the selected tensor, computed off the GUI thread.
    auto* stats = new StatsPanel;
    stats->setObjectName(QStringLiteral("statsPanel"));
    m_details->setStatsWidget(stats);
    connect(m_details, &DetailsPanel::tensorShown, stats, &StatsPanel::showTensor);
    connect(m_details, &DetailsPanel::tensorCleared, stats, &StatsPanel::clear);

    splitter->addWidget(left);
    splitter->addWidget(scroll);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    // First-run split: room for the statistics grid without a horizontal scroll bar.
    splitter->setSizes({740, 540});
    splitter->setChildrenCollapsible(false);
    return splitter;
}

void MainWindow::createActions()
{
    m_openAction = new QAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open…"), this);
    m_openAction->setShortcut(QKeySequence::Open);
    connect(m_openAction, &QAction::triggered, this, [this] {
        auto s = openSettings();
        const QString dir = s->value(QStringLiteral("lastFolder"), QDir::homePath()).toString();
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open model"), dir, tr("Models (*.pt *.pth *.bin *.ckpt *.safetensors *.index.json);;All files (*)"));
        if (!path.isEmpty())
            openFile(path);
    });

    m_openDemoAction = new QAction(tr("Open &demo model"), this);
    connect(m_openDemoAction, &QAction::triggered, this, &MainWindow::openDemoModel);

    m_exportAction = new QAction(tr("&Export…"), this);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_exportAction->setToolTip(
        tr("Export the selected tensor, the tensors under the selected module, or all search matches"));
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::triggerExport);

    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    // Copy shortcuts act on the tree only, so Ctrl+C still copies text in other widgets.
    m_copyNameAction = new QAction(tr("Copy &name"), this);
    m_copyNameAction->setShortcut(QKeySequence::Copy);
    m_copyNameAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_copyNameAction, &QAction::triggered, this, &MainWindow::copyName);
    m_copySnippetAction = new QAction(tr("Copy Python &snippet"), this);
    m_copySnippetAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_copySnippetAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_copySnippetAction, &QAction::triggered, this, &MainWindow::copySnippet);
    m_expandSubtreeAction = new QAction(tr("E&xpand subtree"), this);
    m_expandSubtreeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Right));
    m_expandSubtreeAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_expandSubtreeAction, &QAction::triggered, this, &MainWindow::expandSubtree);
    m_collapseSubtreeAction = new QAction(tr("C&ollapse subtree"), this);
    m_collapseSubtreeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Left));
    m_collapseSubtreeAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_collapseSubtreeAction, &QAction::triggered, this, &MainWindow::collapseSubtree);
    m_tree->addActions({m_copyNameAction, m_copySnippetAction, m_expandSubtreeAction, m_collapseSubtreeAction});

    m_findAction = new QAction(tr("&Find…"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    connect(m_findAction, &QAction::triggered, this, [this] {
        if (m_pages->currentWidget() != m_browserPage)
            return;
        m_searchEdit->setFocus(Qt::ShortcutFocusReason);
        m_searchEdit->selectAll();
    });
    m_findNextAction = new QAction(tr("Find &next"), this);
    m_findNextAction->setShortcut(QKeySequence(Qt::Key_F3));
    connect(m_findNextAction, &QAction::triggered, this, &MainWindow::findNext);
    m_findPreviousAction = new QAction(tr("Find &previous"), this);
    m_findPreviousAction->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F3));
    connect(m_findPreviousAction, &QAction::triggered, this, &MainWindow::findPrevious);

    m_modelOrderAction = new QAction(tr("Sort in &model order"), this);
    m_modelOrderAction->setToolTip(tr("The order of the file (state_dict order)"));
    connect(m_modelOrderAction, &QAction::triggered, this, [this] {
        m_tree->header()->setSortIndicator(-1, Qt::AscendingOrder);
        m_tree->sortByColumn(-1, Qt::AscendingOrder);
    });

    m_engineGroup = new QActionGroup(this);
    m_engineGroup->setExclusive(true);
    const struct {
        LoaderEngine engine;
        QString text;
        QString tip;
    } engines[] = {
        {LoaderEngine::Auto, tr("&Auto"), tr("The safe native reader when it can read the file")},
        {LoaderEngine::Native, tr("&Native reader"), tr("ParamScope's own reader: never runs code from the file")},
        {LoaderEngine::LibTorch, tr("&LibTorch"),
         tr("torch::jit::load: TorchScript only; compiles and runs the file's code")},
    };
    for (const auto& e : engines) {
        auto* a = new QAction(e.text, m_engineGroup);
        a->setCheckable(true);
        a->setData(int(e.engine));
        a->setToolTip(e.tip);
        a->setStatusTip(e.tip);
    }
    connect(m_engineGroup, &QActionGroup::triggered, this,
            [this](QAction* a) { setEngine(LoaderEngine(a->data().toInt())); });
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_openAction);
    file->addAction(m_openDemoAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    file->addAction(m_exportAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_copyNameAction);
    edit->addAction(m_copySnippetAction);
    edit->addSeparator();
    edit->addAction(m_findAction);
    edit->addAction(m_findNextAction);
    edit->addAction(m_findPreviousAction);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_expandSubtreeAction);
    view->addAction(m_collapseSubtreeAction);
    view->addSeparator();
    view->addAction(m_modelOrderAction);

    QMenu* engine = menuBar()->addMenu(tr("E&ngine"));
    engine->setToolTipsVisible(true);
    engine->addActions(m_engineGroup->actions());
}

void MainWindow::createStatusBar()
{
    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(QStringLiteral("modelStatusLabel"));
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("loadProgress"));
    m_progress->setMaximumWidth(220);
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancelButton = new QPushButton(tr("Cancel"), this);
    m_cancelButton->setObjectName(QStringLiteral("cancelLoadButton"));
    m_cancelButton->hide();
    connect(m_cancelButton, &QPushButton::clicked, this, &MainWindow::cancelLoading);
    statusBar()->addWidget(m_statusLabel, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancelButton);
}

void MainWindow::restoreSettings()
{
    auto s = openSettings();
    if (!restoreGeometry(s->value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1200, 760);  // first run: room for the tree and the details side by side
    restoreState(s->value(QStringLiteral("window/state")).toByteArray());
    const QString engine = s->value(QStringLiteral("engine"), loaderEngineName(LoaderEngine::Auto)).toString();
    LoaderEngine e = LoaderEngine::Auto;
    for (LoaderEngine c : {LoaderEngine::Auto, LoaderEngine::Native, LoaderEngine::LibTorch})
        if (loaderEngineName(c) == engine)
            e = c;
    m_engine = e;
    for (QAction* a : m_engineGroup->actions())
        a->setChecked(LoaderEngine(a->data().toInt()) == m_engine);
    rebuildRecentMenu();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    auto s = openSettings();
    s->setValue(QStringLiteral("window/geometry"), saveGeometry());
    s->setValue(QStringLiteral("window/state"), saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::setEngine(LoaderEngine engine)
{
    m_engine = engine;
    for (QAction* a : m_engineGroup->actions())
        a->setChecked(LoaderEngine(a->data().toInt()) == engine);
    openSettings()->setValue(QStringLiteral("engine"), loaderEngineName(engine));
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
    m_model->setModel(index, tree);
    m_details->setModel(index, tree);
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
    qCDebug(lcTiming, "show model: %lld ms on the GUI thread", timer.elapsed());
}

void MainWindow::showError(const QString& message)
{
    m_errorText->setText(message);
    m_errorBanner->show();
}

void MainWindow::hideError()
{
    m_errorBanner->hide();
}

QString MainWindow::errorBannerText() const
{
    return m_errorBanner->isHidden() ? QString() : m_errorText->text();
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

// ---- Recent files and status -----------------------------------------------------------

QStringList MainWindow::recentFiles() const
{
    return paramscope::recentFiles();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = recentFiles();
    int n = 0;
    for (const QString& f : files) {
        const QFileInfo fi(f);
        auto* a = m_recentMenu->addAction(
            tr("&%1 %2  —  %3").arg(QString::number(++n), fi.fileName(), QDir::toNativeSeparators(fi.absolutePath())));
        a->setEnabled(fi.exists());
        a->setToolTip(f);
        connect(a, &QAction::triggered, this, [this, f] { openFile(f); });
    }
    if (files.isEmpty()) {
        m_recentMenu->addAction(tr("(none)"))->setEnabled(false);
    } else {
        m_recentMenu->addSeparator();
        connect(m_recentMenu->addAction(tr("&Clear list")), &QAction::triggered, this, [this] {
            clearRecentFiles();
            rebuildRecentMenu();
        });
    }
}

void MainWindow::updateStatusLabel()
{
    const auto index = m_model->modelIndex();
    if (!index) {
        m_statusLabel->setText(tr("No model open"));
        return;
    }
    const ModelIndex::Totals t = index->totals();
    QStringList parts;
    parts << m_session->displayName() << modelFormatName(index->format);
    QString counts;
    if (t.parameters + t.buffers > 0 || t.tensors == 0)
        counts = tr("%1 parameters, %2 buffers").arg(formatCount(t.parameters), formatCount(t.buffers));
    if (t.tensors > 0)
        counts += (counts.isEmpty() ? QString() : QStringLiteral(", ")) +
                  tr("%1 tensors (kind not recorded)").arg(formatCount(t.tensors));
    parts << counts << tr("%1 elements").arg(formatSize(t.numel, false)) << formatSize(t.bytes, true)
          << tr("engine: %1").arg(index->engine);
    QString tip = QDir::toNativeSeparators(m_session->currentFile());
    if (!index->warnings.isEmpty()) {
        // Things the loader skipped stay visible in the status bar, each explained in the tooltip.
        parts << tr("⚠ %n warning(s)", nullptr, int(index->warnings.size()));
        tip += QLatin1Char('\n') + index->warnings.join(QLatin1Char('\n'));
    }
    m_statusLabel->setText(parts.join(QStringLiteral("  ·  ")));
    m_statusLabel->setToolTip(tip);
}

void MainWindow::updateActions()
{
    const bool hasModel = m_model->modelIndex() != nullptr;
    const bool hasCurrent = currentNode() > 0;
    m_copyNameAction->setEnabled(hasCurrent);
    m_copySnippetAction->setEnabled(hasCurrent && m_model->tree()->node(currentNode()).entry >= 0);
    m_expandSubtreeAction->setEnabled(hasCurrent);
    m_collapseSubtreeAction->setEnabled(hasCurrent);
    m_exportAction->setEnabled(hasModel);
    m_findNextAction->setEnabled(hasModel);
    m_findPreviousAction->setEnabled(hasModel);
    m_modelOrderAction->setEnabled(hasModel);
}

std::shared_ptr<const ModelIndex> MainWindow::modelIndex() const
{
    return m_model->modelIndex();
}

std::shared_ptr<const ModelTree> MainWindow::modelTree() const
{
    return m_model->tree();
}

// ---- Search ----------------------------------------------------------------------------

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
        m_searchEdit->setStyleSheet(QString());
        if (async)
            m_matchLabel->setText(tr("Searching…"));
    });
    connect(m_search, &SearchController::matchesReady, this, &MainWindow::applyMatches);
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
    m_searchEdit->setStyleSheet(QStringLiteral("QLineEdit { border: 2px solid #b3261e; border-radius: 3px; }"));
    m_matchLabel->setText(tr("invalid"));
}

void MainWindow::applyMatches(std::shared_ptr<const SearchMatches> matches)
{
    QElapsedTimer timer;
    timer.start();
    const bool wasFiltering = m_proxy->isFiltering();
    m_proxy->setMatches(std::move(matches));
    const qint64 filterMs = timer.restart();
    if (m_proxy->isFiltering())
        expandMatches();
    else if (wasFiltering)
        restoreDefaultExpansion();
    const qint64 expandMs = timer.restart();
    if (lcTiming().isDebugEnabled()) {
        m_tree->layoutNow();  // otherwise done before the next paint
        qCDebug(lcTiming,
                "search applied on the GUI thread: filter %lld ms, expand %lld ms, layout %lld ms (%d matches)",
                filterMs, expandMs, timer.elapsed(), m_proxy->matchCount());
    }
    updateMatchLabel();
    // Keep the current row in view when it survived the filter.
    if (m_tree->currentIndex().isValid())
        m_tree->scrollTo(m_tree->currentIndex());
    Q_EMIT searchApplied();
}

void MainWindow::expandMatches()
{
    const auto matches = m_proxy->matches();
    if (!matches)
        return;
    const std::vector<int> nodes = m_search->nodesToOpen(*matches);
    m_tree->collapseAll();
    QModelIndexList indexes;
    indexes.reserve(qsizetype(nodes.size()));
    for (int n : nodes) {
        const QModelIndex pi = m_proxy->mapFromSource(m_model->indexForNode(n));
        if (pi.isValid())
            indexes.append(pi);
    }
    m_tree->expandMany(indexes);
}

void MainWindow::restoreDefaultExpansion()
{
    m_tree->collapseAll();
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
        m_matchLabel->setStyleSheet(QString());
    } else if (m_proxy->matchCount() == 0) {
        m_matchLabel->setText(tr("no match in %1").arg(formatCount(total)));
        m_matchLabel->setStyleSheet(QStringLiteral("color: #b3261e;"));
    } else {
        m_matchLabel->setText(tr("%1 of %2 tensors").arg(formatCount(m_proxy->matchCount()), formatCount(total)));
        m_matchLabel->setStyleSheet(QString());
    }
    // A regular expression that reached PCRE2's backtracking limit on some names: say so,
    // they are neither shown nor counted as "no match".
    m_matchLabel->setToolTip(QString());
    if (const int undecided = m_proxy->undecidedCount(); undecided > 0 && index) {
        m_matchLabel->setText(m_matchLabel->text() + QStringLiteral("; ") +
                              (undecided == 1 ? tr("1 name could not be decided")
                                              : tr("%1 names could not be decided").arg(formatCount(undecided))));
        m_matchLabel->setStyleSheet(QStringLiteral("color: #b3261e;"));
        QStringList first;
        for (int e : m_proxy->matches()->undecided) {
            if (first.size() == 10)
                break;
            first << escapeForTerminal(index->entries[size_t(e)].name);
        }
        m_matchLabel->setToolTip(tr("The regular expression reached its backtracking limit on these names, so "
                                    "whether they match is unknown; simplify the pattern (e.g. avoid nested "
                                    "repeats like (a+)+):\n") +
                                 first.join(QLatin1Char('\n')) + (undecided > first.size() ? QStringLiteral("\n…") : QString()));
    }
}

namespace {

// Depth-first successor / predecessor in a (proxy) model, wrapping around.
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

QModelIndex lastDescendant(const QAbstractItemModel* m, QModelIndex i)
{
    while (m->rowCount(i) > 0)
        i = m->index(m->rowCount(i) - 1, 0, i);
    return i;
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

}  // namespace

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
        // Hidden by the search: show everything again rather than refuse to jump.
        m_searchEdit->clear();
        flushSearch();
        pi = m_proxy->mapFromSource(src);
    }
    if (!pi.isValid())
        return;
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
    const int node = currentNode();
    if (node > 0)
        QApplication::clipboard()->setText(u8(m_model->tree()->node(node).fullName));
}

void MainWindow::copySnippet()
{
    const int node = currentNode();
    if (node > 0 && m_model->tree()->node(node).entry >= 0)
        QApplication::clipboard()->setText(
            pythonSnippet(*m_model->modelIndex(), m_model->tree()->node(node).entry));
}

void MainWindow::expandSubtree()
{
    const QModelIndex cur = m_tree->currentIndex().siblingAtColumn(0);
    if (cur.isValid())
        m_tree->expandRecursively(cur);
}

void MainWindow::collapseSubtree()
{
    const QModelIndex cur = m_tree->currentIndex().siblingAtColumn(0);
    if (!cur.isValid())
        return;
    // Only expanded branches can hold expanded descendants: walk those alone.
    QModelIndexList stack{cur};
    while (!stack.isEmpty()) {
        const QModelIndex i = stack.takeLast();
        if (!m_tree->isExpanded(i))
            continue;
        for (int r = 0; r < m_proxy->rowCount(i); ++r)
            stack.append(m_proxy->index(r, 0, i));
        m_tree->collapse(i);
    }
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
